/* adapters/ca/acme/http01.c: the http-01 solver: responder and webroot (http01.h). */
#include "adapters/ca/acme/http01.h"

#include "adapters/ca/acme/solver.h"
#include "adapters/ca/fields.h"
#include "lib/base/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RESPONDER_MAX_CONNECTIONS 256
#define RESPONDER_REQUEST_MAX 8192
#define RESPONDER_IDLE_NS (10 * 1000000000LL)
#define CHALLENGE_PREFIX "/.well-known/acme-challenge/"

typedef struct token_entry {
    char *token;
    char *key_authorization;
} token_entry;

typedef struct connection {
    int fd;
    int64_t started_ns;
    http_parser parser;
    char url[512];
    size_t url_len;
    bool url_too_long, complete;
    size_t received;
    char *reply; /* while writing */
    size_t reply_len, reply_off;
} connection;

struct acme_http01_responder {
    char *address;
    int refs; /* under responders_lock */
    int listen_fd;
    int wake[2];
    pthread_t thread;
    pthread_mutex_t lock; /* guards the tokens */
    token_entry *tokens;
    size_t n_tokens, cap_tokens;
    acme_http01_responder *next;
};

static pthread_mutex_t responders_lock = PTHREAD_MUTEX_INITIALIZER;
static acme_http01_responder *responders;

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- the token table ---- */

clm_err acme_http01_responder_put(acme_http01_responder *r, const char *token,
                                  const char *key_authorization)
{
    char *t = strdup(token), *k = strdup(key_authorization);

    if (t == NULL || k == NULL) {
        free(t);
        free(k);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n_tokens; i++) {
        if (strcmp(r->tokens[i].token, token) == 0) {
            free(r->tokens[i].key_authorization);
            r->tokens[i].key_authorization = k;
            pthread_mutex_unlock(&r->lock);
            free(t);
            return CLM_OK;
        }
    }
    if (r->n_tokens == r->cap_tokens) {
        size_t cap = r->cap_tokens ? r->cap_tokens * 2 : 16;
        token_entry *grown = realloc(r->tokens, cap * sizeof *grown);
        if (grown == NULL) {
            pthread_mutex_unlock(&r->lock);
            free(t);
            free(k);
            return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
        }
        r->tokens = grown;
        r->cap_tokens = cap;
    }
    r->tokens[r->n_tokens].token = t;
    r->tokens[r->n_tokens].key_authorization = k;
    r->n_tokens++;
    pthread_mutex_unlock(&r->lock);
    return CLM_OK;
}

