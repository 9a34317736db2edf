/* test_mtr_expo.c - unit tests for the Prometheus exposition writer and the listen-address parser:
 * escaping of hostile label values, counters and gauges, HELP/TYPE once per family, refusals. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/netaddr.h"
#include "metrics/mtr_expo.h"

static const struct mtr_family g_mem = {"memopt_test_memory_bytes", MTR_GAUGE, "memory, in bytes"};
static const struct mtr_family c_ops = {"memopt_test_ops_total", MTR_COUNTER, "operations"};
static const struct mtr_family c_bad = {"memopt_test_ops", MTR_COUNTER, "a counter without _total"};
static const struct mtr_family g_badname = {"memopt-test", MTR_GAUGE, "dash in the name"};
static const struct mtr_family g_help = {"memopt_test_help", MTR_GAUGE,
					 "back\\slash and\nnewline \"quoted\""};

/* The writer's text, which must be complete (no allocation failure). */
static const char *text(const struct mtr_writer *w)
{
	assert_false(w->oom);
	return w->text ? w->text : "";
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_gauge_counter(void **state)
{
	(void)state;
	struct mtr_writer w;
	mtr_init(&w);
	assert_int_equal(mtr_put_u64(&w, &g_mem, NULL, 0, 18446744073709551615ull), 0);
	assert_int_equal(mtr_put_i64(&w, &c_ops, (const struct mtr_label[]){{"reason", "written"}}, 1, 3), 0);
	assert_int_equal(mtr_put_i64(&w, &c_ops, (const struct mtr_label[]){{"reason", "failed"}}, 1, 0), 0);
	assert_string_equal(text(&w), "# HELP memopt_test_memory_bytes memory, in bytes\n"
				      "# TYPE memopt_test_memory_bytes gauge\n"
				      "memopt_test_memory_bytes 18446744073709551615\n"
				      "# HELP memopt_test_ops_total operations\n"
				      "# TYPE memopt_test_ops_total counter\n"
				      "memopt_test_ops_total{reason=\"written\"} 3\n"
				      "memopt_test_ops_total{reason=\"failed\"} 0\n");
	assert_int_equal(w.errors, 0);
	mtr_fini(&w);
}

static void test_help_type_once(void **state)
{
	(void)state;
	struct mtr_writer w;
	mtr_init(&w);
	for (int i = 0; i < 5; i++)
		assert_int_equal(mtr_put_u64(&w, &g_mem, NULL, 0, (uint64_t)i), 0);
	assert_int_equal(count(text(&w), "# HELP memopt_test_memory_bytes "), 1);
	assert_int_equal(count(text(&w), "# TYPE memopt_test_memory_bytes gauge"), 1);
	assert_int_equal(count(text(&w), "\nmemopt_test_memory_bytes "), 5);

	/* A family cannot come back once another one started: its HELP/TYPE would repeat. */
	assert_int_equal(mtr_put_u64(&w, &c_ops, NULL, 0, 1), 0);
	size_t len = w.len;
	assert_int_equal(mtr_put_u64(&w, &g_mem, NULL, 0, 9), -EINVAL);
	assert_int_equal(w.len, len);
	/* ... not even as another descriptor with the same name */
	struct mtr_family copy = g_mem;
	assert_int_equal(mtr_put_u64(&w, &copy, NULL, 0, 9), -EINVAL);
	assert_int_equal(w.errors, 2);
	assert_int_equal(count(text(&w), "# HELP memopt_test_memory_bytes "), 1);

	/* No sample, no HELP: a family without samples does not appear at all. */
	assert_null(strstr(text(&w), "memopt_test_help"));
	mtr_fini(&w);
}

static void test_escaping(void **state)
{
	(void)state;
	struct mtr_writer w;
	mtr_init(&w);
	/* A libvirt domain name may hold quotes, backslashes and newlines. */
	const struct mtr_label l[] = {{"domain", "we\"ird\\name\nnext"}, {"pid", "42"}};
	assert_int_equal(mtr_put_u64(&w, &g_mem, l, 2, 1), 0);
	assert_non_null(
	    strstr(text(&w), "memopt_test_memory_bytes{domain=\"we\\\"ird\\\\name\\nnext\",pid=\"42\"} 1\n"));
	mtr_fini(&w);

	/* HELP escapes backslash and newline, not quotes. */
	mtr_init(&w);
	assert_int_equal(mtr_put_u64(&w, &g_help, NULL, 0, 0), 0);
	assert_non_null(strstr(text(&w), "# HELP memopt_test_help back\\\\slash and\\nnewline \"quoted\"\n"));
	mtr_fini(&w);

	/* Bytes that are not UTF-8 (a process comm) become U+FFFD; valid UTF-8 passes. */
	mtr_init(&w);
	const struct mtr_label u[] = {{"domain", "a\xff"
						 "b\xc3\xa9"
						 "c\xed\xa0\x80"
						 "d\xc0\xaf"}};
	assert_int_equal(mtr_put_u64(&w, &g_mem, u, 1, 0), 0);
	assert_non_null(strstr(text(&w), "{domain=\"a\xef\xbf\xbd"
					 "b\xc3\xa9"
					 "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
					 "d\xef\xbf\xbd\xef\xbf\xbd\"}"));
	mtr_fini(&w);

	/* An empty value is a value. */
	mtr_init(&w);
	assert_int_equal(mtr_put_u64(&w, &g_mem, (const struct mtr_label[]){{"original", ""}}, 1, 1), 0);
	assert_non_null(strstr(text(&w), "{original=\"\"} 1"));
	mtr_fini(&w);
}

static void test_refusals(void **state)
{
	(void)state;
	struct mtr_writer w;
	mtr_init(&w);
	assert_int_equal(mtr_put_u64(&w, &c_bad, NULL, 0, 1), -EINVAL);
	assert_int_equal(mtr_put_u64(&w, &g_badname, NULL, 0, 1), -EINVAL);
	assert_int_equal(mtr_put_u64(&w, &g_mem, (const struct mtr_label[]){{"bad-label", "x"}}, 1, 1),
			 -EINVAL);
	assert_int_equal(mtr_put_u64(&w, &g_mem, (const struct mtr_label[]){{"__reserved", "x"}}, 1, 1),
			 -EINVAL);
	assert_int_equal(mtr_put_u64(&w, &g_mem, (const struct mtr_label[]){{"9lives", "x"}}, 1, 1), -EINVAL);
	assert_int_equal(mtr_put_u64(&w, &g_mem, (const struct mtr_label[]){{"a", NULL}}, 1, 1), -EINVAL);
	assert_int_equal(mtr_put_u64(&w, &g_mem, (const struct mtr_label[]){{"a", "1"}, {"a", "2"}}, 2, 1),
			 -EINVAL);
	assert_int_equal(mtr_put_i64(&w, &c_ops, NULL, 0, -1), -EINVAL);
	assert_int_equal(mtr_put_double(&w, &c_ops, NULL, 0, NAN), -EINVAL);
	assert_int_equal(mtr_put_double(&w, &c_ops, NULL, 0, INFINITY), -EINVAL);
	assert_int_equal(w.errors, 10);
	assert_int_equal(w.len, 0);
	/* A refused first sample did not start the family: a good one still gets HELP/TYPE. */
	assert_int_equal(mtr_put_i64(&w, &c_ops, NULL, 0, 0), 0);
	assert_int_equal(count(text(&w), "# TYPE memopt_test_ops_total counter\n"), 1);
	mtr_fini(&w);

	assert_true(mtr_valid_metric_name("memopt_a:b_1"));
	assert_false(mtr_valid_metric_name("1abc"));
	assert_false(mtr_valid_metric_name(""));
	assert_true(mtr_valid_label_name("domain"));
	assert_false(mtr_valid_label_name("a:b"));
}

static void test_numbers(void **state)
{
	(void)state;
	struct mtr_writer w;
	mtr_init(&w);
	assert_int_equal(mtr_put_double(&w, &g_mem, (const struct mtr_label[]){{"v", "a"}}, 1, 0.1), 0);
	assert_int_equal(
	    mtr_put_double(&w, &g_mem, (const struct mtr_label[]){{"v", "b"}}, 1, 1796419641.815), 0);
	assert_int_equal(mtr_put_double(&w, &g_mem, (const struct mtr_label[]){{"v", "c"}}, 1, NAN), 0);
	assert_int_equal(mtr_put_double(&w, &g_mem, (const struct mtr_label[]){{"v", "d"}}, 1, -INFINITY), 0);
	assert_int_equal(mtr_put_i64(&w, &g_mem, (const struct mtr_label[]){{"v", "e"}}, 1, INT64_MIN), 0);
	assert_int_equal(mtr_put_double(&w, &g_mem, (const struct mtr_label[]){{"v", "f"}}, 1, 1.0 / 3.0), 0);
	const char *t = text(&w);
	assert_non_null(strstr(t, "{v=\"a\"} 0.1\n"));
	assert_non_null(strstr(t, "{v=\"b\"} 1796419641.815\n"));
	assert_non_null(strstr(t, "{v=\"c\"} NaN\n"));
	assert_non_null(strstr(t, "{v=\"d\"} -Inf\n"));
	assert_non_null(strstr(t, "{v=\"e\"} -9223372036854775808\n"));
	/* 1/3 needs 17 digits to read back the same */
	const char *f = strstr(t, "{v=\"f\"} ");
	assert_non_null(f);
	assert_true(strtod(f + 8, NULL) == 1.0 / 3.0);

	/* mtr_take hands the text over and leaves the writer empty */
	size_t len = 0;
	char *taken = mtr_take(&w, &len);
	assert_non_null(taken);
	assert_int_equal(strlen(taken), len);
	assert_null(w.text);
	free(taken);
}

static void test_listen_addresses(void **state)
{
	(void)state;
	struct naddr a;
	char buf[NADDR_TEXT_MAX];

	assert_int_equal(naddr_parse("127.0.0.1:9720", &a), 0);
	assert_string_equal(naddr_format(&a, buf, sizeof(buf)), "127.0.0.1:9720");
	assert_true(naddr_is_loopback(&a));
	assert_int_equal(naddr_parse("0.0.0.0:1", &a), 0);
	assert_false(naddr_is_loopback(&a));
	assert_int_equal(naddr_parse("[::1]:65535", &a), 0);
	assert_true(naddr_is_loopback(&a));
	assert_string_equal(naddr_format(&a, buf, sizeof(buf)), "[::1]:65535");
	assert_int_equal(naddr_parse("[::ffff:127.0.0.2]:80", &a), 0);
	assert_true(naddr_is_loopback(&a));
	assert_int_equal(naddr_parse("[::]:9720", &a), 0);
	assert_false(naddr_is_loopback(&a));

	static const char *const bad[] = {
	    "",
	    "9720",
	    ":9720",
	    "127.0.0.1",
	    "127.0.0.1:",
	    "127.0.0.1:0",
	    "127.0.0.1:65536",
	    "127.0.0.1:+80",
	    "127.0.0.1:080",
	    "127.0.0.1: 80",
	    "127.0.0.1:80 ",
	    "127.1:80",
	    "0x7f.0.0.1:80",
	    "localhost:9720",
	    "::1:9720",
	    "[::1]",
	    "[::1]9720",
	    "[::1:9720",
	    "[fe80::1%eth0]:80",
	    "256.0.0.1:80",
	    "127.0.0.1:99999999999999999999999",
	    "[1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee:ffff]:80",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct naddr untouched = {.len = 77};
		if (naddr_parse(bad[i], &untouched) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(untouched.len, 77);
	}
	assert_int_equal(naddr_parse(NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gauge_counter), cmocka_unit_test(test_help_type_once),
	    cmocka_unit_test(test_escaping),	  cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_numbers),	  cmocka_unit_test(test_listen_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
