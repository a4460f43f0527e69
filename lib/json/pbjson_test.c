/*
 * lib/json/pbjson_test.c: pbjson_decode and pbjson_encode, table-driven.
 *
 * Each row is JSON text for a message type and what must come of it: either it
 * decodes and prints back as the canonical text given, or it fails with the given
 * code and a message containing the given words (which name the field). Every row
 * that decodes is also checked to round-trip: the printed text decodes to the same
 * packed bytes, and the message survives protobuf-c's pack/unpack unchanged in JSON.
 */
#include "lib/json/pbjson.h"
#include "lib/json/testdata/pbjson_test.pb-c.h"
#include "lib/json/testdata/pbjson_test2.pb-c.h"
#include "tests/unit.h"

#include <stdlib.h>
#include <string.h>

#define ALL (&clm__test__all_types__descriptor)
#define NESTED (&clm__test__nested__descriptor)
#define LEGACY (&clm__test2__legacy__descriptor)
#define TIMESTAMP (&google__protobuf__timestamp__descriptor)
#define DURATION (&google__protobuf__duration__descriptor)

#define CASE_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (cond)                                                                                  \
            unit_passed++;                                                                         \
        else                                                                                       \
            UNIT_FAIL_AT(__FILE__, __LINE__, __VA_ARGS__);                                         \
    } while (0)

typedef struct codec_case {
    const ProtobufCMessageDescriptor *desc;
    const char *input;
    clm_err err;      /* CLM_OK: decodes and prints as `want` */
    const char *want; /* the canonical JSON, or words of the error message */
} codec_case;

/* clang-format off */
#define OK(desc, in, out) {desc, in, CLM_OK, out}
#define BAD(desc, in, words) {desc, in, CLM_ERR_INVALID_ARGUMENT, words}
/* clang-format on */

