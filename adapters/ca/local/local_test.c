/* adapters/ca/local/local_test.c: the local CA, checked with the real openssl CLI:
 * issued certificates verify with `openssl verify`, `openssl x509 -text` shows what the
 * profile gives, the CRL verifies with `openssl crl -verify` and lists the revoked
 * serials with their reasons; bad input gives a clear answer and changes nothing. */
#include "adapters/adapter.h"
#include "adapters/ca/fields.h"
#include "adapters/ca/local/local.h"
#include "adapters/ca/memory_state.h"
#include "lib/base/buf.h"
#include "lib/base/clock.h"
#include "lib/pki/cert.h"
#include "lib/pki/csr.h"
#include "lib/pki/facts.h"
#include "lib/pki/key.h"
#include "tests/unit.h"

#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char dir[512];
static clm_clock_fake fake;

/* ---- helpers ------------------------------------------------------------------------- */

/* Run argv (PATH lookup), stdout and stderr into out; the exit status, or -1. */
static int run(const char *const argv[], clm_buf *out)
{
    int fds[2], status = -1;
    posix_spawn_file_actions_t actions;
    pid_t pid;
    char chunk[4096];
    ssize_t got;

    clm_buf_reset(out);
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    if (posix_spawnp(&pid, argv[0], &actions, NULL, (char *const *)argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    while ((got = read(fds[0], chunk, sizeof chunk)) > 0)
        clm_buf_append(out, chunk, (size_t)got);
    close(fds[0]);
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *path(const char *name)
{
    static char p[64][640];
    static int next;
    char *slot = p[next++ % 64];

    snprintf(slot, sizeof p[0], "%s/%s", dir, name);
    return slot;
}

static void write_file(const char *name, const void *data, size_t len)
{
    FILE *f = fopen(path(name), "wb");

    CHECK(f != NULL);
    if (f == NULL)
        return;
    CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
}

static void read_file(const char *name, clm_buf *out)
{
    FILE *f = fopen(path(name), "rb");
    char chunk[4096];
    size_t got;

    clm_buf_reset(out);
    CHECK(f != NULL);
    if (f == NULL)
        return;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        clm_buf_append(out, chunk, got);
    fclose(f);
}

/* DER certificate to a PEM file. */
static void write_cert_pem(const char *name, const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    clm_buf pem = CLM_BUF_INIT;

    CHECK(x != NULL);
    if (x != NULL && pki_cert_to_pem(x, &pem) == CLM_OK)
        write_file(name, pem.data, pem.len);
    X509_free(x);
    clm_buf_free(&pem);
}

/* A CSR (PEM) for a new key of the given type. */
static void make_csr(pki_key_type type, const char *cn, const char *sans, clm_buf *csr)
{
    EVP_PKEY *key = NULL;
    pki_csr_fields f = {.common_name = cn, .sans = sans, .hash = PKI_HASH_SHA256};

    clm_buf_reset(csr);
    CHECK_INT_EQ(pki_key_generate(type, &key), CLM_OK);
    CHECK_INT_EQ(pki_csr_build(&f, NULL, key, csr), CLM_OK);
    EVP_PKEY_free(key);
}

static adapter_ca *open_ca(ca_memory_state *state, const adapter_field_value *fields, size_t n)
{
    adapter_ca_config config = {.connector = "test-ca", .fields = {fields, n},
                                .state = &state->state, .clock = &fake.clock};
    adapter_ca *ca = NULL;
    clm_err err = ca_local_ops.open(&config, &ca);

    if (err != CLM_OK)
        fprintf(stderr, "open: %s\n", clm_error_message());
    CHECK_INT_EQ(err, CLM_OK);
    return ca;
}

static adapter_ca_outcome submit(adapter_ca *ca, const clm_buf *csr, const char *profile,
                                 const char *days, adapter_ca_result *r)
{
    adapter_field_value v[2];
    size_t n = 0;
    adapter_ca_request req;

    if (profile)
        v[n++] = (adapter_field_value){"profile", profile};
    if (days)
        v[n++] = (adapter_field_value){"validity_days", days};
    req = (adapter_ca_request){.csr = csr->data, .csr_len = csr->len, .fields = {v, n}};
    adapter_ca_result_free(r);
    CHECK_INT_EQ(ca_local_ops.submit(ca, &req, r), CLM_OK);
    return r->outcome;
}

/* Write root.pem, inter.pem (the chain of the state) and NAME (the leaf). */
static void write_issued(const adapter_ca_result *r, const char *leaf)
{
    CHECK(r->chain_len >= 2);
    write_cert_pem(leaf, r->cert.data, r->cert.len);
    if (r->chain_len >= 2) {
        write_cert_pem("inter.pem", r->chain[0].data, r->chain[0].len);
        write_cert_pem("root.pem", r->chain[r->chain_len - 1].data,
                       r->chain[r->chain_len - 1].len);
    }
}

static int openssl_verify(const char *leaf, const char *purpose, clm_buf *out)
{
    const char *argv[] = {"openssl", "verify", "-CAfile", path("root.pem"), "-untrusted",
                          path("inter.pem"), purpose ? "-purpose" : leaf, purpose, leaf, NULL};
    if (purpose == NULL)
        argv[7] = NULL;
    return run(argv, out);
}

static void x509_text(const char *file, clm_buf *out)
{
    const char *argv[] = {"openssl", "x509", "-in", path(file), "-noout", "-text", NULL};
    CHECK_INT_EQ(run(argv, out), 0);
}

/* ---- tests ----------------------------------------------------------------------------- */

UNIT_TEST(test_unconfigured)
{
    ca_memory_state state;
    adapter_ca *ca;
    adapter_ca_result r = {0};
    adapter_ca_revocation rev = {.serial = "01"};
    clm_buf csr = CLM_BUF_INIT, crl = CLM_BUF_INIT;

    ca_memory_state_init(&state);
    ca = open_ca(&state, NULL, 0);
    make_csr(PKI_KEY_EC_P256, "a.example.com", NULL, &csr);
    CHECK_INT_EQ(submit(ca, &csr, NULL, NULL, &r), ADAPTER_CA_UNCONFIGURED);
    CHECK_STR_CONTAINS(r.reason, "no CA key yet");
    adapter_ca_result_free(&r);
    CHECK_INT_EQ(ca_local_ops.revoke(ca, &rev, &r), CLM_OK);
    CHECK_INT_EQ(r.outcome, ADAPTER_CA_UNCONFIGURED);
    adapter_ca_result_free(&r);
    CHECK_INT_EQ(ca_local_ops.crl(ca, &crl), CLM_ERR_UNAVAILABLE);
    CHECK_INT_EQ(ca_local_ops.poll(ca, "x", &r), CLM_OK);
    CHECK_INT_EQ(r.outcome, ADAPTER_CA_UNSUPPORTED);
    adapter_ca_result_free(&r);
    CHECK_INT_EQ(state.puts, 0);
    ca_local_ops.close(ca);

    /* a key without its chain is damage, not "not set up" */
    {
        adapter_ca_state_item key = {.name = "key", .data = "x", .len = 1, .secret = true};
        adapter_ca_config config = {.connector = "damaged", .state = &state.state,
                                    .clock = &fake.clock};
        CHECK_INT_EQ(state.state.put(state.state.ctx, &key, 1), CLM_OK);
        ca = NULL;
        CHECK_INT_EQ(ca_local_ops.open(&config, &ca), CLM_ERR_STORE);
        CHECK_STR_CONTAINS(clm_error_message(), "local CA \"damaged\": state: a CA key without its chain");
        CHECK(ca == NULL);
    }
    ca_memory_state_free(&state);
    clm_buf_free(&csr);
    clm_buf_free(&crl);
}

/* Create (per key type), issue a server certificate, check it with the CLI. */
static void create_and_issue(pki_key_type type)
{
    static const adapter_field_value config[] = {
        {"crl_url", "http://pki.example.com/test.crl"},
        {"ocsp_url", "http://ocsp.example.com"},
        {"issuer_url", "http://pki.example.com/inter.crt"},
    };
    ca_local_create_params params = {.key_type = type, .root_cn = "clm test root",
                                     .intermediate_cn = "clm test issuing CA",
                                     .organization = "clm"};
    ca_memory_state state;
    adapter_ca *ca;
    adapter_ca_result r = {0}, r2 = {0};
    clm_buf csr = CLM_BUF_INIT, out = CLM_BUF_INIT;
    pki_facts *leaf = NULL, *inter = NULL;
    int64_t nb = 0, na = 0;
    char leaf_pem[640], when[64];

    fprintf(stderr, "-- %s\n", pki_key_type_name(type));
    snprintf(leaf_pem, sizeof leaf_pem, "%s", path("leaf.pem"));
    ca_memory_state_init(&state);
    CHECK_INT_EQ(ca_local_create(&params, &state.state, &fake.clock), CLM_OK);
    CHECK(ca_memory_state_item(&state, "key") != NULL);
    CHECK(state.items[0].secret); /* "key" is the first item written, and secret */
    ca = open_ca(&state, config, 3);
    make_csr(PKI_KEY_EC_P256, "www.example.com", "www.example.com, example.com, 192.0.2.10",
             &csr);
    CHECK_INT_EQ(submit(ca, &csr, "server", "90", &r), ADAPTER_CA_ISSUED);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "issued");
    CHECK_INT_EQ(r.chain_len, 2);
    write_issued(&r, "leaf.pem");

    CHECK_INT_EQ(openssl_verify(leaf_pem, NULL, &out), 0);
    CHECK_STR_CONTAINS(clm_buf_str(&out), "leaf.pem: OK");
    CHECK_INT_EQ(openssl_verify(leaf_pem, "sslserver", &out), 0);
    CHECK_INT_EQ(openssl_verify(leaf_pem, "sslclient", &out), 2); /* server profile only */

    x509_text("leaf.pem", &out);
    CHECK_STR_CONTAINS(clm_buf_str(&out), "X509v3 Key Usage: critical\n                Digital Signature\n");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "X509v3 Extended Key Usage: \n                TLS Web Server Authentication\n");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "X509v3 Basic Constraints: critical\n                CA:FALSE");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "DNS:www.example.com, DNS:example.com, IP Address:192.0.2.10");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "OCSP - URI:http://ocsp.example.com");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "CA Issuers - URI:http://pki.example.com/inter.crt");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "URI:http://pki.example.com/test.crl");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "Issuer: O = clm, CN = clm test issuing CA");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "Subject: CN = www.example.com");

    /* validity from the injected clock: 90 days, backdated by 5 minutes */
    CHECK_INT_EQ(pki_facts_from_der(r.cert.data, r.cert.len, &leaf), CLM_OK);
    CHECK_INT_EQ(pki_facts_from_der(r.chain[0].data, r.chain[0].len, &inter), CLM_OK);
    if (leaf != NULL && inter != NULL) {
        nb = leaf->not_before;
        na = leaf->not_after;
        CHECK_INT_EQ(nb, clm_clock_now_ns(&fake.clock) / CLM_NS_PER_SEC - PKI_CERT_BACKDATE_SECONDS);
        CHECK_INT_EQ(na - nb, 90 * 86400 + PKI_CERT_BACKDATE_SECONDS);
        CHECK_STR_EQ(leaf->authority_key_id, inter->subject_key_id);
        CHECK(leaf->subject_key_id != NULL);
        CHECK_STR_EQ(leaf->serial, r.serial);
        /* 128 random bits as a positive INTEGER: at most 16 bytes of magnitude */
        CHECK(strlen(leaf->serial) <= 32 && strlen(leaf->serial) >= 16 && leaf->serial[0] != '-');
        CHECK_INT_EQ(inter->path_len, 0);
        CHECK(inter->is_ca);
    }
    {
        const char *argv[] = {"openssl", "x509", "-in", leaf_pem, "-noout", "-enddate", NULL};
        time_t t = (time_t)na;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "notAfter=%b %e %H:%M:%S %Y GMT", &tm);
        CHECK_INT_EQ(run(argv, &out), 0);
        CHECK_STR_CONTAINS(clm_buf_str(&out), when);
    }
    /* a second certificate: another serial */
    CHECK_INT_EQ(submit(ca, &csr, "server", NULL, &r2), ADAPTER_CA_ISSUED);
    CHECK(r.serial && r2.serial && strcmp(r.serial, r2.serial) != 0);

    pki_facts_free(leaf);
    pki_facts_free(inter);
    adapter_ca_result_free(&r);
    adapter_ca_result_free(&r2);
    ca_local_ops.close(ca);
    ca_memory_state_free(&state);
    clm_buf_free(&csr);
    clm_buf_free(&out);
}

