/* ksm_sysfs.c - KSM sysfs knobs and counters: read, validated write with read-back; per-process ksm_stat. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/log.h"
#include "../common/fileio.h"
#include "../common/parse.h"
#include "../common/procs.h"
#include "ksm_sysfs.h"

#define KSM_DIR "kernel/mm/ksm"
#define KSM_VALUE_MAX 128          /* a sysfs value is a number or "[none] scan-time" */
#define KSM_PROC_STAT_MAX 4096
/* For a ksm_stat without ksm_process_profit, the kernel's own formula: merged and zero pages save a
 * page each, every rmap_item costs sizeof(struct ksm_rmap_item) (64 bytes on 64-bit). */
#define KSM_PAGE_BYTES 4096u
#define KSM_RMAP_ITEM_BYTES 64u

/* Table order is enum ksm_field order. min/max: the range the kernel accepts for a knob (checked
 * before any write, so a bad value never reaches the kernel). */
static const struct {
	const char *name;
	bool knob;
	int64_t min, max;
} ksm_fields[KSM_F__MAX] = {
	[KSM_F_RUN] = { "run", true, 0, 2 },
	[KSM_F_PAGES_TO_SCAN] = { "pages_to_scan", true, 0, UINT32_MAX },
	[KSM_F_SLEEP_MILLISECS] = { "sleep_millisecs", true, 0, UINT32_MAX },
	[KSM_F_MERGE_ACROSS_NODES] = { "merge_across_nodes", true, 0, 1 },
	[KSM_F_USE_ZERO_PAGES] = { "use_zero_pages", true, 0, 1 },
	[KSM_F_MAX_PAGE_SHARING] = { "max_page_sharing", true, 2, INT32_MAX },
	[KSM_F_STABLE_NODE_CHAINS_PRUNE_MILLISECS] = { "stable_node_chains_prune_millisecs", true, 0,
						       UINT32_MAX },
	[KSM_F_SMART_SCAN] = { "smart_scan", true, 0, 1 },
	[KSM_F_ADVISOR_MODE] = { "advisor_mode", true, KSM_ADVISOR_NONE, KSM_ADVISOR_SCAN_TIME },
	[KSM_F_ADVISOR_MAX_CPU] = { "advisor_max_cpu", true, 0, 100 },
	[KSM_F_ADVISOR_MIN_PAGES_TO_SCAN] = { "advisor_min_pages_to_scan", true, 0, INT64_MAX },
	[KSM_F_ADVISOR_MAX_PAGES_TO_SCAN] = { "advisor_max_pages_to_scan", true, 0, INT64_MAX },
	[KSM_F_ADVISOR_TARGET_SCAN_TIME] = { "advisor_target_scan_time", true, 1, INT64_MAX },
	[KSM_F_PAGES_SHARED] = { "pages_shared", false, 0, 0 },
	[KSM_F_PAGES_SHARING] = { "pages_sharing", false, 0, 0 },
	[KSM_F_PAGES_UNSHARED] = { "pages_unshared", false, 0, 0 },
	[KSM_F_PAGES_VOLATILE] = { "pages_volatile", false, 0, 0 },
	[KSM_F_PAGES_SCANNED] = { "pages_scanned", false, 0, 0 },
	[KSM_F_PAGES_SKIPPED] = { "pages_skipped", false, 0, 0 },
	[KSM_F_FULL_SCANS] = { "full_scans", false, 0, 0 },
	[KSM_F_STABLE_NODE_CHAINS] = { "stable_node_chains", false, 0, 0 },
	[KSM_F_STABLE_NODE_DUPS] = { "stable_node_dups", false, 0, 0 },
	[KSM_F_KSM_ZERO_PAGES] = { "ksm_zero_pages", false, 0, 0 },
	[KSM_F_GENERAL_PROFIT] = { "general_profit", false, 0, 0 },
};

static bool ksm_field_valid(enum ksm_field f) { return (unsigned)f < KSM_F__MAX; }

const char *ksm_field_name(enum ksm_field f) { return ksm_field_valid(f) ? ksm_fields[f].name : NULL; }

bool ksm_field_is_knob(enum ksm_field f) { return ksm_field_valid(f) && ksm_fields[f].knob; }

int ksm_field_from_name(const char *name)
{
	if (!name)
		return -ENOENT;
	for (int i = 0; i < KSM_F__MAX; i++)
		if (strcmp(ksm_fields[i].name, name) == 0)
			return i;
	return -ENOENT;
}

static bool ksm_blank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

