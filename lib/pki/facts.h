/*
 * lib/pki/facts.h: what the inventory records about a certificate, extracted two ways.
 *
 *   pki_facts_from_der()       the one to call: the fast path, else the OpenSSL path.
 *   pki_facts_from_der_fast()  a strict DER reader of clm's own (der.c, x509_fast*.c):
 *                              ~200k certificates/s/core here against ~5.5k for the
 *                              OpenSSL path (facts_bench, same run). It accepts
 *                              only input it can describe exactly as the OpenSSL path
 *                              would, and refuses (CLM_ERR_UNSUPPORTED) anything else:
 *                              BER, unusual string or key types, malformed extensions.
 *   pki_facts_from_x509()      the OpenSSL path (d2i_X509, X509V3_get_d2i, ...): the
 *                              reference the fast path is tested against.
 *
 * The contract between the two: when both succeed on the same bytes, every field is
 * equal (corpus_check.c over tests/corpus, facts_test.c on crafted certificates,
 * facts_fuzz.c on arbitrary input). The strings
 * are those `openssl x509 -noout -text -nameopt RFC2253,-esc_msb` prints for the
 * same certificate (tests/corpus/facts_cli_test.py).
 *
 * Memory: a pki_facts and every string and array it points to live in one arena
 * owned by the struct; pki_facts_free() releases it all. Nothing is shared with the
 * input bytes, which the caller may free as soon as the call returns.
 *
 * Field rules (both paths):
 * - subject, issuer: RFC 4514 (OpenSSL's XN_FLAG_RFC2253 without ASN1_STRFLGS_ESC_MSB:
 *   UTF-8 kept, most specific RDN first, short attribute names, unknown attributes as
 *   dotted OID "=#" hex of the DER value).
 * - common_name: the last (most specific) CN of the subject as UTF-8; NULL when none.
 * - Text from the certificate other than the DNs (CN, SAN entries, URIs, template
 *   name) has bytes below 0x20 and 0x7f replaced with '?'; in IA5String fields (SAN
 *   DNS/email/URI, AIA, CRL DP) every byte outside 0x20..0x7e is replaced with '?'.
 * - ip_addresses: IPv4 dotted quad, IPv6 in inet_ntop form; an iPAddress of another
 *   length than 4 or 16 as "#" and lower-case hex of its bytes.
 * - serial: upper-case hex of the magnitude, two digits per byte, "-" before a
 *   negative one: what `openssl x509 -serial` prints.
 * - sha1, sha256: lower-case hex of the digest of the DER (sha1 is the Windows
 *   "thumbprint", shown there in upper case).
 * - key: type from the SubjectPublicKeyInfo algorithm; bits as OpenSSL 3's EVP_PKEY_bits()
 *   (RSA: modulus bits; EC: the curve's order bits, also when the point itself is
 *   invalid; Ed25519 256, Ed448 456; 0 when the key does not decode);
 *   curve: the NIST name ("P-256") where there is one, else OpenSSL's short name.
 * - self_signed: issuer and subject are the same bytes, and when both the authority and
 *   the subject key identifiers are present they are equal (no signature check: see
 *   chain.h for verification).
 * - bad_extensions: PKI_EXT_* bits of extensions that are present but could not be
 *   decoded or appear twice; their facts are then left empty. Only the OpenSSL path
 *   sets bits: the fast path refuses such certificates.
 *
 * Thread rules: every function may be called from any thread.
 */
#ifndef CLM_LIB_PKI_FACTS_H
#define CLM_LIB_PKI_FACTS_H

#include "lib/base/arena.h"
#include "lib/base/error.h"

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Largest certificate accepted by the facts readers, in bytes. */
#define PKI_FACTS_DER_MAX (1024 * 1024)

/** Public key algorithms (SubjectPublicKeyInfo). */
typedef enum pki_key_alg {
    PKI_KEY_ALG_UNKNOWN = 0,
    PKI_KEY_ALG_RSA,
    PKI_KEY_ALG_RSA_PSS,
    PKI_KEY_ALG_EC,
    PKI_KEY_ALG_ED25519,
    PKI_KEY_ALG_ED448,
    PKI_KEY_ALG_DSA,
    PKI_KEY_ALG_MAX
} pki_key_alg;

/** keyUsage bits (RFC 5280 4.2.1.3: bit n of the BIT STRING is 1u << n). */
enum {
    PKI_KU_DIGITAL_SIGNATURE = 1u << 0,
    PKI_KU_NON_REPUDIATION = 1u << 1,
    PKI_KU_KEY_ENCIPHERMENT = 1u << 2,
    PKI_KU_DATA_ENCIPHERMENT = 1u << 3,
    PKI_KU_KEY_AGREEMENT = 1u << 4,
    PKI_KU_KEY_CERT_SIGN = 1u << 5,
    PKI_KU_CRL_SIGN = 1u << 6,
    PKI_KU_ENCIPHER_ONLY = 1u << 7,
    PKI_KU_DECIPHER_ONLY = 1u << 8,
};

/** Extensions the facts come from (bits of pki_facts.bad_extensions). */
enum {
    PKI_EXT_SUBJECT_ALT_NAME = 1u << 0,
    PKI_EXT_BASIC_CONSTRAINTS = 1u << 1,
    PKI_EXT_KEY_USAGE = 1u << 2,
    PKI_EXT_EXT_KEY_USAGE = 1u << 3,
    PKI_EXT_SUBJECT_KEY_ID = 1u << 4,
    PKI_EXT_AUTHORITY_KEY_ID = 1u << 5,
    PKI_EXT_AUTHORITY_INFO_ACCESS = 1u << 6,
    PKI_EXT_CRL_DISTRIBUTION_POINTS = 1u << 7,
    PKI_EXT_MS_TEMPLATE = 1u << 8,      /* 1.3.6.1.4.1.311.21.7 */
    PKI_EXT_MS_TEMPLATE_NAME = 1u << 9, /* 1.3.6.1.4.1.311.20.2 */
};

