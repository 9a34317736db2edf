/* fuzz_hr_cluster.c - libFuzzer target: a sequence of cluster CPG messages, decoded as cs_deliver()
 * does and applied to the replicated state as clh.c does (reports, reservations, releases, a joiner
 * adopting a sync ledger), then the readers of that state: each host's headroom after reservations,
 * placement ranking and the N+1 failover plan. Peers are hostile too: only the decoder's bounds stand
 * between their numbers and the model's arithmetic (UBSan checks every signed operation).
 * Input: messages separated by '\n'; each message's first byte picks the sender's node id (1..4). */
#include <string.h>

#include "cluster-hook/clh_wire.h"
#include "cluster-hook/hr_cluster.h"
#include "fuzz.h"

#define EXPIRY_MS 60000

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hr_state st;
	static struct clh_msg m;
	static struct hr_place place[HR_HOSTS_MAX];
	static struct hr_fo_host fo[HR_HOSTS_MAX];
	static const uint32_t members[] = {1, 2, 3, 4};
	struct hr_request req = {.mem_kib = 4 << 20, .min_kib = 1 << 20};
	int64_t now_wall = 1000;
	const char *p = (const char *)data, *end = p + size;

	hr_state_init(&st);
	for (size_t i = 0; i < 4; i++)
		(void)hr_state_host(&st, members[i], true);
	hr_state_members(&st, members, 4);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		if (e - p >= 2 && clh_decode(p + 1, (size_t)(e - p - 1), &m) == 0) {
			uint32_t sender = (uint32_t)((unsigned char)p[0] % 4) + 1;
			struct hr_verdict v;
			switch (m.kind) {
			case CLH_M_REPORT:
				m.u.rep.nodeid = sender;
				hr_apply_report(&st, &m.u.rep, 1);
				break;
			case CLH_M_RESERVE:
				m.u.res.origin = sender;
				hr_apply_reserve(&st, &m.u.res, EXPIRY_MS, &v);
				FZ_CHECK(st.nresv <= HR_RESV_MAX);
				req = m.u.res.req;
				now_wall = m.u.res.t_wall;
				break;
			case CLH_M_RELEASE:
				(void)hr_apply_release(&st, m.u.release_id);
				break;
			case CLH_M_SYNC:
				/* adopt_sync() */
				st.nresv = m.u.sync.nresv;
				memcpy(st.resv, m.u.sync.resv, m.u.sync.nresv * sizeof(m.u.sync.resv[0]));
				break;
			}
		}
		p = e + 1;
	}

	for (size_t i = 0; i < st.nhosts; i++) {
		struct hr_headroom h;
		if (hr_host_headroom(&st, &st.host[i], now_wall, EXPIRY_MS, &h))
			FZ_CHECK(h.valid && h.nterms <= HR_TERMS_MAX);
	}
	size_t n = hr_rank(&st, &req, "", now_wall, EXPIRY_MS, place, HR_HOSTS_MAX);
	FZ_CHECK(n <= HR_HOSTS_MAX);
	req.one_node = !req.one_node;
	(void)hr_rank(&st, &req, "n1", now_wall, EXPIRY_MS, place, HR_HOSTS_MAX);
	bool all;
	n = hr_failover(&st, now_wall, EXPIRY_MS, fo, HR_HOSTS_MAX, &all);
	FZ_CHECK(n <= HR_HOSTS_MAX);
	return 0;
}
