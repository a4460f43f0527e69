/*
 * store/store_bench.c: bulk-ingest benchmark of the store (not a test).
 *
 *   store_bench [records [batch [indexes [dir]]]]     defaults: 1000000 10000 3 (tmp dir)
 *
 * Inserts `records` small records in transactions of `batch`, with ids from the table's
 * sequence (STORE_PUT_APPEND) and `indexes` secondary indexes (1..8): a unique name in
 * random order, a team (16 values), a be64 expiry, then extra hashed keys. The store starts
 * at the default 64 MiB map and grows as it goes. Prints records/s.
 */
#include "lib/base/buf.h"
#include "lib/base/clock.h"
#include "lib/base/log.h"
#include "store/store.h"
#include "store/store_test.pb-c.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef Clm__Store__Test__TestItem item_t;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    return x ^ (x >> 33);
}

static clm_err key_of(const ProtobufCMessage *m, const void *arg, store_keys *keys)
{
    const item_t *it = (const item_t *)m;
    uintptr_t which = (uintptr_t)arg;
    unsigned char k[8];

    switch (which) {
    case 0: return store_keys_add(keys, it->name, strlen(it->name));
    case 1: return store_keys_add(keys, it->team, strlen(it->team));
    case 2: clm_put_be64(k, (uint64_t)it->not_after); return store_keys_add(keys, k, 8);
    default: clm_put_be64(k, mix(it->id * 31 + which) % 100000); return store_keys_add(keys, k, 8);
    }
}

static const store_index bench_indexes[8] = {
    {"by_name", STORE_INDEX_UNIQUE, 1, key_of, (const void *)0},
    {"by_team", 0, 1, key_of, (const void *)1},
    {"by_expiry", 0, 1, key_of, (const void *)2},
    {"extra3", 0, 1, key_of, (const void *)3},
    {"extra4", 0, 1, key_of, (const void *)4},
    {"extra5", 0, 1, key_of, (const void *)5},
    {"extra6", 0, 1, key_of, (const void *)6},
    {"extra7", 0, 1, key_of, (const void *)7},
};

static store_table bench_table = {"bench", &clm__store__test__test_item__descriptor, bench_indexes,
                                  3};

typedef struct batch {
    uint64_t n;
} batch;

static clm_err batch_fn(store_txn *txn, void *arg)
{
    static const char *const teams[16] = {"a", "b", "c", "d", "e", "f", "g", "h",
                                          "i", "j", "k", "l", "m", "n", "o", "p"};
    batch *b = arg;
    uint64_t first;
    clm_err err = store_seq_next(txn, &bench_table, b->n, &first);

    for (uint64_t i = 0; i < b->n && err == CLM_OK; i++) {
        item_t it = CLM__STORE__TEST__TEST_ITEM__INIT;
        unsigned char key[8];
        char name[24];

        it.id = first + i;
        snprintf(name, sizeof(name), "%016" PRIx64, mix(it.id));
        it.name = name;
        it.team = (char *)teams[it.id % 16];
        it.not_after = 1700000000 + (int64_t)(mix(it.id + 7) % 31536000);
        clm_put_be64(key, it.id);
        err = store_put(txn, &bench_table, key, 8, &it.base, STORE_PUT_APPEND);
    }
    return err;
}

static void remove_store(const char *dir)
{
    char path[4200];

    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    uint64_t records = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    uint64_t per_txn = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000;
    unsigned long n_indexes = argc > 3 ? strtoul(argv[3], NULL, 10) : 3;
    char tmp[] = "/tmp/clm-store-bench-XXXXXX";
    const char *dir = argc > 4 ? argv[4] : mkdtemp(tmp);
    const store_table *tables[] = {&bench_table};
    const clm_clock *clock = clm_clock_system();
    store_stats stats;
    store *st;
    int64_t start, elapsed;
    clm_err err;

    if (records == 0 || per_txn == 0 || n_indexes < 1 || n_indexes > 8 || dir == NULL) {
        fprintf(stderr, "usage: store_bench [records [batch [indexes 1..8 [dir]]]]\n");
        return 2;
    }
    bench_table.n_indexes = n_indexes;
    clm_log_set_level(CLM_LOG_WARN);
    err = store_open(dir, NULL, tables, 1, &st);
    if (err != CLM_OK) {
        fprintf(stderr, "store_open: %s\n", clm_error_message());
        return 1;
    }
    start = clm_clock_monotonic_ns(clock);
    for (uint64_t done = 0; done < records && err == CLM_OK;) {
        batch b = {records - done < per_txn ? records - done : per_txn};

        err = store_update(st, batch_fn, &b);
        done += b.n;
    }
    elapsed = clm_clock_monotonic_ns(clock) - start;
    if (err != CLM_OK) {
        fprintf(stderr, "store_update: %s: %s\n", clm_strerror(err), clm_error_message());
        return 1;
    }
    store_stats_get(st, &stats);
    printf("%" PRIu64 " records, %" PRIu64 " per transaction, %lu indexes: %.2f s, %.0f "
           "records/s (map %" PRIu64 " MiB, %" PRIu64 " MiB used, %" PRIu64 " growths, %" PRIu64
           " reruns)\n",
           records, per_txn, n_indexes, (double)elapsed / 1e9,
           (double)records * 1e9 / (double)elapsed, stats.map_size >> 20, stats.map_used >> 20,
           stats.grow_count, stats.update_retries);
    store_close(st);
    if (argc <= 4)
        remove_store(dir);
    return 0;
}
