/*
 * scheduler/tz_internal.h: the zone structure shared by tz.c (TZif) and tz_rule.c (the
 * POSIX TZ footer). For scheduler/ only.
 */
#ifndef CLM_SCHEDULER_TZ_INTERNAL_H
#define CLM_SCHEDULER_TZ_INTERNAL_H

#include "scheduler/tz.h"

/** Largest |UT offset| accepted, exclusive: 26 hours. */
#define TZ_UTOFF_LIMIT (26 * 3600)

/** Longest abbreviation kept from a TZ string ("<-0330>" is 5). */
#define TZ_ABBR_MAX 16

/** One date of a POSIX TZ rule: "Jn", "n" or "Mm.w.d", plus the local time of day. */
typedef enum tz_rule_date_kind {
    TZ_RULE_JULIAN = 0, /* Jn: 1..365, February 29 never counted */
    TZ_RULE_ZERO_BASED, /* n: 0..365, February 29 counted */
    TZ_RULE_MONTH_WEEK, /* Mm.w.d: day d (0 = Sunday) of week w (5 = last) of month m */
} tz_rule_date_kind;

typedef struct tz_rule_date {
    tz_rule_date_kind kind;
    int n; /* JULIAN, ZERO_BASED */
    int month, week, weekday;
    int32_t time; /* seconds after local midnight, -167h..167h */
} tz_rule_date;

/** A parsed POSIX TZ string. */
typedef struct tz_rule {
    int32_t std_utoff; /* seconds east of UTC (the POSIX sign inverted) */
    int32_t dst_utoff;
    bool has_dst;
    char std_abbr[TZ_ABBR_MAX];
    char dst_abbr[TZ_ABBR_MAX];
    tz_rule_date start, end; /* DST starts (in standard time), ends (in DST) */
} tz_rule;

typedef struct tz_type {
    int32_t utoff;
    bool is_dst;
    uint8_t abbr; /* index into tz_zone.abbrs */
} tz_type;

struct tz_zone {
    char *name;
    size_t n_times;      /* transitions */
    int64_t *times;      /* strictly ascending */
    uint8_t *time_types; /* type index of each transition */
    size_t n_types;      /* 1..256 */
    tz_type *types;
    char *abbrs; /* NUL-separated, NUL-terminated */
    size_t abbrs_len;
    bool has_rule; /* a non-empty footer */
    tz_rule rule;
};

/**
 * @brief Parse a POSIX TZ string (the TZif footer) of `len` bytes.
 * @return CLM_OK, or CLM_ERR_PARSE with the position of the problem.
 */
clm_err tz_rule_parse(const char *text, size_t len, tz_rule *rule);

/** The offset, DST flag and abbreviation the rule gives at `utc`. */
void tz_rule_lookup(const tz_rule *rule, int64_t utc, tz_info *info);

/** The first offset change the rule makes strictly after `after`; false if none. */
bool tz_rule_next(const tz_rule *rule, int64_t after, tz_transition *out);

static inline int64_t tz_clamp(int64_t t)
{
    return t > TZ_TIME_LIMIT ? TZ_TIME_LIMIT : t < -TZ_TIME_LIMIT ? -TZ_TIME_LIMIT : t;
}

#endif
