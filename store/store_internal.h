/*
 * store/store_internal.h: what the files of store/ share, and what its tests reach into.
 * Not for other modules: the functions here bypass rules of store.h (append-only audit,
 * index maintenance, reserved meta names).
 *
 * Files: store.c (open/close, schema and index definitions, checks; no LMDB calls),
 * store_lmdb.c and store_lmdb_write.c (everything that calls LMDB; they alone include
 * lmdb.h, through store_lmdb.h),
 * records.c (helpers over the public API), keys.c, deferred.c, gate.c, audit.c.
 * LMDB handles appear here only as incomplete struct types and unsigned table handles.
 */
#ifndef CLM_STORE_STORE_INTERNAL_H
#define CLM_STORE_STORE_INTERNAL_H

#include "lib/base/buf.h"
#include "lib/base/clock.h"
#include "store/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct MDB_env;
struct MDB_txn;
struct MDB_cursor;

#define STORE_NO_INDEX SIZE_MAX
#define STORE_META_NAME "_meta"

/* --- keys.c: the index key collector, key order, names ----------------------------- */

typedef struct store_key_ref {
    size_t off;
    size_t len;
} store_key_ref;

struct store_keys {
    clm_buf bytes;      /* the keys, back to back */
    store_key_ref *ref; /* one per key; sorted and unique after store_keys_finish() */
    size_t n;
    size_t cap;
};

void store_keys_reset(store_keys *keys);
void store_keys_free(store_keys *keys);
/** Sort (key order) and drop duplicates. */
void store_keys_finish(store_keys *keys);
static inline const unsigned char *store_keys_at(const store_keys *keys, size_t i)
{
    return keys->bytes.data + keys->ref[i].off;
}

/** Walks the keys of sorted set `a` that sorted set `b` lacks. */
typedef struct store_keys_diff {
    const store_keys *a, *b;
    size_t i, j;
} store_keys_diff;
bool store_keys_diff_next(store_keys_diff *diff, const unsigned char **key, size_t *len);

/** The key order (LMDB's default): memcmp over the common length, then shorter first. */
int store_key_cmp(const void *a, size_t a_len, const void *b, size_t b_len);
/** [a-z][a-z0-9_]*, 1..STORE_NAME_MAX bytes. */
bool store_name_valid(const char *name);

/* --- deferred.c: index entries of appended records, written sorted later ----------- */

typedef struct store_deferred_entry {
    uint64_t prefix;  /* first 8 key bytes, big-endian: the usual sort decision */
    uint32_t off;     /* key then primary key, in store_deferred.bytes */
    uint32_t table;   /* position in store.tables */
    uint16_t key_len;
    uint16_t index;   /* position in the table's indexes */
    uint16_t pkey_len;
} store_deferred_entry;

typedef struct store_deferred {
    store_deferred_entry *entries; /* mapped (deferred.c says why), entries_cap bytes */
    size_t n, entries_cap;
    unsigned char *bytes; /* keys and primary keys; mapped, bytes_cap bytes */
    size_t len, bytes_cap;
    bool *pending; /* per table position: it has entries here */
} store_deferred;

/** Hold one index entry (copied). @return CLM_OK, CLM_ERR_NO_MEMORY, CLM_ERR_INVALID_ARGUMENT. */
clm_err store_deferred_add(store_deferred *d, size_t n_tables, size_t table, size_t index,
                           const void *key, size_t key_len, const void *pkey, size_t pkey_len);
/** Order the entries by table, index, key, primary key (LMDB's order within an index). */
clm_err store_deferred_sort(store_deferred *d);
/** Empty (keeps small buffers for the next transaction). */
void store_deferred_reset(store_deferred *d, size_t n_tables);
void store_deferred_free(store_deferred *d);
static inline bool store_deferred_pending(const store_deferred *d, size_t table)
{
    return d->n > 0 && d->pending[table];
}

/* --- gate.c: the growth gate -------------------------------------------------------- *
 * Every transaction holds the gate shared; a map growth holds it exclusive (LMDB's
 * mdb_env_set_mapsize needs no transaction active in the process). Unlike a pthread
 * rwlock, a shared hold may be released by another thread (read transactions move
 * between threads) and taken again by a thread that holds it already. Long-lived holders
 * (backups, store_read_begin) are counted apart: see gate.c for the fairness rules. A
 * growth that cannot drain the holders in time gives up with CLM_ERR_TIMEOUT.
 */
typedef struct store_gate {
    pthread_mutex_t mutex;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    unsigned shared;     /* holders */
    unsigned long_lived; /* of which long-lived */
    bool exclusive;      /* held exclusive */
    bool grower;         /* a growth waits for the gate or holds it (one at a time) */
    bool pending;        /* a growth holds new shared holders back */
} store_gate;

clm_err store_gate_init(store_gate *gate);
void store_gate_destroy(store_gate *gate);
void store_gate_shared_acquire(store_gate *gate, bool long_lived);
void store_gate_shared_release(store_gate *gate, bool long_lived);
/** @return CLM_OK or CLM_ERR_TIMEOUT (wait_ms 0: only if free right now). */
clm_err store_gate_exclusive_acquire(store_gate *gate, unsigned wait_ms);
void store_gate_exclusive_release(store_gate *gate);
unsigned store_gate_shared_count(store_gate *gate);

/* --- the objects --------------------------------------------------------------------- */

typedef struct store_table_state {
    const store_table *desc;
    unsigned dbi;        /* LMDB table handle */
    unsigned *index_dbi; /* one per desc->indexes */
} store_table_state;

