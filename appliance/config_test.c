/* Unit tests for appliance/config.c and appliance/auth.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "appliance/auth.h"
#include "appliance/config.h"
#include "tests/unit.h"

UNIT_TEST(defaults_are_valid)
{
    clm_config cfg;

    config_defaults(&cfg);
    CHECK_STR_EQ(cfg.data_dir, "./var/clm");
    CHECK_STR_EQ(cfg.listen, "0.0.0.0:7443");
    CHECK_INT_EQ(cfg.threads, 2);
    CHECK_INT_EQ(cfg.shutdown_grace_s, 10);
    CHECK_INT_EQ(config_validate(&cfg), CLM_OK);
}

static const struct {
    const char *ini;
    clm_err want;
    const char *message_part;
} ini_cases[] = {
    {"[server]\nthreads = 4\n", CLM_OK, ""},
    {"[server]\nshutdown_grace = 2m\n", CLM_OK, ""},
    {"; comment\n[log]\nlevel = debug\n", CLM_OK, ""},
    {"[server]\nthreads = 0\n", CLM_ERR_CONFIG, "[server] threads: 0 is outside 1..64"},
    {"[server]\nthreads = many\n", CLM_ERR_CONFIG, "[server] threads: 'many' is not a number"},
    {"[server]\nthreds = 4\n", CLM_ERR_CONFIG, "[server] threds: unknown key"},
    {"[nosuch]\nthreads = 4\n", CLM_ERR_CONFIG, "[nosuch] threads: unknown key"},
    {"threads = 4\n", CLM_ERR_CONFIG, "keys belong in a section"},
    {"[log]\nlevel = loud\n", CLM_ERR_CONFIG, "[log] level: 'loud' is not one of"},
    {"[server]\nshutdown_grace = 5y\n", CLM_ERR_CONFIG, "not a number of seconds"},
    {"[server]\nshutdown_grace = 5h\n", CLM_ERR_CONFIG, "18000 is outside 0..3600"},
    {"[tls]\nvalidation_interval = 1h\nallow = 10.0.0.0/8, ::1\n", CLM_OK, ""},
    {"[tls]\nvalidation_interval = 8d\n", CLM_ERR_CONFIG, "validation_interval"},
    {"[tls]\nmax_in_flight = 0\n", CLM_ERR_CONFIG, "max_in_flight"},
    {"[store]\nmap_size_mb = -1\n", CLM_ERR_CONFIG, "outside 1..1048576"},
    {"[inventory]\nimport_group = 25000\n", CLM_OK, ""},
    {"[inventory]\nimport_group = 500\n", CLM_ERR_CONFIG, "[inventory] import_group: 500 is outside 1000..50000"},
    {"[server\nthreads = 4\n", CLM_ERR_CONFIG, "line 1"},
    {"[server]\nthreads = 4\n[server]\nthreads = 99\n", CLM_ERR_CONFIG, "(line 4)"},
};

UNIT_TEST(ini_table)
{
    for (size_t i = 0; i < sizeof(ini_cases) / sizeof(ini_cases[0]); i++) {
        clm_config cfg;
        config_defaults(&cfg);
        clm_err err = config_apply_ini(&cfg, ini_cases[i].ini, "test.ini");
        CHECK_INT_EQ(err, ini_cases[i].want);
        if (err != CLM_OK)
            CHECK_STR_CONTAINS(clm_error_message(), ini_cases[i].message_part);
    }
}

UNIT_TEST(precedence_file_then_flags_then_env)
{
    char dir[] = "/tmp/clm-config-XXXXXX";
    char path[256];
    clm_config cfg;
    config_action action;
    FILE *f;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/clmd.ini", dir);
    f = fopen(path, "w");
    fprintf(f, "[server]\nthreads = 3\nmax_streams = 7\n[log]\nlevel = warn\n");
    fclose(f);

    char *argv1[] = {"clmd", "--data-dir", dir, "--threads", "5", NULL};
    CHECK_INT_EQ(config_load(&cfg, 5, argv1, &action), CLM_OK);
    CHECK_INT_EQ(action, CONFIG_RUN);
    CHECK_INT_EQ(cfg.threads, 5);     /* flag over file */
    CHECK_INT_EQ(cfg.max_streams, 7); /* file over default */
    CHECK_STR_EQ(cfg.log_level, "warn");
    CHECK_STR_EQ(cfg.config_path, path); /* DATA_DIR/clmd.ini found by default */
    char sock[300];
    snprintf(sock, sizeof(sock), "%s/clmd.sock", dir);
    CHECK_STR_EQ(cfg.socket_path, sock);

    setenv("CLM_THREADS", "6", 1);
    char *argv2[] = {"clmd", "--data-dir", dir, "--threads", "5", NULL};
    CHECK_INT_EQ(config_load(&cfg, 5, argv2, &action), CLM_OK);
    CHECK_INT_EQ(cfg.threads, 6); /* environment over flag */
    setenv("CLM_THREADS", "zero", 1);
    CHECK_INT_EQ(config_load(&cfg, 5, argv2, &action), CLM_ERR_CONFIG);
    CHECK_STR_CONTAINS(clm_error_message(), "environment CLM_THREADS");
    unsetenv("CLM_THREADS");

    char *argv3[] = {"clmd", "--data-dir", dir, "--bogus", "1", NULL};
    CHECK_INT_EQ(config_load(&cfg, 5, argv3, &action), CLM_ERR_CONFIG);
    CHECK_STR_CONTAINS(clm_error_message(), "unknown flag --bogus");
    char *argv4[] = {"clmd", "--data-dir", dir, "--threads", NULL};
    CHECK_INT_EQ(config_load(&cfg, 4, argv4, &action), CLM_ERR_CONFIG);
    CHECK_STR_CONTAINS(clm_error_message(), "needs a value");
    char *argv5[] = {"clmd", "--help", NULL};
    CHECK_INT_EQ(config_load(&cfg, 2, argv5, &action), CLM_OK);
    CHECK_INT_EQ(action, CONFIG_HELP);
    char *argv6[] = {"clmd", "--data-dir", dir, "--listen", "", "--socket", "off", NULL};
    CHECK_INT_EQ(config_load(&cfg, 7, argv6, &action), CLM_ERR_CONFIG);
    CHECK_STR_CONTAINS(clm_error_message(), "both are off");

    f = fopen(path, "w");
    fprintf(f, "[server]\nthreads = 3\nunknown_key = 1\n");
    fclose(f);
    char *argv7[] = {"clmd", "--data-dir", dir, NULL};
    CHECK_INT_EQ(config_load(&cfg, 3, argv7, &action), CLM_ERR_CONFIG);
    CHECK_STR_CONTAINS(clm_error_message(), "[server] unknown_key: unknown key");
    unlink(path);
    rmdir(dir);
}

