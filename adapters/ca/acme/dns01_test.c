/*
 * adapters/ca/acme/dns01_test.c: the dns-01 solver end to end, started by dns01_test.sh:
 * Debian's bind9 serves example.test on 127.0.0.1:DNS01_DNS_PORT
 * (lib/dnsupdate/testdata/dns_test_server.sh, keys and grants there) and Debian's pebble
 * validates dns-01 by asking that bind9 (-dnsserver). The ACME adapter issues through
 * the solver, which adds and deletes the TXT records with clm's own RFC 2136 updates;
 * `dig` (bind9's client) then proves every record gone. Also: the connector fields
 * checked, a wildcard with its base name (two values at one name), two orders for one
 * name at once, a refused key, a name not granted, a server that does not answer.
 *
 * Environment (dns01_test.sh): ACME_URL, ACME_CA_FILE (the root of pebble's TLS
 * certificate), DNS01_DNS_PORT, DNS01_DNS_DIR (the named directory: keys' secrets).
 */
#include "adapters/ca/acme/acme.h"
#include "adapters/ca/fields.h"
#include "adapters/ca/acme/testing.h"
#include "adapters/ca/memory_state.h"
#include "lib/base/buf.h"
#include "lib/dnsupdate/dns_test_server.h"
#include "lib/pki/csr.h"
#include "lib/pki/key.h"
#include "tests/unit.h"

#include <openssl/x509v3.h>
#include <pthread.h>

static const char *acme_url, *ca_file;
static dns_test_server dns; /* started by the script: only port and dir are set */
static char dns_server[32], secret[256];

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A dns-01 connector on pebble with the test's bind9 and the clm-key key. */
static void connector_dns01(connector *c)
{
    memset(c, 0, sizeof *c);
    ca_memory_state_init(&c->state);
    connector_field(c, "directory_url", acme_url);
    connector_field(c, "ca_file", ca_file);
    connector_field(c, "terms_agreed", "true");
    connector_field(c, "challenge_type", "dns-01");
    connector_field(c, "dns_server", dns_server);
    connector_field(c, "tsig_name", "clm-key");
}

static clm_err connector_open(connector *c)
{
    adapter_fields f = {c->v, c->n};
    adapter_ca_config config = {.connector = "dns01-test", .fields = f, .state = &c->state.state};
    clm_err err = ca_acme_ops.check_fields(&f, false);

    if (err != CLM_OK)
        return err;
    return ca_acme_ops.open(&config, &c->ca);
}

/* Submit a CSR for names (the first also its CN); the result kept in r. */
static adapter_ca_outcome issue(connector *c, const char *sans, const char *cn,
                                adapter_ca_result *r)
{
    pki_csr_fields fields = {.common_name = cn, .sans = sans, .hash = PKI_HASH_SHA256};
    clm_buf csr = CLM_BUF_INIT;
    EVP_PKEY *key = NULL;
    clm_err err;

    memset(r, 0, sizeof *r);
    if (pki_key_generate(PKI_KEY_EC_P256, &key) != CLM_OK ||
        pki_csr_build(&fields, NULL, key, &csr) != CLM_OK) {
        fprintf(stderr, "csr: %s\n", clm_error_message());
        EVP_PKEY_free(key);
        clm_buf_free(&csr);
        return ADAPTER_CA_OUTCOME_MAX;
    }
    err = ca_acme_ops.submit(c->ca, &(adapter_ca_request){.csr = csr.data, .csr_len = csr.len}, r);
    EVP_PKEY_free(key);
    clm_buf_free(&csr);
    if (err != CLM_OK) {
        fprintf(stderr, "submit: %s\n", clm_error_message());
        return ADAPTER_CA_OUTCOME_MAX;
    }
    if (r->outcome != ADAPTER_CA_ISSUED)
        fprintf(stderr, "submit: %s: %s\n", adapter_ca_outcome_name(r->outcome), r->reason);
    return r->outcome;
}

