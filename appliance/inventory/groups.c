/* appliance/inventory/groups.c: group records, validation, default group. */
#include "appliance/inventory/groups.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "appliance/inventory/tables.h"
#include "lib/base/buf.h"

#define GROUP_NAME_MAX 64
#define GROUP_DESCRIPTION_MAX 2000

static const char *const key_types[] = {"RSA-2048", "RSA-3072", "RSA-4096", "RSA-8192",
                                        "EC-P256",  "EC-P384",  "EC-P521"};
static const char *const hash_functions[] = {"SHA256", "SHA384", "SHA512"};

ProtobufCMessage *inventory_unpack(clm_arena *arena, const store_table *table,
                                   const store_item *item)
{
    ProtobufCAllocator allocator = {clm_arena_pb_alloc, clm_arena_pb_free, arena};

    return protobuf_c_message_unpack(table->record, &allocator, item->value_len, item->value);
}

static int in_list(const char *value, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(value, list[i]) == 0)
            return 1;
    return 0;
}

static clm_err check_renewal(const Clm__V1__RenewalSetting *r, const char *prefix,
                             const char *name)
{
    if (r != NULL && r->enabled && (r->days_before_expiry < 1 || r->days_before_expiry > 120))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "%spolicy.%s.days_before_expiry: %u is outside 1-120", prefix, name,
                        r->days_before_expiry);
    return CLM_OK;
}

clm_err inventory_text_check(const char *value, size_t max, const char *prefix, const char *field)
{
    size_t len = strlen(value);

    if (len > max)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s%s: %zu characters, at most %zu", prefix,
                        field, len, max);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s%s: control characters are not allowed",
                            prefix, field);
    return CLM_OK;
}

static clm_err check_policy(const Clm__V1__GroupPolicy *p, const char *prefix)
{
    clm_err err;

    if (p == NULL)
        return CLM_OK;
    if ((err = check_renewal(p->auto_renew, prefix, "auto_renew")) != CLM_OK ||
        (err = check_renewal(p->auto_regenerate, prefix, "auto_regenerate")) != CLM_OK ||
        (err = check_renewal(p->re_enroll, prefix, "re_enroll")) != CLM_OK)
        return err;
    if (p->auto_renew && p->auto_renew->enabled && p->auto_regenerate &&
        p->auto_regenerate->enabled)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "%spolicy.auto_regenerate: cannot be enabled together with auto_renew "
                        "(regeneration replaces renewal)", prefix);
    if (p->csr_defaults != NULL) {
        const Clm__V1__CsrDefaults *c = p->csr_defaults;
        if ((err = inventory_text_check(c->organization, 64, prefix, "policy.csr_defaults.organization")) ||
            (err = inventory_text_check(c->organizational_unit, 64, prefix,
                              "policy.csr_defaults.organizational_unit")) ||
            (err = inventory_text_check(c->locality, 128, prefix, "policy.csr_defaults.locality")) ||
            (err = inventory_text_check(c->state, 128, prefix, "policy.csr_defaults.state")))
            return err;
        if (c->country[0] != '\0' &&
            (strlen(c->country) != 2 || !isupper((unsigned char)c->country[0]) ||
             !isupper((unsigned char)c->country[1])))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "%spolicy.csr_defaults.country: '%s' is not a 2-letter upper-case "
                            "country code (ISO 3166, like US)", prefix, c->country);
    }
    for (size_t i = 0; i < p->n_allowed_key_types; i++)
        if (!in_list(p->allowed_key_types[i], key_types, sizeof(key_types) / sizeof(*key_types)))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "%spolicy.allowed_key_types[%zu]: '%s' is not one of RSA-2048, "
                            "RSA-3072, RSA-4096, RSA-8192, EC-P256, EC-P384, EC-P521",
                            prefix, i, p->allowed_key_types[i]);
    for (size_t i = 0; i < p->n_allowed_hash_functions; i++)
        if (!in_list(p->allowed_hash_functions[i], hash_functions,
                     sizeof(hash_functions) / sizeof(*hash_functions)))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "%spolicy.allowed_hash_functions[%zu]: '%s' is not one of SHA256, "
                            "SHA384, SHA512", prefix, i, p->allowed_hash_functions[i]);
    if (p->approval != NULL && p->approval->levels > 5)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%spolicy.approval.levels: %u is outside 0-5",
                        prefix, p->approval->levels);
    return CLM_OK;
}

clm_err inventory_name_check(const char *name, size_t max, const char *prefix)
{
    size_t len = strlen(name);

    if (len == 0 || len > max)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%sname: must be 1-%d characters", prefix,
                        (int)max);
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != ' ' && *p != '.' && *p != '_' && *p != '-')
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "%sname: '%c' is not allowed (letters, digits, space, . _ -)",
                            prefix, *p);
    if (name[0] == ' ' || name[len - 1] == ' ')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%sname: leading or trailing space", prefix);
    return CLM_OK;
}

