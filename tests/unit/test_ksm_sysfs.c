/* test_ksm_sysfs.c - KSM sysfs reader/writer on fixtures (writes to temp copies only) and ksm_stat. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ksmtuned/ksm_sysfs.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

#define ALL_FIELDS ((1u << KSM_F__MAX) - 1)

/* A private copy of a sys-ksm-* fixture: every write test works on it, never on the real /sys. */
struct sysroot {
	char root[64];
	char dir[128];
};

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void sysroot_make(struct sysroot *s, const char *fixture)
{
	char src[PATH_MAX];
	snprintf(s->root, sizeof(s->root), "/tmp/memopt-test-ksm-XXXXXX");
	assert_non_null(mkdtemp(s->root));
	snprintf(s->dir, sizeof(s->dir), "%s/kernel", s->root);
	assert_int_equal(mkdir(s->dir, 0700), 0);
	snprintf(s->dir, sizeof(s->dir), "%s/kernel/mm", s->root);
	assert_int_equal(mkdir(s->dir, 0700), 0);
	snprintf(s->dir, sizeof(s->dir), "%s/kernel/mm/ksm", s->root);
	assert_int_equal(mkdir(s->dir, 0700), 0);

	snprintf(src, sizeof(src), "%s/%s/kernel/mm/ksm", FIXTURES, fixture);
	DIR *d = opendir(src);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		char from[PATH_MAX + 300], to[PATH_MAX], buf[4096];
		if (de->d_name[0] == '.')
			continue;
		snprintf(from, sizeof(from), "%s/%s", src, de->d_name);
		snprintf(to, sizeof(to), "%s/%s", s->dir, de->d_name);
		FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
		assert_non_null(in);
		assert_non_null(out);
		size_t n = fread(buf, 1, sizeof(buf), in);
		assert_int_equal(fwrite(buf, 1, n, out), n);
		fclose(in);
		assert_int_equal(fclose(out), 0);
	}
	closedir(d);
}

/* Per-test copies, removed by the teardown even when an assertion fails half-way. */
static struct sysroot copy;

static int setup_full(void **state)
{
	sysroot_make(&copy, "sys-ksm-full");
	*state = &copy;
	return 0;
}

static int setup_old(void **state)
{
	sysroot_make(&copy, "sys-ksm-old");
	*state = &copy;
	return 0;
}

