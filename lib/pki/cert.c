/* lib/pki/cert.c: build, sign, verify and read X.509 v3 certificates. */
#include "lib/pki/cert.h"

#include "lib/pki/key.h"
#include "lib/pki/name.h"
#include "lib/pki/pki_internal.h"
#include "lib/pki/random.h"
#include "lib/pki/x509_build.h"

#include <limits.h>
#include <openssl/bn.h>
#include <openssl/crypto.h> /* OPENSSL_free */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Most SAN entries one template may carry; far above any real certificate. */
#define PKI_CERT_SANS_MAX 1000

static time_t clock_seconds(const clm_clock *clock)
{
    return (time_t)(clm_clock_now_ns(clock) / CLM_NS_PER_SEC);
}

static void format_utc(int64_t t, char *out, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, size, "%lld", (long long)t);
}

/* ---- checks ------------------------------------------------------------------------ */

static clm_err check_attr(const char *field, const char *value, bool required)
{
    size_t len;

    if (value == NULL) {
        if (required)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s is required", field);
        return CLM_OK;
    }
    len = strlen(value);
    if (len == 0 || len > PKI_CERT_ATTR_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s must be 1 to %d bytes, not %zu", field,
                        PKI_CERT_ATTR_MAX, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x20 || c == 0x7f)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s contains a control character", field);
    }
    return CLM_OK;
}

static clm_err check_days(int days)
{
    if (days < 1 || days > PKI_CERT_DAYS_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "days must be 1 to %d, not %d", PKI_CERT_DAYS_MAX,
                        days);
    return CLM_OK;
}

static clm_err check_template(const pki_cert_template *tmpl)
{
    clm_err err;

    if ((err = check_attr("common_name", tmpl->common_name, true)) != CLM_OK ||
        (err = check_attr("organization", tmpl->organization, false)) != CLM_OK ||
        (err = check_attr("org_unit", tmpl->org_unit, false)) != CLM_OK ||
        (err = check_days(tmpl->days)) != CLM_OK)
        return err;
    if (tmpl->eku == 0 || (tmpl->eku & ~(unsigned)(PKI_EKU_SERVER_AUTH | PKI_EKU_CLIENT_AUTH)))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "eku must be serverAuth, clientAuth or both (bits 0x%x)", tmpl->eku);
    if (tmpl->n_dns_names > PKI_CERT_SANS_MAX || tmpl->n_ip_addresses > PKI_CERT_SANS_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "more than %d subjectAltName entries",
                        PKI_CERT_SANS_MAX);
    for (size_t i = 0; i < tmpl->n_dns_names; i++) {
        err = pki_name_check_dns(tmpl->dns_names[i], true);
        if (err != CLM_OK)
            return clm_error_context(err, "dns_names[%zu]", i);
    }
    for (size_t i = 0; i < tmpl->n_ip_addresses; i++) {
        if (!pki_name_parse_ip(tmpl->ip_addresses[i], NULL, NULL))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "ip_addresses[%zu]: \"%.64s\" is not an IPv4 or IPv6 address", i,
                            tmpl->ip_addresses[i] ? tmpl->ip_addresses[i] : "(null)");
    }
    return CLM_OK;
}

/* ---- building blocks ----------------------------------------------------------------- */

static clm_err add_ext(X509 *x, int nid, void *value, int critical, const char *what)
{
    if (X509_add1_ext_i2d(x, nid, value, critical, X509V3_ADD_DEFAULT) != 1)
        return pki_fail_ssl(CLM_ERR_CRYPTO, "cannot add the %s extension", what);
    return CLM_OK;
}

