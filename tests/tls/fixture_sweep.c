/* tests/tls/fixture_sweep.c: the layout of the sweep fixture (which port plays what),
 * its certificates, the nginx configuration, and starting it all (fixture.h). */
#include "tests/tls/fixture.h"

#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NGINX "/usr/sbin/nginx"

static const char *const kind_names[FX_KIND_MAX] = {
    "good",       "other-cert",    "expired",      "no-intermediate",
    "wrong-name", "self-signed",   "tls1.0",       "tls1.1",
    "tls1.2",     "ipv6",          "sni-alt",      "plain-http",
    "refused",    "close-at-once", "backlog-full", "silent",
};

const char *fixture_kind_name(fixture_kind kind)
{
    return (unsigned)kind < FX_KIND_MAX ? kind_names[kind] : "?";
}

/* How many of each wrong endpoint a sweep fixture with_bad holds. */
static const struct {
    fixture_kind kind;
    int count;
} specials[] = {
    {FX_OTHER_CERT, 3},   {FX_EXPIRED, 3},    {FX_NO_INTERMEDIATE, 3}, {FX_WRONG_NAME, 3},
    {FX_SELF_SIGNED, 2},  {FX_TLS10, 1},      {FX_TLS11, 1},           {FX_TLS12, 1},
    {FX_IPV6, 3},         {FX_PLAIN_HTTP, 1}, {FX_REFUSED, 3},         {FX_CLOSE_AT_ONCE, 3},
    {FX_BACKLOG_FULL, 3}, {FX_SILENT, 3},
};
#define N_SNI_ALT 2

static bool own_listener(fixture_kind k)
{
    return k == FX_REFUSED || k == FX_CLOSE_AT_ONCE || k == FX_BACKLOG_FULL || k == FX_SILENT;
}

/* Kinds by port offset: the specials spread evenly, kinds interleaved, the rest good. */
static fixture_kind *layout(const fixture_options *o, size_t *n_ports, size_t *alt_a, size_t *alt_b)
{
    size_t n_special = 0, n_own = 0, placed = 0, ports;
    fixture_kind *kinds;

    for (size_t i = 0; o->with_bad && i < sizeof specials / sizeof specials[0]; i++) {
        n_special += (size_t)specials[i].count;
        if (own_listener(specials[i].kind))
            n_own += (size_t)specials[i].count;
    }
    ports = o->n_blocks - (o->with_bad ? N_SNI_ALT : 0) + n_own;
    if ((kinds = calloc(ports, sizeof *kinds)) == NULL)
        return NULL;
    for (int round = 0; placed < n_special; round++)
        for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++)
            if (specials[i].count > round) {
                kinds[(placed + 1) * ports / (n_special + 1)] = specials[i].kind;
                placed++;
            }
    *alt_a = *alt_b = SIZE_MAX;
    if (o->with_bad) {
        for (*alt_a = ports / 3; kinds[*alt_a] != FX_GOOD; (*alt_a)++)
            ;
        for (*alt_b = 2 * ports / 3; kinds[*alt_b] != FX_GOOD; (*alt_b)++)
            ;
    }
    *n_ports = ports;
    return kinds;
}

