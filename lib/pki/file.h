/*
 * lib/pki/file.h: files that hold keys and certificates: read with a size limit, write
 * atomically with mode 0600.
 *
 * A write goes to a temporary file in the same directory (".NAME.tmp-XXXXXX", created
 * 0600 by mkstemp), is fsync'd, then renamed over the target (replace) or hard-linked to
 * it (no replace: fails if the target exists, atomically), and the directory is fsync'd.
 * A crash leaves either the old file, or the new one, plus at most a temporary file that
 * the owner of the directory may remove.
 *
 * Caveats: only the file's mode is set here; the directory's mode and owner are the
 * caller's concern (keys belong in a 0700 directory).
 *
 * Thread rules: every function may be called from any thread.
 */
#ifndef CLM_LIB_PKI_FILE_H
#define CLM_LIB_PKI_FILE_H

#include "lib/base/buf.h"
#include "lib/base/error.h"

#include <stdbool.h>
#include <stddef.h>

/** Largest file pki_file_read() accepts (a PEM certificate is about 1 KiB). */
#define PKI_FILE_MAX (1024 * 1024)

/**
 * @brief Append the contents of path to out.
 * @param[in]     path the file.
 * @param[in,out] out  appended to; may be reallocated. For a key, release it with
 *                     clm_buf_wipe(). The read buffer on the stack is wiped.
 * @return CLM_OK; CLM_ERR_NOT_FOUND when the file does not exist; CLM_ERR_PARSE when it
 *         is larger than PKI_FILE_MAX; CLM_ERR_IO for other errors (message: path and
 *         errno text).
 */
clm_err pki_file_read(const char *path, clm_buf *out);

/**
 * @brief Write len bytes to path atomically, mode 0600 (see the top of this file).
 * @param[in] replace true: replace an existing file; false: fail if path exists.
 * @return CLM_OK; CLM_ERR_ALREADY_EXISTS (replace false and path exists; it is left
 *         untouched); CLM_ERR_INVALID_ARGUMENT for a path ending in '/' or too long;
 *         CLM_ERR_IO (message: path and errno text). On error no temporary file remains.
 */
clm_err pki_file_write(const char *path, const void *data, size_t len, bool replace);

/**
 * @brief fsync a directory, so that renames and links in it are durable.
 * @return CLM_OK or CLM_ERR_IO.
 */
clm_err pki_file_fsync_dir(const char *dir);

#endif