UNIT_TEST(test_create_and_issue)
{
    create_and_issue(PKI_KEY_EC_P256);
    create_and_issue(PKI_KEY_EC_P384);
    create_and_issue(PKI_KEY_RSA_2048);
}

/* A CA set up in a fresh state: created with the defaults. */
static adapter_ca *created_ca(ca_memory_state *state, int intermediate_days)
{
    ca_local_create_params params = {.key_type = PKI_KEY_EC_P256, .root_cn = "root",
                                     .intermediate_cn = "issuing",
                                     .intermediate_days = intermediate_days};

    ca_memory_state_init(state);
    CHECK_INT_EQ(ca_local_create(&params, &state->state, &fake.clock), CLM_OK);
    return open_ca(state, NULL, 0);
}

UNIT_TEST(test_profiles)
{
    ca_memory_state state;
    adapter_ca *ca = created_ca(&state, 0);
    adapter_ca_result r = {0};
    clm_buf csr = CLM_BUF_INIT, out = CLM_BUF_INIT;

    /* client: clientAuth only, EC: no keyEncipherment */
    make_csr(PKI_KEY_EC_P256, "alice", NULL, &csr);
    CHECK_INT_EQ(submit(ca, &csr, "client", NULL, &r), ADAPTER_CA_ISSUED);
    write_issued(&r, "client.pem");
    CHECK_INT_EQ(openssl_verify(path("client.pem"), "sslclient", &out), 0);
    x509_text("client.pem", &out);
    CHECK_STR_CONTAINS(clm_buf_str(&out), "TLS Web Client Authentication");
    CHECK(strstr(clm_buf_str(&out), "TLS Web Server Authentication") == NULL);
    CHECK(strstr(clm_buf_str(&out), "Subject Alternative Name") == NULL);
    CHECK(strstr(clm_buf_str(&out), "Key Encipherment") == NULL);

    /* server-client, RSA key: keyEncipherment added, both EKUs */
    make_csr(PKI_KEY_RSA_2048, "both.example.com", "both.example.com", &csr);
    CHECK_INT_EQ(submit(ca, &csr, "server-client", "397", &r), ADAPTER_CA_ISSUED);
    write_issued(&r, "both.pem");
    CHECK_INT_EQ(openssl_verify(path("both.pem"), "sslserver", &out), 0);
    CHECK_INT_EQ(openssl_verify(path("both.pem"), "sslclient", &out), 0);
    x509_text("both.pem", &out);
    CHECK_STR_CONTAINS(clm_buf_str(&out), "Digital Signature, Key Encipherment");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "TLS Web Server Authentication, TLS Web Client Authentication");

    /* server without SANs: the CN becomes the SAN */
    make_csr(PKI_KEY_EC_P256, "cn-only.example.com", NULL, &csr);
    CHECK_INT_EQ(submit(ca, &csr, "server", NULL, &r), ADAPTER_CA_ISSUED);
    write_issued(&r, "cn.pem");
    x509_text("cn.pem", &out);
    CHECK_STR_CONTAINS(clm_buf_str(&out), "DNS:cn-only.example.com");

    /* the default profile is server: 90 days */
    CHECK_INT_EQ(submit(ca, &csr, NULL, NULL, &r), ADAPTER_CA_ISSUED);
    {
        pki_facts *f = NULL;
        CHECK_INT_EQ(pki_facts_from_der(r.cert.data, r.cert.len, &f), CLM_OK);
        CHECK(f && f->not_after - f->not_before == 90 * 86400 + PKI_CERT_BACKDATE_SECONDS);
        pki_facts_free(f);
    }

    /* sub-ca under an intermediate with pathLenConstraint 0: rejected */
    CHECK_INT_EQ(submit(ca, &csr, "sub-ca", NULL, &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "pathLenConstraint 0");

    adapter_ca_result_free(&r);
    ca_local_ops.close(ca);
    ca_memory_state_free(&state);
    clm_buf_free(&csr);
    clm_buf_free(&out);
}

