/*
 * scheduler/scheduler.h: durable cron schedules and job runs, leases, retries, a worker
 * pool, progress and watchers. Generic: the host (the appliance) registers job kinds.
 *
 * Model
 *   - A job KIND is registered by the host: a name, a run function and its policies
 *     (concurrency, deadline, retries, misfires, batches, retention).
 *   - A SCHEDULE (record clm.store.v1.Schedule) fires a kind on a cron expression in a time
 *     zone (scheduler/cron.h, including its DST rules). Each fire enqueues one RUN.
 *   - A RUN (record clm.store.v1.JobRun) is one execution, from a schedule or from
 *     sched_run_now(). A dispatcher leases runnable runs to a pool of worker threads.
 *   - Firing: a slot at most options.misfire_grace_ms late is on time: one run for it, and
 *     the next slot follows it (so slots are never skipped or doubled). Slots are fired up
 *     to options.fire_ahead_ms early: the run is created "queued" with next_attempt = the
 *     slot (created < scheduled), and the schedule's next fire moves on at that moment; a
 *     schedule disabled or deleted in that last moment still gets that run. An older slot is a
 *     misfire (the process was down): RUN_ONCE enqueues one run for all missed slots and
 *     continues from now; SKIP enqueues none. A schedule whose previous run has not started
 *     yet ("queued") does not enqueue another (coalesced). A schedule whose kind is not
 *     registered advances without enqueueing (logged); one whose cron or zone no longer
 *     loads (a zone file removed) is disabled (logged).
 *   - Batches: a run with batch_size > 0 is executed batch by batch: the run function sees
 *     the batch index and size, returns MORE while batches remain, and the next batch is
 *     queued batch_interval_minutes later (the reference guide's "Execute Batches
 *     Sequentially" / "Interval Between Batches"). Attempts and retries count per batch.
 *   - Deadline: per attempt (kind.deadline_ms). sched_ctx_check() reports it; a run that
 *     returns RETRY or FAIL after it is retried ("deadline exceeded").
 *
 * Run states (stored as these strings; what happens to each on restart):
 *   "queued"    waiting for next_attempt and a free worker within the kind's limit. Also
 *               the state between batches and between retries. Restart: stays queued.
 *   "running"   leased: lease_owner holds it until lease_expiry; the engine renews the
 *               lease while the run function works. Restart: the old process's lease
 *               expires (or, with options.reclaim_at_start, is taken at once); then the
 *               run is queued again (cancelled if a cancel was requested, failed if its
 *               attempts are used up). Its next lease counts attempt + 1.
 *   "succeeded" / "failed" / "cancelled": final; kept until retention prunes them.
 *   Transitions: queued -> running (lease) -> succeeded | failed | queued (retry, next
 *   batch, lease lost, shutdown) ; queued -> cancelled (cancel) ; running -> cancelled
 *   (cancel observed, or requested and the lease expired).
 *
 * At-least-once: a run can be executed more than once (its process died after the work
 * and before the result was stored, or its lease expired while it was slow). Job kinds
 * MUST therefore be idempotent: running an attempt again must be harmless.
 * Durability: dispatcher passes commit with STORE_UPDATE_NO_SYNC and flush after handing
 * their runs to the workers (watchers hear of a change only after the flush). A killed
 * process loses nothing; a power cut can undo the last pass whole, and then its slots
 * fire again and its runs are leased again with the same attempt number: the same as a
 * process that died just before that pass, within at-least-once.
 *
 * Storage (tables the host passes to store_open() with its own, see sched_tables()):
 *   "sched_schedules": be64(id) -> Schedule
 *     .by_name (unique): name
 *     .due: be64(next_fire_ns) || be64(id), enabled schedules only
 *   "sched_runs": be64(id) -> JobRun
 *     .runnable: kind || 0x00 || be64(next_attempt_ns) || be64(id), queued runs only
 *     .lease: be64(lease_expiry_ns) || be64(id), running runs only
 *     .listing: "k" kind 0x00 be64(created) be64(id) (every run, by kind and time);
 *               "s" state 0x00 be64(created) be64(id) (by state and time);
 *               "t" be64(created) be64(id) (by time)
 *     .finished: kind || 0x00 || be64(finished_ns) || be64(id), final runs (retention)
 *   Ids come from the tables' sequences (store_seq_next), so they grow monotonically.
 *
 * Time: everything reads the clock given to sched_new() (nanoseconds); tests use a
 * clm_clock_fake and drive the engine with sched_tick() without sleeping.
 *
 * Caveats
 *   - Thread rules: every function may be called from any thread, except that
 *     sched_kind_register() and sched_watch_set() come before sched_start(), and
 *     sched_free() after sched_stop(), from one thread. Run functions run on worker
 *     threads, several at once; watch callbacks run on the thread that committed the
 *     change (the dispatcher, a worker or an API caller), never under an engine lock.
 *   - Functions that write use their own store_update(): do not call them from inside a
 *     store transaction (the store refuses nested transactions). To join the host's audit
 *     entry to the same transaction, pass a sched_hook.
 *   - Per-kind limits and the worker pool are per engine instance (one process).
 */
