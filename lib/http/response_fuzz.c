/*
 * lib/http/response_fuzz.c: arbitrary bytes as a server's reply, through the reader the
 * transport uses (http_internal.h).
 *
 * Input: byte 0 picks the options (bit 0: a response to HEAD; bits 1-2: the body
 * limit), byte 1 the size of each read the transport would have returned (0: all at
 * once), the rest is what the server sent before closing. The bytes are read twice,
 * whole and in those pieces: both readings must agree, and a response must keep the
 * reader's promises (status, limits, NUL-terminated body, headers findable by name).
 */
#include "lib/http/http_internal.h"
#include "lib/http/retry.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t limits[] = {0, 1, 64, 1 << 20};

static clm_err read_in_pieces(const uint8_t *data, size_t size, size_t step, size_t max, bool head,
                              http_response *out)
{
    http_response_reader r;
    clm_err err = CLM_OK;

    memset(out, 0, sizeof(*out));
    http_response_reader_init(&r, max, head);
    for (size_t off = 0; off < size && err == CLM_OK && !http_response_reader_done(&r);) {
        size_t n = size - off < step ? size - off : step;

        err = http_response_reader_feed(&r, data + off, n);
        off += n;
    }
    if (err == CLM_OK && !http_response_reader_done(&r))
        err = http_response_reader_feed(&r, NULL, 0);
    if (err == CLM_OK)
        err = http_response_reader_take(&r, out);
    http_response_reader_free(&r);
    return err;
}

static void check(const http_response *resp, size_t max)
{
    int64_t delay;

    if (resp->status < 200 || resp->status > 599 || resp->body == NULL || resp->body_len > max ||
        resp->body[resp->body_len] != 0 || (resp->n_headers > 0 && resp->headers == NULL) ||
        resp->n_headers > HTTP_MAX_HEADERS)
        abort();
    for (size_t i = 0; i < resp->n_headers; i++) {
        if (resp->headers[i].name[0] == '\0' ||
            http_response_header(resp, resp->headers[i].name) == NULL)
            abort();
    }
    (void)http_retry_after_parse(http_response_header(resp, "Retry-After"), 0, &delay);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    http_response whole, pieces;
    clm_err err_whole, err_pieces;
    bool head;
    size_t max, step;

    if (size < 2)
        return 0;
    head = data[0] & 1;
    max = limits[(data[0] >> 1) & 3];
    step = data[1] != 0 ? data[1] : size;
    data += 2;
    size -= 2;

    err_whole = http_response_parse(data, size, max, head, &whole);
    err_pieces = read_in_pieces(data, size, step, max, head, &pieces);
    if (err_whole != err_pieces)
        abort();
    if (err_whole == CLM_OK) {
        check(&whole, max);
        check(&pieces, max);
        if (whole.status != pieces.status || whole.n_headers != pieces.n_headers ||
            whole.body_len != pieces.body_len ||
            memcmp(whole.body, pieces.body, whole.body_len) != 0)
            abort();
        for (size_t i = 0; i < whole.n_headers; i++)
            if (strcmp(whole.headers[i].name, pieces.headers[i].name) != 0 ||
                strcmp(whole.headers[i].value, pieces.headers[i].value) != 0)
                abort();
    } else if (whole.body != NULL || pieces.body != NULL) {
        abort();
    }
    http_response_free(&whole);
    http_response_free(&pieces);
    return 0;
}
