/*
 * lib/http/parse_test.c: the table tests of lib/http that need no network: URLs,
 * responses read from memory through the transport's own reader (whole and byte by
 * byte), Retry-After values, retryable statuses.
 */
#include "lib/base/error.h"
#include "lib/http/http_internal.h"
#include "lib/http/retry.h"
#include "lib/http/url.h"
#include "tests/unit.h"

#include <stdlib.h>
#include <string.h>

/* ---- URLs ---- */

static const struct url_ok_case {
    const char *url;
    bool https;
    const char *host;
    bool ipv6, ip;
    unsigned port;
    bool port_explicit;
    const char *target;
    const char *origin;
    const char *host_header;
} url_ok_cases[] = {
    {"http://example.com", false, "example.com", false, false, 80, false, "/",
     "http://example.com:80", "example.com"},
    {"HTTPS://Example.COM:8443/a/b?c=d#frag", true, "example.com", false, false, 8443, true,
     "/a/b?c=d", "https://example.com:8443", "example.com:8443"},
    {"https://example.com:443/", true, "example.com", false, false, 443, true, "/",
     "https://example.com:443", "example.com"},
    {"http://[::1]:8080/x", false, "::1", true, true, 8080, true, "/x", "http://[::1]:8080",
     "[::1]:8080"},
    {"https://[2001:DB8::1]/", true, "2001:db8::1", true, true, 443, false, "/",
     "https://[2001:db8::1]:443", "[2001:db8::1]"},
    {"http://[::ffff:127.0.0.1]/", false, "::ffff:127.0.0.1", true, true, 80, false, "/",
     "http://[::ffff:127.0.0.1]:80", "[::ffff:127.0.0.1]"},
    {"http://127.0.0.1:1/p", false, "127.0.0.1", false, true, 1, true, "/p", "http://127.0.0.1:1",
     "127.0.0.1:1"},
    {"http://host?q=1&r=%20", false, "host", false, false, 80, false, "/?q=1&r=%20",
     "http://host:80", "host"},
    {"http://host#only-a-fragment", false, "host", false, false, 80, false, "/", "http://host:80",
     "host"},
    {"http://a_b.example.com./p/%7Euser", false, "a_b.example.com.", false, false, 80, false,
     "/p/%7Euser", "http://a_b.example.com.:80", "a_b.example.com."},
    {"https://h:65535/x?y#z", true, "h", false, false, 65535, true, "/x?y", "https://h:65535",
     "h:65535"},
    {"http://1.2.3/", false, "1.2.3", false, false, 80, false, "/", "http://1.2.3:80", "1.2.3"},
};

UNIT_TEST(test_url_ok)
{
    for (size_t i = 0; i < sizeof(url_ok_cases) / sizeof(url_ok_cases[0]); i++) {
        const struct url_ok_case *c = &url_ok_cases[i];
        http_url url;
        char buf[HTTP_ORIGIN_SIZE];
        clm_err err = http_url_parse(c->url, &url);

        CHECK_INT_EQ(err, CLM_OK);
        if (err != CLM_OK) {
            fprintf(stderr, "  url %s: %s\n", c->url, clm_error_message());
            continue;
        }
        CHECK_INT_EQ(url.https, c->https);
        CHECK_STR_EQ(url.host, c->host);
        CHECK_INT_EQ(url.host_is_ipv6, c->ipv6);
        CHECK_INT_EQ(url.host_is_ip, c->ip);
        CHECK_INT_EQ(url.port, c->port);
        CHECK_INT_EQ(url.port_explicit, c->port_explicit);
        CHECK_STR_EQ(url.target, c->target);
        CHECK_STR_EQ(http_url_origin(&url, buf), c->origin);
        CHECK_STR_EQ(http_url_host_header(&url, buf), c->host_header);
        http_url_free(&url);
        CHECK(url.target == NULL);
    }
}

