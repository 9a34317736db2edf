/* test_sctl_policy.c - the pure host plan on 1-, 2- and 4-node hosts (struct literals), with and
 * without hugepage-backed domains; overrides, keep, blocked changes, never shrinking a pool. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/config.h"
#include "sysctl/sctl_policy.h"

#define UNUSED __attribute__((unused))
#define MIB 1024ULL
#define GIB (1024ULL * 1024)

static struct nod_topology topo;
static struct sctl_facts facts;
static struct sctl_plan plan;
static struct memopt_config cfg;

/* n nodes with 2 MiB and 1 GiB pools; pool_2m[i] pages of 2 MiB on node i. */
static void host(size_t n, const uint64_t *pool_2m)
{
	memset(&topo, 0, sizeof(topo));
	topo.n = n;
	for (size_t i = 0; i < n; i++) {
		struct nod_node *nd = &topo.node[i];
		nd->id = (int)i;
		nd->has_meminfo = true;
		nd->total_kib = 64 * GIB;
		nd->npools = 2;
		nd->pool[0] = (struct nod_hpool){.page_kib = 2048, .nr = pool_2m ? pool_2m[i] : 0};
		nd->pool[1] = (struct nod_hpool){.page_kib = 1048576};
	}
	memset(&facts, 0, sizeof(facts));
	facts.sysfs_root = "/sys";
	facts.procfs_root = "/proc";
	facts.topo = &topo;
	facts.default_hp_kib = 2048;
	facts.ksm_present = true;
	static const char *const cur[SCTL__FIXED] = {"60", "1", "10", "madvise", "madvise", "1", "4096", "10000",
						     "60000", "511", "1"};
	for (int i = 0; i < SCTL__FIXED; i++) {
		facts.cur[i].present = true;
		snprintf(facts.cur[i].value, sizeof(facts.cur[i].value), "%s", cur[i]);
	}
	snprintf(facts.cur[SCTL_THP_ENABLED].text, sizeof(facts.cur[0].text), "always [madvise] never\n");
	snprintf(facts.cur[SCTL_THP_DEFRAG].text, sizeof(facts.cur[0].text), "always defer defer+madvise [madvise] never\n");
}

static int setup(void **s UNUSED)
{
	cfg_defaults(&cfg);
	return 0;
}

static const struct sctl_item *item(const char *key)
{
	for (size_t i = 0; i < plan.n; i++)
		if (strcmp(plan.item[i].key, key) == 0)
			return &plan.item[i];
	fail_msg("no plan item %s", key);
	return NULL;
}

static void expect(const char *key, enum sctl_action a, const char *desired)
{
	const struct sctl_item *it = item(key);
	if (it->action != a || strcmp(it->desired, desired) != 0)
		fail_msg("%s: action %s desired '%s' (expected %s '%s'): %s", key, sctl_action_name(it->action),
			 it->desired, sctl_action_name(a), desired, it->reason);
}

static void test_one_node_no_domains(void **s UNUSED)
{
	host(1, NULL);
	assert_int_equal(sctl_plan_build(&cfg.host, &facts, &plan), 0);
	expect("vm.swappiness", SA_CHANGE, "10");
	assert_string_equal(item("vm.swappiness")->current, "60");
	assert_string_equal(item("vm.swappiness")->path, "/proc/sys/vm/swappiness");
	assert_non_null(strstr(item("vm.swappiness")->source, "tuned"));
	expect("vm.zone_reclaim_mode", SA_CHANGE, "0");
	assert_non_null(strstr(item("vm.zone_reclaim_mode")->reason, "one NUMA node"));
	expect("vm.dirty_background_ratio", SA_CHANGE, "5");
	expect("thp.enabled", SA_CHANGE, "always");
	expect("thp.defrag", SA_OK, "madvise");
	expect("thp.khugepaged.defrag", SA_OK, "1");
	expect("thp.khugepaged.pages_to_scan", SA_UNMANAGED, "");
	expect("ksm.merge_across_nodes", SA_UNMANAGED, "");
	expect("hugepages.node0.2048kB", SA_UNMANAGED, "");
	expect("hugepages.node0.1048576kB", SA_UNMANAGED, "");
	assert_string_equal(item("hugepages.node0.2048kB")->path,
			    "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages");
	assert_int_equal(plan.changes, 4);
	assert_int_equal(plan.nodes, 1);
	/* Apply order: ascending order numbers. */
	for (size_t i = 1; i < plan.n; i++)
		assert_true(plan.item[i - 1].order <= plan.item[i].order);
	/* Every managed item says why and where from. */
	for (size_t i = 0; i < plan.n; i++) {
		assert_true(strlen(plan.item[i].reason) > 10);
		assert_non_null(plan.item[i].source);
	}
}

