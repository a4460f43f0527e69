/*
 * adapters/ca/cfssl/cfssl_test.c: the cfssl adapter against the real `cfssl serve`
 * (Debian golang-cfssl) on loopback, and against a scripted server that answers garbage.
 *
 * Ports: 25871 cfssl with a certificate database, 25872 cfssl without one, 25873 the
 * garbage server, 25874 nothing (a server that is down).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "adapters/adapter.h"
#include "adapters/ca/cfssl/cfssl.h"
#include "adapters/ca/fields.h"
#include "lib/base/buf.h"
#include "lib/pki/cert.h"
#include "tests/unit.h"

#define PORT_DB 25871
#define PORT_NODB 25872
#define PORT_GARBAGE 25873
#define PORT_DOWN 25874
#define AUTH_KEY "0123456789abcdef0123456789abcdef"
#define WRONG_KEY "fedcba9876543210fedcba9876543210"

static char dir[512];
static pid_t servers[2] = {-1, -1};

/* ---- set-up: a CA, a config, a database, two servers ---- */

/* Run argv in dir, its stdout into out_name (NULL: setup.log), stderr into setup.log. */
static int run(char *const argv[], const char *out_name)
{
    pid_t pid = fork();
    int status = -1;

    if (pid == 0) {
        int log, out;
        if (chdir(dir) != 0 || (log = open("setup.log", O_WRONLY | O_CREAT | O_APPEND, 0600)) < 0)
            _exit(127);
        out = out_name ? open(out_name, O_WRONLY | O_CREAT | O_TRUNC, 0600) : log;
        if (out < 0 || dup2(out, 1) < 0 || dup2(log, 2) < 0)
            _exit(127);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "setup: %s failed (see %s/setup.log)\n", argv[0], dir);
        return 0;
    }
    return 1;
}

static int write_text(const char *name, const char *text)
{
    char path[700];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((f = fopen(path, "w")) == NULL)
        return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

static char *slurp(const char *name, size_t *len)
{
    char path[700];
    FILE *f;
    char *data;
    long n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((f = fopen(path, "rb")) == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)n + 1);
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    if (data) {
        data[n] = '\0';
        *len = (size_t)n;
    }
    return data;
}

static int port_open(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

static pid_t start_cfssl(int port, bool with_db)
{
    char port_text[32], log[700];
    char *argv[16];
    int n = 0;
    pid_t pid;

    snprintf(port_text, sizeof(port_text), "-port=%d", port);
    snprintf(log, sizeof(log), "%s/cfssl-%d.log", dir, port);
    argv[n++] = "cfssl";
    argv[n++] = "serve";
    argv[n++] = "-address=127.0.0.1";
    argv[n++] = port_text;
    argv[n++] = "-ca=ca.pem";
    argv[n++] = "-ca-key=ca-key.pem";
    argv[n++] = "-config=config.json";
    if (with_db)
        argv[n++] = "-db-config=db.json";
    argv[n] = NULL;
    if (port_open(port)) {
        fprintf(stderr, "port %d is taken: is a cfssl of an earlier run still there?\n", port);
        return -1;
    }
    /* fork + exec rather than posix_spawn: the server must die with this test even when
       the test crashes (PR_SET_PDEATHSIG). */
    if ((pid = fork()) == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || chdir(dir) != 0)
            _exit(127);
        execvp("cfssl", argv);
        _exit(127);
    }
    for (int i = 0; pid > 0 && i < 100 && !port_open(port); i++)
        nanosleep(&(struct timespec){0, 50000000}, NULL);
    if (pid > 0 && !port_open(port)) {
        fprintf(stderr, "cfssl serve on %d did not start (see %s)\n", port, log);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        pid = -1;
    }
    return pid;
}

static const char config_json[] =
    "{\"signing\":{\"default\":{\"expiry\":\"168h\",\"usages\":[\"signing\",\"key "
    "encipherment\",\"server auth\"]},"
    "\"profiles\":{"
    "\"server\":{\"expiry\":\"720h\",\"usages\":[\"signing\",\"key encipherment\",\"server "
    "auth\"]},"
    "\"client\":{\"expiry\":\"24h\",\"usages\":[\"signing\",\"client auth\"]},"
    "\"secure\":{\"expiry\":\"48h\",\"usages\":[\"signing\",\"server "
    "auth\"],\"auth_key\":\"k1\"}}},"
    "\"auth_keys\":{\"k1\":{\"type\":\"standard\",\"key\":\"" AUTH_KEY "\"}}}";

