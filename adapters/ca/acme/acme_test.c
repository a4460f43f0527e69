/*
 * adapters/ca/acme/acme_test.c: the ACME adapter against Debian's real pebble, started
 * by acme_test.sh (testdata/pebble.sh) on loopback:
 *   A  ACME_A_URL  PEBBLE_VA_NOSLEEP=1, no nonce rejection, one alternate root
 *   B  ACME_B_URL  External Account Binding required (ACME_EAB_KID / ACME_EAB_KEY),
 *                  pebble's default 5% nonce rejection left on
 *   C  ACME_C_URL  validation sleeps up to 4 s (PEBBLE_VA_SLEEPTIME): pending and poll
 * all validating http-01 at 127.0.0.1:ACME_HTTP_PORT, names resolved to 127.0.0.1 by
 * pebble-challtestsrv. ACME_CA_FILE is the root of pebble's TLS certificate,
 * ACME_MGMT_A pebble A's management port, ACME_TMP a scratch directory.
 */
#include "adapters/ca/acme/acme.h"
#include "adapters/ca/acme/acme_internal.h"
#include "adapters/ca/fields.h"
#include "adapters/ca/acme/testing.h"
#include "adapters/ca/memory_state.h"
#include "lib/base/buf.h"
#include "lib/base/log.h"
#include "lib/http/http.h"
#include "lib/pki/key.h"
#include "tests/unit.h"

#include <ctype.h>
#include <dirent.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *url_a, *url_b, *url_c, *ca_file, *eab_kid, *eab_key, *tmp;
static char listen_addr[64];
static int mgmt_a, http_port;
static int name_seq;

/* ---- helpers ------------------------------------------------------------------------- */

/* A CSR (DER) with that CN (NULL: none) and those DNS names (n may be 0). */
static void make_csr_cn(const char *cn, const char *const *names, size_t n, clm_buf *der)
{
    EVP_PKEY *key = NULL;
    X509_REQ *req = X509_REQ_new();
    X509_NAME *subject = X509_NAME_new();
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    char san[2048] = "";
    unsigned char *out = NULL;
    int len;

    clm_buf_reset(der);
    if (pki_key_generate(PKI_KEY_EC_P256, &key) != CLM_OK)
        return;
    if (cn != NULL)
        X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_ASC,
                                   (const unsigned char *)cn, -1, -1, 0);
    X509_REQ_set_subject_name(req, subject);
    X509_REQ_set_pubkey(req, key);
    for (size_t i = 0; i < n; i++)
        snprintf(san + strlen(san), sizeof san - strlen(san), "%sDNS:%s", i ? "," : "",
                 names[i]);
    if (n > 0) {
        sk_X509_EXTENSION_push(exts, X509V3_EXT_nconf_nid(NULL, NULL, NID_subject_alt_name, san));
        X509_REQ_add_extensions(req, exts);
    }
    X509_REQ_sign(req, key, EVP_sha256());
    len = i2d_X509_REQ(req, &out);
    if (len > 0)
        clm_buf_append(der, out, (size_t)len);
    OPENSSL_free(out);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(subject);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
}

/* A CSR for the names, the first also as CN. */
static void make_csr(const char *const *names, size_t n, clm_buf *der)
{
    make_csr_cn(names[0], names, n, der);
}

/* A fresh name under example.test (pebble-challtestsrv answers 127.0.0.1 for all). */
static const char *fresh_name(char *buf, size_t size)
{
    snprintf(buf, size, "n%d-%d.example.test", (int)getpid(), __atomic_add_fetch(&name_seq, 1,
                                                                                  __ATOMIC_SEQ_CST));
    return buf;
}

/* Open with the fields given so far (keeping the state when reopened). */
static clm_err connector_open(connector *c)
{
    adapter_ca_config config = {.connector = "test",
                                .fields = {c->v, c->n},
                                .state = &c->state.state};

    return ca_acme_ops.open(&config, &c->ca);
}

/* Submit a CSR through the connector's adapter. */
static clm_err submit_csr(connector *c, const clm_buf *csr, adapter_ca_result *r)
{
    return ca_acme_ops.submit(c->ca, &(adapter_ca_request){.csr = csr->data, .csr_len = csr->len},
                              r);
}

