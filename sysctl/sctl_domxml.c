/* sctl_domxml.c - pure reader of libvirt domain XML for the host policy (memory, hugepage backing,
 * host node binding) and the directory walk over domain definitions. Not a general XML parser: it
 * scans element tags, skipping comments, CDATA and declarations, and refuses malformed input. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sctl_domxml.h"
#include "../common/cleanup.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/parse.h"
#include "../numa/nod_numa.h"

#define DEPTH_MAX 24
#define XML_FILE_MAX (1024 * 1024)

struct tag {
	const char *name, *attrs, *after;
	size_t name_len, attrs_len;
	bool closing, self_closing;
};

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == ':' || c == '.' || c == '-';
}

/* Next element tag in [p, end). Returns 1 with t filled, 0 at the end, -EBADMSG if malformed. */
static int next_tag(const char *p, const char *end, struct tag *t)
{
	for (;;) {
		p = memchr(p, '<', (size_t)(end - p));
		if (!p)
			return 0;
		if ((size_t)(end - p) >= 4 && memcmp(p, "<!--", 4) == 0) {
			p = memmem(p + 4, (size_t)(end - p - 4), "-->", 3);
			if (!p)
				return -EBADMSG;
			p += 3;
			continue;
		}
		if ((size_t)(end - p) >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
			p = memmem(p + 9, (size_t)(end - p - 9), "]]>", 3);
			if (!p)
				return -EBADMSG;
			p += 3;
			continue;
		}
		if (p + 1 < end && (p[1] == '?' || p[1] == '!')) {
			p = memchr(p, '>', (size_t)(end - p));
			if (!p)
				return -EBADMSG;
			p++;
			continue;
		}
		break;
	}
	const char *q = p + 1, *gt;
	t->closing = q < end && *q == '/';
	if (t->closing)
		q++;
	t->name = q;
	while (q < end && name_char(*q))
		q++;
	t->name_len = (size_t)(q - t->name);
	if (!t->name_len)
		return -EBADMSG;
	/* '>' inside quoted attribute values is legal XML. */
	char quote = 0;
	for (gt = q; gt < end; gt++) {
		if (quote) {
			if (*gt == quote)
				quote = 0;
		} else if (*gt == '"' || *gt == '\'') {
			quote = *gt;
		} else if (*gt == '>') {
			break;
		}
	}
	if (gt == end)
		return -EBADMSG;
	t->self_closing = gt > q && gt[-1] == '/';
	t->attrs = q;
	t->attrs_len = (size_t)(gt - q) - (t->self_closing ? 1 : 0);
	t->after = gt + 1;
	return 1;
}

static bool tag_is(const struct tag *t, const char *name)
{
	return t->name_len == strlen(name) && memcmp(t->name, name, t->name_len) == 0;
}

/* Value of attribute `name` into buf. Returns true if present and it fits. */
static bool attr(const struct tag *t, const char *name, char *buf, size_t len)
{
	const char *p = t->attrs, *end = t->attrs + t->attrs_len;
	size_t nl = strlen(name);

	while (p < end) {
		while (p < end && !name_char(*p))
			p++;
		const char *n = p;
		while (p < end && name_char(*p))
			p++;
		size_t l = (size_t)(p - n);
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			p++;
		if (p >= end || *p != '=')
			continue;
		p++;
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			p++;
		if (p >= end || (*p != '"' && *p != '\''))
			return false;
		char q = *p++;
		const char *v = p;
		p = memchr(p, q, (size_t)(end - p));
		if (!p)
			return false;
		if (l == nl && memcmp(n, name, nl) == 0) {
			if ((size_t)(p - v) >= len)
				return false;
			memcpy(buf, v, (size_t)(p - v));
			buf[p - v] = '\0';
			return true;
		}
		p++;
	}
	return false;
}

/* libvirt's memory units: a scaled integer, default KiB. */
static int scale_kib(const char *num, size_t len, const char *unit, uint64_t *ret)
{
	static const struct {
		const char *u;
		uint64_t mul, div;
	} units[] = {
		{"b", 1, 1024}, {"bytes", 1, 1024}, {"KB", 1000, 1024}, {"k", 1, 1}, {"KiB", 1, 1},
		{"MB", 1000000, 1024}, {"M", 1024, 1}, {"MiB", 1024, 1}, {"GB", 1000000000, 1024},
		{"G", 1048576, 1}, {"GiB", 1048576, 1}, {"TB", 1000000000000ULL, 1024},
		{"T", 1073741824ULL, 1}, {"TiB", 1073741824ULL, 1},
	};
	const char *p = num, *end = num + len, *next;
	uint64_t v;

	while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	if (prs_u64(p, end, &v, &next) < 0 || next != end)
		return -EBADMSG;
	if (!unit || !*unit)
		unit = "KiB";
	for (size_t i = 0; i < ELEMENTSOF(units); i++) {
		if (strcmp(unit, units[i].u) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mul)
			return -ERANGE;
		*ret = (v * units[i].mul + units[i].div - 1) / units[i].div;
		return 0;
	}
	return -EBADMSG;
}

