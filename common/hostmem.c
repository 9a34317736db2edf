/* hostmem.c - host meminfo/vmstat (libproc2 on the real /proc, own parsers elsewhere) and memory PSI. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libproc2/meminfo.h>
#include <libproc2/vmstat.h>

#include "cleanup.h"
#include "hostmem.h"
#include "fileio.h"
#include "log.h"
#include "parse.h"

/* /proc/meminfo is ~1.5 KiB and /proc/vmstat ~6 KiB; anything much bigger is not what we expect. */
#define HM_FILE_MAX (256 * 1024)
#define HM_PSI_MAX 4096

static const char *hm_skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* path, at most cap bytes, into a malloc'ed NUL-terminated buffer. A larger file is not what we
 * expect: -EBADMSG. Otherwise 0 or fio's -errno. */
static int hm_read_text(const char *path, size_t cap, char **ret_buf, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	bool full;
	int r = fio_read_alloc(path, cap, &buf, &len, &full);

	if (r < 0)
		return r;
	if (full)
		return -EBADMSG;
	*ret_buf = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* One line of a "key<sep>value[ unit]" file, without its '\n'; complete is false for a last line
 * the file ended in the middle of. */
struct hm_line {
	const char *key, *key_end, *rest, *end;
	bool complete;
};

/* Iterate lines of buf[0..len), each split at its first sep. Returns 1 with *l filled, 0 at the end. */
static int hm_next_line(const char *buf, size_t len, size_t *pos, struct hm_line *l, char sep)
{
	struct prs_line pl;

	if (!prs_next_line(buf, len, pos, &pl))
		return 0;
	l->complete = pl.complete;
	l->key = pl.p;
	l->end = pl.p + pl.len;
	const char *s = memchr(pl.p, sep, pl.len);
	l->key_end = s ? s : l->end;
	l->rest = s ? s + 1 : l->end;
	return 1;
}

static bool hm_key_is(const struct hm_line *l, const char *name)
{
	size_t n = strlen(name);
	return (size_t)(l->key_end - l->key) == n && memcmp(l->key, name, n) == 0;
}

struct hm_mi_key {
	const char *name;
	size_t off;
	bool kib;        /* "NNN kB" rather than a bare count */
	bool required;
};

static const struct hm_mi_key hm_mi_keys[] = {
	{ "MemTotal", offsetof(struct host_mem, total_kib), true, true },
	{ "MemFree", offsetof(struct host_mem, free_kib), true, false },
	{ "MemAvailable", offsetof(struct host_mem, avail_kib), true, true },
	{ "Buffers", offsetof(struct host_mem, buffers_kib), true, false },
	{ "Cached", offsetof(struct host_mem, cached_kib), true, false },
	{ "Shmem", offsetof(struct host_mem, shmem_kib), true, false },
	{ "AnonPages", offsetof(struct host_mem, anon_kib), true, false },
	{ "SwapTotal", offsetof(struct host_mem, swap_total_kib), true, false },
	{ "SwapFree", offsetof(struct host_mem, swap_free_kib), true, false },
	{ "HugePages_Total", offsetof(struct host_mem, hugepages_total), false, false },
	{ "HugePages_Free", offsetof(struct host_mem, hugepages_free), false, false },
	{ "Hugepagesize", offsetof(struct host_mem, hugepage_size_kib), true, false },
};

/* Pure: parse meminfo text. Unknown keys and lines without ':' are skipped; a key we use must have a
 * complete line with a decimal value and the right unit. */
int hm_parse_meminfo_text(const char *buf, size_t len, struct host_mem *ret)
{
	struct host_mem m = { 0 };
	bool seen[ELEMENTSOF(hm_mi_keys)] = { false };
	struct hm_line l;
	size_t pos = 0;

	while (hm_next_line(buf, len, &pos, &l, ':')) {
		const struct hm_mi_key *k = NULL;
		size_t i;
		for (i = 0; i < ELEMENTSOF(hm_mi_keys); i++)
			if (hm_key_is(&l, hm_mi_keys[i].name)) {
				k = &hm_mi_keys[i];
				break;
			}
		if (!k)
			continue;
		if (!l.complete || l.key_end == l.end)
			return -EBADMSG;
		uint64_t v;
		const char *p = hm_skip_blanks(l.rest, l.end);
		if (prs_u64(p, l.end, &v, &p) < 0)
			return -EBADMSG;
		p = hm_skip_blanks(p, l.end);
		if (k->kib) {
			if (l.end - p < 2 || memcmp(p, "kB", 2) != 0)
				return -EBADMSG;
			p = hm_skip_blanks(p + 2, l.end);
		}
		if (p != l.end)
			return -EBADMSG;
		*(uint64_t *)((char *)&m + k->off) = v;
		seen[i] = true;
	}
	for (size_t i = 0; i < ELEMENTSOF(hm_mi_keys); i++)
		if (hm_mi_keys[i].required && !seen[i])
			return -EBADMSG;
	*ret = m;
	return 0;
}

int hm_parse_meminfo_file(const char *path, struct host_mem *ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = hm_read_text(path, HM_FILE_MAX, &buf, &len);

	if (r < 0)
		return r;
	return hm_parse_meminfo_text(buf, len, ret);
}

/* Which vmstat keys we read, and where they go. */
enum { HM_VS_PSWPIN, HM_VS_PSWPOUT, HM_VS_PGMAJFAULT, HM_VS_COW_KSM, HM_VS_KSM_SWPIN_COPY, HM_VS__MAX };
static const char *const hm_vs_keys[HM_VS__MAX] = {
	[HM_VS_PSWPIN] = "pswpin",
	[HM_VS_PSWPOUT] = "pswpout",
	[HM_VS_PGMAJFAULT] = "pgmajfault",
	[HM_VS_COW_KSM] = "cow_ksm",
	[HM_VS_KSM_SWPIN_COPY] = "ksm_swpin_copy",
};

/* Pure: parse vmstat text into v[] with seen[] flags. pgmajfault is required. */
static int hm_parse_vmstat(const char *buf, size_t len, uint64_t v[HM_VS__MAX], bool seen[HM_VS__MAX])
{
	struct hm_line l;
	size_t pos = 0;

	memset(seen, 0, sizeof(bool) * HM_VS__MAX);
	memset(v, 0, sizeof(uint64_t) * HM_VS__MAX);
	while (hm_next_line(buf, len, &pos, &l, ' ')) {
		int k = -1;
		for (int i = 0; i < HM_VS__MAX; i++)
			if (hm_key_is(&l, hm_vs_keys[i])) {
				k = i;
				break;
			}
		if (k < 0)
			continue;
		if (!l.complete || l.key_end == l.end)
			return -EBADMSG;
		const char *p;
		if (prs_u64(l.rest, l.end, &v[k], &p) < 0 || hm_skip_blanks(p, l.end) != l.end)
			return -EBADMSG;
		seen[k] = true;
	}
	if (!seen[HM_VS_PGMAJFAULT])
		return -EBADMSG;
	return 0;
}

static int hm_parse_vmstat_keys(const char *path, uint64_t v[HM_VS__MAX], bool seen[HM_VS__MAX])
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = hm_read_text(path, HM_FILE_MAX, &buf, &len);

	if (r < 0)
		return r;
	return hm_parse_vmstat(buf, len, v, seen);
}

