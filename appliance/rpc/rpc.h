/*
 * appliance/rpc/rpc.h: clmd's gRPC server on the gRPC C core.
 *
 * Services are tables of rpc_method rows (path, streaming kind, roles allowed,
 * protobuf-c request/response descriptors, handler). The server decodes requests,
 * checks the caller's role, calls the handler, encodes the reply and turns a clm_err
 * into a gRPC status: this file and server.c are the only place where gRPC status
 * codes exist (DESIGN.md).
 *
 * Caveats (threads and memory):
 * - Unary handlers run on a completion-queue thread and must not block for long
 *   (no key generation, no network): long work is a job. A handler whose reply waits
 *   for another thread's work defers it (rpc_call_defer, rpc_call_finish).
 * - Streaming handlers (server, client, bidi) run on a thread of their own and may
 *   block in rpc_call_send/rpc_call_recv/rpc_call_wait. At most
 *   options.max_streams run at once; beyond that callers get RESOURCE_EXHAUSTED.
 * - All memory of a call (the decoded request, everything the handler puts in the
 *   response) comes from the call's arena (rpc_call_arena) and is released when the
 *   call ends. A handler never frees message fields.
 * - A handler reports failure by returning a clm_err after clm_fail(): the message
 *   becomes the gRPC status message, so it must name the bad field and never hold a
 *   secret.
 */
#ifndef CLM_APPLIANCE_RPC_RPC_H
#define CLM_APPLIANCE_RPC_RPC_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/base/arena.h"
#include "lib/base/error.h"

/** Roles; the values equal clm.v1.Role. */
typedef enum rpc_role {
    RPC_ROLE_NONE = 0,
    RPC_ROLE_VIEWER = 1,
    RPC_ROLE_AUDITOR = 2,
    RPC_ROLE_APPROVER = 3,
    RPC_ROLE_OPERATOR = 4,
    RPC_ROLE_ADMIN = 5,
    RPC_ROLE_MAX
} rpc_role;

#define RPC_ROLE_BIT(role) (1u << (role))
#define RPC_ROLES_ANY                                                                    \
    (RPC_ROLE_BIT(RPC_ROLE_VIEWER) | RPC_ROLE_BIT(RPC_ROLE_AUDITOR) |                    \
     RPC_ROLE_BIT(RPC_ROLE_APPROVER) | RPC_ROLE_BIT(RPC_ROLE_OPERATOR) |                 \
     RPC_ROLE_BIT(RPC_ROLE_ADMIN))

/** "viewer", "auditor", ...; "none" for RPC_ROLE_NONE. */
const char *rpc_role_name(rpc_role role);
/** Parse a role name. @return CLM_OK or CLM_ERR_INVALID_ARGUMENT. */
clm_err rpc_role_parse(const char *name, rpc_role *role);

typedef enum rpc_transport { RPC_TRANSPORT_UNIX = 0, RPC_TRANSPORT_TLS } rpc_transport;

/** Who is calling. */
typedef struct rpc_peer {
    rpc_role role;
    rpc_transport transport;
    char identity[256]; /* "uid:1000" or the certificate subject (RFC 2253) */
} rpc_peer;

typedef enum rpc_kind {
    RPC_UNARY = 0,
    RPC_SERVER_STREAMING,
    RPC_CLIENT_STREAMING,
    RPC_BIDI_STREAMING
} rpc_kind;

typedef struct rpc_call rpc_call;
typedef struct rpc_server rpc_server;

/**
 * A unary handler. `response` is allocated and initialised by the server; the
 * handler fills it (arena memory). Return CLM_OK to send it, or an error.
 */
typedef clm_err (*rpc_unary_handler)(rpc_call *call, const ProtobufCMessage *request,
                                     ProtobufCMessage *response);

/**
 * A streaming handler. For server streaming, `request` is the one request; for
 * client and bidi streaming it is NULL and messages come from rpc_call_recv.
 * Replies go out with rpc_call_send. The return value becomes the final status.
 */
typedef clm_err (*rpc_stream_handler)(rpc_call *call, const ProtobufCMessage *request);

/** One row of a service table. */
typedef struct rpc_method {
    const char *path;  /* MUST: "/package.Service/Method" */
    rpc_kind kind;     /* MUST */
    unsigned roles;    /* MUST: RPC_ROLE_BIT()s allowed; 0 refuses everyone */
    int audited;       /* MAY: 1 for methods that change state (audit entry per call) */
    const ProtobufCMessageDescriptor *request_type;  /* MUST */
    const ProtobufCMessageDescriptor *response_type; /* MUST */
    rpc_unary_handler unary;   /* MUST for RPC_UNARY, else NULL */
    rpc_stream_handler stream; /* MUST for the streaming kinds, else NULL */
} rpc_method;

/* ---- what a handler may ask of its call ---- */

const rpc_peer *rpc_call_peer(const rpc_call *call);
const rpc_method *rpc_call_method(const rpc_call *call);
/** The `app` pointer given in rpc_server_options. */
void *rpc_call_app(const rpc_call *call);
rpc_server *rpc_call_server(const rpc_call *call);
/** The call's arena; lives until the call ends. */
clm_arena *rpc_call_arena(rpc_call *call);
/** The deadline as nanoseconds since the epoch; INT64_MAX when the client set none. */
int64_t rpc_call_deadline_ns(const rpc_call *call);
/** 1 when the client cancelled, the deadline passed, or the server is stopping hard. */
int rpc_call_cancelled(rpc_call *call);

/**
 * @brief Send one message on a streaming call (blocks until gRPC took it).
 * @return CLM_OK; CLM_ERR_CANCELLED when the call is gone (the handler should
 *         return); CLM_ERR_INTERNAL if the message cannot be encoded.
 */
