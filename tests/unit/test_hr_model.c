/* test_hr_model.c - the headroom model from struct literals: every term (MemAvailable, ARC, reserve, KSM
 * risk, balloon slack), hugepage pools, NUMA nodes, reservations, and the admission rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cluster-hook/hr_model.h"

#define MIB 1024ll
#define GIB (1024ll * 1024ll)

static struct hr_input base(void)
{
	struct hr_input in;
	memset(&in, 0, sizeof(in));
	in.mem_valid = true;
	in.total_kib = 64 * GIB;
	in.avail_kib = 20 * GIB;
	return in;
}

static const struct hr_params P = {.reserve_kib = 2 * GIB, .ksm_risk_ppm = 250000};

static const struct hr_term *term(const struct hr_headroom *h, const char *name)
{
	for (size_t i = 0; i < h->nterms; i++)
		if (strcmp(h->term[i].name, name) == 0)
			return &h->term[i];
	return NULL;
}

static void t_plain(void **st)
{
	(void)st;
	struct hr_input in = base();
	struct hr_headroom h;
	assert_int_equal(hr_compute(&in, &P, &h), 0);
	assert_true(h.valid);
	assert_int_equal(h.now_kib, 18 * GIB);
	assert_int_equal(h.reclaimable_kib, 18 * GIB);
	assert_non_null(term(&h, "MemAvailable"));
	assert_int_equal(term(&h, "host reserve")->kib, -2 * GIB);
	assert_null(term(&h, "ZFS ARC above c_min"));
	assert_null(term(&h, "KSM unshare risk"));
	assert_int_equal(h.hp_free_kib, 0);
}

static void t_invalid(void **st)
{
	(void)st;
	struct hr_input in = base();
	struct hr_headroom h;
	struct hr_verdict v;
	struct hr_request rq = {.mem_kib = GIB};
	in.mem_valid = false;
	hr_compute(&in, &P, &h);
	assert_false(h.valid);
	hr_admit(&h, &rq, &v);
	assert_int_equal(v.code, HR_UNKNOWN);
	in = base();
	in.avail_kib = in.total_kib + 1; /* hostile: more available than installed */
	hr_compute(&in, &P, &h);
	assert_false(h.valid);
}

static void t_arc(void **st)
{
	(void)st;
	struct hr_input in = base();
	struct hr_headroom h;
	in.arc_present = true;
	in.arc_size_kib = 10 * GIB;
	in.arc_cmin_kib = 1 * GIB;
	hr_compute(&in, &P, &h);
	assert_int_equal(term(&h, "ZFS ARC above c_min")->kib, 9 * GIB);
	assert_int_equal(h.now_kib, 27 * GIB);
	/* ARC below c_min (possible right after c_min was raised): adds nothing, never negative */
	in.arc_size_kib = GIB / 2;
	hr_compute(&in, &P, &h);
	assert_int_equal(term(&h, "ZFS ARC above c_min")->kib, 0);
	assert_int_equal(h.now_kib, 18 * GIB);
}

static void t_ksm_and_balloon(void **st)
{
	(void)st;
	struct hr_input in = base();
	struct hr_headroom h;
	in.ksm_present = true;
	in.ksm_sharing_kib = 8 * GIB;
	in.guests_known = true;
	in.nguests = 3;
	in.guest[0] = (struct hr_guest){"a", 8 * GIB, 4 * GIB, true};
	in.guest[1] = (struct hr_guest){"b", 4 * GIB, 6 * GIB, true};  /* below floor: no slack */
	in.guest[2] = (struct hr_guest){"c", 8 * GIB, 2 * GIB, false}; /* no working balloon */
	hr_compute(&in, &P, &h);
	assert_int_equal(term(&h, "KSM unshare risk")->kib, -2 * GIB);
	assert_int_equal(h.now_kib, 16 * GIB);
	assert_int_equal(term(&h, "balloon slack")->kib, 4 * GIB);
	assert_int_equal(h.reclaimable_kib, 20 * GIB);
}

