/*
 * lib/pki/pki_test.c: unit tests of lib/pki. Built twice: by Bazel against OpenSSL 3
 * (pki_test) and by boringssl_test.sh against Android BoringSSL, so it too keeps to the
 * API both libraries share.
 */
#include "lib/base/buf.h"
#include "lib/base/clock.h"
#include "lib/base/error.h"
#include "lib/pki/cert.h"
#include "lib/pki/file.h"
#include "lib/pki/key.h"
#include "lib/pki/name.h"
#include "lib/pki/pkcs12.h"
#include "lib/pki/random.h"
#include "tests/unit.h"

#include <dirent.h>
#include <openssl/crypto.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 2026-01-01T00:00:00Z */
#define T0 INT64_C(1767225600)

static clm_clock_fake fake_clock;

/* One CA for the tests that need one. */
static EVP_PKEY *ca_key;
static X509 *ca_cert;

static const clm_clock *at(int64_t seconds)
{
    clm_clock_fake_set(&fake_clock, seconds * CLM_NS_PER_SEC);
    return &fake_clock.clock;
}

static int ext_critical(X509 *x, int nid)
{
    int idx = X509_get_ext_by_NID(x, nid, -1);

    return idx < 0 ? -1 : X509_EXTENSION_get_critical(X509_get_ext(x, idx));
}

static int octets_equal(const ASN1_OCTET_STRING *a, const ASN1_OCTET_STRING *b)
{
    return a != NULL && b != NULL && ASN1_STRING_length(a) == ASN1_STRING_length(b) &&
           memcmp(ASN1_STRING_get0_data(a), ASN1_STRING_get0_data(b),
                  (size_t)ASN1_STRING_length(a)) == 0;
}

UNIT_TEST(test_library)
{
#ifdef OPENSSL_IS_BORINGSSL
    printf("library: BoringSSL\n");
#else
    printf("library: %s\n", OpenSSL_version(OPENSSL_VERSION));
#endif
    CHECK(1);
}

UNIT_TEST(test_random_password)
{
    const char *alphabet = pki_random_password_alphabet();
    char a[PKI_PASSWORD_LENGTH + 1], b[PKI_PASSWORD_LENGTH + 1];
    int seen[256] = {0};
    int bad = 0;

    CHECK_INT_EQ(strlen(alphabet), 56);
    CHECK(strpbrk(alphabet, "0Oo1Il") == NULL);
    CHECK_INT_EQ(pki_random_password(a, sizeof a, PKI_PASSWORD_LENGTH), CLM_OK);
    CHECK_INT_EQ(pki_random_password(b, sizeof b, PKI_PASSWORD_LENGTH), CLM_OK);
    CHECK_INT_EQ(strlen(a), 24);
    CHECK(strspn(a, alphabet) == 24);
    CHECK(strcmp(a, b) != 0);
    /* 5600 characters: every one of 56 should appear (a miss has odds ~ 56 * e^-100). */
    for (int round = 0; round < 100; round++) {
        char p[57];
        CHECK_INT_EQ(pki_random_password(p, sizeof p, 56), CLM_OK);
        for (int i = 0; i < 56; i++) {
            if (strchr(alphabet, p[i]) == NULL)
                bad++;
            seen[(unsigned char)p[i]]++;
        }
    }
    CHECK_INT_EQ(bad, 0);
    for (const char *c = alphabet; *c; c++)
        CHECK(seen[(unsigned char)*c] > 0);
    /* too small a buffer, zero length */
    CHECK_INT_EQ(pki_random_password(a, 24, 24), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(pki_random_password(a, sizeof a, 0), CLM_ERR_INVALID_ARGUMENT);

    unsigned char bytes[32] = {0}, zero[32] = {0};
    CHECK_INT_EQ(pki_random_bytes(bytes, sizeof bytes), CLM_OK);
    CHECK(memcmp(bytes, zero, sizeof bytes) != 0);
    CHECK_INT_EQ(pki_random_bytes(NULL, 0), CLM_OK);
}

UNIT_TEST(test_key_types)
{
    static const struct {
        pki_key_type type;
        int id;
        int bits;
    } cases[] = {
        {PKI_KEY_EC_P256, EVP_PKEY_EC, 256},
        {PKI_KEY_EC_P384, EVP_PKEY_EC, 384},
        {PKI_KEY_RSA_2048, EVP_PKEY_RSA, 2048},
    };
    pki_key_type parsed;

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        EVP_PKEY *key = NULL, *again = NULL;
        clm_buf pem = CLM_BUF_INIT, pem2 = CLM_BUF_INIT;

        CHECK_INT_EQ(pki_key_generate(cases[i].type, &key), CLM_OK);
        CHECK(key != NULL);
        if (key == NULL)
            continue;
        CHECK_INT_EQ(EVP_PKEY_id(key), cases[i].id);
        CHECK_INT_EQ(EVP_PKEY_bits(key), cases[i].bits);
        CHECK_INT_EQ(pki_key_is_rsa(key), cases[i].id == EVP_PKEY_RSA);
        CHECK_INT_EQ(pki_key_to_pem(key, &pem), CLM_OK);
        CHECK_STR_CONTAINS(clm_buf_str(&pem), "-----BEGIN PRIVATE KEY-----");
        CHECK_INT_EQ(pki_key_from_pem(pem.data, pem.len, &again), CLM_OK);
        CHECK_INT_EQ(pki_key_to_pem(again, &pem2), CLM_OK);
        CHECK_STR_EQ(clm_buf_str(&pem2), clm_buf_str(&pem));
        CHECK_INT_EQ(pki_key_type_parse(pki_key_type_name(cases[i].type), &parsed), CLM_OK);
        CHECK_INT_EQ(parsed, cases[i].type);
        EVP_PKEY_free(key);
        EVP_PKEY_free(again);
        clm_buf_wipe(&pem);
        clm_buf_wipe(&pem2);
    }
    CHECK_INT_EQ(pki_key_type_parse("dsa-1024", &parsed), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "dsa-1024");
    CHECK_INT_EQ(pki_key_generate(PKI_KEY_TYPE_MAX, &(EVP_PKEY *){NULL}), CLM_ERR_INVALID_ARGUMENT);
}

