/*
 * lib/json/pbjson_field.c: what the codec reads from protobuf-c descriptors (JSON
 * names, maps, presence, well-known types), and field paths for error messages.
 */
#include "lib/json/pbjson_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- paths ---- */

static size_t path_append(pbjson_path *path, const char *text, size_t len)
{
    size_t old = path->len;
    size_t room = sizeof(path->text) - 1 - path->len;

    if (len > room) { /* cut short, at a character boundary; the message still reads */
        len = room;
        while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
            len--;
    }
    memcpy(path->text + path->len, text, len);
    path->len += len;
    path->text[path->len] = '\0';
    return old;
}

/* Copies at most `max` bytes of untrusted text (a key from the input) into out,
 * with '?' for what would garble the message, without cutting a UTF-8 sequence. */
static size_t sanitize(char *out, const char *text, size_t len, size_t max)
{
    size_t shown = len, n = 0;

    if (shown > max) {
        shown = max;
        while (shown > 0 && ((unsigned char)text[shown] & 0xc0) == 0x80)
            shown--;
    }
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)text[i];

        out[n++] = (c < 0x20 || c == 0x7f || c == '"' || c == '\'' || c == '\\') ? '?' : (char)c;
    }
    if (shown < len) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    return n;
}

enum { NAME_SHOWN = 64, KEY_SHOWN = 40 };

size_t pbjson_path_push_name(pbjson_path *path, const char *name, size_t name_len)
{
    char text[NAME_SHOWN + 8];
    size_t old = path->len;
    size_t n = 0;

    if (path->len > 0)
        text[n++] = '.';
    n += sanitize(text + n, name, name_len, NAME_SHOWN);
    path_append(path, text, n);
    return old;
}

size_t pbjson_path_push_index(pbjson_path *path, size_t index)
{
    char text[32];
    int n = snprintf(text, sizeof(text), "[%zu]", index);

    return path_append(path, text, (size_t)n);
}

size_t pbjson_path_push_key(pbjson_path *path, const char *key, size_t key_len)
{
    char text[KEY_SHOWN + 16];
    size_t n = 0;

    text[n++] = '[';
    text[n++] = '\'';
    n += sanitize(text + n, key, key_len, KEY_SHOWN);
    text[n++] = '\'';
    text[n++] = ']';
    return path_append(path, text, n);
}

void pbjson_path_pop(pbjson_path *path, size_t len)
{
    path->len = len;
    path->text[len] = '\0';
}

clm_err pbjson_path_fail(const pbjson_path *path, clm_err err, const char *fmt, ...)
{
    char what[CLM_ERROR_MESSAGE_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (path->len == 0)
        return clm_fail(err, "%s", what);
    return clm_fail(err, "field \"%s\": %s", path->text, what);
}

/* ---- names ---- */

/* protoc's ToJsonName: drop each '_' and upper-case the ASCII letter after it. */
void pbjson_json_name(const char *name, char *out, size_t out_size)
{
    size_t n = 0;
    int upper_next = 0;

    if (out_size == 0)
        return;
    for (; *name != '\0' && n + 1 < out_size; name++) {
        char c = *name;

        if (c == '_') {
            upper_next = 1;
            continue;
        }
        if (upper_next && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        upper_next = 0;
        out[n++] = c;
    }
    out[n] = '\0';
}

bool pbjson_json_name_equals(const char *name, const char *key, size_t key_len)
{
    size_t k = 0;
    int upper_next = 0;

    for (; *name != '\0'; name++) {
        char c = *name;

        if (c == '_') {
            upper_next = 1;
            continue;
        }
        if (upper_next && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        upper_next = 0;
        if (k == key_len || key[k] != c)
            return false;
        k++;
    }
    return k == key_len;
}

const ProtobufCFieldDescriptor *pbjson_field_by_key(const ProtobufCMessageDescriptor *desc,
                                                    const char *key, size_t key_len)
{
    const ProtobufCFieldDescriptor *field;

    if (memchr(key, '\0', key_len) != NULL)
        return NULL;
    field = protobuf_c_message_descriptor_get_field_by_name(desc, key);
    if (field != NULL)
        return field;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        if (pbjson_json_name_equals(desc->fields[i].name, key, key_len))
            return &desc->fields[i];
    }
    return NULL;
}

/* ---- maps ---- */

/* protoc's MapEntryName: `by_id` -> `ByIdEntry`. */
static bool is_map_entry_name(const char *field_name, const char *short_name)
{
    int upper_next = 1;
    const char *s = short_name;

    for (; *field_name != '\0'; field_name++) {
        char c = *field_name;

        if (c == '_') {
            upper_next = 1;
            continue;
        }
        if (upper_next && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        upper_next = 0;
        if (*s++ != c)
            return false;
    }
    return strcmp(s, "Entry") == 0;
}

static bool is_map_key_type(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_ENUM:
    case PROTOBUF_C_TYPE_MESSAGE: return false;
    default: return true;
    }
}

bool pbjson_field_is_map(const ProtobufCMessageDescriptor *parent,
                         const ProtobufCFieldDescriptor *field)
{
    const ProtobufCMessageDescriptor *entry = field->descriptor;
    const ProtobufCFieldDescriptor *key, *value;
    size_t parent_len;

    if (field->label != PROTOBUF_C_LABEL_REPEATED || field->type != PROTOBUF_C_TYPE_MESSAGE ||
        entry == NULL || entry->n_fields != 2)
        return false;
    key = &entry->fields[0];
    value = &entry->fields[1];
    if (key->id != 1 || strcmp(key->name, "key") != 0 || value->id != 2 ||
        strcmp(value->name, "value") != 0 || key->label == PROTOBUF_C_LABEL_REPEATED ||
        value->label == PROTOBUF_C_LABEL_REPEATED || !is_map_key_type(key->type))
        return false;
    if (!is_map_entry_name(field->name, entry->short_name))
        return false;
    /* Nested directly in the field's own message: "<parent>.<ShortName>". */
    parent_len = strlen(parent->name);
    return strncmp(entry->name, parent->name, parent_len) == 0 && entry->name[parent_len] == '.' &&
           strcmp(entry->name + parent_len + 1, entry->short_name) == 0;
}

/* ---- values ---- */

bool pbjson_message_is_proto2(const ProtobufCMessageDescriptor *desc)
{
    for (unsigned i = 0; i < desc->n_fields; i++) {
        if (desc->fields[i].label == PROTOBUF_C_LABEL_OPTIONAL ||
            desc->fields[i].label == PROTOBUF_C_LABEL_REQUIRED)
            return true;
    }
    return false;
}

size_t pbjson_element_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM: /* protobuf-c stores enums in 4 bytes */ return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return 8;
    case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* protobuf-c 1.4.1's field_is_zeroish(), which decides what proto3 fields it packs. */
static bool value_is_zero(const ProtobufCFieldDescriptor *field, const void *member)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_BOOL: return *(const protobuf_c_boolean *)member == 0;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM: return *(const uint32_t *)member == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return *(const uint64_t *)member == 0;
    case PROTOBUF_C_TYPE_FLOAT: return *(const float *)member == 0; /* -0.0 too */
    case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)member == 0;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)member;

        return s == NULL || s[0] == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)member)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE: return *(const ProtobufCMessage *const *)member == NULL;
    }
    return true;
}

