/*
 * lib/pki/x509_fast.c: certificate facts from DER without OpenSSL's ASN.1 decoder.
 *
 * One pass over the certificate with the strict reader of der.c. Every construct the
 * OpenSSL path would read differently, or that this file does not model, makes the
 * whole call refuse (CLM_ERR_UNSUPPORTED), so that pki_facts_from_der() falls back to
 * the OpenSSL path: a refused certificate costs time, never a wrong fact. The rules
 * that keep the two paths equal are written next to the code that applies them.
 */
#include "lib/pki/facts_internal.h"
#include "lib/pki/oid.h"
#include "lib/pki/x509_fast_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest RSA modulus described here, in bits (larger: refused). */
#define RSA_BITS_MAX 16384

/* ---- general names ----------------------------------------------------------------------- */

enum gn_use { GN_CHECK, GN_SAN, GN_URI };

/* One GeneralName, checked; with GN_SAN its DNS/IP/email/URI value is recorded, with
 * GN_URI only a URI is (into *uris). */
static bool general_name(pki_fast *x, const pki_der_tlv *gn, enum gn_use use, pki_strv *uris)
{
    pki_facts *f = x->f;
    pki_der d = pki_der_contents(gn);
    pki_der_tlv a, b;
    pki_fast_name nm;

    switch (gn->tag) {
    case PKI_DER_CONTEXT(1): /* rfc822Name */
        return use != GN_SAN ||
               pki_facts_push(f, &f->emails, pki_facts_text(f, gn->value, gn->len, true)) ||
               pki_fast_oom(x);
    case PKI_DER_CONTEXT(2): /* dNSName */
        return use != GN_SAN ||
               pki_facts_push(f, &f->dns_names, pki_facts_text(f, gn->value, gn->len, true)) ||
               pki_fast_oom(x);
    case PKI_DER_CONTEXT(6): /* uniformResourceIdentifier */
        if (use == GN_SAN)
            uris = &f->uris;
        return use == GN_CHECK ||
               pki_facts_push(f, uris, pki_facts_text(f, gn->value, gn->len, true)) ||
               pki_fast_oom(x);
    case PKI_DER_CONTEXT(7): /* iPAddress */
        return use != GN_SAN ||
               pki_facts_push(f, &f->ip_addresses, pki_facts_ip(f, gn->value, gn->len)) ||
               pki_fast_oom(x);
    case PKI_DER_CONTEXT(8): /* registeredID */
        return pki_der_oid_valid(gn->value, gn->len) ||
               pki_fast_refuse(x, "registeredID is malformed");
    case PKI_DER_CONTEXT_CONSTRUCTED(0): /* otherName: OID, [0] EXPLICIT value */
        if (!pki_der_get(&d, PKI_DER_OID, &a) || !pki_der_oid_valid(a.value, a.len) ||
            !pki_der_get(&d, PKI_DER_CONTEXT_CONSTRUCTED(0), &b) || !pki_der_done(&d))
            return pki_fast_refuse(x, "otherName is malformed");
        d = pki_der_contents(&b);
        if (!pki_der_next(&d, &a) || !pki_der_done(&d))
            return pki_fast_refuse(x, "otherName value is malformed");
        if ((a.tag == PKI_DER_UTF8_STRING && pki_fast_utf8_valid(a.value, a.len)) ||
            a.tag == PKI_DER_IA5_STRING || a.tag == PKI_DER_PRINTABLE_STRING ||
            a.tag == PKI_DER_OCTET_STRING || a.tag == PKI_DER_SEQUENCE)
            return true;
        return pki_fast_refuse(x, "otherName value type not modelled");
    case PKI_DER_CONTEXT_CONSTRUCTED(4): /* directoryName: EXPLICIT Name */
        if (!pki_der_get(&d, PKI_DER_SEQUENCE, &a) || !pki_der_done(&d))
            return pki_fast_refuse(x, "directoryName is malformed");
        return pki_fast_parse_name(x, &a, &nm);
    default: return pki_fast_refuse(x, "GeneralName type not modelled");
    }
}

