/*
 * appliance/issue_client.c: `clmd issue-client`, an offline admin command that issues
 * a client bundle (PEM, key, PKCS#12) for one role from the appliance CA in the data
 * directory. It works while clmd runs: it only reads the CA and writes new files.
 */
#include "appliance/issue_client.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "appliance/identity.h"

static void usage(FILE *out)
{
    fprintf(out, "Usage: clmd issue-client --role ROLE --cn NAME [--days N] [--out PREFIX]\n"
                 "                         [--data-dir DIR]\n\n"
                 "Issue a client certificate from the appliance CA for one role (admin, "
                 "operator,\napprover, auditor, viewer): PREFIX.pem, PREFIX.key and "
                 "PREFIX.p12 (password printed\nonce). Default PREFIX: "
                 "DATA_DIR/tls/clients/NAME. Default days: 365.\n");
}

int issue_client_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"role", required_argument, NULL, 'r'}, {"cn", required_argument, NULL, 'n'},
        {"days", required_argument, NULL, 'd'}, {"out", required_argument, NULL, 'o'},
        {"data-dir", required_argument, NULL, 'D'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *role = NULL, *cn = NULL, *out = NULL;
    const char *data_dir = getenv("CLM_DATA_DIR") ? getenv("CLM_DATA_DIR") : "./var/clm";
    char prefix[4200];
    char *password = NULL;
    long days = 365;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'r': role = optarg; break;
        case 'n': cn = optarg; break;
        case 'o': out = optarg; break;
        case 'D': data_dir = optarg; break;
        case 'd':
            days = strtol(optarg, &end, 10);
            if (*end != '\0' || days < 1 || days > 3650) {
                fprintf(stderr, "clmd issue-client: --days: '%s' is not 1..3650\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (role == NULL || cn == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (!identity_role_is_known(role)) {
        fprintf(stderr, "clmd issue-client: --role: '%s' is not one of admin, operator, "
                        "approver, auditor, viewer\n", role);
        return 2;
    }
    if (out == NULL) {
        if (strchr(cn, '/') != NULL || strcmp(cn, "..") == 0 || strcmp(cn, ".") == 0) {
            fprintf(stderr, "clmd issue-client: --cn '%s' cannot name a file; give --out\n", cn);
            return 2;
        }
        snprintf(prefix, sizeof(prefix), "%s/tls/clients", data_dir);
        if (mkdir(prefix, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "clmd issue-client: %s: %s\n", prefix, strerror(errno));
            return 1;
        }
        snprintf(prefix, sizeof(prefix), "%s/tls/clients/%s", data_dir, cn);
        out = prefix;
    }
    if (identity_issue_client_p12(data_dir, cn, role, (int)days, out, &password) != CLM_OK) {
        fprintf(stderr, "clmd issue-client: %s\n", clm_error_message());
        return 1;
    }
    printf("issued %s for role %s, valid %ld days:\n  %s.pem  %s.key  %s.p12\n"
           "  PKCS#12 password (shown only now): %s\n",
           cn, role, days, out, out, out, password);
    identity_password_free(password);
    return 0;
}