static void hm_vmstat_fill(const uint64_t v[HM_VS__MAX], const bool seen[HM_VS__MAX], struct host_vmstat *ret)
{
	*ret = (struct host_vmstat){
		.pswpin = v[HM_VS_PSWPIN],
		.pswpout = v[HM_VS_PSWPOUT],
		.pgmajfault = v[HM_VS_PGMAJFAULT],
		.cow_ksm = v[HM_VS_COW_KSM],
		.ksm_swpin_copy = v[HM_VS_KSM_SWPIN_COPY],
		.has_cow_ksm = seen[HM_VS_COW_KSM],
	};
}

int hm_parse_vmstat_text(const char *buf, size_t len, struct host_vmstat *ret)
{
	uint64_t v[HM_VS__MAX];
	bool seen[HM_VS__MAX];
	int r = hm_parse_vmstat(buf, len, v, seen);
	if (r < 0)
		return r;
	hm_vmstat_fill(v, seen, ret);
	return 0;
}

int hm_parse_vmstat_file(const char *path, struct host_vmstat *ret)
{
	uint64_t v[HM_VS__MAX];
	bool seen[HM_VS__MAX];
	int r = hm_parse_vmstat_keys(path, v, seen);
	if (r < 0)
		return r;
	hm_vmstat_fill(v, seen, ret);
	return 0;
}

