/* ksmtuned_conf.c - imports /etc/ksmtuned.conf as plain NAME=VALUE data; the file is never executed. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "../common/cleanup.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/parse.h"
#include "../common/units.h"
#include "ksmtuned_conf.h"

#define KT_LINE_MAX 1023
#define KT_FILE_MAX (1024 * 1024)
#define KT_EXCERPT 64

/* ksmtuned's own defaults, used for the half of a threshold pair the file leaves out. */
#define KT_DEFAULT_THRES_COEF 20
#define KT_DEFAULT_THRES_CONST 2048

/* memopt's ranges for the keys an import may set (keep in step with the table in common/config_keys.c). */
#define KT_SLEEP_MS_MAX 10000
#define KT_MIN_PAGES_MAX 100000
#define KT_MAX_PAGES_MAX 1000000

enum kt_kind {
	KT_UINT,   /* decimal, >= 0 */
	KT_INT,	   /* decimal, may be negative (KSM_NPAGES_DECAY is -50 by default) */
	KT_STRING, /* anything that passed the shell-safety checks */
};

enum kt_id {
	KT_THRES_COEF,
	KT_THRES_CONST,
	KT_SLEEP_MSEC,
	KT_NPAGES_MIN,
	KT_NPAGES_MAX,
	KT_DEBUG,
	KT_NPAGES_BOOST,
	KT_NPAGES_DECAY,
	KT_MONITOR_INTERVAL,
	KT_PS_METRIC,
	KT_LOGFILE,
	KT__MAX
};

struct kt_name {
	const char *name;
	enum kt_kind kind;
	uint64_t min, max;  /* KT_UINT */
	const char *unused; /* non-NULL: accepted but not applied, and why */
};

static const struct kt_name kt_names[KT__MAX] = {
    [KT_THRES_COEF] = {"KSM_THRES_COEF", KT_UINT, 0, 100, NULL},
    [KT_THRES_CONST] = {"KSM_THRES_CONST", KT_UINT, 0, 1ULL << 40, NULL},
    [KT_SLEEP_MSEC] = {"KSM_SLEEP_MSEC", KT_UINT, 0, 1000000, NULL},
    [KT_NPAGES_MIN] = {"KSM_NPAGES_MIN", KT_UINT, 1, KT_MIN_PAGES_MAX, NULL},
    [KT_NPAGES_MAX] = {"KSM_NPAGES_MAX", KT_UINT, 1, KT_MAX_PAGES_MAX, NULL},
    [KT_DEBUG] = {"DEBUG", KT_UINT, 0, 1, NULL},
    [KT_NPAGES_BOOST] = {"KSM_NPAGES_BOOST", KT_UINT, 0, UINT64_MAX,
			 "memopt computes pages_to_scan from merge yield and ksmd CPU every [ksm] interval"},
    [KT_NPAGES_DECAY] = {"KSM_NPAGES_DECAY", KT_INT, 0, UINT64_MAX,
			 "memopt computes pages_to_scan from merge yield and ksmd CPU every [ksm] interval"},
    [KT_MONITOR_INTERVAL] = {"KSM_MONITOR_INTERVAL", KT_UINT, 0, UINT64_MAX,
			     "memopt decides every [ksm] interval (default 2s)"},
    [KT_PS_METRIC] = {"KSM_PS_METRIC", KT_STRING, 0, 0,
		      "memopt reads guest memory from /proc/meminfo and KSM counters, not ps"},
    [KT_LOGFILE] = {"LOGFILE", KT_STRING, 0, 0, "memopt logs to stderr or syslog/the journal"},
};

struct kt_seen {
	bool have[KT__MAX];
	uint64_t val[KT__MAX];
	unsigned line[KT__MAX];
};

