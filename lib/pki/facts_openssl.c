/*
 * lib/pki/facts_openssl.c: certificate facts through the TLS library's own decoders
 * (d2i_X509, X509V3_get_d2i, X509_NAME_print_ex): the reference that x509_fast.c is
 * tested against, and the path for whatever the fast path refuses. Only API that
 * OpenSSL 3 and BoringSSL share (TOOLCHAIN.md).
 */
#include "lib/base/buf.h"
#include "lib/pki/facts.h"
#include "lib/pki/facts_internal.h"
#include "lib/pki/pki_internal.h"

#include <limits.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <string.h>

static clm_err no_memory(void)
{
    return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
}

/* OBJ_obj2txt into the arena: dotted, or (dotted false) the long name where known. */
static char *obj_text(pki_facts *f, const ASN1_OBJECT *obj, bool dotted)
{
    char small[128];
    int n = OBJ_obj2txt(small, sizeof small, obj, dotted ? 1 : 0);
    char *out;

    if (n < 0)
        return NULL;
    if ((size_t)n < sizeof small)
        return clm_arena_memdup(&f->arena, small, (size_t)n + 1);
    out = clm_arena_alloc(&f->arena, (size_t)n + 1);
    if (out != NULL && OBJ_obj2txt(out, n + 1, obj, dotted ? 1 : 0) != n)
        return NULL;
    return out;
}

clm_err pki_facts_openssl_name(pki_facts *f, const X509_NAME *name, char **out)
{
    const unsigned long flags = XN_FLAG_RFC2253 & ~(unsigned long)ASN1_STRFLGS_ESC_MSB;
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len;

    *out = NULL;
    if (bio == NULL)
        return no_memory();
    if (X509_NAME_print_ex(bio, name, 0, flags) < 0) {
        BIO_free(bio);
        return pki_fail_ssl(CLM_ERR_PARSE, "a name cannot be printed");
    }
    len = BIO_get_mem_data(bio, &data);
    if (len >= 0) {
        *out = clm_arena_alloc(&f->arena, (size_t)len + 1);
        if (*out != NULL && len > 0)
            memcpy(*out, data, (size_t)len);
    }
    BIO_free(bio);
    return *out != NULL ? CLM_OK : no_memory();
}

clm_err pki_facts_openssl_cn(pki_facts *f, const X509_NAME *subject)
{
    int idx = -1, next;
    unsigned char *utf8 = NULL;
    int len;

    while ((next = X509_NAME_get_index_by_NID(subject, NID_commonName, idx)) >= 0)
        idx = next;
    if (idx < 0)
        return CLM_OK;
    len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
    if (len < 0) {
        ERR_clear_error();
        return CLM_OK; /* not text: no CN */
    }
    f->common_name = pki_facts_text(f, utf8, (size_t)len, false);
    OPENSSL_free(utf8);
    return f->common_name != NULL ? CLM_OK : no_memory();
}

clm_err pki_facts_openssl_key(pki_facts *f, X509_PUBKEY *pub, EVP_PKEY *pkey)
{
    ASN1_OBJECT *alg_obj = NULL;
    X509_ALGOR *alg = NULL;
    const void *param = NULL;
    int ptype = 0, curve = NID_undef;

    if (pub == NULL || X509_PUBKEY_get0_param(&alg_obj, NULL, NULL, &alg, pub) != 1)
        return clm_fail(CLM_ERR_PARSE, "no public key");
    switch (OBJ_obj2nid(alg_obj)) {
    case NID_rsaEncryption: f->key_alg = PKI_KEY_ALG_RSA; break;
    case NID_rsassaPss: f->key_alg = PKI_KEY_ALG_RSA_PSS; break;
    case NID_X9_62_id_ecPublicKey: f->key_alg = PKI_KEY_ALG_EC; break;
    case NID_ED25519: f->key_alg = PKI_KEY_ALG_ED25519; break;
    case NID_ED448: f->key_alg = PKI_KEY_ALG_ED448; break;
    case NID_dsa: f->key_alg = PKI_KEY_ALG_DSA; break;
    default: f->key_alg = PKI_KEY_ALG_UNKNOWN; break;
    }
    if (pkey != NULL && EVP_PKEY_bits(pkey) > 0)
        f->key_bits = EVP_PKEY_bits(pkey);
    /* EdDSA: one size per algorithm, as OpenSSL 3 reports it (BoringSSL says 253) */
    if (pkey != NULL && f->key_alg == PKI_KEY_ALG_ED25519)
        f->key_bits = 256;
    if (pkey != NULL && f->key_alg == PKI_KEY_ALG_ED448)
        f->key_bits = 456;
    if (f->key_alg != PKI_KEY_ALG_EC)
        return CLM_OK;
    X509_ALGOR_get0(NULL, &ptype, &param, alg);
    if (ptype != V_ASN1_OBJECT || param == NULL)
        return CLM_OK; /* explicit parameters: no name */
    curve = OBJ_obj2nid(param);
    if (curve == NID_undef) {
        f->key_curve = obj_text(f, param, true);
        return f->key_curve != NULL ? CLM_OK : no_memory();
    }
    const char *name = EC_curve_nid2nist(curve);
    if (name == NULL)
        name = OBJ_nid2sn(curve);
    f->key_curve = clm_arena_strdup(&f->arena, name);
    if (f->key_curve == NULL)
        return no_memory();
    if (f->key_bits == 0) {
        /* the point did not decode: the curve still says how large the key is */
        EC_GROUP *group = EC_GROUP_new_by_curve_name(curve);
        if (group != NULL)
            f->key_bits = (int)EC_GROUP_order_bits(group);
        EC_GROUP_free(group);
        ERR_clear_error();
    }
    return CLM_OK;
}

