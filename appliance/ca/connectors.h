/*
 * appliance/ca/connectors.h: CA connector records (the reference guide's CA Details:
 * certificate authority = the adapter type, CA account, certificate type, profile,
 * connector name, description, auto renew / regenerate / re-enroll with days before
 * expiry, CSR generation source, vendor-specific fields) and opening a connector's
 * adapter instance on its store-backed state (state.h).
 *
 * Table "connectors": key big-endian id, value clm.store.v1.ConnectorRecord; index
 * "name" (unique, lower-cased). A connector's adapter state lives in
 * "connector_state" under its id and goes with it on delete.
 *
 * Secret vendor fields (adapter_field.secret: API keys, EAB MAC keys) are sealed in the
 * record (store/seal.h, associated data "connector-field:<id>:<field>"), listed by
 * connector_to_api() with an empty value and `secret` set, opened only by
 * connector_open() into memory that connector_close() wipes, and never put in a log
 * line or an error message. An update that gives a secret field an empty value keeps
 * the stored one (connector_secrets_fill()).
 *
 * Functions taking a store_txn run inside the caller's transaction; records returned
 * are unpacked into `arena` and live as long as it.
 * Thread rules: any thread, after connectors_register_adapters() at start-up.
 */
#ifndef CLM_APPLIANCE_CA_CONNECTORS_H
#define CLM_APPLIANCE_CA_CONNECTORS_H

#include <stdint.h>

#include "adapters/adapter.h"
#include "appliance/ca/state.h"
#include "clm/store/v1/connectors.pb-c.h"
#include "clm/v1/connectors.pb-c.h"
#include "lib/base/arena.h"
#include "lib/base/clock.h"
#include "store/seal.h"
#include "store/store.h"

#define CONNECTOR_NAME_MAX 64
#define CONNECTOR_DESCRIPTION_MAX 2000
#define CONNECTOR_TEXT_MAX 256 /* ca_account, certificate_type, profile */

/** The source kind of certificates a connector issued (inventory CertificateSource). */
#define CONNECTOR_SOURCE_KIND "connector"

extern const store_table connector_table;
enum { CONNECTOR_INDEX_NAME = 0 };

/**
 * @brief Register the CA adapters clmd serves ("local", "cfssl"), once, before threads
 * start.
 * @return CLM_OK or what adapter_ca_register() returns.
 */
clm_err connectors_register_adapters(void);

/**
 * @brief Check a connector as given to Create/Update: name, type (a registered CA
 * adapter), description (<= 2000), ca_account / certificate_type / profile (<= 256, no
 * control characters; profile, when the adapter has a "profile" request field, one of
 * its values), each renewal setting (days_before_expiry 1-120 when enabled, and never
 * outside 0-120), csr_source ("appliance" or "uploaded"), and the vendor fields against
 * the adapter's connector declarations. Messages name the field with `prefix`
 * ("connector.auto_renew.days_before_expiry: ...").
 * @return CLM_OK or CLM_ERR_INVALID_ARGUMENT.
 */
clm_err connector_validate(const Clm__V1__Connector *c, const char *prefix);

/**
 * @brief Insert a validated connector (write txn), its secret fields sealed with `seal`.
 * @return CLM_OK; CLM_ERR_ALREADY_EXISTS naming connector.name; CLM_ERR_INVALID_ARGUMENT
 *         (a secret field with an empty value); CLM_ERR_CRYPTO; CLM_ERR_INTERNAL (a
 *         secret field and no seal key); store errors.
 */
clm_err connector_create(store_txn *txn, clm_arena *arena, const seal_key *seal,
                         const Clm__V1__Connector *c, int64_t now_ns,
                         Clm__Store__V1__ConnectorRecord **created);

/** Largest Connector.max_renewals_per_sweep (the renewal sweep's per-run limit). */
#define CONNECTOR_MAX_RENEWALS_PER_SWEEP 100000

/**
 * @brief Find a connector by name (case-insensitive).
 * @return CLM_OK; CLM_ERR_NOT_FOUND naming `field`.
 */
