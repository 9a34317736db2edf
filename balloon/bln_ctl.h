/* bln_ctl.h - the balloon capability inside memoptd: acquire (host memory + PSI, guests through the libvirt
 * adapter) -> decide (bln_policy) -> act (virDomainSetMemoryFlags, re-checked, rate limited), on a timer of
 * the one event loop; plus the operator's manual targets. */
#ifndef MEMOPT_BLN_CTL_H
#define MEMOPT_BLN_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bln_policy.h"
#include "bln_virt.h"
#include "../common/config.h"

#define BLN_ACTION_MAX 128

/* Where a guest's floor, shares and opt-out came from. */
struct bln_bounds {
	uint64_t floor_kib;	  /* never above max_kib */
	const char *floor_source; /* "metadata", "config", "min_guarantee", "default" (static strings) */
	uint32_t shares;
	bool managed;		   /* false: opted out by metadata or a [vm] section */
	const char *manage_source; /* "metadata", "config", "default" */
};

/* Resolve a domain's bounds. Precedence: memopt metadata > first matching [vm PATTERN] > <min_guarantee>
 * (floor only) > [balloon] floor/shares. Pure. */
/* The policy's configuration from [balloon] and the host's MemTotal (sizes and percentages resolved;
 * host_release_avail never below host_min_avail). */
void bln_policy_cfg_from(const struct cfg_balloon *b, uint64_t total_kib, struct bln_policy_cfg *ret);

void bln_resolve_bounds(const struct memopt_config *cfg, const struct bvirt_dom *d, struct bln_bounds *ret);

struct bln_note {
	int64_t time_ms; /* wall clock, 0 = none */
	char action[BLN_ACTION_MAX];
	char reason[BLN_REASON_MAX];
};

/* One running domain as the controller sees it. */
struct bln_vm {
	struct bvirt_dom dom; /* latest sample */
	struct bln_bounds b;
	bool balloon_ok;     /* balloon device and a guest driver reporting statistics */
	bool stats_fresh;    /* last_update advanced within 3 statistics periods */
	uint64_t usable_kib; /* guest MemAvailable (or MemFree + caches on old guests) */
	uint64_t swap_in_kib_s;
	uint64_t major_faults_s;
	uint64_t target_kib;	    /* last size memopt set, 0 = none */
	uint64_t manual_target_kib; /* operator override, 0 = none */
	uint64_t last_set_ms;	    /* monotonic, of the last set (or dry-run decision) */
	uint64_t pressure_grow_ms;  /* monotonic, of the last grow for the guest's own pressure, 0 = none */
	uint64_t lu_changed_ms;	    /* monotonic time last_update was seen to advance, 0 = never */
	bool have_rate_base;
	struct bvirt_memstats rate_base; /* sample at the last advance of last_update */
	struct bln_note last;		 /* this cycle's verdict (keep, shrink, grow, deferred, ...) */
	struct bln_note change;		 /* the last change made (or logged in dry-run) */
};

/* Start the module: connect (a failure is retried with backoff, never fatal) and arm the timer.
 * vloop_register() must have run. cfg must stay valid until bln_reload/bln_fini. Returns 0 or -ENOMEM. */
int bln_init(const struct memopt_config *cfg);
/* Take a new configuration: a new URI reconnects, a new statistics period is applied. */
void bln_reload(const struct memopt_config *cfg);
/* Run one acquire -> decide -> act cycle now (timer and --once). No-op while disconnected. */
void bln_cycle(void);
/* Stop the timer and close the connection. Balloon sizes are left as they are (see docs/config.md). */
void bln_fini(void);

/* Operator overrides (memoptctl balloon set|release). name is a domain name or UUID. Return 0, or
 * -EAGAIN (not connected / not running), -EINVAL with a message in err (unknown domain, opted out,
 * outside floor..max, manage = no). */
int bln_set_manual(const char *name, uint64_t kib, const struct bln_vm **ret_vm, char *err, size_t errlen);
int bln_release_manual(const char *name, const struct bln_vm **ret_vm, char *err, size_t errlen);

/* What became of the policy's balloon changes, counted per verdict (shrink, grow) for the metrics. */
enum bln_result {
	BLN_RES_DONE,           /* the balloon was set */
	BLN_RES_DRY_RUN,        /* decided and logged, not set */
	BLN_RES_FAILED,         /* libvirt refused */
	BLN_RES_DEFERRED,       /* changed less than an interval ago, or max_sets_per_cycle reached */
	BLN_RES_SKIPPED,        /* the guest moved since sampling, or could not be re-read */
	BLN_RES_REFUSED,        /* outside floor..max */
	BLN_RES_REPORT_ONLY,    /* [balloon] manage = no */
	BLN_RES__MAX
};
/* "done", "dry_run", "failed", "deferred", "skipped", "refused", "report_only". */
const char *bln_result_name(enum bln_result r);

/* Read-only view for reports; valid until the next cycle or event. */
struct bln_view {
	const struct memopt_config *cfg;
	bool connected;
	const char *uri;
	uint64_t retry_in_ms;
	const char *error; /* last libvirt error, "" none */
	const struct bln_vm *vms;
	size_t n;
	bool have_host; /* a cycle has read the host */
	struct bln_host host;
	uint64_t goal_avail_kib, release_avail_kib;
	bool host_short;
	int64_t host_gap_kib;
	const char *summary;   /* the policy's summary of the last cycle */
	int64_t last_cycle_ms; /* wall clock, 0 = never */
	uint64_t cycles;       /* decision cycles run while connected */
	const uint64_t (*actions)[BLN_RES__MAX]; /* [0] shrink, [1] grow; counts since start */
};
/* Returns false when the module is not running. */
bool bln_get_view(struct bln_view *ret);
/* One-line module status for `memoptctl status`; "unavailable" when not running. */
const char *bln_state(char *buf, size_t len);

#endif
