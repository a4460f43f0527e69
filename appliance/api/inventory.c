/* appliance/api/inventory.c: clm.v1.Inventory handlers over appliance/inventory/. */
#include "appliance/api/inventory.h"

#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/api/convert.h"
#include "appliance/app.h"
#include "appliance/endpoints/bindings.h"
#include "appliance/appstore.h"
#include "appliance/inventory/certs.h"
#include "appliance/inventory/export.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/import_queue.h"
#include "appliance/inventory/query.h"
#include "appliance/inventory/tables.h"
#include "appliance/renewal/lifecycle.h"
#include "appliance/ca/connectors.h"
#include "clm/v1/inventory.pb-c.h"
#include "lib/base/log.h"
#include "lib/pki/cert.h"

typedef struct inventory_op {
    rpc_call *call;
    clm_app *app;
    const ProtobufCMessage *request;
    ProtobufCMessage *response;
    int64_t now_ns;
} inventory_op;

static inventory_op op_of(rpc_call *call, const ProtobufCMessage *request,
                          ProtobufCMessage *response)
{
    clm_app *app = rpc_call_app(call);
    inventory_op op = {call, app, request, response, clm_clock_now_ns(app->clock)};

    return op;
}

/* ---- record -> API ---- */

/* The last group looked up: a page's certificates are mostly in one group, and each
 * lookup reads and unpacks the group record. Valid for one transaction and arena. */
typedef struct group_cache {
    uint64_t id; /* 0: empty */
    char *name;
} group_cache;

static char *group_name(store_txn *txn, clm_arena *arena, group_cache *cache, uint64_t id)
{
    Clm__Store__V1__GroupRecord *g;

    id = id ? id : INVENTORY_DEFAULT_GROUP_ID;
    if (cache != NULL && cache->id == id)
        return cache->name;
    if (group_get_by_id(txn, arena, id, &g) != CLM_OK) {
        clm_error_clear();
        return "";
    }
    if (cache != NULL) {
        cache->id = id;
        cache->name = g->name;
    }
    return g->name;
}

static char *lineage(store_txn *txn, clm_arena *arena, uint64_t id)
{
    Clm__Store__V1__CertificateRecord *r;

    if (id == 0 || inventory_cert_get(txn, arena, id, &r) != CLM_OK) {
        clm_error_clear();
        return "";
    }
    return convert_hex(arena, r->sha256.data, r->sha256.len);
}

/* The fields of a BASIC listing (clm.v1.CertificateView; inventory/basic.h reads them). */
static Clm__V1__Certificate *to_api_basic(store_txn *txn, clm_arena *arena, group_cache *groups,
                                          int64_t now_ns,
                                          const Clm__Store__V1__CertificateRecord *r)
{
    Clm__V1__Certificate *c = clm_arena_alloc(arena, sizeof(*c));

    if (c == NULL)
        return NULL;
    clm__v1__certificate__init(c);
    c->sha256 = convert_hex(arena, r->sha256.data, r->sha256.len);
    c->sha1 = convert_hex(arena, r->sha1.data, r->sha1.len);
    c->subject = r->subject;
    c->issuer = r->issuer;
    c->common_name = r->common_name;
    c->serial = r->serial_hex;
    c->not_before = convert_timestamp_s(arena, r->not_before);
    c->not_after = convert_timestamp_s(arena, r->not_after);
    /* whole days left, rounded down; negative once expired */
    int64_t left = r->not_after - now_ns / CLM_NS_PER_SEC;
    c->days_to_expiry = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
    c->key_type = r->key_type;
    c->key_bits = r->key_bits;
    c->status = (Clm__V1__CertificateStatus)r->status;
    c->group = group_name(txn, arena, groups, r->group_id);
    return c;
}

