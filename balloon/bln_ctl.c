/* bln_ctl.c - memoptd's balloon module: every [balloon] interval reads the host and the guests, asks
 * bln_policy what to do, re-checks each guest and resizes its balloon through the libvirt adapter. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libvirt/libvirt.h>

#include "bln_ctl.h"
#include "../common/cleanup.h"
#include "../common/hostmem.h"
#include "../common/log.h"
#include "../common/loop.h"

#define FRESH_PERIODS 3	     /* last_update older than this many periods = stale */
#define RECHECK_MIN_KIB 1024 /* actual may drift this much between sample and act */

static struct {
	bool active;
	const struct memopt_config *cfg;
	struct bvirt *v;
	int64_t timer;
	bool was_connected;
	struct bln_vm *vms; /* sorted by uuid */
	size_t n;
	bool have_host;
	struct bln_host host;
	struct bln_policy_cfg pcfg;
	bool host_short;
	int64_t host_gap_kib;
	char summary[BLN_REASON_MAX];
	int64_t last_cycle_ms;
	uint64_t cycles;
	uint64_t actions[2][BLN_RES__MAX];
} M = {.timer = -1};

const char *bln_result_name(enum bln_result r)
{
	static const char *const names[BLN_RES__MAX] = {
		[BLN_RES_DONE] = "done",	   [BLN_RES_DRY_RUN] = "dry_run", [BLN_RES_FAILED] = "failed",
		[BLN_RES_DEFERRED] = "deferred", [BLN_RES_SKIPPED] = "skipped", [BLN_RES_REFUSED] = "refused",
		[BLN_RES_REPORT_ONLY] = "report_only",
	};
	return r < BLN_RES__MAX ? names[r] : "unknown";
}

static void count_action(enum bln_verdict v, enum bln_result r)
{
	if (v == BLN_SHRINK || v == BLN_GROW)
		M.actions[v == BLN_GROW][r]++;
}

static const char *fmt_kib(uint64_t kib, char *buf, size_t len)
{
	return unit_format_mib(kib, buf, len);
}

void bln_resolve_bounds(const struct memopt_config *cfg, const struct bvirt_dom *d, struct bln_bounds *ret)
{
	const struct cfg_balloon *b = &cfg->balloon;
	const struct cfg_vm_rule *rule = cfg_vm_match(cfg, d->name, d->uuid);
	struct bln_bounds r = {.shares = (uint32_t)b->shares, .managed = true, .manage_source = "default"};

	if (d->meta.has_floor) {
		r.floor_kib = msize_resolve_kib(&d->meta.floor, d->max_kib);
		r.floor_source = "metadata";
	} else if (rule && rule->has_floor) {
		r.floor_kib = msize_resolve_kib(&rule->floor, d->max_kib);
		r.floor_source = "config";
	} else if (d->min_guarantee_kib) {
		r.floor_kib = d->min_guarantee_kib;
		r.floor_source = "min_guarantee";
	} else {
		r.floor_kib = msize_resolve_kib(&b->floor, d->max_kib);
		r.floor_source = "default";
	}
	if (r.floor_kib > d->max_kib)
		r.floor_kib = d->max_kib;

	if (d->meta.shares)
		r.shares = d->meta.shares;
	else if (rule && rule->shares)
		r.shares = (uint32_t)rule->shares;

	if (d->meta.manage >= 0) {
		r.managed = d->meta.manage;
		r.manage_source = "metadata";
	} else if (rule && rule->manage != TRI_KEEP) {
		r.managed = rule->manage == TRI_YES;
		r.manage_source = "config";
	}
	*ret = r;
}

