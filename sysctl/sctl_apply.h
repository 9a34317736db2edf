/* sctl_apply.h - the host plan's actuator: validate every change, journal every original durably,
 * write, read back, and roll back all of it on the first failure. */
#ifndef MEMOPT_SCTL_APPLY_H
#define MEMOPT_SCTL_APPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "sctl_policy.h"
#include "../common/state.h"

#define SCTL_OWNER "sysctl"
#define SCTL_JOURNAL_PREFIX "sysctl."

/* Journal key of a plan item ("sysctl.vm.swappiness"). */
void sctl_journal_key(const char *key, char *buf, size_t len);

/* Read a knob file's canonical value (kind SK_INT for hugepage pools) and, if text is not NULL, its
 * raw text. Returns 0, -EBADMSG or -errno. */
int sctl_read_knob(const char *path, enum sctl_kind kind, char *value, size_t vlen, char *text, size_t tlen);

/* Check every SA_CHANGE item before anything is written: the file exists and reads, its value is still
 * the plan's current one (else -ESTALE: someone changed it since), the desired value is valid for it.
 * Returns 0 or -errno with the reason in err. */
int sctl_preflight(const struct sctl_plan *p, char *err, size_t errlen);

/* Apply the SA_CHANGE items of p in order: preflight, journal every original (st_record) before the
 * first write, write each with read-back (st_write_value). On any failure every value this call wrote
 * is written back to what it was (and journal entries this call created are dropped), and -errno is
 * returned with what failed and what was rolled back in err. dry_run: preflight, then log what would
 * be written. Returns the number of values written (>= 0) or -errno. */
int sctl_apply(const struct sctl_plan *p, struct st_journal *st, bool dry_run, char *err, size_t errlen);

/* Write one value (drift re-apply) with read-back; the original must already be journaled. */
int sctl_write_one(const struct sctl_item *it, const char *value);

#endif
