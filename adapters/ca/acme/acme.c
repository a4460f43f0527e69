/* adapters/ca/acme/acme.c: the ACME adapter: fields, open and close, the transport
 * (nonces, JWS POST, problems) and the account. Orders are in order.c. */
#include "adapters/ca/acme/acme_internal.h"

#include "adapters/ca/fields.h"
#include "lib/base/log.h"
#include "lib/http/retry.h"
#include "lib/pki/key.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- fields ------------------------------------------------------------------------- */

static const char *const challenge_types[] = {"http-01", "dns-01", NULL};
/* No hmac-sha384: Debian's libldns 1.8.3 cannot sign with it (lib/dnsupdate/dnsupdate.h). */
static const char *const tsig_algorithms[] = {"hmac-sha256", "hmac-sha512", "hmac-sha1", NULL};

static const adapter_field config_fields[] = {
    {.name = "directory_url", .type = ADAPTER_FIELD_URL, .required = true, .max_len = 1024,
     .help = "the ACME server's directory URL (https://acme-v02.api.letsencrypt.org/directory)"},
    {.name = "ca_file", .type = ADAPTER_FIELD_STRING, .max_len = 1024,
     .help = "PEM file of the CAs that sign the ACME server's TLS certificate (default: the "
             "system store)"},
    {.name = "ca_pem", .type = ADAPTER_FIELD_STRING, .max_len = 65536,
     .help = "the same as PEM text, line breaks written as \\n"},
    {.name = "contact_email", .type = ADAPTER_FIELD_STRING, .max_len = 254,
     .help = "the account's contact e-mail address"},
    {.name = "terms_agreed", .type = ADAPTER_FIELD_BOOL,
     .help = "agree to the CA's terms of service (required when the directory has terms)"},
    {.name = "eab_kid", .type = ADAPTER_FIELD_STRING, .max_len = 256,
     .help = "External Account Binding key id, from the CA"},
    {.name = "eab_hmac_key", .type = ADAPTER_FIELD_STRING, .max_len = 512, .secret = true,
     .help = "External Account Binding MAC key (base64url), from the CA"},
    {.name = "challenge_type", .type = ADAPTER_FIELD_CHOICE, .allowed = challenge_types,
     .help = "how names are validated: http-01 (default) or dns-01"},
    {.name = "http01_listen", .type = ADAPTER_FIELD_STRING, .max_len = 64,
     .help = "http-01: ADDRESS:PORT where the built-in responder answers challenges"},
    {.name = "http01_webroot", .type = ADAPTER_FIELD_STRING, .max_len = 1024,
     .help = "http-01: a web server's document root to write challenge files into"},
    {.name = "dns_server", .type = ADAPTER_FIELD_STRING, .max_len = 300,
     .help = "dns-01: ADDRESS or ADDRESS:PORT of the zone's primary server (RFC 2136 "
             "updates; port 53 by default)"},
    {.name = "dns_zone", .type = ADAPTER_FIELD_STRING, .max_len = 255,
     .help = "dns-01: the zone the _acme-challenge records are added to (default: found by "
             "SOA queries to dns_server)"},
    {.name = "tsig_name", .type = ADAPTER_FIELD_STRING, .max_len = 255,
     .help = "dns-01: the TSIG key's name"},
    {.name = "tsig_algorithm", .type = ADAPTER_FIELD_CHOICE, .allowed = tsig_algorithms,
     .help = "dns-01: the TSIG algorithm (default hmac-sha256)"},
    {.name = "tsig_secret", .type = ADAPTER_FIELD_STRING, .max_len = 512, .secret = true,
     .help = "dns-01: the TSIG key (base64)"},
    {.name = "preferred_chain", .type = ADAPTER_FIELD_STRING, .max_len = 256,
     .help = "issuer CN at the top of the chain to prefer among the alternates"},
    {.name = "max_orders", .type = ADAPTER_FIELD_INT, .min = 1, .max = 256,
     .help = "orders in flight at once on this connector (default 16)"},
    {.name = "order_wait_seconds", .type = ADAPTER_FIELD_INT, .min = 1, .max = 600,
     .help = "wait this long for an order before answering pending (default 60)"},
};

#define N_CONFIG_FIELDS (sizeof config_fields / sizeof *config_fields)

