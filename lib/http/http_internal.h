/*
 * lib/http/http_internal.h: what the files of lib/http share, and what its tests and
 * fuzz targets reach past the public headers for.
 *
 * The response reader is the one code path from bytes to an http_response: the
 * transport feeds it what it reads from the socket (or TLS), the fuzz target and the
 * table tests feed it buffers.
 */
#ifndef CLM_LIB_HTTP_HTTP_INTERNAL_H
#define CLM_LIB_HTTP_HTTP_INTERNAL_H

#include "lib/base/buf.h"
#include "lib/base/error.h"
#include "lib/http/http.h"
#include "lib/http/url.h"

#include <http_parser.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- response reader (response.c) ---- */

typedef struct http_response_reader {
    http_parser parser;
    size_t max_body;
    bool head;       /* the request was HEAD: a response has no body */
    bool done;       /* a final response is complete */
    clm_err cb_err;  /* set by a callback that stopped the parser (message recorded) */
    bool in_value;   /* the last header callback was for a value */
    bool in_trailer; /* the headers are complete: header callbacks are trailers */
    clm_buf field;   /* the header name being read */
    clm_buf value;   /* the header value being read */
    clm_buf headers; /* "name\0value\0" for each complete header */
    size_t n_headers;
    size_t header_bytes; /* bytes of names and values, for HTTP_MAX_HEADER_BYTES */
    clm_buf body;
    uint64_t received; /* bytes fed so far */
} http_response_reader;

/**
 * @brief Start reading one response.
 * @param[in] max_body the longest body accepted.
 * @param[in] head     true for a response to HEAD (no body follows the headers).
 */
void http_response_reader_init(http_response_reader *r, size_t max_body, bool head);

/**
 * @brief Feed bytes as they arrive; len 0 says the peer closed the connection.
 * Bytes after a complete response are ignored.
 * @return CLM_OK (complete or not: see http_response_reader_done);
 *         CLM_ERR_PARSE: malformed, or past a limit;
 *         CLM_ERR_UNAVAILABLE: the connection closed before the response was complete;
 *         CLM_ERR_NO_MEMORY.
 */
clm_err http_response_reader_feed(http_response_reader *r, const void *data, size_t len);

/** Whether a final response is complete. */
bool http_response_reader_done(const http_response_reader *r);

/**
 * @brief Move the complete response into out (which then owns it).
 * @return CLM_OK; CLM_ERR_INTERNAL when the response is not complete; CLM_ERR_NO_MEMORY.
 */
clm_err http_response_reader_take(http_response_reader *r, http_response *out);

/** Free what the reader holds. */
void http_response_reader_free(http_response_reader *r);

/**
 * @brief Parse a whole response held in memory (then end of connection), as the
 * transport would: for tests and the fuzz target.
 */
clm_err http_response_parse(const void *data, size_t len, size_t max_body, bool head,
                            http_response *out);

/* ---- connection (conn.c: TCP, tls.c: TLS over it) ---- */

/** Why a connection or exchange failed, for deciding whether to retry. */
typedef enum http_failure {
    HTTP_FAILURE_NONE = 0,
    HTTP_FAILURE_ARGUMENT,      /* the request was refused before any network work */
    HTTP_FAILURE_RESOLVE,       /* the name does not resolve (permanent) */
    HTTP_FAILURE_RESOLVE_AGAIN, /* temporary resolver failure (EAI_AGAIN) */
    HTTP_FAILURE_CONNECT,       /* no address accepted a TCP connection (or timed out) */
    HTTP_FAILURE_TLS_IO,        /* the TLS handshake was cut off (reset, closed, timeout) */
    HTTP_FAILURE_TLS_VERIFY,    /* the handshake failed on its merits (certificate,
                                   protocol, alert) */
    HTTP_FAILURE_EXCHANGE,      /* after the request was (maybe) sent */
    HTTP_FAILURE_MAX
} http_failure;

