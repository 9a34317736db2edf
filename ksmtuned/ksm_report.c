/* ksm_report.c - builds the `ksm` report: host totals, knobs, controller state and per-VM sharing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ksm_report.h"
#include "ksm_sysfs.h"
#include "../common/cleanup.h"
#include "../common/procs.h"

#define REPORT_MAX_PROCS 4096

/* Pages to MiB at the kernel's page size. */
static double MIB(uint64_t pages)
{
	long page = sysconf(_SC_PAGESIZE);
	return (double)pages * (double)(page > 0 ? page : 4096) / 1048576.0;
}

/* Find the libvirt domain whose pid file holds `pid`. */
static int libvirt_name_for_pid(const char *run_dir, pid_t pid, char *ret_name, size_t len)
{
	_cleanup_closedir_ DIR *d = opendir(run_dir);
	if (!d)
		return -errno;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n <= 4 || strcmp(de->d_name + n - 4, ".pid") != 0)
			continue;
		char path[1024], buf[32];
		snprintf(path, sizeof(path), "%s/%s", run_dir, de->d_name);
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		ssize_t r = read(fd, buf, sizeof(buf) - 1);
		if (r <= 0)
			continue;
		buf[r] = 0;
		char *end;
		long v = strtol(buf, &end, 10);
		if (end == buf || v != (long)pid)
			continue;
		snprintf(ret_name, len, "%.*s", (int)(n - 4), de->d_name);
		return 0;
	}
	return -ENOENT;
}

