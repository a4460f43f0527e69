/* appliance/inventory/import_queue.c: one writer thread commits queued imports in groups. */
#include "appliance/inventory/import_queue.h"

#include "lib/base/log.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NO_CULPRIT SIZE_MAX

/* The longest the writer waits for answered clients to send again (see writer_main). */
#define LINGER_MAX_NS (25 * INT64_C(1000000))
/* After a group this large, LMDB keeps page buffers worth giving back (store.h,
 * store_release_memory): the writer does so once the queue has been idle a second. */
#define RELEASE_AFTER_CERTS 2000
#define RELEASE_IDLE_SECONDS 1

typedef struct queued_import {
    import_job *job;            /* an ImportCertificates request, or */
    import_write_fn write;      /* another write (import_queue_submit_write) */
    void *write_arg;
    size_t certs;
    import_done_fn done;
    void *arg;
    clm_err err; /* the outcome, once known */
    bool failed; /* left out of the group's next attempt */
    char message[512];
    struct queued_import *next;
} queued_import;

struct import_queue {
    store *store;
    size_t max_certs_per_txn;
    size_t max_queued_certs;
    pthread_mutex_t lock;
    pthread_cond_t work; /* the writer: something queued, or stopping */
    pthread_cond_t room; /* submitters: the queue shrank */
    queued_import *head, **tailp;
    size_t queued_certs;
    size_t queued_requests;
    bool stopping;
    pthread_t thread;
    queued_import **items; /* the writer's group, max_certs_per_txn + 1 */
    bool release_due;      /* the writer: a large group committed since the last release */
};

/* The requests of one shared transaction. */
typedef struct group {
    queued_import **items;
    size_t n;
    size_t culprit; /* the request whose apply failed in the last attempt */
} group;

static clm_err group_txn(store_txn *txn, void *arg)
{
    group *g = arg;

    g->culprit = NO_CULPRIT; /* store_update may run this again after growing the map */
    for (size_t i = 0; i < g->n; i++) {
        clm_err err;

        if (g->items[i]->failed)
            continue;
        err = g->items[i]->job ? inventory_import_apply(txn, g->items[i]->job)
                               : g->items[i]->write(txn, g->items[i]->write_arg);
        if (err != CLM_OK) {
            g->culprit = i;
            return err;
        }
    }
    return CLM_OK;
}

static void set_outcome(queued_import *q, clm_err err, const char *message)
{
    q->err = err;
    q->failed = err != CLM_OK;
    snprintf(q->message, sizeof(q->message), "%s",
             err == CLM_OK ? "" : (message && message[0] ? message : clm_strerror(err)));
}

/*
 * Commit the group; a request that fails is taken out and the rest are written again
 * (its writes shared the aborted transaction). A failure outside every request (begin,
 * commit) fails all that are left.
 */
