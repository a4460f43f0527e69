/* appliance/renewal/lifecycle.c: see lifecycle.h. */
#include "appliance/renewal/lifecycle.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "appliance/api/convert.h"
#include "appliance/ca/connectors.h"
#include "appliance/inventory/certs.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/tables.h"
#include "appliance/workorders/workorders.h"
#include "lib/base/buf.h"

const store_table renewal_lifecycle_table = {
    "renewal_lifecycle", &clm__store__v1__renewal_state_record__descriptor, NULL, 0};

static const char *const state_names[RENEWAL_STATE_MAX] = {
    "monitoring", "renewal-due", "rate-limited", "waiting-approval",
    "enrolling",  "pending-at-ca", "renewed",    "failed"};

const char *renewal_state_name(renewal_state state)
{
    return (unsigned)state < RENEWAL_STATE_MAX ? state_names[state] : "unknown";
}

renewal_state renewal_state_parse(const char *name)
{
    for (int i = 0; name != NULL && i < RENEWAL_STATE_MAX; i++)
        if (strcmp(state_names[i], name) == 0)
            return (renewal_state)i;
    return RENEWAL_STATE_MONITORING;
}

/* ---- the step function ---- */

static void utc(int64_t t, char *out, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, size, "%lld", (long long)t);
}

static bool order_open(const renewal_order_view *o)
{
    return o != NULL && o->state != NULL && !workorder_state_is_final(o->state);
}

void renewal_status_resolve(const renewal_plan *plan, const Clm__Store__V1__RenewalStateRecord *rec,
                            const renewal_order_view *order, const char *child_sha256,
                            int64_t now, const renewal_options *opt, renewal_status *out)
{
    const char *action = renewal_action_name(plan->action);
    char when[32];

    memset(out, 0, sizeof(*out));
    if (rec != NULL) {
        out->failures = rec->failures;
        out->next_attempt = rec->next_attempt;
        snprintf(out->last_failure, sizeof(out->last_failure), "%s", rec->last_failure);
    }
    if (child_sha256 != NULL && child_sha256[0] != '\0') {
        out->state = RENEWAL_STATE_RENEWED;
        out->next_attempt = 0;
        snprintf(out->next_action, sizeof(out->next_action),
                 "none: renewed into %.64s, which carries the renewal on", child_sha256);
        return;
    }
    if (order_open(order)) {
        const char *s = order->state;
        out->next_attempt = 0;
        if (strcmp(s, "draft") == 0 || strcmp(s, "submitted") == 0 || strcmp(s, "review") == 0) {
            out->state = RENEWAL_STATE_WAITING_APPROVAL;
            snprintf(out->next_action, sizeof(out->next_action),
                     "%s waits for its approvers (clmctl wo approve %s)", order->id, order->id);
        } else if (order->pending_at_ca) {
            out->state = RENEWAL_STATE_PENDING_AT_CA;
            snprintf(out->next_action, sizeof(out->next_action),
                     "%s: the CA answered pending; the work-order job polls it", order->id);
        } else {
            out->state = RENEWAL_STATE_ENROLLING;
            snprintf(out->next_action, sizeof(out->next_action), "%s is %s: %s at the CA",
                     order->id, s, action);
        }
        return;
    }
    if (order != NULL && order->state != NULL && strcmp(order->state, "completed") == 0) {
        out->state = RENEWAL_STATE_RENEWED;
        out->next_attempt = 0;
        snprintf(out->next_action, sizeof(out->next_action), "none: %s completed", order->id);
        return;
    }
    if (order != NULL && order->state != NULL && (rec == NULL || !rec->failure_counted)) {
        /* failed, rejected or cancelled, and not counted yet: count it now, at its time */
        out->count_failure = true;
        out->failures++;
        out->failed_at = order->updated_s > 0 ? order->updated_s : now; /* 0: not known */
        out->next_attempt =
            out->failed_at +
            renewal_retry_delay(out->failures, opt ? opt->retry_base_s : 0, opt ? opt->retry_cap_s : 0);
        if (strcmp(order->state, "failed") == 0)
            snprintf(out->last_failure, sizeof(out->last_failure), "%s failed: %s", order->id,
                     order->failure_reason ? order->failure_reason : "");
        else
            snprintf(out->last_failure, sizeof(out->last_failure), "%s was %s", order->id,
                     order->state);
    }
    if (plan->action == RENEWAL_NONE) {
        out->state = RENEWAL_STATE_MONITORING;
        out->next_attempt = 0;
        snprintf(out->next_action, sizeof(out->next_action),
                 "none: not renewed automatically");
        return;
    }
    if (now < plan->due_at) {
        out->state = RENEWAL_STATE_MONITORING;
        utc(plan->due_at, when, sizeof(when));
        snprintf(out->next_action, sizeof(out->next_action), "%s at the first sweep after %s",
                 action, when);
        out->next_attempt = out->next_attempt > plan->due_at ? out->next_attempt : plan->due_at;
        return;
    }
    if (out->failures > 0 && now < out->next_attempt) {
        out->state = RENEWAL_STATE_FAILED;
        utc(out->next_attempt, when, sizeof(when));
        snprintf(out->next_action, sizeof(out->next_action),
                 "%s again at the first sweep after %s (backing off after %u failure%s)", action,
                 when, out->failures, out->failures == 1 ? "" : "s");
        return;
    }
    out->create = true;
    out->state = rec != NULL && renewal_state_parse(rec->state) == RENEWAL_STATE_RATE_LIMITED
                     ? RENEWAL_STATE_RATE_LIMITED : RENEWAL_STATE_DUE;
    snprintf(out->next_action, sizeof(out->next_action), "%s: the next sweep makes the work order%s",
             action, out->state == RENEWAL_STATE_RATE_LIMITED
                         ? " (left by the last one: its connector's limit per sweep was reached)"
                         : "");
}

