/*
 * Table-driven tests of scheduler/cron.c: next fire times checked against an independent
 * computation (scheduler/cron_reference.py, run here with /usr/bin/python3: a brute-force
 * walk over the local wall clock with zoneinfo), plus hand-checked DST, leap-day and
 * short-month cases, and a table of bad input that must name the field.
 */
#include "lib/base/log.h"
#include "scheduler/cron.h"
#include "scheduler/tz.h"
#include "tests/unit.h"

#include <stdlib.h>
#include <unistd.h>

#define FIRES 5

/* Fixed starts (seconds since the epoch, UTC). */
#define S_JAN INT64_C(1736936243)        /* 2025-01-15T10:17:23Z */
#define S_BER_SPRING INT64_C(1743285600) /* 2025-03-29T22:00Z, Berlin jumps 03-30 02:00 */
#define S_BER_FALL INT64_C(1761429600)   /* 2025-10-25T22:00Z, Berlin repeats 10-26 02:xx */
#define S_NY_SPRING INT64_C(1741492800)  /* 2025-03-09T04:00Z, New York jumps 02:00 */
#define S_NY_FALL INT64_C(1762052400)    /* 2025-11-02T03:00Z, New York repeats 01:xx */
#define S_LEAP INT64_C(1709251200)       /* 2024-03-01T00:00Z */
#define S_FAR_SPRING INT64_C(2216203200) /* 2040-03-24T12:00Z: past the tables, footer rule */
#define S_FAR_FALL INT64_C(2234952000)   /* 2040-10-27T12:00Z */
#define S_YEAR_END INT64_C(1735685998)   /* 2024-12-31T22:59:58Z */

static const char *const zones[] = {"UTC", "Europe/Berlin", "America/New_York"};
#define N_ZONES 3

typedef struct row {
    const char *expr;
    int64_t start;
} row;

/* Expressions checked from one start in every zone. */
static const row rows[] = {
    {"* * * * *", S_JAN},
    {"*/15 * * * *", S_JAN},
    {"0 * * * *", S_JAN},
    {"30 2 * * *", S_JAN},
    {"0 0 * * *", S_JAN},
    {"0 12 * * MON-FRI", S_JAN},
    {"0 9 1 * *", S_JAN},
    {"0 0 1,15 * MON", S_JAN}, /* OR: the 1st, the 15th and Mondays */
    {"0 0 * * MON", S_JAN},    /* '*' day-of-month: Mondays only */
    {"0 0 */2 * MON", S_JAN},  /* starts with '*': AND (Vixie quirk) */
    {"0 0 1-31 * MON", S_JAN}, /* no '*': OR, so every day */
    {"0 0 13 * FRI", S_JAN},   /* the 13th or Fridays */
    {"0 0 31 * *", S_JAN},     /* skips short months */
    {"0 0 30 * *", S_JAN},     /* skips February */
    {"0 0 29 2 *", S_LEAP},    /* leap days: 2028..2044 */
    {"0 0 29 2 MON", S_LEAP},  /* Feb 29 or Mondays of February */
    {"5 4 * * SUN", S_JAN},
    {"0 22 * * 1-5", S_JAN},
    {"23 0-20/2 * * *", S_JAN},
    {"0 0,12 1 */2 *", S_JAN},
    {"0 4 8-14 * *", S_JAN},
    {"0 0 1 JAN,JUL *", S_JAN},
    {"@yearly", S_JAN},
    {"@annually", S_YEAR_END},
    {"@monthly", S_JAN},
    {"@weekly", S_JAN},
    {"@daily", S_JAN},
    {"@midnight", S_JAN},
    {"@hourly", S_JAN},
    {"@every 90s", S_JAN},
    {"@every 15m", S_JAN},
    {"@every 2h", S_JAN},
    {"@every 1h30m", S_JAN},
    {"@every 1d", S_JAN},
    {"@every 7d", S_JAN},
    {"*/10 * * * * *", S_JAN},
    {"30 */5 * * * *", S_JAN},
    {"0 0 * * 7", S_JAN}, /* 7 is Sunday */
    {"0 0 * * 0,7", S_JAN},
    {"0 0 * * sun", S_JAN},
    {"0 0 * jan-mar *", S_JAN},
    {"0 12 * * 5-7", S_JAN},
    {"1-5 * * * *", S_JAN},
    {"0 0 1 1 *", S_YEAR_END},
    {"59 23 31 12 *", S_YEAR_END},
    {"*/7 */5 * * *", S_JAN},
    {"0 6-18/3 * * SAT,SUN", S_JAN},
    {"0 0 15 2/3 *", S_JAN}, /* "a/n" = "a-max/n" */
    {"5/20 * * * *", S_JAN},
    {"0 0 1 * */2", S_JAN}, /* '*' day-of-week: AND */
    {"  0   0\t* * *  ", S_JAN},
    {"45 23 * * 6", S_JAN},
    {"0 9 * * MON-FRI", S_FAR_SPRING},
    {"0 0 1 * *", S_FAR_SPRING},
};

