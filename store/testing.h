/*
 * store/testing.h: the test table and helpers shared by the tests of store/ (testonly).
 * "items" holds clm.store.test.TestItem records under be64(id), with a unique index
 * by_name, by_team, by_expiry (be64 not_after) and by_tag (one key per tag).
 */
#ifndef CLM_STORE_TESTING_H
#define CLM_STORE_TESTING_H

#include "store/store.h"
#include "store/store_test.pb-c.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef Clm__Store__Test__TestItem item_t;
#define KIB 1024u
#define MIB (1024u * 1024u)

extern const store_index item_indexes[4];
extern const store_table items;
extern const store_table *const all_tables[1];
#define BY_NAME (&item_indexes[0])
#define BY_TEAM (&item_indexes[1])
#define BY_EXPIRY (&item_indexes[2])
#define BY_TAG (&item_indexes[3])

/** A fresh directory under $TEST_TMPDIR (a static buffer, 8 in rotation). */
const char *new_dir(const char *name);
/** store_open() of the items table; prints the error and returns NULL on failure. */
store *open_store(const char *dir, uint64_t map_size);

/** Put one item (count 0) or `count` items from id on (named "<name>-<id>"). */
typedef struct put_args {
    uint64_t id, count;
    const char *name, *team;
    int64_t not_after;
    const char *tags[4];
    size_t n_tags, blob;
    unsigned flags;
    const store_table *table; /* NULL: items */
} put_args;
clm_err put_fn(store_txn *txn, void *arg); /* arg: put_args */
clm_err put_item(store *st, const put_args *args);

/** Read one item and count the table and each index. */
typedef struct get_result {
    uint64_t id;
    item_t *item;
    uint64_t counts[5]; /* table, by_name, by_team, by_expiry, by_tag */
} get_result;
clm_err get_item(store *st, uint64_t id, get_result *result);
void free_result(get_result *result);

/** A scan of items as text: "id,id,..." or "indexkey:id,..." for text index keys. */
const char *scan(store *st, const store_index *index, const char *start, unsigned flags);

/** `n` items from id `first` on, appended, team "t", with a blob of `blob` bytes. */
typedef struct bulk_args {
    uint64_t first, n;
    size_t blob;
    const store_table *table; /* NULL: items */
} bulk_args;
clm_err bulk_fn(store_txn *txn, void *arg); /* arg: bulk_args */

/** State shared with test threads. */
typedef struct shared {
    store *st;
    atomic_bool stop;
    atomic_int failures;
    atomic_long reads;
    uint64_t written;
    uint64_t base; /* audited items: ids base + 1, base + 2, ... */
} shared;

#endif
