/*
 * store/gate.c: the growth gate (see store_internal.h): transactions hold it shared, a
 * map growth holds it exclusive.
 *
 * Fairness: a growth first waits politely (new transactions still enter) for up to
 * POLITE_MS_MAX, so that a burst of short readers can finish. Then it holds new ones back
 * until the open ones drain, but only while every open holder is short-lived: when a
 * long-lived holder (a backup, a read transaction from store_read_begin) is open, holding
 * the others back would stall every reader for as long as it lasts, for nothing, so the
 * growth keeps waiting politely. At the deadline it gives up and lets everyone in.
 */
#include "store/store_internal.h"

#include <errno.h>
#include <time.h>

#define POLITE_MS_MAX 100

clm_err store_gate_init(store_gate *gate)
{
    pthread_condattr_t attr;

    gate->shared = 0;
    gate->long_lived = 0;
    gate->exclusive = false;
    gate->pending = false;
    gate->grower = false;
    if (pthread_mutex_init(&gate->mutex, NULL) != 0)
        return clm_fail(CLM_ERR_NO_MEMORY, "store: cannot create a mutex");
    if (pthread_condattr_init(&attr) != 0 ||
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&gate->cond, &attr) != 0) {
        pthread_mutex_destroy(&gate->mutex);
        return clm_fail(CLM_ERR_NO_MEMORY, "store: cannot create a condition variable");
    }
    pthread_condattr_destroy(&attr);
    return CLM_OK;
}

void store_gate_destroy(store_gate *gate)
{
    pthread_cond_destroy(&gate->cond);
    pthread_mutex_destroy(&gate->mutex);
}

void store_gate_shared_acquire(store_gate *gate, bool long_lived)
{
    pthread_mutex_lock(&gate->mutex);
    while (gate->exclusive || gate->pending)
        pthread_cond_wait(&gate->cond, &gate->mutex);
    gate->shared++;
    gate->long_lived += long_lived;
    pthread_mutex_unlock(&gate->mutex);
}

void store_gate_shared_release(store_gate *gate, bool long_lived)
{
    pthread_mutex_lock(&gate->mutex);
    gate->shared--;
    gate->long_lived -= long_lived;
    if (gate->shared == 0 || long_lived) /* a waiting growth re-evaluates */
        pthread_cond_broadcast(&gate->cond);
    pthread_mutex_unlock(&gate->mutex);
}

static void deadline_after(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Wait for the holders to drain until `deadline`; mutex held. hold_back: keep new holders
 * out meanwhile, as long as only short-lived holders are open. */
static bool wait_drained(store_gate *gate, const struct timespec *deadline, bool hold_back)
{
    while (gate->shared > 0) {
        gate->pending = hold_back && gate->long_lived == 0;
        if (pthread_cond_timedwait(&gate->cond, &gate->mutex, deadline) == ETIMEDOUT)
            break;
    }
    gate->pending = false;
    return gate->shared == 0;
}

clm_err store_gate_exclusive_acquire(store_gate *gate, unsigned wait_ms)
{
    struct timespec polite, hard;
    bool drained;

    deadline_after(&polite, wait_ms / 2 < POLITE_MS_MAX ? wait_ms / 2 : POLITE_MS_MAX);
    deadline_after(&hard, wait_ms);
    pthread_mutex_lock(&gate->mutex);
    while (gate->grower) { /* another growth first */
        if (pthread_cond_timedwait(&gate->cond, &gate->mutex, &hard) == ETIMEDOUT) {
            pthread_mutex_unlock(&gate->mutex);
            return CLM_ERR_TIMEOUT;
        }
    }
    gate->grower = true;
    drained = wait_drained(gate, &polite, false) || wait_drained(gate, &hard, true);
    if (drained)
        gate->exclusive = true;
    else
        gate->grower = false;
    pthread_cond_broadcast(&gate->cond); /* let in whoever we held back */
    pthread_mutex_unlock(&gate->mutex);
    return drained ? CLM_OK : CLM_ERR_TIMEOUT;
}

void store_gate_exclusive_release(store_gate *gate)
{
    pthread_mutex_lock(&gate->mutex);
    gate->exclusive = false;
    gate->grower = false;
    pthread_cond_broadcast(&gate->cond);
    pthread_mutex_unlock(&gate->mutex);
}

unsigned store_gate_shared_count(store_gate *gate)
{
    unsigned n;

    pthread_mutex_lock(&gate->mutex);
    n = gate->shared;
    pthread_mutex_unlock(&gate->mutex);
    return n;
}
