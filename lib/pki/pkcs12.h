/*
 * lib/pki/pkcs12.h: PKCS#12 (PFX) bundles of a private key, its certificate and the CA
 * chain, for clients that import one file (browsers, Windows, Java, grpcurl-style tools).
 *
 * Written with the profile that OpenSSL 3, BoringSSL and Windows all read:
 * pbeWithSHAAnd3-KeyTripleDES-CBC for the key and the certificates, 2048 KDF
 * iterations, and a SHA-1 HMAC over the whole (2048 iterations). BoringSSL rejects the
 * AES-256/PBES2 profile that OpenSSL 3 uses by default (TOOLCHAIN.md).
 *
 * Caveats: the password is a secret: it is never copied into messages, and callers wipe
 * it after use. The bytes of a PKCS#12 are not secret on their own (the key inside is
 * encrypted), but they are only as strong as the password.
 *
 * Thread rules: every function may be called from any thread.
 */
#ifndef CLM_LIB_PKI_PKCS12_H
#define CLM_LIB_PKI_PKCS12_H

#include "lib/base/buf.h"
#include "lib/base/error.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

/** KDF and MAC iterations written by pki_pkcs12_write(). */
#define PKI_PKCS12_ITERATIONS 2048

/** What pki_pkcs12_read() returns; every member is owned by the struct. */
typedef struct pki_pkcs12_contents {
    EVP_PKEY *key; /* the private key */
    X509 *cert;    /* the certificate matching key */
    X509 **chain;  /* the other certificates, in file order; NULL when none */
    size_t n_chain;
    char *friendly_name; /* the certificate's friendlyName as UTF-8, or NULL */
} pki_pkcs12_contents;

/**
 * @brief Encode key, cert and chain as a password-protected PKCS#12 and append its DER
 * to out.
 * @param[in]     key           private key; must match cert.
 * @param[in]     cert          the certificate.
 * @param[in]     chain         CA certificates to include (borrowed), or NULL when n_chain is 0.
 * @param[in]     n_chain       number of chain certificates.
 * @param[in]     friendly_name shown by importers (Windows "Friendly name"); NULL for none.
 * @param[in]     password      NUL-terminated; at least 1 character.
 * @param[in,out] out           appended to; may be reallocated.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT (missing input, empty password, key not
 *         matching cert); CLM_ERR_CRYPTO when encoding fails (library's reason).
 */
clm_err pki_pkcs12_write(EVP_PKEY *key, X509 *cert, X509 *const *chain, size_t n_chain,
                         const char *friendly_name, const char *password, clm_buf *out);

/**
 * @brief Decode a PKCS#12 from DER and decrypt it.
 * @param[in]  der      the bytes.
 * @param[in]  password NUL-terminated.
 * @param[out] out      filled on success; release with pki_pkcs12_contents_free(). Zeroed
 *                      on error.
 * @return CLM_OK; CLM_ERR_PARSE when the bytes do not have the outer shape of a PKCS#12
 *         or it holds no key and certificate; CLM_ERR_UNAUTHENTICATED when the MAC does
 *         not verify: the password is wrong, or the file was damaged after it was made
 *         (the two cannot be told apart); CLM_ERR_CRYPTO for other decryption failures.
 */
clm_err pki_pkcs12_read(const void *der, size_t len, const char *password,
                        pki_pkcs12_contents *out);

/** Free everything in c and zero it. Accepts NULL and a zeroed struct. */
void pki_pkcs12_contents_free(pki_pkcs12_contents *c);

#endif