static void t_hugepages(void **st)
{
	(void)st;
	struct hr_input in = base();
	struct hr_headroom h;
	struct hr_verdict v;
	in.hp_total = 8192;
	in.hp_free = 4096;
	in.hp_rsvd = 1024;
	in.hp_size_kib = 2048;
	hr_compute(&in, &P, &h);
	assert_int_equal(h.hp_free_kib, 3072ll * 2048);
	assert_int_equal(h.now_kib, 18 * GIB); /* pools are not part of now */
	struct hr_request rq = {.mem_kib = 6 * GIB, .hugepages = true};
	hr_admit(&h, &rq, &v);
	assert_int_equal(v.code, HR_ADMIT);
	rq.mem_kib = 7 * GIB;
	hr_admit(&h, &rq, &v);
	assert_int_equal(v.code, HR_REFUSE);
	/* no pool at all */
	in.hp_total = 0;
	hr_compute(&in, &P, &h);
	rq.mem_kib = GIB;
	hr_admit(&h, &rq, &v);
	assert_int_equal(v.code, HR_REFUSE);
	assert_non_null(strstr(v.reason, "no hugepage pool"));
}

static void t_numa(void **st)
{
	(void)st;
	struct hr_input in = base();
	struct hr_headroom h;
	struct hr_verdict v;
	in.nnodes = 2;
	in.node[0] = (struct hr_node_in){.id = 0, .total_kib = 32 * GIB, .free_kib = 4 * GIB, .file_kib = 2 * GIB};
	in.node[1] = (struct hr_node_in){.id = 1, .total_kib = 32 * GIB, .free_kib = 12 * GIB, .file_kib = 4 * GIB,
					 .sreclaim_kib = 2 * GIB};
	hr_compute(&in, &P, &h);
	/* estimates 6 + 18 = 24 > MemAvailable 20: scaled by 20/24; each node pays half the reserve */
	assert_int_equal(h.node[0].now_kib, 5 * GIB - GIB);
	assert_int_equal(h.node[1].now_kib, 15 * GIB - GIB);
	struct hr_request rq = {.mem_kib = 12 * GIB, .one_node = true};
	hr_admit(&h, &rq, &v);
	assert_int_equal(v.code, HR_ADMIT);
	assert_int_equal(v.node, 1);
	rq.mem_kib = 15 * GIB; /* fits the host (18) but no single node (14) */
	hr_admit(&h, &rq, &v);
	assert_int_equal(v.code, HR_REFUSE);
	rq.one_node = false;
	hr_admit(&h, &rq, &v);
	assert_int_equal(v.code, HR_ADMIT);
	assert_int_equal(v.node, -1);
}

static void t_min_and_reclaim(void **st)
{
	(void)st;
	struct hr_input in = base();
	struct hr_headroom h;
	struct hr_verdict v;
	in.guests_known = true;
	in.nguests = 1;
	in.guest[0] = (struct hr_guest){"a", 10 * GIB, 2 * GIB, true};
	hr_compute(&in, &P, &h); /* now 18, reclaimable 26 */
	struct hr_request rq = {.mem_kib = 24 * GIB};
	hr_admit(&h, &rq, &v);
	assert_int_equal(v.code, HR_REFUSE);
	rq.min_kib = 16 * GIB; /* starts with 16 now, grows to 24 by reclaim */
	hr_admit(&h, &rq, &v);
	assert_int_equal(v.code, HR_ADMIT);
	assert_int_equal(v.need_now_kib, 16 * GIB);
	assert_int_equal(v.now_after_kib, 2 * GIB);
	rq.mem_kib = 27 * GIB;
	hr_admit(&h, &rq, &v);
	assert_int_equal(v.code, HR_REFUSE);
	assert_non_null(strstr(v.reason, "balloon slack"));
}

