/*
 * appliance/renewal/lifecycle.h: the renewal lifecycle of a managed certificate, for the
 * "renewal-sweep" job kind (appliance/jobs/renewal_sweep.c), for the work-order job when
 * a renewal completes, and for Inventory.ExplainRenewal (`clmctl cert why`).
 *
 * Design: one record per certificate in the table "renewal_lifecycle" (key be64
 * certificate id, value clm.store.v1.RenewalStateRecord), written only when something
 * happens (the sweep makes a work order, counts a failure, leaves a certificate to a
 * later run, or a renewal completes). A certificate without a record is "monitoring".
 * What is shown is always recomputed by renewal_status_resolve() from the stored record,
 * the work order it names (its state now) and the policy (policy.h), so `cert why`
 * shows what the next sweep will do, also between sweeps.
 *
 * States, stored as these strings (RenewalStateRecord.state, RenewalExplanation.state),
 * and what happens to each on restart (nothing runs in memory: each is a stored fact):
 *   "monitoring"        not due yet (or nothing enables automatic renewal). Restart: -.
 *   "renewal-due"       in its window, no work order yet: the next sweep makes one.
 *   "rate-limited"      due, but its connector's limit for one sweep was reached: the
 *                       next sweep makes one (next_attempt 0 = at the next sweep).
 *   "waiting-approval"  its work order is draft, submitted or in review.
 *   "enrolling"         its work order is approved, scheduled or implementing.
 *   "pending-at-ca"     implementing, the CA answered pending: the work-order job polls.
 *   "renewed"           the work order completed: the child renews it. Final.
 *   "failed"            the work order failed, was rejected or cancelled, or could not be
 *                       made: last_failure says why; the next sweep after next_attempt
 *                       tries again. next_attempt = the failure's time +
 *                       renewal_retry_delay(failures, [renewal] retry_base, retry_cap):
 *                       bounded, visible, and reset by a success.
 * Crash safety: the sweep makes the work order (its own transaction) and then writes the
 * record; a crash between the two leaves an open work order without a record, which the
 * next sweep finds by its open renewal orders (it never makes a second one).
 *
 * Thread rules: any thread; functions taking a store_txn run in the caller's transaction
 * and return memory from `arena`, valid while it lives.
 */
#ifndef CLM_APPLIANCE_RENEWAL_LIFECYCLE_H
#define CLM_APPLIANCE_RENEWAL_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include "appliance/renewal/policy.h"
#include "clm/store/v1/inventory.pb-c.h"
#include "clm/v1/inventory.pb-c.h"
#include "clm/v1/workorders.pb-c.h"
#include "lib/base/arena.h"
#include "store/store.h"

extern const store_table renewal_lifecycle_table;

/** The requester of the work orders the sweep makes. */
#define RENEWAL_SWEEP_IDENTITY "renewal-sweep"
/** What the auto-push hook records until the push issue lands. */
#define RENEWAL_PUSH_NOT_CONFIGURED "push: not configured"
/** The expiry index is scanned this far ahead: 120 days plus the most jitter, rounded up. */
#define RENEWAL_SCAN_AHEAD_S (132 * INT64_C(86400))

typedef enum renewal_state {
    RENEWAL_STATE_MONITORING = 0,
    RENEWAL_STATE_DUE,
    RENEWAL_STATE_RATE_LIMITED,
    RENEWAL_STATE_WAITING_APPROVAL,
    RENEWAL_STATE_ENROLLING,
    RENEWAL_STATE_PENDING_AT_CA,
    RENEWAL_STATE_RENEWED,
    RENEWAL_STATE_FAILED,
    RENEWAL_STATE_MAX
} renewal_state;

/** @return the stored name ("monitoring", ...); "unknown" outside the enum. */
const char *renewal_state_name(renewal_state state);
/** @return the state of a stored name; RENEWAL_STATE_MONITORING for "" or unknown names. */
renewal_state renewal_state_parse(const char *name);

/** Knobs from [renewal] (appliance/config.h); zeros take the defaults. */
typedef struct renewal_options {
    int64_t retry_base_s;      /* 0: 300 */
    int64_t retry_cap_s;       /* 0: 86400 */
    uint32_t lifetime_percent; /* 0: 33 */
    int64_t jitter_max_s;      /* 0: 6 h; negative: none */
} renewal_options;

