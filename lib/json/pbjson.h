/*
 * lib/json/pbjson.h: the proto3 JSON mapping for any protobuf-c message.
 *
 * pbjson_decode() turns JSON text into a message of a given descriptor, and
 * pbjson_encode() turns a message into JSON text, following the proto3 JSON mapping
 * (https://protobuf.dev/programming-guides/proto3/#json). It works from the
 * descriptors protoc-c compiles in, so one codec serves every message type: it is
 * what `clmctl call SERVICE/METHOD '{json}'` parses requests with and prints replies
 * with. JSON text is parsed by jansson; nothing here parses JSON by hand.
 *
 * The mapping, field by field:
 *   int32, sint32, sfixed32, uint32, fixed32   JSON number; a decimal string is accepted
 *   int64, sint64, sfixed64, uint64, fixed64   decimal string; a JSON number is accepted
 *   float, double        number, or "NaN", "Infinity", "-Infinity"; numeric strings are
 *                        accepted; a float given a value beyond its range is an error
 *   bool                 true or false
 *   string               string (UTF-8; checked again on output)
 *   bytes                standard base64 with padding; the decoder also takes URL-safe
 *                        base64 and missing padding
 *   enum                 the value's name; the decoder also takes the number, and keeps
 *                        numbers the enum does not name (proto3 enums are open) except
 *                        in proto2 messages, where they are refused (closed enums)
 *   message              object; keys are lowerCamelCase JSON names on output, and the
 *                        decoder takes the JSON name or the .proto name
 *   repeated             array
 *   map<K, V>            object whose keys are the map keys as strings
 *   oneof                the one member that is set
 *   google.protobuf.Timestamp   RFC 3339 string, "2026-11-27T20:11:34.123Z"; output is
 *                        UTC with 0, 3, 6 or 9 fraction digits; input may carry an offset
 *   google.protobuf.Duration    "1.5s", "-0.000001s"
 *   null                 as a field value: the field's default (not set)
 *
 * Integer strings follow the JSON number grammar for integers: optional '-', then
 * digits without leading zeros (no '+', spaces, fraction or exponent). A JSON number
 * given to an integer field must be integral ("1.0" and "1e3" are accepted).
 *
 * Caveats (what protobuf-c 1.4.1 and jansson 2.14 allow):
 * - protobuf-c descriptors do not carry `json_name`: JSON names are computed from the
 *   field name the way protoc does (drop each '_' and upper-case the letter after
 *   it), so a `json_name` option in a .proto file is not honoured.
 * - protobuf-c descriptors do not carry the map_entry option. A repeated message field
 *   is taken for a map when its message type is nested in the field's message, is
 *   named as protoc names map entries (field `by_id` -> `ByIdEntry`), and has exactly
 *   the fields `key` = 1 (integral, bool or string) and `value` = 2, neither repeated.
 *   protoc refuses a hand-written nested type of that name next to a map field, so
 *   the only misreading is a hand-written `repeated ByIdEntry by_id` of exactly that
 *   shape, which has the same wire encoding as the map it imitates.
 * - protoc-c 1.4.1 refuses proto3 `optional` fields. proto2 `optional` (has_ flags,
 *   declared defaults) and `required` fields work: an unset optional field is left
 *   out even with PBJSON_EMIT_DEFAULTS, and a required field missing from the JSON
 *   text is an error.
 * - protobuf-c does not record a file's syntax. A message counts as proto2 (closed
 *   enums) when it has a field labelled optional or required; a proto2 message with
 *   only repeated fields is treated as proto3. A number an enum does not name (off
 *   the wire) prints as that number either way.
 * - Presence follows protobuf-c's own packer, so the JSON shows what the wire would
 *   carry: a proto3 scalar equal to 0 (including -0.0), "" or empty bytes is left
 *   out; a oneof member is printed whenever it is the selected case.
 * - Well-known types other than Timestamp, Duration and Empty (Any, Struct, Value,
 *   ListValue, FieldMask, the wrappers) fail with CLM_ERR_UNSUPPORTED instead of
 *   being printed as plain messages, which would be wrong JSON for them.
 * - jansson holds JSON integers as int64: a uint64 above INT64_MAX must be given as
 *   a string (as pbjson_encode prints it), and an integer literal beyond the int64
 *   range fails as invalid JSON even for a double field (write 1e30 instead).
 * - protobuf-c strings are NUL-terminated, so a string containing U+0000 is refused.
 * - Map keys of integer type must be canonical ("7", not "07" or "-0"), so that two
 *   JSON keys can never name the same map entry. A message holding one map key twice
 *   (possible on the wire) prints the last entry only, as protobuf parsers keep it.
 * - Strict input: unknown JSON keys and unknown enum names are errors (there is no
 *   ignore_unknown_fields option). Unknown fields of a message (kept by
 *   protobuf_c_message_unpack) are not printed.
 * - Numbers are printed and read with the C library in the "C" locale; a program
 *   that calls setlocale() must keep LC_NUMERIC at "C".
 *
 * Thread rules: no shared state; both functions may run on any number of threads at
 * once. Errors are recorded with clm_fail() and read with clm_error_message() on the
 * calling thread.
 */
