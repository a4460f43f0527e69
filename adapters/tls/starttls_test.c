/* adapters/tls/starttls_test.c: the STARTTLS exchanges against the RFC transcripts
 * (RFC 3207 4.1, RFC 2595 3.1 and 4, RFC 3501 6.2.1) and the ways servers break them;
 * the reply parsers table-driven. */
#include "adapters/tls/starttls.h"
#include "tests/unit.h"

#include <stdlib.h>

/* Run an exchange: the server's chunks in order; after each chunk, whatever the client
 * has to send is appended to sent (and marked sent). split: feed byte by byte. */
static tls_starttls_step run(tls_starttls *s, adapter_probe_protocol protocol,
                             const char *const *chunks, size_t n, bool split, char *sent,
                             size_t sent_size)
{
    size_t used = 0;

    tls_starttls_init(s, protocol, "[127.0.0.1]");
    sent[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(chunks[i]);
        for (size_t off = 0; off < len;) {
            size_t take = split ? 1 : len - off;
            tls_starttls_input(s, chunks[i] + off, take);
            off += take;
            while (s->step == TLS_STARTTLS_WRITE) {
                size_t out_len;
                const char *out = tls_starttls_output(s, &out_len);
                size_t half = out_len > 1 ? out_len / 2 : out_len; /* partial sends */
                used += (size_t)snprintf(sent + used, sent_size - used, "%.*s", (int)half, out);
                tls_starttls_sent(s, half);
            }
        }
    }
    return s->step;
}

#define RUN(proto, split, ...)                                                                     \
    run(&s, proto, (const char *const[]){__VA_ARGS__},                                             \
        sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *), split, sent,            \
        sizeof sent)

UNIT_TEST(smtp_rfc3207_transcript)
{
    static tls_starttls s;
    char sent[512];

    for (int split = 0; split < 2; split++) {
        CHECK_INT_EQ(RUN(ADAPTER_PROBE_SMTP, split, "220 mail.imc.org SMTP service ready\r\n",
                         "250-mail.imc.org offers a warm hug of welcome\r\n250-8BITMIME\r\n"
                         "250-STARTTLS\r\n250 DSN\r\n",
                         "220 Go ahead\r\n"),
                     TLS_STARTTLS_READY);
        CHECK_STR_EQ(sent, "EHLO [127.0.0.1]\r\nSTARTTLS\r\n");
    }
    /* bare LF, a multi-line greeting, STARTTLS as the last keyword, lower case */
    CHECK_INT_EQ(RUN(ADAPTER_PROBE_SMTP, false, "220-first\n220 second\n", "250-x\n250 starttls\n",
                     "220 ok\n"),
                 TLS_STARTTLS_READY);
}

typedef struct failing_case {
    adapter_probe_protocol protocol;
    const char *chunks[4];
    const char *reason_part;
} failing_case;

