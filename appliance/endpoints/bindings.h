/*
 * appliance/endpoints/bindings.h: certificate bindings, the IP:port:SNI lists where a
 * certificate must be served. Push validation checks each; later issues fill them from
 * application connectors and IIS bindings, today they come from the API.
 *
 * A binding is unique per (certificate, host, port, SNI), compared without case.
 * Records returned are unpacked into the caller's arena.
 */
#ifndef CLM_APPLIANCE_ENDPOINTS_BINDINGS_H
#define CLM_APPLIANCE_ENDPOINTS_BINDINGS_H

#include <stddef.h>
#include <stdint.h>

#include "clm/store/v1/endpoints.pb-c.h"
#include "clm/v1/endpoints.pb-c.h"
#include "lib/base/arena.h"
#include "store/store.h"

/** Most bindings one request adds or removes. */
#define BINDINGS_MAX_PER_REQUEST 1000

/**
 * @brief Check binding targets: host (a DNS name or an address, not a range), port
 * 1-65535, SNI (a DNS name, not an address), protocol; `allow`, when given, must cover
 * literal addresses (names are checked when a sweep resolves them).
 * @param[in] field prefix of field names ("targets").
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT or CLM_ERR_PERMISSION naming the field.
 */
clm_err bindings_check(Clm__V1__BindingTarget *const *targets, size_t n, const char *field,
                       const char *const *allow, size_t n_allow);

/**
 * @brief Add bindings to a certificate (write txn); existing ones are kept as they are.
 * @return CLM_OK or a store error.
 */
clm_err bindings_add(store_txn *txn, clm_arena *arena, uint64_t certificate_id,
                     Clm__V1__BindingTarget *const *targets, size_t n, const char *by,
                     int64_t now_ns);

/**
 * @brief Remove bindings of a certificate (write txn); n == 0 removes all of them.
 * @return CLM_OK; CLM_ERR_NOT_FOUND naming the first target that is not bound.
 */
clm_err bindings_remove(store_txn *txn, clm_arena *arena, uint64_t certificate_id,
                        Clm__V1__BindingTarget *const *targets, size_t n);

/**
 * @brief The bindings of a certificate, in the order they were made.
 * @param[out] out array in the arena (NULL-terminated), *n entries.
 */
clm_err bindings_of(store_txn *txn, clm_arena *arena, uint64_t certificate_id,
                    Clm__Store__V1__BindingRecord ***out, size_t *n);

/** Put a changed binding back (write txn). */
clm_err binding_put(store_txn *txn, Clm__Store__V1__BindingRecord *b);

#endif
