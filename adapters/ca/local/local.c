/* adapters/ca/local/local.c: the local CA adapter: fields, open, close, and signing. */
#include "adapters/ca/local/local.h"

#include "adapters/ca/fields.h"
#include "adapters/ca/local/local_internal.h"
#include "lib/pki/cert.h"
#include "lib/pki/csr.h"
#include "lib/pki/facts.h"
#include "lib/pki/name.h"
#include "lib/pki/read.h"
#include "lib/pki/x509_build.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

/* ---- profiles and fields ------------------------------------------------------------- */

static const ca_local_profile builtin_profiles[] = {
    {"server", 397, 90, PKI_KU_DIGITAL_SIGNATURE, true, CA_LOCAL_EKU_SERVER_AUTH, false, -1},
    {"client", 397, 365, PKI_KU_DIGITAL_SIGNATURE, false, CA_LOCAL_EKU_CLIENT_AUTH, false, -1},
    {"server-client", 397, 90, PKI_KU_DIGITAL_SIGNATURE, true,
     CA_LOCAL_EKU_SERVER_AUTH | CA_LOCAL_EKU_CLIENT_AUTH, false, -1},
    {"sub-ca", 1825, 1825, PKI_KU_KEY_CERT_SIGN | PKI_KU_CRL_SIGN, false, 0, true, 0},
};

const ca_local_profile *ca_local_profiles_builtin(size_t *n)
{
    *n = sizeof builtin_profiles / sizeof *builtin_profiles;
    return builtin_profiles;
}

static const char *const profile_names[] = {"server", "client", "server-client", "sub-ca", NULL};

static const adapter_field config_fields[] = {
    {.name = "default_profile", .type = ADAPTER_FIELD_CHOICE, .allowed = profile_names,
     .help = "profile of requests that name none (default: server)"},
    {.name = "crl_url", .type = ADAPTER_FIELD_URL, .max_len = 512,
     .help = "where the CRL is published: put in cRLDistributionPoints"},
    {.name = "ocsp_url", .type = ADAPTER_FIELD_URL, .max_len = 512,
     .help = "an OCSP responder for this CA: put in authorityInfoAccess"},
    {.name = "issuer_url", .type = ADAPTER_FIELD_URL, .max_len = 512,
     .help = "where the issuing CA certificate is published: authorityInfoAccess caIssuers"},
    {.name = "crl_days", .type = ADAPTER_FIELD_INT, .min = 1, .max = 366,
     .help = "days from a CRL's thisUpdate to its nextUpdate (default: 7)"},
};

static const adapter_field request_fields[] = {
    {.name = "profile", .type = ADAPTER_FIELD_CHOICE, .allowed = profile_names,
     .help = "issuing profile: validity limits, key usage, extended key usage"},
    {.name = "validity_days", .type = ADAPTER_FIELD_INT, .min = 1, .max = PKI_CERT_DAYS_MAX,
     .help = "validity in days (default: the profile's; more than its maximum is rejected)"},
};

static clm_err local_check_fields(const adapter_fields *fields, bool request)
{
    if (request)
        return ca_fields_check(request_fields, sizeof request_fields / sizeof *request_fields,
                               fields, "fields");
    return ca_fields_check(config_fields, sizeof config_fields / sizeof *config_fields, fields,
                           "config.fields");
}

static const ca_local_profile *find_profile(const adapter_ca *ca, const char *name)
{
    for (size_t i = 0; i < ca->n_profiles; i++)
        if (strcmp(ca->profiles[i].name, name) == 0)
            return &ca->profiles[i];
    return NULL;
}

int64_t ca_local_now(const adapter_ca *ca)
{
    return clm_clock_now_ns(ca->clock) / CLM_NS_PER_SEC;
}

/* ---- open and close ------------------------------------------------------------------ */