static struct bln_vm *find_uuid(const char *uuid)
{
	for (size_t lo = 0, hi = M.n; lo < hi;) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(uuid, M.vms[mid].dom.uuid);
		if (c == 0)
			return &M.vms[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static struct bln_vm *find_vm(const char *name)
{
	struct bln_vm *vm = find_uuid(name);
	if (vm)
		return vm;
	for (size_t i = 0; i < M.n; i++)
		if (strcmp(M.vms[i].dom.name, name) == 0 || strcasecmp(M.vms[i].dom.uuid, name) == 0)
			return &M.vms[i];
	return NULL;
}

static void note(struct bln_note *n, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(struct bln_note *n, const char *reason, const char *fmt, ...)
{
	va_list ap;
	n->time_ms = ev_wall_ms();
	va_start(ap, fmt);
	vsnprintf(n->action, sizeof(n->action), fmt, ap);
	va_end(ap);
	snprintf(n->reason, sizeof(n->reason), "%s", reason);
}

/* Rates from the guest's cumulative counters between two advances of last_update; freshness from when
 * last_update was last seen to advance. Counters going backwards (guest reboot) restart the rates. */
static void derive(struct bln_vm *vm, const struct bln_vm *prev, uint64_t now_ms, int64_t wall_ms)
{
	const struct bvirt_memstats *s = &vm->dom.st;
	uint64_t period_ms = M.cfg->balloon.stats_period_ms;
	int64_t lu = s->last_update_s;

	if (prev) {
		vm->target_kib = prev->target_kib;
		vm->manual_target_kib = prev->manual_target_kib;
		vm->last_set_ms = prev->last_set_ms;
		vm->pressure_grow_ms = prev->pressure_grow_ms;
		vm->lu_changed_ms = prev->lu_changed_ms;
		vm->have_rate_base = prev->have_rate_base;
		vm->rate_base = prev->rate_base;
		vm->swap_in_kib_s = prev->swap_in_kib_s;
		vm->major_faults_s = prev->major_faults_s;
		vm->change = prev->change;
	}
	if (lu <= 0) {
		vm->lu_changed_ms = 0;
		vm->have_rate_base = false;
		vm->swap_in_kib_s = vm->major_faults_s = 0;
	} else if (vm->have_rate_base && lu > vm->rate_base.last_update_s) {
		uint64_t dt = (uint64_t)(lu - vm->rate_base.last_update_s);
		const struct bvirt_memstats *b = &vm->rate_base;
		vm->swap_in_kib_s =
		    s->swap_in_kib >= b->swap_in_kib ? (s->swap_in_kib - b->swap_in_kib) / dt : 0;
		vm->major_faults_s =
		    s->major_faults >= b->major_faults ? (s->major_faults - b->major_faults) / dt : 0;
		vm->rate_base = *s;
		vm->lu_changed_ms = now_ms;
	} else if (!vm->have_rate_base || lu < vm->rate_base.last_update_s) {
		/* First sight (or QEMU restarted): judge the age by the host clock, which last_update uses.
		 */
		int64_t age_ms = wall_ms - lu * 1000;
		vm->rate_base = *s;
		vm->have_rate_base = true;
		vm->swap_in_kib_s = vm->major_faults_s = 0;
		vm->lu_changed_ms =
		    age_ms >= 0 && (uint64_t)age_ms <= FRESH_PERIODS * period_ms && (uint64_t)age_ms < now_ms
			? now_ms - (uint64_t)age_ms
			: 0;
	}
	vm->stats_fresh = vm->lu_changed_ms && now_ms - vm->lu_changed_ms <= FRESH_PERIODS * period_ms;

	if (s->have & BVIRT_HAVE_USABLE)
		vm->usable_kib = s->usable_kib;
	else if (s->have & BVIRT_HAVE_UNUSED) /* guests older than MemAvailable */
		vm->usable_kib =
		    s->unused_kib + ((s->have & BVIRT_HAVE_DISK_CACHES) ? s->disk_caches_kib : 0);
	else
		vm->usable_kib = 0;
	vm->balloon_ok = vm->dom.has_balloon && (s->have & (BVIRT_HAVE_USABLE | BVIRT_HAVE_UNUSED)) && lu > 0;
	bln_resolve_bounds(M.cfg, &vm->dom, &vm->b);
}

/* Merge a fresh listing into the table, carrying each guest's history by UUID. */
static int merge(struct bvirt_dom *doms, size_t n, uint64_t now_ms, int64_t wall_ms)
{
	struct bln_vm *nv = calloc(n + 1, sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		nv[i].dom = doms[i];
		derive(&nv[i], find_uuid(doms[i].uuid), now_ms, wall_ms);
	}
	free(M.vms);
	M.vms = nv;
	M.n = n;
	return 0;
}

void bln_policy_cfg_from(const struct cfg_balloon *b, uint64_t total_kib, struct bln_policy_cfg *p)
{
	memset(p, 0, sizeof(*p));
	p->host_min_avail_kib = msize_resolve_kib(&b->host_min_avail, total_kib);
	p->host_release_avail_kib = msize_resolve_kib(&b->host_release_avail, total_kib);
	if (p->host_release_avail_kib < p->host_min_avail_kib)
		p->host_release_avail_kib = p->host_min_avail_kib;
	p->host_psi_ppm = b->host_psi_ppm;
	if (b->guest_margin.is_percent)
		p->guest_margin_ppm = b->guest_margin.ppm;
	else
		p->guest_margin_kib = b->guest_margin.kib;
	p->guest_low_usable_kib = b->guest_low_usable_kib;
	p->guest_swapin_kib_s = b->guest_swapin_kib_s;
	p->guest_majflt_s = b->guest_majflt_s;
	p->min_step_kib = b->min_step_kib;
	p->max_step_kib = b->max_step_kib;
}

static int acquire(uint64_t now_ms, int64_t wall_ms)
{
	const struct cfg_daemon *dc = &M.cfg->daemon;
	_cleanup_free_ struct bvirt_dom *doms = NULL;
	struct host_mem mem;
	struct host_psi psi;
	size_t n = 0;
	int r;

	r = hm_read_meminfo(dc->procfs_root, &mem);
	if (r < 0) {
		errno = -r;
		log_warn("balloon: reading %s/meminfo failed, skipping this cycle: %m", dc->procfs_root);
		return r;
	}
	if (hm_read_psi(dc->procfs_root, &psi) < 0)
		psi.available = false;
	M.host = (struct bln_host){.total_kib = mem.total_kib,
				   .avail_kib = mem.avail_kib,
				   .psi_available = psi.available,
				   .psi_some_avg10_ppm = psi.available ? psi.some.avg10_ppm : 0};
	M.have_host = true;
	bln_policy_cfg_from(&M.cfg->balloon, mem.total_kib, &M.pcfg);

	r = bvirt_list(M.v, &doms, &n);
	if (r < 0) {
		if (r != -ENOTCONN)
			log_warn("balloon: listing domains failed, skipping this cycle: %s",
				 bvirt_last_error(M.v));
		return r;
	}
	return merge(doms, n, now_ms, wall_ms);
}

static void to_guest(const struct bln_vm *vm, struct bln_guest *g, uint64_t now_ms)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", vm->dom.name);
	g->managed = vm->b.managed;
	g->balloon_ok = vm->balloon_ok;
	g->stats_fresh = vm->stats_fresh;
	g->actual_kib = vm->dom.st.actual_kib;
	g->max_kib = vm->dom.max_kib;
	g->floor_kib = vm->b.floor_kib;
	g->shares = vm->b.shares;
	g->usable_kib = vm->usable_kib;
	g->disk_caches_kib = vm->dom.st.disk_caches_kib;
	g->swap_in_kib_s = vm->swap_in_kib_s;
	g->major_faults_s = vm->major_faults_s;
	g->manual_target_kib = vm->manual_target_kib;
	g->shrink_hold = vm->pressure_grow_ms && now_ms - vm->pressure_grow_ms < M.cfg->balloon.grow_hold_ms;
}

static int change_rank(const struct bln_change *c, const struct bln_guest *g)
{
	if (c->verdict == BLN_SHRINK)
		return 2;
	return c->guest < M.n && bln_guest_pressured(&M.pcfg, &g[c->guest]) ? 0 : 1;
}

static const char *verdict_name(enum bln_verdict v)
{
	return v == BLN_SHRINK ? "shrink" : v == BLN_GROW ? "grow" : "keep";
}

/* Apply one change, earlyoom-style: re-read the guest right before acting. Returns true if it counts
 * against max_sets_per_cycle (made, or logged in dry-run). */
static bool act_one(struct bln_vm *vm, const struct bln_change *c, uint64_t now_ms, bool pressured)
{
	const struct cfg_balloon *b = &M.cfg->balloon;
	bool dry = M.cfg->daemon.dry_run;
	char from[32], to[32], now_s[32];
	uint64_t actual, tol = b->min_step_kib > RECHECK_MIN_KIB ? b->min_step_kib : RECHECK_MIN_KIB;
	const char *verb = verdict_name(c->verdict);
	int r;

	fmt_kib(c->from_kib, from, sizeof(from));
	fmt_kib(c->to_kib, to, sizeof(to));
	if (vm->last_set_ms && now_ms - vm->last_set_ms < b->interval_ms) {
		note(&vm->last, c->reason, "deferred %s %s -> %s MiB: changed less than one interval ago",
		     verb, from, to);
		count_action(c->verdict, BLN_RES_DEFERRED);
		return false;
	}
	/* The policy never crosses the bounds; this guards a stale table or a changed max. */
	if (c->to_kib > vm->dom.max_kib || (c->verdict == BLN_SHRINK && c->to_kib < vm->b.floor_kib)) {
		log_err("balloon: refusing %s of '%s' to %s MiB: outside floor..max", verb, vm->dom.name, to);
		note(&vm->last, c->reason, "refused %s %s -> %s MiB: outside floor..max", verb, from, to);
		count_action(c->verdict, BLN_RES_REFUSED);
		return false;
	}
	r = bvirt_read_actual(M.v, vm->dom.uuid, &actual);
	if (r < 0) {
		note(&vm->last, c->reason, "skipped %s: cannot re-read the guest", verb);
		log_warn("balloon: re-reading '%s' before acting failed, skipping it: %s", vm->dom.name,
			 bvirt_last_error(M.v));
		count_action(c->verdict, BLN_RES_SKIPPED);
		return false;
	}
	if (actual + tol < c->from_kib || actual > c->from_kib + tol) {
		note(&vm->last, c->reason,
		     "skipped %s %s -> %s MiB: the guest is now at %s MiB, re-deciding next cycle", verb,
		     from, to, fmt_kib(actual, now_s, sizeof(now_s)));
		log_info("balloon: '%s' moved from %s to %s MiB since sampling, not acting on it this cycle",
			 vm->dom.name, from, now_s);
		count_action(c->verdict, BLN_RES_SKIPPED);
		return false;
	}
	if (!dry) {
		r = bvirt_set_memory(M.v, vm->dom.uuid, c->to_kib);
		if (r < 0) {
			log_warn("balloon: setting '%s' to %s MiB failed: %s", vm->dom.name, to,
				 bvirt_last_error(M.v));
			note(&vm->last, c->reason, "failed %s %s -> %s MiB: %s", verb, from, to,
			     bvirt_last_error(M.v));
			count_action(c->verdict, BLN_RES_FAILED);
			return false;
		}
		vm->target_kib = c->to_kib;
	}
	vm->last_set_ms = now_ms;
	if (pressured && c->verdict == BLN_GROW)
		vm->pressure_grow_ms = now_ms; /* shrink_hold for grow_hold */
	dlog_record("balloon", dry, c->reason, "%s %s %s -> %s MiB", vm->dom.name, verb, from, to);
	note(&vm->last, c->reason, "%s%s %s -> %s MiB", dry ? "[dry-run] " : "", verb, from, to);
	vm->change = vm->last;
	count_action(c->verdict, dry ? BLN_RES_DRY_RUN : BLN_RES_DONE);
	return true;
}

/* One change of the policy's list: report only, deferred by the global limit, or acted on. */
static void apply_change(const struct bln_change *c, uint64_t *sets, uint64_t now_ms, bool pressured)
{
	const struct cfg_balloon *b = &M.cfg->balloon;
	char from[32], to[32];
	struct bln_vm *vm;

	if (c->guest >= M.n || c->verdict == BLN_KEEP || !bvirt_is_connected(M.v))
		return;
	vm = &M.vms[c->guest];
	fmt_kib(c->from_kib, from, sizeof(from));
	fmt_kib(c->to_kib, to, sizeof(to));
	if (!b->manage) {
		note(&vm->last, c->reason, "report only: would %s %s -> %s MiB", verdict_name(c->verdict),
		     from, to);
		count_action(c->verdict, BLN_RES_REPORT_ONLY);
	} else if (*sets >= b->max_sets_per_cycle) {
		note(&vm->last, c->reason, "deferred %s %s -> %s MiB: max_sets_per_cycle (%llu) reached",
		     verdict_name(c->verdict), from, to, (unsigned long long)b->max_sets_per_cycle);
		count_action(c->verdict, BLN_RES_DEFERRED);
	} else if (act_one(vm, c, now_ms, pressured))
		(*sets)++;
}

void bln_cycle(void)
{
	_cleanup_free_ struct bln_guest *g = NULL;
	_cleanup_free_ struct bln_change *ch = NULL;
	_cleanup_free_ char(*keep)[BLN_REASON_MAX] = NULL;
	struct bln_decision d = {0};
	uint64_t now_ms = ev_now_ms(), sets = 0;
	int64_t wall_ms = ev_wall_ms();

	if (!M.active || !bvirt_is_connected(M.v))
		return;
	if (acquire(now_ms, wall_ms) < 0)
		return;
	g = calloc(M.n + 1, sizeof(*g));
	ch = calloc(M.n + 1, sizeof(*ch));
	keep = calloc(M.n + 1, sizeof(*keep));
	if (!g || !ch || !keep) {
		log_err("balloon: out of memory, skipping this cycle");
		return;
	}
	for (size_t i = 0; i < M.n; i++)
		to_guest(&M.vms[i], &g[i], now_ms);
	d.changes = ch;
	bln_decide(&M.pcfg, &M.host, g, M.n, &d, keep);
	M.host_short = d.host_short;
	M.host_gap_kib = d.host_gap_kib;
	snprintf(M.summary, sizeof(M.summary), "%s", d.summary);
	M.last_cycle_ms = wall_ms;
	M.cycles++;
	for (size_t i = 0; i < M.n; i++)
		note(&M.vms[i].last, keep[i], "keep");

	/* Under max_sets_per_cycle guests come first: pressured grows, then other grows, then shrinks. */
	for (int pass = 0; pass < 3; pass++)
		for (size_t k = 0; k < d.n; k++)
			if (change_rank(&d.changes[k], g) == pass)
				apply_change(&d.changes[k], &sets, now_ms, pass == 0);
	if (d.n == 0)
		log_debug("balloon: no change (%s)", d.summary);
}

static void on_timer(void *data)
{
	(void)data;
	M.timer = -1;
	bln_cycle();
	if (M.active)
		M.timer = ev_add_cycle("balloon", M.cfg->balloon.interval_ms, on_timer, NULL);
}

static void run_soon(void)
{
	if (!M.active)
		return;
	if (M.timer >= 0)
		ev_cancel_timeout(M.timer);
	M.timer = ev_add_timeout(0, on_timer, NULL);
}

static void on_connection(void *data, bool connected, uint64_t retry_in_ms)
{
	(void)data;
	if (connected) {
		log_notice("balloon: connected to %s", bvirt_uri(M.v));
		run_soon();
	} else if (M.was_connected) {
		log_warn("balloon: lost the connection to %s (%s); no balloon decisions until it is back, "
			 "retrying in %llus",
			 bvirt_uri(M.v), bvirt_last_error(M.v),
			 (unsigned long long)((retry_in_ms + 999) / 1000));
	} else {
		log_debug("balloon: connecting to %s failed (%s), retrying in %llus", bvirt_uri(M.v),
			  bvirt_last_error(M.v), (unsigned long long)((retry_in_ms + 999) / 1000));
	}
	M.was_connected = connected;
}

static void on_lifecycle(void *data, const char *uuid, const char *name, int event, int detail)
{
	(void)data;
	(void)detail;
	if (event == VIR_DOMAIN_EVENT_STARTED) {
		log_info("balloon: domain '%s' started", name);
	} else if (event == VIR_DOMAIN_EVENT_STOPPED) {
		struct bln_vm *vm = find_uuid(uuid);
		log_info("balloon: domain '%s' stopped%s", name,
			 vm && vm->manual_target_kib ? ", its manual target is dropped" : "");
		if (vm) {
			size_t i = (size_t)(vm - M.vms);
			memmove(vm, vm + 1, (M.n - i - 1) * sizeof(*vm));
			M.n--;
		}
	}
}

static void on_balloon_change(void *data, const char *uuid, uint64_t actual_kib)
{
	struct bln_vm *vm = find_uuid(uuid);
	(void)data;
	if (vm)
		vm->dom.st.actual_kib = actual_kib;
}

static const struct bvirt_callbacks callbacks = {
    .connection = on_connection,
    .lifecycle = on_lifecycle,
    .balloon_change = on_balloon_change,
};

static int open_adapter(void)
{
	const struct cfg_balloon *b = &M.cfg->balloon;
	struct bvirt_opts o = {.uri = b->uri, .stats_period_s = (unsigned)(b->stats_period_ms / 1000)};
	int r = bvirt_new(&o, &callbacks, NULL, &M.v);
	if (r < 0)
		return r;
	M.was_connected = bvirt_is_connected(M.v);
	if (M.was_connected)
		log_notice("balloon: connected to %s (manage=%s, interval %llums)", b->uri,
			   b->manage ? "yes" : "no", (unsigned long long)b->interval_ms);
	else
		log_warn("balloon: cannot connect to %s (%s), retrying in %llus", b->uri,
			 bvirt_last_error(M.v), (unsigned long long)((bvirt_retry_in_ms(M.v) + 999) / 1000));
	return 0;
}

int bln_init(const struct memopt_config *cfg)
{
	int r;
	memset(&M, 0, sizeof(M));
	M.timer = -1;
	M.cfg = cfg;
	r = open_adapter();
	if (r < 0)
		return r;
	M.active = true;
	if (!cfg->balloon.manage)
		log_notice("balloon: [balloon] manage = no: reporting only, no balloon will be changed");
	M.timer = ev_add_timeout(0, on_timer, NULL);
	return M.timer < 0 ? (int)M.timer : 0;
}

void bln_reload(const struct memopt_config *cfg)
{
	bool new_uri = M.active && strcmp(cfg->balloon.uri, M.cfg->balloon.uri) != 0;
	M.cfg = cfg; /* the caller frees the old one */
	if (!M.active)
		return;
	if (new_uri) {
		log_notice("balloon: URI changed to %s, reconnecting", cfg->balloon.uri);
		bvirt_free(M.v);
		M.v = NULL;
		free(M.vms);
		M.vms = NULL;
		M.n = 0;
		if (open_adapter() < 0) {
			log_err("balloon: out of memory, balloon control stopped");
			M.active = false;
			return;
		}
	} else {
		bvirt_set_stats_period(M.v, (unsigned)(cfg->balloon.stats_period_ms / 1000));
	}
	run_soon();
}

void bln_fini(void)
{
	if (M.timer >= 0)
		ev_cancel_timeout(M.timer);
	M.timer = -1;
	if (M.active)
		log_info("balloon: stopped; guests keep their current balloon sizes");
	M.active = false;
	bvirt_free(M.v);
	M.v = NULL;
	free(M.vms);
	M.vms = NULL;
	M.n = 0;
}

static int lookup_for_operator(const char *name, struct bln_vm **ret, char *err, size_t errlen)
{
	if (!M.active) {
		snprintf(err, errlen, "the balloon module is not running");
		return -EAGAIN;
	}
	if (!bvirt_is_connected(M.v)) {
		snprintf(err, errlen, "not connected to libvirt (%s), retrying in %llus", M.cfg->balloon.uri,
			 (unsigned long long)((bvirt_retry_in_ms(M.v) + 999) / 1000));
		return -EAGAIN;
	}
	*ret = find_vm(name);
	if (!*ret) {
		snprintf(err, errlen, "no running domain named '%s' (memoptctl guests lists them)", name);
		return -EINVAL;
	}
	return 0;
}

int bln_set_manual(const char *name, uint64_t kib, const struct bln_vm **ret_vm, char *err, size_t errlen)
{
	char a[32], f[32], m[32];
	struct bln_vm *vm;
	int r = lookup_for_operator(name, &vm, err, errlen);
	if (r < 0)
		return r;
	if (!M.cfg->balloon.manage) {
		snprintf(
		    err, errlen,
		    "[balloon] manage = no: memoptd only reports; set manage = yes to use manual targets");
		return -EINVAL;
	}
	if (!vm->b.managed) {
		snprintf(err, errlen, "domain '%s' is opted out of ballooning (manage = no, from %s)",
			 vm->dom.name, vm->b.manage_source);
		return -EINVAL;
	}
	if (!vm->dom.has_balloon) {
		snprintf(err, errlen, "domain '%s' has no virtio balloon device", vm->dom.name);
		return -EINVAL;
	}
	fmt_kib(kib, a, sizeof(a));
	if (kib < vm->b.floor_kib || kib > vm->dom.max_kib) {
		snprintf(err, errlen,
			 "size %s MiB is outside the bounds of '%s': floor %s MiB (%s) .. max %s MiB", a,
			 vm->dom.name, fmt_kib(vm->b.floor_kib, f, sizeof(f)), vm->b.floor_source,
			 fmt_kib(vm->dom.max_kib, m, sizeof(m)));
		return -EINVAL;
	}
	vm->manual_target_kib = kib;
	dlog_record("balloon", M.cfg->daemon.dry_run, "operator request (memoptctl balloon set)",
		    "%s manual target %s MiB", vm->dom.name, a);
	*ret_vm = vm;
	run_soon();
	return 0;
}

int bln_release_manual(const char *name, const struct bln_vm **ret_vm, char *err, size_t errlen)
{
	struct bln_vm *vm;
	int r = lookup_for_operator(name, &vm, err, errlen);
	if (r < 0)
		return r;
	if (vm->manual_target_kib)
		dlog_record("balloon", M.cfg->daemon.dry_run, "operator request (memoptctl balloon release)",
			    "%s manual target released", vm->dom.name);
	vm->manual_target_kib = 0;
	*ret_vm = vm;
	run_soon();
	return 0;
}

bool bln_get_view(struct bln_view *ret)
{
	if (!M.active)
		return false;
	memset(ret, 0, sizeof(*ret));
	ret->cfg = M.cfg;
	ret->connected = bvirt_is_connected(M.v);
	ret->uri = bvirt_uri(M.v);
	ret->retry_in_ms = bvirt_retry_in_ms(M.v);
	ret->error = bvirt_last_error(M.v);
	ret->vms = M.vms;
	ret->n = M.n;
	ret->have_host = M.have_host;
	ret->host = M.host;
	ret->goal_avail_kib = M.pcfg.host_min_avail_kib;
	ret->release_avail_kib = M.pcfg.host_release_avail_kib;
	ret->host_short = M.host_short;
	ret->host_gap_kib = M.host_gap_kib;
	ret->summary = M.summary;
	ret->last_cycle_ms = M.last_cycle_ms;
	ret->cycles = M.cycles;
	ret->actions = M.actions;
	return true;
}

const char *bln_state(char *buf, size_t len)
{
	if (!M.active)
		snprintf(buf, len, "unavailable");
	else if (!bvirt_is_connected(M.v))
		snprintf(buf, len, "disconnected, retrying in %llus",
			 (unsigned long long)((bvirt_retry_in_ms(M.v) + 999) / 1000));
	else
		snprintf(buf, len, "connected to %s, %zu guest%s%s%s", bvirt_uri(M.v), M.n,
			 M.n == 1 ? "" : "s", M.cfg->balloon.manage ? "" : ", manage=no (report only)",
			 M.cfg->daemon.dry_run ? ", dry-run" : "");
	return buf;
}
