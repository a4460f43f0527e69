/*
 * lib/pki/facts_test.c: the strict DER reader, OpenSSL's name table, and the two facts
 * paths on certificates made here (odd names, every extension clm reads, damaged DER).
 * OpenSSL only: it checks oid_table.inc against the linked OpenSSL. The corpus-wide
 * comparison is tests/corpus.
 */
#include "lib/base/error.h"
#include "lib/pki/der.h"
#include "lib/pki/facts.h"
#include "lib/pki/facts_internal.h"
#include "lib/pki/oid.h"
#include "lib/pki/test_certs.h"
#include "tests/unit.h"

#include <limits.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <time.h>

static size_t unhex(const char *hex, unsigned char *out, size_t size)
{
    size_t n = 0;

    for (const char *p = hex; p[0] != '\0' && p[1] != '\0' && n < size;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned int byte;
        if (sscanf(p, "%2x", &byte) != 1)
            abort();
        out[n++] = (unsigned char)byte;
        p += 2;
    }
    return n;
}

UNIT_TEST(test_der_lengths)
{
    static const struct {
        const char *hex;
        int strict; /* pki_der_next */
        int ber;    /* pki_ber_next */
    } cases[] = {
        {"3000", 1, 1},
        {"3003 020100", 1, 1},
        {"308103 020100", 0, 1},      /* long form for a short length */
        {"30820003 020100", 0, 1},    /* leading zero length octet */
        {"3080 020100 0000", 0, 1},   /* indefinite length */
        {"0480 0000", 0, 0},          /* indefinite on a primitive type */
        {"3005 0201", 0, 0},          /* runs past the end */
        {"1f8101 00", 0, 0},          /* high tag number */
        {"3085 0000000001 00", 0, 0}, /* five length octets */
        {"30", 0, 0},                 /* no length */
        {"3080 3080 0000", 0, 0},     /* unterminated nested indefinite */
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        unsigned char buf[64];
        size_t n = unhex(cases[i].hex, buf, sizeof buf);
        pki_der d = pki_der_make(buf, n), b = pki_der_make(buf, n);
        pki_der_tlv t;
        bool strict = pki_der_next(&d, &t), ber = pki_ber_next(&b, &t);

        if (strict != (cases[i].strict != 0) || ber != (cases[i].ber != 0))
            UNIT_FAIL_AT(__FILE__, __LINE__, "case %zu (%s): strict %d ber %d", i, cases[i].hex,
                         strict, ber);
        else
            unit_passed++;
        if (!strict)
            CHECK(d.p == buf); /* a failed read leaves the cursor */
    }
}

UNIT_TEST(test_der_oid)
{
    static const struct {
        const char *hex;
        const char *text; /* NULL: invalid */
    } cases[] = {
        {"2a864886f70d01010b", "1.2.840.113549.1.1.11"},
        {"550403", "2.5.4.3"},
        {"00", "0.0"},
        {"8837", "2.999"},
        {"2b0601040182371507", "1.3.6.1.4.1.311.21.7"},
        {"8001", NULL},                      /* non-minimal subidentifier */
        {"2a86", NULL},                      /* unterminated */
        {"", NULL},                          /* empty */
        {"2a 8180808080808080808001", NULL}, /* an arc beyond 64 bits */
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        unsigned char buf[32];
        char text[PKI_DER_OID_TEXT_MAX];
        size_t n = unhex(cases[i].hex, buf, sizeof buf);
        int len = pki_der_oid_text(buf, n, text, sizeof text);

        if (cases[i].text == NULL)
            CHECK_INT_EQ(len, -1);
        else
            CHECK_STR_EQ(len >= 0 ? text : "(invalid)", cases[i].text);
    }
    CHECK_INT_EQ(pki_der_oid_text((const unsigned char *)"\x2a\x86\x48", 3, (char[4]){0}, 4), -1);
}

