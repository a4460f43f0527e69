/* adapters/tls/starttls_pop3.c: POP3 status replies (RFC 1939 3) and STLS (RFC 2595 4). */
#include "adapters/tls/starttls_internal.h"

#include <stdio.h>
#include <string.h>

tls_reply_state tls_pop3_reply_line(tls_pop3_reply *r, const char *line, size_t len)
{
    char quote[TLS_QUOTE_MAX + 1];
    size_t skip;

    if (len + 2 > TLS_LINE_MAX) {
        snprintf(r->reason, sizeof r->reason, "a reply line longer than %d bytes", TLS_LINE_MAX);
        return TLS_REPLY_BAD;
    }
    if (!starttls_line_clean(line, len)) {
        snprintf(r->reason, sizeof r->reason, "a NUL byte in a reply line");
        return TLS_REPLY_BAD;
    }
    if (len >= 3 && memcmp(line, "+OK", 3) == 0 && (len == 3 || line[3] == ' ')) {
        r->ok = true;
        skip = 3;
    } else if (len >= 4 && memcmp(line, "-ERR", 4) == 0 && (len == 4 || line[4] == ' ')) {
        r->ok = false;
        skip = 4;
    } else {
        starttls_quote(quote, line, len);
        snprintf(r->reason, sizeof r->reason, "not a POP3 status line (+OK or -ERR): \"%.60s\"",
                 quote);
        return TLS_REPLY_BAD;
    }
    if (skip < len)
        skip++;
    starttls_quote(r->text, line + skip, len - skip);
    return TLS_REPLY_DONE;
}

enum { POP3_GREETING = 0, POP3_STLS };

static tls_starttls_step pop3_line(tls_starttls *s, const char *line, size_t len)
{
    tls_pop3_reply *r = &s->reply.pop3;
    const char *phase = s->phase == POP3_GREETING ? "greeting" : "STLS";

    if (tls_pop3_reply_line(r, line, len) == TLS_REPLY_BAD)
        return starttls_fail(s, phase, "%s", r->reason);
    if (!r->ok)
        return starttls_fail(s, phase, "refused: -ERR %s", r->text);
    if (s->phase == POP3_GREETING) {
        s->phase = POP3_STLS;
        memset(r, 0, sizeof *r);
        return starttls_send(s, "STLS");
    }
    return starttls_ready(s);
}

const starttls_protocol starttls_pop3 = {ADAPTER_PROBE_POP3, "POP3", pop3_line};
