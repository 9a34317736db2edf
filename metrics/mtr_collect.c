/* mtr_collect.c - reads the modules' views (ksm_tuner_view, bln_get_view, sctl_host_knobs,
 * clh_status_get) and writes them as Prometheus series; no decisions, no writes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "mtr_collect.h"
#include "../balloon/bln_ctl.h"
#include "../balloon/bln_virt.h"
#include "../cluster-hook/clh.h"
#include "../common/cleanup.h"
#include "../common/hostmem.h"
#include "../common/procs.h"
#include "../common/version.h"
#include "../ksmtuned/ksm_report.h"
#include "../ksmtuned/ksm_tuner.h"
#include "../sysctl/sctl_host.h"
#include "../sysctl/sctl_policy.h"

#define G MTR_GAUGE
#define C MTR_COUNTER
#define FAM(id, n, t, h) static const struct mtr_family id = {n, t, h}

/* daemon */
FAM(f_build, "memopt_build_info", G, "memoptd version; always 1");
FAM(f_start, "memopt_start_time_seconds", G, "when memoptd started, seconds since the Unix epoch");
FAM(f_dry, "memopt_dry_run", G, "1 when memoptd decides and logs but changes nothing ([daemon] dry_run)");
FAM(f_up, "memopt_module_up", G, "1 when the module is running (ksm, balloon, host, cluster)");
FAM(f_req, "memopt_metrics_requests_total", C, "HTTP requests to the metrics endpoint, by status code");
/* host memory */
FAM(f_mtotal, "memopt_host_memory_total_bytes", G, "MemTotal of /proc/meminfo");
FAM(f_mavail, "memopt_host_memory_available_bytes", G, "MemAvailable of /proc/meminfo");
FAM(f_psi10, "memopt_host_memory_pressure_avg10_ratio", G,
    "share of time in the last 10 s that some or all tasks stalled on memory (/proc/pressure/memory)");
FAM(f_psitot, "memopt_host_memory_pressure_stall_seconds_total", C,
    "total time some or all tasks stalled on memory (/proc/pressure/memory total)");
/* KSM */
FAM(f_kshared, "memopt_ksm_pages_shared_bytes", G, "KSM pages in use (pages_shared), in bytes");
FAM(f_ksharing, "memopt_ksm_pages_sharing_bytes", G, "memory KSM saves by sharing (pages_sharing), in bytes");
FAM(f_kunshared, "memopt_ksm_pages_unshared_bytes", G,
    "pages ksmd checks that are unique (pages_unshared), in bytes");
FAM(f_kvolatile, "memopt_ksm_pages_volatile_bytes", G,
    "pages changing too fast to merge (pages_volatile), in bytes");
FAM(f_kzero, "memopt_ksm_zero_pages_bytes", G,
    "empty pages merged with the zero page (ksm_zero_pages), in bytes");
FAM(f_ksaved, "memopt_ksm_saved_bytes", G, "memory KSM saves: pages_sharing plus ksm_zero_pages, in bytes");
FAM(f_kcopied, "memopt_ksm_copied_estimate_bytes", G,
    "estimate of the merged bytes in memopt_ksm_saved_bytes that writes have copied since ksmd's last visit (churn)");
FAM(f_kprofit, "memopt_ksm_general_profit_bytes", G,
    "the kernel's KSM profit (general_profit): saving less metadata");
FAM(f_kscans, "memopt_ksm_full_scans_total", C, "full scans ksmd completed (full_scans)");
FAM(f_kscanned, "memopt_ksm_pages_scanned_total", C, "pages ksmd visited (pages_scanned)");
FAM(f_kcpu, "memopt_ksmd_cpu_seconds_total", C, "CPU time (user + system) of the ksmd kernel thread");
FAM(f_kcpur, "memopt_ksmd_cpu_ratio", G, "ksmd CPU over the last KSM interval, share of one core");
FAM(f_knob, "memopt_ksm_knob", G,
    "current value of a /sys/kernel/mm/ksm knob (advisor_mode: 0 none, 1 scan-time)");
