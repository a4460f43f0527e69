/* appliance/api/groups.c: clm.v1.Groups handlers over appliance/inventory/groups. */
#include "appliance/api/groups.h"

#include <string.h>

#include "appliance/api/convert.h"
#include "appliance/app.h"
#include "appliance/appstore.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/page.h"
#include "appliance/inventory/tables.h"
#include "clm/v1/groups.pb-c.h"

/* The API view of a group record (arena memory). */
static clm_err to_api(store_txn *txn, clm_arena *arena, const Clm__Store__V1__GroupRecord *r,
                      Clm__V1__Group *g)
{
    g->name = r->name;
    g->description = r->description;
    g->policy = r->policy;
    g->created_at = convert_timestamp_ns(arena, r->created_at);
    g->updated_at = convert_timestamp_ns(arena, r->updated_at);
    return group_certificate_count(txn, r->id, &g->certificate_count);
}

typedef struct group_op {
    rpc_call *call;
    clm_app *app;
    const ProtobufCMessage *request;
    ProtobufCMessage *response;
} group_op;

static clm_err create_txn(store_txn *txn, void *arg)
{
    group_op *op = arg;
    const Clm__V1__CreateGroupRequest *req = (const void *)op->request;
    Clm__Store__V1__GroupRecord *created;
    clm_err err;

    err = group_create(txn, rpc_call_arena(op->call), req->group,
                       clm_clock_now_ns(op->app->clock), &created);
    if (err == CLM_OK)
        err = appstore_audit_in(txn, op->call);
    if (err == CLM_OK)
        err = to_api(txn, rpc_call_arena(op->call), created, (Clm__V1__Group *)op->response);
    return err;
}

static clm_err create_group(rpc_call *call, const ProtobufCMessage *request,
                            ProtobufCMessage *response)
{
    const Clm__V1__CreateGroupRequest *req = (const void *)request;
    group_op op = {call, rpc_call_app(call), request, response};
    clm_err err;

    if ((err = group_validate(req->group, "group.")) != CLM_OK)
        return err;
    rpc_call_set_audit_target(call, req->group->name);
    return store_update(op.app->store, create_txn, &op);
}

static clm_err update_txn(store_txn *txn, void *arg)
{
    group_op *op = arg;
    const Clm__V1__UpdateGroupRequest *req = (const void *)op->request;
    Clm__V1__Group empty = CLM__V1__GROUP__INIT;
    Clm__Store__V1__GroupRecord *updated;
    clm_err err;

    err = group_update(txn, rpc_call_arena(op->call), req->name, req->group ? req->group : &empty,
                       req->update_mask, req->n_update_mask, clm_clock_now_ns(op->app->clock),
                       &updated);
    if (err == CLM_OK)
        err = appstore_audit_in(txn, op->call);
    if (err == CLM_OK)
        err = to_api(txn, rpc_call_arena(op->call), updated, (Clm__V1__Group *)op->response);
    return err;
}

static clm_err update_group(rpc_call *call, const ProtobufCMessage *request,
                            ProtobufCMessage *response)
{
    const Clm__V1__UpdateGroupRequest *req = (const void *)request;
    group_op op = {call, rpc_call_app(call), request, response};

    rpc_call_set_audit_target(call, req->name);
    return store_update(op.app->store, update_txn, &op);
}

static clm_err delete_txn(store_txn *txn, void *arg)
{
    group_op *op = arg;
    const Clm__V1__DeleteGroupRequest *req = (const void *)op->request;
    Clm__V1__DeleteGroupResponse *resp = (void *)op->response;
    clm_err err;

    err = group_delete(txn, rpc_call_arena(op->call), req->name, req->move_certificates_to,
                       clm_clock_now_ns(op->app->clock), &resp->certificates_moved);
    if (err == CLM_OK)
        err = appstore_audit_in(txn, op->call);
    return err;
}

