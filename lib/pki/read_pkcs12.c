/*
 * lib/pki/read_pkcs12.c: PKCS#12 (.pfx/.p12) through the TLS library's PKCS12_parse():
 * the key, its certificate and the other certificates. Both profiles in use are read
 * with OpenSSL: the legacy one (pbeWithSHAAnd3-KeyTripleDES-CBC, SHA-1 MAC; Windows,
 * `openssl pkcs12 -export -legacy`, clm's own pki_pkcs12_write) and OpenSSL 3's default
 * (PBES2 with AES-256-CBC, SHA-256 MAC). Older BoringSSL cannot decrypt PBES2 bags
 * (TOOLCHAIN.md; Debian's android-libboringssl can, boringssl_test.sh checks it): built
 * against a BoringSSL that fails on such a file, the result is CLM_ERR_UNSUPPORTED with
 * that reason rather than a misleading "cannot decrypt".
 */
#include "lib/pki/der.h"
#include "lib/pki/pki_internal.h"
#include "lib/pki/read_internal.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

/* PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, macData OPTIONAL }.
 * BoringSSL's d2i_PKCS12 only copies bytes, so this check keeps garbage from being
 * reported later as a wrong password. */
static bool looks_like_pfx(const unsigned char *der, size_t len)
{
    pki_der d = pki_der_make(der, len), in;
    pki_der_tlv t;

    if (!pki_ber_next(&d, &t) || t.tag != PKI_DER_SEQUENCE || !pki_der_done(&d))
        return false;
    in = pki_der_contents(&t);
    if (!pki_ber_next(&in, &t) || t.tag != PKI_DER_INTEGER || t.len != 1 || t.value[0] != 3)
        return false;
    return pki_ber_next(&in, &t) && t.tag == PKI_DER_SEQUENCE;
}

/* The encryption a PFX names in its (unencrypted) algorithm identifiers, when it is one
 * the TLS library may not enable: OpenSSL 3 keeps RC2, RC4 and DES in its "legacy"
 * provider, which clm does not load (TOOLCHAIN.md: no providers; a static binary could
 * not load it anyway), and older BoringSSL cannot do PBES2. NULL when none is named. */
static const char *uncommon_cipher(const unsigned char *der, size_t len)
{
    static const struct {
        unsigned char oid[11]; /* tag, length and contents */
        const char *name;      /* NULL: the pkcs-12PbeIds prefix, the last arc follows */
    } ciphers[] = {
        {{0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01}, NULL},
        {{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x03}, "DES (PBES1)"},
        {{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0a}, "DES (PBES1)"},
#ifdef OPENSSL_IS_BORINGSSL
        {{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d}, "PBES2 (AES)"},
#endif
    };
    /* pkcs-12PbeIds 1.2.840.113549.1.12.1.n: 1 RC4-128, 2 RC4-40, 5 RC2-128, 6 RC2-40 */
    static const char *const pkcs12_pbe[7] = {NULL, "RC4-128", "RC4-40", NULL,
                                              NULL, "RC2-128", "RC2-40"};

    for (size_t i = 0; i < sizeof ciphers / sizeof *ciphers; i++) {
        const size_t n = sizeof ciphers[i].oid; /* a whole OID, or (NULL name) a prefix */
        const unsigned char *at = der, *end = der + len;
        while ((at = memmem(at, (size_t)(end - at), ciphers[i].oid, n)) != NULL) {
            at += n;
            if (ciphers[i].name != NULL)
                return ciphers[i].name;
            if (at < end && *at < 7 && pkcs12_pbe[*at] != NULL)
                return pkcs12_pbe[*at];
        }
    }
    return NULL;
}

static char *cert_alias(X509 *cert, int *len)
{
    const unsigned char *alias = X509_alias_get0(cert, len);

    if (alias == NULL || *len <= 0 || memchr(alias, '\0', (size_t)*len) != NULL)
        return NULL;
    return (char *)alias;
}

static clm_err add_cert(pki_reader *r, X509 *cert, const char *what)
{
    unsigned char *der = NULL;
    int der_len, alias_len = 0;
    char *alias = cert_alias(cert, &alias_len);
    pki_item *item = pki_reader_add(r, PKI_ITEM_CERT, "%s: %s", r->name, what);
    clm_err err = CLM_OK;

    if (item == NULL)
        return r->failure;
    if (!pki_reader_set_alias(item, alias, alias ? (size_t)alias_len : 0))
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    der_len = i2d_X509(cert, &der);
    if (der_len <= 0) {
        pki_fail_ssl(CLM_ERR_PARSE, "cannot encode the certificate");
        err = pki_reader_item_fail(r, CLM_ERR_PARSE);
    } else if (!pki_reader_set_der(item, der, (size_t)der_len)) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    OPENSSL_free(der);
    return err;
}

