/* fileio.h - bounded, EINTR-safe reads of /proc, /sys and state files, shared by every reader; mkdir -p. */
#ifndef MEMOPT_FILEIO_H
#define MEMOPT_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Read up to cap bytes of path into buf (not NUL-terminated). *ret_full (may be NULL) is set when the
 * file holds more than cap bytes. Returns 0 or -errno. */
int fio_read_capped(const char *path, char *buf, size_t cap, size_t *ret_len, bool *ret_full);

/* The same into a malloc'ed, NUL-terminated buffer of at most cap bytes. Returns 0 or -errno. */
int fio_read_alloc(const char *path, size_t cap, char **ret_buf, size_t *ret_len, bool *ret_full);

/* The same from an open fd (for callers that open with O_NOFOLLOW and the like). */
int fio_read_fd_alloc(int fd, size_t cap, char **ret_buf, size_t *ret_len, bool *ret_full);

/* mkdir -p: create path and each missing parent; new parents get 0755, path itself `mode` (both less
 * the umask). Existing directories are left as they are. Returns 0, -ENOTDIR if path (or a parent)
 * exists and is not a directory, or -errno. */
int fio_mkdir_p(const char *path, mode_t mode);

#endif
