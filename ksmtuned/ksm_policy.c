/* ksm_policy.c - the KSM controller's pure decision function (see ksm_policy.h for the model). */
#include <stdio.h>
#include <string.h>

#include "ksm_policy.h"

#define DEFAULT_COST_NS 5000u           /* per page visited, before we have measured it */
#define MIN_SCANNED_FOR_COST 2000u      /* pages in an interval before its cost is trusted */
#define MAX_CPU_FRACTION_PPM 950000u    /* the rate law diverges at 100 % */
#define CHURN_MIN_KIB_S 1024u           /* 1 MiB/s of merged pages broken by writes */
#define NEW_MEMORY_MIN_KIB (64u * 1024u) /* 64 MiB not yet scanned re-opens convergence */
#define MAX_SLEEP_MS 5000u
#define BURST_SCANS 3u                  /* full scans that may use burst credit after (re)starting */
/* Holding merges against churn (see hold_rate()). */
#define HOLD_SCAN_SHARE_PCT 60u          /* wanted full-scan time, share of the rewrite period */
#define HOLD_MIN_SCAN_MS 10000u
#define HOLD_MAX_SCAN_MS 300000u
#define HOLD_DEFAULT_PERIOD_MS 60000u    /* rewrite period before one was measured */
#define HOLD_MAX_PERIOD_MS 600000u
/* sleep_millisecs while holding: ksmd pays per wake-up as well as per page; on the benchmark machine
 * under churn 4700 pages / 100 ms made 7 full scans in 240 s at 26 % of a core where 470 / 10 ms made 5
 * at 24 %, and kept 1800 MiB really saved against 1393 (docs/bench/ksm-2026-12-06.md). */
#define HOLD_SLEEP_MS 100u
/* Bounds on what the counters can mean, so the arithmetic below cannot overflow on a garbled or hostile
 * reading (a fixture root, a kernel bug): 2^48 pages is 1 EiB, and no interval sees 2^40 of anything
 * (ms of CPU, pages scanned, pages broken). */
#define COUNT_MAX (1ULL << 48)
#define DELTA_MAX (1ULL << 40)

const char *ksm_phase_name(enum ksm_phase p)
{
	switch (p) {
	case KSM_PHASE_OFF: return "off";
	case KSM_PHASE_CONVERGING: return "converging";
	case KSM_PHASE_SETTLED: return "settled";
	}
	return "?";
}

/* Sizes in reasons: GiB with one decimal, as an operator reads them. */
static const char *gib(uint64_t kib, char *buf, size_t len)
{
	snprintf(buf, len, "%.1fG", (double)kib / 1048576.0);
	return buf;
}

/* The kernel's page size in KiB (4 on x86-64, 64 on some aarch64 and ppc64 hosts). */
static uint64_t page_kib(const struct ksm_sample *s)
{
	return s->page_kib ? s->page_kib : 4;
}

static uint64_t val(const struct ksm_state *k, enum ksm_field f)
{
	if (!ksm_has(k, f) || k->v[f] <= 0)
		return 0;
	return (uint64_t)k->v[f] < COUNT_MAX ? (uint64_t)k->v[f] : COUNT_MAX;
}

static uint64_t merged_pages(const struct ksm_state *k)
{
	return val(k, KSM_F_PAGES_SHARING) + val(k, KSM_F_KSM_ZERO_PAGES);
}

static uint64_t delta(uint64_t now, uint64_t prev)
{
	/* Counters can go backwards (ksmd restarted, run=2 unmerged everything): count nothing. */
	if (now < prev)
		return 0;
	return now - prev < DELTA_MAX ? now - prev : DELTA_MAX;
}

static uint64_t ema(uint64_t old, uint64_t cur, bool have_old)
{
	return have_old ? (old + cur) / 2 : cur;
}

