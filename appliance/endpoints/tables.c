/* appliance/endpoints/tables.c: index key functions of the endpoint tables. */
#include "appliance/endpoints/tables.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "appliance/inventory/groups.h"
#include "lib/base/buf.h"

size_t endpoint_key(const char *address, unsigned port, const char *sni,
                    char out[ENDPOINT_KEY_MAX])
{
    int n = snprintf(out, ENDPOINT_KEY_MAX, "%s|%u|%s", address, port, sni ? sni : "");

    if (n < 0 || n >= ENDPOINT_KEY_MAX)
        return 0;
    for (int i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)out[i]);
    return (size_t)n;
}

clm_err endpoints_unpack(clm_arena *arena, const store_table *table, const store_item *item,
                         ProtobufCMessage **out)
{
    *out = inventory_unpack(arena, table, item);
    return *out ? CLM_OK : clm_fail(CLM_ERR_STORE, "%s: a record does not unpack", table->name);
}

void validation_result_key(int64_t checked_at_ns, uint64_t binding_id, unsigned char key[16])
{
    clm_put_be64(key, (uint64_t)checked_at_ns);
    clm_put_be64(key + 8, binding_id);
}

#define ENDPOINT(r) ((const Clm__Store__V1__EndpointRecord *)(r))
#define BINDING(r) ((const Clm__Store__V1__BindingRecord *)(r))

static clm_err key_endpoint(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    char key[ENDPOINT_KEY_MAX];
    size_t n = endpoint_key(ENDPOINT(r)->address[0] ? ENDPOINT(r)->address : ENDPOINT(r)->host,
                            ENDPOINT(r)->port, ENDPOINT(r)->sni, key);

    (void)arg;
    if (n == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "endpoint: key too long");
    return store_keys_add(keys, key, n);
}

static clm_err key_leaf(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    (void)arg;
    return ENDPOINT(r)->leaf_sha256.len == 32
               ? store_keys_add(keys, ENDPOINT(r)->leaf_sha256.data, 32)
               : CLM_OK;
}

static clm_err key_target(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    unsigned char key[8 + ENDPOINT_KEY_MAX];
    size_t n = endpoint_key(BINDING(r)->host, BINDING(r)->port, BINDING(r)->sni,
                            (char *)key + 8);

    (void)arg;
    if (n == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "binding: key too long");
    clm_put_be64(key, BINDING(r)->certificate_id);
    return store_keys_add(keys, key, 8 + n);
}

static clm_err key_certificate(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    unsigned char key[8];

    (void)arg;
    clm_put_be64(key, BINDING(r)->certificate_id);
    return store_keys_add(keys, key, 8);
}

static const store_index endpoint_indexes[] = {
    {"endpoint", STORE_INDEX_UNIQUE, 1, key_endpoint, NULL},
    {"leaf", 0, 1, key_leaf, NULL},
};

static const store_index binding_indexes[] = {
    {"target", STORE_INDEX_UNIQUE, 1, key_target, NULL},
    {"certificate", 0, 1, key_certificate, NULL},
};

const store_table endpoint_table = {"endpoints", &clm__store__v1__endpoint_record__descriptor,
                                    endpoint_indexes, 2};
const store_table binding_table = {"bindings", &clm__store__v1__binding_record__descriptor,
                                   binding_indexes, 2};
const store_table validation_result_table = {
    "validation_results", &clm__store__v1__validation_result_record__descriptor, NULL, 0};
