/*
 * appliance/ca/state.h: the store-backed adapter_ca_state (adapters/adapter.h contract 2)
 * that the appliance gives to a CA connector.
 *
 * Table "connector_state": key big-endian connector id || item name, value
 * clm.store.v1.ConnectorStateItem. A put writes all its items in ONE write transaction
 * (with the caller's `also` work, e.g. the audit entry, in the same one) or none. Secret
 * items are sealed with the master key (store/seal.h), associated data
 * "connector-state:<id>:<name>", so a blob copied onto another connector or item does
 * not open. Item contents are never logged or put in error messages.
 *
 * Caveats: get and put run their own store transactions, so they MUST NOT be called
 * inside store_update()/store_view() of the same store (the adapter's open, submit,
 * revoke and crl therefore run outside transactions).
 * Thread rules: a connector_state may be used from any thread; two puts on one
 * connector are serialised by the store's single writer.
 */
#ifndef CLM_APPLIANCE_CA_STATE_H
#define CLM_APPLIANCE_CA_STATE_H

#include <stdint.h>

#include "adapters/adapter.h"
#include "store/seal.h"
#include "store/store.h"

/** Longest item name ([a-z0-9_]+). */
#define CONNECTOR_STATE_NAME_MAX 64

extern const store_table connector_state_table;

typedef struct connector_state {
    adapter_ca_state state; /* give &s.state to the adapter */
    store *store;           /* borrowed */
    const seal_key *seal;   /* borrowed */
    uint64_t connector_id;
    /* MAY: runs inside each put's write transaction after the items are written (the
       audit entry of the call that made the adapter write); its error aborts the put. */
    clm_err (*also)(store_txn *txn, void *arg);
    void *also_arg;
} connector_state;

/** Make a state for connector `id`; store and seal are borrowed for its life. */
void connector_state_init(connector_state *s, store *st, const seal_key *seal, uint64_t id);

/**
 * @brief Delete every item of connector `id` (write txn; with the connector record).
 * @return CLM_OK (also when there were none) or a store error.
 */
clm_err connector_state_delete_all(store_txn *txn, uint64_t id);

/**
 * @brief Read a non-secret item inside the caller's transaction (a Get reply's chain).
 * @return CLM_OK; CLM_ERR_NOT_FOUND; CLM_ERR_PERMISSION for a secret item (never read
 *         here); CLM_ERR_STORE.
 */
clm_err connector_state_get_public(store_txn *txn, uint64_t id, const char *name, clm_buf *out);

#endif
