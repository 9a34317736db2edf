/* test_parse.c - unit tests for the strict decimal scanners and the line splitter, on hostile input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/parse.h"

#define SENTINEL 0xdeadbeefULL

/* Scan the first n bytes of s with prs_u64 (sign false) or prs_i64 (sign true, the value cast back);
 * on success *ret_used is how many bytes the number took, on failure ret_next must be untouched. */
static int scan_n(bool sign, const char *s, size_t n, uint64_t *ret, size_t *ret_used)
{
	const char *next = (const char *)&next; /* anything but a pointer into s */
	int64_t iv;
	int r = sign ? prs_i64(s, s + n, &iv, &next) : prs_u64(s, s + n, ret, &next);

	if (r < 0) {
		assert_ptr_equal(next, (const char *)&next);
		return r;
	}
	if (sign)
		*ret = (uint64_t)iv;
	*ret_used = (size_t)(next - s);
	return r;
}

/* Every input through both scanners. used is where the successful one(s) stopped; a failure leaves
 * *ret untouched. */
static void test_decimal(void **state __attribute__((unused)))
{
	static const struct {
		const char *in;
		int ur;
		uint64_t uv;
		int ir;
		int64_t iv;
		size_t used;
	} cases[] = {
	    {"0", 0, 0, 0, 0, 1},
	    {"7", 0, 7, 0, 7, 1},
	    {"007", 0, 7, 0, 7, 3},
	    {"4096", 0, 4096, 0, 4096, 4},
	    {"12 kB", 0, 12, 0, 12, 2}, /* stops at the blank: the unit is the caller's business */
	    {"12abc", 0, 12, 0, 12, 2},
	    {"3.5", 0, 3, 0, 3, 1},
	    {"1-2", 0, 1, 0, 1, 1},
	    {"0x10", 0, 0, 0, 0, 1}, /* no hex: the 'x' ends the number */
	    {"-0", -EBADMSG, 0, 0, 0, 2},
	    {"-42", -EBADMSG, 0, 0, -42, 3},
	    {"-12x", -EBADMSG, 0, 0, -12, 3},
	    {"9223372036854775807", 0, INT64_MAX, 0, INT64_MAX, 19},
	    {"9223372036854775808", 0, (uint64_t)INT64_MAX + 1, -ERANGE, 0, 19},
	    {"-9223372036854775808", -EBADMSG, 0, 0, INT64_MIN, 20},
	    {"-9223372036854775809", -EBADMSG, 0, -ERANGE, 0, 0},
	    {"18446744073709551615", 0, UINT64_MAX, -ERANGE, 0, 20},
	    {"000000000000000000000018446744073709551615", 0, UINT64_MAX, -ERANGE, 0, 42}, /* no overflow */
	    {"18446744073709551616", -ERANGE, 0, -ERANGE, 0, 0}, /* 2^64 */
	    {"18446744073709551620", -ERANGE, 0, -ERANGE, 0, 0},
	    {"99999999999999999999", -ERANGE, 0, -ERANGE, 0, 0},
	    {"184467440737095516150", -ERANGE, 0, -ERANGE, 0, 0},
	    {"340282366920938463463374607431768211456", -ERANGE, 0, -ERANGE, 0, 0}, /* 2^128: no wrap */
	    {"-18446744073709551616", -EBADMSG, 0, -ERANGE, 0, 0},
	    {"", -EBADMSG, 0, -EBADMSG, 0, 0},
	    {"-", -EBADMSG, 0, -EBADMSG, 0, 0},
	    {"--1", -EBADMSG, 0, -EBADMSG, 0, 0},
	    {"+1", -EBADMSG, 0, -EBADMSG, 0, 0}, /* no '+' */
	    {"- 1", -EBADMSG, 0, -EBADMSG, 0, 0},
	    {" 1", -EBADMSG, 0, -EBADMSG, 0, 0}, /* no leading blanks */
	    {" -1", -EBADMSG, 0, -EBADMSG, 0, 0},
	    {"\t1", -EBADMSG, 0, -EBADMSG, 0, 0},
	    {"x12", -EBADMSG, 0, -EBADMSG, 0, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int sign = 0; sign <= 1; sign++) {
			int want = sign ? cases[i].ir : cases[i].ur;
			uint64_t v = SENTINEL, want_v = sign ? (uint64_t)cases[i].iv : cases[i].uv;
			size_t used = SENTINEL;

			assert_int_equal(scan_n(sign, cases[i].in, strlen(cases[i].in), &v, &used), want);
			assert_true(v == (want == 0 ? want_v : SENTINEL));
			assert_true(used == (want == 0 ? cases[i].used : SENTINEL));
		}
	}
}

