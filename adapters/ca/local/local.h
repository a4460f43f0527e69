/*
 * adapters/ca/local/local.h: the appliance's own CA (adapter "local", adapter.h
 * contract 2).
 *
 * Set up once by an admin, either way:
 *   ca_local_create()  a new root and an intermediate under it (EC P-256/P-384 or RSA);
 *                      the intermediate issues, the root only certified it.
 *   ca_local_import()  an existing issuing CA: its key and its chain up to a root;
 *                      checked first (key matches, it is a CA that may sign
 *                      certificates, the chain verifies now).
 * Both write the connector state (adapter_ca_state), all items in one put:
 *   key          secret   the issuing CA's private key, PKCS#8 PEM
 *   root_key     secret   create only: the root's key, kept to certify a successor
 *                         intermediate (a later slice; nothing here signs with it)
 *   chain                 PEM: the issuing CA first, then each issuer up to the root
 *   revoked               one line per revocation: "SERIALHEX UNIXTIME REASONCODE\n"
 *                         (ca_local_revoked_parse)
 *   crl_number            decimal: the number of the last CRL made
 * Bad input changes nothing; a CA that is set up is never replaced here
 * (CLM_ERR_ALREADY_EXISTS).
 *
 * Issuing (submit): the CSR's signature is checked first; then its key (RSA >= 2048
 * bits, EC P-256/P-384/P-521), its subject and SANs, and what it asks for against the
 * profile named by the request field "profile". The subject is copied as it is;
 * subjectAltName entries (DNS, IP, email, URI) are copied from the CSR; a CSR for a
 * serverAuth profile without SANs gets its CN as the one SAN when the CN is a DNS name
 * or an address. Everything else the CSR requests is checked, not copied: a request for
 * more than the profile gives (a longer validity, CA:TRUE, a key or extended key usage
 * the profile lacks) is REJECTED with a reason that names the limit. Never clamped: the
 * requester (and the renewal schedule built on notAfter) would get a certificate other
 * than the one asked for without knowing. Certificates carry a 128-bit random positive
 * serial, SKI and AKI, and authorityInfoAccess / cRLDistributionPoints when the
 * connector fields give their URLs; notBefore is PKI_CERT_BACKDATE_SECONDS before the
 * clock's now, and notAfter may not pass the issuing CA's.
 *
 * Revocation: by serial with an RFC 5280 reason; the CA does not keep an index of what
 * it issued (the inventory does), so any serial can be listed. Revoking a serial twice
 * is rejected, except that certificateHold may be made permanent with another reason.
 * The CRL (crl op, `clmctl ca crl` later) is v2, signed by the issuing CA, with a
 * cRLNumber, the AKI, reason codes (none for unspecified, as RFC 5280 5.3.1 asks), and
 * nextUpdate crl_days after thisUpdate.
 *
 * Thread rules: open parses the key and chain once; submit only reads them and may run
 * on any number of threads at once without locks (OpenSSL 3 signs with a shared
 * EVP_PKEY). revoke and crl change the revocation state under the instance's mutex.
 * ca_local_create and ca_local_import run while no instance of the connector is open
 * (the appliance reopens it afterwards).
 *
 * OpenSSL/BoringSSL: only the API both share (TOOLCHAIN.md): X509_*, X509_CRL_*,
 * X509_REVOKED_*, X509_REQ_*, EVP_PKEY_CTX keygen through lib/pki.
 */
#ifndef CLM_ADAPTERS_CA_LOCAL_LOCAL_H
#define CLM_ADAPTERS_CA_LOCAL_LOCAL_H

#include "adapters/adapter.h"
#include "lib/base/arena.h"
#include "lib/base/clock.h"
#include "lib/base/error.h"
#include "lib/pki/key.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The adapter's operations table (name "local"); register with adapter_ca_register(). */
extern const adapter_ca_ops ca_local_ops;

/** Extended key usages a profile can give (bit set). */
enum {
    CA_LOCAL_EKU_SERVER_AUTH = 1u << 0,
    CA_LOCAL_EKU_CLIENT_AUTH = 1u << 1,
    CA_LOCAL_EKU_CODE_SIGNING = 1u << 2,
    CA_LOCAL_EKU_EMAIL_PROTECTION = 1u << 3,
    CA_LOCAL_EKU_TIME_STAMPING = 1u << 4,
    CA_LOCAL_EKU_OCSP_SIGNING = 1u << 5,
};

