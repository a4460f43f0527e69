/*
 * appliance/jobs/expiry_notice.c: the "expiry-notice" kind. Finds certificates that
 * expire within their notice window and tells people: one structured log line per
 * certificate, and one webhook (HTTP POST of JSON) with them all, retried with
 * backoff. Ignored certificates are skipped.
 *
 * Window, group-aware: `days` (default 30), widened to a group's largest renewal
 * setting (auto renew, regenerate, re-enroll days before expiry) for the certificates
 * of that group, so a notice never comes later than the group's own renewal window.
 *
 * Params (JSON): {"days": 30, "webhook_url": "https://hooks.example/clm",
 *                 "ca_file": "/etc/ssl/certs/ca-certificates.crt"}
 * Idempotent: notices are at-least-once; a repeated run repeats the notice.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/app.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/tables.h"
#include "appliance/jobs/kinds.h"
#include "clm/v1/inventory.pb-c.h"
#include "lib/base/buf.h"
#include "lib/base/log.h"
#include "lib/http/retry.h"
#include "store/store.h"

#define NOTICE_MAX_DAYS 3650
#define NOTICE_MAX_GROUPS 4096

typedef struct notice_params {
    int days;
    char url[2048];
    char ca_file[1024];
} notice_params;

static int parse_params(sched_ctx *ctx, notice_params *p)
{
    size_t len;
    const char *text = sched_ctx_params(ctx, &len);
    json_error_t error;
    json_t *root, *v;

    memset(p, 0, sizeof(*p));
    p->days = 30;
    if (len == 0)
        return 1;
    root = json_loadb(text, len, 0, &error);
    if (!json_is_object(root)) {
        sched_ctx_error(ctx, "params: not a JSON object");
        json_decref(root);
        return 0;
    }
    if ((v = json_object_get(root, "days")) != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > NOTICE_MAX_DAYS) {
            sched_ctx_error(ctx, "params.days: an integer from 1 to %d", NOTICE_MAX_DAYS);
            json_decref(root);
            return 0;
        }
        p->days = (int)json_integer_value(v);
    }
    if ((v = json_object_get(root, "webhook_url")) != NULL)
        snprintf(p->url, sizeof(p->url), "%s", json_is_string(v) ? json_string_value(v) : "");
    if ((v = json_object_get(root, "ca_file")) != NULL)
        snprintf(p->ca_file, sizeof(p->ca_file), "%s", json_is_string(v) ? json_string_value(v) : "");
    json_decref(root);
    return 1;
}

/* The largest renewal window of a group, in days (0: none set). */
static int group_window(const Clm__Store__V1__GroupRecord *g)
{
    const Clm__V1__GroupPolicy *p = g->policy;
    const Clm__V1__RenewalSetting *settings[3];
    int days = 0;

    if (p == NULL)
        return 0;
    settings[0] = p->auto_renew;
    settings[1] = p->auto_regenerate;
    settings[2] = p->re_enroll;
    for (int i = 0; i < 3; i++)
        if (settings[i] && settings[i]->enabled && (int)settings[i]->days_before_expiry > days)
            days = (int)settings[i]->days_before_expiry;
    return days;
}

typedef struct scan_state {
    const notice_params *params;
    int64_t now;
    uint64_t group_ids[NOTICE_MAX_GROUPS];
    int group_days[NOTICE_MAX_GROUPS];
    char *group_names[NOTICE_MAX_GROUPS];
    size_t n_groups;
    int max_days;
    json_t *list;
    clm_arena scratch;
} scan_state;

static clm_err load_groups(store_txn *txn, void *arg)
{
    scan_state *st = arg;
    store_iter *it;
    clm_err err;

    st->max_days = st->params->days;
    if ((err = store_iter_open(txn, &inventory_groups, NULL, 0, &it)) != CLM_OK)
        return err;
    for (err = store_iter_first(it); err == CLM_OK && st->n_groups < NOTICE_MAX_GROUPS;
         err = store_iter_next(it)) {
        Clm__Store__V1__GroupRecord *g =
            (void *)inventory_unpack(&st->scratch, &inventory_groups, store_iter_item(it));
        if (g == NULL)
            continue;
        int days = group_window(g) > st->params->days ? group_window(g) : st->params->days;
        st->group_ids[st->n_groups] = g->id;
        st->group_days[st->n_groups] = days;
        st->group_names[st->n_groups++] = g->name;
        if (days > st->max_days)
            st->max_days = days;
    }
    store_iter_close(it);
    return err == CLM_ERR_NOT_FOUND ? CLM_OK : err;
}

static size_t group_index(const scan_state *st, uint64_t id)
{
    id = id ? id : INVENTORY_DEFAULT_GROUP_ID;
    for (size_t i = 0; i < st->n_groups; i++)
        if (st->group_ids[i] == id)
            return i;
    return SIZE_MAX;
}

