/* lib/base/arena.c: chunked bump allocator. */
#include "lib/base/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct clm_arena_chunk {
    clm_arena_chunk *next;
    size_t used;
    size_t cap;
    alignas(max_align_t) unsigned char data[];
};

#define ARENA_ALIGN alignof(max_align_t)
#define ARENA_MAX_CHUNK (size_t)(1 << 20)

void *clm_arena_alloc(clm_arena *arena, size_t size)
{
    clm_arena_chunk *c = arena->head;
    size_t rounded;

    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    rounded = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (c == NULL || c->cap - c->used < rounded) {
        size_t cap = arena->chunk_size ? arena->chunk_size : 4096;

        if (cap < rounded)
            cap = rounded;
        if (rounded > SIZE_MAX - sizeof(*c))
            return NULL;
        c = malloc(sizeof(*c) + cap);
        if (c == NULL)
            return NULL;
        c->next = arena->head;
        c->used = 0;
        c->cap = cap;
        arena->head = c;
        if (arena->chunk_size < ARENA_MAX_CHUNK)
            arena->chunk_size = (arena->chunk_size ? arena->chunk_size : 4096) * 2;
    }
    void *p = c->data + c->used;
    c->used += rounded;
    memset(p, 0, size);
    return p;
}

char *clm_arena_strdup(clm_arena *arena, const char *str)
{
    return clm_arena_memdup(arena, str, strlen(str) + 1);
}

void *clm_arena_memdup(clm_arena *arena, const void *data, size_t len)
{
    void *p;

    if (len == 0)
        return NULL;
    p = clm_arena_alloc(arena, len);
    if (p != NULL)
        memcpy(p, data, len);
    return p;
}

void clm_arena_reset(clm_arena *arena)
{
    clm_arena_chunk *keep = arena->head;

    if (keep == NULL)
        return;
    for (clm_arena_chunk *c = keep->next; c != NULL;) {
        clm_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    keep->next = NULL;
    keep->used = 0;
}

void clm_arena_free(clm_arena *arena)
{
    clm_arena_chunk *c = arena->head;

    while (c != NULL) {
        clm_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    arena->head = NULL;
    arena->chunk_size = 4096;
}

void *clm_arena_pb_alloc(void *arena, size_t size)
{
    return clm_arena_alloc(arena, size);
}

void clm_arena_pb_free(void *arena, void *ptr)
{
    (void)arena;
    (void)ptr; /* released with the arena */
}
