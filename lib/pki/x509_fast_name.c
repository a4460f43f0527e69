/* lib/pki/x509_fast_name.c: distinguished names and directory strings for the fast
 * certificate reader: the checks d2i_X509 makes of them, and their text exactly as
 * X509_NAME_print_ex(XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) and ASN1_STRING_to_UTF8
 * give it. */
#include "lib/pki/facts_internal.h"
#include "lib/pki/oid.h"
#include "lib/pki/x509_fast_internal.h"

#include <stdlib.h>
#include <string.h>

/* OpenSSL prints an unknown attribute's OID into an 80-byte buffer. */
#define DN_OID_TEXT_MAX 79

/* ---- text ------------------------------------------------------------------------------ */

/* A text builder: a stack buffer, then the heap. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool heap, failed;
    char local[512];
} sbuf;

static void sb_init(sbuf *b)
{
    b->p = b->local;
    b->len = 0;
    b->cap = sizeof b->local;
    b->heap = false;
    b->failed = false;
}

static void sb_put(sbuf *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (b->cap - b->len < n + 1) {
        size_t cap = 2 * b->cap + n;
        char *grown = b->heap ? realloc(b->p, cap) : malloc(cap);
        if (grown == NULL) {
            b->failed = true;
            return;
        }
        if (!b->heap)
            memcpy(grown, b->p, b->len);
        b->p = grown;
        b->cap = cap;
        b->heap = true;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void sb_byte(sbuf *b, unsigned char c)
{
    if (!b->failed && b->cap - b->len >= 2)
        b->p[b->len++] = (char)c;
    else
        sb_put(b, &c, 1);
}

static void sb_free(sbuf *b)
{
    if (b->heap)
        free(b->p);
}

/* The builder's text in the arena (NULL when out of memory). */
static char *sb_finish(pki_fast *x, sbuf *b)
{
    char *out = NULL;

    if (!b->failed) {
        out = clm_arena_alloc(&x->f->arena, b->len + 1);
        if (out != NULL) {
            memcpy(out, b->p, b->len);
            out[b->len] = '\0';
        }
    }
    sb_free(b);
    return out;
}