/* Whether the issued certificate names dns (a DNS subjectAltName). */
static bool cert_names(const adapter_ca_result *r, const char *dns_name)
{
    const unsigned char *p = r->cert.data;
    X509 *x = d2i_X509(NULL, &p, (long)r->cert.len);
    bool found =
        x != NULL && X509_check_host(x, dns_name, 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1;

    X509_free(x);
    return found;
}

static const char *txt_of(const char *name)
{
    static char bufs[4][2048];
    static int next;
    char *b = bufs[next++ % 4];

    if (!dns_test_dig_txt(&dns, name, b, sizeof bufs[0]))
        snprintf(b, sizeof bufs[0], "(dig failed)");
    return b;
}

/* ---- the connector fields, without the network ---------------------------------------- */

UNIT_TEST(check_fields)
{
    struct {
        const char *name, *value; /* replaces or adds one field to a good dns-01 set */
        const char *want;         /* NULL: accepted */
    } rows[] = {
        {NULL, NULL, NULL},
        {"dns_zone", "example.test", NULL},
        {"tsig_algorithm", "hmac-sha512", NULL},
        {"dns_server", "[::1]:53", NULL},
        {"dns_server", NULL, "config.fields.dns_server: required with challenge_type dns-01"},
        {"tsig_name", NULL, "config.fields.tsig_name: required with challenge_type dns-01"},
        {"tsig_secret", NULL, "config.fields.tsig_secret: required with challenge_type dns-01"},
        {"dns_server", "ns1.example.test", "config.fields.dns_server: \"ns1.example.test\" is not"},
        {"dns_server", "127.0.0.1:99999", "config.fields.dns_server: "},
        {"dns_zone", "bad zone", "config.fields.dns_zone: "},
        {"tsig_name", "bad key!", "config.fields.tsig_name: "},
        {"tsig_secret", "not base64!", "config.fields.tsig_secret: not base64"},
        {"tsig_algorithm", "hmac-sha384", "config.fields.tsig_algorithm: "},
        {"tsig_algorithm", "hmac-md5", "config.fields.tsig_algorithm: "},
    };

    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        connector c;
        adapter_fields f;
        bool replaced = false;
        clm_err err;

        connector_dns01(&c);
        connector_field(&c, "tsig_secret", secret);
        for (size_t k = 0; rows[i].name != NULL && k < c.n; k++) {
            if (strcmp(c.v[k].name, rows[i].name) != 0)
                continue;
            replaced = true;
            if (rows[i].value != NULL)
                c.v[k].value = rows[i].value;
            else
                c.v[k] = c.v[--c.n]; /* drop it */
            break;
        }
        if (rows[i].name != NULL && !replaced)
            connector_field(&c, rows[i].name, rows[i].value);
        f = (adapter_fields){c.v, c.n};
        err = ca_acme_ops.check_fields(&f, false);
        if (rows[i].want == NULL) {
            CHECK_INT_EQ(err, CLM_OK);
        } else {
            CHECK_INT_EQ(err, CLM_ERR_INVALID_ARGUMENT);
            CHECK_STR_CONTAINS(clm_error_message(), rows[i].want);
            if (strncmp(clm_error_message(), rows[i].want, strlen(rows[i].want)) != 0)
                fprintf(stderr, "row %zu: %s\n", i, clm_error_message());
        }
        CHECK(strstr(clm_error_message(), secret) == NULL);
        ca_memory_state_free(&c.state);
    }
}

/* ---- issuing through bind9 ------------------------------------------------------------- */

UNIT_TEST(issue_one_name)
{
    connector c;
    adapter_ca_result r;
    int64_t start;

    connector_dns01(&c);
    connector_field(&c, "tsig_secret", secret);
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    if (c.ca == NULL)
        return;
    /* The zone is found by the SOA walk (no dns_zone). */
    CHECK_STR_EQ(txt_of("_acme-challenge.dns01-a.example.test"), "");
    start = now_ms();
    CHECK_INT_EQ(issue(&c, "dns01-a.example.test", "dns01-a.example.test", &r), ADAPTER_CA_ISSUED);
    printf("dns-01 issuance against pebble and bind9: %lld ms (account included)\n",
           (long long)(now_ms() - start));
    CHECK(cert_names(&r, "dns01-a.example.test"));
    CHECK(r.chain_len >= 1);
    adapter_ca_result_free(&r);
    /* Cleaned up: bind9 holds no challenge record any more. */
    CHECK_STR_EQ(txt_of("_acme-challenge.dns01-a.example.test"), "");
    /* Again on the same account: the second order. */
    start = now_ms();
    CHECK_INT_EQ(issue(&c, "dns01-a.example.test", "dns01-a.example.test", &r), ADAPTER_CA_ISSUED);
    printf("dns-01 issuance, account known: %lld ms\n", (long long)(now_ms() - start));
    adapter_ca_result_free(&r);
    CHECK_STR_EQ(txt_of("_acme-challenge.dns01-a.example.test"), "");
    connector_free(&c);
}

UNIT_TEST(issue_wildcard)
{
    connector c;
    adapter_ca_result r;

    /* "*.x" and "x" are validated at one name: two TXT values there at once. */
    connector_dns01(&c);
    connector_field(&c, "tsig_secret", secret);
    connector_field(&c, "dns_zone", "example.test");
    connector_field(&c, "tsig_algorithm", "hmac-sha256");
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    if (c.ca == NULL)
        return;
    CHECK_INT_EQ(
        issue(&c, "dns01-b.example.test, *.dns01-b.example.test", "dns01-b.example.test", &r),
        ADAPTER_CA_ISSUED);
    CHECK(cert_names(&r, "dns01-b.example.test"));
    adapter_ca_result_free(&r);
    CHECK_STR_EQ(txt_of("_acme-challenge.dns01-b.example.test"), "");
    connector_free(&c);
}

