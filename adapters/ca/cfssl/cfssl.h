/*
 * adapters/ca/cfssl/cfssl.h: CloudFlare's cfssl as a CA (adapter "cfssl", adapter.h
 * contract 2), through the REST API of `cfssl serve` (checked against Debian's
 * golang-cfssl 1.2.0, the API of cfssl's doc/api/).
 *
 * Endpoints used, all POST with a JSON body, under URL/api/v1/cfssl/:
 *   sign       {"certificate_request": PEM, "profile"?, "label"?}: the certificate.
 *              The subject and SANs come from the CSR (no "hosts" is sent).
 *   authsign   {"token": base64(HMAC-SHA256(key, R)), "request": base64(R)}, R the
 *              sign request above: used instead of sign when the connector has an
 *              auth_key (the hex key of the server config's "auth_keys" entry that the
 *              profile names with "auth_key").
 *   info       {"label"?, "profile"?}: the signer's certificate, kept per instance
 *              as the chain of what it issues.
 *   revoke     {"serial": decimal, "authority_key_id": hex, "reason": RFC 5280 name}:
 *              only when the server runs with -db-config (else the endpoint is off:
 *              unconfigured). cfssl 1.2 records certificates with an empty authority
 *              key id; a revoke that is "not found" with the certificate's own key id
 *              is sent once more with an empty one.
 * Every answer is {"success": bool, "result": ..., "errors": [{"code", "message"}],
 * "messages": [...]} (ca_cfssl_answer_parse).
 *
 * Outcomes: an answer with success false is REJECTED with cfssl's first error message
 * (and a hint for the authentication errors: a wrong auth_key, a profile that needs
 * one, a profile without one); a request for a profile outside the connector's
 * "profiles" list is rejected before anything is sent (cfssl 1.2 signs a request for an
 * unknown profile with its default profile, silently). Connection refused, timeouts, a
 * broken HTTP answer, 429 and 5xx are UNREACHABLE (two attempts, lib/http/retry.h); 404
 * (not a cfssl server, or revoke without a database), an answer that is not cfssl's
 * JSON, or success without a certificate, are UNCONFIGURED. Never PENDING (cfssl signs
 * at once), so no poll; no CRL (cfssl 1.2's gencrl takes the revoked list as input).
 *
 * Secrets: auth_key is a secret connector field (sealed by the appliance); it lives
 * decoded in the instance, wiped on close, and is never in a log line or a reason. The
 * CSR, the request body and the token are not logged either (lib/http logs the origin
 * and status only).
 *
 * Thread rules: submit and revoke may run on any number of threads at once; the cached
 * chain is under the instance's mutex.
 */
#ifndef CLM_ADAPTERS_CA_CFSSL_CFSSL_H
#define CLM_ADAPTERS_CA_CFSSL_CFSSL_H

#include "adapters/adapter.h"
#include "lib/base/arena.h"
#include "lib/base/error.h"

#include <stdbool.h>
#include <stddef.h>

/** The adapter's operations table (name "cfssl"); register with adapter_ca_register(). */
extern const adapter_ca_ops ca_cfssl_ops;

/** Longest error message kept from an answer, NUL included. */
#define CA_CFSSL_MESSAGE_MAX 160

/** One cfssl answer, as far as the adapter reads it. */
typedef struct ca_cfssl_answer {
    bool success;
    const char *certificate; /* result.certificate (PEM text), arena memory; NULL when
                                absent */
    int code;                /* errors[0].code; 0 when there is no error */
    char message[CA_CFSSL_MESSAGE_MAX]; /* errors[0].message, printable ASCII only (others
                                           become '?'), cut at the size; "" when none */
} ca_cfssl_answer;

/**
 * @brief Read a cfssl answer body. Strict about the shape it uses: a JSON object with
 * a boolean "success"; "errors", when present, a list of objects whose "message" is a
 * string and "code" an integer; "result", when present, null or an object whose
 * "certificate", when present, is a string. Other members are ignored.
 * @param[in] body the bytes as received; need not be NUL-terminated.
 * @param[out] out zeroed first; its certificate lives in `arena`.
 * @return CLM_OK; CLM_ERR_PARSE saying what is wrong (never quoting the body);
 *         CLM_ERR_NO_MEMORY.
 */
clm_err ca_cfssl_answer_parse(const void *body, size_t len, clm_arena *arena,
                              ca_cfssl_answer *out);

#endif
