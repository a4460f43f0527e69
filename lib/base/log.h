/*
 * lib/base/log.h: structured logging to stderr.
 *
 * One line per event: `ts=<RFC 3339 UTC> level=<level> event=<event> key=value ...`.
 * Values holding spaces, quotes, '=' or control characters are double-quoted and
 * escaped, so a line always splits back into its fields. A line is written with one
 * write(2), so lines of concurrent threads never interleave.
 *
 * Never pass key material, passwords or tokens as values: log lines are copied to
 * files and tickets.
 *
 * Thread rules: every function here may be called from any thread.
 */
#ifndef CLM_LIB_BASE_LOG_H
#define CLM_LIB_BASE_LOG_H

#include <stdint.h>

#include "lib/base/error.h"

typedef enum clm_log_level {
    CLM_LOG_DEBUG = 0,
    CLM_LOG_INFO,
    CLM_LOG_WARN,
    CLM_LOG_ERROR,
    CLM_LOG_LEVEL_MAX
} clm_log_level;

/** Events below this level are dropped. Default CLM_LOG_INFO. */
void clm_log_set_level(clm_log_level level);
clm_log_level clm_log_get_level(void);

/** Where lines go; default 2 (stderr). The fd is not closed by this module. */
void clm_log_set_fd(int fd);

/**
 * @brief Parse "debug", "info", "warn" or "error".
 * @return CLM_OK, or CLM_ERR_INVALID_ARGUMENT for any other name.
 */
clm_err clm_log_level_parse(const char *name, clm_log_level *level);

/** "debug", "info", "warn", "error". */
const char *clm_log_level_name(clm_log_level level);

/**
 * @brief Log one event with key/value string pairs, terminated by a NULL key.
 * A NULL value prints as an empty string. Use the CLM_LOG_* macros, which add the NULL.
 */
void clm_log(clm_log_level level, const char *event, ...);

#define CLM_LOG_DEBUG(event, ...) clm_log(CLM_LOG_DEBUG, event, ##__VA_ARGS__, (const char *)0)
#define CLM_LOG_INFO(event, ...) clm_log(CLM_LOG_INFO, event, ##__VA_ARGS__, (const char *)0)
#define CLM_LOG_WARN(event, ...) clm_log(CLM_LOG_WARN, event, ##__VA_ARGS__, (const char *)0)
#define CLM_LOG_ERROR(event, ...) clm_log(CLM_LOG_ERROR, event, ##__VA_ARGS__, (const char *)0)

/**
 * @brief Format an integer into buf (at least 24 bytes) and return buf.
 * The macro CLM_I64(v) uses a compound literal that lives until the end of the
 * enclosing full expression's block, which is what a log call needs.
 */
const char *clm_log_i64(char *buf, int64_t value);
#define CLM_I64(v) clm_log_i64((char[24]){0}, (int64_t)(v))

#endif