static Clm__V1__Certificate *to_api(store_txn *txn, clm_arena *arena, group_cache *groups,
                                    int64_t now_ns, const Clm__Store__V1__CertificateRecord *r)
{
    Clm__V1__Certificate *c = to_api_basic(txn, arena, groups, now_ns, r);

    if (c == NULL)
        return NULL;
    c->dns_names = r->dns_names, c->n_dns_names = r->n_dns_names;
    c->ip_addresses = r->ip_addresses, c->n_ip_addresses = r->n_ip_addresses;
    c->emails = r->emails, c->n_emails = r->n_emails;
    c->uris = r->uris, c->n_uris = r->n_uris;
    c->key_curve = r->key_curve;
    c->signature_algorithm = r->signature_algorithm;
    c->ski = convert_hex(arena, r->ski.data, r->ski.len);
    c->aki = convert_hex(arena, r->aki.data, r->aki.len);
    c->key_usage = r->key_usage, c->n_key_usage = r->n_key_usage;
    c->extended_key_usage = r->extended_key_usage;
    c->n_extended_key_usage = r->n_extended_key_usage;
    c->is_ca = r->is_ca;
    c->path_length = r->path_length;
    c->ocsp_urls = r->ocsp_urls, c->n_ocsp_urls = r->n_ocsp_urls;
    c->ca_issuer_urls = r->ca_issuer_urls, c->n_ca_issuer_urls = r->n_ca_issuer_urls;
    c->crl_urls = r->crl_urls, c->n_crl_urls = r->n_crl_urls;
    c->self_signed = r->self_signed;
    c->template_name = r->template_name;
    c->version = r->version;
    c->sources = clm_arena_alloc(arena, (r->n_sources + 1) * sizeof(*c->sources));
    for (size_t i = 0; c->sources && i < r->n_sources; i++) {
        const Clm__Store__V1__CertificateSource *s = r->sources[i];
        Clm__V1__CertificateSource *o = clm_arena_alloc(arena, sizeof(*o));
        if (o == NULL)
            break;
        clm__v1__certificate_source__init(o);
        o->kind = s->kind, o->device = s->device, o->location = s->location;
        o->endpoint = s->endpoint, o->by = s->by;
        o->first_seen = convert_timestamp_ns(arena, s->first_seen);
        o->last_seen = convert_timestamp_ns(arena, s->last_seen);
        c->sources[c->n_sources++] = o;
    }
    c->attributes = clm_arena_alloc(arena, (r->n_attributes + 1) * sizeof(*c->attributes));
    for (size_t i = 0; c->attributes && i < r->n_attributes; i++) {
        Clm__V1__Attribute *a = clm_arena_alloc(arena, sizeof(*a));
        if (a == NULL)
            break;
        clm__v1__attribute__init(a);
        a->key = r->attributes[i]->key;
        a->value = r->attributes[i]->value;
        c->attributes[c->n_attributes++] = a;
    }
    c->device_name = r->device_name;
    c->application_ip = r->application_ip;
    c->tracking_id = r->tracking_id;
    c->parent_sha256 = lineage(txn, arena, r->parent_id);
    c->child_sha256 = lineage(txn, arena, r->child_id);
    c->has_private_key = r->sealed_private_key.len > 0;
    c->auto_renew = r->auto_renew;
    c->auto_regenerate = r->auto_regenerate;
    c->re_enroll = r->re_enroll;
    c->connector = r->connector;
    c->created_at = convert_timestamp_ns(arena, r->created_at);
    c->updated_at = convert_timestamp_ns(arena, r->updated_at);
    return c;
}

/* ---- Import ---- */

static clm_err audit_in_txn(store_txn *txn, void *arg)
{
    return appstore_audit_in(txn, arg);
}

/* The writer thread of the import queue reports here once the request is committed
 * (or failed); the reply goes out only then, so every OK is durable. */
typedef struct import_call {
    rpc_call *call;
    const Clm__V1__ImportCertificatesRequest *req;
    const Clm__V1__ImportCertificatesResponse *resp;
} import_call;

static void import_done(void *arg, clm_err err, const char *message)
{
    import_call *ic = arg;

    if (err == CLM_OK)
        CLM_LOG_INFO("inventory.import", "by", rpc_call_peer(ic->call)->identity, "items",
                     CLM_I64(ic->req->n_items), "added", CLM_I64(ic->resp->added), "merged",
                     CLM_I64(ic->resp->merged));
    rpc_call_finish(ic->call, err, message);
}

