/*
 * tests/tls/sweep_test.c: the probe against nginx-light serving 1,000 server blocks on
 * 1,000 loopback ports, each with its own certificate, and a set of deliberately wrong
 * endpoints spread among them (fixture.h): every certificate must be found, every
 * endpoint must get exactly its expected outcome and push-validation verdict, and the
 * timeouts and refusals must not slow the rest of the sweep.
 */
#include "adapters/tls/probe.h"
#include "tests/tls/fixture.h"
#include "tests/unit.h"

#include <openssl/x509_vfy.h>
#include <stdlib.h>

#define BASE_PORT 21000
#define CONNECT_TIMEOUT_MS 1000
#define HANDSHAKE_TIMEOUT_MS 1500

static fixture fx;
static const char *const allow[] = {"127.0.0.1", "::1"};

/* ---- the push-validation verdict (the appliance's rule, restated for the test) --------- */

typedef enum verdict {
    V_IN_SYNC,
    V_OUT_OF_SYNC,
    V_EXPIRED,
    V_CHAIN_INCOMPLETE,
    V_UNTRUSTED,
    V_NAME_MISMATCH,
    V_UNREACHABLE,
    V_HANDSHAKE_FAILED,
} verdict;

static const char *verdict_name(verdict v)
{
    static const char *const names[] = {"in-sync",          "out-of-sync",     "expired",
                                        "chain-incomplete", "untrusted",       "name-mismatch",
                                        "unreachable",      "handshake-failed"};
    return names[v];
}

