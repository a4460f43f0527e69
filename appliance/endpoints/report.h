/*
 * appliance/endpoints/report.h: the Push Validation Report, computed from the
 * validation results kept by the push-validation job over a time window.
 *
 * Success is the in_sync verdict; everything else is a failure, counted by verdict.
 * The series splits the window into equal buckets (success vs failure over time);
 * per certificate: checks and failures in the window and the binding state now; per
 * endpoint (binding and address): checks, failures and the last verdict in the
 * window, failures first.
 */
#ifndef CLM_APPLIANCE_ENDPOINTS_REPORT_H
#define CLM_APPLIANCE_ENDPOINTS_REPORT_H

#include <stdint.h>

#include "clm/v1/reports.pb-c.h"
#include "lib/base/arena.h"
#include "store/store.h"

#define REPORT_DEFAULT_BUCKETS 24
#define REPORT_MAX_BUCKETS 500
#define REPORT_DEFAULT_ENDPOINTS 1000
#define REPORT_MAX_ENDPOINTS 100000

typedef struct pv_report_query {
    int64_t since_ns, until_ns; /* until > since */
    unsigned buckets;           /* 1..REPORT_MAX_BUCKETS */
    uint64_t certificate_id;    /* 0: all */
    unsigned max_endpoints;     /* 1..REPORT_MAX_ENDPOINTS */
} pv_report_query;

/**
 * @brief Build the report (read txn); everything in `out` lives in the arena.
 * @return CLM_OK, CLM_ERR_NO_MEMORY or a store error.
 */
clm_err pv_report_build(store_txn *txn, clm_arena *arena, const pv_report_query *q,
                        Clm__V1__PushValidationReport *out);

#endif