static clm_err import_certificates(rpc_call *call, const ProtobufCMessage *request,
                                   ProtobufCMessage *response)
{
    const Clm__V1__ImportCertificatesRequest *req = (const void *)request;
    inventory_op op = op_of(call, request, response);
    import_context ctx = {op.app->store, op.app->seal, op.app->clock, rpc_call_arena(call),
                          rpc_call_peer(call)->identity, audit_in_txn, call};
    char target[64];
    clm_err err;

    snprintf(target, sizeof(target), "%zu items", req->n_items);
    rpc_call_set_audit_target(call, target);
    if ((err = inventory_import_validate(req)) != CLM_OK)
        return err;
    if (op.app->imports != NULL) {
        /* Group commit: parse here, write with other requests on the queue's thread. */
        import_call *ic = clm_arena_alloc(rpc_call_arena(call), sizeof(*ic));
        if (ic == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        *ic = (import_call){call, req, (const void *)response};
        rpc_call_defer(call);
        if ((err = import_queue_submit(op.app->imports, &ctx, req, (void *)response,
                                       import_done, ic)) != CLM_OK)
            rpc_call_finish(call, err, clm_error_message());
        return CLM_OK;
    }
    err = inventory_import(&ctx, req, (void *)response);
    if (err == CLM_OK)
        CLM_LOG_INFO("inventory.import", "by", rpc_call_peer(call)->identity, "items",
                     CLM_I64(req->n_items), "added",
                     CLM_I64(((Clm__V1__ImportCertificatesResponse *)response)->added), "merged",
                     CLM_I64(((Clm__V1__ImportCertificatesResponse *)response)->merged));
    return err;
}

/* ---- Import, client-streaming ----
 *
 * ImportCertificatesStream: each message is one import request, applied whole or not at
 * all like a unary ImportCertificates, but the client does not wait for each commit:
 * messages are parsed on this stream's thread as they arrive and queued for the group
 * commit writer, so one client's stream fills shared transactions of up to
 * IMPORT_QUEUE_DEFAULT_CERTS_PER_TXN certificates (the unary call's client waits a
 * commit per request, so its groups only grow with more clients). Each message
 * lives in an arena of its own, freed once its outcome is known, so a stream of any
 * length holds at most the queue's two groups in memory (the queue's backpressure
 * blocks this thread meanwhile). The one reply comes after the last message is
 * durable: totals, and the results of failed items only (the first
 * STREAM_REPORTED_ERRORS_MAX of them). A message that fails as a whole (bad fields, a
 * missing group, a store error) ends the stream with its error, naming the message;
 * messages before it stay written.
 */

#define STREAM_REPORTED_ERRORS_MAX 1000

typedef struct import_stream {
    rpc_call *call;
    pthread_mutex_t lock;
    pthread_cond_t idle; /* in_flight dropped */
    size_t in_flight;
    uint64_t added, merged, errors;
    Clm__V1__ImportResult **reported; /* in the call's arena, under lock */
    size_t n_reported;
    clm_err err;          /* the first failed message's error */
    char message[512];
} import_stream;

typedef struct stream_message {
    import_stream *stream;
    uint64_t index; /* in the stream, from 0 */
    clm_arena arena;
    Clm__V1__ImportCertificatesRequest *req;
    Clm__V1__ImportCertificatesResponse resp;
} stream_message;

static void stream_message_done(void *arg, clm_err err, const char *message)
{
    stream_message *m = arg;
    import_stream *st = m->stream;
    clm_arena *call_arena = rpc_call_arena(st->call);

    pthread_mutex_lock(&st->lock);
    if (err != CLM_OK) {
        if (st->err == CLM_OK) {
            st->err = err;
            snprintf(st->message, sizeof(st->message), "message %" PRIu64 ": %s", m->index,
                     message && message[0] ? message : clm_strerror(err));
        }
    } else {
        st->added += m->resp.added;
        st->merged += m->resp.merged;
        st->errors += m->resp.errors;
        for (size_t i = 0; i < m->resp.n_results && st->n_reported < STREAM_REPORTED_ERRORS_MAX;
             i++) {
            const Clm__V1__ImportResult *r = m->resp.results[i];
            Clm__V1__ImportResult *copy;
            char item[512];

            if (strcmp(r->outcome, "error") != 0)
                continue;
            if ((copy = clm_arena_alloc(call_arena, sizeof(*copy))) == NULL)
                break;
            clm__v1__import_result__init(copy);
            snprintf(item, sizeof(item), "message %" PRIu64 ": %s", m->index, r->item);
            copy->item = clm_arena_strdup(call_arena, item);
            copy->sha256 = clm_arena_strdup(call_arena, r->sha256);
            copy->outcome = "error";
            copy->error = clm_arena_strdup(call_arena, r->error);
            copy->common_name = clm_arena_strdup(call_arena, r->common_name);
            if (copy->item == NULL || copy->sha256 == NULL || copy->error == NULL ||
                copy->common_name == NULL)
                break;
            st->reported[st->n_reported++] = copy;
        }
    }
    st->in_flight--;
    pthread_cond_signal(&st->idle);
    pthread_mutex_unlock(&st->lock);
    clm_arena_free(&m->arena);
    free(m);
}

/* Parse and queue one message (or apply it here when clmd runs without the queue). */
static clm_err stream_submit(import_stream *st, clm_app *app, stream_message *m)
{
    import_context ctx = {app->store, app->seal, app->clock, &m->arena,
                          rpc_call_peer(st->call)->identity, audit_in_txn, st->call};
    clm_err err;

    pthread_mutex_lock(&st->lock);
    st->in_flight++;
    pthread_mutex_unlock(&st->lock);
    if (app->imports != NULL)
        err = import_queue_submit(app->imports, &ctx, m->req, &m->resp, stream_message_done, m);
    else if ((err = inventory_import(&ctx, m->req, &m->resp)) == CLM_OK)
        stream_message_done(m, CLM_OK, "");
    if (err != CLM_OK) { /* not queued: done was not called */
        pthread_mutex_lock(&st->lock);
        st->in_flight--;
        pthread_mutex_unlock(&st->lock);
    }
    return err;
}

static clm_err import_certificates_stream(rpc_call *call, const ProtobufCMessage *request)
{
    clm_app *app = rpc_call_app(call);
    import_stream st = {.call = call};
    Clm__V1__ImportCertificatesResponse resp = CLM__V1__IMPORT_CERTIFICATES_RESPONSE__INIT;
    clm_err err = CLM_OK;
    uint64_t index = 0;

    (void)request;
    st.reported = clm_arena_alloc(rpc_call_arena(call),
                                  STREAM_REPORTED_ERRORS_MAX * sizeof(*st.reported));
    if (st.reported == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    pthread_mutex_init(&st.lock, NULL);
    pthread_cond_init(&st.idle, NULL);
    rpc_call_set_audit_target(call, "stream");
    for (;; index++) {
        stream_message *m = calloc(1, sizeof(*m));
        ProtobufCMessage *msg;

        if (m == NULL) {
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            break;
        }
        m->stream = &st;
        m->index = index;
        clm__v1__import_certificates_response__init(&m->resp);
        err = rpc_call_recv_into(call, &m->arena, &msg);
        if (err == CLM_OK && msg != NULL) {
            m->req = (Clm__V1__ImportCertificatesRequest *)msg;
            if ((err = inventory_import_validate(m->req)) != CLM_OK)
                err = clm_fail(err, "message %" PRIu64 ": %s", index, clm_error_message());
            else if ((err = stream_submit(&st, app, m)) == CLM_OK)
                m = NULL; /* stream_message_done frees it */
        }
        if (m != NULL) {
            clm_arena_free(&m->arena);
            free(m);
            if (err == CLM_OK)
                break; /* end of the stream */
        }
        if (err != CLM_OK)
            break;
        pthread_mutex_lock(&st.lock);
        err = st.err; /* a message failed: stop taking more */
        pthread_mutex_unlock(&st.lock);
        if (err != CLM_OK)
            break;
    }
    /* Every queued message reports before the reply (and before `st` goes away). */
    pthread_mutex_lock(&st.lock);
    while (st.in_flight > 0)
        pthread_cond_wait(&st.idle, &st.lock);
    pthread_mutex_unlock(&st.lock);
    if (err == CLM_OK && st.err != CLM_OK)
        err = clm_fail(st.err, "%s", st.message);
    if (err == CLM_OK || err == CLM_ERR_CANCELLED || st.err != CLM_OK)
        CLM_LOG_INFO("inventory.import_stream", "by", rpc_call_peer(call)->identity, "messages",
                     CLM_I64((int64_t)index), "added", CLM_I64((int64_t)st.added), "merged",
                     CLM_I64((int64_t)st.merged), "errors", CLM_I64((int64_t)st.errors));
    if (err == CLM_OK) {
        resp.added = (uint32_t)(st.added > UINT32_MAX ? UINT32_MAX : st.added);
        resp.merged = (uint32_t)(st.merged > UINT32_MAX ? UINT32_MAX : st.merged);
        resp.errors = (uint32_t)(st.errors > UINT32_MAX ? UINT32_MAX : st.errors);
        resp.results = st.reported;
        resp.n_results = st.n_reported;
        err = rpc_call_send(call, &resp.base);
    }
    pthread_mutex_destroy(&st.lock);
    pthread_cond_destroy(&st.idle);
    /* A bulk import is an event, not the steady state: give back the heap it grew on
     * this thread and the writer's (clmd keeps freed memory for reuse, see main.c),
     * or RssAnon stays at the stream's peak. */
    malloc_trim(0);
    return err;
}

/* ---- List ---- */

typedef struct list_state {
    inventory_op *op;
    store_txn *txn;
    Clm__V1__ListCertificatesResponse *resp;
    group_cache groups;
} list_state;

static clm_err emit_certificate(void *arg, Clm__Store__V1__CertificateRecord *record)
{
    list_state *ls = arg;
    clm_arena *arena = rpc_call_arena(ls->op->call);
    const Clm__V1__ListCertificatesRequest *req = (const void *)ls->op->request;
    Clm__V1__Certificate *c =
        req->view == CLM__V1__CERTIFICATE_VIEW__CERTIFICATE_VIEW_BASIC
            ? to_api_basic(ls->txn, arena, &ls->groups, ls->op->now_ns, record)
            : to_api(ls->txn, arena, &ls->groups, ls->op->now_ns, record);

    if (c == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    ls->resp->certificates[ls->resp->n_certificates++] = c;
    return CLM_OK;
}

static clm_err list_txn(store_txn *txn, void *arg)
{
    inventory_op *op = arg;
    const Clm__V1__ListCertificatesRequest *req = (const void *)op->request;
    list_state ls = {op, txn, (void *)op->response, {0, NULL}};
    clm_arena *arena = rpc_call_arena(op->call);

    ls.resp->certificates = clm_arena_alloc(
        arena, (req->page_size ? req->page_size : 100) * sizeof(*ls.resp->certificates));
    if (ls.resp->certificates == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    return query_list(txn, arena, req, op->now_ns / CLM_NS_PER_SEC, emit_certificate, &ls,
                      &ls.resp->next_page_token);
}

static clm_err list_certificates(rpc_call *call, const ProtobufCMessage *request,
                                 ProtobufCMessage *response)
{
    inventory_op op = op_of(call, request, response);

    if (((const Clm__V1__ListCertificatesRequest *)request)->page_size > 1000)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "page_size: at most 1000");
    return store_view(op.app->store, list_txn, &op);
}

/* ---- Get ---- */

static clm_err get_txn(store_txn *txn, void *arg)
{
    inventory_op *op = arg;
    const Clm__V1__GetCertificateRequest *req = (const void *)op->request;
    clm_arena *arena = rpc_call_arena(op->call);
    Clm__Store__V1__CertificateRecord *r;
    Clm__V1__Certificate *c;
    clm_err err = inventory_cert_find(txn, arena, req->id, &r);

    if (err != CLM_OK)
        return err;
    if ((c = to_api(txn, arena, NULL, op->now_ns, r)) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    /* the certificate as PEM, for convenience */
    const unsigned char *p = r->der.data;
    X509 *x = d2i_X509(NULL, &p, (long)r->der.len);
    clm_buf pem = CLM_BUF_INIT;
    if (x != NULL && pki_cert_to_pem(x, &pem) == CLM_OK)
        c->pem = clm_arena_strdup(arena, clm_buf_str(&pem));
    clm_buf_free(&pem);
    X509_free(x);
    /* where it must be served, and whether it is (push validation) */
    Clm__Store__V1__BindingRecord **bindings;
    size_t n, sync = 0, out_of_sync = 0;
    if ((err = bindings_of(txn, arena, r->id, &bindings, &n)) != CLM_OK)
        return err;
    for (size_t i = 0; i < n; i++) {
        sync += bindings[i]->state == CLM__V1__BINDING_STATE__BINDING_STATE_SYNC;
        out_of_sync += bindings[i]->state == CLM__V1__BINDING_STATE__BINDING_STATE_OUT_OF_SYNC;
    }
    c->bindings = (uint32_t)n;
    c->binding_state = n == 0 ? "" : out_of_sync ? "out_of_sync" : sync == n ? "sync" : "unknown";
    *(Clm__V1__Certificate *)op->response = *c;
    return CLM_OK;
}

static clm_err get_certificate(rpc_call *call, const ProtobufCMessage *request,
                               ProtobufCMessage *response)
{
    inventory_op op = op_of(call, request, response);

    return store_view(op.app->store, get_txn, &op);
}

/* ---- Update ---- */

static clm_err check_generic(const char *value, const char *field)
{
    if (strlen(value) > GENERIC_FIELD_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: longer than %d characters", field,
                        GENERIC_FIELD_MAX);
    return CLM_OK;
}

/* Lineage by hand: `r` renews the certificate `renewal_of` names ("" unlinks). One
   child per certificate, one parent, no cycles. */
static clm_err link_renewal(store_txn *txn, clm_arena *arena, const char *renewal_of,
                            Clm__Store__V1__CertificateRecord *r, int64_t now_ns)
{
    Clm__Store__V1__CertificateRecord *old, *d;
    clm_err err;

    if (renewal_of[0] == '\0') {
        if (r->parent_id != 0 && inventory_cert_get(txn, arena, r->parent_id, &old) == CLM_OK &&
            old->child_id == r->id) {
            old->child_id = 0;
            if ((err = inventory_cert_put(txn, old, now_ns)) != CLM_OK)
                return err;
        }
        clm_error_clear();
        r->parent_id = 0;
        return CLM_OK;
    }
    if ((err = inventory_cert_find(txn, arena, renewal_of, &old)) == CLM_ERR_NOT_FOUND)
        return clm_fail(err, "renewal_of: no certificate %s in the inventory", renewal_of);
    if (err != CLM_OK)
        return err;
    if (old->id == r->id)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "renewal_of: a certificate cannot renew itself");
    if (r->parent_id != 0 && r->parent_id != old->id)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "renewal_of: this certificate already renews another one; unlink it "
                        "first (renewal_of \"\")");
    if (old->child_id != 0 && old->child_id != r->id)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "renewal_of: %s is already renewed by another "
                        "certificate", renewal_of);
    /* no cycle: the predecessor must not descend from this certificate */
    for (uint64_t id = r->child_id, hops = 0; id != 0 && hops < 1000; hops++) {
        if (id == old->id)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "renewal_of: %s descends from this certificate (a cycle)", renewal_of);
        if (inventory_cert_get(txn, arena, id, &d) != CLM_OK)
            break;
        id = d->child_id;
    }
    clm_error_clear();
    r->parent_id = old->id;
    old->child_id = r->id;
    return inventory_cert_put(txn, old, now_ns);
}