/* GeneralNames ::= SEQUENCE OF GeneralName, given its contents. */
static bool general_names(pki_fast *x, pki_der d, enum gn_use use, pki_strv *uris)
{
    while (!pki_der_done(&d)) {
        pki_der_tlv gn;
        if (!pki_der_next(&d, &gn) || !general_name(x, &gn, use, uris))
            return pki_fast_refuse(x, "GeneralNames is malformed");
    }
    return true;
}

/* ---- extensions ------------------------------------------------------------------------- */

static bool ext_san(pki_fast *x, pki_der *d)
{
    pki_der_tlv seq;

    if (!pki_der_get(d, PKI_DER_SEQUENCE, &seq))
        return pki_fast_refuse(x, "subjectAltName is not a SEQUENCE");
    return general_names(x, pki_der_contents(&seq), GN_SAN, NULL);
}

static bool ext_basic_constraints(pki_fast *x, pki_der *d)
{
    pki_der_tlv seq, t;
    pki_der c;
    uint64_t path_len;

    if (!pki_der_get(d, PKI_DER_SEQUENCE, &seq))
        return pki_fast_refuse(x, "basicConstraints is not a SEQUENCE");
    c = pki_der_contents(&seq);
    x->f->has_basic_constraints = true;
    if (pki_der_get(&c, PKI_DER_BOOLEAN, &t)) {
        bool ca;
        /* DEFAULT FALSE: DER encodes only TRUE */
        if (!pki_der_boolean(t.value, t.len, &ca) || !ca)
            return pki_fast_refuse(x, "basicConstraints cA is not DER TRUE");
        x->f->is_ca = true;
    }
    if (pki_der_get(&c, PKI_DER_INTEGER, &t)) {
        if (!pki_der_integer_uint(t.value, t.len, 0x7fffffff, &path_len))
            return pki_fast_refuse(x, "pathLenConstraint is negative or too large");
        x->f->path_len = (int)path_len;
    }
    return pki_der_done(&c) || pki_fast_refuse(x, "basicConstraints has extra fields");
}

static bool ext_key_usage(pki_fast *x, pki_der *d)
{
    pki_der_tlv t;
    const unsigned char *bits;
    size_t n;

    if (!pki_der_get(d, PKI_DER_BIT_STRING, &t) ||
        !pki_der_bit_string(t.value, t.len, &bits, &n, NULL))
        return pki_fast_refuse(x, "keyUsage is not a DER BIT STRING");
    x->f->has_key_usage = true;
    for (unsigned i = 0; i < 9; i++) {
        if (i / 8 < n && (bits[i / 8] & (0x80u >> (i % 8))))
            x->f->key_usage |= 1u << i;
    }
    return true;
}

static bool ext_eku(pki_fast *x, pki_der *d)
{
    pki_der_tlv seq, oid;
    pki_der c;
    char text[PKI_DER_OID_TEXT_MAX];

    if (!pki_der_get(d, PKI_DER_SEQUENCE, &seq))
        return pki_fast_refuse(x, "extendedKeyUsage is not a SEQUENCE");
    c = pki_der_contents(&seq);
    while (!pki_der_done(&c)) {
        if (!pki_der_get(&c, PKI_DER_OID, &oid) ||
            pki_der_oid_text(oid.value, oid.len, text, sizeof text) < 0)
            return pki_fast_refuse(x, "extendedKeyUsage holds a malformed OID");
        if (!pki_facts_push_eku(x->f, text))
            return pki_fast_oom(x);
    }
    return true;
}

static bool ext_ski(pki_fast *x, pki_der *d)
{
    pki_der_tlv t;

    if (!pki_der_get(d, PKI_DER_OCTET_STRING, &t))
        return pki_fast_refuse(x, "subjectKeyIdentifier is not an OCTET STRING");
    x->f->subject_key_id = pki_facts_hex(x->f, t.value, t.len);
    return x->f->subject_key_id != NULL || pki_fast_oom(x);
}