static const struct url_bad_case {
    const char *url;
    const char *message; /* a part of the message: names the part of the URL */
} url_bad_cases[] = {
    {"", "url: empty"},
    {"ftp://example.com/", "url scheme"},
    {"http:/example.com/", "url scheme"},
    {"example.com/path", "url scheme"},
    {"http://", "url host: empty"},
    {"http://:80/", "url host: empty"},
    {"http:///path", "url host: empty"},
    {"http://user:secret@host/", "url user info"},
    {"http://user@host/", "url user info"},
    {"http://h:0/", "url port: out of range"},
    {"http://h:65536/", "url port: out of range"},
    {"http://h:123456/", "url port: out of range"},
    {"http://h:/", "url port: empty"},
    {"http://h:8x/", "url port: not a decimal"},
    {"http://h:80:90/", "url port: not a decimal"},
    {"http://h:-1/", "url port: not a decimal"},
    {"http://[::1/", "url host: an IPv6 literal must be closed"},
    {"http://[::1]x/", "url host: unexpected text after"},
    {"http://[::1]:/", "url port: empty"},
    {"http://[fe80::1%25eth0]/", "url host: IPv6 zone"},
    {"http://[zzz]/", "url host: not a valid IPv6"},
    {"http://[]/", "url host: an IPv6 literal must be closed"},
    {"http://[1.2.3.4]/", "url host: not a valid IPv6"},
    {"http://ho]st/", "url host: brackets"},
    {"http://ex ample.com/", "url: byte 0x20 at offset 9"},
    {"http://h/pa th", "url: byte 0x20"},
    {"http://h/\x01", "url: byte 0x01"},
    {"http://h/\xc3\xa9", "url: byte 0xc3"},
    {"http://h/\x7f", "url: byte 0x7f"},
    {"http://h%41/", "url host: percent-encoding"},
    {"http://h..com/", "url host: empty label"},
    {"http://.h/", "url host: empty label"},
    {"http://h!/", "url host: character 0x21"},
};

UNIT_TEST(test_url_bad)
{
    for (size_t i = 0; i < sizeof(url_bad_cases) / sizeof(url_bad_cases[0]); i++) {
        const struct url_bad_case *c = &url_bad_cases[i];
        http_url url;
        clm_err err = http_url_parse(c->url, &url);

        CHECK_INT_EQ(err, CLM_ERR_INVALID_ARGUMENT);
        CHECK_STR_CONTAINS(clm_error_message(), c->message);
        CHECK(url.target == NULL);
        http_url_free(&url);
    }
}

UNIT_TEST(test_url_limits)
{
    char *text = malloc(HTTP_URL_MAX + 64);
    http_url url;
    size_t n;

    /* A 254-byte host is one too long; 253 is fine. */
    n = (size_t)snprintf(text, 64, "http://");
    memset(text + n, 'a', 254);
    text[n + 254] = '\0';
    CHECK_INT_EQ(http_url_parse(text, &url), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "url host: longer than 253");
    text[n + 253] = '\0';
    CHECK_INT_EQ(http_url_parse(text, &url), CLM_OK);
    CHECK_INT_EQ(strlen(url.host), 253);
    http_url_free(&url);

    /* The whole URL: HTTP_URL_MAX bytes pass, one more does not. */
    n = (size_t)snprintf(text, 64, "http://h/");
    memset(text + n, 'p', HTTP_URL_MAX - n);
    text[HTTP_URL_MAX] = '\0';
    CHECK_INT_EQ(http_url_parse(text, &url), CLM_OK);
    http_url_free(&url);
    text[HTTP_URL_MAX] = 'p';
    text[HTTP_URL_MAX + 1] = '\0';
    CHECK_INT_EQ(http_url_parse(text, &url), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "url: longer than 8192");
    free(text);

    CHECK_INT_EQ(http_url_parse(NULL, &url), CLM_ERR_INVALID_ARGUMENT);
    http_url_free(NULL);
}

/* A URL's secret never reaches an error message. */
UNIT_TEST(test_url_message_has_no_secret)
{
    http_url url;

    CHECK_INT_EQ(http_url_parse("https://hooks.example.com:99999/services/T0/SECRET", &url),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(clm_error_message(), "SECRET") == NULL);
    CHECK_INT_EQ(http_url_parse("https://hooks.example.com/services/SECRET token", &url),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(clm_error_message(), "SECRET") == NULL);
}

/* ---- responses ---- */

/* A wire literal and its length (some hold NUL bytes). */
#define WIRE(s) s, sizeof(s) - 1

