/*
 * store/store_lmdb.c: environment, transactions, map growth, reads and iterators, backup
 * over LMDB. Writes (puts, deletes, index entries) are in store_lmdb_write.c; the two are
 * the only files that include lmdb.h (through store_lmdb.h). LMDB result codes are
 * translated by lmdb_fail and never leave them.
 */
#include "lib/base/log.h"
#include "store/store_lmdb.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define MAX_UPDATE_ATTEMPTS 64

/* The store whose store_update/store_view function runs on this thread (nesting check). */
static _Thread_local const store *tls_active;

/* ---- errors --------------------------------------------------------------------------- */

static clm_err lmdb_code(int rc)
{
    switch (rc) {
    case MDB_NOTFOUND: return CLM_ERR_NOT_FOUND;
    case MDB_KEYEXIST: return CLM_ERR_ALREADY_EXISTS;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
    case ENOSPC: return CLM_ERR_STORE_FULL;
    case MDB_READERS_FULL:
    case EAGAIN:
    case EBUSY: return CLM_ERR_BUSY;
    case MDB_BAD_VALSIZE: return CLM_ERR_INVALID_ARGUMENT;
    case ENOMEM: return CLM_ERR_NO_MEMORY;
    default: return rc > 0 ? CLM_ERR_IO : CLM_ERR_STORE; /* errno values vs. LMDB's own */
    }
}

clm_err lmdb_fail(store_txn *t, int rc, const char *fmt, ...)
{
    char context[256];
    clm_err err = lmdb_code(rc);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(context, sizeof(context), fmt, ap);
    va_end(ap);
    if (t != NULL && t->write && rc != MDB_NOTFOUND && rc != MDB_KEYEXIST &&
        rc != MDB_BAD_VALSIZE) {
        if (rc == MDB_MAP_FULL)
            t->map_full = true;
        store_txn_poison(t, err);
    }
    return clm_fail(err, "%s: %s", context, mdb_strerror(rc));
}

/* ---- reads ------------------------------------------------------------------------- */

clm_err store_get(store_txn *t, const store_table *table, const void *key, size_t key_len,
                  store_item *item)
{
    const store_table_state *ts;
    clm_err err = store_check_op(t, table, false, "store_get", &ts);
    MDB_val k = val(key, key_len), v;
    int rc;

    if (err == CLM_OK)
        err = store_check_key("store_get", table, key_len);
    if (err != CLM_OK)
        return err;
    rc = mdb_get(t->txn, ts->dbi, &k, &v);
    if (rc == MDB_NOTFOUND)
        return CLM_ERR_NOT_FOUND;
    if (rc != 0)
        return lmdb_fail(t, rc, "store_get: table %s", table->name);
    memset(item, 0, sizeof(*item));
    item->key = key;
    item->key_len = key_len;
    item->value = v.mv_data;
    item->value_len = v.mv_size;
    return CLM_OK;
}

clm_err store_count(store_txn *t, const store_table *table, const store_index *index,
                    uint64_t *count)
{
    const store_table_state *ts;
    clm_err err = store_check_op(t, table, false, "store_count", &ts);
    size_t pos;
    MDB_stat stat;
    int rc;

    if (err == CLM_OK)
        err = store_index_pos(ts, index, &pos);
    if (err == CLM_OK && pos != STORE_NO_INDEX)
        err = store_lmdb_deferred_settle(t, ts, pos);
    if (err != CLM_OK)
        return err;
    rc = mdb_stat(t->txn, pos == STORE_NO_INDEX ? ts->dbi : ts->index_dbi[pos], &stat);
    if (rc != 0)
        return lmdb_fail(t, rc, "store_count: table %s", table->name);
    *count = stat.ms_entries;
    return CLM_OK;
}

/* ---- iterators ----------------------------------------------------------------------- */

