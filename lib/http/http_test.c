/* lib/http/http_test.c: plain HTTP against the loopback server (http_test_server.h):
 * requests and responses on the wire, bodies, limits, malformed replies, refusals,
 * timeouts, bad arguments. TLS is tls_test.c, retries retry_test.c. */
#include "lib/http/http_test_server.h"

UNIT_TEST(test_get_echo)
{
    http_header headers[] = {{"X-Test", "value 1"}, {"Authorization", "Bearer t0ken"}};
    http_request req = {
        .method = "GET", .url = http_url_of("/echo?x=1&y=%20"), .headers = headers, .n_headers = 2};
    http_response resp;
    char want[128];
    const char *body;

    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_OK);
    body = (const char *)resp.body;
    CHECK_INT_EQ(resp.status, 200);
    CHECK_STR_CONTAINS(body, "request-line GET /echo?x=1&y=%20 HTTP/1.1\n");
    snprintf(want, sizeof(want),
             "\nheader Host: 127.0.0.1:%d\nheader User-Agent: clm\n"
             "header X-Test: value 1\nheader Authorization: Bearer t0ken\n"
             "header Connection: close\nbody-length 0\n",
             srv.http);
    CHECK_STR_CONTAINS(body, want);
    CHECK(strstr(body, "Content-Length") == NULL); /* GET without a body */
    CHECK_STR_EQ(http_response_header(&resp, "content-type"), "text/plain");
    CHECK(http_response_header(&resp, "Server") != NULL);
    http_response_free(&resp);
    CHECK(resp.body == NULL && resp.headers == NULL);
}

UNIT_TEST(test_post_body)
{
    size_t n = 300000;
    unsigned char *data = malloc(n);
    http_header headers[] = {{"Content-Type", "application/octet-stream"},
                             {"User-Agent", "clm-webhook/1"}};
    http_request req = {.method = "POST",
                        .url = http_url_of("/echo"),
                        .headers = headers,
                        .n_headers = 2,
                        .body = data,
                        .body_len = n};
    http_response resp;
    const unsigned char *got;
    size_t got_len;
    char want[64];

    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 7 + i / 251);
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_OK);
    CHECK_STR_CONTAINS((const char *)resp.body, "request-line POST /echo HTTP/1.1\n");
    CHECK_STR_CONTAINS((const char *)resp.body, "header User-Agent: clm-webhook/1\n");
    CHECK(strstr((const char *)resp.body, "User-Agent: clm\n") == NULL);
    snprintf(want, sizeof(want), "header Content-Length: %zu\n", n);
    CHECK_STR_CONTAINS((const char *)resp.body, want);
    got = echo_body(&resp, &got_len);
    CHECK_INT_EQ(got_len, n);
    CHECK(got != NULL && got_len == n && memcmp(got, data, n) == 0);
    http_response_free(&resp);
    free(data);
}

UNIT_TEST(test_methods)
{
    http_request req = {.method = "PUT", .url = http_url_of("/echo")};
    http_response resp;

    /* PUT without a body still says Content-Length: 0. */
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_OK);
    CHECK_STR_CONTAINS((const char *)resp.body, "request-line PUT /echo HTTP/1.1\n");
    CHECK_STR_CONTAINS((const char *)resp.body, "header Content-Length: 0\n");
    http_response_free(&resp);

    req.method = "DELETE";
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_OK);
    CHECK_STR_CONTAINS((const char *)resp.body, "request-line DELETE /echo HTTP/1.1\n");
    CHECK(strstr((const char *)resp.body, "Content-Length") == NULL);
    http_response_free(&resp);

    /* HEAD: the Content-Length of a body that is not sent. */
    req.method = "HEAD";
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_OK);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_INT_EQ(resp.body_len, 0);
    CHECK(resp.body != NULL && resp.body[0] == 0);
    CHECK(http_response_header(&resp, "Content-Length") != NULL &&
          strcmp(http_response_header(&resp, "Content-Length"), "0") != 0);
    http_response_free(&resp);

    /* NULL is GET. */
    req.method = NULL;
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_OK);
    CHECK_STR_CONTAINS((const char *)resp.body, "request-line GET /echo HTTP/1.1\n");
    http_response_free(&resp);
}

UNIT_TEST(test_names_and_ipv6)
{
    http_response resp;
    char want[64];

    /* localhost: /etc/hosts through the static getaddrinfo; when it lists ::1 first,
     * that address is refused (the server is on 127.0.0.1) and the next one is used. */
    CHECK_INT_EQ(get(url_to("http", "localhost", srv.http, "/echo"), &resp), CLM_OK);
    snprintf(want, sizeof(want), "header Host: localhost:%d\n", srv.http);
    CHECK_STR_CONTAINS((const char *)resp.body, want);
    http_response_free(&resp);

    if (srv.http6 == 0) {
        fprintf(stderr, "note: ::1 is unavailable here; the IPv6 literal test is skipped\n");
        return;
    }
    CHECK_INT_EQ(get(url_to("http", "[::1]", srv.http6, "/echo"), &resp), CLM_OK);
    snprintf(want, sizeof(want), "header Host: [::1]:%d\n", srv.http6);
    CHECK_STR_CONTAINS((const char *)resp.body, want);
    http_response_free(&resp);
}