static void put_utf8(sbuf *b, unsigned long c)
{
    unsigned char u[4];
    size_t n;

    if (c < 0x80) {
        u[0] = (unsigned char)c;
        n = 1;
    } else if (c < 0x800) {
        u[0] = (unsigned char)(0xc0 | (c >> 6));
        u[1] = (unsigned char)(0x80 | (c & 0x3f));
        n = 2;
    } else if (c < 0x10000) {
        u[0] = (unsigned char)(0xe0 | (c >> 12));
        u[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
        u[2] = (unsigned char)(0x80 | (c & 0x3f));
        n = 3;
    } else {
        u[0] = (unsigned char)(0xf0 | (c >> 18));
        u[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
        u[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
        u[3] = (unsigned char)(0x80 | (c & 0x3f));
        n = 4;
    }
    sb_put(b, u, n);
}

/* Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF): what OpenSSL's
 * name canonicalisation demands of a UTF8String, or d2i_X509 fails. */
bool pki_fast_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned long v;

        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            n = 2;
            v = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 3;
            v = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 4;
            v = c & 0x07;
        } else {
            return false;
        }
        if (len - i < n)
            return false;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            v = (v << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
            v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
            return false;
        i += n;
    }
    return true;
}

/* Character width of the directory string types modelled here (OpenSSL's tag2nbyte:
 * 0 = UTF-8, 1 = one byte per character read as Latin-1), or -1 for other types. */
int pki_fast_string_width(unsigned char tag)
{
    switch (tag) {
    case PKI_DER_UTF8_STRING: return 0;
    case PKI_DER_NUMERIC_STRING:
    case PKI_DER_PRINTABLE_STRING:
    case PKI_DER_T61_STRING:
    case PKI_DER_IA5_STRING:
    case PKI_DER_VISIBLE_STRING: return 1;
    case PKI_DER_BMP_STRING: return 2;
    case PKI_DER_UNIVERSAL_STRING: return 4;
    default: return -1;
    }
}

/* A directory string OpenSSL's d2i accepts: BMP and Universal strings of whole
 * characters that are valid Unicode scalar values, UTF8String valid UTF-8. */
bool pki_fast_string_valid(unsigned char tag, const unsigned char *v, size_t len)
{
    int width = pki_fast_string_width(tag);

    if (width == 0)
        return pki_fast_utf8_valid(v, len);
    if (width == 1)
        return true;
    if (width < 0 || len % (size_t)width != 0)
        return false;
    for (size_t i = 0; i < len; i += (size_t)width) {
        unsigned long c = width == 2
                              ? ((unsigned long)v[i] << 8) | v[i + 1]
                              : ((unsigned long)v[i] << 24) | ((unsigned long)v[i + 1] << 16) |
                                    ((unsigned long)v[i + 2] << 8) | v[i + 3];
        if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return false;
    }
    return true;
}

static unsigned long string_char(int width, const unsigned char *v)
{
    if (width == 2)
        return ((unsigned long)v[0] << 8) | v[1];
    if (width == 4)
        return ((unsigned long)v[0] << 24) | ((unsigned long)v[1] << 16) |
               ((unsigned long)v[2] << 8) | v[3];
    return v[0];
}

/* A validated directory string as UTF-8 (ASN1_STRING_to_UTF8), made safe with
 * pki_facts_text(). */
char *pki_fast_string_text(pki_fast *x, unsigned char tag, const unsigned char *v, size_t len)
{
    int width = pki_fast_string_width(tag);
    sbuf b;
    char *out;

    if (width == 0)
        return pki_facts_text(x->f, v, len, false);
    sb_init(&b);
    for (size_t i = 0; i < len; i += (size_t)width)
        put_utf8(&b, string_char(width, v + i));
    out = b.failed ? NULL : pki_facts_text(x->f, b.p, b.len, false);
    sb_free(&b);
    return out;
}

/* RFC 2253 escaping as OpenSSL's do_esc_char() does it with ESC_2253 | ESC_CTRL. */
enum { ESC_2253 = 1, ESC_CTRL = 2, ESC_FIRST = 0x20, ESC_LAST = 0x40 };

/* Escape flags of the ASCII characters (OpenSSL's charmap.h, the bits used here). */
static const unsigned char char_escapes[128] = {
    [0 ... 0x1f] = ESC_CTRL, [0x7f] = ESC_CTRL,
    ['"'] = ESC_2253,        ['+'] = ESC_2253,
    [','] = ESC_2253,        [';'] = ESC_2253,
    ['<'] = ESC_2253,        ['>'] = ESC_2253,
    ['\\'] = ESC_2253,       [' '] = ESC_FIRST | ESC_LAST,
    ['#'] = ESC_FIRST,
};

static void put_escaped(sbuf *b, unsigned char c, unsigned char position)
{
    static const char hex[] = "0123456789ABCDEF";
    unsigned char e;

    if (c > 0x7f) {
        sb_byte(b, c);
        return;
    }
    e = char_escapes[c] & (ESC_2253 | ESC_CTRL | position);
    if (e & (ESC_2253 | ESC_FIRST | ESC_LAST)) {
        sb_byte(b, '\\');
        sb_byte(b, c);
    } else if (e & ESC_CTRL) {
        sb_byte(b, '\\');
        sb_byte(b, (unsigned char)hex[c >> 4]);
        sb_byte(b, (unsigned char)hex[c & 0xf]);
    } else {
        sb_byte(b, c);
    }
}

/* A byte that prints as itself in the middle of a value: for UTF8String (width 0) any
 * byte above 0x7f too, for the Latin-1 types (width 1) only ASCII. */
static bool plain_byte(unsigned char c, int width)
{
    if (c > 0x7f)
        return width == 0;
    return (char_escapes[c] & (ESC_2253 | ESC_CTRL)) == 0;
}

/* One attribute value as do_buf() prints it. The first character may escape as first,
 * the last as last; when there is one character, only the last-position rule applies
 * (OpenSSL overwrites the flag). */
static void put_value(sbuf *b, unsigned char tag, const unsigned char *v, size_t len)
{
    int width = pki_fast_string_width(tag);
    size_t step = width <= 1 ? 1 : (size_t)width;

    for (size_t i = 0; i < len;) {
        unsigned char position = i == 0 ? ESC_FIRST : 0;
        if (i + step == len)
            position = ESC_LAST;
        if (width <= 1 && position == 0) {
            size_t j = i;
            while (j + 1 < len && plain_byte(v[j], width))
                j++;
            if (j > i) {
                sb_put(b, v + i, j - i);
                i = j;
                continue;
            }
        }
        unsigned long c = width == 0 ? v[i] : string_char(width, v + i);
        if (width == 0 || c < 0x80)
            put_escaped(b, (unsigned char)c, position);
        else
            put_utf8(b, c); /* bytes above 0x7f are never escaped */
        i += step;
    }
}

/* ---- names ----------------------------------------------------------------------------- */

/* Name ::= SEQUENCE OF SET SIZE (1..MAX) OF SEQUENCE { type OID, value ANY }. */
bool pki_fast_parse_name(pki_fast *x, const pki_der_tlv *tlv, pki_fast_name *out)
{
    pki_der d = pki_der_contents(tlv);
    int set = 0;

    out->tlv = *tlv;
    out->n = 0;
    while (!pki_der_done(&d)) {
        pki_der_tlv rdn;
        pki_der r;

        if (!pki_der_get(&d, PKI_DER_SET, &rdn))
            return pki_fast_refuse(x, "name: not a SET of attributes");
        r = pki_der_contents(&rdn);
        if (pki_der_done(&r))
            return pki_fast_refuse(x, "name: empty RDN");
        while (!pki_der_done(&r)) {
            pki_der_tlv atv, oid, value;
            pki_der a;

            if (!pki_der_get(&r, PKI_DER_SEQUENCE, &atv))
                return pki_fast_refuse(x, "name: attribute is not a SEQUENCE");
            a = pki_der_contents(&atv);
            if (!pki_der_get(&a, PKI_DER_OID, &oid) || !pki_der_oid_valid(oid.value, oid.len) ||
                !pki_der_next(&a, &value) || !pki_der_done(&a))
                return pki_fast_refuse(x, "name: malformed attribute");
            /* d2i_X509 takes values of B_ASN1_PRINTABLE types only (no VisibleString) */
            if (value.tag == PKI_DER_VISIBLE_STRING ||
                !pki_fast_string_valid(value.tag, value.value, value.len))
                return pki_fast_refuse(x, "name: attribute value type or text not modelled");
            if (out->n == PKI_FAST_NAME_ATTRS_MAX)
                return pki_fast_refuse(x, "name: too many attributes");
            out->attrs[out->n].oid = oid.value;
            out->attrs[out->n].oid_len = oid.len;
            out->attrs[out->n].value = value;
            out->attrs[out->n].set = set;
            out->n++;
        }
        set++;
    }
    return true;
}

/* X509_NAME_print_ex(XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB). */
char *pki_fast_name_text(pki_fast *x, const pki_fast_name *nm)
{
    static const char hex[] = "0123456789ABCDEF";
    sbuf b;

    sb_init(&b);
    for (size_t k = nm->n; k-- > 0;) {
        const pki_fast_attr *a = &nm->attrs[k];
        const pki_oid_entry *e = pki_oid_find(a->oid, a->oid_len);

        if (k + 1 < nm->n)
            sb_byte(&b, nm->attrs[k + 1].set == a->set ? '+' : ',');
        if (e != NULL) {
            sb_put(&b, e->sn, strlen(e->sn));
            sb_byte(&b, '=');
            put_value(&b, a->value.tag, a->value.value, a->value.len);
            continue;
        }
        /* Unknown to OpenSSL: dotted OID, then "#" and the DER of the value. */
        char dotted[PKI_DER_OID_TEXT_MAX];
        int n = pki_der_oid_text(a->oid, a->oid_len, dotted, sizeof dotted);
        if (n < 0 || n > DN_OID_TEXT_MAX) {
            sb_free(&b);
            pki_fast_refuse(x, "name: unknown attribute OID too long to print");
            return NULL;
        }
        sb_put(&b, dotted, (size_t)n);
        sb_put(&b, "=#", 2);
        for (size_t i = 0; i < a->value.total; i++) {
            sb_byte(&b, (unsigned char)hex[a->value.start[i] >> 4]);
            sb_byte(&b, (unsigned char)hex[a->value.start[i] & 0xf]);
        }
    }
    char *out = sb_finish(x, &b);
    if (out == NULL)
        pki_fast_oom(x);
    return out;
}

/* The most specific (last) CN, as UTF-8. */
bool pki_fast_name_cn(pki_fast *x, const pki_fast_name *nm)
{
    static const unsigned char cn_oid[] = {0x55, 0x04, 0x03};

    for (size_t k = nm->n; k-- > 0;) {
        const pki_fast_attr *a = &nm->attrs[k];
        if (a->oid_len == 3 && memcmp(a->oid, cn_oid, 3) == 0) {
            x->f->common_name = pki_fast_string_text(x, a->value.tag, a->value.value, a->value.len);
            return x->f->common_name != NULL || pki_fast_oom(x);
        }
    }
    return true;
}
