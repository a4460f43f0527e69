/*
 * scheduler/sched_testing.h: helpers shared by the engine tests (testonly): a store with
 * the scheduler's tables, a fake clock, an engine in manual mode, and test job kinds that
 * count, fail, batch or block on a gate the test opens.
 */
#ifndef CLM_SCHEDULER_SCHED_TESTING_H
#define CLM_SCHEDULER_SCHED_TESTING_H

#include "scheduler/scheduler.h"

#include <pthread.h>
#include <stdatomic.h>

#define T0 (INT64_C(1736935200) * CLM_NS_PER_SEC) /* 2025-01-15T10:00:00Z */
#define SECS(n) ((int64_t)(n)*CLM_NS_PER_SEC)
#define MINS(n) SECS((n)*60)

/** What the test kinds do; one per test. */
typedef struct kind_state {
    atomic_int calls; /* run function calls */
    atomic_int succeeded;
    int ok_at_attempt; /* "flaky": RETRY before this attempt, then OK (0: never) */
    int last_batch;    /* "batch": MORE until this batch index, then OK */
    uint32_t batches_seen[16];
    atomic_int n_batches;
    atomic_int per_run[512]; /* calls per run id (for exactly-once checks) */
    /* the gate: "gate" runs block until released, observing cancellation */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int entered, inside, release, step_waiting;
    int step;                /* "progress": the step the test allows */
    sched_outcome on_cancel; /* what a gate run returns when told to stop */
} kind_state;

typedef struct harness {
    char dir[512];
    store *st;
    clm_clock_fake clock;
    sched *s;
    kind_state ks;
} harness;

/** The test kinds: "ok", "flaky", "batch", "gate", "progress". */
extern const sched_kind test_kinds[5];

/** Open a store in a new directory and an engine; options NULL = manual, 4 workers. */
harness *harness_new(const char *name, const sched_options *options);
/** Engine over the same store with other options (after harness_engine_free). */
void harness_engine(harness *h, const sched_options *options);
void harness_engine_free(harness *h);
void harness_free(harness *h);

/** sched_tick(), then wait for the workers, then tick again to store results. */
void tick_and_settle(harness *h);
/** The run's state, attempt and last error (static buffer). */
const char *run_state(harness *h, uint64_t id);
sched_run *run_read(harness *h, uint64_t id);
uint64_t run_now(harness *h, const char *kind);
/** Wait (real time, 10 s at most) until `n` gate runs are inside. */
void gate_wait_inside(kind_state *ks, int n);
void gate_release(kind_state *ks, int n);
/** "progress" kind: wait until it waits for step `step`, then let it go on. */
void progress_wait(kind_state *ks, int step);
void progress_go(kind_state *ks);
/** Count runs (all, or of one state). */
size_t count_runs(harness *h, const char *state);

double max_jitter(void *arg);

#endif
