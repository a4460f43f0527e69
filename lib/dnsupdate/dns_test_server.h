/*
 * lib/dnsupdate/dns_test_server.h: a real bind9 on 127.0.0.1 for tests (header only, as
 * tests/unit.h): testdata/dns_test_server.sh writes the zones example.test and
 * sub.example.test, three TSIG keys from tsig-keygen and the update-policy grants into a
 * fresh directory under TEST_TMPDIR, then runs `named -g` on a free port below 32768.
 * dns_test_server_stop() ends it (SIGTERM, then SIGKILL) and waits for it.
 *
 * Keys (dns_test_server_secret): "clm-key" (hmac-sha256), "clm-key-512" (hmac-sha512),
 * "other-key" (hmac-sha256, granted nothing). The script's comment lists the grants.
 * named runs as the caller; the tests run as root (tools/test), as named needs here.
 */
#ifndef CLM_LIB_DNSUPDATE_DNS_TEST_SERVER_H
#define CLM_LIB_DNSUPDATE_DNS_TEST_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

typedef struct dns_test_server {
    pid_t pid;
    int port;
    char dir[PATH_MAX];
    char server[32]; /* "127.0.0.1:PORT" */
} dns_test_server;

static inline const char *dns_test_server_script(void)
{
    static char path[PATH_MAX];
    const char *srcdir = getenv("TEST_SRCDIR");
    const char *workspace = getenv("TEST_WORKSPACE");

    if (access("lib/dnsupdate/testdata/dns_test_server.sh", R_OK) == 0)
        return "lib/dnsupdate/testdata/dns_test_server.sh";
    snprintf(path, sizeof(path), "%s/%s/lib/dnsupdate/testdata/dns_test_server.sh",
             srcdir ? srcdir : ".", workspace ? workspace : "clm");
    return path;
}

/* Whether nothing holds port on 127.0.0.1, over UDP and TCP. */
static inline bool dns_test_port_free(int port)
{
    int types[] = {SOCK_DGRAM, SOCK_STREAM};

    for (int i = 0; i < 2; i++) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        int fd = socket(AF_INET, types[i], 0);
        int ok;

        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ok = fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
        if (fd >= 0)
            close(fd);
        if (!ok)
            return false;
    }
    return true;
}

/* A free port in [20000, 32000): below the ephemeral range, random so that parallel
 * tests rarely meet (and a collision only costs a retry). */
static inline int dns_test_free_port(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    srandom((unsigned)(ts.tv_nsec ^ (getpid() << 8)));
    for (int i = 0; i < 200; i++) {
        int port = 20000 + (int)(random() % 12000);

        if (dns_test_port_free(port))
            return port;
    }
    return -1;
}

/* What named's log says so far: 1 ready ("running" once the zones are loaded), -1 it
 * could not bind (it keeps running then), 0 not yet. Its log decides, not a probe of the
 * port, which another process may hold. */
static inline int dns_test_named_state(const char *log_path)
{
    char line[1024];
    int state = 0;
    FILE *f = fopen(log_path, "r");

    if (f == NULL)
        return 0;
    while (state >= 0 && fgets(line, sizeof(line), f) != NULL) {
        size_t len = strlen(line);

        if (strstr(line, "address in use") != NULL || strstr(line, "could not listen") != NULL)
            state = -1;
        else if (len >= 8 && strcmp(line + len - 8, "running\n") == 0)
            state = 1;
    }
    fclose(f);
    return state;
}

static inline void dns_test_server_stop(dns_test_server *s)
{
    int status;

    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    for (int i = 0; i < 250; i++) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = -1;
            return;
        }
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    s->pid = -1;
}

static inline void dns_test_server_print_log(const dns_test_server *s)
{
    char path[PATH_MAX + 16], line[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/named.log", s->dir);
    f = fopen(path, "r");
    if (f == NULL)
        return;
    while (fgets(line, sizeof(line), f) != NULL)
        fprintf(stderr, "named: %s", line);
    fclose(f);
}

/* One attempt on one port: spawn, wait until named's log says it runs. */
static inline bool dns_test_server_try(dns_test_server *s, const char *const *names)
{
    char port_text[16], log_path[PATH_MAX + 16];
    char *argv[64];
    int argc = 0, status;
    posix_spawn_file_actions_t actions;

    s->port = dns_test_free_port();
    if (s->port < 0)
        return false;
    snprintf(port_text, sizeof(port_text), "%d", s->port);
    snprintf(s->server, sizeof(s->server), "127.0.0.1:%d", s->port);
    snprintf(log_path, sizeof(log_path), "%s/named.log", s->dir);
    argv[argc++] = "/bin/sh";
    argv[argc++] = (char *)dns_test_server_script();
    argv[argc++] = s->dir;
    argv[argc++] = port_text;
    for (int i = 0; names != NULL && names[i] != NULL && argc < 62; i++)
        argv[argc++] = (char *)names[i];
    argv[argc] = NULL;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawn(&s->pid, argv[0], &actions, NULL, argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        s->pid = -1;
        return false;
    }
    posix_spawn_file_actions_destroy(&actions);
    for (int i = 0; i < 500; i++) { /* 10 s */
        int state = dns_test_named_state(log_path);

        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = -1;
            return false;
        }
        if (state != 0) {
            if (state > 0)
                return true;
            break;
        }
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    dns_test_server_stop(s);
    return false;
}

/**
 * Start named in a new directory; names: extra names under example.test (NULL-ended,
 * may be NULL), each with an A record 127.0.0.1 and a clm-key grant for its
 * _acme-challenge TXT. Three attempts on three ports (another test may take a port
 * between the check and named's bind). false: not started (its log is printed).
 */
static inline bool dns_test_server_start(dns_test_server *s, const char *const *names)
{
    const char *tmp = getenv("TEST_TMPDIR");

    memset(s, 0, sizeof(*s));
    s->pid = -1;
    for (int attempt = 0; attempt < 3; attempt++) {
        snprintf(s->dir, sizeof(s->dir), "%s/dns-test-XXXXXX", tmp ? tmp : "/tmp");
        if (mkdtemp(s->dir) == NULL)
            return false;
        if (dns_test_server_try(s, names))
            return true;
        dns_test_server_print_log(s);
    }
    return false;
}

/* The secret of a key the script made ("clm-key", ...), into buf; NULL when unreadable. */
static inline const char *dns_test_server_secret(const dns_test_server *s, const char *key,
                                                 char *buf, size_t size)
{
    char path[PATH_MAX + 64];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s.secret", s->dir, key);
    f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    n = fread(buf, 1, size - 1, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    return n > 0 ? buf : NULL;
}

/**
 * The TXT strings of name as bind9's own client sees them: `dig +short` lines joined by
 * '\n' into out ("" when none). false when dig could not run.
 */
static inline bool dns_test_dig_txt(const dns_test_server *s, const char *name, char *out,
                                    size_t size)
{
    char command[512];
    FILE *p;
    size_t n = 0;
    int status;

    snprintf(command, sizeof(command),
             "dig +short +norecurse +time=2 +tries=2 -p %d @127.0.0.1 '%s' TXT 2>&1", s->port,
             name);
    p = popen(command, "r");
    if (p == NULL)
        return false;
    n = fread(out, 1, size - 1, p);
    status = pclose(p);
    while (n > 0 && out[n - 1] == '\n')
        n--;
    out[n] = '\0';
    return status == 0;
}

#endif
