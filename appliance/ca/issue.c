/* appliance/ca/issue.c: the direct issuing path (issue.h); revocation and the rest: manage.c. */
#include "appliance/ca/issue.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/ca/fields.h"
#include "adapters/ca/local/local.h"
#include "appliance/inventory/certs.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/tables.h"
#include "lib/pki/cert.h"
#include "lib/pki/csr.h"
#include "lib/pki/facts.h"
#include "lib/pki/key.h"

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;

void connector_state_lock(void)
{
    pthread_mutex_lock(&state_lock);
}

void connector_state_unlock(void)
{
    pthread_mutex_unlock(&state_lock);
}

/* ---- reads before the work ---- */

typedef struct lookup_op {
    clm_arena *arena;
    const char *connector;
    const char *field;
    const char *group; /* NULL: no group wanted */
    Clm__Store__V1__ConnectorRecord *record;
    uint64_t group_id;
    const Clm__V1__GroupPolicy *policy; /* of the group asked for, or of Default */
} lookup_op;

static clm_err lookup_txn(store_txn *txn, void *arg)
{
    lookup_op *op = arg;
    Clm__Store__V1__GroupRecord *g;
    clm_err err;

    if ((err = connector_find(txn, op->arena, op->connector, op->field, &op->record)) != CLM_OK)
        return err;
    if (op->group == NULL)
        return CLM_OK;
    if (op->group[0] == '\0')
        err = group_get_by_id(txn, op->arena, INVENTORY_DEFAULT_GROUP_ID, &g);
    else
        err = group_find(txn, op->arena, op->group, "group", &g);
    if (err != CLM_OK)
        return err;
    op->group_id = g->id;
    op->policy = g->policy;
    return CLM_OK;
}

static clm_err text_copy(clm_arena *arena, const clm_buf *b, char **out)
{
    if ((*out = clm_arena_alloc(arena, b->len + 1)) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if (b->len)
        memcpy(*out, b->data, b->len);
    (*out)[b->len] = '\0';
    return CLM_OK;
}

/* DER to PEM text without parsing it again (OpenSSL 3 would decode the public key
   through its provider machinery: about a tenth of an Issue). The leaf was read by
   pki_facts_from_der; the chain comes from the adapter. */
static clm_err der_to_pem(const unsigned char *der, size_t len, clm_buf *out)
{
    unsigned char line[65];
    clm_err err;

    if (der == NULL || len == 0)
        return clm_fail(CLM_ERR_PARSE, "the CA returned an empty certificate");
    if ((err = clm_buf_append_str(out, "-----BEGIN CERTIFICATE-----\n")) != CLM_OK)
        return err;
    for (size_t i = 0; i < len; i += 48) {
        int n = EVP_EncodeBlock(line, der + i, (int)(len - i < 48 ? len - i : 48));
        if ((err = clm_buf_append(out, line, (size_t)n)) != CLM_OK ||
            (err = clm_buf_append_byte(out, '\n')) != CLM_OK)
            return err;
    }
    return clm_buf_append_str(out, "-----END CERTIFICATE-----\n");
}

static int declares(const adapter_field *decls, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(decls[i].name, name) == 0)
            return 1;
    return 0;
}