/* Expressions around DST: each from every transition start, in every zone. */
static const char *const dst_exprs[] = {
    "30 2 * * *",   "0 2 * * *",    "0,30 2 * * *",    "30 1 * * *",   "0 1 * * *",
    "59 1 * * *",   "0 3 * * *",    "*/30 1-3 * * *",  "0 */1 * * *",  "*/20 1 * * *",
    "0 30 2 * * *", "* 30 2 * * *", "15,45 * 2 * * *", "0 30 1 * * *", "*/15 2 * * *",
    "0 2-3 * * *",  "30 0-4 * * *", "@hourly",         "@every 45m",
};
static const int64_t dst_starts[] = {S_BER_SPRING, S_BER_FALL,   S_NY_SPRING,
                                     S_NY_FALL,    S_FAR_SPRING, S_FAR_FALL};

#define N_ROWS (sizeof(rows) / sizeof(rows[0]))
#define N_DST_EXPRS (sizeof(dst_exprs) / sizeof(dst_exprs[0]))
#define N_DST_STARTS (sizeof(dst_starts) / sizeof(dst_starts[0]))
#define N_CASES ((N_ROWS + N_DST_EXPRS * N_DST_STARTS) * N_ZONES)

typedef struct test_case {
    const char *expr, *zone;
    int64_t start;
} test_case;

static test_case cases[N_CASES];

static void build_cases(void)
{
    size_t n = 0;

    for (size_t r = 0; r < N_ROWS; r++)
        for (int z = 0; z < N_ZONES; z++)
            cases[n++] = (test_case){rows[r].expr, zones[z], rows[r].start};
    for (size_t e = 0; e < N_DST_EXPRS; e++)
        for (size_t s = 0; s < N_DST_STARTS; s++)
            for (int z = 0; z < N_ZONES; z++)
                cases[n++] = (test_case){dst_exprs[e], zones[z], dst_starts[s]};
}

/* "2025-03-30 03:00:00 CEST" */
static const char *local_text(const tz_zone *zone, int64_t t, char *buf, size_t size)
{
    tz_info info;
    tz_civil c;

    tz_lookup(zone, t, &info);
    tz_civil_from_seconds(t + info.utoff, &c);
    snprintf(buf, size, "%04lld-%02d-%02d %02d:%02d:%02d %s", (long long)c.year, c.month, c.day,
             c.hour, c.minute, c.second, info.abbr);
    return buf;
}

/* The C side: FIRES times as "t1 t2 ...", or "error". */
static void c_fires(const test_case *tc, char *out, size_t size)
{
    const tz_zone *zone;
    cron_expr e;
    int64_t t = tc->start;
    size_t len = 0;

    out[0] = '\0';
    if (tz_load(tc->zone, &zone) != CLM_OK || cron_parse(tc->expr, &e) != CLM_OK) {
        snprintf(out, size, "error");
        return;
    }
    for (int i = 0; i < FIRES; i++) {
        if (cron_next(&e, zone, t, &t) != CLM_OK) {
            snprintf(out, size, "error: %s", clm_error_message());
            return;
        }
        len += (size_t)snprintf(out + len, size - len, "%s%lld", i ? " " : "", (long long)t);
    }
}

static void explain(const test_case *tc, const char *got, const char *want)
{
    const tz_zone *zone = tz_utc();
    char buf[64];

    tz_load(tc->zone, &zone);
    fprintf(stderr, "  %s in %s from %s\n", tc->expr, tc->zone,
            local_text(zone, tc->start, buf, 64));
    for (int side = 0; side < 2; side++) {
        const char *p = side ? want : got;

        fprintf(stderr, "   %s:", side ? "python" : "C     ");
        while (*p) {
            char *end;
            long long t = strtoll(p, &end, 10);

            if (end == p) {
                fprintf(stderr, " %s", p);
                break;
            }
            fprintf(stderr, " [%s]", local_text(zone, t, buf, 64));
            p = *end ? end + 1 : end;
        }
        fputc('\n', stderr);
    }
}