clm_err store_iter_open(store_txn *t, const store_table *table, const store_index *index,
                        unsigned flags, store_iter **out)
{
    const store_table_state *ts;
    clm_err err = store_check_op(t, table, false, "store_iter_open", &ts);
    store_iter *it;
    size_t pos;
    int rc;

    if (err == CLM_OK)
        err = store_index_pos(ts, index, &pos);
    if (err == CLM_OK && pos != STORE_NO_INDEX)
        err = store_lmdb_deferred_settle(t, ts, pos);
    if (err != CLM_OK)
        return err;
    it = calloc(1, sizeof(*it));
    if (it == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "store_iter_open: out of memory");
    rc = mdb_cursor_open(t->txn, pos == STORE_NO_INDEX ? ts->dbi : ts->index_dbi[pos], &it->cursor);
    if (rc != 0) {
        free(it);
        return lmdb_fail(t, rc, "store_iter_open: table %s", table->name);
    }
    it->txn = t;
    it->ts = ts;
    it->index = pos;
    it->dupsort = pos != STORE_NO_INDEX && !(index->flags & STORE_INDEX_UNIQUE);
    it->flags = flags;
    it->next = t->iters;
    if (t->iters)
        t->iters->prevp = &it->next;
    it->prevp = &t->iters;
    t->iters = it;
    *out = it;
    return CLM_OK;
}

void store_iter_close(store_iter *it)
{
    if (it == NULL)
        return;
    *it->prevp = it->next;
    if (it->next)
        it->next->prevp = it->prevp;
    mdb_cursor_close(it->cursor);
    free(it);
}

static void iters_close_all(store_txn *t)
{
    while (t->iters) {
        CLM_LOG_WARN("store_iter_leaked", "table", t->iters->ts->desc->name);
        store_iter_close(t->iters);
    }
}

const store_item *store_iter_item(const store_iter *it)
{
    return it && it->positioned ? &it->item : NULL;
}

/* A cursor operation, then the item (with the record, for an index entry). */
static clm_err iter_move(store_iter *it, MDB_val *k, MDB_val *d, MDB_cursor_op op)
{
    const store_table_state *ts = it->ts;
    int rc = mdb_cursor_get(it->cursor, k, d, op);
    MDB_val v;

    if (rc == 0 && (op == MDB_GET_BOTH_RANGE || op == MDB_LAST_DUP))
        rc = mdb_cursor_get(it->cursor, k, d, MDB_GET_CURRENT); /* these leave k unset */
    it->positioned = false;
    if (rc == MDB_NOTFOUND)
        return CLM_ERR_NOT_FOUND;
    if (rc != 0)
        return lmdb_fail(it->txn, rc, "iterator on %s", ts->desc->name);
    memset(&it->item, 0, sizeof(it->item));
    if (it->index == STORE_NO_INDEX) {
        it->item.key = k->mv_data;
        it->item.key_len = k->mv_size;
        it->item.value = d->mv_data;
        it->item.value_len = d->mv_size;
    } else {
        it->item.index_key = k->mv_data;
        it->item.index_key_len = k->mv_size;
        it->item.key = d->mv_data;
        it->item.key_len = d->mv_size;
        if (!(it->flags & STORE_KEYS_ONLY)) {
            rc = mdb_get(it->txn->txn, ts->dbi, d, &v);
            if (rc == MDB_NOTFOUND)
                return clm_fail(CLM_ERR_STORE, "index %s.%s points at a missing record",
                                ts->desc->name, ts->desc->indexes[it->index].name);
            if (rc != 0)
                return lmdb_fail(it->txn, rc, "iterator on %s", ts->desc->name);
            it->item.value = v.mv_data;
            it->item.value_len = v.mv_size;
        }
    }
    it->positioned = true;
    return CLM_OK;
}

static clm_err iter_op(store_iter *it, MDB_cursor_op op, bool need_position)
{
    MDB_val k, d;

    if (need_position && !it->positioned)
        return CLM_ERR_NOT_FOUND;
    return iter_move(it, &k, &d, op);
}

clm_err store_iter_first(store_iter *it)
{
    return iter_op(it, MDB_FIRST, false);
}
clm_err store_iter_last(store_iter *it)
{
    return iter_op(it, MDB_LAST, false);
}
clm_err store_iter_next(store_iter *it)
{
    return iter_op(it, MDB_NEXT, true);
}
clm_err store_iter_prev(store_iter *it)
{
    return iter_op(it, MDB_PREV, true);
}

static clm_err check_seek_key(size_t len)
{
    if (len == 0 || len > STORE_KEY_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "store iterator: seek key length %zu is "
                        "outside 1..%d",
                        len, STORE_KEY_MAX);
    return CLM_OK;
}

