/* config_keys.c - what memoptd.conf holds: the key tables, built-in defaults and per-section cross-checks. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "cleanup.h"
#include "config.h"
#include "config_int.h"
#include "units.h"
#include "../sysctl/sctl_knobs.h"

static const struct cfg_name log_level_names[] = {
    {"err", LOG_ERR},	{"warning", LOG_WARNING}, {"notice", LOG_NOTICE},
    {"info", LOG_INFO}, {"debug", LOG_DEBUG},	  {NULL, 0},
};
static const struct cfg_name mode_names[] = {
    {"auto", KSM_MODE_AUTO},
    {"always", KSM_MODE_ALWAYS},
    {"off", KSM_MODE_OFF},
    {NULL, 0},
};
static const struct cfg_name rate_names[] = {
    {"self", KSM_RATE_SELF},
    {"advisor", KSM_RATE_ADVISOR},
    {NULL, 0},
};
static const struct cfg_name smart_scan_names[] = {
    {"auto", TRI_AUTO}, {"yes", TRI_YES}, {"no", TRI_NO}, {"keep", TRI_KEEP}, {NULL, 0},
};
static const struct cfg_name cluster_mode_names[] = {
    {"standalone", CLUSTER_STANDALONE},
    {"corosync", CLUSTER_COROSYNC},
    {NULL, 0},
};
static const struct cfg_name drift_names[] = {
    {"yield", HOST_DRIFT_YIELD},
    {"reapply", HOST_DRIFT_REAPPLY},
    {NULL, 0},
};
static const struct cfg_name keep_yes_no_names[] = {
    {"keep", TRI_KEEP},
    {"yes", TRI_YES},
    {"no", TRI_NO},
    {NULL, 0},
};

#define D(f) offsetof(struct memopt_config, daemon.f)
#define K(f) offsetof(struct memopt_config, ksm.f)
#define DS(f) sizeof(((struct memopt_config *)0)->daemon.f)
#define B(f) offsetof(struct memopt_config, balloon.f)
#define BS(f) sizeof(((struct memopt_config *)0)->balloon.f)
#define C(f) offsetof(struct memopt_config, cluster.f)
#define CS(f) sizeof(((struct memopt_config *)0)->cluster.f)
#define H(f) offsetof(struct memopt_config, host.f)
#define HS(f) sizeof(((struct memopt_config *)0)->host.f)
#define HK(i) offsetof(struct memopt_config, host.knob[i])
#define HKS CFG_HOST_VALUE_MAX
#define MT(f) offsetof(struct memopt_config, metrics.f)
#define MTS(f) sizeof(((struct memopt_config *)0)->metrics.f)
#define SEC(n) ((uint64_t)(n)*1000)
#define PCT(n) ((uint64_t)(n)*10000)

/* Sections appear in --print-config in the order of this table. */
const struct cfg_key cfg_keys[] = {
    {"daemon", "log_level", CT_ENUM, D(log_level), 0, 0, 0, log_level_names, "most verbose level logged"},
    {"daemon", "dry_run", CT_BOOL, D(dry_run), 0, 0, 0, NULL,
     "decide and log, but change nothing on the host"},
    {"daemon", "restore_on_stop", CT_BOOL, D(restore_on_stop), 0, 0, 0, NULL,
     "write back every original host value on a clean stop"},
    {"daemon", "drop_capabilities", CT_BOOL, D(drop_capabilities), 0, 0, 0, NULL,
     "after start-up keep only cap_sys_ptrace and cap_dac_read_search (root only; needs a restart)"},
    {"daemon", "socket", CT_PATH, D(socket_path), DS(socket_path), 0, 0, NULL,
     "control socket for memoptctl"},
    {"daemon", "admin_group", CT_GROUP, D(admin_group), DS(admin_group), 0, 0, NULL,
     "group whose members may change settings over the socket; none = root only"},
    {"daemon", "state_dir", CT_PATH, D(state_dir), DS(state_dir), 0, 0, NULL,
     "directory of the journal of original host values"},
    {"daemon", "sysfs_root", CT_PATH, D(sysfs_root), DS(sysfs_root), 0, 0, NULL,
     "where sysfs is mounted (tests point this at a fixture tree)"},
    {"daemon", "procfs_root", CT_PATH, D(procfs_root), DS(procfs_root), 0, 0, NULL,
     "where procfs is mounted (tests point this at a fixture tree)"},
    {"daemon", "ksmtuned_conf", CT_PATH_OPT, D(ksmtuned_conf), DS(ksmtuned_conf), 0, 0, NULL,
     "ksmtuned.conf to import first (never executed); none = no import"},
    {"daemon", "max_clients", CT_U64, D(max_clients), 0, 1, 10000, NULL,
     "control-socket connections served at once; beyond it slow clients are evicted or new ones refused (EBUSY)"},
    {"daemon", "client_timeout", CT_DURATION, D(client_timeout_ms), 0, 100, SEC(60), NULL,
     "a control client must send its request and read the reply within this (else ETIMEDOUT)"},

    {"ksm", "manage", CT_BOOL, K(manage), 0, 0, 0, NULL, "no = never write /sys/kernel/mm/ksm, only report"},
    {"ksm", "mode", CT_ENUM, K(mode), 0, 0, 0, mode_names,
     "auto = merge under memory pressure; always = keep ksmd running; off = stop ksmd"},
    {"ksm", "rate_control", CT_ENUM, K(rate_control), 0, 0, 0, rate_names,
     "self = memopt sets pages_to_scan from merge yield and ksmd CPU; advisor = kernel scan-time advisor"},
    {"ksm", "interval", CT_DURATION, K(interval_ms), 0, 250, SEC(60), NULL, "decision period"},
    {"ksm", "start_avail", CT_MSIZE, K(start_avail), 0, 0, 0, NULL,
     "start merging when MemAvailable falls below this (size, or percent of MemTotal)"},
    {"ksm", "stop_avail", CT_MSIZE, K(stop_avail), 0, 0, 0, NULL,
     "stop once MemAvailable stays above this for stop_hold (size, or percent of MemTotal)"},
    {"ksm", "start_psi", CT_PERCENT, K(start_psi_ppm), 0, PCT(0), PCT(100), NULL,
     "start merging when memory PSI some avg10 exceeds this share of time"},
    {"ksm", "stop_psi", CT_PERCENT, K(stop_psi_ppm), 0, PCT(0), PCT(100), NULL,
     "stop only while memory PSI some avg10 is below this"},
    {"ksm", "stop_hold", CT_DURATION, K(stop_hold_ms), 0, 0, SEC(86400), NULL,
     "how long the stop conditions must hold before ksmd is stopped"},
    {"ksm", "max_cpu_percent", CT_PERCENT, K(max_cpu_ppm), 0, PCT(1), PCT(100), NULL,
     "ceiling for ksmd CPU during a burst, share of one core"},
    {"ksm", "steady_cpu_percent", CT_PERCENT, K(steady_cpu_ppm), 0, PCT(0), PCT(100), NULL,
     "long-run average ksmd CPU budget, share of one core"},
    {"ksm", "churn_cpu_percent", CT_PERCENT, K(churn_cpu_ppm), 0, PCT(0), PCT(100), NULL,
     "ksmd CPU budget while writes keep breaking merged pages, share of one core"},
    {"ksm", "burst_cpu", CT_DURATION, K(burst_cpu_ms), 0, 0, SEC(3600), NULL,
     "CPU time ksmd may spend above steady_cpu_percent before it is held to it"},
    {"ksm", "min_yield", CT_SIZE, K(min_yield_kib), 0, 0, 1024ULL * 1024 * 1024, NULL,
     "memory saved per ksmd CPU-second below which scanning stops paying"},
    {"ksm", "settled_scan_time", CT_DURATION, K(settled_scan_time_ms), 0, SEC(10), SEC(86400), NULL,
     "full-scan period once scanning stops paying"},
    {"ksm", "sleep_ms", CT_U64, K(sleep_ms), 0, 0, 10000, NULL,
     "sleep_millisecs while scanning fast, milliseconds"},
    {"ksm", "min_pages_to_scan", CT_U64, K(min_pages_to_scan), 0, 1, 100000, NULL,
     "lowest pages_to_scan memopt sets"},
    {"ksm", "max_pages_to_scan", CT_U64, K(max_pages_to_scan), 0, 1, 1000000, NULL,
     "highest pages_to_scan memopt sets"},
    {"ksm", "smart_scan", CT_ENUM, K(smart_scan), 0, 0, 0, smart_scan_names,
     "kernel smart_scan; auto = off while page churn makes skipping costly; keep = leave as found"},
    {"ksm", "use_zero_pages", CT_ENUM, K(use_zero_pages), 0, 0, 0, keep_yes_no_names,
     "kernel use_zero_pages; keep = leave as found"},
    {"ksm", "advisor_target_scan_time", CT_DURATION, K(advisor_target_scan_ms), 0, SEC(1), SEC(86400), NULL,
     "full-scan time the kernel advisor aims for (rate_control = advisor)"},

    {"balloon", "manage", CT_BOOL, B(manage), 0, 0, 0, NULL,
     "yes = change balloon sizes; no = only report what would be done"},
    {"balloon", "uri", CT_STRING, B(uri), BS(uri), 0, 0, NULL, "libvirt connection URI"},
    {"balloon", "interval", CT_DURATION, B(interval_ms), 0, SEC(1), SEC(60), NULL, "decision period"},
    {"balloon", "stats_period", CT_DURATION, B(stats_period_ms), 0, SEC(1), SEC(300), NULL,
     "guest memory statistics period set on every balloon device (whole seconds)"},
    {"balloon", "host_min_avail", CT_MSIZE, B(host_min_avail), 0, 0, 0, NULL,
     "reclaim from guests while MemAvailable is below this (size, or percent of MemTotal)"},
    {"balloon", "host_release_avail", CT_MSIZE, B(host_release_avail), 0, 0, 0, NULL,
     "give memory back to guests while MemAvailable is above this (size, or percent of MemTotal)"},
    {"balloon", "host_psi", CT_PERCENT, B(host_psi_ppm), 0, PCT(0), PCT(100), NULL,
     "host memory PSI some avg10 above this also counts as host pressure"},
    {"balloon", "guest_margin", CT_GSIZE, B(guest_margin), 0, 0, 0, NULL,
     "kept free above a guest's need (size, or percent of the guest's current size)"},
    {"balloon", "guest_low_usable", CT_SIZE, B(guest_low_usable_kib), 0, 0, 1024ULL * 1024 * 1024, NULL,
     "a guest whose MemAvailable is below this is under pressure"},
    {"balloon", "guest_swapin", CT_SIZE, B(guest_swapin_kib_s), 0, 0, 1024ULL * 1024 * 1024, NULL,
     "a guest swapping in more than this per second is under pressure"},
    {"balloon", "guest_majflt", CT_U64, B(guest_majflt_s), 0, 0, 100000000, NULL,
     "a guest with more major faults per second than this is under pressure"},
    {"balloon", "min_step", CT_SIZE, B(min_step_kib), 0, 0, 1024ULL * 1024 * 1024, NULL,
     "deadband: balloon changes smaller than this are not made"},
    {"balloon", "max_step", CT_SIZE, B(max_step_kib), 0, 1024, 1024ULL * 1024 * 1024, NULL,
     "largest shrink of one guest per cycle"},
    {"balloon", "floor", CT_GSIZE, B(floor), 0, 0, 0, NULL,
     "default floor (size, or percent of the guest's max memory)"},
    {"balloon", "shares", CT_U64, B(shares), 0, 1, 100000, NULL, "default weight of a guest"},
    {"balloon", "max_sets_per_cycle", CT_U64, B(max_sets_per_cycle), 0, 1, 10000, NULL,
     "balloon changes per cycle, all guests together"},
    {"balloon", "grow_hold", CT_DURATION, B(grow_hold_ms), 0, 0, SEC(3600), NULL,
     "a guest grown for its own pressure is not shrunk for this long"},

    {"cluster", "mode", CT_ENUM, C(mode), 0, 0, 0, cluster_mode_names,
     "standalone = answer for this host only; corosync = join the CPG group and share headroom"},
    {"cluster", "group", CT_STRING, C(group), CS(group), 0, 0, NULL, "corosync CPG group name"},
    {"cluster", "node_name", CT_STRING, C(node_name), CS(node_name), 0, 0, NULL,
     "this host's name in the cluster view; auto = the host name"},
    {"cluster", "host_reserve", CT_MSIZE, C(host_reserve), 0, 0, 0, NULL,
     "memory kept for the host itself (size, or percent of MemTotal)"},
    {"cluster", "ksm_unshare_risk", CT_PERCENT, C(ksm_unshare_risk_ppm), 0, PCT(0), PCT(100), NULL,
     "share of what KSM saves counted as at risk of unsharing"},
    {"cluster", "sample_interval", CT_DURATION, C(sample_interval_ms), 0, 100, SEC(60), NULL,
     "how often the local headroom is read"},
    {"cluster", "report_interval", CT_DURATION, C(report_interval_ms), 0, 500, SEC(600), NULL,
     "headroom is multicast at least this often"},
    {"cluster", "report_change", CT_SIZE, C(report_change_kib), 0, 0, 1024ULL * 1024 * 1024, NULL,
     "headroom is multicast at once when it moved by this much"},
    {"cluster", "peer_expiry", CT_DURATION, C(peer_expiry_ms), 0, SEC(1), SEC(3600), NULL,
     "a host's report older than this is stale: admission says cannot say"},
    {"cluster", "reserve_timeout", CT_DURATION, C(reserve_timeout_ms), 0, 100, SEC(60), NULL,
     "how long admit --reserve waits for its message to come back in order"},
    {"cluster", "default_ttl", CT_DURATION, C(default_ttl_ms), 0, SEC(1), SEC(86400), NULL,
     "reservation lifetime when admit --reserve has no --ttl"},
    {"cluster", "max_ttl", CT_DURATION, C(max_ttl_ms), 0, SEC(1), SEC(86400), NULL,
     "longest reservation lifetime accepted"},
    {"cluster", "hook", CT_PATH_OPT, C(hook), CS(hook), 0, 0, NULL,
     "program run (no shell) with the cluster view JSON on stdin on each significant change; none = off"},
    {"cluster", "hook_timeout", CT_DURATION, C(hook_timeout_ms), 0, 100, SEC(600), NULL,
     "a hook still running after this is killed"},
    {"cluster", "hook_change", CT_SIZE, C(hook_change_kib), 0, 0, 1024ULL * 1024 * 1024, NULL,
     "a host's headroom change that counts as significant for the hook"},
    {"cluster", "pacemaker", CT_BOOL, C(pacemaker), 0, 0, 0, NULL,
     "keep this node's Pacemaker utilization attribute memory (MiB) at its headroom"},
    {"cluster", "crm_attribute", CT_PATH, C(crm_attribute), CS(crm_attribute), 0, 0, NULL,
     "crm_attribute program for the Pacemaker adapter"},
    {"host", "manage", CT_BOOL, H(manage), 0, 0, 0, NULL,
     "no = plan and report only: memoptctl host apply is refused and nothing is written"},
    {"host", "apply_on_start", CT_BOOL, H(apply_on_start), 0, 0, 0, NULL,
     "apply the host plan when memoptd starts and after a reload (else only on memoptctl host apply)"},
    {"host", "drift", CT_ENUM, H(drift), 0, 0, 0, drift_names,
     "someone else changed an applied value: yield = stop managing it; reapply = write it again (max_reapply)"},
    {"host", "max_reapply", CT_U64, H(max_reapply), 0, 0, 100, NULL,
     "drift = reapply: re-applies of one knob before memopt yields it to whoever keeps changing it"},
    {"host", "interval", CT_DURATION, H(interval_ms), 0, SEC(1), SEC(3600), NULL, "drift check period"},
    {"host", "hugepage_headroom", CT_PERCENT, H(hugepage_headroom_ppm), 0, PCT(0), PCT(100), NULL,
     "hugepages = auto: pages added to what hugepage-backed domains need, per node and size, rounded up"},
    {"host", "ksm_unmerge", CT_BOOL, H(ksm_unmerge), 0, 0, 0, NULL,
     "allow unmerging every KSM page (run=2) so merge_across_nodes can be changed"},
    {"host", "domain_xml_dir", CT_PATH_OPT, H(domain_xml_dir), HS(domain_xml_dir), 0, 0, NULL,
     "libvirt domain definitions read for hugepage-backed domains; none = no domains"},
    {"host", "swappiness", CT_STRING, HK(SCTL_SWAPPINESS), HKS, 0, 0, NULL,
     "vm.swappiness: auto (profile: 10), keep (not managed) or 0..200"},
    {"host", "zone_reclaim_mode", CT_STRING, HK(SCTL_ZONE_RECLAIM), HKS, 0, 0, NULL,
     "vm.zone_reclaim_mode: auto (profile: 0), keep or 0..7"},
    {"host", "dirty_background_ratio", CT_STRING, HK(SCTL_DIRTY_BG_RATIO), HKS, 0, 0, NULL,
     "vm.dirty_background_ratio: auto (profile: 5), keep or 0..100"},
    {"host", "thp_enabled", CT_STRING, HK(SCTL_THP_ENABLED), HKS, 0, 0, NULL,
     "transparent_hugepage/enabled: auto (profile: always), keep, always, madvise or never"},
    {"host", "thp_defrag", CT_STRING, HK(SCTL_THP_DEFRAG), HKS, 0, 0, NULL,
     "transparent_hugepage/defrag: auto (profile: madvise), keep or one of the kernel's choices"},
    {"host", "khugepaged_defrag", CT_STRING, HK(SCTL_KHP_DEFRAG), HKS, 0, 0, NULL,
     "khugepaged/defrag: auto (profile: 1), keep, 0 or 1"},
    {"host", "khugepaged_pages_to_scan", CT_STRING, HK(SCTL_KHP_PAGES_TO_SCAN), HKS, 0, 0, NULL,
     "khugepaged/pages_to_scan: auto (profile: keep) or a number"},
    {"host", "khugepaged_scan_sleep_millisecs", CT_STRING, HK(SCTL_KHP_SCAN_SLEEP), HKS, 0, 0, NULL,
     "khugepaged/scan_sleep_millisecs: auto (profile: keep) or a number"},
    {"host", "khugepaged_alloc_sleep_millisecs", CT_STRING, HK(SCTL_KHP_ALLOC_SLEEP), HKS, 0, 0, NULL,
     "khugepaged/alloc_sleep_millisecs: auto (profile: keep) or a number"},
    {"host", "khugepaged_max_ptes_none", CT_STRING, HK(SCTL_KHP_MAX_PTES_NONE), HKS, 0, 0, NULL,
     "khugepaged/max_ptes_none: auto (profile: keep) or 0..511"},
    {"host", "ksm_merge_across_nodes", CT_STRING, HK(SCTL_KSM_MERGE_ACROSS_NODES), HKS, 0, 0, NULL,
     "ksm/merge_across_nodes: auto (0 on a NUMA host, keep on one node), keep, 0 or 1"},
    {"host", "hugepages", CT_STRING, H(hugepages), HS(hugepages), 0, 0, NULL,
     "hugetlb pools: auto (sized from hugepage-backed domains), keep, or node0:2M=512,node1:1G=2"},

    {"metrics", "listen", CT_LISTEN, MT(listen), MTS(listen), 0, 0, NULL,
     "Prometheus text endpoint (GET /metrics): numeric ADDRESS:PORT, [IPV6]:PORT, or off"},
};
const size_t cfg_nkeys = ELEMENTSOF(cfg_keys);

