/* test_nod_numa.c - NUMA reader on 1-, 2- and 4-node fixture trees and a kernel without NUMA; list,
 * distance, meminfo and numa_maps parsers on hostile input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "numa/nod_numa.h"

#define FIXTURES "tests/fixtures"
#define UNUSED __attribute__((unused))

static struct nod_topology T;

static void test_one_node(void **s UNUSED)
{
	assert_int_equal(nod_read(FIXTURES "/sys-numa-1node", &T), 0);
	assert_int_equal(T.n, 1);
	assert_int_equal(T.node[0].id, 0);
	assert_true(T.node[0].has_meminfo);
	assert_int_equal(T.node[0].total_kib, 24ULL * 1024 * 1024);
	assert_int_equal(T.node[0].free_kib, 12ULL * 1024 * 1024);
	assert_int_equal(T.node[0].npools, 2);
	assert_int_equal(T.node[0].pool[0].page_kib, 2048);      /* ascending */
	assert_int_equal(T.node[0].pool[1].page_kib, 1048576);
	assert_true(T.node[0].has_distance);
	assert_int_equal(T.node[0].distance[0], 10);
	assert_false(T.libnuma); /* a fixture root is never confirmed by libnuma */
}

static void test_two_nodes(void **s UNUSED)
{
	assert_int_equal(nod_read(FIXTURES "/sys-numa-2node", &T), 0);
	assert_int_equal(T.n, 2);
	assert_int_equal(T.node[1].id, 1);
	const struct nod_hpool *p = nod_pool(&T, 1, 2048);
	assert_non_null(p);
	assert_int_equal(p->nr, 16);
	assert_int_equal(p->free, 16);
	assert_null(nod_pool(&T, 1, 4));
	assert_int_equal(T.node[0].distance[1], 21);
	assert_int_equal(T.node[1].distance[1], 10);
	assert_int_equal(nod_index(&T, 1), 1);
	assert_int_equal(nod_index(&T, 7), -1);
}

static void test_four_nodes(void **s UNUSED)
{
	assert_int_equal(nod_read(FIXTURES "/sys-numa-4node", &T), 0);
	assert_int_equal(T.n, 4);
	assert_int_equal(T.node[3].distance[0], 22);
	assert_int_equal(T.node[2].distance[3], 16);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(T.node[i].npools, 2);
}

static void test_no_numa_kernel(void **s UNUSED)
{
	assert_int_equal(nod_read(FIXTURES "/sys-nonuma", &T), 0);
	assert_int_equal(T.n, 1);
	assert_false(T.node[0].has_meminfo);
	assert_int_equal(T.node[0].npools, 1);
	assert_int_equal(T.node[0].pool[0].nr, 4);
	char path[512];
	assert_int_equal(nod_pool_path(path, sizeof(path), "/sys", -1, 2048, "nr_hugepages"), 0);
	assert_string_equal(path, "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
	assert_int_equal(nod_pool_path(path, sizeof(path), "/sys", 3, 1048576, "free_hugepages"), 0);
	assert_string_equal(path, "/sys/devices/system/node/node3/hugepages/hugepages-1048576kB/free_hugepages");
	/* An empty tree: one node, no pools. */
	assert_int_equal(nod_read("/nonexistent-memopt", &T), 0);
	assert_int_equal(T.n, 1);
	assert_int_equal(T.node[0].npools, 0);
}

static void test_parse_list(void **s UNUSED)
{
	uint64_t m;
	assert_int_equal(nod_parse_list("0-3,8", 5, &m), 0);
	assert_int_equal(m, 0x10f);
	assert_int_equal(nod_parse_list("1\n", 2, &m), 0);
	assert_int_equal(m, 2);
	assert_int_equal(nod_parse_list("", 0, &m), -EBADMSG);
	assert_int_equal(nod_parse_list("3-1", 3, &m), -EBADMSG);
	assert_int_equal(nod_parse_list("64", 2, &m), -EBADMSG);
	assert_int_equal(nod_parse_list("1,,2", 4, &m), -EBADMSG);
	assert_int_equal(nod_parse_list("1,", 2, &m), -EBADMSG);
	assert_int_equal(nod_parse_list("-1", 2, &m), -EBADMSG);
}

static void test_parse_distance_meminfo(void **s UNUSED)
{
	uint32_t d[4];
	struct nod_node n = {0};
	assert_int_equal(nod_parse_distance("10 21\n", 6, d, 4), 2);
	assert_int_equal(d[1], 21);
	assert_int_equal(nod_parse_distance("10 x", 4, d, 4), -EBADMSG);
	assert_int_equal(nod_parse_distance("10 20 30 40 50", 14, d, 4), -EBADMSG);
	assert_int_equal(nod_parse_distance("", 0, d, 4), -EBADMSG);
	const char *mi = "Node 1 MemTotal: 100 kB\nNode 1 MemFree: 40 kB\nNode 1 MemFree2: 7 kB\ngarbage\n";
	assert_int_equal(nod_parse_meminfo(mi, strlen(mi), &n), 0);
	assert_int_equal(n.total_kib, 100);
	assert_int_equal(n.free_kib, 40);
	const char *bad = "Node 1 MemFree: 40 kB\n";
	assert_int_equal(nod_parse_meminfo(bad, strlen(bad), &n), -EBADMSG);
	const char *trunc = "Node 0 MemTotal:  ";
	assert_int_equal(nod_parse_meminfo(trunc, strlen(trunc), &n), -EBADMSG);
}

static void test_numa_maps(void **s UNUSED)
{
	uint64_t kib[NOD_MAX];
	assert_int_equal(nod_read_placement(FIXTURES "/proc-host", 4242, kib), 0);
	/* 262144 + 40 small pages on node 1, 60 on node 0, 256 huge pages on each. */
	assert_int_equal(kib[0], 60 * 4 + 256 * 2048);
	assert_int_equal(kib[1], (262144 + 40) * 4 + 256 * 2048);
	assert_int_equal(kib[2], 0);
	assert_int_equal(nod_read_placement(FIXTURES "/proc-host", 999999, kib), -ENOENT);
	const char *t = "x N0=1 kernelpagesize_kB=0\ny N0=2";
	assert_int_equal(nod_parse_numa_maps(t, strlen(t), kib), 0);
	assert_int_equal(kib[0], 12); /* a 0 page size is ignored: 4 KiB */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_node),       cmocka_unit_test(test_two_nodes),
		cmocka_unit_test(test_four_nodes),     cmocka_unit_test(test_no_numa_kernel),
		cmocka_unit_test(test_parse_list),     cmocka_unit_test(test_parse_distance_meminfo),
		cmocka_unit_test(test_numa_maps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
