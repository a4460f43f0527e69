/* tools/clmctl/client.c: blocking calls on the gRPC C core with a pluck queue each. */
#include "tools/clmctl/client.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct clm_client {
    grpc_channel *channel;
    int64_t timeout_ms;
};

struct client_stream {
    grpc_call *call;
    grpc_completion_queue *cq;
    grpc_metadata_array initial_metadata;
    grpc_metadata_array trailing_metadata;
    grpc_status_code status;
    grpc_slice details;
    int initial_sent; /* initial metadata goes out with the first message or close */
    int initial_received;
    int status_requested;
    int closed_send;
};

static _Thread_local int last_status;

static const char *const status_names[] = {
    "OK",      "CANCELLED",        "UNKNOWN",           "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};

const char *client_status_name(int code)
{
    return code >= 0 && code <= 16 ? status_names[code] : "UNKNOWN";
}

int client_last_status(void)
{
    return last_status;
}

static clm_err error_of_status(int code)
{
    switch (code) {
    case GRPC_STATUS_OK: return CLM_OK;
    case GRPC_STATUS_INVALID_ARGUMENT: return CLM_ERR_INVALID_ARGUMENT;
    case GRPC_STATUS_NOT_FOUND: return CLM_ERR_NOT_FOUND;
    case GRPC_STATUS_ALREADY_EXISTS: return CLM_ERR_ALREADY_EXISTS;
    case GRPC_STATUS_PERMISSION_DENIED: return CLM_ERR_PERMISSION;
    case GRPC_STATUS_UNAUTHENTICATED: return CLM_ERR_UNAUTHENTICATED;
    case GRPC_STATUS_DEADLINE_EXCEEDED: return CLM_ERR_TIMEOUT;
    case GRPC_STATUS_CANCELLED: return CLM_ERR_CANCELLED;
    case GRPC_STATUS_UNIMPLEMENTED: return CLM_ERR_UNSUPPORTED;
    case GRPC_STATUS_UNAVAILABLE: return CLM_ERR_UNAVAILABLE;
    case GRPC_STATUS_FAILED_PRECONDITION: return CLM_ERR_CONFLICT;
    case GRPC_STATUS_RESOURCE_EXHAUSTED: return CLM_ERR_NO_MEMORY;
    default: return CLM_ERR_INTERNAL;
    }
}

/* gRPC's log lines would repeat what the status already says; show them only with
   CLM_GRPC_LOG set. */
static void grpc_log_quiet(gpr_log_func_args *args)
{
    if (getenv("CLM_GRPC_LOG") != NULL)
        fprintf(stderr, "grpc: %s (%s:%d)\n", args->message, args->file, args->line);
}

clm_err client_new(const client_options *options, clm_client **out)
{
    clm_client *c;
    grpc_channel_credentials *creds;
    char target[4200];
    grpc_arg args[2];
    grpc_channel_args channel_args = {2, args};
    int max = 256 << 20;

    *out = NULL;
    if (options->unix_path == NULL && options->address == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "no server: give a socket or an address");
    if (options->address != NULL &&
        (options->ca_pem == NULL || options->cert_pem == NULL || options->key_pem == NULL))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "a TCP address needs the CA, a client certificate and its key");
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    gpr_set_log_function(grpc_log_quiet);
    grpc_init();
    args[0] = (grpc_arg){GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, {.integer = max}};
    args[1] = (grpc_arg){GRPC_ARG_INTEGER, GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, {.integer = max}};
    if (options->unix_path != NULL) {
        snprintf(target, sizeof(target), "unix:%s", options->unix_path);
        creds = grpc_insecure_credentials_create();
    } else {
        grpc_ssl_pem_key_cert_pair pair = {options->key_pem, options->cert_pem};
        snprintf(target, sizeof(target), "%s", options->address);
        creds = grpc_ssl_credentials_create(options->ca_pem, &pair, NULL, NULL);
    }
    c->channel = grpc_channel_create(target, creds, &channel_args);
    grpc_channel_credentials_release(creds);
    c->timeout_ms = options->timeout_ms > 0 ? options->timeout_ms : 30000;
    *out = c;
    return CLM_OK;
}

void client_free(clm_client *c)
{
    if (c == NULL)
        return;
    grpc_channel_destroy(c->channel);
    free(c);
    grpc_shutdown();
}

static int run_batch(client_stream *s, grpc_op *ops, size_t n)
{
    grpc_event ev;

    if (grpc_call_start_batch(s->call, ops, n, s, NULL) != GRPC_CALL_OK)
        return 0;
    ev = grpc_completion_queue_pluck(s->cq, s, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    return ev.type == GRPC_OP_COMPLETE && ev.success;
}

clm_err client_stream_open(clm_client *c, const char *path, client_stream **out)
{
    client_stream *s = calloc(1, sizeof(*s));
    grpc_slice method;
    gpr_timespec deadline;

    *out = NULL;
    if (s == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    s->cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_metadata_array_init(&s->initial_metadata);
    grpc_metadata_array_init(&s->trailing_metadata);
    s->details = grpc_empty_slice();
    method = grpc_slice_from_copied_string(path);
    deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                            gpr_time_from_millis(c->timeout_ms, GPR_TIMESPAN));
    s->call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, s->cq, method,
                                       NULL, deadline, NULL);
    grpc_slice_unref(method);
    *out = s;
    return CLM_OK;
}

