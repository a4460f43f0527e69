/* appliance/workorders/states.c: the work order state machine (workorders.h), pure. */
#include <string.h>
#include <strings.h>

#include "appliance/api/convert.h"
#include "appliance/workorders/workorders.h"

static const char *const state_names[WO_STATE_MAX] = {
    [WO_DRAFT] = "draft",         [WO_SUBMITTED] = "submitted",
    [WO_REVIEW] = "review",       [WO_APPROVED] = "approved",
    [WO_SCHEDULED] = "scheduled", [WO_IMPLEMENTING] = "implementing",
    [WO_COMPLETED] = "completed", [WO_FAILED] = "failed",
    [WO_REJECTED] = "rejected",   [WO_CANCELLED] = "cancelled",
};

static const char *const kind_names[WO_KIND_MAX] = {
    [WO_KIND_ENROLL] = "enroll",     [WO_KIND_RENEW] = "renew",
    [WO_KIND_REGENERATE] = "regenerate", [WO_KIND_REENROLL] = "re-enroll",
    [WO_KIND_REVOKE] = "revoke",
};

const char *workorder_state_name(workorder_state state)
{
    return state >= 0 && state < WO_STATE_MAX ? state_names[state] : "unknown";
}

clm_err workorder_state_parse(const char *name, const char *field, workorder_state *out)
{
    for (int i = 0; i < WO_STATE_MAX; i++)
        if (strcasecmp(name, state_names[i]) == 0) {
            *out = (workorder_state)i;
            return CLM_OK;
        }
    return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                    "%s: '%.32s' is not a work order state (draft, submitted, review, approved, "
                    "scheduled, implementing, completed, failed, rejected, cancelled)",
                    field, name);
}

bool workorder_state_is_final(const char *state)
{
    return strcmp(state, "completed") == 0 || strcmp(state, "failed") == 0 ||
           strcmp(state, "rejected") == 0 || strcmp(state, "cancelled") == 0;
}

const char *workorder_kind_name(workorder_kind kind)
{
    return kind >= 0 && kind < WO_KIND_MAX ? kind_names[kind] : "unknown";
}

clm_err workorder_kind_parse(const char *name, const char *field, workorder_kind *out)
{
    if (name[0] == '\0') {
        *out = WO_KIND_ENROLL;
        return CLM_OK;
    }
    for (int i = 0; i < WO_KIND_MAX; i++)
        if (strcasecmp(name, kind_names[i]) == 0) {
            *out = (workorder_kind)i;
            return CLM_OK;
        }
    return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                    "%s: '%.32s' is not one of enroll, renew, regenerate, re-enroll, revoke",
                    field, name);
}

static const char *const action_names[WO_ACT_MAX] = {
    [WO_ACT_SUBMIT] = "submit",       [WO_ACT_APPROVE] = "approve",
    [WO_ACT_REJECT] = "reject",       [WO_ACT_IMPLEMENT] = "implement",
    [WO_ACT_CANCEL] = "cancel",       [WO_ACT_START] = "start",
    [WO_ACT_COMPLETE] = "complete",   [WO_ACT_FAIL] = "fail",
};

/* ---- the transition table: which states each action leaves from ---- */

#define FROM(s) (1u << (s))
static const unsigned allowed_from[WO_ACT_MAX] = {
    [WO_ACT_SUBMIT] = FROM(WO_DRAFT),
    [WO_ACT_APPROVE] = FROM(WO_REVIEW),
    [WO_ACT_REJECT] = FROM(WO_REVIEW),
    [WO_ACT_IMPLEMENT] = FROM(WO_APPROVED),
    [WO_ACT_CANCEL] = FROM(WO_DRAFT) | FROM(WO_SUBMITTED) | FROM(WO_REVIEW) |
                      FROM(WO_APPROVED) | FROM(WO_SCHEDULED),
    [WO_ACT_START] = FROM(WO_SCHEDULED),
    [WO_ACT_COMPLETE] = FROM(WO_IMPLEMENTING),
    [WO_ACT_FAIL] = FROM(WO_IMPLEMENTING),
};

