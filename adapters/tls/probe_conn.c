/* adapters/tls/probe_conn.c: one endpoint's state machine: TCP connect, the STARTTLS
 * exchange (starttls.h), the TLS handshake, and the result. Never blocks: each step
 * runs until the socket would block, then tells epoll what to wait for. */
#include "adapters/tls/probe_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static const tls_endpoint *endpoint_of(const probe_conn *c)
{
    return &c->sweep->endpoints->v[c->index];
}

void probe_conn_finish(probe_conn *c, adapter_probe_status status, const char *fmt, ...)
{
    probe_sweep *s = c->sweep;
    adapter_probe_result *r = &s->report->results[c->index];
    int64_t now = probe_now_ns();

    r->status = status;
    r->reason[0] = '\0';
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->reason, sizeof r->reason, fmt, ap);
        va_end(ap);
    }
    if (c->connected_ns != 0) {
        r->connect_us = (c->connected_ns - c->start_ns) / 1000;
        if (c->starttls != NULL)
            r->starttls_us = ((c->tls_start_ns ? c->tls_start_ns : now) - c->connected_ns) / 1000;
    }
    if (c->tls_start_ns != 0)
        r->handshake_us = (now - c->tls_start_ns) / 1000;
    r->total_us = (now - c->start_ns) / 1000;

    if (c->fd >= 0) { /* abortive close: no TIME_WAIT left behind (probe.h) */
        struct linger linger = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
        close(c->fd);
    }
    SSL_free(c->ssl);
    free(c->starttls);
    probe_heap_remove(s, c);
    c->fd = -1;
    c->ssl = NULL;
    c->starttls = NULL;
    c->phase = PHASE_IDLE;
    c->events = 0;
    c->next_free = s->free_list;
    s->free_list = c;
    s->active--;
    if (s->options->on_result != NULL) {
        if (s->shared->threaded)
            pthread_mutex_lock(&s->shared->lock);
        s->options->on_result(s->options->on_result_arg, r);
        if (s->shared->threaded)
            pthread_mutex_unlock(&s->shared->lock);
    }
}

/* Make sure epoll watches the socket. Registered once, edge-triggered for both
 * directions: every step runs until the socket would block (recv or send EAGAIN, or
 * SSL_ERROR_WANT_*), so no readiness is lost, and no epoll_ctl is needed per step.
 * @return false when the connection was ended. */
