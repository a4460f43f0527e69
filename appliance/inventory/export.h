/*
 * appliance/inventory/export.h: a certificate out of the inventory as PEM, DER,
 * PKCS#7 or PKCS#12, with its chain (followed through AKI -> SKI in the inventory)
 * and, for admins, its private key under a password.
 */
#ifndef CLM_APPLIANCE_INVENTORY_EXPORT_H
#define CLM_APPLIANCE_INVENTORY_EXPORT_H

#include "clm/store/v1/inventory.pb-c.h"
#include "clm/v1/inventory.pb-c.h"
#include "lib/base/arena.h"
#include "lib/base/buf.h"
#include "store/seal.h"
#include "store/store.h"

#define EXPORT_MAX_CHAIN 10
#define EXPORT_PASSWORD_MIN 8

/**
 * @brief Check the request's format, password and key flags.
 * @return CLM_OK or CLM_ERR_INVALID_ARGUMENT naming the field.
 */
clm_err export_validate(const Clm__V1__ExportCertificateRequest *req);

/**
 * @brief The issuers of `leaf` found in the inventory, nearest first.
 * @param[out] chain records in the arena; at most EXPORT_MAX_CHAIN.
 */
clm_err export_chain(store_txn *txn, clm_arena *arena, const Clm__Store__V1__CertificateRecord *leaf,
                     Clm__Store__V1__CertificateRecord **chain, size_t *n_chain);

/**
 * @brief Encode the export. The private key (when asked) is opened with `seal` and
 * never leaves this function unencrypted.
 * @param[out] out the file's bytes (appended). Wipe it after use when it holds a key.
 * @return CLM_OK; CLM_ERR_NOT_FOUND when a key is asked for and none is stored;
 *         CLM_ERR_CRYPTO; CLM_ERR_NO_MEMORY.
 */
clm_err export_encode(const Clm__V1__ExportCertificateRequest *req,
                      const Clm__Store__V1__CertificateRecord *leaf,
                      Clm__Store__V1__CertificateRecord *const *chain, size_t n_chain,
                      const seal_key *seal, clm_buf *out);

#endif
