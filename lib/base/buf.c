/* lib/base/buf.c: growable buffer. */
#include "lib/base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

clm_err clm_buf_reserve(clm_buf *buf, size_t extra)
{
    size_t need;
    size_t cap;
    unsigned char *p;

    if (extra > SIZE_MAX - buf->len - 1)
        return clm_fail(CLM_ERR_NO_MEMORY, "buffer size overflow");
    need = buf->len + extra + 1; /* +1: the NUL kept past len */
    if (need <= buf->cap)
        return CLM_OK;
    cap = buf->cap ? buf->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(buf->data, cap);
    if (p == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory growing a buffer to %zu bytes", cap);
    buf->data = p;
    buf->cap = cap;
    return CLM_OK;
}

clm_err clm_buf_append(clm_buf *buf, const void *data, size_t len)
{
    clm_err err = clm_buf_reserve(buf, len);

    if (err != CLM_OK)
        return err;
    if (len > 0)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return CLM_OK;
}

clm_err clm_buf_append_str(clm_buf *buf, const char *str)
{
    return clm_buf_append(buf, str, strlen(str));
}

clm_err clm_buf_append_byte(clm_buf *buf, unsigned char byte)
{
    return clm_buf_append(buf, &byte, 1);
}

clm_err clm_buf_printf(clm_buf *buf, const char *fmt, ...)
{
    va_list ap;
    int n;
    clm_err err;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return clm_fail(CLM_ERR_INTERNAL, "bad format string");
    err = clm_buf_reserve(buf, (size_t)n);
    if (err != CLM_OK)
        return err;
    va_start(ap, fmt);
    vsnprintf((char *)buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
    return CLM_OK;
}

const char *clm_buf_str(const clm_buf *buf)
{
    return buf->data ? (const char *)buf->data : "";
}

void clm_buf_reset(clm_buf *buf)
{
    buf->len = 0;
    if (buf->data)
        buf->data[0] = '\0';
}

unsigned char *clm_buf_detach(clm_buf *buf, size_t *len)
{
    unsigned char *data = buf->data;

    if (len)
        *len = buf->len;
    buf->data = NULL;
    buf->len = buf->cap = 0;
    return data;
}

void clm_buf_free(clm_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

void clm_memwipe(void *ptr, size_t len)
{
    if (ptr != NULL && len > 0)
        explicit_bzero(ptr, len);
}

void clm_buf_wipe(clm_buf *buf)
{
    clm_memwipe(buf->data, buf->cap);
    clm_buf_free(buf);
}

void clm_hex_encode(char *out, const unsigned char *in, size_t len)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xf];
    }
    out[2 * len] = '\0';
}
