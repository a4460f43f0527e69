/*
 * store/store.h: the storage layer of clmd: records, transactions, secondary indexes.
 *
 * A store is one database in one data directory (file data.mdb, mode 0600). It holds
 * tables of protobuf-c records under byte-string keys, secondary indexes kept in step
 * with them, a meta table (schema version, id sequences, index states, audit head), the
 * audit hash chain (store/audit.h) and an online backup. The interface speaks records and
 * transactions; LMDB, the backend today, stays inside store_lmdb*.c so that a second
 * backend (PostgreSQL) can implement the same contract.
 *
 * Tables and indexes are data: a store_table names its record type and lists its
 * indexes, each with a function that computes zero or more index keys from a record.
 * store_put() and store_delete() remove the index entries of the previous version and
 * add those of the new one, in the same write transaction. (The non-unique entries of
 * STORE_PUT_APPEND records are written later in that transaction, sorted, before
 * anything could read them: store/deferred.c. Callers cannot tell.) Storage layout (LMDB):
 *   - table "t":         primary key -> packed record
 *   - index "t.i":       index key -> primary key; MDB_DUPSORT (one index key maps to
 *                        many primary keys, kept sorted), or a plain table when the
 *                        index is STORE_INDEX_UNIQUE (a second record is refused)
 *   - "_meta":           "schema_version" -> be64; "seq/<table>" -> be64 last id;
 *                        "index/<table>.<index>" -> be32 version, be32 flags (built);
 *                        "audit_head" -> be64 sequence, 32-byte hash
 *   - "_audit":          be64 sequence -> clm.store.v1.AuditRecord (store/audit.h)
 * Index entries therefore iterate in (index key, primary key) order. An index that is
 * new (or whose version changed) is built from its table when the store opens; an index
 * removed from a table's descriptor is dropped.
 *
 * Keys are byte strings of 1..STORE_KEY_MAX bytes (index keys too), compared with
 * memcmp, shorter first on a common prefix. Encode numbers big-endian (clm_put_be64)
 * so that they sort by value; compose keys by concatenation (e.g. be64 notAfter then id).
 *
 * Transactions
 *   - Writes run in store_update(): it calls a function inside one write transaction and
 *     commits when the function returns CLM_OK; any error aborts it and nothing is
 *     written. One write transaction at a time per store; other writers wait.
 *   - When the map fills up, the transaction is aborted, the map grows (doubling up to
 *     1 GiB, then 1 GiB steps, up to max_map_size) and the function is called AGAIN from
 *     the start. It MUST NOT have effects outside the transaction that cannot be repeated:
 *     reply, notify or free caller data after store_update() returns.
 *   - Reads run in store_view() or between store_read_begin() and store_txn_end(). A read
 *     transaction sees one consistent snapshot; readers never block the writer or each
 *     other.
 *
 * Memory: every pointer a read returns (store_item fields) points into the database and
 * is valid until the transaction ends, and in a write transaction only until the next
 * put or delete. Copy it out (store_item_unpack(), store_get_record()) to keep it.
 *
 * Caveats
 *   - One store per data directory per process, and one process per data directory: a
 *     second store_open() of the same directory fails with CLM_ERR_BUSY.
 *   - Transactions do not nest. Calling store_update() or store_view() from inside a
 *     store_update()/store_view() function of the same store fails with
 *     CLM_ERR_INTERNAL; pass the store_txn down instead.
 *   - Growing the map needs every transaction of the process to end for a moment (LMDB
 *     remaps the file). A growth waits for the open transactions: politely for 100 ms,
 *     then holding new ones back until the open ones end, except while a long-lived one
 *     (a backup, a store_read_begin() transaction) is open, which it waits out without
 *     stalling the others. After grow_wait_ms it gives up: the update fails with
 *     CLM_ERR_STORE_FULL. So keep read transactions short, and a thread MUST NOT call
 *     store_update() while it holds a read transaction from store_read_begin() (it would
 *     wait for itself). store_update() and store_backup() grow the map ahead of need (at
 *     3/4 and 1/2 full) when they can do so without waiting, which makes this rare.
 *   - Thread rules: a store may be used from any number of threads. A store_txn and its
 *     iterators are used by one thread at a time; a read transaction from
 *     store_read_begin() may be handed to another thread (it is not tied to the thread that
 *     began it). A write transaction lives only inside its store_update() call.
 *   - store_backup() writes from a thread of its own that blocks SIGPIPE and collects it,
 *     so a vanished reader is reported as CLM_ERR_IO whether or not the process ignores
 *     SIGPIPE (clmd does).
 */
