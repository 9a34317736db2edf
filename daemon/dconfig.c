/* dconfig.c - configuration layering for memoptd (see dconfig.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctlsrv.h"
#include "dconfig.h"
#include "../common/hostmem.h"
#include "../common/log.h"
#include "../ksmtuned/ksmtuned_conf.h"

static void apply_overrides(struct memopt_config *c, const struct dconfig_overrides *o)
{
	if (!o)
		return;
#define OVR(field, val) do { if (val) snprintf(c->daemon.field, sizeof(c->daemon.field), "%s", val); } while (0)
	OVR(sysfs_root, o->sysfs_root);
	OVR(procfs_root, o->procfs_root);
	OVR(socket_path, o->socket_path);
	OVR(state_dir, o->state_dir);
	OVR(ksmtuned_conf, o->ksmtuned_conf);
#undef OVR
	if (o->dry_run >= 0)
		c->daemon.dry_run = o->dry_run;
	if (o->log_level >= 0)
		c->daemon.log_level = o->log_level;
}

int dconfig_load(const char *path, bool must_exist, const struct dconfig_overrides *o, struct memopt_config *ret_cfg,
		 char *err, size_t errlen)
{
	struct memopt_config first, final;
	bool exists = access(path, F_OK) == 0;
	if (!exists && must_exist) {
		snprintf(err, errlen, "%s: cannot read configuration: %s", path, strerror(ENOENT));
		return -ENOENT;
	}
	/* Pass 1: where is ksmtuned.conf, and are we pointed at another /proc? */
	int r = cfg_load(path, false, &first, err, errlen);
	if (r < 0)
		return r;
	apply_overrides(&first, o);
	const char *kt = first.daemon.ksmtuned_conf;
	final = first;
	if (kt[0] && access(kt, R_OK) == 0) {
		/* Pass 2: defaults, then ksmtuned.conf, then memoptd.conf on top, so memoptd.conf wins. */
		struct host_mem mem = { 0 };
		char meminfo_err[64] = "";
		if (hm_read_meminfo(first.daemon.procfs_root, &mem) < 0)
			snprintf(meminfo_err, sizeof(meminfo_err), " (MemTotal unknown)");
		cfg_defaults(&final);
		int n = ksmtuned_conf_import(kt, mem.total_kib, &final);
		if (n < 0) {
			errno = -n;
			log_warn("%s: cannot import ksmtuned settings, ignoring: %m", kt);
			final = first;
		} else {
			log_notice("imported %d setting(s) from %s%s; memoptd.conf overrides them", n, kt, meminfo_err);
			if (exists) {
				r = cfg_parse_file(path, &final, err, errlen);
				if (r < 0)
					return r;
			}
			apply_overrides(&final, o);
		}
	}
	/* Validate what will run: the import and the command-line overrides included. */
	r = cfg_validate(&final, err, errlen);
	if (r < 0)
		return r;
	/* A group that does not resolve is a configuration error here, so that --check-config catches it
	 * and a reload is refused as a whole instead of failing at the control socket. */
	if (final.daemon.admin_group[0]) {
		gid_t gid;
		r = ctl_resolve_group(final.daemon.admin_group, &gid);
		if (r < 0) {
			if (r == -ENOENT)
				snprintf(err, errlen, "%s: [daemon] admin_group: no such group '%s'", path,
					 final.daemon.admin_group);
			else
				snprintf(err, errlen,
					 "%s: [daemon] admin_group: cannot look up group '%s': %s", path,
					 final.daemon.admin_group, strerror(-r));
			return r;
		}
	}
	snprintf(final.path, sizeof(final.path), "%s", exists ? path : "");
	*ret_cfg = final;
	return 0;
}
