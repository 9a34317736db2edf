/* bln_virt_parse.c - the libvirt adapter's pure parsers (declared in bln_virt.h): the few facts memopt
 * needs from a domain's XML, its memopt metadata element, and QEMU's pid file. Not a general XML parser:
 * it reads libvirt's own well-formed output and refuses anything it does not understand. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bln_virt.h"
#include "../common/cleanup.h"

#define XML_DEPTH_MAX 16

struct xtag {
	const char *name, *attrs;
	size_t name_len, attrs_len;
	bool closing, self_closing;
};

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == ':' || c == '.' || c == '-';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The next element tag at or after p; comments, CDATA, PIs and declarations are skipped. Returns the
 * position after '>', NULL at the end, or XML_BAD for malformed input. */
static const char xml_bad_marker;
#define XML_BAD (&xml_bad_marker)
static const char *xml_next_tag(const char *p, struct xtag *t)
{
	while ((p = strchr(p, '<'))) {
		const char *e, *q;
		if (strncmp(p, "<!--", 4) == 0) {
			e = strstr(p + 4, "-->");
			if (!e)
				return XML_BAD;
			p = e + 3;
			continue;
		}
		if (strncmp(p, "<![CDATA[", 9) == 0) {
			e = strstr(p + 9, "]]>");
			if (!e)
				return XML_BAD;
			p = e + 3;
			continue;
		}
		if (p[1] == '?' || p[1] == '!') {
			e = strchr(p, '>');
			if (!e)
				return XML_BAD;
			p = e + 1;
			continue;
		}
		memset(t, 0, sizeof(*t));
		t->closing = p[1] == '/';
		t->name = p + 1 + t->closing;
		for (q = t->name; is_name_char(*q); q++)
			;
		t->name_len = (size_t)(q - t->name);
		if (t->name_len == 0)
			return XML_BAD;
		t->attrs = q;
		/* '>' inside a quoted attribute value does not end the tag. */
		for (; *q && *q != '>'; q++) {
			if (*q == '\'' || *q == '"') {
				const char *close = strchr(q + 1, *q);
				if (!close)
					return XML_BAD;
				q = close;
			}
		}
		if (*q != '>')
			return XML_BAD;
		t->self_closing = q > t->attrs && q[-1] == '/';
		t->attrs_len = (size_t)(q - t->attrs) - t->self_closing;
		return q + 1;
	}
	return NULL;
}

/* Attribute `name` of a tag, entity-decoded into buf. Returns 1 found, 0 absent, -EINVAL malformed. */
static int xml_attr(const struct xtag *t, const char *name, char *buf, size_t len)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = {
	    {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''},
	};
	const char *p = t->attrs, *end = t->attrs + t->attrs_len;
	size_t nlen = strlen(name);

	while (p < end) {
		const char *an, *val, *vend;
		size_t alen, o = 0;
		char quote;
		while (p < end && is_space(*p))
			p++;
		if (p >= end)
			break;
		for (an = p; p < end && is_name_char(*p); p++)
			;
		alen = (size_t)(p - an);
		while (p < end && is_space(*p))
			p++;
		if (alen == 0 || p >= end || *p != '=')
			return -EINVAL;
		for (p++; p < end && is_space(*p); p++)
			;
		if (p >= end || (*p != '\'' && *p != '"'))
			return -EINVAL;
		quote = *p++;
		val = p;
		vend = memchr(val, quote, (size_t)(end - val));
		if (!vend)
			return -EINVAL;
		p = vend + 1;
		if (alen != nlen || memcmp(an, name, nlen) != 0)
			continue;
		for (const char *c = val; c < vend; c++) {
			char ch = *c;
			if (ch == '&') {
				size_t i;
				for (i = 0; i < ELEMENTSOF(ents); i++)
					if ((size_t)(vend - c) >= strlen(ents[i].ent) &&
					    strncmp(c, ents[i].ent, strlen(ents[i].ent)) == 0)
						break;
				if (i == ELEMENTSOF(ents))
					return -EINVAL;
				ch = ents[i].c;
				c += strlen(ents[i].ent) - 1;
			}
			if (o + 1 >= len)
				return -EINVAL;
			buf[o++] = ch;
		}
		buf[o] = '\0';
		return 1;
	}
	return 0;
}

/* "262144" with unit "KiB" (libvirt's own output) or another libvirt unit -> KiB. */
static int scaled_kib(const char *num, size_t numlen, const char *unit, uint64_t *ret)
{
	char buf[96];
	uint64_t v;

	while (numlen && is_space(*num))
		num++, numlen--;
	while (numlen && is_space(num[numlen - 1]))
		numlen--;
	if (numlen == 0 || numlen > 30)
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%.*s", (int)numlen, num);
	if (!unit[0] || strcmp(unit, "KiB") == 0 || strcmp(unit, "k") == 0 || strcmp(unit, "K") == 0)
		return unit_parse_u64(buf, 0, UINT64_MAX / 1024, ret);
	if (strcmp(unit, "b") == 0 || strcmp(unit, "bytes") == 0) {
		if (unit_parse_u64(buf, 0, UINT64_MAX, &v) < 0)
			return -EINVAL;
		*ret = v / 1024;
		return 0;
	}
	if (strlen(unit) > 8)
		return -EINVAL;
	snprintf(buf + numlen, sizeof(buf) - numlen, "%s", unit);
	return unit_parse_size_kib(buf, ret);
}

