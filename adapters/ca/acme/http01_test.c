/*
 * adapters/ca/acme/http01_test.c: the http-01 solver without a CA: the built-in
 * responder asked over loopback with lib/http (answers, 404, 405, HEAD, sharing,
 * acquire/release churn from threads on one address), the webroot (files written and
 * removed), and the field checks. Port 5462 (this test's own, below 32768).
 */
#include "adapters/ca/acme/http01.h"
#include "adapters/ca/acme/solver.h"
#include "lib/base/buf.h"
#include "lib/base/log.h"
#include "lib/http/http.h"
#include "tests/unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define ADDR "127.0.0.1:5462"
#define BASE "http://127.0.0.1:5462"

static int fetch(const char *method, const char *path, char *body, size_t size)
{
    char url[256];
    http_response resp = {0};
    int status;

    snprintf(url, sizeof url, "%s%s", BASE, path);
    if (http_request_send(&(http_request){.method = method, .url = url,
                                          .total_timeout_ms = 5000},
                          &resp) != CLM_OK)
        return -1;
    status = resp.status;
    if (body != NULL)
        snprintf(body, size, "%s", (const char *)resp.body);
    http_response_free(&resp);
    return status;
}

static bool port_free(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(5462)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    bool ok;

    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ok = bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
    close(fd);
    return ok;
}