/* The request fields: the API's, plus the connector's profile when none is given. */
static clm_err request_fields(clm_arena *arena, const adapter_ca_ops *ops,
                              const Clm__Store__V1__ConnectorRecord *r,
                              const Clm__V1__IssueRequest *req, adapter_fields *out)
{
    bool has_profile = false;
    adapter_field_value *v;
    size_t n = 0;

    if (req->n_fields > CA_FIELDS_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "fields: %zu given, at most %d",
                        req->n_fields, CA_FIELDS_MAX);
    if ((v = clm_arena_alloc(arena, (req->n_fields + 1) * sizeof(*v))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < req->n_fields; i++) {
        v[n].name = req->fields[i]->name;
        v[n++].value = req->fields[i]->value;
        has_profile |= strcmp(req->fields[i]->name, "profile") == 0;
    }
    if (!has_profile && r->profile[0] != '\0' &&
        declares(ops->request_fields, ops->n_request_fields, "profile")) {
        v[n].name = "profile";
        v[n++].value = r->profile;
    }
    out->v = v;
    out->n = n;
    return ops->check_fields(out, true);
}

/* ---- open instances kept for Issue ---- */

/*
 * Opening a connector reads its state and parses its keys (the local CA's key through
 * OpenSSL 3's decoders: about a fifth of an Issue). Issue keeps the instances it opened,
 * keyed by connector id and record updated_at (an UpdateConnector makes a new one), and
 * shares each between threads (submit MAY run concurrently on one instance). An instance
 * is dropped when a submit on it did not issue (a CA not set up answers unconfigured
 * until InitLocalCa, which also forgets the connector's instances).
 */
#define INSTANCE_CACHE_MAX 8

typedef struct cached_instance {
    uint64_t id;
    int64_t updated_at;
    connector_instance inst;
    clm_arena arena; /* the record's copy, the instance's fields */
    int refs;
    bool cached; /* in the table; false: closed by the last release */
} cached_instance;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cached_instance *cache[INSTANCE_CACHE_MAX];

static void instance_free(cached_instance *c)
{
    connector_close(&c->inst);
    clm_arena_free(&c->arena);
    free(c);
}

/* Take c out of the table (cache_lock held); closed now when unused, else on release. */
static void instance_drop_locked(size_t i)
{
    cached_instance *c = cache[i];

    cache[i] = NULL;
    c->cached = false;
    if (c->refs == 0)
        instance_free(c);
}

static clm_err instance_acquire(const connector_context *ctx,
                                const Clm__Store__V1__ConnectorRecord *r, cached_instance **out)
{
    ProtobufCAllocator allocator;
    cached_instance *c;
    size_t len, slot = INSTANCE_CACHE_MAX;
    uint8_t *packed;
    clm_err err;

    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < INSTANCE_CACHE_MAX; i++) {
        if (cache[i] == NULL)
            continue;
        if (cache[i]->id == r->id && cache[i]->updated_at == r->updated_at) {
            cache[i]->refs++;
            *out = cache[i];
            pthread_mutex_unlock(&cache_lock);
            return CLM_OK;
        }
        if (cache[i]->id == r->id)
            instance_drop_locked(i); /* an older version of the record */
    }
    pthread_mutex_unlock(&cache_lock);

    /* Open outside the lock (it reads the store and parses keys); the instance owns a
       copy of the record, which its adapter borrows until close. */
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    c->arena = (clm_arena)CLM_ARENA_INIT;
    c->id = r->id;
    c->updated_at = r->updated_at;
    allocator = (ProtobufCAllocator){clm_arena_pb_alloc, clm_arena_pb_free, &c->arena};
    len = protobuf_c_message_get_packed_size(&r->base);
    packed = clm_arena_alloc(&c->arena, len ? len : 1);
    err = packed ? CLM_OK : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if (err == CLM_OK) {
        Clm__Store__V1__ConnectorRecord *copy;
        protobuf_c_message_pack(&r->base, packed);
        copy = clm__store__v1__connector_record__unpack(&allocator, len, packed);
        err = copy ? connector_open(ctx->store, ctx->seal, ctx->clock, &c->arena, copy, &c->inst)
                   : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    if (err != CLM_OK) {
        instance_free(c);
        return err;
    }
    c->refs = 1;
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < INSTANCE_CACHE_MAX && slot == INSTANCE_CACHE_MAX; i++)
        if (cache[i] == NULL)
            slot = i;
    for (size_t i = 0; i < INSTANCE_CACHE_MAX && slot == INSTANCE_CACHE_MAX; i++)
        if (cache[i]->refs == 0) {
            instance_drop_locked(i);
            slot = i;
        }
    if (slot < INSTANCE_CACHE_MAX) {
        cache[slot] = c;
        c->cached = true;
    }
    pthread_mutex_unlock(&cache_lock);
    *out = c;
    return CLM_OK;
}

