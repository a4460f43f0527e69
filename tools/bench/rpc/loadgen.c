/*
 * tools/bench/rpc/loadgen.c: closed-loop unary load on the gRPC C core.
 *
 * Shape: C channels (each its own connection: a local subchannel pool), spread over
 * T threads; each thread owns one completion queue and the call slots of its
 * channels, I per channel. A slot is one call in flight: one batch of
 * SEND_INITIAL_METADATA + SEND_MESSAGE + SEND_CLOSE_FROM_CLIENT +
 * RECV_INITIAL_METADATA + RECV_MESSAGE + RECV_STATUS_ON_CLIENT, re-issued as soon as
 * it completes. After a warm-up, completions with status OK are counted and their
 * latency (batch start to completion) recorded for a fixed duration; everything
 * else is an error, counted by status.
 *
 * Before the load starts, one probe call per channel (wait-for-ready, 5 s) proves
 * that every connection is up and that the method answers OK; its reply is decoded
 * and shown when the method is clm.v1.Admin/GetVersion.
 *
 * Output: a human summary on stderr and one machine-readable `result k=v ...` line
 * on stdout (tools/bench/rpc/run parses it). Exit 0 when the run had no errors,
 * 1 when it had some, 2 when it could not run.
 */
#include "clm/v1/admin.pb-c.h"
#include "google/protobuf/duration.pb-c.h"
#include "appliance/rpc/absl_mutex.h"
#include "tools/bench/rpc/histogram.h"

#include <errno.h>
#include <getopt.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define STATUS_CODES 17 /* OK .. UNAUTHENTICATED */
#define DRAIN_GRACE_NS (200 * INT64_C(1000000))
#define PROBE_DEADLINE_S 5
#define STR_(x) #x
#define STR(x) STR_(x)

typedef enum phase { PHASE_WARMUP = 0, PHASE_MEASURE, PHASE_DONE } phase;

typedef struct options {
    const char *target; /* "unix:PATH" or "host:port" */
    const char *ca_file, *cert_file, *key_file;
    const char *server_name; /* GRPC_SSL_TARGET_NAME_OVERRIDE_ARG */
    const char *method;
    const char *label;
    int plaintext;
    int threads, channels, inflight;
    double warmup_s, duration_s;
    int64_t deadline_ms; /* per call; 0: none */
    int retries;         /* gRPC client retries (off by default: less client CPU) */
    int deadlock_check;  /* keep Abseil's mutex deadlock detection (off by default) */
    int full_stack;      /* keep channelz and the optional client filters (off by default) */
    int watch_pid;       /* a server process whose CPU time we report; 0: none */
} options;

typedef struct worker worker;

/* One call in flight. */
typedef struct slot {
    worker *w;
    grpc_channel *channel;
    void *registered; /* grpc_channel_register_call handle */
    grpc_call *call;
    grpc_byte_buffer *send_buf;
    grpc_byte_buffer *recv_buf;
    grpc_metadata_array initial_md;
    grpc_metadata_array trailing_md;
    grpc_status_code status;
    grpc_slice details;
    int64_t started_ns;
    int in_flight;
} slot;

struct worker {
    int index;
    const options *opt;
    grpc_completion_queue *cq;
    pthread_t thread;
    slot *slots;
    size_t nslots;
    size_t in_flight;
    histogram hist;
    uint64_t ok;        /* status OK, completed in the measured window */
    uint64_t ok_warmup; /* status OK during the warm-up */
    uint64_t errors;    /* non-OK while not stopping (warm-up and window) */
    uint64_t errors_by_status[STATUS_CODES + 1]; /* last: start_batch failures */
    char first_error[256];
};

static _Atomic int bench_phase = PHASE_WARMUP;

static const char *const status_names[STATUS_CODES] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

static const char *status_name(int code)
{
    if (code >= 0 && code < STATUS_CODES)
        return status_names[code];
    return code == STATUS_CODES ? "START_BATCH_FAILED" : "UNKNOWN";
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- the call cycle ---- */

static gpr_timespec call_deadline(const options *opt)
{
    if (opt->deadline_ms <= 0)
        return gpr_inf_future(GPR_CLOCK_MONOTONIC);
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                        gpr_time_from_millis(opt->deadline_ms, GPR_TIMESPAN));
}