/* A CSR made by the openssl CLI with extra request extensions. */
static void cli_csr(const char *key_spec, const char *subj, const char *addext, clm_buf *csr)
{
    const char *argv[] = {"openssl", "req", "-new", "-newkey", key_spec, "-nodes",
                          "-keyout", path("cli.key"), "-subj", subj, "-out", path("cli.csr"),
                          addext ? "-addext" : NULL, addext, NULL};
    clm_buf out = CLM_BUF_INIT;

    CHECK_INT_EQ(run(argv, &out), 0);
    read_file("cli.csr", csr);
    clm_buf_free(&out);
}

UNIT_TEST(test_rejections)
{
    ca_memory_state state;
    adapter_ca *ca = created_ca(&state, 30);
    adapter_ca_result r = {0};
    clm_buf csr = CLM_BUF_INIT, der = CLM_BUF_INIT;
    int puts = state.puts;
    X509_REQ *req = NULL;

    make_csr(PKI_KEY_EC_P256, "www.example.com", "www.example.com", &csr);
    /* a bad signature: one bit of the signature flipped in the DER */
    CHECK_INT_EQ(pki_csr_read(csr.data, csr.len, &req), CLM_OK);
    if (req != NULL) {
        unsigned char *p = NULL;
        int len = i2d_X509_REQ(req, &p);
        CHECK(len > 10);
        if (len > 10) {
            p[len - 5] ^= 0x01;
            clm_buf_append(&der, p, (size_t)len);
        }
        OPENSSL_free(p);
        X509_REQ_free(req);
    }
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "csr: the request's signature does not verify");
    CHECK_INT_EQ(submit(ca, &(clm_buf){(unsigned char *)"junk", 4, 5}, "server", "10", &r),
                 ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "not a certificate request");

    /* validity: over the profile's maximum, and past the issuing CA's end (30 days) */
    CHECK_INT_EQ(submit(ca, &csr, "server", "398", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "398 days asked, profile \"server\" allows at most 397");
    CHECK_INT_EQ(submit(ca, &csr, "client", "397", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "outlive the issuing CA");
    CHECK_INT_EQ(submit(ca, &csr, "server", "29", &r), ADAPTER_CA_ISSUED);

    /* vendor fields: unknown, not allowed */
    {
        adapter_field_value v[] = {{"profile", "server"}, {"colour", "red"}};
        adapter_fields f = {v, 2};
        adapter_ca_request q = {.csr = csr.data, .csr_len = csr.len, .fields = f};
        CHECK_INT_EQ(ca_local_ops.check_fields(&f, true), CLM_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(clm_error_message(), "fields.colour: unknown field");
        adapter_ca_result_free(&r);
        CHECK_INT_EQ(ca_local_ops.submit(ca, &q, &r), CLM_OK);
        CHECK_INT_EQ(r.outcome, ADAPTER_CA_REJECTED);
        CHECK_STR_CONTAINS(r.reason, "fields.colour: unknown field");
    }
    CHECK_INT_EQ(submit(ca, &csr, "root", NULL, &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "fields.profile: \"root\" is not one of server, client");
    {
        adapter_field_value v[] = {{"crl_days", "0"}};
        adapter_fields f = {v, 1};
        CHECK_INT_EQ(ca_local_ops.check_fields(&f, false), CLM_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(clm_error_message(), "config.fields.crl_days: 0 is outside 1..366");
    }

    /* what the CSR asks for, against the profile */
    cli_csr("rsa:2048", "/CN=ca.example.com", "basicConstraints=critical,CA:TRUE", &der);
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "asks for a CA certificate");
    cli_csr("rsa:2048", "/CN=sign.example.com", "extendedKeyUsage=codeSigning", &der);
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "extendedKeyUsage 1.3.6.1.5.5.7.3.3");
    cli_csr("rsa:2048", "/CN=ok.example.com", "extendedKeyUsage=serverAuth", &der);
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_ISSUED);
    cli_csr("rsa:2048", "/CN=ku.example.com", "keyUsage=keyCertSign", &der);
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "keyUsage bit 5");
    cli_csr("rsa:1024", "/CN=weak.example.com", NULL, &der);
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "the CSR's key is not accepted");
    cli_csr("rsa:2048", "/CN=not a host name", NULL, &der);
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "is not a DNS name or IP address");
    cli_csr("rsa:2048", "/CN=x.example.com", "subjectAltName=RID:1.2.3.4", &der);
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "only DNS, IP, email and URI entries");
    cli_csr("rsa:2048", "/CN=x.example.com", "subjectAltName=DNS:bad..example.com", &der);
    CHECK_INT_EQ(submit(ca, &der, "server", "10", &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "subjectAltName[0]");

    /* nothing was written by any of it */
    CHECK_INT_EQ(state.puts, puts);
    adapter_ca_result_free(&r);
    ca_local_ops.close(ca);
    ca_memory_state_free(&state);
    clm_buf_free(&csr);
    clm_buf_free(&der);
}

