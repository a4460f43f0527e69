/*
 * appliance/workorders/workorders.h: work orders, the approval workflow of every
 * enrollment, renewal and revocation (reference guide: "Enrolling a Server Certificate",
 * work orders, approval levels, "Schedule later"; clm.v1.WorkOrders in
 * proto/clm/v1/workorders.proto).
 *
 * The lifecycle is a stored state machine (certmonger's model). States, stored as these
 * strings in WorkOrder.state, and what happens to each on restart:
 *   "draft"        made, not submitted; editable by nobody (a new order replaces it).
 *                  Restart: stays.
 *   "submitted"    transient inside the submit transaction (history shows it).
 *   "review"       waiting for the approval of level review_level (1..levels).
 *                  Restart: stays.
 *   "approved"     every level approved (or the group has 0 levels, or an automatic
 *                  renewal its group auto-approves). Waits for ImplementWorkOrder, except
 *                  an automatic renewal, which the appliance implements at once.
 *   "scheduled"    a "work-order" job run is queued for implement_at (now or later).
 *                  Restart: the queued run runs at its time.
 *   "implementing" the job works: key, CSR, submit to the CA (pending: the cookie is
 *                  stored and polled by a later run), store the certificate. Restart: the
 *                  scheduler runs the job again (at-least-once) and it resumes from the
 *                  stored key, CSR and cookie.
 *   "completed" | "failed" (failure_reason) | "rejected" | "cancelled": final.
 * Transitions: draft -> submitted -> review(1..N) -> approved -> scheduled ->
 * implementing -> completed | failed; review -> rejected; draft, submitted, review,
 * approved, scheduled -> cancelled. Any other is refused with CLM_ERR_CONFLICT naming
 * the current state, and nothing changes.
 *
 * Rules (workorder_step): the requester or an admin submits and cancels; an approver or
 * admin approves and rejects; the requester never approves their own order; one identity
 * approves at most one level; reject needs a comment; an operator or admin implements.
 * Every transition appends a Transition (from, to, level, identity, time, comment) and,
 * in the same write transaction, an audit entry (context.audit).
 *
 * Table "work_orders": key be64(id), value clm.store.v1.WorkOrderRecord. Indexes:
 *   "state": state 0x00 be64(id); "requester": lower-cased requester 0x00 be64(id).
 * Ids come from the table's sequence: "WO-%06llu" and "REQ-%06llu" of the same number.
 *
 * Secrets: the challenge password is sealed at rest (aad "wo-challenge:<id>"), the
 * generated key too (aad "wo-key:<id>") until the certificate's record takes it; neither
 * is ever in a reply, a log line or an error message.
 *
 * Thread rules: any thread; functions that take a store_txn run inside the caller's
 * transaction. workorder_implement() belongs on a scheduler worker (RSA key generation).
 */
#ifndef CLM_APPLIANCE_WORKORDERS_WORKORDERS_H
#define CLM_APPLIANCE_WORKORDERS_WORKORDERS_H

#include <stdbool.h>
#include <stdint.h>

#include "appliance/rpc/rpc.h"
#include "clm/store/v1/inventory.pb-c.h"
#include "clm/store/v1/workorders.pb-c.h"
#include "clm/v1/workorders.pb-c.h"
#include "lib/base/arena.h"
#include "lib/base/clock.h"
#include "scheduler/scheduler.h"
#include "store/seal.h"
#include "store/store.h"

/** The job kind that implements work orders; params {"work_order": <id>}. */
#define WORKORDER_JOB_KIND "work-order"

/** The identity the appliance acts as when it implements an approved automatic renewal
 *  (workorder_act: the last approval of an automatic order queues its implementation). */
#define WORKORDER_SYSTEM_ACTOR "clmd (automatic renewal)"

#define WORKORDER_COMMENT_MAX 2000
#define WORKORDER_ATTACHMENTS_MAX 5
#define WORKORDER_ATTACHMENT_MAX (256 * 1024)
#define WORKORDER_DEFAULT_LEVELS 2
#define WORKORDER_LEVELS_MAX 5
/** How often a pending CA is asked again when it names no time (seconds). */
#define WORKORDER_POLL_DEFAULT_S 60

extern const store_table workorder_table;
enum { WORKORDER_INDEX_STATE = 0, WORKORDER_INDEX_REQUESTER };

/** States (see the top of this file). */
typedef enum workorder_state {
    WO_DRAFT = 0,
    WO_SUBMITTED,
    WO_REVIEW,
    WO_APPROVED,
    WO_SCHEDULED,
    WO_IMPLEMENTING,
    WO_COMPLETED,
    WO_FAILED,
    WO_REJECTED,
    WO_CANCELLED,
    WO_STATE_MAX
} workorder_state;