void ksm_rate_to_knobs(uint64_t rate_pages_s, uint64_t base_sleep_ms, uint64_t min_pages, uint64_t max_pages,
		       uint64_t *ret_pages, uint64_t *ret_sleep_ms)
{
	uint64_t sleep_ms = base_sleep_ms ? base_sleep_ms : 1;
	if (min_pages == 0)
		min_pages = 1;
	if (max_pages < min_pages)
		max_pages = min_pages;
	uint64_t pages = rate_pages_s * sleep_ms / 1000;
	if (pages < min_pages) {
		/* Too slow for min_pages per wake-up: keep the batch, sleep longer. */
		pages = min_pages;
		sleep_ms = rate_pages_s ? min_pages * 1000 / rate_pages_s : MAX_SLEEP_MS;
		if (sleep_ms < base_sleep_ms)
			sleep_ms = base_sleep_ms;
		if (sleep_ms > MAX_SLEEP_MS)
			sleep_ms = MAX_SLEEP_MS;
	}
	if (pages > max_pages)
		pages = max_pages;
	*ret_pages = pages;
	*ret_sleep_ms = base_sleep_ms == 0 && pages == max_pages ? 0 : sleep_ms;
}

/* pages_to_scan that keeps ksmd at cpu_ppm of a core with sleep_ms between batches:
 * batch = pages*cost, cpu = batch / (batch + sleep)  =>  pages = cpu*sleep / (cost*(1-cpu)). */
static uint64_t pages_for_cpu(uint32_t cpu_ppm, uint64_t sleep_ms, uint64_t cost_ns)
{
	if (cpu_ppm > MAX_CPU_FRACTION_PPM)
		cpu_ppm = MAX_CPU_FRACTION_PPM;
	if (sleep_ms == 0)
		sleep_ms = 1;
	if (cost_ns == 0)
		cost_ns = DEFAULT_COST_NS;
	long double p = (long double)cpu_ppm * (long double)sleep_ms * 1e6L /
			((long double)cost_ns * (long double)(1000000u - cpu_ppm));
	return p > 1e9L ? 1000000000u : (uint64_t)p;
}

static void add_write(struct ksm_decision *d, const struct ksm_sample *s, enum ksm_field f, int64_t v)
{
	if (!ksm_has(&s->ksm, f) || d->n >= KSM_DECISION_MAX_WRITES)
		return;
	if (s->ksm.v[f] == v)
		return;
	d->w[d->n++] = (struct ksm_write){ .field = f, .value = v };
}

