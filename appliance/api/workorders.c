/*
 * appliance/api/workorders.c: clm.v1.WorkOrders handlers over appliance/workorders.
 * Every field is validated before anything is written; each transition is one write
 * transaction with its audit entry (identity, method, the work order id, "from -> to").
 * The challenge password never leaves the appliance: it is sealed, and replies carry
 * the stored order, which has none.
 */
#include "appliance/api/workorders.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "appliance/app.h"
#include "appliance/workorders/workorders.h"
#include "store/audit.h"

static clm_err audit_call(store_txn *txn, void *arg, const char *target, const char *what)
{
    rpc_call *call = arg;
    const rpc_peer *peer = rpc_call_peer(call);
    char outcome[160];
    store_audit_event ev;
    clm_err err;

    rpc_call_set_audit_target(call, target);
    snprintf(outcome, sizeof(outcome), "ok: %s", what);
    ev.identity = peer->identity;
    ev.role = (int32_t)peer->role;
    ev.method = rpc_call_method(call)->path;
    ev.target = target;
    ev.outcome = outcome;
    err = store_audit_append(txn, &ev, NULL);
    if (err == CLM_OK)
        rpc_call_mark_audited(call);
    return err;
}

static void wake(void *arg)
{
    rpc_server_wake_watchers(arg);
}

static workorder_context context_of(rpc_call *call)
{
    clm_app *app = rpc_call_app(call);
    const rpc_peer *peer = rpc_call_peer(call);
    workorder_context ctx = {app->store, app->seal, app->clock, app->sched,
                             rpc_call_arena(call), {peer->identity, peer->role},
                             audit_call, call, wake, rpc_call_server(call), NULL, NULL};
    return ctx;
}

/* The reply: the order as stored (protobuf-c copies of the fields are not needed: the
   response is packed before the call's arena goes). */
static void reply(ProtobufCMessage *response, const Clm__V1__WorkOrder *o)
{
    Clm__V1__WorkOrder *out = (void *)response;

    *out = *o;
}

static clm_err create(rpc_call *call, const ProtobufCMessage *request, ProtobufCMessage *response)
{
    const Clm__V1__CreateWorkOrderRequest *req = (const void *)request;
    workorder_context ctx = context_of(call);
    Clm__V1__WorkOrder *o;
    clm_err err;

    rpc_call_set_audit_target(call, req->connector[0] ? req->connector : req->target_sha256);
    if ((err = workorder_create(&ctx, req, &o)) != CLM_OK)
        return err;
    reply(response, o);
    return CLM_OK;
}

static clm_err act(rpc_call *call, const char *id, workorder_action action, const char *comment,
                   int64_t at_ns, ProtobufCMessage *response)
{
    workorder_context ctx = context_of(call);
    Clm__V1__WorkOrder *o;
    clm_err err;

    if (id[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "id: required");
    rpc_call_set_audit_target(call, id);
    if ((err = workorder_act(&ctx, id, action, comment, at_ns, &o)) != CLM_OK)
        return err;
    reply(response, o);
    return CLM_OK;
}

static clm_err submit(rpc_call *call, const ProtobufCMessage *request, ProtobufCMessage *response)
{
    const Clm__V1__WorkOrderAction *req = (const void *)request;
    return act(call, req->id, WO_ACT_SUBMIT, req->comment, 0, response);
}

static clm_err approve(rpc_call *call, const ProtobufCMessage *request, ProtobufCMessage *response)
{
    const Clm__V1__WorkOrderAction *req = (const void *)request;
    return act(call, req->id, WO_ACT_APPROVE, req->comment, 0, response);
}

static clm_err reject(rpc_call *call, const ProtobufCMessage *request, ProtobufCMessage *response)
{
    const Clm__V1__WorkOrderAction *req = (const void *)request;
    return act(call, req->id, WO_ACT_REJECT, req->comment, 0, response);
}

static clm_err cancel(rpc_call *call, const ProtobufCMessage *request, ProtobufCMessage *response)
{
    const Clm__V1__WorkOrderAction *req = (const void *)request;
    return act(call, req->id, WO_ACT_CANCEL, req->comment, 0, response);
}

static clm_err implement(rpc_call *call, const ProtobufCMessage *request,
                         ProtobufCMessage *response)
{
    const Clm__V1__ImplementWorkOrderRequest *req = (const void *)request;
    int64_t at = 0;

    if (req->at != NULL) {
        if (req->at->seconds < 0 || req->at->seconds > INT64_MAX / 1000000000LL - 1 ||
            req->at->nanos < 0 || req->at->nanos > 999999999)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "at: not a valid time");
        at = req->at->seconds * 1000000000LL + req->at->nanos;
    }
    return act(call, req->id, WO_ACT_IMPLEMENT, req->comment, at, response);
}

typedef struct read_op {
    rpc_call *call;
    clm_arena *arena;
    const ProtobufCMessage *request;
    ProtobufCMessage *response;
    uint64_t id;
    Clm__Store__V1__WorkOrderRecord *record;
} read_op;

static clm_err get_txn(store_txn *txn, void *arg)
{
    read_op *op = arg;
    return workorder_get(txn, op->arena, op->id, &op->record);
}

