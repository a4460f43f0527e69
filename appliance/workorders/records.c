/* appliance/workorders/records.c: the work_orders table, creating orders, applying
   actions, reading and listing (workorders.h). */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/adapter.h"
#include "appliance/api/convert.h"
#include "appliance/ca/connectors.h"
#include "appliance/ca/issue.h"
#include "appliance/inventory/certs.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/page.h"
#include "appliance/inventory/tables.h"
#include "appliance/workorders/internal.h"
#include "lib/base/buf.h"

/* ---- the table ---- */

static clm_err key_text_id(store_keys *keys, const char *text, uint64_t id)
{
    unsigned char key[STORE_KEY_MAX];
    size_t n = 0;

    for (; text[n] != '\0' && n < STORE_KEY_MAX - 9; n++)
        key[n] = (unsigned char)tolower((unsigned char)text[n]);
    key[n++] = 0;
    clm_put_be64(key + n, id);
    return store_keys_add(keys, key, n + 8);
}

static clm_err key_state(const ProtobufCMessage *m, const void *arg, store_keys *keys)
{
    const Clm__Store__V1__WorkOrderRecord *r = (const void *)m;

    (void)arg;
    return r->order ? key_text_id(keys, r->order->state, r->id) : CLM_OK;
}

static clm_err key_requester(const ProtobufCMessage *m, const void *arg, store_keys *keys)
{
    const Clm__Store__V1__WorkOrderRecord *r = (const void *)m;

    (void)arg;
    return r->order ? key_text_id(keys, r->order->requester, r->id) : CLM_OK;
}

static const store_index workorder_indexes[] = {
    [WORKORDER_INDEX_STATE] = {"state", 0, 1, key_state, NULL},
    [WORKORDER_INDEX_REQUESTER] = {"requester", 0, 1, key_requester, NULL},
};

const store_table workorder_table = {"work_orders", &clm__store__v1__work_order_record__descriptor,
                                     workorder_indexes, 2};

char *wo_id_text(clm_arena *arena, const char *prefix, uint64_t id)
{
    char text[48];

    snprintf(text, sizeof(text), "%s-%06" PRIu64, prefix, id);
    return clm_arena_strdup(arena, text);
}

clm_err workorder_parse_id(const char *text, const char *field, uint64_t *id)
{
    const char *p = text;
    char *end;
    unsigned long long v;

    if (strncasecmp(p, "WO-", 3) == 0)
        p += 3;
    else if (strncasecmp(p, "REQ-", 4) == 0)
        p += 4;
    if (!isdigit((unsigned char)p[0]) || strlen(p) > 19)
        goto bad;
    v = strtoull(p, &end, 10);
    if (*end != '\0' || v == 0)
        goto bad;
    *id = v;
    return CLM_OK;
bad:
    return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                    "%s: '%.32s' is not a work order id (WO-000042, REQ-000042 or 42)", field,
                    text);
}

clm_err wo_put(store_txn *txn, Clm__Store__V1__WorkOrderRecord *r)
{
    unsigned char key[8];

    clm_put_be64(key, r->id);
    return store_put(txn, &workorder_table, key, 8, &r->base, 0);
}

clm_err workorder_get(store_txn *txn, clm_arena *arena, uint64_t id,
                      Clm__Store__V1__WorkOrderRecord **out)
{
    unsigned char key[8];
    store_item item;
    clm_err err;

    clm_put_be64(key, id);
    if ((err = store_get(txn, &workorder_table, key, 8, &item)) == CLM_ERR_NOT_FOUND)
        return clm_fail(err, "id: no work order WO-%06" PRIu64, id);
    if (err != CLM_OK)
        return err;
    *out = (void *)inventory_unpack(arena, &workorder_table, &item);
    if (*out == NULL || (*out)->order == NULL)
        return clm_fail(CLM_ERR_STORE, "work order %" PRIu64 " does not unpack", id);
    return CLM_OK;
}

/* ---- creating ---- */

