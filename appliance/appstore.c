/* appliance/appstore.c: the appliance's tables and its audit entries. */
#include "appliance/appstore.h"

#include <stdio.h>

#include "appliance/ca/connectors.h"
#include "appliance/ca/state.h"
#include "appliance/endpoints/tables.h"
#include "appliance/inventory/groups.h"
#include "appliance/jobs/kinds.h"
#include "appliance/renewal/lifecycle.h"
#include "appliance/inventory/tables.h"
#include "appliance/workorders/workorders.h"
#include "scheduler/scheduler.h"
#include "store/audit.h"
#include "store/seal.h"
#include "store/store.h"

/* Every table of the appliance; the scheduler brings its own two, and the store adds
   its own (meta, audit). */
static const store_table *const appliance_tables[] = {
    &inventory_certificates,
    &inventory_groups,
    &sched_schedules_table,
    &sched_runs_table,
    &endpoint_table,
    &binding_table,
    &validation_result_table,
    &connector_table,
    &connector_state_table,
    &workorder_table,
    &renewal_lifecycle_table,
};

static clm_err ensure_defaults(store_txn *txn, void *arg)
{
    clm_app *app = arg;

    return group_ensure_default(txn, clm_clock_now_ns(app->clock));
}

clm_err appstore_open(clm_app *app)
{
    store_options options = STORE_OPTIONS_INIT;
    clm_err err;

    options.map_size = app->config.map_size_mb << 20;
    options.clock = app->clock;
    if ((err = seal_key_load(app->config.data_dir, &app->seal)) != CLM_OK)
        return err;
    err = store_open(app->config.data_dir, &options, appliance_tables,
                     sizeof(appliance_tables) / sizeof(appliance_tables[0]), &app->store);
    if (err == CLM_OK)
        err = store_update(app->store, ensure_defaults, app);
    return err;
}

clm_err appstore_scheduler_new(clm_app *app)
{
    sched_options options = SCHED_OPTIONS_INIT;
    clm_err err;

    options.workers = (uint32_t)app->config.scheduler_workers;
    /* One process per data directory (the lock): runs left "running" by a clmd that
       died are taken again at once instead of after their leases expire. */
    options.reclaim_at_start = true;
    /* No queue_depth: a run leased into the in-memory queue is charged an attempt when
       clmd dies, although it never started (the kill -9 test showed runs failing that
       never ran). Bursts are slower without it (docs/benchmarks.md). */
    options.stop_grace_ms = (int64_t)app->config.shutdown_grace_s * 1000;
    if ((err = sched_new(app->store, app->clock, &options, &app->sched)) != CLM_OK)
        return err;
    if ((err = jobs_register_kinds(app->sched, app)) != CLM_OK)
        return err;
    return jobs_ensure_default_schedules(app->sched, app);
}

static void event_of(rpc_call *call, const char *outcome, store_audit_event *ev)
{
    const rpc_peer *peer = rpc_call_peer(call);

    ev->identity = peer->identity;
    ev->role = (int32_t)peer->role;
    ev->method = rpc_call_method(call)->path;
    ev->target = rpc_call_audit_target(call);
    ev->outcome = outcome;
}

clm_err appstore_audit_call(clm_app *app, rpc_call *call, clm_err result, const char *message)
{
    char outcome[CLM_ERROR_MESSAGE_MAX + 32];
    store_audit_event ev;

    if (result == CLM_OK)
        snprintf(outcome, sizeof(outcome), "ok");
    else
        snprintf(outcome, sizeof(outcome), "%s: %s", clm_strerror(result), message);
    event_of(call, outcome, &ev);
    return store_audit_record(app->store, &ev, NULL);
}

clm_err appstore_audit_in(store_txn *txn, rpc_call *call)
{
    store_audit_event ev;
    clm_err err;

    event_of(call, "ok", &ev);
    err = store_audit_append(txn, &ev, NULL);
    if (err == CLM_OK)
        rpc_call_mark_audited(call);
    return err;
}
