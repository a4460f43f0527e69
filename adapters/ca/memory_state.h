/*
 * adapters/ca/memory_state.h: an adapter_ca_state kept in memory, for tests and
 * benchmarks (the appliance's own keeps items in LMDB, secret ones sealed).
 *
 * Like the real one, put writes all items or none. A test can make the next puts fail
 * (fail_puts) to check that a failed write changes nothing. It counts puts so a test can
 * tell that a rejected call wrote nothing.
 *
 * Thread rules: one lock guards the items; any thread may call get and put.
 */
#ifndef CLM_ADAPTERS_CA_MEMORY_STATE_H
#define CLM_ADAPTERS_CA_MEMORY_STATE_H

#include "adapters/adapter.h"

#include <pthread.h>
#include <stddef.h>

#define CA_MEMORY_STATE_ITEMS_MAX 16

typedef struct ca_memory_state {
    adapter_ca_state state; /* pass &memory.state where an adapter_ca_state is wanted */
    pthread_mutex_t lock;
    struct {
        char name[32];
        clm_buf value;
        bool secret;
    } items[CA_MEMORY_STATE_ITEMS_MAX];
    size_t n;
    int fail_puts; /* the next this many puts fail with CLM_ERR_STORE */
    int puts;      /* puts that wrote */
} ca_memory_state;

/** Start empty. */
void ca_memory_state_init(ca_memory_state *m);

/** Wipe and free every item. */
void ca_memory_state_free(ca_memory_state *m);

/** @return the item's bytes (borrowed until the next put or free), or NULL. */
const clm_buf *ca_memory_state_item(ca_memory_state *m, const char *name);

#endif
