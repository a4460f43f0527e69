/* adapters/ca/acme/order.c: orders (RFC 8555 7.4): newOrder, authorizations and their
 * challenges through the solver, finalize, download with alternate chains; the pending
 * cookie and poll; revocation (7.6). */
#include "adapters/ca/acme/acme_internal.h"

#include "lib/base/log.h"
#include "lib/pki/csr.h"
#include "lib/pki/name.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COOKIE_PREFIX "acme1 "
#define MAX_IDENTIFIERS 100

/* ---- identifiers from the CSR -------------------------------------------------------- */

static bool add_name(acme_call *c, const char **names, size_t *n, const char *name, size_t len)
{
    char *lower;

    if (len == 0 || len > 253 || *n >= MAX_IDENTIFIERS)
        return acme_decide(c, ADAPTER_CA_REJECTED,
                           "the CSR has an empty or over-long name, or more than %d names",
                           MAX_IDENTIFIERS);
    if ((lower = clm_arena_alloc(&c->arena, len + 1)) == NULL)
        return acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
    for (size_t i = 0; i < len; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[len] = '\0';
    if (memchr(name, '\0', len) != NULL || pki_name_check_dns(lower, true) != CLM_OK)
        return acme_decide(c, ADAPTER_CA_REJECTED, "the CSR's name \"%.64s\" is not a DNS name",
                           lower);
    for (size_t i = 0; i < *n; i++)
        if (strcmp(names[i], lower) == 0)
            return true;
    names[(*n)++] = lower;
    return true;
}

/* The DNS names of the CSR's subjectAltName: the order's identifiers. A CN must be one
 * of them (RFC 8555 7.4: the CSR's names are the order's; CAs match subjectAltName). */
static bool csr_identifiers(acme_call *c, X509_REQ *req, const char **names, size_t *n)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    GENERAL_NAMES *sans = exts ? X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL) : NULL;
    X509_NAME *subject = X509_REQ_get_subject_name(req);
    int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    bool ok = true;

    *n = 0;
    for (int i = 0; ok && i < (int)sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
        if (gn->type != GEN_DNS) {
            ok = acme_decide(c, ADAPTER_CA_REJECTED,
                             "subjectAltName[%d]: ACME issues for DNS names only here", i);
            break;
        }
        ok = add_name(c, names, n, (const char *)ASN1_STRING_get0_data(gn->d.dNSName),
                      (size_t)ASN1_STRING_length(gn->d.dNSName));
    }
    if (ok && *n == 0)
        ok = acme_decide(c, ADAPTER_CA_REJECTED,
                         "the CSR has no DNS subjectAltName: ACME CAs issue for subjectAltName "
                         "names (give the CN as a DNS name too)");
    if (ok && idx >= 0) {
        unsigned char *utf8 = NULL;
        int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(
                                                 X509_NAME_get_entry(subject, idx)));
        bool found = false;

        for (size_t i = 0; len > 0 && i < *n; i++)
            found |= strlen(names[i]) == (size_t)len &&
                     strncasecmp(names[i], (const char *)utf8, (size_t)len) == 0;
        if (len > 0 && !found)
            ok = acme_decide(c, ADAPTER_CA_REJECTED,
                             "the CSR's CN \"%.64s\" is not one of its DNS subjectAltNames "
                             "(ACME CAs refuse such a CSR)",
                             (const char *)utf8);
        OPENSSL_free(utf8);
    }
    GENERAL_NAMES_free(sans);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    ERR_clear_error();
    return ok;
}

/* ---- reading server objects ---------------------------------------------------------- */

static bool parse_failed(acme_call *c, clm_err err, const char *what)
{
    if (err == CLM_ERR_NO_MEMORY)
        return acme_hard(c, err);
    c->out->retry_after = ACME_UNREACHABLE_RETRY_DEFAULT;
    return acme_decide(c, ADAPTER_CA_UNREACHABLE, "%s: the server's answer is malformed: %s",
                       what, clm_error_message());
}

static bool order_fetch(acme_call *c, const char *url, acme_order *order, int64_t *retry_after)
{
    http_response resp = {0};
    clm_err err;

    if (!acme_post(c, url, NULL, NULL, "order", &resp))
        return false;
    *retry_after = acme_retry_after(c, &resp, -1);
    err = acme_order_parse(resp.body, resp.body_len, &c->arena, order);
    http_response_free(&resp);
    return err == CLM_OK || parse_failed(c, err, "order");
}