/* ---- reading the policy's inputs ---- */

const char *renewal_connector_of(const Clm__Store__V1__CertificateRecord *cert)
{
    if (cert->connector != NULL && cert->connector[0] != '\0')
        return cert->connector;
    for (size_t i = 0; i < cert->n_sources; i++)
        if (strcmp(cert->sources[i]->kind, CONNECTOR_SOURCE_KIND) == 0)
            return cert->sources[i]->device;
    return NULL;
}

static renewal_toggle toggle_of(const Clm__V1__RenewalSetting *s)
{
    renewal_toggle t = {false, 0};

    if (s != NULL && s->enabled) {
        t.enabled = true;
        t.days = s->days_before_expiry;
    }
    return t;
}

static renewal_settings settings_of(const Clm__V1__RenewalSetting *renew,
                                    const Clm__V1__RenewalSetting *regenerate,
                                    const Clm__V1__RenewalSetting *reenroll)
{
    renewal_settings s = {toggle_of(renew), toggle_of(regenerate), toggle_of(reenroll)};
    return s;
}

static renewal_settings connector_settings(const Clm__Store__V1__ConnectorRecord *c)
{
    renewal_settings s = {{c->auto_renew, c->auto_renew_days},
                          {c->auto_regenerate, c->auto_regenerate_days},
                          {c->re_enroll, c->re_enroll_days}};
    return s;
}

