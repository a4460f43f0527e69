/*
 * lib/http/response.c: bytes from the server to an http_response, through Debian's
 * http-parser (http_internal.h).
 *
 * http-parser does the framing (status line, headers, content-length, chunked,
 * read-until-close) and refuses the ambiguous cases (two Content-Lengths,
 * Content-Length with chunked). Here: the limits (header bytes and count, body size,
 * checked against Content-Length before the body arrives), the status range, skipping
 * 1xx interim responses, and stopping at the end of the final response. Trailers of a
 * chunked body are read (within the header limit) and dropped: nothing here uses them.
 */
#include "lib/http/http_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static http_response_reader *reader_of(http_parser *p)
{
    return (http_response_reader *)p->data;
}

/* A character of a token (RFC 9110 5.6.2): what a header name is made of. */
static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Record the header read so far (name and value) into r->headers. */
static int header_flush(http_response_reader *r)
{
    const char *value;
    size_t value_len;

    if (!r->in_value)
        return 0;
    r->in_value = false;
    if (r->n_headers >= HTTP_MAX_HEADERS) {
        r->cb_err =
            clm_fail(CLM_ERR_PARSE, "malformed response: more than %d headers", HTTP_MAX_HEADERS);
        return -1;
    }
    value = clm_buf_str(&r->value);
    value_len = r->value.len;
    if (r->field.len == 0 || memchr(value, 0, value_len) != NULL) {
        r->cb_err = clm_fail(CLM_ERR_PARSE, "malformed response: a bad header");
        return -1;
    }
    for (size_t i = 0; i < r->field.len; i++) {
        if (!is_tchar(r->field.data[i])) {
            /* http-parser lets "Name : value" through; RFC 9112 5.1 does not. */
            r->cb_err =
                clm_fail(CLM_ERR_PARSE, "malformed response: a header name with a character a "
                                        "token cannot have");
            return -1;
        }
    }
    while (value_len > 0 && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
        value_len--;
    while (value_len > 0 && (value[0] == ' ' || value[0] == '\t')) {
        value++;
        value_len--;
    }
    if (clm_buf_append(&r->headers, r->field.data, r->field.len) != CLM_OK ||
        clm_buf_append_byte(&r->headers, 0) != CLM_OK ||
        clm_buf_append(&r->headers, value, value_len) != CLM_OK ||
        clm_buf_append_byte(&r->headers, 0) != CLM_OK) {
        r->cb_err = CLM_ERR_NO_MEMORY;
        clm_fail(CLM_ERR_NO_MEMORY, "reading a response: out of memory");
        return -1;
    }
    r->n_headers++;
    clm_buf_reset(&r->field);
    clm_buf_reset(&r->value);
    return 0;
}

static int header_bytes_add(http_response_reader *r, size_t len)
{
    r->header_bytes += len;
    if (r->header_bytes > HTTP_MAX_HEADER_BYTES) {
        r->cb_err = clm_fail(CLM_ERR_PARSE, "malformed response: headers exceed %d bytes",
                             HTTP_MAX_HEADER_BYTES);
        return -1;
    }
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    http_response_reader *r = reader_of(p);

    if (r->in_trailer) /* trailers count toward the limit, and are not kept */
        return header_bytes_add(r, len);
    if (header_flush(r) != 0 || header_bytes_add(r, len) != 0)
        return -1;
    if (clm_buf_append(&r->field, at, len) != CLM_OK) {
        r->cb_err = clm_fail(CLM_ERR_NO_MEMORY, "reading a response: out of memory");
        return -1;
    }
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    http_response_reader *r = reader_of(p);

    if (r->in_trailer)
        return header_bytes_add(r, len);
    r->in_value = true;
    if (header_bytes_add(r, len) != 0)
        return -1;
    if (clm_buf_append(&r->value, at, len) != CLM_OK) {
        r->cb_err = clm_fail(CLM_ERR_NO_MEMORY, "reading a response: out of memory");
        return -1;
    }
    return 0;
}

/*
 * http-parser's return values here: 0 = go on, 1 = no body follows, anything else = stop
 * with an error.
 */
static int on_headers_complete(http_parser *p)
{
    http_response_reader *r = reader_of(p);
    unsigned status = p->status_code;

    if (header_flush(r) != 0)
        return -1;
    r->in_trailer = true;
    if (status < 100 || status > 599) {
        r->cb_err =
            clm_fail(CLM_ERR_PARSE, "malformed response: status %u is outside 100-599", status);
        return -1;
    }
    if (status == 101) {
        r->cb_err = clm_fail(CLM_ERR_PARSE,
                             "malformed response: 101 Switching Protocols was not asked for");
        return -1;
    }
    /* Refuse a body that will not fit before it arrives; HEAD, 204 and 304 have none,
     * whatever Content-Length says. */
    if (status >= 200 && status != 204 && status != 304 && !r->head &&
        (p->flags & F_CONTENTLENGTH) && p->content_length > r->max_body) {
        r->cb_err = clm_fail(CLM_ERR_PARSE,
                             "response too large: Content-Length %llu exceeds the limit "
                             "of %zu bytes (max_response_bytes)",
                             (unsigned long long)p->content_length, r->max_body);
        return -1;
    }
    /* No body follows a 1xx, 204 or 304, nor the answer to HEAD, whatever the headers
     * say: http-parser leaves that to its caller (1 = skip the body). */
    return (r->head || status < 200 || status == 204 || status == 304) ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    http_response_reader *r = reader_of(p);

    if (len > r->max_body - r->body.len) {
        r->cb_err = clm_fail(CLM_ERR_PARSE,
                             "response too large: the body exceeds the limit of %zu bytes "
                             "(max_response_bytes)",
                             r->max_body);
        return -1;
    }
    if (clm_buf_append(&r->body, at, len) != CLM_OK) {
        r->cb_err = clm_fail(CLM_ERR_NO_MEMORY, "reading a response: out of memory");
        return -1;
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    http_response_reader *r = reader_of(p);

    if (p->status_code < 200) {
        /* An interim response (100 Continue, 103 Early Hints): the final one follows. */
        clm_buf_reset(&r->headers);
        clm_buf_reset(&r->body);
        r->n_headers = 0;
        r->header_bytes = 0;
        r->in_trailer = false;
        return 0;
    }
    r->done = true;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings reader_settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void http_response_reader_init(http_response_reader *r, size_t max_body, bool head)
{
    memset(r, 0, sizeof(*r));
    http_parser_init(&r->parser, HTTP_RESPONSE);
    r->parser.data = r;
    r->max_body = max_body;
    r->head = head;
}

clm_err http_response_reader_feed(http_response_reader *r, const void *data, size_t len)
{
    enum http_errno perr;

    if (r->done)
        return CLM_OK;
    if (r->cb_err != CLM_OK)
        return clm_fail(CLM_ERR_INTERNAL, "response reader used after an error");
    (void)http_parser_execute(&r->parser, &reader_settings, data, len);
    perr = HTTP_PARSER_ERRNO(&r->parser);
    r->received += len;
    if (r->done)
        return CLM_OK;
    if (r->cb_err != CLM_OK)
        return r->cb_err;
    if (perr != HPE_OK) {
        if (len == 0 && perr == HPE_INVALID_EOF_STATE)
            return clm_fail(CLM_ERR_UNAVAILABLE,
                            "the connection closed before the response was complete "
                            "(%llu bytes received)",
                            (unsigned long long)r->received);
        r->cb_err = CLM_ERR_PARSE;
        return clm_fail(CLM_ERR_PARSE, "malformed response: %s (%s)", http_errno_description(perr),
                        http_errno_name(perr));
    }
    if (len == 0) {
        if (r->received == 0)
            return clm_fail(CLM_ERR_UNAVAILABLE, "the connection closed without a response");
        return clm_fail(CLM_ERR_UNAVAILABLE,
                        "the connection closed before the response was complete "
                        "(%llu bytes received)",
                        (unsigned long long)r->received);
    }
    return CLM_OK;
}

bool http_response_reader_done(const http_response_reader *r)
{
    return r->done;
}

clm_err http_response_reader_take(http_response_reader *r, http_response *out)
{
    http_header *headers = NULL;
    const char *raw;
    unsigned char *body;
    size_t body_len = 0, raw_len;

    memset(out, 0, sizeof(*out));
    if (!r->done)
        return clm_fail(CLM_ERR_INTERNAL, "response reader: the response is not complete");
    raw_len = r->headers.len;
    if (r->n_headers > 0) {
        /* One block: the array, then the names and values it points into. */
        char *copy;

        headers = malloc(r->n_headers * sizeof(*headers) + raw_len);
        if (headers == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "reading a response: out of memory");
        copy = (char *)(headers + r->n_headers);
        memcpy(copy, r->headers.data, raw_len);
        raw = copy;
        for (size_t i = 0; i < r->n_headers; i++) {
            headers[i].name = raw;
            raw += strlen(raw) + 1;
            headers[i].value = raw;
            raw += strlen(raw) + 1;
        }
    }
    body = clm_buf_detach(&r->body, &body_len);
    if (body == NULL) {
        body = calloc(1, 1);
        body_len = 0;
        if (body == NULL) {
            free(headers);
            return clm_fail(CLM_ERR_NO_MEMORY, "reading a response: out of memory");
        }
    }
    out->status = (int)r->parser.status_code;
    out->headers = headers;
    out->n_headers = r->n_headers;
    out->body = body;
    out->body_len = body_len;
    return CLM_OK;
}

void http_response_reader_free(http_response_reader *r)
{
    clm_buf_free(&r->field);
    clm_buf_free(&r->value);
    clm_buf_free(&r->headers);
    clm_buf_free(&r->body);
}

clm_err http_response_parse(const void *data, size_t len, size_t max_body, bool head,
                            http_response *out)
{
    http_response_reader r;
    clm_err err;

    memset(out, 0, sizeof(*out));
    http_response_reader_init(&r, max_body, head);
    err = http_response_reader_feed(&r, data, len);
    if (err == CLM_OK && !r.done)
        err = http_response_reader_feed(&r, NULL, 0);
    if (err == CLM_OK)
        err = http_response_reader_take(&r, out);
    http_response_reader_free(&r);
    return err;
}

void http_response_free(http_response *resp)
{
    if (resp == NULL)
        return;
    free(resp->headers);
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
}

const char *http_response_header(const http_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->n_headers; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}