const char *const cfg_sections[] = {"daemon", "ksm", "balloon", "host", "cluster", "metrics"};
const size_t cfg_nsections = ELEMENTSOF(cfg_sections);

#define V(f) offsetof(struct cfg_vm_rule, f)
const struct cfg_key cfg_vm_keys[CFG_VM_NKEYS] = {
    [CFG_VM_FLOOR] = {"vm", "floor", CT_GSIZE, V(floor), 0, 0, 0, NULL,
		      "floor of matching domains (size, or percent of the domain's max memory)"},
    [CFG_VM_SHARES] = {"vm", "shares", CT_U64, V(shares), 0, 1, 100000, NULL, "weight of matching domains"},
    [CFG_VM_MANAGE] = {"vm", "manage", CT_BOOL, V(manage), 0, 0, 0, NULL,
		       "no = never change matching domains"},
};
#undef V

/* Enum fields are C enums or ints; both are int-sized here (checked below). */
_Static_assert(sizeof(enum ksm_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum ksm_rate_control) == sizeof(int), "enum size");
_Static_assert(sizeof(enum tristate) == sizeof(int), "enum size");
_Static_assert(sizeof(enum host_drift) == sizeof(int), "enum size");

void cfg_defaults(struct memopt_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));

	cfg->daemon.log_level = LOG_INFO;
	cfg->daemon.dry_run = false;
	cfg->daemon.restore_on_stop = true;
	cfg->daemon.drop_capabilities = true;
	snprintf(cfg->daemon.socket_path, sizeof(cfg->daemon.socket_path), "%s", MEMOPT_DEFAULT_SOCKET);
	cfg->daemon.admin_group[0] = '\0';
	cfg->daemon.max_clients = 256;
	cfg->daemon.client_timeout_ms = 5000;
	snprintf(cfg->daemon.state_dir, sizeof(cfg->daemon.state_dir), "%s", MEMOPT_DEFAULT_STATE_DIR);
	snprintf(cfg->daemon.sysfs_root, sizeof(cfg->daemon.sysfs_root), "/sys");
	snprintf(cfg->daemon.procfs_root, sizeof(cfg->daemon.procfs_root), "/proc");
	snprintf(cfg->daemon.ksmtuned_conf, sizeof(cfg->daemon.ksmtuned_conf), "%s",
		 MEMOPT_DEFAULT_KSMTUNED_CONF);

	cfg->ksm.manage = true;
	cfg->ksm.mode = KSM_MODE_AUTO;
	cfg->ksm.rate_control = KSM_RATE_SELF;
	cfg->ksm.interval_ms = 2000;
	cfg->ksm.start_avail = (struct msize){.is_percent = true, .ppm = 200000};
	cfg->ksm.stop_avail = (struct msize){.is_percent = true, .ppm = 300000};
	cfg->ksm.start_psi_ppm = 50000;
	cfg->ksm.stop_psi_ppm = 10000;
	cfg->ksm.stop_hold_ms = 60000;
	cfg->ksm.max_cpu_ppm = 500000;
	cfg->ksm.steady_cpu_ppm = 80000;
	cfg->ksm.churn_cpu_ppm = 120000;
	cfg->ksm.burst_cpu_ms = 20000;
	cfg->ksm.min_yield_kib = 16 * 1024;
	cfg->ksm.settled_scan_time_ms = 900000;
	cfg->ksm.sleep_ms = 10;
	cfg->ksm.min_pages_to_scan = 32;
	cfg->ksm.max_pages_to_scan = 20000;
	cfg->ksm.smart_scan = TRI_AUTO;
	cfg->ksm.use_zero_pages = TRI_KEEP;
	cfg->ksm.advisor_target_scan_ms = 60000;

	cfg->balloon.manage = false;
	snprintf(cfg->balloon.uri, sizeof(cfg->balloon.uri), "%s", MEMOPT_DEFAULT_LIBVIRT_URI);
	cfg->balloon.interval_ms = 5000;
	cfg->balloon.stats_period_ms = 2000;
	cfg->balloon.host_min_avail = (struct msize){.is_percent = true, .ppm = 150000};
	cfg->balloon.host_release_avail = (struct msize){.is_percent = true, .ppm = 250000};
	cfg->balloon.host_psi_ppm = 100000;
	cfg->balloon.guest_margin = (struct msize){.is_percent = true, .ppm = 100000};
	cfg->balloon.guest_low_usable_kib = 64 * 1024;
	cfg->balloon.guest_swapin_kib_s = 1024;
	cfg->balloon.guest_majflt_s = 100;
	cfg->balloon.min_step_kib = 32 * 1024;
	cfg->balloon.max_step_kib = 512 * 1024;
	cfg->balloon.floor = (struct msize){.is_percent = true, .ppm = 500000};
	cfg->balloon.shares = 1000;
	cfg->balloon.max_sets_per_cycle = 8;
	cfg->balloon.grow_hold_ms = 60000;
	cfg->balloon.nvm = 0;

	cfg->cluster.mode = CLUSTER_STANDALONE;
	snprintf(cfg->cluster.group, sizeof(cfg->cluster.group), "memopt");
	snprintf(cfg->cluster.node_name, sizeof(cfg->cluster.node_name), "auto");
	cfg->cluster.host_reserve = (struct msize){.kib = 1024 * 1024};
	cfg->cluster.ksm_unshare_risk_ppm = 250000;
	cfg->cluster.sample_interval_ms = 500;
	cfg->cluster.report_interval_ms = 5000;
	cfg->cluster.report_change_kib = 64 * 1024;
	cfg->cluster.peer_expiry_ms = 15000;
	cfg->cluster.reserve_timeout_ms = 2000;
	cfg->cluster.default_ttl_ms = 120000;
	cfg->cluster.max_ttl_ms = 3600000;
	cfg->cluster.hook[0] = '\0';
	cfg->cluster.hook_timeout_ms = 10000;
	cfg->cluster.hook_change_kib = 512 * 1024;
	cfg->cluster.pacemaker = false;
	snprintf(cfg->cluster.crm_attribute, sizeof(cfg->cluster.crm_attribute), "/usr/sbin/crm_attribute");
	cfg->host.manage = true;
	cfg->host.apply_on_start = false;
	cfg->host.drift = HOST_DRIFT_YIELD;
	cfg->host.max_reapply = 3;
	cfg->host.interval_ms = 30000;
	cfg->host.hugepage_headroom_ppm = 20000;
	cfg->host.ksm_unmerge = false;
	snprintf(cfg->host.domain_xml_dir, sizeof(cfg->host.domain_xml_dir), "/etc/libvirt/qemu");
	for (size_t i = 0; i < CFG_HOST_NKNOBS; i++)
		snprintf(cfg->host.knob[i], sizeof(cfg->host.knob[i]), "auto");
	snprintf(cfg->host.hugepages, sizeof(cfg->host.hugepages), "auto");

	snprintf(cfg->metrics.listen, sizeof(cfg->metrics.listen), "%s", MEMOPT_DEFAULT_METRICS_LISTEN);
}

