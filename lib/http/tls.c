/*
 * lib/http/tls.c: TLS for https requests, with OpenSSL API that BoringSSL shares.
 *
 * The SSL object reads and writes two memory BIOs; the bytes between them and the
 * socket are moved by conn.c's helpers, which wait with poll() against the request's
 * deadlines and never raise SIGPIPE. Verification is always on: the trust comes from
 * the request's CA options or the system store, the name from the URL host or
 * tls.server_name (an IP literal is matched against IP SANs and sent without SNI).
 */
#include "lib/http/http_internal.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Bytes moved per socket read or TLS write. */
#define TLS_IO_CHUNK 16384

/* The first queued OpenSSL reason ("certificate verify failed"), then an empty queue. */
static const char *tls_reason(char *buf, size_t size, const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;

    if (reason != NULL)
        snprintf(buf, size, "%s", reason);
    else if (e != 0)
        ERR_error_string_n(e, buf, size);
    else
        snprintf(buf, size, "%s", fallback);
    ERR_clear_error();
    return buf;
}

/* PEM callback for keys: there is no passphrase, and never a terminal prompt. */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)userdata;
    return -1;
}

static clm_err load_ca_pem(SSL_CTX *ctx, const char *pem, size_t len)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    BIO *bio;
    X509 *cert;
    int n = 0;
    char reason[160];

    if (len > INT_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "tls.ca_pem: too long");
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "tls.ca_pem: out of memory");
    while ((cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) != NULL) {
        int ok = X509_STORE_add_cert(store, cert);

        X509_free(cert);
        if (!ok) {
            BIO_free(bio);
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "tls.ca_pem: %s",
                            tls_reason(reason, sizeof(reason), "cannot add a certificate"));
        }
        n++;
    }
    BIO_free(bio);
    ERR_clear_error(); /* the end of the PEM text reads as "no start line" */
    if (n == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "tls.ca_pem: no PEM certificate in it");
    return CLM_OK;
}

static clm_err load_client_identity(SSL_CTX *ctx, const http_tls_options *o)
{
    BIO *bio;
    X509 *cert;
    EVP_PKEY *key;
    char reason[160];
    clm_err err = CLM_OK;

    if (o->client_cert_pem == NULL && o->client_key_pem == NULL)
        return CLM_OK;
    if (o->client_cert_pem == NULL || o->client_key_pem == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "tls.client_cert_pem and tls.client_key_pem go together");
    if (o->client_cert_pem_len > INT_MAX || o->client_key_pem_len > INT_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "tls.client_cert_pem: too long");

    bio = BIO_new_mem_buf(o->client_cert_pem, (int)o->client_cert_pem_len);
    if (bio == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "tls.client_cert_pem: out of memory");
    cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
    if (cert == NULL) {
        BIO_free(bio);
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "tls.client_cert_pem: %s",
                        tls_reason(reason, sizeof(reason), "no PEM certificate in it"));
    }
    if (!SSL_CTX_use_certificate(ctx, cert)) {
        X509_free(cert);
        BIO_free(bio);
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "tls.client_cert_pem: %s",
                        tls_reason(reason, sizeof(reason), "certificate refused"));
    }
    X509_free(cert);
    /* The rest of the text is the chain the server may need to reach its trust. */
    while ((cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) != NULL) {
        if (!SSL_CTX_add_extra_chain_cert(ctx, cert)) {
            X509_free(cert);
            BIO_free(bio);
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "tls.client_cert_pem: %s",
                            tls_reason(reason, sizeof(reason), "chain certificate refused"));
        }
    }
    ERR_clear_error();
    BIO_free(bio);

    bio = BIO_new_mem_buf(o->client_key_pem, (int)o->client_key_pem_len);
    if (bio == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "tls.client_key_pem: out of memory");
    key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (key == NULL) {
        /* The library's reason only: it never includes key bytes. */
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "tls.client_key_pem: not an unencrypted PEM private key (%s)",
                        tls_reason(reason, sizeof(reason), "unreadable"));
    }
    if (!SSL_CTX_use_PrivateKey(ctx, key) || !SSL_CTX_check_private_key(ctx))
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT,
                       "tls.client_key_pem: does not match tls.client_cert_pem (%s)",
                       tls_reason(reason, sizeof(reason), "mismatch"));
    EVP_PKEY_free(key);
    return err;
}