/* ---- import ---------------------------------------------------------------------------- */

static void cli(const char *const argv[])
{
    clm_buf out = CLM_BUF_INIT;
    int status = run(argv, &out);

    if (status != 0)
        fprintf(stderr, "%s %s: %s\n", argv[0], argv[1], clm_buf_str(&out));
    CHECK_INT_EQ(status, 0);
    clm_buf_free(&out);
}

/* An outside CA made with the CLI: root (no pathlen), intermediate (no pathlen), and a
 * leaf that is not a CA. */
static void make_outside_ca(void)
{
    static const char ext[] =
        "[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        "[leaf]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n";
    write_file("ext.cnf", ext, sizeof ext - 1);
    cli((const char *const[]){"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                              "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("oroot.key"),
                              "-out", path("oroot.pem"), "-subj", "/CN=outside root", "-days",
                              "3650", "-extensions", "ca", "-config", path("ext.cnf"), NULL});
    cli((const char *const[]){"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                              "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("ointer.key"),
                              "-out", path("ointer.csr"), "-subj", "/CN=outside issuing", NULL});
    cli((const char *const[]){"openssl", "x509", "-req", "-in", path("ointer.csr"), "-CA",
                              path("oroot.pem"), "-CAkey", path("oroot.key"), "-CAcreateserial",
                              "-out", path("ointer.pem"), "-days", "1000", "-extfile",
                              path("ext.cnf"), "-extensions", "ca", NULL});
    cli((const char *const[]){"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                              "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("oleaf.key"),
                              "-out", path("oleaf.csr"), "-subj", "/CN=outside leaf", NULL});
    cli((const char *const[]){"openssl", "x509", "-req", "-in", path("oleaf.csr"), "-CA",
                              path("ointer.pem"), "-CAkey", path("ointer.key"), "-CAcreateserial",
                              "-out", path("oleaf.pem"), "-days", "100", "-extfile",
                              path("ext.cnf"), "-extensions", "leaf", NULL});
    cli((const char *const[]){"openssl", "pkcs8", "-topk8", "-in", path("ointer.key"), "-out",
                              path("ointer-enc.key"), "-passout", "pass:Secret-1", "-v2",
                              "aes-256-cbc", NULL});
}

