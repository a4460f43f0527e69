/*
 * scheduler/sched_engine.c: the engine's life (new, kinds, start, stop, free), the worker
 * and dispatcher threads, run contexts, and change notification. The dispatcher pass
 * itself is in sched_dispatch.c, the host's API in sched_api.c.
 */
#include "lib/base/log.h"
#include "scheduler/sched_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define MS (INT64_C(1000000))

/* ---- options, kinds ----------------------------------------------------------------- */

static clm_err resolve_options(sched_options *o)
{
    if (o->workers == 0)
        o->workers = 4;
    if (o->queue_depth > 100000)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "queue_depth: %u is more than 100000",
                        o->queue_depth);
    if (o->workers > 1024)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "workers: %u is more than 1024", o->workers);
    if (o->lease_ms == 0)
        o->lease_ms = 30000;
    if (o->default_deadline_ms == 0)
        o->default_deadline_ms = 3600000;
    if (o->misfire_grace_ms == 0)
        o->misfire_grace_ms = 60000;
    if (o->progress_interval_ms == 0)
        o->progress_interval_ms = 250;
    if (o->retain_count == 0)
        o->retain_count = 1000;
    if (o->retain_age_ms == 0)
        o->retain_age_ms = INT64_C(30) * 86400 * 1000;
    if (o->prune_interval_ms == 0)
        o->prune_interval_ms = 60000;
    if (o->stop_grace_ms == 0)
        o->stop_grace_ms = 10000;
    if (o->fire_batch == 0)
        o->fire_batch = 1000;
    if (o->fire_ahead_ms == 0)
        o->fire_ahead_ms = 500;
    if (o->fire_ahead_ms < 0 || o->fire_ahead_ms > 60000)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "fire_ahead_ms: %lld is not in 0..60000",
                        (long long)o->fire_ahead_ms);
    if (o->lease_ms < 30 || o->default_deadline_ms < 0 || o->misfire_grace_ms < 0 ||
        o->progress_interval_ms < 0 || o->retain_age_ms < 0 || o->prune_interval_ms < 0 ||
        o->stop_grace_ms < 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "options: lease_ms must be at least 30 and durations not negative");
    return CLM_OK;
}

clm_err sched_new(store *st, const clm_clock *clock, const sched_options *options, sched **out)
{
    sched *s = calloc(1, sizeof(*s));
    pthread_condattr_t attr;
    char host[128] = "localhost", id[256];
    clm_err err;

    *out = NULL;
    if (s == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "scheduler: out of memory");
    if (options != NULL)
        s->opt = *options;
    if ((err = resolve_options(&s->opt)) != CLM_OK) {
        free(s);
        return err;
    }
    s->st = st;
    s->clock = clock ? clock : clm_clock_system();
    if (getrandom(&s->rng, sizeof(s->rng), 0) != (ssize_t)sizeof(s->rng))
        s->rng = (uint64_t)clm_clock_monotonic_ns(clm_clock_system()) ^ (uint64_t)getpid();
    gethostname(host, sizeof(host) - 1);
    if (options && options->instance_id)
        snprintf(id, sizeof(id), "%s", options->instance_id);
    else
        snprintf(id, sizeof(id), "%s:%d:%08x", host, (int)getpid(), (unsigned)(s->rng >> 32));
    s->instance_id = strdup(id);
    s->opt.instance_id = s->instance_id;
    if (s->instance_id == NULL) {
        free(s);
        return clm_fail(CLM_ERR_NO_MEMORY, "scheduler: out of memory");
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->pass_lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake_cond, &attr);
    pthread_cond_init(&s->work_cond, &attr);
    pthread_cond_init(&s->idle_cond, &attr);
    pthread_cond_init(&s->change_cond, &attr);
    pthread_condattr_destroy(&attr);
    s->reclaim_pending = s->opt.reclaim_at_start;
    *out = s;
    return CLM_OK;
}

static bool kind_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n > SCHED_KIND_NAME_MAX || name[0] < 'a' || name[0] > 'z')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '_' || name[i] == '-'))
            return false;
    return true;
}

sched_kind_entry *sched_kind_entry_find(const sched *s, const char *name)
{
    for (size_t i = 0; name != NULL && i < s->n_kinds; i++)
        if (strcmp(s->kinds[i].name, name) == 0)
            return &s->kinds[i];
    return NULL;
}

const sched_kind *sched_kind_find(const sched *s, const char *name)
{
    sched_kind_entry *k = sched_kind_entry_find(s, name);

    return k ? &k->kind : NULL;
}