/* Certificates and expectations of one endpoint. */
static int make_endpoint(fixture *fx, fixture_endpoint *e, fixture_kind kind, uint16_t port,
                         bool alt)
{
    char stem[32], other[32], name[64];
    const char *names[1] = {name};
    int rc = 0;

    memset(e, 0, sizeof *e);
    e->kind = alt ? FX_SNI_ALT : kind;
    e->port = port;
    e->address = kind == FX_IPV6 ? "::1" : "127.0.0.1";
    snprintf(e->sni, sizeof e->sni, "%s%u.test", alt ? "alt" : "ep", port);
    snprintf(stem, sizeof stem, "%s%u", alt ? "a" : "c", port);
    snprintf(name, sizeof name, "%s", e->sni);
    e->status = ADAPTER_PROBE_OK;
    e->tls_version = 0x0304;
    e->chain_len = 2;
    e->name_match = ADAPTER_PROBE_PASS;
    e->chain_valid = ADAPTER_PROBE_PASS;
    switch (e->kind) {
    case FX_EXPIRED:
        e->chain_valid = ADAPTER_PROBE_FAIL;
        e->verify_code = X509_V_ERR_CERT_HAS_EXPIRED;
        rc = fixture_leaf(fx, stem, names, 1, -10, false, true, e->served_sha256, &e->not_after);
        break;
    case FX_NO_INTERMEDIATE:
        e->chain_len = 1;
        e->chain_valid = ADAPTER_PROBE_FAIL;
        e->verify_code = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
        rc = fixture_leaf(fx, stem, names, 1, 90, false, false, e->served_sha256, &e->not_after);
        break;
    case FX_SELF_SIGNED: e->chain_len = 1; e->chain_valid = ADAPTER_PROBE_FAIL;
#ifdef OPENSSL_IS_BORINGSSL /* its verifier does not single out a self-signed leaf */
        e->verify_code = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
#else
        e->verify_code = X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT;
#endif
        rc = fixture_leaf(fx, stem, names, 1, 90, true, false, e->served_sha256, &e->not_after);
        break;
    case FX_WRONG_NAME:
        e->name_match = ADAPTER_PROBE_FAIL;
        snprintf(name, sizeof name, "wrong%u.test", port);
        rc = fixture_leaf(fx, stem, names, 1, 90, false, true, e->served_sha256, &e->not_after);
        break;
    case FX_OTHER_CERT: /* the expected one exists but is not served */
        snprintf(other, sizeof other, "x%u", port);
        rc = fixture_leaf(fx, other, names, 1, 90, false, true, e->expected_sha256, NULL);
        if (rc == 0)
            rc = fixture_leaf(fx, stem, names, 1, 90, false, true, e->served_sha256, &e->not_after);
        return rc;
    case FX_PLAIN_HTTP:
    case FX_CLOSE_AT_ONCE: e->status = ADAPTER_PROBE_HANDSHAKE_FAILED; goto no_tls;
    case FX_REFUSED: e->status = ADAPTER_PROBE_REFUSED; goto no_tls;
    case FX_BACKLOG_FULL: e->status = ADAPTER_PROBE_CONNECT_TIMEOUT; goto no_tls;
    case FX_SILENT: e->status = ADAPTER_PROBE_HANDSHAKE_TIMEOUT; goto no_tls;
    default:
        e->tls_version = kind == FX_TLS10   ? 0x0301
                         : kind == FX_TLS11 ? 0x0302
                         : kind == FX_TLS12 ? 0x0303
                                            : 0x0304;
        rc = fixture_leaf(fx, stem, names, 1, 90, false, true, e->served_sha256, &e->not_after);
        break;
    }
    memcpy(e->expected_sha256, e->served_sha256, sizeof e->expected_sha256);
    return rc;
no_tls:
    e->tls_version = 0;
    e->chain_len = 0;
    e->name_match = e->chain_valid = ADAPTER_PROBE_NOT_CHECKED;
    return 0;
}

static void server_block(FILE *f, const fixture *fx, const fixture_endpoint *e)
{
    const char *stem = e->kind == FX_SNI_ALT ? "a" : "c";

    if (e->kind == FX_PLAIN_HTTP) {
        fprintf(f, "server { listen %s:%u; return 400; }\n", e->address, e->port);
        return;
    }
    fprintf(f, "server { listen %s%s%s:%u ssl; server_name %s;\n", e->kind == FX_IPV6 ? "[" : "",
            e->address, e->kind == FX_IPV6 ? "]" : "", e->port, e->sni);
    fprintf(f, "  ssl_certificate %s/%s%u.pem; ssl_certificate_key %s/%s%u.key;\n", fx->dir, stem,
            e->port, fx->dir, stem, e->port);
    if (e->kind == FX_TLS10 || e->kind == FX_TLS11)
        fprintf(f, "  ssl_protocols %s; ssl_ciphers DEFAULT:@SECLEVEL=0;\n",
                e->kind == FX_TLS10 ? "TLSv1" : "TLSv1.1");
    else if (e->kind == FX_TLS12)
        fprintf(f, "  ssl_protocols TLSv1.2;\n");
    fprintf(f, "  return 204; }\n");
}

