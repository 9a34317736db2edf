/* fuzz_hr_model.c - libFuzzer target: the headroom model on hostile readings (a garbled meminfo or
 * arcstats, guests reporting any balloon size, any config reserve), with one oracle the readers' own
 * targets cannot check: the report built from it always encodes and decodes on the wire (a report a
 * peer refuses as malformed would silently drop this host from admission). Then admission on it.
 * Input: little-endian 64-bit words filling the readings in a fixed order; missing words are 0. */
#include <string.h>

#include "cluster-hook/clh_wire.h"
#include "cluster-hook/hr_model.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hr_input in;
	static struct clh_msg m, back;
	struct words w = {data, size};
	struct hr_params par;

	memset(&in, 0, sizeof(in));
	uint64_t flags = word(&w);
	in.mem_valid = flags & 1;
	in.arc_present = flags & 2;
	in.ksm_present = flags & 4;
	in.guests_known = flags & 8;
	in.total_kib = word(&w);
	in.avail_kib = word(&w);
	in.hp_total = word(&w);
	in.hp_free = word(&w);
	in.hp_rsvd = word(&w);
	in.hp_size_kib = word(&w);
	in.arc_size_kib = word(&w);
	in.arc_cmin_kib = word(&w);
	in.ksm_sharing_kib = word(&w);
	par.reserve_kib = word(&w);
	par.ksm_risk_ppm = (uint32_t)(word(&w) % 1000001);
	in.nnodes = (size_t)(word(&w) % (HR_NODES_MAX + 1));
	for (size_t i = 0; i < in.nnodes; i++) {
		struct hr_node_in *n = &in.node[i];
		n->id = (int)(word(&w) % 4097);
		n->total_kib = word(&w);
		n->free_kib = word(&w);
		n->file_kib = word(&w);
		n->sreclaim_kib = word(&w);
		n->hp_free = word(&w);
	}
	in.nguests = (size_t)(word(&w) % (HR_GUESTS_MAX + 1));
	for (size_t i = 0; i < in.nguests; i++) {
		in.guest[i].actual_kib = word(&w);
		in.guest[i].floor_kib = word(&w);
		in.guest[i].balloon_ok = in.guest[i].actual_kib & 1;
	}

	memset(&m, 0, sizeof(m));
	m.kind = CLH_M_REPORT;
	snprintf(m.u.rep.host, sizeof(m.u.rep.host), "n1");
	FZ_CHECK(hr_compute(&in, &par, &m.u.rep.h) == 0);
	char *buf = NULL;
	size_t len;
	FZ_CHECK(clh_encode(&m, &buf, &len) == 0);
	if (clh_decode(buf, len, &back) != 0) {
		fprintf(fz_report(), "our own report does not decode: %.*s\n", (int)len, buf);
		abort();
	}
	free(buf);

	struct hr_request rq = {.mem_kib = word(&w), .min_kib = word(&w)};
	struct hr_verdict v;
	uint64_t f2 = word(&w);
	rq.hugepages = f2 & 1;
	rq.one_node = f2 & 2;
	hr_admit(&m.u.rep.h, &rq, &v);
	FZ_CHECK(v.code == HR_ADMIT || v.code == HR_REFUSE || v.code == HR_UNKNOWN);
	FZ_CHECK(strnlen(v.reason, sizeof(v.reason)) < sizeof(v.reason));
	return 0;
}
