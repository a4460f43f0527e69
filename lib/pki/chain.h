/*
 * lib/pki/chain.h: put a bag of certificates in order (leaf, then each issuer up to the
 * root), say what is missing, and verify a chain against a trust store.
 *
 * Ordering links a certificate to its issuer when the issuer's subject equals its issuer
 * name (X509_NAME_cmp: the canonical, case-insensitive comparison) and, when it has an
 * authorityKeyIdentifier and the candidate a subjectKeyIdentifier, the two are equal. A
 * leaf is a certificate that issued none of the others. Among several issuers of one
 * certificate (re-keyed or cross-signed CAs) the one matched by key identifier wins,
 * then the one that expires last. Ordering checks no signature: that is
 * pki_chain_verify()'s job.
 *
 * Certificates are the TLS library's X509; a chain holds its own references (freed with
 * the chain), so the bag may be freed after pki_chain_order().
 *
 * Thread rules: every function may be called from any thread. A pki_trust may be used
 * by several threads at once for verification once it is made (X509_STORE is read-only
 * then); it is freed by one thread when no verification uses it.
 */
#ifndef CLM_LIB_PKI_CHAIN_H
#define CLM_LIB_PKI_CHAIN_H

#include "lib/base/clock.h"
#include "lib/base/error.h"

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

/** Longest chain followed (deeper: the chain ends there, not complete). */
#define PKI_CHAIN_DEPTH_MAX 16

/** Debian's bundle of trusted roots (ca-certificates). */
#define PKI_TRUST_SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define PKI_TRUST_SYSTEM_DIR "/etc/ssl/certs"

typedef struct pki_chain {
    X509 **certs; /* leaf first; certs[n - 1] is the top */
    size_t n;
    bool complete;        /* the top is self-issued (a root) */
    char *missing_issuer; /* not complete: the top's issuer name (RFC 4514), which no
                             certificate of the bag has as subject; NULL when complete
                             or when the depth limit or a loop ended the chain */
} pki_chain;

typedef struct pki_chain_set {
    pki_chain *chains; /* one per leaf, in the order the leaves appear in the bag */
    size_t n;
} pki_chain_set;

/**
 * @brief Order a bag of certificates into chains, one per leaf (see the top of this
 * file). A certificate may appear in several chains (an intermediate shared by two
 * leaves). Certificates that belong to no chain found from a leaf (a loop of
 * cross-signatures) start chains of their own, so every certificate of the bag is in
 * at least one chain.
 * @param[in]  bag borrowed; NULL entries are not allowed.
 * @param[out] out filled on success; free with pki_chain_set_free().
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT (NULL certificate, empty bag);
 *         CLM_ERR_NO_MEMORY.
 */
clm_err pki_chain_order(X509 *const *bag, size_t n, pki_chain_set *out);

/** Free every chain and zero the set. Accepts NULL. */
void pki_chain_set_free(pki_chain_set *set);

/** A set of trust anchors (an X509_STORE). */
typedef struct pki_trust pki_trust;

/**
 * @brief A trust store holding exactly the given anchors (up-referenced).
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT (no anchors); CLM_ERR_NO_MEMORY.
 */
clm_err pki_trust_new(X509 *const *anchors, size_t n, pki_trust **out);

/**
 * @brief The operating system's trust store: the bundle file (NULL: Debian's
 * PKI_TRUST_SYSTEM_BUNDLE) and the hashed directory PKI_TRUST_SYSTEM_DIR.
 * @return CLM_OK; CLM_ERR_NOT_FOUND when the bundle cannot be loaded (message: the path
 *         and the library's reason); CLM_ERR_NO_MEMORY.
 */
clm_err pki_trust_new_system(const char *bundle, pki_trust **out);

/** Free a trust store. Accepts NULL. */
void pki_trust_free(pki_trust *trust);

typedef struct pki_verify_result {
    bool ok;
    int code;        /* X509_V_OK or the X509_V_ERR_* code */
    int depth;       /* where it failed: 0 is the leaf */
    char error[160]; /* X509_verify_cert_error_string(code), "" when ok */
} pki_verify_result;

/**
 * @brief Verify a chain (certs[0] the leaf, the others untrusted intermediates) against
 * trust at the clock's time: signatures, validity, CA constraints, and when purpose is
 * nonzero the extended key usage it names (PKI_EKU_SERVER_AUTH or PKI_EKU_CLIENT_AUTH of
 * cert.h).
 * @param[out] result filled in every case.
 * @return CLM_OK when the chain verifies; CLM_ERR_CRYPTO with the verifier's reason
 *         and depth ("certificate has expired (depth 0)") when it does not;
 *         CLM_ERR_INVALID_ARGUMENT (empty chain, bad purpose); CLM_ERR_NO_MEMORY.
 */
clm_err pki_chain_verify(const pki_chain *chain, const pki_trust *trust, unsigned purpose,
                         const clm_clock *clock, pki_verify_result *result);

#endif
