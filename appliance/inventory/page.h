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

#endif