typedef struct create_op {
    const workorder_context *ctx;
    const Clm__V1__CreateWorkOrderRequest *req;
    workorder_kind kind;
    bool automatic, implement;
    Clm__V1__WorkOrder *out;
} create_op;

static clm_err prefixed(clm_err err, const char *prefix)
{
    char m[CLM_ERROR_MESSAGE_MAX];

    snprintf(m, sizeof(m), "%s", clm_error_message());
    return clm_fail(err, "%s%s", prefix, m);
}

static uint32_t levels_of(const Clm__V1__GroupPolicy *p, bool automatic)
{
    if (p == NULL || p->approval == NULL)
        return WORKORDER_DEFAULT_LEVELS;
    if (automatic && p->approval->auto_approve_renewals)
        return 0;
    return p->approval->levels > WORKORDER_LEVELS_MAX ? WORKORDER_LEVELS_MAX
                                                      : p->approval->levels;
}

static bool declares(const adapter_ca_ops *ops, const char *name)
{
    for (size_t i = 0; i < ops->n_request_fields; i++)
        if (strcmp(ops->request_fields[i].name, name) == 0)
            return true;
    return false;
}

/* The vendor request fields, checked by the connector's adapter. */
static clm_err check_ca_fields(clm_arena *arena, const Clm__Store__V1__ConnectorRecord *c,
                               const Clm__V1__EnrollmentRequest *r)
{
    const adapter_ca_ops *ops = adapter_ca_find(c->type);
    adapter_field_value *v = clm_arena_alloc(arena, (r->n_fields + 1) * sizeof(*v));
    adapter_fields fields = {v, 0};
    char days[16];

    if (ops == NULL)
        return clm_fail(CLM_ERR_UNSUPPORTED, "connector: '%s' is of type '%s', not served here",
                        c->name, c->type);
    if (v == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < r->n_fields; i++) {
        if (strcmp(r->fields[i]->name, "validity_days") == 0 && r->validity)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "request.fields.validity_days: not with request.validity");
        v[fields.n].name = r->fields[i]->name;
        v[fields.n++].value = r->fields[i]->value;
    }
    if (r->validity) {
        if (!declares(ops, "validity_days"))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "request.validity: the CA of connector '%s' takes no validity",
                            c->name);
        snprintf(days, sizeof(days), "%u", wo_validity_days(r));
        v[fields.n].name = "validity_days";
        v[fields.n++].value = days;
    }
    if (ops->check_fields(&fields, true) != CLM_OK)
        return prefixed(CLM_ERR_INVALID_ARGUMENT, "request.");
    return CLM_OK;
}

static char *default_of(clm_arena *arena, const char *given, const char *dflt)
{
    return clm_arena_strdup(arena, given[0] ? given : (dflt ? dflt : ""));
}

/* The enrollment request as stored: a copy with the group's CSR defaults, the uploaded
   CSR's facts in csr_info, and no challenge password. */
