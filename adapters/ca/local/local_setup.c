/* adapters/ca/local/local_setup.c: setting up the local CA: create a root and an
 * intermediate, or import an issuing CA's key and chain. */
#include "adapters/ca/local/local_internal.h"

#include "lib/pki/cert.h"
#include "lib/pki/chain.h"
#include "lib/pki/facts.h"
#include "lib/pki/read.h"
#include "lib/pki/x509_build.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#define ROOT_DAYS_DEFAULT 3650
#define INTERMEDIATE_DAYS_DEFAULT 1825

/* A CA already set up is never replaced here (CLM_ERR_ALREADY_EXISTS). */
static clm_err check_empty(adapter_ca_state *state)
{
    clm_buf key = CLM_BUF_INIT;
    clm_err err;

    if (state == NULL || state->get == NULL || state->put == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "local CA: a state is required");
    err = state->get(state->ctx, "key", &key);
    clm_buf_wipe(&key);
    if (err == CLM_OK)
        return clm_fail(CLM_ERR_ALREADY_EXISTS,
                        "local CA: a CA key is already set up; it is not replaced");
    if (err != CLM_ERR_NOT_FOUND)
        return err;
    clm_error_clear();
    return CLM_OK;
}

static clm_err check_name(const char *field, const char *value)
{
    size_t len = value ? strlen(value) : 0;

    if (len == 0 || len > PKI_CERT_ATTR_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: 1 to %d bytes required, not %zu", field,
                        PKI_CERT_ATTR_MAX, len);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: contains a control character", field);
    return CLM_OK;
}

static clm_err set_name(X509 *x, const char *cn, const char *o)
{
    X509_NAME *name = X509_NAME_new();
    clm_err err = CLM_OK;

    if (name == NULL ||
        (o != NULL && X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
                                                 (const unsigned char *)o, -1, -1, 0) != 1) ||
        X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0) != 1 ||
        X509_set_subject_name(x, name) != 1)
        err = clm_fail(CLM_ERR_CRYPTO, "cannot make the subject name");
    X509_NAME_free(name);
    ERR_clear_error();
    return err;
}

/* A CA certificate for key: self-signed when issuer is NULL. */
static clm_err make_ca_cert(EVP_PKEY *key, const char *cn, const char *o, int64_t now, int days,
                            long pathlen, X509 *issuer, EVP_PKEY *issuer_key, X509 **out)
{
    X509 *x = X509_new();
    clm_err err;

    *out = NULL;
    if (x == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if (X509_set_version(x, X509_VERSION_3) != 1 || X509_set_pubkey(x, key) != 1) {
        err = clm_fail(CLM_ERR_CRYPTO, "cannot fill in the CA certificate");
        goto fail;
    }
    if ((err = set_name(x, cn, o)) != CLM_OK)
        goto fail;
    if (X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
                                       : X509_get_subject_name(x)) != 1) {
        err = clm_fail(CLM_ERR_CRYPTO, "cannot set the issuer name");
        goto fail;
    }
    if ((err = pki_x509_set_random_serial(x)) != CLM_OK ||
        (err = pki_x509_set_validity(x, now - PKI_CERT_BACKDATE_SECONDS,
                                     now + (int64_t)days * 86400)) != CLM_OK ||
        (err = pki_x509_add_basic_constraints(x, true, pathlen)) != CLM_OK ||
        (err = pki_x509_add_key_usage(x, PKI_KU_KEY_CERT_SIGN | PKI_KU_CRL_SIGN)) != CLM_OK ||
        (err = pki_x509_add_ski(x)) != CLM_OK ||
        (issuer != NULL && (err = pki_x509_add_aki(x, issuer)) != CLM_OK) ||
        (err = pki_x509_sign(x, issuer_key ? issuer_key : key)) != CLM_OK)
        goto fail;
    *out = x;
    return CLM_OK;
fail:
    ERR_clear_error();
    X509_free(x);
    return clm_error_context(err, "CA certificate \"%s\"", cn);
}

