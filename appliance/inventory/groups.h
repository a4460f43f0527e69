/*
 * appliance/inventory/groups.h: certificate groups and their policy.
 *
 * Every certificate belongs to a group; one without a group belongs to the Default
 * group (id 1), which always exists and cannot be deleted. Functions taking a
 * store_txn run inside the caller's transaction (write functions need a write txn);
 * records they return are unpacked into `arena` and live as long as it.
 */
#ifndef CLM_APPLIANCE_INVENTORY_GROUPS_H
#define CLM_APPLIANCE_INVENTORY_GROUPS_H

#include "clm/store/v1/inventory.pb-c.h"
#include "clm/v1/groups.pb-c.h"
#include "lib/base/arena.h"
#include "store/store.h"

/** Review levels of a group whose policy carries no approval message. */
#define GROUP_DEFAULT_APPROVAL_LEVELS 2

/**
 * @brief Check a group as given to Create/Update. Every message names the field,
 * prefixed by `prefix` ("group.policy.auto_renew.days_before_expiry: ...").
 * @return CLM_OK or CLM_ERR_INVALID_ARGUMENT.
 */
clm_err group_validate(const Clm__V1__Group *group, const char *prefix);

/** Create the Default group if missing (write txn). */
clm_err group_ensure_default(store_txn *txn, int64_t now_ns);

/**
 * @brief Find a group by name (case-insensitive).
 * @return CLM_OK; CLM_ERR_NOT_FOUND naming `field` ("group: no group named 'x'").
 */
clm_err group_find(store_txn *txn, clm_arena *arena, const char *name, const char *field,
                   Clm__Store__V1__GroupRecord **group);

/** @return the group of that id, or CLM_ERR_NOT_FOUND. */
clm_err group_get_by_id(store_txn *txn, clm_arena *arena, uint64_t id,
                        Clm__Store__V1__GroupRecord **group);

/** Insert a validated group. @return CLM_ERR_ALREADY_EXISTS naming group.name. */
clm_err group_create(store_txn *txn, clm_arena *arena, const Clm__V1__Group *group,
                     int64_t now_ns, Clm__Store__V1__GroupRecord **created);

/**
 * @brief Apply update_mask fields of `changes` to the group named `name`.
 * @return CLM_ERR_INVALID_ARGUMENT for an unknown mask path or invalid values,
 *         CLM_ERR_NOT_FOUND, CLM_ERR_ALREADY_EXISTS (rename onto another group).
 */
clm_err group_update(store_txn *txn, clm_arena *arena, const char *name,
                     const Clm__V1__Group *changes, char **mask, size_t n_mask, int64_t now_ns,
                     Clm__Store__V1__GroupRecord **updated);

/** Number of certificates in a group. */
clm_err group_certificate_count(store_txn *txn, uint64_t group_id, uint64_t *count);

/**
 * @brief Delete a group; with move_to (may be NULL or "") move its certificates there.
 * @return CLM_ERR_CONFLICT when certificates use it and no move_to is given (nothing
 *         changed), CLM_ERR_INVALID_ARGUMENT for the Default group or move_to = itself.
 */
clm_err group_delete(store_txn *txn, clm_arena *arena, const char *name, const char *move_to,
                     int64_t now_ns, uint64_t *moved);

/**
 * @brief Check the name of a named record (a group, a CA connector): 1-max characters,
 * letters, digits, space, '.', '_', '-', no leading or trailing space.
 * @return CLM_OK, or CLM_ERR_INVALID_ARGUMENT naming "<prefix>name".
 */
clm_err inventory_name_check(const char *name, size_t max, const char *prefix);

/**
 * @brief Check a free text field (a description): at most max bytes, no control
 * characters. @return CLM_OK, or CLM_ERR_INVALID_ARGUMENT naming "<prefix><field>".
 */
clm_err inventory_text_check(const char *value, size_t max, const char *prefix,
                             const char *field);

/** Unpack a store item of the groups or certificates table into the arena. */
ProtobufCMessage *inventory_unpack(clm_arena *arena, const store_table *table,
                                   const store_item *item);

#endif
