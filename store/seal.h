/*
 * store/seal.h: sealed secrets (private keys, passwords, tokens) at rest.
 *
 * A secret is sealed with AES-256-GCM under the appliance master key before it
 * reaches the store, and opened only where it is used. The master key is 32 random
 * bytes in DATA_DIR/master.key (mode 0600), created on first use; it is not in the
 * store, so a backup of the store alone does not reveal secrets (back the key up
 * separately, and keep it secret).
 *
 * Sealed blob layout (version 1): 0x01 || nonce (12 bytes, random) || ciphertext ||
 * tag (16 bytes). The associated data binds a blob to its record (for example
 * "cert-key:" + fingerprint), so a blob copied onto another record does not open.
 *
 * Memory: opened secrets are in a clm_buf the caller MUST release with clm_buf_wipe().
 * Thread rules: a seal_key may be used from any thread once loaded.
 */
#ifndef CLM_STORE_SEAL_H
#define CLM_STORE_SEAL_H

#include <stddef.h>

#include "lib/base/buf.h"
#include "lib/base/error.h"

#define SEAL_KEY_BYTES 32
#define SEAL_OVERHEAD (1 + 12 + 16)

typedef struct seal_key seal_key;

/**
 * @brief Load DATA_DIR/master.key, creating it (0600, atomically) when missing.
 * @return CLM_OK; CLM_ERR_IO; CLM_ERR_STORE when the file is not 32 bytes or is
 *         readable by group or others (a leaked key must not be used silently);
 *         CLM_ERR_NO_MEMORY.
 */
clm_err seal_key_load(const char *data_dir, seal_key **key);

/** Wipe and free. NULL is fine. */
void seal_key_free(seal_key *key);

/**
 * @brief Seal `len` bytes with associated data `aad` (a NUL-terminated label).
 * @param[out] out receives SEAL_OVERHEAD + len bytes (appended).
 * @return CLM_OK; CLM_ERR_CRYPTO; CLM_ERR_NO_MEMORY.
 */
clm_err seal(const seal_key *key, const char *aad, const void *plain, size_t len, clm_buf *out);

/**
 * @brief Open a sealed blob.
 * @param[out] out receives the secret (appended); release it with clm_buf_wipe().
 * @return CLM_OK; CLM_ERR_CRYPTO when the blob was altered, sealed under another key
 *         or with other associated data; CLM_ERR_PARSE for a malformed blob.
 */
clm_err seal_open(const seal_key *key, const char *aad, const void *blob, size_t len,
                  clm_buf *out);

#endif