UNIT_TEST(test_key_pem_errors)
{
    static const char garbage[] = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n"
                                  "-----END PRIVATE KEY-----\n";
    static const char encrypted[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
                                    "-----END ENCRYPTED PRIVATE KEY-----\n";
    EVP_PKEY *key = (EVP_PKEY *)1;

    CHECK_INT_EQ(pki_key_from_pem(garbage, sizeof garbage - 1, &key), CLM_ERR_PARSE);
    CHECK(key == NULL);
    CHECK_STR_CONTAINS(clm_error_message(), "no private key");
    CHECK_INT_EQ(pki_key_from_pem(encrypted, sizeof encrypted - 1, &key), CLM_ERR_UNSUPPORTED);
    CHECK_INT_EQ(pki_key_from_pem("", 0, &key), CLM_ERR_PARSE);
}

UNIT_TEST(test_names)
{
    static const struct {
        const char *name;
        bool wildcard;
        clm_err want;
        const char *why;
    } cases[] = {
        {"example.com", false, CLM_OK, NULL},
        {"localhost", false, CLM_OK, NULL},
        {"a-b.c-d.example", false, CLM_OK, NULL},
        {"xn--bcher-kva.example", false, CLM_OK, NULL},
        {"*.example.com", true, CLM_OK, NULL},
        {"*.example.com", false, CLM_ERR_INVALID_ARGUMENT, "'*'"},
        {"my host", false, CLM_ERR_INVALID_ARGUMENT, "a space"},
        {"under_score", false, CLM_ERR_INVALID_ARGUMENT, "underscore"},
        {"-lead.example", false, CLM_ERR_INVALID_ARGUMENT, "'-'"},
        {"trail-.example", false, CLM_ERR_INVALID_ARGUMENT, "'-'"},
        {"a..b", false, CLM_ERR_INVALID_ARGUMENT, "empty label"},
        {"dot.", false, CLM_ERR_INVALID_ARGUMENT, "trailing dot"},
        {"1.2.3", false, CLM_ERR_INVALID_ARGUMENT, "all digits"},
        {"", false, CLM_ERR_INVALID_ARGUMENT, "empty"},
        {"b\xc3\xbc"
         "cher.example",
         false, CLM_ERR_INVALID_ARGUMENT, "xn--"},
        {"a.0123456789012345678901234567890123456789012345678901234567890123", false,
         CLM_ERR_INVALID_ARGUMENT, "63"},
    };
    unsigned char ip[PKI_IP_MAX_BYTES];
    size_t ip_len = 0;
    char text[64];

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        clm_err err = pki_name_check_dns(cases[i].name, cases[i].wildcard);
        CHECK_INT_EQ(err, cases[i].want);
        if (cases[i].why != NULL)
            CHECK_STR_CONTAINS(clm_error_message(), cases[i].why);
    }
    CHECK(pki_name_parse_ip("127.0.0.1", ip, &ip_len) && ip_len == 4 && ip[0] == 127);
    CHECK(pki_name_parse_ip("::1", ip, &ip_len) && ip_len == 16 && ip[15] == 1);
    CHECK(!pki_name_parse_ip("1.2.3", NULL, NULL));
    CHECK(!pki_name_parse_ip("[::1]", NULL, NULL));
    CHECK(!pki_name_parse_ip("fe80::1%eth0", NULL, NULL));
    CHECK_INT_EQ(pki_name_format_ip(ip, 16, text, sizeof text), CLM_OK);
    CHECK_STR_EQ(text, "::1");
    CHECK_INT_EQ(pki_name_format_ip(ip, 5, text, sizeof text), CLM_ERR_PARSE);
}