static const codec_case cases[] = {
    /* ---- what decodes, and its canonical form ---- */
    OK(ALL, "{}", "{}"),
    OK(ALL, " \n\t{ }\n", "{}"),
    OK(ALL,
       "{\"fInt32\":-5,\"fInt64\":\"-9223372036854775808\",\"fUint32\":4294967295,"
       "\"fUint64\":\"18446744073709551615\",\"fSint32\":-2147483648,"
       "\"fSint64\":\"9223372036854775807\",\"fFixed32\":7,\"fFixed64\":\"8\","
       "\"fSfixed32\":-9,\"fSfixed64\":\"-10\",\"fFloat\":1.5,\"fDouble\":0.1,"
       "\"fBool\":true,\"fString\":\"h\xc3\xa9llo \\\"q\\\"\\n\",\"fBytes\":\"AAEC/w==\","
       "\"fEnum\":\"COLOR_RED\",\"fNested\":{\"id\":1,\"name\":\"n\"}}",
       "{\"fInt32\":-5,\"fInt64\":\"-9223372036854775808\",\"fUint32\":4294967295,"
       "\"fUint64\":\"18446744073709551615\",\"fSint32\":-2147483648,"
       "\"fSint64\":\"9223372036854775807\",\"fFixed32\":7,\"fFixed64\":\"8\","
       "\"fSfixed32\":-9,\"fSfixed64\":\"-10\",\"fFloat\":1.5,\"fDouble\":0.1,"
       "\"fBool\":true,\"fString\":\"h\xc3\xa9llo \\\"q\\\"\\n\",\"fBytes\":\"AAEC/w==\","
       "\"fEnum\":\"COLOR_RED\",\"fNested\":{\"id\":1,\"name\":\"n\"}}"),
    /* .proto names are accepted; output uses JSON names */
    OK(ALL, "{\"f_int32\":1,\"f_string\":\"x\",\"r_nested\":[{\"id\":2}]}",
       "{\"fInt32\":1,\"fString\":\"x\",\"rNested\":[{\"id\":2}]}"),
    /* 64-bit integers accept numbers, 32-bit ones accept strings */
    OK(ALL, "{\"fInt64\":123,\"fUint64\":9223372036854775807,\"fInt32\":\"-42\"}",
       "{\"fInt32\":-42,\"fInt64\":\"123\",\"fUint64\":\"9223372036854775807\"}"),
    OK(ALL, "{\"fInt32\":1.0,\"fUint64\":1e3,\"fInt64\":1e18,\"fUint32\":\"0\"}",
       "{\"fInt32\":1,\"fInt64\":\"1000000000000000000\",\"fUint64\":\"1000\"}"),
    OK(ALL, "{\"fInt32\":\"-0\",\"fSint64\":-0}", "{}"),
    /* proto3 defaults are left out; null is the default */
    OK(ALL,
       "{\"fInt32\":0,\"fString\":\"\",\"fBool\":false,\"fBytes\":\"\","
       "\"fEnum\":\"COLOR_UNSPECIFIED\",\"fDouble\":0,\"fFloat\":-0.0}",
       "{}"),
    OK(ALL, "{\"fInt32\":null,\"fNested\":null,\"rInt32\":null,\"labels\":null,\"created\":null}",
       "{}"),
    /* floating point: specials, shortest round-trip text, float precision */
    OK(ALL,
       "{\"fFloat\":\"NaN\",\"fDouble\":\"-Infinity\",\"rDouble\":[\"Infinity\",-0.0,1e300,\"1."
       "25\"]}",
       "{\"fFloat\":\"NaN\",\"fDouble\":\"-Infinity\",\"rDouble\":[\"Infinity\",-0.0,1e+300,1.25]"
       "}"),
    OK(ALL,
       "{\"fFloat\":0.1,\"rFloat\":[3.4028235e38,1e-45,16777216,0.3,\"-2.5e-3\",-3.4028234e38]}",
       "{\"fFloat\":0.1,\"rFloat\":[3.402823466e+38,1e-45,16777216,0.3,-0.0025,"
       "-3.402823466e+38]}"),
    OK(ALL,
       "{\"rDouble\":[123456789.125,1e21,5e-324,1.7976931348623157e308,3,0.30000000000000004]}",
       "{\"rDouble\":[123456789.125,1e+21,5e-324,1.7976931348623157e+308,3,"
       "0.30000000000000004]}"),
    /* bytes: URL-safe and unpadded input, standard padded output */
    OK(ALL, "{\"fBytes\":\"_-8\",\"rBytes\":[\"AQ\",\"AQI\",\"\",\"AA==\",\"-_-_\"]}",
       "{\"fBytes\":\"/+8=\",\"rBytes\":[\"AQ==\",\"AQI=\",\"\",\"AA==\",\"+/+/\"]}"),
    /* enums by name or number; numbers the enum does not name are kept */
    OK(ALL, "{\"fEnum\":2,\"rEnum\":[\"COLOR_RED\",0,7,-5,\"COLOR_NEGATIVE\"]}",
       "{\"fEnum\":\"COLOR_GREEN\",\"rEnum\":[\"COLOR_RED\",\"COLOR_UNSPECIFIED\",7,"
       "\"COLOR_NEGATIVE\",\"COLOR_NEGATIVE\"]}"),
    OK(ALL, "{\"fEnum\":99}", "{\"fEnum\":99}"),
    /* every repeated type; defaults inside arrays are kept */
    OK(ALL,
       "{\"rInt32\":[1,-2,0],\"rInt64\":[\"3\",4],\"rUint32\":[5],\"rUint64\":["
       "\"18446744073709551615\"],"
       "\"rSint32\":[-1],\"rSint64\":[\"-1\"],\"rFixed32\":[1],\"rFixed64\":[\"1\"],"
       "\"rSfixed32\":[-1],\"rSfixed64\":[\"-1\"],\"rBool\":[true,false],\"rString\":[\"a\",\"\"],"
       "\"rNested\":[{},{\"id\":2,\"names\":[\"x\"]}]}",
       "{\"rInt32\":[1,-2,0],\"rInt64\":[\"3\",\"4\"],\"rUint32\":[5],"
       "\"rUint64\":[\"18446744073709551615\"],\"rSint32\":[-1],\"rSint64\":[\"-1\"],"
       "\"rFixed32\":[1],\"rFixed64\":[\"1\"],\"rSfixed32\":[-1],\"rSfixed64\":[\"-1\"],"
       "\"rBool\":[true,false],\"rString\":[\"a\",\"\"],"
       "\"rNested\":[{},{\"id\":2,\"names\":[\"x\"]}]}"),
    OK(ALL, "{\"rInt32\":[],\"labels\":{}}", "{}"),
    /* oneof: a member is printed when selected, even holding its default */
    OK(ALL, "{\"oString\":\"\"}", "{\"oString\":\"\"}"),
    OK(ALL, "{\"oInt64\":\"0\"}", "{\"oInt64\":\"0\"}"),
    OK(ALL, "{\"oNested\":{}}", "{\"oNested\":{}}"),
    OK(ALL, "{\"oEnum\":\"COLOR_UNSPECIFIED\"}", "{\"oEnum\":\"COLOR_UNSPECIFIED\"}"),
    OK(ALL, "{\"oBytes\":\"\"}", "{\"oBytes\":\"\"}"),
    OK(ALL, "{\"oString\":null,\"oInt64\":\"5\",\"o_nested\":null}", "{\"oInt64\":\"5\"}"),
    /* maps keep the order of their keys */
    OK(ALL, "{\"labels\":{\"b\":\"2\",\"a\":\"1\",\"\":\"empty\"}}",
       "{\"labels\":{\"b\":\"2\",\"a\":\"1\",\"\":\"empty\"}}"),
    OK(ALL, "{\"byId\":{\"-5\":{\"id\":1},\"9223372036854775807\":{},\"0\":{\"name\":\"z\"}}}",
       "{\"byId\":{\"-5\":{\"id\":1},\"9223372036854775807\":{},\"0\":{\"name\":\"z\"}}}"),
    OK(ALL, "{\"by_flag\":{\"true\":1,\"false\":0}}", "{\"byFlag\":{\"true\":1,\"false\":0}}"),
    OK(ALL, "{\"byNumber\":{\"4294967295\":\"COLOR_RED\",\"0\":2}}",
       "{\"byNumber\":{\"4294967295\":\"COLOR_RED\",\"0\":\"COLOR_GREEN\"}}"),
    OK(ALL, "{\"durations\":{\"x\":\"1.5s\",\"y\":\"0s\"}}",
       "{\"durations\":{\"x\":\"1.500s\",\"y\":\"0s\"}}"),
    /* not nested in AllTypes, so not a map: an array of messages */
    OK(ALL, "{\"pairs\":[{\"key\":\"k\",\"value\":\"v\"}]}",
       "{\"pairs\":[{\"key\":\"k\",\"value\":\"v\"}]}"),
    /* Timestamp: UTC out, 0/3/6/9 fraction digits, offsets in */
    OK(ALL, "{\"created\":\"2026-11-27T20:11:34.123Z\"}",
       "{\"created\":\"2026-11-27T20:11:34.123Z\"}"),
    OK(ALL, "{\"created\":\"2026-11-27T21:11:34+01:00\"}",
       "{\"created\":\"2026-11-27T20:11:34Z\"}"),
    OK(ALL, "{\"created\":\"1970-01-01T00:00:00-00:30\"}",
       "{\"created\":\"1970-01-01T00:30:00Z\"}"),
    OK(ALL, "{\"created\":\"1969-12-31T23:59:59.5Z\"}",
       "{\"created\":\"1969-12-31T23:59:59.500Z\"}"),
    OK(ALL,
       "{\"times\":[\"2024-02-29T12:00:00.000001Z\",\"2026-01-01T00:00:00.1234Z\","
       "\"0001-01-01T00:00:00Z\",\"9999-12-31T23:59:59.999999999Z\","
       "\"1970-01-01T00:00:00Z\"]}",
       "{\"times\":[\"2024-02-29T12:00:00.000001Z\",\"2026-01-01T00:00:00.123400Z\","
       "\"0001-01-01T00:00:00Z\",\"9999-12-31T23:59:59.999999999Z\","
       "\"1970-01-01T00:00:00Z\"]}"),
    /* Duration */
    OK(ALL, "{\"ttl\":\"-0.000001s\"}", "{\"ttl\":\"-0.000001s\"}"),
    OK(ALL, "{\"ttl\":\"00001.0s\"}", "{\"ttl\":\"1s\"}"),
    OK(ALL, "{\"ttl\":\"-315576000000.999999999s\"}", "{\"ttl\":\"-315576000000.999999999s\"}"),
    OK(TIMESTAMP, "\"2026-01-01T00:00:00Z\"", "\"2026-01-01T00:00:00Z\""),
    OK(DURATION, " \"3s\" ", "\"3s\""),
    /* strings: escapes in, UTF-8 out */
    OK(ALL, "{\"fString\":\"\\u00e9\\ud83d\\ude00\\/\"}",
       "{\"fString\":\"\xc3\xa9\xf0\x9f\x98\x80/\"}"),
    OK(ALL, "{\"fString\":\"\\u0001\\t\\u001f\\u007f\"}",
       "{\"fString\":\"\\u0001\\t\\u001f\x7f\"}"),
    /* proto2: has_ flags, declared defaults, required fields */
    OK(LEGACY, "{\"name\":\"x\"}", "{\"name\":\"x\"}"),
    OK(LEGACY, "{\"name\":\"x\",\"mode\":0}", "{\"name\":\"x\",\"mode\":\"MODE_OFF\"}"),
    OK(LEGACY,
       "{\"name\":\"x\",\"count\":0,\"note\":\"hi\",\"mode\":\"MODE_OFF\","
       "\"ratio\":0,\"blob\":\"\"}",
       "{\"name\":\"x\",\"count\":0,\"note\":\"hi\",\"blob\":\"\","
       "\"mode\":\"MODE_OFF\",\"ratio\":0}"),
    OK(LEGACY, "{\"name\":\"\",\"child\":{\"name\":\"b\",\"values\":[\"-1\"]}}",
       "{\"name\":\"\",\"child\":{\"name\":\"b\",\"values\":[\"-1\"]}}"),

    /* ---- what is refused, and the words that say why and where ---- */
    BAD(ALL, "[]", "expected object (clm.test.AllTypes), got array"),
    BAD(ALL, "null", "got null"),
    BAD(ALL, "\"x\"", "got string"),
    BAD(ALL, "", "invalid JSON"),
    BAD(ALL, "{\"fInt32\":1} x", "end of file expected"),
    BAD(ALL, "{\"fInt32\":1}}", "invalid JSON"),
    BAD(ALL, "{\"fInt32\":1,}", "invalid JSON"),
    BAD(ALL, "{\"fInt32\":1,\"fInt32\":2}", "duplicate object key"),
    BAD(ALL, "{'fInt32':1}", "invalid JSON"),
    BAD(ALL, "{\"nope\":1}", "field \"nope\": no such field in clm.test.AllTypes"),
    BAD(ALL, "{\"FInt32\":1}", "field \"FInt32\": no such field"),
    BAD(ALL, "{\"fNested\":{\"bogus\":1}}",
        "field \"fNested.bogus\": no such field in clm.test.Nested"),
    BAD(ALL, "{\"fNested\":{\"names\":[\"a\",2]}}",
        "field \"fNested.names[1]\": expected string, got number"),
    BAD(ALL, "{\"rNested\":[{},{\"names\":[\"a\",\"b\",3]}]}",
        "field \"rNested[1].names[2]\": expected string, got number"),
    BAD(ALL, "{\"f_nested\":{\"child\":{\"id\":\"x\"}}}",
        "field \"f_nested.child.id\": expected an integer"),
    BAD(ALL, "{\"fInt32\":1,\"f_int32\":2}", "field \"f_int32\": field given twice"),
    /* integers */
    BAD(ALL, "{\"fInt32\":\"x\"}", "field \"fInt32\": expected an integer"),
    BAD(ALL, "{\"fInt32\":2147483648}", "field \"fInt32\": 2147483648 is out of range for int32"),
    BAD(ALL, "{\"fSfixed32\":-2147483649}", "-2147483649 is out of range for int32"),
    BAD(ALL, "{\"fUint32\":-1}", "field \"fUint32\": -1 is out of range for uint32"),
    BAD(ALL, "{\"fFixed32\":\"4294967296\"}", "4294967296 is out of range for uint32"),
    BAD(ALL, "{\"fUint64\":\"18446744073709551616\"}",
        "field \"fUint64\": integer 18446744073709551616 out of range"),
    BAD(ALL, "{\"fUint64\":18446744073709551615}", "too big integer"),
    BAD(ALL, "{\"fInt64\":\"9223372036854775808\"}",
        "9223372036854775808 is out of range for int64"),
    BAD(ALL, "{\"fSint64\":\"-9223372036854775809\"}", "is out of range for int64"),
    BAD(ALL, "{\"fInt64\":1e19}", "out of range for int64"),
    BAD(ALL, "{\"fUint64\":1e20}", "out of range"),
    BAD(ALL, "{\"fInt32\":1.5}",
        "field \"fInt32\": expected an integer, got a number with a fraction"),
    BAD(ALL, "{\"fInt32\":\"01\"}", "expected an integer"),
    BAD(ALL, "{\"fInt32\":\" 1\"}", "expected an integer"),
    BAD(ALL, "{\"fInt32\":\"+1\"}", "expected an integer"),
    BAD(ALL, "{\"fInt64\":\"1e3\"}", "expected an integer"),
    BAD(ALL, "{\"fInt64\":\"\"}", "expected an integer"),
    BAD(ALL, "{\"fInt32\":true}", "expected integer, got boolean"),
    BAD(ALL, "{\"rInt64\":[1,{}]}", "field \"rInt64[1]\": expected integer, got object"),
    /* floating point */
    BAD(ALL, "{\"fFloat\":3.5e38}", "field \"fFloat\": number out of range for float"),
    BAD(ALL, "{\"rFloat\":[\"-1e39\"]}", "field \"rFloat[0]\": number out of range for float"),
    BAD(ALL, "{\"fFloat\":\"nan\"}", "expected a number, or the string \"NaN\""),
    BAD(ALL, "{\"fDouble\":\"1e999\"}", "number out of range for double"),
    BAD(ALL, "{\"fDouble\":\"0x10\"}", "expected a number"),
    BAD(ALL, "{\"fDouble\":\" 1\"}", "expected a number"),
    BAD(ALL, "{\"fDouble\":1e400}", "real number overflow"),
    BAD(ALL, "{\"fDouble\":NaN}", "invalid JSON"),
    BAD(ALL, "{\"fDouble\":{}}", "expected number, got object"),
    /* bool, string, bytes */
    BAD(ALL, "{\"fBool\":\"true\"}", "field \"fBool\": expected true or false, got string"),
    BAD(ALL, "{\"rBool\":[1]}", "field \"rBool[0]\": expected true or false, got number"),
    BAD(ALL, "{\"fString\":1}", "field \"fString\": expected string, got number"),
    BAD(ALL, "{\"fString\":\"a\\u0000b\"}", "field \"fString\": string contains U+0000"),
    BAD(ALL, "{\"fString\":\"\\ud800\"}", "invalid Unicode"),
    BAD(ALL, "{\"fString\":\"\xff\"}", "invalid JSON"),
    BAD(ALL, "{\"fBytes\":\"A\"}", "field \"fBytes\": invalid base64: truncated"),
    BAD(ALL, "{\"fBytes\":\"AB=C\"}", "invalid base64"),
    BAD(ALL, "{\"fBytes\":\"A===\"}", "invalid base64: wrong padding"),
    BAD(ALL, "{\"fBytes\":\"AQ=\"}", "invalid base64: wrong padding"),
    BAD(ALL, "{\"fBytes\":\"AB==\"}", "invalid base64: nonzero bits"),
    BAD(ALL, "{\"rBytes\":[\"AA==\",\"A B=\"]}", "field \"rBytes[1]\": invalid base64: character"),
    BAD(ALL, "{\"fBytes\":5}", "expected base64 string, got number"),
    /* enums */
    BAD(ALL, "{\"fEnum\":\"COLOR_PURPLE\"}",
        "field \"fEnum\": unknown value \"COLOR_PURPLE\" of enum clm.test.Color"),
    BAD(ALL, "{\"fEnum\":\"color_red\"}", "unknown value \"color_red\""),
    BAD(ALL, "{\"rEnum\":[\"COLOR_RED\",\"\"]}", "field \"rEnum[1]\": unknown value \"\""),
    BAD(ALL, "{\"fEnum\":2147483648}", "out of range for an enum"),
    BAD(ALL, "{\"fEnum\":true}", "expected enum name or number, got boolean"),
    /* oneof */
    BAD(ALL, "{\"oString\":\"a\",\"oInt64\":\"1\"}",
        "field \"oInt64\": member of the same oneof as \"oString\""),
    BAD(ALL, "{\"oNested\":{},\"o_enum\":1}",
        "field \"o_enum\": member of the same oneof as \"oNested\""),
    BAD(ALL, "{\"oNested\":{\"child\":{\"id\":true}}}",
        "field \"oNested.child.id\": expected integer"),
    /* repeated and maps */
    BAD(ALL, "{\"rInt32\":1}", "field \"rInt32\": expected array, got number"),
    BAD(ALL, "{\"rInt32\":[1,null]}", "field \"rInt32[1]\": null is not allowed in an array"),
    BAD(ALL, "{\"rNested\":[null]}", "field \"rNested[0]\": null is not allowed"),
    BAD(ALL, "{\"labels\":[]}", "field \"labels\": expected object (a map), got array"),
    BAD(ALL, "{\"labels\":{\"a\":1}}", "field \"labels['a']\": expected string, got number"),
    BAD(ALL, "{\"labels\":{\"a\":null}}",
        "field \"labels['a']\": null is not allowed as a map value"),
    BAD(ALL, "{\"byId\":{\"x\":{}}}", "field \"byId['x']\": map key must be a decimal integer"),
    BAD(ALL, "{\"byId\":{\"01\":{}}}", "map key must be a decimal integer without leading zeros"),
    BAD(ALL, "{\"byId\":{\"-0\":{}}}", "map key must be a decimal integer"),
    BAD(ALL, "{\"byId\":{\"9223372036854775808\":{}}}", "out of range for int64"),
    BAD(ALL, "{\"byId\":{\"1\":{\"id\":\"q\"}}}", "field \"byId['1'].id\": expected an integer"),
    BAD(ALL, "{\"byId\":{\"1\":5}}", "expected object (clm.test.Nested), got number"),
    BAD(ALL, "{\"byFlag\":{\"yes\":1}}", "map key must be \"true\" or \"false\""),
    BAD(ALL, "{\"byNumber\":{\"-1\":\"COLOR_RED\"}}", "-1 is out of range for uint32"),
    BAD(ALL, "{\"byNumber\":{\"1\":\"COLOR_NOPE\"}}", "field \"byNumber['1']\": unknown value"),
    BAD(ALL, "{\"durations\":{\"a\":\"1m\"}}", "field \"durations['a']\": expected a duration"),
    BAD(ALL, "{\"pairs\":{\"k\":\"v\"}}", "field \"pairs\": expected array, got object"),
    /* Timestamp */
    BAD(ALL, "{\"created\":\"2026-13-01T00:00:00Z\"}",
        "field \"created\": date or time of day out of range"),
    BAD(ALL, "{\"created\":\"2026-02-29T00:00:00Z\"}", "date or time of day out of range"),
    BAD(ALL, "{\"created\":\"2026-01-01T00:00:60Z\"}", "date or time of day out of range"),
    BAD(ALL, "{\"created\":\"2026-01-01 00:00:00Z\"}", "expected an RFC 3339 time"),
    BAD(ALL, "{\"created\":\"2026-01-01T00:00:00\"}", "expected an RFC 3339 time"),
    BAD(ALL, "{\"created\":\"2026-01-01T00:00:00z\"}", "expected an RFC 3339 time"),
    BAD(ALL, "{\"created\":\"2026-01-01T00:00:00.Z\"}", "expected an RFC 3339 time"),
    BAD(ALL, "{\"created\":\"2026-01-01T00:00:00.1234567890Z\"}", "expected an RFC 3339 time"),
    BAD(ALL, "{\"created\":\"2026-01-01T00:00:00+24:00\"}", "time zone offset out of range"),
    BAD(ALL, "{\"created\":\"0000-01-01T00:00:00Z\"}", "out of range"),
    BAD(ALL, "{\"created\":\"0001-01-01T00:00:00+00:01\"}", "time before 0001-01-01"),
    BAD(ALL, "{\"created\":\"9999-12-31T23:59:59-00:01\"}", "after 9999-12-31"),
    BAD(ALL, "{\"created\":1}", "field \"created\": expected RFC 3339 time string, got number"),
    BAD(ALL, "{\"times\":[{}]}", "field \"times[0]\": expected RFC 3339 time string, got object"),
    BAD(TIMESTAMP, "{}", "expected RFC 3339 time string, got object"),
    /* Duration */
    BAD(ALL, "{\"ttl\":\"1\"}", "field \"ttl\": expected a duration"),
    BAD(ALL, "{\"ttl\":\"1.s\"}", "expected a duration"),
    BAD(ALL, "{\"ttl\":\".5s\"}", "expected a duration"),
    BAD(ALL, "{\"ttl\":\"-s\"}", "expected a duration"),
    BAD(ALL, "{\"ttl\":\" 1s\"}", "expected a duration"),
    BAD(ALL, "{\"ttl\":\"1.0000000001s\"}", "expected a duration"),
    BAD(ALL, "{\"ttl\":\"315576000001s\"}", "duration longer than 315576000000 seconds"),
    BAD(DURATION, "1.5", "expected duration string like \"1.5s\", got number"),
    /* proto2 required */
    BAD(LEGACY, "{}", "field \"name\": required field missing"),
    BAD(LEGACY, "{\"name\":null}", "field \"name\": required field missing"),
    BAD(LEGACY, "{\"name\":\"a\",\"child\":{}}", "field \"child.name\": required field missing"),
    BAD(LEGACY, "{\"name\":\"a\",\"count\":2147483648}",
        "field \"count\": 2147483648 is out of range"),
    BAD(LEGACY, "{\"name\":\"a\",\"mode\":7}",
        "field \"mode\": 7 is not a value of enum clm.test2.Mode"),
};

