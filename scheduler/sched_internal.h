/*
 * scheduler/sched_internal.h: the engine's structures, shared by sched_*.c. Not a
 * public header.
 *
 * Locks: s->pass_lock serializes dispatcher passes (sched_tick and the dispatcher
 * thread). s->lock guards every in-memory field below marked [lock]. Order: pass_lock,
 * then a store transaction, then s->lock; s->lock is never held while calling the store,
 * a run function or a watch callback.
 */
#ifndef CLM_SCHEDULER_SCHED_INTERNAL_H
#define CLM_SCHEDULER_SCHED_INTERNAL_H

#include "scheduler/cron.h"
#include "scheduler/scheduler.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct sched_kind_entry {
    sched_kind kind; /* the host's copy; kind.name points at name */
    char name[SCHED_KIND_NAME_MAX + 1];
    uint32_t limit;        /* resolved max_concurrency */
    uint32_t active;       /* [lock] leased to this engine and not returned */
    uint32_t max_attempts; /* resolved retry policy */
    int64_t base_backoff_ns, max_backoff_ns;
    int64_t deadline_ns;
    sched_misfire misfire; /* resolved: RUN_ONCE or SKIP */
    uint32_t retain_count;
    int64_t retain_age_ns;
} sched_kind_entry;

/* One leased attempt in this process; the run function's context. */
struct sched_ctx {
    struct sched_ctx *next;       /* [lock] s->jobs */
    struct sched_ctx *queue_next; /* [lock] s->queue */
    sched *s;
    sched_kind_entry *kind;
    uint64_t run_id, schedule_id;
    uint32_t attempt, attempts_total, batch_index, batch_size;
    int64_t scheduled_ns, deadline_ns;
    int64_t lease_expiry_ns; /* pass thread only */
    char *params;            /* NUL-terminated copy */
    size_t params_len;
    uint64_t prior_done, prior_total;
    atomic_bool cancel;   /* a cancel was requested */
    atomic_bool shutdown; /* the engine is stopping */
    atomic_bool lost;     /* the lease was lost: the result will be dropped */
    /* progress [lock] */
    bool has_progress, progress_dirty;
    uint64_t done, total, progress_seq;
    char message[SCHED_MESSAGE_MAX];
    int64_t progress_stored_ns; /* pass thread only */
    /* the result [lock] */
    bool started; /* the run function was called (not skipped at a stop) */
    bool returned;
    bool collected; /* its result is being stored by a pass */
    sched_outcome outcome;
    int64_t returned_ns;
    char error[SCHED_MESSAGE_MAX]; /* written by the run function's thread */
};

struct sched {
    store *st;
    const clm_clock *clock;
    sched_options opt; /* resolved: no zeros */
    char *instance_id;
    sched_kind_entry *kinds;
    size_t n_kinds;
    sched_watch_fn watch;
    void *watch_arg;

    pthread_mutex_t lock;
    pthread_mutex_t pass_lock;
    pthread_cond_t wake_cond;   /* the dispatcher sleeps on it */
    pthread_cond_t work_cond;   /* workers sleep on it */
    pthread_cond_t idle_cond;   /* a run function returned */
    pthread_cond_t change_cond; /* the generation grew */

    bool started, stopping, stopped;    /* [lock] */
    bool wake_flag;                     /* [lock] */
    bool dispatcher_exit, workers_exit; /* [lock] */
    bool has_dispatcher;
    pthread_t dispatcher;
    pthread_t *workers;
    uint32_t n_workers;

    struct sched_ctx *jobs;       /* [lock] leased, result not yet stored */
    struct sched_ctx *queue_head; /* [lock] waiting for a worker */
    struct sched_ctx *queue_tail;
    uint32_t busy;       /* [lock] handed out, run function not returned */
    uint32_t executing;  /* [lock] run functions executing */
    uint64_t generation; /* [lock] */
    sched_stats stats;   /* [lock] */

    int64_t next_prune_ns; /* pass thread only */
    bool reclaim_pending;  /* pass thread only */
    uint64_t rng;          /* pass thread only */
};

