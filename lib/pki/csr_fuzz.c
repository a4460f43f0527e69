/*
 * lib/pki/csr_fuzz.c: fuzz target for the reader of uploaded certificate requests
 * (pki_csr_parse: PEM or DER, signature check, facts). On any input: no crash, no leak.
 */
#include "lib/pki/csr.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pki_facts *facts = NULL;

    if (pki_csr_parse(data, size, &facts) == CLM_OK && facts == NULL)
        abort();
    pki_facts_free(facts);
    return 0;
}
