/*
 * appliance/rpc/server.c: the gRPC C-core server behind rpc.h.
 *
 * Shape: N completion-queue threads, each with its own queue registered with the
 * server. Every method is registered with gRPC (so unary and server-streaming calls
 * arrive with their request already read), and each queue keeps requests
 * outstanding for every method. A unary call is handled on the queue thread in one
 * batch (initial metadata + message + status + close). A streaming call gets a
 * thread of its own that issues one batch at a time and waits on a condition
 * variable that the queue thread signals when the batch completes.
 *
 * Tags: every pointer given to gRPC as a tag points at an rpc_tag, whose kind tells
 * the queue thread what completed.
 */
#include "appliance/rpc/rpc.h"

#include <errno.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_posix.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "appliance/rpc/server_internal.h"
#include "lib/base/log.h"

/* ---- roles ---- */

static const char *const role_names[RPC_ROLE_MAX] = {"none",     "viewer",   "auditor",
                                                     "approver", "operator", "admin"};

const char *rpc_role_name(rpc_role role)
{
    return (unsigned)role < RPC_ROLE_MAX ? role_names[role] : "none";
}

clm_err rpc_role_parse(const char *name, rpc_role *role)
{
    for (int r = RPC_ROLE_VIEWER; r < RPC_ROLE_MAX; r++) {
        if (strcmp(name, role_names[r]) == 0) {
            *role = (rpc_role)r;
            return CLM_OK;
        }
    }
    return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                    "role '%s' is not one of admin, operator, approver, auditor, viewer",
                    name);
}

/* ---- errors to status: the one place (DESIGN.md) ---- */

static grpc_status_code status_of(clm_err err)
{
    switch (err) {
    case CLM_OK: return GRPC_STATUS_OK;
    case CLM_ERR_INVALID_ARGUMENT: return GRPC_STATUS_INVALID_ARGUMENT;
    case CLM_ERR_PARSE: return GRPC_STATUS_INVALID_ARGUMENT;
    case CLM_ERR_NOT_FOUND: return GRPC_STATUS_NOT_FOUND;
    case CLM_ERR_ALREADY_EXISTS: return GRPC_STATUS_ALREADY_EXISTS;
    case CLM_ERR_PERMISSION: return GRPC_STATUS_PERMISSION_DENIED;
    case CLM_ERR_UNAUTHENTICATED: return GRPC_STATUS_UNAUTHENTICATED;
    case CLM_ERR_NO_MEMORY: return GRPC_STATUS_RESOURCE_EXHAUSTED;
    case CLM_ERR_STORE_FULL: return GRPC_STATUS_RESOURCE_EXHAUSTED;
    case CLM_ERR_BUSY: return GRPC_STATUS_UNAVAILABLE;
    case CLM_ERR_UNAVAILABLE: return GRPC_STATUS_UNAVAILABLE;
    case CLM_ERR_TIMEOUT: return GRPC_STATUS_DEADLINE_EXCEEDED;
    case CLM_ERR_CANCELLED: return GRPC_STATUS_CANCELLED;
    case CLM_ERR_UNSUPPORTED: return GRPC_STATUS_UNIMPLEMENTED;
    case CLM_ERR_CONFIG: return GRPC_STATUS_FAILED_PRECONDITION;
    case CLM_ERR_CONFLICT: return GRPC_STATUS_FAILED_PRECONDITION;
    case CLM_ERR_IO:
    case CLM_ERR_STORE:
    case CLM_ERR_CRYPTO:
    case CLM_ERR_INTERNAL:
    case CLM_ERR_MAX: break;
    }
    return GRPC_STATUS_INTERNAL;
}

/* ---- call objects ---- */

static rpc_call *call_new(rpc_server *server, const method_entry *entry, int cq_index)
{
    rpc_call *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->server = server;
    c->entry = entry;
    c->cq_index = cq_index;
    c->arena = (clm_arena)CLM_ARENA_INIT;
    grpc_metadata_array_init(&c->request_metadata);
    grpc_call_details_init(&c->details);
    c->request_tag = (rpc_tag){entry ? TAG_REQUEST : TAG_UNIMPLEMENTED, c};
    c->done_tag = (rpc_tag){TAG_UNARY_DONE, c};
    c->op_tag = (rpc_tag){TAG_STREAM_OP, c};
    c->close_tag = (rpc_tag){TAG_CLOSE, c};
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->op_done_cond, NULL);
    atomic_init(&c->refs, 1);
    return c;
}

