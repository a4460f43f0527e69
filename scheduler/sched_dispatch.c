/*
 * scheduler/sched_dispatch.c: one dispatcher pass. In ONE write transaction it stores the
 * results of returned run functions, renews leases and stores throttled progress of the
 * running ones, expires the leases of dead owners, leases runnable runs, fires due
 * schedules (creating their runs already leased while there is room) and prunes old
 * runs; after the commit it hands the leased runs to the workers, flushes the store and
 * notifies watchers. One transaction per pass keeps the commit count (and fsyncs) low
 * when a thousand schedules fire at once.
 *
 * Durability: the pass commits with STORE_UPDATE_NO_SYNC and flushes (store_sync) only
 * after the workers have their runs, so no run waits for the disk. A kill -9 loses
 * nothing (the commit is in the OS cache); a power cut in between can undo the last
 * pass whole: its schedules fire again and its runs are leased again at the next start,
 * which is at-least-once (scheduler.h), as if the process had died just before the pass.
 *
 * The transaction function may run twice (store map growth): it only fills the `pass`
 * outputs, which are reset at its start and applied after the commit.
 */
#include "lib/base/buf.h"
#include "lib/base/log.h"
#include "scheduler/sched_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS (INT64_C(1000000))
#define SEC (INT64_C(1000000000))
#define EXPIRE_BATCH 1000
#define PRUNE_BATCH 1000

typedef struct live_update {
    int64_t new_expiry; /* 0: unchanged */
    bool progress_written, lost, cancel;
    uint64_t seq;
} live_update;

typedef struct pass {
    sched *s;
    int64_t now;
    bool stopping, prune, reclaim;
    int64_t fire_until; /* fire slots up to this time: now, or now + fire_ahead */
    struct sched_ctx **done, **live, **leased;
    size_t n_done, n_live, n_leased;
    uint32_t free_workers0, *kind_free0; /* capacity when the pass began */
    uint32_t free_workers, *kind_free;   /* what is left (outputs) */
    /* outputs, reset at the start of the transaction function */
    live_update *upd;
    size_t cap_leased;
    sched_changes changes;
    int64_t next_wake;
    bool more;
    sched_stats delta;
} pass;

static void wake_at(pass *p, int64_t t)
{
    if (t < p->next_wake)
        p->next_wake = t < p->now ? p->now : t;
}

clm_err sched_next_fire(const char *cron, const char *zone_name, int64_t after_ns, int64_t *next_ns)
{
    const tz_zone *zone;
    cron_expr e;
    int64_t after = after_ns / SEC - (after_ns < 0 && after_ns % SEC != 0), next;
    clm_err err;

    if ((err = cron_parse(cron, &e)) != CLM_OK)
        return clm_error_context(err, "cron");
    if ((err = tz_load(zone_name && zone_name[0] ? zone_name : "UTC", &zone)) != CLM_OK)
        return clm_error_context(err, "time_zone");
    if ((err = cron_next(&e, zone, after, &next)) != CLM_OK)
        return clm_error_context(err, "cron");
    if (next > INT64_MAX / SEC)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "cron: the next fire time is out of range");
    *next_ns = next * SEC;
    return CLM_OK;
}

/* A new queued run with the next id; its strings are borrowed from spec. */
static clm_err run_record_init(store_txn *txn, const sched_new_run *spec, int64_t now, sched_run *r)
{
    clm_err err = store_seq_next(txn, &sched_runs_table, 1, &r->id);

    if (err != CLM_OK)
        return err;
    r->kind = (char *)spec->kind->name;
    r->schedule_id = spec->schedule_id;
    r->state = (char *)SCHED_STATE_QUEUED;
    /* a run fired ahead of its slot waits for it */
    r->next_attempt_unix_nanos = spec->scheduled_ns > now ? spec->scheduled_ns : now;
    r->batch_size = spec->batch_size;
    r->batch_interval_minutes = spec->batch_interval_minutes;
    r->created_unix_nanos = now;
    r->updated_unix_nanos = now;
    r->scheduled_unix_nanos = spec->scheduled_ns;
    r->misfired = spec->misfired;
    r->params.data = (uint8_t *)spec->params;
    r->params.len = spec->params_len;
    return CLM_OK;
}

static clm_err run_record_put(store_txn *txn, const sched_run *r)
{
    unsigned char key[8];

    clm_put_be64(key, r->id);
    return store_put(txn, &sched_runs_table, key, 8, &r->base, STORE_PUT_APPEND);
}

