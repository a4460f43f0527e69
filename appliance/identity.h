/*
 * appliance/identity.h: the appliance's own TLS identity, made on first start.
 *
 * On first start the appliance makes, in DATA_DIR/tls/ (mode 0700, every file 0600):
 *
 *   ca.pem, ca.key          the appliance CA: EC P-256, 10 years,
 *                           CN "clm appliance CA <hostname>", O "clm"
 *   server.pem, server.key  the API's server certificate: EC P-256, 825 days, serverAuth,
 *                           SANs: the hostname, "localhost", 127.0.0.1, ::1 and the
 *                           configured extra names
 *   admin.pem, admin.key    the first admin client certificate: EC P-256, 825 days,
 *                           clientAuth, CN "clm-admin", OU "admin" (clm maps OU to role)
 *   admin.p12               the same key, certificate and the CA in one PKCS#12
 *                           (3DES, 2048 iterations, SHA-1 MAC) under a generated password
 *                           that is handed back once, to be shown once.
 *
 * No shared default certificate or password ever ships (DESIGN.md, API).
 *
 * What identity_ensure() finds in DATA_DIR/tls, and what it does:
 *   - no directory, or an empty one: makes every file in a staging directory
 *     DATA_DIR/.tls-new-XXXXXX, then renames it to DATA_DIR/tls in one step. A crash at
 *     any point leaves either no tls/ (the next start begins again and removes the
 *     stale staging directory) or a complete one; never half an identity.
 *   - ca.pem, ca.key, server.pem, server.key and admin.pem present: loads and validates
 *     them (below). admin.key and admin.p12 are optional: an operator may delete them
 *     once the admin bundle is copied off the appliance (recommended).
 *   - everything above except server.pem: issues a new server.pem from the existing CA,
 *     for server.key when it is there (else for a new key, written first). Clients keep
 *     trusting the same CA, so this is how the server certificate is renewed or given
 *     new names: delete server.pem (and server.key for a new key) and restart. It also
 *     finishes a reissue that a crash interrupted between the key and the certificate.
 *   - anything else (ca.pem missing while server.pem exists, server.pem without
 *     server.key, admin.pem missing): fails with
 *     CLM_ERR_CONFLICT listing the files present and missing. clm never silently makes a
 *     new CA beside certificates that clients may already trust, nor mixes identities;
 *     the message says how to recover (restore from backup, or move tls/ aside).
 *
 * Validation of existing files: each parses; each key matches its certificate; the CA
 * is valid now; server.pem chains to ca.pem for serverAuth and is not expired (else the
 * call fails: renew by deleting server.pem); admin.pem chains to ca.pem for clientAuth
 * (once expired it is only logged, identity_cert_expired: the appliance still starts for
 * admins holding newer bundles). A certificate that expires within
 * IDENTITY_EXPIRY_WARN_DAYS is logged with CLM_LOG_WARN (identity_cert_expiring); so is
 * a configured server name the server certificate lacks (identity_server_name_missing).
 * A reissued server certificate never outlives the CA: in the CA's last 825 days it is
 * cut to the CA's remaining lifetime. Files readable by group or others are set back to
 * 0600 (the directory to 0700) with a warning.
 *
 * Every file is written atomically: a temporary file in the same directory, fsync,
 * rename (or link, where an existing file must not be replaced), fsync of the directory.
 *
 * Caveats: an advisory lock (flock on DATA_DIR/.identity.lock) serialises
 * identity_ensure() and identity_issue_client*() between processes and threads; other
 * writers of DATA_DIR/tls are not expected. Passwords are never logged or put in error
 * messages.
 *
 * Thread rules: the functions may be called from any thread; they serialise on the lock.
 */
#ifndef CLM_APPLIANCE_IDENTITY_H
#define CLM_APPLIANCE_IDENTITY_H

#include "lib/base/clock.h"
#include "lib/base/error.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/** Validity of the appliance CA (10 years) and of the certificates it issues, in days. */
#define IDENTITY_CA_DAYS 3650
#define IDENTITY_SERVER_DAYS 825
#define IDENTITY_CLIENT_DAYS 825

/** A certificate expiring within this many days is logged with CLM_LOG_WARN. */
#define IDENTITY_EXPIRY_WARN_DAYS 30

/** Most extra server names accepted. */
#define IDENTITY_EXTRA_NAMES_MAX 64

/** Where the identity files are; every member is a NUL-terminated absolute or
 * data_dir-relative path. Plain arrays: nothing to free. */
