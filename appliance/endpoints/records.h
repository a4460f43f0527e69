/*
 * appliance/endpoints/records.h: endpoint records (what a probe saw at an address,
 * port and name), and the probe options both TLS jobs take from the configuration.
 */
#ifndef CLM_APPLIANCE_ENDPOINTS_RECORDS_H
#define CLM_APPLIANCE_ENDPOINTS_RECORDS_H

#include <stdint.h>

#include "adapters/adapter.h"
#include "appliance/config.h"
#include "clm/store/v1/endpoints.pb-c.h"
#include "lib/base/arena.h"
#include "store/store.h"

/** Probe options from [tls]; the allow-list points into `storage`. */
typedef struct endpoint_probe_setup {
    adapter_probe_options options;
    const char *allow[CONFIG_MAX_ALLOW];
    char storage[sizeof(((clm_config *)0)->tls_allow)];
} endpoint_probe_setup;

/** Fill `setup` from the configuration (borrowed: it must outlive the setup). */
void endpoint_probe_setup_init(endpoint_probe_setup *setup, const clm_config *cfg);

/**
 * @brief Record what a probe saw (write txn): the endpoint's record is created or
 * updated in place (its first_seen kept).
 * @param[in] certificate_id inventory id of the served leaf; 0 when not in the inventory
 *                           (kept from before when the probe failed).
 * @param[in] job            "tls-discovery" or "push-validation".
 * @return CLM_OK or a store error.
 */
clm_err endpoint_record_observe(store_txn *txn, clm_arena *arena, const adapter_probe_result *r,
                                uint64_t certificate_id, const char *job, int64_t now_ns);

/** `*record` (arena) of the endpoint at that address, port and name; CLM_ERR_NOT_FOUND. */
clm_err endpoint_record_find(store_txn *txn, clm_arena *arena, const char *address,
                             unsigned port, const char *sni,
                             Clm__Store__V1__EndpointRecord **record);

#endif