static void test_one_node_with_domains(void **s UNUSED)
{
	struct sctl_dom doms[] = {
		{.name = "db", .mem_kib = 4 * GIB, .hugepages = true},                       /* default 2 MiB */
		{.name = "plain", .mem_kib = 8 * GIB},                                       /* no hugepages */
		{.name = "big", .mem_kib = 3 * GIB, .hugepages = true, .page_kib = 1048576}, /* 1 GiB pages */
	};
	host(1, NULL);
	facts.doms = doms;
	facts.ndoms = 3;
	assert_int_equal(sctl_plan_build(&cfg.host, &facts, &plan), 0);
	/* 2048 pages + 2 % headroom rounded up (41) */
	expect("hugepages.node0.2048kB", SA_CHANGE, "2089");
	assert_non_null(strstr(item("hugepages.node0.2048kB")->reason, "db"));
	expect("hugepages.node0.1048576kB", SA_CHANGE, "4"); /* 3 + 1 */
	assert_int_equal(plan.hugepage_domains, 2);
	/* Headroom 0: exactly what is needed. */
	cfg.host.hugepage_headroom_ppm = 0;
	assert_int_equal(sctl_plan_build(&cfg.host, &facts, &plan), 0);
	expect("hugepages.node0.2048kB", SA_CHANGE, "2048");
	expect("hugepages.node0.1048576kB", SA_CHANGE, "3");
}

static void test_two_nodes(void **s UNUSED)
{
	host(2, NULL);
	assert_int_equal(sctl_plan_build(&cfg.host, &facts, &plan), 0);
	expect("vm.zone_reclaim_mode", SA_CHANGE, "0");
	assert_non_null(strstr(item("vm.zone_reclaim_mode")->reason, "2 NUMA nodes"));
	expect("ksm.merge_across_nodes", SA_CHANGE, "0");
	assert_false(item("ksm.merge_across_nodes")->unmerge);
	expect("hugepages.node1.2048kB", SA_UNMANAGED, "");
}

static void test_two_nodes_with_domains(void **s UNUSED)
{
	uint64_t pools[2] = {0, 3000}; /* node 1 already holds more than needed */
	struct sctl_dom doms[] = {
		{.name = "bound1", .mem_kib = 4 * GIB, .hugepages = true, .page_kib = 2048, .host_nodes = 1u << 1},
		{.name = "unbound", .mem_kib = 2 * GIB, .hugepages = true, .page_kib = 2048},
		{.name = "gone-node", .mem_kib = 1 * GIB, .hugepages = true, .host_nodes = 1u << 5},
	};
	host(2, pools);
	facts.doms = doms;
	facts.ndoms = 3;
	assert_int_equal(sctl_plan_build(&cfg.host, &facts, &plan), 0);
	/* node0: unbound 1024/2 = 512, gone-node (bound to a node this host lacks: spread) 256 -> 768 + 16 */
	expect("hugepages.node0.2048kB", SA_CHANGE, "784");
	/* node1: 2048 + 512 + 256 = 2816 + 57 = 2873 < 3000: never shrunk */
	expect("hugepages.node1.2048kB", SA_OK, "3000");
	assert_non_null(strstr(item("hugepages.node1.2048kB")->reason, "never shrunk"));
	expect("hugepages.node0.1048576kB", SA_UNMANAGED, "");
}

static void test_four_nodes_with_domains(void **s UNUSED)
{
	struct sctl_dom doms[] = {
		{.name = "pinned01", .mem_kib = 8 * GIB, .hugepages = true, .host_nodes = 0x3},
		{.name = "free", .mem_kib = 4 * GIB, .hugepages = true},
		{.name = "g1", .mem_kib = 2 * GIB, .hugepages = true, .page_kib = 1048576, .host_nodes = 1u << 3},
		{.name = "g64k", .mem_kib = 1 * GIB, .hugepages = true, .page_kib = 64},
	};
	host(4, NULL);
	facts.doms = doms;
	facts.ndoms = 4;
	cfg.host.hugepage_headroom_ppm = 0;
	assert_int_equal(sctl_plan_build(&cfg.host, &facts, &plan), 0);
	expect("hugepages.node0.2048kB", SA_CHANGE, "2560"); /* 2048 + 512 */
	expect("hugepages.node1.2048kB", SA_CHANGE, "2560");
	expect("hugepages.node2.2048kB", SA_CHANGE, "512");
	expect("hugepages.node3.2048kB", SA_CHANGE, "512");
	expect("hugepages.node3.1048576kB", SA_CHANGE, "2");
	expect("hugepages.node0.1048576kB", SA_UNMANAGED, "");
	/* A page size no node offers is reported, not planned. */
	expect("hugepages.g64k", SA_UNAVAILABLE, "");
	expect("ksm.merge_across_nodes", SA_CHANGE, "0");
	assert_non_null(strstr(item("ksm.merge_across_nodes")->reason, "4 NUMA nodes"));
}

