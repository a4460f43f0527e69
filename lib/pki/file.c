/* lib/pki/file.c: bounded reads and atomic 0600 writes of key and certificate files. */
#include "lib/pki/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h> /* mkostemp */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

clm_err pki_file_read(const char *path, clm_buf *out)
{
    char chunk[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    clm_err err = CLM_OK;

    if (fd < 0)
        return clm_fail(errno == ENOENT ? CLM_ERR_NOT_FOUND : CLM_ERR_IO, "%s: %s", path,
                        strerror(errno));
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = clm_fail(CLM_ERR_IO, "%s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (out->len + (size_t)n > PKI_FILE_MAX) {
            err = clm_fail(CLM_ERR_PARSE, "%s: larger than %d bytes", path, PKI_FILE_MAX);
            break;
        }
        if ((err = clm_buf_append(out, chunk, (size_t)n)) != CLM_OK)
            break;
    }
    clm_memwipe(chunk, sizeof chunk);
    close(fd);
    return err;
}

clm_err pki_file_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return clm_fail(CLM_ERR_IO, "%s: %s", dir, strerror(errno));
    rc = fsync(fd);
    close(fd);
    if (rc != 0)
        return clm_fail(CLM_ERR_IO, "fsync %s: %s", dir, strerror(errno));
    return CLM_OK;
}

/* Write path atomically, mode 0600: temporary file in the same directory, fsync, then
 * rename (replace) or link (never replace an existing file), then fsync the directory. */
clm_err pki_file_write(const char *path, const void *data, size_t len, bool replace)
{
    char dir[PATH_MAX], tmp[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const unsigned char *p = data;
    int fd, n;
    clm_err err = CLM_OK;

    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    n = snprintf(tmp, sizeof tmp, "%s/.%s.tmp-XXXXXX", dir, base);
    if (*base == '\0' || n < 0 || n >= (int)sizeof tmp)
        return clm_fail(CLM_ERR_INVALID_ARGUMENT, "cannot write \"%s\": bad or too long path",
                        path);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return clm_fail(CLM_ERR_IO, "cannot create a file in %s: %s", dir, strerror(errno));
    if (fchmod(fd, 0600) != 0)
        err = clm_fail(CLM_ERR_IO, "chmod %s: %s", tmp, strerror(errno));
    while (err == CLM_OK && len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            err = clm_fail(CLM_ERR_IO, "write %s: %s", tmp, strerror(errno));
        else {
            p += w;
            len -= (size_t)w;
        }
    }
    if (err == CLM_OK && fsync(fd) != 0)
        err = clm_fail(CLM_ERR_IO, "fsync %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && err == CLM_OK)
        err = clm_fail(CLM_ERR_IO, "close %s: %s", tmp, strerror(errno));
    if (err == CLM_OK && replace && rename(tmp, path) != 0)
        err = clm_fail(CLM_ERR_IO, "rename %s to %s: %s", tmp, path, strerror(errno));
    if (err == CLM_OK && !replace && link(tmp, path) != 0)
        err = clm_fail(errno == EEXIST ? CLM_ERR_ALREADY_EXISTS : CLM_ERR_IO,
                       "%s: %s; it was not replaced", path,
                       errno == EEXIST ? "already exists" : strerror(errno));
    if (err != CLM_OK || !replace)
        unlink(tmp);
    if (err == CLM_OK)
        err = pki_file_fsync_dir(dir);
    return err;
}