static int validate_host(const struct memopt_config *cfg, const char *name, char *err, size_t errlen)
{
	char e[CFG_ERR_MAX - 64];
	int r;

	for (size_t i = 0; i <= CFG_HOST_NKNOBS; i++) {
		r = sctl_check_override(i, i < CFG_HOST_NKNOBS ? cfg->host.knob[i] : cfg->host.hugepages, e,
					sizeof(e));
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", name, e);
			return r;
		}
	}
	return 0;
}

static int validate_ksm(const struct memopt_config *cfg, const char *name, char *err, size_t errlen)
{
	const struct cfg_ksm *k = &cfg->ksm;
	char a[64], b[64];

	/* Hysteresis needs stop above start; mixed absolute/percent can only be compared against MemTotal,
	 * which is the daemon's business at run time. */
	if (k->start_avail.is_percent == k->stop_avail.is_percent &&
	    (k->start_avail.is_percent ? k->stop_avail.ppm <= k->start_avail.ppm
				       : k->stop_avail.kib <= k->start_avail.kib)) {
		snprintf(err, errlen, "%s: [ksm] stop_avail (%s) must be above start_avail (%s)", name,
			 unit_format_msize(&k->stop_avail, a, sizeof(a)),
			 unit_format_msize(&k->start_avail, b, sizeof(b)));
		return -EINVAL;
	}
	if (k->stop_psi_ppm > k->start_psi_ppm) {
		snprintf(err, errlen, "%s: [ksm] stop_psi (%s) must not be above start_psi (%s)", name,
			 cfg_fmt_pct(k->stop_psi_ppm, a, sizeof(a)),
			 cfg_fmt_pct(k->start_psi_ppm, b, sizeof(b)));
		return -EINVAL;
	}
	if (k->steady_cpu_ppm > k->max_cpu_ppm) {
		snprintf(err, errlen,
			 "%s: [ksm] steady_cpu_percent (%s) must not be above max_cpu_percent (%s)", name,
			 cfg_fmt_pct(k->steady_cpu_ppm, a, sizeof(a)),
			 cfg_fmt_pct(k->max_cpu_ppm, b, sizeof(b)));
		return -EINVAL;
	}
	if (k->min_pages_to_scan > k->max_pages_to_scan) {
		snprintf(err, errlen,
			 "%s: [ksm] min_pages_to_scan (%llu) must not be above max_pages_to_scan (%llu)",
			 name, (unsigned long long)k->min_pages_to_scan,
			 (unsigned long long)k->max_pages_to_scan);
		return -EINVAL;
	}
	return 0;
}