UNIT_TEST(test_der_integer_and_bits)
{
    unsigned char b[8];
    uint64_t v = 0;
    size_t n;

    CHECK(pki_der_integer_valid((const unsigned char *)"\x00", 1));
    CHECK(pki_der_integer_valid((const unsigned char *)"\x00\x80", 2));
    CHECK(!pki_der_integer_valid((const unsigned char *)"\x00\x7f", 2));
    CHECK(!pki_der_integer_valid((const unsigned char *)"\xff\x80", 2));
    CHECK(!pki_der_integer_valid(b, 0));
    CHECK(pki_der_integer_uint((const unsigned char *)"\x00\xff", 2, 255, &v) && v == 255);
    CHECK(!pki_der_integer_uint((const unsigned char *)"\x01\x00", 2, 255, &v));
    CHECK(!pki_der_integer_uint((const unsigned char *)"\xff", 1, 255, &v)); /* -1 */
    n = unhex("05a0", b, sizeof b);                                          /* 101 + 5 unused */
    CHECK(pki_der_bit_string(b, n, NULL, NULL, NULL));
    n = unhex("05a1", b, sizeof b); /* a set unused bit */
    CHECK(!pki_der_bit_string(b, n, NULL, NULL, NULL));
    CHECK(!pki_der_bit_string((const unsigned char *)"\x08\x00", 2, NULL, NULL, NULL));
    CHECK(!pki_der_bit_string((const unsigned char *)"\x01", 1, NULL, NULL, NULL));
    CHECK(pki_der_bit_string((const unsigned char *)"\x00", 1, NULL, NULL, NULL));
    bool flag;
    CHECK(pki_der_boolean((const unsigned char *)"\xff", 1, &flag) && flag);
    CHECK(!pki_der_boolean((const unsigned char *)"\x01", 1, &flag));
}

UNIT_TEST(test_der_time)
{
    static const struct {
        unsigned char tag;
        const char *text;
        int ok;
        int year, month, day, hour, minute, second;
    } cases[] = {
        {PKI_DER_UTC_TIME, "260101000000Z", 1, 2026, 1, 1, 0, 0, 0},
        {PKI_DER_UTC_TIME, "491231235959Z", 1, 2049, 12, 31, 23, 59, 59},
        {PKI_DER_UTC_TIME, "500101000000Z", 1, 1950, 1, 1, 0, 0, 0},
        {PKI_DER_UTC_TIME, "240229120000Z", 1, 2024, 2, 29, 12, 0, 0},
        {PKI_DER_GENERALIZED_TIME, "20500101000000Z", 1, 2050, 1, 1, 0, 0, 0},
        {PKI_DER_GENERALIZED_TIME, "99991231235959Z", 1, 9999, 12, 31, 23, 59, 59},
        {PKI_DER_GENERALIZED_TIME, "19000301000000Z", 1, 1900, 3, 1, 0, 0, 0},
        {PKI_DER_UTC_TIME, "230229000000Z", 0, 0, 0, 0, 0, 0, 0}, /* not a leap year */
        {PKI_DER_UTC_TIME, "260101000060Z", 0, 0, 0, 0, 0, 0, 0}, /* second 60 */
        {PKI_DER_UTC_TIME, "2601010000Z", 0, 0, 0, 0, 0, 0, 0},   /* no seconds */
        {PKI_DER_UTC_TIME, "260101000000+0100", 0, 0, 0, 0, 0, 0, 0},
        {PKI_DER_GENERALIZED_TIME, "20260101000000.5Z", 0, 0, 0, 0, 0, 0, 0},
        {PKI_DER_GENERALIZED_TIME, "21000229000000Z", 0, 0, 0, 0, 0, 0, 0}, /* 2100 */
        {PKI_DER_UTC_TIME, "261301000000Z", 0, 0, 0, 0, 0, 0, 0},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int64_t got = 0;
        bool ok = pki_der_time(cases[i].tag, (const unsigned char *)cases[i].text,
                               strlen(cases[i].text), &got);
        CHECK_INT_EQ(ok, cases[i].ok);
        if (ok && cases[i].ok) {
            struct tm tm = {.tm_year = cases[i].year - 1900,
                            .tm_mon = cases[i].month - 1,
                            .tm_mday = cases[i].day,
                            .tm_hour = cases[i].hour,
                            .tm_min = cases[i].minute,
                            .tm_sec = cases[i].second};
            CHECK_INT_EQ(got, (int64_t)timegm(&tm));
        }
    }
}

