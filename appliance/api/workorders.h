/* appliance/api/workorders.h: clm.v1.WorkOrders (the approval workflow). */
#ifndef CLM_APPLIANCE_API_WORKORDERS_H
#define CLM_APPLIANCE_API_WORKORDERS_H

#include <stddef.h>

#include "appliance/rpc/rpc.h"

extern const rpc_method workorders_methods[];
extern const size_t workorders_methods_count;

#endif
