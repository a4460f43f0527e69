/*
 * tests/tls/probe_test.c: the sweep's rules without nginx: nothing is sent when a target
 * is outside the allow-list, in-flight and rate bounds, connect and STARTTLS timeouts,
 * refusals on IPv4 and IPv6, unresolved names as results, cancellation, threads, and
 * STARTTLS exchanges that go wrong against scripted servers (RFC transcripts bent on
 * purpose: refusal, injection, a close, silence, an over-long line).
 */
#include "adapters/tls/probe.h"
#include "tests/tls/fixture.h"
#include "tests/unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define BASE 26000

static const char *const allow_lo[] = {"127.0.0.1", "::1"};

static adapter_probe_options options(void)
{
    adapter_probe_options o;

    memset(&o, 0, sizeof o);
    o.allow = allow_lo;
    o.n_allow = 2;
    o.no_verify = true;
    o.connect_timeout_ms = 1000;
    o.handshake_timeout_ms = 1000;
    return o;
}

static int listen_port(uint16_t port, int backlog)
{
    struct sockaddr_in a;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, backlog) != 0) {
        perror("listen");
        close(fd);
        return -1;
    }
    return fd;
}

UNIT_TEST(nothing_is_sent_outside_the_allow_list)
{
    static const char *const only_one[] = {"127.0.0.1"};
    adapter_probe_target targets[] = {{"127.0.0.1", "26001", NULL, 0},
                                      {"127.0.0.2", "26001", NULL, 0}};
    adapter_probe_options o = options();
    adapter_probe_report *report = NULL;
    int fd = listen_port(BASE + 1, 16);

    o.allow = only_one;
    o.n_allow = 1;
    CHECK_INT_EQ(tls_probe_sweep(targets, 2, &o, &report), CLM_ERR_PERMISSION);
    CHECK_STR_CONTAINS(clm_error_message(), "targets[1].host: 127.0.0.2 (127.0.0.2) is outside");
    CHECK(report == NULL);
    /* not even the allowed target was contacted: the listener has no connection */
    {
        struct pollfd p = {fd, POLLIN, 0};
        CHECK_INT_EQ(poll(&p, 1, 100), 0);
    }
    CHECK_INT_EQ(tls_probe_ops.check(targets, 2, &o), CLM_ERR_PERMISSION);
    close(fd);
}

UNIT_TEST(in_flight_is_bounded)
{
    adapter_probe_target t = {"127.0.0.1", "26010-26017", NULL, ADAPTER_PROBE_TLS};
    adapter_probe_options o = options();
    adapter_probe_report *report = NULL;
    int fds[8];
    double t0, serial, parallel;

    for (int i = 0; i < 8; i++)
        fds[i] = listen_port((uint16_t)(BASE + 10 + i), 64); /* silent: never accept */
    o.handshake_timeout_ms = 300;
    o.max_in_flight = 2;
    t0 = fixture_seconds();
    CHECK_INT_EQ(tls_probe_sweep(&t, 1, &o, &report), CLM_OK);
    serial = fixture_seconds() - t0;
    CHECK(report != NULL && report->counts[ADAPTER_PROBE_HANDSHAKE_TIMEOUT] == 8);
    if (report != NULL)
        CHECK_STR_EQ(report->results[0].reason,
                     "the TLS handshake did not finish within 300 ms of connecting");
    tls_probe_report_free(report);
    o.max_in_flight = 8;
    t0 = fixture_seconds();
    CHECK_INT_EQ(tls_probe_sweep(&t, 1, &o, &report), CLM_OK);
    parallel = fixture_seconds() - t0;
    printf("8 silent endpoints, 300 ms handshake timeout: 2 in flight %.2f s, 8 in flight %.2f s\n",
           serial, parallel);
    CHECK(serial >= 4 * 0.3 - 0.02);
    CHECK(parallel < 2 * 0.3);
    tls_probe_report_free(report);
    for (int i = 0; i < 8; i++)
        close(fds[i]);
}

UNIT_TEST(rate_is_bounded)
{
    adapter_probe_target t = {"127.0.0.1", "26100-26399", NULL, ADAPTER_PROBE_TLS};
    adapter_probe_options o = options();
    adapter_probe_report *report = NULL;
    double t0, slow, fast;

    o.max_rate = 500; /* 300 refusals: at least (300 - 10 burst) / 500 = 0.58 s */
    t0 = fixture_seconds();
    CHECK_INT_EQ(tls_probe_sweep(&t, 1, &o, &report), CLM_OK);
    slow = fixture_seconds() - t0;
    CHECK(report != NULL && report->counts[ADAPTER_PROBE_REFUSED] == 300);
    if (report != NULL)
        CHECK_STR_EQ(report->results[299].reason, "connection refused (nothing listens there)");
    tls_probe_report_free(report);
    o.max_rate = 100000;
    t0 = fixture_seconds();
    CHECK_INT_EQ(tls_probe_sweep(&t, 1, &o, &report), CLM_OK);
    fast = fixture_seconds() - t0;
    printf("300 refused endpoints: %.2f s at 500/s, %.2f s unbounded\n", slow, fast);
    CHECK(slow >= 0.55);
    CHECK(fast < slow / 2);
    tls_probe_report_free(report);
}

