/*
 * tools/bench/inventory/gen_corpus.c: the benchmark corpus: realistic enterprise
 * certificates made with OpenSSL, written as a corpus file (corpus.h).
 *
 *   gen_corpus [--threads N] [--seed S] COUNT OUT
 *
 * The first 6 certificates are the CAs: two roots (EC P-384, RSA 2048) and four issuing
 * CAs (EC P-256 x2, EC P-384, RSA 2048). Every other certificate is a TLS leaf:
 *   - subject C, ST, L, O=Example Corp N, OU=<dept>, CN=hostI.<dept>.example-corpN.com
 *     (N in 0..49, 16 departments; I is the certificate's index, so CNs are unique);
 *   - 1-5 DNS SANs (the CN, www./api. names, sometimes a wildcard or a .net alias), an
 *     IPv4 SAN on 15% and an IPv6 SAN on 2%;
 *   - a key from a pool (75% EC P-256 of 48, 22% RSA 2048 of 12, 3% RSA 3072 of 2):
 *     keys repeat, signatures and serials never do;
 *   - issuers: CA 1 (45%) and CA 2 (52%) sign with ECDSA P-256, CA 3 with P-384 (1%),
 *     CA 4 with RSA 2048 (2%): the slow signatures are kept rare;
 *   - lifetime 90 days (30%), 397 days (50%) or 2 years (20%), issued at a random point
 *     of it so that expiries spread over the next 2 years, and 7% already expired
 *     (up to 60 days ago);
 *   - random 16-byte serial; basicConstraints, keyUsage, extendedKeyUsage, SKI, AKI,
 *     AIA (OCSP, caIssuers), CRL distribution point; a Microsoft template (v2) on 20%.
 * Everything but serials and signatures follows from --seed and the index.
 */
#include "tools/bench/inventory/corpus.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 2048
#define N_EC_KEYS 48
#define N_RSA_KEYS 12
#define N_RSA3K_KEYS 2
#define N_KEYS (N_EC_KEYS + N_RSA_KEYS + N_RSA3K_KEYS)
#define N_ISSUING 4
#define N_CA_CERTS 6
#define DAY 86400L

typedef struct ca {
    EVP_PKEY *key;
    X509 *cert;
    const EVP_MD *md;
    X509_EXTENSION *aki, *aia, *crl;
} ca;

typedef struct leaf_key {
    EVP_PKEY *key;
    X509_EXTENSION *ski;
    int rsa;
} leaf_key;

static ca roots[2], issuing[N_ISSUING];
static leaf_key keys[N_KEYS];
static X509_EXTENSION *ext_bc, *ext_ku_ec, *ext_ku_rsa, *ext_eku_server, *ext_eku_both;
static X509_EXTENSION *ext_template[4];
static time_t now_s;
static uint64_t seed = 1;

static const char *const depts[16] = {"eng",   "finance", "hr",   "sales", "ops",     "it",
                                      "legal", "rnd",     "mfg",  "sup",   "mkt",     "sec",
                                      "data",  "web",     "corp", "lab"};
static const char *const states[5][2] = {{"California", "San Jose"}, {"Texas", "Austin"},
                                         {"New York", "New York"},   {"Washington", "Seattle"},
                                         {"Illinois", "Chicago"}};

