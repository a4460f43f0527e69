/* adapters/ca/fields.c: vendor field declarations and values, checked generically. */
#include "adapters/ca/fields.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const adapter_field *find_decl(const adapter_field *decls, size_t n, const char *name);

static bool name_ok(const char *name)
{
    if (name == NULL || name[0] == '\0' || strlen(name) > 64)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

clm_err ca_fields_check_declarations(const adapter_field *decls, size_t n, const char *what)
{
    if (n > 0 && decls == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: %zu fields but no list", what, n);
    for (size_t i = 0; i < n; i++) {
        const adapter_field *d = &decls[i];

        if (!name_ok(d->name))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s[%zu]: the name must be [a-z0-9_]+", what,
                            i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(decls[j].name, d->name) == 0)
                return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: field \"%s\" is declared twice",
                                what, d->name);
        if ((unsigned)d->type >= ADAPTER_FIELD_TYPE_MAX)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.%s: type %d is not a field type", what,
                            d->name, (int)d->type);
        if ((d->type == ADAPTER_FIELD_CHOICE) != (d->allowed != NULL) ||
            (d->allowed != NULL && d->allowed[0] == NULL))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "%s.%s: a choice needs an allowed list, and only a choice has one",
                            what, d->name);
        if (d->type == ADAPTER_FIELD_INT && d->min > d->max)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.%s: min %" PRId64 " > max %" PRId64,
                            what, d->name, d->min, d->max);
        if (d->help == NULL || d->help[0] == '\0')
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.%s: no help text", what, d->name);
        if (d->secret && d->type != ADAPTER_FIELD_STRING)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "%s.%s: only a string field can be secret (it is a %s)", what,
                            d->name, adapter_field_type_name(d->type));
    }
    return CLM_OK;
}

const adapter_field *ca_fields_find(const adapter_field *decls, size_t n, const char *name)
{
    if (name == NULL)
        return NULL;
    return find_decl(decls, n, name);
}

static const adapter_field *find_decl(const adapter_field *decls, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(decls[i].name, name) == 0)
            return &decls[i];
    return NULL;
}

static bool parse_int(const char *text, int64_t *out)
{
    char *end;
    long long v;

    /* strtoll accepts blanks and '+': a field value is the plain decimal form only */
    if (text[0] == '\0' || !((text[0] >= '0' && text[0] <= '9') || text[0] == '-'))
        return false;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || end == text)
        return false;
    *out = (int64_t)v;
    return true;
}

/* Printable text: no C0 controls, no DEL; UTF-8 beyond ASCII is the caller's business. */
static bool text_ok(const char *value, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

static bool url_ok(const char *value, size_t len)
{
    size_t scheme;

    if (strncmp(value, "http://", 7) == 0)
        scheme = 7;
    else if (strncmp(value, "https://", 8) == 0)
        scheme = 8;
    else
        return false;
    if (len == scheme || value[scheme] == '/')
        return false; /* no host */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c <= 0x20 || c >= 0x7f)
            return false; /* URIs in certificates are IA5String: ASCII, no blanks */
    }
    return true;
}

static clm_err allowed_list(const adapter_field *d, const char *prefix, const char *value)
{
    char list[512] = "";
    size_t used = 0;

    for (size_t i = 0; d->allowed[i] != NULL && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                 d->allowed[i]);
    return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.%s: \"%.64s\" is not one of %s", prefix,
                    d->name, value, list);
}

