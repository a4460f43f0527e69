/* Unit tests for scheduler/tz.c and tz_rule.c: the TZif reader, POSIX TZ rules, conversions. */
#include "scheduler/tz.h"
#include "scheduler/tz_internal.h"
#include "tests/unit.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Every zone file Debian installs parses (strictness must not refuse real data). */
static void walk(const char *dir, const char *prefix, int *files, int *bad)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char path[1024], name[512];
        struct stat sb;
        FILE *f;
        unsigned char magic[4];

        if (e->d_name[0] == '.' || strcmp(e->d_name, "right") == 0 ||
            strcmp(e->d_name, "posix") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        snprintf(name, sizeof(name), "%s%s", prefix, e->d_name);
        if (stat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            char sub[520];

            snprintf(sub, sizeof(sub), "%s/", name);
            walk(path, sub, files, bad);
            continue;
        }
        f = fopen(path, "rb");
        if (f == NULL)
            continue;
        if (fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0) {
            const tz_zone *z;

            (*files)++;
            if (tz_load(name, &z) != CLM_OK) {
                (*bad)++;
                fprintf(stderr, "zone %s: %s\n", name, clm_error_message());
            }
        }
        fclose(f);
    }
    closedir(d);
}

UNIT_TEST(every_installed_zone_loads)
{
    int files = 0, bad = 0;

    walk(TZ_DIR, "", &files, &bad);
    CHECK(files > 300);
    CHECK_INT_EQ(bad, 0);
    printf("tz: %d zone files loaded\n", files);
}

UNIT_TEST(berlin_and_new_york)
{
    const tz_zone *ber, *ny, *again;
    tz_info info;
    tz_local l;
    tz_transition tr;

    CHECK_INT_EQ(tz_load("Europe/Berlin", &ber), CLM_OK);
    CHECK_INT_EQ(tz_load("Europe/Berlin", &again), CLM_OK);
    CHECK(ber == again); /* cached */
    CHECK_INT_EQ(tz_load("America/New_York", &ny), CLM_OK);
    CHECK_STR_EQ(tz_name(ny), "America/New_York");
    tz_lookup(ber, 1736935200, &info); /* 2025-01-15 */
    CHECK_INT_EQ(info.utoff, 3600);
    CHECK(!info.is_dst);
    CHECK_STR_EQ(info.abbr, "CET");
    tz_lookup(ber, 1751328000, &info); /* 2025-07-01 */
    CHECK_INT_EQ(info.utoff, 7200);
    CHECK(info.is_dst);
    CHECK_STR_EQ(info.abbr, "CEST");
    /* 2025-03-30 01:00Z: Berlin jumps 02:00 -> 03:00. */
    CHECK(tz_next_transition(ber, 1736935200, &tr));
    CHECK_INT_EQ(tr.at, 1743296400);
    CHECK_INT_EQ(tr.utoff_before, 3600);
    CHECK_INT_EQ(tr.utoff_after, 7200);
    tz_local_to_utc(ber, tz_civil_to_seconds(2025, 3, 30, 2, 30, 0), &l);
    CHECK_INT_EQ(l.kind, TZ_LOCAL_GAP);
    CHECK_INT_EQ(l.first, 1743296400);
    tz_local_to_utc(ber, tz_civil_to_seconds(2025, 3, 30, 3, 0, 0), &l);
    CHECK_INT_EQ(l.kind, TZ_LOCAL_UNIQUE);
    CHECK_INT_EQ(l.first, 1743296400);
    /* 2025-10-26: 03:00 CEST -> 02:00 CET; 02:30 happens twice. */
    tz_local_to_utc(ber, tz_civil_to_seconds(2025, 10, 26, 2, 30, 0), &l);
    CHECK_INT_EQ(l.kind, TZ_LOCAL_OVERLAP);
    CHECK_INT_EQ(l.first, 1761438600);
    CHECK_INT_EQ(l.second, 1761442200);
    /* New York 2025-11-02: 01:30 twice (EDT, then EST). */
    tz_local_to_utc(ny, tz_civil_to_seconds(2025, 11, 2, 1, 30, 0), &l);
    CHECK_INT_EQ(l.kind, TZ_LOCAL_OVERLAP);
    CHECK_INT_EQ(l.first, 1762061400);
    CHECK_INT_EQ(l.second, 1762065000);
    tz_lookup(ny, l.second, &info);
    CHECK_STR_EQ(info.abbr, "EST");
    /* Far future: the footer's rule ("EST5EDT,M3.2.0,M11.1.0"). 2100-07-01 is EDT. */
    tz_lookup(ny, 4118083200, &info);
    CHECK_INT_EQ(info.utoff, -4 * 3600);
    CHECK_STR_EQ(info.abbr, "EDT");
    CHECK(tz_next_transition(ny, 4118083200, &tr)); /* 2100-11-07 06:00Z */
    CHECK_INT_EQ(tr.at, 4129250400);
    CHECK_INT_EQ(tz_to_local(tz_utc(), 12345), 12345);
    CHECK(!tz_next_transition(tz_utc(), 0, &tr));
}

