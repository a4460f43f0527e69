/*
 * adapters/ca/acme/solver.h: how the ACME adapter answers a challenge (RFC 8555 8).
 *
 * A solver makes one challenge type answerable for the CA's validation server and undoes
 * it afterwards. The adapter picks the solver of the connector field "challenge_type"
 * ("http-01", the default, or "dns-01") from the table acme_solver_kinds (solver.c); one
 * solver context per open connector, made from the connector's fields at open() and
 * freed at close().
 *
 * Per authorization the adapter calls, in this order:
 *   present(ctx, domain, token, key_authorization)   returns when the CA can validate
 *   POST the challenge, poll the authorization until it is valid or invalid
 *   cleanup(ctx, domain, token, key_authorization)   always, also when present failed
 *                                                    half-way or the order failed
 * domain is the identifier's value as the CA shows it (lower-case, without a "*."
 * prefix: a wildcard identifier is validated at its base domain, RFC 8555 7.1.3); token
 * is base64url; key_authorization is token "." base64url(JWK thumbprint of the account
 * key) (8.1). All three are borrowed for the call. None of them is secret, but solvers
 * still do not log the key authorization (it proves control of the account).
 *
 * Adding a solver: write adapters/ca/acme/<type>.c defining one acme_solver_kind (as
 * dns01.c defines acme_solver_dns01 = {.ops, .check, .open, .close}), declare it below
 * beside acme_solver_http01 and add its row to acme_solver_kinds in solver.c. Solvers'
 * connector fields are declared by the adapter (acme.c config_fields), so that a
 * connector can be created before any solver reads them; dns-01's:
 *     dns_server      STRING  "ADDRESS:PORT" of the zone's primary (RFC 2136 updates)
 *     dns_zone        STRING  the zone the _acme-challenge names are updated in
 *                             (optional: found by SOA queries to dns_server)
 *     tsig_name       STRING  the TSIG key's name
 *     tsig_algorithm  CHOICE  hmac-sha256 (default) | hmac-sha512 | hmac-sha1
 *     tsig_secret     STRING  secret: the TSIG key, base64
 * The kind's check() enforces what spans fields (dns-01 needs dns_server and the TSIG
 * name and secret, and checks them as lib/dnsupdate will use them).
 *
 * Thread rules: present and cleanup MAY be called from several threads at once on one
 * ctx (orders in flight together, see the connector field max_orders), for different
 * tokens and also for the same domain (two orders for one name: dns-01 then holds two
 * TXT values at one name, which RFC 8555 8.4 allows; cleanup removes only its own).
 * open and close run once per connector, on one thread, with no call in flight.
 */
#ifndef CLM_ADAPTERS_CA_ACME_SOLVER_H
#define CLM_ADAPTERS_CA_ACME_SOLVER_H

#include "adapters/adapter.h"
#include "lib/base/error.h"

#include <stddef.h>

/** A challenge solver's operations (one per challenge type). */
typedef struct acme_solver_ops {
    const char *type; /* "http-01", "dns-01" */
    /* make the challenge answerable: http-01 serves key_authorization at
       /.well-known/acme-challenge/<token>; dns-01 publishes TXT
       base64url(SHA-256(key_authorization)) at _acme-challenge.<domain> */
    clm_err (*present)(void *ctx, const char *domain, const char *token,
                       const char *key_authorization);
    /* undo present (best effort, called after the authorization is decided) */
    clm_err (*cleanup)(void *ctx, const char *domain, const char *token,
                       const char *key_authorization);
} acme_solver_ops;

/*
 * Contract of the members above, in the house form:
 *   present  MUST. @return CLM_OK once the CA's validation can succeed (dns-01: the
 *            update is accepted by the zone's server); CLM_ERR_UNAVAILABLE or
 *            CLM_ERR_TIMEOUT (the server, the listener or the directory cannot be
 *            reached: the order ends unreachable, retried later); CLM_ERR_PERMISSION
 *            or CLM_ERR_CONFIG (refused, e.g. TSIG rejected or webroot not writable:
 *            the order ends unconfigured with the message); CLM_ERR_NO_MEMORY. The
 *            message names the connector field at fault where one is ("fields.dns_zone:
 *            ..."), never a secret's value.
 *   cleanup  MUST. Best effort: its error is logged, not acted on. Removing something
 *            already gone is CLM_OK.
 */

/** One solver kind: the row of acme_solver_kinds for a challenge type. */
typedef struct acme_solver_kind {
    /** MUST: the operations; ops->type is the challenge_type value that selects it. */
    const acme_solver_ops *ops;
    /**
     * MAY: rules that span the connector's fields, for check_fields (no network, no
     * files). The fields are already checked one by one against their declarations.
     * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the field ("config.fields.dns_zone:
     *         required with challenge_type dns-01").
     */
    clm_err (*check)(const adapter_fields *fields);
    /**
     * MUST: make the context of one connector from its fields (already checked, check()
     * included). May bind listeners or open files; no network exchange.
     * @param[in] connector the connector's name, for messages and logs.
     * @param[out] ctx what present and cleanup get.
     * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the field; CLM_ERR_IO (a listener
     *         that cannot be bound, a webroot that cannot be opened); CLM_ERR_NO_MEMORY.
     */
    clm_err (*open)(const adapter_fields *fields, const char *connector, void **ctx);
    /** MUST: free a context (no present or cleanup in flight). Accepts NULL. */
    void (*close)(void *ctx);
} acme_solver_kind;

/** http-01: the built-in responder (http01_listen) and/or a webroot (http01_webroot). */
extern const acme_solver_kind acme_solver_http01;

/** dns-01: TXT records by RFC 2136 updates signed with TSIG (dns01.c, lib/dnsupdate). */
extern const acme_solver_kind acme_solver_dns01;

/** Every solver built in, NULL-terminated (solver.c). */
extern const acme_solver_kind *const acme_solver_kinds[];

/**
 * @brief The solver kind for a challenge type.
 * @return the kind, or NULL when none of that type is built in.
 */
const acme_solver_kind *acme_solver_find(const char *type);

#endif
