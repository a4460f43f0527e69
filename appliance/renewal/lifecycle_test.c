/*
 * appliance/renewal/lifecycle_test.c: the lifecycle's step function (lifecycle.h
 * renewal_status_resolve) through its transitions: monitoring, due, an open order in
 * each of its states, completed, a failure counted once with its backoff, backing off,
 * due again, rate-limited; the guide's transfer rule; and the sweep's selection
 * (renewal_select) over a real store: which certificates it acts on and which it leaves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/ca/connectors.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/tables.h"
#include "appliance/renewal/lifecycle.h"
#include "appliance/workorders/workorders.h"
#include "lib/base/buf.h"
#include "tests/unit.h"

#define DAY INT64_C(86400)
#define T0 INT64_C(1800000000)

static renewal_plan due_plan(void)
{
    renewal_settings renew30 = {.renew = {true, 30}};
    renewal_inputs in = {.connector = &renew30, .not_before = T0, .not_after = T0 + 90 * DAY,
                         .jitter_max_s = -1};
    renewal_plan p;
    CHECK_INT_EQ(renewal_plan_compute(&in, &p), CLM_OK);
    CHECK_INT_EQ(p.due_at, T0 + 60 * DAY);
    return p;
}

static const renewal_options opt = {.retry_base_s = 300, .retry_cap_s = 86400};

UNIT_TEST(monitoring_then_due)
{
    renewal_plan p = due_plan();
    renewal_status st;

    renewal_status_resolve(&p, NULL, NULL, NULL, T0 + 59 * DAY, &opt, &st);
    CHECK_STR_EQ(renewal_state_name(st.state), "monitoring");
    CHECK(!st.create);
    CHECK_INT_EQ(st.next_attempt, p.due_at);
    CHECK_STR_CONTAINS(st.next_action, "renew at the first sweep after");

    renewal_status_resolve(&p, NULL, NULL, NULL, T0 + 61 * DAY, &opt, &st);
    CHECK_STR_EQ(renewal_state_name(st.state), "renewal-due");
    CHECK(st.create);

    /* nothing enabled: monitoring, never created */
    renewal_plan none = {0};
    renewal_status_resolve(&none, NULL, NULL, NULL, T0 + 89 * DAY, &opt, &st);
    CHECK_STR_EQ(renewal_state_name(st.state), "monitoring");
    CHECK(!st.create);
    CHECK_STR_CONTAINS(st.next_action, "not renewed automatically");
}

