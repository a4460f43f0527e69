/*
 * appliance/workorders/internal.h: what the files of appliance/workorders/ share (not a
 * public contract: use workorders.h).
 */
#ifndef CLM_APPLIANCE_WORKORDERS_INTERNAL_H
#define CLM_APPLIANCE_WORKORDERS_INTERNAL_H

#include "appliance/workorders/workorders.h"
#include "lib/base/buf.h"
#include "lib/pki/csr.h"

/** The key a request asks for (key_type "EC"/"RSA" and key_bits; defaults EC 256, RSA 2048).
 *  @return CLM_OK or CLM_ERR_INVALID_ARGUMENT naming "<prefix>key_type"/"key_bits". */
clm_err wo_key_type_of(const Clm__V1__CsrParameters *c, const char *prefix, pki_key_type *out);

/** The hash a request asks for ("": SHA256). @return CLM_ERR_INVALID_ARGUMENT naming it. */
clm_err wo_hash_of(const Clm__V1__CsrParameters *c, const char *prefix, pki_hash *out);

/**
 * pki_csr_fields over the request's parameters (borrowed; `sans` joined into `sans_buf`,
 * which the caller frees). `password` overrides c->challenge_password (the unsealed one);
 * NULL: none.
 */
clm_err wo_csr_fields(const Clm__V1__CsrParameters *c, const char *password, clm_buf *sans_buf,
                      pki_csr_fields *out);

/** The validity asked for, in days (0: the CA's default). */
uint32_t wo_validity_days(const Clm__V1__EnrollmentRequest *r);

/** "WO-%06llu" and "REQ-%06llu" (arena). */
char *wo_id_text(clm_arena *arena, const char *prefix, uint64_t id);

/** Put a record back (write txn): index entries follow. */
clm_err wo_put(store_txn *txn, Clm__Store__V1__WorkOrderRecord *r);

/** Load `id`, apply `action` as ctx->actor, store and audit; in the caller's txn. */
clm_err wo_step_in(store_txn *txn, const workorder_context *ctx, Clm__Store__V1__WorkOrderRecord *r,
                   workorder_action action, const char *comment, int64_t at_ns);

#endif
