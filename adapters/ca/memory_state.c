/* adapters/ca/memory_state.c: an in-memory adapter_ca_state for tests and benchmarks. */
#include "adapters/ca/memory_state.h"

#include <stdio.h>
#include <string.h>

static int find(const ca_memory_state *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->items[i].name, name) == 0)
            return (int)i;
    return -1;
}

static clm_err memory_get(void *ctx, const char *name, clm_buf *out)
{
    ca_memory_state *m = ctx;
    clm_err err;
    int i;

    pthread_mutex_lock(&m->lock);
    i = find(m, name);
    if (i < 0)
        err = clm_fail(CLM_ERR_NOT_FOUND, "state item %s: not found", name);
    else
        err = clm_buf_append(out, m->items[i].value.data ? (const void *)m->items[i].value.data
                                                         : (const void *)"",
                             m->items[i].value.len);
    pthread_mutex_unlock(&m->lock);
    return err;
}

static clm_err memory_put(void *ctx, const adapter_ca_state_item *items, size_t n)
{
    ca_memory_state *m = ctx;
    clm_buf fresh[CA_MEMORY_STATE_ITEMS_MAX] = {{0}};
    size_t added = 0;
    clm_err err = CLM_OK;

    pthread_mutex_lock(&m->lock);
    if (m->fail_puts > 0) {
        m->fail_puts--;
        err = clm_fail(CLM_ERR_STORE, "state: write failed (injected)");
        goto done;
    }
    /* All or none: new values are made first, then swapped in. */
    for (size_t i = 0; i < n; i++) {
        if (find(m, items[i].name) < 0)
            added++;
        if (n > CA_MEMORY_STATE_ITEMS_MAX || m->n + added > CA_MEMORY_STATE_ITEMS_MAX ||
            strlen(items[i].name) >= sizeof m->items[0].name) {
            err = clm_fail(CLM_ERR_STORE_FULL, "state: too many items");
            goto done;
        }
        if ((err = clm_buf_append(&fresh[i], items[i].data ? items[i].data : "", items[i].len)) !=
            CLM_OK)
            goto done;
    }
    for (size_t i = 0; i < n; i++) {
        int k = find(m, items[i].name);
        if (k < 0) {
            k = (int)m->n++;
            snprintf(m->items[k].name, sizeof m->items[k].name, "%s", items[i].name);
        }
        clm_buf_wipe(&m->items[k].value);
        m->items[k].value = fresh[i];
        m->items[k].secret = items[i].secret;
        fresh[i] = (clm_buf)CLM_BUF_INIT;
    }
    m->puts++;
done:
    for (size_t i = 0; i < CA_MEMORY_STATE_ITEMS_MAX; i++)
        clm_buf_wipe(&fresh[i]);
    pthread_mutex_unlock(&m->lock);
    return err;
}

void ca_memory_state_init(ca_memory_state *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    m->state.get = memory_get;
    m->state.put = memory_put;
    m->state.ctx = m;
}

void ca_memory_state_free(ca_memory_state *m)
{
    for (size_t i = 0; i < m->n; i++)
        clm_buf_wipe(&m->items[i].value);
    m->n = 0;
    pthread_mutex_destroy(&m->lock);
}

const clm_buf *ca_memory_state_item(ca_memory_state *m, const char *name)
{
    int i = find(m, name);
    return i < 0 ? NULL : &m->items[i].value;
}
