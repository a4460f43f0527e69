/* appliance/datadir.c: create and lock the data directory. */
#include "appliance/datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static clm_err make_dirs(const char *path)
{
    char partial[4096];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(partial))
        return clm_fail(CLM_ERR_IO, "data directory path '%s' is empty or too long", path);
    memcpy(partial, path, len + 1);
    for (char *p = partial + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(partial, 0755) != 0 && errno != EEXIST)
            return clm_fail(CLM_ERR_IO, "cannot create %s: %s", partial, strerror(errno));
        *p = '/';
    }
    if (mkdir(partial, 0700) != 0 && errno != EEXIST)
        return clm_fail(CLM_ERR_IO, "cannot create %s: %s", partial, strerror(errno));
    return CLM_OK;
}

clm_err datadir_lock(const char *path, int *lock_fd)
{
    char lock_path[4200];
    char pid[32];
    clm_err err;
    int fd;

    *lock_fd = -1;
    if ((err = make_dirs(path)) != CLM_OK)
        return err;
    snprintf(lock_path, sizeof(lock_path), "%s/clmd.lock", path);
    fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return clm_fail(CLM_ERR_IO, "cannot open %s: %s", lock_path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(fd);
        return clm_fail(CLM_ERR_BUSY,
                        "data directory %s is in use by another clmd (pid %s); stop it or "
                        "use another --data-dir",
                        path, pid[0] ? pid : "unknown");
    }
    snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, strlen(pid), 0) < 0) {
        close(fd);
        return clm_fail(CLM_ERR_IO, "cannot write %s: %s", lock_path, strerror(errno));
    }
    *lock_fd = fd;
    return CLM_OK;
}
