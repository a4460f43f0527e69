/*
 * lib/json/pbjson_diff_tool.c: the C side of pbjson_diff_test.
 *
 * Reads lines "<type> <json>" on stdin, where type is `all` (clm.test.AllTypes) or
 * `legacy` (clm.test2.Legacy), and answers each with one line on stdout:
 *   OK <hex of the packed message> <JSON> <JSON with PBJSON_EMIT_DEFAULTS>
 *   ERR <error message>
 * separated by tabs (pbjson_encode escapes tabs inside strings, so none appear raw).
 */
#include "lib/json/pbjson.h"
#include "lib/json/testdata/pbjson_test.pb-c.h"
#include "lib/json/testdata/pbjson_test2.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void answer(const ProtobufCMessageDescriptor *desc, const char *json, size_t len)
{
    ProtobufCMessage *msg = NULL;
    char *text = NULL, *text_defaults = NULL;
    uint8_t *packed;
    size_t packed_len;

    if (pbjson_decode(desc, json, len, &msg) != CLM_OK) {
        printf("ERR\t%s\n", clm_error_message());
        return;
    }
    if (pbjson_encode(msg, 0, &text) != CLM_OK ||
        pbjson_encode(msg, PBJSON_EMIT_DEFAULTS, &text_defaults) != CLM_OK) {
        printf("ERR\tencode: %s\n", clm_error_message());
    } else {
        packed_len = protobuf_c_message_get_packed_size(msg);
        packed = malloc(packed_len + 1);
        if (packed == NULL) {
            printf("ERR\tout of memory\n");
        } else {
            protobuf_c_message_pack(msg, packed);
            printf("OK\t");
            for (size_t i = 0; i < packed_len; i++)
                printf("%02x", packed[i]);
            printf("\t%s\t%s\n", text, text_defaults);
            free(packed);
        }
    }
    free(text);
    free(text_defaults);
    protobuf_c_message_free_unpacked(msg, NULL);
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    while ((n = getline(&line, &cap, stdin)) > 0) {
        const ProtobufCMessageDescriptor *desc;
        char *json;

        if (line[n - 1] == '\n')
            line[--n] = '\0';
        json = strchr(line, ' ');
        if (json == NULL) {
            printf("ERR\tno type on the line\n");
            continue;
        }
        *json++ = '\0';
        if (strcmp(line, "all") == 0)
            desc = &clm__test__all_types__descriptor;
        else if (strcmp(line, "legacy") == 0)
            desc = &clm__test2__legacy__descriptor;
        else {
            printf("ERR\tunknown type %s\n", line);
            continue;
        }
        answer(desc, json, (size_t)(n - (json - line)));
        fflush(stdout);
    }
    free(line);
    return 0;
}
