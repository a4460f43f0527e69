/*
 * lib/pki/read_internal.h: what the per-format readers (read_*.c) share. Not public.
 *
 * A reader appends items with pki_reader_add(); a failed item records clm's current
 * message with pki_reader_item_fail(). A reader returns CLM_OK when the container could
 * be walked (items may still have failed), or the error of the whole input.
 */
#ifndef CLM_LIB_PKI_READ_INTERNAL_H
#define CLM_LIB_PKI_READ_INTERNAL_H

#include "lib/pki/read.h"

#include <stdbool.h>

typedef struct pki_reader {
    const char *name;     /* the input's name for messages */
    const char *password; /* may be NULL */
    size_t max_items;
    size_t cap; /* allocated items */
    pki_read_result *res;
    clm_err failure; /* why the last pki_reader_add() returned NULL */
} pki_reader;

/**
 * @brief Append an item, its where text made from fmt.
 * @return the zeroed item (kind and where set), or NULL with r->failure and the message
 *         set: CLM_ERR_PARSE (too many items) or CLM_ERR_NO_MEMORY. Pointers to earlier
 *         items are dead after the call (the array may move).
 */
pki_item *pki_reader_add(pki_reader *r, pki_item_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Copy the bytes of a certificate into the item. @return false when out of memory. */
bool pki_reader_set_der(pki_item *item, const unsigned char *der, size_t len);

/**
 * @brief Mark the last-added item failed with err and the thread's current message,
 * prefixed with the item's where.
 * @return CLM_OK (the container goes on), or CLM_ERR_NO_MEMORY.
 */
clm_err pki_reader_item_fail(pki_reader *r, clm_err err);

/** Set the item's alias (copied; NULL or "" leaves it NULL). @return false when out of memory. */
bool pki_reader_set_alias(pki_item *item, const char *alias, size_t len);

/**
 * @brief Whether der starts with one element shaped like a Certificate: SEQUENCE {
 * SEQUENCE, SEQUENCE, BIT STRING } (BER lengths allowed).
 * @param[out] total the element's length in bytes (may be NULL).
 */
bool pki_read_is_certificate(const unsigned char *der, size_t len, size_t *total);

/* The readers; where prefixes item locations ("upload.pem: PEM block 2"). */
clm_err pki_read_pem(pki_reader *r, const unsigned char *data, size_t len);
clm_err pki_read_der_cert(pki_reader *r, const unsigned char *data, size_t len, const char *where);
clm_err pki_read_der_key(pki_reader *r, const unsigned char *data, size_t len, const char *where);
clm_err pki_read_pkcs7(pki_reader *r, const unsigned char *data, size_t len, const char *where);
clm_err pki_read_pkcs12(pki_reader *r, const unsigned char *data, size_t len);
clm_err pki_read_jks(pki_reader *r, const unsigned char *data, size_t len);

#endif
