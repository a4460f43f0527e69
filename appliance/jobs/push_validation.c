/*
 * appliance/jobs/push_validation.c: the "push-validation" kind. For every binding (a
 * certificate and an endpoint where it must be served), connect to the endpoint and
 * compare the served leaf with the certificate (verdicts: appliance/endpoints/verdict.h).
 * Each binding gets its state (Sync / Out of Sync), verdict and detail; each endpoint
 * probed gets its record; each check is kept in validation_results for the Push
 * Validation Report, for [tls] validation_history_days (older results are pruned here).
 *
 * Endpoints bound to several certificates (an old certificate and its renewal) are
 * probed once. When an endpoint serves a renewal of the expected certificate (a child
 * in its lineage), the old one's binding is Out of Sync and the detail says "renewed":
 * the guide's rule.
 *
 * Params (JSON, all optional): {"certificate": "<sha256>"} checks one certificate's
 * bindings only.
 * Idempotent: a repeated run probes again and adds another set of results (the report
 * counts each run's checks).
 */
#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/tls/probe.h"
#include "appliance/app.h"
#include "appliance/endpoints/bindings.h"
#include "appliance/endpoints/records.h"
#include "appliance/endpoints/tables.h"
#include "appliance/endpoints/verdict.h"
#include "appliance/inventory/certs.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/tables.h"
#include "appliance/jobs/kinds.h"
#include "appliance/jobs/sweep.h"
#include "lib/base/buf.h"
#include "lib/base/log.h"

#define LINEAGE_MAX 8      /* renewals followed from an expected certificate */
#define WRITE_CHUNK 256    /* bindings per write transaction */
#define PRUNE_MAX 50000    /* old results deleted per run */
#define LOG_FAILURES_MAX 100

typedef struct pv_binding {
    uint64_t id;
    uint64_t certificate_id;
    char expected[65];
    char renewals[LINEAGE_MAX][65];
    size_t n_renewals;
    char *host, *sni, *protocol;
    unsigned port;
    size_t target;
    bool first_of_target; /* writes the endpoint record for its target */
} pv_binding;

typedef struct pv_state {
    clm_app *app;
    sched_ctx *ctx;
    clm_arena arena;
    uint64_t only_certificate;
    pv_binding *b;
    size_t n, cap;
    adapter_probe_target *targets;
    size_t n_targets;
    size_t *first_result, *n_results; /* per target */
    char **refused;                   /* per target: why the allow-list refused it, or NULL */
    adapter_probe_report *report;
    int64_t now_ns;
    size_t chunk_start;
    uint64_t counts[VERDICT_MAX];       /* of committed chunks */
    uint64_t chunk_counts[VERDICT_MAX]; /* of the chunk being written */
} pv_state;

/* ---- params ---- */

clm_err job_push_validation_check(const char *params, size_t len, const clm_app *app)
{
    json_error_t error;
    json_t *root, *v;
    clm_err err = CLM_OK;

    (void)app;
    if (len == 0)
        return CLM_OK;
    root = json_loadb(params, len, 0, &error);
    if (!json_is_object(root))
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "params: not a JSON object");
    else if ((v = json_object_get(root, "certificate")) != NULL) {
        unsigned char digest[32];
        size_t n;
        if (!json_is_string(v))
            err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "params.certificate: not a string");
        else
            err = inventory_parse_id(json_string_value(v), "params.certificate", digest, &n);
    }
    if (err == CLM_OK) {
        const char *key;
        json_object_foreach(root, key, v)
        {
            if (strcmp(key, "certificate") != 0) {
                err = clm_fail(CLM_ERR_INVALID_ARGUMENT,
                               "params.%s: unknown field (known: certificate)", key);
                break;
            }
        }
    }
    json_decref(root);
    return err;
}

/* ---- load the bindings ---- */

