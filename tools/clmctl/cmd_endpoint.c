/*
 * tools/clmctl/cmd_endpoint.c: binding add|rm|ls (where a certificate must be served)
 * and endpoint ls (what the TLS probe saw).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clm/v1/endpoints.pb-c.h"
#include "tools/clmctl/clmctl.h"

/* "HOST:PORT[:SNI]", "[V6]:PORT[:SNI]"; 0 when malformed. */
static int parse_target(char *text, const char *protocol, Clm__V1__BindingTarget *t)
{
    char *host = text, *rest, *sni = NULL, *end;
    unsigned long port;

    clm__v1__binding_target__init(t);
    if (*text == '[') {
        if ((rest = strchr(text, ']')) == NULL || rest[1] != ':')
            return 0;
        host = text + 1;
        *rest = '\0';
        rest += 2;
    } else {
        if ((rest = strchr(text, ':')) == NULL)
            return 0;
        *rest++ = '\0';
    }
    if ((sni = strchr(rest, ':')) != NULL)
        *sni++ = '\0';
    port = strtoul(rest, &end, 10);
    if (*rest == '\0' || *end != '\0' || port == 0 || port > 65535)
        return 0;
    t->host = host;
    t->port = (uint32_t)port;
    t->sni = sni ? sni : "";
    t->protocol = (char *)(protocol ? protocol : "");
    return 1;
}

static const char *state_name(int state)
{
    switch (state) {
    case CLM__V1__BINDING_STATE__BINDING_STATE_SYNC:
        return "sync";
    case CLM__V1__BINDING_STATE__BINDING_STATE_OUT_OF_SYNC:
        return "out_of_sync";
    default:
        return "unknown";
    }
}

static void format_time(const Google__Protobuf__Timestamp *t, char *out, size_t size)
{
    time_t s = t ? (time_t)t->seconds : 0;
    struct tm tm;

    if (t == NULL) {
        snprintf(out, size, "-");
        return;
    }
    gmtime_r(&s, &tm);
    strftime(out, size, "%Y-%m-%d %H:%M", &tm);
}

static const char *const binding_headers[] = {"CERTIFICATE", "CN",      "ENDPOINT", "STATE",
                                              "VERDICT",     "CHECKED", "DETAIL"};

static void binding_row(output_table *table, const Clm__V1__Binding *b)
{
    char endpoint[400], checked[32], cert[20];
    const Clm__V1__BindingTarget *t = b->target;

    snprintf(endpoint, sizeof(endpoint), "%s%s%s:%u%s%s", strchr(t->host, ':') ? "[" : "",
             t->host, strchr(t->host, ':') ? "]" : "", t->port, t->sni[0] ? " sni=" : "", t->sni);
    snprintf(cert, sizeof(cert), "%.16s", b->certificate);
    format_time(b->checked_at, checked, sizeof(checked));
    const char *cells[7] = {cert,    b->common_name, endpoint, state_name(b->state),
                            b->verdict[0] ? b->verdict : "-", checked, b->detail};
    output_table_row(table, cells);
}

static int print_bindings(clmctl_globals *g, Clm__V1__BindingsResponse *r)
{
    if (g->output == OUTPUT_JSON)
        return clmctl_print_json(&r->base);
    output_table *table = output_table_begin(g->output, binding_headers, 7);
    for (size_t i = 0; i < r->n_bindings; i++)
        binding_row(table, r->bindings[i]);
    output_table_end(table);
    return 0;
}

static int change_bindings(clmctl_globals *g, int argc, char **argv, int remove)
{
    const char *protocol = NULL, *cert = NULL;
    Clm__V1__BindingTarget *targets = calloc((size_t)argc + 1, sizeof(*targets));
    Clm__V1__BindingTarget **pointers = calloc((size_t)argc + 1, sizeof(*pointers));
    size_t n = 0;
    int all = 0, rc = 2;

    if (targets == NULL || pointers == NULL)
        goto out;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--protocol") == 0 && i + 1 < argc)
            protocol = argv[++i];
        else if (remove && strcmp(argv[i], "--all") == 0)
            all = 1;
        else if (cert == NULL)
            cert = argv[i];
        else if (parse_target(argv[i], protocol, &targets[n])) {
            pointers[n] = &targets[n];
            n++;
        } else {
            fprintf(stderr, "clmctl: '%s' is not HOST:PORT[:SNI] ([IPv6]:PORT[:SNI])\n",
                    argv[i]);
            goto out;
        }
    }
    if (cert == NULL || (n == 0 && !all) || (n > 0 && all)) {
        fprintf(stderr, remove ? "usage: clmctl binding rm CERT (HOST:PORT[:SNI]... | --all)\n"
                               : "usage: clmctl binding add [--protocol P] CERT "
                                 "HOST:PORT[:SNI]...\n");
        goto out;
    }
    ProtobufCMessage *reply;
    if (remove) {
        Clm__V1__RemoveBindingsRequest req = CLM__V1__REMOVE_BINDINGS_REQUEST__INIT;
        req.certificate = (char *)cert;
        req.targets = pointers;
        req.n_targets = n;
        reply = clmctl_call(g, "/clm.v1.Endpoints/RemoveBindings", &req.base,
                            &clm__v1__bindings_response__descriptor);
    } else {
        Clm__V1__AddBindingsRequest req = CLM__V1__ADD_BINDINGS_REQUEST__INIT;
        req.certificate = (char *)cert;
        req.targets = pointers;
        req.n_targets = n;
        reply = clmctl_call(g, "/clm.v1.Endpoints/AddBindings", &req.base,
                            &clm__v1__bindings_response__descriptor);
    }
    rc = 1;
    if (reply != NULL) {
        rc = print_bindings(g, (Clm__V1__BindingsResponse *)reply);
        protobuf_c_message_free_unpacked(reply, NULL);
    }