static const failing_case failing[] = {
    {ADAPTER_PROBE_SMTP,
     {"554 no service here\r\n"},
     "SMTP greeting: the server refused the session: 554 no service"},
    {ADAPTER_PROBE_SMTP,
     {"220 hi\r\n", "250-x\r\n250 SIZE 10\r\n"},
     "SMTP EHLO: the server does not offer STARTTLS"},
    {ADAPTER_PROBE_SMTP, {"220 hi\r\n", "250-x\r\n250 STARTTLSX\r\n"}, "does not offer STARTTLS"},
    {ADAPTER_PROBE_SMTP, {"220 hi\r\n", "502 no EHLO\r\n"}, "SMTP EHLO: refused: 502 no EHLO"},
    {ADAPTER_PROBE_SMTP,
     {"220 hi\r\n", "250-x\r\n250 STARTTLS\r\n", "454 TLS not available\r\n"},
     "SMTP STARTTLS: refused: 454 TLS not available"},
    {ADAPTER_PROBE_SMTP,
     {"220 hi\r\n", "250-x\r\n250 STARTTLS\r\n", "220 go\r\n250 injected\r\n"},
     "injection"},
    {ADAPTER_PROBE_SMTP, {"220-a\r\n250 b\r\n"}, "changes its code from 220 to 250"},
    {ADAPTER_PROBE_SMTP,
     {"HTTP/1.1 400 Bad Request\r\n"},
     "not an SMTP reply: \"HTTP/1.1 400 Bad Request\""},
    {ADAPTER_PROBE_SMTP, {"220x\r\n"}, "not an SMTP reply"},
    {ADAPTER_PROBE_SMTP, {"620 hi\r\n"}, "not an SMTP reply"},
    {ADAPTER_PROBE_SMTP, {"2\r\n"}, "not an SMTP reply"},
    {ADAPTER_PROBE_IMAP,
     {"* PREAUTH logged in\r\n"},
     "IMAP greeting: the server greeted with PREAUTH"},
    {ADAPTER_PROBE_IMAP,
     {"* BYE too busy\r\n"},
     "IMAP greeting: the server said BYE: BYE too busy"},
    {ADAPTER_PROBE_IMAP, {"a001 OK hi\r\n"}, "the greeting is not untagged"},
    {ADAPTER_PROBE_IMAP,
     {"* CAPABILITY IMAP4rev1\r\n"},
     "the greeting is not * OK, * PREAUTH or * BYE"},
    {ADAPTER_PROBE_IMAP,
     {"* OK hi\r\n", "a001 NO STARTTLS disabled\r\n"},
     "IMAP STARTTLS: refused: NO STARTTLS disabled"},
    {ADAPTER_PROBE_IMAP,
     {"* OK hi\r\n", "a001 BAD unknown command\r\n"},
     "refused: BAD unknown command"},
    {ADAPTER_PROBE_IMAP, {"* OK hi\r\n", "a002 OK\r\n"}, "a line with another tag"},
    {ADAPTER_PROBE_IMAP, {"* OK hi\r\n", "+ go ahead\r\n"}, "an unexpected continuation request"},
    {ADAPTER_PROBE_IMAP, {"* OK hi\r\n", "a001 MAYBE\r\n"}, "a tagged line without OK, NO or BAD"},
    {ADAPTER_PROBE_IMAP, {"* OK hi\r\n", "* BYE shutting down\r\n"}, "the server said BYE"},
    {ADAPTER_PROBE_IMAP, {"* OK hi\r\n", "a001 OK go\r\nxx"}, "injection"},
    {ADAPTER_PROBE_IMAP,
     {"* OK hi\r\n", "* 1 FETCH {99999}\r\n"},
     "a malformed or too large literal"},
    {ADAPTER_PROBE_POP3, {"-ERR go away\r\n"}, "POP3 greeting: refused: -ERR go away"},
    {ADAPTER_PROBE_POP3,
     {"+OK hi\r\n", "-ERR Command not permitted when TLS active\r\n"},
     "POP3 STLS: refused: -ERR Command not permitted"},
    {ADAPTER_PROBE_POP3, {"+OKAY\r\n"}, "not a POP3 status line"},
    {ADAPTER_PROBE_POP3, {"+ok hi\r\n"}, "not a POP3 status line"},
    {ADAPTER_PROBE_POP3, {"+OK hi\r\n", "+OK go\r\n\x16\x03\x01"}, "injection"},
    {ADAPTER_PROBE_TLS, {"x"}, "has no STARTTLS exchange"},
};

UNIT_TEST(failing_exchanges)
{
    static tls_starttls s;
    char sent[512];

    for (size_t i = 0; i < sizeof failing / sizeof failing[0]; i++) {
        const failing_case *f = &failing[i];
        size_t n = 0;
        while (n < 4 && f->chunks[n] != NULL)
            n++;
        for (int split = 0; split < 2; split++) {
            unit_current = f->reason_part;
            CHECK_INT_EQ(run(&s, f->protocol, f->chunks, n, split, sent, sizeof sent),
                         TLS_STARTTLS_FAILED);
            CHECK_STR_CONTAINS(s.reason, f->reason_part);
        }
    }
    unit_current = "failing_exchanges";
}

