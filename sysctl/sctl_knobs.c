/* sctl_knobs.c - the managed host knobs (file, type, KVM-host profile value with reason and source) and
 * the pure parsers and checks of knob values and [host] overrides. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sctl_knobs.h"
#include "../common/cleanup.h"
#include "../common/parse.h"
#include "../common/units.h"

#define TUNED "Red Hat tuned profile virtual-host (includes throughput-performance)"
#define THP_DOC "Linux Documentation/admin-guide/mm/transhuge.rst"
#define VM_DOC "Linux Documentation/admin-guide/sysctl/vm.rst"

const struct sctl_knob sctl_knobs[SCTL__FIXED] = {
	[SCTL_SWAPPINESS] = {"vm.swappiness", "swappiness", true, "sys/vm/swappiness", SK_INT, 0, 200, "10",
			     "guest RAM is anonymous memory: prefer dropping host page cache to swapping guests out",
			     TUNED ": vm.swappiness=10", 10},
	[SCTL_ZONE_RECLAIM] = {"vm.zone_reclaim_mode", "zone_reclaim_mode", true, "sys/vm/zone_reclaim_mode", SK_INT,
			       0, 7, SCTL_AUTO,
			       "guests span NUMA nodes: reclaiming on the local node stalls a guest while other nodes "
			       "have free memory; 0 falls back to a remote node instead",
			       VM_DOC " (zone_reclaim_mode); IBM KVM best practices: disable zone reclaim", 20},
	[SCTL_DIRTY_BG_RATIO] = {"vm.dirty_background_ratio", "dirty_background_ratio", true,
				 "sys/vm/dirty_background_ratio", SK_INT, 0, 100, "5",
				 "start background writeback early so guests' writes through the host page cache "
				 "do not pile up into long write bursts",
				 TUNED ": vm.dirty_background_ratio=5", 30},
	[SCTL_THP_ENABLED] = {"thp.enabled", "thp_enabled", false, "kernel/mm/transparent_hugepage/enabled",
			      SK_SELECT, 0, 0, "always",
			      "huge pages for guest RAM cut TLB misses and EPT walks; always also covers guests "
			      "whose QEMU does not madvise",
			      TUNED ": transparent_hugepages=always; Red Hat Virtualization Tuning Guide, THP", 40},
	[SCTL_THP_DEFRAG] = {"thp.defrag", "thp_defrag", false, "kernel/mm/transparent_hugepage/defrag", SK_SELECT,
			     0, 0, "madvise",
			     "only regions that asked for huge pages (QEMU madvises guest RAM) compact memory on "
			     "fault; other host processes never stall in direct compaction",
			     THP_DOC " (defrag, kernel default madvise)", 41},
	[SCTL_KHP_DEFRAG] = {"thp.khugepaged.defrag", "khugepaged_defrag", false,
			     "kernel/mm/transparent_hugepage/khugepaged/defrag", SK_INT, 0, 1, "1",
			     "khugepaged may compact to collapse guest RAM into huge pages in the background",
			     THP_DOC " (khugepaged defrag, kernel default 1)", 42},
	[SCTL_KHP_PAGES_TO_SCAN] = {"thp.khugepaged.pages_to_scan", "khugepaged_pages_to_scan", false,
				    "kernel/mm/transparent_hugepage/khugepaged/pages_to_scan", SK_INT, 1,
				    16 * 1024 * 1024, SCTL_KEEP,
				    "scan rate of khugepaged: no guide gives a KVM value; set it here to manage it",
				    THP_DOC, 43},
	[SCTL_KHP_SCAN_SLEEP] = {"thp.khugepaged.scan_sleep_millisecs", "khugepaged_scan_sleep_millisecs", false,
				 "kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs", SK_INT, 0,
				 24 * 3600 * 1000, SCTL_KEEP,
				 "pause between khugepaged passes: no guide gives a KVM value; set it here to manage it",
				 THP_DOC, 44},
	[SCTL_KHP_ALLOC_SLEEP] = {"thp.khugepaged.alloc_sleep_millisecs", "khugepaged_alloc_sleep_millisecs", false,
				  "kernel/mm/transparent_hugepage/khugepaged/alloc_sleep_millisecs", SK_INT, 0,
				  24 * 3600 * 1000, SCTL_KEEP,
				  "khugepaged back-off after a failed allocation: set it here to manage it", THP_DOC,
				  45},
	[SCTL_KHP_MAX_PTES_NONE] = {"thp.khugepaged.max_ptes_none", "khugepaged_max_ptes_none", false,
				    "kernel/mm/transparent_hugepage/khugepaged/max_ptes_none", SK_INT, 0, 511, SCTL_KEEP,
				    "how many empty small pages a collapse may fill (memory bloat vs huge pages): set "
				    "it here to manage it",
				    THP_DOC, 46},
	[SCTL_KSM_MERGE_ACROSS_NODES] = {"ksm.merge_across_nodes", "ksm_merge_across_nodes", false,
					 "kernel/mm/ksm/merge_across_nodes", SK_INT, 0, 1, SCTL_AUTO,
					 "on a NUMA host a page merged across nodes is remote for every guest but one; 0 "
					 "merges only within a node (one node: left as is, it makes no difference)",
					 "Linux Documentation/admin-guide/mm/ksm.rst (merge_across_nodes); Red Hat "
					 "Virtualization Tuning Guide, KSM",
					 60},
};

const struct sctl_knob sctl_hugepages_knob = {
	"hugepages.nodeN.SIZEkB", "hugepages", false,
	"devices/system/node/nodeN/hugepages/hugepages-SIZEkB/nr_hugepages", SK_INT, 0, INT64_MAX / 4, SCTL_AUTO,
	"hugepage-backed domains (<memoryBacking><hugepages/>) need their whole RAM preallocated in the pool of "
	"their page size on the nodes they are bound to; sized from their XML plus [host] hugepage_headroom, "
	"never shrunk automatically",
	"Red Hat Virtualization Tuning Guide, Huge pages; Linux Documentation/admin-guide/mm/hugetlbpage.rst "
	"(per-node pools)",
	50,
};

_Static_assert(SCTL__FIXED == CFG_HOST_NKNOBS, "one [host] override per fixed knob");

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int sctl_parse_current(enum sctl_kind kind, const char *text, size_t len, char *ret, size_t retlen)
{
	const char *p = text, *end = text + len, *next;

	if (memchr(text, '\0', len))
		return -EBADMSG;
	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	if (kind == SK_INT) {
		int64_t v;
		if (prs_i64(p, end, &v, &next) < 0 || next != end)
			return -EBADMSG;
		snprintf(ret, retlen, "%lld", (long long)v);
		return 0;
	}
	const char *o = memchr(p, '[', (size_t)(end - p));
	const char *c = o ? memchr(o, ']', (size_t)(end - o)) : NULL;
	if (!o || !c || c == o + 1 || (size_t)(c - o - 1) >= retlen || memchr(o + 1, '[', (size_t)(c - o - 1)))
		return -EBADMSG;
	for (const char *q = o + 1; q < c; q++)
		if (is_blank(*q))
			return -EBADMSG;
	snprintf(ret, retlen, "%.*s", (int)(c - o - 1), o + 1);
	return 0;
}

bool sctl_select_has(const char *text, const char *word)
{
	size_t wl = strlen(word);
	const char *p = text;

	if (!wl)
		return false;
	while (*p) {
		while (*p && (is_blank(*p) || *p == '[' || *p == ']'))
			p++;
		const char *w = p;
		while (*p && !is_blank(*p) && *p != '[' && *p != ']')
			p++;
		if ((size_t)(p - w) == wl && memcmp(w, word, wl) == 0)
			return true;
	}
	return false;
}

static bool is_word(const char *v)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && *v != '+' && *v != '_' && *v != '-')
			return false;
	return true;
}

int sctl_check_value(const struct sctl_knob *k, const char *value, const char *cur_text, char *err,
		     size_t errlen)
{
	if (k->kind == SK_INT) {
		int64_t v;
		const char *next, *end = value + strlen(value);
		if (prs_i64(value, end, &v, &next) < 0 || next != end || v < k->min || v > k->max) {
			snprintf(err, errlen, "%s: invalid value '%s' (expected an integer %lld..%lld)", k->key, value,
				 (long long)k->min, (long long)k->max);
			return -EINVAL;
		}
		return 0;
	}
	if (!is_word(value) || strlen(value) >= SCTL_VALUE_MAX) {
		snprintf(err, errlen, "%s: invalid value '%s' (expected one word)", k->key, value);
		return -EINVAL;
	}
	if (cur_text && !sctl_select_has(cur_text, value)) {
		char choices[256];
		size_t n = 0;
		for (const char *p = cur_text; *p && n + 1 < sizeof(choices); p++)
			if (*p != '[' && *p != ']' && *p != '\n')
				choices[n++] = *p;
		choices[n] = '\0';
		snprintf(err, errlen, "%s: this kernel does not offer '%s' (choices: %s)", k->key, value, choices);
		return -EINVAL;
	}
	return 0;
}

/* "2M", "2048k", "1G", "2048kB": a hugepage size in KiB (at least 4 KiB, a power of two). */
static int parse_page_size(const char *s, size_t len, uint64_t *ret)
{
	char buf[32];
	uint64_t kib;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (len > 2 && strcmp(buf + len - 2, "kB") == 0)
		buf[len - 1] = '\0'; /* sysfs spelling "2048kB" */
	if (strspn(buf, "0123456789") == strlen(buf))
		return -EINVAL;      /* a unit is required: 2048 alone is ambiguous */
	if (unit_parse_size_kib(buf, &kib) < 0 || kib < 4 || (kib & (kib - 1)))
		return -EINVAL;
	*ret = kib;
	return 0;
}

