/* appliance/identity_test.c: first-start identity: create, load, validate, reissue. */
#include "appliance/identity.h"
#include "lib/base/buf.h"
#include "lib/base/log.h"
#include "lib/pki/cert.h"
#include "lib/pki/name.h"
#include "lib/pki/pkcs12.h"
#include "lib/pki/random.h"
#include "tests/unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX];
static int log_fd = -1;
static char log_path[PATH_MAX];

/* A new, not yet existing data directory under the test root. */
static const char *new_data_dir(const char *name)
{
    static char dir[PATH_MAX];

    snprintf(dir, sizeof dir, "%s/%s", root, name);
    return dir;
}

static void slurp(const char *path, clm_buf *out)
{
    char chunk[4096];
    ssize_t n;
    int fd = open(path, O_RDONLY);

    clm_buf_reset(out);
    if (fd < 0)
        return;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        clm_buf_append(out, chunk, (size_t)n);
    close(fd);
}

static void spit(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd >= 0) {
        if (write(fd, text, strlen(text)) < 0)
            perror(path);
        close(fd);
    }
}

static int mode_of(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static X509 *load_cert(const char *path)
{
    clm_buf pem = CLM_BUF_INIT;
    X509 *cert = NULL;

    slurp(path, &pem);
    pki_cert_from_pem(pem.data, pem.len, &cert);
    clm_buf_free(&pem);
    return cert;
}

/* Log lines written since the last call. */
static void read_log(clm_buf *out)
{
    slurp(log_path, out);
    if (ftruncate(log_fd, 0) != 0)
        perror("ftruncate");
    lseek(log_fd, 0, SEEK_SET);
}

static bool has_san(char **sans, size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(sans[i], want) == 0)
            return true;
    }
    return false;
}

/* How many entries of dir (not . and ..) start with prefix. */
static int count_entries(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    }
    closedir(d);
    return n;
}

