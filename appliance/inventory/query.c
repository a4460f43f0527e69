/* appliance/inventory/query.c: filtered, paged listings over the inventory indexes. */
#include "appliance/inventory/query.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include "appliance/inventory/basic.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/page.h"
#include "appliance/inventory/tables.h"
#include "lib/base/buf.h"

#define SECONDS_PER_DAY INT64_C(86400)

typedef struct filter {
    const Clm__V1__ListCertificatesRequest *req;
    int64_t now;
    uint64_t group_id; /* 0: any */
    char domain_key[256];
    size_t domain_key_len;
} filter;

static int contains_ci(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);

    for (const char *p = haystack; *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return 1;
    return n == 0;
}

static int name_matches(const Clm__Store__V1__CertificateRecord *r, const char *needle)
{
    if (contains_ci(r->common_name, needle))
        return 1;
    for (size_t i = 0; i < r->n_dns_names; i++)
        if (contains_ci(r->dns_names[i], needle))
            return 1;
    return 0;
}

/* Is `name` equal to or under the filter's domain? */
static int under_domain(const filter *f, const char *name)
{
    char key[256];
    size_t n = inventory_name_key(name, key, sizeof(key));

    return n >= f->domain_key_len && memcmp(key, f->domain_key, f->domain_key_len) == 0;
}

static int source_device_matches(const Clm__Store__V1__CertificateRecord *r, const char *device)
{
    for (size_t i = 0; i < r->n_sources; i++)
        if (strcasecmp(r->sources[i]->device, device) == 0)
            return 1;
    return 0;
}

static int attribute_matches(const Clm__Store__V1__CertificateRecord *r,
                             const Clm__V1__Attribute *want)
{
    for (size_t i = 0; i < r->n_attributes; i++)
        if (strcasecmp(r->attributes[i]->key, want->key) == 0 &&
            (want->value[0] == '\0' || strcmp(r->attributes[i]->value, want->value) == 0))
            return 1;
    return 0;
}

static int matches(const filter *f, const Clm__Store__V1__CertificateRecord *r)
{
    const Clm__V1__ListCertificatesRequest *q = f->req;

    if (q->expired && r->not_after >= f->now)
        return 0;
    if (q->expiring_within_days &&
        (r->not_after < f->now ||
         r->not_after > f->now + (int64_t)q->expiring_within_days * SECONDS_PER_DAY))
        return 0;
    if (q->name_contains[0] && !name_matches(r, q->name_contains))
        return 0;
    if (q->issuer_contains[0] && !contains_ci(r->issuer, q->issuer_contains))
        return 0;
    if (f->group_id && (r->group_id ? r->group_id : INVENTORY_DEFAULT_GROUP_ID) != f->group_id)
        return 0;
    if (q->status && r->status != (int32_t)q->status)
        return 0;
    if (q->key_type[0] && strcasecmp(r->key_type, q->key_type) != 0)
        return 0;
    if (q->key_bits && r->key_bits != q->key_bits)
        return 0;
    if (q->source_device[0] && !source_device_matches(r, q->source_device))
        return 0;
    if (q->attribute && q->attribute->key[0] && !attribute_matches(r, q->attribute))
        return 0;
    return 1;
}

/* With the names index a certificate appears once per matching name: emit it only at
   its smallest matching key, so it is listed once across all pages. */
static int first_matching_name(const filter *f, const Clm__Store__V1__CertificateRecord *r,
                               const void *index_key, size_t index_key_len)
{
    char key[256];

    for (size_t i = 0; i <= r->n_dns_names; i++) {
        const char *name = i == 0 ? r->common_name : r->dns_names[i - 1];
        size_t n;
        if (name[0] == '\0' || !under_domain(f, name))
            continue;
        n = inventory_name_key(name, key, sizeof(key));
        int cmp = memcmp(key, index_key, n < index_key_len ? n : index_key_len);
        if (cmp < 0 || (cmp == 0 && n < index_key_len))
            return 0;
    }
    return 1;
}

static clm_err prepare(store_txn *txn, clm_arena *arena, const Clm__V1__ListCertificatesRequest *q,
                       int64_t now, filter *f)
{
    memset(f, 0, sizeof(*f));
    f->req = q;
    f->now = now;
    if (q->expired && q->expiring_within_days)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "expired: cannot be combined with expiring_within_days");
    if (q->expiring_within_days > 36500)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "expiring_within_days: at most 36500");
    if (q->status < 0 || q->status > CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_REVOKED)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "status: %d is not a certificate status",
                        q->status);
    if (q->view < 0 || q->view > CLM__V1__CERTIFICATE_VIEW__CERTIFICATE_VIEW_BASIC)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "view: %d is not a certificate view", q->view);
    if (strlen(q->name_contains) > 253 || strlen(q->issuer_contains) > 1024)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "name_contains or issuer_contains: too long");
    if (q->domain[0] != '\0') {
        if (strchr(q->domain, '*') != NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "domain: give the domain itself (example.com), not a pattern");
        f->domain_key_len = inventory_name_key(q->domain, f->domain_key, sizeof(f->domain_key));
        if (f->domain_key_len == 0)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "domain: '%s' is not a DNS name", q->domain);
    }
    if (q->group[0] != '\0') {
        Clm__Store__V1__GroupRecord *g;
        clm_err err = group_find(txn, arena, q->group, "group", &g);
        if (err != CLM_OK)
            return err;
        f->group_id = g->id;
    }
    return CLM_OK;
}

