/*
 * appliance/jobs/tls_discovery.c: the "tls-discovery" kind. Sweeps targets (host:port
 * lists, port ranges, CIDR ranges, all inside [tls] allow), keeps an endpoint record
 * for every endpoint probed (what it served, when, or why it failed), and brings the
 * served leaf certificates into the inventory as the "After Discover" options say.
 *
 * Params (JSON):
 *   {"targets": [{"host": "10.0.0.0/24", "ports": "443,8443", "sni": "", "protocol": ""}],
 *    "after_discover": "monitored",     none | managed | monitored (default monitored)
 *    "group": "Web",                    group of new certificates (default: Default)
 *    "rules": {"issuer_contains": "Example CA", "name_pattern": "*.example.com",
 *              "min_key_bits": 2048, "expiring_within_days": 90}}
 * Rules decide which new certificates enter the inventory (all of them must pass);
 * certificates already in the inventory always get their endpoint source refreshed.
 * "none" (the guide's "Do not move") keeps endpoint records only.
 *
 * Idempotent: a repeated run probes again and refreshes the same records.
 */
#include <fnmatch.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/tls/probe.h"
#include "appliance/app.h"
#include "appliance/endpoints/records.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/observe.h"
#include "appliance/inventory/tables.h"
#include "appliance/jobs/kinds.h"
#include "appliance/jobs/sweep.h"
#include "clm/v1/inventory.pb-c.h"
#include "lib/base/log.h"

#define DISCOVERY_MAX_TARGETS 1000
#define DISCOVERY_FIELD_MAX 1024
#define WRITE_CHUNK 256

typedef enum after_discover { AFTER_NONE, AFTER_MANAGED, AFTER_MONITORED } after_discover;

typedef struct discovery_params {
    adapter_probe_target targets[DISCOVERY_MAX_TARGETS];
    size_t n_targets;
    after_discover after;
    const char *group;
    const char *issuer_contains;
    const char *name_pattern;
    int64_t min_key_bits;
    int64_t expiring_within_days; /* 0: no rule */
    json_t *root;                 /* owns the strings above */
} discovery_params;

/* A string member: absent is "", anything but a string (or too long) is an error. */
static clm_err get_string(json_t *obj, const char *name, const char *field, const char **out)
{
    json_t *v = json_object_get(obj, name);

    *out = "";
    if (v == NULL || json_is_null(v))
        return CLM_OK;
    if (!json_is_string(v) || strlen(json_string_value(v)) > DISCOVERY_FIELD_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.%s: a string of at most %d characters",
                        field, name, DISCOVERY_FIELD_MAX);
    *out = json_string_value(v);
    return CLM_OK;
}

static clm_err get_int(json_t *obj, const char *name, const char *field, int64_t max,
                       int64_t *out)
{
    json_t *v = json_object_get(obj, name);

    *out = 0;
    if (v == NULL)
        return CLM_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.%s: an integer from 0 to %lld", field, name,
                        (long long)max);
    *out = json_integer_value(v);
    return CLM_OK;
}

static clm_err only_known(json_t *obj, const char *field, const char *const *known)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v)
    {
        size_t i = 0;
        while (known[i] != NULL && strcmp(known[i], key) != 0)
            i++;
        if (known[i] == NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.%s: unknown field", field, key);
    }
    return CLM_OK;
}

