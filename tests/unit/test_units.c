/* test_units.c - unit tests for the size, percent, duration, bool and integer parsers and formatters. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/units.h"

#define SENTINEL 0xdeadbeefULL

static void test_size_valid(void **state __attribute__((unused)))
{
	static const struct {
		const char *in;
		uint64_t kib;
	} cases[] = {
	    {"0", 0},
	    {"1023", 0}, /* bytes, rounded down to KiB */
	    {"1024", 1},
	    {"4096b", 4},
	    {"4096 bytes", 4},
	    {"4k", 4},
	    {"4K", 4},
	    {"4KiB", 4},
	    {"4KB", 4}, /* KB is binary too */
	    {"16384k", 16384},
	    {"512M", 512 * 1024},
	    {"512MB", 512 * 1024},
	    {"512mib", 512 * 1024},
	    {"4G", 4ULL * 1024 * 1024},
	    {"4GiB", 4ULL * 1024 * 1024},
	    {"1.5G", 1572864},
	    {"0.5k", 0}, /* 512 bytes */
	    {"1.5k", 1},
	    {"2T", 2ULL << 30},
	    {"  4G  ", 4ULL * 1024 * 1024},
	    {"\t4 G\n", 4ULL * 1024 * 1024},
	    {"007M", 7 * 1024},
	    {"0.0009765625M", 1},			    /* exactly 1 KiB */
	    {"16777215T", 16777215ULL << 30},		    /* just under 2^64 bytes */
	    {"18446744073709551615", 18014398509481983ULL}, /* UINT64_MAX bytes */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = SENTINEL;
		int r = unit_parse_size_kib(cases[i].in, &v);

		if (r != 0 || v != cases[i].kib)
			fail_msg("'%s': r=%d v=%llu, expected %llu", cases[i].in, r, (unsigned long long)v,
				 (unsigned long long)cases[i].kib);
	}
}

