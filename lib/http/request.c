/*
 * lib/http/request.c: http_request_send(): check the request, write it, read the
 * response (http.h).
 */
#include "lib/base/clock.h"
#include "lib/base/log.h"
#include "lib/http/http_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* How long to look for the server's last words after a send failed. */
#define HTTP_AFTER_SEND_FAILURE_MS 1000

/* Headers the client writes itself; a caller may not set them. */
static const char *const reserved_headers[] = {
    "Host", "Content-Length", "Transfer-Encoding", "Connection",       "Upgrade",
    "TE",   "Expect",         "Keep-Alive",        "Proxy-Connection",
};

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static clm_err check_method(const char *method)
{
    size_t len = strlen(method);

    if (len == 0 || len > 16)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "method: must be 1-16 letters");
    for (size_t i = 0; i < len; i++)
        if (method[i] < 'A' || method[i] > 'Z')
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "method: upper-case letters only (\"GET\", \"POST\")");
    return CLM_OK;
}

static clm_err check_header(const http_header *h, size_t index)
{
    size_t name_len;

    if (h->name == NULL || h->value == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "headers[%zu]: name or value is NULL", index);
    name_len = strlen(h->name);
    if (name_len == 0 || name_len > 256)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "headers[%zu]: name must be 1-256 bytes", index);
    for (size_t i = 0; i < name_len; i++)
        if (!is_tchar((unsigned char)h->name[i]))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "headers[%zu]: the name has a character a header name cannot have",
                            index);
    for (size_t i = 0; i < sizeof(reserved_headers) / sizeof(reserved_headers[0]); i++)
        if (strcasecmp(h->name, reserved_headers[i]) == 0)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "header %s: set by the client itself, not by the caller",
                            reserved_headers[i]);
    /* The value is not named in the message: it may be a credential. */
    for (const unsigned char *v = (const unsigned char *)h->value; *v != '\0'; v++)
        if ((*v < 0x20 && *v != '\t') || *v == 0x7f)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "header %s: the value has a control character (CR, LF...)", h->name);
    if (strlen(h->value) > 16384)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "header %s: the value is over 16384 bytes",
                        h->name);
    return CLM_OK;
}

static bool has_header(const http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return true;
    return false;
}

static clm_err check_request(const http_request *req)
{
    clm_err err;

    if (req->method != NULL && (err = check_method(req->method)) != CLM_OK)
        return err;
    if (req->body == NULL && req->body_len > 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "body: NULL with a length");
    if (req->connect_timeout_ms < 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "connect_timeout_ms: negative");
    if (req->total_timeout_ms < 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "total_timeout_ms: negative");
    if (req->n_headers > HTTP_MAX_REQUEST_HEADERS)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "headers: more than %d",
                        HTTP_MAX_REQUEST_HEADERS);
    if (req->n_headers > 0 && req->headers == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "headers: NULL with a count");
    for (size_t i = 0; i < req->n_headers; i++)
        if ((err = check_header(&req->headers[i], i)) != CLM_OK)
            return err;
    return CLM_OK;
}

/* The request head and body, in one buffer: one write, one TLS record run. */
static clm_err build_request(const http_request *req, const http_url *url, const char *method,
                             clm_buf *out)
{
    char host[HTTP_ORIGIN_SIZE];
    bool length = req->body_len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                  strcmp(method, "PATCH") == 0;
    clm_err err;

    err = clm_buf_printf(out, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, url->target,
                         http_url_host_header(url, host));
    if (err == CLM_OK && !has_header(req, "User-Agent"))
        err = clm_buf_append_str(out, "User-Agent: clm\r\n");
    for (size_t i = 0; err == CLM_OK && i < req->n_headers; i++)
        err = clm_buf_printf(out, "%s: %s\r\n", req->headers[i].name, req->headers[i].value);
    if (err == CLM_OK && length)
        err = clm_buf_printf(out, "Content-Length: %zu\r\n", req->body_len);
    if (err == CLM_OK)
        err = clm_buf_append_str(out, "Connection: close\r\n\r\n");
    if (err == CLM_OK && req->body_len > 0)
        err = clm_buf_append(out, req->body, req->body_len);
    if (err != CLM_OK)
        return clm_fail(CLM_ERR_NO_MEMORY, "building the request: out of memory");
    return CLM_OK;
}

/* Read until the response is complete, the deadline passes or something fails. */
static clm_err read_response(http_conn *conn, http_response_reader *reader, int64_t deadline_ns,
                             int total_timeout_ms)
{
    unsigned char buf[16384];

    while (!http_response_reader_done(reader)) {
        size_t got = 0;
        clm_err err = http_conn_read(conn, buf, sizeof(buf), &got, deadline_ns, total_timeout_ms);

        if (err == CLM_ERR_TIMEOUT)
            return clm_fail(CLM_ERR_TIMEOUT,
                            "response from %s: not complete within %d ms (total_timeout_ms)",
                            conn->peer, total_timeout_ms);
        if (err != CLM_OK)
            return err;
        err = http_response_reader_feed(reader, buf, got);
        if (err != CLM_OK)
            return clm_error_context(err, "response from %s", conn->peer);
        /* A body that ends with the connection must end with TLS's close_notify, or
         * an attacker could have cut it short. */
        if (got == 0 && conn->ssl != NULL && !conn->tls_closed && http_response_reader_done(reader))
            return clm_fail(CLM_ERR_PARSE,
                            "response from %s: the body ends with the connection, which "
                            "closed without TLS close_notify: it may be truncated",
                            conn->peer);
    }
    return CLM_OK;
}

