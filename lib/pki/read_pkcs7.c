/*
 * lib/pki/read_pkcs7.c: the certificates of a PKCS#7 / CMS SignedData (RFC 2315, RFC
 * 5652), the ".p7b"/".p7c" bundle format of Windows and of `openssl crl2pkcs7`. Walked
 * with the BER reader of der.c (Windows and Java write indefinite lengths), without the
 * TLS library: each certificate is handed on as the bytes it has in the file.
 *
 *   ContentInfo ::= SEQUENCE { contentType OID (signedData), content [0] EXPLICIT
 *       SignedData ::= SEQUENCE { version INTEGER, digestAlgorithms SET,
 *           encapContentInfo SEQUENCE, certificates [0] IMPLICIT SET OF ... OPTIONAL,
 *           crls [1] IMPLICIT ... OPTIONAL, signerInfos SET } }
 */
#include "lib/pki/der.h"
#include "lib/pki/read_internal.h"

#include <string.h>

static const unsigned char oid_signed_data[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                                0x0d, 0x01, 0x07, 0x02};

static clm_err malformed(const pki_reader *r, const char *where, const char *what)
{
    (void)r;
    return clm_fail(CLM_ERR_PARSE, "%s: not a PKCS#7 certificate bundle: %s", where, what);
}

clm_err pki_read_pkcs7(pki_reader *r, const unsigned char *data, size_t len, const char *where)
{
    pki_der d = pki_der_make(data, len), ci, content, sd;
    pki_der_tlv t, oid, certs;
    size_t n = 0;

    if (!pki_ber_next(&d, &t) || t.tag != PKI_DER_SEQUENCE)
        return malformed(r, where, "truncated or damaged");
    if (!pki_der_done(&d))
        return malformed(r, where, "bytes after the structure");
    ci = pki_der_contents(&t);
    if (!pki_ber_next(&ci, &oid) || oid.tag != PKI_DER_OID)
        return malformed(r, where, "no content type");
    if (oid.len != sizeof oid_signed_data || memcmp(oid.value, oid_signed_data, oid.len) != 0)
        return malformed(r, where, "the content is not SignedData");
    if (!pki_ber_next(&ci, &t) || t.tag != PKI_DER_CONTEXT_CONSTRUCTED(0) || !pki_der_done(&ci))
        return malformed(r, where, "no SignedData content");
    content = pki_der_contents(&t);
    if (!pki_ber_next(&content, &t) || t.tag != PKI_DER_SEQUENCE || !pki_der_done(&content))
        return malformed(r, where, "SignedData is not a SEQUENCE");
    sd = pki_der_contents(&t);
    if (!pki_ber_next(&sd, &t) || t.tag != PKI_DER_INTEGER || !pki_ber_next(&sd, &t) ||
        t.tag != PKI_DER_SET || !pki_ber_next(&sd, &t) || t.tag != PKI_DER_SEQUENCE)
        return malformed(r, where, "SignedData is damaged");
    if (!pki_der_peek(&sd, PKI_DER_CONTEXT_CONSTRUCTED(0)))
        return CLM_OK; /* no certificates: pki_read() reports that */
    if (!pki_ber_next(&sd, &certs))
        return malformed(r, where, "the certificate set is truncated");
    pki_der set = pki_der_contents(&certs);
    while (!pki_der_done(&set)) {
        pki_der_tlv cert;
        pki_item *item;

        if (!pki_ber_next(&set, &cert))
            return malformed(r, where, "a certificate is truncated");
        if (cert.tag != PKI_DER_SEQUENCE)
            continue; /* attribute certificates and other CertificateChoices */
        n++;
        item = pki_reader_add(r, PKI_ITEM_CERT, "%s: certificate %zu", where, n);
        if (item == NULL)
            return r->failure;
        if (!pki_read_is_certificate(cert.start, cert.total, NULL)) {
            clm_fail(CLM_ERR_PARSE, "not a certificate");
            if (pki_reader_item_fail(r, CLM_ERR_PARSE) != CLM_OK)
                return CLM_ERR_NO_MEMORY;
        } else if (!pki_reader_set_der(item, cert.start, cert.total)) {
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        }
    }
    return CLM_OK;
}
