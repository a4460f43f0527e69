/*
 * appliance/rpc/listener.c: the server's life: creation, listeners (mutual-TLS TCP
 * and the Unix socket with SO_PEERCRED), start, graceful shutdown.
 */
#include <errno.h>
#include <fcntl.h>
#include <grpc/grpc.h>
#include <grpc/grpc_posix.h>
#include <grpc/grpc_security.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "appliance/rpc/server_internal.h"
#include "lib/base/log.h"

/* gRPC's own log lines become ours: key=value, and errors of gRPC internals (a failed
   handshake, a refused bind that we report ourselves) at warn, the rest at debug. */
static void grpc_log_to_clm(gpr_log_func_args *args)
{
    if (args->severity == GPR_LOG_SEVERITY_ERROR)
        CLM_LOG_WARN("grpc", "message", args->message, "source", args->file);
    else
        CLM_LOG_DEBUG("grpc", "message", args->message, "source", args->file);
}

clm_err rpc_server_new(const rpc_server_options *options, rpc_server **out)
{
    rpc_server *s;

    *out = NULL;
    if (options->tcp_address == NULL && options->unix_path == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "no listener: set a TCP address or a socket");
    if (options->tcp_address != NULL &&
        (options->tls_cert_pem == NULL || options->tls_key_pem == NULL ||
         options->client_ca_pem == NULL || options->identify_tls == NULL))
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "TCP needs a server certificate, key, client CA and identify_tls");
    if (options->unix_path != NULL && options->authorize_unix == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "a Unix socket needs authorize_unix");
    if (options->unix_path != NULL &&
        strlen(options->unix_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return clm_fail(CLM_ERR_CONFIG, "socket path '%s' is longer than %zu bytes",
                        options->unix_path, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    s->options = *options;
    if (s->options.threads <= 0)
        s->options.threads = 2;
    if (s->options.max_streams <= 0)
        s->options.max_streams = 64;
    if (s->options.max_message_bytes == 0)
        s->options.max_message_bytes = 4u << 20;
    s->unix_fd = -1;
    s->unix_wake[0] = s->unix_wake[1] = -1;
    pthread_mutex_init(&s->state_lock, NULL);
    pthread_cond_init(&s->state_cond, NULL);
    pthread_cond_init(&s->watch_cond, NULL);
    s->shutdown_tag = (rpc_tag){TAG_SHUTDOWN, NULL};
    *out = s;
    return CLM_OK;
}

clm_err rpc_server_add_methods(rpc_server *s, const rpc_method *methods, size_t count)
{
    method_entry *grown;

    for (size_t i = 0; i < count; i++) {
        for (size_t j = 0; j < s->nmethods; j++) {
            if (strcmp(s->methods[j].method->path, methods[i].path) == 0)
                return clm_fail(CLM_ERR_ALREADY_EXISTS, "method %s registered twice",
                                methods[i].path);
        }
        if ((methods[i].kind == RPC_UNARY) != (methods[i].unary != NULL) ||
            (methods[i].kind != RPC_UNARY) != (methods[i].stream != NULL))
            return clm_fail(CLM_ERR_INTERNAL, "method %s: handler does not match its kind",
                            methods[i].path);
    }
    grown = realloc(s->methods, (s->nmethods + count) * sizeof(*grown));
    if (grown == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    s->methods = grown;
    for (size_t i = 0; i < count; i++)
        s->methods[s->nmethods++] = (method_entry){&methods[i], NULL};
    return CLM_OK;
}

/* ---- Unix socket ---- */

static clm_err unix_listen(rpc_server *s)
{
    struct sockaddr_un addr;
    int fd;

    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", s->options.unix_path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return clm_fail(CLM_ERR_IO, "socket: %s", strerror(errno));
    /* A socket file left by a process that died: the data-directory lock, taken
       before the server starts, proves no live clmd uses it. */
    unlink(s->options.unix_path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        int e = errno;
        close(fd);
        return clm_fail(e == EADDRINUSE ? CLM_ERR_BUSY : CLM_ERR_IO, "bind %s: %s",
                        s->options.unix_path, strerror(e));
    }
    /* Everyone may connect; SO_PEERCRED then decides (authorize_unix). */
    chmod(s->options.unix_path, 0666);
    if (listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        return clm_fail(CLM_ERR_IO, "listen %s: %s", s->options.unix_path, strerror(e));
    }
    if (pipe2(s->unix_wake, O_CLOEXEC) != 0) {
        close(fd);
        return clm_fail(CLM_ERR_IO, "pipe: %s", strerror(errno));
    }
    s->unix_fd = fd;
    return CLM_OK;
}

static void unix_accept_one(rpc_server *s)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    rpc_peer peer;
    int fd = accept4(s->unix_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK); /* gRPC polls it */

    if (fd < 0)
        return;
    memset(&peer, 0, sizeof(peer));
    peer.transport = RPC_TRANSPORT_UNIX;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        CLM_LOG_WARN("rpc.unix.refused", "reason", strerror(errno));
        close(fd);
        return;
    }
    snprintf(peer.identity, sizeof(peer.identity), "uid:%u", (unsigned)cred.uid);
    if (s->options.authorize_unix(s->options.app, cred.uid, cred.gid, &peer) != CLM_OK ||
        peer.role == RPC_ROLE_NONE) {
        CLM_LOG_WARN("rpc.unix.refused", "peer", peer.identity, "pid", CLM_I64(cred.pid),
                     "reason", "uid not allowed (config: unix_roles)");
        close(fd);
        return;
    }
    if (!peer_table_set(&s->unix_peers, fd, &peer)) {
        close(fd);
        return;
    }
    grpc_server_credentials *insecure = grpc_insecure_server_credentials_create();
    grpc_server_add_channel_from_fd(s->grpc, fd, insecure);
    grpc_server_credentials_release(insecure);
}

static void *unix_accept_loop(void *arg)
{
    rpc_server *s = arg;
    struct pollfd fds[2] = {{s->unix_fd, POLLIN, 0}, {s->unix_wake[0], POLLIN, 0}};

    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[1].revents)
            break;
        if (fds[0].revents & POLLIN)
            unix_accept_one(s);
    }
    return NULL;
}

