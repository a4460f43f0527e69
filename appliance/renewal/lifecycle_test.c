/*
 * appliance/renewal/lifecycle_test.c: the lifecycle's step function (lifecycle.h
 * renewal_status_resolve) through its transitions: monitoring, due, an open order in
 * each of its states, completed, a failure counted once with its backoff, backing off,
 * due again, rate-limited; and the guide's transfer rule.
 */
#include <string.h>

#include "appliance/renewal/lifecycle.h"
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

int main(void)
{
    UNIT_RUN(monitoring_then_due);
    UNIT_RUN(open_orders);
    UNIT_RUN(failure_backoff);
    UNIT_RUN(rate_limited);
    UNIT_RUN(transfer_rule);
    UNIT_RUN(state_names);
    return unit_report();
}
