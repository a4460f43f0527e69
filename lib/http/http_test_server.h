/*
 * lib/http/http_test_server.h: the loopback server the lib/http tests run against, and
 * the small helpers they share (header only, like tests/unit.h: each test program has
 * its own copy of the server's state).
 *
 * The server is testdata/http_test_server.py, run with /usr/bin/python3: it makes a test
 * CA with openssl, listens on kernel-chosen loopback ports (plain, TLS, mutual TLS, one
 * that never answers, one whose accept queue is full, plain on ::1) and serves scripted
 * routes; /echo answers with what it received, so each test checks the request on the
 * wire as well as the response. The server ends when this process closes its stdin.
 */
#ifndef CLM_LIB_HTTP_HTTP_TEST_SERVER_H
#define CLM_LIB_HTTP_HTTP_TEST_SERVER_H

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

static inline char *read_file(const char *name, size_t *len)
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

static inline const char *server_script(void)
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

static inline bool server_start(void)
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

static inline void server_stop(void)
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
static inline const char *url_to(const char *scheme, const char *host, int port, const char *path)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];

    snprintf(b, sizeof(bufs[0]), "%s://%s:%d%s", scheme, host, port, path);
    return b;
}

static inline const char *http_url_of(const char *path)
{
    return url_to("http", "127.0.0.1", srv.http, path);
}

/* The body of an echo after its blank line: what the server read as the body. */
static inline const unsigned char *echo_body(const http_response *resp, size_t *len)
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

static inline clm_err get(const char *url, http_response *resp)
{
    http_request req = {.url = url, .total_timeout_ms = 20000};

    return http_request_send(&req, resp);
}

/* ---- plain HTTP ---- */

static inline int closed_port(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    bind(fd, (struct sockaddr *)&sin, sizeof(sin));
    getsockname(fd, (struct sockaddr *)&sin, &len);
    close(fd); /* nobody listens there now */
    return ntohs(sin.sin_port);
}

static inline int64_t ms_since(int64_t start)
{
    return (http_now_ns() - start) / CLM_NS_PER_MS;
}

static inline char *ca_path(const char *name)
{
    static char bufs[4][PATH_MAX + 64];
    static int next;
    char *b = bufs[next++ % 4];

    snprintf(b, sizeof(bufs[0]), "%s/%s", srv.dir, name);
    return b;
}

/* Start the server, run the tests, stop it: the main of every lib/http test program. */
#define HTTP_TEST_MAIN(...)                                                              \
    int main(void)                                                                       \
    {                                                                                    \
        signal(SIGPIPE, SIG_DFL); /* prove that nothing here raises it */               \
        if (!server_start()) {                                                           \
            server_stop();                                                               \
            CHECK(!"the test server started");                                           \
            return unit_report();                                                        \
        }                                                                                \
        __VA_ARGS__;                                                                     \
        server_stop();                                                                   \
        return unit_report();                                                            \
    }

#endif
