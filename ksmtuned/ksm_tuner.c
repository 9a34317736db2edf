/* ksm_tuner.c - memoptd's KSM module: reads KSM, ksmd CPU, host pressure and VM memory every
 * [ksm] interval, asks ksm_policy what to do, journals originals and writes knobs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ksm_tuner.h"
#include "ksm_policy.h"
#include "ksm_sysfs.h"
#include "../common/cleanup.h"
#include "../common/hostmem.h"
#include "../common/log.h"
#include "../common/loop.h"
#include "../common/procs.h"

#define VM_SCAN_EVERY 5                 /* cycles between QEMU process scans */
#define MAX_PROCS 4096

static struct {
	bool active;
	const struct memopt_config *cfg;
	struct st_journal *st;
	int64_t timer;
	struct ksm_ctl ctl;
	struct ksm_sample last;
	struct ksm_decision last_decision;
	bool have_last;
	pid_t ksmd_pid;
	long clk_tck;
	uint64_t cycles;
	uint64_t vm_mergeable_kib;
	uint32_t vm_procs, vm_unreadable;
	bool warned_unreadable;
	uint64_t last_dlog_seq;
	char last_action[DLOG_TEXT_MAX];
	char last_reason[DLOG_TEXT_MAX];
	uint32_t page_kib;
	int64_t last_action_ms;
	unsigned write_failures;
	uint64_t outcomes[KSM_OUT__MAX];
	char write_failed[DLOG_TEXT_MAX]; /* knobs the last acting cycle could not set, and why */
} T = { .timer = -1 };

static void read_ksmd_cpu(struct ksm_sample *s)
{
	const char *proc = T.cfg->daemon.procfs_root;
	struct proc_stat ps;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (T.ksmd_pid <= 0) {
			int r = proc_find_kthread(proc, "ksmd");
			if (r <= 0)
				return;
			T.ksmd_pid = r;
		}
		if (proc_read_stat(proc, T.ksmd_pid, &ps) == 0 && strcmp(ps.comm, "ksmd") == 0) {
			s->ksmd_cpu_valid = true;
			s->ksmd_cpu_ms = (ps.utime_ticks + ps.stime_ticks) * 1000u / (uint64_t)T.clk_tck;
			return;
		}
		T.ksmd_pid = 0; /* gone or reused: look again */
	}
}

static void scan_vms(void)
{
	_cleanup_free_ struct vm_proc *vms = NULL;
	size_t n = 0;
	if (proc_list_qemu(T.cfg->daemon.procfs_root, &vms, &n) < 0)
		return;
	uint64_t sum = 0;
	uint32_t unreadable = 0;
	for (size_t i = 0; i < n; i++) {
		struct ksm_proc_stat ks;
		/* QEMU guest RAM is MADV_MERGEABLE unless mem-merge=off; trust ksm_stat when the kernel says. */
		int r = ksm_read_proc(T.cfg->daemon.procfs_root, vms[i].pid, &ks);
		if (r == -EACCES || r == -EPERM) {
			unreadable++;
			/* once: the mode is 0400 for the QEMU user, so root needs cap_dac_read_search */
			if (!T.warned_unreadable)
				log_warn("ksm: cannot read %s/%d/ksm_stat (%s), counting the VM as mergeable; "
					 "memoptd needs cap_dac_read_search for QEMU processes of another user",
					 T.cfg->daemon.procfs_root, (int)vms[i].pid, strerror(-r));
			T.warned_unreadable = true;
		}
		if (r == 0 && ks.mergeable == 0 && ks.merging_pages == 0)
			continue;
		sum += vms[i].rss_kib;
	}
	T.vm_mergeable_kib = sum;
	T.vm_procs = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	T.vm_unreadable = unreadable;
}

