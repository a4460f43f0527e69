/*
 * lib/pki/chain_test.c: ordering bags of certificates (shuffled, several leaves, missing
 * intermediates, re-keyed CAs) and verifying chains against given and system trust
 * stores at chosen times. Built against OpenSSL by Bazel and against BoringSSL by
 * boringssl_test.sh.
 */
#include "lib/base/clock.h"
#include "lib/pki/cert.h"
#include "lib/pki/chain.h"
#include "lib/pki/test_certs.h"
#include "tests/unit.h"

#include <unistd.h>

static clm_clock_fake fake;

static const clm_clock *at(int64_t offset)
{
    clm_clock_fake_set(&fake, (TC_T0 + offset) * CLM_NS_PER_SEC);
    return &fake.clock;
}

static EVP_PKEY *root_key, *int_key, *leaf_key, *other_key;
static X509 *root, *inter, *leaf, *leaf2, *orphan;

UNIT_TEST(test_order)
{
    X509 *bag[] = {root, leaf, inter, leaf2};
    pki_chain_set set;

    CHECK_INT_EQ(pki_chain_order(bag, 4, &set), CLM_OK);
    CHECK_INT_EQ(set.n, 2);
    if (set.n == 2) {
        CHECK_INT_EQ(set.chains[0].n, 3);
        CHECK(set.chains[0].certs[0] == leaf && set.chains[0].certs[1] == inter &&
              set.chains[0].certs[2] == root);
        CHECK(set.chains[0].complete && set.chains[0].missing_issuer == NULL);
        CHECK(set.chains[1].certs[0] == leaf2 && set.chains[1].n == 3);
    }
    pki_chain_set_free(&set);
}

UNIT_TEST(test_missing)
{
    X509 *bag[] = {leaf, root};
    pki_chain_set set;

    CHECK_INT_EQ(pki_chain_order(bag, 2, &set), CLM_OK);
    CHECK_INT_EQ(set.n, 2); /* the leaf, and the root no leaf reaches */
    if (set.n == 2) {
        CHECK_INT_EQ(set.chains[0].n, 1);
        CHECK(!set.chains[0].complete);
        CHECK_STR_EQ(set.chains[0].missing_issuer, "O=clm test,CN=Chain Intermediate");
        CHECK(set.chains[1].certs[0] == root && set.chains[1].complete);
    }
    pki_chain_set_free(&set);
    CHECK_INT_EQ(pki_chain_order(NULL, 0, &set), CLM_ERR_INVALID_ARGUMENT);
}

/* A re-keyed intermediate with the same name: the key identifier decides. */
UNIT_TEST(test_key_identifier)
{
    X509 *bag[] = {orphan, inter, leaf};
    pki_chain_set set;

    CHECK_INT_EQ(pki_chain_order(bag, 3, &set), CLM_OK);
    if (set.n >= 1) {
        CHECK(set.chains[0].certs[0] == orphan || set.chains[0].certs[0] == leaf);
        for (size_t i = 0; i < set.n; i++) {
            if (set.chains[i].certs[0] == leaf)
                CHECK(set.chains[i].n == 2 && set.chains[i].certs[1] == inter);
            if (set.chains[i].certs[0] == orphan)
                CHECK(set.chains[i].n == 1 && !set.chains[i].complete);
        }
    }
    pki_chain_set_free(&set);
}

UNIT_TEST(test_verify)
{
    X509 *bag[] = {leaf, inter, root};
    pki_chain_set set;
    pki_trust *trust = NULL, *system = NULL;
    pki_verify_result res;

    CHECK_INT_EQ(pki_chain_order(bag, 3, &set), CLM_OK);
    CHECK_INT_EQ(pki_trust_new(&root, 1, &trust), CLM_OK);
    CHECK_INT_EQ(pki_chain_verify(&set.chains[0], trust, PKI_EKU_SERVER_AUTH, at(3600), &res),
                 CLM_OK);
    CHECK(res.ok && res.code == 0 && res.error[0] == '\0');
    /* a day after the leaf expired */
    CHECK_INT_EQ(pki_chain_verify(&set.chains[0], trust, 0, at(31 * 86400), &res), CLM_ERR_CRYPTO);
    CHECK(!res.ok && res.depth == 0);
    CHECK_STR_EQ(res.error, "certificate has expired");
    CHECK_STR_CONTAINS(clm_error_message(), "certificate has expired (depth 0)");
    /* before it was valid */
    CHECK_INT_EQ(pki_chain_verify(&set.chains[0], trust, 0, at(-7200), &res), CLM_ERR_CRYPTO);
    CHECK_STR_EQ(res.error, "certificate is not yet valid");
    /* Debian's roots do not know this private CA */
    if (access(PKI_TRUST_SYSTEM_BUNDLE, R_OK) == 0) {
        CHECK_INT_EQ(pki_trust_new_system(NULL, &system), CLM_OK);
        CHECK_INT_EQ(pki_chain_verify(&set.chains[0], system, 0, at(3600), &res), CLM_ERR_CRYPTO);
        CHECK(res.code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
              res.code == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
        pki_trust_free(system);
    }
    CHECK_INT_EQ(pki_trust_new_system("/nonexistent/bundle.pem", &system), CLM_ERR_NOT_FOUND);
    CHECK(system == NULL);
    pki_trust_free(trust);
    pki_chain_set_free(&set);
}

int main(void)
{
    clm_clock_fake_init(&fake, TC_T0 * CLM_NS_PER_SEC);
    root_key = tc_key(PKI_KEY_EC_P256);
    int_key = tc_key(PKI_KEY_EC_P256);
    leaf_key = tc_key(PKI_KEY_EC_P256);
    other_key = tc_key(PKI_KEY_EC_P256);
    root = tc_ca("CN=Chain Root,O=clm test", root_key, NULL, NULL, -86400, 3650 * 86400);
    inter = tc_ca("CN=Chain Intermediate,O=clm test", int_key, root, root_key, -86400, 365 * 86400);
    leaf = tc_leaf("CN=a.example", "DNS:a.example", leaf_key, inter, int_key, -3600, 30 * 86400);
    leaf2 = tc_leaf("CN=b.example", "DNS:b.example", leaf_key, inter, int_key, -3600, 30 * 86400);
    {
        /* same issuer name as leaf, but issued by a re-keyed intermediate not in the bag */
        X509 *rekeyed = tc_ca("CN=Chain Intermediate,O=clm test", other_key, root, root_key, -86400,
                              365 * 86400);
        orphan = tc_leaf("CN=c.example", NULL, leaf_key, rekeyed, other_key, -3600, 86400);
        X509_free(rekeyed);
    }
    UNIT_RUN(test_order);
    UNIT_RUN(test_missing);
    UNIT_RUN(test_key_identifier);
    UNIT_RUN(test_verify);
    X509_free(root);
    X509_free(inter);
    X509_free(leaf);
    X509_free(leaf2);
    X509_free(orphan);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(int_key);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(other_key);
    return unit_report();
}
