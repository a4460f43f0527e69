/* appliance/workorders/request.c: validation of CreateWorkOrder requests (workorders.h):
   everything that needs no store. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "adapters/adapter.h"
#include "appliance/ca/issue.h"
#include "appliance/inventory/certs.h"
#include "appliance/inventory/groups.h"
#include "appliance/workorders/internal.h"

#define VALIDITY_DAYS_MAX 36500

clm_err wo_key_type_of(const Clm__V1__CsrParameters *c, const char *prefix, pki_key_type *out)
{
    const char *type = c->key_type[0] ? c->key_type : "EC";
    uint32_t bits = c->key_bits;

    if (strcasecmp(type, "EC") == 0) {
        if (bits == 0 || bits == 256)
            *out = PKI_KEY_EC_P256;
        else if (bits == 384)
            *out = PKI_KEY_EC_P384;
        else if (bits == 521)
            *out = PKI_KEY_EC_P521;
        else
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "%skey_bits: %u is not an EC size (256, 384, 521)", prefix, bits);
        return CLM_OK;
    }
    if (strcasecmp(type, "RSA") == 0) {
        static const struct { uint32_t bits; pki_key_type type; } rsa[] = {
            {2048, PKI_KEY_RSA_2048}, {3072, PKI_KEY_RSA_3072}, {4096, PKI_KEY_RSA_4096},
            {6144, PKI_KEY_RSA_6144}, {7680, PKI_KEY_RSA_7680}, {8192, PKI_KEY_RSA_8192},
        };
        if (bits == 0)
            bits = 2048;
        for (size_t i = 0; i < sizeof(rsa) / sizeof(rsa[0]); i++)
            if (rsa[i].bits == bits) {
                *out = rsa[i].type;
                return CLM_OK;
            }
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "%skey_bits: %u is not an RSA size (2048, 3072, 4096, 6144, 7680, 8192)",
                        prefix, bits);
    }
    return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%skey_type: '%.16s' is not EC or RSA", prefix,
                    type);
}

clm_err wo_hash_of(const Clm__V1__CsrParameters *c, const char *prefix, pki_hash *out)
{
    if (c->hash[0] == '\0') {
        *out = PKI_HASH_SHA256;
        return CLM_OK;
    }
    if (pki_hash_parse(c->hash, out) != CLM_OK || *out == PKI_HASH_SHA1)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "%shash: '%.16s' is not one of SHA256, SHA384, SHA512", prefix, c->hash);
    return CLM_OK;
}

static const char *or_null(const char *s)
{
    return s && s[0] ? s : NULL;
}

clm_err wo_csr_fields(const Clm__V1__CsrParameters *c, const char *password, clm_buf *sans_buf,
                      pki_csr_fields *out)
{
    clm_err err = CLM_OK;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; err == CLM_OK && i < c->n_sans; i++)
        err = clm_buf_printf(sans_buf, "%s%s", i ? ", " : "", c->sans[i]);
    if (err == CLM_OK && c->n_sans)
        err = clm_buf_append_byte(sans_buf, 0);
    if (err != CLM_OK)
        return err;
    out->common_name = or_null(c->common_name);
    out->sans = c->n_sans ? (const char *)sans_buf->data : NULL;
    out->organization = or_null(c->organization);
    out->org_unit = or_null(c->org_unit);
    out->locality = or_null(c->locality);
    out->state = or_null(c->state);
    out->country = or_null(c->country);
    out->email = or_null(c->email);
    out->challenge_password = or_null(password);
    return wo_hash_of(c, "request.csr.", &out->hash);
}

uint32_t wo_validity_days(const Clm__V1__EnrollmentRequest *r)
{
    uint64_t days = r->validity;

    if (strcasecmp(r->validity_unit, "months") == 0)
        days *= 30;
    else if (strcasecmp(r->validity_unit, "years") == 0)
        days *= 365;
    return days > VALIDITY_DAYS_MAX ? VALIDITY_DAYS_MAX + 1 : (uint32_t)days;
}

/* Messages of lib/pki name "csr.<field>": the request's path is "request.csr.<field>". */
static clm_err prefixed(clm_err err, const char *prefix)
{
    char m[CLM_ERROR_MESSAGE_MAX];

    snprintf(m, sizeof(m), "%s", clm_error_message());
    return clm_fail(err, "%s%s", prefix, m);
}

static clm_err check_csr_parameters(const Clm__V1__CsrParameters *c)
{
    pki_csr_fields f;
    pki_key_type key;
    clm_buf sans = CLM_BUF_INIT;
    clm_err err;

    for (size_t i = 0; i < c->n_sans; i++)
        if (c->sans[i][0] == '\0' || strchr(c->sans[i], ',') != NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "request.csr.sans[%zu]: one name, not empty and without commas", i);
    if ((err = wo_key_type_of(c, "request.csr.", &key)) != CLM_OK)
        return err;
    if ((err = wo_csr_fields(c, c->challenge_password, &sans, &f)) == CLM_OK &&
        (err = pki_csr_check(&f, NULL, NULL)) != CLM_OK)
        err = prefixed(err, "request.");
    clm_buf_free(&sans);
    return err;
}

