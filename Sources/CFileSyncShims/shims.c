#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/syscall.h>
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

// Linux 6.13 added the *xattrat calls, which take a directory descriptor and a name like the other
// *at calls, and never follow a symlink with AT_SYMLINK_NOFOLLOW. Without them, the name is reached
// through /proc/self/fd/<dirfd>/<name>, whose lookup costs several times the call itself. Their
// numbers are the same on every architecture that uses the common table (x86-64 and arm64 among them).
#if defined(__x86_64__) || defined(__aarch64__)
#define FILESYNC_SYS_SETXATTRAT 463
#define FILESYNC_SYS_GETXATTRAT 464
#define FILESYNC_SYS_LISTXATTRAT 465
#define FILESYNC_SYS_REMOVEXATTRAT 466

/// The argument block of setxattrat and getxattrat (include/uapi/linux/xattr.h).
struct filesync_xattr_args {
    unsigned long long value __attribute__((aligned(8)));
    unsigned int size;
    unsigned int flags;
};

/// Set once the kernel (or a sandbox's filter) turns out not to have the *xattrat calls; read and
/// written atomically, since any thread may find out.
static int xattrat_known_missing = 0;

static int xattrat_usable(void) { return !__atomic_load_n(&xattrat_known_missing, __ATOMIC_RELAXED); }

/// Whether a failed *xattrat call means the call itself may be missing: then the caller falls back.
static int xattrat_missing(long result) {
    if (result >= 0) return 0;
    if (errno == ENOSYS) {
        __atomic_store_n(&xattrat_known_missing, 1, __ATOMIC_RELAXED);
        return 1;
    }
    // A seccomp filter that does not know the call may refuse it with EPERM: the fallback then
    // gives the real answer (EPERM again, if that is what it is).
    return errno == EPERM;
}

/// After a fallback that followed an EPERM: if the old call succeeded, the EPERM was a filter's
/// refusal of the new call, not the answer, and the new calls are not tried again.
static long xattrat_after_fallback(int refused, long result) {
    if (refused && result >= 0) __atomic_store_n(&xattrat_known_missing, 1, __ATOMIC_RELAXED);
    return result;
}
#define FILESYNC_HAS_XATTRAT 1
#endif

int filesync_xattr_at_calls_in_use(void) {
#ifdef FILESYNC_HAS_XATTRAT
    return xattrat_usable();
#else
    return 0;
#endif
}

void filesync_xattr_use_proc_paths(int on) {
#ifdef FILESYNC_HAS_XATTRAT
    __atomic_store_n(&xattrat_known_missing, on ? 1 : 0, __ATOMIC_RELAXED);
#else
    (void)on;
#endif
}

ssize_t filesync_xattr_list(int dirfd, const char *name, char *list, size_t size) {
    if (name == NULL) return flistxattr(dirfd, list, size);
#ifdef FILESYNC_HAS_XATTRAT
    int refused = 0;
    if (xattrat_usable()) {
        long result = syscall(FILESYNC_SYS_LISTXATTRAT, dirfd, name, AT_SYMLINK_NOFOLLOW, list, size);
        if (!xattrat_missing(result)) return (ssize_t)result;
        refused = errno == EPERM;
    }
    char path[PATH_MAX + 32];
    if (xattr_path(path, sizeof path, dirfd, name) != 0) return -1;
    return (ssize_t)xattrat_after_fallback(refused, llistxattr(path, list, size));
#else
    char path[PATH_MAX + 32];
    if (xattr_path(path, sizeof path, dirfd, name) != 0) return -1;
    return llistxattr(path, list, size);
#endif
}

ssize_t filesync_xattr_get(int dirfd, const char *name, const char *attribute, void *value, size_t size) {
    if (name == NULL) return fgetxattr(dirfd, attribute, value, size);
#ifdef FILESYNC_HAS_XATTRAT
    int refused = 0;
    if (xattrat_usable()) {
        struct filesync_xattr_args args = {(unsigned long long)(uintptr_t)value, (unsigned int)size, 0};
        long result = size > UINT_MAX ? -1 : syscall(
            FILESYNC_SYS_GETXATTRAT, dirfd, name, AT_SYMLINK_NOFOLLOW, attribute, &args, sizeof args);
        if (size <= UINT_MAX && !xattrat_missing(result)) return (ssize_t)result;
        refused = size <= UINT_MAX && errno == EPERM;
    }
    char path[PATH_MAX + 32];
    if (xattr_path(path, sizeof path, dirfd, name) != 0) return -1;
    return (ssize_t)xattrat_after_fallback(refused, lgetxattr(path, attribute, value, size));
#else
    char path[PATH_MAX + 32];
    if (xattr_path(path, sizeof path, dirfd, name) != 0) return -1;
    return lgetxattr(path, attribute, value, size);
#endif
}

int filesync_xattr_set(int dirfd, const char *name, const char *attribute, const void *value, size_t size) {
    if (name == NULL) return fsetxattr(dirfd, attribute, value, size, 0);
#ifdef FILESYNC_HAS_XATTRAT
    int refused = 0;
    if (xattrat_usable()) {
        struct filesync_xattr_args args = {(unsigned long long)(uintptr_t)value, (unsigned int)size, 0};
        long result = size > UINT_MAX ? -1 : syscall(
            FILESYNC_SYS_SETXATTRAT, dirfd, name, AT_SYMLINK_NOFOLLOW, attribute, &args, sizeof args);
        if (size <= UINT_MAX && !xattrat_missing(result)) return (int)result;
        refused = size <= UINT_MAX && errno == EPERM;
    }
    char path[PATH_MAX + 32];
    if (xattr_path(path, sizeof path, dirfd, name) != 0) return -1;
    return (int)xattrat_after_fallback(refused, lsetxattr(path, attribute, value, size, 0));
#else
    char path[PATH_MAX + 32];
    if (xattr_path(path, sizeof path, dirfd, name) != 0) return -1;
    return lsetxattr(path, attribute, value, size, 0);
#endif
}

int filesync_xattr_remove(int dirfd, const char *name, const char *attribute) {
    if (name == NULL) return fremovexattr(dirfd, attribute);
#ifdef FILESYNC_HAS_XATTRAT
    int refused = 0;
    if (xattrat_usable()) {
        long result = syscall(FILESYNC_SYS_REMOVEXATTRAT, dirfd, name, AT_SYMLINK_NOFOLLOW, attribute);
        if (!xattrat_missing(result)) return (int)result;
        refused = errno == EPERM;
    }
    char path[PATH_MAX + 32];
    if (xattr_path(path, sizeof path, dirfd, name) != 0) return -1;
    return (int)xattrat_after_fallback(refused, lremovexattr(path, attribute));
#else
    char path[PATH_MAX + 32];
    if (xattr_path(path, sizeof path, dirfd, name) != 0) return -1;
    return lremovexattr(path, attribute);
#endif
}
#else
void filesync_xattr_use_proc_paths(int on) { (void)on; }

int filesync_xattr_at_calls_in_use(void) { return 0; }

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
