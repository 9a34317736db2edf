/* fuzz_ksmtuned_conf.c - libFuzzer target: the ksmtuned.conf importer (never executes, only lexes). */
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "ksmtuned/ksmtuned_conf.h"
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
	static const uint64_t mem_total_kib[] = { 0, 1, 4 * 1024 * 1024, UINT64_MAX / 1024 };
	char err[512];

	/* MemTotal scales ksmtuned's thresholds: the first byte picks one (extremes included), the rest
	 * is the file. */
	if (size == 0)
		return 0;
	uint64_t mt = mem_total_kib[data[0] % 4];
	cfg_defaults(&cfg);
	int r = ksmtuned_conf_import_text("ksmtuned.conf", (const char *)data + 1, size - 1, mt, &cfg);
	FZ_CHECK(r >= 0);
	/* An import may only produce values the daemon's own validation accepts. */
	if (cfg_validate(&cfg, err, sizeof(err)) < 0) {
		fprintf(fz_report(), "imported ksmtuned.conf fails validation: %s\n", err);
		abort();
	}
	return 0;
}
