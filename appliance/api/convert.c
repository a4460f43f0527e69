/* appliance/api/convert.c: times and hex for API messages. */
#include "appliance/api/convert.h"

#include "lib/base/buf.h"
#include "lib/base/clock.h"

Google__Protobuf__Timestamp *convert_timestamp_ns(clm_arena *arena, int64_t ns)
{
    Google__Protobuf__Timestamp *t = clm_arena_alloc(arena, sizeof(*t));
    int64_t seconds = ns / CLM_NS_PER_SEC, nanos = ns % CLM_NS_PER_SEC;

    if (t == NULL)
        return NULL;
    if (nanos < 0) { /* Timestamp nanos are never negative */
        nanos += CLM_NS_PER_SEC;
        seconds--;
    }
    google__protobuf__timestamp__init(t);
    t->seconds = seconds;
    t->nanos = (int32_t)nanos;
    return t;
}

Google__Protobuf__Timestamp *convert_timestamp_s(clm_arena *arena, int64_t seconds)
{
    Google__Protobuf__Timestamp *t = clm_arena_alloc(arena, sizeof(*t));

    if (t == NULL)
        return NULL;
    google__protobuf__timestamp__init(t);
    t->seconds = seconds;
    return t;
}

char *convert_hex(clm_arena *arena, const unsigned char *data, size_t len)
{
    char *hex = clm_arena_alloc(arena, 2 * len + 1);

    if (hex != NULL)
        clm_hex_encode(hex, data, len);
    return hex;
}
