/* UNIT-DEPS: daemon/dconfig.c daemon/ctlsrv.c */
/* test_dconfig.c - the daemon's configuration layering: defaults, ksmtuned.conf import (never
 * executed), memoptd.conf on top, command-line overrides last; errors leave the output untouched. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "daemon/dconfig.h"

#define FIX "tests/fixtures"
#define MEMTOTAL_KIB 65843812ull /* tests/fixtures/proc-vms/meminfo */

static char dir[] = "/tmp/test_dconfig.XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static char procfs[4096], kt_custom[4096]; /* absolute: the config requires absolute paths */

static struct dconfig_overrides ovr(const char *ksmtuned)
{
	return (struct dconfig_overrides){ .procfs_root = procfs, .ksmtuned_conf = ksmtuned,
					   .dry_run = -1, .log_level = -1 };
}

static int setup(void **state)
{
	(void)state;
	log_setup(LOG_TARGET_STDERR, LOG_ERR);
	if (!realpath(FIX "/proc-vms", procfs) || !realpath(FIX "/config/ksmtuned-custom.conf", kt_custom))
		return -1;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_ksmtuned_import_then_memoptd_conf_wins(void **state)
{
	(void)state;
	char err[CFG_ERR_MAX];
	struct memopt_config c;
	const char *conf = write_file("a.conf", "[ksm]\nmax_pages_to_scan = 5000\n");
	struct dconfig_overrides o = ovr(kt_custom);
	assert_int_equal(dconfig_load(conf, true, &o, &c, err, sizeof(err)), 0);
	/* from ksmtuned.conf: KSM_THRES_COEF=25 of MemTotal, KSM_NPAGES_MIN="100", DEBUG=1 */
	assert_false(c.ksm.start_avail.is_percent);
	assert_int_equal(c.ksm.start_avail.kib, MEMTOTAL_KIB * 25 / 100);
	assert_int_equal(c.ksm.min_pages_to_scan, 100);
	assert_int_equal(c.daemon.log_level, LOG_DEBUG);
	/* memoptd.conf overrides KSM_NPAGES_MAX='3000' */
	assert_int_equal(c.ksm.max_pages_to_scan, 5000);
	assert_string_equal(c.path, conf);
}

static void test_no_import_when_disabled_or_missing(void **state)
{
	(void)state;
	char err[CFG_ERR_MAX];
	struct memopt_config c, d;
	cfg_defaults(&d);
	const char *conf = write_file("b.conf", "# nothing\n");
	struct dconfig_overrides o = ovr("");
	assert_int_equal(dconfig_load(conf, true, &o, &c, err, sizeof(err)), 0);
	assert_int_equal(c.ksm.min_pages_to_scan, d.ksm.min_pages_to_scan);
	assert_true(c.ksm.start_avail.is_percent);
	o = ovr("/nonexistent/ksmtuned.conf");
	assert_int_equal(dconfig_load(conf, true, &o, &c, err, sizeof(err)), 0);
	assert_int_equal(c.ksm.max_pages_to_scan, d.ksm.max_pages_to_scan);
}

static void test_overrides_come_last(void **state)
{
	(void)state;
	char err[CFG_ERR_MAX];
	struct memopt_config c;
	const char *conf = write_file("c.conf", "[daemon]\ndry_run = no\nsysfs_root = /sys\n");
	struct dconfig_overrides o = ovr("");
	o.sysfs_root = "/tmp/fake-sys";
	o.dry_run = 1;
	assert_int_equal(dconfig_load(conf, true, &o, &c, err, sizeof(err)), 0);
	assert_true(c.daemon.dry_run);
	assert_string_equal(c.daemon.sysfs_root, "/tmp/fake-sys");
	/* overrides are validated like the file, with or without a ksmtuned.conf import */
	o.sysfs_root = "relative/sys";
	assert_int_equal(dconfig_load(conf, true, &o, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "sysfs_root"));
	o.ksmtuned_conf = kt_custom;
	assert_int_equal(dconfig_load(conf, true, &o, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "sysfs_root"));
}

static void test_errors_leave_output_untouched(void **state)
{
	(void)state;
	char err[CFG_ERR_MAX];
	struct memopt_config c, before;
	memset(&c, 0x5a, sizeof(c));
	before = c;
	struct dconfig_overrides o = ovr(kt_custom);
	const char *bad = write_file("bad.conf", "[ksm]\n\nmax_cpu_percent = 150%\n");
	assert_int_equal(dconfig_load(bad, true, &o, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad.conf:3:"));
	assert_memory_equal(&c, &before, sizeof(c));
	/* a named file that does not exist is an error; the default path may be absent */
	char missing[300];
	snprintf(missing, sizeof(missing), "%s/none.conf", dir);
	assert_int_equal(dconfig_load(missing, true, &o, &c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "none.conf"));
	assert_int_equal(dconfig_load(missing, false, &o, &c, err, sizeof(err)), 0);
	assert_string_equal(c.path, "");
}

/* An admin_group that does not resolve is a configuration error (exit 3 at start-up, a refused reload),
 * not a control socket failure later. */
static void test_admin_group_must_exist(void **state)
{
	(void)state;
	char err[CFG_ERR_MAX];
	struct memopt_config c, before;
	struct dconfig_overrides o = ovr("");
	memset(&c, 0x5a, sizeof(c));
	before = c;
	const char *bad = write_file("group.conf", "[daemon]\nadmin_group = memopt-no-such-group\n");
	assert_int_equal(dconfig_load(bad, true, &o, &c, err, sizeof(err)), -ENOENT);
	char want[400];
	snprintf(want, sizeof(want), "%s: [daemon] admin_group: no such group 'memopt-no-such-group'", bad);
	assert_string_equal(err, want);
	assert_memory_equal(&c, &before, sizeof(c));
	/* group 0 exists everywhere */
	const char *good = write_file("group-ok.conf", "[daemon]\nadmin_group = root\n");
	assert_int_equal(dconfig_load(good, true, &o, &c, err, sizeof(err)), 0);
	assert_string_equal(c.daemon.admin_group, "root");
	const char *none = write_file("group-none.conf", "[daemon]\nadmin_group = none\n");
	assert_int_equal(dconfig_load(none, true, &o, &c, err, sizeof(err)), 0);
	assert_string_equal(c.daemon.admin_group, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ksmtuned_import_then_memoptd_conf_wins),
		cmocka_unit_test(test_no_import_when_disabled_or_missing),
		cmocka_unit_test(test_overrides_come_last),
		cmocka_unit_test(test_errors_leave_output_untouched),
		cmocka_unit_test(test_admin_group_must_exist),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
