/*
 * lib/http/http_test.c: lib/http against a real server on loopback.
 *
 * The server is testdata/http_test_server.py, run with /usr/bin/python3: it makes a test
 * CA with openssl, listens on kernel-chosen loopback ports (plain, TLS, mutual TLS, one
 * that never answers, one whose accept queue is full, plain on ::1) and serves scripted
 * routes; /echo answers with what it received, so each test checks the request on the
 * wire as well as the response. The server ends when this process closes its stdin.
 */
#include "lib/base/buf.h"
#include "lib/base/clock.h"
#include "lib/base/error.h"
#include "lib/base/log.h"
#include "lib/http/http.h"
#include "lib/http/http_internal.h"
#include "lib/http/retry.h"
#include "tests/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static struct {
    pid_t pid;
    int stdin_fd;
    int http, https, mtls, stall, blackhole, http6;
    char dir[PATH_MAX];
} srv = {.pid = -1, .stdin_fd = -1};

static char *read_file(const char *name, size_t *len)
{
    char path[PATH_MAX + 64];
    clm_buf buf = CLM_BUF_INIT;
    char chunk[4096];
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", srv.dir, name);
    f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        clm_buf_append(&buf, chunk, n);
    fclose(f);
    return (char *)clm_buf_detach(&buf, len);
}

static const char *server_script(void)
{
    static char path[PATH_MAX];
    const char *srcdir = getenv("TEST_SRCDIR");
    const char *workspace = getenv("TEST_WORKSPACE");

    if (access("lib/http/testdata/http_test_server.py", R_OK) == 0)
        return "lib/http/testdata/http_test_server.py";
    snprintf(path, sizeof(path), "%s/%s/lib/http/testdata/http_test_server.py",
             srcdir ? srcdir : ".", workspace ? workspace : "clm");
    return path;
}

static bool server_start(void)
{
    const char *tmp = getenv("TEST_TMPDIR");
    int in[2], out[2];
    posix_spawn_file_actions_t actions;
    char line[512];
    size_t len = 0;
    char *argv[4];
    int64_t deadline = http_now_ns() + 60 * CLM_NS_PER_SEC;

    snprintf(srv.dir, sizeof(srv.dir), "%s/http-test-XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(srv.dir) == NULL || pipe(in) != 0 || pipe(out) != 0)
        return false;
    argv[0] = "/usr/bin/python3";
    argv[1] = (char *)server_script();
    argv[2] = srv.dir;
    argv[3] = NULL;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, in[1]);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    if (posix_spawn(&srv.pid, argv[0], &actions, NULL, argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return false;
    }
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    srv.stdin_fd = in[1];
    fcntl(srv.stdin_fd, F_SETFD, FD_CLOEXEC);

    /* One line: "ready http=P https=P mtls=P stall=P blackhole=P http6=P". */
    while (len < sizeof(line) - 1) {
        struct pollfd pfd = {.fd = out[0], .events = POLLIN};
        int left = (int)((deadline - http_now_ns()) / CLM_NS_PER_MS);
        ssize_t n;

        if (left <= 0 || poll(&pfd, 1, left) <= 0)
            break;
        n = read(out[0], line + len, sizeof(line) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        line[len] = '\0';
        if (strchr(line, '\n') != NULL)
            break;
    }
    close(out[0]);
    line[len] = '\0';
    if (sscanf(line, "ready http=%d https=%d mtls=%d stall=%d blackhole=%d http6=%d", &srv.http,
               &srv.https, &srv.mtls, &srv.stall, &srv.blackhole, &srv.http6) != 6) {
        fprintf(stderr, "the test server did not start: \"%s\"\n", line);
        return false;
    }
    return true;
}

static void server_stop(void)
{
    int status;

    if (srv.stdin_fd >= 0)
        close(srv.stdin_fd);
    if (srv.pid > 0) {
        for (int i = 0; i < 50; i++) {
            if (waitpid(srv.pid, &status, WNOHANG) == srv.pid)
                return;
            nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
        }
        kill(srv.pid, SIGKILL);
        waitpid(srv.pid, &status, 0);
    }
}

/* "scheme://host:port/path" in one of a few rotating buffers. */
static const char *url_to(const char *scheme, const char *host, int port, const char *path)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];

    snprintf(b, sizeof(bufs[0]), "%s://%s:%d%s", scheme, host, port, path);
    return b;
}