/* Strict decimal, optionally negative, the whole range [p, end) (already trimmed), within int64. */
static int ksm_parse_i64(const char *p, const char *end, bool allow_neg, int64_t *ret)
{
	const char *next;
	int64_t v;

	if (!allow_neg && p < end && *p == '-')
		return -EBADMSG;
	if (prs_i64(p, end, &v, &next) < 0 || next != end)
		return -EBADMSG;
	*ret = v;
	return 0;
}

const char *ksm_advisor_mode_name(int64_t v) { return v == KSM_ADVISOR_SCAN_TIME ? "scan-time" : "none"; }

/* Pure: one sysfs value. advisor_mode is "[none] scan-time" from the kernel, or a bare word (what a
 * plain file holds after we wrote it, in a fixture). */
int ksm_parse_field_value(enum ksm_field f, const char *buf, size_t len, int64_t *ret)
{
	const char *p = buf, *end = buf + len;

	if (!ksm_field_valid(f))
		return -EINVAL;
	while (p < end && ksm_blank(*p))
		p++;
	while (end > p && ksm_blank(end[-1]))
		end--;
	if (f != KSM_F_ADVISOR_MODE)
		return ksm_parse_i64(p, end, f == KSM_F_GENERAL_PROFIT, ret);

	const char *open = memchr(p, '[', (size_t)(end - p));
	if (open) {
		const char *close = memchr(open, ']', (size_t)(end - open));
		if (!close || memchr(close, '[', (size_t)(end - close)))
			return -EBADMSG;
		p = open + 1;
		end = close;
	}
	size_t n = (size_t)(end - p);
	for (int64_t m = KSM_ADVISOR_NONE; m <= KSM_ADVISOR_SCAN_TIME; m++) {
		const char *word = ksm_advisor_mode_name(m);
		if (strlen(word) == n && memcmp(p, word, n) == 0) {
			*ret = m;
			return 0;
		}
	}
	return -EBADMSG;
}

static int ksm_field_path(char *buf, size_t size, const char *sysfs_root, enum ksm_field f)
{
	int n = snprintf(buf, size, "%s/" KSM_DIR "/%s", sysfs_root, ksm_fields[f].name);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static int ksm_read_path(const char *path, enum ksm_field f, int64_t *ret)
{
	char buf[KSM_VALUE_MAX];
	size_t len;
	bool full;
	int r;

	r = fio_read_capped(path, buf, sizeof(buf), &len, &full);
	if (r < 0)
		return r;
	if (full)
		return -EBADMSG;
	return ksm_parse_field_value(f, buf, len, ret);
}

int ksm_read_field(const char *sysfs_root, enum ksm_field f, int64_t *ret)
{
	char path[PATH_MAX];
	int r;

	if (!ksm_field_valid(f))
		return -EINVAL;
	r = ksm_field_path(path, sizeof(path), sysfs_root, f);
	if (r < 0)
		return r;
	return ksm_read_path(path, f, ret);
}

int ksm_read(const char *sysfs_root, struct ksm_state *ret)
{
	struct ksm_state s = { .present = true };
	char path[PATH_MAX];
	struct stat sb;
	int n;

	n = snprintf(path, sizeof(path), "%s/" KSM_DIR, sysfs_root);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	if (stat(path, &sb) < 0)
		return -errno;
	if (!S_ISDIR(sb.st_mode))
		return -ENOTDIR;

	for (int f = 0; f < KSM_F__MAX; f++) {
		int64_t v;
		int r = ksm_field_path(path, sizeof(path), sysfs_root, (enum ksm_field)f);
		if (r == 0)
			r = ksm_read_path(path, (enum ksm_field)f, &v);
		if (r == -ENOENT)
			continue; /* an older kernel: not every file exists */
		if (r < 0) {
			log_debug("cannot use '%s', ignoring: %s", path, strerror(-r));
			continue;
		}
		s.v[f] = v;
		s.have |= 1u << f;
	}
	*ret = s;
	return 0;
}

int ksm_write_knob(const char *sysfs_root, enum ksm_field f, int64_t value, bool dry_run)
{
	char path[PATH_MAX], buf[32];
	int64_t back;
	int r, n;

	if (!ksm_field_valid(f))
		return -EINVAL;
	if (!ksm_fields[f].knob)
		return -EPERM;
	r = ksm_field_path(path, sizeof(path), sysfs_root, f);
	if (r < 0)
		return r;
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? -EOPNOTSUPP : -errno;
	/* ours, not the kernel's refusal: the value is outside what this knob accepts */
	if (value < ksm_fields[f].min || value > ksm_fields[f].max)
		return -ERANGE;
	if (dry_run)
		return 0;

	if (f == KSM_F_ADVISOR_MODE)
		n = snprintf(buf, sizeof(buf), "%s", ksm_advisor_mode_name(value));
	else
		n = snprintf(buf, sizeof(buf), "%" PRId64, value);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;

	{
		/* O_TRUNC is ignored by sysfs but keeps a plain file (a fixture) honest */
		_cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return -errno;
		ssize_t w;
		do
			w = write(fd, buf, (size_t)n);
		while (w < 0 && errno == EINTR);
		/* sysfs reports the knob's verdict (EINVAL, EBUSY, ...) as the write's error */
		if (w < 0)
			return -errno;
		if (w != n)
			return -EIO;
	}

	r = ksm_read_path(path, f, &back);
	if (r < 0)
		return r;
	if (back != value) {
		log_debug("'%s' reads back %" PRId64 " after writing %" PRId64, path, back, value);
		return -EIO;
	}
	return 0;
}

static int64_t ksm_profit(uint64_t merging, uint64_t zero, uint64_t rmap)
{
	uint64_t pages, gain, cost;

	if (__builtin_add_overflow(merging, zero, &pages) ||
	    __builtin_mul_overflow(pages, KSM_PAGE_BYTES, &gain))
		gain = UINT64_MAX;
	if (__builtin_mul_overflow(rmap, KSM_RMAP_ITEM_BYTES, &cost))
		cost = UINT64_MAX;
	if (gain >= cost)
		return gain - cost > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(gain - cost);
	return cost - gain > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)(cost - gain);
}