clm_err client_stream_send(client_stream *s, const ProtobufCMessage *message)
{
    size_t size = protobuf_c_message_get_packed_size(message);
    grpc_slice slice = grpc_slice_malloc(size);
    grpc_byte_buffer *bb;
    grpc_op ops[2];
    size_t n = 0;
    int ok;

    protobuf_c_message_pack(message, GRPC_SLICE_START_PTR(slice));
    bb = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    memset(ops, 0, sizeof(ops));
    if (!s->initial_sent) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        s->initial_sent = 1;
    }
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n++].data.send_message.send_message = bb;
    ok = run_batch(s, ops, n);
    grpc_byte_buffer_destroy(bb);
    return ok ? CLM_OK : clm_fail(CLM_ERR_UNAVAILABLE, "the call ended before the request was sent");
}

clm_err client_stream_close_send(client_stream *s)
{
    grpc_op ops[2];
    size_t n = 0;

    if (s->closed_send)
        return CLM_OK;
    s->closed_send = 1;
    memset(ops, 0, sizeof(ops));
    if (!s->initial_sent) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        s->initial_sent = 1;
    }
    ops[n++].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    run_batch(s, ops, n); /* failure shows in the final status */
    return CLM_OK;
}

clm_err client_stream_recv(client_stream *s, const ProtobufCMessageDescriptor *type,
                           ProtobufCMessage **message)
{
    grpc_op ops[2];
    size_t n = 0;
    grpc_byte_buffer *bb = NULL;

    *message = NULL;
    memset(ops, 0, sizeof(ops));
    if (!s->initial_received) {
        ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[n++].data.recv_initial_metadata.recv_initial_metadata = &s->initial_metadata;
        s->initial_received = 1;
    }
    ops[n].op = GRPC_OP_RECV_MESSAGE;
    ops[n++].data.recv_message.recv_message = &bb;
    if (!run_batch(s, ops, n) || bb == NULL) {
        if (bb != NULL)
            grpc_byte_buffer_destroy(bb);
        return CLM_OK; /* end of stream, or failure: the status tells */
    }
    grpc_byte_buffer_reader reader;
    grpc_byte_buffer_reader_init(&reader, bb);
    grpc_slice slice = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    grpc_byte_buffer_destroy(bb);
    *message = protobuf_c_message_unpack(type, NULL, GRPC_SLICE_LENGTH(slice),
                                         GRPC_SLICE_START_PTR(slice));
    grpc_slice_unref(slice);
    if (*message == NULL)
        return clm_fail(CLM_ERR_PARSE, "the reply is not a valid %s", type->name);
    return CLM_OK;
}

clm_err client_stream_finish(client_stream *s)
{
    grpc_op ops[2];
    size_t n = 0;
    clm_err err;

    client_stream_close_send(s);
    memset(ops, 0, sizeof(ops));
    if (!s->initial_received) {
        ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[n++].data.recv_initial_metadata.recv_initial_metadata = &s->initial_metadata;
        s->initial_received = 1;
    }
    ops[n].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[n].data.recv_status_on_client.trailing_metadata = &s->trailing_metadata;
    ops[n].data.recv_status_on_client.status = &s->status;
    ops[n++].data.recv_status_on_client.status_details = &s->details;
    if (!run_batch(s, ops, n))
        s->status = GRPC_STATUS_UNAVAILABLE;
    last_status = s->status;
    if (s->status == GRPC_STATUS_OK) {
        err = CLM_OK;
    } else {
        err = clm_fail(error_of_status(s->status), "%s: %.*s", client_status_name(s->status),
                       (int)GRPC_SLICE_LENGTH(s->details),
                       (const char *)GRPC_SLICE_START_PTR(s->details));
    }
    grpc_call_unref(s->call);
    grpc_completion_queue_shutdown(s->cq);
    while (grpc_completion_queue_pluck(s->cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
               .type != GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(s->cq);
    grpc_metadata_array_destroy(&s->initial_metadata);
    grpc_metadata_array_destroy(&s->trailing_metadata);
    grpc_slice_unref(s->details);
    free(s);
    return err;
}

clm_err client_unary(clm_client *c, const char *path, const ProtobufCMessage *request,
                     const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply)
{
    client_stream *s;
    clm_err err;
    clm_err recv_err;

    *reply = NULL;
    if ((err = client_stream_open(c, path, &s)) != CLM_OK)
        return err;
    client_stream_send(s, request);
    client_stream_close_send(s);
    recv_err = client_stream_recv(s, reply_type, reply);
    err = client_stream_finish(s);
    if (err == CLM_OK && recv_err != CLM_OK)
        err = recv_err;
    if (err == CLM_OK && *reply == NULL)
        err = clm_fail(CLM_ERR_INTERNAL, "the server sent no reply");
    if (err != CLM_OK && *reply != NULL) {
        protobuf_c_message_free_unpacked(*reply, NULL);
        *reply = NULL;
    }
    return err;
}
