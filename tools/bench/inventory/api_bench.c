/*
 * tools/bench/inventory/api_bench.c: clm.v1.Inventory against a running clmd, over its
 * Unix socket (tools/clmctl/client.h: blocking calls on the gRPC C core).
 *
 *   api_bench ingest SOCKET CORPUS [--count N] [--batch B] [--conns C] [--stream 1]
 *       ImportCertificates of the corpus in requests of B DER items (default 1000), from
 *       C threads (default 4), each with its own client and one call at a time. Every
 *       request carries one attribute (cost_centre = CC<batch % 50>), like
 *       store_ingest. Fails unless every item is "added" or "merged". With --stream 1,
 *       each thread sends its batches as the messages of one ImportCertificatesStream
 *       (one reply at the end, once all are durable) instead of one call per batch.
 *   api_bench query SOCKET (--expiring DAYS | --domain-prefix P) [--calls N] [--warmup W]
 *                   [--page-size S] [--domains D] [--view basic|full]
 *       N sequential ListCertificates (default 1000, after W = 50 not measured) for the
 *       first page: expiring_within_days = DAYS, or domain = P<i % D>.com (default D 50,
 *       so "example-corp" asks example-corp0.com .. example-corp49.com in turn).
 *       Latency is the whole client call: request, server, reply unpacked. --view asks
 *       for the BASIC or (default) FULL certificate view (clm.v1.CertificateView).
 *
 * Prints one "result key=value ..." line; messages go to stderr.
 */
#include "clm/v1/inventory.pb-c.h"
#include "lib/base/error.h"
#include "tools/bench/inventory/corpus.h"
#include "tools/clmctl/client.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_PATH "/clm.v1.Inventory/ImportCertificates"
#define IMPORT_STREAM_PATH "/clm.v1.Inventory/ImportCertificatesStream"
#define LIST_PATH "/clm.v1.Inventory/ListCertificates"

static const char *socket_path;
static corpus cp;
static size_t batch_size = 1000;
static atomic_size_t next_batch, added, merged, failed_items;
static atomic_int failed;
static int use_stream;

