/* appliance/ca/state_test.c: the store-backed CA connector state, and the local CA on it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adapters/ca/local/local.h"
#include "appliance/ca/state.h"
#include "clm/store/v1/connectors.pb-c.h"
#include "lib/pki/csr.h"
#include "lib/pki/key.h"
#include "tests/unit.h"

static store *st;
static seal_key *key;

static const char *tmpdir(const char *name)
{
    static char path[512];
    const char *tmp = getenv("TEST_TMPDIR");

    snprintf(path, sizeof(path), "%s/%s", tmp ? tmp : "/tmp", name);
    mkdir(path, 0700);
    return path;
}

static int memmem_has(const void *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);

    for (size_t i = 0; i + k <= n; i++)
        if (memcmp((const char *)hay + i, needle, k) == 0)
            return 1;
    return 0;
}

typedef struct raw_op {
    uint64_t id;
    const char *name;
    clm_buf *out;
} raw_op;

/* The bytes as stored, to prove a secret is sealed at rest. */
static clm_err raw_txn(store_txn *txn, void *arg)
{
    raw_op *op = arg;
    unsigned char k[80];
    store_item item;
    clm_err err;

    clm_put_be64(k, op->id);
    memcpy(k + 8, op->name, strlen(op->name));
    if ((err = store_get(txn, &connector_state_table, k, 8 + strlen(op->name), &item)) != CLM_OK)
        return err;
    return clm_buf_append(op->out, item.value, item.value_len);
}

static clm_err raw_put_txn(store_txn *txn, void *arg)
{
    raw_op *op = arg;
    unsigned char k[80];
    ProtobufCMessage *msg;
    clm_err err;

    /* copy connector 1's item onto connector op->id */
    clm_put_be64(k, 1);
    memcpy(k + 8, op->name, strlen(op->name));
    if ((err = store_get_record(txn, &connector_state_table, k, 8 + strlen(op->name), &msg)))
        return err;
    clm_put_be64(k, op->id);
    err = store_put(txn, &connector_state_table, k, 8 + strlen(op->name), msg, 0);
    protobuf_c_message_free_unpacked(msg, NULL);
    return err;
}

static clm_err fail_also(store_txn *txn, void *arg)
{
    (void)txn;
    (void)arg;
    return clm_fail(CLM_ERR_STORE, "audit failed (test)");
}

UNIT_TEST(put_get_seal)
{
    connector_state s;
    adapter_ca_state_item items[] = {
        {"chain", "PUBLIC CHAIN", 12, false},
        {"key", "VERY SECRET KEY", 15, true},
    };
    clm_buf out = CLM_BUF_INIT;
    raw_op raw = {1, "key", &out};

    connector_state_init(&s, st, key, 1);
    CHECK_INT_EQ(s.state.get(s.state.ctx, "key", &out), CLM_ERR_NOT_FOUND);
    CHECK_INT_EQ(s.state.put(s.state.ctx, items, 2), CLM_OK);
    CHECK_INT_EQ(s.state.get(s.state.ctx, "key", &out), CLM_OK);
    CHECK(out.len == 15 && memcmp(out.data, "VERY SECRET KEY", 15) == 0);
    clm_buf_wipe(&out);
    CHECK_INT_EQ(s.state.get(s.state.ctx, "chain", &out), CLM_OK);
    CHECK(out.len == 12 && memcmp(out.data, "PUBLIC CHAIN", 12) == 0);
    clm_buf_free(&out);

    /* at rest: the secret is not in the stored bytes, the public item is */
    CHECK_INT_EQ(store_view(st, raw_txn, &raw), CLM_OK);
    CHECK(out.len > 15 && !memmem_has(out.data, out.len, "SECRET"));
    clm_buf_free(&out);
    raw.name = "chain";
    CHECK_INT_EQ(store_view(st, raw_txn, &raw), CLM_OK);
    CHECK(memmem_has(out.data, out.len, "PUBLIC CHAIN"));
    clm_buf_free(&out);
}

typedef struct public_op {
    uint64_t id;
    const char *name;
    clm_buf *out;
} public_op;

