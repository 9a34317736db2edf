/* ksm_policy.h - the KSM controller's decision: a pure function of (config, snapshot, controller state).
 *
 * Phases:
 *   OFF         ksmd stopped (run=0, merged pages kept) because the host is not under memory pressure.
 *   CONVERGING  there is work: memory not yet scanned, or the last full scan still paid (gross merges
 *               per ksmd CPU-second >= min_yield). Scan as fast as the CPU budget allows.
 *   SETTLED     full scans stopped finding anything: scan just fast enough that one full scan takes
 *               settled_scan_time, so new sharing is still found, at near-zero CPU. Reached when a full
 *               scan's yield fell under min_yield, or sooner, at the end of a full scan (not the first
 *               in the phase) that left no volatile pages while nothing was broken by writes: then
 *               every page ksmd tracks is merged or sat in this scan's unstable tree, where every
 *               identical pair meets, so a further scan cannot merge anything (kernel mm/ksm.c:
 *               a page goes into the unstable tree only when its checksum held across two visits).
 * CPU budget: a credit bucket. While converging new memory (the first full scans after a start, or
 * memory not yet scanned) ksmd may run at max_cpu as long as it has credit (up to burst_cpu of CPU
 * time above the steady rate); while holding merges against churn, churn_cpu; otherwise steady_cpu.
 * pages_to_scan at most doubles per decision and backs off at once when ksmd measured over budget.
 * Churn: when merged pages are broken by writes (cow_ksm) faster than a threshold, smart_scan=auto
 * turns smart_scan off, because smart scanning skips exactly the pages that need re-merging, and
 * ksmd holds the merges at one steady rate: a full scan in 60 % of the measured rewrite period if that
 * fits churn_cpu, else as fast as churn_cpu pays for (steady beat pulses per CPU-second, measured). */
#ifndef MEMOPT_KSM_POLICY_H
#define MEMOPT_KSM_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include "../common/config.h"
#include "../common/hostmem.h"
#include "ksm_sysfs.h"

enum ksm_phase { KSM_PHASE_OFF, KSM_PHASE_CONVERGING, KSM_PHASE_SETTLED };

/* One acquisition, filled by the tuner's readers. */
struct ksm_sample {
	uint64_t now_ms;                /* monotonic */
	uint32_t page_kib;              /* the kernel's page size (0 = assume 4) */
	struct ksm_state ksm;
	bool ksmd_cpu_valid;
	uint64_t ksmd_cpu_ms;           /* cumulative utime+stime of ksmd */
	bool mem_valid;
	struct host_mem mem;
	struct host_psi psi;
	bool cow_valid;
	uint64_t cow_ksm;               /* cumulative /proc/vmstat cow_ksm */
	uint64_t vm_mergeable_kib;      /* RSS of running mergeable VMs (0 = unknown / none) */
	uint32_t vm_procs;              /* QEMU processes seen by the last VM scan (report only) */
	uint32_t vm_unreadable;         /* ... whose ksm_stat could not be read (report only) */
};

/* What the controller remembers between decisions. Zero-initialise before the first call. */
struct ksm_ctl {
	bool started;
	enum ksm_phase phase;
	uint64_t phase_since_ms;
	uint64_t calm_since_ms;         /* 0 = not calm */
	/* previous sample's counters */
	uint64_t prev_ms, prev_cpu_ms, prev_merged, prev_cow, prev_scanned, prev_full_scans;
	bool prev_valid;
	/* the full scan in progress */
	uint64_t scan_cpu_ms, scan_merged_gain, scan_cow, scan_visited, scans_in_phase;
	uint32_t boundaries_in_phase;   /* decisions in this phase that saw a full scan end */
	uint64_t scan_start_scanned, scan_start_skipped;
	/* results */
	uint64_t full_scan_pages;       /* pages visited by the last complete full scan */
	uint64_t last_yield_kib_per_cpu_s;
	bool last_yield_valid;
	uint64_t last_scan_cow;         /* merged pages broken by writes during the last full scan */
	uint64_t cost_ns_per_page;      /* smoothed ksmd cost per page visited; 0 = unknown */
	uint32_t cpu_ppm;               /* ksmd CPU over the last interval */
	uint64_t scan_rate_pages_s;     /* pages visited per second over the last interval */
	uint64_t churn_pages_s;         /* smoothed cow_ksm rate */
	bool churn;                     /* the last decision saw churn */
	uint64_t stale_est_pages;       /* merged pages (by ksmd's count) that writes have copied since ksmd's
	                                   last visit: estimated, see account() */
	/* holding merges against churn (hold_rate() in ksm_policy.c) */
	bool holding;
	uint64_t churn_seen_ms;         /* the last decision that measured churn */
	uint64_t rewrite_period_ms;     /* how long a merged page lasts before a write copies it (0 = unknown) */
	int64_t credit_ms;              /* CPU credit above the steady budget */
	uint64_t mergeable_est_pages;   /* max(last full scan size, VM RSS) */
	uint64_t rmap_items;            /* pages ksmd has visited and tracks (derived; 0 = unknown) */
	/* what we asked for last */
	uint64_t want_pages, want_sleep_ms;
	int want_smart;                 /* -1 = not managed */
};

#define KSM_DECISION_MAX_WRITES 12

struct ksm_write { enum ksm_field field; int64_t value; };

struct ksm_decision {
	enum ksm_phase phase;
	size_t n;                        /* writes in order; only knobs whose value must change */
	struct ksm_write w[KSM_DECISION_MAX_WRITES];
	char reason[640];                /* why, with the numbers that decided it */
};

/* Decide. Reads `s` and the previous controller state in *ctl, updates *ctl, writes *ret.
 * No I/O and no clock: deterministic for the same inputs. */
void ksm_decide(const struct cfg_ksm *cfg, const struct ksm_sample *s, struct ksm_ctl *ctl,
		struct ksm_decision *ret);

/* The (pages_to_scan, sleep_millisecs) pair that makes ksmd visit about rate_pages_s pages per
 * second with batches of at least min_pages, sleeping at least base_sleep_ms. Pure. */
void ksm_rate_to_knobs(uint64_t rate_pages_s, uint64_t base_sleep_ms, uint64_t min_pages, uint64_t max_pages,
		       uint64_t *ret_pages, uint64_t *ret_sleep_ms);

const char *ksm_phase_name(enum ksm_phase p);

#endif