static void call_free(rpc_call *c)
{
    int accepted = c->call != NULL;

    if (c->call)
        grpc_call_unref(c->call);
    if (c->payload)
        grpc_byte_buffer_destroy(c->payload);
    grpc_metadata_array_destroy(&c->request_metadata);
    grpc_call_details_destroy(&c->details);
    clm_arena_free(&c->arena);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->op_done_cond);
    if (accepted) {
        rpc_server *s = c->server;
        pthread_mutex_lock(&s->state_lock);
        if (atomic_fetch_sub(&s->active_calls, 1) == 1)
            pthread_cond_broadcast(&s->state_cond);
        pthread_mutex_unlock(&s->state_lock);
    }
    free(c);
}

static void call_unref(rpc_call *c)
{
    if (atomic_fetch_sub(&c->refs, 1) == 1)
        call_free(c);
}

void rpc_request_call(rpc_server *s, const method_entry *entry, int cq_index)
{
    rpc_call *c;
    grpc_call_error rc;
    grpc_completion_queue *cq = s->cqs[cq_index];

    if (atomic_load(&s->draining))
        return;
    c = call_new(s, entry, cq_index);
    if (c == NULL) {
        CLM_LOG_ERROR("rpc.request", "error", "out of memory");
        return;
    }
    if (entry != NULL) {
        int with_payload =
            entry->method->kind == RPC_UNARY || entry->method->kind == RPC_SERVER_STREAMING;
        rc = grpc_server_request_registered_call(s->grpc, entry->registered, &c->call,
                                                 &c->deadline, &c->request_metadata,
                                                 with_payload ? &c->payload : NULL, cq, cq,
                                                 &c->request_tag);
    } else {
        rc = grpc_server_request_call(s->grpc, &c->call, &c->details, &c->request_metadata,
                                      cq, cq, &c->request_tag);
    }
    if (rc != GRPC_CALL_OK) {
        CLM_LOG_ERROR("rpc.request", "error", CLM_I64(rc));
        c->call = NULL;
        call_free(c);
    }
}

/* ---- encoding ---- */

static grpc_byte_buffer *encode_message(const ProtobufCMessage *message)
{
    size_t size = protobuf_c_message_get_packed_size(message);
    grpc_slice slice = grpc_slice_malloc(size);
    grpc_byte_buffer *bb;

    protobuf_c_message_pack(message, GRPC_SLICE_START_PTR(slice));
    bb = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    return bb;
}

static clm_err decode_message(clm_arena *arena, grpc_byte_buffer *bb,
                              const ProtobufCMessageDescriptor *type, ProtobufCMessage **out)
{
    grpc_byte_buffer_reader reader;
    grpc_slice slice;
    ProtobufCAllocator allocator = {clm_arena_pb_alloc, clm_arena_pb_free, arena};

    if (!grpc_byte_buffer_reader_init(&reader, bb))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "request: cannot read the message");
    slice = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    *out = protobuf_c_message_unpack(type, &allocator, GRPC_SLICE_LENGTH(slice),
                                     GRPC_SLICE_START_PTR(slice));
    grpc_slice_unref(slice);
    if (*out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "request: not a valid %s message",
                        type->name);
    return CLM_OK;
}

/* ---- peers ---- */

