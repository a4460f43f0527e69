/*
 * tools/bench/enroll/enroll_bench.c: local CA signing, in operations per second, beside
 * baselines measured in the same run.
 *
 *   clm submit        ca_local_ops.submit on EC P-256 CSRs (PEM): parse, verify the CSR's
 *                     signature, profile checks, build (serial, SAN copy, SKI/AKI, KU/EKU,
 *                     AIA, CRL DP), sign, DER, chain copy into the result.
 *   OpenSSL loop      the same CSRs through the plainest OpenSSL code that issues the same
 *                     certificate the way `openssl x509 -req` does it: PEM_read_bio_X509_REQ,
 *                     X509_REQ_verify, X509V3_EXT_conf_nid for every extension, X509_sign,
 *                     i2d_X509; CA key and certificate loaded once.
 *   OpenSSL loop, SPKI copied   the same loop with the one shortcut clm takes (the
 *                     request's SubjectPublicKeyInfo copied, not re-encoded through
 *                     X509_set_pubkey): clm's own overhead over plain OpenSSL calls.
 *   openssl x509 -req the CLI, one process per certificate (what a script around
 *                     `openssl` pays), over a smaller sample.
 * And the rest of an enrollment that the issue's end-to-end goal counts (EC P-256 key and
 * CSR), so the figure can be read against 1,000 enrollments/s.
 *
 * Usage: enroll_bench [--count N] [--cli N] [--threads T]
 */
#include "adapters/adapter.h"
#include "adapters/ca/local/local.h"
#include "adapters/ca/memory_state.h"
#include "lib/base/buf.h"
#include "lib/base/clock.h"
#include "lib/pki/csr.h"
#include "lib/pki/key.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void loadavg(char *out, size_t size)
{
    FILE *f = fopen("/proc/loadavg", "r");
    if (f == NULL || fgets(out, (int)size, f) == NULL)
        snprintf(out, size, "unknown\n");
    if (f)
        fclose(f);
}

static void die(const char *what)
{
    fprintf(stderr, "enroll_bench: %s: %s\n", what, clm_error_message());
    exit(1);
}

static long arg_long(const char *text, const char *name)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1) {
        fprintf(stderr, "enroll_bench: %s: \"%s\" is not a positive number\n", name, text);
        exit(2);
    }
    return v;
}

/* ---- clm ----------------------------------------------------------------------------- */

typedef struct job {
    adapter_ca *ca;
    clm_buf *csrs;
    size_t from, to;
    size_t issued;
} job;

static void *submit_range(void *arg)
{
    job *j = arg;
    adapter_field_value v[] = {{"profile", "server"}};
    adapter_ca_result r = {0};

    for (size_t i = j->from; i < j->to; i++) {
        adapter_ca_request req = {.csr = j->csrs[i].data, .csr_len = j->csrs[i].len,
                                  .fields = {v, 1}};
        if (ca_local_ops.submit(j->ca, &req, &r) == CLM_OK && r.outcome == ADAPTER_CA_ISSUED)
            j->issued++;
        adapter_ca_result_free(&r);
    }
    return NULL;
}

static double run_clm(adapter_ca *ca, clm_buf *csrs, size_t n, int threads, double *cpu)
{
    pthread_t t[64];
    job jobs[64];
    size_t issued = 0;
    double start = now_s(), c0 = cpu_s(), wall;

    for (int i = 0; i < threads; i++) {
        jobs[i] = (job){ca, csrs, n * (size_t)i / (size_t)threads,
                        n * (size_t)(i + 1) / (size_t)threads, 0};
        pthread_create(&t[i], NULL, submit_range, &jobs[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        issued += jobs[i].issued;
    }
    wall = now_s() - start;
    *cpu = cpu_s() - c0;
    if (issued != n) {
        fprintf(stderr, "enroll_bench: %zu of %zu issued\n", issued, n);
        exit(1);
    }
    return (double)n / wall;
}

/* ---- the OpenSSL baseline ------------------------------------------------------------ */

/* X509_add_ext copies: the made extension is freed here. */
static void add_conf(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (ext == NULL || X509_add_ext(x, ext, -1) != 1) {
        ERR_print_errors_fp(stderr);
        exit(1);
    }
    X509_EXTENSION_free(ext);
}

/* The request's SubjectPublicKeyInfo copied as it is (what clm does) instead of
 * X509_set_pubkey, which in OpenSSL 3 re-encodes the key. */
static int copy_spki(X509 *x, X509_REQ *req)
{
    X509_PUBKEY *from = X509_REQ_get_X509_PUBKEY(req);
    ASN1_OBJECT *oid;
    const unsigned char *bits;
    int len, ptype;
    const void *param;
    X509_ALGOR *alg;
    unsigned char *copy;

    if (X509_PUBKEY_get0_param(&oid, &bits, &len, &alg, from) != 1)
        return 0;
    X509_ALGOR_get0(NULL, &ptype, &param, alg);
    copy = OPENSSL_memdup(bits, (size_t)len);
    return copy != NULL &&
           X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), OBJ_dup(oid), ptype,
                                  ptype == V_ASN1_OBJECT ? (void *)OBJ_dup(param) : NULL, copy,
                                  len) == 1;
}

