/* Fuzz target: TZif files (RFC 8536) and their POSIX TZ footers. */
#include "scheduler/tz.h"
#include "scheduler/tz_internal.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t times[] = {INT64_MIN,  -TZ_TIME_LIMIT, -2208988800,   0,        1000000,
                                    1743296400, 4129250400,     TZ_TIME_LIMIT, INT64_MAX};
    tz_zone *z = NULL;
    tz_rule rule;

    if (size > 0 && data[0] == '#') { /* "#" + a POSIX TZ string */
        if (tz_rule_parse((const char *)data + 1, size - 1, &rule) == CLM_OK) {
            tz_info info;
            tz_transition tr;

            tz_rule_lookup(&rule, 1743296400, &info);
            tz_rule_next(&rule, 1743296400, &tr);
        }
        return 0;
    }
    if (tz_parse("fuzz", data, size, &z) != CLM_OK)
        return 0;
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        tz_info info;
        tz_local l;
        tz_transition tr;
        int64_t t = times[i];

        tz_lookup(z, t, &info);
        if (info.abbr == NULL || info.utoff <= -TZ_UTOFF_LIMIT || info.utoff >= TZ_UTOFF_LIMIT)
            abort();
        tz_local_to_utc(z, tz_to_local(z, t), &l);
        if (l.kind == TZ_LOCAL_OVERLAP && l.second < l.first)
            abort();
        for (int k = 0; k < 8 && tz_next_transition(z, t, &tr); k++) {
            if (tr.at <= t)
                abort(); /* strictly after */
            t = tr.at;
        }
    }
    tz_free(z);
    return 0;
}
