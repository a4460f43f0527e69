/* appliance/jobs/sweep.c: a TLS sweep for a job (sweep.h). */
#include "appliance/jobs/sweep.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/tls/probe.h"
#include "adapters/tls/targets.h"
#include "appliance/app.h"
#include "appliance/endpoints/records.h"

typedef struct sweep_watch {
    sched_ctx *ctx;
    size_t total;
    size_t done;
    atomic_bool cancel;
} sweep_watch;

/* One call at a time (the probe serialises on_result); sched_ctx_* are thread-safe. */
static void on_result(void *arg, const adapter_probe_result *result)
{
    sweep_watch *w = arg;

    (void)result;
    w->done++;
    if ((w->done & 63) == 0 || w->done == w->total) {
        sched_ctx_progress(w->ctx, w->done, w->total, "probed %zu of %zu endpoints", w->done,
                           w->total);
        if (sched_ctx_check(w->ctx) != CLM_OK)
            atomic_store(&w->cancel, true);
    }
}

sched_outcome job_sweep(sched_ctx *ctx, clm_app *app, const adapter_probe_target *targets,
                        size_t n, bool unresolved_as_result, adapter_probe_report **out,
                        clm_err *err_out)
{
    endpoint_probe_setup setup;
    sweep_watch watch = {ctx, n, 0, false};
    clm_err err;

    *out = NULL;
    endpoint_probe_setup_init(&setup, &app->config);
    setup.options.unresolved_as_result = unresolved_as_result;
    setup.options.clock = sched_ctx_clock(ctx);
    setup.options.on_result = on_result;
    setup.options.on_result_arg = &watch;
    setup.options.cancel = &watch.cancel;
    err = tls_probe_sweep(targets, n, &setup.options, out);
    *err_out = err;
    if (err == CLM_OK)
        return SCHED_OUTCOME_OK;
    tls_probe_report_free(*out);
    *out = NULL;
    sched_ctx_error(ctx, "%s", clm_error_message());
    switch (err) {
    case CLM_ERR_PERMISSION:
    case CLM_ERR_INVALID_ARGUMENT:
        return SCHED_OUTCOME_FAIL;
    case CLM_ERR_NOT_FOUND: /* a name that does not resolve may resolve later */
    default:
        return SCHED_OUTCOME_RETRY;
    }
}

size_t job_sweep_refused(clm_app *app, const adapter_probe_target *targets, size_t n,
                         char **refused)
{
    endpoint_probe_setup setup;
    size_t count = 0;

    endpoint_probe_setup_init(&setup, &app->config);
    setup.options.unresolved_as_result = true;
    for (size_t i = 0; i < n; i++) {
        tls_endpoint_list list = {0};
        refused[i] = NULL;
        if (tls_targets_expand(&targets[i], 1, &setup.options, true, &list) ==
            CLM_ERR_PERMISSION) {
            refused[i] = strdup(clm_error_message());
            count++;
        }
        tls_endpoint_list_free(&list);
        clm_error_clear();
    }
    return count;
}
