/*
 * adapters/tls/starttls.h: the plain-text exchange before TLS on mail ports, as pure
 * functions over bytes (no sockets), so that every parser of server replies is unit
 * tested against the RFC transcripts and fuzzed.
 *
 *   SMTP (RFC 3207, replies RFC 5321 4.2):  S: 220 greeting   C: EHLO name
 *                                           S: 250-... 250 STARTTLS ...
 *                                           C: STARTTLS       S: 220 ready
 *   IMAP (RFC 2595, RFC 3501 6.2.1):        S: * OK greeting  C: a001 STARTTLS
 *                                           S: (untagged lines) a001 OK ...
 *   POP3 (RFC 2595 4):                      S: +OK greeting   C: STLS
 *                                           S: +OK
 *
 * Lines end with LF (CR LF, or a bare LF, which some servers send) and are at most
 * TLS_LINE_MAX bytes with the line end; a reply has at most TLS_REPLY_LINES_MAX lines;
 * the whole exchange at most TLS_STARTTLS_INPUT_MAX bytes. Anything longer fails the
 * exchange. Bytes that arrive after the server's final "go ahead" and before the
 * client's first TLS byte fail it too: they can only be an injection (the STARTTLS
 * buffering flaw of CVE-2011-0411, from the client's side).
 *
 * Reason texts quote at most TLS_QUOTE_MAX bytes of the server's line, with bytes
 * outside printable ASCII replaced by '?'.
 *
 * Thread rules: no globals; a tls_starttls belongs to one thread at a time.
 */
#ifndef CLM_ADAPTERS_TLS_STARTTLS_H
#define CLM_ADAPTERS_TLS_STARTTLS_H

#include "adapters/adapter.h"

#include <stdbool.h>
#include <stddef.h>

/** Longest server line accepted, line end included. RFC 5321 4.5.3.1.5 sets 512 for
 *  SMTP replies; IMAP greetings with capabilities run longer. */
#define TLS_LINE_MAX 1024
/** Most lines in one reply (an EHLO reply lists one extension a line). */
#define TLS_REPLY_LINES_MAX 64
/** Most bytes the server may send during the whole exchange. */
#define TLS_STARTTLS_INPUT_MAX (64 * 1024)
/** Largest IMAP literal skipped in an untagged line. */
#define TLS_IMAP_LITERAL_MAX 8192
/** Most bytes of a server line quoted in a reason. */
#define TLS_QUOTE_MAX 80

/** What a reply parser says after one line. */
typedef enum tls_reply_state {
    TLS_REPLY_MORE = 0, /* the reply continues: give the next line */
    TLS_REPLY_DONE,     /* the reply is complete (read its fields) */
    TLS_REPLY_BAD,      /* the line is malformed: see reason */
} tls_reply_state;

/* ---- SMTP ----------------------------------------------------------------------------- */

/** One SMTP reply, built line by line. Zero-initialise before its first line. */
typedef struct tls_smtp_reply {
    int code; /* the three-digit code; 0 before the first line */
    unsigned lines;
    bool starttls;                /* a line after the first has the EHLO keyword
                                     STARTTLS (RFC 3207 4) */
    char text[TLS_QUOTE_MAX + 1]; /* the first line's text, sanitised */
    char reason[128];             /* when BAD */
} tls_smtp_reply;

/**
 * @brief Add one line (without its line end) to an SMTP reply: "250-text" continues,
 * "250 text" or "250" ends it (RFC 5321 4.2.1); every line must carry the same code.
 * @return TLS_REPLY_MORE, TLS_REPLY_DONE, or TLS_REPLY_BAD (not three digits 2xx-5xx,
 *         a code that changes, too many lines, a NUL byte, too long).
 */
tls_reply_state tls_smtp_reply_line(tls_smtp_reply *reply, const char *line, size_t len);

/* ---- IMAP ----------------------------------------------------------------------------- */

typedef enum tls_imap_status {
    TLS_IMAP_NONE = 0,
    TLS_IMAP_OK,
    TLS_IMAP_NO,
    TLS_IMAP_BAD,
    TLS_IMAP_BYE,
    TLS_IMAP_PREAUTH,
} tls_imap_status;

/** One IMAP response: the greeting (tag NULL) or a command's completion (tag set). */
typedef struct tls_imap_reply {
    const char *tag;        /* borrowed: NULL while waiting for the greeting */
    tls_imap_status status; /* of the greeting or the tagged line, when DONE */
    unsigned lines;
    size_t literal;               /* bytes of a literal announced at the end of the line
                                     ("{12}"): the caller skips them, then goes on */
    bool tail;                    /* the next line is the rest of an untagged response
                                     after a literal */
    char text[TLS_QUOTE_MAX + 1]; /* the deciding line's text, sanitised */
    char reason[128];             /* when BAD */
} tls_imap_reply;