clm_err sched_kind_register(sched *s, const sched_kind *kind)
{
    sched_kind_entry *k, *grown;
    const sched_retry *r = &kind->retry;

    if (!kind_name_ok(kind->name))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "kind: name \"%.80s\" must be [a-z][a-z0-9_-]*, at most %d bytes",
                        kind->name ? kind->name : "", SCHED_KIND_NAME_MAX);
    if (kind->run == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "kind %s: run is missing", kind->name);
    if (kind->deadline_ms < 0 || r->base_backoff_ms < 0 || r->max_backoff_ms < 0 ||
        kind->retain_age_ms < 0 || kind->misfire >= SCHED_MISFIRE_MAX ||
        kind->batch_interval_minutes > SCHED_BATCH_INTERVAL_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "kind %s: negative duration, bad misfire or batch interval", kind->name);
    pthread_mutex_lock(&s->lock);
    if (s->started) {
        pthread_mutex_unlock(&s->lock);
        return clm_fail(CLM_ERR_CONFLICT, "kind %s: register kinds before sched_start()",
                        kind->name);
    }
    pthread_mutex_unlock(&s->lock);
    if (sched_kind_entry_find(s, kind->name) != NULL)
        return clm_fail(CLM_ERR_ALREADY_EXISTS, "kind %s: registered twice", kind->name);
    grown = realloc(s->kinds, (s->n_kinds + 1) * sizeof(*grown));
    if (grown == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "kind %s: out of memory", kind->name);
    for (size_t i = 0; i < s->n_kinds; i++) /* the names moved with the array */
        grown[i].kind.name = grown[i].name;
    s->kinds = grown;
    k = &s->kinds[s->n_kinds++];
    memset(k, 0, sizeof(*k));
    k->kind = *kind;
    snprintf(k->name, sizeof(k->name), "%s", kind->name);
    k->kind.name = k->name;
    k->limit = kind->max_concurrency ? kind->max_concurrency : s->opt.workers;
    k->max_attempts = r->max_attempts ? r->max_attempts : 3;
    k->base_backoff_ns = (r->base_backoff_ms ? r->base_backoff_ms : 1000) * MS;
    k->max_backoff_ns = (r->max_backoff_ms ? r->max_backoff_ms : 300000) * MS;
    k->deadline_ns = (kind->deadline_ms ? kind->deadline_ms : s->opt.default_deadline_ms) * MS;
    k->misfire = kind->misfire == SCHED_MISFIRE_SKIP ? SCHED_MISFIRE_SKIP : SCHED_MISFIRE_RUN_ONCE;
    k->retain_count = kind->retain_count ? kind->retain_count : s->opt.retain_count;
    k->retain_age_ns = (kind->retain_age_ms ? kind->retain_age_ms : s->opt.retain_age_ms) * MS;
    return CLM_OK;
}

void sched_watch_set(sched *s, sched_watch_fn fn, void *arg)
{
    s->watch = fn;
    s->watch_arg = arg;
}

const char *sched_instance_id(const sched *s)
{
    return s->instance_id;
}

/* ---- randomness, backoff ------------------------------------------------------------ */

double sched_random(sched *s)
{
    uint64_t z;

    if (s->opt.random != NULL) {
        double r = s->opt.random(s->opt.random_arg);

        return r < 0 ? 0 : r > 1 ? 1 : r;
    }
    z = (s->rng += UINT64_C(0x9e3779b97f4a7c15)); /* splitmix64 */
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    z ^= z >> 31;
    return (double)(z >> 11) / (double)(UINT64_C(1) << 53);
}

int64_t sched_backoff_ns(sched *s, const sched_kind_entry *kind, uint32_t attempt)
{
    int64_t cap = kind->base_backoff_ns;

    for (uint32_t i = 1; i < attempt && cap < kind->max_backoff_ns; i++)
        cap *= 2;
    if (cap > kind->max_backoff_ns)
        cap = kind->max_backoff_ns;
    return (int64_t)((double)cap * sched_random(s));
}

/* ---- change notification ------------------------------------------------------------- */

clm_err sched_changes_add(sched *s, sched_changes *ch, const sched_run *run)
{
    size_t len;

    ch->any = true;
    if (s->watch == NULL)
        return CLM_OK;
    if (ch->n == ch->cap) {
        size_t cap = ch->cap ? ch->cap * 2 : 16;
        unsigned char **p = realloc(ch->packed, cap * sizeof(*p));
        size_t *l;

        if (p == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "scheduler: out of memory");
        ch->packed = p;
        l = realloc(ch->len, cap * sizeof(*l));
        if (l == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "scheduler: out of memory");
        ch->len = l;
        ch->cap = cap;
    }
    len = protobuf_c_message_get_packed_size(&run->base);
    ch->packed[ch->n] = malloc(len ? len : 1);
    if (ch->packed[ch->n] == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "scheduler: out of memory");
    protobuf_c_message_pack(&run->base, ch->packed[ch->n]);
    ch->len[ch->n++] = len;
    return CLM_OK;
}