static uint8_t *pack(const ProtobufCMessage *msg, size_t *len)
{
    uint8_t *data;

    *len = protobuf_c_message_get_packed_size(msg);
    data = malloc(*len + 1);
    if (data != NULL)
        protobuf_c_message_pack(msg, data);
    return data;
}

/* The message as JSON, or NULL (and a failed check) when it will not print. */
static char *encode(const ProtobufCMessage *msg, unsigned flags)
{
    char *text = NULL;
    clm_err err = pbjson_encode(msg, flags, &text);

    CASE_CHECK(err == CLM_OK && text != NULL, "encode failed: %s", clm_error_message());
    return text;
}

static void check_round_trip(const codec_case *c, const ProtobufCMessage *msg, const char *text)
{
    ProtobufCMessage *again = NULL, *unpacked;
    uint8_t *a, *b;
    size_t a_len, b_len;
    char *text2;

    /* The printed text decodes to the same bytes. */
    CASE_CHECK(pbjson_decode(c->desc, text, strlen(text), &again) == CLM_OK,
               "%s: its own output %s does not decode: %s", c->input, text, clm_error_message());
    if (again == NULL)
        return;
    a = pack(msg, &a_len);
    b = pack(again, &b_len);
    CASE_CHECK(a_len == b_len && memcmp(a, b, a_len) == 0, "%s: round trip changed the bytes",
               c->input);
    protobuf_c_message_free_unpacked(again, NULL);
    free(b);

    /* protobuf-c's own unpack of those bytes prints the same. */
    unpacked = protobuf_c_message_unpack(c->desc, NULL, a_len, a);
    CASE_CHECK(unpacked != NULL, "%s: protobuf-c cannot unpack the packed message", c->input);
    if (unpacked != NULL) {
        text2 = encode(unpacked, 0);
        CASE_CHECK(text2 != NULL && strcmp(text2, text) == 0,
                   "%s: unpacked copy prints as %s, not %s", c->input, text2, text);
        free(text2);
        protobuf_c_message_free_unpacked(unpacked, NULL);
    }
    free(a);
}

