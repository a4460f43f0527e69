/*
 * scheduler/tz.h: IANA time zones for a static binary, without TZ or localtime().
 *
 * Why hand-written: glibc's localtime_r()/mktime() convert through ONE process-global
 * zone (the TZ variable, tzset()), so a scheduler holding schedules in many zones cannot
 * use them from several threads, and no library that Debian ships as a static archive
 * does per-zone conversion in C (ICU is C++ and huge; abseil's cctz is C++). So this is a
 * small strict reader of the zone files themselves: TZif, RFC 8536 (versions 1, 2, 3, and
 * 4 of RFC 9636, which only changes leap-second rules we refuse anyway), from
 * /usr/share/zoneinfo (Debian's tzdata).
 *
 * What is read: version 1 files use their 32-bit data block; version 2+ files skip it and
 * use the 64-bit block and the footer, a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3")
 * that gives the rule for every time after the last transition of the table (tz_rule.c:
 * the "M", "J" and zero-based day formats, quoted <+03> names, and the RFC 8536 extensions:
 * transition hours -167..167, DST all year).
 *
 * Strictness: a file is refused (CLM_ERR_PARSE) when a count is inconsistent, the data is
 * truncated or followed by garbage, transitions are not strictly ascending, an index or
 * offset is out of range (|UT offset| must be below 26 hours), the footer does not parse,
 * or it carries leap seconds (the "right/" zones: clm's clocks count POSIX seconds, in
 * which such zones would be wrong by 27 s).
 *
 * Times are int64 seconds since the Unix epoch (POSIX, no leap seconds). A "local" time is
 * a wall-clock reading written as seconds since 1970-01-01T00:00:00 of that wall clock,
 * i.e. the civil date and time encoded as if it were UTC (tz_civil_to_seconds). Valid
 * inputs are within +-TZ_TIME_LIMIT (about 35,000 years); outside, results are clamped.
 *
 * Thread rules: tz_load() and everything reading a zone may be called from any thread. A
 * loaded zone is immutable and cached for the life of the process. Zones from tz_parse()
 * belong to the caller.
 */
#ifndef CLM_SCHEDULER_TZ_H
#define CLM_SCHEDULER_TZ_H

#include "lib/base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Longest zone name accepted by tz_load(). */
#define TZ_NAME_MAX 255

/** Where tz_load() looks for zone files. */
#define TZ_DIR "/usr/share/zoneinfo"

/** Largest |time| in seconds the conversions compute with (about 35,000 years). */
#define TZ_TIME_LIMIT (INT64_C(1) << 40)

/** Largest file tz_load() reads. Debian's biggest zone is under 4 KiB. */
#define TZ_FILE_MAX (256 * 1024)

typedef struct tz_zone tz_zone;

/**
 * @brief Check a zone name: 1..TZ_NAME_MAX characters of [A-Za-z0-9/_+-], not starting
 * with "/", no empty component ("//", trailing "/") and no "..".
 * @return CLM_OK, or CLM_ERR_INVALID_ARGUMENT naming the zone and what is wrong.
 */
clm_err tz_name_check(const char *name);

/**
 * @brief Load a zone by IANA name ("Europe/Berlin") from TZ_DIR, through a process-wide
 * cache. "UTC" is built in and needs no file.
 * @param[out] out the zone; immutable, valid until the process ends (never freed).
 * @return CLM_OK;
 *   CLM_ERR_INVALID_ARGUMENT: a bad name, or no zone file of that name (the message names
 *     the zone: `unknown time zone "Mars/Olympus"`), or the file is not a TZif file;
 *   CLM_ERR_PARSE: the file is a TZif file but malformed (see Strictness);
 *   CLM_ERR_IO: the file could not be read; CLM_ERR_NO_MEMORY.
 */
clm_err tz_load(const char *name, const tz_zone **out);

/** The built-in UTC zone (static, never freed). */
const tz_zone *tz_utc(void);

