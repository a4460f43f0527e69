/*
 * lib/dnsupdate/dnsupdate.h: RFC 2136 dynamic updates of TXT records, signed with TSIG
 * (RFC 8945), for ACME dns-01 (RFC 8555 8.4: "_acme-challenge.<domain>" TXT
 * "<base64url(SHA-256(key authorization))>").
 *
 * One call sends one UPDATE message to the zone's primary server over UDP (TCP when the
 * answer is truncated or the message is too long for UDP), waits for the answer, checks
 * its TSIG signature when the request was signed, and maps its RCODE to an error. The
 * message building, signing and parsing are Debian's libldns; nothing here encodes DNS
 * wire format by hand.
 *
 * Zone: when the caller names none, the zone is found the way nsupdate finds it: an SOA
 * query for the name, walking up one label at a time (the root is not asked), asked of
 * the same server and signed with the same key. An SOA in the authority section of a
 * negative answer names the zone at once (one query for a name inside a zone).
 *
 * Names: letters, digits, '-' and '_' in labels of 1-63, at most 253 characters;
 * "example.test" and "example.test." are the same name. Values: any bytes but NUL.
 *
 * Retries: UDP is sent again after 1 s, 2 s, 4 s, ... until the deadline (an UPDATE
 * that adds or deletes one record is idempotent). The timeout bounds the whole call,
 * SOA walk included.
 *
 * Secrets: the TSIG secret never reaches logs or error messages; error messages name the
 * server, the record name and the RCODE ("NOTAUTH", "REFUSED", ...).
 *
 * Thread rules: every function may be called from any thread; calls are independent.
 */
#ifndef CLM_LIB_DNSUPDATE_DNSUPDATE_H
#define CLM_LIB_DNSUPDATE_DNSUPDATE_H

#include "lib/base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Where and how to send updates; everything borrowed for the call. */
typedef struct dnsupdate_server {
    /** MUST: the primary server, "ADDRESS" or "ADDRESS:PORT" ("[::1]:53"); port 53 when
     *  none. An address, not a name: updates never depend on the resolver. */
    const char *server;
    /** MAY: the zone to update ("example.test."); NULL: found by SOA queries. */
    const char *zone;
    /** MAY: the TSIG key's name; NULL: the update is not signed. */
    const char *tsig_name;
    /** MAY (with tsig_name): "hmac-sha256" (default when NULL), "hmac-sha512",
     *  "hmac-sha1" (any case, a trailing dot allowed). "hmac-sha384" is refused with
     *  CLM_ERR_UNSUPPORTED before anything is sent: Debian's libldns 1.8.3 looks it up as
     *  "hmac-shac384." (a typo in its tsig.c), so it can neither sign nor verify it. */
    const char *tsig_algorithm;
    /** MUST with tsig_name: the key, base64 as tsig-keygen prints it. Secret. */
    const char *tsig_secret;
    /** MAY: the whole call's deadline in ms, retries included; 0: 10000. */
    int timeout_ms;
} dnsupdate_server;

/**
 * @brief Add a TXT record (RFC 2136 2.5.1: add to an RRset). Adding a value the RRset
 * already holds is not an error (the server ignores duplicates).
 * @param[in] server as above.
 * @param[in] name   the owner name, absolute or not ("_acme-challenge.www.example.test").
 * @param[in] value  the TXT string, 1-255 bytes.
 * @param[in] ttl    seconds; 0: 60.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the argument first ("name: ...":
 *         server, zone, name, value, ttl, timeout_ms, tsig_*; a name not inside the
 *         given zone); nothing is sent then. CLM_ERR_UNAVAILABLE (no answer before the
 *         deadline, a closed port, network errors, SERVFAIL); CLM_ERR_PERMISSION (REFUSED,
 *         NOTAUTH, a TSIG error BADSIG/BADKEY/BADTIME, an answer whose signature does not
 *         verify or an unsigned success to a signed request: the key is wrong or not
 *         allowed this name); CLM_ERR_NOT_FOUND (no zone holds the name: NOTZONE, or the
 *         SOA walk found none); CLM_ERR_PARSE (an answer that is not a DNS message or
 *         does not match the question); CLM_ERR_UNSUPPORTED (tsig_algorithm hmac-sha384,
 *         or an answer with another RCODE, named: FORMERR, NOTIMP, ...);
 *         CLM_ERR_CRYPTO (signing failed); CLM_ERR_NO_MEMORY.
 */
clm_err dnsupdate_txt_add(const dnsupdate_server *server, const char *name,
                          const char *value, uint32_t ttl);

/**
 * @brief Delete one TXT record (RFC 2136 2.5.4: delete an RR from an RRset); value NULL
 * deletes the whole TXT RRset of the name (2.5.2). Deleting what is not there is not an
 * error.
 * @return as dnsupdate_txt_add().
 */
clm_err dnsupdate_txt_delete(const dnsupdate_server *server, const char *name,
                             const char *value);

/**
 * @brief Check a server description as the calls above do, without sending anything
 * (for configuration checks: an ACME connector's dns-01 fields).
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the member first ("server: ...",
 *         "zone: ...", "tsig_name: ...", "tsig_algorithm: ...", "tsig_secret: ...",
 *         "timeout_ms: ..."); CLM_ERR_UNSUPPORTED (tsig_algorithm hmac-sha384).
 */
clm_err dnsupdate_server_check(const dnsupdate_server *server);

#endif