static void local_close(adapter_ca *ca)
{
    if (ca == NULL)
        return;
    EVP_PKEY_free(ca->key);
    X509_free(ca->cert);
    for (size_t i = 0; i < ca->n_chain; i++)
        free(ca->chain_der[i]);
    free(ca->chain_der);
    free(ca->chain_len);
    free(ca->crl_url);
    free(ca->ocsp_url);
    free(ca->issuer_url);
    free(ca->connector);
    free(ca->revoked);
    pthread_mutex_destroy(&ca->lock);
    free(ca);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The key and chain items; NOT_FOUND when the CA was never set up (then unconfigured). */
static clm_err load_key_and_chain(adapter_ca *ca)
{
    clm_buf key_pem = CLM_BUF_INIT, chain_pem = CLM_BUF_INIT;
    pki_read_result chain = {0};
    clm_err err;

    err = ca->state->get(ca->state->ctx, "key", &key_pem);
    if (err != CLM_OK)
        goto done; /* NOT_FOUND: never set up */
    err = ca->state->get(ca->state->ctx, "chain", &chain_pem);
    if (err == CLM_ERR_NOT_FOUND)
        err = clm_fail(CLM_ERR_STORE, "state: a CA key without its chain (damaged state)");
    if (err != CLM_OK)
        goto done;
    if ((err = pki_key_from_pem(key_pem.data, key_pem.len, &ca->key)) != CLM_OK) {
        err = clm_error_context(err, "state item key");
        goto done;
    }
    if ((err = pki_read(chain_pem.data, chain_pem.len, &(pki_read_options){.name = "chain"},
                        &chain)) != CLM_OK) {
        err = clm_error_context(err, "state item chain");
        goto done;
    }
    if (chain.n_certs == 0 || chain.n_errors != 0 || chain.n_keys != 0) {
        err = clm_fail(CLM_ERR_PARSE, "state item chain: not a list of certificates");
        goto done;
    }
    ca->chain_der = calloc(chain.n_items, sizeof *ca->chain_der);
    ca->chain_len = calloc(chain.n_items, sizeof *ca->chain_len);
    if (ca->chain_der == NULL || ca->chain_len == NULL) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < chain.n_items; i++) {
        ca->chain_der[i] = chain.items[i].der; /* taken over from the read result */
        ca->chain_len[i] = chain.items[i].der_len;
        chain.items[i].der = NULL;
        ca->n_chain++;
    }
    {
        const unsigned char *p = ca->chain_der[0];
        ca->cert = d2i_X509(NULL, &p, (long)ca->chain_len[0]);
    }
    if (ca->cert == NULL) {
        err = clm_fail(CLM_ERR_PARSE, "state item chain: the CA certificate does not decode");
        ERR_clear_error();
        goto done;
    }
    if ((err = pki_cert_check_key(ca->cert, ca->key)) != CLM_OK ||
        (err = pki_cert_validity(ca->cert, NULL, &ca->cert_not_after)) != CLM_OK) {
        err = clm_error_context(err, "state");
        goto done;
    }
done:
    clm_buf_wipe(&key_pem);
    clm_buf_free(&chain_pem);
    pki_read_result_free(&chain);
    return err;
}

static clm_err local_open(const adapter_ca_config *config, adapter_ca **out)
{
    adapter_ca *ca;
    const char *profile;
    int64_t crl_days;
    clm_err err;

    *out = NULL;
    if (config == NULL || config->state == NULL || config->state->get == NULL ||
        config->state->put == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "local CA: a configuration with a state is "
                                                  "required");
    if ((err = local_check_fields(&config->fields, false)) != CLM_OK)
        return err;
    ca = calloc(1, sizeof *ca);
    if (ca == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    pthread_mutex_init(&ca->lock, NULL);
    ca->connector = strdup(config->connector ? config->connector : "local");
    ca->state = config->state;
    ca->clock = config->clock ? config->clock : clm_clock_system();
    ca->profiles = ca_local_profiles_builtin(&ca->n_profiles);
    profile = ca_fields_get(&config->fields, "default_profile");
    ca->default_profile = find_profile(ca, profile ? profile : "server");
    ca->crl_url = dup_or_null(ca_fields_get(&config->fields, "crl_url"));
    ca->ocsp_url = dup_or_null(ca_fields_get(&config->fields, "ocsp_url"));
    ca->issuer_url = dup_or_null(ca_fields_get(&config->fields, "issuer_url"));
    if ((err = ca_fields_get_int(&config->fields, "crl_days", CA_LOCAL_CRL_DAYS_DEFAULT,
                                 &crl_days)) != CLM_OK)
        goto fail;
    ca->crl_days = (int)crl_days;
    if (ca->connector == NULL || ca->default_profile == NULL) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        goto fail;
    }
    err = load_key_and_chain(ca);
    if (err == CLM_ERR_NOT_FOUND) {
        /* not set up yet: open, answer unconfigured until an admin creates or imports */
        clm_error_clear();
        *out = ca;
        return CLM_OK;
    }
    if (err != CLM_OK || (err = ca_local_revocation_load(ca)) != CLM_OK)
        goto fail;
    ca->configured = true;
    *out = ca;
    return CLM_OK;
fail:
    local_close(ca);
    return clm_error_context(err, "local CA \"%s\"", config->connector ? config->connector : "");
}

