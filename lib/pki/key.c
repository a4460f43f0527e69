/* lib/pki/key.c: key generation and PEM coding via EVP_PKEY_CTX (OpenSSL 3 / BoringSSL). */
#include "lib/pki/key.h"

#include "lib/pki/pki_internal.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h> /* memmem: _GNU_SOURCE comes from CLM_COPTS */

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
};

const char *pki_key_type_name(pki_key_type type)
{
    if ((unsigned)type >= PKI_KEY_TYPE_MAX)
        return "unknown";
    return key_types[type].name;
}

clm_err pki_key_type_parse(const char *name, pki_key_type *out)
{
    for (int i = 0; i < PKI_KEY_TYPE_MAX; i++) {
        if (name != NULL && strcmp(name, key_types[i].name) == 0) {
            *out = (pki_key_type)i;
            return CLM_OK;
        }
    }
    return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                    "key type \"%s\" is unknown; use ec-p256, ec-p384, rsa-2048, rsa-3072 or "
                    "rsa-4096",
                    name ? name : "(null)");
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

int pki_key_is_rsa(const EVP_PKEY *key)
{
    return key != NULL && EVP_PKEY_id(key) == EVP_PKEY_RSA;
}
