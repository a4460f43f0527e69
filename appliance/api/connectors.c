/*
 * appliance/api/connectors.c: clm.v1.Connectors handlers over appliance/ca. Every field
 * is validated before anything is written; secrets (CA keys, key passwords) are never
 * in a reply, a log line or an error message.
 */
#include "appliance/api/connectors.h"

#include <string.h>

#include "appliance/app.h"
#include "appliance/appstore.h"
#include "appliance/ca/connectors.h"
#include "appliance/ca/issue.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/import_queue.h"
#include "appliance/inventory/page.h"
#include "clm/v1/connectors.pb-c.h"

typedef struct connector_op {
    rpc_call *call;
    clm_app *app;
    const ProtobufCMessage *request;
    ProtobufCMessage *response;
    const Clm__V1__Connector *connector; /* UpdateConnector: with kept secrets filled in */
} connector_op;

/* A deferred Issue waiting for its record's commit. */
typedef struct issue_call {
    rpc_call *call;
    connector_issue_job *job;
} issue_call;

static clm_err audit_in(store_txn *txn, void *arg)
{
    return appstore_audit_in(txn, arg);
}

static connector_context context_of(rpc_call *call)
{
    clm_app *app = rpc_call_app(call);
    connector_context ctx = {app->store, app->seal, app->clock, rpc_call_arena(call),
                             rpc_call_peer(call)->identity, audit_in, call};
    return ctx;
}

static clm_err create_txn(store_txn *txn, void *arg)
{
    connector_op *op = arg;
    const Clm__V1__CreateConnectorRequest *req = (const void *)op->request;
    Clm__Store__V1__ConnectorRecord *created;
    clm_err err;

    err = connector_create(txn, rpc_call_arena(op->call), op->app->seal, req->connector,
                           clm_clock_now_ns(op->app->clock), &created);
    if (err == CLM_OK)
        err = appstore_audit_in(txn, op->call);
    if (err == CLM_OK)
        err = connector_to_api(txn, rpc_call_arena(op->call), created, (void *)op->response);
    return err;
}

static clm_err create_connector(rpc_call *call, const ProtobufCMessage *request,
                                ProtobufCMessage *response)
{
    const Clm__V1__CreateConnectorRequest *req = (const void *)request;
    connector_op op = {call, rpc_call_app(call), request, response, NULL};
    clm_err err;

    if ((err = connector_validate(req->connector, "connector.")) == CLM_OK) {
        rpc_call_set_audit_target(call, req->connector->name);
        err = store_update(op.app->store, create_txn, &op);
    }
    connector_secrets_wipe(req->connector);
    return err;
}

static clm_err update_txn(store_txn *txn, void *arg)
{
    connector_op *op = arg;
    const Clm__V1__UpdateConnectorRequest *req = (const void *)op->request;
    Clm__Store__V1__ConnectorRecord *updated;
    clm_err err;

    err = connector_update(txn, rpc_call_arena(op->call), op->app->seal, req->name,
                           op->connector, clm_clock_now_ns(op->app->clock), &updated);
    if (err == CLM_OK)
        err = appstore_audit_in(txn, op->call);
    if (err == CLM_OK)
        err = connector_to_api(txn, rpc_call_arena(op->call), updated, (void *)op->response);
    return err;
}

