/*
 * appliance/inventory/query.h: listing certificates with filters, and the expiry
 * histogram.
 *
 * A listing walks one index, chosen by the request: the names index for a domain
 * filter (ordered by reversed name), the common_name index for order by name, else
 * the expiry index (bounded by the expiry filters). The other filters are checked on
 * each record. A request examines at most QUERY_MAX_EXAMINED entries; past that it
 * returns what it found with a page token to continue, so one call never runs long.
 */
#ifndef CLM_APPLIANCE_INVENTORY_QUERY_H
#define CLM_APPLIANCE_INVENTORY_QUERY_H

#include "clm/store/v1/inventory.pb-c.h"
#include "clm/v1/inventory.pb-c.h"
#include "lib/base/arena.h"
#include "store/store.h"

#define QUERY_MAX_EXAMINED 200000

/** Called for each certificate of the page, in order. */
typedef clm_err (*query_emit_fn)(void *arg, Clm__Store__V1__CertificateRecord *record);

/**
 * @brief One page of ListCertificates. With req->view BASIC, records the expiry index
 * alone selects are read by inventory_read_basic() (basic.h): only the BASIC fields of
 * the emitted record are then set.
 * @param[in] now seconds since the epoch (the expiry filters' reference).
 * @param[out] next_token the next page's token in the arena, or NULL at the end.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming a bad filter or page field;
 *         CLM_ERR_NOT_FOUND naming an unknown group; store errors.
 */
clm_err query_list(store_txn *txn, clm_arena *arena, const Clm__V1__ListCertificatesRequest *req,
                   int64_t now, query_emit_fn emit, void *arg, char **next_token);

/**
 * @brief Count certificates per week or month from `now` for req->months months.
 * @param[out] resp buckets in the arena.
 */
clm_err query_expiry_histogram(store_txn *txn, clm_arena *arena,
                               const Clm__V1__ExpiryHistogramRequest *req, int64_t now,
                               Clm__V1__ExpiryHistogramResponse *resp);

#endif