/* A connection; start from {.fd = -1}. */
typedef struct http_conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio;       /* memory BIOs: the socket is read and written here, */
    BIO *wbio;       /* so SIGPIPE and deadlines stay under our control */
    bool eof;        /* the peer closed its side (TCP) */
    bool tls_closed; /* the peer sent close_notify */
    bool tls_error;  /* a TLS read failed on the protocol (an alert, which the message
                        names), not on the socket */
    char peer[HTTP_ORIGIN_SIZE + 64]; /* "host port N" for messages */
} http_conn;

/** Monotonic now, in nanoseconds (the real clock: deadlines are for poll). */
int64_t http_now_ns(void);

/**
 * @brief Resolve the URL host and connect to the first address that accepts, before
 * connect_deadline_ns (monotonic); each address gets an equal share of what is left.
 * @param[out] failure set on failure.
 * @return CLM_OK; CLM_ERR_UNAVAILABLE; CLM_ERR_TIMEOUT; CLM_ERR_NO_MEMORY.
 */
clm_err http_conn_open(http_conn *conn, const http_url *url, int64_t connect_deadline_ns,
                       int connect_timeout_ms, http_failure *failure);

/**
 * @brief Make the TLS context for a request (trust, client certificate).
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the option; CLM_ERR_NO_MEMORY.
 */
clm_err http_tls_context_new(const http_tls_options *options, SSL_CTX **out);

/**
 * @brief Run the TLS handshake over an open connection, taking ownership of ctx.
 * @param[out] failure HTTP_FAILURE_TLS_IO or HTTP_FAILURE_TLS_VERIFY on failure.
 * @return CLM_OK; CLM_ERR_UNAVAILABLE; CLM_ERR_TIMEOUT; CLM_ERR_NO_MEMORY.
 */
clm_err http_tls_handshake(http_conn *conn, SSL_CTX *ctx, const http_url *url,
                           const http_tls_options *options, int64_t deadline_ns,
                           int connect_timeout_ms, http_failure *failure);

/** Write all of data (through TLS when on). @return CLM_OK; UNAVAILABLE; TIMEOUT. */
clm_err http_conn_write(http_conn *conn, const void *data, size_t len, int64_t deadline_ns,
                        int total_timeout_ms);

/**
 * @brief Read what is available, waiting until deadline for at least one byte.
 * @param[out] got 0 at the end of the stream.
 * @return CLM_OK; CLM_ERR_UNAVAILABLE; CLM_ERR_TIMEOUT.
 */
clm_err http_conn_read(http_conn *conn, void *buf, size_t cap, size_t *got, int64_t deadline_ns,
                       int total_timeout_ms);

/** Send close_notify when TLS (without waiting), close the socket, free everything. */
void http_conn_close(http_conn *conn);

/*
 * Socket helpers of conn.c, which tls.c uses too. `what` and timeout_ms word the
 * message ("send to host port N: timed out after 2000 ms").
 */
clm_err http_socket_wait(http_conn *conn, short events, int64_t deadline_ns, const char *what,
                         int timeout_ms);
clm_err http_socket_send_all(http_conn *conn, const void *data, size_t len, int64_t deadline_ns,
                             const char *what, int timeout_ms);
/** Read at least one byte; *got 0 at the end of the stream (conn->eof set). */
clm_err http_socket_read(http_conn *conn, void *buf, size_t cap, size_t *got, int64_t deadline_ns,
                         const char *what, int timeout_ms);

/* The TLS halves of http_conn_write, http_conn_read and http_conn_close (tls.c). */
clm_err http_tls_write(http_conn *conn, const void *data, size_t len, int64_t deadline_ns,
                       int timeout_ms);
clm_err http_tls_read(http_conn *conn, void *buf, size_t cap, size_t *got, int64_t deadline_ns,
                      int timeout_ms);
void http_tls_close(http_conn *conn);

/* ---- request (request.c) ---- */

/**
 * @brief http_request_send(), also saying why it failed.
 * @param[out] failure HTTP_FAILURE_NONE on success.
 */
clm_err http_request_send_ex(const http_request *req, http_response *out, http_failure *failure);

#endif
