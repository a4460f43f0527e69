/*
 * lib/json/pbjson_decode.c: JSON text -> protobuf-c message (pbjson_decode).
 *
 * jansson parses the text into a tree (rejecting duplicate keys and trailing
 * garbage); this file walks the tree along the descriptor and builds the message.
 *
 * Memory: the message is built the way protobuf_c_message_unpack() builds one with
 * the default allocator (malloc), so protobuf_c_message_free_unpacked(msg, NULL)
 * frees it, also half-built: every pointer is stored in the message, with its count
 * or oneof case, as soon as it is allocated, so on any error the whole tree is freed
 * by that one call. Building directly, rather than building some other structure and
 * packing/unpacking it, keeps one copy of the data and lets errors name the field.
 */
#include "lib/json/pbjson.h"
#include "lib/json/pbjson_internal.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct decoder {
    pbjson_path path;
    unsigned depth; /* messages open, the outermost being 1 */
} decoder;

/* One decoded value, before it is stored into the message. */
typedef union scalar {
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f;
    double d;
    protobuf_c_boolean b;
    char *str;
    ProtobufCBinaryData bytes;
} scalar;

static clm_err decode_message_into(decoder *d, ProtobufCMessage *msg, json_t *json);

static const char *json_kind(const json_t *json)
{
    switch (json_typeof(json)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "value";
}

static clm_err wrong_type(decoder *d, const char *want, const json_t *json)
{
    return pbjson_path_fail(&d->path, CLM_ERR_INVALID_ARGUMENT, "expected %s, got %s", want,
                            json_kind(json));
}

static clm_err invalid(decoder *d, const char *what)
{
    return pbjson_path_fail(&d->path, CLM_ERR_INVALID_ARGUMENT, "%s", what);
}

static clm_err message_new(const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
    ProtobufCMessage *msg = malloc(desc->sizeof_message);

    if (msg == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory allocating a %s", desc->name);
    protobuf_c_message_init(desc, msg);
    msg->descriptor = desc; /* already so for generated code; also for a copied descriptor */
    *out = msg;
    return CLM_OK;
}

/* ---- numbers ---- */

/* The JSON grammar of an integer: -?(0|[1-9][0-9]*). */
static bool is_integer_text(const char *s, size_t len)
{
    size_t i = 0;

    if (i < len && s[i] == '-')
        i++;
    if (i == len)
        return false;
    if (s[i] == '0')
        return i + 1 == len;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

/* The JSON grammar of a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. */
static bool is_number_text(const char *s, size_t len)
{
    size_t i = 0, start;

    if (i < len && s[i] == '-')
        i++;
    if (i < len && s[i] == '0') {
        i++;
    } else {
        for (start = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == start)
            return false;
    }
    if (i < len && s[i] == '.') {
        for (start = ++i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == start)
            return false;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        for (start = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == start)
            return false;
    }
    return i == len;
}

/* An integer as sign and magnitude, from text already checked by is_integer_text. */
static clm_err integer_from_text(decoder *d, const char *s, size_t len, bool *negative,
                                 uint64_t *magnitude)
{
    uint64_t v = 0;
    size_t i = 0;

    *negative = s[0] == '-';
    if (*negative)
        i++;
    for (; i < len; i++) {
        unsigned digit = (unsigned)(s[i] - '0');

        if (v > (UINT64_MAX - digit) / 10)
            return pbjson_path_fail(&d->path, CLM_ERR_INVALID_ARGUMENT,
                                    "integer %.40s out of range", s);
        v = v * 10 + digit;
    }
    *magnitude = v;
    return CLM_OK;
}

/* An integer from a JSON number (integral) or a decimal string. */
static clm_err read_integer(decoder *d, const json_t *json, bool *negative, uint64_t *magnitude)
{
    if (json_is_integer(json)) {
        json_int_t i = json_integer_value(json);

        *negative = i < 0;
        *magnitude = i < 0 ? -(uint64_t)i : (uint64_t)i;
        return CLM_OK;
    }
    if (json_is_real(json)) {
        double r = json_real_value(json);

        if (r != floor(r))
            return invalid(d, "expected an integer, got a number with a fraction");
        if (fabs(r) >= 18446744073709551616.0) /* 2^64 */
            return pbjson_path_fail(&d->path, CLM_ERR_INVALID_ARGUMENT, "integer %g out of range",
                                    r);
        *negative = r < 0;
        *magnitude = (uint64_t)fabs(r);
        return CLM_OK;
    }
    if (json_is_string(json)) {
        const char *s = json_string_value(json);
        size_t len = json_string_length(json);

        if (!is_integer_text(s, len))
            return invalid(d, "expected an integer: a string holding one must be decimal "
                              "digits with an optional '-' and no leading zeros");
        return integer_from_text(d, s, len, negative, magnitude);
    }
    return wrong_type(d, "integer", json);
}

static clm_err to_signed(decoder *d, bool negative, uint64_t magnitude, int64_t min, int64_t max,
                         const char *type, int64_t *out)
{
    if (negative ? magnitude > (uint64_t)(-(min + 1)) + 1 : magnitude > (uint64_t)max)
        return pbjson_path_fail(&d->path, CLM_ERR_INVALID_ARGUMENT, "%s%llu is out of range for %s",
                                negative ? "-" : "", (unsigned long long)magnitude, type);
    *out = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
    return CLM_OK;
}

static clm_err to_unsigned(decoder *d, bool negative, uint64_t magnitude, uint64_t max,
                           const char *type, uint64_t *out)
{
    if ((negative && magnitude != 0) || magnitude > max)
        return pbjson_path_fail(&d->path, CLM_ERR_INVALID_ARGUMENT, "%s%llu is out of range for %s",
                                negative ? "-" : "", (unsigned long long)magnitude, type);
    *out = magnitude;
    return CLM_OK;
}

static clm_err read_double(decoder *d, const json_t *json, bool is_float, double *out)
{
    double x;

    if (json_is_integer(json)) {
        x = (double)json_integer_value(json);
    } else if (json_is_real(json)) {
        x = json_real_value(json);
    } else if (json_is_string(json)) {
        const char *s = json_string_value(json);
        size_t len = json_string_length(json);

        if (strcmp(s, "NaN") == 0 && len == 3) {
            x = NAN;
        } else if (strcmp(s, "Infinity") == 0 && len == 8) {
            x = INFINITY;
        } else if (strcmp(s, "-Infinity") == 0 && len == 9) {
            x = -INFINITY;
        } else if (is_number_text(s, len)) {
            x = strtod(s, NULL);
            if (isinf(x))
                return invalid(d, "number out of range for double");
        } else {
            return invalid(d, "expected a number, or the string \"NaN\", \"Infinity\" or "
                              "\"-Infinity\"");
        }
    } else {
        return wrong_type(d, "number", json);
    }
    /* Beyond FLT_MAX by half a unit in the last place or more, a float would be
     * infinite (and the conversion undefined behaviour in C). */
    if (is_float && isfinite(x) && fabs(x) >= (double)FLT_MAX + 0x1p103)
        return invalid(d, "number out of range for float");
    *out = x;
    return CLM_OK;
}

/* ---- scalars ---- */

static clm_err read_string(decoder *d, const json_t *json, char **out)
{
    const char *s;
    size_t len;

    if (!json_is_string(json))
        return wrong_type(d, "string", json);
    s = json_string_value(json);
    len = json_string_length(json);
    if (memchr(s, '\0', len) != NULL)
        return invalid(d, "string contains U+0000, which protobuf-c strings cannot hold");
    *out = malloc(len + 1);
    if (*out == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory copying a string");
    memcpy(*out, s, len + 1);
    return CLM_OK;
}

static clm_err read_bytes(decoder *d, const json_t *json, ProtobufCBinaryData *out)
{
    const char *why;
    size_t len;
    uint8_t *data;

    if (!json_is_string(json))
        return wrong_type(d, "base64 string", json);
    len = json_string_length(json);
    out->len = 0;
    out->data = NULL;
    if (len == 0)
        return CLM_OK;
    data = malloc(pbjson_base64_decoded_max(len));
    if (data == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory decoding base64");
    why = pbjson_base64_decode(json_string_value(json), len, data, &out->len);
    if (why != NULL) {
        free(data);
        return invalid(d, why);
    }
    if (out->len == 0)
        free(data);
    else
        out->data = data;
    return CLM_OK;
}

/* closed: the enum belongs to a proto2 message, and only its named values are taken. */
static clm_err read_enum(decoder *d, const ProtobufCEnumDescriptor *desc, bool closed,
                         const json_t *json, int32_t *out)
{
    if (json_is_string(json)) {
        const char *name = json_string_value(json);
        const ProtobufCEnumValue *value = NULL;

        if (strlen(name) == json_string_length(json))
            value = protobuf_c_enum_descriptor_get_value_by_name(desc, name);
        if (value == NULL)
            return pbjson_path_fail(&d->path, CLM_ERR_INVALID_ARGUMENT,
                                    "unknown value \"%.64s\" of enum %s", name, desc->name);
        *out = value->value;
        return CLM_OK;
    }
    if (json_is_integer(json) || json_is_real(json)) {
        bool negative = false;
        uint64_t magnitude = 0;
        int64_t v = 0;
        clm_err err = read_integer(d, json, &negative, &magnitude);

        if (err == CLM_OK)
            err = to_signed(d, negative, magnitude, INT32_MIN, INT32_MAX, "an enum", &v);
        if (err == CLM_OK && closed && protobuf_c_enum_descriptor_get_value(desc, (int)v) == NULL)
            err = pbjson_path_fail(&d->path, CLM_ERR_INVALID_ARGUMENT,
                                   "%lld is not a value of enum %s", (long long)v, desc->name);
        if (err == CLM_OK)
            *out = (int32_t)v;
        return err;
    }
    return wrong_type(d, "enum name or number", json);
}

/* Reads a value of any non-message type of a field of `owner` into s (owning what s
 * points to). */
static clm_err read_scalar(decoder *d, const ProtobufCMessageDescriptor *owner,
                           const ProtobufCFieldDescriptor *field, const json_t *json, scalar *s)
{
    bool negative = false;
    uint64_t magnitude = 0;
    int64_t i = 0;
    uint64_t u = 0;
    double x = 0;
    clm_err err;

    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if ((err = read_integer(d, json, &negative, &magnitude)) != CLM_OK ||
            (err = to_signed(d, negative, magnitude, INT32_MIN, INT32_MAX, "int32", &i)) != CLM_OK)
            return err;
        s->i32 = (int32_t)i;
        return CLM_OK;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if ((err = read_integer(d, json, &negative, &magnitude)) != CLM_OK ||
            (err = to_signed(d, negative, magnitude, INT64_MIN, INT64_MAX, "int64", &i)) != CLM_OK)
            return err;
        s->i64 = i;
        return CLM_OK;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if ((err = read_integer(d, json, &negative, &magnitude)) != CLM_OK ||
            (err = to_unsigned(d, negative, magnitude, UINT32_MAX, "uint32", &u)) != CLM_OK)
            return err;
        s->u32 = (uint32_t)u;
        return CLM_OK;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if ((err = read_integer(d, json, &negative, &magnitude)) != CLM_OK ||
            (err = to_unsigned(d, negative, magnitude, UINT64_MAX, "uint64", &u)) != CLM_OK)
            return err;
        s->u64 = u;
        return CLM_OK;
    case PROTOBUF_C_TYPE_FLOAT:
        if ((err = read_double(d, json, true, &x)) != CLM_OK)
            return err;
        s->f = (float)x;
        return CLM_OK;
    case PROTOBUF_C_TYPE_DOUBLE:
        if ((err = read_double(d, json, false, &x)) != CLM_OK)
            return err;
        s->d = x;
        return CLM_OK;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(json))
            return wrong_type(d, "true or false", json);
        s->b = json_is_true(json);
        return CLM_OK;
    case PROTOBUF_C_TYPE_ENUM:
        return read_enum(d, field->descriptor, pbjson_message_is_proto2(owner), json, &s->i32);
    case PROTOBUF_C_TYPE_STRING: return read_string(d, json, &s->str);
    case PROTOBUF_C_TYPE_BYTES: return read_bytes(d, json, &s->bytes);
    case PROTOBUF_C_TYPE_MESSAGE: break;
    }
    return clm_fail(CLM_ERR_INTERNAL, "read_scalar: field %s has type %d", field->name,
                    (int)field->type);
}

/* Stores s at dst; what s owned now belongs to the message. */
static void store_scalar(ProtobufCType type, void *dst, const scalar *s)
{
    switch (type) {
    case PROTOBUF_C_TYPE_STRING: *(char **)dst = s->str; break;
    case PROTOBUF_C_TYPE_BYTES: *(ProtobufCBinaryData *)dst = s->bytes; break;
    case PROTOBUF_C_TYPE_BOOL: *(protobuf_c_boolean *)dst = s->b; break;
    default: /* numbers and enums: the union holds them at its start */
        memcpy(dst, s, pbjson_element_size(type));
        break;
    }
}

/* ---- fields ---- */

/* Sets a singular field (or a map entry's key or value) from json, which is not null. */
static clm_err decode_singular(decoder *d, ProtobufCMessage *msg,
                               const ProtobufCFieldDescriptor *field, json_t *json)
{
    void *member = PBJSON_MEMBER(msg, field->offset);
    void *quantifier = PBJSON_MEMBER(msg, field->quantifier_offset);
    bool oneof = (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
    scalar s;
    clm_err err;

    if (oneof && *(uint32_t *)quantifier != 0) {
        const ProtobufCFieldDescriptor *other =
            protobuf_c_message_descriptor_get_field(msg->descriptor, *(uint32_t *)quantifier);
        char other_name[128];

        pbjson_json_name(other != NULL ? other->name : "?", other_name, sizeof(other_name));
        return pbjson_path_fail(&d->path, CLM_ERR_INVALID_ARGUMENT,
                                "member of the same oneof as \"%s\", which is already set; "
                                "give only one",
                                other_name);
    }
    if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
        ProtobufCMessage *sub = NULL;

        if ((err = message_new(field->descriptor, &sub)) != CLM_OK)
            return err;
        *(ProtobufCMessage **)member = sub;
        if (oneof)
            *(uint32_t *)quantifier = field->id;
        return decode_message_into(d, sub, json);
    }
    if ((err = read_scalar(d, msg->descriptor, field, json, &s)) != CLM_OK)
        return err;
    store_scalar(field->type, member, &s);
    if (oneof)
        *(uint32_t *)quantifier = field->id;
    else if (field->label == PROTOBUF_C_LABEL_OPTIONAL && field->type != PROTOBUF_C_TYPE_STRING)
        *(protobuf_c_boolean *)quantifier = 1;
    return CLM_OK;
}

/* A map key: the JSON object key, as the entry's key field type wants it. */
static clm_err decode_map_key(decoder *d, ProtobufCMessage *entry,
                              const ProtobufCFieldDescriptor *field, const char *key,
                              size_t key_len)
{
    json_t *as_json;
    clm_err err;

    if (field->type == PROTOBUF_C_TYPE_BOOL) {
        if ((key_len == 4 && memcmp(key, "true", 4) == 0) ||
            (key_len == 5 && memcmp(key, "false", 5) == 0))
            as_json = json_boolean(key_len == 4);
        else
            return invalid(d, "map key must be \"true\" or \"false\"");
    } else if (field->type == PROTOBUF_C_TYPE_STRING) {
        as_json = json_stringn_nocheck(key, key_len);
    } else {
        /* Canonical integers only, so that two distinct JSON keys cannot name one
         * entry ("7" and "07"): jansson has already refused duplicate keys. */
        if (!is_integer_text(key, key_len) || (key_len == 2 && memcmp(key, "-0", 2) == 0))
            return invalid(d, "map key must be a decimal integer without leading zeros");
        as_json = json_stringn_nocheck(key, key_len);
    }
    if (as_json == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory reading a map key");
    err = decode_singular(d, entry, field, as_json);
    json_decref(as_json);
    return err;
}

static clm_err decode_map(decoder *d, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field,
                          json_t *json)
{
    const ProtobufCMessageDescriptor *entry_desc = field->descriptor;
    size_t *count = PBJSON_MEMBER(msg, field->quantifier_offset);
    ProtobufCMessage **entries;
    const char *key;
    size_t key_len;
    json_t *value;

    if (!json_is_object(json))
        return wrong_type(d, "object (a map)", json);
    if (json_object_size(json) == 0)
        return CLM_OK;
    entries = calloc(json_object_size(json), sizeof(*entries));
    if (entries == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory for a map");
    *(ProtobufCMessage ***)PBJSON_MEMBER(msg, field->offset) = entries;
    json_object_keylen_foreach(json, key, key_len, value)
    {
        size_t mark = pbjson_path_push_key(&d->path, key, key_len);
        ProtobufCMessage *entry = NULL;
        clm_err err = message_new(entry_desc, &entry);

        if (err != CLM_OK)
            return err;
        entries[(*count)++] = entry;
        if ((err = decode_map_key(d, entry, &entry_desc->fields[0], key, key_len)) != CLM_OK)
            return err;
        if (json_is_null(value))
            return invalid(d, "null is not allowed as a map value");
        if ((err = decode_singular(d, entry, &entry_desc->fields[1], value)) != CLM_OK)
            return err;
        pbjson_path_pop(&d->path, mark);
    }
    return CLM_OK;
}

static clm_err decode_repeated(decoder *d, ProtobufCMessage *msg,
                               const ProtobufCFieldDescriptor *field, json_t *json)
{
    size_t *count = PBJSON_MEMBER(msg, field->quantifier_offset);
    size_t size = pbjson_element_size(field->type);
    unsigned char *array;
    size_t n;

    if (pbjson_field_is_map(msg->descriptor, field))
        return decode_map(d, msg, field, json);
    if (!json_is_array(json))
        return wrong_type(d, "array", json);
    n = json_array_size(json);
    if (n == 0)
        return CLM_OK;
    array = calloc(n, size);
    if (array == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory for an array of %zu", n);
    *(void **)PBJSON_MEMBER(msg, field->offset) = array;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(json, i);
        size_t mark = pbjson_path_push_index(&d->path, i);
        clm_err err;

        if (json_is_null(item))
            return invalid(d, "null is not allowed in an array");
        if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
            ProtobufCMessage *sub = NULL;

            if ((err = message_new(field->descriptor, &sub)) != CLM_OK)
                return err;
            ((ProtobufCMessage **)array)[(*count)++] = sub;
            err = decode_message_into(d, sub, item);
        } else {
            scalar s;

            if ((err = read_scalar(d, msg->descriptor, field, item, &s)) == CLM_OK) {
                store_scalar(field->type, array + i * size, &s);
                (*count)++;
            }
        }
        if (err != CLM_OK)
            return err;
        pbjson_path_pop(&d->path, mark);
    }
    return CLM_OK;
}

/* ---- messages ---- */

static clm_err decode_well_known(decoder *d, ProtobufCMessage *msg, pbjson_wkt wkt, json_t *json)
{
    const ProtobufCFieldDescriptor *seconds_field, *nanos_field;
    int64_t seconds;
    int32_t nanos;
    const char *why;
    clm_err err;

    if ((err = pbjson_wkt_fields(msg->descriptor, &seconds_field, &nanos_field)) != CLM_OK)
        return err;
    if (!json_is_string(json))
        return wrong_type(d,
                          wkt == PBJSON_WKT_TIMESTAMP ? "RFC 3339 time string"
                                                      : "duration string like \"1.5s\"",
                          json);
    if (wkt == PBJSON_WKT_TIMESTAMP)
        why = pbjson_timestamp_parse(json_string_value(json), json_string_length(json), &seconds,
                                     &nanos);
    else
        why = pbjson_duration_parse(json_string_value(json), json_string_length(json), &seconds,
                                    &nanos);
    if (why != NULL)
        return invalid(d, why);
    *(int64_t *)PBJSON_MEMBER(msg, seconds_field->offset) = seconds;
    *(int32_t *)PBJSON_MEMBER(msg, nanos_field->offset) = nanos;
    return CLM_OK;
}

/* Marks in `given` per field: what the JSON object said about it. */
enum { FIELD_ABSENT = 0, FIELD_GIVEN, FIELD_NULL };

static clm_err decode_fields(decoder *d, ProtobufCMessage *msg, json_t *json, unsigned char *given)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    const char *key;
    size_t key_len;
    json_t *value;

    json_object_keylen_foreach(json, key, key_len, value)
    {
        const ProtobufCFieldDescriptor *field = pbjson_field_by_key(desc, key, key_len);
        size_t mark = pbjson_path_push_name(&d->path, key, key_len);
        size_t index;
        clm_err err;

        if (field == NULL)
            return pbjson_path_fail(&d->path, CLM_ERR_INVALID_ARGUMENT, "no such field in %s",
                                    desc->name);
        index = (size_t)(field - desc->fields);
        if (given[index] != FIELD_ABSENT)
            return invalid(d, "field given twice, by its JSON name and its .proto name");
        given[index] = json_is_null(value) ? FIELD_NULL : FIELD_GIVEN;
        if (given[index] == FIELD_GIVEN) {
            err = field->label == PROTOBUF_C_LABEL_REPEATED ? decode_repeated(d, msg, field, value)
                                                            : decode_singular(d, msg, field, value);
            if (err != CLM_OK)
                return err;
        }
        pbjson_path_pop(&d->path, mark);
    }
    for (unsigned i = 0; i < desc->n_fields; i++) {
        if (desc->fields[i].label == PROTOBUF_C_LABEL_REQUIRED && given[i] != FIELD_GIVEN) {
            char name[128];

            pbjson_json_name(desc->fields[i].name, name, sizeof(name));
            pbjson_path_push_name(&d->path, name, strlen(name));
            return invalid(d, "required field missing");
        }
    }
    return CLM_OK;
}

static clm_err decode_message_into(decoder *d, ProtobufCMessage *msg, json_t *json)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    pbjson_wkt wkt = pbjson_wkt_of(desc);
    unsigned char *given;
    clm_err err;

    if (++d->depth > PBJSON_MAX_DEPTH)
        return pbjson_path_fail(&d->path, CLM_ERR_INVALID_ARGUMENT,
                                "messages nested more than %d deep", PBJSON_MAX_DEPTH);
    if (wkt == PBJSON_WKT_UNSUPPORTED)
        return pbjson_path_fail(&d->path, CLM_ERR_UNSUPPORTED,
                                "%s has a JSON mapping of its own that lib/json does not "
                                "implement",
                                desc->name);
    if (wkt != PBJSON_WKT_NONE) {
        err = decode_well_known(d, msg, wkt, json);
    } else if (!json_is_object(json)) {
        char want[160];

        snprintf(want, sizeof(want), "object (%s)", desc->name);
        err = wrong_type(d, want, json);
    } else if ((given = calloc(desc->n_fields + 1, 1)) == NULL) {
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory decoding %s", desc->name);
    } else {
        err = decode_fields(d, msg, json, given);
        free(given);
    }
    d->depth--;
    return err;
}

clm_err pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                      ProtobufCMessage **out)
{
    json_error_t jerr;
    json_t *root;
    ProtobufCMessage *msg = NULL;
    clm_err err;

    if (out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "pbjson_decode: out is NULL");
    *out = NULL;
    if (desc == NULL || desc->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "pbjson_decode: not a message descriptor");
    if (json == NULL && len != 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "pbjson_decode: text is NULL");
    if (len > PBJSON_MAX_INPUT_BYTES)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "JSON text of %zu bytes is longer than the limit of %zu", len,
                        PBJSON_MAX_INPUT_BYTES);
    root = json_loadb(json != NULL ? json : "", len,
                      JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (root == NULL) {
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory parsing JSON");
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "invalid JSON at line %d, column %d: %s",
                        jerr.line, jerr.column, jerr.text);
    }
    err = message_new(desc, &msg);
    if (err == CLM_OK) {
        decoder d = {.depth = 0}; /* and an empty path */

        err = decode_message_into(&d, msg, root);
        if (err == CLM_OK)
            *out = msg;
        else
            protobuf_c_message_free_unpacked(msg, NULL);
    }
    json_decref(root);
    return err;
}