static int acquire(struct ksm_sample *s)
{
	const struct cfg_daemon *dc = &T.cfg->daemon;
	memset(s, 0, sizeof(*s));
	s->now_ms = ev_now_ms();
	s->page_kib = T.page_kib;
	int r = ksm_read(dc->sysfs_root, &s->ksm);
	if (r < 0)
		return r;
	read_ksmd_cpu(s);
	s->mem_valid = hm_read_meminfo(dc->procfs_root, &s->mem) == 0;
	if (hm_read_psi(dc->procfs_root, &s->psi) < 0)
		s->psi.available = false;
	struct host_vmstat vm;
	if (hm_read_vmstat(dc->procfs_root, &vm) == 0 && vm.has_cow_ksm) {
		s->cow_valid = true;
		s->cow_ksm = vm.cow_ksm;
	}
	if (T.cycles % VM_SCAN_EVERY == 0)
		scan_vms();
	s->vm_mergeable_kib = T.vm_mergeable_kib;
	s->vm_procs = T.vm_procs;
	s->vm_unreadable = T.vm_unreadable;
	return 0;
}

static const char *knob_text(enum ksm_field f, int64_t v, char *buf, size_t len)
{
	if (f == KSM_F_ADVISOR_MODE)
		snprintf(buf, len, "%s", ksm_advisor_mode_name(v));
	else
		snprintf(buf, len, "%lld", (long long)v);
	return buf;
}

/* Restore order. run goes last. advisor_mode decides whether pages_to_scan is writable, and writing it
 * resets pages_to_scan (to 100 for none, to advisor_min_pages_to_scan for scan-time): when the original
 * mode was none it is restored first and pages_to_scan after it; when the original was scan-time it is
 * restored after the rate knobs (pages_to_scan is then the advisor's to set again). */
static int restore_order(enum ksm_field f, int64_t orig_advisor)
{
	switch (f) {
	case KSM_F_ADVISOR_MODE: return orig_advisor == KSM_ADVISOR_SCAN_TIME ? 85 : 10;
	case KSM_F_RUN: return 90;
	default: return 50;
	}
}

/* Journal a knob's original before the first change of it (the first original wins). */
static int journal(const struct ksm_sample *s, enum ksm_field f)
{
	const struct cfg_daemon *dc = &T.cfg->daemon;
	char key[64], path[512], orig[32];
	snprintf(key, sizeof(key), "ksm.%s", ksm_field_name(f));
	snprintf(path, sizeof(path), "%s/kernel/mm/ksm/%s", dc->sysfs_root, ksm_field_name(f));
	knob_text(f, s->ksm.v[f], orig, sizeof(orig));
	int r = st_record(T.st, key, "ksm", path, orig, restore_order(f, s->ksm.v[KSM_F_ADVISOR_MODE]));
	if (r < 0) {
		errno = -r;
		log_err("ksm: cannot journal the original of %s, not changing it: %m", key);
	}
	return r;
}

static bool writes_field(const struct ksm_decision *d, enum ksm_field f)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->w[i].field == f)
			return true;
	return false;
}

const char *ksm_outcome_name(enum ksm_outcome o)
{
	static const char *const names[KSM_OUT__MAX] = {
		[KSM_OUT_WRITTEN] = "written", [KSM_OUT_WRITE_FAILED] = "write_failed", [KSM_OUT_DRY_RUN] = "dry_run",
		[KSM_OUT_PHASE] = "phase_changed", [KSM_OUT_NO_CHANGE] = "no_change",
		[KSM_OUT_REPORT_ONLY] = "report_only", [KSM_OUT_READ_FAILED] = "read_failed",
	};
	return o < KSM_OUT__MAX ? names[o] : "unknown";
}

