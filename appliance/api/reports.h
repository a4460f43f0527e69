/* appliance/api/reports.h: clm.v1.Reports (the Push Validation Report). */
#ifndef CLM_APPLIANCE_API_REPORTS_H
#define CLM_APPLIANCE_API_REPORTS_H

#include <stddef.h>

#include "appliance/rpc/rpc.h"

extern const rpc_method reports_methods[];
extern const size_t reports_methods_count;

#endif