#ifndef CLM_STORE_STORE_H
#define CLM_STORE_STORE_H

#include "lib/base/clock.h"
#include "lib/base/error.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The schema version this binary writes and the newest it opens. */
#define STORE_SCHEMA_VERSION 1

/** Longest key (primary or index) in bytes. */
#define STORE_KEY_MAX 511

/** Longest table or index name; names are [a-z][a-z0-9_]*. */
#define STORE_NAME_MAX 64

typedef struct store store;
typedef struct store_txn store_txn;
typedef struct store_iter store_iter;

/** Collects the index keys an index function computes; see store_keys_add(). */
typedef struct store_keys store_keys;

/**
 * @brief Add one index key for the record being indexed.
 * The bytes are copied. Adding the same key twice is harmless (keys are de-duplicated).
 * @return CLM_OK, CLM_ERR_INVALID_ARGUMENT (empty or longer than STORE_KEY_MAX) or
 *         CLM_ERR_NO_MEMORY.
 */
clm_err store_keys_add(store_keys *keys, const void *key, size_t len);

enum {
    /** A second record with the same index key is refused with CLM_ERR_ALREADY_EXISTS. */
    STORE_INDEX_UNIQUE = 1u << 0,
};

/** A secondary index of a table. Static data, referenced by pointer. */
typedef struct store_index {
    /** MUST: unique within the table, [a-z][a-z0-9_]*, at most STORE_NAME_MAX bytes. */
    const char *name;
    /** MAY: STORE_INDEX_* flags. Changing them rebuilds the index at the next open. */
    unsigned flags;
    /**
     * MAY: bump when `keys` computes different keys than before; the index is rebuilt
     * from the table at the next store_open().
     */
    uint32_t version;
    /**
     * MUST: compute the record's index keys with store_keys_add() (zero keys: the record
     * is not in this index). Pure: same record, same keys; no access to the store. Called
     * for the new and for the previous version of a record on every put and delete.
     * @return CLM_OK, or an error that fails the put (the record must be rejected).
     */
    clm_err (*keys)(const ProtobufCMessage *record, const void *arg, store_keys *keys);
    /** MAY: passed to `keys`, so one function can serve several indexes. */
    const void *arg;
} store_index;

/** A table of records of one protobuf-c type. Static data, referenced by pointer. */
typedef struct store_table {
    /** MUST: unique in the store, [a-z][a-z0-9_]*, at most STORE_NAME_MAX bytes. */
    const char *name;
    /** MUST: the record type; store_put() refuses other types. */
    const ProtobufCMessageDescriptor *record;
    /** MAY: the secondary indexes (NULL when n_indexes is 0). */
    const store_index *indexes;
    size_t n_indexes;
} store_table;

typedef struct store_options {
    /** Initial map size in bytes; 0 = 64 MiB. An existing store keeps its larger size. */
    uint64_t map_size;
    /** The map never grows past this; 0 = 1 TiB. Full past it: CLM_ERR_STORE_FULL. */
    uint64_t max_map_size;
    /** Read transactions open at once; 0 = 126. More: CLM_ERR_BUSY. */
    unsigned max_readers;
    /** How long a map growth waits for open transactions to end; 0 = 30000 ms. */
    unsigned grow_wait_ms;
    /** Time source of audit entries; NULL = clm_clock_system(). Borrowed for the store's life. */
    const clm_clock *clock;
} store_options;

/* clang-format off */
#define STORE_OPTIONS_INIT {0}
/* clang-format on */