/* oid_table.inc against the linked OpenSSL, both ways. */
UNIT_TEST(test_oid_table)
{
    const pki_oid_entry *table;
    size_t n = pki_oid_table(&table), bad = 0, known = 0;

    CHECK(n > 1000);
    for (size_t i = 0; i < n; i++) {
        const pki_oid_entry *e = &table[i];
        unsigned char der[160];
        const unsigned char *p = der;
        ASN1_OBJECT *obj;

        der[0] = 0x06;
        der[1] = e->len;
        memcpy(der + 2, e->der, e->len);
        obj = d2i_ASN1_OBJECT(NULL, &p, e->len + 2);
        if (obj == NULL || OBJ_obj2nid(obj) != e->nid || strcmp(OBJ_nid2sn(e->nid), e->sn) != 0 ||
            strcmp(OBJ_nid2ln(e->nid), e->ln) != 0 ||
            (i > 0 && pki_oid_find((const unsigned char *)e->der, e->len) != e))
            bad++;
        ASN1_OBJECT_free(obj);
    }
    CHECK_INT_EQ(bad, 0);
    for (int nid = 1; nid < OBJ_new_nid(0); nid++) {
        ASN1_OBJECT *obj = OBJ_nid2obj(nid), *fresh;
        unsigned char der[160];
        const unsigned char *p = der;
        const pki_oid_entry *e;
        int fresh_nid;
        if (obj == NULL || OBJ_length(obj) == 0 || OBJ_length(obj) > sizeof der - 2)
            continue;
        known++;
        /* as a certificate's decoder sees it (OBJ_nid2obj's object carries its NID, and
         * a few OIDs have two NIDs) */
        der[0] = 0x06;
        der[1] = (unsigned char)OBJ_length(obj);
        memcpy(der + 2, OBJ_get0_data(obj), OBJ_length(obj));
        fresh = d2i_ASN1_OBJECT(NULL, &p, (long)OBJ_length(obj) + 2);
        fresh_nid = OBJ_obj2nid(fresh);
        ASN1_OBJECT_free(fresh);
        e = pki_oid_find(OBJ_get0_data(obj), OBJ_length(obj));
        if (e == NULL || e->nid != fresh_nid) {
            UNIT_FAIL_AT(__FILE__, __LINE__,
                         "NID %d (%s) is not in oid_table.inc: run "
                         "lib/pki/gen_oid_table.py",
                         nid, OBJ_nid2sn(nid));
            return;
        }
    }
    CHECK(known >= n);
    CHECK(pki_oid_find((const unsigned char *)"\x2a\x03\x04", 3) == NULL);
}

UNIT_TEST(test_curve_table)
{
    const int nids[] = {NID_X9_62_prime256v1, NID_secp384r1,        NID_secp521r1,
                        NID_secp224r1,        NID_X9_62_prime192v1, NID_secp256k1,
                        NID_brainpoolP256r1,  NID_brainpoolP384r1,  NID_brainpoolP512r1};

    for (size_t i = 0; i < sizeof nids / sizeof *nids; i++) {
        ASN1_OBJECT *obj = OBJ_nid2obj(nids[i]);
        EC_GROUP *group = EC_GROUP_new_by_curve_name(nids[i]);
        const char *want =
            EC_curve_nid2nist(nids[i]) ? EC_curve_nid2nist(nids[i]) : OBJ_nid2sn(nids[i]);
        int bits = 0;
        const char *got = pki_facts_curve(OBJ_get0_data(obj), OBJ_length(obj), &bits);

        CHECK_STR_EQ(got, want);
        CHECK_INT_EQ(bits, group ? (int)EC_GROUP_order_bits(group) : -1);
        EC_GROUP_free(group);
    }
}

/* Both paths on one certificate; returns the fast facts (or NULL) and checks equality. */
static pki_facts *both(X509 *x, bool want_fast)
{
    size_t len;
    unsigned char *der = tc_der(x, &len);
    pki_facts *fast = NULL, *slow = NULL;
    char why[600];
    clm_err err = pki_facts_from_der_fast(der, len, &fast);

    if (want_fast && err != CLM_OK)
        UNIT_FAIL_AT(__FILE__, __LINE__, "fast path refused: %s", clm_error_message());
    CHECK_INT_EQ(pki_facts_from_der_openssl(der, len, &slow), CLM_OK);
    if (fast != NULL && slow != NULL) {
        if (pki_facts_equal(fast, slow, why, sizeof why))
            unit_passed++;
        else
            UNIT_FAIL_AT(__FILE__, __LINE__, "paths differ: %s", why);
    }
    free(der);
    if (fast == NULL)
        return slow;
    pki_facts_free(slow);
    return fast;
}