static clm_err put_setup(adapter_ca_state *state, const clm_buf *key, const clm_buf *root_key,
                         const clm_buf *chain)
{
    adapter_ca_state_item items[5] = {
        {.name = "key", .data = key->data, .len = key->len, .secret = true},
        {.name = "chain", .data = chain->data, .len = chain->len},
        {.name = "revoked", .data = "", .len = 0},
        {.name = "crl_number", .data = "0", .len = 1},
        {.name = "root_key", .data = root_key ? root_key->data : NULL,
         .len = root_key ? root_key->len : 0, .secret = true},
    };

    return state->put(state->ctx, items, root_key ? 5 : 4);
}

clm_err ca_local_create(const ca_local_create_params *params, adapter_ca_state *state,
                        const clm_clock *clock)
{
    EVP_PKEY *root_key = NULL, *key = NULL;
    X509 *root = NULL, *intermediate = NULL;
    clm_buf key_pem = CLM_BUF_INIT, root_key_pem = CLM_BUF_INIT, chain = CLM_BUF_INIT;
    int root_days, days;
    int64_t now;
    clm_err err;

    if (params == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "local CA: parameters are required");
    root_days = params->root_days ? params->root_days : ROOT_DAYS_DEFAULT;
    days = params->intermediate_days ? params->intermediate_days : INTERMEDIATE_DAYS_DEFAULT;
    if ((err = check_name("root_cn", params->root_cn)) != CLM_OK ||
        (err = check_name("intermediate_cn", params->intermediate_cn)) != CLM_OK ||
        (params->organization && (err = check_name("organization", params->organization)) !=
                                     CLM_OK))
        return err;
    if (strcmp(params->root_cn, params->intermediate_cn) == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "intermediate_cn: must differ from root_cn (the names link the chain)");
    if ((unsigned)params->key_type >= PKI_KEY_TYPE_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "key_type: %d is not a key type",
                        (int)params->key_type);
    if (root_days < 1 || root_days > PKI_CERT_DAYS_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "root_days: %d is outside 1..%d", root_days,
                        PKI_CERT_DAYS_MAX);
    if (days < 1 || days > root_days)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "intermediate_days: %d is outside 1..%d (the root's validity)", days,
                        root_days);
    if ((err = check_empty(state)) != CLM_OK)
        return err;
    now = clm_clock_now_ns(clock ? clock : clm_clock_system()) / CLM_NS_PER_SEC;
    if ((err = pki_key_generate(params->key_type, &root_key)) != CLM_OK ||
        (err = pki_key_generate(params->key_type, &key)) != CLM_OK ||
        (err = make_ca_cert(root_key, params->root_cn, params->organization, now, root_days, 1,
                            NULL, NULL, &root)) != CLM_OK ||
        (err = make_ca_cert(key, params->intermediate_cn, params->organization, now, days, 0, root,
                            root_key, &intermediate)) != CLM_OK ||
        (err = pki_key_to_pem(key, &key_pem)) != CLM_OK ||
        (err = pki_key_to_pem(root_key, &root_key_pem)) != CLM_OK ||
        (err = pki_cert_to_pem(intermediate, &chain)) != CLM_OK ||
        (err = pki_cert_to_pem(root, &chain)) != CLM_OK)
        goto done;
    err = put_setup(state, &key_pem, &root_key_pem, &chain);
done:
    clm_buf_wipe(&key_pem);
    clm_buf_wipe(&root_key_pem);
    clm_buf_free(&chain);
    X509_free(root);
    X509_free(intermediate);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(key);
    return err == CLM_OK ? CLM_OK : clm_error_context(err, "local CA: create");
}

/* The certificates of the chain input, decoded. */
static clm_err read_chain(const void *pem, size_t len, X509 ***out, size_t *n)
{
    pki_read_result r = {0};
    X509 **certs = NULL;
    clm_err err;

    *out = NULL;
    *n = 0;
    err = pki_read(pem, len, &(pki_read_options){.name = "chain", .format = PKI_FORMAT_PEM}, &r);
    if (err != CLM_OK) {
        pki_read_result_free(&r);
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "chain: %s", clm_error_message());
    }
    if (r.n_keys != 0) {
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT,
                       "chain: holds a private key; give the key separately");
    } else if (r.n_errors != 0 || r.n_certs == 0) {
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "chain: %s",
                       r.n_certs == 0 ? "no certificate" : "a certificate does not decode");
    } else if ((certs = calloc(r.n_items, sizeof *certs)) == NULL) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    for (size_t i = 0; err == CLM_OK && i < r.n_items; i++) {
        const unsigned char *p = r.items[i].der;
        certs[i] = d2i_X509(NULL, &p, (long)r.items[i].der_len);
        if (certs[i] == NULL)
            err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "chain: %s does not decode",
                           r.items[i].where);
        else
            (*n)++;
    }
    pki_read_result_free(&r);
    ERR_clear_error();
    if (err != CLM_OK) {
        for (size_t i = 0; i < *n; i++)
            X509_free(certs[i]);
        free(certs);
        *n = 0;
        return err;
    }
    *out = certs;
    return CLM_OK;
}

