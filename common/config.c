/* config.c - memoptd.conf parser engine over the tables of config_keys.c; errors are "file:line: message". */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "config.h"
#include "config_int.h"
#include "fileio.h"
#include "netaddr.h"
#include "parse.h"
#include "units.h"

#define CFG_LINE_MAX 1023
#define CFG_FILE_MAX (1024 * 1024)

static void *field(struct memopt_config *cfg, const struct cfg_key *k)
{
	return (char *)cfg + k->offset;
}

static const void *cfield(const struct memopt_config *cfg, const struct cfg_key *k)
{
	return (const char *)cfg + k->offset;
}

static const char *enum_name(const struct cfg_name *names, int v)
{
	for (; names->name; names++)
		if (names->value == v)
			return names->name;
	return NULL;
}

const char *cfg_fmt_pct(uint64_t ppm, char *buf, size_t len)
{
	return unit_format_msize(&(struct msize){.is_percent = true, .ppm = (uint32_t)ppm}, buf, len);
}

/* "(expected ...)" text for an error about key k. */
static void expected_text(const struct cfg_key *k, char *buf, size_t len)
{
	char a[32], b[32];
	const struct cfg_name *n;
	size_t off = 0;

	switch (k->type) {
	case CT_BOOL:
		snprintf(buf, len, "yes or no");
		break;
	case CT_ENUM:
		buf[0] = '\0';
		for (n = k->names; n->name && off < len; n++)
			off +=
			    (size_t)snprintf(buf + off, len - off, "%s%s", n == k->names ? "" : "|", n->name);
		break;
	case CT_PATH:
		snprintf(buf, len, "an absolute path of at most %zu characters", k->size - 1);
		break;
	case CT_PATH_OPT:
		snprintf(buf, len, "an absolute path of at most %zu characters, or none", k->size - 1);
		break;
	case CT_GROUP:
		snprintf(buf, len, "a group name of at most %zu characters, or none", k->size - 1);
		break;
	case CT_DURATION:
		snprintf(buf, len, "%s..%s", unit_format_duration(k->min, a, sizeof(a)),
			 unit_format_duration(k->max, b, sizeof(b)));
		break;
	case CT_PERCENT:
		snprintf(buf, len, "%s..%s", cfg_fmt_pct(k->min, a, sizeof(a)),
			 cfg_fmt_pct(k->max, b, sizeof(b)));
		break;
	case CT_SIZE:
		snprintf(buf, len, "a size %s..%s", unit_format_kib(k->min, a, sizeof(a)),
			 unit_format_kib(k->max, b, sizeof(b)));
		break;
	case CT_MSIZE:
		snprintf(buf, len, "a size like 4G or a percentage of MemTotal like 20%%");
		break;
	case CT_GSIZE:
		snprintf(buf, len, "a size like 2G or a percentage of the guest's memory like 50%%");
		break;
	case CT_STRING:
		snprintf(buf, len, "at most %zu printable characters without blanks", k->size - 1);
		break;
	case CT_U64:
		snprintf(buf, len, "an integer %llu..%llu", (unsigned long long)k->min,
			 (unsigned long long)k->max);
		break;
	case CT_LISTEN:
		snprintf(buf, len, "a numeric IPV4:PORT or [IPV6]:PORT with port 1..65535, or off");
		break;
	}
}

static bool is_absolute_path(const char *v, size_t size)
{
	return v[0] == '/' && strlen(v) < size;
}