UNIT_TEST(test_bodies)
{
    http_response resp;
    char url[128];

    CHECK_INT_EQ(get(http_url_of("/chunked"), &resp), CLM_OK);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_STR_EQ((const char *)resp.body, "hello chunked world");
    CHECK_STR_EQ(http_response_header(&resp, "transfer-encoding"), "chunked");
    http_response_free(&resp);

    CHECK_INT_EQ(get(http_url_of("/status/404"), &resp), CLM_OK);
    CHECK_INT_EQ(resp.status, 404);
    CHECK_STR_EQ((const char *)resp.body, "status 404");
    http_response_free(&resp);

    CHECK_INT_EQ(get(http_url_of("/status/503"), &resp), CLM_OK);
    CHECK_INT_EQ(resp.status, 503);
    http_response_free(&resp);

    CHECK_INT_EQ(get(http_url_of("/headers"), &resp), CLM_OK);
    CHECK_STR_EQ(http_response_header(&resp, "LINK"), "<https://example.com/a>;rel=\"up\"");
    CHECK_STR_EQ(http_response_header(&resp, "x-empty"), "");
    {
        int links = 0;

        for (size_t i = 0; i < resp.n_headers; i++)
            links += strcmp(resp.headers[i].name, "Link") == 0;
        CHECK_INT_EQ(links, 2);
    }
    http_response_free(&resp);

    /* A body exactly at the limit passes; one byte more does not. */
    snprintf(url, sizeof(url), "/huge?size=%zu", HTTP_DEFAULT_MAX_RESPONSE_BYTES);
    CHECK_INT_EQ(get(http_url_of(url), &resp), CLM_OK);
    CHECK_INT_EQ(resp.body_len, HTTP_DEFAULT_MAX_RESPONSE_BYTES);
    http_response_free(&resp);
}

UNIT_TEST(test_too_large)
{
    http_request req = {.url = http_url_of("/huge?size=2000000")};
    http_response resp;

    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(),
                       "Content-Length 2000000 exceeds the limit of 1048576 bytes");
    CHECK(resp.body == NULL);

    req.url = http_url_of("/huge-chunked?size=2000000");
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "the body exceeds the limit of 1048576 bytes");

    req.url = http_url_of("/huge?size=1001");
    req.max_response_bytes = 1000;
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "exceeds the limit of 1000 bytes");
    req.url = http_url_of("/huge?size=1000");
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_OK);
    CHECK_INT_EQ(resp.body_len, 1000);
    http_response_free(&resp);
}

static const struct raw_case {
    const char *name;
    clm_err err;
    const char *message; /* error message part, or the body on success */
} raw_cases[] = {
    {"bad-status", CLM_ERR_PARSE, "malformed response: invalid HTTP status code"},
    {"garbage", CLM_ERR_PARSE, "malformed response"},
    {"bad-chunk", CLM_ERR_PARSE, "HPE_INVALID_CHUNK_SIZE"},
    {"two-lengths", CLM_ERR_PARSE, "HPE_UNEXPECTED_CONTENT_LENGTH"},
    {"status-600", CLM_ERR_PARSE, "status 600 is outside 100-599"},
    {"truncated", CLM_ERR_UNAVAILABLE, "closed before the response was complete"},
    {"drop", CLM_ERR_UNAVAILABLE, "closed without a response"},
    {"continue", CLM_OK, "ok"},
    {"eof-body", CLM_OK, "the body ends with the connection"},
};

UNIT_TEST(test_malformed)
{
    for (size_t i = 0; i < sizeof(raw_cases) / sizeof(raw_cases[0]); i++) {
        const struct raw_case *c = &raw_cases[i];
        char path[64];
        http_response resp;
        clm_err err;

        snprintf(path, sizeof(path), "/raw/%s", c->name);
        err = get(http_url_of(path), &resp);
        if (err != c->err)
            fprintf(stderr, "  raw %s: %s\n", c->name, clm_error_message());
        CHECK_INT_EQ(err, c->err);
        if (c->err == CLM_OK) {
            CHECK_STR_EQ((const char *)resp.body, c->message);
        } else {
            CHECK_STR_CONTAINS(clm_error_message(), c->message);
            CHECK_STR_CONTAINS(clm_error_message(), "response from 127.0.0.1 port");
        }
        http_response_free(&resp);
    }
}

/* ---- failures and timeouts ---- */


