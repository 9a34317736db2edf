/* test_hr_cluster.c - the ordering rule: the same delivered sequence gives the same verdicts on every
 * node; two requests racing for a target's last memory get one yes and one no in either order; stale
 * reports, non-members, duplicates, TTL expiry, release, consumed reservations; ranking; N+1 plan. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cluster-hook/hr_cluster.h"

#define GIB (1024ll * 1024ll)
#define EXPIRY 15000

static struct hr_report rep(const char *host, uint32_t nodeid, int64_t now_gib, int64_t wall)
{
	struct hr_report r;
	memset(&r, 0, sizeof(r));
	snprintf(r.host, sizeof(r.host), "%s", host);
	r.nodeid = nodeid;
	r.wall_ms = wall;
	r.h.valid = true;
	r.h.total_kib = 64 * GIB;
	r.h.now_kib = now_gib * GIB;
	r.h.reclaimable_kib = now_gib * GIB;
	return r;
}

static void cluster3(struct hr_state *s, int64_t wall)
{
	static const uint32_t m[] = {1, 2, 3};
	struct hr_report r;
	hr_state_init(s);
	hr_state_members(s, m, 3);
	r = rep("n1", 1, 40, wall);
	hr_apply_report(s, &r, 0);
	r = rep("n2", 2, 20, wall);
	hr_apply_report(s, &r, 0);
	r = rep("n3", 3, 24, wall);
	hr_apply_report(s, &r, 0);
}

static struct hr_resv_req req(const char *id, const char *target, int64_t gib, uint32_t origin, int64_t t)
{
	struct hr_resv_req q;
	memset(&q, 0, sizeof(q));
	snprintf(q.id, sizeof(q.id), "%s", id);
	snprintf(q.target, sizeof(q.target), "%s", target);
	q.req.mem_kib = (uint64_t)(gib * GIB);
	q.ttl_ms = 120000;
	q.t_wall = t;
	q.origin = origin;
	return q;
}

static void t_race_last_memory(void **st)
{
	(void)st;
	struct hr_state s;
	struct hr_verdict v;
	/* n2 has 20 GiB: the first 16 GiB request delivered wins, whoever sent it */
	struct hr_resv_req a = req("vmA", "n2", 16, 1, 1000), b = req("vmB", "n2", 16, 3, 1000);
	cluster3(&s, 1000);
	assert_int_equal(hr_apply_reserve(&s, &a, EXPIRY, &v), HR_ADMIT);
	assert_int_equal(hr_apply_reserve(&s, &b, EXPIRY, &v), HR_REFUSE);
	cluster3(&s, 1000);
	assert_int_equal(hr_apply_reserve(&s, &b, EXPIRY, &v), HR_ADMIT);
	assert_int_equal(hr_apply_reserve(&s, &a, EXPIRY, &v), HR_REFUSE);
}

/* Three replicas fed one interleaved sequence (reports, reserves, releases) agree on every verdict and
 * end with the same ledger; the ledger never holds more than a target's report allows. */
static void t_replicas_agree(void **st)
{
	(void)st;
	struct hr_state s[3];
	int verdicts[3][400];
	for (int k = 0; k < 3; k++)
		cluster3(&s[k], 0);
	for (int step = 0; step < 400; step++) {
		char id[32];
		int64_t t = 1000 + step * 10;
		snprintf(id, sizeof(id), "r%d", step);
		for (int k = 0; k < 3; k++) {
			struct hr_verdict v;
			if (step % 50 == 25) {
				struct hr_report r = rep("n2", 2, 20, t); /* refreshed, same headroom */
				hr_apply_report(&s[k], &r, 0);
			}
			if (step % 7 == 3) {
				char rid[32];
				snprintf(rid, sizeof(rid), "r%d", step - 3);
				hr_apply_release(&s[k], rid);
			}
			struct hr_resv_req q = req(id, step % 2 ? "n2" : "n3", 1 + step % 5, (uint32_t)(1 + step % 3), t);
			verdicts[k][step] = hr_apply_reserve(&s[k], &q, EXPIRY, &v);
			/* never over-committed: sum of live reservations on n2 fits its last report */
			int64_t held = 0;
			for (size_t i = 0; i < s[k].nresv; i++)
				if (strcmp(s[k].resv[i].target, "n2") == 0)
					held += (int64_t)s[k].resv[i].mem_kib;
			assert_true(held <= hr_state_find(&s[k], "n2")->rep.h.now_kib);
		}
	}
	assert_memory_equal(verdicts[0], verdicts[1], sizeof(verdicts[0]));
	assert_memory_equal(verdicts[0], verdicts[2], sizeof(verdicts[0]));
	assert_int_equal(s[0].nresv, s[1].nresv);
	assert_memory_equal(s[0].resv, s[2].resv, s[0].nresv * sizeof(s[0].resv[0]));
}

