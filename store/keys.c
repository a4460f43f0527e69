/* store/keys.c: the index key collector, key order and name rules (no LMDB here). */
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

clm_err store_keys_add(store_keys *keys, const void *key, size_t len)
{
    if (len == 0 || len > STORE_KEY_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "index key: length %zu is outside 1..%d bytes",
                        len, STORE_KEY_MAX);
    if (keys->n == keys->cap) {
        size_t cap = keys->cap ? keys->cap * 2 : 8;
        store_key_ref *ref = realloc(keys->ref, cap * sizeof(*ref));

        if (ref == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "index key: out of memory");
        keys->ref = ref;
        keys->cap = cap;
    }
    keys->ref[keys->n].off = keys->bytes.len;
    keys->ref[keys->n].len = len;
    if (clm_buf_append(&keys->bytes, key, len) != CLM_OK)
        return clm_fail(CLM_ERR_NO_MEMORY, "index key: out of memory");
    keys->n++;
    return CLM_OK;
}

void store_keys_reset(store_keys *keys)
{
    clm_buf_reset(&keys->bytes);
    keys->n = 0;
}

void store_keys_free(store_keys *keys)
{
    clm_buf_free(&keys->bytes);
    free(keys->ref);
    keys->ref = NULL;
    keys->n = keys->cap = 0;
}

int store_key_cmp(const void *a, size_t a_len, const void *b, size_t b_len)
{
    size_t n = a_len < b_len ? a_len : b_len;
    int c = n ? memcmp(a, b, n) : 0;

    if (c != 0)
        return c;
    return a_len < b_len ? -1 : a_len > b_len ? 1 : 0;
}

static int keys_ref_cmp(const void *a, const void *b, void *arg)
{
    const unsigned char *bytes = arg;
    const store_key_ref *x = a, *y = b;

    return store_key_cmp(bytes + x->off, x->len, bytes + y->off, y->len);
}

void store_keys_finish(store_keys *keys)
{
    size_t out = 0;

    if (keys->n < 2)
        return;
    qsort_r(keys->ref, keys->n, sizeof(*keys->ref), keys_ref_cmp, keys->bytes.data);
    for (size_t i = 0; i < keys->n; i++) {
        if (out > 0 && keys_ref_cmp(&keys->ref[out - 1], &keys->ref[i], keys->bytes.data) == 0)
            continue;
        keys->ref[out++] = keys->ref[i];
    }
    keys->n = out;
}

bool store_name_valid(const char *name)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || len > STORE_NAME_MAX || name[0] < 'a' || name[0] > 'z')
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

bool store_keys_diff_next(store_keys_diff *d, const unsigned char **key, size_t *len)
{
    while (d->i < d->a->n) {
        const unsigned char *ka = store_keys_at(d->a, d->i);
        size_t la = d->a->ref[d->i].len;
        int c = 1;

        while (d->j < d->b->n) {
            c = store_key_cmp(store_keys_at(d->b, d->j), d->b->ref[d->j].len, ka, la);
            if (c >= 0)
                break;
            d->j++;
        }
        if (d->j >= d->b->n)
            c = 1;
        d->i++;
        if (c != 0) {
            *key = ka;
            *len = la;
            return true;
        }
    }
    return false;
}