FAM(f_krun, "memopt_ksm_run", G, "ksmd run state: 0 stopped, 1 running, 2 unmerging all pages");
FAM(f_kmode, "memopt_ksm_mode", G, "[ksm] mode: 1 for the configured one (auto, always, off)");
FAM(f_kmanaged, "memopt_ksm_managed", G, "1 when memoptd may write the KSM knobs ([ksm] manage)");
FAM(f_kphase, "memopt_ksm_controller_phase", G,
    "1 for the KSM controller's current phase (off, converging, settled)");
FAM(f_kdec, "memopt_ksm_decisions_total", C, "KSM controller cycles by how they ended");
FAM(f_kcycles, "memopt_ksm_cycles_total", C, "KSM controller cycles run");
FAM(f_kvm_merging, "memopt_ksm_vm_merging_bytes", G,
    "memory of a process mapped to KSM pages (ksm_merging_pages), in bytes, by domain and pid");
FAM(f_kvm_saved, "memopt_ksm_vm_saved_bytes", G,
    "a process's share of the KSM saving (merging scaled by sharing/(shared+sharing), plus zero pages)");
FAM(f_kvm_profit, "memopt_ksm_vm_profit_bytes", G,
    "the kernel's KSM profit of a process (ksm_process_profit)");
/* balloon */
FAM(f_bconn, "memopt_balloon_connected", G, "1 while memoptd is connected to libvirt");
FAM(f_bguests, "memopt_balloon_guests", G, "running domains the balloon controller sees");
FAM(f_bcycles, "memopt_balloon_cycles_total", C, "balloon controller cycles run");
FAM(f_bcur, "memopt_balloon_current_bytes", G, "a domain's current balloon size (actual), by domain");
FAM(f_btarget, "memopt_balloon_target_bytes", G,
    "the balloon size memoptd last set for a domain, or the operator's manual target");
FAM(f_bdev, "memopt_balloon_target_deviation_bytes", G,
    "current balloon size less the target (actual vs target)");
FAM(f_bfloor, "memopt_balloon_floor_bytes", G, "the size memoptd never shrinks a domain below");
FAM(f_bmax, "memopt_balloon_max_bytes", G, "a domain's maximum memory");
FAM(f_bmanaged, "memopt_balloon_managed", G, "1 when the controller may change the domain's balloon");
FAM(f_bact, "memopt_balloon_actions_total", C, "balloon changes the policy decided, by direction and result");
FAM(f_bshort, "memopt_balloon_host_short", G, "1 when the host was below its balloon goal in the last cycle");
FAM(f_bgoal, "memopt_balloon_host_goal_available_bytes", G,
    "MemAvailable below which guests are reclaimed from");
/* host policy */
FAM(f_hmanaged, "memopt_host_knobs_managed", G, "host knobs memoptd applied and still manages");
FAM(f_hinfo, "memopt_host_knob_info", G,
    "a host knob memoptd applied: applied and original value as labels; always 1");
FAM(f_hval, "memopt_host_knob_value", G, "numeric value of a host knob memoptd applied, and its original");
FAM(f_hyield, "memopt_host_knob_yielded", G, "1 when someone else changed the knob and memoptd yielded it");
FAM(f_hreapply, "memopt_host_knob_reapplies_total", C,
    "re-applies of a knob after drift ([host] drift = reapply)");
FAM(f_hdrift, "memopt_host_drift_events_total", C, "applied host knobs found changed by someone else");
/* headroom */
FAM(f_hrvalid, "memopt_headroom_valid", G, "1 when this host's headroom can be computed");
FAM(f_hrnow, "memopt_headroom_now_bytes", G, "memory a new VM can take now, without reclaiming from guests");
FAM(f_hrrecl, "memopt_headroom_reclaimable_bytes", G, "memory ballooning could free from running guests");
FAM(f_hrhuge, "memopt_headroom_hugepages_free_bytes", G, "free hugepage pool, less reservations");
FAM(f_hrresv, "memopt_headroom_reservations", G, "live admission reservations on this host");
FAM(f_hrresvb, "memopt_headroom_reserved_bytes", G,
    "memory held by live reservations on this host (taken from now)");
