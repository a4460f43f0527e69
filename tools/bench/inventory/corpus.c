/* tools/bench/inventory/corpus.c: map and index a corpus file (see corpus.h). */
#include "tools/bench/inventory/corpus.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int corpus_open(const char *path, size_t limit, corpus *c)
{
    struct stat sb;
    const unsigned char *p, *end;
    int fd = open(path, O_RDONLY);

    memset(c, 0, sizeof(*c));
    if (fd < 0 || fstat(fd, &sb) != 0) {
        fprintf(stderr, "corpus: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    c->map_len = (size_t)sb.st_size;
    c->map = c->map_len >= 16 ? mmap(NULL, c->map_len, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);
    if (c->map == MAP_FAILED || memcmp(c->map, CORPUS_MAGIC, 8) != 0) {
        fprintf(stderr, "corpus: %s: not a corpus file\n", path);
        if (c->map != MAP_FAILED)
            munmap(c->map, c->map_len);
        c->map = NULL;
        return -1;
    }
    madvise(c->map, c->map_len, MADV_SEQUENTIAL);
    p = (const unsigned char *)c->map;
    end = p + c->map_len;
    c->total = (size_t)get_le(p + 8, 8);
    c->n = limit && limit < c->total ? limit : c->total;
    c->certs = malloc((c->n ? c->n : 1) * sizeof(*c->certs));
    if (c->certs == NULL) {
        corpus_close(c);
        return -1;
    }
    p += 16;
    for (size_t i = 0; i < c->n; i++) {
        if (end - p < 4 || (size_t)(end - p - 4) < get_le(p, 4)) {
            fprintf(stderr, "corpus: %s: truncated at certificate %zu\n", path, i);
            corpus_close(c);
            return -1;
        }
        c->certs[i].len = (uint32_t)get_le(p, 4);
        c->certs[i].der = p + 4;
        p += 4 + c->certs[i].len;
    }
    return 0;
}

void corpus_close(corpus *c)
{
    if (c->map != NULL)
        munmap(c->map, c->map_len);
    free(c->certs);
    memset(c, 0, sizeof(*c));
}

double bench_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

long long bench_parse_number(const char *option, const char *text)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 0) {
        fprintf(stderr, "%s: '%s' is not a number\n", option, text);
        exit(2);
    }
    return v;
}