static const char *http_url_of(const char *path)
{
    return url_to("http", "127.0.0.1", srv.http, path);
}

/* The body of an echo after its blank line: what the server read as the body. */
static const unsigned char *echo_body(const http_response *resp, size_t *len)
{
    const char *sep = strstr((const char *)resp->body, "\n\n");

    if (sep == NULL) {
        *len = 0;
        return NULL;
    }
    sep += 2;
    *len = resp->body_len - (size_t)(sep - (const char *)resp->body);
    return (const unsigned char *)sep;
}

static clm_err get(const char *url, http_response *resp)
{
    http_request req = {.url = url, .total_timeout_ms = 20000};

    return http_request_send(&req, resp);
}

/* ---- plain HTTP ---- */

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

static int closed_port(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    bind(fd, (struct sockaddr *)&sin, sizeof(sin));
    getsockname(fd, (struct sockaddr *)&sin, &len);
    close(fd); /* nobody listens there now */
    return ntohs(sin.sin_port);
}

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

static int64_t ms_since(int64_t start)
{
    return (http_now_ns() - start) / CLM_NS_PER_MS;
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

/* ---- TLS ---- */

static char *ca_path(const char *name)
{
    static char bufs[4][PATH_MAX + 64];
    static int next;
    char *b = bufs[next++ % 4];

    snprintf(b, sizeof(bufs[0]), "%s/%s", srv.dir, name);
    return b;
}

static clm_err tls_get(const char *url, const http_tls_options *tls, http_response *resp,
                       http_failure *failure)
{
    http_request req = {
        .url = url, .tls = tls, .connect_timeout_ms = 5000, .total_timeout_ms = 20000};

    return http_request_send_ex(&req, resp, failure);
}

UNIT_TEST(test_tls_ok)
{
    http_tls_options tls = {.ca_file = ca_path("ca.pem")};
    http_response resp;
    http_failure failure;
    size_t pem_len = 0;
    char *pem = read_file("ca.pem", &pem_len);
    char want[64];

    /* An IP literal: checked against the certificate's IP SANs, no SNI. */
    CHECK_INT_EQ(
        tls_get(url_to("https", "127.0.0.1", srv.https, "/echo?q=1"), &tls, &resp, &failure),
        CLM_OK);
    CHECK_STR_CONTAINS((const char *)resp.body, "request-line GET /echo?q=1 HTTP/1.1\n");
    snprintf(want, sizeof(want), "header Host: 127.0.0.1:%d\n", srv.https);
    CHECK_STR_CONTAINS((const char *)resp.body, want);
    http_response_free(&resp);

    /* A name, with the hashed CA directory. */
    tls = (http_tls_options){.ca_dir = ca_path("cadir")};
    CHECK_INT_EQ(
        tls_get(url_to("https", "localhost", srv.https, "/chunked"), &tls, &resp, &failure),
        CLM_OK);
    CHECK_STR_EQ((const char *)resp.body, "hello chunked world");
    http_response_free(&resp);

    /* The CA as PEM text, and an explicit server name. */
    tls = (http_tls_options){.ca_pem = pem, .ca_pem_len = pem_len, .server_name = "localhost"};
    CHECK_INT_EQ(tls_get(url_to("https", "127.0.0.1", srv.https, "/huge?size=300000"), &tls, &resp,
                         &failure),
                 CLM_OK);
    CHECK_INT_EQ(resp.body_len, 300000);
    http_response_free(&resp);

    /* A POST with a body over TLS. */
    {
        http_request req = {.method = "POST",
                            .url = url_to("https", "localhost", srv.https, "/echo"),
                            .body = "{\"a\":1}",
                            .body_len = 7,
                            .tls = &tls};
        const unsigned char *got;
        size_t got_len;

        CHECK_INT_EQ(http_request_send(&req, &resp), CLM_OK);
        got = echo_body(&resp, &got_len);
        CHECK(got != NULL && got_len == 7 && memcmp(got, "{\"a\":1}", 7) == 0);
        http_response_free(&resp);
    }

    /* A body that ends with the connection must end with close_notify over TLS. */
    tls = (http_tls_options){.ca_file = ca_path("ca.pem")};
    CHECK_INT_EQ(tls_get(url_to("https", "localhost", srv.https, "/raw/eof-body?close_notify=1"),
                         &tls, &resp, &failure),
                 CLM_OK);
    CHECK_STR_EQ((const char *)resp.body, "the body ends with the connection");
    http_response_free(&resp);
    CHECK_INT_EQ(
        tls_get(url_to("https", "localhost", srv.https, "/raw/eof-body"), &tls, &resp, &failure),
        CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "closed without TLS close_notify");
    free(pem);
}

UNIT_TEST(test_tls_refused)
{
    http_tls_options tls = {.ca_file = ca_path("ca.pem")};
    http_response resp;
    http_failure failure;
    int64_t start;

    /* No CA given: the system store, which does not know the test CA. */
    CHECK_INT_EQ(tls_get(url_to("https", "localhost", srv.https, "/echo"), NULL, &resp, &failure),
                 CLM_ERR_UNAVAILABLE);
    CHECK_STR_CONTAINS(clm_error_message(), "TLS handshake with localhost port");
    CHECK_STR_CONTAINS(clm_error_message(),
                       "certificate does not verify: unable to get local issuer certificate");
    CHECK_INT_EQ(failure, HTTP_FAILURE_TLS_VERIFY);

    /* Another CA. */
    tls.ca_file = ca_path("other-ca.pem");
    CHECK_INT_EQ(tls_get(url_to("https", "localhost", srv.https, "/echo"), &tls, &resp, &failure),
                 CLM_ERR_UNAVAILABLE);
    CHECK_STR_CONTAINS(clm_error_message(), "does not verify");

    /* The right CA, the wrong name. */
    tls.ca_file = ca_path("ca.pem");
    tls.server_name = "wrong.example";
    CHECK_INT_EQ(tls_get(url_to("https", "127.0.0.1", srv.https, "/echo"), &tls, &resp, &failure),
                 CLM_ERR_UNAVAILABLE);
    /* OpenSSL says "hostname mismatch", BoringSSL "Hostname mismatch". */
    CHECK(strcasestr(clm_error_message(), "does not verify: hostname mismatch") != NULL);
    CHECK_INT_EQ(failure, HTTP_FAILURE_TLS_VERIFY);
    tls.server_name = NULL;

    /* An IP the certificate does not name. */
    tls.server_name = "127.0.0.2";
    CHECK_INT_EQ(tls_get(url_to("https", "127.0.0.1", srv.https, "/echo"), &tls, &resp, &failure),
                 CLM_ERR_UNAVAILABLE);
    CHECK_STR_CONTAINS(clm_error_message(), "does not verify: IP address mismatch");
    tls.server_name = NULL;

    /* TLS to a plain HTTP server. */
    CHECK_INT_EQ(tls_get(url_to("https", "127.0.0.1", srv.http, "/echo"), &tls, &resp, &failure),
                 CLM_ERR_UNAVAILABLE);
    CHECK_STR_CONTAINS(clm_error_message(), "TLS handshake with 127.0.0.1 port");

    /* A server that never answers the ClientHello. */
    {
        http_request req = {.url = url_to("https", "127.0.0.1", srv.stall, "/"),
                            .tls = &tls,
                            .connect_timeout_ms = 300};

        start = http_now_ns();
        CHECK_INT_EQ(http_request_send_ex(&req, &resp, &failure), CLM_ERR_TIMEOUT);
        CHECK_STR_CONTAINS(clm_error_message(), "TLS handshake with 127.0.0.1 port");
        CHECK_STR_CONTAINS(clm_error_message(), "timed out after 300 ms");
        CHECK_INT_EQ(failure, HTTP_FAILURE_TLS_IO);
        CHECK(ms_since(start) >= 290 && ms_since(start) < 5000);
    }
}

UNIT_TEST(test_tls_bad_options)
{
    http_tls_options tls = {.ca_file = ca_path("missing.pem")};
    http_response resp;
    http_failure failure;
    const char *url = url_to("https", "localhost", srv.https, "/echo");

    CHECK_INT_EQ(tls_get(url, &tls, &resp, &failure), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "tls.ca_file: cannot load");
    CHECK_INT_EQ(failure, HTTP_FAILURE_ARGUMENT);
    tls = (http_tls_options){.ca_dir = ca_path("missing-dir")};
    CHECK_INT_EQ(tls_get(url, &tls, &resp, &failure), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "tls.ca_dir: cannot open");
    tls = (http_tls_options){.ca_pem = "not pem", .ca_pem_len = 7};
    CHECK_INT_EQ(tls_get(url, &tls, &resp, &failure), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "tls.ca_pem: no PEM certificate");
    tls = (http_tls_options){
        .ca_file = ca_path("ca.pem"), .client_cert_pem = "x", .client_cert_pem_len = 1};
    CHECK_INT_EQ(tls_get(url, &tls, &resp, &failure), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "go together");
}

UNIT_TEST(test_mutual_tls)
{
    size_t cert_len = 0, key_len = 0, other_len = 0;
    char *cert = read_file("client.pem", &cert_len);
    char *key = read_file("client.key", &key_len);
    char *other_key = read_file("server.key", &other_len);
    http_tls_options tls = {.ca_file = ca_path("ca.pem"),
                            .client_cert_pem = cert,
                            .client_cert_pem_len = cert_len,
                            .client_key_pem = key,
                            .client_key_pem_len = key_len};
    http_response resp;
    http_failure failure;
    const char *url = url_to("https", "localhost", srv.mtls, "/echo");

    CHECK(cert != NULL && key != NULL && other_key != NULL);
    CHECK_INT_EQ(tls_get(url, &tls, &resp, &failure), CLM_OK);
    CHECK_STR_CONTAINS((const char *)resp.body, "\nclient-cn clm-test-client\n");
    http_response_free(&resp);

    /* The server refuses a client without a certificate. TLS 1.3 says so after the
     * client's side of the handshake, so the alert arrives on the exchange, sometimes
     * after the send already failed: either way the message is the alert. */
    tls.client_cert_pem = tls.client_key_pem = NULL;
    CHECK_INT_EQ(tls_get(url, &tls, &resp, &failure), CLM_ERR_UNAVAILABLE);
    CHECK(strcasestr(clm_error_message(), "alert certificate required") != NULL ||
          strstr(clm_error_message(), "ALERT_CERTIFICATE_REQUIRED") != NULL);
    CHECK_INT_EQ(failure, HTTP_FAILURE_EXCHANGE);

    /* A key that is not the certificate's. */
    tls.client_cert_pem = cert;
    tls.client_key_pem = other_key;
    tls.client_key_pem_len = other_len;
    CHECK_INT_EQ(tls_get(url, &tls, &resp, &failure), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "tls.client_key_pem: does not match");
    /* Not a key at all; the message never quotes it. */
    tls.client_key_pem = "-----BEGIN PRIVATE KEY-----\nSECRETSECRET\n-----END PRIVATE KEY-----\n";
    tls.client_key_pem_len = strlen(tls.client_key_pem);
    CHECK_INT_EQ(tls_get(url, &tls, &resp, &failure), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "tls.client_key_pem: not an unencrypted PEM");
    CHECK(strstr(clm_error_message(), "SECRET") == NULL);
    free(cert);
    free(key);
    free(other_key);
}

/* ---- retries ---- */

typedef struct fake_sleep {
    clm_clock_fake *clock;
    int n;
    int64_t waits_ms[32];
} fake_sleep;

static void fake_sleep_fn(void *ctx, int64_t ns)
{
    fake_sleep *s = ctx;

    if (s->n < 32)
        s->waits_ms[s->n] = ns / CLM_NS_PER_MS;
    s->n++;
    clm_clock_fake_advance(s->clock, ns);
}

static int server_hits(const char *key)
{
    char path[128];
    http_response resp;
    int n = -1;

    snprintf(path, sizeof(path), "/hits/%s", key);
    if (get(http_url_of(path), &resp) == CLM_OK)
        n = (int)strtol((const char *)resp.body, NULL, 10);
    http_response_free(&resp);
    return n;
}

/* A key no other run of this test used (the server lives as long as this process). */
static const char *flaky_url(const char *key, const char *query)
{
    static char buf[256];

    snprintf(buf, sizeof(buf), "http://127.0.0.1:%d/flaky/%s?%s", srv.http, key, query);
    return buf;
}

UNIT_TEST(test_retry_5xx_then_ok)
{
    clm_clock_fake clock;
    fake_sleep sleeper = {.clock = &clock};
    http_retry_policy policy = {.initial_delay_ms = 100,
                                .max_delay_ms = 10000,
                                .sleep = fake_sleep_fn,
                                .sleep_ctx = &sleeper};
    http_header headers[] = {{"X-Event", "cert.renewed"}};
    http_request req = {.url = flaky_url("a", "fail=2&status=500"),
                        .headers = headers,
                        .n_headers = 1,
                        .body = "{\"id\":42}",
                        .body_len = 9};
    http_response resp;
    int attempts = 0;
    const unsigned char *got;
    size_t got_len;

    clm_clock_fake_init(&clock, 1000 * CLM_NS_PER_SEC);
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts), CLM_OK);
    CHECK_INT_EQ(attempts, 3);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_STR_CONTAINS((const char *)resp.body, "request-line POST /flaky/a?fail=2&status=500");
    CHECK_STR_CONTAINS((const char *)resp.body, "header X-Event: cert.renewed\n"
                                                "header Content-Type: application/json\n"
                                                "header Content-Length: 9\n");
    CHECK_STR_CONTAINS((const char *)resp.body, "\nattempt 3\n");
    got = echo_body(&resp, &got_len);
    CHECK(got != NULL && got_len == 9 && memcmp(got, "{\"id\":42}", 9) == 0);
    http_response_free(&resp);
    CHECK_INT_EQ(server_hits("a"), 3);
    /* Equal jitter: half the ceiling plus up to the other half; the ceiling doubles. */
    CHECK_INT_EQ(sleeper.n, 2);
    CHECK(sleeper.waits_ms[0] >= 50 && sleeper.waits_ms[0] <= 100);
    CHECK(sleeper.waits_ms[1] >= 100 && sleeper.waits_ms[1] <= 200);

    /* A Content-Type of the caller's is kept. */
    {
        http_header type[] = {{"Content-Type", "application/jose+json"}};

        req.url = http_url_of("/echo");
        req.headers = type;
        CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, NULL), CLM_OK);
        CHECK_STR_CONTAINS((const char *)resp.body, "header Content-Type: application/jose+json\n");
        CHECK(strstr((const char *)resp.body, "application/json") == NULL);
        http_response_free(&resp);
    }
}