static clm_err add_binding(pv_state *st, store_txn *txn, const Clm__Store__V1__BindingRecord *r,
                           clm_arena *scratch)
{
    Clm__Store__V1__CertificateRecord *cert;
    pv_binding *b;
    clm_err err = inventory_cert_get(txn, scratch, r->certificate_id, &cert);

    if (err == CLM_ERR_NOT_FOUND) { /* the certificate was deleted: nothing to expect */
        clm_error_clear();
        return CLM_OK;
    }
    if (err != CLM_OK)
        return err;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 256;
        pv_binding *grown = realloc(st->b, cap * sizeof(*grown));
        if (grown == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        st->b = grown;
        st->cap = cap;
    }
    b = &st->b[st->n];
    memset(b, 0, sizeof(*b));
    b->id = r->id;
    b->certificate_id = r->certificate_id;
    clm_hex_encode(b->expected, cert->sha256.data, cert->sha256.len < 32 ? cert->sha256.len : 32);
    /* Renewals: follow child links, so a served successor is recognised. */
    for (uint64_t child = cert->child_id; child != 0 && b->n_renewals < LINEAGE_MAX;) {
        Clm__Store__V1__CertificateRecord *c;
        if (inventory_cert_get(txn, scratch, child, &c) != CLM_OK) {
            clm_error_clear();
            break;
        }
        clm_hex_encode(b->renewals[b->n_renewals++], c->sha256.data,
                       c->sha256.len < 32 ? c->sha256.len : 32);
        child = c->child_id;
    }
    b->host = clm_arena_strdup(&st->arena, r->host);
    b->sni = clm_arena_strdup(&st->arena, r->sni);
    b->protocol = clm_arena_strdup(&st->arena, r->protocol);
    b->port = r->port;
    if (b->host == NULL || b->sni == NULL || b->protocol == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    st->n++;
    return CLM_OK;
}

static clm_err load_bindings(store_txn *txn, void *arg)
{
    pv_state *st = arg;
    clm_arena scratch = CLM_ARENA_INIT;
    store_iter *it;
    clm_err err;

    if ((err = store_iter_open(txn, &binding_table, NULL, 0, &it)) != CLM_OK)
        return err;
    for (err = store_iter_first(it); err == CLM_OK; err = store_iter_next(it)) {
        ProtobufCMessage *m;
        clm_arena_reset(&scratch);
        if ((err = endpoints_unpack(&scratch, &binding_table, store_iter_item(it), &m)) != CLM_OK)
            break;
        const Clm__Store__V1__BindingRecord *r = (const void *)m;
        if (st->only_certificate != 0 && r->certificate_id != st->only_certificate)
            continue;
        if ((err = add_binding(st, txn, r, &scratch)) != CLM_OK)
            break;
    }
    store_iter_close(it);
    clm_arena_free(&scratch);
    return err == CLM_ERR_NOT_FOUND ? (clm_error_clear(), CLM_OK) : err;
}

static clm_err find_only_certificate(store_txn *txn, void *arg)
{
    pv_state *st = arg;
    Clm__Store__V1__CertificateRecord *r;
    clm_arena scratch = CLM_ARENA_INIT;
    size_t len;
    const char *params = sched_ctx_params(st->ctx, &len);
    json_t *root = json_loadb(params, len, 0, NULL);
    clm_err err = CLM_OK;

    if (json_is_string(json_object_get(root, "certificate"))) {
        err = inventory_cert_find(txn, &scratch,
                                  json_string_value(json_object_get(root, "certificate")), &r);
        if (err == CLM_OK)
            st->only_certificate = r->id;
    }
    json_decref(root);
    clm_arena_free(&scratch);
    return err;
}

/* ---- targets: one per distinct (host, port, sni, protocol) ---- */

typedef struct target_sort {
    const char *key; /* lower-cased "host|port|sni|protocol" */
    size_t binding;
} target_sort;

static int target_cmp(const void *a, const void *b)
{
    return strcmp(((const target_sort *)a)->key, ((const target_sort *)b)->key);
}

static clm_err build_targets(pv_state *st)
{
    target_sort *order = malloc((st->n + 1) * sizeof(*order));
    char ports[8];

    st->targets = clm_arena_alloc(&st->arena, (st->n + 1) * sizeof(*st->targets));
    if (order == NULL || st->targets == NULL) {
        free(order);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    for (size_t i = 0; i < st->n; i++) {
        const pv_binding *b = &st->b[i];
        char key[ENDPOINT_KEY_MAX + 16];
        size_t n = endpoint_key(b->host, b->port, b->sni, key);
        snprintf(key + n, sizeof(key) - n, "|%s", b->protocol);
        for (char *p = key + n; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        order[i].key = clm_arena_strdup(&st->arena, key);
        order[i].binding = i;
        if (order[i].key == NULL) {
            free(order);
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        }
    }
    qsort(order, st->n, sizeof(*order), target_cmp);
    for (size_t k = 0; k < st->n; k++) {
        pv_binding *b = &st->b[order[k].binding];
        if (k > 0 && strcmp(order[k - 1].key, order[k].key) == 0) {
            b->target = st->b[order[k - 1].binding].target;
            continue;
        }
        adapter_probe_target *t = &st->targets[st->n_targets];
        snprintf(ports, sizeof(ports), "%u", b->port);
        t->host = b->host;
        t->ports = clm_arena_strdup(&st->arena, ports);
        t->sni = b->sni[0] ? b->sni : NULL;
        t->protocol = ADAPTER_PROBE_AUTO;
        if (b->protocol[0] != '\0')
            adapter_probe_protocol_parse(b->protocol, &t->protocol);
        b->target = st->n_targets++;
        b->first_of_target = true;
    }
    free(order);
    return CLM_OK;
}

static clm_err index_results(pv_state *st)
{
    st->first_result = calloc(st->n_targets + 1, sizeof(size_t));
    st->n_results = calloc(st->n_targets + 1, sizeof(size_t));
    if (st->first_result == NULL || st->n_results == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    /* Results come in expansion order: a target's results are contiguous. */
    for (size_t i = st->report ? st->report->n : 0; i-- > 0;) {
        size_t t = st->report->results[i].target_index;
        if (t < st->n_targets) {
            st->first_result[t] = i;
            st->n_results[t]++;
        }
    }
    return CLM_OK;
}

/* ---- verdicts and writes ---- */

/* The inventory's record of a served leaf, for the detail of out_of_sync. */
static void describe_served(pv_state *st, store_txn *txn, clm_arena *scratch,
                            const pv_binding *b, const adapter_probe_result *r, char *detail,
                            size_t size)
{
    Clm__Store__V1__CertificateRecord *served;

    for (size_t i = 0; i < b->n_renewals; i++)
        if (strcmp(b->renewals[i], r->leaf_sha256) == 0) {
            snprintf(detail, size, "renewed: serves its successor %.16s...", r->leaf_sha256);
            return;
        }
    if (inventory_cert_find(txn, scratch, r->leaf_sha256, &served) == CLM_OK)
        snprintf(detail, size, "serves CN=%s (%.16s...) instead", served->common_name,
                 r->leaf_sha256);
    else
        snprintf(detail, size, "serves %.16s... (not in the inventory) instead", r->leaf_sha256);
    clm_error_clear();
    (void)st;
}

static clm_err put_result(store_txn *txn, pv_state *st, const pv_binding *b,
                          const adapter_probe_result *r, endpoint_verdict v, const char *detail,
                          int64_t checked_at, clm_arena *scratch)
{
    Clm__Store__V1__ValidationResultRecord rec = CLM__STORE__V1__VALIDATION_RESULT_RECORD__INIT;
    unsigned char expected[32], served[32], key[16];
    size_t len;

    inventory_parse_id(b->expected, "expected", expected, &len);
    rec.binding_id = b->id;
    rec.certificate_id = b->certificate_id;
    rec.expected_sha256.data = clm_arena_memdup(scratch, expected, 32);
    rec.expected_sha256.len = 32;
    rec.host = b->host;
    rec.address = r ? (char *)r->address : "";
    rec.port = b->port;
    rec.sni = b->sni;
    rec.verdict = (char *)endpoint_verdict_name(v);
    rec.detail = (char *)detail;
    if (r && r->status == ADAPTER_PROBE_OK &&
        inventory_parse_id(r->leaf_sha256, "served", served, &len) == CLM_OK) {
        rec.served_sha256.data = clm_arena_memdup(scratch, served, 32);
        rec.served_sha256.len = 32;
    }
    clm_error_clear();
    rec.run_id = sched_ctx_run_id(st->ctx);
    rec.checked_at = checked_at;
    validation_result_key(checked_at, b->id, key);
    return store_put(txn, &validation_result_table, key, 16, &rec.base, 0);
}

static clm_err check_binding(store_txn *txn, pv_state *st, pv_binding *b, clm_arena *scratch)
{
    size_t first = st->first_result[b->target], count = st->n_results[b->target];
    endpoint_verdict verdict = count ? VERDICT_IN_SYNC : VERDICT_UNREACHABLE;
    char detail[256] = "no address to probe";

    if (count == 0 && st->refused != NULL && st->refused[b->target] != NULL)
        snprintf(detail, sizeof(detail), "not probed: %s", st->refused[b->target]);
    const adapter_probe_result *worst = NULL;
    int64_t now_s = st->now_ns / CLM_NS_PER_SEC;
    Clm__Store__V1__BindingRecord *rec;
    ProtobufCMessage *m;
    store_item item;
    unsigned char key[8];
    clm_err err;

    for (size_t i = 0; i < count; i++) {
        const adapter_probe_result *r = &st->report->results[first + i];
        endpoint_verdict v = endpoint_verdict_of(r, b->expected, now_s);
        char d[256];
        if (v == VERDICT_OUT_OF_SYNC)
            describe_served(st, txn, scratch, b, r, d, sizeof(d));
        else
            endpoint_verdict_detail(r, v, d, sizeof(d));
        /* One result per address; the key's time moves by a nanosecond per address. */
        if ((err = put_result(txn, st, b, r, v, d, st->now_ns + (int64_t)i, scratch)) != CLM_OK)
            return err;
        if (b->first_of_target) {
            Clm__Store__V1__CertificateRecord *served = NULL;
            uint64_t served_id = 0;
            if (r->status == ADAPTER_PROBE_OK &&
                inventory_cert_find(txn, scratch, r->leaf_sha256, &served) == CLM_OK)
                served_id = served->id;
            clm_error_clear();
            if ((err = endpoint_record_observe(txn, scratch, r, served_id, "push-validation",
                                               st->now_ns)) != CLM_OK)
                return err;
        }
        if (worst == NULL || (verdict == VERDICT_IN_SYNC && v != VERDICT_IN_SYNC)) {
            worst = r;
            verdict = v;
            snprintf(detail, sizeof(detail), "%s", d);
        }
    }
    if (count == 0 && (err = put_result(txn, st, b, NULL, verdict, detail, st->now_ns, scratch)) !=
                          CLM_OK)
        return err;
    st->chunk_counts[verdict]++;

    inventory_id_key(b->id, key);
    err = store_get(txn, &binding_table, key, 8, &item);
    if (err == CLM_ERR_NOT_FOUND) { /* removed while we probed */
        clm_error_clear();
        return CLM_OK;
    }
    if (err != CLM_OK || (err = endpoints_unpack(scratch, &binding_table, &item, &m)) != CLM_OK)
        return err;
    rec = (Clm__Store__V1__BindingRecord *)m;
    rec->state = verdict == VERDICT_IN_SYNC ? CLM__V1__BINDING_STATE__BINDING_STATE_SYNC
                                            : CLM__V1__BINDING_STATE__BINDING_STATE_OUT_OF_SYNC;
    rec->verdict = (char *)endpoint_verdict_name(verdict);
    rec->detail = clm_arena_strdup(scratch, detail);
    rec->checked_at = st->now_ns;
    if (verdict == VERDICT_IN_SYNC)
        rec->last_in_sync = st->now_ns;
    rec->served_sha256.len = 0;
    if (worst != NULL && worst->status == ADAPTER_PROBE_OK) {
        unsigned char served[32];
        size_t len;
        if (inventory_parse_id(worst->leaf_sha256, "served", served, &len) == CLM_OK) {
            rec->served_sha256.data = clm_arena_memdup(scratch, served, 32);
            rec->served_sha256.len = 32;
        }
        clm_error_clear();
    }
    return binding_put(txn, rec);
}

static clm_err write_chunk(store_txn *txn, void *arg)
{
    pv_state *st = arg;
    clm_arena scratch = CLM_ARENA_INIT;
    size_t end = st->chunk_start + WRITE_CHUNK < st->n ? st->chunk_start + WRITE_CHUNK : st->n;
    clm_err err = CLM_OK;

    /* store_update may run this again after growing the map: the caller adds the
       chunk's counts once it committed. */
    memset(st->chunk_counts, 0, sizeof(st->chunk_counts));
    for (size_t i = st->chunk_start; i < end && err == CLM_OK; i++) {
        clm_arena_reset(&scratch);
        err = check_binding(txn, st, &st->b[i], &scratch);
    }
    clm_arena_free(&scratch);
    return err;
}

/* Results older than the history are deleted, oldest first, a bounded number a run. */
static clm_err prune_results(store_txn *txn, void *arg)
{
    pv_state *st = arg;
    int64_t cutoff = st->now_ns - (int64_t)st->app->config.validation_history_days * 86400 *
                                      CLM_NS_PER_SEC;
    unsigned char limit[16];
    store_iter *it;
    size_t deleted = 0;
    clm_err err;

    validation_result_key(cutoff, 0, limit);
    if ((err = store_iter_open(txn, &validation_result_table, NULL, STORE_KEYS_ONLY, &it)) !=
        CLM_OK)
        return err;
    for (err = store_iter_first(it); err == CLM_OK && deleted < PRUNE_MAX;) {
        const store_item *item = store_iter_item(it);
        unsigned char key[16];
        if (item->key_len != 16 || memcmp(item->key, limit, 16) >= 0)
            break;
        memcpy(key, item->key, 16);
        err = store_iter_next(it);
        clm_err d = store_delete(txn, &validation_result_table, key, 16);
        if (d != CLM_OK) {
            err = d;
            break;
        }
        deleted++;
    }
    store_iter_close(it);
    return err == CLM_ERR_NOT_FOUND ? (clm_error_clear(), CLM_OK) : err;
}

static void log_failures(pv_state *st)
{
    size_t logged = 0, failed = 0;

    for (size_t i = 0; i < st->n; i++) {
        const pv_binding *b = &st->b[i];
        size_t count = st->report ? st->n_results[b->target] : 0;
        for (size_t k = 0; k < count; k++) {
            const adapter_probe_result *r = &st->report->results[st->first_result[b->target] + k];
            endpoint_verdict v =
                endpoint_verdict_of(r, b->expected, st->now_ns / CLM_NS_PER_SEC);
            if (v == VERDICT_IN_SYNC)
                continue;
            failed++;
            if (logged++ < LOG_FAILURES_MAX)
                CLM_LOG_WARN("push_validation.failed", "certificate", b->expected, "host",
                             b->host, "address", r->address, "port", CLM_I64(b->port), "sni",
                             b->sni, "verdict", endpoint_verdict_name(v));
        }
    }
    if (logged > LOG_FAILURES_MAX)
        CLM_LOG_WARN("push_validation.failed_more", "not_logged",
                     CLM_I64((int64_t)(failed - LOG_FAILURES_MAX)));
}

/*
 * The sweep was refused: a bound name now resolves outside [tls] allow, or the
 * allow-list changed since the binding was made. One such binding must not stop the
 * validation of all others: probe the targets the allow-list still covers, and give
 * the others "unreachable" with the reason.
 */
static sched_outcome sweep_allowed(pv_state *st)
{
    adapter_probe_target *kept;
    size_t *original, n_kept = 0;
    sched_outcome outcome = SCHED_OUTCOME_OK;
    clm_err err;

    clm_error_clear();
    sched_ctx_error(st->ctx, "%s", ""); /* the refusal is reported per binding, not as the
                                           run's error */
    st->refused = calloc(st->n_targets + 1, sizeof(*st->refused));
    kept = calloc(st->n_targets + 1, sizeof(*kept));
    original = calloc(st->n_targets + 1, sizeof(*original));
    if (st->refused == NULL || kept == NULL || original == NULL) {
        sched_ctx_error(st->ctx, "out of memory");
        free(kept);
        free(original);
        return SCHED_OUTCOME_RETRY;
    }
    size_t n_refused = job_sweep_refused(st->app, st->targets, st->n_targets, st->refused);
    for (size_t i = 0; i < st->n_targets; i++)
        if (st->refused[i] == NULL) {
            original[n_kept] = i;
            kept[n_kept++] = st->targets[i];
        }
    CLM_LOG_WARN("push_validation.refused_targets", "refused", CLM_I64((int64_t)n_refused),
                 "probed", CLM_I64((int64_t)n_kept));
    if (n_kept > 0) {
        outcome = job_sweep(st->ctx, st->app, kept, n_kept, true, &st->report, &err);
        for (size_t i = 0; st->report != NULL && i < st->report->n; i++)
            st->report->results[i].target_index = original[st->report->results[i].target_index];
    }
    free(kept);
    free(original);
    return outcome;
}

sched_outcome job_push_validation(sched_ctx *ctx, void *arg)
{
    pv_state st;
    sched_outcome outcome = SCHED_OUTCOME_OK;
    clm_err err;

    memset(&st, 0, sizeof(st));
    st.app = arg;
    st.ctx = ctx;
    st.arena = (clm_arena)CLM_ARENA_INIT;
    st.now_ns = clm_clock_now_ns(sched_ctx_clock(ctx));
    {
        size_t len;
        const char *params = sched_ctx_params(ctx, &len);
        if (job_push_validation_check(params, len, st.app) != CLM_OK) {
            sched_ctx_error(ctx, "%s", clm_error_message());
            return SCHED_OUTCOME_FAIL;
        }
    }
    if ((err = store_view(st.app->store, find_only_certificate, &st)) != CLM_OK) {
        sched_ctx_error(ctx, "%s", clm_error_message());
        return err == CLM_ERR_NOT_FOUND ? SCHED_OUTCOME_FAIL : SCHED_OUTCOME_RETRY;
    }
    if ((err = store_view(st.app->store, load_bindings, &st)) != CLM_OK ||
        (err = build_targets(&st)) != CLM_OK) {
        sched_ctx_error(ctx, "loading bindings: %s", clm_error_message());
        outcome = SCHED_OUTCOME_RETRY;
        goto out;
    }
    if (st.n == 0) {
        sched_ctx_progress(ctx, 0, 0, "no bindings to validate");
    } else {
        outcome = job_sweep(ctx, st.app, st.targets, st.n_targets, true, &st.report, &err);
        if (err == CLM_ERR_PERMISSION)
            outcome = sweep_allowed(&st);
        if (outcome != SCHED_OUTCOME_OK)
            goto out;
        if ((err = index_results(&st)) != CLM_OK) {
            sched_ctx_error(ctx, "%s", clm_error_message());
            outcome = SCHED_OUTCOME_RETRY;
            goto out;
        }
        st.now_ns = clm_clock_now_ns(sched_ctx_clock(ctx));
        for (st.chunk_start = 0; st.chunk_start < st.n; st.chunk_start += WRITE_CHUNK) {
            if ((err = store_update(st.app->store, write_chunk, &st)) != CLM_OK) {
                sched_ctx_error(ctx, "storing verdicts: %s", clm_error_message());
                outcome = SCHED_OUTCOME_RETRY;
                goto out;
            }
            for (int v = 0; v < VERDICT_MAX; v++)
                st.counts[v] += st.chunk_counts[v];
        }
        log_failures(&st);
    }
    if ((err = store_update(st.app->store, prune_results, &st)) != CLM_OK)
        CLM_LOG_WARN("push_validation.prune", "error", clm_error_message());
    sched_ctx_progress(ctx, st.n, st.n, "%zu bindings: %" PRIu64 " in sync, %zu out of sync",
                       st.n, st.counts[VERDICT_IN_SYNC], st.n - (size_t)st.counts[VERDICT_IN_SYNC]);
    CLM_LOG_INFO("push_validation.done", "bindings", CLM_I64((int64_t)st.n), "endpoints",
                 CLM_I64((int64_t)st.n_targets), "in_sync",
                 CLM_I64((int64_t)st.counts[VERDICT_IN_SYNC]), "out_of_sync",
                 CLM_I64((int64_t)st.counts[VERDICT_OUT_OF_SYNC]), "unreachable",
                 CLM_I64((int64_t)st.counts[VERDICT_UNREACHABLE]));
out:
    for (size_t i = 0; st.refused != NULL && i < st.n_targets; i++)
        free(st.refused[i]);
    free(st.refused);
    tls_probe_report_free(st.report);
    free(st.first_result);
    free(st.n_results);
    free(st.b);
    clm_arena_free(&st.arena);
    return outcome;
}
