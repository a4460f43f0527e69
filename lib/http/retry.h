/*
 * lib/http/retry.h: POST a JSON document, retrying what is worth retrying.
 *
 * For outgoing webhooks and connector calls that are safe to repeat. An attempt is
 * retried when:
 *   - the server answered 429 or 5xx (500-599);
 *   - the request never reached the server: connect refused, unreachable or timed
 *     out, a temporary name resolution failure (EAI_AGAIN), a TLS handshake cut off.
 * It is not retried when the request may have been processed (a timeout or reset while
 * waiting for the response), nor on permanent failures (an unknown host, a
 * certificate that does not verify, a malformed response, bad arguments).
 *
 * Waits grow exponentially with "equal jitter": before retry n (n = 1, 2, ...) the
 * ceiling is min(initial_delay_ms * 2^(n-1), max_delay_ms), and the wait is half the
 * ceiling plus a uniformly random part of the other half. A Retry-After header on a
 * 429 or 503 (delta-seconds or an HTTP date, read against the clock's wall time) sets
 * the least wait; when it asks for more than max_delay_ms, or any wait would end past
 * max_elapsed_ms, there is no further attempt and the last result is returned: the
 * caller (the scheduler) retries later.
 *
 * Time is read from the caller's clm_clock and waits go through the caller's sleep
 * hook, so tests drive the whole schedule without sleeping. Each retry is logged at warn
 * level with the origin, the attempt, the wait and the status or error (never the URL
 * path, headers or body).
 *
 * Thread rules: as http_request_send(); the sleep hook runs on the calling thread.
 */
#ifndef CLM_LIB_HTTP_RETRY_H
#define CLM_LIB_HTTP_RETRY_H

#include "lib/base/clock.h"
#include "lib/base/error.h"
#include "lib/http/http.h"

#include <stdbool.h>
#include <stdint.h>

#define HTTP_RETRY_DEFAULT_ATTEMPTS 4
#define HTTP_RETRY_DEFAULT_INITIAL_DELAY_MS 500
#define HTTP_RETRY_DEFAULT_MAX_DELAY_MS 30000
/** Most attempts a policy may ask for. */
#define HTTP_RETRY_MAX_ATTEMPTS 20

/**
 * A sleep hook: MUST wait (or, in a test, pretend to wait by advancing its fake clock)
 * for duration_ns nanoseconds, which is never negative.
 */
typedef void (*http_sleep_fn)(void *ctx, int64_t duration_ns);

/** Retry settings; every zero field takes its default. */
typedef struct http_retry_policy {
    int max_attempts;         /* attempts in all, the first included, 1 to
                                 HTTP_RETRY_MAX_ATTEMPTS; 0: HTTP_RETRY_DEFAULT_ATTEMPTS */
    int64_t initial_delay_ms; /* ceiling of the first wait; 0: 500 */
    int64_t max_delay_ms;     /* ceiling of any wait, Retry-After included; 0: 30000 */
    int64_t max_elapsed_ms;   /* no wait may end later than this after the start;
                                 0: bounded by max_attempts only */
    http_sleep_fn sleep;      /* NULL: nanosleep on the real clock */
    void *sleep_ctx;
} http_retry_policy;

/**
 * @brief POST req->body as JSON to req->url, retrying as described at the top.
 *
 * Adds `Content-Type: application/json` unless req has a Content-Type header. The
 * result is the last attempt's: CLM_OK whenever it produced a response, whatever its
 * status (a 503 after the last attempt comes back as a response with status 503).
 *
 * @param[in]  req    method NULL or "POST"; every other field as for http_request_send.
 * @param[in]  policy NULL: every default.
 * @param[in]  clock  the time retries are scheduled by; NULL: clm_clock_system().
 * @param[out] out    as for http_request_send: filled on CLM_OK, zeroed otherwise.
 * @param[out] attempts MAY be NULL; the number of attempts made (0 when the arguments
 *             were refused before any).
 * @return as http_request_send() for the last attempt, the message prefixed with the
 *         attempt count when there was more than one; CLM_ERR_INVALID_ARGUMENT also
 *         for a bad policy or a method other than POST.
 */
clm_err http_post_json_retry(const http_request *req, const http_retry_policy *policy,
                             const clm_clock *clock, http_response *out, int *attempts);

/**
 * @brief Read a Retry-After value: delta-seconds ("120") or an IMF-fixdate HTTP date
 * ("Wed, 21 Oct 2015 07:28:00 GMT"), relative to now_ns (wall time, ns since the epoch).
 * @param[out] delay_ms the wait it asks for; 0 for a date in the past.
 * @return true when the value is one of those forms; false otherwise (ignore it then).
 */
bool http_retry_after_parse(const char *value, int64_t now_ns, int64_t *delay_ms);

/** Whether a status is retried: 429 and 500-599. */
bool http_status_retryable(int status);

#endif
