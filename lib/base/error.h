/*
 * lib/base/error.h: the one error type of clm.
 *
 * Every function that can fail returns a clm_err: 0 is success, the other values
 * are the closed set below (append-only: values are stored and sent over the wire
 * in audit records, so never renumber). Library codes (LMDB, OpenSSL, gRPC, errno)
 * are translated where they enter clm and never passed upward raw.
 *
 * Alongside the code, the function that fails records a human-readable cause with
 * clm_fail(); callers may prepend context with clm_error_context(). The message is
 * kept per thread, so it must be read (clm_error_message) on the thread that failed,
 * before the next failing call. Messages never contain key material or passwords.
 *
 * Caveats: messages are truncated at CLM_ERROR_MESSAGE_MAX bytes.
 */
#ifndef CLM_LIB_BASE_ERROR_H
#define CLM_LIB_BASE_ERROR_H

#include <stdarg.h>

typedef enum clm_err {
    CLM_OK = 0,
    CLM_ERR_INVALID_ARGUMENT = 1, /* caller input is wrong; message names the field */
    CLM_ERR_NOT_FOUND = 2,        /* the record, file or symbol does not exist */
    CLM_ERR_ALREADY_EXISTS = 3,   /* a unique key is already taken */
    CLM_ERR_PERMISSION = 4,       /* the caller's role does not allow the operation */
    CLM_ERR_NO_MEMORY = 5,        /* allocation failed */
    CLM_ERR_IO = 6,               /* a system call on a file or socket failed */
    CLM_ERR_STORE = 7,            /* the database failed (corrupt, unexpected state) */
    CLM_ERR_STORE_FULL = 8,       /* the database map is full and cannot grow */
    CLM_ERR_BUSY = 9,             /* a lock is held by someone else (second instance) */
    CLM_ERR_CRYPTO = 10,          /* a cryptographic operation failed */
    CLM_ERR_PARSE = 11,           /* outside data is malformed */
    CLM_ERR_UNAVAILABLE = 12,     /* a peer or service cannot be reached now */
    CLM_ERR_TIMEOUT = 13,         /* a deadline passed */
    CLM_ERR_CANCELLED = 14,       /* the operation was cancelled by its caller */
    CLM_ERR_INTERNAL = 15,        /* a bug: an invariant does not hold */
    CLM_ERR_UNSUPPORTED = 16,     /* valid request that clm does not implement */
    CLM_ERR_CONFIG = 17,          /* the configuration is wrong; message names the key */
    CLM_ERR_CONFLICT = 18,        /* the record changed or is in use (precondition) */
    CLM_ERR_UNAUTHENTICATED = 19, /* the caller has no identity clm accepts */
    CLM_ERR_MAX
} clm_err;

/** Longest message kept, terminating NUL included. */
#define CLM_ERROR_MESSAGE_MAX 512

/**
 * @brief Stable lower-case name of an error code ("invalid argument").
 * @return a static string; "unknown error" for values outside the enum.
 */
const char *clm_strerror(clm_err err);

/**
 * @brief Record why the calling thread's current operation failed.
 * @param[in] err the code to return (not CLM_OK).
 * @param[in] fmt printf-style message: what was wrong and, where it helps, what to do.
 * @return err, so that a failing function can `return clm_fail(...)`.
 */
clm_err clm_fail(clm_err err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** va_list form of clm_fail(). */
clm_err clm_failv(clm_err err, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/**
 * @brief Prepend context to the thread's message: "context: previous message".
 * @return err unchanged.
 */
clm_err clm_error_context(clm_err err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * @brief The calling thread's last recorded message, or "" when none.
 * @return a thread-local buffer, valid until the next clm_fail* on this thread.
 */
const char *clm_error_message(void);

/** Forget the calling thread's message. */
void clm_error_clear(void);

#endif
