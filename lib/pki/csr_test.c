/*
 * lib/pki/csr_test.c: the CSR field rules (table-driven), policy checks, building and
 * reading requests back, key generation of the new key types. Built against OpenSSL by
 * Bazel and against BoringSSL by boringssl_test.sh.
 */
#include "lib/base/buf.h"
#include "lib/pki/csr.h"
#include "lib/pki/key.h"
#include "tests/unit.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

static EVP_PKEY *ec_key, *rsa_key;

/* A valid request; each case changes one or two fields. */
static pki_csr_fields good(void)
{
    pki_csr_fields f = {
        .common_name = "www.example.com",
        .sans = "www.example.com, example.com,192.0.2.10 , 2001:db8::10,*.api.example.com",
        .organization = "Example Ltd",
        .org_unit = "Web",
        .locality = "Z\xc3\xbcrich",
        .state = "ZH",
        .country = "CH",
        .email = "pki-team@example.com",
        .challenge_password = "Chall3nge!",
        .hash = PKI_HASH_SHA256,
    };
    return f;
}

UNIT_TEST(test_rules)
{
    static const struct {
        const char *field;
        const char *value;
        const char *message; /* NULL: valid */
    } cases[] = {
        {"common_name", NULL, "csr.common_name: required"},
        {"common_name", "a234567890123456789012345678901234567890123456789012345678901234567890",
         "csr.common_name: 70 characters, at most 64"},
        {"common_name", "a234567890123456789012345678901234567890123456789012345678901234", NULL},
        {"common_name", "my host", "csr.common_name: a space (byte 3) is not allowed"},
        {"common_name", "shop&co", "csr.common_name: '&' (character 5) is not allowed"},
        {"common_name", "under_score-host", NULL},
        {"common_name", "*.example.com", NULL},
        {"common_name", "a*.example.com", "'*' (character 2) is not allowed"},
        {"common_name", "example..com", "csr.common_name: \"example..com\" has an empty label"},
        {"common_name", "M\xc3\xbcller", "a non-ASCII character (byte 2)"},
        {"sans", "a.example.com,,b.example.com", "csr.sans[1]: empty entry"},
        {"sans", "a.example.com, my host", "csr.sans[1]: \"my host\" is not a DNS name"},
        {"sans", "*.com", "csr.sans[0]: \"*.com\": a wildcard needs at least two labels"},
        {"sans", "a.*.example.com", "csr.sans[0]: \"a.*.example.com\" is not a DNS name"},
        {"sans", "A.example.com, a.EXAMPLE.com", "csr.sans[1]: \"a.EXAMPLE.com\" is listed twice"},
        {"sans", "10.0.0.1, ::1, xn--mnchen-3ya.de", NULL},
        {"sans", "999.1.1.1", "csr.sans[0]: \"999.1.1.1\" is not a DNS name"},
        {"country", "usa", "csr.country: \"usa\" is not 2 upper-case letters"},
        {"country", "us", "csr.country: \"us\" is not 2 upper-case letters"},
        {"country", "U1", "is not 2 upper-case letters"},
        {"country", "US", NULL},
        {"email", "someone", "csr.email: not an address of the form name@example.com"},
        {"email", "a..b@example.com", "csr.email: the part before '@' has a character"},
        {"email", "a@localhost", "csr.email: the domain after '@' is not a DNS name"},
        {"email", "first.last+tag@mail.example.org", NULL},
        {"challenge_password", "short1!", "csr.challenge_password: 7 characters; 8 to 255"},
        {"challenge_password", "alllowercase1!", "missing: an upper-case letter"},
        {"challenge_password", "NoDigitsHere!", "missing: a digit"},
        {"challenge_password", "NoSpecial123", "missing: a special character"},
        {"challenge_password", "abcdefgh", "missing: an upper-case letter, a digit, a special"},
        {"organization", "", "csr.organization: empty"},
        {"organization", "bad\x01text", "csr.organization: not UTF-8 text, or holds a control"},
        {"locality", "\xff\xfe", "csr.locality: not UTF-8 text"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pki_csr_fields f = good();
        clm_err err;

        if (strcmp(cases[i].field, "common_name") == 0)
            f.common_name = cases[i].value;
        else if (strcmp(cases[i].field, "sans") == 0)
            f.sans = cases[i].value;
        else if (strcmp(cases[i].field, "country") == 0)
            f.country = cases[i].value;
        else if (strcmp(cases[i].field, "email") == 0)
            f.email = cases[i].value;
        else if (strcmp(cases[i].field, "challenge_password") == 0)
            f.challenge_password = cases[i].value;
        else if (strcmp(cases[i].field, "organization") == 0)
            f.organization = cases[i].value;
        else if (strcmp(cases[i].field, "locality") == 0)
            f.locality = cases[i].value;
        err = pki_csr_check(&f, NULL, ec_key);
        if (cases[i].message == NULL) {
            if (err == CLM_OK)
                unit_passed++;
            else
                UNIT_FAIL_AT(__FILE__, __LINE__, "case %zu (%s): %s", i, cases[i].field,
                             clm_error_message());
        } else {
            CHECK_INT_EQ(err, CLM_ERR_INVALID_ARGUMENT);
            CHECK_STR_CONTAINS(clm_error_message(), cases[i].message);
        }
    }
}

UNIT_TEST(test_every_violation_listed)
{
    pki_csr_fields f = good();

    f.common_name = "bad name";
    f.country = "usa";
    f.challenge_password = "Chall3nge!x"; /* valid, and never quoted */
    f.hash = PKI_HASH_SHA1;
    CHECK_INT_EQ(pki_csr_check(&f, NULL, ec_key), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "csr.common_name: a space");
    CHECK_STR_CONTAINS(clm_error_message(), "; csr.country: \"usa\"");
    CHECK_STR_CONTAINS(clm_error_message(),
                       "; csr.hash: SHA1 is not allowed by the group policy (allowed: SHA256, "
                       "SHA384, SHA512)");
    CHECK(strstr(clm_error_message(), "Chall3nge") == NULL);
}

UNIT_TEST(test_policy)
{
    const pki_key_type only_rsa[] = {PKI_KEY_RSA_3072, PKI_KEY_RSA_2048};
    const pki_hash only_384[] = {PKI_HASH_SHA384};
    pki_csr_policy policy = {only_rsa, 2, only_384, 1, true, true};
    pki_csr_fields f = good();

    CHECK_INT_EQ(pki_csr_check(&f, &policy, ec_key), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(),
                       "csr.hash: SHA256 is not allowed by the group policy (allowed: SHA384)");
    CHECK_STR_CONTAINS(clm_error_message(), "csr.key_type: ec-p256 is not allowed by the group "
                                            "policy (allowed: rsa-3072, rsa-2048)");
    f.hash = PKI_HASH_SHA384;
    CHECK_INT_EQ(pki_csr_check(&f, &policy, rsa_key), CLM_OK);
    f.country = NULL;
    f.email = NULL;
    CHECK_INT_EQ(pki_csr_check(&f, &policy, rsa_key), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "csr.country: required by the group policy; "
                                            "csr.email: required by the group policy");
}

UNIT_TEST(test_build_and_parse)
{
    pki_csr_fields f = good();
    clm_buf pem = CLM_BUF_INIT;
    pki_facts *facts = NULL;

    CHECK_INT_EQ(pki_csr_build(&f, NULL, ec_key, &pem), CLM_OK);
    CHECK_STR_CONTAINS(clm_buf_str(&pem), "-----BEGIN CERTIFICATE REQUEST-----");
    CHECK_INT_EQ(pki_csr_parse(pem.data, pem.len, &facts), CLM_OK);
    if (facts != NULL) {
        CHECK_STR_EQ(facts->subject, "emailAddress=pki-team@example.com,CN=www.example.com,"
                                     "OU=Web,O=Example Ltd,L=Z\xc3\xbcrich,ST=ZH,C=CH");
        CHECK_STR_EQ(facts->common_name, "www.example.com");
        CHECK_INT_EQ(facts->dns_names.n, 3);
        CHECK_STR_EQ(facts->dns_names.n == 3 ? facts->dns_names.v[2] : NULL, "*.api.example.com");
        CHECK_INT_EQ(facts->ip_addresses.n, 2);
        CHECK_STR_EQ(facts->ip_addresses.n == 2 ? facts->ip_addresses.v[1] : NULL, "2001:db8::10");
        CHECK_INT_EQ(facts->key_alg, PKI_KEY_ALG_EC);
        CHECK_STR_EQ(facts->key_curve, "P-256");
        CHECK_STR_EQ(facts->signature_algorithm, "ecdsa-with-SHA256");
        CHECK(facts->issuer == NULL && facts->serial == NULL && facts->version == 1);
    }
    pki_facts_free(facts);
    /* damage the signature: base64 text near the end changes the signature bytes */
    char *end = strstr((char *)pem.data, "-----END");
    if (end != NULL && end - (char *)pem.data > 10) {
        char *c = end - 6;
        *c = *c == 'A' ? 'B' : 'A';
        CHECK_INT_EQ(pki_csr_parse(pem.data, pem.len, &facts), CLM_ERR_CRYPTO);
        CHECK_STR_CONTAINS(clm_error_message(), "signature does not verify");
    }
    CHECK_INT_EQ(pki_csr_parse("garbage", 7, &facts), CLM_ERR_PARSE);
    clm_buf_free(&pem);
    f.hash = PKI_HASH_SHA512;
    f.sans = NULL;
    f.challenge_password = NULL;
    CHECK_INT_EQ(pki_csr_build(&f, NULL, rsa_key, &pem), CLM_OK);
    CHECK_INT_EQ(pki_csr_parse(pem.data, pem.len, &facts), CLM_OK);
    CHECK_STR_EQ(facts ? facts->signature_algorithm : NULL, "sha512WithRSAEncryption");
    CHECK_INT_EQ(facts ? facts->key_bits : 0, 2048);
    pki_facts_free(facts);
    clm_buf_free(&pem);
}

UNIT_TEST(test_names_and_key_types)
{
    pki_hash h;
    pki_key_type t;
    EVP_PKEY *p521 = NULL;

    CHECK(pki_hash_parse("sha-384", &h) == CLM_OK && h == PKI_HASH_SHA384);
    CHECK(pki_hash_parse("SHA256", &h) == CLM_OK && h == PKI_HASH_SHA256);
    CHECK_INT_EQ(pki_hash_parse("md5", &h), CLM_ERR_INVALID_ARGUMENT);
    CHECK(pki_key_type_parse("EC-P521", &t) == CLM_OK && t == PKI_KEY_EC_P521);
    CHECK(pki_key_type_parse("RSA-8192", &t) == CLM_OK && t == PKI_KEY_RSA_8192);
    CHECK_INT_EQ(pki_key_type_parse("rsa-1024", &t), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "rsa-7680");
    CHECK_INT_EQ(pki_key_generate(PKI_KEY_EC_P521, &p521), CLM_OK);
    CHECK(pki_key_type_of(p521, &t) == CLM_OK && t == PKI_KEY_EC_P521);
    CHECK(pki_key_type_of(rsa_key, &t) == CLM_OK && t == PKI_KEY_RSA_2048);
    CHECK(pki_key_type_of(ec_key, &t) == CLM_OK && t == PKI_KEY_EC_P256);
    EVP_PKEY_free(p521);
}

/* pki_csr_read hands over the verified request; pki_key_type_of_request reads its key's
 * type from the request as pki_key_type_of does from the key. */
UNIT_TEST(test_read_and_key_type)
{
    const pki_key_type types[] = {PKI_KEY_EC_P256, PKI_KEY_EC_P384, PKI_KEY_EC_P521,
                                  PKI_KEY_RSA_2048};
    pki_csr_fields f = {.common_name = "read.example.com", .hash = PKI_HASH_SHA256};

    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        EVP_PKEY *key = NULL, *pub = NULL;
        X509_REQ *req = NULL;
        clm_buf pem = CLM_BUF_INIT;
        pki_key_type t = PKI_KEY_TYPE_MAX, from_key = PKI_KEY_TYPE_MAX;

        CHECK_INT_EQ(pki_key_generate(types[i], &key), CLM_OK);
        CHECK_INT_EQ(pki_csr_build(&f, NULL, key, &pem), CLM_OK);
        CHECK_INT_EQ(pki_csr_read(pem.data, pem.len, &req), CLM_OK);
        pub = req ? X509_REQ_get_pubkey(req) : NULL;
        CHECK_INT_EQ(pki_key_type_of_request(req, pub, &t), CLM_OK);
        CHECK_INT_EQ(t, types[i]);
        CHECK_INT_EQ(pki_key_type_of(key, &from_key), CLM_OK);
        CHECK_INT_EQ(from_key, types[i]);
        EVP_PKEY_free(pub);
        X509_REQ_free(req);
        /* one bit of the signature flipped: the request does not verify */
        if (pem.len > 0) {
            unsigned char *der = NULL;
            int len;
            req = NULL;
            CHECK_INT_EQ(pki_csr_read(pem.data, pem.len, &req), CLM_OK);
            len = req ? i2d_X509_REQ(req, &der) : 0;
            X509_REQ_free(req);
            req = NULL;
            CHECK(len > 8);
            if (len > 8) {
                der[len - 3] ^= 0x10;
                CHECK_INT_EQ(pki_csr_read(der, (size_t)len, &req), CLM_ERR_CRYPTO);
                CHECK(req == NULL);
            }
            OPENSSL_free(der);
        }
        clm_buf_free(&pem);
        EVP_PKEY_free(key);
    }
    {
        X509_REQ *req = NULL;
        CHECK_INT_EQ(pki_csr_read("junk", 4, &req), CLM_ERR_PARSE);
    }
}

int main(void)
{
    if (pki_key_generate(PKI_KEY_EC_P256, &ec_key) != CLM_OK ||
        pki_key_generate(PKI_KEY_RSA_2048, &rsa_key) != CLM_OK)
        return 1;
    UNIT_RUN(test_rules);
    UNIT_RUN(test_every_violation_listed);
    UNIT_RUN(test_policy);
    UNIT_RUN(test_build_and_parse);
    UNIT_RUN(test_names_and_key_types);
    UNIT_RUN(test_read_and_key_type);
    EVP_PKEY_free(ec_key);
    EVP_PKEY_free(rsa_key);
    return unit_report();
}
