/* fileio.c - bounded, EINTR-safe file reads and mkdir -p (see fileio.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"

static int read_fd_capped(int fd, char *buf, size_t cap, size_t *ret_len, bool *ret_full)
{
	size_t len = 0;
	bool full = false;
	for (;;) {
		ssize_t n;
		if (len == cap) {
			char c;
			do
				n = read(fd, &c, 1);
			while (n < 0 && errno == EINTR);
			full = n > 0;
			break;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret_len = len;
	if (ret_full)
		*ret_full = full;
	return 0;
}

int fio_read_capped(const char *path, char *buf, size_t cap, size_t *ret_len, bool *ret_full)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return read_fd_capped(fd, buf, cap, ret_len, ret_full);
}

int fio_read_alloc(const char *path, size_t cap, char **ret_buf, size_t *ret_len, bool *ret_full)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return fio_read_fd_alloc(fd, cap, ret_buf, ret_len, ret_full);
}

int fio_read_fd_alloc(int fd, size_t cap, char **ret_buf, size_t *ret_len, bool *ret_full)
{
	_cleanup_free_ char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	size_t len;
	int r = read_fd_capped(fd, buf, cap, &len, ret_full);
	if (r < 0)
		return r;
	buf[len] = '\0';
	*ret_len = len;
	*ret_buf = TAKE_PTR(buf);
	return 0;
}

int fio_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t len = strlen(path);

	/* Trailing slashes would make the loop below create the last directory with the parents' mode. */
	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len == 0)
		return -EINVAL;
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len);
	buf[len] = '\0';
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = '\0';
		int r = mkdir(buf, 0755);
		*p = '/';
		if (r < 0 && errno != EEXIST)
			return -errno;
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	if (stat(buf, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}
