/*
 * adapters/tls/starttls_internal.h: what the per-protocol files of the STARTTLS exchange
 * share with starttls.c; not a public header.
 */
#ifndef CLM_ADAPTERS_TLS_STARTTLS_INTERNAL_H
#define CLM_ADAPTERS_TLS_STARTTLS_INTERNAL_H

#include "adapters/tls/starttls.h"

/** One protocol's side of the exchange: a row of starttls.c's table. */
typedef struct starttls_protocol {
    adapter_probe_protocol protocol;
    const char *name; /* "SMTP" */
    /** MUST: handle one complete line (without its line end); returns the new step. */
    tls_starttls_step (*line)(tls_starttls *s, const char *line, size_t len);
} starttls_protocol;

extern const starttls_protocol starttls_smtp;
extern const starttls_protocol starttls_imap;
extern const starttls_protocol starttls_pop3;

/** Fail the exchange: reason "<PROTOCOL> <phase>: <message>". @return FAILED. */
tls_starttls_step starttls_fail(tls_starttls *s, const char *phase, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Queue a command (CR LF added) and go to step WRITE. @return WRITE, or FAILED. */
tls_starttls_step starttls_send(tls_starttls *s, const char *command);

/** The server agreed: READY, unless bytes are left over (then FAILED). */
tls_starttls_step starttls_ready(tls_starttls *s);

/** Copy at most TLS_QUOTE_MAX bytes of a server line into out (TLS_QUOTE_MAX + 1 bytes),
 *  bytes outside printable ASCII as '?'. */
void starttls_quote(char *out, const char *line, size_t len);

/** @return whether line[0..len) is a NUL-free line (NUL bytes fail every parser). */
bool starttls_line_clean(const char *line, size_t len);

#endif