clm_err sched_run_create_in(sched *s, store_txn *txn, const sched_new_run *spec, int64_t now,
                            sched_changes *changes, uint64_t *id)
{
    sched_run r = CLM__STORE__V1__JOB_RUN__INIT;
    clm_err err;

    if ((err = run_record_init(txn, spec, now, &r)) != CLM_OK ||
        (err = run_record_put(txn, &r)) != CLM_OK)
        return err;
    *id = r.id;
    return changes ? sched_changes_add(s, changes, &r) : CLM_OK;
}

static bool ours(const pass *p, const sched_run *r, uint32_t attempt)
{
    return strcmp(r->state, SCHED_STATE_RUNNING) == 0 &&
           strcmp(r->lease_owner, p->s->instance_id) == 0 && r->attempt == attempt;
}

/* ---- 1. results --------------------------------------------------------------------- */

static clm_err store_result(store_txn *txn, pass *p, struct sched_ctx *job)
{
    sched *s = p->s;
    sched_kind_entry *k = job->kind;
    char error[SCHED_MESSAGE_MAX + 96];
    sched_outcome outcome = job->outcome;
    sched_run_rec rec;
    sched_run *r = &rec.r;
    clm_err err = sched_run_load(txn, job->run_id, &rec);

    if (err == CLM_ERR_NOT_FOUND)
        return CLM_OK;
    if (err != CLM_OK)
        return err;
    if (!ours(p, r, job->attempt)) {
        CLM_LOG_WARN("scheduler_result_dropped", "run", CLM_I64(job->run_id), "reason",
                     "the lease was lost (taken by another owner or expired)");
        sched_run_rec_free(&rec);
        return CLM_OK;
    }
    snprintf(error, sizeof(error), "%s", job->error);
    if ((outcome == SCHED_OUTCOME_RETRY || outcome == SCHED_OUTCOME_FAIL) &&
        job->returned_ns > job->deadline_ns) {
        snprintf(error, sizeof(error), "deadline of %llds exceeded%s%s",
                 (long long)(k->deadline_ns / SEC), job->error[0] ? ": " : "", job->error);
        outcome = SCHED_OUTCOME_RETRY;
    }
    if (job->has_progress) {
        pthread_mutex_lock(&s->lock);
        r->progress_done = job->done;
        r->progress_total = job->total;
        r->progress_message = job->message;
        pthread_mutex_unlock(&s->lock);
    }
    r->lease_owner = (char *)"";
    r->lease_expiry_unix_nanos = 0;
    r->updated_unix_nanos = p->now;
    if (atomic_load(&job->shutdown) && !r->cancel_requested &&
        (outcome == SCHED_OUTCOME_RETRY || outcome == SCHED_OUTCOME_FAIL)) {
        r->state = (char *)SCHED_STATE_QUEUED; /* released: runs again at the next start */
        r->next_attempt_unix_nanos = p->now;
        if (!job->started && r->attempt > 0) { /* never started: not an attempt */
            r->attempt--;
            r->attempts_total--;
        }
    } else if (r->cancel_requested && outcome != SCHED_OUTCOME_OK) {
        r->state = (char *)SCHED_STATE_CANCELLED;
        r->finished_unix_nanos = p->now;
        r->last_error = error[0] ? error : (char *)"cancelled";
    } else if (outcome == SCHED_OUTCOME_OK) {
        r->state = (char *)SCHED_STATE_SUCCEEDED;
        r->finished_unix_nanos = p->now;
    } else if (outcome == SCHED_OUTCOME_MORE) {
        r->state = (char *)SCHED_STATE_QUEUED;
        r->batch_index++;
        r->attempt = 0;
        r->next_attempt_unix_nanos = p->now + (int64_t)r->batch_interval_minutes * 60 * SEC;
    } else if (outcome == SCHED_OUTCOME_RETRY && r->attempt < k->max_attempts) {
        r->state = (char *)SCHED_STATE_QUEUED;
        r->next_attempt_unix_nanos = p->now + sched_backoff_ns(s, k, r->attempt);
        r->last_error = error[0] ? error : (char *)"retryable error";
        p->delta.retried++;
    } else {
        char final[SCHED_MESSAGE_MAX + 160];

        if (outcome == SCHED_OUTCOME_RETRY)
            snprintf(final, sizeof(final), "gave up after %u attempts: %s", r->attempt,
                     error[0] ? error : "retryable error");
        else
            snprintf(final, sizeof(final), "%s", error[0] ? error : "failed");
        snprintf(error, sizeof(error), "%s", final);
        r->state = (char *)SCHED_STATE_FAILED;
        r->finished_unix_nanos = p->now;
        r->last_error = error;
    }
    err = sched_run_store(txn, &rec);
    if (err == CLM_OK) {
        p->delta.finished++;
        err = sched_changes_add(s, &p->changes, r);
    }
    sched_run_rec_free(&rec);
    return err;
}