UNIT_TEST(test_retry_after)
{
    clm_clock_fake clock;
    fake_sleep sleeper = {.clock = &clock};
    http_retry_policy policy = {.initial_delay_ms = 100,
                                .max_delay_ms = 60000,
                                .sleep = fake_sleep_fn,
                                .sleep_ctx = &sleeper};
    http_request req = {
        .url = flaky_url("b", "fail=1&status=429&retry_after=2"), .body = "{}", .body_len = 2};
    http_response resp;
    int attempts = 0;

    clm_clock_fake_init(&clock, 1445412480 * CLM_NS_PER_SEC - 5 * CLM_NS_PER_SEC);
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts), CLM_OK);
    CHECK_INT_EQ(attempts, 2);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_INT_EQ(sleeper.n, 1);
    CHECK_INT_EQ(sleeper.waits_ms[0], 2000);
    http_response_free(&resp);

    /* An HTTP date, read against the clock's wall time: five seconds from "now". */
    clm_clock_fake_init(&clock, 1445412480 * CLM_NS_PER_SEC - 5 * CLM_NS_PER_SEC);
    sleeper.n = 0;
    req.url =
        flaky_url("c", "fail=1&status=503&retry_after=Wed,%2021%20Oct%202015%2007:28:00%20GMT");
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts), CLM_OK);
    CHECK_INT_EQ(attempts, 2);
    CHECK_INT_EQ(sleeper.n, 1);
    CHECK_INT_EQ(sleeper.waits_ms[0], 5000);
    http_response_free(&resp);

    /* Longer than max_delay_ms: no second attempt; the 503 comes back as a response. */
    sleeper.n = 0;
    req.url = flaky_url("d", "fail=5&status=503&retry_after=3600");
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts), CLM_OK);
    CHECK_INT_EQ(attempts, 1);
    CHECK_INT_EQ(resp.status, 503);
    CHECK_STR_EQ(http_response_header(&resp, "Retry-After"), "3600");
    CHECK_INT_EQ(sleeper.n, 0);
    http_response_free(&resp);
    CHECK_INT_EQ(server_hits("d"), 1);

    /* max_elapsed_ms: waits of 2 s each; the third would end at 6 s, past 5 s. */
    sleeper.n = 0;
    policy.max_elapsed_ms = 5000;
    policy.max_attempts = 10;
    req.url = flaky_url("e", "fail=10&status=503&retry_after=2");
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts), CLM_OK);
    CHECK_INT_EQ(attempts, 3);
    CHECK_INT_EQ(resp.status, 503);
    CHECK_INT_EQ(sleeper.n, 2);
    http_response_free(&resp);
}