static void instance_release(cached_instance *c, bool keep)
{
    pthread_mutex_lock(&cache_lock);
    if (!keep && c->cached)
        for (size_t i = 0; i < INSTANCE_CACHE_MAX; i++)
            if (cache[i] == c) {
                cache[i] = NULL;
                c->cached = false;
            }
    if (--c->refs == 0 && !c->cached)
        instance_free(c);
    pthread_mutex_unlock(&cache_lock);
}

void connector_instances_forget(uint64_t id)
{
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < INSTANCE_CACHE_MAX; i++)
        if (cache[i] != NULL && (id == 0 || cache[i]->id == id))
            instance_drop_locked(i);
    pthread_mutex_unlock(&cache_lock);
}

/* ---- the CSR ---- */

static bool listed(char **names, size_t n, const char *value)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(names[i], value) == 0)
            return true;
    return false;
}

/* The certificate's group policy: allowed key types and CSR hash functions. */
static clm_err check_group_policy(const Clm__V1__GroupPolicy *p, const char *group,
                                  pki_key_type key_type, const char *hash, const char *field)
{
    const char *key_name = pki_key_type_name(key_type);

    if (p == NULL)
        return CLM_OK;
    if (p->n_allowed_key_types > 0 &&
        !listed(p->allowed_key_types, p->n_allowed_key_types, key_name))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "%s: key type %s is not allowed by the policy of group '%s'", field,
                        key_name, group);
    if (p->n_allowed_hash_functions > 0 &&
        !listed(p->allowed_hash_functions, p->n_allowed_hash_functions, hash))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "%s: signed with %s, which the policy of group '%s' does not allow",
                        field, hash, group);
    return CLM_OK;
}

/* An uploaded request: proof of possession, then its key type and hash. */
static clm_err read_uploaded_as(const char *pem, const char *field, pki_key_type *key_type,
                                const char **hash)
{
    X509_REQ *req = NULL;
    EVP_PKEY *key;
    int md = NID_undef, pk = NID_undef;
    clm_err err;

    if ((err = pki_csr_read(pem, strlen(pem), &req)) != CLM_OK) {
        char m[CLM_ERROR_MESSAGE_MAX];
        snprintf(m, sizeof(m), "%s", clm_error_message());
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: %s", field, m);
    }
    key = X509_REQ_get0_pubkey(req);
    if (key == NULL || pki_key_type_of_request(req, key, key_type) != CLM_OK) {
        char m[CLM_ERROR_MESSAGE_MAX];
        snprintf(m, sizeof(m), "%s", key ? clm_error_message() : "no public key");
        X509_REQ_free(req);
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: unsupported key: %s", field, m);
    }
    OBJ_find_sigid_algs(X509_REQ_get_signature_nid(req), &md, &pk);
    *hash = md == NID_sha256 ? "SHA256" : md == NID_sha384 ? "SHA384"
          : md == NID_sha512 ? "SHA512" : md == NID_sha1 ? "SHA1" : "an unknown hash";
    X509_REQ_free(req);
    return CLM_OK;
}

static clm_err read_uploaded(const char *pem, pki_key_type *key_type, const char **hash)
{
    return read_uploaded_as(pem, "csr_pem", key_type, hash);
}

clm_err connector_check_key_policy(const Clm__V1__GroupPolicy *policy, const char *group,
                                   pki_key_type key_type, const char *hash, const char *field)
{
    return check_group_policy(policy, group, key_type, hash, field);
}

clm_err connector_check_csr(const char *pem, const Clm__V1__GroupPolicy *policy,
                            const char *group, const char *field)
{
    pki_key_type key_type;
    const char *hash;
    clm_err err = read_uploaded_as(pem, field, &key_type, &hash);

    return err ? err : check_group_policy(policy, group, key_type, hash, field);
}