/* ---- 2. leases and progress of running runs ----------------------------------------------- */

static clm_err renew_live(store_txn *txn, pass *p, size_t i)
{
    sched *s = p->s;
    struct sched_ctx *job = p->live[i];
    int64_t lease = s->opt.lease_ms * MS, interval = s->opt.progress_interval_ms * MS;
    bool renew = job->lease_expiry_ns - p->now <= lease * 2 / 3, progress;
    char message[SCHED_MESSAGE_MAX];
    uint64_t done, total, seq;
    sched_run_rec rec;
    clm_err err;

    pthread_mutex_lock(&s->lock);
    progress = job->progress_dirty && p->now - job->progress_stored_ns >= interval;
    done = job->done;
    total = job->total;
    seq = job->progress_seq;
    memcpy(message, job->message, sizeof(message));
    if (job->progress_dirty && !progress)
        wake_at(p, job->progress_stored_ns + interval);
    pthread_mutex_unlock(&s->lock);
    wake_at(p, (renew ? p->now + lease : job->lease_expiry_ns) - lease * 2 / 3);
    if (!renew && !progress)
        return CLM_OK;
    err = sched_run_load(txn, job->run_id, &rec);
    if (err == CLM_ERR_NOT_FOUND || (err == CLM_OK && !ours(p, &rec.r, job->attempt))) {
        p->upd[i].lost = true;
        sched_run_rec_free(&rec);
        return CLM_OK;
    }
    if (err != CLM_OK)
        return err;
    p->upd[i].cancel = rec.r.cancel_requested;
    rec.r.updated_unix_nanos = p->now;
    if (renew) {
        rec.r.lease_expiry_unix_nanos = p->now + lease;
        p->upd[i].new_expiry = rec.r.lease_expiry_unix_nanos;
        p->delta.renewed++;
    }
    if (progress) {
        rec.r.progress_done = done;
        rec.r.progress_total = total;
        rec.r.progress_message = message;
        p->upd[i].progress_written = true;
        p->upd[i].seq = seq;
        p->delta.progress_writes++;
    }
    err = sched_run_store(txn, &rec);
    if (err == CLM_OK && progress)
        err = sched_changes_add(s, &p->changes, &rec.r);
    sched_run_rec_free(&rec);
    return err;
}

/* ---- 3. expired leases ------------------------------------------------------------------- */

static bool in_flight(const pass *p, uint64_t id)
{
    for (size_t i = 0; i < p->n_live; i++)
        if (p->live[i]->run_id == id)
            return true;
    for (size_t i = 0; i < p->n_done; i++)
        if (p->done[i]->run_id == id)
            return true;
    return false;
}

static clm_err expire_one(store_txn *txn, pass *p, uint64_t id)
{
    sched *s = p->s;
    sched_kind_entry *k;
    char error[SCHED_MESSAGE_MAX];
    uint32_t max;
    sched_run_rec rec;
    sched_run *r = &rec.r;
    clm_err err = sched_run_load(txn, id, &rec);

    if (err == CLM_ERR_NOT_FOUND)
        return CLM_OK;
    if (err != CLM_OK)
        return err;
    if (strcmp(r->state, SCHED_STATE_RUNNING) != 0 || strcmp(r->lease_owner, s->instance_id) == 0 ||
        (!p->reclaim && r->lease_expiry_unix_nanos > p->now)) {
        sched_run_rec_free(&rec);
        return CLM_OK;
    }
    k = sched_kind_entry_find(s, r->kind);
    max = k ? k->max_attempts : 3;
    CLM_LOG_WARN("scheduler_lease_expired", "run", CLM_I64(id), "kind", r->kind, "owner",
                 r->lease_owner, "attempt", CLM_I64(r->attempt));
    snprintf(error, sizeof(error),
             "the lease of %.200s expired during attempt %u (its process "
             "died or stalled)",
             r->lease_owner, r->attempt);
    r->lease_owner = (char *)"";
    r->lease_expiry_unix_nanos = 0;
    r->updated_unix_nanos = p->now;
    r->last_error = error;
    if (r->cancel_requested) {
        r->state = (char *)SCHED_STATE_CANCELLED;
        r->finished_unix_nanos = p->now;
    } else if (r->attempt >= max) {
        r->state = (char *)SCHED_STATE_FAILED;
        r->finished_unix_nanos = p->now;
    } else {
        r->state = (char *)SCHED_STATE_QUEUED;
        r->next_attempt_unix_nanos = p->now;
    }
    p->delta.expired++;
    err = sched_run_store(txn, &rec);
    if (err == CLM_OK)
        err = sched_changes_add(s, &p->changes, r);
    sched_run_rec_free(&rec);
    return err;
}

