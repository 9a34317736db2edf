/* test_sctl_host.c - the host module on a temp copy of a 1-node fixture tree: apply journals and writes,
 * drift = yield stops managing a knob changed behind memopt's back (and drops its original), drift =
 * reapply re-applies at most max_reapply times then yields, restore_on_stop puts the originals back,
 * manage = no refuses apply. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "common/config.h"
#include "common/fileio.h"
#include "common/state.h"
#include "sysctl/sctl_host.h"

#define UNUSED __attribute__((unused))

static char dir[64];
static struct memopt_config cfg;
static struct st_journal *st;

#include "tmptree.h"

#define SWAP "proc/sys/vm/swappiness"
#define DIRTY "proc/sys/vm/dirty_background_ratio"

static int setup(void **s UNUSED)
{
	char err[512], cmd[256];
	snprintf(dir, sizeof(dir), "/tmp/memopt-host-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cmd, sizeof(cmd), "cp -r tests/fixtures/sys-numa-1node %s/sys && cp -r tests/fixtures/proc-host %s/proc",
		 dir, dir);
	if (system(cmd) != 0)
		return -1;
	cfg_defaults(&cfg);
	snprintf(cfg.daemon.sysfs_root, sizeof(cfg.daemon.sysfs_root), "%s/sys", dir);
	snprintf(cfg.daemon.procfs_root, sizeof(cfg.daemon.procfs_root), "%s/proc", dir);
	snprintf(cfg.daemon.state_dir, sizeof(cfg.daemon.state_dir), "%s/state", dir);
	cfg.host.domain_xml_dir[0] = '\0';
	/* Only the two integer sysctls: fixture files are plain files, not "[a] b" selections. */
	for (size_t i = 0; i < CFG_HOST_NKNOBS; i++)
		snprintf(cfg.host.knob[i], CFG_HOST_VALUE_MAX, "keep");
	snprintf(cfg.host.knob[0], CFG_HOST_VALUE_MAX, "auto");   /* swappiness -> 10 */
	snprintf(cfg.host.knob[2], CFG_HOST_VALUE_MAX, "auto");   /* dirty_background_ratio -> 5 */
	snprintf(cfg.host.hugepages, sizeof(cfg.host.hugepages), "keep");
	return st_open(cfg.daemon.state_dir, &st, err, sizeof(err));
}

static int teardown(void **s UNUSED)
{
	st_close(st);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void apply(void)
{
	json_object *r = NULL;
	char err[1024];
	assert_int_equal(sctl_host_apply(false, &r, err, sizeof(err)), 0);
	json_object_put(r);
}

static void test_apply_yield_restore(void **s UNUSED)
{
	assert_int_equal(sctl_host_init(&cfg, st), 0);
	apply();
	assert_string_equal(get(SWAP), "10");
	assert_string_equal(get(DIRTY), "5");
	assert_string_equal(st_find(st, "sysctl.vm.swappiness")->value, "60");
	sctl_host_cycle();
	assert_string_equal(get(SWAP), "10"); /* no drift, nothing done */
	put(SWAP, "33\n");
	sctl_host_cycle();
	assert_string_equal(get(SWAP), "33"); /* yielded: left as the other party set it */
	assert_null(st_find(st, "sysctl.vm.swappiness"));
	sctl_host_cycle();
	assert_string_equal(get(SWAP), "33"); /* and never fought over */
	json_object *r = NULL;
	char err[256];
	assert_int_equal(sctl_host_status(&r, err, sizeof(err)), 0);
	json_object *items, *it;
	assert_true(json_object_object_get_ex(r, "items", &items));
	bool found = false;
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		it = json_object_array_get_idx(items, i);
		json_object *k, *state;
		json_object_object_get_ex(it, "key", &k);
		if (strcmp(json_object_get_string(k), "vm.swappiness") == 0) {
			assert_true(json_object_object_get_ex(it, "state", &state));
			assert_string_equal(json_object_get_string(state), "yielded");
			found = true;
		}
	}
	assert_true(found);
	json_object_put(r);
	/* Stop: the knob still managed is restored, the yielded one keeps the other party's value. */
	assert_int_equal(sctl_host_fini(true), 0);
	assert_string_equal(get(DIRTY), "10");
	assert_string_equal(get(SWAP), "33");
	assert_int_equal(st_count(st), 0);
}

static void test_reapply_bounded(void **s UNUSED)
{
	cfg.host.drift = HOST_DRIFT_REAPPLY;
	cfg.host.max_reapply = 2;
	assert_int_equal(sctl_host_init(&cfg, st), 0);
	apply();
	for (int i = 0; i < 2; i++) {
		put(SWAP, "33\n");
		sctl_host_cycle();
		assert_string_equal(get(SWAP), "10");
	}
	put(SWAP, "34\n");
	sctl_host_cycle();
	assert_string_equal(get(SWAP), "34"); /* third change: yielded */
	sctl_host_cycle();
	assert_string_equal(get(SWAP), "34");
	/* The operator applies again: managed again, counter reset, original is what it had then. */
	apply();
	assert_string_equal(get(SWAP), "10");
	assert_string_equal(st_find(st, "sysctl.vm.swappiness")->value, "34");
	put(SWAP, "35\n");
	sctl_host_cycle();
	assert_string_equal(get(SWAP), "10");
	assert_int_equal(sctl_host_fini(true), 0);
	assert_string_equal(get(SWAP), "34");
}

static void test_manage_no_and_dry_run(void **s UNUSED)
{
	json_object *r = NULL;
	char err[512];
	cfg.host.manage = false;
	assert_int_equal(sctl_host_init(&cfg, st), 0);
	assert_int_equal(sctl_host_apply(false, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "manage = no"));
	assert_string_equal(get(SWAP), "60");
	cfg.host.manage = true;
	assert_int_equal(sctl_host_apply(true, &r, err, sizeof(err)), 0);
	json_object_put(r);
	assert_string_equal(get(SWAP), "60");
	assert_int_equal(st_count(st), 0);
	/* restore_on_stop = no: originals forgotten, values kept. */
	apply();
	assert_int_equal(sctl_host_fini(false), 0);
	assert_string_equal(get(SWAP), "10");
	assert_int_equal(st_count(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_apply_yield_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reapply_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manage_no_and_dry_run, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