static void test_overrides_and_keep(void **s UNUSED)
{
	host(2, NULL);
	snprintf(cfg.host.knob[SCTL_SWAPPINESS], CFG_HOST_VALUE_MAX, "keep");
	snprintf(cfg.host.knob[SCTL_ZONE_RECLAIM], CFG_HOST_VALUE_MAX, "1");
	snprintf(cfg.host.knob[SCTL_THP_DEFRAG], CFG_HOST_VALUE_MAX, "defer+madvise");
	snprintf(cfg.host.knob[SCTL_KHP_PAGES_TO_SCAN], CFG_HOST_VALUE_MAX, "8192");
	snprintf(cfg.host.knob[SCTL_THP_ENABLED], CFG_HOST_VALUE_MAX, "sometimes");
	snprintf(cfg.host.hugepages, sizeof(cfg.host.hugepages), "node0:2M=8,1G=1");
	assert_int_equal(sctl_plan_build(&cfg.host, &facts, &plan), 0);
	expect("vm.swappiness", SA_UNMANAGED, "");
	assert_non_null(strstr(item("vm.swappiness")->reason, "keep"));
	expect("vm.zone_reclaim_mode", SA_OK, "1");
	assert_string_equal(item("vm.zone_reclaim_mode")->origin, "config");
	expect("thp.defrag", SA_CHANGE, "defer+madvise");
	expect("thp.khugepaged.pages_to_scan", SA_CHANGE, "8192");
	/* The kernel does not offer it: blocked, with the choices. */
	assert_int_equal(item("thp.enabled")->action, SA_BLOCKED);
	assert_non_null(strstr(item("thp.enabled")->reason, "always madvise never"));
	expect("hugepages.node0.2048kB", SA_CHANGE, "8");
	expect("hugepages.node1.2048kB", SA_UNMANAGED, "");
	expect("hugepages.node0.1048576kB", SA_CHANGE, "1");
	expect("hugepages.node1.1048576kB", SA_CHANGE, "1");
	snprintf(cfg.host.hugepages, sizeof(cfg.host.hugepages), "node7:2M=8");
	assert_int_equal(sctl_plan_build(&cfg.host, &facts, &plan), 0);
	expect("hugepages.node7.2048kB", SA_UNAVAILABLE, "");
	snprintf(cfg.host.hugepages, sizeof(cfg.host.hugepages), "keep");
	assert_int_equal(sctl_plan_build(&cfg.host, &facts, &plan), 0);
	expect("hugepages.node0.2048kB", SA_UNMANAGED, "");
}

static void test_blocked(void **s UNUSED)
{
	host(2, NULL);
	facts.ksm_pages_shared = 1234;
	facts.dirty_bg_bytes_set = true;
	facts.cur[SCTL_KHP_MAX_PTES_NONE].present = false;
	snprintf(cfg.host.knob[SCTL_KHP_MAX_PTES_NONE], CFG_HOST_VALUE_MAX, "0");
	assert_int_equal(sctl_plan_build(&cfg.host, &facts, &plan), 0);
	assert_int_equal(item("ksm.merge_across_nodes")->action, SA_BLOCKED);
	assert_non_null(strstr(item("ksm.merge_across_nodes")->reason, "ksm_unmerge = yes"));
	assert_int_equal(item("vm.dirty_background_ratio")->action, SA_BLOCKED);
	assert_int_equal(item("thp.khugepaged.max_ptes_none")->action, SA_UNAVAILABLE);
	cfg.host.ksm_unmerge = true;
	assert_int_equal(sctl_plan_build(&cfg.host, &facts, &plan), 0);
	expect("ksm.merge_across_nodes", SA_CHANGE, "0");
	assert_true(item("ksm.merge_across_nodes")->unmerge);
}

static void test_need(void **s UNUSED)
{
	uint64_t need[NOD_MAX][NOD_HP_SIZES];
	const uint64_t sizes[NOD_HP_SIZES] = {2048, 1048576};
	struct sctl_dom d[] = {{.name = "odd", .mem_kib = 3 * 2048 + 1, .hugepages = true, .host_nodes = 0x3}};
	host(2, NULL);
	sctl_hugepage_need(&topo, d, 1, 2048, need, sizes, 2);
	/* 4 pages (rounded up) over 2 nodes */
	assert_int_equal(need[0][0], 2);
	assert_int_equal(need[1][0], 2);
	assert_int_equal(need[0][1], 0);
	/* No default size known and none in the XML: nothing planned. */
	d[0].host_nodes = 0;
	sctl_hugepage_need(&topo, d, 1, 0, need, sizes, 2);
	assert_int_equal(need[0][0], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_one_node_no_domains, setup),
		cmocka_unit_test_setup(test_one_node_with_domains, setup),
		cmocka_unit_test_setup(test_two_nodes, setup),
		cmocka_unit_test_setup(test_two_nodes_with_domains, setup),
		cmocka_unit_test_setup(test_four_nodes_with_domains, setup),
		cmocka_unit_test_setup(test_overrides_and_keep, setup),
		cmocka_unit_test_setup(test_blocked, setup),
		cmocka_unit_test_setup(test_need, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
