/* lib/pki/csr_request.c: build a PKCS#10 request (X509_REQ_*) and read an uploaded one. */
#include "lib/pki/csr.h"
#include "lib/pki/facts_internal.h"
#include "lib/pki/name.h"
#include "lib/pki/pki_internal.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

static const EVP_MD *hash_md(pki_hash hash)
{
    switch (hash) {
    case PKI_HASH_SHA256: return EVP_sha256();
    case PKI_HASH_SHA384: return EVP_sha384();
    case PKI_HASH_SHA512: return EVP_sha512();
    case PKI_HASH_SHA1: return EVP_sha1();
    default: return NULL;
    }
}

static clm_err add_subject(X509_REQ *req, const pki_csr_fields *f)
{
    const struct {
        int nid;
        const char *value;
        const char *field;
    } attrs[] = {
        {NID_countryName, f->country, "country"},
        {NID_stateOrProvinceName, f->state, "state"},
        {NID_localityName, f->locality, "locality"},
        {NID_organizationName, f->organization, "organization"},
        {NID_organizationalUnitName, f->org_unit, "org_unit"},
        {NID_commonName, f->common_name, "common_name"},
        {NID_pkcs9_emailAddress, f->email, "email"},
    };
    X509_NAME *name = X509_NAME_new();
    clm_err err = CLM_OK;

    if (name == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < sizeof attrs / sizeof *attrs && err == CLM_OK; i++) {
        if (attrs[i].value != NULL &&
            X509_NAME_add_entry_by_NID(name, attrs[i].nid, MBSTRING_UTF8,
                                       (const unsigned char *)attrs[i].value, -1, -1, 0) != 1)
            err = pki_fail_ssl(CLM_ERR_INVALID_ARGUMENT, "csr.%s: not acceptable", attrs[i].field);
    }
    if (err == CLM_OK && X509_REQ_set_subject_name(req, name) != 1)
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot set the request's subject");
    X509_NAME_free(name);
    return err;
}

