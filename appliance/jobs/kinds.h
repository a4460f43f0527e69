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

/** A kind and the sentence `ListKinds` shows for it. */
typedef struct job_kind_row {
    sched_kind kind;
    const char *description;
} job_kind_row;

/** Register every kind with `app` as their argument. */
clm_err jobs_register_kinds(sched *s, clm_app *app);

/** The table, for ListKinds. */
const job_kind_row *jobs_kind_rows(size_t *n);

/* The kinds (one file each). */
sched_outcome job_diag_wait(sched_ctx *ctx, void *app);
sched_outcome job_expiry_notice(sched_ctx *ctx, void *app);

#endif
