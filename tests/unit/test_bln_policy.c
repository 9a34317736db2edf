/* test_bln_policy.c - the balloon policy from struct literals: host pressure and shares, guest pressure,
 * stale stats, no driver, floors, opt-out, deadband, max_step, grow-back, manual targets, multi-cycle
 * settling without oscillation, overflow-safe arithmetic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "balloon/bln_policy.h"

#define MIB 1024ull
#define GIB (1024ull * 1024ull)
#define NG 48

/* goal 3G, release 4G (middle 3.5G), PSI 10 %, margin max(128M, 5 %), low usable 64M, steps 32M..512M */
static struct bln_policy_cfg cfg0(void)
{
	return (struct bln_policy_cfg){.host_min_avail_kib = 3 * GIB,
				       .host_release_avail_kib = 4 * GIB,
				       .host_psi_ppm = 100000,
				       .guest_margin_kib = 128 * MIB,
				       .guest_margin_ppm = 50000,
				       .guest_low_usable_kib = 64 * MIB,
				       .guest_swapin_kib_s = 1024,
				       .guest_majflt_s = 100,
				       .min_step_kib = 32 * MIB,
				       .max_step_kib = 512 * MIB};
}

static struct bln_guest guest(const char *name, uint64_t actual, uint64_t max, uint64_t floor,
			      uint64_t usable)
{
	struct bln_guest g = {.managed = true,
			      .balloon_ok = true,
			      .stats_fresh = true,
			      .actual_kib = actual,
			      .max_kib = max,
			      .floor_kib = floor,
			      .shares = 1000,
			      .usable_kib = usable};
	snprintf(g.name, sizeof(g.name), "%s", name);
	return g;
}

static struct bln_host host(uint64_t avail)
{
	return (struct bln_host){.total_kib = 64 * GIB, .avail_kib = avail, .psi_available = true};
}

struct out {
	struct bln_change ch[NG];
	struct bln_decision d;
	char why[NG][BLN_REASON_MAX];
};

