/*
 * store/store_lmdb_write.c: the writes of store.h over LMDB: puts (appended records take
 * put_appended, their non-unique index entries held and written sorted, deferred.c),
 * deletes, and index entries. Transactions and reads: store_lmdb.c.
 */
#include "store/store_lmdb.h"

#include <string.h>

clm_err store_lmdb_index_apply(store_txn *t, const store_table_state *ts, size_t i,
                               const void *pkey, size_t pkey_len, const store_keys *from,
                               const store_keys *to)
{
    bool unique = ts->desc->indexes[i].flags & STORE_INDEX_UNIQUE;
    const char *tname = ts->desc->name, *iname = ts->desc->indexes[i].name;
    store_keys_diff gone = {from, to, 0, 0}, added = {to, from, 0, 0};
    MDB_val p = val(pkey, pkey_len), k;
    const unsigned char *key;
    size_t len;
    int rc;

    while (store_keys_diff_next(&gone, &key, &len)) {
        k = val(key, len);
        rc = mdb_del(t->txn, ts->index_dbi[i], &k, unique ? NULL : &p);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return store_txn_poison(t, lmdb_fail(t, rc, "index %s.%s: delete", tname, iname));
    }
    while (store_keys_diff_next(&added, &key, &len)) {
        k = val(key, len);
        rc = mdb_put(t->txn, ts->index_dbi[i], &k, &p, unique ? MDB_NOOVERWRITE : MDB_NODUPDATA);
        if (rc == MDB_KEYEXIST && !unique)
            continue; /* the entry is there already */
        if (rc == MDB_KEYEXIST)
            return store_txn_poison(t, clm_fail(CLM_ERR_ALREADY_EXISTS,
                                                "table %s: unique "
                                                "index %s: two records have the same key",
                                                tname, iname));
        if (rc != 0)
            return store_txn_poison(t, lmdb_fail(t, rc, "index %s.%s: put", tname, iname));
    }
    return CLM_OK;
}

/* Write the held index entries of appended records (deferred.c), sorted, through one
 * cursor per index: neighbouring keys share their descent, and LMDB skips the descent
 * when the next key falls into the cursor's leaf. */
clm_err store_lmdb_deferred_flush(store_txn *t)
{
    store_deferred *d = &t->deferred;
    MDB_cursor *cursor = NULL;
    size_t table = SIZE_MAX, index = SIZE_MAX;
    clm_err err = store_deferred_sort(d);

    if (err != CLM_OK)
        return store_txn_poison(t, err);
    for (size_t i = 0; i < d->n && err == CLM_OK; i++) {
        const store_deferred_entry *e = &d->entries[i];
        const store_table_state *ts = &t->st->tables[e->table];
        MDB_val k = val(d->bytes + e->off, e->key_len);
        MDB_val p = val(d->bytes + e->off + e->key_len, e->pkey_len);
        int rc = 0;

        if (e->table != table || e->index != index) {
            mdb_cursor_close(cursor);
            cursor = NULL;
            table = e->table;
            index = e->index;
            rc = mdb_cursor_open(t->txn, ts->index_dbi[index], &cursor);
        }
        if (rc == 0)
            rc = mdb_cursor_put(cursor, &k, &p, MDB_NODUPDATA);
        if (rc != 0 && rc != MDB_KEYEXIST) /* KEYEXIST: the entry is there already */
            err = store_txn_poison(t, lmdb_fail(t, rc, "index %s.%s: put", ts->desc->name,
                                                ts->desc->indexes[index].name));
    }
    mdb_cursor_close(cursor);
    store_deferred_reset(d, t->st->n_tables);
    return err;
}

clm_err store_lmdb_deferred_settle(store_txn *t, const store_table_state *ts, size_t index)
{
    if (!t->write || !store_deferred_pending(&t->deferred, (size_t)(ts - t->st->tables)))
        return CLM_OK;
    if (index != STORE_NO_INDEX && (ts->desc->indexes[index].flags & STORE_INDEX_UNIQUE))
        return CLM_OK;
    return store_lmdb_deferred_flush(t);
}

/* Take back the unique index entries of record `k` that put_appended() wrote. */
static clm_err unique_undo(store_txn *t, const store_table_state *ts, const MDB_val *k)
{
    const store_table *d = ts->desc;

    for (size_t i = 0; i < d->n_indexes; i++) {
        if (!(d->indexes[i].flags & STORE_INDEX_UNIQUE))
            continue;
        for (size_t j = 0; j < t->knew[i].n; j++) {
            MDB_val ik = val(store_keys_at(&t->knew[i], j), t->knew[i].ref[j].len), owner;
            int rc = mdb_get(t->txn, ts->index_dbi[i], &ik, &owner);

            if (rc == 0 &&
                store_key_cmp(owner.mv_data, owner.mv_size, k->mv_data, k->mv_size) == 0)
                rc = mdb_del(t->txn, ts->index_dbi[i], &ik, NULL);
            if (rc != 0 && rc != MDB_NOTFOUND)
                return store_txn_poison(t, lmdb_fail(t, rc, "store_put: table %s", d->name));
        }
    }
    return CLM_OK;
}

