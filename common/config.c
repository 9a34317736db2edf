/* config.c - memoptd.conf parser: one table of typed, ranged keys; every error is "file:line: message". */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "config.h"
#include "units.h"

#define CFG_LINE_MAX 1023
#define CFG_FILE_MAX (1024 * 1024)

enum cfg_type {
	CT_BOOL,     /* bool */
	CT_ENUM,     /* int or enum, named values from .names */
	CT_PATH,     /* char[size], absolute path */
	CT_PATH_OPT, /* char[size], absolute path or "none" (stored as "") */
	CT_GROUP,    /* char[size], group name or "none" (stored as "") */
	CT_DURATION, /* uint64_t ms */
	CT_PERCENT,  /* uint32_t ppm */
	CT_SIZE,     /* uint64_t KiB */
	CT_MSIZE,    /* struct msize, size or percent of MemTotal */
	CT_U64,	     /* uint64_t plain number */
	CT_STRING,   /* char[size], printable, no blanks (a URI) */
	CT_GSIZE,    /* struct msize, size or percent of a guest's memory */
};

struct cfg_name {
	const char *name;
	int value;
};

struct cfg_key {
	const char *section;
	const char *key;
	enum cfg_type type;
	size_t offset;		      /* into struct memopt_config */
	size_t size;		      /* for strings: buffer size */
	uint64_t min, max;	      /* in the field's unit; ignored for enums, strings, msize */
	const struct cfg_name *names; /* CT_ENUM: terminated by {NULL, 0} */
	const char *help;
};

static const struct cfg_name log_level_names[] = {
    {"err", LOG_ERR},	{"warning", LOG_WARNING}, {"notice", LOG_NOTICE},
    {"info", LOG_INFO}, {"debug", LOG_DEBUG},	  {NULL, 0},
};
static const struct cfg_name mode_names[] = {
    {"auto", KSM_MODE_AUTO},
    {"always", KSM_MODE_ALWAYS},
    {"off", KSM_MODE_OFF},
    {NULL, 0},
};
static const struct cfg_name rate_names[] = {
    {"self", KSM_RATE_SELF},
    {"advisor", KSM_RATE_ADVISOR},
    {NULL, 0},
};
static const struct cfg_name smart_scan_names[] = {
    {"auto", TRI_AUTO}, {"yes", TRI_YES}, {"no", TRI_NO}, {"keep", TRI_KEEP}, {NULL, 0},
};
static const struct cfg_name keep_yes_no_names[] = {
    {"keep", TRI_KEEP},
    {"yes", TRI_YES},
    {"no", TRI_NO},
    {NULL, 0},
};

#define D(f) offsetof(struct memopt_config, daemon.f)
#define K(f) offsetof(struct memopt_config, ksm.f)
#define DS(f) sizeof(((struct memopt_config *)0)->daemon.f)
#define B(f) offsetof(struct memopt_config, balloon.f)
#define BS(f) sizeof(((struct memopt_config *)0)->balloon.f)
#define SEC(n) ((uint64_t)(n)*1000)
#define PCT(n) ((uint64_t)(n)*10000)