static void run_case(const codec_case *c)
{
    ProtobufCMessage *msg = (ProtobufCMessage *)&msg; /* must be reset to NULL on failure */
    clm_err err = pbjson_decode(c->desc, c->input, strlen(c->input), &msg);
    char *text;

    if (c->err != CLM_OK) {
        CASE_CHECK(err == c->err, "%s: got %s (%s), want %s", c->input, clm_strerror(err),
                   clm_error_message(), clm_strerror(c->err));
        CASE_CHECK(msg == NULL, "%s: out not reset on failure", c->input);
        CASE_CHECK(strstr(clm_error_message(), c->want) != NULL, "%s: message \"%s\" lacks \"%s\"",
                   c->input, clm_error_message(), c->want);
        if (err == CLM_OK)
            protobuf_c_message_free_unpacked(msg, NULL);
        return;
    }
    CASE_CHECK(err == CLM_OK, "%s: %s", c->input, clm_error_message());
    if (err != CLM_OK)
        return;
    text = encode(msg, 0);
    if (text != NULL) {
        CASE_CHECK(strcmp(text, c->want) == 0, "%s:\n  printed %s\n  want    %s", c->input, text,
                   c->want);
        check_round_trip(c, msg, text);
    }
    free(text);
    protobuf_c_message_free_unpacked(msg, NULL);
}