#ifndef CLM_SCHEDULER_SCHEDULER_H
#define CLM_SCHEDULER_SCHEDULER_H

#include "clm/store/v1/scheduler.pb-c.h"
#include "lib/base/clock.h"
#include "lib/base/error.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sched sched;
typedef struct sched_ctx sched_ctx;
typedef Clm__Store__V1__Schedule sched_schedule;
typedef Clm__Store__V1__JobRun sched_run;

/** Limits of what is validated. */
#define SCHED_NAME_MAX 128                     /* schedule name, bytes */
#define SCHED_KIND_NAME_MAX 64                 /* kind name, [a-z0-9_-], starts with a letter */
#define SCHED_PARAMS_MAX (64 * 1024)           /* params, bytes */
#define SCHED_BATCH_INTERVAL_MAX (7 * 24 * 60) /* minutes */
#define SCHED_MESSAGE_MAX 512                  /* progress and error messages, bytes */
#define SCHED_PAGE_MAX 1000                    /* items per list page */
#define SCHED_PAGE_TOKEN_MAX 64

/* Run states, as stored. */
#define SCHED_STATE_QUEUED "queued"
#define SCHED_STATE_RUNNING "running"
#define SCHED_STATE_SUCCEEDED "succeeded"
#define SCHED_STATE_FAILED "failed"
#define SCHED_STATE_CANCELLED "cancelled"

/** @brief True for "succeeded", "failed", "cancelled". */
bool sched_state_is_final(const char *state);

/** What a run function reports. */
typedef enum sched_outcome {
    SCHED_OUTCOME_OK = 0, /* done: the run (or its last batch) succeeded */
    SCHED_OUTCOME_MORE,   /* this batch is done; run the next one after the batch interval */
    SCHED_OUTCOME_RETRY,  /* transient failure: try again with backoff, up to max_attempts */
    SCHED_OUTCOME_FAIL,   /* permanent failure: the run fails now */
    SCHED_OUTCOME_MAX
} sched_outcome;

/** What to do with slots missed while nothing ran (downtime), stored as its name. */
typedef enum sched_misfire {
    SCHED_MISFIRE_DEFAULT = 0, /* the kind's policy (kinds default to RUN_ONCE) */
    SCHED_MISFIRE_RUN_ONCE,    /* "run_once": one run for all missed slots, now */
    SCHED_MISFIRE_SKIP,        /* "skip": no run; wait for the next slot */
    SCHED_MISFIRE_MAX
} sched_misfire;

/** "run_once", "skip", or "" for DEFAULT. */
const char *sched_misfire_name(sched_misfire misfire);
/** @return CLM_OK, or CLM_ERR_INVALID_ARGUMENT naming field "misfire". "" -> DEFAULT. */
clm_err sched_misfire_parse(const char *name, sched_misfire *out);

