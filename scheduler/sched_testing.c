/* scheduler/sched_testing.c: helpers of the engine tests (see sched_testing.h). */
#include "scheduler/sched_testing.h"

#include "lib/base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double max_jitter(void *arg)
{
    (void)arg;
    return 1.0;
}

static kind_state *state_of(void *arg)
{
    return *(kind_state **)arg;
}

static kind_state *current;

static sched_outcome run_ok(sched_ctx *ctx, void *arg)
{
    kind_state *ks = state_of(arg);
    uint64_t id = sched_ctx_run_id(ctx);

    atomic_fetch_add(&ks->calls, 1);
    if (id < 512)
        atomic_fetch_add(&ks->per_run[id], 1);
    atomic_fetch_add(&ks->succeeded, 1);
    return SCHED_OUTCOME_OK;
}

static sched_outcome run_flaky(sched_ctx *ctx, void *arg)
{
    kind_state *ks = state_of(arg);

    atomic_fetch_add(&ks->calls, 1);
    if (ks->ok_at_attempt && (int)sched_ctx_attempt(ctx) >= ks->ok_at_attempt)
        return SCHED_OUTCOME_OK;
    sched_ctx_error(ctx, "flaky failure at attempt %u", sched_ctx_attempt(ctx));
    return SCHED_OUTCOME_RETRY;
}

static sched_outcome run_batch(sched_ctx *ctx, void *arg)
{
    kind_state *ks = state_of(arg);
    uint32_t index, size;
    int n = atomic_fetch_add(&ks->n_batches, 1);

    atomic_fetch_add(&ks->calls, 1);
    sched_ctx_batch(ctx, &index, &size);
    if (n < 16)
        ks->batches_seen[n] = index;
    sched_ctx_progress(ctx, (index + 1) * size, (uint64_t)(ks->last_batch + 1) * size, "batch %u",
                       index);
    return (int)index < ks->last_batch ? SCHED_OUTCOME_MORE : SCHED_OUTCOME_OK;
}

static sched_outcome run_gate(sched_ctx *ctx, void *arg)
{
    kind_state *ks = state_of(arg);
    sched_outcome out = SCHED_OUTCOME_OK;

    atomic_fetch_add(&ks->calls, 1);
    pthread_mutex_lock(&ks->lock);
    ks->entered++;
    ks->inside++;
    pthread_cond_broadcast(&ks->cond);
    while (ks->release == 0) {
        struct timespec ts;

        if (sched_ctx_check(ctx) != CLM_OK) {
            sched_ctx_error(ctx, "stopped: %s", clm_error_message());
            out = ks->on_cancel;
            break;
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 2000000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&ks->cond, &ks->lock, &ts);
    }
    if (out == SCHED_OUTCOME_OK)
        ks->release--;
    ks->inside--;
    pthread_cond_broadcast(&ks->cond);
    pthread_mutex_unlock(&ks->lock);
    if (out == SCHED_OUTCOME_OK)
        atomic_fetch_add(&ks->succeeded, 1);
    return out;
}

/* Reports progress 1, then waits for step 1; reports 2 and 3, waits for step 2; done. */
static sched_outcome run_progress(sched_ctx *ctx, void *arg)
{
    kind_state *ks = state_of(arg);

    atomic_fetch_add(&ks->calls, 1);
    for (int step = 1; step <= 2; step++) {
        if (step == 1) {
            sched_ctx_progress(ctx, 1, 10, "one");
        } else {
            sched_ctx_progress(ctx, 2, 10, "two");
            sched_ctx_progress(ctx, 3, 10, "three");
        }
        pthread_mutex_lock(&ks->lock);
        ks->step_waiting = step;
        pthread_cond_broadcast(&ks->cond);
        while (ks->step < step)
            pthread_cond_wait(&ks->cond, &ks->lock);
        pthread_mutex_unlock(&ks->lock);
    }
    return SCHED_OUTCOME_OK;
}

const sched_kind test_kinds[5] = {
    {.name = "ok", .run = run_ok, .arg = &current},
    {.name = "flaky",
     .run = run_flaky,
     .arg = &current,
     .retry = {.max_attempts = 3, .base_backoff_ms = 1000, .max_backoff_ms = 3000}},
    {.name = "batch",
     .run = run_batch,
     .arg = &current,
     .batch_size = 10,
     .batch_interval_minutes = 5},
    {.name = "gate", .run = run_gate, .arg = &current, .max_concurrency = 2, .deadline_ms = 600000},
    {.name = "progress", .run = run_progress, .arg = &current},
};

