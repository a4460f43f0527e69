/* lib/pki/pki_internal.c: OpenSSL error translation and memory BIOs. */
#include "lib/pki/pki_internal.h"

#include <limits.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>

clm_err pki_fail_ssl(clm_err err, const char *fmt, ...)
{
    char message[CLM_ERROR_MESSAGE_MAX];
    char reason[256];
    unsigned long code;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    code = ERR_get_error();
    if (code != 0)
        ERR_error_string_n(code, reason, sizeof reason);
    else
        snprintf(reason, sizeof reason, "no reason given by the TLS library");
    ERR_clear_error();
    return clm_fail(err, "%s: %s", message, reason);
}

clm_err pki_bio_from_mem(const void *data, size_t len, const char *what, BIO **out)
{
    *out = NULL;
    if (data == NULL || len == 0)
        return clm_fail(CLM_ERR_PARSE, "%s: empty input", what);
    if (len > INT_MAX)
        return clm_fail(CLM_ERR_PARSE, "%s: input of %zu bytes is too large", what, len);
    *out = BIO_new_mem_buf(data, (int)len);
    if (*out == NULL)
        return pki_fail_ssl(CLM_ERR_NO_MEMORY, "%s: cannot make a memory BIO", what);
    return CLM_OK;
}

clm_err pki_bio_drain(BIO *bio, clm_buf *out, int secret)
{
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    clm_err err;

    if (len < 0 || (len > 0 && data == NULL))
        return clm_fail(CLM_ERR_INTERNAL, "memory BIO returned no data");
    err = clm_buf_append(out, data, (size_t)len);
    if (secret)
        clm_memwipe(data, (size_t)len);
    return err;
}