static bool ext_aki(pki_fast *x, pki_der *d)
{
    pki_der_tlv seq, t;
    pki_der c;

    if (!pki_der_get(d, PKI_DER_SEQUENCE, &seq))
        return pki_fast_refuse(x, "authorityKeyIdentifier is not a SEQUENCE");
    c = pki_der_contents(&seq);
    if (pki_der_get(&c, PKI_DER_CONTEXT(0), &t)) {
        x->f->authority_key_id = pki_facts_hex(x->f, t.value, t.len);
        if (x->f->authority_key_id == NULL)
            return pki_fast_oom(x);
    }
    if (pki_der_get(&c, PKI_DER_CONTEXT_CONSTRUCTED(1), &t) &&
        !general_names(x, pki_der_contents(&t), GN_CHECK, NULL))
        return false;
    if (pki_der_get(&c, PKI_DER_CONTEXT(2), &t) && !pki_der_integer_valid(t.value, t.len))
        return pki_fast_refuse(x, "authorityCertSerialNumber is malformed");
    return pki_der_done(&c) || pki_fast_refuse(x, "authorityKeyIdentifier has extra fields");
}

static bool ext_aia(pki_fast *x, pki_der *d)
{
    static const unsigned char ocsp[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01};
    static const unsigned char ca_issuers[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02};
    pki_der_tlv seq, ad, method, location;
    pki_der c, a;

    if (!pki_der_get(d, PKI_DER_SEQUENCE, &seq))
        return pki_fast_refuse(x, "authorityInfoAccess is not a SEQUENCE");
    c = pki_der_contents(&seq);
    while (!pki_der_done(&c)) {
        pki_strv *uris = NULL;

        if (!pki_der_get(&c, PKI_DER_SEQUENCE, &ad))
            return pki_fast_refuse(x, "AccessDescription is not a SEQUENCE");
        a = pki_der_contents(&ad);
        if (!pki_der_get(&a, PKI_DER_OID, &method) ||
            !pki_der_oid_valid(method.value, method.len) || !pki_der_next(&a, &location) ||
            !pki_der_done(&a))
            return pki_fast_refuse(x, "AccessDescription is malformed");
        if (method.len == sizeof ocsp && memcmp(method.value, ocsp, sizeof ocsp) == 0)
            uris = &x->f->ocsp_uris;
        else if (method.len == sizeof ca_issuers &&
                 memcmp(method.value, ca_issuers, sizeof ca_issuers) == 0)
            uris = &x->f->ca_issuer_uris;
        if (!general_name(x, &location, uris ? GN_URI : GN_CHECK, uris))
            return false;
    }
    return true;
}

static bool ext_crldp(pki_fast *x, pki_der *d)
{
    pki_der_tlv seq, dp, t, inner;
    pki_der c, p, n;

    if (!pki_der_get(d, PKI_DER_SEQUENCE, &seq))
        return pki_fast_refuse(x, "cRLDistributionPoints is not a SEQUENCE");
    c = pki_der_contents(&seq);
    while (!pki_der_done(&c)) {
        if (!pki_der_get(&c, PKI_DER_SEQUENCE, &dp))
            return pki_fast_refuse(x, "DistributionPoint is not a SEQUENCE");
        p = pki_der_contents(&dp);
        if (pki_der_get(&p, PKI_DER_CONTEXT_CONSTRUCTED(0), &t)) {
            n = pki_der_contents(&t);
            if (!pki_der_get(&n, PKI_DER_CONTEXT_CONSTRUCTED(0), &inner) || !pki_der_done(&n))
                return pki_fast_refuse(x, "distributionPoint is not a fullName");
            if (!general_names(x, pki_der_contents(&inner), GN_URI, &x->f->crl_uris))
                return false;
        }
        if (pki_der_get(&p, PKI_DER_CONTEXT(1), &t) &&
            !pki_der_bit_string(t.value, t.len, NULL, NULL, NULL))
            return pki_fast_refuse(x, "DistributionPoint reasons is malformed");
        if (pki_der_get(&p, PKI_DER_CONTEXT_CONSTRUCTED(2), &t) &&
            !general_names(x, pki_der_contents(&t), GN_CHECK, NULL))
            return false;
        if (!pki_der_done(&p))
            return pki_fast_refuse(x, "DistributionPoint has extra fields");
    }
    return true;
}