static clm_err push_name(GENERAL_NAMES *names, const char *entry)
{
    unsigned char ip[PKI_IP_MAX_BYTES];
    size_t ip_len = 0;
    bool is_ip = pki_name_parse_ip(entry, ip, &ip_len);
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_STRING *value = is_ip ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();

    if (gn == NULL || value == NULL ||
        ASN1_STRING_set(value, is_ip ? (const void *)ip : entry,
                        is_ip ? (int)ip_len : (int)strlen(entry)) != 1) {
        GENERAL_NAME_free(gn);
        ASN1_STRING_free(value);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    GENERAL_NAME_set0_value(gn, is_ip ? GEN_IPADD : GEN_DNS, value);
    if (sk_GENERAL_NAME_push(names, gn) == 0) {
        GENERAL_NAME_free(gn);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    return CLM_OK;
}

/* The SANs (already checked) as an extensionRequest. */
static clm_err add_sans(X509_REQ *req, const char *sans)
{
    GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *ext = NULL;
    char *copy = strdup(sans);
    clm_err err = CLM_OK;

    if (names == NULL || exts == NULL || copy == NULL) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (char *p = copy; err == CLM_OK;) {
        char *comma = strchr(p, ','), *entry = p, *end;
        if (comma != NULL)
            *comma = '\0';
        while (*entry == ' ' || *entry == '\t')
            entry++;
        end = entry + strlen(entry);
        while (end > entry && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        err = push_name(names, entry);
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    if (err != CLM_OK)
        goto done;
    ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, names);
    if (ext == NULL || sk_X509_EXTENSION_push(exts, ext) == 0) {
        X509_EXTENSION_free(ext);
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot encode subjectAltName");
        goto done;
    }
    if (X509_REQ_add_extensions(req, exts) != 1)
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot add the extension request");
done:
    free(copy);
    GENERAL_NAMES_free(names);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return err;
}

/*
 * The request's SubjectPublicKeyInfo. OpenSSL 3's X509_REQ_set_pubkey encodes the key
 * through an encoder it builds from the provider's method store each time, about 0.27 ms
 * for EC P-256: a third of an enrollment (docs/benchmarks.md). For an EC key the SPKI is
 * the curve's OID and the encoded point, set directly here; other keys (and BoringSSL,
 * which has no EVP_PKEY_get1_encoded_public_key) take the library's way.
 */
static int set_pubkey(X509_REQ *req, EVP_PKEY *key)
{
#ifndef OPENSSL_IS_BORINGSSL
    char group[64];
    size_t group_len = 0;
    unsigned char *point = NULL;
    size_t point_len;
    int curve;

    if (EVP_PKEY_base_id(key) == EVP_PKEY_EC &&
        EVP_PKEY_get_group_name(key, group, sizeof group, &group_len) == 1 &&
        group_len < sizeof group &&
        ((curve = OBJ_sn2nid(group)) != NID_undef || (curve = EC_curve_nist2nid(group)) != NID_undef) &&
        (point_len = EVP_PKEY_get1_encoded_public_key(key, &point)) > 0) {
        /* X509_PUBKEY_set0_param takes the OIDs (static ones here) and the point */
        if (X509_PUBKEY_set0_param(X509_REQ_get_X509_PUBKEY(req), OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
                                   V_ASN1_OBJECT, OBJ_nid2obj(curve), point, (int)point_len) == 1)
            return 1;
        OPENSSL_free(point);
    }
    ERR_clear_error();
#endif
    return X509_REQ_set_pubkey(req, key);
}

clm_err pki_csr_build(const pki_csr_fields *fields, const pki_csr_policy *policy, EVP_PKEY *key,
                      clm_buf *out)
{
    X509_REQ *req = NULL;
    BIO *bio = NULL;
    clm_err err;

    if (key == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "csr: a key is required");
    if ((err = pki_csr_check(fields, policy, key)) != CLM_OK)
        return err;
    req = X509_REQ_new();
    if (req == NULL || X509_REQ_set_version(req, 0) != 1) {
        err = pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot make a request");
        goto done;
    }
    if ((err = add_subject(req, fields)) != CLM_OK)
        goto done;
    if (fields->sans != NULL && (err = add_sans(req, fields->sans)) != CLM_OK)
        goto done;
    if (fields->challenge_password != NULL &&
        X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword, MBSTRING_UTF8,
                                  (const unsigned char *)fields->challenge_password, -1) != 1) {
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot add the challenge password");
        goto done;
    }
    if (set_pubkey(req, key) != 1 || X509_REQ_sign(req, key, hash_md(fields->hash)) <= 0) {
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot sign the request");
        goto done;
    }
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_X509_REQ(bio, req) != 1)
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot encode the request as PEM");
    else
        err = pki_bio_drain(bio, out, 0);
done:
    BIO_free(bio);
    X509_REQ_free(req); /* the challenge password is in it: the library frees it */
    ERR_clear_error();
    return err;
}

/* ---- reading -------------------------------------------------------------------------------- */

static clm_err request_facts(X509_REQ *req, pki_facts *f)
{
    const X509_ALGOR *alg = NULL;
    STACK_OF(X509_EXTENSION) * exts;
    X509_PUBKEY *pub = NULL;
    EVP_PKEY *pkey;
    unsigned char *der = NULL;
    int der_len;
    clm_err err;

    /* version and signature: checked by pki_csr_read() */
    f->version = 1;
    pkey = X509_REQ_get_pubkey(req);
    if (pkey == NULL)
        return pki_fail_ssl(CLM_ERR_PARSE, "the request's public key cannot be decoded");
    err = X509_PUBKEY_set(&pub, pkey) == 1 ? pki_facts_openssl_key(f, pub, pkey)
                                           : pki_fail_ssl(CLM_ERR_PARSE, "cannot read the key");
    X509_PUBKEY_free(pub);
    EVP_PKEY_free(pkey);
    if (err != CLM_OK)
        return err;
    X509_REQ_get0_signature(req, NULL, &alg);
    if ((err = pki_facts_openssl_signature(f, alg)) != CLM_OK ||
        (err = pki_facts_openssl_name(f, X509_REQ_get_subject_name(req), &f->subject)) != CLM_OK ||
        (err = pki_facts_openssl_cn(f, X509_REQ_get_subject_name(req))) != CLM_OK)
        return err;
    exts = X509_REQ_get_extensions(req);
    err = pki_facts_openssl_extensions(f, exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    if (err != CLM_OK)
        return err;
    der_len = i2d_X509_REQ(req, &der);
    if (der_len <= 0 || !pki_facts_digests(f, der, (size_t)der_len))
        err = pki_fail_ssl(CLM_ERR_PARSE, "cannot hash the request");
    OPENSSL_free(der);
    return err;
}

clm_err pki_csr_read(const void *data, size_t len, X509_REQ **out)
{
    X509_REQ *req = NULL;
    EVP_PKEY *pkey;
    clm_err err;

    *out = NULL;
    if (data == NULL || len == 0 || len > PKI_FACTS_DER_MAX)
        return clm_fail(CLM_ERR_PARSE, "certificate request: empty or larger than %d bytes",
                        PKI_FACTS_DER_MAX);
    if (memmem(data, len, "-----BEGIN ", 11) != NULL) {
        BIO *bio;
        if ((err = pki_bio_from_mem(data, len, "certificate request PEM", &bio)) != CLM_OK)
            return err;
        req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
        BIO_free(bio);
    } else {
        const unsigned char *p = data;
        req = d2i_X509_REQ(NULL, &p, (long)len);
        if (req != NULL && p != (const unsigned char *)data + len) {
            X509_REQ_free(req);
            return clm_fail(CLM_ERR_PARSE, "bytes after the certificate request");
        }
    }
    if (req == NULL)
        return pki_fail_ssl(CLM_ERR_PARSE, "not a certificate request (PKCS#10)");
    if (X509_REQ_get_version(req) != 0) {
        long version = X509_REQ_get_version(req);
        X509_REQ_free(req);
        return clm_fail(CLM_ERR_PARSE, "request version %ld is not 1", version + 1);
    }
    /* X509_REQ_get_pubkey, not get0: BoringSSL has only the former */
    pkey = X509_REQ_get_pubkey(req);
    if (pkey == NULL) {
        X509_REQ_free(req);
        return pki_fail_ssl(CLM_ERR_PARSE, "the request's public key cannot be decoded");
    }
    if (X509_REQ_verify(req, pkey) != 1) {
        EVP_PKEY_free(pkey);
        X509_REQ_free(req);
        return pki_fail_ssl(CLM_ERR_CRYPTO,
                            "the request's signature does not verify with its own key (it was "
                            "altered, or not signed by the key it names)");
    }
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    *out = req;
    return CLM_OK;
}

clm_err pki_csr_parse(const void *data, size_t len, pki_facts **out)
{
    X509_REQ *req = NULL;
    pki_facts *f;
    clm_err err;

    *out = NULL;
    if ((err = pki_csr_read(data, len, &req)) != CLM_OK)
        return err;
    f = pki_facts_alloc();
    if (f == NULL) {
        X509_REQ_free(req);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    err = request_facts(req, f);
    X509_REQ_free(req);
    ERR_clear_error();
    if (err != CLM_OK) {
        pki_facts_free(f);
        return err;
    }
    *out = f;
    return CLM_OK;
}
