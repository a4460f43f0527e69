/*
 * appliance/jobs/sweep.h: one TLS sweep on behalf of a job (tls-discovery,
 * push-validation): the probe options from [tls], the run's progress as endpoints
 * finish, and the run's cancel, deadline and shutdown passed on to the sweep.
 */
#ifndef CLM_APPLIANCE_JOBS_SWEEP_H
#define CLM_APPLIANCE_JOBS_SWEEP_H

#include <stdbool.h>
#include <stddef.h>

#include "adapters/adapter.h"
#include "scheduler/scheduler.h"

typedef struct clm_app clm_app;

/**
 * @brief Sweep `targets` with the appliance's probe settings.
 * @param[in] unresolved_as_result a name that does not resolve is a result, not an error.
 * @param[out] out the report (free with tls_probe_report_free); NULL on errors.
 * @param[out] err the sweep's error (CLM_OK with a report).
 * @return SCHED_OUTCOME_OK with a report; otherwise the outcome to return, with the
 *         message already given to sched_ctx_error(): FAIL for what a retry cannot fix
 *         (targets outside [tls] allow, bad targets, no trust store), RETRY otherwise.
 */
sched_outcome job_sweep(sched_ctx *ctx, clm_app *app, const adapter_probe_target *targets,
                        size_t n, bool unresolved_as_result, adapter_probe_report **out,
                        clm_err *err);

/**
 * @brief Which targets the allow-list refuses once their names are resolved, for a
 * sweep that failed with CLM_ERR_PERMISSION: refused[i] gets the reason (malloc'd) for
 * each refused target, NULL for the others.
 * @return the number refused.
 */
size_t job_sweep_refused(clm_app *app, const adapter_probe_target *targets, size_t n,
                         char **refused);

#endif
