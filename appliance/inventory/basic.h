/*
 * appliance/inventory/basic.h: the fields of a BASIC certificate listing, read straight
 * from a packed clm.store.v1.CertificateRecord.
 *
 * protobuf-c's unpack allocates and copies every field of a record, the DER and the
 * URLs included: at 100 certificates a page that was half of ListCertificates' CPU. A
 * listing that shows only the summary (clm.v1.CertificateView BASIC: what `clmctl cert
 * ls` prints as a table) walks the wire format once and takes these fields only. Written
 * by hand because protobuf-c has no partial or lazy unpack.
 */
#ifndef CLM_APPLIANCE_INVENTORY_BASIC_H
#define CLM_APPLIANCE_INVENTORY_BASIC_H

#include <stddef.h>

#include "clm/store/v1/inventory.pb-c.h"
#include "lib/base/arena.h"

/**
 * @brief Fill a record with id, sha256, sha1, subject, issuer, common_name, serial_hex,
 * not_before, not_after, key_type, key_bits, status and group_id of the packed record
 * `data` (every other field stays as clm__store__v1__certificate_record__init() left
 * it). Strings and bytes are copied into `arena` (strings NUL-terminated).
 * @return the record, or NULL when the bytes are not a well-formed record (a truncated
 *   or overlong field, a bad wire type) or the arena is exhausted. As protobuf-c, the
 *   last occurrence of a field wins and a string is cut at a NUL it holds.
 */
Clm__Store__V1__CertificateRecord *inventory_read_basic(clm_arena *arena, const void *data,
                                                        size_t len);

#endif