UNIT_TEST(test_table)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
}

/* Decodes `json` as `desc` and prints it with `flags`; returns the text or NULL. */
static char *reprint(const ProtobufCMessageDescriptor *desc, const char *json, unsigned flags)
{
    ProtobufCMessage *msg = NULL;
    char *text;

    CHECK_INT_EQ(pbjson_decode(desc, json, strlen(json), &msg), CLM_OK);
    if (msg == NULL)
        return NULL;
    text = encode(msg, flags);
    protobuf_c_message_free_unpacked(msg, NULL);
    return text;
}

UNIT_TEST(test_pretty)
{
    char *text = reprint(ALL,
                         "{\"labels\":{\"a\":\"b\"},\"rInt32\":[1,2],\"fInt32\":1,\"fNested\":{},"
                         "\"rNested\":[{\"id\":1}],\"byId\":{}}",
                         PBJSON_PRETTY);

    CHECK_STR_EQ(text, "{\n"
                       "  \"fInt32\": 1,\n"
                       "  \"fNested\": {},\n"
                       "  \"rInt32\": [\n"
                       "    1,\n"
                       "    2\n"
                       "  ],\n"
                       "  \"rNested\": [\n"
                       "    {\n"
                       "      \"id\": 1\n"
                       "    }\n"
                       "  ],\n"
                       "  \"labels\": {\n"
                       "    \"a\": \"b\"\n"
                       "  }\n"
                       "}");
    free(text);
    text = reprint(ALL, "{}", PBJSON_PRETTY);
    CHECK_STR_EQ(text, "{}");
    free(text);
    text = reprint(TIMESTAMP, "\"2026-11-27T20:11:34Z\"", PBJSON_PRETTY);
    CHECK_STR_EQ(text, "\"2026-11-27T20:11:34Z\"");
    free(text);
}