/* The request message every call sends (--request-file); empty when none. */
static char *request_bytes;
static size_t request_len;

/* Start one call on `cq` with `tag`; ops flags as given. @return 1 if started. */
static int slot_start_on(slot *s, grpc_completion_queue *cq, void *tag, uint32_t md_flags,
                         gpr_timespec deadline)
{
    grpc_op ops[6];

    s->call = grpc_channel_create_registered_call(s->channel, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                                  s->registered, deadline, NULL);
    /* the --request-file message, or an empty one */
    if (request_len > 0) {
        grpc_slice msg = grpc_slice_from_static_buffer(request_bytes, request_len);
        s->send_buf = grpc_raw_byte_buffer_create(&msg, 1);
    } else {
        s->send_buf = grpc_raw_byte_buffer_create(NULL, 0);
    }
    s->recv_buf = NULL;
    grpc_metadata_array_init(&s->initial_md);
    grpc_metadata_array_init(&s->trailing_md);
    s->status = GRPC_STATUS_UNKNOWN;
    s->details = grpc_empty_slice();

    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].flags = md_flags;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = s->send_buf;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &s->initial_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &s->recv_buf;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &s->trailing_md;
    ops[5].data.recv_status_on_client.status = &s->status;
    ops[5].data.recv_status_on_client.status_details = &s->details;
    s->started_ns = monotonic_ns();
    if (grpc_call_start_batch(s->call, ops, 6, tag, NULL) != GRPC_CALL_OK)
        return 0;
    s->in_flight = 1;
    return 1;
}

/* Release what one call held; the slot can start again. */
static void slot_release(slot *s)
{
    if (s->recv_buf != NULL)
        grpc_byte_buffer_destroy(s->recv_buf);
    s->recv_buf = NULL;
    grpc_byte_buffer_destroy(s->send_buf);
    s->send_buf = NULL;
    grpc_metadata_array_destroy(&s->initial_md);
    grpc_metadata_array_destroy(&s->trailing_md);
    grpc_slice_unref(s->details);
    grpc_call_unref(s->call);
    s->call = NULL;
    s->in_flight = 0;
}

static void worker_error(worker *w, int code, const char *text, size_t len)
{
    w->errors++;
    w->errors_by_status[code >= 0 && code < STATUS_CODES ? code : STATUS_CODES]++;
    if (w->first_error[0] == '\0')
        snprintf(w->first_error, sizeof(w->first_error), "%s: %.*s", status_name(code), (int)len,
                 text);
}

static void slot_start(slot *s)
{
    worker *w = s->w;

    if (slot_start_on(s, w->cq, s, 0, call_deadline(w->opt))) {
        w->in_flight++;
        return;
    }
    const char *why = "grpc_call_start_batch refused the batch";
    worker_error(w, STATUS_CODES, why, strlen(why));
    slot_release(s);
}

static void slot_complete(slot *s, int success)
{
    worker *w = s->w;
    int64_t took = monotonic_ns() - s->started_ns;
    int p = atomic_load_explicit(&bench_phase, memory_order_relaxed);

    w->in_flight--;
    if (success && s->status == GRPC_STATUS_OK && s->recv_buf != NULL) {
        if (p == PHASE_MEASURE) {
            w->ok++;
            histogram_record(&w->hist, took);
        } else if (p == PHASE_WARMUP) {
            w->ok_warmup++;
        }
    } else if (p != PHASE_DONE) {
        if (s->status == GRPC_STATUS_OK) { /* OK without a reply message */
            const char *why = "status OK but no reply message";
            worker_error(w, GRPC_STATUS_INTERNAL, why, strlen(why));
        } else {
            worker_error(w, s->status, (const char *)GRPC_SLICE_START_PTR(s->details),
                         GRPC_SLICE_LENGTH(s->details));
        }
    }
    slot_release(s);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    int64_t stop_seen_ns = 0;
    int cancelled = 0;

    for (size_t i = 0; i < w->nslots; i++)
        slot_start(&w->slots[i]);
    for (;;) {
        gpr_timespec wait =
            gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(100, GPR_TIMESPAN));
        grpc_event ev = grpc_completion_queue_next(w->cq, wait, NULL);

        if (ev.type == GRPC_OP_COMPLETE) {
            slot *s = ev.tag;
            slot_complete(s, ev.success);
            if (atomic_load_explicit(&bench_phase, memory_order_relaxed) != PHASE_DONE)
                slot_start(s);
        }
        if (atomic_load(&bench_phase) != PHASE_DONE)
            continue;
        if (w->in_flight == 0)
            break;
        /* Stopping: give in-flight calls a moment, then cancel what is left. */
        if (stop_seen_ns == 0)
            stop_seen_ns = monotonic_ns();
        if (!cancelled && monotonic_ns() - stop_seen_ns > DRAIN_GRACE_NS) {
            for (size_t i = 0; i < w->nslots; i++) {
                if (w->slots[i].in_flight)
                    grpc_call_cancel(w->slots[i].call, NULL);
            }
            cancelled = 1;
        }
    }
    return NULL;
}