/* The length is the bound, not a NUL: digits past end are never read, and a NUL inside stops the scan. */
static void test_bounded(void **state __attribute__((unused)))
{
	static const char digits[] = "12345";
	static const char nul_in[] = { '1', '2', '\0', '3', '4' };
	static const char nul_first[] = { '\0', '1', '2' };
	uint64_t v = SENTINEL;
	size_t used = 0;

	assert_int_equal(scan_n(false, digits, 3, &v, &used), 0);
	assert_true(v == 123);
	assert_int_equal(used, 3);

	assert_int_equal(scan_n(false, digits, 0, &v, &used), -EBADMSG);
	assert_true(v == 123);

	assert_int_equal(scan_n(false, nul_in, sizeof(nul_in), &v, &used), 0);
	assert_true(v == 12);
	assert_int_equal(used, 2);

	v = SENTINEL;
	assert_int_equal(scan_n(false, nul_first, sizeof(nul_first), &v, &used), -EBADMSG);
	assert_true(v == SENTINEL);

	/* 2^64 in the buffer, but the bound cuts it to 2^64 / 10 rounded down: fits */
	assert_int_equal(scan_n(false, "18446744073709551616", 19, &v, &used), 0);
	assert_true(v == 1844674407370955161ULL);
	assert_int_equal(used, 19);

	/* a lone '-' at the very end of the bound, with a digit after it that must not be read */
	assert_int_equal(scan_n(true, "-7", 1, &v, &used), -EBADMSG);
	assert_true(v == 1844674407370955161ULL);
	/* and INT64_MIN's digits cut one short of the bound still fit */
	assert_int_equal(scan_n(true, "-92233720368547758089", 20, &v, &used), 0);
	assert_true((int64_t)v == INT64_MIN);
	assert_int_equal(used, 20);
}

static void expect_line(const char *text, size_t len, size_t *pos, const char *want, size_t want_len,
			bool complete)
{
	struct prs_line l;

	assert_true(prs_next_line(text, len, pos, &l));
	assert_int_equal(l.len, want_len);
	assert_memory_equal(l.p, want, want_len);
	assert_true(l.p >= text && l.p + l.len <= text + len);
	assert_int_equal(l.complete, complete);
}

static void expect_end(const char *text, size_t len, size_t *pos)
{
	struct prs_line l = { .p = text, .len = SENTINEL, .complete = true };
	size_t before = *pos;

	assert_false(prs_next_line(text, len, pos, &l));
	assert_int_equal(*pos, before);
	assert_true(l.len == SENTINEL); /* untouched at the end */
}

static void test_lines(void **state __attribute__((unused)))
{
	size_t pos = 0;

	expect_end("", 0, &pos);

	static const char two[] = "a\nbb\n";
	pos = 0;
	expect_line(two, 5, &pos, "a", 1, true);
	assert_int_equal(pos, 2);
	expect_line(two, 5, &pos, "bb", 2, true);
	expect_end(two, 5, &pos); /* no empty line after the final '\n' */

	static const char cut[] = "a\nbb";
	pos = 0;
	expect_line(cut, 4, &pos, "a", 1, true);
	expect_line(cut, 4, &pos, "bb", 2, false);
	expect_end(cut, 4, &pos);

	static const char blanks[] = "\n\n";
	pos = 0;
	expect_line(blanks, 2, &pos, "", 0, true);
	expect_line(blanks, 2, &pos, "", 0, true);
	expect_end(blanks, 2, &pos);

	/* a NUL is an ordinary byte: the caller decides whether it is an error */
	static const char nul[] = { 'a', '\0', 'b', '\n', 'c' };
	pos = 0;
	expect_line(nul, sizeof(nul), &pos, "a\0b", 3, true);
	expect_line(nul, sizeof(nul), &pos, "c", 1, false);
	expect_end(nul, sizeof(nul), &pos);

	/* the length bounds the text: a '\n' just past it is not seen */
	pos = 0;
	expect_line(two, 3, &pos, "a", 1, true);
	expect_line(two, 3, &pos, "b", 1, false);
	expect_end(two, 3, &pos);

	/* a position past the end (a caller's bug) is the end, not a read out of bounds */
	pos = 99;
	expect_end(two, 5, &pos);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decimal),
	    cmocka_unit_test(test_bounded),
	    cmocka_unit_test(test_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
