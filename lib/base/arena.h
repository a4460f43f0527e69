/*
 * lib/base/arena.h: a bump allocator whose memory is released all at once.
 *
 * The RPC layer gives each call an arena: the request is unpacked into it, the
 * handler builds its response in it, and everything goes when the call ends, so a
 * handler never frees message fields one by one. clm_arena_allocator() adapts an
 * arena to protobuf-c's ProtobufCAllocator-shaped (alloc, free, data) triple.
 *
 * Thread rules: an arena belongs to one thread at a time.
 */
#ifndef CLM_LIB_BASE_ARENA_H
#define CLM_LIB_BASE_ARENA_H

#include <stddef.h>

typedef struct clm_arena_chunk clm_arena_chunk;

typedef struct clm_arena {
    clm_arena_chunk *head;
    size_t chunk_size; /* size of the next ordinary chunk */
} clm_arena;

#define CLM_ARENA_INIT {NULL, 4096}

/**
 * @brief Allocate `size` bytes aligned for any type, zero-filled.
 * @return the memory, valid until clm_arena_reset/free; NULL when out of memory.
 */
void *clm_arena_alloc(clm_arena *arena, size_t size);

/** Copy a NUL-terminated string into the arena. @return the copy, or NULL. */
char *clm_arena_strdup(clm_arena *arena, const char *str);

/** Copy `len` bytes into the arena. @return the copy, or NULL (also when len is 0). */
void *clm_arena_memdup(clm_arena *arena, const void *data, size_t len);

/**
 * @brief Forget every allocation but keep the newest chunk for reuse: the way to use
 * an arena as per-iteration scratch space without malloc churn.
 */
void clm_arena_reset(clm_arena *arena);

/** Release every allocation; the arena is empty and reusable. */
void clm_arena_free(clm_arena *arena);

/** protobuf-c allocator callbacks; pass the arena as allocator_data. */
void *clm_arena_pb_alloc(void *arena, size_t size);
void clm_arena_pb_free(void *arena, void *ptr);

#endif