/* ---- setup ---- */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long size;

    if (f == NULL) {
        fprintf(stderr, "loadgen: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)size + 1)) != NULL) {
        if (fread(data, 1, (size_t)size, f) != (size_t)size) {
            free(data);
            data = NULL;
        } else {
            data[size] = '\0';
        }
    }
    fclose(f);
    if (data == NULL)
        fprintf(stderr, "loadgen: cannot read %s\n", path);
    return data;
}

static grpc_channel_credentials *make_credentials(const options *opt)
{
    char *ca, *cert, *key;
    grpc_channel_credentials *creds;

    if (strncmp(opt->target, "unix:", 5) == 0 || opt->plaintext)
        return grpc_insecure_credentials_create();
    if (opt->ca_file == NULL || opt->cert_file == NULL || opt->key_file == NULL) {
        fprintf(stderr, "loadgen: a TCP target needs --ca, --cert and --key "
                        "(or --plaintext)\n");
        return NULL;
    }
    ca = read_file(opt->ca_file);
    cert = read_file(opt->cert_file);
    key = read_file(opt->key_file);
    if (ca == NULL || cert == NULL || key == NULL) {
        free(ca);
        free(cert);
        free(key);
        return NULL;
    }
    grpc_ssl_pem_key_cert_pair pair = {key, cert};
    creds = grpc_ssl_credentials_create(ca, &pair, NULL, NULL);
    free(ca);
    free(cert);
    explicit_bzero(key, strlen(key));
    free(key);
    return creds;
}

static grpc_channel *make_channel(const options *opt, grpc_channel_credentials *creds)
{
    grpc_arg args[5];
    size_t n = 0;

    /* Without a local pool, channels with equal targets and arguments share one
       connection, and "C channels" would be one TCP connection. */
    args[n++] = (grpc_arg){GRPC_ARG_INTEGER, GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, {.integer = 1}};
    args[n++] = (grpc_arg){GRPC_ARG_INTEGER, GRPC_ARG_ENABLE_RETRIES, {.integer = opt->retries}};
    if (!opt->full_stack) {
        /* Client-side bookkeeping the load generator does not need: per-call channelz
           counters and the optional filters (deadline, message size). */
        args[n++] = (grpc_arg){GRPC_ARG_INTEGER, GRPC_ARG_ENABLE_CHANNELZ, {.integer = 0}};
        if (opt->deadline_ms <= 0) /* the minimal stack drops the deadline filter */
            args[n++] = (grpc_arg){GRPC_ARG_INTEGER, GRPC_ARG_MINIMAL_STACK, {.integer = 1}};
    }
    if (opt->server_name != NULL && strncmp(opt->target, "unix:", 5) != 0)
        args[n++] = (grpc_arg){GRPC_ARG_STRING,
                               GRPC_SSL_TARGET_NAME_OVERRIDE_ARG,
                               {.string = (char *)opt->server_name}};
    grpc_channel_args channel_args = {n, args};
    return grpc_channel_create(opt->target, creds, &channel_args);
}