static clm_err check_names(const Clm__V1__IssueRequest *req)
{
    if (strlen(req->common_name) > 64)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "common_name: at most 64 characters");
    if (req->n_dns_names > CONNECTOR_DNS_NAMES_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "dns_names: at most %d",
                        CONNECTOR_DNS_NAMES_MAX);
    for (size_t i = 0; i < req->n_dns_names; i++) {
        const char *d = req->dns_names[i];
        if (d[0] == '\0' || strlen(d) > 253 || strpbrk(d, ", \t\r\n") != NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "dns_names[%zu]: 1-253 characters without blanks or commas", i);
    }
    return CLM_OK;
}

/* A new EC P-256 key and a CSR for the names asked; the key's PEM goes to key_pem. */
static clm_err generate_csr(clm_arena *arena, const Clm__V1__IssueRequest *req, clm_buf *csr,
                            clm_buf *key_pem)
{
    pki_csr_fields f = {.hash = PKI_HASH_SHA256};
    clm_buf sans = CLM_BUF_INIT;
    EVP_PKEY *key = NULL;
    clm_err err = CLM_OK;

    (void)arena;
    if (req->common_name[0] == '\0' && req->n_dns_names == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "common_name: required (or dns_names, or csr_pem) when the appliance "
                        "makes the key");
    for (size_t i = 0; err == CLM_OK && i < req->n_dns_names; i++)
        err = clm_buf_printf(&sans, "%s%s", i ? ", " : "", req->dns_names[i]);
    if (err == CLM_OK)
        err = clm_buf_append_byte(&sans, 0);
    f.common_name = req->common_name[0] ? req->common_name : NULL;
    f.sans = req->n_dns_names ? (const char *)sans.data : NULL;
    if (err == CLM_OK && (err = pki_csr_check(&f, NULL, NULL)) != CLM_OK) {
        char m[CLM_ERROR_MESSAGE_MAX];
        snprintf(m, sizeof(m), "%s", clm_error_message());
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "common_name/dns_names: %s", m);
    }
    if (err == CLM_OK)
        err = pki_key_generate(PKI_KEY_EC_P256, &key);
    if (err == CLM_OK)
        err = pki_csr_build(&f, NULL, key, csr);
    if (err == CLM_OK)
        err = pki_key_to_pem(key, key_pem);
    EVP_PKEY_free(key);
    clm_buf_free(&sans);
    return err;
}

/* ---- recording the certificate ---- */

typedef struct record_op {
    const connector_context *ctx;
    const connector_issued *in;
    const pki_facts *facts;
    const clm_buf *sealed_key;
} record_op;