struct header_want {
    const char *name;
    const char *value;
};

/* clang-format off */
static const struct response_case {
    const char *name;
    const char *wire;
    size_t wire_len;
    size_t max_body; /* 0: 1024 */
    bool head;
    clm_err err;
    const char *message; /* on error: a part of the message */
    int status;
    const char *body;
    size_t n_headers;
    struct header_want headers[3];
} response_cases[] = {
    {"content-length",
     WIRE("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"),
     0, false, CLM_OK, NULL, 200, "hello", 2, {{"content-length", "5"}, {"x-a", "1"}}},
    {"chunked",
     WIRE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n"
          "0\r\n\r\n"),
     0, false, CLM_OK, NULL, 200, "hello world", 1, {{"Transfer-Encoding", "chunked"}}},
    {"chunked with extension and trailer",
     WIRE("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\n"
          "X-Trailer: t\r\nX-Trailer-2: u\r\n\r\n"),
     0, false, CLM_OK, NULL, 201, "abc", 1, {{"Transfer-Encoding", "chunked"}}},
    {"until the connection closes",
     WIRE("HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nabc"),
     0, false, CLM_OK, NULL, 200, "abc", 1, {{"X-A", "1"}}},
    {"HTTP/1.0",
     WIRE("HTTP/1.0 200 OK\r\n\r\nxyz"),
     0, false, CLM_OK, NULL, 200, "xyz", 0, {{0}}},
    {"204 has no body",
     WIRE("HTTP/1.1 204 No Content\r\n\r\n"),
     0, false, CLM_OK, NULL, 204, "", 0, {{0}}},
    {"304 has no body",
     WIRE("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"),
     0, false, CLM_OK, NULL, 304, "", 1, {{"etag", "\"x\""}}},
    {"304 with a large Content-Length has no body",
     WIRE("HTTP/1.1 304 Not Modified\r\nContent-Length: 5000\r\n\r\n"),
     0, false, CLM_OK, NULL, 304, "", 1, {{"Content-Length", "5000"}}},
    {"204 with a Content-Length has no body",
     WIRE("HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nabc"),
     0, false, CLM_OK, NULL, 204, "", 1, {{"Content-Length", "3"}}},
    {"HEAD has no body",
     WIRE("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"),
     0, true, CLM_OK, NULL, 200, "", 1, {{"Content-Length", "100000"}}},
    {"100 Continue is skipped",
     WIRE("HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\nHTTP/1.1 201 Created\r\n"
          "Content-Length: 2\r\n\r\nok"),
     0, false, CLM_OK, NULL, 201, "ok", 1, {{"Content-Length", "2"}}},
    {"103 Early Hints is skipped",
     WIRE("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\n"
          "Content-Length: 0\r\n\r\n"),
     0, false, CLM_OK, NULL, 200, "", 1, {{"Content-Length", "0"}}},
    {"bytes after the response are ignored",
     WIRE("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokGARBAGE\r\n\r\n"),
     0, false, CLM_OK, NULL, 200, "ok", 1, {{0}}},
    {"duplicate headers are kept in order",
     WIRE("HTTP/1.1 200 OK\r\nLink: <a>;rel=up\r\nLink: <b>;rel=alternate\r\n"
          "Content-Length: 0\r\n\r\n"),
     0, false, CLM_OK, NULL, 200, "", 3, {{"link", "<a>;rel=up"}}},
    {"values are trimmed",
     WIRE("HTTP/1.1 200 OK\r\nX-A:   v w  \t\r\nContent-Length: 0\r\n\r\n"),
     0, false, CLM_OK, NULL, 200, "", 2, {{"x-a", "v w"}}},
    {"empty value",
     WIRE("HTTP/1.1 200 OK\r\nX-Empty:\r\nX-B: b\r\nContent-Length: 0\r\n\r\n"),
     0, false, CLM_OK, NULL, 200, "", 3, {{"X-Empty", ""}, {"X-B", "b"}}},
    {"body with NUL bytes",
     WIRE("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na\0b"),
     0, false, CLM_OK, NULL, 200, "a", 1, {{0}}},
    {"a body exactly at the limit",
     WIRE("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd"),
     4, false, CLM_OK, NULL, 200, "abcd", 1, {{0}}},
    {"500 is a response",
     WIRE("HTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\nno"),
     0, false, CLM_OK, NULL, 500, "no", 1, {{0}}},
    {"garbage",
     WIRE("garbage\r\n\r\n"),
     0, false, CLM_ERR_PARSE, "malformed response", 0, NULL, 0, {{0}}},
    {"HTTP/2 status line",
     WIRE("HTTP/2 200\r\n\r\n"),
     0, false, CLM_ERR_PARSE, "malformed response", 0, NULL, 0, {{0}}},
    {"a status that is not a number",
     WIRE("HTTP/1.1 abc OK\r\n\r\n"),
     0, false, CLM_ERR_PARSE, "HPE_INVALID_STATUS", 0, NULL, 0, {{0}}},
    {"status 600",
     WIRE("HTTP/1.1 600 X\r\nContent-Length: 0\r\n\r\n"),
     0, false, CLM_ERR_PARSE, "status 600 is outside 100-599", 0, NULL, 0, {{0}}},
    {"status 099",
     WIRE("HTTP/1.1 099 X\r\nContent-Length: 0\r\n\r\n"),
     0, false, CLM_ERR_PARSE, "outside 100-599", 0, NULL, 0, {{0}}},
    {"101 was not asked for",
     WIRE("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"),
     0, false, CLM_ERR_PARSE, "101 Switching Protocols", 0, NULL, 0, {{0}}},
    {"Content-Length past the limit",
     WIRE("HTTP/1.1 200 OK\r\nContent-Length: 1025\r\n\r\n"),
     0, false, CLM_ERR_PARSE, "Content-Length 1025 exceeds the limit of 1024 bytes",
     0, NULL, 0, {{0}}},
    {"chunked past the limit",
     WIRE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"),
     5, false, CLM_ERR_PARSE, "the body exceeds the limit of 5 bytes", 0, NULL, 0, {{0}}},
    {"read-until-close past the limit",
     WIRE("HTTP/1.1 200 OK\r\n\r\nabcdef"),
     5, false, CLM_ERR_PARSE, "the body exceeds the limit of 5 bytes", 0, NULL, 0, {{0}}},
    {"two Content-Lengths",
     WIRE("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
     0, false, CLM_ERR_PARSE, "HPE_UNEXPECTED_CONTENT_LENGTH", 0, NULL, 0, {{0}}},
    {"Content-Length with chunked",
     WIRE("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
          "3\r\nabc\r\n0\r\n\r\n"),
     0, false, CLM_ERR_PARSE, "malformed response", 0, NULL, 0, {{0}}},
    {"negative Content-Length",
     WIRE("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
     0, false, CLM_ERR_PARSE, "HPE_INVALID_CONTENT_LENGTH", 0, NULL, 0, {{0}}},
    {"bad chunk size",
     WIRE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
     0, false, CLM_ERR_PARSE, "HPE_INVALID_CHUNK_SIZE", 0, NULL, 0, {{0}}},
    {"header without a colon",
     WIRE("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n"),
     0, false, CLM_ERR_PARSE, "malformed response", 0, NULL, 0, {{0}}},
    {"control character in a value",
     WIRE("HTTP/1.1 200 OK\r\nX-A: a\x01"
          "b\r\nContent-Length: 0\r\n\r\n"),
     0, false, CLM_ERR_PARSE, "malformed response", 0, NULL, 0, {{0}}},
    {"NUL in a value",
     WIRE("HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n"),
     0, false, CLM_ERR_PARSE, "malformed response", 0, NULL, 0, {{0}}},
    {"space before the colon",
     WIRE("HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 0\r\n\r\n"),
     0, false, CLM_ERR_PARSE, "a header name with a character", 0, NULL, 0, {{0}}},
    {"nothing at all",
     WIRE(""),
     0, false, CLM_ERR_UNAVAILABLE, "closed without a response", 0, NULL, 0, {{0}}},
    {"cut in the headers",
     WIRE("HTTP/1.1 200 OK\r\nX-A"),
     0, false, CLM_ERR_UNAVAILABLE, "closed before the response was complete", 0, NULL, 0, {{0}}},
    {"cut in the body",
     WIRE("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
     0, false, CLM_ERR_UNAVAILABLE, "closed before the response was complete (42 bytes received)",
     0, NULL, 0, {{0}}},
    {"cut in a chunk",
     WIRE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"),
     0, false, CLM_ERR_UNAVAILABLE, "closed before the response was complete", 0, NULL, 0, {{0}}},
};
/* clang-format on */

static void check_response(const struct response_case *c, clm_err err, const http_response *resp,
                           const char *how)
{
    if (err != c->err)
        fprintf(stderr, "  case \"%s\" (%s): %s: %s\n", c->name, how, clm_strerror(err),
                clm_error_message());
    CHECK_INT_EQ(err, c->err);
    if (c->err != CLM_OK) {
        CHECK_STR_CONTAINS(clm_error_message(), c->message);
        CHECK(resp->body == NULL && resp->headers == NULL && resp->status == 0);
        return;
    }
    if (err != CLM_OK)
        return;
    CHECK_INT_EQ(resp->status, c->status);
    CHECK(resp->body != NULL);
    CHECK_INT_EQ(resp->body_len, strcmp(c->name, "body with NUL bytes") == 0 ? 3 : strlen(c->body));
    CHECK_STR_EQ((const char *)resp->body, c->body);
    CHECK_INT_EQ(resp->body[resp->body_len], 0);
    CHECK_INT_EQ(resp->n_headers, c->n_headers);
    for (size_t i = 0; i < 3 && c->headers[i].name != NULL; i++)
        CHECK_STR_EQ(http_response_header(resp, c->headers[i].name), c->headers[i].value);
}

UNIT_TEST(test_response_whole)
{
    for (size_t i = 0; i < sizeof(response_cases) / sizeof(response_cases[0]); i++) {
        const struct response_case *c = &response_cases[i];
        http_response resp;
        size_t len = c->wire_len;
        clm_err err =
            http_response_parse(c->wire, len, c->max_body ? c->max_body : 1024, c->head, &resp);

        check_response(c, err, &resp, "whole");
        http_response_free(&resp);
    }
}

/* The transport feeds whatever a read returned: one byte at a time must read the same. */
UNIT_TEST(test_response_byte_by_byte)
{
    for (size_t i = 0; i < sizeof(response_cases) / sizeof(response_cases[0]); i++) {
        const struct response_case *c = &response_cases[i];
        http_response_reader r;
        http_response resp;
        size_t len = c->wire_len;
        clm_err err = CLM_OK;

        memset(&resp, 0, sizeof(resp));
        http_response_reader_init(&r, c->max_body ? c->max_body : 1024, c->head);
        for (size_t j = 0; j < len && err == CLM_OK && !http_response_reader_done(&r); j++)
            err = http_response_reader_feed(&r, c->wire + j, 1);
        if (err == CLM_OK && !http_response_reader_done(&r))
            err = http_response_reader_feed(&r, NULL, 0);
        if (err == CLM_OK)
            err = http_response_reader_take(&r, &resp);
        http_response_reader_free(&r);
        /* Byte by byte, a cut message counts fewer received bytes: compare the kind. */
        if (c->err == CLM_ERR_UNAVAILABLE && err == CLM_ERR_UNAVAILABLE) {
            CHECK(1);
            continue;
        }
        check_response(c, err, &resp, "byte by byte");
        http_response_free(&resp);
    }
}

UNIT_TEST(test_response_header_limits)
{
    clm_buf wire = CLM_BUF_INIT;
    http_response resp;

    /* HTTP_MAX_HEADERS headers pass, one more does not. */
    clm_buf_append_str(&wire, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < HTTP_MAX_HEADERS - 1; i++)
        clm_buf_printf(&wire, "X-%d: %d\r\n", i, i);
    clm_buf_append_str(&wire, "Content-Length: 0\r\n\r\n");
    CHECK_INT_EQ(http_response_parse(wire.data, wire.len, 10, false, &resp), CLM_OK);
    CHECK_INT_EQ(resp.n_headers, HTTP_MAX_HEADERS);
    CHECK_STR_EQ(http_response_header(&resp, "x-126"), "126");
    http_response_free(&resp);

    clm_buf_reset(&wire);
    clm_buf_append_str(&wire, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < HTTP_MAX_HEADERS; i++)
        clm_buf_printf(&wire, "X-%d: %d\r\n", i, i);
    clm_buf_append_str(&wire, "Content-Length: 0\r\n\r\n");
    CHECK_INT_EQ(http_response_parse(wire.data, wire.len, 10, false, &resp), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "more than 128 headers");

    /* One header value of 70,000 bytes is past HTTP_MAX_HEADER_BYTES. */
    clm_buf_reset(&wire);
    clm_buf_append_str(&wire, "HTTP/1.1 200 OK\r\nX-Big: ");
    for (int i = 0; i < 70000; i++)
        clm_buf_append_byte(&wire, 'v');
    clm_buf_append_str(&wire, "\r\nContent-Length: 0\r\n\r\n");
    CHECK_INT_EQ(http_response_parse(wire.data, wire.len, 10, false, &resp), CLM_ERR_PARSE);
    CHECK_STR_CONTAINS(clm_error_message(), "headers exceed 65536 bytes");
    clm_buf_free(&wire);

    CHECK(http_response_header(&resp, "x") == NULL);
    http_response_free(NULL);
}

/* ---- Retry-After, statuses ---- */

static const struct retry_after_case {
    const char *value;
    int64_t now_s;
    bool ok;
    int64_t delay_ms;
} retry_after_cases[] = {
    {"120", 0, true, 120000},
    {" 5 ", 0, true, 5000},
    {"0", 0, true, 0},
    {"999999999", 0, true, INT64_C(999999999000)},
    {"1234567890", 0, false, 0},
    {"abc", 0, false, 0},
    {"-1", 0, false, 0},
    {"1.5", 0, false, 0},
    {"5s", 0, false, 0},
    {"", 0, false, 0},
    {"Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 - 30, true, 30000},
    {"Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 + 30, true, 0},
    {"Thu, 29 Feb 2024 00:00:01 GMT", 1709164800, true, 1000},
    {"Wed, 21 Oct 2015 07:28:00 UTC", 0, false, 0},
    {"Wed, 32 Oct 2015 07:28:00 GMT", 0, false, 0},
    {"Wed, 21 Foo 2015 07:28:00 GMT", 0, false, 0},
    {"Xyz, 21 Oct 2015 07:28:00 GMT", 0, false, 0},
    {"Wed, 21 Oct 2015 24:28:00 GMT", 0, false, 0},
    {"Wednesday, 21-Oct-15 07:28:00 GMT", 0, false, 0},
};

UNIT_TEST(test_retry_after)
{
    for (size_t i = 0; i < sizeof(retry_after_cases) / sizeof(retry_after_cases[0]); i++) {
        const struct retry_after_case *c = &retry_after_cases[i];
        int64_t delay = -7;
        bool ok = http_retry_after_parse(c->value, c->now_s * CLM_NS_PER_SEC, &delay);

        if (ok != c->ok)
            fprintf(stderr, "  Retry-After \"%s\"\n", c->value);
        CHECK_INT_EQ(ok, c->ok);
        if (c->ok)
            CHECK_INT_EQ(delay, c->delay_ms);
    }
    CHECK(!http_retry_after_parse(NULL, 0, NULL));
}

UNIT_TEST(test_status_retryable)
{
    CHECK(http_status_retryable(429));
    CHECK(http_status_retryable(500));
    CHECK(http_status_retryable(503));
    CHECK(http_status_retryable(599));
    CHECK(!http_status_retryable(200));
    CHECK(!http_status_retryable(400));
    CHECK(!http_status_retryable(404));
    CHECK(!http_status_retryable(428));
    CHECK(!http_status_retryable(600));
}

int main(void)
{
    UNIT_RUN(test_url_ok);
    UNIT_RUN(test_url_bad);
    UNIT_RUN(test_url_limits);
    UNIT_RUN(test_url_message_has_no_secret);
    UNIT_RUN(test_response_whole);
    UNIT_RUN(test_response_byte_by_byte);
    UNIT_RUN(test_response_header_limits);
    UNIT_RUN(test_retry_after);
    UNIT_RUN(test_status_retryable);
    return unit_report();
}