/* Show what answered: decode a GetVersion reply. */
static void print_probe_reply(const options *opt, grpc_byte_buffer *bb)
{
    grpc_byte_buffer_reader reader;
    grpc_slice all;
    Clm__V1__GetVersionResponse *v;

    if (strcmp(opt->method, "/clm.v1.Admin/GetVersion") != 0 ||
        !grpc_byte_buffer_reader_init(&reader, bb))
        return;
    all = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    v = clm__v1__get_version_response__unpack(NULL, GRPC_SLICE_LENGTH(all),
                                              GRPC_SLICE_START_PTR(all));
    if (v != NULL) {
        fprintf(stderr,
                "loadgen: %s answers: version=\"%s\" build=\"%s\" data_dir=\"%s\" "
                "schema_version=%u uptime=%llds (%zu bytes)\n",
                opt->label, v->version, v->build, v->data_dir, v->schema_version,
                v->uptime ? (long long)v->uptime->seconds : -1LL, GRPC_SLICE_LENGTH(all));
        clm__v1__get_version_response__free_unpacked(v, NULL);
    } else {
        fprintf(stderr, "loadgen: %s: the reply is not a GetVersionResponse\n", opt->label);
    }
    grpc_slice_unref(all);
}

/* One wait-for-ready call per channel: connections up, method answers OK. */
static int probe(const options *opt, grpc_channel **channels, void **registered)
{
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    int ok = 1;

    for (int c = 0; c < opt->channels && ok; c++) {
        slot s;
        memset(&s, 0, sizeof(s));
        s.channel = channels[c];
        s.registered = registered[c];
        /* No call deadline: the minimal stack has no deadline filter. We time out
           here and cancel instead. */
        if (!slot_start_on(&s, cq, &s, GRPC_INITIAL_METADATA_WAIT_FOR_READY,
                           gpr_inf_future(GPR_CLOCK_MONOTONIC))) {
            fprintf(stderr, "loadgen: cannot start the probe call\n");
            slot_release(&s);
            ok = 0;
            break;
        }
        gpr_timespec limit = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                          gpr_time_from_seconds(PROBE_DEADLINE_S, GPR_TIMESPAN));
        grpc_event ev = grpc_completion_queue_next(cq, limit, NULL);
        if (ev.type == GRPC_QUEUE_TIMEOUT) {
            grpc_call_cancel_with_status(
                s.call, GRPC_STATUS_DEADLINE_EXCEEDED,
                "no answer within " STR(
                    PROBE_DEADLINE_S) " s (is the server up, is the address right?)",
                NULL);
            ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        }
        if (ev.type != GRPC_OP_COMPLETE || s.status != GRPC_STATUS_OK || s.recv_buf == NULL) {
            fprintf(stderr, "loadgen: %s: probe call %s on channel %d failed: %s: %.*s\n",
                    opt->label, opt->method, c, status_name(s.status),
                    (int)GRPC_SLICE_LENGTH(s.details),
                    (const char *)GRPC_SLICE_START_PTR(s.details));
            ok = 0;
        } else if (c == 0) {
            print_probe_reply(opt, s.recv_buf);
        }
        slot_release(&s);
    }
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
    return ok;
}

/* ---- CPU accounting (Linux /proc) ---- */

typedef struct cpu_sample {
    double self_s;    /* this process, user + system */
    double watched_s; /* --watch-pid, user + system; -1 if unknown */
    double busy_s;    /* whole machine, non-idle */
} cpu_sample;

static double process_cpu_s(int pid)
{
    char path[64], text[1024];
    unsigned long long utime, stime;
    FILE *f;
    size_t n;
    char *p;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    /* Fields after the command name "(...)": state is field 3, utime 14, stime 15. */
    if ((p = strrchr(text, ')')) == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static double machine_busy_s(void)
{
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    int n;

    if (f == NULL)
        return -1;
    n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
               &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 5)
        return -1;
    /* user nice system [idle iowait] irq softirq steal */
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

static cpu_sample cpu_now(int watch_pid)
{
    cpu_sample s;
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    s.self_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    s.watched_s = watch_pid > 0 ? process_cpu_s(watch_pid) : -1;
    s.busy_s = machine_busy_s();
    return s;
}

/* ---- main ---- */

/* Read --request-file into request_bytes. @return 1 on success. */
static int read_request(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > (1 << 20) ||
        fseek(f, 0, SEEK_SET) != 0 || (request_bytes = malloc((size_t)n + 1)) == NULL ||
        fread(request_bytes, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "loadgen: cannot read the request file %s (at most 1 MiB)\n", path);
        if (f)
            fclose(f);
        return 0;
    }
    fclose(f);
    request_len = (size_t)n;
    return 1;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: loadgen --target unix:PATH|HOST:PORT [options]\n"
                 "  --ca FILE --cert FILE --key FILE  mutual TLS for a HOST:PORT target\n"
                 "  --plaintext             HOST:PORT without TLS\n"
                 "  --server-name NAME      TLS name to check when connecting by IP "
                 "(e.g. localhost)\n"
                 "  --method PATH           default /clm.v1.Admin/GetVersion (empty request)\n"
                 "  --threads N             threads, one completion queue each (default 2)\n"
                 "  --channels N            connections (default 4)\n"
                 "  --inflight N            calls in flight per connection (default 32)\n"
                 "  --warmup S              seconds before measuring (default 2)\n"
                 "  --duration S            seconds measured (default 10)\n"
                 "  --deadline-ms MS        per-call deadline (default none)\n"
                 "  --retries               leave gRPC's client retry machinery on\n"
                 "  --full-stack            keep channelz and gRPC's optional client filters\n"
                 "  --absl-deadlock-check   leave Abseil's mutex deadlock detection on (Debian's\n"
                 "                          default; costs client CPU)\n"
                 "  --watch-pid PID         also report this process's CPU use (the server)\n"
                 "  --label TEXT            name in the output (default the target)\n"
                 "  --request-file FILE     the request message every call sends (protobuf\n"
                 "                          bytes, e.g. from protoc --encode); default empty\n");
}