clm_err store_iter_seek(store_iter *it, const void *key, size_t key_len, const void *primary_key,
                        size_t primary_key_len)
{
    MDB_val k = val(key, key_len), d = val(primary_key, primary_key_len);
    clm_err err = check_seek_key(key_len);

    if (err != CLM_OK)
        return err;
    if (it->index == STORE_NO_INDEX || primary_key == NULL)
        return iter_move(it, &k, &d, MDB_SET_RANGE);
    if (it->dupsort) {
        err = iter_move(it, &k, &d, MDB_GET_BOTH_RANGE);
        if (err != CLM_ERR_NOT_FOUND)
            return err;
        /* no entry of `key` at or after primary_key: the next index key */
        k = val(key, key_len);
        err = iter_move(it, &k, &d, MDB_SET_RANGE);
        if (err == CLM_OK && store_key_cmp(k.mv_data, k.mv_size, key, key_len) == 0)
            err = iter_move(it, &k, &d, MDB_NEXT_NODUP);
        return err;
    }
    err = iter_move(it, &k, &d, MDB_SET_RANGE);
    if (err == CLM_OK && store_key_cmp(k.mv_data, k.mv_size, key, key_len) == 0 &&
        store_key_cmp(d.mv_data, d.mv_size, primary_key, primary_key_len) < 0)
        err = iter_move(it, &k, &d, MDB_NEXT);
    return err;
}

static clm_err iter_seek_back(store_iter *it, const void *key, size_t key_len, bool inclusive)
{
    MDB_val k = val(key, key_len), d;
    clm_err err = check_seek_key(key_len);

    if (err != CLM_OK)
        return err;
    err = iter_move(it, &k, &d, MDB_SET_RANGE);
    if (err == CLM_ERR_NOT_FOUND)
        return iter_move(it, &k, &d, MDB_LAST);
    if (err != CLM_OK)
        return err;
    if (inclusive && store_key_cmp(k.mv_data, k.mv_size, key, key_len) == 0)
        return it->dupsort ? iter_move(it, &k, &d, MDB_LAST_DUP) : CLM_OK;
    return iter_move(it, &k, &d, MDB_PREV); /* onto the last duplicate of the key before */
}

clm_err store_iter_seek_last(store_iter *it, const void *key, size_t key_len)
{
    return iter_seek_back(it, key, key_len, true);
}

clm_err store_iter_seek_before(store_iter *it, const void *key, size_t key_len)
{
    return iter_seek_back(it, key, key_len, false);
}

/* ---- map growth ----------------------------------------------------------------------- */

/* Bytes up to the highest page in use. The gate is held shared: mdb_env_info reads the
 * map, which a growth replaces. */
static uint64_t map_used(store *st, MDB_envinfo *info, MDB_stat *stat)
{
    bool open;

    memset(info, 0, sizeof(*info));
    memset(stat, 0, sizeof(*stat));
    store_gate_shared_acquire(&st->gate, false);
    if ((open = st->env != NULL)) {
        mdb_env_info(st->env, info);
        mdb_env_stat(st->env, stat);
    }
    store_gate_shared_release(&st->gate, false);
    return open ? ((uint64_t)info->me_last_pgno + 1) * stat->ms_psize : 0;
}