clm_err renewal_plan_of(store_txn *txn, clm_arena *arena,
                        const Clm__Store__V1__CertificateRecord *cert, const renewal_options *opt,
                        renewal_plan *plan, Clm__Store__V1__GroupRecord **group_out)
{
    renewal_settings own = settings_of(cert->auto_renew, cert->auto_regenerate, cert->re_enroll);
    renewal_settings conn_s, group_s;
    renewal_inputs in = {0};
    Clm__Store__V1__GroupRecord *g = NULL;
    Clm__Store__V1__ConnectorRecord *conn = NULL;
    const char *connector = renewal_connector_of(cert);
    clm_err err;

    err = group_get_by_id(txn, arena, cert->group_id ? cert->group_id : INVENTORY_DEFAULT_GROUP_ID,
                          &g);
    if (err == CLM_ERR_NOT_FOUND) {
        clm_error_clear();
        g = NULL;
    } else if (err != CLM_OK) {
        return err;
    }
    if (connector != NULL) {
        err = connector_find(txn, arena, connector, "connector", &conn);
        if (err == CLM_ERR_NOT_FOUND) {
            clm_error_clear();
            conn = NULL;
        } else if (err != CLM_OK) {
            return err;
        }
    }
    in.certificate = &own;
    if (conn != NULL) {
        conn_s = connector_settings(conn);
        in.connector = &conn_s;
    }
    if (g != NULL && g->policy != NULL) {
        group_s = settings_of(g->policy->auto_renew, g->policy->auto_regenerate,
                              g->policy->re_enroll);
        in.group = &group_s;
        in.group_override = g->policy->group_override;
    }
    in.not_before = cert->not_before;
    in.not_after = cert->not_after;
    in.lifetime_percent = opt ? opt->lifetime_percent : 0;
    in.jitter_max_s = opt ? opt->jitter_max_s : 0;
    in.jitter_key = cert->sha256.data;
    in.jitter_key_len = cert->sha256.len;
    if (group_out != NULL)
        *group_out = g;
    return renewal_plan_compute(&in, plan);
}

/* ---- records ---- */

clm_err renewal_state_get(store_txn *txn, clm_arena *arena, uint64_t certificate_id,
                          Clm__Store__V1__RenewalStateRecord **out)
{
    unsigned char key[8];
    store_item item;
    clm_err err;

    clm_put_be64(key, certificate_id);
    if ((err = store_get(txn, &renewal_lifecycle_table, key, 8, &item)) == CLM_ERR_NOT_FOUND) {
        clm_error_clear();
        return err;
    }
    if (err != CLM_OK)
        return err;
    *out = (void *)inventory_unpack(arena, &renewal_lifecycle_table, &item);
    return *out ? CLM_OK : clm_fail(CLM_ERR_STORE, "renewal_lifecycle: a record does not unpack");
}

clm_err renewal_state_put(store_txn *txn, Clm__Store__V1__RenewalStateRecord *rec)
{
    unsigned char key[8];

    clm_put_be64(key, rec->certificate_id);
    return store_put(txn, &renewal_lifecycle_table, key, 8, &rec->base, 0);
}

clm_err renewal_state_delete(store_txn *txn, uint64_t certificate_id)
{
    unsigned char key[8];
    clm_err err;

    clm_put_be64(key, certificate_id);
    if ((err = store_delete(txn, &renewal_lifecycle_table, key, 8)) == CLM_ERR_NOT_FOUND) {
        clm_error_clear();
        err = CLM_OK;
    }
    return err;
}

static void view_of(const Clm__Store__V1__WorkOrderRecord *r, renewal_order_view *out)
{
    const Clm__V1__WorkOrder *o = r->order;

    out->id = o->id;
    out->state = o->state;
    out->failure_reason = o->failure_reason;
    out->updated_s = o->updated_at ? o->updated_at->seconds : 0;
    out->pending_at_ca = r->cookie != NULL && r->cookie[0] != '\0';
}

clm_err renewal_order_view_get(store_txn *txn, clm_arena *arena, const char *id,
                               renewal_order_view *out)
{
    Clm__Store__V1__WorkOrderRecord *r;
    uint64_t n;
    clm_err err;

    if ((err = workorder_parse_id(id, "work_order", &n)) != CLM_OK ||
        (err = workorder_get(txn, arena, n, &r)) != CLM_OK)
        return err;
    view_of(r, out);
    return CLM_OK;
}

static bool is_renewal_kind(const char *kind)
{
    return strcmp(kind, "renew") == 0 || strcmp(kind, "regenerate") == 0 ||
           strcmp(kind, "re-enroll") == 0;
}

