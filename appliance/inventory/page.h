/*
 * appliance/inventory/page.h: page sizes and page tokens of List RPCs.
 *
 * A page token is the position of the first entry of the next page, (index key,
 * primary key), hex-encoded: "<hex index key>.<hex primary key>". Resuming seeks to
 * the first entry at or after that position, so pages stay correct while writes happen
 * (keyset paging): nothing is returned twice and nothing present throughout is skipped.
 */
#ifndef CLM_APPLIANCE_INVENTORY_PAGE_H
#define CLM_APPLIANCE_INVENTORY_PAGE_H

#include <stddef.h>

#include "lib/base/arena.h"
#include "lib/base/error.h"
#include "store/store.h"

#define PAGE_DEFAULT_SIZE 100
#define PAGE_MAX_SIZE 1000

typedef struct page_position {
    unsigned char key[STORE_KEY_MAX];
    size_t key_len;
    unsigned char primary[STORE_KEY_MAX];
    size_t primary_len;
} page_position;

/** @return the page size to use; CLM_ERR_INVALID_ARGUMENT naming page_size when too big. */
clm_err page_size_of(unsigned requested, size_t *size);

/** @return a token for `next`, the first entry not returned (NULL when out of memory). */
char *page_token_encode(clm_arena *arena, const store_item *next);

/**
 * @brief Parse a token ("" means the first page: *present = 0).
 * @return CLM_OK or CLM_ERR_INVALID_ARGUMENT naming page_token.
 */
clm_err page_token_decode(const char *token, page_position *pos, int *present);

/**
 * @brief Position `it` at the first entry at or after `pos` (the first entry when
 * !present).
 * @return CLM_OK, CLM_ERR_NOT_FOUND when nothing follows, or a store error.
 */
clm_err page_resume(store_iter *it, const page_position *pos, int present);

/**
 * Called for each record of a page: `i` is its place in the page (0 first), `size` the
 * page size (a callback allocates its reply array of `size` at i == 0); `record` is
 * unpacked into the call's arena. Return an error to stop the listing with it.
 */
typedef clm_err (*page_record_fn)(store_txn *txn, ProtobufCMessage *record, size_t i,
                                  size_t size, void *arg);

/**
 * @brief One page of a table in the order of one of its indexes (keyset paging as
 * above): the shared loop of the unfiltered List RPCs.
 * @param[out] next_token the token of the next page (arena), NULL when none follows.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming page_size or page_token;
 *         CLM_ERR_STORE (a record that does not unpack); the callback's error.
 */
clm_err page_list(store_txn *txn, clm_arena *arena, const store_table *table,
                  const store_index *index, unsigned page_size, const char *page_token,
                  page_record_fn each, void *arg, char **next_token);

#endif
