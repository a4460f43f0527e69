/*
 * tests/tls/mail_test.c: STARTTLS and implicit TLS against real mail servers on
 * loopback: dovecot (IMAP 143 and POP3 110 with STARTTLS, IMAPS 993 and POP3S 995) and
 * postfix (SMTP 25 with STARTTLS on IPv4 and IPv6, submission 587 with TLS required,
 * SMTPS 465 in wrapper mode, and a port without TLS), each from a temporary
 * configuration this test writes, started and stopped by the test.
 *
 * In a network namespace of our own (root) the servers use the well-known ports, so
 * the probe's protocol choice by port (ADAPTER_PROBE_AUTO) is what is tested; without
 * one they move to 24000 + port and the protocol is given explicitly.
 */
#include "adapters/tls/probe.h"
#include "tests/tls/fixture.h"
#include "tests/unit.h"

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DOVECOT "/usr/sbin/dovecot"
#define POSTFIX "/usr/sbin/postfix"

static fixture fx;
static bool isolated;
static char mail_sha256[65];
static pid_t dovecot, postfix;
static char postfix_etc[400], postfix_log[400];
static const char *const allow[] = {"127.0.0.1", "::1"};

/* The port a service uses here. */
static unsigned port_of(unsigned well_known)
{
    return isolated ? well_known : 24000 + well_known;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || fputs(text, f) < 0) {
        perror(path);
        if (f != NULL)
            fclose(f);
        return -1;
    }
    return fclose(f);
}

static int start_dovecot(void)
{
    char dir[300], conf[400], text[4096], log[400];
    char *argv[] = {DOVECOT, "-F", "-c", conf, NULL};

    snprintf(dir, sizeof dir, "%s/dovecot", fx.dir);
    snprintf(conf, sizeof conf, "%s/dovecot.conf", dir);
    snprintf(log, sizeof log, "%s/dovecot.out", dir);
    if (mkdir(dir, 0755) != 0)
        return -1;
    snprintf(text, sizeof text,
             "base_dir = %s/run\nstate_dir = %s/state\nlog_path = %s/log\n"
             "protocols = imap pop3\nlisten = 127.0.0.1, ::1\n"
             "ssl = yes\nssl_cert = <%s/mail.pem\nssl_key = <%s/mail.key\n"
             "auth_mechanisms = plain\n"
             "passdb {\n  driver = static\n  args = nopassword=y\n}\n"
             "userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=%s/home\n}\n"
             "service imap-login {\n  inet_listener imap {\n    port = %u\n  }\n"
             "  inet_listener imaps {\n    port = %u\n    ssl = yes\n  }\n}\n"
             "service pop3-login {\n  inet_listener pop3 {\n    port = %u\n  }\n"
             "  inet_listener pop3s {\n    port = %u\n    ssl = yes\n  }\n}\n"
             "service anvil {\n  chroot =\n}\nservice stats {\n  chroot =\n}\n",
             dir, dir, dir, fx.dir, fx.dir, dir, port_of(143), port_of(993), port_of(110),
             port_of(995));
    if (write_file(conf, text) != 0)
        return -1;
    if ((dovecot = fixture_spawn(argv, log)) < 0 ||
        fixture_wait_port("127.0.0.1", (uint16_t)port_of(995), 15000) != 0) {
        fprintf(stderr, "dovecot did not start: see %s and %s/log\n", log, dir);
        return -1;
    }
    return 0;
}

/* Postfix wants its configuration tree owned by root, the data directory by its mail
 * owner, and every parent directory mode 755 (TOOLCHAIN.md). */
