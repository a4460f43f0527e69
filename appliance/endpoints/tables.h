/*
 * appliance/endpoints/tables.h: the tables of TLS endpoints, certificate bindings and
 * push validation results.
 *
 * endpoints: key big-endian id, value clm.store.v1.EndpointRecord. Indexes:
 *     endpoint   unique   endpoint_key(): address, port, SNI (what makes a TLS
 *                         endpoint: one address and port can serve one certificate
 *                         per name)
 *     leaf                32-byte SHA-256 of the served leaf (who serves this?)
 * bindings: key big-endian id, value clm.store.v1.BindingRecord. Indexes:
 *     target     unique   be64 certificate id || endpoint_key() of host, port, SNI
 *     certificate         be64 certificate id (a certificate's bindings, in order)
 * validation_results: key be64 checked_at (unix nanos) || be64 binding id, value
 *     clm.store.v1.ValidationResultRecord. No index: the report scans a time range,
 *     and retention deletes from the front.
 */
#ifndef CLM_APPLIANCE_ENDPOINTS_TABLES_H
#define CLM_APPLIANCE_ENDPOINTS_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "clm/store/v1/endpoints.pb-c.h"
#include "lib/base/arena.h"
#include "store/store.h"

extern const store_table endpoint_table;
extern const store_table binding_table;
extern const store_table validation_result_table;

enum { ENDPOINT_INDEX_ENDPOINT = 0, ENDPOINT_INDEX_LEAF };
enum { BINDING_INDEX_TARGET = 0, BINDING_INDEX_CERTIFICATE };

/** Longest endpoint key, NUL included. */
#define ENDPOINT_KEY_MAX 320

/**
 * @brief The endpoint key: "<address or host, lower-cased>|<port>|<sni, lower-cased>".
 * @return its length; 0 when it does not fit ENDPOINT_KEY_MAX (the caller refuses).
 */
size_t endpoint_key(const char *address, unsigned port, const char *sni,
                    char out[ENDPOINT_KEY_MAX]);

/**
 * @brief Unpack an item of these tables (or the inventory's) into the arena.
 * @return CLM_OK or CLM_ERR_STORE (the record does not unpack).
 */
clm_err endpoints_unpack(clm_arena *arena, const store_table *table, const store_item *item,
                         ProtobufCMessage **out);

/** The key of a validation result. */
void validation_result_key(int64_t checked_at_ns, uint64_t binding_id, unsigned char key[16]);

#endif
