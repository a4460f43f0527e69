/*
 * store/store.c: opening and closing a store, the schema (version, tables, index
 * definitions as data), and the checks every table operation shares. Calls LMDB only
 * through the store_lmdb_* primitives of store_internal.h.
 */
#include "lib/base/log.h"
#include "store/store_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MIB (UINT64_C(1) << 20)
#define DEFAULT_MAP_SIZE (64 * MIB)
#define DEFAULT_MAX_MAP_SIZE (UINT64_C(1) << 40)
#define DEFAULT_MAX_READERS 126
#define DEFAULT_GROW_WAIT_MS 30000
#define INDEX_NAME_MAX (2 * STORE_NAME_MAX + 16)

/* Meta entries are raw bytes under their names. */
static const store_table meta_table = {STORE_META_NAME, NULL, NULL, 0};

/* Open stores of this process, by data directory: LMDB must not open one twice (closing
 * the second copy would drop the first one's file locks). */
static pthread_mutex_t registry_mutex = PTHREAD_MUTEX_INITIALIZER;
static store *registry;

/* ---- checks shared by the operations -------------------------------------------------- */

const store_table_state *store_table_find(const store *st, const store_table *table)
{
    for (size_t i = 0; i < st->n_tables; i++)
        if (st->tables[i].desc == table)
            return &st->tables[i];
    return NULL;
}

clm_err store_check_op(store_txn *t, const store_table *table, bool write, const char *op,
                       const store_table_state **ts)
{
    if (t == NULL || t->txn == NULL || table == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: no transaction or table", op);
    if (write && !t->write)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: read-only transaction", op);
    if (t->poisoned != CLM_OK)
        return clm_fail(t->poisoned, "%s: an earlier operation of this transaction failed", op);
    *ts = store_table_find(t->st, table);
    if (*ts == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: table %s is not open in this store", op,
                        table->name ? table->name : "(null)");
    return CLM_OK;
}

clm_err store_check_key(const char *op, const store_table *table, size_t len)
{
    if (len == 0 || len > STORE_KEY_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "%s: table %s: key length %zu is outside "
                        "1..%d",
                        op, table->name, len, STORE_KEY_MAX);
    return CLM_OK;
}

clm_err store_index_pos(const store_table_state *ts, const store_index *index, size_t *pos)
{
    const store_table *d = ts->desc;

    if (index == NULL) {
        *pos = STORE_NO_INDEX;
        return CLM_OK;
    }
    if (d->n_indexes == 0 || index < d->indexes || index >= d->indexes + d->n_indexes)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "table %s: index %s is not one of its "
                        "indexes",
                        d->name, index->name ? index->name : "(null)");
    *pos = (size_t)(index - d->indexes);
    return CLM_OK;
}

clm_err store_txn_poison(store_txn *t, clm_err err)
{
    if (t->poisoned == CLM_OK)
        t->poisoned = err;
    return err;
}

store *store_txn_store(const store_txn *t)
{
    return t->st;
}

bool store_txn_writable(const store_txn *t)
{
    return t->write;
}

const clm_clock *store_clock(const store *st)
{
    return st->opt.clock;
}

uint32_t store_schema_version(const store *st)
{
    return st->schema_version;
}

/* ---- meta and sequences ----------------------------------------------------------------- */

const store_table *store_meta_table(void)
{
    return &meta_table;
}

clm_err store_meta_get(store_txn *t, const char *name, const void **value, size_t *len)
{
    store_item item;
    clm_err err = store_get(t, &meta_table, name, strlen(name), &item);

    if (err == CLM_OK) {
        *value = item.value;
        *len = item.value_len;
    }
    return err;
}

clm_err store_meta_put(store_txn *t, const char *name, const void *value, size_t len)
{
    return store_put_packed(t, &meta_table, name, strlen(name), value, len, 0);
}