UNIT_TEST(connect_timeout_and_ipv6_refusal)
{
    adapter_probe_target t[] = {{"127.0.0.1", "26020", NULL, ADAPTER_PROBE_TLS},
                                {"::1", "26021", NULL, ADAPTER_PROBE_TLS}};
    adapter_probe_options o = options();
    adapter_probe_report *report = NULL;
    struct sockaddr_in a;
    int fd = listen_port(BASE + 20, 0), filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&a, 0, sizeof a); /* fill the accept queue of one: further SYNs are dropped */
    a.sin_family = AF_INET;
    a.sin_port = htons(BASE + 20);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_INT_EQ(connect(filler, (struct sockaddr *)&a, sizeof a), 0);
    o.connect_timeout_ms = 300;
    CHECK_INT_EQ(tls_probe_sweep(t, 2, &o, &report), CLM_OK);
    if (report != NULL) {
        const adapter_probe_result *r = &report->results[0];
        CHECK_INT_EQ(r->status, ADAPTER_PROBE_CONNECT_TIMEOUT);
        CHECK_STR_EQ(r->reason, "no answer to the TCP connection attempt within 300 ms");
        CHECK(r->total_us >= 290000 && r->total_us < 1000000);
        CHECK_INT_EQ(report->results[1].status, ADAPTER_PROBE_REFUSED);
        CHECK_STR_EQ(report->results[1].address, "::1");
    }
    tls_probe_report_free(report);
    close(filler);
    close(fd);
}

static void count_result(void *arg, const adapter_probe_result *r)
{
    (void)r;
    (*(int *)arg)++;
}

