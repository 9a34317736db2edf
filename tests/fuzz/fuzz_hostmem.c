/* fuzz_hostmem.c - libFuzzer target: /proc/meminfo, /proc/vmstat and /proc/pressure/memory parsers,
 * and the headroom readers' meminfo/arcstats key lookups (cluster-hook/hr_read.c), on the same text. */
#include "common/hostmem.h"
#include "cluster-hook/hr_read.h"
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
	struct host_mem m;
	struct host_vmstat vs;
	struct host_psi psi;
	uint64_t v;

	if (hm_parse_meminfo_text(buf, size, &m) == 0)
		FZ_CHECK(m.total_kib == m.total_kib);
	(void)hm_parse_vmstat_text(buf, size, &vs);
	if (hm_parse_psi_text(buf, size, &psi) == 0) {
		FZ_CHECK(psi.available);
		FZ_CHECK(psi.some.avg10_ppm <= 1000000 && psi.full.avg300_ppm <= 1000000);
	}

	/* hr_read's parsers take C strings (the reader NUL-terminates what it read) */
	char *s = fz_strdup(data, size);
	(void)hr_parse_meminfo_key(s, "MemTotal", &v);
	(void)hr_parse_meminfo_key(s, "MemAvailable", &v);
	(void)hr_parse_meminfo_key(s, "HugePages_Free", &v);
	(void)hr_parse_kstat(s, "size", &v);
	(void)hr_parse_kstat(s, "c_min", &v);
	free(s);
	return 0;
}
