/* appliance/ca/connectors_test.c: connector validation (one row per case), records, and
 * secret vendor fields (sealed at rest, never shown, kept on update, opened for open()). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adapters/ca/fields.h"
#include "appliance/ca/connectors.h"
#include "appliance/inventory/tables.h"
#include "tests/unit.h"

typedef struct validate_case {
    const char *what;
    const char *name, *type, *profile, *csr_source;
    size_t description_len;
    int renew_on, renew_days, regen_on, regen_days, reenroll_days;
    const char *field_name, *field_value;
    clm_err want;
    const char *message_has;
} validate_case;

static const validate_case cases[] = {
    {"minimal", "ca", "local", "", "", 0, 0, 0, 0, 0, 0, NULL, NULL, CLM_OK, ""},
    {"everything", "Local CA-1.x", "local", "server", "uploaded", 2000, 1, 120, 0, 5, 1,
     "crl_url", "http://pki.example/x.crl", CLM_OK, ""},
    {"no name", "", "local", "", "", 0, 0, 0, 0, 0, 0, NULL, NULL, CLM_ERR_INVALID_ARGUMENT,
     "connector.name: must be 1-64"},
    {"bad name", "a/b", "local", "", "", 0, 0, 0, 0, 0, 0, NULL, NULL, CLM_ERR_INVALID_ARGUMENT,
     "connector.name: '/'"},
    {"no type", "ca", "", "", "", 0, 0, 0, 0, 0, 0, NULL, NULL, CLM_ERR_INVALID_ARGUMENT,
     "connector.type: required"},
    {"unknown type", "ca", "acme", "", "", 0, 0, 0, 0, 0, 0, NULL, NULL,
     CLM_ERR_INVALID_ARGUMENT, "connector.type: 'acme' is not a CA adapter"},
    {"long description", "ca", "local", "", "", 2001, 0, 0, 0, 0, 0, NULL, NULL,
     CLM_ERR_INVALID_ARGUMENT, "connector.description: 2001 characters, at most 2000"},
    {"days 0 enabled", "ca", "local", "", "", 0, 1, 0, 0, 0, 0, NULL, NULL,
     CLM_ERR_INVALID_ARGUMENT, "connector.auto_renew.days_before_expiry: 0 is outside 1-120"},
    {"days 121 disabled", "ca", "local", "", "", 0, 0, 121, 0, 0, 0, NULL, NULL,
     CLM_ERR_INVALID_ARGUMENT, "connector.auto_renew.days_before_expiry: 121"},
    {"re-enroll 121", "ca", "local", "", "", 0, 0, 0, 0, 0, 121, NULL, NULL,
     CLM_ERR_INVALID_ARGUMENT, "connector.re_enroll.days_before_expiry: 121"},
    {"renew and regenerate", "ca", "local", "", "", 0, 1, 30, 1, 30, 0, NULL, NULL,
     CLM_ERR_INVALID_ARGUMENT, "connector.auto_regenerate: cannot be enabled together"},
    {"bad csr source", "ca", "local", "", "hsm", 0, 0, 0, 0, 0, 0, NULL, NULL,
     CLM_ERR_INVALID_ARGUMENT, "connector.csr_source: 'hsm'"},
    {"unknown profile", "ca", "local", "gold", "", 0, 0, 0, 0, 0, 0, NULL, NULL,
     CLM_ERR_INVALID_ARGUMENT, "connector.profile: \"gold\" is not one of"},
    {"unknown field", "ca", "local", "", "", 0, 0, 0, 0, 0, 0, "nope", "1",
     CLM_ERR_INVALID_ARGUMENT, "connector.fields.nope: unknown field"},
    {"field out of range", "ca", "local", "", "", 0, 0, 0, 0, 0, 0, "crl_days", "367",
     CLM_ERR_INVALID_ARGUMENT, "connector.fields.crl_days"},
    {"field not a URL", "ca", "local", "", "", 0, 0, 0, 0, 0, 0, "ocsp_url", "ldap://x",
     CLM_ERR_INVALID_ARGUMENT, "connector.fields.ocsp_url"},
};

static void fill(const validate_case *c, Clm__V1__Connector *k, Clm__V1__RenewalSetting *renew,
                 Clm__V1__RenewalSetting *regen, Clm__V1__RenewalSetting *reenroll,
                 Clm__V1__Field *field, Clm__V1__Field **fields, char *description)
{
    clm__v1__connector__init(k);
    clm__v1__renewal_setting__init(renew);
    clm__v1__renewal_setting__init(regen);
    clm__v1__renewal_setting__init(reenroll);
    k->name = (char *)c->name;
    k->type = (char *)c->type;
    k->profile = (char *)c->profile;
    k->csr_source = (char *)c->csr_source;
    memset(description, 'd', c->description_len);
    description[c->description_len] = '\0';
    k->description = description;
    renew->enabled = c->renew_on;
    renew->days_before_expiry = (uint32_t)c->renew_days;
    regen->enabled = c->regen_on;
    regen->days_before_expiry = (uint32_t)c->regen_days;
    reenroll->enabled = c->reenroll_days > 0;
    reenroll->days_before_expiry = (uint32_t)c->reenroll_days;
    k->auto_renew = renew;
    k->auto_regenerate = regen;
    k->re_enroll = reenroll;
    if (c->field_name) {
        clm__v1__field__init(field);
        field->name = (char *)c->field_name;
        field->value = (char *)c->field_value;
        fields[0] = field;
        k->fields = fields;
        k->n_fields = 1;
    }
}

UNIT_TEST(validate)
{
    static char description[2002];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const validate_case *c = &cases[i];
        Clm__V1__Connector k;
        Clm__V1__RenewalSetting renew, regen, reenroll;
        Clm__V1__Field field, *fields[1];
        clm_err err;

        fill(c, &k, &renew, &regen, &reenroll, &field, fields, description);
        clm_error_clear();
        err = connector_validate(&k, "connector.");
        if (err != c->want || strstr(clm_error_message(), c->message_has) == NULL)
            fprintf(stderr, "case '%s': %d '%s'\n", c->what, err, clm_error_message());
        CHECK_INT_EQ(err, c->want);
        CHECK(strstr(clm_error_message(), c->message_has) != NULL);
    }
    CHECK_INT_EQ(connector_validate(NULL, "connector."), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "connector: missing");
}

static store *st;
static seal_key *master;

typedef struct rec_op {
    const Clm__V1__Connector *c;
    const char *name;
    clm_arena *arena;
    Clm__Store__V1__ConnectorRecord *r;
} rec_op;

static clm_err create_txn(store_txn *txn, void *arg)
{
    rec_op *op = arg;
    return connector_create(txn, op->arena, master, op->c, 1000, &op->r);
}

static clm_err find_txn(store_txn *txn, void *arg)
{
    rec_op *op = arg;
    return connector_find(txn, op->arena, op->name, "name", &op->r);
}

static clm_err update_txn(store_txn *txn, void *arg)
{
    rec_op *op = arg;
    return connector_update(txn, op->arena, master, op->name, op->c, 2000, &op->r);
}

static clm_err delete_txn(store_txn *txn, void *arg)
{
    rec_op *op = arg;
    return connector_delete(txn, op->arena, op->name);
}

UNIT_TEST(records)
{
    clm_arena arena = CLM_ARENA_INIT;
    Clm__V1__Connector k = CLM__V1__CONNECTOR__INIT;
    Clm__V1__Field f = CLM__V1__FIELD__INIT, *fields[1] = {&f};
    rec_op op = {&k, "Local", &arena, NULL};

    k.name = "Local";
    k.type = "local";
    k.profile = "server";
    f.name = "crl_days";
    f.value = "7";
    k.fields = fields;
    k.n_fields = 1;
    CHECK_INT_EQ(store_update(st, create_txn, &op), CLM_OK);
    CHECK(op.r != NULL && op.r->id == 1 && strcmp(op.r->csr_source, "appliance") == 0);
    k.name = "LOCAL"; /* names are unique without regard to case */
    CHECK_INT_EQ(store_update(st, create_txn, &op), CLM_ERR_ALREADY_EXISTS);
    CHECK_STR_CONTAINS(clm_error_message(), "connector.name");
    op.name = "local";
    CHECK_INT_EQ(store_view(st, find_txn, &op), CLM_OK);
    CHECK(op.r->n_fields == 1 && strcmp(op.r->fields[0]->value, "7") == 0);
    op.name = "other";
    CHECK_INT_EQ(store_view(st, find_txn, &op), CLM_ERR_NOT_FOUND);
    CHECK_STR_CONTAINS(clm_error_message(), "name: no connector named 'other'");

    /* update: everything but name and type */
    op.name = "Local";
    k.name = "Local";
    k.description = "changed";
    k.n_fields = 0;
    CHECK_INT_EQ(store_update(st, update_txn, &op), CLM_OK);
    CHECK(strcmp(op.r->description, "changed") == 0 && op.r->n_fields == 0 &&
          op.r->created_at == 1000 && op.r->updated_at == 2000);
    k.type = "acme";
    CHECK_INT_EQ(store_update(st, update_txn, &op), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "connector.type");
    k.type = "local";
    k.name = "Renamed";
    CHECK_INT_EQ(store_update(st, update_txn, &op), CLM_ERR_INVALID_ARGUMENT);

    CHECK_INT_EQ(store_update(st, delete_txn, &op), CLM_OK);
    CHECK_INT_EQ(store_view(st, find_txn, &op), CLM_ERR_NOT_FOUND);
    CHECK_INT_EQ(store_update(st, delete_txn, &op), CLM_ERR_NOT_FOUND);
    clm_arena_free(&arena);
}

