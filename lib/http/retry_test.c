/* lib/http/retry_test.c: http_post_json_retry against the loopback server
 * (http_test_server.h) with a fake clock, and what reaches the log. */
#include "lib/http/http_test_server.h"

/* ---- retries ---- */

typedef struct fake_sleep {
    clm_clock_fake *clock;
    int n;
    int64_t waits_ms[32];
} fake_sleep;

static void fake_sleep_fn(void *ctx, int64_t ns)
{
    fake_sleep *s = ctx;

    if (s->n < 32)
        s->waits_ms[s->n] = ns / CLM_NS_PER_MS;
    s->n++;
    clm_clock_fake_advance(s->clock, ns);
}

static int server_hits(const char *key)
{
    char path[128];
    http_response resp;
    int n = -1;

    snprintf(path, sizeof(path), "/hits/%s", key);
    if (get(http_url_of(path), &resp) == CLM_OK)
        n = (int)strtol((const char *)resp.body, NULL, 10);
    http_response_free(&resp);
    return n;
}

/* A key no other run of this test used (the server lives as long as this process). */
static const char *flaky_url(const char *key, const char *query)
{
    static char buf[256];

    snprintf(buf, sizeof(buf), "http://127.0.0.1:%d/flaky/%s?%s", srv.http, key, query);
    return buf;
}

UNIT_TEST(test_retry_5xx_then_ok)
{
    clm_clock_fake clock;
    fake_sleep sleeper = {.clock = &clock};
    http_retry_policy policy = {.initial_delay_ms = 100,
                                .max_delay_ms = 10000,
                                .sleep = fake_sleep_fn,
                                .sleep_ctx = &sleeper};
    http_header headers[] = {{"X-Event", "cert.renewed"}};
    http_request req = {.url = flaky_url("a", "fail=2&status=500"),
                        .headers = headers,
                        .n_headers = 1,
                        .body = "{\"id\":42}",
                        .body_len = 9};
    http_response resp;
    int attempts = 0;
    const unsigned char *got;
    size_t got_len;

    clm_clock_fake_init(&clock, 1000 * CLM_NS_PER_SEC);
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts), CLM_OK);
    CHECK_INT_EQ(attempts, 3);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_STR_CONTAINS((const char *)resp.body, "request-line POST /flaky/a?fail=2&status=500");
    CHECK_STR_CONTAINS((const char *)resp.body, "header X-Event: cert.renewed\n"
                                                "header Content-Type: application/json\n"
                                                "header Content-Length: 9\n");
    CHECK_STR_CONTAINS((const char *)resp.body, "\nattempt 3\n");
    got = echo_body(&resp, &got_len);
    CHECK(got != NULL && got_len == 9 && memcmp(got, "{\"id\":42}", 9) == 0);
    http_response_free(&resp);
    CHECK_INT_EQ(server_hits("a"), 3);
    /* Equal jitter: half the ceiling plus up to the other half; the ceiling doubles. */
    CHECK_INT_EQ(sleeper.n, 2);
    CHECK(sleeper.waits_ms[0] >= 50 && sleeper.waits_ms[0] <= 100);
    CHECK(sleeper.waits_ms[1] >= 100 && sleeper.waits_ms[1] <= 200);

    /* A Content-Type of the caller's is kept. */
    {
        http_header type[] = {{"Content-Type", "application/jose+json"}};

        req.url = http_url_of("/echo");
        req.headers = type;
        CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, NULL), CLM_OK);
        CHECK_STR_CONTAINS((const char *)resp.body, "header Content-Type: application/jose+json\n");
        CHECK(strstr((const char *)resp.body, "application/json") == NULL);
        http_response_free(&resp);
    }
}