static clm_err apply_update(store_txn *txn, clm_arena *arena,
                            const Clm__V1__UpdateCertificateRequest *req,
                            Clm__Store__V1__CertificateRecord *r, int64_t now_ns)
{
    for (size_t i = 0; i < req->n_update_mask; i++) {
        const char *m = req->update_mask[i];
        if (strcmp(m, "status") == 0) {
            if (req->status < CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_MANAGED ||
                req->status > CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_IGNORED)
                return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                                "status: must be MANAGED, MONITORED or IGNORED");
            r->status = req->status;
        } else if (strcmp(m, "group") == 0) {
            Clm__Store__V1__GroupRecord *g;
            clm_err err = group_find(txn, arena, req->group[0] ? req->group : "Default", "group", &g);
            if (err != CLM_OK)
                return err;
            r->group_id = g->id;
        } else if (strcmp(m, "attributes") == 0) {
            r->attributes = clm_arena_alloc(arena, (req->n_attributes + 1) * sizeof(*r->attributes));
            r->n_attributes = 0;
            for (size_t a = 0; r->attributes && a < req->n_attributes; a++) {
                Clm__Store__V1__Attribute *attr = clm_arena_alloc(arena, sizeof(*attr));
                clm__store__v1__attribute__init(attr);
                attr->key = req->attributes[a]->key;
                attr->value = req->attributes[a]->value;
                r->attributes[r->n_attributes++] = attr;
            }
        } else if (strcmp(m, "device_name") == 0) {
            r->device_name = req->device_name;
        } else if (strcmp(m, "application_ip") == 0) {
            r->application_ip = req->application_ip;
        } else if (strcmp(m, "tracking_id") == 0) {
            r->tracking_id = req->tracking_id;
        } else if (strcmp(m, "renewal_of") == 0) {
            clm_err err = link_renewal(txn, arena, req->renewal_of, r, now_ns);
            if (err != CLM_OK)
                return err;
        } else if (strcmp(m, "auto_renew") == 0) {
            r->auto_renew = req->auto_renew;
        } else if (strcmp(m, "auto_regenerate") == 0) {
            r->auto_regenerate = req->auto_regenerate;
        } else if (strcmp(m, "re_enroll") == 0) {
            r->re_enroll = req->re_enroll;
        } else if (strcmp(m, "connector") == 0) {
            if (req->connector[0] != '\0') {
                Clm__Store__V1__ConnectorRecord *conn;
                clm_err err = connector_find(txn, arena, req->connector, "connector", &conn);
                if (err != CLM_OK)
                    return err;
                r->connector = conn->name;
            } else {
                r->connector = "";
            }
        } else {
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "update_mask[%zu]: '%s' is not one of status, group, attributes, "
                            "device_name, application_ip, tracking_id, renewal_of, auto_renew, "
                            "auto_regenerate, re_enroll, connector", i, m);
        }
    }
    return CLM_OK;
}

