/* lib/pki/name.c: DNS name and IP literal checks for subjectAltName. */
#include "lib/pki/name.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

static bool is_ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

static const char *describe_char(unsigned char c)
{
    switch (c) {
    case ' ': return "a space";
    case '_': return "an underscore";
    case '*': return "a '*' that is not the whole leftmost label";
    case '/': return "a '/'";
    case ':': return "a ':' (an IPv6 literal must be valid as a whole)";
    default:
        return c < 0x20 || c == 0x7f ? "a control character"
               : c >= 0x80           ? "a non-ASCII byte (use the xn-- A-label form)"
                                     : "a character outside letters, digits, '-' and '.'";
    }
}

clm_err pki_name_check_dns(const char *name, bool allow_wildcard)
{
    const char *p;
    size_t total;
    size_t label_len = 0;
    bool label_numeric = true;

    if (name == NULL || name[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "empty DNS name");
    total = strlen(name);
    p = name;
    if (allow_wildcard && strncmp(name, "*.", 2) == 0)
        p += 2;
    for (const char *q = p; *q != '\0'; q++) {
        if (!is_ldh((unsigned char)*q) && *q != '.') {
            /* quote at most 80 bytes of the name, control characters shown as '?' */
            char shown[81];
            size_t n = 0;
            for (const char *r = name; *r != '\0' && n < sizeof shown - 1; r++)
                shown[n++] = isprint((unsigned char)*r) ? *r : '?';
            shown[n] = '\0';
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "\"%s\" is not a DNS name: it contains %s",
                            shown, describe_char((unsigned char)*q));
        }
    }
    if (total > PKI_DNS_NAME_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "DNS name of %zu characters is longer than %d",
                        total, PKI_DNS_NAME_MAX);
    for (const char *q = p;; q++) {
        if (*q == '.' || *q == '\0') {
            if (label_len == 0)
                return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                                "\"%s\" is not a DNS name: it has an empty label%s", name,
                                *q == '\0' ? " (drop the trailing dot)" : "");
            if (label_len > 63)
                return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                                "\"%s\" is not a DNS name: a label is longer than 63", name);
            if (q[-1] == '-' || q[-(long)label_len] == '-')
                return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                                "\"%s\" is not a DNS name: a label starts or ends with '-'", name);
            if (*q == '\0')
                break;
            label_len = 0;
            label_numeric = true;
            continue;
        }
        label_len++;
        if (!isdigit((unsigned char)*q))
            label_numeric = false;
    }
    if (label_numeric)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "\"%s\" is not a DNS name: its last label is all digits (write an IP "
                        "address as a full IPv4 or IPv6 literal)",
                        name);
    return CLM_OK;
}

bool pki_name_parse_ip(const char *text, unsigned char *out, size_t *len)
{
    unsigned char addr[PKI_IP_MAX_BYTES];
    size_t n;

    if (text == NULL)
        return false;
    if (inet_pton(AF_INET, text, addr) == 1)
        n = 4;
    else if (inet_pton(AF_INET6, text, addr) == 1)
        n = 16;
    else
        return false;
    if (out != NULL)
        memcpy(out, addr, n);
    if (len != NULL)
        *len = n;
    return true;
}

clm_err pki_name_format_ip(const unsigned char *addr, size_t len, char *out, size_t out_size)
{
    int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;

    if (family == 0)
        return clm_fail(CLM_ERR_PARSE, "IP address of %zu bytes (want 4 or 16)", len);
    if (out_size > 0x7fffffff || inet_ntop(family, addr, out, (socklen_t)out_size) == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "buffer of %zu bytes too small for an IP address",
                        out_size);
    return CLM_OK;
}
