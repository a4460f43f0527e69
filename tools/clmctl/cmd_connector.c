/*
 * tools/clmctl/cmd_connector.c: connector ls|show|create|rm and ca init|issue|revoke|crl
 * (clm.v1.Connectors). Secrets (a CA key to import, its password) are read from files,
 * never from the command line, where ps would show them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clm/v1/connectors.pb-c.h"
#include "lib/base/buf.h"
#include "tools/clmctl/clmctl.h"

#define MAX_FIELDS 64
#define MAX_NAMES 100
#define FILE_MAX (64 * 1024)

/* Read a whole file (bounded) as text. @return NULL after printing why. */
static char *read_text(const char *path, clm_buf *buf)
{
    FILE *f = fopen(path, "rb");
    char chunk[8192];
    size_t n;

    if (f == NULL) {
        fprintf(stderr, "clmctl: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf->len + n > FILE_MAX || clm_buf_append(buf, chunk, n) != CLM_OK) {
            fprintf(stderr, "clmctl: %s: larger than %d bytes\n", path, FILE_MAX);
            fclose(f);
            return NULL;
        }
    }
    fclose(f);
    if (clm_buf_append_byte(buf, 0) != CLM_OK)
        return NULL;
    return (char *)buf->data;
}

/* Write bytes to a new file (0644: certificates and CRLs are public). */
static int write_out(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    size_t done = 0;

    if (fd < 0) {
        fprintf(stderr, "clmctl: %s: %s\n", path, strerror(errno));
        return 0;
    }
    while (done < len) {
        ssize_t n = write(fd, (const char *)data + done, len - done);
        if (n <= 0) {
            fprintf(stderr, "clmctl: %s: %s\n", path, strerror(errno));
            close(fd);
            return 0;
        }
        done += (size_t)n;
    }
    return close(fd) == 0;
}

/* "name=value" into a Field (pointing into text). */
static int parse_field(char *text, Clm__V1__Field *f)
{
    char *eq = strchr(text, '=');

    if (eq == NULL || eq == text)
        return 0;
    clm__v1__field__init(f);
    *eq = '\0';
    f->name = text;
    f->value = eq + 1;
    return 1;
}

static int parse_days(const char *text, Clm__V1__RenewalSetting *r)
{
    char *end;
    long days = strtol(text, &end, 10);

    clm__v1__renewal_setting__init(r);
    r->enabled = 1;
    /* out-of-range values go to the server, which names the field */
    r->days_before_expiry = (uint32_t)(days < 0 ? 0 : days > 100000 ? 100000 : days);
    return *end == '\0' && end != text;
}

static const char *days_text(const Clm__V1__RenewalSetting *r, char *buf, size_t size)
{
    if (r == NULL || !r->enabled)
        return "-";
    snprintf(buf, size, "%ud", r->days_before_expiry);
    return buf;
}

typedef struct connector_rows {
    output_table *table;
} connector_rows;

static int connector_page(const ProtobufCMessage *reply, void *arg)
{
    const Clm__V1__ListConnectorsResponse *r = (const void *)reply;
    connector_rows *rows = arg;

    for (size_t i = 0; i < r->n_connectors; i++) {
        const Clm__V1__Connector *c = r->connectors[i];
        char renew[16], regen[16], reenroll[16];
        if (rows->table == NULL) {
            clmctl_print_json(&c->base);
            continue;
        }
        const char *cells[8] = {c->name,
                                c->type,
                                c->ca_ready ? "yes" : "no",
                                c->profile,
                                days_text(c->auto_renew, renew, sizeof(renew)),
                                days_text(c->auto_regenerate, regen, sizeof(regen)),
                                days_text(c->re_enroll, reenroll, sizeof(reenroll)),
                                c->description};
        output_table_row(rows->table, cells);
    }
    return 0;
}