UNIT_TEST(test_retry_gives_up)
{
    clm_clock_fake clock;
    fake_sleep sleeper = {.clock = &clock};
    http_retry_policy policy = {.max_attempts = 3,
                                .initial_delay_ms = 1000,
                                .max_delay_ms = 1500,
                                .sleep = fake_sleep_fn,
                                .sleep_ctx = &sleeper};
    http_request req = {.url = flaky_url("f", "fail=10&status=502"), .body = "{}", .body_len = 2};
    http_tls_options tls = {.ca_file = ca_path("other-ca.pem")};
    http_response resp;
    int attempts = 0;

    clm_clock_fake_init(&clock, 0);
    /* Attempts run out: the last 502 is the result. The ceiling stops at max_delay_ms. */
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts), CLM_OK);
    CHECK_INT_EQ(attempts, 3);
    CHECK_INT_EQ(resp.status, 502);
    CHECK_INT_EQ(sleeper.n, 2);
    CHECK(sleeper.waits_ms[0] >= 500 && sleeper.waits_ms[0] <= 1000);
    CHECK(sleeper.waits_ms[1] >= 750 && sleeper.waits_ms[1] <= 1500);
    http_response_free(&resp);
    CHECK_INT_EQ(server_hits("f"), 3);

    /* 4xx is the caller's problem: no retry. */
    sleeper.n = 0;
    req.url = http_url_of("/status/400");
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts), CLM_OK);
    CHECK_INT_EQ(attempts, 1);
    CHECK_INT_EQ(resp.status, 400);
    http_response_free(&resp);

    /* Connection refused is retried, and the message says how many attempts. */
    req.url = url_to("http", "127.0.0.1", closed_port(), "/");
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts),
                 CLM_ERR_UNAVAILABLE);
    CHECK_INT_EQ(attempts, 3);
    CHECK_INT_EQ(sleeper.n, 2);
    CHECK_STR_CONTAINS(clm_error_message(), "after 3 attempts: connect to 127.0.0.1 port");
    CHECK_STR_CONTAINS(clm_error_message(), "Connection refused");
    CHECK(resp.body == NULL);

    /* A certificate that does not verify will not verify next time either. */
    sleeper.n = 0;
    req.url = url_to("https", "localhost", srv.https, "/echo");
    req.tls = &tls;
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts),
                 CLM_ERR_UNAVAILABLE);
    CHECK_INT_EQ(attempts, 1);
    CHECK_INT_EQ(sleeper.n, 0);
    req.tls = NULL;

    /* A timeout while waiting for the answer: the POST may have been processed. */
    req.url = http_url_of("/slow?ms=2000");
    req.total_timeout_ms = 300;
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts),
                 CLM_ERR_TIMEOUT);
    CHECK_INT_EQ(attempts, 1);
    req.total_timeout_ms = 0;

    /* Arguments. */
    req.method = "GET";
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(attempts, 0);
    req.method = NULL;
    policy.max_attempts = 21;
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "max_attempts");
    policy.max_attempts = 3;
    policy.initial_delay_ms = -1;
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts),
                 CLM_ERR_INVALID_ARGUMENT);
    req.url = "http://h:0/";
    policy.initial_delay_ms = 0;
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "url port");
}

