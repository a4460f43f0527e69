/* lib/pki/chain.c: chain ordering by names and key identifiers, and X509_STORE
 * verification. */
#include "lib/pki/chain.h"

#include "lib/pki/cert.h"
#include "lib/pki/facts.h"
#include "lib/pki/facts_internal.h"
#include "lib/pki/pki_internal.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pki_trust {
    X509_STORE *store;
};

/* ---- ordering ------------------------------------------------------------------------- */

/* How well parent can have issued child: 0 not, 1 by name, 2 by name and key id. */
static int issued_by(X509 *child, X509 *parent)
{
    const ASN1_OCTET_STRING *aki, *ski;

    if (X509_NAME_cmp(X509_get_issuer_name(child), X509_get_subject_name(parent)) != 0)
        return 0;
    aki = X509_get0_authority_key_id(child);
    ski = X509_get0_subject_key_id(parent);
    if (aki != NULL && ski != NULL)
        return ASN1_OCTET_STRING_cmp(aki, ski) == 0 ? 2 : 0;
    return 1;
}

static bool self_issued(X509 *x)
{
    return issued_by(x, x) > 0;
}

typedef struct by_subject {
    unsigned long hash;
    size_t index;
} by_subject;

static int compare_hash(const void *a, const void *b)
{
    const by_subject *x = a, *y = b;

    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Whether a expires after b (ASN1_TIME_compare is not in BoringSSL). */
static bool expires_later(X509 *a, X509 *b)
{
    int days = 0, seconds = 0;

    if (ASN1_TIME_diff(&days, &seconds, X509_get0_notAfter(b), X509_get0_notAfter(a)) != 1)
        return false;
    return days > 0 || (days == 0 && seconds > 0);
}

/* The best issuer of bag[i] among the others, or (size_t)-1. */
static size_t find_issuer(X509 *const *bag, const by_subject *index, size_t n, size_t i)
{
    unsigned long hash = X509_issuer_name_hash(bag[i]);
    size_t lo = 0, hi = n, best = (size_t)-1;
    int best_score = 0;

    while (lo < hi) { /* the first entry with this hash */
        size_t mid = lo + (hi - lo) / 2;
        if (index[mid].hash < hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t k = lo; k < n && index[k].hash == hash; k++) {
        size_t j = index[k].index;
        int score;
        if (j == i || (score = issued_by(bag[i], bag[j])) == 0)
            continue;
        if (score > best_score || (score == best_score && expires_later(bag[j], bag[best]))) {
            best = j;
            best_score = score;
        }
    }
    return best;
}

static clm_err chain_from(X509 *const *bag, const size_t *issuer, size_t leaf, bool *used,
                          pki_chain *chain)
{
    size_t path[PKI_CHAIN_DEPTH_MAX], n = 0, at = leaf;
    bool loop = false;

    memset(chain, 0, sizeof *chain);
    for (;;) {
        path[n++] = at;
        used[at] = true;
        if (self_issued(bag[at]) || issuer[at] == (size_t)-1 || n == PKI_CHAIN_DEPTH_MAX)
            break;
        for (size_t k = 0; k < n; k++)
            loop = loop || path[k] == issuer[at];
        if (loop)
            break;
        at = issuer[at];
    }
    chain->certs = calloc(n, sizeof *chain->certs);
    if (chain->certs == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (size_t k = 0; k < n; k++) {
        X509_up_ref(bag[path[k]]);
        chain->certs[chain->n++] = bag[path[k]];
    }
    chain->complete = self_issued(bag[at]);
    if (!chain->complete && issuer[at] == (size_t)-1) {
        pki_facts *scratch = pki_facts_alloc();
        char *name = NULL;
        if (scratch == NULL ||
            pki_facts_openssl_name(scratch, X509_get_issuer_name(bag[at]), &name) != CLM_OK ||
            (chain->missing_issuer = strdup(name)) == NULL) {
            pki_facts_free(scratch);
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        }
        pki_facts_free(scratch);
    }
    return CLM_OK;
}

clm_err pki_chain_order(X509 *const *bag, size_t n, pki_chain_set *out)
{
    by_subject *index = NULL;
    size_t *issuer = NULL;
    bool *used = NULL, *issued_other = NULL;
    clm_err err = CLM_OK;

    memset(out, 0, sizeof *out);
    if (bag == NULL || n == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "no certificates to order");
    for (size_t i = 0; i < n; i++) {
        if (bag[i] == NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "certificate %zu is missing", i);
    }
    index = calloc(n, sizeof *index);
    issuer = calloc(n, sizeof *issuer);
    used = calloc(n, sizeof *used);
    issued_other = calloc(n, sizeof *issued_other);
    out->chains = calloc(n, sizeof *out->chains);
    if (index == NULL || issuer == NULL || used == NULL || issued_other == NULL ||
        out->chains == NULL) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        index[i].hash = X509_subject_name_hash(bag[i]);
        index[i].index = i;
    }
    qsort(index, n, sizeof *index, compare_hash);
    for (size_t i = 0; i < n; i++) {
        issuer[i] = self_issued(bag[i]) ? (size_t)-1 : find_issuer(bag, index, n, i);
        if (issuer[i] != (size_t)-1)
            issued_other[issuer[i]] = true;
    }
    /* chains from the leaves, then from whatever no leaf reached (loops) */
    for (int pass = 0; pass < 2 && err == CLM_OK; pass++) {
        for (size_t i = 0; i < n && err == CLM_OK; i++) {
            if ((pass == 0 && issued_other[i]) || (pass == 1 && used[i]))
                continue;
            err = chain_from(bag, issuer, i, used, &out->chains[out->n]);
            out->n++;
        }
    }
done:
    ERR_clear_error();
    free(index);
    free(issuer);
    free(used);
    free(issued_other);
    if (err != CLM_OK)
        pki_chain_set_free(out);
    return err;
}

void pki_chain_set_free(pki_chain_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n; i++) {
        for (size_t k = 0; k < set->chains[i].n; k++)
            X509_free(set->chains[i].certs[k]);
        free(set->chains[i].certs);
        free(set->chains[i].missing_issuer);
    }
    free(set->chains);
    memset(set, 0, sizeof *set);
}

/* ---- trust and verification ------------------------------------------------------------ */

clm_err pki_trust_new(X509 *const *anchors, size_t n, pki_trust **out)
{
    pki_trust *t;

    *out = NULL;
    if (anchors == NULL || n == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "a trust store needs at least one anchor");
    t = calloc(1, sizeof *t);
    if (t == NULL || (t->store = X509_STORE_new()) == NULL) {
        free(t);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (anchors[i] == NULL || X509_STORE_add_cert(t->store, anchors[i]) != 1) {
            unsigned long code = ERR_peek_last_error();
            /* the same anchor twice is not an error */
            if (anchors[i] != NULL && ERR_GET_REASON(code) == X509_R_CERT_ALREADY_IN_HASH_TABLE) {
                ERR_clear_error();
                continue;
            }
            pki_trust_free(t);
            return pki_fail_ssl(CLM_ERR_INVALID_ARGUMENT, "trust anchor %zu cannot be added", i);
        }
    }
    *out = t;
    return CLM_OK;
}

clm_err pki_trust_new_system(const char *bundle, pki_trust **out)
{
    const char *file = bundle ? bundle : PKI_TRUST_SYSTEM_BUNDLE;
    pki_trust *t;

    *out = NULL;
    t = calloc(1, sizeof *t);
    if (t == NULL || (t->store = X509_STORE_new()) == NULL) {
        free(t);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    if (X509_STORE_load_locations(t->store, file, bundle ? NULL : PKI_TRUST_SYSTEM_DIR) != 1) {
        pki_trust_free(t);
        return pki_fail_ssl(CLM_ERR_NOT_FOUND, "trust store %s cannot be loaded", file);
    }
    *out = t;
    return CLM_OK;
}

void pki_trust_free(pki_trust *trust)
{
    if (trust == NULL)
        return;
    X509_STORE_free(trust->store);
    free(trust);
}

clm_err pki_chain_verify(const pki_chain *chain, const pki_trust *trust, unsigned purpose,
                         const clm_clock *clock, pki_verify_result *result)
{
    STACK_OF(X509) *untrusted = NULL;
    X509_STORE_CTX *ctx = NULL;
    clm_err err = CLM_OK;

    memset(result, 0, sizeof *result);
    result->code = X509_V_ERR_UNSPECIFIED;
    if (chain == NULL || chain->n == 0 || trust == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "a chain and a trust store are required");
    if (purpose != 0 && purpose != PKI_EKU_SERVER_AUTH && purpose != PKI_EKU_CLIENT_AUTH)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "verify for one purpose at a time (0x%x)",
                        purpose);
    untrusted = sk_X509_new_null();
    ctx = X509_STORE_CTX_new();
    if (untrusted == NULL || ctx == NULL) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (size_t i = 1; i < chain->n; i++) {
        if (sk_X509_push(untrusted, chain->certs[i]) == 0) { /* borrowed */
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            goto done;
        }
    }
    if (X509_STORE_CTX_init(ctx, trust->store, chain->certs[0], untrusted) != 1) {
        err = pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot set up certificate verification");
        goto done;
    }
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx),
                               (time_t)(clm_clock_now_ns(clock) / CLM_NS_PER_SEC));
    if (purpose != 0 && X509_STORE_CTX_set_purpose(ctx, purpose == PKI_EKU_SERVER_AUTH
                                                            ? X509_PURPOSE_SSL_SERVER
                                                            : X509_PURPOSE_SSL_CLIENT) != 1) {
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot set the verification purpose");
        goto done;
    }
    if (X509_verify_cert(ctx) == 1) {
        result->ok = true;
        result->code = X509_V_OK;
    } else {
        result->code = X509_STORE_CTX_get_error(ctx);
        result->depth = X509_STORE_CTX_get_error_depth(ctx);
        snprintf(result->error, sizeof result->error, "%s",
                 X509_verify_cert_error_string(result->code));
        err = clm_fail(CLM_ERR_CRYPTO, "the chain does not verify: %s (depth %d)", result->error,
                       result->depth);
    }
done:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    return err;
}