/** A list of strings in the facts' arena; v is NULL when n is 0. */
typedef struct pki_strv {
    char **v;
    size_t n;
} pki_strv;

typedef struct pki_facts {
    int version;        /* 1, 2 or 3 */
    char *subject;      /* RFC 4514 */
    char *issuer;       /* RFC 4514 */
    char *common_name;  /* NULL when the subject has none */
    pki_strv dns_names; /* subjectAltName dNSName, certificate order */
    pki_strv ip_addresses;
    pki_strv emails;    /* rfc822Name */
    pki_strv uris;      /* uniformResourceIdentifier */
    char *serial;       /* upper-case hex */
    int64_t not_before; /* seconds since the epoch, UTC */
    int64_t not_after;
    pki_key_alg key_alg;
    int key_bits;              /* 0 when unknown */
    char *key_curve;           /* EC only; NULL otherwise */
    char *signature_algorithm; /* OpenSSL's long name, or the dotted OID */
    char *signature_oid;       /* dotted */
    char sha1[41];             /* lower-case hex */
    char sha256[65];           /* lower-case hex */
    char *subject_key_id;      /* lower-case hex; NULL when absent */
    char *authority_key_id;    /* keyIdentifier, lower-case hex; NULL when absent */
    bool has_key_usage;
    unsigned key_usage;               /* PKI_KU_* */
    pki_strv ext_key_usage;           /* dotted OIDs; NULL v when absent */
    const char **ext_key_usage_names; /* parallel: pki_eku_name() of each, may be NULL */
    bool has_basic_constraints;
    bool is_ca;
    int path_len;            /* -1 when absent */
    pki_strv ocsp_uris;      /* authorityInfoAccess id-ad-ocsp URIs */
    pki_strv ca_issuer_uris; /* authorityInfoAccess id-ad-caIssuers URIs */
    pki_strv crl_uris;       /* cRLDistributionPoints fullName URIs */
    bool self_signed;
    char *template_oid;      /* Microsoft certificate template (v2) OID, or NULL */
    int template_major;      /* -1 when absent */
    int template_minor;      /* -1 when absent */
    char *template_name;     /* Microsoft v1 template name, or NULL */
    unsigned bad_extensions; /* PKI_EXT_* */
    clm_arena arena;         /* owns everything above */
} pki_facts;

/**
 * @brief Facts of one DER certificate: the fast path, and the OpenSSL path when the
 * fast path cannot decide.
 * @param[in]  der the certificate (exactly one, no trailing bytes), borrowed.
 * @param[out] out the facts; free with pki_facts_free(). NULL on error.
 * @return CLM_OK; CLM_ERR_PARSE when it is not a certificate OpenSSL accepts (message:
 *         the library's reason); CLM_ERR_NO_MEMORY.
 */
clm_err pki_facts_from_der(const void *der, size_t len, pki_facts **out);

/**
 * @brief The fast path alone (no OpenSSL but its SHA-1/SHA-256).
 * @return CLM_OK; CLM_ERR_UNSUPPORTED when the input is not strict DER or holds
 *         something the fast path does not describe (the message says what; use the
 *         OpenSSL path then); CLM_ERR_NO_MEMORY.
 */
clm_err pki_facts_from_der_fast(const void *der, size_t len, pki_facts **out);

/**
 * @brief The OpenSSL path on DER: d2i_X509 (all bytes must be used), then
 * pki_facts_from_x509().
 * @return CLM_OK; CLM_ERR_PARSE; CLM_ERR_NO_MEMORY.
 */
clm_err pki_facts_from_der_openssl(const void *der, size_t len, pki_facts **out);

/**
 * @brief The OpenSSL path on a parsed certificate.
 * @param[in] cert borrowed; not modified (OpenSSL may fill its caches).
 * @return CLM_OK; CLM_ERR_PARSE when a field cannot be read (unsupported version,
 *         malformed time); CLM_ERR_NO_MEMORY.
 */
clm_err pki_facts_from_x509(X509 *cert, pki_facts **out);

/** Free facts and everything they own. Accepts NULL. */
void pki_facts_free(pki_facts *facts);

/**
 * @brief Compare two sets of facts field by field.
 * @param[out] why  when they differ: the first differing field and both values
 *                  ("subject: \"CN=a\" != \"CN=b\""). May be NULL.
 * @return true when equal.
 */
bool pki_facts_equal(const pki_facts *a, const pki_facts *b, char *why, size_t why_size);

/** @return "RSA", "RSA-PSS", "EC", "ED25519", "ED448", "DSA" or "unknown". */
const char *pki_key_alg_name(pki_key_alg alg);

/**
 * @brief clm's name for an extended key usage OID ("serverAuth", "clientAuth",
 * "codeSigning", "msSmartcardLogin", ...).
 * @return a static string, or NULL for an OID clm has no name for.
 */
const char *pki_eku_name(const char *oid);

/** @return the keyUsage bit's RFC 5280 name ("digitalSignature"), or NULL (bit > 8). */
const char *pki_key_usage_name(unsigned bit);

#endif