/* ---- checking the request ------------------------------------------------------------- */

typedef struct eku_name {
    unsigned bit;
    int nid;
    const char *name;
} eku_name;

static const eku_name eku_names[] = {
    {CA_LOCAL_EKU_SERVER_AUTH, NID_server_auth, "serverAuth"},
    {CA_LOCAL_EKU_CLIENT_AUTH, NID_client_auth, "clientAuth"},
    {CA_LOCAL_EKU_CODE_SIGNING, NID_code_sign, "codeSigning"},
    {CA_LOCAL_EKU_EMAIL_PROTECTION, NID_email_protect, "emailProtection"},
    {CA_LOCAL_EKU_TIME_STAMPING, NID_time_stamp, "timeStamping"},
    {CA_LOCAL_EKU_OCSP_SIGNING, NID_OCSP_sign, "OCSPSigning"},
};

/* The extensions a CSR requests, decoded once. */
typedef struct requested {
    STACK_OF(X509_EXTENSION) * exts;
    GENERAL_NAMES *sans;
} requested;

static void requested_free(requested *r)
{
    sk_X509_EXTENSION_pop_free(r->exts, X509_EXTENSION_free);
    GENERAL_NAMES_free(r->sans);
}

/* A requested extension by NID, decoded; NULL when absent. *bad set when malformed. */
static void *requested_get(const requested *r, int nid, bool *bad)
{
    int idx = X509v3_get_ext_by_NID(r->exts, nid, -1);
    void *value;

    if (idx < 0)
        return NULL;
    if (X509v3_get_ext_by_NID(r->exts, nid, idx) >= 0) {
        *bad = true;
        return NULL;
    }
    value = X509V3_EXT_d2i(X509v3_get_ext(r->exts, idx));
    if (value == NULL)
        *bad = true;
    return value;
}

/* Returns false with the result set to rejected when the key is not one clm issues for. */
static bool check_key(X509_REQ *req, EVP_PKEY *key, adapter_ca_result *out)
{
    pki_key_type type;

    if (pki_key_type_of_request(req, key, &type) != CLM_OK) {
        adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                              "the CSR's key is not accepted (%s): use RSA of 2048 bits or "
                              "more, or EC P-256, P-384 or P-521",
                              clm_error_message());
        return false;
    }
    return true;
}

/* SAN entries: only kinds clm can check and a relying party can match. */
static bool check_sans(const GENERAL_NAMES *sans, adapter_ca_result *out)
{
    for (int i = 0; i < (int)sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
        char text[256];

        switch (gn->type) {
        case GEN_DNS: {
            const ASN1_STRING *s = gn->d.dNSName;
            int len = ASN1_STRING_length(s);
            if (len <= 0 || len >= (int)sizeof text ||
                memchr(ASN1_STRING_get0_data(s), '\0', (size_t)len) != NULL) {
                adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                                      "subjectAltName[%d]: the DNS name is empty, too long or "
                                      "holds a NUL",
                                      i);
                return false;
            }
            memcpy(text, ASN1_STRING_get0_data(s), (size_t)len);
            text[len] = '\0';
            if (pki_name_check_dns(text, true) != CLM_OK) {
                adapter_ca_result_set(out, ADAPTER_CA_REJECTED, "subjectAltName[%d]: %s", i,
                                      clm_error_message());
                return false;
            }
            break;
        }
        case GEN_IPADD: {
            int len = ASN1_STRING_length(gn->d.iPAddress);
            if (len != 4 && len != 16) {
                adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                                      "subjectAltName[%d]: an IP address of %d bytes", i, len);
                return false;
            }
            break;
        }
        case GEN_EMAIL:
        case GEN_URI: {
            const ASN1_STRING *s = gn->type == GEN_EMAIL ? gn->d.rfc822Name
                                                         : gn->d.uniformResourceIdentifier;
            const unsigned char *p = ASN1_STRING_get0_data(s);
            int len = ASN1_STRING_length(s);
            for (int k = 0; k < len; k++) {
                if (p[k] <= 0x20 || p[k] >= 0x7f) {
                    adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                                          "subjectAltName[%d]: an email or URI with a blank, "
                                          "control or non-ASCII byte",
                                          i);
                    return false;
                }
            }
            if (len == 0) {
                adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                                      "subjectAltName[%d]: an empty email or URI", i);
                return false;
            }
            break;
        }
        default:
            adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                                  "subjectAltName[%d]: only DNS, IP, email and URI entries are "
                                  "issued",
                                  i);
            return false;
        }
    }
    return true;
}