static clm_err identify_peer(rpc_call *c)
{
    rpc_server *s = c->server;
    char *peer_name = grpc_call_get_peer(c->call);
    clm_err err = CLM_OK;

    memset(&c->peer, 0, sizeof(c->peer));
    if (peer_name != NULL && strncmp(peer_name, "fd:", 3) == 0) {
        /* Connections accepted on our Unix socket (see unix_accept_loop). */
        if (!peer_table_get(&s->unix_peers, (int)strtol(peer_name + 3, NULL, 10), &c->peer))
            err = clm_fail(CLM_ERR_UNAUTHENTICATED, "unknown local connection");
    } else {
        grpc_auth_context *ctx = grpc_call_auth_context(c->call);
        grpc_auth_property_iterator it;
        const grpc_auth_property *prop;

        c->peer.transport = RPC_TRANSPORT_TLS;
        c->peer.role = RPC_ROLE_NONE;
        err = clm_fail(CLM_ERR_UNAUTHENTICATED, "no verified client certificate");
        if (ctx != NULL) {
            it = grpc_auth_context_find_properties_by_name(ctx, GRPC_X509_SUBJECT_PROPERTY_NAME);
            prop = grpc_auth_property_iterator_next(&it);
            if (prop != NULL && s->options.identify_tls != NULL) {
                char subject[sizeof(c->peer.identity)];
                size_t n = prop->value_length < sizeof(subject) - 1 ? prop->value_length
                                                                    : sizeof(subject) - 1;
                memcpy(subject, prop->value, n);
                subject[n] = '\0';
                s->options.identify_tls(s->options.app, subject, &c->peer);
                err = CLM_OK;
            }
            grpc_auth_context_release(ctx);
        }
    }
    if (peer_name)
        gpr_free(peer_name);
    return err;
}

/* ---- status ---- */

static void audit_call(rpc_call *c, clm_err err, const char *message)
{
    rpc_server *s = c->server;

    if (s->options.audit != NULL && !c->audited)
        s->options.audit(s->options.app, c, err, message);
}

static void log_call(rpc_call *c, const char *path, clm_err err, const char *message)
{
    int64_t took_us = 0;
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    took_us = ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - c->started_ns) / 1000;
    if (err == CLM_OK)
        CLM_LOG_DEBUG("rpc", "method", path, "peer", c->peer.identity, "status", "OK",
                      "took_us", CLM_I64(took_us));
    else
        CLM_LOG_INFO("rpc", "method", path, "peer", c->peer.identity, "status",
                     clm_strerror(err), "message", message, "took_us", CLM_I64(took_us));
}

/* Start the final batch of a unary call; completion comes back as TAG_UNARY_DONE. */
static void unary_finish(rpc_call *c, const ProtobufCMessage *response, clm_err err,
                         const char *message)
{
    grpc_op ops[4];
    grpc_op *op = ops;
    grpc_byte_buffer *reply = NULL;
    grpc_slice details = grpc_slice_from_copied_string(message ? message : "");
    grpc_call_error rc;

    memset(ops, 0, sizeof(ops));
    op->op = GRPC_OP_SEND_INITIAL_METADATA;
    op++;
    if (err == CLM_OK && response != NULL) {
        reply = encode_message(response);
        op->op = GRPC_OP_SEND_MESSAGE;
        op->data.send_message.send_message = reply;
        op++;
    }
    op->op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    op->data.send_status_from_server.status = status_of(err);
    op->data.send_status_from_server.status_details = err == CLM_OK ? NULL : &details;
    op++;
    op->op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op->data.recv_close_on_server.cancelled = &c->close_cancelled; /* written on completion */
    op++;
    rc = grpc_call_start_batch(c->call, ops, (size_t)(op - ops), &c->done_tag, NULL);
    if (reply)
        grpc_byte_buffer_destroy(reply);
    grpc_slice_unref(details);
    if (rc != GRPC_CALL_OK) {
        CLM_LOG_ERROR("rpc.reply", "error", CLM_I64(rc));
        call_unref(c);
    }
}

static clm_err check_role(rpc_call *c)
{
    const rpc_method *m = c->entry->method;

    if (c->peer.role == RPC_ROLE_NONE || (m->roles & RPC_ROLE_BIT(c->peer.role)) == 0)
        return clm_fail(CLM_ERR_PERMISSION, "%s: role '%s' of %s may not call this method",
                        m->path, rpc_role_name(c->peer.role), c->peer.identity);
    return CLM_OK;
}

/* Audit, log and reply: the end of every unary call, deferred or not. */
static void unary_complete(rpc_call *c, const ProtobufCMessage *response, clm_err err,
                           const char *message)
{
    const rpc_method *m = c->entry->method;

    if (err != CLM_OK && message[0] == '\0')
        message = clm_strerror(err);
    if (m->audited || err == CLM_ERR_PERMISSION)
        audit_call(c, err, message);
    log_call(c, m->path, err, message);
    unary_finish(c, response, err, message);
}