static clm_err set_subject(X509 *x, const char *cn, const char *o, const char *ou)
{
    const struct {
        int nid;
        const char *value;
        const char *field;
    } attrs[] = {{NID_organizationName, o, "O"},
                 {NID_organizationalUnitName, ou, "OU"},
                 {NID_commonName, cn, "CN"}};
    X509_NAME *name = X509_NAME_new();
    clm_err err = CLM_OK;

    if (name == NULL)
        return pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot make a subject name");
    for (size_t i = 0; i < sizeof attrs / sizeof *attrs && err == CLM_OK; i++) {
        if (attrs[i].value != NULL &&
            X509_NAME_add_entry_by_NID(name, attrs[i].nid, MBSTRING_UTF8,
                                       (const unsigned char *)attrs[i].value, -1, -1, 0) != 1)
            err = pki_fail_ssl(CLM_ERR_INVALID_ARGUMENT, "subject %s is not acceptable",
                               attrs[i].field);
    }
    if (err == CLM_OK && X509_set_subject_name(x, name) != 1)
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot set the subject name");
    X509_NAME_free(name);
    return err;
}

/* Serial: 16 random bytes as a positive INTEGER (DER adds a 0x00 when the top bit is
 * set, 17 octets at most, within RFC 5280's 20). */
static clm_err set_serial(X509 *x)
{
    unsigned char raw[16];
    BIGNUM *bn = NULL;
    ASN1_INTEGER *serial = NULL;
    clm_err err;

    do {
        err = pki_random_bytes(raw, sizeof raw);
        if (err != CLM_OK)
            return err;
        bn = BN_bin2bn(raw, sizeof raw, NULL);
        if (bn == NULL)
            return pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot make a serial number");
        if (!BN_is_zero(bn))
            break;
        BN_free(bn);
        bn = NULL;
    } while (1);
    serial = BN_to_ASN1_INTEGER(bn, NULL);
    if (serial == NULL || X509_set_serialNumber(x, serial) != 1)
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot set the serial number");
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    return err;
}

/* A v3 certificate with serial, validity and public key; extensions and names follow. */
static clm_err cert_begin(EVP_PKEY *subject_key, int days, const clm_clock *clock, X509 **out)
{
    time_t now = clock_seconds(clock);
    X509 *x = X509_new();
    clm_err err;

    *out = NULL;
    if (x == NULL)
        return pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot make a certificate");
    if (X509_set_version(x, X509_VERSION_3) != 1) {
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot set the certificate version");
        goto fail;
    }
    if ((err = set_serial(x)) != CLM_OK)
        goto fail;
    if (X509_time_adj_ex(X509_getm_notBefore(x), 0, -PKI_CERT_BACKDATE_SECONDS, &now) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), days, 0, &now) == NULL) {
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot set the validity period");
        goto fail;
    }
    if (X509_set_pubkey(x, subject_key) != 1) {
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot set the public key");
        goto fail;
    }
    *out = x;
    return CLM_OK;
fail:
    X509_free(x);
    return err;
}

static clm_err add_key_usage(X509 *x, const int *bits, size_t n)
{
    ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
    clm_err err = CLM_OK;

    if (ku == NULL)
        return pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot make keyUsage");
    for (size_t i = 0; i < n && err == CLM_OK; i++) {
        if (ASN1_BIT_STRING_set_bit(ku, bits[i], 1) != 1)
            err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot set a keyUsage bit");
    }
    if (err == CLM_OK)
        err = add_ext(x, NID_key_usage, ku, 1, "keyUsage");
    ASN1_BIT_STRING_free(ku);
    return err;
}

static clm_err add_basic_constraints(X509 *x, bool ca, long pathlen)
{
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    clm_err err;

    if (bc == NULL)
        return pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot make basicConstraints");
    /* DER TRUE is 0xff: both libraries encode this int's value as is. */
    bc->ca = ca ? 0xff : 0;
    if (ca && pathlen >= 0) {
        bc->pathlen = ASN1_INTEGER_new();
        if (bc->pathlen == NULL || ASN1_INTEGER_set(bc->pathlen, pathlen) != 1) {
            BASIC_CONSTRAINTS_free(bc);
            return pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot set pathLenConstraint");
        }
    }
    err = add_ext(x, NID_basic_constraints, bc, 1, "basicConstraints");
    BASIC_CONSTRAINTS_free(bc);
    return err;
}