/* Sections appear in --print-config in the order of this table. */
static const struct cfg_key cfg_keys[] = {
    {"daemon", "log_level", CT_ENUM, D(log_level), 0, 0, 0, log_level_names, "most verbose level logged"},
    {"daemon", "dry_run", CT_BOOL, D(dry_run), 0, 0, 0, NULL,
     "decide and log, but change nothing on the host"},
    {"daemon", "restore_on_stop", CT_BOOL, D(restore_on_stop), 0, 0, 0, NULL,
     "write back every original host value on a clean stop"},
    {"daemon", "socket", CT_PATH, D(socket_path), DS(socket_path), 0, 0, NULL,
     "control socket for memoptctl"},
    {"daemon", "admin_group", CT_GROUP, D(admin_group), DS(admin_group), 0, 0, NULL,
     "group whose members may change settings over the socket; none = root only"},
    {"daemon", "state_dir", CT_PATH, D(state_dir), DS(state_dir), 0, 0, NULL,
     "directory of the journal of original host values"},
    {"daemon", "sysfs_root", CT_PATH, D(sysfs_root), DS(sysfs_root), 0, 0, NULL,
     "where sysfs is mounted (tests point this at a fixture tree)"},
    {"daemon", "procfs_root", CT_PATH, D(procfs_root), DS(procfs_root), 0, 0, NULL,
     "where procfs is mounted (tests point this at a fixture tree)"},
    {"daemon", "ksmtuned_conf", CT_PATH_OPT, D(ksmtuned_conf), DS(ksmtuned_conf), 0, 0, NULL,
     "ksmtuned.conf to import first (never executed); none = no import"},

    {"ksm", "manage", CT_BOOL, K(manage), 0, 0, 0, NULL, "no = never write /sys/kernel/mm/ksm, only report"},
    {"ksm", "mode", CT_ENUM, K(mode), 0, 0, 0, mode_names,
     "auto = merge under memory pressure; always = keep ksmd running; off = stop ksmd"},
    {"ksm", "rate_control", CT_ENUM, K(rate_control), 0, 0, 0, rate_names,
     "self = memopt sets pages_to_scan from merge yield and ksmd CPU; advisor = kernel scan-time advisor"},
    {"ksm", "interval", CT_DURATION, K(interval_ms), 0, 250, SEC(60), NULL, "decision period"},
    {"ksm", "start_avail", CT_MSIZE, K(start_avail), 0, 0, 0, NULL,
     "start merging when MemAvailable falls below this (size, or percent of MemTotal)"},
    {"ksm", "stop_avail", CT_MSIZE, K(stop_avail), 0, 0, 0, NULL,
     "stop once MemAvailable stays above this for stop_hold (size, or percent of MemTotal)"},
    {"ksm", "start_psi", CT_PERCENT, K(start_psi_ppm), 0, PCT(0), PCT(100), NULL,
     "start merging when memory PSI some avg10 exceeds this share of time"},
    {"ksm", "stop_psi", CT_PERCENT, K(stop_psi_ppm), 0, PCT(0), PCT(100), NULL,
     "stop only while memory PSI some avg10 is below this"},
    {"ksm", "stop_hold", CT_DURATION, K(stop_hold_ms), 0, 0, SEC(86400), NULL,
     "how long the stop conditions must hold before ksmd is stopped"},
    {"ksm", "max_cpu_percent", CT_PERCENT, K(max_cpu_ppm), 0, PCT(1), PCT(100), NULL,
     "ceiling for ksmd CPU during a burst, share of one core"},
    {"ksm", "steady_cpu_percent", CT_PERCENT, K(steady_cpu_ppm), 0, PCT(0), PCT(100), NULL,
     "long-run average ksmd CPU budget, share of one core"},
    {"ksm", "burst_cpu", CT_DURATION, K(burst_cpu_ms), 0, 0, SEC(3600), NULL,
     "CPU time ksmd may spend above steady_cpu_percent before it is held to it"},
    {"ksm", "min_yield", CT_SIZE, K(min_yield_kib), 0, 0, 1024ULL * 1024 * 1024, NULL,
     "memory saved per ksmd CPU-second below which scanning stops paying"},
    {"ksm", "settled_scan_time", CT_DURATION, K(settled_scan_time_ms), 0, SEC(10), SEC(86400), NULL,
     "full-scan period once scanning stops paying"},
    {"ksm", "sleep_ms", CT_U64, K(sleep_ms), 0, 0, 10000, NULL,
     "sleep_millisecs while scanning fast, milliseconds"},
    {"ksm", "min_pages_to_scan", CT_U64, K(min_pages_to_scan), 0, 1, 100000, NULL,
     "lowest pages_to_scan memopt sets"},
    {"ksm", "max_pages_to_scan", CT_U64, K(max_pages_to_scan), 0, 1, 1000000, NULL,
     "highest pages_to_scan memopt sets"},
    {"ksm", "smart_scan", CT_ENUM, K(smart_scan), 0, 0, 0, smart_scan_names,
     "kernel smart_scan; auto = off while page churn makes skipping costly; keep = leave as found"},
    {"ksm", "use_zero_pages", CT_ENUM, K(use_zero_pages), 0, 0, 0, keep_yes_no_names,
     "kernel use_zero_pages; keep = leave as found"},
    {"ksm", "advisor_target_scan_time", CT_DURATION, K(advisor_target_scan_ms), 0, SEC(1), SEC(86400), NULL,
     "full-scan time the kernel advisor aims for (rate_control = advisor)"},

    {"balloon", "manage", CT_BOOL, B(manage), 0, 0, 0, NULL,
     "yes = change balloon sizes; no = only report what would be done"},
    {"balloon", "uri", CT_STRING, B(uri), BS(uri), 0, 0, NULL, "libvirt connection URI"},
    {"balloon", "interval", CT_DURATION, B(interval_ms), 0, SEC(1), SEC(60), NULL, "decision period"},
    {"balloon", "stats_period", CT_DURATION, B(stats_period_ms), 0, SEC(1), SEC(300), NULL,
     "guest memory statistics period set on every balloon device (whole seconds)"},
    {"balloon", "host_min_avail", CT_MSIZE, B(host_min_avail), 0, 0, 0, NULL,
     "reclaim from guests while MemAvailable is below this (size, or percent of MemTotal)"},
    {"balloon", "host_release_avail", CT_MSIZE, B(host_release_avail), 0, 0, 0, NULL,
     "give memory back to guests while MemAvailable is above this (size, or percent of MemTotal)"},
    {"balloon", "host_psi", CT_PERCENT, B(host_psi_ppm), 0, PCT(0), PCT(100), NULL,
     "host memory PSI some avg10 above this also counts as host pressure"},
    {"balloon", "guest_margin", CT_GSIZE, B(guest_margin), 0, 0, 0, NULL,
     "kept free above a guest's need (size, or percent of the guest's current size)"},
    {"balloon", "guest_low_usable", CT_SIZE, B(guest_low_usable_kib), 0, 0, 1024ULL * 1024 * 1024, NULL,
     "a guest whose MemAvailable is below this is under pressure"},
    {"balloon", "guest_swapin", CT_SIZE, B(guest_swapin_kib_s), 0, 0, 1024ULL * 1024 * 1024, NULL,
     "a guest swapping in more than this per second is under pressure"},
    {"balloon", "guest_majflt", CT_U64, B(guest_majflt_s), 0, 0, 100000000, NULL,
     "a guest with more major faults per second than this is under pressure"},
    {"balloon", "min_step", CT_SIZE, B(min_step_kib), 0, 0, 1024ULL * 1024 * 1024, NULL,
     "deadband: balloon changes smaller than this are not made"},
    {"balloon", "max_step", CT_SIZE, B(max_step_kib), 0, 1024, 1024ULL * 1024 * 1024, NULL,
     "largest shrink of one guest per cycle"},
    {"balloon", "floor", CT_GSIZE, B(floor), 0, 0, 0, NULL,
     "default floor (size, or percent of the guest's max memory)"},
    {"balloon", "shares", CT_U64, B(shares), 0, 1, 100000, NULL, "default weight of a guest"},
    {"balloon", "max_sets_per_cycle", CT_U64, B(max_sets_per_cycle), 0, 1, 10000, NULL,
     "balloon changes per cycle, all guests together"},
};

