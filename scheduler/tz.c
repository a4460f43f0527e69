/*
 * scheduler/tz.c: the TZif reader (RFC 8536), the zone cache and the conversions.
 * See tz.h for why this exists instead of localtime_r() and TZ.
 */
#include "scheduler/tz_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- civil time (Howard Hinnant's algorithms, proleptic Gregorian) -------------------- */

bool tz_is_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int tz_days_in_month(int64_t year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (month == 2 && tz_is_leap_year(year))
        return 29;
    return days[(month - 1) % 12];
}

int64_t tz_days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

void tz_civil_from_seconds(int64_t seconds, tz_civil *c)
{
    int64_t t = tz_clamp(seconds);
    int64_t days = floor_div(t, 86400), sod = t - days * 86400;
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;

    c->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    c->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    c->year = yoe + era * 400 + (c->month <= 2);
    c->hour = (int)(sod / 3600);
    c->minute = (int)(sod / 60 % 60);
    c->second = (int)(sod % 60);
    c->weekday = (int)(((days + 4) % 7 + 7) % 7);
    c->yday = (int)(days - tz_days_from_civil(c->year, 1, 1));
}

int64_t tz_civil_to_seconds(int64_t year, int month, int day, int hour, int minute, int second)
{
    int64_t m0 = month - 1;

    year += floor_div(m0, 12);
    m0 -= floor_div(m0, 12) * 12;
    return (tz_days_from_civil(year, (int)m0 + 1, 1) + day - 1) * 86400 + (int64_t)hour * 3600 +
           (int64_t)minute * 60 + second;
}

/* ---- the TZif reader ------------------------------------------------------------------ */

typedef struct reader {
    const unsigned char *p;
    size_t len, off;
} reader;

typedef struct header {
    int version; /* 1, 2, 3 or 4 */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} header;

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t get64(const unsigned char *p)
{
    return (int64_t)((uint64_t)get32(p) << 32 | get32(p + 4));
}

static clm_err malformed(const reader *r, const char *what)
{
    return clm_fail(CLM_ERR_PARSE, "TZif at byte %zu: %s", r->off, what);
}