static void group_commit(store *st, group *g)
{
    for (;;) {
        size_t left = 0;
        clm_err err;

        for (size_t i = 0; i < g->n; i++)
            left += !g->items[i]->failed;
        if (left == 0)
            return;
        clm_error_clear();
        err = store_update(st, group_txn, g);
        if (err == CLM_OK) {
            for (size_t i = 0; i < g->n; i++)
                if (!g->items[i]->failed)
                    set_outcome(g->items[i], CLM_OK, NULL);
            return;
        }
        if (g->culprit == NO_CULPRIT) {
            for (size_t i = 0; i < g->n; i++)
                if (!g->items[i]->failed)
                    set_outcome(g->items[i], err, clm_error_message());
            return;
        }
        set_outcome(g->items[g->culprit], err, clm_error_message());
        if (left > 1)
            CLM_LOG_INFO("inventory.import_group_retry", "requests", CLM_I64(left - 1), "error",
                         clm_strerror(err));
    }
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* With q->lock held and the queue empty: wait up to RELEASE_IDLE_SECONDS for work; if
 * none came, give LMDB's kept page buffers and the freed heap back. Open transactions
 * (a long listing) put it off to the next quiet second. */
static void release_when_idle(import_queue *q)
{
    struct timespec until;
    clm_err err;

    clock_gettime(CLOCK_MONOTONIC, &until); /* q->work waits on CLOCK_MONOTONIC */
    until.tv_sec += RELEASE_IDLE_SECONDS;
    while (q->head == NULL && !q->stopping)
        if (pthread_cond_timedwait(&q->work, &q->lock, &until) == ETIMEDOUT)
            break;
    if (q->head != NULL || q->stopping)
        return;
    pthread_mutex_unlock(&q->lock);
    err = store_release_memory(q->store, 0);
    if (err == CLM_OK)
        malloc_trim(0);
    else if (err == CLM_ERR_BUSY)
        clm_error_clear();
    else
        CLM_LOG_ERROR("import_release_memory_failed", "error", clm_error_message());
    pthread_mutex_lock(&q->lock);
    if (err != CLM_ERR_BUSY)
        q->release_due = false;
}

static void *writer_main(void *arg)
{
    import_queue *q = arg;
    size_t want = 0;          /* requests worth waiting for: queued + just answered */
    int64_t linger_until = 0; /* CLOCK_MONOTONIC ns; 0: no waiting */

    for (;;) {
        group g = {q->items, 0, NO_CULPRIT};
        size_t certs = 0;
        int64_t started;

        pthread_mutex_lock(&q->lock);
        while (q->head == NULL && !q->stopping) {
            if (q->release_due)
                release_when_idle(q);
            else
                pthread_cond_wait(&q->work, &q->lock);
        }
        if (q->head == NULL) {
            pthread_mutex_unlock(&q->lock);
            break;
        }
        /* With several clients, the ones just answered send their next request within
         * about a parse; without waiting, the writer would commit the few queued
         * meanwhile and make them queue behind that whole commit. So wait for them, a
         * little (an eighth of the last commit, at most 25 ms), to share this one. */
        if (linger_until > 0) {
            struct timespec until = {(time_t)(linger_until / 1000000000),
                                     (long)(linger_until % 1000000000)};
            while (q->queued_requests < want && q->queued_certs < q->max_certs_per_txn &&
                   !q->stopping)
                if (pthread_cond_timedwait(&q->work, &q->lock, &until) == ETIMEDOUT)
                    break;
        }
        /* Arrival order: the first request, then as many as fit. Each holds at least one
         * certificate, so a group has at most max_certs_per_txn + 1 requests. */
        while (q->head != NULL && (g.n == 0 || certs + q->head->certs <= q->max_certs_per_txn)) {
            queued_import *r = q->head;
            q->head = r->next;
            certs += r->certs;
            g.items[g.n++] = r;
        }
        if (q->head == NULL)
            q->tailp = &q->head;
        q->queued_certs -= certs;
        q->queued_requests -= g.n;
        pthread_cond_broadcast(&q->room);
        pthread_mutex_unlock(&q->lock);

        started = monotonic_ns();
        group_commit(q->store, &g);
        if (certs >= RELEASE_AFTER_CERTS)
            q->release_due = true;
        for (size_t i = 0; i < g.n; i++) {
            queued_import *r = g.items[i];
            r->done(r->arg, r->err, r->message);
            inventory_import_job_free(r->job);
            free(r);
        }
        /* A single request had no company: a lone client never waits. */
        linger_until = 0;
        if (g.n > 1) {
            int64_t now = monotonic_ns(), linger = (now - started) / 8;
            pthread_mutex_lock(&q->lock);
            want = q->queued_requests + g.n;
            pthread_mutex_unlock(&q->lock);
            linger_until = now + (linger < LINGER_MAX_NS ? linger : LINGER_MAX_NS);
        }
    }
    return NULL;
}

clm_err import_queue_new(store *st, size_t max_certs_per_txn, import_queue **out)
{
    import_queue *q = calloc(1, sizeof(*q));

    *out = NULL;
    if (q == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "import queue: out of memory");
    q->store = st;
    q->max_certs_per_txn =
        max_certs_per_txn ? max_certs_per_txn : IMPORT_QUEUE_DEFAULT_CERTS_PER_TXN;
    q->max_queued_certs = q->max_certs_per_txn;
    q->tailp = &q->head;
    q->items = calloc(q->max_certs_per_txn + 1, sizeof(*q->items));
    if (q->items == NULL) {
        free(q);
        return clm_fail(CLM_ERR_NO_MEMORY, "import queue: out of memory");
    }
    pthread_condattr_t attr;
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->work, &attr);
    pthread_condattr_destroy(&attr);
    pthread_cond_init(&q->room, NULL);
    if (pthread_create(&q->thread, NULL, writer_main, q) != 0) {
        pthread_mutex_destroy(&q->lock);
        pthread_cond_destroy(&q->work);
        pthread_cond_destroy(&q->room);
        free(q->items);
        free(q);
        return clm_fail(CLM_ERR_INTERNAL, "import queue: cannot start the writer thread");
    }
    *out = q;
    return CLM_OK;
}

void import_queue_free(import_queue *q)
{
    if (q == NULL)
        return;
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->lock);
    pthread_join(q->thread, NULL);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->room);
    free(q->items);
    free(q);
}

/* Queue r (certs set) for the writer, waiting while the queue is full. */
static void enqueue(import_queue *q, queued_import *r)
{
    pthread_mutex_lock(&q->lock);
    while (q->queued_certs > q->max_queued_certs && !q->stopping)
        pthread_cond_wait(&q->room, &q->lock);
    *q->tailp = r;
    q->tailp = &r->next;
    q->queued_certs += r->certs;
    q->queued_requests++;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->lock);
}

clm_err import_queue_submit_write(import_queue *q, import_write_fn write, void *write_arg,
                                  import_done_fn done, void *arg)
{
    queued_import *r;

    if (write == NULL || done == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "import queue: a write and done are required");
    if ((r = calloc(1, sizeof(*r))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "import queue: out of memory");
    r->write = write;
    r->write_arg = write_arg;
    r->certs = 1;
    r->done = done;
    r->arg = arg;
    enqueue(q, r);
    return CLM_OK;
}

clm_err import_queue_submit(import_queue *q, const import_context *ctx,
                            const Clm__V1__ImportCertificatesRequest *req,
                            Clm__V1__ImportCertificatesResponse *resp, import_done_fn done,
                            void *arg)
{
    queued_import *r;
    import_job *job;
    clm_err err = inventory_import_prepare(ctx, req, resp, &job);

    if (err != CLM_OK)
        return err;
    if (inventory_import_job_certs(job) == 0) {
        /* Nothing parsed: nothing to write (the server audits the call itself). */
        inventory_import_job_free(job);
        done(arg, CLM_OK, "");
        return CLM_OK;
    }
    if ((r = calloc(1, sizeof(*r))) == NULL) {
        inventory_import_job_free(job);
        return clm_fail(CLM_ERR_NO_MEMORY, "import queue: out of memory");
    }
    r->job = job;
    r->certs = inventory_import_job_certs(job);
    r->done = done;
    r->arg = arg;
    enqueue(q, r);
    return CLM_OK;
}
