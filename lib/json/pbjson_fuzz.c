/*
 * lib/json/pbjson_fuzz.c: libFuzzer target for pbjson_decode (JSON from users and
 * peers), with the round-trip invariant as its oracle.
 *
 * The input is JSON text for clm.test.AllTypes, or, after a one-letter prefix that no
 * JSON text starts with, for clm.test2.Legacy ('L'), google.protobuf.Timestamp ('T')
 * or google.protobuf.Duration ('D'). Whatever decodes must also print, with and
 * without PBJSON_PRETTY | PBJSON_EMIT_DEFAULTS, and the printed text must decode to
 * a message that packs to the same bytes and prints to the same text.
 *
 * After the prefix 'B' the input is protobuf wire format for clm.test.AllTypes, as a
 * reply from a peer would be: protobuf-c unpacks it, and pbjson_encode must print it
 * or refuse it cleanly (bad UTF-8, a Timestamp out of range); what prints must decode
 * and print again to the same text. (Only proto3: a proto2 closed enum can hold a
 * number off the wire that its JSON form may not.)
 *
 * Any break of these aborts, as do ASan and UBSan findings.
 */
#include "lib/json/pbjson.h"
#include "lib/json/testdata/pbjson_test.pb-c.h"
#include "lib/json/testdata/pbjson_test2.pb-c.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *pack(const ProtobufCMessage *msg, size_t *len)
{
    uint8_t *bytes;

    *len = protobuf_c_message_get_packed_size(msg);
    bytes = malloc(*len + 1);
    if (bytes == NULL)
        abort();
    protobuf_c_message_pack(msg, bytes);
    return bytes;
}

static void check_round_trip(const ProtobufCMessageDescriptor *desc, const ProtobufCMessage *msg,
                             unsigned flags)
{
    ProtobufCMessage *again = NULL;
    char *text = NULL, *text_again = NULL;
    uint8_t *a, *b;
    size_t a_len, b_len;

    if (pbjson_encode(msg, flags, &text) != CLM_OK)
        abort(); /* what decodes must print */
    if (pbjson_decode(desc, text, strlen(text), &again) != CLM_OK)
        abort(); /* what prints must decode */
    a = pack(msg, &a_len);
    b = pack(again, &b_len);
    if (a_len != b_len || memcmp(a, b, a_len) != 0)
        abort();
    if (pbjson_encode(again, flags, &text_again) != CLM_OK || strcmp(text, text_again) != 0)
        abort();
    free(a);
    free(b);
    free(text);
    free(text_again);
    protobuf_c_message_free_unpacked(again, NULL);
}

static void check_wire(const uint8_t *data, size_t size)
{
    const ProtobufCMessageDescriptor *desc = &clm__test__all_types__descriptor;
    ProtobufCMessage *msg = protobuf_c_message_unpack(desc, NULL, size, data);
    ProtobufCMessage *again = NULL;
    char *text = NULL, *text_again = NULL;

    if (msg == NULL)
        return;
    if (pbjson_encode(msg, PBJSON_EMIT_DEFAULTS, &text) == CLM_OK) {
        if (pbjson_decode(desc, text, strlen(text), &again) != CLM_OK)
            abort();
        if (pbjson_encode(again, PBJSON_EMIT_DEFAULTS, &text_again) != CLM_OK ||
            strcmp(text, text_again) != 0)
            abort();
        protobuf_c_message_free_unpacked(again, NULL);
    }
    free(text);
    free(text_again);
    protobuf_c_message_free_unpacked(msg, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const ProtobufCMessageDescriptor *desc = &clm__test__all_types__descriptor;
    ProtobufCMessage *msg = NULL;

    if (size > 0 && data[0] == 'B') {
        check_wire(data + 1, size - 1);
        return 0;
    }
    if (size > 0 && (data[0] == 'L' || data[0] == 'T' || data[0] == 'D')) {
        desc = data[0] == 'L'   ? &clm__test2__legacy__descriptor
               : data[0] == 'T' ? &google__protobuf__timestamp__descriptor
                                : &google__protobuf__duration__descriptor;
        data++;
        size--;
    }
    if (pbjson_decode(desc, (const char *)data, size, &msg) != CLM_OK)
        return 0;
    check_round_trip(desc, msg, 0);
    check_round_trip(desc, msg, PBJSON_PRETTY | PBJSON_EMIT_DEFAULTS);
    protobuf_c_message_free_unpacked(msg, NULL);
    return 0;
}
