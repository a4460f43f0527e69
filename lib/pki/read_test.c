/*
 * lib/pki/read_test.c: the certificate and key readers on inputs made here: PEM bundles
 * with junk, CRLF and damaged blocks, DER, PKCS#7 (DER and BER), PKCS#12 (3DES, and AES
 * on OpenSSL), JKS written by a small writer of the format in this file, encrypted keys,
 * bounds, and a 10,000-certificate bundle. Built against OpenSSL by Bazel and against
 * BoringSSL by boringssl_test.sh. Files made by the real tools (keytool, openssl) are
 * read by tests/corpus.
 */
#include "lib/base/buf.h"
#include "lib/base/clock.h"
#include "lib/pki/csr.h"
#include "lib/pki/facts.h"
#include "lib/pki/pkcs12.h"
#include "lib/pki/read.h"
#include "lib/pki/test_certs.h"
#include "tests/unit.h"

#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static EVP_PKEY *ca_key, *leaf_key;
static X509 *ca, *leaf;

static void pem_cert(clm_buf *out, X509 *x)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;

    if (bio == NULL || PEM_write_bio_X509(bio, x) != 1)
        abort();
    n = BIO_get_mem_data(bio, &data);
    clm_buf_append(out, data, (size_t)n);
    BIO_free(bio);
}

static void pem_key(clm_buf *out, EVP_PKEY *key, const char *password)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;

    if (bio == NULL || PEM_write_bio_PKCS8PrivateKey(bio, key, password ? EVP_aes_256_cbc() : NULL,
                                                     NULL, 0, NULL, (void *)password) != 1)
        abort();
    n = BIO_get_mem_data(bio, &data);
    clm_buf_append(out, data, (size_t)n);
    BIO_free(bio);
}

/* Replace every "\n" by "\r\n". */
static void crlf(clm_buf *b)
{
    clm_buf out = CLM_BUF_INIT;

    for (size_t i = 0; i < b->len; i++) {
        if (b->data[i] == '\n')
            clm_buf_append_byte(&out, '\r');
        clm_buf_append_byte(&out, b->data[i]);
    }
    clm_buf_free(b);
    *b = out;
}

/* Whether two keys have the same public part (EVP_PKEY_cmp is deprecated in OpenSSL 3,
 * EVP_PKEY_eq is not in BoringSSL). */
static bool same_key(EVP_PKEY *a, EVP_PKEY *b)
{
    unsigned char *da = NULL, *db = NULL;
    int na = a ? i2d_PUBKEY(a, &da) : -1, nb = b ? i2d_PUBKEY(b, &db) : -1;
    bool same = na > 0 && na == nb && memcmp(da, db, (size_t)na) == 0;

    OPENSSL_free(da);
    OPENSSL_free(db);
    return same;
}

static clm_err read_all(const void *data, size_t len, const char *password, pki_read_result *res)
{
    pki_read_options o = {"test-input", password, 0, 0, PKI_FORMAT_UNKNOWN};
    return pki_read(data, len, &o, res);
}

