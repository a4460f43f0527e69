/* appliance/inventory/certs.c: import, lookup, update and delete of certificates. */
#include "appliance/inventory/certs.h"

#include <ctype.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/inventory/groups.h"
#include "appliance/inventory/tables.h"
#include "lib/base/buf.h"
#include "lib/pki/cert.h"
#include "lib/pki/facts.h"
#include "lib/pki/key.h"
#include "lib/pki/read.h"

/* ---- validation ---- */

clm_err inventory_check_attributes(Clm__V1__Attribute **attributes, size_t n, const char *field)
{
    if (n > 64)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: %zu attributes, at most 64", field, n);
    for (size_t i = 0; i < n; i++) {
        size_t klen = strlen(attributes[i]->key), vlen = strlen(attributes[i]->value);
        if (klen == 0 || klen > ATTRIBUTE_KEY_MAX)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s[%zu].key: must be 1-%d characters",
                            field, i, ATTRIBUTE_KEY_MAX);
        if (vlen > ATTRIBUTE_VALUE_MAX)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s[%zu].value: %zu characters, at most %d",
                            field, i, vlen, ATTRIBUTE_VALUE_MAX);
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(attributes[i]->key, attributes[j]->key) == 0)
                return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s[%zu].key: '%s' given twice", field,
                                i, attributes[i]->key);
    }
    return CLM_OK;
}

clm_err inventory_import_validate(const Clm__V1__ImportCertificatesRequest *req)
{
    if (req->n_items == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "items: nothing to import");
    if (req->n_items > IMPORT_MAX_ITEMS)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "items: %zu items, at most %d per request",
                        req->n_items, IMPORT_MAX_ITEMS);
    for (size_t i = 0; i < req->n_items; i++) {
        if (strlen(req->items[i]->name) > 256)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "items[%zu].name: longer than 256", i);
        if (req->items[i]->data.len == 0)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "items[%zu].data: empty", i);
    }
    if (req->status > CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_IGNORED || req->status < 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "status: %d is not a certificate status",
                        req->status);
    return inventory_check_attributes(req->attributes, req->n_attributes, "attributes");
}

/* ---- ids ---- */

clm_err inventory_parse_id(const char *text, const char *field, unsigned char *digest,
                           size_t *digest_len)
{
    size_t n = 0;
    int half = -1;

    for (const char *p = text; *p; p++) {
        int v;
        if (*p == ':' || *p == ' ')
            continue;
        if (!isxdigit((unsigned char)*p) || n == 32)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "%s: '%s' is not a SHA-256 fingerprint or SHA-1 thumbprint in hex",
                            field, text);
        v = isdigit((unsigned char)*p) ? *p - '0' : tolower((unsigned char)*p) - 'a' + 10;
        if (half < 0) {
            half = v;
        } else {
            digest[n++] = (unsigned char)(half << 4 | v);
            half = -1;
        }
    }
    if (half >= 0 || (n != 32 && n != 20))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "%s: '%s' is not a SHA-256 fingerprint (64 hex digits) or SHA-1 "
                        "thumbprint (40)", field, text);
    *digest_len = n;
    return CLM_OK;
}

clm_err inventory_cert_find(store_txn *txn, clm_arena *arena, const char *id,
                            Clm__Store__V1__CertificateRecord **record)
{
    unsigned char digest[32];
    size_t len;
    store_item item;
    clm_err err;

    if ((err = inventory_parse_id(id, "id", digest, &len)) != CLM_OK)
        return err;
    err = store_index_get(txn, &inventory_certificates,
                          CERT_INDEX(len == 32 ? CERT_INDEX_SHA256 : CERT_INDEX_SHA1), digest, len,
                          &item);
    if (err == CLM_ERR_NOT_FOUND)
        return clm_fail(err, "id: no certificate %s in the inventory", id);
    if (err != CLM_OK)
        return err;
    *record = (void *)inventory_unpack(arena, &inventory_certificates, &item);
    return *record ? CLM_OK : clm_fail(CLM_ERR_STORE, "certificate record does not unpack");
}

clm_err inventory_cert_get(store_txn *txn, clm_arena *arena, uint64_t id,
                           Clm__Store__V1__CertificateRecord **record)
{
    unsigned char key[8];
    store_item item;
    clm_err err;

    inventory_id_key(id, key);
    if ((err = store_get(txn, &inventory_certificates, key, 8, &item)) != CLM_OK)
        return err;
    *record = (void *)inventory_unpack(arena, &inventory_certificates, &item);
    return *record ? CLM_OK : clm_fail(CLM_ERR_STORE, "certificate record does not unpack");
}