static clm_err acme_check_fields(const adapter_fields *fields, bool request)
{
    const char *type, *kid, *mac;
    const acme_solver_kind *kind;
    clm_buf decoded = CLM_BUF_INIT;
    clm_err err;

    if (request)
        return ca_fields_check(NULL, 0, fields, "fields");
    if ((err = ca_fields_check(config_fields, N_CONFIG_FIELDS, fields, "config.fields")) != CLM_OK)
        return err;
    kid = ca_fields_get(fields, "eab_kid");
    mac = ca_fields_get(fields, "eab_hmac_key");
    if ((kid == NULL) != (mac == NULL))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "config.fields.%s: External Account Binding "
                                                  "needs both eab_kid and eab_hmac_key",
                        kid == NULL ? "eab_kid" : "eab_hmac_key");
    if (mac != NULL) {
        err = acme_b64url_decode(mac, strlen(mac), &decoded);
        if (err == CLM_OK && decoded.len < 16)
            err = CLM_ERR_PARSE;
        clm_buf_wipe(&decoded);
        if (err != CLM_OK) /* never the value: it is a secret */
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "config.fields.eab_hmac_key: not a "
                                                      "base64url key of 16 bytes or more");
    }
    if (ca_fields_get(fields, "ca_file") != NULL && ca_fields_get(fields, "ca_pem") != NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "config.fields.ca_pem: give ca_file or ca_pem, not both");
    type = ca_fields_get(fields, "challenge_type");
    if (type == NULL)
        type = "http-01";
    if ((kind = acme_solver_find(type)) == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "config.fields.challenge_type: %s is not built in", type);
    return kind->check != NULL ? kind->check(fields) : CLM_OK;
}

/* ---- open and close ------------------------------------------------------------------ */

void acme_account_unref(acme_account *account)
{
    if (account == NULL || atomic_fetch_sub(&account->refs, 1) != 1)
        return;
    acme_jwk_key_clear(&account->key);
    free(account->url);
    free(account);
}

static void acme_close(adapter_ca *ca)
{
    if (ca == NULL)
        return;
    if (ca->solver != NULL)
        ca->solver->close(ca->solver_ctx);
    for (size_t i = 0; i < ca->n_nonces; i++)
        free(ca->nonces[i]);
    acme_account_unref(ca->account);
    clm_arena_free(&ca->directory_arena);
    if (ca->eab_mac != NULL) {
        clm_memwipe(ca->eab_mac, ca->eab_mac_len);
        free(ca->eab_mac);
    }
    free(ca->connector);
    free(ca->directory_url);
    free(ca->ca_file);
    free(ca->ca_pem);
    free(ca->contact);
    free(ca->eab_kid);
    free(ca->preferred_chain);
    pthread_mutex_destroy(&ca->lock);
    pthread_mutex_destroy(&ca->account_lock);
    pthread_cond_destroy(&ca->slot_free);
    free(ca);
}

static bool dup_field(const adapter_fields *f, const char *name, char **out)
{
    const char *v = ca_fields_get(f, name);

    *out = NULL;
    return v == NULL || (*out = strdup(v)) != NULL;
}

/* The account from the state: NOT_FOUND when none was made yet. */
static clm_err load_account(adapter_ca *ca)
{
    clm_buf key_pem = CLM_BUF_INIT, url = CLM_BUF_INIT;
    EVP_PKEY *pkey = NULL;
    acme_account *account = NULL;
    clm_err err;

    if ((err = ca->state->get(ca->state->ctx, "account_key", &key_pem)) != CLM_OK)
        goto done;
    if ((err = ca->state->get(ca->state->ctx, "account_url", &url)) != CLM_OK) {
        if (err == CLM_ERR_NOT_FOUND)
            err = clm_fail(CLM_ERR_STORE, "state: an account key without its URL (damaged "
                                          "state)");
        goto done;
    }
    if ((err = pki_key_from_pem(key_pem.data, key_pem.len, &pkey)) != CLM_OK) {
        err = clm_error_context(err, "state item account_key");
        goto done;
    }
    account = calloc(1, sizeof *account);
    if (account == NULL || clm_buf_append_byte(&url, 0) != CLM_OK) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    if ((err = acme_jwk_key_init(&account->key, pkey)) != CLM_OK) {
        err = clm_error_context(err, "state item account_key");
        goto done;
    }
    pkey = NULL;
    atomic_init(&account->refs, 1);
    account->url = (char *)clm_buf_detach(&url, NULL);
    ca->account = account;
    account = NULL;
done:
    if (account != NULL) {
        acme_jwk_key_clear(&account->key);
        free(account);
    }
    EVP_PKEY_free(pkey);
    clm_buf_wipe(&key_pem);
    clm_buf_free(&url);
    return err;
}

