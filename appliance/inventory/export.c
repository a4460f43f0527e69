/* appliance/inventory/export.c: PEM, DER, PKCS#7 and PKCS#12 exports. */
#include "appliance/inventory/export.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "appliance/inventory/groups.h"
#include "appliance/inventory/tables.h"
#include "lib/pki/key.h"

clm_err export_validate(const Clm__V1__ExportCertificateRequest *req)
{
    int format = req->format;

    if (format < 0 || format > CLM__V1__EXPORT_FORMAT__EXPORT_FORMAT_PFX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "format: %d is not PEM, DER, P7B or PFX", format);
    if (req->pfx_cipher < 0 || req->pfx_cipher > CLM__V1__PFX_CIPHER__PFX_CIPHER_AES256)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "pfx_cipher: %d is not 3DES or AES256",
                        req->pfx_cipher);
    if (req->include_private_key) {
        if (format != CLM__V1__EXPORT_FORMAT__EXPORT_FORMAT_PEM &&
            format != CLM__V1__EXPORT_FORMAT__EXPORT_FORMAT_PFX)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "include_private_key: only with format PEM or PFX");
        if (strlen(req->password) < EXPORT_PASSWORD_MIN)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "password: at least %d characters to protect the private key",
                            EXPORT_PASSWORD_MIN);
    }
    if (format == CLM__V1__EXPORT_FORMAT__EXPORT_FORMAT_PFX && !req->include_private_key)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "format: PFX carries a private key; set include_private_key (or use "
                        "P7B for certificates only)");
    if (format == CLM__V1__EXPORT_FORMAT__EXPORT_FORMAT_DER && req->include_chain)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "include_chain: DER holds one certificate; use PEM or P7B for a chain");
    return CLM_OK;
}

clm_err export_chain(store_txn *txn, clm_arena *arena, const Clm__Store__V1__CertificateRecord *leaf,
                     Clm__Store__V1__CertificateRecord **chain, size_t *n_chain)
{
    const Clm__Store__V1__CertificateRecord *cur = leaf;

    *n_chain = 0;
    while (*n_chain < EXPORT_MAX_CHAIN && !cur->self_signed && cur->aki.len > 0) {
        store_item item;
        clm_err err = store_index_get(txn, &inventory_certificates, CERT_INDEX(CERT_INDEX_SKI),
                                      cur->aki.data, cur->aki.len, &item);
        if (err == CLM_ERR_NOT_FOUND)
            break; /* the rest of the chain is not in the inventory */
        if (err != CLM_OK)
            return err;
        Clm__Store__V1__CertificateRecord *issuer =
            (void *)inventory_unpack(arena, &inventory_certificates, &item);
        if (issuer == NULL)
            return clm_fail(CLM_ERR_STORE, "certificate record does not unpack");
        if (issuer->id == cur->id)
            break;
        chain[(*n_chain)++] = issuer;
        cur = issuer;
    }
    return CLM_OK;
}

static X509 *x509_of(const Clm__Store__V1__CertificateRecord *r)
{
    const unsigned char *p = r->der.data;

    return d2i_X509(NULL, &p, (long)r->der.len);
}

static clm_err open_key(const Clm__Store__V1__CertificateRecord *leaf, const seal_key *seal,
                        EVP_PKEY **key)
{
    char aad[80];
    char hex[65];
    clm_buf pem = CLM_BUF_INIT;
    clm_err err;

    if (leaf->sealed_private_key.len == 0)
        return clm_fail(CLM_ERR_NOT_FOUND,
                        "include_private_key: no private key is stored for this certificate");
    clm_hex_encode(hex, leaf->sha256.data, leaf->sha256.len < 32 ? leaf->sha256.len : 32);
    snprintf(aad, sizeof(aad), "cert-key:%s", hex);
    err = seal_open(seal, aad, leaf->sealed_private_key.data, leaf->sealed_private_key.len, &pem);
    if (err == CLM_OK)
        err = pki_key_from_pem(pem.data, pem.len, key);
    clm_buf_wipe(&pem);
    return err;
}

static clm_err append_bio(BIO *bio, clm_buf *out)
{
    char *data;
    long len = BIO_get_mem_data(bio, &data);

    return clm_buf_append(out, data, (size_t)len);
}