UNIT_TEST(test_pem_bundle)
{
    clm_buf b = CLM_BUF_INIT;
    pki_read_result r;
    pki_csr_fields csr = {.common_name = "req.example", .hash = PKI_HASH_SHA256};

    clm_buf_append_str(&b, "subject=CN = leaf\nissuer=CN = root\n");
    pem_cert(&b, leaf);
    clm_buf_append_str(&b, "\n# junk between blocks\n");
    pem_cert(&b, ca);
    clm_buf_append_str(&b,
                       "-----BEGIN CERTIFICATE-----\nMIIB!!notbase64\n-----END CERTIFICATE-----\n");
    pem_key(&b, leaf_key, NULL);
    pem_key(&b, leaf_key, "s3cret");
    CHECK_INT_EQ(pki_csr_build(&csr, NULL, leaf_key, &b), CLM_OK);
    clm_buf_append_str(&b, "-----BEGIN CERTIFICATE-----\nMIIBIjANBgkq\n");
    crlf(&b);
    CHECK_INT_EQ(pki_read_sniff(b.data, b.len), PKI_FORMAT_PEM);
    CHECK_INT_EQ(read_all(b.data, b.len, "s3cret", &r), CLM_OK);
    CHECK_INT_EQ(r.format, PKI_FORMAT_PEM);
    CHECK_INT_EQ(r.n_items, 6);
    CHECK_INT_EQ(r.n_certs, 2);
    CHECK_INT_EQ(r.n_keys, 2);
    CHECK_INT_EQ(r.n_errors, 2);
    CHECK_INT_EQ(r.n_skipped, 1);
    if (r.n_items == 6) {
        pki_facts *f = NULL;
        CHECK_INT_EQ(pki_facts_from_der(r.items[0].der, r.items[0].der_len, &f), CLM_OK);
        CHECK_STR_EQ(f ? f->common_name : NULL, "leaf.example");
        pki_facts_free(f);
        CHECK_STR_CONTAINS(r.items[1].where, "test-input: PEM block 2 (CERTIFICATE, line ");
        CHECK_INT_EQ(r.items[2].err, CLM_ERR_PARSE);
        CHECK_STR_CONTAINS(r.items[2].error, "PEM block 3 (CERTIFICATE, line");
        CHECK_STR_CONTAINS(r.items[2].error, "base64");
        CHECK(r.items[3].kind == PKI_ITEM_KEY && r.items[3].key != NULL);
        CHECK(r.items[4].kind == PKI_ITEM_KEY && r.items[4].key != NULL);
        CHECK_INT_EQ(r.items[5].err, CLM_ERR_PARSE);
        CHECK_STR_CONTAINS(r.items[5].error, "truncated");
    }
    pki_read_result_free(&r);

    /* the encrypted key with a wrong password, and with none: that item fails */
    CHECK_INT_EQ(read_all(b.data, b.len, "wrong", &r), CLM_OK);
    CHECK_INT_EQ(r.n_items > 4 ? r.items[4].err : CLM_OK, CLM_ERR_UNAUTHENTICATED);
    CHECK_STR_CONTAINS(r.n_items > 4 ? r.items[4].error : NULL,
                       "PEM block 5 (ENCRYPTED PRIVATE KEY, line");
    CHECK_STR_CONTAINS(r.n_items > 4 ? r.items[4].error : NULL, "wrong password");
    pki_read_result_free(&r);
    CHECK_INT_EQ(read_all(b.data, b.len, NULL, &r), CLM_OK);
    CHECK_STR_CONTAINS(r.n_items > 4 ? r.items[4].error : NULL, "a password is needed");
    pki_read_result_free(&r);
    clm_buf_free(&b);
}