static verdict verdict_of(const adapter_probe_result *r, const char *expected_sha256)
{
    if (r->status == ADAPTER_PROBE_REFUSED || r->status == ADAPTER_PROBE_UNREACHABLE ||
        r->status == ADAPTER_PROBE_CONNECT_TIMEOUT || r->status == ADAPTER_PROBE_UNRESOLVED)
        return V_UNREACHABLE;
    if (r->status != ADAPTER_PROBE_OK)
        return V_HANDSHAKE_FAILED;
    if (strcmp(r->leaf_sha256, expected_sha256) != 0)
        return V_OUT_OF_SYNC;
    if (r->days_to_expiry < 0)
        return V_EXPIRED;
    if (r->chain_valid == ADAPTER_PROBE_FAIL &&
        r->verify_code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
        return V_CHAIN_INCOMPLETE;
    if (r->chain_valid == ADAPTER_PROBE_FAIL)
        return V_UNTRUSTED;
    if (r->name_match == ADAPTER_PROBE_FAIL)
        return V_NAME_MISMATCH;
    return V_IN_SYNC;
}

static verdict verdict_expected(fixture_kind kind)
{
    switch (kind) {
    case FX_OTHER_CERT: return V_OUT_OF_SYNC;
    case FX_EXPIRED: return V_EXPIRED;
    case FX_NO_INTERMEDIATE: return V_CHAIN_INCOMPLETE;
#ifdef OPENSSL_IS_BORINGSSL /* "unable to get local issuer" for a self-signed leaf */
    case FX_SELF_SIGNED: return V_CHAIN_INCOMPLETE;
#else
    case FX_SELF_SIGNED: return V_UNTRUSTED;
#endif
    case FX_WRONG_NAME: return V_NAME_MISMATCH;
    case FX_REFUSED:
    case FX_BACKLOG_FULL: return V_UNREACHABLE;
    case FX_PLAIN_HTTP:
    case FX_CLOSE_AT_ONCE:
    case FX_SILENT: return V_HANDSHAKE_FAILED;
    default: return V_IN_SYNC;
    }
}

/* ---- helpers --------------------------------------------------------------------------- */

typedef struct sweep_targets {
    adapter_probe_target *v;
    char (*ports)[8];
    const fixture_endpoint **endpoint; /* per target */
    size_t n;
} sweep_targets;

/* One target per fixture endpoint, optionally only those expected to be OK. */
static void targets_make(sweep_targets *t, bool only_ok)
{
    t->v = calloc(fx.n, sizeof *t->v);
    t->ports = calloc(fx.n, sizeof *t->ports);
    t->endpoint = calloc(fx.n, sizeof *t->endpoint);
    t->n = 0;
    for (size_t i = 0; i < fx.n; i++) {
        const fixture_endpoint *e = &fx.endpoints[i];
        if (only_ok && e->status != ADAPTER_PROBE_OK)
            continue;
        snprintf(t->ports[t->n], sizeof t->ports[t->n], "%u", e->port);
        t->v[t->n] = (adapter_probe_target){e->address, t->ports[t->n], e->sni, ADAPTER_PROBE_TLS};
        t->endpoint[t->n++] = e;
    }
}

static void targets_free(sweep_targets *t)
{
    free(t->v);
    free(t->ports);
    free(t->endpoint);
}

static adapter_probe_options options(void)
{
    adapter_probe_options o;

    memset(&o, 0, sizeof o);
    o.allow = allow;
    o.n_allow = 2;
    o.ca_file = fx.ca_file;
    o.clock = fixture_clock(&fx);
    o.connect_timeout_ms = CONNECT_TIMEOUT_MS;
    o.handshake_timeout_ms = HANDSHAKE_TIMEOUT_MS;
    o.max_in_flight = 256;
    o.max_rate = 20000;
    return o;
}

/* Whether r is exactly what e promises; why says what differs. */
static bool matches(const adapter_probe_result *r, const fixture_endpoint *e, char *why,
                    size_t size)
{
    why[0] = '\0';
    if (r->status != e->status)
        snprintf(why, size, "status %s, want %s (%s)", adapter_probe_status_name(r->status),
                 adapter_probe_status_name(e->status), r->reason);
    else if (r->status != ADAPTER_PROBE_OK) {
        bool closed = strstr(r->reason, "closed") != NULL || strstr(r->reason, "reset") != NULL;
        if (e->kind == FX_CLOSE_AT_ONCE && !closed)
            snprintf(why, size, "reason \"%s\" says neither closed nor reset", r->reason);
        if (e->kind == FX_PLAIN_HTTP && strncmp(r->reason, "TLS handshake failed: ", 22) != 0)
            snprintf(why, size, "reason \"%s\"", r->reason);
        if (r->chain_len != 0 || r->reason[0] == '\0')
            snprintf(why, size, "a failure with a chain or without a reason");
    } else if (strcmp(r->leaf_sha256, e->served_sha256) != 0)
        snprintf(why, size, "leaf %.16s..., served %.16s...", r->leaf_sha256, e->served_sha256);
    else if (r->chain_len != e->chain_len)
        snprintf(why, size, "chain of %zu, want %zu", r->chain_len, e->chain_len);
    else if (r->tls_version != e->tls_version)
        snprintf(why, size, "version %s (0x%04x), want 0x%04x", r->tls_version_name, r->tls_version,
                 e->tls_version);
    else if (r->name_match != e->name_match)
        snprintf(why, size, "name match %d, want %d", r->name_match, e->name_match);
    else if (r->chain_valid != e->chain_valid ||
             (e->chain_valid == ADAPTER_PROBE_FAIL && r->verify_code != e->verify_code))
        snprintf(why, size, "chain valid %d code %d (%s), want %d code %d", r->chain_valid,
                 r->verify_code, r->verify_error ? r->verify_error : "", e->chain_valid,
                 e->verify_code);
    else if (r->not_after != e->not_after || r->days_to_expiry != (e->not_after - fx.now) / 86400)
        snprintf(why, size, "not after %lld days %lld", (long long)r->not_after,
                 (long long)r->days_to_expiry);
    else if (r->cipher == NULL || r->chain[0].len == 0 || r->handshake_us <= 0)
        snprintf(why, size, "no cipher, DER or handshake time");
    return why[0] == '\0';
}

/* ---- the tests ------------------------------------------------------------------------- */

UNIT_TEST(every_endpoint_exactly)
{
    sweep_targets t;
    adapter_probe_options o = options();
    adapter_probe_report *report = NULL;
    size_t per_kind[FX_KIND_MAX] = {0}, verdicts_ok = 0;
    char why[256];

    targets_make(&t, false);
    o.threads = 2; /* the threaded path, with real handshakes */
    CHECK_INT_EQ(tls_probe_sweep(t.v, t.n, &o, &report), CLM_OK);
    if (report == NULL) {
        printf("sweep: %s\n", clm_error_message());
        targets_free(&t);
        return;
    }
    CHECK_INT_EQ(report->n, fx.n);
    for (size_t i = 0; i < report->n && i < fx.n; i++) {
        const adapter_probe_result *r = &report->results[i];
        const fixture_endpoint *e = t.endpoint[i];
        verdict v = verdict_of(r, e->expected_sha256);
        unit_current = fixture_kind_name(e->kind);
        if (!matches(r, e, why, sizeof why))
            UNIT_FAIL_AT(__FILE__, __LINE__, "port %u %s (%s): %s", e->port, e->sni,
                         fixture_kind_name(e->kind), why);
        else
            unit_passed++;
        CHECK_STR_EQ(verdict_name(v), verdict_name(verdict_expected(e->kind)));
        verdicts_ok += v == verdict_expected(e->kind);
        per_kind[e->kind]++;
    }
    unit_current = "every_endpoint_exactly";
    printf("sweep of %zu endpoints on 2 threads: %.2f s (%.0f endpoints/s); ok %zu, refused %zu, "
           "connect "
           "timeout %zu, handshake failed %zu, handshake timeout %zu; verdicts right %zu\n",
           report->n, (double)report->elapsed_us / 1e6,
           (double)report->n * 1e6 / (double)report->elapsed_us, report->counts[ADAPTER_PROBE_OK],
           report->counts[ADAPTER_PROBE_REFUSED], report->counts[ADAPTER_PROBE_CONNECT_TIMEOUT],
           report->counts[ADAPTER_PROBE_HANDSHAKE_FAILED],
           report->counts[ADAPTER_PROBE_HANDSHAKE_TIMEOUT], verdicts_ok);
    for (int k = 1; k < FX_KIND_MAX; k++) /* every wrong kind was there */
        CHECK(per_kind[k] > 0);
    CHECK(per_kind[FX_GOOD] >= 950);
    tls_probe_report_free(report);
    targets_free(&t);
}

typedef struct timing {
    double start;
    double last_ok; /* when the last OK endpoint finished */
} timing;

static void on_result(void *arg, const adapter_probe_result *r)
{
    timing *tm = arg;

    if (r->status == ADAPTER_PROBE_OK)
        tm->last_ok = fixture_seconds() - tm->start;
}

/* The wrong endpoints must not slow the others: compare a sweep of the good endpoints
 * alone with a sweep of all, and when the last good one finished in the latter. */
UNIT_TEST(bad_ports_do_not_slow_the_sweep)
{
    sweep_targets good, all;
    adapter_probe_options o = options();
    adapter_probe_report *report = NULL;
    timing tm = {0, 0};
    double t_good, t_all, serial;

    targets_make(&good, true);
    targets_make(&all, false);
    tm.start = fixture_seconds();
    o.on_result = on_result;
    o.on_result_arg = &tm;
    CHECK_INT_EQ(tls_probe_sweep(good.v, good.n, &o, &report), CLM_OK);
    t_good = fixture_seconds() - tm.start;
    CHECK(report != NULL && report->counts[ADAPTER_PROBE_OK] == good.n);
    tls_probe_report_free(report);

    tm.start = fixture_seconds();
    tm.last_ok = 0;
    CHECK_INT_EQ(tls_probe_sweep(all.v, all.n, &o, &report), CLM_OK);
    t_all = fixture_seconds() - tm.start;
    serial = 3 * CONNECT_TIMEOUT_MS / 1000.0 + 6 * HANDSHAKE_TIMEOUT_MS / 1000.0;
    printf("good only: %zu endpoints in %.2f s; all: %zu in %.2f s, the last good one done at "
           "%.2f s; the %zu timeouts alone would add %.1f s if they were waited for in turn\n",
           good.n, t_good, all.n, t_all, tm.last_ok,
           report ? report->counts[ADAPTER_PROBE_CONNECT_TIMEOUT] +
                        report->counts[ADAPTER_PROBE_HANDSHAKE_TIMEOUT]
                  : 0,
           serial);
    /* The good endpoints finish as fast as without the bad ones (noise allowed: the two
     * cores are shared), and the whole sweep takes at most one handshake timeout more. */
    CHECK(tm.last_ok <= 1.5 * t_good + 0.5);
    CHECK(t_all <= t_good + HANDSHAKE_TIMEOUT_MS / 1000.0 + 1.0);
    CHECK(t_all < t_good + serial / 2);
    tls_probe_report_free(report);
    targets_free(&good);
    targets_free(&all);
}

/* Discovery: one range target per family, no SNI: every served certificate is found. */
UNIT_TEST(discovery_finds_every_certificate)
{
    char ports[32];
    adapter_probe_target targets[2];
    adapter_probe_options o = options();
    adapter_probe_report *report = NULL;
    size_t served = 0, found = 0;

    snprintf(ports, sizeof ports, "%u-%u", BASE_PORT, fx.endpoints[fx.n - 1].port);
    targets[0] = (adapter_probe_target){"127.0.0.1", ports, NULL, ADAPTER_PROBE_AUTO};
    targets[1] = (adapter_probe_target){"::1", ports, NULL, ADAPTER_PROBE_AUTO};
    CHECK_INT_EQ(tls_probe_sweep(targets, 2, &o, &report), CLM_OK);
    if (report == NULL)
        return;
    for (size_t i = 0; i < fx.n; i++) {
        const fixture_endpoint *e = &fx.endpoints[i];
        bool hit = false;
        if (e->served_sha256[0] == '\0' || e->kind == FX_SNI_ALT)
            continue; /* nothing served, or only to its name */
        served++;
        for (size_t k = 0; k < report->n && !hit; k++) {
            const adapter_probe_result *r = &report->results[k];
            hit = r->port == e->port && strcmp(r->address, e->address) == 0 &&
                  r->status == ADAPTER_PROBE_OK && strcmp(r->leaf_sha256, e->served_sha256) == 0 &&
                  r->sni == NULL && r->name_match == ADAPTER_PROBE_FAIL; /* no IP SAN */
        }
        found += hit;
    }
    printf("discovery over 2 x %s: %zu endpoints in %.2f s, %zu with TLS; %zu of %zu served "
           "certificates found\n",
           ports, report->n, (double)report->elapsed_us / 1e6, report->counts[ADAPTER_PROBE_OK],
           found, served);
    CHECK_INT_EQ(found, served);
    CHECK(served >= 990);
    /* IPv6: exactly the [::1] blocks answer there; every other port refuses */
    {
        size_t v6_blocks = 0, v6_ok = 0, v6_refused = 0, v6_ports = 0;
        for (size_t i = 0; i < fx.n; i++)
            v6_blocks += fx.endpoints[i].kind == FX_IPV6;
        for (size_t k = 0; k < report->n; k++) {
            const adapter_probe_result *r = &report->results[k];
            if (strcmp(r->address, "::1") != 0)
                continue;
            v6_ports++;
            v6_ok += r->status == ADAPTER_PROBE_OK;
            v6_refused += r->status == ADAPTER_PROBE_REFUSED;
        }
        CHECK_INT_EQ(v6_ok, v6_blocks);
        CHECK_INT_EQ(v6_refused, v6_ports - v6_blocks);
    }
    tls_probe_report_free(report);
}

static void cancel_after_100(void *arg, const adapter_probe_result *r)
{
    static int seen;

    (void)r;
    if (++seen == 100)
        atomic_store((atomic_bool *)arg, true);
}

UNIT_TEST(cancel_mid_sweep)
{
    sweep_targets t;
    adapter_probe_options o = options();
    adapter_probe_report *report = NULL;
    atomic_bool cancel = false;

    targets_make(&t, false);
    o.cancel = &cancel;
    o.on_result = cancel_after_100;
    o.on_result_arg = &cancel;
    o.max_rate = 2000;
    CHECK_INT_EQ(tls_probe_sweep(t.v, t.n, &o, &report), CLM_ERR_CANCELLED);
    CHECK_STR_CONTAINS(clm_error_message(), "the sweep was cancelled");
    CHECK(report != NULL);
    if (report != NULL) {
        CHECK(report->counts[ADAPTER_PROBE_CANCELLED] > 500);
        CHECK(report->n - report->counts[ADAPTER_PROBE_CANCELLED] >= 100);
    }
    tls_probe_report_free(report);
    targets_free(&t);
}

int main(void)
{
    fixture_options o = {.n_blocks = 1000, .base_port = BASE_PORT, .with_bad = true};

    if (!fixture_netns())
        printf("note: no network namespace of our own (not root?); ports %d-%d must be free\n",
               BASE_PORT, BASE_PORT + 1100);
    if (fixture_init(&fx) != 0 || fixture_sweep_start(&fx, &o) != 0) {
        CHECK(!"the nginx fixture starts");
        fixture_teardown(&fx);
        return unit_report();
    }
    printf("fixture: %zu endpoints, certificates and configuration in %.2f s, nginx ready in "
           "%.2f s\n",
           fx.n, fx.generate_seconds, fx.start_seconds);
    CHECK(fx.generate_seconds < 30);
    UNIT_RUN(every_endpoint_exactly);
    UNIT_RUN(bad_ports_do_not_slow_the_sweep);
    UNIT_RUN(discovery_finds_every_certificate);
    UNIT_RUN(cancel_mid_sweep);
    fixture_teardown(&fx);
    return unit_report();
}