/* ---- secret vendor fields (adapter_field.secret) ---- */

static const adapter_field vault_fields[] = {
    {.name = "url", .type = ADAPTER_FIELD_URL, .required = true, .help = "the CA's URL"},
    {.name = "api_key", .type = ADAPTER_FIELD_STRING, .required = true, .max_len = 64,
     .secret = true, .help = "the CA's API key"},
};

static char opened_key[80]; /* what the last open() got as api_key */

static clm_err vault_check(const adapter_fields *f, bool request)
{
    return request ? ca_fields_check(NULL, 0, f, "fields")
                   : ca_fields_check(vault_fields, 2, f, "config.fields");
}

static clm_err vault_open(const adapter_ca_config *config, adapter_ca **out)
{
    const char *key = ca_fields_get(&config->fields, "api_key");

    snprintf(opened_key, sizeof(opened_key), "%s", key ? key : "(none)");
    *out = (adapter_ca *)&opened_key; /* any non-NULL handle */
    return CLM_OK;
}

static void vault_close(adapter_ca *ca)
{
    (void)ca;
}

static clm_err vault_submit(adapter_ca *ca, const adapter_ca_request *r, adapter_ca_result *out)
{
    (void)ca;
    (void)r;
    return adapter_ca_result_set(out, ADAPTER_CA_UNREACHABLE, "test");
}