/* Grow the map past `seen`, the size the failed transaction ran with. */
static clm_err store_grow(store *st, uint64_t seen, unsigned wait_ms)
{
    uint64_t cur, next, page = (uint64_t)sysconf(_SC_PAGESIZE);
    int rc;

    if (store_gate_exclusive_acquire(&st->gate, wait_ms) != CLM_OK)
        return clm_fail(CLM_ERR_STORE_FULL,
                        "store %s: the map is full at %" PRIu64 " MiB and "
                        "could not grow: %u transactions stayed open for %u ms (a long backup, "
                        "or a read transaction left open?)",
                        st->dir, seen / MIB, store_gate_shared_count(&st->gate), wait_ms);
    cur = st->map_size;
    if (cur > seen) {
        store_gate_exclusive_release(&st->gate);
        return CLM_OK; /* grown meanwhile */
    }
    if (cur >= st->opt.max_map_size) {
        store_gate_exclusive_release(&st->gate);
        return clm_fail(CLM_ERR_STORE_FULL,
                        "store %s: the map is full at its maximum size "
                        "(%" PRIu64 " MiB); raise the maximum map size",
                        st->dir, cur / MIB);
    }
    next = cur < GIB ? cur * 2 : cur + GIB;
    if (next > st->opt.max_map_size)
        next = st->opt.max_map_size;
    next = (next + page - 1) / page * page;
    rc = mdb_env_set_mapsize(st->env, (size_t)next);
    if (rc == 0) {
        st->map_size = next;
        st->grow_count++;
    }
    store_gate_exclusive_release(&st->gate);
    if (rc != 0)
        return lmdb_fail(NULL, rc, "store %s: growing the map to %" PRIu64 " bytes", st->dir, next);
    CLM_LOG_INFO("store_map_grown", "dir", st->dir, "from", CLM_I64(cur), "to", CLM_I64(next));
    return CLM_OK;
}

/* Grow before need when more than num/den of the map is in use and no transaction is open
 * right now (never waits). */
static void store_grow_ahead(store *st, unsigned num, unsigned den)
{
    uint64_t size = st->map_size;
    MDB_envinfo info;
    MDB_stat stat;

    if (map_used(st, &info, &stat) * den > size * num && size < st->opt.max_map_size &&
        store_grow(st, size, 0) != CLM_OK)
        clm_error_clear();
}

/* Another process grew the map (MDB_MAP_RESIZED): adopt its size. */
static clm_err store_adopt_size(store *st)
{
    MDB_envinfo info;
    int rc;

    if (store_gate_exclusive_acquire(&st->gate, st->opt.grow_wait_ms) != CLM_OK)
        return clm_fail(CLM_ERR_BUSY, "store %s: cannot adopt the new map size", st->dir);
    rc = mdb_env_set_mapsize(st->env, 0);
    mdb_env_info(st->env, &info);
    st->map_size = info.me_mapsize;
    store_gate_exclusive_release(&st->gate);
    return rc ? lmdb_fail(NULL, rc, "store %s: adopting the map size", st->dir) : CLM_OK;
}

/* ---- transactions --------------------------------------------------------------------- */

/* Take the gate and begin an LMDB transaction; *seen is the map size it runs with. */
static clm_err txn_begin(store *st, MDB_txn **txn, unsigned flags, bool long_lived, uint64_t *seen)
{
    for (int attempt = 0;; attempt++) {
        clm_err err;
        int rc;

        store_gate_shared_acquire(&st->gate, long_lived);
        *seen = st->map_size;
        if (st->env == NULL) { /* store_release_memory() could not reopen it */
            store_gate_shared_release(&st->gate, long_lived);
            return clm_fail(CLM_ERR_STORE, "store %s: closed after a failed reopen", st->dir);
        }
        rc = mdb_txn_begin(st->env, NULL, flags, txn);
        if (rc == 0)
            return CLM_OK;
        store_gate_shared_release(&st->gate, long_lived);
        if (rc != MDB_MAP_RESIZED || attempt >= 3)
            return lmdb_fail(NULL, rc, "store %s: begin a transaction", st->dir);
        err = store_adopt_size(st);
        if (err != CLM_OK)
            return err;
    }
}

static clm_err check_nesting(const store *st, const char *op)
{
    if (tls_active == st)
        return clm_fail(CLM_ERR_INTERNAL,
                        "%s: called inside a transaction function of the "
                        "same store on this thread; pass the store_txn down instead",
                        op);
    return CLM_OK;
}

