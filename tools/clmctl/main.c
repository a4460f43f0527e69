/*
 * tools/clmctl/main.c: clmctl, the admin tool. Global options, then a command found
 * in the command tables (cmd_*.c) by its leading words.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/buf.h"
#include "lib/json/pbjson.h"
#include "tools/clmctl/clmctl.h"

extern const char clm_version[];
extern const char clm_build[];

static const clmctl_command *const command_tables[] = {
    clmctl_generic_commands,
    clmctl_admin_commands,
    clmctl_group_commands,
    clmctl_cert_commands,
    clmctl_job_commands,
    clmctl_endpoint_commands,
    clmctl_report_commands,
    clmctl_connector_commands,
    clmctl_workorder_commands,
};

ProtobufCMessage *clmctl_call(clmctl_globals *g, const char *path, const ProtobufCMessage *request,
                              const ProtobufCMessageDescriptor *reply_type)
{
    clm_client *client = clmctl_client(g);
    ProtobufCMessage *reply;

    if (client == NULL)
        return NULL;
    if (client_unary(client, path, request, reply_type, &reply) != CLM_OK) {
        clmctl_fail(path + 1);
        return NULL;
    }
    return reply;
}

int clmctl_fail(const char *context)
{
    fprintf(stderr, "clmctl: %s: %s\n", context, clm_error_message());
    return 1;
}

int clmctl_print_json(const ProtobufCMessage *message)
{
    char *text = NULL;

    if (pbjson_encode(message, PBJSON_PRETTY, &text) != CLM_OK)
        return clmctl_fail("printing the reply");
    printf("%s\n", text);
    free(text);
    return 0;
}

int clmctl_for_each_page(clmctl_globals *g, const char *path, ProtobufCMessage *request,
                         const ProtobufCMessageDescriptor *reply_type,
                         int (*each)(const ProtobufCMessage *reply, void *arg), void *arg)
{
    const ProtobufCFieldDescriptor *in =
        protobuf_c_message_descriptor_get_field_by_name(request->descriptor, "page_token");
    const ProtobufCFieldDescriptor *out =
        protobuf_c_message_descriptor_get_field_by_name(reply_type, "next_page_token");
    char **token = (char **)(void *)((char *)request + in->offset);
    char *original = *token, *owned = NULL;
    int rc = 0;

    for (;;) {
        ProtobufCMessage *reply = clmctl_call(g, path, request, reply_type);
        if (reply == NULL) {
            rc = 1;
            break;
        }
        const char *next = *(char **)(void *)((char *)reply + out->offset);
        int stop = each(reply, arg);
        char *copy = !stop && next != NULL && next[0] != '\0' ? strdup(next) : NULL;
        protobuf_c_message_free_unpacked(reply, NULL);
        free(owned);
        owned = copy;
        if (copy == NULL)
            break;
        *token = copy;
    }
    free(owned);
    *token = original;
    return rc;
}

static char *read_text_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    clm_buf buf = CLM_BUF_INIT;
    char chunk[4096];
    size_t n;

    if (f == NULL)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        clm_buf_append(&buf, chunk, n);
    fclose(f);
    clm_memwipe(chunk, sizeof(chunk));
    if (buf.data == NULL)
        clm_buf_append_str(&buf, "");
    return (char *)clm_buf_detach(&buf, NULL);
}

clm_client *clmctl_client(clmctl_globals *g)
{
    client_options o;
    char socket_path[4200], cert[4200], key[4200], ca[4200];
    char *cert_pem = NULL, *key_pem = NULL, *ca_pem = NULL;
    clm_err err;

    if (g->client != NULL)
        return g->client;
    memset(&o, 0, sizeof(o));
    o.timeout_ms = g->timeout_ms;
    if (g->address != NULL) {
        snprintf(cert, sizeof(cert), "%s", g->cert ? g->cert : "");
        snprintf(key, sizeof(key), "%s", g->key ? g->key : "");
        snprintf(ca, sizeof(ca), "%s", g->ca ? g->ca : "");
        if (!g->cert)
            snprintf(cert, sizeof(cert), "%s/tls/admin.pem", g->data_dir);
        if (!g->key)
            snprintf(key, sizeof(key), "%s/tls/admin.key", g->data_dir);
        if (!g->ca)
            snprintf(ca, sizeof(ca), "%s/tls/ca.pem", g->data_dir);
        cert_pem = read_text_file(cert);
        key_pem = read_text_file(key);
        ca_pem = read_text_file(ca);
        if (!cert_pem || !key_pem || !ca_pem) {
            fprintf(stderr, "clmctl: cannot read the client bundle (%s, %s, %s); give --cert, "
                            "--key and --ca or --data-dir\n", cert, key, ca);
            free(cert_pem);
            if (key_pem)
                clm_memwipe(key_pem, strlen(key_pem));
            free(key_pem);
            free(ca_pem);
            return NULL;
        }
        o.address = g->address;
        o.cert_pem = cert_pem;
        o.key_pem = key_pem;
        o.ca_pem = ca_pem;
    } else {
        if (g->socket)
            snprintf(socket_path, sizeof(socket_path), "%s", g->socket);
        else
            snprintf(socket_path, sizeof(socket_path), "%s/clmd.sock", g->data_dir);
        o.unix_path = socket_path;
    }
    err = client_new(&o, &g->client);
    free(cert_pem);
    if (key_pem)
        clm_memwipe(key_pem, strlen(key_pem));
    free(key_pem);
    free(ca_pem);
    if (err != CLM_OK) {
        clmctl_fail("connecting");
        return NULL;
    }
    return g->client;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: clmctl [OPTIONS] COMMAND [ARGS]\n\n"
            "Talks to clmd over its local socket (default) or mutual TLS (--addr).\n\n"
            "Options:\n"
            "  --data-dir DIR   clmd's data directory (CLM_DATA_DIR; default ./var/clm):\n"
            "                   finds the socket and the admin bundle\n"
            "  --socket PATH    the Unix socket (default DATA_DIR/clmd.sock)\n"
            "  --addr HOST:PORT connect over mutual TLS instead\n"
            "  --cert, --key, --ca FILE  client bundle (default DATA_DIR/tls/admin.*, ca.pem)\n"
            "  --timeout SECONDS per call (default 30)\n"
            "  -o, --output table|json|csv  list format (default: table on a terminal, else json)\n"
            "\nCommands:\n");
    for (size_t t = 0; t < sizeof(command_tables) / sizeof(command_tables[0]); t++) {
        for (const clmctl_command *c = command_tables[t]; c->words; c++) {
            char left[64];
            snprintf(left, sizeof(left), "%s %s", c->words, c->usage);
            fprintf(out, "  %-34s %s\n", left, c->help);
        }
    }
}

/* Does argv start with the command's words? Returns how many words matched. */
static int match_words(const char *words, int argc, char **argv)
{
    char copy[64];
    char *save = NULL;
    int n = 0;

    snprintf(copy, sizeof(copy), "%s", words);
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        if (n >= argc || strcmp(argv[n], w) != 0)
            return 0;
        n++;
    }
    return n;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"data-dir", required_argument, NULL, 'd'}, {"socket", required_argument, NULL, 's'},
        {"addr", required_argument, NULL, 'a'},     {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},      {"ca", required_argument, NULL, 'C'},
        {"timeout", required_argument, NULL, 't'},  {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0}};
    clmctl_globals g;
    int c;
    int rc;

    memset(&g, 0, sizeof(g));
    g.data_dir = getenv("CLM_DATA_DIR") ? getenv("CLM_DATA_DIR") : "./var/clm";
    g.timeout_ms = 30000;
    while ((c = getopt_long(argc, argv, "+ho:", options, NULL)) != -1) {
        switch (c) {
        case 'o':
            g.output_explicit = 1;
            if (!output_parse(optarg, &g.output)) {
                fprintf(stderr, "clmctl: --output: '%s' is not table, json or csv\n", optarg);
                return 2;
            }
            break;
        case 'd': g.data_dir = optarg; break;
        case 's': g.socket = optarg; break;
        case 'a': g.address = optarg; break;
        case 'c': g.cert = optarg; break;
        case 'k': g.key = optarg; break;
        case 'C': g.ca = optarg; break;
        case 't': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end != '\0' || v <= 0 || v > 86400) {
                fprintf(stderr, "clmctl: --timeout: '%s' is not 1..86400 seconds\n", optarg);
                return 2;
            }
            g.timeout_ms = v * 1000;
            break;
        }
        case 'h': usage(stdout); return 0;
        case 'V': printf("clmctl %s (%s)\n", clm_version, clm_build); return 0;
        default: usage(stderr); return 2;
        }
    }
    argc -= optind;
    argv += optind;
    g.output = output_resolve(g.output);
    if (argc == 0) {
        usage(stderr);
        return 2;
    }
    for (size_t t = 0; t < sizeof(command_tables) / sizeof(command_tables[0]); t++) {
        for (const clmctl_command *cmd = command_tables[t]; cmd->words; cmd++) {
            int n = match_words(cmd->words, argc, argv);
            if (n == 0)
                continue;
            rc = cmd->run(&g, argc - n, argv + n);
            client_free(g.client);
            return rc;
        }
    }
    fprintf(stderr, "clmctl: unknown command '%s' (see clmctl --help)\n", argv[0]);
    return 2;
}
