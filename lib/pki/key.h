/*
 * lib/pki/key.h: private keys: generate, write as PEM (PKCS#8), read from PEM.
 *
 * Keys are the TLS library's EVP_PKEY (OpenSSL 3 or BoringSSL: lib/pki keeps to the API
 * both share, see TOOLCHAIN.md). A key returned here is owned by the caller and freed
 * with EVP_PKEY_free(), which accepts NULL.
 *
 * Caveats: PEM text of a private key is a secret. Buffers that held it are released with
 * clm_buf_wipe(), never clm_buf_free(). No message recorded by this module contains key
 * bytes.
 *
 * Thread rules: every function may be called from any thread; one EVP_PKEY may be read
 * (signing, writing) from several threads at once but not freed while in use.
 */
#ifndef CLM_LIB_PKI_KEY_H
#define CLM_LIB_PKI_KEY_H

#include "lib/base/buf.h"
#include "lib/base/error.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

/** The kinds of key clm generates. Stored by name (pki_key_type_name), never by value;
 * new kinds are appended. */
typedef enum pki_key_type {
    PKI_KEY_EC_P256 = 0, /* ECDSA on NIST P-256 (prime256v1): the default */
    PKI_KEY_EC_P384,     /* ECDSA on NIST P-384 (secp384r1) */
    PKI_KEY_RSA_2048,
    PKI_KEY_RSA_3072,
    PKI_KEY_RSA_4096,
    PKI_KEY_EC_P521, /* ECDSA on NIST P-521 (secp521r1) */
    PKI_KEY_RSA_6144,
    PKI_KEY_RSA_7680,
    PKI_KEY_RSA_8192, /* generation takes seconds to minutes */
    PKI_KEY_TYPE_MAX
} pki_key_type;

/**
 * @brief Stable name of a key type: "ec-p256", "ec-p384", "ec-p521", "rsa-2048",
 * "rsa-3072", "rsa-4096", "rsa-6144", "rsa-7680", "rsa-8192".
 * @return a static string; "unknown" outside the enum.
 */
const char *pki_key_type_name(pki_key_type type);

/**
 * @brief Parse a name made by pki_key_type_name(), ignoring case ("RSA-2048" and
 * "EC-P256", the group policy's spelling, are accepted too).
 * @return CLM_OK, or CLM_ERR_INVALID_ARGUMENT naming the unknown value and the known ones.
 */
clm_err pki_key_type_parse(const char *name, pki_key_type *out);

/**
 * @brief Which pki_key_type a key is (RSA of exactly one of the listed sizes, or one of
 * the three NIST curves).
 * @return CLM_OK; CLM_ERR_UNSUPPORTED naming the key ("RSA 1024 bits", "EC secp256k1",
 *         "ED25519") when it is none of them; CLM_ERR_INVALID_ARGUMENT for NULL.
 */
clm_err pki_key_type_of(EVP_PKEY *key, pki_key_type *out);

/**
 * @brief pki_key_type_of() for the key of a request (key: the request's decoded key),
 * reading the curve from the request's SubjectPublicKeyInfo as it is. Why: finding an
 * EVP_PKEY's curve through X509_PUBKEY_set costs about 0.3 ms in OpenSSL 3 (encoder and
 * decoder set-up), more than signing the certificate.
 * @return as pki_key_type_of().
 */
clm_err pki_key_type_of_request(X509_REQ *req, EVP_PKEY *key, pki_key_type *out);

/**
 * @brief Generate a new private key (EVP_PKEY_CTX keygen).
 * @param[in]  type the kind of key.
 * @param[out] out  the new key; the caller frees it with EVP_PKEY_free(). NULL on error.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT for a type outside the enum; CLM_ERR_CRYPTO
 *         when generation fails (message carries the library's reason).
 */
clm_err pki_key_generate(pki_key_type type, EVP_PKEY **out);

/**
 * @brief Append the private key as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY") to out.
 * @param[in]     key the key (not modified; non-const only for the library's prototypes).
 * @param[in,out] out appended to; may be reallocated. Release it with clm_buf_wipe().
 * @return CLM_OK; CLM_ERR_CRYPTO when encoding fails; CLM_ERR_NO_MEMORY. On error out
 *         keeps its previous length (bytes past it may have been written and are wiped).
 */
clm_err pki_key_to_pem(EVP_PKEY *key, clm_buf *out);

/**
 * @brief Read the first private key from PEM text: PKCS#8 ("PRIVATE KEY") or the
 * traditional "EC PRIVATE KEY" / "RSA PRIVATE KEY" forms.
 * @param[in]  pem  the text; need not be NUL-terminated.
 * @param[in]  len  its length in bytes.
 * @param[out] out  the key; the caller frees it with EVP_PKEY_free(). NULL on error.
 * @return CLM_OK; CLM_ERR_UNSUPPORTED for an encrypted key (clm stores keys unencrypted
 *         in 0600 files or sealed in the store, never behind a PEM passphrase);
 *         CLM_ERR_PARSE when no key can be decoded (message carries the library's
 *         reason, never key bytes).
 */
clm_err pki_key_from_pem(const void *pem, size_t len, EVP_PKEY **out);

/**
 * @brief Read a private key from PEM text that may be encrypted: PKCS#8 ("PRIVATE KEY",
 * "ENCRYPTED PRIVATE KEY") or the traditional RSA/EC forms, also with the legacy
 * "Proc-Type: 4,ENCRYPTED" headers. The first key in the text is read.
 * @param[in]  password NUL-terminated, or NULL when none was given.
 * @param[out] out      the key; the caller frees it with EVP_PKEY_free(). NULL on error.
 * @return CLM_OK; CLM_ERR_UNAUTHENTICATED when the key is encrypted and no password was
 *         given, or the password is wrong (a damaged encrypted key looks the same);
 *         CLM_ERR_PARSE when no key can be decoded. Messages never hold key bytes or
 *         the password.
 */
clm_err pki_key_from_pem_password(const void *pem, size_t len, const char *password,
                                  EVP_PKEY **out);

/**
 * @brief Read a DER private key: PKCS#8 PrivateKeyInfo, PKCS#8 EncryptedPrivateKeyInfo
 * (with password), or a traditional RSAPrivateKey / ECPrivateKey.
 * @return as pki_key_from_pem_password().
 */
clm_err pki_key_from_der(const void *der, size_t len, const char *password, EVP_PKEY **out);

/** @return nonzero when key is an RSA key, 0 otherwise (EC, NULL). */
int pki_key_is_rsa(const EVP_PKEY *key);

#endif