/* A self-signed certificate with the given subject entries (OpenSSL string types). */
static X509 *named(EVP_PKEY *key, void (*fill)(X509_NAME *))
{
    X509_NAME *name = X509_NAME_new();
    tc_spec s = {3, 7, name, key, NULL, NULL, 0, 86400, NULL};
    X509 *x;

    fill(name);
    x = tc_begin(&s);
    tc_sign(x, &s);
    X509_NAME_free(name);
    return x;
}

static void add(X509_NAME *n, const char *field, int type, const char *bytes, int len, int set)
{
    if (X509_NAME_add_entry_by_txt(n, field, type, (const unsigned char *)bytes, len, -1, set) != 1)
        abort();
}

static void fill_escapes(X509_NAME *n)
{
    add(n, "C", V_ASN1_PRINTABLESTRING, "DE", 2, 0);
    add(n, "O", V_ASN1_UTF8STRING, " lead, \"q\" +p ;s <a> \\b=x ", -1, 0);
    add(n, "OU", V_ASN1_UTF8STRING, "#hash", -1, 0);
    add(n, "OU", V_ASN1_UTF8STRING, "#", -1, 0);
    add(n, "L", V_ASN1_UTF8STRING, "M\xc3\xbcnchen \x01 ctl", -1, 0);
    add(n, "ST", V_ASN1_T61STRING, "Caf\xe9", 4, 0);
    add(n, "street", V_ASN1_BMPSTRING, "\x03\xa9\x00 \x00#", 6, 0); /* "Ω #" */
    add(n, "title", V_ASN1_UNIVERSALSTRING, "\x00\x01\xf6\x00\x00\x00\x00x", 8, 0);
    add(n, "1.2.3.4.5", V_ASN1_UTF8STRING, "unknown", -1, 0);
    add(n, "DC", V_ASN1_IA5STRING, "example", -1, 0);
    add(n, "OU", V_ASN1_UTF8STRING, "multi", -1, 0);
    add(n, "CN", V_ASN1_UTF8STRING, "first", -1, 0);
    add(n, "CN", V_ASN1_UTF8STRING, "second", -1, -1);
    add(n, "emailAddress", V_ASN1_IA5STRING, "a@example.com", -1, 0);
}

UNIT_TEST(test_dn_text)
{
    EVP_PKEY *key = tc_key(PKI_KEY_EC_P256);
    X509 *x = named(key, fill_escapes);
    pki_facts *f = both(x, true);

    CHECK_STR_EQ(f ? f->subject : NULL,
                 "emailAddress=a@example.com,CN=second+CN=first,OU=multi,DC=example,"
                 "1.2.3.4.5=#0C07756E6B6E6F776E,title=\xf0\x9f\x98\x80x,street=\xce\xa9 #,"
                 "ST=Caf\xc3\xa9,L=M\xc3\xbcnchen \\01 ctl,OU=#,OU=\\#hash,"
                 "O=\\ lead\\, \\\"q\\\" \\+p \\;s \\<a\\> \\\\b=x\\ ,C=DE");
    /* the CN is the most specific (last encoded) one */
    CHECK_STR_EQ(f ? f->common_name : NULL, "second");
    CHECK(f && f->self_signed);
    pki_facts_free(f);
    X509_free(x);
    EVP_PKEY_free(key);
}

static void fill_cn_control(X509_NAME *n)
{
    add(n, "CN", V_ASN1_BMPSTRING, "\x00w\x00\x07\x00x", 6, 0);
}

UNIT_TEST(test_cn_text)
{
    EVP_PKEY *key = tc_key(PKI_KEY_EC_P256);
    X509 *x = named(key, fill_cn_control);
    pki_facts *f = both(x, true);

    CHECK_STR_EQ(f ? f->common_name : NULL, "w?x");
    CHECK_STR_EQ(f ? f->subject : NULL, "CN=w\\07x");
    pki_facts_free(f);
    X509_free(x);
    EVP_PKEY_free(key);
}