static int cmd_connector_ls(clmctl_globals *g, int argc, char **argv)
{
    static const char *const headers[] = {"NAME",       "TYPE",      "CA READY",
                                          "PROFILE",    "AUTO-RENEW", "REGENERATE",
                                          "RE-ENROLL",  "DESCRIPTION"};
    Clm__V1__ListConnectorsRequest req = CLM__V1__LIST_CONNECTORS_REQUEST__INIT;
    connector_rows rows = {NULL};
    int rc;

    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "usage: clmctl connector ls\n");
        return 2;
    }
    if (g->output != OUTPUT_JSON)
        rows.table = output_table_begin(g->output, headers, 8);
    rc = clmctl_for_each_page(g, "/clm.v1.Connectors/ListConnectors", &req.base,
                              &clm__v1__list_connectors_response__descriptor, connector_page,
                              &rows);
    output_table_end(rows.table);
    return rc;
}

/* Print a reply as JSON and free it. */
static int print_reply(ProtobufCMessage *r)
{
    if (r == NULL)
        return 1;
    clmctl_print_json(r);
    protobuf_c_message_free_unpacked(r, NULL);
    return 0;
}

static int cmd_connector_show(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__GetConnectorRequest req = CLM__V1__GET_CONNECTOR_REQUEST__INIT;

    if (argc != 1) {
        fprintf(stderr, "usage: clmctl connector show NAME\n");
        return 2;
    }
    req.name = argv[0];
    return print_reply(clmctl_call(g, "/clm.v1.Connectors/GetConnector", &req.base,
                                   &clm__v1__connector__descriptor));
}

#define CREATE_USAGE                                                                        \
    "clmctl connector create [--type local|acme|cfssl] [--description T] [--ca-account A]\n"     \
    "  [--certificate-type T] [--profile P] [--auto-renew DAYS] [--auto-regenerate DAYS]\n" \
    "  [--re-enroll DAYS] [--csr-source appliance|uploaded] [--max-renewals-per-sweep N]\n" \
    "  [--field NAME=VALUE]... NAME\n"

static int cmd_connector_create(clmctl_globals *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"type", required_argument, NULL, 't'},        {"description", required_argument, NULL, 'd'},
        {"ca-account", required_argument, NULL, 'a'},  {"certificate-type", required_argument, NULL, 'c'},
        {"profile", required_argument, NULL, 'p'},     {"auto-renew", required_argument, NULL, 'r'},
        {"auto-regenerate", required_argument, NULL, 'g'}, {"re-enroll", required_argument, NULL, 'e'},
        {"csr-source", required_argument, NULL, 's'},  {"field", required_argument, NULL, 'f'},
        {"max-renewals-per-sweep", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0}};
    Clm__V1__CreateConnectorRequest req = CLM__V1__CREATE_CONNECTOR_REQUEST__INIT;
    Clm__V1__Connector c = CLM__V1__CONNECTOR__INIT;
    Clm__V1__RenewalSetting renew, regen, reenroll;
    Clm__V1__Field fields[MAX_FIELDS], *field_ptrs[MAX_FIELDS];
    int opt, ok = 1;

    c.type = "local";
    optind = 0;
    while (ok && (opt = getopt_long(argc + 1, argv - 1, "", options, NULL)) != -1) {
        switch (opt) {
        case 't': c.type = optarg; break;
        case 'd': c.description = optarg; break;
        case 'a': c.ca_account = optarg; break;
        case 'c': c.certificate_type = optarg; break;
        case 'p': c.profile = optarg; break;
        case 'r': ok = parse_days(optarg, &renew); c.auto_renew = &renew; break;
        case 'g': ok = parse_days(optarg, &regen); c.auto_regenerate = &regen; break;
        case 'e': ok = parse_days(optarg, &reenroll); c.re_enroll = &reenroll; break;
        case 's': c.csr_source = optarg; break;
        case 'm': {
            char *end;
            unsigned long n = strtoul(optarg, &end, 10);
            ok = *optarg != '\0' && *end == '\0' && n <= UINT32_MAX;
            c.max_renewals_per_sweep = (uint32_t)n; /* clmd checks the range */
            break;
        }
        case 'f':
            ok = c.n_fields < MAX_FIELDS && parse_field(optarg, &fields[c.n_fields]);
            if (ok) {
                field_ptrs[c.n_fields] = &fields[c.n_fields];
                c.n_fields++;
            }
            break;
        default: ok = 0;
        }
    }
    if (!ok || optind != argc) {
        fprintf(stderr, "usage: " CREATE_USAGE);
        return 2;
    }
    c.name = argv[argc - 1];
    c.fields = field_ptrs;
    req.connector = &c;
    return print_reply(clmctl_call(g, "/clm.v1.Connectors/CreateConnector", &req.base,
                                   &clm__v1__connector__descriptor));
}