static uint64_t meta_u64(store_txn *t, const char *name, bool *found)
{
    const void *v;
    size_t len;

    *found = store_meta_get(t, name, &v, &len) == CLM_OK && len == 8;
    return *found ? clm_get_be64(v) : 0;
}

static clm_err meta_put_u64(store_txn *t, const char *name, uint64_t value)
{
    unsigned char b[8];

    clm_put_be64(b, value);
    return store_meta_put(t, name, b, sizeof(b));
}

clm_err store_seq_next(store_txn *t, const store_table *table, uint64_t count, uint64_t *first)
{
    const store_table_state *ts;
    char name[STORE_NAME_MAX + 8];
    clm_err err = store_check_op(t, table, true, "store_seq_next", &ts);
    bool found;
    uint64_t last;

    if (err != CLM_OK)
        return err;
    if (count == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "store_seq_next: count is 0");
    snprintf(name, sizeof(name), "seq/%s", table->name);
    last = meta_u64(t, name, &found);
    if (last > UINT64_MAX - count)
        return clm_fail(CLM_ERR_STORE, "store_seq_next: the sequence of %s is exhausted",
                        table->name);
    *first = last + 1;
    return meta_put_u64(t, name, last + count);
}

/* ---- schema ---------------------------------------------------------------------------- */

static clm_err schema_version_check(store_txn *t)
{
    store *st = t->st;
    bool created, found;
    uint64_t version;
    clm_err err = store_lmdb_meta_open(t, &st->tables[0].dbi, &created);

    if (err != CLM_OK)
        return err;
    if (created) {
        st->schema_version = STORE_SCHEMA_VERSION;
        return meta_put_u64(t, "schema_version", STORE_SCHEMA_VERSION);
    }
    version = meta_u64(t, "schema_version", &found);
    if (!found || version == 0)
        return clm_fail(CLM_ERR_STORE,
                        "store %s: the meta table has no schema version "
                        "(damaged store? restore a backup)",
                        st->dir);
    if (version > STORE_SCHEMA_VERSION)
        return clm_fail(CLM_ERR_UNSUPPORTED,
                        "store %s has schema version %" PRIu64 ", newer "
                        "than version %d that this clmd supports: run the clmd release that "
                        "wrote it (or a newer one), or restore a backup made by this release",
                        st->dir, version, STORE_SCHEMA_VERSION);
    /* Migrations from older versions go here, in this transaction (none before 1). */
    st->schema_version = (uint32_t)version;
    return CLM_OK;
}

/* Fill index i of a table from the table's records. */
static clm_err index_build(store_txn *t, const store_table_state *ts, size_t i, uint64_t *n)
{
    const store_table *d = ts->desc;
    store_iter *it;
    clm_err err = store_iter_open(t, d, NULL, 0, &it);

    *n = 0;
    if (err == CLM_OK)
        err = store_iter_first(it);
    store_keys_reset(&t->kold[0]);
    while (err == CLM_OK) {
        const store_item *item = store_iter_item(it);
        ProtobufCMessage *rec;

        err = store_unpack(d, item->value, item->value_len, &rec);
        if (err == CLM_OK) {
            err = store_index_keys(d, i, rec, &t->knew[0]);
            protobuf_c_message_free_unpacked(rec, NULL);
        }
        if (err == CLM_OK)
            err = store_lmdb_index_apply(t, ts, i, item->key, item->key_len, &t->kold[0],
                                         &t->knew[0]);
        if (err == CLM_OK) {
            (*n)++;
            err = store_iter_next(it);
        }
    }
    store_iter_close(it);
    return err == CLM_ERR_NOT_FOUND ? CLM_OK : err;
}

