/*
 * tools/bench/tls/tls_bench.c: the TLS probe's sweep against nginx-light on loopback,
 * beside nmap's ssl-cert script and sslscan on the same endpoints (tools/bench/tls/run
 * builds and runs it; figures in docs/benchmarks.md, "TLS probe").
 *
 * For each size: the sweep fixture of tests/tls (a server block and a certificate per
 * port), then R rounds of the probe (one target per endpoint with its SNI, chain
 * verification on, as push validation does), every result checked against the
 * fixture's manifest (a wrong verdict is counted and fails the run), then
 *   nmap -sT -Pn -n --script +ssl-cert -p FIRST-LAST 127.0.0.1
 * on the same ports, and sslscan (certificate only) on the first 200 endpoints beside
 * the probe on the same 200. Prints one table row per tool and the ratios.
 *
 * Exit status: 0 done, no wrong verdict; 1 a wrong verdict or a tool failed; 2 setup
 * failed; 3 --require-goal and the goals (>= 1000 endpoints/s, >= 3x nmap) not met.
 */
#include "adapters/tls/probe.h"
#include "tests/tls/fixture.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define BASE_PORT 20000

typedef struct bench_options {
    size_t sizes[4];
    size_t n_sizes;
    int rounds;
    int in_flight;
    int rate;
    int workers;
    int threads;
    bool nmap;
    int sslscan_count;
    bool with_bad;
    bool no_verify;
    bool require_goal;
} bench_options;

static const char *const allow[] = {"127.0.0.1", "::1"};
static double wait_quiet_limit; /* --wait-quiet CPUS; 0: do not wait */
static atomic_bool interrupted; /* SIGINT or SIGTERM: cancel, tear down, exit 2 */

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&interrupted, true);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: tls_bench [--sizes 1000,10000] [--rounds R] [--in-flight N] [--rate N]\n"
            "                 [--threads N]"
            "                 [--workers N] [--no-nmap] [--sslscan N] [--with-bad] [--no-verify]\n"
            "                 [--wait-quiet CPUS] [--require-goal]\n");
}

static int parse_args(int argc, char **argv, bench_options *o)
{
    memset(o, 0, sizeof *o);
    o->sizes[0] = 1000;
    o->sizes[1] = 10000;
    o->n_sizes = 2;
    o->rounds = 3;
    o->in_flight = 256;
    o->rate = 100000;
    o->workers = 1;
    o->nmap = true;
    o->sslscan_count = 200;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
        if (strcmp(a, "--no-nmap") == 0)
            o->nmap = false;
        else if (strcmp(a, "--with-bad") == 0)
            o->with_bad = true;
        else if (strcmp(a, "--no-verify") == 0)
            o->no_verify = true;
        else if (strcmp(a, "--wait-quiet") == 0 && v != NULL) {
            wait_quiet_limit = strtod(v, &end);
            if (*end != '\0' || wait_quiet_limit < 0)
                return -1;
            i++;
        } else if (strcmp(a, "--require-goal") == 0)
            o->require_goal = true;
        else if (v == NULL)
            return -1;
        else if (strcmp(a, "--sizes") == 0) {
            o->n_sizes = 0;
            for (const char *p = v; *p && o->n_sizes < 4; p = *end ? end + 1 : end)
                if ((o->sizes[o->n_sizes++] = strtoul(p, &end, 10)) == 0)
                    return -1;
            i++;
        } else {
            static const struct {
                const char *flag;
                size_t offset;
            } numbers[] = {
                {"--rounds", offsetof(bench_options, rounds)},
                {"--in-flight", offsetof(bench_options, in_flight)},
                {"--rate", offsetof(bench_options, rate)},
                {"--workers", offsetof(bench_options, workers)},
                {"--threads", offsetof(bench_options, threads)},
                {"--sslscan", offsetof(bench_options, sslscan_count)},
            };
            size_t k = 0;
            long n = strtol(v, &end, 10);
            while (k < sizeof numbers / sizeof numbers[0] && strcmp(a, numbers[k].flag) != 0)
                k++;
            if (k == sizeof numbers / sizeof numbers[0] || *end != '\0' || n < 0 || n > 1000000)
                return -1;
            *(int *)((char *)o + numbers[k].offset) = (int)n;
            i++;
        }
    }
    return o->rounds > 0 ? 0 : -1;
}

