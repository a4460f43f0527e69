/*
 * tools/clmctl/client.h: a small blocking gRPC client on the C core, for clmctl and
 * the tests and benchmarks written in C.
 *
 * Every call is a stream under the hood (a unary call is a stream of one request and
 * one reply), so one code path serves the four method kinds. On failure the clm_err
 * is CLM_ERR_UNAVAILABLE for transport trouble or the mapping of the gRPC status, and
 * the thread's error message reads "STATUS_NAME: server message".
 *
 * Thread rules: a client may be shared by threads; a client_stream belongs to one.
 */
#ifndef CLM_TOOLS_CLMCTL_CLIENT_H
#define CLM_TOOLS_CLMCTL_CLIENT_H

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#include "lib/base/error.h"

typedef struct client_options {
    const char *unix_path; /* connect to this socket, or ... */
    const char *address;   /* ... host:port with mutual TLS */
    const char *ca_pem;    /* with address: CA that signed the server certificate */
    const char *cert_pem;  /* with address: client certificate */
    const char *key_pem;   /* with address: client key */
    int64_t timeout_ms;    /* per call; 0: 30 s */
} client_options;

typedef struct clm_client clm_client;
typedef struct client_stream client_stream;

/** @return CLM_OK; CLM_ERR_INVALID_ARGUMENT for incomplete options. No I/O happens yet. */
clm_err client_new(const client_options *options, clm_client **client);
void client_free(clm_client *client);

/** The gRPC status code of the last failed call on this thread (0 when none). */
int client_last_status(void);
/** Name of a gRPC status code ("PERMISSION_DENIED"). */
const char *client_status_name(int code);

/**
 * @brief Start a call to `path` ("/pkg.Service/Method").
 * @return CLM_OK; CLM_ERR_NO_MEMORY.
 */
clm_err client_stream_open(clm_client *client, const char *path, client_stream **stream);

/** Send one message. @return CLM_OK; CLM_ERR_UNAVAILABLE when the call is gone. */
clm_err client_stream_send(client_stream *stream, const ProtobufCMessage *message);

/** Half-close: no more messages from this side. */
clm_err client_stream_close_send(client_stream *stream);

/**
 * @brief Receive the next reply as `type`, or NULL at the end of the stream (then the
 * status is known: see client_stream_finish). Free replies with
 * protobuf_c_message_free_unpacked(msg, NULL).
 * @return CLM_OK; CLM_ERR_PARSE when a reply does not decode.
 */
clm_err client_stream_recv(client_stream *stream, const ProtobufCMessageDescriptor *type,
                           ProtobufCMessage **message);

/**
 * @brief Wait for the final status and free the stream.
 * @return CLM_OK for status OK, else the mapped error with "STATUS: message".
 */
clm_err client_stream_finish(client_stream *stream);

/**
 * @brief One request, one reply.
 * @param[out] reply allocated with the default allocator; free_unpacked it.
 */
clm_err client_unary(clm_client *client, const char *path, const ProtobufCMessage *request,
                     const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply);

#endif
