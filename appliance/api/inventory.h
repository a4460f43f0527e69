/* appliance/api/inventory.h: clm.v1.Inventory. */
#ifndef CLM_APPLIANCE_API_INVENTORY_H
#define CLM_APPLIANCE_API_INVENTORY_H

#include <stddef.h>

#include "appliance/rpc/rpc.h"

extern const rpc_method inventory_methods[];
extern const size_t inventory_methods_count;

#endif