/* Ids of the first `max` entries of an index whose leading be64 time is <= limit. */
static clm_err collect(store_txn *txn, const store_table *t, const store_index *ix,
                       const void *prefix, size_t prefix_len, int64_t limit, size_t max,
                       uint64_t *ids, size_t *n, int64_t *first_later)
{
    store_iter *it;
    clm_err err = store_iter_open(txn, t, ix, STORE_KEYS_ONLY, &it);

    *n = 0;
    *first_later = INT64_MAX;
    if (err != CLM_OK)
        return err;
    err = prefix_len ? store_iter_seek(it, prefix, prefix_len, NULL, 0) : store_iter_first(it);
    while (err == CLM_OK) {
        const store_item *item = store_iter_item(it);
        int64_t at;

        if (item->index_key_len < prefix_len + 16 ||
            (prefix_len && memcmp(item->index_key, prefix, prefix_len) != 0))
            break;
        at = (int64_t)clm_get_be64((const unsigned char *)item->index_key + prefix_len);
        if (at > limit || *n == max) {
            *first_later = at;
            break;
        }
        ids[(*n)++] = clm_get_be64(item->key);
        err = store_iter_next(it);
    }
    store_iter_close(it);
    return err == CLM_ERR_NOT_FOUND ? CLM_OK : err;
}

/* ---- 4. firing schedules ------------------------------------------------------------------ */

static clm_err lease_take(pass *p, sched_kind_entry *k, sched_run *r);

/* Fire one schedule if its slot is within p->fire_until; *processed counts those fired or
 * advanced. */
