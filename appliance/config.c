/*
 * appliance/config.c: the configuration table, the INI reader (inih), flags and
 * CLM_* variables. One row per key: adding a key is adding a row.
 */
#include "appliance/config.h"

#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/base/log.h"

typedef enum key_type { KEY_STRING, KEY_INT, KEY_U64, KEY_LOG_LEVEL, KEY_SECONDS } key_type;

typedef struct config_key {
    const char *section;
    const char *name;
    const char *flag; /* long option, without "--" */
    const char *env;
    key_type type;
    size_t offset;
    size_t size;      /* KEY_STRING: buffer size */
    int64_t min, max; /* numeric range */
    const char *fallback;
    const char *help;
} config_key;

#define STR(field) offsetof(clm_config, field), sizeof(((clm_config *)0)->field)
#define NUM(field) offsetof(clm_config, field), 0

static const config_key config_keys[] = {
    {"store", "data_dir", "data-dir", "CLM_DATA_DIR", KEY_STRING, STR(data_dir), 0, 0,
     "./var/clm", "data directory: database, appliance CA and keys, socket"},
    {"store", "map_size_mb", "map-size-mb", "CLM_MAP_SIZE_MB", KEY_U64, NUM(map_size_mb), 1,
     1 << 20, "64", "initial database map size in MiB (it grows when full)"},
    {"server", "listen", "listen", "CLM_LISTEN", KEY_STRING, STR(listen), 0, 0,
     "0.0.0.0:7443", "host:port of the mutual-TLS API; empty turns TCP off"},
    {"server", "socket", "socket", "CLM_SOCKET", KEY_STRING, STR(socket_path), 0, 0, "",
     "Unix socket of the local API (default DATA_DIR/clmd.sock); \"off\" turns it off"},
    {"server", "threads", "threads", "CLM_THREADS", KEY_INT, NUM(threads), 1, 64, "2",
     "completion-queue threads of the API"},
    {"server", "max_streams", "max-streams", "CLM_MAX_STREAMS", KEY_INT, NUM(max_streams), 1,
     4096, "64", "streaming calls served at once"},
    {"server", "max_message_bytes", "max-message-bytes", "CLM_MAX_MESSAGE_BYTES", KEY_U64,
     NUM(max_message_bytes), 1024, 256 << 20, "4194304", "largest request or reply message"},
    {"server", "shutdown_grace", "shutdown-grace", "CLM_SHUTDOWN_GRACE", KEY_SECONDS,
     NUM(shutdown_grace_s), 0, 3600, "10",
     "seconds in-flight calls get to finish on SIGTERM (suffix s, m allowed)"},
    {"server", "server_names", "server-names", "CLM_SERVER_NAMES", KEY_STRING,
     STR(server_names), 0, 0, "",
     "extra DNS names or IPs for the server certificate, comma-separated (first start)"},
    {"log", "level", "log-level", "CLM_LOG_LEVEL", KEY_LOG_LEVEL, STR(log_level), 0, 0, "info",
     "debug, info, warn or error (reloaded on SIGHUP)"},
    {"auth", "unix_roles", "unix-roles", "CLM_UNIX_ROLES", KEY_STRING, STR(unix_roles), 0, 0,
     "", "more local users on the socket: \"uid:role, ...\" (reloaded on SIGHUP)"},
    {"auth", "service_user", "service-user", "CLM_SERVICE_USER", KEY_STRING, STR(service_user),
     0, 0, "", "user (name or uid) clmd runs as; admin on the socket like root"},
    {"auth", "role_map", "role-map", "CLM_ROLE_MAP", KEY_STRING, STR(role_map), 0, 0, "",
     "file mapping certificate subjects or CNs to roles (reloaded on SIGHUP)"},
    {"scheduler", "workers", "scheduler-workers", "CLM_SCHEDULER_WORKERS", KEY_INT,
     NUM(scheduler_workers), 1, 256, "4", "job worker threads"},
    {"tls", "allow", "tls-allow", "CLM_TLS_ALLOW", KEY_STRING, STR(tls_allow), 0, 0, "",
     "networks discovery and push validation may connect to: CIDR or addresses, "
     "comma-separated; empty refuses every scan"},
    {"tls", "ca_file", "tls-ca-file", "CLM_TLS_CA_FILE", KEY_STRING, STR(tls_ca_file), 0, 0, "",
     "trust store (PEM bundle) for served chains; empty: the system's"},
    {"tls", "threads", "tls-threads", "CLM_TLS_THREADS", KEY_INT, NUM(tls_threads), 1, 64, "2",
     "event loops of one sweep (handshakes are CPU-bound: about one per core)"},
    {"tls", "max_in_flight", "tls-max-in-flight", "CLM_TLS_MAX_IN_FLIGHT", KEY_INT,
     NUM(tls_max_in_flight), 1, 16384, "256", "endpoints probed at once by one sweep"},
    {"tls", "max_rate", "tls-max-rate", "CLM_TLS_MAX_RATE", KEY_INT, NUM(tls_max_rate), 1,
     100000, "1000", "new connections per second of one sweep"},
    {"tls", "connect_timeout_ms", "tls-connect-timeout-ms", "CLM_TLS_CONNECT_TIMEOUT_MS",
     KEY_INT, NUM(tls_connect_timeout_ms), 100, 120000, "3000", "TCP connect timeout per endpoint"},
    {"tls", "handshake_timeout_ms", "tls-handshake-timeout-ms", "CLM_TLS_HANDSHAKE_TIMEOUT_MS",
     KEY_INT, NUM(tls_handshake_timeout_ms), 100, 120000, "5000",
     "STARTTLS plus TLS handshake timeout per endpoint"},
    {"tls", "validation_interval", "validation-interval", "CLM_VALIDATION_INTERVAL", KEY_SECONDS,
     NUM(validation_interval_s), 0, 7 * 86400, "1h",
     "push validation runs this often (schedule \"push-validation\", made at first start); 0: "
     "none"},
    {"tls", "validation_history_days", "validation-history-days", "CLM_VALIDATION_HISTORY_DAYS",
     KEY_INT, NUM(validation_history_days), 1, 3650, "30",
     "push validation results kept for the report"},
    {"renewal", "interval", "renewal-interval", "CLM_RENEWAL_INTERVAL", KEY_SECONDS,
     NUM(renewal_interval_s), 0, 7 * 86400, "24h",
     "the renewal sweep runs this often (schedule \"renewal-sweep\", made at first start); 0: "
     "none"},
    {"renewal", "max_per_connector", "renewal-max-per-connector", "CLM_RENEWAL_MAX_PER_CONNECTOR",
     KEY_INT, NUM(renewal_max_per_connector), 1, 100000, "100",
     "renewal work orders one sweep makes per CA connector (the rest wait, \"rate-limited\")"},
    {"renewal", "retry_base", "renewal-retry-base", "CLM_RENEWAL_RETRY_BASE", KEY_SECONDS,
     NUM(renewal_retry_base_s), 1, 86400, "5m",
     "wait after a failed renewal before the sweep tries again (doubled per failure)"},
    {"renewal", "retry_cap", "renewal-retry-cap", "CLM_RENEWAL_RETRY_CAP", KEY_SECONDS,
     NUM(renewal_retry_cap_s), 1, 7 * 86400, "24h", "the longest wait between renewal attempts"},
    {"inventory", "import_group", "import-group", "CLM_IMPORT_GROUP", KEY_INT,
     NUM(import_group_certs), 1000, 50000, "10000",
     "certificates one import transaction takes at most: larger groups import faster (1M "
     "certificates: 25,000 was 1.34x the rate of 10,000) and raise the memory peak of a "
     "bulk import (583 -> 861 MiB); read at start"},
    {"renewal", "lifetime_percent", "renewal-lifetime-percent", "CLM_RENEWAL_LIFETIME_PERCENT",
     KEY_INT, NUM(renewal_lifetime_percent), 1, 99, "33",
     "short-lived certificates (days before expiry >= lifetime) renew when this share of "
     "the lifetime remains"},
};

