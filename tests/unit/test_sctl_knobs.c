/* test_sctl_knobs.c - the knob table, the knob value parser on hostile text, value checks, the
 * hugepages spec and the [host] config section (file:line errors, cross-checks). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/config.h"
#include "sysctl/sctl_knobs.h"

#define UNUSED __attribute__((unused))

static void test_table(void **s UNUSED)
{
	for (int i = 0; i < SCTL__FIXED; i++) {
		const struct sctl_knob *k = &sctl_knobs[i];
		char err[256];
		assert_non_null(k->key);
		assert_non_null(k->conf);
		assert_true(strlen(k->reason) > 20);
		assert_true(strlen(k->source) > 10);
		/* Every literal profile value passes its own check. */
		if (strcmp(k->profile, SCTL_AUTO) && strcmp(k->profile, SCTL_KEEP))
			assert_int_equal(sctl_check_value(k, k->profile, NULL, err, sizeof(err)), 0);
		for (int j = 0; j < i; j++)
			assert_true(strcmp(sctl_knobs[j].key, k->key) != 0);
	}
	assert_string_equal(sctl_knobs[SCTL_SWAPPINESS].profile, "10");
	assert_string_equal(sctl_knobs[SCTL_SWAPPINESS].rel, "sys/vm/swappiness");
}

static void test_parse_current(void **s UNUSED)
{
	char v[SCTL_VALUE_MAX];
	assert_int_equal(sctl_parse_current(SK_INT, "60\n", 3, v, sizeof(v)), 0);
	assert_string_equal(v, "60");
	assert_int_equal(sctl_parse_current(SK_INT, "  007 \n", 7, v, sizeof(v)), 0);
	assert_string_equal(v, "7");
	assert_int_equal(sctl_parse_current(SK_INT, "-1", 2, v, sizeof(v)), 0);
	assert_string_equal(v, "-1");
	assert_int_equal(sctl_parse_current(SK_INT, "", 0, v, sizeof(v)), -EBADMSG);
	assert_int_equal(sctl_parse_current(SK_INT, "6 0", 3, v, sizeof(v)), -EBADMSG);
	assert_int_equal(sctl_parse_current(SK_INT, "99999999999999999999", 20, v, sizeof(v)), -EBADMSG);
	assert_int_equal(sctl_parse_current(SK_INT, "1\0002", 3, v, sizeof(v)), -EBADMSG);
	const char *sel = "always [madvise] never\n";
	assert_int_equal(sctl_parse_current(SK_SELECT, sel, strlen(sel), v, sizeof(v)), 0);
	assert_string_equal(v, "madvise");
	assert_int_equal(sctl_parse_current(SK_SELECT, "always madvise", 14, v, sizeof(v)), -EBADMSG);
	assert_int_equal(sctl_parse_current(SK_SELECT, "[] x", 4, v, sizeof(v)), -EBADMSG);
	assert_int_equal(sctl_parse_current(SK_SELECT, "[a b]", 5, v, sizeof(v)), -EBADMSG);
	assert_int_equal(sctl_parse_current(SK_SELECT, "[a [b]", 6, v, sizeof(v)), -EBADMSG);
	assert_int_equal(sctl_parse_current(SK_SELECT, "[never", 6, v, sizeof(v)), -EBADMSG);
}

