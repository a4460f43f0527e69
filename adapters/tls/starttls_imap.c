/* adapters/tls/starttls_imap.c: IMAP greeting and tagged responses (RFC 3501 7.1, 9) and
 * STARTTLS (RFC 2595 3.1, RFC 3501 6.2.1). */
#include "adapters/tls/starttls_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/** The tag of the one command sent. */
#define IMAP_TAG "a001"

static tls_imap_status status_word(const char *p, size_t len)
{
    static const struct {
        const char *word;
        tls_imap_status status;
    } words[] = {{"OK", TLS_IMAP_OK},
                 {"NO", TLS_IMAP_NO},
                 {"BAD", TLS_IMAP_BAD},
                 {"BYE", TLS_IMAP_BYE},
                 {"PREAUTH", TLS_IMAP_PREAUTH}};
    size_t n = 0;

    while (n < len && p[n] != ' ' && p[n] != '[')
        n++;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i].word) == n && strncasecmp(p, words[i].word, n) == 0)
            return words[i].status;
    return TLS_IMAP_NONE;
}

/* A literal announced at the end of a line: "{123}" or "{123+}" (RFC 7888). -1: none;
 * -2: malformed or too large. */
static long literal_size(const char *line, size_t len)
{
    size_t open, end;
    unsigned long v = 0;

    if (len < 3 || line[len - 1] != '}')
        return -1;
    end = len - 1;
    if (line[end - 1] == '+')
        end--;
    open = end;
    while (open > 0 && isdigit((unsigned char)line[open - 1]))
        open--;
    if (open == 0 || line[open - 1] != '{')
        return -1;
    if (open == end || end - open > 6)
        return -2;
    for (size_t i = open; i < end; i++)
        v = v * 10 + (unsigned long)(line[i] - '0');
    return v > TLS_IMAP_LITERAL_MAX ? -2 : (long)v;
}

static tls_reply_state bad(tls_imap_reply *r, const char *what, const char *line, size_t len)
{
    char quote[TLS_QUOTE_MAX + 1];

    starttls_quote(quote, line, len);
    snprintf(r->reason, sizeof r->reason, "%s: \"%.60s\"", what, quote);
    return TLS_REPLY_BAD;
}

tls_reply_state tls_imap_reply_line(tls_imap_reply *r, const char *line, size_t len)
{
    size_t tag_len;

    r->literal = 0;
    if (len + 2 > TLS_LINE_MAX) {
        snprintf(r->reason, sizeof r->reason, "a response line longer than %d bytes", TLS_LINE_MAX);
        return TLS_REPLY_BAD;
    }
    if (!starttls_line_clean(line, len))
        return bad(r, "a NUL byte in a response line", line, len);
    if (++r->lines > TLS_REPLY_LINES_MAX) {
        snprintf(r->reason, sizeof r->reason, "more than %d response lines", TLS_REPLY_LINES_MAX);
        return TLS_REPLY_BAD;
    }
    if (r->tail) { /* the rest of an untagged response after its literal */
        long literal = literal_size(line, len);
        if (literal == -2)
            return bad(r, "a malformed or too large literal", line, len);
        r->literal = literal > 0 ? (size_t)literal : 0;
        r->tail = literal >= 0;
        return TLS_REPLY_MORE;
    }
    if (len >= 2 && line[0] == '*' && line[1] == ' ') {
        tls_imap_status status = status_word(line + 2, len - 2);
        long literal;
        if (r->tag == NULL) {
            if (status != TLS_IMAP_OK && status != TLS_IMAP_PREAUTH && status != TLS_IMAP_BYE)
                return bad(r, "the greeting is not * OK, * PREAUTH or * BYE", line, len);
            r->status = status;
            starttls_quote(r->text, line + 2, len - 2);
            return TLS_REPLY_DONE;
        }
        if (status == TLS_IMAP_BYE) {
            r->status = status;
            starttls_quote(r->text, line + 2, len - 2);
            return TLS_REPLY_DONE;
        }
        if ((literal = literal_size(line, len)) == -2)
            return bad(r, "a malformed or too large literal", line, len);
        r->literal = literal > 0 ? (size_t)literal : 0;
        r->tail = literal >= 0;
        return TLS_REPLY_MORE; /* untagged data before the tagged completion */
    }
    if (len >= 1 && line[0] == '+')
        return bad(r, "an unexpected continuation request", line, len);
    if (r->tag == NULL)
        return bad(r, "the greeting is not untagged", line, len);
    tag_len = strlen(r->tag);
    if (len > tag_len && memcmp(line, r->tag, tag_len) == 0 && line[tag_len] == ' ') {
        r->status = status_word(line + tag_len + 1, len - tag_len - 1);
        if (r->status != TLS_IMAP_OK && r->status != TLS_IMAP_NO && r->status != TLS_IMAP_BAD)
            return bad(r, "a tagged line without OK, NO or BAD", line, len);
        starttls_quote(r->text, line + tag_len + 1, len - tag_len - 1);
        return TLS_REPLY_DONE;
    }
    return bad(r, "a line with another tag", line, len);
}

enum { IMAP_GREETING = 0, IMAP_STARTTLS };

static tls_starttls_step imap_line(tls_starttls *s, const char *line, size_t len)
{
    tls_imap_reply *r = &s->reply.imap;
    const char *phase = s->phase == IMAP_GREETING ? "greeting" : "STARTTLS";

    switch (tls_imap_reply_line(r, line, len)) {
    case TLS_REPLY_MORE: s->skip = r->literal; return s->step;
    case TLS_REPLY_BAD: return starttls_fail(s, phase, "%s", r->reason);
    case TLS_REPLY_DONE: break;
    }
    if (r->status == TLS_IMAP_BYE)
        return starttls_fail(s, phase, "the server said BYE: %s", r->text);
    if (s->phase == IMAP_GREETING) {
        if (r->status == TLS_IMAP_PREAUTH)
            return starttls_fail(s, phase,
                                 "the server greeted with PREAUTH; STARTTLS is only "
                                 "allowed before authentication (RFC 3501 6.2.1)");
        s->phase = IMAP_STARTTLS;
        memset(r, 0, sizeof *r);
        r->tag = IMAP_TAG;
        return starttls_send(s, IMAP_TAG " STARTTLS");
    }
    if (r->status != TLS_IMAP_OK)
        return starttls_fail(s, phase, "refused: %s", r->text);
    return starttls_ready(s);
}

const starttls_protocol starttls_imap = {ADAPTER_PROBE_IMAP, "IMAP", imap_line};