#define NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

/* Parse "10", "10s", "2m", "1h" into seconds. */
static int parse_seconds(const char *text, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || end == text)
        return 0;
    if (*end == 'm' && end[1] == '\0')
        v *= 60;
    else if (*end == 'h' && end[1] == '\0')
        v *= 3600;
    else if (!(*end == '\0' || (*end == 's' && end[1] == '\0')))
        return 0;
    *out = v;
    return 1;
}

static int parse_int64(const char *text, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0')
        return 0;
    *out = v;
    return 1;
}

/* Set one key from text; `origin` says where the value came from, for messages. */
static clm_err key_set(clm_config *cfg, const config_key *k, const char *value,
                       const char *origin)
{
    char *field = (char *)cfg + k->offset;
    int64_t number = 0;
    clm_log_level level;

    switch (k->type) {
    case KEY_STRING:
    case KEY_LOG_LEVEL:
        if (strlen(value) >= k->size)
            return clm_fail(CLM_ERR_CONFIG, "%s: [%s] %s: value longer than %zu characters",
                            origin, k->section, k->name, k->size - 1);
        if (k->type == KEY_LOG_LEVEL && clm_log_level_parse(value, &level) != CLM_OK)
            return clm_fail(CLM_ERR_CONFIG,
                            "%s: [%s] %s: '%s' is not one of debug, info, warn, error", origin,
                            k->section, k->name, value);
        memcpy(field, value, strlen(value) + 1);
        return CLM_OK;
    case KEY_INT:
    case KEY_U64:
    case KEY_SECONDS:
        if (!(k->type == KEY_SECONDS ? parse_seconds(value, &number)
                                     : parse_int64(value, &number)))
            return clm_fail(CLM_ERR_CONFIG, "%s: [%s] %s: '%s' is not a number%s", origin,
                            k->section, k->name, value,
                            k->type == KEY_SECONDS ? " of seconds (like 10, 10s, 2m, 1h)" : "");
        if (number < k->min || number > k->max)
            return clm_fail(CLM_ERR_CONFIG, "%s: [%s] %s: %" PRId64 " is outside %" PRId64
                            "..%" PRId64, origin, k->section, k->name, number, k->min, k->max);
        if (k->type == KEY_U64)
            *(uint64_t *)(void *)field = (uint64_t)number;
        else
            *(int *)(void *)field = (int)number;
        return CLM_OK;
    }
    return clm_fail(CLM_ERR_INTERNAL, "bad key type");
}