UNIT_TEST(against_python_reference)
{
    char path[512], cmd[1200], want[512], got[512];
    const char *tmp = getenv("TEST_TMPDIR");
    FILE *f, *py;
    size_t n = 0, mismatches = 0;

    build_cases();
    snprintf(path, sizeof(path), "%s/cron_cases.txt", tmp ? tmp : "/tmp");
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    for (size_t i = 0; i < N_CASES; i++)
        fprintf(f, "%s\t%lld\t%d\t%s\n", cases[i].zone, (long long)cases[i].start, FIRES,
                cases[i].expr);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 scheduler/cron_reference.py '%s'", path);
    py = popen(cmd, "r");
    CHECK(py != NULL);
    if (py == NULL)
        return;
    while (n < N_CASES && fgets(want, sizeof(want), py) != NULL) {
        want[strcspn(want, "\n")] = '\0';
        c_fires(&cases[n], got, sizeof(got));
        if (strcmp(got, want) == 0) {
            unit_passed++;
        } else {
            UNIT_FAIL_AT(__FILE__, __LINE__, "case %zu differs from the reference", n);
            explain(&cases[n], got, want);
            mismatches++;
        }
        n++;
    }
    CHECK_INT_EQ(pclose(py), 0);
    CHECK_INT_EQ(n, N_CASES);
    printf("cron reference: %zu cases (%zu expressions x zones x starts), %zu mismatches\n", n,
           N_ROWS + N_DST_EXPRS, mismatches);
}

/* Hand-checked expectations, independent of the reference. */
typedef struct known {
    const char *expr, *zone;
    int64_t start;
    const char *fires[FIRES];
} known;

