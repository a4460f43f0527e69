/* appliance/workorders/implement.c: the job step that implements an approved work
   order (workorder_implement, workorders.h), on a scheduler worker. Each step is a
   short transaction; a crash between steps resumes from the stored record. */
#include <inttypes.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "adapters/adapter.h"
#include "appliance/api/convert.h"
#include "appliance/ca/connectors.h"
#include "appliance/ca/issue.h"
#include "appliance/inventory/certs.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/tables.h"
#include "appliance/workorders/internal.h"
#include "lib/pki/cert.h"
#include "lib/pki/facts.h"
#include "lib/pki/key.h"

typedef struct impl {
    const workorder_context *ctx;
    uint64_t id;
    Clm__Store__V1__WorkOrderRecord *rec; /* as last read (arena) */
    Clm__Store__V1__ConnectorRecord *conn;
    Clm__Store__V1__CertificateRecord *target; /* renew, revoke */
    uint64_t group_id;
    char *message;
    size_t message_size;
    char missing[256]; /* what the order needs and is gone */
} impl;

static void say(impl *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(impl *im, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(im->message, im->message_size, fmt, ap);
    va_end(ap);
}

/* ---- reads and small writes ---- */

/* The order, then what it needs; a missing one is noted in im->missing (the order fails). */
static clm_err load_txn(store_txn *txn, void *arg)
{
    impl *im = arg;
    Clm__Store__V1__GroupRecord *g;
    clm_err err = workorder_get(txn, im->ctx->arena, im->id, &im->rec);

    if (err != CLM_OK || workorder_state_is_final(im->rec->order->state))
        return err;
    err = connector_find(txn, im->ctx->arena, im->rec->order->connector, "connector", &im->conn);
    if (err == CLM_OK &&
        (err = group_find(txn, im->ctx->arena, im->rec->order->group, "group", &g)) == CLM_OK)
        im->group_id = g->id;
    if (err == CLM_OK && im->rec->order->target_sha256[0])
        err = inventory_cert_find(txn, im->ctx->arena, im->rec->order->target_sha256,
                                  &im->target);
    if (err == CLM_ERR_NOT_FOUND) {
        snprintf(im->missing, sizeof(im->missing), "%s", clm_error_message());
        clm_error_clear();
        return CLM_OK;
    }
    return err;
}

typedef struct step_op {
    impl *im;
    workorder_action action;
    const char *comment;
    /* what else the step records (NULL: nothing) */
    const clm_buf *sealed_key, *csr;
    const char *cookie;
    int64_t next_poll;
} step_op;

static clm_err step_txn(store_txn *txn, void *arg)
{
    step_op *op = arg;
    impl *im = op->im;
    Clm__Store__V1__WorkOrderRecord *r;
    clm_err err = workorder_get(txn, im->ctx->arena, im->id, &r);

    if (err != CLM_OK)
        return err;
    if (op->sealed_key != NULL) {
        /* arena copies: im->rec outlives the caller's buffers */
        r->sealed_key.data = clm_arena_memdup(im->ctx->arena, op->sealed_key->data,
                                              op->sealed_key->len);
        r->sealed_key.len = op->sealed_key->len;
        r->csr_pem = clm_arena_memdup(im->ctx->arena, op->csr->data, op->csr->len + 1);
        if (r->csr_pem == NULL || r->sealed_key.data == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        r->csr_pem[op->csr->len] = '\0';
    }
    if (op->cookie != NULL) {
        r->cookie = clm_arena_strdup(im->ctx->arena, op->cookie);
        r->next_poll = op->next_poll;
    }
    if (op->action == WO_ACT_MAX) { /* progress only, no transition */
        if (strcmp(r->order->state, "implementing") != 0)
            return clm_fail(CLM_ERR_CONFLICT, "state: %s is %s", r->order->id, r->order->state);
        im->rec = r;
        return wo_put(txn, r);
    }
    if (op->action == WO_ACT_FAIL || op->action == WO_ACT_COMPLETE) {
        r->sealed_key.len = 0; /* the key is the certificate's now, or of no use */
        r->sealed_key.data = NULL;
        r->cookie = "";
    }
    err = wo_step_in(txn, im->ctx, r, op->action, op->comment, 0);
    if (err == CLM_OK)
        im->rec = r;
    return err;
}

static clm_err step(impl *im, workorder_action action, const char *comment)
{
    step_op op = {im, action, comment, NULL, NULL, NULL, 0};
    clm_err err = store_update(im->ctx->store, step_txn, &op);

    if (err == CLM_OK && im->ctx->changed)
        im->ctx->changed(im->ctx->changed_arg);
    return err;
}

/* Fail the order for `reason`; the run's outcome follows. */
static sched_outcome fail_order(impl *im, const char *reason)
{
    char r[ADAPTER_CA_REASON_TEXT_MAX + 128];

    snprintf(r, sizeof(r), "%s", reason);
    if (step(im, WO_ACT_FAIL, r) != CLM_OK) {
        say(im, "%s: cannot record the failure (%s): %s", im->rec->order->id, r,
            clm_error_message());
        return SCHED_OUTCOME_RETRY;
    }
    say(im, "%s failed: %s", im->rec->order->id, r);
    return SCHED_OUTCOME_FAIL;
}

/* ---- completing inside the transaction that stores the certificate ---- */

typedef struct complete_arg {
    impl *im;
    const char *sha256, *serial;
    bool mark_revoked; /* revoke: the inventory certificate's status */
} complete_arg;

static clm_err complete_in(store_txn *txn, void *arg)
{
    complete_arg *c = arg;
    impl *im = c->im;
    Clm__Store__V1__WorkOrderRecord *r;
    clm_err err = workorder_get(txn, im->ctx->arena, im->id, &r);

    if (err != CLM_OK)
        return err;
    if (c->mark_revoked) {
        Clm__Store__V1__CertificateRecord *cert;
        if ((err = inventory_cert_find(txn, im->ctx->arena, c->sha256, &cert)) != CLM_OK)
            return err;
        cert->status = CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_REVOKED;
        if ((err = inventory_cert_put(txn, cert, clm_clock_now_ns(im->ctx->clock))) != CLM_OK)
            return err;
    }
    if (!c->mark_revoked && im->target != NULL) {
        /* a renewal: the new certificate is the child of the one it renews */
        Clm__Store__V1__CertificateRecord *child, *parent;
        int64_t now = clm_clock_now_ns(im->ctx->clock);
        if ((err = inventory_cert_find(txn, im->ctx->arena, c->sha256, &child)) != CLM_OK ||
            (err = inventory_cert_find(txn, im->ctx->arena, im->rec->order->target_sha256,
                                       &parent)) != CLM_OK)
            return err;
        child->parent_id = parent->id;
        parent->child_id = child->id;
        if (im->ctx->renewed != NULL &&
            (err = im->ctx->renewed(txn, im->ctx->renewed_arg, parent, child, r->order)) != CLM_OK)
            return err;
        if ((err = inventory_cert_put(txn, child, now)) != CLM_OK ||
            (err = inventory_cert_put(txn, parent, now)) != CLM_OK)
            return err;
    }
    if (!c->mark_revoked && im->target == NULL && r->order->request != NULL &&
        (r->order->request->auto_renew || r->order->request->auto_regenerate ||
         r->order->request->re_enroll)) {
        /* an enrollment: the CA Details toggles stay with the certificate */
        Clm__Store__V1__CertificateRecord *issued;
        if ((err = inventory_cert_find(txn, im->ctx->arena, c->sha256, &issued)) != CLM_OK)
            return err;
        issued->auto_renew = r->order->request->auto_renew;
        issued->auto_regenerate = r->order->request->auto_regenerate;
        issued->re_enroll = r->order->request->re_enroll;
        if ((err = inventory_cert_put(txn, issued, clm_clock_now_ns(im->ctx->clock))) != CLM_OK)
            return err;
    }
    r->order->certificate_sha256 = (char *)c->sha256;
    r->order->certificate_serial = (char *)c->serial;
    r->sealed_key.len = 0;
    r->sealed_key.data = NULL;
    r->cookie = "";
    if ((err = wo_step_in(txn, im->ctx, r, WO_ACT_COMPLETE,
                          c->mark_revoked ? "revoked at the CA" : "issued", 0)) == CLM_OK)
        im->rec = r;
    return err;
}

static connector_context connector_ctx(impl *im, complete_arg *c)
{
    connector_context cc = {im->ctx->store, im->ctx->seal, im->ctx->clock, im->ctx->arena,
                            im->rec->order->requester, complete_in, c};
    return cc;
}

/* ---- enrollment ---- */

/* The adapter's request fields: the order's, validity, the connector's profile. */
static clm_err request_fields(impl *im, const adapter_ca_ops *ops, adapter_fields *out)
{
    const Clm__V1__EnrollmentRequest *r = im->rec->order->request;
    adapter_field_value *v = clm_arena_alloc(im->ctx->arena, (r->n_fields + 2) * sizeof(*v));
    bool has_profile = false, has_profile_field = false;
    char *days;

    if (v == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    out->v = v;
    out->n = 0;
    for (size_t i = 0; i < r->n_fields; i++) {
        v[out->n].name = r->fields[i]->name;
        v[out->n++].value = r->fields[i]->value;
        has_profile |= strcmp(r->fields[i]->name, "profile") == 0;
    }
    if (r->validity && (days = clm_arena_alloc(im->ctx->arena, 16)) != NULL) {
        snprintf(days, 16, "%u", wo_validity_days(r));
        v[out->n].name = "validity_days";
        v[out->n++].value = days;
    }
    for (size_t i = 0; i < ops->n_request_fields; i++)
        has_profile_field |= strcmp(ops->request_fields[i].name, "profile") == 0;
    if (!has_profile && has_profile_field && im->conn->profile[0]) {
        v[out->n].name = "profile";
        v[out->n++].value = im->conn->profile;
    }
    return ops->check_fields(out, true);
}

/* The key: the renewed certificate's (renew), or a new one of the requested type. */
static clm_err make_key(impl *im, EVP_PKEY **key)
{
    const Clm__V1__WorkOrder *o = im->rec->order;
    pki_key_type kt;
    clm_err err;

    if (strcmp(o->kind, "renew") == 0) {
        clm_buf pem = CLM_BUF_INIT;
        char aad[96];
        if (im->target == NULL || im->target->sealed_private_key.len == 0)
            return clm_fail(CLM_ERR_CONFLICT,
                            "renew: the appliance holds no key of the certificate (regenerate)");
        snprintf(aad, sizeof(aad), "cert-key:%s", o->target_sha256);
        err = seal_open(im->ctx->seal, aad, im->target->sealed_private_key.data,
                        im->target->sealed_private_key.len, &pem);
        if (err == CLM_OK)
            err = pki_key_from_pem(pem.data, pem.len, key);
        clm_buf_wipe(&pem);
        return err;
    }
    if ((err = wo_key_type_of(o->request->csr, "request.csr.", &kt)) != CLM_OK)
        return err;
    return pki_key_generate(kt, key);
}

/* Key and CSR, made once and stored (sealed) before the CA sees them, so that a run
   after a crash submits the same request. */
static clm_err prepare_csr(impl *im)
{
    const Clm__V1__WorkOrder *o = im->rec->order;
    clm_buf sans = CLM_BUF_INIT, csr = CLM_BUF_INIT, key_pem = CLM_BUF_INIT,
            sealed = CLM_BUF_INIT, password = CLM_BUF_INIT;
    pki_csr_fields f;
    EVP_PKEY *key = NULL;
    char aad[48];
    clm_err err;

    if (o->request->csr_pem[0] || im->rec->csr_pem[0])
        return CLM_OK;
    if (im->rec->sealed_challenge_password.len) {
        snprintf(aad, sizeof(aad), "wo-challenge:%" PRIu64, im->id);
        if ((err = seal_open(im->ctx->seal, aad, im->rec->sealed_challenge_password.data,
                             im->rec->sealed_challenge_password.len, &password)) == CLM_OK)
            err = clm_buf_append_byte(&password, 0);
        if (err != CLM_OK)
            goto out;
    }
    if ((err = make_key(im, &key)) != CLM_OK)
        goto out;
    if ((err = wo_csr_fields(o->request->csr, password.len ? (const char *)password.data : NULL,
                             &sans, &f)) != CLM_OK ||
        (err = pki_csr_build(&f, NULL, key, &csr)) != CLM_OK ||
        (err = pki_key_to_pem(key, &key_pem)) != CLM_OK)
        goto out;
    snprintf(aad, sizeof(aad), "wo-key:%" PRIu64, im->id);
    if ((err = seal(im->ctx->seal, aad, key_pem.data, key_pem.len, &sealed)) != CLM_OK)
        goto out;
    {
        step_op op = {im, WO_ACT_MAX, NULL, &sealed, &csr, NULL, 0};
        err = store_update(im->ctx->store, step_txn, &op);
    }
out:
    EVP_PKEY_free(key);
    clm_buf_wipe(&key_pem);
    clm_buf_wipe(&password);
    clm_buf_free(&sans);
    clm_buf_free(&csr);
    clm_buf_free(&sealed);
    return err;
}

static clm_err stored_key(impl *im, clm_buf *key_pem)
{
    char aad[48];

    if (im->rec->sealed_key.len == 0)
        return CLM_OK;
    snprintf(aad, sizeof(aad), "wo-key:%" PRIu64, im->id);
    return seal_open(im->ctx->seal, aad, im->rec->sealed_key.data, im->rec->sealed_key.len,
                     key_pem);
}

/* Copies of the request's attributes in the inventory's record type (arena). */
static Clm__Store__V1__Attribute **store_attributes(clm_arena *arena,
                                                    const Clm__V1__EnrollmentRequest *r)
{
    Clm__Store__V1__Attribute **v = clm_arena_alloc(arena, (r->n_attributes + 1) * sizeof(*v));

    for (size_t i = 0; v != NULL && i < r->n_attributes; i++) {
        if ((v[i] = clm_arena_alloc(arena, sizeof(*v[i]))) == NULL)
            return NULL;
        clm__store__v1__attribute__init(v[i]);
        v[i]->key = r->attributes[i]->key;
        v[i]->value = r->attributes[i]->value;
    }
    return v;
}

static sched_outcome queue_poll(impl *im, int64_t retry_after_s, const char *cookie)
{
    int64_t wait = retry_after_s > 0 ? retry_after_s : WORKORDER_POLL_DEFAULT_S;
    int64_t at = clm_clock_now_ns(im->ctx->clock) + wait * 1000000000LL;
    step_op op = {im, WO_ACT_MAX, NULL, NULL, NULL, cookie, at};
    char params[64];
    sched_run_spec spec = {.kind = WORKORDER_JOB_KIND, .params = params, .at_ns = at};

    sched_hook hook = {step_txn, &op};
    clm_err err;

    /* the cookie and the run that polls it commit together: no cookie without its run */
    spec.params_len = (size_t)snprintf(params, sizeof(params), "{\"work_order\": %" PRIu64 "}",
                                       im->id);
    if (im->ctx->sched != NULL)
        err = sched_run_now(im->ctx->sched, &spec, &hook, NULL);
    else
        err = store_update(im->ctx->store, step_txn, &op);
    if (err != CLM_OK) {
        say(im, "storing the pending cookie and its poll: %s", clm_error_message());
        return SCHED_OUTCOME_RETRY;
    }
    say(im, "%s: pending at the CA; asked again in %" PRId64 " s", im->rec->order->id, wait);
    return SCHED_OUTCOME_OK;
}

static sched_outcome enroll(impl *im, uint32_t attempt, uint32_t max_attempts)
{
    const Clm__V1__WorkOrder *o = im->rec->order;
    connector_instance inst = {0};
    adapter_ca_request creq = {0};
    adapter_ca_result result = {0};
    clm_buf key_pem = CLM_BUF_INIT;
    sched_outcome outcome = SCHED_OUTCOME_OK;
    pki_facts *facts = NULL;
    clm_err err;

    if ((inst.ops = adapter_ca_find(im->conn->type)) == NULL)
        return fail_order(im, "the connector's CA type is not served by this clmd");
    if (im->rec->cookie[0] == '\0') {
        if ((err = request_fields(im, inst.ops, &creq.fields)) != CLM_OK)
            return fail_order(im, clm_error_message());
        if ((err = prepare_csr(im)) != CLM_OK) {
            if (err == CLM_ERR_STORE || err == CLM_ERR_BUSY) {
                say(im, "%s", clm_error_message());
                return SCHED_OUTCOME_RETRY;
            }
            return fail_order(im, clm_error_message());
        }
        creq.csr = o->request->csr_pem[0] ? o->request->csr_pem : im->rec->csr_pem;
        creq.csr_len = strlen(creq.csr);
        creq.request_id = o->request_id;
    }
    if ((err = connector_open(im->ctx->store, im->ctx->seal, im->ctx->clock, im->ctx->arena,
                              im->conn, &inst)) != CLM_OK) {
        outcome = fail_order(im, clm_error_message());
        goto out;
    }
    if (im->rec->cookie[0] != '\0') {
        if (inst.ops->poll == NULL) {
            outcome = fail_order(im, "the CA answered pending but cannot be polled");
            goto out;
        }
        err = inst.ops->poll(inst.ca, im->rec->cookie, &result);
    } else {
        err = inst.ops->submit(inst.ca, &creq, &result);
    }
    if (err != CLM_OK) {
        say(im, "%s: the CA call failed: %s", o->id, clm_error_message());
        outcome = attempt < max_attempts ? SCHED_OUTCOME_RETRY : fail_order(im, im->message);
        goto out;
    }
    switch (result.outcome) {
    case ADAPTER_CA_ISSUED: {
        complete_arg c = {im, NULL, NULL, false};
        connector_context cc = connector_ctx(im, &c);
        const Clm__V1__EnrollmentRequest *r = o->request;
        connector_issued in = {.connector = im->conn, .group_id = im->group_id,
                               .cert = &result.cert, .key_pem = &key_pem,
                               .attributes = store_attributes(im->ctx->arena, r),
                               .n_attributes = r->n_attributes, .device_name = r->device_name,
                               .application_ip = r->application_ip,
                               .tracking_id = r->tracking_id};
        if ((err = stored_key(im, &key_pem)) != CLM_OK ||
            (err = pki_facts_from_der(result.cert.data, result.cert.len, &facts)) != CLM_OK) {
            outcome = fail_order(im, clm_error_message());
            break;
        }
        c.sha256 = clm_arena_strdup(im->ctx->arena, facts->sha256);
        c.serial = clm_arena_strdup(im->ctx->arena, facts->serial);
        if (in.attributes == NULL || c.sha256 == NULL || c.serial == NULL) {
            say(im, "out of memory");
            outcome = SCHED_OUTCOME_RETRY;
        } else if ((err = connector_store_issued(&cc, &in, NULL)) != CLM_OK) {
            say(im, "%s: storing the certificate: %s", o->id, clm_error_message());
            outcome = err == CLM_ERR_ALREADY_EXISTS ? fail_order(im, im->message)
                                                    : SCHED_OUTCOME_RETRY;
        } else {
            say(im, "%s completed: certificate %s", o->id, c.sha256);
            if (im->ctx->changed)
                im->ctx->changed(im->ctx->changed_arg);
        }
        break;
    }
    case ADAPTER_CA_PENDING:
        outcome = queue_poll(im, result.retry_after, result.cookie ? result.cookie : "");
        break;
    case ADAPTER_CA_UNREACHABLE:
        say(im, "%s: the CA is unreachable: %s", o->id, result.reason);
        outcome = attempt < max_attempts ? SCHED_OUTCOME_RETRY : fail_order(im, im->message);
        break;
    default: {
        char reason[ADAPTER_CA_REASON_TEXT_MAX + 64];
        snprintf(reason, sizeof(reason), "%s by the CA: %s",
                 adapter_ca_outcome_name(result.outcome), result.reason);
        outcome = fail_order(im, reason);
        break;
    }
    }
out:
    connector_close(&inst);
    adapter_ca_result_free(&result);
    pki_facts_free(facts);
    clm_buf_wipe(&key_pem);
    return outcome;
}

/* ---- revocation ---- */

static sched_outcome revoke(impl *im, uint32_t attempt, uint32_t max_attempts)
{
    const Clm__V1__WorkOrder *o = im->rec->order;
    Clm__V1__RevokeRequest req = CLM__V1__REVOKE_REQUEST__INIT;
    Clm__V1__RevokeResponse resp = CLM__V1__REVOKE_RESPONSE__INIT;
    complete_arg c = {im, NULL, NULL, true};
    connector_context cc = connector_ctx(im, &c);
    const unsigned char *p;
    clm_buf pem = CLM_BUF_INIT;
    X509 *x;
    clm_err err;

    if (im->target == NULL)
        return fail_order(im, "the certificate is no longer in the inventory");
    p = im->target->der.data;
    if ((x = d2i_X509(NULL, &p, (long)im->target->der.len)) == NULL ||
        pki_cert_to_pem(x, &pem) != CLM_OK || clm_buf_append_byte(&pem, 0) != CLM_OK) {
        X509_free(x);
        clm_buf_free(&pem);
        return fail_order(im, "the certificate does not encode");
    }
    X509_free(x);
    c.sha256 = o->target_sha256;
    c.serial = im->target->serial_hex;
    req.connector = im->conn->name;
    req.certificate_pem = (char *)pem.data;
    req.reason = o->revoke_reason;
    err = connector_revoke(&cc, &req, &resp);
    clm_buf_free(&pem);
    /* an adapter that kept no state of the revocation never ran the completion */
    if (err == CLM_OK && strcmp(im->rec->order->state, "completed") != 0 &&
        (err = store_update(im->ctx->store, complete_in, &c)) != CLM_OK) {
        say(im, "%s: revoked, but recording it failed: %s", o->id, clm_error_message());
        return SCHED_OUTCOME_RETRY;
    }
    if (err == CLM_OK) {
        say(im, "%s completed: serial %s revoked", o->id, c.serial);
        if (im->ctx->changed)
            im->ctx->changed(im->ctx->changed_arg);
        return SCHED_OUTCOME_OK;
    }
    say(im, "%s: %s", o->id, clm_error_message());
    if ((err == CLM_ERR_UNAVAILABLE || err == CLM_ERR_STORE || err == CLM_ERR_BUSY) &&
        attempt < max_attempts)
        return SCHED_OUTCOME_RETRY;
    return fail_order(im, im->message);
}

sched_outcome workorder_implement(const workorder_context *ctx, uint64_t id, uint32_t attempt,
                                  uint32_t max_attempts, char *message, size_t message_size)
{
    impl im = {ctx, id, NULL, NULL, NULL, 0, message, message_size, ""};
    clm_err err = store_view(ctx->store, load_txn, &im);

    message[0] = '\0';
    if (err == CLM_ERR_NOT_FOUND) {
        say(&im, "work order %" PRIu64 ": %s", id, clm_error_message());
        return SCHED_OUTCOME_FAIL;
    }
    if (err != CLM_OK) {
        say(&im, "%s", clm_error_message());
        return SCHED_OUTCOME_RETRY;
    }
    if (workorder_state_is_final(im.rec->order->state)) {
        say(&im, "%s is %s already", im.rec->order->id, im.rec->order->state);
        return SCHED_OUTCOME_OK; /* done before (at-least-once), or cancelled */
    }
    if (strcmp(im.rec->order->state, "scheduled") == 0) {
        if ((err = step(&im, WO_ACT_START, "")) != CLM_OK) {
            say(&im, "%s", clm_error_message());
            return err == CLM_ERR_CONFLICT ? SCHED_OUTCOME_OK : SCHED_OUTCOME_RETRY;
        }
    } else if (strcmp(im.rec->order->state, "implementing") != 0) {
        say(&im, "%s is %s, not scheduled: nothing to do", im.rec->order->id,
            im.rec->order->state);
        return SCHED_OUTCOME_OK;
    }
    if (im.missing[0]) /* the connector, group or certificate went away */
        return fail_order(&im, im.missing);
    if (strcmp(im.rec->order->kind, "revoke") == 0)
        return revoke(&im, attempt, max_attempts);
    return enroll(&im, attempt, max_attempts);
}