static clm_err enrollment_copy(clm_arena *arena, const Clm__V1__EnrollmentRequest *in,
                               const Clm__Store__V1__GroupRecord *g, const char *group_name,
                               Clm__V1__EnrollmentRequest **out)
{
    Clm__V1__EnrollmentRequest *r = clm_arena_memdup(arena, in, sizeof(*in));
    const Clm__V1__GroupPolicy *p = g->policy;
    clm_err err;

    if (r == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    r->csr_info = NULL;
    for (size_t i = 0; i < r->n_attachments; i++) {
        Clm__V1__Attachment *a = clm_arena_memdup(arena, in->attachments[i], sizeof(*a));
        if (i == 0)
            r->attachments = clm_arena_alloc(arena, r->n_attachments * sizeof(*r->attachments));
        if (a == NULL || r->attachments == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        a->size = a->data.len;
        r->attachments[i] = a;
    }
    if (r->csr_pem[0]) {
        pki_facts *f = NULL;
        Clm__V1__CsrInfo *info = clm_arena_alloc(arena, sizeof(*info));
        if ((err = connector_check_csr(r->csr_pem, p, group_name, "request.csr_pem")) != CLM_OK)
            return err;
        if (info == NULL || pki_csr_parse(r->csr_pem, strlen(r->csr_pem), &f) != CLM_OK) {
            pki_facts_free(f);
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "request.csr_pem: does not parse");
        }
        clm__v1__csr_info__init(info);
        info->subject = clm_arena_strdup(arena, f->subject ? f->subject : "");
        info->common_name = clm_arena_strdup(arena, f->common_name ? f->common_name : "");
        info->signature_algorithm =
            clm_arena_strdup(arena, f->signature_algorithm ? f->signature_algorithm : "");
        if (f->dns_names.n + f->ip_addresses.n)
            info->sans = clm_arena_alloc(arena, (f->dns_names.n + f->ip_addresses.n) *
                                                    sizeof(*info->sans));
        for (size_t i = 0; info->sans && i < f->dns_names.n; i++)
            info->sans[info->n_sans++] = clm_arena_strdup(arena, f->dns_names.v[i]);
        for (size_t i = 0; info->sans && i < f->ip_addresses.n; i++)
            info->sans[info->n_sans++] = clm_arena_strdup(arena, f->ip_addresses.v[i]);
        {
            X509_REQ *x = NULL;
            pki_key_type kt;
            info->key = "unknown";
            if (pki_csr_read(r->csr_pem, strlen(r->csr_pem), &x) == CLM_OK &&
                pki_key_type_of_request(x, X509_REQ_get0_pubkey(x), &kt) == CLM_OK)
                info->key = (char *)pki_key_type_name(kt);
            X509_REQ_free(x);
        }
        pki_facts_free(f);
        r->csr_info = info;
        r->csr = NULL;
    } else {
        const Clm__V1__CsrDefaults *d = p ? p->csr_defaults : NULL;
        Clm__V1__CsrParameters *c = clm_arena_memdup(arena, in->csr, sizeof(*c));
        pki_key_type kt;
        pki_hash hash;
        if (c == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        c->organization = default_of(arena, c->organization, d ? d->organization : NULL);
        c->org_unit = default_of(arena, c->org_unit, d ? d->organizational_unit : NULL);
        c->locality = default_of(arena, c->locality, d ? d->locality : NULL);
        c->state = default_of(arena, c->state, d ? d->state : NULL);
        c->country = default_of(arena, c->country, d ? d->country : NULL);
        if ((err = wo_key_type_of(c, "request.csr.", &kt)) != CLM_OK ||
            (err = wo_hash_of(c, "request.csr.", &hash)) != CLM_OK)
            return err;
        if ((err = connector_check_key_policy(p, group_name, kt, pki_hash_name(hash),
                                              "request.csr.key_type")) != CLM_OK)
            return err;
        c->key_type = strncasecmp(pki_key_type_name(kt), "rsa", 3) == 0 ? "RSA" : "EC";
        c->challenge_password = "";
        r->csr = c;
    }
    *out = r;
    return CLM_OK;
}

/* The request of a renewal: the certificate's names, attributes and generic fields. */
static clm_err renewal_request(clm_arena *arena, const Clm__Store__V1__CertificateRecord *cert,
                               Clm__V1__EnrollmentRequest **out)
{
    Clm__V1__EnrollmentRequest *r = clm_arena_alloc(arena, sizeof(*r));
    Clm__V1__CsrParameters *c = clm_arena_alloc(arena, sizeof(*c));

    if (r == NULL || c == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    clm__v1__enrollment_request__init(r);
    clm__v1__csr_parameters__init(c);
    c->common_name = cert->common_name;
    c->sans = cert->dns_names;
    c->n_sans = cert->n_dns_names;
    c->key_type = strcasecmp(cert->key_type, "RSA") == 0 ? "RSA" : "EC";
    c->key_bits = cert->key_bits;
    r->csr = c;
    if (cert->n_attributes &&
        (r->attributes = clm_arena_alloc(arena, cert->n_attributes * sizeof(*r->attributes))) ==
            NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < cert->n_attributes; i++) {
        Clm__V1__Attribute *a = clm_arena_alloc(arena, sizeof(*a));
        if (a == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        clm__v1__attribute__init(a);
        a->key = cert->attributes[i]->key;
        a->value = cert->attributes[i]->value;
        r->attributes[r->n_attributes++] = a;
    }
    r->device_name = cert->device_name;
    r->application_ip = cert->application_ip;
    r->tracking_id = cert->tracking_id;
    *out = r;
    return CLM_OK;
}

static clm_err seal_password(const workorder_context *ctx, uint64_t id, const char *password,
                             Clm__Store__V1__WorkOrderRecord *rec)
{
    clm_buf sealed = CLM_BUF_INIT;
    char aad[48];
    clm_err err;

    if (password == NULL || password[0] == '\0')
        return CLM_OK;
    snprintf(aad, sizeof(aad), "wo-challenge:%" PRIu64, id);
    if ((err = seal(ctx->seal, aad, password, strlen(password), &sealed)) == CLM_OK) {
        rec->sealed_challenge_password.data = clm_arena_memdup(ctx->arena, sealed.data, sealed.len);
        rec->sealed_challenge_password.len = sealed.len;
        if (rec->sealed_challenge_password.data == NULL)
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    clm_buf_free(&sealed);
    return err;
}

static const char *connector_of_cert(const Clm__Store__V1__CertificateRecord *cert)
{
    if (cert->connector != NULL && cert->connector[0] != '\0') /* UpdateCertificate's */
        return cert->connector;
    for (size_t i = 0; i < cert->n_sources; i++)
        if (strcmp(cert->sources[i]->kind, CONNECTOR_SOURCE_KIND) == 0)
            return cert->sources[i]->device;
    return NULL;
}

static clm_err create_txn(store_txn *txn, void *arg)
{
    create_op *op = arg;
    const workorder_context *ctx = op->ctx;
    const Clm__V1__CreateWorkOrderRequest *req = op->req;
    clm_arena *arena = ctx->arena;
    int64_t now = clm_clock_now_ns(ctx->clock);
    Clm__Store__V1__WorkOrderRecord *rec = clm_arena_alloc(arena, sizeof(*rec));
    Clm__V1__WorkOrder *o = clm_arena_alloc(arena, sizeof(*o));
    Clm__Store__V1__CertificateRecord *cert = NULL;
    Clm__Store__V1__ConnectorRecord *conn;
    Clm__Store__V1__GroupRecord *g;
    const char *connector = req->connector;
    const char *password = NULL;
    char what[96];
    clm_err err;

    if (rec == NULL || o == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    clm__store__v1__work_order_record__init(rec);
    clm__v1__work_order__init(o);
    if (op->kind != WO_KIND_ENROLL) {
        if ((err = inventory_cert_find(txn, arena, req->target_sha256, &cert)) != CLM_OK)
            return err == CLM_ERR_NOT_FOUND ? prefixed(err, "target_sha256: ") : err;
        if (cert->status == CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_REVOKED)
            return clm_fail(CLM_ERR_CONFLICT, "target_sha256: the certificate is revoked");
        if (connector[0] == '\0' && (connector = connector_of_cert(cert)) == NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "connector: required (the certificate was not issued through a "
                            "connector)");
    }
    if (req->group[0])
        err = group_find(txn, arena, req->group, "group", &g);
    else
        err = group_get_by_id(txn, arena, cert ? cert->group_id ? cert->group_id
                                                                : INVENTORY_DEFAULT_GROUP_ID
                                               : INVENTORY_DEFAULT_GROUP_ID, &g);
    if (err != CLM_OK)
        return err;
    if ((err = connector_find(txn, arena, connector, "connector", &conn)) != CLM_OK)
        return err;

    if ((err = store_seq_next(txn, &workorder_table, 1, &rec->id)) != CLM_OK)
        return err;
    o->id = wo_id_text(arena, "WO", rec->id);
    o->request_id = wo_id_text(arena, "REQ", rec->id);
    o->kind = (char *)workorder_kind_name(op->kind);
    o->state = (char *)workorder_state_name(WO_DRAFT);
    o->levels = levels_of(g->policy, op->automatic);
    o->requester = clm_arena_strdup(arena, ctx->actor.identity);
    o->group = g->name;
    o->connector = conn->name;
    o->automatic = op->automatic;
    o->created_at = o->updated_at = convert_timestamp_ns(arena, now);
    if (o->id == NULL || o->request_id == NULL || o->requester == NULL || o->created_at == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if (op->kind == WO_KIND_ENROLL) {
        if (req->request->csr_pem[0] == '\0' && strcmp(conn->csr_source, "uploaded") == 0)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "request.csr_pem: required (connector '%s' takes uploaded CSRs)",
                            conn->name);
        if ((err = check_ca_fields(arena, conn, req->request)) != CLM_OK ||
            (err = enrollment_copy(arena, req->request, g, g->name, &o->request)) != CLM_OK)
            return err;
        password = req->request->csr ? req->request->csr->challenge_password : NULL;
    } else {
        o->target_sha256 = clm_arena_strdup(arena, req->target_sha256);
        for (char *p = o->target_sha256; p && *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (op->kind == WO_KIND_REVOKE) {
            adapter_ca_revoke_reason reason = ADAPTER_CA_REASON_UNSPECIFIED;
            if (req->revoke_reason[0])
                adapter_ca_revoke_reason_parse(req->revoke_reason, &reason);
            o->revoke_reason = (char *)adapter_ca_revoke_reason_name(reason);
        } else if ((err = renewal_request(arena, cert, &o->request)) != CLM_OK) {
            return err;
        }
    }
    {
        /* the creation is the first transition: "" -> draft */
        Clm__V1__Transition *t = clm_arena_alloc(arena, sizeof(*t));
        Clm__V1__Transition **h = clm_arena_alloc(arena, sizeof(*h));
        if (t == NULL || h == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        clm__v1__transition__init(t);
        t->to = o->state;
        t->identity = o->requester;
        t->time = o->created_at;
        t->comment = (char *)req->comment;
        h[0] = t;
        o->history = h;
        o->n_history = 1;
    }
    if (req->submit &&
        (err = workorder_step(o, WO_ACT_SUBMIT, &ctx->actor, req->comment, now, 0, arena)) != CLM_OK)
        return err;
    rec->order = o;
    if ((err = seal_password(ctx, rec->id, password, rec)) != CLM_OK)
        return err;
    if ((err = wo_put(txn, rec)) != CLM_OK)
        return err;
    snprintf(what, sizeof(what), "created %s work order: %s", o->kind, o->state);
    if ((err = ctx->audit(txn, ctx->audit_arg, o->id, what)) != CLM_OK)
        return err;
    op->out = o;
    return CLM_OK;
}

static void changed(const workorder_context *ctx)
{
    if (ctx->changed != NULL)
        ctx->changed(ctx->changed_arg);
}

clm_err workorder_create(const workorder_context *ctx, const Clm__V1__CreateWorkOrderRequest *req,
                         Clm__V1__WorkOrder **out)
{
    create_op op = {ctx, req, WO_KIND_ENROLL, false, false, NULL};
    clm_err err;

    if ((err = workorder_validate_create(req)) != CLM_OK ||
        (err = workorder_kind_parse(req->kind, "kind", &op.kind)) != CLM_OK)
        return err;
    if ((err = store_update(ctx->store, create_txn, &op)) != CLM_OK)
        return err;
    *out = op.out;
    changed(ctx);
    return CLM_OK;
}

/* ---- actions ---- */

clm_err wo_step_in(store_txn *txn, const workorder_context *ctx, Clm__Store__V1__WorkOrderRecord *r,
                   workorder_action action, const char *comment, int64_t at_ns)
{
    Clm__V1__WorkOrder *o = r->order;
    const char *from = o->state;
    char what[96];
    clm_err err = workorder_step(o, action, &ctx->actor, comment,
                                 clm_clock_now_ns(ctx->clock), at_ns, ctx->arena);

    if (err != CLM_OK)
        return err;
    if ((err = wo_put(txn, r)) != CLM_OK)
        return err;
    if (o->review_level)
        snprintf(what, sizeof(what), "%s -> %s level %u", from, o->state, o->review_level);
    else
        snprintf(what, sizeof(what), "%s -> %s", from, o->state);
    return ctx->audit(txn, ctx->audit_arg, o->id, what);
}

typedef struct act_op {
    const workorder_context *ctx;
    uint64_t id;
    workorder_action action;
    const char *comment;
    int64_t at_ns;
    Clm__V1__WorkOrder *out;
} act_op;

static clm_err act_txn(store_txn *txn, void *arg)
{
    act_op *op = arg;
    Clm__Store__V1__WorkOrderRecord *r;
    clm_err err = workorder_get(txn, op->ctx->arena, op->id, &r);

    if (err == CLM_OK)
        err = wo_step_in(txn, op->ctx, r, op->action, op->comment, op->at_ns);
    if (err == CLM_OK)
        op->out = r->order;
    return err;
}

clm_err workorder_act(const workorder_context *ctx, const char *id, workorder_action action,
                      const char *comment, int64_t at_ns, Clm__V1__WorkOrder **out)
{
    act_op op = {ctx, 0, action, comment ? comment : "", at_ns, NULL};
    clm_err err;

    if ((err = workorder_parse_id(id, "id", &op.id)) != CLM_OK)
        return err;
    if (strlen(op.comment) > WORKORDER_COMMENT_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "comment: %zu characters, at most %d",
                        strlen(op.comment), WORKORDER_COMMENT_MAX);
    if (action == WO_ACT_IMPLEMENT && ctx->sched != NULL) {
        /* the state change joins the engine's transaction that queues the run */
        char params[64];
        sched_run_spec spec = {.kind = WORKORDER_JOB_KIND, .params = params, .at_ns = at_ns};
        sched_hook hook = {act_txn, &op};
        spec.params_len = (size_t)snprintf(params, sizeof(params), "{\"work_order\": %" PRIu64 "}",
                                           op.id);
        err = sched_run_now(ctx->sched, &spec, &hook, NULL);
    } else {
        err = store_update(ctx->store, act_txn, &op);
    }
    if (err != CLM_OK)
        return err;
    *out = op.out;
    changed(ctx);
    /* An automatic renewal that its last approver has just approved goes on by itself:
     * nobody asked for it, so nobody would press implement (the sweep's orders would
     * wait until the certificate expired). The appliance implements it, as the sweep
     * does for a group that approves renewals itself. */
    if (action == WO_ACT_APPROVE && op.out->automatic && strcmp(op.out->state, "approved") == 0 &&
        ctx->sched != NULL) {
        workorder_context system = *ctx;
        system.actor = (workorder_actor){WORKORDER_SYSTEM_ACTOR, RPC_ROLE_ADMIN};
        return workorder_act(&system, id, WO_ACT_IMPLEMENT, "automatic renewal: approved", 0,
                             out);
    }
    return CLM_OK;
}

/* ---- renewals (for the renewal sweep) ---- */

clm_err workorder_create_renewal(const workorder_context *ctx, workorder_kind kind,
                                 const char *sha256, const char *connector, bool implement,
                                 Clm__V1__WorkOrder **out)
{
    Clm__V1__CreateWorkOrderRequest req = CLM__V1__CREATE_WORK_ORDER_REQUEST__INIT;
    create_op op = {ctx, &req, kind, true, implement, NULL};
    clm_err err;

    if (kind != WO_KIND_RENEW && kind != WO_KIND_REGENERATE && kind != WO_KIND_REENROLL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "kind: %s is not a renewal",
                        workorder_kind_name(kind));
    req.kind = (char *)workorder_kind_name(kind);
    req.target_sha256 = (char *)sha256;
    req.connector = (char *)(connector ? connector : "");
    req.submit = true;
    req.comment = "automatic renewal";
    if ((err = workorder_validate_create(&req)) != CLM_OK)
        return err;
    if ((err = store_update(ctx->store, create_txn, &op)) != CLM_OK)
        return err;
    *out = op.out;
    changed(ctx);
    if (implement && strcmp(op.out->state, "approved") == 0)
        return workorder_act(ctx, op.out->id, WO_ACT_IMPLEMENT, "automatic renewal", 0, out);
    return CLM_OK;
}

/* ---- listing ---- */

static bool matches(const Clm__V1__WorkOrder *o, const Clm__V1__ListWorkOrdersRequest *req)
{
    return (req->state[0] == '\0' || strcasecmp(o->state, req->state) == 0) &&
           (req->kind[0] == '\0' || strcasecmp(o->kind, req->kind) == 0) &&
           (req->requester[0] == '\0' || strcasecmp(o->requester, req->requester) == 0) &&
           (req->group[0] == '\0' || strcasecmp(o->group, req->group) == 0) &&
           (req->connector[0] == '\0' || strcasecmp(o->connector, req->connector) == 0);
}

clm_err workorder_list(store_txn *txn, clm_arena *arena, const Clm__V1__ListWorkOrdersRequest *req,
                       Clm__V1__ListWorkOrdersResponse *out)
{
    const store_index *index = NULL;
    unsigned char prefix[STORE_KEY_MAX];
    size_t prefix_len = 0, size, n = 0;
    page_position pos;
    store_iter *it;
    int present;
    clm_err err;

    if (req->state[0]) {
        workorder_state s;
        if ((err = workorder_state_parse(req->state, "state", &s)) != CLM_OK)
            return err;
    }
    if (req->kind[0]) {
        workorder_kind k;
        if ((err = workorder_kind_parse(req->kind, "kind", &k)) != CLM_OK)
            return err;
    }
    if ((err = page_size_of(req->page_size, &size)) != CLM_OK ||
        (err = page_token_decode(req->page_token, &pos, &present)) != CLM_OK)
        return err;
    if (req->state[0] || req->requester[0]) {
        const char *text = req->state[0] ? req->state : req->requester;
        index = &workorder_table.indexes[req->state[0] ? WORKORDER_INDEX_STATE
                                                       : WORKORDER_INDEX_REQUESTER];
        for (; text[prefix_len] && prefix_len < STORE_KEY_MAX - 9; prefix_len++)
            prefix[prefix_len] = (unsigned char)tolower((unsigned char)text[prefix_len]);
        prefix[prefix_len++] = 0;
    }
    if ((out->work_orders = clm_arena_alloc(arena, size * sizeof(*out->work_orders))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if ((err = store_iter_open(txn, &workorder_table, index, 0, &it)) != CLM_OK)
        return err;
    if (!present && index != NULL)
        err = store_iter_seek(it, prefix, prefix_len, NULL, 0);
    else
        err = page_resume(it, &pos, present);
    for (; err == CLM_OK; err = store_iter_next(it)) {
        const store_item *item = store_iter_item(it);
        Clm__Store__V1__WorkOrderRecord *r;
        if (index != NULL && (item->index_key_len < prefix_len ||
                              memcmp(item->index_key, prefix, prefix_len) != 0))
            break;
        if (n == size) {
            out->next_page_token = page_token_encode(arena, item);
            break;
        }
        r = (void *)inventory_unpack(arena, &workorder_table, item);
        if (r == NULL || r->order == NULL) {
            err = clm_fail(CLM_ERR_STORE, "work_orders: a record does not unpack");
            break;
        }
        if (matches(r->order, req)) {
            /* lists show attachments by name and size: their bytes come with GetWorkOrder */
            for (size_t i = 0; r->order->request && i < r->order->request->n_attachments; i++)
                r->order->request->attachments[i]->data.len = 0;
            out->work_orders[out->n_work_orders++] = r->order;
        }
        n++;
    }
    store_iter_close(it);
    if (err == CLM_ERR_NOT_FOUND) {
        clm_error_clear();
        err = CLM_OK;
    }
    return err;
}