clm_err http_request_send_ex(const http_request *req, http_response *out, http_failure *failure)
{
    http_url url;
    http_conn conn = {.fd = -1};
    http_response_reader reader;
    clm_buf wire = CLM_BUF_INIT;
    const char *method;
    char origin[HTTP_ORIGIN_SIZE];
    int connect_ms, total_ms;
    int64_t start, deadline, connect_deadline;
    size_t max_body;
    clm_err err;

    *failure = HTTP_FAILURE_ARGUMENT;
    if (out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "response: NULL");
    memset(out, 0, sizeof(*out));
    if (req == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "request: NULL");
    if ((err = check_request(req)) != CLM_OK)
        return err;
    if ((err = http_url_parse(req->url, &url)) != CLM_OK)
        return err;
    method = req->method != NULL ? req->method : "GET";
    connect_ms =
        req->connect_timeout_ms > 0 ? req->connect_timeout_ms : HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    total_ms = req->total_timeout_ms > 0 ? req->total_timeout_ms : HTTP_DEFAULT_TOTAL_TIMEOUT_MS;
    max_body =
        req->max_response_bytes > 0 ? req->max_response_bytes : HTTP_DEFAULT_MAX_RESPONSE_BYTES;
    http_url_origin(&url, origin);

    /* The TLS context first: a bad CA or client key is the caller's, and costs no
     * connection. */
    if (url.https) {
        SSL_CTX *ctx = NULL;

        err = http_tls_context_new(req->tls, &ctx);
        if (err != CLM_OK) {
            *failure =
                err == CLM_ERR_INVALID_ARGUMENT ? HTTP_FAILURE_ARGUMENT : HTTP_FAILURE_TLS_VERIFY;
            http_url_free(&url);
            return err;
        }
        conn.ctx = ctx;
    }
    err = build_request(req, &url, method, &wire);
    if (err != CLM_OK)
        goto done;

    start = http_now_ns();
    deadline = start + (int64_t)total_ms * CLM_NS_PER_MS;
    connect_deadline = start + (int64_t)connect_ms * CLM_NS_PER_MS;
    if (connect_deadline > deadline)
        connect_deadline = deadline;
    err = http_conn_open(&conn, &url, connect_deadline, connect_ms, failure);
    if (err != CLM_OK)
        goto done;
    if (url.https) {
        SSL_CTX *ctx = conn.ctx;

        conn.ctx = NULL; /* http_tls_handshake owns it now, in conn again */
        err = http_tls_handshake(&conn, ctx, &url, req->tls, connect_deadline, connect_ms, failure);
        if (err != CLM_OK)
            goto done;
    }

    *failure = HTTP_FAILURE_EXCHANGE;
    err = http_conn_write(&conn, wire.data, wire.len, deadline, total_ms);
    if (err != CLM_OK && err != CLM_ERR_UNAVAILABLE)
        goto done;
    http_response_reader_init(&reader, max_body, strcmp(method, "HEAD") == 0);
    if (err == CLM_OK) {
        err = read_response(&conn, &reader, deadline, total_ms);
    } else {
        /* The server stopped reading and closed (EPIPE, reset): what it said before
         * that (a 413, a TLS alert such as "certificate required") explains more than
         * the failed send. Read it if it is there; else keep the send's message. */
        char saved[CLM_ERROR_MESSAGE_MAX];
        int64_t soon = http_now_ns() + HTTP_AFTER_SEND_FAILURE_MS * CLM_NS_PER_MS;

        snprintf(saved, sizeof(saved), "%s", clm_error_message());
        conn.tls_error = false;
        err = read_response(&conn, &reader, soon < deadline ? soon : deadline, total_ms);
        if (err != CLM_OK && !conn.tls_error)
            err = clm_fail(CLM_ERR_UNAVAILABLE, "%s", saved);
    }
    if (err == CLM_OK)
        err = http_response_reader_take(&reader, out);
    http_response_reader_free(&reader);
    if (err == CLM_OK) {
        *failure = HTTP_FAILURE_NONE;
        CLM_LOG_DEBUG("http_request", "method", method, "origin", origin, "status",
                      CLM_I64(out->status), "ms", CLM_I64((http_now_ns() - start) / CLM_NS_PER_MS),
                      "bytes", CLM_I64(out->body_len));
    }
done:
    http_conn_close(&conn);
    clm_buf_wipe(&wire); /* headers and body may hold secrets */
    http_url_free(&url);
    return err;
}

clm_err http_request_send(const http_request *req, http_response *out)
{
    http_failure failure;

    return http_request_send_ex(req, out, &failure);
}