/**
 * @brief Open (or create) the store in a data directory.
 *
 * Creates the directory (0700) and data.mdb (0600) when missing and sets the schema
 * version to STORE_SCHEMA_VERSION. Opens every table and index of `tables`, builds
 * indexes that are new or whose version or flags changed, drops indexes no longer listed
 * for these tables. Tables of the store that are not listed are left alone (but cannot be
 * used).
 *
 * @param[in] dir the data directory.
 * @param[in] options NULL for defaults.
 * @param[in] tables the tables this process uses; borrowed: they MUST outlive the store.
 * @param[in] n_tables how many.
 * @param[out] out the store, to be closed with store_close().
 * @return CLM_OK;
 *   CLM_ERR_UNSUPPORTED: the store was written by a newer clmd (schema version too new);
 *   CLM_ERR_BUSY: the directory is open already, in this or another process;
 *   CLM_ERR_INVALID_ARGUMENT: a bad table or index descriptor (message names it);
 *   CLM_ERR_ALREADY_EXISTS: building a unique index found two records with one key;
 *   CLM_ERR_STORE: the file is not a clm store, or is corrupt;
 *   CLM_ERR_IO, CLM_ERR_STORE_FULL, CLM_ERR_NO_MEMORY.
 * Thread rules: call from one thread; store_open() of different directories may run
 * concurrently.
 */
clm_err store_open(const char *dir, const store_options *options, const store_table *const *tables,
                   size_t n_tables, store **out);

/**
 * @brief Close the store. Accepts NULL.
 * Caveats: every transaction MUST have ended and no other thread may use the store.
 */
void store_close(store *st);

/** The schema version of the open store (STORE_SCHEMA_VERSION or older). */
uint32_t store_schema_version(const store *st);

typedef struct store_stats {
    uint64_t map_size; /* bytes mapped now */
    uint64_t map_used; /* bytes up to the highest page in use */
    uint64_t page_size;
    uint64_t grow_count;     /* map growths since open */
    uint64_t update_retries; /* store_update() functions run again after a growth */
    uint64_t releases;       /* store_release_memory() calls that reopened the store */
    unsigned readers_max;
    unsigned readers_used;
} store_stats;

/** @brief Fill `stats`. Thread rules: any thread, outside its transactions. */
void store_stats_get(store *st, store_stats *stats);

/** A write or read transaction function: CLM_OK commits (write), anything else aborts. */
typedef clm_err (*store_txn_fn)(store_txn *txn, void *arg);

/**
 * @brief Run `fn` in a write transaction; commit if it returns CLM_OK.
 *
 * On a full map the transaction is aborted, the map grows and `fn` runs again (see the
 * Transactions paragraph above). An operation that is refused (CLM_ERR_NOT_FOUND,
 * CLM_ERR_ALREADY_EXISTS, CLM_ERR_INVALID_ARGUMENT, an index function's error) leaves
 * nothing behind and `fn` may go on; one that fails otherwise (the database failed, maybe
 * half-way through a put) poisons the transaction: every later operation fails and it is
 * aborted even when `fn` returns CLM_OK.
 *
 * @param[in] st the store.
 * @param[in] fn MUST: the work; the txn is valid only during the call.
 * @param[in] arg passed to fn.
 * @return CLM_OK when committed; otherwise nothing was written and the code is `fn`'s
 *   error, the poisoning operation's error, or CLM_ERR_STORE_FULL (cannot grow
 *   further or in time), CLM_ERR_INTERNAL (nested call), CLM_ERR_IO, CLM_ERR_STORE.
 * Thread rules: any thread; writers are serialized.
 */
clm_err store_update(store *st, store_txn_fn fn, void *arg);

enum {
    /**
     * store_update_flags: commit without waiting for the disk (no fsync). The commit is
     * visible to readers at once and survives the process being killed (its pages are in
     * the operating system's cache), but an operating-system crash or power loss before
     * the next synced commit or store_sync() may undo it. The database stays intact
     * either way: the data pages are flushed before the root (LMDB MDB_NOMETASYNC), so a
     * lost commit rolls back to the one before it, whole. For work that is safe to redo
     * after a crash (the scheduler's dispatcher passes: at-least-once).
     */
    STORE_UPDATE_NO_SYNC = 1u << 0,
};

