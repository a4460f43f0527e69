/*
 * lib/json/pbjson_encode.c: protobuf-c message -> JSON text (pbjson_encode).
 *
 * The text is written straight into a clm_buf rather than built as a jansson tree
 * and dumped, for two reasons. jansson prints every real with one fixed precision
 * (17 digits by default), so 0.1 would print as 0.10000000000000001 and a float
 * field holding 0.1f as 0.10000000149011612, where the mapping wants the shortest
 * text that reads back to the same value at the field's own precision. And writing
 * in descriptor order gives field-number order without re-sorting. Escaping is the
 * small part of JSON writing, done below with an explicit UTF-8 check (jansson would
 * refuse invalid UTF-8 too, but without saying which field held it).
 */
#include "lib/base/buf.h"
#include "lib/json/pbjson.h"
#include "lib/json/pbjson_internal.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct encoder {
    clm_buf out;
    unsigned flags;
    unsigned depth;  /* messages open, the outermost being 1 */
    unsigned indent; /* containers open, for PBJSON_PRETTY */
    pbjson_path path;
} encoder;

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        clm_err try_err_ = (expr);                                                                 \
        if (try_err_ != CLM_OK)                                                                    \
            return try_err_;                                                                       \
    } while (0)

static clm_err encode_message(encoder *e, const ProtobufCMessage *msg,
                              const ProtobufCMessageDescriptor *desc);

/* ---- JSON text ---- */

static clm_err put(encoder *e, const char *text)
{
    return clm_buf_append_str(&e->out, text);
}

static clm_err put_newline(encoder *e)
{
    if (!(e->flags & PBJSON_PRETTY))
        return CLM_OK;
    TRY(clm_buf_reserve(&e->out, 1 + 2 * (size_t)e->indent));
    clm_buf_append_byte(&e->out, '\n');
    for (unsigned i = 0; i < e->indent; i++)
        clm_buf_append(&e->out, "  ", 2);
    return CLM_OK;
}

static clm_err open_container(encoder *e, const char *bracket)
{
    e->indent++;
    return put(e, bracket);
}

/* Before each member or element: the comma, then the line break when pretty. */
static clm_err next_item(encoder *e, size_t *count)
{
    if ((*count)++ > 0)
        TRY(put(e, ","));
    return put_newline(e);
}

static clm_err close_container(encoder *e, size_t count, const char *bracket)
{
    e->indent--;
    if (count > 0)
        TRY(put_newline(e));
    return put(e, bracket);
}

/* Length of the UTF-8 sequence at s (RFC 3629: no overlongs, surrogates or values
 * above U+10FFFF), or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (left < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    }
    return n;
}

static clm_err put_string(encoder *e, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;

    TRY(clm_buf_reserve(&e->out, len + 2));
    clm_buf_append_byte(&e->out, '"');
    while (i < len) {
        size_t run = i, n;
        const char *escape;
        char control[8];

        while (run < len && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i) { /* plain ASCII needs no look at each byte */
            TRY(clm_buf_append(&e->out, s + i, run - i));
            i = run;
            continue;
        }
        n = utf8_sequence(s + i, len - i);
        if (n == 0)
            return pbjson_path_fail(&e->path, CLM_ERR_INVALID_ARGUMENT,
                                    "string is not valid UTF-8 (byte %zu)", i);
        if (n > 1) {
            TRY(clm_buf_append(&e->out, s + i, n));
            i += n;
            continue;
        }
        switch (s[i]) {
        case '"': escape = "\\\""; break;
        case '\\': escape = "\\\\"; break;
        case '\b': escape = "\\b"; break;
        case '\f': escape = "\\f"; break;
        case '\n': escape = "\\n"; break;
        case '\r': escape = "\\r"; break;
        case '\t': escape = "\\t"; break;
        default:
            snprintf(control, sizeof(control), "\\u%04x", s[i]);
            escape = control;
            break;
        }
        TRY(put(e, escape));
        i++;
    }
    return clm_buf_append_byte(&e->out, '"');
}

static clm_err put_key(encoder *e, const char *key, size_t len)
{
    TRY(put_string(e, key, len));
    return put(e, (e->flags & PBJSON_PRETTY) ? ": " : ":");
}

/* A field's JSON name as a key. .proto field names are [A-Za-z0-9_], so the name needs
 * no escaping, and is written in place: it is never longer than the .proto name. */