clm_err ca_local_import(const void *key_pem, size_t key_len, const char *password,
                        const void *chain_pem, size_t chain_len, adapter_ca_state *state,
                        const clm_clock *clock)
{
    EVP_PKEY *key = NULL;
    X509 **certs = NULL, *ca_cert = NULL;
    size_t n = 0;
    pki_chain_set set = {0};
    const pki_chain *chain = NULL;
    pki_trust *trust = NULL;
    pki_verify_result verdict;
    clm_buf key_out = CLM_BUF_INIT, chain_out = CLM_BUF_INIT;
    clm_err err;

    if ((err = check_empty(state)) != CLM_OK)
        return err;
    if (key_pem == NULL || key_len == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "key: required");
    if ((err = pki_key_from_pem_password(key_pem, key_len, password, &key)) != CLM_OK)
        return clm_error_context(err == CLM_ERR_PARSE ? CLM_ERR_INVALID_ARGUMENT : err, "key");
    if ((err = read_chain(chain_pem, chain_len, &certs, &n)) != CLM_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (X509_check_private_key(certs[i], key) == 1) {
            ca_cert = certs[i];
            break;
        }
    }
    ERR_clear_error();
    if (ca_cert == NULL) {
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT,
                       "key: it does not match any certificate of the chain");
        goto done;
    }
    /* 1: basicConstraints CA:TRUE (and keyCertSign when keyUsage is present); the other
     * answers (v1 roots, Netscape types) are not CAs clm issues from. */
    if (X509_check_ca(ca_cert) != 1 ||
        ((X509_get_extension_flags(ca_cert) & EXFLAG_KUSAGE) &&
         !(X509_get_key_usage(ca_cert) & KU_KEY_CERT_SIGN))) {
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT,
                       "chain: the key's certificate is not a CA that may sign certificates "
                       "(basicConstraints CA:TRUE, keyUsage keyCertSign)");
        goto done;
    }
    if ((err = pki_chain_order(certs, n, &set)) != CLM_OK)
        goto done;
    for (size_t i = 0; i < set.n; i++)
        if (set.chains[i].certs[0] == ca_cert)
            chain = &set.chains[i];
    if (chain == NULL || set.n != 1) {
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT,
                       "chain: the key's certificate must be the only one that issued no other "
                       "(give the CA certificate and its issuers only)");
        goto done;
    }
    if (!chain->complete) {
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "chain: does not reach a root (missing: %s)",
                       chain->missing_issuer ? chain->missing_issuer : "an issuer");
        goto done;
    }
    if ((err = pki_trust_new(&chain->certs[chain->n - 1], 1, &trust)) != CLM_OK)
        goto done;
    if (pki_chain_verify(chain, trust, 0, clock ? clock : clm_clock_system(), &verdict) !=
        CLM_OK) {
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "chain: does not verify: %s (depth %d)",
                       verdict.error, verdict.depth);
        goto done;
    }
    if ((err = pki_key_to_pem(key, &key_out)) != CLM_OK)
        goto done;
    for (size_t i = 0; i < chain->n && err == CLM_OK; i++)
        err = pki_cert_to_pem(chain->certs[i], &chain_out);
    if (err == CLM_OK)
        err = put_setup(state, &key_out, NULL, &chain_out);
done:
    clm_buf_wipe(&key_out);
    clm_buf_free(&chain_out);
    pki_trust_free(trust);
    pki_chain_set_free(&set);
    for (size_t i = 0; i < n; i++)
        X509_free(certs[i]);
    free(certs);
    EVP_PKEY_free(key);
    return err == CLM_OK ? CLM_OK : clm_error_context(err, "local CA: import");
}