static void t_reservations(void **st)
{
	(void)st;
	struct hr_input in = base();
	struct hr_headroom h;
	struct hr_resv r[3] = {
	    {.id = "vm1", .target = "h1", .now_kib = 4 * GIB, .mem_kib = 8 * GIB, .node = -1, .expires_wall_ms = 1000},
	    {.id = "vm2", .target = "h2", .now_kib = 4 * GIB, .mem_kib = 4 * GIB, .node = -1, .expires_wall_ms = 1000},
	    {.id = "vm3", .target = "h1", .now_kib = 1 * GIB, .mem_kib = 1 * GIB, .node = -1, .expires_wall_ms = 10},
	};
	hr_compute(&in, &P, &h);
	hr_subtract_resv(&h, "h1", r, 3, 100); /* vm3 expired, vm2 is another host's */
	assert_int_equal(h.now_kib, 14 * GIB);
	assert_int_equal(h.reclaimable_kib, 10 * GIB);
	assert_non_null(term(&h, "reservation vm1"));
	assert_null(term(&h, "reservation vm3"));
	/* many reservations: terms never overflow, the rest is summed */
	struct hr_resv many[40];
	memset(many, 0, sizeof(many));
	for (int i = 0; i < 40; i++) {
		snprintf(many[i].id, sizeof(many[i].id), "r%d", i);
		snprintf(many[i].target, sizeof(many[i].target), "h1");
		many[i].now_kib = many[i].mem_kib = 100 * MIB;
		many[i].node = -1;
		many[i].expires_wall_ms = 1000;
	}
	hr_compute(&in, &P, &h);
	hr_subtract_resv(&h, "h1", many, 40, 0);
	assert_true(h.nterms <= HR_TERMS_MAX);
	assert_int_equal(h.now_kib, 18 * GIB - 4000 * MIB);
	assert_non_null(term(&h, "other reservations"));
}

/* Hostile sizes (a peer's ledger, a guest's balloon, a garbled meminfo) saturate at +-INT64_MAX/4, the
 * wire's bound, instead of overflowing. Found with tests/fuzz/fuzz_hr_cluster (corpus regress-resv-overflow):
 * six reservations of INT64_MAX/4 against a report at -INT64_MAX/4 overflowed now_kib. */
static void t_saturation(void **st)
{
	(void)st;
	const int64_t kmax = INT64_MAX / 4;
	struct hr_input in = base();
	struct hr_headroom h;
	struct hr_resv big[6];
	memset(big, 0, sizeof(big));
	for (int i = 0; i < 6; i++) {
		snprintf(big[i].id, sizeof(big[i].id), "r%d", i);
		snprintf(big[i].target, sizeof(big[i].target), "h1");
		big[i].now_kib = big[i].mem_kib = (uint64_t)kmax;
		big[i].node = in.nnodes ? in.node[0].id : -1;
		big[i].hugepages = i % 2;
		big[i].expires_wall_ms = 1000;
	}
	hr_compute(&in, &P, &h);
	h.now_kib = -kmax;
	hr_subtract_resv(&h, "h1", big, 6, 0);
	assert_int_equal(h.now_kib, -kmax);
	assert_int_equal(h.hp_free_kib, -kmax);
	assert_true(h.reclaimable_kib >= -kmax);
	struct hr_request rq = {.mem_kib = UINT64_MAX};
	struct hr_verdict v;
	hr_admit(&h, &rq, &v);
	assert_int_equal(v.code, HR_REFUSE);
	assert_int_equal(v.now_after_kib, -kmax);

	/* guests claiming huge balloons and a huge hugepage pool: figures stay within the wire's bound */
	in = base();
	in.guests_known = true;
	in.nguests = HR_GUESTS_MAX;
	for (size_t i = 0; i < HR_GUESTS_MAX; i++)
		in.guest[i] = (struct hr_guest){.actual_kib = UINT64_MAX, .balloon_ok = true};
	in.hp_total = in.hp_free = UINT64_MAX / 2;
	in.hp_size_kib = 1048576;
	hr_compute(&in, &P, &h);
	assert_true(h.valid);
	assert_int_equal(h.reclaimable_kib, kmax);
	assert_int_equal(h.hp_free_kib, kmax);

	/* a MemTotal or hugepage size beyond the wire's bound would make a report every peer refuses
	 * (found with tests/fuzz/fuzz_hr_model, corpus regress-total-beyond-wire): invalid, and no pool */
	in = base();
	in.total_kib = in.avail_kib = (uint64_t)kmax + 1;
	hr_compute(&in, &P, &h);
	assert_false(h.valid);
	in = base();
	in.hp_total = in.hp_free = 4;
	in.hp_size_kib = UINT64_MAX;
	hr_compute(&in, &P, &h);
	assert_true(h.valid);
	assert_int_equal(h.hp_size_kib, 0);
	assert_int_equal(h.hp_free_kib, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_plain),	     cmocka_unit_test(t_invalid),	  cmocka_unit_test(t_arc),
	    cmocka_unit_test(t_ksm_and_balloon), cmocka_unit_test(t_hugepages),	  cmocka_unit_test(t_numa),
	    cmocka_unit_test(t_min_and_reclaim), cmocka_unit_test(t_reservations), cmocka_unit_test(t_saturation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