static int parse_options(int argc, char **argv, options *opt)
{
    enum {
        O_CA = 1,
        O_CERT,
        O_KEY,
        O_PLAIN,
        O_NAME,
        O_METHOD,
        O_THREADS,
        O_CHANNELS,
        O_INFLIGHT,
        O_WARMUP,
        O_DURATION,
        O_DEADLINE,
        O_RETRIES,
        O_WATCH,
        O_LABEL,
        O_REQUEST,
        O_TARGET,
        O_DEADLOCK,
        O_FULL,
        O_HELP
    };
    static const struct option longopts[] = {{"target", required_argument, NULL, O_TARGET},
                                             {"ca", required_argument, NULL, O_CA},
                                             {"cert", required_argument, NULL, O_CERT},
                                             {"key", required_argument, NULL, O_KEY},
                                             {"plaintext", no_argument, NULL, O_PLAIN},
                                             {"server-name", required_argument, NULL, O_NAME},
                                             {"method", required_argument, NULL, O_METHOD},
                                             {"threads", required_argument, NULL, O_THREADS},
                                             {"channels", required_argument, NULL, O_CHANNELS},
                                             {"inflight", required_argument, NULL, O_INFLIGHT},
                                             {"warmup", required_argument, NULL, O_WARMUP},
                                             {"duration", required_argument, NULL, O_DURATION},
                                             {"deadline-ms", required_argument, NULL, O_DEADLINE},
                                             {"retries", no_argument, NULL, O_RETRIES},
                                             {"absl-deadlock-check", no_argument, NULL, O_DEADLOCK},
                                             {"full-stack", no_argument, NULL, O_FULL},
                                             {"watch-pid", required_argument, NULL, O_WATCH},
                                             {"label", required_argument, NULL, O_LABEL},
                                             {"request-file", required_argument, NULL, O_REQUEST},
                                             {"help", no_argument, NULL, O_HELP},
                                             {NULL, 0, NULL, 0}};
    int c;
    char *end;

    memset(opt, 0, sizeof(*opt));
    opt->method = "/clm.v1.Admin/GetVersion";
    opt->threads = 2;
    opt->channels = 4;
    opt->inflight = 32;
    opt->warmup_s = 2;
    opt->duration_s = 10;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        long n = 0;
        double d = 0;
        errno = 0;
        switch (c) {
        case O_THREADS:
        case O_CHANNELS:
        case O_INFLIGHT:
        case O_DEADLINE:
        case O_WATCH:
            n = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || n < 0 || n > 1000000) {
                fprintf(stderr, "loadgen: '%s' is not a count\n", optarg);
                return 0;
            }
            break;
        case O_WARMUP:
        case O_DURATION:
            d = strtod(optarg, &end);
            if (errno != 0 || *end != '\0' || d < 0 || d > 3600) {
                fprintf(stderr, "loadgen: '%s' is not a number of seconds (0-3600)\n", optarg);
                return 0;
            }
            break;
        default: break;
        }
        switch (c) {
        case O_TARGET: opt->target = optarg; break;
        case O_CA: opt->ca_file = optarg; break;
        case O_CERT: opt->cert_file = optarg; break;
        case O_KEY: opt->key_file = optarg; break;
        case O_PLAIN: opt->plaintext = 1; break;
        case O_NAME: opt->server_name = optarg; break;
        case O_METHOD: opt->method = optarg; break;
        case O_THREADS: opt->threads = (int)n; break;
        case O_CHANNELS: opt->channels = (int)n; break;
        case O_INFLIGHT: opt->inflight = (int)n; break;
        case O_WARMUP: opt->warmup_s = d; break;
        case O_DURATION: opt->duration_s = d; break;
        case O_DEADLINE: opt->deadline_ms = n; break;
        case O_RETRIES: opt->retries = 1; break;
        case O_DEADLOCK: opt->deadlock_check = 1; break;
        case O_FULL: opt->full_stack = 1; break;
        case O_WATCH: opt->watch_pid = (int)n; break;
        case O_LABEL: opt->label = optarg; break;
        case O_REQUEST:
            if (!read_request(optarg))
                return 0;
            break;
        case O_HELP: usage(stdout); exit(0);
        default: usage(stderr); return 0;
        }
    }
    if (optind != argc || opt->target == NULL) {
        usage(stderr);
        return 0;
    }
    if (opt->threads < 1 || opt->channels < 1 || opt->inflight < 1 || opt->duration_s <= 0) {
        fprintf(stderr, "loadgen: threads, channels, inflight and duration must be > 0\n");
        return 0;
    }
    if (opt->threads > opt->channels)
        opt->threads = opt->channels; /* a thread without a channel would idle */
    if (opt->label == NULL)
        opt->label = opt->target;
    return 1;
}

