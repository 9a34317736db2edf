/* commands.h - memoptd's control commands (status, ksm, log, guests, balloon-set, balloon-release). */
#ifndef MEMOPT_COMMANDS_H
#define MEMOPT_COMMANDS_H

#include <stdint.h>
#include "../common/config.h"

#include "../common/version.h"

struct st_journal;

/* cfg_ref points at the daemon's current configuration pointer, which a reload swaps. */
/* journal: the daemon's state journal, whose health `status` reports. */
int commands_init(const struct memopt_config *const *cfg_ref, const struct st_journal *journal, uint64_t start_ms);

#endif
