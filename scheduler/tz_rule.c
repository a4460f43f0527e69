/*
 * scheduler/tz_rule.c: POSIX TZ strings, the rule a TZif footer gives for every time after
 * the file's last transition (RFC 8536 section 3.3, with its extensions: hours -167..167
 * in transition times, DST all year). Example: "CET-1CEST,M3.5.0,M10.5.0/3".
 */
#include "scheduler/tz_internal.h"

#include <string.h>

typedef struct cursor {
    const char *s;
    size_t len, pos;
} cursor;

static int peek(const cursor *c)
{
    return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1;
}

static bool is_alpha(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

static clm_err bad(const cursor *c, const char *what)
{
    return clm_fail(CLM_ERR_PARSE, "TZ string at position %zu: %s", c->pos + 1, what);
}

/* A name: 3+ letters, or <3+ of [A-Za-z0-9+-]>. */
static clm_err parse_name(cursor *c, char *out)
{
    size_t n = 0;

    if (peek(c) == '<') {
        c->pos++;
        while (peek(c) != '>') {
            int ch = peek(c);

            if (ch < 0)
                return bad(c, "unterminated <name>");
            if (!is_alpha(ch) && !is_digit(ch) && ch != '+' && ch != '-')
                return bad(c, "bad character in <name>");
            if (n + 1 >= TZ_ABBR_MAX)
                return bad(c, "name too long");
            out[n++] = (char)ch;
            c->pos++;
        }
        c->pos++;
    } else {
        while (is_alpha(peek(c))) {
            if (n + 1 >= TZ_ABBR_MAX)
                return bad(c, "name too long");
            out[n++] = (char)peek(c);
            c->pos++;
        }
    }
    out[n] = '\0';
    return n < 3 ? bad(c, "a zone name needs at least 3 characters") : CLM_OK;
}

/* [+-]hh[:mm[:ss]] with hours up to max_hours; seconds, sign applied. */
static clm_err parse_hms(cursor *c, int max_hours, int32_t *out)
{
    int sign = 1, part[3] = {0, 0, 0};

    if (peek(c) == '+' || peek(c) == '-')
        sign = c->s[c->pos++] == '-' ? -1 : 1;
    for (int i = 0; i < 3; i++) {
        int digits = 0;

        if (i > 0) {
            if (peek(c) != ':')
                break;
            c->pos++;
        }
        while (is_digit(peek(c))) {
            if (++digits > (i == 0 ? 3 : 2))
                return bad(c, "too many digits in a time");
            part[i] = part[i] * 10 + (c->s[c->pos++] - '0');
        }
        if (digits == 0)
            return bad(c, "a time needs digits");
    }
    if (part[0] > max_hours || part[1] > 59 || part[2] > 59)
        return bad(c, "time out of range");
    *out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    return CLM_OK;
}

static clm_err parse_number(cursor *c, int min, int max, int *out)
{
    int v = 0, digits = 0;

    while (is_digit(peek(c))) {
        if (++digits > 3)
            return bad(c, "number too long");
        v = v * 10 + (c->s[c->pos++] - '0');
    }
    if (digits == 0 || v < min || v > max)
        return bad(c, "number missing or out of range");
    *out = v;
    return CLM_OK;
}

static clm_err parse_date(cursor *c, tz_rule_date *d)
{
    clm_err err;

    memset(d, 0, sizeof(*d));
    if (peek(c) == 'J') {
        c->pos++;
        d->kind = TZ_RULE_JULIAN;
        err = parse_number(c, 1, 365, &d->n);
    } else if (peek(c) == 'M') {
        c->pos++;
        d->kind = TZ_RULE_MONTH_WEEK;
        err = parse_number(c, 1, 12, &d->month);
        if (err == CLM_OK && peek(c) != '.')
            return bad(c, "expected '.' in Mm.w.d");
        c->pos++;
        if (err == CLM_OK)
            err = parse_number(c, 1, 5, &d->week);
        if (err == CLM_OK && peek(c) != '.')
            return bad(c, "expected '.' in Mm.w.d");
        c->pos++;
        if (err == CLM_OK)
            err = parse_number(c, 0, 6, &d->weekday);
    } else {
        d->kind = TZ_RULE_ZERO_BASED;
        err = parse_number(c, 0, 365, &d->n);
    }
    if (err != CLM_OK)
        return err;
    d->time = 2 * 3600;
    if (peek(c) == '/') {
        c->pos++;
        return parse_hms(c, 167, &d->time);
    }
    return CLM_OK;
}

clm_err tz_rule_parse(const char *text, size_t len, tz_rule *rule)
{
    cursor c = {text, len, 0};
    int32_t off;
    clm_err err;

    memset(rule, 0, sizeof(*rule));
    if ((err = parse_name(&c, rule->std_abbr)) != CLM_OK)
        return err;
    if ((err = parse_hms(&c, 24, &off)) != CLM_OK)
        return err;
    rule->std_utoff = -off;
    rule->dst_utoff = rule->std_utoff;
    if (c.pos == c.len)
        return CLM_OK;
    if ((err = parse_name(&c, rule->dst_abbr)) != CLM_OK)
        return err;
    rule->has_dst = true;
    rule->dst_utoff = rule->std_utoff + 3600;
    if (peek(&c) != ',') {
        if ((err = parse_hms(&c, 24, &off)) != CLM_OK)
            return err;
        rule->dst_utoff = -off;
    }
    if (peek(&c) != ',')
        return bad(&c, "daylight saving time without a rule");
    c.pos++;
    if ((err = parse_date(&c, &rule->start)) != CLM_OK)
        return err;
    if (peek(&c) != ',')
        return bad(&c, "expected ',' before the end rule");
    c.pos++;
    if ((err = parse_date(&c, &rule->end)) != CLM_OK)
        return err;
    return c.pos == c.len ? CLM_OK : bad(&c, "trailing characters");
}

/* The instant a rule date happens in `year`, given the UT offset in effect before it. */
static int64_t date_instant(const tz_rule_date *d, int64_t year, int32_t utoff_before)
{
    int64_t days;

    switch (d->kind) {
    case TZ_RULE_JULIAN:
        days = tz_days_from_civil(year, 1, 1) + d->n - 1;
        if (tz_is_leap_year(year) && d->n >= 60)
            days++;
        break;
    case TZ_RULE_ZERO_BASED: days = tz_days_from_civil(year, 1, 1) + d->n; break;
    default: {
        int64_t first = tz_days_from_civil(year, d->month, 1);
        int first_wday = (int)(((first + 4) % 7 + 7) % 7);
        int day = 1 + (d->weekday - first_wday + 7) % 7 + (d->week - 1) * 7;

        while (day > tz_days_in_month(year, d->month))
            day -= 7;
        days = first + day - 1;
        break;
    }
    }
    return days * 86400 + d->time - utoff_before;
}

typedef struct rule_event {
    int64_t at;
    bool start; /* DST starts */
} rule_event;

/* The start and end events of years y0..y0+n-1, sorted; at equal instants the end comes
 * first, so that the start wins (DST all year: "EST5EDT,0/0,J365/25"). */
static size_t rule_events(const tz_rule *r, int64_t y0, int n, rule_event *ev)
{
    size_t k = 0;

    for (int64_t y = y0; y < y0 + n; y++) {
        ev[k++] = (rule_event){date_instant(&r->start, y, r->std_utoff), true};
        ev[k++] = (rule_event){date_instant(&r->end, y, r->dst_utoff), false};
    }
    for (size_t i = 1; i < k; i++) { /* insertion sort of at most 8 */
        rule_event e = ev[i];
        size_t j = i;

        while (j > 0 &&
               (ev[j - 1].at > e.at || (ev[j - 1].at == e.at && ev[j - 1].start && !e.start))) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = e;
    }
    return k;
}

static bool rule_is_dst(const tz_rule *r, int64_t utc)
{
    rule_event ev[8];
    tz_civil civ;
    size_t n;
    bool dst = false;

    tz_civil_from_seconds(utc, &civ);
    n = rule_events(r, civ.year - 2, 4, ev);
    for (size_t i = 0; i < n && ev[i].at <= utc; i++)
        dst = ev[i].start;
    return dst;
}

void tz_rule_lookup(const tz_rule *rule, int64_t utc, tz_info *info)
{
    bool dst = rule->has_dst && rule_is_dst(rule, tz_clamp(utc));

    info->utoff = dst ? rule->dst_utoff : rule->std_utoff;
    info->is_dst = dst;
    info->abbr = dst ? rule->dst_abbr : rule->std_abbr;
}

bool tz_rule_next(const tz_rule *rule, int64_t after, tz_transition *out)
{
    tz_civil civ;

    if (!rule->has_dst || rule->std_utoff == rule->dst_utoff)
        return false;
    after = tz_clamp(after);
    tz_civil_from_seconds(after, &civ);
    for (int64_t y = civ.year - 1; y <= civ.year + 3; y++) {
        rule_event ev[2];
        size_t n = rule_events(rule, y, 1, ev);

        for (size_t i = 0; i < n; i++) {
            tz_info before, now;

            if (ev[i].at <= after)
                continue;
            tz_rule_lookup(rule, ev[i].at - 1, &before);
            tz_rule_lookup(rule, ev[i].at, &now);
            if (before.utoff != now.utoff) {
                *out = (tz_transition){ev[i].at, before.utoff, now.utoff};
                return true;
            }
        }
    }
    return false;
}
