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
#define CFG_URI_MAX 256
#define CFG_VM_MAX 64               /* [vm PATTERN] sections */
#define CFG_VM_PATTERN_MAX 128
#define MEMOPT_DEFAULT_LIBVIRT_URI "qemu:///system"

enum ksm_mode { KSM_MODE_AUTO, KSM_MODE_ALWAYS, KSM_MODE_OFF };
enum ksm_rate_control { KSM_RATE_SELF, KSM_RATE_ADVISOR };
enum tristate { TRI_KEEP = -1, TRI_NO = 0, TRI_YES = 1, TRI_AUTO = 2 };

struct cfg_daemon {
	int log_level;                  /* LOG_ERR..LOG_DEBUG; key log_level = err|warning|notice|info|debug */
	bool dry_run;
	bool restore_on_stop;
	bool drop_capabilities;         /* keep only PRIV_KEEP_MASK after start-up (common/privs.h) */
	char socket_path[CFG_PATH_MAX];
	char admin_group[64];           /* "" = only root may mutate */
	char state_dir[CFG_PATH_MAX];
	char sysfs_root[CFG_PATH_MAX];  /* "/sys" */
	char procfs_root[CFG_PATH_MAX]; /* "/proc" */
	char ksmtuned_conf[CFG_PATH_MAX]; /* "" = do not import */
	uint64_t max_clients;           /* control-socket connections served at once */
	uint64_t client_timeout_ms;     /* a control client's deadline for request and reply */
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
	uint32_t churn_cpu_ppm;         /* ksmd budget while holding merges against churn */
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

/* [vm PATTERN]: per-domain overrides. PATTERN is an fnmatch(3) glob matched against the domain name
 * and against its UUID; the first matching section (in file order) applies. */
struct cfg_vm_rule {
	char pattern[CFG_VM_PATTERN_MAX];
	bool has_floor;
	struct msize floor;             /* size, or percent of the domain's max memory */
	uint64_t shares;                /* 0 = not set here */
	enum tristate manage;           /* TRI_KEEP = not set here; TRI_NO opts the domain out */
};

struct cfg_balloon {
	bool manage;                    /* no = report only: never change a balloon */
	char uri[CFG_URI_MAX];          /* libvirt connection URI */
	uint64_t interval_ms;           /* decision period */
	uint64_t stats_period_ms;       /* virDomainSetMemoryStatsPeriod, whole seconds */
	struct msize host_min_avail;    /* reclaim from guests below this MemAvailable (of MemTotal) */
	struct msize host_release_avail;/* give memory back above this MemAvailable (of MemTotal) */
	uint32_t host_psi_ppm;          /* host memory PSI some avg10 that counts as pressure */
	struct msize guest_margin;      /* kept free above a guest's need (percent of its actual) */
	uint64_t guest_low_usable_kib;  /* guest MemAvailable below this = guest pressure */
	uint64_t guest_swapin_kib_s;    /* guest swap-in rate above this = guest pressure */
	uint64_t guest_majflt_s;        /* guest major faults per second above this = guest pressure */
	uint64_t min_step_kib;          /* deadband: smaller changes are not made */
	uint64_t max_step_kib;          /* largest shrink per guest per cycle */
	struct msize floor;             /* default floor: size, or percent of the guest's max memory */
	uint64_t shares;                /* default weight */
	uint64_t max_sets_per_cycle;    /* balloon changes per cycle, all guests together */
	uint64_t grow_hold_ms;          /* a guest grown for its own pressure is not shrunk for this long */
	size_t nvm;
	struct cfg_vm_rule vm[CFG_VM_MAX];
};

enum cluster_mode { CLUSTER_STANDALONE, CLUSTER_COROSYNC };

/* [cluster]: headroom model, admission, and the corosync cluster view (cluster-hook/). */
struct cfg_cluster {
	int mode;                       /* enum cluster_mode */
	char group[64];                 /* CPG group name */
	char node_name[64];             /* "auto" = the host name */
	struct msize host_reserve;      /* kept for the host: size, or percent of MemTotal */
	uint32_t ksm_unshare_risk_ppm;  /* share of KSM savings counted as at risk */
	uint64_t sample_interval_ms;    /* how often the local headroom is read */
	uint64_t report_interval_ms;    /* a report is multicast at least this often */
	uint64_t report_change_kib;     /* ... and at once when now/reclaimable moved by this much */
	uint64_t peer_expiry_ms;        /* a report older than this is stale: "cannot say" */
	uint64_t reserve_timeout_ms;    /* how long admit --reserve waits for its message in order */
	uint64_t default_ttl_ms, max_ttl_ms;
	char hook[CFG_PATH_MAX];        /* "" = none; run with the view JSON on stdin */
	uint64_t hook_timeout_ms;
	uint64_t hook_change_kib;       /* a host's headroom change that counts as significant */
	bool pacemaker;                 /* keep the node's utilization attribute "memory" at our headroom */
	char crm_attribute[CFG_PATH_MAX];
};

/* [host]: host memory policy (sysctl/, numa/). The knob overrides are indexed like sctl_knobs[]
 * (sysctl/sctl_knobs.h): "auto" = the built-in KVM-host profile, "keep" = not managed, else a value. */
#define CFG_HOST_NKNOBS 11
#define CFG_HOST_VALUE_MAX 64
enum host_drift { HOST_DRIFT_YIELD, HOST_DRIFT_REAPPLY };

struct cfg_host {
	bool manage;                    /* no = plan and report only: host apply is refused */
	bool apply_on_start;            /* apply the plan when memoptd starts (and after a reload) */
	enum host_drift drift;          /* someone else changed a value memopt applied */
	uint64_t max_reapply;           /* drift = reapply: re-applies per knob before yielding it */
	uint64_t interval_ms;           /* drift check period */
	uint32_t hugepage_headroom_ppm; /* added to what hugepage-backed domains need, rounded up */
	bool ksm_unmerge;               /* may unmerge all KSM pages (run=2) to change merge_across_nodes */
	char domain_xml_dir[CFG_PATH_MAX]; /* libvirt domain XML definitions; "" = none */
	char knob[CFG_HOST_NKNOBS][CFG_HOST_VALUE_MAX];
	char hugepages[256];            /* auto | keep | node0:2M=512,node1:1G=2 */
};

/* [metrics]: the Prometheus endpoint (metrics/). */
#define CFG_LISTEN_MAX 64
#define MEMOPT_DEFAULT_METRICS_LISTEN "127.0.0.1:9720"
struct cfg_metrics {
	char listen[CFG_LISTEN_MAX];    /* numeric "ADDRESS:PORT" (common/netaddr.h); "" = off */
};

struct memopt_config {
	char path[CFG_PATH_MAX];        /* file it came from, "" for built-in defaults */
	struct cfg_daemon daemon;
	struct cfg_ksm ksm;
	struct cfg_balloon balloon;
	struct cfg_host host;
	struct cfg_cluster cluster;
	struct cfg_metrics metrics;
};

/* Fill built-in defaults. */
void cfg_defaults(struct memopt_config *cfg);

/* Parse `path` on top of `cfg` (which must hold defaults or an import).
 * On error returns -EINVAL (or -errno for I/O) and writes "file:line: message" into err.
 * `cfg` may be partially modified on error: callers parse into a scratch copy (see cfg_load). */
int cfg_parse_file(const char *path, struct memopt_config *cfg, char *err, size_t errlen);
int cfg_parse_string(const char *name, const char *text, struct memopt_config *cfg, char *err, size_t errlen);
/* The same on text[0..len), which need not be NUL-terminated (a NUL byte in a line is an error). */
int cfg_parse_buffer(const char *name, const char *text, size_t len, struct memopt_config *cfg, char *err,
		     size_t errlen);

/* Cross-key validation (e.g. stop_avail above start_avail, steady_cpu <= max_cpu).
 * Errors name the file and the offending keys. */
int cfg_validate(const struct memopt_config *cfg, char *err, size_t errlen);

/* Load defaults + `path` (a missing file is an error only if must_exist) + validation, into a scratch
 * copy; ret_cfg is written only on success. The ksmtuned.conf layering is done by the daemon
 * (daemon/dconfig.c) with ksmtuned/ksmtuned_conf.h. */
int cfg_load(const char *path, bool must_exist, struct memopt_config *ret_cfg, char *err, size_t errlen);

/* The first [vm PATTERN] rule whose glob matches the domain name or UUID (either may be NULL), or NULL. */
const struct cfg_vm_rule *cfg_vm_match(const struct memopt_config *cfg, const char *name, const char *uuid);

/* Print the effective configuration in memoptd.conf syntax, one documented key per line. */
void cfg_print(const struct memopt_config *cfg, FILE *out);

#endif