/* One certificate from one CSR, as `openssl x509 -req -extfile` would make it. */
static int openssl_issue(const clm_buf *csr, X509 *ca_cert, EVP_PKEY *ca_key, int spki)
{
    BIO *bio = BIO_new_mem_buf(csr->data, (int)csr->len);
    X509_REQ *req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
    EVP_PKEY *pub = req ? X509_REQ_get_pubkey(req) : NULL;
    X509 *x = X509_new();
    STACK_OF(X509_EXTENSION) *exts = NULL;
    X509V3_CTX ctx;
    BIGNUM *bn = BN_new();
    unsigned char *der = NULL;
    int ok = 0;

    if (req == NULL || pub == NULL || X509_REQ_verify(req, pub) != 1 || x == NULL || bn == NULL)
        goto done;
    BN_rand(bn, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    X509_set_version(x, X509_VERSION_3);
    X509_set_issuer_name(x, X509_get_subject_name(ca_cert));
    X509_set_subject_name(x, X509_REQ_get_subject_name(req));
    X509_gmtime_adj(X509_getm_notBefore(x), -300);
    X509_gmtime_adj(X509_getm_notAfter(x), 90L * 86400);
    if (spki ? !copy_spki(x, req) : X509_set_pubkey(x, pub) != 1)
        goto done;
    X509V3_set_ctx(&ctx, ca_cert, x, req, NULL, 0);
    add_conf(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
    add_conf(x, &ctx, NID_key_usage, "critical,digitalSignature");
    add_conf(x, &ctx, NID_ext_key_usage, "serverAuth");
    add_conf(x, &ctx, NID_subject_key_identifier, "hash");
    add_conf(x, &ctx, NID_authority_key_identifier, "keyid");
    add_conf(x, &ctx, NID_info_access, "OCSP;URI:http://ocsp.example.com,caIssuers;URI:http://pki.example.com/ca.crt");
    add_conf(x, &ctx, NID_crl_distribution_points, "URI:http://pki.example.com/ca.crl");
    /* copy the requested SANs (copy_extensions = copy) */
    exts = X509_REQ_get_extensions(req);
    for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
        X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
        if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) == NID_subject_alt_name)
            X509_add_ext(x, e, -1);
    }
    ok = X509_sign(x, ca_key, EVP_sha256()) > 0 && i2d_X509(x, &der) > 0;
done:
    OPENSSL_free(der);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(pub);
    X509_REQ_free(req);
    BIO_free(bio);
    return ok;
}

/* ---- the CLI ------------------------------------------------------------------------- */