/** A work order as the lifecycle sees it (strings borrowed). */
typedef struct renewal_order_view {
    const char *id;             /* "WO-000042" */
    const char *state;          /* workorders.h state names */
    const char *failure_reason; /* failed */
    int64_t updated_s;          /* its last transition, seconds since the epoch */
    bool pending_at_ca;         /* implementing with a CA cookie */
} renewal_order_view;

/** Where a certificate stands (renewal_status_resolve()). */
typedef struct renewal_status {
    renewal_state state;
    bool create;              /* the sweep makes a work order now */
    bool count_failure;       /* the order's failure is not in the record yet */
    uint32_t failures;        /* consecutive, this failure included */
    int64_t failed_at;        /* seconds; when the last failure happened (0: none) */
    int64_t next_attempt;     /* seconds; 0: at the next sweep */
    char last_failure[600];
    char next_action[300];
} renewal_status;

/**
 * @brief The lifecycle's step function (pure: no store, no clock of its own).
 * @param[in] plan         renewal_plan_compute()'s answer for the certificate.
 * @param[in] rec          MAY be NULL (no record: monitoring so far).
 * @param[in] order        MAY be NULL: the work order rec->work_order names, or an open
 *                         renewal order of the certificate found otherwise.
 * @param[in] child_sha256 "" or NULL when not renewed; else the child's fingerprint.
 * @param[in] now          seconds since the epoch.
 * Rules, in order: a child -> renewed; an open order -> waiting-approval, enrolling or
 * pending-at-ca; a completed order -> renewed; a failed, rejected or cancelled order not
 * yet counted -> one more failure at its time; nothing enabled or before due_at ->
 * monitoring; failures and now < next_attempt -> failed (backing off); a stored
 * rate-limited -> rate-limited with create; else renewal-due with create.
 */
void renewal_status_resolve(const renewal_plan *plan, const Clm__Store__V1__RenewalStateRecord *rec,
                            const renewal_order_view *order, const char *child_sha256,
                            int64_t now, const renewal_options *opt, renewal_status *out);

/** @return the connector a certificate renews through: its own field, else its connector
 *  source's; NULL when neither. Borrowed from `cert`. */
const char *renewal_connector_of(const Clm__Store__V1__CertificateRecord *cert);

/**
 * @brief The plan of one certificate from the store: its own settings, its connector's,
 * its group's (and the override). A connector or group that no longer exists counts as
 * setting nothing.
 * @param[out] group_out MAY be NULL; the group (arena), NULL when missing.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT from renewal_plan_compute() (a stored setting
 *         out of range, a certificate whose notAfter is not after notBefore); store errors.
 */
clm_err renewal_plan_of(store_txn *txn, clm_arena *arena,
                        const Clm__Store__V1__CertificateRecord *cert, const renewal_options *opt,
                        renewal_plan *plan, Clm__Store__V1__GroupRecord **group_out);

/** @brief Read the record of a certificate. @return CLM_OK; CLM_ERR_NOT_FOUND (no record,
 *  no error message recorded); store errors. */
clm_err renewal_state_get(store_txn *txn, clm_arena *arena, uint64_t certificate_id,
                          Clm__Store__V1__RenewalStateRecord **out);

/** @brief Write the record (write txn). @return CLM_OK; store errors. */
clm_err renewal_state_put(store_txn *txn, Clm__Store__V1__RenewalStateRecord *rec);

/** @brief Remove the record of a deleted certificate (write txn). @return CLM_OK (also
 *  when there was none); store errors. */
clm_err renewal_state_delete(store_txn *txn, uint64_t certificate_id);

/**
 * @brief The view of the work order `id` ("WO-000042").
 * @return CLM_OK; CLM_ERR_NOT_FOUND; CLM_ERR_INVALID_ARGUMENT (id); store errors.
 */
clm_err renewal_order_view_get(store_txn *txn, clm_arena *arena, const char *id,
                               renewal_order_view *out);

/**
 * @brief The open renewal work order (draft .. implementing; renew, regenerate or
 * re-enroll) of the certificate `sha256` (hex), made by anyone.
 * @return CLM_OK with *out set, or CLM_ERR_NOT_FOUND (no error recorded); store errors.
 */
