/* lib/pki/key.c: key generation and PEM coding via EVP_PKEY_CTX (OpenSSL 3 / BoringSSL). */
#include "lib/pki/key.h"

#include "lib/base/buf.h"
#include "lib/pki/pki_internal.h"

#include <limits.h>
#include <openssl/ec.h> /* EC_curve_nist2nid */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h> /* PKCS8_decrypt in BoringSSL (pkcs8.h) */
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h> /* memmem: _GNU_SOURCE comes from CLM_COPTS */
#include <strings.h>

static const struct {
    const char *name;
    int is_rsa;
    int param; /* curve NID or RSA modulus bits */
} key_types[PKI_KEY_TYPE_MAX] = {
    [PKI_KEY_EC_P256] = {"ec-p256", 0, NID_X9_62_prime256v1},
    [PKI_KEY_EC_P384] = {"ec-p384", 0, NID_secp384r1},
    [PKI_KEY_RSA_2048] = {"rsa-2048", 1, 2048},
    [PKI_KEY_RSA_3072] = {"rsa-3072", 1, 3072},
    [PKI_KEY_RSA_4096] = {"rsa-4096", 1, 4096},
    [PKI_KEY_EC_P521] = {"ec-p521", 0, NID_secp521r1},
    [PKI_KEY_RSA_6144] = {"rsa-6144", 1, 6144},
    [PKI_KEY_RSA_7680] = {"rsa-7680", 1, 7680},
    [PKI_KEY_RSA_8192] = {"rsa-8192", 1, 8192},
};

const char *pki_key_type_name(pki_key_type type)
{
    if ((unsigned)type >= PKI_KEY_TYPE_MAX)
        return "unknown";
    return key_types[type].name;
}

clm_err pki_key_type_parse(const char *name, pki_key_type *out)
{
    char known[256];
    size_t used = 0;

    for (int i = 0; i < PKI_KEY_TYPE_MAX; i++) {
        if (name != NULL && strcasecmp(name, key_types[i].name) == 0) {
            *out = (pki_key_type)i;
            return CLM_OK;
        }
    }
    known[0] = '\0';
    for (int i = 0; i < PKI_KEY_TYPE_MAX && used < sizeof known; i++) {
        int n =
            snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", key_types[i].name);
        if (n > 0)
            used += (size_t)n;
    }
    return clm_fail(CLM_ERR_INVALID_ARGUMENT, "key type \"%.64s\" is unknown; use one of %s",
                    name ? name : "(null)", known);
}

/* The named curve of an EC key. OpenSSL 3: EVP_PKEY_get_group_name, which reads it; the
 * shared API has no such call (EVP_PKEY_get0_EC_KEY is deprecated in OpenSSL 3), so
 * elsewhere through the SubjectPublicKeyInfo, which in OpenSSL 3 costs about 0.27 ms
 * (encoder and decoder set-up): more than making a CSR. */
static int ec_curve_nid(EVP_PKEY *key)
{
#ifndef OPENSSL_IS_BORINGSSL
    char name[64];
    size_t len = 0;
    int nid;

    if (EVP_PKEY_get_group_name(key, name, sizeof name, &len) == 1 && len < sizeof name) {
        nid = OBJ_sn2nid(name);
        if (nid == NID_undef)
            nid = EC_curve_nist2nid(name);
        if (nid != NID_undef)
            return nid;
    }
    ERR_clear_error();
#endif
    X509_PUBKEY *pub = NULL;
    X509_ALGOR *alg = NULL;
    const void *param = NULL;
    int ptype = 0, curve = NID_undef;

    if (X509_PUBKEY_set(&pub, key) == 1 &&
        X509_PUBKEY_get0_param(NULL, NULL, NULL, &alg, pub) == 1) {
        X509_ALGOR_get0(NULL, &ptype, &param, alg);
        if (ptype == V_ASN1_OBJECT)
            curve = OBJ_obj2nid(param);
    }
    X509_PUBKEY_free(pub);
    ERR_clear_error();
    return curve;
}

/* The key type of an RSA key of `bits` or an EC key on curve `nid`. */
static clm_err key_type_match(int id, int param, pki_key_type *out)
{
    for (int i = 0; i < PKI_KEY_TYPE_MAX; i++) {
        if (key_types[i].is_rsa == (id == EVP_PKEY_RSA) && key_types[i].param == param) {
            *out = (pki_key_type)i;
            return CLM_OK;
        }
    }
    if (id == EVP_PKEY_RSA)
        return clm_fail(CLM_ERR_UNSUPPORTED, "RSA %d bits is not a supported key size", param);
    return clm_fail(CLM_ERR_UNSUPPORTED, "EC curve %s is not supported",
                    param != NID_undef && OBJ_nid2sn(param) ? OBJ_nid2sn(param) : "(explicit)");
}

