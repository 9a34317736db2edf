/* ksmtuned_conf.h - drop-in for ksmtuned users: read /etc/ksmtuned.conf without executing it. */
#ifndef MEMOPT_KSMTUNED_CONF_H
#define MEMOPT_KSMTUNED_CONF_H

#include <stdint.h>
#include "../common/config.h"

/* Import ksmtuned.conf: KSM_* (and DEBUG/LOGFILE) assignments only, never executed. Quoted values
 * without expansions are accepted; `$`, backquotes, command substitution, unknown keys and anything
 * that is not NAME=VALUE are refused with a warning naming file:line, and that line is skipped.
 * The mapping onto memopt's keys is documented in docs/ksmtuned-migration.md.
 * mem_total_kib is needed because ksmtuned's threshold and sleep depend on MemTotal.
 * Returns the number of keys applied (>= 0), or -errno if the file can't be read. */
int ksmtuned_conf_import(const char *path, uint64_t mem_total_kib, struct memopt_config *cfg);
/* The same on text already in memory (buf[0..len), not NUL-terminated); name is used in messages.
 * Returns the number of keys applied (>= 0). */
int ksmtuned_conf_import_text(const char *name, const char *buf, size_t len, uint64_t mem_total_kib,
			      struct memopt_config *cfg);

#endif