clm_err inventory_cert_put(store_txn *txn, Clm__Store__V1__CertificateRecord *record,
                           int64_t now_ns)
{
    unsigned char key[8];

    record->updated_at = now_ns;
    inventory_id_key(record->id, key);
    return store_put(txn, &inventory_certificates, key, 8, &record->base, STORE_PUT_UPDATE);
}

clm_err inventory_cert_delete(store_txn *txn, const Clm__Store__V1__CertificateRecord *record)
{
    unsigned char key[8];

    inventory_id_key(record->id, key);
    return store_delete(txn, &inventory_certificates, key, 8);
}

/* ---- facts to record ---- */

/* One hex digit's value; the facts' hex is well-formed (lower case), anything else 0. */
static unsigned hex_digit(char c)
{
    int v = clm_hex_value(c);
    return v < 0 ? 0 : (unsigned)v;
}

/* (strtoul per byte was 3% of clmd's CPU during ingest) */
static void hex_to_bytes(clm_arena *arena, const char *hex, ProtobufCBinaryData *out)
{
    size_t n = hex ? strlen(hex) / 2 : 0;

    out->len = 0;
    out->data = NULL;
    if (n == 0 || (out->data = clm_arena_alloc(arena, n)) == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        out->data[i] = (uint8_t)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
    out->len = n;
}

static const char *const key_usage_names[] = {
    "digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement",
    "keyCertSign",      "cRLSign",        "encipherOnly",    "decipherOnly"};

void inventory_fill_facts(clm_arena *arena, const pki_facts *f, Clm__Store__V1__CertificateRecord *r)
{
    r->subject = f->subject ? f->subject : "";
    r->issuer = f->issuer ? f->issuer : "";
    r->common_name = f->common_name ? f->common_name : "";
    r->dns_names = f->dns_names.v;
    r->n_dns_names = f->dns_names.n;
    r->ip_addresses = f->ip_addresses.v;
    r->n_ip_addresses = f->ip_addresses.n;
    r->emails = f->emails.v;
    r->n_emails = f->emails.n;
    r->uris = f->uris.v;
    r->n_uris = f->uris.n;
    r->serial_hex = f->serial ? f->serial : "";
    r->not_before = f->not_before;
    r->not_after = f->not_after;
    r->key_type = (char *)pki_key_alg_name(f->key_alg);
    r->key_bits = f->key_bits > 0 ? (uint32_t)f->key_bits : 0;
    r->key_curve = f->key_curve ? f->key_curve : "";
    r->signature_algorithm = f->signature_algorithm ? f->signature_algorithm : "";
    hex_to_bytes(arena, f->sha1, &r->sha1);
    hex_to_bytes(arena, f->sha256, &r->sha256);
    hex_to_bytes(arena, f->subject_key_id, &r->ski);
    hex_to_bytes(arena, f->authority_key_id, &r->aki);
    r->key_usage = clm_arena_alloc(arena, 9 * sizeof(char *));
    for (unsigned bit = 0; f->has_key_usage && bit < 9 && r->key_usage; bit++)
        if (f->key_usage & (1u << bit))
            r->key_usage[r->n_key_usage++] = (char *)key_usage_names[bit];
    r->extended_key_usage = clm_arena_alloc(arena, (f->ext_key_usage.n + 1) * sizeof(char *));
    for (size_t i = 0; i < f->ext_key_usage.n && r->extended_key_usage; i++)
        r->extended_key_usage[r->n_extended_key_usage++] =
            f->ext_key_usage_names && f->ext_key_usage_names[i]
                ? (char *)f->ext_key_usage_names[i]
                : f->ext_key_usage.v[i];
    r->is_ca = f->is_ca;
    r->path_length = f->path_len;
    r->ocsp_urls = f->ocsp_uris.v;
    r->n_ocsp_urls = f->ocsp_uris.n;
    r->ca_issuer_urls = f->ca_issuer_uris.v;
    r->n_ca_issuer_urls = f->ca_issuer_uris.n;
    r->crl_urls = f->crl_uris.v;
    r->n_crl_urls = f->crl_uris.n;
    r->self_signed = f->self_signed;
    r->template_name = f->template_name ? f->template_name : f->template_oid ? f->template_oid : "";
    r->version = (uint32_t)f->version;
}

/* ---- import ---- */

typedef struct parsed_cert {
    const unsigned char *der;
    size_t der_len;
    pki_facts *facts;
    clm_buf sealed_key;
    size_t result; /* index into the response's results */
} parsed_cert;

/* One request between parsing and writing; import_job in certs.h. The context is a copy:
 * a queued job outlives its caller's stack frame. */
struct import_job {
    import_context ctx_copy;
    const import_context *ctx; /* &ctx_copy */
    const Clm__V1__ImportCertificatesRequest *req;
    Clm__V1__ImportCertificatesResponse *resp;
    size_t results_cap;
    parsed_cert *certs;
    size_t n_certs, certs_cap;
    int64_t now;
    uint64_t next_id, ids_left; /* ids reserved by this transaction run, not yet used */
};
typedef struct import_job import_state;

static Clm__V1__ImportResult *add_result(import_state *st, const char *label, const char *outcome,
                                         const char *error)
{
    Clm__V1__ImportResult *r = clm_arena_alloc(st->ctx->arena, sizeof(*r));

    if (r == NULL)
        return NULL;
    if (st->resp->n_results == st->results_cap) {
        size_t cap = st->results_cap ? st->results_cap * 2 : 64;
        Clm__V1__ImportResult **grown = clm_arena_alloc(st->ctx->arena, cap * sizeof(*grown));
        if (grown == NULL)
            return NULL;
        if (st->resp->n_results)
            memcpy(grown, st->resp->results, st->resp->n_results * sizeof(*grown));
        st->resp->results = grown;
        st->results_cap = cap;
    }
    clm__v1__import_result__init(r);
    r->item = clm_arena_strdup(st->ctx->arena, label);
    r->outcome = (char *)outcome;
    r->error = error ? clm_arena_strdup(st->ctx->arena, error) : "";
    st->resp->results[st->resp->n_results++] = r;
    if (strcmp(outcome, "error") == 0)
        st->resp->errors++;
    return r;
}

/* The key of `keys` that belongs to this certificate, sealed for its record. */
static void seal_matching_key(import_state *st, parsed_cert *pc, const pki_read_result *read)
{
    const unsigned char *p = pc->der;
    X509 *x = d2i_X509(NULL, &p, (long)pc->der_len);
    char aad[80];

    if (x == NULL)
        return;
    snprintf(aad, sizeof(aad), "cert-key:%s", pc->facts->sha256);
    for (size_t i = 0; i < read->n_items; i++) {
        const pki_item *k = &read->items[i];
        clm_buf pem = CLM_BUF_INIT;
        if (k->kind != PKI_ITEM_KEY || k->err != CLM_OK || pki_cert_check_key(x, k->key) != CLM_OK)
            continue;
        if (pki_key_to_pem(k->key, &pem) == CLM_OK)
            seal(st->ctx->seal, aad, pem.data, pem.len, &pc->sealed_key);
        clm_buf_wipe(&pem);
        break;
    }
    X509_free(x);
    clm_error_clear();
}

static clm_err parse_item(import_state *st, size_t index)
{
    const Clm__V1__ImportItem *item = st->req->items[index];
    pki_read_options opts = {0};
    pki_read_result read;
    char label[300];
    clm_err err;

    snprintf(label, sizeof(label), "%s", item->name[0] ? item->name : "item");
    opts.name = label;
    opts.password = item->password[0] ? item->password : NULL;
    err = pki_read(item->data.data, item->data.len, &opts, &read);
    if (err != CLM_OK) {
        add_result(st, label, "error", clm_error_message());
        return CLM_OK;
    }
    for (size_t i = 0; i < read.n_items; i++) {
        const pki_item *it = &read.items[i];
        if (it->kind != PKI_ITEM_CERT) {
            if (it->err != CLM_OK)
                add_result(st, it->where, "error", it->error);
            continue;
        }
        if (it->err != CLM_OK) {
            add_result(st, it->where, "error", it->error);
            continue;
        }
        if (st->n_certs == st->certs_cap) {
            size_t cap = st->certs_cap ? st->certs_cap * 2 : 64;
            parsed_cert *grown = realloc(st->certs, cap * sizeof(*grown));
            if (grown == NULL) {
                pki_read_result_free(&read);
                return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            }
            st->certs = grown;
            st->certs_cap = cap;
        }
        parsed_cert *pc = &st->certs[st->n_certs];
        unsigned char *der = clm_arena_memdup(st->ctx->arena, it->der, it->der_len);
        if (der == NULL || pki_facts_from_der(der, it->der_len, &pc->facts) != CLM_OK) {
            add_result(st, it->where, "error", der ? clm_error_message() : "out of memory");
            continue;
        }
        pc->der = der;
        pc->der_len = it->der_len;
        pc->sealed_key = (clm_buf)CLM_BUF_INIT;
        pc->result = st->resp->n_results;
        Clm__V1__ImportResult *r = add_result(st, it->where, "added", NULL);
        if (r != NULL) { /* the reply outlives the facts: copy */
            r->sha256 = clm_arena_strdup(st->ctx->arena, pc->facts->sha256);
            r->common_name = clm_arena_strdup(st->ctx->arena, pc->facts->common_name
                                                                  ? pc->facts->common_name
                                                                  : "");
        }
        if (st->req->import_private_keys && read.n_keys > 0 && st->ctx->seal != NULL)
            seal_matching_key(st, pc, &read);
        st->n_certs++;
    }
    if (read.n_certs == 0 && read.n_errors == 0)
        add_result(st, label, "error", "no certificate found in this item");
    pki_read_result_free(&read);
    return CLM_OK;
}

static Clm__Store__V1__CertificateSource *import_source(import_state *st)
{
    Clm__Store__V1__CertificateSource *s = clm_arena_alloc(st->ctx->arena, sizeof(*s));

    if (s == NULL)
        return NULL;
    clm__store__v1__certificate_source__init(s);
    s->kind = "imported";
    s->by = (char *)st->ctx->identity;
    s->first_seen = s->last_seen = st->now;
    return s;
}

/* An existing record: add or refresh the "imported" source; take a key it lacked. */
static clm_err merge(import_state *st, store_txn *txn, const store_item *found, parsed_cert *pc,
                     Clm__V1__ImportResult *result)
{
    clm_arena *arena = st->ctx->arena;
    Clm__Store__V1__CertificateRecord *r = (void *)inventory_unpack(arena, &inventory_certificates,
                                                                    found);
    size_t i;

    if (r == NULL)
        return clm_fail(CLM_ERR_STORE, "certificate record does not unpack");
    for (i = 0; i < r->n_sources; i++)
        if (strcmp(r->sources[i]->kind, "imported") == 0 &&
            strcmp(r->sources[i]->by, st->ctx->identity) == 0)
            break;
    if (i < r->n_sources) {
        r->sources[i]->last_seen = st->now;
    } else {
        Clm__Store__V1__CertificateSource **grown =
            clm_arena_alloc(arena, (r->n_sources + 1) * sizeof(*grown));
        if (grown == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        if (r->n_sources)
            memcpy(grown, r->sources, r->n_sources * sizeof(*grown));
        grown[r->n_sources++] = import_source(st);
        r->sources = grown;
    }
    if (pc->sealed_key.len > 0 && r->sealed_private_key.len == 0) {
        r->sealed_private_key.data = pc->sealed_key.data;
        r->sealed_private_key.len = pc->sealed_key.len;
        result->private_key_stored = 1;
    }
    result->outcome = "merged";
    st->resp->merged++;
    return inventory_cert_put(txn, r, st->now);
}

static clm_err add_new(import_state *st, store_txn *txn, uint64_t group_id, size_t index,
                       Clm__V1__ImportResult *result)
{
    clm_arena *arena = st->ctx->arena;
    parsed_cert *pc = &st->certs[index];
    Clm__Store__V1__CertificateRecord *r = clm_arena_alloc(arena, sizeof(*r));
    unsigned char key[8];
    clm_err err;

    if (r == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    clm__store__v1__certificate_record__init(r);
    /* One reservation for the rest of the request (a read and a write of the meta
     * sequence each); ids of certificates that turn out to merge are skipped. */
    if (st->ids_left == 0) {
        if ((err = store_seq_next(txn, &inventory_certificates, st->n_certs - index,
                                  &st->next_id)) != CLM_OK)
            return err;
        st->ids_left = st->n_certs - index;
    }
    r->id = st->next_id++;
    st->ids_left--;
    r->der.data = (uint8_t *)pc->der;
    r->der.len = pc->der_len;
    inventory_fill_facts(arena, pc->facts, r);
    r->status = st->req->status ? st->req->status
                                : CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_MONITORED;
    r->group_id = group_id;
    r->sources = clm_arena_alloc(arena, sizeof(*r->sources));
    r->sources[0] = import_source(st);
    r->n_sources = 1;
    r->attributes = clm_arena_alloc(arena, (st->req->n_attributes + 1) * sizeof(*r->attributes));
    for (size_t i = 0; i < st->req->n_attributes; i++) {
        Clm__Store__V1__Attribute *a = clm_arena_alloc(arena, sizeof(*a));
        clm__store__v1__attribute__init(a);
        a->key = st->req->attributes[i]->key;
        a->value = st->req->attributes[i]->value;
        r->attributes[r->n_attributes++] = a;
    }
    if (pc->sealed_key.len > 0) {
        r->sealed_private_key.data = pc->sealed_key.data;
        r->sealed_private_key.len = pc->sealed_key.len;
        result->private_key_stored = 1;
    }
    r->created_at = r->updated_at = st->now;
    inventory_id_key(r->id, key);
    st->resp->added++;
    return store_put(txn, &inventory_certificates, key, 8, &r->base, STORE_PUT_APPEND);
}

clm_err inventory_import_apply(store_txn *txn, import_job *st)
{
    uint64_t group_id = INVENTORY_DEFAULT_GROUP_ID;
    clm_err err;

    /* store_update may run this again after growing the map: start from scratch. */
    st->resp->added = st->resp->merged = 0;
    st->ids_left = 0;
    if (st->req->group[0] != '\0') {
        Clm__Store__V1__GroupRecord *g;
        if ((err = group_find(txn, st->ctx->arena, st->req->group, "group", &g)) != CLM_OK)
            return err;
        group_id = g->id;
    }
    for (size_t i = 0; i < st->n_certs; i++) {
        parsed_cert *pc = &st->certs[i];
        Clm__V1__ImportResult *result = st->resp->results[pc->result];
        unsigned char digest[32];
        store_item found;
        size_t len;

        result->outcome = "added";
        result->private_key_stored = 0;
        inventory_parse_id(pc->facts->sha256, "sha256", digest, &len);
        err = store_index_get(txn, &inventory_certificates, CERT_INDEX(CERT_INDEX_SHA256), digest,
                              32, &found);
        if (err == CLM_OK)
            err = merge(st, txn, &found, pc, result);
        else if (err == CLM_ERR_NOT_FOUND)
            err = add_new(st, txn, group_id, i, result);
        if (err != CLM_OK)
            return err;
    }
    return st->ctx->audit ? st->ctx->audit(txn, st->ctx->audit_arg) : CLM_OK;
}

clm_err inventory_import_prepare(const import_context *ctx,
                                 const Clm__V1__ImportCertificatesRequest *req,
                                 Clm__V1__ImportCertificatesResponse *resp, import_job **out)
{
    import_job *st = calloc(1, sizeof(*st));
    clm_err err = CLM_OK;

    *out = NULL;
    if (st == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    st->ctx_copy = *ctx;
    st->ctx = &st->ctx_copy;
    st->req = req;
    st->resp = resp;
    st->now = clm_clock_now_ns(ctx->clock);
    for (size_t i = 0; i < req->n_items && err == CLM_OK; i++)
        err = parse_item(st, i);
    if (err != CLM_OK) {
        inventory_import_job_free(st);
        return err;
    }
    *out = st;
    return CLM_OK;
}

size_t inventory_import_job_certs(const import_job *job)
{
    return job->n_certs;
}

void inventory_import_job_free(import_job *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n_certs; i++) {
        pki_facts_free(st->certs[i].facts);
        clm_buf_wipe(&st->certs[i].sealed_key);
    }
    free(st->certs);
    free(st);
}

static clm_err import_txn(store_txn *txn, void *arg)
{
    return inventory_import_apply(txn, arg);
}

clm_err inventory_import(const import_context *ctx, const Clm__V1__ImportCertificatesRequest *req,
                         Clm__V1__ImportCertificatesResponse *resp)
{
    import_job *job;
    clm_err err = inventory_import_prepare(ctx, req, resp, &job);

    /* Nothing parsed: nothing to write (the server audits the call itself). */
    if (err == CLM_OK && job->n_certs > 0)
        err = store_update(ctx->store, import_txn, job);
    inventory_import_job_free(job);
    return err;
}