static void account(const struct cfg_ksm *cfg, const struct ksm_sample *s, struct ksm_ctl *c, bool *ret_scan_done,
		    uint64_t *ret_iv_merges, uint64_t *ret_iv_cpu_ms)
{
	const struct ksm_state *k = &s->ksm;
	uint64_t merged = merged_pages(k);
	uint64_t scanned = val(k, KSM_F_PAGES_SCANNED), skipped = val(k, KSM_F_PAGES_SKIPPED);
	uint64_t full = val(k, KSM_F_FULL_SCANS);
	uint64_t cpu = s->ksmd_cpu_valid ? s->ksmd_cpu_ms : 0, cow = s->cow_valid ? s->cow_ksm : 0;

	*ret_scan_done = false;
	*ret_iv_merges = 0;
	*ret_iv_cpu_ms = 0;
	if (!c->prev_valid) {
		c->credit_ms = (int64_t)cfg->burst_cpu_ms;
		c->scan_start_scanned = scanned;
		c->scan_start_skipped = skipped;
	} else if (s->now_ms > c->prev_ms) {
		uint64_t dt = s->now_ms - c->prev_ms;
		uint64_t d_cpu = delta(cpu, c->prev_cpu_ms), d_scanned = delta(scanned, c->prev_scanned);
		uint64_t d_cow = delta(cow, c->prev_cow);
		/* gross merges = net change + what writes broke meanwhile */
		int64_t net = (int64_t)merged - (int64_t)c->prev_merged;
		uint64_t merges = net + (int64_t)d_cow > 0 ? (uint64_t)(net + (int64_t)d_cow) : 0;
		c->cpu_ppm = (uint32_t)(d_cpu * 1000000u / dt > 1000000u ? 1000000u : d_cpu * 1000000u / dt);
		c->scan_rate_pages_s = d_scanned * 1000u / dt;
		if (d_scanned >= MIN_SCANNED_FOR_COST && d_cpu > 0)
			c->cost_ns_per_page = ema(c->cost_ns_per_page, d_cpu * 1000000u / d_scanned, c->cost_ns_per_page);
		c->churn_pages_s = ema(c->churn_pages_s, d_cow * 1000u / dt, true);
		c->credit_ms += (int64_t)(cfg->steady_cpu_ppm * dt / 1000000u) - (int64_t)d_cpu;
		if (c->credit_ms > (int64_t)cfg->burst_cpu_ms)
			c->credit_ms = (int64_t)cfg->burst_cpu_ms;
		if (c->credit_ms < -(int64_t)cfg->burst_cpu_ms)
			c->credit_ms = -(int64_t)cfg->burst_cpu_ms;
		c->scan_cpu_ms += d_cpu;
		c->scan_merged_gain += merges;
		c->scan_cow += d_cow;
		*ret_iv_merges = merges;
		*ret_iv_cpu_ms = d_cpu;
		if (full > c->prev_full_scans) {
			uint64_t visited = delta(scanned, c->scan_start_scanned) + delta(skipped, c->scan_start_skipped);
			/* Several scans may have ended in one interval: report the average size. */
			uint64_t nscans = full - c->prev_full_scans;
			if (visited > 0)
				c->full_scan_pages = visited / nscans;
			uint64_t gross_kib = c->scan_merged_gain * page_kib(s);
			c->last_yield_kib_per_cpu_s = c->scan_cpu_ms ? gross_kib * 1000u / c->scan_cpu_ms
							     : (gross_kib ? UINT64_MAX / 2 : 0);
			c->last_yield_valid = s->ksmd_cpu_valid;
			c->scans_in_phase += nscans;
			c->boundaries_in_phase++;
			c->last_scan_cow = c->scan_cow;
			c->scan_cpu_ms = c->scan_merged_gain = c->scan_cow = 0;
			c->scan_start_scanned = scanned;
			c->scan_start_skipped = skipped;
			*ret_scan_done = true;
		}
	}
	/* rmap_items from general_profit = merged*PAGE - rmap*64 */
	c->rmap_items = 0;
	if (ksm_has(k, KSM_F_GENERAL_PROFIT) && ksm_has(k, KSM_F_PAGES_SHARING)) {
		/* in 128 bits: general_profit is signed and comes from the kernel as any 64-bit value */
		__int128 r = ((__int128)merged * page_kib(s) * 1024 - k->v[KSM_F_GENERAL_PROFIT]) / 64;
		c->rmap_items = r <= 0 ? 0 : r >= (__int128)COUNT_MAX ? COUNT_MAX : (uint64_t)r;
	}
	/* ksmd's counters keep a merged page that a write has copied again (cow_ksm) as merged until ksmd
	 * revisits it. With breaks at churn_pages_s spread over the memory and one visit per full-scan
	 * time, about half a scan's worth of breaks is still counted; never more than what is merged. */
	c->stale_est_pages = 0;
	if (c->churn_pages_s && c->scan_rate_pages_s && c->full_scan_pages) {
		uint64_t scan_ms = c->full_scan_pages * 1000u / c->scan_rate_pages_s;
		uint64_t stale = c->churn_pages_s * scan_ms / 2000u;
		c->stale_est_pages = stale < merged ? stale : merged;
		/* How long a merged page lasts before a write copies it: merged / copy rate. Only while ksmd
		 * visits every page well within that time are the counters fresh enough to say. */
		uint64_t fresh = merged - c->stale_est_pages;
		if (c->churn_pages_s * 1000u >= merged && fresh) {
			uint64_t period_ms = fresh * 1000u / c->churn_pages_s;
			/* When ksmd scans slower than the rewrites the count stays stale and the copy rate
			 * falls, which reads as a longer period: only scans well inside the current estimate
			 * may update it, and it grows by at most 10 % per interval. */
			uint64_t cur = c->rewrite_period_ms;
			if (!cur || scan_ms * 4 < cur * 3) {
				uint64_t next = ema(cur, period_ms, cur != 0);
				if (cur && next > cur + cur / 10)
					next = cur + cur / 10;
				c->rewrite_period_ms = next > HOLD_MAX_PERIOD_MS ? HOLD_MAX_PERIOD_MS : next;
			}
		}
	}
	c->mergeable_est_pages = c->full_scan_pages;
	if (s->vm_mergeable_kib / page_kib(s) > c->mergeable_est_pages)
		c->mergeable_est_pages = s->vm_mergeable_kib / page_kib(s);

	c->prev_valid = true;
	c->prev_ms = s->now_ms;
	c->prev_cpu_ms = cpu;
	c->prev_merged = merged;
	c->prev_cow = cow;
	c->prev_scanned = scanned;
	c->prev_full_scans = full;
}

