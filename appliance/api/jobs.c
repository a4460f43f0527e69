/* appliance/api/jobs.c: clm.v1.Jobs handlers: schedules and runs (scheduler/). */
#include "appliance/api/jobs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/api/convert.h"
#include "appliance/app.h"
#include "appliance/appstore.h"
#include "appliance/jobs/kinds.h"
#include "appliance/inventory/page.h"
#include "clm/v1/jobs.pb-c.h"
#include "scheduler/scheduler.h"

/* ---- conversions (arena) ---- */

static Google__Protobuf__Timestamp *ts_or_null(clm_arena *arena, int64_t ns)
{
    return ns ? convert_timestamp_ns(arena, ns) : NULL;
}

static char *text_of(clm_arena *arena, const ProtobufCBinaryData *b)
{
    char *s = clm_arena_alloc(arena, b->len + 1);

    if (s != NULL && b->len)
        memcpy(s, b->data, b->len);
    return s;
}

static Clm__V1__Schedule *schedule_to_api(clm_arena *arena, const sched_schedule *r)
{
    Clm__V1__Schedule *s = clm_arena_alloc(arena, sizeof(*s));

    if (s == NULL)
        return NULL;
    clm__v1__schedule__init(s);
    s->name = clm_arena_strdup(arena, r->name);
    s->kind = clm_arena_strdup(arena, r->kind);
    s->cron = clm_arena_strdup(arena, r->cron);
    s->time_zone = clm_arena_strdup(arena, r->time_zone);
    s->params = text_of(arena, &r->params);
    s->enabled = r->enabled;
    s->misfire = clm_arena_strdup(arena, r->misfire);
    s->batch_size = r->batch_size;
    s->batch_interval_minutes = r->batch_interval_minutes;
    s->next_fire = ts_or_null(arena, r->next_fire_unix_nanos);
    s->last_fire = ts_or_null(arena, r->last_fire_unix_nanos);
    s->last_run_id = r->last_run_id;
    s->fire_count = r->fire_count;
    s->created_at = ts_or_null(arena, r->created_unix_nanos);
    s->updated_at = ts_or_null(arena, r->updated_unix_nanos);
    return s;
}

static Clm__V1__JobRun *run_to_api(clm_arena *arena, sched *sc, const sched_run *r)
{
    Clm__V1__JobRun *j = clm_arena_alloc(arena, sizeof(*j));

    if (j == NULL)
        return NULL;
    clm__v1__job_run__init(j);
    j->id = r->id;
    j->kind = clm_arena_strdup(arena, r->kind);
    j->schedule = "";
    if (r->schedule_id != 0) {
        sched_schedule *s;
        if (sched_schedule_get(sc, r->schedule_id, NULL, &s) == CLM_OK) {
            j->schedule = clm_arena_strdup(arena, s->name);
            sched_schedule_free(s);
        } else {
            clm_error_clear(); /* the schedule was deleted since */
        }
    }
    j->state = clm_arena_strdup(arena, r->state);
    j->attempt = r->attempt;
    j->attempts_total = r->attempts_total;
    j->progress_done = r->progress_done;
    j->progress_total = r->progress_total;
    j->progress_message = clm_arena_strdup(arena, r->progress_message);
    j->last_error = clm_arena_strdup(arena, r->last_error);
    j->batch_index = r->batch_index;
    j->batch_size = r->batch_size;
    j->params = text_of(arena, &r->params);
    j->cancel_requested = r->cancel_requested;
    j->misfired = r->misfired;
    j->created_at = ts_or_null(arena, r->created_unix_nanos);
    j->started_at = ts_or_null(arena, r->started_unix_nanos);
    j->finished_at = ts_or_null(arena, r->finished_unix_nanos);
    if (strcmp(r->state, SCHED_STATE_QUEUED) == 0)
        j->next_attempt_at = ts_or_null(arena, r->next_attempt_unix_nanos);
    return j;
}

/* Params must be a JSON object (or empty), for every kind. */
static clm_err check_params(const char *params, const char *field)
{
    size_t len = strlen(params);

    if (len > SCHED_PARAMS_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: %zu bytes, at most %d", field, len,
                        SCHED_PARAMS_MAX);
    if (len > 0) {
        const char *p = params;
        while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
            p++;
        if (*p != '{')
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: must be a JSON object", field);
    }
    return CLM_OK;
}

