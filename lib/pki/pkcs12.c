/* lib/pki/pkcs12.c: PKCS#12 with 3DES and a SHA-1 MAC, readable by OpenSSL and BoringSSL. */
#include "lib/pki/pkcs12.h"

#include "lib/pki/pki_internal.h"

#include <limits.h>
#include <openssl/crypto.h> /* OPENSSL_free */
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

clm_err pki_pkcs12_write(EVP_PKEY *key, X509 *cert, X509 *const *chain, size_t n_chain,
                         const char *friendly_name, const char *password, clm_buf *out)
{
    STACK_OF(X509) *ca = NULL;
    PKCS12 *p12 = NULL;
    unsigned char *der = NULL;
    int der_len;
    clm_err err = CLM_OK;

    if (key == NULL || cert == NULL || (chain == NULL && n_chain > 0))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "PKCS#12 needs a key and a certificate");
    if (password == NULL || password[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "PKCS#12 password must not be empty");
    if (X509_check_private_key(cert, key) != 1)
        return pki_fail_ssl(CLM_ERR_INVALID_ARGUMENT,
                            "PKCS#12: the private key does not match the certificate");
    if (n_chain > 0) {
        ca = sk_X509_new_null();
        if (ca == NULL)
            return pki_fail_ssl(CLM_ERR_NO_MEMORY, "PKCS#12: cannot make the chain");
        for (size_t i = 0; i < n_chain; i++) {
            /* borrowed: the stack is freed with sk_X509_free, not pop_free */
            if (chain[i] == NULL || sk_X509_push(ca, chain[i]) == 0) {
                err = pki_fail_ssl(CLM_ERR_INVALID_ARGUMENT, "PKCS#12: chain[%zu] is missing", i);
                goto done;
            }
        }
    }
    p12 = PKCS12_create(
        password, friendly_name, key, cert, ca, NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
        NID_pbe_WithSHA1And3_Key_TripleDES_CBC, PKI_PKCS12_ITERATIONS, PKI_PKCS12_ITERATIONS, 0);
    if (p12 == NULL) {
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot build the PKCS#12");
        goto done;
    }
    der_len = i2d_PKCS12(p12, &der);
    if (der_len <= 0) {
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot encode the PKCS#12");
        goto done;
    }
    err = clm_buf_append(out, der, (size_t)der_len);
done:
    OPENSSL_free(der);
    PKCS12_free(p12);
    sk_X509_free(ca);
    return err;
}

void pki_pkcs12_contents_free(pki_pkcs12_contents *c)
{
    if (c == NULL)
        return;
    EVP_PKEY_free(c->key);
    X509_free(c->cert);
    for (size_t i = 0; i < c->n_chain; i++)
        X509_free(c->chain[i]);
    free(c->chain);
    free(c->friendly_name);
    memset(c, 0, sizeof *c);
}

/* Read one BER tag and length at *p (at most end). Definite lengths must fit; an
 * indefinite length (0x80) is accepted with *len set to the rest of the input. */
static bool ber_header(const unsigned char **p, const unsigned char *end, unsigned char *tag,
                       size_t *len)
{
    const unsigned char *q = *p;
    size_t n = 0;

    if (end - q < 2)
        return false;
    *tag = *q++;
    if (*q < 0x80) {
        n = *q++;
    } else if (*q == 0x80) {
        q++;
        n = (size_t)(end - q);
    } else {
        size_t bytes = *q++ & 0x7fu;
        if (bytes > sizeof(size_t) || (size_t)(end - q) < bytes)
            return false;
        while (bytes-- > 0)
            n = (n << 8) | *q++;
    }
    if (n > (size_t)(end - q))
        return false;
    *p = q;
    *len = n;
    return true;
}

/* The outer shape of a PFX (RFC 7292): SEQUENCE { INTEGER 3, SEQUENCE authSafe, ... }.
 * BoringSSL's d2i_PKCS12 only copies the bytes, so without this a file that is not a
 * PKCS#12 at all would surface later as a failed MAC, i.e. as a wrong password. */
static bool looks_like_pfx(const unsigned char *der, size_t len)
{
    const unsigned char *p = der, *end = der + len;
    unsigned char tag;
    size_t n;

    if (!ber_header(&p, end, &tag, &n) || tag != 0x30)
        return false;
    end = p + n;
    if (!ber_header(&p, end, &tag, &n) || tag != 0x02 || n != 1 || *p != 3)
        return false;
    p += n;
    return ber_header(&p, end, &tag, &n) && tag == 0x30;
}

static char *copy_alias(X509 *cert)
{
    int len = 0;
    const unsigned char *alias = X509_alias_get0(cert, &len);
    char *copy;

    if (alias == NULL || len <= 0 || memchr(alias, '\0', (size_t)len) != NULL)
        return NULL;
    copy = malloc((size_t)len + 1);
    if (copy != NULL) {
        memcpy(copy, alias, (size_t)len);
        copy[len] = '\0';
    }
    return copy;
}

clm_err pki_pkcs12_read(const void *der, size_t len, const char *password, pki_pkcs12_contents *out)
{
    const unsigned char *p = der;
    PKCS12 *p12 = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    STACK_OF(X509) *ca = NULL;
    clm_err err = CLM_OK;

    memset(out, 0, sizeof *out);
    if (der == NULL || len == 0 || len > LONG_MAX)
        return clm_fail(CLM_ERR_PARSE, "PKCS#12: empty or oversized input");
    if (password == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "PKCS#12: a password is required");
    if (!looks_like_pfx(der, len))
        return clm_fail(CLM_ERR_PARSE, "not a PKCS#12 file (no PFX structure)");
    p12 = d2i_PKCS12(NULL, &p, (long)len);
    if (p12 == NULL)
        return pki_fail_ssl(CLM_ERR_PARSE, "not a PKCS#12 file");
    if (PKCS12_verify_mac(p12, password, (int)strlen(password)) != 1) {
        ERR_clear_error();
        err = clm_fail(CLM_ERR_UNAUTHENTICATED,
                       "PKCS#12: wrong password, or the file is damaged (the integrity "
                       "check failed)");
        goto done;
    }
    if (PKCS12_parse(p12, password, &key, &cert, &ca) != 1) {
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "PKCS#12: cannot decrypt the contents");
        goto done;
    }
    if (key == NULL || cert == NULL) {
        err = clm_fail(CLM_ERR_PARSE, "PKCS#12 holds no %s",
                       key == NULL ? "private key" : "certificate");
        goto done;
    }
    out->friendly_name = copy_alias(cert);
    if (ca != NULL && sk_X509_num(ca) > 0) {
        out->chain = calloc((size_t)sk_X509_num(ca), sizeof *out->chain);
        if (out->chain == NULL) {
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            goto done;
        }
        for (int i = 0; i < (int)sk_X509_num(ca); i++)
            out->chain[out->n_chain++] = sk_X509_value(ca, i);
        sk_X509_free(ca); /* the certificates now belong to out->chain */
        ca = NULL;
    }
    out->key = key;
    out->cert = cert;
    key = NULL;
    cert = NULL;
done:
    if (err != CLM_OK)
        pki_pkcs12_contents_free(out);
    EVP_PKEY_free(key);
    X509_free(cert);
    sk_X509_pop_free(ca, X509_free);
    PKCS12_free(p12);
    return err;
}
