/*
 * lib/http/conn.c: the TCP side of a connection: name resolution, non-blocking
 * connect with a deadline, and socket reads and writes that wait with poll().
 *
 * When TLS is on, tls.c runs OpenSSL over memory BIOs and moves the bytes with the
 * helpers here, so there is one place that waits and one that writes (MSG_NOSIGNAL:
 * a peer that hangs up never raises SIGPIPE).
 */
#include "lib/base/clock.h"
#include "lib/http/http_internal.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t http_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * CLM_NS_PER_SEC + ts.tv_nsec;
}

/* Wait until the socket is ready for `events`, or the deadline passes. */
clm_err http_socket_wait(http_conn *conn, short events, int64_t deadline_ns, const char *what,
                         int timeout_ms)
{
    for (;;) {
        struct pollfd pfd = {.fd = conn->fd, .events = events};
        int64_t left_ns = deadline_ns - http_now_ns();
        int left_ms, n;

        if (left_ns <= 0)
            return clm_fail(CLM_ERR_TIMEOUT, "%s %s: timed out after %d ms", what, conn->peer,
                            timeout_ms);
        left_ms = (int)((left_ns + 999999) / 1000000);
        n = poll(&pfd, 1, left_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return clm_fail(CLM_ERR_UNAVAILABLE, "%s %s: poll: %s", what, conn->peer,
                            strerror(errno));
        }
        if (n > 0)
            return CLM_OK; /* readable, writable, or an error the next call reports */
    }
}

clm_err http_socket_send_all(http_conn *conn, const void *data, size_t len, int64_t deadline_ns,
                             const char *what, int timeout_ms)
{
    const unsigned char *p = data;

    while (len > 0) {
        ssize_t n = send(conn->fd, p, len, MSG_NOSIGNAL);

        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            clm_err err = http_socket_wait(conn, POLLOUT, deadline_ns, what, timeout_ms);

            if (err != CLM_OK)
                return err;
            continue;
        }
        return clm_fail(CLM_ERR_UNAVAILABLE, "%s %s: %s", what, conn->peer,
                        n < 0 ? strerror(errno) : "the connection closed");
    }
    return CLM_OK;
}

/* Read from the socket, waiting for at least one byte; *got 0 at end of stream. */
static clm_err socket_read(http_conn *conn, void *buf, size_t cap, size_t *got, int64_t deadline_ns,
                           const char *what, int timeout_ms)
{
    *got = 0;
    for (;;) {
        ssize_t n = recv(conn->fd, buf, cap, 0);

        if (n >= 0) {
            *got = (size_t)n;
            if (n == 0)
                conn->eof = true;
            return CLM_OK;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            clm_err err = http_socket_wait(conn, POLLIN, deadline_ns, what, timeout_ms);

            if (err != CLM_OK)
                return err;
            continue;
        }
        return clm_fail(CLM_ERR_UNAVAILABLE, "%s %s: %s", what, conn->peer, strerror(errno));
    }
}

