/* dconfig.h - the daemon's configuration layering: defaults, ksmtuned.conf import, memoptd.conf,
 * command-line overrides; validated as a whole before anything uses it. */
#ifndef MEMOPT_DCONFIG_H
#define MEMOPT_DCONFIG_H

#include <stdbool.h>
#include "../common/config.h"

/* Command-line overrides; NULL / -1 = not given. */
struct dconfig_overrides {
	const char *sysfs_root, *procfs_root, *socket_path, *state_dir, *ksmtuned_conf;
	int dry_run;                    /* -1, 0, 1 */
	int log_level;                  /* -1 or LOG_* */
};

/* Load `path` (must_exist when the operator named it) with the layering above into *ret_cfg, which is
 * written only on success. err receives "file:line: message". [daemon] admin_group must name an
 * existing group ("file: [daemon] admin_group: no such group 'x'", -ENOENT). Returns 0 or -errno. */
int dconfig_load(const char *path, bool must_exist, const struct dconfig_overrides *o, struct memopt_config *ret_cfg,
		 char *err, size_t errlen);

#endif