static clm_err public_txn(store_txn *txn, void *arg)
{
    public_op *op = arg;
    return connector_state_get_public(txn, op->id, op->name, op->out);
}

UNIT_TEST(public_reads)
{
    clm_buf out = CLM_BUF_INIT;
    public_op op = {1, "key", &out};

    CHECK_INT_EQ(store_view(st, public_txn, &op), CLM_ERR_PERMISSION);
    CHECK_INT_EQ(out.len, 0);
    op.name = "chain";
    CHECK_INT_EQ(store_view(st, public_txn, &op), CLM_OK);
    CHECK_INT_EQ(out.len, 12);
    clm_buf_free(&out);
}

UNIT_TEST(sealed_blob_bound_to_connector)
{
    connector_state s;
    clm_buf out = CLM_BUF_INIT;
    raw_op copy = {2, "key", NULL};

    CHECK_INT_EQ(store_update(st, raw_put_txn, &copy), CLM_OK);
    connector_state_init(&s, st, key, 2);
    CHECK_INT_EQ(s.state.get(s.state.ctx, "key", &out), CLM_ERR_CRYPTO);
    CHECK_INT_EQ(out.len, 0);
    CHECK(strstr(clm_error_message(), "SECRET") == NULL);
    clm_buf_wipe(&out); /* the failed open may have reserved room */
}