clm_err http_tls_context_new(const http_tls_options *options, SSL_CTX **out)
{
    static const http_tls_options none;
    const http_tls_options *o = options != NULL ? options : &none;
    SSL_CTX *ctx;
    char reason[160];
    clm_err err;

    *out = NULL;
    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "TLS: cannot make a context: %s",
                        tls_reason(reason, sizeof(reason), "out of memory"));
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
        err = clm_fail(CLM_ERR_INTERNAL, "TLS: cannot require TLS 1.2");
        goto fail;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);

    if (o->ca_file != NULL && !SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL)) {
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "tls.ca_file: cannot load %s: %s", o->ca_file,
                       tls_reason(reason, sizeof(reason), "unreadable"));
        goto fail;
    }
    if (o->ca_dir != NULL) {
        DIR *dir = opendir(o->ca_dir);

        if (dir == NULL) {
            err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "tls.ca_dir: cannot open %s: %s", o->ca_dir,
                           strerror(errno));
            goto fail;
        }
        closedir(dir);
        if (!SSL_CTX_load_verify_locations(ctx, NULL, o->ca_dir)) {
            err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "tls.ca_dir: cannot use %s: %s", o->ca_dir,
                           tls_reason(reason, sizeof(reason), "unusable"));
            goto fail;
        }
    }
    if (o->ca_pem != NULL) {
        err = load_ca_pem(ctx, o->ca_pem, o->ca_pem_len);
        if (err != CLM_OK)
            goto fail;
    }
    if (o->ca_file == NULL && o->ca_dir == NULL && o->ca_pem == NULL &&
        !SSL_CTX_load_verify_locations(ctx, HTTP_SYSTEM_CA_FILE, HTTP_SYSTEM_CA_DIR)) {
        err = clm_fail(CLM_ERR_UNAVAILABLE,
                       "TLS: no CA was given and the system trust store %s cannot be "
                       "loaded (%s): install ca-certificates or set tls.ca_file",
                       HTTP_SYSTEM_CA_FILE, tls_reason(reason, sizeof(reason), "unreadable"));
        goto fail;
    }
    err = load_client_identity(ctx, o);
    if (err != CLM_OK)
        goto fail;
    *out = ctx;
    return CLM_OK;
fail:
    SSL_CTX_free(ctx);
    return err;
}

/* Send what OpenSSL has written into the memory BIO. */
static clm_err flush_out(http_conn *conn, int64_t deadline_ns, const char *what, int timeout_ms)
{
    unsigned char buf[TLS_IO_CHUNK];

    while (BIO_ctrl_pending(conn->wbio) > 0) {
        int n = BIO_read(conn->wbio, buf, (int)sizeof(buf));
        clm_err err;

        if (n <= 0)
            break;
        err = http_socket_send_all(conn, buf, (size_t)n, deadline_ns, what, timeout_ms);
        if (err != CLM_OK)
            return err;
    }
    return CLM_OK;
}

/* Read from the socket into the memory BIO: at least one byte, or conn->eof. */
static clm_err fill_in(http_conn *conn, int64_t deadline_ns, const char *what, int timeout_ms)
{
    unsigned char buf[TLS_IO_CHUNK];
    size_t got = 0;
    clm_err err = http_socket_read(conn, buf, sizeof(buf), &got, deadline_ns, what, timeout_ms);

    if (err != CLM_OK || got == 0)
        return err;
    if (BIO_write(conn->rbio, buf, (int)got) != (int)got)
        return clm_fail(CLM_ERR_NO_MEMORY, "%s %s: out of memory", what, conn->peer);
    return CLM_OK;
}

