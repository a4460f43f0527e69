/* lib/pki/random.c: CSPRNG bytes and unambiguous passwords. */
#include "lib/pki/random.h"

#include "lib/base/buf.h"
#include "lib/pki/pki_internal.h"

#include <limits.h>
#include <openssl/rand.h>
#include <string.h>

/* No 0 O o, no 1 I l. 8 + 24 + 24 = 56 characters. */
static const char password_alphabet[] = "23456789"
                                        "ABCDEFGHJKLMNPQRSTUVWXYZ"
                                        "abcdefghijkmnpqrstuvwxyz";

const char *pki_random_password_alphabet(void)
{
    return password_alphabet;
}

clm_err pki_random_bytes(void *out, size_t len)
{
    unsigned char *p = out;

    while (len > 0) {
        size_t chunk = len > INT_MAX ? INT_MAX : len;

        if (RAND_bytes(p, (int)chunk) != 1)
            return pki_fail_ssl(CLM_ERR_CRYPTO, "random generator failed");
        p += chunk;
        len -= chunk;
    }
    return CLM_OK;
}

clm_err pki_random_password(char *out, size_t out_size, size_t length)
{
    const size_t n = sizeof password_alphabet - 1;
    /* The largest multiple of n that fits a byte: bytes at or above it are
     * rejected, so each kept byte maps to every character equally often. */
    const unsigned limit = 256 - (256 % n);
    unsigned char pool[64];
    size_t have = 0, used = 0, written = 0;
    clm_err err;

    if (out == NULL || length == 0 || out_size < length + 1)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "password buffer of %zu bytes cannot hold %zu characters", out_size,
                        length);
    while (written < length) {
        if (used == have) {
            err = pki_random_bytes(pool, sizeof pool);
            if (err != CLM_OK) {
                clm_memwipe(out, out_size);
                clm_memwipe(pool, sizeof pool);
                return err;
            }
            have = sizeof pool;
            used = 0;
        }
        unsigned char byte = pool[used++];
        if (byte < limit)
            out[written++] = password_alphabet[byte % n];
    }
    out[length] = '\0';
    clm_memwipe(pool, sizeof pool);
    return CLM_OK;
}