UNIT_TEST(limits)
{
    static tls_starttls s;
    char sent[512], *big = malloc(200000);
    const char *chunks[2];

    /* a line longer than TLS_LINE_MAX */
    memset(big, 'a', 2000);
    memcpy(big, "220 ", 4);
    memcpy(big + 2000, "\r\n", 3);
    chunks[0] = big;
    CHECK_INT_EQ(run(&s, ADAPTER_PROBE_SMTP, chunks, 1, false, sent, sizeof sent),
                 TLS_STARTTLS_FAILED);
    CHECK_STR_CONTAINS(s.reason, "a line longer than 1024 bytes");
    /* exactly at the limit: 1022 bytes and CR LF */
    memset(big, 'a', 1022);
    memcpy(big, "220 ", 4);
    memcpy(big + 1022, "\r\n", 3);
    CHECK_INT_EQ(run(&s, ADAPTER_PROBE_SMTP, chunks, 1, false, sent, sizeof sent),
                 TLS_STARTTLS_READ); /* EHLO sent, waiting for its reply */
    /* more than TLS_REPLY_LINES_MAX lines */
    big[0] = '\0';
    for (int i = 0; i < 70; i++)
        snprintf(big + strlen(big), 200000 - strlen(big), "220-line %d\r\n", i);
    CHECK_INT_EQ(run(&s, ADAPTER_PROBE_SMTP, chunks, 1, false, sent, sizeof sent),
                 TLS_STARTTLS_FAILED);
    CHECK_STR_CONTAINS(s.reason, "a reply of more than 64 lines");
    /* more than TLS_STARTTLS_INPUT_MAX bytes in all (IMAP literals) */
    snprintf(big, 200000, "* OK hi\r\n");
    for (int i = 0; i < 10; i++) {
        size_t at = strlen(big);
        snprintf(big + at, 200000 - at, "* %d FETCH (BODY {8000}\r\n", i);
        at = strlen(big);
        memset(big + at, 'x', 8000);
        snprintf(big + at + 8000, 200000 - at - 8000, ")\r\n");
    }
    CHECK_INT_EQ(run(&s, ADAPTER_PROBE_IMAP, chunks, 1, false, sent, sizeof sent),
                 TLS_STARTTLS_FAILED);
    CHECK_STR_CONTAINS(s.reason, "more than 65536 bytes");
    /* the server closes while the client waits */
    tls_starttls_init(&s, ADAPTER_PROBE_POP3, NULL);
    CHECK_INT_EQ(tls_starttls_closed(&s), TLS_STARTTLS_FAILED);
    CHECK_STR_EQ(s.reason, "POP3 greeting: the server closed the connection");
    free(big);
}

UNIT_TEST(imap_transcripts)
{
    static tls_starttls s;
    char sent[512];

    for (int split = 0; split < 2; split++) {
        /* RFC 2595 3.1 / RFC 3501 6.2.1, with our tag */
        CHECK_INT_EQ(RUN(ADAPTER_PROBE_IMAP, split, "* OK IMAP4rev1 Server\r\n",
                         "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n"
                         "a001 OK Begin TLS negotiation now\r\n"),
                     TLS_STARTTLS_READY);
        CHECK_STR_EQ(sent, "a001 STARTTLS\r\n");
        /* untagged data with literals (one holds a CR LF), status words in lower case */
        CHECK_INT_EQ(RUN(ADAPTER_PROBE_IMAP, split, "* ok [CAPABILITY IMAP4rev1] hi\r\n",
                         "* 1 FETCH (BODY {5}\r\nab\r\nc {0}\r\n)\r\na001 ok go\r\n"),
                     TLS_STARTTLS_READY);
    }
}

UNIT_TEST(pop3_transcript)
{
    static tls_starttls s;
    char sent[512];

    CHECK_INT_EQ(RUN(ADAPTER_PROBE_POP3, false, "+OK POP3 server ready\r\n",
                     "+OK Begin TLS negotiation\r\n"),
                 TLS_STARTTLS_READY);
    CHECK_STR_EQ(sent, "STLS\r\n");
    CHECK_INT_EQ(RUN(ADAPTER_PROBE_POP3, true, "+OK\r\n", "+OK\n"), TLS_STARTTLS_READY);
    /* bytes after READY are an injection, also when they come in a later read */
    CHECK_INT_EQ(tls_starttls_input(&s, "x", 1), TLS_STARTTLS_FAILED);
}