UNIT_TEST(test_pem_errors)
{
    clm_buf b = CLM_BUF_INIT;
    pki_read_result r;
    pki_read_options small = {"big.pem", NULL, 100, 0, PKI_FORMAT_UNKNOWN};
    pki_read_options few = {"many.pem", NULL, 0, 1, PKI_FORMAT_UNKNOWN};
    pki_csr_fields csr = {.common_name = "req.example", .hash = PKI_HASH_SHA256};

    CHECK_INT_EQ(pki_csr_build(&csr, NULL, leaf_key, &b), CLM_OK);
    CHECK_INT_EQ(read_all(b.data, b.len, NULL, &r), CLM_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(clm_error_message(), "test-input: no certificate or private key found");
    pki_read_result_free(&r);
    CHECK_INT_EQ(read_all("hello, world\n", 13, NULL, &r), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "not a certificate or key file");
    pki_read_result_free(&r);
    CHECK_INT_EQ(read_all("", 0, NULL, &r), CLM_ERR_PARSE);
    pki_read_result_free(&r);
    clm_buf_reset(&b);
    pem_cert(&b, leaf);
    pem_cert(&b, ca);
    CHECK_INT_EQ(pki_read(b.data, b.len, &small, &r), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "more than the 100 accepted");
    pki_read_result_free(&r);
    CHECK_INT_EQ(pki_read(b.data, b.len, &few, &r), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "more than 1 certificates and keys");
    pki_read_result_free(&r);
    /* a single damaged block: the call fails with the item's error */
    CHECK_INT_EQ(
        read_all("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 58, NULL, &r),
        CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "PEM block 1 (CERTIFICATE, line 1): not a certificate");
    pki_read_result_free(&r);
    /* a block cut short, then a whole one: the first fails, the second is read */
    clm_buf_reset(&b);
    clm_buf_append_str(&b, "-----BEGIN CERTIFICATE-----\nMIIBIjANBgkq\n");
    pem_cert(&b, leaf);
    CHECK_INT_EQ(read_all(b.data, b.len, NULL, &r), CLM_OK);
    CHECK_INT_EQ(r.n_certs, 1);
    CHECK_INT_EQ(r.n_errors, 1);
    CHECK_STR_CONTAINS(r.n_items ? r.items[0].error : NULL,
                       "PEM block 1 (CERTIFICATE, line 1): truncated");
    CHECK_STR_CONTAINS(r.n_items > 1 ? r.items[1].where : NULL,
                       "PEM block 2 (CERTIFICATE, line 3)");
    pki_read_result_free(&r);
    clm_buf_free(&b);
}

UNIT_TEST(test_der)
{
    size_t len;
    unsigned char *der = tc_der(leaf, &len), *longer = malloc(len + 1);
    pki_read_result r;

    CHECK_INT_EQ(pki_read_sniff(der, len), PKI_FORMAT_DER_CERT);
    CHECK_INT_EQ(read_all(der, len, NULL, &r), CLM_OK);
    CHECK(r.n_certs == 1 && r.items[0].der_len == len && memcmp(r.items[0].der, der, len) == 0);
    pki_read_result_free(&r);
    memcpy(longer, der, len);
    longer[len] = 0;
    CHECK_INT_EQ(read_all(longer, len + 1, NULL, &r), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "1 bytes after the certificate");
    pki_read_result_free(&r);
    CHECK_INT_EQ(read_all(der, len / 2, NULL, &r), CLM_ERR_PARSE);
    pki_read_result_free(&r);
    free(longer);
    free(der);
}

/* A tiny DER writer for the containers below. */
static void tlv(clm_buf *out, unsigned char tag, const void *content, size_t len)
{
    clm_buf_append_byte(out, tag);
    if (len < 0x80) {
        clm_buf_append_byte(out, (unsigned char)len);
    } else if (len < 0x10000) {
        clm_buf_append_byte(out, 0x82);
        clm_buf_append_byte(out, (unsigned char)(len >> 8));
        clm_buf_append_byte(out, (unsigned char)len);
    } else {
        abort();
    }
    clm_buf_append(out, content, len);
}

/* SignedData with the given certificates; ber: indefinite lengths on the way down. */
static void make_pkcs7(clm_buf *out, X509 *const *certs, size_t n, bool ber)
{
    static const unsigned char signed_data[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                0xf7, 0x0d, 0x01, 0x07, 0x02};
    static const unsigned char head[] = {0x02, 0x01, 0x01, 0x31, 0x00, 0x30, 0x0b, 0x06, 0x09,
                                         0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
    clm_buf set = CLM_BUF_INIT, sd = CLM_BUF_INIT, inner = CLM_BUF_INIT, ci = CLM_BUF_INIT;

    for (size_t i = 0; i < n; i++) {
        size_t len;
        unsigned char *der = tc_der(certs[i], &len);
        clm_buf_append(&set, der, len);
        free(der);
    }
    clm_buf_append(&sd, head, sizeof head);
    tlv(&sd, 0xa0, set.data, set.len);
    clm_buf_append(&sd, "\x31\x00", 2);
    if (ber) {
        clm_buf_append(out, "\x30\x80", 2);
        clm_buf_append(out, signed_data, sizeof signed_data);
        clm_buf_append(out, "\xa0\x80\x30\x80", 4);
        clm_buf_append(out, sd.data, sd.len);
        clm_buf_append(out, "\x00\x00\x00\x00\x00\x00", 6);
    } else {
        tlv(&inner, 0x30, sd.data, sd.len);
        clm_buf_append(&ci, signed_data, sizeof signed_data);
        tlv(&ci, 0xa0, inner.data, inner.len);
        tlv(out, 0x30, ci.data, ci.len);
    }
    clm_buf_free(&set);
    clm_buf_free(&sd);
    clm_buf_free(&inner);
    clm_buf_free(&ci);
}

static void base64(clm_buf *out, const unsigned char *in, size_t len)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < len ? in[i + 2] : 0);
        clm_buf_append_byte(out, (unsigned char)digits[v >> 18]);
        clm_buf_append_byte(out, (unsigned char)digits[(v >> 12) & 63]);
        clm_buf_append_byte(out, i + 1 < len ? (unsigned char)digits[(v >> 6) & 63] : '=');
        clm_buf_append_byte(out, i + 2 < len ? (unsigned char)digits[v & 63] : '=');
        if (i % 48 == 45)
            clm_buf_append_byte(out, '\n');
    }
    clm_buf_append_byte(out, '\n');
}

