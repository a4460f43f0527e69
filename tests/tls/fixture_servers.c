/* tests/tls/fixture_servers.c: processes, namespaces, and the listeners this process
 * plays itself (close at once, backlog full, silent): see fixture.h. */
#include "tests/tls/fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double fixture_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool fixture_netns(void)
{
    struct ifreq ifr;
    int fd;

    if (unshare(CLONE_NEWNET) != 0)
        return false;
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
        perror("fixture: lo");
        if (fd >= 0)
            close(fd);
        return false;
    }
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
        perror("fixture: lo up");
    close(fd);
    return true;
}

pid_t fixture_spawn(char *const argv[], const char *log)
{
    pid_t parent = getpid(), pid = fork();

    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(127);
    if (log != NULL) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
    }
    execv(argv[0], argv);
    fprintf(stderr, "fixture: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int fixture_stop_child(pid_t pid, int sig, int timeout_ms)
{
    int status;

    if (pid <= 0)
        return -1;
    kill(pid, sig);
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return status;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    return waitpid(pid, &status, 0) == pid ? status : -1;
}

static int socket_for(const char *address, uint16_t port, struct sockaddr_storage *ss,
                      socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (strchr(address, ':') != NULL) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        inet_pton(AF_INET6, address, &a->sin6_addr);
        *len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        inet_pton(AF_INET, address, &a->sin_addr);
        *len = sizeof *a;
    }
    return socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

int fixture_wait_port(const char *address, uint16_t port, int timeout_ms)
{
    struct sockaddr_storage ss;
    socklen_t len;

    for (int waited = 0; waited < timeout_ms; waited += 20) {
        int fd = socket_for(address, port, &ss, &len);
        int rc = fd >= 0 ? connect(fd, (struct sockaddr *)&ss, len) : -1;
        if (fd >= 0)
            close(fd);
        if (rc == 0)
            return 0;
        usleep(20000);
    }
    fprintf(stderr, "fixture: nothing answers on %s port %u after %d ms\n", address, port,
            timeout_ms);
    return -1;
}

/* A listening socket on 127.0.0.1:port. */
static int listen_on(uint16_t port, int backlog)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1, fd = socket_for("127.0.0.1", port, &ss, &len);

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, backlog) != 0) {
        fprintf(stderr, "fixture: cannot listen on port %u: %s\n", port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void *closer_main(void *arg)
{
    fixture *fx = arg;
    struct pollfd pfd[5];

    for (;;) {
        int n = fx->n_closer_fds;
        for (int i = 0; i < n; i++) {
            pfd[i].fd = fx->closer_fds[i];
            pfd[i].events = POLLIN;
        }
        pfd[n].fd = fx->stop_pipe[0];
        pfd[n].events = POLLIN;
        if (poll(pfd, (nfds_t)n + 1, -1) < 0 && errno != EINTR)
            return NULL;
        if (pfd[n].revents)
            return NULL;
        for (int i = 0; i < n; i++) {
            if (pfd[i].revents & POLLIN) {
                int c = accept(pfd[i].fd, NULL, NULL);
                if (c >= 0)
                    close(c); /* at once */
            }
        }
    }
}

int fixture_bad_listeners(fixture *fx)
{
    for (size_t i = 0; i < fx->n; i++) {
        fixture_endpoint *e = &fx->endpoints[i];
        int fd;
        if (e->kind == FX_CLOSE_AT_ONCE) {
            if ((fd = listen_on(e->port, 128)) < 0 || fx->n_closer_fds == 4)
                return -1;
            fx->closer_fds[fx->n_closer_fds++] = fd;
        } else if (e->kind == FX_SILENT || e->kind == FX_BACKLOG_FULL) {
            if ((fd = listen_on(e->port, e->kind == FX_SILENT ? 128 : 0)) < 0 ||
                fx->n_listen_fds > 14)
                return -1;
            fx->listen_fds[fx->n_listen_fds++] = fd;
            if (e->kind == FX_BACKLOG_FULL) { /* fill the accept queue of one */
                struct sockaddr_storage ss;
                socklen_t len;
                int filler = socket_for("127.0.0.1", e->port, &ss, &len);
                if (filler < 0 || connect(filler, (struct sockaddr *)&ss, len) != 0) {
                    perror("fixture: backlog filler");
                    return -1;
                }
                fx->listen_fds[fx->n_listen_fds++] = filler;
            }
        }
    }
    if (fx->n_closer_fds > 0) {
        if (pipe2(fx->stop_pipe, O_CLOEXEC) != 0)
            return -1;
        if (pthread_create(&fx->closer, NULL, closer_main, fx) != 0) {
            close(fx->stop_pipe[0]);
            close(fx->stop_pipe[1]);
            return -1;
        }
        fx->closer_running = true;
    }
    return 0;
}

void fixture_teardown(fixture *fx)
{
    char *argv[] = {"/bin/rm", "-rf", fx->dir, NULL};

    if (fx->nginx > 0)
        fixture_stop_child(fx->nginx, SIGTERM, 5000);
    fx->nginx = 0;
    if (fx->closer_running) {
        if (write(fx->stop_pipe[1], "x", 1) != 1)
            perror("fixture: stop");
        pthread_join(fx->closer, NULL);
        close(fx->stop_pipe[0]);
        close(fx->stop_pipe[1]);
        fx->closer_running = false;
    }
    for (int i = 0; i < fx->n_closer_fds; i++)
        close(fx->closer_fds[i]);
    for (int i = 0; i < fx->n_listen_fds; i++)
        close(fx->listen_fds[i]);
    fx->n_closer_fds = fx->n_listen_fds = 0;
    free(fx->endpoints);
    fx->endpoints = NULL;
    fx->n = 0;
    X509_free(fx->root);
    X509_free(fx->inter);
    EVP_PKEY_free(fx->root_key);
    EVP_PKEY_free(fx->inter_key);
    fx->root = fx->inter = NULL;
    fx->root_key = fx->inter_key = NULL;
    if (strncmp(fx->dir, "/tmp/clm-tls-", 13) == 0 && getenv("CLM_KEEP_FIXTURE") == NULL) {
        pid_t pid = fixture_spawn(argv, NULL);
        int status;
        if (pid > 0)
            waitpid(pid, &status, 0);
    }
    fx->dir[0] = '\0';
}