static bool is_role(const workorder_actor *who, rpc_role a, rpc_role b)
{
    return who->role == a || who->role == b;
}

/* The arena copy of a string. */
static char *dup(clm_arena *arena, const char *s)
{
    return clm_arena_memdup(arena, s ? s : "", strlen(s ? s : "") + 1);
}

/* Append one element to a repeated field (arena memory: the old array is left). */
static void **grow(clm_arena *arena, void **v, size_t n)
{
    void **nv = clm_arena_alloc(arena, (n + 1) * sizeof(*nv));

    if (nv != NULL && n)
        memcpy(nv, v, n * sizeof(*nv));
    return nv;
}

static clm_err add_transition(Clm__V1__WorkOrder *o, const char *from, const char *to,
                              uint32_t level, const workorder_actor *who, const char *comment,
                              int64_t now, clm_arena *arena)
{
    Clm__V1__Transition *t = clm_arena_alloc(arena, sizeof(*t));
    void **h = grow(arena, (void **)o->history, o->n_history);

    if (t == NULL || h == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    clm__v1__transition__init(t);
    t->from = dup(arena, from);
    t->to = dup(arena, to);
    t->level = level;
    t->identity = dup(arena, who->identity);
    t->time = convert_timestamp_ns(arena, now);
    t->comment = dup(arena, comment);
    if (t->from == NULL || t->to == NULL || t->identity == NULL || t->time == NULL ||
        t->comment == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    h[o->n_history] = t;
    o->history = (Clm__V1__Transition **)h;
    o->n_history++;
    return CLM_OK;
}

/* Move to `to`, recording the transition. */
static clm_err move(Clm__V1__WorkOrder *o, workorder_state to, uint32_t level,
                    const workorder_actor *who, const char *comment, int64_t now,
                    clm_arena *arena)
{
    const char *from = o->state;
    clm_err err = add_transition(o, from, workorder_state_name(to), level, who, comment, now,
                                 arena);

    if (err != CLM_OK)
        return err;
    o->state = (char *)workorder_state_name(to);
    o->review_level = to == WO_REVIEW ? level : 0;
    o->updated_at = convert_timestamp_ns(arena, now);
    return o->updated_at ? CLM_OK : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
}

/* The rules of who may act, before anything changes. */
static clm_err check_actor(const Clm__V1__WorkOrder *o, workorder_action action,
                           const workorder_actor *who, const char *comment)
{
    bool requester = strcmp(who->identity, o->requester) == 0;

    switch (action) {
    case WO_ACT_SUBMIT:
    case WO_ACT_CANCEL:
        if (!requester && who->role != RPC_ROLE_ADMIN)
            return clm_fail(CLM_ERR_PERMISSION,
                            "id: only the requester (%s) or an admin may %s %s", o->requester,
                            action_names[action], o->id);
        return CLM_OK;
    case WO_ACT_APPROVE:
        if (!is_role(who, RPC_ROLE_APPROVER, RPC_ROLE_ADMIN))
            return clm_fail(CLM_ERR_PERMISSION, "id: approving needs the approver or admin role");
        if (requester)
            return clm_fail(CLM_ERR_PERMISSION,
                            "id: %s is the requester of %s and cannot approve it (four eyes)",
                            who->identity, o->id);
        for (size_t i = 0; i < o->n_approvals; i++)
            if (strcmp(o->approvals[i]->identity, who->identity) == 0)
                return clm_fail(CLM_ERR_PERMISSION,
                                "id: %s approved level %u of %s already; one identity approves "
                                "one level",
                                who->identity, o->approvals[i]->level, o->id);
        return CLM_OK;
    case WO_ACT_REJECT:
        if (!is_role(who, RPC_ROLE_APPROVER, RPC_ROLE_ADMIN))
            return clm_fail(CLM_ERR_PERMISSION, "id: rejecting needs the approver or admin role");
        if (comment == NULL || comment[0] == '\0')
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "comment: required to reject (why)");
        return CLM_OK;
    case WO_ACT_IMPLEMENT:
        if (!is_role(who, RPC_ROLE_OPERATOR, RPC_ROLE_ADMIN))
            return clm_fail(CLM_ERR_PERMISSION,
                            "id: implementing needs the operator or admin role");
        return CLM_OK;
    case WO_ACT_FAIL:
        if (comment == NULL || comment[0] == '\0')
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "comment: a failure needs its reason");
        return CLM_OK;
    default:
        return CLM_OK;
    }
}