UNIT_TEST(test_pkcs7)
{
    X509 *certs[] = {leaf, ca};
    clm_buf der = CLM_BUF_INIT, ber = CLM_BUF_INIT, pem = CLM_BUF_INIT, empty = CLM_BUF_INIT;
    pki_read_result r;

    make_pkcs7(&der, certs, 2, false);
    make_pkcs7(&ber, certs, 2, true);
    make_pkcs7(&empty, certs, 0, false);
    CHECK_INT_EQ(pki_read_sniff(der.data, der.len), PKI_FORMAT_PKCS7);
    CHECK_INT_EQ(pki_read_sniff(ber.data, ber.len), PKI_FORMAT_PKCS7);
    CHECK_INT_EQ(read_all(der.data, der.len, NULL, &r), CLM_OK);
    CHECK_INT_EQ(r.n_certs, 2);
    CHECK_STR_EQ(r.n_items ? r.items[1].where : NULL, "test-input: certificate 2");
    pki_read_result_free(&r);
    CHECK_INT_EQ(read_all(ber.data, ber.len, NULL, &r), CLM_OK);
    CHECK_INT_EQ(r.n_certs, 2);
    pki_read_result_free(&r);
    clm_buf_append_str(&pem, "-----BEGIN PKCS7-----\n");
    base64(&pem, der.data, der.len);
    clm_buf_append_str(&pem, "-----END PKCS7-----\n");
    CHECK_INT_EQ(read_all(pem.data, pem.len, NULL, &r), CLM_OK);
    CHECK_INT_EQ(r.n_certs, 2);
    CHECK_STR_CONTAINS(r.n_items ? r.items[0].where : NULL,
                       "PEM block 1 (PKCS7, line 1): certificate 1");
    pki_read_result_free(&r);
    CHECK_INT_EQ(read_all(empty.data, empty.len, NULL, &r), CLM_ERR_NOT_FOUND);
    pki_read_result_free(&r);
    CHECK_INT_EQ(read_all(der.data, der.len - 3, NULL, &r), CLM_ERR_PARSE);
    pki_read_result_free(&r);
    clm_buf_free(&der);
    clm_buf_free(&ber);
    clm_buf_free(&pem);
    clm_buf_free(&empty);
}

UNIT_TEST(test_pkcs12)
{
    clm_buf b = CLM_BUF_INIT;
    pki_read_result r;

    CHECK_INT_EQ(pki_pkcs12_write(leaf_key, leaf, &ca, 1, "web-2026", "Pfx-pass1", &b), CLM_OK);
    CHECK_INT_EQ(pki_read_sniff(b.data, b.len), PKI_FORMAT_PKCS12);
    CHECK_INT_EQ(read_all(b.data, b.len, "Pfx-pass1", &r), CLM_OK);
    CHECK_INT_EQ(r.n_certs, 2);
    CHECK_INT_EQ(r.n_keys, 1);
    CHECK_STR_EQ(r.n_items ? r.items[0].alias : NULL, "web-2026");
    CHECK_STR_EQ(r.n_items > 2 ? r.items[2].where : NULL, "test-input: private key");
    pki_read_result_free(&r);
    CHECK_INT_EQ(read_all(b.data, b.len, "wrong", &r), CLM_ERR_UNAUTHENTICATED);
    CHECK_STR_CONTAINS(clm_error_message(), "test-input: wrong password");
    pki_read_result_free(&r);
    CHECK_INT_EQ(read_all(b.data, b.len, NULL, &r), CLM_ERR_UNAUTHENTICATED);
    CHECK_STR_CONTAINS(clm_error_message(), "a password is needed");
    pki_read_result_free(&r);
    CHECK_INT_EQ(pki_read(b.data, b.len / 2,
                          &(pki_read_options){"cut.pfx", "Pfx-pass1", 0, 0, PKI_FORMAT_PKCS12}, &r),
                 CLM_ERR_PARSE);
    pki_read_result_free(&r);
    clm_buf_free(&b);
#ifndef OPENSSL_IS_BORINGSSL
    /* OpenSSL 3's default profile: PBES2 with AES-256-CBC */
    PKCS12 *p12 = PKCS12_create("Aes-pass1", "aes", leaf_key, leaf, NULL, NID_aes_256_cbc,
                                NID_aes_256_cbc, 2048, 2048, 0);
    unsigned char *der = NULL;
    int len = p12 ? i2d_PKCS12(p12, &der) : -1;
    CHECK(len > 0);
    CHECK_INT_EQ(read_all(der, (size_t)len, "Aes-pass1", &r), CLM_OK);
    CHECK_INT_EQ(r.n_certs + r.n_keys, 2);
    pki_read_result_free(&r);
    OPENSSL_free(der);
    PKCS12_free(p12);
#endif
}