static bool want(probe_conn *c, uint32_t events)
{
    struct epoll_event ev;

    (void)events; /* what the step waits for; both are watched */
    if (c->events != 0)
        return true;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c;
    if (epoll_ctl(c->sweep->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        probe_conn_finish(c, ADAPTER_PROBE_UNREACHABLE, "local error: epoll_ctl: %s",
                          strerror(errno));
        return false;
    }
    c->events = ev.events;
    return true;
}

static void connect_failed(probe_conn *c, int err)
{
    switch (err) {
    case ECONNREFUSED:
        probe_conn_finish(c, ADAPTER_PROBE_REFUSED, "connection refused (nothing listens there)");
        break;
    case ETIMEDOUT:
        probe_conn_finish(c, ADAPTER_PROBE_CONNECT_TIMEOUT, "the connection timed out (%s)",
                          strerror(err));
        break;
    default:
        probe_conn_finish(c, ADAPTER_PROBE_UNREACHABLE, "cannot connect: %s", strerror(err));
        break;
    }
}

/* ---- TLS ------------------------------------------------------------------------------- */

static void handshake_step(probe_conn *c)
{
    adapter_probe_result *r;
    char reason[ADAPTER_PROBE_REASON_MAX];
    int rc, error;
    clm_err err;

    ERR_clear_error();
    rc = SSL_do_handshake(c->ssl);
    if (rc == 1) {
        r = &c->sweep->report->results[c->index];
        err = probe_result_fill(c->sweep, c, r);
        if (err == CLM_OK)
            probe_conn_finish(c, ADAPTER_PROBE_OK, NULL);
        else
            probe_conn_finish(c, ADAPTER_PROBE_HANDSHAKE_FAILED, "%s", clm_error_message());
        clm_error_clear();
        return;
    }
    error = SSL_get_error(c->ssl, rc);
    if (error == SSL_ERROR_WANT_READ) {
        want(c, EPOLLIN);
        return;
    }
    if (error == SSL_ERROR_WANT_WRITE) {
        want(c, EPOLLOUT);
        return;
    }
    probe_result_handshake_reason(c, error, reason, sizeof reason);
    probe_conn_finish(c, ADAPTER_PROBE_HANDSHAKE_FAILED, "%s", reason);
}

static void tls_start(probe_conn *c)
{
    const tls_endpoint *e = endpoint_of(c);
    BIO *bio;

    c->phase = PHASE_HANDSHAKE;
    c->tls_start_ns = probe_now_ns();
    c->ssl = SSL_new(c->sweep->ctx);
    bio = c->ssl != NULL ? probe_bio_new(c) : NULL;
    if (bio == NULL) {
        ERR_clear_error();
        probe_conn_finish(c, ADAPTER_PROBE_HANDSHAKE_FAILED, "local error: out of memory");
        return;
    }
    SSL_set_bio(c->ssl, bio, bio);
    SSL_set_connect_state(c->ssl);
    if (e->sni != NULL && SSL_set_tlsext_host_name(c->ssl, e->sni) != 1) {
        ERR_clear_error();
        probe_conn_finish(c, ADAPTER_PROBE_HANDSHAKE_FAILED, "cannot send the server name %s",
                          e->sni);
        return;
    }
    handshake_step(c);
}

/* ---- STARTTLS ---------------------------------------------------------------------------- */

static void starttls_step(probe_conn *c)
{
    tls_starttls *st = c->starttls;
    char buf[4096];

    for (;;) {
        const char *out;
        size_t len;
        ssize_t n;

        switch (st->step) {
        case TLS_STARTTLS_READ:
            n = recv(c->fd, buf, sizeof buf, 0);
            if (n > 0)
                tls_starttls_input(st, buf, (size_t)n);
            else if (n == 0)
                tls_starttls_closed(st);
            else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                want(c, EPOLLIN);
                return;
            } else {
                probe_conn_finish(c, ADAPTER_PROBE_PROTOCOL_ERROR, "%s exchange: %s",
                                  adapter_probe_protocol_name(st->protocol), strerror(errno));
                return;
            }
            break;
        case TLS_STARTTLS_WRITE:
            out = tls_starttls_output(st, &len);
            n = send(c->fd, out, len, MSG_NOSIGNAL);
            if (n >= 0)
                tls_starttls_sent(st, (size_t)n);
            else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                want(c, EPOLLOUT);
                return;
            } else {
                probe_conn_finish(c, ADAPTER_PROBE_PROTOCOL_ERROR, "%s exchange: %s",
                                  adapter_probe_protocol_name(st->protocol), strerror(errno));
                return;
            }
            break;
        case TLS_STARTTLS_READY: tls_start(c); return;
        case TLS_STARTTLS_FAILED:
        default: probe_conn_finish(c, ADAPTER_PROBE_PROTOCOL_ERROR, "%s", st->reason); return;
        }
    }
}

/* RFC 5321 4.1.3 address literal of the local end: "[127.0.0.1]", "[IPv6:::1]". */
static void local_literal(int fd, char *out, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char text[INET6_ADDRSTRLEN] = "127.0.0.1";

    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, text, sizeof text);
            snprintf(out, size, "[IPv6:%s]", text);
            return;
        }
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text, sizeof text);
    }
    snprintf(out, size, "[%s]", text);
}

