/*
 * tests/tls/fixture_serve.c: the sweep fixture (fixture.h) as a process, for tests that
 * drive the real clmd from another language (tests/integration/endpoints_test.py).
 *
 *   fixture_serve BLOCKS BASE_PORT MANIFEST
 *
 * Starts nginx-light with BLOCKS server blocks from BASE_PORT plus the wrong endpoints,
 * in the caller's network namespace (the caller isolates itself: tools/test runs the
 * tests under `unshare -n`), writes MANIFEST (JSON: the trust anchor, and for every
 * endpoint its kind, address, port, SNI, the leaf a validator expects and its PEM file,
 * the leaf served, and the probe status it must get), then serves until its standard
 * input closes, and tears everything down.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/tls/fixture.h"

/* The PEM file of an endpoint's expected leaf (fixture_sweep.c's stems), "" when none. */
static void expected_pem(const fixture *fx, const fixture_endpoint *e, char *out, size_t size)
{
    const char *stem = e->kind == FX_SNI_ALT ? "a" : e->kind == FX_OTHER_CERT ? "x" : "c";

    if (e->expected_sha256[0] == '\0')
        snprintf(out, size, "%s", "");
    else
        snprintf(out, size, "%s/%s%u.pem", fx->dir, stem, e->port);
}

static int write_manifest(const fixture *fx, const char *path)
{
    char tmp[512], pem[400];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if ((f = fopen(tmp, "w")) == NULL) {
        perror(tmp);
        return -1;
    }
    fprintf(f, "{\"ca_file\": \"%s\", \"dir\": \"%s\", \"now\": %lld, \"endpoints\": [\n",
            fx->ca_file, fx->dir, (long long)fx->now);
    for (size_t i = 0; i < fx->n; i++) {
        const fixture_endpoint *e = &fx->endpoints[i];
        expected_pem(fx, e, pem, sizeof pem);
        fprintf(f,
                "  {\"kind\": \"%s\", \"address\": \"%s\", \"port\": %u, \"sni\": \"%s\", "
                "\"expected_sha256\": \"%s\", \"expected_pem\": \"%s\", \"served_sha256\": \"%s\", "
                "\"status\": \"%s\"}%s\n",
                fixture_kind_name(e->kind), e->address, e->port, e->sni, e->expected_sha256, pem,
                e->served_sha256, adapter_probe_status_name(e->status), i + 1 < fx->n ? "," : "");
    }
    fprintf(f, "]}\n");
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    fixture fx;
    fixture_options o = {0};
    char buf[64];
    int rc = 1;

    if (argc != 4) {
        fprintf(stderr, "usage: fixture_serve BLOCKS BASE_PORT MANIFEST\n");
        return 2;
    }
    memset(&fx, 0, sizeof fx);
    o.n_blocks = (size_t)strtoul(argv[1], NULL, 10);
    o.base_port = (uint16_t)strtoul(argv[2], NULL, 10);
    o.with_bad = true;
    if (fixture_init(&fx) == 0 && fixture_sweep_start(&fx, &o) == 0 &&
        write_manifest(&fx, argv[3]) == 0) {
        rc = 0;
        while (read(0, buf, sizeof buf) > 0)
            ;
    }
    fixture_teardown(&fx);
    return rc;
}
