/* fuzz_numa.c - libFuzzer target: the NUMA readers' parsers on the same text: node meminfo, distance,
 * node lists ("0-3,8"), /proc/PID/numa_maps, hugepage pool counters and pool directory names. */
#include <string.h>

#include "numa/nod_numa.h"
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
	const char *buf = (const char *)data;
	struct nod_node n;
	uint32_t dist[NOD_MAX];
	uint64_t mask, kib[NOD_MAX], v;

	memset(&n, 0, sizeof(n));
	(void)nod_parse_meminfo(buf, size, &n);
	int k = nod_parse_distance(buf, size, dist, NOD_MAX);
	FZ_CHECK(k < 0 || k <= NOD_MAX);
	/* a short output array must bound the count too */
	k = nod_parse_distance(buf, size, dist, 2);
	FZ_CHECK(k < 0 || k <= 2);
	(void)nod_parse_list(buf, size, &mask);
	FZ_CHECK(nod_parse_numa_maps(buf, size, kib) == 0);
	(void)nod_parse_u64(buf, size, &v);

	char *s = fz_strdup(data, size);
	if (nod_parse_pool_name(s, &v) == 0)
		FZ_CHECK(v > 0 && v <= (1ULL << 40));
	free(s);
	return 0;
}