void sched_changes_reset(sched_changes *ch)
{
    for (size_t i = 0; i < ch->n; i++)
        free(ch->packed[i]);
    ch->n = 0;
    ch->any = false;
}

void sched_changes_publish(sched *s, sched_changes *ch)
{
    if (ch->any) {
        pthread_mutex_lock(&s->lock);
        s->generation++;
        pthread_cond_broadcast(&s->change_cond);
        pthread_mutex_unlock(&s->lock);
    }
    for (size_t i = 0; i < ch->n && s->watch != NULL; i++) {
        sched_run *run = clm__store__v1__job_run__unpack(NULL, ch->len[i], ch->packed[i]);

        if (run != NULL) {
            s->watch(s->watch_arg, run);
            sched_run_free(run);
        }
    }
    sched_changes_reset(ch);
    free(ch->packed);
    free(ch->len);
    memset(ch, 0, sizeof(*ch));
}

uint64_t sched_generation(sched *s)
{
    uint64_t g;

    pthread_mutex_lock(&s->lock);
    g = s->generation;
    pthread_mutex_unlock(&s->lock);
    return g;
}

static void deadline_after(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

uint64_t sched_wait_change(sched *s, uint64_t seen, int64_t timeout_ms)
{
    struct timespec ts;
    uint64_t g;

    deadline_after(&ts, timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&s->lock);
    while (timeout_ms > 0 && s->generation <= seen && !s->stopped)
        if (pthread_cond_timedwait(&s->change_cond, &s->lock, &ts) == ETIMEDOUT)
            break;
    g = s->generation;
    pthread_mutex_unlock(&s->lock);
    return g;
}

/* ---- threads ------------------------------------------------------------------------- */

void sched_job_free(struct sched_ctx *job)
{
    if (job != NULL) {
        free(job->params);
        free(job);
    }
}

static void *worker_main(void *arg)
{
    sched *s = arg;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        struct sched_ctx *job;
        sched_outcome outcome = SCHED_OUTCOME_RETRY;
        bool skip;

        while (s->queue_head == NULL && !s->workers_exit)
            pthread_cond_wait(&s->work_cond, &s->lock);
        if (s->queue_head == NULL)
            break;
        job = s->queue_head;
        s->queue_head = job->queue_next;
        if (s->queue_head == NULL)
            s->queue_tail = NULL;
        skip = s->stopping; /* leased but not started: released at once */
        if (skip)
            atomic_store(&job->shutdown, true);
        job->started = !skip;
        s->executing++;
        pthread_mutex_unlock(&s->lock);
        if (!skip) {
            outcome = job->kind->kind.run(job, job->kind->kind.arg);
            if ((unsigned)outcome >= SCHED_OUTCOME_MAX) {
                snprintf(job->error, sizeof(job->error), "run function returned %d", (int)outcome);
                outcome = SCHED_OUTCOME_FAIL;
            }
        }
        pthread_mutex_lock(&s->lock);
        job->outcome = outcome;
        job->returned = true;
        job->returned_ns = clm_clock_now_ns(s->clock);
        s->executing--;
        s->busy--;
        job->kind->active--;
        s->wake_flag = true;
        pthread_cond_signal(&s->wake_cond);
        pthread_cond_broadcast(&s->idle_cond);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void *dispatcher_main(void *arg)
{
    sched *s = arg;
    int64_t next = 0;

    pthread_mutex_lock(&s->lock);
    while (!s->dispatcher_exit) {
        int64_t wait_ns;
        struct timespec ts;

        s->wake_flag = false;
        pthread_mutex_unlock(&s->lock);
        if (sched_pass(s, &next) != CLM_OK) {
            CLM_LOG_ERROR("scheduler_pass_failed", "error", clm_error_message());
            next = clm_clock_now_ns(s->clock) + 1000 * MS;
        }
        pthread_mutex_lock(&s->lock);
        if (s->wake_flag || s->dispatcher_exit)
            continue;
        wait_ns = next - clm_clock_now_ns(s->clock);
        if (wait_ns <= 0)
            continue;
        if (wait_ns > 60000 * MS) /* re-read the clock now and then (it can be set) */
            wait_ns = 60000 * MS;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)(wait_ns / 1000000000);
        ts.tv_nsec += (long)(wait_ns % 1000000000);
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (!s->wake_flag && !s->dispatcher_exit)
            if (pthread_cond_timedwait(&s->wake_cond, &s->lock, &ts) == ETIMEDOUT)
                break;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

clm_err sched_start(sched *s)
{
    pthread_mutex_lock(&s->lock);
    if (s->started) {
        pthread_mutex_unlock(&s->lock);
        return clm_fail(CLM_ERR_CONFLICT, "scheduler: started twice");
    }
    s->started = true;
    pthread_mutex_unlock(&s->lock);
    s->workers = calloc(s->opt.workers, sizeof(*s->workers));
    if (s->workers == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "scheduler: out of memory");
    for (uint32_t i = 0; i < s->opt.workers; i++) {
        if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0)
            return clm_fail(CLM_ERR_INTERNAL, "scheduler: cannot create worker thread %u", i);
        s->n_workers++;
    }
    if (!s->opt.manual) {
        if (pthread_create(&s->dispatcher, NULL, dispatcher_main, s) != 0)
            return clm_fail(CLM_ERR_INTERNAL, "scheduler: cannot create the dispatcher thread");
        s->has_dispatcher = true;
    }
    CLM_LOG_INFO("scheduler_started", "instance", s->instance_id, "workers",
                 CLM_I64(s->opt.workers), "kinds", CLM_I64(s->n_kinds));
    return CLM_OK;
}

void sched_wake(sched *s)
{
    pthread_mutex_lock(&s->lock);
    s->wake_flag = true;
    pthread_cond_signal(&s->wake_cond);
    pthread_mutex_unlock(&s->lock);
}

clm_err sched_wait_idle(sched *s, int64_t timeout_ms)
{
    struct timespec ts;
    clm_err err = CLM_OK;

    deadline_after(&ts, timeout_ms);
    pthread_mutex_lock(&s->lock);
    while (s->busy > 0)
        if (pthread_cond_timedwait(&s->idle_cond, &s->lock, &ts) == ETIMEDOUT) {
            err = clm_fail(CLM_ERR_TIMEOUT, "scheduler: %u runs still busy after %lld ms", s->busy,
                           (long long)timeout_ms);
            break;
        }
    pthread_mutex_unlock(&s->lock);
    return err;
}

void sched_stop(sched *s)
{
    struct timespec ts;
    bool done;

    pthread_mutex_lock(&s->lock);
    if (!s->started || s->stopped || s->stopping) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    s->stopping = true;
    s->wake_flag = true;
    pthread_cond_signal(&s->wake_cond);
    deadline_after(&ts, s->opt.stop_grace_ms);
    while (s->busy > 0)
        if (pthread_cond_timedwait(&s->idle_cond, &s->lock, &ts) == ETIMEDOUT)
            break;
    if (s->busy > 0) {
        CLM_LOG_WARN("scheduler_stop_cancelling", "running", CLM_I64(s->busy));
        for (struct sched_ctx *j = s->jobs; j != NULL; j = j->next)
            atomic_store(&j->shutdown, true);
    }
    while (s->busy > 0)
        pthread_cond_wait(&s->idle_cond, &s->lock);
    s->dispatcher_exit = true;
    pthread_cond_signal(&s->wake_cond);
    pthread_mutex_unlock(&s->lock);
    if (s->has_dispatcher)
        pthread_join(s->dispatcher, NULL);
    s->has_dispatcher = false;
    /* Store the last results (released or final) on this thread. */
    for (int i = 0; i < 5; i++) {
        if (sched_pass(s, NULL) != CLM_OK)
            CLM_LOG_ERROR("scheduler_stop_store_failed", "error", clm_error_message());
        pthread_mutex_lock(&s->lock);
        done = s->jobs == NULL;
        pthread_mutex_unlock(&s->lock);
        if (done)
            break;
    }
    pthread_mutex_lock(&s->lock);
    s->workers_exit = true;
    pthread_cond_broadcast(&s->work_cond);
    pthread_mutex_unlock(&s->lock);
    for (uint32_t i = 0; i < s->n_workers; i++)
        pthread_join(s->workers[i], NULL);
    s->n_workers = 0;
    pthread_mutex_lock(&s->lock);
    s->stopped = true;
    pthread_cond_broadcast(&s->change_cond);
    pthread_mutex_unlock(&s->lock);
    CLM_LOG_INFO("scheduler_stopped", "instance", s->instance_id);
}

void sched_free(sched *s)
{
    if (s == NULL)
        return;
    sched_stop(s);
    for (struct sched_ctx *j = s->jobs, *next; j != NULL; j = next) {
        next = j->next;
        sched_job_free(j); /* results that could not be stored: their leases expire */
    }
    free(s->workers);
    free(s->kinds);
    free(s->instance_id);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->pass_lock);
    pthread_cond_destroy(&s->wake_cond);
    pthread_cond_destroy(&s->work_cond);
    pthread_cond_destroy(&s->idle_cond);
    pthread_cond_destroy(&s->change_cond);
    free(s);
}

void sched_stats_get(sched *s, sched_stats *stats)
{
    pthread_mutex_lock(&s->lock);
    *stats = s->stats;
    stats->running = s->executing;
    pthread_mutex_unlock(&s->lock);
}

/* ---- the run context ----------------------------------------------------------------- */

const char *sched_ctx_params(const sched_ctx *ctx, size_t *len)
{
    if (len != NULL)
        *len = ctx->params_len;
    return ctx->params;
}

uint64_t sched_ctx_run_id(const sched_ctx *ctx)
{
    return ctx->run_id;
}

uint64_t sched_ctx_schedule_id(const sched_ctx *ctx)
{
    return ctx->schedule_id;
}

const char *sched_ctx_kind(const sched_ctx *ctx)
{
    return ctx->kind->name;
}

uint32_t sched_ctx_attempt(const sched_ctx *ctx)
{
    return ctx->attempt;
}

uint32_t sched_ctx_attempts_total(const sched_ctx *ctx)
{
    return ctx->attempts_total;
}

void sched_ctx_batch(const sched_ctx *ctx, uint32_t *index, uint32_t *size)
{
    *index = ctx->batch_index;
    *size = ctx->batch_size;
}

int64_t sched_ctx_scheduled_ns(const sched_ctx *ctx)
{
    return ctx->scheduled_ns;
}

int64_t sched_ctx_deadline_ns(const sched_ctx *ctx)
{
    return ctx->deadline_ns;
}

const clm_clock *sched_ctx_clock(const sched_ctx *ctx)
{
    return ctx->s->clock;
}

void sched_ctx_last_progress(const sched_ctx *ctx, uint64_t *done, uint64_t *total)
{
    *done = ctx->prior_done;
    *total = ctx->prior_total;
}

clm_err sched_ctx_check(sched_ctx *ctx)
{
    if (atomic_load(&ctx->cancel))
        return clm_fail(CLM_ERR_CANCELLED, "run %llu: cancel requested",
                        (unsigned long long)ctx->run_id);
    if (atomic_load(&ctx->shutdown))
        return clm_fail(CLM_ERR_CANCELLED, "run %llu: the scheduler is stopping",
                        (unsigned long long)ctx->run_id);
    if (atomic_load(&ctx->lost))
        return clm_fail(CLM_ERR_CANCELLED, "run %llu: the lease was lost to another owner",
                        (unsigned long long)ctx->run_id);
    if (clm_clock_now_ns(ctx->s->clock) > ctx->deadline_ns)
        return clm_fail(CLM_ERR_TIMEOUT, "run %llu: the attempt's deadline passed",
                        (unsigned long long)ctx->run_id);
    return CLM_OK;
}

void sched_ctx_progress(sched_ctx *ctx, uint64_t done, uint64_t total, const char *fmt, ...)
{
    sched *s = ctx->s;
    char message[SCHED_MESSAGE_MAX] = "";
    va_list ap;
    bool due;

    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_lock(&s->lock);
    ctx->done = done;
    ctx->total = total;
    memcpy(ctx->message, message, sizeof(message));
    ctx->has_progress = true;
    ctx->progress_dirty = true;
    ctx->progress_seq++;
    due = clm_clock_now_ns(s->clock) - ctx->progress_stored_ns >= s->opt.progress_interval_ms * MS;
    if (due) {
        s->wake_flag = true;
        pthread_cond_signal(&s->wake_cond);
    }
    pthread_mutex_unlock(&s->lock);
}

void sched_ctx_error(sched_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
    va_end(ap);
}

const char *sched_misfire_name(sched_misfire misfire)
{
    return misfire == SCHED_MISFIRE_RUN_ONCE ? "run_once"
           : misfire == SCHED_MISFIRE_SKIP   ? "skip"
                                             : "";
}

clm_err sched_misfire_parse(const char *name, sched_misfire *out)
{
    if (name == NULL || name[0] == '\0')
        *out = SCHED_MISFIRE_DEFAULT;
    else if (strcmp(name, "run_once") == 0)
        *out = SCHED_MISFIRE_RUN_ONCE;
    else if (strcmp(name, "skip") == 0)
        *out = SCHED_MISFIRE_SKIP;
    else
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "misfire: \"%.40s\" is not run_once or skip",
                        name);
    return CLM_OK;
}
