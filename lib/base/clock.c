/* lib/base/clock.c: the system clock and the fake clock for tests. */
#include "lib/base/clock.h"

#include <time.h>

static int64_t read_clock(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * CLM_NS_PER_SEC + ts.tv_nsec;
}

static int64_t system_now(const clm_clock *clock)
{
    (void)clock;
    return read_clock(CLOCK_REALTIME);
}

static int64_t system_monotonic(const clm_clock *clock)
{
    (void)clock;
    return read_clock(CLOCK_MONOTONIC);
}

static const clm_clock system_clock = {system_now, system_monotonic};

const clm_clock *clm_clock_system(void)
{
    return &system_clock;
}

static int64_t fake_now(const clm_clock *clock)
{
    return atomic_load(&((clm_clock_fake *)(uintptr_t)clock)->now);
}

void clm_clock_fake_init(clm_clock_fake *fake, int64_t start_ns)
{
    fake->clock.now_ns = fake_now;
    fake->clock.monotonic_ns = fake_now;
    atomic_store(&fake->now, start_ns);
}

void clm_clock_fake_set(clm_clock_fake *fake, int64_t now_ns)
{
    atomic_store(&fake->now, now_ns);
}

void clm_clock_fake_advance(clm_clock_fake *fake, int64_t delta_ns)
{
    atomic_fetch_add(&fake->now, delta_ns);
}