/* subjectKeyIdentifier: SHA-1 of the subjectPublicKey (RFC 5280 4.2.1.2 method 1). */
static clm_err key_identifier(X509 *x, ASN1_OCTET_STRING **out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    *out = NULL;
    if (X509_pubkey_digest(x, EVP_sha1(), md, &md_len) != 1)
        return pki_fail_ssl(CLM_ERR_CRYPTO, "cannot hash the public key");
    *out = ASN1_OCTET_STRING_new();
    if (*out == NULL || ASN1_OCTET_STRING_set(*out, md, (int)md_len) != 1) {
        ASN1_OCTET_STRING_free(*out);
        *out = NULL;
        return pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot make a key identifier");
    }
    return CLM_OK;
}

static clm_err add_ski(X509 *x)
{
    ASN1_OCTET_STRING *ski;
    clm_err err = key_identifier(x, &ski);

    if (err != CLM_OK)
        return err;
    err = add_ext(x, NID_subject_key_identifier, ski, 0, "subjectKeyIdentifier");
    ASN1_OCTET_STRING_free(ski);
    return err;
}

/* authorityKeyIdentifier: the CA's own SKI, or the hash of its key when it has none. */
static clm_err add_aki(X509 *x, X509 *ca)
{
    const ASN1_OCTET_STRING *ca_ski = X509_get0_subject_key_id(ca);
    AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();
    clm_err err = CLM_OK;

    if (aki == NULL)
        return pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot make authorityKeyIdentifier");
    if (ca_ski != NULL) {
        aki->keyid = ASN1_OCTET_STRING_dup(ca_ski);
        if (aki->keyid == NULL)
            err = pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot copy the CA key identifier");
    } else {
        err = key_identifier(ca, &aki->keyid);
    }
    if (err == CLM_OK)
        err = add_ext(x, NID_authority_key_identifier, aki, 0, "authorityKeyIdentifier");
    AUTHORITY_KEYID_free(aki);
    return err;
}

static clm_err add_eku(X509 *x, unsigned eku)
{
    EXTENDED_KEY_USAGE *usage = sk_ASN1_OBJECT_new_null();
    const int nids[] = {NID_server_auth, NID_client_auth};
    const unsigned bits[] = {PKI_EKU_SERVER_AUTH, PKI_EKU_CLIENT_AUTH};
    clm_err err = CLM_OK;

    if (usage == NULL)
        return pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot make extendedKeyUsage");
    for (size_t i = 0; i < 2; i++) {
        /* OBJ_nid2obj returns a static object: the stack is freed without freeing it. */
        if ((eku & bits[i]) && sk_ASN1_OBJECT_push(usage, OBJ_nid2obj(nids[i])) == 0)
            err = pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot build extendedKeyUsage");
    }
    if (err == CLM_OK)
        err = add_ext(x, NID_ext_key_usage, usage, 0, "extendedKeyUsage");
    sk_ASN1_OBJECT_free(usage);
    return err;
}

static clm_err push_general_name(GENERAL_NAMES *names, int type, const void *data, size_t len)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_STRING *value = type == GEN_DNS ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new();

    if (gn == NULL || value == NULL || ASN1_STRING_set(value, data, (int)len) != 1) {
        GENERAL_NAME_free(gn);
        ASN1_STRING_free(value);
        return pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot make a subjectAltName entry");
    }
    GENERAL_NAME_set0_value(gn, type, value);
    if (sk_GENERAL_NAME_push(names, gn) == 0) {
        GENERAL_NAME_free(gn);
        return pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot add a subjectAltName entry");
    }
    return CLM_OK;
}

static clm_err add_san(X509 *x, const pki_cert_template *tmpl)
{
    GENERAL_NAMES *names;
    unsigned char ip[PKI_IP_MAX_BYTES];
    size_t ip_len;
    clm_err err = CLM_OK;

    if (tmpl->n_dns_names == 0 && tmpl->n_ip_addresses == 0)
        return CLM_OK;
    names = sk_GENERAL_NAME_new_null();
    if (names == NULL)
        return pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot make subjectAltName");
    for (size_t i = 0; i < tmpl->n_dns_names && err == CLM_OK; i++)
        err = push_general_name(names, GEN_DNS, tmpl->dns_names[i], strlen(tmpl->dns_names[i]));
    for (size_t i = 0; i < tmpl->n_ip_addresses && err == CLM_OK; i++) {
        if (!pki_name_parse_ip(tmpl->ip_addresses[i], ip, &ip_len))
            err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "ip_addresses[%zu] is not an IP address", i);
        else
            err = push_general_name(names, GEN_IPADD, ip, ip_len);
    }
    /* RFC 5280: critical when the subject is empty; ours always has a CN. */
    if (err == CLM_OK)
        err = add_ext(x, NID_subject_alt_name, names, 0, "subjectAltName");
    GENERAL_NAMES_free(names);
    return err;
}

