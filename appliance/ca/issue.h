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
 * Issue keeps the adapter instances it opens (keys parsed once), keyed by connector id
 * and record updated_at, shared by concurrent calls, dropped after a submit that did
 * not issue (connector_instances_forget).
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
#include "lib/pki/facts.h"
#include "lib/pki/key.h"
#include "clm/store/v1/inventory.pb-c.h"
#include "clm/v1/groups.pb-c.h"
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

/**
 * @brief Close the adapter instances Issue keeps open for connector `id` (0: all), e.g.
 * after its state changed outside them (InitLocalCa does this itself) and at shutdown.
 * Instances in use close when their call ends.
 */
void connector_instances_forget(uint64_t id);

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

/** An issued certificate not yet written (connector_issue_prepare). */
typedef struct connector_issue_job connector_issue_job;

/**
 * @brief connector_issue() up to the write: everything CPU-heavy and the CA call, outside
 * any transaction; fills `out`. The caller then runs connector_issue_job_write() in a
 * write transaction (alone, or shared with other writes: group commit) and answers
 * only once that committed.
 * @param[in] ctx copied into the job; ctx->arena and ctx->audit_arg MUST live until the
 *            job is freed.
 * @param[out] job on CLM_OK, free it with connector_issue_job_free() after the write.
 * @return as connector_issue(), store errors of the write aside.
 */
clm_err connector_issue_prepare(const connector_context *ctx, const Clm__V1__IssueRequest *req,
                                Clm__V1__IssueResponse *out, connector_issue_job **job);

/**
 * @brief The write of a prepared issue: the certificate record (status Managed, its
 * source, the sealed key) and the audit entry (ctx->audit). Any thread; a store_update
 * callback (it may run again after the map grows).
 * @return CLM_OK; store errors; what ctx->audit returns.
 */
clm_err connector_issue_job_write(store_txn *txn, void *job);

/** Free a job. Accepts NULL. */
void connector_issue_job_free(connector_issue_job *job);

/**
 * @brief Check a key type and CSR hash against a group policy (allowed key types,
 * allowed hash functions; NULL policy: anything), as Issue does.
 * @return CLM_OK or CLM_ERR_INVALID_ARGUMENT naming `field` and the group.
 */
clm_err connector_check_key_policy(const Clm__V1__GroupPolicy *policy, const char *group,
                                   pki_key_type key_type, const char *hash, const char *field);

/**
 * @brief Read an uploaded CSR (PEM, its signature checked: proof of possession) and check
 * its key type and hash with connector_check_key_policy(), as Issue does.
 * @return CLM_OK or CLM_ERR_INVALID_ARGUMENT naming `field`.
 */
clm_err connector_check_csr(const char *pem, const Clm__V1__GroupPolicy *policy,
                            const char *group, const char *field);

/** An issued certificate to record; everything borrowed for the call. */
typedef struct connector_issued {
    const Clm__Store__V1__ConnectorRecord *connector; /* MUST: who issued it */
    uint64_t group_id;                                /* MUST (0: Default) */
    const adapter_ca_der *cert;                       /* MUST: the certificate, DER */
    const clm_buf *key_pem;  /* MAY (NULL or empty): the generated key, sealed on the way */
    /* MAY: certificate attributes and generic fields (an enrollment's) */
    Clm__Store__V1__Attribute **attributes;
    size_t n_attributes;
    const char *device_name, *application_ip, *tracking_id;
} connector_issued;

/**
 * @brief Record an issued certificate in the inventory (the second half of Issue, shared
 * with the work orders' implement job): status Managed, the group, source kind
 * "connector" naming the connector and ctx->identity, the key sealed (aad
 * "cert-key:<sha256 hex>"), attributes and generic fields; one write transaction that
 * also runs ctx->audit (which MAY do more of the caller's work in it).
 * @param[out] facts the certificate's facts (free with pki_facts_free()); may be NULL.
 * @return CLM_OK; CLM_ERR_PARSE (not a certificate); CLM_ERR_ALREADY_EXISTS (the
 *         inventory holds it already); what ctx->audit returns; store and seal errors.
 */
clm_err connector_store_issued(const connector_context *ctx, const connector_issued *in,
                               pki_facts **facts);

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
 * (ADAPTER_CA_F_REMOTE: ACME, cfssl): its Issue, Revoke and rollover belong on a worker
 * thread, not on a gRPC completion-queue thread. false also when there is no such
 * connector (the call itself then fails as usual).
 */
bool connector_is_remote(const connector_context *ctx, const char *name);

/**
 * @brief Replace the account key of an ACME connector at its CA (adapter rollover); the
 * state write carries the audit entry. The instances Issue keeps for the connector are
 * forgotten afterwards (they hold the old key).
 * @return CLM_OK; CLM_ERR_NOT_FOUND (name); CLM_ERR_UNSUPPORTED (the adapter has no
 *         account key); CLM_ERR_CONFLICT (no account yet); CLM_ERR_UNAVAILABLE;
 *         CLM_ERR_INVALID_ARGUMENT (the CA refused); store errors.
 */
clm_err connector_rollover(const connector_context *ctx, const char *name);

#endif