clm_err pki_facts_openssl_signature(pki_facts *f, const X509_ALGOR *alg)
{
    const ASN1_OBJECT *obj = NULL;

    X509_ALGOR_get0(&obj, NULL, NULL, alg);
    if (obj == NULL)
        return clm_fail(CLM_ERR_PARSE, "no signature algorithm");
    f->signature_algorithm = obj_text(f, obj, false);
    f->signature_oid = obj_text(f, obj, true);
    return f->signature_algorithm && f->signature_oid ? CLM_OK : no_memory();
}

/* ---- extensions ------------------------------------------------------------------------- */

/* X509V3_get_d2i, recording an extension that is there but unusable. */
static void *ext_d2i(pki_facts *f, const STACK_OF(X509_EXTENSION) * exts, int nid, unsigned bit)
{
    int critical = -1;
    void *value = exts ? X509V3_get_d2i(exts, nid, &critical, NULL) : NULL;

    if (value == NULL && critical != -1)
        f->bad_extensions |= bit; /* -2: twice; otherwise: does not decode */
    ERR_clear_error();
    return value;
}

static char *ia5_text(pki_facts *f, const ASN1_STRING *s)
{
    return pki_facts_text(f, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), true);
}

static bool san(pki_facts *f, const STACK_OF(X509_EXTENSION) * exts)
{
    GENERAL_NAMES *names = ext_d2i(f, exts, NID_subject_alt_name, PKI_EXT_SUBJECT_ALT_NAME);
    bool ok = true;

    for (int i = 0; names != NULL && ok && i < (int)sk_GENERAL_NAME_num(names); i++) {
        int type;
        const ASN1_STRING *s = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names, i), &type);
        switch (type) {
        case GEN_DNS: ok = pki_facts_push(f, &f->dns_names, ia5_text(f, s)); break;
        case GEN_EMAIL: ok = pki_facts_push(f, &f->emails, ia5_text(f, s)); break;
        case GEN_URI: ok = pki_facts_push(f, &f->uris, ia5_text(f, s)); break;
        case GEN_IPADD:
            ok = pki_facts_push(
                f, &f->ip_addresses,
                pki_facts_ip(f, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s)));
            break;
        default: break;
        }
    }
    GENERAL_NAMES_free(names);
    return ok;
}

/* URIs of a GeneralNames into v. */
static bool uris(pki_facts *f, const GENERAL_NAMES *names, pki_strv *v)
{
    for (int i = 0; names != NULL && i < (int)sk_GENERAL_NAME_num(names); i++) {
        int type;
        const ASN1_STRING *s = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names, i), &type);
        if (type == GEN_URI && !pki_facts_push(f, v, ia5_text(f, s)))
            return false;
    }
    return true;
}

static bool basic_constraints(pki_facts *f, const STACK_OF(X509_EXTENSION) * exts)
{
    BASIC_CONSTRAINTS *bc = ext_d2i(f, exts, NID_basic_constraints, PKI_EXT_BASIC_CONSTRAINTS);

    if (bc == NULL)
        return true;
    f->has_basic_constraints = true;
    f->is_ca = bc->ca != 0;
    if (bc->pathlen != NULL) {
        long v = ASN1_INTEGER_get(bc->pathlen);
        if (ASN1_STRING_type(bc->pathlen) == V_ASN1_NEG_INTEGER || v < 0 || v > INT_MAX)
            f->bad_extensions |= PKI_EXT_BASIC_CONSTRAINTS;
        else
            f->path_len = (int)v;
    }
    BASIC_CONSTRAINTS_free(bc);
    ERR_clear_error();
    return true;
}