/* cluster */
FAM(f_cmode, "memopt_cluster_mode", G, "1 for the configured [cluster] mode (standalone, corosync)");
FAM(f_cconn, "memopt_cluster_connected", G, "1 while connected to corosync (mode = corosync)");
FAM(f_cquorate, "memopt_cluster_quorate", G, "1 while this node is in a quorate partition (mode = corosync)");
FAM(f_cmembers, "memopt_cluster_members", G, "hosts in the current membership");
FAM(f_cnode, "memopt_cluster_node_headroom_bytes", G,
    "a host's headroom as the cluster view sees it, by node and kind");
FAM(f_cfresh, "memopt_cluster_node_fresh", G, "1 when the host's report is fresh enough to admit on");
FAM(f_cresv, "memopt_cluster_reservations", G, "live admission reservations in the cluster ledger");

#undef G
#undef C

#define L(...) ((const struct mtr_label[]){__VA_ARGS__})
#define NL(...) (sizeof((const struct mtr_label[]){__VA_ARGS__}) / sizeof(struct mtr_label))
/* put(writer, family, value, labels...) */
#define PUT_U(w, f, v, ...) mtr_put_u64(w, &f, L(__VA_ARGS__), NL(__VA_ARGS__), v)
#define PUT_U0(w, f, v) mtr_put_u64(w, &f, NULL, 0, v)
#define PUT_I0(w, f, v) mtr_put_i64(w, &f, NULL, 0, v)
#define PUT_D0(w, f, v) mtr_put_double(w, &f, NULL, 0, v)

static uint64_t kib_b(uint64_t kib)
{
	return kib > UINT64_MAX / 1024 ? UINT64_MAX : kib * 1024;
}

static int64_t kib_sb(int64_t kib)
{
	return kib > INT64_MAX / 1024 ? INT64_MAX : kib < INT64_MIN / 1024 ? INT64_MIN : kib * 1024;
}

static void daemon_series(struct mtr_writer *w, const struct memopt_config *cfg, const struct mtr_self *self,
			  uint64_t start_ms, uint64_t now_ms, int64_t wall_ms)
{
	static const char *const codes[MTR_CODE__MAX] = {"200", "404", "405", "500"};
	char buf[160];
	struct ksm_view kv;
	struct bln_view bv;

	PUT_U(w, f_build, 1, {"version", MEMOPT_VERSION});
	PUT_D0(w, f_start, (double)(wall_ms - (int64_t)(now_ms - start_ms)) / 1000.0);
	PUT_U0(w, f_dry, cfg->daemon.dry_run);
	PUT_U(w, f_up, ksm_tuner_view(&kv) || strcmp(ksm_tuner_state(buf, sizeof(buf)), "unavailable") != 0,
	      {"module", "ksm"});
	PUT_U(w, f_up, bln_get_view(&bv), {"module", "balloon"});
	PUT_U(w, f_up, strcmp(sctl_host_state(buf, sizeof(buf)), "unavailable") != 0, {"module", "host"});
	PUT_U(w, f_up, strcmp(clh_state(buf, sizeof(buf)), "unavailable") != 0, {"module", "cluster"});
	for (int i = 0; i < MTR_CODE__MAX; i++)
		PUT_U(w, f_req, self ? self->requests[i] : 0, {"code", codes[i]});
}