UNIT_TEST(test_first_and_second_start)
{
    static const char *const extra[] = {"clm.example.com", "10.1.2.3", "CLM.Example.com",
                                        "2001:DB8::5"};
    const char *data = new_data_dir("first");
    identity_paths p;
    char *password = NULL;
    X509 *ca = NULL, *server = NULL, *admin = NULL;
    char **sans = NULL;
    size_t n_sans = 0;
    char *s = NULL;
    char host[256] = "";
    clm_buf before = CLM_BUF_INIT, after = CLM_BUF_INIT;
    pki_pkcs12_contents c;

    CHECK_INT_EQ(identity_ensure(data, extra, 4, &p, &password), CLM_OK);
    CHECK(password != NULL);
    if (password == NULL)
        return;
    CHECK_INT_EQ(strlen(password), PKI_PASSWORD_LENGTH);
    CHECK(strspn(password, pki_random_password_alphabet()) == PKI_PASSWORD_LENGTH);

    /* paths, modes, nothing else left behind */
    CHECK_STR_CONTAINS(p.server_cert, "/first/tls/server.pem");
    CHECK_STR_CONTAINS(p.admin_p12, "/first/tls/admin.p12");
    CHECK_INT_EQ(mode_of(p.tls_dir), 0700);
    const char *files[] = {p.ca_cert,    p.ca_key,    p.server_cert, p.server_key,
                           p.admin_cert, p.admin_key, p.admin_p12};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        CHECK_INT_EQ(mode_of(files[i]), 0600);
    }
    CHECK_INT_EQ(count_entries(p.tls_dir, ""), 7);
    CHECK_INT_EQ(count_entries(data, ".tls-new-"), 0);

    /* the server certificate chains to the CA and carries the names */
    ca = load_cert(p.ca_cert);
    server = load_cert(p.server_cert);
    admin = load_cert(p.admin_cert);
    CHECK(ca != NULL && server != NULL && admin != NULL);
    if (ca == NULL || server == NULL || admin == NULL)
        goto done;
    CHECK_INT_EQ(pki_cert_verify(server, ca, PKI_EKU_SERVER_AUTH, clm_clock_system()), CLM_OK);
    CHECK_INT_EQ(pki_cert_sans(server, &sans, &n_sans), CLM_OK);
    CHECK(has_san(sans, n_sans, "DNS:localhost"));
    CHECK(has_san(sans, n_sans, "IP:127.0.0.1"));
    CHECK(has_san(sans, n_sans, "IP:::1"));
    CHECK(has_san(sans, n_sans, "DNS:clm.example.com"));
    CHECK(has_san(sans, n_sans, "IP:10.1.2.3"));
    CHECK(has_san(sans, n_sans, "IP:2001:db8::5"));
    gethostname(host, sizeof host - 1);
    if (pki_name_check_dns(host, false) == CLM_OK) {
        char want[300];
        snprintf(want, sizeof want, "DNS:%s", host);
        CHECK(has_san(sans, n_sans, want));
        CHECK_INT_EQ(n_sans, 6 + (strcasecmp(host, "localhost") != 0)); /* duplicate dropped */
    }
    pki_strv_free(sans, n_sans);
    CHECK_INT_EQ(pki_cert_subject_cn(ca, &s), CLM_OK);
    CHECK(s != NULL && strncmp(s, "clm appliance CA", 16) == 0);
    free(s);
    int64_t nb, na;
    CHECK_INT_EQ(pki_cert_validity(ca, &nb, &na), CLM_OK);
    CHECK_INT_EQ((na - nb - PKI_CERT_BACKDATE_SECONDS) / 86400, IDENTITY_CA_DAYS);
    CHECK_INT_EQ(pki_cert_validity(server, &nb, &na), CLM_OK);
    CHECK_INT_EQ((na - nb - PKI_CERT_BACKDATE_SECONDS) / 86400, IDENTITY_SERVER_DAYS);

    /* the admin bundle: clientAuth, OU admin, and the PKCS#12 opens with the password */
    CHECK_INT_EQ(pki_cert_verify(admin, ca, PKI_EKU_CLIENT_AUTH, clm_clock_system()), CLM_OK);
    CHECK_INT_EQ(pki_cert_subject_ou(admin, &s), CLM_OK);
    CHECK_STR_EQ(s, "admin");
    free(s);
    CHECK_INT_EQ(pki_cert_subject_cn(admin, &s), CLM_OK);
    CHECK_STR_EQ(s, "clm-admin");
    free(s);
    slurp(p.admin_p12, &before);
    CHECK_INT_EQ(pki_pkcs12_read(before.data, before.len, password, &c), CLM_OK);
    CHECK(c.cert != NULL && X509_cmp(c.cert, admin) == 0);
    CHECK(c.n_chain == 1 && X509_cmp(c.chain[0], ca) == 0);
    pki_pkcs12_contents_free(&c);
    CHECK_INT_EQ(pki_pkcs12_read(before.data, before.len, "not it", &c), CLM_ERR_UNAUTHENTICATED);

    /* second start: loads, no password, nothing rewritten */
    identity_password_free(password);
    password = (char *)"sentinel";
    slurp(p.server_cert, &before);
    identity_paths p2;
    CHECK_INT_EQ(identity_ensure(data, extra, 4, &p2, &password), CLM_OK);
    CHECK(password == NULL);
    CHECK_STR_EQ(p2.server_key, p.server_key);
    slurp(p.server_cert, &after);
    CHECK(before.len > 0 && before.len == after.len &&
          memcmp(before.data, after.data, before.len) == 0);
done:
    clm_buf_free(&before);
    clm_buf_free(&after);
    X509_free(ca);
    X509_free(server);
    X509_free(admin);
}