static void test_select_and_check(void **s UNUSED)
{
	const char *t = "always defer defer+madvise [madvise] never\n";
	char err[256];
	assert_true(sctl_select_has(t, "defer+madvise"));
	assert_true(sctl_select_has(t, "madvise"));
	assert_false(sctl_select_has(t, "defer+"));
	assert_false(sctl_select_has(t, ""));
	assert_int_equal(sctl_check_value(&sctl_knobs[SCTL_THP_DEFRAG], "never", t, err, sizeof(err)), 0);
	assert_int_equal(sctl_check_value(&sctl_knobs[SCTL_THP_DEFRAG], "sometimes", t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "does not offer 'sometimes'"));
	assert_int_equal(sctl_check_value(&sctl_knobs[SCTL_THP_DEFRAG], "a b", NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(sctl_check_value(&sctl_knobs[SCTL_SWAPPINESS], "201", NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "0..200"));
	assert_int_equal(sctl_check_value(&sctl_knobs[SCTL_SWAPPINESS], "200", NULL, err, sizeof(err)), 0);
	assert_int_equal(sctl_check_value(&sctl_knobs[SCTL_SWAPPINESS], "1x", NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(sctl_check_value(&sctl_hugepages_knob, "8", NULL, err, sizeof(err)), 0);
	assert_int_equal(sctl_check_value(&sctl_hugepages_knob, "-8", NULL, err, sizeof(err)), -EINVAL);
}

static void test_hp_spec(void **s UNUSED)
{
	struct sctl_hp_spec sp[SCTL_HP_SPEC_MAX];
	char mode;
	assert_int_equal(sctl_parse_hp_spec("auto", sp, SCTL_HP_SPEC_MAX, &mode), 0);
	assert_int_equal(mode, 'a');
	assert_int_equal(sctl_parse_hp_spec("keep", sp, SCTL_HP_SPEC_MAX, &mode), 0);
	assert_int_equal(mode, 'k');
	assert_int_equal(sctl_parse_hp_spec("node0:2M=8,node1:1G=2,2048kB=4", sp, SCTL_HP_SPEC_MAX, &mode), 3);
	assert_int_equal(mode, 'l');
	assert_int_equal(sp[0].node, 0);
	assert_int_equal(sp[0].page_kib, 2048);
	assert_int_equal(sp[0].count, 8);
	assert_int_equal(sp[1].page_kib, 1048576);
	assert_int_equal(sp[2].node, -1);
	assert_int_equal(sp[2].page_kib, 2048);
	static const char *const bad[] = {"", "node0:2M", "node0:2048=8", "node0:3M=1", "nodex:2M=1", "node0:2M=-1",
					  "node0:2M=8,", "node0:2M=8,node0:2M=9", "2M=8,,1G=1", "node64:2M=1",
					  "node0:2M=1=2", "node0:0k=1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sctl_parse_hp_spec(bad[i], sp, SCTL_HP_SPEC_MAX, &mode) >= 0)
			fail_msg("accepted '%s'", bad[i]);
}

static void test_config(void **s UNUSED)
{
	struct memopt_config c;
	char err[CFG_ERR_MAX];
	cfg_defaults(&c);
	assert_true(c.host.manage);
	assert_false(c.host.apply_on_start);
	assert_string_equal(c.host.knob[SCTL_SWAPPINESS], "auto");
	const char *good = "[host]\ndrift = reapply\nmax_reapply = 2\nswappiness = 5\nthp_defrag = keep\n"
			   "hugepages = node0:2M=8\nhugepage_headroom = 5%\ndomain_xml_dir = none\n";
	assert_int_equal(cfg_parse_string("t.conf", good, &c, err, sizeof(err)), 0);
	assert_int_equal(cfg_validate(&c, err, sizeof(err)), 0);
	assert_int_equal(c.host.drift, HOST_DRIFT_REAPPLY);
	assert_int_equal(c.host.max_reapply, 2);
	assert_string_equal(c.host.knob[SCTL_SWAPPINESS], "5");
	assert_string_equal(c.host.knob[SCTL_THP_DEFRAG], "keep");
	assert_int_equal(c.host.hugepage_headroom_ppm, 50000);
	assert_string_equal(c.host.domain_xml_dir, "");

	cfg_defaults(&c);
	assert_int_equal(cfg_parse_string("t.conf", "[host]\n\ndrift = sometimes\n", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.conf:3"));
	cfg_defaults(&c);
	assert_int_equal(cfg_parse_string("t.conf", "[host]\nswappiness = 300\n", &c, err, sizeof(err)), 0);
	assert_int_equal(cfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "[host] swappiness"));
	assert_non_null(strstr(err, "0..200"));
	cfg_defaults(&c);
	assert_int_equal(cfg_parse_string("t.conf", "[host]\nhugepages = node0:2M\n", &c, err, sizeof(err)), 0);
	assert_int_equal(cfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "[host] hugepages"));
	cfg_defaults(&c);
	assert_int_equal(cfg_parse_string("t.conf", "[host]\nnr_hugepages = 3\n", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.conf:2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),  cmocka_unit_test(test_parse_current), cmocka_unit_test(test_select_and_check),
		cmocka_unit_test(test_hp_spec), cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
