/* fuzz_ksm_policy.c - libFuzzer target: the KSM controller over a sequence of hostile samples. Its
 * inputs are kernel counters (KSM sysfs, ksmd's CPU ticks, cow_ksm, meminfo, PSI) that can go
 * backwards, jump, or be garbled on a fixture root; the controller's state carries over between
 * decisions. Checks: every write is a knob of the kernel's range and pages_to_scan stays within the
 * configured min/max. Input: little-endian 64-bit words; first the mode and rate control, then up to 8
 * samples; missing words are 0. */
#include <string.h>

#include "common/config.h"
#include "ksmtuned/ksm_policy.h"
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
	static struct memopt_config cfg;
	static struct ksm_ctl ctl;
	struct words w = {data, size};
	struct ksm_sample s;
	struct ksm_decision d;

	cfg_defaults(&cfg);
	uint64_t f = word(&w);
	cfg.ksm.mode = (enum ksm_mode)(f % 3);
	cfg.ksm.rate_control = (enum ksm_rate_control)((f >> 2) % 2);
	cfg.ksm.smart_scan = (enum tristate)((int)((f >> 3) % 4) - 1);
	memset(&ctl, 0, sizeof(ctl));
	uint64_t now = 0;
	for (int k = 0; k < 8 && w.n > 0; k++) {
		memset(&s, 0, sizeof(s));
		now += word(&w) % (3600 * 1000);
		s.now_ms = now;
		s.page_kib = (uint32_t)(word(&w) % 65);
		s.ksm.present = true;
		s.ksm.have = (uint32_t)word(&w);
		for (int i = 0; i < KSM_F__MAX; i++)
			s.ksm.v[i] = (int64_t)word(&w);
		uint64_t g = word(&w);
		s.ksmd_cpu_valid = g & 1;
		s.mem_valid = g & 2;
		s.cow_valid = g & 4;
		s.psi.available = g & 8;
		s.ksmd_cpu_ms = word(&w);
		s.mem.total_kib = word(&w);
		s.mem.avail_kib = word(&w);
		s.mem.free_kib = word(&w);
		s.psi.some.avg10_ppm = (uint32_t)(word(&w) % 1000001);
		s.psi.full.avg10_ppm = (uint32_t)(word(&w) % 1000001);
		s.cow_ksm = word(&w);
		s.vm_mergeable_kib = word(&w);

		ksm_decide(&cfg.ksm, &s, &ctl, &d);
		FZ_CHECK(d.n <= KSM_DECISION_MAX_WRITES);
		FZ_CHECK(strnlen(d.reason, sizeof(d.reason)) < sizeof(d.reason));
		for (size_t i = 0; i < d.n; i++) {
			FZ_CHECK(ksm_field_is_knob(d.w[i].field));
			if (d.w[i].field == KSM_F_PAGES_TO_SCAN &&
			    (d.w[i].value < (int64_t)cfg.ksm.min_pages_to_scan ||
			     d.w[i].value > (int64_t)cfg.ksm.max_pages_to_scan)) {
				fprintf(fz_report(), "pages_to_scan %lld outside [%llu, %llu]: %s\n",
					(long long)d.w[i].value, (unsigned long long)cfg.ksm.min_pages_to_scan,
					(unsigned long long)cfg.ksm.max_pages_to_scan, d.reason);
				abort();
			}
			if (d.w[i].field == KSM_F_RUN)
				FZ_CHECK(d.w[i].value >= 0 && d.w[i].value <= 2);
			if (d.w[i].field == KSM_F_SLEEP_MILLISECS)
				FZ_CHECK(d.w[i].value >= 0 && d.w[i].value <= UINT32_MAX);
		}
	}
	return 0;
}