/* A printable excerpt of hostile text for a log message. */
static const char *excerpt(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t i, n = len < KT_EXCERPT ? len : KT_EXCERPT;

	if (n >= buflen)
		n = buflen - 1;
	for (i = 0; i < n; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	if (n < len && buflen > n + 3)
		memcpy(buf + n, "...", 4);
	return buf;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Characters an unquoted value may hold: nothing the shell would expand, glob or split on. */
static bool is_plain_char(char c)
{
	return is_name_char(c) || c == '.' || c == '/' || c == ':' || c == '+' || c == ',' || c == '-' ||
	       c == '@' || c == '%' || c == '=';
}

/* Split "[export ]NAME=VALUE [# comment]" (line is NUL-terminated, no newline, no NUL inside).
 * On refusal returns -EINVAL and sets *why. name and value point into line, which is modified. */
static int lex_assignment(char *line, char **ret_name, char **ret_value, const char **why)
{
	static const char forbidden[] = "$`;&|\\<>(){}";
	char *p = line, *name, *value, *end;
	char q;

	for (p = line; *p; p++) {
		if (strchr(forbidden, *p)) {
			*why = *p == '$'    ? "contains '$' (expansion or command substitution)"
			       : *p == '`'  ? "contains a backquote (command substitution)"
			       : *p == ';'  ? "contains ';' (a second command)"
			       : *p == '&'  ? "contains '&' (a second command)"
			       : *p == '|'  ? "contains '|' (a pipeline)"
			       : *p == '\\' ? "contains a backslash"
					    : "contains shell syntax (redirection, subshell or group)";
			return -EINVAL;
		}
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			*why = "contains control characters";
			return -EINVAL;
		}
		if ((unsigned char)*p >= 0x7f) {
			*why = "contains non-ASCII bytes";
			return -EINVAL;
		}
	}

	p = line;
	while (is_blank(*p))
		p++;
	if (strncmp(p, "export", 6) == 0 && is_blank(p[6])) {
		p += 6;
		while (is_blank(*p))
			p++;
	}
	name = p;
	if (!is_name_start(*p)) {
		*why = "not a NAME=VALUE assignment";
		return -EINVAL;
	}
	while (is_name_char(*p))
		p++;
	if (*p != '=') {
		*why = "not a NAME=VALUE assignment";
		return -EINVAL;
	}
	*p++ = '\0';

	if (*p == '\'' || *p == '"') {
		q = *p++;
		value = p;
		end = strchr(p, q);
		if (!end) {
			*why = "unbalanced quote";
			return -EINVAL;
		}
		*end = '\0';
		p = end + 1;
		if (*p && !is_blank(*p)) {
			*why = *p == '\'' || *p == '"' || is_plain_char(*p)
				   ? "value mixes quoted and unquoted parts"
				   : "unexpected text after the closing quote";
			return -EINVAL;
		}
	} else {
		value = p;
		while (*p && !is_blank(*p)) {
			if (*p == '\'' || *p == '"') {
				*why = strchr(p + 1, *p) ? "value mixes quoted and unquoted parts"
							 : "unbalanced quote";
				return -EINVAL;
			}
			if (!is_plain_char(*p)) {
				*why = "value holds characters the shell would expand";
				return -EINVAL;
			}
			p++;
		}
		end = p;
	}
	/* After the value only blanks and a comment; "A=1 cmd" would run cmd in a shell. */
	while (is_blank(*p))
		p++;
	if (*p && *p != '#') {
		*why = "text after the value (a command?)";
		return -EINVAL;
	}
	*end = '\0';
	*ret_name = name;
	*ret_value = value;
	return 0;
}

static int find_name(const char *name)
{
	int i;

	for (i = 0; i < KT__MAX; i++)
		if (strcmp(kt_names[i].name, name) == 0)
			return i;
	return -1;
}

/* Check a value against its kind; numbers go into *ret. */
static int check_value(const struct kt_name *n, const char *value, uint64_t *ret, const char **why)
{
	const char *v = value;
	int r;

	if (!*value) {
		*why = "empty value";
		return -EINVAL;
	}
	if (n->kind == KT_STRING) {
		*ret = 0;
		return 0;
	}
	if (n->kind == KT_INT && *v == '-')
		v++;
	r = unit_parse_u64(v, n->kind == KT_UINT ? n->min : 0, n->kind == KT_UINT ? n->max : UINT64_MAX, ret);
	if (r == -ERANGE) {
		*why = "number out of range";
		return r;
	}
	if (r < 0) {
		*why = value[0] == '-' && n->kind == KT_UINT ? "negative number" : "not a number";
		return r;
	}
	return 0;
}

static void process_line(const char *path, unsigned lineno, char *line, struct kt_seen *seen)
{
	char ex[KT_EXCERPT + 4];
	const char *why = NULL, *p;
	char *name, *value;
	uint64_t v;
	int id;

	for (p = line; is_blank(*p); p++)
		;
	if (!*p || *p == '#')
		return;

	/* Quote the line as written: the lexer cuts it up in place. */
	excerpt(line, strlen(line), ex, sizeof(ex));
	if (lex_assignment(line, &name, &value, &why) < 0) {
		log_warn("%s:%u: refusing line '%s': %s; skipped", path, lineno, ex, why);
		return;
	}
	id = find_name(name);
	if (id < 0) {
		log_warn("%s:%u: unknown setting '%s', skipped", path, lineno, name);
		return;
	}
	if (check_value(&kt_names[id], value, &v, &why) < 0) {
		log_warn("%s:%u: %s: invalid value '%s' (%s), skipped", path, lineno, name,
			 excerpt(value, strlen(value), ex, sizeof(ex)), why);
		return;
	}
	if (kt_names[id].unused) {
		log_notice("%s:%u: %s accepted but not used: %s", path, lineno, name, kt_names[id].unused);
		return;
	}
	/* As in the shell, a later assignment wins. */
	seen->have[id] = true;
	seen->val[id] = v;
	seen->line[id] = lineno;
}

/* a * pct / 100 without overflow for any a and pct <= 100. */
static uint64_t percent_of(uint64_t a, uint64_t pct)
{
	return a / 100 * pct + a % 100 * pct / 100;
}

static int apply(const char *path, uint64_t mem_total_kib, const struct kt_seen *s, struct memopt_config *cfg)
{
	char a[32], b[32];
	int applied = 0;

	if (s->have[KT_DEBUG] && s->val[KT_DEBUG] == 1) {
		cfg->daemon.log_level = LOG_DEBUG;
		applied++;
	}

	if (s->have[KT_THRES_COEF] || s->have[KT_THRES_CONST]) {
		uint64_t coef = s->have[KT_THRES_COEF] ? s->val[KT_THRES_COEF] : KT_DEFAULT_THRES_COEF;
		uint64_t cnst = s->have[KT_THRES_CONST] ? s->val[KT_THRES_CONST] : KT_DEFAULT_THRES_CONST;
		uint64_t start, stop;

		if (mem_total_kib == 0) {
			log_warn("%s: MemTotal unknown, KSM_THRES_COEF/KSM_THRES_CONST not applied", path);
		} else {
			start = percent_of(mem_total_kib, coef);
			if (cnst > start)
				start = cnst;
			/* at least 1 KiB above start: with MemTotal under 10 KiB (a garbled meminfo) a
			 * stop equal to start would fail cfg_validate() and stop the daemon from starting */
			stop = start + (mem_total_kib >= 10 ? mem_total_kib / 10 : 1);
			cfg->ksm.start_avail = (struct msize){.is_percent = false, .kib = start};
			cfg->ksm.stop_avail = (struct msize){.is_percent = false, .kib = stop};
			applied += s->have[KT_THRES_COEF] + s->have[KT_THRES_CONST];
			log_info("%s: KSM_THRES_COEF=%llu KSM_THRES_CONST=%llu -> start_avail = %s, "
				 "stop_avail = %s",
				 path, (unsigned long long)coef, (unsigned long long)cnst,
				 unit_format_kib(start, a, sizeof(a)), unit_format_kib(stop, b, sizeof(b)));
		}
	}

	if (s->have[KT_SLEEP_MSEC]) {
		if (mem_total_kib == 0) {
			log_warn("%s:%u: MemTotal unknown, KSM_SLEEP_MSEC not applied", path,
				 s->line[KT_SLEEP_MSEC]);
		} else {
			/* ksmtuned: sleep = KSM_SLEEP_MSEC * 16 GiB / MemTotal, at least 10 ms. */
			uint64_t ms = s->val[KT_SLEEP_MSEC] * 16777216ULL / mem_total_kib;

			if (ms < 10)
				ms = 10;
			if (ms > KT_SLEEP_MS_MAX) {
				log_notice(
				    "%s:%u: KSM_SLEEP_MSEC scales to %llu ms on this host, capped at %d ms",
				    path, s->line[KT_SLEEP_MSEC], (unsigned long long)ms, KT_SLEEP_MS_MAX);
				ms = KT_SLEEP_MS_MAX;
			}
			cfg->ksm.sleep_ms = ms;
			applied++;
		}
	}

	if (s->have[KT_NPAGES_MIN] && s->have[KT_NPAGES_MAX] &&
	    s->val[KT_NPAGES_MIN] > s->val[KT_NPAGES_MAX]) {
		log_warn("%s:%u: KSM_NPAGES_MIN (%llu) is above KSM_NPAGES_MAX (%llu), both skipped", path,
			 s->line[KT_NPAGES_MIN], (unsigned long long)s->val[KT_NPAGES_MIN],
			 (unsigned long long)s->val[KT_NPAGES_MAX]);
		return applied;
	}
	if (s->have[KT_NPAGES_MIN]) {
		cfg->ksm.min_pages_to_scan = s->val[KT_NPAGES_MIN];
		applied++;
		if (!s->have[KT_NPAGES_MAX] && cfg->ksm.max_pages_to_scan < cfg->ksm.min_pages_to_scan) {
			log_notice("%s:%u: max_pages_to_scan raised to KSM_NPAGES_MIN (%llu)", path,
				   s->line[KT_NPAGES_MIN], (unsigned long long)cfg->ksm.min_pages_to_scan);
			cfg->ksm.max_pages_to_scan = cfg->ksm.min_pages_to_scan;
		}
	}
	if (s->have[KT_NPAGES_MAX]) {
		cfg->ksm.max_pages_to_scan = s->val[KT_NPAGES_MAX];
		applied++;
		if (!s->have[KT_NPAGES_MIN] && cfg->ksm.min_pages_to_scan > cfg->ksm.max_pages_to_scan) {
			log_notice("%s:%u: min_pages_to_scan lowered to KSM_NPAGES_MAX (%llu)", path,
				   s->line[KT_NPAGES_MAX], (unsigned long long)cfg->ksm.max_pages_to_scan);
			cfg->ksm.min_pages_to_scan = cfg->ksm.max_pages_to_scan;
		}
	}
	return applied;
}

int ksmtuned_conf_import(const char *path, uint64_t mem_total_kib, struct memopt_config *cfg)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct stat st;
	bool full;
	int r;

	/* O_NONBLOCK: a FIFO planted at the path must not hang the daemon's start. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		log_warn("%s: not a regular file, not imported", path);
		return -EINVAL;
	}
	/* out of memory for the buffer: not the file's fault, so nothing to warn the admin about */
	r = fio_read_fd_alloc(fd, KT_FILE_MAX, &buf, &len, &full);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		log_warn("%s: read failed: %s", path, strerror(-r));
		return r;
	}
	if (full) {
		log_warn("%s: larger than %d bytes, not imported", path, KT_FILE_MAX);
		return -EFBIG;
	}
	return ksmtuned_conf_import_text(path, buf, len, mem_total_kib, cfg);
}

int ksmtuned_conf_import_text(const char *name, const char *buf, size_t len, uint64_t mem_total_kib,
			      struct memopt_config *cfg)
{
	const char *path = name;
	struct kt_seen seen = {0};
	char line[KT_LINE_MAX + 1];
	struct prs_line l;
	unsigned lineno = 0;
	size_t pos = 0;

	while (prs_next_line(buf, len, &pos, &l)) {
		lineno++;
		if (l.len > 0 && l.p[l.len - 1] == '\r')
			l.len--;
		if (l.len > KT_LINE_MAX) {
			log_warn("%s:%u: line too long (%zu characters, at most %d), skipped", path, lineno,
				 l.len, KT_LINE_MAX);
			continue;
		}
		if (memchr(l.p, '\0', l.len)) {
			log_warn("%s:%u: NUL byte in line, skipped", path, lineno);
			continue;
		}
		memcpy(line, l.p, l.len);
		line[l.len] = '\0';
		process_line(path, lineno, line, &seen);
	}
	return apply(path, mem_total_kib, &seen, cfg);
}