static enum ksm_outcome act(struct ksm_sample *s, const struct ksm_decision *d)
{
	const struct cfg_daemon *dc = &T.cfg->daemon;
	bool dry = dc->dry_run;
	char action[DLOG_TEXT_MAX] = "", failed[DLOG_TEXT_MAX] = "";
	size_t off = 0, foff = 0;
	for (size_t i = 0; i < d->n; i++) {
		enum ksm_field f = d->w[i].field;
		char from[32], to[32];
		knob_text(f, s->ksm.v[f], from, sizeof(from));
		knob_text(f, d->w[i].value, to, sizeof(to));
		off += (size_t)snprintf(action + off, off < sizeof(action) ? sizeof(action) - off : 0, "%s%s %s -> %s",
					i ? ", " : "", ksm_field_name(f), from, to);
		if (off >= sizeof(action))
			off = sizeof(action) - 1;
	}
	if (!dry) {
		/* Switching advisor_mode resets pages_to_scan in the kernel: keep its original too. */
		if (writes_field(d, KSM_F_ADVISOR_MODE) && ksm_has(&s->ksm, KSM_F_PAGES_TO_SCAN))
			journal(s, KSM_F_PAGES_TO_SCAN);
		/* Each knob on its own: one the kernel refuses must not keep run (written last) from being set. */
		for (size_t i = 0; i < d->n; i++) {
			enum ksm_field f = d->w[i].field;
			int r = journal(s, f);
			if (r >= 0)
				r = ksm_write_knob(dc->sysfs_root, f, d->w[i].value, false);
			if (r < 0) {
				T.write_failures++;
				if (foff < sizeof(failed))
					foff += (size_t)snprintf(failed + foff, sizeof(failed) - foff, "%s%s=%lld (%s)",
								 foff ? ", " : "", ksm_field_name(f),
								 (long long)d->w[i].value, strerror(-r));
				continue;
			}
			s->ksm.v[f] = d->w[i].value; /* what `memoptctl ksm` shows is what the kernel now has */
		}
		if (failed[0])
			log_err("ksm: not applied, will retry next cycle: %s", failed);
		snprintf(T.write_failed, sizeof(T.write_failed), "%s", failed);
	} else if (strcmp(action, T.last_action) == 0) {
		/* Dry-run changes nothing, so the same decision comes back every cycle: record it once. */
		log_debug("ksm: [dry-run] still would %s", action);
		return KSM_OUT_DRY_RUN;
	}
	if (failed[0])
		dlog_record("ksm", dry, d->reason, "%s; FAILED: %s", action, failed);
	else
		dlog_record("ksm", dry, d->reason, "%s", action);
	snprintf(T.last_action, sizeof(T.last_action), "%s", action);
	snprintf(T.last_reason, sizeof(T.last_reason), "%s", d->reason);
	T.last_action_ms = ev_wall_ms();
	return dry ? KSM_OUT_DRY_RUN : failed[0] ? KSM_OUT_WRITE_FAILED : KSM_OUT_WRITTEN;
}

void ksm_tuner_cycle(void)
{
	struct ksm_sample s;
	int r = acquire(&s);
	T.cycles++;
	if (r < 0) {
		errno = -r;
		log_warn("ksm: reading %s/kernel/mm/ksm failed, skipping this cycle: %m", T.cfg->daemon.sysfs_root);
		T.outcomes[KSM_OUT_READ_FAILED]++;
		return;
	}
	enum ksm_phase before = T.ctl.phase;
	struct ksm_decision d;
	ksm_decide(&T.cfg->ksm, &s, &T.ctl, &d);
	T.last = s;
	T.have_last = true;
	T.last_decision = d;
	if (!T.cfg->ksm.manage) {
		if (d.n)
			log_debug("ksm: manage=no, not acting on: %s", d.reason);
		T.outcomes[KSM_OUT_REPORT_ONLY]++;
		return;
	}
	if (d.n > 0) {
		T.outcomes[act(&T.last, &d)]++;
	} else if (d.phase != before) {
		dlog_record("ksm", T.cfg->daemon.dry_run, d.reason, "phase %s -> %s", ksm_phase_name(before),
			    ksm_phase_name(d.phase));
		T.outcomes[KSM_OUT_PHASE]++;
	} else {
		log_debug("ksm: no change (%s)", d.reason);
		T.outcomes[KSM_OUT_NO_CHANGE]++;
	}
}

static void on_timer(void *data)
{
	(void)data;
	T.timer = -1;
	ksm_tuner_cycle();
	if (T.active)
		T.timer = ev_add_cycle("ksm", T.cfg->ksm.interval_ms, on_timer, NULL);
}

