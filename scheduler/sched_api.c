/*
 * scheduler/sched_api.c: the host's API: schedules (validate, create, update, delete,
 * get, list) and runs (run now, get, list, cancel). Each write is one store_update() with
 * the host's optional hook; notification and wake-up follow the commit.
 */
#include "lib/base/buf.h"
#include "lib/base/log.h"
#include "scheduler/sched_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC (INT64_C(1000000000))

/* ---- validation ---------------------------------------------------------------------- */

static clm_err check_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "name: must not be empty");
    if (n > SCHED_NAME_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "name: %zu bytes is longer than %d", n,
                        SCHED_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "name: control character at position %zu",
                            i + 1);
    return CLM_OK;
}

static clm_err check_kind(sched *s, const char *kind, sched_kind_entry **out)
{
    *out = sched_kind_entry_find(s, kind);
    if (*out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "kind: unknown job kind \"%.80s\"",
                        kind ? kind : "");
    return CLM_OK;
}

static clm_err check_params(size_t len, uint32_t batch_interval)
{
    if (len > SCHED_PARAMS_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "params: %zu bytes is more than %d", len,
                        SCHED_PARAMS_MAX);
    if (batch_interval > SCHED_BATCH_INTERVAL_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "batch_interval_minutes: %u is more than %d (a week)", batch_interval,
                        SCHED_BATCH_INTERVAL_MAX);
    return CLM_OK;
}

static clm_err check_cron(const char *cron, const char *zone)
{
    const tz_zone *z;
    cron_expr e;
    clm_err err;

    if ((err = cron_parse(cron, &e)) != CLM_OK)
        return clm_error_context(err, "cron");
    if ((err = tz_load(zone && zone[0] ? zone : "UTC", &z)) != CLM_OK)
        return clm_error_context(err == CLM_ERR_IO ? err : CLM_ERR_INVALID_ARGUMENT, "time_zone");
    return CLM_OK;
}

clm_err sched_schedule_validate(sched *s, const sched_schedule_spec *spec)
{
    sched_kind_entry *k;
    clm_err err;

    if ((err = check_name(spec->name)) != CLM_OK ||
        (err = check_kind(s, spec->kind, &k)) != CLM_OK ||
        (err = check_cron(spec->cron, spec->time_zone)) != CLM_OK ||
        (err = check_params(spec->params_len, spec->batch_interval_minutes)) != CLM_OK)
        return err;
    if (spec->params_len > 0 && spec->params == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "params: NULL with a length");
    if ((unsigned)spec->misfire >= SCHED_MISFIRE_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "misfire: %d is not a policy",
                        (int)spec->misfire);
    return CLM_OK;
}

/* ---- schedules ----------------------------------------------------------------------- */

typedef struct write_args {
    sched *s;
    const sched_hook *hook;
    int64_t now;
    const sched_schedule_spec *specs;
    size_t n;
    uint64_t id;
    unsigned mask;
    const sched_run_spec *run;
    sched_changes changes;
    bool wake;
    uint64_t cancel_running; /* a running run whose job must see the cancel */
} write_args;

static clm_err run_hook(store_txn *txn, const write_args *a)
{
    return a->hook && a->hook->fn ? a->hook->fn(txn, a->hook->arg) : CLM_OK;
}

/* Fill a record from a spec; strings stay borrowed from the spec. */
static clm_err fill_schedule(sched_schedule *sc, const sched_schedule_spec *spec, int64_t now)
{
    clm_err err = CLM_OK;

    sc->name = (char *)spec->name;
    sc->kind = (char *)spec->kind;
    sc->cron = (char *)spec->cron;
    sc->time_zone = (char *)(spec->time_zone && spec->time_zone[0] ? spec->time_zone : "UTC");
    sc->params.data = (uint8_t *)spec->params;
    sc->params.len = spec->params_len;
    sc->enabled = spec->enabled;
    sc->misfire = (char *)sched_misfire_name(spec->misfire);
    sc->batch_size = spec->batch_size;
    sc->batch_interval_minutes = spec->batch_interval_minutes;
    sc->next_fire_unix_nanos = 0;
    if (sc->enabled)
        err = sched_next_fire(sc->cron, sc->time_zone, now, &sc->next_fire_unix_nanos);
    return err;
}

