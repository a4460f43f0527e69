/*
 * appliance/config.h: clmd's configuration.
 *
 * Three sources, each overriding the one before: the INI file (--config FILE or
 * CLM_CONFIG, default DATA_DIR/clmd.ini when it exists), command-line flags, then
 * CLM_* environment variables. Every key is one row of a table (config.c), which
 * also produces `clmd --help`. Unknown sections or keys and bad values are errors
 * naming the key and where it came from ("clmd.ini:7: [server] threads: ...").
 *
 * Reloadable on SIGHUP: log level, unix_roles, role_map. Everything else needs a
 * restart (and config_reload says so in the log when it changed).
 */
#ifndef CLM_APPLIANCE_CONFIG_H
#define CLM_APPLIANCE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "lib/base/error.h"

#define CONFIG_MAX_NAMES 16
#define CONFIG_MAX_ALLOW 64

typedef struct clm_config {
    char config_path[4096];   /* the file read, "" when none */
    char data_dir[4096];      /* [store] data_dir */
    uint64_t map_size_mb;     /* [store] map_size_mb: initial LMDB map; it grows */
    char listen[256];         /* [server] listen: host:port for mutual TLS; "" = off */
    char socket_path[4096];   /* [server] socket: Unix socket; default DATA_DIR/clmd.sock */
    int threads;              /* [server] threads */
    int max_streams;          /* [server] max_streams */
    uint64_t max_message_bytes; /* [server] max_message_bytes */
    int shutdown_grace_s;     /* [server] shutdown_grace */
    char server_names[1024];  /* [server] server_names: extra SANs, comma-separated */
    char log_level[16];       /* [log] level */
    char unix_roles[1024];    /* [auth] unix_roles: "uid:role, uid:role" */
    char service_user[64];    /* [auth] service_user: user name or uid, admin on the socket */
    char role_map[4096];      /* [auth] role_map: file of "subject-or-CN = role" lines */
    int scheduler_workers;    /* [scheduler] workers: job worker threads */
    char tls_allow[4096];     /* [tls] allow: networks the probe may connect to */
    char tls_ca_file[4096];   /* [tls] ca_file: trust store for served chains */
    int tls_threads;          /* [tls] threads: event loops per sweep */
    int tls_max_in_flight;    /* [tls] max_in_flight */
    int tls_max_rate;         /* [tls] max_rate: connections started per second */
    int tls_connect_timeout_ms;   /* [tls] connect_timeout_ms */
    int tls_handshake_timeout_ms; /* [tls] handshake_timeout_ms */
    int validation_interval_s;    /* [tls] validation_interval: 0 = no default schedule */
    int validation_history_days;  /* [tls] validation_history_days */
    int renewal_interval_s;       /* [renewal] interval: the default "renewal-sweep" schedule; 0 = none */
    int renewal_max_per_connector; /* [renewal] max_per_connector: work orders per connector per sweep */
    int renewal_retry_base_s;     /* [renewal] retry_base: the first wait after a failure */
    int renewal_retry_cap_s;      /* [renewal] retry_cap: the longest wait */
    int renewal_lifetime_percent; /* [renewal] lifetime_percent: short-lived rule (policy.h) */
    int import_group_certs;       /* [inventory] import_group: the import queue's group size */
} clm_config;

typedef enum config_action {
    CONFIG_RUN = 0,   /* start the server */
    CONFIG_HELP,      /* --help was given: usage printed */
    CONFIG_VERSION,   /* --version */
    CONFIG_CHECK      /* --check-config: validate and exit */
} config_action;

/** Fill cfg with the built-in defaults (data_dir "./var/clm"). */
void config_defaults(clm_config *cfg);

/**
 * @brief Build the configuration from argv, the file and the environment.
 * @param[out] action what main should do.
 * @return CLM_OK; CLM_ERR_CONFIG naming the key or flag at fault.
 */
clm_err config_load(clm_config *cfg, int argc, char **argv, config_action *action);

/**
 * @brief Apply an INI document (for the file, and for tests and the fuzz target).
 * @param[in] origin name used in messages ("clmd.ini").
 * @return CLM_OK or CLM_ERR_CONFIG naming origin, line and key.
 */
clm_err config_apply_ini(clm_config *cfg, const char *text, const char *origin);

/** Check cross-key rules after all sources are applied. */
clm_err config_validate(const clm_config *cfg);

/** Print the usage with every flag and its variable to stdout. */
void config_print_help(const char *argv0);

/**
 * @brief Parse server_names into entries (pointers into `storage`, which is a
 * copy the caller provides of at least sizeof(cfg->server_names)).
 * @return the number of names (at most CONFIG_MAX_NAMES).
 */
size_t config_server_names(const clm_config *cfg, char *storage, const char **names);

/**
 * @brief Split a comma- or blank-separated list: `storage` (storage_size bytes) gets a
 * copy that `items` point into.
 * @return the number of items, at most `max`.
 */
size_t config_split_list(const char *text, char *storage, size_t storage_size,
                         const char **items, size_t max);

#endif