UNIT_TEST(posix_rules)
{
    static const struct {
        const char *text;
        clm_err want;
    } cases[] = {
        {"CET-1CEST,M3.5.0,M10.5.0/3", CLM_OK},
        {"EST5EDT,M3.2.0,M11.1.0", CLM_OK},
        {"<+03>-3", CLM_OK},
        {"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", CLM_OK},
        {"IST-2IDT,M3.4.4/26,M10.5.0", CLM_OK},
        {"EST5EDT,0/0,J365/25", CLM_OK}, /* DST all year */
        {"NZST-12NZDT,M9.5.0,M4.1.0/3", CLM_OK},
        {"UTC0", CLM_OK},
        {"AB-1", CLM_ERR_PARSE},
        {"CET", CLM_ERR_PARSE},
        {"CET-1CEST", CLM_ERR_PARSE},
        {"CET-25", CLM_ERR_PARSE},
        {"CET-1CEST,M13.5.0,M10.5.0", CLM_ERR_PARSE},
        {"CET-1CEST,M3.6.0,M10.5.0", CLM_ERR_PARSE},
        {"CET-1CEST,M3.5.0,M10.5.0/168", CLM_ERR_PARSE},
        {"CET-1CEST,J0,J100", CLM_ERR_PARSE},
        {"<+03", CLM_ERR_PARSE},
        {"CET-1CEST,M3.5.0,M10.5.0x", CLM_ERR_PARSE},
    };
    tz_rule rule;
    tz_info info;
    tz_transition tr;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        clm_err err = tz_rule_parse(cases[i].text, strlen(cases[i].text), &rule);

        if (err != cases[i].want)
            fprintf(stderr, "rule %s: %s\n", cases[i].text, clm_error_message());
        CHECK_INT_EQ(err, cases[i].want);
    }
    CHECK_INT_EQ(tz_rule_parse("EST5EDT,0/0,J365/25", 19, &rule), CLM_OK);
    tz_rule_lookup(&rule, 1736935200, &info);
    CHECK(info.is_dst);
    CHECK(!tz_rule_next(&rule, 1736935200, &tr)); /* never changes */
    /* Southern hemisphere: New Zealand DST in January. */
    CHECK_INT_EQ(tz_rule_parse("NZST-12NZDT,M9.5.0,M4.1.0/3", 27, &rule), CLM_OK);
    tz_rule_lookup(&rule, 1736935200, &info);
    CHECK_INT_EQ(info.utoff, 13 * 3600);
    CHECK_STR_EQ(info.abbr, "NZDT");
}

/* A minimal version-2 TZif file: one transition, two types, the given footer. */
static size_t make_tzif(unsigned char *out, int version, const char *footer)
{
    unsigned char *p = out;
    static const unsigned char v1_block[] = {0, 0, 0, 0, 0, 0, 'U', 'T', 'C', 0};
    size_t n;

    for (int block = 0; block < (version == 1 ? 1 : 2); block++) {
        bool v1 = block == 0 && version > 1;
        uint32_t counts[6] = {0, 0, 0, v1 ? 0 : 1, v1 ? 1 : 2, v1 ? 4 : 8};
        size_t ts = block == 0 ? 4 : 8;

        memcpy(p, "TZif", 4);
        p[4] = version == 1 ? 0 : (unsigned char)('0' + version);
        memset(p + 5, 0, 15);
        for (int i = 0; i < 6; i++) {
            p[20 + 4 * i] = (unsigned char)(counts[i] >> 24);
            p[21 + 4 * i] = (unsigned char)(counts[i] >> 16);
            p[22 + 4 * i] = (unsigned char)(counts[i] >> 8);
            p[23 + 4 * i] = (unsigned char)counts[i];
        }
        p += 44;
        if (v1) {
            memcpy(p, v1_block, sizeof(v1_block));
            p += sizeof(v1_block);
            continue;
        }
        memset(p, 0, ts); /* transition at 1000000 */
        p[ts - 3] = 0x0f;
        p[ts - 2] = 0x42;
        p[ts - 1] = 0x40;
        p += ts;
        *p++ = 1;
        memcpy(p, (const unsigned char[]){0, 0, 0, 0, 0, 0, 0, 0, 0x0e, 0x10, 1, 4}, 12);
        p += 12;
        memcpy(p, "UTC\0ONE\0", 8);
        p += 8;
    }
    if (version > 1) {
        n = strlen(footer);
        *p++ = '\n';
        memcpy(p, footer, n);
        p += n;
        *p++ = '\n';
    }
    return (size_t)(p - out);
}

