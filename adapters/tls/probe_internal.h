/*
 * adapters/tls/probe_internal.h: the sweep's pieces, shared by probe.c (the loop, the
 * deadlines, the rate), probe_conn.c (one connection's state machine), probe_result.c
 * (what a finished handshake yields) and probe_context.c (the SSL_CTX and the socket
 * BIO). Not a public header.
 */
#ifndef CLM_ADAPTERS_TLS_PROBE_INTERNAL_H
#define CLM_ADAPTERS_TLS_PROBE_INTERNAL_H

#include "adapters/tls/probe.h"
#include "adapters/tls/starttls.h"
#include "lib/pki/chain.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdint.h>

typedef enum conn_phase {
    PHASE_IDLE = 0,  /* a free slot */
    PHASE_CONNECT,   /* TCP connect in progress */
    PHASE_STARTTLS,  /* plain-text exchange */
    PHASE_HANDSHAKE, /* SSL_connect */
} conn_phase;

typedef struct probe_sweep probe_sweep;

/** Most endpoint chains whose verification a loop remembers (probe_result.c). */
#define PROBE_VERIFY_CACHE 1024

typedef struct probe_verify_entry {
    unsigned char key[32]; /* SHA-256 over the served chain's DER, in order */
    bool used;
    bool ok;
    int code, depth;
    const char *error; /* in the report's arena */
} probe_verify_entry;

/** What the loops of one sweep share (one loop a thread; see probe.h). */
typedef struct probe_shared {
    const tls_endpoint_list *endpoints;
    const adapter_probe_options *options;
    adapter_probe_report *report;
    const clm_clock *clock; /* wall time (expiry, verification) */
    pki_trust *trust;       /* NULL with no_verify; read-only while loops run */
    bool threaded;          /* more than one loop: lock for the arena and callbacks */
    pthread_mutex_t lock;   /* the report's arena, on_result */
} probe_shared;

typedef struct probe_conn {
    probe_sweep *sweep;
    int fd;
    SSL *ssl;
    tls_starttls *starttls; /* SMTP, IMAP, POP3 only */
    size_t index;           /* the endpoint's, and its result's */
    conn_phase phase;
    uint32_t events;  /* registered with epoll */
    int64_t start_ns; /* monotonic */
    int64_t connected_ns;
    int64_t tls_start_ns;
    int64_t deadline_ns;
    size_t heap_pos; /* in sweep->heap */
    int io_errno;    /* the socket BIO's last error (0: none) */
    bool io_eof;     /* the socket BIO read end-of-file */
    struct probe_conn *next_free;
} probe_conn;

/** One event loop: a share of the endpoints (first, first + stride, ...). */
struct probe_sweep {
    probe_shared *shared;
    const tls_endpoint_list *endpoints; /* = shared's, for brevity */
    const adapter_probe_options *options;
    adapter_probe_report *report;
    const clm_clock *clock;
    pki_trust *trust;
    SSL_CTX *ctx; /* this loop's own */
    int epfd;
    probe_conn *conns;
    size_t n_conns;
    probe_conn *free_list;
    probe_conn **heap; /* min-heap on deadline_ns */
    size_t heap_len;
    size_t first, stride; /* this loop's endpoints */
    size_t count;         /* how many */
    size_t next;          /* started so far */
    size_t active;
    int64_t connect_timeout_ns;
    int64_t handshake_timeout_ns;
    double tokens; /* the rate's token bucket */
    double burst;
    double rate;
    int64_t refill_ns;
    probe_verify_entry *verify_cache; /* PROBE_VERIFY_CACHE entries */
    clm_err err;                      /* a loop's failure, reported by the calling thread */
    char message[CLM_ERROR_MESSAGE_MAX];
    pthread_t thread;
    bool started;
};

/* probe.c: the arena and callbacks, under the shared lock when threaded. */
void *probe_arena_alloc(probe_sweep *sweep, size_t size);
char *probe_arena_strdup(probe_sweep *sweep, const char *text);

/* probe.c: deadlines. */
void probe_heap_update(probe_sweep *sweep, probe_conn *conn, int64_t deadline_ns);
void probe_heap_remove(probe_sweep *sweep, probe_conn *conn);
int64_t probe_now_ns(void);

/* probe_conn.c */
/** Start endpoint index in conn (a free slot): a result may be final at once. */
void probe_conn_start(probe_sweep *sweep, probe_conn *conn, size_t index);
/** epoll reported events for conn. */
void probe_conn_event(probe_conn *conn, uint32_t events);
/** conn's deadline passed. */
void probe_conn_timeout(probe_conn *conn);
/** End conn with status and a printf reason; frees the slot. */
void probe_conn_finish(probe_conn *conn, adapter_probe_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* probe_result.c */
/**
 * @brief Fill the result of a completed handshake: version, cipher, chain DER, leaf
 * fingerprint, name match, verification, expiry.
 * @return CLM_OK; CLM_ERR_PARSE when the server sent no certificate (the caller makes
 *         it a handshake failure, message in clm_error_message()); CLM_ERR_NO_MEMORY.
 */
clm_err probe_result_fill(probe_sweep *sweep, probe_conn *conn, adapter_probe_result *result);

/** The reason a handshake failed, from the SSL error, the socket BIO and the queue. */
void probe_result_handshake_reason(probe_conn *conn, int ssl_error, char *out, size_t size);

/* probe_context.c */
/** The probe's SSL_CTX (see probe.h for its settings). @return CLM_OK or CLM_ERR_CRYPTO. */
clm_err probe_context_new(SSL_CTX **out);
/** A BIO on conn->fd that sends with MSG_NOSIGNAL and records errno and EOF in conn. */
BIO *probe_bio_new(probe_conn *conn);

#endif
