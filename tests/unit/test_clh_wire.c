/* test_clh_wire.c - the cluster's CPG messages: round trips of every kind, and hostile input refused
 * (garbage, wrong types, oversize counts and strings, unknown kinds, wrong version). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cluster-hook/clh_wire.h"

static struct clh_msg *roundtrip(const struct clh_msg *m)
{
	char *buf;
	size_t len;
	struct clh_msg *out = calloc(1, sizeof(*out));
	assert_int_equal(clh_encode(m, &buf, &len), 0);
	assert_int_equal(clh_decode(buf, len, out), 0);
	free(buf);
	return out;
}

static void t_report(void **st)
{
	(void)st;
	struct clh_msg *m = calloc(1, sizeof(*m));
	m->kind = CLH_M_REPORT;
	struct hr_report *r = &m->u.rep;
	snprintf(r->host, sizeof(r->host), "n1");
	r->seq = 7;
	r->wall_ms = 1234567;
	r->h.valid = true;
	r->h.total_kib = 1 << 26;
	r->h.now_kib = -5;
	r->h.reclaimable_kib = 100;
	r->h.nterms = 1;
	r->h.term[0] = (struct hr_term){HR_T_NOW, "MemAvailable", 42, "d"};
	r->h.nnodes = 1;
	r->h.node[0] = (struct hr_node_out){1, 9, 8};
	r->nvms = 1;
	r->vm[0] = (struct hr_vm){"vm1", 2048, 1024};
	r->nconsumed = 1;
	snprintf(r->consumed[0], HR_ID_MAX, "vmX");
	r->synced = true;
	r->ledger_gen = 99;
	struct clh_msg *o = roundtrip(m);
	assert_int_equal(o->kind, CLH_M_REPORT);
	assert_string_equal(o->u.rep.host, "n1");
	assert_int_equal(o->u.rep.h.now_kib, -5);
	assert_int_equal(o->u.rep.h.term[0].kib, 42);
	assert_int_equal(o->u.rep.h.node[0].id, 1);
	assert_string_equal(o->u.rep.vm[0].name, "vm1");
	assert_string_equal(o->u.rep.consumed[0], "vmX");
	assert_true(o->u.rep.synced);
	assert_int_equal(o->u.rep.ledger_gen, 99);
	free(o);
	free(m);
}

static void t_reserve_sync(void **st)
{
	(void)st;
	struct clh_msg *m = calloc(1, sizeof(*m));
	m->kind = CLH_M_RESERVE;
	m->tag = 5;
	snprintf(m->u.res.id, sizeof(m->u.res.id), "vm-a");
	snprintf(m->u.res.target, sizeof(m->u.res.target), "n2");
	m->u.res.req = (struct hr_request){.mem_kib = 16 << 20, .min_kib = 8 << 20, .one_node = true};
	m->u.res.ttl_ms = 120000;
	m->u.res.t_wall = 1000;
	struct clh_msg *o = roundtrip(m);
	assert_int_equal(o->tag, 5);
	assert_int_equal(o->u.res.req.min_kib, 8 << 20);
	assert_true(o->u.res.req.one_node);
	free(o);
	memset(m, 0, sizeof(*m));
	m->kind = CLH_M_SYNC;
	m->u.sync.k = 3;
	m->u.sync.gen = 11;
	m->u.sync.nresv = 2;
	m->u.sync.resv[0] = (struct hr_resv){"a", "n1", 1, 2, false, -1, 5000, 1};
	m->u.sync.resv[1] = (struct hr_resv){"b", "n2", 3, 3, true, 1, 6000, 2};
	o = roundtrip(m);
	assert_int_equal(o->u.sync.nresv, 2);
	assert_int_equal(o->u.sync.gen, 11);
	assert_true(o->u.sync.resv[1].hugepages);
	assert_int_equal(o->u.sync.resv[1].node, 1);
	free(o);
	free(m);
}

static void t_hostile(void **st)
{
	(void)st;
	static const char *const bad[] = {
	    "", "garbage", "[]", "{\"v\":2,\"tag\":0,\"t\":\"rel\",\"id\":\"x\"}",
	    "{\"v\":1,\"tag\":0,\"t\":\"nope\",\"id\":\"x\"}", "{\"v\":1,\"tag\":0,\"t\":\"rel\",\"id\":\"\"}",
	    "{\"v\":1,\"tag\":0,\"t\":\"rel\",\"id\":5}", "{\"v\":1,\"tag\":-1,\"t\":\"rel\",\"id\":\"x\"}",
	    "{\"v\":1,\"tag\":0,\"t\":\"res\",\"id\":\"x\",\"target\":\"n\",\"mem\":0,\"min\":0,\"hp\":false,\"one\":false,\"ttl\":1,\"tw\":1}",
	    "{\"v\":1,\"tag\":0,\"t\":\"res\",\"id\":\"x\",\"target\":\"n\",\"mem\":\"1G\",\"min\":0,\"hp\":false,\"one\":false,\"ttl\":1,\"tw\":1}",
	    "{\"v\":1,\"tag\":0,\"t\":\"sync\",\"k\":0,\"gen\":0,\"resv\":[[\"a\"]]}",
	    "{\"v\":1,\"tag\":0,\"t\":\"rel\",\"id\":\"x\"",
	};
	struct clh_msg *m = calloc(1, sizeof(*m));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (clh_decode(bad[i], strlen(bad[i]), m) != -EBADMSG)
			fail_msg("accepted: %s", bad[i]);
	/* too long an id, and too many terms */
	char big[400];
	snprintf(big, sizeof(big), "{\"v\":1,\"tag\":0,\"t\":\"rel\",\"id\":\"%0200d\"}", 1);
	assert_int_equal(clh_decode(big, strlen(big), m), -EBADMSG);
	const char *ok = "{\"v\":1,\"tag\":0,\"t\":\"rel\",\"id\":\"x\"}";
	assert_int_equal(clh_decode(ok, strlen(ok), m), 0);
	assert_string_equal(m->u.release_id, "x");
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_report),
	    cmocka_unit_test(t_reserve_sync),
	    cmocka_unit_test(t_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