/* The kind's own check of its params; messages get `prefix` ("schedule."). */
static clm_err check_kind_params(const clm_app *app, const char *kind, const char *params,
                                 const char *prefix)
{
    clm_err err = jobs_check_params(kind, params, strlen(params), app);

    return err == CLM_OK ? CLM_OK : clm_fail(err, "%s%s", prefix, clm_error_message());
}

static clm_err audit_hook(store_txn *txn, void *call)
{
    return appstore_audit_in(txn, call);
}

static clm_err spec_of(const Clm__V1__Schedule *s, sched_schedule_spec *spec)
{
    clm_err err;

    memset(spec, 0, sizeof(*spec));
    if (s == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "schedule: missing");
    if ((err = check_params(s->params, "schedule.params")) != CLM_OK)
        return err;
    spec->name = s->name;
    spec->kind = s->kind;
    spec->cron = s->cron;
    spec->time_zone = s->time_zone;
    spec->params = s->params;
    spec->params_len = strlen(s->params);
    spec->enabled = s->enabled;
    spec->batch_size = s->batch_size;
    spec->batch_interval_minutes = s->batch_interval_minutes;
    if (s->misfire[0] != '\0' && sched_misfire_parse(s->misfire, &spec->misfire) != CLM_OK)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "schedule.misfire: '%s' is not run_once or skip", s->misfire);
    return CLM_OK;
}

static clm_err reply_schedule(rpc_call *call, sched *sc, uint64_t id, const char *name,
                              ProtobufCMessage *response)
{
    sched_schedule *r;
    Clm__V1__Schedule *s;
    clm_err err = sched_schedule_get(sc, id, name, &r);

    if (err != CLM_OK)
        return err;
    s = schedule_to_api(rpc_call_arena(call), r);
    sched_schedule_free(r);
    if (s == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    *(Clm__V1__Schedule *)response = *s;
    return CLM_OK;
}

/* ---- schedules ---- */

static clm_err create_schedule(rpc_call *call, const ProtobufCMessage *request,
                               ProtobufCMessage *response)
{
    const Clm__V1__CreateScheduleRequest *req = (const void *)request;
    clm_app *app = rpc_call_app(call);
    sched_hook hook = {audit_hook, call};
    sched_schedule_spec spec;
    uint64_t id;
    clm_err err;

    if (req->schedule)
        rpc_call_set_audit_target(call, req->schedule->name);
    if ((err = spec_of(req->schedule, &spec)) != CLM_OK ||
        (err = check_kind_params(app, spec.kind, spec.params, "schedule.")) != CLM_OK ||
        (err = sched_schedule_create(app->sched, &spec, &hook, &id)) != CLM_OK)
        return err;
    return reply_schedule(call, app->sched, id, NULL, response);
}

/* The schedule's id, and its kind when `kind` is not NULL (kind_size bytes). */
static clm_err find_schedule_id(sched *sc, const char *name, uint64_t *id, char *kind,
                                size_t kind_size)
{
    sched_schedule *r;
    clm_err err = sched_schedule_get(sc, 0, name, &r);

    if (err == CLM_ERR_NOT_FOUND)
        return clm_fail(err, "name: no schedule named '%s'", name);
    if (err != CLM_OK)
        return err;
    *id = r->id;
    if (kind != NULL)
        snprintf(kind, kind_size, "%s", r->kind);
    sched_schedule_free(r);
    return CLM_OK;
}

static clm_err update_schedule(rpc_call *call, const ProtobufCMessage *request,
                               ProtobufCMessage *response)
{
    const Clm__V1__UpdateScheduleRequest *req = (const void *)request;
    clm_app *app = rpc_call_app(call);
    Clm__V1__Schedule empty = CLM__V1__SCHEDULE__INIT;
    sched_hook hook = {audit_hook, call};
    sched_schedule_spec spec;
    unsigned mask = 0;
    uint64_t id = 0;
    clm_err err;

    rpc_call_set_audit_target(call, req->name);
    if (req->n_update_mask == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "update_mask: empty; name the fields to change");
    for (size_t i = 0; i < req->n_update_mask; i++) {
        static const struct { const char *name; unsigned bit; } fields[] = {
            {"enabled", SCHED_SET_ENABLED}, {"cron", SCHED_SET_CRON},
            {"time_zone", SCHED_SET_CRON},  {"params", SCHED_SET_PARAMS},
            {"misfire", SCHED_SET_MISFIRE}, {"batch", SCHED_SET_BATCH},
            {"name", SCHED_SET_NAME}};
        size_t f;
        for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
            if (strcmp(req->update_mask[i], fields[f].name) == 0)
                break;
        if (f == sizeof(fields) / sizeof(fields[0]))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "update_mask[%zu]: '%s' is not one of enabled, cron, time_zone, "
                            "params, misfire, batch, name", i, req->update_mask[i]);
        mask |= fields[f].bit;
    }
    char kind[SCHED_KIND_NAME_MAX + 1];
    if ((err = spec_of(req->schedule ? req->schedule : &empty, &spec)) != CLM_OK ||
        (err = find_schedule_id(app->sched, req->name, &id, kind, sizeof(kind))) != CLM_OK ||
        ((mask & SCHED_SET_PARAMS) &&
         (err = check_kind_params(app, kind, spec.params, "schedule.")) != CLM_OK) ||
        (err = sched_schedule_update(app->sched, id, mask, &spec, &hook)) != CLM_OK)
        return err;
    return reply_schedule(call, app->sched, id, NULL, response);
}