UNIT_TEST(test_bad_extra_name)
{
    static const char *const bad_space[] = {"ok.example.com", "my host"};
    static const char *const bad_empty[] = {""};
    static const char *const bad_underscore[] = {"a_b.example"};
    const char *data = new_data_dir("badname");
    identity_paths p;
    char *password = NULL;

    CHECK_INT_EQ(identity_ensure(data, bad_space, 2, &p, &password), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "\"my host\"");
    CHECK_STR_CONTAINS(clm_error_message(), "extra_server_names[1]");
    CHECK_STR_CONTAINS(clm_error_message(), "space");
    CHECK(password == NULL);
    CHECK(access(data, F_OK) != 0); /* checked before anything is written */
    CHECK_INT_EQ(identity_ensure(data, bad_empty, 1, &p, &password), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "empty");
    CHECK_INT_EQ(identity_ensure(data, bad_underscore, 1, &p, &password), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "a_b.example");
    CHECK_INT_EQ(identity_ensure(data, NULL, 1, &p, &password), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(identity_ensure(data, NULL, 0, &p, NULL), CLM_ERR_INVALID_ARGUMENT);
}

/* Make a fresh identity in data; the password is dropped. */
static clm_err fresh(const char *data, identity_paths *p)
{
    char *password = NULL;
    clm_err err = identity_ensure(data, NULL, 0, p, &password);

    identity_password_free(password);
    return err;
}

UNIT_TEST(test_corrupt_files)
{
    char data[PATH_MAX], other_data[PATH_MAX], *password = NULL;
    identity_paths p, other;
    clm_buf good = CLM_BUF_INIT, good_key = CLM_BUF_INIT, text = CLM_BUF_INIT;

    snprintf(data, sizeof data, "%s", new_data_dir("corrupt"));
    snprintf(other_data, sizeof other_data, "%s", new_data_dir("corrupt-other"));
    CHECK_INT_EQ(fresh(data, &p), CLM_OK);
    CHECK_INT_EQ(fresh(other_data, &other), CLM_OK);
    slurp(p.server_cert, &good);
    slurp(p.server_key, &good_key);

    /* garbage in server.pem */
    spit(p.server_cert, "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n"
                        "-----END CERTIFICATE-----\n");
    CHECK_INT_EQ(identity_ensure(data, NULL, 0, &p, &password), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "server.pem");
    CHECK_STR_CONTAINS(clm_error_message(), "no certificate");
    CHECK(password == NULL);

    /* one flipped base64 character in the signature */
    clm_buf_reset(&text);
    clm_buf_append(&text, good.data, good.len);
    char *end = strstr((char *)text.data, "-----END");
    if (end != NULL && end - (char *)text.data > 40) {
        /* a full base64 quad inside the ECDSA signature, away from the padding */
        char *c = end - 16;
        while (*c == '\n' || *c == '=')
            c--;
        *c = *c == 'A' ? 'Q' : 'A';
    }
    spit(p.server_cert, clm_buf_str(&text));
    CHECK(identity_ensure(data, NULL, 0, &p, &password) != CLM_OK);
    CHECK_STR_CONTAINS(clm_error_message(), "server.pem");

    /* a certificate and key from another appliance: does not chain to this CA */
    clm_buf_reset(&text);
    slurp(other.server_cert, &text);
    spit(p.server_cert, clm_buf_str(&text));
    slurp(other.server_key, &text);
    spit(p.server_key, clm_buf_str(&text));
    CHECK_INT_EQ(identity_ensure(data, NULL, 0, &p, &password), CLM_ERR_CRYPTO);
    CHECK_STR_CONTAINS(clm_error_message(), "server.pem");
    CHECK_STR_CONTAINS(clm_error_message(), "does not verify");

    /* this appliance's certificate with the other key */
    spit(p.server_cert, clm_buf_str(&good));
    CHECK_INT_EQ(identity_ensure(data, NULL, 0, &p, &password), CLM_ERR_CRYPTO);
    CHECK_STR_CONTAINS(clm_error_message(), "server.key does not belong to");

    /* restored: loads again */
    spit(p.server_key, clm_buf_str(&good_key));
    CHECK_INT_EQ(identity_ensure(data, NULL, 0, &p, &password), CLM_OK);
    clm_buf_free(&good);
    clm_buf_wipe(&good_key);
    clm_buf_wipe(&text);
}

UNIT_TEST(test_partial_and_reissue)
{
    const char *data = new_data_dir("partial");
    identity_paths p;
    char *password = NULL;
    clm_buf key_before = CLM_BUF_INIT, key_after = CLM_BUF_INIT, ca_pem = CLM_BUF_INIT;
    X509 *ca = NULL, *server = NULL;

    CHECK_INT_EQ(fresh(data, &p), CLM_OK);

    /* ca.pem gone while the server certificate exists: refuse, list the files */
    slurp(p.ca_cert, &ca_pem);
    unlink(p.ca_cert);
    CHECK_INT_EQ(identity_ensure(data, NULL, 0, &p, &password), CLM_ERR_CONFLICT);
    CHECK_STR_CONTAINS(clm_error_message(), "incomplete identity");
    CHECK_STR_CONTAINS(clm_error_message(), "missing: ca.pem");
    CHECK(password == NULL);
    CHECK(access(p.server_cert, F_OK) == 0); /* nothing touched */
    CHECK(access(p.ca_cert, F_OK) != 0);
    spit(p.ca_cert, clm_buf_str(&ca_pem));

    /* server.key without server.pem is fine; server.pem without server.key is not */
    slurp(p.server_key, &key_before);
    unlink(p.server_key);
    CHECK_INT_EQ(identity_ensure(data, NULL, 0, &p, &password), CLM_ERR_CONFLICT);
    CHECK_STR_CONTAINS(clm_error_message(), "server.key");
    spit(p.server_key, clm_buf_str(&key_before));

    /* server.pem deleted: reissued for the same key, no password */
    unlink(p.server_cert);
    CHECK_INT_EQ(identity_ensure(data, NULL, 0, &p, &password), CLM_OK);
    CHECK(password == NULL);
    CHECK_INT_EQ(mode_of(p.server_cert), 0600);
    slurp(p.server_key, &key_after);
    CHECK(key_after.len == key_before.len &&
          memcmp(key_after.data, key_before.data, key_before.len) == 0);
    ca = load_cert(p.ca_cert);
    server = load_cert(p.server_cert);
    CHECK(ca != NULL && server != NULL &&
          pki_cert_verify(server, ca, PKI_EKU_SERVER_AUTH, clm_clock_system()) == CLM_OK);
    X509_free(server);

    /* both deleted: a new key too */
    unlink(p.server_cert);
    unlink(p.server_key);
    CHECK_INT_EQ(identity_ensure(data, NULL, 0, &p, &password), CLM_OK);
    slurp(p.server_key, &key_after);
    CHECK(key_after.len > 0 && (key_after.len != key_before.len ||
                                memcmp(key_after.data, key_before.data, key_before.len) != 0));

    /* the admin key and PKCS#12 may be removed once copied off */
    unlink(p.admin_key);
    unlink(p.admin_p12);
    CHECK_INT_EQ(identity_ensure(data, NULL, 0, &p, &password), CLM_OK);
    CHECK(password == NULL);
    CHECK(access(p.admin_p12, F_OK) != 0);

    /* an empty tls directory is a first start */
    const char *empty = new_data_dir("empty");
    identity_paths q;
    char tls[PATH_MAX];
    mkdir(empty, 0700);
    snprintf(tls, sizeof tls, "%s/tls", empty);
    mkdir(tls, 0755);
    CHECK_INT_EQ(identity_ensure(empty, NULL, 0, &q, &password), CLM_OK);
    CHECK(password != NULL);
    CHECK_INT_EQ(mode_of(tls), 0700);
    identity_password_free(password);

    X509_free(ca);
    clm_buf_wipe(&key_before);
    clm_buf_wipe(&key_after);
    clm_buf_free(&ca_pem);
}

UNIT_TEST(test_modes_and_leftovers)
{
    const char *data = new_data_dir("modes");
    identity_paths p;
    char *password = NULL, stale[PATH_MAX], stale_file[PATH_MAX + 16];
    clm_buf log = CLM_BUF_INIT;

    /* a staging directory left by a crash before the first start completed */
    mkdir(data, 0700);
    snprintf(stale, sizeof stale, "%s/.tls-new-abc123", data);
    mkdir(stale, 0700);
    snprintf(stale_file, sizeof stale_file, "%s/ca.key", stale);
    spit(stale_file, "half a key");
    CHECK_INT_EQ(identity_ensure(data, NULL, 0, &p, &password), CLM_OK);
    CHECK(password != NULL);
    identity_password_free(password);
    password = NULL;
    CHECK(access(stale, F_OK) != 0);

    /* a temporary file from an interrupted write, and a key readable by others */
    snprintf(stale_file, sizeof stale_file, "%s/.server.pem.tmp-XYZ123", p.tls_dir);
    spit(stale_file, "partial");
    chmod(p.server_key, 0644);
    chmod(p.tls_dir, 0755);
    read_log(&log);
    CHECK_INT_EQ(identity_ensure(data, NULL, 0, &p, &password), CLM_OK);
    CHECK_INT_EQ(mode_of(p.server_key), 0600);
    CHECK_INT_EQ(mode_of(p.tls_dir), 0700);
    CHECK(access(stale_file, F_OK) != 0);
    read_log(&log);
    CHECK_STR_CONTAINS(clm_buf_str(&log), "event=identity_file_mode_fixed");
    CHECK_STR_CONTAINS(clm_buf_str(&log), "server.key");
    CHECK(strstr(clm_buf_str(&log), "BEGIN") == NULL);
    clm_buf_free(&log);
}

UNIT_TEST(test_expiry)
{
    const char *data = new_data_dir("expiry");
    const int64_t start = INT64_C(1767225600); /* 2026-01-01 */
    clm_clock_fake fake;
    identity_paths p;
    char *password = NULL;
    clm_buf log = CLM_BUF_INIT;

    clm_clock_fake_init(&fake, start * CLM_NS_PER_SEC);
    CHECK_INT_EQ(identity_ensure_at(&fake.clock, data, NULL, 0, &p, &password), CLM_OK);
    identity_password_free(password);
    password = NULL;

    /* fine a year later, no warning */
    read_log(&log);
    clm_clock_fake_set(&fake, (start + 365 * INT64_C(86400)) * CLM_NS_PER_SEC);
    CHECK_INT_EQ(identity_ensure_at(&fake.clock, data, NULL, 0, &p, &password), CLM_OK);
    read_log(&log);
    CHECK(strstr(clm_buf_str(&log), "identity_cert_expiring") == NULL);

    /* 25 days left: loads, warns */
    clm_clock_fake_set(&fake, (start + 800 * INT64_C(86400)) * CLM_NS_PER_SEC);
    CHECK_INT_EQ(identity_ensure_at(&fake.clock, data, NULL, 0, &p, &password), CLM_OK);
    read_log(&log);
    CHECK_STR_CONTAINS(clm_buf_str(&log), "level=warn event=identity_cert_expiring");
    CHECK_STR_CONTAINS(clm_buf_str(&log), "server.pem");
    CHECK_STR_CONTAINS(clm_buf_str(&log), "days_left=25");

    /* expired: refuses, naming the file */
    clm_clock_fake_set(&fake, (start + 826 * INT64_C(86400)) * CLM_NS_PER_SEC);
    CHECK_INT_EQ(identity_ensure_at(&fake.clock, data, NULL, 0, &p, &password), CLM_ERR_CRYPTO);
    CHECK_STR_CONTAINS(clm_error_message(), "server.pem");
    CHECK_STR_CONTAINS(clm_error_message(), "expired");

    /* renewal: delete server.pem, restart; the expired admin certificate only warns */
    unlink(p.server_cert);
    CHECK_INT_EQ(identity_ensure_at(&fake.clock, data, NULL, 0, &p, &password), CLM_OK);
    CHECK(password == NULL);
    read_log(&log);
    CHECK_STR_CONTAINS(clm_buf_str(&log), "event=identity_server_issued");
    CHECK_STR_CONTAINS(clm_buf_str(&log), "level=warn event=identity_cert_expired");
    CHECK_STR_CONTAINS(clm_buf_str(&log), "admin.pem");

    /* nine years on, the server certificate is cut to the CA's remaining lifetime */
    int64_t later = start + 3400 * INT64_C(86400), nb, na;
    clm_clock_fake_set(&fake, later * CLM_NS_PER_SEC);
    unlink(p.server_cert);
    CHECK_INT_EQ(identity_ensure_at(&fake.clock, data, NULL, 0, &p, &password), CLM_OK);
    X509 *server = load_cert(p.server_cert);
    CHECK(server != NULL && pki_cert_validity(server, &nb, &na) == CLM_OK);
    CHECK(na <= start + IDENTITY_CA_DAYS * INT64_C(86400) && na > later + 200 * INT64_C(86400));
    X509_free(server);
    clm_buf_free(&log);
}

UNIT_TEST(test_issue_client)
{
    char data[PATH_MAX], prefix[PATH_MAX], path[PATH_MAX + 8];
    identity_paths p;
    X509 *ca = NULL, *cert = NULL;
    char *s = NULL, *password = NULL;
    clm_buf der = CLM_BUF_INIT, before = CLM_BUF_INIT, after = CLM_BUF_INIT;
    pki_pkcs12_contents c;

    snprintf(data, sizeof data, "%s", new_data_dir("clients"));
    CHECK_INT_EQ(fresh(data, &p), CLM_OK);
    ca = load_cert(p.ca_cert);

    snprintf(prefix, sizeof prefix, "%s/alice", root);
    CHECK_INT_EQ(identity_issue_client(data, "alice", "operator", 30, prefix), CLM_OK);
    snprintf(path, sizeof path, "%s.pem", prefix);
    CHECK_INT_EQ(mode_of(path), 0600);
    cert = load_cert(path);
    CHECK(cert != NULL);
    if (cert != NULL && ca != NULL) {
        CHECK_INT_EQ(pki_cert_verify(cert, ca, PKI_EKU_CLIENT_AUTH, clm_clock_system()), CLM_OK);
        CHECK_INT_EQ(pki_cert_eku(cert), PKI_EKU_CLIENT_AUTH);
        CHECK_INT_EQ(pki_cert_subject_ou(cert, &s), CLM_OK);
        CHECK_STR_EQ(s, "operator");
        free(s);
        CHECK_INT_EQ(pki_cert_subject_cn(cert, &s), CLM_OK);
        CHECK_STR_EQ(s, "alice");
        free(s);
    }
    snprintf(path, sizeof path, "%s.key", prefix);
    CHECK_INT_EQ(mode_of(path), 0600);
    slurp(path, &before);

    /* never replaces */
    CHECK_INT_EQ(identity_issue_client(data, "alice", "operator", 30, prefix),
                 CLM_ERR_ALREADY_EXISTS);
    CHECK_STR_CONTAINS(clm_error_message(), "alice.pem");
    slurp(path, &after);
    CHECK(after.len == before.len && memcmp(after.data, before.data, before.len) == 0);

    /* bad arguments leave nothing behind */
    snprintf(prefix, sizeof prefix, "%s/mallory", root);
    snprintf(path, sizeof path, "%s.key", prefix);
    CHECK_INT_EQ(identity_issue_client(data, "mallory", "root", 30, prefix),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "\"root\"");
    CHECK_INT_EQ(identity_issue_client(data, "mallory", "viewer", 5000, prefix),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(identity_issue_client(data, "", "viewer", 30, prefix), CLM_ERR_INVALID_ARGUMENT);
    CHECK(access(path, F_OK) != 0);
    CHECK_INT_EQ(identity_issue_client(new_data_dir("no-such"), "x", "viewer", 30, prefix),
                 CLM_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(clm_error_message(), "ca.pem");

    /* every role, and a PKCS#12 for one */
    static const char *const roles[] = {"admin", "operator", "approver", "auditor", "viewer"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(prefix, sizeof prefix, "%s/role-%s", root, roles[i]);
        CHECK_INT_EQ(identity_issue_client(data, roles[i], roles[i], 10, prefix), CLM_OK);
    }
    snprintf(prefix, sizeof prefix, "%s/bob", root);
    CHECK_INT_EQ(identity_issue_client_p12(data, "bob", "approver", 30, prefix, &password), CLM_OK);
    CHECK(password != NULL && strlen(password) == PKI_PASSWORD_LENGTH);
    snprintf(path, sizeof path, "%s.p12", prefix);
    CHECK_INT_EQ(mode_of(path), 0600);
    slurp(path, &der);
    CHECK_INT_EQ(pki_pkcs12_read(der.data, der.len, password ? password : "", &c), CLM_OK);
    CHECK(c.friendly_name != NULL && strcmp(c.friendly_name, "bob") == 0);
    pki_pkcs12_contents_free(&c);
    identity_password_free(password);

    X509_free(ca);
    X509_free(cert);
    clm_buf_free(&der);
    clm_buf_wipe(&before);
    clm_buf_wipe(&after);
}

int main(void)
{
    const char *tmp = getenv("TEST_TMPDIR");

    snprintf(root, sizeof root, "%s/identity_test.XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(log_path, sizeof log_path, "%s/log", root);
    log_fd = open(log_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    clm_log_set_fd(log_fd);

    UNIT_RUN(test_first_and_second_start);
    UNIT_RUN(test_bad_extra_name);
    UNIT_RUN(test_corrupt_files);
    UNIT_RUN(test_partial_and_reissue);
    UNIT_RUN(test_modes_and_leftovers);
    UNIT_RUN(test_expiry);
    UNIT_RUN(test_issue_client);

    clm_log_set_fd(2);
    close(log_fd);
    return unit_report();
}