bool pbjson_field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field)
{
    const void *member = PBJSON_CMEMBER(msg, field->offset);
    bool by_pointer =
        field->type == PROTOBUF_C_TYPE_MESSAGE || field->type == PROTOBUF_C_TYPE_STRING;

    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        const void *ptr;

        if (*(const uint32_t *)PBJSON_CMEMBER(msg, field->quantifier_offset) != field->id)
            return false;
        if (!by_pointer)
            return true;
        ptr = *(const void *const *)member;
        return ptr != NULL && ptr != field->default_value;
    }
    switch (field->label) {
    case PROTOBUF_C_LABEL_REQUIRED: return true;
    case PROTOBUF_C_LABEL_OPTIONAL:
        if (by_pointer) {
            const void *ptr = *(const void *const *)member;

            return ptr != NULL && ptr != field->default_value;
        }
        return *(const protobuf_c_boolean *)PBJSON_CMEMBER(msg, field->quantifier_offset) != 0;
    case PROTOBUF_C_LABEL_NONE: return !value_is_zero(field, member);
    case PROTOBUF_C_LABEL_REPEATED: break;
    }
    return false;
}

/* ---- well-known types ---- */

pbjson_wkt pbjson_wkt_of(const ProtobufCMessageDescriptor *desc)
{
    static const char prefix[] = "google.protobuf.";
    static const char *const unsupported[] = {
        "Any",         "Struct",     "Value",       "ListValue",   "FieldMask",
        "DoubleValue", "FloatValue", "Int64Value",  "UInt64Value", "Int32Value",
        "UInt32Value", "BoolValue",  "StringValue", "BytesValue",
    };
    const char *rest;

    if (strncmp(desc->name, prefix, sizeof(prefix) - 1) != 0)
        return PBJSON_WKT_NONE;
    rest = desc->name + sizeof(prefix) - 1;
    if (strcmp(rest, "Timestamp") == 0)
        return PBJSON_WKT_TIMESTAMP;
    if (strcmp(rest, "Duration") == 0)
        return PBJSON_WKT_DURATION;
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
        if (strcmp(rest, unsupported[i]) == 0)
            return PBJSON_WKT_UNSUPPORTED;
    }
    return PBJSON_WKT_NONE;
}

clm_err pbjson_wkt_fields(const ProtobufCMessageDescriptor *desc,
                          const ProtobufCFieldDescriptor **seconds,
                          const ProtobufCFieldDescriptor **nanos)
{
    *seconds = protobuf_c_message_descriptor_get_field_by_name(desc, "seconds");
    *nanos = protobuf_c_message_descriptor_get_field_by_name(desc, "nanos");
    if (*seconds == NULL || *nanos == NULL || (*seconds)->id != 1 ||
        (*seconds)->type != PROTOBUF_C_TYPE_INT64 || (*seconds)->label != PROTOBUF_C_LABEL_NONE ||
        (*nanos)->id != 2 || (*nanos)->type != PROTOBUF_C_TYPE_INT32 ||
        (*nanos)->label != PROTOBUF_C_LABEL_NONE)
        return clm_fail(CLM_ERR_INTERNAL, "descriptor of %s is not the well-known type's shape",
                        desc->name);
    return CLM_OK;
}