/**
 * @brief store_update() with STORE_UPDATE_* flags (0: exactly store_update()).
 * @return as store_update(); CLM_ERR_INVALID_ARGUMENT for an unknown flag.
 */
clm_err store_update_flags(store *st, unsigned flags, store_txn_fn fn, void *arg);

/**
 * @brief Give back the memory LMDB keeps from past write transactions.
 *
 * LMDB keeps the page buffers of a write transaction for the next one until the
 * environment closes, so one large transaction (a bulk import) leaves its peak behind:
 * about 180 MiB after a 10,000-certificate group at 1,000,000 certificates. This closes
 * and reopens the environment while no transaction is open (files, map size, data and
 * the data directory lock stay as they are). The freed heap goes back to the system at
 * the caller's malloc_trim().
 * @param[in] wait_ms how long to wait for open transactions and a running writer to end
 *   (0: only if none right now).
 * @return CLM_OK; CLM_ERR_BUSY: transactions stayed open (nothing changed);
 *   CLM_ERR_STORE and others: the reopen failed and every later operation fails
 *   (the error is logged).
 * Thread rules: any thread, outside its transactions. Caveats: holds new transactions
 * back for the few milliseconds of the reopen.
 */
clm_err store_release_memory(store *st, unsigned wait_ms);

/**
 * @brief Make every commit so far durable (after STORE_UPDATE_NO_SYNC commits). Cheap
 * when there is nothing to flush.
 * @return CLM_OK, CLM_ERR_IO (the flush failed; the message says why).
 * Thread rules: any thread, outside its transactions; runs beside readers and a writer.
 */
clm_err store_sync(store *st);

/**
 * @brief Run `fn` in a read transaction (a consistent snapshot). For short reads: a map
 * growth may hold new transactions back until `fn` returns. Long scans (exports,
 * verifications) use store_read_begin(), which growth waits out without holding others.
 * @return `fn`'s result, or CLM_ERR_BUSY (too many readers), CLM_ERR_INTERNAL (nested
 *   call), CLM_ERR_STORE.
 */
clm_err store_view(store *st, store_txn_fn fn, void *arg);

/**
 * @brief Begin a read transaction that outlives a call (a streaming reply) or runs long
 * (an export).
 * @param[out] out end it with store_txn_end(), from any thread.
 * @return CLM_OK, CLM_ERR_BUSY (too many readers), CLM_ERR_NO_MEMORY, CLM_ERR_STORE.
 * Caveats: while it is open the map cannot grow (writers that need it wait, then fail);
 * do not call store_update() on this thread while holding it.
 */
clm_err store_read_begin(store *st, store_txn **out);

/** @brief End a read transaction from store_read_begin(). Accepts NULL. */
void store_txn_end(store_txn *txn);

/** The store of a transaction. */
store *store_txn_store(const store_txn *txn);

/** True inside store_update(). */
bool store_txn_writable(const store_txn *txn);

/** One entry read from a table or an index. Pointers: see Memory above. */
typedef struct store_item {
    const void *key; /* the primary key */
    size_t key_len;
    const void *value; /* the packed record; NULL for STORE_KEYS_ONLY index reads */
    size_t value_len;
    const void *index_key; /* index reads only, else NULL */
    size_t index_key_len;
} store_item;

enum {
    /** store_put: fail with CLM_ERR_ALREADY_EXISTS when the key exists. */
    STORE_PUT_INSERT = 1u << 0,
    /** store_put: fail with CLM_ERR_NOT_FOUND when the key does not exist. */
    STORE_PUT_UPDATE = 1u << 1,
    /**
     * store_put: the key is greater than every key of the table (monotonic ids from
     * store_seq_next()); the fast path for bulk ingest. Otherwise CLM_ERR_INVALID_ARGUMENT.
     */
    STORE_PUT_APPEND = 1u << 2,
};

