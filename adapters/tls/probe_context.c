/* adapters/tls/probe_context.c: the probe's SSL_CTX, and a socket BIO that never raises
 * SIGPIPE and tells the connection why I/O stopped. */
#include "adapters/tls/probe_internal.h"

#include <errno.h>
#include <openssl/err.h>
#include <pthread.h>
#include <sys/socket.h>

static int accept_any_chain(X509_STORE_CTX *store, void *arg)
{
    (void)store;
    (void)arg;
    return 1;
}

clm_err probe_context_new(SSL_CTX **out)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    *out = NULL;
    if (ctx == NULL)
        goto fail;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
        goto fail;
#ifndef OPENSSL_IS_BORINGSSL
    /* Level 0 for this context only: OpenSSL 3's level 1 refuses TLS 1.0/1.1 and SHA-1
     * signatures, which the probe must still be able to observe (probe.h). */
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_options(ctx, SSL_OP_LEGACY_SERVER_CONNECT);
#endif
    if (SSL_CTX_set_cipher_list(ctx, "ALL:!aNULL:!eNULL") != 1)
        goto fail;
    /* Observe; verify afterwards with lib/pki. The callback also keeps the handshake
     * from building and checking a chain against an empty store on every connection. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_cert_verify_callback(ctx, accept_any_chain, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* Read whole socket buffers, not a record header and then its body: a TLS 1.3
     * server flight is half a dozen records, a dozen recv() calls without this. */
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    *out = ctx;
    return CLM_OK;
fail:
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return clm_fail(CLM_ERR_CRYPTO, "cannot set up the probe's TLS context");
}

/* ---- the socket BIO ---------------------------------------------------------------------- */

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int bio_write(BIO *bio, const char *data, int len)
{
    probe_conn *conn = BIO_get_data(bio);
    ssize_t n;

    BIO_clear_retry_flags(bio);
    n = send(conn->fd, data, (size_t)len, MSG_NOSIGNAL);
    if (n >= 0)
        return (int)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        BIO_set_retry_write(bio);
    else
        conn->io_errno = errno;
    return -1;
}

static int bio_read(BIO *bio, char *data, int len)
{
    probe_conn *conn = BIO_get_data(bio);
    ssize_t n;

    BIO_clear_retry_flags(bio);
    n = recv(conn->fd, data, (size_t)len, 0);
    if (n > 0)
        return (int)n;
    if (n == 0) {
        conn->io_eof = true;
        return 0;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        BIO_set_retry_read(bio);
    else
        conn->io_errno = errno;
    return -1;
}

static long bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
    (void)bio;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *bio)
{
    BIO_set_init(bio, 1);
    return 1;
}

static void bio_method_make(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "clm probe socket");

    if (m == NULL)
        return;
    if (BIO_meth_set_write(m, bio_write) != 1 || BIO_meth_set_read(m, bio_read) != 1 ||
        BIO_meth_set_ctrl(m, bio_ctrl) != 1 || BIO_meth_set_create(m, bio_create) != 1) {
        BIO_meth_free(m);
        return;
    }
    bio_method = m; /* lives as long as the process */
}

BIO *probe_bio_new(probe_conn *conn)
{
    BIO *bio;

    pthread_once(&bio_once, bio_method_make);
    if (bio_method == NULL || (bio = BIO_new(bio_method)) == NULL)
        return NULL;
    BIO_set_data(bio, conn);
    return bio;
}
