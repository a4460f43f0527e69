/* appliance/server_setup.c: identity, auth callbacks and services wired into rpc. */
#include "appliance/server_setup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/api/health.h"
#include "appliance/api/services.h"
#include "appliance/appstore.h"
#include "appliance/identity.h"
#include "lib/base/buf.h"
#include "lib/base/log.h"
#include "lib/protodesc/descset.h"
#include "proto/descriptor_set.h"

clm_err server_identity_setup(clm_app *app)
{
    char storage[sizeof(app->config.server_names)];
    const char *names[CONFIG_MAX_NAMES];
    size_t n = config_server_names(&app->config, storage, names);
    identity_paths paths;
    char *password = NULL;
    clm_err err = identity_ensure(app->config.data_dir, names, n, &paths, &password);

    if (err != CLM_OK)
        return err;
    if (password != NULL) {
        /* Shown once, on the terminal that started clmd; never logged. */
        printf("First start: created the appliance CA, server certificate and admin "
               "client bundle in %s/tls/\n"
               "  admin bundle: %s (PEM: %s + %s)\n"
               "  PKCS#12 password (shown only now): %s\n",
               app->config.data_dir, paths.admin_p12, paths.admin_cert, paths.admin_key,
               password);
        fflush(stdout);
        clm_memwipe(password, strlen(password));
        free(password);
    }
    return CLM_OK;
}

static clm_err read_file(const char *path, clm_buf *out)
{
    FILE *f = fopen(path, "rb");
    char chunk[4096];
    size_t n;

    if (f == NULL)
        return clm_fail(CLM_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (clm_buf_append(out, chunk, n) != CLM_OK) {
            fclose(f);
            return CLM_ERR_NO_MEMORY;
        }
    }
    fclose(f);
    clm_memwipe(chunk, sizeof(chunk));
    return CLM_OK;
}

static clm_err authorize_unix(void *arg, uid_t uid, gid_t gid, rpc_peer *peer)
{
    clm_app *app = arg;

    (void)gid;
    pthread_rwlock_rdlock(&app->policy_lock);
    peer->role = auth_unix_role(app->policy, uid);
    pthread_rwlock_unlock(&app->policy_lock);
    return peer->role == RPC_ROLE_NONE ? CLM_ERR_PERMISSION : CLM_OK;
}

static void identify_tls(void *arg, const char *subject, rpc_peer *peer)
{
    clm_app *app = arg;

    pthread_rwlock_rdlock(&app->policy_lock);
    auth_tls_identify(app->policy, subject, peer);
    pthread_rwlock_unlock(&app->policy_lock);
}

static void audit(void *arg, rpc_call *call, clm_err result, const char *message)
{
    if (appstore_audit_call(arg, call, result, message) != CLM_OK)
        CLM_LOG_ERROR("audit.append", "method", rpc_call_method(call)->path, "error",
                      clm_error_message());
}

static clm_err build_descriptors(clm_app *app)
{
    app->descriptors = descset_new();
    if (app->descriptors == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    return descset_add_set(app->descriptors, clm_descriptor_set, clm_descriptor_set_len);
}

static clm_err build_health(clm_app *app)
{
    const char *names[32];
    size_t n = 0;

    for (size_t i = 0; i < api_services_count && n < 32; i++)
        names[n++] = api_services[i].name;
    app->health = health_table_new(names, n);
    return app->health ? CLM_OK : clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
}

clm_err server_setup_start(clm_app *app)
{
    char path[4200];
    clm_buf cert = CLM_BUF_INIT, key = CLM_BUF_INIT, ca = CLM_BUF_INIT;
    rpc_server_options options;
    clm_err err;

    if ((err = build_descriptors(app)) != CLM_OK || (err = build_health(app)) != CLM_OK)
        return err;
    memset(&options, 0, sizeof(options));
    options.threads = app->config.threads;
    options.max_streams = app->config.max_streams;
    options.max_message_bytes = (size_t)app->config.max_message_bytes;
    options.app = app;
    options.audit = audit;
    if (strcmp(app->config.socket_path, "off") != 0) {
        options.unix_path = app->config.socket_path;
        options.authorize_unix = authorize_unix;
    }
    if (app->config.listen[0] != '\0') {
        snprintf(path, sizeof(path), "%s/tls/server.pem", app->config.data_dir);
        if ((err = read_file(path, &cert)) != CLM_OK)
            goto out;
        snprintf(path, sizeof(path), "%s/tls/server.key", app->config.data_dir);
        if ((err = read_file(path, &key)) != CLM_OK)
            goto out;
        snprintf(path, sizeof(path), "%s/tls/ca.pem", app->config.data_dir);
        if ((err = read_file(path, &ca)) != CLM_OK)
            goto out;
        options.tcp_address = app->config.listen;
        options.tls_cert_pem = clm_buf_str(&cert);
        options.tls_key_pem = clm_buf_str(&key);
        options.client_ca_pem = clm_buf_str(&ca);
        options.identify_tls = identify_tls;
    }
    if ((err = rpc_server_new(&options, &app->server)) != CLM_OK)
        goto out;
    for (size_t i = 0; i < api_services_count; i++) {
        err = rpc_server_add_methods(app->server, api_services[i].methods,
                                     *api_services[i].count);
        if (err != CLM_OK)
            goto out;
    }
    err = rpc_server_start(app->server);
    if (err == CLM_OK)
        health_table_set_all(app->health, HEALTH_SERVING, app->server);
out:
    clm_buf_free(&cert);
    clm_buf_wipe(&key);
    clm_buf_free(&ca);
    return err;
}

void server_setup_stop(clm_app *app)
{
    if (app->server == NULL)
        return;
    health_table_set_all(app->health, HEALTH_NOT_SERVING, app->server);
    rpc_server_shutdown(app->server, (int64_t)app->config.shutdown_grace_s * CLM_NS_PER_SEC);
}

void server_setup_free(clm_app *app)
{
    rpc_server_free(app->server);
    app->server = NULL;
    health_table_free(app->health);
    app->health = NULL;
    descset_free(app->descriptors);
    app->descriptors = NULL;
}