static void t_unknown_cases(void **st)
{
	(void)st;
	struct hr_state s;
	struct hr_verdict v;
	cluster3(&s, 1000);
	struct hr_resv_req q = req("x", "nX", 1, 1, 1000);
	assert_int_equal(hr_apply_reserve(&s, &q, EXPIRY, &v), HR_UNKNOWN); /* no such host */
	q = req("x", "n2", 1, 1, 1000 + EXPIRY + 1);
	assert_int_equal(hr_apply_reserve(&s, &q, EXPIRY, &v), HR_UNKNOWN); /* stale by the requester's clock */
	assert_non_null(strstr(v.reason, "stale"));
	static const uint32_t m[] = {1, 3};
	hr_state_members(&s, m, 2); /* n2 left */
	q = req("x", "n2", 1, 1, 1000);
	assert_int_equal(hr_apply_reserve(&s, &q, EXPIRY, &v), HR_UNKNOWN);
	assert_int_equal(s.nresv, 0);
}

static void t_duplicate_ttl_release_consume(void **st)
{
	(void)st;
	struct hr_state s;
	struct hr_verdict v;
	cluster3(&s, 1000);
	struct hr_resv_req q = req("vm1", "n2", 8, 1, 1000);
	q.ttl_ms = 5000;
	assert_int_equal(hr_apply_reserve(&s, &q, EXPIRY, &v), HR_ADMIT);
	assert_int_equal(hr_apply_reserve(&s, &q, EXPIRY, &v), HR_REFUSE); /* same id held */
	struct hr_resv_req b = req("vm2", "n2", 16, 1, 2000);
	assert_int_equal(hr_apply_reserve(&s, &b, EXPIRY, &v), HR_REFUSE); /* 20 - 8 < 16 */
	b.t_wall = 6001; /* vm1's TTL ran out by the requester's clock */
	assert_int_equal(hr_apply_reserve(&s, &b, EXPIRY, &v), HR_ADMIT);
	assert_int_equal(s.nresv, 1);
	assert_int_equal(hr_apply_release(&s, "vm2"), 1);
	assert_int_equal(hr_apply_release(&s, "vm2"), 0);
	/* consumed: the VM appeared; the report that shows its memory used also drops its reservation */
	struct hr_resv_req c = req("vm3", "n2", 10, 1, 7000);
	assert_int_equal(hr_apply_reserve(&s, &c, EXPIRY, &v), HR_ADMIT);
	struct hr_report r = rep("n2", 2, 10, 7100);
	r.nconsumed = 1;
	snprintf(r.consumed[0], sizeof(r.consumed[0]), "vm3");
	hr_apply_report(&s, &r, 0);
	assert_int_equal(s.nresv, 0);
	struct hr_headroom h;
	assert_true(hr_host_headroom(&s, hr_state_find(&s, "n2"), 7200, EXPIRY, &h));
	assert_int_equal(h.now_kib, 10 * GIB);
}

static void t_rank(void **st)
{
	(void)st;
	struct hr_state s;
	struct hr_place p[8];
	struct hr_request rq = {.mem_kib = 22 * GIB};
	cluster3(&s, 1000);
	size_t n = hr_rank(&s, &rq, "", 1000, EXPIRY, p, 8);
	assert_int_equal(n, 3);
	assert_string_equal(p[0].host, "n1");
	assert_int_equal(p[0].v.code, HR_ADMIT);
	assert_string_equal(p[1].host, "n3");
	assert_int_equal(p[1].v.code, HR_ADMIT);
	assert_int_equal(p[2].v.code, HR_REFUSE);
	n = hr_rank(&s, &rq, "n1", 1000, EXPIRY, p, 8);
	assert_int_equal(n, 2);
	assert_string_equal(p[0].host, "n3");
}

static void t_failover(void **st)
{
	(void)st;
	struct hr_state s;
	struct hr_fo_host f[8];
	bool all;
	cluster3(&s, 1000);
	struct hr_host *h1 = hr_state_host(&s, 1, false);
	h1->rep.nvms = 3;
	h1->rep.vm[0] = (struct hr_vm){"big", 16 * GIB, 12 * GIB};
	h1->rep.vm[1] = (struct hr_vm){"mid", 10 * GIB, 0};
	h1->rep.vm[2] = (struct hr_vm){"small", 4 * GIB, 4 * GIB};
	size_t n = hr_failover(&s, 1000, EXPIRY, f, 8, &all);
	assert_int_equal(n, 3);
	/* n1's VMs need 12 + 10 + 4 = 26 GiB; n2 has 20, n3 24: big -> n3, mid -> n2, small -> n3 */
	assert_true(f[0].fits);
	assert_string_equal(f[0].move[0].vm, "big");
	assert_string_equal(f[0].move[0].to, "n3");
	assert_string_equal(f[0].move[1].to, "n2");
	assert_true(all);
	h1->rep.vm[1].cur_kib = 30 * GIB;
	n = hr_failover(&s, 1000, EXPIRY, f, 8, &all);
	assert_false(f[0].fits);
	assert_false(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_race_last_memory), cmocka_unit_test(t_replicas_agree),
	    cmocka_unit_test(t_unknown_cases),	  cmocka_unit_test(t_duplicate_ttl_release_consume),
	    cmocka_unit_test(t_rank),		  cmocka_unit_test(t_failover),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
