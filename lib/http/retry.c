/*
 * lib/http/retry.c: http_post_json_retry() and its helpers (retry.h).
 */
#include "lib/http/retry.h"

#include "lib/base/log.h"
#include "lib/http/http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

bool http_status_retryable(int status)
{
    return status == 429 || (status >= 500 && status <= 599);
}

/* Failures where the request never reached the server, and that may pass. */
static bool failure_retryable(http_failure failure)
{
    return failure == HTTP_FAILURE_RESOLVE_AGAIN || failure == HTTP_FAILURE_CONNECT ||
           failure == HTTP_FAILURE_TLS_IO;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", to seconds since the epoch. */
static bool parse_imf_fixdate(const char *s, size_t len, int64_t *out)
{
    static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int day, year, hour, minute, second, month = -1;
    bool day_ok = false;

    if (len != 29 || memcmp(s + 3, ", ", 2) != 0 || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
        s[19] != ':' || s[22] != ':' || memcmp(s + 25, " GMT", 4) != 0)
        return false;
    for (int i = 0; i < 7; i++)
        day_ok = day_ok || memcmp(s, days[i], 3) == 0;
    for (int i = 0; i < 12; i++)
        if (memcmp(s + 8, months[i], 3) == 0)
            month = i;
    if (!day_ok || month < 0 || !digits(s + 5, 2, &day) || !digits(s + 12, 4, &year) ||
        !digits(s + 17, 2, &hour) || !digits(s + 20, 2, &minute) || !digits(s + 23, 2, &second))
        return false;
    if (day < 1 || day > month_days[month] || hour > 23 || minute > 59 || second > 60)
        return false;
    *out = days_from_civil(year, month + 1, day) * 86400 + hour * 3600 + minute * 60 + second;
    return true;
}

bool http_retry_after_parse(const char *value, int64_t now_ns, int64_t *delay_ms)
{
    size_t len;
    int64_t when;

    if (value == NULL)
        return false;
    while (*value == ' ' || *value == '\t')
        value++;
    len = strlen(value);
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (len == 0)
        return false;
    if (value[0] >= '0' && value[0] <= '9') {
        int64_t seconds = 0;

        /* Nine digits is over 31 years: more is nonsense, and would overflow. */
        if (len > 9)
            return false;
        for (size_t i = 0; i < len; i++) {
            if (value[i] < '0' || value[i] > '9')
                return false;
            seconds = seconds * 10 + (value[i] - '0');
        }
        *delay_ms = seconds * 1000;
        return true;
    }
    if (!parse_imf_fixdate(value, len, &when))
        return false;
    *delay_ms = when * 1000 - now_ns / CLM_NS_PER_MS;
    if (*delay_ms < 0)
        *delay_ms = 0;
    return true;
}

static void sleep_real(void *ctx, int64_t duration_ns)
{
    struct timespec ts = {.tv_sec = duration_ns / CLM_NS_PER_SEC,
                          .tv_nsec = duration_ns % CLM_NS_PER_SEC};

    (void)ctx;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Uniform in [0, bound]. */
static int64_t jitter(int64_t bound)
{
    if (bound <= 0)
        return 0;
    if (bound >= (int64_t)UINT32_MAX)
        bound = (int64_t)UINT32_MAX - 1;
    return (int64_t)arc4random_uniform((uint32_t)bound + 1);
}

static clm_err check_policy(const http_retry_policy *p)
{
    if (p->max_attempts < 0 || p->max_attempts > HTTP_RETRY_MAX_ATTEMPTS)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "retry max_attempts: must be 0-%d",
                        HTTP_RETRY_MAX_ATTEMPTS);
    if (p->initial_delay_ms < 0 || p->max_delay_ms < 0 || p->max_elapsed_ms < 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "retry delays: must not be negative");
    return CLM_OK;
}

clm_err http_post_json_retry(const http_request *req, const http_retry_policy *policy,
                             const clm_clock *clock, http_response *out, int *attempts)
{
    static const http_retry_policy defaults;
    const http_retry_policy *p = policy != NULL ? policy : &defaults;
    http_request post;
    http_header *headers = NULL;
    http_url url;
    char origin[HTTP_ORIGIN_SIZE];
    int max_attempts, attempt;
    int64_t initial_ms, max_delay_ms, start, ceiling_ms;
    http_sleep_fn sleep_fn;
    clm_err err;

    if (attempts != NULL)
        *attempts = 0;
    if (out == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "response: NULL");
    memset(out, 0, sizeof(*out));
    if (req == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "request: NULL");
    if (req->method != NULL && strcmp(req->method, "POST") != 0)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "method: must be POST (or NULL)");
    if ((err = check_policy(p)) != CLM_OK)
        return err;
    if (req->n_headers > 0 && req->headers == NULL)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "headers: NULL with a count");
    if ((err = http_url_parse(req->url, &url)) != CLM_OK)
        return err;
    http_url_origin(&url, origin);
    http_url_free(&url);

    max_attempts = p->max_attempts > 0 ? p->max_attempts : HTTP_RETRY_DEFAULT_ATTEMPTS;
    initial_ms =
        p->initial_delay_ms > 0 ? p->initial_delay_ms : HTTP_RETRY_DEFAULT_INITIAL_DELAY_MS;
    max_delay_ms = p->max_delay_ms > 0 ? p->max_delay_ms : HTTP_RETRY_DEFAULT_MAX_DELAY_MS;
    sleep_fn = p->sleep != NULL ? p->sleep : sleep_real;
    if (clock == NULL)
        clock = clm_clock_system();

    post = *req;
    post.method = "POST";
    {
        bool has_type = false;

        for (size_t i = 0; i < req->n_headers; i++)
            if (req->headers[i].name != NULL &&
                strcasecmp(req->headers[i].name, "Content-Type") == 0)
                has_type = true;
        if (!has_type) {
            headers = malloc((req->n_headers + 1) * sizeof(*headers));
            if (headers == NULL)
                return clm_fail(CLM_ERR_NO_MEMORY, "retry: out of memory");
            if (req->n_headers > 0)
                memcpy(headers, req->headers, req->n_headers * sizeof(*headers));
            headers[req->n_headers].name = "Content-Type";
            headers[req->n_headers].value = "application/json";
            post.headers = headers;
            post.n_headers = req->n_headers + 1;
        }
    }

    start = clm_clock_monotonic_ns(clock);
    ceiling_ms = initial_ms < max_delay_ms ? initial_ms : max_delay_ms;
    for (attempt = 1;; attempt++) {
        http_failure failure = HTTP_FAILURE_NONE;
        int64_t least_ms = 0, wait_ms, elapsed_ms;
        char status[24] = "";

        err = http_request_send_ex(&post, out, &failure);
        if (attempts != NULL)
            *attempts = attempt;
        if (err == CLM_OK) {
            const char *retry_after;

            if (!http_status_retryable(out->status) || attempt >= max_attempts)
                break;
            snprintf(status, sizeof(status), "%d", out->status);
            retry_after = (out->status == 429 || out->status == 503)
                              ? http_response_header(out, "Retry-After")
                              : NULL;
            if (retry_after != NULL &&
                http_retry_after_parse(retry_after, clm_clock_now_ns(clock), &least_ms) &&
                least_ms > max_delay_ms) {
                CLM_LOG_WARN("http_retry_give_up", "origin", origin, "attempt", CLM_I64(attempt),
                             "status", status, "retry_after_ms", CLM_I64(least_ms), "max_delay_ms",
                             CLM_I64(max_delay_ms));
                break;
            }
        } else if (!failure_retryable(failure) || attempt >= max_attempts) {
            break;
        }

        wait_ms = ceiling_ms / 2 + jitter(ceiling_ms - ceiling_ms / 2);
        if (wait_ms < least_ms)
            wait_ms = least_ms;
        elapsed_ms = (clm_clock_monotonic_ns(clock) - start) / CLM_NS_PER_MS;
        if (p->max_elapsed_ms > 0 && elapsed_ms + wait_ms > p->max_elapsed_ms) {
            CLM_LOG_WARN("http_retry_give_up", "origin", origin, "attempt", CLM_I64(attempt),
                         err == CLM_OK ? "status" : "error",
                         err == CLM_OK ? status : clm_error_message(), "wait_ms", CLM_I64(wait_ms),
                         "max_elapsed_ms", CLM_I64(p->max_elapsed_ms));
            break;
        }
        if (err == CLM_OK)
            CLM_LOG_WARN("http_retry", "origin", origin, "attempt", CLM_I64(attempt), "status",
                         status, "wait_ms", CLM_I64(wait_ms));
        else
            CLM_LOG_WARN("http_retry", "origin", origin, "attempt", CLM_I64(attempt), "error",
                         clm_error_message(), "wait_ms", CLM_I64(wait_ms));
        http_response_free(out);
        sleep_fn(p->sleep_ctx, wait_ms * CLM_NS_PER_MS);
        ceiling_ms = ceiling_ms > max_delay_ms / 2 ? max_delay_ms : ceiling_ms * 2;
    }
    free(headers);
    if (err != CLM_OK && attempt > 1)
        return clm_error_context(err, "after %d attempts", attempt);
    return err;
}
