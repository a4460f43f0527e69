/*
 * lib/json/pbjson_wkt.c: the strings of google.protobuf.Timestamp (RFC 3339) and
 * google.protobuf.Duration ("1.5s"), with the ranges the proto3 JSON mapping sets.
 *
 * Calendar arithmetic is done here (Howard Hinnant's days_from_civil) rather than
 * with timegm()/gmtime_r(), so that the result does not depend on the C library's
 * time_t range or time zone state, and years 1 to 9999 all work.
 */
#include "lib/json/pbjson_internal.h"

#include <stdio.h>

#define SECONDS_PER_DAY INT64_C(86400)
#define TIMESTAMP_MIN INT64_C(-62135596800) /* 0001-01-01T00:00:00Z */
#define TIMESTAMP_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define DURATION_MAX INT64_C(315576000000)  /* 10,000 years of 365.25 days */
#define NANOS_MAX 999999999

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int64_t)yoe + era * 400 + (*month <= 2);
}

static unsigned days_in_month(int64_t year, unsigned month)
{
    static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return month == 2 && leap ? 29 : days[month - 1];
}

/* Reads exactly n decimal digits at *p. */
static bool take_digits(const char **p, const char *end, int n, unsigned *value)
{
    unsigned v = 0;

    if (end - *p < n)
        return false;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];

        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (unsigned)(c - '0');
    }
    *p += n;
    *value = v;
    return true;
}

static bool take_char(const char **p, const char *end, char c)
{
    if (*p == end || **p != c)
        return false;
    (*p)++;
    return true;
}

/* Reads '.' and 1 to 9 digits if there, as nanoseconds. */
static bool take_fraction(const char **p, const char *end, int32_t *nanos)
{
    int32_t v = 0;
    int digits = 0;

    *nanos = 0;
    if (!take_char(p, end, '.'))
        return true;
    while (*p < end && **p >= '0' && **p <= '9') {
        if (++digits > 9)
            return false;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    if (digits == 0)
        return false;
    for (; digits < 9; digits++)
        v *= 10;
    *nanos = v;
    return true;
}

/* Appends ".ddd", ".dddddd" or ".ddddddddd", the fewest of those that hold nanos. */
static int format_fraction(char *out, size_t size, int32_t nanos)
{
    if (nanos == 0)
        return snprintf(out, size, "%s", "");
    if (nanos % 1000000 == 0)
        return snprintf(out, size, ".%03d", (int)(nanos / 1000000));
    if (nanos % 1000 == 0)
        return snprintf(out, size, ".%06d", (int)(nanos / 1000));
    return snprintf(out, size, ".%09d", (int)nanos);
}

static const char timestamp_syntax[] =
    "expected an RFC 3339 time like \"2026-11-27T20:11:34.123Z\" or "
    "\"2026-11-27T21:11:34+01:00\"";

const char *pbjson_timestamp_parse(const char *text, size_t len, int64_t *seconds, int32_t *nanos)
{
    const char *p = text, *end = text + len;
    unsigned year, month, day, hour, minute, second, off_hour = 0, off_minute = 0;
    int64_t offset = 0, total;

    if (!take_digits(&p, end, 4, &year) || !take_char(&p, end, '-') ||
        !take_digits(&p, end, 2, &month) || !take_char(&p, end, '-') ||
        !take_digits(&p, end, 2, &day) || !take_char(&p, end, 'T') ||
        !take_digits(&p, end, 2, &hour) || !take_char(&p, end, ':') ||
        !take_digits(&p, end, 2, &minute) || !take_char(&p, end, ':') ||
        !take_digits(&p, end, 2, &second) || !take_fraction(&p, end, nanos))
        return timestamp_syntax;
    if (take_char(&p, end, 'Z')) {
        offset = 0;
    } else if (p < end && (*p == '+' || *p == '-')) {
        int sign = *p == '-' ? -1 : 1;

        p++;
        if (!take_digits(&p, end, 2, &off_hour) || !take_char(&p, end, ':') ||
            !take_digits(&p, end, 2, &off_minute))
            return timestamp_syntax;
        if (off_hour > 23 || off_minute > 59)
            return "time zone offset out of range";
        offset = sign * ((int64_t)off_hour * 3600 + (int64_t)off_minute * 60);
    } else {
        return timestamp_syntax;
    }
    if (p != end)
        return timestamp_syntax;
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
        hour > 23 || minute > 59 || second > 59)
        return "date or time of day out of range";
    total = days_from_civil(year, month, day) * SECONDS_PER_DAY + (int64_t)hour * 3600 +
            (int64_t)minute * 60 + second - offset;
    if (total < TIMESTAMP_MIN || total > TIMESTAMP_MAX)
        return "time before 0001-01-01T00:00:00Z or after 9999-12-31T23:59:59.999999999Z";
    *seconds = total;
    return NULL;
}