UNIT_TEST(all_or_nothing)
{
    connector_state s;
    clm_buf out = CLM_BUF_INIT;
    adapter_ca_state_item bad_name[] = {{"fresh", "x", 1, false}, {"Bad-Name", "y", 1, false}};
    adapter_ca_state_item twice[] = {{"fresh", "x", 1, false}, {"fresh", "y", 1, true}};
    adapter_ca_state_item good[] = {{"fresh", "x", 1, false}, {"chain", "CHANGED", 7, false}};

    connector_state_init(&s, st, key, 1);
    CHECK_INT_EQ(s.state.put(s.state.ctx, bad_name, 2), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(s.state.put(s.state.ctx, twice, 2), CLM_ERR_INVALID_ARGUMENT);
    /* the caller's work in the same transaction fails: nothing written */
    s.also = fail_also;
    CHECK_INT_EQ(s.state.put(s.state.ctx, good, 2), CLM_ERR_STORE);
    s.also = NULL;
    CHECK_INT_EQ(s.state.get(s.state.ctx, "fresh", &out), CLM_ERR_NOT_FOUND);
    CHECK_INT_EQ(s.state.get(s.state.ctx, "chain", &out), CLM_OK);
    CHECK(out.len == 12 && memcmp(out.data, "PUBLIC CHAIN", 12) == 0);
    clm_buf_free(&out);
}

static clm_err delete_txn(store_txn *txn, void *arg)
{
    return connector_state_delete_all(txn, *(uint64_t *)arg);
}

UNIT_TEST(delete_all)
{
    connector_state s1, s3;
    adapter_ca_state_item one[] = {{"a", "1", 1, false}, {"b", "2", 1, true}};
    clm_buf out = CLM_BUF_INIT;
    uint64_t id = 1;

    connector_state_init(&s1, st, key, 1);
    connector_state_init(&s3, st, key, 3);
    CHECK_INT_EQ(s3.state.put(s3.state.ctx, one, 2), CLM_OK);
    CHECK_INT_EQ(store_update(st, delete_txn, &id), CLM_OK);
    CHECK_INT_EQ(s1.state.get(s1.state.ctx, "key", &out), CLM_ERR_NOT_FOUND);
    CHECK_INT_EQ(s1.state.get(s1.state.ctx, "chain", &out), CLM_ERR_NOT_FOUND);
    CHECK_INT_EQ(s3.state.get(s3.state.ctx, "b", &out), CLM_OK); /* a neighbour is kept */
    CHECK(out.len == 1 && out.data[0] == '2');
    clm_buf_wipe(&out);
}

/* The local CA on the store-backed state: create, reopen, issue, revoke, CRL. */
UNIT_TEST(local_ca_on_store)
{
    connector_state s;
    ca_local_create_params params = {.key_type = PKI_KEY_EC_P256, .root_cn = "state root",
                                     .intermediate_cn = "state issuing"};
    adapter_ca_config config = {0};
    adapter_ca *ca = NULL;
    adapter_ca_result r = {0};
    adapter_field_value profile[] = {{"profile", "server"}};
    adapter_ca_request req = {0};
    adapter_ca_revocation rev = {0};
    pki_csr_fields f = {.common_name = "www.example.test", .hash = PKI_HASH_SHA256};
    EVP_PKEY *k = NULL;
    clm_buf csr = CLM_BUF_INIT, crl = CLM_BUF_INIT, raw = CLM_BUF_INIT;
    raw_op raw_key = {4, "key", &raw};

    connector_state_init(&s, st, key, 4);
    CHECK_INT_EQ(ca_local_create(&params, &s.state, NULL), CLM_OK);
    CHECK_INT_EQ(ca_local_create(&params, &s.state, NULL), CLM_ERR_ALREADY_EXISTS);
    CHECK_INT_EQ(store_view(st, raw_txn, &raw_key), CLM_OK);
    CHECK(!memmem_has(raw.data, raw.len, "PRIVATE KEY"));
    clm_buf_free(&raw);

    config.connector = "state-test";
    config.state = &s.state;
    CHECK_INT_EQ(ca_local_ops.open(&config, &ca), CLM_OK);
    CHECK_INT_EQ(pki_key_generate(PKI_KEY_EC_P256, &k), CLM_OK);
    CHECK_INT_EQ(pki_csr_build(&f, NULL, k, &csr), CLM_OK);
    EVP_PKEY_free(k);
    req.csr = csr.data;
    req.csr_len = csr.len;
    req.fields.v = profile;
    req.fields.n = 1;
    CHECK_INT_EQ(ca_local_ops.submit(ca, &req, &r), CLM_OK);
    CHECK_INT_EQ(r.outcome, ADAPTER_CA_ISSUED);
    CHECK(r.serial != NULL);
    rev.serial = r.serial;
    rev.reason = ADAPTER_CA_REASON_KEY_COMPROMISE;
    {
        adapter_ca_result rr = {0};
        CHECK_INT_EQ(ca_local_ops.revoke(ca, &rev, &rr), CLM_OK);
        CHECK_INT_EQ(rr.outcome, ADAPTER_CA_REVOKED);
        adapter_ca_result_free(&rr);
    }
    CHECK_INT_EQ(ca_local_ops.crl(ca, &crl), CLM_OK);
    CHECK(crl.len > 0);
    ca_local_ops.close(ca);

    /* reopened from the store: the revocation is there */
    ca = NULL;
    CHECK_INT_EQ(ca_local_ops.open(&config, &ca), CLM_OK);
    {
        adapter_ca_result rr = {0};
        CHECK_INT_EQ(ca_local_ops.revoke(ca, &rev, &rr), CLM_OK);
        CHECK_INT_EQ(rr.outcome, ADAPTER_CA_REJECTED); /* twice */
        adapter_ca_result_free(&rr);
    }
    ca_local_ops.close(ca);
    adapter_ca_result_free(&r);
    clm_buf_free(&csr);
    clm_buf_free(&crl);
}

int main(void)
{
    static const store_table *const tables[] = {&connector_state_table};
    const char *dir = tmpdir("state_test");

    if (store_open(dir, NULL, tables, 1, &st) != CLM_OK || seal_key_load(dir, &key) != CLM_OK) {
        fprintf(stderr, "setup: %s\n", clm_error_message());
        return 1;
    }
    UNIT_RUN(put_get_seal);
    UNIT_RUN(public_reads);
    UNIT_RUN(sealed_blob_bound_to_connector);
    UNIT_RUN(all_or_nothing);
    UNIT_RUN(delete_all);
    UNIT_RUN(local_ca_on_store);
    store_close(st);
    seal_key_free(key);
    return unit_report();
}
