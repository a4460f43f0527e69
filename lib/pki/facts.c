/* lib/pki/facts.c: pki_facts memory, shared builders, comparison, names, and the
 * fast-then-OpenSSL entry point. */
#include "lib/pki/facts.h"

#include "lib/base/buf.h"
#include "lib/pki/der.h"
#include "lib/pki/facts_internal.h"
#include "lib/pki/name.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pki_facts *pki_facts_alloc(void)
{
    pki_facts *f = calloc(1, sizeof *f);

    if (f == NULL)
        return NULL;
    f->arena.chunk_size = 2048;
    f->path_len = -1;
    f->template_major = -1;
    f->template_minor = -1;
    return f;
}

void pki_facts_free(pki_facts *facts)
{
    if (facts == NULL)
        return;
    clm_arena_free(&facts->arena);
    free(facts);
}

char *pki_facts_text(pki_facts *f, const void *bytes, size_t len, bool ia5)
{
    const unsigned char *in = bytes;
    char *out = clm_arena_alloc(&f->arena, len + 1);

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = in[i];
        bool bad = c < 0x20 || c == 0x7f || (ia5 && c > 0x7f);
        out[i] = bad ? '?' : (char)c;
    }
    out[len] = '\0';
    return out;
}

char *pki_facts_hex(pki_facts *f, const unsigned char *bytes, size_t len)
{
    char *out = clm_arena_alloc(&f->arena, 2 * len + 1);

    if (out != NULL)
        clm_hex_encode(out, bytes, len);
    return out;
}

char *pki_facts_serial(pki_facts *f, const unsigned char *magnitude, size_t len, bool negative)
{
    static const char digits[] = "0123456789ABCDEF";
    char *out, *p;

    while (len > 1 && magnitude[0] == 0) {
        magnitude++;
        len--;
    }
    out = clm_arena_alloc(&f->arena, 2 * (len ? len : 1) + 2);
    if (out == NULL)
        return NULL;
    p = out;
    if (negative)
        *p++ = '-';
    if (len == 0) {
        *p++ = '0';
        *p++ = '0';
    }
    for (size_t i = 0; i < len; i++) {
        *p++ = digits[magnitude[i] >> 4];
        *p++ = digits[magnitude[i] & 0xf];
    }
    *p = '\0';
    return out;
}

char *pki_facts_ip(pki_facts *f, const unsigned char *bytes, size_t len)
{
    char text[64];

    if ((len == 4 || len == 16) && pki_name_format_ip(bytes, len, text, sizeof text) == CLM_OK) {
        size_t n = strlen(text);
        return clm_arena_memdup(&f->arena, text, n + 1);
    }
    char *out = clm_arena_alloc(&f->arena, 2 * len + 2);
    if (out != NULL) {
        out[0] = '#';
        clm_hex_encode(out + 1, bytes, len);
    }
    return out;
}

bool pki_facts_push(pki_facts *f, pki_strv *v, char *s)
{
    /* Capacity is implied by n: 4, then doubling (the arena cannot grow in place). */
    if (s == NULL)
        return false;
    if (v->n == 0 || (v->n >= 4 && (v->n & (v->n - 1)) == 0)) {
        size_t cap = v->n == 0 ? 4 : 2 * v->n;
        char **grown = clm_arena_alloc(&f->arena, cap * sizeof *grown);
        if (grown == NULL)
            return false;
        if (v->n > 0)
            memcpy(grown, v->v, v->n * sizeof *grown);
        v->v = grown;
    }
    v->v[v->n++] = s;
    return true;
}

bool pki_facts_push_eku(pki_facts *f, const char *oid)
{
    size_t n = f->ext_key_usage.n;
    char *copy = clm_arena_memdup(&f->arena, oid, strlen(oid) + 1);

    if (!pki_facts_push(f, &f->ext_key_usage, copy))
        return false;
    /* names: same implied capacity as the OID list */
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
        size_t cap = n == 0 ? 4 : 2 * n;
        const char **grown = clm_arena_alloc(&f->arena, cap * sizeof *grown);
        if (grown == NULL)
            return false;
        if (n > 0)
            memcpy(grown, f->ext_key_usage_names, n * sizeof *grown);
        f->ext_key_usage_names = grown;
    }
    f->ext_key_usage_names[n] = pki_eku_name(oid);
    return true;
}

