/*
 * appliance/appstore.h: the appliance's use of store/: which tables it opens, and
 * the audit entries written for API calls.
 */
#ifndef CLM_APPLIANCE_APPSTORE_H
#define CLM_APPLIANCE_APPSTORE_H

#include "appliance/app.h"

/** Open the store in the data directory with every table of the appliance. */
clm_err appstore_open(clm_app *app);

/** Create the scheduler on the open store and register the job kinds (not started). */
clm_err appstore_scheduler_new(clm_app *app);

/**
 * @brief Append one audit entry for an API call in a transaction of its own.
 * For handlers that write, prefer appstore_audit_in() inside their own transaction.
 */
clm_err appstore_audit_call(clm_app *app, rpc_call *call, clm_err result, const char *message);

struct store_txn;
/**
 * @brief Append the audit entry of `call` inside the caller's write transaction, with
 * outcome OK, and mark the call audited (the server then writes no second entry).
 */
clm_err appstore_audit_in(struct store_txn *txn, rpc_call *call);

#endif
