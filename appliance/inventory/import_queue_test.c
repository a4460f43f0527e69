/*
 * appliance/inventory/import_queue_test.c: group commit of imports: every request is
 * reported once, a failing request shares no writes with the others of its group, and
 * requests that wait behind a busy writer are committed together.
 */
#include "appliance/inventory/groups.h"
#include "appliance/inventory/import_queue.h"
#include "appliance/inventory/tables.h"
#include "lib/pki/cert.h"
#include "lib/pki/key.h"
#include "store/audit.h"
#include "tests/unit.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>

#define REQUESTS 8
#define CERTS_PER_REQUEST 4
#define BAD_GROUP_REQUEST 3 /* names a group that does not exist */

static const store_table *tables[] = {&inventory_certificates, &inventory_groups};

typedef struct request {
    Clm__V1__ImportCertificatesRequest req;
    Clm__V1__ImportCertificatesResponse resp;
    Clm__V1__ImportItem items[CERTS_PER_REQUEST], *item_ptrs[CERTS_PER_REQUEST];
    unsigned char *der[CERTS_PER_REQUEST];
    clm_arena arena;
    int done_calls;
    clm_err err;
    char message[512];
} request;

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static int audits; /* audit callbacks run (reruns included) */

static void on_done(void *arg, clm_err err, const char *message)
{
    request *r = arg;

    pthread_mutex_lock(&done_lock);
    r->done_calls++;
    r->err = err;
    snprintf(r->message, sizeof(r->message), "%s", message ? message : "(null)");
    pthread_mutex_unlock(&done_lock);
}

static clm_err count_audit(store_txn *txn, void *arg)
{
    store_audit_event ev = {"test", 1, "/clm.v1.Inventory/ImportCertificates", arg, "ok"};

    __atomic_add_fetch(&audits, 1, __ATOMIC_SEQ_CST);
    return store_audit_append(txn, &ev, NULL);
}

static clm_err ensure_default(store_txn *txn, void *arg)
{
    (void)arg;
    return group_ensure_default(txn, clm_clock_now_ns(clm_clock_system()));
}

/* Holds the store's writer until released, so that submitted requests queue up. */
typedef struct blocker {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int holding, release;
    store *st;
    pthread_t thread;
} blocker;

static clm_err block_txn(store_txn *txn, void *arg)
{
    blocker *b = arg;

    (void)txn;
    pthread_mutex_lock(&b->lock);
    b->holding = 1;
    pthread_cond_broadcast(&b->cond);
    while (!b->release)
        pthread_cond_wait(&b->cond, &b->lock);
    pthread_mutex_unlock(&b->lock);
    return CLM_OK;
}

static void *blocker_main(void *arg)
{
    blocker *b = arg;

    store_update(b->st, block_txn, b);
    return NULL;
}

/* Start holding the writer of `st`; returns once it is held. */
static void writer_hold(blocker *b, store *st)
{
    *b = (blocker){PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, st, 0};
    pthread_create(&b->thread, NULL, blocker_main, b);
    pthread_mutex_lock(&b->lock);
    while (!b->holding)
        pthread_cond_wait(&b->cond, &b->lock);
    pthread_mutex_unlock(&b->lock);
}

static void writer_release(blocker *b)
{
    pthread_mutex_lock(&b->lock);
    b->release = 1;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    pthread_join(b->thread, NULL);
}

static void make_request(request *r, EVP_PKEY *key, int index)
{
    memset(r, 0, sizeof(*r));
    clm__v1__import_certificates_request__init(&r->req);
    clm__v1__import_certificates_response__init(&r->resp);
    r->arena = (clm_arena)CLM_ARENA_INIT;
    for (int i = 0; i < CERTS_PER_REQUEST; i++) {
        char cn[64];
        X509 *x = NULL;
        int len;

        snprintf(cn, sizeof(cn), "cert-%d-%d.example.com", index, i);
        CHECK_INT_EQ(pki_cert_create_ca(key, cn, NULL, 30, clm_clock_system(), &x), CLM_OK);
        len = i2d_X509(x, &r->der[i]);
        X509_free(x);
        clm__v1__import_item__init(&r->items[i]);
        r->items[i].data.data = r->der[i];
        r->items[i].data.len = len > 0 ? (size_t)len : 0;
        r->item_ptrs[i] = &r->items[i];
    }
    r->req.items = r->item_ptrs;
    r->req.n_items = CERTS_PER_REQUEST;
    if (index == BAD_GROUP_REQUEST)
        r->req.group = "no-such-group";
}

static void free_request(request *r)
{
    for (int i = 0; i < CERTS_PER_REQUEST; i++)
        OPENSSL_free(r->der[i]);
    clm_arena_free(&r->arena);
}

typedef struct lookup {
    const request *r;
    int i, found;
} lookup;

static clm_err lookup_txn(store_txn *txn, void *arg)
{
    lookup *l = arg;
    unsigned char digest[32];
    store_item item;

    EVP_Digest(l->r->der[l->i], l->r->items[l->i].data.len, digest, NULL, EVP_sha256(), NULL);
    l->found = store_index_get(txn, &inventory_certificates, CERT_INDEX(CERT_INDEX_SHA256), digest,
                               32, &item) == CLM_OK;
    return CLM_OK;
}

