/* fuzz_ksm_sysfs.c - libFuzzer target: every /sys/kernel/mm/ksm file's value parser (numbers, the
 * "[none] scan-time" advisor_mode selection, negative general_profit) and /proc/PID/ksm_stat. */
#include "ksmtuned/ksm_sysfs.h"
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
	struct ksm_proc_stat ps;
	int64_t v;

	for (int f = 0; f < KSM_F__MAX; f++)
		if (ksm_parse_field_value((enum ksm_field)f, buf, size, &v) == 0) {
			if (f == KSM_F_ADVISOR_MODE)
				FZ_CHECK(v == KSM_ADVISOR_NONE || v == KSM_ADVISOR_SCAN_TIME);
			else if (f != KSM_F_GENERAL_PROFIT)
				FZ_CHECK(v >= 0);
		}
	FZ_CHECK(ksm_parse_field_value(KSM_F__MAX, buf, size, &v) == -EINVAL);
	(void)ksm_parse_proc_stat(buf, size, &ps);
	return 0;
}