/* A PKCS#12 made by `openssl pkcs12 -export` (OpenSSL 3's default profile: PBES2 with
 * AES-256-CBC and a SHA-256 MAC), given by boringssl_test.sh: OpenSSL must read it; a
 * BoringSSL may read it or must refuse it as CLM_ERR_UNSUPPORTED. */
UNIT_TEST(test_pkcs12_aes_file)
{
    const char *path = getenv("CLM_PKI_AES_PFX");
    clm_buf b = CLM_BUF_INIT;
    pki_read_result r;
    FILE *fp;
    char chunk[4096];
    size_t n;
    clm_err err;

    if (path == NULL || path[0] == '\0') {
        printf("test_pkcs12_aes_file: CLM_PKI_AES_PFX is not set (boringssl_test.sh sets it)\n");
        return;
    }
    fp = fopen(path, "rb");
    CHECK(fp != NULL);
    while (fp != NULL && (n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        clm_buf_append(&b, chunk, n);
    if (fp != NULL)
        fclose(fp);
    err = read_all(b.data, b.len, "Aes-pass1", &r);
#ifdef OPENSSL_IS_BORINGSSL
    printf("BoringSSL reading an AES-256 PKCS#12: %s\n",
           err == CLM_OK ? "read" : clm_error_message());
    CHECK(err == CLM_OK || err == CLM_ERR_UNSUPPORTED);
#else
    CHECK_INT_EQ(err, CLM_OK);
#endif
    if (err == CLM_OK)
        CHECK(r.n_certs == 1 && r.n_keys == 1);
    pki_read_result_free(&r);
    clm_buf_free(&b);
}

/* ---- a JKS writer (the format of sun.security.provider.JavaKeyStore) ---- */

static void be32(clm_buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    clm_buf_append(b, x, 4);
}

static void utf(clm_buf *b, const char *s)
{
    clm_buf_append_byte(b, (unsigned char)(strlen(s) >> 8));
    clm_buf_append_byte(b, (unsigned char)strlen(s));
    clm_buf_append_str(b, s);
}

static void jks_cert(clm_buf *b, X509 *x)
{
    size_t len;
    unsigned char *der = tc_der(x, &len);

    utf(b, "X.509");
    be32(b, (uint32_t)len);
    clm_buf_append(b, der, len);
    free(der);
}

static void sha1_of(const clm_buf *parts, size_t n, unsigned char out[20])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len;

    EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
    for (size_t i = 0; i < n; i++)
        EVP_DigestUpdate(ctx, parts[i].data, parts[i].len);
    EVP_DigestFinal_ex(ctx, out, &len);
    EVP_MD_CTX_free(ctx);
}

/* KeyProtector.protect() with an ASCII password. */
static void jks_protect(clm_buf *out, EVP_PKEY *key, const char *password)
{
    static const unsigned char alg[] = {0x30, 0x0e, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04,
                                        0x01, 0x2a, 0x02, 0x11, 0x01, 0x01, 0x05, 0x00};
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key);
    unsigned char *plain = NULL, digest[20];
    int n = i2d_PKCS8_PRIV_KEY_INFO(p8, &plain);
    clm_buf pw = CLM_BUF_INIT, data = CLM_BUF_INIT, seq = CLM_BUF_INIT, parts[2];

    for (const char *c = password; *c; c++) {
        clm_buf_append_byte(&pw, 0);
        clm_buf_append_byte(&pw, (unsigned char)*c);
    }
    RAND_bytes(digest, 20);
    clm_buf_append(&data, digest, 20); /* the salt */
    for (int off = 0; off < n; off += 20) {
        parts[0] = pw;
        parts[1] = (clm_buf){digest, 20, 20};
        sha1_of(parts, 2, digest);
        for (int i = 0; i < 20 && off + i < n; i++)
            clm_buf_append_byte(&data, plain[off + i] ^ digest[i]);
    }
    parts[0] = pw;
    parts[1] = (clm_buf){plain, (size_t)n, (size_t)n};
    sha1_of(parts, 2, digest);
    clm_buf_append(&data, digest, 20);
    clm_buf_append(&seq, alg, sizeof alg);
    tlv(&seq, 0x04, data.data, data.len);
    tlv(out, 0x30, seq.data, seq.len);
    OPENSSL_free(plain);
    PKCS8_PRIV_KEY_INFO_free(p8);
    clm_buf_free(&pw);
    clm_buf_free(&data);
    clm_buf_free(&seq);
}

