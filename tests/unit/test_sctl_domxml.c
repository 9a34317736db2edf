/* test_sctl_domxml.c - libvirt domain XML facts for the host policy: hugepage backing, page size, host
 * node binding, units; malformed and unrelated files refused; the directory reader. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sysctl/sctl_domxml.h"

#define UNUSED __attribute__((unused))
#define FIXTURES "tests/fixtures"

static int parse(const char *xml, struct sctl_dom *d)
{
	return sctl_parse_domain_xml(xml, strlen(xml), d);
}

static void test_parse(void **s UNUSED)
{
	struct sctl_dom d;
	assert_int_equal(parse("<domain><name>a</name><memory unit='MiB'>512</memory></domain>", &d), 0);
	assert_string_equal(d.name, "a");
	assert_int_equal(d.mem_kib, 524288);
	assert_false(d.hugepages);
	assert_int_equal(parse("<domain type=\"kvm\"><name>b</name><memory unit='b'>1025</memory>"
			       "<memoryBacking><hugepages><page size=\"1\" unit=\"GiB\" nodeset=\"0-3\"/></hugepages>"
			       "</memoryBacking><numatune><memory mode='strict' nodeset='2-3'/></numatune></domain>",
			       &d), 0);
	assert_int_equal(d.mem_kib, 2);
	assert_true(d.hugepages);
	assert_int_equal(d.page_kib, 1048576);
	assert_int_equal(d.host_nodes, 0xc);
	/* Status XML wraps the domain. */
	assert_int_equal(parse("<domstatus state='running'><domain><name>c</name><memory>1024</memory>"
			       "<memoryBacking><hugepages/></memoryBacking></domain></domstatus>", &d), 0);
	assert_true(d.hugepages);
	assert_int_equal(d.page_kib, 0);
	/* hugepages outside memoryBacking, or a nested <memory> in numatune, are not the domain's. */
	assert_int_equal(parse("<domain><name>d</name><memory>1024</memory><devices><hugepages/></devices></domain>", &d), 0);
	assert_false(d.hugepages);
	assert_int_equal(d.mem_kib, 1024);
	static const char *const bad[] = {
		"", "<domain><name>x</name></domain>", "<domain><memory>1</memory></domain>",
		"<domain><name>x</name><memory unit='parsec'>1</memory></domain>",
		"<domain><name>x</name><memory>-1</memory></domain>",
		"<domain><name>x</name><memory>1</memory></domian>",
		"<domain><name>x</name><memory>1</memory><!-- unterminated </domain>",
		"<domain><name>x</name><memory>1</memory><numatune><memory nodeset='9-1'/></numatune></domain>",
		"<network><name>x</name><memory>1</memory></network>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &d) == 0)
			fail_msg("accepted '%s'", bad[i]);
	/* A NUL inside <name> made an empty or cut-short name (found by tests/fuzz/fuzz_sctl_domxml). */
	static const char nul_name[] = "<domain><name>\0a</name><memory>1</memory></domain>";
	assert_int_equal(sctl_parse_domain_xml(nul_name, sizeof(nul_name) - 1, &d), -EBADMSG);
	static const char nul_mid[] = "<domain><name>a\0b</name><memory>1</memory></domain>";
	assert_int_equal(sctl_parse_domain_xml(nul_mid, sizeof(nul_mid) - 1, &d), -EBADMSG);
}

static const struct sctl_dom *by_name(const struct sctl_dom *d, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(d[i].name, name) == 0)
			return &d[i];
	fail_msg("no domain %s", name);
	return NULL;
}

static void test_dir(void **s UNUSED)
{
	struct sctl_dom d[8];
	int n = sctl_read_domains(FIXTURES "/domains", d, 8);
	assert_int_equal(n, 4); /* broken.xml and notes.txt skipped */
	const struct sctl_dom *x = by_name(d, n, "db1");
	assert_true(x->hugepages);
	assert_int_equal(x->page_kib, 2048);
	assert_int_equal(x->mem_kib, 4194304);
	assert_int_equal(x->host_nodes, 2); /* <page nodeset> is a guest cell: not used */
	x = by_name(d, n, "big1g");
	assert_int_equal(x->page_kib, 1048576);
	assert_int_equal(x->mem_kib, 2097152);
	assert_int_equal(x->host_nodes, 0);
	x = by_name(d, n, "web");
	assert_int_equal(x->host_nodes, 3);
	assert_int_equal(x->page_kib, 0);
	x = by_name(d, n, "plain");
	assert_false(x->hugepages);
	assert_int_equal(sctl_read_domains("/nonexistent-memopt", d, 8), 0);
	assert_int_equal(sctl_read_domains("", d, 8), 0);
	assert_int_equal(sctl_read_domains(FIXTURES "/domains", d, 2), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_parse), cmocka_unit_test(test_dir)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
