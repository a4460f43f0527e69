/*
 * lib/http/url.c: strict parsing of http and https URLs (url.h).
 *
 * Written by hand rather than with http_parser_parse_url(), which accepts user info,
 * empty ports and hosts this client would rather refuse, and says nothing of which
 * part was wrong.
 */
#include "lib/http/url.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_host_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

static clm_err parse_host(const char *start, size_t len, http_url *out)
{
    if (len == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "url host: empty");
    if (start[0] == '[') {
        char literal[INET6_ADDRSTRLEN + 1];
        unsigned char addr[16];

        if (start[len - 1] != ']' || len < 3)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "url host: an IPv6 literal must be closed with ']'");
        if (len - 2 >= sizeof(literal))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "url host: IPv6 literal too long");
        memcpy(literal, start + 1, len - 2);
        literal[len - 2] = '\0';
        if (strchr(literal, '%') != NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "url host: IPv6 zone identifiers are not supported");
        if (inet_pton(AF_INET6, literal, addr) != 1)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "url host: not a valid IPv6 address");
        for (size_t i = 0; literal[i] != '\0'; i++)
            out->host[i] = (char)((literal[i] >= 'A' && literal[i] <= 'F') ? literal[i] - 'A' + 'a'
                                                                           : literal[i]);
        out->host[len - 2] = '\0';
        out->host_is_ipv6 = true;
        out->host_is_ip = true;
        return CLM_OK;
    }
    if (len > HTTP_HOST_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "url host: longer than %d bytes", HTTP_HOST_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)start[i];

        if (c == '%')
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "url host: percent-encoding is not allowed in a host");
        if (c == '[' || c == ']')
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "url host: brackets only around a whole IPv6 literal");
        if (!is_host_char(c))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "url host: character 0x%02x is not allowed (letters, digits, "
                            "'-', '.', '_')",
                            c);
        out->host[i] = (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    }
    out->host[len] = '\0';
    if (out->host[0] == '.' || out->host[0] == '-' || strstr(out->host, "..") != NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "url host: empty label");
    {
        unsigned char addr[4];

        out->host_is_ip = inet_pton(AF_INET, out->host, addr) == 1;
    }
    return CLM_OK;
}

static clm_err parse_port(const char *start, size_t len, http_url *out)
{
    unsigned long port = 0;

    if (len == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "url port: empty after ':'");
    if (len > 5)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "url port: out of range (1-65535)");
    for (size_t i = 0; i < len; i++) {
        if (start[i] < '0' || start[i] > '9')
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "url port: not a decimal number");
        port = port * 10 + (unsigned long)(start[i] - '0');
    }
    if (port == 0 || port > 65535)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "url port: out of range (1-65535)");
    out->port = (uint16_t)port;
    out->port_explicit = true;
    return CLM_OK;
}

clm_err http_url_parse(const char *text, http_url *out)
{
    const char *p, *authority, *end, *host_end, *target_end;
    size_t len, target_len;
    clm_err err;

    if (out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "url: no output");
    memset(out, 0, sizeof(*out));
    if (text == NULL || text[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "url: empty");
    len = strnlen(text, HTTP_URL_MAX + 1);
    if (len > HTTP_URL_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "url: longer than %d bytes", HTTP_URL_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];

        if (c <= 0x20 || c >= 0x7f)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "url: byte 0x%02x at offset %zu: spaces, control characters "
                            "and non-ASCII bytes must be percent-encoded",
                            c, i);
    }

    if (strncasecmp(text, "https://", 8) == 0) {
        out->https = true;
        authority = text + 8;
    } else if (strncasecmp(text, "http://", 7) == 0) {
        authority = text + 7;
    } else {
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "url scheme: must be http:// or https://");
    }
    out->port = out->https ? 443 : 80;

    end = authority + strcspn(authority, "/?#");
    if (memchr(authority, '@', (size_t)(end - authority)) != NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "url user info: credentials in a URL are not supported; send them "
                        "in an Authorization header");

    /* The port follows the last ':' outside an IPv6 literal's brackets. */
    host_end = end;
    if (authority < end && authority[0] == '[') {
        const char *close = memchr(authority, ']', (size_t)(end - authority));

        if (close == NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "url host: an IPv6 literal must be closed with ']'");
        host_end = close + 1;
        if (host_end < end && *host_end != ':')
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "url host: unexpected text after the IPv6 literal");
    } else {
        const char *colon = memchr(authority, ':', (size_t)(end - authority));

        if (colon != NULL)
            host_end = colon;
    }
    err = parse_host(authority, (size_t)(host_end - authority), out);
    if (err != CLM_OK) {
        memset(out, 0, sizeof(*out));
        return err;
    }
    if (host_end < end) {
        err = parse_port(host_end + 1, (size_t)(end - host_end - 1), out);
        if (err != CLM_OK) {
            memset(out, 0, sizeof(*out));
            return err;
        }
    }

    /* Path and query, without the fragment; "?q" alone becomes "/?q". */
    p = end;
    target_end = p + strcspn(p, "#");
    target_len = (size_t)(target_end - p);
    out->target = malloc(target_len + 2);
    if (out->target == NULL) {
        memset(out, 0, sizeof(*out));
        return clm_fail(CLM_ERR_NO_MEMORY, "url: out of memory");
    }
    if (target_len == 0 || p[0] != '/') {
        out->target[0] = '/';
        memcpy(out->target + 1, p, target_len);
        out->target[target_len + 1] = '\0';
    } else {
        memcpy(out->target, p, target_len);
        out->target[target_len] = '\0';
    }
    return CLM_OK;
}

void http_url_free(http_url *url)
{
    if (url == NULL)
        return;
    free(url->target);
    memset(url, 0, sizeof(*url));
}

const char *http_url_origin(const http_url *url, char out[HTTP_ORIGIN_SIZE])
{
    snprintf(out, HTTP_ORIGIN_SIZE, "%s://%s%s%s:%u", url->https ? "https" : "http",
             url->host_is_ipv6 ? "[" : "", url->host, url->host_is_ipv6 ? "]" : "",
             (unsigned)url->port);
    return out;
}

const char *http_url_host_header(const http_url *url, char out[HTTP_ORIGIN_SIZE])
{
    bool default_port = url->port == (url->https ? 443 : 80);

    if (default_port)
        snprintf(out, HTTP_ORIGIN_SIZE, "%s%s%s", url->host_is_ipv6 ? "[" : "", url->host,
                 url->host_is_ipv6 ? "]" : "");
    else
        snprintf(out, HTTP_ORIGIN_SIZE, "%s%s%s:%u", url->host_is_ipv6 ? "[" : "", url->host,
                 url->host_is_ipv6 ? "]" : "", (unsigned)url->port);
    return out;
}
