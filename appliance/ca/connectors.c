/* appliance/ca/connectors.c: CA connector records and instances (connectors.h). */
#include "appliance/ca/connectors.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "adapters/ca/acme/acme.h"
#include "adapters/ca/fields.h"
#include "adapters/ca/cfssl/cfssl.h"
#include "adapters/ca/local/local.h"
#include "appliance/api/convert.h"
#include "appliance/inventory/groups.h"
#include "appliance/inventory/tables.h"

static size_t lower_key(const char *text, char *key)
{
    size_t n = 0;

    for (; text[n] != '\0' && n < STORE_KEY_MAX; n++)
        key[n] = (char)tolower((unsigned char)text[n]);
    return n;
}

static clm_err key_name(const ProtobufCMessage *r, const void *arg, store_keys *keys)
{
    char key[STORE_KEY_MAX];
    size_t n = lower_key(((const Clm__Store__V1__ConnectorRecord *)r)->name, key);

    (void)arg;
    return n ? store_keys_add(keys, key, n)
             : clm_fail(CLM_ERR_INVALID_ARGUMENT, "connector: empty name");
}

static const store_index connector_indexes[] = {
    [CONNECTOR_INDEX_NAME] = {"name", STORE_INDEX_UNIQUE, 1, key_name, NULL},
};

const store_table connector_table = {
    "connectors", &clm__store__v1__connector_record__descriptor, connector_indexes, 1};

clm_err connectors_register_adapters(void)
{
    static const adapter_ca_ops *const ops[] = {&ca_local_ops, &ca_cfssl_ops, &ca_acme_ops};
    clm_err err = CLM_OK;

    for (size_t i = 0; err == CLM_OK && i < sizeof(ops) / sizeof(ops[0]); i++)
        err = adapter_ca_register(ops[i]);
    return err;
}

/* ---- validation ---- */

static clm_err check_renewal(const Clm__V1__RenewalSetting *r, const char *prefix,
                             const char *name)
{
    if (r == NULL)
        return CLM_OK;
    /* Disabled settings keep their days for the next enable, so they must be valid too. */
    if ((r->enabled && r->days_before_expiry < 1) || r->days_before_expiry > 120)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s%s.days_before_expiry: %u is outside 1-120",
                        prefix, name, r->days_before_expiry);
    return CLM_OK;
}

/* The vendor fields of a request or a connector as adapter_fields (arena memory). */
static clm_err fields_of(clm_arena *arena, Clm__V1__Field **v, size_t n, const char *prefix,
                         adapter_fields *out)
{
    adapter_field_value *values;

    out->v = NULL;
    out->n = 0;
    if (n == 0)
        return CLM_OK;
    if (n > CA_FIELDS_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%sfields: %zu given, at most %d", prefix, n,
                        CA_FIELDS_MAX);
    if ((values = clm_arena_alloc(arena, n * sizeof(*values))) == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++) {
        values[i].name = v[i]->name;
        values[i].value = v[i]->value;
    }
    out->v = values;
    out->n = n;
    return CLM_OK;
}

static int declares(const adapter_field *decls, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(decls[i].name, name) == 0)
            return 1;
    return 0;
}