clm_err connector_find(store_txn *txn, clm_arena *arena, const char *name, const char *field,
                       Clm__Store__V1__ConnectorRecord **found);

/**
 * @brief Replace every field but name and type of the connector `name` with the
 * validated `c` (write txn; run connector_secrets_fill() on c first), its secret fields
 * sealed again with `seal`.
 * @return CLM_OK; CLM_ERR_NOT_FOUND; CLM_ERR_INVALID_ARGUMENT (c names another name or
 *         type; a secret field with an empty value); CLM_ERR_CRYPTO; CLM_ERR_INTERNAL.
 */
clm_err connector_update(store_txn *txn, clm_arena *arena, const seal_key *seal,
                         const char *name, const Clm__V1__Connector *c, int64_t now_ns,
                         Clm__Store__V1__ConnectorRecord **updated);

/**
 * @brief For UpdateConnector: the connector `c` with each secret field given with an
 * empty value replaced by the stored value of connector `name`, opened (a read
 * transaction of its own; call it before connector_validate()).
 * @param[out] out c itself when no secret field is empty; otherwise a copy in `arena`
 *             whose filled values are secrets: connector_secrets_wipe() it after use.
 * @return CLM_OK; CLM_ERR_NOT_FOUND naming `name`; CLM_ERR_INVALID_ARGUMENT naming the
 *         field when nothing is stored to keep; CLM_ERR_CRYPTO (the sealed value does
 *         not open); CLM_ERR_NO_MEMORY.
 */
clm_err connector_secrets_fill(store *st, const seal_key *seal, clm_arena *arena,
                               const char *name, const Clm__V1__Connector *c,
                               Clm__V1__Connector **out);

/** Zero the values of c's secret fields (as the adapter declares them). Accepts NULL. */
void connector_secrets_wipe(Clm__V1__Connector *c);

/**
 * @brief Delete a connector and its state (write txn).
 * @return CLM_OK; CLM_ERR_NOT_FOUND; CLM_ERR_CONFLICT while the inventory holds
 *         certificates it issued (nothing changed).
 */
clm_err connector_delete(store_txn *txn, clm_arena *arena, const char *name);

/**
 * @brief The API view of a record (arena memory): everything but secrets (secret
 * fields with an empty value and `secret` set), with ca_ready and ca_chain_pem from the
 * non-secret "chain" state item.
 */
clm_err connector_to_api(store_txn *txn, clm_arena *arena,
                         const Clm__Store__V1__ConnectorRecord *r, Clm__V1__Connector *out);

/** An open connector: its adapter instance on its state. */
typedef struct connector_instance {
    const adapter_ca_ops *ops;
    adapter_ca *ca;
    connector_state state; /* set state.also to run work in the adapter's writes */
    adapter_fields fields; /* the record's vendor fields (arena memory; secret ones in
                              `secrets`) */
    const char *name;
    clm_buf secrets;       /* the opened secret values; wiped by connector_close() */
} connector_instance;

/**
 * @brief Open the connector's adapter (parses its keys). Outside any transaction of st.
 * @param[out] out close with connector_close().
 * @return CLM_OK; CLM_ERR_UNSUPPORTED (the type is not registered in this clmd);
 *         CLM_ERR_CRYPTO (a secret field does not open); what the adapter's open returns.
 */
clm_err connector_open(store *st, const seal_key *seal, const clm_clock *clock, clm_arena *arena,
                       const Clm__Store__V1__ConnectorRecord *r, connector_instance *out);

/** Close an instance and wipe its opened secrets. Accepts one that failed to open. */
void connector_close(connector_instance *inst);

/**
 * @brief Map a CA outcome other than issued/revoked to an error for an API caller:
 * rejected -> CLM_ERR_INVALID_ARGUMENT ("<what>: rejected by connector X: reason"),
 * unconfigured -> CLM_ERR_CONFLICT, unreachable -> CLM_ERR_UNAVAILABLE, pending and
 * unsupported -> CLM_ERR_UNSUPPORTED (the direct path does not wait).
 */
clm_err connector_outcome_error(const connector_instance *inst, const adapter_ca_result *r,
                                const char *what);

#endif