static clm_err acme_open(const adapter_ca_config *config, adapter_ca **out)
{
    adapter_ca *ca;
    const char *mac, *type;
    int64_t max_orders, wait;
    clm_buf decoded = CLM_BUF_INIT;
    clm_err err;

    *out = NULL;
    if (config == NULL || config->state == NULL || config->state->get == NULL ||
        config->state->put == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "acme: a configuration with a state is "
                                                  "required");
    if ((err = acme_check_fields(&config->fields, false)) != CLM_OK)
        return err;
    if ((ca = calloc(1, sizeof *ca)) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    pthread_mutex_init(&ca->lock, NULL);
    pthread_mutex_init(&ca->account_lock, NULL);
    pthread_cond_init(&ca->slot_free, NULL);
    ca->directory_arena = (clm_arena)CLM_ARENA_INIT;
    ca->state = config->state;
    ca->clock = config->clock ? config->clock : clm_clock_system();
    ca->terms_agreed = ca_fields_get_bool(&config->fields, "terms_agreed", false);
    if ((ca->connector = strdup(config->connector ? config->connector : "acme")) == NULL ||
        !dup_field(&config->fields, "directory_url", &ca->directory_url) ||
        !dup_field(&config->fields, "ca_file", &ca->ca_file) ||
        !dup_field(&config->fields, "ca_pem", &ca->ca_pem) ||
        !dup_field(&config->fields, "contact_email", &ca->contact) ||
        !dup_field(&config->fields, "eab_kid", &ca->eab_kid) ||
        !dup_field(&config->fields, "preferred_chain", &ca->preferred_chain)) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    if (ca->ca_pem != NULL) { /* "\n" written as two characters: back to line breaks */
        char *r = ca->ca_pem, *w = ca->ca_pem;
        for (; *r != '\0'; r++, w++) {
            if (r[0] == '\\' && r[1] == 'n') {
                *w = '\n';
                r++;
            } else {
                *w = *r;
            }
        }
        *w = '\0';
        ca->tls.ca_pem = ca->ca_pem;
        ca->tls.ca_pem_len = strlen(ca->ca_pem);
    }
    ca->tls.ca_file = ca->ca_file;
    if ((mac = ca_fields_get(&config->fields, "eab_hmac_key")) != NULL) {
        if ((err = acme_b64url_decode(mac, strlen(mac), &decoded)) != CLM_OK)
            goto fail;
        ca->eab_mac = clm_buf_detach(&decoded, &ca->eab_mac_len);
    }
    if ((err = ca_fields_get_int(&config->fields, "max_orders", ACME_MAX_ORDERS_DEFAULT,
                                 &max_orders)) != CLM_OK ||
        (err = ca_fields_get_int(&config->fields, "order_wait_seconds", ACME_ORDER_WAIT_DEFAULT,
                                 &wait)) != CLM_OK)
        goto fail;
    ca->max_orders = (int)max_orders;
    ca->order_wait_seconds = (int)wait;
    type = ca_fields_get(&config->fields, "challenge_type");
    ca->solver = acme_solver_find(type ? type : "http-01");
    if ((err = ca->solver->open(&config->fields, ca->connector, &ca->solver_ctx)) != CLM_OK) {
        ca->solver = NULL;
        goto fail;
    }
    err = load_account(ca);
    if (err == CLM_ERR_NOT_FOUND) {
        clm_error_clear(); /* made on first use */
        err = CLM_OK;
    }
    if (err != CLM_OK)
        goto fail;
    *out = ca;
    return CLM_OK;
fail:
    clm_buf_wipe(&decoded);
    acme_close(ca);
    return clm_error_context(err, "acme \"%s\"", config->connector ? config->connector : "");
}

/* ---- calls --------------------------------------------------------------------------- */

bool acme_decide(acme_call *c, adapter_ca_outcome outcome, const char *fmt, ...)
{
    va_list ap;

    c->out->outcome = outcome;
    va_start(ap, fmt);
    vsnprintf(c->out->reason, sizeof c->out->reason, fmt, ap);
    va_end(ap);
    c->decided = true;
    return false;
}

bool acme_hard(acme_call *c, clm_err err)
{
    c->err = err;
    return false;
}

void acme_call_begin(acme_call *c, adapter_ca *ca, adapter_ca_result *out, bool slot)
{
    memset(c, 0, sizeof *c);
    c->ca = ca;
    c->out = out;
    c->arena = (clm_arena)CLM_ARENA_INIT;
    out->arena.chunk_size = out->arena.chunk_size ? out->arena.chunk_size : 4096;
    if (slot) {
        pthread_mutex_lock(&ca->lock);
        while (ca->in_flight >= ca->max_orders)
            pthread_cond_wait(&ca->slot_free, &ca->lock);
        ca->in_flight++;
        pthread_mutex_unlock(&ca->lock);
    }
    c->deadline_ns = clm_clock_monotonic_ns(ca->clock) +
                     (int64_t)ca->order_wait_seconds * CLM_NS_PER_SEC;
}

clm_err acme_call_end(acme_call *c, bool slot)
{
    if (slot) {
        pthread_mutex_lock(&c->ca->lock);
        c->ca->in_flight--;
        pthread_cond_signal(&c->ca->slot_free);
        pthread_mutex_unlock(&c->ca->lock);
    }
    acme_account_unref(c->account);
    c->account = NULL;
    clm_arena_free(&c->arena);
    if (c->decided)
        return CLM_OK;
    if (c->err == CLM_OK)
        return clm_fail(CLM_ERR_INTERNAL, "acme: a call ended without an outcome");
    return c->err;
}

int64_t acme_retry_after(const acme_call *c, const http_response *resp, int64_t dflt)
{
    int64_t ms;

    if (resp != NULL &&
        http_retry_after_parse(http_response_header(resp, "Retry-After"),
                               clm_clock_now_ns(c->ca->clock), &ms))
        return ms <= 0 ? 0 : (ms + 999) / 1000;
    return dflt;
}

bool acme_sleep(acme_call *c, int64_t ms)
{
    int64_t left = (c->deadline_ns - clm_clock_monotonic_ns(c->ca->clock)) / 1000000;
    struct timespec ts;

    if (left <= 0)
        return false;
    if (ms > left)
        ms = left;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000;
    while (nanosleep(&ts, &ts) != 0)
        ;
    return true;
}

/* A transport failure (no response) decided. */
static bool decide_transport(acme_call *c, clm_err err, const char *url_what)
{
    if (err == CLM_ERR_NO_MEMORY)
        return acme_hard(c, err);
    c->out->retry_after = ACME_UNREACHABLE_RETRY_DEFAULT;
    if (err == CLM_ERR_INVALID_ARGUMENT) /* a CA file or PEM that does not load */
        return acme_decide(c, ADAPTER_CA_UNCONFIGURED, "%s: %s", url_what, clm_error_message());
    return acme_decide(c, ADAPTER_CA_UNREACHABLE, "%s: %s", url_what, clm_error_message());
}

static bool send_request(acme_call *c, const char *method, const char *url, const char *body,
                         const char *accept, const char *what, http_response *resp)
{
    http_header headers[2];
    size_t n = 0;
    http_request req = {
        .method = method,
        .url = url,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .tls = &c->ca->tls,
        .max_response_bytes = 4u << 20,
    };
    clm_err err;

    if (body != NULL)
        headers[n++] = (http_header){"Content-Type", "application/jose+json"};
    if (accept != NULL)
        headers[n++] = (http_header){"Accept", accept};
    req.headers = headers;
    req.n_headers = n;
    err = http_request_send(&req, resp);
    if (err != CLM_OK)
        return decide_transport(c, err, what);
    return true;
}

static void nonce_keep(adapter_ca *ca, const http_response *resp)
{
    const char *nonce = http_response_header(resp, "Replay-Nonce");
    char *copy;

    if (nonce == NULL || nonce[0] == '\0' || strlen(nonce) > 256)
        return;
    for (const char *p = nonce; *p; p++)
        if (!(*p == '-' || *p == '_' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
              (*p >= 'A' && *p <= 'Z')))
            return;
    if ((copy = strdup(nonce)) == NULL)
        return;
    pthread_mutex_lock(&ca->lock);
    if (ca->n_nonces == ACME_NONCE_POOL) { /* the oldest is the likeliest to be stale */
        free(ca->nonces[0]);
        memmove(ca->nonces, ca->nonces + 1, (ACME_NONCE_POOL - 1) * sizeof *ca->nonces);
        ca->n_nonces--;
    }
    ca->nonces[ca->n_nonces++] = copy;
    pthread_mutex_unlock(&ca->lock);
}

bool acme_directory_get(acme_call *c, const acme_directory **dir)
{
    adapter_ca *ca = c->ca;
    http_response resp = {0};
    clm_arena arena = CLM_ARENA_INIT;
    acme_directory parsed;
    clm_err err;

    pthread_mutex_lock(&ca->lock);
    if (ca->have_directory) {
        *dir = &ca->directory;
        pthread_mutex_unlock(&ca->lock);
        return true;
    }
    pthread_mutex_unlock(&ca->lock);
    if (!send_request(c, "GET", ca->directory_url, NULL, NULL, "directory", &resp))
        return false;
    if (resp.status >= 500 || resp.status == 429) {
        c->out->retry_after = acme_retry_after(c, &resp, ACME_UNREACHABLE_RETRY_DEFAULT);
        acme_decide(c, ADAPTER_CA_UNREACHABLE, "directory: the server answered %d", resp.status);
        http_response_free(&resp);
        return false;
    }
    if (resp.status != 200) {
        acme_decide(c, ADAPTER_CA_UNCONFIGURED,
                    "fields.directory_url: the server answered %d, not a directory",
                    resp.status);
        http_response_free(&resp);
        return false;
    }
    err = acme_directory_parse(resp.body, resp.body_len, &arena, &parsed);
    http_response_free(&resp);
    if (err != CLM_OK) {
        clm_arena_free(&arena);
        if (err == CLM_ERR_NO_MEMORY)
            return acme_hard(c, err);
        return acme_decide(c, ADAPTER_CA_UNCONFIGURED, "fields.directory_url: %s",
                           clm_error_message());
    }
    pthread_mutex_lock(&ca->lock);
    if (!ca->have_directory) {
        ca->directory = parsed;
        ca->directory_arena = arena;
        ca->have_directory = true;
        arena = (clm_arena)CLM_ARENA_INIT;
    }
    *dir = &ca->directory;
    pthread_mutex_unlock(&ca->lock);
    clm_arena_free(&arena);
    return true;
}

/* A nonce from the pool, or from newNonce. malloc'd. */
static bool nonce_take(acme_call *c, char **out)
{
    adapter_ca *ca = c->ca;
    const acme_directory *dir;
    http_response resp = {0};

    *out = NULL;
    pthread_mutex_lock(&ca->lock);
    if (ca->n_nonces > 0)
        *out = ca->nonces[--ca->n_nonces];
    pthread_mutex_unlock(&ca->lock);
    if (*out != NULL)
        return true;
    if (!acme_directory_get(c, &dir) ||
        !send_request(c, "HEAD", dir->new_nonce, NULL, NULL, "newNonce", &resp))
        return false;
    if (resp.status >= 400) {
        c->out->retry_after = acme_retry_after(c, &resp, ACME_UNREACHABLE_RETRY_DEFAULT);
        acme_decide(c, ADAPTER_CA_UNREACHABLE, "newNonce: the server answered %d", resp.status);
        http_response_free(&resp);
        return false;
    }
    nonce_keep(ca, &resp);
    http_response_free(&resp);
    pthread_mutex_lock(&ca->lock);
    if (ca->n_nonces > 0)
        *out = ca->nonces[--ca->n_nonces];
    pthread_mutex_unlock(&ca->lock);
    if (*out == NULL)
        return acme_decide(c, ADAPTER_CA_UNREACHABLE, "newNonce: no Replay-Nonce in the answer");
    return true;
}

static bool is_problem(const http_response *resp, const char *type, clm_arena *arena)
{
    acme_problem p;

    acme_problem_parse(resp->body, resp->body_len, arena, &p);
    return p.type != NULL && strcmp(p.type, type) == 0;
}

bool acme_post_signed(acme_call *c, const acme_jwk_key *key, const char *kid, const char *url,
                      const char *payload, const char *accept, http_response *resp)
{
    for (int attempt = 0;; attempt++) {
        clm_buf jws = CLM_BUF_INIT;
        char *nonce;
        clm_err err;
        bool ok;

        if (!nonce_take(c, &nonce))
            return false;
        err = acme_jws_sign(key, kid, nonce, url, payload, &jws);
        free(nonce);
        if (err != CLM_OK) {
            clm_buf_free(&jws);
            return acme_hard(c, err);
        }
        ok = send_request(c, "POST", url, clm_buf_str(&jws), accept, "ACME request", resp);
        clm_buf_free(&jws);
        if (!ok)
            return false;
        nonce_keep(c->ca, resp);
        if (resp->status == 400 &&
            is_problem(resp, "urn:ietf:params:acme:error:badNonce", &c->arena) &&
            attempt < ACME_BAD_NONCE_RETRIES) {
            atomic_fetch_add(&c->ca->bad_nonces, 1);
            CLM_LOG_DEBUG("acme_bad_nonce", "connector", c->ca->connector, "attempt",
                          CLM_I64(attempt + 1));
            http_response_free(resp);
            continue;
        }
        return true;
    }
}

bool acme_decide_problem(acme_call *c, const http_response *resp, const char *what,
                         bool account_request)
{
    acme_problem p;
    const char *type;
    static const char prefix[] = "urn:ietf:params:acme:error:";

    acme_problem_parse(resp->body, resp->body_len, &c->arena, &p);
    type = p.type ? p.type : "";
    if (strncmp(type, prefix, sizeof prefix - 1) == 0)
        type += sizeof prefix - 1;
    if (resp->status >= 500 || resp->status == 429 || strcmp(type, "rateLimited") == 0 ||
        strcmp(type, "serverInternal") == 0) {
        c->out->retry_after = acme_retry_after(c, resp, ACME_UNREACHABLE_RETRY_DEFAULT);
        return acme_decide(c, ADAPTER_CA_UNREACHABLE, "%s: the server answered %d %s%s%s", what,
                           resp->status, type, p.detail ? ": " : "", p.detail ? p.detail : "");
    }
    if (account_request || strcmp(type, "accountDoesNotExist") == 0 ||
        strcmp(type, "externalAccountRequired") == 0 ||
        strcmp(type, "userActionRequired") == 0 || strcmp(type, "badNonce") == 0)
        return acme_decide(c, strcmp(type, "badNonce") == 0 ? ADAPTER_CA_UNREACHABLE
                                                             : ADAPTER_CA_UNCONFIGURED,
                           "%s: the server answered %d %s%s%s", what, resp->status,
                           type[0] ? type : "(no problem type)", p.detail ? ": " : "",
                           p.detail ? p.detail : "");
    return acme_decide(c, ADAPTER_CA_REJECTED, "%s: the server answered %d %s%s%s", what,
                       resp->status, type[0] ? type : "(no problem type)", p.detail ? ": " : "",
                       p.detail ? p.detail : "");
}

bool acme_post(acme_call *c, const char *url, const char *payload, const char *accept,
               const char *what, http_response *resp)
{
    if (!acme_post_signed(c, &c->account->key, c->account->url, url, payload, accept, resp))
        return false;
    if (resp->status >= 400) {
        acme_decide_problem(c, resp, what, false);
        http_response_free(resp);
        return false;
    }
    return true;
}

/* ---- the account --------------------------------------------------------------------- */

/* newAccount with key; on success sets *url (malloc'd). */
static bool new_account(acme_call *c, const acme_jwk_key *key, bool only_existing, char **url)
{
    adapter_ca *ca = c->ca;
    const acme_directory *dir;
    json_t *payload = json_object();
    http_response resp = {0};
    char *text = NULL;
    const char *location;
    bool ok = false;

    *url = NULL;
    if (payload == NULL)
        return acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
    if (!acme_directory_get(c, &dir))
        goto done;
    if (only_existing) {
        json_object_set_new(payload, "onlyReturnExisting", json_true());
    } else {
        if (dir->terms_of_service != NULL && !ca->terms_agreed) {
            acme_decide(c, ADAPTER_CA_UNCONFIGURED,
                        "fields.terms_agreed: the CA has terms of service (%.120s): read and "
                        "agree to them (terms_agreed=true)",
                        dir->terms_of_service);
            goto done;
        }
        if (dir->eab_required && ca->eab_kid == NULL) {
            acme_decide(c, ADAPTER_CA_UNCONFIGURED,
                        "fields.eab_kid: the CA requires External Account Binding: set eab_kid "
                        "and eab_hmac_key from the CA's account page");
            goto done;
        }
        if (ca->terms_agreed)
            json_object_set_new(payload, "termsOfServiceAgreed", json_true());
        if (ca->contact != NULL) {
            char mailto[300];
            snprintf(mailto, sizeof mailto, "mailto:%s", ca->contact);
            json_object_set_new(payload, "contact", json_pack("[s]", mailto));
        }
        if (ca->eab_kid != NULL) {
            clm_buf eab = CLM_BUF_INIT;
            json_t *eab_json;
            clm_err err = acme_eab_jws(ca->eab_kid, ca->eab_mac, ca->eab_mac_len,
                                       dir->new_account, key, &eab);
            if (err != CLM_OK) {
                clm_buf_free(&eab);
                acme_hard(c, err);
                goto done;
            }
            eab_json = json_loadb((const char *)eab.data, eab.len, 0, NULL);
            clm_buf_free(&eab);
            if (eab_json == NULL) {
                acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
                goto done;
            }
            json_object_set_new(payload, "externalAccountBinding", eab_json);
        }
    }
    if ((text = json_dumps(payload, JSON_COMPACT)) == NULL) {
        acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
        goto done;
    }
    if (!acme_post_signed(c, key, NULL, dir->new_account, text, NULL, &resp))
        goto done;
    if (resp.status >= 400) {
        acme_decide_problem(c, &resp, only_existing ? "newAccount (existing)" : "newAccount",
                            resp.status < 500);
        goto done;
    }
    location = http_response_header(&resp, "Location");
    if (location == NULL || strncmp(location, "http", 4) != 0 || strlen(location) > 1024) {
        acme_decide(c, ADAPTER_CA_UNREACHABLE, "newAccount: no account URL (Location) in the "
                                               "answer");
        goto done;
    }
    if ((*url = strdup(location)) == NULL) {
        acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
        goto done;
    }
    ok = true;
done:
    http_response_free(&resp);
    free(text);
    json_decref(payload);
    return ok;
}

bool acme_account_ensure(acme_call *c)
{
    adapter_ca *ca = c->ca;
    acme_account *account;
    EVP_PKEY *pkey = NULL;
    clm_buf pem = CLM_BUF_INIT;
    char *url = NULL;
    clm_err err;
    bool ok = false;

    if (c->account != NULL)
        return true;
    pthread_mutex_lock(&ca->lock);
    if ((c->account = ca->account) != NULL)
        atomic_fetch_add(&c->account->refs, 1);
    pthread_mutex_unlock(&ca->lock);
    if (c->account != NULL)
        return true;

    /* One thread makes the account; the others wait for it and then use it. */
    pthread_mutex_lock(&ca->account_lock);
    pthread_mutex_lock(&ca->lock);
    if ((c->account = ca->account) != NULL)
        atomic_fetch_add(&c->account->refs, 1);
    pthread_mutex_unlock(&ca->lock);
    if (c->account != NULL) {
        pthread_mutex_unlock(&ca->account_lock);
        return true;
    }
    if ((account = calloc(1, sizeof *account)) == NULL) {
        acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
        goto done;
    }
    atomic_init(&account->refs, 1);
    if ((err = pki_key_generate(PKI_KEY_EC_P256, &pkey)) != CLM_OK ||
        (err = acme_jwk_key_init(&account->key, pkey)) != CLM_OK) {
        EVP_PKEY_free(pkey);
        acme_account_unref(account);
        acme_hard(c, err);
        goto done;
    }
    if (!new_account(c, &account->key, false, &url)) {
        acme_account_unref(account);
        goto done;
    }
    account->url = url;
    if ((err = pki_key_to_pem(account->key.pkey, &pem)) != CLM_OK) {
        acme_account_unref(account);
        acme_hard(c, err);
        goto done;
    }
    {
        adapter_ca_state_item items[] = {
            {"account_key", pem.data, pem.len, true},
            {"account_url", url, strlen(url), false},
        };
        if ((err = ca->state->put(ca->state->ctx, items, 2)) != CLM_OK) {
            acme_account_unref(account);
            acme_hard(c, clm_error_context(err, "acme \"%s\": keeping the new account",
                                           ca->connector));
            goto done;
        }
    }
    CLM_LOG_INFO("acme_account_created", "connector", ca->connector);
    pthread_mutex_lock(&ca->lock);
    ca->account = account;
    atomic_fetch_add(&account->refs, 1);
    c->account = account;
    pthread_mutex_unlock(&ca->lock);
    ok = true;
done:
    clm_buf_wipe(&pem);
    pthread_mutex_unlock(&ca->account_lock);
    return ok;
}

/* keyChange (RFC 8555 7.3.5): the inner JWS signed by the new key over
 * {"account", "oldKey"}, the outer by the old key. */
static clm_err acme_rollover(adapter_ca *ca, adapter_ca_result *out)
{
    acme_call call, *c = &call;
    const acme_directory *dir;
    acme_account *fresh = NULL;
    EVP_PKEY *pkey = NULL;
    json_t *inner_payload = NULL, *old_jwk = NULL;
    char *inner_text = NULL;
    clm_buf inner = CLM_BUF_INIT, pem = CLM_BUF_INIT;
    http_response resp = {0};
    clm_err err;

    if (ca == NULL || out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "acme rollover: NULL argument");
    acme_call_begin(c, ca, out, false);
    pthread_mutex_lock(&ca->account_lock);
    pthread_mutex_lock(&ca->lock);
    if ((c->account = ca->account) != NULL)
        atomic_fetch_add(&c->account->refs, 1);
    pthread_mutex_unlock(&ca->lock);
    if (c->account == NULL) {
        acme_decide(c, ADAPTER_CA_UNCONFIGURED, "no account yet: it is made with the first "
                                                "order; nothing to roll over");
        goto done;
    }
    if (!acme_directory_get(c, &dir))
        goto done;
    if (dir->key_change == NULL) {
        acme_decide(c, ADAPTER_CA_REJECTED, "the server's directory has no keyChange");
        goto done;
    }
    if ((fresh = calloc(1, sizeof *fresh)) == NULL) {
        acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
        goto done;
    }
    atomic_init(&fresh->refs, 1);
    if ((err = pki_key_generate(PKI_KEY_EC_P256, &pkey)) != CLM_OK ||
        (err = acme_jwk_key_init(&fresh->key, pkey)) != CLM_OK) {
        EVP_PKEY_free(pkey);
        acme_hard(c, err);
        goto done;
    }
    if ((fresh->url = strdup(c->account->url)) == NULL ||
        (old_jwk = json_loads(c->account->key.jwk, 0, NULL)) == NULL ||
        (inner_payload = json_pack("{s:s, s:O}", "account", c->account->url, "oldKey",
                                   old_jwk)) == NULL ||
        (inner_text = json_dumps(inner_payload, JSON_COMPACT)) == NULL) {
        acme_hard(c, clm_fail(CLM_ERR_NO_MEMORY, "out of memory"));
        goto done;
    }
    if ((err = acme_jws_sign(&fresh->key, NULL, NULL, dir->key_change, inner_text, &inner)) !=
        CLM_OK) {
        acme_hard(c, err);
        goto done;
    }
    if (!acme_post(c, dir->key_change, clm_buf_str(&inner), NULL, "keyChange", &resp))
        goto done;
    if ((err = pki_key_to_pem(fresh->key.pkey, &pem)) != CLM_OK) {
        acme_hard(c, err);
        goto done;
    }
    {
        adapter_ca_state_item items[] = {
            {"account_key", pem.data, pem.len, true},
            {"account_url", fresh->url, strlen(fresh->url), false},
        };
        if ((err = ca->state->put(ca->state->ctx, items, 2)) != CLM_OK) {
            acme_hard(c, clm_error_context(err, "acme \"%s\": the CA took the new account key "
                                                "but it could not be kept",
                                           ca->connector));
            /* the CA now expects the new key: keep using it in memory at least */
        }
    }
    pthread_mutex_lock(&ca->lock);
    acme_account_unref(ca->account);
    ca->account = fresh;
    fresh = NULL;
    pthread_mutex_unlock(&ca->lock);
    CLM_LOG_INFO("acme_account_key_rolled_over", "connector", ca->connector);
    if (c->err == CLM_OK)
        acme_decide(c, ADAPTER_CA_ISSUED, "%s", "");
done:
    pthread_mutex_unlock(&ca->account_lock);
    acme_account_unref(fresh);
    http_response_free(&resp);
    clm_buf_wipe(&pem);
    clm_buf_free(&inner);
    free(inner_text);
    json_decref(inner_payload);
    json_decref(old_jwk);
    return acme_call_end(c, false);
}

/* ---- the table ----------------------------------------------------------------------- */

clm_err acme_submit(adapter_ca *ca, const adapter_ca_request *request, adapter_ca_result *out);
clm_err acme_poll(adapter_ca *ca, const char *cookie, adapter_ca_result *out);
clm_err acme_revoke(adapter_ca *ca, const adapter_ca_revocation *revocation,
                    adapter_ca_result *out);

const adapter_ca_ops ca_acme_ops = {
    .name = "acme",
    .flags = ADAPTER_CA_F_PENDING | ADAPTER_CA_F_REVOKE | ADAPTER_CA_F_ROLLOVER |
             ADAPTER_CA_F_REMOTE,
    .config_fields = config_fields,
    .n_config_fields = N_CONFIG_FIELDS,
    .request_fields = NULL,
    .n_request_fields = 0,
    .check_fields = acme_check_fields,
    .open = acme_open,
    .close = acme_close,
    .submit = acme_submit,
    .poll = acme_poll,
    .revoke = acme_revoke,
    .rollover = acme_rollover,
};
