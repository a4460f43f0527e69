/*
 * adapters/ca/acme/parse.h: readers of what an ACME server sends (RFC 8555 7.1): the
 * directory, orders, authorizations and their challenges, problem documents (RFC 7807),
 * Link headers (RFC 8288) and the PEM certificate chain (7.4.2).
 *
 * All of it is outside data: every reader checks types and sizes, copies what it keeps
 * into the caller's arena, and fails with CLM_ERR_PARSE naming the member
 * ("order.finalize: not a URL"). Nothing here touches the network. JSON is read with
 * jansson. Fuzzed by parse_fuzz.c.
 *
 * Thread rules: every function may be called from any thread (each with its own arena).
 */
#ifndef CLM_ADAPTERS_CA_ACME_PARSE_H
#define CLM_ADAPTERS_CA_ACME_PARSE_H

#include "adapters/adapter.h"
#include "lib/base/arena.h"
#include "lib/base/error.h"

#include <stdbool.h>
#include <stddef.h>

/** Longest URL, token or identifier kept. */
#define ACME_TEXT_MAX 2048
/** Most authorizations per order, challenges per authorization, Link targets. */
#define ACME_LIST_MAX 100

/** The directory (7.1.1). URLs are NULL when absent; newNonce, newAccount, newOrder
 *  are required. */
typedef struct acme_directory {
    const char *new_nonce, *new_account, *new_order, *revoke_cert, *key_change;
    const char *terms_of_service; /* meta.termsOfService */
    bool eab_required;            /* meta.externalAccountRequired */
} acme_directory;

/** Object status values (7.1.6). */
typedef enum acme_status {
    ACME_STATUS_UNKNOWN = 0, /* a value this client does not know */
    ACME_STATUS_PENDING,
    ACME_STATUS_READY,
    ACME_STATUS_PROCESSING,
    ACME_STATUS_VALID,
    ACME_STATUS_INVALID,
    ACME_STATUS_EXPIRED,
    ACME_STATUS_DEACTIVATED,
    ACME_STATUS_REVOKED,
} acme_status;

/** A problem document (RFC 7807, RFC 8555 6.7); members NULL when absent. */
typedef struct acme_problem {
    const char *type;   /* "urn:ietf:params:acme:error:badNonce" ... */
    const char *detail; /* control characters replaced by '?', at most 200 bytes */
} acme_problem;

/** An order (7.1.3). */
typedef struct acme_order {
    acme_status status;
    const char **authorizations; /* URLs */
    size_t n_authorizations;
    const char *finalize;    /* required */
    const char *certificate; /* when valid */
    acme_problem error;      /* when present */
} acme_order;

/** A challenge (8). */
typedef struct acme_challenge {
    const char *type; /* "http-01", "dns-01", others as sent */
    const char *url;
    const char *token; /* base64url characters only; NULL when absent */
    acme_status status;
    acme_problem error;
} acme_challenge;

/** An authorization (7.1.4). */
typedef struct acme_authorization {
    acme_status status;
    const char *identifier_type;  /* "dns" */
    const char *identifier_value; /* the name, without "*." */
    bool wildcard;
    acme_challenge *challenges;
    size_t n_challenges;
} acme_authorization;

/** @return "pending", "ready", ... as RFC 8555 spells them; "unknown". */
const char *acme_status_name(acme_status status);

/**
 * @brief Read a directory object.
 * @return CLM_OK; CLM_ERR_PARSE (not a JSON object, a required URL missing or not an
 *         http(s) URL, naming it); CLM_ERR_NO_MEMORY.
 */
clm_err acme_directory_parse(const void *body, size_t len, clm_arena *arena, acme_directory *out);

/**
 * @brief Read a problem document. Never fails: members that are missing or not text
 * stay NULL.
 */
void acme_problem_parse(const void *body, size_t len, clm_arena *arena, acme_problem *out);

/**
 * @brief Read an order object.
 * @return CLM_OK; CLM_ERR_PARSE naming the member; CLM_ERR_NO_MEMORY.
 */
clm_err acme_order_parse(const void *body, size_t len, clm_arena *arena, acme_order *out);

/**
 * @brief Read an authorization object with its challenges.
 * @return CLM_OK; CLM_ERR_PARSE naming the member (a token with characters outside
 *         base64url included: tokens become file names and URL paths); CLM_ERR_NO_MEMORY.
 */
clm_err acme_authorization_parse(const void *body, size_t len, clm_arena *arena,
                                 acme_authorization *out);

/**
 * @brief Collect the targets of one relation from Link header values (RFC 8288 3):
 * `<URL>; rel="alternate", <URL2>; rel=up`. Relation names compare ignoring case;
 * a rel with several names ("up alternate") matches each.
 * @param[in] values the values of every Link header of a response, in order.
 * @param[out] urls  an array in arena (NULL when none).
 * @return CLM_OK; CLM_ERR_PARSE (a malformed value: its index); CLM_ERR_NO_MEMORY.
 */
clm_err acme_link_parse(const char *const *values, size_t n_values, const char *rel,
                        clm_arena *arena, const char ***urls, size_t *n_urls);

/**
 * @brief Read an application/pem-certificate-chain body: one or more PEM
 * CERTIFICATE blocks, the end-entity first, nothing else (RFC 8555 9.1).
 * @param[out] certs DER copies in arena, in order.
 * @return CLM_OK; CLM_ERR_PARSE (no certificate, a block that is not a certificate or
 *         does not decode, a key); CLM_ERR_NO_MEMORY.
 */
clm_err acme_chain_parse(const void *pem, size_t len, clm_arena *arena, adapter_ca_der **certs,
                         size_t *n_certs);

/**
 * @brief The issuer CN of the last certificate of a chain (the top of that chain: what
 * "preferred chain" names, as certbot's --preferred-chain does).
 * @param[out] cn in arena; NULL when it has none.
 * @return CLM_OK; CLM_ERR_PARSE (the certificate does not decode).
 */
clm_err acme_chain_top_issuer_cn(const adapter_ca_der *certs, size_t n, clm_arena *arena,
                                 const char **cn);

#endif