static bool key_usages(pki_facts *f, const STACK_OF(X509_EXTENSION) * exts)
{
    ASN1_BIT_STRING *ku = ext_d2i(f, exts, NID_key_usage, PKI_EXT_KEY_USAGE);
    EXTENDED_KEY_USAGE *eku = ext_d2i(f, exts, NID_ext_key_usage, PKI_EXT_EXT_KEY_USAGE);
    bool ok = true;

    if (ku != NULL) {
        f->has_key_usage = true;
        for (int i = 0; i < 9; i++) {
            if (ASN1_BIT_STRING_get_bit(ku, i))
                f->key_usage |= 1u << i;
        }
    }
    for (int i = 0; eku != NULL && ok && i < (int)sk_ASN1_OBJECT_num(eku); i++) {
        char *oid = obj_text(f, sk_ASN1_OBJECT_value(eku, i), true);
        ok = oid != NULL && pki_facts_push_eku(f, oid);
    }
    ASN1_BIT_STRING_free(ku);
    EXTENDED_KEY_USAGE_free(eku);
    return ok;
}

static bool key_ids(pki_facts *f, const STACK_OF(X509_EXTENSION) * exts)
{
    ASN1_OCTET_STRING *ski = ext_d2i(f, exts, NID_subject_key_identifier, PKI_EXT_SUBJECT_KEY_ID);
    AUTHORITY_KEYID *aki = ext_d2i(f, exts, NID_authority_key_identifier, PKI_EXT_AUTHORITY_KEY_ID);
    bool ok = true;

    if (ski != NULL)
        ok = (f->subject_key_id = pki_facts_hex(f, ASN1_STRING_get0_data(ski),
                                                (size_t)ASN1_STRING_length(ski))) != NULL;
    if (ok && aki != NULL && aki->keyid != NULL)
        ok = (f->authority_key_id = pki_facts_hex(f, ASN1_STRING_get0_data(aki->keyid),
                                                  (size_t)ASN1_STRING_length(aki->keyid))) != NULL;
    ASN1_OCTET_STRING_free(ski);
    AUTHORITY_KEYID_free(aki);
    return ok;
}

static bool access_points(pki_facts *f, const STACK_OF(X509_EXTENSION) * exts)
{
    AUTHORITY_INFO_ACCESS *aia = ext_d2i(f, exts, NID_info_access, PKI_EXT_AUTHORITY_INFO_ACCESS);
    CRL_DIST_POINTS *dps =
        ext_d2i(f, exts, NID_crl_distribution_points, PKI_EXT_CRL_DISTRIBUTION_POINTS);
    bool ok = true;

    for (int i = 0; aia != NULL && ok && i < (int)sk_ACCESS_DESCRIPTION_num(aia); i++) {
        ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
        int method = OBJ_obj2nid(ad->method), type;
        const ASN1_STRING *s = GENERAL_NAME_get0_value(ad->location, &type);
        pki_strv *v = method == NID_ad_OCSP         ? &f->ocsp_uris
                      : method == NID_ad_ca_issuers ? &f->ca_issuer_uris
                                                    : NULL;
        if (v != NULL && type == GEN_URI)
            ok = pki_facts_push(f, v, ia5_text(f, s));
    }
    for (int i = 0; dps != NULL && ok && i < (int)sk_DIST_POINT_num(dps); i++) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
        if (dp->distpoint != NULL && dp->distpoint->type == 0)
            ok = uris(f, dp->distpoint->name.fullname, &f->crl_uris);
    }
    AUTHORITY_INFO_ACCESS_free(aia);
    CRL_DIST_POINTS_free(dps);
    return ok;
}

/* The one extension with this dotted OID, or NULL; twice marks it bad. */
static const ASN1_OCTET_STRING *ext_by_oid(pki_facts *f, const STACK_OF(X509_EXTENSION) * exts,
                                           const char *oid, unsigned bit)
{
    const ASN1_OCTET_STRING *found = NULL;
    char text[64];

    for (int i = 0; exts != NULL && i < (int)sk_X509_EXTENSION_num(exts); i++) {
        X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);
        if (OBJ_obj2txt(text, sizeof text, X509_EXTENSION_get_object(ext), 1) <= 0 ||
            strcmp(text, oid) != 0)
            continue;
        if (found != NULL) {
            f->bad_extensions |= bit;
            return NULL;
        }
        found = X509_EXTENSION_get_data(ext);
    }
    return found;
}