/* The reply parsers alone. */
typedef struct smtp_case {
    const char *lines[4];
    tls_reply_state state;
    int code;
    bool starttls;
} smtp_case;

UNIT_TEST(smtp_reply_table)
{
    static const smtp_case cases[] = {
        {{"250 ok"}, TLS_REPLY_DONE, 250, false},
        {{"250"}, TLS_REPLY_DONE, 250, false},
        {{"250-a", "250-STARTTLS", "250 b"}, TLS_REPLY_DONE, 250, true},
        {{"250-a", "250 STARTTLS extra"}, TLS_REPLY_DONE, 250, true},
        {{"250 STARTTLS"}, TLS_REPLY_DONE, 250, false}, /* the first line is the greeting text */
        {{"250-a"}, TLS_REPLY_MORE, 250, false},
        {{"599 x"}, TLS_REPLY_BAD, 0, false}, /* second digit above 5 */
        {{"25"}, TLS_REPLY_BAD, 0, false},
        {{"250_x"}, TLS_REPLY_BAD, 0, false},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tls_smtp_reply r;
        tls_reply_state st = TLS_REPLY_MORE;
        memset(&r, 0, sizeof r);
        for (int k = 0; k < 4 && cases[i].lines[k] != NULL; k++)
            st = tls_smtp_reply_line(&r, cases[i].lines[k], strlen(cases[i].lines[k]));
        CHECK_INT_EQ(st, cases[i].state);
        if (st != TLS_REPLY_BAD) {
            CHECK_INT_EQ(r.code, cases[i].code);
            CHECK_INT_EQ(r.starttls, cases[i].starttls);
        }
    }
}

UNIT_TEST(pop3_and_imap_lines)
{
    tls_pop3_reply p;
    tls_imap_reply m;

    memset(&p, 0, sizeof p);
    CHECK_INT_EQ(tls_pop3_reply_line(&p, "+OK", 3), TLS_REPLY_DONE);
    CHECK(p.ok);
    CHECK_INT_EQ(tls_pop3_reply_line(&p, "-ERR no\x01", 8), TLS_REPLY_DONE);
    CHECK(!p.ok);
    CHECK_STR_EQ(p.text, "no?"); /* control bytes never reach a reason */
    CHECK_INT_EQ(tls_pop3_reply_line(&p, "+OK a\0b", 7), TLS_REPLY_BAD);
    CHECK_STR_CONTAINS(p.reason, "NUL");
    memset(&m, 0, sizeof m);
    m.tag = "a001";
    CHECK_INT_EQ(tls_imap_reply_line(&m, "* 3 EXISTS", 10), TLS_REPLY_MORE);
    CHECK_INT_EQ(tls_imap_reply_line(&m, "* X {12+}", 9), TLS_REPLY_MORE);
    CHECK_INT_EQ(m.literal, 12);
    CHECK(m.tail);
    CHECK_INT_EQ(tls_imap_reply_line(&m, ")", 1), TLS_REPLY_MORE);
    CHECK(!m.tail);
    CHECK_INT_EQ(tls_imap_reply_line(&m, "a001", 4), TLS_REPLY_BAD);
    CHECK_INT_EQ(tls_imap_reply_line(&m, "a001 OK [x] y", 13), TLS_REPLY_DONE);
    CHECK_INT_EQ(m.status, TLS_IMAP_OK);
}

int main(void)
{
    UNIT_RUN(smtp_rfc3207_transcript);
    UNIT_RUN(failing_exchanges);
    UNIT_RUN(limits);
    UNIT_RUN(imap_transcripts);
    UNIT_RUN(pop3_transcript);
    UNIT_RUN(smtp_reply_table);
    UNIT_RUN(pop3_and_imap_lines);
    return unit_report();
}
