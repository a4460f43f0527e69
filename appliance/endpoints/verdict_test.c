/* appliance/endpoints/verdict_test.c: push validation verdicts, one row per case. */
#include <openssl/x509_vfy.h>

#include "appliance/endpoints/verdict.h"
#include "tests/unit.h"

#define EXPECTED "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define OTHER "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define NOW 1800000000

typedef struct verdict_case {
    const char *what;
    adapter_probe_status status;
    const char *leaf;
    int64_t not_after;
    adapter_probe_check chain_valid;
    int verify_code;
    adapter_probe_check name_match;
    endpoint_verdict want;
    const char *detail_has;
} verdict_case;

static const verdict_case cases[] = {
    {"good", ADAPTER_PROBE_OK, EXPECTED, NOW + 86400, ADAPTER_PROBE_PASS, 0, ADAPTER_PROBE_PASS,
     VERDICT_IN_SYNC, ""},
    {"checks off", ADAPTER_PROBE_OK, EXPECTED, NOW + 1, ADAPTER_PROBE_NOT_CHECKED, 0,
     ADAPTER_PROBE_NOT_CHECKED, VERDICT_IN_SYNC, ""},
    {"refused", ADAPTER_PROBE_REFUSED, "", 0, ADAPTER_PROBE_NOT_CHECKED, 0,
     ADAPTER_PROBE_NOT_CHECKED, VERDICT_UNREACHABLE, "refused: nope"},
    {"timeout", ADAPTER_PROBE_HANDSHAKE_TIMEOUT, "", 0, ADAPTER_PROBE_NOT_CHECKED, 0,
     ADAPTER_PROBE_NOT_CHECKED, VERDICT_UNREACHABLE, "handshake-timeout"},
    {"another leaf, even expired and broken", ADAPTER_PROBE_OK, OTHER, NOW - 5, ADAPTER_PROBE_FAIL,
     X509_V_ERR_CERT_HAS_EXPIRED, ADAPTER_PROBE_FAIL, VERDICT_OUT_OF_SYNC, "serves bbbbbbbb"},
    {"expired", ADAPTER_PROBE_OK, EXPECTED, NOW - 1, ADAPTER_PROBE_FAIL,
     X509_V_ERR_CERT_HAS_EXPIRED, ADAPTER_PROBE_PASS, VERDICT_EXPIRED, "expired 2027-01-15"},
    {"expires this second", ADAPTER_PROBE_OK, EXPECTED, NOW, ADAPTER_PROBE_PASS, 0,
     ADAPTER_PROBE_PASS, VERDICT_IN_SYNC, ""},
    {"no intermediate", ADAPTER_PROBE_OK, EXPECTED, NOW + 9, ADAPTER_PROBE_FAIL,
     X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, ADAPTER_PROBE_PASS, VERDICT_CHAIN_INCOMPLETE,
     "chain: "},
    {"issuer missing from the chain", ADAPTER_PROBE_OK, EXPECTED, NOW + 9, ADAPTER_PROBE_FAIL,
     X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, ADAPTER_PROBE_FAIL, VERDICT_CHAIN_INCOMPLETE, ""},
    {"self-signed", ADAPTER_PROBE_OK, EXPECTED, NOW + 9, ADAPTER_PROBE_FAIL,
     X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, ADAPTER_PROBE_PASS, VERDICT_CHAIN_INVALID, ""},
    {"wrong name", ADAPTER_PROBE_OK, EXPECTED, NOW + 9, ADAPTER_PROBE_PASS, 0, ADAPTER_PROBE_FAIL,
     VERDICT_NAME_MISMATCH, "does not cover www.example.test"},
};

UNIT_TEST(verdicts)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const verdict_case *c = &cases[i];
        adapter_probe_result r;
        char detail[256];

        memset(&r, 0, sizeof(r));
        r.status = c->status;
        snprintf(r.reason, sizeof(r.reason), "%s", "nope");
        snprintf(r.leaf_sha256, sizeof(r.leaf_sha256), "%s", c->leaf);
        snprintf(r.address, sizeof(r.address), "%s", "192.0.2.1");
        r.sni = "www.example.test";
        r.not_after = c->not_after;
        r.chain_valid = c->chain_valid;
        r.verify_code = c->verify_code;
        r.verify_error = "some error";
        r.name_match = c->name_match;
        endpoint_verdict v = endpoint_verdict_of(&r, EXPECTED, NOW);
        if (v != c->want)
            fprintf(stderr, "case '%s': %s\n", c->what, endpoint_verdict_name(v));
        CHECK_INT_EQ(v, c->want);
        endpoint_verdict_detail(&r, v, detail, sizeof(detail));
        if (strstr(detail, c->detail_has) == NULL)
            fprintf(stderr, "case '%s': detail '%s'\n", c->what, detail);
        CHECK(strstr(detail, c->detail_has) != NULL);
    }
}

UNIT_TEST(names_round_trip)
{
    for (int v = 0; v < VERDICT_MAX; v++)
        CHECK_INT_EQ(endpoint_verdict_parse(endpoint_verdict_name((endpoint_verdict)v)), v);
    CHECK_INT_EQ(endpoint_verdict_parse("sync"), VERDICT_MAX);
    CHECK_STR_EQ(endpoint_verdict_name(VERDICT_MAX), "unknown");
}

int main(void)
{
    UNIT_RUN(verdicts);
    UNIT_RUN(names_round_trip);
    return unit_report();
}
