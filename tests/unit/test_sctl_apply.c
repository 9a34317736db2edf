/* test_sctl_apply.c - all-or-nothing apply on temp knob files: journal before the first write, read
 * back, roll back on failure (also over an earlier apply), stale plans and bad values refused before
 * any write, dry-run, and a corrupt or truncated journal refused with a clear error and kept intact. */
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
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/state.h"
#include "sysctl/sctl_apply.h"

#define UNUSED __attribute__((unused))

static char dir[64], state[96];
static struct sctl_plan plan;

#include "tmptree.h"

static int setup(void **s UNUSED)
{
	snprintf(dir, sizeof(dir), "/tmp/memopt-sctl-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(state, sizeof(state), "%s/state", dir);
	put("swappiness", "60\n");
	put("enabled", "always [madvise] never\n");
	put("nr_hugepages", "0\n");
	memset(&plan, 0, sizeof(plan));
	return 0;
}

static int teardown(void **s UNUSED)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void add(const char *key, int id, const char *file, const char *cur, const char *want, int order)
{
	struct sctl_item *it = &plan.item[plan.n++];
	memset(it, 0, sizeof(*it));
	snprintf(it->key, sizeof(it->key), "%s", key);
	it->id = id;
	snprintf(it->path, sizeof(it->path), "%s/%s", dir, file);
	snprintf(it->current, sizeof(it->current), "%s", cur);
	snprintf(it->desired, sizeof(it->desired), "%s", want);
	it->action = SA_CHANGE;
	it->order = order;
	plan.changes++;
}

static void three(void)
{
	add("vm.swappiness", SCTL_SWAPPINESS, "swappiness", "60", "10", 10);
	add("thp.enabled", SCTL_THP_ENABLED, "enabled", "madvise", "always", 40);
	add("hugepages.node0.2048kB", -1, "nr_hugepages", "0", "8", 50);
}

static void test_apply_and_restore(void **s UNUSED)
{
	struct st_journal *st;
	char err[1024];
	three();
	assert_int_equal(st_open(state, &st, err, sizeof(err)), 0);
	assert_int_equal(sctl_apply(&plan, st, false, err, sizeof(err)), 3);
	assert_string_equal(get("swappiness"), "10");
	assert_string_equal(get("enabled"), "always");
	assert_string_equal(get("nr_hugepages"), "8");
	assert_int_equal(st_count(st), 3);
	assert_string_equal(st_find(st, "sysctl.vm.swappiness")->value, "60");
	assert_string_equal(st_find(st, "sysctl.thp.enabled")->value, "madvise");
	assert_string_equal(st_find(st, "sysctl.thp.enabled")->owner, "sysctl");
	st_close(st);
	/* As after a crash: a new process opens the journal and restores. */
	assert_int_equal(st_open(state, &st, err, sizeof(err)), 0);
	assert_int_equal(st_count(st), 3);
	assert_int_equal(st_restore(st, "sysctl", false), 0);
	assert_string_equal(get("swappiness"), "60");
	assert_string_equal(get("enabled"), "madvise");
	assert_string_equal(get("nr_hugepages"), "0");
	assert_int_equal(st_count(st), 0);
	st_close(st);
}

/* A readable integer knob whose write the kernel refuses even for root: a 0444 sysctl. */
#define RO_KNOB "/proc/sys/kernel/ngroups_max"

static bool ro_knob(char *cur, size_t len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/ro", dir);
	return symlink(RO_KNOB, path) == 0 && sctl_read_knob(path, SK_INT, cur, len, NULL, 0) == 0;
}

static void test_preflight_refuses_unreadable(void **s UNUSED)
{
	struct st_journal *st;
	char err[1024], path[256];
	three();
	/* A directory where the third knob should be: refused before anything is written. */
	snprintf(path, sizeof(path), "%s/nr_hugepages", dir);
	unlink(path);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(st_open(state, &st, err, sizeof(err)), 0);
	assert_true(sctl_apply(&plan, st, false, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "hugepages.node0.2048kB"));
	assert_string_equal(get("swappiness"), "60");
	assert_string_equal(get("enabled"), "always [madvise] never");
	assert_int_equal(st_count(st), 0);
	st_close(st);
}

static void test_failure_rolls_back(void **s UNUSED)
{
	struct st_journal *st;
	char err[1024], cur[SCTL_VALUE_MAX];
	if (!ro_knob(cur, sizeof(cur)))
		skip();
	add("vm.swappiness", SCTL_SWAPPINESS, "swappiness", "60", "10", 10);
	add("thp.enabled", SCTL_THP_ENABLED, "enabled", "madvise", "always", 40);
	add("hugepages.node0.2048kB", -1, "ro", cur, "1", 50);
	assert_int_equal(st_open(state, &st, err, sizeof(err)), 0);
	assert_int_equal(sctl_apply(&plan, st, false, err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "hugepages.node0.2048kB"));
	assert_non_null(strstr(err, "Permission denied"));
	assert_non_null(strstr(err, "2 value(s) already written rolled back"));
	assert_string_equal(get("swappiness"), "60");
	assert_string_equal(get("enabled"), "madvise");
	assert_int_equal(st_count(st), 0);
	st_close(st);
}

/* A failed apply on top of an earlier one: back to the earlier state, and the journal keeps the true
 * originals of the earlier apply. */
static void test_failure_over_earlier_apply(void **s UNUSED)
{
	struct st_journal *st;
	char err[1024], cur[SCTL_VALUE_MAX];
	if (!ro_knob(cur, sizeof(cur)))
		skip();
	add("vm.swappiness", SCTL_SWAPPINESS, "swappiness", "60", "10", 10);
	assert_int_equal(st_open(state, &st, err, sizeof(err)), 0);
	assert_int_equal(sctl_apply(&plan, st, false, err, sizeof(err)), 1);
	assert_string_equal(get("swappiness"), "10");
	memset(&plan, 0, sizeof(plan));
	add("vm.swappiness", SCTL_SWAPPINESS, "swappiness", "10", "20", 10);
	add("thp.enabled", SCTL_THP_ENABLED, "enabled", "madvise", "always", 40);
	add("hugepages.node0.2048kB", -1, "ro", cur, "1", 50);
	assert_true(sctl_apply(&plan, st, false, err, sizeof(err)) < 0);
	assert_string_equal(get("swappiness"), "10");
	assert_string_equal(get("enabled"), "madvise");
	assert_non_null(st_find(st, "sysctl.vm.swappiness"));
	assert_string_equal(st_find(st, "sysctl.vm.swappiness")->value, "60");
	assert_null(st_find(st, "sysctl.thp.enabled"));
	assert_null(st_find(st, "sysctl.hugepages.node0.2048kB"));
	assert_int_equal(st_restore(st, "sysctl", false), 0);
	assert_string_equal(get("swappiness"), "60");
	st_close(st);
}

static void test_stale_and_invalid(void **s UNUSED)
{
	struct st_journal *st;
	char err[1024];
	three();
	snprintf(plan.item[0].current, sizeof(plan.item[0].current), "30"); /* the file holds 60 */
	assert_int_equal(st_open(state, &st, err, sizeof(err)), 0);
	assert_int_equal(sctl_apply(&plan, st, false, err, sizeof(err)), -ESTALE);
	assert_non_null(strstr(err, "since the plan was made"));
	assert_string_equal(get("swappiness"), "60");
	assert_int_equal(st_count(st), 0);
	snprintf(plan.item[0].current, sizeof(plan.item[0].current), "60");
	snprintf(plan.item[1].desired, sizeof(plan.item[1].desired), "sometimes");
	assert_int_equal(sctl_apply(&plan, st, false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "does not offer 'sometimes'"));
	assert_string_equal(get("swappiness"), "60");
	assert_int_equal(st_count(st), 0);
	st_close(st);
}

static void test_dry_run(void **s UNUSED)
{
	struct st_journal *st;
	char err[1024];
	three();
	assert_int_equal(st_open(state, &st, err, sizeof(err)), 0);
	assert_int_equal(sctl_apply(&plan, st, true, err, sizeof(err)), 0);
	assert_string_equal(get("swappiness"), "60");
	assert_string_equal(get("nr_hugepages"), "0");
	assert_int_equal(st_count(st), 0);
	st_close(st);
}

static void test_journal_failure_writes_nothing(void **s UNUSED)
{
	struct st_journal *st;
	char err[1024], tmp[160];
	three();
	assert_int_equal(st_open(state, &st, err, sizeof(err)), 0);
	/* The journal's temp file cannot be created: every st_record fails. */
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", state, ST_FILE_NAME);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_true(sctl_apply(&plan, st, false, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "cannot journal the original of vm.swappiness"));
	assert_string_equal(get("swappiness"), "60");
	assert_string_equal(get("enabled"), "always [madvise] never");
	assert_int_equal(st_count(st), 0);
	st_close(st);
}

static void read_all(const char *path, char *buf, size_t cap, size_t *len)
{
	assert_int_equal(fio_read_capped(path, buf, cap, len, NULL), 0);
}

static void test_corrupt_journal(void **s UNUSED)
{
	struct st_journal *st;
	char err[1024], path[160], before[8192], after[8192];
	size_t blen, alen;
	three();
	assert_int_equal(st_open(state, &st, err, sizeof(err)), 0);
	assert_int_equal(sctl_apply(&plan, st, false, err, sizeof(err)), 3);
	st_close(st);
	snprintf(path, sizeof(path), "%s/%s", state, ST_FILE_NAME);
	read_all(path, before, sizeof(before), &blen);

	/* Truncated in the middle (a torn write by something else, a full disk): a clear error naming
	 * the file, and the file is left exactly as it was, so no original is lost. */
	assert_int_equal(truncate(path, (off_t)(blen / 2)), 0);
	read_all(path, before, sizeof(before), &blen);
	assert_int_equal(st_open(state, &st, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "truncated"));
	read_all(path, after, sizeof(after), &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(before, after, blen);
	/* The host values are untouched: nothing was restored from a journal that cannot be trusted. */
	assert_string_equal(get("swappiness"), "10");

	/* Corrupt content: also refused with what is wrong. */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"v\":1,\"entries\":[{\"key\":\"sysctl.vm.swappiness\",\"owner\":\"sysctl\",\"path\":\"relative\","
	      "\"value\":\"60\",\"order\":10}]}\n", f);
	fclose(f);
	assert_int_equal(st_open(state, &st, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "invalid \"path\""));
	/* Quarantine keeps the bytes for the operator. */
	assert_int_equal(st_quarantine(state), 0);
	glob_t g;
	char pat[200];
	snprintf(pat, sizeof(pat), "%s/%s.corrupt-*", state, ST_FILE_NAME);
	assert_int_equal(glob(pat, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	globfree(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_apply_and_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preflight_refuses_unreadable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_over_earlier_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_and_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_failure_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_journal, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