static double tool_others; /* CPUs other processes used during the last run_tool() */
static pid_t nginx_pid;

static double children_cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double machine_busy_seconds(void);
static double tree_cpu_seconds(pid_t root);

/* Run a program, output to log; @return seconds taken, or -1. */
static double run_tool(char *const argv[], const char *log)
{
    double t0 = fixture_seconds(), busy = machine_busy_seconds(), mine = children_cpu_seconds();
    double server = tree_cpu_seconds(nginx_pid), seconds;
    pid_t pid = fixture_spawn(argv, log);
    int status;

    while (pid > 0 && waitpid(pid, &status, 0) != pid) {
        if (errno != EINTR || atomic_load(&interrupted)) { /* interrupted: stop the tool */
            fixture_stop_child(pid, SIGTERM, 2000);
            return -1;
        }
    }
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench: %s failed; see %s\n", argv[0], log);
        return -1;
    }
    seconds = fixture_seconds() - t0;
    tool_others = (machine_busy_seconds() - busy - (children_cpu_seconds() - mine) -
                   (tree_cpu_seconds(nginx_pid) - server)) /
                  seconds;
    tool_others = tool_others < 0 ? 0 : tool_others;
    return seconds;
}

/* Lines of a file holding needle. */
static size_t count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    size_t n = 0;

    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        n += strstr(line, needle) != NULL;
    if (f != NULL)
        fclose(f);
    return n;
}

/* CPU seconds (user + system) this process used so far. */
static double cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double last_cpu;       /* CPU seconds of the last probe_sweep() */
static double last_nginx_cpu; /* and of nginx (master and workers) meanwhile */
static double last_others;    /* CPUs the rest of the machine used meanwhile */

/* CPU seconds used by pid and its children processes (nginx's workers), from /proc. */
static double tree_cpu_seconds(pid_t root)
{
    DIR *proc = opendir("/proc");
    struct dirent *d;
    double total = 0;
    long tick = sysconf(_SC_CLK_TCK);

    while (proc != NULL && (d = readdir(proc)) != NULL) {
        char path[300], buf[1024], *p;
        unsigned long utime, stime;
        int ppid, pid = (int)strtol(d->d_name, &p, 10);
        FILE *f;
        if (*p != '\0' || pid <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        p = fgets(buf, sizeof buf, f) ? strrchr(buf, ')') : NULL;
        fclose(f);
        if (p == NULL || sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ppid,
                                &utime, &stime) != 3)
            continue;
        if (pid == root || ppid == root)
            total += (double)(utime + stime) / (double)tick;
    }
    if (proc != NULL)
        closedir(proc);
    return total;
}

/* CPU seconds the whole machine spent busy so far (/proc/stat). */
static double machine_busy_seconds(void)
{
    unsigned long long v[8];
    FILE *f = fopen("/proc/stat", "r");
    int n = f != NULL ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                               &v[2], &v[3], &v[4], &v[5], &v[6], &v[7])
                      : 0;

    if (f != NULL)
        fclose(f);
    if (n != 8)
        return 0;
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

/* CPUs busy machine-wide over a second (run while we are idle: the others). */
static double busy_cpus(void)
{
    double before = machine_busy_seconds();

    sleep(1);
    return machine_busy_seconds() - before;
}