static bool starts_with(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* Rules every decision must keep, whatever the scenario. */
static void check_invariants(const struct bln_policy_cfg *cfg, const struct bln_guest *g, size_t n,
			     const struct out *o)
{
	bool changed[NG] = {false};
	assert_true(o->d.n <= n);
	assert_true(o->d.summary[0] != '\0');
	for (size_t k = 0; k < o->d.n; k++) {
		const struct bln_change *c = &o->d.changes[k];
		assert_true(c->guest < n);
		assert_false(changed[c->guest]);
		if (k > 0)
			assert_true(c->guest > o->d.changes[k - 1].guest);
		changed[c->guest] = true;
		const struct bln_guest *x = &g[c->guest];
		bool pressured = bln_guest_pressured(cfg, x);
		assert_true(x->managed);
		assert_int_equal(c->from_kib, x->actual_kib);
		assert_true(c->to_kib <= x->max_kib);
		assert_int_not_equal(c->verdict, BLN_KEEP);
		assert_true(c->reason[0] != '\0');
		assert_string_equal(o->why[c->guest], c->reason);
		if (c->verdict == BLN_SHRINK) {
			assert_true(c->to_kib < c->from_kib);
			assert_true(starts_with(c->reason, "shrink "));
			assert_true(x->balloon_ok && x->stats_fresh && !pressured);
			assert_true(c->to_kib >= bln_guest_lowest_kib(cfg, x));
			assert_true(c->to_kib >= x->floor_kib);
			assert_true(cfg->max_step_kib == 0 || c->from_kib - c->to_kib <= cfg->max_step_kib);
			assert_true(c->from_kib - c->to_kib >= cfg->min_step_kib ||
				    c->to_kib == x->manual_target_kib || c->to_kib == x->floor_kib);
		} else {
			assert_int_equal(c->verdict, BLN_GROW);
			assert_true(c->to_kib > c->from_kib);
			assert_true(starts_with(c->reason, "grow "));
			bool below_floor = x->actual_kib < x->floor_kib;
			if (!pressured && !below_floor && cfg->max_step_kib)
				assert_true(c->to_kib - c->from_kib <= cfg->max_step_kib);
			assert_true(c->to_kib - c->from_kib >= cfg->min_step_kib || c->to_kib == x->max_kib ||
				    pressured || below_floor || c->to_kib == x->manual_target_kib);
		}
	}
	for (size_t i = 0; i < n; i++) {
		assert_true(o->why[i][0] != '\0');
		if (!changed[i])
			assert_true(starts_with(o->why[i], "keep"));
	}
}

static void run(const struct bln_policy_cfg *cfg, const struct bln_host *h, const struct bln_guest *g,
		size_t n, struct out *o)
{
	memset(o, 0, sizeof(*o));
	o->d.changes = o->ch;
	bln_decide(cfg, h, g, n, &o->d, o->why);
	check_invariants(cfg, g, n, o);
}

static const struct bln_change *change_of(const struct out *o, size_t i)
{
	for (size_t k = 0; k < o->d.n; k++)
		if (o->d.changes[k].guest == i)
			return &o->d.changes[k];
	return NULL;
}

/* Signed size change of guest i (0 when kept). */
static int64_t delta_of(const struct out *o, size_t i)
{
	const struct bln_change *c = change_of(o, i);
	return c ? (int64_t)c->to_kib - (int64_t)c->from_kib : 0;
}

static int64_t total_delta(const struct out *o, int sign)
{
	int64_t t = 0;
	for (size_t k = 0; k < o->d.n; k++) {
		int64_t dl = (int64_t)o->d.changes[k].to_kib - (int64_t)o->d.changes[k].from_kib;
		if ((sign > 0 && dl > 0) || (sign < 0 && dl < 0))
			t += dl;
	}
	return t;
}

static void test_need_lowest_pressured(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	/* 4G actual, 2.5G usable: uses 1.5G, margin 5 % of 4G = 209715K > 128M */
	struct bln_guest g = guest("a", 4 * GIB, 8 * GIB, 512 * MIB, 2560 * MIB);
	assert_int_equal(bln_guest_need_kib(&cfg, &g), 1536 * MIB + 209715);
	assert_int_equal(bln_guest_lowest_kib(&cfg, &g), 1536 * MIB + 209715);
	g.floor_kib = 3 * GIB;
	assert_int_equal(bln_guest_lowest_kib(&cfg, &g), 3 * GIB);
	/* the absolute margin wins on a small guest */
	g = guest("b", 1 * GIB, 8 * GIB, 0, 512 * MIB);
	assert_int_equal(bln_guest_need_kib(&cfg, &g), 512 * MIB + 128 * MIB);
	/* the margin is never under twice the low-usable line */
	cfg.guest_margin_kib = 16 * MIB;
	cfg.guest_margin_ppm = 0;
	cfg.guest_low_usable_kib = 100 * MIB;
	assert_int_equal(bln_guest_need_kib(&cfg, &g), 512 * MIB + 200 * MIB);
	/* usable above actual (racy stats) uses nothing */
	g.usable_kib = 2 * GIB;
	assert_int_equal(bln_guest_need_kib(&cfg, &g), 200 * MIB);

	cfg = cfg0();
	g = guest("c", 4 * GIB, 8 * GIB, 0, 2 * GIB);
	assert_false(bln_guest_pressured(&cfg, &g));
	g.swap_in_kib_s = 1025;
	assert_true(bln_guest_pressured(&cfg, &g));
	g.swap_in_kib_s = 1024; /* at the threshold is not above it */
	assert_false(bln_guest_pressured(&cfg, &g));
	g.major_faults_s = 101;
	assert_true(bln_guest_pressured(&cfg, &g));
	g.major_faults_s = 0;
	g.usable_kib = 63 * MIB;
	assert_true(bln_guest_pressured(&cfg, &g));
	/* no evidence, no pressure */
	g.stats_fresh = false;
	assert_false(bln_guest_pressured(&cfg, &g));
	g.stats_fresh = true;
	g.balloon_ok = false;
	assert_false(bln_guest_pressured(&cfg, &g));
}

static void test_host_short_shares(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	struct bln_host h = host(2560 * MIB); /* 512M below the 3G goal */
	struct bln_guest g[3] = {guest("few-shares", 4 * GIB, 8 * GIB, 1 * GIB, 2 * GIB),
				 guest("default", 4 * GIB, 8 * GIB, 1 * GIB, 2 * GIB),
				 guest("many-shares", 4 * GIB, 8 * GIB, 1 * GIB, 2 * GIB)};
	g[0].shares = 500;
	g[2].shares = 2000;
	struct out o;
	run(&cfg, &h, g, 3, &o);
	assert_true(o.d.host_short);
	assert_int_equal(o.d.host_gap_kib, 512 * MIB);
	assert_int_equal(o.d.n, 3);
	int64_t a = -delta_of(&o, 0), b = -delta_of(&o, 1), c = -delta_of(&o, 2);
	/* equal reclaimable: takes in proportion to 1/shares, 4:2:1, adding up to the gap */
	assert_int_equal(a + b + c, 512 * MIB);
	assert_in_range(a, 2 * b - 4, 2 * b + 4);
	assert_in_range(b, 2 * c - 4, 2 * c + 4);
	assert_non_null(strstr(o.d.changes[0].reason, "host MemAvailable 2.5G < 3.0G goal"));
	assert_non_null(strstr(o.d.changes[0].reason, "shares 500"));
	assert_non_null(strstr(o.d.changes[0].reason, "usable 2048M"));
	assert_non_null(strstr(o.d.summary, "host short"));
	assert_null(strstr(o.d.summary, "remains short"));
}

static void test_host_short_reclaimable(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	struct bln_host h = host(2560 * MIB);
	struct bln_guest g[2] = {guest("mostly-cache", 4 * GIB, 8 * GIB, 512 * MIB, 3 * GIB),
				 guest("busy", 4 * GIB, 8 * GIB, 512 * MIB, 1536 * MIB)};
	struct out o;
	run(&cfg, &h, g, 2, &o);
	int64_t a = -delta_of(&o, 0), b = -delta_of(&o, 1);
	assert_int_equal(a + b, 512 * MIB);
	assert_true(a > b);
	/* weights are the reclaimable amounts: 3G - margin vs 1.5G - margin */
	uint64_t ra = 4 * GIB - bln_guest_lowest_kib(&cfg, &g[0]),
		 rb = 4 * GIB - bln_guest_lowest_kib(&cfg, &g[1]);
	assert_in_range((uint64_t)a, 512 * MIB * ra / (ra + rb) - 2, 512 * MIB * ra / (ra + rb) + 2);
}

static void test_pressured_guest_grows_while_host_short_others_pay(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	cfg.max_step_kib = 256 * MIB;
	struct bln_host h = host(2560 * MIB);
	struct bln_guest g[5] = {
	    guest("pressured", 4 * GIB, 8 * GIB, 1 * GIB, 16 * MIB),
	    guest("b", 4 * GIB, 8 * GIB, 1 * GIB, 2 * GIB), guest("c", 4 * GIB, 8 * GIB, 1 * GIB, 2 * GIB),
	    guest("d", 4 * GIB, 8 * GIB, 1 * GIB, 2 * GIB), guest("e", 4 * GIB, 8 * GIB, 1 * GIB, 2 * GIB)};
	struct out o;
	run(&cfg, &h, g, 5, &o);
	/* need + margin: (4096M - 16M) + 2 * 204.8M, beyond max_step */
	int64_t grown = delta_of(&o, 0);
	assert_int_equal(grown, (int64_t)(4 * GIB - 16 * MIB + 2 * 209715) - (int64_t)(4 * GIB));
	assert_true(grown > (int64_t)cfg.max_step_kib);
	assert_int_equal(o.d.changes[0].verdict, BLN_GROW);
	assert_non_null(strstr(o.d.changes[0].reason, "under pressure (usable 16M < 64M)"));
	/* the host gap includes what the pressured guest takes, and the others pay all of it */
	assert_int_equal(o.d.host_gap_kib, 512 * MIB + grown);
	assert_int_equal(-total_delta(&o, -1), o.d.host_gap_kib);
	for (size_t i = 1; i < 5; i++)
		assert_true(delta_of(&o, i) < 0);

	/* a pressured guest is never shrunk even when it has the most to give */
	g[0].usable_kib = 3 * GIB;
	g[0].major_faults_s = 500;
	run(&cfg, &h, g, 5, &o);
	assert_true(delta_of(&o, 0) > 0);
	assert_non_null(strstr(o.d.changes[0].reason, "major faults 500/s > 100/s"));
}

static void test_pressure_in_band_is_paid_by_others(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	struct bln_host h = host(3 * GIB + 200 * MIB); /* in the band */
	struct bln_guest g[2] = {guest("pressured", 2 * GIB, 8 * GIB, 0, 2 * GIB),
				 guest("idle", 4 * GIB, 8 * GIB, 0, 3 * GIB)};
	g[0].swap_in_kib_s = 5000;
	struct out o;
	run(&cfg, &h, g, 2, &o);
	assert_false(o.d.host_short);
	assert_int_equal(delta_of(&o, 0), 512 * MIB); /* rate-only pressure: at least max_step */
	/* 512M growth would put the host 312M under its goal: the idle guest gives exactly that */
	assert_int_equal(o.d.host_gap_kib, 312 * MIB);
	assert_int_equal(delta_of(&o, 1), -(int64_t)(312 * MIB));
	assert_non_null(strstr(o.d.changes[1].reason, "would take host MemAvailable"));
}

static void test_stale_stats_not_shrunk(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	struct bln_host h = host(1 * GIB);
	struct bln_guest g[2] = {guest("stale", 6 * GIB, 8 * GIB, 0, 5 * GIB),
				 guest("fresh", 4 * GIB, 8 * GIB, 0, 3 * GIB)};
	g[0].stats_fresh = false;
	struct out o;
	run(&cfg, &h, g, 2, &o);
	assert_null(change_of(&o, 0));
	assert_non_null(strstr(o.why[0], "stale"));
	assert_true(delta_of(&o, 1) < 0);
	/* stale stats saying "no memory left" are no evidence of pressure: no grow while the host is short */
	g[0].usable_kib = 0;
	run(&cfg, &h, g, 2, &o);
	assert_null(change_of(&o, 0));
	/* but with room it grows back toward max, because growing is always safe for the guest */
	h = host(8 * GIB);
	run(&cfg, &h, g, 2, &o);
	assert_int_equal(delta_of(&o, 0), 512 * MIB);
	assert_non_null(strstr(o.why[0], "growing is always safe"));
}

/* Seen on real guests: grown under pressure, the guest's usable jumped with the new memory and the
 * next cycle took it back while its workload was still growing, until the guest OOM-killed it. */
static void test_grow_hold_protects_a_just_grown_guest(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	struct bln_host h = host(1 * GIB);
	struct bln_guest g[2] = {guest("grown", 6 * GIB, 8 * GIB, 0, 5 * GIB),
				 guest("other", 4 * GIB, 8 * GIB, 0, 3 * GIB)};
	g[0].shrink_hold = true;
	struct out o;
	run(&cfg, &h, g, 2, &o);
	assert_null(change_of(&o, 0));
	assert_non_null(strstr(o.why[0], "grow_hold"));
	assert_true(delta_of(&o, 1) < 0); /* the host is still served, by the other guest */
	assert_int_equal(bln_guest_lowest_kib(&cfg, &g[0]), 6 * GIB);
	/* once the hold is over it gives memory back like everyone else */
	g[0].shrink_hold = false;
	run(&cfg, &h, g, 2, &o);
	assert_true(delta_of(&o, 0) < 0);
}

static void test_no_balloon_driver_not_shrunk(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	struct bln_host h = host(1 * GIB);
	struct bln_guest g[2] = {
	    guest("nodriver", 6 * GIB, 8 * GIB, 0, 5 * GIB), /* last stats before the driver went away */
	    guest("ok", 4 * GIB, 8 * GIB, 0, 3 * GIB)};
	g[0].balloon_ok = false;
	struct out o;
	run(&cfg, &h, g, 2, &o);
	assert_null(change_of(&o, 0));
	assert_non_null(strstr(o.why[0], "no working balloon driver"));
	assert_true(delta_of(&o, 1) < 0);
	g[0].manual_target_kib = 2 * GIB; /* not even on the operator's word */
	run(&cfg, &h, g, 2, &o);
	assert_null(change_of(&o, 0));
	assert_non_null(strstr(o.why[0], "never shrunk without a working balloon driver"));
}

static void test_floors_respected_with_huge_gap(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	struct bln_host h = host(0);
	cfg.host_min_avail_kib = 100 * GIB;
	cfg.host_release_avail_kib = 110 * GIB;
	struct bln_guest g[3] = {guest("floor-bound", 6 * GIB, 8 * GIB, 3 * GIB, 5 * GIB + 512 * MIB),
				 guest("need-bound", 6 * GIB, 8 * GIB, 512 * MIB, 2 * GIB),
				 guest("below-floor", 1 * GIB, 8 * GIB, 2 * GIB, 900 * MIB)};
	struct out o;
	for (int cycle = 0; cycle < 20; cycle++) {
		run(&cfg, &h, g, 3, &o);
		assert_true(o.d.host_short);
		assert_non_null(strstr(o.d.summary, "host remains short by"));
		for (size_t k = 0; k < o.d.n; k++) {
			struct bln_change *c = &o.d.changes[k];
			struct bln_guest *x = &g[c->guest];
			int64_t dl = (int64_t)c->to_kib - (int64_t)c->from_kib;
			x->usable_kib = (uint64_t)((int64_t)x->usable_kib + dl);
			x->actual_kib = c->to_kib;
		}
	}
	assert_int_equal(g[0].actual_kib, 3 * GIB);
	/* the guest using 4G stops at its need: 4G + max(128M, 5 % of actual), within one min_step */
	assert_true(g[1].actual_kib >= bln_guest_lowest_kib(&cfg, &g[1]));
	assert_true(g[1].actual_kib < bln_guest_lowest_kib(&cfg, &g[1]) + cfg.min_step_kib);
	assert_true(g[1].actual_kib >= 4 * GIB + 128 * MIB);
	/* a guest below its floor is brought up to it even while the host is short */
	assert_int_equal(g[2].actual_kib, 2 * GIB);
}

static void test_opted_out_untouched(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	struct bln_guest g[2] = {guest("optout", 6 * GIB, 8 * GIB, 7 * GIB, 5 * GIB),
				 guest("other", 4 * GIB, 8 * GIB, 0, 3 * GIB)};
	g[0].managed = false;
	g[0].manual_target_kib = 2 * GIB;
	g[0].swap_in_kib_s = 1 << 20;
	struct out o;
	struct bln_host hosts[3] = {host(1 * GIB), host(3500 * MIB), host(20 * GIB)};
	for (size_t k = 0; k < 3; k++) {
		run(&cfg, &hosts[k], g, 2, &o);
		assert_null(change_of(&o, 0));
		assert_non_null(strstr(o.why[0], "opted out"));
	}
}

static void test_deadband(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	struct out o;
	/* a guest with only 20M to give is not touched; another pays */
	struct bln_host h = host(2560 * MIB);
	struct bln_guest g[2] = {guest("little", 4 * GIB, 8 * GIB, 0, 209715 + 20 * MIB),
				 guest("lots", 4 * GIB, 8 * GIB, 0, 3 * GIB)};
	run(&cfg, &h, g, 2, &o);
	assert_null(change_of(&o, 0));
	assert_int_equal(delta_of(&o, 1), -(int64_t)(512 * MIB));

	/* short by 10M over four equal guests: one whole min_step from one guest, not 2.5M from each */
	h = host(3 * GIB - 10 * MIB);
	struct bln_guest e[4];
	for (size_t i = 0; i < 4; i++)
		e[i] = guest("e", 4 * GIB, 8 * GIB, 0, 3 * GIB);
	run(&cfg, &h, e, 4, &o);
	assert_int_equal(o.d.n, 1);
	assert_int_equal(o.d.changes[0].from_kib - o.d.changes[0].to_kib, 32 * MIB);

	/* growing: a guest 20M under max reaches it exactly */
	h = host(8 * GIB);
	struct bln_guest r[24];
	r[0] = guest("nearly-max", 8 * GIB - 20 * MIB, 8 * GIB, 0, 4 * GIB);
	for (size_t i = 1; i < 24; i++)
		r[i] = guest("r", 7 * GIB, 8 * GIB, 0, 4 * GIB);
	run(&cfg, &h, r, 4, &o);
	assert_int_equal(delta_of(&o, 0), 20 * MIB);
	assert_int_equal(o.d.changes[0].to_kib, 8 * GIB);
	/* a 612M budget over 23 guests would be 26.6M each: pooled into whole steps instead */
	h = host(4 * GIB + 100 * MIB);
	run(&cfg, &h, r + 1, 23, &o);
	assert_true(total_delta(&o, 1) <= (int64_t)(612 * MIB));
	assert_true(total_delta(&o, 1) > (int64_t)(580 * MIB));
	assert_true(o.d.n >= 1 && o.d.n < 23);
	for (size_t i = 0; i < 23; i++)
		assert_true(delta_of(&o, i) == 0 || delta_of(&o, i) >= (int64_t)(32 * MIB));
	/* 150M short, every guest can give 40M, proportional shares are 6M and 24M: whole steps instead,
	 * from the guests with the fewest shares */
	h = host(3 * GIB - 150 * MIB);
	for (size_t i = 0; i < 10; i++) {
		r[i] = guest("s", 4 * GIB, 8 * GIB, 0, 209715 + 40 * MIB);
		r[i].shares = i < 5 ? 4000 : 1000;
	}
	run(&cfg, &h, r, 10, &o);
	assert_int_equal(o.d.n, 4);
	for (size_t i = 0; i < 10; i++)
		assert_true(delta_of(&o, i) == 0 || (i >= 5 && delta_of(&o, i) <= -(int64_t)(32 * MIB)));
	assert_true(-total_delta(&o, -1) >= (int64_t)(150 * MIB) &&
		    -total_delta(&o, -1) < (int64_t)(182 * MIB));
}

static void test_max_step(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	struct out o;
	struct bln_guest g = guest("big", 12 * GIB, 16 * GIB, 0, 10 * GIB);
	struct bln_host h = host(0);
	run(&cfg, &h, &g, 1, &o);
	assert_int_equal(delta_of(&o, 0), -(int64_t)(512 * MIB));
	assert_non_null(strstr(o.d.summary, "remains short"));
	g.actual_kib = 2 * GIB;
	h = host(40 * GIB);
	run(&cfg, &h, &g, 1, &o);
	assert_int_equal(delta_of(&o, 0), 512 * MIB);
}

static void test_grow_back_pressured_first_then_shares(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	cfg.max_step_kib = 1 * GIB;
	struct bln_host h = host(5 * GIB); /* budget: down to the middle, 3.5G: 1.5G */
	struct bln_guest g[3] = {guest("pressured", 2 * GIB, 8 * GIB, 0, 16 * MIB),
				 guest("low-shares", 2 * GIB, 8 * GIB, 0, 1 * GIB),
				 guest("high-shares", 2 * GIB, 8 * GIB, 0, 1 * GIB)};
	g[2].shares = 3000;
	struct out o;
	run(&cfg, &h, g, 3, &o);
	assert_false(o.d.host_short);
	/* the gap is what the distribution gives: the room left after the pressured guest's 1G */
	assert_int_equal(o.d.host_gap_kib, -(int64_t)(512 * MIB));
	assert_int_equal(delta_of(&o, 0), 1 * GIB); /* max(need + margin, actual + max_step) */
	int64_t lo = delta_of(&o, 1), hi = delta_of(&o, 2);
	assert_int_equal(lo + hi, 512 * MIB);
	assert_in_range(hi, 3 * lo - 4, 3 * lo + 4);
	assert_non_null(strstr(o.why[1], "host MemAvailable 5.0G >= 4.0G release"));
	assert_non_null(strstr(o.d.summary, "host has room"));

	/* when the pressured guest takes the whole room, the others wait */
	h = host(4 * GIB + 256 * MIB);
	run(&cfg, &h, g, 3, &o);
	assert_int_equal(delta_of(&o, 0), 1 * GIB);
	assert_true(delta_of(&o, 1) <= 0 && delta_of(&o, 2) <= 0);
}

static void test_manual_target(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	struct out o;
	struct bln_guest g[2] = {guest("manual", 4 * GIB, 8 * GIB, 1 * GIB, 3 * GIB),
				 guest("other", 4 * GIB, 8 * GIB, 0, 3 * GIB)};
	/* grows toward its target even while the host is short, by max_step; the others pay */
	struct bln_host h = host(2 * GIB);
	g[0].manual_target_kib = 6 * GIB;
	run(&cfg, &h, g, 2, &o);
	assert_int_equal(delta_of(&o, 0), 512 * MIB);
	assert_non_null(strstr(o.why[0], "manual target 6144M"));
	assert_int_equal(o.d.host_gap_kib, 1536 * MIB);
	assert_true(delta_of(&o, 1) < 0);
	/* shrinks toward it while the host has room, not growing with the rest */
	h = host(20 * GIB);
	g[0].manual_target_kib = 2 * GIB;
	uint64_t seen = 0;
	for (int cycle = 0; cycle < 10; cycle++) {
		run(&cfg, &h, g, 2, &o);
		assert_true(delta_of(&o, 0) <= 0);
		if (delta_of(&o, 0) < 0)
			seen++;
		g[0].usable_kib = (uint64_t)((int64_t)g[0].usable_kib + delta_of(&o, 0));
		g[0].actual_kib = (uint64_t)((int64_t)g[0].actual_kib + delta_of(&o, 0));
	}
	assert_int_equal(g[0].actual_kib, 2 * GIB);
	assert_int_equal(seen, 4);
	run(&cfg, &h, g, 2, &o);
	assert_null(change_of(&o, 0));
	assert_non_null(strstr(o.why[0], "at manual target 2048M"));
	/* never below the floor, nor below what the guest needs */
	g[0] = guest("manual", 4 * GIB, 8 * GIB, 1 * GIB, 3 * GIB);
	g[0].manual_target_kib = 256 * MIB;
	run(&cfg, &h, g, 2, &o);
	assert_int_equal(o.ch[0].to_kib, 4 * GIB - 512 * MIB);
	g[0].usable_kib = 200 * MIB; /* uses 3.8G: lowest 3.8G + 204.8M is above actual */
	run(&cfg, &h, g, 2, &o);
	assert_null(change_of(&o, 0));
	assert_non_null(strstr(o.why[0], "but the guest needs"));
	/* above max: capped; a small remaining distance is still covered exactly */
	g[0] = guest("manual", 8 * GIB - 10 * MIB, 8 * GIB, 1 * GIB, 3 * GIB);
	g[0].manual_target_kib = 64 * GIB;
	h = host(3500 * MIB);
	run(&cfg, &h, g, 2, &o);
	assert_int_equal(change_of(&o, 0)->to_kib, 8 * GIB);
	assert_non_null(strstr(o.why[0], "capped at max"));
}

static void test_between_band_keeps(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	struct bln_host h = host(3500 * MIB);
	struct bln_guest g[3] = {guest("can-give", 6 * GIB, 8 * GIB, 0, 5 * GIB),
				 guest("can-take", 1 * GIB, 8 * GIB, 0, 512 * MIB),
				 guest("stale", 2 * GIB, 8 * GIB, 0, 1 * GIB)};
	g[2].stats_fresh = false;
	struct out o;
	run(&cfg, &h, g, 3, &o);
	assert_int_equal(o.d.n, 0);
	assert_false(o.d.host_short);
	assert_int_equal(o.d.host_gap_kib, 0);
	for (size_t i = 0; i < 3; i++)
		assert_non_null(strstr(o.why[i], "within the band [3.0G goal, 4.0G release)"));
	assert_non_null(strstr(o.d.summary, "keeping guests"));
}

static void test_all_at_floor_host_short(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	struct bln_host h = host(1 * GIB);
	struct bln_guest g[2] = {guest("a", 2 * GIB, 8 * GIB, 2 * GIB, 1 * GIB),
				 guest("b", 1 * GIB, 8 * GIB, 1 * GIB, 900 * MIB)};
	struct out o;
	run(&cfg, &h, g, 2, &o);
	assert_int_equal(o.d.n, 0);
	assert_true(o.d.host_short);
	assert_int_equal(o.d.host_gap_kib, 2 * GIB);
	assert_non_null(strstr(o.d.summary, "host remains short by 2048M"));
	assert_non_null(strstr(o.why[0], "at its lowest"));
}

static void test_psi_only_pressure(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	struct bln_host h = host(10 * GIB);
	h.psi_some_avg10_ppm = 250000;
	struct bln_guest g[2] = {guest("a", 6 * GIB, 8 * GIB, 0, 5 * GIB),
				 guest("b", 2 * GIB, 8 * GIB, 0, 1 * GIB)};
	g[1].stats_fresh = false; /* would grow with room, but PSI says there is none */
	struct out o;
	run(&cfg, &h, g, 2, &o);
	assert_true(o.d.host_short);
	assert_int_equal(o.d.host_gap_kib, 512 * MIB);
	assert_int_equal(delta_of(&o, 0), -(int64_t)(512 * MIB));
	assert_null(change_of(&o, 1));
	assert_non_null(strstr(o.why[0], "PSI some 25.00% > 10.00%"));
	/* PSI not available: MemAvailable alone decides */
	h.psi_available = false;
	run(&cfg, &h, g, 2, &o);
	assert_false(o.d.host_short);
	assert_true(o.d.host_gap_kib < 0);
}

static void test_zero_guests(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	struct bln_host h = host(1 * GIB);
	struct bln_decision d = {.changes = NULL};
	bln_decide(&cfg, &h, NULL, 0, &d, NULL);
	assert_int_equal(d.n, 0);
	assert_true(d.host_short);
	assert_int_equal(d.host_gap_kib, 2 * GIB);
	assert_non_null(strstr(d.summary, "no guests"));
	assert_non_null(strstr(d.summary, "host remains short by 2048M"));
	h = host(10 * GIB);
	bln_decide(&cfg, &h, NULL, 0, &d, NULL);
	assert_int_equal(d.n, 0);
	assert_false(d.host_short);
}

static void test_overflow_safe(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = {
	    .host_min_avail_kib = UINT64_MAX,
	    .host_release_avail_kib = UINT64_MAX,
	    .host_psi_ppm = UINT32_MAX,
	    .guest_margin_kib = UINT64_MAX / 2,
	    .guest_margin_ppm = UINT32_MAX,
	    .guest_low_usable_kib = UINT64_MAX,
	    .guest_swapin_kib_s = UINT64_MAX,
	    .guest_majflt_s = UINT64_MAX,
	    .min_step_kib = 1,
	    .max_step_kib = UINT64_MAX,
	};
	struct bln_host h = {
	    .total_kib = UINT64_MAX, .avail_kib = 0, .psi_available = true, .psi_some_avg10_ppm = UINT32_MAX};
	struct bln_guest g[3] = {guest("max", UINT64_MAX, UINT64_MAX, 0, UINT64_MAX),
				 guest("half", UINT64_MAX / 2, UINT64_MAX, UINT64_MAX, 0),
				 guest("tiny", 1, UINT64_MAX, 0, 0)};
	g[0].shares = UINT32_MAX;
	g[1].shares = 0;
	g[2].manual_target_kib = UINT64_MAX;
	struct out o;
	run(&cfg, &h, g, 3, &o);
	assert_true(o.d.host_short);
	assert_true(o.d.host_gap_kib > 0);
	/* need = used + margin saturates instead of wrapping to a small number */
	struct bln_guest big = guest("big", UINT64_MAX - 10, UINT64_MAX, 0, 0);
	assert_int_equal(bln_guest_need_kib(&cfg, &big), UINT64_MAX);
	run(&cfg, &h, &big, 1, &o);
	assert_true(o.d.n == 0 || o.d.changes[0].verdict == BLN_GROW);
	/* no margin, no step bound: the whole gap of 2^64-1 KiB is split between two guests exactly */
	cfg = (struct bln_policy_cfg){
	    .host_min_avail_kib = UINT64_MAX, .host_release_avail_kib = 0, .max_step_kib = 0};
	g[0] = guest("max", UINT64_MAX, UINT64_MAX, 0, UINT64_MAX);
	g[1] = guest("max2", UINT64_MAX, UINT64_MAX, 0, UINT64_MAX);
	g[1].shares = UINT32_MAX;
	h.psi_available = false;
	run(&cfg, &h, g, 2, &o);
	assert_int_equal(o.d.host_gap_kib, INT64_MAX);
	assert_int_equal(o.d.n, 2);
	uint64_t t0 = UINT64_MAX - o.d.changes[0].to_kib, t1 = UINT64_MAX - o.d.changes[1].to_kib;
	assert_true(t0 > t1);
	assert_int_equal(t0, UINT64_MAX - t1);
	assert_null(strstr(o.d.summary, "remains short"));
	/* a host with all the memory in the world gives guests up to max, bounded only by max_step */
	cfg = cfg0();
	h = (struct bln_host){.total_kib = UINT64_MAX, .avail_kib = UINT64_MAX};
	cfg.host_release_avail_kib = UINT64_MAX - 1;
	cfg.guest_low_usable_kib = 0;
	g[0] = guest("a", 1, UINT64_MAX, 0, 0);
	g[1] = guest("b", UINT64_MAX - 1, UINT64_MAX, 0, 0);
	g[1].shares = 0;
	run(&cfg, &h, g, 2, &o);
	assert_int_equal(delta_of(&o, 0), 512 * MIB);
	assert_int_equal(change_of(&o, 1)->to_kib, UINT64_MAX);
}

/* Multi-cycle model: the host's MemAvailable moves by the guests' deltas; a guest's usable moves with
 * its size (what it uses stays the same). Returns 1 if any guest grew, 2 if any shrank (or both). */
struct sim {
	struct bln_host h;
	struct bln_guest g[8];
	size_t n;
	int64_t noise; /* added to what the policy sees, not to the model */
};

static int sim_cycle(const struct bln_policy_cfg *cfg, struct sim *s, struct out *o)
{
	struct bln_host seen = s->h;
	seen.avail_kib = (uint64_t)((int64_t)s->h.avail_kib + s->noise);
	run(cfg, &seen, s->g, s->n, o);
	int dir = 0;
	for (size_t k = 0; k < o->d.n; k++) {
		const struct bln_change *c = &o->d.changes[k];
		struct bln_guest *x = &s->g[c->guest];
		if (c->to_kib > c->from_kib) {
			uint64_t dl = c->to_kib - c->from_kib;
			assert_true(s->h.avail_kib >= dl);
			s->h.avail_kib -= dl;
			x->usable_kib += dl;
			dir |= 1;
		} else {
			uint64_t dl = c->from_kib - c->to_kib;
			assert_true(x->usable_kib >= dl);
			s->h.avail_kib += dl;
			x->usable_kib -= dl;
			dir |= 2;
		}
		x->actual_kib = c->to_kib;
	}
	return dir;
}

static void sim_guests(struct sim *s)
{
	s->n = 4;
	s->g[0] = guest("web", 6 * GIB, 8 * GIB, 1 * GIB, 4 * GIB);
	s->g[1] = guest("db", 6 * GIB, 8 * GIB, 2 * GIB, 2 * GIB);
	s->g[2] = guest("build", 4 * GIB, 8 * GIB, 1 * GIB, 3 * GIB);
	s->g[2].shares = 2000;
	s->g[3] = guest("small", 2 * GIB, 4 * GIB, 512 * MIB, 256 * MIB);
}

static void test_simulation_settles_without_oscillation(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	uint64_t m = cfg.host_min_avail_kib, rel = cfg.host_release_avail_kib, mid = m + (rel - m) / 2;
	struct sim s = {.h = host(m - 2560 * MIB)};
	struct out o;
	int dir[64];

	/* A: from short, only shrinks, then nothing; MemAvailable ends within one min_step above the goal */
	sim_guests(&s);
	for (int t = 0; t < 40; t++) {
		dir[t] = sim_cycle(&cfg, &s, &o);
		assert_true(dir[t] == 0 || dir[t] == 2);
		if (t > 0 && dir[t - 1] == 0)
			assert_int_equal(dir[t], 0);
	}
	assert_true(s.h.avail_kib >= m && s.h.avail_kib < m + cfg.min_step_kib);

	/* B: from plenty of room, only grows, down to the band's middle and no further */
	sim_guests(&s);
	for (size_t i = 0; i < 3; i++) {
		s.g[i].actual_kib = 2 * GIB;
		s.g[i].usable_kib = 1 * GIB;
	}
	s.h.avail_kib = rel + 6 * GIB;
	for (int t = 0; t < 40; t++) {
		dir[t] = sim_cycle(&cfg, &s, &o);
		assert_true(dir[t] == 0 || dir[t] == 1);
		if (t > 0 && dir[t - 1] == 0)
			assert_int_equal(dir[t], 0);
	}
	assert_true(s.h.avail_kib >= mid && s.h.avail_kib < rel);

	/* C: a host load of 3G comes at t=10 and goes at t=30: shrinks only, then grows only, then quiet */
	for (int t = 0; t < 60; t++) {
		if (t == 10)
			s.h.avail_kib -= 3 * GIB;
		if (t == 30)
			s.h.avail_kib += 3 * GIB;
		dir[t] = sim_cycle(&cfg, &s, &o);
		if (t < 10 || t >= 50)
			assert_int_equal(dir[t], 0);
		else if (t < 30)
			assert_true(dir[t] == 0 || dir[t] == 2);
		else
			assert_true(dir[t] == 0 || dir[t] == 1);
	}
	assert_int_equal(dir[10], 2);
	assert_int_equal(dir[30], 1);
	assert_true(s.h.avail_kib >= mid && s.h.avail_kib < rel);

	/* D: measurement noise of +-1/5 of the band never makes it shrink, and grows at most once */
	uint64_t x = 12345;
	int grows = 0;
	int64_t amp = (int64_t)(rel - m) / 5;
	for (int t = 0; t < 300; t++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		s.noise = (int64_t)((x >> 33) % (uint64_t)(2 * amp + 1)) - amp;
		int d = sim_cycle(&cfg, &s, &o);
		assert_true(d == 0 || d == 1);
		grows += d == 1;
	}
	assert_true(grows <= 1);
}

static void test_simulation_pressured_guest_settles(void **state)
{
	(void)state;
	struct bln_policy_cfg cfg = cfg0();
	/* a margin below the low-usable line: squeezing a guest to its need must still not recreate
	 * pressure, or it would grow and be squeezed again every other cycle */
	cfg.guest_margin_kib = 32 * MIB;
	cfg.guest_margin_ppm = 0;
	struct sim s = {.h = host(1 * GIB), .n = 2}; /* short for good: everything that can go, goes */
	struct out o;
	s.g[0] = guest("at-lowest", 4 * GIB, 8 * GIB, 0, 128 * MIB);
	s.g[1] = guest("pressured", 2 * GIB, 4 * GIB, 0, 32 * MIB);
	int changes_of_direction = 0, last = 0;
	for (int t = 0; t < 40; t++) {
		int d = sim_cycle(&cfg, &s, &o);
		int64_t dl = delta_of(&o, 1);
		int sign = dl > 0 ? 1 : dl < 0 ? -1 : 0;
		if (t == 0)
			assert_int_equal(sign, 1);
		if (sign && last && sign != last)
			changes_of_direction++;
		if (sign)
			last = sign;
		assert_null(change_of(&o, 0));
		if (t > 0) {
			assert_false(bln_guest_pressured(&cfg, &s.g[1]));
			assert_true(d == 0 || d == 2);
		}
		if (t >= 30)
			assert_int_equal(d, 0);
	}
	assert_int_equal(changes_of_direction, 1); /* grew once, was squeezed back once, then stable */
	assert_int_equal(s.g[1].usable_kib, 128 * MIB);
	assert_non_null(strstr(o.d.summary, "host remains short"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_need_lowest_pressured),
	    cmocka_unit_test(test_host_short_shares),
	    cmocka_unit_test(test_host_short_reclaimable),
	    cmocka_unit_test(test_pressured_guest_grows_while_host_short_others_pay),
	    cmocka_unit_test(test_pressure_in_band_is_paid_by_others),
	    cmocka_unit_test(test_stale_stats_not_shrunk),
	    cmocka_unit_test(test_grow_hold_protects_a_just_grown_guest),
	    cmocka_unit_test(test_no_balloon_driver_not_shrunk),
	    cmocka_unit_test(test_floors_respected_with_huge_gap),
	    cmocka_unit_test(test_opted_out_untouched),
	    cmocka_unit_test(test_deadband),
	    cmocka_unit_test(test_max_step),
	    cmocka_unit_test(test_grow_back_pressured_first_then_shares),
	    cmocka_unit_test(test_manual_target),
	    cmocka_unit_test(test_between_band_keeps),
	    cmocka_unit_test(test_all_at_floor_host_short),
	    cmocka_unit_test(test_psi_only_pressure),
	    cmocka_unit_test(test_zero_guests),
	    cmocka_unit_test(test_overflow_safe),
	    cmocka_unit_test(test_simulation_settles_without_oscillation),
	    cmocka_unit_test(test_simulation_pressured_guest_settles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
