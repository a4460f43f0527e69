/* adapters/tls/probe.c: the sweep: the contract's entry points, the epoll loop, the
 * deadline heap and the rate's token bucket. One connection's steps are in probe_conn.c. */
#include "adapters/tls/probe_internal.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/** epoll events taken per wait. */
#define PROBE_EVENTS_MAX 512
/** Descriptors kept free for the rest of the process when capping in-flight. */
#define PROBE_FD_RESERVE 64

const adapter_probe_ops tls_probe_ops = {
    .name = "tls",
    .flags = ADAPTER_PROBE_F_STARTTLS | ADAPTER_PROBE_F_IPV6,
    .check = tls_probe_check,
    .sweep = tls_probe_sweep,
    .report_free = tls_probe_report_free,
};

int64_t probe_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * CLM_NS_PER_SEC + ts.tv_nsec;
}

/* ---- the deadline heap ------------------------------------------------------------------- */

static void heap_set(probe_sweep *s, size_t pos, probe_conn *c)
{
    s->heap[pos] = c;
    c->heap_pos = pos;
}

static void heap_up(probe_sweep *s, size_t pos)
{
    probe_conn *c = s->heap[pos];

    while (pos > 0) {
        size_t parent = (pos - 1) / 2;
        if (s->heap[parent]->deadline_ns <= c->deadline_ns)
            break;
        heap_set(s, pos, s->heap[parent]);
        pos = parent;
    }
    heap_set(s, pos, c);
}

static void heap_down(probe_sweep *s, size_t pos)
{
    probe_conn *c = s->heap[pos];

    for (;;) {
        size_t child = 2 * pos + 1;
        if (child >= s->heap_len)
            break;
        if (child + 1 < s->heap_len &&
            s->heap[child + 1]->deadline_ns < s->heap[child]->deadline_ns)
            child++;
        if (s->heap[child]->deadline_ns >= c->deadline_ns)
            break;
        heap_set(s, pos, s->heap[child]);
        pos = child;
    }
    heap_set(s, pos, c);
}

void probe_heap_update(probe_sweep *s, probe_conn *c, int64_t deadline_ns)
{
    if (c->heap_pos == SIZE_MAX) { /* not in the heap yet */
        c->deadline_ns = deadline_ns;
        heap_set(s, s->heap_len++, c);
        heap_up(s, c->heap_pos);
        return;
    }
    c->deadline_ns = deadline_ns;
    heap_up(s, c->heap_pos);
    heap_down(s, c->heap_pos);
}

void probe_heap_remove(probe_sweep *s, probe_conn *c)
{
    size_t pos = c->heap_pos;

    if (pos == SIZE_MAX)
        return;
    c->heap_pos = SIZE_MAX;
    if (--s->heap_len == pos)
        return;
    {
        probe_conn *moved = s->heap[s->heap_len];
        heap_set(s, pos, moved);
        heap_up(s, pos);
        heap_down(s, moved->heap_pos);
    }
}

/* ---- the report ------------------------------------------------------------------------- */

void *probe_arena_alloc(probe_sweep *s, size_t size)
{
    void *p;

    if (s->shared->threaded)
        pthread_mutex_lock(&s->shared->lock);
    p = clm_arena_alloc(&s->report->arena, size);
    if (s->shared->threaded)
        pthread_mutex_unlock(&s->shared->lock);
    return p;
}

char *probe_arena_strdup(probe_sweep *s, const char *text)
{
    size_t len = strlen(text) + 1;
    char *p = probe_arena_alloc(s, len);

    if (p != NULL)
        memcpy(p, text, len);
    return p;
}