static bool authz_fetch(acme_call *c, const char *url, acme_authorization *authz,
                        int64_t *retry_after)
{
    http_response resp = {0};
    clm_err err;

    if (!acme_post(c, url, NULL, NULL, "authorization", &resp))
        return false;
    *retry_after = acme_retry_after(c, &resp, -1);
    err = acme_authorization_parse(resp.body, resp.body_len, &c->arena, authz);
    http_response_free(&resp);
    return err == CLM_OK || parse_failed(c, err, "authorization");
}

/* ---- authorizations ------------------------------------------------------------------ */

typedef struct presented {
    const char *authz_url;
    const char *domain, *token, *key_authorization;
    bool active; /* presented and not cleaned up */
    bool decided;
} presented;

static bool solver_failed(acme_call *c, clm_err err, const char *domain)
{
    if (err == CLM_ERR_NO_MEMORY)
        return acme_hard(c, err);
    if (err == CLM_ERR_UNAVAILABLE || err == CLM_ERR_TIMEOUT) {
        c->out->retry_after = ACME_UNREACHABLE_RETRY_DEFAULT;
        return acme_decide(c, ADAPTER_CA_UNREACHABLE, "%s challenge for %s: %s",
                           c->ca->solver->ops->type, domain, clm_error_message());
    }
    return acme_decide(c, ADAPTER_CA_UNCONFIGURED, "%s challenge for %s: %s",
                       c->ca->solver->ops->type, domain, clm_error_message());
}

static void cleanup_all(acme_call *c, presented *p, size_t n, bool all)
{
    const acme_solver_ops *ops = c->ca->solver->ops;

    for (size_t i = 0; i < n; i++) {
        if (!p[i].active || (!all && !p[i].decided))
            continue;
        if (ops->cleanup(c->ca->solver_ctx, p[i].domain, p[i].token, p[i].key_authorization) !=
            CLM_OK)
            CLM_LOG_WARN("acme_cleanup_failed", "connector", c->ca->connector, "domain",
                         p[i].domain, "error", clm_error_message());
        p[i].active = false;
    }
}

/*
 * Solve every pending authorization of the order: present, respond, wait for each to be
 * decided. Presented challenges are cleaned up once decided; ones still undecided at the
 * deadline stay presented for the poll that continues the order (it presents them again
 * and cleans them up).
 */
