/* sctl_knobs.h - the host knobs memopt manages: one table with each knob's file, type, built-in
 * KVM-host profile value, the reason and the source of that value, and the knob value parser. */
#ifndef MEMOPT_SCTL_KNOBS_H
#define MEMOPT_SCTL_KNOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/config.h"

#define SCTL_VALUE_MAX 64

enum sctl_kind {
	SK_INT,         /* one integer in [min, max] */
	SK_SELECT,      /* "a [b] c": the bracketed word is the value, the words are the choices */
};

/* The fixed knobs, in the order of the table (and of HOST_NKNOBS config keys). Hugepage pools are
 * per node and page size and built at run time (sctl_policy.h). */
enum sctl_id {
	SCTL_SWAPPINESS,
	SCTL_ZONE_RECLAIM,
	SCTL_DIRTY_BG_RATIO,
	SCTL_THP_ENABLED,
	SCTL_THP_DEFRAG,
	SCTL_KHP_DEFRAG,
	SCTL_KHP_PAGES_TO_SCAN,
	SCTL_KHP_SCAN_SLEEP,
	SCTL_KHP_ALLOC_SLEEP,
	SCTL_KHP_MAX_PTES_NONE,
	SCTL_KSM_MERGE_ACROSS_NODES,
	SCTL__FIXED
};

/* Profile values that are not literal. */
#define SCTL_AUTO "auto"   /* computed by the policy from the host's facts */
#define SCTL_KEEP "keep"   /* not managed: left as found */

struct sctl_knob {
	const char *key;        /* "vm.swappiness", "thp.enabled": names in plans, journal and docs */
	const char *conf;       /* its [host] config key */
	bool procfs;            /* rel is below procfs_root (else below sysfs_root) */
	const char *rel;        /* "sys/vm/swappiness", "kernel/mm/transparent_hugepage/enabled" */
	enum sctl_kind kind;
	int64_t min, max;       /* SK_INT */
	const char *profile;    /* built-in KVM-host value, SCTL_AUTO or SCTL_KEEP */
	const char *reason;     /* why that value on a KVM host */
	const char *source;     /* where the recommendation comes from */
	int order;              /* apply order ascending; restored in the same order */
};

extern const struct sctl_knob sctl_knobs[SCTL__FIXED];

/* The hugepage pools' pseudo-knob (key "hugepages.nodeN.SIZEkB"): reason and source for the docs. */
extern const struct sctl_knob sctl_hugepages_knob;

/* Canonical value from a knob file's text: SK_INT the integer, SK_SELECT the bracketed word.
 * Returns 0, or -EBADMSG when the text is not what the knob's kind says. Pure. */
int sctl_parse_current(enum sctl_kind kind, const char *text, size_t len, char *ret, size_t retlen);

/* Is `word` one of the choices of a "a [b] c" text? Pure. */
bool sctl_select_has(const char *text, const char *word);

/* Check a desired value for a knob (with the knob file's current text for SK_SELECT choices, or NULL
 * to check the syntax only). Returns 0 or -EINVAL with a message in err. Pure. */
int sctl_check_value(const struct sctl_knob *k, const char *value, const char *cur_text, char *err,
		     size_t errlen);

/* Check a [host] per-knob override ("auto", "keep" or a value) and the hugepages spec. Used by the
 * config validation. Returns 0 or -EINVAL with "[host] key: ..." in err. Pure. */
int sctl_check_override(size_t idx, const char *value, char *err, size_t errlen);

/* One entry of a [host] hugepages spec. */
struct sctl_hp_spec {
	int node;               /* -1 = every node */
	uint64_t page_kib;
	uint64_t count;
};
#define SCTL_HP_SPEC_MAX 32
/* Parse "node0:2M=8,node1:1G=2,2M=4" (node omitted = each node). "auto" and "keep" give 0 entries
 * and set *ret_mode to 'a' or 'k'; a list sets 'l'. Returns the count or -EINVAL. Pure. */
int sctl_parse_hp_spec(const char *s, struct sctl_hp_spec *ret, size_t max, char *ret_mode);

#endif
