/* commands.c - the control commands: status, ksm, log, guests, balloon-set, balloon-release, numa, host,
 * host-plan, host-apply, host-restore (the cluster commands are registered by cluster-hook/clh_cmds.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "ctlsrv.h"
#include "../common/hostmem.h"
#include "../common/log.h"
#include "../common/loop.h"
#include "../common/state.h"
#include "../common/units.h"
#include "../balloon/bln_ctl.h"
#include "../balloon/bln_report.h"
#include "../balloon/bln_virt.h"
#include "../cluster-hook/clh.h"
#include "../ksmtuned/ksm_report.h"
#include "../ksmtuned/ksm_tuner.h"
#include "../numa/nod_report.h"
#include "../sysctl/sctl_host.h"


static const struct memopt_config *const *C;
static uint64_t started_ms;
static const struct st_journal *J;

/* Lateness of each module's control cycle since start: a busy socket must not push a cycle back. */
static json_object *loop_json(void)
{
	struct ev_lateness st[EV_MAX_CYCLES];
	size_t n = ev_cycle_stats(st, EV_MAX_CYCLES);
	json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	if (n > EV_MAX_CYCLES)
		n = EV_MAX_CYCLES;
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_new_object();
		json_object_object_add(c, "name", json_object_new_string(st[i].name));
		json_object_object_add(c, "period_ms", json_object_new_int64((int64_t)st[i].last_delay_ms));
		json_object_object_add(c, "fired", json_object_new_int64((int64_t)st[i].fired));
		json_object_object_add(c, "late", json_object_new_int64((int64_t)st[i].late));
		json_object_object_add(c, "overruns", json_object_new_int64((int64_t)st[i].overruns));
		json_object_object_add(c, "max_late_ms", json_object_new_int64((int64_t)st[i].max_late_ms));
		json_object_object_add(c, "last_late_ms", json_object_new_int64((int64_t)st[i].last_late_ms));
		json_object_array_add(arr, c);
	}
	json_object_object_add(o, "late_threshold_ms", json_object_new_int(EV_LATE_MS));
	json_object_object_add(o, "cycles", arr);
	return o;
}

static json_object *control_json(void)
{
	struct ctl_stats s;
	json_object *o = json_object_new_object();
	ctl_get_stats(&s);
	json_object_object_add(o, "connected", json_object_new_int64(s.connected));
	json_object_object_add(o, "max_clients", json_object_new_int64(s.max_clients));
	json_object_object_add(o, "client_timeout_ms", json_object_new_int64((int64_t)s.timeout_ms));
	json_object_object_add(o, "max_seen", json_object_new_int64(s.max_seen));
	json_object_object_add(o, "accepted", json_object_new_int64((int64_t)s.accepted));
	json_object_object_add(o, "paused_full", json_object_new_int64((int64_t)s.paused_full));
	json_object_object_add(o, "evicted", json_object_new_int64((int64_t)s.evicted));
	json_object_object_add(o, "timed_out", json_object_new_int64((int64_t)s.timed_out));
	return o;
}