static clm_err delete_schedule(rpc_call *call, const ProtobufCMessage *request,
                               ProtobufCMessage *response)
{
    const Clm__V1__DeleteScheduleRequest *req = (const void *)request;
    clm_app *app = rpc_call_app(call);
    sched_hook hook = {audit_hook, call};
    uint64_t id = 0;
    clm_err err;

    (void)response;
    rpc_call_set_audit_target(call, req->name);
    if ((err = find_schedule_id(app->sched, req->name, &id, NULL, 0)) != CLM_OK)
        return err;
    return sched_schedule_delete(app->sched, id, &hook);
}

static clm_err list_schedules(rpc_call *call, const ProtobufCMessage *request,
                              ProtobufCMessage *response)
{
    const Clm__V1__ListSchedulesRequest *req = (const void *)request;
    Clm__V1__ListSchedulesResponse *resp = (void *)response;
    clm_app *app = rpc_call_app(call);
    clm_arena *arena = rpc_call_arena(call);
    sched_schedule_page page;
    uint64_t after = 0;
    size_t size;
    clm_err err;

    if ((err = page_size_of(req->page_size, &size)) != CLM_OK)
        return err;
    if (req->page_token[0] != '\0') {
        char *end;
        after = strtoull(req->page_token, &end, 10);
        if (*end != '\0' || after == 0)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "page_token: malformed");
    }
    if ((err = sched_schedule_list(app->sched, after, size, &page)) != CLM_OK)
        return err;
    resp->schedules = clm_arena_alloc(arena, (page.n + 1) * sizeof(*resp->schedules));
    for (size_t i = 0; resp->schedules && i < page.n; i++)
        if ((resp->schedules[resp->n_schedules] = schedule_to_api(arena, page.items[i])) != NULL)
            resp->n_schedules++;
    if (page.next_after_id) {
        char token[24];
        snprintf(token, sizeof(token), "%" PRIu64, page.next_after_id);
        resp->next_page_token = clm_arena_strdup(arena, token);
    }
    sched_schedule_page_free(&page);
    return CLM_OK;
}

/* ---- runs ---- */