static const char *const cfg_sections[] = {"daemon", "ksm", "balloon"};

void cfg_defaults(struct memopt_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));

	cfg->daemon.log_level = LOG_INFO;
	cfg->daemon.dry_run = false;
	cfg->daemon.restore_on_stop = true;
	snprintf(cfg->daemon.socket_path, sizeof(cfg->daemon.socket_path), "%s", MEMOPT_DEFAULT_SOCKET);
	cfg->daemon.admin_group[0] = '\0';
	snprintf(cfg->daemon.state_dir, sizeof(cfg->daemon.state_dir), "%s", MEMOPT_DEFAULT_STATE_DIR);
	snprintf(cfg->daemon.sysfs_root, sizeof(cfg->daemon.sysfs_root), "/sys");
	snprintf(cfg->daemon.procfs_root, sizeof(cfg->daemon.procfs_root), "/proc");
	snprintf(cfg->daemon.ksmtuned_conf, sizeof(cfg->daemon.ksmtuned_conf), "%s",
		 MEMOPT_DEFAULT_KSMTUNED_CONF);

	cfg->ksm.manage = true;
	cfg->ksm.mode = KSM_MODE_AUTO;
	cfg->ksm.rate_control = KSM_RATE_SELF;
	cfg->ksm.interval_ms = 2000;
	cfg->ksm.start_avail = (struct msize){.is_percent = true, .ppm = 200000};
	cfg->ksm.stop_avail = (struct msize){.is_percent = true, .ppm = 300000};
	cfg->ksm.start_psi_ppm = 50000;
	cfg->ksm.stop_psi_ppm = 10000;
	cfg->ksm.stop_hold_ms = 60000;
	cfg->ksm.max_cpu_ppm = 500000;
	cfg->ksm.steady_cpu_ppm = 100000;
	cfg->ksm.burst_cpu_ms = 30000;
	cfg->ksm.min_yield_kib = 16 * 1024;
	cfg->ksm.settled_scan_time_ms = 600000;
	cfg->ksm.sleep_ms = 10;
	cfg->ksm.min_pages_to_scan = 32;
	cfg->ksm.max_pages_to_scan = 20000;
	cfg->ksm.smart_scan = TRI_AUTO;
	cfg->ksm.use_zero_pages = TRI_KEEP;
	cfg->ksm.advisor_target_scan_ms = 60000;

	cfg->balloon.manage = false;
	snprintf(cfg->balloon.uri, sizeof(cfg->balloon.uri), "%s", MEMOPT_DEFAULT_LIBVIRT_URI);
	cfg->balloon.interval_ms = 5000;
	cfg->balloon.stats_period_ms = 2000;
	cfg->balloon.host_min_avail = (struct msize){.is_percent = true, .ppm = 150000};
	cfg->balloon.host_release_avail = (struct msize){.is_percent = true, .ppm = 250000};
	cfg->balloon.host_psi_ppm = 100000;
	cfg->balloon.guest_margin = (struct msize){.is_percent = true, .ppm = 100000};
	cfg->balloon.guest_low_usable_kib = 64 * 1024;
	cfg->balloon.guest_swapin_kib_s = 1024;
	cfg->balloon.guest_majflt_s = 100;
	cfg->balloon.min_step_kib = 32 * 1024;
	cfg->balloon.max_step_kib = 512 * 1024;
	cfg->balloon.floor = (struct msize){.is_percent = true, .ppm = 500000};
	cfg->balloon.shares = 1000;
	cfg->balloon.max_sets_per_cycle = 8;
	cfg->balloon.nvm = 0;
}

