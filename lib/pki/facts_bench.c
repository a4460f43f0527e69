/*
 * lib/pki/facts_bench.c: certificates per second of the fast facts path against the
 * OpenSSL path, in the same run, on one core (CPU time of this single thread, so other
 * load on the machine does not count).
 *
 *   facts_bench [-s SECONDS] FILE...   (any format pki_read() reads; e.g. the corpus)
 *
 * Prints, for the certificates of the files: how many the fast path describes itself,
 * and certificates/s of: the fast path alone (on those), pki_facts_from_der() (fast,
 * else OpenSSL), the OpenSSL path (d2i_X509 + facts), and d2i_X509 alone.
 */
#include "lib/base/buf.h"
#include "lib/pki/facts.h"
#include "lib/pki/read.h"

#include <errno.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct cert {
    unsigned char *der;
    size_t len;
    int fast; /* the fast path accepts it */
} cert;

static double cpu_seconds(void)
{
    struct timespec t;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int read_file(const char *path, clm_buf *out)
{
    FILE *fp = fopen(path, "rb");
    char chunk[65536];
    size_t n;

    if (fp == NULL) {
        fprintf(stderr, "facts_bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        clm_buf_append(out, chunk, n);
    fclose(fp);
    return 0;
}

enum mode { FAST, FACADE, OPENSSL, D2I_ONLY };

/* Rounds over the certificates until `seconds` of CPU: certificates/s. */
static double run(const cert *certs, size_t n, enum mode mode, double seconds, size_t *failed)
{
    double start = cpu_seconds(), elapsed;
    size_t done = 0;

    *failed = 0;
    do {
        for (size_t i = 0; i < n; i++) {
            pki_facts *f = NULL;
            clm_err err = CLM_OK;

            if (mode == FAST && !certs[i].fast)
                continue;
            switch (mode) {
            case FAST: err = pki_facts_from_der_fast(certs[i].der, certs[i].len, &f); break;
            case FACADE: err = pki_facts_from_der(certs[i].der, certs[i].len, &f); break;
            case OPENSSL: err = pki_facts_from_der_openssl(certs[i].der, certs[i].len, &f); break;
            case D2I_ONLY: {
                const unsigned char *p = certs[i].der;
                X509 *x = d2i_X509(NULL, &p, (long)certs[i].len);
                err = x ? CLM_OK : CLM_ERR_PARSE;
                X509_free(x);
                break;
            }
            }
            *failed += err != CLM_OK;
            pki_facts_free(f);
            done++;
        }
        elapsed = cpu_seconds() - start;
    } while (elapsed < seconds && done > 0);
    return elapsed > 0 ? (double)done / elapsed : 0;
}

int main(int argc, char **argv)
{
    double seconds = 2.0;
    cert *certs = NULL;
    size_t n = 0, cap = 0, n_fast = 0, failed;
    int first = 1;

    if (argc > 2 && strcmp(argv[1], "-s") == 0) {
        seconds = strtod(argv[2], NULL);
        first = 3;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: facts_bench [-s SECONDS] FILE...\n");
        return 2;
    }
    for (int a = first; a < argc; a++) {
        clm_buf data = CLM_BUF_INIT;
        pki_read_result r;

        if (read_file(argv[a], &data) != 0)
            return 1;
        pki_read_options o = {argv[a], getenv("FACTS_BENCH_PASSWORD"), 0, 0, PKI_FORMAT_UNKNOWN};
        pki_read(data.data, data.len, &o, &r);
        for (size_t i = 0; i < r.n_items; i++) {
            pki_item *it = &r.items[i];
            pki_facts *f = NULL;
            if (it->kind != PKI_ITEM_CERT || it->err != CLM_OK)
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                certs = realloc(certs, cap * sizeof *certs);
                if (certs == NULL)
                    return 1;
            }
            certs[n].der = it->der;
            certs[n].len = it->der_len;
            certs[n].fast = pki_facts_from_der_fast(it->der, it->der_len, &f) == CLM_OK;
            n_fast += (size_t)certs[n].fast;
            pki_facts_free(f);
            it->der = NULL; /* kept */
            n++;
        }
        pki_read_result_free(&r);
        clm_buf_free(&data);
    }
    if (n == 0) {
        fprintf(stderr, "facts_bench: no certificates in the files\n");
        return 1;
    }
    printf("certificates: %zu, of which the fast path describes %zu (%.1f%%)\n", n, n_fast,
           100.0 * (double)n_fast / (double)n);
    double fast = run(certs, n, FAST, seconds, &failed);
    printf("fast path (x509_fast.c):        %9.0f certificates/s/core\n", fast);
    double facade = run(certs, n, FACADE, seconds, &failed);
    printf("pki_facts_from_der (fast+else): %9.0f certificates/s/core (%zu failed)\n", facade,
           failed);
    double slow = run(certs, n, OPENSSL, seconds, &failed);
    printf("OpenSSL path (d2i_X509+facts):  %9.0f certificates/s/core (%zu failed)\n", slow,
           failed);
    double d2i = run(certs, n, D2I_ONLY, seconds, &failed);
    printf("d2i_X509 alone:                 %9.0f certificates/s/core\n", d2i);
    printf("fast path / OpenSSL path: %.1fx\n", slow > 0 ? fast / slow : 0);
    for (size_t i = 0; i < n; i++)
        free(certs[i].der);
    free(certs);
    return 0;
}