int ksm_tuner_init(const struct memopt_config *cfg, struct st_journal *st)
{
	memset(&T, 0, sizeof(T));
	T.timer = -1;
	T.cfg = cfg;
	T.st = st;
	T.clk_tck = sysconf(_SC_CLK_TCK);
	long page = sysconf(_SC_PAGESIZE);
	T.page_kib = page >= 1024 ? (uint32_t)(page / 1024) : 4;
	if (T.clk_tck <= 0)
		T.clk_tck = 100;
	struct ksm_state k;
	int r = ksm_read(cfg->daemon.sysfs_root, &k);
	if (r < 0)
		return r;
	T.active = true;
	T.timer = ev_add_timeout(0, on_timer, NULL);
	if (T.timer < 0)
		return (int)T.timer;
	log_info("ksm: tuner started (mode=%s, rate_control=%s, interval %llums, manage=%s)",
		 cfg->ksm.mode == KSM_MODE_AUTO ? "auto" : cfg->ksm.mode == KSM_MODE_ALWAYS ? "always" : "off",
		 cfg->ksm.rate_control == KSM_RATE_SELF ? "self" : "advisor",
		 (unsigned long long)cfg->ksm.interval_ms, cfg->ksm.manage ? "yes" : "no");
	return 0;
}

void ksm_tuner_reload(const struct memopt_config *cfg)
{
	uint64_t old_interval = T.cfg->ksm.interval_ms;
	T.cfg = cfg;
	/* Keep the cycle's rhythm: a cycle right after the last one would measure ksmd's CPU over a few
	 * ms, where one 10 ms clock tick reads as a full core. Only a new interval re-arms the timer. */
	if (T.active && T.timer >= 0 && cfg->ksm.interval_ms != old_interval) {
		ev_cancel_timeout(T.timer);
		T.timer = ev_add_cycle("ksm", cfg->ksm.interval_ms, on_timer, NULL);
	}
}

int ksm_tuner_fini(bool restore)
{
	if (T.timer >= 0)
		ev_cancel_timeout(T.timer);
	T.timer = -1;
	bool was = T.active;
	T.active = false;
	if (!was || !T.st)
		return 0;
	char keys[KSM_F__MAX][ST_KEY_MAX];
	size_t mine = 0;
	for (size_t i = 0; i < st_count(T.st) && mine < KSM_F__MAX; i++) {
		const struct st_entry *e = st_get(T.st, i);
		if (strcmp(e->owner, "ksm") == 0)
			snprintf(keys[mine++], ST_KEY_MAX, "%s", e->key);
	}
	if (mine == 0)
		return 0;
	if (!restore) {
		/* restore_on_stop = no: the operator keeps what memopt set; forget the originals, or the next
		 * start would take this for a crash and put them back. */
		for (size_t i = 0; i < mine; i++) {
			const struct st_entry *e = st_find(T.st, keys[i]);
			if (e)
				log_notice("ksm: keeping %s as set (restore_on_stop = no; the original was %s)", keys[i],
					   e->value);
			st_forget(T.st, keys[i]);
		}
		return 0;
	}
	/* Putting back what memopt itself changed is not a new decision: done even if a reload switched
	 * dry-run on after the changes were made. */
	int r = st_restore(T.st, "ksm", false);
	if (r > 0)
		log_err("ksm: %d KSM value(s) could not be restored; they stay in the journal for the next start", r);
	else if (r < 0)
		log_err("ksm: saving the journal after restoring failed: %s", strerror(-r));
	else
		log_info("ksm: original KSM settings restored");
	return r < 0 ? 1 : r;
}

const char *ksm_tuner_state(char *buf, size_t len)
{
	if (!T.active)
		snprintf(buf, len, "unavailable");
	else
		snprintf(buf, len, "rate_control=%s, controller=%s%s%s%s",
			 T.cfg->ksm.rate_control == KSM_RATE_SELF ? "self" : "advisor", ksm_phase_name(T.ctl.phase),
			 T.cfg->ksm.manage ? "" : " (manage=no)", T.write_failed[0] ? "; write FAILED: " : "",
			 T.write_failed);
	return buf;
}

bool ksm_tuner_view(struct ksm_view *ret)
{
	if (!T.active || !T.have_last)
		return false;
	ret->cfg = T.cfg;
	ret->sample = &T.last;
	ret->ctl = &T.ctl;
	ret->decision = &T.last_decision;
	ret->last_action = T.last_action;
	ret->last_reason = T.last_reason;
	ret->last_action_ms = T.last_action_ms;
	ret->cycles = T.cycles;
	ret->outcomes = T.outcomes;
	ret->write_failed = T.write_failed;
	return true;
}