static clm_err update_txn(store_txn *txn, void *arg)
{
    inventory_op *op = arg;
    const Clm__V1__UpdateCertificateRequest *req = (const void *)op->request;
    clm_arena *arena = rpc_call_arena(op->call);
    Clm__Store__V1__CertificateRecord *r;
    Clm__V1__Certificate *c;
    clm_err err;

    if ((err = inventory_cert_find(txn, arena, req->id, &r)) != CLM_OK ||
        (err = apply_update(txn, arena, req, r, op->now_ns)) != CLM_OK ||
        (err = inventory_cert_put(txn, r, op->now_ns)) != CLM_OK ||
        (err = appstore_audit_in(txn, op->call)) != CLM_OK)
        return err;
    if ((c = to_api(txn, arena, NULL, op->now_ns, r)) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    *(Clm__V1__Certificate *)op->response = *c;
    return CLM_OK;
}

static clm_err update_certificate(rpc_call *call, const ProtobufCMessage *request,
                                  ProtobufCMessage *response)
{
    const Clm__V1__UpdateCertificateRequest *req = (const void *)request;
    inventory_op op = op_of(call, request, response);
    clm_err err;

    rpc_call_set_audit_target(call, req->id);
    if (req->n_update_mask == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "update_mask: empty; name the fields to change");
    if ((err = inventory_check_attributes(req->attributes, req->n_attributes, "attributes")) ||
        (err = check_generic(req->device_name, "device_name")) ||
        (err = check_generic(req->application_ip, "application_ip")) ||
        (err = check_generic(req->tracking_id, "tracking_id")))
        return err;
    {
        const Clm__V1__RenewalSetting *settings[] = {req->auto_renew, req->auto_regenerate,
                                                     req->re_enroll};
        static const char *const names[] = {"auto_renew", "auto_regenerate", "re_enroll"};
        for (size_t i = 0; i < 3; i++)
            if (settings[i] != NULL && settings[i]->enabled &&
                (settings[i]->days_before_expiry < RENEWAL_DAYS_MIN ||
                 settings[i]->days_before_expiry > RENEWAL_DAYS_MAX))
                return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                                "%s.days_before_expiry: %u is outside %d-%d", names[i],
                                settings[i]->days_before_expiry, RENEWAL_DAYS_MIN,
                                RENEWAL_DAYS_MAX);
        if (strlen(req->connector) > 64)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "connector: at most 64 characters");
    }
    if (req->renewal_of[0] != '\0') {
        unsigned char digest[32];
        size_t len;
        if ((err = inventory_parse_id(req->renewal_of, "renewal_of", digest, &len)) != CLM_OK)
            return err;
    }
    return store_update(op.app->store, update_txn, &op);
}

