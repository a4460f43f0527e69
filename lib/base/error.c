/* lib/base/error.c: error names and the per-thread failure message. */
#include "lib/base/error.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char error_message[CLM_ERROR_MESSAGE_MAX];

static const char *const error_names[CLM_ERR_MAX] = {
    [CLM_OK] = "ok",
    [CLM_ERR_INVALID_ARGUMENT] = "invalid argument",
    [CLM_ERR_NOT_FOUND] = "not found",
    [CLM_ERR_ALREADY_EXISTS] = "already exists",
    [CLM_ERR_PERMISSION] = "permission denied",
    [CLM_ERR_NO_MEMORY] = "out of memory",
    [CLM_ERR_IO] = "input/output error",
    [CLM_ERR_STORE] = "database error",
    [CLM_ERR_STORE_FULL] = "database full",
    [CLM_ERR_BUSY] = "resource busy",
    [CLM_ERR_CRYPTO] = "cryptographic error",
    [CLM_ERR_PARSE] = "malformed data",
    [CLM_ERR_UNAVAILABLE] = "unavailable",
    [CLM_ERR_TIMEOUT] = "timed out",
    [CLM_ERR_CANCELLED] = "cancelled",
    [CLM_ERR_INTERNAL] = "internal error",
    [CLM_ERR_UNSUPPORTED] = "unsupported",
    [CLM_ERR_CONFIG] = "configuration error",
    [CLM_ERR_CONFLICT] = "conflict",
    [CLM_ERR_UNAUTHENTICATED] = "unauthenticated",
};

const char *clm_strerror(clm_err err)
{
    if ((unsigned)err >= CLM_ERR_MAX || error_names[err] == NULL)
        return "unknown error";
    return error_names[err];
}

clm_err clm_failv(clm_err err, const char *fmt, va_list ap)
{
    char message[CLM_ERROR_MESSAGE_MAX];

    /* Format aside first: callers may pass clm_error_message() as an argument. */
    vsnprintf(message, sizeof(message), fmt, ap);
    memcpy(error_message, message, sizeof(message));
    return err;
}

clm_err clm_fail(clm_err err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    clm_failv(err, fmt, ap);
    va_end(ap);
    return err;
}

clm_err clm_error_context(clm_err err, const char *fmt, ...)
{
    char context[CLM_ERROR_MESSAGE_MAX];
    char previous[CLM_ERROR_MESSAGE_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(context, sizeof(context), fmt, ap);
    va_end(ap);
    memcpy(previous, error_message, sizeof(previous));
    if (previous[0] == '\0')
        snprintf(error_message, sizeof(error_message), "%s", context);
    else
        snprintf(error_message, sizeof(error_message), "%s: %s", context, previous);
    return err;
}

const char *clm_error_message(void)
{
    return error_message;
}

void clm_error_clear(void)
{
    error_message[0] = '\0';
}