/* A record that is new by contract (STORE_PUT_APPEND): unique entries first (a taken key
 * refuses the put: the ones written are taken back), then the record, then the other
 * entries are held for store_lmdb_deferred_flush(). One descent per unique key, not two. */
static clm_err put_appended(store_txn *t, const store_table_state *ts, MDB_val *k, MDB_val *v)
{
    const store_table *d = ts->desc;
    size_t table = (size_t)(ts - t->st->tables), taken = STORE_NO_INDEX;
    clm_err err = CLM_OK;
    int rc = 0;

    for (size_t i = 0; i < d->n_indexes && rc == 0; i++) {
        if (!(d->indexes[i].flags & STORE_INDEX_UNIQUE))
            continue;
        for (size_t j = 0; j < t->knew[i].n && rc == 0; j++) {
            MDB_val ik = val(store_keys_at(&t->knew[i], j), t->knew[i].ref[j].len);
            MDB_val owner = *k; /* on MDB_KEYEXIST, LMDB points it at the existing owner */
            rc = mdb_put(t->txn, ts->index_dbi[i], &ik, &owner, MDB_NOOVERWRITE);
        }
        if (rc == MDB_KEYEXIST)
            taken = i;
    }
    if (rc == 0)
        rc = mdb_put(t->txn, ts->dbi, k, v, MDB_APPEND);
    if (rc == MDB_KEYEXIST) {
        if ((err = unique_undo(t, ts, k)) != CLM_OK)
            return err;
        if (taken != STORE_NO_INDEX)
            return clm_fail(CLM_ERR_ALREADY_EXISTS,
                            "table %s: unique index %s: the key belongs to another record",
                            d->name, d->indexes[taken].name);
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "table %s: append: the key is not greater than the table's last key",
                        d->name);
    }
    if (rc != 0)
        return store_txn_poison(t, lmdb_fail(t, rc, "store_put: table %s", d->name));
    for (size_t i = 0; i < d->n_indexes && err == CLM_OK; i++) {
        if (d->indexes[i].flags & STORE_INDEX_UNIQUE)
            continue;
        for (size_t j = 0; j < t->knew[i].n && err == CLM_OK; j++)
            err = store_deferred_add(&t->deferred, t->st->n_tables, table, i,
                                     store_keys_at(&t->knew[i], j), t->knew[i].ref[j].len,
                                     k->mv_data, k->mv_size);
    }
    return err != CLM_OK ? store_txn_poison(t, err) : CLM_OK;
}

/* Unique keys that `t->knew` adds must be free (or already ours). Writes nothing. */
static clm_err check_unique(store_txn *t, const store_table_state *ts, const MDB_val *k)
{
    const store_table *d = ts->desc;

    for (size_t i = 0; i < d->n_indexes; i++) {
        store_keys_diff added = {&t->knew[i], &t->kold[i], 0, 0};
        const unsigned char *key;
        size_t len;

        if (!(d->indexes[i].flags & STORE_INDEX_UNIQUE))
            continue;
        while (store_keys_diff_next(&added, &key, &len)) {
            MDB_val ik = val(key, len), owner;
            int rc = mdb_get(t->txn, ts->index_dbi[i], &ik, &owner);

            if (rc == 0 && store_key_cmp(owner.mv_data, owner.mv_size, k->mv_data, k->mv_size) != 0)
                return clm_fail(CLM_ERR_ALREADY_EXISTS,
                                "table %s: unique index %s: the key "
                                "belongs to another record",
                                d->name, d->indexes[i].name);
            if (rc != 0 && rc != MDB_NOTFOUND)
                return lmdb_fail(t, rc, "index %s.%s", d->name, d->indexes[i].name);
        }
    }
    return CLM_OK;
}

/* The put: the old version, index keys, unique checks, then the writes. Everything that
 * can refuse the put happens before the first write; a failure after it poisons.
 * Appends (new records by contract) take put_appended(). */
