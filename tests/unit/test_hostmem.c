/* test_hostmem.c - hostmem readers against fixture trees, hostile files, and libproc2 on the real /proc. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/hostmem.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

static char tmpdir[64];

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

static int setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/memopt-test-hostmem-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write <tmpdir>/<rel> (creating pressure/ when needed); returns the full path in a static buffer. */
static const char *put(const char *rel, const char *text)
{
	static char path[PATH_MAX];
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/pressure", tmpdir);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void test_basic_meminfo(void **state)
{
	(void)state;
	struct host_mem m;
	assert_int_equal(hm_read_meminfo(FIXTURES "/proc-basic", &m), 0);
	assert_int_equal(m.total_kib, 65843812);
	assert_int_equal(m.free_kib, 3165240);
	assert_int_equal(m.avail_kib, 21403876);
	assert_int_equal(m.buffers_kib, 412344);
	assert_int_equal(m.cached_kib, 17129936);
	assert_int_equal(m.shmem_kib, 553172);
	assert_int_equal(m.anon_kib, 39771320);
	assert_int_equal(m.swap_total_kib, 8388604);
	assert_int_equal(m.swap_free_kib, 8124412);
	assert_int_equal(m.hugepages_total, 1024);
	assert_int_equal(m.hugepages_free, 512);
	assert_int_equal(m.hugepage_size_kib, 2048);
}

static void test_basic_vmstat(void **state)
{
	(void)state;
	struct host_vmstat v;
	assert_int_equal(hm_read_vmstat(FIXTURES "/proc-basic", &v), 0);
	assert_int_equal(v.pswpin, 66048);
	assert_int_equal(v.pswpout, 132104);
	assert_int_equal(v.pgmajfault, 712345);
	assert_int_equal(v.cow_ksm, 424242);
	assert_int_equal(v.ksm_swpin_copy, 17);
	assert_true(v.has_cow_ksm);
}

static void test_basic_psi(void **state)
{
	(void)state;
	struct host_psi p;
	assert_int_equal(hm_read_psi(FIXTURES "/proc-basic", &p), 0);
	assert_true(p.available);
	assert_int_equal(p.some.avg10_ppm, 123400);
	assert_int_equal(p.some.avg60_ppm, 50600);
	assert_int_equal(p.some.avg300_ppm, 7000);
	assert_int_equal(p.some.total_us, 987654321);
	assert_int_equal(p.full.avg10_ppm, 1000000);
	assert_int_equal(p.full.avg60_ppm, 100);
	assert_int_equal(p.full.avg300_ppm, 0);
	assert_int_equal(p.full.total_us, 123456);
}

/* Every reader leaves ret alone on failure. */
static void test_truncated(void **state)
{
	(void)state;
	struct host_mem m;
	struct host_vmstat v;
	struct host_psi p;
	unsigned char sentinel[sizeof(m)];

	memset(&m, 0xab, sizeof(m));
	memset(sentinel, 0xab, sizeof(sentinel));
	assert_int_equal(hm_read_meminfo(FIXTURES "/proc-truncated", &m), -EBADMSG);
	assert_memory_equal(&m, sentinel, sizeof(m));
	memset(&v, 0xab, sizeof(v));
	assert_int_equal(hm_read_vmstat(FIXTURES "/proc-truncated", &v), -EBADMSG);
	assert_memory_equal(&v, sentinel, sizeof(v));
	memset(&p, 0xab, sizeof(p));
	assert_int_equal(hm_read_psi(FIXTURES "/proc-truncated", &p), -EBADMSG);
	assert_memory_equal(&p, sentinel, sizeof(p));
}

static void test_nopsi(void **state)
{
	(void)state;
	struct host_psi p;
	struct host_vmstat v;
	struct host_mem m;

	memset(&p, 0xab, sizeof(p));
	assert_int_equal(hm_read_psi(FIXTURES "/proc-nopsi", &p), 0);
	assert_false(p.available);
	assert_int_equal(p.some.avg10_ppm, 0);
	assert_int_equal(hm_read_vmstat(FIXTURES "/proc-nopsi", &v), 0);
	assert_false(v.has_cow_ksm);
	assert_int_equal(v.cow_ksm, 0);
	assert_int_equal(v.pgmajfault, 4242);
	assert_int_equal(hm_read_meminfo(FIXTURES "/proc-nopsi", &m), 0);
	assert_int_equal(m.total_kib, 8039164);
	assert_int_equal(m.avail_kib, 4021010);
	assert_int_equal(m.swap_total_kib, 0);
}

static void test_garbage(void **state)
{
	(void)state;
	struct host_mem m;
	struct host_vmstat v;
	struct host_psi p;
	assert_int_equal(hm_read_meminfo(FIXTURES "/proc-garbage", &m), -EBADMSG);
	assert_int_equal(hm_read_vmstat(FIXTURES "/proc-garbage", &v), -EBADMSG);
	assert_int_equal(hm_read_psi(FIXTURES "/proc-garbage", &p), -EBADMSG);
}

static void test_missing(void **state)
{
	(void)state;
	struct host_mem m;
	struct host_vmstat v;
	struct host_psi p;
	assert_int_equal(hm_read_meminfo("/nonexistent-memopt", &m), -ENOENT);
	assert_int_equal(hm_read_vmstat("/nonexistent-memopt", &v), -ENOENT);
	assert_int_equal(hm_parse_meminfo_file("/nonexistent-memopt/meminfo", &m), -ENOENT);
	assert_int_equal(hm_read_psi("/nonexistent-memopt", &p), 0);
	assert_false(p.available);
}

static void test_meminfo_hostile(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int ret;
	} cases[] = {
		{ "MemTotal:       10 kB\nMemAvailable:    5 kB\n", 0 },
		/* unknown keys and junk lines are tolerated */
		{ "Foo:  bar\nno colon at all\n\x01\x02\xff\n"
		  "MemTotal: 10 kB\nMemAvailable: 5 kB\nNewThing: 7 MB\n", 0 },
		{ "MemTotal: 18446744073709551615 kB\nMemAvailable: 5 kB\n", 0 },
		{ "MemTotal: 18446744073709551616 kB\nMemAvailable: 5 kB\n", -EBADMSG },
		{ "MemTotal: 99999999999999999999999 kB\nMemAvailable: 5 kB\n", -EBADMSG },
		{ "MemTotal: abc kB\nMemAvailable: 5 kB\n", -EBADMSG },
		{ "MemTotal: -10 kB\nMemAvailable: 5 kB\n", -EBADMSG },
		{ "MemTotal: 10 kB\nMemAvailable: 5x kB\n", -EBADMSG },
		{ "MemTotal: 10 kB\nMemAvailable: \n", -EBADMSG },
		{ "MemTotal: 10 kB\nMemAvailable\n", -EBADMSG },
		/* a kB value without its unit was cut short */
		{ "MemTotal: 10\nMemAvailable: 5 kB\n", -EBADMSG },
		{ "MemTotal: 10 kB\nMemAvailable: 5 kB\nHugePages_Total: 3 kB\n", -EBADMSG },
		/* the kernel ends every line: a last line without '\n' may be cut */
		{ "MemTotal: 10 kB\nMemAvailable: 5 kB", -EBADMSG },
		{ "MemAvailable: 5 kB\n", -EBADMSG },
		{ "MemTotal: 10 kB\n", -EBADMSG },
		{ "", -EBADMSG },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct host_mem m;
		const char *path = put("meminfo", cases[i].text);
		int r = hm_parse_meminfo_file(path, &m);
		if (r != cases[i].ret)
			fail_msg("meminfo case %zu: got %d, want %d", i, r, cases[i].ret);
		if (i == 1) {
			assert_int_equal(m.total_kib, 10);
			assert_int_equal(m.avail_kib, 5);
			assert_int_equal(m.free_kib, 0);
		}
		if (i == 2)
			assert_true(m.total_kib == UINT64_MAX);
	}
	/* a NUL byte inside the file does not end parsing early */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/meminfo", tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	static const char nul[] = "Junk\0more\nMemTotal: 10 kB\nMemAvailable: 5 kB\n";
	assert_int_equal(fwrite(nul, 1, sizeof(nul) - 1, f), sizeof(nul) - 1);
	assert_int_equal(fclose(f), 0);
	struct host_mem m;
	assert_int_equal(hm_parse_meminfo_file(path, &m), 0);
	assert_int_equal(m.avail_kib, 5);
}