static clm_err parse_target(json_t *t, size_t i, adapter_probe_target *out)
{
    static const char *const known[] = {"host", "ports", "sni", "protocol", NULL};
    char field[48];
    const char *protocol;
    clm_err err;

    snprintf(field, sizeof(field), "params.targets[%zu]", i);
    if (!json_is_object(t))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: not an object", field);
    if ((err = only_known(t, field, known)) != CLM_OK ||
        (err = get_string(t, "host", field, &out->host)) != CLM_OK ||
        (err = get_string(t, "ports", field, &out->ports)) != CLM_OK ||
        (err = get_string(t, "sni", field, &out->sni)) != CLM_OK ||
        (err = get_string(t, "protocol", field, &protocol)) != CLM_OK)
        return err;
    if (out->host[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.host: missing", field);
    if (out->ports[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.ports: missing", field);
    if (out->sni[0] == '\0')
        out->sni = NULL;
    if (protocol[0] != '\0' && adapter_probe_protocol_parse(protocol, &out->protocol) != CLM_OK)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "%s.protocol: '%s' is not auto, tls, smtp, imap or pop3", field, protocol);
    return CLM_OK;
}

/* Parse and check params; the allow-list and limits through the probe's own check. */
static clm_err parse_params(const char *text, size_t len, const clm_app *app,
                            discovery_params *p)
{
    static const char *const known[] = {"targets", "after_discover", "group", "rules", NULL};
    static const char *const known_rules[] = {"issuer_contains", "name_pattern", "min_key_bits",
                                              "expiring_within_days", NULL};
    json_error_t error;
    json_t *targets, *rules;
    const char *after;
    clm_err err;

    memset(p, 0, sizeof(*p));
    p->root = json_loadb(text, len, 0, &error);
    if (!json_is_object(p->root))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "params: not a JSON object (%s)", error.text);
    if ((err = only_known(p->root, "params", known)) != CLM_OK)
        return err;
    targets = json_object_get(p->root, "targets");
    if (!json_is_array(targets) || json_array_size(targets) == 0 ||
        json_array_size(targets) > DISCOVERY_MAX_TARGETS)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "params.targets: an array of 1 to %d targets",
                        DISCOVERY_MAX_TARGETS);
    p->n_targets = json_array_size(targets);
    for (size_t i = 0; i < p->n_targets; i++)
        if ((err = parse_target(json_array_get(targets, i), i, &p->targets[i])) != CLM_OK)
            return err;
    if ((err = get_string(p->root, "after_discover", "params", &after)) != CLM_OK ||
        (err = get_string(p->root, "group", "params", &p->group)) != CLM_OK)
        return err;
    if (after[0] == '\0' || strcasecmp(after, "monitored") == 0)
        p->after = AFTER_MONITORED;
    else if (strcasecmp(after, "managed") == 0)
        p->after = AFTER_MANAGED;
    else if (strcasecmp(after, "none") == 0)
        p->after = AFTER_NONE;
    else
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "params.after_discover: '%s' is not none, managed or monitored", after);
    rules = json_object_get(p->root, "rules");
    p->issuer_contains = p->name_pattern = "";
    if (rules != NULL) {
        if (!json_is_object(rules))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "params.rules: not an object");
        if ((err = only_known(rules, "params.rules", known_rules)) != CLM_OK ||
            (err = get_string(rules, "issuer_contains", "params.rules", &p->issuer_contains)) !=
                CLM_OK ||
            (err = get_string(rules, "name_pattern", "params.rules", &p->name_pattern)) != CLM_OK ||
            (err = get_int(rules, "min_key_bits", "params.rules", 16384, &p->min_key_bits)) !=
                CLM_OK ||
            (err = get_int(rules, "expiring_within_days", "params.rules", 36500,
                           &p->expiring_within_days)) != CLM_OK)
            return err;
    }
    endpoint_probe_setup setup;
    endpoint_probe_setup_init(&setup, &app->config);
    if ((err = tls_probe_check(p->targets, p->n_targets, &setup.options)) != CLM_OK)
        return clm_fail(err, "params.%s", clm_error_message());
    return CLM_OK;
}

typedef struct group_check {
    const char *name;
    uint64_t id;
} group_check;

static clm_err find_group(store_txn *txn, void *arg)
{
    group_check *g = arg;
    clm_arena scratch = CLM_ARENA_INIT;
    Clm__Store__V1__GroupRecord *r;
    clm_err err = group_find(txn, &scratch, g->name, "params.group", &r);

    if (err == CLM_OK)
        g->id = r->id;
    clm_arena_free(&scratch);
    return err;
}

