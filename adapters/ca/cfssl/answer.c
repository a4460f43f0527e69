/* adapters/ca/cfssl/answer.c: reading cfssl's JSON answers (cfssl.h). */
#include "adapters/ca/cfssl/cfssl.h"

#include <jansson.h>
#include <string.h>

/* The first error, its message reduced to printable ASCII. */
static clm_err read_errors(json_t *errors, ca_cfssl_answer *out)
{
    json_t *first, *code, *message;
    const char *text;
    size_t n = 0;

    if (errors == NULL || json_is_null(errors))
        return CLM_OK;
    if (!json_is_array(errors))
        return clm_fail(CLM_ERR_PARSE, "cfssl answer: \"errors\" is not a list");
    if (json_array_size(errors) == 0)
        return CLM_OK;
    first = json_array_get(errors, 0);
    if (!json_is_object(first))
        return clm_fail(CLM_ERR_PARSE, "cfssl answer: errors[0] is not an object");
    code = json_object_get(first, "code");
    message = json_object_get(first, "message");
    if (code != NULL && !json_is_integer(code))
        return clm_fail(CLM_ERR_PARSE, "cfssl answer: errors[0].code is not an integer");
    if (message != NULL && !json_is_string(message))
        return clm_fail(CLM_ERR_PARSE, "cfssl answer: errors[0].message is not a string");
    if (code != NULL) {
        json_int_t v = json_integer_value(code);
        out->code = v > 999999 || v < -999999 ? -1 : (int)v;
    }
    text = message ? json_string_value(message) : "";
    for (; text[n] != '\0' && n + 1 < sizeof(out->message); n++) {
        unsigned char c = (unsigned char)text[n];
        out->message[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out->message[n] = '\0';
    if (out->code == 0 && n == 0)
        out->code = -1; /* an error without code or message is still an error */
    return CLM_OK;
}

clm_err ca_cfssl_answer_parse(const void *body, size_t len, clm_arena *arena,
                              ca_cfssl_answer *out)
{
    json_error_t jerr;
    json_t *root, *success, *result, *certificate;
    clm_err err = CLM_OK;

    memset(out, 0, sizeof(*out));
    if (body == NULL && len > 0)
        return clm_fail(CLM_ERR_PARSE, "cfssl answer: no body");
    root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return clm_fail(CLM_ERR_PARSE, "cfssl answer: not JSON (line %d, column %d)",
                        jerr.line, jerr.column);
    if (!json_is_object(root)) {
        err = clm_fail(CLM_ERR_PARSE, "cfssl answer: not a JSON object");
        goto done;
    }
    success = json_object_get(root, "success");
    if (!json_is_boolean(success)) {
        err = clm_fail(CLM_ERR_PARSE, "cfssl answer: no boolean \"success\"");
        goto done;
    }
    out->success = json_is_true(success);
    if ((err = read_errors(json_object_get(root, "errors"), out)) != CLM_OK)
        goto done;
    result = json_object_get(root, "result");
    if (result == NULL || json_is_null(result))
        goto done;
    if (!json_is_object(result)) {
        err = clm_fail(CLM_ERR_PARSE, "cfssl answer: \"result\" is not an object");
        goto done;
    }
    certificate = json_object_get(result, "certificate");
    if (certificate == NULL)
        goto done;
    if (!json_is_string(certificate)) {
        err = clm_fail(CLM_ERR_PARSE, "cfssl answer: result.certificate is not a string");
        goto done;
    }
    out->certificate = clm_arena_memdup(arena, json_string_value(certificate),
                                        json_string_length(certificate) + 1);
    if (out->certificate == NULL)
        err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
done:
    json_decref(root);
    if (err != CLM_OK) {
        out->certificate = NULL;
        out->success = false;
    }
    return err;
}
