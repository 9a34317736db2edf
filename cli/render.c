/* render.c - memoptctl's output helpers: aligned tables and hostile-safe reads of reply fields. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render.h"

#define RD_RING 16
#define RD_BUF 1024

struct tbl {
	size_t ncols;
	char **cells;	       /* (nrows + 1) * ncols, row 0 is the header */
	size_t nrows, caprows; /* including the header */
	bool *right;
};

/* Copy s replacing C0/C1 control characters and DEL, so a process name or a reason string cannot
 * drive the terminal. Bytes of other UTF-8 characters are kept. */
static void sanitize(char *dst, size_t dstlen, const char *s)
{
	size_t j = 0;
	if (dstlen == 0)
		return;
	for (size_t i = 0; s[i] && j + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f) {
			dst[j++] = '?';
		} else if (c == 0xc2 && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f) {
			dst[j++] = '?';
			i++;
		} else {
			dst[j++] = (char)c;
		}
	}
	dst[j] = '\0';
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

struct tbl *tbl_new(const char *const *headers, size_t ncols)
{
	struct tbl *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	t->right = calloc(ncols, sizeof(bool));
	if (!t->right || tbl_add_row(t, headers) < 0) {
		tbl_free(t);
		return NULL;
	}
	return t;
}

void tbl_free(struct tbl *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->right);
	free(t);
}

void tbl_align_right(struct tbl *t, size_t col)
{
	if (t && col < t->ncols)
		t->right[col] = true;
}

int tbl_add_row(struct tbl *t, const char *const *cells)
{
	if (t->nrows == t->caprows) {
		size_t ncap = t->caprows ? t->caprows * 2 : 8;
		char **n = realloc(t->cells, ncap * t->ncols * sizeof(char *));
		if (!n)
			return -ENOMEM;
		t->cells = n;
		t->caprows = ncap;
	}
	char **row = t->cells + t->nrows * t->ncols;
	for (size_t c = 0; c < t->ncols; c++) {
		const char *s = cells[c] ? cells[c] : "-";
		size_t len = strlen(s) + 1;
		row[c] = malloc(len);
		if (!row[c]) {
			while (c-- > 0)
				free(row[c]);
			return -ENOMEM;
		}
		sanitize(row[c], len, s);
	}
	t->nrows++;
	return 0;
}

void tbl_print(const struct tbl *t, FILE *out)
{
	size_t *w = calloc(t->ncols, sizeof(size_t));
	if (!w)
		return;
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t x = width(t->cells[r * t->ncols + c]);
			if (x > w[c])
				w[c] = x;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		/* Padding is emitted only before further text, so no line ends in blanks. */
		size_t pending = 0;
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t pad = w[c] - width(s);
			if (c > 0)
				pending += 2;
			if (t->right[c])
				pending += pad;
			if (s[0]) {
				fprintf(out, "%*s%s", (int)pending, "", s);
				pending = 0;
			}
			if (!t->right[c])
				pending += pad;
		}
		fputc('\n', out);
	}
	free(w);
}

static char *ring_next(void)
{
	static char ring[RD_RING][RD_BUF];
	static unsigned idx;
	return ring[idx++ % RD_RING];
}

json_object *jv_get(json_object *o, const char *path)
{
	char key[128];
	while (o && path && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		json_object *v;
		if (n >= sizeof(key) || !json_object_is_type(o, json_type_object))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &v))
			return NULL;
		o = v;
		path = dot ? dot + 1 : NULL;
	}
	return o;
}

bool jv_get_int(json_object *o, const char *path, int64_t *ret)
{
	json_object *v = jv_get(o, path);
	if (!v || !json_object_is_type(v, json_type_int))
		return false;
	*ret = json_object_get_int64(v);
	return true;
}

bool jv_get_double(json_object *o, const char *path, double *ret)
{
	json_object *v = jv_get(o, path);
	if (!v || !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return false;
	*ret = json_object_get_double(v);
	return true;
}

bool jv_get_bool(json_object *o, const char *path, bool *ret)
{
	json_object *v = jv_get(o, path);
	if (!v || !json_object_is_type(v, json_type_boolean))
		return false;
	*ret = json_object_get_boolean(v);
	return true;
}

const char *rd_safe(const char *s)
{
	char *b = ring_next();
	sanitize(b, RD_BUF, s ? s : "-");
	return b;
}

const char *jv_str(json_object *o, const char *path)
{
	json_object *v = jv_get(o, path);
	if (!v || !json_object_is_type(v, json_type_string))
		return "-";
	return rd_safe(json_object_get_string(v));
}

const char *jv_int(json_object *o, const char *path)
{
	int64_t x;
	char *b;
	if (!jv_get_int(o, path, &x))
		return "-";
	b = ring_next();
	snprintf(b, RD_BUF, "%" PRId64, x);
	return b;
}

const char *jv_double(json_object *o, const char *path, int decimals)
{
	double x;
	char *b;
	if (!jv_get_double(o, path, &x))
		return "-";
	b = ring_next();
	snprintf(b, RD_BUF, "%.*f", decimals, x);
	return b;
}

const char *jv_bool(json_object *o, const char *path, const char *yes, const char *no)
{
	bool x;
	if (!jv_get_bool(o, path, &x))
		return "-";
	return x ? yes : no;
}

const char *jv_scalar(json_object *v)
{
	char *b;
	if (!v)
		return "-";
	switch (json_object_get_type(v)) {
	case json_type_string:
		return rd_safe(json_object_get_string(v));
	case json_type_int:
		b = ring_next();
		snprintf(b, RD_BUF, "%" PRId64, json_object_get_int64(v));
		return b;
	case json_type_double:
		b = ring_next();
		snprintf(b, RD_BUF, "%g", json_object_get_double(v));
		return b;
	case json_type_boolean:
		return json_object_get_boolean(v) ? "yes" : "no";
	default:
		return "-";
	}
}

const char *rd_duration_s(uint64_t s)
{
	char *b = ring_next();
	if (s < 60)
		snprintf(b, RD_BUF, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(b, RD_BUF, "%" PRIu64 "m %" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(b, RD_BUF, "%" PRIu64 "h %" PRIu64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(b, RD_BUF, "%" PRIu64 "d %" PRIu64 "h", s / 86400, s % 86400 / 3600);
	return b;
}

const char *rd_kib(uint64_t kib)
{
	char *b = ring_next();
	if (kib >= 1024 * 1024)
		snprintf(b, RD_BUF, "%.1f GiB", (double)kib / (1024.0 * 1024.0));
	else
		snprintf(b, RD_BUF, "%.1f MiB", (double)kib / 1024.0);
	return b;
}

const char *rd_clock(int64_t wall_ms)
{
	char *b;
	struct tm tm;
	time_t t;
	if (wall_ms <= 0)
		return "-";
	t = (time_t)(wall_ms / 1000);
	if (!localtime_r(&t, &tm))
		return "-";
	b = ring_next();
	strftime(b, RD_BUF, "%H:%M:%S", &tm);
	return b;
}