/* ---- sched_tables.c ---------------------------------------------------------------- */

/* The indexes, by position in the tables' arrays. */
extern const store_index sched_schedule_indexes[2];
extern const store_index sched_run_indexes[4];
#define SCHED_IX_BY_NAME (&sched_schedule_indexes[0])
#define SCHED_IX_DUE (&sched_schedule_indexes[1])
#define SCHED_IX_RUNNABLE (&sched_run_indexes[0])
#define SCHED_IX_LEASE (&sched_run_indexes[1])
#define SCHED_IX_LISTING (&sched_run_indexes[2])
#define SCHED_IX_FINISHED (&sched_run_indexes[3])

/** Time keys: negative times sort as 0. */
void sched_key_time_id(unsigned char out[16], int64_t time_ns, uint64_t id);
/** kind || 0x00 || be64(t) || be64(id); returns the length. */
size_t sched_key_kind_time_id(unsigned char *out, const char *kind, int64_t t, uint64_t id);

/** A record read for modification: change `r` (a shallow copy), put it, free `orig`. */
typedef struct sched_run_rec {
    sched_run *orig;
    sched_run r;
} sched_run_rec;

typedef struct sched_schedule_rec {
    sched_schedule *orig;
    sched_schedule r;
} sched_schedule_rec;

/** @return CLM_OK, CLM_ERR_NOT_FOUND (no message), CLM_ERR_STORE. */
clm_err sched_run_load(store_txn *txn, uint64_t id, sched_run_rec *rec);
clm_err sched_run_store(store_txn *txn, sched_run_rec *rec);
void sched_run_rec_free(sched_run_rec *rec);
clm_err sched_schedule_load(store_txn *txn, uint64_t id, sched_schedule_rec *rec);
clm_err sched_schedule_store(store_txn *txn, sched_schedule_rec *rec);
void sched_schedule_rec_free(sched_schedule_rec *rec);

/** Is the state string one of the five? */
bool sched_state_valid(const char *state);

/* ---- sched_engine.c ---------------------------------------------------------------- */

sched_kind_entry *sched_kind_entry_find(const sched *s, const char *name);

/** Bump the generation, wake watchers; then call the watch callback for packed runs. */
typedef struct sched_changes {
    unsigned char **packed;
    size_t *len;
    size_t n, cap;
    bool any;
} sched_changes;

/** Remember a committed-to-be run for the watchers (packed copy when a callback is set). */
clm_err sched_changes_add(sched *s, sched_changes *ch, const sched_run *run);
/** After the commit: generation++, broadcast, callbacks. Then frees the copies. */
void sched_changes_publish(sched *s, sched_changes *ch);
void sched_changes_reset(sched_changes *ch);

/** Uniform [0, 1] from options.random or the internal PRNG (pass thread only). */
double sched_random(sched *s);

/** Backoff before attempt `attempt` + 1, nanoseconds, full jitter. */
int64_t sched_backoff_ns(sched *s, const sched_kind_entry *kind, uint32_t attempt);

/** Free a job (context). */
void sched_job_free(struct sched_ctx *job);

/* ---- sched_dispatch.c -------------------------------------------------------------- */

/** One pass (takes pass_lock). */
clm_err sched_pass(sched *s, int64_t *next_wake_ns);

/**
 * Create a queued run in `txn`. Strings borrowed. Returns its id in *id.
 */
typedef struct sched_new_run {
    const sched_kind_entry *kind;
    uint64_t schedule_id;
    const void *params;
    size_t params_len;
    uint32_t batch_size, batch_interval_minutes;
    int64_t scheduled_ns;
    bool misfired;
} sched_new_run;
clm_err sched_run_create_in(sched *s, store_txn *txn, const sched_new_run *spec, int64_t now,
                            sched_changes *changes, uint64_t *id);

/** The first fire time of `sc` strictly after `after_ns`, in ns; fails when cron/zone do not
 * load (stored records are validated, so only a removed zone file can do that). */
clm_err sched_next_fire(const char *cron, const char *zone, int64_t after_ns, int64_t *next_ns);

#endif