static clm_err read_header(reader *r, header *h)
{
    const unsigned char *p = r->p + r->off;
    uint32_t n[6];

    if (r->len - r->off < 44)
        return malformed(r, "truncated header");
    if (memcmp(p, "TZif", 4) != 0)
        return malformed(r, "no TZif magic");
    if (p[4] == 0)
        h->version = 1;
    else if (p[4] >= '2' && p[4] <= '4')
        h->version = p[4] - '0';
    else
        return malformed(r, "unsupported version");
    for (int i = 0; i < 6; i++)
        n[i] = get32(p + 20 + 4 * i);
    h->isutcnt = n[0];
    h->isstdcnt = n[1];
    h->leapcnt = n[2];
    h->timecnt = n[3];
    h->typecnt = n[4];
    h->charcnt = n[5];
    if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0)
        return malformed(r, "typecnt must be 1..256 and charcnt at least 1");
    if ((h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
        (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
        return malformed(r, "isutcnt and isstdcnt must be 0 or typecnt");
    if (h->timecnt > TZ_FILE_MAX || h->charcnt > TZ_FILE_MAX || h->leapcnt > TZ_FILE_MAX)
        return malformed(r, "counts larger than any zone file");
    r->off += 44;
    return CLM_OK;
}

static size_t block_size(const header *h, size_t time_size)
{
    return h->timecnt * (time_size + 1) + h->typecnt * 6 + h->charcnt +
           h->leapcnt * (time_size + 4) + h->isstdcnt + h->isutcnt;
}

/* The data block after `h`, times of `ts` bytes, into `z`. */
static clm_err read_block(reader *r, const header *h, size_t ts, tz_zone *z)
{
    const unsigned char *p = r->p + r->off, *idx, *types, *chars, *isstd, *isut;

    if (r->len - r->off < block_size(h, ts))
        return malformed(r, "truncated data block");
    if (h->leapcnt != 0)
        return malformed(r, "leap-second zones (\"right/\") are not supported");
    z->n_times = h->timecnt;
    z->n_types = h->typecnt;
    z->abbrs_len = h->charcnt;
    z->times = calloc(h->timecnt ? h->timecnt : 1, sizeof(*z->times));
    z->time_types = calloc(h->timecnt ? h->timecnt : 1, 1);
    z->types = calloc(h->typecnt, sizeof(*z->types));
    z->abbrs = malloc(h->charcnt);
    if (!z->times || !z->time_types || !z->types || !z->abbrs)
        return clm_fail(CLM_ERR_NO_MEMORY, "TZif: out of memory");
    idx = p + h->timecnt * ts;
    types = idx + h->timecnt;
    chars = types + h->typecnt * 6;
    isstd = chars + h->charcnt + h->leapcnt * (ts + 4);
    isut = isstd + h->isstdcnt;
    for (uint32_t i = 0; i < h->timecnt; i++) {
        z->times[i] = ts == 8 ? get64(p + 8 * i) : (int64_t)(int32_t)get32(p + 4 * i);
        if (i > 0 && z->times[i] <= z->times[i - 1])
            return malformed(r, "transition times are not strictly ascending");
        if (idx[i] >= h->typecnt)
            return malformed(r, "transition type index out of range");
        z->time_types[i] = idx[i];
    }
    for (uint32_t i = 0; i < h->typecnt; i++) {
        const unsigned char *t = types + 6 * i;
        int32_t utoff = (int32_t)get32(t);

        if (utoff <= -TZ_UTOFF_LIMIT || utoff >= TZ_UTOFF_LIMIT)
            return malformed(r, "UT offset out of range");
        if (t[4] > 1 || t[5] >= h->charcnt)
            return malformed(r, "bad isdst or designation index");
        z->types[i] = (tz_type){utoff, t[4] == 1, t[5]};
        if ((h->isstdcnt && isstd[i] > 1) || (h->isutcnt && isut[i] > 1))
            return malformed(r, "standard/wall and UT/local indicators must be 0 or 1");
        if (h->isutcnt && isut[i] == 1 && (h->isstdcnt == 0 || isstd[i] != 1))
            return malformed(r, "a UT indicator requires the standard indicator");
    }
    memcpy(z->abbrs, chars, h->charcnt);
    if (z->abbrs[h->charcnt - 1] != '\0')
        return malformed(r, "designations are not NUL-terminated");
    r->off += block_size(h, ts);
    return CLM_OK;
}

static clm_err read_footer(reader *r, tz_zone *z)
{
    const unsigned char *p = r->p + r->off, *end;
    size_t left = r->len - r->off;

    if (left < 2 || p[0] != '\n')
        return malformed(r, "missing footer");
    end = memchr(p + 1, '\n', left - 1);
    if (end == NULL)
        return malformed(r, "unterminated footer");
    if ((size_t)(end - p) + 1 != left)
        return malformed(r, "bytes after the footer");
    if (end == p + 1)
        return CLM_OK; /* empty: no rule */
    if (tz_rule_parse((const char *)p + 1, (size_t)(end - p - 1), &z->rule) != CLM_OK)
        return clm_error_context(CLM_ERR_PARSE, "TZif footer");
    z->has_rule = true;
    r->off = r->len;
    return CLM_OK;
}

void tz_free(tz_zone *zone)
{
    if (zone == NULL)
        return;
    free(zone->name);
    free(zone->times);
    free(zone->time_types);
    free(zone->types);
    free(zone->abbrs);
    free(zone);
}

clm_err tz_parse(const char *name, const void *data, size_t len, tz_zone **out)
{
    reader r = {data, len, 0};
    header h;
    tz_zone *z = calloc(1, sizeof(*z));
    clm_err err;

    *out = NULL;
    if (z == NULL || (z->name = strdup(name ? name : "")) == NULL) {
        free(z);
        return clm_fail(CLM_ERR_NO_MEMORY, "TZif: out of memory");
    }
    err = read_header(&r, &h);
    if (err == CLM_OK && h.version >= 2) {
        int version = h.version;

        if (r.len - r.off < block_size(&h, 4))
            err = malformed(&r, "truncated version 1 data block");
        else
            r.off += block_size(&h, 4);
        if (err == CLM_OK)
            err = read_header(&r, &h);
        if (err == CLM_OK && h.version != version)
            err = malformed(&r, "the two headers disagree on the version");
        if (err == CLM_OK)
            err = read_block(&r, &h, 8, z);
        if (err == CLM_OK)
            err = read_footer(&r, z);
    } else if (err == CLM_OK) {
        err = read_block(&r, &h, 4, z);
        if (err == CLM_OK && r.off != r.len)
            err = malformed(&r, "bytes after the data block");
    }
    if (err != CLM_OK) {
        tz_free(z);
        return err;
    }
    *out = z;
    return CLM_OK;
}

/* ---- lookups -------------------------------------------------------------------------- */

static void type_info(const tz_zone *z, size_t type, tz_info *info)
{
    info->utoff = z->types[type].utoff;
    info->is_dst = z->types[type].is_dst;
    info->abbr = z->abbrs + z->types[type].abbr;
}

/* Index of the last transition <= t, or -1. */
static ptrdiff_t last_at_or_before(const tz_zone *z, int64_t t)
{
    size_t lo = 0, hi = z->n_times;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (z->times[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

void tz_lookup(const tz_zone *zone, int64_t utc, tz_info *info)
{
    ptrdiff_t i;

    if (zone->n_times == 0) {
        if (zone->has_rule)
            tz_rule_lookup(&zone->rule, utc, info);
        else
            type_info(zone, 0, info);
        return;
    }
    i = last_at_or_before(zone, utc);
    if (i < 0)
        type_info(zone, 0, info);
    else if ((size_t)i == zone->n_times - 1 && utc > zone->times[i] && zone->has_rule)
        tz_rule_lookup(&zone->rule, utc, info);
    else
        type_info(zone, zone->time_types[i], info);
}

int64_t tz_to_local(const tz_zone *zone, int64_t utc)
{
    tz_info info;

    utc = tz_clamp(utc);
    tz_lookup(zone, utc, &info);
    return utc + info.utoff;
}

bool tz_next_transition(const tz_zone *zone, int64_t after, tz_transition *out)
{
    size_t i = (size_t)(last_at_or_before(zone, after) + 1);

    for (; i < zone->n_times; i++) {
        int32_t before = zone->types[i == 0 ? 0 : zone->time_types[i - 1]].utoff;
        int32_t now = zone->types[zone->time_types[i]].utoff;

        if (before != now) {
            *out = (tz_transition){zone->times[i], before, now};
            return true;
        }
    }
    if (!zone->has_rule)
        return false;
    if (zone->n_times > 0 && after < zone->times[zone->n_times - 1])
        after = zone->times[zone->n_times - 1];
    return tz_rule_next(&zone->rule, after, out);
}

#define WINDOW_TRANSITIONS 16

void tz_local_to_utc(const tz_zone *zone, int64_t local, tz_local *out)
{
    int64_t lo, hi, valid[WINDOW_TRANSITIONS + 1], t;
    int32_t offsets[WINDOW_TRANSITIONS + 1];
    tz_transition trans[WINDOW_TRANSITIONS], tr;
    size_t n_off = 0, n_trans = 0, n_valid = 0;
    tz_info info;

    local = tz_clamp(local);
    lo = local - TZ_UTOFF_LIMIT;
    hi = local + TZ_UTOFF_LIMIT;
    tz_lookup(zone, lo, &info);
    offsets[n_off++] = info.utoff;
    for (t = lo; n_trans < WINDOW_TRANSITIONS && tz_next_transition(zone, t, &tr) && tr.at <= hi;
         t = tr.at) {
        trans[n_trans++] = tr;
        offsets[n_off++] = tr.utoff_after;
    }
    for (size_t i = 0; i < n_off; i++) {
        int64_t u = local - offsets[i];
        bool seen = false;

        tz_lookup(zone, u, &info);
        if (info.utoff != offsets[i])
            continue;
        for (size_t j = 0; j < n_valid; j++)
            seen = seen || valid[j] == u;
        if (!seen)
            valid[n_valid++] = u;
    }
    for (size_t i = 1; i < n_valid; i++) /* sort ascending */
        for (size_t j = i; j > 0 && valid[j - 1] > valid[j]; j--) {
            int64_t x = valid[j];

            valid[j] = valid[j - 1];
            valid[j - 1] = x;
        }
    if (n_valid == 0) {
        out->kind = TZ_LOCAL_GAP;
        tz_lookup(zone, local, &info);
        out->first = local - info.utoff; /* fallback for inconsistent data */
        for (size_t i = 0; i < n_trans; i++)
            if (trans[i].utoff_after > trans[i].utoff_before &&
                trans[i].at + trans[i].utoff_before <= local &&
                local < trans[i].at + trans[i].utoff_after) {
                out->first = trans[i].at;
                break;
            }
        out->second = out->first;
    } else {
        out->kind = n_valid == 1 ? TZ_LOCAL_UNIQUE : TZ_LOCAL_OVERLAP;
        out->first = valid[0];
        out->second = valid[n_valid > 1 ? 1 : 0];
    }
}

const char *tz_name(const tz_zone *zone)
{
    return zone->name;
}

/* ---- loading and the cache ------------------------------------------------------------ */

static int64_t utc_times[1];
static uint8_t utc_time_types[1];
static tz_type utc_types[1] = {{0, false, 0}};
static char utc_abbrs[] = "UTC";
static tz_zone utc_zone = {(char *)"UTC", 0,         utc_times,         utc_time_types, 1,
                           utc_types,     utc_abbrs, sizeof(utc_abbrs), false,          {0}};

const tz_zone *tz_utc(void)
{
    return &utc_zone;
}

clm_err tz_name_check(const char *name)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "time zone: the name is empty");
    if (len > TZ_NAME_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "time zone: the name is longer than %d",
                        TZ_NAME_MAX);
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '/' || ch == '_' || ch == '+' || ch == '-'))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "time zone \"%.64s\": character %zu is not one of [A-Za-z0-9/_+-]",
                            name, i + 1);
    }
    if (name[0] == '/' || name[len - 1] == '/' || strstr(name, "//") != NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "time zone \"%.64s\": not a relative name like Europe/Berlin", name);
    return CLM_OK; /* '.' is not allowed at all, so neither is ".." */
}