UNIT_TEST(test_unavailable)
{
    http_response resp;
    char want[64];
    int port = closed_port();
    http_failure failure;
    http_request req = {.url = url_to("http", "127.0.0.1", port, "/")};

    CHECK_INT_EQ(http_request_send_ex(&req, &resp, &failure), CLM_ERR_UNAVAILABLE);
    snprintf(want, sizeof(want), "connect to 127.0.0.1 port %d: Connection refused", port);
    CHECK_STR_CONTAINS(clm_error_message(), want);
    CHECK_INT_EQ(failure, HTTP_FAILURE_CONNECT);

    req.url = "http://no-such-host.invalid/";
    CHECK_INT_EQ(http_request_send_ex(&req, &resp, &failure), CLM_ERR_UNAVAILABLE);
    CHECK_STR_CONTAINS(clm_error_message(), "resolve no-such-host.invalid: ");
    CHECK(failure == HTTP_FAILURE_RESOLVE || failure == HTTP_FAILURE_RESOLVE_AGAIN);
}


UNIT_TEST(test_timeouts)
{
    http_response resp;
    http_failure failure;
    http_request req = {.url = url_to("http", "127.0.0.1", srv.blackhole, "/"),
                        .connect_timeout_ms = 300};
    int64_t start = http_now_ns();
    char want[96];

    /* A connect that never completes (the listener's accept queue is full). */
    CHECK_INT_EQ(http_request_send_ex(&req, &resp, &failure), CLM_ERR_TIMEOUT);
    snprintf(want, sizeof(want), "connect to 127.0.0.1 port %d: timed out after 300 ms",
             srv.blackhole);
    CHECK_STR_CONTAINS(clm_error_message(), want);
    CHECK_INT_EQ(failure, HTTP_FAILURE_CONNECT);
    CHECK(ms_since(start) >= 290 && ms_since(start) < 5000);

    /* The total timeout also bounds the connect. */
    req.connect_timeout_ms = 5000;
    req.total_timeout_ms = 250;
    start = http_now_ns();
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_TIMEOUT);
    CHECK(ms_since(start) >= 240 && ms_since(start) < 4000);

    /* A server that accepts and never answers. */
    req.url = url_to("http", "127.0.0.1", srv.stall, "/");
    req.total_timeout_ms = 400;
    start = http_now_ns();
    CHECK_INT_EQ(http_request_send_ex(&req, &resp, &failure), CLM_ERR_TIMEOUT);
    CHECK_STR_CONTAINS(clm_error_message(), "not complete within 400 ms (total_timeout_ms)");
    CHECK_INT_EQ(failure, HTTP_FAILURE_EXCHANGE);
    CHECK(ms_since(start) >= 390 && ms_since(start) < 5000);

    /* A slow answer. */
    req.url = http_url_of("/slow?ms=3000");
    req.total_timeout_ms = 500;
    start = http_now_ns();
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_TIMEOUT);
    CHECK(ms_since(start) >= 490 && ms_since(start) < 2900);

    /* Bytes that keep coming do not extend the total timeout. */
    req.url = http_url_of("/trickle?ms=100&count=30");
    req.total_timeout_ms = 700;
    start = http_now_ns();
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_TIMEOUT);
    CHECK(ms_since(start) >= 690 && ms_since(start) < 2900);

    /* And one that is slow but in time. */
    req.url = http_url_of("/slow?ms=200");
    req.total_timeout_ms = 10000;
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_OK);
    CHECK_STR_EQ((const char *)resp.body, "slow");
    http_response_free(&resp);
}

UNIT_TEST(test_bad_arguments)
{
    http_header crlf[] = {{"X-A", "ok\r\nX-Injected: 1"}};
    http_header host[] = {{"host", "evil"}};
    http_header name[] = {{"Bad Name", "v"}};
    http_header secret[] = {{"Authorization", "Bearer SECRET\n"}};
    http_request req = {.url = http_url_of("/echo")};
    http_response resp;

    req.method = "get";
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "method");
    req.method = "GET";

    req.headers = crlf;
    req.n_headers = 1;
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "header X-A: the value has a control character");
    req.headers = host;
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "header Host: set by the client itself");
    req.headers = name;
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "headers[0]: the name");
    req.headers = secret;
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(clm_error_message(), "SECRET") == NULL);
    req.headers = NULL;
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "headers: NULL with a count");
    req.n_headers = 0;

    req.body_len = 3;
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "body");
    req.body_len = 0;

    req.total_timeout_ms = -1;
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "total_timeout_ms");
    req.total_timeout_ms = 0;

    req.url = "http://127.0.0.1:99999/";
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "url port");
    req.url = "gopher://h/";
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "url scheme");
    req.url = NULL;
    CHECK_INT_EQ(http_request_send(&req, &resp), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(http_request_send(NULL, &resp), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(http_request_send(&req, NULL), CLM_ERR_INVALID_ARGUMENT);
}

HTTP_TEST_MAIN(UNIT_RUN(test_get_echo);
               UNIT_RUN(test_post_body);
               UNIT_RUN(test_methods);
               UNIT_RUN(test_names_and_ipv6);
               UNIT_RUN(test_bodies);
               UNIT_RUN(test_too_large);
               UNIT_RUN(test_malformed);
               UNIT_RUN(test_unavailable);
               UNIT_RUN(test_timeouts);
               UNIT_RUN(test_bad_arguments))
