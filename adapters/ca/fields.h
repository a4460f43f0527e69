/*
 * adapters/ca/fields.h: vendor fields, checked generically against an adapter's
 * declarations (adapter_field in adapters/adapter.h).
 *
 * Values are text (what a form, a JSON map or `clmctl --field name=value` gives). A list
 * of values is valid when every name is declared, no name appears twice, every required
 * field is present, and each value parses as its declared type and lies in its range or
 * allowed list. The first violation is reported, naming the field: "fields.profile:
 * \"x\" is not one of server, client, server-client, sub-ca".
 *
 * Thread rules: every function may be called from any thread.
 */
#ifndef CLM_ADAPTERS_CA_FIELDS_H
#define CLM_ADAPTERS_CA_FIELDS_H

#include "adapters/adapter.h"
#include "lib/base/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Longest string or URL value when a declaration gives no max_len. */
#define CA_FIELDS_DEFAULT_MAX_LEN 1024

/** Most values one list may hold. */
#define CA_FIELDS_MAX 64

/**
 * @brief Check a list of declarations (at registration): names [a-z0-9_]+ and unique,
 * a type in range, an allowed list for CHOICE (and only for CHOICE), min <= max for INT,
 * help text present, `secret` only on STRING (the registry also refuses it on request
 * fields: only connector fields are sealed at rest).
 * @param[in] what names the list in messages ("local: request_fields").
 * @return CLM_OK, or CLM_ERR_INVALID_ARGUMENT naming the declaration.
 */
clm_err ca_fields_check_declarations(const adapter_field *decls, size_t n, const char *what);

/**
 * @brief Check values against declarations (see the top of this file).
 * @param[in] prefix names the list in messages ("fields", "config.fields").
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the field: unknown field, given twice,
 *         missing required field, wrong type, out of range, not allowed, too long.
 */
clm_err ca_fields_check(const adapter_field *decls, size_t n_decls, const adapter_fields *values,
                        const char *prefix);

/** @return the declaration named `name`, or NULL. Borrowed from decls. */
const adapter_field *ca_fields_find(const adapter_field *decls, size_t n, const char *name);

/** @return the value of the field, or NULL when not given. Borrowed from values. */
const char *ca_fields_get(const adapter_fields *values, const char *name);

/**
 * @brief An INT field's value, or dflt when not given.
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT naming the field when the value is not a
 *         decimal integer (checked values never are).
 */
clm_err ca_fields_get_int(const adapter_fields *values, const char *name, int64_t dflt,
                          int64_t *out);

/** @return a BOOL field's value ("true"), or dflt when not given. */
bool ca_fields_get_bool(const adapter_fields *values, const char *name, bool dflt);

#endif
