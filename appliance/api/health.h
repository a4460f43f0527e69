/*
 * appliance/api/health.h: grpc.health.v1.Health (Check and Watch).
 *
 * The table holds a serving status per service name; "" is the whole server.
 * clmd marks everything SERVING once started and NOT_SERVING when it begins to
 * shut down, so load balancers and `clmctl health` see the drain.
 */
#ifndef CLM_APPLIANCE_API_HEALTH_H
#define CLM_APPLIANCE_API_HEALTH_H

#include <stddef.h>

#include "appliance/rpc/rpc.h"

typedef enum health_status {
    HEALTH_UNKNOWN = 0,
    HEALTH_SERVING = 1,
    HEALTH_NOT_SERVING = 2,
    HEALTH_SERVICE_UNKNOWN = 3 /* only sent by Watch */
} health_status;

typedef struct health_table health_table;

/** @return a table knowing `services` (plus ""), all NOT_SERVING; NULL on no memory. */
health_table *health_table_new(const char *const *services, size_t count);
void health_table_free(health_table *table);
/** Set every service's status and wake watchers of `server` (may be NULL). */
void health_table_set_all(health_table *table, health_status status, rpc_server *server);

extern const rpc_method health_methods[];
extern const size_t health_methods_count;

#endif
