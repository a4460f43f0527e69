/*
 * adapters/ca/local/local_testing.h: what the local CA's test programs share: a scratch
 * directory, a fake clock, the openssl CLI as a child, CSRs, an opened CA (header only,
 * like tests/unit.h, so the helpers' CHECKs count in the program that runs them).
 */
#ifndef CLM_ADAPTERS_CA_LOCAL_LOCAL_TESTING_H
#define CLM_ADAPTERS_CA_LOCAL_LOCAL_TESTING_H

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
static inline int run(const char *const argv[], clm_buf *out)
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

static inline const char *path(const char *name)
{
    static char p[64][640];
    static int next;
    char *slot = p[next++ % 64];

    snprintf(slot, sizeof p[0], "%s/%s", dir, name);
    return slot;
}

static inline void write_file(const char *name, const void *data, size_t len)
{
    FILE *f = fopen(path(name), "wb");

    CHECK(f != NULL);
    if (f == NULL)
        return;
    CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
}

static inline void read_file(const char *name, clm_buf *out)
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
static inline void write_cert_pem(const char *name, const unsigned char *der, size_t len)
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
static inline void make_csr(pki_key_type type, const char *cn, const char *sans, clm_buf *csr)
{
    EVP_PKEY *key = NULL;
    pki_csr_fields f = {.common_name = cn, .sans = sans, .hash = PKI_HASH_SHA256};

    clm_buf_reset(csr);
    CHECK_INT_EQ(pki_key_generate(type, &key), CLM_OK);
    CHECK_INT_EQ(pki_csr_build(&f, NULL, key, csr), CLM_OK);
    EVP_PKEY_free(key);
}

static inline adapter_ca *open_ca(ca_memory_state *state, const adapter_field_value *fields, size_t n)
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

static inline adapter_ca_outcome submit(adapter_ca *ca, const clm_buf *csr, const char *profile,
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
static inline void write_issued(const adapter_ca_result *r, const char *leaf)
{
    CHECK(r->chain_len >= 2);
    write_cert_pem(leaf, r->cert.data, r->cert.len);
    if (r->chain_len >= 2) {
        write_cert_pem("inter.pem", r->chain[0].data, r->chain[0].len);
        write_cert_pem("root.pem", r->chain[r->chain_len - 1].data,
                       r->chain[r->chain_len - 1].len);
    }
}

static inline int openssl_verify(const char *leaf, const char *purpose, clm_buf *out)
{
    const char *argv[] = {"openssl", "verify", "-CAfile", path("root.pem"), "-untrusted",
                          path("inter.pem"), purpose ? "-purpose" : leaf, purpose, leaf, NULL};
    if (purpose == NULL)
        argv[7] = NULL;
    return run(argv, out);
}

static inline void x509_text(const char *file, clm_buf *out)
{
    const char *argv[] = {"openssl", "x509", "-in", path(file), "-noout", "-text", NULL};
    CHECK_INT_EQ(run(argv, out), 0);
}


static inline adapter_ca *created_ca(ca_memory_state *state, int intermediate_days)
{
    ca_local_create_params params = {.key_type = PKI_KEY_EC_P256, .root_cn = "root",
                                     .intermediate_cn = "issuing",
                                     .intermediate_days = intermediate_days};

    ca_memory_state_init(state);
    CHECK_INT_EQ(ca_local_create(&params, &state->state, &fake.clock), CLM_OK);
    return open_ca(state, NULL, 0);
}


static inline void cli(const char *const argv[])
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

/* Each test program's start: a temporary directory, and the fake clock at the real
 * time, to the second, a little back: the openssl CLI checks validity (certificates and
 * the CRL's thisUpdate) against its own clock. @return 0, or 1 after printing why. */
static inline int local_test_setup(const char *name)
{
    const char *tmp = getenv("TEST_TMPDIR");
    int64_t now = clm_clock_now_ns(clm_clock_system());

    snprintf(dir, sizeof dir, "%s/%s.XXXXXX", tmp ? tmp : "/tmp", name);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    clm_clock_fake_init(&fake, now - now % CLM_NS_PER_SEC - 10 * CLM_NS_PER_SEC);
    return 0;
}

#endif
