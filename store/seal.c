/* store/seal.c: AES-256-GCM sealing under the master key file. */
#include "store/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/pki/file.h"
#include "lib/pki/random.h"

#define SEAL_VERSION 1
#define NONCE_BYTES 12
#define TAG_BYTES 16

struct seal_key {
    unsigned char bytes[SEAL_KEY_BYTES];
};

static clm_err read_key(const char *path, seal_key *key)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return clm_fail(CLM_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
        close(fd);
        return clm_fail(CLM_ERR_STORE,
                        "%s is readable by group or others; treat the key as leaked (chmod "
                        "600 only after you are sure it was not copied)", path);
    }
    if (st.st_size != SEAL_KEY_BYTES) {
        close(fd);
        return clm_fail(CLM_ERR_STORE, "%s: %lld bytes, expected %d", path,
                        (long long)st.st_size, SEAL_KEY_BYTES);
    }
    n = read(fd, key->bytes, sizeof(key->bytes));
    close(fd);
    if (n != SEAL_KEY_BYTES)
        return clm_fail(CLM_ERR_IO, "%s: short read", path);
    return CLM_OK;
}

clm_err seal_key_load(const char *data_dir, seal_key **out)
{
    char path[4200];
    seal_key *key;
    clm_err err;

    *out = NULL;
    key = calloc(1, sizeof(*key));
    if (key == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    snprintf(path, sizeof(path), "%s/master.key", data_dir);
    if (access(path, F_OK) != 0) {
        /* First use: a new key, written whole or not at all; an existing one never
           replaced (two processes racing both end up with the winner's key). */
        unsigned char fresh[SEAL_KEY_BYTES];
        err = pki_random_bytes(fresh, sizeof(fresh));
        if (err == CLM_OK)
            err = pki_file_write(path, fresh, sizeof(fresh), false);
        OPENSSL_cleanse(fresh, sizeof(fresh));
        if (err != CLM_OK && err != CLM_ERR_ALREADY_EXISTS) {
            free(key);
            return err;
        }
    }
    if ((err = read_key(path, key)) != CLM_OK) {
        seal_key_free(key);
        return err;
    }
    *out = key;
    return CLM_OK;
}

void seal_key_free(seal_key *key)
{
    if (key == NULL)
        return;
    OPENSSL_cleanse(key->bytes, sizeof(key->bytes));
    free(key);
}

clm_err seal(const seal_key *key, const char *aad, const void *plain, size_t len, clm_buf *out)
{
    unsigned char nonce[NONCE_BYTES];
    EVP_CIPHER_CTX *ctx;
    unsigned char *p;
    int n = 0, ok;
    clm_err err;

    if (len > (size_t)INT32_MAX - 64)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "secret too large to seal");
    if ((err = pki_random_bytes(nonce, sizeof(nonce))) != CLM_OK)
        return err;
    if ((err = clm_buf_reserve(out, SEAL_OVERHEAD + len)) != CLM_OK)
        return err;
    p = out->data + out->len;
    p[0] = SEAL_VERSION;
    memcpy(p + 1, nonce, NONCE_BYTES);
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
         EVP_EncryptInit_ex(ctx, NULL, NULL, key->bytes, nonce) == 1 &&
         EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
         EVP_EncryptUpdate(ctx, p + 1 + NONCE_BYTES, &n, plain, (int)len) == 1 &&
         EVP_EncryptFinal_ex(ctx, p + 1 + NONCE_BYTES + n, &n) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, p + 1 + NONCE_BYTES + len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        return clm_fail(CLM_ERR_CRYPTO, "sealing failed");
    out->len += SEAL_OVERHEAD + len;
    return CLM_OK;
}

clm_err seal_open(const seal_key *key, const char *aad, const void *blob, size_t len,
                  clm_buf *out)
{
    const unsigned char *b = blob;
    size_t secret_len;
    EVP_CIPHER_CTX *ctx;
    unsigned char *p;
    int n = 0, ok;
    clm_err err;

    if (len < SEAL_OVERHEAD || b[0] != SEAL_VERSION)
        return clm_fail(CLM_ERR_PARSE, "not a sealed secret (version %d, %zu bytes)",
                        len ? b[0] : -1, len);
    secret_len = len - SEAL_OVERHEAD;
    if ((err = clm_buf_reserve(out, secret_len)) != CLM_OK)
        return err;
    p = out->data + out->len;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
         EVP_DecryptInit_ex(ctx, NULL, NULL, key->bytes, b + 1) == 1 &&
         EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
         EVP_DecryptUpdate(ctx, p, &n, b + 1 + NONCE_BYTES, (int)secret_len) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES,
                             (void *)(b + len - TAG_BYTES)) == 1 &&
         EVP_DecryptFinal_ex(ctx, p + n, &n) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        OPENSSL_cleanse(p, secret_len);
        return clm_fail(CLM_ERR_CRYPTO,
                        "sealed secret does not open: altered, or sealed under another master "
                        "key or for another record");
    }
    out->len += secret_len;
    out->data[out->len] = '\0';
    return CLM_OK;
}