static clm_err update_connector(rpc_call *call, const ProtobufCMessage *request,
                                ProtobufCMessage *response)
{
    const Clm__V1__UpdateConnectorRequest *req = (const void *)request;
    connector_op op = {call, rpc_call_app(call), request, response, NULL};
    Clm__V1__Connector *filled = NULL;
    clm_err err;

    if (req->name[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "name: required");
    if (req->connector == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "connector: missing");
    rpc_call_set_audit_target(call, req->name);
    /* A secret field sent back empty (as Get shows it) keeps the stored value. */
    err = connector_secrets_fill(op.app->store, op.app->seal, rpc_call_arena(call), req->name,
                                 req->connector, &filled);
    if (err == CLM_OK && (err = connector_validate(filled, "connector.")) == CLM_OK) {
        op.connector = filled;
        err = store_update(op.app->store, update_txn, &op);
    }
    if (filled != req->connector)
        connector_secrets_wipe(filled);
    connector_secrets_wipe(req->connector);
    return err;
}

static clm_err delete_txn(store_txn *txn, void *arg)
{
    connector_op *op = arg;
    const Clm__V1__DeleteConnectorRequest *req = (const void *)op->request;
    clm_err err = connector_delete(txn, rpc_call_arena(op->call), req->name);

    return err ? err : appstore_audit_in(txn, op->call);
}

static clm_err delete_connector(rpc_call *call, const ProtobufCMessage *request,
                                ProtobufCMessage *response)
{
    const Clm__V1__DeleteConnectorRequest *req = (const void *)request;
    connector_op op = {call, rpc_call_app(call), request, response, NULL};

    if (req->name[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "name: required");
    rpc_call_set_audit_target(call, req->name);
    return store_update(op.app->store, delete_txn, &op);
}

static clm_err get_txn(store_txn *txn, void *arg)
{
    connector_op *op = arg;
    const Clm__V1__GetConnectorRequest *req = (const void *)op->request;
    Clm__Store__V1__ConnectorRecord *r;
    clm_err err = connector_find(txn, rpc_call_arena(op->call), req->name, "name", &r);

    return err ? err : connector_to_api(txn, rpc_call_arena(op->call), r, (void *)op->response);
}

static clm_err get_connector(rpc_call *call, const ProtobufCMessage *request,
                             ProtobufCMessage *response)
{
    connector_op op = {call, rpc_call_app(call), request, response, NULL};

    return store_view(op.app->store, get_txn, &op);
}

static clm_err list_one(store_txn *txn, ProtobufCMessage *record, size_t i, size_t size,
                        void *arg)
{
    connector_op *op = arg;
    Clm__V1__ListConnectorsResponse *resp = (void *)op->response;
    clm_arena *arena = rpc_call_arena(op->call);
    Clm__V1__Connector *c;

    if (i == 0 &&
        (resp->connectors = clm_arena_alloc(arena, size * sizeof(*resp->connectors))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if ((c = clm_arena_alloc(arena, sizeof(*c))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    clm__v1__connector__init(c);
    resp->connectors[resp->n_connectors++] = c;
    return connector_to_api(txn, arena, (const Clm__Store__V1__ConnectorRecord *)record, c);
}

static clm_err list_txn(store_txn *txn, void *arg)
{
    connector_op *op = arg;
    const Clm__V1__ListConnectorsRequest *req = (const void *)op->request;
    Clm__V1__ListConnectorsResponse *resp = (void *)op->response;

    return page_list(txn, rpc_call_arena(op->call), &connector_table,
                     &connector_table.indexes[CONNECTOR_INDEX_NAME], req->page_size,
                     req->page_token, list_one, op, &resp->next_page_token);
}

static clm_err list_connectors(rpc_call *call, const ProtobufCMessage *request,
                               ProtobufCMessage *response)
{
    connector_op op = {call, rpc_call_app(call), request, response, NULL};

    return store_view(op.app->store, list_txn, &op);
}

static clm_err init_local_ca(rpc_call *call, const ProtobufCMessage *request,
                             ProtobufCMessage *response)
{
    const Clm__V1__InitLocalCaRequest *req = (const void *)request;
    connector_context ctx = context_of(call);
    connector_op op = {call, rpc_call_app(call), request, response, NULL};
    Clm__V1__GetConnectorRequest get = CLM__V1__GET_CONNECTOR_REQUEST__INIT;
    clm_err err;

    if (req->name[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "name: required");
    rpc_call_set_audit_target(call, req->name);
    if ((err = connector_init_local(&ctx, req)) != CLM_OK)
        return err;
    get.name = req->name;
    op.request = &get.base;
    return store_view(op.app->store, get_txn, &op);
}

static clm_err get_crl(rpc_call *call, const ProtobufCMessage *request,
                       ProtobufCMessage *response)
{
    const Clm__V1__GetCrlRequest *req = (const void *)request;
    Clm__V1__GetCrlResponse *resp = (void *)response;
    connector_context ctx = context_of(call);
    clm_buf crl = CLM_BUF_INIT;
    clm_err err;

    if (req->name[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "name: required");
    rpc_call_set_audit_target(call, req->name);
    /* Making a CRL bumps its number: that write carries this call's audit entry. */
    if ((err = connector_crl(&ctx, req->name, req->der, &crl)) != CLM_OK) {
        clm_buf_free(&crl);
        return err;
    }
    resp->crl.data = clm_arena_memdup(ctx.arena, crl.data ? (const void *)crl.data : "", crl.len);
    resp->crl.len = crl.len;
    clm_buf_free(&crl);
    return resp->crl.data ? CLM_OK : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
}

/* The queue's writer committed (or refused) an issued certificate: answer. */
static void issue_done(void *arg, clm_err err, const char *message)
{
    issue_call *ic = arg;
    rpc_call *call = ic->call;

    connector_issue_job_free(ic->job);
    rpc_call_finish(call, err, message);
}

static clm_err issue(rpc_call *call, const ProtobufCMessage *request, ProtobufCMessage *response)
{
    const Clm__V1__IssueRequest *req = (const void *)request;
    connector_context ctx = context_of(call);
    clm_app *app = rpc_call_app(call);
    issue_call *ic;
    clm_err err;

    if (req->connector[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "connector: required");
    rpc_call_set_audit_target(call, req->connector);
    if (app->imports == NULL)
        return connector_issue(&ctx, req, (void *)response);
    /* Key, CSR, CA and sealing here; the record goes through the inventory's group
       commit, so concurrent issues share a durable commit, and this thread is free
       while it syncs. The reply is sent once the record is committed. */
    if ((ic = clm_arena_alloc(ctx.arena, sizeof(*ic))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    ic->call = call;
    if ((err = connector_issue_prepare(&ctx, req, (void *)response, &ic->job)) != CLM_OK)
        return err;
    rpc_call_defer(call);
    if ((err = import_queue_submit_write(app->imports, connector_issue_job_write, ic->job,
                                         issue_done, ic)) != CLM_OK) {
        connector_issue_job_free(ic->job);
        rpc_call_finish(call, err, clm_error_message());
    }
    return CLM_OK;
}

static clm_err revoke(rpc_call *call, const ProtobufCMessage *request, ProtobufCMessage *response)
{
    const Clm__V1__RevokeRequest *req = (const void *)request;
    connector_context ctx = context_of(call);

    if (req->connector[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "connector: required");
    rpc_call_set_audit_target(call, req->connector);
    return connector_revoke(&ctx, req, (void *)response);
}

/* Connectors hold CA keys: only admins shape them. Issuing and revoking are the
   operators' daily work. */
#define ADMINS RPC_ROLE_BIT(RPC_ROLE_ADMIN)
#define WRITERS (RPC_ROLE_BIT(RPC_ROLE_ADMIN) | RPC_ROLE_BIT(RPC_ROLE_OPERATOR))

const rpc_method connectors_methods[] = {
    {"/clm.v1.Connectors/CreateConnector", RPC_UNARY, ADMINS, 1,
     &clm__v1__create_connector_request__descriptor, &clm__v1__connector__descriptor,
     create_connector, NULL},
    {"/clm.v1.Connectors/UpdateConnector", RPC_UNARY, ADMINS, 1,
     &clm__v1__update_connector_request__descriptor, &clm__v1__connector__descriptor,
     update_connector, NULL},
    {"/clm.v1.Connectors/DeleteConnector", RPC_UNARY, ADMINS, 1,
     &clm__v1__delete_connector_request__descriptor,
     &clm__v1__delete_connector_response__descriptor, delete_connector, NULL},
    {"/clm.v1.Connectors/GetConnector", RPC_UNARY, RPC_ROLES_ANY, 0,
     &clm__v1__get_connector_request__descriptor, &clm__v1__connector__descriptor,
     get_connector, NULL},
    {"/clm.v1.Connectors/ListConnectors", RPC_UNARY, RPC_ROLES_ANY, 0,
     &clm__v1__list_connectors_request__descriptor,
     &clm__v1__list_connectors_response__descriptor, list_connectors, NULL},
    {"/clm.v1.Connectors/InitLocalCa", RPC_UNARY, ADMINS, 1,
     &clm__v1__init_local_ca_request__descriptor, &clm__v1__connector__descriptor,
     init_local_ca, NULL},
    {"/clm.v1.Connectors/GetCrl", RPC_UNARY, RPC_ROLES_ANY, 1,
     &clm__v1__get_crl_request__descriptor, &clm__v1__get_crl_response__descriptor, get_crl,
     NULL},
    {"/clm.v1.Connectors/Issue", RPC_UNARY, WRITERS, 1, &clm__v1__issue_request__descriptor,
     &clm__v1__issue_response__descriptor, issue, NULL},
    {"/clm.v1.Connectors/Revoke", RPC_UNARY, WRITERS, 1, &clm__v1__revoke_request__descriptor,
     &clm__v1__revoke_response__descriptor, revoke, NULL},
};
const size_t connectors_methods_count = sizeof(connectors_methods) / sizeof(connectors_methods[0]);