UNIT_TEST(open_orders)
{
    renewal_plan p = due_plan();
    renewal_status st;
    renewal_order_view o = {"WO-000007", "review", "", T0 + 61 * DAY, false};
    static const struct {
        const char *wo_state;
        bool cookie;
        const char *want;
    } rows[] = {
        {"draft", false, "waiting-approval"},    {"submitted", false, "waiting-approval"},
        {"review", false, "waiting-approval"},   {"approved", false, "enrolling"},
        {"scheduled", false, "enrolling"},       {"implementing", false, "enrolling"},
        {"implementing", true, "pending-at-ca"}, {"completed", false, "renewed"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        o.state = rows[i].wo_state;
        o.pending_at_ca = rows[i].cookie;
        renewal_status_resolve(&p, NULL, &o, NULL, T0 + 62 * DAY, &opt, &st);
        CHECK_STR_EQ(renewal_state_name(st.state), rows[i].want);
        CHECK(!st.create); /* never a second order */
    }
    /* a child: renewed, whatever else */
    renewal_status_resolve(&p, NULL, NULL, "ab12", T0 + 62 * DAY, &opt, &st);
    CHECK_STR_EQ(renewal_state_name(st.state), "renewed");
    CHECK(!st.create);
}

UNIT_TEST(failure_backoff)
{
    renewal_plan p = due_plan();
    renewal_status st;
    int64_t failed_at = T0 + 61 * DAY;
    renewal_order_view o = {"WO-000009", "failed", "rejected by the CA: profile", failed_at, false};
    Clm__Store__V1__RenewalStateRecord rec = CLM__STORE__V1__RENEWAL_STATE_RECORD__INIT;

    /* the first look at the failed order counts it, with its time */
    rec.state = "enrolling";
    rec.work_order = "WO-000009";
    renewal_status_resolve(&p, &rec, &o, NULL, failed_at + 10, &opt, &st);
    CHECK(st.count_failure);
    CHECK_INT_EQ(st.failures, 1);
    CHECK_INT_EQ(st.next_attempt, failed_at + 300);
    CHECK_STR_EQ(renewal_state_name(st.state), "failed");
    CHECK_STR_CONTAINS(st.last_failure, "WO-000009 failed: rejected by the CA: profile");
    CHECK_STR_CONTAINS(st.next_action, "backing off after 1 failure");
    CHECK(!st.create);

    /* stored as counted: not counted twice */
    rec.state = "failed";
    rec.failure_counted = true;
    rec.failures = 1;
    rec.next_attempt = failed_at + 300;
    rec.last_failure = "WO-000009 failed: rejected by the CA: profile";
    renewal_status_resolve(&p, &rec, &o, NULL, failed_at + 20, &opt, &st);
    CHECK(!st.count_failure);
    CHECK_INT_EQ(st.failures, 1);
    CHECK_STR_EQ(renewal_state_name(st.state), "failed");
    CHECK(!st.create);

    /* after the delay: due again, the failure still shown */
    renewal_status_resolve(&p, &rec, &o, NULL, failed_at + 301, &opt, &st);
    CHECK(st.create);
    CHECK_STR_EQ(renewal_state_name(st.state), "renewal-due");
    CHECK_STR_CONTAINS(st.last_failure, "rejected by the CA");

    /* the next failure doubles the wait; a rejection by approvers counts too */
    rec.work_order = "WO-000010";
    renewal_order_view o2 = {"WO-000010", "rejected", "", failed_at + 400, false};
    rec.failure_counted = false;
    renewal_status_resolve(&p, &rec, &o2, NULL, failed_at + 401, &opt, &st);
    CHECK_INT_EQ(st.failures, 2);
    CHECK_INT_EQ(st.next_attempt, failed_at + 400 + 600);
    CHECK_STR_CONTAINS(st.last_failure, "WO-000010 was rejected");

    /* bounded: the cap */
    rec.failures = 30;
    renewal_status_resolve(&p, &rec, &o2, NULL, failed_at + 401, &opt, &st);
    CHECK_INT_EQ(st.next_attempt, failed_at + 400 + 86400);
}

UNIT_TEST(rate_limited)
{
    renewal_plan p = due_plan();
    renewal_status st;
    Clm__Store__V1__RenewalStateRecord rec = CLM__STORE__V1__RENEWAL_STATE_RECORD__INIT;

    rec.state = "rate-limited";
    renewal_status_resolve(&p, &rec, NULL, NULL, T0 + 61 * DAY, &opt, &st);
    CHECK_STR_EQ(renewal_state_name(st.state), "rate-limited");
    CHECK(st.create);
    CHECK_STR_CONTAINS(st.next_action, "limit per sweep");
}

UNIT_TEST(transfer_rule)
{
    clm_arena arena = CLM_ARENA_INIT;
    Clm__Store__V1__CertificateRecord parent = CLM__STORE__V1__CERTIFICATE_RECORD__INIT;
    Clm__Store__V1__CertificateRecord child = CLM__STORE__V1__CERTIFICATE_RECORD__INIT;
    Clm__V1__RenewalSetting renew = CLM__V1__RENEWAL_SETTING__INIT;
    Clm__V1__RenewalSetting regen_off = CLM__V1__RENEWAL_SETTING__INIT;

    renew.enabled = true;
    renew.days_before_expiry = 20;
    regen_off.enabled = false;
    regen_off.days_before_expiry = 40;
    parent.auto_renew = &renew;
    parent.auto_regenerate = &regen_off;
    parent.connector = "lca";
    child.connector = "";
    CHECK_INT_EQ(renewal_transfer_settings(&arena, &parent, &child), CLM_OK);
    /* enabled: moved (on for the child, off for the parent, days kept) */
    CHECK(child.auto_renew != NULL && child.auto_renew->enabled);
    CHECK_INT_EQ(child.auto_renew->days_before_expiry, 20);
    CHECK(parent.auto_renew != NULL && !parent.auto_renew->enabled);
    CHECK(renew.enabled); /* the caller's message is not changed in place */
    /* disabled: not transferred, the parent keeps it */
    CHECK(child.auto_regenerate == NULL);
    CHECK(parent.auto_regenerate == &regen_off);
    CHECK(child.re_enroll == NULL);
    CHECK_STR_EQ(child.connector, "lca");
    clm_arena_free(&arena);
}

UNIT_TEST(state_names)
{
    for (int i = 0; i < RENEWAL_STATE_MAX; i++)
        CHECK_INT_EQ(renewal_state_parse(renewal_state_name((renewal_state)i)), i);
    CHECK_STR_EQ(renewal_state_name(RENEWAL_STATE_MAX), "unknown");
    CHECK_INT_EQ(renewal_state_parse("bogus"), RENEWAL_STATE_MONITORING);
}

/* ---- the selection, over a real store ---- */

static store *st;
#define NOW (T0 + 100 * DAY)

typedef struct cert_spec {
    uint64_t id;
    int status;
    int64_t lifetime_days, left_days;
    uint64_t group_id, child_id;
    const char *connector;
    int64_t extra_s; /* added to the time left */
} cert_spec;

static clm_err put_cert(store_txn *txn, void *arg)
{
    const cert_spec *c = arg;
    Clm__Store__V1__CertificateRecord r = CLM__STORE__V1__CERTIFICATE_RECORD__INIT;
    uint8_t sha[32];
    unsigned char key[8];

    memset(sha, 0, sizeof(sha));
    sha[0] = (uint8_t)c->id; /* small jitter keys; distinct fingerprints */
    sha[31] = (uint8_t)c->id;
    r.id = c->id;
    r.sha256.data = sha;
    r.sha256.len = 32;
    r.common_name = "x.test";
    r.status = c->status;
    r.not_after = NOW + c->left_days * DAY + c->extra_s;
    r.not_before = r.not_after - c->lifetime_days * DAY;
    r.group_id = c->group_id;
    r.child_id = c->child_id;
    r.connector = (char *)c->connector;
    inventory_id_key(r.id, key);
    return store_put(txn, &inventory_certificates, key, 8, &r.base, 0);
}

static clm_err put_fixtures(store_txn *txn, void *arg)
{
    Clm__Store__V1__ConnectorRecord conn = CLM__STORE__V1__CONNECTOR_RECORD__INIT;
    Clm__V1__Group g = CLM__V1__GROUP__INIT;
    Clm__V1__GroupPolicy policy = CLM__V1__GROUP_POLICY__INIT;
    Clm__V1__RenewalSetting regen = CLM__V1__RENEWAL_SETTING__INIT;
    Clm__Store__V1__GroupRecord *created;
    clm_arena arena = CLM_ARENA_INIT;
    unsigned char key[8];
    clm_err err;

    (void)arg;
    if ((err = group_ensure_default(txn, 0)) != CLM_OK)
        return err;
    /* the connector renews 30 days before expiry */
    conn.id = 1;
    conn.name = "lca";
    conn.type = "local";
    conn.auto_renew = true;
    conn.auto_renew_days = 30;
    clm_put_be64(key, 1);
    if ((err = store_put(txn, &connector_table, key, 8, &conn.base, 0)) != CLM_OK)
        return err;
    /* group "other" (id 2): regenerate 60 days before expiry, override on */
    regen.enabled = true;
    regen.days_before_expiry = 60;
    policy.auto_regenerate = &regen;
    policy.group_override = true;
    g.name = "other";
    g.policy = &policy;
    err = group_create(txn, &arena, &g, 0, &created);
    clm_arena_free(&arena);
    return err;
}

typedef struct seen {
    uint64_t ids[32];
    renewal_candidate c[32];
    size_t n;
} seen;

static clm_err collect(void *arg, const renewal_candidate *c)
{
    seen *s = arg;

    if (s->n < 32) {
        s->c[s->n] = *c;
        s->c[s->n].rec = NULL;
        s->ids[s->n++] = c->id;
    }
    return CLM_OK;
}

typedef struct select_arg {
    uint64_t group_id;
    seen *out;
} select_arg;

static clm_err select_txn(store_txn *txn, void *arg)
{
    select_arg *a = arg;
    renewal_select_ops ops = {collect, NULL, a->out};

    a->out->n = 0;
    return renewal_select(txn, NOW, a->group_id, &opt, &ops, NULL);
}

static const renewal_candidate *find(const seen *s, uint64_t id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->ids[i] == id)
            return &s->c[i];
    return NULL;
}

