/*
 * appliance/ca/issue.h: the direct issuing path of a CA connector (clm.v1.Connectors
 * Issue and Revoke): one CSR, one submit, the certificate into the inventory. No work
 * order, no approval, no waiting on a pending CA: the enrollment workflow (issue 6's
 * later slices) wraps or replaces this.
 *
 * Issue: the CSR is uploaded (PEM, its signature checked) or made in the appliance with a
 * new EC P-256 key (cheap enough for an RPC thread; RSA generation belongs on a worker);
 * either way its key type and hash must be allowed by the group's policy (allowed key
 * types, allowed hash functions) before anything goes to the CA. It is then
 * submitted to the connector's adapter, and the issued certificate is stored in the
 * inventory in one write transaction with the audit entry: status Managed, the group
 * asked for, source kind "connector" naming the connector, and the generated key sealed
 * (aad "cert-key:<sha256 hex>", as inventory imports seal keys). Nothing is stored unless
 * the CA issued. The key is never returned: a client fetches it through the inventory's
 * export, which is audited on its own.
 *
 * Revoke: by serial (hex) or by certificate; the adapter records it (its state write
 * carries the audit entry) and the connector's next CRL lists it. A certificate given
 * must verify under the connector's issuing CA when the connector keeps its chain (the
 * local CA), so a foreign serial never enters its CRL; a bare serial cannot be checked
 * (the local CA keeps no index of what it issued).
 *
 * Thread rules: any thread. Calls that change a connector's state (revoke, CRL number,
 * init) are serialised per process (connector_state_lock), because each opens its own
 * adapter instance.
 */
#ifndef CLM_APPLIANCE_CA_ISSUE_H
#define CLM_APPLIANCE_CA_ISSUE_H

#include <stdbool.h>

#include "appliance/ca/connectors.h"
#include "clm/v1/connectors.pb-c.h"
#include "lib/base/arena.h"
#include "lib/base/clock.h"
#include "store/seal.h"
#include "store/store.h"

/** Longest uploaded CSR or certificate PEM. */
#define CONNECTOR_PEM_MAX (64 * 1024)
#define CONNECTOR_DNS_NAMES_MAX 100

/** What the issuing path needs from its caller; everything borrowed for the call. */
typedef struct connector_context {
    store *store;
    const seal_key *seal;
    const clm_clock *clock;
    clm_arena *arena;         /* results and scratch */
    const char *identity;     /* who asks (recorded in the certificate's source) */
    /* MUST: appends the audit entry inside the write transaction that records the work */
    clm_err (*audit)(store_txn *txn, void *arg);
    void *audit_arg;
} connector_context;

/** Serialise calls that change a connector's adapter state (see Thread rules). */
void connector_state_lock(void);
void connector_state_unlock(void);

/**
 * @brief Issue a certificate (see the top of this file) and fill `out` (arena memory).
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the field (connector, csr_pem,
 *         common_name, dns_names, fields.*, group), also for a CSR the CA rejected;
 *         CLM_ERR_NOT_FOUND (connector, group); CLM_ERR_CONFLICT (the CA is not set up);
 *         CLM_ERR_UNAVAILABLE; CLM_ERR_UNSUPPORTED (pending); store errors.
 */
clm_err connector_issue(const connector_context *ctx, const Clm__V1__IssueRequest *req,
                        Clm__V1__IssueResponse *out);

/**
 * @brief Revoke a certificate at its connector's CA.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the field (serial, certificate_pem,
 *         reason), also for a certificate of another CA and when the CA rejected it
 *         (revoked twice); CLM_ERR_NOT_FOUND;
 *         CLM_ERR_CONFLICT (not set up); CLM_ERR_UNSUPPORTED (the CA cannot revoke).
 */
clm_err connector_revoke(const connector_context *ctx, const Clm__V1__RevokeRequest *req,
                         Clm__V1__RevokeResponse *out);

/**
 * @brief The connector's current CRL, DER or PEM (a read: the audit of the CRL number's
 * write is the caller's business; ctx->audit may be NULL).
 * @return CLM_OK; CLM_ERR_NOT_FOUND; CLM_ERR_CONFLICT (not set up);
 *         CLM_ERR_UNSUPPORTED (no CRL from this CA).
 */
clm_err connector_crl(const connector_context *ctx, const char *name, bool der, clm_buf *out);

/**
 * @brief Set up a local CA connector (InitLocalCa): create a root and an intermediate
 * (EC keys only on this path: RSA generation belongs on a worker), or import a key and
 * chain. The state write carries the audit entry.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the field; CLM_ERR_NOT_FOUND;
 *         CLM_ERR_ALREADY_EXISTS (set up already); CLM_ERR_UNAUTHENTICATED (wrong key
 *         password).
 */
clm_err connector_init_local(const connector_context *ctx, const Clm__V1__InitLocalCaRequest *req);

/**
 * @brief Whether the named connector's adapter talks to a remote CA over the network
 * (it may answer pending: ACME): its Issue, Revoke and rollover belong on a worker
 * thread, not on a gRPC completion-queue thread. false also when there is no such
 * connector (the call itself then fails as usual).
 */
bool connector_is_remote(const connector_context *ctx, const char *name);

/**
 * @brief Replace the account key of an ACME connector at its CA (adapter rollover); the
 * state write carries the audit entry.
 * @return CLM_OK; CLM_ERR_NOT_FOUND (name); CLM_ERR_UNSUPPORTED (the adapter has no
 *         account key); CLM_ERR_CONFLICT (no account yet); CLM_ERR_UNAVAILABLE;
 *         CLM_ERR_INVALID_ARGUMENT (the CA refused); store errors.
 */
clm_err connector_rollover(const connector_context *ctx, const char *name);

#endif