UNIT_TEST(test_ca)
{
    int64_t nb = 0, na = 0;
    char *subject = NULL, *issuer = NULL;
    BASIC_CONSTRAINTS *bc;

    CHECK_INT_EQ(pki_key_generate(PKI_KEY_EC_P256, &ca_key), CLM_OK);
    CHECK_INT_EQ(pki_cert_create_ca(ca_key, "clm test CA", "clm", 3650, at(T0), &ca_cert), CLM_OK);
    if (ca_cert == NULL)
        return;
    CHECK_INT_EQ(X509_get_version(ca_cert), 2);
    CHECK_INT_EQ(pki_cert_validity(ca_cert, &nb, &na), CLM_OK);
    CHECK_INT_EQ(nb, T0 - PKI_CERT_BACKDATE_SECONDS);
    CHECK_INT_EQ(na, T0 + 3650 * INT64_C(86400));
    CHECK_INT_EQ(pki_cert_subject(ca_cert, &subject), CLM_OK);
    CHECK_STR_EQ(subject, "CN=clm test CA,O=clm");
    CHECK_INT_EQ(pki_cert_issuer(ca_cert, &issuer), CLM_OK);
    CHECK_STR_EQ(issuer, subject);
    CHECK_INT_EQ(X509_check_ca(ca_cert), 1);
    CHECK_INT_EQ(ext_critical(ca_cert, NID_basic_constraints), 1);
    CHECK_INT_EQ(ext_critical(ca_cert, NID_key_usage), 1);
    bc = X509_get_ext_d2i(ca_cert, NID_basic_constraints, NULL, NULL);
    CHECK(bc != NULL && bc->ca && bc->pathlen != NULL && ASN1_INTEGER_get(bc->pathlen) == 0);
    BASIC_CONSTRAINTS_free(bc);
    CHECK_INT_EQ(X509_get_key_usage(ca_cert), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    CHECK(X509_get0_subject_key_id(ca_cert) != NULL);
    /* a self-signed CA verifies against itself */
    CHECK_INT_EQ(pki_cert_verify(ca_cert, ca_cert, 0, at(T0)), CLM_OK);
    CHECK_INT_EQ(pki_cert_check_key(ca_cert, ca_key), CLM_OK);
    free(subject);
    free(issuer);

    X509 *bad = NULL;
    CHECK_INT_EQ(pki_cert_create_ca(ca_key, NULL, NULL, 10, at(T0), &bad),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(pki_cert_create_ca(ca_key, "x", NULL, 0, at(T0), &bad), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(pki_cert_create_ca(ca_key,
                                    "0123456789012345678901234567890123456789"
                                    "0123456789012345678901234",
                                    NULL, 10, at(T0), &bad),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK(bad == NULL);
}

UNIT_TEST(test_leaf)
{
    static const char *const dns[] = {"app.example.com", "*.svc.example.com"};
    static const char *const ips[] = {"192.0.2.7", "2001:db8::1"};
    pki_cert_template tmpl = {
        .common_name = "app.example.com",
        .organization = "Example",
        .org_unit = "operator",
        .dns_names = dns,
        .n_dns_names = 2,
        .ip_addresses = ips,
        .n_ip_addresses = 2,
        .days = 90,
        .eku = PKI_EKU_SERVER_AUTH | PKI_EKU_CLIENT_AUTH,
    };
    EVP_PKEY *key = NULL, *rsa = NULL;
    X509 *leaf = NULL, *rsa_leaf = NULL, *again = NULL;
    char *s = NULL, **sans = NULL;
    size_t n_sans = 0;
    int64_t nb = 0, na = 0;
    char fp[PKI_FINGERPRINT_HEX_SIZE], fp2[PKI_FINGERPRINT_HEX_SIZE];
    clm_buf pem = CLM_BUF_INIT;

    if (ca_cert == NULL)
        return;
    CHECK_INT_EQ(pki_key_generate(PKI_KEY_EC_P256, &key), CLM_OK);
    CHECK_INT_EQ(pki_cert_issue(&tmpl, key, ca_cert, ca_key, at(T0 + 100), &leaf), CLM_OK);
    if (leaf == NULL)
        goto done;

    /* chains to the CA via X509_STORE / X509_verify_cert, for both purposes */
    CHECK_INT_EQ(pki_cert_verify(leaf, ca_cert, PKI_EKU_SERVER_AUTH, at(T0 + 200)), CLM_OK);
    CHECK_INT_EQ(pki_cert_verify(leaf, ca_cert, PKI_EKU_CLIENT_AUTH, at(T0 + 200)), CLM_OK);
    CHECK_INT_EQ(pki_cert_check_key(leaf, key), CLM_OK);
    CHECK_INT_EQ(pki_cert_check_key(leaf, ca_key), CLM_ERR_CRYPTO);
    /* clock skew allowance: valid 5 minutes before issuance, not 6 */
    CHECK_INT_EQ(pki_cert_verify(leaf, ca_cert, 0, at(T0 + 100 - 290)), CLM_OK);
    CHECK_INT_EQ(pki_cert_verify(leaf, ca_cert, 0, at(T0 + 100 - 400)), CLM_ERR_CRYPTO);
    /* expired after 90 days */
    CHECK_INT_EQ(pki_cert_verify(leaf, ca_cert, 0, at(T0 + 100 + 91 * 86400)), CLM_ERR_CRYPTO);
    CHECK_STR_CONTAINS(clm_error_message(), "expired");

    CHECK_INT_EQ(pki_cert_validity(leaf, &nb, &na), CLM_OK);
    CHECK_INT_EQ(nb, T0 + 100 - PKI_CERT_BACKDATE_SECONDS);
    CHECK_INT_EQ(na, T0 + 100 + 90 * INT64_C(86400));

    CHECK_INT_EQ(pki_cert_subject(leaf, &s), CLM_OK);
    CHECK_STR_EQ(s, "CN=app.example.com,OU=operator,O=Example");
    free(s);
    CHECK_INT_EQ(pki_cert_issuer(leaf, &s), CLM_OK);
    CHECK_STR_EQ(s, "CN=clm test CA,O=clm");
    free(s);
    CHECK_INT_EQ(pki_cert_subject_ou(leaf, &s), CLM_OK);
    CHECK_STR_EQ(s, "operator");
    free(s);
    CHECK_INT_EQ(pki_cert_subject_cn(leaf, &s), CLM_OK);
    CHECK_STR_EQ(s, "app.example.com");
    free(s);
    CHECK_INT_EQ(pki_cert_subject_ou(ca_cert, &s), CLM_ERR_NOT_FOUND);
    CHECK(s == NULL);

    CHECK_INT_EQ(pki_cert_sans(leaf, &sans, &n_sans), CLM_OK);
    CHECK_INT_EQ(n_sans, 4);
    if (n_sans == 4) {
        CHECK_STR_EQ(sans[0], "DNS:app.example.com");
        CHECK_STR_EQ(sans[1], "DNS:*.svc.example.com");
        CHECK_STR_EQ(sans[2], "IP:192.0.2.7");
        CHECK_STR_EQ(sans[3], "IP:2001:db8::1");
    }
    pki_strv_free(sans, n_sans);
    CHECK_INT_EQ(pki_cert_sans(ca_cert, &sans, &n_sans), CLM_OK);
    CHECK(sans == NULL && n_sans == 0);
    /* chklen 0 means strlen in OpenSSL only; BoringSSL then matches nothing */
    CHECK_INT_EQ(X509_check_host(leaf, "x.svc.example.com", 17, 0, NULL), 1);
    CHECK_INT_EQ(X509_check_ip_asc(leaf, "192.0.2.7", 0), 1);

    CHECK_INT_EQ(pki_cert_eku(leaf), PKI_EKU_SERVER_AUTH | PKI_EKU_CLIENT_AUTH);
    CHECK_INT_EQ(pki_cert_eku(ca_cert), 0);
    CHECK_INT_EQ(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE);
    CHECK_INT_EQ(ext_critical(leaf, NID_key_usage), 1);
    CHECK_INT_EQ(ext_critical(leaf, NID_basic_constraints), 1);
    CHECK_INT_EQ(X509_check_ca(leaf), 0);
    CHECK(octets_equal(X509_get0_authority_key_id(leaf), X509_get0_subject_key_id(ca_cert)));
    CHECK(X509_get0_subject_key_id(leaf) != NULL);

    /* serial: positive, at most 17 DER content octets, different per certificate */
    const ASN1_INTEGER *serial = X509_get0_serialNumber(leaf);
    CHECK(ASN1_STRING_type(serial) == V_ASN1_INTEGER); /* not V_ASN1_NEG_INTEGER */
    CHECK(ASN1_STRING_length(serial) >= 8 && ASN1_STRING_length(serial) <= 16);

    /* PEM round trip keeps the fingerprint */
    CHECK_INT_EQ(pki_cert_fingerprint_sha256(leaf, fp), CLM_OK);
    CHECK_INT_EQ(strlen(fp), 64);
    CHECK(strspn(fp, "0123456789abcdef") == 64);
    CHECK_INT_EQ(pki_cert_to_pem(leaf, &pem), CLM_OK);
    CHECK_STR_CONTAINS(clm_buf_str(&pem), "-----BEGIN CERTIFICATE-----");
    CHECK_INT_EQ(pki_cert_from_pem(pem.data, pem.len, &again), CLM_OK);
    CHECK_INT_EQ(pki_cert_fingerprint_sha256(again, fp2), CLM_OK);
    CHECK_STR_EQ(fp2, fp);
    CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(again), serial) == 0);
    X509_free(again);
    CHECK_INT_EQ(pki_cert_from_pem("junk", 4, &again), CLM_ERR_PARSE);
    CHECK(again == NULL);
    CHECK_STR_CONTAINS(clm_error_message(), "no certificate");

    /* RSA subject: keyEncipherment too; client only: not valid for a server */
    tmpl.eku = PKI_EKU_CLIENT_AUTH;
    CHECK_INT_EQ(pki_key_generate(PKI_KEY_RSA_2048, &rsa), CLM_OK);
    CHECK_INT_EQ(pki_cert_issue(&tmpl, rsa, ca_cert, ca_key, at(T0), &rsa_leaf), CLM_OK);
    if (rsa_leaf != NULL) {
        CHECK_INT_EQ(X509_get_key_usage(rsa_leaf), KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
        CHECK_INT_EQ(pki_cert_eku(rsa_leaf), PKI_EKU_CLIENT_AUTH);
        CHECK_INT_EQ(pki_cert_verify(rsa_leaf, ca_cert, PKI_EKU_CLIENT_AUTH, at(T0)), CLM_OK);
        CHECK_INT_EQ(pki_cert_verify(rsa_leaf, ca_cert, PKI_EKU_SERVER_AUTH, at(T0)),
                     CLM_ERR_CRYPTO);
        /* a leaf is not a CA: nothing verifies against it */
        CHECK_INT_EQ(pki_cert_verify(leaf, rsa_leaf, 0, at(T0)), CLM_ERR_CRYPTO);
    }
done:
    clm_buf_free(&pem);
    X509_free(leaf);
    X509_free(rsa_leaf);
    X509_free(again);
    EVP_PKEY_free(key);
    EVP_PKEY_free(rsa);
}

UNIT_TEST(test_leaf_template_errors)
{
    static const char *const bad_dns[] = {"ok.example", "bad name.example"};
    static const char *const bad_ip[] = {"300.1.1.1"};
    pki_cert_template base = {.common_name = "x", .days = 30, .eku = PKI_EKU_SERVER_AUTH};
    pki_cert_template t;
    EVP_PKEY *key = NULL, *other = NULL;
    X509 *x = NULL;

    if (ca_cert == NULL)
        return;
    CHECK_INT_EQ(pki_key_generate(PKI_KEY_EC_P256, &key), CLM_OK);

    t = base;
    t.dns_names = bad_dns;
    t.n_dns_names = 2;
    CHECK_INT_EQ(pki_cert_issue(&t, key, ca_cert, ca_key, at(T0), &x), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "dns_names[1]");
    CHECK_STR_CONTAINS(clm_error_message(), "bad name.example");

    t = base;
    t.ip_addresses = bad_ip;
    t.n_ip_addresses = 1;
    CHECK_INT_EQ(pki_cert_issue(&t, key, ca_cert, ca_key, at(T0), &x), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "300.1.1.1");

    t = base;
    t.eku = 0;
    CHECK_INT_EQ(pki_cert_issue(&t, key, ca_cert, ca_key, at(T0), &x), CLM_ERR_INVALID_ARGUMENT);
    t = base;
    t.common_name = NULL;
    CHECK_INT_EQ(pki_cert_issue(&t, key, ca_cert, ca_key, at(T0), &x), CLM_ERR_INVALID_ARGUMENT);
    t = base;
    t.org_unit = "bad\nou";
    CHECK_INT_EQ(pki_cert_issue(&t, key, ca_cert, ca_key, at(T0), &x), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "org_unit");
    /* cannot outlive the CA (3650 days from T0) */
    t = base;
    t.days = 3651;
    CHECK_INT_EQ(pki_cert_issue(&t, key, ca_cert, ca_key, at(T0), &x), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "outlive");
    /* a CA key that does not belong to the CA certificate */
    CHECK_INT_EQ(pki_key_generate(PKI_KEY_EC_P256, &other), CLM_OK);
    CHECK_INT_EQ(pki_cert_issue(&base, key, ca_cert, other, at(T0), &x), CLM_ERR_INVALID_ARGUMENT);
    CHECK(x == NULL);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

UNIT_TEST(test_ou_ambiguous)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_get_subject_name(x);
    char *ou = NULL;

    X509_NAME_add_entry_by_NID(name, NID_organizationalUnitName, MBSTRING_UTF8,
                               (const unsigned char *)"viewer", -1, -1, 0);
    X509_NAME_add_entry_by_NID(name, NID_organizationalUnitName, MBSTRING_UTF8,
                               (const unsigned char *)"admin", -1, -1, 0);
    CHECK_INT_EQ(pki_cert_subject_ou(x, &ou), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "more than one OU");
    CHECK(ou == NULL);
    X509_free(x);
}

/* DER of the OIDs pbeWithSHAAnd3-KeyTripleDES-CBC (1.2.840.113549.1.12.1.3) and
 * PBES2 (1.2.840.113549.1.5.13): the first must be used, the second never. */
static const unsigned char oid_3des[] = {0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86,
                                         0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x03};
static const unsigned char oid_pbes2[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                          0xf7, 0x0d, 0x01, 0x05, 0x0d};

UNIT_TEST(test_pkcs12)
{
    pki_cert_template tmpl = {
        .common_name = "clm-admin", .org_unit = "admin", .days = 30, .eku = PKI_EKU_CLIENT_AUTH};
    EVP_PKEY *key = NULL;
    X509 *leaf = NULL;
    X509 *chain[1];
    clm_buf der = CLM_BUF_INIT;
    pki_pkcs12_contents c;
    char password[PKI_PASSWORD_LENGTH + 1];
    char fp_ca[PKI_FINGERPRINT_HEX_SIZE], fp[PKI_FINGERPRINT_HEX_SIZE];

    if (ca_cert == NULL)
        return;
    CHECK_INT_EQ(pki_key_generate(PKI_KEY_EC_P256, &key), CLM_OK);
    CHECK_INT_EQ(pki_cert_issue(&tmpl, key, ca_cert, ca_key, at(T0), &leaf), CLM_OK);
    CHECK_INT_EQ(pki_random_password(password, sizeof password, PKI_PASSWORD_LENGTH), CLM_OK);
    chain[0] = ca_cert;
    CHECK_INT_EQ(pki_pkcs12_write(key, leaf, chain, 1, "clm admin", password, &der), CLM_OK);
    CHECK(der.len > 0);
    CHECK(memmem(der.data, der.len, oid_3des, sizeof oid_3des) != NULL);
    CHECK(memmem(der.data, der.len, oid_pbes2, sizeof oid_pbes2) == NULL);

    /* the right password */
    CHECK_INT_EQ(pki_pkcs12_read(der.data, der.len, password, &c), CLM_OK);
    CHECK(c.key != NULL && c.cert != NULL);
    CHECK_INT_EQ(pki_cert_check_key(leaf, c.key), CLM_OK);
    CHECK_INT_EQ(pki_cert_check_key(c.cert, c.key), CLM_OK);
    CHECK_INT_EQ(c.n_chain, 1);
    if (c.n_chain == 1) {
        CHECK_INT_EQ(pki_cert_fingerprint_sha256(ca_cert, fp_ca), CLM_OK);
        CHECK_INT_EQ(pki_cert_fingerprint_sha256(c.chain[0], fp), CLM_OK);
        CHECK_STR_EQ(fp, fp_ca);
        CHECK_INT_EQ(pki_cert_verify(c.cert, c.chain[0], PKI_EKU_CLIENT_AUTH, at(T0)), CLM_OK);
    }
    CHECK_STR_EQ(c.friendly_name, "clm admin");
    pki_pkcs12_contents_free(&c);
    CHECK(c.key == NULL && c.chain == NULL);

    /* a wrong password: a distinct error, nothing returned, the password not echoed */
    CHECK_INT_EQ(pki_pkcs12_read(der.data, der.len, "wrong-password", &c), CLM_ERR_UNAUTHENTICATED);
    CHECK(c.key == NULL && c.cert == NULL);
    CHECK_STR_CONTAINS(clm_error_message(), "wrong password");
    CHECK(strstr(clm_error_message(), "wrong-password") == NULL);
    /* not a PKCS#12 */
    CHECK_INT_EQ(pki_pkcs12_read("nonsense", 8, password, &c), CLM_ERR_PARSE);
    CHECK_INT_EQ(pki_pkcs12_read(der.data, 40, password, &c), CLM_ERR_PARSE);
    /* a damaged file cannot be told from a wrong password: both fail the MAC */
    der.data[der.len - 30] ^= 0x01;
    CHECK_INT_EQ(pki_pkcs12_read(der.data, der.len, password, &c), CLM_ERR_UNAUTHENTICATED);
    der.data[der.len - 30] ^= 0x01;
    CHECK_INT_EQ(pki_pkcs12_read(der.data, der.len, password, &c), CLM_OK);
    pki_pkcs12_contents_free(&c);
    /* no password, key not matching the certificate */
    CHECK_INT_EQ(pki_pkcs12_write(key, leaf, NULL, 0, NULL, "", &der), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(pki_pkcs12_write(ca_key, leaf, NULL, 0, NULL, password, &der),
                 CLM_ERR_INVALID_ARGUMENT);

    clm_memwipe(password, sizeof password);
    clm_buf_free(&der);
    X509_free(leaf);
    EVP_PKEY_free(key);
}

static int write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    FILE *f;
    int ok;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (f == NULL)
        return 0;
    ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static int read_file(const char *dir, const char *name, clm_buf *out)
{
    char path[4096], chunk[4096];
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        clm_buf_append(out, chunk, n);
    fclose(f);
    return 1;
}

/* Cross-library PKCS#12 (boringssl_test.sh): with CLM_PKI_EXPORT_DIR set, write a bundle
 * made by this build's library; with CLM_PKI_IMPORT_DIR set, read one the other library
 * made. */
UNIT_TEST(test_pkcs12_export)
{
    const char *dir = getenv("CLM_PKI_EXPORT_DIR");
    pki_cert_template tmpl = {
        .common_name = "clm-interop", .org_unit = "viewer", .days = 30, .eku = PKI_EKU_CLIENT_AUTH};
    EVP_PKEY *key = NULL;
    X509 *leaf = NULL;
    clm_buf der = CLM_BUF_INIT, pem = CLM_BUF_INIT;
    char password[PKI_PASSWORD_LENGTH + 1];

    if (dir == NULL || ca_cert == NULL)
        return;
    CHECK_INT_EQ(pki_key_generate(PKI_KEY_EC_P256, &key), CLM_OK);
    CHECK_INT_EQ(pki_cert_issue(&tmpl, key, ca_cert, ca_key, at(T0), &leaf), CLM_OK);
    CHECK_INT_EQ(pki_random_password(password, sizeof password, PKI_PASSWORD_LENGTH), CLM_OK);
    CHECK_INT_EQ(pki_pkcs12_write(key, leaf, &ca_cert, 1, "interop", password, &der), CLM_OK);
    CHECK_INT_EQ(pki_cert_to_pem(ca_cert, &pem), CLM_OK);
    CHECK(write_file(dir, "bundle.p12", der.data, der.len));
    CHECK(write_file(dir, "password", password, strlen(password)));
    CHECK(write_file(dir, "ca.pem", pem.data, pem.len));
    clm_buf_free(&der);
    clm_buf_free(&pem);
    X509_free(leaf);
    EVP_PKEY_free(key);
}

UNIT_TEST(test_pkcs12_import)
{
    const char *dir = getenv("CLM_PKI_IMPORT_DIR");
    clm_buf der = CLM_BUF_INIT, password = CLM_BUF_INIT, pem = CLM_BUF_INIT;
    pki_pkcs12_contents c;
    X509 *ca = NULL;
    char *ou = NULL;
    char fp_ca[PKI_FINGERPRINT_HEX_SIZE], fp[PKI_FINGERPRINT_HEX_SIZE];

    if (dir == NULL)
        return;
    CHECK(read_file(dir, "bundle.p12", &der) && read_file(dir, "password", &password) &&
          read_file(dir, "ca.pem", &pem));
    CHECK_INT_EQ(pki_cert_from_pem(pem.data, pem.len, &ca), CLM_OK);
    CHECK_INT_EQ(pki_pkcs12_read(der.data, der.len, clm_buf_str(&password), &c), CLM_OK);
    if (c.cert != NULL && ca != NULL) {
        CHECK_INT_EQ(pki_cert_check_key(c.cert, c.key), CLM_OK);
        CHECK_INT_EQ(pki_cert_verify(c.cert, ca, PKI_EKU_CLIENT_AUTH, at(T0)), CLM_OK);
        CHECK_INT_EQ(pki_cert_subject_ou(c.cert, &ou), CLM_OK);
        CHECK_STR_EQ(ou, "viewer");
        CHECK_INT_EQ(c.n_chain, 1);
        CHECK_INT_EQ(pki_cert_fingerprint_sha256(ca, fp_ca), CLM_OK);
        if (c.n_chain == 1 && pki_cert_fingerprint_sha256(c.chain[0], fp) == CLM_OK)
            CHECK_STR_EQ(fp, fp_ca);
        CHECK_STR_EQ(c.friendly_name, "interop");
    }
    CHECK_INT_EQ(pki_pkcs12_read(der.data, der.len, "not-the-password", &c),
                 CLM_ERR_UNAUTHENTICATED);
    free(ou);
    X509_free(ca);
    pki_pkcs12_contents_free(&c);
    clm_buf_free(&der);
    clm_buf_wipe(&password);
    clm_buf_free(&pem);
}

UNIT_TEST(test_files)
{
    const char *tmp = getenv("TEST_TMPDIR");
    char dir[512], path[600], big[600];
    clm_buf got = CLM_BUF_INIT;
    struct stat st;

    snprintf(dir, sizeof dir, "%s/pki_test.XXXXXX", tmp ? tmp : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/a.key", dir);
    CHECK_INT_EQ(pki_file_read(path, &got), CLM_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(clm_error_message(), "a.key");
    CHECK_INT_EQ(pki_file_write(path, "one", 3, false), CLM_OK);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
    CHECK_INT_EQ(pki_file_write(path, "two", 3, false), CLM_ERR_ALREADY_EXISTS);
    CHECK_INT_EQ(pki_file_read(path, &got), CLM_OK);
    CHECK_STR_EQ(clm_buf_str(&got), "one");
    CHECK_INT_EQ(pki_file_write(path, "three", 5, true), CLM_OK);
    clm_buf_reset(&got);
    CHECK_INT_EQ(pki_file_read(path, &got), CLM_OK);
    CHECK_STR_EQ(clm_buf_str(&got), "three");
    CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
    CHECK_INT_EQ(pki_file_write(dir, "x", 1, true), CLM_ERR_IO); /* a directory */
    /* no temporary file left behind: the directory holds a.key only */
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
        entries += e->d_name[0] != '.' || strstr(e->d_name, ".tmp-") != NULL;
    if (d != NULL)
        closedir(d);
    CHECK_INT_EQ(entries, 1);
    /* too large */
    snprintf(big, sizeof big, "%s/big", dir);
    FILE *f = fopen(big, "wb");
    static const char chunk[1024];
    size_t short_writes = 0;
    for (int i = 0; f != NULL && i <= PKI_FILE_MAX / 1024; i++)
        short_writes += fwrite(chunk, 1, sizeof chunk, f) != sizeof chunk;
    CHECK(f != NULL && short_writes == 0);
    if (f != NULL)
        fclose(f);
    clm_buf_reset(&got);
    CHECK(stat(big, &st) == 0 && st.st_size > PKI_FILE_MAX);
    CHECK_INT_EQ(pki_file_read(big, &got), CLM_ERR_PARSE);
    unlink(big);
    unlink(path);
    rmdir(dir);
    clm_buf_free(&got);
}

int main(void)
{
    clm_clock_fake_init(&fake_clock, T0 * CLM_NS_PER_SEC);
    UNIT_RUN(test_library);
    UNIT_RUN(test_random_password);
    UNIT_RUN(test_key_types);
    UNIT_RUN(test_key_pem_errors);
    UNIT_RUN(test_names);
    UNIT_RUN(test_ca);
    UNIT_RUN(test_leaf);
    UNIT_RUN(test_leaf_template_errors);
    UNIT_RUN(test_ou_ambiguous);
    UNIT_RUN(test_pkcs12);
    UNIT_RUN(test_files);
    UNIT_RUN(test_pkcs12_export);
    UNIT_RUN(test_pkcs12_import);
    X509_free(ca_cert);
    EVP_PKEY_free(ca_key);
    return unit_report();
}