/** An issuing profile. */
typedef struct ca_local_profile {
    const char *name;
    int max_days;      /* longest validity a request may ask for */
    int default_days;  /* when the request names none; <= max_days */
    unsigned key_usage; /* PKI_KU_* (lib/pki/facts.h) */
    bool rsa_key_encipherment; /* add keyEncipherment for RSA subject keys (TLS 1.2 RSA
                                  key exchange); never for EC keys, which cannot */
    unsigned eku;       /* CA_LOCAL_EKU_*; 0: no extendedKeyUsage extension */
    bool ca;            /* issues CA certificates */
    int path_len;       /* ca only: pathLenConstraint, -1 for none */
} ca_local_profile;

/**
 * @brief The built-in profiles, by name:
 *   server         397 days max (CA/Browser Forum: 398), 90 by default; digitalSignature
 *                  (+ keyEncipherment for RSA); serverAuth.
 *   client         397 max, 365 default; digitalSignature; clientAuth.
 *   server-client  397 max, 90 default; digitalSignature (+ keyEncipherment for RSA);
 *                  serverAuth, clientAuth.
 *   sub-ca         1825 max and default; keyCertSign, cRLSign; CA, pathLenConstraint 0.
 * @param[out] n the number of profiles.
 * @return a static array.
 */
const ca_local_profile *ca_local_profiles_builtin(size_t *n);

/** What ca_local_create() makes. Strings borrowed for the call. */
typedef struct ca_local_create_params {
    pki_key_type key_type;        /* both keys: PKI_KEY_EC_P256 (0, the default), EC_P384, RSA_* */
    const char *root_cn;          /* MUST */
    const char *intermediate_cn;  /* MUST, different from root_cn */
    const char *organization;     /* MAY: subject O of both */
    int root_days;                /* 0: 3650 (ten years) */
    int intermediate_days;        /* 0: 1825; at most the root's */
} ca_local_create_params;

/**
 * @brief Make a root CA (basicConstraints CA pathLen 1, keyCertSign + cRLSign, SKI,
 * self-signed) and an intermediate under it (CA pathLen 0, SKI, AKI), and write them with
 * their keys to the state (see the top of this file).
 * @param[in] clock NULL: the system clock.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the field; CLM_ERR_ALREADY_EXISTS when
 *         the state already holds a CA key; CLM_ERR_CRYPTO; what state->put returns.
 */
clm_err ca_local_create(const ca_local_create_params *params, adapter_ca_state *state,
                        const clm_clock *clock);

/**
 * @brief Import an issuing CA: its private key (PEM, unencrypted or with a password) and
 * its chain (PEM certificates in any order, the CA certificate and its issuers up to a
 * self-signed root). Checks: exactly one certificate is certified by the key given and
 * it is a CA allowed to sign certificates (basicConstraints CA, keyUsage keyCertSign when
 * present); the chain from it reaches a root and verifies at the clock's time.
 * @param[in] password NULL when the key is not encrypted. Never in messages.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT saying what is wrong ("key: it does not match
 *         any certificate of the chain", "chain: ... is not a CA"), also for a chain
 *         that does not verify (with the verifier's reason); CLM_ERR_UNAUTHENTICATED
 *         (wrong password); CLM_ERR_ALREADY_EXISTS; what state->put returns.
 */
clm_err ca_local_import(const void *key_pem, size_t key_len, const char *password,
                        const void *chain_pem, size_t chain_len, adapter_ca_state *state,
                        const clm_clock *clock);

/** One entry of the revocation list. */
typedef struct ca_local_revoked {
    char serial[41];   /* upper-case hex, two digits per byte, no leading zero byte, 2 to
                          40 digits: as facts.h and `openssl x509 -serial` print it */
    int64_t when;      /* seconds since the epoch */
    adapter_ca_revoke_reason reason;
} ca_local_revoked;

/**
 * @brief Parse the "revoked" state item (see the top of this file): every line
 * "SERIALHEX UNIXTIME REASONCODE", the serial as ca_local_revoked.serial, numbers
 * without leading zeros, no serial twice, reason one of RFC 5280's (not 7, not removeFromCRL). Strict: it is read back
 * from the store, so anything else means damage.
 * @param[out] out   an array in arena; NULL when n is 0.
 * @param[out] n     entries.
 * @return CLM_OK; CLM_ERR_PARSE naming the line; CLM_ERR_NO_MEMORY.
 */
clm_err ca_local_revoked_parse(const void *text, size_t len, clm_arena *arena,
                               ca_local_revoked **out, size_t *n);

/**
 * @brief Normalise a serial as a user gives it ("0A:1b", "0x0a1b", "a1b") to the form
 * of ca_local_revoked.serial ("0A1B").
 * @return CLM_OK, or CLM_ERR_INVALID_ARGUMENT (not hex, zero, more than 20 bytes).
 */
clm_err ca_local_serial_normalise(const char *text, char out[41]);

#endif
