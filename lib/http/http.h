/*
 * lib/http/http.h: a small, strict, blocking HTTP/1.1 client.
 *
 * For clm's outgoing webhooks and the REST CA connectors (ACME, cfssl): one request,
 * one connection (`Connection: close`), one complete response in memory. The transport
 * (getaddrinfo, non-blocking connect, poll deadlines, TLS through OpenSSL) is written
 * here; the response is parsed by Debian's http-parser, content-length, chunked and
 * read-until-close bodies alike. Why not libcurl: Debian's libcurl has no static
 * closure (gssapi/krb5), and clmd is one static binary.
 *
 * What the client sends: `METHOD target HTTP/1.1`, `Host`, `User-Agent: clm` (unless the
 * caller sets one), the caller's headers, `Content-Length` (when there is a body, and
 * always for POST, PUT and PATCH), `Connection: close`. Callers may not set Host,
 * Content-Length, Transfer-Encoding, Connection, Upgrade, TE or Expect.
 *
 * What it accepts: HTTP/1.0 and 1.1 responses with a status of 100-599; 1xx interim
 * responses are skipped; 101 is refused (nothing here asks to switch protocols). The
 * response body is kept as received (no content decoding: none is asked for). Over
 * TLS, a body delimited only by the end of the connection must end with the server's
 * close_notify, or it may have been cut short by an attacker (CLM_ERR_PARSE).
 *
 * TLS: TLS 1.2 or newer, the server's certificate always verified (no switch turns it
 * off) against the given CA file, directory or PEM, else Debian's system store, and its
 * name checked against the URL host (or tls.server_name); SNI is sent for names, not
 * for IP literals, whose address is checked against the certificate's IP SANs instead.
 * Only OpenSSL API that BoringSSL shares is used (TOOLCHAIN.md). The OpenSSL context is
 * made per request (the CA file is read each time): fine for webhooks and connectors.
 *
 * Logging: one debug line per request with the method, the origin (scheme, host, port:
 * never the path or query, which may hold tokens), the status and the time taken.
 * Bodies, header values and the URL path are never logged and never appear in error
 * messages.
 *
 * Caveats: host name resolution (getaddrinfo) blocks and is not bounded by the
 * timeouts; the deadline is checked again once it returns. SIGPIPE is never raised
 * (sockets are written with MSG_NOSIGNAL; TLS goes through memory BIOs).
 *
 * Thread rules: every function may be called from any thread; requests on different
 * threads are independent. Error messages are per thread (lib/base/error.h).
 */
#ifndef CLM_LIB_HTTP_HTTP_H
#define CLM_LIB_HTTP_HTTP_H

#include "lib/base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Defaults for the zero values of http_request's limits. */
#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define HTTP_DEFAULT_TOTAL_TIMEOUT_MS 30000
#define HTTP_DEFAULT_MAX_RESPONSE_BYTES ((size_t)1 << 20)
/** Hard limits on a response's header section (status line and headers). */
#define HTTP_MAX_HEADER_BYTES (64 * 1024)
#define HTTP_MAX_HEADERS 128
/** Limits on what a caller may send. */
#define HTTP_MAX_REQUEST_HEADERS 64

/** Debian's trust store, used when a TLS request names no CA. */
#define HTTP_SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
#define HTTP_SYSTEM_CA_DIR "/etc/ssl/certs"

/** One header. In a request both strings are the caller's; in a response, the response's. */
typedef struct http_header {
    const char *name;
    const char *value;
} http_header;

/**
 * TLS settings of an https request. All fields MAY be NULL/0. The CA fields add up:
 * any of them given replaces the system store; none given means the system store.
 */
typedef struct http_tls_options {
    const char *ca_file; /* PEM file of trusted CA certificates */
    const char *ca_dir;  /* OpenSSL hashed directory (`openssl rehash`) */
    const char *ca_pem;  /* trusted CA certificates as PEM text in memory */
    size_t ca_pem_len;
    const char *server_name;     /* the name sent as SNI and checked in the server's
                                    certificate; NULL: the URL host */
    const char *client_cert_pem; /* client certificate, then its chain, as PEM text */
    size_t client_cert_pem_len;
    const char *client_key_pem; /* the client certificate's private key as PEM text
                                   (borrowed for the call; never copied or logged) */
    size_t client_key_pem_len;
} http_tls_options;

/** A request. Everything is borrowed for the duration of the call. */
typedef struct http_request {
    const char *method;         /* upper-case token ("GET", "POST", "HEAD"...); NULL: GET */
    const char *url;            /* http:// or https:// (lib/http/url.h) */
    const http_header *headers; /* extra headers, sent in this order */
    size_t n_headers;
    const void *body; /* may be NULL when body_len is 0 */
    size_t body_len;
    int connect_timeout_ms;      /* TCP connect and TLS handshake, all addresses of the
                                    host together; 0: HTTP_DEFAULT_CONNECT_TIMEOUT_MS */
    int total_timeout_ms;        /* the whole exchange after name resolution, connect
                                    included; 0: HTTP_DEFAULT_TOTAL_TIMEOUT_MS */
    size_t max_response_bytes;   /* the longest body accepted; 0:
                                    HTTP_DEFAULT_MAX_RESPONSE_BYTES */
    const http_tls_options *tls; /* https only (ignored for http); NULL: system store */
} http_request;

/** A response. Everything in it is owned by it until http_response_free(). */
typedef struct http_response {
    int status;           /* 100-599 (never 1xx: interim responses are skipped) */
    http_header *headers; /* in received order, duplicates kept, names as sent,
                             values without surrounding whitespace */
    size_t n_headers;
    unsigned char *body; /* never NULL after success; NUL-terminated (the NUL is
                            not counted in body_len), so JSON can be read as text */
    size_t body_len;
} http_response;

/**
 * @brief Send one request and read the complete response.
 *
 * Any status is a success here: CLM_OK means a well-formed response was received, and
 * the caller decides what its status means.
 *
 * @param[in]  req the request; see the field comments.
 * @param[out] out filled on success (free with http_response_free); zeroed on failure,
 *             so freeing it then is harmless.
 * @return CLM_OK;
 *         CLM_ERR_INVALID_ARGUMENT: a bad URL (the message names the part), method,
 *           header (named), body, timeout, or TLS option (a CA or client certificate
 *           that cannot be loaded; named);
 *         CLM_ERR_UNAVAILABLE: name resolution, connect (refused, unreachable), TLS
 *           handshake (the reason, certificate verification included), no CA given and
 *           no system trust store, a connection reset or closed before the response
 *           was complete;
 *         CLM_ERR_TIMEOUT: connect_timeout_ms or total_timeout_ms passed;
 *         CLM_ERR_PARSE: a malformed response, a header section past
 *           HTTP_MAX_HEADER_BYTES or HTTP_MAX_HEADERS, a body past max_response_bytes;
 *         CLM_ERR_NO_MEMORY.
 */
clm_err http_request_send(const http_request *req, http_response *out);

/** Free what a response owns and zero it. Accepts NULL and a zeroed response. */
void http_response_free(http_response *resp);

/**
 * @brief The first header of that name (ASCII case-insensitive).
 * @return its value, owned by the response; NULL when there is none.
 */
const char *http_response_header(const http_response *resp, const char *name);

#endif
