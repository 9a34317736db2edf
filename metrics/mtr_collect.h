/* mtr_collect.h - memoptd's metrics: every series of the endpoint, taken from the snapshots the
 * modules keep for memoptctl (status, ksm, guests, host, headroom, cluster), in exposition format. */
#ifndef MEMOPT_MTR_COLLECT_H
#define MEMOPT_MTR_COLLECT_H

#include <stdint.h>

#include "mtr_expo.h"
#include "../common/config.h"

/* The endpoint's own request counters, by status code. */
enum { MTR_CODE_200, MTR_CODE_404, MTR_CODE_405, MTR_CODE_500, MTR_CODE__MAX };
struct mtr_self {
	uint64_t requests[MTR_CODE__MAX];
};

/* Write every series into w: daemon, host memory and PSI, KSM (host, knobs, controller, per process),
 * balloon, host policy, headroom and cluster. Host MemTotal/MemAvailable/PSI are read fresh (two small
 * files, as `memoptctl status` does); the per-process KSM walk is cached and redone at most once per
 * KSM tuner cycle; everything else comes from the modules' last cycle. start_ms is memoptd's start on
 * the monotonic clock, now_ms and wall_ms the current time. Returns 0, or -ENOMEM. */
int mtr_collect(struct mtr_writer *w, const struct memopt_config *cfg, const struct mtr_self *self,
		uint64_t start_ms, uint64_t now_ms, int64_t wall_ms);

/* Drop the per-process cache (at stop). */
void mtr_collect_fini(void);

#endif