static clm_err put_value(store_txn *t, const store_table_state *ts, MDB_val *k, MDB_val *v,
                         const ProtobufCMessage *rec, unsigned flags)
{
    const store_table *d = ts->desc;
    ProtobufCMessage *old_rec = NULL;
    MDB_val old;
    bool have_old = false;
    clm_err err = CLM_OK;
    int rc;

    if (flags & STORE_PUT_APPEND) {
        for (size_t i = 0; err == CLM_OK && i < d->n_indexes; i++)
            err = store_index_keys(d, i, rec, &t->knew[i]);
        return err != CLM_OK ? err : put_appended(t, ts, k, v);
    }
    if (d->n_indexes > 0 && (err = store_lmdb_deferred_settle(t, ts, STORE_NO_INDEX)) != CLM_OK)
        return err;
    rc = mdb_get(t->txn, ts->dbi, k, &old);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return lmdb_fail(t, rc, "store_put: table %s", d->name);
    have_old = rc == 0;
    if (have_old && (flags & STORE_PUT_INSERT))
        return clm_fail(CLM_ERR_ALREADY_EXISTS, "table %s: the key exists already", d->name);
    if (!have_old && (flags & STORE_PUT_UPDATE))
        return clm_fail(CLM_ERR_NOT_FOUND, "table %s: no record with this key", d->name);
    if (have_old && old.mv_size == v->mv_size &&
        (v->mv_size == 0 || memcmp(old.mv_data, v->mv_data, v->mv_size) == 0))
        return CLM_OK; /* identical: nothing to write */
    if (have_old && d->n_indexes > 0)
        err = store_unpack(d, old.mv_data, old.mv_size, &old_rec);
    for (size_t i = 0; err == CLM_OK && i < d->n_indexes; i++) {
        err = store_index_keys(d, i, rec, &t->knew[i]);
        if (err == CLM_OK)
            err = store_index_keys(d, i, old_rec, &t->kold[i]);
    }
    protobuf_c_message_free_unpacked(old_rec, NULL);
    if (err == CLM_OK)
        err = check_unique(t, ts, k);
    if (err != CLM_OK)
        return err;
    rc = mdb_put(t->txn, ts->dbi, k, v, 0);
    if (rc != 0)
        return store_txn_poison(t, lmdb_fail(t, rc, "store_put: table %s", d->name));
    for (size_t i = 0; err == CLM_OK && i < d->n_indexes; i++)
        err = store_lmdb_index_apply(t, ts, i, k->mv_data, k->mv_size, &t->kold[i], &t->knew[i]);
    return err;
}

clm_err store_put(store_txn *t, const store_table *table, const void *key, size_t key_len,
                  const ProtobufCMessage *record, unsigned flags)
{
    const store_table_state *ts;
    clm_err err = store_check_op(t, table, true, "store_put", &ts);
    MDB_val k = val(key, key_len), v;
    size_t size;

    if (err == CLM_OK)
        err = store_check_key("store_put", table, key_len);
    if (err != CLM_OK)
        return err;
    if (record == NULL || table->record == NULL || record->descriptor != table->record)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "store_put: table %s holds %s records",
                        table->name, table->record ? table->record->name : "raw");
    if ((flags & STORE_PUT_UPDATE) && (flags & (STORE_PUT_INSERT | STORE_PUT_APPEND)))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "store_put: UPDATE excludes INSERT/APPEND");
    size = protobuf_c_message_get_packed_size(record);
    clm_buf_reset(&t->pack);
    if (clm_buf_reserve(&t->pack, size + 1) != CLM_OK)
        return clm_fail(CLM_ERR_NO_MEMORY, "store_put: out of memory");
    t->pack.len = protobuf_c_message_pack(record, t->pack.data);
    v = val(t->pack.data, t->pack.len);
    return put_value(t, ts, &k, &v, record, flags);
}

clm_err store_put_packed(store_txn *t, const store_table *table, const void *key, size_t key_len,
                         const void *value, size_t value_len, unsigned flags)
{
    const store_table_state *ts;
    clm_err err = store_check_op(t, table, true, "store_put_packed", &ts);
    MDB_val k = val(key, key_len), v = val(value, value_len);

    if (err == CLM_OK)
        err = store_check_key("store_put_packed", table, key_len);
    if (err == CLM_OK && table->n_indexes > 0)
        err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "store_put_packed: table %s has indexes",
                       table->name);
    return err != CLM_OK ? err : put_value(t, ts, &k, &v, NULL, flags);
}

clm_err store_delete(store_txn *t, const store_table *table, const void *key, size_t key_len)
{
    const store_table_state *ts;
    clm_err err = store_check_op(t, table, true, "store_delete", &ts);
    ProtobufCMessage *old_rec = NULL;
    MDB_val k = val(key, key_len), old;
    int rc;

    if (err == CLM_OK)
        err = store_check_key("store_delete", table, key_len);
    if (err != CLM_OK)
        return err;
    if (table->n_indexes > 0 && (err = store_lmdb_deferred_settle(t, ts, STORE_NO_INDEX)) != CLM_OK)
        return err;
    rc = mdb_get(t->txn, ts->dbi, &k, &old);
    if (rc == MDB_NOTFOUND)
        return clm_fail(CLM_ERR_NOT_FOUND, "table %s: no record with this key", table->name);
    if (rc != 0)
        return lmdb_fail(t, rc, "store_delete: table %s", table->name);
    if (table->n_indexes > 0)
        err = store_unpack(table, old.mv_data, old.mv_size, &old_rec);
    for (size_t i = 0; err == CLM_OK && i < table->n_indexes; i++) {
        err = store_index_keys(table, i, old_rec, &t->kold[i]);
        store_keys_reset(&t->knew[i]);
    }
    protobuf_c_message_free_unpacked(old_rec, NULL);
    for (size_t i = 0; err == CLM_OK && i < table->n_indexes; i++)
        err = store_lmdb_index_apply(t, ts, i, key, key_len, &t->kold[i], &t->knew[i]);
    if (err != CLM_OK)
        return err;
    rc = mdb_del(t->txn, ts->dbi, &k, NULL);
    return rc ? store_txn_poison(t, lmdb_fail(t, rc, "store_delete: table %s", table->name))
              : CLM_OK;
}