static int teardown_copy(void **state)
{
	const struct sysroot *s = *state;
	return nftw(s->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *knob_path(const struct sysroot *s, const char *name)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", s->dir, name);
	return path;
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_field_table(void **state)
{
	(void)state;
	int knobs = 0;
	for (int f = 0; f < KSM_F__MAX; f++) {
		const char *name = ksm_field_name((enum ksm_field)f);
		assert_non_null(name);
		assert_int_equal(ksm_field_from_name(name), f);
		knobs += ksm_field_is_knob((enum ksm_field)f);
	}
	assert_int_equal(knobs, 13);
	assert_int_equal(KSM_F__MAX, 24);
	assert_string_equal(ksm_field_name(KSM_F_STABLE_NODE_CHAINS_PRUNE_MILLISECS),
			    "stable_node_chains_prune_millisecs");
	assert_string_equal(ksm_field_name(KSM_F_KSM_ZERO_PAGES), "ksm_zero_pages");
	assert_true(ksm_field_is_knob(KSM_F_ADVISOR_TARGET_SCAN_TIME));
	assert_false(ksm_field_is_knob(KSM_F_PAGES_SHARED));
	assert_false(ksm_field_is_knob(KSM_F_GENERAL_PROFIT));
	assert_false(ksm_field_is_knob(KSM_F__MAX));
	assert_null(ksm_field_name(KSM_F__MAX));
	assert_int_equal(ksm_field_from_name("bogus"), -ENOENT);
	assert_int_equal(ksm_field_from_name(""), -ENOENT);
	assert_int_equal(ksm_field_from_name(NULL), -ENOENT);
}

/* The full fixture holds exactly the files of a 6.18 kernel, and each is one of our fields. */
static void test_fixture_names(void **state)
{
	(void)state;
	DIR *d = opendir(FIXTURES "/sys-ksm-full/kernel/mm/ksm");
	struct dirent *de;
	uint32_t seen = 0;
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		int f = ksm_field_from_name(de->d_name);
		if (f < 0)
			fail_msg("fixture file '%s' is not a known field", de->d_name);
		seen |= 1u << f;
	}
	closedir(d);
	assert_int_equal(seen, ALL_FIELDS);
}

static void test_read_full(void **state)
{
	(void)state;
	struct ksm_state s;
	assert_int_equal(ksm_read(FIXTURES "/sys-ksm-full", &s), 0);
	assert_true(s.present);
	assert_int_equal(s.have, ALL_FIELDS);
	assert_int_equal(s.v[KSM_F_RUN], 1);
	assert_int_equal(s.v[KSM_F_PAGES_TO_SCAN], 100);
	assert_int_equal(s.v[KSM_F_SLEEP_MILLISECS], 20);
	assert_int_equal(s.v[KSM_F_MAX_PAGE_SHARING], 256);
	assert_int_equal(s.v[KSM_F_STABLE_NODE_CHAINS_PRUNE_MILLISECS], 2000);
	assert_int_equal(s.v[KSM_F_SMART_SCAN], 1);
	assert_int_equal(s.v[KSM_F_ADVISOR_MODE], KSM_ADVISOR_NONE);
	assert_int_equal(s.v[KSM_F_ADVISOR_MAX_CPU], 70);
	assert_int_equal(s.v[KSM_F_ADVISOR_MIN_PAGES_TO_SCAN], 500);
	assert_int_equal(s.v[KSM_F_ADVISOR_MAX_PAGES_TO_SCAN], 30000);
	assert_int_equal(s.v[KSM_F_ADVISOR_TARGET_SCAN_TIME], 200);
	assert_int_equal(s.v[KSM_F_PAGES_UNSHARED], 1280);
	assert_int_equal(s.v[KSM_F_PAGES_SCANNED], 3840);
	assert_int_equal(s.v[KSM_F_FULL_SCANS], 3);
	assert_int_equal(s.v[KSM_F_GENERAL_PROFIT], -81920);
	assert_true(ksm_has(&s, KSM_F_GENERAL_PROFIT));
}

static void test_read_old(void **state)
{
	(void)state;
	struct ksm_state s;
	uint32_t want = 1u << KSM_F_RUN | 1u << KSM_F_PAGES_TO_SCAN | 1u << KSM_F_SLEEP_MILLISECS |
			1u << KSM_F_PAGES_SHARED | 1u << KSM_F_PAGES_SHARING | 1u << KSM_F_PAGES_UNSHARED |
			1u << KSM_F_PAGES_VOLATILE | 1u << KSM_F_FULL_SCANS | 1u << KSM_F_MERGE_ACROSS_NODES;
	assert_int_equal(ksm_read(FIXTURES "/sys-ksm-old", &s), 0);
	assert_true(s.present);
	assert_int_equal(s.have, want);
	assert_false(ksm_has(&s, KSM_F_ADVISOR_MODE));
	assert_false(ksm_has(&s, KSM_F_SMART_SCAN));
	assert_int_equal(s.v[KSM_F_RUN], 0);
	assert_int_equal(s.v[KSM_F_PAGES_SHARING], 36000);
	assert_int_equal(s.v[KSM_F_PAGES_VOLATILE], 1000);
	assert_int_equal(s.v[KSM_F_FULL_SCANS], 17);
	assert_int_equal(s.v[KSM_F_ADVISOR_MODE], 0);
}

static void test_read_garbled(void **state)
{
	(void)state;
	struct ksm_state s;
	int64_t v = 42;
	assert_int_equal(ksm_read(FIXTURES "/sys-ksm-garbled", &s), 0);
	assert_true(s.present);
	assert_int_equal(s.have, 1u << KSM_F_RUN);
	assert_int_equal(s.v[KSM_F_RUN], 1);
	assert_int_equal(s.v[KSM_F_FULL_SCANS], 0);
	assert_int_equal(ksm_read_field(FIXTURES "/sys-ksm-garbled", KSM_F_PAGES_TO_SCAN, &v), -EBADMSG);
	assert_int_equal(ksm_read_field(FIXTURES "/sys-ksm-garbled", KSM_F_USE_ZERO_PAGES, &v), -EBADMSG);
	assert_int_equal(ksm_read_field(FIXTURES "/sys-ksm-garbled", KSM_F_MERGE_ACROSS_NODES, &v), -EBADMSG);
	assert_int_equal(ksm_read_field(FIXTURES "/sys-ksm-garbled", KSM_F_SMART_SCAN, &v), -ENOENT);
	assert_int_equal(v, 42);
}

static void test_read_missing(void **state)
{
	(void)state;
	struct ksm_state s;
	memset(&s, 0x5a, sizeof(s));
	assert_int_equal(ksm_read(FIXTURES "/proc-basic", &s), -ENOENT);
	assert_int_equal(ksm_read("/nonexistent-memopt", &s), -ENOENT);
	assert_int_equal(s.have, 0x5a5a5a5au);
	int64_t v;
	assert_int_equal(ksm_read_field("/nonexistent-memopt", KSM_F_RUN, &v), -ENOENT);
	assert_int_equal(ksm_read_field(FIXTURES "/sys-ksm-full", KSM_F__MAX, &v), -EINVAL);
}

/* Reading the real /sys is allowed; writing it never is (see the write tests: temp copies only). */
static void test_read_real_sys(void **state)
{
	(void)state;
	struct ksm_state s;
	DIR *d = opendir("/sys/kernel/mm/ksm");
	if (!d)
		skip();
	assert_int_equal(ksm_read("/sys", &s), 0);
	assert_true(s.present);
	assert_true(ksm_has(&s, KSM_F_RUN));
	assert_true(ksm_has(&s, KSM_F_PAGES_TO_SCAN));
	assert_true(s.v[KSM_F_RUN] >= 0 && s.v[KSM_F_RUN] <= 2);
	/* every file this kernel has that we know must have parsed */
	struct dirent *de;
	while ((de = readdir(d))) {
		int f = ksm_field_from_name(de->d_name);
		if (f >= 0 && !ksm_has(&s, (enum ksm_field)f))
			fail_msg("/sys/kernel/mm/ksm/%s exists but was not parsed", de->d_name);
	}
	closedir(d);
}

static void test_advisor_mode_forms(void **state)
{
	const struct sysroot *s = *state;
	int64_t v = -1;
	static const struct {
		const char *text;
		int ret;
		int64_t v;
	} cases[] = {
		{ "[none] scan-time\n", 0, KSM_ADVISOR_NONE },
		{ "none [scan-time]\n", 0, KSM_ADVISOR_SCAN_TIME },
		{ "scan-time", 0, KSM_ADVISOR_SCAN_TIME },
		{ "none\n", 0, KSM_ADVISOR_NONE },
		{ "[bogus] none\n", -EBADMSG, 0 },
		{ "[none] [scan-time]\n", -EBADMSG, 0 },
		{ "[none scan-time\n", -EBADMSG, 0 },
		{ "\n", -EBADMSG, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put_file(knob_path(s, "advisor_mode"), cases[i].text);
		int r = ksm_read_field(s->root, KSM_F_ADVISOR_MODE, &v);
		if (r != cases[i].ret || (r == 0 && v != cases[i].v))
			fail_msg("case %zu: got %d/%lld", i, r, (long long)v);
	}
}

static void test_write(void **state)
{
	const struct sysroot *s = *state;
	int64_t v;

	assert_int_equal(ksm_write_knob(s->root, KSM_F_PAGES_TO_SCAN, 1000, false), 0);
	assert_string_equal(slurp(knob_path(s, "pages_to_scan")), "1000");
	assert_int_equal(ksm_read_field(s->root, KSM_F_PAGES_TO_SCAN, &v), 0);
	assert_int_equal(v, 1000);
	/* a shorter value replaces, not overlays, the old one */
	assert_int_equal(ksm_write_knob(s->root, KSM_F_PAGES_TO_SCAN, 5, false), 0);
	assert_string_equal(slurp(knob_path(s, "pages_to_scan")), "5");

	assert_int_equal(ksm_write_knob(s->root, KSM_F_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME, false), 0);
	assert_string_equal(slurp(knob_path(s, "advisor_mode")), "scan-time");
	assert_int_equal(ksm_write_knob(s->root, KSM_F_ADVISOR_MODE, KSM_ADVISOR_NONE, false), 0);
	assert_string_equal(slurp(knob_path(s, "advisor_mode")), "none");
	assert_int_equal(ksm_write_knob(s->root, KSM_F_RUN, 2, false), 0);
	assert_int_equal(ksm_write_knob(s->root, KSM_F_MAX_PAGE_SHARING, 2, false), 0);

	/* dry run: validated, nothing written */
	assert_int_equal(ksm_write_knob(s->root, KSM_F_SLEEP_MILLISECS, 777, true), 0);
	assert_string_equal(slurp(knob_path(s, "sleep_millisecs")), "20\n");

	/* counters are refused before anything is touched, dry run or not */
	assert_int_equal(ksm_write_knob(s->root, KSM_F_PAGES_SHARED, 1, false), -EPERM);
	assert_int_equal(ksm_write_knob(s->root, KSM_F_GENERAL_PROFIT, 1, true), -EPERM);
	assert_string_equal(slurp(knob_path(s, "pages_shared")), "0\n");
	assert_int_equal(ksm_write_knob(s->root, KSM_F__MAX, 1, false), -EINVAL);

	/* values the knob cannot take never reach the file */
	assert_int_equal(ksm_write_knob(s->root, KSM_F_RUN, 3, false), -ERANGE);
	assert_int_equal(ksm_write_knob(s->root, KSM_F_PAGES_TO_SCAN, -1, false), -ERANGE);
	assert_int_equal(ksm_write_knob(s->root, KSM_F_MAX_PAGE_SHARING, 1, false), -ERANGE);
	assert_int_equal(ksm_write_knob(s->root, KSM_F_ADVISOR_MODE, 2, true), -ERANGE);
	assert_int_equal(ksm_write_knob(s->root, KSM_F_SMART_SCAN, 5, false), -ERANGE);
	assert_string_equal(slurp(knob_path(s, "pages_to_scan")), "5");

	/* absent knob */
	assert_int_equal(unlink(knob_path(s, "smart_scan")), 0);
	assert_int_equal(ksm_write_knob(s->root, KSM_F_SMART_SCAN, 1, false), -EOPNOTSUPP);
	assert_int_equal(ksm_write_knob(s->root, KSM_F_SMART_SCAN, 1, true), -EOPNOTSUPP);
	assert_int_equal(access(knob_path(s, "smart_scan"), F_OK), -1);
}

static void test_write_old_kernel(void **state)
{
	const struct sysroot *s = *state;
	assert_int_equal(ksm_write_knob(s->root, KSM_F_ADVISOR_MODE, 1, false), -EOPNOTSUPP);
	assert_int_equal(ksm_write_knob(s->root, KSM_F_ADVISOR_MAX_CPU, 50, true), -EOPNOTSUPP);
	assert_int_equal(access(knob_path(s, "advisor_mode"), F_OK), -1);
	assert_int_equal(ksm_write_knob(s->root, KSM_F_SLEEP_MILLISECS, 50, false), 0);
	assert_string_equal(slurp(knob_path(s, "sleep_millisecs")), "50");
	assert_int_equal(ksm_write_knob("/nonexistent-memopt", KSM_F_RUN, 1, false), -EOPNOTSUPP);
}

/* Errors from the write itself come back unchanged; a value the file does not keep is -EIO. The knob
 * files are pointed (symlinks in the temp copy) at kernel files of this test process only. */
static void test_write_errors(void **state)
{
	const struct sysroot *s = *state;
	char orig[300];

	/* /dev/full: every write fails with ENOSPC */
	assert_int_equal(unlink(knob_path(s, "pages_to_scan")), 0);
	assert_int_equal(symlink("/dev/full", knob_path(s, "pages_to_scan")), 0);
	assert_int_equal(ksm_write_knob(s->root, KSM_F_PAGES_TO_SCAN, 100, false), -ENOSPC);

	/* the kernel refuses a value with EINVAL: our own oom_score_adj takes -1000..1000 only */
	if (access("/proc/self/oom_score_adj", W_OK) == 0) {
		char *before = strdup(slurp("/proc/self/oom_score_adj"));
		assert_int_equal(unlink(knob_path(s, "sleep_millisecs")), 0);
		assert_int_equal(symlink("/proc/self/oom_score_adj", knob_path(s, "sleep_millisecs")), 0);
		assert_int_equal(ksm_write_knob(s->root, KSM_F_SLEEP_MILLISECS, 4000000, false), -EINVAL);
		assert_string_equal(slurp("/proc/self/oom_score_adj"), before);
		free(before);
	}

	/* a file that keeps something else than what was written: coredump_filter takes decimal and
	 * shows hex, so 16 reads back as "00000010" */
	char *cf = slurp("/proc/self/coredump_filter");
	if (cf && access("/proc/self/coredump_filter", W_OK) == 0) {
		snprintf(orig, sizeof(orig), "0x%s", cf);
		assert_int_equal(unlink(knob_path(s, "stable_node_chains_prune_millisecs")), 0);
		assert_int_equal(symlink("/proc/self/coredump_filter",
					 knob_path(s, "stable_node_chains_prune_millisecs")), 0);
		int r = ksm_write_knob(s->root, KSM_F_STABLE_NODE_CHAINS_PRUNE_MILLISECS, 16, false);
		put_file("/proc/self/coredump_filter", orig);
		assert_int_equal(r, -EIO);
	}
}

static void test_parse_proc_stat(void **state)
{
	(void)state;
	struct ksm_proc_stat st, sentinel;
	static const char full[] = "ksm_rmap_items 262144\nksm_zero_pages 1024\nksm_merging_pages 150000\n"
				   "ksm_process_profit 601817088\nksm_merge_any: no\nksm_mergeable: yes\n";
	assert_int_equal(ksm_parse_proc_stat(full, strlen(full), &st), 0);
	assert_true(st.has_stat);
	assert_int_equal(st.rmap_items, 262144);
	assert_int_equal(st.zero_pages, 1024);
	assert_int_equal(st.merging_pages, 150000);
	assert_int_equal(st.profit_bytes, 601817088);
	assert_int_equal(st.merge_any, 0);
	assert_int_equal(st.mergeable, 1);

	/* 6.1: rmap_items only; the profit is computed */
	static const char old[] = "ksm_rmap_items 300\n";
	assert_int_equal(ksm_parse_proc_stat(old, strlen(old), &st), 0);
	assert_int_equal(st.rmap_items, 300);
	assert_int_equal(st.merging_pages, 0);
	assert_int_equal(st.profit_bytes, -300 * 64);
	assert_int_equal(st.merge_any, -1);
	assert_int_equal(st.mergeable, -1);

	static const char computed[] = "ksm_rmap_items 10\nksm_merging_pages 3\nksm_zero_pages 2\n"
				       "ksm_future 9\n";
	assert_int_equal(ksm_parse_proc_stat(computed, strlen(computed), &st), 0);
	assert_int_equal(st.profit_bytes, 5 * 4096 - 10 * 64);

	static const char neg[] = "ksm_rmap_items 1000\nksm_process_profit -64000\nksm_merge_any: yes\n";
	assert_int_equal(ksm_parse_proc_stat(neg, strlen(neg), &st), 0);
	assert_int_equal(st.profit_bytes, -64000);
	assert_int_equal(st.merge_any, 1);

	/* huge counts saturate instead of wrapping */
	static const char huge[] = "ksm_merging_pages 9223372036854775807\n";
	assert_int_equal(ksm_parse_proc_stat(huge, strlen(huge), &st), 0);
	assert_true(st.profit_bytes == INT64_MAX);

	static const char *const bad[] = {
		"",
		"nothing we know 5\n",
		"ksm_rmap_items\n",
		"ksm_rmap_items x\n",
		"ksm_rmap_items -1\n",
		"ksm_rmap_items 12 13\n",
		"ksm_rmap_items 99999999999999999999\n",
		"ksm_process_profit --5\n",
		"ksm_merge_any: maybe\n",
		"ksm_mergeable:\n",
		"ksm_rmap_items 10\nksm_merging_pages 3", /* cut short */
	};
	memset(&sentinel, 0x5a, sizeof(sentinel));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st = sentinel;
		int r = ksm_parse_proc_stat(bad[i], strlen(bad[i]), &st);
		if (r != -EBADMSG)
			fail_msg("case %zu: got %d, want -EBADMSG", i, r);
		assert_memory_equal(&st, &sentinel, sizeof(st));
	}
	assert_int_equal(ksm_parse_proc_stat(NULL, 0, &st), -EBADMSG);
}

static void test_read_proc_fixture(void **state)
{
	(void)state;
	struct ksm_proc_stat st;
	assert_int_equal(ksm_read_proc(FIXTURES "/proc-ksm", 2001, &st), 0);
	assert_true(st.has_stat);
	assert_int_equal(st.merging_pages, 150000);
	assert_int_equal(st.profit_bytes, 601817088);
	assert_int_equal(st.mergeable, 1);

	/* ksm_stat without merging pages: the ksm_merging_pages file fills in */
	assert_int_equal(ksm_read_proc(FIXTURES "/proc-ksm", 2002, &st), 0);
	assert_true(st.has_stat);
	assert_int_equal(st.rmap_items, 300);
	assert_int_equal(st.merging_pages, 120);
	assert_int_equal(st.profit_bytes, 120 * 4096 - 300 * 64);
	assert_int_equal(st.merge_any, -1);

	/* no ksm_stat at all (5.19) */
	assert_int_equal(ksm_read_proc(FIXTURES "/proc-ksm", 2003, &st), 0);
	assert_false(st.has_stat);
	assert_int_equal(st.merging_pages, 0);
	assert_int_equal(st.profit_bytes, 0);
	assert_int_equal(st.mergeable, -1);

	assert_int_equal(ksm_read_proc(FIXTURES "/proc-ksm", 2005, &st), -EBADMSG);
	assert_int_equal(ksm_read_proc(FIXTURES "/proc-ksm", 2007, &st), -ENOENT);
	assert_int_equal(ksm_read_proc(FIXTURES "/proc-ksm", 9999, &st), -ENOENT);
}

static void test_list_procs_fixture(void **state)
{
	(void)state;
	struct ksm_proc_entry e[16];
	int n = ksm_list_procs(FIXTURES "/proc-ksm", e, 16);
	assert_int_equal(n, 4);
	assert_int_equal(e[0].pid, 2001);
	assert_string_equal(e[0].comm, "qemu-system-x86");
	assert_int_equal(e[0].st.merging_pages, 150000);
	assert_int_equal(e[1].pid, 2002);
	assert_string_equal(e[1].comm, "qemu-kvm");
	assert_int_equal(e[1].st.merging_pages, 120);
	assert_int_equal(e[2].pid, 2004); /* nothing merged yet, but mergeable */
	assert_string_equal(e[2].comm, "idle?vm");
	assert_int_equal(e[3].pid, 2006);
	assert_int_equal(e[3].st.profit_bytes, -64000);

	struct ksm_proc_entry two[2];
	assert_int_equal(ksm_list_procs(FIXTURES "/proc-ksm", two, 2), 2);
	assert_true(two[0].pid < two[1].pid);
	assert_int_equal(ksm_list_procs(FIXTURES "/proc-ksm", NULL, 0), 0);
	assert_int_equal(ksm_list_procs(FIXTURES "/proc-ksm", NULL, 3), -EINVAL);
	assert_int_equal(ksm_list_procs("/nonexistent-memopt", e, 16), -ENOENT);
}

static void test_real_proc(void **state)
{
	(void)state;
	struct ksm_proc_stat st;
	struct ksm_proc_entry e[64];
	int r = ksm_read_proc("/proc", getpid(), &st);
	if (r == -ENOENT)
		skip(); /* a kernel before 5.19 */
	assert_int_equal(r, 0);
	assert_true(st.has_stat || access("/proc/self/ksm_stat", F_OK) != 0);
	assert_true(ksm_list_procs("/proc", e, 64) >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_table),
		cmocka_unit_test(test_fixture_names),
		cmocka_unit_test(test_read_full),
		cmocka_unit_test(test_read_old),
		cmocka_unit_test(test_read_garbled),
		cmocka_unit_test(test_read_missing),
		cmocka_unit_test(test_read_real_sys),
		cmocka_unit_test_setup_teardown(test_advisor_mode_forms, setup_full, teardown_copy),
		cmocka_unit_test_setup_teardown(test_write, setup_full, teardown_copy),
		cmocka_unit_test_setup_teardown(test_write_old_kernel, setup_old, teardown_copy),
		cmocka_unit_test_setup_teardown(test_write_errors, setup_full, teardown_copy),
		cmocka_unit_test(test_parse_proc_stat),
		cmocka_unit_test(test_read_proc_fixture),
		cmocka_unit_test(test_list_procs_fixture),
		cmocka_unit_test(test_real_proc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
