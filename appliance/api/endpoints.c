/* appliance/api/endpoints.c: clm.v1.Endpoints handlers over appliance/endpoints. */
#include "appliance/api/endpoints.h"

#include <string.h>
#include <strings.h>

#include "appliance/api/convert.h"
#include "appliance/app.h"
#include "appliance/appstore.h"
#include "appliance/endpoints/bindings.h"
#include "appliance/endpoints/records.h"
#include "appliance/endpoints/tables.h"
#include "appliance/inventory/certs.h"
#include "appliance/inventory/page.h"
#include "clm/v1/endpoints.pb-c.h"

static const char *check_name(int32_t check)
{
    return check == ADAPTER_PROBE_PASS ? "pass" : check == ADAPTER_PROBE_FAIL ? "fail"
                                                                              : "not_checked";
}

/* ---- endpoints ---- */

static clm_err endpoint_to_api(store_txn *txn, clm_arena *arena, int64_t now_ns,
                               const Clm__Store__V1__EndpointRecord *r, Clm__V1__Endpoint **out)
{
    Clm__V1__Endpoint *e = clm_arena_alloc(arena, sizeof(*e));

    if (e == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    clm__v1__endpoint__init(e);
    e->host = r->host;
    e->address = r->address;
    e->port = r->port;
    e->sni = r->sni;
    e->protocol = r->protocol;
    e->status = r->status;
    e->reason = r->reason;
    e->leaf_sha256 = convert_hex(arena, r->leaf_sha256.data, r->leaf_sha256.len);
    e->tls_version = r->tls_version;
    e->cipher = r->cipher;
    e->name_match = (char *)check_name(r->name_match);
    e->chain_valid = (char *)check_name(r->chain_valid);
    e->verify_error = r->verify_error;
    if (r->leaf_sha256.len) {
        e->not_after = convert_timestamp_s(arena, r->not_after);
        int64_t left = r->not_after - now_ns / CLM_NS_PER_SEC;
        e->days_to_expiry = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
    }
    e->first_seen = convert_timestamp_ns(arena, r->first_seen);
    e->last_checked = convert_timestamp_ns(arena, r->last_checked);
    if (r->last_ok)
        e->last_ok = convert_timestamp_ns(arena, r->last_ok);
    if (r->certificate_id != 0) {
        Clm__Store__V1__CertificateRecord *c;
        clm_err err = inventory_cert_get(txn, arena, r->certificate_id, &c);
        if (err == CLM_OK) {
            e->in_inventory = 1;
            e->common_name = c->common_name;
        } else if (err != CLM_ERR_NOT_FOUND) {
            return err;
        }
        clm_error_clear();
    }
    *out = e;
    return CLM_OK;
}

typedef struct list_op {
    rpc_call *call;
    clm_app *app;
    const ProtobufCMessage *request;
    ProtobufCMessage *response;
    size_t page_size;
    page_position pos;
    int resume;
    unsigned char leaf[32];
    size_t leaf_len;
    uint64_t certificate_id;
} list_op;

static int endpoint_matches(const list_op *op, const Clm__Store__V1__EndpointRecord *r)
{
    const Clm__V1__ListEndpointsRequest *req = (const void *)op->request;
    const char *s = req->host_contains;

    if (req->status[0] && strcmp(req->status, r->status) != 0)
        return 0;
    if (s[0] && !strcasestr(r->host, s) && !strcasestr(r->address, s) && !strcasestr(r->sni, s))
        return 0;
    return 1;
}

static clm_err list_endpoints_txn(store_txn *txn, void *arg)
{
    list_op *op = arg;
    Clm__V1__ListEndpointsResponse *resp = (void *)op->response;
    clm_arena *arena = rpc_call_arena(op->call);
    clm_arena scratch = CLM_ARENA_INIT;
    int64_t now = clm_clock_now_ns(op->app->clock);
    const store_index *index =
        op->leaf_len ? &endpoint_table.indexes[ENDPOINT_INDEX_LEAF] : NULL;
    store_iter *it;
    clm_err err;

    resp->endpoints = clm_arena_alloc(arena, (op->page_size + 1) * sizeof(*resp->endpoints));
    if (resp->endpoints == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if ((err = store_iter_open(txn, &endpoint_table, index, 0, &it)) != CLM_OK)
        return err;
    if (op->leaf_len)
        err = op->resume ? store_iter_seek(it, op->pos.key, op->pos.key_len, op->pos.primary,
                                           op->pos.primary_len)
                         : store_iter_seek(it, op->leaf, 32, NULL, 0);
    else
        err = page_resume(it, &op->pos, op->resume);
    for (; err == CLM_OK; err = store_iter_next(it)) {
        const store_item *item = store_iter_item(it);
        ProtobufCMessage *m;
        if (op->leaf_len && (item->index_key_len != 32 || memcmp(item->index_key, op->leaf, 32)))
            break;
        clm_arena_reset(&scratch);
        if ((err = endpoints_unpack(&scratch, &endpoint_table, item, &m)) != CLM_OK)
            break;
        if (!endpoint_matches(op, (const void *)m))
            continue;
        if (resp->n_endpoints == op->page_size) {
            resp->next_page_token = page_token_encode(arena, item);
            break;
        }
        if ((err = endpoints_unpack(arena, &endpoint_table, item, &m)) != CLM_OK ||
            (err = endpoint_to_api(txn, arena, now, (const void *)m,
                                   &resp->endpoints[resp->n_endpoints])) != CLM_OK)
            break;
        resp->n_endpoints++;
    }
    store_iter_close(it);
    clm_arena_free(&scratch);
    return err == CLM_ERR_NOT_FOUND ? (clm_error_clear(), CLM_OK) : err;
}

/* A list operation with its page size and position checked. */
static clm_err list_op_init(list_op *op, rpc_call *call, const ProtobufCMessage *request,
                            ProtobufCMessage *response, unsigned page_size, const char *page_token)
{
    memset(op, 0, sizeof(*op));
    op->call = call;
    op->app = rpc_call_app(call);
    op->request = request;
    op->response = response;
    clm_err err = page_size_of(page_size, &op->page_size);
    return err != CLM_OK ? err : page_token_decode(page_token, &op->pos, &op->resume);
}

static clm_err list_endpoints(rpc_call *call, const ProtobufCMessage *request,
                              ProtobufCMessage *response)
{
    const Clm__V1__ListEndpointsRequest *req = (const void *)request;
    clm_err err;
    list_op op;

    if ((err = list_op_init(&op, call, request, response, req->page_size, req->page_token)) !=
        CLM_OK)
        return err;
    if (req->leaf_sha256[0] &&
        ((err = inventory_parse_id(req->leaf_sha256, "leaf_sha256", op.leaf, &op.leaf_len)) !=
             CLM_OK ||
         op.leaf_len != 32))
        return err != CLM_OK ? err
                             : clm_fail(CLM_ERR_INVALID_ARGUMENT,
                                        "leaf_sha256: a SHA-256 fingerprint (64 hex digits)");
    if (strlen(req->status) > 32 || strlen(req->host_contains) > 255)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: too long",
                        strlen(req->status) > 32 ? "status" : "host_contains");
    return store_view(op.app->store, list_endpoints_txn, &op);
}

/* ---- bindings ---- */

static clm_err binding_to_api(store_txn *txn, clm_arena *arena,
                              const Clm__Store__V1__BindingRecord *r,
                              const Clm__Store__V1__CertificateRecord *cert, Clm__V1__Binding **out)
{
    Clm__V1__Binding *b = clm_arena_alloc(arena, sizeof(*b));
    Clm__V1__BindingTarget *t = clm_arena_alloc(arena, sizeof(*t));

    if (b == NULL || t == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    clm__v1__binding__init(b);
    clm__v1__binding_target__init(t);
    if (cert == NULL) {
        Clm__Store__V1__CertificateRecord *c;
        clm_err err = inventory_cert_get(txn, arena, r->certificate_id, &c);
        if (err != CLM_OK && err != CLM_ERR_NOT_FOUND)
            return err;
        clm_error_clear();
        cert = err == CLM_OK ? c : NULL;
    }
    if (cert != NULL) {
        b->certificate = convert_hex(arena, cert->sha256.data, cert->sha256.len);
        b->common_name = cert->common_name;
    }
    t->host = r->host;
    t->port = r->port;
    t->sni = r->sni;
    t->protocol = r->protocol;
    b->target = t;
    b->state = r->state;
    b->verdict = r->verdict;
    b->detail = r->detail;
    b->served_sha256 = convert_hex(arena, r->served_sha256.data, r->served_sha256.len);
    if (r->checked_at)
        b->checked_at = convert_timestamp_ns(arena, r->checked_at);
    if (r->last_in_sync)
        b->last_in_sync = convert_timestamp_ns(arena, r->last_in_sync);
    *out = b;
    return CLM_OK;
}

typedef struct binding_op {
    rpc_call *call;
    clm_app *app;
    const char *certificate;
    Clm__V1__BindingTarget **targets;
    size_t n_targets;
    int remove;
    Clm__V1__BindingsResponse *response;
} binding_op;

static clm_err change_bindings_txn(store_txn *txn, void *arg)
{
    binding_op *op = arg;
    clm_arena *arena = rpc_call_arena(op->call);
    Clm__Store__V1__CertificateRecord *cert;
    Clm__Store__V1__BindingRecord **all;
    size_t n;
    clm_err err;

    if ((err = inventory_cert_find(txn, arena, op->certificate, &cert)) != CLM_OK)
        return err;
    if (op->remove)
        err = bindings_remove(txn, arena, cert->id, op->targets, op->n_targets);
    else
        err = bindings_add(txn, arena, cert->id, op->targets, op->n_targets,
                           rpc_call_peer(op->call)->identity, clm_clock_now_ns(op->app->clock));
    if (err == CLM_OK)
        err = appstore_audit_in(txn, op->call);
    if (err == CLM_OK)
        err = bindings_of(txn, arena, cert->id, &all, &n);
    op->response->n_bindings = 0;
    op->response->bindings = err == CLM_OK ? clm_arena_alloc(arena, (n + 1) * sizeof(Clm__V1__Binding *))
                                           : NULL;
    for (size_t i = 0; err == CLM_OK && i < n; i++)
        if ((err = binding_to_api(txn, arena, all[i], cert,
                                  &op->response->bindings[op->response->n_bindings])) == CLM_OK)
            op->response->n_bindings++;
    return err;
}

static clm_err change_bindings(rpc_call *call, const char *certificate,
                               Clm__V1__BindingTarget **targets, size_t n, int remove,
                               ProtobufCMessage *response)
{
    binding_op op = {call, rpc_call_app(call), certificate, targets, n, remove, (void *)response};
    endpoint_probe_setup setup;
    unsigned char digest[32];
    size_t len;
    clm_err err;

    rpc_call_set_audit_target(call, certificate);
    if (certificate[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "certificate: missing");
    if ((err = inventory_parse_id(certificate, "certificate", digest, &len)) != CLM_OK)
        return err;
    if (!remove && n == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "targets: at least one");
    endpoint_probe_setup_init(&setup, &op.app->config);
    /* Adding: the addresses must be inside [tls] allow, or validation could never
       probe them; removing: anything bound can be unbound. */
    if ((err = bindings_check(targets, n, "targets", remove ? NULL : setup.allow,
                              remove ? 0 : setup.options.n_allow)) != CLM_OK)
        return err;
    return store_update(op.app->store, change_bindings_txn, &op);
}

static clm_err add_bindings(rpc_call *call, const ProtobufCMessage *request,
                            ProtobufCMessage *response)
{
    const Clm__V1__AddBindingsRequest *req = (const void *)request;
    return change_bindings(call, req->certificate, req->targets, req->n_targets, 0, response);
}

static clm_err remove_bindings(rpc_call *call, const ProtobufCMessage *request,
                               ProtobufCMessage *response)
{
    const Clm__V1__RemoveBindingsRequest *req = (const void *)request;
    return change_bindings(call, req->certificate, req->targets, req->n_targets, 1, response);
}

static clm_err list_bindings_txn(store_txn *txn, void *arg)
{
    list_op *op = arg;
    const Clm__V1__ListBindingsRequest *req = (const void *)op->request;
    Clm__V1__ListBindingsResponse *resp = (void *)op->response;
    clm_arena *arena = rpc_call_arena(op->call);
    clm_arena scratch = CLM_ARENA_INIT;
    unsigned char cert_key[8];
    const store_index *index =
        op->certificate_id ? &binding_table.indexes[BINDING_INDEX_CERTIFICATE] : NULL;
    store_iter *it;
    clm_err err;

    if (req->certificate[0] != '\0') {
        Clm__Store__V1__CertificateRecord *c;
        if ((err = inventory_cert_find(txn, &scratch, req->certificate, &c)) != CLM_OK) {
            clm_arena_free(&scratch);
            return err;
        }
        op->certificate_id = c->id;
        index = &binding_table.indexes[BINDING_INDEX_CERTIFICATE];
    }
    clm_put_be64(cert_key, op->certificate_id);
    resp->bindings = clm_arena_alloc(arena, (op->page_size + 1) * sizeof(*resp->bindings));
    if (resp->bindings == NULL || (err = store_iter_open(txn, &binding_table, index, 0, &it)) !=
                                      CLM_OK) {
        clm_arena_free(&scratch);
        return resp->bindings ? err : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    if (index != NULL && !op->resume)
        err = store_iter_seek(it, cert_key, 8, NULL, 0);
    else
        err = page_resume(it, &op->pos, op->resume);
    for (; err == CLM_OK; err = store_iter_next(it)) {
        const store_item *item = store_iter_item(it);
        ProtobufCMessage *m;
        if (index != NULL && (item->index_key_len != 8 || memcmp(item->index_key, cert_key, 8)))
            break;
        clm_arena_reset(&scratch);
        if ((err = endpoints_unpack(&scratch, &binding_table, item, &m)) != CLM_OK)
            break;
        if (req->state != 0 && ((Clm__Store__V1__BindingRecord *)m)->state != (int32_t)req->state)
            continue;
        if (resp->n_bindings == op->page_size) {
            resp->next_page_token = page_token_encode(arena, item);
            break;
        }
        if ((err = endpoints_unpack(arena, &binding_table, item, &m)) != CLM_OK ||
            (err = binding_to_api(txn, arena, (const void *)m, NULL,
                                  &resp->bindings[resp->n_bindings])) != CLM_OK)
            break;
        resp->n_bindings++;
    }
    store_iter_close(it);
    clm_arena_free(&scratch);
    return err == CLM_ERR_NOT_FOUND ? (clm_error_clear(), CLM_OK) : err;
}

static clm_err list_bindings(rpc_call *call, const ProtobufCMessage *request,
                             ProtobufCMessage *response)
{
    const Clm__V1__ListBindingsRequest *req = (const void *)request;
    unsigned char digest[32];
    size_t len;
    clm_err err;
    list_op op;

    if ((err = list_op_init(&op, call, request, response, req->page_size, req->page_token)) !=
        CLM_OK)
        return err;
    if (req->certificate[0] &&
        (err = inventory_parse_id(req->certificate, "certificate", digest, &len)) != CLM_OK)
        return err;
    if (req->state < 0 || req->state > CLM__V1__BINDING_STATE__BINDING_STATE_OUT_OF_SYNC)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "state: %d is not a binding state", req->state);
    return store_view(op.app->store, list_bindings_txn, &op);
}

#define WRITERS (RPC_ROLE_BIT(RPC_ROLE_ADMIN) | RPC_ROLE_BIT(RPC_ROLE_OPERATOR))

const rpc_method endpoints_methods[] = {
    {"/clm.v1.Endpoints/ListEndpoints", RPC_UNARY, RPC_ROLES_ANY, 0,
     &clm__v1__list_endpoints_request__descriptor, &clm__v1__list_endpoints_response__descriptor,
     list_endpoints, NULL},
    {"/clm.v1.Endpoints/AddBindings", RPC_UNARY, WRITERS, 1,
     &clm__v1__add_bindings_request__descriptor, &clm__v1__bindings_response__descriptor,
     add_bindings, NULL},
    {"/clm.v1.Endpoints/RemoveBindings", RPC_UNARY, WRITERS, 1,
     &clm__v1__remove_bindings_request__descriptor, &clm__v1__bindings_response__descriptor,
     remove_bindings, NULL},
    {"/clm.v1.Endpoints/ListBindings", RPC_UNARY, RPC_ROLES_ANY, 0,
     &clm__v1__list_bindings_request__descriptor, &clm__v1__list_bindings_response__descriptor,
     list_bindings, NULL},
};
const size_t endpoints_methods_count = sizeof(endpoints_methods) / sizeof(endpoints_methods[0]);