struct store_txn {
    store *st;
    struct MDB_txn *txn;
    bool write;
    bool long_lived;   /* from store_read_begin(): counted apart by the gate */
    bool map_full;     /* an operation hit a full map: store_update grows and reruns */
    clm_err poisoned;  /* the error that doomed this write transaction, or CLM_OK */
    store_iter *iters; /* open iterators, closed when the transaction ends */
    clm_buf pack;      /* write scratch: the packed record */
    store_keys *kold;  /* write scratch: index keys of the old / new version, per index */
    store_keys *knew;
    store_deferred deferred; /* non-unique index entries of appended records (deferred.c) */
};

struct store_iter {
    store_txn *txn;
    const store_table_state *ts;
    size_t index; /* STORE_NO_INDEX: the table itself */
    bool dupsort;
    unsigned flags;
    struct MDB_cursor *cursor;
    bool positioned;
    store_item item;
    store_iter *next, **prevp;
};

struct store {
    struct MDB_env *env;
    char *dir;
    dev_t dev;
    ino_t ino;
    bool registered;
    bool locks_ready;
    store_options opt;
    uint32_t schema_version;
    store_table_state *tables; /* [0] is the meta table, the audit table follows */
    size_t n_tables;
    size_t max_indexes;
    store_gate gate;
    pthread_mutex_t writer; /* one store_update at a time; guards wtxn */
    store_txn wtxn;
    _Atomic uint64_t map_size;
    _Atomic uint64_t grow_count;
    _Atomic uint64_t update_retries;
    _Atomic uint64_t releases; /* store_release_memory() reopenings */
    unsigned max_dbs;          /* LMDB table handles (store_lmdb_env_open) */
    int lock_fd;               /* flock'd descriptor of data.mdb, or -1 */
    store *registry_next;
};

/* --- store.c --------------------------------------------------------------------------- */

/** Find a table's state; NULL when the table was not given to store_open(). */
const store_table_state *store_table_find(const store *st, const store_table *table);
/** Common checks of table operations; fills *ts. */
clm_err store_check_op(store_txn *txn, const store_table *table, bool write, const char *op,
                       const store_table_state **ts);
clm_err store_check_key(const char *op, const store_table *table, size_t len);
/** Position of `index` in the table's descriptor, STORE_NO_INDEX for NULL. */
clm_err store_index_pos(const store_table_state *ts, const store_index *index, size_t *pos);
/** Record `err` as the transaction's doom; @return err. */
clm_err store_txn_poison(store_txn *txn, clm_err err);
/** The pseudo-table of meta entries (keys: names; values: raw bytes). */
const store_table *store_meta_table(void);
/** Read a meta value (valid as for store_get). CLM_ERR_NOT_FOUND without message. */
clm_err store_meta_get(store_txn *txn, const char *name, const void **value, size_t *len);
/** Write a meta value (write txn). "schema_version", "seq/", "index/", "audit_head" are
 *  the store's own names. */
clm_err store_meta_put(store_txn *txn, const char *name, const void *value, size_t len);
/** The clock given in the options. */
const clm_clock *store_clock(const store *st);

/* --- records.c --------------------------------------------------------------------------- */

/** Unpack stored bytes; CLM_ERR_STORE when they do not parse. */
clm_err store_unpack(const store_table *table, const void *data, size_t len,
                     ProtobufCMessage **out);
/** Compute, sort and de-duplicate the keys of index i for a record (NULL: no keys). */
clm_err store_index_keys(const store_table *table, size_t i, const ProtobufCMessage *record,
                         store_keys *keys);

/* --- store_lmdb.c, store_lmdb_write.c: the backend primitives store.c builds on --------- */

/** Create and open the environment of st->dir (sizes from st->opt); lock it. */
clm_err store_lmdb_env_open(store *st, unsigned max_tables);
void store_lmdb_env_close(store *st);
/** Open the meta table; create it in an empty environment (*created), refuse a foreign one. */
clm_err store_lmdb_meta_open(store_txn *txn, unsigned *handle, bool *created);
/** Open (create) a table; dupsort for the entries of a non-unique index. */
clm_err store_lmdb_table_open(store_txn *txn, const char *name, bool dupsort, unsigned *handle);
/** Delete a table if it exists. */
clm_err store_lmdb_table_drop(store_txn *txn, const char *name);
/** Index entries: remove the keys only `from` has, add those only `to` has (pkey maps). */
clm_err store_lmdb_index_apply(store_txn *txn, const store_table_state *ts, size_t i,
                               const void *pkey, size_t pkey_len, const store_keys *from,
                               const store_keys *to);
/** Run fn in a write transaction with growth retries, without the nesting check.
 *  flags: STORE_UPDATE_*. */
clm_err store_lmdb_run_update(store *st, unsigned flags, store_txn_fn fn, void *arg);

/**
 * Put already-packed bytes into a table WITHOUT index maintenance or type check (meta,
 * the audit table, tests that tamper with stored bytes). Refused for tables with indexes.
 */
clm_err store_put_packed(store_txn *txn, const store_table *table, const void *key, size_t key_len,
                         const void *value, size_t value_len, unsigned flags);

/** The last entry whose key is < key (strictly); for reverse prefix scans. */
clm_err store_iter_seek_before(store_iter *it, const void *key, size_t key_len);

/* --- audit.c --------------------------------------------------------------------------- */

/** The audit table's descriptor; store_open() opens it along with the caller's tables. */
const store_table *store_audit_table(void);

#endif