static int cmd_status(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer; (void)args; (void)err; (void)errlen;
	const struct memopt_config *c = *C;
	json_object *r = json_object_new_object();
	json_object_object_add(r, "version", json_object_new_string(MEMOPT_VERSION));
	json_object_object_add(r, "pid", json_object_new_int(getpid()));
	json_object_object_add(r, "uptime_s", json_object_new_int64((int64_t)((ev_now_ms() - started_ms) / 1000)));
	json_object_object_add(r, "dry_run", json_object_new_boolean(c->daemon.dry_run));
	json_object_object_add(r, "config", json_object_new_string(c->path[0] ? c->path : "(built-in defaults)"));
	json_object_object_add(r, "sysfs_root", json_object_new_string(c->daemon.sysfs_root));
	json_object_object_add(r, "procfs_root", json_object_new_string(c->daemon.procfs_root));
	struct host_mem m;
	struct host_psi p;
	json_object *h = json_object_new_object();
	if (hm_read_meminfo(c->daemon.procfs_root, &m) == 0) {
		json_object_object_add(h, "mem_total_kib", json_object_new_int64((int64_t)m.total_kib));
		json_object_object_add(h, "mem_avail_kib", json_object_new_int64((int64_t)m.avail_kib));
	}
	if (hm_read_psi(c->daemon.procfs_root, &p) == 0 && p.available) {
		json_object_object_add(h, "psi_some_avg10", json_object_new_double(p.some.avg10_ppm / 10000.0));
		json_object_object_add(h, "psi_full_avg10", json_object_new_double(p.full.avg10_ppm / 10000.0));
	}
	json_object_object_add(r, "host", h);
	if (J) {
		char detail[1536];
		json_object *j = json_object_new_object();
		json_object_object_add(j, "state", json_object_new_string(st_health(J, detail, sizeof(detail))));
		json_object_object_add(j, "detail", json_object_new_string(detail));
		json_object_object_add(r, "journal", j);
	}
	json_object *mods = json_object_new_array();
	json_object *k = json_object_new_object();
	char buf[160];
	ksm_tuner_state(buf, sizeof(buf));
	json_object_object_add(k, "name", json_object_new_string("ksm"));
	json_object_object_add(k, "state", json_object_new_string(strcmp(buf, "unavailable") ? "running" : "unavailable"));
	json_object_object_add(k, "detail", json_object_new_string(buf));
	json_object_array_add(mods, k);
	json_object *b = json_object_new_object();
	bln_state(buf, sizeof(buf));
	json_object_object_add(b, "name", json_object_new_string("balloon"));
	json_object_object_add(b, "state", json_object_new_string(strcmp(buf, "unavailable") == 0 ? "unavailable"
								  : strncmp(buf, "disconnected", 12) == 0 ? "disconnected"
													   : "running"));
	json_object_object_add(b, "detail", json_object_new_string(buf));
	json_object_array_add(mods, b);
	json_object *cl = json_object_new_object();
	clh_state(buf, sizeof(buf));
	json_object_object_add(cl, "name", json_object_new_string("cluster"));
	json_object_object_add(cl, "state", json_object_new_string(strcmp(buf, "unavailable") == 0 ? "unavailable"
								   : strstr(buf, "disconnected") ? "disconnected"
												 : "running"));
	json_object_object_add(cl, "detail", json_object_new_string(buf));
	json_object_array_add(mods, cl);
	json_object *hs = json_object_new_object();
	sctl_host_state(buf, sizeof(buf));
	json_object_object_add(hs, "name", json_object_new_string("host"));
	json_object_object_add(hs, "state", json_object_new_string(strcmp(buf, "unavailable") ? "running" : "unavailable"));
	json_object_object_add(hs, "detail", json_object_new_string(buf));
	json_object_array_add(mods, hs);
	json_object_object_add(r, "modules", mods);
	json_object_object_add(r, "loop", loop_json());
	json_object_object_add(r, "control", control_json());
	*ret = r;
	return 0;
}

static int cmd_ksm(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer; (void)args;
	json_object *r = ksm_report_json((*C)->daemon.procfs_root, BVIRT_QEMU_RUN_DIR);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*ret = r;
	return 0;
}

static int get_int_arg(json_object *args, const char *key, int64_t min, int64_t max, int64_t *v, char *err,
		       size_t errlen)
{
	json_object *o;
	if (!args || !json_object_object_get_ex(args, key, &o))
		return 0;
	if (!json_object_is_type(o, json_type_int)) {
		snprintf(err, errlen, "argument '%s' must be an integer", key);
		return -EINVAL;
	}
	int64_t x = json_object_get_int64(o);
	if (x < min || x > max) {
		snprintf(err, errlen, "argument '%s' out of range (%lld..%lld)", key, (long long)min, (long long)max);
		return -EINVAL;
	}
	*v = x;
	return 0;
}

static int cmd_log(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer;
	int64_t since = 0, limit = DLOG_RING_SIZE;
	int r = get_int_arg(args, "since", 0, INT64_MAX, &since, err, errlen);
	if (r == 0)
		r = get_int_arg(args, "limit", 1, DLOG_RING_SIZE, &limit, err, errlen);
	if (r < 0)
		return r;
	static struct dlog_entry e[DLOG_RING_SIZE];
	size_t n = dlog_get(e, (size_t)limit, (uint64_t)since);
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "seq", json_object_new_int64((int64_t)e[i].seq));
		json_object_object_add(o, "time_ms", json_object_new_int64(e[i].wall_ms));
		json_object_object_add(o, "subsys", json_object_new_string(e[i].subsys));
		json_object_object_add(o, "action", json_object_new_string(e[i].action));
		json_object_object_add(o, "reason", json_object_new_string(e[i].reason));
		json_object_object_add(o, "dry_run", json_object_new_boolean(e[i].dry_run));
		json_object_array_add(arr, o);
	}
	json_object *res = json_object_new_object();
	json_object_object_add(res, "entries", arr);
	*ret = res;
	return 0;
}

static int cmd_guests(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer; (void)args;
	json_object *r = bln_report_json((*C)->daemon.procfs_root);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*ret = r;
	return 0;
}

/* The "name" argument: a domain name or UUID. */
static int get_name_arg(json_object *args, const char **ret, char *err, size_t errlen)
{
	json_object *o;
	const char *s;
	if (!args || !json_object_object_get_ex(args, "name", &o) || !json_object_is_type(o, json_type_string)) {
		snprintf(err, errlen, "argument 'name' (a domain name or UUID) is required and must be a string");
		return -EINVAL;
	}
	s = json_object_get_string(o);
	if (!s[0] || strlen(s) >= 256) {
		snprintf(err, errlen, "argument 'name' must be 1..255 characters");
		return -EINVAL;
	}
	*ret = s;
	return 0;
}

