/*
 * Engine tests of scheduler/ with the fake clock and manual ticks (no sleeping): firing
 * once per slot, misfires, retries and backoff, lease expiry after a crash, per-kind
 * concurrency, cancellation, batches, progress throttling. More in sched_more_test.c.
 */
#include "lib/base/log.h"
#include "scheduler/sched_internal.h"
#include "scheduler/sched_testing.h"
#include "tests/unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t add_schedule(harness *h, const char *name, const char *kind, const char *cron,
                             const char *zone, sched_misfire misfire)
{
    sched_schedule_spec spec = {.name = name,
                                .kind = kind,
                                .cron = cron,
                                .time_zone = zone,
                                .enabled = true,
                                .misfire = misfire};
    uint64_t id = 0;
    clm_err err = sched_schedule_create(h->s, &spec, NULL, &id);

    if (err != CLM_OK)
        fprintf(stderr, "create %s: %s\n", name, clm_error_message());
    return id;
}

static int64_t next_fire(harness *h, uint64_t id)
{
    sched_schedule *sc = NULL;
    int64_t t = -1;

    if (sched_schedule_get(h->s, id, NULL, &sc) == CLM_OK)
        t = sc->next_fire_unix_nanos;
    sched_schedule_free(sc);
    return t;
}

#define AHEAD (INT64_C(500) * 1000000) /* options.fire_ahead_ms by default */

UNIT_TEST(fires_once_per_slot)
{
    harness *h = harness_new("slot", NULL);
    uint64_t id = add_schedule(h, "every5", "ok", "*/5 * * * *", NULL, SCHED_MISFIRE_DEFAULT);
    int64_t wake = 0;
    sched_schedule *sc = NULL;

    CHECK(id != 0);
    CHECK_INT_EQ(next_fire(h, id), T0 + MINS(5));
    CHECK_INT_EQ(sched_tick(h->s, &wake), CLM_OK);
    CHECK_INT_EQ(wake, T0 + MINS(5) - AHEAD); /* asleep until it is time to fire ahead */
    CHECK_INT_EQ(count_runs(h, NULL), 0);
    clm_clock_fake_set(&h->clock, T0 + MINS(5) - AHEAD - 1);
    CHECK_INT_EQ(sched_tick(h->s, &wake), CLM_OK);
    CHECK_INT_EQ(count_runs(h, NULL), 0); /* not yet */
    clm_clock_fake_set(&h->clock, T0 + MINS(5) - AHEAD);
    CHECK_INT_EQ(sched_tick(h->s, &wake), CLM_OK);
    CHECK_INT_EQ(wake, T0 + MINS(5)); /* its run is written, queued for the slot */
    CHECK_INT_EQ(count_runs(h, SCHED_STATE_QUEUED), 1);
    CHECK_INT_EQ(next_fire(h, id), T0 + MINS(10));
    CHECK_INT_EQ(sched_tick(h->s, &wake), CLM_OK);
    CHECK_INT_EQ(sched_wait_idle(h->s, 10000), CLM_OK);
    CHECK_INT_EQ(atomic_load(&h->ks.calls), 0); /* and does not start before it */
    clm_clock_fake_set(&h->clock, T0 + MINS(5));
    tick_and_settle(h);
    CHECK_INT_EQ(atomic_load(&h->ks.calls), 1);
    CHECK_INT_EQ(count_runs(h, SCHED_STATE_SUCCEEDED), 1);
    for (int i = 0; i < 3; i++) /* the same slot never fires again */
        tick_and_settle(h);
    clm_clock_fake_set(&h->clock, T0 + MINS(5) + SECS(30));
    tick_and_settle(h);
    CHECK_INT_EQ(atomic_load(&h->ks.calls), 1);
    CHECK_INT_EQ(next_fire(h, id), T0 + MINS(10));
    clm_clock_fake_set(&h->clock, T0 + MINS(10) + SECS(2)); /* a little late: on time */
    tick_and_settle(h);
    CHECK_INT_EQ(atomic_load(&h->ks.calls), 2);
    CHECK_INT_EQ(sched_schedule_get(h->s, id, NULL, &sc), CLM_OK);
    CHECK_INT_EQ(sc->fire_count, 2);
    CHECK_INT_EQ(sc->misfire_count, 0);
    CHECK_INT_EQ(sc->last_fire_unix_nanos, T0 + MINS(10));
    CHECK_INT_EQ(sc->next_fire_unix_nanos, T0 + MINS(15));
    sched_schedule_free(sc);
    harness_free(h);
}

