/*
 * store/audit.c: the audit chain (definition in audit.h): append, list, verify.
 * SHA-256 through OpenSSL's EVP_Digest* (the API BoringSSL shares).
 */
#include "store/audit.h"

#include "store/store_internal.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD_NAME "audit_head"
#define HEAD_LEN (8 + STORE_AUDIT_HASH_LEN)
#define FIELD_PREV_HASH 8
#define FIELD_HASH 9

static const store_table audit_table = {
    "_audit",
    &clm__store__v1__audit_record__descriptor,
    NULL,
    0,
};

const store_table *store_audit_table(void)
{
    return &audit_table;
}

/* hash = SHA-256(prev || body) */
static clm_err chain_hash(const unsigned char *prev, const void *body, size_t len,
                          unsigned char *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, prev, STORE_AUDIT_HASH_LEN) == 1 &&
             EVP_DigestUpdate(ctx, body, len) == 1 && EVP_DigestFinal_ex(ctx, out, &n) == 1 &&
             n == STORE_AUDIT_HASH_LEN;

    EVP_MD_CTX_free(ctx);
    return ok ? CLM_OK : clm_fail(CLM_ERR_CRYPTO, "audit: SHA-256 failed");
}

static bool read_varint(const unsigned char *p, size_t len, size_t *pos, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *pos < len; shift += 7) {
        unsigned char b = p[(*pos)++];

        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* strip(V): V without fields 8 and 9, walked at the wire level. */
static clm_err strip_hash_fields(const unsigned char *v, size_t len, clm_buf *out)
{
    size_t pos = 0;

    clm_buf_reset(out);
    while (pos < len) {
        size_t start = pos;
        uint64_t tag, n;
        bool ok = read_varint(v, len, &pos, &tag);

        switch (tag & 7) {
        case 0: ok = ok && read_varint(v, len, &pos, &n); break;
        case 1:
            n = 8;
            ok = ok && len - pos >= n;
            pos += ok ? n : 0;
            break;
        case 2:
            ok = ok && read_varint(v, len, &pos, &n) && len - pos >= n;
            pos += ok ? n : 0;
            break;
        case 5:
            n = 4;
            ok = ok && len - pos >= n;
            pos += ok ? n : 0;
            break;
        default: ok = false;
        }
        if (!ok)
            return clm_fail(CLM_ERR_PARSE, "malformed protobuf at byte %zu", start);
        if ((tag >> 3) != FIELD_PREV_HASH && (tag >> 3) != FIELD_HASH &&
            clm_buf_append(out, v + start, pos - start) != CLM_OK)
            return clm_fail(CLM_ERR_NO_MEMORY, "audit: out of memory");
    }
    return CLM_OK;
}

static clm_err read_head(store_txn *txn, uint64_t *seq, unsigned char *hash)
{
    const void *v;
    size_t len;
    clm_err err = store_meta_get(txn, HEAD_NAME, &v, &len);

    if (err == CLM_ERR_NOT_FOUND) {
        *seq = 0;
        memset(hash, 0, STORE_AUDIT_HASH_LEN);
        return CLM_OK;
    }
    if (err != CLM_OK)
        return err;
    if (len != HEAD_LEN)
        return clm_fail(CLM_ERR_STORE, "audit: the chain head is damaged (%zu bytes)", len);
    *seq = clm_get_be64(v);
    memcpy(hash, (const unsigned char *)v + 8, STORE_AUDIT_HASH_LEN);
    return CLM_OK;
}

static clm_err append_hash_field(clm_buf *buf, int field, const unsigned char *hash)
{
    unsigned char head[2] = {(unsigned char)(field << 3 | 2), STORE_AUDIT_HASH_LEN};

    if (clm_buf_append(buf, head, 2) != CLM_OK ||
        clm_buf_append(buf, hash, STORE_AUDIT_HASH_LEN) != CLM_OK)
        return clm_fail(CLM_ERR_NO_MEMORY, "audit: out of memory");
    return CLM_OK;
}

clm_err store_audit_append(store_txn *txn, const store_audit_event *ev, uint64_t *sequence)
{
    Clm__Store__V1__AuditRecord rec = CLM__STORE__V1__AUDIT_RECORD__INIT;
    unsigned char prev[STORE_AUDIT_HASH_LEN], hash[STORE_AUDIT_HASH_LEN], key[8];
    unsigned char head[HEAD_LEN];
    clm_buf value = CLM_BUF_INIT;
    uint64_t last;
    size_t size;
    clm_err err;

    if (txn == NULL || ev == NULL || !store_txn_writable(txn))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "audit: an event and a write transaction "
                                                  "are required");
    err = read_head(txn, &last, prev);
    if (err != CLM_OK)
        return err;
    rec.sequence = last + 1;
    rec.time_unix_nanos = clm_clock_now_ns(store_clock(store_txn_store(txn)));
    rec.identity = (char *)(ev->identity ? ev->identity : "");
    rec.role = ev->role;
    rec.method = (char *)(ev->method ? ev->method : "");
    rec.target = (char *)(ev->target ? ev->target : "");
    rec.outcome = (char *)(ev->outcome ? ev->outcome : "");
    size = protobuf_c_message_get_packed_size(&rec.base);
    if (clm_buf_reserve(&value, size + 2 * (2 + STORE_AUDIT_HASH_LEN)) != CLM_OK)
        return clm_fail(CLM_ERR_NO_MEMORY, "audit: out of memory");
    value.len = protobuf_c_message_pack(&rec.base, value.data); /* B */
    err = chain_hash(prev, value.data, value.len, hash);
    if (err == CLM_OK)
        err = append_hash_field(&value, FIELD_PREV_HASH, prev);
    if (err == CLM_OK)
        err = append_hash_field(&value, FIELD_HASH, hash);
    clm_put_be64(key, rec.sequence);
    if (err == CLM_OK)
        err = store_put_packed(txn, &audit_table, key, sizeof(key), value.data, value.len,
                               STORE_PUT_APPEND);
    clm_buf_free(&value);
    clm_put_be64(head, rec.sequence);
    memcpy(head + 8, hash, STORE_AUDIT_HASH_LEN);
    if (err == CLM_OK)
        err = store_meta_put(txn, HEAD_NAME, head, sizeof(head));
    if (err != CLM_OK)
        return clm_error_context(err, "audit append");
    if (sequence != NULL)
        *sequence = rec.sequence;
    return CLM_OK;
}