static clm_err import(ca_memory_state *state, const char *key, const char *password,
                      const char *const *chain)
{
    clm_buf k = CLM_BUF_INIT, c = CLM_BUF_INIT, part = CLM_BUF_INIT;
    clm_err err;

    read_file(key, &k);
    for (size_t i = 0; chain[i] != NULL; i++) {
        read_file(chain[i], &part);
        clm_buf_append(&c, part.data, part.len);
    }
    err = ca_local_import(k.data, k.len, password, c.data, c.len, &state->state, &fake.clock);
    clm_buf_wipe(&k);
    clm_buf_free(&c);
    clm_buf_free(&part);
    return err;
}

UNIT_TEST(test_import)
{
    ca_memory_state state;
    adapter_ca *ca;
    adapter_ca_result r = {0};
    clm_buf csr = CLM_BUF_INIT, out = CLM_BUF_INIT;
    ca_local_create_params params = {.root_cn = "r", .intermediate_cn = "i"};
    int64_t saved;

    make_outside_ca();
    /* the CLI dates its certificates from its own clock, without backdating: imports
     * check the chain at a time just after that */
    saved = fake.now;
    clm_clock_fake_set(&fake, clm_clock_now_ns(clm_clock_system()) + 2 * CLM_NS_PER_SEC);
    ca_memory_state_init(&state);

    /* bad imports: each named, none writes */
    CHECK_INT_EQ(import(&state, "oleaf.key", NULL, (const char *const[]){"ointer.pem", "oroot.pem", NULL}),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "key: it does not match any certificate of the chain");
    CHECK_INT_EQ(import(&state, "oleaf.key", NULL,
                        (const char *const[]){"oleaf.pem", "ointer.pem", "oroot.pem", NULL}),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "is not a CA that may sign certificates");
    CHECK_INT_EQ(import(&state, "ointer.key", NULL, (const char *const[]){"ointer.pem", NULL}),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "chain: does not reach a root (missing: CN=outside root)");
    CHECK_INT_EQ(import(&state, "ointer-enc.key", "Nope-9", (const char *const[]){"ointer.pem", "oroot.pem", NULL}),
                 CLM_ERR_UNAUTHENTICATED);
    CHECK(strstr(clm_error_message(), "Nope-9") == NULL); /* never the password */
    CHECK_INT_EQ(import(&state, "ointer.key", NULL, (const char *const[]){"ointer.key", "oroot.pem", NULL}),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "chain: holds a private key");
    /* at a time past the intermediate's end, the chain does not verify */
    clm_clock_fake_advance(&fake, (int64_t)1200 * 86400 * CLM_NS_PER_SEC);
    CHECK_INT_EQ(import(&state, "ointer.key", NULL, (const char *const[]){"ointer.pem", "oroot.pem", NULL}),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "chain: does not verify: certificate has expired");
    clm_clock_fake_advance(&fake, -(int64_t)1200 * 86400 * CLM_NS_PER_SEC);
    CHECK_INT_EQ(state.puts, 0);
    CHECK_INT_EQ((int)state.n, 0);

    /* a good one, with the chain given in any order and the key encrypted */
    CHECK_INT_EQ(import(&state, "ointer-enc.key", "Secret-1",
                        (const char *const[]){"oroot.pem", "ointer.pem", NULL}),
                 CLM_OK);
    CHECK_INT_EQ(state.puts, 1);
    CHECK_INT_EQ(import(&state, "ointer.key", NULL, (const char *const[]){"ointer.pem", "oroot.pem", NULL}),
                 CLM_ERR_ALREADY_EXISTS);
    CHECK_INT_EQ(ca_local_create(&params, &state.state, &fake.clock), CLM_ERR_ALREADY_EXISTS);
    CHECK_INT_EQ(state.puts, 1);
    clm_clock_fake_set(&fake, saved);

    ca = open_ca(&state, NULL, 0);
    make_csr(PKI_KEY_EC_P256, "imported.example.com", "imported.example.com", &csr);
    CHECK_INT_EQ(submit(ca, &csr, "server", "30", &r), ADAPTER_CA_ISSUED);
    write_issued(&r, "imported.pem");
    CHECK_INT_EQ(openssl_verify(path("imported.pem"), "sslserver", &out), 0);
    CHECK_STR_CONTAINS(clm_buf_str(&out), "imported.pem: OK");
    x509_text("imported.pem", &out);
    CHECK_STR_CONTAINS(clm_buf_str(&out), "Issuer: CN = outside issuing");

    /* the outside intermediate has no pathLenConstraint: a sub-CA may be issued */
    make_csr(PKI_KEY_EC_P256, "sub", NULL, &csr);
    CHECK_INT_EQ(submit(ca, &csr, "sub-ca", "100", &r), ADAPTER_CA_ISSUED);
    write_issued(&r, "sub.pem");
    CHECK_INT_EQ(openssl_verify(path("sub.pem"), NULL, &out), 0);
    x509_text("sub.pem", &out);
    CHECK_STR_CONTAINS(clm_buf_str(&out), "CA:TRUE, pathlen:0");
    CHECK_STR_CONTAINS(clm_buf_str(&out), "Certificate Sign, CRL Sign");
    CHECK(strstr(clm_buf_str(&out), "Extended Key Usage") == NULL);

    adapter_ca_result_free(&r);
    ca_local_ops.close(ca);
    ca_memory_state_free(&state);
    clm_buf_free(&csr);
    clm_buf_free(&out);
}

