/*
 * scheduler/cron.c: the cron parser and next-fire computation (semantics in cron.h).
 */
#include "scheduler/cron.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- the parser ----------------------------------------------------------------------- */

typedef struct field_spec {
    const char *name;
    int min, max;
    const char *const *names; /* 3-letter names for min.., or NULL */
} field_spec;

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL",
                                          "AUG", "SEP", "OCT", "NOV", "DEC", NULL};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL};

enum { F_SECOND, F_MINUTE, F_HOUR, F_DOM, F_MONTH, F_DOW, F_COUNT };

static const field_spec fields[F_COUNT] = {
    {"second", 0, 59, NULL},       {"minute", 0, 59, NULL},       {"hour", 0, 23, NULL},
    {"day-of-month", 1, 31, NULL}, {"month", 1, 12, month_names}, {"day-of-week", 0, 7, day_names},
};

typedef struct token {
    const char *s;
    size_t len;
    size_t pos; /* 1-based position of s[0] in the expression */
} token;

static clm_err field_fail(const char *field, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static clm_err field_fail(const char *field, size_t pos, const char *fmt, ...)
{
    char what[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return clm_fail(CLM_ERR_INVALID_ARGUMENT, "field \"%s\" at position %zu: %s", field, pos, what);
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool is_letter(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static char upper(char ch)
{
    return ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
}

/* A number or a name at t->s[*i]; advances *i. */
static clm_err parse_value(const field_spec *f, const token *t, size_t *i, int *out)
{
    size_t start = *i;

    if (*i < t->len && is_digit(t->s[*i])) {
        long v = 0;

        while (*i < t->len && is_digit(t->s[*i])) {
            if (*i - start >= 6)
                return field_fail(f->name, t->pos + start, "number too long");
            v = v * 10 + (t->s[(*i)++] - '0');
        }
        if (v < f->min || v > f->max)
            return field_fail(f->name, t->pos + start, "%d is outside %d-%d", (int)v, f->min,
                              f->max);
        *out = (int)v;
        return CLM_OK;
    }
    if (*i < t->len && is_letter(t->s[*i])) {
        char name[4] = {0};
        size_t n = 0;

        while (*i < t->len && is_letter(t->s[*i])) {
            if (n < 3)
                name[n] = upper(t->s[*i]);
            n++;
            (*i)++;
        }
        if (f->names == NULL)
            return field_fail(f->name, t->pos + start,
                              "names are only allowed in month and "
                              "day-of-week");
        for (int k = 0; n == 3 && f->names[k] != NULL; k++)
            if (strcmp(f->names[k], name) == 0) {
                *out = f->min + k;
                return CLM_OK;
            }
        return field_fail(f->name, t->pos + start, "unknown name \"%.*s\"", (int)(n > 16 ? 16 : n),
                          t->s + start);
    }
    if (*i >= t->len)
        return field_fail(f->name, t->pos + start, "a value is missing");
    return field_fail(f->name, t->pos + start, "unexpected character '%c'", t->s[start]);
}

/* One field into a bit set; *star when it starts with '*'. */
static clm_err parse_field(const field_spec *f, const token *t, uint64_t *bits, bool *star)
{
    size_t i = 0;
    clm_err err;

    *bits = 0;
    *star = t->len > 0 && t->s[0] == '*';
    for (;;) {
        int lo, hi, step = 1;
        size_t at = i;
        bool range;

        if (i < t->len && t->s[i] == '*') {
            lo = f->min;
            hi = f->max;
            range = true;
            i++;
        } else {
            if (i >= t->len || t->s[i] == ',')
                return field_fail(f->name, t->pos + i, "empty list element");
            if ((err = parse_value(f, t, &i, &lo)) != CLM_OK)
                return err;
            hi = lo;
            range = false;
            if (i < t->len && t->s[i] == '-') {
                i++;
                if ((err = parse_value(f, t, &i, &hi)) != CLM_OK)
                    return err;
                if (hi < lo)
                    return field_fail(f->name, t->pos + at, "range %d-%d is reversed", lo, hi);
                range = true;
            }
        }
        if (i < t->len && t->s[i] == '/') {
            size_t sat = ++i;
            long v = 0;

            while (i < t->len && is_digit(t->s[i]) && i - sat < 6)
                v = v * 10 + (t->s[i++] - '0');
            if (i == sat)
                return field_fail(f->name, t->pos + sat, "a step needs a number");
            if (v < 1 || v > f->max - f->min + 1)
                return field_fail(f->name, t->pos + sat, "step %d is outside 1-%d", (int)v,
                                  f->max - f->min + 1);
            step = (int)v;
            if (!range)
                hi = f->max; /* "a/n" = "a-max/n" */
        }
        for (int v = lo; v <= hi; v += step)
            *bits |= UINT64_C(1) << v;
        if (i == t->len)
            return CLM_OK;
        if (t->s[i] != ',')
            return field_fail(f->name, t->pos + i, "unexpected character '%c'", t->s[i]);
        i++;
        if (i == t->len)
            return field_fail(f->name, t->pos + i, "empty list element");
    }
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* "1h30m": units d h m s, descending, each once. */
static clm_err parse_every(const char *s, size_t len, size_t pos, int64_t *out)
{
    static const char units[] = "dhms";
    static const int64_t scale[] = {86400, 3600, 60, 1};
    int64_t total = 0;
    size_t i = 0;
    int next_unit = 0;

    if (len == 0)
        return field_fail("interval", pos,
                          "a duration like 90s, 15m, 2h or 1h30m is "
                          "missing");
    if (s[0] == '-')
        return field_fail("interval", pos, "negative intervals are not allowed");
    while (i < len) {
        size_t at = i;
        int64_t v = 0;
        const char *u;

        while (i < len && is_digit(s[i])) {
            if (i - at >= 9)
                return field_fail("interval", pos + at, "number too long");
            v = v * 10 + (s[i++] - '0');
        }
        if (i == at)
            return field_fail("interval", pos + at, "expected a number, got '%c'", s[at]);
        if (i == len)
            return field_fail("interval", pos + i, "a unit (d, h, m or s) is missing");
        u = strchr(units, s[i]);
        if (u == NULL || s[i] == '\0')
            return field_fail("interval", pos + i, "unknown unit '%c' (use d, h, m, s)", s[i]);
        if (u - units < next_unit)
            return field_fail("interval", pos + i,
                              "units must come once each, in the order d h "
                              "m s");
        next_unit = (int)(u - units) + 1;
        total += v * scale[u - units];
        if (total > CRON_EVERY_MAX)
            return field_fail("interval", pos, "the interval is longer than 366 days");
        i++;
    }
    if (total < 1)
        return field_fail("interval", pos, "the interval must be at least 1s");
    *out = total;
    return CLM_OK;
}

static clm_err parse_shortcut(const char *text, size_t start, size_t end, cron_expr *expr)
{
    static const struct {
        const char *name, *expansion;
    } shortcuts[] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"},
    };
    size_t wend = start, rest;
    char word[16] = {0};

    while (wend < end && !is_blank(text[wend]))
        wend++;
    for (size_t i = start; i < wend && i - start < sizeof(word) - 1; i++)
        word[i - start] = (char)(text[i] >= 'A' && text[i] <= 'Z' ? text[i] - 'A' + 'a' : text[i]);
    rest = wend;
    while (rest < end && is_blank(text[rest]))
        rest++;
    if (wend - start < sizeof(word) - 1 && strcmp(word, "@every") == 0) {
        memset(expr, 0, sizeof(*expr));
        expr->flags = CRON_EVERY;
        if (rest == wend && rest < end)
            return field_fail("interval", rest + 1, "expected a blank after @every");
        return parse_every(text + rest, end - rest, rest + 1, &expr->every);
    }
    for (size_t i = 0; i < sizeof(shortcuts) / sizeof(shortcuts[0]); i++)
        if (wend - start < sizeof(word) - 1 && strcmp(word, shortcuts[i].name) == 0) {
            if (rest < end)
                return field_fail("expression", rest + 1, "unexpected text after %s", word);
            return cron_parse(shortcuts[i].expansion, expr);
        }
    return field_fail("expression", start + 1,
                      "unknown shortcut \"%.*s\" (use @yearly, "
                      "@monthly, @weekly, @daily, @hourly or @every)",
                      (int)(wend - start > 16 ? 16 : wend - start), text + start);
}

/* Refuse day-of-month sets that no selected month has (when day-of-week does not help). */
static clm_err check_feasible(const cron_expr *e, const token *dom)
{
    static const int max_days[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int first = 0;

    if (e->flags & CRON_DOM_STAR || !(e->flags & CRON_DOW_STAR))
        return CLM_OK;
    for (int m = 1; m <= 12; m++)
        for (int d = 1; d <= max_days[m]; d++)
            if ((e->month >> m & 1) && (e->day >> d & 1))
                return CLM_OK;
    while (!(e->day >> first & 1))
        first++;
    return field_fail("day-of-month", dom->pos, "day %d never occurs in the selected months",
                      first);
}

clm_err cron_parse(const char *text, cron_expr *expr)
{
    token tok[7];
    size_t len, start = 0, end, n = 0, i;
    uint64_t bits[F_COUNT];
    bool star[F_COUNT] = {false};
    int first;
    clm_err err;

    memset(expr, 0, sizeof(*expr));
    if (text == NULL)
        text = "";
    len = strnlen(text, CRON_TEXT_MAX + 1);
    if (len > CRON_TEXT_MAX)
        return field_fail("expression", 1, "longer than %d characters", CRON_TEXT_MAX);
    end = len;
    while (start < end && is_blank(text[start]))
        start++;
    while (end > start && is_blank(text[end - 1]))
        end--;
    if (start == end)
        return field_fail("expression", 1,
                          "empty: 5 fields (minute hour day-of-month month "
                          "day-of-week), 6 with seconds, or an @shortcut");
    if (text[start] == '@')
        return parse_shortcut(text, start, end, expr);
    for (i = start; i < end;) {
        size_t s = i;

        while (i < end && !is_blank(text[i])) {
            if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f)
                return field_fail("expression", i + 1,
                                  "unexpected control or non-ASCII "
                                  "character");
            i++;
        }
        if (n < 7)
            tok[n] = (token){text + s, i - s, s + 1};
        n++;
        while (i < end && is_blank(text[i]))
            i++;
    }
    if (n != 5 && n != 6)
        return field_fail("expression", 1,
                          "expected 5 fields (minute hour day-of-month month "
                          "day-of-week) or 6 (seconds first), got %d",
                          (int)n);
    first = n == 6 ? F_SECOND : F_MINUTE;
    bits[F_SECOND] = 1;
    for (int f = first; f < F_COUNT; f++)
        if ((err = parse_field(&fields[f], &tok[f - first], &bits[f], &star[f])) != CLM_OK)
            return err;
    expr->second = bits[F_SECOND];
    expr->minute = bits[F_MINUTE];
    expr->hour = (uint32_t)bits[F_HOUR];
    expr->day = (uint32_t)bits[F_DOM];
    expr->month = (uint16_t)bits[F_MONTH];
    expr->weekday = (uint8_t)((bits[F_DOW] | (bits[F_DOW] >> 7)) & 0x7f);
    expr->flags =
        (uint8_t)((n == 6 ? CRON_HAS_SECONDS : 0) | (star[F_DOM] ? CRON_DOM_STAR : 0) |
                  (star[F_DOW] ? CRON_DOW_STAR : 0) | (star[F_MINUTE] ? CRON_MINUTE_STAR : 0) |
                  (star[F_HOUR] ? CRON_HOUR_STAR : 0));
    return check_feasible(expr, &tok[F_DOM - first]);
}

/* ---- matching ------------------------------------------------------------------------- */

bool cron_is_wildcard(const cron_expr *expr)
{
    return (expr->flags & (CRON_MINUTE_STAR | CRON_HOUR_STAR)) != 0;
}

static bool day_matches(const cron_expr *e, int mday, int wday)
{
    bool dom = (e->day >> mday) & 1, dow = (e->weekday >> wday) & 1;

    if (e->flags & (CRON_DOM_STAR | CRON_DOW_STAR))
        return dom && dow;
    return dom || dow;
}

bool cron_matches_local(const cron_expr *e, int64_t local)
{
    tz_civil c;

    if (e->flags & CRON_EVERY)
        return false;
    tz_civil_from_seconds(local, &c);
    return ((e->month >> c.month) & 1) && day_matches(e, c.day, c.weekday) &&
           ((e->hour >> c.hour) & 1) && ((e->minute >> c.minute) & 1) &&
           ((e->second >> c.second) & 1);
}

/* The first set bit of `set` at or after `from` (<= 63), or -1. */
static int next_bit(uint64_t set, int from)
{
    if (from > 63)
        return -1;
    set &= ~UINT64_C(0) << from;
    return set ? __builtin_ctzll(set) : -1;
}

/* The first local wall time >= local that matches the calendar fields. */
static clm_err next_local_match(const cron_expr *e, int64_t local, int64_t *out)
{
    tz_civil c;
    int64_t y, limit;
    int mo, d, h, mi, s;

    tz_civil_from_seconds(local, &c);
    y = c.year;
    limit = y + 500;
    mo = c.month;
    d = c.day;
    h = c.hour;
    mi = c.minute;
    s = c.second;
    for (;;) {
        int v;

        if (y > limit)
            return clm_fail(CLM_ERR_NOT_FOUND, "cron: no fire time within 500 years");
        if (!((e->month >> mo) & 1) || d > tz_days_in_month(y, mo)) {
            if (++mo > 12) {
                mo = 1;
                y++;
            }
            d = 1;
            h = mi = s = 0;
            continue;
        }
        if (!day_matches(e, d, (int)(((tz_days_from_civil(y, mo, d) + 4) % 7 + 7) % 7))) {
            d++;
            h = mi = s = 0;
            continue;
        }
        if ((v = next_bit(e->hour, h)) < 0 || v > 23) {
            d++;
            h = mi = s = 0;
            continue;
        }
        if (v != h) {
            h = v;
            mi = s = 0;
        }
        if ((v = next_bit(e->minute, mi)) < 0 || v > 59) {
            h++;
            mi = s = 0;
            continue;
        }
        if (v != mi) {
            mi = v;
            s = 0;
        }
        if ((v = next_bit(e->second, s)) < 0 || v > 59) {
            mi++;
            s = 0;
            continue;
        }
        *out = tz_civil_to_seconds(y, mo, d, h, mi, v);
        return CLM_OK;
    }
}

/*
 * The wall time to start scanning from. A fire after `after` can belong to an earlier wall
 * time only in one case: `after` is in the first pass of a repeated period and the fire is
 * a wildcard job's second pass. So start at the beginning of such a period.
 */
static int64_t scan_start(const tz_zone *zone, int64_t after)
{
    int64_t start = tz_to_local(zone, after), t = after;
    tz_transition tr;

    while (tz_next_transition(zone, t, &tr) && tr.at <= after + 2 * 26 * 3600) {
        int64_t len = (int64_t)tr.utoff_before - tr.utoff_after;

        if (len > 0 && after >= tr.at - len && tr.at + tr.utoff_after < start)
            start = tr.at + tr.utoff_after;
        t = tr.at;
    }
    return start;
}

clm_err cron_next(const cron_expr *expr, const tz_zone *zone, int64_t after, int64_t *next)
{
    bool wild = cron_is_wildcard(expr), have = false;
    int64_t w, best = 0;

    if (after > TZ_TIME_LIMIT / 2 || after < -TZ_TIME_LIMIT / 2)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "cron: time %lld is out of range",
                        (long long)after);
    if (expr->flags & CRON_EVERY) {
        int64_t q = after / expr->every;

        if (after % expr->every != 0 && after < 0)
            q--;
        *next = (q + 1) * expr->every;
        return CLM_OK;
    }
    if (zone == NULL)
        zone = tz_utc();
    w = scan_start(zone, after);
    for (long iter = 0; iter < 1000000; iter++) {
        int64_t cand[2];
        size_t n = 0;
        tz_local r;
        clm_err err = next_local_match(expr, w, &w);

        if (err != CLM_OK) {
            if (have)
                break;
            return err;
        }
        tz_local_to_utc(zone, w, &r);
        if (have && r.first > best)
            break;
        if (r.kind != TZ_LOCAL_GAP || !wild)
            cand[n++] = r.first;
        if (r.kind == TZ_LOCAL_OVERLAP && wild)
            cand[n++] = r.second;
        for (size_t i = 0; i < n; i++)
            if (cand[i] > after && (!have || cand[i] < best)) {
                best = cand[i];
                have = true;
            }
        w++;
    }
    if (!have)
        return clm_fail(CLM_ERR_NOT_FOUND, "cron: no fire time found");
    *next = best;
    return CLM_OK;
}