UNIT_TEST(misfire_after_downtime)
{
    harness *h = harness_new("misfire", NULL);
    uint64_t once = add_schedule(h, "once", "ok", "* * * * *", NULL, SCHED_MISFIRE_RUN_ONCE);
    uint64_t skip = add_schedule(h, "skip", "ok", "* * * * *", NULL, SCHED_MISFIRE_SKIP);
    sched_run_filter f = {.schedule_id = once};
    sched_run_page page;
    sched_schedule *sc = NULL;

    /* The process is down for two hours: close everything, move the clock, reopen. */
    harness_engine_free(h);
    clm_clock_fake_set(&h->clock, T0 + MINS(120) + SECS(10));
    harness_engine(h, NULL);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    CHECK_INT_EQ(sched_wait_idle(h->s, 10000), CLM_OK);
    CHECK_INT_EQ(atomic_load(&h->ks.calls), 1); /* one run for 120 missed slots, not 120 */
    CHECK_INT_EQ(sched_run_list(h->s, &f, NULL, 10, &page), CLM_OK);
    CHECK_INT_EQ(page.n, 1);
    if (page.n == 1) {
        CHECK(page.items[0]->misfired);
        CHECK_INT_EQ(page.items[0]->scheduled_unix_nanos, T0 + MINS(1));
    }
    sched_run_page_free(&page);
    CHECK_INT_EQ(next_fire(h, once), T0 + MINS(121));
    CHECK_INT_EQ(sched_schedule_get(h->s, skip, NULL, &sc), CLM_OK);
    CHECK_INT_EQ(sc->fire_count, 0); /* skip: no run for the missed slots */
    CHECK_INT_EQ(sc->misfire_count, 1);
    CHECK_INT_EQ(sc->next_fire_unix_nanos, T0 + MINS(120)); /* within the grace: still on time */
    sched_schedule_free(sc);
    tick_and_settle(h); /* the 12:00 slot of "skip" is 10 s old: it runs */
    CHECK_INT_EQ(atomic_load(&h->ks.calls), 2);
    CHECK_INT_EQ(next_fire(h, skip), T0 + MINS(121));
    clm_clock_fake_set(&h->clock, T0 + MINS(121));
    tick_and_settle(h);
    CHECK_INT_EQ(atomic_load(&h->ks.calls), 4);
    harness_free(h);
}

UNIT_TEST(retries_with_backoff)
{
    harness *h = harness_new("retry", NULL);
    uint64_t id = run_now(h, "flaky");
    sched_run *r;

    tick_and_settle(h); /* attempt 1 fails: backoff min(3s, 1s * 2^0) * jitter 1.0 = 1 s */
    r = run_read(h, id);
    CHECK_STR_EQ(r->state, SCHED_STATE_QUEUED);
    CHECK_INT_EQ(r->attempt, 1);
    CHECK_INT_EQ(r->next_attempt_unix_nanos, T0 + SECS(1));
    CHECK_STR_EQ(r->last_error, "flaky failure at attempt 1");
    sched_run_free(r);
    tick_and_settle(h);
    CHECK_INT_EQ(atomic_load(&h->ks.calls), 1); /* not before its time */
    clm_clock_fake_set(&h->clock, T0 + SECS(1));
    tick_and_settle(h); /* attempt 2 fails: 2 s */
    r = run_read(h, id);
    CHECK_INT_EQ(r->attempt, 2);
    CHECK_INT_EQ(r->next_attempt_unix_nanos, T0 + SECS(3));
    sched_run_free(r);
    clm_clock_fake_set(&h->clock, T0 + SECS(3));
    tick_and_settle(h); /* attempt 3 of 3 fails: failed, the last error kept */
    r = run_read(h, id);
    CHECK_STR_EQ(r->state, SCHED_STATE_FAILED);
    CHECK_INT_EQ(r->attempt, 3);
    CHECK_STR_EQ(r->last_error, "gave up after 3 attempts: flaky failure at attempt 3");
    CHECK_INT_EQ(r->finished_unix_nanos, T0 + SECS(3));
    sched_run_free(r);
    CHECK_INT_EQ(atomic_load(&h->ks.calls), 3);

    /* The cap: attempt n waits min(max, base * 2^(n-1)). */
    {
        sched_kind_entry *k = sched_kind_entry_find(h->s, "flaky");

        CHECK_INT_EQ(sched_backoff_ns(h->s, k, 1), SECS(1));
        CHECK_INT_EQ(sched_backoff_ns(h->s, k, 2), SECS(2));
        CHECK_INT_EQ(sched_backoff_ns(h->s, k, 3), SECS(3));
        CHECK_INT_EQ(sched_backoff_ns(h->s, k, 30), SECS(3));
    }
    /* Succeeding at the second attempt. */
    h->ks.ok_at_attempt = 2;
    id = run_now(h, "flaky");
    tick_and_settle(h);
    clm_clock_fake_advance(&h->clock, SECS(1));
    tick_and_settle(h);
    r = run_read(h, id);
    CHECK_STR_EQ(r->state, SCHED_STATE_SUCCEEDED);
    CHECK_INT_EQ(r->attempt, 2);
    CHECK_INT_EQ(r->attempts_total, 2);
    sched_run_free(r);
    harness_free(h);
}