clm_err http_tls_handshake(http_conn *conn, SSL_CTX *ctx, const http_url *url,
                           const http_tls_options *options, int64_t deadline_ns,
                           int connect_timeout_ms, http_failure *failure)
{
    const char *name =
        options != NULL && options->server_name != NULL ? options->server_name : url->host;
    X509_VERIFY_PARAM *param;
    unsigned char addr[16];
    bool name_is_ip;
    char reason[200], bare[HTTP_HOST_MAX + 1];
    clm_err err;

    conn->ctx = ctx;
    *failure = HTTP_FAILURE_TLS_IO;
    conn->ssl = SSL_new(ctx);
    conn->rbio = BIO_new(BIO_s_mem());
    conn->wbio = BIO_new(BIO_s_mem());
    if (conn->ssl == NULL || conn->rbio == NULL || conn->wbio == NULL) {
        BIO_free(conn->rbio);
        BIO_free(conn->wbio);
        conn->rbio = conn->wbio = NULL;
        return clm_fail(CLM_ERR_NO_MEMORY, "TLS handshake with %s: out of memory", conn->peer);
    }
    /* An empty input BIO means "wait for more", not end of stream. */
    BIO_set_mem_eof_return(conn->rbio, -1);
    SSL_set_bio(conn->ssl, conn->rbio, conn->wbio);

    /* "example.com." is the same name; SNI and certificates carry it without the dot. */
    if (strlen(name) > 1 && strlen(name) <= HTTP_HOST_MAX && name[strlen(name) - 1] == '.') {
        snprintf(bare, sizeof(bare), "%.*s", (int)strlen(name) - 1, name);
        name = bare;
    }
    param = SSL_get0_param(conn->ssl);
    name_is_ip = inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
    if (name_is_ip) {
        if (!X509_VERIFY_PARAM_set1_ip_asc(param, name))
            return clm_fail(CLM_ERR_INTERNAL, "TLS handshake with %s: cannot set the IP",
                            conn->peer);
    } else {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (!X509_VERIFY_PARAM_set1_host(param, name, strlen(name)) ||
            !SSL_set_tlsext_host_name(conn->ssl, name)) {
            *failure = HTTP_FAILURE_ARGUMENT;
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "tls.server_name: not usable as a host name");
        }
    }
    SSL_set_connect_state(conn->ssl);

    for (;;) {
        int rc, e;

        ERR_clear_error();
        rc = SSL_do_handshake(conn->ssl);
        e = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(conn->ssl, rc);
        /* Whatever OpenSSL wrote goes out first, an alert on failure included. */
        err = flush_out(conn, deadline_ns, "TLS handshake with", connect_timeout_ms);
        if (rc == 1 && err == CLM_OK)
            return CLM_OK;
        if (e == SSL_ERROR_WANT_READ && err == CLM_OK) {
            if (conn->eof)
                return clm_fail(CLM_ERR_UNAVAILABLE,
                                "TLS handshake with %s: the server closed the connection",
                                conn->peer);
            err = fill_in(conn, deadline_ns, "TLS handshake with", connect_timeout_ms);
            if (err != CLM_OK)
                return err;
            continue;
        }
        if (e == SSL_ERROR_SSL) {
            long verify = SSL_get_verify_result(conn->ssl);

            *failure = HTTP_FAILURE_TLS_VERIFY;
            if (verify != X509_V_OK) {
                ERR_clear_error();
                return clm_fail(CLM_ERR_UNAVAILABLE,
                                "TLS handshake with %s: the server's certificate does not "
                                "verify: %s",
                                conn->peer, X509_verify_cert_error_string(verify));
            }
            return clm_fail(CLM_ERR_UNAVAILABLE, "TLS handshake with %s: %s", conn->peer,
                            tls_reason(reason, sizeof(reason), "protocol error"));
        }
        if (err != CLM_OK)
            return err;
        return clm_fail(CLM_ERR_UNAVAILABLE, "TLS handshake with %s: %s", conn->peer,
                        tls_reason(reason, sizeof(reason), "the connection failed"));
    }
}