static char *const gencert[] = {"cfssl", "gencert", "-initca", "ca.json", NULL};
static char *const cfssljson[] = {"cfssljson", "-f", "ca.out", "-bare", "ca", NULL};
static char *const make_db[] = {
    "sqlite3", "certs.db",
    "CREATE TABLE certificates (serial_number blob NOT NULL, authority_key_identifier blob "
    "NOT NULL, ca_label blob, status blob NOT NULL, reason int, expiry timestamp, revoked_at "
    "timestamp, pem blob NOT NULL, PRIMARY KEY(serial_number, authority_key_identifier)); "
    "CREATE TABLE ocsp_responses (serial_number blob NOT NULL, authority_key_identifier blob "
    "NOT NULL, body blob NOT NULL, expiry timestamp, PRIMARY KEY(serial_number, "
    "authority_key_identifier));",
    NULL};
static char *const make_csr[] = {
    "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", "leaf.key", "-subj", "/CN=www.example.test", "-addext",
    "subjectAltName=DNS:www.example.test,DNS:alt.example.test,IP:127.0.0.1", "-out", "leaf.csr",
    NULL};
static char *const csr_der[] = {"openssl", "req", "-in", "leaf.csr", "-outform", "DER",
                                "-out", "leaf.der", NULL};

static int setup(void)
{
    const char *tmp = getenv("TEST_TMPDIR");
    char db_json[800], db_path[700];

    snprintf(dir, sizeof(dir), "%s/cfssl_test", tmp ? tmp : "/tmp");
    mkdir(dir, 0700);
    snprintf(db_path, sizeof(db_path), "%s/certs.db", dir);
    unlink(db_path);
    snprintf(db_json, sizeof(db_json), "{\"driver\":\"sqlite3\",\"data_source\":\"%s\"}",
             db_path);
    return write_text("config.json", config_json) && write_text("db.json", db_json) &&
           write_text("ca.json",
                      "{\"CN\":\"clm cfssl test CA\",\"key\":{\"algo\":\"ecdsa\",\"size\":256}}") &&
           run(gencert, "ca.out") && run(cfssljson, NULL) && run(make_db, NULL) &&
           run(make_csr, NULL) && run(csr_der, NULL) &&
           (servers[0] = start_cfssl(PORT_DB, true)) > 0 &&
           (servers[1] = start_cfssl(PORT_NODB, false)) > 0;
}

/* ---- the garbage server: each connection gets the next canned answer ---- */

/* status line (NULL: raw bytes, no HTTP at all) and body; Content-Length is computed,
   except where `short_by` makes the body shorter than announced. */
typedef struct canned {
    const char *status;
    const char *body;
    int short_by;
} canned;

static const canned garbage[] = {
    {"200 OK", "hello", 0},
    {"200 OK", "{}", 0},
    {"200 OK", "{\"success\":true,\"result\":{\"certificate\":\"junk\"}}", 0},
    {"200 OK", "{\"success\":true,\"errors\":\"oops\"}", 0},
    {"400 Bad Request", "[1,2,3]", 0},
    {NULL, "\x01\x02\x03 not http at all\r\n\r\n", 0},
    {"200 OK", "{\"success\":", 50},
    {"200 OK", "{\"success\":false,\"errors\":[{\"code\":1,\"message\":\"x\\u0007y\"}]}", 0},
    {"502 Bad Gateway", "<html></html>", 0},
};
#define N_GARBAGE (sizeof(garbage) / sizeof(garbage[0]))

static int garbage_fd = -1;

static void *garbage_main(void *arg)
{
    (void)arg;
    for (size_t i = 0;; i++) {
        char buf[8192];
        int c = accept(garbage_fd, NULL, NULL);
        const canned *g = &garbage[i < N_GARBAGE ? i : N_GARBAGE - 1];
        char answer[512];

        if (c < 0)
            return NULL;
        if (g->status)
            snprintf(answer, sizeof(answer), "HTTP/1.1 %s\r\nContent-Length: %zu\r\n\r\n%s",
                     g->status, strlen(g->body) + (size_t)g->short_by, g->body);
        else
            snprintf(answer, sizeof(answer), "%s", g->body);
        (void)recv(c, buf, sizeof(buf), 0);
        (void)send(c, answer, strlen(answer), MSG_NOSIGNAL);
        shutdown(c, SHUT_WR);
        close(c);
    }
}

