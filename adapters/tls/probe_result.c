/* adapters/tls/probe_result.c: what a completed handshake yields (chain, fingerprint,
 * version, cipher, name, verification, expiry), and why a failed one failed. */
#include "adapters/tls/probe_internal.h"
#include "lib/base/buf.h"
#include "lib/pki/cert.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECONDS_PER_DAY INT64_C(86400)

static int64_t floor_days(int64_t seconds)
{
    return seconds >= 0 ? seconds / SECONDS_PER_DAY
                        : -((-seconds + SECONDS_PER_DAY - 1) / SECONDS_PER_DAY);
}

/* The verification of the served chain: from this loop's cache when the same chain (same
 * DER, in the same order) was verified before in this sweep, else pki_chain_verify(). */
static void verify_chain(probe_sweep *s, X509 **certs, size_t n, adapter_probe_result *r)
{
    unsigned char key[EVP_MAX_MD_SIZE];
    unsigned key_len = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    probe_verify_entry *entry = NULL;
    pki_chain chain;
    pki_verify_result vr;
    bool hashed = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;

    for (size_t i = 0; hashed && i < n; i++)
        hashed = EVP_DigestUpdate(md, r->chain[i].data, r->chain[i].len) == 1;
    hashed = hashed && EVP_DigestFinal_ex(md, key, &key_len) == 1 && key_len == 32;
    EVP_MD_CTX_free(md);
    if (hashed) {
        entry = &s->verify_cache[((size_t)key[0] << 8 | key[1]) % PROBE_VERIFY_CACHE];
        if (entry->used && memcmp(entry->key, key, 32) == 0) {
            r->chain_valid = entry->ok ? ADAPTER_PROBE_PASS : ADAPTER_PROBE_FAIL;
            r->verify_code = entry->code;
            r->verify_depth = entry->depth;
            r->verify_error = entry->error;
            return;
        }
    }
    memset(&chain, 0, sizeof chain);
    chain.certs = certs;
    chain.n = n;
    pki_chain_verify(&chain, s->trust, PKI_EKU_SERVER_AUTH, s->clock, &vr);
    clm_error_clear(); /* a chain that does not verify is a finding, not an error */
    r->chain_valid = vr.ok ? ADAPTER_PROBE_PASS : ADAPTER_PROBE_FAIL;
    r->verify_code = vr.code;
    r->verify_depth = vr.depth;
    r->verify_error = vr.ok ? NULL : probe_arena_strdup(s, vr.error);
    if (entry != NULL) {
        memcpy(entry->key, key, 32);
        entry->used = true;
        entry->ok = vr.ok;
        entry->code = vr.code;
        entry->depth = vr.depth;
        entry->error = r->verify_error;
    }
}

clm_err probe_result_fill(probe_sweep *s, probe_conn *c, adapter_probe_result *r)
{
    const tls_endpoint *e = &s->endpoints->v[c->index];
    STACK_OF(X509) *served = SSL_get_peer_cert_chain(c->ssl);
    int n = served != NULL ? sk_X509_num(served) : 0;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned digest_len = 0;
    X509 **certs, *leaf;
    int64_t not_after = 0;
    clm_err err = CLM_OK;

    if (n <= 0)
        return clm_fail(CLM_ERR_PARSE, "the server sent no certificate");
    r->tls_version = SSL_version(c->ssl);
    r->tls_version_name = SSL_get_version(c->ssl);
    r->cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(c->ssl));
    r->chain = probe_arena_alloc(s, (size_t)n * sizeof *r->chain);
    certs = malloc((size_t)n * sizeof *certs);
    if (r->chain == NULL || certs == NULL) {
        free(certs);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        X509 *x = sk_X509_value(served, i);
        int len = i2d_X509(x, NULL);
        unsigned char *der, *p;
        if (len <= 0 || (der = probe_arena_alloc(s, (size_t)len)) == NULL) {
            err = clm_fail(len <= 0 ? CLM_ERR_PARSE : CLM_ERR_NO_MEMORY,
                           "certificate %d of the served chain cannot be encoded", i);
            goto done;
        }
        p = der;
        i2d_X509(x, &p);
        r->chain[i].data = der;
        r->chain[i].len = (size_t)len;
        certs[i] = x;
    }
    r->chain_len = (size_t)n;
    leaf = certs[0];
    if (EVP_Digest(r->chain[0].data, r->chain[0].len, digest, &digest_len, EVP_sha256(), NULL) !=
        1) {
        err = clm_fail(CLM_ERR_CRYPTO, "cannot hash the leaf certificate");
        goto done;
    }
    clm_hex_encode(r->leaf_sha256, digest, digest_len);

    /* The name: the SNI sent, else the address; chklen given (BoringSSL reads 0 as
     * "use strlen" only in some versions). */
    if (e->sni != NULL)
        r->name_match = X509_check_host(leaf, e->sni, strlen(e->sni), 0, NULL) == 1
                            ? ADAPTER_PROBE_PASS
                            : ADAPTER_PROBE_FAIL;
    else
        r->name_match =
            X509_check_ip_asc(leaf, e->address, 0) == 1 ? ADAPTER_PROBE_PASS : ADAPTER_PROBE_FAIL;

    if (pki_cert_validity(leaf, NULL, &not_after) == CLM_OK) {
        r->not_after = not_after;
        r->days_to_expiry = floor_days(not_after - clm_clock_now_ns(s->clock) / CLM_NS_PER_SEC);
    }
    clm_error_clear();
    if (s->trust != NULL)
        verify_chain(s, certs, (size_t)n, r);
done:
    free(certs);
    ERR_clear_error();
    return err;
}

void probe_result_handshake_reason(probe_conn *c, int ssl_error, char *out, size_t size)
{
    unsigned long e = ERR_peek_error(); /* the first: the root cause */
    const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;
    bool eof_reason = e != 0 && ERR_GET_LIB(e) == ERR_LIB_SSL &&
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
                      ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
#else
                      false;
#endif

    if (reason != NULL && !eof_reason)
        snprintf(out, size, "TLS handshake failed: %s", reason);
    else if (c->io_errno != 0)
        snprintf(out, size, "the connection failed during the TLS handshake: %s",
                 strerror(c->io_errno));
    else if (c->io_eof || eof_reason || ssl_error == SSL_ERROR_SYSCALL)
        snprintf(out, size, "the server closed the connection during the TLS handshake");
    else if (ssl_error == SSL_ERROR_ZERO_RETURN)
        snprintf(out, size, "the server ended the TLS session during the handshake");
    else
        snprintf(out, size, "TLS handshake failed (SSL error %d)", ssl_error);
    ERR_clear_error();
}
