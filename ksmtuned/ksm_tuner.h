/* ksm_tuner.h - the KSM capability inside memoptd: acquire (readers) -> decide (ksm_policy) -> act
 * (ksm_sysfs writes, journaled originals), on a timer of the one event loop. */
#ifndef MEMOPT_KSM_TUNER_H
#define MEMOPT_KSM_TUNER_H

#include <stdbool.h>
#include <json-c/json.h>
#include "../common/config.h"
#include "../common/state.h"
#include "ksm_policy.h"

/* Register the tuner's timer. cfg must stay valid until ksm_tuner_reload/fini. Returns 0 or -errno
 * (-ENOENT when the kernel has no KSM: the daemon keeps running without this module). */
int ksm_tuner_init(const struct memopt_config *cfg, struct st_journal *st);
/* Take a new configuration (after a successful reload). */
void ksm_tuner_reload(const struct memopt_config *cfg);
/* Run one acquire -> decide -> act cycle now (used by --once and the timer). */
void ksm_tuner_cycle(void);
/* Stop the timer; restore the originals this module changed when restore is true. Returns the number of
 * values that could not be restored. */
int ksm_tuner_fini(bool restore);

/* A read-only view of the last cycle, for reporting (ksm_report.c). Valid until the next cycle.
 * Returns false before the first cycle or when the module is inactive. */
struct ksm_view {
	const struct memopt_config *cfg;
	const struct ksm_sample *sample;
	const struct ksm_ctl *ctl;
	const struct ksm_decision *decision;
	const char *last_action;
	const char *last_reason;        /* the reason recorded with last_action */
	int64_t last_action_ms;
	const char *write_failed;       /* "" or the knobs the last acting cycle could not set, and why */
};
bool ksm_tuner_view(struct ksm_view *ret);
/* One-line module status for `memoptctl status`. */
const char *ksm_tuner_state(char *buf, size_t len);

#endif
