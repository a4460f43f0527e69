/* appliance/ca/connectors_test.c: connector validation (one row per case) and records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    {"unknown type", "ca", "scep", "", "", 0, 0, 0, 0, 0, 0, NULL, NULL,
     CLM_ERR_INVALID_ARGUMENT, "connector.type: 'scep' is not a CA adapter"},
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

typedef struct rec_op {
    const Clm__V1__Connector *c;
    const char *name;
    clm_arena *arena;
    Clm__Store__V1__ConnectorRecord *r;
} rec_op;

static clm_err create_txn(store_txn *txn, void *arg)
{
    rec_op *op = arg;
    return connector_create(txn, op->arena, op->c, 1000, &op->r);
}

static clm_err find_txn(store_txn *txn, void *arg)
{
    rec_op *op = arg;
    return connector_find(txn, op->arena, op->name, "name", &op->r);
}

static clm_err update_txn(store_txn *txn, void *arg)
{
    rec_op *op = arg;
    return connector_update(txn, op->arena, op->name, op->c, 2000, &op->r);
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

int main(void)
{
    static const store_table *const tables[] = {&connector_table, &connector_state_table,
                                                &inventory_certificates, &inventory_groups};
    char dir[512];
    const char *tmp = getenv("TEST_TMPDIR");

    snprintf(dir, sizeof(dir), "%s/connectors_test", tmp ? tmp : "/tmp");
    mkdir(dir, 0700);
    if (connectors_register_adapters() != CLM_OK || store_open(dir, NULL, tables, 4, &st) != CLM_OK) {
        fprintf(stderr, "setup: %s\n", clm_error_message());
        return 1;
    }
    UNIT_RUN(validate);
    UNIT_RUN(records);
    store_close(st);
    return unit_report();
}
