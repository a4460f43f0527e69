/* appliance/ca/state.c: the store-backed adapter_ca_state (state.h). */
#include "appliance/ca/state.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clm/store/v1/connectors.pb-c.h"
#include "lib/base/buf.h"

const store_table connector_state_table = {
    "connector_state", &clm__store__v1__connector_state_item__descriptor, NULL, 0};

static clm_err check_name(const char *name)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || len > CONNECTOR_STATE_NAME_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "state item: name must be 1-%d characters",
                        CONNECTOR_STATE_NAME_MAX);
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "state item: name must be [a-z0-9_]+");
    return CLM_OK;
}

static size_t make_key(uint64_t id, const char *name, unsigned char key[8 + CONNECTOR_STATE_NAME_MAX])
{
    size_t len = strlen(name);

    clm_put_be64(key, id);
    memcpy(key + 8, name, len);
    return 8 + len;
}

static void make_aad(uint64_t id, const char *name, char aad[32 + CONNECTOR_STATE_NAME_MAX])
{
    snprintf(aad, 32 + CONNECTOR_STATE_NAME_MAX, "connector-state:%" PRIu64 ":%s", id, name);
}

typedef struct get_op {
    const connector_state *s;
    const char *name;
    clm_buf *out;
    bool allow_secret;
} get_op;

static clm_err get_txn(store_txn *txn, void *arg)
{
    get_op *op = arg;
    unsigned char key[8 + CONNECTOR_STATE_NAME_MAX];
    size_t key_len = make_key(op->s->connector_id, op->name, key);
    ProtobufCMessage *msg;
    Clm__Store__V1__ConnectorStateItem *item;
    clm_err err;

    err = store_get_record(txn, &connector_state_table, key, key_len, &msg);
    if (err == CLM_ERR_NOT_FOUND)
        return clm_fail(CLM_ERR_NOT_FOUND, "state item %s: not found", op->name);
    if (err != CLM_OK)
        return err;
    item = (Clm__Store__V1__ConnectorStateItem *)msg;
    if (!item->secret)
        err = clm_buf_append(op->out, item->data.data ? (const void *)item->data.data : "",
                             item->data.len);
    else if (!op->allow_secret)
        err = clm_fail(CLM_ERR_PERMISSION, "state item %s: secret", op->name);
    else {
        char aad[32 + CONNECTOR_STATE_NAME_MAX];
        make_aad(op->s->connector_id, op->name, aad);
        err = seal_open(op->s->seal, aad, item->data.data, item->data.len, op->out);
        if (err != CLM_OK)
            err = clm_fail(err, "state item %s: the sealed value does not open", op->name);
    }
    protobuf_c_message_free_unpacked(msg, NULL);
    return err;
}

static clm_err state_get(void *ctx, const char *name, clm_buf *out)
{
    get_op op = {ctx, name, out, true};
    clm_err err;

    if ((err = check_name(name)) != CLM_OK)
        return err;
    return store_view(op.s->store, get_txn, &op);
}

clm_err connector_state_get_public(store_txn *txn, uint64_t id, const char *name, clm_buf *out)
{
    connector_state s = {.connector_id = id};
    get_op op = {&s, name, out, false};
    clm_err err;

    if ((err = check_name(name)) != CLM_OK)
        return err;
    return get_txn(txn, &op);
}

typedef struct put_op {
    const connector_state *s;
    const adapter_ca_state_item *items;
    size_t n;
    clm_buf *sealed; /* one per item, made before the transaction */
} put_op;

static clm_err put_txn(store_txn *txn, void *arg)
{
    put_op *op = arg;
    clm_err err;

    for (size_t i = 0; i < op->n; i++) {
        const adapter_ca_state_item *it = &op->items[i];
        Clm__Store__V1__ConnectorStateItem rec = CLM__STORE__V1__CONNECTOR_STATE_ITEM__INIT;
        unsigned char key[8 + CONNECTOR_STATE_NAME_MAX];
        size_t key_len = make_key(op->s->connector_id, it->name, key);

        rec.secret = it->secret;
        if (it->secret) {
            rec.data.data = op->sealed[i].data;
            rec.data.len = op->sealed[i].len;
        } else {
            rec.data.data = (uint8_t *)it->data;
            rec.data.len = it->len;
        }
        if ((err = store_put(txn, &connector_state_table, key, key_len, &rec.base, 0)) != CLM_OK)
            return err;
    }
    return op->s->also ? op->s->also(txn, op->s->also_arg) : CLM_OK;
}

static clm_err state_put(void *ctx, const adapter_ca_state_item *items, size_t n)
{
    const connector_state *s = ctx;
    put_op op = {s, items, n, NULL};
    clm_err err = CLM_OK;

    if (n == 0)
        return CLM_OK;
    if (items == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "state: no items");
    if ((op.sealed = calloc(n, sizeof(*op.sealed))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    /* Sealing is done once, before the transaction: store_update() may run put_txn again
       after growing the map. */
    for (size_t i = 0; err == CLM_OK && i < n; i++) {
        char aad[32 + CONNECTOR_STATE_NAME_MAX];
        if ((err = check_name(items[i].name)) != CLM_OK)
            break;
        if (items[i].data == NULL && items[i].len > 0) {
            err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "state item %s: no data", items[i].name);
            break;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(items[k].name, items[i].name) == 0)
                err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "state item %s: given twice",
                               items[i].name);
        if (err != CLM_OK || !items[i].secret)
            continue;
        make_aad(s->connector_id, items[i].name, aad);
        err = seal(s->seal, aad, items[i].data ? items[i].data : "", items[i].len, &op.sealed[i]);
    }
    if (err == CLM_OK)
        err = store_update(s->store, put_txn, &op);
    for (size_t i = 0; i < n; i++)
        clm_buf_free(&op.sealed[i]); /* ciphertext: nothing to wipe */
    free(op.sealed);
    return err;
}

void connector_state_init(connector_state *s, store *st, const seal_key *seal_with, uint64_t id)
{
    memset(s, 0, sizeof(*s));
    s->state.get = state_get;
    s->state.put = state_put;
    s->state.ctx = s;
    s->store = st;
    s->seal = seal_with;
    s->connector_id = id;
}

clm_err connector_state_delete_all(store_txn *txn, uint64_t id)
{
    unsigned char prefix[8];
    store_iter *it;
    clm_err err;

    clm_put_be64(prefix, id);
    if ((err = store_iter_open(txn, &connector_state_table, NULL, 0, &it)) != CLM_OK)
        return err;
    /* Deleting moves the iterator's position, so seek the prefix again each time. */
    for (;;) {
        const store_item *item;
        unsigned char key[STORE_KEY_MAX];
        size_t key_len;

        err = store_iter_seek(it, prefix, sizeof(prefix), NULL, 0);
        if (err != CLM_OK)
            break;
        item = store_iter_item(it);
        if (item->key_len < 8 || memcmp(item->key, prefix, 8) != 0)
            break;
        key_len = item->key_len;
        memcpy(key, item->key, key_len);
        if ((err = store_delete(txn, &connector_state_table, key, key_len)) != CLM_OK)
            break;
    }
    store_iter_close(it);
    return err == CLM_ERR_NOT_FOUND ? (clm_error_clear(), CLM_OK) : err;
}
