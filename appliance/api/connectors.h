/* appliance/api/connectors.h: clm.v1.Connectors (CA connectors). */
#ifndef CLM_APPLIANCE_API_CONNECTORS_H
#define CLM_APPLIANCE_API_CONNECTORS_H

#include <stddef.h>

#include "appliance/rpc/rpc.h"

extern const rpc_method connectors_methods[];
extern const size_t connectors_methods_count;

#endif