/* Enum fields are C enums or ints; both are int-sized here (checked below). */
_Static_assert(sizeof(enum ksm_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ksm_rate_control) == sizeof(int), "enum size");
_Static_assert(sizeof(enum tristate) == sizeof(int), "enum size");

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

static const char *fmt_pct(uint64_t ppm, char *buf, size_t len)
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
		snprintf(buf, len, "%s..%s", fmt_pct(k->min, a, sizeof(a)), fmt_pct(k->max, b, sizeof(b)));
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
	case CT_DURATION:
		return unit_format_duration(*(const uint64_t *)cfield(cfg, k), buf, len);
	case CT_PERCENT:
		return fmt_pct(*(const uint32_t *)cfield(cfg, k), buf, len);
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

	for (i = 0; i < ELEMENTSOF(cfg_sections); i++)
		if (strcmp(cfg_sections[i], name) == 0)
			return true;
	return false;
}

static int find_key(const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < ELEMENTSOF(cfg_keys); i++)
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
	unsigned set_on[ELEMENTSOF(cfg_keys)];
	unsigned vm_line[CFG_VM_MAX];           /* 0 = rule from an earlier layer */
	unsigned vm_set_on[CFG_VM_MAX][3];      /* floor, shares, manage */
};

#define V(f) offsetof(struct cfg_vm_rule, f)
/* Keys of a [vm PATTERN] section; offsets are into struct cfg_vm_rule. manage is parsed by hand. */
static const struct cfg_key vm_keys[] = {
    {"vm", "floor", CT_GSIZE, V(floor), 0, 0, 0, NULL,
     "floor of matching domains (size, or percent of the domain's max memory)"},
    {"vm", "shares", CT_U64, V(shares), 0, 1, 100000, NULL, "weight of matching domains"},
    {"vm", "manage", CT_BOOL, V(manage), 0, 0, 0, NULL, "no = never change matching domains"},
};
#undef V

/* A vm_keys entry turned into a key of the whole config, for set_value() and friends. */
static struct cfg_key vm_key_at(size_t key, size_t rule)
{
	struct cfg_key k = vm_keys[key];

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