/* A consistent copy of the store taken while a run is leased: what a crash leaves. */
static void crash_image(harness *h, char *dir, size_t size)
{
    static int n;
    char path[700];
    int fd;

    snprintf(dir, size, "%s-crash%d", h->dir, ++n);
    mkdir(dir, 0700);
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK_INT_EQ(store_backup(h->st, fd), CLM_OK);
    close(fd);
}

UNIT_TEST(lease_expiry_after_crash)
{
    harness *h = harness_new("crash", NULL);
    uint64_t id = run_now(h, "gate"), id2 = run_now(h, "gate");
    char dir[600];
    sched_run *r;
    const store_table *const *tables;
    size_t n;
    int64_t lease_end;

    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    gate_wait_inside(&h->ks, 2);
    r = run_read(h, id);
    CHECK_STR_EQ(r->state, SCHED_STATE_RUNNING);
    CHECK_STR_EQ(r->lease_owner, sched_instance_id(h->s));
    lease_end = r->lease_expiry_unix_nanos;
    CHECK_INT_EQ(lease_end, T0 + SECS(30));
    sched_run_free(r);
    crash_image(h, dir, sizeof(dir));
    gate_release(&h->ks, 2); /* the old process finishes in its own (now lost) world */
    harness_engine_free(h);
    store_close(h->st);

    /* "Restart" on the crash image with a new instance. */
    tables = sched_tables(&n);
    CHECK_INT_EQ(store_open(dir, NULL, tables, n, &h->st), CLM_OK);
    h->ks.release = 0;
    h->ks.entered = 0;
    atomic_store(&h->ks.calls, 0);
    harness_engine(h, NULL);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    CHECK_STR_EQ(run_state(h, id), SCHED_STATE_RUNNING); /* the lease has not expired yet */
    CHECK_INT_EQ(atomic_load(&h->ks.calls), 0);
    clm_clock_fake_set(&h->clock, lease_end + 1);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK); /* expired: queued, then leased again */
    gate_wait_inside(&h->ks, 2);
    r = run_read(h, id);
    CHECK_STR_EQ(r->state, SCHED_STATE_RUNNING);
    CHECK_STR_EQ(r->lease_owner, sched_instance_id(h->s));
    CHECK_INT_EQ(r->attempt, 2);
    CHECK_STR_CONTAINS(r->last_error, "expired during attempt 1");
    sched_run_free(r);
    gate_release(&h->ks, 2);
    CHECK_INT_EQ(sched_wait_idle(h->s, 10000), CLM_OK);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    CHECK_STR_EQ(run_state(h, id), SCHED_STATE_SUCCEEDED);
    CHECK_STR_EQ(run_state(h, id2), SCHED_STATE_SUCCEEDED);
    CHECK_INT_EQ(atomic_load(&h->ks.calls), 2);
    harness_free(h);
}

