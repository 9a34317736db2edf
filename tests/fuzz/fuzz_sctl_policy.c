/* fuzz_sctl_policy.c - libFuzzer target: the host plan on hostile facts. Domain sizes come from XML
 * files ("99999999 EiB" parses), hugepage pools and node memory from sysfs, the hugepages spec from the
 * config. Checks: every planned write of a fixed knob passes that knob's own value check, and every
 * hugepage pool target is a plain count. Input: the hugepages spec up to the first '\n', then
 * little-endian 64-bit words (topology, pools, domains, current values); missing words are 0. */
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/parse.h"
#include "sysctl/sctl_policy.h"
#include "fuzz.h"

#define NDOMS 6

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct memopt_config cfg;
	static struct nod_topology topo;
	static struct sctl_dom doms[NDOMS];
	static struct sctl_plan plan;
	static const uint64_t sizes[] = {2048, 1048576, 4, 64};
	static const char *const select_texts[] = {"always [madvise] never", "[always] madvise never",
						   "always defer defer+madvise [madvise] never", "[never]"};
	struct sctl_facts f;
	char err[512];

	const uint8_t *nl = memchr(data, '\n', size);
	size_t speclen = nl ? (size_t)(nl - data) : 0;
	cfg_defaults(&cfg);
	if (speclen > 0 && speclen < sizeof(cfg.host.hugepages)) {
		memcpy(cfg.host.hugepages, data, speclen);
		cfg.host.hugepages[speclen] = '\0';
		/* the config validation runs first in the daemon: only what it accepts reaches the plan */
		if (sctl_check_override(SCTL__FIXED, cfg.host.hugepages, err, sizeof(err)) < 0)
			return 0;
	}
	struct words w = {nl ? nl + 1 : data, nl ? size - speclen - 1 : size};
	cfg.host.hugepage_headroom_ppm = (uint32_t)(word(&w) % 1000001);
	cfg.host.ksm_unmerge = word(&w) & 1;

	memset(&topo, 0, sizeof(topo));
	topo.n = 1 + (size_t)(word(&w) % 4);
	for (size_t i = 0; i < topo.n; i++) {
		struct nod_node *n = &topo.node[i];
		n->id = (int)(i * (1 + word(&w) % 3)) % NOD_MAX;
		n->has_meminfo = true;
		n->total_kib = word(&w);
		n->free_kib = word(&w);
		n->npools = (size_t)(word(&w) % 3);
		for (size_t k = 0; k < n->npools; k++) {
			n->pool[k].page_kib = sizes[k];
			n->pool[k].nr = word(&w);
			n->pool[k].free = word(&w);
			n->pool[k].surplus = word(&w);
		}
	}
	/* ids must be ascending and distinct, as nod_read() gives them */
	for (size_t i = 1; i < topo.n; i++)
		if (topo.node[i].id <= topo.node[i - 1].id)
			topo.node[i].id = topo.node[i - 1].id + 1;

	memset(&f, 0, sizeof(f));
	f.sysfs_root = "/sys";
	f.procfs_root = "/proc";
	f.topo = &topo;
	f.default_hp_kib = sizes[word(&w) % 4];
	uint64_t fl = word(&w);
	f.ksm_present = fl & 1;
	f.dirty_bg_bytes_set = fl & 2;
	f.ksm_pages_shared = word(&w);
	for (size_t i = 0; i < SCTL__FIXED; i++) {
		uint64_t v = word(&w);
		f.cur[i].present = !(v & 1);
		if (sctl_knobs[i].kind == SK_SELECT) {
			snprintf(f.cur[i].text, sizeof(f.cur[i].text), "%s", select_texts[(v >> 1) % 4]);
			if (sctl_parse_current(SK_SELECT, f.cur[i].text, strlen(f.cur[i].text), f.cur[i].value,
					       sizeof(f.cur[i].value)) < 0)
				f.cur[i].present = false;
		} else {
			snprintf(f.cur[i].value, sizeof(f.cur[i].value), "%lld", (long long)(int64_t)(v >> 1));
			snprintf(f.cur[i].text, sizeof(f.cur[i].text), "%s\n", f.cur[i].value);
		}
	}
	size_t nd = (size_t)(word(&w) % (NDOMS + 1));
	for (size_t i = 0; i < nd; i++) {
		snprintf(doms[i].name, sizeof(doms[i].name), "vm%zu", i);
		doms[i].mem_kib = word(&w);
		uint64_t df = word(&w);
		doms[i].hugepages = df & 1;
		doms[i].page_kib = (df & 2) ? sizes[(df >> 2) % 4] : 0;
		doms[i].host_nodes = word(&w);
	}
	f.doms = doms;
	f.ndoms = nd;

	if (sctl_plan_build(&cfg.host, &f, &plan) < 0)
		return 0;
	FZ_CHECK(plan.n <= SCTL_PLAN_MAX);
	if (getenv("MEMOPT_FUZZ_LOG"))
		for (size_t i = 0; i < plan.n; i++)
			fprintf(fz_report(), "%s: %s -> %s (%s) %s\n", plan.item[i].key, plan.item[i].current,
				plan.item[i].desired, sctl_action_name(plan.item[i].action), plan.item[i].reason);
	for (size_t i = 0; i < plan.n; i++) {
		const struct sctl_item *it = &plan.item[i];
		FZ_CHECK(strnlen(it->reason, sizeof(it->reason)) < sizeof(it->reason));
		if (it->action != SA_CHANGE)
			continue;
		if (it->id >= 0) {
			FZ_CHECK(it->id < SCTL__FIXED);
			if (sctl_check_value(&sctl_knobs[it->id], it->desired, f.cur[it->id].text, err, sizeof(err)) < 0) {
				fprintf(fz_report(), "plan writes %s = '%s', which its check refuses: %s\n", it->key,
					it->desired, err);
				abort();
			}
		} else {
			uint64_t v;
			const char *next, *end = it->desired + strlen(it->desired);
			if (prs_u64(it->desired, end, &v, &next) < 0 || next != end) {
				fprintf(fz_report(), "plan writes %s = '%s': not a page count\n", it->key, it->desired);
				abort();
			}
		}
	}
	return 0;
}