static clm_err put_field_key(encoder *e, const char *proto_name)
{
    size_t room = strlen(proto_name) + 1;

    TRY(clm_buf_reserve(&e->out, room + 1));
    clm_buf_append_byte(&e->out, '"');
    pbjson_json_name(proto_name, (char *)e->out.data + e->out.len, room);
    e->out.len += strlen((char *)e->out.data + e->out.len);
    TRY(clm_buf_append_byte(&e->out, '"'));
    return put(e, (e->flags & PBJSON_PRETTY) ? ": " : ":");
}

/*
 * The shortest %g text that reads back as x: back through strtod, and for a float
 * field then rounded to float, which is the path pbjson_decode (and protobuf's own
 * parsers) take. For a float it must also not exceed FLT_MAX as a double: readers
 * that range-check before rounding (python's json_format) refuse "3.4028235e+38",
 * the shortest text for FLT_MAX, which prints as 3.402823466e+38 instead.
 * -0.0 is written "-0.0", since jansson reads "-0" as the integer 0.
 */
static clm_err put_double(encoder *e, double x, bool is_float)
{
    char text[40];

    if (isnan(x))
        return put(e, "\"NaN\"");
    if (isinf(x))
        return put(e, x > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    if (x == 0)
        return put(e, signbit(x) ? "-0.0" : "0");
    for (int precision = 1; precision <= 17; precision++) {
        double back;

        snprintf(text, sizeof(text), "%.*g", precision, x);
        back = strtod(text, NULL);
        if (is_float ? fabs(back) <= FLT_MAX && (float)back == (float)x : back == x)
            break;
    }
    return put(e, text);
}

/* ---- values ---- */

/* One value of `field`'s type, stored at member (an element, for repeated fields). */
static clm_err encode_value(encoder *e, const ProtobufCFieldDescriptor *field, const void *member)
{
    char text[32];

    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        snprintf(text, sizeof(text), "%" PRId32, *(const int32_t *)member);
        return put(e, text);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        snprintf(text, sizeof(text), "%" PRIu32, *(const uint32_t *)member);
        return put(e, text);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(text, sizeof(text), "\"%" PRId64 "\"", *(const int64_t *)member);
        return put(e, text);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(text, sizeof(text), "\"%" PRIu64 "\"", *(const uint64_t *)member);
        return put(e, text);
    case PROTOBUF_C_TYPE_FLOAT: return put_double(e, *(const float *)member, true);
    case PROTOBUF_C_TYPE_DOUBLE: return put_double(e, *(const double *)member, false);
    case PROTOBUF_C_TYPE_BOOL:
        return put(e, *(const protobuf_c_boolean *)member ? "true" : "false");
    case PROTOBUF_C_TYPE_ENUM: {
        int32_t number = *(const int32_t *)member;
        const ProtobufCEnumValue *value =
            protobuf_c_enum_descriptor_get_value(field->descriptor, number);

        if (value != NULL)
            return put_string(e, value->name, strlen(value->name));
        snprintf(text, sizeof(text), "%" PRId32, number); /* open enum: keep the number */
        return put(e, text);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)member;

        return s != NULL ? put_string(e, s, strlen(s)) : put(e, "\"\"");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bytes = member;
        size_t len = pbjson_base64_encoded_len(bytes->len);

        if (bytes->len > 0 && bytes->data == NULL)
            return pbjson_path_fail(&e->path, CLM_ERR_INVALID_ARGUMENT,
                                    "bytes of length %zu without data", bytes->len);
        TRY(clm_buf_reserve(&e->out, len + 2));
        clm_buf_append_byte(&e->out, '"');
        if (bytes->len > 0)
            pbjson_base64_encode(bytes->data, bytes->len, (char *)e->out.data + e->out.len);
        e->out.len += len;
        return clm_buf_append_byte(&e->out, '"');
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return encode_message(e, *(const ProtobufCMessage *const *)member, field->descriptor);
    }
    return clm_fail(CLM_ERR_INTERNAL, "encode_value: field %s has type %d", field->name,
                    (int)field->type);
}

/* ---- maps ---- */

typedef struct map_key {
    size_t index;       /* of the entry in the field's array */
    int skip;           /* a later entry has the same key */
    const char *string; /* string keys; NULL for the others, kept in `number` */
    char number[24];
} map_key;

static const char *map_key_text(const map_key *key)
{
    return key->string != NULL ? key->string : key->number;
}