static bool is_group_name(const char *v, size_t size)
{
	const char *p;

	if (strlen(v) >= size || v[0] == '-')
		return false;
	for (p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-' || *p == '.'))
			return false;
	return true;
}

static bool is_token(const char *v, size_t size)
{
	const char *p;

	if (!v[0] || strlen(v) >= size)
		return false;
	for (p = v; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

/* Zero-filled, so that two configs with the same settings are byte-for-byte equal. */
static void set_string(struct memopt_config *cfg, const struct cfg_key *k, const char *v)
{
	memset(field(cfg, k), 0, k->size);
	memcpy(field(cfg, k), v, strlen(v));
}

/* Parse one value into its field; -EINVAL for any unacceptable value. */
static int set_value(struct memopt_config *cfg, const struct cfg_key *k, const char *v)
{
	const struct cfg_name *n;
	uint64_t u;
	uint32_t ppm;
	struct msize m;
	bool b;

	switch (k->type) {
	case CT_BOOL:
		if (unit_parse_bool(v, &b) < 0)
			return -EINVAL;
		*(bool *)field(cfg, k) = b;
		return 0;
	case CT_ENUM:
		for (n = k->names; n->name; n++)
			if (strcmp(n->name, v) == 0) {
				*(int *)field(cfg, k) = n->value;
				return 0;
			}
		return -EINVAL;
	case CT_PATH_OPT:
	case CT_GROUP:
		if (strcmp(v, "none") == 0) {
			set_string(cfg, k, "");
			return 0;
		}
		if (k->type == CT_GROUP ? !is_group_name(v, k->size) : !is_absolute_path(v, k->size))
			return -EINVAL;
		set_string(cfg, k, v);
		return 0;
	case CT_PATH:
		if (!is_absolute_path(v, k->size))
			return -EINVAL;
		set_string(cfg, k, v);
		return 0;
	case CT_STRING:
		if (!is_token(v, k->size))
			return -EINVAL;
		set_string(cfg, k, v);
		return 0;
	case CT_DURATION:
	case CT_SIZE:
		if ((k->type == CT_DURATION ? unit_parse_duration_ms(v, &u) : unit_parse_size_kib(v, &u)) < 0)
			return -EINVAL;
		if (u < k->min || u > k->max)
			return -EINVAL;
		*(uint64_t *)field(cfg, k) = u;
		return 0;
	case CT_PERCENT:
		if (unit_parse_percent_ppm(v, &ppm) < 0 || ppm < k->min || ppm > k->max)
			return -EINVAL;
		*(uint32_t *)field(cfg, k) = ppm;
		return 0;
	case CT_MSIZE:
	case CT_GSIZE:
		if (unit_parse_msize(v, &m) < 0)
			return -EINVAL;
		*(struct msize *)field(cfg, k) = m;
		return 0;
	case CT_U64:
		if (unit_parse_u64(v, k->min, k->max, &u) < 0)
			return -EINVAL;
		*(uint64_t *)field(cfg, k) = u;
		return 0;
	case CT_LISTEN:
		if (strcmp(v, "off") == 0) {
			set_string(cfg, k, "");
			return 0;
		}
		if (strlen(v) >= k->size || naddr_parse(v, NULL) < 0)
			return -EINVAL;
		set_string(cfg, k, v);
		return 0;
	}
	return -EINVAL;
}

/* Format the current value of a key in a form set_value() accepts and maps back to the same bits. */
static const char *format_value(const struct memopt_config *cfg, const struct cfg_key *k, char *buf,
				size_t len)
{
	const char *s;

	switch (k->type) {
	case CT_BOOL:
		return *(const bool *)cfield(cfg, k) ? "yes" : "no";
	case CT_ENUM:
		s = enum_name(k->names, *(const int *)cfield(cfg, k));
		if (!s) {
			snprintf(buf, len, "invalid(%d)", *(const int *)cfield(cfg, k));
			return buf;
		}
		return s;
	case CT_PATH:
	case CT_STRING:
		return (const char *)cfield(cfg, k);
	case CT_PATH_OPT:
	case CT_GROUP:
		s = cfield(cfg, k);
		return s[0] ? s : "none";
	case CT_LISTEN:
		s = cfield(cfg, k);
		return s[0] ? s : "off";
	case CT_DURATION:
		return unit_format_duration(*(const uint64_t *)cfield(cfg, k), buf, len);
	case CT_PERCENT:
		return cfg_fmt_pct(*(const uint32_t *)cfield(cfg, k), buf, len);
	case CT_SIZE:
		return unit_format_kib(*(const uint64_t *)cfield(cfg, k), buf, len);
	case CT_MSIZE:
	case CT_GSIZE:
		return unit_format_msize(cfield(cfg, k), buf, len);
	case CT_U64:
		snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)cfield(cfg, k));
		return buf;
	}
	return "";
}

static bool is_section(const char *name)
{
	size_t i;

	for (i = 0; i < cfg_nsections; i++)
		if (strcmp(cfg_sections[i], name) == 0)
			return true;
	return false;
}

static int find_key(const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < cfg_nkeys; i++)
		if (strcmp(cfg_keys[i].section, section) == 0 && strcmp(cfg_keys[i].key, key) == 0)
			return (int)i;
	return -1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static char *trim(char *s)
{
	char *e;

	while (is_blank(*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_blank(e[-1]))
		*--e = '\0';
	return s;
}

/* Cut a comment: '#' or ';' at the start of the line or after a blank. */
static void strip_comment(char *s)
{
	char *p;

	for (p = s; *p; p++)
		if ((*p == '#' || *p == ';') && (p == s || is_blank(p[-1]))) {
			*p = '\0';
			return;
		}
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

#define FAIL(...)                                                                                            \
	do {                                                                                                 \
		int _n = snprintf(err, errlen, "%s:%u: ", name, lineno);                                     \
		if (_n >= 0 && (size_t)_n < errlen)                                                          \
			snprintf(err + _n, errlen - (size_t)_n, __VA_ARGS__);                                \
		return -EINVAL;                                                                              \
	} while (0)

/* Where the parser is in one file: the section, and the line on which each key and [vm] rule was set. */
struct parse_state {
	char section[32];
	int vm;                                 /* index of the current [vm] rule, -1 outside one */
	unsigned vm_line[CFG_VM_MAX];           /* 0 = rule from an earlier layer */
	unsigned vm_set_on[CFG_VM_MAX][CFG_VM_NKEYS];
	unsigned set_on[];                      /* cfg_nkeys entries, one per cfg_keys[] */
};

/* A cfg_vm_keys entry turned into a key of the whole config, for set_value() and friends. */
static struct cfg_key vm_key_at(size_t key, size_t rule)
{
	struct cfg_key k = cfg_vm_keys[key];

	k.offset += offsetof(struct memopt_config, balloon.vm) + rule * sizeof(struct cfg_vm_rule);
	return k;
}

/* "[vm PATTERN]": start a new rule. */
static int parse_vm_header(const char *name, unsigned lineno, const char *pattern, struct parse_state *ps,
			   struct memopt_config *cfg, char *err, size_t errlen)
{
	struct cfg_balloon *b = &cfg->balloon;
	struct cfg_vm_rule *r;
	size_t i;

	if (!*pattern)
		FAIL("[vm] needs a domain name, UUID or glob: [vm NAME]");
	if (strlen(pattern) >= CFG_VM_PATTERN_MAX)
		FAIL("[vm %s]: pattern longer than %d characters", pattern, CFG_VM_PATTERN_MAX - 1);
	for (i = 0; i < b->nvm && i < CFG_VM_MAX; i++) {
		if (strcmp(b->vm[i].pattern, pattern) != 0)
			continue;
		if (ps->vm_line[i])
			FAIL("duplicate section [vm %s] (first on line %u)", pattern, ps->vm_line[i]);
		FAIL("duplicate section [vm %s]", pattern);
	}
	if (b->nvm >= CFG_VM_MAX)
		FAIL("too many [vm] sections (at most %d)", CFG_VM_MAX);
	r = &b->vm[b->nvm];
	memset(r, 0, sizeof(*r));
	memcpy(r->pattern, pattern, strlen(pattern));
	r->manage = TRI_KEEP;
	ps->vm_line[b->nvm] = lineno;
	ps->vm = (int)b->nvm++;
	snprintf(ps->section, sizeof(ps->section), "vm");
	return 0;
}

/* "key = value" inside a [vm PATTERN] section. */
static int parse_vm_key(const char *name, unsigned lineno, const char *key, const char *val, struct parse_state *ps,
			struct memopt_config *cfg, char *err, size_t errlen)
{
	struct cfg_vm_rule *r = &cfg->balloon.vm[ps->vm];
	char exp[160];
	size_t i;
	bool b;

	for (i = 0; i < CFG_VM_NKEYS; i++)
		if (strcmp(cfg_vm_keys[i].key, key) == 0)
			break;
	if (i == CFG_VM_NKEYS)
		FAIL("unknown key '%s' in section [vm %s]", key, r->pattern);
	if (ps->vm_set_on[ps->vm][i])
		FAIL("[vm %s] %s: duplicate key (first set on line %u)", r->pattern, key, ps->vm_set_on[ps->vm][i]);
	if (!*val)
		FAIL("[vm %s] %s: empty value", r->pattern, key);
	if (i == CFG_VM_MANAGE) {
		if (unit_parse_bool(val, &b) < 0)
			FAIL("[vm %s] manage: invalid value '%s' (expected yes or no)", r->pattern, val);
		r->manage = b ? TRI_YES : TRI_NO;
	} else {
		struct cfg_key k = vm_key_at(i, (size_t)ps->vm);

		if (set_value(cfg, &k, val) < 0) {
			expected_text(&k, exp, sizeof(exp));
			FAIL("[vm %s] %s: invalid value '%s' (expected %s)", r->pattern, key, val, exp);
		}
		if (i == CFG_VM_FLOOR)
			r->has_floor = true;
	}
	ps->vm_set_on[ps->vm][i] = lineno;
	return 0;
}

/* One line, already cut to its length and NUL-terminated. */
static int parse_line(const char *name, unsigned lineno, char *line, struct parse_state *ps,
		      struct memopt_config *cfg, char *err, size_t errlen)
{
	char exp[160], *s, *eq, *key, *val, *p;
	const char *section = ps->section;
	const struct cfg_key *k;
	unsigned *set_on = ps->set_on;
	int i;

	for (p = line; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t' && !(*p == '\r' && p[1] == '\0'))
			FAIL("control character 0x%02x in line", (unsigned)(unsigned char)*p);
		else if (*p == 0x7f)
			FAIL("control character 0x7f in line");

	strip_comment(line);
	s = trim(line);
	if (!*s)
		return 0;

	if (*s == '[') {
		/* The last ']' closes the header, so a [vm] glob may hold a character class. */
		p = strrchr(s, ']');
		if (!p || p[1] != '\0')
			FAIL("malformed section header '%s'", s);
		*p = '\0';
		s = trim(s + 1);
		if (strncmp(s, "vm", 2) == 0 && (s[2] == '\0' || is_blank(s[2])))
			return parse_vm_header(name, lineno, trim(s + 2), ps, cfg, err, errlen);
		if (!is_section(s))
			FAIL("unknown section [%s]", s);
		snprintf(ps->section, sizeof(ps->section), "%s", s);
		ps->vm = -1;
		return 0;
	}

	eq = strchr(s, '=');
	if (!eq)
		FAIL("expected 'key = value' or '[section]', got '%s'", s);
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (!*key)
		FAIL("missing key before '='");
	for (p = key; *p; p++)
		if (!is_key_char(*p))
			FAIL("invalid key name '%s'", key);
	if (!section[0])
		FAIL("key '%s' outside of any section", key);
	if (ps->vm >= 0)
		return parse_vm_key(name, lineno, key, val, ps, cfg, err, errlen);
	i = find_key(section, key);
	if (i < 0)
		FAIL("unknown key '%s' in section [%s]", key, section);
	k = &cfg_keys[i];
	if (set_on[i])
		FAIL("[%s] %s: duplicate key (first set on line %u)", section, key, set_on[i]);
	if (!*val)
		FAIL("[%s] %s: empty value", section, key);
	if (set_value(cfg, k, val) < 0) {
		expected_text(k, exp, sizeof(exp));
		FAIL("[%s] %s: invalid value '%s' (expected %s)", section, key, val, exp);
	}
	set_on[i] = lineno;
	return 0;
}

/* The parser proper; text has length len and may contain NUL bytes (reported as errors). */
static int parse_buffer(const char *name, const char *text, size_t len, struct memopt_config *cfg, char *err,
			size_t errlen)
{
	_cleanup_free_ struct parse_state *ps = calloc(1, sizeof(*ps) + cfg_nkeys * sizeof(ps->set_on[0]));
	char line[CFG_LINE_MAX + 2];
	struct prs_line l;
	unsigned lineno = 0;
	size_t pos = 0;
	int r;

	if (!ps) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	ps->vm = -1;
	while (prs_next_line(text, len, &pos, &l)) {
		lineno++;
		if (l.len > CFG_LINE_MAX)
			FAIL("line too long (%zu characters, at most %d)", l.len, CFG_LINE_MAX);
		if (memchr(l.p, '\0', l.len))
			FAIL("NUL byte in line");
		memcpy(line, l.p, l.len);
		line[l.len] = '\0';
		r = parse_line(name, lineno, line, ps, cfg, err, errlen);
		if (r < 0)
			return r;
	}
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	return 0;
}

#undef FAIL

int cfg_parse_string(const char *name, const char *text, struct memopt_config *cfg, char *err, size_t errlen)
{
	return parse_buffer(name, text, strlen(text), cfg, err, errlen);
}

int cfg_parse_file(const char *path, struct memopt_config *cfg, char *err, size_t errlen)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len;
	bool full;
	int r;

	/* O_NONBLOCK: a FIFO at the path must not hang start-up; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -EINVAL;
	}
	/* -ENOMEM is fio's allocation of the buffer; read(2) does not fail so on a regular file. */
	r = fio_read_fd_alloc(fd, CFG_FILE_MAX, &buf, &len, &full);
	if (r == -ENOMEM) {
		snprintf(err, errlen, "%s: out of memory", path);
		return r;
	}
	if (r < 0) {
		snprintf(err, errlen, "%s: read failed: %s", path, strerror(-r));
		return r;
	}
	if (full) {
		snprintf(err, errlen, "%s: file too large (more than %d bytes)", path, CFG_FILE_MAX);
		return -EFBIG;
	}
	return parse_buffer(path, buf, len, cfg, err, errlen);
}

static const char *cfg_name_of(const struct memopt_config *cfg)
{
	return cfg->path[0] ? cfg->path : "(built-in defaults)";
}

int cfg_validate(const struct memopt_config *cfg, char *err, size_t errlen)
{
	const char *name = cfg_name_of(cfg);
	char a[64], exp[160];
	size_t i;

	/* Values that did not come through the parser (built-in, imported) are range-checked here too. */
	for (i = 0; i < cfg_nkeys; i++) {
		const struct cfg_key *key = &cfg_keys[i];
		uint64_t v;
		bool bad = false;

		switch (key->type) {
		case CT_DURATION:
		case CT_SIZE:
		case CT_U64:
			v = *(const uint64_t *)cfield(cfg, key);
			bad = v < key->min || v > key->max;
			break;
		case CT_PERCENT:
			v = *(const uint32_t *)cfield(cfg, key);
			bad = v < key->min || v > key->max;
			break;
		case CT_MSIZE:
		case CT_GSIZE:
			bad = ((const struct msize *)cfield(cfg, key))->is_percent &&
			      ((const struct msize *)cfield(cfg, key))->ppm > 1000000;
			break;
		case CT_ENUM:
			bad = !enum_name(key->names, *(const int *)cfield(cfg, key));
			break;
		case CT_PATH:
			bad = !is_absolute_path(cfield(cfg, key), key->size);
			break;
		case CT_STRING:
			bad = !is_token(cfield(cfg, key), key->size);
			break;
		case CT_PATH_OPT:
			bad =
			    *(const char *)cfield(cfg, key) && !is_absolute_path(cfield(cfg, key), key->size);
			break;
		case CT_GROUP:
			bad = *(const char *)cfield(cfg, key) && !is_group_name(cfield(cfg, key), key->size);
			break;
		case CT_LISTEN:
			bad = *(const char *)cfield(cfg, key) &&
			      (strnlen(cfield(cfg, key), key->size) >= key->size || naddr_parse(cfield(cfg, key), NULL) < 0);
			break;
		case CT_BOOL:
			break;
		}
		if (bad) {
			expected_text(key, exp, sizeof(exp));
			snprintf(err, errlen, "%s: [%s] %s: value '%s' out of range (expected %s)", name,
				 key->section, key->key, format_value(cfg, key, a, sizeof(a)), exp);
			return -EINVAL;
		}
	}

	return cfg_validate_sections(cfg, name, err, errlen);
}

int cfg_load(const char *path, bool must_exist, struct memopt_config *ret_cfg, char *err, size_t errlen)
{
	_cleanup_free_ struct memopt_config *scratch = NULL;
	int r;

	scratch = malloc(sizeof(*scratch));
	if (!scratch) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	cfg_defaults(scratch);
	if (path) {
		r = cfg_parse_file(path, scratch, err, errlen);
		if (r == -ENOENT && !must_exist)
			scratch->path[0] = '\0';
		else if (r < 0)
			return r;
	}
	r = cfg_validate(scratch, err, errlen);
	if (r < 0)
		return r;
	*ret_cfg = *scratch;
	return 0;
}

void cfg_print(const struct memopt_config *cfg, FILE *out)
{
	char buf[64];
	size_t s, i;

	fprintf(out, "# memoptd effective configuration (%s)\n", cfg_name_of(cfg));
	for (s = 0; s < cfg_nsections; s++) {
		fprintf(out, "\n[%s]\n", cfg_sections[s]);
		for (i = 0; i < cfg_nkeys; i++) {
			const struct cfg_key *k = &cfg_keys[i];

			if (strcmp(k->section, cfg_sections[s]) != 0)
				continue;
			fprintf(out, "# %s\n%s = %s\n", k->help, k->key,
				format_value(cfg, k, buf, sizeof(buf)));
		}
	}
	for (i = 0; i < cfg->balloon.nvm && i < CFG_VM_MAX; i++) {
		const struct cfg_vm_rule *r = &cfg->balloon.vm[i];

		fprintf(out, "\n[vm %s]\n", r->pattern);
		if (r->has_floor)
			fprintf(out, "# %s\nfloor = %s\n", cfg_vm_keys[CFG_VM_FLOOR].help,
				unit_format_msize(&r->floor, buf, sizeof(buf)));
		if (r->shares)
			fprintf(out, "# %s\nshares = %llu\n", cfg_vm_keys[CFG_VM_SHARES].help,
				(unsigned long long)r->shares);
		if (r->manage != TRI_KEEP)
			fprintf(out, "# %s\nmanage = %s\n", cfg_vm_keys[CFG_VM_MANAGE].help,
				r->manage == TRI_NO ? "no" : "yes");
	}
}

const struct cfg_vm_rule *cfg_vm_match(const struct memopt_config *cfg, const char *name, const char *uuid)
{
	size_t i;

	for (i = 0; i < cfg->balloon.nvm && i < CFG_VM_MAX; i++) {
		const char *pat = cfg->balloon.vm[i].pattern;

		if ((name && fnmatch(pat, name, 0) == 0) || (uuid && fnmatch(pat, uuid, FNM_CASEFOLD) == 0))
			return &cfg->balloon.vm[i];
	}
	return NULL;
}