UNIT_TEST(test_emit_defaults)
{
    char *text = reprint(ALL, "{}", PBJSON_EMIT_DEFAULTS);

    /* Scalars, repeated fields and maps print; unset messages and the oneof do not. */
    CHECK_STR_EQ(text, "{\"fInt32\":0,\"fInt64\":\"0\",\"fUint32\":0,\"fUint64\":\"0\","
                       "\"fSint32\":0,\"fSint64\":\"0\",\"fFixed32\":0,\"fFixed64\":\"0\","
                       "\"fSfixed32\":0,\"fSfixed64\":\"0\",\"fFloat\":0,\"fDouble\":0,"
                       "\"fBool\":false,\"fString\":\"\",\"fBytes\":\"\","
                       "\"fEnum\":\"COLOR_UNSPECIFIED\",\"rInt32\":[],\"rInt64\":[],"
                       "\"rUint32\":[],\"rUint64\":[],\"rSint32\":[],\"rSint64\":[],"
                       "\"rFixed32\":[],\"rFixed64\":[],\"rSfixed32\":[],\"rSfixed64\":[],"
                       "\"rFloat\":[],\"rDouble\":[],\"rBool\":[],\"rString\":[],\"rBytes\":[],"
                       "\"rEnum\":[],\"rNested\":[],\"labels\":{},\"byId\":{},\"byFlag\":{},"
                       "\"byNumber\":{},\"durations\":{},\"times\":[],\"pairs\":[]}");
    free(text);
    text = reprint(ALL, "{\"fNested\":{},\"oInt64\":\"3\"}", PBJSON_EMIT_DEFAULTS | PBJSON_PRETTY);
    CHECK_STR_CONTAINS(text, "\"fNested\": {\n    \"id\": 0,\n    \"name\": \"\",\n"
                             "    \"names\": []\n  },");
    CHECK_STR_CONTAINS(text, "\"oInt64\": \"3\"");
    free(text);
    /* proto2: unset optional fields stay out, required ones print. */
    text = reprint(LEGACY, "{\"name\":\"x\"}", PBJSON_EMIT_DEFAULTS);
    CHECK_STR_EQ(text, "{\"name\":\"x\",\"values\":[]}");
    free(text);
}

