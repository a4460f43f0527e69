/*
 * store/deferred.c: the non-unique index entries of records appended in a write
 * transaction, held until the transaction needs them and then written in key order.
 *
 * Why: bulk ingest appends records (STORE_PUT_APPEND) whose index keys are random
 * (names, expiry, thumbprints). Inserted one record at a time, each entry descends its
 * B-tree from the root through pages that are cold in the CPU cache; sorted, the
 * descents of neighbouring keys share their path and LMDB's cursor stays on the same
 * leaf when the next key falls into it. store_lmdb_write.c writes them (store_lmdb_deferred_flush)
 * before anything could observe their absence: a read of a non-unique
 * index, a replace or delete in the same table, and the commit. No LMDB calls here.
 */
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Above this, the buffers are given back after the transaction instead of kept. */
#define KEEP_BYTES_MAX (4u << 20)

/* The buffers are mappings of their own, not malloc'd: they grow to megabytes for one
 * transaction and shrink after it, and in the heap they would leave holes that LMDB's
 * 4 KiB dirty pages fill (which LMDB keeps for the process's life). */
static bool region_reserve(void **p, size_t *cap, size_t need)
{
    size_t size = *cap ? *cap : 256 << 10;
    void *q;

    if (need <= *cap)
        return true;
    while (size < need)
        size *= 2;
    q = *cap ? mremap(*p, *cap, size, MREMAP_MAYMOVE)
             : mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED)
        return false;
    *p = q;
    *cap = size;
    return true;
}

static void region_free(void **p, size_t *cap)
{
    if (*cap)
        munmap(*p, *cap);
    *p = NULL;
    *cap = 0;
}

/* The first 8 key bytes, big-endian, zero-padded: sorts like the key in most cases. */
static uint64_t key_prefix(const unsigned char *key, size_t len)
{
    uint64_t p = 0;

    for (size_t i = 0; i < 8; i++)
        p = (p << 8) | (i < len ? key[i] : 0);
    return p;
}

clm_err store_deferred_add(store_deferred *d, size_t n_tables, size_t table, size_t index,
                           const void *key, size_t key_len, const void *pkey, size_t pkey_len)
{
    store_deferred_entry *e;

    if (key_len > STORE_KEY_MAX || pkey_len > STORE_KEY_MAX || index > UINT16_MAX ||
        table > UINT32_MAX || d->len > UINT32_MAX - key_len - pkey_len)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "deferred index entry out of range");
    if (d->pending == NULL && (d->pending = calloc(n_tables, sizeof(*d->pending))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "deferred index entries: out of memory");
    if (!region_reserve((void **)&d->entries, &d->entries_cap, (d->n + 1) * sizeof(*e)) ||
        !region_reserve((void **)&d->bytes, &d->bytes_cap, d->len + key_len + pkey_len))
        return clm_fail(CLM_ERR_NO_MEMORY, "deferred index entries: out of memory");
    e = &d->entries[d->n];
    e->prefix = key_prefix(key, key_len);
    e->off = (uint32_t)d->len;
    e->key_len = (uint16_t)key_len;
    e->pkey_len = (uint16_t)pkey_len;
    e->index = (uint16_t)index;
    e->table = (uint32_t)table;
    memcpy(d->bytes + d->len, key, key_len);
    memcpy(d->bytes + d->len + key_len, pkey, pkey_len);
    d->len += key_len + pkey_len;
    d->n++;
    d->pending[table] = true;
    return CLM_OK;
}

static int entry_cmp(const store_deferred_entry *x, const store_deferred_entry *y,
                     const unsigned char *bytes)
{
    int c;

    if (x->table != y->table)
        return x->table < y->table ? -1 : 1;
    if (x->index != y->index)
        return x->index < y->index ? -1 : 1;
    if (x->prefix != y->prefix)
        return x->prefix < y->prefix ? -1 : 1;
    c = store_key_cmp(bytes + x->off, x->key_len, bytes + y->off, y->key_len);
    if (c != 0)
        return c;
    return store_key_cmp(bytes + x->off + x->key_len, x->pkey_len, bytes + y->off + y->key_len,
                         y->pkey_len);
}

/* Bottom-up merge sort: insertion-sorted runs of RUN, then merge passes between the
 * entries and a mapped scratch area (glibc's qsort would malloc its scratch: see
 * region_reserve). @return false when the scratch cannot be mapped. */
#define RUN 16
static bool sort_entries(store_deferred_entry *a, size_t n, const unsigned char *bytes)
{
    store_deferred_entry *tmp = NULL, *from = a, *to;
    size_t tmp_cap = 0;

    for (size_t lo = 0; lo < n; lo += RUN) {
        size_t hi = lo + RUN < n ? lo + RUN : n;
        for (size_t i = lo + 1; i < hi; i++) {
            store_deferred_entry e = a[i];
            size_t j = i;
            for (; j > lo && entry_cmp(&e, &a[j - 1], bytes) < 0; j--)
                a[j] = a[j - 1];
            a[j] = e;
        }
    }
    if (n <= RUN)
        return true;
    if (!region_reserve((void **)&tmp, &tmp_cap, n * sizeof(*a)))
        return false;
    to = tmp;
    for (size_t width = RUN; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                to[k++] = entry_cmp(&from[j], &from[i], bytes) < 0 ? from[j++] : from[i++];
            while (i < mid)
                to[k++] = from[i++];
            while (j < hi)
                to[k++] = from[j++];
        }
        store_deferred_entry *swap = from;
        from = to;
        to = swap;
    }
    if (from != a)
        memcpy(a, from, n * sizeof(*a));
    region_free((void **)&tmp, &tmp_cap);
    return true;
}

clm_err store_deferred_sort(store_deferred *d)
{
    return sort_entries(d->entries, d->n, d->bytes)
               ? CLM_OK
               : clm_fail(CLM_ERR_NO_MEMORY, "deferred index entries: out of memory to sort");
}

void store_deferred_reset(store_deferred *d, size_t n_tables)
{
    if (d->entries_cap + d->bytes_cap > KEEP_BYTES_MAX) {
        region_free((void **)&d->entries, &d->entries_cap);
        region_free((void **)&d->bytes, &d->bytes_cap);
    }
    d->n = d->len = 0;
    if (d->pending != NULL)
        memset(d->pending, 0, n_tables * sizeof(*d->pending));
}

void store_deferred_free(store_deferred *d)
{
    region_free((void **)&d->entries, &d->entries_cap);
    region_free((void **)&d->bytes, &d->bytes_cap);
    free(d->pending);
    memset(d, 0, sizeof(*d));
}