/**
 * @brief Add one line to an IMAP response. Greeting: "* OK", "* PREAUTH" or "* BYE"
 * ends it. A line that follows a literal is the rest of its untagged response. Tagged: untagged
 * lines ("* ...") are skipped, "* BYE" ends it, the line with the tag ends it with OK, NO or BAD; a
 * continuation ("+") or another tag is malformed. Status words are case-insensitive (RFC 3501 9).
 * @return TLS_REPLY_MORE (check reply->literal), TLS_REPLY_DONE, TLS_REPLY_BAD.
 */
tls_reply_state tls_imap_reply_line(tls_imap_reply *reply, const char *line, size_t len);

/* ---- POP3 ----------------------------------------------------------------------------- */

typedef struct tls_pop3_reply {
    bool ok; /* "+OK" (else "-ERR") */
    char text[TLS_QUOTE_MAX + 1];
    char reason[128]; /* when BAD */
} tls_pop3_reply;

/**
 * @brief Parse a one-line POP3 status reply: "+OK [text]" or "-ERR [text]" (RFC 1939 3,
 * the status indicator in upper case).
 * @return TLS_REPLY_DONE, or TLS_REPLY_BAD.
 */
tls_reply_state tls_pop3_reply_line(tls_pop3_reply *reply, const char *line, size_t len);

/* ---- the exchange ---------------------------------------------------------------------- */

typedef enum tls_starttls_step {
    TLS_STARTTLS_READ = 0, /* waiting for bytes from the server: tls_starttls_input() */
    TLS_STARTTLS_WRITE,    /* bytes to send: tls_starttls_output(), tls_starttls_sent() */
    TLS_STARTTLS_READY,    /* the server agreed: start the TLS handshake now */
    TLS_STARTTLS_FAILED,   /* see reason */
} tls_starttls_step;

/** Longest command sent ("EHLO " + a name + CR LF). */
#define TLS_STARTTLS_OUTPUT_MAX 300

/** One exchange. Plain data: may be embedded or allocated; no free needed. */
typedef struct tls_starttls {
    adapter_probe_protocol protocol; /* SMTP, IMAP or POP3 */
    tls_starttls_step step;
    int phase; /* per protocol: greeting, EHLO, STARTTLS */
    char ehlo[TLS_STARTTLS_OUTPUT_MAX - 8];
    char in[TLS_LINE_MAX]; /* received, not yet parsed */
    size_t in_len;
    size_t in_total; /* bytes received in all */
    size_t skip;     /* IMAP literal bytes still to skip */
    char out[TLS_STARTTLS_OUTPUT_MAX];
    size_t out_len, out_sent;
    union {
        tls_smtp_reply smtp;
        tls_imap_reply imap;
        tls_pop3_reply pop3;
    } reply;
    char reason[ADAPTER_PROBE_REASON_MAX]; /* when FAILED: "SMTP EHLO: ..." */
} tls_starttls;

/**
 * @brief Start an exchange: the client waits for the greeting (step READ).
 * @param[in] protocol  ADAPTER_PROBE_SMTP, _IMAP or _POP3 (others: FAILED at once).
 * @param[in] ehlo_name the SMTP EHLO argument ("[127.0.0.1]" or a name), copied;
 *                      truncated to fit. Ignored for IMAP and POP3.
 */
void tls_starttls_init(tls_starttls *s, adapter_probe_protocol protocol, const char *ehlo_name);

/**
 * @brief Give bytes received from the server (in step READ; other steps only buffer
 * them, and in READY they fail the exchange as an injection).
 * @return the new step.
 */
tls_starttls_step tls_starttls_input(tls_starttls *s, const void *data, size_t len);

/**
 * @brief The server closed the connection (read returned 0) during the exchange.
 * @return TLS_STARTTLS_FAILED, with the phase in the reason.
 */
tls_starttls_step tls_starttls_closed(tls_starttls *s);

/** @return the bytes still to send in step WRITE (len 0 otherwise); borrowed from s. */
const char *tls_starttls_output(const tls_starttls *s, size_t *len);

/**
 * @brief n bytes of the output were sent. When all are, the step becomes READ and any
 * bytes already buffered are parsed.
 * @return the new step.
 */
tls_starttls_step tls_starttls_sent(tls_starttls *s, size_t n);

#endif