static int cmd_connector_rm(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__DeleteConnectorRequest req = CLM__V1__DELETE_CONNECTOR_REQUEST__INIT;
    ProtobufCMessage *r;

    if (argc != 1) {
        fprintf(stderr, "usage: clmctl connector rm NAME\n");
        return 2;
    }
    req.name = argv[0];
    r = clmctl_call(g, "/clm.v1.Connectors/DeleteConnector", &req.base,
                    &clm__v1__delete_connector_response__descriptor);
    if (r == NULL)
        return 1;
    printf("deleted connector %s\n", argv[0]);
    protobuf_c_message_free_unpacked(r, NULL);
    return 0;
}

static int cmd_connector_rollover(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__RolloverAccountKeyRequest req = CLM__V1__ROLLOVER_ACCOUNT_KEY_REQUEST__INIT;
    ProtobufCMessage *r;

    if (argc != 1) {
        fprintf(stderr, "usage: clmctl connector rollover NAME\n");
        return 2;
    }
    req.name = argv[0];
    r = clmctl_call(g, "/clm.v1.Connectors/RolloverAccountKey", &req.base,
                    &clm__v1__rollover_account_key_response__descriptor);
    if (r == NULL)
        return 1;
    if (g->output_explicit && g->output == OUTPUT_JSON)
        clmctl_print_json(r);
    else
        printf("connector %s: the CA account has a new key\n", argv[0]);
    protobuf_c_message_free_unpacked(r, NULL);
    return 0;
}

#define INIT_USAGE                                                                          \
    "clmctl ca init NAME --root-cn CN --intermediate-cn CN [--org O] [--key-type EC-P256|EC-P384]\n" \
    "       [--root-days N] [--intermediate-days N]\n"                                       \
    "clmctl ca init NAME --key FILE --chain FILE [--password-file FILE]\n"

static int cmd_ca_init(clmctl_globals *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"root-cn", required_argument, NULL, 'R'},   {"intermediate-cn", required_argument, NULL, 'I'},
        {"org", required_argument, NULL, 'o'},       {"key-type", required_argument, NULL, 't'},
        {"root-days", required_argument, NULL, 'r'}, {"intermediate-days", required_argument, NULL, 'i'},
        {"key", required_argument, NULL, 'k'},       {"chain", required_argument, NULL, 'c'},
        {"password-file", required_argument, NULL, 'P'}, {NULL, 0, NULL, 0}};
    Clm__V1__InitLocalCaRequest req = CLM__V1__INIT_LOCAL_CA_REQUEST__INIT;
    Clm__V1__CreateLocalCa create = CLM__V1__CREATE_LOCAL_CA__INIT;
    Clm__V1__ImportLocalCa import = CLM__V1__IMPORT_LOCAL_CA__INIT;
    const char *key_file = NULL, *chain_file = NULL, *password_file = NULL;
    clm_buf key = CLM_BUF_INIT, chain = CLM_BUF_INIT, password = CLM_BUF_INIT;
    int opt, ok = 1, rc = 1;

    optind = 0;
    while (ok && (opt = getopt_long(argc + 1, argv - 1, "", options, NULL)) != -1) {
        switch (opt) {
        case 'R': create.root_cn = optarg; break;
        case 'I': create.intermediate_cn = optarg; break;
        case 'o': create.organization = optarg; break;
        case 't': create.key_type = optarg; break;
        case 'r': create.root_days = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'i': create.intermediate_days = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'k': key_file = optarg; break;
        case 'c': chain_file = optarg; break;
        case 'P': password_file = optarg; break;
        default: ok = 0;
        }
    }
    if (!ok || optind != argc || (key_file != NULL) != (chain_file != NULL)) {
        fprintf(stderr, "usage: " INIT_USAGE);
        return 2;
    }
    req.name = argv[argc - 1];
    if (key_file != NULL) {
        if ((import.key_pem = read_text(key_file, &key)) == NULL ||
            (import.chain_pem = read_text(chain_file, &chain)) == NULL)
            goto out;
        if (password_file != NULL) {
            if ((import.password = read_text(password_file, &password)) == NULL)
                goto out;
            import.password[strcspn(import.password, "\r\n")] = '\0';
        }
        req.how_case = CLM__V1__INIT_LOCAL_CA_REQUEST__HOW_IMPORT_CA;
        req.import_ca = &import;
    } else {
        req.how_case = CLM__V1__INIT_LOCAL_CA_REQUEST__HOW_CREATE;
        req.create = &create;
    }
    rc = print_reply(clmctl_call(g, "/clm.v1.Connectors/InitLocalCa", &req.base,
                                 &clm__v1__connector__descriptor));