/* Is the i-th certificate of this request in the store? */
static int stored(store *st, const request *r, int i)
{
    lookup l = {r, i, 0};

    CHECK_INT_EQ(store_view(st, lookup_txn, &l), CLM_OK);
    return l.found;
}

static clm_err count_txn(store_txn *txn, void *arg)
{
    return store_count(txn, &inventory_certificates, NULL, arg);
}

UNIT_TEST(test_group_commit)
{
    const char *base = getenv("TEST_TMPDIR");
    char dir[4096];
    store *st = NULL;
    import_queue *q = NULL;
    EVP_PKEY *key = NULL;
    static request reqs[REQUESTS];
    blocker b;
    uint64_t count = 0;

    snprintf(dir, sizeof(dir), "%s/import-queue-XXXXXX", base ? base : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT_EQ(store_open(dir, NULL, tables, 2, &st), CLM_OK);
    CHECK_INT_EQ(store_update(st, ensure_default, NULL), CLM_OK);
    CHECK_INT_EQ(pki_key_generate(PKI_KEY_EC_P256, &key), CLM_OK);
    CHECK_INT_EQ(import_queue_new(st, 1000, &q), CLM_OK);

    /* Hold the writer so that every request queues, then let them go. */
    writer_hold(&b, st);
    for (int i = 0; i < REQUESTS; i++) {
        request *r = &reqs[i];
        import_context ctx = {st, NULL, clm_clock_system(), &r->arena, "test", count_audit, "t"};

        make_request(r, key, i);
        CHECK_INT_EQ(inventory_import_validate(&r->req), CLM_OK);
        CHECK_INT_EQ(import_queue_submit(q, &ctx, &r->req, &r->resp, on_done, r), CLM_OK);
    }
    writer_release(&b);
    import_queue_free(q); /* writes and reports everything queued */

    for (int i = 0; i < REQUESTS; i++) {
        request *r = &reqs[i];

        CHECK_INT_EQ(r->done_calls, 1);
        if (i == BAD_GROUP_REQUEST) {
            CHECK_INT_EQ(r->err, CLM_ERR_NOT_FOUND);
            CHECK_STR_CONTAINS(r->message, "no-such-group");
        } else {
            CHECK_INT_EQ(r->err, CLM_OK);
            CHECK_INT_EQ(r->resp.added, CERTS_PER_REQUEST);
        }
        for (int j = 0; j < CERTS_PER_REQUEST; j++)
            CHECK_INT_EQ(stored(st, r, j), i != BAD_GROUP_REQUEST);
    }
    /* Every good request was applied (audited) at least once; the ones that shared a
     * transaction with the bad request and came before it were applied again. How many
     * did depends on how many requests the writer took before it blocked (the first, or
     * a few under load), so only the lower bound is certain. */
    CHECK(audits >= REQUESTS - 1);
    CHECK_INT_EQ(store_view(st, count_txn, &count), CLM_OK);
    CHECK_INT_EQ(count, (REQUESTS - 1) * CERTS_PER_REQUEST);
    for (int i = 0; i < REQUESTS; i++)
        free_request(&reqs[i]);
    EVP_PKEY_free(key);
    store_close(st);
}

/* A request whose every item fails to parse writes nothing and is reported at once. */
UNIT_TEST(test_nothing_to_write)
{
    const char *base = getenv("TEST_TMPDIR");
    char dir[4096];
    store *st = NULL;
    import_queue *q = NULL;
    request r;
    Clm__V1__ImportItem item = CLM__V1__IMPORT_ITEM__INIT, *items[1] = {&item};
    static unsigned char junk[] = "not a certificate";
    import_context ctx;

    snprintf(dir, sizeof(dir), "%s/import-queue-XXXXXX", base ? base : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT_EQ(store_open(dir, NULL, tables, 2, &st), CLM_OK);
    CHECK_INT_EQ(store_update(st, ensure_default, NULL), CLM_OK);
    CHECK_INT_EQ(import_queue_new(st, 0, &q), CLM_OK);
    memset(&r, 0, sizeof(r));
    r.arena = (clm_arena)CLM_ARENA_INIT;
    clm__v1__import_certificates_request__init(&r.req);
    clm__v1__import_certificates_response__init(&r.resp);
    item.data.data = junk;
    item.data.len = sizeof(junk) - 1;
    r.req.items = items;
    r.req.n_items = 1;
    ctx = (import_context){st, NULL, clm_clock_system(), &r.arena, "test", NULL, NULL};
    CHECK_INT_EQ(import_queue_submit(q, &ctx, &r.req, &r.resp, on_done, &r), CLM_OK);
    CHECK_INT_EQ(r.done_calls, 1); /* before the return */
    CHECK_INT_EQ(r.err, CLM_OK);
    CHECK_INT_EQ(r.resp.errors, 1);
    import_queue_free(q);
    clm_arena_free(&r.arena);
    store_close(st);
}

/* Other writes (Connectors.Issue's records) share the groups; one that fails fails alone. */
typedef struct write_item {
    int index;
    int runs;      /* times the write ran (reruns included) */
    int done_calls;
    clm_err err;
} write_item;

#define WRITES 6
#define BAD_WRITE 3

static clm_err write_one(store_txn *txn, void *arg)
{
    write_item *w = arg;
    char target[32];
    store_audit_event ev = {"test", 1, "/clm.v1.Connectors/Issue", target, "ok"};

    __atomic_add_fetch(&w->runs, 1, __ATOMIC_SEQ_CST);
    if (w->index == BAD_WRITE)
        return clm_fail(CLM_ERR_CONFLICT, "write %d refused (test)", w->index);
    snprintf(target, sizeof(target), "write-%d", w->index);
    return store_audit_append(txn, &ev, NULL);
}

static void write_done(void *arg, clm_err err, const char *message)
{
    write_item *w = arg;

    (void)message;
    pthread_mutex_lock(&done_lock);
    w->done_calls++;
    w->err = err;
    pthread_mutex_unlock(&done_lock);
}

UNIT_TEST(test_other_writes)
{
    const char *base = getenv("TEST_TMPDIR");
    char dir[4096];
    store *st = NULL;
    import_queue *q = NULL;
    static write_item w[WRITES];
    blocker b;

    snprintf(dir, sizeof(dir), "%s/import-queue-XXXXXX", base ? base : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT_EQ(store_open(dir, NULL, tables, 2, &st), CLM_OK);
    CHECK_INT_EQ(import_queue_new(st, 0, &q), CLM_OK);
    CHECK_INT_EQ(import_queue_submit_write(q, NULL, NULL, write_done, NULL),
                 CLM_ERR_INVALID_ARGUMENT);
    writer_hold(&b, st);
    for (int i = 0; i < WRITES; i++) {
        w[i].index = i;
        CHECK_INT_EQ(import_queue_submit_write(q, write_one, &w[i], write_done, &w[i]), CLM_OK);
    }
    writer_release(&b);
    import_queue_free(q);
    for (int i = 0; i < WRITES; i++) {
        CHECK_INT_EQ(w[i].done_calls, 1);
        CHECK_INT_EQ(w[i].err, i == BAD_WRITE ? CLM_ERR_CONFLICT : CLM_OK);
    }
    /* The writes queued behind the held writer share groups: the ones before the bad
       write in its group ran again without it. */
    CHECK(w[BAD_WRITE].runs == 1);
    CHECK(w[0].runs >= 1 && w[WRITES - 1].runs >= 1);
    store_close(st);
}

static clm_err write_audit(store_txn *txn, void *arg)
{
    store_audit_event ev = {"test", 1, "/clm.v1.Connectors/Issue", "bulk", "ok"};

    (void)arg;
    return store_audit_append(txn, &ev, NULL);
}

static void count_done(void *arg, clm_err err, const char *message)
{
    (void)message;
    if (err == CLM_OK)
        __atomic_add_fetch((int *)arg, 1, __ATOMIC_SEQ_CST);
}

static uint64_t releases(store *st)
{
    store_stats stats;

    store_stats_get(st, &stats);
    return stats.releases;
}

/* After a large group and a quiet second, the writer gives LMDB's kept page buffers back
 * (store_release_memory); a small group does not call for it. */
UNIT_TEST(test_memory_released_when_idle)
{
    const char *base = getenv("TEST_TMPDIR");
    char dir[4096];
    store *st = NULL;
    import_queue *q = NULL;
    blocker b;
    int done = 0;

    snprintf(dir, sizeof(dir), "%s/import-queue-XXXXXX", base ? base : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT_EQ(store_open(dir, NULL, tables, 2, &st), CLM_OK);
    CHECK_INT_EQ(import_queue_new(st, 5000, &q), CLM_OK);
    writer_hold(&b, st);
    /* The held writer took the first of them (how many depends on timing) and commits
     * the rest as a second group: of 4,100, one of the two has 2,000 or more. */
    for (int i = 0; i < 4100; i++)
        CHECK_INT_EQ(import_queue_submit_write(q, write_audit, NULL, count_done, &done), CLM_OK);
    writer_release(&b);
    for (int i = 0; i < 100 && releases(st) == 0; i++)
        usleep(50000);
    CHECK_INT_EQ(__atomic_load_n(&done, __ATOMIC_SEQ_CST), 4100);
    CHECK_INT_EQ(releases(st), 1);
    CHECK_INT_EQ(import_queue_submit_write(q, write_audit, NULL, count_done, &done), CLM_OK);
    usleep(1500000);
    CHECK_INT_EQ(releases(st), 1);
    import_queue_free(q);
    CHECK_INT_EQ(done, 4101);
    store_close(st);
}

int main(void)
{
    UNIT_RUN(test_group_commit);
    UNIT_RUN(test_other_writes);
    UNIT_RUN(test_nothing_to_write);
    UNIT_RUN(test_memory_released_when_idle);
    return unit_report();
}
