/* adapters/tls/starttls.c: the STARTTLS exchange: buffering, line splitting, limits. The
 * protocols' replies are parsed in starttls_smtp.c, starttls_imap.c, starttls_pop3.c. */
#include "adapters/tls/starttls_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const starttls_protocol *protocol_of(adapter_probe_protocol protocol)
{
    static const starttls_protocol *const table[] = {&starttls_smtp, &starttls_imap,
                                                     &starttls_pop3};

    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i]->protocol == protocol)
            return table[i];
    return NULL;
}

void starttls_quote(char *out, const char *line, size_t len)
{
    size_t n = len < TLS_QUOTE_MAX ? len : TLS_QUOTE_MAX;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)line[i];
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[n] = '\0';
}

bool starttls_line_clean(const char *line, size_t len)
{
    return memchr(line, '\0', len) == NULL;
}

tls_starttls_step starttls_fail(tls_starttls *s, const char *phase, const char *fmt, ...)
{
    const starttls_protocol *p = protocol_of(s->protocol);
    char message[ADAPTER_PROBE_REASON_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    snprintf(s->reason, sizeof s->reason, "%s %s: %s", p ? p->name : "STARTTLS", phase, message);
    s->step = TLS_STARTTLS_FAILED;
    return s->step;
}

tls_starttls_step starttls_send(tls_starttls *s, const char *command)
{
    int n = snprintf(s->out, sizeof s->out, "%s\r\n", command);

    if (n < 0 || (size_t)n >= sizeof s->out)
        return starttls_fail(s, "command", "too long to send");
    s->out_len = (size_t)n;
    s->out_sent = 0;
    s->step = TLS_STARTTLS_WRITE;
    return s->step;
}

tls_starttls_step starttls_ready(tls_starttls *s)
{
    if (s->in_len > 0)
        return starttls_fail(s, "STARTTLS",
                             "the server sent %zu bytes after agreeing to start "
                             "TLS and before the handshake (an injection?)",
                             s->in_len);
    s->step = TLS_STARTTLS_READY;
    return s->step;
}

void tls_starttls_init(tls_starttls *s, adapter_probe_protocol protocol, const char *ehlo_name)
{
    memset(s, 0, sizeof *s);
    s->protocol = protocol;
    snprintf(s->ehlo, sizeof s->ehlo, "%s", ehlo_name ? ehlo_name : "localhost");
    s->step = TLS_STARTTLS_READ;
    if (protocol_of(protocol) == NULL)
        starttls_fail(s, "setup", "protocol %s has no STARTTLS exchange",
                      adapter_probe_protocol_name(protocol));
}

/* Drop the first n bytes of the buffer. */
static void consume(tls_starttls *s, size_t n)
{
    memmove(s->in, s->in + n, s->in_len - n);
    s->in_len -= n;
}

/* Parse the complete lines in the buffer while the step is READ. */
static tls_starttls_step parse_buffered(tls_starttls *s)
{
    const starttls_protocol *p = protocol_of(s->protocol);
    char line[TLS_LINE_MAX];

    while (s->step == TLS_STARTTLS_READ && s->in_len > 0) {
        char *lf;
        size_t len;
        if (s->skip > 0) { /* an IMAP literal: raw bytes, not lines */
            size_t take = s->in_len < s->skip ? s->in_len : s->skip;
            consume(s, take);
            s->skip -= take;
            continue;
        }
        lf = memchr(s->in, '\n', s->in_len);
        if (lf == NULL)
            break;
        len = (size_t)(lf - s->in);
        memcpy(line, s->in, len);
        consume(s, len + 1);
        if (len > 0 && line[len - 1] == '\r')
            len--;
        p->line(s, line, len); /* sees only what follows the line in s->in */
    }
    if (s->step == TLS_STARTTLS_READ && s->in_len == sizeof s->in)
        return starttls_fail(s, "reply", "a line longer than %d bytes", TLS_LINE_MAX);
    return s->step;
}

tls_starttls_step tls_starttls_input(tls_starttls *s, const void *data, size_t len)
{
    const char *bytes = data;

    if (s->step == TLS_STARTTLS_FAILED)
        return s->step;
    if (s->step == TLS_STARTTLS_READY && len > 0)
        return starttls_fail(s, "STARTTLS",
                             "the server sent %zu bytes after agreeing to start "
                             "TLS and before the handshake (an injection?)",
                             len);
    s->in_total += len;
    if (s->in_total > TLS_STARTTLS_INPUT_MAX)
        return starttls_fail(s, "reply", "the server sent more than %d bytes",
                             TLS_STARTTLS_INPUT_MAX);
    while (len > 0) {
        size_t room = sizeof s->in - s->in_len, take = len < room ? len : room;
        if (take == 0) /* full while writing: the server talks without waiting */
            return starttls_fail(s, "reply",
                                 "the server sent more than %d bytes without "
                                 "waiting for the client",
                                 TLS_LINE_MAX);
        memcpy(s->in + s->in_len, bytes, take);
        s->in_len += take;
        bytes += take;
        len -= take;
        if (s->step == TLS_STARTTLS_READ)
            parse_buffered(s);
        if (s->step == TLS_STARTTLS_FAILED)
            return s->step;
        if (s->step == TLS_STARTTLS_READY && (len > 0 || s->in_len > 0))
            return starttls_fail(s, "STARTTLS",
                                 "the server sent %zu bytes after agreeing to "
                                 "start TLS and before the handshake (an injection?)",
                                 s->in_len + len);
    }
    return s->step;
}

tls_starttls_step tls_starttls_closed(tls_starttls *s)
{
    if (s->step == TLS_STARTTLS_FAILED)
        return s->step;
    return starttls_fail(s, s->phase == 0 ? "greeting" : "reply",
                         "the server closed the connection");
}

const char *tls_starttls_output(const tls_starttls *s, size_t *len)
{
    *len = s->step == TLS_STARTTLS_WRITE ? s->out_len - s->out_sent : 0;
    return s->out + s->out_sent;
}

tls_starttls_step tls_starttls_sent(tls_starttls *s, size_t n)
{
    if (s->step != TLS_STARTTLS_WRITE)
        return s->step;
    s->out_sent += n < s->out_len - s->out_sent ? n : s->out_len - s->out_sent;
    if (s->out_sent < s->out_len)
        return s->step;
    s->out_len = s->out_sent = 0;
    s->step = TLS_STARTTLS_READ;
    return parse_buffered(s);
}