static void handle_unary(rpc_call *c)
{
    const rpc_method *m = c->entry->method;
    ProtobufCMessage *request = NULL;
    ProtobufCMessage *response = NULL;
    clm_err err;

    clm_error_clear();
    err = check_role(c);
    if (err == CLM_OK) {
        if (c->payload == NULL)
            err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "request: no message sent");
        else
            err = decode_message(&c->arena, c->payload, m->request_type, &request);
    }
    if (err == CLM_OK) {
        response = clm_arena_alloc(&c->arena, m->response_type->sizeof_message);
        if (response == NULL)
            err = clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    if (err == CLM_OK) {
        m->response_type->message_init(response);
        c->response = response;
        err = m->unary(c, request, response);
        if (c->deferred) {
            /* rpc_call_finish (maybe done already) replies; drop rpc_call_defer's hold */
            if (err != CLM_OK)
                CLM_LOG_ERROR("rpc.defer", "method", m->path, "error",
                              "a deferred handler returned an error; ignored");
            call_unref(c);
            return;
        }
    }
    unary_complete(c, response, err, err == CLM_OK ? "" : clm_error_message());
}

void rpc_call_defer(rpc_call *c)
{
    c->deferred = 1;
    atomic_fetch_add(&c->refs, 1); /* held until handle_unary sees the handler return */
}

void rpc_call_finish(rpc_call *c, clm_err err, const char *message)
{
    unary_complete(c, c->response, err, message ? message : "");
}

/* ---- streaming ---- */

/* Run one batch from a streaming handler's thread and wait for it. */
static int stream_batch(rpc_call *c, grpc_op *ops, size_t n)
{
    int ok;

    pthread_mutex_lock(&c->lock);
    c->op_done = 0;
    pthread_mutex_unlock(&c->lock);
    if (grpc_call_start_batch(c->call, ops, n, &c->op_tag, NULL) != GRPC_CALL_OK)
        return 0;
    pthread_mutex_lock(&c->lock);
    while (!c->op_done)
        pthread_cond_wait(&c->op_done_cond, &c->lock);
    ok = c->op_ok;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

clm_err rpc_call_send(rpc_call *c, const ProtobufCMessage *message)
{
    grpc_op ops[2];
    size_t n = 0;
    grpc_byte_buffer *bb;
    int ok;

    if (rpc_call_cancelled(c))
        return clm_fail(CLM_ERR_CANCELLED, "the call was cancelled");
    bb = encode_message(message);
    memset(ops, 0, sizeof(ops));
    if (!c->initial_metadata_sent) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        c->initial_metadata_sent = 1;
    }
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n++].data.send_message.send_message = bb;
    ok = stream_batch(c, ops, n);
    grpc_byte_buffer_destroy(bb);
    return ok ? CLM_OK : clm_fail(CLM_ERR_CANCELLED, "the call was cancelled");
}

clm_err rpc_call_recv(rpc_call *c, ProtobufCMessage **message)
{
    return rpc_call_recv_into(c, &c->arena, message);
}

clm_err rpc_call_recv_into(rpc_call *c, clm_arena *arena, ProtobufCMessage **message)
{
    grpc_op op;
    grpc_byte_buffer *bb = NULL;
    clm_err err;

    *message = NULL;
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &bb;
    if (!stream_batch(c, &op, 1))
        return clm_fail(CLM_ERR_CANCELLED, "the call was cancelled");
    if (bb == NULL)
        return CLM_OK; /* end of stream */
    err = decode_message(arena, bb, c->entry->method->request_type, message);
    grpc_byte_buffer_destroy(bb);
    return err;
}

static void stream_finish(rpc_call *c, clm_err err, const char *message)
{
    grpc_op ops[2];
    size_t n = 0;
    grpc_slice details = grpc_slice_from_copied_string(message);

    memset(ops, 0, sizeof(ops));
    if (!c->initial_metadata_sent) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        c->initial_metadata_sent = 1;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = status_of(err);
    ops[n++].data.send_status_from_server.status_details = err == CLM_OK ? NULL : &details;
    stream_batch(c, ops, n);
    grpc_slice_unref(details);
}