static clm_err delete_group(rpc_call *call, const ProtobufCMessage *request,
                            ProtobufCMessage *response)
{
    const Clm__V1__DeleteGroupRequest *req = (const void *)request;
    group_op op = {call, rpc_call_app(call), request, response};

    rpc_call_set_audit_target(call, req->name);
    return store_update(op.app->store, delete_txn, &op);
}

static clm_err get_txn(store_txn *txn, void *arg)
{
    group_op *op = arg;
    const Clm__V1__GetGroupRequest *req = (const void *)op->request;
    Clm__Store__V1__GroupRecord *g;
    clm_err err = group_find(txn, rpc_call_arena(op->call), req->name, "name", &g);

    return err ? err : to_api(txn, rpc_call_arena(op->call), g, (Clm__V1__Group *)op->response);
}

static clm_err get_group(rpc_call *call, const ProtobufCMessage *request,
                         ProtobufCMessage *response)
{
    group_op op = {call, rpc_call_app(call), request, response};

    return store_view(op.app->store, get_txn, &op);
}

static clm_err list_one(store_txn *txn, ProtobufCMessage *record, size_t i, size_t size,
                        void *arg)
{
    group_op *op = arg;
    Clm__V1__ListGroupsResponse *resp = (void *)op->response;
    clm_arena *arena = rpc_call_arena(op->call);
    Clm__V1__Group *g;

    if (i == 0 && (resp->groups = clm_arena_alloc(arena, size * sizeof(*resp->groups))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if ((g = clm_arena_alloc(arena, sizeof(*g))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    clm__v1__group__init(g);
    resp->groups[resp->n_groups++] = g;
    return to_api(txn, arena, (const Clm__Store__V1__GroupRecord *)record, g);
}

static clm_err list_txn(store_txn *txn, void *arg)
{
    group_op *op = arg;
    const Clm__V1__ListGroupsRequest *req = (const void *)op->request;
    Clm__V1__ListGroupsResponse *resp = (void *)op->response;

    return page_list(txn, rpc_call_arena(op->call), &inventory_groups,
                     GROUP_INDEX(GROUP_INDEX_NAME), req->page_size, req->page_token, list_one, op,
                     &resp->next_page_token);
}

static clm_err list_groups(rpc_call *call, const ProtobufCMessage *request,
                           ProtobufCMessage *response)
{
    group_op op = {call, rpc_call_app(call), request, response};

    return store_view(op.app->store, list_txn, &op);
}

#define WRITERS (RPC_ROLE_BIT(RPC_ROLE_ADMIN) | RPC_ROLE_BIT(RPC_ROLE_OPERATOR))

const rpc_method groups_methods[] = {
    {"/clm.v1.Groups/CreateGroup", RPC_UNARY, WRITERS, 1,
     &clm__v1__create_group_request__descriptor, &clm__v1__group__descriptor, create_group, NULL},
    {"/clm.v1.Groups/UpdateGroup", RPC_UNARY, WRITERS, 1,
     &clm__v1__update_group_request__descriptor, &clm__v1__group__descriptor, update_group, NULL},
    {"/clm.v1.Groups/DeleteGroup", RPC_UNARY, WRITERS, 1,
     &clm__v1__delete_group_request__descriptor, &clm__v1__delete_group_response__descriptor,
     delete_group, NULL},
    {"/clm.v1.Groups/GetGroup", RPC_UNARY, RPC_ROLES_ANY, 0, &clm__v1__get_group_request__descriptor,
     &clm__v1__group__descriptor, get_group, NULL},
    {"/clm.v1.Groups/ListGroups", RPC_UNARY, RPC_ROLES_ANY, 0,
     &clm__v1__list_groups_request__descriptor, &clm__v1__list_groups_response__descriptor,
     list_groups, NULL},
};
const size_t groups_methods_count = sizeof(groups_methods) / sizeof(groups_methods[0]);
