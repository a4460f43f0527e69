/* Fuzz target: the INI configuration reader (config_apply_ini over inih). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clm_config cfg;
    char *text = malloc(size + 1);

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    config_defaults(&cfg);
    if (config_apply_ini(&cfg, text, "fuzz.ini") == CLM_OK) {
        /* whatever was accepted must be within the table's rules */
        if (cfg.threads < 1 || cfg.threads > 64 || cfg.max_streams < 1 ||
            memchr(cfg.data_dir, '\0', sizeof(cfg.data_dir)) == NULL)
            abort();
        (void)config_validate(&cfg);
    }
    free(text);
    return 0;
}