clm_err job_tls_discovery_check(const char *params, size_t len, const clm_app *app)
{
    discovery_params *p = malloc(sizeof(*p));
    clm_err err;

    if (p == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    err = parse_params(params, len, app, p);
    if (err == CLM_OK && p->group[0] != '\0') {
        group_check g = {p->group, 0};
        err = store_view(app->store, find_group, &g);
        if (err == CLM_ERR_NOT_FOUND)
            err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s", clm_error_message());
    }
    json_decref(p->root);
    free(p);
    return err;
}

/* ---- the run ---- */

typedef struct discovery_state {
    clm_app *app;
    sched_ctx *ctx;
    discovery_params params;
    uint64_t group_id;
    adapter_probe_report *report;
    pki_facts **facts; /* per result, for ok results */
    int64_t now_ns;
    size_t chunk_start;
    size_t added, refreshed, filtered, failed;             /* committed */
    size_t chunk_added, chunk_refreshed, chunk_filtered; /* of the chunk being written */
} discovery_state;

static bool passes_rules(const discovery_state *st, const pki_facts *f)
{
    const discovery_params *p = &st->params;

    if (p->issuer_contains[0] && (f->issuer == NULL || strcasestr(f->issuer, p->issuer_contains) ==
                                                           NULL))
        return false;
    if (p->min_key_bits > 0 && f->key_bits < p->min_key_bits)
        return false;
    if (p->expiring_within_days > 0 &&
        f->not_after - st->now_ns / CLM_NS_PER_SEC > p->expiring_within_days * 86400)
        return false;
    if (p->name_pattern[0]) {
        bool match = f->common_name && fnmatch(p->name_pattern, f->common_name, FNM_CASEFOLD) == 0;
        for (size_t i = 0; !match && i < f->dns_names.n; i++)
            match = fnmatch(p->name_pattern, f->dns_names.v[i], FNM_CASEFOLD) == 0;
        if (!match)
            return false;
    }
    return true;
}

static clm_err write_chunk(store_txn *txn, void *arg)
{
    discovery_state *st = arg;
    clm_arena scratch = CLM_ARENA_INIT;
    size_t end = st->chunk_start + WRITE_CHUNK < st->report->n ? st->chunk_start + WRITE_CHUNK
                                                                : st->report->n;
    clm_err err = CLM_OK;

    /* store_update may run this again after growing the map: the caller adds the
       chunk's counts once it committed. */
    st->chunk_added = st->chunk_refreshed = st->chunk_filtered = 0;

    for (size_t i = st->chunk_start; i < end && err == CLM_OK; i++) {
        const adapter_probe_result *r = &st->report->results[i];
        uint64_t cert_id = 0;
        clm_arena_reset(&scratch);
        if (r->status == ADAPTER_PROBE_OK && st->facts[i] != NULL) {
            char endpoint[600];
            bool admit = st->params.after != AFTER_NONE && passes_rules(st, st->facts[i]);
            bool was_added = false;
            inventory_observation o = {0};
            snprintf(endpoint, sizeof(endpoint), "%s:%s:%u:%s", r->host, r->address, r->port,
                     r->sni ? r->sni : "");
            o.der = r->chain[0].data;
            o.der_len = r->chain[0].len;
            o.facts = st->facts[i];
            o.kind = "endpoint";
            o.endpoint = endpoint;
            o.add_new = admit;
            o.status = st->params.after == AFTER_MANAGED
                           ? CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_MANAGED
                           : CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_MONITORED;
            o.group_id = st->group_id;
            o.now_ns = st->now_ns;
            if ((err = inventory_observe(txn, &scratch, &o, &cert_id, &was_added)) != CLM_OK)
                break;
            st->chunk_added += was_added;
            st->chunk_refreshed += cert_id != 0 && !was_added;
            st->chunk_filtered += cert_id == 0 && st->params.after != AFTER_NONE;
        }
        err = endpoint_record_observe(txn, &scratch, r, cert_id, "tls-discovery", st->now_ns);
    }
    clm_arena_free(&scratch);
    return err;
}

sched_outcome job_tls_discovery(sched_ctx *ctx, void *arg)
{
    discovery_state *st = calloc(1, sizeof(*st));
    sched_outcome outcome = SCHED_OUTCOME_OK;
    size_t len;
    const char *text = sched_ctx_params(ctx, &len);
    clm_err err;

    if (st == NULL) {
        sched_ctx_error(ctx, "out of memory");
        return SCHED_OUTCOME_RETRY;
    }
    st->app = arg;
    st->ctx = ctx;
    if (parse_params(text, len, st->app, &st->params) != CLM_OK) {
        sched_ctx_error(ctx, "%s", clm_error_message());
        outcome = SCHED_OUTCOME_FAIL;
        goto out;
    }
    if (st->params.group[0] != '\0') {
        group_check g = {st->params.group, 0};
        if ((err = store_view(st->app->store, find_group, &g)) != CLM_OK) {
            sched_ctx_error(ctx, "%s", clm_error_message());
            outcome = err == CLM_ERR_NOT_FOUND ? SCHED_OUTCOME_FAIL : SCHED_OUTCOME_RETRY;
            goto out;
        }
        st->group_id = g.id;
    }
    outcome = job_sweep(ctx, st->app, st->params.targets, st->params.n_targets, true, &st->report,
                        &err);
    if (outcome != SCHED_OUTCOME_OK)
        goto out;
    st->now_ns = clm_clock_now_ns(sched_ctx_clock(ctx));
    st->facts = calloc(st->report->n + 1, sizeof(*st->facts));
    if (st->facts == NULL) {
        sched_ctx_error(ctx, "out of memory");
        outcome = SCHED_OUTCOME_RETRY;
        goto out;
    }
    /* Facts outside the write transactions: parsing is the CPU part. */
    for (size_t i = 0; i < st->report->n; i++) {
        const adapter_probe_result *r = &st->report->results[i];
        if (r->status != ADAPTER_PROBE_OK) {
            st->failed++;
            continue;
        }
        if (r->chain_len == 0 ||
            pki_facts_from_der(r->chain[0].data, r->chain[0].len, &st->facts[i]) != CLM_OK) {
            CLM_LOG_WARN("tls_discovery.unreadable_leaf", "address", r->address, "port",
                         CLM_I64(r->port), "error", clm_error_message());
            clm_error_clear();
        }
    }
    for (st->chunk_start = 0; st->chunk_start < st->report->n; st->chunk_start += WRITE_CHUNK) {
        if ((err = store_update(st->app->store, write_chunk, st)) != CLM_OK) {
            sched_ctx_error(ctx, "storing results: %s", clm_error_message());
            outcome = SCHED_OUTCOME_RETRY;
            goto out;
        }
        st->added += st->chunk_added;
        st->refreshed += st->chunk_refreshed;
        st->filtered += st->chunk_filtered;
    }
    sched_ctx_progress(ctx, st->report->n, st->report->n,
                       "%zu endpoints: %zu certificates added, %zu refreshed, %zu left out by "
                       "rules, %zu endpoints failed",
                       st->report->n, st->added, st->refreshed, st->filtered, st->failed);
    CLM_LOG_INFO("tls_discovery.done", "endpoints", CLM_I64((int64_t)st->report->n), "added",
                 CLM_I64((int64_t)st->added), "refreshed", CLM_I64((int64_t)st->refreshed),
                 "left_out", CLM_I64((int64_t)st->filtered), "failed",
                 CLM_I64((int64_t)st->failed));
out:
    if (st->facts != NULL)
        for (size_t i = 0; i < st->report->n; i++)
            pki_facts_free(st->facts[i]);
    free(st->facts);
    tls_probe_report_free(st->report);
    json_decref(st->params.root);
    free(st);
    return outcome;
}