static int spawn_wait(const char *const argv[])
{
    pid_t pid;
    int status;
    posix_spawn_file_actions_t actions;

    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", 1, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", 1, 0);
    if (posix_spawnp(&pid, argv[0], &actions, NULL, (char *const *)argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "enroll_bench: cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    size_t count = 2000, cli = 50;
    int threads = 1;
    ca_local_create_params params = {.key_type = PKI_KEY_EC_P256, .root_cn = "bench root",
                                     .intermediate_cn = "bench issuing CA"};
    static const adapter_field_value config_values[] = {
        {"crl_url", "http://pki.example.com/ca.crl"},
        {"ocsp_url", "http://ocsp.example.com"},
        {"issuer_url", "http://pki.example.com/ca.crt"},
    };
    ca_memory_state state;
    adapter_ca *ca = NULL;
    adapter_ca_config config;
    clm_buf *csrs, key_pem = CLM_BUF_INIT, chain = CLM_BUF_INIT;
    EVP_PKEY *ca_key = NULL;
    X509 *ca_cert = NULL;
    char load_before[128], load_after[128], dir[] = "/tmp/enroll_bench.XXXXXX", path[256];
    double t0, c0, keygen_s, csr_s, clm_rate, clm_cpu, clm1_rate = 0, clm1_cpu = 0, ossl_rate,
                                                               ossl_cpu, spki_rate, spki_cpu,
                                                               cli_rate;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = (size_t)arg_long(argv[++i], "--count");
        else if (strcmp(argv[i], "--cli") == 0 && i + 1 < argc)
            cli = (size_t)arg_long(argv[++i], "--cli");
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = (int)arg_long(argv[++i], "--threads");
        else {
            fprintf(stderr, "usage: enroll_bench [--count N] [--cli N] [--threads T (<= 64)]\n");
            return 2;
        }
    }
    if (threads > 64 || cli > count) {
        fprintf(stderr, "enroll_bench: --threads at most 64, --cli at most --count\n");
        return 2;
    }
    loadavg(load_before, sizeof load_before);

    /* the CA, as the appliance would set it up */
    ca_memory_state_init(&state);
    if (ca_local_create(&params, &state.state, NULL) != CLM_OK)
        die("create");
    config = (adapter_ca_config){.connector = "bench", .fields = {config_values, 3},
                                 .state = &state.state};
    if (ca_local_ops.open(&config, &ca) != CLM_OK)
        die("open");

    /* keys and CSRs (the rest of an enrollment), timed apart */
    csrs = calloc(count, sizeof *csrs);
    {
        EVP_PKEY **keys = calloc(count, sizeof *keys);
        pki_csr_fields f = {.common_name = "www.example.com",
                            .sans = "www.example.com, example.com", .hash = PKI_HASH_SHA256};
        if (csrs == NULL || keys == NULL)
            die("memory");
        t0 = now_s();
        for (size_t i = 0; i < count; i++)
            if (pki_key_generate(PKI_KEY_EC_P256, &keys[i]) != CLM_OK)
                die("key");
        keygen_s = now_s() - t0;
        t0 = now_s();
        for (size_t i = 0; i < count; i++)
            if (pki_csr_build(&f, NULL, keys[i], &csrs[i]) != CLM_OK)
                die("csr");
        csr_s = now_s() - t0;
        for (size_t i = 0; i < count; i++)
            EVP_PKEY_free(keys[i]);
        free(keys);
    }

    /* clm: one thread, then the threads asked for */
    clm_rate = run_clm(ca, csrs, count, 1, &clm_cpu);
    if (threads > 1) {
        clm1_rate = clm_rate;
        clm1_cpu = clm_cpu;
        clm_rate = run_clm(ca, csrs, count, threads, &clm_cpu);
    }

    /* the OpenSSL loop, one thread, the CA key and certificate loaded once */
    {
        const clm_buf *key_item = ca_memory_state_item(&state, "key");
        const clm_buf *chain_item = ca_memory_state_item(&state, "chain");
        if (pki_key_from_pem(key_item->data, key_item->len, &ca_key) != CLM_OK)
            die("CA key");
        BIO *bio = BIO_new_mem_buf(chain_item->data, (int)chain_item->len);
        ca_cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
        if (ca_cert == NULL)
            die("CA certificate");
        clm_buf_append(&key_pem, key_item->data, key_item->len);
        clm_buf_append(&chain, chain_item->data, chain_item->len);
    }
    t0 = now_s();
    c0 = cpu_s();
    for (size_t i = 0; i < count; i++)
        if (!openssl_issue(&csrs[i], ca_cert, ca_key, 0))
            die("openssl loop");
    ossl_rate = (double)count / (now_s() - t0);
    ossl_cpu = cpu_s() - c0;
    t0 = now_s();
    c0 = cpu_s();
    for (size_t i = 0; i < count; i++)
        if (!openssl_issue(&csrs[i], ca_cert, ca_key, 1))
            die("openssl loop, SPKI copied");
    spki_rate = (double)count / (now_s() - t0);
    spki_cpu = cpu_s() - c0;

    /* the CLI, one process per certificate */
    if (mkdtemp(dir) == NULL)
        die("mkdtemp");
    snprintf(path, sizeof path, "%s/ca.key", dir);
    write_file(path, key_pem.data, key_pem.len);
    snprintf(path, sizeof path, "%s/ca.pem", dir);
    write_file(path, chain.data, chain.len);
    snprintf(path, sizeof path, "%s/ext.cnf", dir);
    {
        static const char ext[] =
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
            "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\n"
            "authorityKeyIdentifier=keyid\n"
            "authorityInfoAccess=OCSP;URI:http://ocsp.example.com,caIssuers;URI:http://pki.example.com/ca.crt\n"
            "crlDistributionPoints=URI:http://pki.example.com/ca.crl\n";
        write_file(path, ext, sizeof ext - 1);
    }
    for (size_t i = 0; i < cli; i++) {
        char csr_path[256];
        snprintf(csr_path, sizeof csr_path, "%s/%zu.csr", dir, i);
        write_file(csr_path, csrs[i].data, csrs[i].len);
    }
    t0 = now_s();
    for (size_t i = 0; i < cli; i++) {
        char csr_path[256], out_path[256], key_path[256], cert_path[256], ext_path[256];
        snprintf(csr_path, sizeof csr_path, "%s/%zu.csr", dir, i);
        snprintf(out_path, sizeof out_path, "%s/%zu.pem", dir, i);
        snprintf(key_path, sizeof key_path, "%s/ca.key", dir);
        snprintf(cert_path, sizeof cert_path, "%s/ca.pem", dir);
        snprintf(ext_path, sizeof ext_path, "%s/ext.cnf", dir);
        const char *args[] = {"openssl", "x509", "-req", "-in", csr_path, "-CA", cert_path,
                              "-CAkey", key_path, "-set_serial", "0x1234567890abcdef1234567890abcdef",
                              "-days", "90", "-extfile", ext_path, "-copy_extensions", "copy",
                              "-out", out_path, NULL};
        if (spawn_wait(args) != 0)
            die("openssl x509 -req");
    }
    cli_rate = (double)cli / (now_s() - t0);
    loadavg(load_after, sizeof load_after);

    printf("EC P-256 CSRs: %zu; CA: EC P-256 intermediate under a root; threads: %d\n", count,
           threads);
    printf("load average before: %s", load_before);
    printf("load average after:  %s", load_after);
    printf("%-46s %10s %12s\n", "", "per second", "CPU us/cert");
    printf("%-46s %10.0f %12.1f\n", "EC P-256 key generation", count / keygen_s,
           keygen_s * 1e6 / count);
    printf("%-46s %10.0f %12.1f\n", "CSR build and sign (pki_csr_build)", count / csr_s,
           csr_s * 1e6 / count);
    if (threads > 1)
        printf("%-46s %10.0f %12.1f\n", "clm submit, 1 thread", clm1_rate,
               clm1_cpu * 1e6 / count);
    {
        char label[64];
        snprintf(label, sizeof label, "clm submit, %d thread%s", threads, threads > 1 ? "s" : "");
        printf("%-46s %10.0f %12.1f\n", label, clm_rate, clm_cpu * 1e6 / count);
    }
    printf("%-46s %10.0f %12.1f\n", "OpenSSL loop (x509 -req in-process)", ossl_rate,
           ossl_cpu * 1e6 / count);
    printf("%-46s %10.0f %12.1f\n", "OpenSSL loop, SPKI copied as clm does", spki_rate,
           spki_cpu * 1e6 / count);
    printf("%-46s %10.1f %12s\n", "openssl x509 -req CLI (process each)", cli_rate, "-");
    printf("ratio clm 1 thread / OpenSSL loop: %.2f\n",
           (threads > 1 ? clm1_rate : clm_rate) / ossl_rate);
    printf("ratio clm 1 thread / OpenSSL loop with the SPKI copied: %.2f\n",
           (threads > 1 ? clm1_rate : clm_rate) / spki_rate);
    printf("ratio clm 1 thread / openssl x509 -req CLI: %.1f\n",
           (threads > 1 ? clm1_rate : clm_rate) / cli_rate);
    printf("key + CSR + sign, 1 thread: %.0f enrollments/s (store not included)\n",
           1.0 / (keygen_s / count + csr_s / count + 1.0 / (threads > 1 ? clm1_rate : clm_rate)));

    for (size_t i = 0; i < count; i++)
        clm_buf_free(&csrs[i]);
    free(csrs);
    clm_buf_wipe(&key_pem);
    clm_buf_free(&chain);
    EVP_PKEY_free(ca_key);
    X509_free(ca_cert);
    ca_local_ops.close(ca);
    ca_memory_state_free(&state);
    {
        /* remove the temporary files (the CA key among them) */
        char p[300];
        for (size_t i = 0; i < cli; i++) {
            snprintf(p, sizeof p, "%s/%zu.csr", dir, i);
            unlink(p);
            snprintf(p, sizeof p, "%s/%zu.pem", dir, i);
            unlink(p);
        }
        const char *names[] = {"ca.key", "ca.pem", "ext.cnf"};
        for (size_t i = 0; i < 3; i++) {
            snprintf(p, sizeof p, "%s/%s", dir, names[i]);
            unlink(p);
        }
        rmdir(dir);
    }
    return 0;
}
