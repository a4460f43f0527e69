/*
 * appliance/datadir.h: the data directory and its lock.
 *
 * One clmd per data directory: the lock (flock on DATA_DIR/clmd.lock, which holds
 * the owner's pid) is taken before anything else touches the directory, and is
 * released by the kernel when the process dies, so a crash never leaves a stale lock.
 */
#ifndef CLM_APPLIANCE_DATADIR_H
#define CLM_APPLIANCE_DATADIR_H

#include "lib/base/error.h"

/**
 * @brief Create the directory (mode 0700, parents too) if missing, then lock it.
 * @param[out] lock_fd the descriptor holding the lock; close it to release.
 * @return CLM_OK; CLM_ERR_BUSY naming the pid of the clmd that holds it;
 *         CLM_ERR_IO when the directory cannot be created or opened.
 */
clm_err datadir_lock(const char *path, int *lock_fd);

#endif