/* A slot fired ahead, then a crash before the slot: its queued run is in the store, so
 * after the restart it runs once, at the slot, and the slot does not fire again. */
UNIT_TEST(fired_ahead_then_crash)
{
    harness *h = harness_new("ahead", NULL);
    uint64_t id = add_schedule(h, "every5", "ok", "*/5 * * * *", NULL, SCHED_MISFIRE_DEFAULT);
    const store_table *const *tables;
    sched_schedule *sc = NULL;
    char dir[600];
    size_t n;

    clm_clock_fake_set(&h->clock, T0 + MINS(5) - AHEAD);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    CHECK_INT_EQ(count_runs(h, SCHED_STATE_QUEUED), 1);
    crash_image(h, dir, sizeof(dir));
    harness_engine_free(h);
    store_close(h->st);
    tables = sched_tables(&n);
    CHECK_INT_EQ(store_open(dir, NULL, tables, n, &h->st), CLM_OK);
    harness_engine(h, NULL);
    CHECK_INT_EQ(count_runs(h, SCHED_STATE_QUEUED), 1); /* in the image, before any tick */
    clm_clock_fake_set(&h->clock, T0 + MINS(5) - 1);
    tick_and_settle(h);
    CHECK_INT_EQ(atomic_load(&h->ks.calls), 0); /* not before its slot */
    CHECK_INT_EQ(count_runs(h, NULL), 1);
    clm_clock_fake_set(&h->clock, T0 + MINS(5));
    tick_and_settle(h);
    tick_and_settle(h);
    CHECK_INT_EQ(atomic_load(&h->ks.calls), 1);
    CHECK_INT_EQ(count_runs(h, NULL), 1);
    CHECK_INT_EQ(count_runs(h, SCHED_STATE_SUCCEEDED), 1);
    CHECK_INT_EQ(sched_schedule_get(h->s, id, NULL, &sc), CLM_OK);
    CHECK_INT_EQ(sc->fire_count, 1);
    CHECK_INT_EQ(sc->next_fire_unix_nanos, T0 + MINS(10));
    sched_schedule_free(sc);
    harness_free(h);
}

/* A pass that leases runs fires nothing ahead (the leases would wait for that work's
 * commit): it asks for the next pass at once, and that one fires ahead. */
UNIT_TEST(fire_ahead_after_the_leases)
{
    harness *h = harness_new("ahead-leases", NULL);
    int64_t wake = 0;

    add_schedule(h, "every5", "ok", "*/5 * * * *", NULL, SCHED_MISFIRE_DEFAULT);
    clm_clock_fake_set(&h->clock, T0 + MINS(5) - AHEAD);
    run_now(h, "gate");
    CHECK_INT_EQ(sched_tick(h->s, &wake), CLM_OK);
    gate_wait_inside(&h->ks, 1);
    CHECK_INT_EQ(wake, T0 + MINS(5) - AHEAD); /* again at once */
    CHECK_INT_EQ(count_runs(h, SCHED_STATE_QUEUED), 0);
    CHECK_INT_EQ(sched_tick(h->s, &wake), CLM_OK);
    CHECK_INT_EQ(count_runs(h, SCHED_STATE_QUEUED), 1);
    CHECK_INT_EQ(wake, T0 + MINS(5));
    gate_release(&h->ks, 1);
    harness_free(h);
}

