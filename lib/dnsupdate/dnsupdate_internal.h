/*
 * lib/dnsupdate/dnsupdate_internal.h: the pieces of lib/dnsupdate below its contract,
 * split so that what reads the server's bytes can be tested and fuzzed without a
 * network (dnsupdate_answer_check, dnsupdate_update_result, dnsupdate_soa_zone).
 *
 * message.c builds, signs and checks messages (libldns, no network); transport.c moves
 * them (UDP, TCP when truncated or too long, one deadline); dnsupdate.c checks the
 * arguments, walks to the zone and sends the updates.
 *
 * Secrets: a dnsupdate_key's secret is passed to libldns only; nothing here copies it
 * into a message.
 */
#ifndef CLM_LIB_DNSUPDATE_DNSUPDATE_INTERNAL_H
#define CLM_LIB_DNSUPDATE_DNSUPDATE_INTERNAL_H

#include "lib/base/error.h"

#include <ldns/ldns.h>
#include <stddef.h>
#include <stdint.h>

/** Longest UDP message sent without EDNS (RFC 1035 4.2.1); longer goes over TCP. */
#define DNSUPDATE_UDP_MAX 512
/** TSIG fudge in seconds (RFC 8945 5.2.3 recommends 300). */
#define DNSUPDATE_TSIG_FUDGE 300

/** The TSIG key of a call; name NULL: nothing is signed. All borrowed. */
typedef struct dnsupdate_key {
    const char *name;      /* absolute ("clm-key.") */
    const char *algorithm; /* absolute, as on the wire ("hmac-sha256.") */
    const char *secret;    /* base64; never copied into messages */
} dnsupdate_key;

/** One message on its way: built, signed, in wire form. */
typedef struct dnsupdate_request {
    ldns_pkt *pkt; /* owned */
    uint8_t *wire; /* owned (LDNS_FREE), what is sent */
    size_t wire_len;
    const ldns_rdf *mac;      /* the request's TSIG MAC inside pkt; NULL unsigned */
    const dnsupdate_key *key; /* borrowed; NULL or name NULL: unsigned */
    const char *server;       /* borrowed, for messages */
} dnsupdate_request;

/**
 * @brief Finish a request: a random ID, the TSIG signature when key->name is set, the
 * wire form.
 * @param[in,out] req  zeroed, with server set; takes pkt (freed by
 *                     dnsupdate_request_free even on failure).
 * @param[in] pkt      the message (an UPDATE from ldns_update_pkt_new or a query).
 * @param[in] key      borrowed until the request is freed; NULL: unsigned.
 * @return CLM_OK; CLM_ERR_CRYPTO (signing failed); CLM_ERR_NO_MEMORY.
 */
clm_err dnsupdate_request_finish(dnsupdate_request *req, ldns_pkt *pkt, const dnsupdate_key *key);

/** Free what a request owns; accepts a zeroed or freed request. */
void dnsupdate_request_free(dnsupdate_request *req);

/**
 * @brief Check the server's bytes as the answer to req: a DNS message (libldns), an
 * answer (QR) with the request's ID and opcode, the same question when it echoes one,
 * and, for a signed request, a TSIG from the same key that verifies against the
 * request's MAC. The RCODE is not judged here (dnsupdate_update_result,
 * dnsupdate_soa_zone), except NOTAUTH with a TSIG error, which is the key's refusal.
 * @param[in] req   the request (signed or not).
 * @param[in] wire  the answer's bytes (any bytes; this is the fuzzed entry).
 * @param[out] answer the parsed answer on CLM_OK (free with ldns_pkt_free); NULL else.
 * @return CLM_OK; CLM_ERR_PARSE (not a DNS message, not the answer to req);
 *         CLM_ERR_PERMISSION (TSIG error BADSIG/BADKEY/BADTIME/..., a signature that
 *         does not verify, an unsigned success to a signed request);
 *         CLM_ERR_NO_MEMORY.
 */
clm_err dnsupdate_answer_check(const dnsupdate_request *req, const uint8_t *wire, size_t len,
                               ldns_pkt **answer);

/**
 * @brief Map a checked answer to an UPDATE to the result of the update.
 * @param[in] name the record name, for messages.
 * @return CLM_OK (NOERROR); CLM_ERR_PERMISSION (REFUSED, NOTAUTH); CLM_ERR_NOT_FOUND
 *         (NOTZONE); CLM_ERR_UNAVAILABLE (SERVFAIL); CLM_ERR_UNSUPPORTED (any other
 *         RCODE, named: FORMERR, NOTIMP, ...).
 */
clm_err dnsupdate_update_result(const ldns_pkt *answer, const char *server, const char *name);

/**
 * @brief Read the zone out of a checked answer to an SOA query for qname: an SOA owned
 * by qname in the answer section, or an SOA in the authority section owned by qname or
 * one of its ancestors (the zone's negative answer).
 * @param[out] zone a new dname on CLM_OK (ldns_rdf_deep_free); NULL else.
 * @return CLM_OK; CLM_ERR_NOT_FOUND (this answer names no zone: ask the parent);
 *         CLM_ERR_NO_MEMORY.
 */
clm_err dnsupdate_soa_zone(const ldns_pkt *answer, const ldns_rdf *qname, ldns_rdf **zone);

/**
 * @brief Send req to addr and wait for its checked answer: UDP with retransmissions
 * (1 s, then doubling) until deadline_ns (CLOCK_MONOTONIC), TCP when the message is
 * longer than DNSUPDATE_UDP_MAX or the UDP answer is truncated. Datagrams with another
 * ID are ignored.
 * @param[out] answer as dnsupdate_answer_check().
 * @return as dnsupdate_answer_check(); CLM_ERR_UNAVAILABLE (no answer before the
 *         deadline, connection refused, network errors); CLM_ERR_IO (no socket).
 */
clm_err dnsupdate_exchange(const dnsupdate_request *req, const struct sockaddr_storage *addr,
                           socklen_t addr_len, int64_t deadline_ns, ldns_pkt **answer);

/** CLOCK_MONOTONIC in ns (the deadlines of dnsupdate_exchange). */
int64_t dnsupdate_now_ns(void);

#endif
