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

/* How each cycle ended, counted for the metrics endpoint. */
enum ksm_outcome {
	KSM_OUT_WRITTEN,        /* knobs written */
	KSM_OUT_WRITE_FAILED,   /* some write was refused (retried next cycle) */
	KSM_OUT_DRY_RUN,        /* a change decided and logged, nothing written */
	KSM_OUT_PHASE,          /* only the controller phase changed */
	KSM_OUT_NO_CHANGE,
	KSM_OUT_REPORT_ONLY,    /* [ksm] manage = no: decided, never acted on */
	KSM_OUT_READ_FAILED,    /* the KSM directory could not be read: no decision */
	KSM_OUT__MAX
};
/* "written", "write_failed", "dry_run", "phase_changed", "no_change", "report_only", "read_failed". */
const char *ksm_outcome_name(enum ksm_outcome o);

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
	uint64_t cycles;                /* cycles run since start */
	const uint64_t *outcomes;       /* KSM_OUT__MAX counters, since start */
	const char *write_failed;       /* "" or the knobs the last acting cycle could not set, and why */
};
bool ksm_tuner_view(struct ksm_view *ret);
/* One-line module status for `memoptctl status`. */
const char *ksm_tuner_state(char *buf, size_t len);

#endif