const EVP_MD *pki_x509_sign_digest(EVP_PKEY *signer)
{
    if (EVP_PKEY_id(signer) == EVP_PKEY_EC && EVP_PKEY_bits(signer) >= 384)
        return EVP_sha384();
    return EVP_sha256();
}

static clm_err cert_sign(X509 *x, EVP_PKEY *signer)
{
    if (X509_sign(x, signer, pki_x509_sign_digest(signer)) <= 0)
        return pki_fail_ssl(CLM_ERR_CRYPTO, "cannot sign the certificate");
    return CLM_OK;
}

/* ---- public: making certificates ------------------------------------------------------- */

clm_err pki_cert_create_ca(EVP_PKEY *key, const char *common_name, const char *organization,
                           int days, const clm_clock *clock, X509 **out)
{
    static const int ca_usage[] = {5 /* keyCertSign */, 6 /* cRLSign */};
    X509 *x = NULL;
    clm_err err;

    *out = NULL;
    if (key == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "CA key is required");
    if ((err = check_attr("common_name", common_name, true)) != CLM_OK ||
        (err = check_attr("organization", organization, false)) != CLM_OK ||
        (err = check_days(days)) != CLM_OK)
        return err;
    if ((err = cert_begin(key, days, clock, &x)) != CLM_OK)
        return err;
    if ((err = set_subject(x, common_name, organization, NULL)) != CLM_OK)
        goto fail;
    if (X509_set_issuer_name(x, X509_get_subject_name(x)) != 1) {
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot set the issuer name");
        goto fail;
    }
    if ((err = add_basic_constraints(x, true, 0)) != CLM_OK ||
        (err = add_key_usage(x, ca_usage, 2)) != CLM_OK || (err = add_ski(x)) != CLM_OK ||
        (err = cert_sign(x, key)) != CLM_OK)
        goto fail;
    *out = x;
    return CLM_OK;
fail:
    X509_free(x);
    return clm_error_context(err, "CA certificate \"%s\"", common_name);
}

clm_err pki_cert_issue(const pki_cert_template *tmpl, EVP_PKEY *subject_key, X509 *ca_cert,
                       EVP_PKEY *ca_key, const clm_clock *clock, X509 **out)
{
    int usage[2] = {0 /* digitalSignature */, 2 /* keyEncipherment */};
    int64_t ca_not_after, not_after;
    X509 *x = NULL;
    clm_err err;

    *out = NULL;
    if (tmpl == NULL || subject_key == NULL || ca_cert == NULL || ca_key == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "template, subject key, CA certificate and CA key are required");
    if ((err = check_template(tmpl)) != CLM_OK)
        return err;
    if (X509_check_private_key(ca_cert, ca_key) != 1)
        return pki_fail_ssl(CLM_ERR_INVALID_ARGUMENT,
                            "the CA key does not match the CA certificate");
    if ((err = pki_cert_validity(ca_cert, NULL, &ca_not_after)) != CLM_OK)
        return clm_error_context(err, "CA certificate");
    not_after = (int64_t)clock_seconds(clock) + (int64_t)tmpl->days * 86400;
    if (not_after > ca_not_after) {
        char when[32];
        format_utc(ca_not_after, when, sizeof when);
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "days %d: the certificate would outlive its CA, which expires %s",
                        tmpl->days, when);
    }
    if ((err = cert_begin(subject_key, tmpl->days, clock, &x)) != CLM_OK)
        return err;
    if ((err = set_subject(x, tmpl->common_name, tmpl->organization, tmpl->org_unit)) != CLM_OK)
        goto fail;
    if (X509_set_issuer_name(x, X509_get_subject_name(ca_cert)) != 1) {
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot set the issuer name");
        goto fail;
    }
    if ((err = add_basic_constraints(x, false, -1)) != CLM_OK ||
        (err = add_key_usage(x, usage, pki_key_is_rsa(subject_key) ? 2 : 1)) != CLM_OK ||
        (err = add_eku(x, tmpl->eku)) != CLM_OK || (err = add_san(x, tmpl)) != CLM_OK ||
        (err = add_ski(x)) != CLM_OK || (err = add_aki(x, ca_cert)) != CLM_OK ||
        (err = cert_sign(x, ca_key)) != CLM_OK)
        goto fail;
    *out = x;
    return CLM_OK;