/* Orders pointers to keys by key text, then by entry index. */
static int map_key_compare(const void *a, const void *b)
{
    const map_key *x = *(const map_key *const *)a, *y = *(const map_key *const *)b;
    int c = strcmp(map_key_text(x), map_key_text(y));

    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

static void map_key_read(const ProtobufCMessage *entry, const ProtobufCFieldDescriptor *field,
                         map_key *key)
{
    const void *member = PBJSON_CMEMBER(entry, field->offset);

    key->string = NULL;
    switch (field->type) {
    case PROTOBUF_C_TYPE_STRING:
        key->string = *(const char *const *)member != NULL ? *(const char *const *)member : "";
        break;
    case PROTOBUF_C_TYPE_BOOL:
        key->string = *(const protobuf_c_boolean *)member ? "true" : "false";
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(key->number, sizeof(key->number), "%" PRId64, *(const int64_t *)member);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(key->number, sizeof(key->number), "%" PRIu64, *(const uint64_t *)member);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        snprintf(key->number, sizeof(key->number), "%" PRIu32, *(const uint32_t *)member);
        break;
    default: /* int32, sint32, sfixed32: pbjson_field_is_map allows no other types */
        snprintf(key->number, sizeof(key->number), "%" PRId32, *(const int32_t *)member);
        break;
    }
}

/*
 * A map prints as an object keyed by the entries' keys. The wire allows one key
 * more than once and protobuf parsers keep the last; the JSON object must not repeat
 * a key, so entries whose key comes again later are left out.
 */
static clm_err encode_map(encoder *e, const ProtobufCFieldDescriptor *field,
                          ProtobufCMessage *const *entries, size_t n)
{
    const ProtobufCMessageDescriptor *entry_desc = field->descriptor;
    const ProtobufCFieldDescriptor *key_field = &entry_desc->fields[0];
    const ProtobufCFieldDescriptor *value_field = &entry_desc->fields[1];
    map_key *keys;
    map_key **sorted;
    size_t count = 0;
    clm_err err = CLM_OK;

    for (size_t i = 0; i < n; i++) {
        if (entries[i] == NULL)
            return pbjson_path_fail(&e->path, CLM_ERR_INVALID_ARGUMENT, "map entry %zu is NULL", i);
    }
    keys = calloc(n + 1, sizeof(*keys));
    sorted = calloc(n + 1, sizeof(*sorted));
    if (keys == NULL || sorted == NULL) {
        free(keys);
        free(sorted);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory printing a map of %zu", n);
    }
    for (size_t i = 0; i < n; i++) {
        keys[i].index = i;
        map_key_read(entries[i], key_field, &keys[i]);
        sorted[i] = &keys[i];
    }
    if (n > 1) {
        qsort(sorted, n, sizeof(*sorted), map_key_compare);
        for (size_t i = 0; i + 1 < n; i++) {
            if (strcmp(map_key_text(sorted[i]), map_key_text(sorted[i + 1])) == 0)
                sorted[i]->skip = 1; /* a later entry has the same key */
        }
    }
    err = open_container(e, "{");
    for (size_t i = 0; i < n && err == CLM_OK; i++) {
        const char *text = map_key_text(&keys[i]);
        size_t mark;

        if (keys[i].skip)
            continue;
        mark = pbjson_path_push_key(&e->path, text, strlen(text));
        if ((err = next_item(e, &count)) == CLM_OK &&
            (err = put_key(e, text, strlen(text))) == CLM_OK)
            err = encode_value(e, value_field, PBJSON_CMEMBER(entries[i], value_field->offset));
        if (err == CLM_OK)
            pbjson_path_pop(&e->path, mark);
    }
    free(keys);
    free(sorted);
    if (err != CLM_OK)
        return err;
    return close_container(e, count, "}");
}

static clm_err encode_repeated(encoder *e, const ProtobufCMessage *msg,
                               const ProtobufCFieldDescriptor *field)
{
    size_t n = *(const size_t *)PBJSON_CMEMBER(msg, field->quantifier_offset);
    const unsigned char *array = *(void *const *)PBJSON_CMEMBER(msg, field->offset);
    size_t size = pbjson_element_size(field->type);
    size_t count = 0;

    if (n > 0 && array == NULL)
        return pbjson_path_fail(&e->path, CLM_ERR_INVALID_ARGUMENT, "%zu elements but no array", n);
    if (pbjson_field_is_map(msg->descriptor, field))
        return encode_map(e, field, (ProtobufCMessage *const *)array, n);
    TRY(open_container(e, "["));
    for (size_t i = 0; i < n; i++) {
        size_t mark = pbjson_path_push_index(&e->path, i);

        TRY(next_item(e, &count));
        TRY(encode_value(e, field, array + i * size));
        pbjson_path_pop(&e->path, mark);
    }
    return close_container(e, count, "]");
}

/* ---- messages ---- */

static clm_err encode_well_known(encoder *e, const ProtobufCMessage *msg, pbjson_wkt wkt)
{
    const ProtobufCFieldDescriptor *seconds_field, *nanos_field;
    char text[PBJSON_WKT_TEXT_MAX];
    int64_t seconds;
    int32_t nanos;
    const char *why;

    TRY(pbjson_wkt_fields(msg->descriptor, &seconds_field, &nanos_field));
    seconds = *(const int64_t *)PBJSON_CMEMBER(msg, seconds_field->offset);
    nanos = *(const int32_t *)PBJSON_CMEMBER(msg, nanos_field->offset);
    why = wkt == PBJSON_WKT_TIMESTAMP ? pbjson_timestamp_format(seconds, nanos, text)
                                      : pbjson_duration_format(seconds, nanos, text);
    if (why != NULL)
        return pbjson_path_fail(&e->path, CLM_ERR_INVALID_ARGUMENT, "%s: %s", msg->descriptor->name,
                                why);
    return put_string(e, text, strlen(text));
}

static clm_err encode_fields(encoder *e, const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    size_t count = 0;

    TRY(open_container(e, "{"));
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[i];
        char name[128];
        size_t mark;

        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            if (*(const size_t *)PBJSON_CMEMBER(msg, field->quantifier_offset) == 0 &&
                !(e->flags & PBJSON_EMIT_DEFAULTS))
                continue;
        } else if (!pbjson_field_present(msg, field)) {
            /* With PBJSON_EMIT_DEFAULTS, proto3 fields without presence print their
             * default; unset messages, oneofs and proto2 optionals stay out. */
            if (!(e->flags & PBJSON_EMIT_DEFAULTS) || field->label != PROTOBUF_C_LABEL_NONE ||
                (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
                field->type == PROTOBUF_C_TYPE_MESSAGE)
                continue;
        }
        pbjson_json_name(field->name, name, sizeof(name)); /* for error messages only */
        mark = pbjson_path_push_name(&e->path, name, strlen(name));
        TRY(next_item(e, &count));
        TRY(put_field_key(e, field->name));
        if (field->label == PROTOBUF_C_LABEL_REPEATED)
            TRY(encode_repeated(e, msg, field));
        else
            TRY(encode_value(e, field, PBJSON_CMEMBER(msg, field->offset)));
        pbjson_path_pop(&e->path, mark);
    }
    return close_container(e, count, "}");
}