static void host_series(struct mtr_writer *w, const struct memopt_config *cfg)
{
	struct host_mem m;
	struct host_psi p;

	if (hm_read_meminfo(cfg->daemon.procfs_root, &m) == 0) {
		PUT_U0(w, f_mtotal, kib_b(m.total_kib));
		PUT_U0(w, f_mavail, kib_b(m.avail_kib));
	}
	if (hm_read_psi(cfg->daemon.procfs_root, &p) == 0 && p.available) {
		mtr_put_double(w, &f_psi10, L({"kind", "some"}), 1, p.some.avg10_ppm / 1e6);
		mtr_put_double(w, &f_psi10, L({"kind", "full"}), 1, p.full.avg10_ppm / 1e6);
		mtr_put_double(w, &f_psitot, L({"kind", "some"}), 1, (double)p.some.total_us / 1e6);
		mtr_put_double(w, &f_psitot, L({"kind", "full"}), 1, (double)p.full.total_us / 1e6);
	}
}

/* --- KSM ---------------------------------------------------------------------------------------- */

#define VM_MAX 4096

struct vm_row {
	char name[PROC_NAME_MAX];
	char pid[16];
	const char *source;
	uint64_t merging_pages, saved_pages;
	int64_t profit_bytes;
};

/* The per-process walk, redone when the tuner has a new sample. */
static struct {
	bool valid;
	uint64_t sample_ms;
	size_t n;
	struct vm_row *row;
} V;

void mtr_collect_fini(void)
{
	free(V.row);
	memset(&V, 0, sizeof(V));
}

static void refresh_vms(const struct memopt_config *cfg, const struct ksm_view *kv)
{
	if (V.valid && V.sample_ms == kv->sample->now_ms)
		return;
	_cleanup_free_ struct ksm_proc_entry *e = calloc(VM_MAX, sizeof(*e));
	if (!V.row)
		V.row = calloc(VM_MAX, sizeof(*V.row));
	if (!e || !V.row)
		return;
	int n = ksm_list_procs(cfg->daemon.procfs_root, e, VM_MAX);
	V.n = 0;
	for (int i = 0; i < n; i++) {
		struct vm_row *r = &V.row[V.n];
		if (e[i].st.merging_pages == 0 && e[i].st.zero_pages == 0 && e[i].st.rmap_items == 0)
			continue;
		ksm_name_process(cfg->daemon.procfs_root, BVIRT_QEMU_RUN_DIR, e[i].pid, r->name,
				 sizeof(r->name), &r->source);
		snprintf(r->pid, sizeof(r->pid), "%d", (int)e[i].pid);
		r->merging_pages = e[i].st.merging_pages;
		r->saved_pages = ksm_proc_saved_pages(&e[i].st, &kv->sample->ksm);
		r->profit_bytes = e[i].st.profit_bytes;
		V.n++;
	}
	V.valid = true;
	V.sample_ms = kv->sample->now_ms;
}

static void ksm_page_gauge(struct mtr_writer *w, const struct mtr_family *f, const struct ksm_state *k,
			   enum ksm_field fld, uint64_t page)
{
	if (ksm_has(k, fld))
		mtr_put_u64(w, f, NULL, 0, k->v[fld] > 0 ? (uint64_t)k->v[fld] * page : 0);
}