clm_err group_validate(const Clm__V1__Group *g, const char *prefix)
{
    clm_err err;

    if (g == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%.*s: missing", (int)strcspn(prefix, "."),
                        prefix);
    if ((err = inventory_name_check(g->name, GROUP_NAME_MAX, prefix)) != CLM_OK)
        return err;
    if ((err = inventory_text_check(g->description, GROUP_DESCRIPTION_MAX, prefix, "description")))
        return err;
    return check_policy(g->policy, prefix);
}

static clm_err find_by_key(store_txn *txn, clm_arena *arena, const char *name,
                           store_item *item, Clm__Store__V1__GroupRecord **group)
{
    char key[GROUP_NAME_MAX + 1];
    size_t n = 0;
    clm_err err;

    for (; name[n] != '\0' && n < GROUP_NAME_MAX; n++)
        key[n] = (char)tolower((unsigned char)name[n]);
    if (n == 0 || name[n] != '\0')
        return CLM_ERR_NOT_FOUND;
    err = store_index_get(txn, &inventory_groups, GROUP_INDEX(GROUP_INDEX_NAME), key, n, item);
    if (err != CLM_OK)
        return err;
    *group = (void *)inventory_unpack(arena, &inventory_groups, item);
    return *group ? CLM_OK : clm_fail(CLM_ERR_STORE, "group record does not unpack");
}

clm_err group_find(store_txn *txn, clm_arena *arena, const char *name, const char *field,
                   Clm__Store__V1__GroupRecord **group)
{
    store_item item;
    clm_err err = find_by_key(txn, arena, name, &item, group);

    if (err == CLM_ERR_NOT_FOUND)
        return clm_fail(CLM_ERR_NOT_FOUND, "%s: no group named '%s'", field, name);
    return err;
}

clm_err group_get_by_id(store_txn *txn, clm_arena *arena, uint64_t id,
                        Clm__Store__V1__GroupRecord **group)
{
    unsigned char key[8];
    store_item item;
    clm_err err;

    inventory_id_key(id, key);
    if ((err = store_get(txn, &inventory_groups, key, 8, &item)) != CLM_OK)
        return err == CLM_ERR_NOT_FOUND ? clm_fail(err, "group %llu not found",
                                                   (unsigned long long)id)
                                        : err;
    *group = (void *)inventory_unpack(arena, &inventory_groups, &item);
    return *group ? CLM_OK : clm_fail(CLM_ERR_STORE, "group record does not unpack");
}

static clm_err put_group(store_txn *txn, Clm__Store__V1__GroupRecord *g, unsigned flags)
{
    unsigned char key[8];
    clm_err err;

    inventory_id_key(g->id, key);
    err = store_put(txn, &inventory_groups, key, 8, &g->base, flags);
    if (err == CLM_ERR_ALREADY_EXISTS)
        return clm_fail(err, "group.name: a group named '%s' exists already", g->name);
    return err;
}

clm_err group_ensure_default(store_txn *txn, int64_t now_ns)
{
    Clm__Store__V1__GroupRecord g = CLM__STORE__V1__GROUP_RECORD__INIT;
    unsigned char key[8];
    store_item item;
    uint64_t id;
    clm_err err;

    inventory_id_key(INVENTORY_DEFAULT_GROUP_ID, key);
    err = store_get(txn, &inventory_groups, key, 8, &item);
    if (err != CLM_ERR_NOT_FOUND)
        return err;
    if ((err = store_seq_next(txn, &inventory_groups, 1, &id)) != CLM_OK)
        return err;
    if (id != INVENTORY_DEFAULT_GROUP_ID)
        return clm_fail(CLM_ERR_STORE, "the Default group is missing but ids were used");
    g.id = id;
    g.name = INVENTORY_DEFAULT_GROUP_NAME;
    g.description = "Certificates without a group of their own";
    g.created_at = g.updated_at = now_ns;
    return put_group(txn, &g, STORE_PUT_INSERT);
}

