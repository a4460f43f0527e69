/*
 * appliance/jobs/renewal_sweep.c: the "renewal-sweep" kind (issue 6, "Auto-renew
 * sweep"). Daily by default ([renewal] interval; schedule "renewal-sweep" made at first
 * start by jobs_ensure_default_schedules).
 *
 * What it does, per run:
 *   1. One read transaction: the expiry index from now to now + 132 days (every due
 *      certificate expires within 120 days plus the jitter; expired certificates are not
 *      renewed automatically: a certificate past notAfter needs a person, and re-enroll
 *      or enroll by hand). Kept: status Managed (so not revoked, ignored or monitored),
 *      no child yet, in the `group` when given. For each, the plan (policy.h, via
 *      renewal_plan_of), its lifecycle record, its open renewal work order (any
 *      requester) or else the order its record names, and the step function
 *      renewal_status_resolve(). Certificates that need nothing are not written.
 *   2. Then one short write transaction per certificate that needs one: a failure to
 *      count; a work order to make (workorder_create_renewal: renew / regenerate /
 *      re-enroll, through the group's approval policy, implemented at once when the group
 *      auto-approves automatic renewals) followed by its lifecycle record; or
 *      "rate-limited" once its connector has had its limit of orders this run: the
 *      run's max_per_connector, else the connector's max_renewals_per_sweep, else
 *      [renewal] max_per_connector.
 * Idempotent: an open renewal order or a child means no new order, so a second run
 * (or a run again after a crash) makes nothing new.
 *
 * Params (JSON object, every key optional):
 *   dry_run            true: decide and report, write nothing
 *   limit              1-100000: work orders this run makes in all (default 10000)
 *   group              a group's name: only its certificates
 *   max_per_connector  1-100000: every connector's limit for this run (over the
 *                      connector's own max_renewals_per_sweep and the config's)
 * Progress: done/total over the certificates examined, with the counts so far.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "appliance/app.h"
#include "appliance/ca/connectors.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/tables.h"
#include "appliance/jobs/kinds.h"
#include "appliance/renewal/lifecycle.h"
#include "appliance/workorders/workorders.h"
#include "lib/base/buf.h"
#include "lib/base/log.h"
#include "store/audit.h"

#define SWEEP_LIMIT_MAX 100000
#define SWEEP_LIMIT_DEFAULT 10000

typedef struct sweep_params {
    bool dry_run;
    uint32_t limit;
    uint32_t max_per_connector; /* 0: the config's */
    char group[65];
} sweep_params;

static clm_err parse_params(const char *text, size_t len, sweep_params *p)
{
    json_error_t error;
    json_t *root, *v;
    const char *key;
    clm_err err = CLM_OK;

    memset(p, 0, sizeof(*p));
    p->limit = SWEEP_LIMIT_DEFAULT;
    if (len == 0)
        return CLM_OK;
    root = json_loadb(text, len, 0, &error);
    if (!json_is_object(root)) {
        json_decref(root);
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "params: not a JSON object");
    }
    json_object_foreach(root, key, v) {
        if (strcmp(key, "dry_run") == 0) {
            if (!json_is_boolean(v)) {
                err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "params.dry_run: true or false");
                break;
            }
            p->dry_run = json_is_true(v);
        } else if (strcmp(key, "limit") == 0 || strcmp(key, "max_per_connector") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                json_integer_value(v) > SWEEP_LIMIT_MAX) {
                err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "params.%s: an integer from 1 to %d",
                               key, SWEEP_LIMIT_MAX);
                break;
            }
            *(key[0] == 'l' ? &p->limit : &p->max_per_connector) = (uint32_t)json_integer_value(v);
        } else if (strcmp(key, "group") == 0) {
            if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 64) {
                err = clm_fail(CLM_ERR_INVALID_ARGUMENT,
                               "params.group: a group's name (1-64 characters)");
                break;
            }
            snprintf(p->group, sizeof(p->group), "%s", json_string_value(v));
        } else {
            err = clm_fail(CLM_ERR_INVALID_ARGUMENT,
                           "params.%.64s: unknown (dry_run, limit, group, max_per_connector)",
                           key);
            break;
        }
    }
    json_decref(root);
    return err;
}