/* A serverAuth certificate without SANs: the CN becomes the one SAN when it is a name
 * or an address (relying parties match SANs only, RFC 6125 6.4.4). */
static bool sans_from_cn(X509_REQ *req, GENERAL_NAMES **sans, adapter_ca_result *out)
{
    X509_NAME *subject = X509_REQ_get_subject_name(req);
    int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    unsigned char *utf8 = NULL, ip[16];
    size_t ip_len = 0;
    int len;
    GENERAL_NAME *gn = NULL;
    ASN1_STRING *value = NULL;
    char cn[256];

    if (idx < 0 || X509_NAME_get_index_by_NID(subject, NID_commonName, idx) >= 0) {
        adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                              "the CSR has no subjectAltName and not exactly one CN: a server "
                              "certificate needs a name to be matched by");
        return false;
    }
    len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
    if (len <= 0 || len >= (int)sizeof cn || memchr(utf8, '\0', (size_t)len) != NULL) {
        OPENSSL_free(utf8);
        ERR_clear_error();
        adapter_ca_result_set(out, ADAPTER_CA_REJECTED, "the CSR's CN is not usable text");
        return false;
    }
    memcpy(cn, utf8, (size_t)len);
    cn[len] = '\0';
    OPENSSL_free(utf8);
    if (pki_name_parse_ip(cn, ip, &ip_len)) {
        value = ASN1_OCTET_STRING_new();
        if (value != NULL && ASN1_STRING_set(value, ip, (int)ip_len) == 1 &&
            (gn = GENERAL_NAME_new()) != NULL)
            GENERAL_NAME_set0_value(gn, GEN_IPADD, value);
    } else if (pki_name_check_dns(cn, true) == CLM_OK) {
        value = ASN1_IA5STRING_new();
        if (value != NULL && ASN1_STRING_set(value, cn, len) == 1 &&
            (gn = GENERAL_NAME_new()) != NULL)
            GENERAL_NAME_set0_value(gn, GEN_DNS, value);
    } else {
        adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                              "the CSR has no subjectAltName and its CN \"%.64s\" is not a DNS "
                              "name or IP address: %s",
                              cn, clm_error_message());
        return false;
    }
    if (gn == NULL)
        ASN1_STRING_free(value);
    *sans = sk_GENERAL_NAME_new_null();
    if (gn == NULL || *sans == NULL || sk_GENERAL_NAME_push(*sans, gn) == 0) {
        GENERAL_NAME_free(gn);
        adapter_ca_result_set(out, ADAPTER_CA_REJECTED, "out of memory");
        return false;
    }
    return true;
}

