/* appliance/jobs/kinds.c: the job-kind table. */
#include "appliance/jobs/kinds.h"

static job_kind_row kind_rows[] = {
    {{.name = "expiry-notice", .run = job_expiry_notice, .max_concurrency = 1,
      .retry = {.max_attempts = 5, .base_backoff_ms = 60000}},
     "certificates expiring within `days` (widened by their group's renewal window): a log "
     "line each and one JSON webhook POST (params: days, webhook_url, ca_file)"},
    {{.name = "diag-wait", .run = job_diag_wait, .max_concurrency = 16,
      .retry = {.max_attempts = 5}},
     "diagnostic: waits the given seconds with progress; with marker_dir, writes one "
     "completion marker per run (used to test the scheduler end to end)"},
};

const job_kind_row *jobs_kind_rows(size_t *n)
{
    *n = sizeof(kind_rows) / sizeof(kind_rows[0]);
    return kind_rows;
}

clm_err jobs_register_kinds(sched *s, clm_app *app)
{
    for (size_t i = 0; i < sizeof(kind_rows) / sizeof(kind_rows[0]); i++) {
        clm_err err;
        kind_rows[i].kind.arg = app;
        if ((err = sched_kind_register(s, &kind_rows[i].kind)) != CLM_OK)
            return err;
    }
    return CLM_OK;
}