/* Connect one address before the deadline. On failure, the message says why. */
static clm_err connect_one(http_conn *conn, const struct addrinfo *ai, int64_t deadline_ns,
                           int timeout_ms)
{
    int fd, so_error = 0, one = 1;
    socklen_t so_len = sizeof(so_error);
    clm_err err;

    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return clm_fail(CLM_ERR_UNAVAILABLE, "connect to %s: socket: %s", conn->peer,
                        strerror(errno));
    conn->fd = fd;
    /* The request goes out in one write; do not let Nagle hold a TLS record back. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return CLM_OK;
    if (errno != EINPROGRESS && errno != EINTR) {
        err = clm_fail(CLM_ERR_UNAVAILABLE, "connect to %s: %s", conn->peer, strerror(errno));
        goto fail;
    }
    err = http_socket_wait(conn, POLLOUT, deadline_ns, "connect to", timeout_ms);
    if (err != CLM_OK)
        goto fail;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len) != 0)
        so_error = errno;
    if (so_error != 0) {
        err = clm_fail(CLM_ERR_UNAVAILABLE, "connect to %s: %s", conn->peer, strerror(so_error));
        goto fail;
    }
    return CLM_OK;
fail:
    close(fd);
    conn->fd = -1;
    return err;
}

clm_err http_conn_open(http_conn *conn, const http_url *url, int64_t connect_deadline_ns,
                       int connect_timeout_ms, http_failure *failure)
{
    struct addrinfo hints, *list = NULL, *ai;
    char port[8];
    size_t n_addrs = 0, tried = 0;
    clm_err err = CLM_ERR_UNAVAILABLE;
    int rc;

    conn->fd = -1;
    snprintf(conn->peer, sizeof(conn->peer), "%s port %u", url->host, (unsigned)url->port);
    snprintf(port, sizeof(port), "%u", (unsigned)url->port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    /* No AI_ADDRCONFIG: it ignores loopback, so "localhost" fails on a host whose only
     * interface is lo (test sandboxes, network namespaces). */
    hints.ai_flags = AI_NUMERICSERV | (url->host_is_ip ? AI_NUMERICHOST : 0);
    rc = getaddrinfo(url->host, port, &hints, &list);
    if (rc != 0) {
        *failure = rc == EAI_AGAIN ? HTTP_FAILURE_RESOLVE_AGAIN : HTTP_FAILURE_RESOLVE;
        if (rc == EAI_MEMORY)
            return clm_fail(CLM_ERR_NO_MEMORY, "resolve %s: out of memory", url->host);
        return clm_fail(CLM_ERR_UNAVAILABLE, "resolve %s: %s", url->host,
                        rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    }
    for (ai = list; ai != NULL; ai = ai->ai_next)
        n_addrs++;
    for (ai = list; ai != NULL; ai = ai->ai_next, tried++) {
        int64_t now = http_now_ns();
        int64_t share = (connect_deadline_ns - now) / (int64_t)(n_addrs - tried);
        char addr[NI_MAXHOST];

        if (now >= connect_deadline_ns) {
            err = clm_fail(CLM_ERR_TIMEOUT, "connect to %s: timed out after %d ms", conn->peer,
                           connect_timeout_ms);
            break;
        }
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST) !=
            0)
            snprintf(addr, sizeof(addr), "?");
        if (strcmp(addr, url->host) == 0)
            snprintf(conn->peer, sizeof(conn->peer), "%s port %u", url->host, (unsigned)url->port);
        else
            snprintf(conn->peer, sizeof(conn->peer), "%s port %u (%s)", url->host,
                     (unsigned)url->port, addr);
        err = connect_one(conn, ai, ai->ai_next == NULL ? connect_deadline_ns : now + share,
                          connect_timeout_ms);
        if (err == CLM_OK)
            break;
    }
    freeaddrinfo(list);
    if (err != CLM_OK) {
        *failure = HTTP_FAILURE_CONNECT;
        return err;
    }
    return CLM_OK;
}

clm_err http_conn_write(http_conn *conn, const void *data, size_t len, int64_t deadline_ns,
                        int total_timeout_ms)
{
    if (conn->ssl == NULL)
        return http_socket_send_all(conn, data, len, deadline_ns, "send to", total_timeout_ms);
    return http_tls_write(conn, data, len, deadline_ns, total_timeout_ms);
}

clm_err http_conn_read(http_conn *conn, void *buf, size_t cap, size_t *got, int64_t deadline_ns,
                       int total_timeout_ms)
{
    if (conn->ssl == NULL)
        return socket_read(conn, buf, cap, got, deadline_ns, "response from", total_timeout_ms);
    return http_tls_read(conn, buf, cap, got, deadline_ns, total_timeout_ms);
}

clm_err http_socket_read(http_conn *conn, void *buf, size_t cap, size_t *got, int64_t deadline_ns,
                         const char *what, int timeout_ms)
{
    return socket_read(conn, buf, cap, got, deadline_ns, what, timeout_ms);
}

void http_conn_close(http_conn *conn)
{
    if (conn->ssl != NULL) {
        http_tls_close(conn);
        SSL_free(conn->ssl); /* frees both BIOs */
        conn->ssl = NULL;
        conn->rbio = NULL;
        conn->wbio = NULL;
    }
    if (conn->ctx != NULL) {
        SSL_CTX_free(conn->ctx);
        conn->ctx = NULL;
    }
    if (conn->fd >= 0) {
        close(conn->fd);
        conn->fd = -1;
    }
}
