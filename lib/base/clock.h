/*
 * lib/base/clock.h: the injectable clock.
 *
 * Everything time-based in clm takes a `const clm_clock *` instead of calling
 * time() or clock_gettime(), so tests can drive time without sleeping (the
 * scheduler, leases, expiry windows, backoff). Production code passes
 * clm_clock_system().
 *
 * Thread rules: the system clock may be used from any thread. A fake clock may be
 * read from any thread while one thread sets or advances it (the value is atomic).
 */
#ifndef CLM_LIB_BASE_CLOCK_H
#define CLM_LIB_BASE_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>

#define CLM_NS_PER_SEC INT64_C(1000000000)
#define CLM_NS_PER_MS INT64_C(1000000)

typedef struct clm_clock clm_clock;

struct clm_clock {
    /** MUST: wall-clock time, nanoseconds since the Unix epoch (UTC). */
    int64_t (*now_ns)(const clm_clock *clock);
    /** MUST: monotonic time in nanoseconds, for measuring intervals and timeouts. */
    int64_t (*monotonic_ns)(const clm_clock *clock);
};

/** The real clock (CLOCK_REALTIME and CLOCK_MONOTONIC). A static object; never freed. */
const clm_clock *clm_clock_system(void);

static inline int64_t clm_clock_now_ns(const clm_clock *clock)
{
    return clock->now_ns(clock);
}

static inline int64_t clm_clock_monotonic_ns(const clm_clock *clock)
{
    return clock->monotonic_ns(clock);
}

/** A clock for tests: both readings are one value that only the test moves. */
typedef struct clm_clock_fake {
    clm_clock clock; /* first member: pass &fake.clock where a clm_clock is wanted */
    _Atomic int64_t now;
} clm_clock_fake;

/** Start the fake clock at start_ns (nanoseconds since the epoch). */
void clm_clock_fake_init(clm_clock_fake *fake, int64_t start_ns);
void clm_clock_fake_set(clm_clock_fake *fake, int64_t now_ns);
void clm_clock_fake_advance(clm_clock_fake *fake, int64_t delta_ns);

#endif
