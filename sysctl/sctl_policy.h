/* sctl_policy.h - the host memory plan, pure: the KVM-host profile + NUMA facts + hugepage-backed
 * domains + [host] overrides in, one line per knob out (current -> desired, the action, the reason).
 * No I/O: sctl_host.c acquires the facts and sctl_apply.c acts on the plan. */
#ifndef MEMOPT_SCTL_POLICY_H
#define MEMOPT_SCTL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sctl_domxml.h"
#include "sctl_knobs.h"
#include "../common/config.h"
#include "../common/state.h"
#include "../numa/nod_numa.h"

#define SCTL_KEY_MAX 64
#define SCTL_REASON_MAX 320
#define SCTL_PLAN_MAX (SCTL__FIXED + NOD_MAX * NOD_HP_SIZES)

/* What the host has now, read by sctl_host.c. */
struct sctl_cur {
	bool present;                   /* the knob file exists and parsed */
	char value[SCTL_VALUE_MAX];     /* canonical (sctl_parse_current) */
	char text[256];                 /* the file's text (SK_SELECT choices) */
};

struct sctl_facts {
	const char *sysfs_root, *procfs_root;   /* for the paths in the plan only */
	const struct nod_topology *topo;
	struct sctl_cur cur[SCTL__FIXED];
	uint64_t default_hp_kib;        /* /proc/meminfo Hugepagesize, 0 if unknown */
	bool ksm_present;
	uint64_t ksm_pages_shared;
	bool dirty_bg_bytes_set;        /* vm.dirty_background_bytes != 0: the ratio is not in use */
	const struct sctl_dom *doms;
	size_t ndoms;
};

enum sctl_action {
	SA_OK,          /* already at the desired value */
	SA_CHANGE,      /* will be written */
	SA_UNMANAGED,   /* keep, manage = no for this knob, or nothing to decide */
	SA_UNAVAILABLE, /* the kernel has no such knob */
	SA_BLOCKED,     /* cannot be changed now (reason says why and what would allow it) */
};

struct sctl_item {
	char key[SCTL_KEY_MAX];         /* "vm.swappiness", "hugepages.node0.2048kB" */
	int id;                         /* enum sctl_id, or -1 for a hugepage pool */
	int node;                       /* hugepage pools: node id */
	uint64_t page_kib;              /* hugepage pools: page size */
	char path[ST_PATH_MAX];
	char current[SCTL_VALUE_MAX];   /* "" when unavailable */
	char desired[SCTL_VALUE_MAX];   /* "" when not managed */
	enum sctl_action action;
	bool unmerge;                   /* KSM pages must be unmerged first (operator allowed it) */
	const char *source;             /* static text */
	char origin[16];                /* "profile", "config", "computed" */
	char reason[SCTL_REASON_MAX];
	int order;
};

struct sctl_plan {
	size_t n;
	unsigned changes;
	size_t nodes;                   /* facts summarised for the report */
	size_t hugepage_domains;
	struct sctl_item item[SCTL_PLAN_MAX];
};

/* Build the plan. cfg is the [host] section. Returns 0, or -EINVAL if an override does not parse
 * (config validation prevents that). Pure. */
int sctl_plan_build(const struct cfg_host *cfg, const struct sctl_facts *f, struct sctl_plan *ret);

const char *sctl_action_name(enum sctl_action a);

/* Hugepages each node needs per page size for the domains (spread evenly over their bound nodes, or
 * over all nodes when unbound), before headroom: need[node index][size index of sizes[]].
 * Pure. Exposed for the tests and the report. */
void sctl_hugepage_need(const struct nod_topology *t, const struct sctl_dom *doms, size_t ndoms,
			uint64_t default_hp_kib, uint64_t need[NOD_MAX][NOD_HP_SIZES],
			const uint64_t sizes[NOD_HP_SIZES], size_t nsizes);

#endif
