/*
 * appliance/server_setup.h: assemble the API server from the configuration: the
 * appliance identity (TLS files), the auth callbacks, the service table, health and
 * reflection. main.c calls these in order; each leaves `app` consistent on failure so
 * that server_setup_free() can always run.
 */
#ifndef CLM_APPLIANCE_SERVER_SETUP_H
#define CLM_APPLIANCE_SERVER_SETUP_H

#include "appliance/app.h"

/**
 * @brief Create the appliance CA, server certificate and admin bundle on first start
 * (printing the PKCS#12 password once, on stdout), or load and check them.
 * @return CLM_OK; the errors of identity_ensure().
 */
clm_err server_identity_setup(clm_app *app);

/**
 * @brief Build the server (listeners, services, health, reflection) and start it.
 * @return CLM_OK; CLM_ERR_BUSY when the port or socket is taken; CLM_ERR_CONFIG;
 *         CLM_ERR_IO; CLM_ERR_NO_MEMORY.
 */
clm_err server_setup_start(clm_app *app);

/** Mark everything NOT_SERVING, then drain and stop the server (grace from config). */
void server_setup_stop(clm_app *app);

/** Free the server, health table and descriptors. Safe after any failure. */
void server_setup_free(clm_app *app);

#endif