clm_err renewal_open_order_of(store_txn *txn, clm_arena *arena, const char *sha256,
                              renewal_order_view *out)
{
    static const char *const open_states[] = {"draft",    "submitted", "review",
                                              "approved", "scheduled", "implementing"};
    for (size_t s = 0; s < sizeof(open_states) / sizeof(open_states[0]); s++) {
        unsigned char prefix[32];
        size_t len = strlen(open_states[s]) + 1;
        store_iter *it;
        clm_err err;

        memcpy(prefix, open_states[s], len); /* the name and its 0x00 */
        if ((err = store_iter_open(txn, &workorder_table,
                                   &workorder_table.indexes[WORKORDER_INDEX_STATE], 0, &it)) !=
            CLM_OK)
            return err;
        for (err = store_iter_seek(it, prefix, len, NULL, 0); err == CLM_OK;
             err = store_iter_next(it)) {
            const store_item *item = store_iter_item(it);
            Clm__Store__V1__WorkOrderRecord *r;
            if (item->index_key_len < len || memcmp(item->index_key, prefix, len) != 0)
                break;
            r = (void *)inventory_unpack(arena, &workorder_table, item);
            if (r == NULL || r->order == NULL || !is_renewal_kind(r->order->kind) ||
                strcasecmp(r->order->target_sha256, sha256) != 0)
                continue;
            view_of(r, out);
            store_iter_close(it);
            return CLM_OK;
        }
        store_iter_close(it);
        if (err != CLM_OK && err != CLM_ERR_NOT_FOUND)
            return err;
        clm_error_clear();
    }
    return CLM_ERR_NOT_FOUND;
}

/* ---- the sweep's selection ---- */

static clm_err examine(store_txn *txn, clm_arena *scratch, int64_t now, const renewal_options *opt,
                       const renewal_select_ops *ops, const Clm__Store__V1__CertificateRecord *r)
{
    Clm__Store__V1__RenewalStateRecord *rec = NULL;
    renewal_order_view order = {0};
    bool have_order = false;
    renewal_plan plan;
    renewal_candidate c;
    const char *connector;
    clm_err err;

    memset(&c, 0, sizeof(c));
    if (renewal_plan_of(txn, scratch, r, opt, &plan, NULL) != CLM_OK) {
        /* a record the policy refuses (a stored setting out of range, notAfter before
           notBefore): not renewed automatically; cert why names the reason */
        clm_error_clear();
        return CLM_OK;
    }
    if ((err = renewal_state_get(txn, scratch, r->id, &rec)) != CLM_OK) {
        if (err != CLM_ERR_NOT_FOUND)
            return err;
        rec = NULL;
    }
    if (rec == NULL && (plan.action == RENEWAL_NONE || plan.due_at > now))
        return CLM_OK; /* monitoring: nothing to write */
    clm_hex_encode(c.sha256, r->sha256.data, r->sha256.len < 32 ? r->sha256.len : 32);
    if ((err = renewal_open_order_of(txn, scratch, c.sha256, &order)) == CLM_OK) {
        have_order = true;
    } else if (err != CLM_ERR_NOT_FOUND) {
        return err;
    } else if (rec != NULL && rec->work_order[0]) {
        if ((err = renewal_order_view_get(txn, scratch, rec->work_order, &order)) == CLM_OK)
            have_order = true;
        else if (err != CLM_ERR_NOT_FOUND)
            return err;
        clm_error_clear();
    }
    renewal_status_resolve(&plan, rec, have_order ? &order : NULL, NULL, now, opt, &c.status);
    if (!c.status.create && !c.status.count_failure &&
        (rec == NULL || strcmp(rec->state, renewal_state_name(c.status.state)) == 0))
        return CLM_OK;
    c.id = r->id;
    c.action = plan.action;
    connector = renewal_connector_of(r);
    snprintf(c.connector, sizeof(c.connector), "%s", connector ? connector : "");
    c.rec = rec;
    return ops->each(ops->arg, &c);
}

