/*
 * appliance/app.h: the appliance's process-wide state, handed to every RPC handler
 * (rpc_call_app) and job. One per process; built by main.c, torn down on exit.
 *
 * Thread rules: fields are set before the server starts and read-only afterwards,
 * except `policy` (swapped on SIGHUP under policy_lock) and the health table (its
 * own lock).
 */
#ifndef CLM_APPLIANCE_APP_H
#define CLM_APPLIANCE_APP_H

#include <pthread.h>
#include <stdint.h>

#include "appliance/auth.h"
#include "appliance/config.h"
#include "appliance/rpc/rpc.h"
#include "lib/base/clock.h"

typedef struct store store;
typedef struct seal_key seal_key;
typedef struct sched sched;
typedef struct health_table health_table;
typedef struct descset descset;
typedef struct import_queue import_queue;

typedef struct clm_app {
    clm_config config;
    const clm_clock *clock;
    int64_t started_ns;       /* wall clock at start */
    store *store;
    seal_key *seal;           /* the master key for sealed secrets (store/seal.h) */
    sched *sched;             /* the scheduler (scheduler/scheduler.h), kinds in jobs/ */
    rpc_server *server;
    import_queue *imports;    /* group commit of ImportCertificates; NULL: one txn per call */
    health_table *health;
    descset *descriptors;     /* every served file, for reflection */
    pthread_rwlock_t policy_lock;
    auth_policy *policy;
} clm_app;

/** Version and build strings compiled in (tools/build stamps them). */
extern const char clm_version[];
extern const char clm_build[];

#endif