/* Microsoft's template extensions, which OpenSSL has no decoder for. */
static bool templates(pki_facts *f, const STACK_OF(X509_EXTENSION) * exts)
{
    const ASN1_OCTET_STRING *v2 = ext_by_oid(f, exts, PKI_OID_MS_TEMPLATE, PKI_EXT_MS_TEMPLATE);
    const ASN1_OCTET_STRING *v1 =
        ext_by_oid(f, exts, PKI_OID_MS_TEMPLATE_NAME, PKI_EXT_MS_TEMPLATE_NAME);
    bool ok = true;

    if (v2 != NULL) {
        const unsigned char *p = ASN1_STRING_get0_data(v2);
        const unsigned char *end = p + ASN1_STRING_length(v2);
        ASN1_SEQUENCE_ANY *seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long)(end - p));
        int n = seq ? (int)sk_ASN1_TYPE_num(seq) : 0;
        long major = -1, minor = -1;
        bool good = seq != NULL && p == end && (n == 2 || n == 3) &&
                    ASN1_TYPE_get(sk_ASN1_TYPE_value(seq, 0)) == V_ASN1_OBJECT &&
                    ASN1_TYPE_get(sk_ASN1_TYPE_value(seq, 1)) == V_ASN1_INTEGER &&
                    (n == 2 || ASN1_TYPE_get(sk_ASN1_TYPE_value(seq, 2)) == V_ASN1_INTEGER);
        if (good) {
            major = ASN1_INTEGER_get(sk_ASN1_TYPE_value(seq, 1)->value.integer);
            if (n == 3)
                minor = ASN1_INTEGER_get(sk_ASN1_TYPE_value(seq, 2)->value.integer);
            good = major >= 0 && major <= INT_MAX && (n == 2 || (minor >= 0 && minor <= INT_MAX));
        }
        if (good) {
            f->template_oid = obj_text(f, sk_ASN1_TYPE_value(seq, 0)->value.object, true);
            f->template_major = (int)major;
            f->template_minor = (int)minor;
            ok = f->template_oid != NULL;
        } else {
            f->bad_extensions |= PKI_EXT_MS_TEMPLATE;
        }
        sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
    }
    if (ok && v1 != NULL) {
        const unsigned char *p = ASN1_STRING_get0_data(v1);
        const unsigned char *end = p + ASN1_STRING_length(v1);
        ASN1_TYPE *t = d2i_ASN1_TYPE(NULL, &p, (long)(end - p));
        unsigned char *utf8 = NULL;
        int len = -1;
        if (t != NULL && p == end && ASN1_TYPE_get(t) != V_ASN1_BOOLEAN &&
            ASN1_TYPE_get(t) != V_ASN1_OBJECT && ASN1_TYPE_get(t) != V_ASN1_NULL)
            len = ASN1_STRING_to_UTF8(&utf8, t->value.asn1_string);
        if (len >= 0) {
            f->template_name = pki_facts_text(f, utf8, (size_t)len, false);
            ok = f->template_name != NULL;
        } else {
            f->bad_extensions |= PKI_EXT_MS_TEMPLATE_NAME;
        }
        OPENSSL_free(utf8);
        ASN1_TYPE_free(t);
    }
    ERR_clear_error();
    return ok;
}

clm_err pki_facts_openssl_extensions(pki_facts *f, const STACK_OF(X509_EXTENSION) * exts)
{
    if (!san(f, exts) || !basic_constraints(f, exts) || !key_usages(f, exts) || !key_ids(f, exts) ||
        !access_points(f, exts) || !templates(f, exts))
        return no_memory();
    return CLM_OK;
}

/* ---- the certificate --------------------------------------------------------------------- */

static clm_err time_to_unix(const ASN1_TIME *t, const char *what, int64_t *out)
{
    ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
    int days = 0, seconds = 0;
    int ok = epoch != NULL && t != NULL && ASN1_TIME_diff(&days, &seconds, epoch, t) == 1;

    ASN1_TIME_free(epoch);
    if (!ok)
        return pki_fail_ssl(CLM_ERR_PARSE, "certificate %s is not a valid time", what);
    *out = (int64_t)days * 86400 + seconds;
    return CLM_OK;
}