static clm_err export_pem(const Clm__V1__ExportCertificateRequest *req, X509 *leaf,
                          X509 *const *chain, size_t n, EVP_PKEY *key, clm_buf *out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int ok = bio != NULL;
    clm_err err;

    if (ok && key != NULL)
        ok = PEM_write_bio_PKCS8PrivateKey(bio, key, EVP_aes_256_cbc(), NULL, 0, NULL,
                                           (void *)req->password) == 1;
    ok = ok && PEM_write_bio_X509(bio, leaf) == 1;
    for (size_t i = 0; ok && i < n; i++)
        ok = PEM_write_bio_X509(bio, chain[i]) == 1;
    err = ok ? append_bio(bio, out) : clm_fail(CLM_ERR_CRYPTO, "PEM encoding failed");
    BIO_free(bio);
    return err;
}

static clm_err export_p7b(X509 *leaf, X509 *const *chain, size_t n, clm_buf *out)
{
    PKCS7 *p7 = PKCS7_new();
    unsigned char *der = NULL;
    int len = -1;
    int ok = p7 != NULL && PKCS7_set_type(p7, NID_pkcs7_signed) == 1 &&
             PKCS7_content_new(p7, NID_pkcs7_data) == 1 && PKCS7_add_certificate(p7, leaf) == 1;
    clm_err err;

    for (size_t i = 0; ok && i < n; i++)
        ok = PKCS7_add_certificate(p7, chain[i]) == 1;
    if (ok)
        len = i2d_PKCS7(p7, &der);
    err = len > 0 ? clm_buf_append(out, der, (size_t)len)
                  : clm_fail(CLM_ERR_CRYPTO, "PKCS#7 encoding failed");
    OPENSSL_free(der);
    PKCS7_free(p7);
    return err;
}

static clm_err export_pfx(const Clm__V1__ExportCertificateRequest *req, X509 *leaf,
                          X509 *const *chain, size_t n, EVP_PKEY *key, clm_buf *out)
{
    int aes = req->pfx_cipher == CLM__V1__PFX_CIPHER__PFX_CIPHER_AES256;
    int nid = aes ? NID_aes_256_cbc : NID_pbe_WithSHA1And3_Key_TripleDES_CBC;
    STACK_OF(X509) *ca = sk_X509_new_null();
    PKCS12 *p12 = NULL;
    unsigned char *der = NULL;
    int len = -1;
    clm_err err;

    for (size_t i = 0; ca != NULL && i < n; i++)
        sk_X509_push(ca, chain[i]);
    /* 3DES with 2048 iterations reads on every Windows and in BoringSSL; AES-256
       (PBES2) is the modern choice for new systems. */
    if (ca != NULL)
        p12 = PKCS12_create(req->password, NULL, key, leaf, ca, nid, nid, 2048, 2048, 0);
    if (p12 != NULL)
        len = i2d_PKCS12(p12, &der);
    err = len > 0 ? clm_buf_append(out, der, (size_t)len)
                  : clm_fail(CLM_ERR_CRYPTO, "PKCS#12 encoding failed");
    if (der != NULL)
        OPENSSL_cleanse(der, (size_t)len);
    OPENSSL_free(der);
    PKCS12_free(p12);
    sk_X509_free(ca); /* the certificates belong to the caller */
    return err;
}

clm_err export_encode(const Clm__V1__ExportCertificateRequest *req,
                      const Clm__Store__V1__CertificateRecord *leaf_record,
                      Clm__Store__V1__CertificateRecord *const *chain_records, size_t n_chain,
                      const seal_key *seal, clm_buf *out)
{
    X509 *leaf = x509_of(leaf_record);
    X509 *chain[EXPORT_MAX_CHAIN];
    EVP_PKEY *key = NULL;
    size_t n = 0;
    clm_err err = CLM_OK;

    if (leaf == NULL)
        return clm_fail(CLM_ERR_STORE, "the stored certificate does not decode");
    for (size_t i = 0; req->include_chain && i < n_chain && i < EXPORT_MAX_CHAIN; i++)
        if ((chain[n] = x509_of(chain_records[i])) != NULL)
            n++;
    if (req->include_private_key)
        err = open_key(leaf_record, seal, &key);
    if (err == CLM_OK) {
        switch (req->format) {
        case CLM__V1__EXPORT_FORMAT__EXPORT_FORMAT_DER:
            err = clm_buf_append(out, leaf_record->der.data, leaf_record->der.len);
            break;
        case CLM__V1__EXPORT_FORMAT__EXPORT_FORMAT_P7B:
            err = export_p7b(leaf, chain, n, out);
            break;
        case CLM__V1__EXPORT_FORMAT__EXPORT_FORMAT_PFX:
            err = export_pfx(req, leaf, chain, n, key, out);
            break;
        default:
            err = export_pem(req, leaf, chain, n, key, out);
            break;
        }
    }
    EVP_PKEY_free(key);
    X509_free(leaf);
    for (size_t i = 0; i < n; i++)
        X509_free(chain[i]);
    return err;
}