static const known knowns[] = {
    /* Berlin 2025-03-30: 02:00 CET -> 03:00 CEST. A fixed job in the gap runs once, at 03:00. */
    {"30 2 * * *",
     "Europe/Berlin",
     S_BER_SPRING,
     {"2025-03-30 03:00:00 CEST", "2025-03-31 02:30:00 CEST", "2025-04-01 02:30:00 CEST",
      "2025-04-02 02:30:00 CEST", "2025-04-03 02:30:00 CEST"}},
    {"0,30 2 * * *",
     "Europe/Berlin",
     S_BER_SPRING,
     {"2025-03-30 03:00:00 CEST", "2025-03-31 02:00:00 CEST", "2025-03-31 02:30:00 CEST",
      "2025-04-01 02:00:00 CEST", "2025-04-01 02:30:00 CEST"}},
    /* A wildcard job just skips the missing hour. */
    {"*/30 2-3 * * *",
     "Europe/Berlin",
     S_BER_SPRING,
     {"2025-03-30 03:00:00 CEST", "2025-03-30 03:30:00 CEST", "2025-03-31 02:00:00 CEST",
      "2025-03-31 02:30:00 CEST", "2025-03-31 03:00:00 CEST"}},
    /* Berlin 2025-10-26: 03:00 CEST -> 02:00 CET. Fixed: first pass only; wildcard: both. */
    {"30 2 * * *",
     "Europe/Berlin",
     S_BER_FALL,
     {"2025-10-26 02:30:00 CEST", "2025-10-27 02:30:00 CET", "2025-10-28 02:30:00 CET",
      "2025-10-29 02:30:00 CET", "2025-10-30 02:30:00 CET"}},
    {"*/30 2 * * *",
     "Europe/Berlin",
     S_BER_FALL,
     {"2025-10-26 02:00:00 CEST", "2025-10-26 02:30:00 CEST", "2025-10-26 02:00:00 CET",
      "2025-10-26 02:30:00 CET", "2025-10-27 02:00:00 CET"}},
    /* New York 2025-03-09 02:00 EST -> 03:00 EDT; 2025-11-02 02:00 EDT -> 01:00 EST. */
    {"15 2 * * *",
     "America/New_York",
     S_NY_SPRING,
     {"2025-03-09 03:00:00 EDT", "2025-03-10 02:15:00 EDT", "2025-03-11 02:15:00 EDT",
      "2025-03-12 02:15:00 EDT", "2025-03-13 02:15:00 EDT"}},
    {"30 1 * * *",
     "America/New_York",
     S_NY_FALL,
     {"2025-11-02 01:30:00 EDT", "2025-11-03 01:30:00 EST", "2025-11-04 01:30:00 EST",
      "2025-11-05 01:30:00 EST", "2025-11-06 01:30:00 EST"}},
    /* From the second pass (01:10 EST), the fixed 01:30 is not run again. */
    {"30 1 * * *",
     "America/New_York",
     S_NY_FALL + 3 * 3600 + 600,
     {"2025-11-03 01:30:00 EST", "2025-11-04 01:30:00 EST", "2025-11-05 01:30:00 EST",
      "2025-11-06 01:30:00 EST", "2025-11-07 01:30:00 EST"}},
    {"0 * * * *",
     "America/New_York",
     S_NY_FALL + 3600,
     {"2025-11-02 01:00:00 EDT", "2025-11-02 01:00:00 EST", "2025-11-02 02:00:00 EST",
      "2025-11-02 03:00:00 EST", "2025-11-02 04:00:00 EST"}},
    /* From the first pass (01:10 EDT), a wildcard job's second pass comes next. */
    {"*/30 1 * * *",
     "America/New_York",
     S_NY_FALL + 2 * 3600 + 600,
     {"2025-11-02 01:30:00 EDT", "2025-11-02 01:00:00 EST", "2025-11-02 01:30:00 EST",
      "2025-11-03 01:00:00 EST", "2025-11-03 01:30:00 EST"}},
    /* Leap day: the next five span 20 years. */
    {"0 0 29 2 *",
     "UTC",
     S_LEAP,
     {"2028-02-29 00:00:00 UTC", "2032-02-29 00:00:00 UTC", "2036-02-29 00:00:00 UTC",
      "2040-02-29 00:00:00 UTC", "2044-02-29 00:00:00 UTC"}},
    /* The 31st skips short months. */
    {"0 0 31 * *",
     "UTC",
     S_JAN,
     {"2025-01-31 00:00:00 UTC", "2025-03-31 00:00:00 UTC", "2025-05-31 00:00:00 UTC",
      "2025-07-31 00:00:00 UTC", "2025-08-31 00:00:00 UTC"}},
    /* Past the zone file's table (2037): the footer's rule. */
    {"30 2 * * *",
     "Europe/Berlin",
     S_FAR_SPRING,
     {"2040-03-25 03:00:00 CEST", "2040-03-26 02:30:00 CEST", "2040-03-27 02:30:00 CEST",
      "2040-03-28 02:30:00 CEST", "2040-03-29 02:30:00 CEST"}},
    {"0 0 1,15 * MON",
     "UTC",
     S_JAN,
     {"2025-01-20 00:00:00 UTC", "2025-01-27 00:00:00 UTC", "2025-02-01 00:00:00 UTC",
      "2025-02-03 00:00:00 UTC", "2025-02-10 00:00:00 UTC"}},
};

UNIT_TEST(known_fire_times)
{
    for (size_t k = 0; k < sizeof(knowns) / sizeof(knowns[0]); k++) {
        const known *kn = &knowns[k];
        const tz_zone *zone;
        cron_expr e;
        int64_t t = kn->start;
        char buf[64];

        CHECK_INT_EQ(tz_load(kn->zone, &zone), CLM_OK);
        CHECK_INT_EQ(cron_parse(kn->expr, &e), CLM_OK);
        for (int i = 0; i < FIRES; i++) {
            CHECK_INT_EQ(cron_next(&e, zone, t, &t), CLM_OK);
            CHECK_STR_EQ(local_text(zone, t, buf, sizeof(buf)), kn->fires[i]);
        }
    }
}

/* Bad input: each error names the field (and the position). */
typedef struct bad {
    const char *expr;
    const char *message; /* a part of the message */
    bool python;         /* the reference must reject it too */
} bad;

