/*
 * lib/pki/facts_internal.h: building pki_facts, shared by the fast path (x509_fast.c),
 * the OpenSSL path (facts_openssl.c) and the CSR reader (csr.c). Not a public header.
 *
 * Both paths build strings with these helpers so that a value has one text form. Every
 * helper allocates in the facts' arena and returns NULL (or false) only when out of
 * memory.
 */
#ifndef CLM_LIB_PKI_FACTS_INTERNAL_H
#define CLM_LIB_PKI_FACTS_INTERNAL_H

#include "lib/pki/facts.h"

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

/** Dotted OIDs read by both paths. */
#define PKI_OID_MS_TEMPLATE "1.3.6.1.4.1.311.21.7"
#define PKI_OID_MS_TEMPLATE_NAME "1.3.6.1.4.1.311.20.2"

/** A zeroed pki_facts with path_len and template versions at -1. NULL when out of memory. */
pki_facts *pki_facts_alloc(void);

/** Copy text; bytes below 0x20 and 0x7f become '?', and with ia5 also bytes >= 0x80. */
char *pki_facts_text(pki_facts *f, const void *bytes, size_t len, bool ia5);

/** Lower-case hex of len bytes ("" for none). */
char *pki_facts_hex(pki_facts *f, const unsigned char *bytes, size_t len);

/** The serial text from an INTEGER's magnitude (big-endian, leading zeros allowed). */
char *pki_facts_serial(pki_facts *f, const unsigned char *magnitude, size_t len, bool negative);

/** An iPAddress as text (see facts.h). */
char *pki_facts_ip(pki_facts *f, const unsigned char *bytes, size_t len);

/** Append s (already in the arena) to v. */
bool pki_facts_push(pki_facts *f, pki_strv *v, char *s);

/** Append an EKU OID and its name. */
bool pki_facts_push_eku(pki_facts *f, const char *oid);

/** sha1 and sha256 of the DER. @return false when the digest fails. */
bool pki_facts_digests(pki_facts *f, const void *der, size_t len);

/** self_signed from the DER of both names and the key identifiers (may be NULL). */
void pki_facts_set_self_signed(pki_facts *f, const unsigned char *subject, size_t subject_len,
                               const unsigned char *issuer, size_t issuer_len);

/** Dotted OID text in the arena, or NULL (invalid, or out of memory). */
char *pki_facts_oid(pki_facts *f, const unsigned char *der, size_t len);

/**
 * @brief The curve name clm records for a named-curve OID, and its order bits.
 * @return the static name ("P-256", "secp256k1", "brainpoolP256r1"), or NULL when the
 *         fast path does not know the curve.
 */
const char *pki_facts_curve(const unsigned char *oid, size_t len, int *bits);

/* ---- the OpenSSL path, in pieces the CSR reader shares (facts_openssl.c) ---- */

/** subject or issuer text (X509_NAME_print_ex). @return CLM_OK, CLM_ERR_PARSE, CLM_ERR_NO_MEMORY.
 */
clm_err pki_facts_openssl_name(pki_facts *f, const X509_NAME *name, char **out);

/** common_name from a subject. @return CLM_OK or CLM_ERR_NO_MEMORY. */
clm_err pki_facts_openssl_cn(pki_facts *f, const X509_NAME *subject);

/** key_alg, key_bits, key_curve. pkey: the decoded key, or NULL when it does not decode. */
clm_err pki_facts_openssl_key(pki_facts *f, X509_PUBKEY *pub, EVP_PKEY *pkey);

/** Every extension fact (see facts.h); exts may be NULL. */
clm_err pki_facts_openssl_extensions(pki_facts *f, const STACK_OF(X509_EXTENSION) * exts);

/** signature_algorithm and signature_oid from an AlgorithmIdentifier. */
clm_err pki_facts_openssl_signature(pki_facts *f, const X509_ALGOR *alg);

#endif