static clm_err find_expiring(store_txn *txn, void *arg)
{
    scan_state *st = arg;
    unsigned char start[8], end[8];
    clm_arena record_scratch = CLM_ARENA_INIT;
    store_iter *it;
    clm_err err;

    inventory_expiry_key(st->now, start);
    inventory_expiry_key(st->now + (int64_t)st->max_days * 86400, end);
    if ((err = store_iter_open(txn, &inventory_certificates, CERT_INDEX(CERT_INDEX_EXPIRY), 0,
                               &it)) != CLM_OK)
        return err;
    for (err = store_iter_seek(it, start, 8, NULL, 0); err == CLM_OK; err = store_iter_next(it)) {
        const store_item *item = store_iter_item(it);
        if (memcmp(item->index_key, end, 8) > 0)
            break;
        clm_arena_reset(&record_scratch);
        Clm__Store__V1__CertificateRecord *r =
            (void *)inventory_unpack(&record_scratch, &inventory_certificates, item);
        if (r == NULL || r->status == CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_IGNORED)
            continue;
        size_t g = group_index(st, r->group_id);
        int window = g == SIZE_MAX ? st->params->days : st->group_days[g];
        int64_t left = r->not_after - st->now;
        if (left > (int64_t)window * 86400)
            continue;
        char sha[65];
        clm_hex_encode(sha, r->sha256.data, r->sha256.len < 32 ? r->sha256.len : 32);
        json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "sha256", sha,
                              "common_name", r->common_name, "issuer", r->issuer, "not_after",
                              (json_int_t)r->not_after, "days_left", (json_int_t)(left / 86400),
                              "group", g == SIZE_MAX ? "" : st->group_names[g], "status",
                              r->status == 1 ? "managed" : "monitored");
        if (c != NULL)
            json_array_append_new(st->list, c);
    }
    store_iter_close(it);
    clm_arena_free(&record_scratch);
    return err == CLM_ERR_NOT_FOUND ? CLM_OK : err;
}

static sched_outcome post_webhook(sched_ctx *ctx, const notice_params *p, json_t *list,
                                  int64_t now)
{
    json_t *body = json_pack("{s:s, s:I, s:O}", "event", "certificates.expiring", "generated_at",
                             (json_int_t)now, "certificates", list);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    http_header headers[] = {{"Content-Type", "application/json"}};
    http_tls_options tls = {0};
    http_request req = {0};
    http_retry_policy policy = {0};
    http_response resp;
    int attempts = 0;
    clm_err err;

    json_decref(body);
    if (text == NULL) {
        sched_ctx_error(ctx, "out of memory building the webhook body");
        return SCHED_OUTCOME_RETRY;
    }
    tls.ca_file = p->ca_file[0] ? p->ca_file : NULL;
    req.method = "POST";
    req.url = p->url;
    req.headers = headers;
    req.n_headers = 1;
    req.body = text;
    req.body_len = strlen(text);
    req.tls = &tls;
    /* Waits sleep this worker; keep them short: the scheduler's own retry (minutes of
       backoff) covers longer outages. */
    policy.max_attempts = 4;
    policy.max_delay_ms = 5000;
    policy.max_elapsed_ms = 20000;
    err = http_post_json_retry(&req, &policy, sched_ctx_clock(ctx), &resp, &attempts);
    free(text);
    if (err != CLM_OK) {
        sched_ctx_error(ctx, "webhook: %s", clm_error_message());
        return SCHED_OUTCOME_RETRY;
    }
    int status = resp.status;
    http_response_free(&resp);
    if (status < 200 || status > 299) {
        sched_ctx_error(ctx, "webhook: HTTP %d (after %d attempts)", status, attempts);
        return status >= 400 && status < 500 && status != 429 ? SCHED_OUTCOME_FAIL
                                                              : SCHED_OUTCOME_RETRY;
    }
    CLM_LOG_INFO("expiry_notice.webhook", "status", CLM_I64(status), "attempts", CLM_I64(attempts),
                 "certificates", CLM_I64(json_array_size(list)));
    return SCHED_OUTCOME_OK;
}

sched_outcome job_expiry_notice(sched_ctx *ctx, void *arg)
{
    clm_app *app = arg;
    notice_params p;
    scan_state *st;
    sched_outcome outcome = SCHED_OUTCOME_OK;

    if (!parse_params(ctx, &p))
        return SCHED_OUTCOME_FAIL;
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        sched_ctx_error(ctx, "out of memory");
        return SCHED_OUTCOME_RETRY;
    }
    st->params = &p;
    st->now = clm_clock_now_ns(sched_ctx_clock(ctx)) / CLM_NS_PER_SEC;
    st->list = json_array();
    st->scratch = (clm_arena)CLM_ARENA_INIT;
    if (store_view(app->store, load_groups, st) != CLM_OK ||
        store_view(app->store, find_expiring, st) != CLM_OK) {
        sched_ctx_error(ctx, "reading the inventory: %s", clm_error_message());
        outcome = SCHED_OUTCOME_RETRY;
    }
    size_t n = json_array_size(st->list);
    for (size_t i = 0; outcome == SCHED_OUTCOME_OK && i < n; i++) {
        json_t *c = json_array_get(st->list, i);
        CLM_LOG_WARN("certificate.expiring", "sha256", json_string_value(json_object_get(c, "sha256")),
                     "common_name", json_string_value(json_object_get(c, "common_name")),
                     "days_left", CLM_I64(json_integer_value(json_object_get(c, "days_left"))),
                     "group", json_string_value(json_object_get(c, "group")));
    }
    sched_ctx_progress(ctx, n, n, "%zu certificates expiring", n);
    if (outcome == SCHED_OUTCOME_OK && p.url[0] != '\0')
        outcome = post_webhook(ctx, &p, st->list, st->now);
    json_decref(st->list);
    clm_arena_free(&st->scratch);
    free(st);
    return outcome;
}
