/* hr_model.h - the pure, itemized headroom model: how much memory a new VM can get on this host now,
 * how much after reclaiming balloon slack, per NUMA node and in hugepage pools; and the admission rule.
 *
 * now         = MemAvailable
 *             + ZFS ARC above c_min (the ARC shrinks to c_min on demand, and MemAvailable does not count it)
 *             - host reserve (kept for the host itself)
 *             - KSM unshare risk (a share of what KSM saves today: merged pages come back when written)
 *             - pending reservations (admitted VMs that have not appeared yet)
 * reclaimable = now + balloon slack of running guests above their floors
 * per node    = the node's MemFree + file pages + SReclaimable, scaled so the nodes never add up to more
 *               than MemAvailable, less the node's share of reserve and KSM risk, less reservations
 *               pinned to the node. ARC is not counted per node (its pages' nodes are unknown).
 * hugepages   = (HugePages_Free - HugePages_Rsvd) x Hugepagesize, default page size only; only
 *               hugepage-backed VMs can use them, and they are not part of now.
 *
 * Everything here is pure: snapshots and parameters in, numbers and reasons out. */
#ifndef MEMOPT_HR_MODEL_H
#define MEMOPT_HR_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HR_NODES_MAX 16
#define HR_TERMS_MAX 24
#define HR_GUESTS_MAX 128
#define HR_NAME_MAX 64
#define HR_ID_MAX 64
#define HR_REASON_MAX 384

struct hr_node_in {
	int id;                   /* nodeN */
	uint64_t total_kib;       /* Node N MemTotal */
	uint64_t free_kib;        /* MemFree */
	uint64_t file_kib;        /* Active(file) + Inactive(file) */
	uint64_t sreclaim_kib;    /* SReclaimable */
	uint64_t hp_total, hp_free; /* HugePages_Total/Free of the default size */
};

struct hr_guest {
	char name[HR_NAME_MAX];
	uint64_t actual_kib;      /* current balloon size */
	uint64_t floor_kib;       /* the balloon controller never goes below it */
	bool balloon_ok;          /* a working balloon: slack above the floor can be reclaimed */
};

/* One host's snapshot, filled by hr_read (or by a test). */
struct hr_input {
	bool mem_valid;           /* meminfo read and sane; false makes the headroom invalid */
	uint64_t total_kib, avail_kib;
	uint64_t hp_total, hp_free, hp_rsvd, hp_size_kib;
	bool arc_present;
	uint64_t arc_size_kib, arc_cmin_kib;
	bool ksm_present;
	uint64_t ksm_sharing_kib; /* pages_sharing x page size: what KSM saves now */
	size_t nnodes;
	struct hr_node_in node[HR_NODES_MAX];
	bool guests_known;        /* the balloon module answered; false: no slack is counted */
	size_t nguests;
	struct hr_guest guest[HR_GUESTS_MAX];
};

struct hr_params {
	uint64_t reserve_kib;     /* host reserve (resolved from [cluster] host_reserve) */
	uint32_t ksm_risk_ppm;    /* share of KSM savings counted as at risk of unsharing */
};

/* Which figure a term adds to. */
enum hr_term_kind { HR_T_NOW, HR_T_RECLAIM, HR_T_HUGE };

struct hr_term {
	int kind;                 /* enum hr_term_kind */
	char name[32];            /* "MemAvailable", "ZFS ARC above c_min", "reservation vm42", ... */
	int64_t kib;              /* signed contribution */
	char detail[96];
};

struct hr_node_out {
	int id;
	int64_t now_kib;
	int64_t hp_free_kib;
};

struct hr_headroom {
	bool valid;
	char why[192];            /* when !valid */
	uint64_t total_kib;
	int64_t now_kib;
	int64_t reclaimable_kib;
	int64_t hp_free_kib;
	uint64_t hp_size_kib;
	size_t nterms;
	struct hr_term term[HR_TERMS_MAX];
	size_t nnodes;
	struct hr_node_out node[HR_NODES_MAX];
};

/* A reservation: memory held for a VM that was admitted and has not appeared yet. */
struct hr_resv {
	char id[HR_ID_MAX];
	char target[HR_NAME_MAX]; /* host name */
	uint64_t now_kib;         /* taken from now (the request's min, or its mem) */
	uint64_t mem_kib;         /* taken from reclaimable */
	bool hugepages;           /* taken from the hugepage pool instead */
	int node;                 /* NUMA node it was admitted on, -1 = any */
	int64_t expires_wall_ms;  /* in the requester's clock, as carried by its message */
	uint32_t origin;          /* corosync nodeid of the requester, 0 standalone */
};

struct hr_request {
	uint64_t mem_kib;         /* what the VM may grow to */
	uint64_t min_kib;         /* what it needs to start (0 = mem) */
	bool hugepages;           /* hugepage-backed: only the pool counts */
	bool one_node;            /* must fit in one NUMA node */
};

enum hr_code { HR_ADMIT = 0, HR_REFUSE = 1, HR_UNKNOWN = 2 };

struct hr_verdict {
	int code;                 /* enum hr_code; matches memoptctl admit's exit status */
	int node;                 /* chosen NUMA node with one_node, else -1 */
	uint64_t need_now_kib;    /* what the grant takes from now (or from the pool) */
	int64_t now_after_kib;    /* headroom now after the grant (pool for hugepages) */
	char reason[HR_REASON_MAX];
};

/* Compute the headroom before reservations. Returns 0; an invalid input gives ret->valid = false with
 * the reason in ret->why (still 0). */
int hr_compute(const struct hr_input *in, const struct hr_params *p, struct hr_headroom *ret);

/* Subtract the reservations held against `target` that have not expired at now_wall_ms. Adds one term
 * per reservation (the last term sums any that do not fit). */
void hr_subtract_resv(struct hr_headroom *h, const char *target, const struct hr_resv *r, size_t n,
		      int64_t now_wall_ms);

/* The admission rule. Ordinary VM: admit iff now >= need_now (min, or mem) and reclaimable >= mem, and,
 * with one_node, some node's now >= need_now (the one with the most headroom is chosen). Hugepage VM:
 * admit iff the pool (one node's with one_node) holds mem. Invalid headroom: HR_UNKNOWN. */
void hr_admit(const struct hr_headroom *h, const struct hr_request *req, struct hr_verdict *ret);

/* "16.0 GiB" style, for reasons (binary units, one decimal, sign kept). Returns buf. */
const char *hr_fmt_kib(int64_t kib, char *buf, size_t len);

#endif