static void print_results(const options *opt, worker *workers, double seconds, cpu_sample before,
                          cpu_sample after)
{
    static histogram all; /* 32 KiB: not on the stack */
    uint64_t ok = 0, ok_warmup = 0, errors = 0;
    uint64_t by_status[STATUS_CODES + 1] = {0};
    const char *first_error = "";

    histogram_reset(&all);
    for (int t = 0; t < opt->threads; t++) {
        histogram_merge(&all, &workers[t].hist);
        ok += workers[t].ok;
        ok_warmup += workers[t].ok_warmup;
        errors += workers[t].errors;
        for (int k = 0; k <= STATUS_CODES; k++)
            by_status[k] += workers[t].errors_by_status[k];
        if (first_error[0] == '\0')
            first_error = workers[t].first_error;
    }
    double qps = seconds > 0 ? (double)ok / seconds : 0;
    double p50 = (double)histogram_quantile(&all, 0.50) / 1e3;
    double p90 = (double)histogram_quantile(&all, 0.90) / 1e3;
    double p99 = (double)histogram_quantile(&all, 0.99) / 1e3;
    double p999 = (double)histogram_quantile(&all, 0.999) / 1e3;
    double max = (double)all.max_ns / 1e3;
    double cpu_client = (after.self_s - before.self_s) / seconds;
    double cpu_server = before.watched_s >= 0 && after.watched_s >= 0
                            ? (after.watched_s - before.watched_s) / seconds
                            : -1;
    double cpu_busy =
        before.busy_s >= 0 && after.busy_s >= 0 ? (after.busy_s - before.busy_s) / seconds : -1;
    double cpu_other =
        cpu_busy >= 0 ? cpu_busy - cpu_client - (cpu_server > 0 ? cpu_server : 0) : -1;
    if (cpu_other < 0 && cpu_busy >= 0)
        cpu_other = 0; /* tick rounding */

    fprintf(stderr,
            "loadgen: %s: %.0f QPS (%llu OK in %.2f s; %llu in warm-up), latency p50 %.0f us, "
            "p90 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us; errors %llu\n",
            opt->label, qps, (unsigned long long)ok, seconds, (unsigned long long)ok_warmup, p50,
            p90, p99, p999, max, (unsigned long long)errors);
    char server_text[32] = "n/a";
    if (cpu_server >= 0)
        snprintf(server_text, sizeof(server_text), "%.2f", cpu_server);
    fprintf(stderr,
            "loadgen: CPU (cores busy): this load generator %.2f, server %s, "
            "everything else %.2f, of %ld\n",
            cpu_client, server_text, cpu_other, sysconf(_SC_NPROCESSORS_ONLN));
    for (int k = 0; k <= STATUS_CODES; k++) {
        if (by_status[k] != 0)
            fprintf(stderr, "loadgen: errors: %s x %llu\n", status_name(k),
                    (unsigned long long)by_status[k]);
    }
    if (errors != 0)
        fprintf(stderr, "loadgen: first error: %s\n", first_error);

    printf("result label=%s ok=%llu errors=%llu seconds=%.3f qps=%.0f p50_us=%.1f "
           "p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f cpu_client=%.2f "
           "cpu_server=%.2f cpu_other=%.2f threads=%d channels=%d inflight=%d\n",
           opt->label, (unsigned long long)ok, (unsigned long long)errors, seconds, qps, p50, p90,
           p99, p999, max, cpu_client, cpu_server, cpu_other, opt->threads, opt->channels,
           opt->inflight);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    options opt;
    grpc_channel_credentials *creds;
    grpc_channel **channels;
    void **registered;
    worker *workers;
    int rc = 0;

    if (!parse_options(argc, argv, &opt))
        return 2;
    if (!opt.deadlock_check)
        rpc_absl_deadlock_detection_off();
    grpc_init();
    if ((creds = make_credentials(&opt)) == NULL)
        return 2;
    channels = calloc((size_t)opt.channels, sizeof(*channels));
    registered = calloc((size_t)opt.channels, sizeof(*registered));
    workers = calloc((size_t)opt.threads, sizeof(*workers));
    if (channels == NULL || registered == NULL || workers == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 2;
    }
    for (int c = 0; c < opt.channels; c++) {
        channels[c] = make_channel(&opt, creds);
        registered[c] = grpc_channel_register_call(channels[c], opt.method, NULL, NULL);
    }
    grpc_channel_credentials_release(creds);
    if (!probe(&opt, channels, registered))
        return 2;

    /* Channel c belongs to thread c % threads; its slots use that thread's queue. */
    for (int t = 0; t < opt.threads; t++) {
        worker *w = &workers[t];
        int mine = 0;
        w->index = t;
        w->opt = &opt;
        w->cq = grpc_completion_queue_create_for_next(NULL);
        for (int c = t; c < opt.channels; c += opt.threads)
            mine++;
        w->nslots = (size_t)mine * (size_t)opt.inflight;
        w->slots = calloc(w->nslots, sizeof(*w->slots));
        if (w->slots == NULL) {
            fprintf(stderr, "loadgen: out of memory\n");
            return 2;
        }
        size_t k = 0;
        for (int c = t; c < opt.channels; c += opt.threads) {
            for (int i = 0; i < opt.inflight; i++, k++) {
                w->slots[k].w = w;
                w->slots[k].channel = channels[c];
                w->slots[k].registered = registered[c];
            }
        }
    }
    for (int t = 0; t < opt.threads; t++) {
        if (pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]) != 0) {
            fprintf(stderr, "loadgen: cannot start a thread\n");
            return 2;
        }
    }

    sleep_ns((int64_t)(opt.warmup_s * 1e9));
    cpu_sample before = cpu_now(opt.watch_pid);
    int64_t t0 = monotonic_ns();
    atomic_store(&bench_phase, PHASE_MEASURE);
    sleep_ns((int64_t)(opt.duration_s * 1e9));
    atomic_store(&bench_phase, PHASE_DONE);
    int64_t t1 = monotonic_ns();
    cpu_sample after = cpu_now(opt.watch_pid);

    for (int t = 0; t < opt.threads; t++)
        pthread_join(workers[t].thread, NULL);
    print_results(&opt, workers, (double)(t1 - t0) / 1e9, before, after);
    for (int t = 0; t < opt.threads; t++) {
        if (workers[t].errors != 0)
            rc = 1;
        grpc_completion_queue_shutdown(workers[t].cq);
        while (grpc_completion_queue_next(workers[t].cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
                   .type != GRPC_QUEUE_SHUTDOWN)
            ;
        grpc_completion_queue_destroy(workers[t].cq);
        free(workers[t].slots);
    }
    for (int c = 0; c < opt.channels; c++)
        grpc_channel_destroy(channels[c]);
    free(channels);
    free(registered);
    free(workers);
    grpc_shutdown();
    return rc;
}
