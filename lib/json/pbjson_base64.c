/*
 * lib/json/pbjson_base64.c: base64 for `bytes` fields (RFC 4648).
 *
 * Written here rather than taken from OpenSSL: EVP_DecodeBlock() knows neither the
 * URL-safe alphabet nor missing padding, both of which the proto3 JSON mapping
 * accepts, and it counts padding into its result; wrapping it would take more code
 * than this, and would tie lib/json to libcrypto for no other reason.
 *
 * The decoder is strict in what RFC 4648 section 3.5 lets it be: no whitespace, '='
 * only at the end and only as much as completes the last quantum, and the unused
 * bits of the last character must be zero (so one byte string has one text form per
 * alphabet). It accepts the standard ('+', '/') and URL-safe ('-', '_') characters.
 */
#include "lib/json/pbjson_internal.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t pbjson_base64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

void pbjson_base64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t i = 0;

    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

        *out++ = alphabet[v >> 18];
        *out++ = alphabet[(v >> 12) & 63];
        *out++ = alphabet[(v >> 6) & 63];
        *out++ = alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;

        *out++ = alphabet[v >> 18];
        *out++ = alphabet[(v >> 12) & 63];
        *out++ = '=';
        *out++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

        *out++ = alphabet[v >> 18];
        *out++ = alphabet[(v >> 12) & 63];
        *out++ = alphabet[(v >> 6) & 63];
        *out++ = '=';
    }
    *out = '\0';
}

size_t pbjson_base64_decoded_max(size_t text_len)
{
    return text_len / 4 * 3 + 3;
}

/* The 6-bit value of c in either alphabet, or -1. */
static int sextet(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

const char *pbjson_base64_decode(const char *text, size_t len, uint8_t *out, size_t *out_len)
{
    size_t data_len = len, n = 0, i = 0;
    uint32_t v;

    /* Padding: none, or exactly what makes the length a multiple of 4. */
    while (data_len > 0 && text[data_len - 1] == '=')
        data_len--;
    if (data_len != len && (len % 4 != 0 || len - data_len > 2))
        return "invalid base64: wrong padding";
    if (data_len % 4 == 1)
        return "invalid base64: truncated (length leaves one character over)";
    for (; i + 4 <= data_len; i += 4) {
        int a = sextet(text[i]), b = sextet(text[i + 1]);
        int c = sextet(text[i + 2]), d = sextet(text[i + 3]);

        if (a < 0 || b < 0 || c < 0 || d < 0)
            return "invalid base64: character outside the base64 alphabets";
        v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[n++] = (uint8_t)(v >> 16);
        out[n++] = (uint8_t)(v >> 8);
        out[n++] = (uint8_t)v;
    }
    if (data_len - i >= 2) {
        int a = sextet(text[i]), b = sextet(text[i + 1]);
        int c = data_len - i == 3 ? sextet(text[i + 2]) : 0;

        if (a < 0 || b < 0 || c < 0)
            return "invalid base64: character outside the base64 alphabets";
        v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
        out[n++] = (uint8_t)(v >> 16);
        if (data_len - i == 3)
            out[n++] = (uint8_t)(v >> 8);
        if ((data_len - i == 2 && (v & 0xffff) != 0) || (data_len - i == 3 && (v & 0xff) != 0))
            return "invalid base64: nonzero bits after the last byte";
    }
    *out_len = n;
    return NULL;
}