static const adapter_ca_ops vault_ops = {
    .name = "vault", .config_fields = vault_fields, .n_config_fields = 2,
    .check_fields = vault_check, .open = vault_open, .close = vault_close,
    .submit = vault_submit};

static int has_bytes(const void *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);

    for (size_t i = 0; i + k <= n; i++)
        if (memcmp((const char *)hay + i, needle, k) == 0)
            return 1;
    return 0;
}

typedef struct raw_op {
    uint64_t id;
    int has_secret;
    size_t len;
} raw_op;

/* The record's bytes as stored: the clear secret must not be among them. */
static clm_err raw_txn(store_txn *txn, void *arg)
{
    raw_op *op = arg;
    unsigned char key[8];
    store_item item;
    clm_err err;

    clm_put_be64(key, op->id);
    if ((err = store_get(txn, &connector_table, key, 8, &item)) != CLM_OK)
        return err;
    op->len = item.value_len;
    op->has_secret = has_bytes(item.value, item.value_len, "s3cr3t-key");
    return CLM_OK;
}

typedef struct api_op {
    const char *name;
    clm_arena *arena;
    Clm__V1__Connector out;
} api_op;

static clm_err api_txn(store_txn *txn, void *arg)
{
    api_op *op = arg;
    Clm__Store__V1__ConnectorRecord *r;
    clm_err err = connector_find(txn, op->arena, op->name, "name", &r);

    clm__v1__connector__init(&op->out);
    return err ? err : connector_to_api(txn, op->arena, r, &op->out);
}