clm_err pki_key_type_of(EVP_PKEY *key, pki_key_type *out)
{
    int id;

    if (key == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "no key");
    id = EVP_PKEY_id(key);
    if (id == EVP_PKEY_RSA)
        return key_type_match(id, EVP_PKEY_bits(key), out);
    if (id == EVP_PKEY_EC)
        return key_type_match(id, ec_curve_nid(key), out);
    return clm_fail(CLM_ERR_UNSUPPORTED, "%s keys are not supported",
                    OBJ_nid2sn(id) ? OBJ_nid2sn(id) : "unknown");
}

clm_err pki_key_type_of_request(X509_REQ *req, EVP_PKEY *key, pki_key_type *out)
{
#ifdef OPENSSL_IS_BORINGSSL
    /* BoringSSL has no X509_REQ_get_X509_PUBKEY, and re-encoding a key is cheap there */
    (void)req;
    return pki_key_type_of(key, out);
#else
    X509_PUBKEY *pub;
    X509_ALGOR *alg = NULL;
    const void *param = NULL;
    int ptype = 0;

    if (req == NULL || key == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "no request or key");
    if (EVP_PKEY_id(key) != EVP_PKEY_EC)
        return pki_key_type_of(key, out); /* RSA: bits of the decoded key; others refused */
    pub = X509_REQ_get_X509_PUBKEY(req);
    if (pub == NULL || X509_PUBKEY_get0_param(NULL, NULL, NULL, &alg, pub) != 1)
        return clm_fail(CLM_ERR_UNSUPPORTED, "the request's key has no algorithm");
    X509_ALGOR_get0(NULL, &ptype, &param, alg);
    return key_type_match(EVP_PKEY_EC, ptype == V_ASN1_OBJECT ? OBJ_obj2nid(param) : NID_undef,
                          out);
#endif
}

clm_err pki_key_generate(pki_key_type type, EVP_PKEY **out)
{
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *key = NULL;
    clm_err err = CLM_OK;

    *out = NULL;
    if ((unsigned)type >= PKI_KEY_TYPE_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "key type %d is out of range", (int)type);
    ctx = EVP_PKEY_CTX_new_id(key_types[type].is_rsa ? EVP_PKEY_RSA : EVP_PKEY_EC, NULL);
    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1) {
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "%s key generation: cannot start", key_types[type].name);
        goto done;
    }
    if (key_types[type].is_rsa) {
        if (EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, key_types[type].param) != 1) {
            err = pki_fail_ssl(CLM_ERR_CRYPTO, "%s key generation: cannot set the size",
                               key_types[type].name);
            goto done;
        }
    } else if (EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, key_types[type].param) != 1) {
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "%s key generation: cannot set the curve",
                           key_types[type].name);
        goto done;
    }
    if (EVP_PKEY_keygen(ctx, &key) != 1 || key == NULL) {
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "%s key generation failed", key_types[type].name);
        goto done;
    }
    *out = key;
done:
    EVP_PKEY_CTX_free(ctx);
    return err;
}

clm_err pki_key_to_pem(EVP_PKEY *key, clm_buf *out)
{
    BIO *bio;
    size_t before = out->len;
    clm_err err;

    if (key == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "no key to write");
    bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return pki_fail_ssl(CLM_ERR_NO_MEMORY, "private key PEM: cannot make a memory BIO");
    if (PEM_write_bio_PKCS8PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot encode the private key as PKCS#8 PEM");
        /* a partial write may have left key bytes in the BIO: drain wipes them */
        clm_buf scratch = CLM_BUF_INIT;
        pki_bio_drain(bio, &scratch, 1);
        clm_buf_wipe(&scratch);
        BIO_free(bio);
        return err;
    }
    err = pki_bio_drain(bio, out, 1);
    BIO_free(bio);
    if (err != CLM_OK && out->len > before) {
        clm_memwipe(out->data + before, out->len - before);
        out->len = before;
        out->data[before] = '\0';
    }
    return err;
}

