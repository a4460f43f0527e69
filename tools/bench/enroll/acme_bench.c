/*
 * tools/bench/enroll/acme_bench.c: the ACME adapter against a running pebble (started by
 * tools/bench/enroll/run_acme), real http-01 through the adapter's built-in responder.
 *
 *   sequential   COUNT orders one after the other: the mean time per order (new EC P-256
 *                key and CSR, newOrder, authorization, challenge, validation by pebble,
 *                finalize, download), the account made before the clock starts.
 *   parallel     COUNT orders on COUNT threads at once (max_orders COUNT): the total.
 * Every order must end issued; otherwise the run fails (exit 1).
 *
 * Usage: acme_bench --url URL --ca-file PEM --listen ADDR:PORT [--count N]
 * Prints "sequential N orders: mean X ms/order" and "parallel N orders: total X s".
 */
#include "adapters/adapter.h"
#include "adapters/ca/acme/acme.h"
#include "adapters/ca/memory_state.h"
#include "lib/base/buf.h"
#include "lib/base/log.h"
#include "lib/pki/csr.h"
#include "lib/pki/key.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static adapter_ca *ca;
static atomic_int seq, failures;

/* One order: a new key and CSR for a fresh name, submitted. */
static void one_order(const char *tag)
{
    char name[96];
    pki_csr_fields f = {.hash = PKI_HASH_SHA256};
    EVP_PKEY *key = NULL;
    clm_buf csr = CLM_BUF_INIT;
    adapter_ca_result r = {0};

    snprintf(name, sizeof name, "%s%d-%d.bench.test", tag, (int)getpid(),
             atomic_fetch_add(&seq, 1));
    f.common_name = name;
    f.sans = name;
    if (pki_key_generate(PKI_KEY_EC_P256, &key) != CLM_OK ||
        pki_csr_build(&f, NULL, key, &csr) != CLM_OK ||
        ca_acme_ops.submit(ca, &(adapter_ca_request){.csr = csr.data, .csr_len = csr.len}, &r) !=
            CLM_OK ||
        r.outcome != ADAPTER_CA_ISSUED) {
        fprintf(stderr, "order %s: %s %s\n", name, adapter_ca_outcome_name(r.outcome), r.reason);
        atomic_fetch_add(&failures, 1);
    }
    adapter_ca_result_free(&r);
    clm_buf_free(&csr);
    EVP_PKEY_free(key);
}

static void *worker(void *arg)
{
    (void)arg;
    one_order("p");
    return NULL;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *ca_file = NULL, *listen_addr = NULL;
    int count = 50;
    char max_orders[16];
    ca_memory_state state;
    pthread_t *threads;
    double t0, sequential, parallel;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--url") == 0)
            url = argv[i + 1];
        else if (strcmp(argv[i], "--ca-file") == 0)
            ca_file = argv[i + 1];
        else if (strcmp(argv[i], "--listen") == 0)
            listen_addr = argv[i + 1];
        else if (strcmp(argv[i], "--count") == 0)
            count = (int)strtol(argv[i + 1], NULL, 10);
    }
    if (url == NULL || ca_file == NULL || listen_addr == NULL || count < 1 || count > 256) {
        fprintf(stderr, "usage: acme_bench --url URL --ca-file PEM --listen ADDR:PORT "
                        "[--count 1-256]\n");
        return 2;
    }
    clm_log_set_level(CLM_LOG_WARN);
    snprintf(max_orders, sizeof max_orders, "%d", count);
    ca_memory_state_init(&state);
    {
        adapter_field_value v[] = {{"directory_url", url},         {"ca_file", ca_file},
                                   {"terms_agreed", "true"},       {"http01_listen", listen_addr},
                                   {"max_orders", max_orders}};
        adapter_ca_config config = {.connector = "bench",
                                    .fields = {v, sizeof v / sizeof *v},
                                    .state = &state.state};
        if (ca_acme_ops.open(&config, &ca) != CLM_OK) {
            fprintf(stderr, "open: %s\n", clm_error_message());
            return 1;
        }
    }
    one_order("w"); /* the account, the directory, a warm responder */

    t0 = now_s();
    for (int i = 0; i < count; i++)
        one_order("s");
    sequential = now_s() - t0;

    threads = calloc((size_t)count, sizeof *threads);
    t0 = now_s();
    for (int i = 0; i < count; i++)
        pthread_create(&threads[i], NULL, worker, NULL);
    for (int i = 0; i < count; i++)
        pthread_join(threads[i], NULL);
    parallel = now_s() - t0;

    printf("sequential %d orders: mean %.1f ms/order (total %.2f s)\n", count,
           sequential * 1000 / count, sequential);
    printf("parallel %d orders: total %.2f s\n", count, parallel);
    printf("failures: %d\n", atomic_load(&failures));
    free(threads);
    ca_acme_ops.close(ca);
    ca_memory_state_free(&state);
    return atomic_load(&failures) == 0 ? 0 : 1;
}
