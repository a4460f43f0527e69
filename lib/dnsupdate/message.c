/*
 * lib/dnsupdate/message.c: DNS messages for dnsupdate, through libldns: finishing a
 * request (ID, TSIG, wire form) and checking what comes back (dnsupdate_internal.h).
 * No network here: dnsupdate_answer_fuzz drives the checks with arbitrary bytes.
 */
#include "lib/dnsupdate/dnsupdate_internal.h"

#include <openssl/rand.h>
#include <stdbool.h>

/* The TSIG RR's RDATA fields as libldns orders them (RFC 8945 4.2). */
enum { TSIG_ALGORITHM = 0, TSIG_MAC = 3, TSIG_ERROR = 5, TSIG_FIELDS = 7 };

clm_err dnsupdate_request_finish(dnsupdate_request *req, ldns_pkt *pkt, const dnsupdate_key *key)
{
    uint16_t id;
    ldns_status st;

    req->pkt = pkt;
    req->key = key;
    req->mac = NULL;
    if (pkt == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "%s: out of memory building the message", req->server);
    if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1)
        return clm_fail(CLM_ERR_CRYPTO, "%s: no random message ID (OpenSSL RAND_bytes failed)",
                        req->server);
    ldns_pkt_set_id(pkt, id);
    if (key != NULL && key->name != NULL) {
        st = ldns_pkt_tsig_sign(pkt, key->name, key->secret, DNSUPDATE_TSIG_FUDGE, key->algorithm,
                                NULL);
        if (st != LDNS_STATUS_OK || ldns_pkt_tsig(pkt) == NULL)
            return clm_fail(CLM_ERR_CRYPTO, "%s: signing with TSIG key %s (%s) failed: %s",
                            req->server, key->name, key->algorithm, ldns_get_errorstr_by_id(st));
        req->mac = ldns_rr_rdf(ldns_pkt_tsig(pkt), TSIG_MAC);
    }
    st = ldns_pkt2wire(&req->wire, pkt, &req->wire_len);
    if (st != LDNS_STATUS_OK) {
        req->wire = NULL;
        return clm_fail(st == LDNS_STATUS_MEM_ERR ? CLM_ERR_NO_MEMORY : CLM_ERR_INTERNAL,
                        "%s: the message has no wire form: %s", req->server,
                        ldns_get_errorstr_by_id(st));
    }
    return CLM_OK;
}

void dnsupdate_request_free(dnsupdate_request *req)
{
    if (req == NULL)
        return;
    ldns_pkt_free(req->pkt);
    LDNS_FREE(req->wire);
    req->pkt = NULL;
    req->wire = NULL;
    req->wire_len = 0;
    req->mac = NULL;
}

static const char *rcode_name(ldns_pkt_rcode rcode)
{
    const ldns_lookup_table *row = ldns_lookup_by_id(ldns_rcodes, (int)rcode);

    return row != NULL && row->name != NULL ? row->name : "an unknown RCODE";
}

/* RFC 8945 5.3 and the IANA registry (the TSIG error codes past the RCODE range). */
static const char *tsig_error_name(uint16_t error)
{
    static const struct {
        uint16_t code;
        const char *name;
    } names[] = {
        {16, "BADSIG: the key's secret is wrong"},
        {17, "BADKEY: the server does not know this key name or algorithm"},
        {18, "BADTIME: the clocks differ by more than the fudge; check this host's time"},
        {19, "BADMODE"},
        {20, "BADNAME"},
        {21, "BADALG"},
        {22, "BADTRUNC"},
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].code == error)
            return names[i].name;
    return "an unknown TSIG error";
}

static bool same_question(const ldns_pkt *request, const ldns_pkt *answer)
{
    const ldns_rr *q, *a;

    if (ldns_pkt_qdcount(answer) == 0)
        return true; /* error answers may leave the question out */
    if (ldns_pkt_qdcount(answer) != 1 || ldns_rr_list_rr_count(ldns_pkt_question(answer)) != 1)
        return false;
    q = ldns_rr_list_rr(ldns_pkt_question(request), 0);
    a = ldns_rr_list_rr(ldns_pkt_question(answer), 0);
    return q != NULL && a != NULL && ldns_rr_get_type(q) == ldns_rr_get_type(a) &&
           ldns_rr_get_class(q) == ldns_rr_get_class(a) &&
           ldns_dname_compare(ldns_rr_owner(q), ldns_rr_owner(a)) == 0;
}

static bool same_dname(const ldns_rdf *rdf, const char *text)
{
    ldns_rdf *want;
    bool same;

    if (rdf == NULL || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME)
        return false;
    want = ldns_dname_new_frm_str(text);
    same = want != NULL && ldns_dname_compare(rdf, want) == 0;
    ldns_rdf_deep_free(want);
    return same;
}