/* Open index i; (re)build it when it is new or its version or flags changed. */
static clm_err index_sync(store_txn *t, store_table_state *ts, size_t i)
{
    const store_index *idx = &ts->desc->indexes[i];
    char name[INDEX_NAME_MAX], meta_key[INDEX_NAME_MAX + 8];
    unsigned char state[8];
    const void *cur;
    size_t cur_len;
    bool unique = idx->flags & STORE_INDEX_UNIQUE, current;
    uint64_t n;
    clm_err err;

    snprintf(name, sizeof(name), "%s.%s", ts->desc->name, idx->name);
    snprintf(meta_key, sizeof(meta_key), "index/%s", name);
    clm_put_be64(state, ((uint64_t)idx->version << 32) | (unique ? STORE_INDEX_UNIQUE : 0));
    current = store_meta_get(t, meta_key, &cur, &cur_len) == CLM_OK && cur_len == 8 &&
              memcmp(cur, state, 8) == 0;
    if (current)
        return store_lmdb_table_open(t, name, !unique, &ts->index_dbi[i]);
    err = store_lmdb_table_drop(t, name);
    if (err == CLM_OK)
        err = store_lmdb_table_open(t, name, !unique, &ts->index_dbi[i]);
    if (err == CLM_OK)
        err = index_build(t, ts, i, &n);
    if (err == CLM_OK)
        err = store_meta_put(t, meta_key, state, sizeof(state));
    if (err != CLM_OK)
        return clm_error_context(err, "building index %s", name);
    CLM_LOG_INFO("store_index_built", "index", name, "records", CLM_I64(n));
    return CLM_OK;
}

/* Drop indexes that the store has for our tables but their descriptors no longer list. */
static clm_err index_drop_orphans(store_txn *t)
{
    static const char prefix[] = "index/";
    clm_buf names = CLM_BUF_INIT;
    store_iter *it;
    clm_err err = store_iter_open(t, &meta_table, NULL, 0, &it);

    if (err == CLM_OK)
        err = store_iter_seek(it, prefix, sizeof(prefix) - 1, NULL, 0);
    for (; err == CLM_OK; err = store_iter_next(it)) {
        const store_item *item = store_iter_item(it);
        const char *k = item->key, *dot;
        size_t len = item->key_len, tlen;
        const store_table_state *ts = NULL;
        bool listed = false;

        if (len <= sizeof(prefix) - 1 || memcmp(k, prefix, sizeof(prefix) - 1) != 0)
            break;
        k += sizeof(prefix) - 1;
        len -= sizeof(prefix) - 1;
        dot = memchr(k, '.', len);
        if (dot == NULL)
            continue;
        tlen = (size_t)(dot - k);
        for (size_t i = 1; i < t->st->n_tables && ts == NULL; i++)
            if (strlen(t->st->tables[i].desc->name) == tlen &&
                memcmp(t->st->tables[i].desc->name, k, tlen) == 0)
                ts = &t->st->tables[i];
        for (size_t i = 0; ts != NULL && i < ts->desc->n_indexes && !listed; i++)
            listed = strlen(ts->desc->indexes[i].name) == len - tlen - 1 &&
                     memcmp(ts->desc->indexes[i].name, dot + 1, len - tlen - 1) == 0;
        if (ts != NULL && !listed &&
            (clm_buf_append(&names, k, len) != CLM_OK || clm_buf_append_byte(&names, 0) != CLM_OK))
            err = clm_fail(CLM_ERR_NO_MEMORY, "store: out of memory");
    }
    store_iter_close(it);
    if (err == CLM_ERR_NOT_FOUND)
        err = CLM_OK;
    for (size_t off = 0; err == CLM_OK && off < names.len;) {
        const char *name = (const char *)names.data + off;
        char meta_key[INDEX_NAME_MAX + 8];

        snprintf(meta_key, sizeof(meta_key), "index/%s", name);
        err = store_lmdb_table_drop(t, name);
        if (err == CLM_OK)
            err = store_delete(t, &meta_table, meta_key, strlen(meta_key));
        CLM_LOG_INFO("store_index_dropped", "index", name);
        off += strlen(name) + 1;
    }
    clm_buf_free(&names);
    return err;
}

