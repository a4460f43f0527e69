/*
 * lib/pki/test_certs.h: certificates for the lib/pki unit tests (header only, static):
 * a builder over the TLS library's X509 API for names, extensions and validity the
 * tests choose, in the API subset OpenSSL 3 and BoringSSL share.
 */
#ifndef CLM_LIB_PKI_TEST_CERTS_H
#define CLM_LIB_PKI_TEST_CERTS_H

#include "lib/pki/key.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

/* 2026-01-01T00:00:00Z */
#define TC_T0 INT64_C(1767225600)

static inline EVP_PKEY *tc_key(pki_key_type type)
{
    EVP_PKEY *key = NULL;

    if (pki_key_generate(type, &key) != CLM_OK)
        abort();
    return key;
}

/* Add an extension from OpenSSL's config syntax ("critical,CA:TRUE"). */
static inline void tc_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
    if (ext == NULL || X509_add_ext(x, ext, -1) != 1)
        abort();
    X509_EXTENSION_free(ext);
}

/* Add an extension whose value is the given DER bytes. */
static inline void tc_ext_der(X509 *x, const char *oid, const unsigned char *der, size_t len)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext;

    if (obj == NULL || value == NULL || ASN1_OCTET_STRING_set(value, der, (int)len) != 1)
        abort();
    ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, value);
    if (ext == NULL || X509_add_ext(x, ext, -1) != 1)
        abort();
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(value);
    ASN1_OBJECT_free(obj);
}

/* A name from "CN=a,O=b" pairs (UTF-8 values, one RDN each). */
static inline X509_NAME *tc_name(const char *spec)
{
    X509_NAME *name = X509_NAME_new();
    char *copy = strdup(spec), *save = NULL;

    if (name == NULL || copy == NULL)
        abort();
    for (char *part = strtok_r(copy, ",", &save); part != NULL; part = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(part, '=');
        if (eq == NULL)
            abort();
        *eq = '\0';
        if (X509_NAME_add_entry_by_txt(name, part, MBSTRING_UTF8, (unsigned char *)eq + 1, -1, -1,
                                       0) != 1)
            abort();
    }
    free(copy);
    return name;
}

/* A certificate: version 1 or 3, serial, validity in seconds from TC_T0, the subject's
 * key, issuer name and signing key (self-signed when issuer is NULL). */
typedef struct tc_spec {
    int version; /* 1 or 3 (0: 3) */
    long serial;
    X509_NAME *subject;   /* borrowed */
    EVP_PKEY *key;        /* the subject's key */
    X509 *issuer;         /* NULL: self-signed */
    EVP_PKEY *issuer_key; /* NULL: key */
    int64_t not_before;   /* offset from TC_T0 */
    int64_t not_after;
    const EVP_MD *md; /* NULL: SHA-256 */
} tc_spec;

static inline X509 *tc_begin(const tc_spec *s)
{
    X509 *x = X509_new();
    ASN1_TIME *t;

    if (x == NULL || X509_set_version(x, s->version == 1 ? 0 : 2) != 1 ||
        ASN1_INTEGER_set(X509_get_serialNumber(x), s->serial) != 1 ||
        X509_set_subject_name(x, s->subject) != 1 ||
        X509_set_issuer_name(x, s->issuer ? X509_get_subject_name(s->issuer) : s->subject) != 1 ||
        X509_set_pubkey(x, s->key) != 1)
        abort();
    t = ASN1_TIME_set(NULL, (time_t)(TC_T0 + s->not_before));
    if (t == NULL || X509_set1_notBefore(x, t) != 1)
        abort();
    ASN1_TIME_free(t);
    t = ASN1_TIME_set(NULL, (time_t)(TC_T0 + s->not_after));
    if (t == NULL || X509_set1_notAfter(x, t) != 1)
        abort();
    ASN1_TIME_free(t);
    return x;
}

static inline void tc_sign(X509 *x, const tc_spec *s)
{
    EVP_PKEY *signer = s->issuer_key ? s->issuer_key : s->key;

    if (X509_sign(x, signer, s->md ? s->md : EVP_sha256()) <= 0)
        abort();
}

/* DER of a certificate; free with free(). */
static inline unsigned char *tc_der(X509 *x, size_t *len)
{
    unsigned char *der = NULL, *copy;
    int n = i2d_X509(x, &der);

    if (n <= 0 || (copy = malloc((size_t)n)) == NULL)
        abort();
    memcpy(copy, der, (size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return copy;
}

/* A CA: v3, CA:TRUE, keyCertSign, SKI (and AKI when issued by another). */
static inline X509 *tc_ca(const char *subject, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                          int64_t not_before, int64_t not_after)
{
    X509_NAME *name = tc_name(subject);
    tc_spec s = {3, 1000, name, key, issuer, issuer_key, not_before, not_after, NULL};
    X509 *x = tc_begin(&s);

    tc_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
    tc_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    tc_ext(x, issuer, NID_subject_key_identifier, "hash");
    if (issuer != NULL)
        tc_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
    tc_sign(x, &s);
    X509_NAME_free(name);
    return x;
}

/* A server leaf with SANs ("DNS:a.example,IP:192.0.2.1"). */
static inline X509 *tc_leaf(const char *subject, const char *sans, EVP_PKEY *key, X509 *issuer,
                            EVP_PKEY *issuer_key, int64_t not_before, int64_t not_after)
{
    X509_NAME *name = tc_name(subject);
    tc_spec s = {3, 2000, name, key, issuer, issuer_key, not_before, not_after, NULL};
    X509 *x = tc_begin(&s);

    tc_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
    tc_ext(x, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    tc_ext(x, issuer, NID_ext_key_usage, "serverAuth,clientAuth");
    if (sans != NULL)
        tc_ext(x, issuer, NID_subject_alt_name, sans);
    tc_ext(x, issuer, NID_subject_key_identifier, "hash");
    tc_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
    tc_sign(x, &s);
    X509_NAME_free(name);
    return x;
}

#endif