UNIT_TEST(server_names)
{
    clm_config cfg;
    char storage[sizeof(cfg.server_names)];
    const char *names[CONFIG_MAX_NAMES];

    config_defaults(&cfg);
    snprintf(cfg.server_names, sizeof(cfg.server_names), "clm.example.com, 10.0.0.5,,x.test");
    CHECK_INT_EQ(config_server_names(&cfg, storage, names), 3);
    CHECK_STR_EQ(names[0], "clm.example.com");
    CHECK_STR_EQ(names[1], "10.0.0.5");
    CHECK_STR_EQ(names[2], "x.test");
}

UNIT_TEST(auth_roles)
{
    clm_config cfg;
    auth_policy *p;
    rpc_peer peer;
    char value[64];
    char map[] = "/tmp/clm-rolemap-XXXXXX";
    int fd = mkstemp(map);

    dprintf(fd, "# comment\noperator ops-bot\nauditor CN=alice,OU=viewer,O=clm\n");
    close(fd);
    config_defaults(&cfg);
    snprintf(cfg.unix_roles, sizeof(cfg.unix_roles), "1000:operator, 1001 : viewer");
    snprintf(cfg.role_map, sizeof(cfg.role_map), "%s", map);
    CHECK_INT_EQ(auth_policy_load(&cfg, &p), CLM_OK);
    CHECK_INT_EQ(auth_unix_role(p, 0), RPC_ROLE_ADMIN);
    CHECK_INT_EQ(auth_unix_role(p, 1000), RPC_ROLE_OPERATOR);
    CHECK_INT_EQ(auth_unix_role(p, 1001), RPC_ROLE_VIEWER);
    CHECK_INT_EQ(auth_unix_role(p, 1002), RPC_ROLE_NONE);

    auth_tls_identify(p, "CN=clm-admin,OU=admin,O=clm", &peer);
    CHECK_INT_EQ(peer.role, RPC_ROLE_ADMIN);
    auth_tls_identify(p, "CN=ops-bot,O=clm", &peer); /* CN in the map */
    CHECK_INT_EQ(peer.role, RPC_ROLE_OPERATOR);
    auth_tls_identify(p, "CN=alice,OU=viewer,O=clm", &peer); /* subject in the map wins */
    CHECK_INT_EQ(peer.role, RPC_ROLE_AUDITOR);
    auth_tls_identify(p, "CN=bob,OU=sales,OU=viewer", &peer); /* second OU is a role */
    CHECK_INT_EQ(peer.role, RPC_ROLE_VIEWER);
    auth_tls_identify(p, "CN=eve,OU=administrators", &peer);
    CHECK_INT_EQ(peer.role, RPC_ROLE_NONE);
    auth_tls_identify(p, "CN=x\\,OU=admin,O=clm", &peer); /* escaped comma is not an OU */
    CHECK_INT_EQ(peer.role, RPC_ROLE_NONE);
    CHECK(auth_subject_attribute("CN=a\\2cb,O=c", "CN", 0, value, sizeof(value)));
    CHECK_STR_EQ(value, "a,b");
    auth_policy_free(p);

    snprintf(cfg.unix_roles, sizeof(cfg.unix_roles), "1000:root");
    CHECK_INT_EQ(auth_policy_load(&cfg, &p), CLM_ERR_CONFIG);
    CHECK_STR_CONTAINS(clm_error_message(), "[auth] unix_roles");
    snprintf(cfg.unix_roles, sizeof(cfg.unix_roles), "bob:viewer");
    CHECK_INT_EQ(auth_policy_load(&cfg, &p), CLM_ERR_CONFIG);
    CHECK_STR_CONTAINS(clm_error_message(), "not a numeric uid");
    cfg.unix_roles[0] = '\0';
    fd = open(map, O_WRONLY | O_TRUNC);
    dprintf(fd, "superuser bob\n");
    close(fd);
    CHECK_INT_EQ(auth_policy_load(&cfg, &p), CLM_ERR_CONFIG);
    CHECK_STR_CONTAINS(clm_error_message(), ":1: role 'superuser'");
    unlink(map);
}

int main(void)
{
    UNIT_RUN(defaults_are_valid);
    UNIT_RUN(ini_table);
    UNIT_RUN(precedence_file_then_flags_then_env);
    UNIT_RUN(server_names);
    UNIT_RUN(auth_roles);
    return unit_report();
}
