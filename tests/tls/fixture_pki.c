/* tests/tls/fixture_pki.c: the test PKI: an EC P-256 root and intermediate, and leaves
 * with any validity (expired ones too), written as PEM files for the servers. */
#include "lib/base/buf.h"
#include "lib/pki/key.h"
#include "tests/tls/fixture.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int64_t fixed_now(const clm_clock *clock)
{
    const fixture *fx = (const fixture *)((const char *)clock - offsetof(fixture, mixed));
    return fx->now * CLM_NS_PER_SEC;
}

static int64_t real_monotonic(const clm_clock *clock)
{
    (void)clock;
    return clm_clock_monotonic_ns(clm_clock_system());
}

const clm_clock *fixture_clock(fixture *fx)
{
    fx->mixed.now_ns = fixed_now;
    fx->mixed.monotonic_ns = real_monotonic;
    return &fx->mixed;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
    ok = ext != NULL && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* A certificate for key's public part, signed by issuer_key (issuer NULL: self). */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                       int64_t not_before, int64_t not_after, int ca_pathlen, const char *san)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    unsigned char serial[12];
    ASN1_INTEGER *sn = NULL;
    BIGNUM *bn = NULL;
    char bc[48];
    int ok = x != NULL && name != NULL && RAND_bytes(serial, sizeof serial) == 1;

    serial[0] &= 0x7f;
    if (ok)
        ok = (bn = BN_bin2bn(serial, sizeof serial, NULL)) != NULL &&
             (sn = BN_to_ASN1_INTEGER(bn, NULL)) != NULL && X509_set_serialNumber(x, sn) == 1 &&
             X509_set_version(x, 2) == 1 &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                        -1, 0) == 1 &&
             X509_set_subject_name(x, name) == 1 &&
             X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) == 1 &&
             ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) != NULL &&
             ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after) != NULL &&
             X509_set_pubkey(x, key) == 1;
    if (ok && ca_pathlen >= 0) {
        snprintf(bc, sizeof bc, "critical,CA:TRUE,pathlen:%d", ca_pathlen);
        ok = add_ext(x, issuer, NID_basic_constraints, bc) == 0 &&
             add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign") == 0;
    } else if (ok) {
        ok = add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
             add_ext(x, issuer, NID_key_usage, "critical,digitalSignature") == 0 &&
             add_ext(x, issuer, NID_ext_key_usage, "serverAuth") == 0 &&
             (san == NULL || add_ext(x, issuer, NID_subject_alt_name, san) == 0);
    }
    if (ok)
        ok = add_ext(x, issuer, NID_subject_key_identifier, "hash") == 0 &&
             (issuer == NULL ||
              add_ext(x, issuer, NID_authority_key_identifier, "keyid:always") == 0) &&
             X509_sign(x, issuer_key, EVP_sha256()) > 0;
    X509_NAME_free(name);
    ASN1_INTEGER_free(sn);
    BN_free(bn);
    if (!ok) {
        ERR_print_errors_fp(stderr);
        X509_free(x);
        return NULL;
    }
    return x;
}

static int write_pem(const char *path, X509 *const *certs, size_t n, EVP_PKEY *key)
{
    BIO *bio = BIO_new_file(path, "w");
    int ok = bio != NULL;

    for (size_t i = 0; ok && i < n; i++)
        ok = PEM_write_bio_X509(bio, certs[i]) == 1;
    if (ok && key != NULL)
        ok = PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1;
    BIO_free(bio);
    if (!ok)
        fprintf(stderr, "fixture: cannot write %s\n", path);
    return ok ? 0 : -1;
}

static void fingerprint(X509 *x, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;

    X509_digest(x, EVP_sha256(), md, &len);
    clm_hex_encode(out, md, len);
}

int fixture_init(fixture *fx)
{
    char path[400];

    memset(fx, 0, sizeof *fx);
    fx->stop_pipe[0] = fx->stop_pipe[1] = -1;
    fx->now = (int64_t)time(NULL);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/clm-tls-XXXXXX");
    if (mkdtemp(fx->dir) == NULL || chmod(fx->dir, 0755) != 0) {
        perror("fixture: mkdtemp");
        return -1;
    }
    if (pki_key_generate(PKI_KEY_EC_P256, &fx->root_key) != CLM_OK ||
        pki_key_generate(PKI_KEY_EC_P256, &fx->inter_key) != CLM_OK)
        return -1;
    fx->root = make_cert("clm test root", fx->root_key, NULL, fx->root_key, fx->now - 86400,
                         fx->now + 3650 * 86400, 1, NULL);
    fx->inter = fx->root ? make_cert("clm test intermediate", fx->inter_key, fx->root, fx->root_key,
                                     fx->now - 86400, fx->now + 1825 * 86400, 0, NULL)
                         : NULL;
    if (fx->inter == NULL)
        return -1;
    snprintf(fx->ca_file, sizeof fx->ca_file, "%s/root.pem", fx->dir);
    snprintf(path, sizeof path, "%s/intermediate.pem", fx->dir);
    if (write_pem(fx->ca_file, &fx->root, 1, NULL) != 0 ||
        write_pem(path, &fx->inter, 1, NULL) != 0)
        return -1;
    return 0;
}

int fixture_leaf(fixture *fx, const char *stem, const char *const *names, size_t n_names, int days,
                 bool self_signed, bool with_chain, char *sha256, int64_t *not_after)
{
    EVP_PKEY *key = NULL;
    X509 *leaf = NULL, *chain[2];
    char san[1024] = "", path[400];
    int64_t end = fx->now + (int64_t)days * 86400;
    int64_t begin = days < 0 ? end - 90 * 86400 : fx->now - 3600;
    size_t used = 0;
    int rc = -1;

    for (size_t i = 0; i < n_names; i++)
        used += (size_t)snprintf(san + used, sizeof san - used, "%sDNS:%s", i ? "," : "", names[i]);
    if (pki_key_generate(PKI_KEY_EC_P256, &key) != CLM_OK)
        goto done;
    leaf = self_signed ? make_cert(names[0], key, NULL, key, begin, end, -1, san)
                       : make_cert(names[0], key, fx->inter, fx->inter_key, begin, end, -1, san);
    if (leaf == NULL)
        goto done;
    chain[0] = leaf;
    chain[1] = fx->inter;
    snprintf(path, sizeof path, "%s/%s.pem", fx->dir, stem);
    if (write_pem(path, chain, with_chain && !self_signed ? 2 : 1, NULL) != 0)
        goto done;
    snprintf(path, sizeof path, "%s/%s.key", fx->dir, stem);
    if (write_pem(path, NULL, 0, key) != 0)
        goto done;
    if (sha256 != NULL)
        fingerprint(leaf, sha256);
    if (not_after != NULL)
        *not_after = end;
    rc = 0;
done:
    X509_free(leaf);
    EVP_PKEY_free(key);
    return rc;
}
