/*
 * appliance/inventory/import_queue.h: group commit of certificate imports.
 *
 * Every durable commit costs a sync and rewrites the B-tree pages it dirtied; for
 * requests of 1,000 certificates that cost, not parsing, bounds the ingest rate
 * (docs/benchmarks.md, Inventory). The queue lets concurrent ImportCertificates
 * requests share commits: the caller's thread parses a request (inventory_import_prepare)
 * and queues it; one writer thread takes everything queued (up to max_certs_per_txn
 * certificates), applies the requests in arrival order in ONE write transaction, and
 * after the commit reports each request's outcome through its callback. So each request
 * is still answered only once it is durable, and still stored whole or not at all: when
 * one request fails inside the shared transaction, the transaction is aborted, that
 * request gets its error, and the others are written again without it.
 *
 * After a commit of several requests, the writer waits a little (an eighth of that
 * commit, at most 25 ms) for the clients it just answered to send their next requests,
 * so that they share the next commit instead of queueing behind it: with 4 clients of
 * one request each, 2 requests per commit became 3. A lone client never waits.
 *
 * Other writes of one certificate each (import_queue_submit_write: Connectors.Issue's
 * record) share the same groups, so concurrent issues share a commit too.
 *
 * Caveats
 *   - The callback runs on the writer thread, outside any transaction; it may call
 *     store_update() but MUST NOT block for long (the next group waits for it).
 *   - Submitting blocks the caller while the queue holds more than max_certs_per_txn
 *     certificates (backpressure on the API threads). So parsed requests in memory stay
 *     under about two groups: the one committing and the one queued (each parsed
 *     certificate holds its DER, facts and result: a few KB).
 *   - Larger groups write less per certificate (docs/benchmarks.md: 10,000 per
 *     transaction is 1.9x the rate of 1,000, 50,000 is 2.7x) but hold more memory and
 *     dirty pages; LMDB refuses a transaction past about 128k dirty pages.
 *   - After a group of 2,000 certificates or more, once the queue has been idle for a
 *     second, the writer calls store_release_memory() and malloc_trim(): LMDB keeps the
 *     page buffers of its largest write transaction (about 180 MiB for a group of 10,000
 *     at 1,000,000 certificates) until the environment is reopened.
 *   - import_queue_free() writes and reports everything queued before it returns.
 */
#ifndef CLM_APPLIANCE_INVENTORY_IMPORT_QUEUE_H
#define CLM_APPLIANCE_INVENTORY_IMPORT_QUEUE_H

#include "appliance/inventory/certs.h"

typedef struct import_queue import_queue;

/**
 * Called once per submitted request with its outcome: CLM_OK (the request's
 * certificates and audit entry are committed; its response is filled) or the error,
 * with `message` naming the cause (valid during the call only).
 */
typedef void (*import_done_fn)(void *arg, clm_err err, const char *message);

/**
 * Another write that shares the group's transaction (Connectors.Issue's certificate
 * record): a store_update() callback, so it MAY run more than once (after the map grows,
 * or again without a failed neighbour) and MUST touch nothing but the transaction and
 * what its arg owns. Its error fails only its own submission.
 */
typedef clm_err (*import_write_fn)(store_txn *txn, void *arg);

/** Certificates per shared transaction when the caller gives 0. */
#define IMPORT_QUEUE_DEFAULT_CERTS_PER_TXN 10000

/**
 * @brief Create the queue and start its writer thread.
 * @param[in] st the store, borrowed: it MUST outlive the queue.
 * @param[in] max_certs_per_txn a group stops growing at this many certificates (a
 *            single larger request still goes alone); 0: IMPORT_QUEUE_DEFAULT_CERTS_PER_TXN.
 * @param[out] out free with import_queue_free().
 * @return CLM_OK, CLM_ERR_NO_MEMORY, CLM_ERR_INTERNAL (no thread).
 */
clm_err import_queue_new(store *st, size_t max_certs_per_txn, import_queue **out);

/**
 * @brief Write everything queued, report it, stop the writer and free the queue.
 * Accepts NULL. No import_queue_submit() may run or follow.
 */
void import_queue_free(import_queue *queue);

/**
 * @brief Parse a validated request on the calling thread, then queue it for the writer.
 * On CLM_OK, `done` is called exactly once, from the writer thread, or from this thread
 * before the return when the request has nothing to write (every item failed to parse).
 * @param[in] ctx, req, resp as for inventory_import_prepare(): borrowed until `done`.
 * @return CLM_OK (queued or done); CLM_ERR_NO_MEMORY (then `done` is not called and
 *         nothing was written).
 * Thread rules: any thread, concurrently.
 */
clm_err import_queue_submit(import_queue *queue, const import_context *ctx,
                            const Clm__V1__ImportCertificatesRequest *req,
                            Clm__V1__ImportCertificatesResponse *resp, import_done_fn done,
                            void *arg);

/**
 * @brief Queue a write (one certificate's worth) for the writer's next shared
 * transaction; `done` is called exactly once from the writer thread after the commit
 * (CLM_OK: durable) or with the write's error (nothing of it written).
 * @param[in] write_arg, arg borrowed until `done`.
 * @return CLM_OK (queued); CLM_ERR_INVALID_ARGUMENT (no write or done);
 *         CLM_ERR_NO_MEMORY (then `done` is not called).
 * Thread rules: any thread, concurrently; blocks while the queue is full.
 */
clm_err import_queue_submit_write(import_queue *queue, import_write_fn write, void *write_arg,
                                  import_done_fn done, void *arg);

#endif