static void make_jks(clm_buf *b, const char *store_pw, const char *key_pw)
{
    clm_buf epki = CLM_BUF_INIT, pw = CLM_BUF_INIT, parts[3];
    unsigned char digest[20];

    be32(b, 0xfeedfeed);
    be32(b, 2);
    be32(b, 2);
    be32(b, 2); /* trusted certificate */
    utf(b, "root");
    be32(b, 0);
    be32(b, 0);
    jks_cert(b, ca);
    be32(b, 1); /* private key */
    utf(b, "tomcat");
    be32(b, 0);
    be32(b, 0);
    jks_protect(&epki, leaf_key, key_pw);
    be32(b, (uint32_t)epki.len);
    clm_buf_append(b, epki.data, epki.len);
    be32(b, 2);
    jks_cert(b, leaf);
    jks_cert(b, ca);
    for (const char *c = store_pw; *c; c++) {
        clm_buf_append_byte(&pw, 0);
        clm_buf_append_byte(&pw, (unsigned char)*c);
    }
    parts[0] = pw;
    parts[1] = (clm_buf){(unsigned char *)"Mighty Aphrodite", 16, 16};
    parts[2] = *b;
    sha1_of(parts, 3, digest);
    clm_buf_append(b, digest, 20);
    clm_buf_free(&epki);
    clm_buf_free(&pw);
}

UNIT_TEST(test_jks)
{
    clm_buf b = CLM_BUF_INIT, other = CLM_BUF_INIT;
    pki_read_result r;

    make_jks(&b, "changeit", "changeit");
    CHECK_INT_EQ(pki_read_sniff(b.data, b.len), PKI_FORMAT_JKS);
    CHECK_INT_EQ(read_all(b.data, b.len, "changeit", &r), CLM_OK);
    CHECK_INT_EQ(r.n_certs, 3);
    CHECK_INT_EQ(r.n_keys, 1);
    CHECK_STR_EQ(r.n_items ? r.items[0].where : NULL, "test-input: entry \"root\"");
    CHECK_STR_EQ(r.n_items > 2 ? r.items[2].where : NULL, "test-input: entry \"tomcat\" chain[1]");
    CHECK_STR_EQ(r.n_items > 3 ? r.items[3].alias : NULL, "tomcat");
    CHECK(r.n_items > 3 && r.items[3].key != NULL && same_key(r.items[3].key, leaf_key));
    pki_read_result_free(&r);
    CHECK_INT_EQ(read_all(b.data, b.len, "wrong", &r), CLM_ERR_UNAUTHENTICATED);
    CHECK_STR_CONTAINS(clm_error_message(), "test-input: wrong store password");
    pki_read_result_free(&r);
    CHECK_INT_EQ(read_all(b.data, b.len, NULL, &r), CLM_ERR_UNAUTHENTICATED);
    pki_read_result_free(&r);
    CHECK_INT_EQ(read_all(b.data, b.len - 30, "changeit", &r), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "truncated JKS");
    pki_read_result_free(&r);
    /* a key password other than the store password: the key item fails, certs are read */
    make_jks(&other, "changeit", "keypass1");
    CHECK_INT_EQ(read_all(other.data, other.len, "changeit", &r), CLM_OK);
    CHECK_INT_EQ(r.n_certs, 3);
    CHECK_INT_EQ(r.n_items > 3 ? r.items[3].err : CLM_OK, CLM_ERR_UNAUTHENTICATED);
    CHECK_STR_CONTAINS(r.n_items > 3 ? r.items[3].error : NULL, "entry \"tomcat\" private key");
    pki_read_result_free(&r);
    CHECK_INT_EQ(read_all("\xce\xce\xce\xce\x00\x00\x00\x02", 8, "x", &r), CLM_ERR_UNSUPPORTED);
    pki_read_result_free(&r);
    clm_buf_free(&b);
    clm_buf_free(&other);
}