/** Retries: attempt n (n >= 1) failed -> wait uniform(0, min(max, base * 2^(n-1))). */
typedef struct sched_retry {
    uint32_t max_attempts;   /* per batch; 0 = 3 */
    int64_t base_backoff_ms; /* 0 = 1000 */
    int64_t max_backoff_ms;  /* 0 = 300000 */
} sched_retry;

/** A job kind. Copied by sched_kind_register() (name included); `arg` is borrowed. */
typedef struct sched_kind {
    /** MUST: [a-z][a-z0-9_-]*, at most SCHED_KIND_NAME_MAX bytes, unique in the engine. */
    const char *name;
    /**
     * MUST: do the work of one attempt (one batch). Runs on a worker thread. MUST be
     * idempotent (at-least-once, see above) and MUST call sched_ctx_check() often enough
     * to stop soon after a cancel, the deadline or a shutdown. MUST NOT call functions of
     * this engine that write (sched_run_now, ...) for its own run; it MAY enqueue others.
     * @return the outcome; a message for RETRY and FAIL comes from sched_ctx_error().
     */
    sched_outcome (*run)(sched_ctx *ctx, void *arg);
    /** MAY: passed to run. */
    void *arg;
    /**
     * MAY: runs of this kind leased at once by this engine (executing, or waiting for a
     * worker when options.queue_depth > 0); 0 = the worker pool size.
     */
    uint32_t max_concurrency;
    /** MAY: how long one attempt may take; 0 = options.default_deadline_ms. */
    int64_t deadline_ms;
    /** MAY: zeros take the defaults above. */
    sched_retry retry;
    /** MAY: default misfire policy of its schedules; DEFAULT = RUN_ONCE. */
    sched_misfire misfire;
    /** MAY: default batching of its runs (0 = one batch) and the pause between batches. */
    uint32_t batch_size;
    uint32_t batch_interval_minutes;
    /** MAY: retention of its finished runs; 0 = options.retain_count / retain_age_ms. */
    uint32_t retain_count;
    int64_t retain_age_ms;
} sched_kind;

typedef struct sched_options {
    uint32_t workers;             /* worker threads; 0 = 4 */
    int64_t lease_ms;             /* lease length, renewed at a third; 0 = 30000 */
    int64_t default_deadline_ms;  /* 0 = 3600000 (1 h) */
    int64_t misfire_grace_ms;     /* a slot this late is a misfire; 0 = 60000 */
    int64_t progress_interval_ms; /* progress stored at most this often per run; 0 = 250 */
    uint32_t retain_count;        /* finished runs kept per kind; 0 = 1000 */
    int64_t retain_age_ms;        /* finished runs older than this are pruned; 0 = 30 days */
    int64_t prune_interval_ms;    /* how often retention runs; 0 = 60000 */
    int64_t stop_grace_ms;        /* sched_stop(): wait this long before cancelling; 0 = 10000 */
    uint32_t fire_batch;          /* due schedules per dispatcher transaction; 0 = 1000 */
    /**
     * Fire schedules this long before their slot: the run is written then, queued for the
     * slot, so that when the slot comes only its lease is left to commit (dispatch lag of
     * a burst: docs/benchmarks.md). 0 = 500; at most 60000.
     */
    int64_t fire_ahead_ms;
    /**
     * Runs leased beyond the idle workers, waiting in memory for one (their leases are
     * renewed like the others). Lets a burst of due runs be leased in the transaction that
     * fires them; 0 = none. Per-kind limits count these too.
     */
    uint32_t queue_depth;
    /** This instance's lease owner id; NULL = "<hostname>:<pid>:<random>". Copied. */
    const char *instance_id;
    /**
     * True: at start, take the runs other owners left "running" at once (they are dead:
     * the store is opened by one process at a time). False: wait for their leases.
     */
    bool reclaim_at_start;
    /** No dispatcher thread: the host (a test) calls sched_tick(). Workers still run. */
    bool manual;
    /** The jitter source, uniform in [0, 1]; NULL = an internal PRNG. For tests. */
    double (*random)(void *arg);
    void *random_arg;
} sched_options;

