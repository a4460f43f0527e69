/* appliance/api/endpoints.h: clm.v1.Endpoints (endpoint records, certificate bindings). */
#ifndef CLM_APPLIANCE_API_ENDPOINTS_H
#define CLM_APPLIANCE_API_ENDPOINTS_H

#include <stddef.h>

#include "appliance/rpc/rpc.h"

extern const rpc_method endpoints_methods[];
extern const size_t endpoints_methods_count;

#endif
