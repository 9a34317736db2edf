/* fuzz_bln_policy.c - libFuzzer target: the balloon decision on hostile numbers. A guest's balloon
 * driver writes its own statistics (usable, caches, swap and fault rates, even actual), so bln_decide()
 * gets whatever a guest wants to say; this checks the promises of bln_policy.h hold anyway.
 * Input: little-endian 64-bit words: config, host, then up to 16 guests; missing words are 0. */
#include <string.h>

#include "balloon/bln_policy.h"
#include "fuzz.h"

#define NG 16

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bln_guest g[NG];
	static struct bln_change ch[NG];
	static char keep[NG][BLN_REASON_MAX];
	struct words w = {data, size};
	struct bln_policy_cfg cfg;
	struct bln_host h;

	cfg.host_min_avail_kib = word(&w);
	cfg.host_release_avail_kib = cfg.host_min_avail_kib + word(&w) % (1ULL << 40); /* >= min, as validated */
	if (cfg.host_release_avail_kib < cfg.host_min_avail_kib)
		cfg.host_release_avail_kib = cfg.host_min_avail_kib;
	cfg.host_psi_ppm = (uint32_t)(word(&w) % 1000001);
	cfg.guest_margin_kib = word(&w);
	cfg.guest_margin_ppm = (uint32_t)(word(&w) % 1000001);
	cfg.guest_low_usable_kib = word(&w);
	cfg.guest_swapin_kib_s = word(&w);
	cfg.guest_majflt_s = word(&w);
	cfg.min_step_kib = word(&w);
	cfg.max_step_kib = word(&w);
	h.total_kib = word(&w);
	h.avail_kib = word(&w);
	uint64_t hf = word(&w);
	h.psi_available = hf & 1;
	h.psi_some_avg10_ppm = (uint32_t)((hf >> 1) % 1000001);
	size_t n = (size_t)(word(&w) % (NG + 1));
	memset(g, 0, sizeof(g));
	for (size_t i = 0; i < n; i++) {
		uint64_t f = word(&w);
		snprintf(g[i].name, sizeof(g[i].name), "vm%zu", i);
		g[i].managed = f & 1;
		g[i].balloon_ok = f & 2;
		g[i].stats_fresh = f & 4;
		g[i].shrink_hold = f & 8;
		g[i].shares = (uint32_t)(f >> 32);
		g[i].actual_kib = word(&w);
		g[i].max_kib = word(&w);
		g[i].floor_kib = word(&w);
		g[i].usable_kib = word(&w);
		g[i].disk_caches_kib = word(&w);
		g[i].swap_in_kib_s = word(&w);
		g[i].major_faults_s = word(&w);
		g[i].manual_target_kib = (f & 16) ? word(&w) : 0;
	}

	struct bln_decision d = {.changes = ch};
	bln_decide(&cfg, &h, g, n, &d, keep);
	FZ_CHECK(d.n <= n);
	FZ_CHECK(strnlen(d.summary, sizeof(d.summary)) < sizeof(d.summary));
	bool seen[NG] = {false};
	for (size_t k = 0; k < d.n; k++) {
		const struct bln_change *c = &ch[k];
		FZ_CHECK(c->guest < n && !seen[c->guest]);
		seen[c->guest] = true;
		const struct bln_guest *x = &g[c->guest];
		FZ_CHECK(strnlen(c->reason, sizeof(c->reason)) < sizeof(c->reason));
		if (c->verdict == BLN_KEEP)
			continue;
		/* opted-out guests and inconsistent sizes are never changed */
		FZ_CHECK(x->managed && x->actual_kib > 0 && x->max_kib > 0 && x->actual_kib <= x->max_kib);
		FZ_CHECK(c->from_kib == x->actual_kib);
		/* never above max */
		FZ_CHECK(c->to_kib <= x->max_kib);
		if (c->verdict == BLN_GROW) {
			FZ_CHECK(c->to_kib > c->from_kib);
		} else {
			FZ_CHECK(c->verdict == BLN_SHRINK && c->to_kib < c->from_kib);
			/* a shrink needs a working driver with fresh stats, never below the guest's lowest
			 * (floor, need, hold) and never for a pressured guest */
			FZ_CHECK(x->balloon_ok && x->stats_fresh);
			FZ_CHECK(!bln_guest_pressured(&cfg, x));
			if (c->to_kib < bln_guest_lowest_kib(&cfg, x)) {
				fprintf(fz_report(), "%s shrunk to %llu below its lowest %llu: %s\n", x->name,
					(unsigned long long)c->to_kib,
					(unsigned long long)bln_guest_lowest_kib(&cfg, x), c->reason);
				abort();
			}
			if (cfg.max_step_kib)
				FZ_CHECK(c->from_kib - c->to_kib <= cfg.max_step_kib);
		}
	}
	return 0;
}