/* Open the connector named `name` as the Issue path does; opened_key says what its
   adapter got. */
static clm_err open_named(const char *name)
{
    clm_arena arena = CLM_ARENA_INIT;
    rec_op find = {NULL, name, &arena, NULL};
    connector_instance inst;
    clm_err err;

    opened_key[0] = '\0';
    if ((err = store_view(st, find_txn, &find)) == CLM_OK) {
        err = connector_open(st, master, NULL, &arena, find.r, &inst);
        CHECK(err != CLM_OK || (inst.secrets.len > 0 && inst.fields.n == 2));
        connector_close(&inst);
        CHECK(inst.secrets.data == NULL); /* wiped and freed */
    }
    clm_arena_free(&arena);
    return err;
}

UNIT_TEST(secret_fields)
{
    clm_arena arena = CLM_ARENA_INIT;
    Clm__V1__Connector k = CLM__V1__CONNECTOR__INIT, *filled;
    Clm__V1__Field url = CLM__V1__FIELD__INIT, key = CLM__V1__FIELD__INIT;
    Clm__V1__Field *fields[2] = {&url, &key};
    char clear[32];
    rec_op op = {&k, "Vault", &arena, NULL};
    api_op api = {"vault", &arena, CLM__V1__CONNECTOR__INIT};
    raw_op raw = {0, 0, 0};

    k.name = "Vault";
    k.type = "vault";
    k.fields = fields;
    k.n_fields = 2;
    url.name = "url";
    url.value = "https://ca.example";
    key.name = "api_key";
    key.value = "";

    /* create: an empty secret is refused (nothing to keep), nothing written */
    CHECK_INT_EQ(connector_validate(&k, "connector."), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "connector.fields.api_key: empty");
    CHECK_INT_EQ(store_update(st, create_txn, &op), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "connector.fields.api_key: empty");
    CHECK_INT_EQ(store_view(st, api_txn, &api), CLM_ERR_NOT_FOUND);
    /* a secret that breaks a rule: the message names the field, not the value */
    snprintf(clear, sizeof(clear), "s3cr3t-key\x01");
    key.value = clear;
    CHECK_INT_EQ(connector_validate(&k, "connector."), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "connector.fields.api_key: contains a control");
    CHECK(strstr(clm_error_message(), "s3cr3t") == NULL);

    snprintf(clear, sizeof(clear), "s3cr3t-key");
    CHECK_INT_EQ(connector_validate(&k, "connector."), CLM_OK);
    CHECK_INT_EQ(store_update(st, create_txn, &op), CLM_OK);
    CHECK(op.r->n_fields == 2 && op.r->fields[1]->secret && op.r->fields[1]->value[0] == '\0' &&
          op.r->fields[1]->sealed.len == SEAL_OVERHEAD + strlen("s3cr3t-key"));
    CHECK(!op.r->fields[0]->secret && strcmp(op.r->fields[0]->value, "https://ca.example") == 0);
    raw.id = op.r->id;
    CHECK_INT_EQ(store_view(st, raw_txn, &raw), CLM_OK);
    CHECK(raw.len > 0 && !raw.has_secret); /* sealed at rest */

    /* Get/List: listed as set, value never shown */
    CHECK_INT_EQ(store_view(st, api_txn, &api), CLM_OK);
    CHECK(api.out.n_fields == 2);
    CHECK(api.out.fields[1]->secret && strcmp(api.out.fields[1]->name, "api_key") == 0 &&
          api.out.fields[1]->value[0] == '\0');
    CHECK(!api.out.fields[0]->secret &&
          strcmp(api.out.fields[0]->value, "https://ca.example") == 0);

    /* open: the adapter gets the clear value */
    CHECK_INT_EQ(open_named("vault"), CLM_OK);
    CHECK_STR_EQ(opened_key, "s3cr3t-key");

    /* update sending the field back empty keeps the stored value */
    key.value = "";
    k.description = "new description";
    CHECK_INT_EQ(connector_secrets_fill(st, master, &arena, "vault", &k, &filled), CLM_OK);
    CHECK(filled != &k && strcmp(filled->fields[1]->value, "s3cr3t-key") == 0);
    CHECK(key.value[0] == '\0'); /* the request itself is unchanged */
    CHECK_INT_EQ(connector_validate(filled, "connector."), CLM_OK);
    op.name = "vault";
    op.c = filled;
    CHECK_INT_EQ(store_update(st, update_txn, &op), CLM_OK);
    connector_secrets_wipe(filled);
    CHECK(filled->fields[1]->value[0] == '\0');
    CHECK_INT_EQ(open_named("vault"), CLM_OK);
    CHECK_STR_EQ(opened_key, "s3cr3t-key");
    CHECK_INT_EQ(store_view(st, api_txn, &api), CLM_OK);
    CHECK_STR_EQ(api.out.description, "new description");

    /* a given value replaces it; no empty field: c itself */
    snprintf(clear, sizeof(clear), "second-key");
    key.value = clear;
    CHECK_INT_EQ(connector_secrets_fill(st, master, &arena, "vault", &k, &filled), CLM_OK);
    CHECK(filled == &k);
    op.c = &k;
    CHECK_INT_EQ(store_update(st, update_txn, &op), CLM_OK);
    CHECK_INT_EQ(open_named("vault"), CLM_OK);
    CHECK_STR_EQ(opened_key, "second-key");

    /* a field left out is removed; then an empty one has nothing to keep */
    k.n_fields = 1;
    CHECK_INT_EQ(connector_validate(&k, "connector."), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "connector.fields.api_key: required");
    k.n_fields = 2;
    key.value = "";
    CHECK_INT_EQ(connector_secrets_fill(st, master, &arena, "nope", &k, &filled),
                 CLM_ERR_NOT_FOUND);

    /* a sealed value moved to another connector does not open there (aad) */
    {
        Clm__V1__Connector k2 = k;
        Clm__V1__Field key2 = key;
        Clm__V1__Field *fields2[2] = {&url, &key2};
        rec_op op2 = {&k2, NULL, &arena, NULL};
        snprintf(clear, sizeof(clear), "other-key");
        k2.name = "Vault2";
        k2.fields = fields2;
        key2.value = clear;
        CHECK_INT_EQ(store_update(st, create_txn, &op2), CLM_OK);
        op.name = "vault";
        CHECK_INT_EQ(store_view(st, find_txn, &op), CLM_OK);
        op2.r->fields[1]->sealed = op.r->fields[1]->sealed; /* connector 1's blob */
        {
            connector_instance inst;
            CHECK_INT_EQ(connector_open(st, master, NULL, &arena, op2.r, &inst), CLM_ERR_CRYPTO);
            CHECK_STR_CONTAINS(clm_error_message(), "field api_key: the sealed value does not open");
            CHECK(strstr(clm_error_message(), "key\"") == NULL);
            connector_close(&inst);
        }
        op.name = "vault2";
        CHECK_INT_EQ(store_update(st, delete_txn, &op), CLM_OK);
    }
    op.name = "vault";
    CHECK_INT_EQ(store_update(st, delete_txn, &op), CLM_OK);
    clm_arena_free(&arena);
}

int main(void)
{
    static const store_table *const tables[] = {&connector_table, &connector_state_table,
                                                &inventory_certificates, &inventory_groups};
    char dir[512];
    const char *tmp = getenv("TEST_TMPDIR");

    snprintf(dir, sizeof(dir), "%s/connectors_test", tmp ? tmp : "/tmp");
    mkdir(dir, 0700);
    if (connectors_register_adapters() != CLM_OK || adapter_ca_register(&vault_ops) != CLM_OK ||
        store_open(dir, NULL, tables, 4, &st) != CLM_OK || seal_key_load(dir, &master) != CLM_OK) {
        fprintf(stderr, "setup: %s\n", clm_error_message());
        return 1;
    }
    UNIT_RUN(validate);
    UNIT_RUN(records);
    UNIT_RUN(secret_fields);
    store_close(st);
    seal_key_free(master);
    return unit_report();
}
