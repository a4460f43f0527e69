/*
 * scheduler/sched_list.c: sched_run_list(), paged over the "listing" index of runs
 * (keys "k" kind, "s" state, "t": then be64(created) be64(id); see scheduler.h).
 * Page tokens are "<created_ns>.<id>": the position of the last entry a page examined.
 */
#include "lib/base/buf.h"
#include "scheduler/sched_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_FACTOR 20 /* a page examines at most SCAN_FACTOR * limit entries */

typedef struct list_args {
    const sched_run_filter *f;
    size_t limit;
    bool have_token;
    int64_t token_created;
    uint64_t token_id;
    sched_run_page *page;
} list_args;

static clm_err parse_token(const char *token, list_args *a)
{
    char *end;
    long long created;
    unsigned long long id;

    if (token == NULL || token[0] == '\0')
        return CLM_OK;
    errno = 0;
    created = strtoll(token, &end, 10);
    if (errno == 0 && *end == '.' && created >= 0) {
        const char *rest = end + 1;

        id = strtoull(rest, &end, 10);
        if (errno == 0 && *end == '\0' && end != rest && rest[0] != '-') {
            a->have_token = true;
            a->token_created = created;
            a->token_id = id;
            return CLM_OK;
        }
    }
    return clm_fail(CLM_ERR_INVALID_ARGUMENT, "page_token: \"%.40s\" is not a token of this list",
                    token);
}

static clm_err add_item(list_args *a, const store_item *item, bool *added)
{
    const sched_run_filter *f = a->f;
    ProtobufCMessage *m;
    sched_run *r;
    clm_err err = store_item_unpack(&sched_runs_table, item, &m);

    *added = false;
    if (err != CLM_OK)
        return err;
    r = (sched_run *)m;
    if ((f->kind && f->kind[0] && f->state && f->state[0] && strcmp(r->state, f->state) != 0) ||
        (f->schedule_id && r->schedule_id != f->schedule_id)) {
        sched_run_free(r);
        return CLM_OK;
    }
    a->page->items[a->page->n++] = r;
    *added = true;
    return CLM_OK;
}

static clm_err list_fn(store_txn *txn, void *arg)
{
    list_args *a = arg;
    const sched_run_filter *f = a->f;
    unsigned char prefix[SCHED_KIND_NAME_MAX + 2], pos[SCHED_KIND_NAME_MAX + 18];
    int64_t from = f->created_from_ns > 0 ? f->created_from_ns : 0;
    int64_t to = f->created_to_ns > 0 ? f->created_to_ns : INT64_MAX;
    size_t plen, examined = 0;
    bool reverse = !f->oldest_first, skip_equal = false;
    store_iter *it;
    clm_err err;

    if (f->kind && f->kind[0]) {
        prefix[0] = 'k';
        plen = snprintf((char *)prefix + 1, sizeof(prefix) - 1, "%s", f->kind) + 2;
    } else if (f->state && f->state[0]) {
        prefix[0] = 's';
        plen = snprintf((char *)prefix + 1, sizeof(prefix) - 1, "%s", f->state) + 2;
    } else {
        prefix[0] = 't';
        plen = 1;
    }
    memcpy(pos, prefix, plen);
    if (a->have_token) {
        sched_key_time_id(pos + plen, a->token_created, a->token_id);
        skip_equal = true;
    } else if (reverse) {
        sched_key_time_id(pos + plen, to - 1, UINT64_MAX);
    } else {
        sched_key_time_id(pos + plen, from, 0);
    }
    if ((err = store_iter_open(txn, &sched_runs_table, SCHED_IX_LISTING, 0, &it)) != CLM_OK)
        return err;
    err = reverse ? store_iter_seek_last(it, pos, plen + 16)
                  : store_iter_seek(it, pos, plen + 16, NULL, 0);
    for (; err == CLM_OK; err = reverse ? store_iter_prev(it) : store_iter_next(it)) {
        const store_item *item = store_iter_item(it);
        const unsigned char *k = item->index_key;
        int64_t created;
        bool added;

        if (item->index_key_len != plen + 16 || memcmp(k, prefix, plen) != 0)
            break;
        if (skip_equal && memcmp(k, pos, plen + 16) == 0)
            continue;
        created = (int64_t)clm_get_be64(k + plen);
        if (reverse ? created < from : created >= to)
            break;
        if ((err = add_item(a, item, &added)) != CLM_OK)
            break;
        if (a->page->n == a->limit || ++examined >= a->limit * SCAN_FACTOR) {
            snprintf(a->page->next_page_token, sizeof(a->page->next_page_token), "%lld.%" PRIu64,
                     (long long)created, clm_get_be64(k + plen + 8));
            break;
        }
    }
    store_iter_close(it);
    return err == CLM_ERR_NOT_FOUND ? CLM_OK : err;
}

clm_err sched_run_list(sched *s, const sched_run_filter *filter, const char *page_token,
                       size_t limit, sched_run_page *page)
{
    static const sched_run_filter none;
    list_args a = {filter ? filter : &none, limit ? limit : 100, false, 0, 0, page};
    clm_err err;

    memset(page, 0, sizeof(*page));
    if (a.limit > SCHED_PAGE_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "limit: %zu is more than %d", limit,
                        SCHED_PAGE_MAX);
    if (a.f->state && a.f->state[0] && !sched_state_valid(a.f->state))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "state: \"%.40s\" is not queued, running, succeeded, failed or cancelled",
                        a.f->state);
    if (a.f->kind && strlen(a.f->kind) > SCHED_KIND_NAME_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "kind: longer than %d bytes",
                        SCHED_KIND_NAME_MAX);
    if ((err = parse_token(page_token, &a)) != CLM_OK)
        return err;
    page->items = calloc(a.limit, sizeof(*page->items));
    if (page->items == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "runs: out of memory");
    err = store_view(s->st, list_fn, &a);
    if (err != CLM_OK)
        sched_run_page_free(page);
    return err;
}
