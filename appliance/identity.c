/* appliance/identity.c: the appliance CA, server certificate and admin bundle. */
#include "appliance/identity.h"

#include "lib/base/buf.h"
#include "lib/base/log.h"
#include "lib/pki/cert.h"
#include "lib/pki/file.h"
#include "lib/pki/key.h"
#include "lib/pki/name.h"
#include "lib/pki/pkcs12.h"
#include "lib/pki/random.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define IDENTITY_ORG "clm"
#define STAGING_PREFIX ".tls-new-"

enum {
    F_CA_CERT,
    F_CA_KEY,
    F_SERVER_CERT,
    F_SERVER_KEY,
    F_ADMIN_CERT,
    F_ADMIN_KEY,
    F_ADMIN_P12,
    F_MAX
};

static const char *const file_names[F_MAX] = {
    [F_CA_CERT] = "ca.pem",        [F_CA_KEY] = "ca.key",        [F_SERVER_CERT] = "server.pem",
    [F_SERVER_KEY] = "server.key", [F_ADMIN_CERT] = "admin.pem", [F_ADMIN_KEY] = "admin.key",
    [F_ADMIN_P12] = "admin.p12",
};

#define BIT(f) (1u << (f))
#define REQUIRED_FILES                                                                             \
    (BIT(F_CA_CERT) | BIT(F_CA_KEY) | BIT(F_SERVER_CERT) | BIT(F_SERVER_KEY) | BIT(F_ADMIN_CERT))

static const char *const known_roles[] = {"admin", "operator", "approver", "auditor", "viewer"};

bool identity_role_is_known(const char *ou)
{
    for (size_t i = 0; ou != NULL && i < sizeof known_roles / sizeof *known_roles; i++) {
        if (strcmp(ou, known_roles[i]) == 0)
            return true;
    }
    return false;
}

void identity_password_free(char *password)
{
    if (password != NULL) {
        clm_memwipe(password, strlen(password));
        free(password);
    }
}

/* ---- paths and files ------------------------------------------------------------------ */

static clm_err join(char out[PATH_MAX], const char *dir, const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

    if (n < 0 || n >= PATH_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "path \"%s/%s\" is longer than %d bytes", dir,
                        name, PATH_MAX - 1);
    return CLM_OK;
}

static char *path_of(identity_paths *p, int f)
{
    char *slots[F_MAX] = {p->ca_cert,    p->ca_key,    p->server_cert, p->server_key,
                          p->admin_cert, p->admin_key, p->admin_p12};
    return slots[f];
}

static clm_err fill_paths(identity_paths *p, const char *tls_dir)
{
    clm_err err = CLM_OK;

    if (snprintf(p->tls_dir, sizeof p->tls_dir, "%s", tls_dir) >= (int)sizeof p->tls_dir)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "data directory path is too long");
    for (int f = 0; f < F_MAX && err == CLM_OK; f++)
        err = join(path_of(p, f), tls_dir, file_names[f]);
    return err;
}

/* Remove the files in dir (not recursive), then dir itself. Best effort. */
static void remove_flat_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                unlinkat(dirfd(d), e->d_name, 0);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Left behind by a crash: staging directories in data_dir, temporary files in tls/.
 * Safe to remove: the caller holds the identity lock. */
static void remove_leftovers(const char *data_dir, const char *tls_dir)
{
    char path[PATH_MAX];
    DIR *d = opendir(data_dir);
    struct dirent *e;

    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (strncmp(e->d_name, STAGING_PREFIX, strlen(STAGING_PREFIX)) == 0 &&
                join(path, data_dir, e->d_name) == CLM_OK) {
                CLM_LOG_INFO("identity_staging_removed", "path", path);
                remove_flat_dir(path);
            }
        }
        closedir(d);
    }
    d = opendir(tls_dir);
    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.' && strstr(e->d_name, ".tmp-") != NULL)
                unlinkat(dirfd(d), e->d_name, 0);
        }
        closedir(d);
    }
    clm_error_clear();
}

