/* mtr_expo.c - Prometheus text exposition writer: families, escaping, number formatting. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtr_expo.h"

void mtr_init(struct mtr_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void mtr_fini(struct mtr_writer *w)
{
	free(w->text);
	mtr_init(w);
}

char *mtr_take(struct mtr_writer *w, size_t *ret_len)
{
	char *t = w->oom ? NULL : w->text;
	if (t && ret_len)
		*ret_len = w->len;
	if (!t)
		free(w->text);
	w->text = NULL;
	mtr_fini(w);
	return t;
}

static bool reserve(struct mtr_writer *w, size_t more)
{
	if (w->oom)
		return false;
	if (w->len + more + 1 <= w->cap)
		return true;
	size_t cap = w->cap ? w->cap : 4096;
	while (cap < w->len + more + 1)
		cap *= 2;
	char *n = realloc(w->text, cap);
	if (!n) {
		w->oom = true;
		return false;
	}
	w->text = n;
	w->cap = cap;
	return true;
}

static void put_mem(struct mtr_writer *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->text + w->len, s, n);
	w->len += n;
	w->text[w->len] = '\0';
}

static void put_str(struct mtr_writer *w, const char *s)
{
	put_mem(w, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one (overlong forms, surrogates
 * and code points above U+10FFFF included). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* Escape for a label value (quote too) or a HELP text: backslash, newline (and '"'), and any byte that
 * is not valid UTF-8 becomes U+FFFD, so a hostile domain name or comm cannot break the format. */
static void put_escaped(struct mtr_writer *w, const char *s, bool quote)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n > 0) {
		size_t k = utf8_seq(p, n);
		if (k == 0) {
			put_str(w, "\xef\xbf\xbd");
			p++, n--;
			continue;
		}
		if (*p == '\\')
			put_str(w, "\\\\");
		else if (*p == '\n')
			put_str(w, "\\n");
		else if (*p == '"' && quote)
			put_str(w, "\\\"");
		else
			put_mem(w, (const char *)p, k);
		p += k, n -= k;
	}
}

bool mtr_valid_metric_name(const char *s)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == ':'))
			return false;
	return true;
}

bool mtr_valid_label_name(const char *s)
{
	if (!s || strchr(s, ':') || strncmp(s, "__", 2) == 0)
		return false;
	return mtr_valid_metric_name(s);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Checks, then "# HELP"/"# TYPE" when the family starts, then "name{labels} ". */
static int begin_sample(struct mtr_writer *w, const struct mtr_family *f, const struct mtr_label *l, size_t n)
{
	if (!f || !mtr_valid_metric_name(f->name) ||
	    (f->type == MTR_COUNTER && !ends_with(f->name, "_total"))) {
		w->errors++;
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++)
			dup = strcmp(l[i].name, l[j].name) == 0;
		if (!mtr_valid_label_name(l[i].name) || !l[i].value || dup) {
			w->errors++;
			return -EINVAL;
		}
	}
	if (f != w->cur) {
		for (size_t i = 0; i < w->nseen; i++)
			if (w->seen[i] == f || strcmp(w->seen[i]->name, f->name) == 0) {
				w->errors++;
				return -EINVAL;
			}
		if (w->nseen >= MTR_SEEN_MAX) {
			w->errors++;
			return -EINVAL;
		}
		w->seen[w->nseen++] = f;
		w->cur = f;
		put_str(w, "# HELP ");
		put_str(w, f->name);
		put_str(w, " ");
		put_escaped(w, f->help ? f->help : "", false);
		put_str(w, "\n# TYPE ");
		put_str(w, f->name);
		put_str(w, f->type == MTR_COUNTER ? " counter\n" : " gauge\n");
	}
	put_str(w, f->name);
	if (n) {
		put_str(w, "{");
		for (size_t i = 0; i < n; i++) {
			put_str(w, i ? "," : "");
			put_str(w, l[i].name);
			put_str(w, "=\"");
			put_escaped(w, l[i].value, true);
			put_str(w, "\"");
		}
		put_str(w, "}");
	}
	put_str(w, " ");
	return 0;
}

static int end_sample(struct mtr_writer *w, const char *num)
{
	put_str(w, num);
	put_str(w, "\n");
	return w->oom ? -ENOMEM : 0;
}

int mtr_put_u64(struct mtr_writer *w, const struct mtr_family *f, const struct mtr_label *l, size_t n,
		uint64_t v)
{
	char num[32];
	int r = begin_sample(w, f, l, n);
	if (r < 0)
		return r;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	return end_sample(w, num);
}

int mtr_put_i64(struct mtr_writer *w, const struct mtr_family *f, const struct mtr_label *l, size_t n,
		int64_t v)
{
	char num[32];
	if (f && f->type == MTR_COUNTER && v < 0) {
		w->errors++;
		return -EINVAL;
	}
	int r = begin_sample(w, f, l, n);
	if (r < 0)
		return r;
	snprintf(num, sizeof(num), "%lld", (long long)v);
	return end_sample(w, num);
}

int mtr_put_double(struct mtr_writer *w, const struct mtr_family *f, const struct mtr_label *l, size_t n,
		   double v)
{
	char num[40];
	if (f && f->type == MTR_COUNTER && (!isfinite(v) || v < 0)) {
		w->errors++;
		return -EINVAL;
	}
	int r = begin_sample(w, f, l, n);
	if (r < 0)
		return r;
	if (isnan(v))
		snprintf(num, sizeof(num), "NaN");
	else if (isinf(v))
		snprintf(num, sizeof(num), "%sInf", v > 0 ? "+" : "-");
	else {
		/* The shortest of %.15g and %.17g that reads back as the same double. */
		snprintf(num, sizeof(num), "%.15g", v);
		if (strtod(num, NULL) != v)
			snprintf(num, sizeof(num), "%.17g", v);
	}
	return end_sample(w, num);
}