/* szOID_CERTIFICATE_TEMPLATE: SEQUENCE { templateID OID, major INTEGER, minor INTEGER OPT } */
static bool ext_template(pki_fast *x, pki_der *d)
{
    pki_der_tlv seq, oid, t;
    pki_der c;
    uint64_t v;

    if (!pki_der_get(d, PKI_DER_SEQUENCE, &seq))
        return pki_fast_refuse(x, "certificate template is not a SEQUENCE");
    c = pki_der_contents(&seq);
    if (!pki_der_get(&c, PKI_DER_OID, &oid) ||
        (x->f->template_oid = pki_facts_oid(x->f, oid.value, oid.len)) == NULL)
        return pki_fast_refuse(x, "certificate template OID is malformed");
    if (!pki_der_get(&c, PKI_DER_INTEGER, &t) ||
        !pki_der_integer_uint(t.value, t.len, 0x7fffffff, &v))
        return pki_fast_refuse(x, "certificate template major version is malformed");
    x->f->template_major = (int)v;
    if (pki_der_get(&c, PKI_DER_INTEGER, &t)) {
        if (!pki_der_integer_uint(t.value, t.len, 0x7fffffff, &v))
            return pki_fast_refuse(x, "certificate template minor version is malformed");
        x->f->template_minor = (int)v;
    }
    return pki_der_done(&c) || pki_fast_refuse(x, "certificate template has extra fields");
}

/* szOID_ENROLL_CERTTYPE_EXTENSION: the v1 template name, a BMPString as a rule. */
static bool ext_template_name(pki_fast *x, pki_der *d)
{
    pki_der_tlv t;

    if (!pki_der_next(d, &t) || pki_fast_string_width(t.tag) < 0 ||
        !pki_fast_string_valid(t.tag, t.value, t.len))
        return pki_fast_refuse(x, "certificate template name is not a string");
    x->f->template_name = pki_fast_string_text(x, t.tag, t.value, t.len);
    return x->f->template_name != NULL || pki_fast_oom(x);
}

static const struct {
    const char *oid;
    unsigned char len;
    unsigned bit;
    bool (*parse)(pki_fast *x, pki_der *d);
} extensions[] = {
    {"\x55\x1d\x11", 3, PKI_EXT_SUBJECT_ALT_NAME, ext_san},
    {"\x55\x1d\x13", 3, PKI_EXT_BASIC_CONSTRAINTS, ext_basic_constraints},
    {"\x55\x1d\x0f", 3, PKI_EXT_KEY_USAGE, ext_key_usage},
    {"\x55\x1d\x25", 3, PKI_EXT_EXT_KEY_USAGE, ext_eku},
    {"\x55\x1d\x0e", 3, PKI_EXT_SUBJECT_KEY_ID, ext_ski},
    {"\x55\x1d\x23", 3, PKI_EXT_AUTHORITY_KEY_ID, ext_aki},
    {"\x2b\x06\x01\x05\x05\x07\x01\x01", 8, PKI_EXT_AUTHORITY_INFO_ACCESS, ext_aia},
    {"\x55\x1d\x1f", 3, PKI_EXT_CRL_DISTRIBUTION_POINTS, ext_crldp},
    {"\x2b\x06\x01\x04\x01\x82\x37\x15\x07", 9, PKI_EXT_MS_TEMPLATE, ext_template},
    {"\x2b\x06\x01\x04\x01\x82\x37\x14\x02", 9, PKI_EXT_MS_TEMPLATE_NAME, ext_template_name},
};

/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension */
static bool parse_extensions(pki_fast *x, const pki_der_tlv *exts)
{
    pki_der d = pki_der_contents(exts);
    unsigned seen = 0;

    if (pki_der_done(&d))
        return pki_fast_refuse(x, "empty extensions");
    while (!pki_der_done(&d)) {
        pki_der_tlv ext, oid, t, value;
        pki_der e, v;

        if (!pki_der_get(&d, PKI_DER_SEQUENCE, &ext))
            return pki_fast_refuse(x, "extension is not a SEQUENCE");
        e = pki_der_contents(&ext);
        if (!pki_der_get(&e, PKI_DER_OID, &oid) || !pki_der_oid_valid(oid.value, oid.len))
            return pki_fast_refuse(x, "extension OID is malformed");
        if (pki_der_get(&e, PKI_DER_BOOLEAN, &t)) {
            bool critical;
            if (!pki_der_boolean(t.value, t.len, &critical) || !critical)
                return pki_fast_refuse(x, "extension critical flag is not DER TRUE");
        }
        if (!pki_der_get(&e, PKI_DER_OCTET_STRING, &value) || !pki_der_done(&e))
            return pki_fast_refuse(x, "extension value is malformed");
        for (size_t i = 0; i < sizeof extensions / sizeof *extensions; i++) {
            if (oid.len != extensions[i].len || memcmp(oid.value, extensions[i].oid, oid.len) != 0)
                continue;
            if (seen & extensions[i].bit)
                return pki_fast_refuse(x, "duplicate extension");
            seen |= extensions[i].bit;
            v = pki_der_contents(&value);
            if (!extensions[i].parse(x, &v))
                return false;
            if (!pki_der_done(&v))
                return pki_fast_refuse(x, "extension value has trailing bytes");
            break;
        }
    }
    return true;
}

