/* appliance/api/groups.h: clm.v1.Groups. */
#ifndef CLM_APPLIANCE_API_GROUPS_H
#define CLM_APPLIANCE_API_GROUPS_H

#include <stddef.h>

#include "appliance/rpc/rpc.h"

extern const rpc_method groups_methods[];
extern const size_t groups_methods_count;

#endif