/* A string of digits only: virsh reads it as KiB, our size parser as bytes. Refuse the ambiguity. */
static bool bare_number(const char *v)
{
	while (*v == ' ')
		v++;
	if (!*v)
		return false;
	for (; *v; v++)
		if ((*v < '0' || *v > '9') && *v != ' ')
			return false;
	return true;
}

/* The "size" argument: a size with a unit as memoptctl and memoptd.conf write it ("2G", "1536M"), or a
 * JSON integer of KiB. A unit-less string is refused: virsh setmem reads "4194304" as KiB. */
static int get_size_arg(json_object *args, uint64_t *ret_kib, char *err, size_t errlen)
{
	json_object *o;
	uint64_t kib = 0;
	if (args && json_object_object_get_ex(args, "size", &o)) {
		if (json_object_is_type(o, json_type_string)) {
			const char *v = json_object_get_string(o);
			if (bare_number(v)) {
				snprintf(err, errlen, "argument 'size' '%s' has no unit: write e.g. \"4G\", \"512M\" or \"%sK\"",
					 v, v);
				return -EINVAL;
			}
			if (unit_parse_size_kib(v, &kib) < 0)
				kib = 0;
		} else if (json_object_is_type(o, json_type_int) && json_object_get_int64(o) > 0) {
			kib = (uint64_t)json_object_get_int64(o);
		}
	}
	if (kib == 0) {
		snprintf(err, errlen, "argument 'size' must be a size like \"2G\" or \"1536M\" (or an integer of KiB)");
		return -EINVAL;
	}
	*ret_kib = kib;
	return 0;
}

static int cmd_balloon_set(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err,
			   size_t errlen)
{
	(void)peer;
	const struct bln_vm *vm;
	const char *name;
	uint64_t kib;
	int r = get_name_arg(args, &name, err, errlen);
	if (r < 0)
		return r;
	r = get_size_arg(args, &kib, err, errlen);
	if (r < 0)
		return r;
	r = bln_set_manual(name, kib, &vm, err, errlen);
	if (r < 0)
		return r;
	*ret = bln_report_vm(vm, (*C)->daemon.procfs_root);
	return *ret ? 0 : -ENOMEM;
}

static int cmd_balloon_release(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err,
			       size_t errlen)
{
	(void)peer;
	const struct bln_vm *vm;
	const char *name;
	int r = get_name_arg(args, &name, err, errlen);
	if (r < 0)
		return r;
	r = bln_release_manual(name, &vm, err, errlen);
	if (r < 0)
		return r;
	*ret = bln_report_vm(vm, (*C)->daemon.procfs_root);
	return *ret ? 0 : -ENOMEM;
}

static int cmd_numa(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer; (void)args;
	json_object *r = nod_report_json((*C)->daemon.sysfs_root, (*C)->daemon.procfs_root, err, errlen);
	if (!r)
		return -EIO;
	*ret = r;
	return 0;
}

static int cmd_host(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer; (void)args;
	return sctl_host_status(ret, err, errlen);
}

static int cmd_host_plan(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer; (void)args;
	return sctl_host_plan(ret, err, errlen);
}

/* The optional "dry_run" boolean argument. */
static int get_dry_run_arg(json_object *args, bool *ret, char *err, size_t errlen)
{
	json_object *o;
	*ret = false;
	if (!args || !json_object_object_get_ex(args, "dry_run", &o))
		return 0;
	if (!json_object_is_type(o, json_type_boolean)) {
		snprintf(err, errlen, "argument 'dry_run' must be a boolean");
		return -EINVAL;
	}
	*ret = json_object_get_boolean(o);
	return 0;
}

static int cmd_host_apply(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer;
	bool dry;
	int r = get_dry_run_arg(args, &dry, err, errlen);
	return r < 0 ? r : sctl_host_apply(dry, ret, err, errlen);
}

static int cmd_host_restore(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err,
			    size_t errlen)
{
	(void)peer;
	bool dry;
	int r = get_dry_run_arg(args, &dry, err, errlen);
	return r < 0 ? r : sctl_host_restore(dry, ret, err, errlen);
}

static const struct ctl_command commands[] = {
	{ "status", false, "", cmd_status },
	{ "ksm", false, "", cmd_ksm },
	{ "log", false, "[since:int] [limit:int]", cmd_log },
	{ "guests", false, "", cmd_guests },
	{ "balloon-set", true, "name:string size:string", cmd_balloon_set },
	{ "balloon-release", true, "name:string", cmd_balloon_release },
	{ "numa", false, "", cmd_numa },
	{ "host", false, "", cmd_host },
	{ "host-plan", false, "", cmd_host_plan },
	{ "host-apply", true, "[dry_run:bool]", cmd_host_apply },
	{ "host-restore", true, "[dry_run:bool]", cmd_host_restore },
};

int commands_init(const struct memopt_config *const *cfg_ref, const struct st_journal *journal, uint64_t start_ms)
{
	J = journal;
	C = cfg_ref;
	started_ms = start_ms;
	return ctl_register(commands, sizeof(commands) / sizeof(commands[0]));
}