clm_err renewal_select(store_txn *txn, int64_t now, uint64_t group_id, const renewal_options *opt,
                       const renewal_select_ops *ops, uint64_t *examined)
{
    unsigned char start[8], end[8];
    clm_arena scratch = CLM_ARENA_INIT;
    uint64_t n = 0;
    store_iter *it;
    clm_err err;

    inventory_expiry_key(now, start);
    inventory_expiry_key(now + RENEWAL_SCAN_AHEAD_S, end);
    if ((err = store_iter_open(txn, &inventory_certificates, CERT_INDEX(CERT_INDEX_EXPIRY), 0,
                               &it)) != CLM_OK)
        return err;
    for (err = store_iter_seek(it, start, 8, NULL, 0); err == CLM_OK; err = store_iter_next(it)) {
        const store_item *item = store_iter_item(it);
        Clm__Store__V1__CertificateRecord *r;
        if (memcmp(item->index_key, end, 8) > 0)
            break;
        if ((++n & 1023) == 0 && ops->check != NULL && (err = ops->check(ops->arg)) != CLM_OK)
            break;
        clm_arena_reset(&scratch);
        r = (void *)inventory_unpack(&scratch, &inventory_certificates, item);
        if (r == NULL || r->status != CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_MANAGED ||
            r->child_id != 0 || r->not_after <= now)
            continue;
        if (group_id != 0 && (r->group_id ? r->group_id : INVENTORY_DEFAULT_GROUP_ID) != group_id)
            continue;
        if ((err = examine(txn, &scratch, now, opt, ops, r)) != CLM_OK)
            break;
    }
    store_iter_close(it);
    clm_arena_free(&scratch);
    if (examined != NULL)
        *examined = n;
    if (err == CLM_ERR_NOT_FOUND) {
        clm_error_clear();
        err = CLM_OK;
    }
    return err;
}

/* ---- explaining ---- */

