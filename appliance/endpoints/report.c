/* appliance/endpoints/report.c: the Push Validation Report (report.h). */
#include "appliance/endpoints/report.h"

#include <stdlib.h>
#include <string.h>

#include "appliance/api/convert.h"
#include "appliance/endpoints/bindings.h"
#include "appliance/endpoints/tables.h"
#include "appliance/endpoints/verdict.h"
#include "appliance/inventory/certs.h"
#include "lib/base/buf.h"

/* Per endpoint (binding and address) and per certificate, in open-addressing tables. */
typedef struct endpoint_stats {
    uint64_t binding_id;
    uint64_t certificate_id;
    char *address; /* arena */
    Clm__V1__EndpointValidation *view;
    int64_t last_at;
} endpoint_stats;

typedef struct cert_stats {
    uint64_t certificate_id;
    uint64_t checks, failed;
    const char *common_name; /* arena; set by describe_certificates() */
} cert_stats;

typedef struct report_tables {
    endpoint_stats *endpoints;
    size_t n_endpoints, cap_endpoints; /* cap: a power of 2 */
    cert_stats *certs;
    size_t n_certs, cap_certs;
} report_tables;

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return h;
}

static uint64_t endpoint_hash(uint64_t binding_id, const char *address)
{
    uint64_t h = mix(binding_id + 1);

    for (const unsigned char *p = (const unsigned char *)address; *p; p++)
        h = (h ^ *p) * UINT64_C(0x100000001b3);
    return mix(h);
}

/* Grow a table to twice its size, rehashing (0 on out of memory). */
static int grow_endpoints(report_tables *t)
{
    size_t cap = t->cap_endpoints ? t->cap_endpoints * 2 : 1024;
    endpoint_stats *grown = calloc(cap, sizeof(*grown));

    if (grown == NULL)
        return 0;
    for (size_t i = 0; i < t->cap_endpoints; i++) {
        endpoint_stats *e = &t->endpoints[i];
        if (e->view == NULL)
            continue;
        size_t k = endpoint_hash(e->binding_id, e->address) & (cap - 1);
        while (grown[k].view != NULL)
            k = (k + 1) & (cap - 1);
        grown[k] = *e;
    }
    free(t->endpoints);
    t->endpoints = grown;
    t->cap_endpoints = cap;
    return 1;
}

static endpoint_stats *endpoint_slot(report_tables *t, clm_arena *arena,
                                     const Clm__Store__V1__ValidationResultRecord *r)
{
    size_t k;

    if (2 * (t->n_endpoints + 1) > t->cap_endpoints && !grow_endpoints(t))
        return NULL;
    k = endpoint_hash(r->binding_id, r->address) & (t->cap_endpoints - 1);
    for (;; k = (k + 1) & (t->cap_endpoints - 1)) {
        endpoint_stats *e = &t->endpoints[k];
        if (e->view == NULL)
            break;
        if (e->binding_id == r->binding_id && strcmp(e->address, r->address) == 0)
            return e;
    }
    endpoint_stats *e = &t->endpoints[k];
    e->binding_id = r->binding_id;
    e->certificate_id = r->certificate_id;
    e->address = clm_arena_strdup(arena, r->address);
    e->view = clm_arena_alloc(arena, sizeof(*e->view));
    if (e->address == NULL || e->view == NULL) {
        e->view = NULL;
        return NULL;
    }
    clm__v1__endpoint_validation__init(e->view);
    e->view->certificate = convert_hex(arena, r->expected_sha256.data, r->expected_sha256.len);
    e->view->host = clm_arena_strdup(arena, r->host);
    e->view->address = e->address;
    e->view->port = r->port;
    e->view->sni = clm_arena_strdup(arena, r->sni);
    e->last_at = INT64_MIN;
    t->n_endpoints++;
    return e;
}

static cert_stats *cert_slot(report_tables *t, uint64_t id)
{
    size_t k;

    if (2 * (t->n_certs + 1) > t->cap_certs) {
        size_t cap = t->cap_certs ? t->cap_certs * 2 : 256;
        cert_stats *grown = calloc(cap, sizeof(*grown));
        if (grown == NULL)
            return NULL;
        for (size_t i = 0; i < t->cap_certs; i++) {
            if (t->certs[i].certificate_id == 0)
                continue;
            size_t j = mix(t->certs[i].certificate_id) & (cap - 1);
            while (grown[j].certificate_id != 0)
                j = (j + 1) & (cap - 1);
            grown[j] = t->certs[i];
        }
        free(t->certs);
        t->certs = grown;
        t->cap_certs = cap;
    }
    for (k = mix(id) & (t->cap_certs - 1); t->certs[k].certificate_id != 0;
         k = (k + 1) & (t->cap_certs - 1))
        if (t->certs[k].certificate_id == id)
            return &t->certs[k];
    t->certs[k].certificate_id = id;
    t->n_certs++;
    return &t->certs[k];
}

