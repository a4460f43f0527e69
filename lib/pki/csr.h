/*
 * lib/pki/csr.h: certificate signing requests (PKCS#10): build one from the fields a
 * user enters, checked against the rules of the enrollment form and the group policy,
 * and read an uploaded one.
 *
 * The field rules (the CSR parameters of the reference gateway guide, made precise):
 *   common_name        required; 1 to 64 characters; letters, digits, '-', '_' and '.'
 *                      (the guide allows no special characters but '_' and '-'; '.' is
 *                      needed for the FQDN it asks for), no leading, trailing or double
 *                      '.', and "*." as the whole leftmost label for a wildcard.
 *   sans               optional; entries separated by commas (blanks around them are
 *                      ignored), at most PKI_CSR_SANS_MAX; each an IPv4/IPv6 literal or
 *                      a DNS name (pki_name_check_dns: LDH labels, IDN in xn-- form); a
 *                      wildcard only as the whole leftmost label and followed by at least
 *                      two labels ("*.example.com", not "*.com" or "a*.example.com");
 *                      no entry twice (ignoring case).
 *   organization, org_unit      optional; 1 to 64 characters of UTF-8 text.
 *   locality, state             optional; 1 to 128 characters of UTF-8 text.
 *   country            optional unless the policy requires it; two upper-case letters
 *                      A-Z (the ISO 3166-1 alpha-2 format, e.g. "US"; the format is
 *                      checked, not the list of assigned codes).
 *   email              optional unless the policy requires it; local@domain, at most
 *                      254 characters; local part 1 to 64 characters of RFC 5322
 *                      dot-atom text; domain a DNS name with at least two labels.
 *   challenge_password optional; when given: 8 to 255 printable ASCII characters with
 *                      at least one upper-case letter, one lower-case letter, one digit
 *                      and one special character (the guide's rule, plus clm's length
 *                      bounds).
 *   hash               one of the policy's hashes (default: SHA256, SHA384, SHA512).
 *   key                its type and size (pki_key_type) one of the policy's key types
 *                      (default: all of pki_key_type).
 * Text fields (all but the password) may not hold control characters. Every violated
 * rule is reported, in field order, in one CLM_ERR_INVALID_ARGUMENT message whose
 * parts name the field: "csr.common_name: 70 characters, at most 64; csr.country:
 * \"usa\" is not 2 upper-case letters (ISO 3166-1 alpha-2, e.g. US)".
 *
 * Caveats: the challenge password is a secret: it never appears in messages.
 *
 * Thread rules: every function may be called from any thread.
 */
#ifndef CLM_LIB_PKI_CSR_H
#define CLM_LIB_PKI_CSR_H

#include "lib/base/buf.h"
#include "lib/base/error.h"
#include "lib/pki/facts.h"
#include "lib/pki/key.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

/** Most subjectAltName entries one request may carry. */
#define PKI_CSR_SANS_MAX 1000

/** Hash functions a request may be signed with. Stored by name, never by value. */
typedef enum pki_hash {
    PKI_HASH_SHA256 = 0,
    PKI_HASH_SHA384,
    PKI_HASH_SHA512,
    PKI_HASH_SHA1, /* legacy: never allowed unless a policy lists it */
    PKI_HASH_MAX
} pki_hash;

/** @return "SHA256", "SHA384", "SHA512", "SHA1"; "unknown" outside the enum. */
const char *pki_hash_name(pki_hash hash);

/**
 * @brief Parse a hash name, ignoring case and an inner '-' ("sha256", "SHA-256").
 * @return CLM_OK or CLM_ERR_INVALID_ARGUMENT naming the value.
 */
clm_err pki_hash_parse(const char *name, pki_hash *out);

/** What a group policy allows; every array is borrowed. */
typedef struct pki_csr_policy {
    const pki_key_type *key_types; /* allowed; NULL/0: every pki_key_type */
    size_t n_key_types;
    const pki_hash *hashes; /* allowed; NULL/0: SHA256, SHA384, SHA512 */
    size_t n_hashes;
    bool require_country; /* the guide: required for renewals */
    bool require_email;
} pki_csr_policy;

/** The fields of a request; every string is borrowed, NULL when not given. */
typedef struct pki_csr_fields {
    const char *common_name;
    const char *sans; /* "www.example.com, example.com, 192.0.2.10" */
    const char *organization;
    const char *org_unit;
    const char *locality;
    const char *state;
    const char *country;
    const char *email;
    const char *challenge_password;
    pki_hash hash;
} pki_csr_fields;

/**
 * @brief Check the fields against the rules above and the policy.
 * @param[in] policy may be NULL (the defaults).
 * @param[in] key    the key that will sign, checked against the policy; NULL skips that rule.
 * @return CLM_OK, or CLM_ERR_INVALID_ARGUMENT listing every violation.
 */
clm_err pki_csr_check(const pki_csr_fields *fields, const pki_csr_policy *policy, EVP_PKEY *key);

/**
 * @brief Check (pki_csr_check), then build and sign a PKCS#10 request and append it as
 * PEM ("BEGIN CERTIFICATE REQUEST") to out. Subject order: C, ST, L, O, OU, CN,
 * emailAddress; the SANs go into an extensionRequest; the challenge password into the
 * challengePassword attribute.
 * @param[in]     key the private key (its public part is requested).
 * @param[in,out] out appended to; may be reallocated.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT (rules); CLM_ERR_CRYPTO (signing);
 *         CLM_ERR_NO_MEMORY.
 */
clm_err pki_csr_build(const pki_csr_fields *fields, const pki_csr_policy *policy, EVP_PKEY *key,
                      clm_buf *out);

/**
 * @brief Read an uploaded request (PEM "CERTIFICATE REQUEST" / "NEW CERTIFICATE REQUEST",
 * or DER) and check its signature with its own key (proof of possession).
 * @param[out] out facts in the certificate shape (facts.h): version, subject, common
 *             name, SANs and the other requested extensions, key, signature algorithm,
 *             sha1/sha256 of the request's DER. The certificate-only fields stay empty
 *             (issuer and serial NULL, times 0). Free with pki_facts_free().
 * @return CLM_OK; CLM_ERR_PARSE (not a request, truncated); CLM_ERR_CRYPTO when the
 *         signature does not verify; CLM_ERR_NO_MEMORY.
 */
clm_err pki_csr_parse(const void *data, size_t len, pki_facts **out);

/**
 * @brief Read a request as pki_csr_parse() does (PEM or DER, version 1, signature checked
 * with its own key), and hand over the request itself: for a CA that signs it.
 * @param[out] out the request; the caller frees it with X509_REQ_free(). NULL on error.
 * @return CLM_OK; CLM_ERR_PARSE (not a request, truncated, trailing bytes, version);
 *         CLM_ERR_CRYPTO when the signature does not verify.
 */
clm_err pki_csr_read(const void *data, size_t len, X509_REQ **out);

#endif