static void test_size_invalid(void **state __attribute__((unused)))
{
	static const struct {
		const char *in;
		int err;
	} cases[] = {
	    {"", -EINVAL},
	    {"   ", -EINVAL},
	    {"G", -EINVAL},
	    {"-1", -EINVAL},
	    {"-1G", -EINVAL},
	    {"+1G", -EINVAL},
	    {"1.5", -EINVAL}, /* fraction of a byte */
	    {"1.G", -EINVAL},
	    {".5G", -EINVAL},
	    {"1..5G", -EINVAL},
	    {"4X", -EINVAL},
	    {"4GG", -EINVAL},
	    {"4 G B", -EINVAL},
	    {"4G5", -EINVAL},
	    {"0x10", -EINVAL},
	    {"1e3", -EINVAL},
	    {"12%", -EINVAL},
	    {"4P", -EINVAL},
	    {"4G\x01", -EINVAL},
	    {"16777216T", -ERANGE}, /* 2^64 bytes */
	    {"18446744073709551616", -ERANGE},
	    {"99999999999999999999999999999999G", -ERANGE},
	    {"1.5T5", -EINVAL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = SENTINEL;
		int r = unit_parse_size_kib(cases[i].in, &v);

		if (r != cases[i].err || v != SENTINEL)
			fail_msg("'%s': r=%d v=%llu, expected %d and untouched", cases[i].in, r,
				 (unsigned long long)v, cases[i].err);
	}
	assert_int_equal(unit_parse_size_kib(NULL, &(uint64_t){0}), -EINVAL);
}

static void test_size_long_fraction(void **state __attribute__((unused)))
{
	uint64_t v = 0;
	char buf[256];

	/* Hundreds of fraction digits are harmless and do not overflow. */
	memset(buf, '9', sizeof(buf) - 3);
	buf[0] = '1';
	buf[1] = '.';
	buf[sizeof(buf) - 3] = 'G';
	buf[sizeof(buf) - 2] = '\0';
	assert_int_equal(unit_parse_size_kib(buf, &v), 0);
	assert_true(v == 2ULL * 1024 * 1024 - 1 || v == 2ULL * 1024 * 1024);
}

static void test_percent(void **state __attribute__((unused)))
{
	uint32_t p = 7;

	assert_int_equal(unit_parse_percent_ppm("50", &p), 0);
	assert_int_equal(p, 500000);
	assert_int_equal(unit_parse_percent_ppm("50%", &p), 0);
	assert_int_equal(p, 500000);
	assert_int_equal(unit_parse_percent_ppm(" 0.5% ", &p), 0);
	assert_int_equal(p, 5000);
	assert_int_equal(unit_parse_percent_ppm("12.3456%", &p), 0);
	assert_int_equal(p, 123456);
	assert_int_equal(unit_parse_percent_ppm("12.34569%", &p), 0); /* truncated to ppm */
	assert_int_equal(p, 123456);
	assert_int_equal(unit_parse_percent_ppm("0", &p), 0);
	assert_int_equal(p, 0);
	assert_int_equal(unit_parse_percent_ppm("100%", &p), 0);
	assert_int_equal(p, 1000000);
	assert_int_equal(unit_parse_percent_ppm("100.0000%", &p), 0);
	assert_int_equal(p, 1000000);

	p = 7;
	assert_int_equal(unit_parse_percent_ppm("100.0001%", &p), -ERANGE);
	assert_int_equal(unit_parse_percent_ppm("150%", &p), -ERANGE);
	assert_int_equal(unit_parse_percent_ppm("99999999999999999999999%", &p), -ERANGE);
	assert_int_equal(unit_parse_percent_ppm("-1%", &p), -EINVAL);
	assert_int_equal(unit_parse_percent_ppm("%", &p), -EINVAL);
	assert_int_equal(unit_parse_percent_ppm("50%%", &p), -EINVAL);
	assert_int_equal(unit_parse_percent_ppm("50 percent", &p), -EINVAL);
	assert_int_equal(unit_parse_percent_ppm("5G", &p), -EINVAL);
	assert_int_equal(unit_parse_percent_ppm("", &p), -EINVAL);
	assert_int_equal(p, 7);
}

static void test_msize(void **state __attribute__((unused)))
{
	struct msize m = {.is_percent = false, .kib = 99};

	assert_int_equal(unit_parse_msize("75%", &m), 0);
	assert_true(m.is_percent);
	assert_int_equal(m.ppm, 750000);
	assert_int_equal(unit_parse_msize("12.5% ", &m), 0);
	assert_true(m.is_percent);
	assert_int_equal(m.ppm, 125000);
	assert_int_equal(unit_parse_msize("4G", &m), 0);
	assert_false(m.is_percent);
	assert_int_equal(m.kib, 4ULL << 20);
	assert_int_equal(unit_parse_msize("16384k", &m), 0);
	assert_int_equal(m.kib, 16384);

	m = (struct msize){.kib = 99};
	assert_int_equal(unit_parse_msize("101%", &m), -ERANGE);
	assert_int_equal(unit_parse_msize("-5%", &m), -EINVAL);
	assert_int_equal(unit_parse_msize("5G%", &m), -EINVAL);
	assert_int_equal(unit_parse_msize("", &m), -EINVAL);
	assert_false(m.is_percent);
	assert_int_equal(m.kib, 99);

	/* Resolution against MemTotal. */
	assert_int_equal(msize_resolve_kib(&(struct msize){.is_percent = true, .ppm = 200000}, 16ULL << 20),
			 (16ULL << 20) / 5);
	assert_int_equal(msize_resolve_kib(&(struct msize){.is_percent = false, .kib = 1234}, 16ULL << 20),
			 1234);
	assert_int_equal(msize_resolve_kib(&(struct msize){.is_percent = true, .ppm = 1000000}, UINT64_MAX),
			 UINT64_MAX);
	assert_int_equal(msize_resolve_kib(&(struct msize){.is_percent = true, .ppm = 500000}, UINT64_MAX),
			 UINT64_MAX / 2);
}

static void test_duration(void **state __attribute__((unused)))
{
	static const struct {
		const char *in;
		int r;
		uint64_t ms;
	} cases[] = {
	    {"250ms", 0, 250},
	    {"2s", 0, 2000},
	    {"2", 0, 2000},
	    {"1.5", 0, 1500},
	    {"1.5s", 0, 1500},
	    {"0.0005s", 0, 0},
	    {"5m", 0, 300000},
	    {"1h", 0, 3600000},
	    {" 60s ", 0, 60000},
	    {"0", 0, 0},
	    {"2 s", 0, 2000},
	    {"1.5ms", 0, 1},
	    {"5M", -EINVAL, 0},
	    {"2S", -EINVAL, 0},
	    {"1d", -EINVAL, 0},
	    {"-2s", -EINVAL, 0},
	    {"s", -EINVAL, 0},
	    {"2sec", -EINVAL, 0},
	    {"1m30s", -EINVAL, 0},
	    {"", -EINVAL, 0},
	    {"18446744073709551615ms", 0, UINT64_MAX},
	    {"18446744073709551616ms", -ERANGE, 0},
	    {"18446744073709551615s", -ERANGE, 0},
	    {"5124095576030432h", -ERANGE, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = SENTINEL;
		int r = unit_parse_duration_ms(cases[i].in, &v);
		uint64_t want = cases[i].r == 0 ? cases[i].ms : SENTINEL;

		if (r != cases[i].r || v != want)
			fail_msg("'%s': r=%d v=%llu, expected r=%d v=%llu", cases[i].in, r,
				 (unsigned long long)v, cases[i].r, (unsigned long long)want);
	}
}

static void test_bool(void **state __attribute__((unused)))
{
	static const char *const yes[] = {"yes", "YES", "true", "True", "on", "1", " yes "};
	static const char *const no[] = {"no", "No", "false", "off", "0", "\tno\n"};
	static const char *const bad[] = {"", "y", "n", "2", "yess", "enable", "ye s", "-1", "on1"};
	size_t i;
	bool b;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = false;
		assert_int_equal(unit_parse_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = true;
		assert_int_equal(unit_parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = true;
		if (unit_parse_bool(bad[i], &b) != -EINVAL || !b)
			fail_msg("'%s' accepted as a boolean", bad[i]);
	}
}

static void test_u64(void **state __attribute__((unused)))
{
	uint64_t v = SENTINEL;

	assert_int_equal(unit_parse_u64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(unit_parse_u64(" 0 ", 0, 100, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(unit_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, UINT64_MAX);

	v = SENTINEL;
	assert_int_equal(unit_parse_u64("101", 0, 100, &v), -ERANGE);
	assert_int_equal(unit_parse_u64("0", 1, 100, &v), -ERANGE);
	assert_int_equal(unit_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(unit_parse_u64("-1", 0, 100, &v), -EINVAL);
	assert_int_equal(unit_parse_u64("1.5", 0, 100, &v), -EINVAL);
	assert_int_equal(unit_parse_u64("0x10", 0, 100, &v), -EINVAL);
	assert_int_equal(unit_parse_u64("10k", 0, 100000, &v), -EINVAL);
	assert_int_equal(unit_parse_u64("", 0, 100, &v), -EINVAL);
	assert_int_equal(unit_parse_u64("1 2", 0, 100, &v), -EINVAL);
	assert_int_equal(v, SENTINEL);
}

static void test_format(void **state __attribute__((unused)))
{
	char buf[64];

	assert_string_equal(unit_format_kib(0, buf, sizeof(buf)), "0K");
	assert_string_equal(unit_format_kib(4ULL << 20, buf, sizeof(buf)), "4G");
	assert_string_equal(unit_format_kib(512 * 1024, buf, sizeof(buf)), "512M");
	assert_string_equal(unit_format_kib(1536, buf, sizeof(buf)), "1536K");
	assert_string_equal(unit_format_kib(1572864, buf, sizeof(buf)), "1536M");
	assert_string_equal(unit_format_kib(3ULL << 30, buf, sizeof(buf)), "3T");
	assert_string_equal(unit_format_kib(5ULL << 40, buf, sizeof(buf)), "5120T");
	assert_string_equal(
	    unit_format_msize(&(struct msize){.is_percent = true, .ppm = 750000}, buf, sizeof(buf)), "75%");
	assert_string_equal(
	    unit_format_msize(&(struct msize){.is_percent = true, .ppm = 125000}, buf, sizeof(buf)), "12.5%");
	assert_string_equal(
	    unit_format_msize(&(struct msize){.is_percent = true, .ppm = 1}, buf, sizeof(buf)), "0.0001%");
	assert_string_equal(
	    unit_format_msize(&(struct msize){.is_percent = true, .ppm = 123450}, buf, sizeof(buf)),
	    "12.345%");
	assert_string_equal(
	    unit_format_msize(&(struct msize){.is_percent = false, .kib = 2048}, buf, sizeof(buf)), "2M");
	assert_string_equal(unit_format_duration(0, buf, sizeof(buf)), "0s");
	assert_string_equal(unit_format_duration(250, buf, sizeof(buf)), "250ms");
	assert_string_equal(unit_format_duration(1500, buf, sizeof(buf)), "1500ms");
	assert_string_equal(unit_format_duration(2000, buf, sizeof(buf)), "2s");
	assert_string_equal(unit_format_duration(90000, buf, sizeof(buf)), "90s");
	assert_string_equal(unit_format_duration(300000, buf, sizeof(buf)), "5m");
	assert_string_equal(unit_format_duration(7200000, buf, sizeof(buf)), "2h");
	assert_string_equal(unit_format_mib(0, buf, sizeof(buf)), "0.0");
	assert_string_equal(unit_format_mib(1024, buf, sizeof(buf)), "1.0");
	assert_string_equal(unit_format_mib(1264128, buf, sizeof(buf)), "1234.5");
	assert_string_equal(unit_format_mib(1023, buf, sizeof(buf)), "1.0"); /* rounded */
	assert_string_equal(unit_format_mib(50, buf, sizeof(buf)), "0.0");
	assert_string_equal(unit_format_mib(52, buf, sizeof(buf)), "0.1");
	assert_string_equal(unit_format_mib(UINT64_MAX, buf, sizeof(buf)), "18014398509481984.0");

	/* A tiny buffer is truncated, never overrun. */
	memset(buf, 'x', sizeof(buf));
	unit_format_kib(123456789, buf, 4);
	assert_int_equal(strlen(buf), 3);
	assert_int_equal(buf[4], 'x');
}

/* Whatever we print must parse back to the same value. */
static void test_format_roundtrip(void **state __attribute__((unused)))
{
	static const uint64_t kibs[] = {0, 1, 1023, 1024, 1025, 1536, 1048576, 3ULL << 30, 123456789};
	static const uint64_t durs[] = {0,     1,     250,     999,	 1000,	   1001,
					59999, 60000, 3600000, 86400000, 123456789};
	char buf[64];
	uint64_t v;
	uint32_t ppm, p;
	size_t i;

	for (i = 0; i < sizeof(kibs) / sizeof(kibs[0]); i++) {
		assert_int_equal(unit_parse_size_kib(unit_format_kib(kibs[i], buf, sizeof(buf)), &v), 0);
		assert_int_equal(v, kibs[i]);
	}
	for (i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
		assert_int_equal(unit_parse_duration_ms(unit_format_duration(durs[i], buf, sizeof(buf)), &v),
				 0);
		assert_int_equal(v, durs[i]);
	}
	for (ppm = 0; ppm <= 1000000; ppm += 7919) {
		struct msize m = {.is_percent = true, .ppm = ppm};

		assert_int_equal(unit_parse_percent_ppm(unit_format_msize(&m, buf, sizeof(buf)), &p), 0);
		assert_int_equal(p, ppm);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_size_valid),
	    cmocka_unit_test(test_size_invalid),
	    cmocka_unit_test(test_size_long_fraction),
	    cmocka_unit_test(test_percent),
	    cmocka_unit_test(test_msize),
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_bool),
	    cmocka_unit_test(test_u64),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_format_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
