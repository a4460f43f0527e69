/*
 * appliance/ca/manage.c: what changes a connector's CA besides issuing (issue.h):
 * revocation, the CRL, setting up a local CA, rolling an ACME account key over, and
 * whether a connector's CA is remote. Issuing itself is issue.c.
 */
#include "appliance/ca/issue.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/ca/local/local.h"
#include "lib/pki/cert.h"
#include "lib/pki/facts.h"

/* A connector read by name in its own read transaction. */
typedef struct connector_lookup {
    clm_arena *arena;
    const char *name;
    const char *field; /* named by the NOT_FOUND error */
    Clm__Store__V1__ConnectorRecord *record;
} connector_lookup;

static clm_err find_txn(store_txn *txn, void *arg)
{
    connector_lookup *op = arg;

    return connector_find(txn, op->arena, op->name, op->field, &op->record);
}

/* ---- revoke ---- */

typedef struct chain_op {
    uint64_t id;
    clm_buf *out;
} chain_op;

static clm_err chain_txn(store_txn *txn, void *arg)
{
    chain_op *op = arg;
    return connector_state_get_public(txn, op->id, "chain", op->out);
}

/* A certificate given to Revoke must come from this connector's CA when the connector
   keeps its chain (the local CA): otherwise a foreign serial would enter its CRL. */
static clm_err check_issued_here(const connector_context *ctx,
                                 const Clm__Store__V1__ConnectorRecord *r, X509 *cert)
{
    clm_buf chain = CLM_BUF_INIT;
    chain_op op = {r->id, &chain};
    X509 *ca = NULL;
    EVP_PKEY *pub;
    clm_err err = store_view(ctx->store, chain_txn, &op);

    if (err == CLM_ERR_NOT_FOUND) { /* no chain kept: the CA itself decides */
        clm_error_clear();
        return CLM_OK;
    }
    if (err == CLM_OK && pki_cert_from_pem(chain.data, chain.len, &ca) != CLM_OK)
        err = clm_fail(CLM_ERR_STORE, "connector '%s': its chain does not parse", r->name);
    if (err == CLM_OK &&
        (X509_check_issued(ca, cert) != X509_V_OK || (pub = X509_get0_pubkey(ca)) == NULL ||
         X509_verify(cert, pub) != 1))
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT,
                       "certificate_pem: not issued by the CA of connector '%s'", r->name);
    X509_free(ca);
    clm_buf_free(&chain);
    return err;
}

clm_err connector_revoke(const connector_context *ctx, const Clm__V1__RevokeRequest *req,
                         Clm__V1__RevokeResponse *out)
{
    connector_lookup look = {ctx->arena, req->connector, "connector", NULL};
    adapter_ca_revocation rev = {0};
    adapter_ca_result result = {0};
    connector_instance inst = {0};
    pki_facts *facts = NULL;
    X509 *cert = NULL;
    unsigned char *der = NULL;
    char serial[41];
    clm_err err;

    if ((req->serial[0] == '\0') == (req->certificate_pem[0] == '\0'))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "serial: give serial or certificate_pem");
    if (strlen(req->certificate_pem) > CONNECTOR_PEM_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "certificate_pem: more than %d bytes",
                        CONNECTOR_PEM_MAX);
    rev.reason = ADAPTER_CA_REASON_UNSPECIFIED;
    if (req->reason[0] && adapter_ca_revoke_reason_parse(req->reason, &rev.reason) != CLM_OK) {
        char m[CLM_ERROR_MESSAGE_MAX];
        snprintf(m, sizeof(m), "%s", clm_error_message());
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "reason: %s", m);
    }
    if (req->serial[0]) {
        if (ca_local_serial_normalise(req->serial, serial) != CLM_OK)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "serial: '%.64s' is not a hex serial of 1-20 bytes", req->serial);
    } else {
        int len;
        if (pki_cert_from_pem(req->certificate_pem, strlen(req->certificate_pem), &cert) !=
                CLM_OK ||
            (len = i2d_X509(cert, &der)) <= 0 ||
            pki_facts_from_der(der, (size_t)len, &facts) != CLM_OK) {
            X509_free(cert);
            OPENSSL_free(der);
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "certificate_pem: not a PEM certificate");
        }
        snprintf(serial, sizeof(serial), "%s", facts->serial);
        rev.cert = der;
        rev.cert_len = (size_t)len;
    }
    rev.serial = serial;
    if ((err = store_view(ctx->store, find_txn, &look)) != CLM_OK)
        goto out;
    if (cert != NULL && (err = check_issued_here(ctx, look.record, cert)) != CLM_OK)
        goto out;
    connector_state_lock();
    err = connector_open(ctx->store, ctx->seal, ctx->clock, ctx->arena, look.record, &inst);
    if (err == CLM_OK && inst.ops->revoke == NULL) {
        err = clm_fail(CLM_ERR_UNSUPPORTED, "connector '%s': its CA does not revoke",
                       look.record->name);
    } else if (err == CLM_OK) {
        /* the adapter's state write carries the audit entry */
        inst.state.also = ctx->audit;
        inst.state.also_arg = ctx->audit_arg;
        err = inst.ops->revoke(inst.ca, &rev, &result);
        if (err == CLM_OK && result.outcome != ADAPTER_CA_REVOKED)
            err = connector_outcome_error(&inst, &result, req->serial[0] ? "serial"
                                                                         : "certificate_pem");
    }
    connector_close(&inst);
    connector_state_unlock();
    if (err == CLM_OK) {
        out->serial = clm_arena_memdup(ctx->arena, serial, strlen(serial) + 1);
        out->outcome = (char *)adapter_ca_outcome_name(result.outcome);
        if (out->serial == NULL)
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
out:
    adapter_ca_result_free(&result);
    pki_facts_free(facts);
    X509_free(cert);
    OPENSSL_free(der);
    return err;
}