UNIT_TEST(test_retry_after)
{
    clm_clock_fake clock;
    fake_sleep sleeper = {.clock = &clock};
    http_retry_policy policy = {.initial_delay_ms = 100,
                                .max_delay_ms = 60000,
                                .sleep = fake_sleep_fn,
                                .sleep_ctx = &sleeper};
    http_request req = {
        .url = flaky_url("b", "fail=1&status=429&retry_after=2"), .body = "{}", .body_len = 2};
    http_response resp;
    int attempts = 0;

    clm_clock_fake_init(&clock, 1445412480 * CLM_NS_PER_SEC - 5 * CLM_NS_PER_SEC);
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts), CLM_OK);
    CHECK_INT_EQ(attempts, 2);
    CHECK_INT_EQ(resp.status, 200);
    CHECK_INT_EQ(sleeper.n, 1);
    CHECK_INT_EQ(sleeper.waits_ms[0], 2000);
    http_response_free(&resp);

    /* An HTTP date, read against the clock's wall time: five seconds from "now". */
    clm_clock_fake_init(&clock, 1445412480 * CLM_NS_PER_SEC - 5 * CLM_NS_PER_SEC);
    sleeper.n = 0;
    req.url =
        flaky_url("c", "fail=1&status=503&retry_after=Wed,%2021%20Oct%202015%2007:28:00%20GMT");
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts), CLM_OK);
    CHECK_INT_EQ(attempts, 2);
    CHECK_INT_EQ(sleeper.n, 1);
    CHECK_INT_EQ(sleeper.waits_ms[0], 5000);
    http_response_free(&resp);

    /* Longer than max_delay_ms: no second attempt; the 503 comes back as a response. */
    sleeper.n = 0;
    req.url = flaky_url("d", "fail=5&status=503&retry_after=3600");
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts), CLM_OK);
    CHECK_INT_EQ(attempts, 1);
    CHECK_INT_EQ(resp.status, 503);
    CHECK_STR_EQ(http_response_header(&resp, "Retry-After"), "3600");
    CHECK_INT_EQ(sleeper.n, 0);
    http_response_free(&resp);
    CHECK_INT_EQ(server_hits("d"), 1);

    /* max_elapsed_ms: waits of 2 s each; the third would end at 6 s, past 5 s. */
    sleeper.n = 0;
    policy.max_elapsed_ms = 5000;
    policy.max_attempts = 10;
    req.url = flaky_url("e", "fail=10&status=503&retry_after=2");
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts), CLM_OK);
    CHECK_INT_EQ(attempts, 3);
    CHECK_INT_EQ(resp.status, 503);
    CHECK_INT_EQ(sleeper.n, 2);
    http_response_free(&resp);
}

