/* lib/pki/der.c: strict DER reading and a bounded BER walker (see der.h). */
#include "lib/pki/der.h"

#include <string.h>

/* Deepest nesting the BER walker follows through indefinite lengths. */
#define BER_DEPTH_MAX 32

/* Identifier and length at d->p. strict: DER rules; otherwise BER rules, where
 * *indefinite reports the 0x80 form (only for constructed types). */
static bool read_header(const pki_der *d, bool strict, pki_der_tlv *out, bool *indefinite)
{
    const unsigned char *q = d->p;
    size_t avail, len = 0;

    *indefinite = false;
    if (d->end - q < 2)
        return false;
    out->start = q;
    out->tag = *q++;
    if ((out->tag & 0x1f) == 0x1f)
        return false; /* high tag number form: nothing clm reads uses it */
    if (*q < 0x80) {
        len = *q++;
    } else if (*q == 0x80) {
        if (strict || !(out->tag & 0x20))
            return false;
        q++;
        *indefinite = true;
    } else {
        size_t n = *q++ & 0x7fu;

        if (n > 4 || (size_t)(d->end - q) < n)
            return false;
        if (strict && *q == 0)
            return false; /* leading zero length octet */
        for (size_t i = 0; i < n; i++)
            len = (len << 8) | *q++;
        if (strict && len < 0x80)
            return false; /* long form where the short form would do */
    }
    avail = (size_t)(d->end - q);
    if (*indefinite)
        len = avail;
    else if (len > avail)
        return false;
    out->value = q;
    out->len = len;
    out->total = (size_t)(q - out->start) + len;
    return true;
}

bool pki_der_next(pki_der *d, pki_der_tlv *out)
{
    pki_der_tlv t;
    bool indefinite;

    if (!read_header(d, true, &t, &indefinite))
        return false;
    d->p = t.value + t.len;
    if (out != NULL)
        *out = t;
    return true;
}

bool pki_der_get(pki_der *d, unsigned char tag, pki_der_tlv *out)
{
    /* the common case inline: short definite length */
    const unsigned char *q = d->p;
    size_t len;

    if (d->end - q < 2 || q[0] != tag)
        return false;
    if (q[1] >= 0x80)
        return pki_der_next(d, out); /* tag matches: the general reader */
    len = q[1];
    if (len > (size_t)(d->end - q - 2))
        return false;
    if (out != NULL) {
        out->tag = tag;
        out->start = q;
        out->value = q + 2;
        out->len = len;
        out->total = len + 2;
    }
    d->p = q + 2 + len;
    return true;
}

/* Skip one BER element at d->p; depth bounds the recursion of indefinite lengths. On
 * success *out describes it (for an indefinite length: contents without the marker). */
static bool ber_skip(pki_der *d, pki_der_tlv *out, int depth)
{
    pki_der_tlv t;
    bool indefinite;

    if (depth > BER_DEPTH_MAX || !read_header(d, false, &t, &indefinite))
        return false;
    if (!indefinite) {
        d->p = t.value + t.len;
        *out = t;
        return true;
    }
    /* Walk the nested elements until the end-of-contents octets 00 00. */
    pki_der inner = pki_der_make(t.value, t.len);
    for (;;) {
        pki_der_tlv child;

        if (inner.end - inner.p >= 2 && inner.p[0] == 0 && inner.p[1] == 0) {
            t.len = (size_t)(inner.p - t.value);
            t.total = (size_t)(inner.p + 2 - t.start);
            d->p = inner.p + 2;
            *out = t;
            return true;
        }
        if (!ber_skip(&inner, &child, depth + 1))
            return false;
    }
}

bool pki_ber_next(pki_der *d, pki_der_tlv *out)
{
    pki_der copy = *d;
    pki_der_tlv t;

    if (!ber_skip(&copy, &t, 0))
        return false;
    *d = copy;
    if (out != NULL)
        *out = t;
    return true;
}

bool pki_der_oid_valid(const unsigned char *v, size_t len)
{
    if (len == 0 || (v[len - 1] & 0x80))
        return false;
    for (size_t i = 0; i < len; i++) {
        /* the first octet of each subidentifier may not be 0x80 (a leading zero) */
        bool starts = i == 0 || !(v[i - 1] & 0x80);
        if (starts && v[i] == 0x80)
            return false;
    }
    return true;
}

