/*
 * tools/bench/rpc/absl_mutex.h: switch off Abseil's mutex deadlock detection.
 *
 * Debian builds libabsl without NDEBUG, so absl::Mutex (which is gpr_mu and
 * grpc_core::Mutex in the gRPC C core 1.51) defaults to OnDeadlockCycle::kAbort: every
 * Lock() with another mutex held updates a process-wide lock graph under a global
 * spin lock. In a load generator that is pure overhead; call this before any thread
 * starts (before grpc_init()).
 */
#ifndef CLM_TOOLS_BENCH_RPC_ABSL_MUTEX_H
#define CLM_TOOLS_BENCH_RPC_ABSL_MUTEX_H

#ifdef __cplusplus
extern "C" {
#endif

/** absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore). */
void bench_absl_deadlock_detection_off(void);

#ifdef __cplusplus
}
#endif

#endif