typedef struct wo_spec {
    uint64_t id;
    const char *state, *target;
} wo_spec;

static clm_err put_order(store_txn *txn, void *arg)
{
    const wo_spec *w = arg;
    Clm__Store__V1__WorkOrderRecord r = CLM__STORE__V1__WORK_ORDER_RECORD__INIT;
    Clm__V1__WorkOrder o = CLM__V1__WORK_ORDER__INIT;
    char id[32];
    unsigned char key[8];

    snprintf(id, sizeof(id), "WO-%06llu", (unsigned long long)w->id);
    o.id = id;
    o.kind = "renew";
    o.state = (char *)w->state;
    o.target_sha256 = (char *)w->target;
    r.id = w->id;
    r.order = &o;
    clm_put_be64(key, w->id);
    return store_put(txn, &workorder_table, key, 8, &r.base, 0);
}

static clm_err put_state(store_txn *txn, void *arg)
{
    return renewal_state_put(txn, arg);
}

static clm_err delete_state(store_txn *txn, void *arg)
{
    (void)arg;
    return renewal_state_delete(txn, 6);
}

static clm_err get_state(store_txn *txn, void *arg)
{
    clm_arena arena = CLM_ARENA_INIT;
    Clm__Store__V1__RenewalStateRecord *r;
    clm_err err = renewal_state_get(txn, &arena, 6, &r);

    (void)arg;
    clm_arena_free(&arena);
    return err;
}

