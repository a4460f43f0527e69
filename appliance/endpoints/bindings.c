/* appliance/endpoints/bindings.c: certificate bindings (bindings.h). */
#include "appliance/endpoints/bindings.h"

#include <stdio.h>
#include <string.h>

#include "adapters/tls/probe.h"
#include "appliance/endpoints/tables.h"
#include "appliance/inventory/tables.h"
#include "lib/base/buf.h"

clm_err bindings_check(Clm__V1__BindingTarget *const *targets, size_t n, const char *field,
                       const char *const *allow, size_t n_allow)
{
    if (n > BINDINGS_MAX_PER_REQUEST)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: %zu targets, at most %d", field, n,
                        BINDINGS_MAX_PER_REQUEST);
    for (size_t i = 0; i < n; i++) {
        const Clm__V1__BindingTarget *t = targets[i];
        adapter_probe_target target = {0};
        adapter_probe_options options = {0};
        char ports[8];

        if (t->host[0] == '\0')
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s[%zu].host: missing", field, i);
        if (strchr(t->host, '/') != NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "%s[%zu].host: '%s' is a range; a binding names one endpoint",
                            field, i, t->host);
        if (t->port < 1 || t->port > 65535)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s[%zu].port: %u is not 1-65535", field,
                            i, t->port);
        snprintf(ports, sizeof(ports), "%u", t->port);
        target.host = t->host;
        target.ports = ports;
        target.sni = t->sni[0] ? t->sni : NULL;
        if (t->protocol[0] != '\0' &&
            adapter_probe_protocol_parse(t->protocol, &target.protocol) != CLM_OK)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "%s[%zu].protocol: '%s' is not tls, smtp, imap or pop3", field, i,
                            t->protocol);
        /* The probe's own check: syntax of the host and the name, and the allow-list
           for addresses. Its messages name "targets[0]": say which binding it was. */
        options.allow = allow;
        options.n_allow = n_allow;
        clm_err err = tls_probe_check(&target, 1, &options);
        if (err != CLM_OK && (allow != NULL || err != CLM_ERR_PERMISSION))
            return clm_fail(err, "%s[%zu]: %s", field, i, clm_error_message());
        clm_error_clear();
    }
    return CLM_OK;
}

static size_t target_key(uint64_t certificate_id, const Clm__V1__BindingTarget *t,
                         unsigned char key[8 + ENDPOINT_KEY_MAX])
{
    size_t n = endpoint_key(t->host, t->port, t->sni, (char *)key + 8);

    clm_put_be64(key, certificate_id);
    return n ? 8 + n : 0;
}

static clm_err find_binding(store_txn *txn, uint64_t certificate_id,
                            const Clm__V1__BindingTarget *t, store_item *found)
{
    unsigned char key[8 + ENDPOINT_KEY_MAX];
    size_t n = target_key(certificate_id, t, key);

    if (n == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "binding: %s:%u too long", t->host, t->port);
    return store_index_get(txn, &binding_table, &binding_table.indexes[BINDING_INDEX_TARGET], key,
                           n, found);
}

clm_err binding_put(store_txn *txn, Clm__Store__V1__BindingRecord *b)
{
    unsigned char key[8];

    inventory_id_key(b->id, key);
    return store_put(txn, &binding_table, key, 8, &b->base, 0);
}

clm_err bindings_add(store_txn *txn, clm_arena *arena, uint64_t certificate_id,
                     Clm__V1__BindingTarget *const *targets, size_t n, const char *by,
                     int64_t now_ns)
{
    for (size_t i = 0; i < n; i++) {
        const Clm__V1__BindingTarget *t = targets[i];
        Clm__Store__V1__BindingRecord *b;
        store_item found;
        clm_err err = find_binding(txn, certificate_id, t, &found);

        if (err == CLM_OK)
            continue;
        if (err != CLM_ERR_NOT_FOUND)
            return err;
        clm_error_clear();
        if ((b = clm_arena_alloc(arena, sizeof(*b))) == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        clm__store__v1__binding_record__init(b);
        if ((err = store_seq_next(txn, &binding_table, 1, &b->id)) != CLM_OK)
            return err;
        b->certificate_id = certificate_id;
        b->host = t->host;
        b->port = t->port;
        b->sni = t->sni;
        b->protocol = t->protocol;
        b->created_at = now_ns;
        b->created_by = (char *)by;
        if ((err = binding_put(txn, b)) != CLM_OK)
            return err;
    }
    return CLM_OK;
}

clm_err bindings_of(store_txn *txn, clm_arena *arena, uint64_t certificate_id,
                    Clm__Store__V1__BindingRecord ***out, size_t *n)
{
    unsigned char key[8];
    size_t cap = 16;
    store_iter *it;
    clm_err err;

    *n = 0;
    *out = clm_arena_alloc(arena, (cap + 1) * sizeof(**out));
    if (*out == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    clm_put_be64(key, certificate_id);
    if ((err = store_iter_open(txn, &binding_table,
                               &binding_table.indexes[BINDING_INDEX_CERTIFICATE], 0, &it)) != CLM_OK)
        return err;
    for (err = store_iter_seek(it, key, 8, NULL, 0); err == CLM_OK; err = store_iter_next(it)) {
        const store_item *item = store_iter_item(it);
        ProtobufCMessage *m;
        if (item->index_key_len != 8 || memcmp(item->index_key, key, 8) != 0)
            break;
        if ((err = endpoints_unpack(arena, &binding_table, item, &m)) != CLM_OK)
            break;
        if (*n == cap) {
            Clm__Store__V1__BindingRecord **grown = clm_arena_alloc(arena, (2 * cap + 1) *
                                                                               sizeof(*grown));
            if (grown == NULL) {
                err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
                break;
            }
            memcpy(grown, *out, cap * sizeof(*grown));
            *out = grown;
            cap *= 2;
        }
        (*out)[(*n)++] = (Clm__Store__V1__BindingRecord *)m;
    }
    (*out)[*n] = NULL;
    store_iter_close(it);
    return err == CLM_ERR_NOT_FOUND ? (clm_error_clear(), CLM_OK) : err;
}

clm_err bindings_remove(store_txn *txn, clm_arena *arena, uint64_t certificate_id,
                        Clm__V1__BindingTarget *const *targets, size_t n)
{
    unsigned char key[8];
    clm_err err;

    if (n == 0) {
        Clm__Store__V1__BindingRecord **all;
        size_t count;
        if ((err = bindings_of(txn, arena, certificate_id, &all, &count)) != CLM_OK)
            return err;
        for (size_t i = 0; i < count && err == CLM_OK; i++) {
            inventory_id_key(all[i]->id, key);
            err = store_delete(txn, &binding_table, key, 8);
        }
        return err;
    }
    for (size_t i = 0; i < n; i++) {
        store_item found;
        if ((err = find_binding(txn, certificate_id, targets[i], &found)) == CLM_ERR_NOT_FOUND)
            return clm_fail(err, "targets[%zu]: %s:%u%s%s is not bound to this certificate", i,
                            targets[i]->host, targets[i]->port, targets[i]->sni[0] ? " sni " : "",
                            targets[i]->sni);
        if (err != CLM_OK)
            return err;
        if ((err = store_delete(txn, &binding_table, found.key, found.key_len)) !=
            CLM_OK)
            return err;
    }
    return CLM_OK;
}