clm_err connector_crl(const connector_context *ctx, const char *name, bool der, clm_buf *out)
{
    connector_lookup look = {ctx->arena, name, "name", NULL};
    connector_instance inst = {0};
    clm_buf crl = CLM_BUF_INIT;
    clm_err err;

    if ((err = store_view(ctx->store, find_txn, &look)) != CLM_OK)
        return err;
    connector_state_lock();
    err = connector_open(ctx->store, ctx->seal, ctx->clock, ctx->arena, look.record, &inst);
    if (err == CLM_OK && inst.ops->crl == NULL)
        err = clm_fail(CLM_ERR_UNSUPPORTED, "connector '%s': its CA publishes no CRL",
                       look.record->name);
    else if (err == CLM_OK) {
        inst.state.also = ctx->audit; /* the CRL number's write */
        inst.state.also_arg = ctx->audit_arg;
        err = inst.ops->crl(inst.ca, &crl);
        if (err == CLM_ERR_UNAVAILABLE)
            err = clm_fail(CLM_ERR_CONFLICT, "connector '%s': no CRL: %s", look.record->name,
                           "the CA is not set up (InitLocalCa)");
    }
    connector_close(&inst);
    connector_state_unlock();
    if (err == CLM_OK && der)
        err = clm_buf_append(out, crl.data, crl.len);
    else if (err == CLM_OK) {
        const unsigned char *p = crl.data;
        X509_CRL *x = d2i_X509_CRL(NULL, &p, (long)crl.len);
        BIO *bio = BIO_new(BIO_s_mem());
        char *data;
        long n;

        if (x == NULL || bio == NULL || !PEM_write_bio_X509_CRL(bio, x) ||
            (n = BIO_get_mem_data(bio, &data)) <= 0)
            err = clm_fail(CLM_ERR_CRYPTO, "connector '%s': the CRL does not encode as PEM",
                           look.record->name);
        else
            err = clm_buf_append(out, data, (size_t)n);
        X509_CRL_free(x);
        BIO_free(bio);
    }
    clm_buf_free(&crl);
    return err;
}