static int start_garbage(pthread_t *t)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT_GARBAGE)};
    int one = 1;

    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    garbage_fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(garbage_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(garbage_fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(garbage_fd, 8) != 0)
        return 0;
    return pthread_create(t, NULL, garbage_main, NULL) == 0;
}

/* ---- helpers ---- */

static clm_err open_with(const char *url, const char *key, const char *profiles,
                         adapter_ca **out)
{
    adapter_field_value v[3];
    size_t n = 0;
    adapter_ca_config config = {.connector = "cf"};

    v[n++] = (adapter_field_value){"url", url};
    if (key)
        v[n++] = (adapter_field_value){"auth_key", key};
    if (profiles)
        v[n++] = (adapter_field_value){"profiles", profiles};
    config.fields = (adapter_fields){v, n};
    return ca_cfssl_ops.open(&config, out);
}

static clm_err submit(adapter_ca *ca, const void *csr, size_t csr_len, const char *profile,
                      adapter_ca_result *r)
{
    adapter_field_value v = {"profile", profile};
    adapter_ca_request req = {.csr = csr, .csr_len = csr_len,
                              .fields = {profile ? &v : NULL, profile ? 1 : 0}};

    adapter_ca_result_free(r);
    return ca_cfssl_ops.submit(ca, &req, r);
}

static X509 *ca_cert(void)
{
    size_t len;
    char *pem = slurp("ca.pem", &len);
    X509 *x = NULL;

    if (pem)
        pki_cert_from_pem(pem, len, &x);
    free(pem);
    return x;
}

static X509 *issued_cert(const adapter_ca_result *r)
{
    const unsigned char *p = r->cert.data;
    return p ? d2i_X509(NULL, &p, (long)r->cert.len) : NULL;
}

static int64_t lifetime(X509 *x)
{
    int64_t nb = 0, na = 0;
    pki_cert_validity(x, &nb, &na);
    return na - nb;
}

/* ---- tests ---- */

UNIT_TEST(fields)
{
    adapter_field_value v[2] = {{"url", "http://127.0.0.1:8888"}, {"auth_key", "xyz-not-hex!"}};
    adapter_fields f = {v, 2};

    CHECK_INT_EQ(ca_cfssl_ops.check_fields(&f, false), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "config.fields.auth_key: not hex");
    CHECK(strstr(clm_error_message(), "xyz") == NULL); /* a secret is never quoted */
    v[1].value = "abc";
    CHECK_INT_EQ(ca_cfssl_ops.check_fields(&f, false), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "config.fields.auth_key: 3 hex digits");
    v[1] = (adapter_field_value){"profiles", "server,,client"};
    CHECK_INT_EQ(ca_cfssl_ops.check_fields(&f, false), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "config.fields.profiles");
    v[1] = (adapter_field_value){"profiles", "server,client,secure"};
    CHECK_INT_EQ(ca_cfssl_ops.check_fields(&f, false), CLM_OK);
    v[0].value = "http://127.0.0.1:8888/?x=1";
    CHECK_INT_EQ(ca_cfssl_ops.check_fields(&f, false), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "config.fields.url: no query");
    f.n = 0;
    CHECK_INT_EQ(ca_cfssl_ops.check_fields(&f, false), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "config.fields.url: required");
    v[0] = (adapter_field_value){"profile", "server"};
    f.n = 1;
    CHECK_INT_EQ(ca_cfssl_ops.check_fields(&f, true), CLM_OK);
    v[0] = (adapter_field_value){"hosts", "x"};
    CHECK_INT_EQ(ca_cfssl_ops.check_fields(&f, true), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "fields.hosts: unknown field");
    /* the registry takes it: auth_key is a secret connector STRING field */
    CHECK_INT_EQ(adapter_ca_register(&ca_cfssl_ops), CLM_OK);
    CHECK(ca_fields_find(ca_cfssl_ops.config_fields, ca_cfssl_ops.n_config_fields, "auth_key")
              ->secret);
}