/* ---- revocation and the CRL ------------------------------------------------------------ */

static adapter_ca_outcome do_revoke(adapter_ca *ca, const char *serial,
                                 adapter_ca_revoke_reason reason, const adapter_ca_der *cert,
                                 adapter_ca_result *r)
{
    adapter_ca_revocation rev = {.serial = serial, .reason = reason,
                                 .cert = cert ? cert->data : NULL, .cert_len = cert ? cert->len : 0};
    adapter_ca_result_free(r);
    CHECK_INT_EQ(ca_local_ops.revoke(ca, &rev, r), CLM_OK);
    return r->outcome;
}

static int64_t crl_number(const clm_buf *der)
{
    const unsigned char *p = der->data;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)der->len);
    ASN1_INTEGER *n = crl ? X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL) : NULL;
    int64_t v = n ? ASN1_INTEGER_get(n) : -1;

    ASN1_INTEGER_free(n);
    X509_CRL_free(crl);
    return v;
}

static void write_crl(adapter_ca *ca, clm_buf *der)
{
    clm_buf_reset(der);
    CHECK_INT_EQ(ca_local_ops.crl(ca, der), CLM_OK);
    write_file("crl.der", der->data, der->len);
    cli((const char *const[]){"openssl", "crl", "-inform", "DER", "-in", path("crl.der"), "-out",
                              path("crl.pem"), NULL});
}