clm_err store_lmdb_run_update(store *st, unsigned flags, store_txn_fn fn, void *arg)
{
    store_txn *t = &st->wtxn;
    /* NOMETASYNC, not NOSYNC: the data pages are flushed before the meta page is written,
       so a crash loses at most whole commits and never leaves a root over missing pages. */
    unsigned lmdb_flags = (flags & STORE_UPDATE_NO_SYNC) ? MDB_NOMETASYNC : 0;

    for (int attempt = 1;; attempt++) {
        const store *outer = tls_active;
        uint64_t seen;
        clm_err err = txn_begin(st, &t->txn, lmdb_flags, false, &seen);
        int rc = 0;

        if (err != CLM_OK)
            return err;
        t->write = true;
        t->map_full = false;
        t->poisoned = CLM_OK;
        store_deferred_reset(&t->deferred, st->n_tables);
        tls_active = st;
        err = fn(t, arg);
        tls_active = outer;
        iters_close_all(t);
        if (err == CLM_OK && t->poisoned == CLM_OK && t->deferred.n > 0)
            err = store_lmdb_deferred_flush(t);
        if (!t->map_full && err == CLM_OK && t->poisoned != CLM_OK)
            err = clm_fail(t->poisoned,
                           "store_update: an operation failed half-way, so the "
                           "transaction was aborted (%s)",
                           clm_strerror(t->poisoned));
        if (t->map_full || err != CLM_OK)
            mdb_txn_abort(t->txn);
        else
            rc = mdb_txn_commit(t->txn);
        t->txn = NULL;
        store_gate_shared_release(&st->gate, false);
        if (t->map_full || rc == MDB_MAP_FULL) {
            if (attempt >= MAX_UPDATE_ATTEMPTS)
                return clm_fail(CLM_ERR_STORE_FULL, "store %s: still full after %d growths",
                                st->dir, attempt);
            err = store_grow(st, seen, st->opt.grow_wait_ms);
            if (err != CLM_OK)
                return err;
            st->update_retries++;
            continue;
        }
        if (rc != 0)
            return lmdb_fail(NULL, rc, "store %s: commit", st->dir);
        return err;
    }
}

clm_err store_update_flags(store *st, unsigned flags, store_txn_fn fn, void *arg)
{
    clm_err err = check_nesting(st, "store_update");

    if (err != CLM_OK)
        return err;
    if (flags & ~(unsigned)STORE_UPDATE_NO_SYNC)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "store_update: unknown flags 0x%x", flags);
    pthread_mutex_lock(&st->writer);
    store_grow_ahead(st, 3, 4);
    err = store_lmdb_run_update(st, flags, fn, arg);
    pthread_mutex_unlock(&st->writer);
    return err;
}

clm_err store_update(store *st, store_txn_fn fn, void *arg)
{
    return store_update_flags(st, 0, fn, arg);
}

clm_err store_sync(store *st)
{
    int rc;

    store_gate_shared_acquire(&st->gate, false); /* not during a remap */
    rc = st->env != NULL ? mdb_env_sync(st->env, 1) : EBADF;
    store_gate_shared_release(&st->gate, false);
    return rc ? lmdb_fail(NULL, rc, "store %s: flushing to disk", st->dir) : CLM_OK;
}

clm_err store_view(store *st, store_txn_fn fn, void *arg)
{
    store_txn t = {.st = st};
    const store *outer = tls_active;
    uint64_t seen;
    clm_err err = check_nesting(st, "store_view");

    if (err == CLM_OK)
        err = txn_begin(st, &t.txn, MDB_RDONLY, false, &seen);
    if (err != CLM_OK)
        return err;
    tls_active = st;
    err = fn(&t, arg);
    tls_active = outer;
    iters_close_all(&t);
    mdb_txn_abort(t.txn);
    store_gate_shared_release(&st->gate, false);
    return err;
}

clm_err store_read_begin(store *st, store_txn **out)
{
    store_txn *t = calloc(1, sizeof(*t));
    uint64_t seen;
    clm_err err;

    if (t == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "store_read_begin: out of memory");
    t->st = st;
    t->long_lived = true;
    err = txn_begin(st, &t->txn, MDB_RDONLY, true, &seen);
    if (err != CLM_OK) {
        free(t);
        return err;
    }
    *out = t;
    return CLM_OK;
}

void store_txn_end(store_txn *t)
{
    if (t == NULL)
        return;
    if (t->write) {
        CLM_LOG_ERROR("store_txn_end_misuse", "reason", "write transactions end in store_update");
        return;
    }
    iters_close_all(t);
    mdb_txn_abort(t->txn);
    store_gate_shared_release(&t->st->gate, true);
    free(t);
}

/* ---- environment and tables -------------------------------------------------------------- */