static int validate_balloon(const struct memopt_config *cfg, const char *name, char *err, size_t errlen)
{
	const struct cfg_balloon *b = &cfg->balloon;
	char a[64], c[64];
	size_t i;

	if (b->host_min_avail.is_percent == b->host_release_avail.is_percent &&
	    (b->host_min_avail.is_percent ? b->host_release_avail.ppm <= b->host_min_avail.ppm
					  : b->host_release_avail.kib <= b->host_min_avail.kib)) {
		snprintf(err, errlen,
			 "%s: [balloon] host_release_avail (%s) must be above host_min_avail (%s)", name,
			 unit_format_msize(&b->host_release_avail, a, sizeof(a)),
			 unit_format_msize(&b->host_min_avail, c, sizeof(c)));
		return -EINVAL;
	}
	if (b->min_step_kib > b->max_step_kib) {
		snprintf(err, errlen, "%s: [balloon] min_step (%s) must not be above max_step (%s)", name,
			 unit_format_kib(b->min_step_kib, a, sizeof(a)),
			 unit_format_kib(b->max_step_kib, c, sizeof(c)));
		return -EINVAL;
	}
	/* libvirt takes the period in whole seconds. */
	if (b->stats_period_ms % 1000) {
		snprintf(err, errlen, "%s: [balloon] stats_period (%s) must be whole seconds", name,
			 unit_format_duration(b->stats_period_ms, a, sizeof(a)));
		return -EINVAL;
	}
	if (b->nvm > CFG_VM_MAX) {
		snprintf(err, errlen, "%s: more than %d [vm] sections", name, CFG_VM_MAX);
		return -EINVAL;
	}
	for (i = 0; i < b->nvm; i++) {
		const struct cfg_vm_rule *r = &b->vm[i];

		if (!r->pattern[0] || strnlen(r->pattern, sizeof(r->pattern)) >= sizeof(r->pattern))
			snprintf(err, errlen, "%s: [vm] section %zu has no valid pattern", name, i + 1);
		else if (r->has_floor && r->floor.is_percent && r->floor.ppm > 1000000)
			snprintf(err, errlen, "%s: [vm %s] floor: value '%s' out of range", name, r->pattern,
				 unit_format_msize(&r->floor, a, sizeof(a)));
		else if (r->shares > 100000)
			snprintf(err, errlen,
				 "%s: [vm %s] shares: value '%llu' out of range (expected 1..100000)", name,
				 r->pattern, (unsigned long long)r->shares);
		else if (r->manage != TRI_KEEP && r->manage != TRI_YES && r->manage != TRI_NO)
			snprintf(err, errlen, "%s: [vm %s] manage: invalid value", name, r->pattern);
		else
			continue;
		return -EINVAL;
	}
	return 0;
}