clm_err http_tls_write(http_conn *conn, const void *data, size_t len, int64_t deadline_ns,
                       int timeout_ms)
{
    const unsigned char *p = data;
    char reason[160];

    while (len > 0) {
        int chunk = len > TLS_IO_CHUNK ? TLS_IO_CHUNK : (int)len;
        int rc, e;
        clm_err err;

        ERR_clear_error();
        rc = SSL_write(conn->ssl, p, chunk);
        e = rc > 0 ? SSL_ERROR_NONE : SSL_get_error(conn->ssl, rc);
        err = flush_out(conn, deadline_ns, "send to", timeout_ms);
        if (err != CLM_OK)
            return err;
        if (rc > 0) {
            p += rc;
            len -= (size_t)rc;
            continue;
        }
        if (e == SSL_ERROR_WANT_READ) {
            if (conn->eof)
                return clm_fail(CLM_ERR_UNAVAILABLE, "send to %s: the connection closed",
                                conn->peer);
            err = fill_in(conn, deadline_ns, "send to", timeout_ms);
            if (err != CLM_OK)
                return err;
            continue;
        }
        return clm_fail(CLM_ERR_UNAVAILABLE, "send to %s: TLS: %s", conn->peer,
                        tls_reason(reason, sizeof(reason), "write failed"));
    }
    return CLM_OK;
}

clm_err http_tls_read(http_conn *conn, void *buf, size_t cap, size_t *got, int64_t deadline_ns,
                      int timeout_ms)
{
    char reason[160];

    *got = 0;
    for (;;) {
        int rc, e;
        clm_err err;

        ERR_clear_error();
        rc = SSL_read(conn->ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
        if (rc > 0) {
            *got = (size_t)rc;
            return CLM_OK;
        }
        e = SSL_get_error(conn->ssl, rc);
        /* Reading may make OpenSSL answer (a KeyUpdate); send that on. */
        err = flush_out(conn, deadline_ns, "response from", timeout_ms);
        if (e == SSL_ERROR_ZERO_RETURN) {
            conn->tls_closed = true;
            return CLM_OK;
        }
        if (e == SSL_ERROR_WANT_READ && err == CLM_OK) {
            if (conn->eof)
                return CLM_OK; /* closed without close_notify: the caller judges */
            err = fill_in(conn, deadline_ns, "response from", timeout_ms);
            if (err != CLM_OK)
                return err;
            continue;
        }
        if (e == SSL_ERROR_SSL) {
            conn->tls_error = true;
            return clm_fail(CLM_ERR_UNAVAILABLE, "response from %s: TLS: %s", conn->peer,
                            tls_reason(reason, sizeof(reason), "protocol error"));
        }
        if (err != CLM_OK)
            return err;
        return clm_fail(CLM_ERR_UNAVAILABLE, "response from %s: TLS: %s", conn->peer,
                        tls_reason(reason, sizeof(reason), "read failed"));
    }
}

void http_tls_close(http_conn *conn)
{
    unsigned char buf[TLS_IO_CHUNK];
    int n;

    if (conn->fd < 0 || !SSL_is_init_finished(conn->ssl))
        return;
    ERR_clear_error();
    (void)SSL_shutdown(conn->ssl); /* queues close_notify; the answer is not awaited */
    /* One try without waiting: the connection is going away either way. */
    n = BIO_read(conn->wbio, buf, (int)sizeof(buf));
    if (n > 0)
        (void)send(conn->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    ERR_clear_error();
}