static clm_err fire_one(store_txn *txn, pass *p, uint64_t id, size_t *processed)
{
    sched *s = p->s;
    int64_t grace = s->opt.misfire_grace_ms * MS, f, next = 0;
    sched_schedule_rec rec;
    sched_schedule *sc = &rec.r;
    sched_kind_entry *k;
    sched_misfire policy = SCHED_MISFIRE_DEFAULT;
    bool create = true, late, early;
    clm_err err = sched_schedule_load(txn, id, &rec);

    if (err == CLM_ERR_NOT_FOUND)
        return CLM_OK;
    if (err != CLM_OK)
        return err;
    f = sc->next_fire_unix_nanos;
    k = sched_kind_entry_find(s, sc->kind);
    /* Ahead of its slot: only a run to create, queued for the slot. Anything else (an
       unknown kind) waits until the slot is due. */
    early = f > p->now;
    if (!sc->enabled || f <= 0 || f > p->fire_until || (early && k == NULL)) {
        sched_schedule_rec_free(&rec);
        return CLM_OK;
    }
    late = p->now - f > grace;
    if (k != NULL && sched_misfire_parse(sc->misfire, &policy) == CLM_OK &&
        policy == SCHED_MISFIRE_DEFAULT)
        policy = k->misfire;
    if (k == NULL) {
        CLM_LOG_WARN("scheduler_unknown_kind", "schedule", sc->name, "kind", sc->kind);
        create = false;
        err = sched_next_fire(sc->cron, sc->time_zone, p->now, &next);
    } else if (!late) {
        err = sched_next_fire(sc->cron, sc->time_zone, f, &next);
    } else {
        p->delta.misfires++;
        sc->misfire_count++;
        create = policy != SCHED_MISFIRE_SKIP;
        err = sched_next_fire(sc->cron, sc->time_zone, create ? p->now : p->now - grace, &next);
        CLM_LOG_INFO("scheduler_misfire", "schedule", sc->name, "slot", CLM_I64(f / SEC), "policy",
                     sched_misfire_name(policy));
    }
    if (err != CLM_OK) {
        CLM_LOG_ERROR("scheduler_schedule_disabled", "schedule", sc->name, "error",
                      clm_error_message());
        sc->enabled = false;
        next = 0;
        create = false;
    }
    if (create && sc->last_run_id != 0) { /* coalesce: its previous run has not started yet */
        sched_run_rec last;

        if (sched_run_load(txn, sc->last_run_id, &last) == CLM_OK) {
            create = strcmp(last.r.state, SCHED_STATE_QUEUED) != 0;
            sched_run_rec_free(&last);
        }
    }
    if (create) {
        sched_new_run nr = {k,
                            sc->id,
                            sc->params.data,
                            sc->params.len,
                            sc->batch_size ? sc->batch_size : k->kind.batch_size,
                            sc->batch_interval_minutes ? sc->batch_interval_minutes
                                                       : k->kind.batch_interval_minutes,
                            f,
                            late};
        sched_run r = CLM__STORE__V1__JOB_RUN__INIT;
        size_t ki = (size_t)(k - s->kinds);

        /* Room for it now (runnable runs of the kind were leased first): create it
           leased, one write instead of a queued run and then its lease. */
        err = run_record_init(txn, &nr, p->now, &r);
        if (early)
            wake_at(p, f); /* to lease it */
        else if (err == CLM_OK && p->free_workers > 0 && p->kind_free[ki] > 0) {
            err = lease_take(p, k, &r);
            p->free_workers--;
            p->kind_free[ki]--;
        }
        if (err == CLM_OK)
            err = run_record_put(txn, &r);
        if (err == CLM_OK)
            err = sched_changes_add(s, &p->changes, &r);
        if (err != CLM_OK) {
            sched_schedule_rec_free(&rec);
            return err;
        }
        sc->last_run_id = r.id;
        sc->fire_count++;
        p->delta.fired++;
    }
    sc->last_fire_unix_nanos = f;
    sc->next_fire_unix_nanos = next;
    (*processed)++;
    err = sched_schedule_store(txn, &rec);
    sched_schedule_rec_free(&rec);
    return err;
}

/* ---- 5. retention ---------------------------------------------------------------------- */

static clm_err prune_kind(store_txn *txn, pass *p, const sched_kind_entry *k, size_t *budget)
{
    unsigned char prefix[SCHED_KIND_NAME_MAX + 1];
    size_t plen = strlen(k->name) + 1, n = 0;
    uint64_t ids[PRUNE_BATCH];
    int64_t oldest = p->now - k->retain_age_ns;
    store_iter *it;
    clm_err err;

    memcpy(prefix, k->name, plen);
    if ((err = store_iter_open(txn, &sched_runs_table, SCHED_IX_FINISHED, STORE_KEYS_ONLY, &it)) !=
        CLM_OK)
        return err;
    prefix[plen - 1] = 1; /* just past kind\0...: then step back */
    err = store_iter_seek_last(it, prefix, plen);
    prefix[plen - 1] = 0;
    for (uint64_t seen = 0; err == CLM_OK && n < *budget; err = store_iter_prev(it)) {
        const store_item *item = store_iter_item(it);

        if (item->index_key_len < plen + 16 || memcmp(item->index_key, prefix, plen) != 0)
            break;
        seen++;
        if (seen > k->retain_count ||
            (int64_t)clm_get_be64((const unsigned char *)item->index_key + plen) < oldest)
            ids[n++] = clm_get_be64(item->key);
    }
    store_iter_close(it);
    if (err != CLM_OK && err != CLM_ERR_NOT_FOUND)
        return err;
    for (size_t i = 0; i < n; i++) {
        unsigned char key[8];

        clm_put_be64(key, ids[i]);
        err = store_delete(txn, &sched_runs_table, key, 8);
        if (err != CLM_OK && err != CLM_ERR_NOT_FOUND)
            return err;
    }
    *budget -= n;
    p->delta.pruned += n;
    return CLM_OK;
}

/* ---- 6. leasing ------------------------------------------------------------------------- */

/* Lease `r` (queued) to this engine: change it in place (state, lease, attempt, times;
 * strings borrowed from the engine) and add its job to p->leased. The caller stores r. */