static int endpoint_order(const void *a, const void *b)
{
    const Clm__V1__EndpointValidation *x = *(Clm__V1__EndpointValidation *const *)a;
    const Clm__V1__EndpointValidation *y = *(Clm__V1__EndpointValidation *const *)b;
    int c;

    if (x->failed != y->failed)
        return x->failed > y->failed ? -1 : 1;
    if ((c = strcmp(x->host, y->host)) != 0)
        return c;
    if (x->port != y->port)
        return x->port < y->port ? -1 : 1;
    if ((c = strcmp(x->address, y->address)) != 0)
        return c;
    return strcmp(x->certificate, y->certificate);
}

static int cert_order(const void *a, const void *b)
{
    const Clm__V1__CertificateValidation *x = *(Clm__V1__CertificateValidation *const *)a;
    const Clm__V1__CertificateValidation *y = *(Clm__V1__CertificateValidation *const *)b;

    if (x->failed != y->failed)
        return x->failed > y->failed ? -1 : 1;
    return strcmp(x->common_name, y->common_name);
}

static clm_err scan(store_txn *txn, clm_arena *arena, const pv_report_query *q, report_tables *t,
                    uint64_t verdicts[VERDICT_MAX + 1], Clm__V1__PushValidationReport *out)
{
    unsigned char start[16], end[16];
    clm_arena scratch = CLM_ARENA_INIT;
    int64_t span = q->until_ns - q->since_ns;
    store_iter *it;
    clm_err err;

    validation_result_key(q->since_ns, 0, start);
    validation_result_key(q->until_ns, 0, end);
    if ((err = store_iter_open(txn, &validation_result_table, NULL, 0, &it)) != CLM_OK)
        return err;
    for (err = store_iter_seek(it, start, 16, NULL, 0); err == CLM_OK; err = store_iter_next(it)) {
        const store_item *item = store_iter_item(it);
        ProtobufCMessage *m;
        if (item->key_len != 16 || memcmp(item->key, end, 16) >= 0)
            break;
        clm_arena_reset(&scratch);
        if ((err = endpoints_unpack(&scratch, &validation_result_table, item, &m)) != CLM_OK)
            break;
        const Clm__Store__V1__ValidationResultRecord *r = (const void *)m;
        if (q->certificate_id != 0 && r->certificate_id != q->certificate_id)
            continue;
        endpoint_verdict v = endpoint_verdict_parse(r->verdict);
        int ok = v == VERDICT_IN_SYNC;
        size_t bucket = (size_t)((__int128)(r->checked_at - q->since_ns) * q->buckets / span);
        endpoint_stats *e = endpoint_slot(t, arena, r);
        cert_stats *c = cert_slot(t, r->certificate_id);
        if (e == NULL || c == NULL) {
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            break;
        }
        out->checks++;
        ok ? out->succeeded++ : out->failed++;
        verdicts[v]++;
        if (bucket < out->n_series)
            ok ? out->series[bucket]->succeeded++ : out->series[bucket]->failed++;
        c->checks++;
        c->failed += !ok;
        e->view->checks++;
        e->view->failed += !ok;
        if (r->checked_at >= e->last_at) {
            e->last_at = r->checked_at;
            e->view->last_verdict = clm_arena_strdup(arena, r->verdict);
            e->view->last_detail = clm_arena_strdup(arena, r->detail);
            e->view->served_sha256 = convert_hex(arena, r->served_sha256.data, r->served_sha256.len);
            e->view->last_checked = convert_timestamp_ns(arena, r->checked_at);
        }
    }
    store_iter_close(it);
    clm_arena_free(&scratch);
    return err == CLM_ERR_NOT_FOUND ? (clm_error_clear(), CLM_OK) : err;
}