enum {
	KSM_SEEN_RMAP = 1 << 0,
	KSM_SEEN_ZERO = 1 << 1,
	KSM_SEEN_MERGING = 1 << 2,
	KSM_SEEN_PROFIT = 1 << 3,
	KSM_SEEN_MERGE_ANY = 1 << 4,
	KSM_SEEN_MERGEABLE = 1 << 5,
};

static int ksm_parse_yes_no(const char *p, const char *end, int *ret)
{
	size_t n = (size_t)(end - p);
	if (n == 3 && memcmp(p, "yes", 3) == 0)
		*ret = 1;
	else if (n == 2 && memcmp(p, "no", 2) == 0)
		*ret = 0;
	else
		return -EBADMSG;
	return 0;
}

/* ksm_stat without computing the profit; *ret_seen says which lines were there. Lines look like
 * "ksm_rmap_items 12" or "ksm_merge_any: yes"; unknown lines are skipped (newer kernels). */
static int ksm_parse_proc_stat_seen(const char *buf, size_t len, struct ksm_proc_stat *ret,
				    unsigned *ret_seen)
{
	static const struct {
		const char *key;
		unsigned bit;
	} keys[] = {
		{ "ksm_rmap_items", KSM_SEEN_RMAP },         { "ksm_zero_pages", KSM_SEEN_ZERO },
		{ "ksm_merging_pages", KSM_SEEN_MERGING },   { "ksm_process_profit", KSM_SEEN_PROFIT },
		{ "ksm_merge_any", KSM_SEEN_MERGE_ANY },     { "ksm_mergeable", KSM_SEEN_MERGEABLE },
	};
	struct ksm_proc_stat st = { .has_stat = true, .merge_any = -1, .mergeable = -1 };
	struct prs_line l;
	size_t pos = 0;
	unsigned seen = 0;

	if (!buf)
		return -EBADMSG;
	while (prs_next_line(buf, len, &pos, &l)) {
		const char *k = l.p, *lend = l.p + l.len, *p = k;
		unsigned bit = 0;
		int64_t v = 0;

		while (p < lend && *p != ':' && *p != ' ')
			p++;
		size_t klen = (size_t)(p - k);
		for (size_t i = 0; i < ELEMENTSOF(keys); i++)
			if (strlen(keys[i].key) == klen && memcmp(keys[i].key, k, klen) == 0)
				bit = keys[i].bit;
		if (!bit)
			continue;
		/* a line the buffer ends in without '\n' may have been cut short */
		if (!l.complete)
			return -EBADMSG;
		if (p < lend && *p == ':')
			p++;
		while (p < lend && (*p == ' ' || *p == '\t'))
			p++;
		while (lend > p && (lend[-1] == ' ' || lend[-1] == '\t'))
			lend--;
		int r;
		if (bit == KSM_SEEN_MERGE_ANY)
			r = ksm_parse_yes_no(p, lend, &st.merge_any);
		else if (bit == KSM_SEEN_MERGEABLE)
			r = ksm_parse_yes_no(p, lend, &st.mergeable);
		else
			r = ksm_parse_i64(p, lend, bit == KSM_SEEN_PROFIT, &v);
		if (r < 0)
			return -EBADMSG;
		if (bit == KSM_SEEN_RMAP)
			st.rmap_items = (uint64_t)v;
		else if (bit == KSM_SEEN_ZERO)
			st.zero_pages = (uint64_t)v;
		else if (bit == KSM_SEEN_MERGING)
			st.merging_pages = (uint64_t)v;
		else if (bit == KSM_SEEN_PROFIT)
			st.profit_bytes = v;
		seen |= bit;
	}
	if (!seen)
		return -EBADMSG;
	*ret = st;
	*ret_seen = seen;
	return 0;
}