const char *pbjson_timestamp_format(int64_t seconds, int32_t nanos, char out[PBJSON_WKT_TEXT_MAX])
{
    int64_t days, second_of_day, year;
    unsigned month, day;
    int n;

    if (seconds < TIMESTAMP_MIN || seconds > TIMESTAMP_MAX)
        return "seconds outside 0001-01-01 to 9999-12-31";
    if (nanos < 0 || nanos > NANOS_MAX)
        return "nanos outside 0 to 999999999";
    days = seconds / SECONDS_PER_DAY;
    second_of_day = seconds % SECONDS_PER_DAY;
    if (second_of_day < 0) {
        second_of_day += SECONDS_PER_DAY;
        days--;
    }
    civil_from_days(days, &year, &month, &day);
    n = snprintf(out, PBJSON_WKT_TEXT_MAX, "%04d-%02u-%02uT%02d:%02d:%02d", (int)year, month, day,
                 (int)(second_of_day / 3600), (int)(second_of_day / 60 % 60),
                 (int)(second_of_day % 60));
    n += format_fraction(out + n, PBJSON_WKT_TEXT_MAX - (size_t)n, nanos);
    snprintf(out + n, PBJSON_WKT_TEXT_MAX - (size_t)n, "Z");
    return NULL;
}

static const char duration_syntax[] =
    "expected a duration like \"1.5s\" or \"-0.000001s\" (seconds, up to 9 fraction digits)";

const char *pbjson_duration_parse(const char *text, size_t len, int64_t *seconds, int32_t *nanos)
{
    const char *p = text, *end = text + len;
    bool negative = take_char(&p, end, '-');
    int64_t whole = 0;
    const char *digits = p;

    while (p < end && *p >= '0' && *p <= '9') {
        whole = whole * 10 + (*p - '0');
        if (whole > DURATION_MAX)
            return "duration longer than 315576000000 seconds (10,000 years)";
        p++;
    }
    if (p == digits || !take_fraction(&p, end, nanos) || !take_char(&p, end, 's') || p != end)
        return duration_syntax;
    *seconds = negative ? -whole : whole;
    if (negative)
        *nanos = -*nanos;
    return NULL;
}

const char *pbjson_duration_format(int64_t seconds, int32_t nanos, char out[PBJSON_WKT_TEXT_MAX])
{
    int n;

    if (seconds < -DURATION_MAX || seconds > DURATION_MAX)
        return "seconds outside -315576000000 to 315576000000";
    if (nanos < -NANOS_MAX || nanos > NANOS_MAX)
        return "nanos outside -999999999 to 999999999";
    if ((seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0))
        return "seconds and nanos have different signs";
    n = snprintf(out, PBJSON_WKT_TEXT_MAX, "%s%lld", seconds < 0 || nanos < 0 ? "-" : "",
                 (long long)(seconds < 0 ? -seconds : seconds));
    n += format_fraction(out + n, PBJSON_WKT_TEXT_MAX - (size_t)n, nanos < 0 ? -nanos : nanos);
    snprintf(out + n, PBJSON_WKT_TEXT_MAX - (size_t)n, "s");
    return NULL;
}