/* ---- what reaches the log ---- */

UNIT_TEST(test_logs_hold_no_secrets)
{
    char path[PATH_MAX + 64];
    int fd;
    clm_clock_fake clock;
    fake_sleep sleeper = {.clock = &clock};
    http_retry_policy policy = {.max_attempts = 2, .sleep = fake_sleep_fn, .sleep_ctx = &sleeper};
    http_header headers[] = {{"Authorization", "Bearer HEADERSECRET"}};
    http_request req = {.url = flaky_url("PATHSECRET", "fail=1&token=QUERYSECRET"),
                        .headers = headers,
                        .n_headers = 1,
                        .body = "{\"k\":\"BODYSECRET\"}",
                        .body_len = 18};
    http_response resp;
    size_t len = 0;
    char *log;

    snprintf(path, sizeof(path), "%s/log.txt", srv.dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    clm_clock_fake_init(&clock, 0);
    clm_log_set_fd(fd);
    clm_log_set_level(CLM_LOG_DEBUG);
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, NULL), CLM_OK);
    CHECK_INT_EQ(resp.status, 200);
    http_response_free(&resp);
    clm_log_set_level(CLM_LOG_INFO);
    clm_log_set_fd(2);
    close(fd);

    log = read_file("log.txt", &len);
    CHECK(log != NULL);
    if (log == NULL)
        return;
    CHECK_STR_CONTAINS(log, "event=http_retry ");
    CHECK_STR_CONTAINS(log, "event=http_request method=POST origin=http://127.0.0.1:");
    CHECK_STR_CONTAINS(log, "status=500");
    CHECK(strstr(log, "SECRET") == NULL);
    free(log);
}

int main(void)
{
    signal(SIGPIPE, SIG_DFL); /* prove that nothing here raises it */
    if (!server_start()) {
        server_stop();
        CHECK(!"the test server started");
        return unit_report();
    }
    UNIT_RUN(test_get_echo);
    UNIT_RUN(test_post_body);
    UNIT_RUN(test_methods);
    UNIT_RUN(test_names_and_ipv6);
    UNIT_RUN(test_bodies);
    UNIT_RUN(test_too_large);
    UNIT_RUN(test_malformed);
    UNIT_RUN(test_unavailable);
    UNIT_RUN(test_timeouts);
    UNIT_RUN(test_bad_arguments);
    UNIT_RUN(test_tls_ok);
    UNIT_RUN(test_tls_refused);
    UNIT_RUN(test_tls_bad_options);
    UNIT_RUN(test_mutual_tls);
    UNIT_RUN(test_retry_5xx_then_ok);
    UNIT_RUN(test_retry_after);
    UNIT_RUN(test_retry_gives_up);
    UNIT_RUN(test_logs_hold_no_secrets);
    server_stop();
    return unit_report();
}