clm_err rpc_call_send(rpc_call *call, const ProtobufCMessage *message);

/**
 * @brief Receive the next message of a client or bidi stream into the arena.
 * @param[out] message the decoded message, or NULL at the end of the stream.
 * @return CLM_OK (also at the end); CLM_ERR_CANCELLED; CLM_ERR_INVALID_ARGUMENT when
 *         the message does not decode as the method's request type.
 */
clm_err rpc_call_recv(rpc_call *call, ProtobufCMessage **message);

/**
 * @brief As rpc_call_recv(), but the message lives in `arena` (the caller's), so a long
 * stream can release each message when done with it instead of holding every one in
 * the call's arena until the call ends.
 */
clm_err rpc_call_recv_into(rpc_call *call, clm_arena *arena, ProtobufCMessage **message);

/**
 * @brief Sleep until rpc_server_wake_watchers() is called, the call is cancelled,
 * the server starts draining, or timeout_ns passes. For watch loops, without lost
 * wake-ups: read rpc_server_watch_generation() BEFORE looking at the watched state,
 * then pass it here; a wake that happened in between makes this return at once.
 * @return 1 if the handler should stop (cancelled or draining), else 0.
 */
int rpc_call_wait(rpc_call *call, uint64_t seen_generation, int64_t timeout_ns);

/** The count of rpc_server_wake_watchers() calls so far (see rpc_call_wait). */
uint64_t rpc_server_watch_generation(rpc_server *server);

/** What an audited call acted on ("log-level", a fingerprint, ...); copied. */
void rpc_call_set_audit_target(rpc_call *call, const char *target);
const char *rpc_call_audit_target(const rpc_call *call);
/**
 * Tell the server that the handler wrote this call's audit entry itself, inside
 * its own write transaction; the server then does not append another.
 */
void rpc_call_mark_audited(rpc_call *call);

/**
 * @brief From a unary handler: the reply comes later, from rpc_call_finish(), so that
 * the completion-queue thread is free meanwhile (group commit of imports).
 * Call it BEFORE handing the call to another thread. Afterwards the handler's return
 * value is ignored (return CLM_OK), and the call, its arena, request and response stay
 * alive until rpc_call_finish().
 */
void rpc_call_defer(rpc_call *call);

/**
 * @brief Finish a deferred unary call: audit it (unless marked audited), log it and send
 * the response the handler was given (err CLM_OK) or the status of `err` with `message`
 * (NULL or "": clm_strerror(err)). Exactly once per deferred call, from any thread (also
 * from the handler before it returns). The call is dead afterwards.
 */
void rpc_call_finish(rpc_call *call, clm_err err, const char *message);

/* ---- the server ---- */

typedef struct rpc_server_options {
    const char *tcp_address;   /* MAY: "host:port" for mutual TLS; NULL: no TCP */
    const char *tls_cert_pem;  /* MUST with tcp_address: server certificate chain */
    const char *tls_key_pem;   /* MUST with tcp_address */
    const char *client_ca_pem; /* MUST with tcp_address: CA that signs client certs */
    const char *unix_path;     /* MAY: Unix socket path; NULL: none */
    int threads;               /* completion-queue threads; 0: 2 */
    int max_streams;           /* concurrent streaming handlers; 0: 64 */
    size_t max_message_bytes;  /* receive and send limit; 0: 4 MiB */
    void *app;                 /* handed to handlers via rpc_call_app */

    /**
     * MUST with unix_path: decide whether a local peer may connect and its role.
     * Return CLM_ERR_PERMISSION to refuse the connection. Called on the accept thread.
     */
    clm_err (*authorize_unix)(void *app, uid_t uid, gid_t gid, rpc_peer *peer);

    /**
     * MUST with tcp_address: give the role of a verified client certificate from its
     * subject (RFC 2253, as gRPC reports it). RPC_ROLE_NONE refuses every method.
     * Called on completion-queue threads; must be fast and thread-safe.
     */
    void (*identify_tls)(void *app, const char *subject, rpc_peer *peer);

    /**
     * MAY: called once per audited call that the handler did not mark audited, and
     * for every call refused for its role, with the result and status message.
     */
    void (*audit)(void *app, rpc_call *call, clm_err result, const char *message);
} rpc_server_options;

/**
 * @brief Create a server (not yet listening).
 * @return CLM_OK; CLM_ERR_INVALID_ARGUMENT for inconsistent options.
 */
clm_err rpc_server_new(const rpc_server_options *options, rpc_server **server);

/**
 * @brief Add a service's methods; before rpc_server_start. The table must outlive
 * the server. @return CLM_ERR_ALREADY_EXISTS when a path is registered twice.
 */
clm_err rpc_server_add_methods(rpc_server *server, const rpc_method *methods, size_t count);

/**
 * @brief Bind the listeners and start serving.
 * @return CLM_OK; CLM_ERR_BUSY when the TCP port or the socket is in use;
 *         CLM_ERR_IO or CLM_ERR_CONFIG with the reason otherwise.
 */
clm_err rpc_server_start(rpc_server *server);

/** The TCP port bound (useful when the address asked for port 0); 0 if none. */
int rpc_server_tcp_port(const rpc_server *server);

/** Wake every rpc_call_wait()er (a watched state changed). Any thread. */
void rpc_server_wake_watchers(rpc_server *server);

/** 1 once rpc_server_shutdown has begun. */
int rpc_server_draining(const rpc_server *server);

/**
 * @brief Stop accepting, let in-flight calls finish for up to grace_ns, then cancel
 * what is left and wait for every handler to return. Blocks. Call once.
 */
void rpc_server_shutdown(rpc_server *server, int64_t grace_ns);

/** Free a server that was shut down or never started. NULL is fine. */
void rpc_server_free(rpc_server *server);

#endif