UNIT_TEST(test_der_keys)
{
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(leaf_key);
    unsigned char *der = NULL;
    int len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
    pki_read_result r;

    CHECK_INT_EQ(pki_read_sniff(der, (size_t)len), PKI_FORMAT_DER_KEY);
    CHECK_INT_EQ(read_all(der, (size_t)len, NULL, &r), CLM_OK);
    CHECK(r.n_keys == 1 && same_key(r.items[0].key, leaf_key));
    pki_read_result_free(&r);
    OPENSSL_free(der);
    PKCS8_PRIV_KEY_INFO_free(p8);
}

UNIT_TEST(test_read_file)
{
    char path[] = "/tmp/clm-read-test-XXXXXX";
    int fd = mkstemp(path);
    clm_buf b = CLM_BUF_INIT;
    pki_read_result r;
    pki_read_options tiny = {NULL, NULL, 10, 0, PKI_FORMAT_UNKNOWN};

    pem_cert(&b, leaf);
    CHECK(fd >= 0 && write(fd, b.data, b.len) == (ssize_t)b.len);
    if (fd >= 0)
        close(fd);
    CHECK_INT_EQ(pki_read_file(path, NULL, &r), CLM_OK);
    CHECK_INT_EQ(r.n_certs, 1);
    CHECK_STR_CONTAINS(r.n_items ? r.items[0].where : NULL, path);
    pki_read_result_free(&r);
    CHECK_INT_EQ(pki_read_file(path, &tiny, &r), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "more than the 10 bytes accepted");
    pki_read_result_free(&r);
    unlink(path);
    CHECK_INT_EQ(pki_read_file(path, NULL, &r), CLM_ERR_NOT_FOUND);
    pki_read_result_free(&r);
    clm_buf_free(&b);
}

/* 10,000 certificates in one PEM: read and described quickly. */
UNIT_TEST(test_big_bundle)
{
    clm_buf one = CLM_BUF_INIT, b = CLM_BUF_INIT;
    pki_read_result r;
    struct timespec t0, t1;
    size_t described = 0;

    pem_cert(&one, leaf);
    for (int i = 0; i < 10000; i++)
        clm_buf_append(&b, one.data, one.len);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT_EQ(read_all(b.data, b.len, NULL, &r), CLM_OK);
    for (size_t i = 0; i < r.n_items; i++) {
        pki_facts *f = NULL;
        described += pki_facts_from_der(r.items[i].der, r.items[i].der_len, &f) == CLM_OK;
        pki_facts_free(f);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("10,000-certificate PEM: read and described in %.3f s\n", seconds);
    CHECK_INT_EQ(r.n_certs, 10000);
    CHECK_INT_EQ(described, 10000);
    CHECK(seconds < 20.0); /* a generous bound: sanitizers and a loaded machine */
    pki_read_result_free(&r);
    clm_buf_free(&one);
    clm_buf_free(&b);
}

int main(void)
{
    ca_key = tc_key(PKI_KEY_EC_P256);
    leaf_key = tc_key(PKI_KEY_EC_P256);
    ca = tc_ca("CN=Read Test Root", ca_key, NULL, NULL, -86400, 365 * 86400);
    leaf = tc_leaf("CN=leaf.example", "DNS:leaf.example", leaf_key, ca, ca_key, -3600, 30 * 86400);
    UNIT_RUN(test_pem_bundle);
    UNIT_RUN(test_pem_errors);
    UNIT_RUN(test_der);
    UNIT_RUN(test_pkcs7);
    UNIT_RUN(test_pkcs12);
    UNIT_RUN(test_pkcs12_aes_file);
    UNIT_RUN(test_jks);
    UNIT_RUN(test_der_keys);
    UNIT_RUN(test_read_file);
    UNIT_RUN(test_big_bundle);
    X509_free(leaf);
    X509_free(ca);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(ca_key);
    return unit_report();
}
