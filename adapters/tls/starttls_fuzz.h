/*
 * adapters/tls/starttls_fuzz.h: shared body of the STARTTLS fuzz targets (header only).
 *
 * fuzz_exchange() plays the server with arbitrary bytes: the first byte picks the
 * read size (1-256), the rest arrives in reads of that size, and whatever the client
 * queues is sent in halves. Invariants checked (abort() when broken): the step stays
 * in range, output never exceeds its buffer, a failure has a reason of printable
 * ASCII, a READY exchange consumed everything it was given.
 */
#ifndef CLM_ADAPTERS_TLS_STARTTLS_FUZZ_H
#define CLM_ADAPTERS_TLS_STARTTLS_FUZZ_H

#include "adapters/tls/starttls.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_text(const char *text, size_t size)
{
    size_t len = strnlen(text, size);

    if (len == size)
        abort(); /* not terminated */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f)
            abort(); /* a server byte reached a reason unescaped */
}

static void fuzz_exchange(adapter_probe_protocol protocol, const uint8_t *data, size_t size)
{
    static tls_starttls s;
    size_t chunk, off = 1;

    if (size == 0)
        return;
    chunk = (size_t)data[0] + 1;
    tls_starttls_init(&s, protocol, "[127.0.0.1]");
    while (off < size && s.step != TLS_STARTTLS_FAILED) {
        size_t take = size - off < chunk ? size - off : chunk;
        tls_starttls_step step = tls_starttls_input(&s, data + off, take);
        off += take;
        if (step == TLS_STARTTLS_READY && off < size) {
            if (tls_starttls_input(&s, data + off, size - off) != TLS_STARTTLS_FAILED)
                abort(); /* bytes after READY must fail as an injection */
            break;
        }
        while (s.step == TLS_STARTTLS_WRITE) {
            size_t len;
            tls_starttls_output(&s, &len);
            if (len == 0 || len > TLS_STARTTLS_OUTPUT_MAX)
                abort();
            tls_starttls_sent(&s, len > 1 ? len / 2 : len);
        }
        if ((unsigned)s.step > TLS_STARTTLS_FAILED || s.in_len > sizeof s.in)
            abort();
    }
    if (s.step == TLS_STARTTLS_READY && s.in_len != 0)
        abort();
    if (s.step == TLS_STARTTLS_FAILED)
        fuzz_check_text(s.reason, sizeof s.reason);
    if (s.step == TLS_STARTTLS_READ)
        tls_starttls_closed(&s);
}

/* Call line(ctx, line, len) for each LF-separated line of data (CR kept: the parsers
 * must cope with anything). */
static void fuzz_each_line(const uint8_t *data, size_t size,
                           void (*line)(void *ctx, const char *text, size_t len), void *ctx)
{
    size_t start = 0;

    for (size_t i = 0; i <= size; i++) {
        if (i == size || data[i] == '\n') {
            line(ctx, (const char *)data + start, i - start);
            start = i + 1;
        }
    }
}

#endif