static void ksm_series(struct mtr_writer *w, const struct memopt_config *cfg)
{
	static const char *const modes[] = {
	    [KSM_MODE_AUTO] = "auto", [KSM_MODE_ALWAYS] = "always", [KSM_MODE_OFF] = "off"};
	static const enum ksm_phase phases[] = {KSM_PHASE_OFF, KSM_PHASE_CONVERGING, KSM_PHASE_SETTLED};
	struct ksm_view v;

	if (!ksm_tuner_view(&v))
		return;
	const struct ksm_state *k = &v.sample->ksm;
	uint64_t page = (v.sample->page_kib ? v.sample->page_kib : 4) * 1024ull;

	ksm_page_gauge(w, &f_kshared, k, KSM_F_PAGES_SHARED, page);
	ksm_page_gauge(w, &f_ksharing, k, KSM_F_PAGES_SHARING, page);
	ksm_page_gauge(w, &f_kunshared, k, KSM_F_PAGES_UNSHARED, page);
	ksm_page_gauge(w, &f_kvolatile, k, KSM_F_PAGES_VOLATILE, page);
	ksm_page_gauge(w, &f_kzero, k, KSM_F_KSM_ZERO_PAGES, page);
	uint64_t sharing = ksm_has(k, KSM_F_PAGES_SHARING) && k->v[KSM_F_PAGES_SHARING] > 0
			       ? (uint64_t)k->v[KSM_F_PAGES_SHARING]
			       : 0;
	uint64_t zero = ksm_has(k, KSM_F_KSM_ZERO_PAGES) && k->v[KSM_F_KSM_ZERO_PAGES] > 0
			    ? (uint64_t)k->v[KSM_F_KSM_ZERO_PAGES]
			    : 0;
	PUT_U0(w, f_ksaved, (sharing + zero) * page);
	if (v.sample->cow_valid)
		PUT_U0(w, f_kcopied, (v.ctl->stale_est_pages < sharing + zero ? v.ctl->stale_est_pages : sharing + zero) * page);
	if (ksm_has(k, KSM_F_GENERAL_PROFIT))
		PUT_I0(w, f_kprofit, k->v[KSM_F_GENERAL_PROFIT]);
	if (ksm_has(k, KSM_F_FULL_SCANS) && k->v[KSM_F_FULL_SCANS] >= 0)
		PUT_U0(w, f_kscans, (uint64_t)k->v[KSM_F_FULL_SCANS]);
	if (ksm_has(k, KSM_F_PAGES_SCANNED) && k->v[KSM_F_PAGES_SCANNED] >= 0)
		PUT_U0(w, f_kscanned, (uint64_t)k->v[KSM_F_PAGES_SCANNED]);
	if (v.sample->ksmd_cpu_valid) {
		PUT_D0(w, f_kcpu, (double)v.sample->ksmd_cpu_ms / 1000.0);
		PUT_D0(w, f_kcpur, v.ctl->cpu_ppm / 1e6);
	}
	for (int f = 0; f < KSM_F__MAX; f++)
		if (ksm_field_is_knob((enum ksm_field)f) && ksm_has(k, (enum ksm_field)f))
			mtr_put_i64(w, &f_knob, L({"knob", ksm_field_name((enum ksm_field)f)}), 1, k->v[f]);
	if (ksm_has(k, KSM_F_RUN))
		PUT_I0(w, f_krun, k->v[KSM_F_RUN]);
	for (int m = KSM_MODE_AUTO; m <= KSM_MODE_OFF; m++)
		PUT_U(w, f_kmode, (int)v.cfg->ksm.mode == m, {"mode", modes[m]});
	PUT_U0(w, f_kmanaged, v.cfg->ksm.manage);
	for (size_t i = 0; i < ELEMENTSOF(phases); i++)
		PUT_U(w, f_kphase, v.ctl->phase == phases[i], {"phase", ksm_phase_name(phases[i])});
	for (int o = 0; o < KSM_OUT__MAX; o++)
		PUT_U(w, f_kdec, v.outcomes[o], {"reason", ksm_outcome_name((enum ksm_outcome)o)});
	PUT_U0(w, f_kcycles, v.cycles);

	refresh_vms(cfg, &v);
	/* One family after the other: the exposition format wants a family's samples together. */
	for (size_t i = 0; i < V.n; i++)
		PUT_U(w, f_kvm_merging, V.row[i].merging_pages * page, {"domain", V.row[i].name},
		      {"pid", V.row[i].pid}, {"source", V.row[i].source});
	for (size_t i = 0; i < V.n; i++)
		PUT_U(w, f_kvm_saved, V.row[i].saved_pages * page, {"domain", V.row[i].name},
		      {"pid", V.row[i].pid}, {"source", V.row[i].source});
	for (size_t i = 0; i < V.n; i++)
		mtr_put_i64(w, &f_kvm_profit,
			    L({"domain", V.row[i].name}, {"pid", V.row[i].pid}, {"source", V.row[i].source}),
			    3, V.row[i].profit_bytes);
}