/* What the CSR asks for, against the profile. */
static bool check_requested(const requested *r, const ca_local_profile *profile,
                            adapter_ca_result *out)
{
    bool bad = false;
    BASIC_CONSTRAINTS *bc = requested_get(r, NID_basic_constraints, &bad);
    ASN1_BIT_STRING *ku = bad ? NULL : requested_get(r, NID_key_usage, &bad);
    EXTENDED_KEY_USAGE *eku = bad ? NULL : requested_get(r, NID_ext_key_usage, &bad);
    bool ok = true;

    if (bad) {
        adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                              "the CSR requests a malformed or repeated basicConstraints, "
                              "keyUsage or extendedKeyUsage extension");
        ok = false;
    } else if (bc != NULL && bc->ca && !profile->ca) {
        adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                              "the CSR asks for a CA certificate (basicConstraints CA:TRUE); "
                              "profile \"%s\" issues end-entity certificates only",
                              profile->name);
        ok = false;
    }
    for (int bit = 0; ok && ku != NULL && bit < 9; bit++) {
        unsigned allowed = profile->key_usage | (profile->rsa_key_encipherment
                                                     ? (unsigned)PKI_KU_KEY_ENCIPHERMENT
                                                     : 0u);
        if (ASN1_BIT_STRING_get_bit(ku, bit) && !(allowed & (1u << bit))) {
            adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                                  "the CSR asks for keyUsage bit %d, which profile \"%s\" does "
                                  "not give",
                                  bit, profile->name);
            ok = false;
        }
    }
    for (int i = 0; ok && eku != NULL && i < (int)sk_ASN1_OBJECT_num(eku); i++) {
        int nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));
        bool given = false;
        char oid[80];

        for (size_t k = 0; k < sizeof eku_names / sizeof *eku_names; k++)
            if (eku_names[k].nid == nid && (profile->eku & eku_names[k].bit))
                given = true;
        if (!given) {
            OBJ_obj2txt(oid, sizeof oid, sk_ASN1_OBJECT_value(eku, i), 1);
            adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                                  "the CSR asks for extendedKeyUsage %s, which profile \"%s\" "
                                  "does not give",
                                  oid, profile->name);
            ok = false;
        }
    }
    BASIC_CONSTRAINTS_free(bc);
    ASN1_BIT_STRING_free(ku);
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    return ok;
}

/* ---- building the certificate ---------------------------------------------------------- */

static clm_err add_ext(X509 *x, int nid, void *value, int critical, const char *what)
{
    if (X509_add1_ext_i2d(x, nid, value, critical, X509V3_ADD_DEFAULT) != 1) {
        ERR_clear_error();
        return clm_fail(CLM_ERR_CRYPTO, "cannot add the %s extension", what);
    }
    return CLM_OK;
}

static clm_err add_eku(X509 *x, unsigned bits)
{
    EXTENDED_KEY_USAGE *usage;
    clm_err err = CLM_OK;

    if (bits == 0)
        return CLM_OK;
    usage = sk_ASN1_OBJECT_new_null();
    if (usage == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < sizeof eku_names / sizeof *eku_names && err == CLM_OK; i++)
        /* OBJ_nid2obj gives static objects: the stack is freed without them */
        if ((bits & eku_names[i].bit) &&
            sk_ASN1_OBJECT_push(usage, OBJ_nid2obj(eku_names[i].nid)) == 0)
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if (err == CLM_OK)
        err = add_ext(x, NID_ext_key_usage, usage, 0, "extendedKeyUsage");
    sk_ASN1_OBJECT_free(usage);
    return err;
}

static GENERAL_NAME *uri_name(const char *url)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();

    if (gn == NULL || s == NULL || ASN1_STRING_set(s, url, (int)strlen(url)) != 1) {
        GENERAL_NAME_free(gn);
        ASN1_IA5STRING_free(s);
        return NULL;
    }
    GENERAL_NAME_set0_value(gn, GEN_URI, s);
    return gn;
}

static clm_err add_aia(X509 *x, const adapter_ca *ca)
{
    AUTHORITY_INFO_ACCESS *aia;
    const struct {
        const char *url;
        int nid;
    } entries[] = {{ca->ocsp_url, NID_ad_OCSP}, {ca->issuer_url, NID_ad_ca_issuers}};
    clm_err err = CLM_OK;

    if (ca->ocsp_url == NULL && ca->issuer_url == NULL)
        return CLM_OK;
    aia = sk_ACCESS_DESCRIPTION_new_null();
    if (aia == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < 2 && err == CLM_OK; i++) {
        ACCESS_DESCRIPTION *ad;
        if (entries[i].url == NULL)
            continue;
        ad = ACCESS_DESCRIPTION_new();
        if (ad == NULL || (GENERAL_NAME_free(ad->location), ad->location = uri_name(entries[i].url)) == NULL ||
            sk_ACCESS_DESCRIPTION_push(aia, ad) == 0) {
            ACCESS_DESCRIPTION_free(ad);
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            break;
        }
        ASN1_OBJECT_free(ad->method);
        ad->method = OBJ_nid2obj(entries[i].nid);
    }
    if (err == CLM_OK)
        err = add_ext(x, NID_info_access, aia, 0, "authorityInfoAccess");
    sk_ACCESS_DESCRIPTION_pop_free(aia, ACCESS_DESCRIPTION_free);
    return err;
}

