/* adapters/ca/cfssl/cfssl.c: the cfssl CA adapter (cfssl.h). */
#include "adapters/ca/cfssl/cfssl.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/ca/fields.h"
#include "lib/base/buf.h"
#include "lib/base/log.h"
#include "lib/http/retry.h"
#include "lib/pki/cert.h"
#include "lib/pki/csr.h"
#include "lib/pki/read.h"

#define API_PATH "/api/v1/cfssl/"
#define AUTH_KEY_MAX_HEX 256 /* 128 bytes */
#define NAME_MAX_LEN 64      /* profile and label names */
#define TIMEOUT_DEFAULT_S 30

static const adapter_field config_fields[] = {
    {.name = "url", .type = ADAPTER_FIELD_URL, .required = true, .max_len = 512,
     .help = "the cfssl server (`cfssl serve`), e.g. http://127.0.0.1:8888; the API is under "
             "/api/v1/cfssl/"},
    {.name = "auth_key", .type = ADAPTER_FIELD_STRING, .max_len = AUTH_KEY_MAX_HEX,
     .secret = true,
     .help = "hex HMAC key of the server's auth_keys entry its profiles name: requests then "
             "go to authsign; leave out for sign"},
    {.name = "label", .type = ADAPTER_FIELD_STRING, .max_len = NAME_MAX_LEN,
     .help = "the signer label sent when a request names none"},
    {.name = "profiles", .type = ADAPTER_FIELD_STRING, .max_len = 1024,
     .help = "the server's profile names, comma-separated: a request for another is "
             "rejected (cfssl 1.2 signs unknown profiles with its default)"},
    {.name = "ca_file", .type = ADAPTER_FIELD_STRING, .max_len = 1024,
     .help = "PEM file of the CAs trusted for an https:// url; default: the system store"},
    {.name = "timeout_seconds", .type = ADAPTER_FIELD_INT, .min = 1, .max = 300,
     .help = "time allowed per request (default 30)"},
};

static const adapter_field request_fields[] = {
    {.name = "profile", .type = ADAPTER_FIELD_STRING, .max_len = NAME_MAX_LEN,
     .help = "the cfssl signing profile; default: the server's default profile"},
    {.name = "label", .type = ADAPTER_FIELD_STRING, .max_len = NAME_MAX_LEN,
     .help = "the cfssl signer label; default: the connector's"},
};

#define N_CONFIG (sizeof(config_fields) / sizeof(config_fields[0]))
#define N_REQUEST (sizeof(request_fields) / sizeof(request_fields[0]))

struct adapter_ca {
    char *name; /* the connector, for log lines */
    char *url;  /* without a trailing '/' */
    unsigned char *auth_key; /* decoded; wiped on close */
    size_t auth_key_len;
    char *label;
    char *profiles; /* ",a,b," for lookups; NULL: any */
    char *ca_file;
    int timeout_ms;
    const clm_clock *clock;
    pthread_mutex_t lock; /* the cached chain */
    bool have_chain;
    char *chain_key;      /* "label\nprofile" it was asked for */
    unsigned char **chain_der;
    size_t *chain_len;
    size_t n_chain;
};

/* ---- fields ---- */

static bool name_ok(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
            return false;
    return true;
}

static clm_err cfssl_check_fields(const adapter_fields *fields, bool request)
{
    const char *v;
    clm_err err;

    if (request)
        return ca_fields_check(request_fields, N_REQUEST, fields, "fields");
    if ((err = ca_fields_check(config_fields, N_CONFIG, fields, "config.fields")) != CLM_OK)
        return err;
    /* The key's value is never quoted: only its shape is described. */
    if ((v = ca_fields_get(fields, "auth_key")) != NULL) {
        size_t len = strlen(v);
        for (size_t i = 0; i < len; i++)
            if (clm_hex_value(v[i]) < 0)
                return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                                "config.fields.auth_key: not hex (cfssl's auth_keys hold "
                                "the key as hex digits)");
        if (len % 2 != 0 || len < 16)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "config.fields.auth_key: %zu hex digits; an even number, at "
                            "least 16, is expected", len);
    }
    if ((v = ca_fields_get(fields, "url")) != NULL && strpbrk(v, "?#") != NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "config.fields.url: no query or fragment (the API path is appended)");
    if ((v = ca_fields_get(fields, "profiles")) != NULL)
        for (const char *p = v;;) {
            size_t n = strcspn(p, ",");
            if (!name_ok(p, n))
                return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                                "config.fields.profiles: \"%.64s\" is not a list of profile "
                                "names (letters, digits, _ - .) separated by commas", v);
            if (p[n] == '\0')
                break;
            p += n + 1;
        }
    return CLM_OK;
}