/**
 * @brief Parse TZif data (not cached).
 * @param[in] name recorded as the zone's name (copied; NULL reads as "").
 * @param[in] data the file contents; not retained.
 * @param[out] out free with tz_free().
 * @return CLM_OK, CLM_ERR_PARSE (the message says what and where), CLM_ERR_NO_MEMORY.
 */
clm_err tz_parse(const char *name, const void *data, size_t len, tz_zone **out);

/** Free a zone from tz_parse(). Accepts NULL. Never pass a zone from tz_load(). */
void tz_free(tz_zone *zone);

/** The zone's name, valid as long as the zone. */
const char *tz_name(const tz_zone *zone);

/** The local time type in effect at one instant. */
typedef struct tz_info {
    int32_t utoff;    /* seconds east of UTC: local = utc + utoff */
    bool is_dst;      /* daylight saving time */
    const char *abbr; /* "CEST"; valid as long as the zone */
} tz_info;

/** @brief The UT offset, DST flag and abbreviation in effect at `utc`. */
void tz_lookup(const tz_zone *zone, int64_t utc, tz_info *info);

/** @brief Shorthand: the local wall time of `utc` (utc + utoff). */
int64_t tz_to_local(const tz_zone *zone, int64_t utc);

/** How a local wall time maps to instants. */
typedef enum tz_local_kind {
    TZ_LOCAL_UNIQUE = 0, /* exists once: first */
    TZ_LOCAL_GAP,        /* skipped by a forward jump: first = the instant the gap ends */
    TZ_LOCAL_OVERLAP,    /* repeated by a backward jump: first, then second */
    TZ_LOCAL_KIND_MAX
} tz_local_kind;

typedef struct tz_local {
    tz_local_kind kind;
    int64_t first;  /* UNIQUE: the instant; OVERLAP: the earlier one; GAP: the transition */
    int64_t second; /* OVERLAP: the later instant; otherwise == first */
} tz_local;

/**
 * @brief Convert a local wall time to UTC, reporting gaps and overlaps.
 *
 * GAP: the wall time does not exist (for example 02:30 on the night clocks go from 02:00
 * to 03:00); `first` is the transition instant, i.e. the first existing instant after the
 * gap (03:00 local). OVERLAP: the wall time happens twice (01:30 on the night clocks go
 * from 02:00 back to 01:00): `first` is the earlier instant (still on summer time),
 * `second` the later.
 */
void tz_local_to_utc(const tz_zone *zone, int64_t local, tz_local *out);

/** One change of UT offset. */
typedef struct tz_transition {
    int64_t at; /* the instant (UTC); utoff_after applies from it on */
    int32_t utoff_before;
    int32_t utoff_after;
} tz_transition;

/**
 * @brief The first instant strictly after `after` where the zone's UT offset changes
 * (transitions that only change the abbreviation or DST flag are skipped).
 * @return true and *out set, or false when the offset never changes again.
 */
bool tz_next_transition(const tz_zone *zone, int64_t after, tz_transition *out);

/** A broken-down civil (proleptic Gregorian) date and time. */
typedef struct tz_civil {
    int64_t year;
    int month;   /* 1..12 */
    int day;     /* 1..31 */
    int hour;    /* 0..23 */
    int minute;  /* 0..59 */
    int second;  /* 0..59 */
    int weekday; /* 0..6, 0 = Sunday */
    int yday;    /* 0..365 */
} tz_civil;

/** @brief Break seconds since the epoch (UTC or local wall) into civil fields. */
void tz_civil_from_seconds(int64_t seconds, tz_civil *civil);

/** @brief Seconds since the epoch of a civil date and time (fields may overflow: 13th
 * month, 25th hour, day 0 are normalised arithmetically). */
int64_t tz_civil_to_seconds(int64_t year, int month, int day, int hour, int minute, int second);

/** Days since 1970-01-01 of a civil date (month 1..12, day 1..31 not checked). */
int64_t tz_days_from_civil(int64_t year, int month, int day);

/** 28..31. */
int tz_days_in_month(int64_t year, int month);

bool tz_is_leap_year(int64_t year);

#endif
