/*
 * tools/bench/inventory/corpus.h: the benchmark's certificate corpus file.
 *
 * Format (little-endian): "CLMCORP1", u64 count, then `count` records of u32 length and
 * that many bytes of DER. gen_corpus writes it once (to a temporary name, renamed when
 * complete); the other tools map it read-only and may use any prefix of it.
 */
#ifndef CLM_TOOLS_BENCH_INVENTORY_CORPUS_H
#define CLM_TOOLS_BENCH_INVENTORY_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#define CORPUS_MAGIC "CLMCORP1"

typedef struct corpus_cert {
    const unsigned char *der;
    uint32_t len;
} corpus_cert;

typedef struct corpus {
    void *map;
    size_t map_len;
    corpus_cert *certs;
    size_t n; /* certificates used: min(file count, limit) */
    size_t total; /* certificates in the file */
} corpus;

/**
 * Map `path` and index its first `limit` certificates (0: all).
 * @return 0, or -1 with a message on stderr.
 */
int corpus_open(const char *path, size_t limit, corpus *c);
void corpus_close(corpus *c);

/** Seconds on the monotonic clock. */
double bench_now(void);

/** A whole non-negative decimal number, else exit 2 naming the option. */
long long bench_parse_number(const char *option, const char *text);

#endif
