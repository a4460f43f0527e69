/*
 * lib/json/pbjson_internal.h: what pbjson_decode.c and pbjson_encode.c share.
 * Not part of the API; include only from lib/json/.
 */
#ifndef CLM_LIB_JSON_PBJSON_INTERNAL_H
#define CLM_LIB_JSON_PBJSON_INTERNAL_H

#include "lib/base/error.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- field paths for error messages (pbjson_field.c) ---- */

#define PBJSON_PATH_MAX 256

/** Where in the message a codec is: `spec.names[2]`, `labels['k']`. */
typedef struct pbjson_path {
    char text[PBJSON_PATH_MAX];
    size_t len;
} pbjson_path;

/* Each push returns the length to give pbjson_path_pop() to undo it. A path too long
 * for the buffer is cut short; the message stays readable. */
size_t pbjson_path_push_name(pbjson_path *path, const char *name, size_t name_len);
size_t pbjson_path_push_index(pbjson_path *path, size_t index);
size_t pbjson_path_push_key(pbjson_path *path, const char *key, size_t key_len);
void pbjson_path_pop(pbjson_path *path, size_t len);

/** clm_fail() with `field "<path>": ` in front (nothing in front at the top level). */
clm_err pbjson_path_fail(const pbjson_path *path, clm_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- descriptors (pbjson_field.c) ---- */

/** The member of `msg` at `offset`, as a byte pointer. */
#define PBJSON_MEMBER(msg, offset) ((void *)((unsigned char *)(msg) + (offset)))
#define PBJSON_CMEMBER(msg, offset) ((const void *)((const unsigned char *)(msg) + (offset)))

/** Writes the JSON name of a .proto field name (protoc's ToJsonName) into out. */
void pbjson_json_name(const char *name, char *out, size_t out_size);

/** Whether key (key_len bytes, not NUL-terminated) is the JSON name of `name`. */
bool pbjson_json_name_equals(const char *name, const char *key, size_t key_len);

/** The field a JSON key names, by .proto name or JSON name; NULL when none. */
const ProtobufCFieldDescriptor *pbjson_field_by_key(const ProtobufCMessageDescriptor *desc,
                                                    const char *key, size_t key_len);

/** Whether `field` of `parent` is a map (see the heuristic in pbjson.h). */
bool pbjson_field_is_map(const ProtobufCMessageDescriptor *parent,
                         const ProtobufCFieldDescriptor *field);

/**
 * Whether desc comes from a proto2 file, as far as protobuf-c shows: it has a field
 * labelled optional or required (protoc-c 1.4.1 gives proto3 fields no such label).
 * Its enums are then closed: a number they do not name is refused on input.
 */
bool pbjson_message_is_proto2(const ProtobufCMessageDescriptor *desc);

/** Size of one element of a repeated field of this type in protobuf-c's arrays. */
size_t pbjson_element_size(ProtobufCType type);

/**
 * Whether protobuf-c's packer would write this singular (non-repeated) field: the
 * selected oneof member, a proto2 optional field that is set, a required field, or a
 * proto3 field whose value is not zero, "" or empty.
 */
bool pbjson_field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field);

typedef enum pbjson_wkt {
    PBJSON_WKT_NONE = 0,    /* a plain message */
    PBJSON_WKT_TIMESTAMP,   /* google.protobuf.Timestamp */
    PBJSON_WKT_DURATION,    /* google.protobuf.Duration */
    PBJSON_WKT_UNSUPPORTED, /* a well-known type with a special mapping not done here */
} pbjson_wkt;

pbjson_wkt pbjson_wkt_of(const ProtobufCMessageDescriptor *desc);

/**
 * The `seconds` (int64, 1) and `nanos` (int32, 2) fields of a Timestamp or Duration
 * descriptor. @return CLM_OK, or CLM_ERR_INTERNAL when the descriptor has another shape.
 */
clm_err pbjson_wkt_fields(const ProtobufCMessageDescriptor *desc,
                          const ProtobufCFieldDescriptor **seconds,
                          const ProtobufCFieldDescriptor **nanos);

/* ---- Timestamp and Duration strings (pbjson_wkt.c) ---- */

/** Longest text the format functions write, NUL included. */
#define PBJSON_WKT_TEXT_MAX 40

/* The parse functions return NULL on success, else why the text was refused. The
 * format functions return NULL on success, else why the value has no JSON form. */
const char *pbjson_timestamp_parse(const char *text, size_t len, int64_t *seconds, int32_t *nanos);
const char *pbjson_timestamp_format(int64_t seconds, int32_t nanos, char out[PBJSON_WKT_TEXT_MAX]);
const char *pbjson_duration_parse(const char *text, size_t len, int64_t *seconds, int32_t *nanos);
const char *pbjson_duration_format(int64_t seconds, int32_t nanos, char out[PBJSON_WKT_TEXT_MAX]);

/* ---- base64 (pbjson_base64.c) ---- */

/** Characters of the padded standard base64 of n bytes, NUL not included. */
size_t pbjson_base64_encoded_len(size_t n);

/** Writes the padded standard base64 of in[0..n) and a NUL into out. */
void pbjson_base64_encode(const uint8_t *in, size_t n, char *out);

/** Bytes pbjson_base64_decode() may write for text_len characters. */
size_t pbjson_base64_decoded_max(size_t text_len);

/**
 * Decodes standard or URL-safe base64, padded or not, into out (at least
 * pbjson_base64_decoded_max(len) bytes). @return NULL on success, else why not.
 */
const char *pbjson_base64_decode(const char *text, size_t len, uint8_t *out, size_t *out_len);

#endif
