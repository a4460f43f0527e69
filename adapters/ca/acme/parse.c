/* adapters/ca/acme/parse.c: readers of ACME server data (parse.h). */
#include "adapters/ca/acme/parse.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>
#include <strings.h>

static const char *const status_names[] = {
    [ACME_STATUS_UNKNOWN] = "unknown",         [ACME_STATUS_PENDING] = "pending",
    [ACME_STATUS_READY] = "ready",             [ACME_STATUS_PROCESSING] = "processing",
    [ACME_STATUS_VALID] = "valid",             [ACME_STATUS_INVALID] = "invalid",
    [ACME_STATUS_EXPIRED] = "expired",         [ACME_STATUS_DEACTIVATED] = "deactivated",
    [ACME_STATUS_REVOKED] = "revoked",
};

const char *acme_status_name(acme_status status)
{
    if ((size_t)status >= sizeof status_names / sizeof *status_names)
        return "unknown";
    return status_names[status];
}

static acme_status status_of(const char *text)
{
    for (size_t i = 1; text != NULL && i < sizeof status_names / sizeof *status_names; i++)
        if (strcmp(text, status_names[i]) == 0)
            return (acme_status)i;
    return ACME_STATUS_UNKNOWN;
}

static json_t *load_object(const void *body, size_t len, const char *what)
{
    json_error_t error;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);

    if (root == NULL) {
        clm_fail(CLM_ERR_PARSE, "%s: not JSON (line %d: %.80s)", what, error.line, error.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        clm_fail(CLM_ERR_PARSE, "%s: not a JSON object", what);
        return NULL;
    }
    return root;
}

