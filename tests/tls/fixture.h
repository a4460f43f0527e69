/*
 * tests/tls/fixture.h: real TLS servers on loopback for the probe's tests and benchmark.
 *
 * The sweep fixture generates a test PKI (an EC P-256 root, an intermediate, one leaf
 * per endpoint, all in-process: about 1 ms a certificate), writes one nginx-light
 * configuration with a server block per port, each with its own certificate, starts
 * nginx, and adds the endpoints nginx cannot play, served by this process:
 *
 *   refused         nothing listens on the port
 *   close at once   a thread accepts and closes at once
 *   backlog full    a socket listens with backlog 0 and one connection this process
 *                   made fills its accept queue: Linux then drops every further SYN
 *                   (tcp_conn_request: "ListenOverflows"), so connect() hangs until the
 *                   client gives up. No iptables, no blackhole route, plain loopback.
 *   silent          a socket listens (backlog 128) and never accepts: the kernel
 *                   completes the TCP handshake, the ClientHello is never answered.
 *
 * Every endpoint has its expected outcome in the manifest (fixture_endpoint), decided
 * when the certificates are made, so a test can demand exactly that outcome.
 *
 * Times: certificates are dated from fixture->now (the wall clock when generated);
 * probe with fixture_clock() so days to expiry and verification are exact.
 *
 * Processes: servers are children with PR_SET_PDEATHSIG, so they die with the test
 * even when it crashes. fixture_netns() moves the test into its own network namespace
 * (as root), where fixed ports cannot collide with anything else on the machine.
 *
 * Thread rules: one fixture per process, driven from the main thread.
 */
#ifndef CLM_TESTS_TLS_FIXTURE_H
#define CLM_TESTS_TLS_FIXTURE_H

#include "adapters/adapter.h"
#include "lib/base/clock.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum fixture_kind {
    FX_GOOD = 0,        /* leaf + intermediate, name matches, trusted, TLS 1.3 */
    FX_OTHER_CERT,      /* a valid certificate for the name, but not the one expected */
    FX_EXPIRED,         /* the leaf expired 10 days ago */
    FX_NO_INTERMEDIATE, /* the leaf is served alone */
    FX_WRONG_NAME,      /* the leaf is for another name than the one asked for */
    FX_SELF_SIGNED,     /* an untrusted self-signed leaf */
    FX_TLS10,           /* the server speaks only TLS 1.0 */
    FX_TLS11,
    FX_TLS12,
    FX_IPV6,       /* on [::1] only */
    FX_SNI_ALT,    /* the second name of a port with two server blocks */
    FX_PLAIN_HTTP, /* no TLS at all */
    FX_REFUSED,    /* nothing listens */
    FX_CLOSE_AT_ONCE,
    FX_BACKLOG_FULL,
    FX_SILENT,
    FX_KIND_MAX
} fixture_kind;

/** @return "good", "other-cert", ... for messages. */
const char *fixture_kind_name(fixture_kind kind);

typedef struct fixture_endpoint {
    fixture_kind kind;
    uint16_t port;
    const char *address;      /* "127.0.0.1" or "::1" */
    char sni[64];             /* the name a validator asks for */
    char expected_sha256[65]; /* the leaf a validator expects */
    char served_sha256[65];   /* the leaf actually served; "" when none */
    int64_t not_after;
    adapter_probe_status status; /* what the probe must report */
    int tls_version;             /* wire value when status OK */
    size_t chain_len;
    adapter_probe_check name_match;
    adapter_probe_check chain_valid;
    int verify_code; /* X509_V_* when chain_valid is FAIL */
} fixture_endpoint;

typedef struct fixture_options {
    size_t n_blocks;    /* nginx server blocks with a certificate each (1000) */
    uint16_t base_port; /* the first port; endpoints take consecutive ports */
    bool with_bad;      /* add the wrong endpoints, spread over the range */
    int nginx_workers;  /* 0: 1 */
} fixture_options;

typedef struct fixture {
    char dir[256];     /* everything generated lives here; removed on teardown */
    char ca_file[300]; /* the root, PEM: the trust for the probe */
    int64_t now;       /* wall time of generation, seconds */
    fixture_endpoint *endpoints;
    size_t n;
    double generate_seconds; /* PKI and configuration */
    double start_seconds;    /* nginx start until every port answers */
    /* private */
    EVP_PKEY *root_key, *inter_key;
    X509 *root, *inter;
    pid_t nginx;
    int listen_fds[16]; /* this process's bad listeners and fillers */
    int n_listen_fds;
    int closer_fds[4];
    int n_closer_fds;
    int stop_pipe[2]; /* open while the closer thread runs */
    pthread_t closer;
    bool closer_running;
    clm_clock_fake clock; /* wall time fixed at now; see fixture_clock() */
    clm_clock mixed;
} fixture;

/**
 * @brief Enter a network namespace of our own with loopback up (needs root).
 * @return true when isolated; false when staying in the current one (then ports may
 *         collide with other processes: fixture_setup() fails clearly if they do).
 */
bool fixture_netns(void);

/**
 * @brief Make the temp directory (mode 0755, under /tmp: daemons dropping privileges
 * must reach it) and the test PKI (root, intermediate).
 * @return 0, or -1 with a message on stderr.
 */
int fixture_init(fixture *fx);

/**
 * @brief Generate, configure and start the nginx sweep fixture described by o. Fills
 * fx->endpoints in port order.
 * @return 0, or -1 with a message on stderr (nginx missing, a port taken, ...).
 */
int fixture_sweep_start(fixture *fx, const fixture_options *o);

/**
 * @brief Issue a leaf for names (SAN DNS entries; the first is the CN) valid from
 * now - 1 h to now + days (negative: already expired), signed by the intermediate (or
 * self-signed), and write `<dir>/<stem>.pem` (leaf, then the intermediate when
 * with_chain) and `<dir>/<stem>.key`.
 * @param[out] sha256 the leaf's fingerprint (65 bytes); may be NULL.
 * @return 0 or -1.
 */
int fixture_leaf(fixture *fx, const char *stem, const char *const *names, size_t n_names, int days,
                 bool self_signed, bool with_chain, char *sha256, int64_t *not_after);

/** A clock for the probe: wall time fixed at fx->now, monotonic time real. */
const clm_clock *fixture_clock(fixture *fx);

/**
 * @brief Start a program as a child that dies with this process.
 * @param[in] argv argv[0] is the path; NULL-terminated.
 * @param[in] log  stdout and stderr go there (created), or NULL to inherit.
 * @return the pid, or -1.
 */
pid_t fixture_spawn(char *const argv[], const char *log);

/** Send sig, wait up to timeout_ms, then SIGKILL. @return the exit status or -1. */
int fixture_stop_child(pid_t pid, int sig, int timeout_ms);

/** Wait until a TCP connect to address:port succeeds. @return 0, or -1 on timeout. */
int fixture_wait_port(const char *address, uint16_t port, int timeout_ms);

/** Listeners for the endpoints nginx cannot play (fixture_sweep_start calls it).
 *  @return 0 or -1. */
int fixture_bad_listeners(fixture *fx);

/** Stop every server, free everything, remove the directory. Safe on a zeroed fixture. */
void fixture_teardown(fixture *fx);

/** Seconds of CLOCK_MONOTONIC, for measuring. */
double fixture_seconds(void);

#endif
