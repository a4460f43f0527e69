/* adapters/tls/starttls_smtp.c: SMTP replies (RFC 5321 4.2) and STARTTLS (RFC 3207). */
#include "adapters/tls/starttls_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

tls_reply_state tls_smtp_reply_line(tls_smtp_reply *r, const char *line, size_t len)
{
    int code;

    if (len + 2 > TLS_LINE_MAX) {
        snprintf(r->reason, sizeof r->reason, "a reply line longer than %d bytes", TLS_LINE_MAX);
        return TLS_REPLY_BAD;
    }
    if (!starttls_line_clean(line, len)) {
        snprintf(r->reason, sizeof r->reason, "a NUL byte in a reply line");
        return TLS_REPLY_BAD;
    }
    /* Reply-code = %x32-35 %x30-35 %x30-39, then SP or "-" or the line end. */
    if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' ||
        line[2] < '0' || line[2] > '9' || (len > 3 && line[3] != ' ' && line[3] != '-')) {
        char quote[TLS_QUOTE_MAX + 1];
        starttls_quote(quote, line, len);
        snprintf(r->reason, sizeof r->reason, "not an SMTP reply: \"%.60s\"", quote);
        return TLS_REPLY_BAD;
    }
    code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (r->lines > 0 && code != r->code) {
        snprintf(r->reason, sizeof r->reason, "a multi-line reply changes its code from %d to %d",
                 r->code, code);
        return TLS_REPLY_BAD;
    }
    if (++r->lines > TLS_REPLY_LINES_MAX) {
        snprintf(r->reason, sizeof r->reason, "a reply of more than %d lines", TLS_REPLY_LINES_MAX);
        return TLS_REPLY_BAD;
    }
    if (r->lines == 1) {
        r->code = code;
        starttls_quote(r->text, len > 4 ? line + 4 : "", len > 4 ? len - 4 : 0);
    } else if (len >= 12 && strncasecmp(line + 4, "STARTTLS", 8) == 0 &&
               (len == 12 || line[12] == ' ')) {
        r->starttls = true; /* an EHLO keyword line (RFC 5321 4.1.1.1) */
    }
    return len == 3 || line[3] == ' ' ? TLS_REPLY_DONE : TLS_REPLY_MORE;
}

enum { SMTP_GREETING = 0, SMTP_EHLO, SMTP_STARTTLS };

static tls_starttls_step smtp_line(tls_starttls *s, const char *line, size_t len)
{
    static const char *const phase_names[] = {"greeting", "EHLO", "STARTTLS"};
    tls_smtp_reply *r = &s->reply.smtp;
    const char *phase = phase_names[s->phase];
    char command[TLS_STARTTLS_OUTPUT_MAX];

    switch (tls_smtp_reply_line(r, line, len)) {
    case TLS_REPLY_MORE: return s->step;
    case TLS_REPLY_BAD: return starttls_fail(s, phase, "%s", r->reason);
    case TLS_REPLY_DONE: break;
    }
    switch (s->phase) {
    case SMTP_GREETING:
        if (r->code != 220)
            return starttls_fail(s, phase, "the server refused the session: %d %s", r->code,
                                 r->text);
        s->phase = SMTP_EHLO;
        memset(r, 0, sizeof *r);
        snprintf(command, sizeof command, "EHLO %s", s->ehlo);
        return starttls_send(s, command);
    case SMTP_EHLO:
        if (r->code != 250)
            return starttls_fail(s, phase, "refused: %d %s", r->code, r->text);
        if (!r->starttls)
            return starttls_fail(s, phase, "the server does not offer STARTTLS");
        s->phase = SMTP_STARTTLS;
        memset(r, 0, sizeof *r);
        return starttls_send(s, "STARTTLS");
    default:
        if (r->code != 220)
            return starttls_fail(s, phase, "refused: %d %s", r->code, r->text);
        return starttls_ready(s);
    }
}

const starttls_protocol starttls_smtp = {ADAPTER_PROBE_SMTP, "SMTP", smtp_line};