static clm_err create_fn(store_txn *txn, void *arg)
{
    write_args *a = arg;
    uint64_t first;
    clm_err err = store_seq_next(txn, &sched_schedules_table, a->n, &first);

    for (size_t i = 0; err == CLM_OK && i < a->n; i++) {
        sched_schedule sc = CLM__STORE__V1__SCHEDULE__INIT;
        unsigned char key[8];

        sc.id = first + i;
        sc.created_unix_nanos = a->now;
        sc.updated_unix_nanos = a->now;
        err = fill_schedule(&sc, &a->specs[i], a->now);
        clm_put_be64(key, sc.id);
        if (err == CLM_OK)
            err = store_put(txn, &sched_schedules_table, key, 8, &sc.base, STORE_PUT_APPEND);
        if (err == CLM_ERR_ALREADY_EXISTS)
            err =
                clm_fail(err, "name: a schedule named \"%.80s\" exists already", a->specs[i].name);
        if (err != CLM_OK && a->n > 1)
            err = clm_error_context(err, "schedule %zu", i);
    }
    if (err == CLM_OK)
        err = run_hook(txn, a);
    a->id = first;
    return err;
}

clm_err sched_schedule_create_many(sched *s, const sched_schedule_spec *specs, size_t n,
                                   const sched_hook *hook, uint64_t *first_id)
{
    write_args a = {.s = s, .hook = hook, .specs = specs, .n = n};
    clm_err err;

    if (n == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "schedules: none given");
    for (size_t i = 0; i < n; i++)
        if ((err = sched_schedule_validate(s, &specs[i])) != CLM_OK)
            return n > 1 ? clm_error_context(err, "schedule %zu", i) : err;
    a.now = clm_clock_now_ns(s->clock);
    err = store_update(s->st, create_fn, &a);
    if (err == CLM_OK) {
        if (first_id != NULL)
            *first_id = a.id;
        sched_wake(s);
    }
    return err;
}

clm_err sched_schedule_create(sched *s, const sched_schedule_spec *spec, const sched_hook *hook,
                              uint64_t *id)
{
    return sched_schedule_create_many(s, spec, 1, hook, id);
}

static clm_err update_fn(store_txn *txn, void *arg)
{
    write_args *a = arg;
    const sched_schedule_spec *spec = a->specs;
    sched_schedule_rec rec;
    sched_schedule *sc = &rec.r;
    bool recompute = false;
    clm_err err = sched_schedule_load(txn, a->id, &rec);

    if (err == CLM_ERR_NOT_FOUND)
        return clm_fail(err, "schedule %" PRIu64 " does not exist", a->id);
    if (err != CLM_OK)
        return err;
    if (a->mask & SCHED_SET_NAME)
        sc->name = (char *)spec->name;
    if (a->mask & SCHED_SET_ENABLED) {
        recompute = spec->enabled && !sc->enabled;
        sc->enabled = spec->enabled;
    }
    if (a->mask & SCHED_SET_CRON) {
        sc->cron = (char *)spec->cron;
        sc->time_zone = (char *)(spec->time_zone && spec->time_zone[0] ? spec->time_zone : "UTC");
        recompute = true;
    }
    if (a->mask & SCHED_SET_PARAMS) {
        sc->params.data = (uint8_t *)spec->params;
        sc->params.len = spec->params_len;
    }
    if (a->mask & SCHED_SET_MISFIRE)
        sc->misfire = (char *)sched_misfire_name(spec->misfire);
    if (a->mask & SCHED_SET_BATCH) {
        sc->batch_size = spec->batch_size;
        sc->batch_interval_minutes = spec->batch_interval_minutes;
    }
    if (!sc->enabled)
        sc->next_fire_unix_nanos = 0;
    else if (recompute)
        err = sched_next_fire(sc->cron, sc->time_zone, a->now, &sc->next_fire_unix_nanos);
    sc->updated_unix_nanos = a->now;
    if (err == CLM_OK)
        err = sched_schedule_store(txn, &rec);
    if (err == CLM_ERR_ALREADY_EXISTS)
        err = clm_fail(err, "name: a schedule named \"%.80s\" exists already", spec->name);
    sched_schedule_rec_free(&rec);
    return err == CLM_OK ? run_hook(txn, a) : err;
}

clm_err sched_schedule_update(sched *s, uint64_t id, unsigned mask, const sched_schedule_spec *spec,
                              const sched_hook *hook)
{
    write_args a = {.s = s, .hook = hook, .specs = spec, .n = 1, .id = id, .mask = mask};
    clm_err err;

    if (mask == 0 || (mask & ~(unsigned)(SCHED_SET_NAME * 2 - 1)))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "update_mask: nothing (or unknown bits) to "
                                                  "change");
    if ((mask & SCHED_SET_NAME) && (err = check_name(spec->name)) != CLM_OK)
        return err;
    if ((mask & SCHED_SET_CRON) && (err = check_cron(spec->cron, spec->time_zone)) != CLM_OK)
        return err;
    if ((mask & SCHED_SET_PARAMS) && (err = check_params(spec->params_len, 0)) != CLM_OK)
        return err;
    if ((mask & SCHED_SET_BATCH) && (err = check_params(0, spec->batch_interval_minutes)) != CLM_OK)
        return err;
    if ((mask & SCHED_SET_MISFIRE) && (unsigned)spec->misfire >= SCHED_MISFIRE_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "misfire: %d is not a policy",
                        (int)spec->misfire);
    a.now = clm_clock_now_ns(s->clock);
    err = store_update(s->st, update_fn, &a);
    if (err == CLM_OK)
        sched_wake(s);
    return err;
}