static void connected(probe_conn *c)
{
    probe_sweep *s = c->sweep;
    const tls_endpoint *e = endpoint_of(c);
    char ehlo[80];

    c->connected_ns = probe_now_ns();
    probe_heap_update(s, c, c->connected_ns + s->handshake_timeout_ns);
    if (e->protocol == ADAPTER_PROBE_TLS) {
        tls_start(c);
        return;
    }
    if ((c->starttls = malloc(sizeof *c->starttls)) == NULL) {
        probe_conn_finish(c, ADAPTER_PROBE_PROTOCOL_ERROR, "local error: out of memory");
        return;
    }
    if (s->options->ehlo_name != NULL)
        snprintf(ehlo, sizeof ehlo, "%s", s->options->ehlo_name);
    else
        local_literal(c->fd, ehlo, sizeof ehlo);
    tls_starttls_init(c->starttls, e->protocol, ehlo);
    c->phase = PHASE_STARTTLS;
    starttls_step(c);
}

/* ---- entry points from the loop -------------------------------------------------------- */

void probe_conn_start(probe_sweep *s, probe_conn *c, size_t index)
{
    const tls_endpoint *e = &s->endpoints->v[index];
    int one = 1;

    c->fd = -1;
    c->ssl = NULL;
    c->starttls = NULL;
    c->index = index;
    c->phase = PHASE_CONNECT;
    c->events = 0;
    c->heap_pos = SIZE_MAX;
    c->start_ns = probe_now_ns();
    c->connected_ns = c->tls_start_ns = 0;
    c->io_errno = 0;
    c->io_eof = false;
    if (e->unresolved) {
        probe_conn_finish(c, ADAPTER_PROBE_UNRESOLVED, "%s",
                          e->unresolved_reason ? e->unresolved_reason
                                               : "the name does not resolve");
        return;
    }
    c->fd = socket(e->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        probe_conn_finish(c, ADAPTER_PROBE_UNREACHABLE, "local error: cannot open a socket: %s",
                          strerror(errno));
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (const struct sockaddr *)&e->addr, e->addr_len) == 0) {
        connected(c);
        return;
    }
    if (errno != EINPROGRESS) {
        connect_failed(c, errno);
        return;
    }
    if (want(c, EPOLLOUT))
        probe_heap_update(s, c, c->start_ns + s->connect_timeout_ns);
}

void probe_conn_event(probe_conn *c, uint32_t events)
{
    int err = 0;
    socklen_t len = sizeof err;

    switch (c->phase) {
    case PHASE_CONNECT:
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err != 0)
            connect_failed(c, err);
        else if (events & (EPOLLOUT | EPOLLIN))
            connected(c);
        else
            connect_failed(c, ECONNRESET);
        break;
    case PHASE_STARTTLS: starttls_step(c); break;
    case PHASE_HANDSHAKE: handshake_step(c); break;
    case PHASE_IDLE: break; /* ended earlier in the same batch */
    }
}

void probe_conn_timeout(probe_conn *c)
{
    const probe_sweep *s = c->sweep;
    int connect_ms = (int)(s->connect_timeout_ns / CLM_NS_PER_MS);
    int handshake_ms = (int)(s->handshake_timeout_ns / CLM_NS_PER_MS);

    switch (c->phase) {
    case PHASE_CONNECT:
        probe_conn_finish(c, ADAPTER_PROBE_CONNECT_TIMEOUT,
                          "no answer to the TCP connection attempt within %d ms", connect_ms);
        break;
    case PHASE_STARTTLS:
        probe_conn_finish(c, ADAPTER_PROBE_HANDSHAKE_TIMEOUT,
                          "%s exchange not finished within %d ms of connecting",
                          adapter_probe_protocol_name(c->starttls->protocol), handshake_ms);
        break;
    default:
        probe_conn_finish(c, ADAPTER_PROBE_HANDSHAKE_TIMEOUT,
                          "the TLS handshake did not finish within %d ms of connecting",
                          handshake_ms);
        break;
    }
}