/* --- balloon ------------------------------------------------------------------------------------ */

static uint64_t vm_target_kib(const struct bln_vm *vm)
{
	return vm->manual_target_kib ? vm->manual_target_kib : vm->target_kib;
}

static void balloon_series(struct mtr_writer *w)
{
	struct bln_view v;

	if (!bln_get_view(&v))
		return;
	PUT_U0(w, f_bconn, v.connected);
	PUT_U0(w, f_bguests, v.n);
	PUT_U0(w, f_bcycles, v.cycles);
	for (size_t i = 0; i < v.n; i++)
		PUT_U(w, f_bcur, kib_b(v.vms[i].dom.st.actual_kib), {"domain", v.vms[i].dom.name});
	for (size_t i = 0; i < v.n; i++)
		if (vm_target_kib(&v.vms[i]))
			PUT_U(w, f_btarget, kib_b(vm_target_kib(&v.vms[i])), {"domain", v.vms[i].dom.name});
	for (size_t i = 0; i < v.n; i++)
		if (vm_target_kib(&v.vms[i]))
			mtr_put_i64(
			    w, &f_bdev, L({"domain", v.vms[i].dom.name}), 1,
			    kib_sb((int64_t)v.vms[i].dom.st.actual_kib - (int64_t)vm_target_kib(&v.vms[i])));
	for (size_t i = 0; i < v.n; i++)
		PUT_U(w, f_bfloor, kib_b(v.vms[i].b.floor_kib), {"domain", v.vms[i].dom.name});
	for (size_t i = 0; i < v.n; i++)
		PUT_U(w, f_bmax, kib_b(v.vms[i].dom.max_kib), {"domain", v.vms[i].dom.name});
	for (size_t i = 0; i < v.n; i++)
		PUT_U(w, f_bmanaged, v.vms[i].b.managed && v.vms[i].dom.has_balloon,
		      {"domain", v.vms[i].dom.name});
	for (int d = 0; d < 2; d++)
		for (int r = 0; r < BLN_RES__MAX; r++)
			PUT_U(w, f_bact, v.actions[d][r], {"action", d ? "grow" : "shrink"},
			      {"result", bln_result_name((enum bln_result)r)});
	if (v.have_host) {
		PUT_U0(w, f_bshort, v.host_short);
		PUT_U0(w, f_bgoal, kib_b(v.goal_avail_kib));
	}
}

/* --- host policy -------------------------------------------------------------------------------- */

/* A knob value that is a plain decimal number (vm.swappiness "10"; not THP's "madvise"). */
static bool numeric(const char *s, double *ret)
{
	char *end;
	if (!s || !*s || strspn(s, "0123456789") != strlen(s))
		return false;
	*ret = strtod(s, &end);
	return *end == '\0';
}

#define HOST_KNOBS_MAX SCTL_PLAN_MAX /* every item of a plan */

static void host_policy_series(struct mtr_writer *w)
{
	static struct sctl_host_knob k[HOST_KNOBS_MAX];
	unsigned drifts = 0;
	size_t managed = 0;
	double d;
	int n = sctl_host_knobs(k, HOST_KNOBS_MAX, &drifts);

	if (n < 0)
		return;
	for (int i = 0; i < n; i++)
		managed += !k[i].yielded;
	PUT_U0(w, f_hmanaged, managed);
	for (int i = 0; i < n; i++)
		PUT_U(w, f_hinfo, 1, {"knob", k[i].key}, {"applied", k[i].applied},
		      {"original", k[i].original ? k[i].original : ""});
	for (int i = 0; i < n; i++) {
		if (numeric(k[i].applied, &d))
			mtr_put_double(w, &f_hval, L({"knob", k[i].key}, {"value", "applied"}), 2, d);
		if (numeric(k[i].original, &d))
			mtr_put_double(w, &f_hval, L({"knob", k[i].key}, {"value", "original"}), 2, d);
	}
	for (int i = 0; i < n; i++)
		PUT_U(w, f_hyield, k[i].yielded, {"knob", k[i].key});
	for (int i = 0; i < n; i++)
		PUT_U(w, f_hreapply, k[i].reapplies, {"knob", k[i].key});
	PUT_U0(w, f_hdrift, drifts);
}