static clm_err schema_run(store_txn *t, void *arg)
{
    store *st = t->st;
    clm_err err = schema_version_check(t);

    (void)arg;
    for (size_t i = 1; err == CLM_OK && i < st->n_tables; i++) {
        store_table_state *ts = &st->tables[i];

        err = store_lmdb_table_open(t, ts->desc->name, false, &ts->dbi);
        for (size_t j = 0; err == CLM_OK && j < ts->desc->n_indexes; j++)
            err = index_sync(t, ts, j);
    }
    return err == CLM_OK ? index_drop_orphans(t) : err;
}

/* ---- open and close ---------------------------------------------------------------------- */

static clm_err validate_table(const store_table *tb)
{
    if (tb == NULL || !store_name_valid(tb->name) || tb->record == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "store_open: table %s: a name [a-z][a-z0-9_]* "
                        "and a record type are required",
                        tb && tb->name ? tb->name : "(null)");
    if (tb->n_indexes > 0 && tb->indexes == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "store_open: table %s: no index array", tb->name);
    for (size_t i = 0; i < tb->n_indexes; i++) {
        const store_index *idx = &tb->indexes[i];

        if (!store_name_valid(idx->name) || idx->keys == NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "store_open: table %s: index %zu needs "
                            "a name [a-z][a-z0-9_]* and a keys function",
                            tb->name, i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(tb->indexes[j].name, idx->name) == 0)
                return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                                "store_open: table %s: index %s is "
                                "listed twice",
                                tb->name, idx->name);
    }
    return CLM_OK;
}