UNIT_TEST(issue)
{
    char url[64];
    adapter_ca *ca = NULL;
    adapter_ca_result r = {0};
    size_t pem_len, der_len;
    char *pem = slurp("leaf.csr", &pem_len), *der = slurp("leaf.der", &der_len);
    X509 *root = ca_cert(), *x;
    char **sans = NULL;
    size_t n_sans = 0;

    CHECK(pem != NULL && der != NULL && root != NULL);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", PORT_DB); /* a trailing '/' is fine */
    CHECK_INT_EQ(open_with(url, NULL, NULL, &ca), CLM_OK);

    /* profile "server": 720 h, serverAuth; SANs from the CSR; verifies under the CA */
    CHECK_INT_EQ(submit(ca, pem, pem_len, "server", &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "issued");
    x = issued_cert(&r);
    CHECK(x != NULL);
    if (x != NULL) {
        CHECK_INT_EQ(pki_cert_verify(x, root, PKI_EKU_SERVER_AUTH, clm_clock_system()), CLM_OK);
        CHECK_INT_EQ(pki_cert_sans(x, &sans, &n_sans), CLM_OK);
        CHECK(n_sans == 3 && strcmp(sans[0], "DNS:www.example.test") == 0 &&
              strcmp(sans[1], "DNS:alt.example.test") == 0 && strcmp(sans[2], "IP:127.0.0.1") == 0);
        pki_strv_free(sans, n_sans);
        CHECK(lifetime(x) == 720 * 3600);
        CHECK(r.serial != NULL && strlen(r.serial) >= 2);
        X509_free(x);
    }
    /* the chain: the signer's certificate from info */
    CHECK(r.chain_len == 1);
    if (r.chain_len == 1) {
        unsigned char *root_der = NULL;
        int n = i2d_X509(root, &root_der);
        CHECK(n > 0 && (size_t)n == r.chain[0].len && memcmp(root_der, r.chain[0].data, (size_t)n) == 0);
        OPENSSL_free(root_der);
    }

    /* profile "client" from a DER CSR: 24 h, clientAuth; the chain now from the cache */
    CHECK_INT_EQ(submit(ca, der, der_len, "client", &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "issued");
    if ((x = issued_cert(&r)) != NULL) {
        CHECK_INT_EQ(pki_cert_verify(x, root, PKI_EKU_CLIENT_AUTH, clm_clock_system()), CLM_OK);
        CHECK_INT_EQ(pki_cert_verify(x, root, PKI_EKU_SERVER_AUTH, clm_clock_system()), CLM_ERR_CRYPTO);
        CHECK(lifetime(x) == 24 * 3600);
        X509_free(x);
    }
    CHECK(r.chain_len == 1);

    /* no profile: the server's default (168 h) */
    CHECK_INT_EQ(submit(ca, pem, pem_len, NULL, &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "issued");
    if ((x = issued_cert(&r)) != NULL) {
        CHECK(lifetime(x) == 168 * 3600);
        X509_free(x);
    }

    /* a profile that needs authsign, without the key */
    CHECK_INT_EQ(submit(ca, pem, pem_len, "secure", &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "rejected");
    CHECK_STR_CONTAINS(r.reason, "authentication required");
    CHECK_STR_CONTAINS(r.reason, "set the connector's auth_key");

    /* a CSR that is not one: rejected here, nothing sent */
    CHECK_INT_EQ(submit(ca, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n", 40, "server", &r),
                 CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "rejected");
    CHECK_STR_CONTAINS(r.reason, "csr: ");
    ca_cfssl_ops.close(ca);
    ca = NULL;

    /* unknown profile: refused by the connector's list (cfssl 1.2 would sign it with its
       default profile) */
    CHECK_INT_EQ(open_with(url, NULL, "server,client", &ca), CLM_OK);
    CHECK_INT_EQ(submit(ca, pem, pem_len, "gold", &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "rejected");
    CHECK_STR_CONTAINS(r.reason, "fields.profile: \"gold\" is not one of the connector's profiles (server,client)");
    CHECK_INT_EQ(submit(ca, pem, pem_len, "client", &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "issued");
    ca_cfssl_ops.close(ca);

    adapter_ca_result_free(&r);
    X509_free(root);
    free(pem);
    free(der);
}

UNIT_TEST(authsign)
{
    char url[64];
    adapter_ca *ca = NULL;
    adapter_ca_result r = {0};
    size_t len;
    char *pem = slurp("leaf.csr", &len);
    X509 *root = ca_cert(), *x;

    snprintf(url, sizeof(url), "http://127.0.0.1:%d", PORT_DB);
    CHECK_INT_EQ(open_with(url, AUTH_KEY, NULL, &ca), CLM_OK);
    CHECK_INT_EQ(submit(ca, pem, len, "secure", &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "issued");
    if ((x = issued_cert(&r)) != NULL) {
        CHECK_INT_EQ(pki_cert_verify(x, root, PKI_EKU_SERVER_AUTH, clm_clock_system()), CLM_OK);
        CHECK(lifetime(x) == 48 * 3600);
        X509_free(x);
    }
    /* authsign on a profile without an auth key on the server */
    CHECK_INT_EQ(submit(ca, pem, len, "server", &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "rejected");
    CHECK_STR_CONTAINS(r.reason, "no authentication provider");
    ca_cfssl_ops.close(ca);

    /* the wrong key: rejected, saying so, never showing a key */
    CHECK_INT_EQ(open_with(url, WRONG_KEY, NULL, &ca), CLM_OK);
    CHECK_INT_EQ(submit(ca, pem, len, "secure", &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "rejected");
    CHECK_STR_CONTAINS(r.reason, "cfssl profile \"secure\": invalid token (code 400)");
    CHECK_STR_CONTAINS(r.reason, "auth_key is not the key of the profile");
    CHECK(strstr(r.reason, WRONG_KEY) == NULL && strstr(r.reason, AUTH_KEY) == NULL);
    ca_cfssl_ops.close(ca);
    adapter_ca_result_free(&r);
    X509_free(root);
    free(pem);
}

UNIT_TEST(revocation)
{
    char url[64], cmd[900], serial[64];
    adapter_ca *ca = NULL;
    adapter_ca_result r = {0};
    adapter_ca_revocation rev = {.reason = ADAPTER_CA_REASON_KEY_COMPROMISE};
    size_t len;
    char *pem = slurp("leaf.csr", &len);
    FILE *p;

    snprintf(url, sizeof(url), "http://127.0.0.1:%d", PORT_DB);
    CHECK_INT_EQ(open_with(url, NULL, NULL, &ca), CLM_OK);
    CHECK_INT_EQ(submit(ca, pem, len, "server", &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "issued");
    snprintf(serial, sizeof(serial), "%s", r.serial ? r.serial : "00");
    rev.serial = serial;
    rev.cert = r.cert.data; /* with the certificate: its AKI first, then cfssl 1.2's empty one */
    rev.cert_len = r.cert.len;
    {
        adapter_ca_result rr = {0};
        CHECK_INT_EQ(ca_cfssl_ops.revoke(ca, &rev, &rr), CLM_OK);
        CHECK_STR_EQ(adapter_ca_outcome_name(rr.outcome), "revoked");
        CHECK(rr.serial != NULL && strcmp(rr.serial, serial) == 0);
        adapter_ca_result_free(&rr);
    }
    /* the server's database says so */
    snprintf(cmd, sizeof(cmd), "sqlite3 '%s/certs.db' \"select status||' '||reason from "
             "certificates where status='revoked'\"", dir);
    if ((p = popen(cmd, "r")) != NULL) {
        char line[64] = "";
        CHECK(fgets(line, sizeof(line), p) != NULL);
        CHECK_STR_CONTAINS(line, "revoked 1");
        pclose(p);
    }
    /* a serial cfssl never signed */
    rev.serial = "0BADC0DE";
    rev.cert = NULL;
    CHECK_INT_EQ(ca_cfssl_ops.revoke(ca, &rev, &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "rejected");
    CHECK_STR_CONTAINS(r.reason, "cfssl has no record of serial 0BADC0DE");
    rev.serial = "xyz";
    CHECK_INT_EQ(ca_cfssl_ops.revoke(ca, &rev, &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "rejected");
    CHECK_STR_CONTAINS(r.reason, "serial: \"xyz\" is not hex");
    ca_cfssl_ops.close(ca);

    /* a server without -db-config has no revoke endpoint */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", PORT_NODB);
    CHECK_INT_EQ(open_with(url, NULL, NULL, &ca), CLM_OK);
    rev.serial = serial;
    CHECK_INT_EQ(ca_cfssl_ops.revoke(ca, &rev, &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "unconfigured");
    CHECK_STR_CONTAINS(r.reason, "without -db-config");
    ca_cfssl_ops.close(ca);
    adapter_ca_result_free(&r);
    free(pem);
}

UNIT_TEST(down_and_garbage)
{
    char url[64];
    adapter_ca *ca = NULL;
    adapter_ca_result r = {0};
    size_t len;
    char *pem = slurp("leaf.csr", &len);
    adapter_ca_revocation rev = {.serial = "0A"};

    snprintf(url, sizeof(url), "http://127.0.0.1:%d", PORT_DOWN);
    CHECK_INT_EQ(open_with(url, NULL, NULL, &ca), CLM_OK);
    CHECK_INT_EQ(submit(ca, pem, len, "server", &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "unreachable");
    CHECK_STR_CONTAINS(r.reason, "cfssl at http://127.0.0.1:25874: ");
    CHECK_INT_EQ(ca_cfssl_ops.revoke(ca, &rev, &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "unreachable");
    ca_cfssl_ops.close(ca);

    /* each garbage answer: a clear outcome, never issued, never a crash */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", PORT_GARBAGE);
    CHECK_INT_EQ(open_with(url, NULL, NULL, &ca), CLM_OK);
    for (size_t i = 0; i < N_GARBAGE - 1; i++) {
        CHECK_INT_EQ(submit(ca, pem, len, "server", &r), CLM_OK);
        CHECK(r.outcome == ADAPTER_CA_UNCONFIGURED || r.outcome == ADAPTER_CA_UNREACHABLE ||
              r.outcome == ADAPTER_CA_REJECTED);
        CHECK(r.reason[0] != '\0');
        if (i == 0)
            CHECK_STR_CONTAINS(r.reason, "does not answer as cfssl does: cfssl answer: not JSON");
        if (i == 2)
            CHECK_STR_CONTAINS(r.reason, "answered success without a PEM certificate");
        if (i == 3)
            CHECK_STR_CONTAINS(r.reason, "\"errors\" is not a list");
        if (i == 5)
            CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "unreachable");
        if (i == 7)
            CHECK_STR_CONTAINS(r.reason, "cfssl profile \"server\": x?y (code 1)");
        fprintf(stderr, "garbage %zu: %s: %s\n", i, adapter_ca_outcome_name(r.outcome), r.reason);
    }
    /* the last one, a 502, twice (the retry): unreachable */
    CHECK_INT_EQ(submit(ca, pem, len, "server", &r), CLM_OK);
    CHECK_STR_EQ(adapter_ca_outcome_name(r.outcome), "unreachable");
    CHECK_STR_CONTAINS(r.reason, "HTTP 502");
    ca_cfssl_ops.close(ca);
    adapter_ca_result_free(&r);
    free(pem);
}

static int on_path(const char *tool)
{
    const char *path = getenv("PATH");
    char candidate[1024];

    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)n, p, tool);
        if (access(candidate, X_OK) == 0)
            return 1;
        p += n + (p[n] == ':');
    }
    return 0;
}

int main(void)
{
    pthread_t garbage_thread;
    int ok;

    if (!on_path("cfssl") || !on_path("cfssljson") || !on_path("sqlite3")) {
        if (getenv("CLM_ALLOW_NO_CFSSL")) {
            printf("cfssl or sqlite3 missing: skipped\n0 passed, 0 failed\n");
            return 0;
        }
        fprintf(stderr, "cfssl_test needs cfssl (golang-cfssl) and sqlite3: tools/install-deps test\n");
        return 1;
    }
    ok = setup() && start_garbage(&garbage_thread);
    if (ok) {
        UNIT_RUN(fields);
        UNIT_RUN(issue);
        UNIT_RUN(authsign);
        UNIT_RUN(revocation);
        UNIT_RUN(down_and_garbage);
    } else {
        CHECK(ok);
    }
    for (int i = 0; i < 2; i++)
        if (servers[i] > 0) {
            kill(servers[i], SIGTERM);
            waitpid(servers[i], NULL, 0);
        }
    return unit_report();
}