static int start_postfix(void)
{
    char dir[300], path[400], text[4096], log[400];
    char *argv[] = {POSTFIX, "-c", postfix_etc, "start-fg", NULL};
    struct passwd *pw = getpwnam("postfix");

    snprintf(dir, sizeof dir, "%s/postfix", fx.dir);
    snprintf(postfix_etc, sizeof postfix_etc, "%s/etc", dir);
    snprintf(postfix_log, sizeof postfix_log, "%s/maillog", dir);
    snprintf(log, sizeof log, "%s/postfix.out", dir);
    if (pw == NULL || getgrnam("postdrop") == NULL) {
        fprintf(stderr, "postfix: the postfix user or postdrop group is missing (install "
                        "postfix with tools/install-deps test)\n");
        return -1;
    }
    if (mkdir(dir, 0755) != 0 || mkdir(postfix_etc, 0755) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/spool", dir);
    if (mkdir(path, 0755) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/data", dir);
    if (mkdir(path, 0700) != 0 || chown(path, pw->pw_uid, pw->pw_gid) != 0)
        return -1;
    snprintf(text, sizeof text,
             "compatibility_level = 3.6\nqueue_directory = %s/spool\ndata_directory = %s/data\n"
             "mail_owner = postfix\nsetgid_group = postdrop\nmyhostname = mail.test\n"
             "mydomain = test\ninet_interfaces = loopback-only\ninet_protocols = all\n"
             "mynetworks = 127.0.0.0/8\nmaillog_file = %s\nmaillog_file_prefixes = %s\n"
             "smtpd_tls_cert_file = %s/mail.pem\nsmtpd_tls_key_file = %s/mail.key\n"
             "smtpd_tls_security_level = may\nalias_maps =\nalias_database =\n"
             "local_recipient_maps =\n",
             dir, dir, postfix_log, fx.dir, fx.dir, fx.dir);
    snprintf(path, sizeof path, "%s/main.cf", postfix_etc);
    if (write_file(path, text) != 0)
        return -1;
    snprintf(text, sizeof text,
             "127.0.0.1:%u inet n - n - - smtpd\n"
             "[::1]:%u inet n - n - - smtpd\n"
             "127.0.0.1:%u inet n - n - - smtpd -o smtpd_tls_security_level=encrypt\n"
             "127.0.0.1:%u inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n"
             "127.0.0.1:%u inet n - n - - smtpd -o smtpd_tls_security_level=none\n"
             "pickup unix n - n 60 1 pickup\ncleanup unix n - n - 0 cleanup\n"
             "qmgr unix n - n 300 1 qmgr\ntlsmgr unix - - n 1000? 1 tlsmgr\n"
             "rewrite unix - - n - - trivial-rewrite\nbounce unix - - n - 0 bounce\n"
             "defer unix - - n - 0 bounce\ntrace unix - - n - 0 bounce\n"
             "verify unix - - n - 1 verify\nflush unix n - n 1000? 0 flush\n"
             "proxymap unix - - n - - proxymap\nsmtp unix - - n - - smtp\n"
             "relay unix - - n - - smtp\nshowq unix n - n - - showq\n"
             "error unix - - n - - error\nretry unix - - n - - error\n"
             "discard unix - - n - - discard\nlocal unix - n n - - local\n"
             "virtual unix - n n - - virtual\nlmtp unix - - n - - lmtp\n"
             "anvil unix - - n - 1 anvil\nscache unix - - n - 1 scache\n"
             "postlog unix-dgram n - n - 1 postlogd\n",
             port_of(25), port_of(25), port_of(587), port_of(465), port_of(2525));
    snprintf(path, sizeof path, "%s/master.cf", postfix_etc);
    if (write_file(path, text) != 0)
        return -1;
    if ((postfix = fixture_spawn(argv, log)) < 0 ||
        fixture_wait_port("127.0.0.1", (uint16_t)port_of(2525), 60000) != 0) {
        fprintf(stderr, "postfix did not start: see %s and %s\n", log, postfix_log);
        return -1;
    }
    return 0;
}

static void stop_postfix(void)
{
    char *argv[] = {POSTFIX, "-c", postfix_etc, "stop", NULL};
    pid_t pid;
    int status;

    if (postfix <= 0)
        return;
    if ((pid = fixture_spawn(argv, NULL)) > 0)
        waitpid(pid, &status, 0);
    fixture_stop_child(postfix, SIGTERM, 10000);
    postfix = 0;
}

typedef struct mail_case {
    const char *address;
    unsigned well_known;
    adapter_probe_protocol protocol; /* used when the port is not the well-known one */
    bool starttls;
} mail_case;

UNIT_TEST(every_service_serves_the_chain)
{
    static const mail_case cases[] = {
        {"127.0.0.1", 143, ADAPTER_PROBE_IMAP, true}, {"::1", 143, ADAPTER_PROBE_IMAP, true},
        {"127.0.0.1", 993, ADAPTER_PROBE_TLS, false}, {"127.0.0.1", 110, ADAPTER_PROBE_POP3, true},
        {"::1", 110, ADAPTER_PROBE_POP3, true},       {"127.0.0.1", 995, ADAPTER_PROBE_TLS, false},
        {"127.0.0.1", 25, ADAPTER_PROBE_SMTP, true},  {"::1", 25, ADAPTER_PROBE_SMTP, true},
        {"127.0.0.1", 587, ADAPTER_PROBE_SMTP, true}, {"127.0.0.1", 465, ADAPTER_PROBE_TLS, false},
    };
    enum { N = sizeof cases / sizeof cases[0] };
    adapter_probe_target targets[N];
    char ports[N][8];
    adapter_probe_options o;
    adapter_probe_report *report = NULL;

    for (size_t i = 0; i < N; i++) {
        snprintf(ports[i], sizeof ports[i], "%u", port_of(cases[i].well_known));
        targets[i] = (adapter_probe_target){cases[i].address, ports[i], "mail.test",
                                            isolated ? ADAPTER_PROBE_AUTO : cases[i].protocol};
    }
    memset(&o, 0, sizeof o);
    o.allow = allow;
    o.n_allow = 2;
    o.ca_file = fx.ca_file;
    o.clock = fixture_clock(&fx);
    CHECK_INT_EQ(tls_probe_sweep(targets, N, &o, &report), CLM_OK);
    if (report == NULL)
        return;
    for (size_t i = 0; i < N && i < report->n; i++) {
        const adapter_probe_result *r = &report->results[i];
        printf("%s port %u (%s): %s %s %s %s, starttls %lld us, handshake %lld us\n", r->address,
               r->port, adapter_probe_protocol_name(r->protocol),
               adapter_probe_status_name(r->status), r->tls_version_name ? r->tls_version_name : "",
               r->cipher ? r->cipher : "", r->reason, (long long)r->starttls_us,
               (long long)r->handshake_us);
        unit_current = ports[i];
        CHECK_INT_EQ(r->protocol, cases[i].protocol);
        CHECK_INT_EQ(r->status, ADAPTER_PROBE_OK);
        CHECK_STR_EQ(r->leaf_sha256, mail_sha256);
        CHECK_INT_EQ(r->chain_len, 2);
        CHECK_INT_EQ(r->name_match, ADAPTER_PROBE_PASS);
        CHECK_INT_EQ(r->chain_valid, ADAPTER_PROBE_PASS);
        CHECK_INT_EQ(r->days_to_expiry, 90);
        CHECK(r->tls_version >= 0x0303);
        CHECK(cases[i].starttls ? r->starttls_us > 0 : r->starttls_us == 0);
    }
    unit_current = "every_service_serves_the_chain";
    tls_probe_report_free(report);
}

typedef struct wrong_case {
    unsigned well_known;
    adapter_probe_protocol protocol;
    adapter_probe_status status;
    const char *reason;
} wrong_case;

UNIT_TEST(wrong_protocol_or_no_tls)
{
    static const wrong_case cases[] = {
        {2525, ADAPTER_PROBE_SMTP, ADAPTER_PROBE_PROTOCOL_ERROR,
         "SMTP EHLO: the server does not offer STARTTLS"},
        {143, ADAPTER_PROBE_POP3, ADAPTER_PROBE_PROTOCOL_ERROR,
         "POP3 greeting: not a POP3 status line (+OK or -ERR): \"* OK"},
        {110, ADAPTER_PROBE_IMAP, ADAPTER_PROBE_PROTOCOL_ERROR,
         "IMAP greeting: an unexpected continuation request: \"+OK"},
        {25, ADAPTER_PROBE_IMAP, ADAPTER_PROBE_PROTOCOL_ERROR, "IMAP greeting:"},
        {465, ADAPTER_PROBE_SMTP, ADAPTER_PROBE_HANDSHAKE_TIMEOUT,
         "smtp exchange not finished within 1500 ms"},
        {25, ADAPTER_PROBE_TLS, ADAPTER_PROBE_HANDSHAKE_FAILED, "TLS handshake failed: "},
        {143, ADAPTER_PROBE_TLS, ADAPTER_PROBE_HANDSHAKE_FAILED, "TLS handshake failed: "},
    };
    enum { N = sizeof cases / sizeof cases[0] };
    adapter_probe_target targets[N];
    char ports[N][8];
    adapter_probe_options o;
    adapter_probe_report *report = NULL;

    for (size_t i = 0; i < N; i++) {
        snprintf(ports[i], sizeof ports[i], "%u", port_of(cases[i].well_known));
        targets[i] = (adapter_probe_target){"127.0.0.1", ports[i], "mail.test", cases[i].protocol};
    }
    memset(&o, 0, sizeof o);
    o.allow = allow;
    o.n_allow = 2;
    o.ca_file = fx.ca_file;
    o.handshake_timeout_ms = 1500;
    CHECK_INT_EQ(tls_probe_sweep(targets, N, &o, &report), CLM_OK);
    if (report == NULL)
        return;
    for (size_t i = 0; i < N && i < report->n; i++) {
        const adapter_probe_result *r = &report->results[i];
        printf("%s as %s: %s: %s\n", ports[i], adapter_probe_protocol_name(cases[i].protocol),
               adapter_probe_status_name(r->status), r->reason);
        unit_current = cases[i].reason;
        CHECK_INT_EQ(r->status, cases[i].status);
        CHECK_STR_CONTAINS(r->reason, cases[i].reason);
        CHECK_INT_EQ(r->chain_len, 0);
    }
    unit_current = "wrong_protocol_or_no_tls";
    tls_probe_report_free(report);
}

/* The servers saw a real exchange: postfix logs each session's commands. */
UNIT_TEST(postfix_saw_ehlo_and_starttls)
{
    FILE *f;
    char line[1024];
    int sessions = 0;

    for (int tries = 0; tries < 50 && sessions == 0; tries++) {
        if ((f = fopen(postfix_log, "r")) != NULL) {
            while (fgets(line, sizeof line, f) != NULL)
                sessions += strstr(line, "disconnect from") != NULL &&
                            strstr(line, "ehlo=1 starttls=1") != NULL;
            fclose(f);
        }
        if (sessions == 0)
            usleep(100000);
    }
    CHECK(sessions >= 3); /* 25 on IPv4 and IPv6, 587 */
}

int main(void)
{
    const char *names[] = {"mail.test"};

    isolated = fixture_netns();
    if (!isolated)
        printf("note: no network namespace of our own (not root?); servers on 24000 + port\n");
    if (access(DOVECOT, X_OK) != 0 || access(POSTFIX, X_OK) != 0) {
        printf("dovecot or postfix is missing: run tools/install-deps test\n");
        CHECK(!"dovecot and postfix are installed");
        return unit_report();
    }
    if (fixture_init(&fx) != 0 ||
        fixture_leaf(&fx, "mail", names, 1, 90, false, true, mail_sha256, NULL) != 0 ||
        start_dovecot() != 0 || start_postfix() != 0) {
        CHECK(!"dovecot and postfix start");
    } else {
        UNIT_RUN(every_service_serves_the_chain);
        UNIT_RUN(wrong_protocol_or_no_tls);
        UNIT_RUN(postfix_saw_ehlo_and_starttls);
    }
    stop_postfix();
    fixture_stop_child(dovecot, SIGTERM, 5000);
    fixture_teardown(&fx);
    return unit_report();
}
