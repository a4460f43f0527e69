/* store/testing.c: the test table and helpers of store/ tests (see testing.h). */
#include "store/testing.h"

#include "lib/base/buf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct collect {
    char text[512];
    bool index_text;
} collect;
typedef struct scan_args {
    const store_index *index;
    const void *start;
    size_t start_len;
    unsigned flags;
    collect out;
} scan_args;

/* ---- the test table ------------------------------------------------------------------ */

static clm_err key_name(const ProtobufCMessage *m, const void *arg, store_keys *keys)
{
    const item_t *it = (const item_t *)m;

    (void)arg;
    return it->name[0] ? store_keys_add(keys, it->name, strlen(it->name)) : CLM_OK;
}

static clm_err key_team(const ProtobufCMessage *m, const void *arg, store_keys *keys)
{
    const item_t *it = (const item_t *)m;

    (void)arg;
    return it->team[0] ? store_keys_add(keys, it->team, strlen(it->team)) : CLM_OK;
}

static clm_err key_expiry(const ProtobufCMessage *m, const void *arg, store_keys *keys)
{
    unsigned char k[8];

    (void)arg;
    clm_put_be64(k, (uint64_t)((const item_t *)m)->not_after);
    return store_keys_add(keys, k, sizeof(k));
}

static clm_err key_tags(const ProtobufCMessage *m, const void *arg, store_keys *keys)
{
    const item_t *it = (const item_t *)m;
    clm_err err = CLM_OK;

    (void)arg;
    for (size_t i = 0; i < it->n_tags && err == CLM_OK; i++)
        err = store_keys_add(keys, it->tags[i], strlen(it->tags[i]));
    return err;
}

const store_index item_indexes[4] = {
    {"by_name", STORE_INDEX_UNIQUE, 1, key_name, NULL},
    {"by_team", 0, 1, key_team, NULL},
    {"by_expiry", 0, 1, key_expiry, NULL},
    {"by_tag", 0, 1, key_tags, NULL},
};

const store_table items = {"items", &clm__store__test__test_item__descriptor, item_indexes, 4};
const store_table *const all_tables[1] = {&items};

/* ---- helpers ------------------------------------------------------------------------ */

const char *new_dir(const char *name)
{
    static char path[8][512];
    static int n;
    const char *base = getenv("TEST_TMPDIR");
    char *p = path[n++ % 8];

    snprintf(p, sizeof(path[0]), "%s/%s-XXXXXX", base ? base : "/tmp", name);
    return mkdtemp(p);
}

store *open_store(const char *dir, uint64_t map_size)
{
    store_options opt = STORE_OPTIONS_INIT;
    store *st = NULL;
    clm_err err;

    opt.map_size = map_size;
    err = store_open(dir, &opt, all_tables, 1, &st);
    if (err != CLM_OK)
        fprintf(stderr, "store_open(%s): %s: %s\n", dir, clm_strerror(err), clm_error_message());
    return st;
}

clm_err put_fn(store_txn *txn, void *arg)
{
    const put_args *a = arg;
    static unsigned char blob[4096];
    clm_err err = CLM_OK;

    for (uint64_t i = 0; i < (a->count ? a->count : 1) && err == CLM_OK; i++) {
        item_t it = CLM__STORE__TEST__TEST_ITEM__INIT;
        unsigned char key[8];
        char name[64];

        it.id = a->id + i;
        snprintf(name, sizeof(name), "%s-%" PRIu64, a->name ? a->name : "item", it.id);
        it.name = a->count || !a->name ? name : (char *)a->name;
        it.team = (char *)(a->team ? a->team : "");
        it.not_after = a->not_after;
        it.tags = (char **)a->tags;
        it.n_tags = a->n_tags;
        it.blob.data = blob;
        it.blob.len = a->blob;
        clm_put_be64(key, it.id);
        err = store_put(txn, a->table ? a->table : &items, key, 8, &it.base, a->flags);
    }
    return err;
}

clm_err put_item(store *st, const put_args *a)
{
    return store_update(st, put_fn, (void *)a);
}

static clm_err get_fn(store_txn *txn, void *arg)
{
    get_result *r = arg;
    unsigned char key[8];
    clm_err err;

    clm_put_be64(key, r->id);
    err = store_get_record(txn, &items, key, 8, (ProtobufCMessage **)&r->item);
    if (err != CLM_OK)
        r->item = NULL;
    store_count(txn, &items, NULL, &r->counts[0]);
    for (int i = 0; i < 4; i++)
        store_count(txn, &items, &item_indexes[i], &r->counts[i + 1]);
    return err;
}

clm_err get_item(store *st, uint64_t id, get_result *r)
{
    memset(r, 0, sizeof(*r));
    r->id = id;
    return store_view(st, get_fn, r);
}

void free_result(get_result *r)
{
    if (r->item)
        clm__store__test__test_item__free_unpacked(r->item, NULL);
    r->item = NULL;
}

/* Collect keys of a scan as "k1,k2,..." (ids, or index keys as text). */

static clm_err collect_fn(void *arg, const store_item *item, bool *stop)
{
    collect *c = arg;
    size_t n = strlen(c->text);

    (void)stop;
    if (c->index_text)
        snprintf(c->text + n, sizeof(c->text) - n, "%s%.*s:%" PRIu64, n ? "," : "",
                 (int)item->index_key_len, (const char *)item->index_key, clm_get_be64(item->key));
    else
        snprintf(c->text + n, sizeof(c->text) - n, "%s%" PRIu64, n ? "," : "",
                 clm_get_be64(item->key));
    return CLM_OK;
}

static clm_err scan_fn(store_txn *txn, void *arg)
{
    scan_args *a = arg;

    a->out.text[0] = '\0';
    a->out.index_text = a->index != NULL && a->index != BY_EXPIRY;
    return store_scan(txn, &items, a->index, a->start, a->start_len, a->flags, collect_fn, &a->out);
}

const char *scan(store *st, const store_index *index, const char *start, unsigned flags)
{
    static scan_args a;

    memset(&a, 0, sizeof(a));
    a.index = index;
    a.start = start;
    a.start_len = start ? strlen(start) : 0;
    a.flags = flags;
    if (store_view(st, scan_fn, &a) != CLM_OK)
        return "(error)";
    return a.out.text;
}

clm_err bulk_fn(store_txn *txn, void *arg)
{
    bulk_args *b = arg;
    put_args p = {.id = b->first,
                  .count = b->n,
                  .name = "bulk",
                  .team = "t",
                  .not_after = 1,
                  .blob = b->blob,
                  .flags = STORE_PUT_APPEND,
                  .table = b->table};

    return put_fn(txn, &p);
}