clm_err renewal_open_order_of(store_txn *txn, clm_arena *arena, const char *sha256,
                              renewal_order_view *out);

/** One certificate the sweep must act on (renewal_select()). Valid during the callback. */
typedef struct renewal_candidate {
    uint64_t id;
    char sha256[65];
    char connector[65];  /* "" when it has none (the work order then fails, named) */
    renewal_action action;
    renewal_status status;
    const Clm__Store__V1__RenewalStateRecord *rec; /* NULL: no record yet */
} renewal_candidate;

/** What renewal_select() calls; everything borrowed for the call. */
typedef struct renewal_select_ops {
    /* MUST: one certificate that needs a work order (status.create) or whose lifecycle
       record changes (a failure to count, a state that moved). Non-OK stops the scan. */
    clm_err (*each)(void *arg, const renewal_candidate *c);
    /* MAY: called every 1024 certificates (cancel, deadline); non-OK stops the scan. */
    clm_err (*check)(void *arg);
    void *arg;
} renewal_select_ops;

/**
 * @brief The sweep's selection, in the caller's read transaction: the expiry index from
 * `now` to now + RENEWAL_SCAN_AHEAD_S (so expired certificates are left out); kept are
 * Managed certificates without a child, of `group_id` when not 0; for each, the plan,
 * its record and its open renewal order (anyone's) or the order its record names, then
 * renewal_status_resolve(). Monitoring certificates without a record are not reported;
 * nor is one whose stored state stays the same and that needs no order (idempotence:
 * an open order or a child never yields a second order).
 * @param[out] examined MAY be NULL: certificates read.
 * @return CLM_OK; what ops->each or ops->check returned; store errors.
 */
clm_err renewal_select(store_txn *txn, int64_t now, uint64_t group_id, const renewal_options *opt,
                       const renewal_select_ops *ops, uint64_t *examined);

/**
 * @brief Everything `clmctl cert why` shows, for the certificate `cert` at `now`
 * (seconds). @return CLM_OK; renewal_plan_of()'s errors; CLM_ERR_NO_MEMORY.
 */
clm_err renewal_explain(store_txn *txn, clm_arena *arena,
                        const Clm__Store__V1__CertificateRecord *cert, int64_t now,
                        const renewal_options *opt, Clm__V1__RenewalExplanation *out);

/**
 * @brief The guide's transfer rule: each of the parent's own settings (auto_renew,
 * auto_regenerate, re_enroll) that is enabled is copied to the child and disabled on the
 * parent; the disabled ones are left as they are on both. The child also takes the
 * parent's connector field. Pure: changes the two records in memory (arena for new
 * settings); the caller writes them.
 * @return CLM_OK; CLM_ERR_NO_MEMORY.
 */
clm_err renewal_transfer_settings(clm_arena *arena, Clm__Store__V1__CertificateRecord *parent,
                                  Clm__Store__V1__CertificateRecord *child);

/**
 * @brief A renewal completed (called by the work-order job inside the transaction that
 * stores the child and completes the order, before the two records are written back):
 * the transfer rule, the parent's lifecycle record becomes "renewed" (failures reset),
 * and renewal_push_hook() runs.
 * @return CLM_OK; store errors; CLM_ERR_NO_MEMORY.
 */
clm_err renewal_completed(store_txn *txn, clm_arena *arena,
                          Clm__Store__V1__CertificateRecord *parent,
                          Clm__Store__V1__CertificateRecord *child, const Clm__V1__WorkOrder *order,
                          int64_t now_ns);

/**
 * @brief The seam where auto-push attaches (the push issue comes later): called once per
 * completed renewal inside renewal_completed()'s transaction, with the parent's
 * lifecycle record to note what it did in `rec->push`. Today it pushes nothing and
 * records RENEWAL_PUSH_NOT_CONFIGURED. An implementation MUST NOT do network I/O here
 * (it is inside a write transaction): it MAY queue a push job in the same transaction.
 * @return CLM_OK; store errors.
 */
clm_err renewal_push_hook(store_txn *txn, clm_arena *arena,
                          const Clm__Store__V1__CertificateRecord *parent,
                          const Clm__Store__V1__CertificateRecord *child,
                          Clm__Store__V1__RenewalStateRecord *rec);

#endif
