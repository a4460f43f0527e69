/*
 * scheduler/cron.h: cron expressions and their fire times in a time zone.
 *
 * Syntax (Vixie cron / cronie, plus seconds and @every):
 *   [second] minute hour day-of-month month day-of-week
 *     5 fields, or 6 with a leading seconds field. Fields are separated by spaces or tabs.
 *     second 0-59, minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC,
 *     day-of-week 0-7 or SUN-SAT (0 and 7 are both Sunday). Names are case-insensitive.
 *   Each field is a list "a,b,c" of elements; an element is "*", a number or name, or a
 *   range "a-b" (a <= b, names allowed: MON-FRI), optionally followed by a step "/n"
 *   (n >= 1): "*\/15", "1-30/2". "a/n" means "a-max/n" (as cronie and most crons).
 *   Shortcuts: @yearly = @annually = "0 0 1 1 *", @monthly = "0 0 1 * *",
 *   @weekly = "0 0 * * 0", @daily = @midnight = "0 0 * * *", @hourly = "0 * * * *".
 *   @every <duration>: a fixed interval, units d h m s in that order, each at most once
 *   ("90s", "15m", "2h", "1h30m", "1d12h"); at least 1s, at most 366d.
 *   Not supported (an error): L W # ? and @reboot.
 *
 * Day-of-month / day-of-week (exactly as Vixie cron and cronie): when either field starts
 * with "*" (that includes "*\/2"), a day must match BOTH fields; when neither does, a day
 * matching EITHER field fires. So "0 0 1,15 * MON" fires on the 1st, the 15th and every
 * Monday; "0 0 * * MON" fires on Mondays; "0 0 *\/2 * MON" fires on odd days that are
 * Mondays (the Vixie quirk, kept for compatibility). An expression that can never fire
 * ("0 0 31 2 *", "0 0 30,31 2,4 *" whose only months lack those days) is refused.
 *
 * Fire times are computed in a time zone on the local wall clock. Daylight saving time
 * (the rules of cronie, which distinguishes "wildcard" jobs, those whose minute or hour
 * field starts with "*", from "fixed-time" jobs):
 *   - Skipped wall times (clocks jump forward, e.g. 02:00 -> 03:00): a fixed-time job
 *     whose time falls in the gap runs ONCE at the first instant after the jump (03:00
 *     local); several of its times in one gap collapse into that one run. A wildcard job
 *     just has no run for the skipped times (its next match after the gap runs).
 *   - Repeated wall times (clocks jump back, e.g. 02:00 -> 01:00, 01:xx happens twice): a
 *     fixed-time job runs once, at the FIRST occurrence. A wildcard job runs in both
 *     occurrences ("*\/15 * * * *" keeps firing every 15 real minutes).
 *   - A schedule never fires twice at one instant.
 *   (cronie runs a fixed-time job once per skipped minute it matched; here it runs once
 *   per gap. That is the only difference.)
 * @every intervals ignore the zone: they fire at the instants that are multiples of the
 * interval since the Unix epoch (so "@every 15m" fires at :00, :15, :30, :45 UTC, and
 * "@every 7d" on Thursdays 00:00 UTC), which keeps next-fire a pure function.
 *
 * Times are int64 seconds since the Unix epoch (UTC); cron has a one-second resolution.
 *
 * Thread rules: a cron_expr is a plain value; every function may be called from any thread.
 */
#ifndef CLM_SCHEDULER_CRON_H
#define CLM_SCHEDULER_CRON_H

#include "lib/base/error.h"
#include "scheduler/tz.h"

#include <stdbool.h>
#include <stdint.h>

/** Longest expression text accepted. */
#define CRON_TEXT_MAX 256

/** Longest @every interval: 366 days, in seconds. */
#define CRON_EVERY_MAX (INT64_C(366) * 86400)

enum {
    CRON_HAS_SECONDS = 1u << 0, /* 6 fields */
    CRON_DOM_STAR = 1u << 1,    /* day-of-month starts with '*' */
    CRON_DOW_STAR = 1u << 2,    /* day-of-week starts with '*' */
    CRON_MINUTE_STAR = 1u << 3, /* minute starts with '*': a wildcard job */
    CRON_HOUR_STAR = 1u << 4,   /* hour starts with '*': a wildcard job */
    CRON_EVERY = 1u << 5,       /* @every: only `every` is meaningful */
};

/** A parsed expression. A value: copy it freely; fill it only with cron_parse(). */
typedef struct cron_expr {
    uint64_t second; /* bit n: second n (bit 0 only, for 5 fields) */
    uint64_t minute; /* bit n: minute n */
    uint32_t hour;   /* bit n: hour n */
    uint32_t day;    /* bit n: day-of-month n, 1..31 */
    uint16_t month;  /* bit n: month n, 1..12 */
    uint8_t weekday; /* bit n: day-of-week n, 0..6 (7 is folded into 0) */
    uint8_t flags;   /* CRON_* */
    int64_t every;   /* @every: the interval in seconds */
} cron_expr;

/**
 * @brief Parse a cron expression.
 * @param[in] text the expression (leading/trailing blanks ignored).
 * @param[out] expr the result; unspecified on error.
 * @return CLM_OK, or CLM_ERR_INVALID_ARGUMENT with a message naming the field and the
 *   1-based character position of the problem, for example
 *   `field "hour" at position 7: 25 is outside 0-23`. Field names: "second", "minute",
 *   "hour", "day-of-month", "month", "day-of-week", "interval" (@every), and
 *   "expression" for problems of the whole (empty, too long, wrong number of fields,
 *   unknown @shortcut).
 */
clm_err cron_parse(const char *text, cron_expr *expr);

/**
 * @brief The first fire time strictly after `after`, on the wall clock of `zone`, with
 * the DST rules above.
 * @param[in] zone from tz_load() or tz_utc(); ignored for @every.
 * @param[in] after seconds since the epoch; |after| <= TZ_TIME_LIMIT / 2.
 * @param[out] next seconds since the epoch, > after.
 * @return CLM_OK, or CLM_ERR_NOT_FOUND when nothing fires within 500 years (cannot happen
 *   for expressions cron_parse() accepted; a guard), CLM_ERR_INVALID_ARGUMENT for `after`
 *   out of range.
 */
clm_err cron_next(const cron_expr *expr, const tz_zone *zone, int64_t after, int64_t *next);

/** @brief True for wildcard jobs (minute or hour field starting with '*'), see DST above. */
bool cron_is_wildcard(const cron_expr *expr);

/**
 * @brief Whether the local wall time `local` (seconds, civil time encoded as UTC) matches
 * the calendar fields. False for @every expressions.
 */
bool cron_matches_local(const cron_expr *expr, int64_t local);

#endif