typedef struct group_lookup {
    const char *name;
    uint64_t id;
} group_lookup;

static clm_err group_txn(store_txn *txn, void *arg)
{
    group_lookup *g = arg;
    clm_arena arena = CLM_ARENA_INIT;
    Clm__Store__V1__GroupRecord *r;
    clm_err err = group_find(txn, &arena, g->name, "params.group", &r);

    if (err == CLM_OK)
        g->id = r->id;
    clm_arena_free(&arena);
    return err;
}

clm_err job_renewal_sweep_check(const char *params, size_t len, const clm_app *app)
{
    sweep_params p;
    clm_err err = parse_params(params, len, &p);

    if (err == CLM_OK && p.group[0] && app != NULL && app->store != NULL) {
        group_lookup g = {p.group, 0};
        err = store_view(app->store, group_txn, &g);
    }
    return err;
}

/* ---- phase 1: what each certificate needs (renewal_select) ---- */

typedef struct candidate {
    renewal_candidate c;                     /* c.rec: NULL; see rec */
    Clm__Store__V1__RenewalStateRecord *rec; /* copy (arena) or NULL */
} candidate;

typedef struct scan {
    const renewal_options *opt;
    uint64_t group_id; /* 0: every group */
    int64_t now;
    clm_arena *arena; /* candidates' records */
    candidate *list;
    size_t n, cap;
    uint64_t examined;
    sched_ctx *ctx;
} scan;

static Clm__Store__V1__RenewalStateRecord *rec_copy(clm_arena *arena,
                                                    const Clm__Store__V1__RenewalStateRecord *r)
{
    Clm__Store__V1__RenewalStateRecord *c = clm_arena_alloc(arena, sizeof(*c));

    if (c == NULL)
        return NULL;
    *c = *r;
    c->state = clm_arena_strdup(arena, r->state);
    c->action = clm_arena_strdup(arena, r->action);
    c->work_order = clm_arena_strdup(arena, r->work_order);
    c->last_failure = clm_arena_strdup(arena, r->last_failure);
    c->connector = clm_arena_strdup(arena, r->connector);
    c->push = clm_arena_strdup(arena, r->push);
    return c->state && c->action && c->work_order && c->last_failure && c->connector && c->push
               ? c : NULL;
}