/* clang-format off */
#define SCHED_OPTIONS_INIT {0}
/* clang-format on */

/**
 * @brief The store tables of the scheduler, for the host's store_open() list.
 * @param[out] n how many (2).
 * @return a static array of `const store_table *`.
 */
const store_table *const *sched_tables(size_t *n);
extern const store_table sched_schedules_table;
extern const store_table sched_runs_table;

/**
 * @brief Create an engine on an open store (it must have been opened with sched_tables()).
 * Starts no thread.
 * @param[in] st borrowed; MUST outlive the engine.
 * @param[in] clock borrowed; NULL = clm_clock_system().
 * @param[in] options NULL for defaults; copied.
 * @param[out] out free with sched_free().
 * @return CLM_OK, CLM_ERR_INVALID_ARGUMENT (an option out of range, named),
 *   CLM_ERR_NO_MEMORY.
 */
clm_err sched_new(store *st, const clm_clock *clock, const sched_options *options, sched **out);

/**
 * @brief Register a job kind. Before sched_start().
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT (bad name or field, named);
 *   CLM_ERR_ALREADY_EXISTS (the name is taken); CLM_ERR_CONFLICT (already started);
 *   CLM_ERR_NO_MEMORY.
 */
clm_err sched_kind_register(sched *s, const sched_kind *kind);

/** A registered kind's copy, or NULL. Valid until sched_free(). */
const sched_kind *sched_kind_find(const sched *s, const char *name);

/**
 * @brief Watch callback: a run changed (state, progress, attempt...) and was committed.
 * @param[in] run the stored record; valid during the call only.
 * MUST return quickly and MUST NOT call writing functions of this engine.
 */
typedef void (*sched_watch_fn)(void *arg, const sched_run *run);

/** @brief Set the one watch callback (NULL: none). Before sched_start(). */
void sched_watch_set(sched *s, sched_watch_fn fn, void *arg);

/**
 * @brief Start the worker threads and (unless options.manual) the dispatcher thread.
 * @return CLM_OK, CLM_ERR_CONFLICT (started before), CLM_ERR_NO_MEMORY, CLM_ERR_INTERNAL
 *   (a thread could not be created).
 */
clm_err sched_start(sched *s);

/**
 * @brief Stop gracefully: take no new work and fire no schedule; wait up to
 * options.stop_grace_ms for running runs; then tell them to stop (sched_ctx_check()
 * reports CLM_ERR_CANCELLED) and wait until every run function has returned. Results are
 * stored; runs interrupted by the stop go back to "queued" (their lease released) and run
 * again at the next start. Idempotent. Safe to call when never started.
 * Caveats: blocks until run functions return: a run function that never checks its
 * context blocks sched_stop().
 */
void sched_stop(sched *s);

/** @brief Free the engine (stopping it first). Accepts NULL. The store stays open. */
void sched_free(sched *s);

/**
 * @brief Wake the dispatcher now (after the host changed the clock in a test, or wrote
 * scheduler records itself).
 */
void sched_wake(sched *s);

/**
 * @brief One dispatcher pass on the calling thread (options.manual): store finished
 * results and throttled progress, renew leases, expire dead leases, fire due schedules,
 * prune, lease runnable runs and hand them to the workers.
 * @param[out] next_wake_ns when the next pass is needed (clock time); may be NULL.
 * @return CLM_OK, or the store's error (the pass is retried at the next tick).
 */
clm_err sched_tick(sched *s, int64_t *next_wake_ns);