/* Pages ksmd holds an rmap item for: merged (shared + sharing), in the unstable tree, or volatile. */
static uint64_t tracked_pages(const struct ksm_state *k)
{
	return val(k, KSM_F_PAGES_SHARED) + val(k, KSM_F_PAGES_SHARING) + val(k, KSM_F_PAGES_UNSHARED) +
	       val(k, KSM_F_PAGES_VOLATILE);
}

/* At a full-scan end: did that scan leave nothing a further scan could merge? Every tracked page
 * must be merged or in the unstable tree (volatile <= 1 %), ksmd must have built its trees at all
 * (shared + unshared > 0: counters that do not show them say nothing), and writes must not have
 * broken merges meanwhile (cow during the scan <= 1 % of merged), which would need re-merging. */
static bool scan_left_nothing(const struct ksm_sample *s, const struct ksm_ctl *c)
{
	const struct ksm_state *k = &s->ksm;
	if (!ksm_has(k, KSM_F_PAGES_VOLATILE) || !ksm_has(k, KSM_F_PAGES_UNSHARED) || !ksm_has(k, KSM_F_PAGES_SHARED) ||
	    !s->cow_valid)
		return false;
	uint64_t tracked = tracked_pages(k);
	if (val(k, KSM_F_PAGES_SHARED) + val(k, KSM_F_PAGES_UNSHARED) == 0)
		return false;
	return val(k, KSM_F_PAGES_VOLATILE) * 100 <= tracked && c->last_scan_cow * 100 <= merged_pages(k);
}

/* Holding merges against churn. Every page a write copies costs one re-merge whenever ksmd reaches it;
 * what the CPU buys is how soon. Measured on the benchmark workload (docs/bench/ksm-2026-12-04-churn-
 * hold.md, rate sweep with smart_scan off): the memory really saved grew about linearly with ksmd's CPU,
 * 70-75 MiB per % of a core between 12 % and 30 %, while pulses (short full-speed scans paid from a
 * bucket) kept only 64 MiB per %. So ksmd holds at one steady rate: a full scan in HOLD_SCAN_SHARE_PCT %
 * of the measured rewrite period if that fits the churn budget, else as fast as the budget pays for.
 * Returns the wanted pages/s. */
static uint64_t hold_rate(const struct cfg_ksm *cfg, const struct ksm_ctl *c, uint32_t budget, uint64_t cost_ns,
			  char *why, size_t whylen)
{
	uint64_t period = c->rewrite_period_ms ? c->rewrite_period_ms : HOLD_DEFAULT_PERIOD_MS;
	uint64_t scan_ms = period * HOLD_SCAN_SHARE_PCT / 100u;
	if (scan_ms < HOLD_MIN_SCAN_MS)
		scan_ms = HOLD_MIN_SCAN_MS;
	if (scan_ms > HOLD_MAX_SCAN_MS)
		scan_ms = HOLD_MAX_SCAN_MS;
	uint64_t size = c->full_scan_pages ? c->full_scan_pages : c->mergeable_est_pages;
	uint64_t rate = size * 1000u / scan_ms;
	uint32_t limit = budget < cfg->max_cpu_ppm ? budget : cfg->max_cpu_ppm;
	uint64_t cap = (uint64_t)limit * 1000u / cost_ns; /* pages/s within the budget */
	if (rate <= cap) {
		snprintf(why, whylen, "holding against churn: one full scan per %llus (%.0f%% of the %llus rewrite period), "
			 "within budget %u%%", (unsigned long long)(scan_ms / 1000), (double)HOLD_SCAN_SHARE_PCT,
			 (unsigned long long)(period / 1000), limit / 10000);
		return rate;
	}
	uint64_t took_s = cap ? size / cap : 0;
	snprintf(why, whylen, "holding against churn at the budget %u%% of a core: one full scan per ~%llus "
		 "(wanted %llus, %.0f%% of the %llus rewrite period), %llu.%llu us/page", limit / 10000,
		 (unsigned long long)took_s, (unsigned long long)(scan_ms / 1000), (double)HOLD_SCAN_SHARE_PCT,
		 (unsigned long long)(period / 1000), (unsigned long long)(cost_ns / 1000),
		 (unsigned long long)(cost_ns / 100 % 10));
	return cap;
}