static bool hm_is_host_proc(const char *procfs_root) { return strcmp(procfs_root, "/proc") == 0; }

static int hm_path(char *buf, size_t size, const char *root, const char *rel)
{
	int n = snprintf(buf, size, "%s/%s", root, rel);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static void hm_meminfo_unrefp(struct meminfo_info **p)
{
	if (*p)
		procps_meminfo_unref(p);
}

static void hm_vmstat_unrefp(struct vmstat_info **p)
{
	if (*p)
		procps_vmstat_unref(p);
}

/* libproc2 backend. One select() is one read of /proc/meminfo, so the values are one snapshot. */
static int hm_meminfo_libproc2(struct host_mem *ret)
{
	static const struct {
		enum meminfo_item item;
		size_t off;
	} map[] = {
		{ MEMINFO_MEM_TOTAL, offsetof(struct host_mem, total_kib) },
		{ MEMINFO_MEM_FREE, offsetof(struct host_mem, free_kib) },
		{ MEMINFO_MEM_AVAILABLE, offsetof(struct host_mem, avail_kib) },
		{ MEMINFO_MEM_BUFFERS, offsetof(struct host_mem, buffers_kib) },
		{ MEMINFO_MEM_CACHED, offsetof(struct host_mem, cached_kib) },
		{ MEMINFO_MEM_SHARED, offsetof(struct host_mem, shmem_kib) },
		{ MEMINFO_MEM_ANON, offsetof(struct host_mem, anon_kib) },
		{ MEMINFO_SWAP_TOTAL, offsetof(struct host_mem, swap_total_kib) },
		{ MEMINFO_SWAP_FREE, offsetof(struct host_mem, swap_free_kib) },
		{ MEMINFO_MEM_HUGE_TOTAL, offsetof(struct host_mem, hugepages_total) },
		{ MEMINFO_MEM_HUGE_FREE, offsetof(struct host_mem, hugepages_free) },
		{ MEMINFO_MEM_HUGE_SIZE, offsetof(struct host_mem, hugepage_size_kib) },
	};
	_cleanup_(hm_meminfo_unrefp) struct meminfo_info *info = NULL;
	enum meminfo_item items[ELEMENTSOF(map)];
	struct host_mem m = { 0 };
	int r;

	for (size_t i = 0; i < ELEMENTSOF(map); i++)
		items[i] = map[i].item;
	r = procps_meminfo_new(&info);
	if (r < 0)
		return r;
	errno = 0;
	struct meminfo_stack *st = procps_meminfo_select(info, items, (int)ELEMENTSOF(items));
	if (!st)
		return errno > 0 ? -errno : -EIO;
	for (size_t i = 0; i < ELEMENTSOF(map); i++)
		*(uint64_t *)((char *)&m + map[i].off) = MEMINFO_VAL((int)i, ul_int, st, info);
	if (m.total_kib == 0)
		return -EBADMSG;
	*ret = m;
	return 0;
}

int hm_read_meminfo(const char *procfs_root, struct host_mem *ret)
{
	char path[PATH_MAX];
	int r;

	if (hm_is_host_proc(procfs_root))
		return hm_meminfo_libproc2(ret);
	r = hm_path(path, sizeof(path), procfs_root, "meminfo");
	if (r < 0)
		return r;
	return hm_parse_meminfo_file(path, ret);
}

int hm_read_vmstat(const char *procfs_root, struct host_vmstat *ret)
{
	char path[PATH_MAX];
	int r;

	r = hm_path(path, sizeof(path), procfs_root, "vmstat");
	if (r < 0)
		return r;
	if (!hm_is_host_proc(procfs_root))
		return hm_parse_vmstat_file(path, ret);

	enum vmstat_item items[] = { VMSTAT_PSWPIN, VMSTAT_PSWPOUT, VMSTAT_PGMAJFAULT };
	_cleanup_(hm_vmstat_unrefp) struct vmstat_info *info = NULL;
	r = procps_vmstat_new(&info);
	if (r < 0)
		return r;
	errno = 0;
	struct vmstat_stack *st = procps_vmstat_select(info, items, (int)ELEMENTSOF(items));
	if (!st)
		return errno > 0 ? -errno : -EIO;

	/* libproc2 (4.0.x) has no vmstat_item for cow_ksm or ksm_swpin_copy (both 6.x counters), so
	 * those two come from our own parser of the same file. */
	uint64_t v[HM_VS__MAX];
	bool seen[HM_VS__MAX];
	r = hm_parse_vmstat_keys(path, v, seen);
	if (r < 0)
		return r;
	*ret = (struct host_vmstat){
		.pswpin = VMSTAT_VAL(0, ul_int, st, info),
		.pswpout = VMSTAT_VAL(1, ul_int, st, info),
		.pgmajfault = VMSTAT_VAL(2, ul_int, st, info),
		.cow_ksm = v[HM_VS_COW_KSM],
		.ksm_swpin_copy = v[HM_VS_KSM_SWPIN_COPY],
		.has_cow_ksm = seen[HM_VS_COW_KSM],
	};
	return 0;
}

/* "12.34" (percent, at most 4 decimals, at most 100) -> ppm. */
static int hm_parse_pct_ppm(const char *p, const char *end, uint32_t *ret, const char **ret_next)
{
	uint64_t ip, ppm;
	int r = prs_u64(p, end, &ip, &p);
	if (r < 0 || ip > 100)
		return -EBADMSG;
	ppm = ip * 10000;
	if (p < end && *p == '.') {
		uint64_t scale = 1000;
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return -EBADMSG;
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			if (scale == 0)
				return -EBADMSG;
			ppm += (uint64_t)(*p - '0') * scale;
			scale /= 10;
		}
	}
	if (ppm > 1000000)
		return -EBADMSG;
	*ret = (uint32_t)ppm;
	*ret_next = p;
	return 0;
}