static clm_err delete_fn(store_txn *txn, void *arg)
{
    write_args *a = arg;
    unsigned char key[8];
    clm_err err;

    clm_put_be64(key, a->id);
    err = store_delete(txn, &sched_schedules_table, key, 8);
    if (err == CLM_ERR_NOT_FOUND)
        return clm_fail(err, "schedule %" PRIu64 " does not exist", a->id);
    return err == CLM_OK ? run_hook(txn, a) : err;
}

clm_err sched_schedule_delete(sched *s, uint64_t id, const sched_hook *hook)
{
    write_args a = {.s = s, .hook = hook, .id = id};

    return store_update(s->st, delete_fn, &a);
}

typedef struct read_args {
    uint64_t id;
    const char *name;
    size_t limit;
    ProtobufCMessage *record;
    sched_schedule_page *spage;
} read_args;

static clm_err schedule_get_fn(store_txn *txn, void *arg)
{
    read_args *a = arg;
    store_item item;
    unsigned char key[8];
    clm_err err;

    if (a->id != 0) {
        clm_put_be64(key, a->id);
        return store_get_record(txn, &sched_schedules_table, key, 8, &a->record);
    }
    err = store_index_get(txn, &sched_schedules_table, SCHED_IX_BY_NAME, a->name, strlen(a->name),
                          &item);
    return err == CLM_OK ? store_item_unpack(&sched_schedules_table, &item, &a->record) : err;
}

clm_err sched_schedule_get(sched *s, uint64_t id, const char *name, sched_schedule **out)
{
    read_args a = {.id = id, .name = name};
    clm_err err;

    *out = NULL;
    if (id == 0 && (name == NULL || name[0] == '\0' || strlen(name) > SCHED_NAME_MAX))
        return clm_fail(CLM_ERR_NOT_FOUND, "schedule: no id and no name");
    err = store_view(s->st, schedule_get_fn, &a);
    if (err == CLM_ERR_NOT_FOUND)
        return id ? clm_fail(err, "schedule %" PRIu64 " does not exist", id)
                  : clm_fail(err, "schedule \"%.80s\" does not exist", name);
    *out = (sched_schedule *)a.record;
    return err;
}

static clm_err schedule_list_item(void *arg, const store_item *item, bool *stop)
{
    read_args *a = arg;
    sched_schedule_page *page = a->spage;
    ProtobufCMessage *rec;
    clm_err err;

    if (page->n == a->limit) {
        page->next_after_id = page->items[page->n - 1]->id;
        *stop = true;
        return CLM_OK;
    }
    if ((err = store_item_unpack(&sched_schedules_table, item, &rec)) != CLM_OK)
        return err;
    page->items[page->n++] = (sched_schedule *)rec;
    return CLM_OK;
}

static clm_err schedule_list_fn(store_txn *txn, void *arg)
{
    read_args *a = arg;
    unsigned char start[8];

    clm_put_be64(start, a->id + 1);
    return store_scan(txn, &sched_schedules_table, NULL, start, 8, 0, schedule_list_item, a);
}

clm_err sched_schedule_list(sched *s, uint64_t after_id, size_t limit, sched_schedule_page *page)
{
    read_args a = {.id = after_id, .limit = limit ? limit : 100, .spage = page};
    clm_err err;

    memset(page, 0, sizeof(*page));
    if (a.limit > SCHED_PAGE_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "limit: %zu is more than %d", limit,
                        SCHED_PAGE_MAX);
    if (after_id == UINT64_MAX)
        return CLM_OK;
    page->items = calloc(a.limit, sizeof(*page->items));
    if (page->items == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "schedules: out of memory");
    err = store_view(s->st, schedule_list_fn, &a);
    if (err != CLM_OK)
        sched_schedule_page_free(page);
    return err;
}

void sched_schedule_page_free(sched_schedule_page *page)
{
    for (size_t i = 0; page->items != NULL && i < page->n; i++)
        sched_schedule_free(page->items[i]);
    free(page->items);
    memset(page, 0, sizeof(*page));
}

/* ---- runs ------------------------------------------------------------------------------- */