void harness_engine(harness *h, const sched_options *options)
{
    sched_options o = SCHED_OPTIONS_INIT;
    clm_err err;

    if (options != NULL) {
        o = *options;
    } else {
        o.manual = true;
        o.workers = 4;
        o.prune_interval_ms = 3600000;
    }
    if (o.random == NULL)
        o.random = max_jitter;
    err = sched_new(h->st, &h->clock.clock, &o, &h->s);
    for (size_t i = 0; err == CLM_OK && i < 5; i++)
        err = sched_kind_register(h->s, &test_kinds[i]);
    if (err == CLM_OK)
        err = sched_start(h->s);
    if (err != CLM_OK) {
        fprintf(stderr, "harness: %s: %s\n", clm_strerror(err), clm_error_message());
        abort();
    }
}

void harness_engine_free(harness *h)
{
    sched_free(h->s);
    h->s = NULL;
}

harness *harness_new(const char *name, const sched_options *options)
{
    harness *h = calloc(1, sizeof(*h));
    const char *base = getenv("TEST_TMPDIR");
    const store_table *const *tables;
    size_t n;

    snprintf(h->dir, sizeof(h->dir), "%s/%s-XXXXXX", base ? base : "/tmp", name);
    if (mkdtemp(h->dir) == NULL)
        abort();
    tables = sched_tables(&n);
    if (store_open(h->dir, NULL, tables, n, &h->st) != CLM_OK) {
        fprintf(stderr, "store_open: %s\n", clm_error_message());
        abort();
    }
    clm_clock_fake_init(&h->clock, T0);
    pthread_mutex_init(&h->ks.lock, NULL);
    pthread_cond_init(&h->ks.cond, NULL);
    h->ks.on_cancel = SCHED_OUTCOME_FAIL;
    current = &h->ks;
    harness_engine(h, options);
    return h;
}

void harness_free(harness *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->ks.lock);
    h->ks.release = 1000000; /* nothing may stay blocked */
    h->ks.step = 100;
    pthread_cond_broadcast(&h->ks.cond);
    pthread_mutex_unlock(&h->ks.lock);
    harness_engine_free(h);
    store_close(h->st);
    pthread_mutex_destroy(&h->ks.lock);
    pthread_cond_destroy(&h->ks.cond);
    free(h);
}

void tick_and_settle(harness *h)
{
    if (sched_tick(h->s, NULL) != CLM_OK)
        fprintf(stderr, "tick: %s\n", clm_error_message());
    if (sched_wait_idle(h->s, 10000) != CLM_OK)
        fprintf(stderr, "wait_idle: %s\n", clm_error_message());
    if (sched_tick(h->s, NULL) != CLM_OK)
        fprintf(stderr, "tick: %s\n", clm_error_message());
}

sched_run *run_read(harness *h, uint64_t id)
{
    sched_run *r = NULL;

    if (sched_run_get(h->s, id, &r) != CLM_OK)
        return NULL;
    return r;
}

const char *run_state(harness *h, uint64_t id)
{
    static char buf[8][256];
    static int n;
    char *b = buf[n++ % 8];
    sched_run *r = run_read(h, id);

    if (r == NULL)
        return "missing";
    snprintf(b, 256, "%s", r->state);
    sched_run_free(r);
    return b;
}

uint64_t run_now(harness *h, const char *kind)
{
    sched_run_spec spec = {.kind = kind};
    uint64_t id = 0;

    if (sched_run_now(h->s, &spec, NULL, &id) != CLM_OK)
        fprintf(stderr, "run_now: %s\n", clm_error_message());
    return id;
}

static void wait_cond(kind_state *ks, int *field, int value)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    pthread_mutex_lock(&ks->lock);
    while (*field < value)
        if (pthread_cond_timedwait(&ks->cond, &ks->lock, &ts) == ETIMEDOUT) {
            fprintf(stderr, "timed out waiting for %d (have %d)\n", value, *field);
            break;
        }
    pthread_mutex_unlock(&ks->lock);
}

void gate_wait_inside(kind_state *ks, int n)
{
    wait_cond(ks, &ks->inside, n);
}

void gate_release(kind_state *ks, int n)
{
    pthread_mutex_lock(&ks->lock);
    ks->release += n;
    pthread_cond_broadcast(&ks->cond);
    pthread_mutex_unlock(&ks->lock);
}

void progress_wait(kind_state *ks, int step)
{
    wait_cond(ks, &ks->step_waiting, step);
}

void progress_go(kind_state *ks)
{
    pthread_mutex_lock(&ks->lock);
    ks->step++;
    pthread_cond_broadcast(&ks->cond);
    pthread_mutex_unlock(&ks->lock);
}

size_t count_runs(harness *h, const char *state)
{
    sched_run_filter f = {.state = state};
    sched_run_page page;
    char token[SCHED_PAGE_TOKEN_MAX] = "";
    size_t n = 0;

    do {
        if (sched_run_list(h->s, &f, token, 1000, &page) != CLM_OK) {
            fprintf(stderr, "run_list: %s\n", clm_error_message());
            return (size_t)-1;
        }
        n += page.n;
        snprintf(token, sizeof(token), "%s", page.next_page_token);
        sched_run_page_free(&page);
    } while (token[0]);
    return n;
}