/* ---- ExplainRenewal ---- */

static clm_err explain_txn(store_txn *txn, void *arg)
{
    inventory_op *op = arg;
    const Clm__V1__GetCertificateRequest *req = (const void *)op->request;
    clm_arena *arena = rpc_call_arena(op->call);
    const clm_config *cfg = &op->app->config;
    renewal_options opt = {cfg->renewal_retry_base_s, cfg->renewal_retry_cap_s,
                           (uint32_t)cfg->renewal_lifetime_percent, 0};
    Clm__Store__V1__CertificateRecord *r;
    clm_err err = inventory_cert_find(txn, arena, req->id, &r);

    if (err != CLM_OK)
        return err;
    return renewal_explain(txn, arena, r, op->now_ns / CLM_NS_PER_SEC, &opt,
                           (Clm__V1__RenewalExplanation *)op->response);
}

static clm_err explain_renewal(rpc_call *call, const ProtobufCMessage *request,
                               ProtobufCMessage *response)
{
    inventory_op op = op_of(call, request, response);

    return store_view(op.app->store, explain_txn, &op);
}

/* ---- Delete ---- */

static clm_err delete_txn(store_txn *txn, void *arg)
{
    inventory_op *op = arg;
    const Clm__V1__DeleteCertificateRequest *req = (const void *)op->request;
    Clm__Store__V1__CertificateRecord *r;
    clm_err err;

    /* its bindings go with it: nothing is left to expect at those endpoints */
    if ((err = inventory_cert_find(txn, rpc_call_arena(op->call), req->id, &r)) != CLM_OK ||
        (err = bindings_remove(txn, rpc_call_arena(op->call), r->id, NULL, 0)) != CLM_OK ||
        (err = renewal_state_delete(txn, r->id)) != CLM_OK || /* and its renewal lifecycle */
        (err = inventory_cert_delete(txn, r)) != CLM_OK)
        return err;
    return appstore_audit_in(txn, op->call);
}