/* Create and open the LMDB environment of st->dir with st->max_dbs table handles. */
static clm_err env_create_open(store *st, bool fresh)
{
    int rc = mdb_env_create(&st->env);

    if (rc == 0)
        rc = mdb_env_set_maxdbs(st->env, st->max_dbs);
    if (rc == 0)
        rc = mdb_env_set_maxreaders(st->env, st->opt.max_readers);
    if (rc == 0 && fresh) /* an existing store keeps the size it grew to */
        rc = mdb_env_set_mapsize(st->env, (size_t)st->opt.map_size);
    if (rc == 0)
        rc = mdb_env_open(st->env, st->dir, MDB_NOTLS, 0600);
    if (rc != 0) {
        if (st->env != NULL)
            mdb_env_close(st->env);
        st->env = NULL;
        return lmdb_fail(NULL, rc, "store %s: open", st->dir);
    }
    return CLM_OK;
}

clm_err store_lmdb_env_open(store *st, unsigned max_tables)
{
    char path[4096];
    struct stat sb;
    MDB_envinfo info;
    clm_err err;
    int rc, dead;

    snprintf(path, sizeof(path), "%s/data.mdb", st->dir);
    st->max_dbs = max_tables;
    if ((err = env_create_open(st, stat(path, &sb) != 0 && errno == ENOENT)) != CLM_OK)
        return err;
    /* One process per data directory: a second clmd would share the map unknowingly. The
     * lock is on a descriptor of our own, so store_release_memory() keeps it. */
    st->lock_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (st->lock_fd < 0 || flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return clm_fail(CLM_ERR_BUSY,
                        "store %s: the data directory is in use by another "
                        "process (stop the other clmd first)",
                        st->dir);
    mdb_reader_check(st->env, &dead);
    mdb_env_info(st->env, &info);
    if (info.me_mapsize < st->opt.map_size) {
        rc = mdb_env_set_mapsize(st->env, (size_t)st->opt.map_size);
        if (rc != 0)
            return lmdb_fail(NULL, rc, "store %s: set the map size", st->dir);
        mdb_env_info(st->env, &info);
    }
    st->map_size = info.me_mapsize;
    return CLM_OK;
}

void store_lmdb_env_close(store *st)
{
    if (st->env != NULL)
        mdb_env_close(st->env);
    st->env = NULL;
    if (st->lock_fd >= 0)
        close(st->lock_fd);
    st->lock_fd = -1;
}

/* Open the handles of every table and index again, in store_open()'s order, in a read
 * transaction (they all exist). */
static clm_err handles_reopen(store *st)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);

    if (rc == 0)
        rc = mdb_dbi_open(txn, STORE_META_NAME, 0, &st->tables[0].dbi);
    for (size_t i = 1; rc == 0 && i < st->n_tables; i++) {
        store_table_state *ts = &st->tables[i];

        rc = mdb_dbi_open(txn, ts->desc->name, 0, &ts->dbi);
        for (size_t j = 0; rc == 0 && j < ts->desc->n_indexes; j++) {
            char name[2 * STORE_NAME_MAX + 2];
            bool unique = ts->desc->indexes[j].flags & STORE_INDEX_UNIQUE;

            snprintf(name, sizeof(name), "%s.%s", ts->desc->name, ts->desc->indexes[j].name);
            rc = mdb_dbi_open(txn, name, unique ? 0 : MDB_DUPSORT, &ts->index_dbi[j]);
        }
    }
    if (rc == 0)
        return (rc = mdb_txn_commit(txn)) == 0
                   ? CLM_OK
                   : lmdb_fail(NULL, rc, "store %s: reopening the tables", st->dir);
    mdb_txn_abort(txn);
    return lmdb_fail(NULL, rc, "store %s: reopening the tables", st->dir);
}