int ksm_name_process(const char *procfs_root, const char *libvirt_run_dir, pid_t pid, char *ret_name, size_t len,
		     const char **ret_source)
{
	if (libvirt_run_dir && libvirt_name_for_pid(libvirt_run_dir, pid, ret_name, len) == 0) {
		*ret_source = "libvirt";
		return 0;
	}
	char path[512];
	snprintf(path, sizeof(path), "%s/%d/cmdline", procfs_root, (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		_cleanup_free_ char *buf = malloc(65536);
		ssize_t r = buf ? read(fd, buf, 65535) : -1;
		if (r > 0) {
			char name[PROC_NAME_MAX], uuid[40];
			proc_parse_qemu_cmdline(buf, (size_t)r, name, sizeof(name), uuid, sizeof(uuid));
			if (name[0]) {
				snprintf(ret_name, len, "%s", name);
				*ret_source = "cmdline";
				return 0;
			}
		}
	}
	struct proc_stat ps;
	if (proc_read_stat(procfs_root, pid, &ps) == 0)
		snprintf(ret_name, len, "%s[%d]", ps.comm, (int)pid);
	else
		snprintf(ret_name, len, "pid %d", (int)pid);
	*ret_source = "comm";
	return 0;
}

uint64_t ksm_proc_saved_pages(const struct ksm_proc_stat *p, const struct ksm_state *host)
{
	uint64_t merging = p->merging_pages;
	if (host && ksm_has(host, KSM_F_PAGES_SHARED) && ksm_has(host, KSM_F_PAGES_SHARING)) {
		uint64_t shared = host->v[KSM_F_PAGES_SHARED] > 0 ? (uint64_t)host->v[KSM_F_PAGES_SHARED] : 0;
		uint64_t sharing = host->v[KSM_F_PAGES_SHARING] > 0 ? (uint64_t)host->v[KSM_F_PAGES_SHARING] : 0;
		merging = shared + sharing ? (uint64_t)((long double)merging * (long double)sharing /
							(long double)(shared + sharing))
					   : 0;
	}
	return merging + p->zero_pages;
}

static void add_u64(json_object *o, const char *k, uint64_t v) { json_object_object_add(o, k, json_object_new_int64((int64_t)v)); }
static void add_dbl(json_object *o, const char *k, double v) { json_object_object_add(o, k, json_object_new_double(v)); }

static json_object *host_json(const struct ksm_view *v)
{
	const struct ksm_state *k = &v->sample->ksm;
	json_object *h = json_object_new_object();
	static const enum ksm_field counters[] = { KSM_F_RUN, KSM_F_PAGES_SHARED, KSM_F_PAGES_SHARING,
		KSM_F_PAGES_UNSHARED, KSM_F_PAGES_VOLATILE, KSM_F_KSM_ZERO_PAGES, KSM_F_FULL_SCANS, KSM_F_PAGES_SCANNED,
		KSM_F_PAGES_SKIPPED, KSM_F_STABLE_NODE_CHAINS, KSM_F_STABLE_NODE_DUPS };
	for (size_t i = 0; i < ELEMENTSOF(counters); i++)
		if (ksm_has(k, counters[i]))
			json_object_object_add(h, ksm_field_name(counters[i]), json_object_new_int64(k->v[counters[i]]));
	uint64_t sharing = ksm_has(k, KSM_F_PAGES_SHARING) ? (uint64_t)k->v[KSM_F_PAGES_SHARING] : 0;
	uint64_t zero = ksm_has(k, KSM_F_KSM_ZERO_PAGES) ? (uint64_t)k->v[KSM_F_KSM_ZERO_PAGES] : 0;
	add_dbl(h, "shared_mib", ksm_has(k, KSM_F_PAGES_SHARED) ? MIB((uint64_t)k->v[KSM_F_PAGES_SHARED]) : 0.0);
	add_dbl(h, "saved_mib", MIB(sharing + zero));
	if (ksm_has(k, KSM_F_GENERAL_PROFIT))
		add_dbl(h, "general_profit_mib", (double)k->v[KSM_F_GENERAL_PROFIT] / 1048576.0);
	add_dbl(h, "scan_rate_pages_s", (double)v->ctl->scan_rate_pages_s);
	if (v->sample->ksmd_cpu_valid)
		add_dbl(h, "ksmd_cpu_percent", (double)v->ctl->cpu_ppm / 10000.0);
	add_dbl(h, "mergeable_est_mib", MIB(v->ctl->mergeable_est_pages));
	/* from the last QEMU process scan (every few cycles); unreadable ones lack cap_dac_read_search */
	add_u64(h, "qemu_processes", v->sample->vm_procs);
	add_u64(h, "qemu_ksm_stat_unreadable", v->sample->vm_unreadable);
	if (v->sample->cow_valid) {
		add_u64(h, "churn_pages_s", v->ctl->churn_pages_s);
		/* saved_mib counts merged pages that writes have copied since ksmd's last visit: an estimate
		 * of them, and of what is really saved */
		uint64_t stale = v->ctl->stale_est_pages < sharing + zero ? v->ctl->stale_est_pages : sharing + zero;
		add_dbl(h, "copied_est_mib", MIB(stale));
		add_dbl(h, "saved_est_mib", MIB(sharing + zero - stale));
	}
	return h;
}

static json_object *knobs_json(const struct ksm_state *k)
{
	json_object *o = json_object_new_object();
	for (int f = 0; f < KSM_F__MAX; f++) {
		if (!ksm_field_is_knob((enum ksm_field)f) || !ksm_has(k, (enum ksm_field)f))
			continue;
		if (f == KSM_F_ADVISOR_MODE)
			json_object_object_add(o, ksm_field_name((enum ksm_field)f),
					       json_object_new_string(ksm_advisor_mode_name(k->v[f])));
		else
			json_object_object_add(o, ksm_field_name((enum ksm_field)f), json_object_new_int64(k->v[f]));
	}
	return o;
}

static json_object *vms_json(const char *procfs_root, const char *libvirt_run_dir, const struct ksm_state *host)
{
	json_object *arr = json_object_new_array();
	_cleanup_free_ struct ksm_proc_entry *e = calloc(REPORT_MAX_PROCS, sizeof(*e));
	if (!e)
		return arr;
	int n = ksm_list_procs(procfs_root, e, REPORT_MAX_PROCS);
	for (int i = 0; i < n; i++) {
		if (e[i].st.merging_pages == 0 && e[i].st.zero_pages == 0 && e[i].st.rmap_items == 0)
			continue;
		char name[PROC_NAME_MAX];
		const char *source = "comm";
		ksm_name_process(procfs_root, libvirt_run_dir, e[i].pid, name, sizeof(name), &source);
		json_object *o = json_object_new_object();
		add_u64(o, "pid", (uint64_t)e[i].pid);
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "source", json_object_new_string(source));
		json_object_object_add(o, "comm", json_object_new_string(e[i].comm));
		add_u64(o, "merging_pages", e[i].st.merging_pages);
		add_u64(o, "zero_pages", e[i].st.zero_pages);
		add_u64(o, "rmap_items", e[i].st.rmap_items);
		add_dbl(o, "saved_mib", MIB(ksm_proc_saved_pages(&e[i].st, host)));
		add_dbl(o, "profit_mib", (double)e[i].st.profit_bytes / 1048576.0);
		json_object_object_add(o, "profit_bytes", json_object_new_int64(e[i].st.profit_bytes));
		json_object_array_add(arr, o);
	}
	return arr;
}

