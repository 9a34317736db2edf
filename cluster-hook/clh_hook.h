/* clh_hook.h - hooks on the cluster view: the operator's program ([cluster] hook) run with the view JSON
 * on stdin on each significant change, and the Pacemaker adapter ([cluster] pacemaker) keeping this
 * node's utilization attribute "memory" at its headroom. Both run argv directly (never a shell), with a
 * timeout, never two runs of one at once (a change during a run triggers exactly one more run), and
 * failures are logged. */
#ifndef MEMOPT_CLH_HOOK_H
#define MEMOPT_CLH_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hr_model.h"
#include "../common/config.h"

void clh_hook_init(void);
/* Kill (by PID, our own children only) what still runs and reap it. */
void clh_hook_fini(void);
/* Compare the view with the one last handed to the hook; run the hook when the membership, quorum,
 * sync state or the reservations changed, or a host's headroom moved by [cluster] hook_change. */
void clh_hook_check(const struct memopt_config *cfg);
/* Pacemaker adapter: set this node's utilization "memory" to its capacity for VMs in MiB: headroom now
 * plus what the VMs running here hold now (vms_kib), because Pacemaker subtracts the utilization of
 * the resources it runs on a node itself; publishing bare headroom would count running VMs twice and
 * push them away. Written when it changed by [cluster] report_change. No-op unless pacemaker = yes. */
void clh_hook_pacemaker(const struct memopt_config *cfg, const char *node, const struct hr_headroom *h,
			uint64_t vms_kib);

/* Pure: is the change from view a to view b significant? Views are summaries: */
struct clh_view_sum {
	bool quorate, synced;
	size_t nhosts;
	struct {
		char name[HR_NAME_MAX];
		bool fresh;
		int64_t now_kib;
	} host[32];
	size_t nresv;
	uint64_t resv_hash;
};
bool clh_view_significant(const struct clh_view_sum *a, const struct clh_view_sum *b, uint64_t change_kib);

#endif
