/*
 * lib/pki/cert.h: X.509 v3 certificates: make a self-signed CA, issue leaf certificates
 * from a template, verify a leaf against a CA, PEM coding, and the fields clm reads
 * (subject and issuer as RFC 4514 strings, CN, OU, SANs, EKU, validity, fingerprint).
 *
 * Certificates are the TLS library's X509 (OpenSSL 3 or BoringSSL; lib/pki keeps to the
 * API both share, see TOOLCHAIN.md). A certificate returned here is owned by the caller
 * and freed with X509_free(), which accepts NULL. Strings returned as `char **` are
 * malloc'd, NUL-terminated, and freed by the caller with free().
 *
 * Time: every function that depends on the current time takes a `const clm_clock *`
 * (clm_clock_system() in production), so expiry logic is tested without waiting.
 *
 * Thread rules: every function may be called from any thread. An X509 or EVP_PKEY
 * argument may be shared by concurrent readers; functions here do not modify their
 * inputs (some prototypes are non-const only because the library's are).
 */
#ifndef CLM_LIB_PKI_CERT_H
#define CLM_LIB_PKI_CERT_H

#include "lib/base/buf.h"
#include "lib/base/clock.h"
#include "lib/base/error.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

/** Extended key usages a leaf may carry (bit set). */
enum {
    PKI_EKU_SERVER_AUTH = 1u << 0, /* id-kp-serverAuth */
    PKI_EKU_CLIENT_AUTH = 1u << 1, /* id-kp-clientAuth */
};

/** How far notBefore is set in the past, for clocks that lag (seconds). */
#define PKI_CERT_BACKDATE_SECONDS 300

/** Longest subject attribute accepted (ub-common-name etc., RFC 5280), in bytes. */
#define PKI_CERT_ATTR_MAX 64

/** Longest validity accepted, in days (100 years). */
#define PKI_CERT_DAYS_MAX 36500

/** Size of the lower-case hex SHA-256 fingerprint with its NUL. */
#define PKI_FINGERPRINT_HEX_SIZE 65

/**
 * What a leaf certificate says. All pointers are borrowed for the duration of the call.
 * Subject attributes are UTF-8 of 1 to PKI_CERT_ATTR_MAX bytes without control characters.
 */
typedef struct pki_cert_template {
    const char *common_name;      /* MUST: subject CN */
    const char *organization;     /* MAY: subject O; NULL for none */
    const char *org_unit;         /* MAY: subject OU; NULL for none (clm: the role) */
    const char *const *dns_names; /* MAY: SAN dNSName entries; "*." leftmost label allowed */
    size_t n_dns_names;
    const char *const *ip_addresses; /* MAY: SAN iPAddress entries as IPv4/IPv6 literals */
    size_t n_ip_addresses;
    int days;     /* MUST: validity from now, 1..PKI_CERT_DAYS_MAX */
    unsigned eku; /* MUST: PKI_EKU_* bits, at least one */
} pki_cert_template;

/**
 * @brief Make a self-signed CA certificate: basicConstraints critical CA:TRUE pathlen 0,
 * keyUsage critical keyCertSign + cRLSign, subjectKeyIdentifier, a 128-bit random
 * serial, notBefore PKI_CERT_BACKDATE_SECONDS in the past, signed with SHA-256
 * (SHA-384 for keys of 384 bits or more on EC).
 * @param[in]  key          the CA's private key (signs, and its public part is certified).
 * @param[in]  common_name  subject CN (required).
 * @param[in]  organization subject O, or NULL.
 * @param[in]  days         validity, 1..PKI_CERT_DAYS_MAX.
 * @param[in]  clock        the time source.
 * @param[out] out          the certificate; the caller frees it with X509_free(). NULL on error.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming a bad field; CLM_ERR_CRYPTO when
 *         building or signing fails (message carries the library's reason).
 */
clm_err pki_cert_create_ca(EVP_PKEY *key, const char *common_name, const char *organization,
                           int days, const clm_clock *clock, X509 **out);

/**
 * @brief Issue a leaf certificate for subject_key, signed by the CA.
 * Extensions: basicConstraints CA:FALSE (critical), keyUsage critical digitalSignature
 * (+ keyEncipherment when subject_key is RSA), extendedKeyUsage from tmpl->eku,
 * subjectAltName (when tmpl has names), subjectKeyIdentifier, authorityKeyIdentifier
 * (the CA's SKI). Serial: 128 random bits. notBefore is PKI_CERT_BACKDATE_SECONDS in the
 * past; notAfter is tmpl->days after now and must not be later than the CA's notAfter.
 * @param[in]  tmpl        what to certify; every field is checked first.
 * @param[in]  subject_key the key to certify (only its public part is used).
 * @param[in]  ca_cert     the issuing CA's certificate.
 * @param[in]  ca_key      the issuing CA's private key; must match ca_cert.
 * @param[in]  clock       the time source.
 * @param[out] out         the certificate; the caller frees it with X509_free(). NULL on error.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the bad field (a SAN that is not a
 *         DNS name or IP literal, days out of range or past the CA's expiry, no EKU,
 *         ca_key not matching ca_cert); CLM_ERR_CRYPTO when building or signing fails.
 */
