/*
 * lib/pki/der.h: a small strict DER reader (ITU-T X.690 distinguished encoding), and a
 * tolerant BER walker for containers (PKCS#7, PKCS#12) that other tools write with
 * indefinite lengths.
 *
 * The reader never copies and never allocates: a pki_der is a cursor over borrowed
 * bytes, and every pointer it hands out points into those bytes (valid as long as the
 * caller keeps them). Every function checks bounds before it reads; on malformed input
 * it returns false and leaves the cursor where it was.
 *
 * Strict means: definite lengths only, in the shortest form (no 0x81 for a length
 * below 128, no leading zero length octets), at most 4 length octets; low-tag-number
 * identifiers only (tag numbers 0..30); a TLV may not run past its parent. Whether a
 * type is primitive or constructed is part of the identifier octet the caller asks
 * for, so a constructed OCTET STRING (legal BER, illegal DER) never matches 0x04.
 *
 * Thread rules: no state outside the caller's cursor; any thread.
 */
#ifndef CLM_LIB_PKI_DER_H
#define CLM_LIB_PKI_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Identifier octets used by lib/pki. */
#define PKI_DER_BOOLEAN 0x01
#define PKI_DER_INTEGER 0x02
#define PKI_DER_BIT_STRING 0x03
#define PKI_DER_OCTET_STRING 0x04
#define PKI_DER_NULL 0x05
#define PKI_DER_OID 0x06
#define PKI_DER_UTF8_STRING 0x0c
#define PKI_DER_NUMERIC_STRING 0x12
#define PKI_DER_PRINTABLE_STRING 0x13
#define PKI_DER_T61_STRING 0x14
#define PKI_DER_IA5_STRING 0x16
#define PKI_DER_UTC_TIME 0x17
#define PKI_DER_GENERALIZED_TIME 0x18
#define PKI_DER_VISIBLE_STRING 0x1a
#define PKI_DER_UNIVERSAL_STRING 0x1c
#define PKI_DER_BMP_STRING 0x1e
#define PKI_DER_SEQUENCE 0x30
#define PKI_DER_SET 0x31
#define PKI_DER_CONTEXT(n) (0x80 | (n))             /* [n] IMPLICIT, primitive */
#define PKI_DER_CONTEXT_CONSTRUCTED(n) (0xa0 | (n)) /* [n] EXPLICIT or constructed */

/** Longest dotted OID text pki_der_oid_text() writes, NUL included. */
#define PKI_DER_OID_TEXT_MAX 200

/** A read position: the bytes from p up to end (both borrowed). */
typedef struct pki_der {
    const unsigned char *p;
    const unsigned char *end;
} pki_der;

/** One element: identifier octet, where it starts, and its contents. */
typedef struct pki_der_tlv {
    unsigned char tag;          /* the identifier octet */
    const unsigned char *start; /* first byte of the identifier */
    const unsigned char *value; /* first content byte */
    size_t len;                 /* content length (BER indefinite: without the end marker) */
    size_t total;               /* bytes from start to the end of the element */
} pki_der_tlv;

/** A cursor over len bytes at data (borrowed). */
static inline pki_der pki_der_make(const void *data, size_t len)
{
    pki_der d = {(const unsigned char *)data, (const unsigned char *)data + len};
    return d;
}

/** @return true when the cursor has consumed all its bytes. */
static inline bool pki_der_done(const pki_der *d)
{
    return d->p == d->end;
}

/** @return a cursor over the contents of t. */
static inline pki_der pki_der_contents(const pki_der_tlv *t)
{
    return pki_der_make(t->value, t->len);
}

/**
 * @brief Read the next element in strict DER and advance past it.
 * @return false (cursor unchanged) at the end, or when the element is malformed:
 *         indefinite or non-minimal length, high tag number, or too long for the input.
 */
bool pki_der_next(pki_der *d, pki_der_tlv *out);

/**
 * @brief Read the next element only if its identifier octet is tag.
 * @param[out] out may be NULL.
 * @return false (cursor unchanged) when the next element is malformed or has another tag.
 */
bool pki_der_get(pki_der *d, unsigned char tag, pki_der_tlv *out);

/** @return true when the next byte (the identifier of the next element) is tag. */
static inline bool pki_der_peek(const pki_der *d, unsigned char tag)
{
    return d->p < d->end && *d->p == tag;
}

/**
 * @brief Read the next element as BER: like pki_der_next(), but also accepts long-form
 * lengths that are not minimal and, for constructed types, the indefinite length (the
 * contents then run to the matching end-of-contents octets, found by walking the
 * nested elements, at most 32 levels deep). Tag numbers must still be below 31.
 * @return false at the end or on malformed input (cursor unchanged).
 */
bool pki_ber_next(pki_der *d, pki_der_tlv *out);

/**
 * @brief Check OBJECT IDENTIFIER contents (X.690 8.19): at least one octet, every
 * subidentifier minimal (no leading 0x80) and terminated (last octet below 0x80).
 */
bool pki_der_oid_valid(const unsigned char *v, size_t len);

/**
 * @brief Dotted text of OBJECT IDENTIFIER contents ("1.2.840.113549.1.1.11"), the form
 * OpenSSL's OBJ_obj2txt(..., 1) prints.
 * @param[out] out  receives the text and a NUL.
 * @return the text length, or -1 when the contents are invalid, an arc does not fit
 *         in 64 bits, or out is too small.
 */
int pki_der_oid_text(const unsigned char *v, size_t len, char *out, size_t size);

/**
 * @brief Check INTEGER contents: at least one octet, minimal two's complement (no
 * 0x00 before an octet below 0x80, no 0xff before an octet of 0x80 or more).
 */
bool pki_der_integer_valid(const unsigned char *v, size_t len);

/**
 * @brief A non-negative INTEGER no larger than max.
 * @return false when invalid, negative or larger than max.
 */
bool pki_der_integer_uint(const unsigned char *v, size_t len, uint64_t max, uint64_t *out);

/**
 * @brief DER BOOLEAN contents: exactly one octet, 0x00 (false) or 0xff (true).
 */
bool pki_der_boolean(const unsigned char *v, size_t len, bool *out);

/**
 * @brief BIT STRING contents in DER: the unused-bits octet is 0..7, 0 when there are
 * no other octets, and the unused bits are zero.
 * @param[out] bits   the octets after the unused-bits octet.
 * @param[out] nbytes their number.
 * @param[out] unused the unused-bits count. Any output may be NULL.
 */
bool pki_der_bit_string(const unsigned char *v, size_t len, const unsigned char **bits,
                        size_t *nbytes, unsigned *unused);

/**
 * @brief A time in the RFC 5280 (DER) forms: UTCTime "YYMMDDHHMMSSZ" (years 1950-2049)
 * or GeneralizedTime "YYYYMMDDHHMMSSZ"; calendar-checked (leap years, seconds 0-59).
 * @param[in]  tag PKI_DER_UTC_TIME or PKI_DER_GENERALIZED_TIME.
 * @param[out] out seconds since 1970-01-01T00:00:00Z (negative before).
 */
bool pki_der_time(unsigned char tag, const unsigned char *v, size_t len, int64_t *out);

/** Seconds since the epoch for a proleptic Gregorian UTC date and time (no checks). */
int64_t pki_der_civil_to_unix(int64_t year, int month, int day, int hour, int minute, int second);

#endif