/* Messages built by hand: what the decoder never produces but a peer might send. */
UNIT_TEST(test_encode_hand_built)
{
    static const struct {
        const char *bytes;
        int valid;
    } utf8[] = {
        {"\xff", 0},
        {"a\xc0\x80", 0},
        {"\xed\xa0\x80", 0}, /* surrogate */
        {"\xf4\x90\x80\x80", 0},
        {"\xe2\x82", 0},
        {"\xc3", 0},
        {"\xf0\x9f\x98\x80", 1},
        {"\xef\xbf\xbf", 1},
        {"\xf4\x8f\xbf\xbf", 1},
    };
    Clm__Test__AllTypes m = CLM__TEST__ALL_TYPES__INIT;
    Clm__Test__Nested nested = CLM__TEST__NESTED__INIT;
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Google__Protobuf__Duration du = GOOGLE__PROTOBUF__DURATION__INIT;
    Clm__Test__AllTypes__LabelsEntry l1 = CLM__TEST__ALL_TYPES__LABELS_ENTRY__INIT;
    Clm__Test__AllTypes__LabelsEntry l2 = CLM__TEST__ALL_TYPES__LABELS_ENTRY__INIT;
    Clm__Test__AllTypes__LabelsEntry l3 = CLM__TEST__ALL_TYPES__LABELS_ENTRY__INIT;
    Clm__Test__AllTypes__LabelsEntry *labels[3] = {&l1, &l2, &l3};
    Clm__Test__AllTypes__ByIdEntry b1 = CLM__TEST__ALL_TYPES__BY_ID_ENTRY__INIT;
    Clm__Test__AllTypes__ByIdEntry *by_id[1] = {&b1};
    char *strings[2] = {"ok", NULL};
    char *text = NULL;

    for (size_t i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++) {
        m.f_string = (char *)utf8[i].bytes;
        clm_err err = pbjson_encode(&m.base, 0, &text);

        CASE_CHECK((err == CLM_OK) == utf8[i].valid, "UTF-8 case %zu: %s", i, clm_error_message());
        if (!utf8[i].valid)
            CHECK_STR_CONTAINS(clm_error_message(), "field \"fString\": string is not valid UTF-8");
        free(text);
    }
    m.f_string = (char *)protobuf_c_empty_string;
    strings[1] = "\xfe";
    m.n_r_string = 2;
    m.r_string = strings;
    CHECK_INT_EQ(pbjson_encode(&m.base, 0, &text), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "field \"rString[1]\": string is not valid UTF-8");
    m.n_r_string = 0;

    /* Timestamp and Duration outside their ranges */
    m.created = &ts;
    ts.nanos = -1;
    CHECK_INT_EQ(pbjson_encode(&m.base, 0, &text), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "field \"created\": google.protobuf.Timestamp: nanos");
    ts.nanos = 0;
    ts.seconds = INT64_C(253402300800);
    CHECK_INT_EQ(pbjson_encode(&m.base, 0, &text), CLM_ERR_INVALID_ARGUMENT);
    ts.seconds = INT64_C(-62135596800);
    text = encode(&m.base, 0);
    CHECK_STR_EQ(text, "{\"created\":\"0001-01-01T00:00:00Z\"}");
    free(text);
    m.created = NULL;
    m.ttl = &du;
    du.seconds = 1;
    du.nanos = -1;
    CHECK_INT_EQ(pbjson_encode(&m.base, 0, &text), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(
        clm_error_message(),
        "field \"ttl\": google.protobuf.Duration: seconds and nanos have different signs");
    du.seconds = INT64_C(315576000001);
    du.nanos = 0;
    CHECK_INT_EQ(pbjson_encode(&m.base, 0, &text), CLM_ERR_INVALID_ARGUMENT);
    du.seconds = 0;
    du.nanos = -5;
    text = encode(&m.base, 0);
    CHECK_STR_EQ(text, "{\"ttl\":\"-0.000000005s\"}");
    free(text);
    m.ttl = NULL;

    /* A key repeated on the wire: the last entry wins, in its place. */
    l1.key = "a", l1.value = "1";
    l2.key = "b", l2.value = "2";
    l3.key = "a", l3.value = "3";
    m.n_labels = 3;
    m.labels = labels;
    text = encode(&m.base, 0);
    CHECK_STR_EQ(text, "{\"labels\":{\"b\":\"2\",\"a\":\"3\"}}");
    free(text);
    labels[1] = NULL;
    CHECK_INT_EQ(pbjson_encode(&m.base, 0, &text), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "field \"labels\": map entry 1 is NULL");
    m.n_labels = 0;

    /* A map value and a repeated element that are NULL print as defaults. */
    b1.key = -1;
    m.n_by_id = 1;
    m.by_id = by_id;
    text = encode(&m.base, PBJSON_EMIT_DEFAULTS);
    CHECK_STR_CONTAINS(text, "\"byId\":{\"-1\":{\"id\":0,\"name\":\"\",\"names\":[]}}");
    free(text);
    m.n_by_id = 0;

    /* Presence as protobuf-c packs it: a oneof string at the default pointer is unset. */
    m.choice_case = CLM__TEST__ALL_TYPES__CHOICE_O_STRING;
    m.o_string = (char *)protobuf_c_empty_string;
    text = encode(&m.base, 0);
    CHECK_STR_EQ(text, "{}");
    free(text);
    m.choice_case = CLM__TEST__ALL_TYPES__CHOICE_O_NESTED;
    m.o_nested = &nested;
    nested.name = "\"q\"\\";
    text = encode(&m.base, 0);
    CHECK_STR_EQ(text, "{\"oNested\":{\"name\":\"\\\"q\\\"\\\\\"}}");
    free(text);

    /* Bad arguments */
    CHECK_INT_EQ(pbjson_encode(&m.base, 4, &text), CLM_ERR_INVALID_ARGUMENT);
    CHECK(text == NULL);
    CHECK_INT_EQ(pbjson_encode(NULL, 0, &text), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(pbjson_encode(&m.base, 0, NULL), CLM_ERR_INVALID_ARGUMENT);
}

/* A chain of `depth` Nested messages as JSON: {"child":{"child":{}}} for 3. */
static char *nested_json(int depth)
{
    size_t len = (size_t)depth * 12 + 8;
    char *json = malloc(len);
    size_t n = 0;

    for (int i = 1; i < depth; i++)
        n += (size_t)snprintf(json + n, len - n, "{\"child\":");
    n += (size_t)snprintf(json + n, len - n, "{}");
    for (int i = 1; i < depth; i++)
        json[n++] = '}';
    json[n] = '\0';
    return json;
}

UNIT_TEST(test_depth)
{
    char *ok = nested_json(PBJSON_MAX_DEPTH);
    char *deep = nested_json(PBJSON_MAX_DEPTH + 1);
    ProtobufCMessage *msg = NULL;
    char *text = NULL;
    Clm__Test__Nested chain[PBJSON_MAX_DEPTH + 1];

    CHECK_INT_EQ(pbjson_decode(NESTED, ok, strlen(ok), &msg), CLM_OK);
    text = encode(msg, 0);
    CHECK_STR_EQ(text, ok);
    free(text);
    protobuf_c_message_free_unpacked(msg, NULL);
    CHECK_INT_EQ(pbjson_decode(NESTED, deep, strlen(deep), &msg), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "messages nested more than 64 deep");
    CHECK_STR_CONTAINS(clm_error_message(), "field \"child.child.child.");
    free(ok);
    free(deep);

    /* The encoder has the same limit, for messages that came off the wire. */
    for (int i = 0; i <= PBJSON_MAX_DEPTH; i++) {
        Clm__Test__Nested init = CLM__TEST__NESTED__INIT;

        chain[i] = init;
        chain[i].child = i < PBJSON_MAX_DEPTH ? &chain[i + 1] : NULL;
    }
    CHECK_INT_EQ(pbjson_encode(&chain[0].base, 0, &text), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "messages nested more than 64 deep");
    text = encode(&chain[1].base, 0);
    CHECK(text != NULL);
    free(text);
}

UNIT_TEST(test_limits_and_arguments)
{
    size_t len = PBJSON_MAX_INPUT_BYTES + 1;
    char *big = malloc(len);
    ProtobufCMessage *msg = NULL;

    memset(big, ' ', len);
    big[0] = '{';
    big[len - 1] = '}';
    CHECK_INT_EQ(pbjson_decode(ALL, big, len, &msg), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "longer than the limit");
    CHECK_INT_EQ(pbjson_decode(ALL, big, len - 1, &msg), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "invalid JSON"); /* the closing brace is cut */
    big[len - 2] = '}';
    CHECK_INT_EQ(pbjson_decode(ALL, big, len - 1, &msg), CLM_OK); /* exactly the limit */
    protobuf_c_message_free_unpacked(msg, NULL);
    free(big);

    /* not NUL-terminated: only len bytes are read */
    CHECK_INT_EQ(pbjson_decode(ALL, "{\"fInt32\":7}garbage", 12, &msg), CLM_OK);
    protobuf_c_message_free_unpacked(msg, NULL);

    CHECK_INT_EQ(pbjson_decode(NULL, "{}", 2, &msg), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(pbjson_decode(ALL, NULL, 2, &msg), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(pbjson_decode(ALL, "{}", 2, NULL), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(pbjson_decode(ALL, NULL, 0, &msg), CLM_ERR_INVALID_ARGUMENT); /* empty text */
}

/* Well-known types with a mapping of their own are refused, not printed wrongly. */
UNIT_TEST(test_unsupported_well_known)
{
    ProtobufCMessageDescriptor any = clm__test__nested__descriptor;
    Clm__Test__Nested m = CLM__TEST__NESTED__INIT;
    ProtobufCMessage *msg = NULL;
    char *text = NULL;

    any.name = "google.protobuf.Any";
    CHECK_INT_EQ(pbjson_decode(&any, "{}", 2, &msg), CLM_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(clm_error_message(), "google.protobuf.Any has a JSON mapping of its own");
    m.base.descriptor = &any;
    CHECK_INT_EQ(pbjson_encode(&m.base, 0, &text), CLM_ERR_UNSUPPORTED);
    any.name = "google.protobuf.Empty"; /* {} either way: the plain mapping is right */
    CHECK_INT_EQ(pbjson_decode(&any, "{}", 2, &msg), CLM_OK);
    protobuf_c_message_free_unpacked(msg, NULL);
}

int main(void)
{
    UNIT_RUN(test_table);
    UNIT_RUN(test_pretty);
    UNIT_RUN(test_emit_defaults);
    UNIT_RUN(test_encode_hand_built);
    UNIT_RUN(test_depth);
    UNIT_RUN(test_limits_and_arguments);
    UNIT_RUN(test_unsupported_well_known);
    return unit_report();
}