typedef struct identity_paths {
    char tls_dir[PATH_MAX];     /* DATA_DIR/tls */
    char ca_cert[PATH_MAX];     /* ca.pem */
    char ca_key[PATH_MAX];      /* ca.key */
    char server_cert[PATH_MAX]; /* server.pem */
    char server_key[PATH_MAX];  /* server.key */
    char admin_cert[PATH_MAX];  /* admin.pem */
    char admin_key[PATH_MAX];   /* admin.key (may have been removed by the operator) */
    char admin_p12[PATH_MAX];   /* admin.p12 (may have been removed by the operator) */
} identity_paths;

/**
 * @brief Make the appliance identity on first start, or load and validate it (see the
 * top of this file for every case).
 * @param[in]  data_dir            the data directory; created (0700) when missing, but
 *                                 its parent must exist.
 * @param[in]  extra_server_names  further names for server.pem, each a DNS host name
 *                                 ("clm.example.com") or an IPv4/IPv6 literal; checked
 *                                 before anything is written. May be NULL when
 *                                 n_names is 0. Duplicates are dropped.
 * @param[in]  n_names             number of extra names, at most IDENTITY_EXTRA_NAMES_MAX.
 * @param[out] out                 receives the file paths (also on the load path).
 * @param[out] admin_p12_password_out
 *                                 receives the admin.p12 password, malloc'd, only when
 *                                 this call created admin.p12; NULL otherwise. The
 *                                 caller shows it once and releases it with
 *                                 identity_password_free(). It is stored nowhere.
 * @return CLM_OK;
 *         CLM_ERR_INVALID_ARGUMENT naming a bad extra name ("extra_server_names[1]:
 *           \"my host\" is not a DNS name: it contains a space") or a too long path;
 *         CLM_ERR_CONFLICT for an incomplete identity (message lists the files);
 *         CLM_ERR_PARSE naming the file that does not parse;
 *         CLM_ERR_CRYPTO naming the file that fails validation (key mismatch, chain,
 *           expiry);
 *         CLM_ERR_IO for a file system error (message names the path and errno text);
 *         CLM_ERR_NO_MEMORY.
 *         On error nothing half-written is left behind and *admin_p12_password_out is NULL.
 */
clm_err identity_ensure(const char *data_dir, const char *const *extra_server_names, size_t n_names,
                        identity_paths *out, char **admin_p12_password_out);

/** identity_ensure() at the time of clock (tests drive expiry with a fake clock). */
clm_err identity_ensure_at(const clm_clock *clock, const char *data_dir,
                           const char *const *extra_server_names, size_t n_names,
                           identity_paths *out, char **admin_p12_password_out);

/**
 * @brief Issue a further client certificate from the appliance CA, for a role, as
 * OUT_PREFIX.pem (certificate) and OUT_PREFIX.key (PKCS#8 key), both 0600. Existing
 * files are never replaced.
 * @param[in] data_dir    the data directory holding tls/ca.pem and tls/ca.key.
 * @param[in] common_name subject CN, 1 to 64 bytes of printable UTF-8 (who holds it).
 * @param[in] role_ou     the role, as subject OU: one of "admin", "operator",
 *                        "approver", "auditor", "viewer".
 * @param[in] days        validity, 1 to the CA's remaining lifetime.
 * @param[in] out_prefix  path prefix of the output files; its directory must exist.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the bad argument (unknown role, bad
 *         CN, days past the CA's expiry); CLM_ERR_NOT_FOUND when ca.pem or ca.key is
 *         missing; CLM_ERR_ALREADY_EXISTS naming an output file that exists; CLM_ERR_PARSE
 *         or CLM_ERR_CRYPTO for a CA that does not load or validate; CLM_ERR_IO.
 *         On error no output file is left behind.
 */
clm_err identity_issue_client(const char *data_dir, const char *common_name, const char *role_ou,
                              int days, const char *out_prefix);

/**
 * @brief identity_issue_client(), plus OUT_PREFIX.p12 (key, certificate and CA; 3DES)
 * under a generated password.
 * @param[out] p12_password_out the password, malloc'd; release with
 *                              identity_password_free(). NULL on error.
 * @return as identity_issue_client().
 */
clm_err identity_issue_client_p12(const char *data_dir, const char *common_name,
                                  const char *role_ou, int days, const char *out_prefix,
                                  char **p12_password_out);

/** @return true when ou is one of the roles clm knows (admin, operator, approver,
 * auditor, viewer). */
bool identity_role_is_known(const char *ou);

/** Wipe and free a password returned by this module. Accepts NULL. */
void identity_password_free(char *password);

#endif
