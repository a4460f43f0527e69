/* Fuzz target: cron expressions (API input) and their next fire times. */
#include "scheduler/cron.h"
#include "scheduler/tz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t starts[] = {0, 1743285600, 1761429600, 4102444800, -2208988800};
    const tz_zone *zones[2] = {tz_utc(), NULL};
    char *text = malloc(size + 1);
    cron_expr e;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (tz_load("Europe/Berlin", &zones[1]) != CLM_OK)
        zones[1] = tz_utc();
    if (cron_parse(text, &e) == CLM_OK) {
        for (size_t z = 0; z < 2; z++)
            for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
                int64_t t = starts[i], prev = t;

                for (int k = 0; k < 3; k++) {
                    if (cron_next(&e, zones[z], t, &t) != CLM_OK)
                        abort(); /* a parsed expression always fires */
                    if (t <= prev)
                        abort(); /* strictly after */
                    /* In UTC every fire of a calendar expression matches the fields. */
                    if (z == 0 && !(e.flags & CRON_EVERY) && !cron_matches_local(&e, t))
                        abort();
                    prev = t;
                }
            }
    }
    free(text);
    return 0;
}
