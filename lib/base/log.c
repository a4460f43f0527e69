/* lib/base/log.c: one structured line per event, one write(2) per line. */
#include "lib/base/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = CLM_LOG_INFO;
static atomic_int log_fd = 2;

static const char *const level_names[CLM_LOG_LEVEL_MAX] = {"debug", "info", "warn", "error"};

void clm_log_set_level(clm_log_level level)
{
    if ((unsigned)level < CLM_LOG_LEVEL_MAX)
        atomic_store(&log_level, (int)level);
}

clm_log_level clm_log_get_level(void)
{
    return (clm_log_level)atomic_load(&log_level);
}

void clm_log_set_fd(int fd)
{
    atomic_store(&log_fd, fd);
}

const char *clm_log_level_name(clm_log_level level)
{
    return (unsigned)level < CLM_LOG_LEVEL_MAX ? level_names[level] : "unknown";
}

clm_err clm_log_level_parse(const char *name, clm_log_level *level)
{
    for (int i = 0; i < CLM_LOG_LEVEL_MAX; i++) {
        if (name != NULL && strcmp(name, level_names[i]) == 0) {
            *level = (clm_log_level)i;
            return CLM_OK;
        }
    }
    return clm_fail(CLM_ERR_INVALID_ARGUMENT,
                    "log level '%s' is not one of debug, info, warn, error",
                    name ? name : "");
}

const char *clm_log_i64(char *buf, int64_t value)
{
    snprintf(buf, 24, "%lld", (long long)value);
    return buf;
}

/* A line buffer that silently truncates: a log line must never fail. */
typedef struct line {
    char data[4096];
    size_t len;
} line;

static void line_put(line *l, const char *s, size_t n)
{
    size_t room = sizeof(l->data) - 1 - l->len; /* keep one byte for '\n' */

    if (n > room)
        n = room;
    memcpy(l->data + l->len, s, n);
    l->len += n;
}

static int needs_quotes(const char *v)
{
    if (*v == '\0')
        return 1;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            return 1;
    }
    return 0;
}

static void line_put_value(line *l, const char *v)
{
    if (!needs_quotes(v)) {
        line_put(l, v, strlen(v));
        return;
    }
    line_put(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        char esc[8];

        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            line_put(l, esc, 2);
        } else if (*p == '\n') {
            line_put(l, "\\n", 2);
        } else if (*p < ' ' || *p == 0x7f) {
            snprintf(esc, sizeof(esc), "\\x%02x", *p);
            line_put(l, esc, 4);
        } else {
            line_put(l, (const char *)p, 1);
        }
    }
    line_put(l, "\"", 1);
}

void clm_log(clm_log_level level, const char *event, ...)
{
    struct timespec ts;
    struct tm tm;
    char stamp[128];
    line l = {.len = 0};
    va_list ap;

    if ((int)level < atomic_load(&log_level))
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(stamp, sizeof(stamp), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             ts.tv_nsec / 1000000);
    line_put(&l, stamp, strlen(stamp));
    line_put(&l, clm_log_level_name(level), strlen(clm_log_level_name(level)));
    line_put(&l, " event=", 7);
    line_put_value(&l, event ? event : "");

    va_start(ap, event);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        const char *value;

        if (key == NULL)
            break;
        value = va_arg(ap, const char *);
        line_put(&l, " ", 1);
        line_put(&l, key, strlen(key));
        line_put(&l, "=", 1);
        line_put_value(&l, value ? value : "");
    }
    va_end(ap);
    l.data[l.len++] = '\n';

    /* One write per line; a short write to a pipe of < PIPE_BUF is atomic. */
    const char *p = l.data;
    size_t left = l.len;
    while (left > 0) {
        ssize_t n = write(atomic_load(&log_fd), p, left);
        if (n <= 0)
            break;
        p += n;
        left -= (size_t)n;
    }
}