/** Stored name of a state; "unknown" outside the enum. */
const char *workorder_state_name(workorder_state state);
/** @return CLM_OK or CLM_ERR_INVALID_ARGUMENT naming `field`. */
clm_err workorder_state_parse(const char *name, const char *field, workorder_state *out);
/** True for completed, failed, rejected, cancelled. */
bool workorder_state_is_final(const char *state);

/** Kinds, stored as "enroll", "renew", "regenerate", "re-enroll", "revoke". */
typedef enum workorder_kind {
    WO_KIND_ENROLL = 0,
    WO_KIND_RENEW,      /* the same key, a new certificate */
    WO_KIND_REGENERATE, /* a new key */
    WO_KIND_REENROLL,   /* the enrollment again, as first made */
    WO_KIND_REVOKE,
    WO_KIND_MAX
} workorder_kind;

const char *workorder_kind_name(workorder_kind kind);
/** "" parses as enroll. @return CLM_OK or CLM_ERR_INVALID_ARGUMENT naming `field`. */
clm_err workorder_kind_parse(const char *name, const char *field, workorder_kind *out);

/** What a caller asks of an order. */
typedef enum workorder_action {
    WO_ACT_SUBMIT = 0,
    WO_ACT_APPROVE,
    WO_ACT_REJECT,
    WO_ACT_IMPLEMENT, /* approved -> scheduled */
    WO_ACT_CANCEL,
    WO_ACT_START,     /* the job: scheduled -> implementing */
    WO_ACT_COMPLETE,  /* the job: implementing -> completed */
    WO_ACT_FAIL,      /* the job: implementing -> failed (comment = the reason) */
    WO_ACT_MAX
} workorder_action;

/** Who acts. Strings borrowed. */
typedef struct workorder_actor {
    const char *identity;
    rpc_role role; /* RPC_ROLE_ADMIN for the appliance's own job */
} workorder_actor;

/**
 * @brief Apply one action to an order (pure: no store): check the rules above, then
 * change state, review_level, approvals, history, updated_at (and implement_at for
 * IMPLEMENT; failure_reason for FAIL). Nothing changes when it fails.
 * @param[in,out] o the order; new repeated entries are allocated in `arena`.
 * @param[in] comment MAY be NULL or ""; REJECT and FAIL require one.
 * @param[in] at_ns IMPLEMENT: when (clamped to now); else ignored.
 * @return CLM_OK; CLM_ERR_CONFLICT naming the state ("state: WO-000001 is in review, ...");
 *         CLM_ERR_PERMISSION (role, requester approving, one level per identity, another
 *         identity cancelling); CLM_ERR_INVALID_ARGUMENT (comment); CLM_ERR_NO_MEMORY.
 */
clm_err workorder_step(Clm__V1__WorkOrder *o, workorder_action action, const workorder_actor *who,
                       const char *comment, int64_t now_ns, int64_t at_ns, clm_arena *arena);

/** What the domain functions need from their caller; everything borrowed for the call. */
typedef struct workorder_context {
    store *store;
    const seal_key *seal;
    const clm_clock *clock;
    sched *sched;         /* implement queues the job here */
    clm_arena *arena;     /* results and scratch */
    workorder_actor actor;
    /* MUST: appends the audit entry of the change inside its write transaction */
    clm_err (*audit)(store_txn *txn, void *arg, const char *target, const char *what);
    void *audit_arg;
    /* MAY: called after each committed change (wakes watchers) */
    void (*changed)(void *arg);
    void *changed_arg;
    /* MAY: a renewal completed: called inside the transaction that stores the new
       certificate and completes the order, after the child is linked to its parent and
       before both are written back (so it may change them: the renewal lifecycle's
       transfer rule, appliance/renewal/lifecycle.h renewal_completed) */
    clm_err (*renewed)(store_txn *txn, void *arg, Clm__Store__V1__CertificateRecord *parent,
                       Clm__Store__V1__CertificateRecord *child, const Clm__V1__WorkOrder *order);
    void *renewed_arg;
} workorder_context;

/**
 * @brief Check a CreateWorkOrder request without the store: kind, every field of the
 * enrollment request (CSR parameters by lib/pki's rules, validity, attachments,
 * attributes, generic fields), the comment. Messages name the field
 * ("request.csr.country: ...", "request.attachments[0].data: ...").
 * @return CLM_OK or CLM_ERR_INVALID_ARGUMENT.
 */