static void connector_base(connector *c, const char *url)
{
    memset(c, 0, sizeof *c);
    ca_memory_state_init(&c->state);
    connector_field(c, "directory_url", url);
    connector_field(c, "ca_file", ca_file);
    connector_field(c, "terms_agreed", "true");
    connector_field(c, "contact_email", "admin@example.test");
}

/* Submit a CSR for n fresh names; the outcome (result freed unless out given). */
static adapter_ca_outcome issue(connector *c, size_t n, adapter_ca_result *keep)
{
    char names_buf[4][128];
    const char *names[4];
    clm_buf csr = CLM_BUF_INIT;
    adapter_ca_result r = {0};
    adapter_ca_outcome outcome;
    clm_err err;

    for (size_t i = 0; i < n; i++)
        names[i] = fresh_name(names_buf[i], sizeof names_buf[i]);
    make_csr(names, n, &csr);
    err = submit_csr(c, &csr, &r);
    clm_buf_free(&csr);
    if (err != CLM_OK) {
        fprintf(stderr, "submit: %s\n", clm_error_message());
        adapter_ca_result_free(&r);
        return ADAPTER_CA_OUTCOME_MAX;
    }
    outcome = r.outcome;
    if (outcome != ADAPTER_CA_ISSUED && outcome != ADAPTER_CA_PENDING)
        fprintf(stderr, "submit: %s: %s\n", adapter_ca_outcome_name(outcome), r.reason);
    if (keep != NULL)
        *keep = r;
    else
        adapter_ca_result_free(&r);
    return outcome;
}

static X509 *der_x509(const adapter_ca_der *d)
{
    const unsigned char *p = d->data;

    return d2i_X509(NULL, &p, (long)d->len);
}

static char *top_issuer_cn(const adapter_ca_result *r, char *buf, size_t size)
{
    X509 *x = der_x509(r->chain_len ? &r->chain[r->chain_len - 1] : &r->cert);

    buf[0] = '\0';
    if (x != NULL)
        X509_NAME_get_text_by_NID(X509_get_issuer_name(x), NID_commonName, buf, (int)size);
    X509_free(x);
    return buf;
}

static clm_err mgmt_get(const char *path, http_response *resp)
{
    char url[256];
    http_tls_options tls = {.ca_file = ca_file};
    http_request req = {.url = url, .tls = &tls};

    snprintf(url, sizeof url, "https://127.0.0.1:%d%s", mgmt_a, path);
    return http_request_send(&req, resp);
}

/* ---- tests against pebble A ------------------------------------------------------------ */

UNIT_TEST(issue_with_responder)
{
    connector c;
    adapter_ca_result r = {0};
    X509 *leaf, *issuer;

    connector_base(&c, url_a);
    connector_field(&c, "http01_listen", listen_addr);
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    if (c.ca == NULL)
        return;
    CHECK_INT_EQ(issue(&c, 2, &r), ADAPTER_CA_ISSUED);
    CHECK(r.cert.len > 0);
    CHECK(r.chain_len >= 1);
    CHECK(r.serial != NULL && strlen(r.serial) >= 2);
    leaf = der_x509(&r.cert);
    issuer = r.chain_len ? der_x509(&r.chain[0]) : NULL;
    CHECK(leaf != NULL && issuer != NULL && X509_check_issued(issuer, leaf) == X509_V_OK);
    CHECK(leaf != NULL && X509_check_host(leaf, "example.test", 0, 0, NULL) != 1);
    X509_free(leaf);
    X509_free(issuer);
    adapter_ca_result_free(&r);
    /* the account was made once and kept: key secret, URL plain */
    CHECK_INT_EQ(c.state.puts, 1);
    CHECK(ca_memory_state_item(&c.state, "account_key") != NULL);
    CHECK(c.state.n == 2 && c.state.items[0].secret != c.state.items[1].secret);
    CHECK(ca_memory_state_item(&c.state, "account_url") != NULL);
    /* a second order and a reopened connector reuse the account */
    CHECK_INT_EQ(issue(&c, 1, NULL), ADAPTER_CA_ISSUED);
    ca_acme_ops.close(c.ca);
    c.ca = NULL;
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    CHECK_INT_EQ(issue(&c, 3, NULL), ADAPTER_CA_ISSUED);
    CHECK_INT_EQ(c.state.puts, 1);
    connector_free(&c);
}

