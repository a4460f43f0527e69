/*
 * lib/base/buf.h: a growable byte buffer, and byte helpers.
 *
 * A clm_buf owns its memory. Any call that appends may reallocate: pointers into
 * buf->data taken before such a call are dead after it. The data is always kept
 * NUL-terminated (one byte past len), so text can be read with clm_buf_str().
 * Buffers that held secrets are released with clm_buf_wipe(), which zeroes them.
 *
 * Thread rules: a clm_buf is not shared between threads without a lock.
 */
#ifndef CLM_LIB_BASE_BUF_H
#define CLM_LIB_BASE_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "lib/base/error.h"

typedef struct clm_buf {
    unsigned char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
} clm_buf;

#define CLM_BUF_INIT {NULL, 0, 0}

/** Make room for `extra` more bytes. @return CLM_OK or CLM_ERR_NO_MEMORY. */
clm_err clm_buf_reserve(clm_buf *buf, size_t extra);
clm_err clm_buf_append(clm_buf *buf, const void *data, size_t len);
clm_err clm_buf_append_str(clm_buf *buf, const char *str);
clm_err clm_buf_append_byte(clm_buf *buf, unsigned char byte);
clm_err clm_buf_printf(clm_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** The contents as a C string ("" when empty). Valid until the next append or free. */
const char *clm_buf_str(const clm_buf *buf);

/** Empty the buffer, keeping its memory. */
void clm_buf_reset(clm_buf *buf);

/**
 * @brief Hand the data to the caller (malloc'd, NUL-terminated) and empty the buffer.
 * @return the data, or NULL when the buffer never held anything.
 */
unsigned char *clm_buf_detach(clm_buf *buf, size_t *len);

/** Free the memory; the buffer is empty and reusable afterwards. */
void clm_buf_free(clm_buf *buf);

/** Zero the whole allocation, then free it. For buffers that held secrets. */
void clm_buf_wipe(clm_buf *buf);

/** Zero memory in a way the compiler cannot remove. */
void clm_memwipe(void *ptr, size_t len);

/** Big-endian integers, for index keys that must sort by value. */
static inline void clm_put_be64(unsigned char *out, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static inline uint64_t clm_get_be64(const unsigned char *in)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = (v << 8) | in[i];
    return v;
}

/** Lower-case hex of `len` bytes into out (2*len+1 bytes). */
void clm_hex_encode(char *out, const unsigned char *in, size_t len);

/** @return the value of one hex digit (either case), or -1 for any other character. */
static inline int clm_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
