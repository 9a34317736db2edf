/* fuzz_units.c - libFuzzer target: the value parsers the config, the control protocol and memoptctl
 * share (sizes, size-or-percent, percent, duration, bool, bounded integers), and format -> parse round
 * trips (what --print-config and the CLI print must read back as the same value). */
#include <string.h>

#include "common/units.h"
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
	char *s = fz_strdup(data, size);
	char buf[64];
	uint64_t kib, kib2, ms, ms2, u;
	uint32_t ppm;
	struct msize m, m2;
	bool b;

	if (unit_parse_size_kib(s, &kib) == 0) {
		unit_format_kib(kib, buf, sizeof(buf));
		if (unit_parse_size_kib(buf, &kib2) != 0 || kib2 != kib) {
			fprintf(fz_report(), "size '%s' = %llu KiB prints as '%s', which reads back differently\n", s,
				(unsigned long long)kib, buf);
			abort();
		}
		(void)unit_format_mib(kib, buf, sizeof(buf));
	}
	if (unit_parse_msize(s, &m) == 0) {
		FZ_CHECK(!m.is_percent || m.ppm <= 1000000);
		unit_format_msize(&m, buf, sizeof(buf));
		if (unit_parse_msize(buf, &m2) != 0 || m2.is_percent != m.is_percent ||
		    (m.is_percent ? m2.ppm != m.ppm : m2.kib != m.kib)) {
			fprintf(fz_report(), "msize '%s' prints as '%s', which reads back differently\n", s, buf);
			abort();
		}
		(void)msize_resolve_kib(&m, UINT64_MAX);
		(void)msize_resolve_kib(&m, 16 * 1024 * 1024);
	}
	if (unit_parse_percent_ppm(s, &ppm) == 0)
		FZ_CHECK(ppm <= 1000000);
	if (unit_parse_duration_ms(s, &ms) == 0) {
		unit_format_duration(ms, buf, sizeof(buf));
		if (unit_parse_duration_ms(buf, &ms2) != 0 || ms2 != ms) {
			fprintf(fz_report(), "duration '%s' = %llu ms prints as '%s', which reads back differently\n",
				s, (unsigned long long)ms, buf);
			abort();
		}
	}
	(void)unit_parse_bool(s, &b);
	if (unit_parse_u64(s, 1, 100000, &u) == 0)
		FZ_CHECK(u >= 1 && u <= 100000);
	/* short output buffers stay terminated */
	FZ_CHECK(strlen(unit_format_kib(UINT64_MAX, buf, 3)) < 3);
	free(s);
	return 0;
}
