/* appliance/jobs/kinds.c: the job-kind table. */
#include "appliance/jobs/kinds.h"

#include <stdio.h>
#include <string.h>

#include "appliance/app.h"
#include "lib/base/log.h"

static job_kind_row kind_rows[] = {
    {{.name = "expiry-notice", .run = job_expiry_notice, .max_concurrency = 1,
      .retry = {.max_attempts = 5, .base_backoff_ms = 60000}},
     "certificates expiring within `days` (widened by their group's renewal window): a log "
     "line each and one JSON webhook POST (params: days, webhook_url, ca_file)", NULL},
    {{.name = "tls-discovery", .run = job_tls_discovery, .max_concurrency = 2,
      .retry = {.max_attempts = 3, .base_backoff_ms = 60000}},
     "probe TLS endpoints (params: targets [{host, ports, sni, protocol}], after_discover "
     "none|managed|monitored, group, rules {issuer_contains, name_pattern, min_key_bits, "
     "expiring_within_days}); keeps endpoint records and brings served certificates into "
     "the inventory",
     job_tls_discovery_check},
    {{.name = "push-validation", .run = job_push_validation, .max_concurrency = 1,
      .retry = {.max_attempts = 3, .base_backoff_ms = 60000}},
     "probe every certificate binding and compare the served leaf with the expected one "
     "(params: certificate, optional); verdicts for the Push Validation Report",
     job_push_validation_check},
    {{.name = "work-order", .run = job_work_order, .max_concurrency = 2,
      .retry = {.max_attempts = 5, .base_backoff_ms = 30000}},
     "implement one approved work order (params: work_order, the number): key, CSR, the "
     "CA, the inventory; a pending CA is polled by a later run. Queued by ImplementWorkOrder",
     job_work_order_check},
    {{.name = "renewal-sweep", .run = job_renewal_sweep, .max_concurrency = 1,
      .retry = {.max_attempts = 3, .base_backoff_ms = 60000}},
     "make renew / regenerate / re-enroll work orders for the Managed certificates whose "
     "renewal window opened (params: dry_run, limit, group, max_per_connector); keeps each "
     "certificate's renewal lifecycle (clmctl cert why)",
     job_renewal_sweep_check},
    {{.name = "diag-wait", .run = job_diag_wait, .max_concurrency = 16,
      .retry = {.max_attempts = 5}},
     "diagnostic: waits the given seconds with progress; with marker_dir, writes one "
     "completion marker per run (used to test the scheduler end to end)", NULL},
};

const job_kind_row *jobs_kind_rows(size_t *n)
{
    *n = sizeof(kind_rows) / sizeof(kind_rows[0]);
    return kind_rows;
}

clm_err jobs_check_params(const char *kind, const char *params, size_t len, const clm_app *app)
{
    for (size_t i = 0; i < sizeof(kind_rows) / sizeof(kind_rows[0]); i++)
        if (strcmp(kind_rows[i].kind.name, kind) == 0)
            return kind_rows[i].check_params ? kind_rows[i].check_params(params, len, app)
                                             : CLM_OK;
    return CLM_OK;
}

static clm_err ensure_schedule(sched *s, const char *kind, int interval_s)
{
    sched_schedule_spec spec;
    char cron[32];
    uint64_t id;
    clm_err err;

    if (interval_s <= 0)
        return CLM_OK;
    memset(&spec, 0, sizeof(spec));
    snprintf(cron, sizeof(cron), "@every %ds", interval_s);
    spec.name = kind;
    spec.kind = kind;
    spec.cron = cron;
    spec.enabled = true;
    err = sched_schedule_create(s, &spec, NULL, &id);
    if (err == CLM_ERR_ALREADY_EXISTS) { /* made at an earlier start, maybe changed since */
        clm_error_clear();
        return CLM_OK;
    }
    if (err == CLM_OK)
        CLM_LOG_INFO("schedule.default", "name", spec.name, "cron", cron);
    return err;
}

clm_err jobs_ensure_default_schedules(sched *s, clm_app *app)
{
    clm_err err = ensure_schedule(s, "push-validation", app->config.validation_interval_s);

    return err == CLM_OK ? ensure_schedule(s, "renewal-sweep", app->config.renewal_interval_s)
                         : err;
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
