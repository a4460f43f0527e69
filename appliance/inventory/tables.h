/*
 * appliance/inventory/tables.h: the inventory's store tables and their indexes.
 *
 * certificates: key big-endian id (monotonic, so bulk ingest appends), value
 *   clm.store.v1.CertificateRecord. Indexes (maintained by store/ in the same write
 *   transaction as the record):
 *     sha256        unique   32-byte fingerprint
 *     sha1                   20-byte thumbprint (the Windows identity)
 *     expiry                 sortable be64 notAfter (then id: the store's dup order)
 *     issuer_serial          SHA-256(issuer DN) || serial hex
 *     names                  CN and DNS SANs, lower-cased, labels reversed
 *                            ("www.example.com" -> "com.example.www"): a prefix scan of
 *                            "com.example." finds everything under example.com
 *     common_name            lower-cased CN, for listing by name
 *     group                  be64 group id
 *     status                 one byte
 *     source_device          lower-cased device names of "device" sources
 *     attribute              lower-cased attribute keys
 *     ski                    subject key identifier (chains: a child's AKI finds it)
 * groups: key big-endian id, value clm.store.v1.GroupRecord; index name (unique,
 *   lower-cased). Group id 1 is the Default group, created at open.
 */
#ifndef CLM_APPLIANCE_INVENTORY_TABLES_H
#define CLM_APPLIANCE_INVENTORY_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "clm/store/v1/inventory.pb-c.h"
#include "store/store.h"

extern const store_table inventory_certificates;
extern const store_table inventory_groups;

/* The certificate indexes, for queries (same order as in the table). */
enum {
    CERT_INDEX_SHA256 = 0,
    CERT_INDEX_SHA1,
    CERT_INDEX_EXPIRY,
    CERT_INDEX_ISSUER_SERIAL,
    CERT_INDEX_NAMES,
    CERT_INDEX_COMMON_NAME,
    CERT_INDEX_GROUP,
    CERT_INDEX_STATUS,
    CERT_INDEX_SOURCE_DEVICE,
    CERT_INDEX_ATTRIBUTE,
    CERT_INDEX_SKI,
    CERT_INDEX_MAX
};
#define CERT_INDEX(i) (&inventory_certificates.indexes[(i)])

enum { GROUP_INDEX_NAME = 0 };
#define GROUP_INDEX(i) (&inventory_groups.indexes[(i)])

#define INVENTORY_DEFAULT_GROUP_ID 1
#define INVENTORY_DEFAULT_GROUP_NAME "Default"

/** An expiry index key: notAfter made to sort as unsigned big-endian. */
void inventory_expiry_key(int64_t not_after, unsigned char key[8]);

/**
 * @brief A DNS name as a names-index key: lower-cased, labels reversed, with a
 * trailing '.' so that "com.example." prefixes every name under example.com.
 * @return the key length, 0 when the name does not fit out_size.
 */
size_t inventory_name_key(const char *name, char *out, size_t out_size);

/** A primary key: big-endian id. */
void inventory_id_key(uint64_t id, unsigned char key[8]);

#endif
