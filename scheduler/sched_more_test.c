/*
 * More engine tests of scheduler/: validation (errors name the field, nothing written),
 * listing and paging, retention, a graceful stop, the dispatcher thread woken on a fake
 * clock, and a concurrency stress loop (run under ASan by tools/test).
 */
#include "lib/base/log.h"
#include "scheduler/sched_internal.h"
#include "scheduler/sched_testing.h"
#include "tests/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static size_t count_schedules(harness *h)
{
    sched_schedule_page page;
    size_t n;

    if (sched_schedule_list(h->s, 0, 1000, &page) != CLM_OK)
        return (size_t)-1;
    n = page.n;
    sched_schedule_page_free(&page);
    return n;
}

UNIT_TEST(validation_names_the_field)
{
    harness *h = harness_new("valid", NULL);
    static char big[SCHED_PARAMS_MAX + 1], long_name[SCHED_NAME_MAX + 2];
    static const struct {
        sched_schedule_spec spec;
        const char *message;
    } bad[] = {
        {{.name = "a", .kind = "nope", .cron = "* * * * *"}, "kind: unknown job kind \"nope\""},
        {{.name = "a", .kind = "ok", .cron = "0 25 * * *"},
         "cron: field \"hour\" at position 3: 25 is outside 0-23"},
        {{.name = "a", .kind = "ok", .cron = "@every -5m"},
         "cron: field \"interval\" at position 8: negative"},
        {{.name = "a", .kind = "ok", .cron = "@every 400d"}, "cron: field \"interval\""},
        {{.name = "a", .kind = "ok", .cron = "* * * * *", .time_zone = "Mars/Olympus"},
         "time_zone: unknown time zone \"Mars/Olympus\""},
        {{.name = "a", .kind = "ok", .cron = "* * * * *", .time_zone = "../../etc/passwd"},
         "time_zone: time zone \"../../etc/passwd\": character 1"},
        {{.name = "", .kind = "ok", .cron = "* * * * *"}, "name: must not be empty"},
        {{.name = "a\nb", .kind = "ok", .cron = "* * * * *"}, "name: control character"},
        {{.name = "a", .kind = "ok", .cron = "* * * * *", .batch_interval_minutes = 20000},
         "batch_interval_minutes: 20000"},
        {{.name = "a", .kind = "ok", .cron = "* * * * *", .misfire = SCHED_MISFIRE_MAX},
         "misfire:"},
    };
    sched_schedule_spec spec = {.name = long_name, .kind = "ok", .cron = "* * * * *"};
    sched_run_spec run = {.kind = "nope"};
    uint64_t id = 0;

    memset(long_name, 'x', sizeof(long_name) - 1);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        clm_error_clear();
        CHECK_INT_EQ(sched_schedule_create(h->s, &bad[i].spec, NULL, &id),
                     CLM_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(clm_error_message(), bad[i].message);
    }
    CHECK_INT_EQ(sched_schedule_create(h->s, &spec, NULL, &id), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "name: 129 bytes is longer than 128");
    spec.name = "big";
    spec.params = big;
    spec.params_len = sizeof(big);
    CHECK_INT_EQ(sched_schedule_create(h->s, &spec, NULL, &id), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "params: 65537 bytes is more than 65536");
    CHECK_INT_EQ(sched_run_now(h->s, &run, NULL, &id), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "kind: unknown job kind \"nope\"");
    CHECK_INT_EQ(count_schedules(h), 0); /* nothing stored */
    CHECK_INT_EQ(count_runs(h, NULL), 0);

    /* Duplicate names; update validation; a failing hook undoes everything. */
    spec.params = NULL;
    spec.params_len = 0;
    spec.name = "dup";
    CHECK_INT_EQ(sched_schedule_create(h->s, &spec, NULL, &id), CLM_OK);
    CHECK_INT_EQ(sched_schedule_create(h->s, &spec, NULL, NULL), CLM_ERR_ALREADY_EXISTS);
    CHECK_STR_CONTAINS(clm_error_message(), "name: a schedule named \"dup\" exists already");
    spec.cron = "61 * * * *";
    CHECK_INT_EQ(sched_schedule_update(h->s, id, SCHED_SET_CRON, &spec, NULL),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "cron: field \"minute\" at position 1");
    CHECK_INT_EQ(sched_schedule_update(h->s, id, 0, &spec, NULL), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(sched_schedule_update(h->s, 777, SCHED_SET_ENABLED, &spec, NULL),
                 CLM_ERR_NOT_FOUND);
    CHECK_INT_EQ(sched_schedule_delete(h->s, 777, NULL), CLM_ERR_NOT_FOUND);
    CHECK_INT_EQ(count_schedules(h), 1);
    harness_free(h);
}

static clm_err failing_hook(store_txn *txn, void *arg)
{
    (void)txn;
    (*(int *)arg)++;
    return clm_fail(CLM_ERR_PERMISSION, "audit refused");
}

UNIT_TEST(update_enable_delete_and_hooks)
{
    harness *h = harness_new("update", NULL);
    sched_schedule_spec spec = {.name = "s", .kind = "ok", .cron = "0 * * * *", .enabled = true};
    int calls = 0;
    sched_hook hook = {failing_hook, &calls};
    sched_schedule *sc = NULL;
    uint64_t id;

    CHECK_INT_EQ(sched_schedule_create(h->s, &spec, &hook, &id), CLM_ERR_PERMISSION);
    CHECK(calls >= 1);
    CHECK_INT_EQ(count_schedules(h), 0);
    CHECK_INT_EQ(sched_schedule_create(h->s, &spec, NULL, &id), CLM_OK);
    spec.enabled = false;
    CHECK_INT_EQ(sched_schedule_update(h->s, id, SCHED_SET_ENABLED, &spec, NULL), CLM_OK);
    CHECK_INT_EQ(sched_schedule_get(h->s, 0, "s", &sc), CLM_OK);
    CHECK(!sc->enabled);
    CHECK_INT_EQ(sc->next_fire_unix_nanos, 0);
    sched_schedule_free(sc);
    clm_clock_fake_set(&h->clock, T0 + MINS(61));
    tick_and_settle(h);
    CHECK_INT_EQ(count_runs(h, NULL), 0); /* disabled: no fire */
    spec.enabled = true;
    spec.cron = "*/15 * * * *";
    spec.time_zone = "America/New_York";
    spec.name = "renamed";
    CHECK_INT_EQ(sched_schedule_update(
                     h->s, id, SCHED_SET_ENABLED | SCHED_SET_CRON | SCHED_SET_NAME, &spec, NULL),
                 CLM_OK);
    CHECK_INT_EQ(sched_schedule_get(h->s, 0, "renamed", &sc), CLM_OK);
    CHECK_INT_EQ(sc->next_fire_unix_nanos, T0 + MINS(75));
    CHECK_STR_EQ(sc->time_zone, "America/New_York");
    sched_schedule_free(sc);
    CHECK_INT_EQ(sched_schedule_get(h->s, 0, "s", &sc), CLM_ERR_NOT_FOUND);
    CHECK_INT_EQ(sched_schedule_update(h->s, id, SCHED_SET_ENABLED, &spec, &hook),
                 CLM_ERR_PERMISSION);
    CHECK_INT_EQ(sched_schedule_delete(h->s, id, &hook), CLM_ERR_PERMISSION);
    CHECK_INT_EQ(count_schedules(h), 1);
    CHECK_INT_EQ(sched_schedule_delete(h->s, id, NULL), CLM_OK);
    CHECK_INT_EQ(count_schedules(h), 0);
    harness_free(h);
}

UNIT_TEST(listing_and_paging)
{
    harness *h = harness_new("list", NULL);
    sched_run_filter f = {0};
    sched_run_page page;
    char token[SCHED_PAGE_TOKEN_MAX] = "";
    uint64_t ok_ids[7], flaky_ids[3], last = 0;
    size_t total = 0;

    for (int i = 0; i < 7; i++) {
        ok_ids[i] = run_now(h, "ok");
        clm_clock_fake_advance(&h->clock, SECS(1));
    }
    for (int i = 0; i < 3; i++) {
        flaky_ids[i] = run_now(h, "flaky");
        clm_clock_fake_advance(&h->clock, SECS(1));
    }
    for (int i = 0; i < 5; i++) /* ok: succeeded; flaky: queued for a retry */
        tick_and_settle(h);
    f.kind = "ok";
    do { /* newest first, pages of 3 */
        CHECK_INT_EQ(sched_run_list(h->s, &f, token, 3, &page), CLM_OK);
        for (size_t i = 0; i < page.n; i++) {
            CHECK_STR_EQ(page.items[i]->kind, "ok");
            CHECK(last == 0 || page.items[i]->id < last);
            last = page.items[i]->id;
        }
        total += page.n;
        snprintf(token, sizeof(token), "%s", page.next_page_token);
        sched_run_page_free(&page);
    } while (token[0]);
    CHECK_INT_EQ(total, 7);
    CHECK_INT_EQ(last, ok_ids[0]);
    f.kind = NULL;
    f.state = SCHED_STATE_QUEUED;
    CHECK_INT_EQ(sched_run_list(h->s, &f, NULL, 10, &page), CLM_OK);
    CHECK_INT_EQ(page.n, 3);
    sched_run_page_free(&page);
    f.state = NULL; /* a time window, oldest first: runs created in [T0+2s, T0+5s) */
    f.created_from_ns = T0 + SECS(2);
    f.created_to_ns = T0 + SECS(5);
    f.oldest_first = true;
    CHECK_INT_EQ(sched_run_list(h->s, &f, NULL, 10, &page), CLM_OK);
    CHECK_INT_EQ(page.n, 3);
    if (page.n == 3)
        CHECK_INT_EQ(page.items[0]->id, ok_ids[2]);
    sched_run_page_free(&page);
    f.kind = "flaky"; /* kind and state together */
    f.state = SCHED_STATE_SUCCEEDED;
    f.created_from_ns = f.created_to_ns = 0;
    CHECK_INT_EQ(sched_run_list(h->s, &f, NULL, 10, &page), CLM_OK);
    CHECK_INT_EQ(page.n, 0);
    sched_run_page_free(&page);
    f.state = "bogus";
    CHECK_INT_EQ(sched_run_list(h->s, &f, NULL, 10, &page), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "state: \"bogus\"");
    f.state = NULL;
    CHECK_INT_EQ(sched_run_list(h->s, &f, "12x", 10, &page), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "page_token:");
    CHECK_INT_EQ(sched_run_list(h->s, &f, NULL, 5000, &page), CLM_ERR_INVALID_ARGUMENT);
    (void)flaky_ids;
    harness_free(h);
}

UNIT_TEST(schedule_list_paging)
{
    harness *h = harness_new("slist", NULL);
    sched_schedule_spec specs[25];
    char names[25][16];
    sched_schedule_page page;
    uint64_t first, after = 0;
    size_t total = 0;

    for (int i = 0; i < 25; i++) {
        snprintf(names[i], sizeof(names[i]), "s%02d", i);
        specs[i] = (sched_schedule_spec){
            .name = names[i], .kind = "ok", .cron = "@hourly", .enabled = i % 2 == 0};
    }
    CHECK_INT_EQ(sched_schedule_create_many(h->s, specs, 25, NULL, &first), CLM_OK);
    do {
        CHECK_INT_EQ(sched_schedule_list(h->s, after, 10, &page), CLM_OK);
        for (size_t i = 0; i < page.n; i++) {
            CHECK_INT_EQ(page.items[i]->id, first + total + i);
            CHECK_INT_EQ(page.items[i]->next_fire_unix_nanos,
                         page.items[i]->enabled ? T0 + MINS(60) : 0);
        }
        total += page.n;
        after = page.next_after_id;
        sched_schedule_page_free(&page);
    } while (after != 0);
    CHECK_INT_EQ(total, 25);
    specs[3].name = "s00"; /* all or nothing */
    CHECK_INT_EQ(sched_schedule_create_many(h->s, specs + 3, 1, NULL, NULL),
                 CLM_ERR_ALREADY_EXISTS);
    CHECK_INT_EQ(count_schedules(h), 25);
    harness_free(h);
}

UNIT_TEST(retention_by_count_and_age)
{
    harness *h = harness_new("retain", NULL);
    sched_options o = {.manual = true,
                       .workers = 2,
                       .retain_count = 3,
                       .retain_age_ms = 3600 * 1000,
                       .prune_interval_ms = 60000};
    sched_stats st;

    harness_engine_free(h);
    harness_engine(h, &o);
    for (int i = 0; i < 6; i++)
        run_now(h, "ok");
    for (int i = 0; i < 4; i++)
        tick_and_settle(h);
    CHECK_INT_EQ(count_runs(h, SCHED_STATE_SUCCEEDED), 6);
    clm_clock_fake_advance(&h->clock, SECS(61));
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    CHECK_INT_EQ(count_runs(h, SCHED_STATE_SUCCEEDED), 3); /* the newest 3 */
    run_now(h, "flaky");                                   /* unfinished runs are never pruned */
    tick_and_settle(h);
    clm_clock_fake_advance(&h->clock, SECS(3601));
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    CHECK_INT_EQ(count_runs(h, SCHED_STATE_SUCCEEDED), 0); /* older than an hour */
    CHECK_INT_EQ(count_runs(h, NULL), 1);
    sched_stats_get(h->s, &st);
    CHECK_INT_EQ(st.pruned, 6);
    harness_free(h);
}

UNIT_TEST(stop_releases_running_runs)
{
    harness *h = harness_new("stop", NULL);
    sched_options o = {.manual = true, .workers = 2, .stop_grace_ms = 20};
    uint64_t id;
    sched_run *r;

    harness_engine_free(h);
    harness_engine(h, &o);
    h->ks.on_cancel = SCHED_OUTCOME_RETRY;
    id = run_now(h, "gate");
    CHECK_INT_EQ(sched_tick(h->s, NULL), CLM_OK);
    gate_wait_inside(&h->ks, 1);
    sched_stop(h->s); /* after 20 ms the run is told to stop; it returns RETRY */
    r = run_read(h, id);
    CHECK_STR_EQ(r->state, SCHED_STATE_QUEUED); /* released, not failed */
    CHECK_STR_EQ(r->lease_owner, "");
    CHECK_INT_EQ(r->attempt, 1);
    sched_run_free(r);
    CHECK_INT_EQ(sched_run_now(h->s, &(sched_run_spec){.kind = "ok"}, NULL, NULL),
                 CLM_ERR_CONFLICT);
    harness_engine_free(h);
    h->ks.release = 1;
    harness_engine(h, NULL); /* the next start runs it again */
    tick_and_settle(h);
    r = run_read(h, id);
    CHECK_STR_EQ(r->state, SCHED_STATE_SUCCEEDED);
    CHECK_INT_EQ(r->attempt, 2);
    sched_run_free(r);
    harness_free(h);
}

UNIT_TEST(dispatcher_thread_on_fake_clock)
{
    harness *h = harness_new("thread", NULL);
    sched_options o = {.workers = 2};
    sched_schedule_spec spec = {.name = "m", .kind = "ok", .cron = "* * * * *", .enabled = true};
    uint64_t gen;

    harness_engine_free(h);
    harness_engine(h, &o); /* a real dispatcher thread */
    CHECK_INT_EQ(sched_schedule_create(h->s, &spec, NULL, NULL), CLM_OK);
    gen = sched_generation(h->s);
    CHECK(sched_wait_change(h->s, gen, 50) == gen); /* nothing is due: it sleeps */
    for (int minute = 1; minute <= 3; minute++) {
        clm_clock_fake_set(&h->clock, T0 + MINS(minute));
        sched_wake(h->s);
        for (int i = 0; i < 500 && atomic_load(&h->ks.calls) < minute; i++)
            gen = sched_wait_change(h->s, gen, 20);
        CHECK_INT_EQ(atomic_load(&h->ks.calls), minute);
    }
    for (int i = 0; i < 500 && count_runs(h, SCHED_STATE_SUCCEEDED) < 3; i++)
        gen = sched_wait_change(h->s, gen, 20);
    CHECK_INT_EQ(count_runs(h, SCHED_STATE_SUCCEEDED), 3);
    harness_free(h);
}

typedef struct stress {
    harness *h;
    int n;
    uint64_t ids[200];
} stress;

static void *stress_thread(void *arg)
{
    stress *st = arg;

    for (int i = 0; i < st->n; i++) {
        st->ids[i] = run_now(st->h, i % 5 == 0 ? "flaky" : "ok");
        if (i % 7 == 3)
            sched_run_cancel(st->h->s, st->ids[i], NULL);
    }
    return NULL;
}

UNIT_TEST(stress_concurrent_api_and_workers)
{
    harness *h = harness_new("stress", NULL);
    sched_options o = {.workers = 4};
    stress st[3];
    pthread_t threads[3];
    size_t final = 0;
    int wrong = 0;

    harness_engine_free(h);
    harness_engine(h, &o);
    h->ks.ok_at_attempt = 1; /* flaky succeeds at once here */
    for (int t = 0; t < 3; t++) {
        st[t] = (stress){.h = h, .n = 150};
        pthread_create(&threads[t], NULL, stress_thread, &st[t]);
    }
    for (int t = 0; t < 3; t++)
        pthread_join(threads[t], NULL);
    for (int i = 0; i < 2000; i++) {
        final = count_runs(h, SCHED_STATE_SUCCEEDED) + count_runs(h, SCHED_STATE_CANCELLED);
        if (final == 450)
            break;
        sched_wait_change(h->s, sched_generation(h->s), 10);
    }
    CHECK_INT_EQ(final, 450);
    for (int t = 0; t < 3; t++)
        for (int i = 0; i < st[t].n; i++) {
            uint64_t id = st[t].ids[i];
            const char *state = run_state(h, id);

            /* a run ran at most once (ok kind), and succeeded ones exactly once */
            if (id < 512 && i % 5 != 0 && atomic_load(&h->ks.per_run[id]) > 1)
                wrong++;
            if (id < 512 && i % 5 != 0 && strcmp(state, SCHED_STATE_SUCCEEDED) == 0 &&
                atomic_load(&h->ks.per_run[id]) != 1)
                wrong++;
        }
    CHECK_INT_EQ(wrong, 0);
    harness_free(h);
}

/* A one-off run at a given time (at_ns): queued until then, run then, not before. */
UNIT_TEST(run_at_a_time)
{
    harness *h = harness_new("run_at", NULL);
    int64_t now = clm_clock_now_ns(&h->clock.clock);
    sched_run_spec spec = {.kind = "ok", .at_ns = now + SECS(3)};
    uint64_t id = 0;
    sched_run *r;

    CHECK_INT_EQ(sched_run_now(h->s, &spec, NULL, &id), CLM_OK);
    r = run_read(h, id);
    CHECK_INT_EQ(r->next_attempt_unix_nanos, now + SECS(3));
    CHECK_INT_EQ(r->scheduled_unix_nanos, now + SECS(3));
    sched_run_free(r);
    clm_clock_fake_advance(&h->clock, SECS(2));
    tick_and_settle(h);
    CHECK_STR_EQ(run_state(h, id), SCHED_STATE_QUEUED); /* not before its time */
    clm_clock_fake_advance(&h->clock, SECS(1));
    tick_and_settle(h);
    CHECK_STR_EQ(run_state(h, id), SCHED_STATE_SUCCEEDED);
    spec.at_ns = now - SECS(60); /* a past time is now */
    CHECK_INT_EQ(sched_run_now(h->s, &spec, NULL, &id), CLM_OK);
    tick_and_settle(h);
    CHECK_STR_EQ(run_state(h, id), SCHED_STATE_SUCCEEDED);
    harness_free(h);
}

int main(void)
{
    clm_log_set_level(CLM_LOG_ERROR);
    UNIT_RUN(validation_names_the_field);
    UNIT_RUN(update_enable_delete_and_hooks);
    UNIT_RUN(listing_and_paging);
    UNIT_RUN(schedule_list_paging);
    UNIT_RUN(retention_by_count_and_age);
    UNIT_RUN(stop_releases_running_runs);
    UNIT_RUN(dispatcher_thread_on_fake_clock);
    UNIT_RUN(stress_concurrent_api_and_workers);
    UNIT_RUN(run_at_a_time);
    return unit_report();
}