clm_err connector_validate(const Clm__V1__Connector *c, const char *prefix)
{
    const adapter_ca_ops *ops;
    adapter_fields fields;
    clm_arena arena = CLM_ARENA_INIT;
    char message[CLM_ERROR_MESSAGE_MAX];
    clm_err err;

    if (c == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%.*s: missing", (int)strcspn(prefix, "."),
                        prefix);
    if ((err = inventory_name_check(c->name, CONNECTOR_NAME_MAX, prefix)) != CLM_OK)
        return err;
    if (c->type[0] == '\0')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%stype: required (a CA adapter: local, cfssl, acme)",
                        prefix);
    if ((ops = adapter_ca_find(c->type)) == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "%stype: '%.64s' is not a CA adapter of this appliance (local, cfssl, acme)", prefix,
                        c->type);
    if ((err = inventory_text_check(c->description, CONNECTOR_DESCRIPTION_MAX, prefix, "description")) ||
        (err = inventory_text_check(c->ca_account, CONNECTOR_TEXT_MAX, prefix, "ca_account")) ||
        (err = inventory_text_check(c->certificate_type, CONNECTOR_TEXT_MAX, prefix, "certificate_type")) ||
        (err = inventory_text_check(c->profile, CONNECTOR_TEXT_MAX, prefix, "profile")))
        return err;
    if ((err = check_renewal(c->auto_renew, prefix, "auto_renew")) ||
        (err = check_renewal(c->auto_regenerate, prefix, "auto_regenerate")) ||
        (err = check_renewal(c->re_enroll, prefix, "re_enroll")))
        return err;
    if (c->auto_renew && c->auto_renew->enabled && c->auto_regenerate &&
        c->auto_regenerate->enabled)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "%sauto_regenerate: cannot be enabled together with auto_renew "
                        "(regeneration replaces renewal)", prefix);
    if (c->max_renewals_per_sweep > CONNECTOR_MAX_RENEWALS_PER_SWEEP)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%smax_renewals_per_sweep: %u, at most %d",
                        prefix, c->max_renewals_per_sweep, CONNECTOR_MAX_RENEWALS_PER_SWEEP);
    if (c->csr_source[0] != '\0' && strcmp(c->csr_source, "appliance") != 0 &&
        strcmp(c->csr_source, "uploaded") != 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "%scsr_source: '%.64s' is not one of appliance, uploaded", prefix,
                        c->csr_source);
    err = fields_of(&arena, c->fields, c->n_fields, prefix, &fields);
    if (err == CLM_OK && (err = ops->check_fields(&fields, false)) != CLM_OK) {
        /* The adapter says "config.fields.x: ..."; the API field is connector.fields.x
           (copied first: clm_fail writes the buffer clm_error_message reads). */
        const char *m = clm_error_message();
        snprintf(message, sizeof(message), "%s",
                 strncmp(m, "config.", 7) == 0 ? m + 7 : m);
        clm_fail(err, "%s%s", prefix, message);
    }
    /* The connector's profile is the default of the adapter's "profile" request field. */
    if (err == CLM_OK && c->profile[0] != '\0' &&
        declares(ops->request_fields, ops->n_request_fields, "profile")) {
        adapter_field_value v = {"profile", c->profile};
        adapter_fields one = {&v, 1};
        if ((err = ca_fields_check(ops->request_fields, ops->n_request_fields, &one, "")) !=
            CLM_OK) {
            const char *m = clm_error_message();
            snprintf(message, sizeof(message), "%s", m[0] == '.' ? m + 1 : m);
            clm_fail(err, "%s%s", prefix, message);
        }
    }
    clm_arena_free(&arena);
    return err;
}

/* ---- records ---- */

/* Associated data of a sealed vendor field: the blob opens only on its connector and
   field. */
static void field_aad(uint64_t id, const char *field, char aad[96])
{
    snprintf(aad, 96, "connector-field:%" PRIu64 ":%.64s", id, field);
}

static bool is_secret(const adapter_ca_ops *ops, const char *field)
{
    const adapter_field *d =
        ops ? ca_fields_find(ops->config_fields, ops->n_config_fields, field) : NULL;

    return d != NULL && d->secret;
}