static clm_err lease_take(pass *p, sched_kind_entry *k, sched_run *r)
{
    sched *s = p->s;
    struct sched_ctx *job;

    if (p->n_leased == p->cap_leased) {
        size_t cap = p->cap_leased ? p->cap_leased * 2 : 32;
        struct sched_ctx **grown = realloc(p->leased, cap * sizeof(*grown));

        if (grown == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "scheduler: out of memory");
        p->leased = grown;
        p->cap_leased = cap;
    }
    job = calloc(1, sizeof(*job));
    if (job == NULL || (job->params = malloc(r->params.len + 1)) == NULL) {
        free(job);
        return clm_fail(CLM_ERR_NO_MEMORY, "scheduler: out of memory");
    }
    r->state = (char *)SCHED_STATE_RUNNING;
    r->lease_owner = s->instance_id;
    r->lease_expiry_unix_nanos = p->now + s->opt.lease_ms * MS;
    r->attempt++;
    r->attempts_total++;
    if (r->started_unix_nanos == 0)
        r->started_unix_nanos = p->now;
    r->deadline_unix_nanos = p->now + k->deadline_ns;
    r->updated_unix_nanos = p->now;
    job->s = s;
    job->kind = k;
    job->run_id = r->id;
    job->schedule_id = r->schedule_id;
    job->attempt = r->attempt;
    job->attempts_total = r->attempts_total;
    job->batch_index = r->batch_index;
    job->batch_size = r->batch_size;
    job->scheduled_ns = r->scheduled_unix_nanos;
    job->deadline_ns = r->deadline_unix_nanos;
    job->lease_expiry_ns = r->lease_expiry_unix_nanos;
    job->prior_done = r->progress_done;
    job->prior_total = r->progress_total;
    if (r->params.len)
        memcpy(job->params, r->params.data, r->params.len);
    job->params[r->params.len] = '\0';
    job->params_len = r->params.len;
    atomic_init(&job->cancel, r->cancel_requested);
    p->leased[p->n_leased++] = job;
    p->delta.leased++;
    return CLM_OK;
}

static clm_err lease_one(store_txn *txn, pass *p, sched_kind_entry *k, uint64_t id)
{
    sched_run_rec rec;
    sched_run *r = &rec.r;
    clm_err err = sched_run_load(txn, id, &rec);

    if (err != CLM_OK)
        return err == CLM_ERR_NOT_FOUND ? CLM_OK : err;
    if (strcmp(r->state, SCHED_STATE_QUEUED) != 0) {
        sched_run_rec_free(&rec);
        return CLM_OK;
    }
    err = lease_take(p, k, r);
    if (err == CLM_OK)
        err = sched_run_store(txn, &rec);
    if (err == CLM_OK)
        err = sched_changes_add(p->s, &p->changes, r);
    sched_run_rec_free(&rec);
    return err;
}

static clm_err lease_runnable(store_txn *txn, pass *p)
{
    sched *s = p->s;
    uint64_t *ids = NULL;
    clm_err err = CLM_OK;

    for (size_t i = 0; i < s->n_kinds && err == CLM_OK; i++) {
        sched_kind_entry *k = &s->kinds[i];
        uint32_t cap = p->kind_free[i] < p->free_workers ? p->kind_free[i] : p->free_workers;
        size_t plen = strlen(k->name) + 1, n;
        int64_t later;

        if (cap == 0)
            continue;
        free(ids);
        ids = malloc(cap * sizeof(*ids));
        if (ids == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "scheduler: out of memory");
        err = collect(txn, &sched_runs_table, SCHED_IX_RUNNABLE, k->name, plen, p->now, cap, ids,
                      &n, &later);
        for (size_t j = 0; j < n && err == CLM_OK; j++)
            err = lease_one(txn, p, k, ids[j]);
        p->kind_free[i] -= (uint32_t)n;
        p->free_workers -= (uint32_t)n;
        if (n < cap && later != INT64_MAX)
            wake_at(p, later);
    }
    free(ids);
    return err;
}

/* ---- the pass --------------------------------------------------------------------------- */

static void reset_outputs(pass *p)
{
    for (size_t i = 0; i < p->n_leased; i++)
        sched_job_free(p->leased[i]);
    p->n_leased = 0;
    memset(p->upd, 0, p->n_live * sizeof(*p->upd));
    sched_changes_reset(&p->changes);
    memset(&p->delta, 0, sizeof(p->delta));
    p->next_wake = p->now + 3600 * SEC;
    p->more = false;
    memcpy(p->kind_free, p->kind_free0, p->s->n_kinds * sizeof(*p->kind_free));
    p->free_workers = p->free_workers0;
}

