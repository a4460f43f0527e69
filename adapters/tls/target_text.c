/* adapters/tls/target_text.c: the one-line text form of a target (targets.h). */
#include "adapters/tls/targets.h"

#include <stdio.h>
#include <string.h>

static const char *default_ports(adapter_probe_protocol protocol)
{
    switch (protocol) {
    case ADAPTER_PROBE_SMTP: return "25";
    case ADAPTER_PROBE_IMAP: return "143";
    case ADAPTER_PROBE_POP3: return "110";
    default: return "443";
    }
}

static clm_err copy_part(char *out, size_t size, const char *from, size_t len, const char *what,
                         const char *spec)
{
    if (len == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "target \"%.80s\": the %s is empty", spec, what);
    if (len >= size)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "target \"%.80s\": the %s is longer than %zu "
                        "characters",
                        spec, what, size - 1);
    memcpy(out, from, len);
    out[len] = '\0';
    return CLM_OK;
}

clm_err tls_target_parse(const char *spec, tls_target_text *out)
{
    const char *p, *end, *query, *scheme, *colon;
    clm_err err;

    memset(out, 0, sizeof *out);
    if (spec == NULL || spec[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "target: empty");
    if (strlen(spec) > TLS_NAME_MAX + TLS_PORTS_TEXT_MAX + TLS_NAME_MAX + 32)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "target: too long");
    for (p = spec; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "target \"%.80s\": spaces and control or "
                            "non-ASCII characters are not allowed",
                            spec);
    p = spec;
    out->target.protocol = ADAPTER_PROBE_AUTO;
    if ((scheme = strstr(p, "://")) != NULL) {
        char name[16];
        if ((err = copy_part(name, sizeof name, p, (size_t)(scheme - p), "protocol", spec)) !=
                CLM_OK ||
            (err = adapter_probe_protocol_parse(name, &out->target.protocol)) != CLM_OK)
            return clm_error_context(err, "target \"%.80s\"", spec);
        p = scheme + 3;
    }
    end = p + strlen(p);
    if ((query = strchr(p, '?')) != NULL) {
        if (strncmp(query, "?sni=", 5) != 0)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "target \"%.80s\": after '?' only "
                            "\"sni=NAME\" is understood",
                            spec);
        if ((err = copy_part(out->sni, sizeof out->sni, query + 5, strlen(query + 5), "server name",
                             spec)) != CLM_OK)
            return err;
        out->target.sni = out->sni;
        end = query;
    }
    if (*p == '[') { /* [IPv6] or [IPv6/prefix], then :PORTS or nothing */
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (close == NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "target \"%.80s\": '[' without ']'", spec);
        if ((err = copy_part(out->host, sizeof out->host, p + 1, (size_t)(close - p - 1), "host",
                             spec)) != CLM_OK)
            return err;
        colon = close + 1 < end ? close + 1 : NULL;
        if (colon != NULL && *colon != ':')
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "target \"%.80s\": expected ':' after "
                            "']'",
                            spec);
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        if (colon != NULL && memchr(colon + 1, ':', (size_t)(end - colon - 1)) != NULL)
            colon = NULL; /* a bare IPv6 address: no ports */
        if ((err = copy_part(out->host, sizeof out->host, p, (size_t)((colon ? colon : end) - p),
                             "host", spec)) != CLM_OK)
            return err;
    }
    if (colon != NULL) {
        if ((err = copy_part(out->ports, sizeof out->ports, colon + 1, (size_t)(end - colon - 1),
                             "port list", spec)) != CLM_OK)
            return err;
    } else {
        snprintf(out->ports, sizeof out->ports, "%s", default_ports(out->target.protocol));
    }
    out->target.host = out->host;
    out->target.ports = out->ports;
    return CLM_OK;
}
