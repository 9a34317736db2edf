/* config.h - memoptd.conf: typed, ranged, table-driven; every error is "file:line: message". */
#ifndef MEMOPT_CONFIG_H
#define MEMOPT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "units.h"

#define MEMOPT_DEFAULT_CONFIG "/etc/memopt/memoptd.conf"
#define MEMOPT_DEFAULT_SOCKET "/run/memopt/memoptd.sock"
#define MEMOPT_DEFAULT_STATE_DIR "/var/lib/memopt"
#define MEMOPT_DEFAULT_KSMTUNED_CONF "/etc/ksmtuned.conf"
#define CFG_PATH_MAX 256
#define CFG_ERR_MAX 512

enum ksm_mode { KSM_MODE_AUTO, KSM_MODE_ALWAYS, KSM_MODE_OFF };
enum ksm_rate_control { KSM_RATE_SELF, KSM_RATE_ADVISOR };
enum tristate { TRI_KEEP = -1, TRI_NO = 0, TRI_YES = 1, TRI_AUTO = 2 };

struct cfg_daemon {
	int log_level;                  /* LOG_ERR..LOG_DEBUG; key log_level = err|warning|notice|info|debug */
	bool dry_run;
	bool restore_on_stop;
	char socket_path[CFG_PATH_MAX];
	char admin_group[64];           /* "" = only root may mutate */
	char state_dir[CFG_PATH_MAX];
	char sysfs_root[CFG_PATH_MAX];  /* "/sys" */
	char procfs_root[CFG_PATH_MAX]; /* "/proc" */
	char ksmtuned_conf[CFG_PATH_MAX]; /* "" = do not import */
};

struct cfg_ksm {
	bool manage;                    /* no = never touch /sys/kernel/mm/ksm, report only */
	enum ksm_mode mode;             /* auto: run on host pressure; always: keep running; off: run=0 */
	enum ksm_rate_control rate_control;
	uint64_t interval_ms;           /* decision period */
	struct msize start_avail;       /* start merging when MemAvailable falls below */
	struct msize stop_avail;        /* stop when MemAvailable is above this (and PSI low) for stop_hold */
	uint32_t start_psi_ppm;         /* start when memory PSI some avg10 is above (ppm of time) */
	uint32_t stop_psi_ppm;          /* stop only when PSI some avg10 is below */
	uint64_t stop_hold_ms;
	uint32_t max_cpu_ppm;           /* ksmd burst ceiling, share of one core */
	uint32_t steady_cpu_ppm;        /* ksmd long-run average budget */
	uint64_t burst_cpu_ms;          /* CPU credit that may be spent above steady_cpu (bucket size) */
	uint64_t min_yield_kib;         /* per ksmd CPU-second: below this a full scan counts as unproductive */
	uint64_t settled_scan_time_ms;  /* full-scan period once scanning stops paying */
	uint64_t sleep_ms;              /* sleep_millisecs used when scanning fast */
	uint64_t min_pages_to_scan;
	uint64_t max_pages_to_scan;
	enum tristate smart_scan;       /* auto = off while churn makes skipping costly */
	enum tristate use_zero_pages;   /* keep = leave as found */
	uint64_t advisor_target_scan_ms;/* rate_control = advisor */
};

struct memopt_config {
	char path[CFG_PATH_MAX];        /* file it came from, "" for built-in defaults */
	struct cfg_daemon daemon;
	struct cfg_ksm ksm;
	/* later sections (balloon, host, cluster) are added here */
};

/* Fill built-in defaults. */
void cfg_defaults(struct memopt_config *cfg);

/* Parse `path` on top of `cfg` (which must hold defaults or an import).
 * On error returns -EINVAL (or -errno for I/O) and writes "file:line: message" into err.
 * `cfg` may be partially modified on error: callers parse into a scratch copy (see cfg_load). */
int cfg_parse_file(const char *path, struct memopt_config *cfg, char *err, size_t errlen);
int cfg_parse_string(const char *name, const char *text, struct memopt_config *cfg, char *err, size_t errlen);

/* Cross-key validation (e.g. stop_avail above start_avail, steady_cpu <= max_cpu).
 * Errors name the file and the offending keys. */
int cfg_validate(const struct memopt_config *cfg, char *err, size_t errlen);

/* Load defaults + `path` (a missing file is an error only if must_exist) + validation, into a scratch
 * copy; ret_cfg is written only on success. The ksmtuned.conf layering is done by the daemon
 * (daemon/dconfig.c) with ksmtuned/ksmtuned_conf.h. */
int cfg_load(const char *path, bool must_exist, struct memopt_config *ret_cfg, char *err, size_t errlen);

/* Print the effective configuration in memoptd.conf syntax, one documented key per line. */
void cfg_print(const struct memopt_config *cfg, FILE *out);

#endif
