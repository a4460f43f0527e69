/*
 * appliance/inventory/certs.h: certificates in the inventory: import (read, extract
 * facts, merge or add, seal keys), lookup, update, delete.
 *
 * Import does the CPU work (parsing, hashing, facts) before its write transaction,
 * then writes every certificate of a request, with the audit entry, in ONE
 * transaction (which clmd shares between concurrent requests: import_queue.h): a
 * request is stored whole or not at all; per-item problems (a blob that does not
 * parse, a wrong password) are results, not failures.
 *
 * Records returned are unpacked into the caller's arena.
 */
#ifndef CLM_APPLIANCE_INVENTORY_CERTS_H
#define CLM_APPLIANCE_INVENTORY_CERTS_H

#include "clm/store/v1/inventory.pb-c.h"
#include "clm/v1/inventory.pb-c.h"
#include "lib/base/arena.h"
#include "lib/base/clock.h"
#include "lib/pki/facts.h"
#include "store/seal.h"
#include "store/store.h"

#define IMPORT_MAX_ITEMS 1000
#define ATTRIBUTE_KEY_MAX 64
#define ATTRIBUTE_VALUE_MAX 1024
#define GENERIC_FIELD_MAX 256

/** What an import needs from its caller. */
typedef struct import_context {
    store *store;
    const seal_key *seal;      /* MUST when keys are imported */
    const clm_clock *clock;
    clm_arena *arena;          /* results and scratch */
    const char *identity;      /* who imports (recorded in the source) */
    /* MAY: appends the audit entry inside the import's write transaction */
    clm_err (*audit)(store_txn *txn, void *arg);
    void *audit_arg;
} import_context;

/**
 * @brief Check an import request: item count, names, attribute sizes, status.
 * @return CLM_OK or CLM_ERR_INVALID_ARGUMENT naming the field.
 */
clm_err inventory_import_validate(const Clm__V1__ImportCertificatesRequest *req);

/**
 * @brief Import every item; fill `resp` (results in the arena).
 * @return CLM_OK (also when some items failed: see the results); CLM_ERR_NOT_FOUND
 *         when the group does not exist; store errors (then nothing was written).
 */
clm_err inventory_import(const import_context *ctx, const Clm__V1__ImportCertificatesRequest *req,
                         Clm__V1__ImportCertificatesResponse *resp);

/*
 * The two halves of inventory_import(), for callers that write several requests in one
 * transaction (import_queue.h): prepare does the CPU work on the calling thread, apply
 * the writes inside the caller's write transaction.
 */
typedef struct import_job import_job;

/**
 * @brief Parse every item of a validated request and extract facts; fills the per-item
 * results of `resp` (arena memory). Writes nothing.
 * @param[in] ctx copied into the job; what it points to (store, arena, identity, audit
 *            argument) MUST live until the job is freed.
 * @param[in] req, resp borrowed until the job is freed.
 * @param[out] out the job, freed with inventory_import_job_free().
 * @return CLM_OK (also when every item failed: see the results), CLM_ERR_NO_MEMORY.
 */
clm_err inventory_import_prepare(const import_context *ctx,
                                 const Clm__V1__ImportCertificatesRequest *req,
                                 Clm__V1__ImportCertificatesResponse *resp, import_job **out);

/** Certificates the job will write (0: nothing to write, no transaction needed). */
size_t inventory_import_job_certs(const import_job *job);

/**
 * @brief Write the job's certificates (add or merge) and its audit entry in `txn`.
 * May be run again in a new transaction after the first one aborted (it starts from
 * scratch). Any error: the caller MUST abort the transaction (some of the job's writes
 * may be in it).
 * @return CLM_OK; CLM_ERR_NOT_FOUND (the group does not exist); store errors.
 */
clm_err inventory_import_apply(store_txn *txn, import_job *job);

/** Free a job (wipes sealed keys). Accepts NULL. */
void inventory_import_job_free(import_job *job);

/**
 * @brief Parse a certificate id: 64 hex digits (SHA-256) or 40 (SHA-1), any case,
 * ':' and spaces allowed between bytes.
 * @return CLM_OK or CLM_ERR_INVALID_ARGUMENT naming `field`.
 */
clm_err inventory_parse_id(const char *text, const char *field, unsigned char *digest,
                           size_t *digest_len);

/** Find a certificate by fingerprint or thumbprint. @return CLM_ERR_NOT_FOUND naming it. */
clm_err inventory_cert_find(store_txn *txn, clm_arena *arena, const char *id,
                            Clm__Store__V1__CertificateRecord **record);

/** A certificate by id (primary key). */
clm_err inventory_cert_get(store_txn *txn, clm_arena *arena, uint64_t id,
                           Clm__Store__V1__CertificateRecord **record);

/** Write back a changed record (write txn); updated_at is set from now_ns. */
clm_err inventory_cert_put(store_txn *txn, Clm__Store__V1__CertificateRecord *record,
                           int64_t now_ns);

/** Delete a certificate and its index entries (write txn). */
clm_err inventory_cert_delete(store_txn *txn, const Clm__Store__V1__CertificateRecord *record);

/**
 * @brief Fill a record's facts fields (and sha1/sha256) from lib/pki facts; strings
 * point into `f` or the arena, so `f` must outlive the record's use.
 */
void inventory_fill_facts(clm_arena *arena, const pki_facts *f,
                          Clm__Store__V1__CertificateRecord *r);

/** Check attributes (count, key and value sizes). @return CLM_ERR_INVALID_ARGUMENT. */
clm_err inventory_check_attributes(Clm__V1__Attribute **attributes, size_t n, const char *field);

#endif