static clm_err record_txn(store_txn *txn, void *arg)
{
    record_op *op = arg;
    clm_arena *arena = op->ctx->arena;
    int64_t now = clm_clock_now_ns(op->ctx->clock);
    Clm__Store__V1__CertificateRecord *r = clm_arena_alloc(arena, sizeof(*r));
    Clm__Store__V1__CertificateSource *s = clm_arena_alloc(arena, sizeof(*s));
    Clm__Store__V1__CertificateSource **sources = clm_arena_alloc(arena, sizeof(*sources));
    unsigned char key[8];
    clm_err err;

    if (r == NULL || s == NULL || sources == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    clm__store__v1__certificate_record__init(r);
    clm__store__v1__certificate_source__init(s);
    if ((err = store_seq_next(txn, &inventory_certificates, 1, &r->id)) != CLM_OK)
        return err;
    r->der.data = (uint8_t *)op->in->cert->data;
    r->der.len = op->in->cert->len;
    inventory_fill_facts(arena, op->facts, r);
    r->status = CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_MANAGED;
    r->group_id = op->in->group_id;
    s->kind = CONNECTOR_SOURCE_KIND;
    s->device = op->in->connector->name; /* the source_device index finds what it issued */
    s->by = (char *)(op->ctx->identity ? op->ctx->identity : "");
    s->first_seen = s->last_seen = now;
    sources[0] = s;
    r->sources = sources;
    r->n_sources = 1;
    r->attributes = op->in->attributes;
    r->n_attributes = op->in->n_attributes;
    r->device_name = (char *)(op->in->device_name ? op->in->device_name : "");
    r->application_ip = (char *)(op->in->application_ip ? op->in->application_ip : "");
    r->tracking_id = (char *)(op->in->tracking_id ? op->in->tracking_id : "");
    if (op->sealed_key->len) {
        r->sealed_private_key.data = op->sealed_key->data;
        r->sealed_private_key.len = op->sealed_key->len;
    }
    r->created_at = r->updated_at = now;
    inventory_id_key(r->id, key);
    if ((err = store_put(txn, &inventory_certificates, key, 8, &r->base, STORE_PUT_APPEND)) !=
        CLM_OK)
        return err;
    return op->ctx->audit(txn, op->ctx->audit_arg);
}

clm_err connector_store_issued(const connector_context *ctx, const connector_issued *in,
                               pki_facts **facts_out)
{
    clm_buf sealed = CLM_BUF_INIT;
    pki_facts *facts = NULL;
    clm_err err;

    if ((err = pki_facts_from_der(in->cert->data, in->cert->len, &facts)) != CLM_OK)
        return err;
    if (in->key_pem != NULL && in->key_pem->len) {
        char aad[80];
        snprintf(aad, sizeof(aad), "cert-key:%s", facts->sha256);
        err = seal(ctx->seal, aad, in->key_pem->data, in->key_pem->len, &sealed);
    }
    if (err == CLM_OK) {
        record_op rec = {ctx, in, facts, &sealed};
        err = store_update(ctx->store, record_txn, &rec);
    }
    clm_buf_free(&sealed);
    if (err == CLM_OK && facts_out != NULL)
        *facts_out = facts;
    else
        pki_facts_free(facts);
    return err;
}

/* An issued certificate on its way into the inventory (issue.h). */
struct connector_issue_job {
    connector_context ctx; /* a copy: the caller's may be gone when the write runs */
    connector_issued in;
    record_op rec;
    adapter_ca_result result; /* holds the certificate */
    pki_facts *facts;
    clm_buf sealed; /* the generated key, sealed; empty for an uploaded CSR */
};

void connector_issue_job_free(connector_issue_job *job)
{
    if (job == NULL)
        return;
    adapter_ca_result_free(&job->result);
    pki_facts_free(job->facts);
    clm_buf_free(&job->sealed); /* ciphertext */
    free(job);
}

clm_err connector_issue_job_write(store_txn *txn, void *job)
{
    return record_txn(txn, &((connector_issue_job *)job)->rec);
}

clm_err connector_issue_prepare(const connector_context *ctx, const Clm__V1__IssueRequest *req,
                                Clm__V1__IssueResponse *out, connector_issue_job **job_out)
{
    lookup_op look = {ctx->arena, req->connector, "connector", req->group, NULL, 0, NULL};
    const adapter_ca_ops *ops;
    cached_instance *inst = NULL;
    adapter_ca_request creq = {0};
    pki_key_type key_type = PKI_KEY_EC_P256; /* what the appliance generates */
    const char *hash = "SHA256";
    connector_issue_job *job = calloc(1, sizeof(*job));
    clm_buf csr = CLM_BUF_INIT, key_pem = CLM_BUF_INIT;
    clm_buf pem = CLM_BUF_INIT;
    bool uploaded = req->csr_pem[0] != '\0';
    clm_err err;

    *job_out = NULL;
    if (job == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    job->ctx = *ctx;
    if (strlen(req->csr_pem) > CONNECTOR_PEM_MAX) {
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "csr_pem: more than %d bytes", CONNECTOR_PEM_MAX);
        goto out;
    }
    if (uploaded && (req->common_name[0] || req->n_dns_names)) {
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT,
                       "common_name: not with csr_pem (the CSR names the subject)");
        goto out;
    }
    if ((err = check_names(req)) != CLM_OK)
        goto out;
    if ((err = store_view(ctx->store, lookup_txn, &look)) != CLM_OK)
        goto out;
    if (!uploaded && strcmp(look.record->csr_source, "uploaded") == 0) {
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT,
                       "csr_pem: required (connector '%s' takes uploaded CSRs)",
                       look.record->name);
        goto out;
    }
    if ((ops = adapter_ca_find(look.record->type)) == NULL) {
        err = clm_fail(CLM_ERR_UNSUPPORTED, "connector '%s': type '%s' is not served here",
                       look.record->name, look.record->type);
        goto out;
    }
    if ((err = request_fields(ctx->arena, ops, look.record, req, &creq.fields)) != CLM_OK)
        goto out;

    /* Read here first, so a bad CSR is the caller's error, named, before any CA. */
    if (uploaded && (err = read_uploaded(req->csr_pem, &key_type, &hash)) != CLM_OK)
        goto out;
    if ((err = check_group_policy(look.policy, req->group[0] ? req->group : "Default", key_type,
                                  hash, uploaded ? "csr_pem" : "group")) != CLM_OK)
        goto out;

    if (uploaded) {
        creq.csr = req->csr_pem;
        creq.csr_len = strlen(req->csr_pem);
    } else {
        if ((err = generate_csr(ctx->arena, req, &csr, &key_pem)) != CLM_OK)
            goto out;
        creq.csr = csr.data;
        creq.csr_len = csr.len;
    }

    if ((err = instance_acquire(ctx, look.record, &inst)) != CLM_OK)
        goto out;
    err = inst->inst.ops->submit(inst->inst.ca, &creq, &job->result);
    if (err == CLM_OK && job->result.outcome != ADAPTER_CA_ISSUED)
        err = connector_outcome_error(&inst->inst, &job->result, uploaded ? "csr_pem" : "request");
    /* a CA that was not set up, or could not be reached: open afresh next time */
    instance_release(inst, job->result.outcome == ADAPTER_CA_ISSUED ||
                               job->result.outcome == ADAPTER_CA_REJECTED);
    if (err != CLM_OK)
        goto out;

    if ((err = pki_facts_from_der(job->result.cert.data, job->result.cert.len, &job->facts)) !=
        CLM_OK)
        goto out;
    if (key_pem.len) {
        char aad[80];
        snprintf(aad, sizeof(aad), "cert-key:%s", job->facts->sha256);
        if ((err = seal(ctx->seal, aad, key_pem.data, key_pem.len, &job->sealed)) != CLM_OK)
            goto out;
    }
    job->in = (connector_issued){.connector = look.record, .group_id = look.group_id,
                                 .cert = &job->result.cert};
    job->rec = (record_op){&job->ctx, &job->in, job->facts, &job->sealed};

    /* the reply: PEMs, serial, inventory id; never the key (sent once the write is in) */
    if ((err = der_to_pem(job->result.cert.data, job->result.cert.len, &pem)) != CLM_OK ||
        (err = text_copy(ctx->arena, &pem, &out->certificate_pem)) != CLM_OK)
        goto out;
    clm_buf_reset(&pem);
    for (size_t i = 0; i < job->result.chain_len; i++)
        if ((err = der_to_pem(job->result.chain[i].data, job->result.chain[i].len, &pem)) != CLM_OK)
            goto out;
    if ((err = text_copy(ctx->arena, &pem, &out->chain_pem)) != CLM_OK)
        goto out;
    out->serial = clm_arena_memdup(ctx->arena, job->facts->serial, strlen(job->facts->serial) + 1);
    out->sha256 = clm_arena_memdup(ctx->arena, job->facts->sha256, strlen(job->facts->sha256) + 1);
    if (out->serial == NULL || out->sha256 == NULL)
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    out->key_in_appliance = key_pem.len > 0;
out:
    clm_buf_wipe(&key_pem);
    clm_buf_free(&csr);
    clm_buf_free(&pem);
    if (err != CLM_OK)
        connector_issue_job_free(job);
    else
        *job_out = job;
    return err;
}

clm_err connector_issue(const connector_context *ctx, const Clm__V1__IssueRequest *req,
                        Clm__V1__IssueResponse *out)
{
    connector_issue_job *job;
    clm_err err = connector_issue_prepare(ctx, req, out, &job);

    if (err == CLM_OK)
        err = store_update(ctx->store, connector_issue_job_write, job);
    connector_issue_job_free(job);
    return err;
}