static bool solve_authorizations(acme_call *c, const acme_order *order)
{
    const acme_solver_ops *ops = c->ca->solver->ops;
    presented *p;
    size_t n = 0, undecided = 0;
    int64_t backoff_ms = 50;
    bool ok = true;

    if (order->n_authorizations == 0)
        return true;
    p = clm_arena_alloc(&c->arena, order->n_authorizations * sizeof *p);
    if (p == NULL)
        return acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
    memset(p, 0, order->n_authorizations * sizeof *p);

    for (size_t i = 0; ok && i < order->n_authorizations; i++) {
        acme_authorization authz;
        const acme_challenge *ch = NULL;
        int64_t ra;
        clm_buf ka = CLM_BUF_INIT;
        clm_err err;

        if (!(ok = authz_fetch(c, order->authorizations[i], &authz, &ra)))
            break;
        for (size_t k = 0; k < authz.n_challenges; k++)
            if (strcmp(authz.challenges[k].type, ops->type) == 0 && authz.challenges[k].token)
                ch = &authz.challenges[k];
        if (authz.status == ACME_STATUS_VALID) {
            if (ch != NULL) { /* an earlier call may have left it presented */
                clm_buf_printf(&ka, "%s.%s", ch->token, c->account->key.thumbprint);
                (void)ops->cleanup(c->ca->solver_ctx, authz.identifier_value, ch->token,
                                   clm_buf_str(&ka));
                clm_buf_free(&ka);
            }
            continue;
        }
        if (authz.status != ACME_STATUS_PENDING) {
            ok = acme_decide(c, ADAPTER_CA_REJECTED, "authorization for %s is %s%s%s",
                             authz.identifier_value, acme_status_name(authz.status),
                             ch && ch->error.detail ? ": " : "",
                             ch && ch->error.detail ? ch->error.detail : "");
            break;
        }
        if (ch == NULL) {
            ok = acme_decide(c, ADAPTER_CA_REJECTED,
                             "the CA offers no %s challenge for %s (fields.challenge_type)",
                             ops->type, authz.identifier_value);
            break;
        }
        if (clm_buf_printf(&ka, "%s.%s", ch->token, c->account->key.thumbprint) != CLM_OK) {
            ok = acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
            break;
        }
        p[n] = (presented){.authz_url = order->authorizations[i],
                           .domain = authz.identifier_value,
                           .token = ch->token,
                           .key_authorization = clm_arena_strdup(&c->arena, clm_buf_str(&ka))};
        clm_buf_free(&ka);
        if (p[n].key_authorization == NULL) {
            ok = acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
            break;
        }
        err = ops->present(c->ca->solver_ctx, p[n].domain, p[n].token, p[n].key_authorization);
        p[n].active = true; /* cleanup also after a half-done present */
        n++;
        if (err != CLM_OK) {
            ok = solver_failed(c, err, authz.identifier_value);
            break;
        }
        if (ch->status == ACME_STATUS_PENDING && !c->challenges_posted) {
            http_response resp = {0};
            if (!(ok = acme_post(c, ch->url, "{}", NULL, "challenge", &resp)))
                break;
            http_response_free(&resp);
        }
    }
    undecided = ok ? n : 0;
    while (ok && undecided > 0) {
        int64_t wait_ms = backoff_ms;

        for (size_t i = 0; ok && i < n; i++) {
            acme_authorization authz;
            int64_t ra;

            if (p[i].decided)
                continue;
            if (!(ok = authz_fetch(c, p[i].authz_url, &authz, &ra)))
                break;
            if (ra > 0 && ra * 1000 > wait_ms)
                wait_ms = ra * 1000;
            if (authz.status == ACME_STATUS_PENDING)
                continue;
            p[i].decided = true;
            undecided--;
            if (authz.status != ACME_STATUS_VALID) {
                const char *detail = NULL;
                for (size_t k = 0; k < authz.n_challenges; k++)
                    if (authz.challenges[k].error.detail != NULL)
                        detail = authz.challenges[k].error.detail;
                ok = acme_decide(c, ADAPTER_CA_REJECTED, "%s validation of %s failed: %s",
                                 ops->type, p[i].domain,
                                 detail ? detail : acme_status_name(authz.status));
            }
        }
        if (!ok || undecided == 0)
            break;
        if (!acme_sleep(c, wait_ms)) {
            c->out->retry_after = wait_ms / 1000 > 0 ? wait_ms / 1000 : 1;
            cleanup_all(c, p, n, false);
            return true; /* the caller sees the order still pending and answers pending */
        }
        if (backoff_ms < 1000)
            backoff_ms *= 2;
    }
    cleanup_all(c, p, n, true);
    return ok;
}

/* ---- download -------------------------------------------------------------------------- */

typedef struct chain {
    adapter_ca_der *certs;
    size_t n;
    const char **alternates;
    size_t n_alternates;
} chain;

static bool chain_fetch(acme_call *c, const char *url, chain *out)
{
    http_response resp = {0};
    const char *links[ACME_LIST_MAX];
    size_t n_links = 0;
    clm_err err;

    memset(out, 0, sizeof *out);
    if (!acme_post(c, url, NULL, "application/pem-certificate-chain", "certificate", &resp))
        return false;
    for (size_t i = 0; i < resp.n_headers && n_links < ACME_LIST_MAX; i++)
        if (strcasecmp(resp.headers[i].name, "Link") == 0)
            links[n_links++] = resp.headers[i].value;
    err = acme_chain_parse(resp.body, resp.body_len, &c->arena, &out->certs, &out->n);
    if (err == CLM_OK)
        err = acme_link_parse(links, n_links, "alternate", &c->arena, &out->alternates,
                              &out->n_alternates);
    http_response_free(&resp);
    return err == CLM_OK || parse_failed(c, err, "certificate");
}

static bool chain_matches(acme_call *c, const chain *ch, const char *preferred)
{
    const char *cn = NULL;

    return acme_chain_top_issuer_cn(ch->certs, ch->n, &c->arena, &cn) == CLM_OK && cn != NULL &&
           strcmp(cn, preferred) == 0;
}