static clm_err get(rpc_call *call, const ProtobufCMessage *request, ProtobufCMessage *response)
{
    const Clm__V1__GetWorkOrderRequest *req = (const void *)request;
    read_op op = {call, rpc_call_arena(call), request, response, 0, NULL};
    clm_err err;

    if ((err = workorder_parse_id(req->id, "id", &op.id)) != CLM_OK ||
        (err = store_view(((clm_app *)rpc_call_app(call))->store, get_txn, &op)) != CLM_OK)
        return err;
    reply(response, op.record->order);
    return CLM_OK;
}

static clm_err list_txn(store_txn *txn, void *arg)
{
    read_op *op = arg;
    return workorder_list(txn, rpc_call_arena(op->call), (const void *)op->request,
                          (void *)op->response);
}

static clm_err list(rpc_call *call, const ProtobufCMessage *request, ProtobufCMessage *response)
{
    read_op op = {call, rpc_call_arena(call), request, response, 0, NULL};

    return store_view(((clm_app *)rpc_call_app(call))->store, list_txn, &op);
}

/* Every transition so far, then each new one, until a final state. */
static clm_err watch(rpc_call *call, const ProtobufCMessage *request)
{
    const Clm__V1__GetWorkOrderRequest *req = (const void *)request;
    clm_app *app = rpc_call_app(call);
    read_op op = {call, NULL, request, NULL, 0, NULL};
    size_t sent = 0;
    clm_err err;

    if ((err = workorder_parse_id(req->id, "id", &op.id)) != CLM_OK)
        return err;
    for (;;) {
        uint64_t generation = rpc_server_watch_generation(app->server);
        clm_arena scratch = CLM_ARENA_INIT;
        const Clm__V1__WorkOrder *o;
        bool final;

        op.arena = &scratch;
        if ((err = store_view(app->store, get_txn, &op)) != CLM_OK) {
            clm_arena_free(&scratch);
            return err;
        }
        o = op.record->order;
        final = workorder_state_is_final(o->state);
        for (; sent < o->n_history; sent++) {
            Clm__V1__WorkOrderEvent ev = CLM__V1__WORK_ORDER_EVENT__INIT;
            ev.transition = o->history[sent];
            ev.work_order = (Clm__V1__WorkOrder *)o;
            if ((err = rpc_call_send(call, &ev.base)) != CLM_OK) {
                clm_arena_free(&scratch);
                return err;
            }
        }
        clm_arena_free(&scratch);
        if (final)
            return CLM_OK;
        if (rpc_call_wait(call, generation, 1000000000LL))
            return rpc_call_cancelled(call) ? clm_fail(CLM_ERR_CANCELLED, "watch cancelled")
                                            : clm_fail(CLM_ERR_UNAVAILABLE,
                                                       "clmd is shutting down");
    }
}

#define WRITERS (RPC_ROLE_BIT(RPC_ROLE_ADMIN) | RPC_ROLE_BIT(RPC_ROLE_OPERATOR))
#define APPROVERS (RPC_ROLE_BIT(RPC_ROLE_ADMIN) | RPC_ROLE_BIT(RPC_ROLE_APPROVER))
/* Submit and cancel: the requester (an operator or admin made it) or an admin. */

const rpc_method workorders_methods[] = {
    {"/clm.v1.WorkOrders/CreateWorkOrder", RPC_UNARY, WRITERS, 1,
     &clm__v1__create_work_order_request__descriptor, &clm__v1__work_order__descriptor, create,
     NULL},
    {"/clm.v1.WorkOrders/SubmitWorkOrder", RPC_UNARY, WRITERS, 1,
     &clm__v1__work_order_action__descriptor, &clm__v1__work_order__descriptor, submit, NULL},
    {"/clm.v1.WorkOrders/ApproveWorkOrder", RPC_UNARY, APPROVERS, 1,
     &clm__v1__work_order_action__descriptor, &clm__v1__work_order__descriptor, approve, NULL},
    {"/clm.v1.WorkOrders/RejectWorkOrder", RPC_UNARY, APPROVERS, 1,
     &clm__v1__work_order_action__descriptor, &clm__v1__work_order__descriptor, reject, NULL},
    {"/clm.v1.WorkOrders/ImplementWorkOrder", RPC_UNARY, WRITERS, 1,
     &clm__v1__implement_work_order_request__descriptor, &clm__v1__work_order__descriptor,
     implement, NULL},
    {"/clm.v1.WorkOrders/CancelWorkOrder", RPC_UNARY, WRITERS, 1,
     &clm__v1__work_order_action__descriptor, &clm__v1__work_order__descriptor, cancel, NULL},
    {"/clm.v1.WorkOrders/GetWorkOrder", RPC_UNARY, RPC_ROLES_ANY, 0,
     &clm__v1__get_work_order_request__descriptor, &clm__v1__work_order__descriptor, get, NULL},
    {"/clm.v1.WorkOrders/ListWorkOrders", RPC_UNARY, RPC_ROLES_ANY, 0,
     &clm__v1__list_work_orders_request__descriptor,
     &clm__v1__list_work_orders_response__descriptor, list, NULL},
    {"/clm.v1.WorkOrders/WatchWorkOrder", RPC_SERVER_STREAMING, RPC_ROLES_ANY, 0,
     &clm__v1__get_work_order_request__descriptor, &clm__v1__work_order_event__descriptor, NULL,
     watch},
};
const size_t workorders_methods_count = sizeof(workorders_methods) / sizeof(workorders_methods[0]);