static void *stream_thread(void *arg)
{
    rpc_call *c = arg;
    const rpc_method *m = c->entry->method;
    ProtobufCMessage *request = NULL;
    clm_err err;

    clm_error_clear();
    err = check_role(c);
    if (err == CLM_OK && m->kind == RPC_SERVER_STREAMING) {
        if (c->payload == NULL)
            err = clm_fail(CLM_ERR_INVALID_ARGUMENT, "request: no message sent");
        else
            err = decode_message(&c->arena, c->payload, m->request_type, &request);
    }
    if (err == CLM_OK)
        err = m->stream(c, request);
    const char *message = err == CLM_OK ? "" : clm_error_message();
    if (err != CLM_OK && message[0] == '\0')
        message = clm_strerror(err);
    if (m->audited || err == CLM_ERR_PERMISSION)
        audit_call(c, err, message);
    log_call(c, m->path, err, message);
    stream_finish(c, err, message);
    atomic_fetch_sub(&c->server->active_streams, 1);
    call_unref(c);
    return NULL;
}

static void handle_stream(rpc_call *c)
{
    rpc_server *s = c->server;
    grpc_op op;
    pthread_t thread;
    pthread_attr_t attr;

    /* Learn about cancellation as soon as it happens. */
    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &c->close_cancelled;
    atomic_fetch_add(&c->refs, 1); /* held by the close tag */
    if (grpc_call_start_batch(c->call, &op, 1, &c->close_tag, NULL) != GRPC_CALL_OK) {
        atomic_fetch_sub(&c->refs, 1);
        c->closed = 1;
    }

    if (atomic_fetch_add(&s->active_streams, 1) >= s->options.max_streams) {
        atomic_fetch_sub(&s->active_streams, 1);
        clm_fail(CLM_ERR_NO_MEMORY, "too many streaming calls at once (limit %d); retry later",
                 s->options.max_streams);
        /* Finish from this thread without blocking: a unary-style reply batch. */
        grpc_op ops[2];
        grpc_slice details = grpc_slice_from_copied_string(clm_error_message());
        memset(ops, 0, sizeof(ops));
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[1].data.send_status_from_server.status = GRPC_STATUS_RESOURCE_EXHAUSTED;
        ops[1].data.send_status_from_server.status_details = &details;
        if (grpc_call_start_batch(c->call, ops, 2, &c->done_tag, NULL) != GRPC_CALL_OK)
            call_unref(c);
        grpc_slice_unref(details);
        return;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 512 * 1024);
    if (pthread_create(&thread, &attr, stream_thread, c) != 0) {
        atomic_fetch_sub(&s->active_streams, 1);
        CLM_LOG_ERROR("rpc.stream", "error", "cannot start a thread");
        grpc_call_cancel_with_status(c->call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                                     "cannot start a handler thread", NULL);
        call_unref(c);
    }
    pthread_attr_destroy(&attr);
}

/* ---- completion-queue threads ---- */

static void handle_unimplemented(rpc_call *c)
{
    grpc_op ops[3];
    char text[300];
    grpc_slice details;

    snprintf(text, sizeof(text), "method %.*s is not implemented by clmd",
             (int)GRPC_SLICE_LENGTH(c->details.method),
             (const char *)GRPC_SLICE_START_PTR(c->details.method));
    details = grpc_slice_from_copied_string(text);
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[1].data.send_status_from_server.status = GRPC_STATUS_UNIMPLEMENTED;
    ops[1].data.send_status_from_server.status_details = &details;
    ops[2].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[2].data.recv_close_on_server.cancelled = &c->close_cancelled;
    if (grpc_call_start_batch(c->call, ops, 3, &c->done_tag, NULL) != GRPC_CALL_OK)
        call_unref(c);
    grpc_slice_unref(details);
}

static void on_call_arrived(rpc_call *c, int ok)
{
    rpc_server *s = c->server;
    struct timespec ts;

    if (!ok) { /* the server is shutting down: the request was cancelled */
        c->call = NULL;
        call_free(c);
        return;
    }
    atomic_fetch_add(&s->active_calls, 1);
    rpc_request_call(s, c->entry, c->cq_index); /* keep one outstanding */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    c->started_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;

    if (c->entry == NULL) {
        handle_unimplemented(c);
        return;
    }
    if (identify_peer(c) != CLM_OK)
        c->peer.role = RPC_ROLE_NONE;
    if (c->entry->method->kind == RPC_UNARY)
        handle_unary(c);
    else
        handle_stream(c);
}

