#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/xattr.h>
#endif
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

int filesync_open_unnamed(int dirfd) { return filesync_open_unnamed_mode(dirfd, 0600); }

int filesync_open_unnamed_mode(int dirfd, unsigned int mode) {
#ifdef O_TMPFILE
    return openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, (mode_t)mode);
#else
    (void)dirfd;
    (void)mode;
    errno = EOPNOTSUPP;
    return -1;
#endif
}

int filesync_link_unnamed(int fd, int dirfd, const char *name) {
#ifdef __linux__
    /* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH (before Linux 6.10, or without the file open): try it
       first, as it skips resolving a /proc path; remember when it is refused. */
    static int emptyPathRefused = 0;
    if (!__atomic_load_n(&emptyPathRefused, __ATOMIC_RELAXED)) {
        if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0) return 0;
        if (errno != EPERM && errno != ENOENT && errno != EINVAL) return -1;
        __atomic_store_n(&emptyPathRefused, 1, __ATOMIC_RELAXED);
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, path, dirfd, name, AT_SYMLINK_FOLLOW);
#else
    (void)fd;
    (void)dirfd;
    (void)name;
    errno = EOPNOTSUPP;
    return -1;
#endif
}

static long filesync_limit_value(rlim_t value) {
    return value == RLIM_INFINITY || value > (rlim_t)LONG_MAX ? LONG_MAX : (long)value;
}

long filesync_raise_open_file_limit(long wanted) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    rlim_t target = (rlim_t)wanted;
    if (limit.rlim_max != RLIM_INFINITY && target > limit.rlim_max) target = limit.rlim_max;
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < target) {
        limit.rlim_cur = target;
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0 && getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    }
    return limit.rlim_cur == RLIM_INFINITY ? wanted : (long)limit.rlim_cur;
}

long filesync_raise_open_file_limit_to_hard(long *before, long *hard) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    *before = filesync_limit_value(limit.rlim_cur);
    *hard = filesync_limit_value(limit.rlim_max);
    if (limit.rlim_cur != limit.rlim_max) {
        struct rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
            // Linux caps the soft limit at fs.nr_open (macOS at OPEN_MAX): an unlimited hard limit
            // cannot be the soft one.
            raised.rlim_cur = (rlim_t)1 << 20;
            if (limit.rlim_max != RLIM_INFINITY && raised.rlim_cur > limit.rlim_max) raised.rlim_cur = limit.rlim_max;
            if (raised.rlim_cur > limit.rlim_cur) (void)setrlimit(RLIMIT_NOFILE, &raised);
        }
        if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    }
    return filesync_limit_value(limit.rlim_cur);
}

int filesync_start_writeback(int fd, long long offset, long long length) {
#ifdef __linux__
    return sync_file_range(fd, (off_t)offset, (off_t)length, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}

int filesync_set_direct_io(int fd, int on) {
#ifdef O_DIRECT
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, on ? (flags | O_DIRECT) : (flags & ~O_DIRECT));
#else
    (void)fd; (void)on;
    errno = EINVAL;
    return -1;
#endif
}

#ifdef __linux__
/// "/proc/self/fd/<dirfd>/<name>" in `buffer`; 0, or -1 with errno ENAMETOOLONG.
static int xattr_path(char *buffer, size_t size, int dirfd, const char *name) {
    int written = snprintf(buffer, size, "/proc/self/fd/%d/%s", dirfd, name);
    if (written < 0 || (size_t)written >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

ssize_t filesync_xattr_list(int dirfd, const char *name, char *list, size_t size) {
    if (name == NULL) return flistxattr(dirfd, list, size);
    char path[PATH_MAX + 32];
    if (xattr_path(path, sizeof path, dirfd, name) != 0) return -1;
    return llistxattr(path, list, size);
}

ssize_t filesync_xattr_get(int dirfd, const char *name, const char *attribute, void *value, size_t size) {
    if (name == NULL) return fgetxattr(dirfd, attribute, value, size);
    char path[PATH_MAX + 32];
    if (xattr_path(path, sizeof path, dirfd, name) != 0) return -1;
    return lgetxattr(path, attribute, value, size);
}

int filesync_xattr_set(int dirfd, const char *name, const char *attribute, const void *value, size_t size) {
    if (name == NULL) return fsetxattr(dirfd, attribute, value, size, 0);
    char path[PATH_MAX + 32];
    if (xattr_path(path, sizeof path, dirfd, name) != 0) return -1;
    return lsetxattr(path, attribute, value, size, 0);
}

int filesync_xattr_remove(int dirfd, const char *name, const char *attribute) {
    if (name == NULL) return fremovexattr(dirfd, attribute);
    char path[PATH_MAX + 32];
    if (xattr_path(path, sizeof path, dirfd, name) != 0) return -1;
    return lremovexattr(path, attribute);
}
#else
ssize_t filesync_xattr_list(int dirfd, const char *name, char *list, size_t size) {
    (void)dirfd; (void)name; (void)list; (void)size;
    errno = ENOTSUP;
    return -1;
}

ssize_t filesync_xattr_get(int dirfd, const char *name, const char *attribute, void *value, size_t size) {
    (void)dirfd; (void)name; (void)attribute; (void)value; (void)size;
    errno = ENOTSUP;
    return -1;
}

int filesync_xattr_set(int dirfd, const char *name, const char *attribute, const void *value, size_t size) {
    (void)dirfd; (void)name; (void)attribute; (void)value; (void)size;
    errno = ENOTSUP;
    return -1;
}

int filesync_xattr_remove(int dirfd, const char *name, const char *attribute) {
    (void)dirfd; (void)name; (void)attribute;
    errno = ENOTSUP;
    return -1;
}
#endif

int filesync_tune_heap(int map_threshold, int trim_threshold) {
#ifdef __GLIBC__
    int mapped = mallopt(M_MMAP_THRESHOLD, map_threshold);
    int trimmed = mallopt(M_TRIM_THRESHOLD, trim_threshold);
    return mapped == 1 && trimmed == 1;
#else
    (void)map_threshold;
    (void)trim_threshold;
    return 0;
#endif
}

void filesync_release_free_memory(void) {
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}
