/*
 * appliance/inventory/observe.h: a certificate seen somewhere (served at a TLS
 * endpoint; later: found on a device) enters the inventory or refreshes its source.
 *
 * A certificate already in the inventory gets the source added, or its last_seen
 * moved when the same source is there; its status and group are left alone (the
 * inventory's settings win over a discovery's defaults). A new one is added only when
 * the caller says so (the discovery's "after discover" option).
 */
#ifndef CLM_APPLIANCE_INVENTORY_OBSERVE_H
#define CLM_APPLIANCE_INVENTORY_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clm/store/v1/inventory.pb-c.h"
#include "lib/base/arena.h"
#include "lib/pki/facts.h"
#include "store/store.h"

/** Most sources kept per certificate; the least recently seen gives way. */
#define OBSERVE_MAX_SOURCES 256

typedef struct inventory_observation {
    const unsigned char *der;
    size_t der_len;
    const pki_facts *facts;  /* of der */
    const char *kind;        /* source kind: "endpoint" */
    const char *endpoint;    /* for kind endpoint: "host:ip:port:sni" */
    bool add_new;            /* add when missing; false: only refresh an existing one */
    int32_t status;          /* of a new certificate (clm.v1.CertificateStatus) */
    uint64_t group_id;       /* of a new certificate */
    int64_t now_ns;
} inventory_observation;

/**
 * @brief Record the observation (write txn).
 * @param[out] id    the certificate's id; 0 when it is not in the inventory (and
 *                   add_new was false).
 * @param[out] added true when this call created it.
 * @return CLM_OK or a store error.
 */
clm_err inventory_observe(store_txn *txn, clm_arena *arena, const inventory_observation *o,
                          uint64_t *id, bool *added);

#endif
