// tools/bench/rpc/absl_mutex.cc: the one C++ call the C load generator needs.
#include "tools/bench/rpc/absl_mutex.h"

#include <absl/synchronization/mutex.h>

void bench_absl_deadlock_detection_off(void)
{
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}