static clm_client *new_client(void)
{
    client_options o = {0};
    clm_client *c;

    o.unix_path = socket_path;
    o.timeout_ms = 300000;
    if (client_new(&o, &c) != CLM_OK) {
        fprintf(stderr, "api_bench: %s\n", clm_error_message());
        exit(1);
    }
    return c;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* ---- ingest ---- */

typedef struct worker {
    pthread_t tid;
    double call_seconds, max_call;
    size_t calls;
} worker;

/* One request of batch b's items, pointing into the corpus (items/ptrs: batch_size long). */
static void fill_request(size_t b, Clm__V1__ImportItem *items, Clm__V1__ImportItem **ptrs,
                         Clm__V1__Attribute *attr, Clm__V1__Attribute **attrs, char *value,
                         Clm__V1__ImportCertificatesRequest *req)
{
    size_t first = b * batch_size, n = first + batch_size <= cp.n ? batch_size : cp.n - first;

    clm__v1__import_certificates_request__init(req);
    clm__v1__attribute__init(attr);
    snprintf(value, 16, "CC%zu", b % 50);
    attr->key = "cost_centre";
    attr->value = value;
    attrs[0] = attr;
    for (size_t i = 0; i < n; i++) {
        clm__v1__import_item__init(&items[i]);
        items[i].data.data = (uint8_t *)cp.certs[first + i].der;
        items[i].data.len = cp.certs[first + i].len;
        ptrs[i] = &items[i];
    }
    req->items = ptrs;
    req->n_items = n;
    req->attributes = attrs;
    req->n_attributes = 1;
}

/* Count a reply; n: the items it answers for. */
static void count_reply(const char *what, const Clm__V1__ImportCertificatesResponse *resp, size_t n)
{
    atomic_fetch_add(&added, resp->added);
    atomic_fetch_add(&merged, resp->merged);
    if (resp->errors || resp->added + resp->merged != n) {
        fprintf(stderr, "api_bench: %s: %u added, %u merged, %u errors (%s)\n", what,
                resp->added, resp->merged, resp->errors,
                resp->n_results ? resp->results[0]->error : "");
        atomic_fetch_add(&failed_items, n - resp->added - resp->merged);
    }
}

static void *ingest_worker(void *arg)
{
    worker *w = arg;
    clm_client *client = new_client();
    size_t n_batches = (cp.n + batch_size - 1) / batch_size;
    Clm__V1__ImportItem *items = calloc(batch_size, sizeof(*items));
    Clm__V1__ImportItem **ptrs = calloc(batch_size, sizeof(*ptrs));

    for (size_t b; !failed && (b = atomic_fetch_add(&next_batch, 1)) < n_batches;) {
        Clm__V1__ImportCertificatesRequest req;
        Clm__V1__Attribute attr, *attrs[1];
        Clm__V1__ImportCertificatesResponse *resp;
        char value[16], what[32];
        double t0, dt;

        fill_request(b, items, ptrs, &attr, attrs, value, &req);
        t0 = bench_now();
        if (client_unary(client, IMPORT_PATH, &req.base,
                         &clm__v1__import_certificates_response__descriptor,
                         (ProtobufCMessage **)&resp) != CLM_OK) {
            fprintf(stderr, "api_bench: batch %zu: %s\n", b, clm_error_message());
            failed = 1;
            break;
        }
        dt = bench_now() - t0;
        w->call_seconds += dt;
        w->max_call = dt > w->max_call ? dt : w->max_call;
        w->calls++;
        snprintf(what, sizeof(what), "batch %zu", b);
        count_reply(what, resp, req.n_items);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
    }
    free(items);
    free(ptrs);
    client_free(client);
    return NULL;
}

/* --stream: one ImportCertificatesStream per connection, its share of the batches as
 * messages; the one reply comes once all are durable. */
static void *stream_worker(void *arg)
{
    worker *w = arg;
    clm_client *client = new_client();
    size_t n_batches = (cp.n + batch_size - 1) / batch_size, sent = 0;
    Clm__V1__ImportItem *items = calloc(batch_size, sizeof(*items));
    Clm__V1__ImportItem **ptrs = calloc(batch_size, sizeof(*ptrs));
    Clm__V1__ImportCertificatesResponse *resp = NULL;
    client_stream *st;
    double t0 = bench_now(), dt;

    if (client_stream_open(client, IMPORT_STREAM_PATH, &st) != CLM_OK) {
        fprintf(stderr, "api_bench: stream: %s\n", clm_error_message());
        failed = 1;
        goto out;
    }
    for (size_t b; !failed && (b = atomic_fetch_add(&next_batch, 1)) < n_batches;) {
        Clm__V1__ImportCertificatesRequest req;
        Clm__V1__Attribute attr, *attrs[1];
        char value[16];

        fill_request(b, items, ptrs, &attr, attrs, value, &req);
        if (client_stream_send(st, &req.base) != CLM_OK)
            break; /* the status says why */
        sent += req.n_items;
    }
    client_stream_close_send(st);
    if (client_stream_recv(st, &clm__v1__import_certificates_response__descriptor,
                           (ProtobufCMessage **)&resp) != CLM_OK)
        resp = NULL;
    if (client_stream_finish(st) != CLM_OK || resp == NULL) {
        fprintf(stderr, "api_bench: stream: %s\n", clm_error_message());
        failed = 1;
    } else {
        count_reply("stream", resp, sent);
    }
    if (resp != NULL)
        protobuf_c_message_free_unpacked(&resp->base, NULL);
    dt = bench_now() - t0;
    w->call_seconds += dt;
    w->max_call = dt;
    w->calls++;
out:
    free(items);
    free(ptrs);
    client_free(client);
    return NULL;
}

static int run_ingest(int conns)
{
    worker *w = calloc((size_t)conns, sizeof(*w));
    double t0 = bench_now(), secs, busy = 0, max_call = 0;
    size_t calls = 0;

    for (int i = 0; i < conns; i++)
        pthread_create(&w[i].tid, NULL, use_stream ? stream_worker : ingest_worker, &w[i]);
    for (int i = 0; i < conns; i++) {
        pthread_join(w[i].tid, NULL);
        busy += w[i].call_seconds;
        calls += w[i].calls;
        max_call = w[i].max_call > max_call ? w[i].max_call : max_call;
    }
    secs = bench_now() - t0;
    printf("result mode=api_ingest certs=%zu added=%zu merged=%zu failed=%zu seconds=%.3f "
           "rate=%.0f conns=%d batch=%zu stream=%d mean_call_ms=%.1f max_call_ms=%.1f\n",
           cp.n, (size_t)added, (size_t)merged, (size_t)failed_items, secs,
           (double)cp.n / secs, conns, batch_size, use_stream, calls ? busy * 1e3 / (double)calls : 0,
           max_call * 1e3);
    free(w);
    return failed || failed_items ? 1 : 0;
}

/* ---- query ---- */

static Clm__V1__CertificateView query_view = CLM__V1__CERTIFICATE_VIEW__CERTIFICATE_VIEW_FULL;

static int run_query(unsigned expiring, const char *domain_prefix, unsigned domains,
                     size_t calls, size_t warmup, unsigned page_size)
{
    clm_client *client = new_client();
    double *lat = calloc(calls ? calls : 1, sizeof(*lat)), sum = 0;
    size_t short_pages = 0, results = 0;
    char domain[256];

    for (size_t i = 0; i < warmup + calls; i++) {
        Clm__V1__ListCertificatesRequest req = CLM__V1__LIST_CERTIFICATES_REQUEST__INIT;
        Clm__V1__ListCertificatesResponse *resp;
        double t0;

        req.page_size = page_size;
        req.view = query_view;
        if (domain_prefix != NULL) {
            snprintf(domain, sizeof(domain), "%s%zu.com", domain_prefix, i % domains);
            req.domain = domain;
        } else {
            req.expiring_within_days = expiring;
        }
        t0 = bench_now();
        if (client_unary(client, LIST_PATH, &req.base,
                         &clm__v1__list_certificates_response__descriptor,
                         (ProtobufCMessage **)&resp) != CLM_OK) {
            fprintf(stderr, "api_bench: ListCertificates: %s\n", clm_error_message());
            client_free(client);
            return 1;
        }
        if (i >= warmup) {
            lat[i - warmup] = bench_now() - t0;
            sum += lat[i - warmup];
            results += resp->n_certificates;
            if (resp->n_certificates < page_size)
                short_pages++;
        }
        protobuf_c_message_free_unpacked(&resp->base, NULL);
    }
    client_free(client);
    qsort(lat, calls, sizeof(*lat), cmp_double);
#define PCT(p) (lat[(size_t)((double)(calls - 1) * (p))] * 1e6)
    printf("result mode=%s view=%s calls=%zu page_size=%u mean_us=%.0f p50_us=%.0f p90_us=%.0f "
           "p99_us=%.0f max_us=%.0f mean_results=%.1f short_pages=%zu\n",
           domain_prefix ? "query_domain" : "query_expiring",
           query_view == CLM__V1__CERTIFICATE_VIEW__CERTIFICATE_VIEW_BASIC ? "basic" : "full",
           calls, page_size,
           sum * 1e6 / (double)calls, PCT(0.50), PCT(0.90), PCT(0.99), PCT(1.0),
           (double)results / (double)calls, short_pages);
    free(lat);
    return 0;
}

int main(int argc, char **argv)
{
    size_t count = 0, calls = 1000, warmup = 50;
    int conns = 4;
    unsigned expiring = 0, page_size = 100, domains = 50;
    const char *domain_prefix = NULL;
    int ingest = argc >= 4 && strcmp(argv[1], "ingest") == 0;
    int first_opt = ingest ? 4 : 3;

    if (argc < 3 || (!ingest && strcmp(argv[1], "query") != 0)) {
        fprintf(stderr, "usage: api_bench ingest SOCKET CORPUS [--count N] [--batch B] "
                        "[--conns C] [--stream 1]\n       api_bench query SOCKET (--expiring DAYS | "
                        "--domain-prefix P) [--calls N] [--warmup W] [--page-size S] "
                        "[--domains D] [--view basic|full]\n");
        return 2;
    }
    socket_path = argv[2];
    for (int i = first_opt; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (strcmp(o, "--count") == 0)
            count = (size_t)bench_parse_number(o, v);
        else if (strcmp(o, "--batch") == 0)
            batch_size = (size_t)bench_parse_number(o, v);
        else if (strcmp(o, "--stream") == 0)
            use_stream = bench_parse_number(o, v) != 0;
        else if (strcmp(o, "--conns") == 0)
            conns = (int)bench_parse_number(o, v);
        else if (strcmp(o, "--expiring") == 0)
            expiring = (unsigned)bench_parse_number(o, v);
        else if (strcmp(o, "--domain-prefix") == 0)
            domain_prefix = v;
        else if (strcmp(o, "--calls") == 0)
            calls = (size_t)bench_parse_number(o, v);
        else if (strcmp(o, "--warmup") == 0)
            warmup = (size_t)bench_parse_number(o, v);
        else if (strcmp(o, "--page-size") == 0)
            page_size = (unsigned)bench_parse_number(o, v);
        else if (strcmp(o, "--domains") == 0)
            domains = (unsigned)bench_parse_number(o, v);
        else if (strcmp(o, "--view") == 0 && (strcmp(v, "basic") == 0 || strcmp(v, "full") == 0))
            query_view = strcmp(v, "basic") == 0 ? CLM__V1__CERTIFICATE_VIEW__CERTIFICATE_VIEW_BASIC
                                                 : CLM__V1__CERTIFICATE_VIEW__CERTIFICATE_VIEW_FULL;
        else {
            fprintf(stderr, "api_bench: unknown option %s\n", o);
            return 2;
        }
    }
    if (ingest) {
        if (batch_size < 1 || batch_size > 1000 || conns < 1 || conns > 64) {
            fprintf(stderr, "api_bench: --batch 1..1000, --conns 1..64\n");
            return 2;
        }
        if (corpus_open(argv[3], count, &cp) != 0)
            return 1;
        int rc = run_ingest(conns);
        corpus_close(&cp);
        return rc;
    }
    if ((expiring == 0) == (domain_prefix == NULL) || calls < 1 || domains < 1 ||
        page_size < 1 || page_size > 1000) {
        fprintf(stderr, "api_bench query: give one of --expiring DAYS or --domain-prefix P\n");
        return 2;
    }
    return run_query(expiring, domain_prefix, domains, calls, warmup, page_size);
}
