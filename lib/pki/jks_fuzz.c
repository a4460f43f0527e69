/*
 * lib/pki/jks_fuzz.c: fuzz target for the JKS reader (read_jks.c; seeds made by keytool,
 * store password "changeit"). A mutated keystore almost never keeps its keyed SHA-1
 * digest, and the entries are only read after that check: so the target seals every
 * input with the right digest first (the last 20 bytes), and the mutations reach the
 * entry parser and the key decoder. On any input: no crash, no leak, and every
 * certificate item goes through pki_facts_from_der().
 */
#include "lib/pki/facts.h"
#include "lib/pki/read.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void seal(unsigned char *jks, size_t size)
{
    static const unsigned char password[] = {0, 'c', 0, 'h', 0, 'a', 0, 'n',
                                             0, 'g', 0, 'e', 0, 'i', 0, 't'};
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;

    if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
        EVP_DigestUpdate(ctx, password, sizeof password) == 1 &&
        EVP_DigestUpdate(ctx, "Mighty Aphrodite", 16) == 1 &&
        EVP_DigestUpdate(ctx, jks, size - 20) == 1)
        EVP_DigestFinal_ex(ctx, jks + size - 20, &n);
    EVP_MD_CTX_free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pki_read_options options = {"fuzz", "changeit", 0, 1000, PKI_FORMAT_JKS};
    pki_read_result result;
    unsigned char *copy = malloc(size ? size : 1);

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    if (size >= 32)
        seal(copy, size);
    if (pki_read(copy, size, &options, &result) == CLM_OK && result.n_certs + result.n_keys == 0)
        abort();
    for (size_t i = 0; i < result.n_items; i++) {
        pki_facts *facts = NULL;
        if (result.items[i].kind == PKI_ITEM_CERT && result.items[i].err == CLM_OK)
            pki_facts_from_der(result.items[i].der, result.items[i].der_len, &facts);
        pki_facts_free(facts);
    }
    pki_read_result_free(&result);
    free(copy);
    return 0;
}
