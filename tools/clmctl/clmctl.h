/*
 * tools/clmctl/clmctl.h: what clmctl's command files share: the global options, the
 * connection, and the command table row.
 */
#ifndef CLM_TOOLS_CLMCTL_CLMCTL_H
#define CLM_TOOLS_CLMCTL_CLMCTL_H

#include <protobuf-c/protobuf-c.h>

#include "tools/clmctl/client.h"
#include "tools/clmctl/output.h"

typedef struct clmctl_globals {
    const char *data_dir;  /* --data-dir / CLM_DATA_DIR, default ./var/clm */
    const char *socket;    /* --socket; default DATA_DIR/clmd.sock */
    const char *address;   /* --addr host:port: mutual TLS instead of the socket */
    const char *cert;      /* --cert; default DATA_DIR/tls/admin.pem */
    const char *key;       /* --key; default DATA_DIR/tls/admin.key */
    const char *ca;        /* --ca; default DATA_DIR/tls/ca.pem */
    int64_t timeout_ms;    /* --timeout seconds */
    output_format output;  /* --output table|json|csv; resolved against stdout */
    int output_explicit;   /* --output was given (watch prints plain lines otherwise) */
    clm_client *client;    /* connected lazily by clmctl_client() */
} clmctl_globals;

/** Connect (once) as the global options say. @return NULL after printing why. */
clm_client *clmctl_client(clmctl_globals *g);

/** Print "clmctl: <context>: <message>" for the thread's last error; return 1. */
int clmctl_fail(const char *context);

/**
 * Print a message as proto3 JSON (pretty) on stdout. @return 0, or 1 after printing why.
 */
int clmctl_print_json(const ProtobufCMessage *message);

typedef int (*clmctl_command_fn)(clmctl_globals *g, int argc, char **argv);

typedef struct clmctl_command {
    const char *words; /* "admin backup": argv words that select the command */
    const char *usage; /* arguments after the words */
    const char *help;
    clmctl_command_fn run; /* argv[0] is the first argument after the words */
} clmctl_command;

/**
 * A unary call for task commands: the reply, or NULL after printing the error
 * ("clmctl: Service/Method: STATUS: message").
 */
ProtobufCMessage *clmctl_call(clmctl_globals *g, const char *path, const ProtobufCMessage *request,
                              const ProtobufCMessageDescriptor *reply_type);

/**
 * Call a List method page by page: `each` gets every reply (return 0 for more pages,
 * 1 to stop). The request's "page_token" field is set from each reply's
 * "next_page_token" (found by name in the descriptors). @return 0, or 1 after an
 * error was printed.
 */
int clmctl_for_each_page(clmctl_globals *g, const char *path, ProtobufCMessage *request,
                         const ProtobufCMessageDescriptor *reply_type,
                         int (*each)(const ProtobufCMessage *reply, void *arg), void *arg);

/* Command files: each defines one table. */
extern const clmctl_command clmctl_generic_commands[];  /* list, describe, call */
extern const clmctl_command clmctl_admin_commands[];    /* version, health, backup, audit */
extern const clmctl_command clmctl_group_commands[];    /* group ls|show|create|set|rm */
extern const clmctl_command clmctl_cert_commands[];     /* cert ..., report expiry */
extern const clmctl_command clmctl_job_commands[];      /* job ..., schedule ... */
extern const clmctl_command clmctl_endpoint_commands[]; /* binding ..., endpoint ls */
extern const clmctl_command clmctl_report_commands[];   /* report push-validation */
extern const clmctl_command clmctl_connector_commands[]; /* connector ..., ca ... */
extern const clmctl_command clmctl_workorder_commands[]; /* enroll, wo ... */

#endif
