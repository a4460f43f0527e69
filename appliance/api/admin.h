/*
 * appliance/api/admin.h: clm.v1.Admin: version, identity, backup, log level, audit.
 */
#ifndef CLM_APPLIANCE_API_ADMIN_H
#define CLM_APPLIANCE_API_ADMIN_H

#include <stddef.h>

#include "appliance/rpc/rpc.h"

extern const rpc_method admin_methods[];
extern const size_t admin_methods_count;

#endif