/* A passphrase callback that supplies none: an encrypted key fails instead of making
 * OpenSSL prompt on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)userdata;
    return 0;
}

clm_err pki_key_from_pem(const void *pem, size_t len, EVP_PKEY **out)
{
    static const char *const encrypted_markers[] = {"-----BEGIN ENCRYPTED PRIVATE KEY-----",
                                                    "Proc-Type: 4,ENCRYPTED"};
    BIO *bio;
    EVP_PKEY *key;
    clm_err err;

    *out = NULL;
    for (size_t i = 0; pem != NULL && i < sizeof encrypted_markers / sizeof *encrypted_markers;
         i++) {
        if (memmem(pem, len, encrypted_markers[i], strlen(encrypted_markers[i])) != NULL)
            return clm_fail(CLM_ERR_UNSUPPORTED,
                            "private key PEM is encrypted with a passphrase; store it "
                            "unencrypted (openssl pkey -in KEY -out KEY.plain)");
    }
    err = pki_bio_from_mem(pem, len, "private key PEM", &bio);
    if (err != CLM_OK)
        return err;
    key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (key == NULL)
        return pki_fail_ssl(CLM_ERR_PARSE, "no private key could be read from the PEM text");
    ERR_clear_error();
    *out = key;
    return CLM_OK;
}

/* The password callback: supplies the caller's password once, and records that the
 * key asked for one (it is encrypted). */
typedef struct password_request {
    const char *password;
    bool asked;
} password_request;

static int give_password(char *buf, int size, int rwflag, void *userdata)
{
    password_request *req = userdata;
    size_t n;

    (void)rwflag;
    req->asked = true;
    if (req->password == NULL)
        return -1;
    n = strlen(req->password);
    if (size < 0 || n > (size_t)size)
        return -1;
    memcpy(buf, req->password, n);
    return (int)n;
}

static clm_err locked_key(const password_request *req, const char *what)
{
    ERR_clear_error();
    if (req->password == NULL)
        return clm_fail(CLM_ERR_UNAUTHENTICATED, "%s is encrypted: a password is needed", what);
    return clm_fail(CLM_ERR_UNAUTHENTICATED, "%s: wrong password, or the encrypted key is damaged",
                    what);
}

clm_err pki_key_from_pem_password(const void *pem, size_t len, const char *password, EVP_PKEY **out)
{
    password_request req = {password, false};
    BIO *bio;
    EVP_PKEY *key;
    clm_err err;

    *out = NULL;
    err = pki_bio_from_mem(pem, len, "private key PEM", &bio);
    if (err != CLM_OK)
        return err;
    key = PEM_read_bio_PrivateKey(bio, NULL, give_password, &req);
    BIO_free(bio);
    if (key == NULL) {
        if (req.asked)
            return locked_key(&req, "private key");
        return pki_fail_ssl(CLM_ERR_PARSE, "no private key could be read from the PEM text");
    }
    ERR_clear_error();
    *out = key;
    return CLM_OK;
}

clm_err pki_key_from_der(const void *der, size_t len, const char *password, EVP_PKEY **out)
{
    password_request req = {password, true};
    const unsigned char *p = der, *end = (const unsigned char *)der + len;
    EVP_PKEY *key = NULL;

    *out = NULL;
    if (der == NULL || len < 2 || len > LONG_MAX)
        return clm_fail(CLM_ERR_PARSE, "private key: empty or oversized input");
    /* EncryptedPrivateKeyInfo starts SEQUENCE { SEQUENCE algorithm, ...}; the plain
     * forms start with an INTEGER version. Skip the outer header to look. */
    size_t hdr = p[1] < 0x80 ? 2 : 2 + (p[1] & 0x7fu);
    if (p[0] == 0x30 && len > hdr && p[hdr] == 0x30) {
        X509_SIG *sig;
        PKCS8_PRIV_KEY_INFO *p8;

        if (password == NULL)
            return locked_key(&req, "private key");
        sig = d2i_X509_SIG(NULL, &p, (long)len);
        if (sig == NULL || p != end) {
            X509_SIG_free(sig);
            return pki_fail_ssl(CLM_ERR_PARSE, "not an encrypted PKCS#8 private key");
        }
        p8 = PKCS8_decrypt(sig, password, (int)strlen(password));
        X509_SIG_free(sig);
        if (p8 == NULL)
            return locked_key(&req, "private key");
        key = EVP_PKCS82PKEY(p8);
        PKCS8_PRIV_KEY_INFO_free(p8);
    } else {
        key = d2i_AutoPrivateKey(NULL, &p, (long)len);
        if (key != NULL && p != end) {
            EVP_PKEY_free(key);
            return clm_fail(CLM_ERR_PARSE, "%zu bytes after the private key", (size_t)(end - p));
        }
    }
    if (key == NULL)
        return pki_fail_ssl(CLM_ERR_PARSE, "no private key could be read from the DER");
    ERR_clear_error();
    *out = key;
    return CLM_OK;
}

int pki_key_is_rsa(const EVP_PKEY *key)
{
    return key != NULL && EVP_PKEY_id(key) == EVP_PKEY_RSA;
}