UNIT_TEST(test_revoke_and_crl)
{
    ca_memory_state state;
    adapter_ca *ca = created_ca(&state, 0);
    adapter_ca_result issued[4] = {{0}}, r = {0};
    clm_buf csr = CLM_BUF_INIT, der = CLM_BUF_INIT, out = CLM_BUF_INIT;
    char names[4][16], lower[64];
    int puts;

    make_csr(PKI_KEY_EC_P256, "r.example.com", "r.example.com", &csr);
    for (int i = 0; i < 4; i++) {
        CHECK_INT_EQ(submit(ca, &csr, "server", NULL, &issued[i]), ADAPTER_CA_ISSUED);
        snprintf(names[i], sizeof names[i], "leaf%d.pem", i);
        write_issued(&issued[i], names[i]);
    }
    /* an empty CRL first: number 1 */
    write_crl(ca, &der);
    CHECK_INT_EQ(crl_number(&der), 1);

    CHECK_INT_EQ(do_revoke(ca, issued[0].serial, ADAPTER_CA_REASON_KEY_COMPROMISE, NULL, &r),
                 ADAPTER_CA_REVOKED);
    CHECK_STR_EQ(r.serial, issued[0].serial);
    CHECK_INT_EQ(do_revoke(ca, issued[1].serial, ADAPTER_CA_REASON_SUPERSEDED, &issued[1].cert, &r),
                 ADAPTER_CA_REVOKED);
    /* lower case with colons is the same serial */
    {
        size_t k = 0;
        for (const char *p = issued[2].serial; *p && k + 3 < sizeof lower; p++) {
            lower[k++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
            if (((p - issued[2].serial) % 2) == 1 && p[1])
                lower[k++] = ':';
        }
        lower[k] = '\0';
    }
    CHECK_INT_EQ(do_revoke(ca, lower, ADAPTER_CA_REASON_CERTIFICATE_HOLD, NULL, &r), ADAPTER_CA_REVOKED);
    CHECK_INT_EQ(do_revoke(ca, issued[2].serial, ADAPTER_CA_REASON_CESSATION_OF_OPERATION, NULL, &r),
                 ADAPTER_CA_REVOKED); /* hold made permanent */

    /* refusals change nothing */
    puts = state.puts;
    CHECK_INT_EQ(do_revoke(ca, issued[0].serial, ADAPTER_CA_REASON_SUPERSEDED, NULL, &r),
                 ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "already revoked (keyCompromise)");
    CHECK_INT_EQ(do_revoke(ca, "xyz", ADAPTER_CA_REASON_UNSPECIFIED, NULL, &r), ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "serial: \"xyz\" is not hexadecimal");
    CHECK_INT_EQ(do_revoke(ca, "00", ADAPTER_CA_REASON_UNSPECIFIED, NULL, &r), ADAPTER_CA_REJECTED);
    CHECK_INT_EQ(do_revoke(ca, "1234", (adapter_ca_revoke_reason)7, NULL, &r), ADAPTER_CA_REJECTED);
    CHECK_INT_EQ(do_revoke(ca, "1234", ADAPTER_CA_REASON_REMOVE_FROM_CRL, NULL, &r), ADAPTER_CA_REJECTED);
    CHECK_INT_EQ(do_revoke(ca, "1234", ADAPTER_CA_REASON_SUPERSEDED, &issued[3].cert, &r),
                 ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "is not the certificate's");
    state.fail_puts = 1;
    {
        adapter_ca_revocation rev = {.serial = issued[3].serial, .reason = 0};
        adapter_ca_result_free(&r);
        CHECK_INT_EQ(ca_local_ops.revoke(ca, &rev, &r), CLM_ERR_STORE);
    }
    CHECK_INT_EQ(state.puts, puts);

    write_crl(ca, &der);
    CHECK_INT_EQ(crl_number(&der), 2);
    {
        const char *argv[] = {"openssl", "crl", "-in", path("crl.pem"), "-CAfile",
                              path("inter.pem"), "-verify", "-noout", "-text", NULL};
        char line[80];
        CHECK_INT_EQ(run(argv, &out), 0);
        CHECK_STR_CONTAINS(clm_buf_str(&out), "verify OK");
        CHECK_STR_CONTAINS(clm_buf_str(&out), "Version 2 (0x1)");
        CHECK_STR_CONTAINS(clm_buf_str(&out), "Next Update:");
        CHECK_STR_CONTAINS(clm_buf_str(&out), "X509v3 CRL Number: \n                2\n");
        CHECK_STR_CONTAINS(clm_buf_str(&out), "X509v3 Authority Key Identifier");
        for (int i = 0; i < 3; i++) {
            snprintf(line, sizeof line, "Serial Number: %s\n", issued[i].serial);
            CHECK_STR_CONTAINS(clm_buf_str(&out), line);
        }
        CHECK(strstr(clm_buf_str(&out), issued[3].serial) == NULL);
        CHECK_STR_CONTAINS(clm_buf_str(&out), "Key Compromise");
        CHECK_STR_CONTAINS(clm_buf_str(&out), "Superseded");
        CHECK_STR_CONTAINS(clm_buf_str(&out), "Cessation Of Operation");
        CHECK(strstr(clm_buf_str(&out), "Certificate Hold") == NULL);
    }
    /* the nextUpdate is crl_days (7 by default) after thisUpdate */
    {
        const unsigned char *p = der.data;
        X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)der.len);
        int days = -1, secs = -1;
        CHECK(crl != NULL);
        if (crl != NULL) {
            CHECK(ASN1_TIME_diff(&days, &secs, X509_CRL_get0_lastUpdate(crl),
                                 X509_CRL_get0_nextUpdate(crl)) == 1);
            CHECK_INT_EQ(days, 7);
            CHECK_INT_EQ(secs, 0);
        }
        X509_CRL_free(crl);
    }
    /* openssl verify with the CRL: revoked leaves fail, the others pass */
    {
        const char *argv[] = {"openssl", "verify", "-crl_check", "-CRLfile", path("crl.pem"),
                              "-CAfile", path("root.pem"), "-untrusted", path("inter.pem"),
                              path("leaf0.pem"), NULL};
        CHECK_INT_EQ(run(argv, &out), 2);
        CHECK_STR_CONTAINS(clm_buf_str(&out), "certificate revoked");
        argv[9] = path("leaf3.pem");
        CHECK_INT_EQ(run(argv, &out), 0);
        CHECK_STR_CONTAINS(clm_buf_str(&out), "leaf3.pem: OK");
    }

    /* reopened from the state: the revocations and the CRL number carry on */
    ca_local_ops.close(ca);
    ca = open_ca(&state, (const adapter_field_value[]){{"crl_days", "1"}}, 1);
    CHECK_INT_EQ(do_revoke(ca, issued[1].serial, ADAPTER_CA_REASON_KEY_COMPROMISE, NULL, &r),
                 ADAPTER_CA_REJECTED);
    write_crl(ca, &der);
    CHECK_INT_EQ(crl_number(&der), 3);
    {
        const char *argv[] = {"openssl", "crl", "-in", path("crl.pem"), "-CAfile",
                              path("inter.pem"), "-verify", "-noout", "-text", NULL};
        CHECK_INT_EQ(run(argv, &out), 0);
        CHECK_STR_CONTAINS(clm_buf_str(&out), issued[0].serial);
        CHECK_STR_CONTAINS(clm_buf_str(&out), issued[2].serial);
    }

    for (int i = 0; i < 4; i++)
        adapter_ca_result_free(&issued[i]);
    adapter_ca_result_free(&r);
    ca_local_ops.close(ca);
    ca_memory_state_free(&state);
    clm_buf_free(&csr);
    clm_buf_free(&der);
    clm_buf_free(&out);
}

