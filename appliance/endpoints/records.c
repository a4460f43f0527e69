/* appliance/endpoints/records.c: endpoint records and the probe setup (records.h). */
#include "appliance/endpoints/records.h"

#include <openssl/sha.h>
#include <string.h>

#include "appliance/endpoints/tables.h"
#include "appliance/inventory/certs.h"
#include "appliance/inventory/tables.h"

void endpoint_probe_setup_init(endpoint_probe_setup *setup, const clm_config *cfg)
{
    memset(setup, 0, sizeof(*setup));
    setup->options.n_allow = config_split_list(cfg->tls_allow, setup->storage,
                                               sizeof(setup->storage), setup->allow,
                                               CONFIG_MAX_ALLOW);
    setup->options.allow = setup->allow;
    setup->options.ca_file = cfg->tls_ca_file[0] ? cfg->tls_ca_file : NULL;
    setup->options.threads = cfg->tls_threads;
    setup->options.max_in_flight = cfg->tls_max_in_flight;
    setup->options.max_rate = cfg->tls_max_rate;
    setup->options.connect_timeout_ms = cfg->tls_connect_timeout_ms;
    setup->options.handshake_timeout_ms = cfg->tls_handshake_timeout_ms;
}

clm_err endpoint_record_find(store_txn *txn, clm_arena *arena, const char *address,
                             unsigned port, const char *sni,
                             Clm__Store__V1__EndpointRecord **record)
{
    char key[ENDPOINT_KEY_MAX];
    size_t n = endpoint_key(address, port, sni, key);
    store_item found;
    ProtobufCMessage *m;
    clm_err err;

    if (n == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "endpoint: key too long");
    err = store_index_get(txn, &endpoint_table, &endpoint_table.indexes[ENDPOINT_INDEX_ENDPOINT],
                          key, n, &found);
    if (err != CLM_OK)
        return err;
    if ((err = endpoints_unpack(arena, &endpoint_table, &found, &m)) != CLM_OK)
        return err;
    *record = (Clm__Store__V1__EndpointRecord *)m;
    return CLM_OK;
}

static void hex_to_digest(clm_arena *arena, const char *hex, ProtobufCBinaryData *out)
{
    size_t len = 0;

    out->data = clm_arena_alloc(arena, 32);
    out->len = out->data && inventory_parse_id(hex, "sha256", out->data, &len) == CLM_OK &&
                       len == 32
                   ? 32
                   : 0;
}

clm_err endpoint_record_observe(store_txn *txn, clm_arena *arena, const adapter_probe_result *r,
                                uint64_t certificate_id, const char *job, int64_t now_ns)
{
    Clm__Store__V1__EndpointRecord *e = NULL;
    unsigned char key[8];
    clm_err err;

    err = endpoint_record_find(txn, arena, r->address[0] ? r->address : r->host, r->port, r->sni,
                               &e);
    if (err == CLM_ERR_NOT_FOUND) {
        if ((e = clm_arena_alloc(arena, sizeof(*e))) == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        clm__store__v1__endpoint_record__init(e);
        if ((err = store_seq_next(txn, &endpoint_table, 1, &e->id)) != CLM_OK)
            return err;
        e->first_seen = now_ns;
    } else if (err != CLM_OK) {
        return err;
    }
    e->host = (char *)r->host;
    e->address = (char *)r->address;
    e->port = r->port;
    e->sni = (char *)(r->sni ? r->sni : "");
    e->protocol = (char *)adapter_probe_protocol_name(r->protocol);
    e->status = (char *)adapter_probe_status_name(r->status);
    e->reason = (char *)r->reason;
    e->last_checked = now_ns;
    e->last_job = (char *)job;
    if (r->status == ADAPTER_PROBE_OK) {
        e->certificate_id = certificate_id;
        e->last_ok = now_ns;
        hex_to_digest(arena, r->leaf_sha256, &e->leaf_sha256);
        e->n_chain_sha256 = 0;
        e->chain_sha256 = clm_arena_alloc(arena, (r->chain_len + 1) * sizeof(*e->chain_sha256));
        for (size_t i = 0; e->chain_sha256 && i < r->chain_len; i++) {
            ProtobufCBinaryData *d = &e->chain_sha256[e->n_chain_sha256];
            if ((d->data = clm_arena_alloc(arena, 32)) == NULL)
                break;
            SHA256(r->chain[i].data, r->chain[i].len, d->data);
            d->len = 32;
            e->n_chain_sha256++;
        }
        e->tls_version = (char *)(r->tls_version_name ? r->tls_version_name : "");
        e->cipher = (char *)(r->cipher ? r->cipher : "");
        e->name_match = (int32_t)r->name_match;
        e->chain_valid = (int32_t)r->chain_valid;
        e->verify_error = (char *)(r->verify_error ? r->verify_error : "");
        e->not_after = r->not_after;
    }
    /* Not ok: keep what it served last (leaf, chain, version, inventory id), so the
       record shows both the failure now and the certificate it had. */
    inventory_id_key(e->id, key);
    return store_put(txn, &endpoint_table, key, 8, &e->base, 0);
}