static const bad bads[] = {
    {"", "field \"expression\" at position 1: empty", false},
    {"* * * *", "expected 5 fields", true},
    {"* * * * * * *", "got 7", true},
    {"60 * * * *", "field \"minute\" at position 1: 60 is outside 0-59", true},
    {"*/5 * 25 * * *", "field \"hour\" at position 7: 25 is outside 0-23", true},
    {"0 24 * * *", "field \"hour\" at position 3: 24 is outside 0-23", true},
    {"0 0 0 * *", "field \"day-of-month\" at position 5: 0 is outside 1-31", true},
    {"0 0 32 * *", "field \"day-of-month\" at position 5: 32 is outside 1-31", true},
    {"0 0 * 13 *", "field \"month\" at position 7: 13 is outside 1-12", true},
    {"0 0 * * 8", "field \"day-of-week\" at position 9: 8 is outside 0-7", true},
    {"60 0 0 * * *", "field \"second\" at position 1: 60 is outside 0-59", true},
    {"0 0 * FOO *", "field \"month\" at position 7: unknown name \"FOO\"", true},
    {"0 0 * * MONDAY", "field \"day-of-week\" at position 9: unknown name", true},
    {"0 0 * * MON-", "field \"day-of-week\" at position 13: a value is missing", true},
    {"0 0 5-2 * *", "field \"day-of-month\" at position 5: range 5-2 is reversed", true},
    {"*/0 * * * *", "field \"minute\" at position 3: step 0 is outside 1-60", true},
    {"*/61 * * * *", "field \"minute\" at position 3: step 61", true},
    {"0 */ * * *", "field \"hour\" at position 5: a step needs a number", true},
    {"1,,2 * * * *", "field \"minute\" at position 3: empty list element", true},
    {"1, * * * *", "field \"minute\" at position 3: empty list element", true},
    {"a * * * *", "field \"minute\" at position 1: names are only allowed", true},
    {"0 0 31 2 *", "field \"day-of-month\" at position 5: day 31 never occurs", true},
    {"0 0 30,31 2 *", "field \"day-of-month\" at position 5: day 30 never occurs", true},
    {"0 0 L * *", "field \"day-of-month\" at position 5: names are only allowed", true},
    {"0 0 * * 1#2", "field \"day-of-week\" at position 10: unexpected character '#'", true},
    {"0 0 ? * *", "field \"day-of-month\" at position 5: unexpected character '?'", true},
    {"0 0 * * 1-7/0", "field \"day-of-week\" at position 13: step 0", true},
    {"@reboot", "field \"expression\" at position 1: unknown shortcut \"@reboot\"", true},
    {"@daily 5", "field \"expression\" at position 8: unexpected text after @daily", true},
    {"@every", "field \"interval\"", true},
    {"@every 0s", "field \"interval\" at position 8: the interval must be at least 1s", true},
    {"@every -5m", "field \"interval\" at position 8: negative intervals are not allowed", true},
    {"@every 367d", "field \"interval\" at position 8: the interval is longer than 366 days", true},
    {"@every 8785h", "longer than 366 days", true},
    {"@every 99999999999h", "field \"interval\" at position 8: number too long", true},
    {"@every 5x", "field \"interval\" at position 9: unknown unit 'x'", true},
    {"@every 30m1h", "field \"interval\" at position 12: units must come once each", true},
    {"@every 5", "field \"interval\" at position 9: a unit (d, h, m or s) is missing", true},
    {"@every 1h 30m", "field \"interval\" at position 10: expected a number, got ' '", true},
    {"@every1h", "unknown shortcut", true},
    {"0 0 * * * \x01", "field \"expression\" at position 11: unexpected control", false},
};

