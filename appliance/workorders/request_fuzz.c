/*
 * Fuzz target: a CreateWorkOrderRequest from the API (protobuf bytes) through
 * workorder_validate_create, which runs lib/pki's CSR field rules, the validity,
 * attachment, attribute and generic field checks. What it accepts keeps the documented
 * limits. Seeds: fuzz_corpus/workorder_fuzz/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/workorders/workorders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Clm__V1__CreateWorkOrderRequest *req;
    workorder_kind kind;

    req = clm__v1__create_work_order_request__unpack(NULL, size, data);
    if (req == NULL)
        return 0;
    if (workorder_validate_create(req) == CLM_OK) {
        const Clm__V1__EnrollmentRequest *r = req->request;
        if (strlen(req->comment) > WORKORDER_COMMENT_MAX ||
            workorder_kind_parse(req->kind, "kind", &kind) != CLM_OK)
            abort();
        if (kind == WO_KIND_ENROLL &&
            (r == NULL || r->n_attachments > WORKORDER_ATTACHMENTS_MAX ||
             (r->csr == NULL && r->csr_pem[0] == '\0') || req->connector[0] == '\0'))
            abort();
        for (size_t i = 0; r != NULL && i < r->n_attachments; i++)
            if (r->attachments[i]->data.len > WORKORDER_ATTACHMENT_MAX)
                abort();
        if (kind != WO_KIND_ENROLL && (r != NULL || req->target_sha256[0] == '\0'))
            abort();
    }
    clm__v1__create_work_order_request__free_unpacked(req, NULL);
    return 0;
}
