/*
 * lib/pki/read.h: read certificates and private keys from the files people have:
 * PEM (bundles, junk between blocks, CRLF), DER, PKCS#7 (.p7b/.p7c, PEM or DER/BER),
 * PKCS#12 (.pfx/.p12 with a password: 3DES and AES-256/PBES2) and Java KeyStore (JKS,
 * read only). Keys: PKCS#8 (plain and encrypted), traditional RSA/EC PEM, encrypted PEM.
 *
 * One call reads one input into a list of items, each a certificate (its DER bytes as
 * found) or a private key (an EVP_PKEY), and each with its own result: a bundle with one
 * damaged block yields the good items and one failed item that says where and why.
 * Certificates are checked for the outer shape of a certificate only; their facts come
 * from pki_facts_from_der() (facts.h), which decides whether they really decode.
 *
 * Bounds: input at most options.max_input bytes (PKI_READ_MAX_INPUT by default), at
 * most options.max_items items (PKI_READ_MAX_ITEMS); nesting and lengths are checked
 * before every read.
 *
 * Errors of the whole call (items then hold whatever was read before, for messages):
 *   CLM_ERR_PARSE            unrecognised format, truncated or malformed container,
 *                            input or item count above the bounds;
 *   CLM_ERR_UNAUTHENTICATED  the container's password is missing or wrong (PKCS#12 MAC,
 *                            JKS keyed digest): the message names the input;
 *   CLM_ERR_NOT_FOUND        a well-formed input that holds no certificate and no key
 *                            ("upload.pem: no certificate or private key found (2 PEM
 *                            blocks of other types: CERTIFICATE REQUEST)");
 *   CLM_ERR_UNSUPPORTED      JCEKS keystores; PKCS#12 with AES-256 (PBES2) when lib/pki
 *                            is built against BoringSSL, which cannot decrypt it;
 *   CLM_ERR_NO_MEMORY.
 * When every item failed, the call fails with the first item's code and message.
 *
 * Caveats: the password is never copied into a message. Key items hold secrets: free
 * the result with pki_read_result_free() as soon as the keys are sealed.
 *
 * Thread rules: every function may be called from any thread.
 */
#ifndef CLM_LIB_PKI_READ_H
#define CLM_LIB_PKI_READ_H

#include "lib/base/error.h"

#include <openssl/evp.h>
#include <stddef.h>

/** Largest input pki_read() accepts by default (a 10,000-certificate PEM is ~20 MB). */
#define PKI_READ_MAX_INPUT (64u * 1024 * 1024)

/** Most items pki_read() returns by default. */
#define PKI_READ_MAX_ITEMS 100000u

typedef enum pki_format {
    PKI_FORMAT_UNKNOWN = 0,
    PKI_FORMAT_PEM,      /* text with "-----BEGIN ...-----" blocks */
    PKI_FORMAT_DER_CERT, /* one DER certificate (.cer/.crt/.der) */
    PKI_FORMAT_PKCS7,    /* PKCS#7 SignedData, DER or BER (.p7b/.p7c) */
    PKI_FORMAT_PKCS12,   /* PKCS#12 (.pfx/.p12) */
    PKI_FORMAT_JKS,      /* Java KeyStore, magic 0xFEEDFEED */
    PKI_FORMAT_DER_KEY,  /* a DER private key: PKCS#8, encrypted PKCS#8, RSA or EC */
    PKI_FORMAT_DER_CSR,  /* a DER PKCS#10 request (not read here: see csr.h) */
    PKI_FORMAT_JCEKS,    /* Java JCEKS keystore, magic 0xCECECECE (not supported) */
    PKI_FORMAT_MAX
} pki_format;

/** @return "PEM", "DER certificate", "PKCS#7", "PKCS#12", "JKS", ..., "unknown". */
const char *pki_format_name(pki_format format);

/**
 * @brief Tell the format from the bytes (never from a file name): magic numbers for
 * keystores, "-----BEGIN " for PEM, and the first elements of a DER/BER structure.
 * @return the format, PKI_FORMAT_UNKNOWN when none fits.
 */
pki_format pki_read_sniff(const void *data, size_t len);

typedef enum pki_item_kind { PKI_ITEM_CERT = 0, PKI_ITEM_KEY } pki_item_kind;

/** One certificate or key; every pointer is owned by the result. */
typedef struct pki_item {
    pki_item_kind kind;
    unsigned char *der; /* PKI_ITEM_CERT: the certificate's bytes; NULL when err != CLM_OK */
    size_t der_len;
    EVP_PKEY *key; /* PKI_ITEM_KEY: the key; NULL when err != CLM_OK */
    char *where;   /* where it was found: "chain.pem: PEM block 3 (line 41)",
                      "store.jks: entry \"tomcat\" chain[1]" */
    char *alias;   /* PKCS#12 friendlyName or JKS alias; NULL when none */
    clm_err err;   /* CLM_OK, or why this item could not be read */
    char *error;   /* err's message ("<where>: <reason>"); NULL when err is CLM_OK */
} pki_item;

typedef struct pki_read_options {
    const char *name;     /* names the input in messages ("upload.pfx"); NULL: "input" */
    const char *password; /* PKCS#12, JKS and encrypted keys; NULL: none */
    size_t max_input;     /* bytes; 0: PKI_READ_MAX_INPUT */
    size_t max_items;     /* 0: PKI_READ_MAX_ITEMS */
    pki_format format;    /* PKI_FORMAT_UNKNOWN: pki_read_sniff() */
} pki_read_options;

typedef struct pki_read_result {
    pki_format format;
    pki_item *items; /* in input order */
    size_t n_items;
    size_t n_certs;   /* certificate items read */
    size_t n_keys;    /* key items read */
    size_t n_errors;  /* items that failed */
    size_t n_skipped; /* PEM blocks of other types (requests, CRLs, parameters) */
} pki_read_result;

/**
 * @brief Read every certificate and key of one input.
 * @param[in]  data    the bytes, borrowed for the call.
 * @param[in]  options may be NULL (defaults).
 * @param[out] out     zeroed first; filled also on most errors. Release it with
 *                     pki_read_result_free() in every case.
 * @return CLM_OK when at least one item was read (others may have failed); the errors
 *         listed at the top of this file.
 */
clm_err pki_read(const void *data, size_t len, const pki_read_options *options,
                 pki_read_result *out);

/**
 * @brief pki_read() on the contents of a file, read with the same size bound
 * (options->max_input); options->name defaults to the path.
 * @return as pki_read(); also CLM_ERR_NOT_FOUND when the file does not exist and
 *         CLM_ERR_IO when it cannot be read (message: the path and errno text).
 */
clm_err pki_read_file(const char *path, const pki_read_options *options, pki_read_result *out);

/** Free every item (keys included) and zero the result. Accepts NULL. */
void pki_read_result_free(pki_read_result *result);

#endif