clm_err renewal_explain(store_txn *txn, clm_arena *arena,
                        const Clm__Store__V1__CertificateRecord *cert, int64_t now,
                        const renewal_options *opt, Clm__V1__RenewalExplanation *out)
{
    Clm__Store__V1__RenewalStateRecord *rec = NULL;
    Clm__Store__V1__GroupRecord *g = NULL;
    Clm__Store__V1__CertificateRecord *child = NULL;
    renewal_order_view order = {0};
    bool have_order = false;
    renewal_plan plan;
    renewal_status st;
    const char *connector = renewal_connector_of(cert);
    char *child_sha = NULL;
    clm_err err;

    if ((err = renewal_plan_of(txn, arena, cert, opt, &plan, &g)) != CLM_OK)
        return err;
    if ((err = renewal_state_get(txn, arena, cert->id, &rec)) != CLM_OK) {
        if (err != CLM_ERR_NOT_FOUND)
            return err;
        rec = NULL;
    }
    if (cert->child_id != 0 && inventory_cert_get(txn, arena, cert->child_id, &child) == CLM_OK)
        child_sha = convert_hex(arena, child->sha256.data, child->sha256.len);
    clm_error_clear();
    char *sha = convert_hex(arena, cert->sha256.data, cert->sha256.len);
    if (sha == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if ((err = renewal_open_order_of(txn, arena, sha, &order)) == CLM_OK) {
        have_order = true;
    } else if (err != CLM_ERR_NOT_FOUND) {
        return err;
    } else if (rec != NULL && rec->work_order[0] != '\0') {
        if ((err = renewal_order_view_get(txn, arena, rec->work_order, &order)) == CLM_OK)
            have_order = true;
        else if (err != CLM_ERR_NOT_FOUND)
            return err;
        clm_error_clear();
    }
    renewal_status_resolve(&plan, rec, have_order ? &order : NULL, child_sha, now, opt, &st);

    out->sha256 = sha;
    out->action = (char *)renewal_action_name(plan.action);
    out->source = (char *)renewal_source_name(plan.source);
    out->why = clm_arena_strdup(arena, plan.why);
    out->days = plan.days;
    out->by_lifetime = plan.by_lifetime;
    if (plan.action != RENEWAL_NONE) {
        out->window_opens = convert_timestamp_s(arena, plan.window_opens);
        out->due_at = convert_timestamp_s(arena, plan.due_at);
    }
    out->state = (char *)renewal_state_name(st.state);
    out->next_action = clm_arena_strdup(arena, st.next_action);
    if (st.next_attempt > 0)
        out->next_attempt = convert_timestamp_s(arena, st.next_attempt);
    out->last_failure = clm_arena_strdup(arena, st.last_failure);
    out->failures = st.failures;
    if (have_order) {
        out->work_order = (char *)order.id;
        out->work_order_state = (char *)order.state;
    }
    out->connector = (char *)(connector ? connector : "");
    out->rate_limited = st.state == RENEWAL_STATE_RATE_LIMITED;
    out->push = rec != NULL ? rec->push : "";
    out->child_sha256 = child_sha ? child_sha : "";
    out->group = g != NULL ? g->name : "";
    out->group_override = g != NULL && g->policy != NULL && g->policy->group_override;
    if (out->why == NULL || out->next_action == NULL || out->last_failure == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    return CLM_OK;
}

/* ---- completing ---- */

static Clm__V1__RenewalSetting *setting_copy(clm_arena *arena, const Clm__V1__RenewalSetting *s)
{
    Clm__V1__RenewalSetting *c = clm_arena_alloc(arena, sizeof(*c));

    if (c != NULL) {
        clm__v1__renewal_setting__init(c);
        c->enabled = s->enabled;
        c->days_before_expiry = s->days_before_expiry;
    }
    return c;
}

static clm_err transfer_one(clm_arena *arena, Clm__V1__RenewalSetting **parent,
                            Clm__V1__RenewalSetting **child)
{
    Clm__V1__RenewalSetting *off;

    if (*parent == NULL || !(*parent)->enabled)
        return CLM_OK; /* "only where they were enabled" */
    if ((*child = setting_copy(arena, *parent)) == NULL || (off = setting_copy(arena, *parent)) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    off->enabled = false;
    *parent = off;
    return CLM_OK;
}

clm_err renewal_transfer_settings(clm_arena *arena, Clm__Store__V1__CertificateRecord *parent,
                                  Clm__Store__V1__CertificateRecord *child)
{
    clm_err err;

    if ((err = transfer_one(arena, &parent->auto_renew, &child->auto_renew)) != CLM_OK ||
        (err = transfer_one(arena, &parent->auto_regenerate, &child->auto_regenerate)) != CLM_OK ||
        (err = transfer_one(arena, &parent->re_enroll, &child->re_enroll)) != CLM_OK)
        return err;
    if (parent->connector != NULL && parent->connector[0] != '\0' &&
        (child->connector == NULL || child->connector[0] == '\0'))
        child->connector = parent->connector;
    return CLM_OK;
}

clm_err renewal_push_hook(store_txn *txn, clm_arena *arena,
                          const Clm__Store__V1__CertificateRecord *parent,
                          const Clm__Store__V1__CertificateRecord *child,
                          Clm__Store__V1__RenewalStateRecord *rec)
{
    (void)txn;
    (void)arena;
    (void)parent;
    (void)child;
    rec->push = RENEWAL_PUSH_NOT_CONFIGURED;
    return CLM_OK;
}

clm_err renewal_completed(store_txn *txn, clm_arena *arena,
                          Clm__Store__V1__CertificateRecord *parent,
                          Clm__Store__V1__CertificateRecord *child, const Clm__V1__WorkOrder *order,
                          int64_t now_ns)
{
    Clm__Store__V1__RenewalStateRecord *rec = NULL;
    clm_err err;

    if ((err = renewal_transfer_settings(arena, parent, child)) != CLM_OK)
        return err;
    if ((err = renewal_state_get(txn, arena, parent->id, &rec)) == CLM_ERR_NOT_FOUND) {
        if ((rec = clm_arena_alloc(arena, sizeof(*rec))) == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        clm__store__v1__renewal_state_record__init(rec);
        rec->certificate_id = parent->id;
    } else if (err != CLM_OK) {
        return err;
    }
    rec->state = (char *)renewal_state_name(RENEWAL_STATE_RENEWED);
    rec->action = order->kind;
    rec->work_order = order->id;
    rec->connector = order->connector;
    rec->failures = 0;
    rec->failure_counted = false;
    rec->next_attempt = 0;
    rec->updated_at = now_ns;
    if ((err = renewal_push_hook(txn, arena, parent, child, rec)) != CLM_OK)
        return err;
    return renewal_state_put(txn, rec);
}