/* pages_to_scan for rate_pages_s with sleep_ms between batches, counting the batch's own time:
 * rate = pages / (sleep + pages * cost)  =>  pages = rate * sleep / (1 - rate * cost). */
static uint64_t pages_for_rate(uint64_t rate_pages_s, uint64_t sleep_ms, uint64_t cost_ns)
{
	long double busy = (long double)rate_pages_s * (long double)cost_ns / 1e9L;
	if (busy > (long double)MAX_CPU_FRACTION_PPM / 1e6L)
		busy = (long double)MAX_CPU_FRACTION_PPM / 1e6L;
	long double p = (long double)rate_pages_s * (long double)(sleep_ms ? sleep_ms : 1) / 1000.0L / (1.0L - busy);
	return p > 1e9L ? 1000000000u : (uint64_t)p;
}

static void set_phase(struct ksm_ctl *c, enum ksm_phase p, uint64_t now)
{
	if (c->phase == p)
		return;
	c->phase = p;
	c->phase_since_ms = now;
	c->scans_in_phase = 0;
	c->boundaries_in_phase = 0;
}

void ksm_decide(const struct cfg_ksm *cfg, const struct ksm_sample *s, struct ksm_ctl *c, struct ksm_decision *ret)
{
	struct ksm_decision d = { 0 };
	char why[200] = "";
	const struct ksm_state *k = &s->ksm;
	uint64_t now = s->now_ms;

	if (!c->started) {
		c->started = true;
		c->phase = KSM_PHASE_OFF;
		c->phase_since_ms = now;
		c->want_smart = -1;
	}
	if (!k->present || !ksm_has(k, KSM_F_RUN)) {
		d.phase = c->phase;
		snprintf(d.reason, sizeof(d.reason), "KSM is not available on this kernel");
		*ret = d;
		return;
	}

	bool scan_done;
	uint64_t iv_merges, iv_cpu_ms;
	account(cfg, s, c, &scan_done, &iv_merges, &iv_cpu_ms);

	/* 1. run: memory pressure with hysteresis. */
	uint64_t total = s->mem.total_kib, avail = s->mem.avail_kib;
	uint64_t start_kib = msize_resolve_kib(&cfg->start_avail, total);
	uint64_t stop_kib = msize_resolve_kib(&cfg->stop_avail, total);
	/* A size and a percentage (e.g. an imported ksmtuned threshold under a percent stop) can only be
	 * compared against MemTotal: keep a band, or ksmd would start and stop every stop_hold. */
	if (stop_kib <= start_kib)
		stop_kib = start_kib + total / 20;
	uint32_t psi = s->psi.available ? s->psi.some.avg10_ppm : 0;
	bool pressure = s->mem_valid && (avail < start_kib || (s->psi.available && psi > cfg->start_psi_ppm));
	bool calm = s->mem_valid && avail >= stop_kib && (!s->psi.available || psi <= cfg->stop_psi_ppm);
	bool running = c->phase != KSM_PHASE_OFF;
	bool want_run;
	char p_avail[16], p_start[16], p_stop[16];
	gib(avail, p_avail, sizeof(p_avail));
	gib(start_kib, p_start, sizeof(p_start));
	gib(stop_kib, p_stop, sizeof(p_stop));

	if (cfg->mode == KSM_MODE_OFF) {
		want_run = false;
		snprintf(why, sizeof(why), "mode=off");
	} else if (cfg->mode == KSM_MODE_ALWAYS) {
		want_run = true;
		snprintf(why, sizeof(why), "mode=always");
	} else if (!s->mem_valid) {
		want_run = running;
		snprintf(why, sizeof(why), "no memory reading, keeping ksmd %s", running ? "on" : "off");
	} else if (!running) {
		want_run = pressure;
		c->calm_since_ms = 0;
		if (pressure)
			snprintf(why, sizeof(why), "pressure: MemAvailable %s < start %s, PSI some %u.%02u%%", p_avail,
				 p_start, psi / 10000, psi / 100 % 100);
		else
			snprintf(why, sizeof(why), "no pressure: MemAvailable %s >= start %s", p_avail, p_start);
	} else if (calm) {
		if (!c->calm_since_ms)
			c->calm_since_ms = now;
		want_run = now - c->calm_since_ms < cfg->stop_hold_ms;
		snprintf(why, sizeof(why), "MemAvailable %s >= stop %s for %llus (hold %llus)", p_avail, p_stop,
			 (unsigned long long)((now - c->calm_since_ms) / 1000),
			 (unsigned long long)(cfg->stop_hold_ms / 1000));
	} else {
		c->calm_since_ms = 0;
		want_run = true;
		snprintf(why, sizeof(why), "MemAvailable %s < stop %s, PSI some %u.%02u%%", p_avail, p_stop,
			 psi / 10000, psi / 100 % 100);
	}

	/* 2. phase */
	/* Memory of running VMs that ksmd has not visited yet (a VM started). Only the VMs' size can say
	 * that: ksmd's own full-scan size is by definition all visited (and pages_skipped makes it
	 * overcount), so comparing against it re-opened convergence after every settle. */
	uint64_t vm_pages = s->vm_mergeable_kib / page_kib(s);
	uint64_t unscanned = c->rmap_items && vm_pages > c->rmap_items ? vm_pages - c->rmap_items : 0;
	uint64_t new_min_pages = NEW_MEMORY_MIN_KIB / page_kib(s);
	uint64_t unscanned_min = vm_pages / 20 > new_min_pages ? vm_pages / 20 : new_min_pages;
	uint64_t churn_min_pages_s = CHURN_MIN_KIB_S / page_kib(s);
	char pw[160] = "";
	if (!want_run) {
		set_phase(c, KSM_PHASE_OFF, now);
	} else if (c->phase == KSM_PHASE_OFF) {
		set_phase(c, KSM_PHASE_CONVERGING, now);
		snprintf(pw, sizeof(pw), "starting: scan at the burst budget");
	} else if (c->phase == KSM_PHASE_CONVERGING) {
		/* The yield must come from a window that began at a full-scan end seen in this phase: a
		 * window reaching back to the start can hold only the checksum pass (several scans of a
		 * small workload end within one interval), and merged pages of exiting processes vanishing
		 * meanwhile can hide new merges. */
		bool confirmed = scan_done && c->scans_in_phase >= 2 && c->boundaries_in_phase >= 2;
		if (confirmed && c->last_yield_valid && c->last_yield_kib_per_cpu_s < cfg->min_yield_kib) {
			set_phase(c, KSM_PHASE_SETTLED, now);
			snprintf(pw, sizeof(pw), "full scan yield %llu KiB per CPU-s < min_yield: settle",
				 (unsigned long long)c->last_yield_kib_per_cpu_s);
		} else if (confirmed && scan_left_nothing(s, c)) {
			set_phase(c, KSM_PHASE_SETTLED, now);
			snprintf(pw, sizeof(pw), "full scan left %llu volatile of %llu tracked pages, %llu broken by "
				 "writes: all identical pages merged, settle",
				 (unsigned long long)val(k, KSM_F_PAGES_VOLATILE), (unsigned long long)tracked_pages(k),
				 (unsigned long long)c->last_scan_cow);
		}
	} else if (c->phase == KSM_PHASE_SETTLED) {
		if (unscanned >= unscanned_min) {
			set_phase(c, KSM_PHASE_CONVERGING, now);
			snprintf(pw, sizeof(pw), "%llu MiB of mergeable memory not yet scanned",
				 (unsigned long long)(unscanned * page_kib(s) / 1024));
		} else if (scan_done && c->last_yield_valid && c->last_yield_kib_per_cpu_s >= cfg->min_yield_kib) {
			set_phase(c, KSM_PHASE_CONVERGING, now);
			snprintf(pw, sizeof(pw), "full scan yield %llu KiB per CPU-s >= min_yield",
				 (unsigned long long)c->last_yield_kib_per_cpu_s);
		} else if (iv_merges >= churn_min_pages_s &&
			   iv_merges * page_kib(s) * 1000u / (iv_cpu_ms ? iv_cpu_ms : 10) >= cfg->min_yield_kib) {
			set_phase(c, KSM_PHASE_CONVERGING, now);
			snprintf(pw, sizeof(pw), "merging again: %llu pages in the last interval",
				 (unsigned long long)iv_merges);
		}
	}
	d.phase = c->phase;
	bool phase_changed = pw[0] != '\0';

	/* 3. knobs */
	bool advisor = cfg->rate_control == KSM_RATE_ADVISOR && ksm_has(k, KSM_F_ADVISOR_MODE);
	uint64_t merged = merged_pages(k);
	bool churn = c->churn_pages_s >= churn_min_pages_s && c->churn_pages_s * 1000u >= merged;
	/* While ksmd holds slower than the rewrites, writes find fewer merged pages to copy, so the copy
	 * rate dips although the workload still rewrites: while holding, churn ends only when it has been
	 * gone for two rewrite periods (at least two minutes). */
	if (churn)
		c->churn_seen_ms = now;
	uint64_t churn_linger = 2 * (c->rewrite_period_ms ? c->rewrite_period_ms : HOLD_DEFAULT_PERIOD_MS);
	if (churn_linger < 120000u)
		churn_linger = 120000u;
	if (!churn && c->holding && c->churn_seen_ms && now - c->churn_seen_ms < churn_linger)
		churn = true;
	c->churn = churn;
	char rate_why[200] = "";
	if (want_run) {
		if (!advisor && val(k, KSM_F_ADVISOR_MODE) == KSM_ADVISOR_SCAN_TIME)
			add_write(&d, s, KSM_F_ADVISOR_MODE, KSM_ADVISOR_NONE); /* else pages_to_scan is rejected */
		if (!advisor) {
			uint64_t pages, sleep_ms = cfg->sleep_ms;
			uint64_t cost = c->cost_ns_per_page ? c->cost_ns_per_page : DEFAULT_COST_NS;
			/* Burst credit pays for converging new memory (the first passes, or memory not yet
			 * scanned). Holding merges against churn is a recurring cost with its own budget: every
			 * page a write copies costs one re-merge whenever ksmd gets to it, so what the budget buys
			 * is how soon, i.e. how long each re-merged page stays merged (ksm-behaviour.md). */
			bool new_work = c->scans_in_phase < BURST_SCANS || unscanned >= unscanned_min;
			uint32_t churn_budget = cfg->churn_cpu_ppm < cfg->max_cpu_ppm ? cfg->churn_cpu_ppm : cfg->max_cpu_ppm;
			if (churn_budget < cfg->steady_cpu_ppm)
				churn_budget = cfg->steady_cpu_ppm;
			bool bursting = c->credit_ms > 0 && new_work;
			uint32_t budget = bursting ? cfg->max_cpu_ppm : churn ? churn_budget : cfg->steady_cpu_ppm;
			c->holding = c->phase == KSM_PHASE_CONVERGING && churn && !bursting;
			uint64_t cur = val(k, KSM_F_PAGES_TO_SCAN);
			bool steady_state = running && !phase_changed && cur;
			if (c->holding) {
				uint64_t rate = hold_rate(cfg, c, budget, cost, rate_why, sizeof(rate_why));
				if (sleep_ms < HOLD_SLEEP_MS)
					sleep_ms = HOLD_SLEEP_MS;
				pages = pages_for_rate(rate, sleep_ms, cost);
			} else if (c->phase == KSM_PHASE_CONVERGING) {
				pages = pages_for_cpu(budget, sleep_ms, cost);
				/* The cost estimate is noisy (the first pass only checksums): never more than
				 * double per decision. */
				if (steady_state && pages > 2 * cur)
					pages = 2 * cur;
				snprintf(rate_why, sizeof(rate_why), "budget %u%% of a core (credit %.1fs), %llu.%llu us/page",
					 budget / 10000, (double)c->credit_ms / 1000.0,
					 (unsigned long long)(cost / 1000), (unsigned long long)(cost / 100 % 10));
			} else {
				uint64_t size = c->full_scan_pages ? c->full_scan_pages
								   : (c->rmap_items ? c->rmap_items : c->mergeable_est_pages);
				uint64_t rate = size * 1000u / (cfg->settled_scan_time_ms ? cfg->settled_scan_time_ms : 1);
				uint64_t cap = (uint64_t)cfg->steady_cpu_ppm * 1000u / cost; /* pages/s within steady */
				if (rate > cap)
					rate = cap;
				ksm_rate_to_knobs(rate, cfg->sleep_ms, cfg->min_pages_to_scan, cfg->max_pages_to_scan,
						  &pages, &sleep_ms);
				snprintf(rate_why, sizeof(rate_why), "one full scan of %llu pages per %llus",
					 (unsigned long long)size, (unsigned long long)(cfg->settled_scan_time_ms / 1000));
			}
			/* Converging or holding, the cost per page is noisy: back off at once when ksmd
			 * measured above budget. */
			if (c->phase == KSM_PHASE_CONVERGING && steady_state && c->cpu_ppm > budget + budget / 5) {
				uint64_t fb = cur * budget / c->cpu_ppm;
				if (fb < pages)
					pages = fb;
			}
			if (pages < cfg->min_pages_to_scan)
				pages = cfg->min_pages_to_scan;
			if (pages > cfg->max_pages_to_scan)
				pages = cfg->max_pages_to_scan;
			/* Deadband: small corrections are not worth a write and a log line. */
			bool big = cur == 0 || pages > cur + cur / 8 || pages + cur / 8 < cur;
			if (big || val(k, KSM_F_SLEEP_MILLISECS) != sleep_ms || !running) {
				add_write(&d, s, KSM_F_PAGES_TO_SCAN, (int64_t)pages);
				add_write(&d, s, KSM_F_SLEEP_MILLISECS, (int64_t)sleep_ms);
			}
			c->want_pages = pages;
			c->want_sleep_ms = sleep_ms;
		}
		if (cfg->smart_scan != TRI_KEEP) {
			int smart = cfg->smart_scan == TRI_AUTO ? !churn : cfg->smart_scan == TRI_YES;
			add_write(&d, s, KSM_F_SMART_SCAN, smart);
			c->want_smart = smart;
		}
		if (cfg->use_zero_pages == TRI_YES || cfg->use_zero_pages == TRI_NO)
			add_write(&d, s, KSM_F_USE_ZERO_PAGES, cfg->use_zero_pages == TRI_YES);
		if (advisor) {
			uint64_t pct = cfg->max_cpu_ppm / 10000u;
			add_write(&d, s, KSM_F_ADVISOR_MAX_CPU, (int64_t)(pct ? pct : 1));
			uint64_t t = cfg->advisor_target_scan_ms / 1000u;
			add_write(&d, s, KSM_F_ADVISOR_TARGET_SCAN_TIME, (int64_t)(t ? t : 1));
			add_write(&d, s, KSM_F_ADVISOR_MODE, KSM_ADVISOR_SCAN_TIME);
			snprintf(rate_why, sizeof(rate_why), "rate handed to the kernel advisor (max %llu%% CPU, scan %llus)",
				 (unsigned long long)pct, (unsigned long long)t);
		}
		add_write(&d, s, KSM_F_RUN, 1);
	} else {
		add_write(&d, s, KSM_F_RUN, 0);
	}

	char churn_why[160] = "";
	if (churn)
		snprintf(churn_why, sizeof(churn_why),
			 "; churn: %llu merged pages/s copied by writes, ~%llu MiB of the merged count already copied, "
			 "smart_scan %s",
			 (unsigned long long)c->churn_pages_s,
			 (unsigned long long)(c->stale_est_pages * page_kib(s) / 1024),
			 c->want_smart == 0 ? "off" : c->want_smart == 1 ? "on" : "kept");
	int rn = snprintf(d.reason, sizeof(d.reason), "%s: %s%s%s%s%s%s", ksm_phase_name(c->phase), why,
			  pw[0] ? "; " : "", pw, rate_why[0] ? "; " : "", rate_why, churn_why);
	if (rn >= (int)sizeof(d.reason)) /* a reason longer than the log line keeps its start */
		memcpy(d.reason + sizeof(d.reason) - 4, "...", 4);
	*ret = d;
}