static clm_err registry_claim(store *st)
{
    struct stat sb;
    clm_err err = CLM_OK;

    if (mkdir(st->dir, 0700) != 0 && errno != EEXIST)
        return clm_fail(CLM_ERR_IO, "store %s: cannot create the data directory: %s", st->dir,
                        strerror(errno));
    if (stat(st->dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return clm_fail(CLM_ERR_IO, "store %s: not a directory", st->dir);
    st->dev = sb.st_dev;
    st->ino = sb.st_ino;
    pthread_mutex_lock(&registry_mutex);
    for (store *o = registry; o != NULL; o = o->registry_next)
        if (o->dev == st->dev && o->ino == st->ino)
            err = clm_fail(CLM_ERR_BUSY,
                           "store %s: this process has the data directory open "
                           "already",
                           st->dir);
    if (err == CLM_OK) {
        st->registry_next = registry;
        registry = st;
        st->registered = true;
    }
    pthread_mutex_unlock(&registry_mutex);
    return err;
}

static void registry_release(store *st)
{
    pthread_mutex_lock(&registry_mutex);
    for (store **p = &registry; *p != NULL; p = &(*p)->registry_next)
        if (*p == st) {
            *p = st->registry_next;
            break;
        }
    pthread_mutex_unlock(&registry_mutex);
}

static clm_err store_alloc(store *st, const store_table *const *tables, size_t n_tables,
                           unsigned *handles)
{
    st->n_tables = n_tables + 2;
    st->tables = calloc(st->n_tables, sizeof(*st->tables));
    if (st->tables == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "store_open: out of memory");
    st->tables[0].desc = &meta_table;
    st->tables[1].desc = store_audit_table();
    for (size_t i = 0; i < n_tables; i++)
        st->tables[i + 2].desc = tables[i];
    *handles = 16; /* spare handles for dropping old indexes */
    for (size_t i = 0; i < st->n_tables; i++) {
        size_t n = st->tables[i].desc->n_indexes;

        *handles += 1 + (unsigned)n;
        if (n > st->max_indexes)
            st->max_indexes = n;
        if (n > 0 && (st->tables[i].index_dbi = calloc(n, sizeof(unsigned))) == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "store_open: out of memory");
    }
    st->wtxn.st = st;
    st->wtxn.kold = calloc(st->max_indexes + 1, sizeof(store_keys));
    st->wtxn.knew = calloc(st->max_indexes + 1, sizeof(store_keys));
    if (st->wtxn.kold == NULL || st->wtxn.knew == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "store_open: out of memory");
    return CLM_OK;
}

clm_err store_open(const char *dir, const store_options *options, const store_table *const *tables,
                   size_t n_tables, store **out)
{
    store *st;
    unsigned handles = 0;
    clm_err err = CLM_OK;

    *out = NULL;
    if (dir == NULL || dir[0] == '\0' || (n_tables > 0 && tables == NULL))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "store_open: no data directory or tables");
    for (size_t i = 0; i < n_tables && err == CLM_OK; i++) {
        err = validate_table(tables[i]);
        for (size_t j = 0; j < i && err == CLM_OK; j++)
            if (strcmp(tables[j]->name, tables[i]->name) == 0)
                err = clm_fail(CLM_ERR_INVALID_ARGUMENT,
                               "store_open: table %s is listed "
                               "twice",
                               tables[i]->name);
    }
    if (err != CLM_OK)
        return err;
    st = calloc(1, sizeof(*st));
    if (st == NULL || (st->dir = strdup(dir)) == NULL) {
        free(st);
        return clm_fail(CLM_ERR_NO_MEMORY, "store_open: out of memory");
    }
    st->lock_fd = -1;
    if (options != NULL)
        st->opt = *options;
    if (st->opt.map_size == 0)
        st->opt.map_size = DEFAULT_MAP_SIZE;
    if (st->opt.max_map_size == 0)
        st->opt.max_map_size = DEFAULT_MAX_MAP_SIZE;
    if (st->opt.max_map_size < st->opt.map_size)
        st->opt.max_map_size = st->opt.map_size;
    if (st->opt.max_readers == 0)
        st->opt.max_readers = DEFAULT_MAX_READERS;
    if (st->opt.grow_wait_ms == 0)
        st->opt.grow_wait_ms = DEFAULT_GROW_WAIT_MS;
    if (st->opt.clock == NULL)
        st->opt.clock = clm_clock_system();
    err = store_alloc(st, tables, n_tables, &handles);
    if (err == CLM_OK)
        err = registry_claim(st);
    if (err == CLM_OK && (err = store_gate_init(&st->gate)) == CLM_OK) {
        pthread_mutex_init(&st->writer, NULL);
        st->locks_ready = true;
    }
    if (err == CLM_OK)
        err = store_lmdb_env_open(st, handles);
    if (err == CLM_OK)
        err = store_lmdb_run_update(st, 0, schema_run, NULL);
    if (err != CLM_OK) {
        store_close(st);
        return err;
    }
    CLM_LOG_INFO("store_opened", "dir", dir, "schema", CLM_I64(st->schema_version), "map_size",
                 CLM_I64(st->map_size));
    *out = st;
    return CLM_OK;
}

void store_close(store *st)
{
    if (st == NULL)
        return;
    store_lmdb_env_close(st);
    if (st->registered)
        registry_release(st);
    if (st->locks_ready) {
        store_gate_destroy(&st->gate);
        pthread_mutex_destroy(&st->writer);
    }
    for (size_t i = 0; st->tables != NULL && i < st->n_tables; i++)
        free(st->tables[i].index_dbi);
    for (size_t i = 0; st->wtxn.kold != NULL && i <= st->max_indexes; i++)
        store_keys_free(&st->wtxn.kold[i]);
    for (size_t i = 0; st->wtxn.knew != NULL && i <= st->max_indexes; i++)
        store_keys_free(&st->wtxn.knew[i]);
    free(st->wtxn.kold);
    free(st->wtxn.knew);
    clm_buf_free(&st->wtxn.pack);
    store_deferred_free(&st->wtxn.deferred);
    free(st->tables);
    free(st->dir);
    free(st);
}