typedef struct parallel_order {
    connector *c;
    adapter_ca_outcome outcome;
} parallel_order;

static void *issue_thread(void *arg)
{
    parallel_order *o = arg;
    adapter_ca_result r;

    o->outcome = issue(o->c, "dns01-c.example.test", "dns01-c.example.test", &r);
    adapter_ca_result_free(&r);
    return NULL;
}

UNIT_TEST(two_orders_one_name)
{
    connector c;
    parallel_order orders[3];
    pthread_t threads[3];

    /* Orders for one name in flight together on one connector: each cleanup deletes its
     * own value only, so no order loses the record another still needs. */
    connector_dns01(&c);
    connector_field(&c, "tsig_secret", secret);
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    if (c.ca == NULL)
        return;
    for (int i = 0; i < 3; i++) {
        orders[i] = (parallel_order){.c = &c, .outcome = ADAPTER_CA_OUTCOME_MAX};
        CHECK(pthread_create(&threads[i], NULL, issue_thread, &orders[i]) == 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(threads[i], NULL);
        CHECK_INT_EQ(orders[i].outcome, ADAPTER_CA_ISSUED);
    }
    CHECK_STR_EQ(txt_of("_acme-challenge.dns01-c.example.test"), "");
    connector_free(&c);
}

UNIT_TEST(refused)
{
    static const char wrong[] = "dGhpcyBpcyBub3QgdGhlIHJpZ2h0IGtleSBhdCBhbGwhIQ==";
    connector c;
    adapter_ca_result r;

    /* The wrong secret: bind9 answers BADSIG; the order ends unconfigured, the message
     * names the field to look at and holds neither secret. */
    connector_dns01(&c);
    connector_field(&c, "tsig_secret", wrong);
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    if (c.ca == NULL)
        return;
    CHECK_INT_EQ(issue(&c, "dns01-a.example.test", "dns01-a.example.test", &r),
                 ADAPTER_CA_UNCONFIGURED);
    CHECK_STR_CONTAINS(r.reason, "fields.tsig_name");
    CHECK_STR_CONTAINS(r.reason, "BADSIG");
    CHECK(strstr(r.reason, wrong) == NULL && strstr(r.reason, secret) == NULL);
    adapter_ca_result_free(&r);
    connector_free(&c);

    /* The right key on a name it is not granted. */
    connector_dns01(&c);
    connector_field(&c, "tsig_secret", secret);
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    if (c.ca == NULL)
        return;
    CHECK_INT_EQ(issue(&c, "dns01-x.example.test", "dns01-x.example.test", &r),
                 ADAPTER_CA_UNCONFIGURED);
    CHECK_STR_CONTAINS(r.reason, "REFUSED");
    CHECK(strstr(r.reason, secret) == NULL);
    adapter_ca_result_free(&r);
    CHECK_STR_EQ(txt_of("_acme-challenge.dns01-x.example.test"), "");
    connector_free(&c);
}

UNIT_TEST(server_down)
{
    connector c;
    adapter_ca_result r;
    char server[32];

    /* Nobody on the port: unreachable, to be retried (not unconfigured). */
    snprintf(server, sizeof server, "127.0.0.1:%d", dns_test_free_port());
    connector_dns01(&c);
    c.v[4].value = server; /* dns_server */
    connector_field(&c, "tsig_secret", secret);
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    if (c.ca == NULL)
        return;
    CHECK_INT_EQ(issue(&c, "dns01-a.example.test", "dns01-a.example.test", &r),
                 ADAPTER_CA_UNREACHABLE);
    CHECK_STR_CONTAINS(r.reason, "fields.dns_server");
    adapter_ca_result_free(&r);
    connector_free(&c);
}

int main(void)
{
    const char *port = getenv("DNS01_DNS_PORT"), *dir = getenv("DNS01_DNS_DIR");

    acme_url = getenv("ACME_URL");
    ca_file = getenv("ACME_CA_FILE");
    if (acme_url == NULL || ca_file == NULL || port == NULL || dir == NULL) {
        CHECK(!"run by dns01_test.sh, which starts bind9 and pebble");
        return unit_report();
    }
    dns.port = (int)strtol(port, NULL, 10);
    snprintf(dns.dir, sizeof dns.dir, "%s", dir);
    snprintf(dns_server, sizeof dns_server, "127.0.0.1:%d", dns.port);
    if (dns_test_server_secret(&dns, "clm-key", secret, sizeof secret) == NULL) {
        CHECK(!"the clm-key secret is readable");
        return unit_report();
    }
    signal(SIGPIPE, SIG_IGN);
    UNIT_RUN(check_fields);
    UNIT_RUN(issue_one_name);
    UNIT_RUN(issue_wildcard);
    UNIT_RUN(two_orders_one_name);
    UNIT_RUN(refused);
    UNIT_RUN(server_down);
    return unit_report();
}
