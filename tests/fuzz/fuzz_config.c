/* fuzz_config.c - libFuzzer target: memoptd.conf parser, validation, and print -> re-parse round trip. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_setup();
	return 0;
}

/* cfg_print() into a malloc'ed string. */
static char *print_cfg(const struct memopt_config *cfg, size_t *ret_len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, ret_len);

	if (!f)
		abort();
	cfg_print(cfg, f);
	if (fclose(f) != 0)
		abort();
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct memopt_config cfg, again;
	char err[512];
	size_t len1, len2;

	cfg_defaults(&cfg);
	if (cfg_parse_buffer("fuzz.conf", (const char *)data, size, &cfg, err, sizeof(err)) < 0) {
		FZ_CHECK(err[0] != '\0');
		return 0;
	}
	if (cfg_validate(&cfg, err, sizeof(err)) < 0)
		return 0;

	/* What --print-config shows must parse back to the same configuration. */
	char *text1 = print_cfg(&cfg, &len1);
	cfg_defaults(&again);
	if (cfg_parse_buffer("fuzz.conf", text1, len1, &again, err, sizeof(err)) < 0) {
		fprintf(fz_report(), "printed config does not parse: %s\n%s\n", err, text1);
		abort();
	}
	if (cfg_validate(&again, err, sizeof(err)) < 0) {
		fprintf(fz_report(), "printed config does not validate: %s\n%s\n", err, text1);
		abort();
	}
	char *text2 = print_cfg(&again, &len2);
	if (len1 != len2 || memcmp(text1, text2, len1) != 0) {
		fprintf(fz_report(), "print -> parse -> print differs:\n%s\n----\n%s\n", text1, text2);
		abort();
	}
	free(text1);
	free(text2);
	return 0;
}