#ifndef CLM_LIB_JSON_PBJSON_H
#define CLM_LIB_JSON_PBJSON_H

#include "lib/base/error.h"

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/** pbjson_encode() flags. */
#define PBJSON_PRETTY (1u << 0)        /* newlines and 2-space indentation */
#define PBJSON_EMIT_DEFAULTS (1u << 1) /* also print proto3 fields holding defaults */

/** Deepest nesting of messages accepted by either direction (the outermost is 1). */
#define PBJSON_MAX_DEPTH 64

/** Longest JSON text pbjson_decode() accepts, in bytes. */
#define PBJSON_MAX_INPUT_BYTES ((size_t)16 * 1024 * 1024)

/**
 * @brief Parse JSON text into a new message of type `desc`.
 *
 * The text must hold exactly one JSON value (surrounding whitespace allowed): an
 * object, or a string when `desc` is Timestamp or Duration. Keys may be JSON names
 * or .proto names; a field may not be given under both.
 *
 * The message is built directly with malloc(), exactly as protobuf_c_message_unpack()
 * would build it with the default allocator (every string, bytes buffer, array and
 * sub-message its own allocation; unset strings point at the descriptor's default),
 * so the caller frees it with protobuf_c_message_free_unpacked(msg, NULL) and may use
 * it wherever an unpacked message is expected.
 *
 * @param[in] desc the message type; protoc-c generated, with a valid magic.
 * @param[in] json the text; need not be NUL-terminated.
 * @param[in] len its length in bytes, at most PBJSON_MAX_INPUT_BYTES.
 * @param[out] out on success, the new message, owned by the caller; set to NULL on
 *             failure.
 * @return CLM_OK;
 *   CLM_ERR_INVALID_ARGUMENT when the text is not JSON, is too long, has trailing
 *     garbage or a duplicate key, nests messages deeper than PBJSON_MAX_DEPTH, or does
 *     not fit the message: unknown field, field given twice, wrong JSON type, integer
 *     out of range, bad base64, unknown enum name, two members of one oneof, bad
 *     Timestamp or Duration, null inside an array or as a map value, missing proto2
 *     required field. The message names the field by its path as written in the
 *     input, e.g. `field "spec.names[2]": expected string, got number`;
 *   CLM_ERR_UNSUPPORTED when the message uses a well-known type that has no mapping
 *     here (see Caveats);
 *   CLM_ERR_INTERNAL when a Timestamp or Duration descriptor has an unexpected shape;
 *   CLM_ERR_NO_MEMORY.
 */
clm_err pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                      ProtobufCMessage **out);

/**
 * @brief Print a message as JSON text.
 *
 * Fields appear in field-number order under their JSON names. The text has no
 * trailing newline. Sub-messages that are NULL where a value is needed (a map value,
 * a repeated element, a proto2 required field) print as their default instance.
 *
 * @param[in] msg the message; not changed.
 * @param[in] flags 0, or PBJSON_PRETTY and/or PBJSON_EMIT_DEFAULTS.
 * @param[out] out on success, the NUL-terminated text, malloc'd, owned by the caller
 *             (free()); set to NULL on failure.
 * @return CLM_OK;
 *   CLM_ERR_INVALID_ARGUMENT when the message cannot be printed faithfully: a string
 *     that is not UTF-8, a Timestamp or Duration out of its range, nesting deeper
 *     than PBJSON_MAX_DEPTH, an unknown flag, a NULL map entry. The message names the
 *     field by its JSON path;
 *   CLM_ERR_UNSUPPORTED and CLM_ERR_INTERNAL as for pbjson_decode();
 *   CLM_ERR_NO_MEMORY.
 */
clm_err pbjson_encode(const ProtobufCMessage *msg, unsigned flags, char **out);

#endif
