/* test_ksmtuned_conf.c - unit tests for the ksmtuned.conf importer, mostly against hostile files. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
#include "common/config.h"
#include "common/log.h"
#include "ksmtuned/ksmtuned_conf.h"

#define UNUSED __attribute__((unused))
#define GIB_KIB (1024ULL * 1024)

/* Captured log: the importer's warnings are its user interface, so tests check them. */
static char logbuf[256 * 1024];
static size_t loglen;
static int nwarn, nnotice;

void log_msg(int level, const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (level == LOG_WARNING)
		nwarn++;
	if (level == LOG_NOTICE)
		nnotice++;
	/* Every message must be printable: hostile bytes are never echoed raw. */
	for (const char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			fail_msg("unprintable byte 0x%02x in log message: %s", (unsigned)(unsigned char)*p,
				 line);
	loglen += (size_t)snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "%d %s\n", level, line);
	if (loglen >= sizeof(logbuf))
		loglen = sizeof(logbuf) - 1;
}

static void log_reset(void)
{
	loglen = 0;
	logbuf[0] = '\0';
	nwarn = nnotice = 0;
}

static char tmpdir[64];
static char srcdir[512];

static int setup(void **state UNUSED)
{
	const char *env = getenv("MEMOPT_SRCDIR");
	char probe[600];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/memopt-kt-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(srcdir, sizeof(srcdir), "%s", env ? env : ".");
	/* Outside the source tree the fixture tests skip; inside it a missing fixture fails them. */
	snprintf(probe, sizeof(probe), "%s/tests/unit", srcdir);
	if (access(probe, F_OK) != 0)
		srcdir[0] = '\0';
	return 0;
}

static int rm_one(const char *path, const struct stat *sb UNUSED, int flag UNUSED, struct FTW *ftw UNUSED)
{
	return remove(path);
}

