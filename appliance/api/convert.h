/*
 * appliance/api/convert.h: small conversions shared by the API handlers (times,
 * hex). Results live in the call's arena.
 */
#ifndef CLM_APPLIANCE_API_CONVERT_H
#define CLM_APPLIANCE_API_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "lib/base/arena.h"

/** A Timestamp from nanoseconds since the epoch. */
Google__Protobuf__Timestamp *convert_timestamp_ns(clm_arena *arena, int64_t ns);

/** A Timestamp from seconds since the epoch. */
Google__Protobuf__Timestamp *convert_timestamp_s(clm_arena *arena, int64_t seconds);

/** Lower-case hex of bytes, in the arena ("" for none). */
char *convert_hex(clm_arena *arena, const unsigned char *data, size_t len);

#endif