UNIT_TEST(test_retry_gives_up)
{
    clm_clock_fake clock;
    fake_sleep sleeper = {.clock = &clock};
    http_retry_policy policy = {.max_attempts = 3,
                                .initial_delay_ms = 1000,
                                .max_delay_ms = 1500,
                                .sleep = fake_sleep_fn,
                                .sleep_ctx = &sleeper};
    http_request req = {.url = flaky_url("f", "fail=10&status=502"), .body = "{}", .body_len = 2};
    http_tls_options tls = {.ca_file = ca_path("other-ca.pem")};
    http_response resp;
    int attempts = 0;

    clm_clock_fake_init(&clock, 0);
    /* Attempts run out: the last 502 is the result. The ceiling stops at max_delay_ms. */
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts), CLM_OK);
    CHECK_INT_EQ(attempts, 3);
    CHECK_INT_EQ(resp.status, 502);
    CHECK_INT_EQ(sleeper.n, 2);
    CHECK(sleeper.waits_ms[0] >= 500 && sleeper.waits_ms[0] <= 1000);
    CHECK(sleeper.waits_ms[1] >= 750 && sleeper.waits_ms[1] <= 1500);
    http_response_free(&resp);
    CHECK_INT_EQ(server_hits("f"), 3);

    /* 4xx is the caller's problem: no retry. */
    sleeper.n = 0;
    req.url = http_url_of("/status/400");
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts), CLM_OK);
    CHECK_INT_EQ(attempts, 1);
    CHECK_INT_EQ(resp.status, 400);
    http_response_free(&resp);

    /* Connection refused is retried, and the message says how many attempts. */
    req.url = url_to("http", "127.0.0.1", closed_port(), "/");
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts),
                 CLM_ERR_UNAVAILABLE);
    CHECK_INT_EQ(attempts, 3);
    CHECK_INT_EQ(sleeper.n, 2);
    CHECK_STR_CONTAINS(clm_error_message(), "after 3 attempts: connect to 127.0.0.1 port");
    CHECK_STR_CONTAINS(clm_error_message(), "Connection refused");
    CHECK(resp.body == NULL);

    /* A certificate that does not verify will not verify next time either. */
    sleeper.n = 0;
    req.url = url_to("https", "localhost", srv.https, "/echo");
    req.tls = &tls;
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts),
                 CLM_ERR_UNAVAILABLE);
    CHECK_INT_EQ(attempts, 1);
    CHECK_INT_EQ(sleeper.n, 0);
    req.tls = NULL;

    /* A timeout while waiting for the answer: the POST may have been processed. */
    req.url = http_url_of("/slow?ms=2000");
    req.total_timeout_ms = 300;
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts),
                 CLM_ERR_TIMEOUT);
    CHECK_INT_EQ(attempts, 1);
    req.total_timeout_ms = 0;

    /* Arguments. */
    req.method = "GET";
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_INT_EQ(attempts, 0);
    req.method = NULL;
    policy.max_attempts = 21;
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "max_attempts");
    policy.max_attempts = 3;
    policy.initial_delay_ms = -1;
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts),
                 CLM_ERR_INVALID_ARGUMENT);
    req.url = "http://h:0/";
    policy.initial_delay_ms = 0;
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, &attempts),
                 CLM_ERR_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(clm_error_message(), "url port");
}

/* ---- what reaches the log ---- */

UNIT_TEST(test_logs_hold_no_secrets)
{
    char path[PATH_MAX + 64];
    int fd;
    clm_clock_fake clock;
    fake_sleep sleeper = {.clock = &clock};
    http_retry_policy policy = {.max_attempts = 2, .sleep = fake_sleep_fn, .sleep_ctx = &sleeper};
    http_header headers[] = {{"Authorization", "Bearer HEADERSECRET"}};
    http_request req = {.url = flaky_url("PATHSECRET", "fail=1&token=QUERYSECRET"),
                        .headers = headers,
                        .n_headers = 1,
                        .body = "{\"k\":\"BODYSECRET\"}",
                        .body_len = 18};
    http_response resp;
    size_t len = 0;
    char *log;

    snprintf(path, sizeof(path), "%s/log.txt", srv.dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    clm_clock_fake_init(&clock, 0);
    clm_log_set_fd(fd);
    clm_log_set_level(CLM_LOG_DEBUG);
    CHECK_INT_EQ(http_post_json_retry(&req, &policy, &clock.clock, &resp, NULL), CLM_OK);
    CHECK_INT_EQ(resp.status, 200);
    http_response_free(&resp);
    clm_log_set_level(CLM_LOG_INFO);
    clm_log_set_fd(2);
    close(fd);

    log = read_file("log.txt", &len);
    CHECK(log != NULL);
    if (log == NULL)
        return;
    CHECK_STR_CONTAINS(log, "event=http_retry ");
    CHECK_STR_CONTAINS(log, "event=http_request method=POST origin=http://127.0.0.1:");
    CHECK_STR_CONTAINS(log, "status=500");
    CHECK(strstr(log, "SECRET") == NULL);
    free(log);
}

HTTP_TEST_MAIN(UNIT_RUN(test_retry_5xx_then_ok);
               UNIT_RUN(test_retry_after);
               UNIT_RUN(test_retry_gives_up);
               UNIT_RUN(test_logs_hold_no_secrets))
