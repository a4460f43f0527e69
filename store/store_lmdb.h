/*
 * store/store_lmdb.h: what store_lmdb.c and store_lmdb_write.c share; the only header
 * that includes lmdb.h. Not for other files of store/ (they see store_internal.h).
 */
#ifndef CLM_STORE_STORE_LMDB_H
#define CLM_STORE_STORE_LMDB_H

#include <lmdb.h>

#include "store/store_internal.h"

/**
 * Translate an LMDB result: record "context: LMDB's text" and mark the transaction (a
 * full map: grow and rerun; a failure that can leave half a write: poisoned).
 * @return the clm_err for rc.
 */
clm_err lmdb_fail(store_txn *t, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline MDB_val val(const void *data, size_t len)
{
    MDB_val v = {len, (void *)data};
    return v;
}

/** Write the held index entries of appended records, sorted (store_lmdb_write.c). */
clm_err store_lmdb_deferred_flush(store_txn *t);
/**
 * Before an operation that would see (or miss) the held entries of table `ts`: for
 * `index` (a position), only a non-unique index has held entries; STORE_NO_INDEX: any.
 */
clm_err store_lmdb_deferred_settle(store_txn *t, const store_table_state *ts, size_t index);

#endif