static clm_err add(void *arg, const renewal_candidate *rc)
{
    scan *s = arg;

    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        candidate *list = realloc(s->list, cap * sizeof(*list));
        if (list == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        s->list = list;
        s->cap = cap;
    }
    s->list[s->n].c = *rc;
    s->list[s->n].c.rec = NULL;
    s->list[s->n].rec = NULL;
    if (rc->rec != NULL && (s->list[s->n].rec = rec_copy(s->arena, rc->rec)) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    s->n++;
    return CLM_OK;
}

static clm_err check(void *arg)
{
    scan *s = arg;

    return sched_ctx_check(s->ctx);
}

static clm_err scan_txn(store_txn *txn, void *arg)
{
    scan *s = arg;
    renewal_select_ops ops = {add, check, s};

    s->n = 0; /* a retried transaction starts over */
    return renewal_select(txn, s->now, s->group_id, s->opt, &ops, &s->examined);
}

/* ---- phase 2: one short transaction each ---- */

typedef struct record_op {
    const candidate *cand;
    const char *state;
    const char *work_order;     /* NULL: keep */
    const char *failure;        /* NULL: keep (or the status's) */
    bool new_failure;           /* failures + 1, next attempt from now */
    int64_t now_s, now_ns;
    const renewal_options *opt;
} record_op;

static clm_err audit(store_txn *txn, const char *target, const char *what)
{
    char outcome[200];
    store_audit_event ev = {RENEWAL_SWEEP_IDENTITY, RPC_ROLE_ADMIN, "job:renewal-sweep", target,
                            outcome};

    snprintf(outcome, sizeof(outcome), "ok: %s", what);
    return store_audit_append(txn, &ev, NULL);
}

static clm_err record_txn(store_txn *txn, void *arg)
{
    record_op *op = arg;
    const renewal_candidate *c = &op->cand->c;
    Clm__Store__V1__RenewalStateRecord rec = CLM__STORE__V1__RENEWAL_STATE_RECORD__INIT;
    Clm__Store__V1__RenewalStateRecord *now_stored = NULL;
    clm_arena arena = CLM_ARENA_INIT;
    char what[160];
    clm_err err;

    /* The order made a moment ago may have completed already (auto-approved, implemented
       on another worker): renewal_completed() then wrote "renewed", which stays. */
    if ((err = renewal_state_get(txn, &arena, c->id, &now_stored)) != CLM_OK &&
        err != CLM_ERR_NOT_FOUND) {
        clm_arena_free(&arena);
        return err;
    }
    if (now_stored != NULL && op->work_order != NULL &&
        strcmp(now_stored->work_order, op->work_order) == 0) {
        clm_arena_free(&arena);
        return audit(txn, c->sha256, "renewal work order made and already done");
    }
    clm_arena_free(&arena);
    if (op->cand->rec != NULL)
        rec = *op->cand->rec;
    rec.certificate_id = c->id;
    rec.state = (char *)op->state;
    rec.action = (char *)renewal_action_name(c->action);
    rec.connector = (char *)c->connector;
    rec.failures = c->status.failures;
    rec.next_attempt = c->status.next_attempt;
    rec.last_failure = (char *)c->status.last_failure;
    if (c->status.count_failure)
        rec.failure_counted = true;
    if (op->work_order != NULL) {
        rec.work_order = (char *)op->work_order;
        rec.failure_counted = false;
        rec.next_attempt = 0;
    }
    if (op->new_failure) {
        rec.failures++;
        rec.last_failure = (char *)op->failure;
        rec.next_attempt = op->now_s + renewal_retry_delay(rec.failures, op->opt->retry_base_s,
                                                           op->opt->retry_cap_s);
        rec.failure_counted = true; /* no order to count it again */
    }
    if (strcmp(op->state, "rate-limited") == 0)
        rec.next_attempt = 0; /* the next sweep */
    rec.updated_at = op->now_ns;
    snprintf(what, sizeof(what), "renewal %s%s%s", op->state, op->work_order ? ": " : "",
             op->work_order ? op->work_order : "");
    err = renewal_state_put(txn, &rec);
    return err == CLM_OK ? audit(txn, c->sha256, what) : err;
}

static clm_err audit_wo(store_txn *txn, void *arg, const char *target, const char *what)
{
    (void)arg;
    return audit(txn, target, what);
}

static void wake(void *arg)
{
    clm_app *app = arg;

    if (app->server != NULL)
        rpc_server_wake_watchers(app->server);
}

static workorder_kind kind_of(renewal_action a)
{
    return a == RENEWAL_REGENERATE ? WO_KIND_REGENERATE
         : a == RENEWAL_REENROLL   ? WO_KIND_REENROLL : WO_KIND_RENEW;
}

typedef struct connector_count {
    char name[65];
    uint32_t made;
    uint32_t limit; /* orders this run may make through the connector */
} connector_count;

/* The connector's own max_renewals_per_sweep; 0 when it sets none (or is gone). */
typedef struct limit_op {
    const char *name;
    clm_arena *arena;
    uint32_t limit;
} limit_op;

static clm_err limit_txn(store_txn *txn, void *arg)
{
    limit_op *op = arg;
    Clm__Store__V1__ConnectorRecord *r;

    if (connector_find(txn, op->arena, op->name, "connector", &r) == CLM_OK)
        op->limit = r->max_renewals_per_sweep;
    clm_error_clear();
    return CLM_OK;
}

/* The count of the connector `name`, made on first use with its limit (see the top). */
static connector_count *count_of(clm_app *app, clm_arena *arena, uint32_t run_limit,
                                 connector_count **counts, size_t *n, const char *name)
{
    connector_count *grown;
    limit_op op = {name, arena, 0};

    for (size_t i = 0; i < *n; i++)
        if (strcasecmp((*counts)[i].name, name) == 0)
            return &(*counts)[i];
    if ((grown = realloc(*counts, (*n + 1) * sizeof(**counts))) == NULL)
        return NULL;
    *counts = grown;
    if (run_limit == 0 && name[0] != '\0')
        (void)store_view(app->store, limit_txn, &op);
    snprintf(grown[*n].name, sizeof(grown[*n].name), "%s", name);
    grown[*n].made = 0;
    grown[*n].limit = run_limit                           ? run_limit
                    : op.limit                            ? op.limit
                    : app->config.renewal_max_per_connector > 0
                        ? (uint32_t)app->config.renewal_max_per_connector : 100;
    return &grown[(*n)++];
}

static const char *state_of_order(const Clm__V1__WorkOrder *o)
{
    if (strcmp(o->state, "approved") == 0 || strcmp(o->state, "scheduled") == 0 ||
        strcmp(o->state, "implementing") == 0)
        return renewal_state_name(RENEWAL_STATE_ENROLLING);
    if (strcmp(o->state, "completed") == 0)
        return renewal_state_name(RENEWAL_STATE_RENEWED);
    if (workorder_state_is_final(o->state))
        return renewal_state_name(RENEWAL_STATE_FAILED);
    return renewal_state_name(RENEWAL_STATE_WAITING_APPROVAL);
}

sched_outcome job_renewal_sweep(sched_ctx *ctx, void *arg)
{
    clm_app *app = arg;
    clm_arena arena = CLM_ARENA_INIT;
    size_t len;
    const char *text = sched_ctx_params(ctx, &len);
    sweep_params p;
    renewal_options opt = {app->config.renewal_retry_base_s, app->config.renewal_retry_cap_s,
                           (uint32_t)app->config.renewal_lifetime_percent, 0};
    scan s;
    connector_count *counts = NULL;
    size_t n_counts = 0;
    uint32_t made = 0, limited = 0, failed = 0, updated = 0, due = 0;
    sched_outcome outcome = SCHED_OUTCOME_OK;
    clm_err err;

    if (parse_params(text, len, &p) != CLM_OK) {
        sched_ctx_error(ctx, "%s", clm_error_message());
        return SCHED_OUTCOME_FAIL;
    }
    memset(&s, 0, sizeof(s));
    s.opt = &opt;
    s.arena = &arena;
    s.ctx = ctx;
    s.now = clm_clock_now_ns(sched_ctx_clock(ctx)) / CLM_NS_PER_SEC;
    if (p.group[0]) {
        group_lookup g = {p.group, 0};
        if (store_view(app->store, group_txn, &g) != CLM_OK) {
            sched_ctx_error(ctx, "%s", clm_error_message());
            return SCHED_OUTCOME_FAIL;
        }
        s.group_id = g.id;
    }
    if ((err = store_view(app->store, scan_txn, &s)) != CLM_OK) {
        sched_ctx_error(ctx, "reading the inventory: %s", clm_error_message());
        outcome = err == CLM_ERR_CANCELLED || err == CLM_ERR_TIMEOUT ? SCHED_OUTCOME_FAIL
                                                                    : SCHED_OUTCOME_RETRY;
        goto out;
    }
    for (size_t i = 0; i < s.n; i++) {
        candidate *cand = &s.list[i];
        renewal_candidate *c = &cand->c;
        int64_t now_ns = clm_clock_now_ns(sched_ctx_clock(ctx));
        record_op op = {cand, renewal_state_name(c->status.state), NULL, NULL, false,
                        now_ns / CLM_NS_PER_SEC, now_ns, &opt};

        if (sched_ctx_check(ctx) != CLM_OK) {
            sched_ctx_error(ctx, "stopped after %zu of %zu certificates", i, s.n);
            outcome = SCHED_OUTCOME_FAIL;
            break;
        }
        if (c->status.create) {
            connector_count *count =
                count_of(app, &arena, p.max_per_connector, &counts, &n_counts, c->connector);
            due++;
            if (count == NULL) {
                sched_ctx_error(ctx, "out of memory");
                outcome = SCHED_OUTCOME_RETRY;
                break;
            }
            if (count->made >= count->limit || made >= p.limit) {
                op.state = renewal_state_name(RENEWAL_STATE_RATE_LIMITED);
                limited++;
            } else if (!p.dry_run) {
                workorder_context wctx = {app->store, app->seal, app->clock, app->sched, &arena,
                                          {RENEWAL_SWEEP_IDENTITY, RPC_ROLE_ADMIN}, audit_wo, NULL,
                                          wake, app, NULL, NULL};
                Clm__V1__WorkOrder *o = NULL;
                err = workorder_create_renewal(&wctx, kind_of(c->action), c->sha256,
                                               c->connector[0] ? c->connector : NULL, true, &o);
                if (err == CLM_OK) {
                    count->made++;
                    made++;
                    op.work_order = o->id;
                    op.state = state_of_order(o);
                    CLM_LOG_INFO("renewal_sweep.work_order", "sha256", c->sha256, "work_order",
                                 o->id, "kind", o->kind, "state", o->state);
                } else if (err == CLM_ERR_STORE || err == CLM_ERR_BUSY ||
                           err == CLM_ERR_STORE_FULL || err == CLM_ERR_NO_MEMORY) {
                    sched_ctx_error(ctx, "%s: %s", c->sha256, clm_error_message());
                    outcome = SCHED_OUTCOME_RETRY;
                    break;
                } else {
                    char reason[CLM_ERROR_MESSAGE_MAX + 40];
                    snprintf(reason, sizeof(reason), "making the work order: %s",
                             clm_error_message());
                    op.state = renewal_state_name(RENEWAL_STATE_FAILED);
                    op.failure = clm_arena_strdup(&arena, reason);
                    op.new_failure = true;
                    failed++;
                    CLM_LOG_WARN("renewal_sweep.failed", "sha256", c->sha256, "error", reason);
                }
            }
        } else if (c->status.state == RENEWAL_STATE_FAILED) {
            failed++;
        }
        if (!p.dry_run) {
            if ((err = store_update(app->store, record_txn, &op)) != CLM_OK) {
                sched_ctx_error(ctx, "%s: lifecycle: %s", c->sha256, clm_error_message());
                outcome = SCHED_OUTCOME_RETRY;
                break;
            }
            updated++;
        }
        sched_ctx_progress(ctx, i + 1, s.n,
                           "%" PRIu32 " due, %" PRIu32 " work orders made, %" PRIu32
                           " rate limited, %" PRIu32 " failed%s",
                           due, made, limited, failed, p.dry_run ? " (dry run)" : "");
    }
    if (outcome == SCHED_OUTCOME_OK)
        sched_ctx_progress(ctx, s.n, s.n,
                           "%" PRIu64 " certificates examined: %" PRIu32 " due, %" PRIu32
                           " work orders made, %" PRIu32 " rate limited, %" PRIu32
                           " failed%s",
                           s.examined, due, made, limited, failed, p.dry_run ? " (dry run)" : "");
    CLM_LOG_INFO("renewal_sweep.done", "examined", CLM_I64((int64_t)s.examined), "due",
                 CLM_I64(due), "made", CLM_I64(made), "rate_limited", CLM_I64(limited), "failed",
                 CLM_I64(failed), "updated", CLM_I64(updated));
out:
    free(s.list);
    free(counts);
    clm_arena_free(&arena);
    return outcome;
}