clm_err group_create(store_txn *txn, clm_arena *arena, const Clm__V1__Group *group,
                     int64_t now_ns, Clm__Store__V1__GroupRecord **created)
{
    Clm__Store__V1__GroupRecord *g = clm_arena_alloc(arena, sizeof(*g));
    clm_err err;

    if (g == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    clm__store__v1__group_record__init(g);
    if ((err = store_seq_next(txn, &inventory_groups, 1, &g->id)) != CLM_OK)
        return err;
    g->name = group->name;
    g->description = group->description;
    g->policy = group->policy;
    g->created_at = g->updated_at = now_ns;
    if ((err = put_group(txn, g, STORE_PUT_INSERT)) != CLM_OK)
        return err;
    *created = g;
    return CLM_OK;
}

clm_err group_update(store_txn *txn, clm_arena *arena, const char *name,
                     const Clm__V1__Group *changes, char **mask, size_t n_mask, int64_t now_ns,
                     Clm__Store__V1__GroupRecord **updated)
{
    Clm__Store__V1__GroupRecord *g;
    clm_err err;

    if (n_mask == 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "update_mask: empty; name the fields to change (name, description, "
                        "policy)");
    if ((err = group_find(txn, arena, name, "name", &g)) != CLM_OK)
        return err;
    for (size_t i = 0; i < n_mask; i++) {
        if (strcmp(mask[i], "name") == 0) {
            if (g->id == INVENTORY_DEFAULT_GROUP_ID)
                return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                                "update_mask: the Default group cannot be renamed");
            g->name = changes->name;
        } else if (strcmp(mask[i], "description") == 0) {
            g->description = changes->description;
        } else if (strcmp(mask[i], "policy") == 0) {
            g->policy = changes->policy;
        } else {
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "update_mask[%zu]: '%s' is not one of name, description, policy", i,
                            mask[i]);
        }
    }
    Clm__V1__Group check = CLM__V1__GROUP__INIT;
    check.name = g->name;
    check.description = g->description;
    check.policy = g->policy;
    if ((err = group_validate(&check, "group.")) != CLM_OK)
        return err;
    g->updated_at = now_ns;
    if ((err = put_group(txn, g, STORE_PUT_UPDATE)) != CLM_OK)
        return err;
    *updated = g;
    return CLM_OK;
}

typedef struct count_state {
    uint64_t count;
} count_state;

static clm_err count_one(void *arg, const store_item *item, bool *stop)
{
    (void)item;
    (void)stop;
    ((count_state *)arg)->count++;
    return CLM_OK;
}

clm_err group_certificate_count(store_txn *txn, uint64_t group_id, uint64_t *count)
{
    unsigned char key[8];
    count_state st = {0};
    clm_err err;

    clm_put_be64(key, group_id);
    err = store_scan(txn, &inventory_certificates, CERT_INDEX(CERT_INDEX_GROUP), key, 8,
                     STORE_SCAN_PREFIX | STORE_KEYS_ONLY, count_one, &st);
    *count = st.count;
    return err;
}

typedef struct move_state {
    store_txn *txn;
    clm_arena *arena;
    uint64_t to;
    int64_t now_ns;
    uint64_t moved;
    size_t n, cap;
    uint64_t *ids;
} move_state;

static clm_err collect_id(void *arg, const store_item *item, bool *stop)
{
    move_state *m = arg;

    (void)stop;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        uint64_t *grown = clm_arena_alloc(m->arena, cap * sizeof(*grown));
        if (grown == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        if (m->n)
            memcpy(grown, m->ids, m->n * sizeof(*grown));
        m->ids = grown;
        m->cap = cap;
    }
    m->ids[m->n++] = clm_get_be64(item->key);
    return CLM_OK;
}

clm_err group_delete(store_txn *txn, clm_arena *arena, const char *name, const char *move_to,
                     int64_t now_ns, uint64_t *moved)
{
    Clm__Store__V1__GroupRecord *g, *target = NULL;
    move_state m = {txn, arena, 0, now_ns, 0, 0, 0, NULL};
    unsigned char key[8];
    clm_err err;

    *moved = 0;
    if ((err = group_find(txn, arena, name, "name", &g)) != CLM_OK)
        return err;
    if (g->id == INVENTORY_DEFAULT_GROUP_ID)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "name: the Default group cannot be deleted");
    if (move_to != NULL && move_to[0] != '\0') {
        if ((err = group_find(txn, arena, move_to, "move_certificates_to", &target)) != CLM_OK)
            return err;
        if (target->id == g->id)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "move_certificates_to: names the group being deleted");
    }
    clm_put_be64(key, g->id);
    err = store_scan(txn, &inventory_certificates, CERT_INDEX(CERT_INDEX_GROUP), key, 8,
                     STORE_SCAN_PREFIX | STORE_KEYS_ONLY, collect_id, &m);
    if (err != CLM_OK)
        return err;
    if (m.n > 0 && target == NULL)
        return clm_fail(CLM_ERR_CONFLICT,
                        "name: %zu certificates are in group '%s'; give move_certificates_to "
                        "or move them first", m.n, g->name);
    for (size_t i = 0; i < m.n; i++) {
        store_item item;
        Clm__Store__V1__CertificateRecord *c;
        inventory_id_key(m.ids[i], key);
        if ((err = store_get(txn, &inventory_certificates, key, 8, &item)) != CLM_OK)
            return err;
        c = (void *)inventory_unpack(arena, &inventory_certificates, &item);
        if (c == NULL)
            return clm_fail(CLM_ERR_STORE, "certificate record does not unpack");
        c->group_id = target->id;
        c->updated_at = now_ns;
        if ((err = store_put(txn, &inventory_certificates, key, 8, &c->base, STORE_PUT_UPDATE)))
            return err;
    }
    inventory_id_key(g->id, key);
    if ((err = store_delete(txn, &inventory_groups, key, 8)) != CLM_OK)
        return err;
    *moved = m.n;
    return CLM_OK;
}