static clm_err add_crl_dp(X509 *x, const char *url)
{
    CRL_DIST_POINTS *dps;
    DIST_POINT *dp = NULL;
    GENERAL_NAME *gn = NULL;
    clm_err err = CLM_OK;

    if (url == NULL)
        return CLM_OK;
    dps = sk_DIST_POINT_new_null();
    dp = DIST_POINT_new();
    if (dps == NULL || dp == NULL || (dp->distpoint = DIST_POINT_NAME_new()) == NULL ||
        (dp->distpoint->name.fullname = sk_GENERAL_NAME_new_null()) == NULL ||
        (gn = uri_name(url)) == NULL || sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gn) == 0) {
        GENERAL_NAME_free(gn);
        DIST_POINT_free(dp);
        sk_DIST_POINT_free(dps);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    dp->distpoint->type = 0; /* fullName */
    if (sk_DIST_POINT_push(dps, dp) == 0) {
        DIST_POINT_free(dp);
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    if (err == CLM_OK)
        err = add_ext(x, NID_crl_distribution_points, dps, 0, "cRLDistributionPoints");
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    return err;
}

/* The certificate's SubjectPublicKeyInfo: the request's, copied as it is. Why not
 * X509_set_pubkey: in OpenSSL 3 it encodes the key through an encoder and decodes it
 * again (about 0.27 ms, most of an issuance); copying the algorithm and the key bits
 * costs about 1 us. BoringSSL lacks X509_REQ_get_X509_PUBKEY and its X509_set_pubkey
 * is cheap: it takes that path. */
static bool set_pubkey(X509 *x, X509_REQ *req, EVP_PKEY *subject_key)
{
#ifdef OPENSSL_IS_BORINGSSL
    (void)req;
    return X509_set_pubkey(x, subject_key) == 1;
#else
    X509_PUBKEY *from = X509_REQ_get_X509_PUBKEY(req);
    ASN1_OBJECT *alg_oid = NULL, *param_oid = NULL;
    const ASN1_OBJECT *algor_oid;
    const unsigned char *bits = NULL;
    unsigned char *copy;
    const void *param = NULL;
    X509_ALGOR *alg = NULL;
    int bits_len = 0, ptype = V_ASN1_UNDEF;

    (void)subject_key;
    if (from == NULL || X509_PUBKEY_get0_param(&alg_oid, &bits, &bits_len, &alg, from) != 1)
        return false;
    X509_ALGOR_get0(&algor_oid, &ptype, &param, alg);
    /* the parameters clm accepts: a named curve (EC) or NULL (RSA) */
    if (ptype == V_ASN1_OBJECT)
        param_oid = OBJ_dup(param);
    else if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF)
        return false;
    alg_oid = OBJ_dup(alg_oid);
    copy = OPENSSL_memdup(bits, (size_t)bits_len);
    if (alg_oid == NULL || copy == NULL || (ptype == V_ASN1_OBJECT && param_oid == NULL) ||
        X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), alg_oid, ptype,
                               ptype == V_ASN1_OBJECT ? (void *)param_oid : NULL, copy,
                               bits_len) != 1) {
        ASN1_OBJECT_free(alg_oid);
        ASN1_OBJECT_free(param_oid);
        OPENSSL_free(copy);
        return false;
    }
    return true;
#endif
}

