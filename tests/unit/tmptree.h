/* tmptree.h - helpers for unit tests that work on a temp directory tree `dir` (the including test
 * defines `static char dir[64]` before including this and creates it with mkdtemp): write a file,
 * read one back (trailing newline dropped), and the nftw callback that removes the tree. */
#ifndef MEMOPT_TESTS_TMPTREE_H
#define MEMOPT_TESTS_TMPTREE_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include "common/fileio.h"

static int rm_one(const char *path, const struct stat *sb __attribute__((unused)),
		  int flag __attribute__((unused)), struct FTW *ftw __attribute__((unused)))
{
	return remove(path);
}

static void put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *get(const char *rel)
{
	static char buf[256];
	char path[256];
	size_t len;
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (fio_read_capped(path, buf, sizeof(buf) - 1, &len, NULL) < 0)
		return "(unreadable)";
	buf[len] = '\0';
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return buf;
}

#endif
