/* adapters/ca/local/revoked_fuzz.c: the "revoked" state item parser on arbitrary bytes;
 * what it accepts must encode back to the same bytes (the format has one spelling). */
#include "adapters/ca/local/local.h"
#include "adapters/ca/local/local_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clm_arena arena = CLM_ARENA_INIT;
    ca_local_revoked *list = NULL;
    size_t n = 0;
    clm_buf again = CLM_BUF_INIT;

    if (ca_local_revoked_parse(data, size, &arena, &list, &n) == CLM_OK) {
        if (ca_local_revoked_encode(list, n, &again) != CLM_OK || again.len != size ||
            (size > 0 && memcmp(again.data, data, size) != 0))
            abort();
    }
    clm_buf_free(&again);
    clm_arena_free(&arena);
    return 0;
}