void config_defaults(clm_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NKEYS; i++) {
        clm_err err = key_set(cfg, &config_keys[i], config_keys[i].fallback, "default");
        (void)err; /* the defaults are checked by the unit test */
    }
}

typedef struct ini_state {
    clm_config *cfg;
    const char *origin;
    clm_err err;
    char message[CLM_ERROR_MESSAGE_MAX];
    int line;
} ini_state;

static int on_ini_entry(void *user, const char *section, const char *name, const char *value)
{
    ini_state *st = user;

    st->line++;
    if (st->err != CLM_OK)
        return 0;
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(config_keys[i].section, section) == 0 &&
            strcmp(config_keys[i].name, name) == 0) {
            st->err = key_set(st->cfg, &config_keys[i], value, st->origin);
            if (st->err != CLM_OK)
                snprintf(st->message, sizeof(st->message), "%s", clm_error_message());
            return st->err == CLM_OK;
        }
    }
    st->err = CLM_ERR_CONFIG;
    snprintf(st->message, sizeof(st->message), "%s: [%s] %s: unknown key%s", st->origin,
             section, name,
             section[0] == '\0' ? " (keys belong in a section: [store], [server], [log], [auth], [scheduler], [tls], [renewal])"
                                : "");
    return 0;
}

clm_err config_apply_ini(clm_config *cfg, const char *text, const char *origin)
{
    ini_state st = {cfg, origin, CLM_OK, "", 0};
    int rc = ini_parse_string(text, on_ini_entry, &st);

    if (st.err != CLM_OK)
        return clm_fail(st.err, "%s (line %d)", st.message, rc > 0 ? rc : st.line);
    if (rc != 0)
        return clm_fail(CLM_ERR_CONFIG, "%s:%d: not INI syntax (expected [section] or key = value)",
                        origin, rc);
    return CLM_OK;
}

