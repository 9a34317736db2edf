/* clh.h - the cluster-hook capability inside memoptd: sample the local headroom (hr_read + balloon data)
 * on a loop timer; standalone, answer for this host; with corosync, multicast reports, keep the
 * cluster view, apply reservations in agreed order, sync the ledger to joining members, follow
 * votequorum; run the view hook and the Pacemaker adapter on significant changes. */
#ifndef MEMOPT_CLH_H
#define MEMOPT_CLH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hr_cluster.h"
#include "../common/config.h"

/* Start: register the control commands, arm the sampler, connect to corosync when configured (a
 * corosync that is down is retried every second, never fatal). cfg must stay valid until
 * clh_reload/clh_fini. Returns 0 or -errno. */
int clh_init(const struct memopt_config *cfg);
void clh_reload(const struct memopt_config *cfg);
/* Sample and report once now (timer and --once). */
void clh_cycle(void);
void clh_fini(void);
/* One-line status for `memoptctl status`; "unavailable" when not running. */
const char *clh_state(char *buf, size_t len);

/* --- for clh_cmds.c and clh_hook.c --- */

struct clh_status {
	const struct memopt_config *cfg;
	const char *name;           /* this host in the view */
	uint32_t nodeid;            /* 0 standalone */
	bool corosync;              /* mode = corosync */
	bool connected, quorate, synced;
	const struct hr_state *st;
};
void clh_status_get(struct clh_status *ret);

/* Can the cluster state answer now? false with the reason when not (no corosync, no quorum, ledger not
 * synchronized yet). Standalone always can. */
bool clh_can_answer(char *why, size_t len);

/* Submit a reservation. Standalone: decided at once, *ret_v written, returns 0. Corosync: multicast,
 * the answer comes through done(ticket, verdict) once the message is delivered in order (or after
 * [cluster] reserve_timeout); returns CLH_PENDING. Returns -errno with err on failure. */
#define CLH_PENDING 1
typedef void (*clh_done_fn)(uint64_t ticket, const struct hr_resv_req *q, const struct hr_verdict *v);
int clh_reserve(struct hr_resv_req *q, uint64_t ticket, clh_done_fn done, struct hr_verdict *ret_v, char *err,
		size_t errlen);
/* Release a reservation: standalone at once (returns 1 held / 0 unknown), corosync by message (returns
 * 2: sent, applied everywhere in order). -errno on failure. */
int clh_release(const char *id, char *err, size_t errlen);

#endif