static clm_err build_cert(adapter_ca *ca, X509_REQ *req, EVP_PKEY *subject_key,
                          const ca_local_profile *profile, int64_t now, int64_t not_after,
                          GENERAL_NAMES *sans, X509 **out)
{
    X509 *x = X509_new();
    unsigned usage = profile->key_usage;
    clm_err err;

    *out = NULL;
    if (x == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if (profile->rsa_key_encipherment && pki_key_is_rsa(subject_key))
        usage |= PKI_KU_KEY_ENCIPHERMENT;
    if (X509_set_version(x, X509_VERSION_3) != 1 ||
        X509_set_subject_name(x, X509_REQ_get_subject_name(req)) != 1 ||
        X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1 ||
        !set_pubkey(x, req, subject_key)) {
        ERR_clear_error();
        err = clm_fail(CLM_ERR_CRYPTO, "cannot fill in the certificate");
        goto fail;
    }
    if ((err = pki_x509_set_random_serial(x)) != CLM_OK ||
        (err = pki_x509_set_validity(x, now - PKI_CERT_BACKDATE_SECONDS, not_after)) != CLM_OK ||
        (err = pki_x509_add_basic_constraints(x, profile->ca, profile->path_len)) != CLM_OK ||
        (err = pki_x509_add_key_usage(x, usage)) != CLM_OK ||
        (err = add_eku(x, profile->eku)) != CLM_OK ||
        (sans != NULL && (err = add_ext(x, NID_subject_alt_name, sans, 0, "subjectAltName")) !=
                             CLM_OK) ||
        (err = pki_x509_add_ski(x)) != CLM_OK || (err = pki_x509_add_aki(x, ca->cert)) != CLM_OK ||
        (err = add_aia(x, ca)) != CLM_OK || (err = add_crl_dp(x, ca->crl_url)) != CLM_OK ||
        (err = pki_x509_sign(x, ca->key)) != CLM_OK)
        goto fail;
    *out = x;
    return CLM_OK;
fail:
    X509_free(x);
    return err;
}

/* The issued certificate, its chain and serial into the result's arena. */
static clm_err fill_issued(adapter_ca *ca, X509 *x, adapter_ca_result *out)
{
    unsigned char *der = NULL, *copy;
    int len = i2d_X509(x, &der);
    char serial[41];
    clm_err err = CLM_OK;

    if ((err = ca_local_serial_hex(X509_get0_serialNumber(x), serial)) != CLM_OK)
        goto done;
    copy = len > 0 ? clm_arena_memdup(&out->arena, der, (size_t)len) : NULL;
    out->chain = clm_arena_alloc(&out->arena, ca->n_chain * sizeof *out->chain);
    out->serial = clm_arena_strdup(&out->arena, serial);
    if (copy == NULL || out->chain == NULL || out->serial == NULL) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        goto done;
    }
    out->cert.data = copy;
    out->cert.len = (size_t)len;
    for (size_t i = 0; i < ca->n_chain; i++) {
        out->chain[i].data = clm_arena_memdup(&out->arena, ca->chain_der[i], ca->chain_len[i]);
        out->chain[i].len = ca->chain_len[i];
        if (out->chain[i].data == NULL) {
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            goto done;
        }
    }
    out->chain_len = ca->n_chain;
    adapter_ca_result_set(out, ADAPTER_CA_ISSUED, "%s", "");
done:
    OPENSSL_free(der);
    return err;
}