static void test_vmstat_hostile(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int ret;
	} cases[] = {
		{ "pgmajfault 5\n", 0 },
		{ "zzz abc\nnocount\npgmajfault 5\nnew_counter 1\n", 0 },
		{ "pgmajfault x\n", -EBADMSG },
		{ "pgmajfault 5\ncow_ksm -1\n", -EBADMSG },
		{ "pgmajfault 5\npswpin 99999999999999999999\n", -EBADMSG },
		{ "pgmajfault 5\npswpin 1 2\n", -EBADMSG },
		{ "pgmajfault 5", -EBADMSG },
		{ "pswpin 1\n", -EBADMSG },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct host_vmstat v;
		const char *path = put("vmstat", cases[i].text);
		int r = hm_parse_vmstat_file(path, &v);
		if (r != cases[i].ret)
			fail_msg("vmstat case %zu: got %d, want %d", i, r, cases[i].ret);
		if (cases[i].ret == 0) {
			assert_int_equal(v.pgmajfault, 5);
			assert_false(v.has_cow_ksm);
		}
	}
}

#define FULL0 "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"

static void test_psi_hostile(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int ret;
		uint32_t some10;
	} cases[] = {
		{ "some avg10=1.5 avg60=0.00 avg300=0.00 total=0\n" FULL0, 0, 15000 },
		{ "some avg10=0.0001 avg60=0.00 avg300=0.00 total=0\n" FULL0, 0, 1 },
		{ "some avg10=101.00 avg60=0.00 avg300=0.00 total=0\n" FULL0, -EBADMSG, 0 },
		{ "some avg10=100.01 avg60=0.00 avg300=0.00 total=0\n" FULL0, -EBADMSG, 0 },
		{ "some avg10=1.00001 avg60=0.00 avg300=0.00 total=0\n" FULL0, -EBADMSG, 0 },
		{ "some avg10=1. avg60=0.00 avg300=0.00 total=0\n" FULL0, -EBADMSG, 0 },
		{ "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", -EBADMSG, 0 },
		{ "some avg10=0.00 avg300=0.00 avg60=0.00 total=0\n" FULL0, -EBADMSG, 0 },
		{ "some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n" FULL0, -EBADMSG, 0 },
		/* the last line cut (no '\n') */
		{ "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
		  "full avg10=0.00 avg60=0.00 avg300=0.00 total=0", -EBADMSG, 0 },
		{ "\xff\xfe" FULL0, -EBADMSG, 0 },
		{ "", -EBADMSG, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct host_psi p;
		put("pressure/memory", cases[i].text);
		int r = hm_read_psi(tmpdir, &p);
		if (r != cases[i].ret)
			fail_msg("psi case %zu: got %d, want %d", i, r, cases[i].ret);
		if (cases[i].ret == 0) {
			assert_true(p.available);
			assert_int_equal(p.some.avg10_ppm, cases[i].some10);
		}
	}
}

