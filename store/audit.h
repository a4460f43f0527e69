/*
 * store/audit.h: the append-only audit log, chained with SHA-256.
 *
 * Every write RPC appends one entry: who (the peer identity and role), what (the method
 * and its target), when (the store's clock) and the outcome. The entry of a successful
 * write is appended with store_audit_append() inside the write's own store_update(), so
 * the change and its audit entry commit together or not at all. A failed write has no
 * transaction left to join: its entry is appended with store_audit_record(), which runs its
 * own transaction.
 *
 * The chain (the canonical definition; clm.store.v1.AuditRecord in records.proto):
 *   - Entry n (n = 1, 2, ...) is stored under the key be64(n). Its value is
 *       V = B || field 8 (prev_hash, 32 bytes) || field 9 (hash, 32 bytes)
 *     where B is the protobuf serialization of the record with prev_hash and hash empty.
 *   - hash(n) = SHA-256(prev_hash(n) || strip(V)), where strip(V) is V with every field
 *     numbered 8 or 9 removed at the wire level (that is, B). prev_hash(1) is 32 zero
 *     bytes; prev_hash(n) = hash(n - 1).
 *     The hash covers the stored bytes themselves: verification never re-serializes, so
 *     it does not depend on the protobuf library or on fields added later.
 *   - The head, meta "audit_head" = be64(last sequence) || hash(last), is updated in the
 *     same transaction as each append, so removing the last entries is detected too.
 * store_audit_verify() detects an altered entry (its hash no longer matches), a removed or
 * reordered entry (a gap in the sequence or a broken prev_hash link) and removed tail
 * entries (the head names a later entry). It cannot detect a rewrite of the whole chain
 * and head by someone with write access to data.mdb: export the head hash elsewhere
 * (clmctl) to anchor it.
 *
 * Thread rules: as store.h. Memory: records passed to callbacks live for the call only.
 */
#ifndef CLM_STORE_AUDIT_H
#define CLM_STORE_AUDIT_H

#include "clm/store/v1/records.pb-c.h"
#include "lib/base/error.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_AUDIT_HASH_LEN 32

/** One audited action. Strings are borrowed for the call; NULL reads as "". */
typedef struct store_audit_event {
    const char *identity; /* who: the peer identity (certificate subject, unix user) */
    int32_t role;         /* the caller's clm.v1.Role */
    const char *method;   /* what: the full RPC method name */
    const char *target;   /* what: the record or resource acted on */
    const char *outcome;  /* "ok", or the error name and message */
} store_audit_event;

/**
 * @brief Append an entry to the audit chain inside a write transaction.
 * @param[in] txn the write transaction of the audited change.
 * @param[in] event what to record; the time comes from the store's clock.
 * @param[out] sequence the entry's sequence number; may be NULL.
 * @return CLM_OK, CLM_ERR_INVALID_ARGUMENT (read-only txn, no event), CLM_ERR_STORE
 *   (damaged head), CLM_ERR_CRYPTO, CLM_ERR_NO_MEMORY, CLM_ERR_STORE_FULL (store_update
 *   retries).
 */
clm_err store_audit_append(store_txn *txn, const store_audit_event *event, uint64_t *sequence);

/**
 * @brief Append an entry in a transaction of its own (for writes that failed).
 * @return as store_audit_append() and store_update().
 */
clm_err store_audit_record(store *st, const store_audit_event *event, uint64_t *sequence);

/**
 * Called for each listed entry. The record lives for the call. Return CLM_OK to go on (set
 * *stop to end early) or an error to end the listing with it.
 */
typedef clm_err (*store_audit_fn)(void *arg, const Clm__Store__V1__AuditRecord *record, bool *stop);

/**
 * @brief List entries with a sequence greater than after_sequence, oldest first, from one
 * snapshot.
 * @param[in] limit at most this many; 0 = all.
 * @return CLM_OK, the callback's error, CLM_ERR_STORE (an entry does not parse).
 */
clm_err store_audit_list(store *st, uint64_t after_sequence, size_t limit, store_audit_fn fn,
                         void *arg);

typedef struct store_audit_verify_result {
    bool ok;                     /* the whole chain and the head check out */
    uint64_t entries_checked;    /* entries verified before the first problem (all if ok) */
    uint64_t first_bad_sequence; /* the first entry that is altered or missing; 0 if ok */
    uint64_t head_sequence;      /* the last sequence as the head records it */
    unsigned char head_hash[STORE_AUDIT_HASH_LEN]; /* the head hash, to anchor elsewhere */
    char problem[256];                             /* what is wrong, for people; "" if ok */
} store_audit_verify_result;

/**
 * @brief Verify the whole chain in one snapshot.
 * @param[out] result filled in both cases below.
 * @return CLM_OK when the verification ran (result->ok says whether the chain is intact);
 *   CLM_ERR_BUSY, CLM_ERR_STORE, CLM_ERR_CRYPTO, CLM_ERR_NO_MEMORY when it could not run.
 */
clm_err store_audit_verify(store *st, store_audit_verify_result *result);

#endif