static int write_nginx_conf(const fixture *fx, const fixture_options *o, const char *path)
{
    FILE *f = fopen(path, "w");

    if (f == NULL) {
        perror(path);
        return -1;
    }
    fprintf(f, "daemon off;\nmaster_process on;\nworker_processes %d;\n",
            o->nginx_workers > 0 ? o->nginx_workers : 1);
    fprintf(f, "worker_rlimit_nofile %zu;\npid %s/nginx.pid;\nerror_log %s/error.log error;\n",
            o->n_blocks * 2 + 4096, fx->dir, fx->dir);
    fprintf(f, "events { worker_connections %zu; }\n", o->n_blocks + 4096);
    fprintf(f, "http {\n  access_log off;\n  ssl_session_cache off;\n  ssl_session_tickets off;\n"
               "  ssl_protocols TLSv1.2 TLSv1.3;\n");
    fprintf(f,
            "  client_body_temp_path %s/t1; proxy_temp_path %s/t2; fastcgi_temp_path %s/t3;\n"
            "  uwsgi_temp_path %s/t4; scgi_temp_path %s/t5;\n",
            fx->dir, fx->dir, fx->dir, fx->dir, fx->dir);
    for (size_t i = 0; i < fx->n; i++)
        if (!own_listener(fx->endpoints[i].kind))
            server_block(f, fx, &fx->endpoints[i]);
    fprintf(f, "}\n");
    return fclose(f) == 0 ? 0 : -1;
}

int fixture_sweep_start(fixture *fx, const fixture_options *o)
{
    size_t n_ports, alt_a, alt_b, n = 0;
    fixture_kind *kinds = layout(o, &n_ports, &alt_a, &alt_b);
    char conf[400], log[400];
    char *argv[] = {NGINX, "-p", fx->dir, "-c", conf, NULL};
    double t0 = fixture_seconds();
    uint16_t first_v4 = 0, last_v4 = 0;

    if (kinds == NULL || (size_t)o->base_port + n_ports > 65536)
        return -1;
    if (access(NGINX, X_OK) != 0) {
        fprintf(stderr, "fixture: %s is missing: run tools/install-deps test (nginx-light)\n",
                NGINX);
        free(kinds);
        return -1;
    }
    fx->endpoints = calloc(n_ports + N_SNI_ALT, sizeof *fx->endpoints);
    for (size_t i = 0; fx->endpoints != NULL && i < n_ports; i++) {
        uint16_t port = (uint16_t)(o->base_port + i);
        if (make_endpoint(fx, &fx->endpoints[n++], kinds[i], port, false) != 0)
            goto fail;
        if ((i == alt_a || i == alt_b) &&
            make_endpoint(fx, &fx->endpoints[n++], FX_GOOD, port, true) != 0)
            goto fail;
        if (kinds[i] != FX_IPV6 && !own_listener(kinds[i]) && kinds[i] != FX_PLAIN_HTTP) {
            first_v4 = first_v4 ? first_v4 : port;
            last_v4 = port;
        }
    }
    fx->n = n;
    free(kinds);
    kinds = NULL;
    snprintf(conf, sizeof conf, "%s/nginx.conf", fx->dir);
    snprintf(log, sizeof log, "%s/nginx.out", fx->dir);
    if (fx->endpoints == NULL || write_nginx_conf(fx, o, conf) != 0)
        goto fail;
    fx->generate_seconds = fixture_seconds() - t0;
    t0 = fixture_seconds();
    if ((fx->nginx = fixture_spawn(argv, log)) < 0 ||
        fixture_wait_port("127.0.0.1", first_v4, 120000) != 0 ||
        fixture_wait_port("127.0.0.1", last_v4, 120000) != 0) {
        fprintf(stderr, "fixture: nginx did not start; see %s and %s/error.log\n", log, fx->dir);
        goto fail;
    }
    fx->start_seconds = fixture_seconds() - t0;
    return fixture_bad_listeners(fx);
fail:
    free(kinds);
    return -1;
}
