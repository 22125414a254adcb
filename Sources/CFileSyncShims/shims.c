#define _GNU_SOURCE
#include <sys/stat.h>
#include <unistd.h>
#include "CFileSyncShims.h"

int filesync_syncfs(int fd) {
#ifdef __linux__
    return syncfs(fd);
#else
    return fsync(fd);
#endif
}

long filesync_utime_omit(void) { return UTIME_OMIT; }