clm_err workorder_validate_create(const Clm__V1__CreateWorkOrderRequest *req);

/**
 * @brief Create a work order (validated first; nothing written on any error): the group
 * (its policy: CSR defaults fill empty O/OU/L/ST/C, allowed key types and hashes, the
 * approval levels), the connector (its adapter checks the vendor request fields; an
 * uploaded CSR is parsed, shown in csr_info and checked against the policy), the target
 * certificate for revoke. Submitted at once when req->submit.
 * @param[out] out the order as stored (arena).
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the field; CLM_ERR_NOT_FOUND (group,
 *         connector, target_sha256); store errors.
 */
clm_err workorder_create(const workorder_context *ctx, const Clm__V1__CreateWorkOrderRequest *req,
                         Clm__V1__WorkOrder **out);

/**
 * @brief A renewal work order for the renewal sweep (not yet called by it): kind renew,
 * regenerate or re-enroll for the inventory certificate `sha256`, through the connector
 * that issued it (or `connector`), in the certificate's group, requester "renewal-sweep"
 * (ctx->actor), automatic = true, submitted at once; approved at once when the group's
 * ApprovalPolicy.auto_approve_renewals is set (then also scheduled now when `implement`).
 * The request copies the certificate's names (CN, DNS SANs), attributes and generic
 * fields; renew reuses the sealed key, the others make a new key of the same type. The
 * new certificate becomes the child of the old one (parent_id / child_id); moving the
 * auto-renew settings to it is ctx->renewed's business (the work-order job sets it).
 * An enroll order's request.auto_renew / auto_regenerate / re_enroll are stored on the
 * certificate it issues.
 * @return as workorder_create(); CLM_ERR_INVALID_ARGUMENT for kind enroll or revoke.
 */
clm_err workorder_create_renewal(const workorder_context *ctx, workorder_kind kind,
                                 const char *sha256, const char *connector, bool implement,
                                 Clm__V1__WorkOrder **out);

/**
 * @brief Apply an action (SUBMIT, APPROVE, REJECT, IMPLEMENT, CANCEL) to the order `id`
 * ("WO-000042", "REQ-000042" or "42") in one write transaction with its audit entry.
 * IMPLEMENT queues the "work-order" job (at at_ns; 0: now) in that same transaction;
 * A scheduled order that is cancelled keeps its queued run, which finds it cancelled and
 * does nothing.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT (id, comment); CLM_ERR_NOT_FOUND (id); what
 *         workorder_step() returns; store and scheduler errors.
 */
clm_err workorder_act(const workorder_context *ctx, const char *id, workorder_action action,
                      const char *comment, int64_t at_ns, Clm__V1__WorkOrder **out);

/** @brief Parse "WO-000042", "REQ-000042" or "42". @return CLM_ERR_INVALID_ARGUMENT naming `field`. */
clm_err workorder_parse_id(const char *text, const char *field, uint64_t *id);

/**
 * @brief Read an order (inside the caller's transaction; arena memory).
 * @return CLM_OK; CLM_ERR_NOT_FOUND naming "id"; store errors.
 */
clm_err workorder_get(store_txn *txn, clm_arena *arena, uint64_t id,
                      Clm__Store__V1__WorkOrderRecord **out);

/**
 * @brief One page of orders matching the filters (state uses the state index, requester
 * the requester index; kind, group, connector are checked per record). Oldest first.
 * Attachments are listed by name and size without their bytes (GetWorkOrder has them).
 * A page examines at most page_size records, so it may hold fewer and a token to go on.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming state, kind, page_size, page_token.
 */
clm_err workorder_list(store_txn *txn, clm_arena *arena, const Clm__V1__ListWorkOrdersRequest *req,
                       Clm__V1__ListWorkOrdersResponse *out);

/**
 * @brief The job step (kind "work-order", on a scheduler worker): implement order `id`
 * from its stored state. Idempotent: a final order is left alone; "scheduled" starts;
 * "implementing" resumes (poll a stored cookie, reuse a stored key and CSR).
 * @param[in] attempt, max_attempts the run's attempt and its kind's limit: an unreachable
 *            CA is retried until the last attempt, which fails the order.
 * @param[out] message what happened, for the run's progress or error (truncated).
 * @return the run's outcome: OK (completed, or pending with a later run queued, or
 *         nothing to do), RETRY (CA unreachable, store busy), FAIL (the order failed: the
 *         CA's reason; or no such order).
 */
sched_outcome workorder_implement(const workorder_context *ctx, uint64_t id, uint32_t attempt,
                                  uint32_t max_attempts, char *message, size_t message_size);

#endif