static clm_err reply_run(rpc_call *call, sched *sc, uint64_t id, ProtobufCMessage *response)
{
    sched_run *r;
    Clm__V1__JobRun *j;
    clm_err err = sched_run_get(sc, id, &r);

    if (err == CLM_ERR_NOT_FOUND)
        return clm_fail(err, "id: no run %" PRIu64, id);
    if (err != CLM_OK)
        return err;
    j = run_to_api(rpc_call_arena(call), sc, r);
    sched_run_free(r);
    if (j == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    *(Clm__V1__JobRun *)response = *j;
    return CLM_OK;
}

static clm_err run_now(rpc_call *call, const ProtobufCMessage *request, ProtobufCMessage *response)
{
    const Clm__V1__RunNowRequest *req = (const void *)request;
    clm_app *app = rpc_call_app(call);
    sched_hook hook = {audit_hook, call};
    sched_run_spec spec = {req->kind, req->params, strlen(req->params), req->batch_size,
                           req->batch_interval_minutes, 0};
    uint64_t id;
    clm_err err;

    rpc_call_set_audit_target(call, req->kind);
    if ((err = check_params(req->params, "params")) != CLM_OK)
        return err;
    if (sched_kind_find(app->sched, req->kind) == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "kind: '%s' is not a job kind of this clmd",
                        req->kind);
    if ((err = check_kind_params(app, req->kind, req->params, "")) != CLM_OK)
        return err;
    if ((err = sched_run_now(app->sched, &spec, &hook, &id)) != CLM_OK)
        return err;
    return reply_run(call, app->sched, id, response);
}

static clm_err get_run(rpc_call *call, const ProtobufCMessage *request, ProtobufCMessage *response)
{
    return reply_run(call, ((clm_app *)rpc_call_app(call))->sched,
                     ((const Clm__V1__GetRunRequest *)request)->id, response);
}

static clm_err cancel_run(rpc_call *call, const ProtobufCMessage *request,
                          ProtobufCMessage *response)
{
    const Clm__V1__CancelRunRequest *req = (const void *)request;
    clm_app *app = rpc_call_app(call);
    sched_hook hook = {audit_hook, call};
    char target[32];
    clm_err err;

    snprintf(target, sizeof(target), "run %" PRIu64, req->id);
    rpc_call_set_audit_target(call, target);
    err = sched_run_cancel(app->sched, req->id, &hook);
    if (err == CLM_ERR_NOT_FOUND)
        return clm_fail(err, "id: no run %" PRIu64, req->id);
    if (err != CLM_OK)
        return err;
    return reply_run(call, app->sched, req->id, response);
}

static int64_t ns_of(const Google__Protobuf__Timestamp *t)
{
    return t ? t->seconds * CLM_NS_PER_SEC + t->nanos : 0;
}

static clm_err list_runs(rpc_call *call, const ProtobufCMessage *request,
                         ProtobufCMessage *response)
{
    const Clm__V1__ListRunsRequest *req = (const void *)request;
    Clm__V1__ListRunsResponse *resp = (void *)response;
    clm_app *app = rpc_call_app(call);
    clm_arena *arena = rpc_call_arena(call);
    sched_run_filter filter = {0};
    sched_run_page page;
    size_t size;
    clm_err err;

    if ((err = page_size_of(req->page_size, &size)) != CLM_OK)
        return err;
    filter.kind = req->kind[0] ? req->kind : NULL;
    filter.state = req->state[0] ? req->state : NULL;
    filter.created_from_ns = ns_of(req->created_after);
    filter.created_to_ns = ns_of(req->created_before);
    filter.oldest_first = req->oldest_first;
    if (req->schedule[0] != '\0' &&
        (err = find_schedule_id(app->sched, req->schedule, &filter.schedule_id, NULL, 0)) != CLM_OK)
        return clm_error_context(err, "schedule");
    if ((err = sched_run_list(app->sched, &filter, req->page_token, size, &page)) != CLM_OK)
        return err;
    resp->runs = clm_arena_alloc(arena, (page.n + 1) * sizeof(*resp->runs));
    for (size_t i = 0; resp->runs && i < page.n; i++)
        if ((resp->runs[resp->n_runs] = run_to_api(arena, app->sched, page.items[i])) != NULL)
            resp->n_runs++;
    resp->next_page_token = clm_arena_strdup(arena, page.next_page_token);
    sched_run_page_free(&page);
    return CLM_OK;
}

/* The run now, then at each change (the scheduler's change counter), until it ends,
   the client leaves, or clmd stops. */
static clm_err watch_run(rpc_call *call, const ProtobufCMessage *request)
{
    const Clm__V1__WatchRunRequest *req = (const void *)request;
    clm_app *app = rpc_call_app(call);
    uint64_t seen = 0, last_updated = UINT64_MAX;

    for (;;) {
        uint64_t generation = sched_generation(app->sched);
        sched_run *r;
        clm_err err = sched_run_get(app->sched, req->id, &r);

        if (err == CLM_ERR_NOT_FOUND)
            return clm_fail(err, "id: no run %" PRIu64, req->id);
        if (err != CLM_OK)
            return err;
        int final = sched_state_is_final(r->state);
        if ((uint64_t)r->updated_unix_nanos != last_updated) {
            clm_arena scratch = CLM_ARENA_INIT;
            Clm__V1__JobRun *j = run_to_api(&scratch, app->sched, r);
            last_updated = (uint64_t)r->updated_unix_nanos;
            err = j ? rpc_call_send(call, &j->base) : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            clm_arena_free(&scratch);
        }
        sched_run_free(r);
        if (err != CLM_OK || final)
            return err;
        if (rpc_call_cancelled(call))
            return clm_fail(CLM_ERR_CANCELLED, "watch cancelled");
        if (rpc_server_draining(rpc_call_server(call)))
            return clm_fail(CLM_ERR_UNAVAILABLE, "clmd is shutting down");
        seen = sched_wait_change(app->sched, generation, 500);
        (void)seen;
    }
}

static clm_err list_kinds(rpc_call *call, const ProtobufCMessage *request,
                          ProtobufCMessage *response)
{
    Clm__V1__ListKindsResponse *resp = (void *)response;
    clm_arena *arena = rpc_call_arena(call);
    size_t n;
    const job_kind_row *rows = jobs_kind_rows(&n);

    (void)request;
    resp->kinds = clm_arena_alloc(arena, (n + 1) * sizeof(*resp->kinds));
    for (size_t i = 0; resp->kinds && i < n; i++) {
        Clm__V1__JobKind *k = clm_arena_alloc(arena, sizeof(*k));
        if (k == NULL)
            break;
        clm__v1__job_kind__init(k);
        k->name = (char *)rows[i].kind.name;
        k->description = (char *)rows[i].description;
        k->max_concurrency = rows[i].kind.max_concurrency;
        resp->kinds[resp->n_kinds++] = k;
    }
    return CLM_OK;
}

#define WRITERS (RPC_ROLE_BIT(RPC_ROLE_ADMIN) | RPC_ROLE_BIT(RPC_ROLE_OPERATOR))

const rpc_method jobs_methods[] = {
    {"/clm.v1.Jobs/CreateSchedule", RPC_UNARY, WRITERS, 1,
     &clm__v1__create_schedule_request__descriptor, &clm__v1__schedule__descriptor,
     create_schedule, NULL},
    {"/clm.v1.Jobs/UpdateSchedule", RPC_UNARY, WRITERS, 1,
     &clm__v1__update_schedule_request__descriptor, &clm__v1__schedule__descriptor,
     update_schedule, NULL},
    {"/clm.v1.Jobs/DeleteSchedule", RPC_UNARY, WRITERS, 1,
     &clm__v1__delete_schedule_request__descriptor, &clm__v1__delete_schedule_response__descriptor,
     delete_schedule, NULL},
    {"/clm.v1.Jobs/ListSchedules", RPC_UNARY, RPC_ROLES_ANY, 0,
     &clm__v1__list_schedules_request__descriptor, &clm__v1__list_schedules_response__descriptor,
     list_schedules, NULL},
    {"/clm.v1.Jobs/RunNow", RPC_UNARY, WRITERS, 1, &clm__v1__run_now_request__descriptor,
     &clm__v1__job_run__descriptor, run_now, NULL},
    {"/clm.v1.Jobs/ListRuns", RPC_UNARY, RPC_ROLES_ANY, 0, &clm__v1__list_runs_request__descriptor,
     &clm__v1__list_runs_response__descriptor, list_runs, NULL},
    {"/clm.v1.Jobs/GetRun", RPC_UNARY, RPC_ROLES_ANY, 0, &clm__v1__get_run_request__descriptor,
     &clm__v1__job_run__descriptor, get_run, NULL},
    {"/clm.v1.Jobs/CancelRun", RPC_UNARY, WRITERS, 1, &clm__v1__cancel_run_request__descriptor,
     &clm__v1__job_run__descriptor, cancel_run, NULL},
    {"/clm.v1.Jobs/WatchRun", RPC_SERVER_STREAMING, RPC_ROLES_ANY, 0,
     &clm__v1__watch_run_request__descriptor, &clm__v1__job_run__descriptor, NULL, watch_run},
    {"/clm.v1.Jobs/ListKinds", RPC_UNARY, RPC_ROLES_ANY, 0, &clm__v1__list_kinds_request__descriptor,
     &clm__v1__list_kinds_response__descriptor, list_kinds, NULL},
};
const size_t jobs_methods_count = sizeof(jobs_methods) / sizeof(jobs_methods[0]);
