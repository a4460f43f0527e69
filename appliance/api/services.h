/*
 * appliance/api/services.h: every gRPC service clmd serves, one row each. A new
 * service is a new file in appliance/api/ and a new row in services.c.
 */
#ifndef CLM_APPLIANCE_API_SERVICES_H
#define CLM_APPLIANCE_API_SERVICES_H

#include <stddef.h>

#include "appliance/rpc/rpc.h"

typedef struct api_service {
    const char *name; /* full service name, for health */
    const rpc_method *methods;
    const size_t *count;
} api_service;

extern const api_service api_services[];
extern const size_t api_services_count;

#endif