/**
 * @brief Insert or replace a record, maintaining the table's indexes.
 *
 * Unique indexes are checked before anything is written, so a conflict leaves the
 * transaction as it was. Putting bytes identical to the stored record writes nothing.
 *
 * @param[in] txn a write transaction.
 * @param[in] table a table given to store_open().
 * @param[in] key the primary key, 1..STORE_KEY_MAX bytes.
 * @param[in] record of type table->record; packed, not retained.
 * @param[in] flags STORE_PUT_* (0: insert or replace).
 * @return CLM_OK;
 *   CLM_ERR_ALREADY_EXISTS: STORE_PUT_INSERT and the key exists, or a unique index key
 *     belongs to another record (message names the index);
 *   CLM_ERR_NOT_FOUND: STORE_PUT_UPDATE and the key does not exist;
 *   CLM_ERR_INVALID_ARGUMENT: read-only txn, bad key, wrong record type, APPEND key not
 *     greater than the last;
 *   an index function's error; CLM_ERR_STORE_FULL (store_update() retries);
 *   CLM_ERR_NO_MEMORY, CLM_ERR_STORE.
 */
clm_err store_put(store_txn *txn, const store_table *table, const void *key, size_t key_len,
                  const ProtobufCMessage *record, unsigned flags);

/**
 * @brief Delete a record and its index entries.
 * @return CLM_OK, CLM_ERR_NOT_FOUND (no such key; nothing changed),
 *   CLM_ERR_INVALID_ARGUMENT, CLM_ERR_STORE_FULL, CLM_ERR_STORE, CLM_ERR_NO_MEMORY.
 */
clm_err store_delete(store_txn *txn, const store_table *table, const void *key, size_t key_len);

/**
 * @brief Read a record's packed bytes.
 * @param[out] item key and value (valid until the transaction ends, see Memory).
 * @return CLM_OK, CLM_ERR_NOT_FOUND (no message recorded), CLM_ERR_INVALID_ARGUMENT,
 *   CLM_ERR_STORE.
 */
clm_err store_get(store_txn *txn, const store_table *table, const void *key, size_t key_len,
                  store_item *item);

/**
 * @brief Read and unpack a record.
 * @param[out] record malloc'd by protobuf-c; the caller frees it with
 *   protobuf_c_message_free_unpacked(record, NULL). Independent of the transaction.
 * @return CLM_OK, CLM_ERR_NOT_FOUND (no message recorded), CLM_ERR_STORE (does not
 *   unpack), CLM_ERR_INVALID_ARGUMENT.
 */
clm_err store_get_record(store_txn *txn, const store_table *table, const void *key, size_t key_len,
                         ProtobufCMessage **record);

/**
 * @brief Unpack an item's value into a record the caller owns.
 * @param[out] record as for store_get_record().
 * @return CLM_OK, CLM_ERR_INVALID_ARGUMENT (a keys-only item), CLM_ERR_STORE.
 */
clm_err store_item_unpack(const store_table *table, const store_item *item,
                          ProtobufCMessage **record);

/**
 * @brief Look a record up by index key: the first entry of `index_key` (for a unique
 * index, the only one).
 * @param[in] index an element of table->indexes.
 * @param[out] item primary key, value and index key.
 * @return CLM_OK, CLM_ERR_NOT_FOUND (no message recorded), CLM_ERR_INVALID_ARGUMENT,
 *   CLM_ERR_STORE (the index points at a missing record).
 */
clm_err store_index_get(store_txn *txn, const store_table *table, const store_index *index,
                        const void *index_key, size_t index_key_len, store_item *item);

/**
 * @brief Count entries: records of a table (index NULL) or entries of an index.
 * @return CLM_OK, CLM_ERR_INVALID_ARGUMENT, CLM_ERR_STORE.
 */
clm_err store_count(store_txn *txn, const store_table *table, const store_index *index,
                    uint64_t *count);

/**
 * @brief Reserve `count` ids from the table's monotonic sequence (kept in meta).
 * Ids start at 1 and are never reused unless the transaction aborts. Encode with
 * clm_put_be64() and put with STORE_PUT_APPEND for the fastest inserts.
 * @param[out] first the first reserved id; the ids are first .. first + count - 1.
 * @return CLM_OK, CLM_ERR_INVALID_ARGUMENT (read-only txn, count 0), CLM_ERR_STORE_FULL,
 *   CLM_ERR_STORE.
 */