out:
    clm_buf_wipe(&key);
    clm_buf_wipe(&password);
    clm_buf_free(&chain);
    return rc;
}

#define ISSUE_USAGE                                                                         \
    "clmctl ca issue NAME (--csr FILE | --cn CN [--dns NAME]...) [--field NAME=VALUE]...\n" \
    "       [--group G] [--out FILE] [--chain-out FILE]\n"

static int cmd_ca_issue(clmctl_globals *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"csr", required_argument, NULL, 'C'},   {"cn", required_argument, NULL, 'n'},
        {"dns", required_argument, NULL, 'd'},   {"field", required_argument, NULL, 'f'},
        {"group", required_argument, NULL, 'G'}, {"out", required_argument, NULL, 'o'},
        {"chain-out", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0}};
    Clm__V1__IssueRequest req = CLM__V1__ISSUE_REQUEST__INIT;
    Clm__V1__Field fields[MAX_FIELDS], *field_ptrs[MAX_FIELDS];
    char *names[MAX_NAMES];
    const char *csr_file = NULL, *out = NULL, *chain_out = NULL;
    clm_buf csr = CLM_BUF_INIT;
    Clm__V1__IssueResponse *r;
    int opt, ok = 1, rc = 1;

    optind = 0;
    while (ok && (opt = getopt_long(argc + 1, argv - 1, "", options, NULL)) != -1) {
        switch (opt) {
        case 'C': csr_file = optarg; break;
        case 'n': req.common_name = optarg; break;
        case 'd':
            ok = req.n_dns_names < MAX_NAMES;
            if (ok)
                names[req.n_dns_names++] = optarg;
            break;
        case 'f':
            ok = req.n_fields < MAX_FIELDS && parse_field(optarg, &fields[req.n_fields]);
            if (ok) {
                field_ptrs[req.n_fields] = &fields[req.n_fields];
                req.n_fields++;
            }
            break;
        case 'G': req.group = optarg; break;
        case 'o': out = optarg; break;
        case 'c': chain_out = optarg; break;
        default: ok = 0;
        }
    }
    if (!ok || optind != argc) {
        fprintf(stderr, "usage: " ISSUE_USAGE);
        return 2;
    }
    req.connector = argv[argc - 1];
    req.dns_names = names;
    req.fields = field_ptrs;
    if (csr_file != NULL && (req.csr_pem = read_text(csr_file, &csr)) == NULL)
        goto done;
    r = (void *)clmctl_call(g, "/clm.v1.Connectors/Issue", &req.base,
                            &clm__v1__issue_response__descriptor);
    if (r == NULL)
        goto done;
    rc = 0;
    if (out != NULL && !write_out(out, r->certificate_pem, strlen(r->certificate_pem)))
        rc = 1;
    if (chain_out != NULL && !write_out(chain_out, r->chain_pem, strlen(r->chain_pem)))
        rc = 1;
    if (out == NULL || (g->output_explicit && g->output == OUTPUT_JSON))
        clmctl_print_json(&r->base);
    else
        printf("issued serial %s, inventory id %s%s\n", r->serial, r->sha256,
               r->key_in_appliance ? " (key sealed in the appliance)" : "");
    protobuf_c_message_free_unpacked(&r->base, NULL);
