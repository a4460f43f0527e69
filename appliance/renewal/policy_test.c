/*
 * appliance/renewal/policy_test.c: the renewal decision table (policy.h): which source
 * wins, which action, the window for long- and short-lived certificates, the jitter's
 * bounds and stability, bad input, the retry backoff.
 */
#include "appliance/renewal/policy.h"
#include "tests/unit.h"

#define DAY INT64_C(86400)
#define T0 INT64_C(1800000000) /* 2027-01-15 */

static const renewal_settings renew30 = {.renew = {true, 30}};
static const renewal_settings regen10 = {.regenerate = {true, 10}};
static const renewal_settings reenroll45 = {.reenroll = {true, 45}};
static const renewal_settings nothing = {0};

static renewal_plan plan_of(const renewal_inputs *in)
{
    renewal_plan p;
    CHECK_INT_EQ(renewal_plan_compute(in, &p), CLM_OK);
    return p;
}

UNIT_TEST(source_precedence)
{
    renewal_inputs in = {.not_before = T0, .not_after = T0 + 365 * DAY, .jitter_max_s = -1};
    renewal_plan p = plan_of(&in);
    CHECK_INT_EQ(p.action, RENEWAL_NONE);
    CHECK_STR_CONTAINS(p.why, "not renewed automatically");

    /* the connector alone */
    in.connector = &renew30;
    p = plan_of(&in);
    CHECK_INT_EQ(p.source, RENEWAL_FROM_CONNECTOR);
    CHECK_INT_EQ(p.action, RENEWAL_RENEW);
    CHECK_INT_EQ(p.window_opens, T0 + 335 * DAY);

    /* the certificate's own settings win over the connector's */
    in.certificate = &regen10;
    p = plan_of(&in);
    CHECK_INT_EQ(p.source, RENEWAL_FROM_CERTIFICATE);
    CHECK_INT_EQ(p.action, RENEWAL_REGENERATE);
    CHECK_INT_EQ(p.days, 10);

    /* a group without override is only the last fallback */
    in.group = &reenroll45;
    p = plan_of(&in);
    CHECK_INT_EQ(p.source, RENEWAL_FROM_CERTIFICATE);
    in.certificate = &nothing;
    in.connector = NULL;
    p = plan_of(&in);
    CHECK_INT_EQ(p.source, RENEWAL_FROM_GROUP);
    CHECK_INT_EQ(p.action, RENEWAL_REENROLL);

    /* the override makes the group win over both */
    in.certificate = &regen10;
    in.connector = &renew30;
    in.group_override = true;
    p = plan_of(&in);
    CHECK_INT_EQ(p.source, RENEWAL_FROM_GROUP);
    CHECK_INT_EQ(p.action, RENEWAL_REENROLL);
    CHECK_INT_EQ(p.days, 45);
    CHECK_STR_CONTAINS(p.why, "group override on");

    /* an override on a group that enables nothing does not switch renewal off */
    in.group = &nothing;
    p = plan_of(&in);
    CHECK_INT_EQ(p.source, RENEWAL_FROM_CERTIFICATE);
}

UNIT_TEST(action_choice)
{
    renewal_settings s = {.renew = {true, 20}, .regenerate = {true, 20}, .reenroll = {true, 20}};
    renewal_inputs in = {.certificate = &s, .not_before = T0, .not_after = T0 + 200 * DAY,
                         .jitter_max_s = -1};
    CHECK_INT_EQ(plan_of(&in).action, RENEWAL_REGENERATE); /* tie: regenerate first */
    s.regenerate.enabled = false;
    CHECK_INT_EQ(plan_of(&in).action, RENEWAL_RENEW); /* then renew */
    s.reenroll.days = 21;
    CHECK_INT_EQ(plan_of(&in).action, RENEWAL_REENROLL); /* the earliest window wins */
    CHECK_INT_EQ(plan_of(&in).window_opens, T0 + 179 * DAY);
}

UNIT_TEST(short_lived)
{
    /* Let's Encrypt's 6-day certificate under a 30-day setting: 33% of 6 days remain */
    renewal_inputs in = {.connector = &renew30, .not_before = T0, .not_after = T0 + 6 * DAY,
                         .jitter_max_s = -1};
    renewal_plan p = plan_of(&in);
    CHECK(p.by_lifetime);
    CHECK_INT_EQ(p.window_opens, T0 + 6 * DAY - 6 * DAY * 33 / 100);
    CHECK_STR_CONTAINS(p.why, "33% of the lifetime");
    in.lifetime_percent = 50;
    CHECK_INT_EQ(plan_of(&in).window_opens, T0 + 3 * DAY);

    /* exactly the lifetime counts as short-lived; one day less does not */
    in.not_after = T0 + 30 * DAY;
    CHECK(plan_of(&in).by_lifetime);
    in.not_after = T0 + 31 * DAY;
    p = plan_of(&in);
    CHECK(!p.by_lifetime);
    CHECK_INT_EQ(p.window_opens, T0 + DAY);
}