/**
 * @brief Wait (real time) until no run function is executing and none is handed out.
 * @return CLM_OK, CLM_ERR_TIMEOUT after timeout_ms.
 */
clm_err sched_wait_idle(sched *s, int64_t timeout_ms);

/* ---- the run context (for run functions) ----------------------------------------------- */

/** The run's params and their length; NUL-terminated (so JSON text reads as a string). */
const char *sched_ctx_params(const sched_ctx *ctx, size_t *len);
uint64_t sched_ctx_run_id(const sched_ctx *ctx);
uint64_t sched_ctx_schedule_id(const sched_ctx *ctx);
const char *sched_ctx_kind(const sched_ctx *ctx);
/** Attempt of this batch (1 = first) and over all batches. */
uint32_t sched_ctx_attempt(const sched_ctx *ctx);
uint32_t sched_ctx_attempts_total(const sched_ctx *ctx);
/** Batch index (0-based) and size (0: not batched) of this call. */
void sched_ctx_batch(const sched_ctx *ctx, uint32_t *index, uint32_t *size);
/** The slot that fired the run (RunNow: its creation), and this attempt's deadline. */
int64_t sched_ctx_scheduled_ns(const sched_ctx *ctx);
int64_t sched_ctx_deadline_ns(const sched_ctx *ctx);
const clm_clock *sched_ctx_clock(const sched_ctx *ctx);
/** Progress stored by an earlier attempt or batch (0, 0 when none). */
void sched_ctx_last_progress(const sched_ctx *ctx, uint64_t *done, uint64_t *total);

/**
 * @brief Should the run stop?
 * @return CLM_OK to go on; CLM_ERR_CANCELLED: a cancel was requested or the engine is
 *   stopping; CLM_ERR_TIMEOUT: the attempt's deadline passed. The message says which.
 */
clm_err sched_ctx_check(sched_ctx *ctx);

/**
 * @brief Report progress: `done` of `total` (total 0: unknown) and a message (printf,
 * truncated at SCHED_MESSAGE_MAX). Stored at most every options.progress_interval_ms per
 * run (the latest value wins; the final one is stored with the result) and then pushed to
 * watchers. Cheap: never blocks on the store.
 */
