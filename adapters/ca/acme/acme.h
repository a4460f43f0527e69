/*
 * adapters/ca/acme/acme.h: the ACME CA adapter (adapter "acme", adapter.h contract 2):
 * RFC 8555 against any ACME server (Let's Encrypt, pebble, and the commercial CAs that
 * speak ACME with External Account Binding: DigiCert, Sectigo, GlobalSign, ZeroSSL,
 * Google).
 *
 * Connector fields (check_fields checks them; open reads them):
 *   directory_url          URL, required: the server's directory (7.1.1).
 *   ca_file | ca_pem       the trust anchors of the ACME server's TLS certificate, a
 *                          PEM file path or PEM text; neither: Debian's system store.
 *   contact_email          the account's contact ("mailto:" is added).
 *   terms_agreed           bool: termsOfServiceAgreed in newAccount; a directory with
 *                          terms and this false answers unconfigured.
 *   eab_kid, eab_hmac_key  External Account Binding (7.3.4): the key id and the MAC key
 *                          (base64url, as CAs hand it out; secret: sealed at rest,
 *                          never logged or returned). Both or neither.
 *   challenge_type         http-01 (default) | dns-01 (solver.h).
 *   http01_listen, http01_webroot   the http-01 solver (http01.h).
 *   dns_server, dns_zone, tsig_name, tsig_algorithm, tsig_secret   the dns-01 solver.
 *   preferred_chain        the issuer CN at the top of the chain wanted among the
 *                          default and the alternates (Link rel="alternate", 7.4.2);
 *                          no match: the default chain.
 *   max_orders             orders in flight at once on this connector (default 16);
 *                          more callers wait for a slot.
 *   order_wait_seconds     how long submit and poll wait for an order to be decided
 *                          before answering pending (default 60).
 * No request fields.
 *
 * State (adapter_ca_state), written together:
 *   account_key   secret   the account's EC P-256 key, PKCS#8 PEM; made on first use
 *   account_url            the account's URL (the JWS "kid")
 * A key is kept only once the server accepted it (newAccount or keyChange answered),
 * so a refused newAccount (no EAB, wrong MAC) writes nothing.
 *
 * Outcomes: issued (the certificate, its chain as the server sent it, the serial);
 * pending with a cookie ("acme1 ORDER_URL CSR_BASE64URL") and retry_after when the
 * order is not decided within order_wait_seconds (poll continues it: solving the
 * authorizations still pending, finalizing, downloading); rejected with the problem
 * document's type and detail (an invalid order or challenge, a refused CSR or
 * identifier); unreachable for network errors, 5xx and rateLimited (Retry-After
 * respected); unconfigured for account trouble only an admin can mend (EAB required
 * or refused, terms not agreed, the account deactivated, the server's TLS not
 * trusted). Revocation (revokeCert, signed with the account key) needs the certificate
 * (adapter_ca_revocation.cert).
 *
 * Transport: lib/http, one request per connection, the server's certificate verified.
 * Nonces are kept in a small pool (Replay-Nonce of every response), fetched from
 * newNonce when empty; badNonce is retried up to ACME_BAD_NONCE_RETRIES times. Reads are
 * POST-as-GET (6.3).
 *
 * Thread rules: submit, poll, revoke and rollover may run on any threads at once; one
 * mutex guards the directory, the nonce pool and the account (its key is refcounted, so
 * a rollover never frees a key a request still signs with).
 */
#ifndef CLM_ADAPTERS_CA_ACME_ACME_H
#define CLM_ADAPTERS_CA_ACME_ACME_H

#include "adapters/adapter.h"

/** The adapter's operations table (name "acme"); register with adapter_ca_register(). */
extern const adapter_ca_ops ca_acme_ops;

/** badNonce answers retried per request before the call ends unreachable. */
#define ACME_BAD_NONCE_RETRIES 10

#endif