typedef struct record_call {
    const store_audit_event *event;
    uint64_t *sequence;
} record_call;

static clm_err record_fn(store_txn *txn, void *arg)
{
    record_call *call = arg;
    return store_audit_append(txn, call->event, call->sequence);
}

clm_err store_audit_record(store *st, const store_audit_event *event, uint64_t *sequence)
{
    record_call call = {event, sequence};
    return store_update(st, record_fn, &call);
}

/* Run fn in a read transaction the growth gate treats as long-lived: listing or verifying
 * a long chain must not hold other readers back while a growth waits for it. */
static clm_err view_long(store *st, store_txn_fn fn, void *arg)
{
    store_txn *txn;
    clm_err err = store_read_begin(st, &txn);

    if (err != CLM_OK)
        return err;
    err = fn(txn, arg);
    store_txn_end(txn);
    return err;
}

typedef struct list_call {
    uint64_t after;
    size_t limit;
    store_audit_fn fn;
    void *arg;
} list_call;

static clm_err list_txn(store_txn *txn, void *arg)
{
    list_call *call = arg;
    unsigned char start[8];
    store_iter *it;
    bool stop = false;
    clm_err err;

    if (call->after == UINT64_MAX)
        return CLM_OK;
    clm_put_be64(start, call->after + 1);
    err = store_iter_open(txn, &audit_table, NULL, 0, &it);
    if (err == CLM_OK)
        err = store_iter_seek(it, start, sizeof(start), NULL, 0);
    for (size_t n = 0; err == CLM_OK && !stop && (call->limit == 0 || n < call->limit); n++) {
        ProtobufCMessage *rec;

        err = store_item_unpack(&audit_table, store_iter_item(it), &rec);
        if (err != CLM_OK)
            break;
        err = call->fn(call->arg, (const Clm__Store__V1__AuditRecord *)rec, &stop);
        protobuf_c_message_free_unpacked(rec, NULL);
        if (err != CLM_OK) {
            store_iter_close(it);
            return err;
        }
        if (!stop)
            err = store_iter_next(it);
    }
    store_iter_close(it);
    return err == CLM_ERR_NOT_FOUND ? CLM_OK : err;
}

