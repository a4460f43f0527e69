/* appliance/api/jobs.h: clm.v1.Jobs over the scheduler. */
#ifndef CLM_APPLIANCE_API_JOBS_H
#define CLM_APPLIANCE_API_JOBS_H

#include <stddef.h>

#include "appliance/rpc/rpc.h"

extern const rpc_method jobs_methods[];
extern const size_t jobs_methods_count;

#endif