clm_err query_list(store_txn *txn, clm_arena *arena, const Clm__V1__ListCertificatesRequest *req,
                   int64_t now, query_emit_fn emit, void *arg, char **next_token)
{
    const store_index *index;
    unsigned char start[256];
    size_t start_len = 0;
    unsigned char end_key[8];
    int bounded_end = 0;
    page_position pos;
    int present;
    size_t size, emitted = 0, examined = 0;
    store_iter *it;
    clm_arena scratch = CLM_ARENA_INIT; /* records that do not match go here, reused */
    filter f;
    clm_err err;

    *next_token = NULL;
    if ((err = page_size_of(req->page_size, &size)) != CLM_OK ||
        (err = page_token_decode(req->page_token, &pos, &present)) != CLM_OK ||
        (err = prepare(txn, arena, req, now, &f)) != CLM_OK)
        return err;
    if (f.domain_key_len) {
        index = CERT_INDEX(CERT_INDEX_NAMES);
        memcpy(start, f.domain_key, f.domain_key_len);
        start_len = f.domain_key_len;
    } else if (req->order_by == CLM__V1__CERTIFICATE_ORDER__CERTIFICATE_ORDER_NAME) {
        index = CERT_INDEX(CERT_INDEX_COMMON_NAME);
    } else {
        index = CERT_INDEX(CERT_INDEX_EXPIRY);
        if (req->expiring_within_days) {
            inventory_expiry_key(now, start);
            start_len = 8;
            inventory_expiry_key(now + (int64_t)req->expiring_within_days * SECONDS_PER_DAY,
                                 end_key);
            bounded_end = 1;
        } else if (req->expired) {
            inventory_expiry_key(now - 1, end_key);
            bounded_end = 1;
        }
    }
    /* The expiry index bounds the expiry filters exactly: with no other filter every
     * record of the range matches, and is unpacked once, straight into the reply's arena. */
    int index_decides = index == CERT_INDEX(CERT_INDEX_EXPIRY) && !req->name_contains[0] &&
                        !req->issuer_contains[0] && !f.group_id && !req->status &&
                        !req->key_type[0] && !req->key_bits && !req->source_device[0] &&
                        !(req->attribute && req->attribute->key[0]);
    int basic = req->view == CLM__V1__CERTIFICATE_VIEW__CERTIFICATE_VIEW_BASIC;
    if ((err = store_iter_open(txn, &inventory_certificates, index, 0, &it)) != CLM_OK)
        return err;
    if (present)
        err = page_resume(it, &pos, 1);
    else if (start_len)
        err = store_iter_seek(it, start, start_len, NULL, 0);
    else
        err = store_iter_first(it);
    for (; err == CLM_OK; err = store_iter_next(it)) {
        const store_item *item = store_iter_item(it);
        Clm__Store__V1__CertificateRecord *r;

        if (f.domain_key_len && (item->index_key_len < f.domain_key_len ||
                                 memcmp(item->index_key, f.domain_key, f.domain_key_len) != 0))
            break; /* past the domain */
        if (bounded_end && memcmp(item->index_key, end_key, 8) > 0)
            break; /* past the expiry window */
        if (emitted == size || examined == QUERY_MAX_EXAMINED) {
            *next_token = page_token_encode(arena, item);
            break;
        }
        examined++;
        if (index_decides) {
            r = basic ? inventory_read_basic(arena, item->value, item->value_len)
                      : (void *)inventory_unpack(arena, &inventory_certificates, item);
            if (r == NULL || (err = emit(arg, r)) != CLM_OK) {
                err = r == NULL ? clm_fail(CLM_ERR_STORE, "certificate record does not unpack")
                                : err;
                break;
            }
            emitted++;
            continue;
        }
        clm_arena_reset(&scratch);
        r = (void *)inventory_unpack(&scratch, &inventory_certificates, item);
        if (r == NULL) {
            err = clm_fail(CLM_ERR_STORE, "certificate record does not unpack");
            break;
        }
        if (!matches(&f, r) ||
            (f.domain_key_len && !first_matching_name(&f, r, item->index_key, item->index_key_len)))
            continue;
        /* a match: unpack again into the caller's arena, which outlives the scan */
        r = (void *)inventory_unpack(arena, &inventory_certificates, item);
        if (r == NULL || (err = emit(arg, r)) != CLM_OK) {
            err = r == NULL ? clm_fail(CLM_ERR_NO_MEMORY, "out of memory") : err;
            break;
        }
        emitted++;
    }
    store_iter_close(it);
    clm_arena_free(&scratch);
    return err == CLM_ERR_NOT_FOUND ? CLM_OK : err;
}