clm_err store_audit_list(store *st, uint64_t after_sequence, size_t limit, store_audit_fn fn,
                         void *arg)
{
    list_call call = {after_sequence, limit, fn, arg};

    if (fn == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "store_audit_list: no callback");
    return view_long(st, list_txn, &call);
}

static void bad(store_audit_verify_result *r, uint64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void bad(store_audit_verify_result *r, uint64_t seq, const char *fmt, ...)
{
    va_list ap;

    r->ok = false;
    r->first_bad_sequence = seq;
    va_start(ap, fmt);
    vsnprintf(r->problem, sizeof(r->problem), fmt, ap);
    va_end(ap);
}

/* Check one entry against the expected sequence and link; a problem goes to r. */
static clm_err verify_entry(const store_item *item, uint64_t expect, unsigned char *prev,
                            clm_buf *body, store_audit_verify_result *r)
{
    Clm__Store__V1__AuditRecord *rec = NULL;
    unsigned char hash[STORE_AUDIT_HASH_LEN];
    uint64_t seq = item->key_len == 8 ? clm_get_be64(item->key) : 0;
    clm_err err;

    if (seq != expect) {
        bad(r, expect, "entry %" PRIu64 " is missing (the next entry is %" PRIu64 ")", expect, seq);
        return CLM_OK;
    }
    if (strip_hash_fields(item->value, item->value_len, body) != CLM_OK ||
        (rec = clm__store__v1__audit_record__unpack(NULL, item->value_len, item->value)) == NULL) {
        bad(r, seq, "entry %" PRIu64 " does not parse (altered)", seq);
        return CLM_OK;
    }
    err = chain_hash(prev, body->data, body->len, hash);
    if (err == CLM_OK) {
        if (rec->sequence != seq)
            bad(r, seq, "entry %" PRIu64 " carries sequence %" PRIu64 " (altered)", seq,
                rec->sequence);
        else if (rec->prev_hash.len != STORE_AUDIT_HASH_LEN ||
                 memcmp(rec->prev_hash.data, prev, STORE_AUDIT_HASH_LEN) != 0)
            bad(r, seq,
                "entry %" PRIu64 " does not link to the entry before it (an entry was "
                "removed or replaced)",
                seq);
        else if (rec->hash.len != STORE_AUDIT_HASH_LEN ||
                 memcmp(rec->hash.data, hash, STORE_AUDIT_HASH_LEN) != 0)
            bad(r, seq, "entry %" PRIu64 " does not match its hash (altered)", seq);
        else
            memcpy(prev, hash, STORE_AUDIT_HASH_LEN);
    }
    clm__store__v1__audit_record__free_unpacked(rec, NULL);
    return err;
}

static clm_err verify_txn(store_txn *txn, void *arg)
{
    store_audit_verify_result *r = arg;
    unsigned char prev[STORE_AUDIT_HASH_LEN] = {0};
    clm_buf body = CLM_BUF_INIT;
    uint64_t expect = 1;
    store_iter *it;
    clm_err err = read_head(txn, &r->head_sequence, r->head_hash);

    if (err == CLM_OK)
        err = store_iter_open(txn, &audit_table, NULL, 0, &it);
    if (err != CLM_OK)
        return err;
    for (err = store_iter_first(it); err == CLM_OK && r->ok; err = store_iter_next(it)) {
        err = verify_entry(store_iter_item(it), expect, prev, &body, r);
        if (err != CLM_OK || !r->ok)
            break;
        r->entries_checked++;
        expect++;
    }
    store_iter_close(it);
    clm_buf_free(&body);
    if (err != CLM_OK && err != CLM_ERR_NOT_FOUND)
        return err;
    if (r->ok && r->head_sequence != expect - 1)
        bad(r, r->head_sequence > expect - 1 ? expect : r->head_sequence,
            "the head names entry %" PRIu64 " but the chain ends at %" PRIu64 " (entries "
            "at the end were removed, or the head was altered)",
            r->head_sequence, expect - 1);
    else if (r->ok && memcmp(r->head_hash, prev, STORE_AUDIT_HASH_LEN) != 0)
        bad(r, r->head_sequence, "the head hash does not match entry %" PRIu64 " (altered)",
            r->head_sequence);
    return CLM_OK;
}

clm_err store_audit_verify(store *st, store_audit_verify_result *result)
{
    memset(result, 0, sizeof(*result));
    result->ok = true;
    return view_long(st, verify_txn, result);
}
