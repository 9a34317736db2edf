/* test_state.c - unit tests for the durable journal of original host values and the checked knob writer. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/state.h"

#define UNUSED __attribute__((unused))

/* Captured log, so restore failures can be checked. */
static char logbuf[64 * 1024];
static size_t loglen;

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (loglen >= sizeof(logbuf) - 1)
		return;
	n = snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "%d ", level);
	if (n > 0)
		loglen += (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(logbuf + loglen, sizeof(logbuf) - loglen, fmt, ap);
	va_end(ap);
	if (n > 0)
		loglen += (size_t)n;
	if (loglen < sizeof(logbuf) - 1)
		logbuf[loglen++] = '\n';
	if (loglen >= sizeof(logbuf))
		loglen = sizeof(logbuf) - 1;
	logbuf[loglen] = '\0';
}

static char tmpdir[64];

static int rm_one(const char *path, const struct stat *sb UNUSED, int flag UNUSED, struct FTW *ftw UNUSED)
{
	return remove(path);
}

/* Each test gets a fresh directory. */
static int setup(void **state UNUSED)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/memopt-st-XXXXXX");
	loglen = 0;
	logbuf[0] = '\0';
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state UNUSED)
{
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *tpath(const char *name)
{
	static char buf[16][256];
	static int next;
	char *p = buf[next++ % 16];

	snprintf(p, 256, "%s/%s", tmpdir, name);
	return p;
}

static void put(const char *path, const char *text)
{
	_cleanup_fclose_ FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
}

/* Whole content of a file (static buffer). */
static const char *get(const char *path)
{
	static char buf[8192];
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	return buf;
}

static struct st_journal *open_ok(const char *dir)
{
	struct st_journal *st = NULL;
	char err[256] = "";

	if (st_open(dir, &st, err, sizeof(err)) != 0)
		fail_msg("st_open(%s): %s", dir, err);
	assert_non_null(st);
	return st;
}

static void test_open_creates_dir(void **state UNUSED)
{
	const char *dir = tpath("a/b/state");
	struct st_journal *st;
	struct stat sb;

	st = open_ok(dir);
	assert_int_equal(st_count(st), 0);
	assert_null(st_get(st, 0));
	assert_null(st_find(st, "ksm.run"));
	assert_int_equal(stat(dir, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0700);
	/* Opening does not write anything. */
	assert_null(get(tpath("a/b/state/originals.json")));
	st_close(st);
	st_close(NULL);
}

static void test_record_survives_reopen(void **state UNUSED)
{
	struct st_journal *st = open_ok(tmpdir);
	const struct st_entry *e;

	assert_int_equal(
	    st_record(st, "ksm.pages_to_scan", "ksm", "/sys/kernel/mm/ksm/pages_to_scan", "100", 2), 0);
	assert_int_equal(
	    st_record(st, "ksm.advisor_mode", "ksm", "/sys/kernel/mm/ksm/advisor_mode", "none", 1), 0);
	assert_int_equal(st_record(st, "sysctl.vm.swappiness", "sysctl", "/proc/sys/vm/swappiness",
				   "weird \"quoted\" \\ value\twith tab", -3),
			 0);
	assert_int_equal(st_count(st), 3);
	/* Simulate a crash: no clean shutdown, just drop the handle and read the disk. */
	st_close(st);
	assert_null(get(tpath("originals.json.tmp")));

	st = open_ok(tmpdir);
	assert_int_equal(st_count(st), 3);
	e = st_find(st, "ksm.pages_to_scan");
	assert_non_null(e);
	assert_string_equal(e->owner, "ksm");
	assert_string_equal(e->path, "/sys/kernel/mm/ksm/pages_to_scan");
	assert_string_equal(e->value, "100");
	assert_int_equal(e->order, 2);
	e = st_find(st, "sysctl.vm.swappiness");
	assert_non_null(e);
	assert_string_equal(e->value, "weird \"quoted\" \\ value\twith tab");
	assert_int_equal(e->order, -3);
	/* Insertion order is kept. */
	assert_string_equal(st_get(st, 0)->key, "ksm.pages_to_scan");
	assert_string_equal(st_get(st, 1)->key, "ksm.advisor_mode");
	assert_null(st_get(st, 3));
	st_close(st);

	/* The file is the documented format. */
	assert_non_null(strstr(get(tpath("originals.json")), "\"v\":1"));
}

static void test_first_original_wins(void **state UNUSED)
{
	struct st_journal *st = open_ok(tmpdir);

	assert_int_equal(st_record(st, "ksm.run", "ksm", "/sys/kernel/mm/ksm/run", "0", 0), 0);
	assert_int_equal(st_record(st, "ksm.run", "ksm", "/sys/kernel/mm/ksm/run", "1", 5), 0);
	assert_int_equal(st_count(st), 1);
	assert_string_equal(st_find(st, "ksm.run")->value, "0");
	st_close(st);
	st = open_ok(tmpdir);
	assert_string_equal(st_find(st, "ksm.run")->value, "0");
	assert_int_equal(st_find(st, "ksm.run")->order, 0);
	st_close(st);
}

static void test_record_rejects_bad_args(void **state UNUSED)
{
	struct st_journal *st = open_ok(tmpdir);
	char longv[ST_VALUE_MAX + 1];

	memset(longv, '7', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	assert_int_equal(st_record(st, "", "ksm", "/x", "1", 0), -EINVAL);
	assert_int_equal(st_record(st, "k", "ksm", "relative/path", "1", 0), -EINVAL);
	assert_int_equal(st_record(st, "k", "ksm", "/x", longv, 0), -ENAMETOOLONG);
	assert_int_equal(st_record(st, "k", "an-owner-name-too-long", "/x", "1", 0), -ENAMETOOLONG);
	longv[ST_VALUE_MAX - 1] = '\0'; /* the longest value that fits */
	assert_int_equal(st_record(st, "k", "ksm", "/x", longv, 0), 0);
	assert_int_equal(st_count(st), 1);
	st_close(st);
}

/* If the journal can't be written, st_record fails and nothing changes, in memory or on disk. */
static void test_record_failure_changes_nothing(void **state UNUSED)
{
	struct st_journal *st = open_ok(tmpdir);
	char before[8192];

	assert_int_equal(st_record(st, "a", "ksm", "/x/a", "1", 0), 0);
	snprintf(before, sizeof(before), "%s", get(tpath("originals.json")));
	/* A directory where the temp file goes makes the durable write fail. */
	assert_int_equal(mkdir(tpath("originals.json.tmp"), 0700), 0);
	assert_true(st_record(st, "b", "ksm", "/x/b", "2", 0) < 0);
	assert_int_equal(st_count(st), 1);
	assert_null(st_find(st, "b"));
	assert_string_equal(get(tpath("originals.json")), before);
	/* Forget fails too and keeps the entry. */
	assert_true(st_forget(st, "a") < 0);
	assert_non_null(st_find(st, "a"));
	assert_int_equal(rmdir(tpath("originals.json.tmp")), 0);
	assert_int_equal(st_record(st, "b", "ksm", "/x/b", "2", 0), 0);
	assert_int_equal(st_count(st), 2);
	st_close(st);
}

static void test_forget(void **state UNUSED)
{
	struct st_journal *st = open_ok(tmpdir);

	assert_int_equal(st_record(st, "a", "ksm", "/x/a", "1", 0), 0);
	assert_int_equal(st_record(st, "b", "ksm", "/x/b", "2", 0), 0);
	assert_int_equal(st_record(st, "c", "ksm", "/x/c", "3", 0), 0);
	assert_int_equal(st_forget(st, "b"), 0);
	assert_int_equal(st_forget(st, "nope"), 0);
	st_close(st);
	st = open_ok(tmpdir);
	assert_int_equal(st_count(st), 2);
	assert_string_equal(st_get(st, 0)->key, "a");
	assert_string_equal(st_get(st, 1)->key, "c");
	st_close(st);
}

static void test_restore_in_order_and_forget(void **state UNUSED)
{
	struct st_journal *st = open_ok(tmpdir);
	const char *k1 = tpath("knob1"), *k2 = tpath("knob2"), *shared = tpath("shared");

	put(k1, "1250\n");
	put(k2, "[none] scan-time\n");
	put(shared, "x\n");
	/* Recorded out of order; "shared" is written twice, so the last writer shows the order. */
	assert_int_equal(st_record(st, "late", "ksm", shared, "written-last", 9), 0);
	assert_int_equal(st_record(st, "k1", "ksm", k1, "1250", 1), 0);
	assert_int_equal(st_record(st, "early", "ksm", shared, "written-first", -1), 0);
	assert_int_equal(st_record(st, "k2", "ksm", k2, "none", 2), 0);
	assert_int_equal(st_record(st, "other", "sysctl", tpath("swappiness"), "60", 0), 0);
	put(tpath("swappiness"), "10\n");
	/* The daemon changed the knobs. */
	put(k1, "20000\n");
	put(k2, "scan-time\n");

	/* Only ksm's entries. */
	assert_int_equal(st_restore(st, "ksm", false), 0);
	assert_string_equal(get(k1), "1250");
	assert_string_equal(get(k2), "none");
	assert_string_equal(get(shared), "written-last");
	assert_string_equal(get(tpath("swappiness")), "10\n");
	assert_int_equal(st_count(st), 1);
	assert_non_null(st_find(st, "other"));
	st_close(st);

	st = open_ok(tmpdir);
	assert_int_equal(st_count(st), 1);
	assert_int_equal(st_restore(st, NULL, false), 0);
	assert_string_equal(get(tpath("swappiness")), "60");
	assert_int_equal(st_count(st), 0);
	st_close(st);
	st = open_ok(tmpdir);
	assert_int_equal(st_count(st), 0);
	st_close(st);
}

static void test_restore_failure_keeps_entry(void **state UNUSED)
{
	struct st_journal *st = open_ok(tmpdir);
	const char *good = tpath("good");

	put(good, "5\n");
	assert_int_equal(mkdir(tpath("adir"), 0700), 0);
	assert_int_equal(st_record(st, "missing", "ksm", tpath("no/such/dir/knob"), "1", 0), 0);
	assert_int_equal(st_record(st, "good", "ksm", good, "7", 1), 0);
	assert_int_equal(st_record(st, "isdir", "ksm", tpath("adir"), "1", 2), 0);

	assert_int_equal(st_restore(st, NULL, false), 2);
	assert_string_equal(get(good), "7");
	assert_int_equal(st_count(st), 2);
	assert_null(st_find(st, "good"));
	assert_non_null(st_find(st, "missing"));
	assert_non_null(st_find(st, "isdir"));
	assert_non_null(strstr(logbuf, "cannot restore missing"));
	assert_non_null(strstr(logbuf, "kept in the journal"));
	st_close(st);

	/* Still there after a restart, for the next attempt. */
	st = open_ok(tmpdir);
	assert_int_equal(st_count(st), 2);
	assert_string_equal(st_get(st, 0)->key, "missing");
	assert_string_equal(st_get(st, 1)->key, "isdir");
	st_close(st);
}

static void test_restore_dry_run(void **state UNUSED)
{
	struct st_journal *st = open_ok(tmpdir);
	const char *k = tpath("knob");

	put(k, "changed\n");
	assert_int_equal(st_record(st, "k", "ksm", k, "orig", 0), 0);
	assert_int_equal(st_restore(st, NULL, true), 0);
	assert_string_equal(get(k), "changed\n");
	assert_int_equal(st_count(st), 1);
	assert_non_null(strstr(logbuf, "would restore k"));
	/* Nothing of another owner: nothing to do. */
	assert_int_equal(st_restore(st, "balloon", false), 0);
	assert_string_equal(get(k), "changed\n");
	st_close(st);
}

struct corrupt_case {
	const char *text;
	const char *msg; /* after "<dir>/originals.json: " */
};

static void test_corrupt_files(void **state UNUSED)
{
	static const struct corrupt_case cases[] = {
	    {"", "empty file"},
	    {"{not json", "invalid JSON at offset 1"},
	    {"{\"v\":1,\"entries\":[{\"key\":\"k\",\"own", "truncated JSON (ends after 33 bytes)"},
	    {"{\"v\":1,\"entries\":[]", "truncated JSON (ends after 19 bytes)"},
	    {"[]", "not a JSON object"},
	    {"{\"v\":1,\"entries\":[]} trailing", "trailing data after the JSON object at offset 21"},
	    {"{\"entries\":[]}", "missing version \"v\""},
	    {"{\"v\":\"1\",\"entries\":[]}", "missing version \"v\""},
	    {"{\"v\":2,\"entries\":[]}", "unsupported version 2 (expected 1)"},
	    {"{\"v\":1}", "missing \"entries\" array"},
	    {"{\"v\":1,\"entries\":{}}", "missing \"entries\" array"},
	    {"{\"v\":1,\"entries\":[5]}", "entry 0: not an object"},
	    {"{\"v\":1,\"entries\":[{\"owner\":\"ksm\",\"path\":\"/x\",\"value\":\"1\",\"order\":0}]}",
	     "entry 0: missing or invalid \"key\""},
	    {"{\"v\":1,\"entries\":[{\"key\":\"\",\"owner\":\"ksm\",\"path\":\"/"
	     "x\",\"value\":\"1\",\"order\":0}]}",
	     "entry 0: missing or invalid \"key\""},
	    {"{\"v\":1,\"entries\":[{\"key\":\"a\",\"owner\":\"ksm\",\"path\":\"/"
	     "x\",\"value\":\"1\",\"order\":0},"
	     "{\"key\":\"b\",\"owner\":\"ksm\",\"value\":\"1\",\"order\":0}]}",
	     "entry 1 (b): missing or invalid \"path\""},
	    {"{\"v\":1,\"entries\":[{\"key\":\"a\",\"owner\":\"ksm\",\"path\":\"x\",\"value\":\"1\","
	     "\"order\":0}]}",
	     "entry 0 (a): missing or invalid \"path\""},
	    {"{\"v\":1,\"entries\":[{\"key\":\"a\",\"owner\":\"ksm\",\"path\":\"/"
	     "x\",\"value\":1,\"order\":0}]}",
	     "entry 0 (a): missing or invalid \"value\""},
	    {"{\"v\":1,\"entries\":[{\"key\":\"a\",\"owner\":\"ksm\",\"path\":\"/"
	     "x\",\"value\":\"a\\u0000b\",\"order\":0}]}",
	     "entry 0 (a): missing or invalid \"value\""},
	    {"{\"v\":1,\"entries\":[{\"key\":\"a\",\"owner\":\"ksm\",\"path\":\"/x\",\"value\":\"1\"}]}",
	     "entry 0 (a): missing or invalid \"order\""},
	    {"{\"v\":1,\"entries\":[{\"key\":\"a\",\"owner\":\"ksm\",\"path\":\"/"
	     "x\",\"value\":\"1\",\"order\":1.5}]}",
	     "entry 0 (a): missing or invalid \"order\""},
	    {"{\"v\":1,\"entries\":[{\"key\":\"a\",\"owner\":\"ksm\",\"path\":\"/"
	     "x\",\"value\":\"1\",\"order\":9999999999}]}",
	     "entry 0 (a): \"order\" out of range"},
	    {"{\"v\":1,\"entries\":[{\"key\":\"a\",\"owner\":\"a-much-too-long-owner\",\"path\":\"/"
	     "x\",\"value\":\"1\","
	     "\"order\":0}]}",
	     "entry 0 (a): missing or invalid \"owner\""},
	    {"{\"v\":1,\"entries\":[{\"key\":\"k\",\"owner\":\"ksm\",\"path\":\"/"
	     "x\",\"value\":\"1\",\"order\":0},"
	     "{\"key\":\"k\",\"owner\":\"ksm\",\"path\":\"/y\",\"value\":\"2\",\"order\":0}]}",
	     "entry 1: duplicate key 'k'"},
	    {"{\"v\":1,\"entries\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	     "invalid JSON at offset"},
	};
	size_t i;

	for (i = 0; i < ELEMENTSOF(cases); i++) {
		struct st_journal *st = (struct st_journal *)0x1;
		char err[512] = "", want[512];
		const char *file = tpath("originals.json");

		put(file, cases[i].text);
		snprintf(want, sizeof(want), "%s: %s", file, cases[i].msg);
		if (st_open(tmpdir, &st, err, sizeof(err)) != -EBADMSG ||
		    strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, err, want);
		/* ret untouched, and the corrupt file is kept as it was. */
		assert_ptr_equal(st, (struct st_journal *)0x1);
		assert_string_equal(get(file), cases[i].text);
	}
}

static void test_quarantine(void **state UNUSED)
{
	struct st_journal *st = NULL;
	char err[512] = "";
	glob_t g;
	char pattern[128];

	put(tpath("originals.json"), "{\"v\":1,\"entr");
	assert_int_equal(st_open(tmpdir, &st, err, sizeof(err)), -EBADMSG);
	assert_int_equal(st_quarantine(tmpdir), 0);
	snprintf(pattern, sizeof(pattern), "%s/originals.json.corrupt-*", tmpdir);
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	assert_string_equal(get(g.gl_pathv[0]), "{\"v\":1,\"entr");
	globfree(&g);
	/* Now it opens as an empty journal. */
	st = open_ok(tmpdir);
	assert_int_equal(st_count(st), 0);
	st_close(st);
	/* Nothing left to quarantine. */
	assert_int_equal(st_quarantine(tmpdir), -ENOENT);
	/* A second corrupt journal in the same second keeps the first one. */
	put(tpath("originals.json"), "garbage");
	assert_int_equal(st_quarantine(tmpdir), 0);
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 2);
	globfree(&g);
	char names[512];
	assert_int_equal(st_find_quarantined(tmpdir, names, sizeof(names)), 2);
	assert_non_null(strstr(names, "originals.json.corrupt-"));
}

/* A held journal refuses every new record and never writes the file. */
static void test_held(void **state UNUSED)
{
	struct st_journal *st = NULL;
	char detail[512];

	put(tpath("originals.json"), "corrupt, must stay as it is");
	assert_int_equal(st_open_held(tmpdir, "corrupt journal X", &st), 0);
	assert_int_equal(st_record(st, "ksm.run", "ksm", "/x/run", "0", 1), -ENOTRECOVERABLE);
	assert_int_equal(st_count(st), 0);
	assert_int_equal(st_forget(st, "ksm.run"), 0);
	assert_int_equal(st_restore(st, NULL, false), 0);
	assert_string_equal(st_health(st, detail, sizeof(detail)), "held");
	assert_string_equal(detail, "corrupt journal X");
	assert_string_equal(get(tpath("originals.json")), "corrupt, must stay as it is");
	st_close(st);
}

static void test_unusable_dir(void **state UNUSED)
{
	struct st_journal *st = NULL;
	char err[512] = "";

	/* The state dir is a file. */
	put(tpath("file"), "x");
	assert_int_equal(st_open(tpath("file"), &st, err, sizeof(err)), -ENOTDIR);
	assert_non_null(strstr(err, "cannot create state directory"));
	assert_null(st);
	/* Below a file. */
	assert_int_equal(st_open(tpath("file/sub"), &st, err, sizeof(err)), -ENOTDIR);
	assert_null(st);
	/* The journal is a directory: it can be opened but not read. */
	assert_int_equal(mkdir(tpath("d"), 0700), 0);
	assert_int_equal(mkdir(tpath("d/originals.json"), 0700), 0);
	assert_int_equal(st_open(tpath("d"), &st, err, sizeof(err)), -EISDIR);
	assert_non_null(strstr(err, "originals.json: read failed"));
	assert_null(st);
	/* A symlink planted as the journal is not followed. */
	assert_int_equal(mkdir(tpath("l"), 0700), 0);
	assert_int_equal(symlink("/etc/passwd", tpath("l/originals.json")), 0);
	assert_int_equal(st_open(tpath("l"), &st, err, sizeof(err)), -ELOOP);
	assert_null(st);
}

static void test_write_value(void **state UNUSED)
{
	const char *k = tpath("knob");

	/* No O_TRUNC on sysfs, but a shorter value in a plain file must not leave a tail behind. */
	put(k, "1250\n");
	assert_int_equal(st_write_value(k, "10"), 0);
	assert_string_equal(get(k), "10");
	assert_int_equal(st_write_value(k, "always madvise never"), 0);
	assert_int_equal(st_write_value(k, ""), 0);
	assert_string_equal(get(k), "");

	/* Never creates a knob. */
	assert_int_equal(st_write_value(tpath("absent"), "1"), -ENOENT);
	assert_null(get(tpath("absent")));
	assert_int_equal(st_write_value(tpath("no/such/dir/knob"), "1"), -ENOENT);
	assert_int_equal(st_write_value(tmpdir, "1"), -EISDIR);

	/* Read-back mismatch: /dev/null takes anything and reads back nothing. */
	assert_int_equal(st_write_value("/dev/null", "5"), -EIO);
}

/* A fake knob that shows the kernel's selection format on read, like advisor_mode or THP "enabled":
 * a FIFO pre-filled with "always [madvise] never", so what is read back is not what was written. */
static void test_write_value_bracketed(void **state UNUSED)
{
	const char *fifo = tpath("fifo");
	static const char shown[] = "always [madvise] never\n";
	_cleanup_close_ int fd = -1;

	assert_int_equal(mkfifo(fifo, 0600), 0);
	fd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	assert_true(fd >= 0);

	assert_int_equal(write(fd, shown, strlen(shown)), (ssize_t)strlen(shown));
	assert_int_equal(st_write_value(fifo, "madvise"), 0);
	assert_int_equal(write(fd, shown, strlen(shown)), (ssize_t)strlen(shown));
	assert_int_equal(st_write_value(fifo, "never"), -EIO);
	/* A bracketed value (as read from the kernel) compares on its word too. */
	assert_int_equal(write(fd, shown, strlen(shown)), (ssize_t)strlen(shown));
	assert_int_equal(st_write_value(fifo, "[madvise]"), 0);
}

/* procfs: a numeric knob of our own process reads back without the leading zeros we wrote, and the
 * kernel rejects a non-number with EINVAL. Only this process is affected, and its value is put back. */
static void test_write_value_procfs(void **state UNUSED)
{
	const char *p = "/proc/self/oom_score_adj";
	char cur[32], padded[40];
	const char *v = get(p);

	if (!v)
		skip();
	snprintf(cur, sizeof(cur), "%.31s", v);
	cur[strcspn(cur, "\n")] = '\0';
	if (cur[0] == '-')
		snprintf(padded, sizeof(padded), "-000%s", cur + 1);
	else
		snprintf(padded, sizeof(padded), "000%s", cur);
	assert_int_equal(st_write_value(p, padded), 0);
	assert_int_equal(st_write_value(p, "not-a-number"), -EINVAL);
	assert_int_equal(st_write_value(p, cur), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_creates_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_survives_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_first_original_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_rejects_bad_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_failure_changes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restore_in_order_and_forget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restore_failure_keeps_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restore_dry_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_held, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_quarantine, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unusable_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_value, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_value_bracketed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_value_procfs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