UNIT_TEST(jitter)
{
    uint8_t key_a[32], key_b[32];
    for (int i = 0; i < 32; i++) {
        key_a[i] = (uint8_t)(i * 37 + 1);
        key_b[i] = (uint8_t)(255 - i * 11);
    }
    renewal_inputs in = {.connector = &renew30, .not_before = T0, .not_after = T0 + 365 * DAY,
                         .jitter_key = key_a, .jitter_key_len = sizeof(key_a)};
    renewal_plan a = plan_of(&in), again = plan_of(&in);
    CHECK_INT_EQ(a.due_at, again.due_at); /* stable from sweep to sweep */
    CHECK(a.due_at <= a.window_opens); /* only ever earlier */
    CHECK(a.window_opens - a.due_at <= RENEWAL_DEFAULT_JITTER_MAX_S);
    in.jitter_key = key_b;
    renewal_plan b = plan_of(&in);
    CHECK(a.due_at != b.due_at); /* spread out */

    /* at most a tenth of the lead: a 2-day lead gets <= 4.8 h */
    in.not_after = T0 + 6 * DAY;
    in.jitter_max_s = 30 * DAY;
    renewal_plan s = plan_of(&in);
    CHECK(s.window_opens - s.due_at <= (6 * DAY * 33 / 100) / 10);

    /* off when asked, or without a key */
    in.jitter_max_s = -1;
    s = plan_of(&in);
    CHECK_INT_EQ(s.due_at, s.window_opens);
    in.jitter_max_s = 0;
    in.jitter_key = NULL;
    s = plan_of(&in);
    CHECK_INT_EQ(s.due_at, s.window_opens);

    /* spread over many certificates: not all on one second, none out of bounds */
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    in.not_after = T0 + 365 * DAY;
    in.jitter_key = key_a;
    for (int i = 0; i < 1000; i++) {
        key_a[0] = (uint8_t)i;
        key_a[1] = (uint8_t)(i >> 8);
        renewal_plan p = plan_of(&in);
        int64_t j = p.window_opens - p.due_at;
        lo = j < lo ? j : lo;
        hi = j > hi ? j : hi;
    }
    CHECK(lo >= 0);
    CHECK(hi <= RENEWAL_DEFAULT_JITTER_MAX_S);
    CHECK(hi - lo > RENEWAL_DEFAULT_JITTER_MAX_S / 2);
}

UNIT_TEST(bad_input)
{
    renewal_plan p;
    renewal_settings bad = {.renew = {true, 121}};
    renewal_inputs in = {.connector = &bad, .not_before = T0, .not_after = T0 + DAY};
    CHECK_INT_EQ(renewal_plan_compute(&in, &p), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "connector.auto_renew.days_before_expiry");
    bad.renew.days = 0;
    CHECK_INT_EQ(renewal_plan_compute(&in, &p), CLM_ERR_INVALID_ARGUMENT);
    bad.renew.enabled = false; /* days of a disabled toggle are not read */
    CHECK_INT_EQ(renewal_plan_compute(&in, &p), CLM_OK);
    in.not_after = T0;
    CHECK_INT_EQ(renewal_plan_compute(&in, &p), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "not_after");
    in.not_after = T0 + DAY;
    in.lifetime_percent = 100;
    CHECK_INT_EQ(renewal_plan_compute(&in, &p), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(renewal_plan_compute(NULL, &p), CLM_ERR_INVALID_ARGUMENT);
}

UNIT_TEST(retry_backoff)
{
    CHECK_INT_EQ(renewal_retry_delay(0, 0, 0), 0);
    CHECK_INT_EQ(renewal_retry_delay(1, 0, 0), 300);
    CHECK_INT_EQ(renewal_retry_delay(2, 0, 0), 600);
    CHECK_INT_EQ(renewal_retry_delay(5, 0, 0), 4800);
    CHECK_INT_EQ(renewal_retry_delay(9, 0, 0), 76800);
    CHECK_INT_EQ(renewal_retry_delay(10, 0, 0), 86400); /* capped */
    CHECK_INT_EQ(renewal_retry_delay(4000000000u, 0, 0), 86400);
    CHECK_INT_EQ(renewal_retry_delay(3, 60, 100), 100);
    CHECK_INT_EQ(renewal_retry_delay(3, 60, 10), 60); /* a cap below the base: the base */
}

UNIT_TEST(names)
{
    CHECK_STR_EQ(renewal_action_name(RENEWAL_REENROLL), "re-enroll");
    CHECK_STR_EQ(renewal_action_name(RENEWAL_ACTION_MAX), "unknown");
    CHECK_STR_EQ(renewal_source_name(RENEWAL_FROM_CONNECTOR), "connector");
    CHECK_STR_EQ(renewal_source_name((renewal_source)-1), "unknown");
}

int main(void)
{
    UNIT_RUN(source_precedence);
    UNIT_RUN(action_choice);
    UNIT_RUN(short_lived);
    UNIT_RUN(jitter);
    UNIT_RUN(bad_input);
    UNIT_RUN(retry_backoff);
    UNIT_RUN(names);
    return unit_report();
}