static clm_err run_now_fn(store_txn *txn, void *arg)
{
    write_args *a = arg;
    const sched_run_spec *spec = a->run;
    sched_kind_entry *k = sched_kind_entry_find(a->s, spec->kind);
    sched_new_run nr = {k,
                        0,
                        spec->params,
                        spec->params_len,
                        spec->batch_size ? spec->batch_size : k->kind.batch_size,
                        spec->batch_interval_minutes ? spec->batch_interval_minutes
                                                     : k->kind.batch_interval_minutes,
                        spec->at_ns > a->now ? spec->at_ns : a->now,
                        false};
    clm_err err;

    sched_changes_reset(&a->changes);
    err = sched_run_create_in(a->s, txn, &nr, a->now, &a->changes, &a->id);
    return err == CLM_OK ? run_hook(txn, a) : err;
}

clm_err sched_run_now(sched *s, const sched_run_spec *spec, const sched_hook *hook, uint64_t *id)
{
    write_args a = {.s = s, .hook = hook, .run = spec};
    sched_kind_entry *k;
    bool stopping;
    clm_err err;

    if ((err = check_kind(s, spec->kind, &k)) != CLM_OK ||
        (err = check_params(spec->params_len, spec->batch_interval_minutes)) != CLM_OK)
        return err;
    if (spec->params_len > 0 && spec->params == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "params: NULL with a length");
    pthread_mutex_lock(&s->lock);
    stopping = s->stopping;
    pthread_mutex_unlock(&s->lock);
    if (stopping)
        return clm_fail(CLM_ERR_CONFLICT, "the scheduler is stopping");
    a.now = clm_clock_now_ns(s->clock);
    err = store_update(s->st, run_now_fn, &a);
    if (err == CLM_OK) {
        if (id != NULL)
            *id = a.id;
        sched_changes_publish(s, &a.changes);
        sched_wake(s);
    } else {
        sched_changes_reset(&a.changes);
        sched_changes_publish(s, &a.changes);
    }
    return err;
}

static clm_err run_get_fn(store_txn *txn, void *arg)
{
    read_args *a = arg;
    unsigned char key[8];

    clm_put_be64(key, a->id);
    return store_get_record(txn, &sched_runs_table, key, 8, &a->record);
}

clm_err sched_run_get(sched *s, uint64_t id, sched_run **out)
{
    read_args a = {.id = id};
    clm_err err = store_view(s->st, run_get_fn, &a);

    *out = NULL;
    if (err == CLM_ERR_NOT_FOUND)
        return clm_fail(err, "run %" PRIu64 " does not exist", id);
    *out = (sched_run *)a.record;
    return err;
}

static clm_err cancel_fn(store_txn *txn, void *arg)
{
    write_args *a = arg;
    sched_run_rec rec;
    sched_run *r = &rec.r;
    clm_err err = sched_run_load(txn, a->id, &rec);

    sched_changes_reset(&a->changes);
    a->cancel_running = 0;
    if (err == CLM_ERR_NOT_FOUND)
        return clm_fail(err, "run %" PRIu64 " does not exist", a->id);
    if (err != CLM_OK)
        return err;
    if (sched_state_is_final(r->state)) {
        err = clm_fail(CLM_ERR_CONFLICT, "run %" PRIu64 " has finished already (%s)", a->id,
                       r->state);
        sched_run_rec_free(&rec);
        return err;
    }
    r->cancel_requested = true;
    r->updated_unix_nanos = a->now;
    if (strcmp(r->state, SCHED_STATE_QUEUED) == 0) {
        r->state = (char *)SCHED_STATE_CANCELLED;
        r->finished_unix_nanos = a->now;
        r->last_error = (char *)"cancelled before it ran";
    } else {
        a->cancel_running = r->id;
    }
    err = sched_run_store(txn, &rec);
    if (err == CLM_OK)
        err = sched_changes_add(a->s, &a->changes, r);
    sched_run_rec_free(&rec);
    return err == CLM_OK ? run_hook(txn, a) : err;
}

clm_err sched_run_cancel(sched *s, uint64_t id, const sched_hook *hook)
{
    write_args a = {.s = s, .hook = hook, .id = id};
    clm_err err;

    a.now = clm_clock_now_ns(s->clock);
    err = store_update(s->st, cancel_fn, &a);
    if (err == CLM_OK && a.cancel_running != 0) {
        pthread_mutex_lock(&s->lock);
        for (struct sched_ctx *j = s->jobs; j != NULL; j = j->next)
            if (j->run_id == a.cancel_running)
                atomic_store(&j->cancel, true);
        pthread_mutex_unlock(&s->lock);
    }
    if (err != CLM_OK)
        sched_changes_reset(&a.changes);
    sched_changes_publish(s, &a.changes);
    if (err == CLM_OK)
        sched_wake(s);
    return err;
}

void sched_run_page_free(sched_run_page *page)
{
    for (size_t i = 0; page->items != NULL && i < page->n; i++)
        sched_run_free(page->items[i]);
    free(page->items);
    memset(page, 0, sizeof(*page));
}
