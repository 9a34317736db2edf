/* sctl_host.h - the host policy capability inside memoptd: acquire (knobs, NUMA, domains) -> decide
 * (sctl_policy) -> act (sctl_apply) on operator request or at start, and a drift check on a timer. */
#ifndef MEMOPT_SCTL_HOST_H
#define MEMOPT_SCTL_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "../common/config.h"
#include "../common/state.h"

/* Start the drift timer; apply the plan when [host] apply_on_start = yes. cfg must stay valid until
 * reload/fini. Returns 0 or -errno. */
int sctl_host_init(const struct memopt_config *cfg, struct st_journal *st);
void sctl_host_reload(const struct memopt_config *cfg);
/* One drift check now (the timer and --once). */
void sctl_host_cycle(void);
/* Stop; restore every original this module journaled when restore is true (else forget them).
 * Returns the number of values that could not be restored. */
int sctl_host_fini(bool restore);
const char *sctl_host_state(char *buf, size_t len);

/* A knob this run of memoptd applied, for the metrics endpoint. Strings point into the module's state
 * and stay valid until the next apply, restore or drift check. */
struct sctl_host_knob {
	const char *key;                /* "vm.swappiness" */
	const char *applied;            /* the value memopt wrote */
	const char *original;           /* journaled original, NULL when not journaled (yielded, forgotten) */
	bool yielded;                   /* someone else changed it; not managed until the next apply */
	unsigned reapplies;             /* drift = reapply: re-applies so far */
};
/* Fill up to max managed knobs into ret and the drift events since start into *ret_drifts; returns the
 * number filled, or -ENOTCONN when the module is not running. No I/O: the last drift check's view. */
int sctl_host_knobs(struct sctl_host_knob *ret, size_t max, unsigned *ret_drifts);

/* Control commands. Each returns 0 with *ret set, or -errno with a message in err. */
int sctl_host_status(json_object **ret, char *err, size_t errlen);
int sctl_host_plan(json_object **ret, char *err, size_t errlen);
/* dry_run is OR'ed with [daemon] dry_run. */
int sctl_host_apply(bool dry_run, json_object **ret, char *err, size_t errlen);
int sctl_host_restore(bool dry_run, json_object **ret, char *err, size_t errlen);

#endif