int sctl_parse_hp_spec(const char *s, struct sctl_hp_spec *ret, size_t max, char *ret_mode)
{
	size_t n = 0;
	const char *p = s;

	if (strcmp(s, SCTL_AUTO) == 0 || strcmp(s, SCTL_KEEP) == 0) {
		*ret_mode = s[0];
		return 0;
	}
	if (!*s)
		return -EINVAL;
	while (*p) {
		const char *e = strchr(p, ','), *eq, *colon, *next;
		struct sctl_hp_spec sp = {.node = -1};
		uint64_t v;

		if (!e)
			e = p + strlen(p);
		eq = memchr(p, '=', (size_t)(e - p));
		if (!eq || n == max)
			return -EINVAL;
		colon = memchr(p, ':', (size_t)(eq - p));
		if (colon) {
			if (colon - p < 5 || memcmp(p, "node", 4) != 0 || prs_u64(p + 4, colon, &v, &next) < 0 ||
			    next != colon || v >= 64)
				return -EINVAL;
			sp.node = (int)v;
			p = colon + 1;
		}
		if (parse_page_size(p, (size_t)(eq - p), &sp.page_kib) < 0)
			return -EINVAL;
		if (prs_u64(eq + 1, e, &v, &next) < 0 || next != e || v > (1ULL << 32))
			return -EINVAL;
		sp.count = v;
		for (size_t i = 0; i < n; i++)
			if (ret[i].node == sp.node && ret[i].page_kib == sp.page_kib)
				return -EINVAL;
		ret[n++] = sp;
		p = *e ? e + 1 : e;
		if (*e && !*p)
			return -EINVAL;
	}
	*ret_mode = 'l';
	return (int)n;
}

int sctl_check_override(size_t idx, const char *value, char *err, size_t errlen)
{
	char e[256];

	if (idx == SCTL__FIXED) {
		struct sctl_hp_spec sp[SCTL_HP_SPEC_MAX];
		char mode;
		if (sctl_parse_hp_spec(value, sp, ELEMENTSOF(sp), &mode) < 0) {
			snprintf(err, errlen,
				 "[host] hugepages: invalid value '%s' (expected auto, keep or a list like "
				 "node0:2M=512,node1:1G=4)",
				 value);
			return -EINVAL;
		}
		return 0;
	}
	if (idx > SCTL__FIXED)
		return -EINVAL;
	if (strcmp(value, SCTL_AUTO) == 0 || strcmp(value, SCTL_KEEP) == 0)
		return 0;
	if (sctl_check_value(&sctl_knobs[idx], value, NULL, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "[host] %s: %s (or auto, keep)", sctl_knobs[idx].conf, e);
		return -EINVAL;
	}
	return 0;
}