static bool is_url(const char *s)
{
    size_t len = strlen(s);

    if (len == 0 || len > ACME_TEXT_MAX)
        return false;
    if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

/* A URL member: NULL when absent; CLM_ERR_PARSE when present and not a URL. */
static clm_err get_url(json_t *obj, const char *key, const char *what, bool required,
                       clm_arena *arena, const char **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (v == NULL) {
        if (required)
            return clm_fail(CLM_ERR_PARSE, "%s.%s: missing", what, key);
        return CLM_OK;
    }
    if (!json_is_string(v) || !is_url(json_string_value(v)))
        return clm_fail(CLM_ERR_PARSE, "%s.%s: not an http(s) URL", what, key);
    if ((*out = clm_arena_strdup(arena, json_string_value(v))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    return CLM_OK;
}

/* Text members: printable ASCII kept, control characters replaced, bounded. */
static const char *copy_text(clm_arena *arena, const char *s, size_t max)
{
    size_t len = strlen(s);
    char *copy;

    if (len > max)
        len = max;
    if ((copy = clm_arena_alloc(arena, len + 1)) == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++)
        copy[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    copy[len] = '\0';
    return copy;
}

clm_err acme_directory_parse(const void *body, size_t len, clm_arena *arena, acme_directory *out)
{
    json_t *root = load_object(body, len, "directory"), *meta, *v;
    clm_err err;

    memset(out, 0, sizeof *out);
    if (root == NULL)
        return CLM_ERR_PARSE;
    if ((err = get_url(root, "newNonce", "directory", true, arena, &out->new_nonce)) != CLM_OK ||
        (err = get_url(root, "newAccount", "directory", true, arena, &out->new_account)) !=
            CLM_OK ||
        (err = get_url(root, "newOrder", "directory", true, arena, &out->new_order)) != CLM_OK ||
        (err = get_url(root, "revokeCert", "directory", false, arena, &out->revoke_cert)) !=
            CLM_OK ||
        (err = get_url(root, "keyChange", "directory", false, arena, &out->key_change)) != CLM_OK)
        goto done;
    meta = json_object_get(root, "meta");
    if (meta != NULL && !json_is_object(meta)) {
        err = clm_fail(CLM_ERR_PARSE, "directory.meta: not an object");
        goto done;
    }
    if (meta != NULL) {
        v = json_object_get(meta, "termsOfService");
        if (v != NULL && json_is_string(v) &&
            (out->terms_of_service = copy_text(arena, json_string_value(v), ACME_TEXT_MAX)) ==
                NULL) {
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            goto done;
        }
        out->eab_required = json_is_true(json_object_get(meta, "externalAccountRequired"));
    }
done:
    json_decref(root);
    if (err != CLM_OK)
        memset(out, 0, sizeof *out);
    return err;
}

static void problem_from(json_t *obj, clm_arena *arena, acme_problem *out)
{
    json_t *type = json_object_get(obj, "type"), *detail = json_object_get(obj, "detail");

    memset(out, 0, sizeof *out);
    if (json_is_string(type))
        out->type = copy_text(arena, json_string_value(type), 200);
    if (json_is_string(detail))
        out->detail = copy_text(arena, json_string_value(detail), 200);
}

void acme_problem_parse(const void *body, size_t len, clm_arena *arena, acme_problem *out)
{
    json_t *root = json_loadb(body, len, 0, NULL);

    memset(out, 0, sizeof *out);
    if (json_is_object(root))
        problem_from(root, arena, out);
    json_decref(root);
}

static clm_err get_status(json_t *obj, const char *what, acme_status *out)
{
    json_t *v = json_object_get(obj, "status");

    if (!json_is_string(v))
        return clm_fail(CLM_ERR_PARSE, "%s.status: missing or not text", what);
    *out = status_of(json_string_value(v));
    return CLM_OK;
}

clm_err acme_order_parse(const void *body, size_t len, clm_arena *arena, acme_order *out)
{
    json_t *root = load_object(body, len, "order"), *authz, *error;
    clm_err err;

    memset(out, 0, sizeof *out);
    if (root == NULL)
        return CLM_ERR_PARSE;
    if ((err = get_status(root, "order", &out->status)) != CLM_OK ||
        (err = get_url(root, "finalize", "order", true, arena, &out->finalize)) != CLM_OK ||
        (err = get_url(root, "certificate", "order", false, arena, &out->certificate)) != CLM_OK)
        goto done;
    authz = json_object_get(root, "authorizations");
    if (!json_is_array(authz) || json_array_size(authz) > ACME_LIST_MAX) {
        err = clm_fail(CLM_ERR_PARSE, "order.authorizations: missing, not an array or longer "
                                      "than %d",
                       ACME_LIST_MAX);
        goto done;
    }
    out->n_authorizations = json_array_size(authz);
    if (out->n_authorizations > 0 &&
        (out->authorizations =
             clm_arena_alloc(arena, out->n_authorizations * sizeof *out->authorizations)) == NULL) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < out->n_authorizations; i++) {
        json_t *v = json_array_get(authz, i);
        if (!json_is_string(v) || !is_url(json_string_value(v))) {
            err = clm_fail(CLM_ERR_PARSE, "order.authorizations[%zu]: not an http(s) URL", i);
            goto done;
        }
        if ((out->authorizations[i] = clm_arena_strdup(arena, json_string_value(v))) == NULL) {
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            goto done;
        }
    }
    error = json_object_get(root, "error");
    if (json_is_object(error))
        problem_from(error, arena, &out->error);
done:
    json_decref(root);
    if (err != CLM_OK)
        memset(out, 0, sizeof *out);
    return err;
}

static bool is_token(const char *s)
{
    size_t len = strlen(s);

    if (len == 0 || len > 256)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

static clm_err challenge_parse(json_t *obj, size_t i, clm_arena *arena, acme_challenge *out)
{
    json_t *type = json_object_get(obj, "type"), *token = json_object_get(obj, "token");
    json_t *error = json_object_get(obj, "error");
    char what[48];
    clm_err err;

    snprintf(what, sizeof what, "authorization.challenges[%zu]", i);
    if (!json_is_object(obj))
        return clm_fail(CLM_ERR_PARSE, "%s: not an object", what);
    if (!json_is_string(type) || json_string_length(type) == 0 || json_string_length(type) > 64)
        return clm_fail(CLM_ERR_PARSE, "%s.type: missing or not text", what);
    if ((err = get_status(obj, what, &out->status)) != CLM_OK ||
        (err = get_url(obj, "url", what, true, arena, &out->url)) != CLM_OK)
        return err;
    if (token != NULL) {
        if (!json_is_string(token) || !is_token(json_string_value(token)))
            return clm_fail(CLM_ERR_PARSE, "%s.token: not base64url text of 1-256 characters",
                            what);
        out->token = clm_arena_strdup(arena, json_string_value(token));
    }
    out->type = copy_text(arena, json_string_value(type), 64);
    if (json_is_object(error))
        problem_from(error, arena, &out->error);
    if (out->type == NULL || (token != NULL && out->token == NULL))
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    return CLM_OK;
}

clm_err acme_authorization_parse(const void *body, size_t len, clm_arena *arena,
                                 acme_authorization *out)
{
    json_t *root = load_object(body, len, "authorization"), *id, *type, *value, *chall;
    clm_err err;

    memset(out, 0, sizeof *out);
    if (root == NULL)
        return CLM_ERR_PARSE;
    if ((err = get_status(root, "authorization", &out->status)) != CLM_OK)
        goto done;
    id = json_object_get(root, "identifier");
    type = json_object_get(id, "type");
    value = json_object_get(id, "value");
    if (!json_is_object(id) || !json_is_string(type) || !json_is_string(value) ||
        json_string_length(value) == 0 || json_string_length(value) > 255 ||
        json_string_length(type) > 32) {
        err = clm_fail(CLM_ERR_PARSE, "authorization.identifier: missing, or its type or value "
                                      "is not text of a usable length");
        goto done;
    }
    out->identifier_type = copy_text(arena, json_string_value(type), 32);
    out->identifier_value = copy_text(arena, json_string_value(value), 255);
    out->wildcard = json_is_true(json_object_get(root, "wildcard"));
    chall = json_object_get(root, "challenges");
    if (!json_is_array(chall) || json_array_size(chall) > ACME_LIST_MAX) {
        err = clm_fail(CLM_ERR_PARSE, "authorization.challenges: missing, not an array or "
                                      "longer than %d",
                       ACME_LIST_MAX);
        goto done;
    }
    out->n_challenges = json_array_size(chall);
    if (out->identifier_type == NULL || out->identifier_value == NULL ||
        (out->n_challenges > 0 &&
         (out->challenges = clm_arena_alloc(arena, out->n_challenges * sizeof *out->challenges)) ==
             NULL)) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    if (out->n_challenges > 0)
        memset(out->challenges, 0, out->n_challenges * sizeof *out->challenges);
    for (size_t i = 0; i < out->n_challenges && err == CLM_OK; i++)
        err = challenge_parse(json_array_get(chall, i), i, arena, &out->challenges[i]);
done:
    json_decref(root);
    if (err != CLM_OK)
        memset(out, 0, sizeof *out);
    return err;
}

/* ---- Link headers (RFC 8288 3): link-value = "<" URI-Reference ">" *( OWS ";" OWS
 * link-param ), link-param = token BWS [ "=" BWS ( token / quoted-string ) ] ---- */

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static bool is_tchar(char c)
{
    return isalnum((unsigned char)c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Does a rel value (space-separated relation types) hold rel? */
static bool rel_matches(const char *value, size_t len, const char *rel)
{
    size_t want = strlen(rel);

    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && value[j] != ' ')
            j++;
        if (j - i == want && strncasecmp(value + i, rel, want) == 0)
            return true;
        i = j + 1;
    }
    return false;
}

static clm_err link_value_parse(const char *p, size_t index, const char *rel, clm_arena *arena,
                                const char **urls, size_t *n)
{
    for (;;) {
        const char *uri, *uri_end;
        bool match = false;
        char valbuf[256];

        p = skip_ows(p);
        if (*p == '\0')
            return CLM_OK;
        if (*p != '<')
            return clm_fail(CLM_ERR_PARSE, "Link header %zu: a link does not start with <", index);
        uri = ++p;
        while (*p != '\0' && *p != '>')
            p++;
        if (*p != '>' || p == uri || (size_t)(p - uri) > ACME_TEXT_MAX)
            return clm_fail(CLM_ERR_PARSE, "Link header %zu: an unterminated or empty <URI>",
                            index);
        uri_end = p++;
        for (;;) {
            const char *name, *value;
            size_t name_len, value_len = 0;

            p = skip_ows(p);
            if (*p == ',' || *p == '\0')
                break;
            if (*p != ';')
                return clm_fail(CLM_ERR_PARSE, "Link header %zu: expected ; or , after a link",
                                index);
            p = skip_ows(p + 1);
            name = p;
            while (is_tchar(*p))
                p++;
            name_len = (size_t)(p - name);
            if (name_len == 0)
                return clm_fail(CLM_ERR_PARSE, "Link header %zu: an empty parameter name", index);
            p = skip_ows(p);
            value = "";
            if (*p == '=') {
                p = skip_ows(p + 1);
                if (*p == '"') {
                    p++;
                    while (*p != '\0' && *p != '"') {
                        if (*p == '\\' && p[1] != '\0')
                            p++;
                        if (value_len < sizeof valbuf - 1)
                            valbuf[value_len++] = *p;
                        p++;
                    }
                    if (*p != '"')
                        return clm_fail(CLM_ERR_PARSE, "Link header %zu: an unterminated quoted "
                                                       "string",
                                        index);
                    p++;
                } else {
                    while (is_tchar(*p)) {
                        if (value_len < sizeof valbuf - 1)
                            valbuf[value_len++] = *p;
                        p++;
                    }
                }
                valbuf[value_len] = '\0';
                value = valbuf;
            }
            if (name_len == 3 && strncasecmp(name, "rel", 3) == 0 &&
                rel_matches(value, value_len, rel))
                match = true;
        }
        if (match) {
            char *url;
            if (*n >= ACME_LIST_MAX)
                return clm_fail(CLM_ERR_PARSE, "Link headers: more than %d links of rel %s",
                                ACME_LIST_MAX, rel);
            if ((url = clm_arena_alloc(arena, (size_t)(uri_end - uri) + 1)) == NULL)
                return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            memcpy(url, uri, (size_t)(uri_end - uri));
            url[uri_end - uri] = '\0';
            urls[(*n)++] = url;
        }
        if (*p == ',')
            p++;
    }
}

clm_err acme_link_parse(const char *const *values, size_t n_values, const char *rel,
                        clm_arena *arena, const char ***urls, size_t *n_urls)
{
    const char *found[ACME_LIST_MAX];
    size_t n = 0;
    clm_err err;

    *urls = NULL;
    *n_urls = 0;
    for (size_t i = 0; i < n_values; i++)
        if ((err = link_value_parse(values[i], i, rel, arena, found, &n)) != CLM_OK)
            return err;
    if (n == 0)
        return CLM_OK;
    if ((*urls = clm_arena_alloc(arena, n * sizeof **urls)) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    memcpy(*urls, found, n * sizeof *found);
    *n_urls = n;
    return CLM_OK;
}

/* ---- the PEM chain ---- */

clm_err acme_chain_parse(const void *pem, size_t len, clm_arena *arena, adapter_ca_der **certs,
                         size_t *n_certs)
{
    adapter_ca_der found[ACME_LIST_MAX];
    BIO *bio;
    size_t n = 0;
    clm_err err = CLM_OK;

    *certs = NULL;
    *n_certs = 0;
    if (len > INT32_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long data_len = 0;
        const unsigned char *p;
        X509 *x;

        if (PEM_read_bio(bio, &name, &header, &data, &data_len) != 1) {
            unsigned long e = ERR_peek_last_error();
            ERR_clear_error();
            /* the end of the input reads as "no start line" */
            if (ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
                err = clm_fail(CLM_ERR_PARSE, "certificate chain: PEM block %zu is malformed",
                               n);
            break;
        }
        p = data;
        x = strcmp(name, "CERTIFICATE") == 0 ? d2i_X509(NULL, &p, data_len) : NULL;
        if (x == NULL || p != data + data_len || n >= ACME_LIST_MAX || header[0] != '\0') {
            err = clm_fail(CLM_ERR_PARSE, "certificate chain: PEM block %zu is not one "
                                          "certificate (or more than %d blocks)",
                           n, ACME_LIST_MAX);
        } else {
            found[n].data = clm_arena_memdup(arena, data, (size_t)data_len);
            found[n].len = (size_t)data_len;
            if (found[n].data == NULL)
                err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            n++;
        }
        X509_free(x);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        ERR_clear_error();
        if (err != CLM_OK)
            break;
    }
    BIO_free(bio);
    if (err == CLM_OK && n == 0)
        err = clm_fail(CLM_ERR_PARSE, "certificate chain: no PEM certificate");
    if (err != CLM_OK)
        return err;
    if ((*certs = clm_arena_alloc(arena, n * sizeof **certs)) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    memcpy(*certs, found, n * sizeof *found);
    *n_certs = n;
    return CLM_OK;
}

clm_err acme_chain_top_issuer_cn(const adapter_ca_der *certs, size_t n, clm_arena *arena,
                                 const char **cn)
{
    const unsigned char *p;
    X509 *x;
    X509_NAME *issuer;
    int idx;

    *cn = NULL;
    if (n == 0)
        return clm_fail(CLM_ERR_PARSE, "certificate chain: empty");
    p = certs[n - 1].data;
    if ((x = d2i_X509(NULL, &p, (long)certs[n - 1].len)) == NULL) {
        ERR_clear_error();
        return clm_fail(CLM_ERR_PARSE, "certificate chain: the last certificate does not decode");
    }
    issuer = X509_get_issuer_name(x);
    idx = X509_NAME_get_index_by_NID(issuer, NID_commonName, -1);
    if (idx >= 0) {
        unsigned char *utf8 = NULL;
        int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(
                                                 X509_NAME_get_entry(issuer, idx)));
        if (len >= 0) {
            char *copy = clm_arena_alloc(arena, (size_t)len + 1);
            if (copy != NULL) {
                memcpy(copy, utf8, (size_t)len);
                copy[len] = '\0';
                *cn = copy;
            }
        }
        OPENSSL_free(utf8);
    }
    X509_free(x);
    ERR_clear_error();
    return CLM_OK;
}