UNIT_TEST(revoke_certificate)
{
    connector c;
    adapter_ca_result r = {0}, rv = {0};
    http_response resp = {0};
    char path[160];

    connector_base(&c, url_a);
    connector_field(&c, "http01_listen", listen_addr);
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    if (c.ca == NULL)
        return;
    CHECK_INT_EQ(issue(&c, 1, &r), ADAPTER_CA_ISSUED);
    if (r.outcome == ADAPTER_CA_ISSUED) {
        adapter_ca_revocation rev = {.serial = r.serial,
                                     .reason = ADAPTER_CA_REASON_KEY_COMPROMISE,
                                     .cert = r.cert.data,
                                     .cert_len = r.cert.len};
        CHECK_INT_EQ(ca_acme_ops.revoke(c.ca, &rev, &rv), CLM_OK);
        CHECK_INT_EQ(rv.outcome, ADAPTER_CA_REVOKED);
        CHECK_STR_EQ(rv.serial, r.serial);
        adapter_ca_result_free(&rv);
        /* pebble's management interface shows it revoked */
        snprintf(path, sizeof path, "/cert-status-by-serial/%s", r.serial);
        for (char *p = path; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        CHECK_INT_EQ(mgmt_get(path, &resp), CLM_OK);
        CHECK_STR_CONTAINS((const char *)resp.body, "Revoked");
        http_response_free(&resp);
        /* twice: the CA refuses (alreadyRevoked) */
        CHECK_INT_EQ(ca_acme_ops.revoke(c.ca, &rev, &rv), CLM_OK);
        CHECK_INT_EQ(rv.outcome, ADAPTER_CA_REJECTED);
        CHECK_STR_CONTAINS(rv.reason, "alreadyRevoked");
        adapter_ca_result_free(&rv);
        /* without the certificate: rejected, nothing sent */
        rev.cert = NULL;
        rev.cert_len = 0;
        CHECK_INT_EQ(ca_acme_ops.revoke(c.ca, &rev, &rv), CLM_OK);
        CHECK_INT_EQ(rv.outcome, ADAPTER_CA_REJECTED);
        CHECK_STR_CONTAINS(rv.reason, "certificate is needed");
        adapter_ca_result_free(&rv);
    }
    adapter_ca_result_free(&r);
    connector_free(&c);
}

UNIT_TEST(alternate_chain)
{
    connector c;
    adapter_ca_result r = {0};
    char dflt[128], alt[128], got[128];
    http_response resp = {0};
    X509 *root = NULL;
    BIO *bio;

    /* the default chain's top issuer */
    connector_base(&c, url_a);
    connector_field(&c, "http01_listen", listen_addr);
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    if (c.ca == NULL)
        return;
    CHECK_INT_EQ(issue(&c, 1, &r), ADAPTER_CA_ISSUED);
    top_issuer_cn(&r, dflt, sizeof dflt);
    adapter_ca_result_free(&r);
    connector_free(&c);
    /* the alternate root's CN, from pebble's management interface */
    CHECK_INT_EQ(mgmt_get("/roots/1", &resp), CLM_OK);
    bio = BIO_new_mem_buf(resp.body, (int)resp.body_len);
    root = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    http_response_free(&resp);
    CHECK(root != NULL);
    alt[0] = '\0';
    if (root != NULL)
        X509_NAME_get_text_by_NID(X509_get_subject_name(root), NID_commonName, alt, sizeof alt);
    X509_free(root);
    CHECK(dflt[0] != '\0' && alt[0] != '\0' && strcmp(dflt, alt) != 0);
    /* preferred_chain picks it */
    connector_base(&c, url_a);
    connector_field(&c, "http01_listen", listen_addr);
    connector_field(&c, "preferred_chain", alt);
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    CHECK_INT_EQ(issue(&c, 1, &r), ADAPTER_CA_ISSUED);
    CHECK_STR_EQ(top_issuer_cn(&r, got, sizeof got), alt);
    adapter_ca_result_free(&r);
    connector_free(&c);
    /* a preferred chain that does not exist: the default */
    connector_base(&c, url_a);
    connector_field(&c, "http01_listen", listen_addr);
    connector_field(&c, "preferred_chain", "No Such Root");
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    CHECK_INT_EQ(issue(&c, 1, &r), ADAPTER_CA_ISSUED);
    CHECK_STR_EQ(top_issuer_cn(&r, got, sizeof got), dflt);
    adapter_ca_result_free(&r);
    connector_free(&c);
}

UNIT_TEST(rollover)
{
    connector c, old;
    adapter_ca_result r = {0};
    clm_buf before = CLM_BUF_INIT;
    const clm_buf *key, *url;

    connector_base(&c, url_a);
    connector_field(&c, "http01_listen", listen_addr);
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    if (c.ca == NULL)
        return;
    /* no account yet: nothing to roll over, nothing written */
    CHECK_INT_EQ(ca_acme_ops.rollover(c.ca, &r), CLM_OK);
    CHECK_INT_EQ(r.outcome, ADAPTER_CA_UNCONFIGURED);
    CHECK_INT_EQ(c.state.puts, 0);
    adapter_ca_result_free(&r);
    CHECK_INT_EQ(issue(&c, 1, NULL), ADAPTER_CA_ISSUED);
    /* a copy of the state with the old key */
    connector_base(&old, url_a);
    connector_field(&old, "http01_listen", listen_addr);
    key = ca_memory_state_item(&c.state, "account_key");
    url = ca_memory_state_item(&c.state, "account_url");
    CHECK(key != NULL && url != NULL);
    if (key == NULL || url == NULL)
        return;
    clm_buf_append(&before, key->data, key->len);
    old.state.state.put(old.state.state.ctx,
                        (adapter_ca_state_item[]){{"account_key", key->data, key->len, true},
                                                  {"account_url", url->data, url->len, false}},
                        2);
    CHECK_INT_EQ(ca_acme_ops.rollover(c.ca, &r), CLM_OK);
    CHECK_INT_EQ(r.outcome, ADAPTER_CA_ISSUED);
    adapter_ca_result_free(&r);
    key = ca_memory_state_item(&c.state, "account_key");
    CHECK(key != NULL && (key->len != before.len || memcmp(key->data, before.data, key->len)));
    CHECK_INT_EQ(c.state.puts, 2);
    /* the new key works, also after reopening */
    CHECK_INT_EQ(issue(&c, 1, NULL), ADAPTER_CA_ISSUED);
    ca_acme_ops.close(c.ca);
    c.ca = NULL;
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    CHECK_INT_EQ(issue(&c, 1, NULL), ADAPTER_CA_ISSUED);
    /* the old key is refused */
    CHECK_INT_EQ(connector_open(&old), CLM_OK);
    {
        adapter_ca_outcome o = issue(&old, 1, NULL);
        CHECK(o == ADAPTER_CA_REJECTED || o == ADAPTER_CA_UNCONFIGURED);
    }
    clm_buf_wipe(&before);
    connector_free(&old);
    connector_free(&c);
}

/* ---- checks without the network -------------------------------------------------------- */

UNIT_TEST(bad_input)
{
    connector c;
    adapter_ca_result r = {0};
    adapter_field_value v[4];
    adapter_fields f = {v, 0};
    clm_err err;

    v[f.n++] = (adapter_field_value){"directory_url", "https://127.0.0.1:1/dir"};
    v[f.n++] = (adapter_field_value){"challenge_type", "http-01"};
    CHECK_INT_EQ(ca_acme_ops.check_fields(&f, false), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "http01_listen");
    v[f.n++] = (adapter_field_value){"http01_listen", "127.0.0.1"};
    CHECK_INT_EQ(ca_acme_ops.check_fields(&f, false), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "fields.http01_listen");
    v[2].value = "127.0.0.1:5999";
    CHECK_INT_EQ(ca_acme_ops.check_fields(&f, false), CLM_OK);
    v[f.n++] = (adapter_field_value){"eab_hmac_key", "c2VjcmV0c2VjcmV0c2VjcmV0"};
    CHECK_INT_EQ(ca_acme_ops.check_fields(&f, false), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "eab_kid");
    CHECK(strstr(clm_error_message(), "c2VjcmV0") == NULL);
    f.n = 2;
    v[1].value = "dns-01";
    err = ca_acme_ops.check_fields(&f, false);
    CHECK(err == CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "challenge_type");
    v[0].value = "ftp://x";
    CHECK_INT_EQ(ca_acme_ops.check_fields(&f, false), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "directory_url");
    f.n = 1;
    v[0] = (adapter_field_value){"profile", "x"};
    CHECK_INT_EQ(ca_acme_ops.check_fields(&f, true), CLM_ERR_INVALID_ARGUMENT);

    /* a CSR that is not one, a CSR with an IP: rejected, no account made */
    connector_base(&c, url_a);
    connector_field(&c, "http01_listen", listen_addr);
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    if (c.ca == NULL)
        return;
    CHECK_INT_EQ(ca_acme_ops.submit(c.ca, &(adapter_ca_request){.csr = "nope", .csr_len = 4}, &r),
                 CLM_OK);
    CHECK_INT_EQ(r.outcome, ADAPTER_CA_REJECTED);
    CHECK_STR_CONTAINS(r.reason, "CSR");
    adapter_ca_result_free(&r);
    {
        /* a CN-only CSR, and a CN that is not among the SANs: ACME CAs refuse both */
        const char *names[] = {"a.example.test"};
        clm_buf csr = CLM_BUF_INIT;
        make_csr_cn("a.example.test", names, 0, &csr);
        CHECK_INT_EQ(submit_csr(&c, &csr, &r), CLM_OK);
        CHECK_INT_EQ(r.outcome, ADAPTER_CA_REJECTED);
        CHECK_STR_CONTAINS(r.reason, "no DNS subjectAltName");
        adapter_ca_result_free(&r);
        make_csr_cn("b.example.test", names, 1, &csr);
        CHECK_INT_EQ(submit_csr(&c, &csr, &r), CLM_OK);
        CHECK_INT_EQ(r.outcome, ADAPTER_CA_REJECTED);
        CHECK_STR_CONTAINS(r.reason, "not one of its DNS subjectAltNames");
        adapter_ca_result_free(&r);
        clm_buf_free(&csr);
    }
    CHECK_INT_EQ(ca_acme_ops.poll(c.ca, "not a cookie", &r), CLM_OK);
    CHECK_INT_EQ(r.outcome, ADAPTER_CA_REJECTED);
    adapter_ca_result_free(&r);
    CHECK_INT_EQ(c.state.puts, 0);
    connector_free(&c);

    /* a server whose TLS certificate is not trusted: unconfigured or unreachable, nothing
     * written */
    connector_base(&c, url_a);
    c.v[1].value = "/etc/ssl/certs/ca-certificates.crt";
    connector_field(&c, "http01_listen", listen_addr);
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    CHECK_INT_EQ(issue(&c, 1, NULL), ADAPTER_CA_UNREACHABLE);
    CHECK_INT_EQ(c.state.puts, 0);
    connector_free(&c);
    /* nobody listening: unreachable with a retry time */
    connector_base(&c, "https://127.0.0.1:1/dir");
    connector_field(&c, "http01_listen", listen_addr);
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    {
        char n[64];
        const char *names[] = {fresh_name(n, sizeof n)};
        clm_buf csr = CLM_BUF_INIT;
        make_csr(names, 1, &csr);
        CHECK_INT_EQ(submit_csr(&c, &csr, &r), CLM_OK);
        CHECK_INT_EQ(r.outcome, ADAPTER_CA_UNREACHABLE);
        CHECK(r.retry_after > 0);
        adapter_ca_result_free(&r);
        clm_buf_free(&csr);
    }
    connector_free(&c);
}

/* ---- pebble B: EAB required, 5% badNonce ----------------------------------------------- */

UNIT_TEST(external_account_binding)
{
    connector c;
    adapter_ca_result r = {0};
    clm_buf csr = CLM_BUF_INIT;
    char n[64];
    const char *names[] = {fresh_name(n, sizeof n)};

    make_csr(names, 1, &csr);
    /* no EAB: unconfigured, saying what to set; nothing written */
    connector_base(&c, url_b);
    connector_field(&c, "http01_listen", listen_addr);
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    CHECK_INT_EQ(submit_csr(&c, &csr, &r), CLM_OK);
    CHECK_INT_EQ(r.outcome, ADAPTER_CA_UNCONFIGURED);
    CHECK_STR_CONTAINS(r.reason, "External Account Binding");
    CHECK_INT_EQ(c.state.puts, 0);
    adapter_ca_result_free(&r);
    connector_free(&c);
    /* a wrong MAC key: refused by the CA, the key not in the reason, nothing written */
    connector_base(&c, url_b);
    connector_field(&c, "http01_listen", listen_addr);
    connector_field(&c, "eab_kid", eab_kid);
    connector_field(&c, "eab_hmac_key", "d3JvbmdrZXl3cm9uZ2tleXdyb25na2V5d3Jvbmc");
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    CHECK_INT_EQ(submit_csr(&c, &csr, &r), CLM_OK);
    CHECK_INT_EQ(r.outcome, ADAPTER_CA_UNCONFIGURED);
    CHECK_STR_CONTAINS(r.reason, "newAccount");
    CHECK(strstr(r.reason, "d3Jvbmdr") == NULL);
    CHECK_INT_EQ(c.state.puts, 0);
    adapter_ca_result_free(&r);
    connector_free(&c);
    /* the right one: issued */
    connector_base(&c, url_b);
    connector_field(&c, "http01_listen", listen_addr);
    connector_field(&c, "eab_kid", eab_kid);
    connector_field(&c, "eab_hmac_key", eab_key);
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    CHECK_INT_EQ(submit_csr(&c, &csr, &r), CLM_OK);
    CHECK_INT_EQ(r.outcome, ADAPTER_CA_ISSUED);
    CHECK_INT_EQ(c.state.puts, 1);
    adapter_ca_result_free(&r);
    connector_free(&c);
    clm_buf_free(&csr);
}

#define NONCE_THREADS 6
#define NONCE_ORDERS_PER_THREAD 8

typedef struct nonce_run {
    connector *c;
    int issued;
} nonce_run;

static void *nonce_worker(void *arg)
{
    nonce_run *run = arg;

    for (int i = 0; i < NONCE_ORDERS_PER_THREAD; i++)
        if (issue(run->c, 1, NULL) == ADAPTER_CA_ISSUED)
            run->issued++;
    return NULL;
}

UNIT_TEST(bad_nonce_retried)
{
    connector c;
    pthread_t threads[NONCE_THREADS];
    nonce_run runs[NONCE_THREADS];
    int issued = 0;

    connector_base(&c, url_b);
    connector_field(&c, "http01_listen", listen_addr);
    connector_field(&c, "eab_kid", eab_kid);
    connector_field(&c, "eab_hmac_key", eab_key);
    connector_field(&c, "max_orders", "4");
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    if (c.ca == NULL)
        return;
    for (int i = 0; i < NONCE_THREADS; i++) {
        runs[i] = (nonce_run){&c, 0};
        pthread_create(&threads[i], NULL, nonce_worker, &runs[i]);
    }
    for (int i = 0; i < NONCE_THREADS; i++) {
        pthread_join(threads[i], NULL);
        issued += runs[i].issued;
    }
    CHECK_INT_EQ(issued, NONCE_THREADS * NONCE_ORDERS_PER_THREAD);
    /* pebble rejected some nonces on purpose and each was retried */
    fprintf(stderr, "badNonce answers retried: %ld\n", atomic_load(&c.ca->bad_nonces));
    CHECK(atomic_load(&c.ca->bad_nonces) > 0);
    CHECK_INT_EQ(c.state.puts, 1);
    connector_free(&c);
}

/* ---- pebble C: slow validation, pending and poll ---------------------------------------- */

UNIT_TEST(pending_then_poll)
{
    connector c;
    adapter_ca_result r = {0};
    bool pending = false;

    connector_base(&c, url_c);
    connector_field(&c, "http01_listen", listen_addr);
    connector_field(&c, "order_wait_seconds", "1");
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    if (c.ca == NULL)
        return;
    /* validation sleeps 0-4 s: an order is pending after 1 s most of the time */
    for (int i = 0; i < 8 && !pending; i++) {
        adapter_ca_outcome o = issue(&c, 1, &r);
        CHECK(o == ADAPTER_CA_ISSUED || o == ADAPTER_CA_PENDING);
        pending = o == ADAPTER_CA_PENDING;
        if (!pending)
            adapter_ca_result_free(&r);
    }
    CHECK(pending);
    if (pending) {
        char *cookie = strdup(r.cookie);
        CHECK_STR_CONTAINS(cookie, "acme1 https://127.0.0.1:");
        CHECK(r.retry_after > 0);
        adapter_ca_result_free(&r);
        for (int i = 0; i < 30; i++) {
            CHECK_INT_EQ(ca_acme_ops.poll(c.ca, cookie, &r), CLM_OK);
            if (r.outcome != ADAPTER_CA_PENDING)
                break;
            fprintf(stderr, "poll: pending (%s)\n", r.reason);
            adapter_ca_result_free(&r);
        }
        if (r.outcome != ADAPTER_CA_ISSUED)
            fprintf(stderr, "poll: %s: %s\n", adapter_ca_outcome_name(r.outcome), r.reason);
        CHECK_INT_EQ(r.outcome, ADAPTER_CA_ISSUED);
        CHECK(r.cert.len > 0 && r.chain_len >= 1);
        adapter_ca_result_free(&r);
        free(cookie);
    }
    connector_free(&c);
}

/* ---- webroot, served by python's http.server --------------------------------------------- */

UNIT_TEST(webroot)
{
    connector c;
    char root[512], port[16], challenge_dir[600];
    pid_t pid;
    const char *argv[] = {"/usr/bin/python3", "-m", "http.server", port, "--bind", "127.0.0.1",
                          "--directory", root, NULL};
    int status, files = 0;
    DIR *d;
    struct dirent *e;

    snprintf(root, sizeof root, "%s/webroot", tmp);
    snprintf(port, sizeof port, "%d", http_port);
    mkdir(root, 0755);
    CHECK(posix_spawn(&pid, argv[0], NULL, NULL, (char *const *)argv, environ) == 0);
    for (int i = 0; i < 100; i++) { /* until it listens */
        http_response resp = {0};
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/", http_port);
        if (http_request_send(&(http_request){.url = url}, &resp) == CLM_OK) {
            http_response_free(&resp);
            break;
        }
        usleep(100000);
    }
    connector_base(&c, url_a);
    connector_field(&c, "http01_webroot", root);
    CHECK_INT_EQ(connector_open(&c), CLM_OK);
    if (c.ca != NULL)
        CHECK_INT_EQ(issue(&c, 2, NULL), ADAPTER_CA_ISSUED);
    /* the token files are gone again */
    snprintf(challenge_dir, sizeof challenge_dir, "%s/.well-known/acme-challenge", root);
    d = opendir(challenge_dir);
    CHECK(d != NULL);
    while (d != NULL && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            files++;
    if (d != NULL)
        closedir(d);
    CHECK_INT_EQ(files, 0);
    connector_free(&c);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
}

int main(void)
{
    url_a = getenv("ACME_A_URL");
    url_b = getenv("ACME_B_URL");
    url_c = getenv("ACME_C_URL");
    ca_file = getenv("ACME_CA_FILE");
    eab_kid = getenv("ACME_EAB_KID");
    eab_key = getenv("ACME_EAB_KEY");
    tmp = getenv("ACME_TMP");
    if (!url_a || !url_b || !url_c || !ca_file || !eab_kid || !eab_key || !tmp ||
        !getenv("ACME_MGMT_A") || !getenv("ACME_HTTP_PORT")) {
        CHECK(!"run by acme_test.sh, which starts pebble");
        return unit_report();
    }
    mgmt_a = (int)strtol(getenv("ACME_MGMT_A"), NULL, 10);
    http_port = (int)strtol(getenv("ACME_HTTP_PORT"), NULL, 10);
    snprintf(listen_addr, sizeof listen_addr, "127.0.0.1:%d", http_port);
    signal(SIGPIPE, SIG_IGN);
    UNIT_RUN(bad_input);
    UNIT_RUN(issue_with_responder);
    UNIT_RUN(revoke_certificate);
    UNIT_RUN(alternate_chain);
    UNIT_RUN(rollover);
    UNIT_RUN(external_account_binding);
    UNIT_RUN(bad_nonce_retried);
    UNIT_RUN(pending_then_poll);
    UNIT_RUN(webroot); /* last: every responder on the port is closed by now */
    return unit_report();
}
