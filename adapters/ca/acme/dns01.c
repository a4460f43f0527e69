/*
 * adapters/ca/acme/dns01.c: the "dns-01" challenge solver (RFC 8555 8.4, solver.h) on
 * lib/dnsupdate. present adds the TXT record "_acme-challenge.<domain>" holding
 * base64url(SHA-256(key authorization)) without padding, by an RFC 2136 update signed
 * with the connector's TSIG key, and returns once the zone's primary accepted it;
 * cleanup deletes that one value, so that two orders for one name each keep theirs.
 *
 * Connector fields (declared in acme.c): dns_server (required: "ADDRESS[:PORT]" of the
 * zone's primary), dns_zone (optional: found by SOA queries to dns_server),
 * tsig_name and tsig_secret (required), tsig_algorithm (optional: hmac-sha256).
 * check() runs lib/dnsupdate's own checks on them (dnsupdate_server_check), so that a
 * connector the updates could never be sent with is refused when it is written.
 *
 * The record is on the primary when present returns; a zone with secondaries that the
 * CA asks instead needs them to have caught up (NOTIFY usually takes under a second).
 *
 * Secrets: the TSIG secret is copied at open and wiped at close; it reaches no message
 * and no log. The key authorization is not logged either (solver.h).
 * Thread rules: the context is read-only after open and lib/dnsupdate keeps no state, so
 * present and cleanup run on many threads at once (solver.h).
 */
#include "adapters/ca/acme/jws.h"
#include "adapters/ca/acme/solver.h"
#include "adapters/ca/fields.h"
#include "lib/base/buf.h"
#include "lib/dnsupdate/dnsupdate.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The challenge record lives minutes; resolvers should not keep it longer. */
#define DNS01_TTL 60
/* "_acme-challenge." and a domain name of at most 253 characters. */
#define DNS01_NAME_MAX (16 + 253 + 1)

typedef struct dns01_ctx {
    char *server, *zone, *tsig_name, *tsig_algorithm;
    char *tsig_secret; /* wiped at close */
} dns01_ctx;

/* The connector fields named as lib/dnsupdate names them (its messages start with these). */
static const struct {
    const char *member, *field;
} members[] = {
    {"server", "dns_server"},       {"zone", "dns_zone"},
    {"tsig_name", "tsig_name"},     {"tsig_algorithm", "tsig_algorithm"},
    {"tsig_secret", "tsig_secret"}, {"timeout_ms", "dns_server"},
};

/* Rewrite the thread's lib/dnsupdate message "member: ..." as "<prefix>.field: ...". */
static clm_err fail_as_field(clm_err err, const char *prefix, const char *fallback_field)
{
    char message[CLM_ERROR_MESSAGE_MAX];
    const char *rest = message, *field = fallback_field;

    snprintf(message, sizeof message, "%s", clm_error_message());
    for (size_t i = 0; i < sizeof members / sizeof *members; i++) {
        size_t len = strlen(members[i].member);

        if (strncmp(message, members[i].member, len) == 0 && message[len] == ':' &&
            message[len + 1] == ' ') {
            field = members[i].field;
            rest = message + len + 2;
            break;
        }
    }
    return clm_fail(err, "%s.%s: %s", prefix, field, rest);
}

static dnsupdate_server server_of_fields(const adapter_fields *fields)
{
    return (dnsupdate_server){
        .server = ca_fields_get(fields, "dns_server"),
        .zone = ca_fields_get(fields, "dns_zone"),
        .tsig_name = ca_fields_get(fields, "tsig_name"),
        .tsig_algorithm = ca_fields_get(fields, "tsig_algorithm"),
        .tsig_secret = ca_fields_get(fields, "tsig_secret"),
    };
}

static clm_err dns01_check(const adapter_fields *fields)
{
    static const char *const required[] = {"dns_server", "tsig_name", "tsig_secret"};
    dnsupdate_server server = server_of_fields(fields);

    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        if (ca_fields_get(fields, required[i]) == NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "config.fields.%s: required with challenge_type dns-01", required[i]);
    if (dnsupdate_server_check(&server) != CLM_OK)
        return fail_as_field(CLM_ERR_INVALID_ARGUMENT, "config.fields", "dns_server");
    return CLM_OK;
}

static void dns01_close(void *ctx)
{
    dns01_ctx *d = ctx;

    if (d == NULL)
        return;
    if (d->tsig_secret != NULL)
        OPENSSL_cleanse(d->tsig_secret, strlen(d->tsig_secret));
    free(d->tsig_secret);
    free(d->server);
    free(d->zone);
    free(d->tsig_name);
    free(d->tsig_algorithm);
    free(d);
}