static int teardown(void **state UNUSED)
{
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write len bytes into a fresh file in tmpdir; returns its path (static buffer). */
static const char *write_file(const char *name, const void *data, size_t len)
{
	static char path[128];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	return path;
}

static const char *write_text(const char *text)
{
	return write_file("ksmtuned.conf", text, strlen(text));
}

static const char *fixture(const char *name, char *buf, size_t len)
{
	if (!srcdir[0])
		skip();
	snprintf(buf, len, "%s/tests/fixtures/config/%s", srcdir, name);
	if (access(buf, R_OK) != 0)
		fail_msg("fixture %s is missing", buf);
	return buf;
}

static void assert_unchanged(const struct memopt_config *c)
{
	struct memopt_config d;

	cfg_defaults(&d);
	assert_memory_equal(c, &d, sizeof(d));
}

static void assert_log_has(const char *needle)
{
	if (!strstr(logbuf, needle))
		fail_msg("log lacks '%s'; log was:\n%s", needle, logbuf);
}

static void test_stock_file_changes_nothing(void **state UNUSED)
{
	struct memopt_config c;
	char path[600];

	cfg_defaults(&c);
	log_reset();
	assert_int_equal(
	    ksmtuned_conf_import(fixture("ksmtuned-stock.conf", path, sizeof(path)), 16 * GIB_KIB, &c), 0);
	assert_unchanged(&c);
	assert_int_equal(nwarn, 0);
}

static void test_custom_file(void **state UNUSED)
{
	struct memopt_config c;
	char path[600], err[CFG_ERR_MAX], want[800];

	cfg_defaults(&c);
	log_reset();
	fixture("ksmtuned-custom.conf", path, sizeof(path));
	/* SLEEP_MSEC, NPAGES_MIN, NPAGES_MAX, THRES_COEF, THRES_CONST, DEBUG. */
	assert_int_equal(ksmtuned_conf_import(path, 8 * GIB_KIB, &c), 6);
	assert_int_equal(nwarn, 0);

	/* start = max(25% of 8 GiB, 4096 KiB) = 2 GiB; stop = start + 10% of MemTotal. */
	assert_false(c.ksm.start_avail.is_percent);
	assert_int_equal(c.ksm.start_avail.kib, 2 * GIB_KIB);
	assert_false(c.ksm.stop_avail.is_percent);
	assert_int_equal(c.ksm.stop_avail.kib, 2 * GIB_KIB + 8 * GIB_KIB / 10);
	/* 20 ms for a 16 GiB host, scaled: 20 * 16 GiB / 8 GiB. */
	assert_int_equal(c.ksm.sleep_ms, 40);
	assert_int_equal(c.ksm.min_pages_to_scan, 100);
	assert_int_equal(c.ksm.max_pages_to_scan, 3000);
	assert_int_equal(c.daemon.log_level, LOG_DEBUG);

	/* Not applied, each with a notice saying why. */
	snprintf(want, sizeof(want), "%s:2: KSM_MONITOR_INTERVAL accepted but not used", path);
	assert_log_has(want);
	snprintf(want, sizeof(want),
		 "%s:4: KSM_NPAGES_BOOST accepted but not used: memopt computes pages_to_scan", path);
	assert_log_has(want);
	snprintf(want, sizeof(want), "%s:5: KSM_NPAGES_DECAY accepted but not used", path);
	assert_log_has(want);
	snprintf(want, sizeof(want), "%s:10: LOGFILE accepted but not used", path);
	assert_log_has(want);
	assert_int_equal(nnotice, 4);

	/* The result is a valid configuration. */
	snprintf(c.path, sizeof(c.path), "imported");
	if (cfg_validate(&c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

static void test_hostile_fixture(void **state UNUSED)
{
	struct memopt_config c;
	char path[600], want[800];
	int line;

	cfg_defaults(&c);
	c.ksm.max_pages_to_scan = 7;
	log_reset();
	fixture("ksmtuned-hostile.conf", path, sizeof(path));
	assert_int_equal(ksmtuned_conf_import(path, 16 * GIB_KIB, &c), 1);
	assert_int_equal(c.ksm.max_pages_to_scan, 1250);
	/* Lines 2..11 each refused with a warning naming file:line. */
	snprintf(want, sizeof(want),
		 "%s:6: refusing line 'KSM_NPAGES_MAX='12'50': value mixes quoted and unquoted parts", path);
	assert_log_has(want);
	for (line = 2; line <= 11; line++) {
		snprintf(want, sizeof(want), "%d %s:%d: ", LOG_WARNING, path, line);
		assert_log_has(want);
	}
	assert_int_equal(nwarn, 10);
}

/* One line each: must be refused with a warning naming file:1 and the reason. */
static void test_hostile_lines(void **state UNUSED)
{
	static const struct {
		const char *line, *why;
	} cases[] = {
	    {"KSM_NPAGES_MAX=$(reboot)", "contains '$'"},
	    {"KSM_NPAGES_MAX=${X:-5}", "contains '$'"},
	    {"KSM_NPAGES_MAX=$X", "contains '$'"},
	    {"KSM_NPAGES_MAX=`reboot`", "backquote"},
	    {"KSM_NPAGES_MAX=1250; reboot", "contains ';'"},
	    {"KSM_NPAGES_MAX=1250 && reboot", "contains '&'"},
	    {"KSM_NPAGES_MAX=1250 & reboot", "contains '&'"},
	    {"KSM_NPAGES_MAX=1250 | tee /x", "contains '|'"},
	    {"KSM_NPAGES_MAX=1250 || reboot", "contains '|'"},
	    {"KSM_NPAGES_MAX=1250 > /etc/passwd", "shell syntax"},
	    {"KSM_NPAGES_MAX=(1 2)", "shell syntax"},
	    {"KSM_NPAGES_MAX=1250\\", "backslash"},
	    {"KSM_NPAGES_MAX=\"1\\\"\"", "backslash"},
	    {"KSM_NPAGES_MAX='12'50", "mixes quoted and unquoted"},
	    {"KSM_NPAGES_MAX=12'50'", "mixes quoted and unquoted"},
	    {"KSM_NPAGES_MAX=\"12\"'50'", "mixes quoted and unquoted"},
	    {"KSM_NPAGES_MAX=\"1250", "unbalanced quote"},
	    {"KSM_NPAGES_MAX='1250", "unbalanced quote"},
	    {"KSM_NPAGES_MAX=1250'", "unbalanced quote"},
	    {"KSM_NPAGES_MAX=\"1250\"x y", "mixes quoted and unquoted"},
	    {"KSM_NPAGES_MAX=\"1250\"/", "mixes quoted and unquoted"},
	    {"KSM_NPAGES_MAX=\"1250\"*", "unexpected text after the closing quote"},
	    {"rm -rf /", "not a NAME=VALUE assignment"},
	    {". /etc/evil.conf", "not a NAME=VALUE assignment"},
	    {"source /etc/evil.conf", "not a NAME=VALUE assignment"},
	    {"export", "not a NAME=VALUE assignment"},
	    {"KSM_NPAGES_MAX = 1250", "not a NAME=VALUE assignment"},
	    {"1KSM=5", "not a NAME=VALUE assignment"},
	    {"alias ls=rm", "not a NAME=VALUE assignment"},
	    {"KSM_NPAGES_MAX=1250 rm -rf /", "text after the value"},
	    {"KSM_NPAGES_MAX=1250 KSM_NPAGES_MIN=5", "text after the value"},
	    {"KSM_NPAGES_MAX=*", "characters the shell would expand"},
	    {"KSM_NPAGES_MAX=~root", "characters the shell would expand"},
	    {"KSM_NPAGES_MAX=12#50", "characters the shell would expand"},
	    {"KSM_NPAGES_MAX=1\x01", "control characters"},
	    {"KSM_NPAGES_MAX=1\x1b[31m", "control characters"},
	    {"KSM_NPAGES_MAX=1\xc3\xa9", "non-ASCII"},
	    {"KSM_NPAGES_MAX=1\x7f", "non-ASCII"},
	    {"KSM_NPAGES_MAX=-5", "negative number"},
	    {"KSM_NPAGES_MAX=99999999999999999999999", "number out of range"},
	    {"KSM_NPAGES_MAX=18446744073709551616", "number out of range"},
	    {"KSM_NPAGES_MAX=5000000", "number out of range"},
	    {"KSM_NPAGES_MAX=0", "number out of range"},
	    {"KSM_NPAGES_MIN=100001", "number out of range"},
	    {"KSM_THRES_COEF=101", "number out of range"},
	    {"KSM_NPAGES_MAX=12ab", "not a number"},
	    {"KSM_NPAGES_MAX=0x100", "not a number"},
	    {"KSM_NPAGES_MAX=1.5", "not a number"},
	    {"KSM_NPAGES_MAX=\" \"", "not a number"},
	    {"KSM_NPAGES_MAX=", "empty value"},
	    {"KSM_NPAGES_MAX=\"\"", "empty value"},
	    {"KSM_NPAGES_BOOST=lots", "not a number"},
	    {"DEBUG=yes", "not a number"},
	    {"DEBUG=2", "number out of range"},
	    {"FOO=1", "unknown setting 'FOO'"},
	    {"PATH=/tmp/evil", "unknown setting 'PATH'"},
	    {"LD_PRELOAD=/tmp/evil.so", "unknown setting 'LD_PRELOAD'"},
	};
	size_t i;

	for (i = 0; i < ELEMENTSOF(cases); i++) {
		struct memopt_config c;
		char text[256], want[256];
		const char *path;
		int r;

		snprintf(text, sizeof(text), "%s\n", cases[i].line);
		path = write_text(text);
		cfg_defaults(&c);
		log_reset();
		r = ksmtuned_conf_import(path, 16 * GIB_KIB, &c);
		if (r != 0 || nwarn != 1)
			fail_msg("'%s': r=%d warnings=%d, log:\n%s", cases[i].line, r, nwarn, logbuf);
		assert_unchanged(&c);
		snprintf(want, sizeof(want), "%d %s:1: ", LOG_WARNING, path);
		assert_log_has(want);
		assert_log_has(cases[i].why);
	}
}

/* Shapes a real ksmtuned.conf may have that are fine. */
static void test_accepted_forms(void **state UNUSED)
{
	static const struct {
		const char *line;
		uint64_t max_pages;
	} cases[] = {
	    {"KSM_NPAGES_MAX=1250", 1250},
	    {"KSM_NPAGES_MAX=\"1250\"", 1250},
	    {"KSM_NPAGES_MAX='1250'", 1250},
	    {"export KSM_NPAGES_MAX=1250", 1250},
	    {"  export \t KSM_NPAGES_MAX=\"1250\"  # a comment", 1250},
	    {"KSM_NPAGES_MAX=1250# not a comment in sh, but '#' is refused unquoted", 0},
	    {"KSM_NPAGES_MAX=1250 # comment", 1250},
	    {"KSM_NPAGES_MAX=1250\t", 1250},
	    {"KSM_NPAGES_MAX=1250\r", 1250},
	    {"KSM_NPAGES_MAX=001250", 1250},
	    {"KSM_NPAGES_MAX=\" 1250 \"", 1250},
	    {"KSM_NPAGES_MAX=1000000", 1000000},
	};
	size_t i;

	for (i = 0; i < ELEMENTSOF(cases); i++) {
		struct memopt_config c;
		char text[256];
		int r;

		snprintf(text, sizeof(text), "%s\n", cases[i].line);
		cfg_defaults(&c);
		log_reset();
		r = ksmtuned_conf_import(write_text(text), 16 * GIB_KIB, &c);
		if (cases[i].max_pages == 0) {
			assert_int_equal(r, 0);
			assert_int_equal(nwarn, 1);
			continue;
		}
		if (r != 1 || c.ksm.max_pages_to_scan != cases[i].max_pages || nwarn != 0)
			fail_msg("'%s': r=%d max=%llu warnings=%d\n%s", cases[i].line, r,
				 (unsigned long long)c.ksm.max_pages_to_scan, nwarn, logbuf);
	}
}

static void test_thresholds(void **state UNUSED)
{
	struct memopt_config c;

	/* Only COEF: CONST defaults to 2048 KiB. 16 GiB * 10% wins. */
	cfg_defaults(&c);
	log_reset();
	assert_int_equal(ksmtuned_conf_import(write_text("KSM_THRES_COEF=10\n"), 16 * GIB_KIB, &c), 1);
	assert_int_equal(c.ksm.start_avail.kib, 16 * GIB_KIB / 10);
	assert_int_equal(c.ksm.stop_avail.kib, 16 * GIB_KIB / 10 + 16 * GIB_KIB / 10);
	assert_false(c.ksm.start_avail.is_percent);
	assert_false(c.ksm.stop_avail.is_percent);

	/* Only CONST: COEF defaults to 20%; a big CONST wins over 20% of 1 GiB. */
	cfg_defaults(&c);
	assert_int_equal(ksmtuned_conf_import(write_text("KSM_THRES_CONST=409600\n"), GIB_KIB, &c), 1);
	assert_int_equal(c.ksm.start_avail.kib, 409600);
	assert_int_equal(c.ksm.stop_avail.kib, 409600 + GIB_KIB / 10);

	/* Only CONST, small: 20% of MemTotal (200 KiB of 1000) wins over CONST = 100. */
	cfg_defaults(&c);
	assert_int_equal(ksmtuned_conf_import(write_text("KSM_THRES_CONST=100\n"), 1000, &c), 1);
	assert_int_equal(c.ksm.start_avail.kib, 200);
	assert_int_equal(c.ksm.stop_avail.kib, 300);

	/* COEF 0 and CONST 0: start 0, stop still above it. */
	cfg_defaults(&c);
	assert_int_equal(ksmtuned_conf_import(write_text("KSM_THRES_COEF=0\nKSM_THRES_CONST=0\n"), 10000, &c),
			 2);
	assert_int_equal(c.ksm.start_avail.kib, 0);
	assert_int_equal(c.ksm.stop_avail.kib, 1000);

	/* MemTotal under 10 KiB (garbled meminfo): stop stays above start, so the result validates.
	 * Found by tests/fuzz/fuzz_ksmtuned_conf (corpus entry regress-memtotal-tiny). */
	cfg_defaults(&c);
	assert_int_equal(ksmtuned_conf_import(write_text("KSM_THRES_CONST=4096\n"), 1, &c), 1);
	assert_int_equal(c.ksm.start_avail.kib, 4096);
	assert_int_equal(c.ksm.stop_avail.kib, 4097);
	{
		char err[256];
		assert_int_equal(cfg_validate(&c, err, sizeof(err)), 0);
	}

	/* No overflow with an absurd MemTotal. */
	cfg_defaults(&c);
	assert_int_equal(ksmtuned_conf_import(write_text("KSM_THRES_COEF=100\n"), UINT64_MAX / 2, &c), 1);
	assert_int_equal(c.ksm.start_avail.kib, UINT64_MAX / 2);

	/* MemTotal unknown: thresholds and sleep can't be computed, a warning each, nothing changed. */
	cfg_defaults(&c);
	log_reset();
	assert_int_equal(ksmtuned_conf_import(write_text("KSM_THRES_COEF=10\nKSM_SLEEP_MSEC=10\n"), 0, &c),
			 0);
	assert_unchanged(&c);
	assert_int_equal(nwarn, 2);
	assert_log_has("MemTotal unknown");
}

static void test_sleep_scaling(void **state UNUSED)
{
	static const struct {
		uint64_t sleep, mem_kib, want;
	} cases[] = {
	    {10, 16 * GIB_KIB, 10}, /* the reference host */
	    {10, 64 * GIB_KIB, 10}, /* 2.5 ms, raised to ksmtuned's floor of 10 */
	    {10, 1 * GIB_KIB, 160}, /* smaller hosts sleep more */
	    {100, 4 * GIB_KIB, 400}, {0, 16 * GIB_KIB, 10},
	    {1000, 1024, 10000}, /* 16384000 ms, capped at memopt's maximum */
	    {1000000, 1, 10000}, /* no overflow */
	};
	size_t i;

	for (i = 0; i < ELEMENTSOF(cases); i++) {
		struct memopt_config c;
		char text[64];

		snprintf(text, sizeof(text), "KSM_SLEEP_MSEC=%llu\n", (unsigned long long)cases[i].sleep);
		cfg_defaults(&c);
		assert_int_equal(ksmtuned_conf_import(write_text(text), cases[i].mem_kib, &c), 1);
		if (c.ksm.sleep_ms != cases[i].want)
			fail_msg("SLEEP_MSEC=%llu on %llu KiB: sleep_ms=%llu, want %llu",
				 (unsigned long long)cases[i].sleep, (unsigned long long)cases[i].mem_kib,
				 (unsigned long long)c.ksm.sleep_ms, (unsigned long long)cases[i].want);
	}
}

static void test_npages_consistency(void **state UNUSED)
{
	struct memopt_config c;
	char err[CFG_ERR_MAX];

	/* Only MAX, below memopt's default min (32): min follows it down. */
	cfg_defaults(&c);
	log_reset();
	assert_int_equal(ksmtuned_conf_import(write_text("KSM_NPAGES_MAX=20\n"), 16 * GIB_KIB, &c), 1);
	assert_int_equal(c.ksm.max_pages_to_scan, 20);
	assert_int_equal(c.ksm.min_pages_to_scan, 20);
	assert_int_equal(cfg_validate(&c, err, sizeof(err)), 0);

	/* Only MIN, above memopt's default max (20000): max follows it up. */
	cfg_defaults(&c);
	assert_int_equal(ksmtuned_conf_import(write_text("KSM_NPAGES_MIN=50000\n"), 16 * GIB_KIB, &c), 1);
	assert_int_equal(c.ksm.min_pages_to_scan, 50000);
	assert_int_equal(c.ksm.max_pages_to_scan, 50000);
	assert_int_equal(cfg_validate(&c, err, sizeof(err)), 0);

	/* Both, inconsistent: both skipped with a warning. */
	cfg_defaults(&c);
	log_reset();
	assert_int_equal(
	    ksmtuned_conf_import(write_text("KSM_NPAGES_MIN=500\nKSM_NPAGES_MAX=100\n"), 16 * GIB_KIB, &c),
	    0);
	assert_unchanged(&c);
	assert_int_equal(nwarn, 1);
	assert_log_has("KSM_NPAGES_MIN (500) is above KSM_NPAGES_MAX (100), both skipped");

	/* As in sh, the last assignment wins; a refused later one leaves the earlier one. */
	cfg_defaults(&c);
	assert_int_equal(ksmtuned_conf_import(write_text("KSM_NPAGES_MAX=100\nKSM_NPAGES_MAX=200\n"
							 "KSM_NPAGES_MAX=$(reboot)\n"),
					      16 * GIB_KIB, &c),
			 1);
	assert_int_equal(c.ksm.max_pages_to_scan, 200);
}

static void test_debug(void **state UNUSED)
{
	struct memopt_config c;

	cfg_defaults(&c);
	assert_int_equal(ksmtuned_conf_import(write_text("DEBUG=1\n"), 16 * GIB_KIB, &c), 1);
	assert_int_equal(c.daemon.log_level, LOG_DEBUG);
	cfg_defaults(&c);
	assert_int_equal(ksmtuned_conf_import(write_text("DEBUG=0\n"), 16 * GIB_KIB, &c), 0);
	assert_unchanged(&c);
}

static void test_huge_line_nul_and_garbage(void **state UNUSED)
{
	struct memopt_config c;
	_cleanup_free_ char *buf = malloc(200000);
	unsigned seed = 4242;
	const char *path;
	size_t i, n;

	assert_non_null(buf);

	/* A 100000-character line is skipped; the next line still counts. */
	memset(buf, 'A', 100000);
	memcpy(buf, "KSM_NPAGES_MAX=", 15);
	n = 100000;
	n += (size_t)sprintf(buf + n, "\nKSM_NPAGES_MIN=50\n");
	cfg_defaults(&c);
	log_reset();
	path = write_file("huge.conf", buf, n);
	assert_int_equal(ksmtuned_conf_import(path, 16 * GIB_KIB, &c), 1);
	assert_int_equal(c.ksm.min_pages_to_scan, 50);
	assert_int_equal(c.ksm.max_pages_to_scan, 20000);
	assert_log_has(":1: line too long (100000 characters, at most 1023), skipped");
	assert_int_equal(nwarn, 1);

	/* NUL bytes: that line is skipped (the shell would see a different value than we do). */
	static const char nul[] = "KSM_NPAGES_MAX=12\0"
				  "00\nKSM_NPAGES_MIN=50\n";
	cfg_defaults(&c);
	log_reset();
	path = write_file("nul.conf", nul, sizeof(nul) - 1);
	assert_int_equal(ksmtuned_conf_import(path, 16 * GIB_KIB, &c), 1);
	assert_int_equal(c.ksm.max_pages_to_scan, 20000);
	assert_int_equal(c.ksm.min_pages_to_scan, 50);
	assert_log_has(":1: NUL byte in line, skipped");

	/* Binary garbage, then one good line: no crash, the good line applies, the log stays printable. */
	n = 150000;
	for (i = 0; i < n; i++)
		buf[i] = (char)(rand_r(&seed) & 0xff);
	n += (size_t)sprintf(buf + n, "\nKSM_NPAGES_MIN=60\n");
	cfg_defaults(&c);
	log_reset();
	path = write_file("garbage.conf", buf, n);
	assert_int_equal(ksmtuned_conf_import(path, 16 * GIB_KIB, &c), 1);
	assert_int_equal(c.ksm.min_pages_to_scan, 60);
	assert_true(nwarn > 0);

	/* Over 1 MiB: refused as a whole. */
	_cleanup_free_ char *big = malloc(1024 * 1024 + 1);
	assert_non_null(big);
	memset(big, '#', 1024 * 1024 + 1);
	cfg_defaults(&c);
	log_reset();
	assert_int_equal(ksmtuned_conf_import(write_file("big.conf", big, 1024 * 1024 + 1), 16 * GIB_KIB, &c),
			 -EFBIG);
	assert_unchanged(&c);
	/* Exactly 1 MiB of comments is fine. */
	assert_int_equal(ksmtuned_conf_import(write_file("big.conf", big, 1024 * 1024), 16 * GIB_KIB, &c), 0);
}

static void test_unreadable(void **state UNUSED)
{
	struct memopt_config c;
	char path[128];

	cfg_defaults(&c);
	assert_int_equal(ksmtuned_conf_import("/nonexistent/ksmtuned.conf", 16 * GIB_KIB, &c), -ENOENT);
	assert_int_equal(ksmtuned_conf_import(tmpdir, 16 * GIB_KIB, &c), -EINVAL);
	/* A FIFO must not hang the import. */
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(ksmtuned_conf_import(path, 16 * GIB_KIB, &c), -EINVAL);
	assert_unchanged(&c);
	/* The same for memoptd.conf. */
	char err[CFG_ERR_MAX];
	assert_int_equal(cfg_parse_file(path, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stock_file_changes_nothing),
	    cmocka_unit_test(test_custom_file),
	    cmocka_unit_test(test_hostile_fixture),
	    cmocka_unit_test(test_hostile_lines),
	    cmocka_unit_test(test_accepted_forms),
	    cmocka_unit_test(test_thresholds),
	    cmocka_unit_test(test_sleep_scaling),
	    cmocka_unit_test(test_npages_consistency),
	    cmocka_unit_test(test_debug),
	    cmocka_unit_test(test_huge_line_nul_and_garbage),
	    cmocka_unit_test(test_unreadable),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
