/*
 * scheduler/sched_tables.c: the scheduler's store tables, their index keys (layout in
 * scheduler.h), and record load/store helpers.
 */
#include "lib/base/buf.h"
#include "scheduler/sched_internal.h"

#include <string.h>

static const char *const states[] = {SCHED_STATE_QUEUED, SCHED_STATE_RUNNING, SCHED_STATE_SUCCEEDED,
                                     SCHED_STATE_FAILED, SCHED_STATE_CANCELLED};

bool sched_state_valid(const char *state)
{
    for (size_t i = 0; state != NULL && i < sizeof(states) / sizeof(states[0]); i++)
        if (strcmp(state, states[i]) == 0)
            return true;
    return false;
}

bool sched_state_is_final(const char *state)
{
    return state != NULL &&
           (strcmp(state, SCHED_STATE_SUCCEEDED) == 0 || strcmp(state, SCHED_STATE_FAILED) == 0 ||
            strcmp(state, SCHED_STATE_CANCELLED) == 0);
}

void sched_key_time_id(unsigned char out[16], int64_t time_ns, uint64_t id)
{
    clm_put_be64(out, time_ns < 0 ? 0 : (uint64_t)time_ns);
    clm_put_be64(out + 8, id);
}

size_t sched_key_kind_time_id(unsigned char *out, const char *kind, int64_t t, uint64_t id)
{
    size_t n = strlen(kind);

    memcpy(out, kind, n);
    out[n] = 0;
    sched_key_time_id(out + n + 1, t, id);
    return n + 17;
}

/* ---- index key functions ------------------------------------------------------------ */

static clm_err key_name(const ProtobufCMessage *m, const void *arg, store_keys *keys)
{
    const sched_schedule *sc = (const sched_schedule *)m;

    (void)arg;
    return sc->name[0] ? store_keys_add(keys, sc->name, strlen(sc->name)) : CLM_OK;
}

static clm_err key_due(const ProtobufCMessage *m, const void *arg, store_keys *keys)
{
    const sched_schedule *sc = (const sched_schedule *)m;
    unsigned char k[16];

    (void)arg;
    if (!sc->enabled || sc->next_fire_unix_nanos <= 0)
        return CLM_OK;
    sched_key_time_id(k, sc->next_fire_unix_nanos, sc->id);
    return store_keys_add(keys, k, sizeof(k));
}

static clm_err key_runnable(const ProtobufCMessage *m, const void *arg, store_keys *keys)
{
    const sched_run *r = (const sched_run *)m;
    unsigned char k[SCHED_KIND_NAME_MAX + 17];

    (void)arg;
    if (strcmp(r->state, SCHED_STATE_QUEUED) != 0 || strlen(r->kind) > SCHED_KIND_NAME_MAX)
        return CLM_OK;
    return store_keys_add(keys, k,
                          sched_key_kind_time_id(k, r->kind, r->next_attempt_unix_nanos, r->id));
}

static clm_err key_lease(const ProtobufCMessage *m, const void *arg, store_keys *keys)
{
    const sched_run *r = (const sched_run *)m;
    unsigned char k[16];

    (void)arg;
    if (strcmp(r->state, SCHED_STATE_RUNNING) != 0)
        return CLM_OK;
    sched_key_time_id(k, r->lease_expiry_unix_nanos, r->id);
    return store_keys_add(keys, k, sizeof(k));
}

static clm_err key_listing(const ProtobufCMessage *m, const void *arg, store_keys *keys)
{
    const sched_run *r = (const sched_run *)m;
    unsigned char k[SCHED_KIND_NAME_MAX + 18];
    size_t n;
    clm_err err = CLM_OK;

    (void)arg;
    if (strlen(r->kind) <= SCHED_KIND_NAME_MAX) {
        k[0] = 'k';
        n = 1 + sched_key_kind_time_id(k + 1, r->kind, r->created_unix_nanos, r->id);
        err = store_keys_add(keys, k, n);
    }
    if (err == CLM_OK && sched_state_valid(r->state)) {
        k[0] = 's';
        n = 1 + sched_key_kind_time_id(k + 1, r->state, r->created_unix_nanos, r->id);
        err = store_keys_add(keys, k, n);
    }
    if (err == CLM_OK) {
        k[0] = 't';
        sched_key_time_id(k + 1, r->created_unix_nanos, r->id);
        err = store_keys_add(keys, k, 17);
    }
    return err;
}