UNIT_TEST(tzif_versions_and_strictness)
{
    unsigned char buf[512];
    tz_zone *z;
    tz_info info;
    size_t n;

    for (int version = 1; version <= 3; version++) {
        n = make_tzif(buf, version, "ONE-1");
        CHECK_INT_EQ(tz_parse("t", buf, n, &z), CLM_OK);
        if (z == NULL)
            continue;
        tz_lookup(z, 999999, &info);
        CHECK_INT_EQ(info.utoff, 0);
        tz_lookup(z, 1000000, &info);
        CHECK_INT_EQ(info.utoff, 3600);
        CHECK_STR_EQ(info.abbr, "ONE");
        tz_free(z);
    }
    n = make_tzif(buf, 2, "");
    CHECK_INT_EQ(tz_parse("t", buf, n, &z), CLM_OK); /* empty footer: no rule */
    tz_free(z);
    n = make_tzif(buf, 2, "ONE-1");
    for (size_t cut = 0; cut < n; cut++) /* every truncation is refused */
        if (tz_parse("t", buf, cut, &z) != CLM_ERR_PARSE)
            CHECK(!"a truncated file parsed");
    buf[n] = 'x';
    CHECK_INT_EQ(tz_parse("t", buf, n + 1, &z), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "bytes after the footer");
    n = make_tzif(buf, 2, "bogus");
    CHECK_INT_EQ(tz_parse("t", buf, n, &z), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "TZif footer");
    n = make_tzif(buf, 2, "ONE-1");
    buf[4] = '9';
    CHECK_INT_EQ(tz_parse("t", buf, n, &z), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "unsupported version");
    CHECK_INT_EQ(tz_name_check("Etc/GMT+5"), CLM_OK);
    CHECK_INT_EQ(tz_name_check("America/Argentina/Buenos_Aires"), CLM_OK);
    CHECK_INT_EQ(tz_name_check(".."), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(tz_name_check("a/../b"), CLM_ERR_INVALID_ARGUMENT);
}

UNIT_TEST(civil_arithmetic)
{
    tz_civil c;

    tz_civil_from_seconds(0, &c);
    CHECK(c.year == 1970 && c.month == 1 && c.day == 1 && c.weekday == 4 && c.yday == 0);
    tz_civil_from_seconds(951782400, &c); /* 2000-02-29 */
    CHECK(c.year == 2000 && c.month == 2 && c.day == 29 && c.weekday == 2);
    tz_civil_from_seconds(-1, &c);
    CHECK(c.year == 1969 && c.month == 12 && c.day == 31 && c.hour == 23 && c.second == 59);
    CHECK_INT_EQ(tz_civil_to_seconds(2000, 2, 29, 0, 0, 0), 951782400);
    CHECK_INT_EQ(tz_civil_to_seconds(1999, 14, 29, 0, 0, 0), 951782400); /* month 14 = Feb */
    CHECK_INT_EQ(tz_days_in_month(1900, 2), 28);
    CHECK_INT_EQ(tz_days_in_month(2000, 2), 29);
    for (int64_t t = -5000000000LL; t < 5000000000LL; t += 86399 * 97) {
        tz_civil_from_seconds(t, &c);
        if (tz_civil_to_seconds(c.year, c.month, c.day, c.hour, c.minute, c.second) != t)
            CHECK(!"civil round trip");
    }
    unit_passed++;
}

int main(void)
{
    UNIT_RUN(every_installed_zone_loads);
    UNIT_RUN(berlin_and_new_york);
    UNIT_RUN(posix_rules);
    UNIT_RUN(tzif_versions_and_strictness);
    UNIT_RUN(civil_arithmetic);
    return unit_report();
}