static clm_err report_new(const tls_endpoint_list *endpoints, adapter_probe_report **out)
{
    adapter_probe_report *r = calloc(1, sizeof *r);

    *out = NULL;
    if (r == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    r->arena = (clm_arena)CLM_ARENA_INIT;
    r->arena.chunk_size = 64 * 1024;
    r->n = endpoints->n;
    if (r->n > 0 && (r->results = calloc(r->n, sizeof *r->results)) == NULL) {
        free(r);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    *out = r;
    return CLM_OK;
}

void tls_probe_report_free(adapter_probe_report *report)
{
    if (report == NULL)
        return;
    free(report->results);
    clm_arena_free(&report->arena);
    free(report);
}

/* Every result's endpoint fields, with the report's own copy of each target's host and
 * SNI (consecutive endpoints of one target share them). */
static clm_err copy_endpoints(adapter_probe_report *report, const tls_endpoint_list *list)
{
    const char *host = NULL, *sni = NULL;

    for (size_t i = 0; i < list->n; i++) {
        const tls_endpoint *e = &list->v[i];
        adapter_probe_result *r = &report->results[i];
        bool same = i > 0 && e->target_index == list->v[i - 1].target_index;
        if (!same) {
            host = clm_arena_strdup(&report->arena, e->host);
            sni = e->sni ? clm_arena_strdup(&report->arena, e->sni) : NULL;
            if (host == NULL || (e->sni != NULL && sni == NULL))
                return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        }
        r->target_index = e->target_index;
        r->host = host;
        r->sni = e->sni ? sni : NULL;
        r->port = e->port;
        r->protocol = e->protocol;
        r->status = ADAPTER_PROBE_CANCELLED; /* until it ends */
        memcpy(r->address, e->address, sizeof r->address);
    }
    return CLM_OK;
}

/* ---- one loop ------------------------------------------------------------------------------ */

static clm_err loop_init(probe_sweep *s, probe_shared *shared, size_t first, size_t stride,
                         size_t in_flight, double rate)
{
    const adapter_probe_options *o = shared->options;
    clm_err err;

    memset(s, 0, sizeof *s);
    s->epfd = -1;
    s->shared = shared;
    s->endpoints = shared->endpoints;
    s->options = o;
    s->report = shared->report;
    s->clock = shared->clock;
    s->trust = shared->trust;
    s->first = first;
    s->stride = stride;
    s->count =
        first < shared->endpoints->n ? (shared->endpoints->n - first + stride - 1) / stride : 0;
    s->connect_timeout_ns =
        (int64_t)(o->connect_timeout_ms ? o->connect_timeout_ms : TLS_DEFAULT_CONNECT_TIMEOUT_MS) *
        CLM_NS_PER_MS;
    s->handshake_timeout_ns =
        (int64_t)(o->handshake_timeout_ms ? o->handshake_timeout_ms
                                          : TLS_DEFAULT_HANDSHAKE_TIMEOUT_MS) *
        CLM_NS_PER_MS;
    s->rate = rate;
    s->burst = rate / 50 > 1 ? rate / 50 : 1; /* 20 ms worth */
    s->tokens = s->burst;
    if (in_flight > s->count)
        in_flight = s->count ? s->count : 1;
    if ((err = probe_context_new(&s->ctx)) != CLM_OK)
        return err;
    s->conns = calloc(in_flight, sizeof *s->conns);
    s->heap = calloc(in_flight, sizeof *s->heap);
    s->verify_cache = calloc(PROBE_VERIFY_CACHE, sizeof *s->verify_cache);
    if (s->conns == NULL || s->heap == NULL || s->verify_cache == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    s->n_conns = in_flight;
    for (size_t i = in_flight; i-- > 0;) {
        s->conns[i].sweep = s;
        s->conns[i].fd = -1;
        s->conns[i].heap_pos = SIZE_MAX;
        s->conns[i].next_free = s->free_list;
        s->free_list = &s->conns[i];
    }
    if ((s->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return clm_fail(CLM_ERR_IO, "epoll_create1: %s", strerror(errno));
    return CLM_OK;
}

static void loop_free(probe_sweep *s)
{
    if (s->epfd >= 0)
        close(s->epfd);
    free(s->conns);
    free(s->heap);
    free(s->verify_cache);
    SSL_CTX_free(s->ctx);
    ERR_clear_error();
}

static void refill(probe_sweep *s, int64_t now)
{
    if (s->refill_ns == 0)
        s->refill_ns = now;
    s->tokens += (double)(now - s->refill_ns) * s->rate / (double)CLM_NS_PER_SEC;
    if (s->tokens > s->burst)
        s->tokens = s->burst;
    s->refill_ns = now;
}

/* How long epoll may wait: until the next deadline, or the next token when starts wait. */
static int wait_ms(const probe_sweep *s, int64_t now)
{
    int64_t until = INT64_MAX;

    if (s->heap_len > 0)
        until = s->heap[0]->deadline_ns - now;
    if (s->next < s->count && s->free_list != NULL) {
        int64_t token = (int64_t)((1.0 - s->tokens) * (double)CLM_NS_PER_SEC / s->rate);
        if (token < until)
            until = token;
    }
    if (until == INT64_MAX)
        return -1;
    if (until <= 0)
        return 0;
    return (int)((until + CLM_NS_PER_MS - 1) / CLM_NS_PER_MS);
}

static bool cancelled(const probe_sweep *s)
{
    return s->options->cancel != NULL && atomic_load(s->options->cancel);
}

static clm_err loop_run(probe_sweep *s)
{
    struct epoll_event events[PROBE_EVENTS_MAX];

    while (s->next < s->count || s->active > 0) {
        int64_t now = probe_now_ns();
        int ready;

        if (cancelled(s)) {
            for (size_t i = 0; i < s->n_conns; i++)
                if (s->conns[i].phase != PHASE_IDLE)
                    probe_conn_finish(&s->conns[i], ADAPTER_PROBE_CANCELLED,
                                      "the sweep was cancelled");
            return CLM_ERR_CANCELLED;
        }
        refill(s, now);
        while (s->next < s->count && s->free_list != NULL && s->tokens >= 1.0) {
            probe_conn *c = s->free_list;
            size_t index = s->first + s->next++ * s->stride;
            if (!s->endpoints->v[index].unresolved)
                s->tokens -= 1.0;
            s->free_list = c->next_free;
            s->active++;
            probe_conn_start(s, c, index);
        }
        while (s->heap_len > 0 && s->heap[0]->deadline_ns <= now)
            probe_conn_timeout(s->heap[0]);
        if (s->next >= s->count && s->active == 0)
            break;
        ready = epoll_wait(s->epfd, events, PROBE_EVENTS_MAX, wait_ms(s, probe_now_ns()));
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            return clm_fail(CLM_ERR_IO, "epoll_wait: %s", strerror(errno));
        }
        for (int i = 0; i < ready; i++)
            probe_conn_event(events[i].data.ptr, events[i].events);
    }
    return CLM_OK;
}

static void *loop_thread(void *arg)
{
    probe_sweep *s = arg;

    s->err = loop_run(s);
    if (s->err != CLM_OK && s->err != CLM_ERR_CANCELLED)
        snprintf(s->message, sizeof s->message, "%s", clm_error_message());
    ERR_clear_error();
    return NULL;
}

/* ---- a sweep: loops on threads ------------------------------------------------------------- */

static size_t fd_budget(size_t wanted)
{
    struct rlimit limit;

    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
        limit.rlim_cur < wanted + PROBE_FD_RESERVE)
        return limit.rlim_cur > PROBE_FD_RESERVE + 1 ? limit.rlim_cur - PROBE_FD_RESERVE : 1;
    return wanted;
}

static clm_err run_loops(probe_shared *shared, size_t n_loops)
{
    const adapter_probe_options *o = shared->options;
    size_t in_flight =
        fd_budget(o->max_in_flight ? (size_t)o->max_in_flight : TLS_DEFAULT_IN_FLIGHT);
    double rate = o->max_rate ? o->max_rate : TLS_DEFAULT_RATE;
    probe_sweep *loops = calloc(n_loops, sizeof *loops);
    clm_err err = CLM_OK;
    size_t done = 0;

    if (loops == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (size_t k = 0; k < n_loops; k++)
        loops[k].epfd = -1;
    for (size_t k = 0; k < n_loops && err == CLM_OK; k++) {
        size_t share = in_flight / n_loops + (k < in_flight % n_loops);
        err = loop_init(&loops[k], shared, k, n_loops, share ? share : 1, rate / (double)n_loops);
    }
    for (size_t k = 1; k < n_loops && err == CLM_OK; k++)
        loops[k].started = pthread_create(&loops[k].thread, NULL, loop_thread, &loops[k]) == 0;
    if (err == CLM_OK)
        err = loop_run(&loops[0]);
    for (size_t k = 1; k < n_loops; k++) {
        if (loops[k].started)
            pthread_join(loops[k].thread, NULL);
        else if (err == CLM_OK) /* no thread for it: its share runs here, after loop 0 */
            loop_thread(&loops[k]);
        if (err == CLM_OK && loops[k].err != CLM_OK)
            err = loops[k].err == CLM_ERR_CANCELLED
                      ? CLM_ERR_CANCELLED
                      : clm_fail(loops[k].err, "%s", loops[k].message);
    }
    for (size_t k = 0; k < n_loops; k++) {
        done += loops[k].next;
        loop_free(&loops[k]);
    }
    free(loops);
    if (err == CLM_ERR_CANCELLED)
        return clm_fail(CLM_ERR_CANCELLED, "the sweep was cancelled after %zu of %zu endpoints",
                        done, shared->endpoints->n);
    return err;
}

clm_err tls_probe_run(const tls_endpoint_list *endpoints, const adapter_probe_options *options,
                      adapter_probe_report **out)
{
    probe_shared shared;
    int64_t start = probe_now_ns();
    size_t n_loops;
    clm_err err;

    *out = NULL;
    if ((err = tls_options_check(options)) != CLM_OK)
        return err;
    memset(&shared, 0, sizeof shared);
    shared.endpoints = endpoints;
    shared.options = options;
    shared.clock = options->clock ? options->clock : clm_clock_system();
    n_loops = options->threads > 1 ? (size_t)options->threads : 1;
    if (n_loops > endpoints->n)
        n_loops = endpoints->n ? endpoints->n : 1;
    shared.threaded = n_loops > 1;
    pthread_mutex_init(&shared.lock, NULL);
    if ((err = report_new(endpoints, &shared.report)) == CLM_OK &&
        (err = copy_endpoints(shared.report, endpoints)) == CLM_OK && !options->no_verify &&
        (err = pki_trust_new_system(options->ca_file, &shared.trust)) != CLM_OK)
        err = clm_error_context(err, "options.ca_file");
    if (err == CLM_OK)
        err = run_loops(&shared, n_loops);
    if (err == CLM_OK || err == CLM_ERR_CANCELLED) {
        for (size_t i = 0; i < shared.report->n; i++)
            shared.report->counts[shared.report->results[i].status]++;
        shared.report->elapsed_us = (probe_now_ns() - start) / 1000;
        *out = shared.report;
    } else {
        tls_probe_report_free(shared.report);
    }
    pki_trust_free(shared.trust);
    pthread_mutex_destroy(&shared.lock);
    ERR_clear_error();
    return err;
}

clm_err tls_probe_check(const adapter_probe_target *targets, size_t n,
                        const adapter_probe_options *options)
{
    tls_endpoint_list list;
    clm_err err = tls_targets_expand(targets, n, options, false, &list);

    tls_endpoint_list_free(&list);
    return err;
}

clm_err tls_probe_sweep(const adapter_probe_target *targets, size_t n,
                        const adapter_probe_options *options, adapter_probe_report **out)
{
    tls_endpoint_list list;
    int64_t start = probe_now_ns();
    clm_err err;

    *out = NULL;
    if ((err = tls_targets_expand(targets, n, options, true, &list)) != CLM_OK)
        return err;
    err = tls_probe_run(&list, options, out);
    if (*out != NULL)
        (*out)->elapsed_us = (probe_now_ns() - start) / 1000;
    tls_endpoint_list_free(&list);
    return err;
}