static clm_err facts_fill(pki_facts *f, X509 *cert)
{
    const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
    const X509_ALGOR *sig_alg = NULL;
    const unsigned char *subject_der = NULL, *issuer_der = NULL;
    size_t subject_len = 0, issuer_len = 0;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    long version = X509_get_version(cert);
    EVP_PKEY *pkey;
    clm_err err;

    if (version < 0 || version > 2)
        return clm_fail(CLM_ERR_PARSE, "certificate version %ld is not 1, 2 or 3", version + 1);
    f->version = (int)version + 1;
    if ((err = pki_facts_openssl_name(f, X509_get_subject_name(cert), &f->subject)) != CLM_OK ||
        (err = pki_facts_openssl_name(f, X509_get_issuer_name(cert), &f->issuer)) != CLM_OK ||
        (err = pki_facts_openssl_cn(f, X509_get_subject_name(cert))) != CLM_OK)
        return err;
    if (serial == NULL)
        return clm_fail(CLM_ERR_PARSE, "certificate has no serial number");
    f->serial =
        pki_facts_serial(f, ASN1_STRING_get0_data(serial), (size_t)ASN1_STRING_length(serial),
                         ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER);
    if (f->serial == NULL)
        return no_memory();
    if ((err = time_to_unix(X509_get0_notBefore(cert), "notBefore", &f->not_before)) != CLM_OK ||
        (err = time_to_unix(X509_get0_notAfter(cert), "notAfter", &f->not_after)) != CLM_OK)
        return err;
    pkey = X509_get_pubkey(cert); /* NULL when the key does not decode */
    err = pki_facts_openssl_key(f, X509_get_X509_PUBKEY(cert), pkey);
    EVP_PKEY_free(pkey);
    if (err != CLM_OK)
        return err;
    ERR_clear_error(); /* a key that does not decode leaves reasons behind */
    X509_get0_signature(NULL, &sig_alg, cert);
    if ((err = pki_facts_openssl_signature(f, sig_alg)) != CLM_OK)
        return err;
    if (X509_digest(cert, EVP_sha1(), md, &md_len) != 1 || md_len != 20)
        return pki_fail_ssl(CLM_ERR_PARSE, "cannot hash the certificate");
    clm_hex_encode(f->sha1, md, 20);
    if (X509_digest(cert, EVP_sha256(), md, &md_len) != 1 || md_len != 32)
        return pki_fail_ssl(CLM_ERR_PARSE, "cannot hash the certificate");
    clm_hex_encode(f->sha256, md, 32);
    if ((err = pki_facts_openssl_extensions(f, X509_get0_extensions(cert))) != CLM_OK)
        return err;
    if (X509_NAME_get0_der(X509_get_subject_name(cert), &subject_der, &subject_len) != 1 ||
        X509_NAME_get0_der(X509_get_issuer_name(cert), &issuer_der, &issuer_len) != 1)
        return pki_fail_ssl(CLM_ERR_PARSE, "cannot encode the names");
    pki_facts_set_self_signed(f, subject_der, subject_len, issuer_der, issuer_len);
    return CLM_OK;
}

clm_err pki_facts_from_x509(X509 *cert, pki_facts **out)
{
    pki_facts *f;
    clm_err err;

    *out = NULL;
    if (cert == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "no certificate");
    f = pki_facts_alloc();
    if (f == NULL)
        return no_memory();
    err = facts_fill(f, cert);
    ERR_clear_error();
    if (err != CLM_OK) {
        pki_facts_free(f);
        return err;
    }
    *out = f;
    return CLM_OK;
}

clm_err pki_facts_from_der_openssl(const void *der, size_t len, pki_facts **out)
{
    const unsigned char *p = der;
    X509 *cert;
    clm_err err;

    *out = NULL;
    if (der == NULL || len == 0 || len > PKI_FACTS_DER_MAX)
        return clm_fail(CLM_ERR_PARSE, "certificate: empty or larger than %d bytes",
                        PKI_FACTS_DER_MAX);
    cert = d2i_X509(NULL, &p, (long)len);
    if (cert == NULL)
        return pki_fail_ssl(CLM_ERR_PARSE, "not a DER certificate");
    if (p != (const unsigned char *)der + len) {
        X509_free(cert);
        return clm_fail(CLM_ERR_PARSE, "%zu bytes after the certificate",
                        len - (size_t)(p - (const unsigned char *)der));
    }
    err = pki_facts_from_x509(cert, out);
    X509_free(cert);
    return err;
}