static bool serial_hex(acme_call *c, const adapter_ca_der *leaf, const char **out)
{
    const unsigned char *p = leaf->data;
    X509 *x = d2i_X509(NULL, &p, (long)leaf->len);
    BIGNUM *bn = x ? ASN1_INTEGER_to_BN(X509_get_serialNumber(x), NULL) : NULL;
    char *hex = bn ? BN_bn2hex(bn) : NULL;

    *out = NULL;
    if (hex != NULL) {
        for (char *h = hex; *h; h++)
            *h = (char)toupper((unsigned char)*h);
        *out = clm_arena_strdup(&c->out->arena, hex);
    }
    OPENSSL_free(hex);
    BN_free(bn);
    X509_free(x);
    ERR_clear_error();
    if (*out == NULL)
        return parse_failed(c, clm_fail(CLM_ERR_PARSE, "the certificate does not decode"),
                            "certificate");
    return true;
}

static bool download(acme_call *c, const acme_order *order)
{
    chain best;
    adapter_ca_result *out = c->out;
    const char *preferred = c->ca->preferred_chain;

    if (order->certificate == NULL) {
        c->out->retry_after = ACME_UNREACHABLE_RETRY_DEFAULT;
        return acme_decide(c, ADAPTER_CA_UNREACHABLE, "order: valid without a certificate URL");
    }
    if (!chain_fetch(c, order->certificate, &best))
        return false;
    if (preferred != NULL && !chain_matches(c, &best, preferred)) {
        for (size_t i = 0; i < best.n_alternates; i++) {
            chain alt;
            if (!chain_fetch(c, best.alternates[i], &alt))
                return false;
            if (chain_matches(c, &alt, preferred)) {
                best.certs = alt.certs;
                best.n = alt.n;
                break;
            }
        }
    }
    out->cert.len = best.certs[0].len;
    out->cert.data = clm_arena_memdup(&out->arena, best.certs[0].data, best.certs[0].len);
    out->chain_len = best.n - 1;
    if (out->chain_len > 0) {
        out->chain = clm_arena_alloc(&out->arena, out->chain_len * sizeof *out->chain);
        if (out->chain == NULL)
            return acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
        for (size_t i = 0; i < out->chain_len; i++) {
            out->chain[i].len = best.certs[i + 1].len;
            out->chain[i].data =
                clm_arena_memdup(&out->arena, best.certs[i + 1].data, best.certs[i + 1].len);
            if (out->chain[i].data == NULL)
                return acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
        }
    }
    if (out->cert.data == NULL)
        return acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
    if (!serial_hex(c, &out->cert, &out->serial))
        return false;
    return acme_decide(c, ADAPTER_CA_ISSUED, "%s", "");
}

/* ---- driving an order to its end ----------------------------------------------------- */

static bool answer_pending(acme_call *c, const char *order_url, const char *csr_b64,
                           int64_t retry_after)
{
    size_t len = strlen(COOKIE_PREFIX) + strlen(order_url) + 1 + strlen(csr_b64) + 1;
    char *cookie = clm_arena_alloc(&c->out->arena, len);

    if (cookie == NULL)
        return acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
    snprintf(cookie, len, "%s%s %s", COOKIE_PREFIX, order_url, csr_b64);
    c->out->cookie = cookie;
    c->out->retry_after = retry_after > 0 ? retry_after : ACME_PENDING_RETRY_DEFAULT;
    return acme_decide(c, ADAPTER_CA_PENDING, "the order is not decided yet");
}

static bool drive(acme_call *c, const char *order_url, acme_order order, const char *csr_b64,
                  int64_t retry_after)
{
    int64_t backoff_ms = 50;

    for (;;) {
        switch (order.status) {
        case ACME_STATUS_PENDING:
            if (!solve_authorizations(c, &order))
                return false;
            break;
        case ACME_STATUS_READY: {
            http_response resp = {0};
            char *payload = NULL;
            clm_err err;
            json_t *j = json_pack("{s:s}", "csr", csr_b64);
            if (j == NULL || (payload = json_dumps(j, JSON_COMPACT)) == NULL) {
                json_decref(j);
                return acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
            }
            json_decref(j);
            if (!acme_post(c, order.finalize, payload, NULL, "finalize", &resp)) {
                free(payload);
                return false;
            }
            free(payload);
            retry_after = acme_retry_after(c, &resp, -1);
            err = acme_order_parse(resp.body, resp.body_len, &c->arena, &order);
            http_response_free(&resp);
            if (err != CLM_OK)
                return parse_failed(c, err, "finalize");
            continue; /* look at the order finalize returned */
        }
        case ACME_STATUS_PROCESSING: {
            int64_t wait_ms = retry_after > 0 ? retry_after * 1000 : backoff_ms;
            if (!acme_sleep(c, wait_ms))
                return answer_pending(c, order_url, csr_b64, retry_after);
            if (backoff_ms < 1000)
                backoff_ms *= 2;
            break;
        }
        case ACME_STATUS_VALID:
            return download(c, &order);
        default:
            return acme_decide(c, ADAPTER_CA_REJECTED, "the order is %s%s%s%s%s",
                               acme_status_name(order.status), order.error.type ? ": " : "",
                               order.error.type ? order.error.type : "",
                               order.error.detail ? ": " : "",
                               order.error.detail ? order.error.detail : "");
        }
        if (clm_clock_monotonic_ns(c->ca->clock) >= c->deadline_ns)
            return answer_pending(c, order_url, csr_b64, c->out->retry_after);
        if (!order_fetch(c, order_url, &order, &retry_after))
            return false;
        if (order.status == ACME_STATUS_PENDING &&
            clm_clock_monotonic_ns(c->ca->clock) >= c->deadline_ns)
            return answer_pending(c, order_url, csr_b64, c->out->retry_after);
    }
}