bool pki_facts_digests(pki_facts *f, const void *der, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    if (EVP_Digest(der, len, md, &md_len, EVP_sha1(), NULL) != 1 || md_len != 20)
        return false;
    clm_hex_encode(f->sha1, md, 20);
    if (EVP_Digest(der, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
        return false;
    clm_hex_encode(f->sha256, md, 32);
    return true;
}

void pki_facts_set_self_signed(pki_facts *f, const unsigned char *subject, size_t subject_len,
                               const unsigned char *issuer, size_t issuer_len)
{
    f->self_signed = subject_len == issuer_len && memcmp(subject, issuer, subject_len) == 0;
    if (f->self_signed && f->subject_key_id != NULL && f->authority_key_id != NULL &&
        strcmp(f->subject_key_id, f->authority_key_id) != 0)
        f->self_signed = false;
}

char *pki_facts_oid(pki_facts *f, const unsigned char *der, size_t len)
{
    char text[PKI_DER_OID_TEXT_MAX];
    int n = pki_der_oid_text(der, len, text, sizeof text);

    if (n < 0)
        return NULL;
    return clm_arena_memdup(&f->arena, text, (size_t)n + 1);
}

/* ---- names ----------------------------------------------------------------------------- */

const char *pki_facts_curve(const unsigned char *oid, size_t len, int *bits)
{
    static const struct {
        const char *der;
        unsigned char len;
        int bits;
        const char *name;
    } curves[] = {
        {"\x2a\x86\x48\xce\x3d\x03\x01\x07", 8, 256, "P-256"},
        {"\x2b\x81\x04\x00\x22", 5, 384, "P-384"},
        {"\x2b\x81\x04\x00\x23", 5, 521, "P-521"},
        {"\x2b\x81\x04\x00\x21", 5, 224, "P-224"},
        {"\x2a\x86\x48\xce\x3d\x03\x01\x01", 8, 192, "P-192"},
        {"\x2b\x81\x04\x00\x0a", 5, 256, "secp256k1"},
        {"\x2b\x24\x03\x03\x02\x08\x01\x01\x07", 9, 256, "brainpoolP256r1"},
        {"\x2b\x24\x03\x03\x02\x08\x01\x01\x0b", 9, 384, "brainpoolP384r1"},
        {"\x2b\x24\x03\x03\x02\x08\x01\x01\x0d", 9, 512, "brainpoolP512r1"},
    };

    for (size_t i = 0; i < sizeof curves / sizeof *curves; i++) {
        if (curves[i].len == len && memcmp(curves[i].der, oid, len) == 0) {
            *bits = curves[i].bits;
            return curves[i].name;
        }
    }
    return NULL;
}

const char *pki_key_alg_name(pki_key_alg alg)
{
    static const char *const names[PKI_KEY_ALG_MAX] = {
        [PKI_KEY_ALG_UNKNOWN] = "unknown", [PKI_KEY_ALG_RSA] = "RSA",
        [PKI_KEY_ALG_RSA_PSS] = "RSA-PSS", [PKI_KEY_ALG_EC] = "EC",
        [PKI_KEY_ALG_ED25519] = "ED25519", [PKI_KEY_ALG_ED448] = "ED448",
        [PKI_KEY_ALG_DSA] = "DSA",
    };

    return (unsigned)alg < PKI_KEY_ALG_MAX ? names[alg] : "unknown";
}

const char *pki_eku_name(const char *oid)
{
    static const struct {
        const char *oid;
        const char *name;
    } ekus[] = {
        {"1.3.6.1.5.5.7.3.1", "serverAuth"},
        {"1.3.6.1.5.5.7.3.2", "clientAuth"},
        {"1.3.6.1.5.5.7.3.3", "codeSigning"},
        {"1.3.6.1.5.5.7.3.4", "emailProtection"},
        {"1.3.6.1.5.5.7.3.5", "ipsecEndSystem"},
        {"1.3.6.1.5.5.7.3.6", "ipsecTunnel"},
        {"1.3.6.1.5.5.7.3.7", "ipsecUser"},
        {"1.3.6.1.5.5.7.3.8", "timeStamping"},
        {"1.3.6.1.5.5.7.3.9", "OCSPSigning"},
        {"1.3.6.1.5.5.7.3.17", "ipsecIKE"},
        {"1.3.6.1.5.5.7.3.21", "secureShellClient"},
        {"1.3.6.1.5.5.7.3.22", "secureShellServer"},
        {"2.5.29.37.0", "anyExtendedKeyUsage"},
        {"1.3.6.1.5.2.3.4", "pkInitClientAuth"},
        {"1.3.6.1.5.2.3.5", "pkInitKDC"},
        {"1.3.6.1.4.1.311.20.2.2", "msSmartcardLogin"},
        {"1.3.6.1.4.1.311.10.3.4", "msEFS"},
        {"1.3.6.1.4.1.311.10.3.12", "msDocumentSigning"},
        {"1.3.6.1.4.1.311.2.1.21", "msCodeInd"},
        {"1.3.6.1.4.1.311.2.1.22", "msCodeCom"},
        {"1.3.6.1.4.1.311.10.3.1", "msCTLSign"},
        {"1.3.6.1.4.1.311.10.3.3", "msSGC"},
        {"2.16.840.1.113730.4.1", "nsSGC"},
    };

    for (size_t i = 0; oid != NULL && i < sizeof ekus / sizeof *ekus; i++) {
        if (strcmp(ekus[i].oid, oid) == 0)
            return ekus[i].name;
    }
    return NULL;
}

const char *pki_key_usage_name(unsigned bit)
{
    static const char *const names[] = {
        "digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement",
        "keyCertSign",      "cRLSign",        "encipherOnly",    "decipherOnly",
    };

    return bit < sizeof names / sizeof *names ? names[bit] : NULL;
}

/* ---- comparison ------------------------------------------------------------------------ */

static bool str_eq(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool differ_str(const char *field, const char *a, const char *b, char *why, size_t size)
{
    if (str_eq(a, b))
        return false;
    if (why != NULL)
        snprintf(why, size, "%s: \"%s\" != \"%s\"", field, a ? a : "(null)", b ? b : "(null)");
    return true;
}

static bool differ_int(const char *field, long long a, long long b, char *why, size_t size)
{
    if (a == b)
        return false;
    if (why != NULL)
        snprintf(why, size, "%s: %lld != %lld", field, a, b);
    return true;
}

static bool differ_strv(const char *field, const pki_strv *a, const pki_strv *b, char *why,
                        size_t size)
{
    char name[64];

    if (differ_int(field, (long long)a->n, (long long)b->n, why, size))
        return true;
    for (size_t i = 0; i < a->n; i++) {
        snprintf(name, sizeof name, "%s[%zu]", field, i);
        if (differ_str(name, a->v[i], b->v[i], why, size))
            return true;
    }
    return false;
}

bool pki_facts_equal(const pki_facts *a, const pki_facts *b, char *why, size_t size)
{
#define S(field) differ_str(#field, a->field, b->field, why, size)
#define I(field) differ_int(#field, (long long)a->field, (long long)b->field, why, size)
#define V(field) differ_strv(#field, &a->field, &b->field, why, size)
    if (why != NULL && size > 0)
        why[0] = '\0';
    if (I(version) || S(subject) || S(issuer) || S(common_name) || V(dns_names) ||
        V(ip_addresses) || V(emails) || V(uris) || S(serial) || I(not_before) || I(not_after) ||
        I(key_alg) || I(key_bits) || S(key_curve) || S(signature_algorithm) || S(signature_oid) ||
        S(sha1) || S(sha256) || S(subject_key_id) || S(authority_key_id) || I(has_key_usage) ||
        I(key_usage) || V(ext_key_usage) || I(has_basic_constraints) || I(is_ca) || I(path_len) ||
        V(ocsp_uris) || V(ca_issuer_uris) || V(crl_uris) || I(self_signed) || S(template_oid) ||
        I(template_major) || I(template_minor) || S(template_name) || I(bad_extensions))
        return false;
    for (size_t i = 0; i < a->ext_key_usage.n; i++) {
        if (differ_str("ext_key_usage_names", a->ext_key_usage_names[i], b->ext_key_usage_names[i],
                       why, size))
            return false;
    }
    return true;
#undef S
#undef I
#undef V
}

/* ---- the entry point --------------------------------------------------------------------- */

clm_err pki_facts_from_der(const void *der, size_t len, pki_facts **out)
{
    clm_err err = pki_facts_from_der_fast(der, len, out);

    if (err == CLM_OK || err == CLM_ERR_NO_MEMORY)
        return err;
    return pki_facts_from_der_openssl(der, len, out);
}