UNIT_TEST(bad_expressions)
{
    char path[512], cmd[1200], line[256], long_expr[CRON_TEXT_MAX + 8];
    const char *tmp = getenv("TEST_TMPDIR");
    const size_t n_bad = sizeof(bads) / sizeof(bads[0]);
    cron_expr e;
    FILE *f, *py;

    for (size_t i = 0; i < n_bad; i++) {
        clm_error_clear();
        CHECK_INT_EQ(cron_parse(bads[i].expr, &e), CLM_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(clm_error_message(), bads[i].message);
    }
    memset(long_expr, ' ', sizeof(long_expr) - 1);
    long_expr[sizeof(long_expr) - 1] = '\0';
    memcpy(long_expr, "* * * * *", 9);
    CHECK_INT_EQ(cron_parse(long_expr, &e), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "longer than 256 characters");
    CHECK_INT_EQ(cron_parse(NULL, &e), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(cron_parse("@every 366d", &e), CLM_OK);
    CHECK_INT_EQ(e.every, 366 * 86400);
    CHECK_INT_EQ(cron_parse("@EVERY 1d12h30m15s", &e), CLM_OK);
    CHECK_INT_EQ(e.every, 86400 + 12 * 3600 + 30 * 60 + 15);

    /* The reference rejects them too (those it can be given on one line). */
    snprintf(path, sizeof(path), "%s/cron_bad.txt", tmp ? tmp : "/tmp");
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    for (size_t i = 0; i < n_bad; i++)
        if (bads[i].python)
            fprintf(f, "UTC\t0\t1\t%s\n", bads[i].expr);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 scheduler/cron_reference.py '%s'", path);
    py = popen(cmd, "r");
    CHECK(py != NULL);
    for (size_t i = 0; py != NULL && i < n_bad; i++) {
        if (!bads[i].python)
            continue;
        CHECK(fgets(line, sizeof(line), py) != NULL);
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line, "error") != 0)
            fprintf(stderr, "reference accepted \"%s\": %s\n", bads[i].expr, line);
        CHECK_STR_EQ(line, "error");
    }
    if (py != NULL)
        CHECK_INT_EQ(pclose(py), 0);
}

UNIT_TEST(unknown_zones)
{
    static const char *const names[] = {"Mars/Olympus",
                                        "../etc/passwd",
                                        "/etc/passwd",
                                        "Europe",
                                        "zone.tab",
                                        "Europe//Berlin",
                                        "",
                                        "Europe/Berlin/",
                                        "Europe/Ber lin",
                                        "right/UTC"};
    const tz_zone *z;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        clm_err err = tz_load(names[i], &z);

        /* right/UTC, when installed, is a leap-second zone: refused as malformed for clm. */
        CHECK(err == CLM_ERR_INVALID_ARGUMENT || (i == 9 && err == CLM_ERR_PARSE));
        CHECK(z == NULL);
        if (i == 0)
            CHECK_STR_CONTAINS(clm_error_message(), "unknown time zone \"Mars/Olympus\"");
    }
}

UNIT_TEST(every_and_ranges)
{
    cron_expr e;
    int64_t t;

    CHECK_INT_EQ(cron_parse("@every 15m", &e), CLM_OK);
    CHECK_INT_EQ(cron_next(&e, NULL, 0, &t), CLM_OK);
    CHECK_INT_EQ(t, 900);
    CHECK_INT_EQ(cron_next(&e, NULL, 899, &t), CLM_OK);
    CHECK_INT_EQ(t, 900);
    CHECK_INT_EQ(cron_next(&e, NULL, 900, &t), CLM_OK);
    CHECK_INT_EQ(t, 1800);
    CHECK_INT_EQ(cron_next(&e, NULL, -1, &t), CLM_OK);
    CHECK_INT_EQ(t, 0);
    CHECK_INT_EQ(cron_parse("* * * * *", &e), CLM_OK);
    CHECK_INT_EQ(cron_next(&e, NULL, TZ_TIME_LIMIT, &t), CLM_ERR_INVALID_ARGUMENT);
    CHECK(cron_is_wildcard(&e));
    CHECK_INT_EQ(cron_parse("0 0 * * *", &e), CLM_OK);
    CHECK(!cron_is_wildcard(&e));
    CHECK(cron_matches_local(&e, 86400));
    CHECK(!cron_matches_local(&e, 86460));
    /* Far in the future and the past the computation still works (civil arithmetic). */
    CHECK_INT_EQ(cron_parse("0 0 29 2 *", &e), CLM_OK);
    CHECK_INT_EQ(cron_next(&e, tz_utc(), INT64_C(253402300799), &t), CLM_OK); /* 9999-12-31 */
    CHECK_INT_EQ(t, INT64_C(253407398400));                                   /* 10000-02-29 */
    CHECK_INT_EQ(cron_next(&e, tz_utc(), INT64_C(-2208988800), &t), CLM_OK);  /* 1900-01-01 */
    CHECK_INT_EQ(t, INT64_C(-2077747200));                                    /* 1904-02-29 */
}

int main(void)
{
    clm_log_set_level(CLM_LOG_WARN);
    UNIT_RUN(against_python_reference);
    UNIT_RUN(known_fire_times);
    UNIT_RUN(bad_expressions);
    UNIT_RUN(unknown_zones);
    UNIT_RUN(every_and_ranges);
    return unit_report();
}