int ksm_parse_proc_stat(const char *buf, size_t len, struct ksm_proc_stat *ret)
{
	struct ksm_proc_stat st;
	unsigned seen;
	int r;

	r = ksm_parse_proc_stat_seen(buf, len, &st, &seen);
	if (r < 0)
		return r;
	if (!(seen & KSM_SEEN_PROFIT))
		st.profit_bytes = ksm_profit(st.merging_pages, st.zero_pages, st.rmap_items);
	*ret = st;
	return 0;
}

int ksm_read_proc(const char *procfs_root, pid_t pid, struct ksm_proc_stat *ret)
{
	struct ksm_proc_stat st = { .merge_any = -1, .mergeable = -1 };
	char path[PATH_MAX], buf[KSM_PROC_STAT_MAX];
	unsigned seen = 0;
	size_t len;
	bool full;
	int r;

	r = proc_pid_path(path, sizeof(path), procfs_root, pid, "ksm_stat");
	if (r < 0)
		return r;
	r = fio_read_capped(path, buf, sizeof(buf), &len, &full);
	if (r == 0) {
		if (full)
			return -EBADMSG;
		r = ksm_parse_proc_stat_seen(buf, len, &st, &seen);
		if (r < 0)
			return r;
	} else if (r != -ENOENT) {
		return r;
	}

	/* 6.1's ksm_stat has only ksm_rmap_items; ksm_merging_pages (5.19+) fills the gap */
	if (!(seen & KSM_SEEN_MERGING)) {
		int64_t v;
		r = proc_pid_path(path, sizeof(path), procfs_root, pid, "ksm_merging_pages");
		if (r < 0)
			return r;
		r = fio_read_capped(path, buf, sizeof(buf), &len, &full);
		if (r == 0 && !full) {
			const char *p = buf, *end = buf + len;
			while (end > p && ksm_blank(end[-1]))
				end--;
			r = ksm_parse_i64(p, end, false, &v);
			if (r < 0)
				return r;
			st.merging_pages = (uint64_t)v;
		} else if (r == 0) {
			return -EBADMSG;
		} else if (!st.has_stat) {
			return r;
		}
	}
	if (!(seen & KSM_SEEN_PROFIT))
		st.profit_bytes = ksm_profit(st.merging_pages, st.zero_pages, st.rmap_items);
	*ret = st;
	return 0;
}

static int ksm_cmp_entry(const void *a, const void *b)
{
	pid_t x = ((const struct ksm_proc_entry *)a)->pid, y = ((const struct ksm_proc_entry *)b)->pid;
	return (x > y) - (x < y);
}

int ksm_list_procs(const char *procfs_root, struct ksm_proc_entry *ret, size_t max)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	size_t n = 0;

	if (!ret && max > 0)
		return -EINVAL;
	d = opendir(procfs_root);
	if (!d)
		return -errno;
	while (n < max && (errno = 0, de = readdir(d))) {
		struct ksm_proc_stat st;
		struct proc_stat ps;
		pid_t pid;

		if (!proc_name_to_pid(de->d_name, &pid))
			continue;
		/* gone, no permission, kernel without the files: not this caller's problem */
		if (ksm_read_proc(procfs_root, pid, &st) < 0)
			continue;
		if (st.merging_pages == 0 && st.zero_pages == 0 && st.rmap_items == 0 && st.mergeable != 1)
			continue;
		struct ksm_proc_entry *e = &ret[n++];
		memset(e, 0, sizeof(*e));
		e->pid = pid;
		e->st = st;
		if (proc_read_stat(procfs_root, pid, &ps) == 0)
			snprintf(e->comm, sizeof(e->comm), "%s", ps.comm);
	}
	if (n < max && errno != 0)
		return -errno;
	if (n > 1)
		qsort(ret, n, sizeof(*ret), ksm_cmp_entry);
	if (n > INT_MAX)
		return INT_MAX;
	return (int)n;
}
