/*
 * lib/pki/pem_fuzz.c: fuzz target for the reader of PEM (bundles, keys, PKCS#7 blocks). On any
 * input: no crash, no leak, and every certificate item it returns goes through
 * pki_facts_from_der().
 */
#include "lib/pki/facts.h"
#include "lib/pki/read.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pki_read_options options = {"fuzz", "s3cret", 0, 1000, PKI_FORMAT_PEM};
    pki_read_result result;

    if (pki_read(data, size, &options, &result) == CLM_OK && result.n_certs + result.n_keys == 0)
        abort();
    for (size_t i = 0; i < result.n_items; i++) {
        pki_facts *facts = NULL;
        if (result.items[i].kind == PKI_ITEM_CERT && result.items[i].err == CLM_OK)
            pki_facts_from_der(result.items[i].der, result.items[i].der_len, &facts);
        pki_facts_free(facts);
    }
    pki_read_result_free(&result);
    return 0;
}