static clm_err local_submit(adapter_ca *ca, const adapter_ca_request *request,
                            adapter_ca_result *out)
{
    X509_REQ *req = NULL;
    EVP_PKEY *subject_key = NULL;
    requested r = {0};
    GENERAL_NAMES *cn_sans = NULL;
    X509 *x = NULL;
    const ca_local_profile *profile;
    const char *profile_name;
    int64_t days, now, not_after;
    bool bad = false;
    clm_err err = CLM_OK;

    if (ca == NULL || request == NULL || out == NULL || request->csr == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "local CA: an instance, a request with a CSR "
                                                  "and a result are required");
    /* Every path below sets its outcome; none is left at the zero value (issued). */
    adapter_ca_result_set(out, ADAPTER_CA_REJECTED, "%s", "not decided");
    if (!ca->configured)
        return adapter_ca_result_set(out, ADAPTER_CA_UNCONFIGURED,
                                     "local CA \"%s\" has no CA key yet: create one (a root and "
                                     "an intermediate) or import a CA key and chain",
                                     ca->connector);
    /* The API checked the fields already; checking again costs little and keeps a
     * caller that skipped it from issuing what no declaration allows. */
    if ((err = local_check_fields(&request->fields, true)) != CLM_OK)
        return adapter_ca_result_set(out, ADAPTER_CA_REJECTED, "%s", clm_error_message());
    profile_name = ca_fields_get(&request->fields, "profile");
    profile = profile_name ? find_profile(ca, profile_name) : ca->default_profile;
    if ((err = ca_fields_get_int(&request->fields, "validity_days", profile->default_days,
                                 &days)) != CLM_OK)
        return adapter_ca_result_set(out, ADAPTER_CA_REJECTED, "%s", clm_error_message());
    /* A CA under a CA whose pathLenConstraint leaves no room would not verify. */
    if (profile->ca) {
        long issuer_path_len = X509_get_pathlen(ca->cert);
        if (issuer_path_len == 0 ||
            (issuer_path_len > 0 && profile->path_len >= issuer_path_len))
            return adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                                         "profile \"%s\": the issuing CA's pathLenConstraint %ld "
                                         "allows no CA certificate below it",
                                         profile->name, issuer_path_len);
    }
    if (days > profile->max_days)
        return adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                                     "fields.validity_days: %lld days asked, profile \"%s\" "
                                     "allows at most %d",
                                     (long long)days, profile->name, profile->max_days);
    now = ca_local_now(ca);
    not_after = now + days * 86400;
    if (not_after > ca->cert_not_after)
        return adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                                     "fields.validity_days: %lld days would outlive the issuing "
                                     "CA, which expires in %lld days",
                                     (long long)days,
                                     (long long)((ca->cert_not_after - now) / 86400));

    /* Proof of possession first: nothing else is read from a CSR that does not verify. */
    if (pki_csr_read(request->csr, request->csr_len, &req) != CLM_OK)
        return adapter_ca_result_set(out, ADAPTER_CA_REJECTED, "csr: %s", clm_error_message());
    subject_key = X509_REQ_get_pubkey(req);
    if (subject_key == NULL) {
        adapter_ca_result_set(out, ADAPTER_CA_REJECTED, "the CSR's public key does not decode");
        goto done;
    }
    if (!check_key(req, subject_key, out))
        goto done;
    r.exts = X509_REQ_get_extensions(req);
    r.sans = requested_get(&r, NID_subject_alt_name, &bad);
    if (bad) {
        adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                              "the CSR's subjectAltName is malformed or repeated");
        goto done;
    }
    if (!check_requested(&r, profile, out))
        goto done;
    if (r.sans != NULL && sk_GENERAL_NAME_num(r.sans) > PKI_CSR_SANS_MAX) {
        adapter_ca_result_set(out, ADAPTER_CA_REJECTED, "the CSR has more than %d SANs",
                              PKI_CSR_SANS_MAX);
        goto done;
    }
    if (r.sans != NULL && !check_sans(r.sans, out))
        goto done;
    if ((r.sans == NULL || sk_GENERAL_NAME_num(r.sans) == 0) &&
        (profile->eku & CA_LOCAL_EKU_SERVER_AUTH) && !sans_from_cn(req, &cn_sans, out))
        goto done;
    if (X509_NAME_entry_count(X509_REQ_get_subject_name(req)) == 0 && r.sans == NULL &&
        cn_sans == NULL) {
        adapter_ca_result_set(out, ADAPTER_CA_REJECTED,
                              "the CSR has neither a subject nor a subjectAltName");
        goto done;
    }
    err = build_cert(ca, req, subject_key, profile, now, not_after,
                     cn_sans ? cn_sans
                             : (r.sans && sk_GENERAL_NAME_num(r.sans) > 0 ? r.sans : NULL),
                     &x);
    if (err == CLM_OK)
        err = fill_issued(ca, x, out);
done:
    X509_free(x);
    GENERAL_NAMES_free(cn_sans);
    requested_free(&r);
    EVP_PKEY_free(subject_key);
    X509_REQ_free(req);
    ERR_clear_error();
    return err;
}

static clm_err local_poll(adapter_ca *ca, const char *cookie, adapter_ca_result *out)
{
    (void)ca;
    (void)cookie;
    if (out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "local CA: a result is required");
    return adapter_ca_result_set(out, ADAPTER_CA_UNSUPPORTED,
                                 "the local CA decides at once: it has nothing pending");
}

const adapter_ca_ops ca_local_ops = {
    .name = "local",
    .flags = ADAPTER_CA_F_REVOKE | ADAPTER_CA_F_CRL,
    .config_fields = config_fields,
    .n_config_fields = sizeof config_fields / sizeof *config_fields,
    .request_fields = request_fields,
    .n_request_fields = sizeof request_fields / sizeof *request_fields,
    .check_fields = local_check_fields,
    .open = local_open,
    .close = local_close,
    .submit = local_submit,
    .poll = local_poll,
    .revoke = ca_local_revoke,
    .crl = ca_local_crl,
};
