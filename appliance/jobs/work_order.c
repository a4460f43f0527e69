/*
 * appliance/jobs/work_order.c: the "work-order" kind, which implements one approved work
 * order (appliance/workorders/workorders.h, workorder_implement) on a scheduler worker:
 * key generation, CSR, the CA, the inventory. Queued by ImplementWorkOrder (now or at a
 * time) and by itself to poll a CA that answered pending.
 *
 * Idempotent as the contract demands: the order's stored state says what is left to do,
 * and a final order is left alone.
 *
 * Params (JSON): {"work_order": 42}
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "appliance/app.h"
#include "appliance/jobs/kinds.h"
#include "appliance/renewal/lifecycle.h"
#include "appliance/workorders/workorders.h"
#include "store/audit.h"

/** The identity the job's transitions are audited under. */
#define JOB_IDENTITY "clmd:work-order"

static clm_err parse_params(const char *text, size_t len, uint64_t *id)
{
    json_error_t error;
    json_t *root = len ? json_loadb(text, len, 0, &error) : NULL;
    json_t *v = root && json_is_object(root) ? json_object_get(root, "work_order") : NULL;
    clm_err err = CLM_OK;

    if (v == NULL || !json_is_integer(v) || json_integer_value(v) <= 0)
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT,
                       "params.work_order: required, the number of a work order");
    else
        *id = (uint64_t)json_integer_value(v);
    json_decref(root);
    return err;
}

clm_err job_work_order_check(const char *params, size_t len, const clm_app *app)
{
    uint64_t id;

    (void)app;
    return parse_params(params, len, &id);
}

static clm_err audit_job(store_txn *txn, void *arg, const char *target, const char *what)
{
    char outcome[160];
    store_audit_event ev = {JOB_IDENTITY, RPC_ROLE_ADMIN, "job:" WORKORDER_JOB_KIND, target,
                            outcome};

    (void)arg;
    snprintf(outcome, sizeof(outcome), "ok: %s", what);
    return store_audit_append(txn, &ev, NULL);
}

static void wake(void *arg)
{
    clm_app *app = arg;

    if (app->server != NULL)
        rpc_server_wake_watchers(app->server);
}

/* A renewal completed: the lifecycle's transfer rule, state and auto-push seam
   (appliance/renewal/lifecycle.h), inside the transaction that completes the order. */
typedef struct renewed_arg {
    clm_arena *arena;
    const clm_clock *clock;
} renewed_arg;

static clm_err renewed(store_txn *txn, void *arg, Clm__Store__V1__CertificateRecord *parent,
                       Clm__Store__V1__CertificateRecord *child, const Clm__V1__WorkOrder *order)
{
    renewed_arg *r = arg;

    return renewal_completed(txn, r->arena, parent, child, order, clm_clock_now_ns(r->clock));
}

sched_outcome job_work_order(sched_ctx *ctx, void *arg)
{
    clm_app *app = arg;
    clm_arena arena = CLM_ARENA_INIT;
    const sched_kind *k = sched_kind_find(app->sched, WORKORDER_JOB_KIND);
    renewed_arg ra = {&arena, app->clock};
    workorder_context wctx = {app->store, app->seal, app->clock, app->sched, &arena,
                              {JOB_IDENTITY, RPC_ROLE_ADMIN}, audit_job, NULL, wake, app,
                              renewed, &ra};
    char message[SCHED_MESSAGE_MAX];
    sched_outcome outcome;
    size_t len;
    const char *params = sched_ctx_params(ctx, &len);
    uint64_t id;

    if (parse_params(params, len, &id) != CLM_OK) {
        sched_ctx_error(ctx, "%s", clm_error_message());
        return SCHED_OUTCOME_FAIL;
    }
    outcome = workorder_implement(&wctx, id, sched_ctx_attempt(ctx),
                                  k && k->retry.max_attempts ? k->retry.max_attempts : 3,
                                  message, sizeof(message));
    if (outcome == SCHED_OUTCOME_OK)
        sched_ctx_progress(ctx, 1, 1, "%s", message);
    else
        sched_ctx_error(ctx, "%s", message);
    clm_arena_free(&arena);
    return outcome;
}