int bvirt_parse_domain_xml(const char *xml, bool *ret_has_balloon, uint64_t *ret_min_guarantee_kib)
{
	char stack[XML_DEPTH_MAX][24];
	size_t depth = 0;
	bool balloon = false, seen_domain = false;
	uint64_t min_g = 0;
	struct xtag t;
	const char *p = xml;

	if (!xml)
		return -EINVAL;
	while ((p = xml_next_tag(p, &t))) {
		if (p == XML_BAD)
			return -EINVAL;
		if (t.closing) {
			if (depth == 0)
				return -EINVAL;
			depth--;
			continue;
		}
		char name[24];
		snprintf(name, sizeof(name), "%.*s", (int)(t.name_len < 23 ? t.name_len : 23), t.name);
		if (depth == 0) {
			if (strcmp(name, "domain") != 0 || seen_domain)
				return -EINVAL;
			seen_domain = true;
		}
		if (depth == 2 && strcmp(stack[0], "domain") == 0 && strcmp(stack[1], "devices") == 0 &&
		    strcmp(name, "memballoon") == 0) {
			char model[32];
			if (xml_attr(&t, "model", model, sizeof(model)) == 1 &&
			    strncmp(model, "virtio", 6) == 0)
				balloon = true;
		}
		if (depth == 2 && strcmp(stack[0], "domain") == 0 && strcmp(stack[1], "memtune") == 0 &&
		    strcmp(name, "min_guarantee") == 0 && !t.self_closing) {
			char unit[16] = "";
			const char *text = p, *end = strchr(p, '<');
			if (!end || xml_attr(&t, "unit", unit, sizeof(unit)) < 0 ||
			    scaled_kib(text, (size_t)(end - text), unit, &min_g) < 0)
				return -EINVAL;
		}
		if (t.self_closing)
			continue;
		if (depth == XML_DEPTH_MAX)
			return -EINVAL;
		memcpy(stack[depth++], name, sizeof(name));
	}
	if (!seen_domain || depth != 0)
		return -EINVAL;
	*ret_has_balloon = balloon;
	*ret_min_guarantee_kib = min_g;
	return 0;
}

/* Add "what='val' is not why" to the warning text, "; "-separated. */
static void append_warn(char *warn, size_t len, const char *what, const char *val, const char *why)
{
	size_t o;
	if (!warn || !len)
		return;
	o = strlen(warn);
	if (o + 2 < len)
		snprintf(warn + o, len - o, "%s%s='%s' is not %s", o ? "; " : "", what, val, why);
}

int bvirt_parse_metadata(const char *xml, struct bvirt_meta *ret, char *warn, size_t warnlen)
{
	struct bvirt_meta m = {.present = true, .manage = -1};
	char val[128];
	struct xtag t;
	const char *p;
	uint64_t u;
	bool b;

	if (warn && warnlen)
		warn[0] = '\0';
	if (!xml)
		return -EINVAL;
	p = xml_next_tag(xml, &t);
	if (!p || p == XML_BAD || t.closing)
		return -EINVAL;
	int r = xml_attr(&t, "floor", val, sizeof(val));
	if (r == 1 && unit_parse_msize(val, &m.floor) == 0 && (!m.floor.is_percent || m.floor.ppm <= 1000000))
		m.has_floor = true;
	else if (r != 0)
		append_warn(warn, warnlen, "floor", r == 1 ? val : "?", "a size or a percentage");
	r = xml_attr(&t, "shares", val, sizeof(val));
	if (r == 1 && unit_parse_u64(val, 1, 100000, &u) == 0)
		m.shares = (uint32_t)u;
	else if (r != 0)
		append_warn(warn, warnlen, "shares", r == 1 ? val : "?", "an integer 1..100000");
	r = xml_attr(&t, "manage", val, sizeof(val));
	if (r == 1 && unit_parse_bool(val, &b) == 0)
		m.manage = b;
	else if (r != 0)
		append_warn(warn, warnlen, "manage", r == 1 ? val : "?", "yes or no");
	*ret = m;
	return 0;
}

int bvirt_read_qemu_pid(const char *run_dir, const char *name, pid_t *ret)
{
	char path[PATH_MAX], buf[32];
	uint64_t pid;
	ssize_t n;

	if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.pid", run_dir, name) >= sizeof(path))
		return -EINVAL;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EINVAL;
	buf[n] = '\0';
	while (n > 0 && is_space(buf[n - 1]))
		buf[--n] = '\0';
	if (unit_parse_u64(buf, 1, INT_MAX, &pid) < 0)
		return -EINVAL;
	*ret = (pid_t)pid;
	return 0;
}
