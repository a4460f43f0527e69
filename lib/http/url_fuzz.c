/*
 * lib/http/url_fuzz.c: arbitrary text as a URL (url.h).
 *
 * A URL that parses must keep the parser's promises (a port, a host, a target that
 * starts with '/' and holds no space, control byte or fragment), and written back out
 * from its parts ("scheme://[host]:port/target") must parse to the same parts. One that
 * does not parse must say which part was wrong.
 */
#include "lib/base/error.h"
#include "lib/http/url.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *again = malloc(size + 600);
    char origin[HTTP_ORIGIN_SIZE], host[HTTP_ORIGIN_SIZE];
    http_url url, url2;
    clm_err err;

    if (text == NULL || again == NULL)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    err = http_url_parse(text, &url);
    if (err != CLM_OK) {
        if (strncmp(clm_error_message(), "url", 3) != 0 || url.target != NULL)
            abort();
        goto done;
    }
    if (url.port == 0 || url.host[0] == '\0' || strlen(url.host) > HTTP_HOST_MAX ||
        url.target == NULL || url.target[0] != '/' || strchr(url.target, '#') != NULL)
        abort();
    for (const char *p = url.target; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            abort();
    (void)http_url_origin(&url, origin);
    (void)http_url_host_header(&url, host);

    snprintf(again, size + 600, "%s://%s%s%s:%u%s", url.https ? "https" : "http",
             url.host_is_ipv6 ? "[" : "", url.host, url.host_is_ipv6 ? "]" : "", (unsigned)url.port,
             url.target);
    if (strlen(again) <= HTTP_URL_MAX) {
        if (http_url_parse(again, &url2) != CLM_OK)
            abort();
        if (url2.https != url.https || strcmp(url2.host, url.host) != 0 || url2.port != url.port ||
            url2.host_is_ipv6 != url.host_is_ipv6 || url2.host_is_ip != url.host_is_ip ||
            strcmp(url2.target, url.target) != 0)
            abort();
        http_url_free(&url2);
    }
    http_url_free(&url);
done:
    free(text);
    free(again);
    return 0;
}
