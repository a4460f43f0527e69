/*
 * tests/unit.h: the unit-test harness (header only, table-driven friendly).
 *
 * Why not Check or cmocka: Check forks per test by default, which does not mix with
 * the threads of LMDB and gRPC that our tests start, and cmocka has no static
 * archive in Debian; what a test needs here is only counted assertions.
 *
 *   UNIT_TEST(name) { CHECK(x == 1); CHECK_STR_EQ(a, "b"); }
 *   int main(void) { UNIT_RUN(name); ... return unit_report(); }
 *
 * unit_report() prints "N passed, N failed" (checks, not tests) and returns the
 * exit code.
 */
#ifndef CLM_TESTS_UNIT_H
#define CLM_TESTS_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int unit_passed;
static int unit_failed;
static const char *unit_current;

#define UNIT_TEST(name) static void name(void)
#define UNIT_RUN(name)                                                                  \
    do {                                                                                \
        unit_current = #name;                                                           \
        name();                                                                         \
    } while (0)

#define UNIT_FAIL_AT(file, line, ...)                                                   \
    do {                                                                                \
        unit_failed++;                                                                  \
        fprintf(stderr, "FAIL %s (%s:%d): ", unit_current, file, line);                 \
        fprintf(stderr, __VA_ARGS__);                                                   \
        fputc('\n', stderr);                                                            \
    } while (0)

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (cond)                                                                       \
            unit_passed++;                                                              \
        else                                                                            \
            UNIT_FAIL_AT(__FILE__, __LINE__, "%s", #cond);                              \
    } while (0)

#define CHECK_INT_EQ(got, want)                                                         \
    do {                                                                                \
        long long unit_g_ = (long long)(got), unit_w_ = (long long)(want);              \
        if (unit_g_ == unit_w_)                                                         \
            unit_passed++;                                                              \
        else                                                                            \
            UNIT_FAIL_AT(__FILE__, __LINE__, "%s == %lld, want %lld", #got, unit_g_,    \
                         unit_w_);                                                      \
    } while (0)

#define CHECK_STR_EQ(got, want)                                                         \
    do {                                                                                \
        const char *unit_g_ = (got), *unit_w_ = (want);                                 \
        if (unit_g_ != NULL && unit_w_ != NULL && strcmp(unit_g_, unit_w_) == 0)        \
            unit_passed++;                                                              \
        else                                                                            \
            UNIT_FAIL_AT(__FILE__, __LINE__, "%s == \"%s\", want \"%s\"", #got,         \
                         unit_g_ ? unit_g_ : "(null)", unit_w_ ? unit_w_ : "(null)");   \
    } while (0)

#define CHECK_STR_CONTAINS(got, part)                                                   \
    do {                                                                                \
        const char *unit_g_ = (got), *unit_p_ = (part);                                 \
        if (unit_g_ != NULL && strstr(unit_g_, unit_p_) != NULL)                        \
            unit_passed++;                                                              \
        else                                                                            \
            UNIT_FAIL_AT(__FILE__, __LINE__, "%s == \"%s\" lacks \"%s\"", #got,         \
                         unit_g_ ? unit_g_ : "(null)", unit_p_);                        \
    } while (0)

static inline int unit_report(void)
{
    printf("%d passed, %d failed\n", unit_passed, unit_failed);
    return unit_failed == 0 ? 0 : 1;
}

#endif