static clm_err key_finished(const ProtobufCMessage *m, const void *arg, store_keys *keys)
{
    const sched_run *r = (const sched_run *)m;
    unsigned char k[SCHED_KIND_NAME_MAX + 17];

    (void)arg;
    if (!sched_state_is_final(r->state) || strlen(r->kind) > SCHED_KIND_NAME_MAX)
        return CLM_OK;
    return store_keys_add(keys, k,
                          sched_key_kind_time_id(k, r->kind, r->finished_unix_nanos, r->id));
}

const store_index sched_schedule_indexes[2] = {
    {"by_name", STORE_INDEX_UNIQUE, 1, key_name, NULL},
    {"due", 0, 1, key_due, NULL},
};

const store_index sched_run_indexes[4] = {
    {"runnable", 0, 1, key_runnable, NULL},
    {"lease", 0, 1, key_lease, NULL},
    {"listing", 0, 1, key_listing, NULL},
    {"finished", 0, 1, key_finished, NULL},
};

const store_table sched_schedules_table = {"sched_schedules", &clm__store__v1__schedule__descriptor,
                                           sched_schedule_indexes, 2};
const store_table sched_runs_table = {"sched_runs", &clm__store__v1__job_run__descriptor,
                                      sched_run_indexes, 4};

static const store_table *const all_tables[2] = {&sched_schedules_table, &sched_runs_table};

const store_table *const *sched_tables(size_t *n)
{
    *n = 2;
    return all_tables;
}

/* ---- record helpers ----------------------------------------------------------------- */

clm_err sched_run_load(store_txn *txn, uint64_t id, sched_run_rec *rec)
{
    unsigned char k[8];
    clm_err err;

    clm_put_be64(k, id);
    rec->orig = NULL;
    err = store_get_record(txn, &sched_runs_table, k, 8, (ProtobufCMessage **)&rec->orig);
    if (err == CLM_OK)
        rec->r = *rec->orig;
    return err;
}

clm_err sched_run_store(store_txn *txn, sched_run_rec *rec)
{
    unsigned char k[8];

    clm_put_be64(k, rec->r.id);
    return store_put(txn, &sched_runs_table, k, 8, &rec->r.base, STORE_PUT_UPDATE);
}

void sched_run_rec_free(sched_run_rec *rec)
{
    if (rec->orig != NULL)
        protobuf_c_message_free_unpacked(&rec->orig->base, NULL);
    rec->orig = NULL;
}

clm_err sched_schedule_load(store_txn *txn, uint64_t id, sched_schedule_rec *rec)
{
    unsigned char k[8];
    clm_err err;

    clm_put_be64(k, id);
    rec->orig = NULL;
    err = store_get_record(txn, &sched_schedules_table, k, 8, (ProtobufCMessage **)&rec->orig);
    if (err == CLM_OK)
        rec->r = *rec->orig;
    return err;
}

clm_err sched_schedule_store(store_txn *txn, sched_schedule_rec *rec)
{
    unsigned char k[8];

    clm_put_be64(k, rec->r.id);
    return store_put(txn, &sched_schedules_table, k, 8, &rec->r.base, STORE_PUT_UPDATE);
}

void sched_schedule_rec_free(sched_schedule_rec *rec)
{
    if (rec->orig != NULL)
        protobuf_c_message_free_unpacked(&rec->orig->base, NULL);
    rec->orig = NULL;
}

void sched_run_free(sched_run *run)
{
    if (run != NULL)
        protobuf_c_message_free_unpacked(&run->base, NULL);
}

void sched_schedule_free(sched_schedule *schedule)
{
    if (schedule != NULL)
        protobuf_c_message_free_unpacked(&schedule->base, NULL);
}