/* The record's fields from the API's; secret ones sealed under r->id (set before). */
static clm_err from_api(clm_arena *arena, const seal_key *seal_with, const Clm__V1__Connector *c,
                        Clm__Store__V1__ConnectorRecord *r)
{
    const adapter_ca_ops *ops = adapter_ca_find(r->type);

    r->description = c->description;
    r->ca_account = c->ca_account;
    r->certificate_type = c->certificate_type;
    r->profile = c->profile;
    r->auto_renew = c->auto_renew && c->auto_renew->enabled;
    r->auto_renew_days = c->auto_renew ? c->auto_renew->days_before_expiry : 0;
    r->auto_regenerate = c->auto_regenerate && c->auto_regenerate->enabled;
    r->auto_regenerate_days = c->auto_regenerate ? c->auto_regenerate->days_before_expiry : 0;
    r->re_enroll = c->re_enroll && c->re_enroll->enabled;
    r->re_enroll_days = c->re_enroll ? c->re_enroll->days_before_expiry : 0;
    r->csr_source = (char *)(c->csr_source[0] ? c->csr_source : "appliance");
    r->max_renewals_per_sweep = c->max_renewals_per_sweep;
    r->n_fields = 0;
    r->fields = c->n_fields ? clm_arena_alloc(arena, c->n_fields * sizeof(*r->fields)) : NULL;
    if (c->n_fields && r->fields == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < c->n_fields; i++) {
        Clm__Store__V1__ConnectorField *f = clm_arena_alloc(arena, sizeof(*f));
        const char *value = c->fields[i]->value;
        clm_buf sealed = CLM_BUF_INIT;
        char aad[96];
        clm_err err;

        if (f == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        clm__store__v1__connector_field__init(f);
        f->name = c->fields[i]->name;
        f->value = c->fields[i]->value;
        if (is_secret(ops, f->name)) {
            /* Validated values are never empty; UpdateConnector filled kept secrets in
               (connector_secrets_fill). */
            if (value[0] == '\0')
                return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                                "connector.fields.%s: empty; give the value", f->name);
            if (seal_with == NULL)
                return clm_fail(CLM_ERR_INTERNAL, "connector.fields.%s: no master key to seal "
                                "it with", f->name);
            field_aad(r->id, f->name, aad);
            if ((err = seal(seal_with, aad, value, strlen(value), &sealed)) != CLM_OK)
                return clm_fail(err, "connector.fields.%s: cannot seal the value", f->name);
            f->sealed.data = clm_arena_memdup(arena, sealed.data, sealed.len);
            f->sealed.len = sealed.len;
            clm_buf_free(&sealed); /* ciphertext: nothing to wipe */
            if (f->sealed.data == NULL)
                return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            f->secret = true;
            f->value = "";
        }
        r->fields[r->n_fields++] = f;
    }
    return CLM_OK;
}

static clm_err put_record(store_txn *txn, Clm__Store__V1__ConnectorRecord *r, unsigned flags)
{
    unsigned char key[8];
    clm_err err;

    clm_put_be64(key, r->id);
    err = store_put(txn, &connector_table, key, 8, &r->base, flags);
    if (err == CLM_ERR_ALREADY_EXISTS)
        return clm_fail(err, "connector.name: a connector named '%s' exists", r->name);
    return err;
}