typedef struct cache_entry {
    struct cache_entry *next;
    tz_zone *zone;
} cache_entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_entry *cache;

static const tz_zone *cache_find(const char *name)
{
    for (cache_entry *e = cache; e != NULL; e = e->next)
        if (strcmp(e->zone->name, name) == 0)
            return e->zone;
    return NULL;
}

static clm_err read_zone_file(const char *name, unsigned char **data, size_t *len)
{
    char path[sizeof(TZ_DIR) + TZ_NAME_MAX + 2];
    struct stat sb;
    size_t got = 0;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", TZ_DIR, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int e = errno;

        if (fd >= 0)
            close(fd);
        if (fd >= 0 || e == ENOENT || e == ENOTDIR || e == ELOOP || e == ENAMETOOLONG)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "unknown time zone \"%s\": no zone file %s (an IANA name like "
                            "Europe/Berlin is expected)",
                            name, path);
        return clm_fail(CLM_ERR_IO, "time zone \"%s\": %s: %s", name, path, strerror(e));
    }
    if (sb.st_size > TZ_FILE_MAX || sb.st_size < 4) {
        close(fd);
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "unknown time zone \"%s\": %s is not a zone file",
                        name, path);
    }
    *data = malloc((size_t)sb.st_size);
    if (*data == NULL) {
        close(fd);
        return clm_fail(CLM_ERR_NO_MEMORY, "time zone \"%s\": out of memory", name);
    }
    while (got < (size_t)sb.st_size) {
        ssize_t n = read(fd, *data + got, (size_t)sb.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            free(*data);
            return clm_fail(CLM_ERR_IO, "time zone \"%s\": reading %s failed", name, path);
        }
        got += (size_t)n;
    }
    close(fd);
    *len = got;
    if (memcmp(*data, "TZif", 4) != 0) {
        free(*data);
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "unknown time zone \"%s\": %s is not a zone file",
                        name, path);
    }
    return CLM_OK;
}

