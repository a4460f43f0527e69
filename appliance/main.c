/*
 * appliance/main.c: clmd. Reads the configuration, locks the data directory, makes
 * or loads the appliance identity, opens the store, serves the API until SIGTERM or
 * SIGINT, and reloads what it can on SIGHUP.
 *
 * Signals are blocked in every thread and taken by the main thread with sigwait(),
 * so no work ever happens in a signal handler.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appliance/api/health.h"
#include "appliance/api/services.h"
#include "appliance/app.h"
#include "appliance/appstore.h"
#include "appliance/ca/connectors.h"
#include "appliance/ca/issue.h"
#include "appliance/datadir.h"
#include "appliance/identity.h"
#include "appliance/inventory/import_queue.h"
#include "appliance/issue_client.h"
#include "appliance/rpc/absl_mutex.h"
#include "appliance/server_setup.h"
#include "lib/base/log.h"
#include "lib/protodesc/descset.h"
#include "proto/descriptor_set.h"
#include "scheduler/scheduler.h"
#include "store/seal.h"
#include "store/store.h"

static int fail(const char *what)
{
    fprintf(stderr, "clmd: %s: %s\n", what, clm_error_message());
    return 1;
}

/* SIGHUP: re-read the configuration; apply the log level and the auth policy. */
static void reload(clm_app *app, int argc, char **argv)
{
    clm_config cfg;
    config_action action;
    auth_policy *policy;
    clm_log_level level;

    if (config_load(&cfg, argc, argv, &action) != CLM_OK ||
        auth_policy_load(&cfg, &policy) != CLM_OK) {
        CLM_LOG_ERROR("config.reload", "error", clm_error_message(), "note",
                      "kept the previous configuration");
        return;
    }
    if (clm_log_level_parse(cfg.log_level, &level) == CLM_OK)
        clm_log_set_level(level);
    pthread_rwlock_wrlock(&app->policy_lock);
    auth_policy *old = app->policy;
    app->policy = policy;
    pthread_rwlock_unlock(&app->policy_lock);
    auth_policy_free(old);
    if (strcmp(cfg.listen, app->config.listen) != 0 ||
        strcmp(cfg.data_dir, app->config.data_dir) != 0 || cfg.threads != app->config.threads)
        CLM_LOG_WARN("config.reload", "note",
                     "listen, data_dir and threads change only on restart");
    CLM_LOG_INFO("config.reload", "log_level", cfg.log_level, "result", "ok");
}

/* The clmctl beside this clmd (tools/run puts both in bin/), else the one on PATH. */
static void clmctl_path(const char *argv0, char *out, size_t size)
{
    const char *slash = strrchr(argv0, '/');

    snprintf(out, size, "clmctl");
    if (slash != NULL) {
        char candidate[4200];
        snprintf(candidate, sizeof(candidate), "%.*s/clmctl", (int)(slash - argv0), argv0);
        if (access(candidate, X_OK) == 0)
            snprintf(out, size, "%s", candidate);
    }
}

