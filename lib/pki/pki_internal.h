/*
 * lib/pki/pki_internal.h: helpers shared by the lib/pki sources; not a public header.
 *
 * Only the API that OpenSSL 3 and BoringSSL share is used in lib/pki (TOOLCHAIN.md):
 * boringssl_test.sh compiles every file here against Debian's Android BoringSSL.
 */
#ifndef CLM_LIB_PKI_INTERNAL_H
#define CLM_LIB_PKI_INTERNAL_H

#include "lib/base/buf.h"
#include "lib/base/error.h"

#include <openssl/bio.h>
#include <stddef.h>

/**
 * @brief clm_fail() with the library's reason appended: "<message>: <reason>".
 * Takes the oldest error on the thread's OpenSSL error queue (the root cause) and
 * empties the queue, so no stale reason leaks into a later message.
 * @return err.
 */
clm_err pki_fail_ssl(clm_err err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * @brief A read-only memory BIO over len bytes (borrowed: data must outlive the BIO).
 * @param[in] what names the input in messages ("certificate PEM").
 * @return CLM_OK; CLM_ERR_PARSE for empty or oversized input; CLM_ERR_NO_MEMORY.
 */
clm_err pki_bio_from_mem(const void *data, size_t len, const char *what, BIO **out);

/**
 * @brief Append the contents of a memory BIO to out.
 * @param[in] secret when nonzero the BIO's bytes are zeroed after copying.
 */
clm_err pki_bio_drain(BIO *bio, clm_buf *out, int secret);

#endif