static clm_err lock_identity(const char *data_dir, int *fd_out)
{
    char path[PATH_MAX];
    clm_err err = join(path, data_dir, ".identity.lock");
    int fd;

    *fd_out = -1;
    if (err != CLM_OK)
        return err;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return clm_fail(CLM_ERR_IO, "%s: %s", path, strerror(errno));
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            err = clm_fail(CLM_ERR_IO, "lock %s: %s", path, strerror(errno));
            close(fd);
            return err;
        }
    }
    *fd_out = fd;
    return CLM_OK;
}

static void unlock_identity(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

/* Set a file back to `mode` when group or others may read it. */
static void tighten_mode(const char *path, mode_t mode)
{
    struct stat st;

    if (stat(path, &st) == 0 && (st.st_mode & 077) != 0 && chmod(path, mode) == 0) {
        char was[8];
        snprintf(was, sizeof was, "%04o", (unsigned)(st.st_mode & 07777));
        CLM_LOG_WARN("identity_file_mode_fixed", "path", path, "was", was);
    }
}

/* ---- server names ----------------------------------------------------------------------- */

typedef struct server_names {
    char *dns[IDENTITY_EXTRA_NAMES_MAX + 2]; /* lower case, owned */
    size_t n_dns;
    char *ip[IDENTITY_EXTRA_NAMES_MAX + 2]; /* canonical inet_ntop text, owned */
    size_t n_ip;
    char host[256];     /* the hostname when it is a usable DNS name, else "" */
    char raw_host[256]; /* the hostname, non-printable bytes as '?' (for the CA's CN) */
} server_names;

static void server_names_free(server_names *sn)
{
    for (size_t i = 0; i < sn->n_dns; i++)
        free(sn->dns[i]);
    for (size_t i = 0; i < sn->n_ip; i++)
        free(sn->ip[i]);
    sn->n_dns = sn->n_ip = 0;
}

static clm_err add_name(server_names *sn, const char *text)
{
    unsigned char addr[PKI_IP_MAX_BYTES];
    char canon[64];
    size_t len;
    clm_err err;

    if (pki_name_parse_ip(text, addr, &len)) {
        if ((err = pki_name_format_ip(addr, len, canon, sizeof canon)) != CLM_OK)
            return err;
        for (size_t i = 0; i < sn->n_ip; i++) {
            if (strcmp(sn->ip[i], canon) == 0)
                return CLM_OK;
        }
        if (sn->n_ip == sizeof sn->ip / sizeof *sn->ip)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "too many server names");
        if ((sn->ip[sn->n_ip] = strdup(canon)) == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        sn->n_ip++;
        return CLM_OK;
    }
    if ((err = pki_name_check_dns(text, false)) != CLM_OK)
        return err;
    for (size_t i = 0; i < sn->n_dns; i++) {
        if (strcasecmp(sn->dns[i], text) == 0)
            return CLM_OK;
    }
    if (sn->n_dns == sizeof sn->dns / sizeof *sn->dns)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "too many server names");
    if ((sn->dns[sn->n_dns] = strdup(text)) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (char *c = sn->dns[sn->n_dns]; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    sn->n_dns++;
    return CLM_OK;
}

/* The server certificate's names: hostname, localhost, 127.0.0.1, ::1, then the extras
 * (checked first, so a bad extra name fails before anything else happens). */
static clm_err build_server_names(const char *const *extra, size_t n, server_names *sn)
{
    server_names extras = {0};
    char host[256] = "";
    clm_err err = CLM_OK;

    memset(sn, 0, sizeof *sn);
    if (n > IDENTITY_EXTRA_NAMES_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "extra_server_names: %zu names, at most %d", n,
                        IDENTITY_EXTRA_NAMES_MAX);
    if (n > 0 && extra == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "extra_server_names is NULL");
    for (size_t i = 0; i < n && err == CLM_OK; i++) {
        if (extra[i] == NULL || extra[i][0] == '\0')
            err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "extra_server_names[%zu] is empty", i);
        else if ((err = add_name(&extras, extra[i])) != CLM_OK)
            err = clm_error_context(err, "extra_server_names[%zu]", i);
    }
    if (err != CLM_OK) {
        server_names_free(&extras);
        return err;
    }
    if (gethostname(host, sizeof host - 1) != 0)
        host[0] = '\0';
    host[sizeof host - 1] = '\0';
    for (size_t i = 0; host[i] != '\0'; i++)
        sn->raw_host[i] = host[i] > 0x20 && host[i] < 0x7f ? host[i] : '?';
    if (host[0] != '\0' && !pki_name_parse_ip(host, NULL, NULL) &&
        pki_name_check_dns(host, false) == CLM_OK) {
        snprintf(sn->host, sizeof sn->host, "%s", host);
        err = add_name(sn, host);
    } else if (host[0] != '\0') {
        CLM_LOG_WARN("identity_hostname_unusable", "hostname", host, "reason",
                     "not a DNS name; left out of the server certificate");
        clm_error_clear();
    }
    if (err == CLM_OK)
        err = add_name(sn, "localhost");
    if (err == CLM_OK)
        err = add_name(sn, "127.0.0.1");
    if (err == CLM_OK)
        err = add_name(sn, "::1");
    for (size_t i = 0; i < extras.n_dns && err == CLM_OK; i++)
        err = add_name(sn, extras.dns[i]);
    for (size_t i = 0; i < extras.n_ip && err == CLM_OK; i++)
        err = add_name(sn, extras.ip[i]);
    server_names_free(&extras);
    if (err != CLM_OK)
        server_names_free(sn);
    return err;
}

/* ---- making certificates ---------------------------------------------------------------- */

typedef struct bundle {
    EVP_PKEY *key;
    X509 *cert;
    clm_buf key_pem; /* secret: wiped */
    clm_buf cert_pem;
} bundle;

static void bundle_free(bundle *b)
{
    EVP_PKEY_free(b->key);
    X509_free(b->cert);
    clm_buf_wipe(&b->key_pem);
    clm_buf_free(&b->cert_pem);
    memset(b, 0, sizeof *b);
}

/* The key first (skipped when key_pem is empty: the key is already on disk): a crash between the
 * two leaves a key without a certificate, which the next start completes (server) or a caller
 * removes (clients). */
static clm_err bundle_write(const bundle *b, const char *cert_path, const char *key_path,
                            bool replace)
{
    clm_err err = CLM_OK;

    if (b->key_pem.len > 0)
        err = pki_file_write(key_path, b->key_pem.data, b->key_pem.len, replace);
    if (err == CLM_OK)
        err = pki_file_write(cert_path, b->cert_pem.data, b->cert_pem.len, replace);
    return err;
}

/* Issue a leaf for b->key (generated when NULL) from the CA; b->key_pem stays empty for a
 * key that was given (it is already on disk). */
static clm_err issue_leaf(const pki_cert_template *tmpl, const bundle *ca, const clm_clock *clock,
                          bundle *b)
{
    clm_err err = CLM_OK;

    if (b->key == NULL) {
        if ((err = pki_key_generate(PKI_KEY_EC_P256, &b->key)) != CLM_OK ||
            (err = pki_key_to_pem(b->key, &b->key_pem)) != CLM_OK)
            return err;
    }
    if ((err = pki_cert_issue(tmpl, b->key, ca->cert, ca->key, clock, &b->cert)) != CLM_OK)
        return err;
    return pki_cert_to_pem(b->cert, &b->cert_pem);
}

/* IDENTITY_SERVER_DAYS, or less when the CA expires sooner (a server certificate must
 * not outlive its CA; the appliance must still start and renew in the CA's last years). */
static clm_err issue_server(const server_names *sn, const bundle *ca, const clm_clock *clock,
                            bundle *b)
{
    int64_t ca_not_after, left;
    clm_err err = pki_cert_validity(ca->cert, NULL, &ca_not_after);

    if (err != CLM_OK)
        return err;
    left = (ca_not_after - clm_clock_now_ns(clock) / CLM_NS_PER_SEC) / 86400;
    if (left < 1)
        return clm_fail(CLM_ERR_CRYPTO, "the appliance CA expires within a day; make a new "
                                        "identity (move the tls directory aside)");
    pki_cert_template tmpl = {
        .common_name =
            sn->host[0] != '\0' && strlen(sn->host) <= PKI_CERT_ATTR_MAX ? sn->host : "localhost",
        .organization = IDENTITY_ORG,
        .dns_names = (const char *const *)sn->dns,
        .n_dns_names = sn->n_dns,
        .ip_addresses = (const char *const *)sn->ip,
        .n_ip_addresses = sn->n_ip,
        .days = left < IDENTITY_SERVER_DAYS ? (int)left : IDENTITY_SERVER_DAYS,
        .eku = PKI_EKU_SERVER_AUTH,
    };
    return issue_leaf(&tmpl, ca, clock, b);
}

static clm_err issue_client_cert(const char *cn, const char *role, int days, const bundle *ca,
                                 const clm_clock *clock, bundle *b)
{
    pki_cert_template tmpl = {
        .common_name = cn,
        .organization = IDENTITY_ORG,
        .org_unit = role,
        .days = days,
        .eku = PKI_EKU_CLIENT_AUTH,
    };
    return issue_leaf(&tmpl, ca, clock, b);
}

/* A PKCS#12 of b and the CA under a new password; *password_out is malloc'd. */
static clm_err write_p12(const bundle *b, const bundle *ca, const char *friendly_name,
                         const char *path, char **password_out)
{
    char password[PKI_PASSWORD_LENGTH + 1];
    clm_buf der = CLM_BUF_INIT;
    X509 *chain[1] = {ca->cert};
    clm_err err;

    *password_out = NULL;
    err = pki_random_password(password, sizeof password, PKI_PASSWORD_LENGTH);
    if (err == CLM_OK)
        err = pki_pkcs12_write(b->key, b->cert, chain, 1, friendly_name, password, &der);
    /* the copy before the file: a bundle whose password was lost is useless */
    if (err == CLM_OK && (*password_out = strdup(password)) == NULL)
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if (err == CLM_OK)
        err = pki_file_write(path, der.data, der.len, false);
    if (err != CLM_OK) {
        identity_password_free(*password_out);
        *password_out = NULL;
    }
    clm_memwipe(password, sizeof password);
    clm_buf_free(&der);
    return err;
}

/* ---- loading and validating -------------------------------------------------------------- */

static clm_err load_cert(const char *path, X509 **out)
{
    clm_buf pem = CLM_BUF_INIT;
    clm_err err = pki_file_read(path, &pem);

    *out = NULL;
    if (err == CLM_OK && (err = pki_cert_from_pem(pem.data, pem.len, out)) != CLM_OK)
        err = clm_error_context(err, "%s", path);
    clm_buf_free(&pem);
    return err;
}

static clm_err load_key(const char *path, EVP_PKEY **out)
{
    clm_buf pem = CLM_BUF_INIT;
    clm_err err = pki_file_read(path, &pem);

    *out = NULL;
    if (err == CLM_OK && (err = pki_key_from_pem(pem.data, pem.len, out)) != CLM_OK)
        err = clm_error_context(err, "%s", path);
    clm_buf_wipe(&pem);
    return err;
}

/* Load a certificate and, when key_path is given, its key, checking that they match. */
static clm_err load_pair(const char *cert_path, const char *key_path, bundle *b)
{
    clm_err err = load_cert(cert_path, &b->cert);

    if (err == CLM_OK && key_path != NULL && (err = load_key(key_path, &b->key)) == CLM_OK &&
        (err = pki_cert_check_key(b->cert, b->key)) != CLM_OK)
        err = clm_error_context(err, "%s does not belong to %s", key_path, cert_path);
    return err;
}

static clm_err load_ca(const identity_paths *p, const clm_clock *clock, bundle *ca)
{
    clm_err err = load_pair(p->ca_cert, p->ca_key, ca);

    if (err == CLM_OK && (err = pki_cert_verify(ca->cert, ca->cert, 0, clock)) != CLM_OK)
        err = clm_error_context(err, "%s: not a valid CA now", p->ca_cert);
    return err;
}

static void warn_if_expiring(X509 *cert, const char *path, const clm_clock *clock)
{
    int64_t not_after, now = clm_clock_now_ns(clock) / CLM_NS_PER_SEC;

    if (pki_cert_validity(cert, NULL, &not_after) != CLM_OK) {
        clm_error_clear();
        return;
    }
    if (not_after - now < (int64_t)IDENTITY_EXPIRY_WARN_DAYS * 86400)
        CLM_LOG_WARN("identity_cert_expiring", "path", path, "days_left",
                     CLM_I64((not_after - now) / 86400), "fix",
                     "delete it (and its .key for a new key) and restart to reissue");
}

/* Warn for each configured server name that server.pem does not carry. */
static void warn_missing_names(X509 *cert, const char *path, const server_names *sn)
{
    char **sans = NULL, want[300];
    size_t n_sans = 0;

    if (pki_cert_sans(cert, &sans, &n_sans) != CLM_OK) {
        clm_error_clear();
        return;
    }
    for (size_t k = 0; k < sn->n_dns + sn->n_ip; k++) {
        bool found = false;
        if (k < sn->n_dns)
            snprintf(want, sizeof want, "DNS:%s", sn->dns[k]);
        else
            snprintf(want, sizeof want, "IP:%s", sn->ip[k - sn->n_dns]);
        for (size_t i = 0; i < n_sans && !found; i++)
            found = strcasecmp(sans[i], want) == 0;
        if (!found)
            CLM_LOG_WARN("identity_server_name_missing", "path", path, "name", want, "fix",
                         "delete server.pem and restart to reissue it with the current names");
    }
    pki_strv_free(sans, n_sans);
}

/* admin.pem must chain to the CA; once expired it only warns: the appliance still starts
 * (and serves the admins holding newer bundles). */
static clm_err check_client(X509 *cert, X509 *ca, const char *path, const clm_clock *clock)
{
    int64_t not_after, now = clm_clock_now_ns(clock) / CLM_NS_PER_SEC;
    clm_clock_fake before_expiry;
    clm_err err = pki_cert_validity(cert, NULL, &not_after);

    if (err == CLM_OK && now <= not_after)
        err = pki_cert_verify(cert, ca, PKI_EKU_CLIENT_AUTH, clock);
    else if (err == CLM_OK) {
        clm_clock_fake_init(&before_expiry, (not_after - 1) * CLM_NS_PER_SEC);
        err = pki_cert_verify(cert, ca, PKI_EKU_CLIENT_AUTH, &before_expiry.clock);
        if (err == CLM_OK)
            CLM_LOG_WARN("identity_cert_expired", "path", path, "fix",
                         "issue a new admin bundle from the appliance CA");
    }
    if (err != CLM_OK)
        return clm_error_context(err, "%s", path);
    warn_if_expiring(cert, path, clock);
    return CLM_OK;
}

static clm_err validate(const identity_paths *p, const server_names *sn, const clm_clock *clock)
{
    bundle ca = {0}, server = {0}, admin = {0};
    char fingerprint[PKI_FINGERPRINT_HEX_SIZE] = "";
    clm_err err;

    if ((err = load_ca(p, clock, &ca)) != CLM_OK)
        goto done;
    warn_if_expiring(ca.cert, p->ca_cert, clock);
    if ((err = load_pair(p->server_cert, p->server_key, &server)) != CLM_OK)
        goto done;
    if ((err = pki_cert_verify(server.cert, ca.cert, PKI_EKU_SERVER_AUTH, clock)) != CLM_OK) {
        err = clm_error_context(err, "%s", p->server_cert);
        goto done;
    }
    warn_if_expiring(server.cert, p->server_cert, clock);
    warn_missing_names(server.cert, p->server_cert, sn);
    if ((err = load_pair(p->admin_cert, access(p->admin_key, F_OK) == 0 ? p->admin_key : NULL,
                         &admin)) != CLM_OK)
        goto done;
    if ((err = check_client(admin.cert, ca.cert, p->admin_cert, clock)) != CLM_OK)
        goto done;
    pki_cert_fingerprint_sha256(ca.cert, fingerprint);
    CLM_LOG_INFO("identity_loaded", "tls_dir", p->tls_dir, "ca_sha256", fingerprint);
done:
    bundle_free(&ca);
    bundle_free(&server);
    bundle_free(&admin);
    return err;
}

/* ---- first start, reissue, survey --------------------------------------------------------- */

/* Make every file in a staging directory, then rename it to tls_dir in one step. */
static clm_err create_identity(const char *data_dir, const identity_paths *final,
                               const server_names *sn, const clm_clock *clock, char **password)
{
    char staging[PATH_MAX], ca_cn[PKI_CERT_ATTR_MAX + 1];
    identity_paths p;
    bundle ca = {0}, server = {0}, admin = {0};
    clm_err err;

    *password = NULL;
    if ((err = join(staging, data_dir, STAGING_PREFIX "XXXXXX")) != CLM_OK)
        return err;
    if (mkdtemp(staging) == NULL)
        return clm_fail(CLM_ERR_IO, "cannot create a directory in %s: %s", data_dir,
                        strerror(errno));
    if ((err = fill_paths(&p, staging)) != CLM_OK)
        goto done;
    /* CN "clm appliance CA <hostname>", cut to the 64 bytes X.509 allows */
    snprintf(ca_cn, sizeof ca_cn, "clm appliance CA%s%s", sn->raw_host[0] ? " " : "", sn->raw_host);
    if ((err = pki_key_generate(PKI_KEY_EC_P256, &ca.key)) != CLM_OK ||
        (err = pki_cert_create_ca(ca.key, ca_cn, IDENTITY_ORG, IDENTITY_CA_DAYS, clock,
                                  &ca.cert)) != CLM_OK ||
        (err = pki_key_to_pem(ca.key, &ca.key_pem)) != CLM_OK ||
        (err = pki_cert_to_pem(ca.cert, &ca.cert_pem)) != CLM_OK ||
        (err = bundle_write(&ca, p.ca_cert, p.ca_key, false)) != CLM_OK)
        goto done;
    if ((err = issue_server(sn, &ca, clock, &server)) != CLM_OK ||
        (err = bundle_write(&server, p.server_cert, p.server_key, false)) != CLM_OK)
        goto done;
    if ((err = issue_client_cert("clm-admin", "admin", IDENTITY_CLIENT_DAYS, &ca, clock, &admin)) !=
            CLM_OK ||
        (err = bundle_write(&admin, p.admin_cert, p.admin_key, false)) != CLM_OK ||
        (err = write_p12(&admin, &ca, "clm-admin", p.admin_p12, password)) != CLM_OK)
        goto done;
    if (rename(staging, final->tls_dir) != 0) {
        err = clm_fail(CLM_ERR_IO, "rename %s to %s: %s", staging, final->tls_dir, strerror(errno));
        goto done;
    }
    staging[0] = '\0';
    err = pki_file_fsync_dir(data_dir);
    if (err == CLM_OK) {
        char fingerprint[PKI_FINGERPRINT_HEX_SIZE] = "";
        pki_cert_fingerprint_sha256(ca.cert, fingerprint);
        CLM_LOG_INFO("identity_created", "tls_dir", final->tls_dir, "ca_sha256", fingerprint,
                     "admin_bundle", final->admin_p12);
    }
done:
    if (err != CLM_OK && staging[0] != '\0')
        remove_flat_dir(staging);
    if (err != CLM_OK) {
        identity_password_free(*password);
        *password = NULL;
    }
    bundle_free(&ca);
    bundle_free(&server);
    bundle_free(&admin);
    return err;
}

/* server.pem is missing: issue it from the CA, for server.key when present. */
static clm_err reissue_server(const identity_paths *p, const server_names *sn,
                              const clm_clock *clock)
{
    bundle ca = {0}, server = {0};
    clm_err err = load_ca(p, clock, &ca);

    if (err == CLM_OK && access(p->server_key, F_OK) == 0)
        err = load_key(p->server_key, &server.key);
    if (err == CLM_OK)
        err = issue_server(sn, &ca, clock, &server);
    if (err == CLM_OK)
        err = bundle_write(&server, p->server_cert, p->server_key, false);
    if (err == CLM_OK)
        CLM_LOG_INFO("identity_server_issued", "path", p->server_cert, "new_key",
                     server.key_pem.len > 0 ? "yes" : "no");
    bundle_free(&ca);
    bundle_free(&server);
    return err;
}

/* Which identity files exist, as F_* bits. */
static clm_err survey(const identity_paths *p, unsigned *present)
{
    struct stat st;

    *present = 0;
    for (int f = 0; f < F_MAX; f++) {
        const char *path = path_of((identity_paths *)p, f);
        if (stat(path, &st) == 0) {
            if (!S_ISREG(st.st_mode))
                return clm_fail(CLM_ERR_IO, "%s is not a regular file", path);
            *present |= BIT(f);
        } else if (errno != ENOENT) {
            return clm_fail(CLM_ERR_IO, "%s: %s", path, strerror(errno));
        }
    }
    return CLM_OK;
}

static clm_err incomplete(const identity_paths *p, unsigned present)
{
    clm_buf have = CLM_BUF_INIT, lack = CLM_BUF_INIT;
    clm_err err;

    for (int f = 0; f < F_MAX; f++) {
        clm_buf *list = (present & BIT(f)) ? &have : (REQUIRED_FILES & BIT(f)) ? &lack : NULL;
        if (list != NULL)
            clm_buf_printf(list, "%s%s", list->len ? ", " : "", file_names[f]);
    }
    err = clm_fail(CLM_ERR_CONFLICT,
                   "%s holds an incomplete identity (present: %s; missing: %s); clm will not "
                   "mix it with a new CA. Restore the missing files from a backup, or move %s "
                   "aside to make a new identity (clients must then get the new ca.pem and "
                   "admin bundle)",
                   p->tls_dir, have.len ? clm_buf_str(&have) : "none", clm_buf_str(&lack),
                   p->tls_dir);
    clm_buf_free(&have);
    clm_buf_free(&lack);
    return err;
}

clm_err identity_ensure_at(const clm_clock *clock, const char *data_dir,
                           const char *const *extra_server_names, size_t n_names,
                           identity_paths *out, char **admin_p12_password_out)
{
    char tls_dir[PATH_MAX];
    server_names sn;
    struct stat st;
    unsigned present = 0;
    int lock_fd = -1;
    clm_err err;

    if (admin_p12_password_out != NULL)
        *admin_p12_password_out = NULL;
    if (clock == NULL || data_dir == NULL || data_dir[0] == '\0' || out == NULL ||
        admin_p12_password_out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "identity_ensure: clock, data_dir, out and password_out are required");
    memset(out, 0, sizeof *out);
    if ((err = build_server_names(extra_server_names, n_names, &sn)) != CLM_OK)
        return err;
    if ((err = join(tls_dir, data_dir, "tls")) != CLM_OK ||
        (err = fill_paths(out, tls_dir)) != CLM_OK)
        goto done;
    if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
        err = clm_fail(CLM_ERR_IO, "cannot create the data directory %s: %s", data_dir,
                       strerror(errno));
        goto done;
    }
    if ((err = lock_identity(data_dir, &lock_fd)) != CLM_OK)
        goto done;
    remove_leftovers(data_dir, tls_dir);

    if (stat(tls_dir, &st) != 0) {
        if (errno != ENOENT) {
            err = clm_fail(CLM_ERR_IO, "%s: %s", tls_dir, strerror(errno));
            goto done;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        err = clm_fail(CLM_ERR_IO, "%s is not a directory", tls_dir);
        goto done;
    } else {
        tighten_mode(tls_dir, 0700);
        if ((err = survey(out, &present)) != CLM_OK)
            goto done;
        if (present == 0 && rmdir(tls_dir) != 0) {
            err = clm_fail(CLM_ERR_CONFLICT,
                           "%s holds no identity but other files (%s); move them away", tls_dir,
                           strerror(errno));
            goto done;
        }
    }

    if (present == 0) {
        err = create_identity(data_dir, out, &sn, clock, admin_p12_password_out);
    } else if ((present & REQUIRED_FILES) != REQUIRED_FILES) {
        const unsigned reissue_needs = BIT(F_CA_CERT) | BIT(F_CA_KEY) | BIT(F_ADMIN_CERT);
        if ((present & reissue_needs) == reissue_needs && !(present & BIT(F_SERVER_CERT)))
            err = reissue_server(out, &sn, clock);
        else
            err = incomplete(out, present);
    }
    if (err == CLM_OK) {
        for (int f = 0; f < F_MAX; f++)
            tighten_mode(path_of(out, f), 0600);
        err = validate(out, &sn, clock);
    }
    if (err != CLM_OK && *admin_p12_password_out != NULL) {
        identity_password_free(*admin_p12_password_out);
        *admin_p12_password_out = NULL;
    }
done:
    unlock_identity(lock_fd);
    server_names_free(&sn);
    return err;
}

clm_err identity_ensure(const char *data_dir, const char *const *extra_server_names, size_t n_names,
                        identity_paths *out, char **admin_p12_password_out)
{
    return identity_ensure_at(clm_clock_system(), data_dir, extra_server_names, n_names, out,
                              admin_p12_password_out);
}

/* ---- further client bundles --------------------------------------------------------------- */

static clm_err issue_client(const char *data_dir, const char *cn, const char *role, int days,
                            const char *out_prefix, char **password_out)
{
    const clm_clock *clock = clm_clock_system();
    identity_paths p;
    char out_cert[PATH_MAX], out_key[PATH_MAX], out_p12[PATH_MAX], tls_dir[PATH_MAX];
    const char *outputs[3] = {out_cert, out_key, out_p12};
    bool written[3] = {false, false, false};
    bundle ca = {0}, client = {0};
    char fingerprint[PKI_FINGERPRINT_HEX_SIZE] = "";
    int lock_fd = -1;
    clm_err err;

    if (data_dir == NULL || data_dir[0] == '\0' || out_prefix == NULL || out_prefix[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "data_dir and out_prefix are required");
    if (!identity_role_is_known(role))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "role_ou \"%.32s\" is not a role; use admin, operator, approver, "
                        "auditor or viewer",
                        role ? role : "(null)");
    if (snprintf(out_cert, sizeof out_cert, "%s.pem", out_prefix) >= (int)sizeof out_cert ||
        snprintf(out_key, sizeof out_key, "%s.key", out_prefix) >= (int)sizeof out_key ||
        snprintf(out_p12, sizeof out_p12, "%s.p12", out_prefix) >= (int)sizeof out_p12)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "out_prefix is too long");
    for (int i = 0; i < (password_out ? 3 : 2); i++) {
        if (access(outputs[i], F_OK) == 0)
            return clm_fail(CLM_ERR_ALREADY_EXISTS, "%s already exists; not replaced", outputs[i]);
    }
    if ((err = join(tls_dir, data_dir, "tls")) != CLM_OK ||
        (err = fill_paths(&p, tls_dir)) != CLM_OK)
        return err;
    if (access(p.ca_cert, F_OK) != 0)
        return clm_fail(CLM_ERR_NOT_FOUND,
                        "%s: %s; client certificates are issued by the appliance CA, which "
                        "clmd makes on its first start",
                        p.ca_cert, strerror(errno));
    if ((err = lock_identity(data_dir, &lock_fd)) != CLM_OK)
        return err;
    if ((err = load_ca(&p, clock, &ca)) != CLM_OK) {
        if (err == CLM_ERR_NOT_FOUND)
            err = clm_error_context(err, "client certificates are issued by the appliance CA");
        goto done;
    }
    if ((err = issue_client_cert(cn, role, days, &ca, clock, &client)) != CLM_OK)
        goto done;
    if ((err = pki_file_write(out_key, client.key_pem.data, client.key_pem.len, false)) != CLM_OK)
        goto done;
    written[1] = true;
    if ((err = pki_file_write(out_cert, client.cert_pem.data, client.cert_pem.len, false)) !=
        CLM_OK)
        goto done;
    written[0] = true;
    if (password_out != NULL) {
        if ((err = write_p12(&client, &ca, cn, out_p12, password_out)) != CLM_OK)
            goto done;
        written[2] = true;
    }
    pki_cert_fingerprint_sha256(client.cert, fingerprint);
    CLM_LOG_INFO("identity_client_issued", "cn", cn, "role", role, "path", out_cert, "sha256",
                 fingerprint);
done:
    if (err != CLM_OK) {
        for (int i = 0; i < 3; i++) {
            if (written[i])
                unlink(outputs[i]);
        }
    }
    unlock_identity(lock_fd);
    bundle_free(&ca);
    bundle_free(&client);
    return err;
}

clm_err identity_issue_client(const char *data_dir, const char *common_name, const char *role_ou,
                              int days, const char *out_prefix)
{
    return issue_client(data_dir, common_name, role_ou, days, out_prefix, NULL);
}

clm_err identity_issue_client_p12(const char *data_dir, const char *common_name,
                                  const char *role_ou, int days, const char *out_prefix,
                                  char **p12_password_out)
{
    if (p12_password_out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "p12_password_out is required");
    *p12_password_out = NULL;
    return issue_client(data_dir, common_name, role_ou, days, out_prefix, p12_password_out);
}
