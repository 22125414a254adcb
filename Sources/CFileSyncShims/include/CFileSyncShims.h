#ifndef CFILESYNC_SHIMS_H
#define CFILESYNC_SHIMS_H

/// syncfs(2): commits the filesystem that holds `fd` to stable storage. Returns 0 or -1 with errno.
/// Where syncfs is unavailable, falls back to fsync(fd).
int filesync_syncfs(int fd);

/// The value of UTIME_OMIT, for futimens(2) callers.
long filesync_utime_omit(void);

#endif