/* ---- keys and algorithms ------------------------------------------------------------------ */

/* AlgorithmIdentifier ::= SEQUENCE { OID, parameters ANY OPTIONAL }; parameters absent,
 * NULL, an OID or a SEQUENCE (others: refused). */
static bool parse_algorithm(pki_fast *x, const pki_der_tlv *alg, pki_der_tlv *oid,
                            pki_der_tlv *params, bool *has_params)
{
    pki_der d = pki_der_contents(alg);

    if (!pki_der_get(&d, PKI_DER_OID, oid) || !pki_der_oid_valid(oid->value, oid->len))
        return pki_fast_refuse(x, "algorithm OID is malformed");
    *has_params = !pki_der_done(&d);
    if (*has_params) {
        if (!pki_der_next(&d, params) || !pki_der_done(&d))
            return pki_fast_refuse(x, "algorithm parameters are malformed");
        if (!(params->tag == PKI_DER_NULL && params->len == 0) && params->tag != PKI_DER_OID &&
            params->tag != PKI_DER_SEQUENCE)
            return pki_fast_refuse(x, "algorithm parameters of a type not modelled");
    }
    return true;
}

static int bit_length(const unsigned char *v, size_t len)
{
    while (len > 0 && v[0] == 0) {
        v++;
        len--;
    }
    if (len == 0)
        return 0;
    int top = 0;
    for (unsigned c = v[0]; c != 0; c >>= 1)
        top++;
    return (int)(len - 1) * 8 + top;
}