fail:
    X509_free(x);
    return clm_error_context(err, "certificate \"%s\"", tmpl->common_name);
}

/* ---- public: building blocks (x509_build.h) ------------------------------------------- */

clm_err pki_x509_set_random_serial(X509 *x)
{
    return set_serial(x);
}

clm_err pki_x509_set_validity(X509 *x, int64_t not_before, int64_t not_after)
{
    time_t nb = (time_t)not_before, na = (time_t)not_after;

    if (X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &nb) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &na) == NULL)
        return pki_fail_ssl(CLM_ERR_CRYPTO, "cannot set the validity period");
    return CLM_OK;
}

clm_err pki_x509_add_basic_constraints(X509 *x, bool ca, long pathlen)
{
    return add_basic_constraints(x, ca, pathlen);
}

clm_err pki_x509_add_key_usage(X509 *x, unsigned usage)
{
    int bits[9];
    size_t n = 0;

    if (usage == 0 || (usage >> 9) != 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "keyUsage bits 0x%x are not valid", usage);
    for (int bit = 0; bit < 9; bit++)
        if (usage & (1u << bit))
            bits[n++] = bit;
    return add_key_usage(x, bits, n);
}

clm_err pki_x509_add_ski(X509 *x)
{
    return add_ski(x);
}

clm_err pki_x509_add_aki(X509 *x, X509 *issuer)
{
    return add_aki(x, issuer);
}

clm_err pki_x509_sign(X509 *x, EVP_PKEY *signer)
{
    return cert_sign(x, signer);
}

/* ---- public: checking ------------------------------------------------------------------ */

clm_err pki_cert_verify(X509 *leaf, X509 *ca, unsigned eku, const clm_clock *clock)
{
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    clm_err err = CLM_OK;

    if (leaf == NULL || ca == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "certificate and CA are required");
    if (eku != 0 && eku != PKI_EKU_SERVER_AUTH && eku != PKI_EKU_CLIENT_AUTH)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "verify for one purpose at a time (0x%x)", eku);
    store = X509_STORE_new();
    ctx = X509_STORE_CTX_new();
    if (store == NULL || ctx == NULL || X509_STORE_add_cert(store, ca) != 1 ||
        X509_STORE_CTX_init(ctx, store, leaf, NULL) != 1) {
        err = pki_fail_ssl(CLM_ERR_NO_MEMORY, "cannot set up certificate verification");
        goto done;
    }
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), clock_seconds(clock));
    if (eku != 0 && X509_STORE_CTX_set_purpose(ctx, eku == PKI_EKU_SERVER_AUTH
                                                        ? X509_PURPOSE_SSL_SERVER
                                                        : X509_PURPOSE_SSL_CLIENT) != 1) {
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot set the verification purpose");
        goto done;
    }
    if (X509_verify_cert(ctx) != 1) {
        int code = X509_STORE_CTX_get_error(ctx);
        err = clm_fail(CLM_ERR_CRYPTO, "certificate does not verify against the CA: %s (depth %d)",
                       X509_verify_cert_error_string(code), X509_STORE_CTX_get_error_depth(ctx));
        ERR_clear_error();
    }
done:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return err;
}

clm_err pki_cert_check_key(X509 *cert, EVP_PKEY *key)
{
    if (cert == NULL || key == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "certificate and key are required");
    if (X509_check_private_key(cert, key) != 1) {
        ERR_clear_error();
        return clm_fail(CLM_ERR_CRYPTO, "the private key does not match the certificate");
    }
    return CLM_OK;
}

