/* bln_report.c - builds the `guests` report: connection, host goal, and per VM its size, bounds, guest
 * signals, KSM savings and the controller's last decision with its reason. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bln_report.h"
#include "../ksmtuned/ksm_report.h"
#include "../ksmtuned/ksm_sysfs.h"

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v));
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void add_bool(json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

static json_object *note_json(const struct bln_note *n)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "time_ms", json_object_new_int64(n->time_ms));
	add_str(o, "action", n->action);
	add_str(o, "reason", n->reason);
	return o;
}

json_object *bln_report_vm(const struct bln_vm *vm, const char *procfs_root)
{
	const struct bvirt_dom *d = &vm->dom;
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	add_str(o, "name", d->name);
	add_str(o, "uuid", d->uuid);
	add_str(o, "state", "running");
	add_bool(o, "managed", vm->b.managed);
	add_str(o, "manage_source", vm->b.manage_source);
	add_bool(o, "has_balloon", d->has_balloon);
	add_bool(o, "balloon_ok", vm->balloon_ok);
	add_bool(o, "stats_fresh", vm->stats_fresh);
	add_u64(o, "actual_kib", d->st.actual_kib);
	add_u64(o, "floor_kib", vm->b.floor_kib);
	add_str(o, "floor_source", vm->b.floor_source);
	add_u64(o, "max_kib", d->max_kib);
	add_u64(o, "shares", vm->b.shares);
	add_u64(o, "target_kib", vm->target_kib);
	add_u64(o, "manual_target_kib", vm->manual_target_kib);
	add_u64(o, "usable_kib", vm->usable_kib);
	add_u64(o, "disk_caches_kib", d->st.disk_caches_kib);
	add_u64(o, "guest_total_kib", d->st.available_kib);
	add_u64(o, "rss_kib", d->st.rss_kib);
	add_u64(o, "swap_in_kib_s", vm->swap_in_kib_s);
	add_u64(o, "major_faults_s", vm->major_faults_s);
	json_object_object_add(o, "last_update_s", json_object_new_int64(d->st.last_update_s));
	if (d->qemu_pid > 0) {
		struct ksm_proc_stat ks;
		long page = sysconf(_SC_PAGESIZE);
		json_object_object_add(o, "pid", json_object_new_int(d->qemu_pid));
		if (ksm_read_proc(procfs_root, d->qemu_pid, &ks) == 0) {
			/* the host's counters from the KSM tuner's last cycle scale the VM's share */
			struct ksm_view kv;
			const struct ksm_state *ksm_host = ksm_tuner_view(&kv) ? &kv.sample->ksm : NULL;
			uint64_t pk = page > 0 ? (uint64_t)page / 1024 : 4;
			add_u64(o, "ksm_saved_kib", ksm_proc_saved_pages(&ks, ksm_host) * pk);
			json_object_object_add(o, "ksm_profit_kib",
					       json_object_new_int64(ks.profit_bytes / 1024));
		}
	}
	json_object_object_add(o, "last_decision", note_json(&vm->last));
	add_str(o, "reason", vm->last.reason); /* = last_decision.reason, for simple filters */
	json_object_object_add(o, "last_change", note_json(&vm->change));
	return o;
}

json_object *bln_report_json(const char *procfs_root)
{
	struct bln_view v;
	char buf[64];
	json_object *r = json_object_new_object();
	if (!r)
		return NULL;
	if (!bln_get_view(&v)) {
		add_bool(r, "available", false);
		return r;
	}
	add_bool(r, "available", true);
	add_bool(r, "managed", v.cfg->balloon.manage);
	add_bool(r, "dry_run", v.cfg->daemon.dry_run);
	json_object_object_add(r, "interval_ms", json_object_new_int64((int64_t)v.cfg->balloon.interval_ms));

	json_object *c = json_object_new_object();
	add_str(c, "uri", v.uri);
	add_str(c, "state", v.connected ? "connected" : "disconnected");
	if (!v.connected) {
		snprintf(buf, sizeof(buf), "disconnected, retrying in %llus",
			 (unsigned long long)((v.retry_in_ms + 999) / 1000));
		add_str(c, "detail", buf);
		add_u64(c, "retry_in_ms", v.retry_in_ms);
		if (v.error && v.error[0])
			add_str(c, "last_error", v.error);
	}
	json_object_object_add(r, "connection", c);

	json_object *h = json_object_new_object();
	if (v.have_host) {
		add_u64(h, "total_kib", v.host.total_kib);
		add_u64(h, "avail_kib", v.host.avail_kib);
		if (v.host.psi_available)
			json_object_object_add(h, "psi_some_avg10",
					       json_object_new_double(v.host.psi_some_avg10_ppm / 10000.0));
		add_u64(h, "goal_avail_kib", v.goal_avail_kib);
		add_u64(h, "release_avail_kib", v.release_avail_kib);
		add_str(h, "goal",
			v.host_short				  ? "short"
			: v.host.avail_kib >= v.release_avail_kib ? "room"
								  : "steady");
		add_bool(h, "short", v.host_short);
		json_object_object_add(h, "gap_kib", json_object_new_int64(v.host_gap_kib));
		add_str(h, "summary", v.summary);
		json_object_object_add(h, "last_cycle_ms", json_object_new_int64(v.last_cycle_ms));
	}
	json_object_object_add(r, "host", h);

	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < v.n; i++) {
		json_object *g = bln_report_vm(&v.vms[i], procfs_root);
		if (g)
			json_object_array_add(arr, g);
	}
	json_object_object_add(r, "guests", arr);
	return r;
}