clm_err connector_create(store_txn *txn, clm_arena *arena, const seal_key *seal_with,
                         const Clm__V1__Connector *c, int64_t now_ns,
                         Clm__Store__V1__ConnectorRecord **created)
{
    Clm__Store__V1__ConnectorRecord *r = clm_arena_alloc(arena, sizeof(*r));
    clm_err err;

    if (r == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    clm__store__v1__connector_record__init(r);
    if ((err = store_seq_next(txn, &connector_table, 1, &r->id)) != CLM_OK)
        return err;
    r->name = c->name;
    r->type = c->type;
    if ((err = from_api(arena, seal_with, c, r)) != CLM_OK)
        return err;
    r->created_at = r->updated_at = now_ns;
    if ((err = put_record(txn, r, STORE_PUT_INSERT)) != CLM_OK)
        return err;
    *created = r;
    return CLM_OK;
}

clm_err connector_find(store_txn *txn, clm_arena *arena, const char *name, const char *field,
                       Clm__Store__V1__ConnectorRecord **found)
{
    char key[STORE_KEY_MAX];
    size_t n = lower_key(name, key);
    store_item item;
    clm_err err;

    if (n == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: required", field);
    err = store_index_get(txn, &connector_table, &connector_indexes[CONNECTOR_INDEX_NAME], key, n,
                          &item);
    if (err == CLM_ERR_NOT_FOUND)
        return clm_fail(err, "%s: no connector named '%.64s'", field, name);
    if (err != CLM_OK)
        return err;
    *found = (void *)inventory_unpack(arena, &connector_table, &item);
    return *found ? CLM_OK : clm_fail(CLM_ERR_STORE, "connector record does not unpack");
}

clm_err connector_update(store_txn *txn, clm_arena *arena, const seal_key *seal_with,
                         const char *name, const Clm__V1__Connector *c, int64_t now_ns,
                         Clm__Store__V1__ConnectorRecord **updated)
{
    Clm__Store__V1__ConnectorRecord *r;
    clm_err err;

    if ((err = connector_find(txn, arena, name, "name", &r)) != CLM_OK)
        return err;
    if (strcasecmp(c->name, r->name) != 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "connector.name: '%s' is not '%s' (connectors are not renamed)", c->name,
                        r->name);
    if (strcmp(c->type, r->type) != 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "connector.type: '%s' cannot change to '%s' (the state belongs to it)",
                        r->type, c->type);
    if ((err = from_api(arena, seal_with, c, r)) != CLM_OK)
        return err;
    r->updated_at = now_ns;
    if ((err = put_record(txn, r, STORE_PUT_UPDATE)) != CLM_OK)
        return err;
    *updated = r;
    return CLM_OK;
}

/* Certificates issued by the connector: sources of kind "connector" naming it. */
static clm_err count_issued(store_txn *txn, clm_arena *arena, const char *name, uint64_t *count)
{
    char key[STORE_KEY_MAX];
    size_t n = lower_key(name, key);
    store_iter *it;
    clm_err err;

    *count = 0;
    if ((err = store_iter_open(txn, &inventory_certificates, CERT_INDEX(CERT_INDEX_SOURCE_DEVICE),
                               0, &it)) != CLM_OK)
        return err;
    for (err = store_iter_seek(it, key, n, NULL, 0); err == CLM_OK; err = store_iter_next(it)) {
        const store_item *item = store_iter_item(it);
        Clm__Store__V1__CertificateRecord *r;

        if (item->index_key_len != n || memcmp(item->index_key, key, n) != 0)
            break;
        if ((r = (void *)inventory_unpack(arena, &inventory_certificates, item)) == NULL) {
            err = clm_fail(CLM_ERR_STORE, "certificate record does not unpack");
            break;
        }
        for (size_t i = 0; i < r->n_sources; i++)
            if (strcmp(r->sources[i]->kind, CONNECTOR_SOURCE_KIND) == 0 &&
                strcasecmp(r->sources[i]->device, name) == 0) {
                (*count)++;
                break;
            }
    }
    store_iter_close(it);
    if (err == CLM_ERR_NOT_FOUND) {
        clm_error_clear();
        err = CLM_OK;
    }
    return err;
}

clm_err connector_delete(store_txn *txn, clm_arena *arena, const char *name)
{
    Clm__Store__V1__ConnectorRecord *r;
    unsigned char key[8];
    uint64_t issued;
    clm_err err;

    if ((err = connector_find(txn, arena, name, "name", &r)) != CLM_OK ||
        (err = count_issued(txn, arena, r->name, &issued)) != CLM_OK)
        return err;
    if (issued > 0)
        return clm_fail(CLM_ERR_CONFLICT,
                        "name: connector '%s' issued %llu certificates of the inventory; "
                        "delete or re-issue them first",
                        r->name, (unsigned long long)issued);
    clm_put_be64(key, r->id);
    if ((err = store_delete(txn, &connector_table, key, 8)) != CLM_OK)
        return err;
    return connector_state_delete_all(txn, r->id);
}

static Clm__V1__RenewalSetting *renewal(clm_arena *arena, bool enabled, uint32_t days)
{
    Clm__V1__RenewalSetting *s = clm_arena_alloc(arena, sizeof(*s));

    if (s != NULL) {
        clm__v1__renewal_setting__init(s);
        s->enabled = enabled;
        s->days_before_expiry = days;
    }
    return s;
}

clm_err connector_to_api(store_txn *txn, clm_arena *arena,
                         const Clm__Store__V1__ConnectorRecord *r, Clm__V1__Connector *c)
{
    clm_buf chain = CLM_BUF_INIT;
    clm_err err;

    c->name = r->name;
    c->type = r->type;
    c->description = r->description;
    c->ca_account = r->ca_account;
    c->certificate_type = r->certificate_type;
    c->profile = r->profile;
    c->auto_renew = renewal(arena, r->auto_renew, r->auto_renew_days);
    c->auto_regenerate = renewal(arena, r->auto_regenerate, r->auto_regenerate_days);
    c->re_enroll = renewal(arena, r->re_enroll, r->re_enroll_days);
    c->csr_source = r->csr_source;
    c->max_renewals_per_sweep = r->max_renewals_per_sweep;
    c->created_at = convert_timestamp_ns(arena, r->created_at);
    c->updated_at = convert_timestamp_ns(arena, r->updated_at);
    if (r->n_fields) {
        if ((c->fields = clm_arena_alloc(arena, r->n_fields * sizeof(*c->fields))) == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        for (size_t i = 0; i < r->n_fields; i++) {
            Clm__V1__Field *f = clm_arena_alloc(arena, sizeof(*f));
            if (f == NULL)
                return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
            clm__v1__field__init(f);
            f->name = r->fields[i]->name;
            /* A secret is listed as set, never shown (its sealed bytes neither). */
            f->value = r->fields[i]->secret ? "" : r->fields[i]->value;
            f->secret = r->fields[i]->secret;
            c->fields[c->n_fields++] = f;
        }
    }
    /* Only the public chain; secret items are never read here (state.h). */
    err = connector_state_get_public(txn, r->id, "chain", &chain);
    if (err == CLM_ERR_NOT_FOUND) {
        clm_error_clear();
        return CLM_OK;
    }
    if (err != CLM_OK) {
        clm_buf_free(&chain);
        return err;
    }
    c->ca_ready = true;
    c->ca_chain_pem = clm_arena_alloc(arena, chain.len + 1);
    if (c->ca_chain_pem == NULL) {
        clm_buf_free(&chain);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    if (chain.len)
        memcpy(c->ca_chain_pem, chain.data, chain.len);
    c->ca_chain_pem[chain.len] = '\0';
    clm_buf_free(&chain);
    return CLM_OK;
}

/* ---- secret fields kept by UpdateConnector ---- */

typedef struct fill_op {
    clm_arena *arena;
    const seal_key *seal;
    const char *name;
    Clm__V1__Connector *copy;
} fill_op;

static clm_err fill_txn(store_txn *txn, void *arg)
{
    fill_op *op = arg;
    Clm__V1__Connector *c = op->copy;
    Clm__Store__V1__ConnectorRecord *r;
    clm_err err;

    if ((err = connector_find(txn, op->arena, op->name, "name", &r)) != CLM_OK)
        return err;
    for (size_t i = 0; i < c->n_fields; i++) {
        const Clm__Store__V1__ConnectorField *stored = NULL;
        clm_buf clear = CLM_BUF_INIT;
        Clm__V1__Field *f;
        char aad[96];

        if (c->fields[i]->value[0] != '\0' || !is_secret(adapter_ca_find(c->type), c->fields[i]->name))
            continue;
        for (size_t j = 0; j < r->n_fields && strcmp(r->type, c->type) == 0; j++)
            if (r->fields[j]->secret && strcmp(r->fields[j]->name, c->fields[i]->name) == 0)
                stored = r->fields[j];
        if (stored == NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "connector.fields.%s: empty, and connector '%s' has no value "
                            "stored to keep; give the value",
                            c->fields[i]->name, r->name);
        if ((f = clm_arena_alloc(op->arena, sizeof(*f))) == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        clm__v1__field__init(f);
        f->name = c->fields[i]->name;
        field_aad(r->id, stored->name, aad);
        if ((err = seal_open(op->seal, aad, stored->sealed.data, stored->sealed.len, &clear)) !=
            CLM_OK) {
            clm_buf_wipe(&clear);
            return clm_fail(err, "connector.fields.%s: the stored value does not open "
                            "(another master key?); give the value", f->name);
        }
        f->value = clm_arena_strdup(op->arena, clm_buf_str(&clear));
        clm_buf_wipe(&clear);
        if (f->value == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        c->fields[i] = f;
    }
    return CLM_OK;
}

clm_err connector_secrets_fill(store *st, const seal_key *seal_with, clm_arena *arena,
                               const char *name, const Clm__V1__Connector *c,
                               Clm__V1__Connector **out)
{
    const adapter_ca_ops *ops = c ? adapter_ca_find(c->type) : NULL;
    fill_op op = {arena, seal_with, name, NULL};
    bool any = false;

    *out = (Clm__V1__Connector *)c;
    for (size_t i = 0; ops != NULL && i < c->n_fields; i++)
        any |= c->fields[i]->value[0] == '\0' && is_secret(ops, c->fields[i]->name);
    if (!any)
        return CLM_OK;
    if (seal_with == NULL)
        return clm_fail(CLM_ERR_INTERNAL, "connector: no master key");
    if ((op.copy = clm_arena_memdup(arena, c, sizeof(*c))) == NULL ||
        (op.copy->fields = clm_arena_memdup(arena, c->fields, c->n_fields * sizeof(*c->fields))) ==
            NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    *out = op.copy;
    return store_view(st, fill_txn, &op);
}

void connector_secrets_wipe(Clm__V1__Connector *c)
{
    const adapter_ca_ops *ops = c ? adapter_ca_find(c->type) : NULL;

    for (size_t i = 0; ops != NULL && i < c->n_fields; i++)
        if (is_secret(ops, c->fields[i]->name))
            clm_memwipe(c->fields[i]->value, strlen(c->fields[i]->value));
}

/* ---- instances ---- */

clm_err connector_open(store *st, const seal_key *seal_with, const clm_clock *clock,
                       clm_arena *arena, const Clm__Store__V1__ConnectorRecord *r,
                       connector_instance *out)
{
    adapter_field_value *values = NULL;
    size_t *offsets = NULL;
    adapter_ca_config config = {0};
    clm_err err;

    memset(out, 0, sizeof(*out));
    out->name = r->name;
    if ((out->ops = adapter_ca_find(r->type)) == NULL)
        return clm_fail(CLM_ERR_UNSUPPORTED, "connector '%s': type '%s' is not served here",
                        r->name, r->type);
    if (r->n_fields && ((values = clm_arena_alloc(arena, r->n_fields * sizeof(*values))) == NULL ||
                        (offsets = clm_arena_alloc(arena, r->n_fields * sizeof(*offsets))) == NULL))
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    /* Secret values are opened into out->secrets (wiped by connector_close), never into
       the arena; pointers into it are taken once every value is in (appends move it). */
    for (size_t i = 0; i < r->n_fields; i++) {
        const Clm__Store__V1__ConnectorField *f = r->fields[i];
        char aad[96];

        values[i].name = f->name;
        values[i].value = f->value;
        if (!f->secret)
            continue;
        if (seal_with == NULL)
            return clm_fail(CLM_ERR_INTERNAL, "connector '%s': field %s: no master key",
                            r->name, f->name);
        field_aad(r->id, f->name, aad);
        offsets[i] = out->secrets.len;
        if ((err = seal_open(seal_with, aad, f->sealed.data, f->sealed.len, &out->secrets)) !=
                CLM_OK ||
            (err = clm_buf_append_byte(&out->secrets, '\0')) != CLM_OK) {
            clm_buf_wipe(&out->secrets);
            return clm_fail(err, "connector '%s': field %s: the sealed value does not open "
                            "(another master key?)", r->name, f->name);
        }
    }
    for (size_t i = 0; i < r->n_fields; i++)
        if (r->fields[i]->secret)
            values[i].value = (const char *)out->secrets.data + offsets[i];
    out->fields.v = values;
    out->fields.n = r->n_fields;
    connector_state_init(&out->state, st, seal_with, r->id);
    config.connector = r->name;
    config.fields = out->fields;
    config.state = &out->state.state;
    config.clock = clock;
    return out->ops->open(&config, &out->ca);
}

void connector_close(connector_instance *inst)
{
    if (inst->ops != NULL && inst->ca != NULL)
        inst->ops->close(inst->ca);
    inst->ca = NULL;
    clm_buf_wipe(&inst->secrets);
}

clm_err connector_outcome_error(const connector_instance *inst, const adapter_ca_result *r,
                                const char *what)
{
    switch (r->outcome) {
    case ADAPTER_CA_REJECTED:
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: rejected by connector '%s': %s", what,
                        inst->name, r->reason);
    case ADAPTER_CA_UNCONFIGURED:
        return clm_fail(CLM_ERR_CONFLICT, "connector '%s' is not set up: %s", inst->name,
                        r->reason);
    case ADAPTER_CA_UNREACHABLE:
        return clm_fail(CLM_ERR_UNAVAILABLE, "connector '%s': the CA cannot be reached: %s",
                        inst->name, r->reason);
    case ADAPTER_CA_PENDING:
        return clm_fail(CLM_ERR_UNSUPPORTED,
                        "connector '%s' answered pending; the direct path does not wait "
                        "(the enrollment workflow will)", inst->name);
    default:
        return clm_fail(CLM_ERR_UNSUPPORTED, "connector '%s': %s (%s)", inst->name,
                        adapter_ca_outcome_name(r->outcome), r->reason);
    }
}