clm_err tz_load(const char *name, const tz_zone **out)
{
    unsigned char *data = NULL;
    const tz_zone *found;
    cache_entry *entry;
    tz_zone *zone;
    size_t len = 0;
    clm_err err;

    *out = NULL;
    if ((err = tz_name_check(name)) != CLM_OK)
        return err;
    if (strcmp(name, "UTC") == 0) {
        *out = &utc_zone;
        return CLM_OK;
    }
    pthread_mutex_lock(&cache_lock);
    found = cache_find(name);
    pthread_mutex_unlock(&cache_lock);
    if (found != NULL) {
        *out = found;
        return CLM_OK;
    }
    if ((err = read_zone_file(name, &data, &len)) != CLM_OK)
        return err;
    err = tz_parse(name, data, len, &zone);
    free(data);
    if (err != CLM_OK)
        return clm_error_context(err, "time zone \"%s\"", name);
    entry = malloc(sizeof(*entry));
    if (entry == NULL) {
        tz_free(zone);
        return clm_fail(CLM_ERR_NO_MEMORY, "time zone \"%s\": out of memory", name);
    }
    pthread_mutex_lock(&cache_lock);
    found = cache_find(name); /* another thread may have loaded it meanwhile */
    if (found == NULL) {
        entry->zone = zone;
        entry->next = cache;
        cache = entry;
        found = zone;
    } else {
        tz_free(zone);
        free(entry);
    }
    pthread_mutex_unlock(&cache_lock);
    *out = found;
    return CLM_OK;
}