static clm_err check_value(const adapter_field *d, const char *prefix, const char *value)
{
    size_t len = strlen(value);
    size_t max_len = d->max_len ? d->max_len : CA_FIELDS_DEFAULT_MAX_LEN;
    int64_t v;

    switch (d->type) {
    case ADAPTER_FIELD_STRING:
    case ADAPTER_FIELD_URL:
        if (len == 0)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.%s: empty; leave the field out instead",
                            prefix, d->name);
        if (len > max_len)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.%s: %zu bytes, at most %zu", prefix,
                            d->name, len, max_len);
        if (d->type == ADAPTER_FIELD_STRING && !text_ok(value, len))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.%s: contains a control character",
                            prefix, d->name);
        if (d->type == ADAPTER_FIELD_URL && !url_ok(value, len))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "%s.%s: \"%.64s\" is not an http:// or https:// URL (ASCII, no "
                            "blanks)",
                            prefix, d->name, value);
        return CLM_OK;
    case ADAPTER_FIELD_INT:
        if (!parse_int(value, &v))
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.%s: \"%.64s\" is not an integer",
                            prefix, d->name, value);
        if (v < d->min || v > d->max)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                            "%s.%s: %" PRId64 " is outside %" PRId64 "..%" PRId64, prefix,
                            d->name, v, d->min, d->max);
        return CLM_OK;
    case ADAPTER_FIELD_BOOL:
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.%s: \"%.64s\" is not true or false",
                            prefix, d->name, value);
        return CLM_OK;
    case ADAPTER_FIELD_CHOICE:
        for (size_t i = 0; d->allowed[i] != NULL; i++)
            if (strcmp(d->allowed[i], value) == 0)
                return CLM_OK;
        return allowed_list(d, prefix, value);
    case ADAPTER_FIELD_TYPE_MAX:
        break;
    }
    return clm_fail(CLM_ERR_INTERNAL, "%s.%s: undeclared type", prefix, d->name);
}

clm_err ca_fields_check(const adapter_field *decls, size_t n_decls, const adapter_fields *values,
                        const char *prefix)
{
    size_t n = values ? values->n : 0;

    if (n > 0 && values->v == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: %zu values but no list", prefix, n);
    if (n > CA_FIELDS_MAX)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s: %zu values, at most %d", prefix, n,
                        CA_FIELDS_MAX);
    for (size_t i = 0; i < n; i++) {
        const adapter_field_value *fv = &values->v[i];
        const adapter_field *d;
        clm_err err;

        if (fv->name == NULL || fv->value == NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s[%zu]: a name and a value are required",
                            prefix, i);
        d = find_decl(decls, n_decls, fv->name);
        if (d == NULL) {
            char list[512] = "";
            size_t used = 0;
            for (size_t j = 0; j < n_decls && used < sizeof list; j++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "",
                                         decls[j].name);
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.%.64s: unknown field (known: %s)",
                            prefix, text_ok(fv->name, strlen(fv->name)) ? fv->name : "?",
                            n_decls ? list : "none");
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(values->v[j].name, fv->name) == 0)
                return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.%s: given twice", prefix, d->name);
        if ((err = check_value(d, prefix, fv->value)) != CLM_OK)
            return err;
    }
    for (size_t j = 0; j < n_decls; j++)
        if (decls[j].required && ca_fields_get(values, decls[j].name) == NULL)
            return clm_fail(CLM_ERR_INVALID_ARGUMENT, "%s.%s: required (%s)", prefix,
                            decls[j].name, decls[j].help);
    return CLM_OK;
}

const char *ca_fields_get(const adapter_fields *values, const char *name)
{
    for (size_t i = 0; values != NULL && i < values->n; i++)
        if (values->v[i].name != NULL && strcmp(values->v[i].name, name) == 0)
            return values->v[i].value;
    return NULL;
}

clm_err ca_fields_get_int(const adapter_fields *values, const char *name, int64_t dflt,
                          int64_t *out)
{
    const char *text = ca_fields_get(values, name);

    *out = dflt;
    if (text == NULL)
        return CLM_OK;
    if (!parse_int(text, out)) {
        *out = dflt;
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "fields.%s: \"%.64s\" is not an integer", name,
                        text);
    }
    return CLM_OK;
}

bool ca_fields_get_bool(const adapter_fields *values, const char *name, bool dflt)
{
    const char *text = ca_fields_get(values, name);

    if (text == NULL)
        return dflt;
    return strcmp(text, "true") == 0;
}