static clm_err delete_certificate(rpc_call *call, const ProtobufCMessage *request,
                                  ProtobufCMessage *response)
{
    inventory_op op = op_of(call, request, response);

    rpc_call_set_audit_target(call, ((const Clm__V1__DeleteCertificateRequest *)request)->id);
    return store_update(op.app->store, delete_txn, &op);
}

/* ---- Export ---- */

static clm_err export_txn(store_txn *txn, void *arg)
{
    inventory_op *op = arg;
    const Clm__V1__ExportCertificateRequest *req = (const void *)op->request;
    Clm__V1__ExportCertificateResponse *resp = (void *)op->response;
    clm_arena *arena = rpc_call_arena(op->call);
    Clm__Store__V1__CertificateRecord *leaf, *chain[EXPORT_MAX_CHAIN];
    size_t n_chain = 0;
    clm_buf out = CLM_BUF_INIT;
    clm_err err;
    static const char *const ext[] = {"pem", "der", "p7b", "pfx"};

    if ((err = inventory_cert_find(txn, arena, req->id, &leaf)) != CLM_OK)
        return err;
    if (req->include_chain && (err = export_chain(txn, arena, leaf, chain, &n_chain)) != CLM_OK)
        return err;
    err = export_encode(req, leaf, chain, n_chain, op->app->seal, &out);
    if (err == CLM_OK) {
        resp->data.data = clm_arena_memdup(arena, out.data, out.len);
        resp->data.len = out.len;
        char name[128];
        snprintf(name, sizeof(name), "%s.%s",
                 leaf->common_name[0] ? leaf->common_name : "certificate", ext[req->format]);
        for (char *p = name; *p; p++)
            if (*p == '/' || *p == '\\' || *p == ' ' || *p == '*')
                *p = '_';
        resp->file_name = clm_arena_strdup(arena, name);
    }
    clm_buf_wipe(&out);
    return err;
}