static void print_start_banner(const clm_app *app, int tcp_port, const char *argv0)
{
    char clmctl[4200];

    clmctl_path(argv0, clmctl, sizeof(clmctl));
    printf("clmd %s (%s) serving\n", clm_version, clm_build);
    if (strcmp(app->config.socket_path, "off") != 0)
        printf("  local API:  unix:%s (root and the service user are admin)\n",
               app->config.socket_path);
    if (app->config.listen[0] != '\0')
        printf("  remote API: %s (mutual TLS; port %d; admin bundle in %s/tls/)\n",
               app->config.listen, tcp_port, app->config.data_dir);
    printf("  try:        %s --data-dir %s version\n", clmctl, app->config.data_dir);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    clm_app app;
    config_action action;
    clm_log_level level;
    sigset_t signals;
    int lock_fd = -1;
    int sig;
    int rc = 0;

    memset(&app, 0, sizeof(app));
    /* Every RPC's arena grows in chunks of up to 1 MiB and frees them when the call
     * ends; glibc would mmap and unmap the large ones (or trim the heap) per call, and
     * the page faults and zeroing that follow were 7% of clmd's CPU per ListCertificates.
     * Keep freed memory for reuse instead (bounded: what the busiest moment held). */
    mallopt(M_MMAP_THRESHOLD, 8 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    if (argc > 1 && strcmp(argv[1], "issue-client") == 0)
        return issue_client_main(argc - 1, argv + 1);
    if (config_load(&app.config, argc, argv, &action) != CLM_OK)
        return fail("configuration");
    if (action == CONFIG_HELP) {
        config_print_help(argv[0]);
        return 0;
    }
    if (action == CONFIG_VERSION) {
        printf("clmd %s (%s)\n", clm_version, clm_build);
        return 0;
    }
    if (auth_policy_load(&app.config, &app.policy) != CLM_OK)
        return fail("configuration");
    if (action == CONFIG_CHECK) {
        printf("configuration ok%s%s\n", app.config.config_path[0] ? ": " : "",
               app.config.config_path);
        auth_policy_free(app.policy);
        return 0;
    }
    clm_log_level_parse(app.config.log_level, &level);
    clm_log_set_level(level);
    app.clock = clm_clock_system();
    app.started_ns = clm_clock_now_ns(app.clock);
    pthread_rwlock_init(&app.policy_lock, NULL);

    /* Block the signals before any thread starts, so that only sigwait sees them. */
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Debian's Abseil is built without NDEBUG: its lock-graph deadlock detection would run
       on every gRPC mutex (rpc/absl_mutex.h). Before any thread starts. */
    rpc_absl_deadlock_detection_off();

    if (datadir_lock(app.config.data_dir, &lock_fd) != CLM_OK)
        return fail("data directory");
    if (server_identity_setup(&app) != CLM_OK) {
        rc = fail("appliance identity");
        goto out;
    }
    if (appstore_open(&app) != CLM_OK) {
        rc = fail("store");
        goto out;
    }
    if (import_queue_new(app.store, (size_t)app.config.import_group_certs, &app.imports) != CLM_OK) {
        rc = fail("import queue");
        goto out;
    }
    if (appstore_scheduler_new(&app) != CLM_OK) {
        rc = fail("scheduler");
        goto out;
    }
    if (connectors_register_adapters() != CLM_OK) {
        rc = fail("CA adapters");
        goto out;
    }
    if (server_setup_start(&app) != CLM_OK) {
        rc = fail("API");
        goto out;
    }
    if (sched_start(app.sched) != CLM_OK) {
        rc = fail("scheduler");
        server_setup_stop(&app);
        goto out;
    }
    print_start_banner(&app, rpc_server_tcp_port(app.server), argv[0]);
    CLM_LOG_INFO("started", "data_dir", app.config.data_dir, "listen", app.config.listen,
                 "socket", app.config.socket_path, "pid", CLM_I64(getpid()));

    for (;;) {
        if (sigwait(&signals, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reload(&app, argc, argv);
            continue;
        }
        break;
    }
    CLM_LOG_INFO("stopping", "signal", strsignal(sig), "grace_s",
                 CLM_I64(app.config.shutdown_grace_s));
    server_setup_stop(&app);
    sched_stop(app.sched);
    CLM_LOG_INFO("stopped");
out:
    server_setup_free(&app);
    import_queue_free(app.imports); /* after the server: its deferred calls are finished */
    connector_instances_forget(0);  /* the adapter instances Issue kept open */
    sched_free(app.sched);
    store_close(app.store);
    seal_key_free(app.seal);
    auth_policy_free(app.policy);
    pthread_rwlock_destroy(&app.policy_lock);
    if (lock_fd >= 0)
        close(lock_fd);
    return rc;
}