static clm_err apply_file(clm_config *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    char *text;
    long size;
    clm_err err;

    if (f == NULL)
        return clm_fail(CLM_ERR_CONFIG, "config file %s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || size > (1 << 20) ||
        fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return clm_fail(CLM_ERR_CONFIG, "config file %s: unreadable or larger than 1 MiB", path);
    }
    text = malloc((size_t)size + 1);
    if (text == NULL) {
        fclose(f);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    size_t got = fread(text, 1, (size_t)size, f);
    fclose(f);
    text[got] = '\0';
    if (memchr(text, '\0', got) != NULL) {
        free(text);
        return clm_fail(CLM_ERR_CONFIG, "config file %s: contains a NUL byte", path);
    }
    err = config_apply_ini(cfg, text, path);
    free(text);
    if (err == CLM_OK)
        snprintf(cfg->config_path, sizeof(cfg->config_path), "%s", path);
    return err;
}

void config_print_help(const char *argv0_unused)
{
    (void)argv0_unused; /* the usage names the program "clmd" wherever it lives */
    printf("Usage: %s [--config FILE] [--check-config] [--OPTION VALUE ...]\n"
           "       %s issue-client --role ROLE --cn NAME   (a client bundle; see --help there)\n\n"
           "clmd, the clm appliance: certificate inventory, scheduler and API.\n"
           "Sources, each overriding the previous: config file (INI), flags, CLM_* "
           "environment.\n\n",
           "clmd", "clmd");
    printf("  --config FILE          (CLM_CONFIG) INI file; default DATA_DIR/clmd.ini if present\n");
    printf("  --check-config         validate the configuration and exit\n");
    printf("  --help, --version\n\n");
    for (size_t i = 0; i < NKEYS; i++) {
        const config_key *k = &config_keys[i];
        printf("  --%-20s (%s; [%s] %s) %s", k->flag, k->env, k->section, k->name, k->help);
        if (k->fallback[0] != '\0')
            printf(" [default: %s]", k->fallback);
        printf("\n");
    }
}

enum { OPT_CONFIG = 1000, OPT_HELP, OPT_VERSION, OPT_CHECK };

typedef struct flag_value {
    int key;
    const char *value;
} flag_value;

clm_err config_load(clm_config *cfg, int argc, char **argv, config_action *action)
{
    struct option options[NKEYS + 5];
    flag_value flags[64];
    size_t nflags = 0;
    const char *config_file = getenv("CLM_CONFIG");
    const char *flag_config = NULL;
    char default_file[4200];
    struct stat st;
    clm_err err;
    int c;

    *action = CONFIG_RUN;
    config_defaults(cfg);
    for (size_t i = 0; i < NKEYS; i++)
        options[i] = (struct option){config_keys[i].flag, required_argument, NULL, (int)i};
    options[NKEYS] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
    options[NKEYS + 1] = (struct option){"help", no_argument, NULL, OPT_HELP};
    options[NKEYS + 2] = (struct option){"version", no_argument, NULL, OPT_VERSION};
    options[NKEYS + 3] = (struct option){"check-config", no_argument, NULL, OPT_CHECK};
    options[NKEYS + 4] = (struct option){NULL, 0, NULL, 0};

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        if (c == OPT_CONFIG)
            flag_config = optarg;
        else if (c == OPT_HELP)
            *action = CONFIG_HELP;
        else if (c == OPT_VERSION)
            *action = CONFIG_VERSION;
        else if (c == OPT_CHECK)
            *action = CONFIG_CHECK;
        else if (c == ':')
            return clm_fail(CLM_ERR_CONFIG, "flag %s needs a value", argv[optind - 1]);
        else if (c == '?')
            return clm_fail(CLM_ERR_CONFIG, "unknown flag %s (see --help)", argv[optind - 1]);
        else if (nflags < sizeof(flags) / sizeof(flags[0]))
            flags[nflags++] = (flag_value){c, optarg};
        else
            return clm_fail(CLM_ERR_CONFIG, "too many flags");
    }
    if (optind < argc)
        return clm_fail(CLM_ERR_CONFIG, "unexpected argument '%s' (see --help)", argv[optind]);
    if (*action == CONFIG_HELP || *action == CONFIG_VERSION)
        return CLM_OK;

    /* The config file: CLM_CONFIG, else --config, else DATA_DIR/clmd.ini if present. */
    if (config_file == NULL)
        config_file = flag_config;
    if (config_file == NULL) {
        const char *dir = getenv("CLM_DATA_DIR");
        for (size_t i = 0; i < nflags && dir == NULL; i++)
            if (strcmp(config_keys[flags[i].key].name, "data_dir") == 0)
                dir = flags[i].value;
        snprintf(default_file, sizeof(default_file), "%s/clmd.ini", dir ? dir : cfg->data_dir);
        if (stat(default_file, &st) == 0)
            config_file = default_file;
    }
    if (config_file != NULL && (err = apply_file(cfg, config_file)) != CLM_OK)
        return err;
    for (size_t i = 0; i < nflags; i++) {
        char origin[80];
        snprintf(origin, sizeof(origin), "flag --%s", config_keys[flags[i].key].flag);
        if ((err = key_set(cfg, &config_keys[flags[i].key], flags[i].value, origin)) != CLM_OK)
            return err;
    }
    for (size_t i = 0; i < NKEYS; i++) {
        const char *value = getenv(config_keys[i].env);
        char origin[80];
        if (value == NULL)
            continue;
        snprintf(origin, sizeof(origin), "environment %s", config_keys[i].env);
        if ((err = key_set(cfg, &config_keys[i], value, origin)) != CLM_OK)
            return err;
    }
    if (strcmp(cfg->socket_path, "") == 0)
        snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s/clmd.sock", cfg->data_dir);
    return config_validate(cfg);
}

