/* units.c - value parsers and formatters for sizes, percentages, durations, booleans and integers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "units.h"

#define KIB 1024ULL
#define PPM_PER_PERCENT 10000U
#define PPM_MAX 1000000U
/* More fraction digits than this can't change a result that is rounded down to a byte, ppm or ms. */
#define FRAC_DIGITS_MAX 18

typedef unsigned __int128 u128;

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A decimal number as found in the text: integer digits, optional fraction digits. No sign. */
struct decnum {
	const char *ip;
	size_t ip_len;
	const char *fp;
	size_t fp_len;
};

/* Split "  <digits>[.<digits>]<suffix>  " into the number and the suffix (blanks between the two are
 * allowed). Rejects signs, empty numbers and a dangling '.'. */
static int split_number(const char *s, bool allow_fraction, struct decnum *ret_num, const char **ret_suffix,
			size_t *ret_suffix_len)
{
	struct decnum n = {0};
	const char *p, *end;

	if (!s)
		return -EINVAL;
	while (is_blank(*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_blank(end[-1]))
		end--;

	p = s;
	n.ip = p;
	while (p < end && is_digit(*p))
		p++;
	n.ip_len = (size_t)(p - n.ip);
	if (n.ip_len == 0)
		return -EINVAL; /* also catches "-1", "+1", ".5", "" */
	if (p < end && *p == '.') {
		if (!allow_fraction)
			return -EINVAL;
		p++;
		n.fp = p;
		while (p < end && is_digit(*p))
			p++;
		n.fp_len = (size_t)(p - n.fp);
		if (n.fp_len == 0)
			return -EINVAL;
	}
	while (p < end && is_blank(*p))
		p++;
	*ret_num = n;
	*ret_suffix = p;
	*ret_suffix_len = (size_t)(end - p);
	return 0;
}

/* value = number * mult / div, rounded down; -ERANGE above UINT64_MAX. */
static int decnum_scale(const struct decnum *n, uint64_t mult, uint64_t div, uint64_t *ret)
{
	u128 ip = 0, frac = 0, fdiv = 1, v;
	size_t i, ip_start = 0;

	/* Leading zeros don't count towards the length limit. */
	while (ip_start < n->ip_len && n->ip[ip_start] == '0')
		ip_start++;
	if (n->ip_len - ip_start > 20)
		return -ERANGE;
	for (i = ip_start; i < n->ip_len; i++)
		ip = ip * 10 + (u128)(n->ip[i] - '0');
	if (ip > UINT64_MAX)
		return -ERANGE;
	for (i = 0; i < n->fp_len && i < FRAC_DIGITS_MAX; i++) {
		frac = frac * 10 + (u128)(n->fp[i] - '0');
		fdiv *= 10;
	}
	/* ip < 2^64, mult < 2^41 for every caller: fits in 128 bits. */
	v = ip * mult + frac * mult / fdiv;
	v /= div;
	if (v > UINT64_MAX)
		return -ERANGE;
	*ret = (uint64_t)v;
	return 0;
}

static bool suffix_is(const char *suf, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(suf, word, len) == 0;
}

int unit_parse_size_kib(const char *s, uint64_t *ret_kib)
{
	static const struct {
		const char *name;
		uint64_t mult;
	} suffixes[] = {
	    {"", 1},
	    {"b", 1},
	    {"byte", 1},
	    {"bytes", 1},
	    {"k", KIB},
	    {"kb", KIB},
	    {"kib", KIB},
	    {"m", KIB * KIB},
	    {"mb", KIB * KIB},
	    {"mib", KIB * KIB},
	    {"g", KIB * KIB * KIB},
	    {"gb", KIB * KIB * KIB},
	    {"gib", KIB * KIB * KIB},
	    {"t", KIB * KIB * KIB * KIB},
	    {"tb", KIB * KIB * KIB * KIB},
	    {"tib", KIB * KIB * KIB * KIB},
	};
	struct decnum n;
	const char *suf;
	size_t suf_len, i;
	uint64_t bytes;
	int r;

	r = split_number(s, true, &n, &suf, &suf_len);
	if (r < 0)
		return r;
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (!suffix_is(suf, suf_len, suffixes[i].name))
			continue;
		/* A fraction of a byte makes no sense. */
		if (suffixes[i].mult == 1 && n.fp_len > 0)
			return -EINVAL;
		/* The byte count must itself fit in 64 bits, so callers may convert back to bytes. */
		r = decnum_scale(&n, suffixes[i].mult, 1, &bytes);
		if (r < 0)
			return r;
		*ret_kib = bytes / KIB;
		return 0;
	}
	return -EINVAL;
}