/* msg may be NULL where a message value is needed: it prints as desc's default. */
static clm_err encode_message(encoder *e, const ProtobufCMessage *msg,
                              const ProtobufCMessageDescriptor *desc)
{
    pbjson_wkt wkt;
    clm_err err;

    if (msg == NULL) {
        ProtobufCMessage *empty = malloc(desc->sizeof_message);

        if (empty == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory for a default %s", desc->name);
        protobuf_c_message_init(desc, empty); /* holds no allocations of its own */
        err = encode_message(e, empty, desc);
        free(empty);
        return err;
    }
    if (++e->depth > PBJSON_MAX_DEPTH)
        return pbjson_path_fail(&e->path, CLM_ERR_INVALID_ARGUMENT,
                                "messages nested more than %d deep", PBJSON_MAX_DEPTH);
    wkt = pbjson_wkt_of(msg->descriptor);
    if (wkt == PBJSON_WKT_UNSUPPORTED)
        err = pbjson_path_fail(&e->path, CLM_ERR_UNSUPPORTED,
                               "%s has a JSON mapping of its own that lib/json does not "
                               "implement",
                               msg->descriptor->name);
    else if (wkt != PBJSON_WKT_NONE)
        err = encode_well_known(e, msg, wkt);
    else
        err = encode_fields(e, msg);
    e->depth--;
    return err;
}

clm_err pbjson_encode(const ProtobufCMessage *msg, unsigned flags, char **out)
{
    encoder *e;
    clm_err err;

    if (out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "pbjson_encode: out is NULL");
    *out = NULL;
    if (msg == NULL || msg->descriptor == NULL ||
        msg->descriptor->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "pbjson_encode: not a protobuf-c message");
    if (flags & ~(PBJSON_PRETTY | PBJSON_EMIT_DEFAULTS))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "pbjson_encode: unknown flags 0x%x", flags);
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    e->flags = flags;
    err = encode_message(e, msg, msg->descriptor);
    if (err == CLM_OK)
        *out = (char *)clm_buf_detach(&e->out, NULL);
    clm_buf_free(&e->out);
    free(e);
    return err;
}
