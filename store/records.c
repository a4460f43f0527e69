/*
 * store/records.c: record helpers built on the public API: unpacking, index keys,
 * lookups by index, and store_scan() over iterators. No LMDB here.
 */
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

clm_err store_unpack(const store_table *table, const void *data, size_t len, ProtobufCMessage **out)
{
    if (table->record == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "table %s holds raw bytes, not records",
                        table->name);
    *out = protobuf_c_message_unpack(table->record, NULL, len, data);
    if (*out == NULL)
        return clm_fail(CLM_ERR_STORE,
                        "table %s: a stored record does not unpack as %s "
                        "(corrupt?)",
                        table->name, table->record->name);
    return CLM_OK;
}

clm_err store_index_keys(const store_table *table, size_t i, const ProtobufCMessage *record,
                         store_keys *keys)
{
    const store_index *idx = &table->indexes[i];
    clm_err err;

    store_keys_reset(keys);
    if (record == NULL)
        return CLM_OK;
    err = idx->keys(record, idx->arg, keys);
    if (err != CLM_OK)
        return clm_error_context(err, "index %s.%s", table->name, idx->name);
    store_keys_finish(keys);
    return CLM_OK;
}

clm_err store_get_record(store_txn *txn, const store_table *table, const void *key, size_t key_len,
                         ProtobufCMessage **record)
{
    store_item item;
    clm_err err = store_get(txn, table, key, key_len, &item);

    return err != CLM_OK ? err : store_unpack(table, item.value, item.value_len, record);
}

clm_err store_item_unpack(const store_table *table, const store_item *item,
                          ProtobufCMessage **record)
{
    if (item == NULL || item->value == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "store_item_unpack: the item has no value "
                                                  "(read with STORE_KEYS_ONLY?)");
    return store_unpack(table, item->value, item->value_len, record);
}

clm_err store_index_get(store_txn *txn, const store_table *table, const store_index *index,
                        const void *index_key, size_t index_key_len, store_item *item)
{
    const store_item *found;
    store_iter *it;
    clm_err err;

    if (index == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "store_index_get: no index");
    err = store_iter_open(txn, table, index, 0, &it);
    if (err != CLM_OK)
        return err;
    err = store_iter_seek(it, index_key, index_key_len, NULL, 0);
    found = store_iter_item(it);
    if (err == CLM_OK &&
        store_key_cmp(found->index_key, found->index_key_len, index_key, index_key_len) != 0)
        err = CLM_ERR_NOT_FOUND;
    if (err == CLM_OK)
        *item = *found;
    store_iter_close(it);
    return err;
}

static bool has_prefix(const store_item *item, bool index, const void *prefix, size_t len)
{
    const void *key = index ? item->index_key : item->key;
    size_t key_len = index ? item->index_key_len : item->key_len;

    return key_len >= len && memcmp(key, prefix, len) == 0;
}

/* Where a backward prefix scan starts: before the smallest key greater than every key with
 * the prefix (the prefix with its last non-0xff byte incremented and the rest cut). */
static clm_err seek_prefix_end(store_iter *it, const unsigned char *prefix, size_t len)
{
    unsigned char next[STORE_KEY_MAX];

    memcpy(next, prefix, len);
    while (len > 0 && next[len - 1] == 0xff)
        len--;
    if (len == 0)
        return store_iter_last(it);
    next[len - 1]++;
    return store_iter_seek_before(it, next, len);
}

clm_err store_scan(store_txn *txn, const store_table *table, const store_index *index,
                   const void *start, size_t start_len, unsigned flags, store_scan_fn fn, void *arg)
{
    bool reverse = flags & STORE_SCAN_REVERSE, prefix = (flags & STORE_SCAN_PREFIX) && start;
    bool stop = false;
    store_iter *it;
    clm_err err;

    if (start != NULL && (start_len == 0 || start_len > STORE_KEY_MAX))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "store_scan: start key length %zu is "
                        "outside 1..%d",
                        start_len, STORE_KEY_MAX);
    err = store_iter_open(txn, table, index, flags & STORE_KEYS_ONLY, &it);
    if (err != CLM_OK)
        return err;
    if (start == NULL)
        err = reverse ? store_iter_last(it) : store_iter_first(it);
    else if (!reverse)
        err = store_iter_seek(it, start, start_len, NULL, 0);
    else if (prefix)
        err = seek_prefix_end(it, start, start_len);
    else
        err = store_iter_seek_last(it, start, start_len);
    while (err == CLM_OK) {
        const store_item *item = store_iter_item(it);

        if (prefix && !has_prefix(item, index != NULL, start, start_len))
            break;
        err = fn(arg, item, &stop);
        if (err != CLM_OK || stop) {
            store_iter_close(it);
            return err; /* the callback's word, even CLM_ERR_NOT_FOUND */
        }
        err = reverse ? store_iter_prev(it) : store_iter_next(it);
    }
    store_iter_close(it);
    return err == CLM_ERR_NOT_FOUND ? CLM_OK : err;
}