static clm_err check_attachments(const Clm__V1__EnrollmentRequest *r)
{
    if (r->n_attachments > WORKORDER_ATTACHMENTS_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "request.attachments: %zu, at most %d",
                        r->n_attachments, WORKORDER_ATTACHMENTS_MAX);
    for (size_t i = 0; i < r->n_attachments; i++) {
        const Clm__V1__Attachment *a = r->attachments[i];
        char field[64];
        clm_err err;

        snprintf(field, sizeof(field), "attachments[%zu].", i);
        if (a->name[0] == '\0' || strchr(a->name, '/') != NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "request.%sname: 1-255 characters without '/'", field);
        if ((err = inventory_text_check(a->name, 255, "request.", "attachments[].name")) != CLM_OK)
            return clm_fail(err, "request.%sname: 1-255 characters, no control characters",
                            field);
        if (strlen(a->comments) > WORKORDER_COMMENT_MAX)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "request.%scomments: at most %d characters",
                            field, WORKORDER_COMMENT_MAX);
        if (a->data.len > WORKORDER_ATTACHMENT_MAX)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "request.%sdata: %zu bytes, at most %d",
                            field, a->data.len, WORKORDER_ATTACHMENT_MAX);
    }
    return CLM_OK;
}

/* The CA Details toggles: days before expiry 1-120 when enabled (the guide's range). */
static clm_err check_setting(const Clm__V1__RenewalSetting *s, const char *name)
{
    if (s != NULL && s->enabled && (s->days_before_expiry < 1 || s->days_before_expiry > 120))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "request.%s.days_before_expiry: %u is outside 1-120", name,
                        s->days_before_expiry);
    return CLM_OK;
}

static clm_err check_request(const Clm__V1__EnrollmentRequest *r)
{
    unsigned char ip[16];
    clm_err err;

    if ((err = check_setting(r->auto_renew, "auto_renew")) != CLM_OK ||
        (err = check_setting(r->auto_regenerate, "auto_regenerate")) != CLM_OK ||
        (err = check_setting(r->re_enroll, "re_enroll")) != CLM_OK)
        return err;

    if (r->n_fields > 64)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "request.fields: %zu given, at most 64",
                        r->n_fields);
    if (strlen(r->csr_pem) > CONNECTOR_PEM_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "request.csr_pem: more than %d bytes",
                        CONNECTOR_PEM_MAX);
    if (r->csr_pem[0]) {
        const Clm__V1__CsrParameters *c = r->csr;
        if (c != NULL && (c->common_name[0] || c->n_sans || c->organization[0] ||
                          c->org_unit[0] || c->locality[0] || c->state[0] || c->country[0] ||
                          c->email[0] || c->challenge_password[0] || c->key_type[0] ||
                          c->key_bits))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "request.csr: not with csr_pem (the uploaded CSR names the subject "
                            "and holds the key)");
    } else if (r->csr == NULL) {
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "request.csr: required (or csr_pem)");
    } else if ((err = check_csr_parameters(r->csr)) != CLM_OK) {
        return err;
    }
    if (r->validity_unit[0] && strcasecmp(r->validity_unit, "days") != 0 &&
        strcasecmp(r->validity_unit, "months") != 0 && strcasecmp(r->validity_unit, "years") != 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "request.validity_unit: '%.16s' is not days, months or years",
                        r->validity_unit);
    if (wo_validity_days(r) > VALIDITY_DAYS_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "request.validity: more than %d days",
                        VALIDITY_DAYS_MAX);
    if ((err = check_attachments(r)) != CLM_OK)
        return err;
    if ((err = inventory_check_attributes(r->attributes, r->n_attributes,
                                          "request.attributes")) != CLM_OK)
        return err;
    if ((err = inventory_text_check(r->device_name, 255, "request.", "device_name")) != CLM_OK ||
        (err = inventory_text_check(r->tracking_id, 128, "request.", "tracking_id")) != CLM_OK)
        return err;
    if (r->application_ip[0] && inet_pton(AF_INET, r->application_ip, ip) != 1 &&
        inet_pton(AF_INET6, r->application_ip, ip) != 1)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "request.application_ip: '%.64s' is not an IPv4 or IPv6 address",
                        r->application_ip);
    return CLM_OK;
}

clm_err workorder_validate_create(const Clm__V1__CreateWorkOrderRequest *req)
{
    workorder_kind kind;
    clm_err err;

    if ((err = workorder_kind_parse(req->kind, "kind", &kind)) != CLM_OK)
        return err;
    if (strlen(req->group) > 64 || strlen(req->connector) > 64)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: at most 64 characters",
                        strlen(req->group) > 64 ? "group" : "connector");
    if (strlen(req->comment) > WORKORDER_COMMENT_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "comment: %zu characters, at most %d",
                        strlen(req->comment), WORKORDER_COMMENT_MAX);
    if (kind == WO_KIND_ENROLL) {
        if (req->connector[0] == '\0')
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "connector: required to enroll");
        if (req->request == NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "request: required to enroll");
        if (req->target_sha256[0] || req->revoke_reason[0])
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "target_sha256: not with kind enroll (nor revoke_reason)");
        return check_request(req->request);
    }
    if (req->request != NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "request: only for kind enroll (%s takes the certificate's)",
                        workorder_kind_name(kind));
    if (req->target_sha256[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "target_sha256: required for kind %s",
                        workorder_kind_name(kind));
    {
        unsigned char digest[32];
        size_t len;
        if ((err = inventory_parse_id(req->target_sha256, "target_sha256", digest, &len)) != CLM_OK)
            return err;
    }
    if (kind == WO_KIND_REVOKE) {
        adapter_ca_revoke_reason reason;
        if (req->revoke_reason[0] &&
            adapter_ca_revoke_reason_parse(req->revoke_reason, &reason) != CLM_OK)
            return prefixed(CLM_ERR_INVALID_ARGUMENT, "revoke_reason: ");
    } else if (req->revoke_reason[0]) {
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "revoke_reason: only for kind revoke");
    }
    return CLM_OK;
}