/* Before a measurement: wait (at most 10 minutes) until others use fewer CPUs. */
static void wait_quiet(void)
{
    double busy, start = fixture_seconds();

    if (wait_quiet_limit <= 0)
        return;
    while ((busy = busy_cpus()) >= wait_quiet_limit && !atomic_load(&interrupted)) {
        if (fixture_seconds() - start > 600) {
            fprintf(stderr, "bench: still %.2f CPUs busy after 10 min; measuring anyway\n", busy);
            return;
        }
        fprintf(stderr, "bench: waiting: other processes use %.2f CPUs (--wait-quiet %.2f)\n", busy,
                wait_quiet_limit);
        sleep(2);
    }
}

/* One probe sweep over endpoints [0, n): @return seconds, and wrong results counted. */
static double probe_sweep(fixture *fx, size_t n, const bench_options *o, size_t *wrong, size_t *ok)
{
    adapter_probe_target *t = calloc(n, sizeof *t);
    char(*ports)[8] = calloc(n, sizeof *ports);
    adapter_probe_options po;
    adapter_probe_report *report = NULL;
    double t0, seconds = -1;

    memset(&po, 0, sizeof po);
    po.allow = allow;
    po.n_allow = 2;
    po.ca_file = fx->ca_file;
    po.clock = fixture_clock(fx);
    po.max_in_flight = o->in_flight;
    po.max_rate = o->rate;
    po.connect_timeout_ms = 1000;
    po.handshake_timeout_ms = 1500;
    po.no_verify = o->no_verify;
    po.threads = o->threads;
    po.cancel = &interrupted;
    for (size_t i = 0; t != NULL && ports != NULL && i < n; i++) {
        const fixture_endpoint *e = &fx->endpoints[i];
        snprintf(ports[i], sizeof ports[i], "%u", e->port);
        t[i] = (adapter_probe_target){e->address, ports[i], e->sni, ADAPTER_PROBE_TLS};
    }
    t0 = fixture_seconds();
    last_cpu = cpu_seconds();
    last_nginx_cpu = tree_cpu_seconds(nginx_pid);
    last_others = machine_busy_seconds();
    if (t != NULL && ports != NULL && tls_probe_sweep(t, n, &po, &report) == CLM_OK) {
        seconds = fixture_seconds() - t0;
        last_cpu = cpu_seconds() - last_cpu;
        last_nginx_cpu = tree_cpu_seconds(nginx_pid) - last_nginx_cpu;
        last_others = (machine_busy_seconds() - last_others - last_cpu - last_nginx_cpu) / seconds;
        last_others = last_others < 0 ? 0 : last_others;
        *wrong = 0;
        *ok = report->counts[ADAPTER_PROBE_OK];
        for (size_t i = 0; i < n; i++) {
            const adapter_probe_result *r = &report->results[i];
            const fixture_endpoint *e = &fx->endpoints[i];
            bool right = r->status == e->status &&
                         (r->status != ADAPTER_PROBE_OK ||
                          (strcmp(r->leaf_sha256, e->served_sha256) == 0 &&
                           (o->no_verify || r->chain_valid == e->chain_valid) &&
                           r->name_match == e->name_match && r->chain_len == e->chain_len));
            if (!right && *wrong < 5)
                fprintf(stderr, "bench: wrong result for port %u (%s): %s %s\n", e->port,
                        fixture_kind_name(e->kind), adapter_probe_status_name(r->status),
                        r->reason);
            *wrong += !right;
        }
    } else {
        fprintf(stderr, "bench: sweep failed: %s\n", clm_error_message());
    }
    tls_probe_report_free(report);
    free(t);
    free(ports);
    return seconds;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One size: @return 0, 1 (wrong verdicts or a tool failed), 3 (goal missed), 2 (setup). */
static int bench_size(size_t size, const bench_options *o)
{
    fixture fx;
    fixture_options fo = {.n_blocks = size,
                          .base_port = BASE_PORT,
                          .with_bad = o->with_bad,
                          .nginx_workers = o->workers};
    double rounds[16], cpu_probe[16], cpu_nginx[16], median, best, t_nmap = -1, t_scan = -1,
                                                                   t_probe200 = -1;
    size_t wrong = 0, ok = 0, found = 0, total_wrong = 0, nmap_certs = 0, scan_certs = 0, n_scan;
    char spec[32], out[400], list[400], targets_arg[420];
    int rc = 0, n_rounds = o->rounds < 16 ? o->rounds : 16;

    if (fixture_init(&fx) != 0 || fixture_sweep_start(&fx, &fo) != 0) {
        fixture_teardown(&fx);
        return 2;
    }
    printf("\n## %zu endpoints (%zu server blocks; certificates and configuration %.1f s, nginx "
           "ready %.1f s)\n",
           fx.n, size, fx.generate_seconds, fx.start_seconds);
    nginx_pid = fx.nginx;
    probe_sweep(&fx, fx.n < 200 ? fx.n : 200, o, &wrong, &ok); /* warm nginx's workers */
    for (int r = 0; r < n_rounds && !atomic_load(&interrupted); r++) {
        wait_quiet();
        rounds[r] = probe_sweep(&fx, fx.n, o, &wrong, &ok);
        if (atomic_load(&interrupted))
            break;
        found = ok < found || r == 0 ? ok : found; /* the fewest any round found */
        cpu_probe[r] = last_cpu * 1e6 / (double)fx.n;
        cpu_nginx[r] = last_nginx_cpu * 1e6 / (double)fx.n;
        total_wrong += wrong;
        if (rounds[r] < 0)
            rc = 1;
        printf("  probe round %d: %.3f s, %.0f endpoints/s, %zu ok, %zu wrong; CPU an endpoint: "
               "probe %.0f us, nginx %.0f us; other processes used %.2f CPUs meanwhile\n",
               r + 1, rounds[r], (double)fx.n / rounds[r], ok, wrong, cpu_probe[r], cpu_nginx[r],
               last_others);
        fflush(stdout);
    }
    if (atomic_load(&interrupted)) {
        fixture_teardown(&fx);
        return 2;
    }
    qsort(rounds, (size_t)n_rounds, sizeof rounds[0], compare_double);
    qsort(cpu_probe, (size_t)n_rounds, sizeof cpu_probe[0], compare_double);
    qsort(cpu_nginx, (size_t)n_rounds, sizeof cpu_nginx[0], compare_double);
    median = rounds[n_rounds / 2];
    best = rounds[0];

    snprintf(spec, sizeof spec, "%u-%u", fx.endpoints[0].port, fx.endpoints[fx.n - 1].port);
    double nmap_others = 0, scan_others = 0;

    if (o->nmap && !atomic_load(&interrupted)) {
        char *argv[] = {"/usr/bin/nmap", "-sT", "-Pn", "-n", "--script", "+ssl-cert", "-p", spec,
                        "127.0.0.1",     "-oN", out,   NULL};
        char log[420];
        snprintf(out, sizeof out, "%s/nmap-%zu.txt", fx.dir, size);
        snprintf(log, sizeof log, "%s.log", out);
        wait_quiet();
        t_nmap = run_tool(argv, log);
        nmap_others = tool_others;
        nmap_certs = count_lines(out, "ssl-cert: Subject: commonName=");
        if (t_nmap < 0)
            rc = 1;
    }
    n_scan = (size_t)o->sslscan_count < fx.n ? (size_t)o->sslscan_count : fx.n;
    if (n_scan > 0 && !atomic_load(&interrupted)) {
        FILE *f;
        char *argv[] = {"/usr/bin/sslscan",
                        targets_arg,
                        "--no-colour",
                        "--show-certificate",
                        "--no-ciphersuites",
                        "--no-fallback",
                        "--no-renegotiation",
                        "--no-compression",
                        "--no-heartbleed",
                        "--no-groups",
                        NULL};
        snprintf(list, sizeof list, "%s/sslscan-targets.txt", fx.dir);
        snprintf(targets_arg, sizeof targets_arg, "--targets=%s", list);
        snprintf(out, sizeof out, "%s/sslscan-%zu.txt", fx.dir, size);
        if ((f = fopen(list, "w")) != NULL) {
            for (size_t i = 0; i < n_scan; i++)
                fprintf(f, "%s:%u\n", fx.endpoints[i].address, fx.endpoints[i].port);
            fclose(f);
        }
        wait_quiet();
        t_scan = run_tool(argv, out);
        scan_others = tool_others;
        scan_certs = count_lines(out, "Subject:  "); /* the summary line, not the full dump */
        if (t_scan < 0)
            rc = 1;
        t_probe200 = probe_sweep(&fx, n_scan, o, &wrong, &ok);
        total_wrong += wrong;
    }

    printf("\n| tool | endpoints | certificates found | time (s) | endpoints/s | probe is x "
           "faster |\n|---|---:|---:|---:|---:|---:|\n");
    printf("| clm probe (median of %d; best %.3f s) | %zu | %zu | %.3f | %.0f | - |\n", n_rounds,
           best, fx.n, found, median, (double)fx.n / median);
    if (t_nmap > 0)
        printf("| nmap -sT -Pn -n --script +ssl-cert -p %s | %zu | %zu | %.2f | %.0f | %.1f |\n",
               spec, fx.n, nmap_certs, t_nmap, (double)fx.n / t_nmap, t_nmap / median);
    if (t_scan > 0)
        printf("| sslscan (certificate only, --targets) | %zu | %zu | %.2f | %.1f | %.0f (probe on "
               "the same %zu: %.3f s) |\n",
               n_scan, scan_certs, t_scan, (double)n_scan / t_scan, t_scan / t_probe200, n_scan,
               t_probe200);
    printf("\nother processes on the machine used %.2f CPUs during nmap, %.2f during sslscan\n",
           nmap_others, scan_others);
    printf("\nCPU an endpoint (medians): probe %.0f us, nginx %.0f us: on 2 idle cores the "
           "handshakes alone allow about %.0f endpoints/s\n",
           cpu_probe[n_rounds / 2], cpu_nginx[n_rounds / 2],
           2e6 / (cpu_probe[n_rounds / 2] + cpu_nginx[n_rounds / 2]));
    printf("\nwrong verdicts: %zu\n", total_wrong);
    if (total_wrong > 0)
        rc = 1;
    if (rc == 0 && o->require_goal &&
        ((double)fx.n / median < 1000 || (t_nmap > 0 && t_nmap / median < 3)))
        rc = 3;
    fixture_teardown(&fx);
    return atomic_load(&interrupted) ? 2 : rc;
}

int main(int argc, char **argv)
{
    bench_options o;
    struct rlimit limit;
    int rc = 0;

    if (parse_args(argc, argv, &o) != 0) {
        usage();
        return 2;
    }
    if (!fixture_netns())
        fprintf(stderr,
                "bench: note: no network namespace of our own (not root?); ports %d "
                "and up must be free\n",
                BASE_PORT);
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max; /* nginx inherits it: 10,000 listening sockets */
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    printf("# TLS probe benchmark: probe threads %d, in flight %d, rate %d/s, nginx workers %d, "
           "rounds %d%s%s\n",
           o.threads ? o.threads : 1, o.in_flight, o.rate, o.workers, o.rounds,
           o.with_bad ? ", with the wrong endpoints" : "", o.no_verify ? ", no verification" : "");
    {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal; /* no SA_RESTART: waits return EINTR */
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    for (size_t i = 0; i < o.n_sizes && !atomic_load(&interrupted); i++) {
        int r = bench_size(o.sizes[i], &o);
        if (r > rc)
            rc = r;
    }
    return rc;
}
