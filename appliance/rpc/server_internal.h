/*
 * appliance/rpc/server_internal.h: what server.c (calls) and listener.c (server
 * lifetime, listeners) share. Not for use outside appliance/rpc/.
 */
#ifndef CLM_APPLIANCE_RPC_SERVER_INTERNAL_H
#define CLM_APPLIANCE_RPC_SERVER_INTERNAL_H

#include <grpc/grpc.h>
#include <pthread.h>
#include <stdatomic.h>

#include "appliance/rpc/peer_table.h"
#include "appliance/rpc/rpc.h"

#define REQUESTS_PER_METHOD 2

typedef enum tag_kind {
    TAG_REQUEST = 1,   /* a registered call arrived (or the request was cancelled) */
    TAG_UNIMPLEMENTED, /* an unregistered call arrived */
    TAG_UNARY_DONE,    /* the unary reply batch completed */
    TAG_STREAM_OP,     /* a batch of a streaming handler completed */
    TAG_CLOSE,         /* RECV_CLOSE_ON_SERVER of a streaming call completed */
    TAG_SHUTDOWN       /* grpc_server_shutdown_and_notify completed */
} tag_kind;

typedef struct rpc_tag {
    tag_kind kind;
    rpc_call *call;
} rpc_tag;

typedef struct method_entry {
    const rpc_method *method;
    void *registered; /* grpc_server_register_method handle */
} method_entry;

struct rpc_call {
    rpc_server *server;
    const method_entry *entry; /* NULL for the unimplemented catch-all */
    int cq_index;
    grpc_call *call;
    gpr_timespec deadline;
    grpc_byte_buffer *payload;
    grpc_metadata_array request_metadata;
    grpc_call_details details; /* unimplemented catch-all only */
    clm_arena arena;
    rpc_peer peer;
    int64_t started_ns;

    rpc_tag request_tag;
    rpc_tag done_tag;
    rpc_tag op_tag;
    rpc_tag close_tag;

    /* streaming state, guarded by lock */
    pthread_mutex_t lock;
    pthread_cond_t op_done_cond;
    int op_done;
    int op_ok;
    int closed;        /* RECV_CLOSE_ON_SERVER completed */
    int close_cancelled;
    int initial_metadata_sent;
    atomic_int refs;

    int audited;
    char audit_target[256];

    /* unary calls: set by rpc_call_defer; the response the handler fills */
    int deferred;
    ProtobufCMessage *response;
};

struct rpc_server {
    rpc_server_options options;
    grpc_server *grpc;
    grpc_completion_queue **cqs;
    pthread_t *threads;
    int nthreads;
    method_entry *methods;
    size_t nmethods;
    int tcp_port;
    int started;

    /* Unix socket listener */
    int unix_fd;
    int unix_wake[2];
    pthread_t unix_thread;
    int unix_thread_started;
    peer_table unix_peers;

    atomic_int draining;
    atomic_int active_calls;   /* accepted calls not yet freed */
    atomic_int active_streams; /* streaming handler threads */
    pthread_mutex_t state_lock;
    pthread_cond_t state_cond;   /* active_calls reached 0, or shutdown tag */
    pthread_cond_t watch_cond;   /* rpc_server_wake_watchers */
    uint64_t watch_generation;   /* bumped by every wake, under state_lock */
    int shutdown_done;
    rpc_tag shutdown_tag;
};

typedef struct cq_thread_arg {
    rpc_server *server;
    int index;
} cq_thread_arg;

/** Keep a request outstanding for `entry` (NULL: the unimplemented catch-all). */
void rpc_request_call(rpc_server *s, const method_entry *entry, int cq_index);

/** Body of a completion-queue thread; arg is a malloc'd cq_thread_arg it frees. */
void *rpc_cq_thread(void *arg);

#endif