size_t config_split_list(const char *text, char *storage, size_t storage_size,
                         const char **items, size_t max)
{
    size_t n = 0;
    char *save = NULL;

    snprintf(storage, storage_size, "%s", text);
    for (char *tok = strtok_r(storage, ", \t", &save); tok != NULL && n < max;
         tok = strtok_r(NULL, ", \t", &save))
        items[n++] = tok;
    return n;
}

size_t config_server_names(const clm_config *cfg, char *storage, const char **names)
{
    return config_split_list(cfg->server_names, storage, sizeof(cfg->server_names), names,
                             CONFIG_MAX_NAMES);
}

clm_err config_validate(const clm_config *cfg)
{
    char storage[sizeof(cfg->server_names)];
    const char *names[CONFIG_MAX_NAMES + 1];
    size_t n;

    if (cfg->data_dir[0] == '\0')
        return clm_fail(CLM_ERR_CONFIG, "[store] data_dir: must not be empty");
    if (cfg->listen[0] != '\0' && strrchr(cfg->listen, ':') == NULL)
        return clm_fail(CLM_ERR_CONFIG, "[server] listen: '%s' is not host:port", cfg->listen);
    if (cfg->listen[0] == '\0' && strcmp(cfg->socket_path, "off") == 0)
        return clm_fail(CLM_ERR_CONFIG,
                        "[server] listen and socket: both are off; clmd would be unreachable");
    n = config_server_names(cfg, storage, names);
    if (n == CONFIG_MAX_NAMES && strlen(cfg->server_names) > 0) {
        /* count separately to notice truncation */
        size_t commas = 0;
        for (const char *p = cfg->server_names; *p; p++)
            commas += *p == ',';
        if (commas >= CONFIG_MAX_NAMES)
            return clm_fail(CLM_ERR_CONFIG, "[server] server_names: more than %d names",
                            CONFIG_MAX_NAMES);
    }
    {
        char allow_storage[sizeof(cfg->tls_allow)];
        const char *allow[CONFIG_MAX_ALLOW + 1];
        if (config_split_list(cfg->tls_allow, allow_storage, sizeof(allow_storage), allow,
                              CONFIG_MAX_ALLOW + 1) > CONFIG_MAX_ALLOW)
            return clm_fail(CLM_ERR_CONFIG, "[tls] allow: more than %d networks",
                            CONFIG_MAX_ALLOW);
    }
    return CLM_OK;
}