int sctl_parse_domain_xml(const char *xml, size_t len, struct sctl_dom *ret)
{
	const char *stack[DEPTH_MAX];
	size_t slen[DEPTH_MAX], depth = 0, dom_depth = 0;
	const char *p = xml, *end = xml + len;
	struct sctl_dom d = {0};
	bool in_dom = false, have_name = false, have_mem = false, done = false;
	struct tag t;
	int r;

#define PARENT_IS(n) (depth >= 1 && slen[depth - 1] == strlen(n) && memcmp(stack[depth - 1], n, slen[depth - 1]) == 0)
	while (!done && (r = next_tag(p, end, &t)) > 0) {
		p = t.after;
		if (t.closing) {
			if (depth == 0 || slen[depth - 1] != t.name_len || memcmp(stack[depth - 1], t.name, t.name_len))
				return -EBADMSG;
			depth--;
			if (in_dom && depth == dom_depth) {
				in_dom = false;
				done = true;
			}
			continue;
		}
		if (!in_dom && tag_is(&t, "domain") && !t.self_closing) {
			in_dom = true;
			dom_depth = depth;
		} else if (in_dom && depth == dom_depth + 1 && (tag_is(&t, "name") || tag_is(&t, "memory")) &&
			   !t.self_closing) {
			const char *close = memchr(t.after, '<', (size_t)(end - t.after));
			if (!close)
				return -EBADMSG;
			if (tag_is(&t, "name")) {
				size_t l = (size_t)(close - t.after);
				/* a NUL would cut the name short (or empty it) in plans and logs */
				if (l == 0 || l >= sizeof(d.name) || memchr(t.after, '\0', l))
					return -EBADMSG;
				memcpy(d.name, t.after, l);
				d.name[l] = '\0';
				have_name = true;
			} else {
				char unit[16] = "";
				if (attr(&t, "unit", unit, sizeof(unit)) && !unit[0])
					return -EBADMSG;
				if (scale_kib(t.after, (size_t)(close - t.after), unit, &d.mem_kib) < 0)
					return -EBADMSG;
				have_mem = true;
			}
		} else if (in_dom && tag_is(&t, "hugepages") && PARENT_IS("memoryBacking") && depth == dom_depth + 2) {
			d.hugepages = true;
		} else if (in_dom && tag_is(&t, "page") && PARENT_IS("hugepages") && depth == dom_depth + 3) {
			char size[32], unit[16] = "";
			if (!d.page_kib && attr(&t, "size", size, sizeof(size))) {
				attr(&t, "unit", unit, sizeof(unit));
				if (scale_kib(size, strlen(size), unit, &d.page_kib) < 0)
					return -EBADMSG;
			}
		} else if (in_dom && (tag_is(&t, "memory") || tag_is(&t, "memnode")) && PARENT_IS("numatune") &&
			   depth == dom_depth + 2) {
			char ns[256];
			uint64_t mask;
			if (attr(&t, "nodeset", ns, sizeof(ns))) {
				if (nod_parse_list(ns, strlen(ns), &mask) < 0)
					return -EBADMSG;
				d.host_nodes |= mask;
			}
		}
		if (!t.self_closing) {
			if (depth == DEPTH_MAX)
				return -EBADMSG;
			stack[depth] = t.name;
			slen[depth++] = t.name_len;
		}
	}
#undef PARENT_IS
	if (r < 0 && !done)
		return r;
	if (!done || !have_name || !have_mem)
		return -EBADMSG;
	*ret = d;
	return 0;
}

int sctl_read_domains(const char *dir, struct sctl_dom *ret, size_t max)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	size_t n = 0;

	if (!dir || !dir[0])
		return 0;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) && n < max) {
		_cleanup_free_ char *buf = NULL;
		char path[1024];
		size_t len, nl = strlen(de->d_name);
		bool full;
		int r;

		if (nl < 5 || strcmp(de->d_name + nl - 4, ".xml") != 0 || de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		r = fio_read_alloc(path, XML_FILE_MAX, &buf, &len, &full);
		if (r < 0 || full) {
			log_warn("host: cannot read domain definition %s, ignoring: %s", path,
				 r < 0 ? strerror(-r) : "too large");
			continue;
		}
		if (sctl_parse_domain_xml(buf, len, &ret[n]) < 0) {
			log_warn("host: %s is not a domain definition memopt understands, ignoring", path);
			continue;
		}
		n++;
	}
	return (int)n;
}
