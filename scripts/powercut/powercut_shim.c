/* LD_PRELOAD shim for the power-cut harness (powercutfs.py), active only when
   FILESYNC_POWERCUT_CONTROL names the file system's control file, and only for descriptors on that
   file system. It supplies what FUSE does not forward:
   - syncfs(2): FUSE does not pass it on; the shim writes "syncfs" to the control file, which
     commits everything, then calls the real syncfs.
   - O_TMPFILE: FUSE cannot create unnamed files. The shim creates a file named
     ".powercut-unnamed-PID-N" instead (powercutfs never lists nor commits such names, so a cut loses
     it as ext4 loses an unlinked inode), a linkat of it (AT_EMPTY_PATH or /proc/self/fd/N) becomes a
     rename without replacement to the new name, and closing it unlinked removes it.
   After a cut every stat fails with EIO, and so does the call. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FD 65536

struct unnamed {
    int directory; /* a descriptor of the folder holding the placeholder name, or -1 */
    char name[64];
};

static struct unnamed *table;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long counter;

static const char *control(void) { return getenv("FILESYNC_POWERCUT_CONTROL"); }

/* 1: fd is on the harness's file system; 0: it is not; -1: the file system is dead (errno set). */
static int on_harness(int fd) {
    const char *path = control();
    if (!path) return 0;
    struct stat target, fs;
    if (fstat(fd, &target) != 0 || stat(path, &fs) != 0) return -1;
    return target.st_dev == fs.st_dev;
}

int syncfs(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "syncfs");
    int where = on_harness(fd);
    if (where < 0) return -1;
    /* The harness's own check: a server whose syncfs does nothing must be caught losing files. */
    if (where && getenv("FILESYNC_POWERCUT_SABOTAGE_SYNCFS")) return 0;
    if (where) {
        int c = open(control(), O_WRONLY | O_CLOEXEC);
        if (c < 0) return -1;
        ssize_t written = write(c, "syncfs", 6);
        int saved = errno;
        close(c);
        if (written != 6) {
            errno = saved;
            return -1;
        }
    }
    return real(fd);
}

static int open_unnamed(int dirfd, const char *path, int flags, mode_t mode) {
    static int (*real)(int, const char *, int, ...);
    if (!real) real = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
    int directory = real(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory < 0) return -1;
    int where = on_harness(directory);
    if (where <= 0) {
        close(directory);
        if (where == 0) errno = EOPNOTSUPP;
        return -1;
    }
    char name[64];
    pthread_mutex_lock(&lock);
    if (!table) table = calloc(MAX_FD, sizeof *table);
    snprintf(name, sizeof name, ".powercut-unnamed-%d-%lu", (int)getpid(), ++counter);
    pthread_mutex_unlock(&lock);
    int access = flags & O_ACCMODE;
    int fd = real(directory, name, access | O_CREAT | O_EXCL | (flags & O_CLOEXEC), mode);
    if (fd < 0 || fd >= MAX_FD || !table) {
        int saved = errno;
        if (fd >= 0) {
            close(fd);
            unlinkat(directory, name, 0);
            saved = EOPNOTSUPP;
        }
        close(directory);
        errno = saved;
        return -1;
    }
    pthread_mutex_lock(&lock);
    table[fd].directory = directory + 1; /* stored plus one: zero means "not ours" */
    memcpy(table[fd].name, name, sizeof name);
    pthread_mutex_unlock(&lock);
    return fd;
}

static int forward_openat(const char *symbol, int dirfd, const char *path, int flags, mode_t mode) {
    int (*real)(int, const char *, int, ...) = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, symbol);
    if ((flags & O_TMPFILE) == O_TMPFILE && control()) return open_unnamed(dirfd, path, flags, mode);
    return real(dirfd, path, flags, mode);
}

/* The mode argument, present only when open(2) needs one (glibc's __OPEN_NEEDS_MODE). */
#define READ_MODE(flags, mode)                                                  \
    do {                                                                        \
        if (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE) {        \
            va_list args;                                                       \
            va_start(args, flags);                                              \
            (mode) = va_arg(args, mode_t);                                      \
            va_end(args);                                                       \
        }                                                                       \
    } while (0)

int openat(int dirfd, const char *path, int flags, ...) {
    mode_t mode = 0;
    READ_MODE(flags, mode);
    return forward_openat("openat", dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...) {
    mode_t mode = 0;
    READ_MODE(flags, mode);
    return forward_openat("openat64", dirfd, path, flags, mode);
}

/* Takes fd's placeholder out of the table; 1 if it had one. */
static int take(int fd, struct unnamed *out) {
    if (fd < 0 || fd >= MAX_FD) return 0;
    pthread_mutex_lock(&lock);
    int found = table && table[fd].directory != 0;
    if (found) {
        *out = table[fd];
        out->directory -= 1;
        table[fd].directory = 0;
    }
    pthread_mutex_unlock(&lock);
    return found;
}

int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags) {
    static int (*real)(int, const char *, int, const char *, int);
    if (!real) real = (int (*)(int, const char *, int, const char *, int))dlsym(RTLD_NEXT, "linkat");
    int fd = -1;
    if ((flags & AT_EMPTY_PATH) && oldpath[0] == 0) fd = olddirfd;
    if (strncmp(oldpath, "/proc/self/fd/", 14) == 0) fd = atoi(oldpath + 14);
    struct unnamed placeholder;
    if (!take(fd, &placeholder)) return real(olddirfd, oldpath, newdirfd, newpath, flags);
    int result = renameat2(placeholder.directory, placeholder.name, newdirfd, newpath, RENAME_NOREPLACE);
    int saved = errno;
    if (result != 0) {
        pthread_mutex_lock(&lock);
        table[fd] = placeholder;
        table[fd].directory += 1;
        pthread_mutex_unlock(&lock);
    } else {
        close(placeholder.directory);
    }
    errno = saved;
    return result;
}

int close(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "close");
    struct unnamed placeholder;
    if (table && take(fd, &placeholder)) {
        unlinkat(placeholder.directory, placeholder.name, 0);
        real(placeholder.directory);
    }
    return real(fd);
}