clm_err workorder_step(Clm__V1__WorkOrder *o, workorder_action action, const workorder_actor *who,
                       const char *comment, int64_t now_ns, int64_t at_ns, clm_arena *arena)
{
    workorder_state state;
    clm_err err;

    if (action < 0 || action >= WO_ACT_MAX)
        return clm_fail(CLM_ERR_INTERNAL, "work order action %d", (int)action);
    if (workorder_state_parse(o->state, "state", &state) != CLM_OK)
        return clm_fail(CLM_ERR_STORE, "%s: stored state '%.32s' is unknown", o->id, o->state);
    if (!(allowed_from[action] & FROM(state)))
        return clm_fail(CLM_ERR_CONFLICT, "state: %s is %s%s; it cannot %s from there", o->id,
                        o->state, state == WO_REVIEW ? " (a review level waits)" : "",
                        action_names[action]);
    if ((err = check_actor(o, action, who, comment)) != CLM_OK)
        return err;

    /* Work on a copy of the header fields: nothing changes unless everything succeeds.
       New repeated entries are arena memory the order points to only on success. */
    Clm__V1__WorkOrder w = *o;
    switch (action) {
    case WO_ACT_SUBMIT:
        err = move(&w, WO_SUBMITTED, 0, who, comment, now_ns, arena);
        if (err == CLM_OK && w.levels == 0)
            err = move(&w, WO_APPROVED, 0, who,
                       w.automatic ? "approved: the group approves automatic renewals"
                                   : "approved: the group has no review levels",
                       now_ns, arena);
        else if (err == CLM_OK)
            err = move(&w, WO_REVIEW, 1, who, "", now_ns, arena);
        break;
    case WO_ACT_APPROVE: {
        Clm__V1__Approval *a = clm_arena_alloc(arena, sizeof(*a));
        void **v = grow(arena, (void **)w.approvals, w.n_approvals);
        if (a == NULL || v == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        clm__v1__approval__init(a);
        a->level = w.review_level;
        a->identity = dup(arena, who->identity);
        a->time = convert_timestamp_ns(arena, now_ns);
        a->comment = dup(arena, comment);
        v[w.n_approvals] = a;
        w.approvals = (Clm__V1__Approval **)v;
        w.n_approvals++;
        if (w.review_level >= w.levels)
            err = move(&w, WO_APPROVED, 0, who, comment, now_ns, arena);
        else
            err = move(&w, WO_REVIEW, w.review_level + 1, who, comment, now_ns, arena);
        break;
    }
    case WO_ACT_REJECT:
        err = move(&w, WO_REJECTED, 0, who, comment, now_ns, arena);
        break;
    case WO_ACT_IMPLEMENT:
        w.implement_at = convert_timestamp_ns(arena, at_ns > now_ns ? at_ns : now_ns);
        err = w.implement_at ? move(&w, WO_SCHEDULED, 0, who, comment, now_ns, arena)
                             : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        break;
    case WO_ACT_CANCEL:
        err = move(&w, WO_CANCELLED, 0, who, comment, now_ns, arena);
        break;
    case WO_ACT_START:
        err = move(&w, WO_IMPLEMENTING, 0, who, comment, now_ns, arena);
        break;
    case WO_ACT_COMPLETE:
        err = move(&w, WO_COMPLETED, 0, who, comment, now_ns, arena);
        break;
    case WO_ACT_FAIL:
        w.failure_reason = dup(arena, comment);
        err = move(&w, WO_FAILED, 0, who, comment, now_ns, arena);
        break;
    default:
        break;
    }
    if (err == CLM_OK)
        *o = w;
    return err;
}