static bool parse_public_key(pki_fast *x, const pki_der_tlv *spki)
{
    static const unsigned char rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
    static const unsigned char ec[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
    static const unsigned char ed25519[] = {0x2b, 0x65, 0x70};
    static const unsigned char ed448[] = {0x2b, 0x65, 0x71};
    pki_der d = pki_der_contents(spki);
    pki_der_tlv alg, oid, params, key, n, e;
    const unsigned char *bits;
    size_t nbytes;
    unsigned unused;
    bool has_params;
    pki_facts *f = x->f;

    if (!pki_der_get(&d, PKI_DER_SEQUENCE, &alg) ||
        !parse_algorithm(x, &alg, &oid, &params, &has_params) ||
        !pki_der_get(&d, PKI_DER_BIT_STRING, &key) || !pki_der_done(&d) ||
        !pki_der_bit_string(key.value, key.len, &bits, &nbytes, &unused) || unused != 0)
        return pki_fast_refuse(x, "subjectPublicKeyInfo is malformed");
#define IS(a) (oid.len == sizeof(a) && memcmp(oid.value, (a), sizeof(a)) == 0)
    if (IS(rsa)) {
        pki_der k = pki_der_make(bits, nbytes), r;
        pki_der_tlv seq;
        if (!has_params || params.tag != PKI_DER_NULL)
            return pki_fast_refuse(x, "RSA key parameters are not NULL");
        if (!pki_der_get(&k, PKI_DER_SEQUENCE, &seq) || !pki_der_done(&k))
            return pki_fast_refuse(x, "RSA key is malformed");
        r = pki_der_contents(&seq);
        if (!pki_der_get(&r, PKI_DER_INTEGER, &n) || !pki_der_get(&r, PKI_DER_INTEGER, &e) ||
            !pki_der_done(&r) || !pki_der_integer_valid(n.value, n.len) ||
            !pki_der_integer_valid(e.value, e.len) || (n.value[0] & 0x80) || (e.value[0] & 0x80))
            return pki_fast_refuse(x, "RSA key is malformed");
        f->key_alg = PKI_KEY_ALG_RSA;
        f->key_bits = bit_length(n.value, n.len);
        if (f->key_bits == 0 || bit_length(e.value, e.len) == 0 || f->key_bits > RSA_BITS_MAX)
            return pki_fast_refuse(x, "RSA key size not modelled");
    } else if (IS(ec)) {
        const char *curve;
        if (!has_params || params.tag != PKI_DER_OID ||
            (curve = pki_facts_curve(params.value, params.len, &f->key_bits)) == NULL)
            return pki_fast_refuse(x, "EC key without a named curve the fast path knows");
        f->key_alg = PKI_KEY_ALG_EC;
        f->key_curve = clm_arena_memdup(&f->arena, curve, strlen(curve) + 1);
        if (f->key_curve == NULL)
            return pki_fast_oom(x);
    } else if (IS(ed25519) || IS(ed448)) {
        bool is25519 = IS(ed25519);
        if (has_params || nbytes != (is25519 ? 32u : 57u))
            return pki_fast_refuse(x, "EdDSA key is malformed");
        f->key_alg = is25519 ? PKI_KEY_ALG_ED25519 : PKI_KEY_ALG_ED448;
        f->key_bits = is25519 ? 256 : 456; /* as OpenSSL 3 reports them */
    } else {
        return pki_fast_refuse(x, "public key algorithm not modelled");
    }
#undef IS
    return true;
}

/* ---- the certificate --------------------------------------------------------------------- */

static bool parse_certificate(pki_fast *x, const unsigned char *der, size_t len)
{
    pki_facts *f = x->f;
    pki_der d = pki_der_make(der, len), c, t;
    pki_der_tlv cert, tbs, alg, sig, tlv, serial, oid, params, validity, nb, na, issuer_tlv,
        subject_tlv;
    pki_fast_name issuer, subject;
    bool has_params;
    uint64_t version;

    if (!pki_der_get(&d, PKI_DER_SEQUENCE, &cert) || !pki_der_done(&d))
        return pki_fast_refuse(x, "not one DER SEQUENCE");
    c = pki_der_contents(&cert);
    if (!pki_der_get(&c, PKI_DER_SEQUENCE, &tbs) || !pki_der_get(&c, PKI_DER_SEQUENCE, &alg) ||
        !pki_der_get(&c, PKI_DER_BIT_STRING, &sig) || !pki_der_done(&c))
        return pki_fast_refuse(x, "not a certificate");
    if (!pki_der_bit_string(sig.value, sig.len, NULL, NULL, NULL) || sig.value[0] != 0)
        return pki_fast_refuse(x, "signature is not a whole-byte BIT STRING");
    if (!parse_algorithm(x, &alg, &oid, &params, &has_params))
        return false;
    t = pki_der_contents(&tbs);
    f->version = 1;
    if (pki_der_get(&t, PKI_DER_CONTEXT_CONSTRUCTED(0), &tlv)) {
        pki_der v = pki_der_contents(&tlv);
        pki_der_tlv n;
        /* DEFAULT v1: DER encodes only v2 (1) and v3 (2) */
        if (!pki_der_get(&v, PKI_DER_INTEGER, &n) || !pki_der_done(&v) ||
            !pki_der_integer_uint(n.value, n.len, 2, &version) || version == 0)
            return pki_fast_refuse(x, "version is not v2 or v3 in DER");
        f->version = (int)version + 1;
    }
    if (!pki_der_get(&t, PKI_DER_INTEGER, &serial) ||
        !pki_der_integer_valid(serial.value, serial.len))
        return pki_fast_refuse(x, "serialNumber is malformed");
    if (!pki_der_get(&t, PKI_DER_SEQUENCE, &tlv) || tlv.total != alg.total ||
        memcmp(tlv.start, alg.start, alg.total) != 0)
        return pki_fast_refuse(x, "the two signature algorithms differ");
    if (!pki_der_get(&t, PKI_DER_SEQUENCE, &issuer_tlv) ||
        !pki_der_get(&t, PKI_DER_SEQUENCE, &validity) ||
        !pki_der_get(&t, PKI_DER_SEQUENCE, &subject_tlv) ||
        !pki_der_get(&t, PKI_DER_SEQUENCE, &tlv))
        return pki_fast_refuse(x, "TBSCertificate is malformed");
    if (!parse_public_key(x, &tlv))
        return false;
    for (unsigned char uid = 1; uid <= 2; uid++) {
        if (pki_der_get(&t, PKI_DER_CONTEXT(uid), &tlv) &&
            (f->version < 2 || !pki_der_bit_string(tlv.value, tlv.len, NULL, NULL, NULL)))
            return pki_fast_refuse(x, "unique identifier is malformed");
    }
    if (pki_der_get(&t, PKI_DER_CONTEXT_CONSTRUCTED(3), &tlv)) {
        pki_der e = pki_der_contents(&tlv);
        pki_der_tlv exts;
        if (f->version != 3 || !pki_der_get(&e, PKI_DER_SEQUENCE, &exts) || !pki_der_done(&e))
            return pki_fast_refuse(x, "extensions are malformed or not in a v3 certificate");
        if (!parse_extensions(x, &exts))
            return false;
    }
    if (!pki_der_done(&t))
        return pki_fast_refuse(x, "TBSCertificate has extra fields");

    /* validity */
    pki_der vd = pki_der_contents(&validity);
    if (!pki_der_next(&vd, &nb) || !pki_der_next(&vd, &na) || !pki_der_done(&vd) ||
        !pki_der_time(nb.tag, nb.value, nb.len, &f->not_before) ||
        !pki_der_time(na.tag, na.value, na.len, &f->not_after))
        return pki_fast_refuse(x, "validity is not in the RFC 5280 time forms");

    /* serial: magnitude of the two's complement value */
    if (serial.value[0] & 0x80) {
        unsigned char *mag = clm_arena_alloc(&f->arena, serial.len);
        int borrow = 1;
        if (mag == NULL)
            return pki_fast_oom(x);
        for (size_t i = serial.len; i-- > 0;) {
            int v = (unsigned char)~serial.value[i] + borrow;
            mag[i] = (unsigned char)v;
            borrow = v >> 8;
        }
        f->serial = pki_facts_serial(f, mag, serial.len, true);
    } else {
        f->serial = pki_facts_serial(f, serial.value, serial.len, false);
    }

    /* signature algorithm: OpenSSL's long name, else its short name, else dotted */
    const pki_oid_entry *e = pki_oid_find(oid.value, oid.len);
    f->signature_oid = pki_facts_oid(f, oid.value, oid.len);
    if (f->signature_oid == NULL)
        return pki_fast_refuse(x, "signature algorithm OID has an arc beyond 64 bits");
    if (e != NULL)
        f->signature_algorithm = clm_arena_strdup(&f->arena, e->ln ? e->ln : e->sn);
    else
        f->signature_algorithm = f->signature_oid;

    if (f->serial == NULL || f->signature_algorithm == NULL)
        return pki_fast_oom(x);
    if (!pki_fast_parse_name(x, &issuer_tlv, &issuer) ||
        !pki_fast_parse_name(x, &subject_tlv, &subject))
        return false;
    if ((f->issuer = pki_fast_name_text(x, &issuer)) == NULL ||
        (f->subject = pki_fast_name_text(x, &subject)) == NULL || !pki_fast_name_cn(x, &subject))
        return false;
    pki_facts_set_self_signed(f, subject_tlv.start, subject_tlv.total, issuer_tlv.start,
                              issuer_tlv.total);
    if (!pki_facts_digests(f, der, len))
        return pki_fast_refuse(x, "digest failed");
    return true;
}

clm_err pki_facts_from_der_fast(const void *der, size_t len, pki_facts **out)
{
    pki_fast x = {NULL, NULL, false};

    *out = NULL;
    if (der == NULL || len == 0 || len > PKI_FACTS_DER_MAX)
        return clm_fail(CLM_ERR_UNSUPPORTED, "fast path: empty or oversized input");
    x.f = pki_facts_alloc();
    if (x.f == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if (!parse_certificate(&x, der, len)) {
        pki_facts_free(x.f);
        if (x.no_memory)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        return clm_fail(CLM_ERR_UNSUPPORTED, "fast path: %s", x.why ? x.why : "refused");
    }
    *out = x.f;
    return CLM_OK;
}
