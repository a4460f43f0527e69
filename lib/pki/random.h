/*
 * lib/pki/random.h: random bytes and passwords for humans, from the TLS library's CSPRNG.
 *
 * Thread rules: every function here may be called from any thread.
 */
#ifndef CLM_LIB_PKI_RANDOM_H
#define CLM_LIB_PKI_RANDOM_H

#include "lib/base/error.h"

#include <stddef.h>

/** Length of a password made by pki_random_password() with the default length. */
#define PKI_PASSWORD_LENGTH 24

/**
 * @brief Fill out with len bytes from the CSPRNG (RAND_bytes).
 * @param[out] out   len bytes; untouched on error.
 * @param[in]  len   may be 0.
 * @return CLM_OK, or CLM_ERR_CRYPTO when the generator fails (not seeded).
 */
clm_err pki_random_bytes(void *out, size_t len);

/**
 * @brief The characters a generated password is made of: digits, upper and lower case
 * letters without the ones people confuse when reading or typing (0 O o 1 I l).
 * @return a static NUL-terminated string (56 characters).
 */
const char *pki_random_password_alphabet(void);

/**
 * @brief Make a password for a human to copy: `length` characters drawn uniformly from
 * pki_random_password_alphabet() (rejection sampling, so no modulo bias; 24 characters
 * carry about 139 bits).
 * @param[out] out      receives the password and a terminating NUL.
 * @param[in]  out_size size of out; must be at least length + 1.
 * @param[in]  length   number of characters, 1 or more (PKI_PASSWORD_LENGTH is the default).
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT when out is too small or length is 0;
 *         CLM_ERR_CRYPTO when the generator fails. The caller wipes out (clm_memwipe)
 *         once the password is no longer needed.
 */
clm_err pki_random_password(char *out, size_t out_size, size_t length);

#endif
