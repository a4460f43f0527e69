/*
 * lib/pki/facts_fuzz.c: fuzz target for the fast certificate reader (x509_fast.c). On
 * any input: no crash, no leak, and when both the fast path and the OpenSSL path accept
 * the bytes, every fact is equal (else abort, with the differing field on stderr).
 * With FACTS_FUZZ_STRICT=1 in the environment it also aborts when the fast path accepts
 * bytes that OpenSSL rejects.
 */
#include "lib/base/error.h"
#include "lib/pki/facts.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int strict = -1;
    pki_facts *fast = NULL, *slow = NULL, *any = NULL;
    char why[1024];
    clm_err ef, es;

    if (strict < 0)
        strict = getenv("FACTS_FUZZ_STRICT") != NULL;
    ef = pki_facts_from_der_fast(data, size, &fast);
    es = pki_facts_from_der_openssl(data, size, &slow);
    if (ef == CLM_OK && es == CLM_OK && !pki_facts_equal(fast, slow, why, sizeof why)) {
        fprintf(stderr, "facts_fuzz: the paths differ: %s\n", why);
        abort();
    }
    if (strict && ef == CLM_OK && es != CLM_OK) {
        fprintf(stderr, "facts_fuzz: the fast path accepts what OpenSSL rejects\n");
        abort();
    }
    if (pki_facts_from_der(data, size, &any) == CLM_OK && any == NULL)
        abort();
    pki_facts_free(fast);
    pki_facts_free(slow);
    pki_facts_free(any);
    return 0;
}