clm_err store_release_memory(store *st, unsigned wait_ms)
{
    clm_err err = check_nesting(st, "store_release_memory");
    struct timespec until;

    if (err != CLM_OK)
        return err;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    if (pthread_mutex_timedlock(&st->writer, &until) != 0)
        return clm_fail(CLM_ERR_BUSY, "store %s: a write transaction is running", st->dir);
    if (store_gate_exclusive_acquire(&st->gate, wait_ms) != CLM_OK) {
        pthread_mutex_unlock(&st->writer);
        return clm_fail(CLM_ERR_BUSY, "store %s: %u transactions are open", st->dir,
                        store_gate_shared_count(&st->gate));
    }
    /* No transaction is open: closing the environment frees what LMDB kept; the map,
     * the files and our lock on them stay as they were. */
    mdb_env_close(st->env);
    st->env = NULL;
    err = env_create_open(st, false);
    if (err == CLM_OK && (err = handles_reopen(st)) != CLM_OK) {
        mdb_env_close(st->env);
        st->env = NULL;
    }
    if (err == CLM_OK)
        st->releases++;
    else
        CLM_LOG_ERROR("store_reopen_failed", "dir", st->dir, "error", clm_error_message());
    store_gate_exclusive_release(&st->gate);
    pthread_mutex_unlock(&st->writer);
    return err;
}

clm_err store_lmdb_meta_open(store_txn *t, unsigned *handle, bool *created)
{
    MDB_dbi main_dbi;
    MDB_stat stat;
    int rc = mdb_dbi_open(t->txn, STORE_META_NAME, 0, handle);

    *created = false;
    if (rc != MDB_NOTFOUND)
        return rc ? lmdb_fail(t, rc, "store %s: open the meta table", t->st->dir) : CLM_OK;
    rc = mdb_dbi_open(t->txn, NULL, 0, &main_dbi);
    if (rc == 0)
        rc = mdb_stat(t->txn, main_dbi, &stat);
    if (rc != 0)
        return lmdb_fail(t, rc, "store %s: read the table list", t->st->dir);
    if (stat.ms_entries > 0)
        return clm_fail(CLM_ERR_STORE,
                        "store %s: data.mdb is an LMDB database but not a clm "
                        "store (it has no %s table)",
                        t->st->dir, STORE_META_NAME);
    rc = mdb_dbi_open(t->txn, STORE_META_NAME, MDB_CREATE, handle);
    if (rc != 0)
        return lmdb_fail(t, rc, "store %s: create the meta table", t->st->dir);
    *created = true;
    return CLM_OK;
}

clm_err store_lmdb_table_open(store_txn *t, const char *name, bool dupsort, unsigned *handle)
{
    int rc = mdb_dbi_open(t->txn, name, MDB_CREATE | (dupsort ? MDB_DUPSORT : 0), handle);

    return rc ? lmdb_fail(t, rc, "store %s: open table %s", t->st->dir, name) : CLM_OK;
}

clm_err store_lmdb_table_drop(store_txn *t, const char *name)
{
    MDB_dbi dbi;
    int rc = mdb_dbi_open(t->txn, name, 0, &dbi);

    if (rc == MDB_NOTFOUND)
        return CLM_OK;
    if (rc == 0)
        rc = mdb_drop(t->txn, dbi, 1);
    return rc ? lmdb_fail(t, rc, "store %s: drop table %s", t->st->dir, name) : CLM_OK;
}

/* ---- backup and statistics ------------------------------------------------------------- */

clm_err store_backup(store *st, int fd)
{
    int rc;

    store_grow_ahead(st, 1, 2); /* so that writers rarely need to grow during the copy */
    store_gate_shared_acquire(&st->gate, true);
    rc = st->env != NULL ? mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT) : EBADF;
    store_gate_shared_release(&st->gate, true);
    if (rc == EPIPE)
        return clm_fail(CLM_ERR_IO, "backup of %s: the reader went away (broken pipe)", st->dir);
    if (rc > 0)
        return clm_fail(CLM_ERR_IO, "backup of %s: writing the copy failed: %s", st->dir,
                        strerror(rc));
    if (rc != 0)
        return lmdb_fail(NULL, rc, "backup of %s", st->dir);
    CLM_LOG_INFO("store_backup_done", "dir", st->dir);
    return CLM_OK;
}

void store_stats_get(store *st, store_stats *s)
{
    MDB_envinfo info;
    MDB_stat stat;

    s->map_used = map_used(st, &info, &stat);
    s->map_size = st->map_size;
    s->page_size = stat.ms_psize;
    s->grow_count = st->grow_count;
    s->update_retries = st->update_retries;
    s->releases = st->releases;
    s->readers_max = info.me_maxreaders;
    s->readers_used = info.me_numreaders;
}