out:
    free(targets);
    free(pointers);
    return rc;
}

static int cmd_binding_add(clmctl_globals *g, int argc, char **argv)
{
    return change_bindings(g, argc, argv, 0);
}

static int cmd_binding_rm(clmctl_globals *g, int argc, char **argv)
{
    return change_bindings(g, argc, argv, 1);
}

static int binding_page(const ProtobufCMessage *reply, void *arg)
{
    const Clm__V1__ListBindingsResponse *r = (const void *)reply;
    output_table *table = arg;

    for (size_t i = 0; i < r->n_bindings; i++)
        if (table != NULL)
            binding_row(table, r->bindings[i]);
    if (table == NULL)
        clmctl_print_json(reply);
    return 0;
}

static int cmd_binding_ls(clmctl_globals *g, int argc, char **argv)
{
    Clm__V1__ListBindingsRequest req = CLM__V1__LIST_BINDINGS_REQUEST__INIT;
    output_table *table = NULL;
    int rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc) {
            req.certificate = argv[++i];
        } else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) {
            const char *s = argv[++i];
            if (strcmp(s, "sync") == 0)
                req.state = CLM__V1__BINDING_STATE__BINDING_STATE_SYNC;
            else if (strcmp(s, "out_of_sync") == 0)
                req.state = CLM__V1__BINDING_STATE__BINDING_STATE_OUT_OF_SYNC;
            else {
                fprintf(stderr, "clmctl: --state: sync or out_of_sync\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: clmctl binding ls [--cert ID] [--state sync|out_of_sync]\n");
            return 2;
        }
    }
    if (g->output != OUTPUT_JSON)
        table = output_table_begin(g->output, binding_headers, 7);
    rc = clmctl_for_each_page(g, "/clm.v1.Endpoints/ListBindings", &req.base,
                              &clm__v1__list_bindings_response__descriptor, binding_page, table);
    if (table != NULL)
        output_table_end(table);
    return rc;
}

static int endpoint_page(const ProtobufCMessage *reply, void *arg)
{
    const Clm__V1__ListEndpointsResponse *r = (const void *)reply;
    output_table *table = arg;

    if (table == NULL)
        return clmctl_print_json(reply), 0;
    for (size_t i = 0; i < r->n_endpoints; i++) {
        const Clm__V1__Endpoint *e = r->endpoints[i];
        char endpoint[400], leaf[20], days[24], checked[32];
        snprintf(endpoint, sizeof(endpoint), "%s%s%s:%u%s%s", strchr(e->address, ':') ? "[" : "",
                 e->address[0] ? e->address : e->host, strchr(e->address, ':') ? "]" : "",
                 e->port, e->sni[0] ? " sni=" : "", e->sni);
        snprintf(leaf, sizeof(leaf), "%.16s", e->leaf_sha256);
        snprintf(days, sizeof(days), "%" PRId64, e->days_to_expiry);
        format_time(e->last_checked, checked, sizeof(checked));
        const char *cells[8] = {endpoint,
                                e->status,
                                e->leaf_sha256[0] ? leaf : "-",
                                e->common_name[0] ? e->common_name : "-",
                                e->leaf_sha256[0] ? days : "-",
                                e->tls_version[0] ? e->tls_version : "-",
                                checked,
                                e->reason[0] ? e->reason : e->verify_error};
        output_table_row(table, cells);
    }
    return 0;
}

static int cmd_endpoint_ls(clmctl_globals *g, int argc, char **argv)
{
    static const char *const headers[] = {"ENDPOINT", "STATUS", "LEAF",    "CN",
                                          "DAYS",     "TLS",    "CHECKED", "NOTE"};
    Clm__V1__ListEndpointsRequest req = CLM__V1__LIST_ENDPOINTS_REQUEST__INIT;
    output_table *table = NULL;
    int rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--status") == 0 && i + 1 < argc)
            req.status = argv[++i];
        else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
            req.host_contains = argv[++i];
        else if (strcmp(argv[i], "--serving") == 0 && i + 1 < argc)
            req.leaf_sha256 = argv[++i];
        else {
            fprintf(stderr, "usage: clmctl endpoint ls [--status S] [--host TEXT] "
                            "[--serving SHA256]\n");
            return 2;
        }
    }
    if (g->output != OUTPUT_JSON)
        table = output_table_begin(g->output, headers, 8);
    rc = clmctl_for_each_page(g, "/clm.v1.Endpoints/ListEndpoints", &req.base,
                              &clm__v1__list_endpoints_response__descriptor, endpoint_page, table);
    if (table != NULL)
        output_table_end(table);
    return rc;
}

const clmctl_command clmctl_endpoint_commands[] = {
    {"binding add", "[--protocol P] CERT HOST:PORT[:SNI]...",
     "where a certificate must be served (push validation checks it)", cmd_binding_add},
    {"binding rm", "CERT (HOST:PORT[:SNI]... | --all)", "remove bindings", cmd_binding_rm},
    {"binding ls", "[--cert ID] [--state sync|out_of_sync]", "bindings and their last verdict",
     cmd_binding_ls},
    {"endpoint ls", "[--status S] [--host TEXT] [--serving SHA256]",
     "TLS endpoints as the last probe saw them", cmd_endpoint_ls},
    {NULL, NULL, NULL, NULL},
};