static clm_err export_certificate(rpc_call *call, const ProtobufCMessage *request,
                                  ProtobufCMessage *response)
{
    const Clm__V1__ExportCertificateRequest *req = (const void *)request;
    inventory_op op = op_of(call, request, response);
    clm_err err;

    rpc_call_set_audit_target(call, req->id);
    if ((err = export_validate(req)) != CLM_OK)
        return err;
    if (req->include_private_key && rpc_call_peer(call)->role != RPC_ROLE_ADMIN)
        return clm_fail(CLM_ERR_PERMISSION, "include_private_key: only an admin may export keys");
    return store_view(op.app->store, export_txn, &op);
}

/* ---- Histogram ---- */

static clm_err histogram_txn(store_txn *txn, void *arg)
{
    inventory_op *op = arg;

    return query_expiry_histogram(txn, rpc_call_arena(op->call), (const void *)op->request,
                                  op->now_ns / CLM_NS_PER_SEC, (void *)op->response);
}

static clm_err expiry_histogram(rpc_call *call, const ProtobufCMessage *request,
                                ProtobufCMessage *response)
{
    inventory_op op = op_of(call, request, response);

    return store_view(op.app->store, histogram_txn, &op);
}

#define WRITERS (RPC_ROLE_BIT(RPC_ROLE_ADMIN) | RPC_ROLE_BIT(RPC_ROLE_OPERATOR))

const rpc_method inventory_methods[] = {
    {"/clm.v1.Inventory/ImportCertificates", RPC_UNARY, WRITERS, 1,
     &clm__v1__import_certificates_request__descriptor,
     &clm__v1__import_certificates_response__descriptor, import_certificates, NULL},
    {"/clm.v1.Inventory/ImportCertificatesStream", RPC_CLIENT_STREAMING, WRITERS, 1,
     &clm__v1__import_certificates_request__descriptor,
     &clm__v1__import_certificates_response__descriptor, NULL, import_certificates_stream},
    {"/clm.v1.Inventory/ListCertificates", RPC_UNARY, RPC_ROLES_ANY, 0,
     &clm__v1__list_certificates_request__descriptor,
     &clm__v1__list_certificates_response__descriptor, list_certificates, NULL},
    {"/clm.v1.Inventory/GetCertificate", RPC_UNARY, RPC_ROLES_ANY, 0,
     &clm__v1__get_certificate_request__descriptor, &clm__v1__certificate__descriptor,
     get_certificate, NULL},
    {"/clm.v1.Inventory/UpdateCertificate", RPC_UNARY, WRITERS, 1,
     &clm__v1__update_certificate_request__descriptor, &clm__v1__certificate__descriptor,
     update_certificate, NULL},
    {"/clm.v1.Inventory/DeleteCertificate", RPC_UNARY, WRITERS, 1,
     &clm__v1__delete_certificate_request__descriptor,
     &clm__v1__delete_certificate_response__descriptor, delete_certificate, NULL},
    {"/clm.v1.Inventory/ExportCertificate", RPC_UNARY, RPC_ROLES_ANY, 1,
     &clm__v1__export_certificate_request__descriptor,
     &clm__v1__export_certificate_response__descriptor, export_certificate, NULL},
    {"/clm.v1.Inventory/ExpiryHistogram", RPC_UNARY, RPC_ROLES_ANY, 0,
     &clm__v1__expiry_histogram_request__descriptor,
     &clm__v1__expiry_histogram_response__descriptor, expiry_histogram, NULL},
    {"/clm.v1.Inventory/ExplainRenewal", RPC_UNARY, RPC_ROLES_ANY, 0,
     &clm__v1__get_certificate_request__descriptor, &clm__v1__renewal_explanation__descriptor,
     explain_renewal, NULL},
};
const size_t inventory_methods_count = sizeof(inventory_methods) / sizeof(inventory_methods[0]);