/* --- headroom and cluster ----------------------------------------------------------------------- */

static void cluster_series(struct mtr_writer *w, int64_t wall_ms)
{
	struct clh_status s;
	struct hr_headroom h;
	char buf[160];
	uint64_t resv_n = 0, resv_kib = 0, live = 0;
	size_t members = 0;

	if (strcmp(clh_state(buf, sizeof(buf)), "unavailable") == 0)
		return;
	clh_status_get(&s);
	if (!s.cfg || !s.st)
		return;
	int64_t expiry = (int64_t)s.cfg->cluster.peer_expiry_ms;

	memset(&h, 0, sizeof(h));
	if (clh_can_answer(buf, sizeof(buf)))
		hr_host_headroom(s.st, hr_state_find(s.st, s.name), wall_ms, expiry, &h);
	for (size_t i = 0; i < s.st->nresv; i++) {
		const struct hr_resv *r = &s.st->resv[i];
		if (r->expires_wall_ms <= wall_ms)
			continue;
		live++;
		if (strcmp(r->target, s.name) == 0) {
			resv_n++;
			resv_kib += r->now_kib;
		}
	}
	PUT_U0(w, f_hrvalid, h.valid);
	if (h.valid) {
		PUT_I0(w, f_hrnow, kib_sb(h.now_kib));
		PUT_I0(w, f_hrrecl, kib_sb(h.reclaimable_kib));
		PUT_I0(w, f_hrhuge, kib_sb(h.hp_free_kib));
	}
	PUT_U0(w, f_hrresv, resv_n);
	PUT_U0(w, f_hrresvb, kib_b(resv_kib));

	PUT_U(w, f_cmode, !s.corosync, {"mode", "standalone"});
	PUT_U(w, f_cmode, s.corosync, {"mode", "corosync"});
	if (s.corosync) {
		PUT_U0(w, f_cconn, s.connected);
		PUT_U0(w, f_cquorate, s.quorate);
	}
	for (size_t i = 0; i < s.st->nhosts; i++)
		members += s.st->host[i].member;
	PUT_U0(w, f_cmembers, members);
	static const char *const kinds[] = {"now", "reclaimable", "hugepages_free"};
	for (size_t k = 0; k < ELEMENTSOF(kinds); k++)
		for (size_t i = 0; i < s.st->nhosts; i++) {
			const struct hr_host *hh = &s.st->host[i];
			struct hr_headroom x;
			if (!hh->have_report || !hr_host_headroom(s.st, hh, wall_ms, expiry, &x))
				continue;
			int64_t kib = k == 0 ? x.now_kib : k == 1 ? x.reclaimable_kib : x.hp_free_kib;
			mtr_put_i64(w, &f_cnode, L({"node", hh->rep.host}, {"kind", kinds[k]}), 2,
				    kib_sb(kib));
		}
	for (size_t i = 0; i < s.st->nhosts; i++) {
		const struct hr_host *hh = &s.st->host[i];
		struct hr_headroom x;
		if (hh->have_report)
			PUT_U(w, f_cfresh, hr_host_headroom(s.st, hh, wall_ms, expiry, &x),
			      {"node", hh->rep.host});
	}
	PUT_U0(w, f_cresv, live);
}

int mtr_collect(struct mtr_writer *w, const struct memopt_config *cfg, const struct mtr_self *self,
		uint64_t start_ms, uint64_t now_ms, int64_t wall_ms)
{
	daemon_series(w, cfg, self, start_ms, now_ms, wall_ms);
	host_series(w, cfg);
	ksm_series(w, cfg);
	balloon_series(w);
	host_policy_series(w);
	cluster_series(w, wall_ms);
	return w->oom ? -ENOMEM : 0;
}