static void sha_of(uint64_t id, char out[65])
{
    uint8_t sha[32];

    memset(sha, 0, sizeof(sha));
    sha[0] = (uint8_t)id;
    sha[31] = (uint8_t)id;
    clm_hex_encode(out, sha, 32);
}

UNIT_TEST(selection)
{
    static const store_table *const tables[] = {&inventory_certificates, &inventory_groups,
                                                &connector_table, &workorder_table,
                                                &renewal_lifecycle_table};
    char dir[] = "/tmp/clm-lifecycle-test-XXXXXX";
    enum { MANAGED = 1, MONITORED = 2 };
    const cert_spec certs[] = {
        {1, MANAGED, 90, 10, 0, 0, "lca", 0},    /* due by the connector's 30 days */
        {2, MANAGED, 90, 40, 0, 0, "lca", 0},    /* not yet */
        {3, MONITORED, 90, 10, 0, 0, "lca", 0},  /* not managed */
        {4, MANAGED, 90, 10, 0, 99, "lca", 0},   /* already renewed */
        {5, MANAGED, 90, -1, 0, 0, "lca", 0},    /* expired: left to people */
        {6, MANAGED, 90, 10, 0, 0, "lca", 0},    /* an open order exists */
        {7, MANAGED, 90, 50, 2, 0, "lca", 0},    /* group override: regenerate at 60 days */
        {8, MANAGED, 90, 10, 0, 0, "lca", 0},    /* failed, backing off */
        {9, MANAGED, 90, 10, 0, 0, "lca", 0},    /* rate-limited last time */
        {10, MANAGED, 90, 10, 0, 0, NULL, 0},    /* no connector, no settings: monitoring */
        {11, MANAGED, 1, 0, 0, 0, "lca", 3600}, /* short-lived (1 day, 30 >= lifetime): 1 h left < 33% */
        {12, MANAGED, 1, 0, 0, 0, "lca", 43200}, /* short-lived, 12 h left > 33%: not yet */
    };
    seen s;
    select_arg a = {0, &s};
    char sha6[65];
    Clm__Store__V1__RenewalStateRecord r8 = CLM__STORE__V1__RENEWAL_STATE_RECORD__INIT;
    Clm__Store__V1__RenewalStateRecord r9 = CLM__STORE__V1__RENEWAL_STATE_RECORD__INIT;
    const renewal_candidate *c;

    if (mkdtemp(dir) == NULL || store_open(dir, NULL, tables, 5, &st) != CLM_OK) {
        CHECK(0);
        return;
    }
    CHECK_INT_EQ(store_update(st, put_fixtures, NULL), CLM_OK);
    for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
        CHECK_INT_EQ(store_update(st, put_cert, (void *)&certs[i]), CLM_OK);
    sha_of(6, sha6);
    wo_spec w = {1, "review", sha6};
    CHECK_INT_EQ(store_update(st, put_order, &w), CLM_OK);
    r8.certificate_id = 8;
    r8.state = "failed";
    r8.failures = 2;
    r8.failure_counted = true;
    r8.next_attempt = NOW + 600;
    r8.last_failure = "WO-000002 failed: rejected by the CA";
    CHECK_INT_EQ(store_update(st, put_state, &r8), CLM_OK);
    r9.certificate_id = 9;
    r9.state = "rate-limited";
    CHECK_INT_EQ(store_update(st, put_state, &r9), CLM_OK);

    CHECK_INT_EQ(store_view(st, select_txn, &a), CLM_OK);
    c = find(&s, 1);
    CHECK(c != NULL && c->status.create && c->action == RENEWAL_RENEW);
    CHECK(c != NULL && strcmp(c->connector, "lca") == 0);
    CHECK(find(&s, 2) == NULL);
    CHECK(find(&s, 3) == NULL);
    CHECK(find(&s, 4) == NULL);
    CHECK(find(&s, 5) == NULL);
    CHECK(find(&s, 6) == NULL); /* never a second order */
    c = find(&s, 7);
    CHECK(c != NULL && c->status.create && c->action == RENEWAL_REGENERATE);
    CHECK(find(&s, 8) == NULL); /* backing off, state unchanged: nothing to write */
    c = find(&s, 9);
    CHECK(c != NULL && c->status.create && c->status.state == RENEWAL_STATE_RATE_LIMITED);
    CHECK(find(&s, 10) == NULL);
    c = find(&s, 11);
    CHECK(c != NULL && c->status.create);
    CHECK(find(&s, 12) == NULL);
    CHECK_INT_EQ(s.n, 4);

    /* the group filter */
    a.group_id = 2;
    CHECK_INT_EQ(store_view(st, select_txn, &a), CLM_OK);
    CHECK_INT_EQ(s.n, 1);
    CHECK(find(&s, 7) != NULL);

    /* the open order of 6 (a person's) failed: the sweep makes its own now */
    a.group_id = 0;
    w.state = "failed";
    CHECK_INT_EQ(store_update(st, put_order, &w), CLM_OK);
    CHECK_INT_EQ(store_view(st, select_txn, &a), CLM_OK);
    c = find(&s, 6);
    CHECK(c != NULL && c->status.create);

    /* the sweep's record names that order: its failure counts once, then it backs off */
    Clm__Store__V1__RenewalStateRecord r6 = CLM__STORE__V1__RENEWAL_STATE_RECORD__INIT;
    r6.certificate_id = 6;
    r6.state = "waiting-approval";
    r6.work_order = "WO-000001";
    CHECK_INT_EQ(store_update(st, put_state, &r6), CLM_OK);
    CHECK_INT_EQ(store_view(st, select_txn, &a), CLM_OK);
    c = find(&s, 6);
    CHECK(c != NULL && c->status.count_failure && !c->status.create);
    CHECK(c != NULL && c->status.state == RENEWAL_STATE_FAILED && c->status.failures == 1);

    /* a deleted certificate's record goes with it (twice: no error) */
    CHECK_INT_EQ(store_update(st, delete_state, NULL), CLM_OK);
    CHECK_INT_EQ(store_view(st, get_state, NULL), CLM_ERR_NOT_FOUND);
    CHECK_INT_EQ(store_update(st, delete_state, NULL), CLM_OK);
    store_close(st);
}

int main(void)
{
    UNIT_RUN(monitoring_then_due);
    UNIT_RUN(open_orders);
    UNIT_RUN(failure_backoff);
    UNIT_RUN(rate_limited);
    UNIT_RUN(transfer_rule);
    UNIT_RUN(state_names);
    UNIT_RUN(selection);
    return unit_report();
}