/* ---- public: coding and reading --------------------------------------------------------- */

clm_err pki_cert_to_pem(X509 *cert, clm_buf *out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    clm_err err;

    if (bio == NULL)
        return pki_fail_ssl(CLM_ERR_NO_MEMORY, "certificate PEM: cannot make a memory BIO");
    if (cert == NULL || PEM_write_bio_X509(bio, cert) != 1)
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot encode the certificate as PEM");
    else
        err = pki_bio_drain(bio, out, 0);
    BIO_free(bio);
    return err;
}

clm_err pki_cert_from_pem(const void *pem, size_t len, X509 **out)
{
    BIO *bio;
    clm_err err;

    *out = NULL;
    if ((err = pki_bio_from_mem(pem, len, "certificate PEM", &bio)) != CLM_OK)
        return err;
    *out = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (*out == NULL)
        return pki_fail_ssl(CLM_ERR_PARSE, "no certificate could be read from the PEM text");
    ERR_clear_error();
    return CLM_OK;
}

static clm_err name_to_string(X509_NAME *name, const char *what, char **out)
{
    /* RFC 2253 form, but UTF-8 kept as is (RFC 4514) rather than escaped byte by byte */
    const unsigned long flags = XN_FLAG_RFC2253 & ~(unsigned long)ASN1_STRFLGS_ESC_MSB;
    BIO *bio = BIO_new(BIO_s_mem());
    clm_buf text = CLM_BUF_INIT;
    clm_err err;

    *out = NULL;
    if (bio == NULL)
        return pki_fail_ssl(CLM_ERR_NO_MEMORY, "%s: cannot make a memory BIO", what);
    if (name == NULL || X509_NAME_print_ex(bio, name, 0, flags) < 0)
        err = pki_fail_ssl(CLM_ERR_CRYPTO, "cannot format the %s name", what);
    else if ((err = pki_bio_drain(bio, &text, 0)) == CLM_OK)
        err = clm_buf_append(&text, "", 0); /* a NUL even for an empty name */
    BIO_free(bio);
    if (err == CLM_OK)
        *out = (char *)clm_buf_detach(&text, NULL);
    clm_buf_free(&text);
    return err;
}

clm_err pki_cert_subject(X509 *cert, char **out)
{
    return name_to_string(cert ? X509_get_subject_name(cert) : NULL, "subject", out);
}

clm_err pki_cert_issuer(X509 *cert, char **out)
{
    return name_to_string(cert ? X509_get_issuer_name(cert) : NULL, "issuer", out);
}

static clm_err subject_attr(X509 *cert, int nid, const char *label, char **out)
{
    X509_NAME *name;
    ASN1_STRING *data;
    unsigned char *utf8 = NULL;
    int idx, len;

    *out = NULL;
    if (cert == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "no certificate");
    name = X509_get_subject_name(cert);
    idx = X509_NAME_get_index_by_NID(name, nid, -1);
    if (idx < 0)
        return clm_fail(CLM_ERR_NOT_FOUND, "certificate subject has no %s", label);
    if (X509_NAME_get_index_by_NID(name, nid, idx) >= 0)
        return clm_fail(CLM_ERR_PARSE, "certificate subject has more than one %s", label);
    data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    len = data ? ASN1_STRING_to_UTF8(&utf8, data) : -1;
    if (len < 0)
        return pki_fail_ssl(CLM_ERR_PARSE, "certificate subject %s is not valid text", label);
    if (memchr(utf8, '\0', (size_t)len) != NULL) {
        OPENSSL_free(utf8);
        return clm_fail(CLM_ERR_PARSE, "certificate subject %s contains a NUL byte", label);
    }
    *out = malloc((size_t)len + 1);
    if (*out != NULL) {
        memcpy(*out, utf8, (size_t)len);
        (*out)[len] = '\0';
    }
    OPENSSL_free(utf8);
    return *out ? CLM_OK : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
}

clm_err pki_cert_subject_cn(X509 *cert, char **out)
{
    return subject_attr(cert, NID_commonName, "CN", out);
}