done:
    clm_buf_free(&csr);
    return rc;
}

static int cmd_ca_revoke(clmctl_globals *g, int argc, char **argv)
{
    static const struct option options[] = {
        {"serial", required_argument, NULL, 's'}, {"cert", required_argument, NULL, 'c'},
        {"reason", required_argument, NULL, 'r'}, {NULL, 0, NULL, 0}};
    Clm__V1__RevokeRequest req = CLM__V1__REVOKE_REQUEST__INIT;
    const char *cert_file = NULL;
    clm_buf cert = CLM_BUF_INIT;
    Clm__V1__RevokeResponse *r;
    int opt, ok = 1, rc = 1;

    optind = 0;
    while (ok && (opt = getopt_long(argc + 1, argv - 1, "", options, NULL)) != -1) {
        switch (opt) {
        case 's': req.serial = optarg; break;
        case 'c': cert_file = optarg; break;
        case 'r': req.reason = optarg; break;
        default: ok = 0;
        }
    }
    if (!ok || optind != argc) {
        fprintf(stderr, "usage: clmctl ca revoke NAME (--serial HEX | --cert FILE) "
                        "[--reason keyCompromise|superseded|...]\n");
        return 2;
    }
    req.connector = argv[argc - 1];
    if (cert_file != NULL && (req.certificate_pem = read_text(cert_file, &cert)) == NULL)
        goto done;
    r = (void *)clmctl_call(g, "/clm.v1.Connectors/Revoke", &req.base,
                            &clm__v1__revoke_response__descriptor);
    if (r == NULL)
        goto done;
    if (g->output_explicit && g->output == OUTPUT_JSON)
        clmctl_print_json(&r->base);
    else
        printf("%s serial %s\n", r->outcome, r->serial);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    rc = 0;
done:
    clm_buf_free(&cert);
    return rc;
}

static int cmd_ca_crl(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__GetCrlRequest req = CLM__V1__GET_CRL_REQUEST__INIT;
    Clm__V1__GetCrlResponse *r;
    const char *out = NULL;
    int rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--der") == 0)
            req.der = 1;
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (argv[i][0] != '-' && req.name[0] == '\0')
            req.name = argv[i];
        else {
            req.name = "";
            break;
        }
    }
    if (req.name[0] == '\0') {
        fprintf(stderr, "usage: clmctl ca crl NAME [--der] [--out FILE]\n");
        return 2;
    }
    r = (void *)clmctl_call(g, "/clm.v1.Connectors/GetCrl", &req.base,
                            &clm__v1__get_crl_response__descriptor);
    if (r == NULL)
        return 1;
    if (out != NULL)
        rc = write_out(out, r->crl.data, r->crl.len) ? 0 : 1;
    else
        rc = fwrite(r->crl.data, 1, r->crl.len, stdout) == r->crl.len ? 0 : 1;
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return rc;
}

const clmctl_command clmctl_connector_commands[] = {
    {"connector ls", "", "CA connectors", cmd_connector_ls},
    {"connector show", "NAME", "one connector (no secrets)", cmd_connector_show},
    {"connector create", "[FLAGS] NAME", "a new CA connector (admin)", cmd_connector_create},
    {"connector rm", "NAME", "delete a connector and its CA state (admin)", cmd_connector_rm},
    {"connector rollover", "NAME", "replace an ACME connector's account key at the CA (admin)",
     cmd_connector_rollover},
    {"ca init", "NAME (--root-cn CN --intermediate-cn CN | --key F --chain F)",
     "set up a local CA: new root + intermediate, or import (admin)", cmd_ca_init},
    {"ca issue", "NAME (--csr FILE | --cn CN [--dns N]...) [--out FILE]",
     "issue a certificate directly into the inventory", cmd_ca_issue},
    {"ca revoke", "NAME (--serial HEX | --cert FILE) [--reason R]", "revoke a certificate",
     cmd_ca_revoke},
    {"ca crl", "NAME [--der] [--out FILE]", "the connector's current CRL (PEM by default)",
     cmd_ca_crl},
    {NULL, NULL, NULL, NULL},
};