static clm_err pass_fn(store_txn *txn, void *arg)
{
    pass *p = arg;
    sched *s = p->s;
    size_t n, budget = PRUNE_BATCH;
    int64_t later, ahead = s->opt.fire_ahead_ms * MS;
    uint64_t *ids = NULL;
    clm_err err = CLM_OK;

    reset_outputs(p);
    for (size_t i = 0; i < p->n_done && err == CLM_OK; i++)
        err = store_result(txn, p, p->done[i]);
    for (size_t i = 0; i < p->n_live && err == CLM_OK; i++)
        err = renew_live(txn, p, i);
    ids = malloc((s->opt.fire_batch > EXPIRE_BATCH ? s->opt.fire_batch : EXPIRE_BATCH) *
                 sizeof(*ids));
    if (err == CLM_OK && ids == NULL)
        err = clm_fail(CLM_ERR_NO_MEMORY, "scheduler: out of memory");
    if (err == CLM_OK)
        err = collect(txn, &sched_runs_table, SCHED_IX_LEASE, NULL, 0,
                      p->reclaim ? INT64_MAX : p->now, EXPIRE_BATCH, ids, &n, &later);
    for (size_t i = 0; err == CLM_OK && i < n; i++)
        if (!in_flight(p, ids[i]))
            err = expire_one(txn, p, ids[i]);
    if (err == CLM_OK && n == EXPIRE_BATCH)
        p->more = true;
    if (err == CLM_OK && later != INT64_MAX)
        wake_at(p, later);
    /* Runs waiting already come first; then fired runs take what room is left. */
    if (err == CLM_OK && !p->stopping)
        err = lease_runnable(txn, p);
    /* Fire ahead (slots up to fire_ahead_ms away): their runs are written now, queued
       for their slot, so when it comes only the lease is left to do. Not in a pass that
       leased runs: they would wait for this work's commit; the next pass does it. */
    p->fire_until = p->n_leased == 0 ? p->now + ahead : p->now;
    if (err == CLM_OK && !p->stopping) {
        size_t processed = 0;

        err = collect(txn, &sched_schedules_table, SCHED_IX_DUE, NULL, 0, p->fire_until,
                      s->opt.fire_batch, ids, &n, &later);
        for (size_t i = 0; err == CLM_OK && i < n; i++)
            err = fire_one(txn, p, ids[i], &processed);
        if (err == CLM_OK && n == s->opt.fire_batch && processed > 0)
            p->more = true; /* a full batch: go on at once */
        if (err == CLM_OK)  /* the first slot not fired */
            err = collect(txn, &sched_schedules_table, SCHED_IX_DUE, NULL, 0, p->fire_until, 0, ids,
                          &n, &later);
        if (err == CLM_OK && later != INT64_MAX) {
            if (later <= p->fire_until) /* left over, or ahead but of an unknown kind */
                wake_at(p, later);
            else if (later - ahead <= p->now) /* to fire ahead, now that the leases are out */
                p->more = true;
            else
                wake_at(p, later - ahead);
        }
    }
    free(ids);
    for (size_t i = 0; err == CLM_OK && p->prune && i < s->n_kinds && budget > 0; i++)
        err = prune_kind(txn, p, &s->kinds[i], &budget);
    if (p->more)
        p->next_wake = p->now;
    return err;
}