clm_err connector_init_local(const connector_context *ctx, const Clm__V1__InitLocalCaRequest *req)
{
    connector_lookup look = {ctx->arena, req->name, "name", NULL};
    connector_state state;
    clm_err err;

    if (req->how_case == CLM__V1__INIT_LOCAL_CA_REQUEST__HOW_CREATE) {
        const Clm__V1__CreateLocalCa *c = req->create;
        if (c->key_type[0] &&
            strcmp(c->key_type, "EC-P256") != 0 && strcmp(c->key_type, "EC-P384") != 0)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "create.key_type: '%.32s' is not one of EC-P256, EC-P384 (RSA CA "
                            "keys: import them)", c->key_type);
        if (c->root_cn[0] == '\0' || strlen(c->root_cn) > 64)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "create.root_cn: 1-64 characters");
        if (c->intermediate_cn[0] == '\0' || strlen(c->intermediate_cn) > 64)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "create.intermediate_cn: 1-64 characters");
        if (strlen(c->organization) > 64)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "create.organization: at most 64 characters");
        if (c->root_days > 36500 || c->intermediate_days > 36500)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "create.root_days: at most 36500 (and intermediate_days)");
    } else if (req->how_case == CLM__V1__INIT_LOCAL_CA_REQUEST__HOW_IMPORT_CA) {
        const Clm__V1__ImportLocalCa *im = req->import_ca;
        if (im->key_pem[0] == '\0' || strlen(im->key_pem) > CONNECTOR_PEM_MAX)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "import_ca.key_pem: 1-%d bytes",
                            CONNECTOR_PEM_MAX);
        if (im->chain_pem[0] == '\0' || strlen(im->chain_pem) > CONNECTOR_PEM_MAX)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "import_ca.chain_pem: 1-%d bytes",
                            CONNECTOR_PEM_MAX);
    } else {
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "how: give create or import_ca");
    }
    if ((err = store_view(ctx->store, find_txn, &look)) != CLM_OK)
        return err;
    if (strcmp(look.record->type, "local") != 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "name: connector '%s' is of type '%s', not local",
                        look.record->name, look.record->type);
    connector_state_init(&state, ctx->store, ctx->seal, look.record->id);
    state.also = ctx->audit;
    state.also_arg = ctx->audit_arg;
    connector_state_lock();
    if (req->how_case == CLM__V1__INIT_LOCAL_CA_REQUEST__HOW_CREATE) {
        const Clm__V1__CreateLocalCa *c = req->create;
        ca_local_create_params p = {
            .key_type = strcmp(c->key_type, "EC-P384") == 0 ? PKI_KEY_EC_P384 : PKI_KEY_EC_P256,
            .root_cn = c->root_cn,
            .intermediate_cn = c->intermediate_cn,
            .organization = c->organization[0] ? c->organization : NULL,
            .root_days = (int)c->root_days,
            .intermediate_days = (int)c->intermediate_days,
        };
        err = ca_local_create(&p, &state.state, ctx->clock);
        if (err == CLM_ERR_INVALID_ARGUMENT) {
            char m[CLM_ERROR_MESSAGE_MAX];
            snprintf(m, sizeof(m), "%s", clm_error_message());
            err = clm_fail(err, "create.%s", m);
        }
    } else {
        const Clm__V1__ImportLocalCa *im = req->import_ca;
        err = ca_local_import(im->key_pem, strlen(im->key_pem),
                              im->password[0] ? im->password : NULL, im->chain_pem,
                              strlen(im->chain_pem), &state.state, ctx->clock);
        if (err == CLM_ERR_INVALID_ARGUMENT) {
            char m[CLM_ERROR_MESSAGE_MAX];
            snprintf(m, sizeof(m), "%s", clm_error_message());
            err = clm_fail(err, "import_ca.%s", m);
        }
    }
    connector_state_unlock();
    if (err == CLM_OK)
        connector_instances_forget(look.record->id); /* one that answered unconfigured */
    if (err == CLM_ERR_ALREADY_EXISTS)
        err = clm_fail(err, "name: the local CA of connector '%s' is set up already",
                       look.record->name);
    return err;
}

bool connector_is_remote(const connector_context *ctx, const char *name)
{
    connector_lookup look = {ctx->arena, name, "connector", NULL};
    const adapter_ca_ops *ops;

    if (store_view(ctx->store, find_txn, &look) != CLM_OK) {
        clm_error_clear();
        return false;
    }
    ops = adapter_ca_find(look.record->type);
    return ops != NULL && (ops->flags & ADAPTER_CA_F_REMOTE) != 0;
}

clm_err connector_rollover(const connector_context *ctx, const char *name)
{
    connector_lookup look = {ctx->arena, name, "name", NULL};
    connector_instance inst = {0};
    adapter_ca_result result = {0};
    clm_err err;

    if ((err = store_view(ctx->store, find_txn, &look)) != CLM_OK)
        return err;
    connector_state_lock();
    err = connector_open(ctx->store, ctx->seal, ctx->clock, ctx->arena, look.record, &inst);
    if (err == CLM_OK && inst.ops->rollover == NULL) {
        err = clm_fail(CLM_ERR_UNSUPPORTED, "name: connector '%s' (%s) has no account key to "
                                            "roll over",
                       look.record->name, look.record->type);
    } else if (err == CLM_OK) {
        inst.state.also = ctx->audit; /* the new key's write carries the audit entry */
        inst.state.also_arg = ctx->audit_arg;
        err = inst.ops->rollover(inst.ca, &result);
        if (err == CLM_OK && result.outcome != ADAPTER_CA_ISSUED)
            err = connector_outcome_error(&inst, &result, "name");
    }
    connector_close(&inst);
    connector_state_unlock();
    /* The instances Issue keeps still sign with the old key: reopen them from the state. */
    connector_instances_forget(look.record->id);
    adapter_ca_result_free(&result);
    return err;
}
