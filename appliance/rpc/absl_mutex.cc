// appliance/rpc/absl_mutex.cc: the one C++ call clmd (and the RPC load generator) needs.
#include "appliance/rpc/absl_mutex.h"

#include <absl/synchronization/mutex.h>

void rpc_absl_deadlock_detection_off(void)
{
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}