int unit_parse_percent_ppm(const char *s, uint32_t *ret_ppm)
{
	struct decnum n;
	const char *suf;
	size_t suf_len;
	uint64_t ppm;
	int r;

	r = split_number(s, true, &n, &suf, &suf_len);
	if (r < 0)
		return r;
	if (!(suf_len == 0 || (suf_len == 1 && suf[0] == '%')))
		return -EINVAL;
	r = decnum_scale(&n, PPM_PER_PERCENT, 1, &ppm);
	if (r < 0)
		return r;
	if (ppm > PPM_MAX)
		return -ERANGE;
	*ret_ppm = (uint32_t)ppm;
	return 0;
}

int unit_parse_msize(const char *s, struct msize *ret)
{
	const char *end;
	uint64_t kib;
	uint32_t ppm;
	int r;

	if (!s)
		return -EINVAL;
	end = s + strlen(s);
	while (end > s && is_blank(end[-1]))
		end--;
	if (end > s && end[-1] == '%') {
		r = unit_parse_percent_ppm(s, &ppm);
		if (r < 0)
			return r;
		*ret = (struct msize){.is_percent = true, .ppm = ppm};
		return 0;
	}
	r = unit_parse_size_kib(s, &kib);
	if (r < 0)
		return r;
	*ret = (struct msize){.is_percent = false, .kib = kib};
	return 0;
}

int unit_parse_duration_ms(const char *s, uint64_t *ret_ms)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} suffixes[] = {
	    {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 3600 * 1000},
	};
	struct decnum n;
	const char *suf;
	size_t suf_len, i;
	uint64_t ms;
	int r;

	r = split_number(s, true, &n, &suf, &suf_len);
	if (r < 0)
		return r;
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		/* Case matters: "M" could be read as mebibytes, "m" is minutes. */
		if (strlen(suffixes[i].name) != suf_len || strncmp(suf, suffixes[i].name, suf_len) != 0)
			continue;
		r = decnum_scale(&n, suffixes[i].ms, 1, &ms);
		if (r < 0)
			return r;
		*ret_ms = ms;
		return 0;
	}
	return -EINVAL;
}

int unit_parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	const char *end;
	size_t len, i;

	if (!s)
		return -EINVAL;
	while (is_blank(*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_blank(end[-1]))
		end--;
	len = (size_t)(end - s);
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (suffix_is(s, len, yes[i])) {
			*ret = true;
			return 0;
		}
		if (suffix_is(s, len, no[i])) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

int unit_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	struct decnum n;
	const char *suf;
	size_t suf_len;
	uint64_t v;
	int r;

	r = split_number(s, false, &n, &suf, &suf_len);
	if (r < 0)
		return r;
	if (suf_len != 0)
		return -EINVAL;
	r = decnum_scale(&n, 1, 1, &v);
	if (r < 0)
		return r;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

uint64_t msize_resolve_kib(const struct msize *m, uint64_t total_kib)
{
	if (!m->is_percent)
		return m->kib;
	/* ppm <= 10^6, so the product fits in 128 bits and the result is <= total_kib. */
	return (uint64_t)((u128)total_kib * m->ppm / PPM_MAX);
}

const char *unit_format_kib(uint64_t kib, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	unsigned u = 0;

	if (kib != 0)
		while (u < 3 && kib % KIB == 0) {
			kib /= KIB;
			u++;
		}
	snprintf(buf, len, "%llu%c", (unsigned long long)kib, units[u]);
	return buf;
}

/* "12.5" from 125000 ppm: up to four decimals, trailing zeros dropped. */
static void format_ppm_percent(uint32_t ppm, char *buf, size_t len)
{
	uint32_t ip = ppm / PPM_PER_PERCENT, frac = ppm % PPM_PER_PERCENT;
	int digits = 4;

	if (frac == 0) {
		snprintf(buf, len, "%u%%", ip);
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(buf, len, "%u.%0*u%%", ip, digits, frac);
}

const char *unit_format_msize(const struct msize *m, char *buf, size_t len)
{
	if (m->is_percent)
		format_ppm_percent(m->ppm, buf, len);
	else
		unit_format_kib(m->kib, buf, len);
	return buf;
}

const char *unit_format_duration(uint64_t ms, char *buf, size_t len)
{
	if (ms == 0)
		snprintf(buf, len, "0s");
	else if (ms % (3600 * 1000) == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / (3600 * 1000)));
	else if (ms % (60 * 1000) == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / (60 * 1000)));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	return buf;
}

const char *unit_format_mib(uint64_t kib, char *buf, size_t len)
{
	/* Tenths of a MiB, rounded to nearest; 128-bit so that no input overflows. */
	u128 tenths = ((u128)kib * 10 + KIB / 2) / KIB;

	snprintf(buf, len, "%llu.%u", (unsigned long long)(tenths / 10), (unsigned)(tenths % 10));
	return buf;
}