UNIT_TEST(test_extensions)
{
    /* template: SEQUENCE { OID 1.3.6.1.4.1.311.21.8, INTEGER 100, INTEGER 4 } */
    static const unsigned char tmpl[] = {0x30, 0x11, 0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82,
                                         0x37, 0x15, 0x08, 0x02, 0x01, 0x64, 0x02, 0x01, 0x04};
    /* v1 name: BMPString "WebServer" */
    static const unsigned char v1[] = {0x1e, 0x12, 0, 'W', 0, 'e', 0, 'b', 0, 'S',
                                       0,    'e',  0, 'r', 0, 'v', 0, 'e', 0, 'r'};
    EVP_PKEY *ca_key = tc_key(PKI_KEY_EC_P384), *key = tc_key(PKI_KEY_RSA_2048);
    X509 *ca = tc_ca("CN=Test Root,O=clm", ca_key, NULL, NULL, -86400, 10 * 86400);
    X509_NAME *name = tc_name("CN=www.example.com");
    tc_spec s = {3, -12345, name, key, ca, ca_key, 0, 86400, EVP_sha384()};
    X509 *x = tc_begin(&s);
    pki_facts *f, *r;

    tc_ext(x, ca, NID_subject_alt_name,
           "DNS:www.example.com,DNS:xn--mnchen-3ya.example,IP:192.0.2.1,IP:2001:db8::1,"
           "email:ops@example.com,URI:https://example.com/x,otherName:1.3.6.1.4.1.311.20.2.3;"
           "UTF8:user@example.com");
    tc_ext(x, ca, NID_basic_constraints, "critical,CA:TRUE,pathlen:3");
    tc_ext(x, ca, NID_key_usage, "critical,digitalSignature,keyCertSign,decipherOnly");
    tc_ext(x, ca, NID_ext_key_usage, "serverAuth,codeSigning,1.3.6.1.4.1.311.20.2.2,1.2.3.99");
    tc_ext(x, ca, NID_subject_key_identifier, "hash");
    tc_ext(x, ca, NID_authority_key_identifier, "keyid:always,issuer:always");
    tc_ext(x, ca, NID_info_access,
           "OCSP;URI:http://ocsp.example.com,caIssuers;URI:http://ca.example.com/ca.crt");
    tc_ext(x, ca, NID_crl_distribution_points, "URI:http://crl.example.com/a.crl");
    tc_ext_der(x, PKI_OID_MS_TEMPLATE, tmpl, sizeof tmpl);
    tc_ext_der(x, PKI_OID_MS_TEMPLATE_NAME, v1, sizeof v1);
    tc_sign(x, &s);
    f = both(x, true);
    if (f == NULL)
        return;
    CHECK_INT_EQ(f->version, 3);
    CHECK_INT_EQ(f->dns_names.n, 2);
    CHECK_STR_EQ(f->dns_names.n > 1 ? f->dns_names.v[1] : NULL, "xn--mnchen-3ya.example");
    CHECK_INT_EQ(f->ip_addresses.n, 2);
    CHECK_STR_EQ(f->ip_addresses.n > 1 ? f->ip_addresses.v[1] : NULL, "2001:db8::1");
    CHECK_STR_EQ(f->emails.n ? f->emails.v[0] : NULL, "ops@example.com");
    CHECK_STR_EQ(f->uris.n ? f->uris.v[0] : NULL, "https://example.com/x");
    CHECK_STR_EQ(f->serial, "-3039");
    CHECK_INT_EQ(f->not_before, TC_T0);
    CHECK_INT_EQ(f->not_after, TC_T0 + 86400);
    CHECK_INT_EQ(f->key_alg, PKI_KEY_ALG_RSA);
    CHECK_INT_EQ(f->key_bits, 2048);
    CHECK_STR_EQ(f->signature_algorithm, "ecdsa-with-SHA384"); /* signed by the EC CA */
    CHECK_STR_EQ(f->signature_oid, "1.2.840.10045.4.3.3");
    CHECK(f->is_ca && f->has_basic_constraints && f->path_len == 3);
    CHECK_INT_EQ(f->key_usage,
                 PKI_KU_DIGITAL_SIGNATURE | PKI_KU_KEY_CERT_SIGN | PKI_KU_DECIPHER_ONLY);
    CHECK_INT_EQ(f->ext_key_usage.n, 4);
    CHECK_STR_EQ(f->ext_key_usage_names[2], "msSmartcardLogin");
    CHECK(f->ext_key_usage_names[3] == NULL);
    CHECK(f->subject_key_id != NULL && strlen(f->subject_key_id) == 40);
    CHECK_STR_EQ(f->ocsp_uris.n ? f->ocsp_uris.v[0] : NULL, "http://ocsp.example.com");
    CHECK_STR_EQ(f->ca_issuer_uris.n ? f->ca_issuer_uris.v[0] : NULL,
                 "http://ca.example.com/ca.crt");
    CHECK_STR_EQ(f->crl_uris.n ? f->crl_uris.v[0] : NULL, "http://crl.example.com/a.crl");
    CHECK_STR_EQ(f->template_oid, "1.3.6.1.4.1.311.21.8");
    CHECK_INT_EQ(f->template_major, 100);
    CHECK_INT_EQ(f->template_minor, 4);
    CHECK_STR_EQ(f->template_name, "WebServer");
    CHECK(!f->self_signed);
    CHECK_INT_EQ(f->bad_extensions, 0);
    r = both(ca, true);
    CHECK(r && r->self_signed && r->key_alg == PKI_KEY_ALG_EC && r->key_bits == 384);
    CHECK_STR_EQ(r ? r->key_curve : NULL, "P-384");
    CHECK_STR_EQ(r ? r->subject_key_id : NULL, f->authority_key_id);
    CHECK_STR_EQ(r ? r->signature_algorithm : NULL, "ecdsa-with-SHA256");
    pki_facts_free(r);
    pki_facts_free(f);
    X509_free(x);
    X509_NAME_free(name);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
}