UNIT_TEST(test_revoked_codec)
{
    clm_arena arena = CLM_ARENA_INIT;
    ca_local_revoked *list = NULL;
    size_t n = 0;
    clm_buf again = CLM_BUF_INIT;
    char serial[41];
    static const char good[] = "1A2B 1700000000 1\nFF 0 6\n0F 5 0\n";
    static const char *const bad[] = {
        "1a2b 1 1\n", "001A 1 1\n", "1 1 1\n", "01 1 7\n", "01 1 8\n", "01 1 1", "01 01 1\n",
        "01 1 01\n", "01 1 1\n01 2 3\n", "01  1 1\n", "0G 1 1\n", "01 1\n",
        "01 99999999999999999999 1\n",
    };

    CHECK_INT_EQ(ca_local_revoked_parse(good, sizeof good - 1, &arena, &list, &n), CLM_OK);
    CHECK_INT_EQ(n, 3);
    if (n == 3) {
        CHECK_STR_EQ(list[0].serial, "1A2B");
        CHECK_INT_EQ(list[0].when, 1700000000);
        CHECK_INT_EQ(list[1].reason, ADAPTER_CA_REASON_CERTIFICATE_HOLD);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        clm_err err = ca_local_revoked_parse(bad[i], strlen(bad[i]), &arena, &list, &n);
        if (err != CLM_ERR_PARSE)
            fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
        CHECK_INT_EQ(err, CLM_ERR_PARSE);
    }
    CHECK_INT_EQ(ca_local_revoked_parse("", 0, &arena, &list, &n), CLM_OK);
    CHECK_INT_EQ(n, 0);
    CHECK_INT_EQ(ca_local_serial_normalise("0x00:0a:1B", serial), CLM_OK);
    CHECK_STR_EQ(serial, "0A1B");
    CHECK_INT_EQ(ca_local_serial_normalise("f", serial), CLM_OK);
    CHECK_STR_EQ(serial, "0F");
    CHECK_INT_EQ(ca_local_serial_normalise("0a::1b", serial), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(ca_local_serial_normalise("", serial), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(ca_local_serial_normalise("1234567890123456789012345678901234567890", serial),
                 CLM_OK);
    CHECK_INT_EQ(ca_local_serial_normalise("11234567890123456789012345678901234567890", serial),
                 CLM_ERR_INVALID_ARGUMENT);
    clm_buf_free(&again);
    clm_arena_free(&arena);
}

/* ---- threads: submit from several at once (the documented thread rule) ----------------- */

typedef struct worker {
    adapter_ca *ca;
    const clm_buf *csr;
    int issued;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    adapter_ca_result r = {0};
    adapter_field_value v[] = {{"profile", "server"}};
    adapter_ca_request req = {.csr = w->csr->data, .csr_len = w->csr->len, .fields = {v, 1}};

    for (int i = 0; i < 50; i++) {
        if (ca_local_ops.submit(w->ca, &req, &r) == CLM_OK && r.outcome == ADAPTER_CA_ISSUED)
            w->issued++;
        adapter_ca_result_free(&r);
    }
    return NULL;
}

UNIT_TEST(test_threads)
{
    ca_memory_state state;
    adapter_ca *ca = created_ca(&state, 0);
    clm_buf csr = CLM_BUF_INIT, crl = CLM_BUF_INIT;
    pthread_t threads[4];
    worker workers[4];

    make_csr(PKI_KEY_EC_P256, "t.example.com", "t.example.com", &csr);
    for (int i = 0; i < 4; i++) {
        workers[i] = (worker){ca, &csr, 0};
        pthread_create(&threads[i], NULL, worker_main, &workers[i]);
    }
    /* revocations and CRLs meanwhile, on this thread */
    for (int i = 1; i <= 20; i++) {
        char serial[8];
        adapter_ca_result r = {0};
        snprintf(serial, sizeof serial, "%X", i);
        CHECK_INT_EQ(do_revoke(ca, serial, ADAPTER_CA_REASON_SUPERSEDED, NULL, &r), ADAPTER_CA_REVOKED);
        adapter_ca_result_free(&r);
        clm_buf_reset(&crl);
        CHECK_INT_EQ(ca_local_ops.crl(ca, &crl), CLM_OK);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CHECK_INT_EQ(workers[i].issued, 50);
    }
    ca_local_ops.close(ca);
    ca_memory_state_free(&state);
    clm_buf_free(&csr);
    clm_buf_free(&crl);
}

static int crl_entries(const clm_buf *der)
{
    const unsigned char *p = der->data;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)der->len);
    int n = crl ? (int)sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) : -1;

    X509_CRL_free(crl);
    return n;
}

/* Past the first allocation of the list (64), and back from the state. */
UNIT_TEST(test_many_revocations)
{
    ca_memory_state state;
    adapter_ca *ca = created_ca(&state, 0);
    adapter_ca_result r = {0};
    clm_buf crl = CLM_BUF_INIT;
    char serial[16];

    for (int i = 1; i <= 300; i++) {
        snprintf(serial, sizeof serial, "%X", i * 7919);
        CHECK_INT_EQ(do_revoke(ca, serial, (adapter_ca_revoke_reason)(i % 6), NULL, &r),
                     ADAPTER_CA_REVOKED);
    }
    CHECK_INT_EQ(ca_local_ops.crl(ca, &crl), CLM_OK);
    CHECK_INT_EQ(crl_entries(&crl), 300);
    ca_local_ops.close(ca);
    ca = open_ca(&state, NULL, 0);
    snprintf(serial, sizeof serial, "%X", 150 * 7919);
    CHECK_INT_EQ(do_revoke(ca, serial, ADAPTER_CA_REASON_KEY_COMPROMISE, NULL, &r),
                 ADAPTER_CA_REJECTED);
    CHECK_INT_EQ(do_revoke(ca, "ABCDEF", ADAPTER_CA_REASON_KEY_COMPROMISE, NULL, &r),
                 ADAPTER_CA_REVOKED);
    clm_buf_reset(&crl);
    CHECK_INT_EQ(ca_local_ops.crl(ca, &crl), CLM_OK);
    CHECK_INT_EQ(crl_entries(&crl), 301);
    adapter_ca_result_free(&r);
    ca_local_ops.close(ca);
    ca_memory_state_free(&state);
    clm_buf_free(&crl);
}

UNIT_TEST(test_register)
{
    CHECK_INT_EQ(adapter_ca_register(&ca_local_ops), CLM_OK);
    CHECK(adapter_ca_find("local") == &ca_local_ops);
}

int main(void)
{
    const char *tmp = getenv("TEST_TMPDIR");
    int64_t now = clm_clock_now_ns(clm_clock_system());

    snprintf(dir, sizeof dir, "%s/local_test.XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    /* the real time, to the second, a little back: the openssl CLI checks validity
     * (certificates and the CRL's thisUpdate) against its own clock */
    clm_clock_fake_init(&fake, now - now % CLM_NS_PER_SEC - 10 * CLM_NS_PER_SEC);

    UNIT_RUN(test_register);
    UNIT_RUN(test_unconfigured);
    UNIT_RUN(test_create_and_issue);
    UNIT_RUN(test_profiles);
    UNIT_RUN(test_rejections);
    UNIT_RUN(test_import);
    UNIT_RUN(test_revoke_and_crl);
    UNIT_RUN(test_revoked_codec);
    UNIT_RUN(test_threads);
    UNIT_RUN(test_many_revocations);
    return unit_report();
}
