/* bln_policy.h - the balloon controller's decision: a pure function of host + guest snapshots, config
 * and now. No I/O, no clock.
 *
 * Model:
 *   host goal      keep MemAvailable >= host_min_avail and memory PSI "some" below host_psi; when the host
 *                  is short, reclaim = (host_min_avail - MemAvailable) (or a PSI-driven step) from guests;
 *                  when MemAvailable >= host_release_avail, memory is given back to guests.
 *   guest need     need = (actual - usable) + margin, i.e. what the guest really uses (its page cache
 *                  counts as reclaimable, unlike Proxmox/MOM's MemFree) plus guest_margin.
 *   guest pressure swap-in or major faults above a rate, or usable below guest_low_usable: such a guest
 *                  grows first and at once (up to its max), even while the host is short, never shrinks.
 *   shrink         only guests with a working balloon driver and fresh stats, not opted out, not
 *                  pressured; from the most reclaimable memory (actual - max(need, floor)) weighted by
 *                  1/shares; bounded by max_step per guest per cycle; never below max(floor, need).
 *   grow           when the host has room: toward max (or the manual target), pressured guests first,
 *                  then by shares, bounded by max_step; never above max.
 *   deadband       changes smaller than min_step are not made.
 *   hold           a guest grown for its own pressure is not shrunk for [balloon] grow_hold (the
 *                  controller sets shrink_hold): its usable jumps with the new memory while the
 *                  workload that asked for it is still growing.
 * Every change carries a reason. */
#ifndef MEMOPT_BLN_POLICY_H
#define MEMOPT_BLN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLN_NAME_MAX 128
#define BLN_REASON_MAX 256

struct bln_policy_cfg {
	uint64_t host_min_avail_kib;     /* resolved against MemTotal by the caller */
	uint64_t host_release_avail_kib; /* >= host_min_avail_kib */
	uint32_t host_psi_ppm;           /* host memory PSI some avg10 that counts as pressure */
	uint64_t guest_margin_kib;       /* kept free above the guest's need */
	uint32_t guest_margin_ppm;       /* or this share of actual, whichever is larger */
	uint64_t guest_low_usable_kib;   /* usable below this = guest pressure */
	uint64_t guest_swapin_kib_s;     /* swap-in rate above this = guest pressure */
	uint64_t guest_majflt_s;         /* major faults per second above this = guest pressure */
	uint64_t min_step_kib;           /* deadband */
	uint64_t max_step_kib;           /* largest change per guest per cycle (shrink); growth of a pressured guest is not bounded */
};

struct bln_guest {
	char name[BLN_NAME_MAX];
	bool managed;                    /* false: opted out (metadata/config) - never changed */
	bool balloon_ok;                 /* a balloon device with a guest driver reporting stats */
	bool stats_fresh;                /* last_update advanced recently */
	uint64_t actual_kib;             /* current balloon target as the guest sees it */
	uint64_t max_kib;                /* domain max memory */
	uint64_t floor_kib;              /* never below (already resolved: min_guarantee, metadata, config) */
	uint32_t shares;                 /* weight, default 1000 */
	uint64_t usable_kib;             /* guest MemAvailable */
	uint64_t disk_caches_kib;
	uint64_t swap_in_kib_s;          /* rates over the last interval */
	uint64_t major_faults_s;
	uint64_t manual_target_kib;      /* operator override (memoptctl balloon set), 0 = none */
	bool shrink_hold;                /* grown for its own pressure within grow_hold: never shrunk now */
};

struct bln_host {
	uint64_t total_kib;
	uint64_t avail_kib;
	bool psi_available;
	uint32_t psi_some_avg10_ppm;
};

enum bln_verdict { BLN_KEEP, BLN_SHRINK, BLN_GROW };

struct bln_change {
	size_t guest;                    /* index into the guest array */
	enum bln_verdict verdict;
	uint64_t from_kib, to_kib;
	char reason[BLN_REASON_MAX];
};

struct bln_decision {
	size_t n;                        /* changes, at most one per guest */
	struct bln_change *changes;      /* caller-provided array of at least nguests entries */
	bool host_short;                 /* the host is below its goal */
	int64_t host_gap_kib;            /* >0: memory to reclaim; <0: room to give back */
	char summary[BLN_REASON_MAX];
};

/* Decide. `changes` must hold room for nguests entries. Also fills, per guest, why it was left alone in
 * keep_reasons[i] when keep_reasons is not NULL (array of nguests strings of BLN_REASON_MAX). */
void bln_decide(const struct bln_policy_cfg *cfg, const struct bln_host *h, const struct bln_guest *g, size_t nguests,
		struct bln_decision *ret, char (*keep_reasons)[BLN_REASON_MAX]);

/* The guest's need (actual - usable + margin), and its lowest allowed size max(floor, need). Pure. */
uint64_t bln_guest_need_kib(const struct bln_policy_cfg *cfg, const struct bln_guest *g);
uint64_t bln_guest_lowest_kib(const struct bln_policy_cfg *cfg, const struct bln_guest *g);
bool bln_guest_pressured(const struct bln_policy_cfg *cfg, const struct bln_guest *g);

#endif
