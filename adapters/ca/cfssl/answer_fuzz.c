/* adapters/ca/cfssl/answer_fuzz.c: the cfssl answer reader on arbitrary bytes; what it
 * accepts keeps its promises (a printable message, a NUL-terminated certificate). */
#include "adapters/ca/cfssl/cfssl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clm_arena arena = CLM_ARENA_INIT;
    ca_cfssl_answer a;

    if (ca_cfssl_answer_parse(data, size, &arena, &a) == CLM_OK) {
        size_t n = strnlen(a.message, sizeof(a.message));
        if (n == sizeof(a.message))
            abort();
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)a.message[i] < 0x20 || (unsigned char)a.message[i] >= 0x7f)
                abort();
        if (a.certificate != NULL)
            (void)strlen(a.certificate);
    } else if (a.success || a.certificate != NULL) {
        abort(); /* a refused answer leaves nothing behind */
    }
    clm_arena_free(&arena);
    return 0;
}