/* True when x lies within tol of the range spanned by a and b. */
static bool within(uint64_t x, uint64_t a, uint64_t b, uint64_t tol)
{
	uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
	return x + tol >= lo && x <= hi + tol;
}

/* libproc2 (used on "/proc") and our parser must read the same file the same way. The host keeps
 * moving (other work allocates and frees), so the libproc2 read is bracketed by two parser reads and
 * retried while the host moves by more than the tolerance between them. */
static void test_real_meminfo_crosscheck(void **state)
{
	(void)state;
	const uint64_t tol = 64 * 1024;
	struct host_mem lib, own1, own2;
	if (access("/proc/meminfo", R_OK) != 0)
		skip();
	for (int attempt = 0; attempt < 10; attempt++) {
		assert_int_equal(hm_parse_meminfo_file("/proc/meminfo", &own1), 0);
		assert_int_equal(hm_read_meminfo("/proc", &lib), 0);
		assert_int_equal(hm_parse_meminfo_file("/proc/meminfo", &own2), 0);
		if (within(own1.avail_kib, own2.avail_kib, own2.avail_kib, tol))
			break;
	}
	assert_int_equal(lib.total_kib, own1.total_kib);
	assert_true(lib.total_kib > 0);
	assert_true(within(lib.avail_kib, own1.avail_kib, own2.avail_kib, tol));
	/* a field mapped to the wrong libproc2 item would be far off */
	assert_true(within(lib.free_kib, own1.free_kib, own2.free_kib, tol));
	assert_true(within(lib.cached_kib, own1.cached_kib, own2.cached_kib, tol));
	assert_true(within(lib.buffers_kib, own1.buffers_kib, own2.buffers_kib, tol));
	assert_true(within(lib.shmem_kib, own1.shmem_kib, own2.shmem_kib, tol));
	assert_true(within(lib.anon_kib, own1.anon_kib, own2.anon_kib, tol));
	assert_int_equal(lib.swap_total_kib, own1.swap_total_kib);
	assert_int_equal(lib.hugepages_total, own1.hugepages_total);
	assert_int_equal(lib.hugepage_size_kib, own1.hugepage_size_kib);
}

static void test_real_vmstat(void **state)
{
	(void)state;
	struct host_vmstat lib, own;
	if (access("/proc/vmstat", R_OK) != 0)
		skip();
	assert_int_equal(hm_read_vmstat("/proc", &lib), 0);
	assert_int_equal(hm_parse_vmstat_file("/proc/vmstat", &own), 0);
	/* counters only grow, and own was read after lib */
	assert_true(own.pgmajfault >= lib.pgmajfault);
	assert_true(own.pswpin >= lib.pswpin);
	assert_int_equal(lib.has_cow_ksm, own.has_cow_ksm);
	assert_true(own.cow_ksm >= lib.cow_ksm);
}

static void test_real_psi(void **state)
{
	(void)state;
	struct host_psi p;
	assert_int_equal(hm_read_psi("/proc", &p), 0);
	assert_int_equal(p.available, access("/proc/pressure/memory", R_OK) == 0);
	if (p.available)
		assert_true(p.some.avg10_ppm <= 1000000 && p.full.avg300_ppm <= 1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_meminfo),
		cmocka_unit_test(test_basic_vmstat),
		cmocka_unit_test(test_basic_psi),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_nopsi),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_meminfo_hostile),
		cmocka_unit_test(test_vmstat_hostile),
		cmocka_unit_test(test_psi_hostile),
		cmocka_unit_test(test_real_meminfo_crosscheck),
		cmocka_unit_test(test_real_vmstat),
		cmocka_unit_test(test_real_psi),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
