/* bln_policy.c - the balloon controller's pure decision function (model: docs/balloon-policy.md). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bln_policy.h"

#define PPM 1000000u

/* Working state of one decision. While deciding, changes[i] is guest i's slot: from/to hold the
 * current and planned size, and a non-empty reason marks a guest whose fate is already settled
 * (opted out, forced move, ...). Guests with an empty reason are the candidates the host-driven
 * shrink or grow distributes over. The slots are compacted into the change list at the end. */
struct ctx {
	const struct bln_policy_cfg *cfg;
	const struct bln_guest *g;
	size_t n;
	struct bln_change *ch;
	uint64_t step_cap; /* max_step_kib, or no bound when 0 */
	bool grow;	   /* direction of the host-driven distribution */
	char host_why[128];
};

/* SET_FREE: candidates not moving yet; SET_MEMBERS: those of them whose share at the first water level
 * clears the deadband. */
enum fill_set { SET_FREE, SET_MEMBERS };

struct sz {
	char s[32];
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t mul_ppm(uint64_t v, uint32_t ppm)
{
	if (ppm > PPM)
		ppm = PPM;
	/* split so that neither product can overflow */
	return v / PPM * ppm + v % PPM * ppm / PPM;
}

static uint64_t shares_of(const struct bln_guest *g)
{
	return g->shares ? g->shares : 1; /* 0 would divide by zero; it counts as the smallest weight */
}

/* Guest sizes in MiB: "2048M", "1638.4M"; "512K" below 1 MiB. */
static struct sz msz(uint64_t kib)
{
	struct sz r;
	if (kib == 0)
		snprintf(r.s, sizeof(r.s), "0");
	else if (kib < 1024)
		snprintf(r.s, sizeof(r.s), "%lluK", (unsigned long long)kib);
	else if (kib % 1024 == 0)
		snprintf(r.s, sizeof(r.s), "%lluM", (unsigned long long)(kib / 1024));
	else
		snprintf(r.s, sizeof(r.s), "%.1fM", (double)kib / 1024.0);
	return r;
}

/* Host sizes as GiB with one decimal, as in the KSM reasons. */
static struct sz gsz(uint64_t kib)
{
	struct sz r;
	snprintf(r.s, sizeof(r.s), "%.1fG", (double)kib / 1048576.0);
	return r;
}

static struct sz pct(uint32_t ppm)
{
	struct sz r;
	snprintf(r.s, sizeof(r.s), "%u.%02u%%", ppm / 10000, ppm / 100 % 100);
	return r;
}

/* snprintf for reasons: a too-long reason is cut, never overflows. */
__attribute__((format(printf, 3, 4))) static void put(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void app(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	if (used + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* The margin kept free above what the guest uses: the larger of the absolute and the relative margin,
 * and never less than twice the low-usable pressure line, so a guest shrunk to its need is not under
 * pressure by our own doing (which would make it grow again next cycle). */
static uint64_t guest_margin_kib(const struct bln_policy_cfg *cfg, const struct bln_guest *g)
{
	uint64_t m = max_u64(cfg->guest_margin_kib, mul_ppm(g->actual_kib, cfg->guest_margin_ppm));
	return max_u64(m, sat_add(cfg->guest_low_usable_kib, cfg->guest_low_usable_kib));
}

static uint64_t guest_used_kib(const struct bln_guest *g)
{
	return sat_sub(g->actual_kib, g->usable_kib); /* usable > actual (hostile, racy): uses nothing */
}

uint64_t bln_guest_need_kib(const struct bln_policy_cfg *cfg, const struct bln_guest *g)
{
	return sat_add(guest_used_kib(g), guest_margin_kib(cfg, g));
}

uint64_t bln_guest_lowest_kib(const struct bln_policy_cfg *cfg, const struct bln_guest *g)
{
	uint64_t lowest = max_u64(g->floor_kib, bln_guest_need_kib(cfg, g));
	/* Just grown for its own pressure: its usable jumped with the new memory, but the workload that
	 * asked for it is still growing; taking it back now would thrash (seen on real guests). */
	return g->shrink_hold ? max_u64(lowest, g->actual_kib) : lowest;
}

/* Pressure needs evidence: without a balloon driver reporting fresh stats, usable and the rates are
 * zero or old, and growing the guest on their word would take host memory for nothing. */
bool bln_guest_pressured(const struct bln_policy_cfg *cfg, const struct bln_guest *g)
{
	if (!g->balloon_ok || !g->stats_fresh)
		return false;
	return g->swap_in_kib_s > cfg->guest_swapin_kib_s || g->major_faults_s > cfg->guest_majflt_s ||
	       g->usable_kib < cfg->guest_low_usable_kib;
}

static void pressure_why(const struct bln_policy_cfg *cfg, const struct bln_guest *g, char *buf, size_t len)
{
	buf[0] = '\0';
	if (g->swap_in_kib_s > cfg->guest_swapin_kib_s)
		app(buf, len, "swap-in %lluK/s > %lluK/s", (unsigned long long)g->swap_in_kib_s,
		    (unsigned long long)cfg->guest_swapin_kib_s);
	if (g->major_faults_s > cfg->guest_majflt_s)
		app(buf, len, "%smajor faults %llu/s > %llu/s", buf[0] ? ", " : "",
		    (unsigned long long)g->major_faults_s, (unsigned long long)cfg->guest_majflt_s);
	if (g->usable_kib < cfg->guest_low_usable_kib)
		app(buf, len, "%susable %s < %s", buf[0] ? ", " : "", msz(g->usable_kib).s,
		    msz(cfg->guest_low_usable_kib).s);
}

/* "needs 900M (actual 2048M - usable 1300M + margin 152M), floor 512M" */
static void need_why(const struct bln_policy_cfg *cfg, const struct bln_guest *g, char *buf, size_t len)
{
	put(buf, len, "needs %s (actual %s - usable %s + margin %s), floor %s",
	    msz(bln_guest_need_kib(cfg, g)).s, msz(g->actual_kib).s,
	    msz(min_u64(g->usable_kib, g->actual_kib)).s, msz(guest_margin_kib(cfg, g)).s,
	    msz(g->floor_kib).s);
}

static void set_move(struct bln_change *c, uint64_t to)
{
	c->to_kib = to;
	c->verdict = to > c->from_kib ? BLN_GROW : to < c->from_kib ? BLN_SHRINK : BLN_KEEP;
}

/* Pressured guests grow at once (not bounded by max_step or min_step) to their need plus another
 * margin, and by at least max_step, so rate-only pressure (swap-in with page cache to spare) still
 * gets memory; never above max. */
static void decide_pressured(const struct ctx *c, size_t i)
{
	const struct bln_guest *g = &c->g[i];
	struct bln_change *ch = &c->ch[i];
	char pw[96], nw[128];
	uint64_t need = bln_guest_need_kib(c->cfg, g), margin = guest_margin_kib(c->cfg, g);
	uint64_t by_need = sat_add(need, margin), by_step = sat_add(g->actual_kib, c->cfg->max_step_kib);
	uint64_t goal = min_u64(max_u64(max_u64(by_need, by_step), g->floor_kib), g->max_kib);
	const char *which = goal == g->max_kib ? "its max"
			    : goal == by_need  ? "need + margin"
			    : goal == by_step  ? "actual + max_step"
					       : "its floor";

	pressure_why(c->cfg, g, pw, sizeof(pw));
	need_why(c->cfg, g, nw, sizeof(nw));
	if (goal <= g->actual_kib) {
		put(ch->reason, sizeof(ch->reason), "keep %s: under pressure (%s) but %s",
		    msz(g->actual_kib).s, pw,
		    g->actual_kib >= g->max_kib ? "already at its max" : "its need + margin is covered");
		return;
	}
	set_move(ch, goal);
	put(ch->reason, sizeof(ch->reason), "grow %s -> %s at once, to %s: under pressure (%s); guest %s%s",
	    msz(g->actual_kib).s, msz(goal).s, which, pw, nw,
	    g->manual_target_kib ? "; manual target suspended while under pressure" : "");
}

/* The operator asked for a size: move toward it whatever the host state, by at most max_step, never
 * above max, never below the floor, and a shrink under the same safety rules as any shrink. */
static void decide_manual(const struct ctx *c, size_t i)
{
	const struct bln_guest *g = &c->g[i];
	struct bln_change *ch = &c->ch[i];
	uint64_t a = g->actual_kib, min_step = c->cfg->min_step_kib;
	uint64_t target = min_u64(max_u64(g->manual_target_kib, g->floor_kib), g->max_kib);
	char tw[64], nw[128];

	put(tw, sizeof(tw), "manual target %s", msz(g->manual_target_kib).s);
	if (target != g->manual_target_kib)
		app(tw, sizeof(tw), " (%s %s)", target == g->max_kib ? "capped at max" : "raised to floor",
		    msz(target).s);
	if (target == a) {
		put(ch->reason, sizeof(ch->reason), "keep %s: at %s", msz(a).s, tw);
		return;
	}
	if (target > a) {
		uint64_t step = min_u64(target - a, c->step_cap);
		if (step < min_step && a + step != target) {
			put(ch->reason, sizeof(ch->reason), "keep %s: %s, step %s below min_step %s",
			    msz(a).s, tw, msz(step).s, msz(min_step).s);
			return;
		}
		set_move(ch, a + step);
		put(ch->reason, sizeof(ch->reason), "grow %s -> %s: %s%s", msz(a).s, msz(a + step).s, tw,
		    a + step != target ? ", bounded by max_step" : "");
		return;
	}
	if (!g->balloon_ok || !g->stats_fresh) {
		put(ch->reason, sizeof(ch->reason), "keep %s: %s, but never shrunk without %s", msz(a).s, tw,
		    g->balloon_ok ? "fresh stats" : "a working balloon driver");
		return;
	}
	uint64_t lowest = bln_guest_lowest_kib(c->cfg, g);
	uint64_t goal = max_u64(target, lowest);
	need_why(c->cfg, g, nw, sizeof(nw));
	if (goal >= a) {
		put(ch->reason, sizeof(ch->reason), "keep %s: %s, but the guest %s", msz(a).s, tw, nw);
		return;
	}
	uint64_t step = min_u64(a - goal, c->step_cap);
	if (step < min_step && a - step != target) {
		put(ch->reason, sizeof(ch->reason), "keep %s: %s, held at its lowest %s (%s)", msz(a).s, tw,
		    msz(lowest).s, nw);
		return;
	}
	set_move(ch, a - step);
	put(ch->reason, sizeof(ch->reason), "shrink %s -> %s: %s%s; guest %s", msz(a).s, msz(a - step).s, tw,
	    goal > target	 ? ", held at the guest's lowest"
	    : a - step != target ? ", bounded by max_step"
				 : "",
	    nw);
}

/* Settle what does not depend on the host: opted out, inconsistent, pressured, manual, below floor.
 * Returns the memory those moves take from (grow) and give to (shrink) the host. */
static void decide_forced(struct ctx *c, uint64_t *ret_grow, uint64_t *ret_shrink, size_t *ret_ngrow)
{
	uint64_t grow = 0, shrink = 0;
	size_t ngrow = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct bln_guest *g = &c->g[i];
		struct bln_change *ch = &c->ch[i];
		*ch = (struct bln_change){
		    .guest = i, .verdict = BLN_KEEP, .from_kib = g->actual_kib, .to_kib = g->actual_kib};
		if (!g->managed)
			put(ch->reason, sizeof(ch->reason), "keep %s: opted out, memopt never changes it",
			    msz(g->actual_kib).s);
		else if (g->actual_kib == 0 || g->max_kib == 0)
			put(ch->reason, sizeof(ch->reason), "keep: no balloon size or max memory reported");
		else if (g->actual_kib > g->max_kib)
			put(ch->reason, sizeof(ch->reason), "keep %s: above its max %s, sizes inconsistent",
			    msz(g->actual_kib).s, msz(g->max_kib).s);
		else if (bln_guest_pressured(c->cfg, g))
			decide_pressured(c, i);
		else if (g->manual_target_kib)
			decide_manual(c, i);
		else if (g->actual_kib < min_u64(g->floor_kib, g->max_kib)) {
			uint64_t to = min_u64(g->floor_kib, g->max_kib);
			set_move(ch, to);
			put(ch->reason, sizeof(ch->reason), "grow %s -> %s: below its floor %s",
			    msz(g->actual_kib).s, msz(to).s, msz(g->floor_kib).s);
		}
		if (ch->verdict == BLN_GROW) {
			grow = sat_add(grow, ch->to_kib - ch->from_kib);
			ngrow++;
		} else if (ch->verdict == BLN_SHRINK) {
			shrink = sat_add(shrink, ch->from_kib - ch->to_kib);
		}
	}
	*ret_grow = grow;
	*ret_shrink = shrink;
	*ret_ngrow = ngrow;
}

/* A candidate of the current distribution: its weight and how much it may move this cycle.
 * Shrink: weight reclaimable/shares, cap min(reclaimable, max_step), reclaimable = actual - lowest;
 * only with a balloon driver and fresh stats. Grow: weight (max - actual)*shares, cap min(max - actual,
 * max_step); stale or driverless guests may grow, which is always safe for them. */
static bool candidate(const struct ctx *c, size_t i, long double *ret_w, uint64_t *ret_cap)
{
	const struct bln_guest *g = &c->g[i];
	if (c->ch[i].reason[0])
		return false;
	uint64_t span;
	if (c->grow) {
		if (g->actual_kib >= g->max_kib)
			return false;
		span = g->max_kib - g->actual_kib;
		*ret_w = (long double)span * (long double)shares_of(g);
	} else {
		if (!g->balloon_ok || !g->stats_fresh)
			return false;
		uint64_t lowest = bln_guest_lowest_kib(c->cfg, g);
		if (lowest >= g->actual_kib)
			return false;
		span = g->actual_kib - lowest;
		*ret_w = (long double)span / (long double)shares_of(g);
	}
	*ret_cap = min_u64(span, c->step_cap);
	return *ret_cap > 0 && *ret_w > 0;
}

static uint64_t take_of(const struct ctx *c, size_t i)
{
	const struct bln_change *ch = &c->ch[i];
	return c->grow ? ch->to_kib - ch->from_kib : ch->from_kib - ch->to_kib;
}

static void set_take(struct ctx *c, size_t i, uint64_t take)
{
	struct bln_change *ch = &c->ch[i];
	ch->to_kib = c->grow ? ch->from_kib + take : ch->from_kib - take;
}

static uint64_t take_at(long double lambda, long double w, uint64_t cap)
{
	long double t = lambda * w;
	return t >= (long double)cap ? cap : (uint64_t)t;
}

/* A grow landing exactly on max may be below min_step (else a guest just under max never gets there). */
static bool reaches_max(const struct ctx *c, size_t i, uint64_t take)
{
	return c->grow && take > 0 && take == c->g[i].max_kib - c->g[i].actual_kib;
}

static bool in_set(const struct ctx *c, size_t i, enum fill_set set, long double lambda1, long double *ret_w,
		   uint64_t *ret_cap)
{
	if (!candidate(c, i, ret_w, ret_cap) || take_of(c, i) > 0)
		return false;
	if (set == SET_FREE)
		return true;
	uint64_t t = take_at(lambda1, *ret_w, *ret_cap);
	return t >= c->cfg->min_step_kib || reaches_max(c, i, t);
}

/* Water level: the lambda with sum(min(cap_i, lambda*w_i)) = amount over the set (INFINITY when the
 * caps cannot hold it). Each round caps at least one more guest, so it ends within n+1 rounds. */
static long double water_level(const struct ctx *c, enum fill_set set, long double lambda1, uint64_t amount)
{
	long double sumcap = 0, w, lambda = 0;
	uint64_t cap;
	for (size_t i = 0; i < c->n; i++)
		if (in_set(c, i, set, lambda1, &w, &cap))
			sumcap += (long double)cap;
	if ((long double)amount >= sumcap)
		return INFINITY;
	for (size_t round = 0; round <= c->n + 1; round++) {
		long double capped = 0, wsum = 0;
		for (size_t i = 0; i < c->n; i++) {
			if (!in_set(c, i, set, lambda1, &w, &cap))
				continue;
			if ((long double)cap <= lambda * w)
				capped += (long double)cap;
			else
				wsum += w;
		}
		if (wsum <= 0)
			return INFINITY;
		long double next = ((long double)amount - capped) / wsum;
		if (next <= lambda)
			break;
		lambda = next;
	}
	return lambda;
}

/* Whole step a free guest would take of `rest` (0: it cannot make one). */
static uint64_t whole_step(const struct ctx *c, size_t i, uint64_t rest, long double *ret_w)
{
	uint64_t cap;
	if (!in_set(c, i, SET_FREE, 0, ret_w, &cap))
		return 0;
	uint64_t t = min_u64(cap, c->grow ? rest : max_u64(rest, c->cfg->min_step_kib));
	return t >= c->cfg->min_step_kib || reaches_max(c, i, t) ? t : 0;
}

/* Caps of the free guests at least `tau` heavy that can make a whole step. */
static long double heavy_caps(const struct ctx *c, uint64_t rest, long double tau)
{
	long double sum = 0, w;
	for (size_t i = 0; i < c->n; i++) {
		uint64_t t = whole_step(c, i, rest, &w);
		if (t && w >= tau)
			sum += (long double)t;
	}
	return sum;
}

/* No share clears the deadband: whole steps go to the heaviest free guests whose steps cover `rest`.
 * The weight threshold is bisected (geometrically, weights span many decades), so there is no sort
 * and no allocation, and one pass serves all of them. Returns what was placed. */
static uint64_t fill_heaviest(struct ctx *c, uint64_t rest)
{
	long double lo = 0, hi = 0, w;
	for (size_t i = 0; i < c->n; i++)
		if (whole_step(c, i, rest, &w) && w > hi)
			hi = w;
	for (size_t i = 0; i < c->n; i++)
		if (whole_step(c, i, rest, &w) && (lo == 0 || w < lo))
			lo = w;
	if (hi == 0)
		return 0;
	if (heavy_caps(c, rest, hi) >= (long double)rest) {
		lo = hi;
	} else if (heavy_caps(c, rest, lo) >= (long double)rest) {
		/* invariant: threshold lo covers rest, hi does not */
		for (int k = 0; k < 64 && hi > lo * 1.0001L; k++) {
			long double mid = sqrtl(lo * hi);
			if (!(mid > lo && mid < hi))
				break;
			if (heavy_caps(c, rest, mid) >= (long double)rest)
				lo = mid;
			else
				hi = mid;
		}
	}
	uint64_t placed = 0;
	for (size_t i = 0; i < c->n && placed < rest; i++) {
		uint64_t t = whole_step(c, i, rest - placed, &w);
		if (t && w >= lo) {
			set_take(c, i, t);
			placed = sat_add(placed, t);
		}
	}
	return placed;
}

/* Distribute `amount` over the candidates in proportion to their weights, each within its cap, with
 * no move below min_step, in levels: the guests whose share clears the deadband split the amount among
 * themselves; if their caps cannot hold it all, the next level splits the rest over the guests left
 * out. A level where no share clears the deadband gives whole steps to its heaviest guests (a shrink
 * may so overshoot by less than min_step; a grow never exceeds `amount`). Returns what was placed. */
static uint64_t fill(struct ctx *c, uint64_t amount)
{
	uint64_t min_step = c->cfg->min_step_kib, placed = 0, cap;
	long double w;

	for (size_t level = 0; level <= c->n && placed < amount; level++) {
		uint64_t rest = amount - placed;
		long double lambda1 = water_level(c, SET_FREE, 0, rest);
		long double lambda2 = water_level(c, SET_MEMBERS, lambda1, rest);
		bool any = false;
		for (size_t i = 0; i < c->n; i++) {
			if (!in_set(c, i, SET_MEMBERS, lambda1, &w, &cap))
				continue;
			uint64_t t = take_at(lambda2, w, cap);
			/* Float rounding may leave a member just under the deadband: a shrink rounds up, a
			 * grow (which must stay within the budget) drops it. */
			if (t < min_step && !reaches_max(c, i, t))
				t = c->grow ? 0 : min_u64(cap, min_step);
			set_take(c, i, t);
			placed = sat_add(placed, t);
			any = any || t > 0;
		}
		/* integer rounding left a few KiB: top the moving guests up within their caps */
		for (size_t i = 0; i < c->n && placed < amount; i++) {
			if (!candidate(c, i, &w, &cap) || take_of(c, i) == 0)
				continue;
			uint64_t add = min_u64(cap - take_of(c, i), amount - placed);
			set_take(c, i, take_of(c, i) + add);
			placed += add;
		}
		if (any || placed >= amount)
			continue;
		uint64_t t = fill_heaviest(c, rest);
		if (t == 0)
			break;
		placed = sat_add(placed, t);
	}
	return placed;
}

static void reason_candidates(struct ctx *c, bool shrinking, bool growing, bool room)
{
	const struct bln_policy_cfg *cfg = c->cfg;
	char nw[128];
	for (size_t i = 0; i < c->n; i++) {
		const struct bln_guest *g = &c->g[i];
		struct bln_change *ch = &c->ch[i];
		char *r = ch->reason;
		size_t rl = sizeof(ch->reason);
		if (r[0])
			continue;
		set_move(ch, ch->to_kib);
		struct sz as = msz(g->actual_kib);
		const char *a = as.s;
		if (ch->verdict == BLN_SHRINK) {
			need_why(cfg, g, nw, sizeof(nw));
			put(r, rl, "shrink %s -> %s: %s; guest %s, shares %u", a, msz(ch->to_kib).s,
			    c->host_why, nw, g->shares);
		} else if (ch->verdict == BLN_GROW) {
			put(r, rl, "grow %s -> %s: %s; %s below max %s, shares %u%s", a, msz(ch->to_kib).s,
			    c->host_why, msz(g->max_kib - g->actual_kib).s, msz(g->max_kib).s, g->shares,
			    !g->balloon_ok || !g->stats_fresh
				? "; no fresh stats, but growing is always safe for the guest"
				: "");
		} else if (shrinking && !g->balloon_ok) {
			put(r, rl, "keep %s: no working balloon driver, never shrunk", a);
		} else if (shrinking && !g->stats_fresh) {
			put(r, rl,
			    "keep %s: stats are stale (last_update not advancing), never shrunk without "
			    "fresh stats",
			    a);
		} else if (shrinking && g->shrink_hold) {
			put(r, rl, "keep %s: grown for its own pressure moments ago, not shrunk during grow_hold; %s",
			    a, c->host_why);
		} else if (shrinking && bln_guest_lowest_kib(cfg, g) >= g->actual_kib) {
			need_why(cfg, g, nw, sizeof(nw));
			put(r, rl, "keep %s: at its lowest; guest %s; %s", a, nw, c->host_why);
		} else if (shrinking) {
			put(r, rl,
			    "keep %s: the reclaim is taken from other guests (could give %s, shares %u)", a,
			    msz(min_u64(g->actual_kib - bln_guest_lowest_kib(cfg, g), c->step_cap)).s,
			    g->shares);
		} else if (room && g->actual_kib >= g->max_kib) {
			put(r, rl, "keep %s: at its max", a);
		} else if (growing) {
			put(r, rl,
			    "keep %s: the growth budget went to other guests (%s below max, shares %u)", a,
			    msz(g->max_kib - g->actual_kib).s, g->shares);
		} else if (room) {
			put(r, rl, "keep %s: %s, but guests growing now use the room", a, c->host_why);
		} else {
			put(r, rl, "keep %s: %s", a, c->host_why);
		}
	}
}

static int64_t to_i64(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

void bln_decide(const struct bln_policy_cfg *cfg, const struct bln_host *h, const struct bln_guest *g,
		size_t nguests, struct bln_decision *ret, char (*keep_reasons)[BLN_REASON_MAX])
{
	struct bln_decision d = {.changes = ret->changes};
	struct ctx c = {.cfg = cfg, .g = g, .n = nguests, .ch = ret->changes};
	if (!c.ch)
		c.n = 0; /* nowhere to work: decide for the host only, change nothing */
	c.step_cap = cfg->max_step_kib ? cfg->max_step_kib : UINT64_MAX;

	uint64_t m = cfg->host_min_avail_kib, rel = max_u64(cfg->host_release_avail_kib, m),
		 avail = h->avail_kib;
	uint64_t mid = m + (rel - m) / 2; /* growth stops here: see docs/balloon-policy.md */
	uint32_t psi = h->psi_available ? h->psi_some_avg10_ppm : 0;
	bool psi_high = h->psi_available && psi > cfg->host_psi_ppm;
	bool low = avail < m;
	bool room = !low && !psi_high && avail >= rel;
	d.host_short = low || psi_high;

	uint64_t fgrow, fshrink;
	size_t nfgrow;
	decide_forced(&c, &fgrow, &fshrink, &nfgrow);
	uint64_t net_grow = sat_sub(fgrow, fshrink), net_shrink = sat_sub(fshrink, fgrow);

	/* Gap: what must be reclaimed so that MemAvailable, after the forced moves, is back at the goal. */
	uint64_t gap;
	if (!low && psi_high)
		gap = sat_sub(sat_add(max_u64(cfg->max_step_kib, cfg->min_step_kib), net_grow), net_shrink);
	else
		gap = sat_sub(sat_add(m, net_grow), sat_add(avail, net_shrink));
	uint64_t budget = room ? sat_sub(sat_add(avail, net_shrink), sat_add(mid, net_grow)) : 0;

	if (low)
		put(c.host_why, sizeof(c.host_why), "host MemAvailable %s < %s goal", gsz(avail).s, gsz(m).s);
	else if (psi_high)
		put(c.host_why, sizeof(c.host_why), "host memory PSI some %s > %s (MemAvailable %s)",
		    pct(psi).s, pct(cfg->host_psi_ppm).s, gsz(avail).s);
	else if (gap > 0)
		put(c.host_why, sizeof(c.host_why),
		    "guests growing now (+%s) would take host MemAvailable %s below the %s goal",
		    msz(net_grow).s, gsz(avail).s, gsz(m).s);
	else if (room)
		put(c.host_why, sizeof(c.host_why), "host MemAvailable %s >= %s release", gsz(avail).s,
		    gsz(rel).s);
	else
		put(c.host_why, sizeof(c.host_why),
		    "host MemAvailable %s within the band [%s goal, %s release)", gsz(avail).s, gsz(m).s,
		    gsz(rel).s);

	uint64_t moved = 0;
	if (gap > 0) {
		c.grow = false;
		moved = fill(&c, gap);
		d.host_gap_kib = to_i64(gap);
	} else if (budget > 0) {
		c.grow = true;
		moved = fill(&c, budget);
		d.host_gap_kib = -to_i64(budget);
	}
	reason_candidates(&c, gap > 0, gap == 0 && budget > 0, room);

	/* Summary. */
	char *s = d.summary;
	size_t sl = sizeof(d.summary);
	const char *state = d.host_short ? "host short"
			    : gap > 0	 ? "host goal at risk"
			    : room	 ? "host has room"
					 : "host within band";
	put(s, sl, "%s: %s", state, strncmp(c.host_why, "host ", 5) == 0 ? c.host_why + 5 : c.host_why);
	if (nguests == 0)
		app(s, sl, "; no guests");
	if (fgrow)
		app(s, sl, "; %zu guest%s grow%s now by %s (pressure, floor or manual target)", nfgrow,
		    nfgrow == 1 ? "" : "s", nfgrow == 1 ? "s" : "", msz(fgrow).s);
	size_t nmoved = 0;
	for (size_t i = 0; i < c.n; i++)
		if (c.ch[i].verdict != BLN_KEEP)
			nmoved++;
	if (gap > 0) {
		if (moved)
			app(s, sl, "; reclaim %s: shrinking guests by %s", msz(gap).s, msz(moved).s);
		else
			app(s, sl, "; reclaim %s: nothing can be shrunk", msz(gap).s);
		if (moved < gap)
			app(s, sl, "; host remains short by %s", msz(gap - moved).s);
	} else if (budget > 0) {
		app(s, sl, "; give back up to %s (MemAvailable stays >= %s, mid-band): growing guests by %s",
		    msz(budget).s, gsz(mid).s, msz(moved).s);
	} else if (nmoved == 0) {
		app(s, sl, "; keeping guests");
	}

	/* Per-guest reasons, then the change list in guest order. */
	for (size_t i = 0; i < c.n; i++) {
		if (keep_reasons)
			memcpy(keep_reasons[i], c.ch[i].reason, BLN_REASON_MAX);
		if (c.ch[i].verdict == BLN_KEEP)
			continue;
		if (d.n != i)
			c.ch[d.n] = c.ch[i];
		d.n++;
	}
	if (keep_reasons)
		for (size_t i = c.n; i < nguests; i++)
			put(keep_reasons[i], BLN_REASON_MAX, "keep: no change array given");
	*ret = d;
}
