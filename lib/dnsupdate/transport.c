/*
 * lib/dnsupdate/transport.c: one request, one checked answer, one deadline
 * (dnsupdate_internal.h). UDP on a connected socket (only the server's datagrams
 * arrive, and a closed port reports itself), retransmitted after 1 s, 2 s, 4 s, ...;
 * TCP (libldns frames the message) when the message is long or the answer truncated.
 */
#include "lib/base/clock.h"
#include "lib/dnsupdate/dnsupdate_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FIRST_RETRANSMIT_MS 1000

int64_t dnsupdate_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * CLM_NS_PER_SEC + ts.tv_nsec;
}

static int ms_left(int64_t deadline_ns)
{
    int64_t left = (deadline_ns - dnsupdate_now_ns() + CLM_NS_PER_MS - 1) / CLM_NS_PER_MS;

    return left <= 0 ? 0 : left > 1000000000 ? 1000000000 : (int)left;
}

static clm_err no_answer(const dnsupdate_request *req, const char *how)
{
    return clm_fail(CLM_ERR_UNAVAILABLE, "%s: no answer over %s before the deadline", req->server,
                    how);
}

static clm_err exchange_tcp(const dnsupdate_request *req, const struct sockaddr_storage *addr,
                            socklen_t addr_len, int64_t deadline_ns, ldns_pkt **answer)
{
    int left = ms_left(deadline_ns);
    struct timeval tv = {.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000};
    ldns_buffer buffer;
    uint8_t *wire;
    size_t len = 0;
    clm_err err;
    int fd;

    if (left == 0)
        return no_answer(req, "TCP");
    fd = ldns_tcp_connect2(addr, addr_len, tv);
    if (fd < 0)
        return clm_fail(CLM_ERR_UNAVAILABLE, "%s: no TCP connection (refused or timed out)",
                        req->server);
    /* libldns sends from a buffer positioned at the message's end. */
    ldns_buffer_new_frm_data(&buffer, req->wire, req->wire_len);
    ldns_buffer_set_position(&buffer, req->wire_len);
    if (ldns_tcp_send_query(&buffer, fd, addr, addr_len) <= 0) {
        free(ldns_buffer_begin(&buffer));
        close(fd);
        return clm_fail(CLM_ERR_UNAVAILABLE, "%s: sending over TCP failed", req->server);
    }
    free(ldns_buffer_begin(&buffer));
    left = ms_left(deadline_ns);
    tv = (struct timeval){.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000};
    wire = left > 0 ? ldns_tcp_read_wire_timeout(fd, &len, tv) : NULL;
    close(fd);
    if (wire == NULL)
        return no_answer(req, "TCP");
    err = dnsupdate_answer_check(req, wire, len, answer);
    LDNS_FREE(wire);
    return err;
}

clm_err dnsupdate_exchange(const dnsupdate_request *req, const struct sockaddr_storage *addr,
                           socklen_t addr_len, int64_t deadline_ns, ldns_pkt **answer)
{
    static const size_t max = 65535;
    uint8_t *buf;
    int64_t next_send_ns;
    int interval_ms = FIRST_RETRANSMIT_MS;
    clm_err err = CLM_OK;
    bool truncated = false, answered = false;
    int fd;

    *answer = NULL;
    if (req->wire_len > DNSUPDATE_UDP_MAX)
        return exchange_tcp(req, addr, addr_len, deadline_ns, answer);

    fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return clm_fail(CLM_ERR_IO, "%s: no UDP socket: %s", req->server, strerror(errno));
    if (connect(fd, (const struct sockaddr *)addr, addr_len) != 0) {
        err = clm_fail(CLM_ERR_UNAVAILABLE, "%s: %s", req->server, strerror(errno));
        close(fd);
        return err;
    }
    buf = malloc(max);
    if (buf == NULL) {
        close(fd);
        return clm_fail(CLM_ERR_NO_MEMORY, "%s: out of memory for the answer", req->server);
    }
    next_send_ns = dnsupdate_now_ns();
    while (!answered && err == CLM_OK) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int64_t now = dnsupdate_now_ns();
        int wait_ms;
        ssize_t n;

        if (now >= deadline_ns) {
            err = no_answer(req, "UDP");
            break;
        }
        if (now >= next_send_ns) {
            if (send(fd, req->wire, req->wire_len, 0) < 0 && errno != ECONNREFUSED) {
                err = clm_fail(CLM_ERR_UNAVAILABLE, "%s: sending over UDP failed: %s", req->server,
                               strerror(errno));
                break;
            }
            next_send_ns = now + (int64_t)interval_ms * CLM_NS_PER_MS;
            interval_ms *= 2;
        }
        wait_ms = ms_left(next_send_ns < deadline_ns ? next_send_ns : deadline_ns);
        if (poll(&pfd, 1, wait_ms) <= 0)
            continue; /* EINTR or time to retransmit: the loop decides */
        n = recv(fd, buf, max, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            err = clm_fail(CLM_ERR_UNAVAILABLE, "%s: %s over UDP%s", req->server, strerror(errno),
                           errno == ECONNREFUSED ? " (nothing listens on that port)" : "");
            break;
        }
        /* Another message's datagram (a late answer, a stray): not ours, keep waiting. */
        if (n < LDNS_HEADER_SIZE || LDNS_ID_WIRE(buf) != ldns_pkt_id(req->pkt))
            continue;
        if (LDNS_TC_WIRE(buf)) {
            truncated = true;
            break;
        }
        err = dnsupdate_answer_check(req, buf, (size_t)n, answer);
        answered = true;
    }
    free(buf);
    close(fd);
    if (truncated)
        return exchange_tcp(req, addr, addr_len, deadline_ns, answer);
    return err;
}
