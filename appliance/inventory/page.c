/* appliance/inventory/page.c: keyset page tokens. */
#include "appliance/inventory/page.h"

#include <string.h>

#include "appliance/inventory/groups.h"
#include "lib/base/buf.h"

clm_err page_size_of(unsigned requested, size_t *size)
{
    if (requested > PAGE_MAX_SIZE)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "page_size: %u is more than %d", requested,
                        PAGE_MAX_SIZE);
    *size = requested ? requested : PAGE_DEFAULT_SIZE;
    return CLM_OK;
}

char *page_token_encode(clm_arena *arena, const store_item *next)
{
    const unsigned char *key = next->index_key ? next->index_key : next->key;
    size_t key_len = next->index_key ? next->index_key_len : next->key_len;
    char *token = clm_arena_alloc(arena, 2 * key_len + 2 * next->key_len + 2);

    if (token == NULL)
        return NULL;
    clm_hex_encode(token, key, key_len);
    token[2 * key_len] = '.';
    clm_hex_encode(token + 2 * key_len + 1, next->key, next->key_len);
    return token;
}

/* Tokens are made lower-case (clm_hex_encode): only that spelling is taken back. */
static int hex_value(char c)
{
    return c >= 'A' && c <= 'F' ? -1 : clm_hex_value(c);
}

static int hex_decode(const char *text, size_t len, unsigned char *out, size_t *out_len)
{
    if (len % 2 != 0 || len / 2 > STORE_KEY_MAX)
        return 0;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    *out_len = len / 2;
    return 1;
}

clm_err page_token_decode(const char *token, page_position *pos, int *present)
{
    const char *dot = strchr(token, '.');

    *present = 0;
    if (token[0] == '\0')
        return CLM_OK;
    if (dot == NULL || !hex_decode(token, (size_t)(dot - token), pos->key, &pos->key_len) ||
        !hex_decode(dot + 1, strlen(dot + 1), pos->primary, &pos->primary_len) ||
        pos->key_len == 0 || pos->primary_len == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "page_token: malformed; pass the next_page_token of the previous reply");
    *present = 1;
    return CLM_OK;
}

clm_err page_resume(store_iter *it, const page_position *pos, int present)
{
    if (!present)
        return store_iter_first(it);
    return store_iter_seek(it, pos->key, pos->key_len, pos->primary, pos->primary_len);
}

clm_err page_list(store_txn *txn, clm_arena *arena, const store_table *table,
                  const store_index *index, unsigned page_size, const char *page_token,
                  page_record_fn each, void *arg, char **next_token)
{
    page_position pos;
    store_iter *it;
    size_t size = 0, n = 0;
    int present;
    clm_err err;

    *next_token = NULL;
    if ((err = page_size_of(page_size, &size)) != CLM_OK ||
        (err = page_token_decode(page_token, &pos, &present)) != CLM_OK)
        return err;
    if ((err = store_iter_open(txn, table, index, 0, &it)) != CLM_OK)
        return err;
    for (err = page_resume(it, &pos, present); err == CLM_OK; err = store_iter_next(it)) {
        const store_item *item = store_iter_item(it);
        ProtobufCMessage *record;
        if (n == size) {
            *next_token = page_token_encode(arena, item);
            break;
        }
        if ((record = inventory_unpack(arena, table, item)) == NULL) {
            err = clm_fail(CLM_ERR_STORE, "%s: a record does not unpack", table->name);
            break;
        }
        if ((err = each(txn, record, n++, size, arg)) != CLM_OK)
            break;
    }
    store_iter_close(it);
    if (err == CLM_ERR_NOT_FOUND) { /* the end of the index */
        clm_error_clear();
        err = CLM_OK;
    }
    return err;
}
