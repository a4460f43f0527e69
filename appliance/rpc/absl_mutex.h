/*
 * appliance/rpc/absl_mutex.h: switch off Abseil's mutex deadlock detection.
 *
 * Debian builds libabsl without NDEBUG, so absl::Mutex (which is gpr_mu and
 * grpc_core::Mutex in the gRPC C core 1.51) defaults to OnDeadlockCycle::kAbort: every
 * Lock() with another mutex held updates a process-wide lock graph under a global
 * spin lock (11-12% of clmd's instructions per unary call, docs/benchmarks.md). Release
 * builds of Abseil (NDEBUG) do not detect at all; clmd and the RPC load generator
 * switch it off the same way. Call before any thread starts (before grpc_init()).
 */
#ifndef CLM_APPLIANCE_RPC_ABSL_MUTEX_H
#define CLM_APPLIANCE_RPC_ABSL_MUTEX_H

#ifdef __cplusplus
extern "C" {
#endif

/** absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore). */
void rpc_absl_deadlock_detection_off(void);

#ifdef __cplusplus
}
#endif

#endif