/* strdup of an optional value: false only when out of memory. */
static bool copy_optional(const char *value, char **out)
{
    *out = value != NULL ? strdup(value) : NULL;
    return value == NULL || *out != NULL;
}

static clm_err dns01_open(const adapter_fields *fields, const char *connector, void **out)
{
    dnsupdate_server server = server_of_fields(fields);
    dns01_ctx *d;
    clm_err err;

    (void)connector;
    *out = NULL;
    if ((err = dns01_check(fields)) != CLM_OK)
        return err;
    d = calloc(1, sizeof *d);
    if (d == NULL || !copy_optional(server.server, &d->server) ||
        !copy_optional(server.zone, &d->zone) || !copy_optional(server.tsig_name, &d->tsig_name) ||
        !copy_optional(server.tsig_algorithm, &d->tsig_algorithm) ||
        !copy_optional(server.tsig_secret, &d->tsig_secret)) {
        dns01_close(d);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    *out = d;
    return CLM_OK;
}

/* The record: "_acme-challenge.<domain>" and base64url(SHA-256(key authorization)). */
static clm_err dns01_record(const char *domain, const char *key_authorization, char *name,
                            clm_buf *value)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];

    if (domain == NULL || key_authorization == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "dns-01: no domain or key authorization");
    if (strlen(domain) > 253)
        return clm_fail(CLM_ERR_CONFIG, "dns-01: the domain \"%.64s...\" is too long", domain);
    snprintf(name, DNS01_NAME_MAX, "_acme-challenge.%s", domain);
    SHA256((const unsigned char *)key_authorization, strlen(key_authorization), digest);
    return acme_b64url_append(value, digest, sizeof digest);
}

/*
 * lib/dnsupdate's result as solver.h wants it: UNAVAILABLE (retried later) for what may
 * pass (no answer, SERVFAIL, an answer that made no sense); PERMISSION for the key
 * refused; CONFIG for the rest (no zone holds the name, a name or algorithm the updates
 * cannot carry). The message names the connector field to look at.
 */
static clm_err dns01_result(clm_err err)
{
    char message[CLM_ERROR_MESSAGE_MAX];
    const char *field = "dns_server";

    switch (err) {
    case CLM_OK:
    case CLM_ERR_NO_MEMORY: return err;
    case CLM_ERR_UNAVAILABLE:
    case CLM_ERR_PARSE: err = CLM_ERR_UNAVAILABLE; break;
    case CLM_ERR_PERMISSION: field = "tsig_name"; break;
    case CLM_ERR_NOT_FOUND:
        err = CLM_ERR_CONFIG;
        field = "dns_zone";
        break;
    case CLM_ERR_INVALID_ARGUMENT: /* the domain, as the CA gave it, is no DNS name */
        field = NULL;
        err = CLM_ERR_CONFIG;
        break;
    default: err = CLM_ERR_CONFIG; break;
    }
    snprintf(message, sizeof message, "%s", clm_error_message());
    if (field == NULL)
        return clm_fail(err, "%s", message);
    return clm_fail(err, "fields.%s: %s", field, message);
}

static dnsupdate_server server_of_ctx(const dns01_ctx *d)
{
    return (dnsupdate_server){
        .server = d->server,
        .zone = d->zone,
        .tsig_name = d->tsig_name,
        .tsig_algorithm = d->tsig_algorithm,
        .tsig_secret = d->tsig_secret,
    };
}

/* Add (present) or delete (cleanup) the challenge's TXT record. */
static clm_err dns01_update(void *ctx, const char *domain, const char *key_authorization,
                            bool add)
{
    dnsupdate_server server = server_of_ctx(ctx);
    char name[DNS01_NAME_MAX];
    clm_buf value = CLM_BUF_INIT;
    clm_err err;

    if ((err = dns01_record(domain, key_authorization, name, &value)) == CLM_OK)
        err = dns01_result(add ? dnsupdate_txt_add(&server, name, clm_buf_str(&value), DNS01_TTL)
                               : dnsupdate_txt_delete(&server, name, clm_buf_str(&value)));
    clm_buf_free(&value);
    return err;
}

static clm_err dns01_present(void *ctx, const char *domain, const char *token,
                             const char *key_authorization)
{
    (void)token;
    return dns01_update(ctx, domain, key_authorization, true);
}

static clm_err dns01_cleanup(void *ctx, const char *domain, const char *token,
                             const char *key_authorization)
{
    (void)token;
    return dns01_update(ctx, domain, key_authorization, false);
}

static const acme_solver_ops dns01_ops = {
    .type = "dns-01",
    .present = dns01_present,
    .cleanup = dns01_cleanup,
};

const acme_solver_kind acme_solver_dns01 = {
    .ops = &dns01_ops,
    .check = dns01_check,
    .open = dns01_open,
    .close = dns01_close,
};