UNIT_TEST(test_v1_and_bad_extension)
{
    /* SAN whose GeneralNames are truncated: OpenSSL marks it, the fast path refuses */
    static const unsigned char bad_san[] = {0x30, 0x05, 0x82, 0x07, 'a', '.', 'b'};
    EVP_PKEY *key = tc_key(PKI_KEY_EC_P256);
    X509_NAME *name = tc_name("CN=v1.example");
    tc_spec v1 = {1, 1, name, key, NULL, NULL, 0, 86400, NULL};
    tc_spec v3 = {3, 1, name, key, NULL, NULL, 0, 86400, NULL};
    X509 *a = tc_begin(&v1), *b = tc_begin(&v3);
    pki_facts *f;
    unsigned char *der;
    size_t len;

    tc_sign(a, &v1);
    f = both(a, true);
    CHECK(f && f->version == 1 && f->self_signed && !f->has_basic_constraints);
    pki_facts_free(f);
    tc_ext_der(b, "2.5.29.17", bad_san, sizeof bad_san);
    tc_sign(b, &v3);
    der = tc_der(b, &len);
    CHECK_INT_EQ(pki_facts_from_der_fast(der, len, &f), CLM_ERR_UNSUPPORTED);
    CHECK_INT_EQ(pki_facts_from_der(der, len, &f), CLM_OK);
    CHECK(f && f->bad_extensions == PKI_EXT_SUBJECT_ALT_NAME && f->dns_names.n == 0);
    pki_facts_free(f);
    free(der);
    X509_free(a);
    X509_free(b);
    X509_NAME_free(name);
    EVP_PKEY_free(key);
}