/* The answer's TSIG against the request's key (RFC 8945 5.3.2 and 5.4). */
static clm_err check_tsig(const dnsupdate_request *req, ldns_pkt *answer, const uint8_t *wire,
                          size_t len)
{
    const dnsupdate_key *key = req->key;
    ldns_rr *tsig = ldns_pkt_tsig(answer);
    const ldns_rdf *error;

    if (key == NULL || key->name == NULL)
        return CLM_OK;
    if (tsig == NULL) {
        if (ldns_pkt_get_rcode(answer) == LDNS_RCODE_NOERROR)
            return clm_fail(CLM_ERR_PERMISSION,
                            "%s: the answer is not signed, though the request was signed with "
                            "TSIG key %s: the server may not know the key",
                            req->server, key->name);
        return CLM_OK; /* an unsigned refusal: its RCODE says what it is */
    }
    if (ldns_rr_rd_count(tsig) != TSIG_FIELDS)
        return clm_fail(CLM_ERR_PARSE, "%s: the answer's TSIG record is malformed", req->server);
    if (!same_dname(ldns_rr_owner(tsig), key->name) ||
        !same_dname(ldns_rr_rdf(tsig, TSIG_ALGORITHM), key->algorithm))
        return clm_fail(CLM_ERR_PERMISSION,
                        "%s: the answer is signed with another TSIG key or algorithm than %s (%s)",
                        req->server, key->name, key->algorithm);
    error = ldns_rr_rdf(tsig, TSIG_ERROR);
    if (error == NULL || ldns_rdf_size(error) != 2)
        return clm_fail(CLM_ERR_PARSE, "%s: the answer's TSIG record is malformed", req->server);
    if (ldns_rdf2native_int16(error) != 0)
        return clm_fail(CLM_ERR_PERMISSION, "%s rejected TSIG key %s (%s)", req->server, key->name,
                        tsig_error_name(ldns_rdf2native_int16(error)));
    if (!ldns_pkt_tsig_verify(answer, wire, len, key->name, key->secret, req->mac)) {
        /* libldns 1.8.3 leaves the TSIG detached from the packet when it could not compute
         * the MAC (an unknown algorithm, a malformed message): it is ours to free then. */
        if (ldns_pkt_tsig(answer) == NULL)
            ldns_rr_free(tsig);
        return clm_fail(CLM_ERR_PERMISSION,
                        "%s: the answer's TSIG signature does not verify with key %s", req->server,
                        key->name);
    }
    return CLM_OK;
}

clm_err dnsupdate_answer_check(const dnsupdate_request *req, const uint8_t *wire, size_t len,
                               ldns_pkt **answer)
{
    ldns_pkt *pkt = NULL;
    ldns_status st;
    clm_err err;

    *answer = NULL;
    st = ldns_wire2pkt(&pkt, wire, len);
    if (st != LDNS_STATUS_OK) {
        if (st == LDNS_STATUS_MEM_ERR)
            return clm_fail(CLM_ERR_NO_MEMORY, "%s: out of memory reading the answer", req->server);
        return clm_fail(CLM_ERR_PARSE, "%s: the answer is not a DNS message (%s)", req->server,
                        ldns_get_errorstr_by_id(st));
    }
    if (!ldns_pkt_qr(pkt) || ldns_pkt_id(pkt) != ldns_pkt_id(req->pkt) ||
        ldns_pkt_get_opcode(pkt) != ldns_pkt_get_opcode(req->pkt) ||
        !same_question(req->pkt, pkt)) {
        ldns_pkt_free(pkt);
        return clm_fail(CLM_ERR_PARSE,
                        "%s: the message is not the answer to the request (its flags, ID, opcode "
                        "or question differ)",
                        req->server);
    }
    err = check_tsig(req, pkt, wire, len);
    if (err != CLM_OK) {
        ldns_pkt_free(pkt);
        return err;
    }
    *answer = pkt;
    return CLM_OK;
}

clm_err dnsupdate_update_result(const ldns_pkt *answer, const char *server, const char *name)
{
    ldns_pkt_rcode rcode = ldns_pkt_get_rcode(answer);

    switch (rcode) {
    case LDNS_RCODE_NOERROR: return CLM_OK;
    case LDNS_RCODE_REFUSED:
    case LDNS_RCODE_NOTAUTH:
        return clm_fail(CLM_ERR_PERMISSION,
                        "%s refused the update of %s (%s): the TSIG key is missing, wrong or not "
                        "granted this name, or the server is not the zone's primary",
                        server, name, rcode_name(rcode));
    case LDNS_RCODE_NOTZONE:
        return clm_fail(CLM_ERR_NOT_FOUND, "%s: %s is not inside the zone of the update (NOTZONE)",
                        server, name);
    case LDNS_RCODE_SERVFAIL:
        return clm_fail(CLM_ERR_UNAVAILABLE,
                        "%s could not apply the update of %s (SERVFAIL); try again later", server,
                        name);
    default:
        return clm_fail(CLM_ERR_UNSUPPORTED, "%s answered the update of %s with %s", server, name,
                        rcode_name(rcode));
    }
}

/* The first SOA in list owned by qname (exact) or, when ancestors count, by an ancestor. */
static const ldns_rdf *soa_owner(const ldns_rr_list *list, const ldns_rdf *qname, bool ancestors)
{
    for (size_t i = 0; list != NULL && i < ldns_rr_list_rr_count(list); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(list, i);
        const ldns_rdf *owner = ldns_rr_owner(rr);

        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || owner == NULL ||
            ldns_rdf_get_type(owner) != LDNS_RDF_TYPE_DNAME)
            continue;
        if (ldns_dname_compare(owner, qname) == 0 ||
            (ancestors && ldns_dname_is_subdomain(qname, owner)))
            return owner;
    }
    return NULL;
}

clm_err dnsupdate_soa_zone(const ldns_pkt *answer, const ldns_rdf *qname, ldns_rdf **zone)
{
    ldns_pkt_rcode rcode = ldns_pkt_get_rcode(answer);
    const ldns_rdf *owner = NULL;

    *zone = NULL;
    if (rcode == LDNS_RCODE_NOERROR)
        owner = soa_owner(ldns_pkt_answer(answer), qname, false);
    if (owner == NULL && (rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN))
        owner = soa_owner(ldns_pkt_authority(answer), qname, true);
    if (owner == NULL)
        return clm_fail(CLM_ERR_NOT_FOUND, "no SOA in the answer (%s)", rcode_name(rcode));
    *zone = ldns_rdf_clone(owner);
    if (*zone == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory copying the zone's name");
    return CLM_OK;
}