/* ---- start ---- */

static clm_err add_tls_port(rpc_server *s)
{
    grpc_ssl_pem_key_cert_pair pair = {s->options.tls_key_pem, s->options.tls_cert_pem};
    grpc_server_credentials *creds = grpc_ssl_server_credentials_create_ex(
        s->options.client_ca_pem, &pair, 1,
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY, NULL);

    if (creds == NULL)
        return clm_fail(CLM_ERR_CONFIG, "the server certificate or key cannot be used");
    s->tcp_port = grpc_server_add_http2_port(s->grpc, s->options.tcp_address, creds);
    grpc_server_credentials_release(creds);
    if (s->tcp_port == 0)
        return clm_fail(CLM_ERR_BUSY,
                        "cannot listen on %s: the address is in use by another process "
                        "(another clmd?) or is not local",
                        s->options.tcp_address);
    return CLM_OK;
}

clm_err rpc_server_start(rpc_server *s)
{
    grpc_arg args[3];
    grpc_channel_args channel_args = {3, args};
    clm_err err;

    args[0] = (grpc_arg){GRPC_ARG_INTEGER, GRPC_ARG_ALLOW_REUSEPORT, {.integer = 0}};
    args[1] = (grpc_arg){GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
                         {.integer = (int)s->options.max_message_bytes}};
    args[2] = (grpc_arg){GRPC_ARG_INTEGER, GRPC_ARG_MAX_SEND_MESSAGE_LENGTH,
                         {.integer = (int)s->options.max_message_bytes}};
    gpr_set_log_function(grpc_log_to_clm);
    grpc_init();
    err = peer_table_init(&s->unix_peers);
    if (err != CLM_OK)
        return err;
    s->grpc = grpc_server_create(&channel_args, NULL);
    s->nthreads = s->options.threads;
    s->cqs = calloc((size_t)s->nthreads, sizeof(*s->cqs));
    s->threads = calloc((size_t)s->nthreads, sizeof(*s->threads));
    if (s->cqs == NULL || s->threads == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    for (int i = 0; i < s->nthreads; i++) {
        s->cqs[i] = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(s->grpc, s->cqs[i], NULL);
    }
    for (size_t i = 0; i < s->nmethods; i++) {
        rpc_kind kind = s->methods[i].method->kind;
        s->methods[i].registered = grpc_server_register_method(
            s->grpc, s->methods[i].method->path, NULL,
            kind == RPC_UNARY || kind == RPC_SERVER_STREAMING
                ? GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER
                : GRPC_SRM_PAYLOAD_NONE,
            0);
    }
    if (s->options.tcp_address != NULL && (err = add_tls_port(s)) != CLM_OK)
        return err;
    if (s->options.unix_path != NULL && (err = unix_listen(s)) != CLM_OK)
        return err;
    grpc_server_start(s->grpc);
    s->started = 1;
    for (int i = 0; i < s->nthreads; i++) {
        for (size_t m = 0; m < s->nmethods; m++) {
            for (int k = 0; k < REQUESTS_PER_METHOD; k++)
                rpc_request_call(s, &s->methods[m], i);
        }
        rpc_request_call(s, NULL, i);
    }
    for (int i = 0; i < s->nthreads; i++) {
        cq_thread_arg *arg = malloc(sizeof(*arg));
        if (arg == NULL)
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        *arg = (cq_thread_arg){s, i};
        if (pthread_create(&s->threads[i], NULL, rpc_cq_thread, arg) != 0)
            return clm_fail(CLM_ERR_IO, "cannot start server threads");
    }
    if (s->unix_fd >= 0) {
        if (pthread_create(&s->unix_thread, NULL, unix_accept_loop, s) != 0)
            return clm_fail(CLM_ERR_IO, "cannot start the socket thread");
        s->unix_thread_started = 1;
    }
    return CLM_OK;
}

int rpc_server_tcp_port(const rpc_server *s)
{
    return s->tcp_port;
}

void rpc_server_wake_watchers(rpc_server *s)
{
    pthread_mutex_lock(&s->state_lock);
    s->watch_generation++;
    pthread_cond_broadcast(&s->watch_cond);
    pthread_mutex_unlock(&s->state_lock);
}

int rpc_server_draining(const rpc_server *s)
{
    return atomic_load(&((rpc_server *)s)->draining);
}

/* Wait on state_cond until pred holds or the monotonic deadline passes. */
static int wait_state(rpc_server *s, int (*pred)(rpc_server *), int64_t deadline_ns)
{
    struct timespec now;
    int ok;

    pthread_mutex_lock(&s->state_lock);
    for (;;) {
        if ((ok = pred(s)) != 0)
            break;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t left = deadline_ns - ((int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
        if (left <= 0)
            break;
        struct timespec until = {.tv_sec = (deadline_ns / 1000000000),
                                 .tv_nsec = deadline_ns % 1000000000};
        pthread_cond_timedwait(&s->state_cond, &s->state_lock, &until);
    }
    pthread_mutex_unlock(&s->state_lock);
    return ok;
}

static int shutdown_finished(rpc_server *s)
{
    return s->shutdown_done && atomic_load(&s->active_calls) == 0;
}

static int64_t realtime_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void rpc_server_shutdown(rpc_server *s, int64_t grace_ns)
{
    if (!s->started)
        return;
    pthread_mutex_lock(&s->state_lock); /* the lock rpc_call_wait checks under */
    atomic_store(&s->draining, 1);
    pthread_cond_broadcast(&s->watch_cond);
    pthread_mutex_unlock(&s->state_lock);
    if (s->unix_thread_started) {
        if (write(s->unix_wake[1], "x", 1) < 0)
            CLM_LOG_WARN("rpc.shutdown", "error", strerror(errno));
        pthread_join(s->unix_thread, NULL);
        s->unix_thread_started = 0;
    }
    grpc_server_shutdown_and_notify(s->grpc, s->cqs[0], &s->shutdown_tag);
    if (!wait_state(s, shutdown_finished, realtime_ns() + grace_ns)) {
        CLM_LOG_WARN("rpc.shutdown", "note", "grace period over; cancelling calls",
                     "calls", CLM_I64(atomic_load(&s->active_calls)));
        grpc_server_cancel_all_calls(s->grpc);
        wait_state(s, shutdown_finished, INT64_MAX);
    }
    for (int i = 0; i < s->nthreads; i++)
        grpc_completion_queue_shutdown(s->cqs[i]);
    for (int i = 0; i < s->nthreads; i++)
        pthread_join(s->threads[i], NULL);
    s->started = 0;
}

void rpc_server_free(rpc_server *s)
{
    if (s == NULL)
        return;
    if (s->grpc != NULL) {
        if (s->started)
            rpc_server_shutdown(s, 0);
        grpc_server_destroy(s->grpc);
    }
    for (int i = 0; s->cqs && i < s->nthreads; i++)
        grpc_completion_queue_destroy(s->cqs[i]);
    free(s->cqs);
    free(s->threads);
    free(s->methods);
    if (s->unix_fd >= 0)
        close(s->unix_fd);
    if (s->unix_wake[0] >= 0) {
        close(s->unix_wake[0]);
        close(s->unix_wake[1]);
    }
    peer_table_destroy(&s->unix_peers);
    pthread_mutex_destroy(&s->state_lock);
    pthread_cond_destroy(&s->state_cond);
    pthread_cond_destroy(&s->watch_cond);
    free(s);
    grpc_shutdown();
}
