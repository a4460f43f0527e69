/* Fuzz target: log level names (config and API input). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *name = malloc(size + 1);
    clm_log_level level;

    if (name == NULL)
        return 0;
    memcpy(name, data, size);
    name[size] = '\0';
    if (clm_log_level_parse(name, &level) == CLM_OK && strcmp(clm_log_level_name(level), name) != 0)
        abort();
    free(name);
    return 0;
}