clm_err acme_submit(adapter_ca *ca, const adapter_ca_request *request, adapter_ca_result *out);
clm_err acme_poll(adapter_ca *ca, const char *cookie, adapter_ca_result *out);
clm_err acme_revoke(adapter_ca *ca, const adapter_ca_revocation *revocation,
                    adapter_ca_result *out);

static bool submit_steps(acme_call *c, const adapter_ca_request *request)
{
    X509_REQ *req = NULL;
    const char *names[MAX_IDENTIFIERS];
    size_t n = 0;
    unsigned char *der = NULL;
    int der_len;
    clm_buf csr_b64 = CLM_BUF_INIT;
    json_t *ids = NULL, *payload = NULL;
    char *text = NULL;
    const acme_directory *dir;
    http_response resp = {0};
    const char *location;
    char *order_url;
    acme_order order;
    clm_err err;
    bool ok = false;

    if (pki_csr_read(request->csr, request->csr_len, &req) != CLM_OK) {
        acme_decide(c, ADAPTER_CA_REJECTED, "the CSR: %s", clm_error_message());
        goto done;
    }
    if (!csr_identifiers(c, req, names, &n))
        goto done;
    if ((der_len = i2d_X509_REQ(req, &der)) <= 0 ||
        acme_b64url_append(&csr_b64, der, (size_t)der_len) != CLM_OK ||
        clm_buf_append_byte(&csr_b64, 0) != CLM_OK) {
        acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
        goto done;
    }
    if (!acme_account_ensure(c) || !acme_directory_get(c, &dir))
        goto done;
    if ((ids = json_array()) == NULL) {
        acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(ids, json_pack("{s:s, s:s}", "type", "dns", "value", names[i]));
    if ((payload = json_pack("{s:O}", "identifiers", ids)) == NULL ||
        (text = json_dumps(payload, JSON_COMPACT)) == NULL) {
        acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
        goto done;
    }
    if (!acme_post(c, dir->new_order, text, NULL, "newOrder", &resp))
        goto done;
    location = http_response_header(&resp, "Location");
    if (location == NULL || strncmp(location, "http", 4) != 0 ||
        strlen(location) > ACME_TEXT_MAX || strchr(location, ' ') != NULL) {
        c->out->retry_after = ACME_UNREACHABLE_RETRY_DEFAULT;
        acme_decide(c, ADAPTER_CA_UNREACHABLE, "newOrder: no order URL (Location) in the answer");
        goto done;
    }
    order_url = clm_arena_strdup(&c->arena, location);
    err = acme_order_parse(resp.body, resp.body_len, &c->arena, &order);
    if (order_url == NULL) {
        acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
        goto done;
    }
    if (err != CLM_OK) {
        parse_failed(c, err, "newOrder");
        goto done;
    }
    CLM_LOG_DEBUG("acme_order", "connector", c->ca->connector, "names", CLM_I64(n),
                  "request_id", request->request_id);
    ok = drive(c, order_url, order, (const char *)csr_b64.data, acme_retry_after(c, &resp, -1));
done:
    http_response_free(&resp);
    free(text);
    json_decref(payload);
    json_decref(ids);
    clm_buf_free(&csr_b64);
    OPENSSL_free(der);
    X509_REQ_free(req);
    return ok;
}

clm_err acme_submit(adapter_ca *ca, const adapter_ca_request *request, adapter_ca_result *out)
{
    acme_call c;

    if (ca == NULL || request == NULL || out == NULL || request->csr == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "acme submit: NULL argument");
    acme_call_begin(&c, ca, out, true);
    (void)submit_steps(&c, request);
    return acme_call_end(&c, true);
}

static bool poll_steps(acme_call *c, const char *cookie)
{
    const char *url, *space, *csr_b64;
    char *order_url;
    acme_order order;
    int64_t retry_after;

    if (strncmp(cookie, COOKIE_PREFIX, strlen(COOKIE_PREFIX)) != 0 ||
        (space = strchr(cookie + strlen(COOKIE_PREFIX), ' ')) == NULL)
        return acme_decide(c, ADAPTER_CA_REJECTED, "cookie: not one this adapter made");
    url = cookie + strlen(COOKIE_PREFIX);
    csr_b64 = space + 1;
    if ((order_url = clm_arena_alloc(&c->arena, (size_t)(space - url) + 1)) == NULL)
        return acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
    memcpy(order_url, url, (size_t)(space - url));
    order_url[space - url] = '\0';
    if (strncmp(order_url, "http", 4) != 0 || csr_b64[0] == '\0' ||
        strspn(csr_b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
            strlen(csr_b64))
        return acme_decide(c, ADAPTER_CA_REJECTED, "cookie: not one this adapter made");
    if (!acme_account_ensure(c) || !order_fetch(c, order_url, &order, &retry_after))
        return false;
    c->challenges_posted = true;
    return drive(c, order_url, order, csr_b64, retry_after);
}

clm_err acme_poll(adapter_ca *ca, const char *cookie, adapter_ca_result *out)
{
    acme_call c;

    if (ca == NULL || cookie == NULL || out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "acme poll: NULL argument");
    acme_call_begin(&c, ca, out, true);
    (void)poll_steps(&c, cookie);
    return acme_call_end(&c, true);
}

/* ---- revocation ------------------------------------------------------------------------ */

static bool revoke_steps(acme_call *c, const adapter_ca_revocation *rev)
{
    const acme_directory *dir;
    clm_buf cert_b64 = CLM_BUF_INIT;
    json_t *payload = NULL;
    char *text = NULL;
    http_response resp = {0};
    adapter_ca_der leaf = {rev->cert, rev->cert_len};
    bool ok = false;

    if (rev->cert == NULL || rev->cert_len == 0)
        return acme_decide(c, ADAPTER_CA_REJECTED,
                           "ACME revokes a certificate, not a serial: the certificate is needed");
    if (rev->reason == ADAPTER_CA_REASON_REMOVE_FROM_CRL || rev->reason == 7 ||
        rev->reason >= ADAPTER_CA_REASON_MAX || (int)rev->reason < 0)
        return acme_decide(c, ADAPTER_CA_REJECTED, "reason: %d is not a revocation reason",
                           (int)rev->reason);
    if (!acme_account_ensure(c) || !acme_directory_get(c, &dir))
        return false;
    if (dir->revoke_cert == NULL)
        return acme_decide(c, ADAPTER_CA_UNSUPPORTED, "the server's directory has no revokeCert");
    if (acme_b64url_append(&cert_b64, rev->cert, rev->cert_len) != CLM_OK ||
        clm_buf_append_byte(&cert_b64, 0) != CLM_OK ||
        (payload = json_pack("{s:s, s:i}", "certificate", (const char *)cert_b64.data, "reason",
                             (int)rev->reason)) == NULL ||
        (text = json_dumps(payload, JSON_COMPACT)) == NULL) {
        acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
        goto done;
    }
    if (!acme_post(c, dir->revoke_cert, text, NULL, "revokeCert", &resp))
        goto done;
    if (serial_hex(c, &leaf, &c->out->serial))
        ok = acme_decide(c, ADAPTER_CA_REVOKED, "%s", "");
done:
    http_response_free(&resp);
    free(text);
    json_decref(payload);
    clm_buf_free(&cert_b64);
    return ok;
}

clm_err acme_revoke(adapter_ca *ca, const adapter_ca_revocation *revocation,
                    adapter_ca_result *out)
{
    acme_call c;

    if (ca == NULL || revocation == NULL || out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "acme revoke: NULL argument");
    acme_call_begin(&c, ca, out, false);
    (void)revoke_steps(&c, revocation);
    return acme_call_end(&c, false);
}
