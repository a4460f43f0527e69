/*
 * adapters/ca/acme/http01.h: the http-01 solver (RFC 8555 8.3): a built-in responder
 * and a webroot.
 *
 * Connector fields (with challenge_type http-01, at least one of the two):
 *   http01_listen   "ADDRESS:PORT" ("127.0.0.1:5002", "[::1]:80"): the built-in
 *                   responder listens there and answers GET and HEAD of
 *                   /.well-known/acme-challenge/<token> for the tokens presented now,
 *                   with the key authorization as text/plain; everything else is 404.
 *   http01_webroot  a directory that a web server serves as the document root of the
 *                   names: present writes <webroot>/.well-known/acme-challenge/<token>
 *                   (mode 0644; written to a temporary name in that directory and
 *                   renamed, so the web server never reads half a file), cleanup
 *                   removes it. The two directories are made (0755) when missing.
 * With both set, both are done.
 *
 * The responder is shared: connectors that name the same address share one listener
 * (refcounted: it opens with the first and closes with the last), each token answered
 * for whichever connector presented it. It runs one thread with poll(2), many
 * connections at once (the CA validates from several vantage points in parallel),
 * requests read with Debian's http-parser; a connection that sends nothing for 10 s or
 * more than 8 KiB of request is closed.
 *
 * Thread rules: acquire/release/put/remove may be called from any thread.
 */
#ifndef CLM_ADAPTERS_CA_ACME_HTTP01_H
#define CLM_ADAPTERS_CA_ACME_HTTP01_H

#include "lib/base/error.h"

/** A shared built-in responder. */
typedef struct acme_http01_responder acme_http01_responder;

/**
 * @brief The responder on an address: the running one, or a new one bound there.
 * @param[in] listen "ADDRESS:PORT", an IPv4 or bracketed IPv6 literal.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT (not an address and port, naming
 *         fields.http01_listen); CLM_ERR_IO (bind, listen, thread); CLM_ERR_NO_MEMORY.
 */
clm_err acme_http01_responder_acquire(const char *listen, acme_http01_responder **out);

/** Drop a reference; the last one stops the thread and closes the socket. NULL is fine. */
void acme_http01_responder_release(acme_http01_responder *responder);

/**
 * @brief Answer a token (replacing an earlier answer of the same token).
 * @return CLM_OK; CLM_ERR_NO_MEMORY.
 */
clm_err acme_http01_responder_put(acme_http01_responder *responder, const char *token,
                                  const char *key_authorization);

/** Stop answering a token; absent is fine. */
void acme_http01_responder_remove(acme_http01_responder *responder, const char *token);

#endif