static void on_tag(rpc_server *s, rpc_tag *tag, int ok)
{
    rpc_call *c = tag->call;

    switch (tag->kind) {
    case TAG_REQUEST:
    case TAG_UNIMPLEMENTED:
        on_call_arrived(c, ok);
        break;
    case TAG_UNARY_DONE:
        call_unref(c);
        break;
    case TAG_STREAM_OP:
        pthread_mutex_lock(&c->lock);
        c->op_ok = ok;
        c->op_done = 1;
        pthread_cond_signal(&c->op_done_cond);
        pthread_mutex_unlock(&c->lock);
        break;
    case TAG_CLOSE:
        pthread_mutex_lock(&c->lock);
        c->closed = 1;
        pthread_mutex_unlock(&c->lock);
        rpc_server_wake_watchers(s);
        call_unref(c);
        break;
    case TAG_SHUTDOWN:
        pthread_mutex_lock(&s->state_lock);
        s->shutdown_done = 1;
        pthread_cond_broadcast(&s->state_cond);
        pthread_mutex_unlock(&s->state_lock);
        break;
    }
}

void *rpc_cq_thread(void *arg)
{
    rpc_server *s = ((cq_thread_arg *)arg)->server;
    int index = ((cq_thread_arg *)arg)->index;
    grpc_completion_queue *cq = s->cqs[index];

    free(arg);
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type == GRPC_OP_COMPLETE)
            on_tag(s, ev.tag, ev.success);
    }
    return NULL;
}


/* ---- accessors ---- */

const rpc_peer *rpc_call_peer(const rpc_call *c)
{
    return &c->peer;
}

const rpc_method *rpc_call_method(const rpc_call *c)
{
    return c->entry ? c->entry->method : NULL;
}

void *rpc_call_app(const rpc_call *c)
{
    return c->server->options.app;
}

rpc_server *rpc_call_server(const rpc_call *c)
{
    return c->server;
}

clm_arena *rpc_call_arena(rpc_call *c)
{
    return &c->arena;
}

int64_t rpc_call_deadline_ns(const rpc_call *c)
{
    gpr_timespec t = gpr_convert_clock_type(c->deadline, GPR_CLOCK_REALTIME);

    if (gpr_time_cmp(t, gpr_inf_future(GPR_CLOCK_REALTIME)) == 0 || t.tv_sec > INT64_MAX / 1000000000 - 1)
        return INT64_MAX;
    return t.tv_sec * 1000000000 + t.tv_nsec;
}

int rpc_call_cancelled(rpc_call *c)
{
    int cancelled;
    struct timespec ts;

    pthread_mutex_lock(&c->lock);
    cancelled = c->closed && c->close_cancelled;
    pthread_mutex_unlock(&c->lock);
    if (cancelled)
        return 1;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec >= rpc_call_deadline_ns(c);
}

uint64_t rpc_server_watch_generation(rpc_server *s)
{
    uint64_t generation;

    pthread_mutex_lock(&s->state_lock);
    generation = s->watch_generation;
    pthread_mutex_unlock(&s->state_lock);
    return generation;
}

int rpc_call_wait(rpc_call *c, uint64_t seen_generation, int64_t timeout_ns)
{
    rpc_server *s = c->server;
    struct timespec until;
    int stop;

    clock_gettime(CLOCK_REALTIME, &until);
    int64_t end = (int64_t)until.tv_sec * 1000000000 + until.tv_nsec + timeout_ns;
    if (end > rpc_call_deadline_ns(c))
        end = rpc_call_deadline_ns(c);
    until.tv_sec = end / 1000000000;
    until.tv_nsec = end % 1000000000;
    /* Check and wait under the lock that wakers take, so no wake-up is lost. */
    pthread_mutex_lock(&s->state_lock);
    stop = rpc_call_cancelled(c) || atomic_load(&s->draining);
    if (!stop && s->watch_generation == seen_generation)
        pthread_cond_timedwait(&s->watch_cond, &s->state_lock, &until);
    pthread_mutex_unlock(&s->state_lock);
    return stop || rpc_call_cancelled(c) || rpc_server_draining(s);
}

void rpc_call_set_audit_target(rpc_call *c, const char *target)
{
    snprintf(c->audit_target, sizeof(c->audit_target), "%s", target ? target : "");
}

const char *rpc_call_audit_target(const rpc_call *c)
{
    return c->audit_target;
}

void rpc_call_mark_audited(rpc_call *c)
{
    c->audited = 1;
}