UNIT_TEST(unresolved_cancelled_threads_and_ca_file)
{
    adapter_probe_target t[] = {{"no-such-host.invalid", "443", NULL, 0},
                                {"127.0.0.1", "26200-26263", NULL, 0}};
    adapter_probe_options o = options();
    adapter_probe_report *report = NULL;
    atomic_bool cancel = true;
    int calls = 0;

    o.unresolved_as_result = true;
    o.threads = 4;
    o.on_result = count_result;
    o.on_result_arg = &calls;
    CHECK_INT_EQ(tls_probe_sweep(t, 2, &o, &report), CLM_OK);
    CHECK_INT_EQ(calls, 65);
    if (report != NULL) {
        CHECK_INT_EQ(report->results[0].status, ADAPTER_PROBE_UNRESOLVED);
        CHECK_STR_CONTAINS(report->results[0].reason, "does not resolve");
        CHECK_STR_EQ(report->results[0].host, "no-such-host.invalid");
        CHECK_INT_EQ(report->counts[ADAPTER_PROBE_REFUSED], 64);
        CHECK_INT_EQ(report->results[64].port, 26263);
    }
    tls_probe_report_free(report);

    o.cancel = &cancel; /* cancelled before it starts */
    CHECK_INT_EQ(tls_probe_sweep(t, 2, &o, &report), CLM_ERR_CANCELLED);
    CHECK(report != NULL && report->counts[ADAPTER_PROBE_CANCELLED] == 65);
    tls_probe_report_free(report);

    o.cancel = NULL;
    o.no_verify = false;
    o.ca_file = "/nonexistent/ca.pem";
    CHECK_INT_EQ(tls_probe_sweep(t, 2, &o, &report), CLM_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(clm_error_message(), "options.ca_file: trust store /nonexistent/ca.pem");
    CHECK(report == NULL);
    o.threads = 65;
    CHECK_INT_EQ(tls_probe_sweep(t, 2, &o, &report), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "options.threads");
}

/* ---- scripted STARTTLS servers ------------------------------------------------------------ */

typedef struct script {
    const char *steps[6]; /* sent in order */
    int reads;            /* after each of the first `reads` steps, one client line is read */
    bool silent_after;    /* then keep the connection open without answering */
    int fd;
    pthread_t thread;
    char got[512]; /* the client's lines */
} script;

static void *script_main(void *arg)
{
    script *s = arg;
    int c = accept(s->fd, NULL, NULL);
    size_t used = 0;

    for (int i = 0; i < 6 && c >= 0 && s->steps[i] != NULL; i++) {
        char ch;
        if (write(c, s->steps[i], strlen(s->steps[i])) < 0)
            break;
        while (i < s->reads && read(c, &ch, 1) == 1 && used + 1 < sizeof s->got) { /* a line */
            s->got[used++] = ch;
            if (ch == '\n')
                break;
        }
    }
    if (s->silent_after && c >= 0) {
        char buf[256];
        while (read(c, buf, sizeof buf) > 0) /* until the client gives up */
            ;
    }
    if (c >= 0)
        close(c);
    return NULL;
}

typedef struct script_case {
    adapter_probe_protocol protocol;
    script script;
    adapter_probe_status status;
    const char *reason;
    const char *client_said;
} script_case;

UNIT_TEST(starttls_against_scripted_servers)
{
    static char long_line[2100];
    static script_case cases[] = {
        {ADAPTER_PROBE_SMTP,
         {.steps = {"554 5.3.2 go away\r\n"}},
         ADAPTER_PROBE_PROTOCOL_ERROR,
         "SMTP greeting: the server refused the session: 554 5.3.2 go away",
         ""},
        {ADAPTER_PROBE_SMTP,
         {.steps = {"220 mx ESMTP\r\n", "250-mx\r\n250 STARTTLS\r\n",
                    "220 2.0.0 go\r\n250 injected\r\n"},
          .reads = 2,
          .silent_after = true},
         ADAPTER_PROBE_PROTOCOL_ERROR,
         "an injection",
         "EHLO [127.0.0.1]\r\nSTARTTLS\r\n"},
        {ADAPTER_PROBE_POP3,
         {.steps = {"+OK ready\r\n"}, .reads = 1},
         ADAPTER_PROBE_PROTOCOL_ERROR,
         "POP3 reply: the server closed the connection",
         "STLS\r\n"},
        {ADAPTER_PROBE_IMAP,
         {.steps = {"* OK ready\r\n"}, .reads = 1, .silent_after = true},
         ADAPTER_PROBE_HANDSHAKE_TIMEOUT,
         "imap exchange not finished within 500 ms",
         "a001 STARTTLS\r\n"},
        {ADAPTER_PROBE_SMTP,
         {.steps = {long_line}},
         ADAPTER_PROBE_PROTOCOL_ERROR,
         "a line longer than 1024 bytes",
         ""},
        {ADAPTER_PROBE_IMAP,
         {.steps = {"* OK ready\r\n", "a001 OK go\r\n"}, .reads = 1, .silent_after = true},
         ADAPTER_PROBE_HANDSHAKE_TIMEOUT,
         "the TLS handshake did not finish",
         "a001 STARTTLS\r\n"},
    };
    enum { N = sizeof cases / sizeof cases[0] };
    adapter_probe_target t[N];
    char ports[N][8];
    adapter_probe_options o = options();
    adapter_probe_report *report = NULL;

    memset(long_line, 'x', sizeof long_line - 3);
    memcpy(long_line, "220 ", 4);
    memcpy(long_line + sizeof long_line - 3, "\r\n", 3);
    for (size_t i = 0; i < N; i++) {
        script *s = &cases[i].script;
        snprintf(ports[i], sizeof ports[i], "%d", BASE + 40 + (int)i);
        s->fd = listen_port((uint16_t)(BASE + 40 + i), 4);
        pthread_create(&s->thread, NULL, script_main, s);
        t[i] = (adapter_probe_target){"127.0.0.1", ports[i], NULL, cases[i].protocol};
    }
    o.handshake_timeout_ms = 500;
    CHECK_INT_EQ(tls_probe_sweep(t, N, &o, &report), CLM_OK);
    for (size_t i = 0; i < N; i++) {
        pthread_join(cases[i].script.thread, NULL);
        close(cases[i].script.fd);
        if (report == NULL)
            continue;
        unit_current = cases[i].reason;
        CHECK_INT_EQ(report->results[i].status, cases[i].status);
        CHECK_STR_CONTAINS(report->results[i].reason, cases[i].reason);
        CHECK_STR_EQ(cases[i].script.got, cases[i].client_said);
    }
    unit_current = "starttls_against_scripted_servers";
    tls_probe_report_free(report);
}

int main(void)
{
    if (!fixture_netns())
        printf("note: no network namespace of our own; ports %d-%d must be free\n", BASE,
               BASE + 400);
    UNIT_RUN(nothing_is_sent_outside_the_allow_list);
    UNIT_RUN(in_flight_is_bounded);
    UNIT_RUN(rate_is_bounded);
    UNIT_RUN(connect_timeout_and_ipv6_refusal);
    UNIT_RUN(unresolved_cancelled_threads_and_ca_file);
    UNIT_RUN(starttls_against_scripted_servers);
    return unit_report();
}