UNIT_TEST(reclaim_at_start_and_exhausted_attempts)
{
    harness *h = harness_new("reclaim", NULL);
    sched_options o = {.manual = true, .workers = 4, .reclaim_at_start = true};
    uint64_t id = run_now(h, "gate");
    const store_table *const *tables;
    char dir[600];
    size_t n;

    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    gate_wait_inside(&h->ks, 1);
    crash_image(h, dir, sizeof(dir));
    gate_release(&h->ks, 1);
    harness_engine_free(h);
    store_close(h->st);
    tables = sched_tables(&n);
    CHECK_INT_EQ(store_open(dir, NULL, tables, n, &h->st), CLM_OK);
    h->ks.release = 0;
    h->ks.inside = 0;
    harness_engine(h, &o);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK); /* taken at once, no waiting for the lease */
    gate_wait_inside(&h->ks, 1);
    {
        sched_run *r = run_read(h, id);

        CHECK_INT_EQ(r->attempt, 2);
        sched_run_free(r);
    }
    /* This instance "dies" too, twice more: the third expiry fails the run (3 attempts). */
    for (int crash = 0; crash < 2; crash++) {
        crash_image(h, dir, sizeof(dir));
        gate_release(&h->ks, 1);
        harness_engine_free(h);
        store_close(h->st);
        CHECK_INT_EQ(store_open(dir, NULL, tables, n, &h->st), CLM_OK);
        h->ks.release = 0;
        h->ks.inside = 0;
        harness_engine(h, &o);
        CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
        if (crash == 0)
            gate_wait_inside(&h->ks, 1);
    }
    {
        sched_run *r = run_read(h, id);

        CHECK_STR_EQ(r->state, SCHED_STATE_FAILED);
        CHECK_INT_EQ(r->attempt, 3);
        CHECK_STR_CONTAINS(r->last_error, "expired during attempt 3");
        sched_run_free(r);
    }
    harness_free(h);
}

UNIT_TEST(per_kind_concurrency)
{
    harness *h = harness_new("limit", NULL);
    uint64_t ids[5];
    sched_stats st;

    for (int i = 0; i < 5; i++)
        ids[i] = run_now(h, "gate"); /* max_concurrency 2, 4 workers */
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    gate_wait_inside(&h->ks, 2);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    sched_stats_get(h->s, &st);
    CHECK_INT_EQ(st.running, 2);
    CHECK_INT_EQ(count_runs(h, SCHED_STATE_RUNNING), 2);
    CHECK_INT_EQ(count_runs(h, SCHED_STATE_QUEUED), 3);
    CHECK_INT_EQ(h->ks.entered, 2);
    gate_release(&h->ks, 2);
    CHECK_INT_EQ(sched_wait_idle(h->s, 10000), CLM_OK);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK); /* two results stored, two more leased */
    gate_wait_inside(&h->ks, 2);
    CHECK_INT_EQ(count_runs(h, SCHED_STATE_SUCCEEDED), 2);
    CHECK_INT_EQ(count_runs(h, SCHED_STATE_RUNNING), 2);
    gate_release(&h->ks, 3);
    CHECK_INT_EQ(sched_wait_idle(h->s, 10000), CLM_OK);
    tick_and_settle(h);
    CHECK_INT_EQ(sched_wait_idle(h->s, 10000), CLM_OK);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    for (int i = 0; i < 5; i++)
        CHECK_STR_EQ(run_state(h, ids[i]), SCHED_STATE_SUCCEEDED);
    CHECK_INT_EQ(h->ks.entered, 5);
    harness_free(h);
}

UNIT_TEST(cancellation)
{
    harness *h = harness_new("cancel", NULL);
    uint64_t a = run_now(h, "gate"), b = run_now(h, "gate"), c = run_now(h, "gate");
    sched_run *r;

    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK); /* a and b run, c waits (limit 2) */
    gate_wait_inside(&h->ks, 2);
    CHECK_INT_EQ(sched_run_cancel(h->s, c, NULL), CLM_OK); /* queued: cancelled directly */
    CHECK_STR_EQ(run_state(h, c), SCHED_STATE_CANCELLED);
    CHECK_INT_EQ(sched_run_cancel(h->s, a, NULL), CLM_OK); /* running: the job observes it */
    r = run_read(h, a);
    CHECK_STR_EQ(r->state, SCHED_STATE_RUNNING);
    CHECK(r->cancel_requested);
    sched_run_free(r);
    for (int left = 0; !left;) { /* a leaves the gate by itself */
        pthread_mutex_lock(&h->ks.lock);
        left = h->ks.inside == 1;
        pthread_mutex_unlock(&h->ks.lock);
        usleep(1000);
    }
    gate_release(&h->ks, 1); /* b completes */
    CHECK_INT_EQ(sched_wait_idle(h->s, 10000), CLM_OK);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    r = run_read(h, a);
    CHECK_STR_EQ(r->state, SCHED_STATE_CANCELLED);
    CHECK_STR_CONTAINS(r->last_error, "cancel requested");
    sched_run_free(r);
    CHECK_STR_EQ(run_state(h, b), SCHED_STATE_SUCCEEDED);
    CHECK_INT_EQ(atomic_load(&h->ks.calls), 2); /* c never ran */
    CHECK_INT_EQ(sched_run_cancel(h->s, b, NULL), CLM_ERR_CONFLICT);
    CHECK_STR_CONTAINS(clm_error_message(), "finished already (succeeded)");
    CHECK_INT_EQ(sched_run_cancel(h->s, 9999, NULL), CLM_ERR_NOT_FOUND);
    harness_free(h);
}