/* Decimal digits of v at out (no NUL). @return their number, or 0 when size is short. */
static size_t put_decimal(uint64_t v, char *out, size_t size)
{
    char digits[20];
    size_t n = 0;

    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    if (n > size)
        return 0;
    for (size_t i = 0; i < n; i++)
        out[i] = digits[n - 1 - i];
    return n;
}

int pki_der_oid_text(const unsigned char *v, size_t len, char *out, size_t size)
{
    size_t used = 0;
    uint64_t arc = 0;
    bool first = true;

    if (!pki_der_oid_valid(v, len) || size == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        size_t n;

        if (arc > (UINT64_MAX >> 7))
            return -1;
        arc = (arc << 7) | (v[i] & 0x7fu);
        if (v[i] & 0x80)
            continue;
        if (first) {
            unsigned top = arc < 40 ? 0 : arc < 80 ? 1 : 2;
            if (size - used < 2)
                return -1;
            out[used++] = (char)('0' + top);
            out[used++] = '.';
            arc -= 40u * top;
            first = false;
        } else {
            if (size - used < 1)
                return -1;
            out[used++] = '.';
        }
        n = put_decimal(arc, out + used, size - used);
        if (n == 0)
            return -1;
        used += n;
        arc = 0;
    }
    if (used >= size)
        return -1;
    out[used] = '\0';
    return (int)used;
}

bool pki_der_integer_valid(const unsigned char *v, size_t len)
{
    if (len == 0)
        return false;
    if (len > 1 && ((v[0] == 0x00 && v[1] < 0x80) || (v[0] == 0xff && v[1] >= 0x80)))
        return false;
    return true;
}

bool pki_der_integer_uint(const unsigned char *v, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t value = 0;

    if (!pki_der_integer_valid(v, len) || (v[0] & 0x80))
        return false;
    if (v[0] == 0) {
        v++;
        len--;
    }
    if (len > 8)
        return false;
    for (size_t i = 0; i < len; i++)
        value = (value << 8) | v[i];
    if (value > max)
        return false;
    *out = value;
    return true;
}

bool pki_der_boolean(const unsigned char *v, size_t len, bool *out)
{
    if (len != 1 || (v[0] != 0x00 && v[0] != 0xff))
        return false;
    *out = v[0] == 0xff;
    return true;
}

bool pki_der_bit_string(const unsigned char *v, size_t len, const unsigned char **bits,
                        size_t *nbytes, unsigned *unused)
{
    unsigned pad;

    if (len == 0 || v[0] > 7 || (len == 1 && v[0] != 0))
        return false;
    pad = v[0];
    if (len > 1 && (v[len - 1] & ((1u << pad) - 1u)) != 0)
        return false;
    if (bits != NULL)
        *bits = v + 1;
    if (nbytes != NULL)
        *nbytes = len - 1;
    if (unused != NULL)
        *unused = pad;
    return true;
}

int64_t pki_der_civil_to_unix(int64_t year, int month, int day, int hour, int minute, int second)
{
    /* days from civil (H. Hinnant's algorithm), valid for every proleptic year */
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;

    return days * 86400 + hour * 3600 + minute * 60 + second;
}

static bool two_digits(const unsigned char *p, int *out)
{
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
        return false;
    *out = (p[0] - '0') * 10 + (p[1] - '0');
    return true;
}

bool pki_der_time(unsigned char tag, const unsigned char *v, size_t len, int64_t *out)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year, month, day, hour, minute, second, hi, lo;
    bool leap;

    if (tag == PKI_DER_UTC_TIME) {
        if (len != 13 || v[12] != 'Z' || !two_digits(v, &lo))
            return false;
        year = lo < 50 ? 2000 + lo : 1900 + lo;
        v += 2;
    } else if (tag == PKI_DER_GENERALIZED_TIME) {
        if (len != 15 || v[14] != 'Z' || !two_digits(v, &hi) || !two_digits(v + 2, &lo))
            return false;
        year = hi * 100 + lo;
        v += 4;
    } else {
        return false;
    }
    if (!two_digits(v, &month) || !two_digits(v + 2, &day) || !two_digits(v + 4, &hour) ||
        !two_digits(v + 6, &minute) || !two_digits(v + 8, &second))
        return false;
    if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59)
        return false;
    leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > mdays[month - 1] + (month == 2 && leap))
        return false;
    *out = pki_der_civil_to_unix(year, month, day, hour, minute, second);
    return true;
}