clm_err pki_cert_subject_ou(X509 *cert, char **out)
{
    return subject_attr(cert, NID_organizationalUnitName, "OU", out);
}

clm_err pki_cert_fingerprint_sha256(X509 *cert, char out[PKI_FINGERPRINT_HEX_SIZE])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    out[0] = '\0';
    if (cert == NULL || X509_digest(cert, EVP_sha256(), md, &len) != 1 || len != 32)
        return pki_fail_ssl(CLM_ERR_CRYPTO, "cannot hash the certificate");
    clm_hex_encode(out, md, len);
    return CLM_OK;
}

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

clm_err pki_cert_validity(X509 *cert, int64_t *not_before, int64_t *not_after)
{
    int64_t nb, na;
    clm_err err;

    if (cert == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "no certificate");
    if ((err = time_to_unix(X509_get0_notBefore(cert), "notBefore", &nb)) != CLM_OK ||
        (err = time_to_unix(X509_get0_notAfter(cert), "notAfter", &na)) != CLM_OK)
        return err;
    if (not_before)
        *not_before = nb;
    if (not_after)
        *not_after = na;
    return CLM_OK;
}

void pki_strv_free(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

clm_err pki_cert_sans(X509 *cert, char ***out, size_t *n_out)
{
    GENERAL_NAMES *names;
    clm_buf entry = CLM_BUF_INIT;
    char **v = NULL;
    size_t n = 0;
    int critical = -1;
    clm_err err = CLM_OK;

    *out = NULL;
    *n_out = 0;
    if (cert == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "no certificate");
    names = X509_get_ext_d2i(cert, NID_subject_alt_name, &critical, NULL);
    if (names == NULL) {
        if (critical == -1)
            return CLM_OK; /* no SAN */
        if (critical == -2)
            return clm_fail(CLM_ERR_PARSE, "certificate has two subjectAltName extensions");
        return pki_fail_ssl(CLM_ERR_PARSE, "certificate subjectAltName is malformed");
    }
    v = calloc((size_t)sk_GENERAL_NAME_num(names) + 1, sizeof *v);
    if (v == NULL) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (int i = 0; i < (int)sk_GENERAL_NAME_num(names) && err == CLM_OK; i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        const ASN1_STRING *s;

        clm_buf_reset(&entry);
        if (gn->type == GEN_DNS) {
            s = gn->d.dNSName;
            err = clm_buf_append_str(&entry, "DNS:");
            if (err == CLM_OK)
                err =
                    clm_buf_append(&entry, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
        } else if (gn->type == GEN_IPADD) {
            char text[64];
            s = gn->d.iPAddress;
            err = pki_name_format_ip(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), text,
                                     sizeof text);
            if (err == CLM_OK)
                err = clm_buf_printf(&entry, "IP:%s", text);
        } else {
            continue;
        }
        if (err == CLM_OK && memchr(entry.data, '\0', entry.len) != NULL)
            err = clm_fail(CLM_ERR_PARSE, "certificate subjectAltName holds a NUL byte");
        if (err == CLM_OK)
            v[n++] = (char *)clm_buf_detach(&entry, NULL);
    }
done:
    GENERAL_NAMES_free(names);
    clm_buf_free(&entry);
    if (err != CLM_OK) {
        pki_strv_free(v, n);
        return err;
    }
    if (n == 0) {
        free(v);
        v = NULL;
    }
    *out = v;
    *n_out = n;
    return CLM_OK;
}

unsigned pki_cert_eku(X509 *cert)
{
    EXTENDED_KEY_USAGE *usage;
    unsigned bits = 0;

    if (cert == NULL)
        return 0;
    usage = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
    if (usage == NULL) {
        ERR_clear_error();
        return 0;
    }
    for (int i = 0; i < (int)sk_ASN1_OBJECT_num(usage); i++) {
        int nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(usage, i));
        if (nid == NID_server_auth)
            bits |= PKI_EKU_SERVER_AUTH;
        else if (nid == NID_client_auth)
            bits |= PKI_EKU_CLIENT_AUTH;
    }
    EXTENDED_KEY_USAGE_free(usage);
    return bits;
}