clm_err sched_pass(sched *s, int64_t *next_wake_ns)
{
    pass p;
    size_t n_jobs = 0, n_kinds = s->n_kinds ? s->n_kinds : 1;
    clm_err err = CLM_OK;

    memset(&p, 0, sizeof(p));
    p.s = s;
    pthread_mutex_lock(&s->pass_lock);
    p.now = clm_clock_now_ns(s->clock);
    pthread_mutex_lock(&s->lock);
    for (struct sched_ctx *j = s->jobs; j != NULL; j = j->next)
        n_jobs++;
    p.done = calloc(n_jobs + 1, sizeof(*p.done));
    p.live = calloc(n_jobs + 1, sizeof(*p.live));
    p.upd = calloc(n_jobs + 1, sizeof(*p.upd));
    p.kind_free = calloc(n_kinds, sizeof(*p.kind_free));
    p.kind_free0 = calloc(n_kinds, sizeof(*p.kind_free0));
    if (p.done && p.live && p.upd && p.kind_free && p.kind_free0) {
        for (struct sched_ctx *j = s->jobs; j != NULL; j = j->next) {
            if (j->returned) {
                j->collected = true;
                p.done[p.n_done++] = j;
            } else
                p.live[p.n_live++] = j;
        }
        for (size_t i = 0; i < s->n_kinds; i++)
            p.kind_free0[i] =
                s->kinds[i].active < s->kinds[i].limit ? s->kinds[i].limit - s->kinds[i].active : 0;
        p.free_workers0 = s->busy < s->opt.workers + s->opt.queue_depth
                              ? s->opt.workers + s->opt.queue_depth - s->busy
                              : 0;
        p.stopping = s->stopping || !s->started;
    } else {
        err = clm_fail(CLM_ERR_NO_MEMORY, "scheduler: out of memory");
    }
    pthread_mutex_unlock(&s->lock);
    p.reclaim = s->reclaim_pending;
    p.prune = p.now >= s->next_prune_ns && !p.stopping;
    if (err == CLM_OK) /* flushed below, once the leased runs are on their way */
        err = store_update_flags(s->st, STORE_UPDATE_NO_SYNC, pass_fn, &p);
    pthread_mutex_lock(&s->lock);
    s->stats.passes++;
    if (err == CLM_OK) {
        for (size_t i = 0; i < p.n_live; i++) {
            struct sched_ctx *j = p.live[i];

            if (p.upd[i].new_expiry)
                j->lease_expiry_ns = p.upd[i].new_expiry;
            if (p.upd[i].progress_written) {
                j->progress_stored_ns = p.now;
                if (j->progress_seq == p.upd[i].seq)
                    j->progress_dirty = false;
            }
            if (p.upd[i].lost)
                atomic_store(&j->lost, true);
            if (p.upd[i].cancel)
                atomic_store(&j->cancel, true);
        }
        for (struct sched_ctx **pp = &s->jobs; *pp != NULL;) /* results stored: unlink */
            if ((*pp)->collected)
                *pp = (*pp)->next;
            else
                pp = &(*pp)->next;
        for (size_t i = 0; i < p.n_leased; i++) {
            struct sched_ctx *j = p.leased[i];

            j->next = s->jobs;
            s->jobs = j;
            j->queue_next = NULL;
            if (s->queue_tail)
                s->queue_tail->queue_next = j;
            else
                s->queue_head = j;
            s->queue_tail = j;
            s->busy++;
            j->kind->active++;
        }
        if (p.n_leased)
            pthread_cond_broadcast(&s->work_cond);
        s->stats.fired += p.delta.fired;
        s->stats.misfires += p.delta.misfires;
        s->stats.leased += p.delta.leased;
        s->stats.finished += p.delta.finished;
        s->stats.retried += p.delta.retried;
        s->stats.expired += p.delta.expired;
        s->stats.renewed += p.delta.renewed;
        s->stats.progress_writes += p.delta.progress_writes;
        s->stats.pruned += p.delta.pruned;
        if (p.prune)
            s->next_prune_ns = p.now + s->opt.prune_interval_ms * MS;
        s->reclaim_pending = false;
    } else {
        for (size_t i = 0; i < p.n_done; i++)
            p.done[i]->collected = false; /* stored next time */
    }
    pthread_mutex_unlock(&s->lock);
    if (err == CLM_OK) {
        /* Durable before anyone is told: a watcher never sees a state a power cut can undo
           (the workers may; at-least-once covers them). */
        if (store_sync(s->st) != CLM_OK)
            CLM_LOG_ERROR("scheduler_sync_failed", "error", clm_error_message());
        for (size_t i = 0; i < p.n_done; i++)
            sched_job_free(p.done[i]);
        wake_at(&p, s->next_prune_ns);
        sched_changes_publish(s, &p.changes);
    } else {
        reset_outputs(&p);
        sched_changes_publish(s, &p.changes);
        p.next_wake = p.now + 1000 * MS;
    }
    pthread_mutex_unlock(&s->pass_lock);
    if (next_wake_ns != NULL)
        *next_wake_ns = p.next_wake;
    free(p.done);
    free(p.live);
    free(p.upd);
    free(p.kind_free);
    free(p.kind_free0);
    free(p.leased);
    return err;
}

clm_err sched_tick(sched *s, int64_t *next_wake_ns)
{
    return sched_pass(s, next_wake_ns);
}