/* ---- instances ---- */

static void free_chain(adapter_ca *ca)
{
    for (size_t i = 0; i < ca->n_chain; i++)
        free(ca->chain_der[i]);
    free(ca->chain_der);
    free(ca->chain_len);
    free(ca->chain_key);
    ca->chain_der = NULL;
    ca->chain_len = NULL;
    ca->chain_key = NULL;
    ca->n_chain = 0;
    ca->have_chain = false;
}

static void cfssl_close(adapter_ca *ca)
{
    if (ca == NULL)
        return;
    free_chain(ca);
    if (ca->auth_key != NULL) {
        clm_memwipe(ca->auth_key, ca->auth_key_len);
        free(ca->auth_key);
    }
    free(ca->name);
    free(ca->url);
    free(ca->label);
    free(ca->profiles);
    free(ca->ca_file);
    pthread_mutex_destroy(&ca->lock);
    free(ca);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static clm_err cfssl_open(const adapter_ca_config *config, adapter_ca **out)
{
    adapter_ca *ca;
    const char *url, *key, *profiles;
    int64_t timeout_s;
    clm_err err;

    *out = NULL;
    if (config == NULL || config->connector == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "cfssl: no configuration");
    if ((err = cfssl_check_fields(&config->fields, false)) != CLM_OK ||
        (err = ca_fields_get_int(&config->fields, "timeout_seconds", TIMEOUT_DEFAULT_S,
                                 &timeout_s)) != CLM_OK)
        return err;
    if ((ca = calloc(1, sizeof(*ca))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    pthread_mutex_init(&ca->lock, NULL);
    url = ca_fields_get(&config->fields, "url");
    key = ca_fields_get(&config->fields, "auth_key");
    profiles = ca_fields_get(&config->fields, "profiles");
    ca->clock = config->clock ? config->clock : clm_clock_system();
    ca->timeout_ms = (int)timeout_s * 1000;
    ca->name = strdup(config->connector);
    ca->url = strdup(url);
    ca->label = dup_or_null(ca_fields_get(&config->fields, "label"));
    ca->ca_file = dup_or_null(ca_fields_get(&config->fields, "ca_file"));
    if (profiles != NULL && (ca->profiles = malloc(strlen(profiles) + 3)) != NULL)
        snprintf(ca->profiles, strlen(profiles) + 3, ",%s,", profiles);
    if (key != NULL && (ca->auth_key = malloc(strlen(key) / 2 + 1)) != NULL) {
        ca->auth_key_len = strlen(key) / 2;
        for (size_t i = 0; i < ca->auth_key_len; i++)
            ca->auth_key[i] = (unsigned char)(clm_hex_value(key[2 * i]) * 16 + clm_hex_value(key[2 * i + 1]));
    }
    if (ca->name == NULL || ca->url == NULL ||
        (ca_fields_get(&config->fields, "label") != NULL && ca->label == NULL) ||
        (ca_fields_get(&config->fields, "ca_file") != NULL && ca->ca_file == NULL) ||
        (profiles != NULL && ca->profiles == NULL) || (key != NULL && ca->auth_key == NULL)) {
        cfssl_close(ca);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    while (ca->url[0] != '\0' && ca->url[strlen(ca->url) - 1] == '/')
        ca->url[strlen(ca->url) - 1] = '\0';
    *out = ca;
    return CLM_OK;
}

/* ---- one call ---- */

/* What a call came to: an answer to read, or an outcome already set in the result. */
typedef enum call_end { CALL_ANSWER, CALL_OUTCOME } call_end;

/* POST body to URL/api/v1/cfssl/<endpoint>. On CALL_ANSWER, *answer is filled and the
   HTTP status is in *status; on CALL_OUTCOME, out holds unreachable or unconfigured. */
static clm_err call(adapter_ca *ca, const char *endpoint, const char *body,
                    adapter_ca_result *out, ca_cfssl_answer *answer, call_end *end)
{
    char url[1024];
    http_tls_options tls = {.ca_file = ca->ca_file};
    http_request req = {.method = "POST", .url = url, .body = body, .body_len = strlen(body),
                        .connect_timeout_ms = ca->timeout_ms, .total_timeout_ms = ca->timeout_ms,
                        .tls = ca->ca_file ? &tls : NULL};
    http_retry_policy policy = {.max_attempts = 2, .initial_delay_ms = 200, .max_delay_ms = 2000};
    http_response resp = {0};
    clm_err err;

    *end = CALL_OUTCOME;
    snprintf(url, sizeof(url), "%s" API_PATH "%s", ca->url, endpoint);
    err = http_post_json_retry(&req, &policy, ca->clock, &resp, NULL);
    switch (err) {
    case CLM_OK:
        break;
    case CLM_ERR_NO_MEMORY:
        return err;
    case CLM_ERR_INVALID_ARGUMENT: /* the ca_file, the URL: only the admin can fix them */
        return adapter_ca_result_set(out, ADAPTER_CA_UNCONFIGURED, "cfssl at %s: %s", ca->url,
                                     clm_error_message());
    default: /* refused, unreachable, timeout, a broken HTTP answer */
        return adapter_ca_result_set(out, ADAPTER_CA_UNREACHABLE, "cfssl at %s: %s", ca->url,
                                     clm_error_message());
    }
    if (resp.status == 404) {
        http_response_free(&resp);
        return adapter_ca_result_set(
            out, ADAPTER_CA_UNCONFIGURED,
            "%s has no " API_PATH "%s (HTTP 404): not a cfssl server%s", ca->url, endpoint,
            strcmp(endpoint, "revoke") == 0 ? ", or one without -db-config (revoke needs "
                                              "its certificate database)" : "");
    }
    err = ca_cfssl_answer_parse(resp.body, resp.body_len, &out->arena, answer);
    if (http_status_retryable(resp.status)) {
        int status = resp.status;
        http_response_free(&resp);
        clm_error_clear();
        return adapter_ca_result_set(out, ADAPTER_CA_UNREACHABLE, "cfssl at %s: HTTP %d%s%s",
                                     ca->url, status, err == CLM_OK && answer->message[0] ? ": " : "",
                                     err == CLM_OK ? answer->message : "");
    }
    http_response_free(&resp);
    if (err == CLM_ERR_NO_MEMORY)
        return err;
    if (err != CLM_OK)
        return adapter_ca_result_set(out, ADAPTER_CA_UNCONFIGURED,
                                     "%s does not answer as cfssl does: %s", ca->url,
                                     clm_error_message());
    *end = CALL_ANSWER;
    return CLM_OK;
}

/* A refusal from cfssl, with what the admin can do about the authentication ones. */
static clm_err refused(adapter_ca *ca, const ca_cfssl_answer *a, const char *profile,
                       adapter_ca_result *out)
{
    const char *hint = "";

    if (strcmp(a->message, "invalid token") == 0)
        hint = ca->auth_key ? " (the connector's auth_key is not the key of the profile)"
                            : " (the profile needs the connector's auth_key)";
    else if (strcmp(a->message, "authentication required") == 0)
        hint = " (the profile requires authsign: set the connector's auth_key)";
    else if (strcmp(a->message, "no authentication provider") == 0)
        hint = " (the profile has no auth_key on the server: leave the connector's auth_key "
               "out, or use a profile that has one)";
    return adapter_ca_result_set(out, ADAPTER_CA_REJECTED, "cfssl%s%s%s: %s (code %d)%s",
                                 profile ? " profile \"" : "", profile ? profile : "",
                                 profile ? "\"" : "", a->message[0] ? a->message : "refused",
                                 a->code, hint);
}

/* ---- the JSON requests ---- */

static char *dump(json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

    json_decref(j);
    return text;
}

static char *base64(const unsigned char *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);

    if (out != NULL)
        EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

/* The authsign envelope around a sign request. */
static char *authsign_body(adapter_ca *ca, const char *request)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    char *token, *encoded;
    json_t *j;

    if (HMAC(EVP_sha256(), ca->auth_key, (int)ca->auth_key_len, (const unsigned char *)request,
             strlen(request), mac, &mac_len) == NULL)
        return NULL;
    token = base64(mac, mac_len);
    encoded = base64((const unsigned char *)request, strlen(request));
    j = token && encoded ? json_pack("{s:s, s:s}", "token", token, "request", encoded) : NULL;
    free(token);
    free(encoded);
    return dump(j);
}

/* {"k": v} members for the names that are set. */
static json_t *names(const char *profile, const char *label)
{
    json_t *j = json_object();

    if (j == NULL)
        return NULL;
    if ((profile && json_object_set_new(j, "profile", json_string(profile)) != 0) ||
        (label && json_object_set_new(j, "label", json_string(label)) != 0)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* ---- the chain (info), kept per instance ---- */

static clm_err read_certs(const char *pem, clm_arena *arena, adapter_ca_der **der, size_t *n)
{
    pki_read_result r = {0};
    clm_err err;

    *der = NULL;
    *n = 0;
    if ((err = pki_read(pem, strlen(pem), &(pki_read_options){.name = "certificate"}, &r)) !=
        CLM_OK) {
        pki_read_result_free(&r);
        return err;
    }
    if (r.n_certs == 0 || r.n_errors != 0 || r.n_keys != 0) {
        pki_read_result_free(&r);
        return clm_fail(CLM_ERR_PARSE, "not a list of PEM certificates");
    }
    if ((*der = clm_arena_alloc(arena, r.n_items * sizeof(**der))) == NULL) {
        pki_read_result_free(&r);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    for (size_t i = 0; i < r.n_items; i++) {
        (*der)[*n].data = clm_arena_memdup(arena, r.items[i].der, r.items[i].der_len);
        (*der)[*n].len = r.items[i].der_len;
        if ((*der)[*n].data == NULL) {
            pki_read_result_free(&r);
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        }
        (*n)++;
    }
    pki_read_result_free(&r);
    return CLM_OK;
}

/* The issuing CA's chain into out (cached after the first answer for this label and
   profile). A CA that does not say leaves the chain empty: the certificate stands. */
static clm_err fill_chain(adapter_ca *ca, const char *profile, const char *label,
                          adapter_ca_result *out)
{
    char key[2 * NAME_MAX_LEN + 4];
    ca_cfssl_answer a;
    adapter_ca_result probe = {0};
    adapter_ca_der *der = NULL;
    size_t n = 0;
    call_end end;
    char *body;
    clm_err err = CLM_OK;

    snprintf(key, sizeof(key), "%s\n%s", label ? label : "", profile ? profile : "");
    pthread_mutex_lock(&ca->lock);
    if (ca->have_chain && strcmp(ca->chain_key, key) == 0) {
        if ((out->chain = clm_arena_alloc(&out->arena, (ca->n_chain + 1) * sizeof(*out->chain))) ==
            NULL)
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        for (size_t i = 0; err == CLM_OK && i < ca->n_chain; i++) {
            out->chain[i].data = clm_arena_memdup(&out->arena, ca->chain_der[i], ca->chain_len[i]);
            out->chain[i].len = ca->chain_len[i];
            if (out->chain[i].data == NULL)
                err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        }
        out->chain_len = err == CLM_OK ? ca->n_chain : 0;
        pthread_mutex_unlock(&ca->lock);
        return err;
    }
    pthread_mutex_unlock(&ca->lock);

    if ((body = dump(names(profile, label))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    err = call(ca, "info", body, &probe, &a, &end);
    free(body);
    if (err == CLM_OK && end == CALL_ANSWER && a.success && a.certificate != NULL &&
        read_certs(a.certificate, &out->arena, &der, &n) == CLM_OK) {
        out->chain = der;
        out->chain_len = n;
        pthread_mutex_lock(&ca->lock);
        free_chain(ca);
        ca->chain_der = calloc(n, sizeof(*ca->chain_der));
        ca->chain_len = calloc(n, sizeof(*ca->chain_len));
        ca->chain_key = strdup(key);
        if (ca->chain_der && ca->chain_len && ca->chain_key) {
            for (size_t i = 0; i < n; i++)
                if ((ca->chain_der[i] = malloc(der[i].len)) != NULL) {
                    memcpy(ca->chain_der[i], der[i].data, der[i].len);
                    ca->chain_len[i] = der[i].len;
                    ca->n_chain = i + 1;
                } else
                    break;
            ca->have_chain = ca->n_chain == n;
        }
        pthread_mutex_unlock(&ca->lock);
    } else if (err == CLM_OK) {
        CLM_LOG_WARN("cfssl.info_failed", "connector", ca->name, "reason",
                     end == CALL_OUTCOME ? probe.reason : a.message);
        clm_error_clear();
    }
    adapter_ca_result_free(&probe);
    return err == CLM_ERR_NO_MEMORY ? err : CLM_OK;
}

/* ---- submit ---- */

static clm_err serial_hex(X509 *x, char **out, clm_arena *arena)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;

    *out = hex ? clm_arena_strdup(arena, hex) : NULL;
    OPENSSL_free(hex);
    BN_free(bn);
    return *out ? CLM_OK : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
}

/* The CSR as PEM text (cfssl takes PEM only). */
static clm_err csr_pem(const adapter_ca_request *request, clm_buf *out, adapter_ca_result *res,
                       bool *bad)
{
    X509_REQ *req = NULL;
    BIO *bio;
    BUF_MEM *mem;
    clm_err err;

    *bad = false;
    if ((err = pki_csr_read(request->csr, request->csr_len, &req)) != CLM_OK) {
        *bad = true;
        return adapter_ca_result_set(res, ADAPTER_CA_REJECTED, "csr: %s", clm_error_message());
    }
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_X509_REQ(bio, req) != 1) {
        BIO_free(bio);
        X509_REQ_free(req);
        return clm_fail(CLM_ERR_NO_MEMORY, "cannot write the CSR as PEM");
    }
    BIO_get_mem_ptr(bio, &mem);
    err = clm_buf_append(out, mem->data, mem->length);
    BIO_free(bio);
    X509_REQ_free(req);
    return err;
}

static bool profile_listed(const adapter_ca *ca, const char *profile)
{
    char needle[NAME_MAX_LEN + 3];

    snprintf(needle, sizeof(needle), ",%s,", profile);
    return ca->profiles == NULL || strstr(ca->profiles, needle) != NULL;
}

static clm_err issued(adapter_ca *ca, const ca_cfssl_answer *a, const char *profile,
                      const char *label, adapter_ca_result *out)
{
    X509 *x = NULL;
    unsigned char *der = NULL;
    int len;
    char *serial;
    clm_err err;

    if (a->certificate == NULL || pki_cert_from_pem(a->certificate, strlen(a->certificate), &x) !=
                                      CLM_OK) {
        clm_error_clear();
        return adapter_ca_result_set(out, ADAPTER_CA_UNCONFIGURED,
                                     "%s answered success without a PEM certificate: not the "
                                     "cfssl API", ca->url);
    }
    len = i2d_X509(x, &der);
    err = len > 0 ? serial_hex(x, &serial, &out->arena)
                  : clm_fail(CLM_ERR_CRYPTO, "the certificate does not encode");
    X509_free(x);
    if (err == CLM_OK && (out->cert.data = clm_arena_memdup(&out->arena, der, (size_t)len)) == NULL)
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    OPENSSL_free(der);
    if (err != CLM_OK)
        return err;
    out->cert.len = (size_t)len;
    out->serial = serial;
    if ((err = fill_chain(ca, profile, label, out)) != CLM_OK)
        return err;
    return adapter_ca_result_set(out, ADAPTER_CA_ISSUED, "%s", "");
}

static clm_err cfssl_submit(adapter_ca *ca, const adapter_ca_request *request,
                            adapter_ca_result *out)
{
    clm_buf pem = CLM_BUF_INIT;
    const char *profile, *label;
    char *sign = NULL, *body = NULL;
    ca_cfssl_answer a;
    json_t *j;
    call_end end;
    bool bad;
    clm_err err;

    if (ca == NULL || request == NULL || out == NULL || request->csr == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "cfssl submit: NULL argument");
    profile = ca_fields_get(&request->fields, "profile");
    label = ca_fields_get(&request->fields, "label");
    if (label == NULL)
        label = ca->label;
    if (profile != NULL && !profile_listed(ca, profile))
        return adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                                     "fields.profile: \"%.64s\" is not one of the connector's "
                                     "profiles (%.*s)", profile,
                                     (int)strlen(ca->profiles) - 2, ca->profiles + 1);
    if ((err = csr_pem(request, &pem, out, &bad)) != CLM_OK || bad)
        goto done;
    j = names(profile, label);
    if (j == NULL || json_object_set_new(j, "certificate_request", json_string(clm_buf_str(&pem))) != 0) {
        json_decref(j);
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    if ((sign = dump(j)) == NULL ||
        (ca->auth_key != NULL && (body = authsign_body(ca, sign)) == NULL)) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "cannot build the request");
        goto done;
    }
    err = call(ca, ca->auth_key ? "authsign" : "sign", body ? body : sign, out, &a, &end);
    if (err != CLM_OK || end == CALL_OUTCOME)
        goto done;
    if (!a.success || a.code != 0)
        err = refused(ca, &a, profile, out);
    else
        err = issued(ca, &a, profile, label, out);
done:
    if (out->outcome != ADAPTER_CA_ISSUED && out->reason[0] != '\0')
        CLM_LOG_INFO("cfssl.submit", "connector", ca->name, "outcome",
                     adapter_ca_outcome_name(out->outcome), "reason", out->reason);
    free(sign);
    if (body)
        clm_memwipe(body, strlen(body)); /* holds the token */
    free(body);
    clm_buf_free(&pem);
    return err;
}

/* ---- revoke ---- */

/* The certificate's authority key id as lower-case hex; "" when it has none. */
static void aki_hex(const adapter_ca_revocation *r, char out[129])
{
    const unsigned char *p = r->cert;
    X509 *x = r->cert ? d2i_X509(NULL, &p, (long)r->cert_len) : NULL;
    AUTHORITY_KEYID *aki = x ? X509_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL) : NULL;

    out[0] = '\0';
    if (aki != NULL && aki->keyid != NULL && ASN1_STRING_length(aki->keyid) <= 64) {
        const unsigned char *id = ASN1_STRING_get0_data(aki->keyid);
        for (int i = 0; i < ASN1_STRING_length(aki->keyid); i++)
            snprintf(out + 2 * i, 3, "%02x", id[i]);
    }
    AUTHORITY_KEYID_free(aki);
    X509_free(x);
    ERR_clear_error();
}

static clm_err cfssl_revoke(adapter_ca *ca, const adapter_ca_revocation *r, adapter_ca_result *out)
{
    BIGNUM *bn = NULL;
    char *decimal = NULL, *body = NULL, aki[129];
    const char *reason;
    ca_cfssl_answer a;
    call_end end;
    clm_err err = CLM_OK;

    if (ca == NULL || r == NULL || out == NULL || r->serial == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "cfssl revoke: NULL argument");
    reason = adapter_ca_revoke_reason_name(r->reason);
    if (r->reason == ADAPTER_CA_REASON_REMOVE_FROM_CRL || strcmp(reason, "unknown") == 0)
        return adapter_ca_result_set(out, ADAPTER_CA_REJECTED, "reason: %d is not accepted",
                                     (int)r->reason);
    if (r->serial[0] == '\0' || strlen(r->serial) > 40 || BN_hex2bn(&bn, r->serial) !=
                                                               (int)strlen(r->serial)) {
        BN_free(bn);
        return adapter_ca_result_set(out, ADAPTER_CA_REJECTED, "serial: \"%.48s\" is not hex",
                                     r->serial);
    }
    decimal = BN_bn2dec(bn);
    aki_hex(r, aki);
    /* cfssl 1.2 stores an empty authority key id; later versions the real one. */
    for (int attempt = 0; attempt < 2 && decimal != NULL; attempt++) {
        json_t *j = json_pack("{s:s, s:s, s:s}", "serial", decimal, "authority_key_id",
                              attempt == 0 ? aki : "", "reason", reason);
        free(body);
        if ((body = dump(j)) == NULL)
            break;
        adapter_ca_result_free(out);
        if ((err = call(ca, "revoke", body, out, &a, &end)) != CLM_OK || end == CALL_OUTCOME)
            goto done;
        if (a.success && a.code == 0) {
            char *upper = BN_bn2hex(bn);
            out->serial = upper ? clm_arena_strdup(&out->arena, upper) : NULL;
            OPENSSL_free(upper);
            err = out->serial ? adapter_ca_result_set(out, ADAPTER_CA_REVOKED, "%s", "")
                              : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            goto done;
        }
        if (strstr(a.message, "not found") == NULL || aki[0] == '\0')
            break;
    }
    if (decimal == NULL || body == NULL)
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    else if (strstr(a.message, "not found") != NULL)
        err = adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                                    "cfssl has no record of serial %s (its database holds what it "
                                    "signed since it runs with -db-config)", r->serial);
    else
        err = refused(ca, &a, NULL, out);
done:
    OPENSSL_free(decimal);
    BN_free(bn);
    free(body);
    return err;
}

const adapter_ca_ops ca_cfssl_ops = {
    .name = "cfssl",
    .flags = ADAPTER_CA_F_REVOKE | ADAPTER_CA_F_REMOTE,
    .config_fields = config_fields,
    .n_config_fields = N_CONFIG,
    .request_fields = request_fields,
    .n_request_fields = N_REQUEST,
    .check_fields = cfssl_check_fields,
    .open = cfssl_open,
    .close = cfssl_close,
    .submit = cfssl_submit,
    .revoke = cfssl_revoke,
};
