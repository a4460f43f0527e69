/*
 * tools/clmctl/cmd_generic.c: the grpcurl-style commands: list and describe (over
 * server reflection) and call (JSON in, JSON out, any method compiled into clmctl).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/base/buf.h"
#include "lib/json/pbjson.h"
#include "lib/protodesc/descset.h"
#include "tools/clmctl/clmctl.h"
#include "tools/clmctl/reflect.h"
#include "tools/clmctl/registry.h"

static int cmd_list(clmctl_globals *g, int argc, char **argv)
{
    clm_client *client = clmctl_client(g);
    char **names;
    size_t n;

    if (client == NULL)
        return 1;
    if (argc == 0) {
        if (reflect_list_services(client, &names, &n) != CLM_OK)
            return clmctl_fail("list");
        for (size_t i = 0; i < n; i++)
            printf("%s\n", names[i]);
        reflect_free_names(names, n);
        return 0;
    }
    /* list SERVICE: its methods, full names, as grpcurl prints them */
    descset *set = descset_new();
    int rc = 0;
    if (reflect_load_symbol(client, set, argv[0]) != CLM_OK) {
        rc = clmctl_fail(argv[0]);
    } else {
        const descset_symbol *sym = descset_find_symbol(set, argv[0]);
        if (sym->kind != DESCSET_SERVICE) {
            fprintf(stderr, "clmctl: %s is not a service\n", argv[0]);
            rc = 1;
        } else {
            const Google__Protobuf__ServiceDescriptorProto *s = sym->proto;
            for (size_t i = 0; i < s->n_method; i++)
                printf("%s.%s\n", sym->name, s->method[i]->name);
        }
    }
    descset_free(set);
    return rc;
}

static const char *field_type_name(const Google__Protobuf__FieldDescriptorProto *f)
{
    static const char *const names[] = {
        NULL,      "double",   "float",   "int64",    "uint64",  "int32",   "fixed64",
        "fixed32", "bool",     "string",  "group",    NULL,      "bytes",   "uint32",
        NULL,      "sfixed32", "sfixed64", "sint32",  "sint64"};

    if (f->type_name != NULL && f->type_name[0] != '\0')
        return f->type_name;
    if ((size_t)f->type < sizeof(names) / sizeof(names[0]) && names[f->type])
        return names[f->type];
    return "?";
}

static void print_method(const Google__Protobuf__MethodDescriptorProto *m, const char *indent)
{
    printf("%srpc %s ( %s%s ) returns ( %s%s );\n", indent, m->name,
           m->client_streaming ? "stream " : "", m->input_type,
           m->server_streaming ? "stream " : "", m->output_type);
}

static void print_message(const Google__Protobuf__DescriptorProto *m)
{
    printf("message %s {\n", m->name);
    for (size_t i = 0; i < m->n_field; i++) {
        const Google__Protobuf__FieldDescriptorProto *f = m->field[i];
        const char *label =
            f->label == GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__LABEL__LABEL_REPEATED
                ? "repeated "
                : "";
        printf("  %s%s %s = %d;\n", label, field_type_name(f), f->name, f->number);
    }
    for (size_t i = 0; i < m->n_nested_type; i++)
        printf("  message %s { ... }\n", m->nested_type[i]->name);
    printf("}\n");
}

static int cmd_describe(clmctl_globals *g, int argc, char **argv)
{
    clm_client *client;
    descset *set;
    const descset_symbol *sym;
    int rc = 0;

    if (argc != 1) {
        fprintf(stderr, "usage: clmctl describe SYMBOL (a service, method, message or enum)\n");
        return 2;
    }
    if ((client = clmctl_client(g)) == NULL)
        return 1;
    set = descset_new();
    if (reflect_load_symbol(client, set, argv[0]) != CLM_OK) {
        descset_free(set);
        return clmctl_fail(argv[0]);
    }
    sym = descset_find_symbol(set, argv[0]);
    switch (sym->kind) {
    case DESCSET_SERVICE: {
        const Google__Protobuf__ServiceDescriptorProto *s = sym->proto;
        printf("%s is a service:\nservice %s {\n", sym->name, s->name);
        for (size_t i = 0; i < s->n_method; i++)
            print_method(s->method[i], "  ");
        printf("}\n");
        break;
    }
    case DESCSET_METHOD:
        printf("%s is a method:\n", sym->name);
        print_method(sym->proto, "");
        break;
    case DESCSET_MESSAGE:
        printf("%s is a message:\n", sym->name);
        print_message(sym->proto);
        break;
    case DESCSET_ENUM: {
        const Google__Protobuf__EnumDescriptorProto *e = sym->proto;
        printf("%s is an enum:\nenum %s {\n", sym->name, e->name);
        for (size_t i = 0; i < e->n_value; i++)
            printf("  %s = %d;\n", e->value[i]->name, e->value[i]->number);
        printf("}\n");
        break;
    }
    }
    descset_free(set);
    return rc;
}

static char *read_stdin(void)
{
    clm_buf buf = CLM_BUF_INIT;
    char chunk[4096];
    ssize_t n;

    while ((n = read(0, chunk, sizeof(chunk))) > 0)
        clm_buf_append(&buf, chunk, (size_t)n);
    clm_buf_append_str(&buf, "");
    return (char *)clm_buf_detach(&buf, NULL);
}

static int cmd_call(clmctl_globals *g, int argc, char **argv)
{
    const ProtobufCMethodDescriptor *m;
    char path[300];
    char *stdin_text = NULL;
    const char *json;
    ProtobufCMessage *request = NULL;
    client_stream *stream;
    clm_client *client;
    int rc = 0;

    if (argc < 1 || argc > 2) {
        fprintf(stderr, "usage: clmctl call SERVICE/METHOD ['{json}' | -]\n");
        return 2;
    }
    m = registry_find_method(argv[0], path, sizeof(path));
    if (m == NULL) {
        fprintf(stderr, "clmctl: %s: no such method in clmctl (see clmctl list)\n", argv[0]);
        return 2;
    }
    json = argc == 2 ? argv[1] : "{}";
    if (strcmp(json, "-") == 0)
        json = stdin_text = read_stdin();
    if (pbjson_decode(m->input, json, strlen(json), &request) != CLM_OK) {
        free(stdin_text);
        return clmctl_fail("request");
    }
    free(stdin_text);
    if ((client = clmctl_client(g)) == NULL) {
        protobuf_c_message_free_unpacked(request, NULL);
        return 1;
    }
    /* One request; then every reply until the server ends the call (one for unary). */
    client_stream_open(client, path, &stream);
    client_stream_send(stream, request);
    client_stream_close_send(stream);
    protobuf_c_message_free_unpacked(request, NULL);
    for (;;) {
        ProtobufCMessage *reply;
        if (client_stream_recv(stream, m->output, &reply) != CLM_OK) {
            rc = clmctl_fail("reply");
            break;
        }
        if (reply == NULL)
            break;
        rc |= clmctl_print_json(reply);
        protobuf_c_message_free_unpacked(reply, NULL);
    }
    if (client_stream_finish(stream) != CLM_OK)
        rc = clmctl_fail(path);
    return rc;
}

const clmctl_command clmctl_generic_commands[] = {
    {"list", "[SERVICE]", "services (or a service's methods), via reflection", cmd_list},
    {"describe", "SYMBOL", "a service, method, message or enum, via reflection", cmd_describe},
    {"call", "SERVICE/METHOD [JSON|-]", "call any method with a proto3 JSON request", cmd_call},
    {NULL, NULL, NULL, NULL},
};
