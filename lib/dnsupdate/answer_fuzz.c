/*
 * lib/dnsupdate/answer_fuzz.c: arbitrary bytes as the DNS server's answer, through the
 * path the transport takes (dnsupdate_internal.h): dnsupdate_answer_check, then both
 * readings of a checked answer (dnsupdate_update_result, dnsupdate_soa_zone).
 *
 * Input: byte 0 picks the request (bit 0: signed with a fixed hmac-sha256 key, bit 1:
 * an SOA query instead of an UPDATE, bit 2: the answer's ID patched to the request's,
 * so that the checks past the ID are reached), the rest is the answer. Seeds in
 * fuzz_corpus/answer_fuzz/ are real bind9 answers (UPDATE NOERROR, REFUSED, NOTAUTH with
 * BADSIG and BADKEY, SOA answers and negative answers).
 */
#include "lib/dnsupdate/dnsupdate_internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const dnsupdate_key key = {
    .name = "clm-key.",
    .algorithm = "hmac-sha256.",
    .secret = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=",
};

static ldns_pkt *request_packet(bool soa_query, ldns_rdf *qname)
{
    ldns_rr_list *updates;
    ldns_rr *rr;
    ldns_pkt *pkt;

    if (soa_query)
        return ldns_pkt_query_new(ldns_rdf_clone(qname), LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0);
    if (ldns_rr_new_frm_str(&rr, "_acme-challenge.www.example.test. 60 IN TXT \"v\"", 0, NULL,
                            NULL) != LDNS_STATUS_OK)
        abort();
    updates = ldns_rr_list_new();
    ldns_rr_list_push_rr(updates, rr);
    pkt = ldns_update_pkt_new(ldns_dname_new_frm_str("example.test."), LDNS_RR_CLASS_IN, NULL,
                              updates, NULL);
    ldns_rr_list_deep_free(updates);
    return pkt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dnsupdate_request req = {.server = "127.0.0.1:53"};
    ldns_rdf *qname, *zone = NULL;
    ldns_pkt *answer = NULL;
    uint8_t *wire;
    clm_err err;

    if (size < 1)
        return 0;
    qname = ldns_dname_new_frm_str("_acme-challenge.www.example.test.");
    if (dnsupdate_request_finish(&req, request_packet(data[0] & 2, qname),
                                 data[0] & 1 ? &key : NULL) != CLM_OK)
        abort();
    wire = malloc(size); /* a copy of its own, so reads past the answer are caught */
    memcpy(wire, data + 1, size - 1);
    if ((data[0] & 4) && size - 1 >= 2)
        ldns_write_uint16(wire, ldns_pkt_id(req.pkt));

    err = dnsupdate_answer_check(&req, wire, size - 1, &answer);
    if ((err == CLM_OK) != (answer != NULL))
        abort();
    if (err == CLM_OK) {
        if (ldns_pkt_id(answer) != ldns_pkt_id(req.pkt) || !ldns_pkt_qr(answer))
            abort();
        (void)dnsupdate_update_result(answer, req.server, "_acme-challenge.www.example.test.");
        err = dnsupdate_soa_zone(answer, qname, &zone);
        if ((err == CLM_OK) != (zone != NULL))
            abort();
        /* The zone is the name or one of its ancestors, never a stranger. */
        if (zone != NULL && ldns_dname_compare(zone, qname) != 0 &&
            !ldns_dname_is_subdomain(qname, zone))
            abort();
        ldns_rdf_deep_free(zone);
        ldns_pkt_free(answer);
    }
    free(wire);
    ldns_rdf_deep_free(qname);
    dnsupdate_request_free(&req);
    return 0;
}
