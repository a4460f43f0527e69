/* Fuzz target: inventory_read_basic() against protobuf-c's unpack of the same bytes.
 * Whatever protobuf-c accepts as a CertificateRecord, the BASIC reader must read with
 * the same values; on anything else it may refuse, and never reads out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/inventory/basic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_bytes(ProtobufCBinaryData a, ProtobufCBinaryData b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clm_arena arena = CLM_ARENA_INIT;
    Clm__Store__V1__CertificateRecord *full =
        clm__store__v1__certificate_record__unpack(NULL, size, data);
    Clm__Store__V1__CertificateRecord *basic = inventory_read_basic(&arena, data, size);

    if (full != NULL) {
        if (basic == NULL || basic->id != full->id || basic->not_before != full->not_before ||
            basic->not_after != full->not_after || basic->key_bits != full->key_bits ||
            basic->status != full->status || basic->group_id != full->group_id ||
            !same_bytes(basic->sha256, full->sha256) || !same_bytes(basic->sha1, full->sha1) ||
            strcmp(basic->subject, full->subject) != 0 || strcmp(basic->issuer, full->issuer) != 0 ||
            strcmp(basic->common_name, full->common_name) != 0 ||
            strcmp(basic->serial_hex, full->serial_hex) != 0 ||
            strcmp(basic->key_type, full->key_type) != 0)
            abort();
        clm__store__v1__certificate_record__free_unpacked(full, NULL);
    }
    clm_arena_free(&arena);
    return 0;
}