static void die(const char *what)
{
    fprintf(stderr, "gen_corpus: %s failed\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static unsigned pick(uint64_t *s, unsigned n)
{
    return (unsigned)(splitmix(s) % n);
}

static X509_EXTENSION *conf_ext(X509 *issuer, X509 *subject, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *e;

    X509V3_set_ctx(&ctx, issuer, subject, NULL, NULL, 0);
    e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (e == NULL)
        die(value);
    return e;
}

static void add_ext(X509 *x, X509_EXTENSION *e)
{
    if (!X509_add_ext(x, e, -1))
        die("X509_add_ext");
}

static void set_serial(X509 *x)
{
    unsigned char b[16];

    if (RAND_bytes(b, sizeof(b)) != 1)
        die("RAND_bytes");
    b[0] = (unsigned char)((b[0] & 0x7f) | 0x10); /* positive, minimal DER */
    if (!ASN1_STRING_set(X509_get_serialNumber(x), b, sizeof(b)))
        die("serial");
}

static X509_NAME *ca_name(const char *cn)
{
    X509_NAME *n = X509_NAME_new();

    if (n == NULL || !X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Example Corp", -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0))
        die("CA name");
    return n;
}

/* A CA certificate: self-signed when `parent` is NULL. */
static void make_ca(ca *c, ca *parent, const char *cn, EVP_PKEY *key, const EVP_MD *md, int n)
{
    X509 *x = X509_new();
    X509_NAME *name = ca_name(cn);
    char buf[160];

    c->key = key;
    c->md = md;
    if (x == NULL || !X509_set_version(x, 2) || !X509_set_subject_name(x, name) ||
        !X509_set_issuer_name(x, parent ? X509_get_subject_name(parent->cert) : name) ||
        !X509_set_pubkey(x, key) || !ASN1_TIME_set(X509_getm_notBefore(x), now_s - 400 * DAY) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), now_s + (parent ? 8 : 15) * 365 * DAY))
        die("CA certificate");
    set_serial(x);
    add_ext(x, conf_ext(parent ? parent->cert : x, x, NID_basic_constraints,
                        parent ? "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE"));
    add_ext(x, conf_ext(NULL, x, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"));
    add_ext(x, conf_ext(NULL, x, NID_subject_key_identifier, "hash"));
    if (parent != NULL) {
        add_ext(x, parent->aki);
        add_ext(x, parent->aia);
        add_ext(x, parent->crl);
    }
    if (!X509_sign(x, parent ? parent->key : key, parent ? parent->md : md))
        die("signing a CA");
    c->cert = x;
    c->aki = conf_ext(x, NULL, NID_authority_key_identifier, "keyid:always");
    snprintf(buf, sizeof(buf), "OCSP;URI:http://ocsp.pki.example-corp.com/ca%d,"
             "caIssuers;URI:http://pki.example-corp.com/certs/ca%d.crt", n, n);
    c->aia = conf_ext(NULL, NULL, NID_info_access, buf);
    snprintf(buf, sizeof(buf), "URI:http://crl.pki.example-corp.com/ca%d.crl", n);
    c->crl = conf_ext(NULL, NULL, NID_crl_distribution_points, buf);
    X509_NAME_free(name);
}

/* Microsoft certificate template (v2) extension: SEQUENCE { OID, INTEGER, INTEGER } */
static X509_EXTENSION *template_ext(int which)
{
    static const char *const oids[4] = {
        "1.3.6.1.4.1.311.21.8.8671316.12253916.3340123.1428791.10217491.113.10112361.13571291",
        "1.3.6.1.4.1.311.21.8.8671316.12253916.3340123.1428791.10217491.113.8451021.4152131",
        "1.3.6.1.4.1.311.21.8.8671316.12253916.3340123.1428791.10217491.113.3312211.1231431",
        "1.3.6.1.4.1.311.21.8.8671316.12253916.3340123.1428791.10217491.113.9182736.5463728"};
    ASN1_OBJECT *oid = OBJ_txt2obj(oids[which], 1), *ext_oid = OBJ_txt2obj("1.3.6.1.4.1.311.21.7", 1);
    unsigned char der[256], *p = der + 2;
    int oid_len = i2d_ASN1_OBJECT(oid, NULL);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *e;

    if (oid == NULL || ext_oid == NULL || os == NULL || oid_len <= 0 || oid_len > 200)
        die("template OID");
    i2d_ASN1_OBJECT(oid, &p);
    *p++ = 0x02, *p++ = 0x01, *p++ = (unsigned char)(100 + which); /* major */
    *p++ = 0x02, *p++ = 0x01, *p++ = (unsigned char)(which);       /* minor */
    der[0] = 0x30;
    der[1] = (unsigned char)(p - der - 2);
    if (!ASN1_OCTET_STRING_set(os, der, (int)(p - der)) ||
        (e = X509_EXTENSION_create_by_OBJ(NULL, ext_oid, 0, os)) == NULL)
        die("template extension");
    ASN1_OBJECT_free(oid);
    ASN1_OBJECT_free(ext_oid);
    ASN1_OCTET_STRING_free(os);
    return e;
}

static void setup_der(void);

static void setup(void)
{
    EVP_PKEY *root_ec = EVP_EC_gen("P-384"), *root_rsa = EVP_RSA_gen(2048);
    X509 *dummy;

    if (root_ec == NULL || root_rsa == NULL)
        die("root keys");
    make_ca(&roots[0], NULL, "Example Corp Root CA G2", root_ec, EVP_sha384(), 0);
    make_ca(&roots[1], NULL, "Example Corp RSA Root CA", root_rsa, EVP_sha256(), 9);
    make_ca(&issuing[0], &roots[0], "Example Corp Issuing CA 1", EVP_EC_gen("P-256"), EVP_sha256(), 1);
    make_ca(&issuing[1], &roots[0], "Example Corp Issuing CA 2", EVP_EC_gen("P-256"), EVP_sha256(), 2);
    make_ca(&issuing[2], &roots[0], "Example Corp Issuing CA 3 P384", EVP_EC_gen("P-384"), EVP_sha384(), 3);
    make_ca(&issuing[3], &roots[1], "Example Corp RSA Issuing CA 4", EVP_RSA_gen(2048), EVP_sha256(), 4);
    for (int i = 0; i < N_KEYS; i++) {
        keys[i].rsa = i >= N_EC_KEYS;
        keys[i].key = i < N_EC_KEYS ? EVP_EC_gen("P-256")
                      : EVP_RSA_gen(i < N_EC_KEYS + N_RSA_KEYS ? 2048 : 3072);
        if (keys[i].key == NULL || (dummy = X509_new()) == NULL || !X509_set_pubkey(dummy, keys[i].key))
            die("leaf keys");
        keys[i].ski = conf_ext(NULL, dummy, NID_subject_key_identifier, "hash");
        X509_free(dummy);
    }
    ext_bc = conf_ext(NULL, NULL, NID_basic_constraints, "critical,CA:FALSE");
    ext_ku_ec = conf_ext(NULL, NULL, NID_key_usage, "critical,digitalSignature");
    ext_ku_rsa = conf_ext(NULL, NULL, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    ext_eku_server = conf_ext(NULL, NULL, NID_ext_key_usage, "serverAuth");
    ext_eku_both = conf_ext(NULL, NULL, NID_ext_key_usage, "serverAuth,clientAuth");
    for (int i = 0; i < 4; i++)
        ext_template[i] = template_ext(i);
    setup_der();
}

/* ---- leaves: DER written directly (the X509 API's per-call provider lookups cost
 * ~10x the ECDSA signature), signed with per-thread copies of a ready signing context ---- */

typedef struct der {
    unsigned char *p;
    size_t len;
} der;

/* Append tag, minimal DER length and content. */
static void tlv(der *d, unsigned char tag, const void *content, size_t len)
{
    unsigned char *p = d->p + d->len;

    *p++ = tag;
    if (len < 0x80) {
        *p++ = (unsigned char)len;
    } else if (len < 0x100) {
        *p++ = 0x81, *p++ = (unsigned char)len;
    } else {
        *p++ = 0x82, *p++ = (unsigned char)(len >> 8), *p++ = (unsigned char)len;
    }
    memmove(p, content, len); /* content may sit right after the header: see wrap() */
    d->len = (size_t)(p - d->p) + len;
}

static void raw(der *d, const void *data, size_t len)
{
    memcpy(d->p + d->len, data, len);
    d->len += len;
}

/* Turn everything from `from` on into the content of one TLV. */
static void wrap(der *d, size_t from, unsigned char tag)
{
    unsigned char tmp[4096];
    size_t len = d->len - from;

    memcpy(tmp, d->p + from, len);
    d->len = from;
    tlv(d, tag, tmp, len);
}

static void rdn(der *d, const unsigned char oid3[3], unsigned char string_tag, const char *value)
{
    size_t at = d->len;
    unsigned char oid[5] = {0x06, 0x03, oid3[0], oid3[1], oid3[2]};

    raw(d, oid, 5);
    tlv(d, string_tag, value, strlen(value));
    wrap(d, at, 0x30);
    wrap(d, at, 0x31);
}

static void utc_time(der *d, time_t t)
{
    struct tm tm;
    char s[16];

    gmtime_r(&t, &tm);
    snprintf(s, sizeof(s), "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    tlv(d, 0x17, s, 13);
}

static void ext_der(der *d, X509_EXTENSION *e)
{
    unsigned char *p = d->p + d->len;

    d->len += (size_t)i2d_X509_EXTENSION(e, &p);
}

static const unsigned char alg_ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
                                                 0x3d, 0x04, 0x03, 0x02};
static const unsigned char alg_ecdsa_sha384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
                                                 0x3d, 0x04, 0x03, 0x03};
static const unsigned char alg_rsa_sha256[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                               0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
static const unsigned char oid_c[3] = {0x55, 0x04, 0x06}, oid_st[3] = {0x55, 0x04, 0x08},
                           oid_l[3] = {0x55, 0x04, 0x07}, oid_o[3] = {0x55, 0x04, 0x0a},
                           oid_ou[3] = {0x55, 0x04, 0x0b}, oid_cn[3] = {0x55, 0x04, 0x03};

static const unsigned char *ca_alg(int ci, size_t *len)
{
    if (ci == 2)
        return *len = sizeof(alg_ecdsa_sha384), alg_ecdsa_sha384;
    if (ci == 3)
        return *len = sizeof(alg_rsa_sha256), alg_rsa_sha256;
    return *len = sizeof(alg_ecdsa_sha256), alg_ecdsa_sha256;
}

static unsigned char issuer_der[N_ISSUING][256];
static size_t issuer_len[N_ISSUING];
static unsigned char spki_der[N_KEYS][600];
static size_t spki_len[N_KEYS];
static _Thread_local EVP_MD_CTX *sign_ctx[N_ISSUING];

static void setup_der(void)
{
    for (int i = 0; i < N_ISSUING; i++) {
        unsigned char *p = issuer_der[i];
        int n = i2d_X509_NAME(X509_get_subject_name(issuing[i].cert), NULL);
        if (n <= 0 || n > 256)
            die("issuer name");
        issuer_len[i] = (size_t)i2d_X509_NAME(X509_get_subject_name(issuing[i].cert), &p);
    }
    for (int i = 0; i < N_KEYS; i++) {
        unsigned char *p = spki_der[i];
        int n = i2d_PUBKEY(keys[i].key, NULL);
        if (n <= 0 || n > 600)
            die("public key");
        spki_len[i] = (size_t)i2d_PUBKEY(keys[i].key, &p);
    }
}

static size_t sign(int ci, const unsigned char *tbs, size_t tbs_len, unsigned char *sig)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t sig_len = 600;

    if (sign_ctx[ci] == NULL) {
        sign_ctx[ci] = EVP_MD_CTX_new();
        if (sign_ctx[ci] == NULL ||
            EVP_DigestSignInit(sign_ctx[ci], NULL, issuing[ci].md, NULL, issuing[ci].key) != 1)
            die("signing context");
    }
    if (ctx == NULL || EVP_MD_CTX_copy_ex(ctx, sign_ctx[ci]) != 1 ||
        EVP_DigestSign(ctx, sig, &sig_len, tbs, tbs_len) != 1)
        die("signing a leaf");
    EVP_MD_CTX_free(ctx);
    return sig_len;
}

/* Leaf number `index` of the corpus: u32 length and DER written at out. */
static size_t make_leaf(uint64_t index, unsigned char *out)
{
    uint64_t s = seed * UINT64_C(1000003) + index;
    unsigned corp = pick(&s, 50), dept = pick(&s, 16), st = corp % 5, r = pick(&s, 100);
    int ci = r < 45 ? 0 : r < 97 ? 1 : r < 98 ? 2 : 3;
    unsigned kr = pick(&s, 100);
    int ki = kr < 75 ? (int)pick(&s, N_EC_KEYS)
             : kr < 97 ? N_EC_KEYS + (int)pick(&s, N_RSA_KEYS)
                       : N_EC_KEYS + N_RSA_KEYS + (int)pick(&s, N_RSA3K_KEYS);
    unsigned lr = pick(&s, 100);
    long life = lr < 30 ? 90 * DAY : lr < 80 ? 397 * DAY : 730 * DAY;
    long not_before = (long)now_s - (long)(splitmix(&s) % (uint64_t)life);
    unsigned char tbs_buf[4096], cert_buf[4096], serial[16], sig[600];
    der t = {tbs_buf, 0}, c = {cert_buf, 0};
    char cn[128], o[64], name[160];
    unsigned n_dns = 1 + pick(&s, 5), v;
    size_t at, san_at, alg_len, sig_len;
    const unsigned char *alg = ca_alg(ci, &alg_len);
    static const unsigned char version[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
    static const unsigned char san_oid[] = {0x06, 0x03, 0x55, 0x1d, 0x11};

    if (pick(&s, 100) < 7) /* expired up to 60 days ago */
        not_before = (long)now_s - life - (long)(splitmix(&s) % (60 * DAY));
    snprintf(cn, sizeof(cn), "host%llu.%s.example-corp%u.com", (unsigned long long)index,
             depts[dept], corp);
    snprintf(o, sizeof(o), "Example Corp %u", corp);
    if (RAND_bytes(serial, sizeof(serial)) != 1)
        die("RAND_bytes");
    serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x10); /* positive, minimal DER */
    raw(&t, version, sizeof(version));
    tlv(&t, 0x02, serial, sizeof(serial));
    raw(&t, alg, alg_len);
    raw(&t, issuer_der[ci], issuer_len[ci]);
    at = t.len;
    utc_time(&t, (time_t)not_before);
    utc_time(&t, (time_t)(not_before + life));
    wrap(&t, at, 0x30);
    at = t.len;
    rdn(&t, oid_c, 0x13, "US");
    rdn(&t, oid_st, 0x0c, states[st][0]);
    rdn(&t, oid_l, 0x0c, states[st][1]);
    rdn(&t, oid_o, 0x0c, o);
    rdn(&t, oid_ou, 0x0c, depts[dept]);
    rdn(&t, oid_cn, 0x0c, cn);
    wrap(&t, at, 0x30);
    raw(&t, spki_der[ki], spki_len[ki]);
    at = t.len;
    ext_der(&t, ext_bc);
    ext_der(&t, keys[ki].rsa ? ext_ku_rsa : ext_ku_ec);
    ext_der(&t, pick(&s, 10) < 7 ? ext_eku_both : ext_eku_server);
    ext_der(&t, keys[ki].ski);
    ext_der(&t, issuing[ci].aki);
    san_at = t.len;
    raw(&t, san_oid, sizeof(san_oid));
    size_t names_at = t.len;
    tlv(&t, 0x82, cn, strlen(cn));
    for (unsigned i = 1; i < n_dns; i++) {
        v = pick(&s, 10);
        if (v < 3)
            snprintf(name, sizeof(name), "www.%s", cn);
        else if (v < 6)
            snprintf(name, sizeof(name), "api%u.%s.example-corp%u.com", i, depts[dept], corp);
        else if (v < 8)
            snprintf(name, sizeof(name), "*.%s.example-corp%u.com", depts[dept], corp);
        else
            snprintf(name, sizeof(name), "host%llu.example-corp%u.net", (unsigned long long)index, corp);
        tlv(&t, 0x82, name, strlen(name));
    }
    v = pick(&s, 100);
    if (v < 15) {
        unsigned char ip4[4] = {10, (unsigned char)corp, (unsigned char)pick(&s, 256),
                                (unsigned char)(1 + pick(&s, 254))};
        tlv(&t, 0x87, ip4, 4);
    } else if (v < 17) {
        unsigned char ip6[16] = {0xfd, 0, 0, (unsigned char)corp};
        ip6[14] = (unsigned char)pick(&s, 256);
        ip6[15] = (unsigned char)(1 + pick(&s, 254));
        tlv(&t, 0x87, ip6, 16);
    }
    wrap(&t, names_at, 0x30);
    wrap(&t, names_at, 0x04);
    wrap(&t, san_at, 0x30);
    ext_der(&t, issuing[ci].aia);
    ext_der(&t, issuing[ci].crl);
    if (pick(&s, 100) < 20)
        ext_der(&t, ext_template[pick(&s, 4)]);
    wrap(&t, at, 0x30);
    wrap(&t, at, 0xa3);
    wrap(&t, 0, 0x30);
    sig_len = sign(ci, t.p, t.len, sig + 1);
    sig[0] = 0; /* no unused bits */
    raw(&c, t.p, t.len);
    raw(&c, alg, alg_len);
    tlv(&c, 0x03, sig, sig_len + 1);
    wrap(&c, 0, 0x30);
    for (int i = 0; i < 4; i++)
        out[i] = (unsigned char)(c.len >> (8 * i));
    memcpy(out + 4, c.p, c.len);
    return 4 + c.len;
}

/* ---- chunks made by worker threads, written in order by the main thread ---- */

typedef struct chunk {
    unsigned char *data;
    size_t len;
    int done;
} chunk;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static chunk *chunks;
static size_t n_chunks, next_chunk, written_chunk;
static uint64_t count;

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        size_t ci;
        pthread_mutex_lock(&mu);
        /* stay at most 8 chunks ahead of the writer: bounded memory */
        while (next_chunk < n_chunks && next_chunk >= written_chunk + 8)
            pthread_cond_wait(&cv, &mu);
        ci = next_chunk < n_chunks ? next_chunk++ : n_chunks;
        pthread_mutex_unlock(&mu);
        if (ci == n_chunks)
            return NULL;
        uint64_t first = (uint64_t)ci * CHUNK + N_CA_CERTS;
        uint64_t last = first + CHUNK < count ? first + CHUNK : count;
        unsigned char *buf = malloc((size_t)(last - first) * 4100);
        size_t len = 0;
        if (buf == NULL)
            die("malloc");
        for (uint64_t i = first; i < last; i++)
            len += make_leaf(i, buf + len);
        pthread_mutex_lock(&mu);
        chunks[ci].data = buf;
        chunks[ci].len = len;
        chunks[ci].done = 1;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
    }
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

int main(int argc, char **argv)
{
    int threads = 2;
    const char *out;
    char tmp[4200];
    unsigned char head[16], lenb[4], *ca_der = NULL;
    FILE *fp;
    pthread_t tids[64];
    double t0 = bench_now();

    while (argc > 3 && argv[1][0] == '-') {
        if (strcmp(argv[1], "--threads") == 0)
            threads = (int)bench_parse_number(argv[1], argv[2]);
        else if (strcmp(argv[1], "--seed") == 0)
            seed = (uint64_t)bench_parse_number(argv[1], argv[2]);
        else
            break;
        argc -= 2, argv += 2;
    }
    if (argc != 3 || threads < 1 || threads > 64 || (count = (uint64_t)bench_parse_number("COUNT", argv[1])) <= N_CA_CERTS) {
        fprintf(stderr, "usage: gen_corpus [--threads N] [--seed S] COUNT OUT   (COUNT > %d)\n",
                N_CA_CERTS);
        return 2;
    }
    out = argv[2];
    now_s = time(NULL);
    setup();
    fprintf(stderr, "gen_corpus: keys and CAs ready after %.1f s; %llu certificates, %d threads\n",
            bench_now() - t0, (unsigned long long)count, threads);
    snprintf(tmp, sizeof(tmp), "%s.tmp", out);
    if ((fp = fopen(tmp, "wb")) == NULL)
        die(tmp);
    memcpy(head, CORPUS_MAGIC, 8);
    put_le(head + 8, count, 8);
    fwrite(head, 1, 16, fp);
    X509 *cas[N_CA_CERTS] = {roots[0].cert, roots[1].cert, issuing[0].cert,
                             issuing[1].cert, issuing[2].cert, issuing[3].cert};
    for (int i = 0; i < N_CA_CERTS; i++) {
        int len = i2d_X509(cas[i], &ca_der);
        put_le(lenb, (uint64_t)len, 4);
        fwrite(lenb, 1, 4, fp);
        fwrite(ca_der, 1, (size_t)len, fp);
        OPENSSL_free(ca_der);
        ca_der = NULL;
    }
    n_chunks = (size_t)((count - N_CA_CERTS + CHUNK - 1) / CHUNK);
    chunks = calloc(n_chunks, sizeof(*chunks));
    for (int i = 0; i < threads; i++)
        pthread_create(&tids[i], NULL, worker, NULL);
    for (size_t ci = 0; ci < n_chunks; ci++) {
        pthread_mutex_lock(&mu);
        while (!chunks[ci].done)
            pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
        if (fwrite(chunks[ci].data, 1, chunks[ci].len, fp) != chunks[ci].len)
            die("writing the corpus");
        free(chunks[ci].data);
        pthread_mutex_lock(&mu);
        written_chunk = ci + 1;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
        if ((ci + 1) % 50 == 0)
            fprintf(stderr, "gen_corpus: %zu certificates, %.0f s\n", (ci + 1) * CHUNK,
                    bench_now() - t0);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(tids[i], NULL);
    if (fclose(fp) != 0 || rename(tmp, out) != 0)
        die("closing the corpus");
    fprintf(stderr, "gen_corpus: %llu certificates in %.1f s\n", (unsigned long long)count,
            bench_now() - t0);
    return 0;
}
