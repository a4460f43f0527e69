/*
 * appliance/jobs/kinds.h: the job kinds clmd registers into the scheduler. One file
 * per kind, one row per kind in kinds.c (the job-kind table: discovery, renewal
 * sweep, push and push validation join it as they land).
 *
 * Every kind MUST be idempotent: the scheduler runs a job at least once, and again
 * after a crash (scheduler/scheduler.h).
 */
#ifndef CLM_APPLIANCE_JOBS_KINDS_H
#define CLM_APPLIANCE_JOBS_KINDS_H

#include <stddef.h>

#include "scheduler/scheduler.h"

typedef struct clm_app clm_app;

/** A kind, the sentence `ListKinds` shows for it, and its params check. */
typedef struct job_kind_row {
    sched_kind kind;
    const char *description;
    /**
     * MAY: check params (JSON text, len bytes; 0: none given) before a schedule or a
     * run is stored, so bad params are refused by the API and not found by a worker.
     * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT or CLM_ERR_PERMISSION naming the field
     *         ("params.targets[0].host: ...").
     */
    clm_err (*check_params)(const char *params, size_t len, const clm_app *app);
} job_kind_row;

/** Register every kind with `app` as their argument. */
clm_err jobs_register_kinds(sched *s, clm_app *app);

/** The table, for ListKinds. */
const job_kind_row *jobs_kind_rows(size_t *n);

/**
 * @brief Check params for a kind (its check_params; kinds without one take any JSON
 * object). @return CLM_OK or the check's error; CLM_OK for unknown kinds (the scheduler
 * refuses those itself).
 */
clm_err jobs_check_params(const char *kind, const char *params, size_t len, const clm_app *app);

/**
 * @brief The schedules clmd makes at its first start (when missing): "push-validation"
 * every [tls] validation_interval, "renewal-sweep" every [renewal] interval (each none
 * when its interval is 0). An admin may change or delete them;
 * a deleted one comes back at the next start only if the interval is set.
 */
clm_err jobs_ensure_default_schedules(sched *s, clm_app *app);

/* The kinds (one file each). */
sched_outcome job_diag_wait(sched_ctx *ctx, void *app);
sched_outcome job_expiry_notice(sched_ctx *ctx, void *app);
sched_outcome job_tls_discovery(sched_ctx *ctx, void *app);
sched_outcome job_push_validation(sched_ctx *ctx, void *app);
sched_outcome job_work_order(sched_ctx *ctx, void *app);
sched_outcome job_renewal_sweep(sched_ctx *ctx, void *app);

/* Their params checks. */
clm_err job_tls_discovery_check(const char *params, size_t len, const clm_app *app);
clm_err job_push_validation_check(const char *params, size_t len, const clm_app *app);
clm_err job_work_order_check(const char *params, size_t len, const clm_app *app);
clm_err job_renewal_sweep_check(const char *params, size_t len, const clm_app *app);

#endif
