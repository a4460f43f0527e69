/*
 * appliance/renewal/policy.h: when a certificate is due for renewal, and by which action.
 *
 * Pure functions (no store, no clock of their own) for the renewal sweep and for
 * `clmctl cert why`, so that what the sweep does and what an admin is told come from one
 * computation.
 *
 * Where the settings come from (the reference guide, "Enrolling a Server Certificate",
 * CA Details, and "Enabling Auto Renewal"): renew, regenerate and re-enroll toggles, each
 * with days before expiry (1-120), are set on the certificate at enrollment, on its CA
 * connector, and on its certificate group. The certificate's own settings win over the
 * connector's ("User overrides are allowed ..."), unless the group's override is on, in
 * which case the group's settings win ("... unless Group Override is active, in which
 * case the group's configuration takes precedence"). A source counts when it enables at
 * least one action; a certificate whose sources enable nothing is not renewed
 * automatically, and the group is the last fallback when neither the certificate nor the
 * connector enables anything.
 *
 * Which action: of the enabled ones in the winning source, the one whose window opens
 * first (the most days before expiry); on a tie, regenerate before renew before
 * re-enroll (a new key is the safer default).
 *
 * Short-lived certificates (beyond the guide, after cert-manager's renewBefore rule):
 * when the days before expiry reach or exceed the certificate's whole lifetime, which
 * the guide allows ("This value can exceed the certificate's validity in case of
 * short-lived certificates"), the window opens when `lifetime_percent` of the lifetime
 * remains instead (default 33: a 6-day certificate renews 2 days before expiry), so a
 * renewed certificate is never due the moment it is issued.
 *
 * Jitter: renewals of certificates issued together would all fall due at the same
 * second. The due time is moved earlier (never later: that would eat into the safety
 * margin) by a per-certificate amount derived from its SHA-256, up to a tenth of the
 * window and at most `jitter_max_s`: stable from sweep to sweep, so what `cert why`
 * shows is what the sweep does.
 *
 * Thread rules: none (pure).
 */
#ifndef CLM_APPLIANCE_RENEWAL_POLICY_H
#define CLM_APPLIANCE_RENEWAL_POLICY_H

#include "lib/base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Days-before-expiry range of every renewal setting (the guide's). */
#define RENEWAL_DAYS_MIN 1
#define RENEWAL_DAYS_MAX 120
/** Default share of the lifetime left when a short-lived certificate falls due. */
#define RENEWAL_DEFAULT_LIFETIME_PERCENT 33
/** Default most jitter, seconds (6 hours). */
#define RENEWAL_DEFAULT_JITTER_MAX_S (6 * 3600)

/** What a renewal does. Stable names: renewal_action_name(). */
typedef enum renewal_action {
    RENEWAL_NONE = 0,   /* not renewed automatically */
    RENEWAL_RENEW,      /* same key, new certificate */
    RENEWAL_REGENERATE, /* new key, new certificate */
    RENEWAL_REENROLL,   /* the original enrollment repeated */
    RENEWAL_ACTION_MAX
} renewal_action;

/** Where the winning settings came from. Stable names: renewal_source_name(). */
typedef enum renewal_source {
    RENEWAL_FROM_NONE = 0,
    RENEWAL_FROM_CERTIFICATE,
    RENEWAL_FROM_CONNECTOR,
    RENEWAL_FROM_GROUP,
    RENEWAL_SOURCE_MAX
} renewal_source;

/** One toggle with its days before expiry (days is read only when enabled). */
typedef struct renewal_toggle {
    bool enabled;
    uint32_t days;
} renewal_toggle;

/** The three toggles one source sets. */
typedef struct renewal_settings {
    renewal_toggle renew;
    renewal_toggle regenerate;
    renewal_toggle reenroll;
} renewal_settings;

/** Everything the computation reads; pointers borrowed for the call. */
typedef struct renewal_inputs {
    const renewal_settings *certificate; /* MAY: NULL when the certificate sets none */
    const renewal_settings *connector;   /* MAY: NULL when it has no connector */
    const renewal_settings *group;       /* MAY: NULL */
    bool group_override;                 /* the group's settings win */
    int64_t not_before;                  /* MUST: seconds since the epoch */
    int64_t not_after;                   /* MUST: > not_before */
    uint32_t lifetime_percent;           /* MAY: 1-99; 0: 33 */
    int64_t jitter_max_s;                /* MAY: 0: 6 h; negative: no jitter */
    const uint8_t *jitter_key;           /* MAY: the certificate's SHA-256 (>= 8 bytes); NULL: no jitter */
    size_t jitter_key_len;
} renewal_inputs;

/** The answer. */
typedef struct renewal_plan {
    renewal_action action;  /* RENEWAL_NONE: nothing below is meaningful but `why` */
    renewal_source source;
    uint32_t days;          /* the winning toggle's days before expiry */
    bool by_lifetime;       /* the window comes from lifetime_percent (short-lived) */
    int64_t window_opens;   /* not_after minus the renewal lead, seconds */
    int64_t due_at;         /* window_opens moved earlier by the jitter */
    char why[256];          /* one sentence for people ("regenerate 30 days before expiry, from group policy (override on)") */
} renewal_plan;

/**
 * @brief Decide the action and the time (see the top of this file).
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the input (days out of 1-120 on an
 *         enabled toggle, not_after <= not_before, lifetime_percent out of range).
 */
clm_err renewal_plan_compute(const renewal_inputs *in, renewal_plan *out);

/**
 * @brief Wait before retry number `failures` (1 = after the first failure): base
 * doubled per failure, capped; deterministic, so `cert why` can show the next attempt.
 * @param base_s  0: 300 (5 minutes).
 * @param cap_s   0: 86400 (1 day).
 * @return seconds, >= base_s (0 when failures is 0).
 */
int64_t renewal_retry_delay(uint32_t failures, int64_t base_s, int64_t cap_s);

/** @return "none", "renew", "regenerate", "re-enroll"; "unknown" out of range. */
const char *renewal_action_name(renewal_action action);

/** @return "none", "certificate", "connector", "group"; "unknown" out of range. */
const char *renewal_source_name(renewal_source source);

#endif
