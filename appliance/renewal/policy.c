/*
 * appliance/renewal/policy.c: see policy.h.
 */
#include "appliance/renewal/policy.h"

#include <stdio.h>

#define SECONDS_PER_DAY INT64_C(86400)

static bool enables_any(const renewal_settings *s)
{
    return s != NULL && (s->renew.enabled || s->regenerate.enabled || s->reenroll.enabled);
}

static clm_err check_toggle(const renewal_toggle *t, const char *source, const char *name)
{
    if (t->enabled && (t->days < RENEWAL_DAYS_MIN || t->days > RENEWAL_DAYS_MAX))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.%s.days_before_expiry: %u is outside %d-%d",
                        source, name, t->days, RENEWAL_DAYS_MIN, RENEWAL_DAYS_MAX);
    return CLM_OK;
}

static clm_err check_settings(const renewal_settings *s, const char *source)
{
    clm_err err;
    if (s == NULL)
        return CLM_OK;
    if ((err = check_toggle(&s->renew, source, "auto_renew")) != CLM_OK ||
        (err = check_toggle(&s->regenerate, source, "auto_regenerate")) != CLM_OK ||
        (err = check_toggle(&s->reenroll, source, "re_enroll")) != CLM_OK)
        return err;
    return CLM_OK;
}

/* The source whose settings decide (policy.h "Where the settings come from"). */
static renewal_source pick_source(const renewal_inputs *in, const renewal_settings **out)
{
    if (in->group_override && enables_any(in->group)) {
        *out = in->group;
        return RENEWAL_FROM_GROUP;
    }
    if (enables_any(in->certificate)) {
        *out = in->certificate;
        return RENEWAL_FROM_CERTIFICATE;
    }
    if (enables_any(in->connector)) {
        *out = in->connector;
        return RENEWAL_FROM_CONNECTOR;
    }
    if (enables_any(in->group)) {
        *out = in->group;
        return RENEWAL_FROM_GROUP;
    }
    *out = NULL;
    return RENEWAL_FROM_NONE;
}

/* The enabled toggle that opens first; ties in the order regenerate, renew, re-enroll. */
static renewal_action pick_action(const renewal_settings *s, uint32_t *days)
{
    const struct {
        const renewal_toggle *toggle;
        renewal_action action;
    } order[] = {
        {&s->regenerate, RENEWAL_REGENERATE},
        {&s->renew, RENEWAL_RENEW},
        {&s->reenroll, RENEWAL_REENROLL},
    };
    renewal_action best = RENEWAL_NONE;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (order[i].toggle->enabled && (best == RENEWAL_NONE || order[i].toggle->days > *days)) {
            best = order[i].action;
            *days = order[i].toggle->days;
        }
    }
    return best;
}

/* Up to a tenth of the lead and at most jitter_max, from the key's first 8 bytes (the
 * key is a SHA-256: already uniform). */
static int64_t jitter_of(const renewal_inputs *in, int64_t lead)
{
    int64_t max = in->jitter_max_s == 0 ? RENEWAL_DEFAULT_JITTER_MAX_S : in->jitter_max_s;
    if (max <= 0 || in->jitter_key == NULL || in->jitter_key_len < 8)
        return 0;
    if (max > lead / 10)
        max = lead / 10;
    if (max <= 0)
        return 0;
    uint64_t k = 0;
    for (size_t i = 0; i < 8; i++)
        k = k << 8 | in->jitter_key[i];
    return (int64_t)(k % (uint64_t)(max + 1));
}

clm_err renewal_plan_compute(const renewal_inputs *in, renewal_plan *out)
{
    clm_err err;
    if (in == NULL || out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "renewal_plan_compute: NULL argument");
    *out = (renewal_plan){0};
    if (in->not_after <= in->not_before)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "not_after: not after not_before");
    if (in->lifetime_percent > 99)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "lifetime_percent: %u is outside 1-99",
                        in->lifetime_percent);
    if ((err = check_settings(in->certificate, "certificate")) != CLM_OK ||
        (err = check_settings(in->connector, "connector")) != CLM_OK ||
        (err = check_settings(in->group, "group")) != CLM_OK)
        return err;

    const renewal_settings *settings;
    out->source = pick_source(in, &settings);
    if (settings == NULL) {
        snprintf(out->why, sizeof(out->why),
                 "not renewed automatically: neither the certificate, its connector nor "
                 "its group enables renew, regenerate or re-enroll");
        return CLM_OK;
    }
    out->action = pick_action(settings, &out->days);

    int64_t lifetime = in->not_after - in->not_before;
    int64_t lead = (int64_t)out->days * SECONDS_PER_DAY;
    if (lead >= lifetime) {
        uint32_t percent = in->lifetime_percent ? in->lifetime_percent
                                                : RENEWAL_DEFAULT_LIFETIME_PERCENT;
        lead = lifetime * percent / 100;
        out->by_lifetime = true;
    }
    out->window_opens = in->not_after - lead;
    out->due_at = out->window_opens - jitter_of(in, lead);

    const char *from = renewal_source_name(out->source);
    const char *override = out->source == RENEWAL_FROM_GROUP && in->group_override
                               ? " (group override on)" : "";
    if (out->by_lifetime)
        snprintf(out->why, sizeof(out->why),
                 "%s when %u%% of the lifetime remains (%u days before expiry is not shorter "
                 "than the certificate's lifetime), from the %s settings%s",
                 renewal_action_name(out->action),
                 in->lifetime_percent ? in->lifetime_percent : RENEWAL_DEFAULT_LIFETIME_PERCENT,
                 out->days, from, override);
    else
        snprintf(out->why, sizeof(out->why), "%s %u days before expiry, from the %s settings%s",
                 renewal_action_name(out->action), out->days, from, override);
    return CLM_OK;
}

int64_t renewal_retry_delay(uint32_t failures, int64_t base_s, int64_t cap_s)
{
    if (failures == 0)
        return 0;
    if (base_s <= 0)
        base_s = 300;
    if (cap_s <= 0)
        cap_s = SECONDS_PER_DAY;
    if (cap_s < base_s)
        cap_s = base_s;
    int64_t delay = base_s;
    for (uint32_t i = 1; i < failures && delay < cap_s; i++)
        delay = delay > cap_s / 2 ? cap_s : delay * 2;
    return delay < cap_s ? delay : cap_s;
}

const char *renewal_action_name(renewal_action action)
{
    static const char *const names[RENEWAL_ACTION_MAX] = {"none", "renew", "regenerate",
                                                          "re-enroll"};
    return (unsigned)action < RENEWAL_ACTION_MAX ? names[action] : "unknown";
}

const char *renewal_source_name(renewal_source source)
{
    static const char *const names[RENEWAL_SOURCE_MAX] = {"none", "certificate", "connector",
                                                          "group"};
    return (unsigned)source < RENEWAL_SOURCE_MAX ? names[source] : "unknown";
}