	for (i = 0; i < ELEMENTSOF(vm_keys); i++)
		if (strcmp(vm_keys[i].key, key) == 0)
			break;
	if (i == ELEMENTSOF(vm_keys))
		FAIL("unknown key '%s' in section [vm %s]", key, r->pattern);
	if (ps->vm_set_on[ps->vm][i])
		FAIL("[vm %s] %s: duplicate key (first set on line %u)", r->pattern, key, ps->vm_set_on[ps->vm][i]);
	if (!*val)
		FAIL("[vm %s] %s: empty value", r->pattern, key);
	if (strcmp(key, "manage") == 0) {
		if (unit_parse_bool(val, &b) < 0)
			FAIL("[vm %s] manage: invalid value '%s' (expected yes or no)", r->pattern, val);
		r->manage = b ? TRI_YES : TRI_NO;
	} else {
		struct cfg_key k = vm_key_at(i, (size_t)ps->vm);

		if (set_value(cfg, &k, val) < 0) {
			expected_text(&k, exp, sizeof(exp));
			FAIL("[vm %s] %s: invalid value '%s' (expected %s)", r->pattern, key, val, exp);
		}
		if (strcmp(key, "floor") == 0)
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
	_cleanup_free_ struct parse_state *ps = calloc(1, sizeof(*ps));
	char line[CFG_LINE_MAX + 2];
	unsigned lineno = 0;
	size_t pos = 0;
	int r;

	if (!ps) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	ps->vm = -1;
	while (pos < len) {
		const char *start = text + pos, *nl = memchr(start, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - start) : len - pos;

		lineno++;
		pos += l + (nl ? 1 : 0);
		if (l > CFG_LINE_MAX)
			FAIL("line too long (%zu characters, at most %d)", l, CFG_LINE_MAX);
		if (memchr(start, '\0', l))
			FAIL("NUL byte in line");
		memcpy(line, start, l);
		line[l] = '\0';
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
	size_t len = 0;
	ssize_t n;

	/* O_NONBLOCK: a FIFO at the path must not hang start-up; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int r = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -EINVAL;
	}
	buf = malloc(CFG_FILE_MAX + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	/* Read up to one byte past the limit to tell "exactly at the limit" from "too big". */
	while (len <= CFG_FILE_MAX) {
		n = read(fd, buf + len, CFG_FILE_MAX + 1 - len);
		if (n < 0) {
			int r;
			if (errno == EINTR)
				continue;
			r = -errno;
			snprintf(err, errlen, "%s: read failed: %s", path, strerror(-r));
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CFG_FILE_MAX) {
		snprintf(err, errlen, "%s: file too large (more than %d bytes)", path, CFG_FILE_MAX);
		return -EFBIG;
	}
	return parse_buffer(path, buf, len, cfg, err, errlen);
}

static const char *cfg_name_of(const struct memopt_config *cfg)
{
	return cfg->path[0] ? cfg->path : "(built-in defaults)";
}

static int validate_balloon(const struct memopt_config *cfg, const char *name, char *err, size_t errlen)
{
	const struct cfg_balloon *b = &cfg->balloon;
	char a[64], c[64];
	size_t i;

	if (b->host_min_avail.is_percent == b->host_release_avail.is_percent &&
	    (b->host_min_avail.is_percent ? b->host_release_avail.ppm <= b->host_min_avail.ppm
					  : b->host_release_avail.kib <= b->host_min_avail.kib)) {
		snprintf(err, errlen, "%s: [balloon] host_release_avail (%s) must be above host_min_avail (%s)",
			 name, unit_format_msize(&b->host_release_avail, a, sizeof(a)),
			 unit_format_msize(&b->host_min_avail, c, sizeof(c)));
		return -EINVAL;
	}
	if (b->min_step_kib > b->max_step_kib) {
		snprintf(err, errlen, "%s: [balloon] min_step (%s) must not be above max_step (%s)", name,
			 unit_format_kib(b->min_step_kib, a, sizeof(a)), unit_format_kib(b->max_step_kib, c, sizeof(c)));
		return -EINVAL;
	}
	/* libvirt takes the period in whole seconds. */
	if (b->stats_period_ms % 1000) {
		snprintf(err, errlen, "%s: [balloon] stats_period (%s) must be whole seconds", name,
			 unit_format_duration(b->stats_period_ms, a, sizeof(a)));
		return -EINVAL;
	}
	if (b->nvm > CFG_VM_MAX) {
		snprintf(err, errlen, "%s: more than %d [vm] sections", name, CFG_VM_MAX);
		return -EINVAL;
	}
	for (i = 0; i < b->nvm; i++) {
		const struct cfg_vm_rule *r = &b->vm[i];

		if (!r->pattern[0] || strnlen(r->pattern, sizeof(r->pattern)) >= sizeof(r->pattern))
			snprintf(err, errlen, "%s: [vm] section %zu has no valid pattern", name, i + 1);
		else if (r->has_floor && r->floor.is_percent && r->floor.ppm > 1000000)
			snprintf(err, errlen, "%s: [vm %s] floor: value '%s' out of range", name, r->pattern,
				 unit_format_msize(&r->floor, a, sizeof(a)));
		else if (r->shares > 100000)
			snprintf(err, errlen, "%s: [vm %s] shares: value '%llu' out of range (expected 1..100000)",
				 name, r->pattern, (unsigned long long)r->shares);
		else if (r->manage != TRI_KEEP && r->manage != TRI_YES && r->manage != TRI_NO)
			snprintf(err, errlen, "%s: [vm %s] manage: invalid value", name, r->pattern);
		else
			continue;
		return -EINVAL;
	}
	return 0;
}

int cfg_validate(const struct memopt_config *cfg, char *err, size_t errlen)
{
	const struct cfg_ksm *k = &cfg->ksm;
	const char *name = cfg_name_of(cfg);
	char a[64], b[64], exp[160];
	size_t i;

	/* Values that did not come through the parser (built-in, imported) are range-checked here too. */
	for (i = 0; i < ELEMENTSOF(cfg_keys); i++) {
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

	/* Hysteresis needs stop above start; mixed absolute/percent can only be compared against MemTotal,
	 * which is the daemon's business at run time. */
	if (k->start_avail.is_percent == k->stop_avail.is_percent &&
	    (k->start_avail.is_percent ? k->stop_avail.ppm <= k->start_avail.ppm
				       : k->stop_avail.kib <= k->start_avail.kib)) {
		snprintf(err, errlen, "%s: [ksm] stop_avail (%s) must be above start_avail (%s)", name,
			 unit_format_msize(&k->stop_avail, a, sizeof(a)),
			 unit_format_msize(&k->start_avail, b, sizeof(b)));
		return -EINVAL;
	}
	if (k->stop_psi_ppm > k->start_psi_ppm) {
		snprintf(err, errlen, "%s: [ksm] stop_psi (%s) must not be above start_psi (%s)", name,
			 fmt_pct(k->stop_psi_ppm, a, sizeof(a)), fmt_pct(k->start_psi_ppm, b, sizeof(b)));
		return -EINVAL;
	}
	if (k->steady_cpu_ppm > k->max_cpu_ppm) {
		snprintf(err, errlen,
			 "%s: [ksm] steady_cpu_percent (%s) must not be above max_cpu_percent (%s)", name,
			 fmt_pct(k->steady_cpu_ppm, a, sizeof(a)), fmt_pct(k->max_cpu_ppm, b, sizeof(b)));
		return -EINVAL;
	}
	if (k->min_pages_to_scan > k->max_pages_to_scan) {
		snprintf(err, errlen,
			 "%s: [ksm] min_pages_to_scan (%llu) must not be above max_pages_to_scan (%llu)",
			 name, (unsigned long long)k->min_pages_to_scan,
			 (unsigned long long)k->max_pages_to_scan);
		return -EINVAL;
	}
	return validate_balloon(cfg, name, err, errlen);
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
	for (s = 0; s < ELEMENTSOF(cfg_sections); s++) {
		fprintf(out, "\n[%s]\n", cfg_sections[s]);
		for (i = 0; i < ELEMENTSOF(cfg_keys); i++) {
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
			fprintf(out, "# %s\nfloor = %s\n", vm_keys[0].help, unit_format_msize(&r->floor, buf, sizeof(buf)));
		if (r->shares)
			fprintf(out, "# %s\nshares = %llu\n", vm_keys[1].help, (unsigned long long)r->shares);
		if (r->manage != TRI_KEEP)
			fprintf(out, "# %s\nmanage = %s\n", vm_keys[2].help, r->manage == TRI_NO ? "no" : "yes");
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