/* Pure: one PSI line after its "some"/"full" word: " avg10=A avg60=B avg300=C total=T". */
static int hm_parse_psi_line(const char *p, const char *end, struct psi_line *ret)
{
	static const char *const tags[] = { " avg10=", " avg60=", " avg300=" };
	uint32_t *dst[] = { &ret->avg10_ppm, &ret->avg60_ppm, &ret->avg300_ppm };

	for (size_t i = 0; i < ELEMENTSOF(tags); i++) {
		size_t n = strlen(tags[i]);
		if ((size_t)(end - p) < n || memcmp(p, tags[i], n) != 0)
			return -EBADMSG;
		if (hm_parse_pct_ppm(p + n, end, dst[i], &p) < 0)
			return -EBADMSG;
	}
	if ((size_t)(end - p) < 7 || memcmp(p, " total=", 7) != 0)
		return -EBADMSG;
	if (prs_u64(p + 7, end, &ret->total_us, &p) < 0)
		return -EBADMSG;
	return hm_skip_blanks(p, end) == end ? 0 : -EBADMSG;
}

/* Pure: both "some" and "full" lines must be there and complete; other lines are ignored. */
int hm_parse_psi_text(const char *buf, size_t len, struct host_psi *ret)
{
	struct host_psi psi = { .available = true };
	bool have_some = false, have_full = false;
	struct hm_line l;
	size_t pos = 0;

	while (hm_next_line(buf, len, &pos, &l, ' ')) {
		struct psi_line *dst;
		if (hm_key_is(&l, "some")) {
			dst = &psi.some;
			have_some = true;
		} else if (hm_key_is(&l, "full")) {
			dst = &psi.full;
			have_full = true;
		} else {
			continue;
		}
		/* the field parser starts at the blank that follows the word */
		if (!l.complete || l.key_end == l.end || hm_parse_psi_line(l.key_end, l.end, dst) < 0)
			return -EBADMSG;
	}
	if (!have_some || !have_full)
		return -EBADMSG;
	*ret = psi;
	return 0;
}

int hm_read_psi(const char *procfs_root, struct host_psi *ret)
{
	_cleanup_free_ char *buf = NULL;
	char path[PATH_MAX];
	size_t len;
	int r;

	r = hm_path(path, sizeof(path), procfs_root, "pressure/memory");
	if (r < 0)
		return r;
	r = hm_read_text(path, HM_PSI_MAX, &buf, &len);
	/* No file: kernel without CONFIG_PSI; EOPNOTSUPP: PSI built in but disabled (psi=0). */
	if (r == -ENOENT || r == -EOPNOTSUPP) {
		log_debug("memory PSI not available at '%s'", path);
		*ret = (struct host_psi){ .available = false };
		return 0;
	}
	if (r < 0)
		return r;
	return hm_parse_psi_text(buf, len, ret);
}