void sched_ctx_progress(sched_ctx *ctx, uint64_t done, uint64_t total, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** @brief The error message stored with a RETRY or FAIL outcome (printf, truncated). */
void sched_ctx_error(sched_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the host's API -------------------------------------------------------------------- */

/**
 * Joins the host's work (an audit entry) to the engine's write transaction: called inside
 * it after the engine's writes; an error aborts everything. Like any store_update()
 * function it may be called more than once (map growth) and MUST have no other effects.
 */
typedef struct sched_hook {
    clm_err (*fn)(store_txn *txn, void *arg);
    void *arg;
} sched_hook;

/** A schedule to create. Strings are borrowed for the call. */
typedef struct sched_schedule_spec {
    const char *name;      /* 1..SCHED_NAME_MAX bytes, no control characters */
    const char *kind;      /* a registered kind */
    const char *cron;      /* cron.h syntax */
    const char *time_zone; /* IANA name; NULL or "" = "UTC" */
    const void *params;    /* MAY be NULL; at most SCHED_PARAMS_MAX bytes */
    size_t params_len;
    bool enabled;
    sched_misfire misfire;           /* DEFAULT: the kind's */
    uint32_t batch_size;             /* 0: the kind's */
    uint32_t batch_interval_minutes; /* 0: the kind's; at most SCHED_BATCH_INTERVAL_MAX */
} sched_schedule_spec;

/**
 * @brief Validate a spec without writing anything.
 * @return CLM_OK or CLM_ERR_INVALID_ARGUMENT whose message starts with the field name:
 *   "name: ...", "kind: unknown job kind ...", "cron: field ...", "time_zone: unknown time
 *   zone ...", "params: ...", "misfire: ...", "batch_interval_minutes: ...".
 */
clm_err sched_schedule_validate(sched *s, const sched_schedule_spec *spec);

/**
 * @brief Create a schedule; its next fire time is computed from now.
 * @param[in] hook MAY be NULL.
 * @param[out] id the new id; may be NULL.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT (as validate; nothing written);
 *   CLM_ERR_ALREADY_EXISTS (the name is taken); the hook's error; store errors.
 */
clm_err sched_schedule_create(sched *s, const sched_schedule_spec *spec, const sched_hook *hook,
                              uint64_t *id);

/**
 * @brief Create many schedules in one transaction (imports, benchmarks): all or none.
 * @param[out] first_id ids are first_id .. first_id + n - 1; may be NULL.
 * @return as sched_schedule_create(); the message names the failing index.
 */
clm_err sched_schedule_create_many(sched *s, const sched_schedule_spec *specs, size_t n,
                                   const sched_hook *hook, uint64_t *first_id);

/** Which fields sched_schedule_update() changes. */
enum {
    SCHED_SET_ENABLED = 1u << 0,
    SCHED_SET_CRON = 1u << 1, /* cron and time_zone together */
    SCHED_SET_PARAMS = 1u << 2,
    SCHED_SET_MISFIRE = 1u << 3,
    SCHED_SET_BATCH = 1u << 4, /* batch_size and batch_interval_minutes */
    SCHED_SET_NAME = 1u << 5,
};

/**
 * @brief Change a schedule: the fields in `mask`, taken from `spec` (others ignored; kind
 * cannot change). Enabling, or changing cron/zone, recomputes the next fire from now.
 * @return CLM_OK; CLM_ERR_NOT_FOUND; CLM_ERR_INVALID_ARGUMENT (named, nothing written;
 *   also for an empty mask); CLM_ERR_ALREADY_EXISTS (new name taken); hook and store
 *   errors.
 */
clm_err sched_schedule_update(sched *s, uint64_t id, unsigned mask, const sched_schedule_spec *spec,
                              const sched_hook *hook);

/**
 * @brief Delete a schedule. Its runs stay (history; queued ones still run).
 * @return CLM_OK, CLM_ERR_NOT_FOUND, hook and store errors.
 */
clm_err sched_schedule_delete(sched *s, uint64_t id, const sched_hook *hook);

/**
 * @brief Read a schedule by id or (id 0) by name.
 * @param[out] out free with sched_schedule_free().
 * @return CLM_OK, CLM_ERR_NOT_FOUND, CLM_ERR_STORE.
 */
clm_err sched_schedule_get(sched *s, uint64_t id, const char *name, sched_schedule **out);
void sched_schedule_free(sched_schedule *schedule);

/** A page of records; free with sched_*_page_free(). */
typedef struct sched_schedule_page {
    sched_schedule **items;
    size_t n;
    uint64_t next_after_id; /* 0: no more */
} sched_schedule_page;

/**
 * @brief List schedules in id order, after `after_id` (0: from the start).
 * @param[in] limit 1..SCHED_PAGE_MAX (0 = 100).
 * @return CLM_OK, CLM_ERR_INVALID_ARGUMENT (limit), CLM_ERR_NO_MEMORY, CLM_ERR_STORE.
 */
clm_err sched_schedule_list(sched *s, uint64_t after_id, size_t limit, sched_schedule_page *page);
void sched_schedule_page_free(sched_schedule_page *page);

/** A run to enqueue now. */
typedef struct sched_run_spec {
    const char *kind;
    const void *params;
    size_t params_len;
    uint32_t batch_size;             /* 0: the kind's */
    uint32_t batch_interval_minutes; /* 0: the kind's */
    /**
     * MAY: not before this time (clock ns): a one-off run at a given time (the reference
     * guide's "Schedule later"). 0 or a past time: now. The run is "queued" until then
     * with next_attempt and scheduled = at_ns, and cancellable meanwhile.
     */
    int64_t at_ns;
} sched_run_spec;

/**
 * @brief Enqueue a run of a kind now (RunNow), or for spec->at_ns.
 * @param[out] id the run id; may be NULL.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT ("kind: ...", "params: ...",
 *   "batch_interval_minutes: ..."; nothing written); CLM_ERR_CONFLICT (stopping); hook and
 *   store errors.
 */
clm_err sched_run_now(sched *s, const sched_run_spec *spec, const sched_hook *hook, uint64_t *id);

/**
 * @brief Read a run.
 * @param[out] out free with sched_run_free().
 * @return CLM_OK, CLM_ERR_NOT_FOUND, CLM_ERR_STORE.
 */
clm_err sched_run_get(sched *s, uint64_t id, sched_run **out);
void sched_run_free(sched_run *run);

/** Filters of sched_run_list(); zero fields do not filter. */
typedef struct sched_run_filter {
    const char *kind;
    const char *state;       /* one of the SCHED_STATE_* strings */
    int64_t created_from_ns; /* created >= from */
    int64_t created_to_ns;   /* created < to */
    uint64_t schedule_id;
    bool oldest_first; /* default: newest first */
} sched_run_filter;

typedef struct sched_run_page {
    sched_run **items;
    size_t n;
    char next_page_token[SCHED_PAGE_TOKEN_MAX]; /* "" when there is no more */
} sched_run_page;

/**
 * @brief List runs ordered by (created, id), newest first unless filter->oldest_first.
 * Uses the listing index: by kind when a kind is given, else by state, else by time; other
 * filters are applied to each record. A page examines at most 20 * limit records; it may
 * then hold fewer than `limit` items and a token to go on.
 * @param[in] page_token NULL or "" for the first page, else a next_page_token.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT ("state: ...", "page_token: ...", "limit: ...");
 *   CLM_ERR_NO_MEMORY, CLM_ERR_STORE.
 */
clm_err sched_run_list(sched *s, const sched_run_filter *filter, const char *page_token,
                       size_t limit, sched_run_page *page);
void sched_run_page_free(sched_run_page *page);

/**
 * @brief Cancel a run. Queued: cancelled at once. Running: cancel_requested is stored and
 * the run function sees it through sched_ctx_check(); the run ends "cancelled" (or
 * "succeeded" if it completed anyway).
 * @return CLM_OK; CLM_ERR_NOT_FOUND; CLM_ERR_CONFLICT (already final: the message names
 *   the state); hook and store errors.
 */
clm_err sched_run_cancel(sched *s, uint64_t id, const sched_hook *hook);

/**
 * @brief The change counter: it grows with every committed change of any run.
 */
uint64_t sched_generation(sched *s);

/**
 * @brief Block (real time) until the change counter exceeds `seen`, or timeout_ms passes
 * (<= 0: do not wait), or the engine stops. For streaming handlers:
 *   gen = sched_generation(s); loop { read the run; send if changed; if final: break;
 *   gen = sched_wait_change(s, gen, 1000); }
 * @return the counter now.
 */
uint64_t sched_wait_change(sched *s, uint64_t seen, int64_t timeout_ms);

/** Counters for monitoring and tests. */
typedef struct sched_stats {
    uint64_t passes;   /* dispatcher passes */
    uint64_t fired;    /* runs enqueued by schedules */
    uint64_t misfires; /* stale slots collapsed or skipped */
    uint64_t leased;   /* runs handed to workers */
    uint64_t finished; /* results stored */
    uint64_t retried;  /* RETRY outcomes queued again */
    uint64_t expired;  /* leases of others found expired */
    uint64_t renewed;  /* lease renewals written */
    uint64_t progress_writes;
    uint64_t pruned;  /* finished runs deleted by retention */
    uint32_t running; /* run functions executing now */
} sched_stats;

void sched_stats_get(sched *s, sched_stats *stats);

/** This engine's lease owner id. */
const char *sched_instance_id(const sched *s);

#endif
