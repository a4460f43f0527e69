/*
 * adapters/ca/acme/jws.h: what ACME signs with (RFC 8555 6.2, RFC 7515, RFC 7638):
 * base64url, the account key's JWK and thumbprint, ES256 JWS in the flattened JSON
 * serialization, and the HS256 JWS of External Account Binding (RFC 8555 7.3.4).
 *
 * Keys are EC P-256 (ES256) EVP_PKEYs, through OpenSSL API that BoringSSL shares
 * (TOOLCHAIN.md): EVP_DigestSign, d2i_ECDSA_SIG, X509_PUBKEY_get0_param, HMAC.
 *
 * Caveats: an EAB MAC key and the account key never reach a message or a log; buffers
 * that held the MAC key are wiped by their owners.
 *
 * Thread rules: every function may be called from any thread; one acme_jwk_key may be
 * used by several threads at once (OpenSSL 3 signs with a shared EVP_PKEY).
 */
#ifndef CLM_ADAPTERS_CA_ACME_JWS_H
#define CLM_ADAPTERS_CA_ACME_JWS_H

#include "lib/base/buf.h"
#include "lib/base/error.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

/** Longest JWK text of a P-256 key ({"crv":"P-256","kty":"EC","x":"43","y":"43"}). */
#define ACME_JWK_MAX 128
/** base64url of a SHA-256 (43 characters) and its NUL. */
#define ACME_THUMBPRINT_MAX 44

/** An account key with its public forms, computed once. */
typedef struct acme_jwk_key {
    EVP_PKEY *pkey;                       /* owned */
    char jwk[ACME_JWK_MAX];               /* RFC 7638 canonical: members sorted, no blanks */
    char thumbprint[ACME_THUMBPRINT_MAX]; /* base64url(SHA-256(jwk)) */
} acme_jwk_key;

/** @brief Append base64url (RFC 4648 5, no padding) of data to out.
 *  @return CLM_OK or CLM_ERR_NO_MEMORY. */
clm_err acme_b64url_append(clm_buf *out, const void *data, size_t len);

/**
 * @brief Decode base64url (padding "=" tolerated at the end only), appending to out.
 * @return CLM_OK; CLM_ERR_PARSE (a character outside the alphabet, a bad length);
 *         CLM_ERR_NO_MEMORY.
 */
clm_err acme_b64url_decode(const char *text, size_t len, clm_buf *out);

/**
 * @brief Take an EC P-256 key and compute its JWK and thumbprint.
 * @param[in] pkey taken over on CLM_OK (freed by acme_jwk_key_clear); untouched on error.
 * @return CLM_OK; CLM_ERR_UNSUPPORTED (not EC P-256); CLM_ERR_CRYPTO.
 */
clm_err acme_jwk_key_init(acme_jwk_key *key, EVP_PKEY *pkey);

/** Free the key and zero the struct. Accepts a zeroed one. */
void acme_jwk_key_clear(acme_jwk_key *key);

/**
 * @brief A flattened JWS (RFC 7515 7.2.2) signed ES256 by key, as ACME wants it:
 * protected {"alg":"ES256", "kid": kid or "jwk": key's JWK, "nonce", "url"}.
 * @param[in] kid     the account URL; NULL: the JWK is sent (newAccount, revokeCert by
 *                    certificate key, keyChange's inner JWS).
 * @param[in] nonce   NULL: no nonce member (keyChange's inner JWS, RFC 8555 7.3.5).
 * @param[in] payload JSON text; NULL or "": the empty payload of POST-as-GET.
 * @param[out] out    the JWS JSON text is appended.
 * @return CLM_OK; CLM_ERR_CRYPTO; CLM_ERR_NO_MEMORY.
 */
clm_err acme_jws_sign(const acme_jwk_key *key, const char *kid, const char *nonce,
                      const char *url, const char *payload, clm_buf *out);

/**
 * @brief The externalAccountBinding member of a newAccount payload (RFC 8555 7.3.4): a
 * JWS with protected {"alg":"HS256","kid":eab_kid,"url":url}, payload the account JWK,
 * MACed with the EAB key.
 * @param[in] mac_key the decoded MAC key (never logged).
 * @return CLM_OK; CLM_ERR_CRYPTO; CLM_ERR_NO_MEMORY.
 */
clm_err acme_eab_jws(const char *eab_kid, const unsigned char *mac_key, size_t mac_key_len,
                     const char *url, const acme_jwk_key *account, clm_buf *out);

#endif