static int validate_cluster(const struct memopt_config *cfg, const char *name, char *err, size_t errlen)
{
	const struct cfg_cluster *c = &cfg->cluster;
	char a[64], b[64];

	if (c->default_ttl_ms > c->max_ttl_ms) {
		snprintf(err, errlen, "%s: [cluster] default_ttl (%s) must not be above max_ttl (%s)", name,
			 unit_format_duration(c->default_ttl_ms, a, sizeof(a)),
			 unit_format_duration(c->max_ttl_ms, b, sizeof(b)));
		return -EINVAL;
	}
	if (c->peer_expiry_ms <= c->report_interval_ms) {
		snprintf(err, errlen, "%s: [cluster] peer_expiry (%s) must be above report_interval (%s)", name,
			 unit_format_duration(c->peer_expiry_ms, a, sizeof(a)),
			 unit_format_duration(c->report_interval_ms, b, sizeof(b)));
		return -EINVAL;
	}
	if (c->host_reserve.is_percent && c->host_reserve.ppm > 1000000) {
		snprintf(err, errlen, "%s: [cluster] host_reserve: value '%s' out of range", name,
			 unit_format_msize(&c->host_reserve, a, sizeof(a)));
		return -EINVAL;
	}
	return 0;
}

/* Sections are checked in the order of cfg_sections[]; a new section adds its keys to cfg_keys[], its name
 * to cfg_sections[], its defaults to cfg_defaults() and its cross-checks here. */
int cfg_validate_sections(const struct memopt_config *cfg, const char *name, char *err, size_t errlen)
{
	int r;

	r = validate_ksm(cfg, name, err, errlen);
	if (r < 0)
		return r;
	r = validate_balloon(cfg, name, err, errlen);
	if (r < 0)
		return r;
	r = validate_host(cfg, name, err, errlen);
	if (r < 0)
		return r;
	return validate_cluster(cfg, name, err, errlen);
}