/* Certificate details: names and the binding state now. */
static clm_err describe_certificates(store_txn *txn, clm_arena *arena, report_tables *t,
                                     Clm__V1__PushValidationReport *out)
{
    out->certificates = clm_arena_alloc(arena, (t->n_certs + 1) * sizeof(*out->certificates));
    if (out->certificates == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < t->cap_certs; i++) {
        cert_stats *c = &t->certs[i];
        Clm__Store__V1__CertificateRecord *r;
        Clm__Store__V1__BindingRecord **bindings;
        Clm__V1__CertificateValidation *v;
        size_t n = 0, sync = 0, out_of_sync = 0;
        clm_err err;

        if (c->certificate_id == 0)
            continue;
        if ((v = clm_arena_alloc(arena, sizeof(*v))) == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        clm__v1__certificate_validation__init(v);
        v->checks = c->checks;
        v->failed = c->failed;
        v->state = "unknown";
        err = inventory_cert_get(txn, arena, c->certificate_id, &r);
        if (err == CLM_OK) {
            v->sha256 = convert_hex(arena, r->sha256.data, r->sha256.len);
            v->common_name = r->common_name;
        } else if (err == CLM_ERR_NOT_FOUND) {
            clm_error_clear();
            v->common_name = "(deleted)";
        } else {
            return err;
        }
        if ((err = bindings_of(txn, arena, c->certificate_id, &bindings, &n)) != CLM_OK)
            return err;
        for (size_t k = 0; k < n; k++) {
            sync += bindings[k]->state == CLM__V1__BINDING_STATE__BINDING_STATE_SYNC;
            out_of_sync += bindings[k]->state == CLM__V1__BINDING_STATE__BINDING_STATE_OUT_OF_SYNC;
        }
        c->common_name = v->common_name;
        v->bindings = (uint32_t)n;
        v->state = out_of_sync ? "out_of_sync" : (n > 0 && sync == n) ? "sync" : "unknown";
        out->certificates[out->n_certificates++] = v;
    }
    qsort(out->certificates, out->n_certificates, sizeof(*out->certificates), cert_order);
    return CLM_OK;
}

static clm_err list_endpoints(clm_arena *arena, const pv_report_query *q, report_tables *t,
                              Clm__V1__PushValidationReport *out)
{
    Clm__V1__EndpointValidation **all =
        malloc((t->n_endpoints + 1) * sizeof(Clm__V1__EndpointValidation *));
    size_t n = 0;

    if (all == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < t->cap_endpoints; i++) {
        endpoint_stats *e = &t->endpoints[i];
        if (e->view == NULL)
            continue;
        cert_stats *c = cert_slot(t, e->certificate_id); /* present: scan() counted it */
        e->view->common_name = (char *)(c && c->common_name ? c->common_name : "");
        all[n++] = e->view;
    }
    qsort(all, n, sizeof(*all), endpoint_order);
    size_t keep = n < q->max_endpoints ? n : q->max_endpoints;
    out->endpoints = clm_arena_alloc(arena, (keep + 1) * sizeof(*out->endpoints));
    if (out->endpoints == NULL) {
        free(all);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    memcpy(out->endpoints, all, keep * sizeof(*all));
    out->n_endpoints = keep;
    out->endpoints_omitted = (uint32_t)(n - keep);
    free(all);
    return CLM_OK;
}

clm_err pv_report_build(store_txn *txn, clm_arena *arena, const pv_report_query *q,
                        Clm__V1__PushValidationReport *out)
{
    report_tables t = {0};
    uint64_t verdicts[VERDICT_MAX + 1] = {0};
    int64_t span = q->until_ns - q->since_ns;
    clm_err err;

    out->since = convert_timestamp_ns(arena, q->since_ns);
    out->until = convert_timestamp_ns(arena, q->until_ns);
    out->series = clm_arena_alloc(arena, (q->buckets + 1) * sizeof(*out->series));
    if (out->series == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (unsigned i = 0; i < q->buckets; i++) {
        Clm__V1__ValidationBucket *b = clm_arena_alloc(arena, sizeof(*b));
        if (b == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        clm__v1__validation_bucket__init(b);
        b->start = convert_timestamp_ns(arena, q->since_ns + (int64_t)((__int128)span * i /
                                                                        q->buckets));
        out->series[out->n_series++] = b;
    }
    err = scan(txn, arena, q, &t, verdicts, out);
    if (err == CLM_OK)
        err = describe_certificates(txn, arena, &t, out);
    if (err == CLM_OK)
        err = list_endpoints(arena, q, &t, out);
    if (err == CLM_OK) {
        out->by_verdict = clm_arena_alloc(arena, (VERDICT_MAX + 1) * sizeof(*out->by_verdict));
        for (int v = 0; out->by_verdict && v < VERDICT_MAX; v++) {
            Clm__V1__VerdictCount *c = clm_arena_alloc(arena, sizeof(*c));
            if (c == NULL)
                break;
            clm__v1__verdict_count__init(c);
            c->verdict = (char *)endpoint_verdict_name((endpoint_verdict)v);
            c->count = verdicts[v];
            out->by_verdict[out->n_by_verdict++] = c;
        }
        out->success_ratio = out->checks ? (double)out->succeeded / (double)out->checks : 0;
    }
    free(t.endpoints);
    free(t.certs);
    return err;
}
