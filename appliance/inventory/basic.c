/* appliance/inventory/basic.c: the BASIC listing fields of a packed certificate record
 * (basic.h says why this is not protobuf-c's unpack). Protobuf wire format: a key varint
 * (field number << 3 | wire type), then a varint (0), 8 bytes (1), a length-prefixed
 * run (2) or 4 bytes (5). */
#include "appliance/inventory/basic.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_64 = 1, WIRE_LEN = 2, WIRE_32 = 5 };

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;

    for (unsigned shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false; /* truncated, or longer than 10 bytes */
}

/* A field key as protobuf-c reads it (its parse_tag_and_wiretype): at most 5 bytes, the
 * field number kept to 32 bits, refused only when the first byte holds no number bits. */
static bool read_key(const uint8_t **p, const uint8_t *end, uint32_t *field, unsigned *wire)
{
    const uint8_t *q = *p;
    size_t max = (size_t)(end - q) < 5 ? (size_t)(end - q) : 5;
    uint32_t tag;
    unsigned shift = 4;

    if (max == 0 || (q[0] & 0xf8) == 0)
        return false;
    tag = (q[0] & 0x7f) >> 3;
    *wire = q[0] & 7;
    for (size_t i = 0; i < max; i++) {
        if (i > 0) {
            tag |= (uint32_t)(q[i] & 0x7f) << shift;
            shift += 7;
        }
        if (!(q[i] & 0x80)) {
            *field = tag;
            *p = q + i + 1;
            return true;
        }
    }
    return false;
}

static bool take_string(clm_arena *arena, const uint8_t *data, size_t len, char **out)
{
    const uint8_t *nul = memchr(data, 0, len);
    char *s = clm_arena_alloc(arena, len + 1);

    if (s == NULL)
        return false;
    if (nul != NULL)
        len = (size_t)(nul - data);
    memcpy(s, data, len);
    s[len] = '\0';
    *out = s;
    return true;
}

static bool take_bytes(clm_arena *arena, const uint8_t *data, size_t len, ProtobufCBinaryData *out)
{
    out->data = len ? clm_arena_memdup(arena, data, len) : NULL;
    out->len = len;
    return len == 0 || out->data != NULL;
}

/* One length-delimited field the listing shows, or false. */
static bool take_len_field(clm_arena *arena, uint32_t field, const uint8_t *data, size_t len,
                           Clm__Store__V1__CertificateRecord *r)
{
    switch (field) {
    case 3: return take_bytes(arena, data, len, &r->sha256);
    case 4: return take_bytes(arena, data, len, &r->sha1);
    case 10: return take_string(arena, data, len, &r->subject);
    case 11: return take_string(arena, data, len, &r->issuer);
    case 12: return take_string(arena, data, len, &r->common_name);
    case 17: return take_string(arena, data, len, &r->serial_hex);
    case 20: return take_string(arena, data, len, &r->key_type);
    default: return true; /* not shown: skipped */
    }
}

static void take_varint_field(uint32_t field, uint64_t v, Clm__Store__V1__CertificateRecord *r)
{
    switch (field) {
    case 1: r->id = v; break;
    case 18: r->not_before = (int64_t)v; break;
    case 19: r->not_after = (int64_t)v; break;
    case 21: r->key_bits = (uint32_t)v; break;
    case 50: r->status = (int32_t)(uint32_t)v; break;
    case 51: r->group_id = v; break;
    default: break;
    }
}

/* Is `field` one the listing takes, and then with which wire type? -1: not taken. */
static int wire_type_of(uint32_t field)
{
    switch (field) {
    case 1: case 18: case 19: case 21: case 50: case 51: return WIRE_VARINT;
    case 3: case 4: case 10: case 11: case 12: case 17: case 20: return WIRE_LEN;
    default: return -1;
    }
}

Clm__Store__V1__CertificateRecord *inventory_read_basic(clm_arena *arena, const void *data,
                                                        size_t len)
{
    const uint8_t *p = data, *end = p + len;
    Clm__Store__V1__CertificateRecord *r = clm_arena_alloc(arena, sizeof(*r));

    if (r == NULL)
        return NULL;
    clm__store__v1__certificate_record__init(r);
    while (p < end) {
        uint64_t v;
        uint32_t field;
        unsigned wire;
        int want;

        if (!read_key(&p, end, &field, &wire))
            return NULL;
        want = wire_type_of(field);
        if (want >= 0 && (unsigned)want != wire)
            return NULL; /* protobuf-c refuses a known field of another type too */
        switch (wire) {
        case WIRE_VARINT:
            if (!read_varint(&p, end, &v))
                return NULL;
            take_varint_field(field, v, r);
            break;
        case WIRE_64:
        case WIRE_32:
            if ((size_t)(end - p) < (wire == WIRE_64 ? 8u : 4u))
                return NULL;
            p += wire == WIRE_64 ? 8 : 4;
            break;
        case WIRE_LEN:
            if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return NULL;
            if (!take_len_field(arena, field, p, (size_t)v, r))
                return NULL;
            p += v;
            break;
        default: /* groups (3, 4) and 6, 7: not in this schema */
            return NULL;
        }
    }
    return r;
}