void acme_http01_responder_remove(acme_http01_responder *r, const char *token)
{
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n_tokens; i++) {
        if (strcmp(r->tokens[i].token, token) == 0) {
            free(r->tokens[i].token);
            free(r->tokens[i].key_authorization);
            r->tokens[i] = r->tokens[--r->n_tokens];
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
}

/* The answer for a path, malloc'd; NULL when not presented. */
static char *lookup(acme_http01_responder *r, const char *path, size_t len)
{
    size_t prefix = strlen(CHALLENGE_PREFIX);
    char *answer = NULL;

    if (len <= prefix || strncmp(path, CHALLENGE_PREFIX, prefix) != 0)
        return NULL;
    path += prefix;
    len -= prefix;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n_tokens; i++) {
        if (strlen(r->tokens[i].token) == len && memcmp(r->tokens[i].token, path, len) == 0) {
            answer = strdup(r->tokens[i].key_authorization);
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return answer;
}

/* ---- the server ---- */

static int on_url(http_parser *p, const char *at, size_t len)
{
    connection *c = p->data;

    if (c->url_len + len >= sizeof c->url) {
        c->url_too_long = true;
        return 0;
    }
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    c->url[c->url_len] = '\0';
    return 0;
}

static int on_message_complete(http_parser *p)
{
    ((connection *)p->data)->complete = true;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_url = on_url,
    .on_message_complete = on_message_complete,
};

static void connection_close(connection *c)
{
    close(c->fd);
    free(c->reply);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

static void make_reply(acme_http01_responder *r, connection *c, bool parse_error)
{
    struct http_parser_url u;
    char *answer = NULL;
    int method = c->parser.method;
    bool head = method == HTTP_HEAD;
    int status = 404;
    const char *reason = "Not Found";
    size_t body_len;
    char header[256];
    int n;

    if (parse_error || c->url_too_long) {
        status = 400;
        reason = "Bad Request";
    } else if (method != HTTP_GET && method != HTTP_HEAD) {
        status = 405;
        reason = "Method Not Allowed";
    } else {
        http_parser_url_init(&u);
        if (http_parser_parse_url(c->url, c->url_len, 0, &u) == 0 && (u.field_set & (1 << UF_PATH)))
            answer = lookup(r, c->url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
        if (answer != NULL) {
            status = 200;
            reason = "OK";
        }
    }
    body_len = answer ? strlen(answer) : 0;
    n = snprintf(header, sizeof header,
                 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n",
                 status, reason, body_len);
    c->reply_len = (size_t)n + (head ? 0 : body_len);
    c->reply = malloc(c->reply_len + 1);
    if (c->reply == NULL) {
        c->reply_len = 0;
    } else {
        memcpy(c->reply, header, (size_t)n);
        if (!head && body_len)
            memcpy(c->reply + n, answer, body_len);
    }
    c->reply_off = 0;
    free(answer);
}

static void connection_read(acme_http01_responder *r, connection *c)
{
    char buf[2048];
    ssize_t got = recv(c->fd, buf, sizeof buf, 0);
    size_t used;

    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (got <= 0) {
        connection_close(c);
        return;
    }
    c->received += (size_t)got;
    used = http_parser_execute(&c->parser, &parser_settings, buf, (size_t)got);
    if (c->complete) {
        make_reply(r, c, false);
    } else if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK || used != (size_t)got ||
               c->received > RESPONDER_REQUEST_MAX) {
        make_reply(r, c, true);
    }
}

static void connection_write(connection *c)
{
    ssize_t sent = send(c->fd, c->reply + c->reply_off, c->reply_len - c->reply_off, MSG_NOSIGNAL);

    if (sent < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (sent <= 0) {
        connection_close(c);
        return;
    }
    c->reply_off += (size_t)sent;
    if (c->reply_off == c->reply_len) {
        shutdown(c->fd, SHUT_WR);
        connection_close(c);
    }
}

static void *responder_main(void *arg)
{
    acme_http01_responder *r = arg;
    connection *conns = calloc(RESPONDER_MAX_CONNECTIONS, sizeof *conns);
    struct pollfd *fds = calloc(RESPONDER_MAX_CONNECTIONS + 2, sizeof *fds);
    size_t map[RESPONDER_MAX_CONNECTIONS];

    if (conns == NULL || fds == NULL) {
        free(conns);
        free(fds);
        return NULL;
    }
    for (size_t i = 0; i < RESPONDER_MAX_CONNECTIONS; i++)
        conns[i].fd = -1;
    for (;;) {
        size_t nfds = 2, free_slot = RESPONDER_MAX_CONNECTIONS;
        int64_t now = now_ns();

        fds[0] = (struct pollfd){.fd = r->wake[0], .events = POLLIN};
        fds[1] = (struct pollfd){.fd = r->listen_fd, .events = POLLIN};
        for (size_t i = 0; i < RESPONDER_MAX_CONNECTIONS; i++) {
            if (conns[i].fd < 0) {
                if (free_slot == RESPONDER_MAX_CONNECTIONS)
                    free_slot = i;
                continue;
            }
            if (now - conns[i].started_ns > RESPONDER_IDLE_NS) {
                connection_close(&conns[i]);
                continue;
            }
            map[nfds - 2] = i;
            fds[nfds++] = (struct pollfd){.fd = conns[i].fd,
                                          .events = conns[i].reply ? POLLOUT : POLLIN};
        }
        if (free_slot == RESPONDER_MAX_CONNECTIONS)
            fds[1].events = 0; /* full: leave new connections in the backlog */
        if (poll(fds, nfds, 1000) < 0 && errno != EINTR)
            break;
        if (fds[0].revents)
            break;
        for (size_t k = 2; k < nfds; k++) {
            connection *c = &conns[map[k - 2]];
            if (fds[k].revents == 0 || c->fd < 0)
                continue;
            if (c->reply != NULL)
                connection_write(c);
            else
                connection_read(r, c);
            if (c->fd >= 0 && c->reply != NULL && c->reply_off == 0)
                connection_write(c);
        }
        if ((fds[1].revents & POLLIN) && free_slot < RESPONDER_MAX_CONNECTIONS) {
            int fd = accept4(r->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                connection *c = &conns[free_slot];
                memset(c, 0, sizeof *c);
                c->fd = fd;
                c->started_ns = now_ns();
                http_parser_init(&c->parser, HTTP_REQUEST);
                c->parser.data = c;
            }
        }
    }
    for (size_t i = 0; i < RESPONDER_MAX_CONNECTIONS; i++)
        if (conns[i].fd >= 0)
            connection_close(&conns[i]);
    free(conns);
    free(fds);
    return NULL;
}

/* "1.2.3.4:80" or "[::1]:80" */
static clm_err parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[64];
    const char *colon, *port_text;
    char *end;
    long port;
    size_t host_len;

    memset(ss, 0, sizeof *ss);
    if (text[0] == '[') {
        const char *close_bracket = strchr(text, ']');
        if (close_bracket == NULL || close_bracket[1] != ':')
            goto bad;
        host_len = (size_t)(close_bracket - text - 1);
        if (host_len == 0 || host_len >= sizeof host)
            goto bad;
        memcpy(host, text + 1, host_len);
        port_text = close_bracket + 2;
    } else {
        colon = strrchr(text, ':');
        if (colon == NULL)
            goto bad;
        host_len = (size_t)(colon - text);
        if (host_len == 0 || host_len >= sizeof host)
            goto bad;
        memcpy(host, text, host_len);
        port_text = colon + 1;
    }
    host[host_len] = '\0';
    errno = 0;
    port = strtol(port_text, &end, 10);
    if (errno != 0 || *port_text == '\0' || *end != '\0' || port < 1 || port > 65535)
        goto bad;
    if (text[0] == '[') {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            goto bad;
        *len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            goto bad;
        *len = sizeof *a;
    }
    return CLM_OK;
bad:
    return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                    "fields.http01_listen: \"%.64s\" is not ADDRESS:PORT (\"127.0.0.1:5002\", "
                    "\"[::1]:80\")",
                    text);
}

clm_err acme_http01_responder_acquire(const char *listen_text, acme_http01_responder **out)
{
    struct sockaddr_storage ss;
    socklen_t ss_len = 0;
    acme_http01_responder *r;
    int one = 1;
    clm_err err;

    *out = NULL;
    if ((err = parse_listen(listen_text, &ss, &ss_len)) != CLM_OK)
        return err;
    pthread_mutex_lock(&responders_lock);
    for (r = responders; r != NULL; r = r->next) {
        if (strcmp(r->address, listen_text) == 0) {
            r->refs++;
            pthread_mutex_unlock(&responders_lock);
            *out = r;
            return CLM_OK;
        }
    }
    r = calloc(1, sizeof *r);
    if (r == NULL || (r->address = strdup(listen_text)) == NULL) {
        free(r);
        pthread_mutex_unlock(&responders_lock);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    r->wake[0] = r->wake[1] = -1;
    r->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (r->listen_fd < 0 ||
        setsockopt(r->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(r->listen_fd, (struct sockaddr *)&ss, ss_len) != 0 || listen(r->listen_fd, 512) != 0) {
        err = clm_fail(CLM_ERR_IO, "fields.http01_listen: cannot listen on %s: %s", listen_text,
                       strerror(errno));
        goto fail;
    }
    if (pipe2(r->wake, O_CLOEXEC) != 0) {
        err = clm_fail(CLM_ERR_IO, "http-01 responder: pipe: %s", strerror(errno));
        goto fail;
    }
    pthread_mutex_init(&r->lock, NULL);
    if (pthread_create(&r->thread, NULL, responder_main, r) != 0) {
        pthread_mutex_destroy(&r->lock);
        err = clm_fail(CLM_ERR_IO, "http-01 responder: cannot start its thread");
        goto fail;
    }
    r->refs = 1;
    r->next = responders;
    responders = r;
    pthread_mutex_unlock(&responders_lock);
    CLM_LOG_INFO("acme_http01_listen", "address", listen_text);
    *out = r;
    return CLM_OK;
fail:
    if (r->listen_fd >= 0)
        close(r->listen_fd);
    if (r->wake[0] >= 0) {
        close(r->wake[0]);
        close(r->wake[1]);
    }
    free(r->address);
    free(r);
    pthread_mutex_unlock(&responders_lock);
    return err;
}

void acme_http01_responder_release(acme_http01_responder *r)
{
    acme_http01_responder **p;

    if (r == NULL)
        return;
    pthread_mutex_lock(&responders_lock);
    if (--r->refs > 0) {
        pthread_mutex_unlock(&responders_lock);
        return;
    }
    for (p = &responders; *p != NULL; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            break;
        }
    }
    pthread_mutex_unlock(&responders_lock);
    (void)!write(r->wake[1], "x", 1);
    pthread_join(r->thread, NULL);
    close(r->listen_fd);
    close(r->wake[0]);
    close(r->wake[1]);
    for (size_t i = 0; i < r->n_tokens; i++) {
        free(r->tokens[i].token);
        free(r->tokens[i].key_authorization);
    }
    free(r->tokens);
    pthread_mutex_destroy(&r->lock);
    free(r->address);
    free(r);
}

/* ---- the solver ---- */

typedef struct http01_ctx {
    acme_http01_responder *responder; /* NULL without http01_listen */
    char *webroot;                    /* NULL without http01_webroot */
} http01_ctx;

static clm_err make_dir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return CLM_OK;
    return clm_fail(CLM_ERR_CONFIG, "fields.http01_webroot: cannot make %s: %s", path,
                    strerror(errno));
}

static clm_err webroot_write(const char *webroot, const char *token, const char *key_auth)
{
    char dir[4096], tmp[4200], path[4200];
    size_t len = strlen(key_auth);
    int fd;
    clm_err err;

    snprintf(dir, sizeof dir, "%s/.well-known", webroot);
    if ((err = make_dir(dir)) != CLM_OK)
        return err;
    snprintf(dir, sizeof dir, "%s/.well-known/acme-challenge", webroot);
    if ((err = make_dir(dir)) != CLM_OK)
        return err;
    snprintf(path, sizeof path, "%s/%s", dir, token);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, token);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return clm_fail(CLM_ERR_CONFIG, "fields.http01_webroot: cannot write in %s: %s", dir,
                        strerror(errno));
    if (write(fd, key_auth, len) != (ssize_t)len || fchmod(fd, 0644) != 0 || close(fd) != 0) {
        unlink(tmp);
        return clm_fail(CLM_ERR_CONFIG, "fields.http01_webroot: cannot write in %s: %s", dir,
                        strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return clm_fail(CLM_ERR_CONFIG, "fields.http01_webroot: cannot rename in %s: %s", dir,
                        strerror(errno));
    }
    return CLM_OK;
}

static clm_err http01_present(void *ctx, const char *domain, const char *token,
                              const char *key_authorization)
{
    http01_ctx *h = ctx;
    clm_err err;

    (void)domain;
    if (h->responder != NULL &&
        (err = acme_http01_responder_put(h->responder, token, key_authorization)) != CLM_OK)
        return err;
    if (h->webroot != NULL &&
        (err = webroot_write(h->webroot, token, key_authorization)) != CLM_OK)
        return err;
    return CLM_OK;
}

static clm_err http01_cleanup(void *ctx, const char *domain, const char *token,
                              const char *key_authorization)
{
    http01_ctx *h = ctx;
    char path[4200];

    (void)domain;
    (void)key_authorization;
    if (h->responder != NULL)
        acme_http01_responder_remove(h->responder, token);
    if (h->webroot != NULL) {
        snprintf(path, sizeof path, "%s/.well-known/acme-challenge/%s", h->webroot, token);
        if (unlink(path) != 0 && errno != ENOENT)
            return clm_fail(CLM_ERR_IO, "fields.http01_webroot: cannot remove a token file: %s",
                            strerror(errno));
    }
    return CLM_OK;
}

static clm_err http01_check(const adapter_fields *fields)
{
    const char *listen_text = ca_fields_get(fields, "http01_listen");
    const char *webroot = ca_fields_get(fields, "http01_webroot");
    struct sockaddr_storage ss;
    socklen_t len;

    if (listen_text == NULL && webroot == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "config.fields.http01_listen: challenge_type http-01 needs "
                        "http01_listen (the built-in responder) or http01_webroot");
    if (listen_text != NULL && parse_listen(listen_text, &ss, &len) != CLM_OK)
        return clm_error_context(CLM_ERR_INVALID_ARGUMENT, "config");
    if (webroot != NULL && webroot[0] != '/')
        return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                        "config.fields.http01_webroot: \"%.64s\" is not an absolute path",
                        webroot);
    return CLM_OK;
}

static void http01_close(void *ctx)
{
    http01_ctx *h = ctx;

    if (h == NULL)
        return;
    acme_http01_responder_release(h->responder);
    free(h->webroot);
    free(h);
}

static clm_err http01_open(const adapter_fields *fields, const char *connector, void **out)
{
    const char *listen_text = ca_fields_get(fields, "http01_listen");
    const char *webroot = ca_fields_get(fields, "http01_webroot");
    http01_ctx *h = calloc(1, sizeof *h);
    clm_err err;

    (void)connector;
    *out = NULL;
    if (h == NULL)
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    if (webroot != NULL && (h->webroot = strdup(webroot)) == NULL) {
        http01_close(h);
        return clm_fail(CLM_ERR_NO_MEMORY, "out of memory");
    }
    if (listen_text != NULL &&
        (err = acme_http01_responder_acquire(listen_text, &h->responder)) != CLM_OK) {
        http01_close(h);
        return err;
    }
    *out = h;
    return CLM_OK;
}

static const acme_solver_ops http01_ops = {
    .type = "http-01",
    .present = http01_present,
    .cleanup = http01_cleanup,
};

const acme_solver_kind acme_solver_http01 = {
    .ops = &http01_ops,
    .check = http01_check,
    .open = http01_open,
    .close = http01_close,
};
