/*
 * lib/pki/x509_build.h: the building blocks cert.c makes certificates with, for issuers
 * that fill in a certificate themselves (the local CA of adapters/ca/local): serial,
 * validity, basicConstraints, keyUsage, key identifiers, and the signature.
 *
 * Each function adds to an X509 the caller owns; on error the certificate may be half
 * built and is only good for X509_free(). Messages carry the library's reason.
 *
 * Thread rules: every function may be called from any thread; the issuer's certificate
 * and key are only read, so several threads may issue from one CA at once.
 */
#ifndef CLM_LIB_PKI_X509_BUILD_H
#define CLM_LIB_PKI_X509_BUILD_H

#include "lib/base/error.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdint.h>

/**
 * @brief Set a 128-bit random positive serial number (16 CSPRNG bytes, never zero; DER
 * adds a 0x00 when the top bit is set: 17 octets at most, within RFC 5280's 20).
 * @return CLM_OK; CLM_ERR_CRYPTO (the generator failed); CLM_ERR_NO_MEMORY.
 */
clm_err pki_x509_set_random_serial(X509 *x);

/**
 * @brief Set notBefore and notAfter, seconds since the epoch (UTCTime until 2049,
 * GeneralizedTime after, as RFC 5280 4.1.2.5 asks).
 * @return CLM_OK; CLM_ERR_CRYPTO.
 */
clm_err pki_x509_set_validity(X509 *x, int64_t not_before, int64_t not_after);

/**
 * @brief Add basicConstraints, critical.
 * @param[in] pathlen pathLenConstraint for a CA, -1 for none; ignored when !ca.
 */
clm_err pki_x509_add_basic_constraints(X509 *x, bool ca, long pathlen);

/**
 * @brief Add keyUsage, critical, with the PKI_KU_* bits of facts.h.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT when no bit or an unknown bit is set;
 *         CLM_ERR_CRYPTO.
 */
clm_err pki_x509_add_key_usage(X509 *x, unsigned usage);

/** @brief Add subjectKeyIdentifier: SHA-1 of the subjectPublicKey (RFC 5280 4.2.1.2 (1)). */
clm_err pki_x509_add_ski(X509 *x);

/** @brief Add authorityKeyIdentifier: the issuer's SKI, or the hash of its key. */
clm_err pki_x509_add_aki(X509 *x, X509 *issuer);

/**
 * @brief Sign with SHA-256 (SHA-384 for EC keys of 384 bits or more).
 * @return CLM_OK; CLM_ERR_CRYPTO.
 */
clm_err pki_x509_sign(X509 *x, EVP_PKEY *signer);

/** @return the digest pki_x509_sign() uses for signer (also right for a CRL). */
const EVP_MD *pki_x509_sign_digest(EVP_PKEY *signer);

#endif