json_object *ksm_report_json(const char *procfs_root, const char *libvirt_run_dir)
{
	struct ksm_view v;
	json_object *r = json_object_new_object();
	if (!r)
		return NULL;
	if (!ksm_tuner_view(&v)) {
		json_object_object_add(r, "available", json_object_new_boolean(0));
		return r;
	}
	const struct cfg_ksm *c = &v.cfg->ksm;
	json_object_object_add(r, "available", json_object_new_boolean(v.sample->ksm.present));
	json_object_object_add(r, "managed", json_object_new_boolean(c->manage));
	json_object_object_add(r, "dry_run", json_object_new_boolean(v.cfg->daemon.dry_run));
	json_object_object_add(r, "mode", json_object_new_string(c->mode == KSM_MODE_AUTO ? "auto"
								  : c->mode == KSM_MODE_ALWAYS ? "always" : "off"));
	json_object_object_add(r, "rate_control", json_object_new_string(c->rate_control == KSM_RATE_SELF ? "self" : "advisor"));
	json_object *ctl = json_object_new_object();
	json_object_object_add(ctl, "state", json_object_new_string(ksm_phase_name(v.ctl->phase)));
	add_u64(ctl, "since_ms", v.ctl->phase_since_ms);
	add_dbl(ctl, "credit_cpu_s", (double)v.ctl->credit_ms / 1000.0);
	if (v.ctl->cost_ns_per_page)
		add_u64(ctl, "cost_ns_per_page", v.ctl->cost_ns_per_page);
	if (v.ctl->last_yield_valid)
		add_u64(ctl, "last_scan_yield_kib_per_cpu_s", v.ctl->last_yield_kib_per_cpu_s);
	add_u64(ctl, "full_scan_pages", v.ctl->full_scan_pages);
	json_object *ld = json_object_new_object();
	add_u64(ld, "time_ms", (uint64_t)v.last_action_ms);
	json_object_object_add(ld, "action", json_object_new_string(v.last_action));
	json_object_object_add(ld, "reason", json_object_new_string(v.last_reason));
	json_object_object_add(ctl, "current_reason", json_object_new_string(v.decision->reason));
	json_object_object_add(ctl, "last_decision", ld);
	if (v.write_failed[0])
		json_object_object_add(ctl, "write_failed", json_object_new_string(v.write_failed));
	json_object_object_add(r, "controller", ctl);
	json_object_object_add(r, "host", host_json(&v));
	json_object_object_add(r, "knobs", knobs_json(&v.sample->ksm));
	json_object_object_add(r, "vms", vms_json(procfs_root, libvirt_run_dir, &v.sample->ksm));
	return r;
}