clm_err store_seq_next(store_txn *txn, const store_table *table, uint64_t count, uint64_t *first);

enum {
    /** Iterate backwards. */
    STORE_SCAN_REVERSE = 1u << 0,
    /** store_scan: only keys that start with `start` (the prefix). */
    STORE_SCAN_PREFIX = 1u << 1,
    /** Index reads: primary and index key only; the record is not read (faster). */
    STORE_KEYS_ONLY = 1u << 2,
};

/**
 * @brief Open an iterator over a table (index NULL: primary key order) or an index
 * ((index key, primary key) order). It is not positioned: call first/last/seek.
 * @param[in] flags STORE_KEYS_ONLY or 0.
 * @param[out] out close with store_iter_close() before the transaction ends (leftovers
 *   are closed at the end with a warning; the pointer is then dead).
 * @return CLM_OK, CLM_ERR_INVALID_ARGUMENT, CLM_ERR_NO_MEMORY, CLM_ERR_STORE.
 * In a write transaction the iterator survives puts and deletes of the same txn, but
 * items it returned before them are dead.
 */
clm_err store_iter_open(store_txn *txn, const store_table *table, const store_index *index,
                        unsigned flags, store_iter **out);

/**
 * Position functions. Each returns CLM_OK with the iterator on an entry, or
 * CLM_ERR_NOT_FOUND (no message recorded) when there is no such entry, or
 * CLM_ERR_STORE (e.g. an index entry points at a missing record).
 */
/** The first / last entry. */
clm_err store_iter_first(store_iter *it);
clm_err store_iter_last(store_iter *it);
/**
 * @brief The first entry at or after (key, primary_key). For a table primary_key is
 * ignored; for an index, primary_key NULL means the first entry of `key`. Resuming a
 * paged index listing: seek (last index key, last primary key), then skip that entry if it
 * is the same.
 */
clm_err store_iter_seek(store_iter *it, const void *key, size_t key_len, const void *primary_key,
                        size_t primary_key_len);
/** @brief The last entry whose key is <= key (all entries of an equal index key count). */
clm_err store_iter_seek_last(store_iter *it, const void *key, size_t key_len);
clm_err store_iter_next(store_iter *it);
clm_err store_iter_prev(store_iter *it);

/** The current entry, or NULL when not positioned. Valid until the iterator moves. */
const store_item *store_iter_item(const store_iter *it);

/** Close an iterator. Accepts NULL. */
void store_iter_close(store_iter *it);

/**
 * A scan callback. Return CLM_OK to go on (set *stop to end the scan early, successfully),
 * or an error to end the scan with that error.
 */
typedef clm_err (*store_scan_fn)(void *arg, const store_item *item, bool *stop);

/**
 * @brief Call `fn` for each entry of a table or index, in key order.
 * @param[in] start NULL: from the first (last with STORE_SCAN_REVERSE) entry; else forward
 *   from the first key >= start, backward from the last key <= start; with
 *   STORE_SCAN_PREFIX only keys beginning with start (both directions).
 * @param[in] flags STORE_SCAN_REVERSE | STORE_SCAN_PREFIX | STORE_KEYS_ONLY.
 * @return CLM_OK (also for no entries), the callback's error, or an iterator error.
 */
clm_err store_scan(store_txn *txn, const store_table *table, const store_index *index,
                   const void *start, size_t start_len, unsigned flags, store_scan_fn fn,
                   void *arg);

/**
 * @brief Write a consistent, compacted copy of the store (a data.mdb file) to `fd` while
 * readers and writers go on. Runs in a read transaction for its whole duration.
 * @param[in] fd a blocking file, pipe or socket; written sequentially, not closed.
 * @return CLM_OK; CLM_ERR_IO: a write failed (EPIPE: the reader went away; the message
 *   says which); CLM_ERR_BUSY, CLM_ERR_STORE, CLM_ERR_NO_MEMORY.
 * Caveats: see SIGPIPE and growth at the top: a writer that needs to grow the map during
 * a long backup waits up to grow_wait_ms, then fails (readers are not held back).
 */
clm_err store_backup(store *st, int fd);

#endif
