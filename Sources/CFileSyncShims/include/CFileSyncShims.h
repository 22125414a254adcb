#ifndef CFILESYNC_SHIMS_H
#define CFILESYNC_SHIMS_H

/// syncfs(2): commits the filesystem that holds `fd` to stable storage. Returns 0 or -1 with errno.
/// Where syncfs is unavailable, falls back to fsync(fd).
int filesync_syncfs(int fd);

/// The value of UTIME_OMIT, for futimens(2) callers.
long filesync_utime_omit(void);

/// Opens an unnamed regular file (O_TMPFILE) for writing in the folder `dirfd`, mode 0600.
/// Returns the descriptor, or -1 with errno (EOPNOTSUPP where the system or filesystem lacks it).
int filesync_open_unnamed(int dirfd);

/// Like filesync_open_unnamed, with the permission bits `mode` (the process's umask applies).
int filesync_open_unnamed_mode(int dirfd, unsigned int mode);

/// Gives the unnamed file `fd` the name `name` in the folder `dirfd` (linkat with AT_EMPTY_PATH where
/// allowed, else through /proc/self/fd). Returns 0 or -1 with errno (EEXIST when the name is taken).
int filesync_link_unnamed(int fd, int dirfd, const char *name);

/// Raises the soft limit on open files towards `wanted` (never above the hard limit). Returns the
/// soft limit now in force, or -1.
long filesync_raise_open_file_limit(long wanted);

/// Raises the soft limit on open files to the hard limit (or, where the kernel refuses that, such as
/// an unlimited hard limit, to 1,048,576 if that is higher). Sets `*before` and `*hard` to the soft
/// limit found and the hard limit (LONG_MAX for unlimited); returns the soft limit now in force,
/// or -1.
long filesync_raise_open_file_limit_to_hard(long *before, long *hard);

/// Starts writing back the dirty pages of `fd` in `offset ..< offset + length` without waiting
/// (`sync_file_range` with `SYNC_FILE_RANGE_WRITE`), so that a later `fdatasync` has little left
/// to wait for. Returns 0, or -1 with errno set.
int filesync_start_writeback(int fd, long long offset, long long length);

/// Turns direct I/O (`O_DIRECT`: writes go to the device, bypassing the page cache) on or off for
/// `fd`. Returns 0, or -1 with errno set (EINVAL where the filesystem does not support it).
int filesync_set_direct_io(int fd, int on);

#include <sys/types.h>

/// Extended attributes of the entry `name` in the folder `dirfd`, never following it (Linux 6.13's
/// *xattrat calls, or on older kernels the l* calls through /proc/self/fd/<dirfd>, so that no path
/// above `dirfd` is resolved again); with `name` NULL, of `dirfd` itself (the f* calls). Each returns
/// what the system call returns (-1 with errno).
ssize_t filesync_xattr_list(int dirfd, const char *name, char *list, size_t size);
ssize_t filesync_xattr_get(int dirfd, const char *name, const char *attribute, void *value, size_t size);
int filesync_xattr_set(int dirfd, const char *name, const char *attribute, const void *value, size_t size);
int filesync_xattr_remove(int dirfd, const char *name, const char *attribute);
/// For tests: with `on`, the calls above take the /proc/self/fd paths of kernels before 6.13.
void filesync_xattr_use_proc_paths(int on);
/// 1 while the calls above use the *xattrat calls (not known to be missing or refused), else 0.
int filesync_xattr_at_calls_in_use(void);

/// Sets glibc's malloc thresholds: allocations below `map_threshold` bytes come from the heap, and
/// an arena's free top is returned to the kernel only beyond `trim_threshold` bytes. Returns 1 when
/// both were set, 0 otherwise (or where the C library has no mallopt).
int filesync_tune_heap(int map_threshold, int trim_threshold);

/// Returns the free memory of every malloc arena to the kernel (malloc_trim(0)); nothing where the
/// C library lacks it.
void filesync_release_free_memory(void);

#endif
