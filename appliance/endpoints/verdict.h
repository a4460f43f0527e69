/*
 * appliance/endpoints/verdict.h: the push validation verdict of one endpoint: does it
 * serve the certificate it is bound to, and if not, what is wrong.
 *
 * One verdict per probed address, the first that applies in this order:
 *   unreachable       no handshake (refused, timeout, reset, STARTTLS failure, ...)
 *   out_of_sync       another leaf is served (the job says which, and whether it is a
 *                     renewal of the expected one: the guide's rule that an old
 *                     certificate's bindings go Out of Sync once its successor is
 *                     served)
 *   expired           the expected leaf is served, but its notAfter has passed
 *   chain_incomplete  the served chain lacks an intermediate (the verifier could not
 *                     find the issuer of a certificate in the trust store or the chain)
 *   chain_invalid     the chain does not verify for another reason (untrusted root,
 *                     bad signature, a CA certificate expired, ...)
 *   name_mismatch     the leaf does not cover the name asked for (SNI, else the address)
 *   in_sync           none of the above
 * Only in_sync counts as success in the Push Validation Report.
 */
#ifndef CLM_APPLIANCE_ENDPOINTS_VERDICT_H
#define CLM_APPLIANCE_ENDPOINTS_VERDICT_H

#include <stddef.h>
#include <stdint.h>

#include "adapters/adapter.h"

typedef enum endpoint_verdict {
    VERDICT_IN_SYNC = 0,
    VERDICT_OUT_OF_SYNC,
    VERDICT_EXPIRED,
    VERDICT_CHAIN_INCOMPLETE,
    VERDICT_CHAIN_INVALID,
    VERDICT_NAME_MISMATCH,
    VERDICT_UNREACHABLE,
    VERDICT_MAX
} endpoint_verdict;

/** @return "in_sync", "out_of_sync", ...; "unknown" out of range. Stable: stored. */
const char *endpoint_verdict_name(endpoint_verdict v);

/** @return the verdict of that name, or VERDICT_MAX. */
endpoint_verdict endpoint_verdict_parse(const char *name);

/**
 * @brief The verdict for one probe result against the expected leaf.
 * @param[in] expected_sha256 lower-case hex of the expected leaf (64 digits).
 * @param[in] now_s           seconds since the epoch.
 */
endpoint_verdict endpoint_verdict_of(const adapter_probe_result *r, const char *expected_sha256,
                                     int64_t now_s);

/**
 * @brief A one-line explanation of the verdict for people (the reason of a failed
 * probe, the verifier's message, the name checked); out_of_sync gets the served
 * fingerprint, which the caller may extend.
 */
void endpoint_verdict_detail(const adapter_probe_result *r, endpoint_verdict v, char *out,
                             size_t size);

#endif