/* The MAC (integrity) check with the given password; "" and NULL are both tried for
 * no password, as PKCS12_parse() does. @return the password that verified. */
static clm_err verify_mac(pki_reader *r, PKCS12 *p12, const char **password)
{
    const char *given = r->password;

    if (given != NULL && given[0] != '\0') {
        if (PKCS12_verify_mac(p12, given, (int)strlen(given)) == 1) {
            *password = given;
            return CLM_OK;
        }
    } else if (PKCS12_verify_mac(p12, "", 0) == 1) {
        *password = "";
        return CLM_OK;
    } else if (PKCS12_verify_mac(p12, NULL, 0) == 1) {
        *password = NULL;
        return CLM_OK;
    }
#ifndef OPENSSL_IS_BORINGSSL
    unsigned long code = ERR_peek_last_error();
    if (ERR_GET_LIB(code) == ERR_LIB_PKCS12 && ERR_GET_REASON(code) == PKCS12_R_MAC_ABSENT) {
        ERR_clear_error(); /* no MAC at all (openssl pkcs12 -nomac): nothing to verify */
        *password = given;
        return CLM_OK;
    }
#endif
    ERR_clear_error();
    if (given == NULL || given[0] == '\0')
        return clm_fail(CLM_ERR_UNAUTHENTICATED,
                        "%s: this PKCS#12 file is protected: a password is needed", r->name);
    return clm_fail(CLM_ERR_UNAUTHENTICATED,
                    "%s: wrong password, or the file is damaged (the PKCS#12 integrity check "
                    "failed)",
                    r->name);
}

clm_err pki_read_pkcs12(pki_reader *r, const unsigned char *data, size_t len)
{
    const unsigned char *p = data;
    const char *password = NULL;
    PKCS12 *p12 = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *ca = NULL;
    clm_err err;

    if (len > LONG_MAX || !looks_like_pfx(data, len))
        return clm_fail(CLM_ERR_PARSE, "%s: not a PKCS#12 file (truncated or damaged)", r->name);
    p12 = d2i_PKCS12(NULL, &p, (long)len);
    if (p12 == NULL)
        return pki_fail_ssl(CLM_ERR_PARSE, "%s: not a PKCS#12 file", r->name);
    if ((err = verify_mac(r, p12, &password)) != CLM_OK)
        goto done;
    if (PKCS12_parse(p12, password, &key, &cert, &ca) != 1) {
        const char *cipher = uncommon_cipher(data, len);
        if (cipher != NULL) {
            err = pki_fail_ssl(CLM_ERR_UNSUPPORTED,
                               "%s: this PKCS#12 file is encrypted with %s, which this build's "
                               "TLS library does not enable; export it again with AES-256 or "
                               "3DES (openssl pkcs12 -export, or -legacy -certpbe "
                               "PBE-SHA1-3DES)",
                               r->name, cipher);
            goto done;
        }
        err = pki_fail_ssl(CLM_ERR_PARSE, "%s: the PKCS#12 contents cannot be decrypted", r->name);
        goto done;
    }
    if (cert != NULL && (err = add_cert(r, cert, "certificate")) != CLM_OK)
        goto done;
    for (int i = 0; ca != NULL && i < (int)sk_X509_num(ca); i++) {
        char what[32];
        snprintf(what, sizeof what, "chain[%d]", i);
        if ((err = add_cert(r, sk_X509_value(ca, i), what)) != CLM_OK)
            goto done;
    }
    if (key != NULL) {
        pki_item *item = pki_reader_add(r, PKI_ITEM_KEY, "%s: private key", r->name);
        int alias_len = 0;
        char *alias = cert ? cert_alias(cert, &alias_len) : NULL;
        if (item == NULL) {
            err = r->failure;
            goto done;
        }
        item->key = key;
        key = NULL;
        if (!pki_reader_set_alias(item, alias, alias ? (size_t)alias_len : 0))
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
done:
    ERR_clear_error();
    EVP_PKEY_free(key);
    X509_free(cert);
    sk_X509_pop_free(ca, X509_free);
    PKCS12_free(p12);
    return err;
}
