/*
 * scheduler/sched_bench.c: dispatch lag of the scheduler (not a test).
 *
 *   bazel run -c opt //scheduler:sched_bench -- [--schedules N] [--seconds S] [--workers W]
 *                                              [--fire-batch B] [--queue-depth Q]
 *
 * Phase "100k": N schedules (default 100,000) on the real clock and a real dispatcher
 * thread: 20% "S * * * * *" (every minute at second S) and 80% "S M-59/2 * * * *" (every
 * two minutes), S and M spread evenly, so about N/100 runs are due each second. The job
 * kind records, when its run function starts, lag = now - the slot that fired it (due ->
 * running). Reported: runs, p50, p99, max; the process CPU while idle with N schedules none
 * of which is due (phase "idle"); peak RSS and the store's size.
 * Phase "single": one schedule "* * * * * *" for the same time, the same measure.
 * The ratio of the two shows what N schedules cost.
 */
#include "lib/base/log.h"
#include "scheduler/scheduler.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES 4000000

static int64_t *samples;
static size_t n_samples;
static pthread_mutex_t samples_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t measure_from_ns;
static unsigned fire_batch = 5000, queue_depth = 2000;

static sched_outcome bench_run(sched_ctx *ctx, void *arg)
{
    int64_t now = clm_clock_now_ns(sched_ctx_clock(ctx)), due = sched_ctx_scheduled_ns(ctx);

    (void)arg;
    if (due >= measure_from_ns && sched_ctx_attempt(ctx) == 1) {
        pthread_mutex_lock(&samples_lock);
        if (n_samples < MAX_SAMPLES)
            samples[n_samples++] = now - due;
        pthread_mutex_unlock(&samples_lock);
    }
    return SCHED_OUTCOME_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void report(const char *phase, size_t schedules, double seconds)
{
    qsort(samples, n_samples, sizeof(*samples), cmp_i64);
    if (n_samples == 0) {
        printf("%-7s schedules=%zu runs=0\n", phase, schedules);
        return;
    }
    printf("%-7s schedules=%zu runs=%zu (%.0f/s) lag_ms p50=%.2f p90=%.2f p99=%.2f max=%.2f\n",
           phase, schedules, n_samples, n_samples / seconds, samples[n_samples / 2] / 1e6,
           samples[n_samples * 9 / 10] / 1e6, samples[n_samples * 99 / 100] / 1e6,
           samples[n_samples - 1] / 1e6);
}

static store *open_store(const char *tag, char *dir, size_t size)
{
    const store_table *const *tables;
    store_options so = STORE_OPTIONS_INIT;
    store *st = NULL;
    size_t n;

    snprintf(dir, size, "%s/sched-bench-%s-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             tag);
    if (mkdtemp(dir) == NULL)
        return NULL;
    so.map_size = UINT64_C(1) << 30;
    tables = sched_tables(&n);
    if (store_open(dir, &so, tables, n, &st) != CLM_OK)
        fprintf(stderr, "store_open: %s\n", clm_error_message());
    return st;
}

static sched *engine(store *st, unsigned workers)
{
    sched_options o = SCHED_OPTIONS_INIT;
    sched_kind k = {.name = "bench", .run = bench_run, .max_concurrency = 100000};
    sched *s = NULL;

    o.workers = workers;
    o.fire_batch = fire_batch;
    o.queue_depth = queue_depth;
    if (sched_new(st, NULL, &o, &s) != CLM_OK || sched_kind_register(s, &k) != CLM_OK)
        return NULL;
    return s;
}

/* Create n schedules in transactions of 10,000. idle: none due for a year. */
static int create(sched *s, size_t n, bool idle)
{
    enum { CHUNK = 10000 };
    static sched_schedule_spec specs[CHUNK];
    static char names[CHUNK][32], crons[CHUNK][48];

    for (size_t done = 0; done < n;) {
        size_t m = n - done < CHUNK ? n - done : CHUNK;

        for (size_t j = 0; j < m; j++) {
            size_t i = done + j;

            snprintf(names[j], sizeof(names[j]), "%s-%zu", idle ? "idle" : "s", i);
            if (idle)
                snprintf(crons[j], sizeof(crons[j]), "%zu %zu 1 1 *", i % 60, (i / 60) % 24);
            else if (i % 5 == 0)
                snprintf(crons[j], sizeof(crons[j]), "%zu * * * * *", (i / 5) % 60);
            else
                snprintf(crons[j], sizeof(crons[j]), "%zu %zu-59/2 * * * *", i % 60, (i / 60) % 2);
            specs[j] = (sched_schedule_spec){
                .name = names[j], .kind = "bench", .cron = crons[j], .enabled = true};
        }
        if (sched_schedule_create_many(s, specs, m, NULL, NULL) != CLM_OK) {
            fprintf(stderr, "create: %s\n", clm_error_message());
            return -1;
        }
        done += m;
    }
    return 0;
}

static int phase(const char *name, size_t schedules, int seconds, unsigned workers)
{
    char dir[512], path[600];
    store *st = open_store(name, dir, sizeof(dir));
    sched *s;
    struct stat sb;
    struct rusage ru;
    double t0, cpu0;

    if (st == NULL || (s = engine(st, workers)) == NULL)
        return 1;
    t0 = (double)clm_clock_now_ns(clm_clock_system()) / 1e9;
    if (schedules == 1) {
        sched_schedule_spec one = {
            .name = "one", .kind = "bench", .cron = "* * * * * *", .enabled = true};

        if (sched_schedule_create(s, &one, NULL, NULL) != CLM_OK)
            return 1;
    } else if (create(s, schedules, false) != 0) {
        return 1;
    }
    fprintf(stderr, "%s: %zu schedules created in %.1f s\n", name, schedules,
            (double)clm_clock_now_ns(clm_clock_system()) / 1e9 - t0);
    n_samples = 0;
    measure_from_ns = clm_clock_now_ns(clm_clock_system()) + 2 * CLM_NS_PER_SEC;
    if (sched_start(s) != CLM_OK)
        return 1;
    sleep((unsigned)seconds + 2);
    sched_stop(s);
    report(name, schedules, seconds);
    sched_free(s);
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    stat(path, &sb);
    getrusage(RUSAGE_SELF, &ru);
    printf("%-7s store=%.1f MiB peak_rss=%.1f MiB\n", name, sb.st_size / 1048576.0,
           ru.ru_maxrss / 1024.0);
    store_close(st);

    if (schedules > 1) { /* idle: the same number of schedules, none due */
        st = open_store("idle", dir, sizeof(dir));
        if (st == NULL || (s = engine(st, workers)) == NULL || create(s, schedules, true) != 0)
            return 1;
        sched_start(s);
        sleep(1);
        cpu0 = cpu_seconds();
        sleep(10);
        printf("idle    schedules=%zu cpu=%.3f s over 10 s\n", schedules, cpu_seconds() - cpu0);
        sched_free(s);
        store_close(st);
    }
    return 0;
}

int main(int argc, char **argv)
{
    size_t schedules = 100000;
    int seconds = 20;
    unsigned workers = 16;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--schedules") == 0)
            schedules = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = (int)strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--workers") == 0)
            workers = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--queue-depth") == 0)
            queue_depth = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--fire-batch") == 0)
            fire_batch = (unsigned)strtoul(argv[i + 1], NULL, 10);
    }
    clm_log_set_level(CLM_LOG_WARN);
    samples = malloc(MAX_SAMPLES * sizeof(*samples));
    if (samples == NULL || phase("100k", schedules, seconds, workers) != 0 ||
        phase("single", 1, seconds, workers) != 0)
        return 1;
    free(samples);
    return 0;
}