UNIT_TEST(batches_with_intervals)
{
    harness *h = harness_new("batch", NULL);
    uint64_t id;
    sched_run *r;

    h->ks.last_batch = 2;
    id = run_now(h, "batch"); /* batch size 10, 5 minutes apart */
    tick_and_settle(h);
    r = run_read(h, id);
    CHECK_STR_EQ(r->state, SCHED_STATE_QUEUED);
    CHECK_INT_EQ(r->batch_index, 1);
    CHECK_INT_EQ(r->next_attempt_unix_nanos, T0 + MINS(5));
    CHECK_INT_EQ(r->progress_done, 10);
    CHECK_INT_EQ(r->progress_total, 30);
    sched_run_free(r);
    clm_clock_fake_set(&h->clock, T0 + MINS(4));
    tick_and_settle(h);
    CHECK_INT_EQ(atomic_load(&h->ks.calls), 1); /* the interval holds */
    clm_clock_fake_set(&h->clock, T0 + MINS(5));
    tick_and_settle(h);
    clm_clock_fake_set(&h->clock, T0 + MINS(10));
    tick_and_settle(h);
    r = run_read(h, id);
    CHECK_STR_EQ(r->state, SCHED_STATE_SUCCEEDED);
    CHECK_INT_EQ(r->batch_index, 2);
    CHECK_INT_EQ(r->attempts_total, 3);
    CHECK_INT_EQ(r->progress_done, 30);
    CHECK_STR_EQ(r->progress_message, "batch 2");
    CHECK_INT_EQ(r->finished_unix_nanos, T0 + MINS(10));
    sched_run_free(r);
    CHECK_INT_EQ(atomic_load(&h->ks.n_batches), 3);
    CHECK_INT_EQ(h->ks.batches_seen[0], 0);
    CHECK_INT_EQ(h->ks.batches_seen[1], 1);
    CHECK_INT_EQ(h->ks.batches_seen[2], 2);
    harness_free(h);
}

static int watched;
static uint64_t watched_last_done;

static void on_change(void *arg, const sched_run *run)
{
    (void)arg;
    watched++;
    watched_last_done = run->progress_done;
}

UNIT_TEST(progress_throttling)
{
    harness *h = harness_new("progress", NULL);
    uint64_t id, gen;
    sched_stats st;
    sched_run *r;

    harness_engine_free(h); /* again, with a watcher */
    {
        sched_options o = {.manual = true, .workers = 2};

        o.random = max_jitter;
        CHECK_INT_EQ(sched_new(h->st, &h->clock.clock, &o, &h->s), CLM_OK);
        CHECK_INT_EQ(sched_kind_register(h->s, &test_kinds[4]), CLM_OK);
        sched_watch_set(h->s, on_change, NULL);
        CHECK_INT_EQ(sched_start(h->s), CLM_OK);
    }
    id = run_now(h, "progress");
    gen = sched_generation(h->s);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    CHECK(sched_wait_change(h->s, gen, 0) > gen); /* leased: a change */
    progress_wait(&h->ks, 1);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK); /* stored at once: the first report */
    r = run_read(h, id);
    CHECK_INT_EQ(r->progress_done, 1);
    CHECK_STR_EQ(r->progress_message, "one");
    sched_run_free(r);
    CHECK_INT_EQ(watched_last_done, 1);
    progress_go(&h->ks);
    progress_wait(&h->ks, 2); /* reported 2 and 3 at the same (fake) instant */
    for (int i = 0; i < 5; i++)
        CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    r = run_read(h, id);
    CHECK_INT_EQ(r->progress_done, 1); /* throttled */
    sched_run_free(r);
    clm_clock_fake_advance(&h->clock, 249 * CLM_NS_PER_MS);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    r = run_read(h, id);
    CHECK_INT_EQ(r->progress_done, 1);
    sched_run_free(r);
    clm_clock_fake_advance(&h->clock, 1 * CLM_NS_PER_MS);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    r = run_read(h, id);
    CHECK_INT_EQ(r->progress_done, 3); /* the latest value wins */
    CHECK_STR_EQ(r->progress_message, "three");
    sched_run_free(r);
    sched_stats_get(h->s, &st);
    CHECK_INT_EQ(st.progress_writes, 2);
    progress_go(&h->ks);
    CHECK_INT_EQ(sched_wait_idle(h->s, 10000), CLM_OK);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    r = run_read(h, id);
    CHECK_STR_EQ(r->state, SCHED_STATE_SUCCEEDED);
    CHECK_INT_EQ(r->progress_done, 3);
    sched_run_free(r);
    CHECK(watched >= 4); /* created, leased, progress 1, progress 3, succeeded */
    CHECK_INT_EQ(watched_last_done, 3);
    harness_free(h);
}

