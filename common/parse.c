/* parse.c - pure scanners for hostile text: strict decimals and line splitting (see parse.h). */
#include <errno.h>
#include <string.h>

#include "parse.h"

int prs_u64(const char *p, const char *end, uint64_t *ret, const char **ret_next)
{
	const char *s = p;
	uint64_t v = 0;

	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (s == p)
		return -EBADMSG;
	*ret = v;
	*ret_next = s;
	return 0;
}

int prs_i64(const char *p, const char *end, int64_t *ret, const char **ret_next)
{
	bool neg = p < end && *p == '-';
	uint64_t v, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	const char *next;
	int r;

	r = prs_u64(neg ? p + 1 : p, end, &v, &next);
	if (r < 0)
		return r;
	if (v > lim)
		return -ERANGE;
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	*ret_next = next;
	return 0;
}

bool prs_next_line(const char *text, size_t len, size_t *pos, struct prs_line *ret)
{
	if (*pos >= len)
		return false;
	const char *start = text + *pos, *nl = memchr(start, '\n', len - *pos);
	size_t l = nl ? (size_t)(nl - start) : len - *pos;

	*pos += l + (nl ? 1 : 0);
	*ret = (struct prs_line){ .p = start, .len = l, .complete = nl != NULL };
	return true;
}