UNIT_TEST(responder)
{
    acme_http01_responder *r = NULL, *again = NULL;
    char body[256];

    CHECK_INT_EQ(acme_http01_responder_acquire("127.0.0.1", &r), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "fields.http01_listen");
    CHECK_INT_EQ(acme_http01_responder_acquire("[::1:80", &r), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(acme_http01_responder_acquire("127.0.0.1:0", &r), CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(acme_http01_responder_acquire(ADDR, &r), CLM_OK);
    if (r == NULL)
        return;
    CHECK_INT_EQ(acme_http01_responder_put(r, "tok-1", "tok-1.thumb"), CLM_OK);
    CHECK_INT_EQ(fetch("GET", "/.well-known/acme-challenge/tok-1", body, sizeof body), 200);
    CHECK_STR_EQ(body, "tok-1.thumb");
    CHECK_INT_EQ(fetch("HEAD", "/.well-known/acme-challenge/tok-1", body, sizeof body), 200);
    CHECK_STR_EQ(body, "");
    CHECK_INT_EQ(fetch("GET", "/.well-known/acme-challenge/tok-2", NULL, 0), 404);
    CHECK_INT_EQ(fetch("GET", "/.well-known/acme-challenge/tok-1x", NULL, 0), 404);
    CHECK_INT_EQ(fetch("GET", "/tok-1", NULL, 0), 404);
    CHECK_INT_EQ(fetch("POST", "/.well-known/acme-challenge/tok-1", NULL, 0), 405);
    /* a query does not change the path */
    CHECK_INT_EQ(fetch("GET", "/.well-known/acme-challenge/tok-1?x=1", body, sizeof body), 200);
    /* replaced, then removed */
    CHECK_INT_EQ(acme_http01_responder_put(r, "tok-1", "tok-1.other"), CLM_OK);
    CHECK_INT_EQ(fetch("GET", "/.well-known/acme-challenge/tok-1", body, sizeof body), 200);
    CHECK_STR_EQ(body, "tok-1.other");
    /* shared: the same responder; it lives until the last release */
    CHECK_INT_EQ(acme_http01_responder_acquire(ADDR, &again), CLM_OK);
    CHECK(again == r);
    acme_http01_responder_release(again);
    CHECK_INT_EQ(fetch("GET", "/.well-known/acme-challenge/tok-1", NULL, 0), 200);
    acme_http01_responder_remove(r, "tok-1");
    acme_http01_responder_remove(r, "never-there");
    CHECK_INT_EQ(fetch("GET", "/.well-known/acme-challenge/tok-1", NULL, 0), 404);
    acme_http01_responder_release(r);
    CHECK(port_free());
    CHECK_INT_EQ(fetch("GET", "/", NULL, 0), -1);
}

static atomic_int churn_ok, churn_bad;

static void *churn(void *arg)
{
    char token[32], body[64];

    for (int i = 0; i < 200; i++) { /* tight: the last release races the next acquire */
        acme_http01_responder *r = NULL;
        if (acme_http01_responder_acquire(ADDR, &r) != CLM_OK)
            atomic_fetch_add(&churn_bad, 1);
        acme_http01_responder_release(r);
    }
    for (int i = 0; i < 30; i++) {
        acme_http01_responder *r = NULL;
        snprintf(token, sizeof token, "t%ld-%d", (long)(intptr_t)arg, i);
        if (acme_http01_responder_acquire(ADDR, &r) != CLM_OK) {
            atomic_fetch_add(&churn_bad, 1);
            continue;
        }
        acme_http01_responder_put(r, token, token);
        {
            char path[96];
            snprintf(path, sizeof path, "/.well-known/acme-challenge/%s", token);
            if (fetch("GET", path, body, sizeof body) == 200 && strcmp(body, token) == 0)
                atomic_fetch_add(&churn_ok, 1);
            else
                atomic_fetch_add(&churn_bad, 1);
        }
        acme_http01_responder_remove(r, token);
        acme_http01_responder_release(r);
    }
    return NULL;
}

/* Connectors opened and closed per call (as clmd does) on one address, from threads. */
UNIT_TEST(acquire_release_churn)
{
    pthread_t t[8];

    for (intptr_t i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, churn, (void *)i);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    CHECK_INT_EQ(atomic_load(&churn_ok), 8 * 30);
    CHECK_INT_EQ(atomic_load(&churn_bad), 0);
    CHECK(port_free());
}

UNIT_TEST(webroot_and_fields)
{
    char root[] = "/tmp/clm-http01-XXXXXX", path[256], text[64];
    adapter_field_value v[2];
    adapter_fields f = {v, 0};
    void *ctx = NULL;
    FILE *file;
    struct stat st;

    CHECK(mkdtemp(root) != NULL);
    CHECK_INT_EQ(acme_solver_http01.check(&f), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "http01_listen");
    v[f.n++] = (adapter_field_value){"http01_webroot", "relative/dir"};
    CHECK_INT_EQ(acme_solver_http01.check(&f), CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "fields.http01_webroot");
    v[0].value = root;
    CHECK_INT_EQ(acme_solver_http01.check(&f), CLM_OK);
    CHECK(acme_solver_find("http-01") == &acme_solver_http01);
    CHECK(acme_solver_find("tls-alpn-01") == NULL);
    CHECK_INT_EQ(acme_solver_http01.open(&f, "test", &ctx), CLM_OK);
    CHECK_INT_EQ(acme_solver_http01.ops->present(ctx, "a.test", "tok_A-1", "tok_A-1.th"), CLM_OK);
    snprintf(path, sizeof path, "%s/.well-known/acme-challenge/tok_A-1", root);
    file = fopen(path, "r");
    CHECK(file != NULL);
    if (file != NULL) {
        CHECK(fgets(text, sizeof text, file) != NULL);
        CHECK_STR_EQ(text, "tok_A-1.th");
        fclose(file);
    }
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    snprintf(path, sizeof path, "%s/.well-known/acme-challenge/.tok_A-1.tmp", root);
    CHECK(access(path, F_OK) != 0); /* renamed into place, no temporary left */
    CHECK_INT_EQ(acme_solver_http01.ops->cleanup(ctx, "a.test", "tok_A-1", "tok_A-1.th"), CLM_OK);
    snprintf(path, sizeof path, "%s/.well-known/acme-challenge/tok_A-1", root);
    CHECK(access(path, F_OK) != 0);
    /* twice: already gone is fine */
    CHECK_INT_EQ(acme_solver_http01.ops->cleanup(ctx, "a.test", "tok_A-1", "tok_A-1.th"), CLM_OK);
    acme_solver_http01.close(ctx);
    /* a webroot that cannot be written: the connector field named */
    v[0].value = "/proc/clm-no-such-dir";
    CHECK_INT_EQ(acme_solver_http01.open(&f, "test", &ctx), CLM_OK);
    CHECK_INT_EQ(acme_solver_http01.ops->present(ctx, "a.test", "t", "t.x"), CLM_ERR_CONFIG);
    CHECK_STR_CONTAINS(clm_error_message(), "fields.http01_webroot");
    acme_solver_http01.close(ctx);
    snprintf(path, sizeof path, "%s/.well-known/acme-challenge", root);
    CHECK(rmdir(path) == 0); /* empty: cleanup left nothing behind */
    snprintf(path, sizeof path, "%s/.well-known", root);
    CHECK(rmdir(path) == 0);
    CHECK(rmdir(root) == 0);
}

int main(void)
{
    clm_log_set_level(CLM_LOG_WARN);
    UNIT_RUN(responder);
    UNIT_RUN(acquire_release_churn);
    UNIT_RUN(webroot_and_fields);
    return unit_report();
}