/* A report still held back by the throttle when the run ends is stored with the result. */
UNIT_TEST(progress_flushed_at_end)
{
    harness *h = harness_new("progress-end", NULL);
    uint64_t id = run_now(h, "progress");
    sched_run *r;

    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    progress_wait(&h->ks, 1);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK); /* "one" stored */
    progress_go(&h->ks);
    progress_wait(&h->ks, 2); /* "two", "three": throttled (the fake clock stands still) */
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    r = run_read(h, id);
    CHECK_INT_EQ(r->progress_done, 1);
    sched_run_free(r);
    progress_go(&h->ks);
    CHECK_INT_EQ(sched_wait_idle(h->s, 10000), CLM_OK);
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    r = run_read(h, id);
    CHECK_STR_EQ(r->state, SCHED_STATE_SUCCEEDED);
    CHECK_INT_EQ(r->progress_done, 3);
    CHECK_INT_EQ(r->progress_total, 10);
    CHECK_STR_EQ(r->progress_message, "three");
    sched_run_free(r);
    harness_free(h);
}

UNIT_TEST(dst_schedule_next_fire)
{
    harness *h = harness_new("dst", NULL);
    /* 2025-03-30 00:00 UTC = 01:00 CET; "30 2" falls in the gap: runs at 03:00 CEST. */
    int64_t start = INT64_C(1743292800) * CLM_NS_PER_SEC;
    uint64_t id;

    clm_clock_fake_set(&h->clock, start);
    id = add_schedule(h, "berlin", "ok", "30 2 * * *", "Europe/Berlin", SCHED_MISFIRE_DEFAULT);
    CHECK_INT_EQ(next_fire(h, id), start + SECS(3600)); /* 01:00 UTC = 03:00 CEST */
    clm_clock_fake_set(&h->clock, start + SECS(3600));
    tick_and_settle(h);
    CHECK_INT_EQ(atomic_load(&h->ks.calls), 1);
    CHECK_INT_EQ(next_fire(h, id), start + SECS(86400 + 30 * 60)); /* 03-31 02:30 CEST */
    harness_free(h);
}

int main(void)
{
    clm_log_set_level(CLM_LOG_ERROR);
    UNIT_RUN(fires_once_per_slot);
    UNIT_RUN(misfire_after_downtime);
    UNIT_RUN(retries_with_backoff);
    UNIT_RUN(lease_expiry_after_crash);
    UNIT_RUN(fired_ahead_then_crash);
    UNIT_RUN(fire_ahead_after_the_leases);
    UNIT_RUN(reclaim_at_start_and_exhausted_attempts);
    UNIT_RUN(per_kind_concurrency);
    UNIT_RUN(cancellation);
    UNIT_RUN(batches_with_intervals);
    UNIT_RUN(progress_throttling);
    UNIT_RUN(progress_flushed_at_end);
    UNIT_RUN(dst_schedule_next_fire);
    return unit_report();
}
