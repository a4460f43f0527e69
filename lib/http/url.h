/*
 * lib/http/url.h: the URLs lib/http accepts, parsed strictly.
 *
 * Accepted: `http://` or `https://` (scheme case-insensitive), a host that is a DNS
 * name or IPv4 address (letters, digits, '-', '.', '_'; at most 253 bytes) or an IPv6
 * literal in brackets (`[::1]`, no zone), an optional port (1-65535), then an optional
 * path and query. A fragment (`#...`) is dropped: it is never sent. Rejected, with
 * CLM_ERR_INVALID_ARGUMENT and a message naming the part: other schemes, user info
 * (`user:pass@`: put credentials in an Authorization header, never in a URL), empty or
 * malformed hosts, percent-encoded hosts, ports out of range, and spaces, control
 * characters or bytes above 0x7e anywhere (percent-encode them). Percent escapes in the
 * path and query are passed through as they are, not decoded.
 *
 * A URL may hold a secret (webhook URLs often carry a token in the path), so error
 * messages and logs of this module name the part that is wrong, never the URL itself;
 * callers log http_url_origin() and nothing longer.
 *
 * Thread rules: every function may be called from any thread.
 */
#ifndef CLM_LIB_HTTP_URL_H
#define CLM_LIB_HTTP_URL_H

#include "lib/base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Longest URL accepted, in bytes. */
#define HTTP_URL_MAX 8192
/** Longest host name (RFC 1035), and room for an IPv6 literal. */
#define HTTP_HOST_MAX 253
/** Size of a buffer that holds any origin ("https://[host]:65535" and the NUL). */
#define HTTP_ORIGIN_SIZE (HTTP_HOST_MAX + 32)

typedef struct http_url {
    bool https;                   /* scheme https (else http) */
    char host[HTTP_HOST_MAX + 1]; /* lower-cased; an IPv6 literal without brackets */
    bool host_is_ipv6;            /* host is an IPv6 literal */
    bool host_is_ip;              /* host is an IPv4 or IPv6 literal (no SNI then) */
    uint16_t port;                /* explicit, or 80 / 443 by scheme */
    bool port_explicit;           /* the URL named the port */
    char *target;                 /* request target: "/path?query", at least "/";
                                     malloc'd, owned by the http_url */
} http_url;

/**
 * @brief Parse and check a URL (see the top of this file).
 * @param[in]  text a NUL-terminated URL.
 * @param[out] out  filled on success (free with http_url_free); zeroed on failure.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the part ("url scheme", "url host",
 *         "url port", "url path"...); CLM_ERR_NO_MEMORY.
 */
clm_err http_url_parse(const char *text, http_url *out);

/** Free the target and zero the URL. Accepts NULL and a zeroed URL. */
void http_url_free(http_url *url);

/**
 * @brief The origin, "https://host:port" (brackets around an IPv6 host, the port
 * always written): what logs and error messages may show of a URL.
 * @param[out] out a buffer of HTTP_ORIGIN_SIZE bytes.
 * @return out.
 */
const char *http_url_origin(const http_url *url, char out[HTTP_ORIGIN_SIZE]);

/**
 * @brief The Host header value: the host (bracketed when IPv6) and ":port" unless the
 * port is the scheme's default.
 * @param[out] out a buffer of HTTP_ORIGIN_SIZE bytes.
 * @return out.
 */
const char *http_url_host_header(const http_url *url, char out[HTTP_ORIGIN_SIZE]);

#endif
