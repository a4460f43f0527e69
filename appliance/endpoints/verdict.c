/* appliance/endpoints/verdict.c: verdicts of push validation (see verdict.h). */
#include "appliance/endpoints/verdict.h"

#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const verdict_names[VERDICT_MAX] = {
    "in_sync",      "out_of_sync",   "expired",     "chain_incomplete",
    "chain_invalid", "name_mismatch", "unreachable",
};

const char *endpoint_verdict_name(endpoint_verdict v)
{
    return (unsigned)v < VERDICT_MAX ? verdict_names[v] : "unknown";
}

endpoint_verdict endpoint_verdict_parse(const char *name)
{
    for (int v = 0; v < VERDICT_MAX; v++)
        if (strcmp(name, verdict_names[v]) == 0)
            return (endpoint_verdict)v;
    return VERDICT_MAX;
}

/* The verifier could not find an issuer: what a server that omits its intermediate
   causes (the root is in the trust store, the link to it is not served). */
static int missing_issuer(int code)
{
    return code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
           code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT;
}

endpoint_verdict endpoint_verdict_of(const adapter_probe_result *r, const char *expected_sha256,
                                     int64_t now_s)
{
    if (r->status != ADAPTER_PROBE_OK)
        return VERDICT_UNREACHABLE;
    if (strcmp(r->leaf_sha256, expected_sha256) != 0)
        return VERDICT_OUT_OF_SYNC;
    if (r->not_after < now_s)
        return VERDICT_EXPIRED;
    if (r->chain_valid == ADAPTER_PROBE_FAIL)
        return missing_issuer(r->verify_code) ? VERDICT_CHAIN_INCOMPLETE : VERDICT_CHAIN_INVALID;
    if (r->name_match == ADAPTER_PROBE_FAIL)
        return VERDICT_NAME_MISMATCH;
    return VERDICT_IN_SYNC;
}

void endpoint_verdict_detail(const adapter_probe_result *r, endpoint_verdict v, char *out,
                             size_t size)
{
    char when[32] = "";
    time_t t;
    struct tm tm;

    switch (v) {
    case VERDICT_UNREACHABLE:
        snprintf(out, size, "%s: %s", adapter_probe_status_name(r->status), r->reason);
        return;
    case VERDICT_OUT_OF_SYNC:
        snprintf(out, size, "serves %.16s...", r->leaf_sha256);
        return;
    case VERDICT_EXPIRED:
        t = (time_t)r->not_after;
        if (gmtime_r(&t, &tm) != NULL)
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(out, size, "expired %s", when);
        return;
    case VERDICT_CHAIN_INCOMPLETE:
    case VERDICT_CHAIN_INVALID:
        snprintf(out, size, "chain: %s (depth %d)", r->verify_error ? r->verify_error : "invalid",
                 r->verify_depth);
        return;
    case VERDICT_NAME_MISMATCH:
        snprintf(out, size, "leaf does not cover %s", r->sni ? r->sni : r->address);
        return;
    default:
        snprintf(out, size, "%s", "");
        return;
    }
}