clm_err pki_cert_issue(const pki_cert_template *tmpl, EVP_PKEY *subject_key, X509 *ca_cert,
                       EVP_PKEY *ca_key, const clm_clock *clock, X509 **out);

/**
 * @brief Verify that leaf chains to ca (a trust anchor) at the clock's time, with
 * X509_STORE / X509_verify_cert: signature, validity of both, CA constraints, and the
 * purpose named by eku (PKI_EKU_SERVER_AUTH or PKI_EKU_CLIENT_AUTH; 0 for none).
 * @return CLM_OK; CLM_ERR_CRYPTO with the verifier's reason ("certificate has
 *         expired", "certificate signature failure", ...) and the failing depth;
 *         CLM_ERR_INVALID_ARGUMENT when eku has more than one bit.
 */
clm_err pki_cert_verify(X509 *leaf, X509 *ca, unsigned eku, const clm_clock *clock);

/**
 * @brief Whether the certificate's public key belongs to key.
 * @return CLM_OK, or CLM_ERR_CRYPTO "the private key does not match the certificate".
 */
clm_err pki_cert_check_key(X509 *cert, EVP_PKEY *key);

/**
 * @brief Append the certificate as PEM ("BEGIN CERTIFICATE") to out.
 * @return CLM_OK; CLM_ERR_CRYPTO; CLM_ERR_NO_MEMORY. out may be reallocated.
 */
clm_err pki_cert_to_pem(X509 *cert, clm_buf *out);

/**
 * @brief Read the first certificate from PEM text.
 * @param[in]  pem the text; need not be NUL-terminated.
 * @param[out] out the certificate; the caller frees it with X509_free(). NULL on error.
 * @return CLM_OK, or CLM_ERR_PARSE with the library's reason.
 */
clm_err pki_cert_from_pem(const void *pem, size_t len, X509 **out);

/**
 * @brief The subject (or issuer) distinguished name as an RFC 4514 string, most
 * specific attribute first ("CN=clm-admin,OU=admin,O=clm"); UTF-8 is kept as is,
 * special characters are escaped.
 * @param[out] out malloc'd; the caller frees it. NULL on error.
 * @return CLM_OK; CLM_ERR_CRYPTO; CLM_ERR_NO_MEMORY.
 */
clm_err pki_cert_subject(X509 *cert, char **out);
clm_err pki_cert_issuer(X509 *cert, char **out);

/**
 * @brief The subject's common name (CN) or organizational unit (OU) as UTF-8; clm maps
 * client certificates to roles by OU.
 * @param[out] out malloc'd; the caller frees it. NULL on error.
 * @return CLM_OK; CLM_ERR_NOT_FOUND when the subject has no such attribute;
 *         CLM_ERR_PARSE when it has more than one (ambiguous: never guess a role), or
 *         when the value cannot be converted to UTF-8 or contains a NUL byte.
 */
clm_err pki_cert_subject_cn(X509 *cert, char **out);
clm_err pki_cert_subject_ou(X509 *cert, char **out);

/**
 * @brief Lower-case hex SHA-256 of the DER certificate (64 characters).
 * @param[out] out PKI_FINGERPRINT_HEX_SIZE bytes.
 * @return CLM_OK or CLM_ERR_CRYPTO.
 */
clm_err pki_cert_fingerprint_sha256(X509 *cert, char out[PKI_FINGERPRINT_HEX_SIZE]);

/**
 * @brief notBefore and notAfter as seconds since the Unix epoch (UTC).
 * @param[out] not_before may be NULL.
 * @param[out] not_after  may be NULL.
 * @return CLM_OK, or CLM_ERR_PARSE when a time field is malformed.
 */
clm_err pki_cert_validity(X509 *cert, int64_t *not_before, int64_t *not_after);

/**
 * @brief The subjectAltName entries clm understands, as text: "DNS:<name>" and
 * "IP:<address>" (inet_ntop form), in certificate order; other kinds are skipped.
 * @param[out] out   malloc'd array of malloc'd strings; free with pki_strv_free().
 *                   NULL with *n_out == 0 when the certificate has no SAN.
 * @param[out] n_out number of entries.
 * @return CLM_OK; CLM_ERR_PARSE for a malformed extension; CLM_ERR_NO_MEMORY.
 */
clm_err pki_cert_sans(X509 *cert, char ***out, size_t *n_out);

/** Free an array made by pki_cert_sans(). Accepts NULL. */
void pki_strv_free(char **v, size_t n);

/**
 * @brief The certificate's extended key usages as PKI_EKU_* bits (others ignored).
 * @return the bits; 0 when there is no EKU extension or it lists neither usage.
 */
unsigned pki_cert_eku(X509 *cert);

#endif