/* Start of the UTC calendar month `months` after the month of `t`. */
static int64_t month_start(int64_t t, int months)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_mon += months;
    return (int64_t)timegm(&tm);
}

typedef struct histogram {
    int64_t now;
    int64_t *edges; /* n + 1 bucket edges */
    size_t n;
    uint64_t *counts;
    uint64_t expired, later;
    uint64_t group_id;
    int32_t status;
    clm_arena *arena; /* scratch for records when filtering */
} histogram;

static clm_err count_entry(void *arg, const store_item *item, bool *stop)
{
    histogram *h = arg;
    int64_t not_after = (int64_t)(clm_get_be64(item->index_key) ^ (UINT64_C(1) << 63));

    (void)stop;
    if (h->group_id || h->status) {
        clm_arena_reset(h->arena);
        Clm__Store__V1__CertificateRecord *r =
            (void *)inventory_unpack(h->arena, &inventory_certificates, item);
        if (r == NULL)
            return clm_fail(CLM_ERR_STORE, "certificate record does not unpack");
        if (h->group_id && (r->group_id ? r->group_id : INVENTORY_DEFAULT_GROUP_ID) != h->group_id)
            return CLM_OK;
        if (h->status && r->status != h->status)
            return CLM_OK;
    }
    if (not_after < h->now) {
        h->expired++;
        return CLM_OK;
    }
    for (size_t i = 0; i < h->n; i++) {
        if (not_after < h->edges[i + 1]) {
            h->counts[i]++;
            return CLM_OK;
        }
    }
    h->later++;
    return CLM_OK;
}

clm_err query_expiry_histogram(store_txn *txn, clm_arena *arena,
                               const Clm__V1__ExpiryHistogramRequest *req, int64_t now,
                               Clm__V1__ExpiryHistogramResponse *resp)
{
    unsigned months = req->months ? req->months : 12;
    int weekly = req->bucket == CLM__V1__HISTOGRAM_BUCKET__HISTOGRAM_BUCKET_WEEK;
    clm_arena scratch = CLM_ARENA_INIT;
    histogram h = {now, NULL, 0, NULL, 0, 0, 0, req->status, &scratch};
    clm_err err;

    if (months > 60)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "months: %u is more than 60", months);
    if (req->status < 0 || req->status > CLM__V1__CERTIFICATE_STATUS__CERTIFICATE_STATUS_REVOKED)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "status: %d is not a certificate status",
                        req->status);
    if (req->group[0] != '\0') {
        Clm__Store__V1__GroupRecord *g;
        if ((err = group_find(txn, arena, req->group, "group", &g)) != CLM_OK)
            return err;
        h.group_id = g->id;
    }
    int64_t horizon = month_start(now, (int)months);
    h.n = weekly ? (size_t)((horizon - now + 7 * SECONDS_PER_DAY - 1) / (7 * SECONDS_PER_DAY))
                 : months;
    h.edges = clm_arena_alloc(arena, (h.n + 1) * sizeof(*h.edges));
    h.counts = clm_arena_alloc(arena, h.n * sizeof(*h.counts));
    if (h.edges == NULL || h.counts == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    h.edges[0] = now;
    for (size_t i = 1; i <= h.n; i++)
        h.edges[i] = weekly ? now + (int64_t)i * 7 * SECONDS_PER_DAY : month_start(now, (int)i);
    err = store_scan(txn, &inventory_certificates, CERT_INDEX(CERT_INDEX_EXPIRY), NULL, 0,
                     h.group_id || h.status ? 0 : STORE_KEYS_ONLY, count_entry, &h);
    clm_arena_free(&scratch);
    if (err != CLM_OK)
        return err;
    resp->expired = h.expired;
    resp->later = h.later;
    resp->buckets = clm_arena_alloc(arena, h.n * sizeof(*resp->buckets));
    for (size_t i = 0; i < h.n && resp->buckets; i++) {
        Clm__V1__ExpiryBucket *b = clm_arena_alloc(arena, sizeof(*b));
        Google__Protobuf__Timestamp *ts = clm_arena_alloc(arena, 2 * sizeof(*ts));
        if (b == NULL || ts == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        clm__v1__expiry_bucket__init(b);
        google__protobuf__timestamp__init(&ts[0]);
        google__protobuf__timestamp__init(&ts[1]);
        ts[0].seconds = h.edges[i];
        ts[1].seconds = h.edges[i + 1];
        b->start = &ts[0];
        b->end = &ts[1];
        b->count = h.counts[i];
        resp->buckets[resp->n_buckets++] = b;
    }
    return CLM_OK;
}
