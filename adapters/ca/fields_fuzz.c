/* adapters/ca/fields_fuzz.c: arbitrary bytes as vendor field values ("name=value" lines)
 * through the generic checker; it must never crash, and a value it accepts must read
 * back as its declared type. */
#include "adapters/adapter.h"
#include "adapters/ca/fields.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const choices[] = {"server", "client", NULL};
static const adapter_field decls[] = {
    {.name = "profile", .type = ADAPTER_FIELD_CHOICE, .allowed = choices, .help = "p"},
    {.name = "days", .type = ADAPTER_FIELD_INT, .min = -5, .max = 36500, .help = "d"},
    {.name = "flag", .type = ADAPTER_FIELD_BOOL, .help = "f"},
    {.name = "text", .type = ADAPTER_FIELD_STRING, .max_len = 32, .help = "t"},
    {.name = "url", .type = ADAPTER_FIELD_URL, .required = true, .help = "u"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    adapter_field_value values[CA_FIELDS_MAX + 2];
    adapter_fields f = {values, 0};
    char *line, *save = NULL;
    int64_t days;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    for (line = strtok_r(text, "\n", &save); line != NULL && f.n < CA_FIELDS_MAX + 2;
         line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        values[f.n].name = line;
        values[f.n].value = eq + 1;
        f.n++;
    }
    if (ca_fields_check(decls, sizeof decls / sizeof *decls, &f, "fields") == CLM_OK) {
        if (ca_fields_get_int(&f, "days", 0, &days) != CLM_OK || days < -5 || days > 36500)
            abort();
        if (ca_fields_get(&f, "url") == NULL)
            abort();
    }
    free(text);
    return 0;
}