/* Damaged DER: truncation everywhere, trailing bytes, non-DER lengths. */
UNIT_TEST(test_damaged)
{
    EVP_PKEY *key = tc_key(PKI_KEY_EC_P256);
    X509 *x = tc_leaf("CN=damaged.example", "DNS:damaged.example", key, NULL, NULL, 0, 86400);
    size_t len, refused = 0, wrong = 0;
    unsigned char *der = tc_der(x, &len), *copy = malloc(len + 8);
    pki_facts *f = NULL;

    for (size_t cut = 0; cut < len; cut++) {
        memcpy(copy, der, cut);
        refused += pki_facts_from_der_fast(copy, cut, &f) == CLM_ERR_UNSUPPORTED;
        wrong += pki_facts_from_der(copy, cut, &f) != CLM_ERR_PARSE;
    }
    CHECK_INT_EQ(refused, len);
    CHECK_INT_EQ(wrong, 0);
    memcpy(copy, der, len);
    copy[len] = 0;
    CHECK_INT_EQ(pki_facts_from_der_fast(copy, len + 1, &f), CLM_ERR_UNSUPPORTED);
    CHECK_INT_EQ(pki_facts_from_der(copy, len + 1, &f), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "1 bytes after the certificate");
    /* the outer length in a needlessly long form: BER, refused by the fast path only */
    CHECK(der[0] == 0x30 && der[1] == 0x82);
    copy[0] = 0x30;
    copy[1] = 0x84;
    copy[2] = copy[3] = 0;
    memcpy(copy + 4, der + 2, len - 2);
    CHECK_INT_EQ(pki_facts_from_der_fast(copy, len + 2, &f), CLM_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(clm_error_message(), "not one DER SEQUENCE");
    /* indefinite outer length */
    copy[1] = 0x80;
    memcpy(copy + 2, der + 4, len - 4);
    copy[len - 2] = copy[len - 1] = 0;
    CHECK_INT_EQ(pki_facts_from_der_fast(copy, len, &f), CLM_ERR_UNSUPPORTED);
    free(copy);
    free(der);
    X509_free(x);
    EVP_PKEY_free(key);
}

/* Serials and times at the edges of their encodings: both paths agree. */
UNIT_TEST(test_edge_values)
{
    static const long serials[] = {0,      1,     127,   128,      255,         256,  -1,
                                   -127,   -128,  -129,  -255,     -256,        -257, -32768,
                                   -32769, 65535, 65536, LONG_MAX, LONG_MIN + 1};
    static const char *const times[] = {"19000101000000Z", "00010101000000Z", "99991231235959Z",
                                        "20491231235959Z", "19500101000000Z", "19691231235959Z"};
    EVP_PKEY *key = tc_key(PKI_KEY_EC_P256);
    X509_NAME *name = tc_name("CN=edge.example");
    size_t agreed = 0, cases = 0;

    for (size_t i = 0; i < sizeof serials / sizeof *serials + sizeof times / sizeof *times + 1;
         i++) {
        tc_spec s = {3, 0, name, key, NULL, NULL, 0, 86400, NULL};
        X509 *x;
        pki_facts *f;

        if (i < sizeof serials / sizeof *serials)
            s.serial = serials[i];
        x = tc_begin(&s);
        if (i >= sizeof serials / sizeof *serials &&
            i - sizeof serials / sizeof *serials < sizeof times / sizeof *times) {
            ASN1_TIME *t = ASN1_TIME_new();
            if (t == NULL ||
                ASN1_GENERALIZEDTIME_set_string(t, times[i - sizeof serials / sizeof *serials]) !=
                    1 ||
                X509_set1_notBefore(x, t) != 1)
                abort();
            ASN1_TIME_free(t);
        } else if (i == sizeof serials / sizeof *serials + sizeof times / sizeof *times) {
            /* a 30-byte serial, beyond RFC 5280's 20 */
            BIGNUM *bn = BN_new();
            if (bn == NULL || BN_set_word(bn, 1) != 1 || BN_lshift(bn, bn, 239) != 1 ||
                BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
                abort();
            BN_free(bn);
        }
        tc_sign(x, &s);
        f = both(x, true);
        cases++;
        agreed += f != NULL;
        if (f != NULL && i == 8)
            CHECK_STR_EQ(f->serial, "-80"); /* -128 */
        if (f != NULL && i == 11)
            CHECK_STR_EQ(f->serial, "-0100"); /* -256 */
        pki_facts_free(f);
        X509_free(x);
    }
    CHECK_INT_EQ(agreed, cases);
    X509_NAME_free(name);
    EVP_PKEY_free(key);
}

UNIT_TEST(test_names)
{
    CHECK_STR_EQ(pki_eku_name("1.3.6.1.5.5.7.3.1"), "serverAuth");
    CHECK(pki_eku_name("1.2.3") == NULL);
    CHECK_STR_EQ(pki_key_usage_name(5), "keyCertSign");
    CHECK(pki_key_usage_name(9) == NULL);
    CHECK_STR_EQ(pki_key_alg_name(PKI_KEY_ALG_ED25519), "ED25519");
    CHECK_STR_EQ(pki_key_alg_name(PKI_KEY_ALG_MAX), "unknown");
}

int main(void)
{
    UNIT_RUN(test_der_lengths);
    UNIT_RUN(test_der_oid);
    UNIT_RUN(test_der_integer_and_bits);
    UNIT_RUN(test_der_time);
    UNIT_RUN(test_oid_table);
    UNIT_RUN(test_curve_table);
    UNIT_RUN(test_dn_text);
    UNIT_RUN(test_cn_text);
    UNIT_RUN(test_extensions);
    UNIT_RUN(test_v1_and_bad_extension);
    UNIT_RUN(test_damaged);
    UNIT_RUN(test_edge_values);
    UNIT_RUN(test_names);
    return unit_report();
}
