/* fuzz_sctl_knobs.c - libFuzzer target: sysctl/sysfs knob text ("60", "always [madvise] never"), desired
 * value checks against it, [host] overrides and the hugepages spec ("node0:2M=512,1G=2").
 * Input: "<value>\n<current knob text>"; the whole input is also parsed as knob text. */
#include <string.h>

#include "sysctl/sctl_knobs.h"
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
	char out[SCTL_VALUE_MAX], err[512];

	if (sctl_parse_current(SK_INT, buf, size, out, sizeof(out)) == 0)
		FZ_CHECK(strlen(out) < sizeof(out));
	if (sctl_parse_current(SK_SELECT, buf, size, out, sizeof(out)) == 0) {
		FZ_CHECK(out[0] != '\0');
		/* the selected word is always one of the choices */
		char *text = fz_strdup(data, size);
		FZ_CHECK(sctl_select_has(text, out));
		free(text);
	}
	(void)sctl_parse_current(SK_SELECT, buf, size, out, 2);

	char *s = fz_strdup(data, size);
	char *nl = strchr(s, '\n');
	const char *value = s, *cur = NULL;
	if (nl) {
		*nl = '\0';
		cur = nl + 1;
	}
	for (size_t i = 0; i < SCTL__FIXED; i++) {
		(void)sctl_check_value(&sctl_knobs[i], value, cur, err, sizeof(err));
		(void)sctl_check_override(i, value, err, sizeof(err));
	}
	(void)sctl_check_override(SCTL__FIXED, value, err, sizeof(err));
	FZ_CHECK(sctl_check_override(SCTL__FIXED + 1, value, err, sizeof(err)) == -EINVAL);
	if (cur)
		(void)sctl_select_has(cur, value);

	struct sctl_hp_spec sp[SCTL_HP_SPEC_MAX];
	char mode = 0;
	int n = sctl_parse_hp_spec(value, sp, SCTL_HP_SPEC_MAX, &mode);
	if (n >= 0) {
		FZ_CHECK(n <= SCTL_HP_SPEC_MAX);
		FZ_CHECK(mode == 'a' || mode == 'k' || mode == 'l');
		for (int i = 0; i < n; i++)
			FZ_CHECK(sp[i].page_kib >= 4 && (sp[i].page_kib & (sp[i].page_kib - 1)) == 0);
	}
	FZ_CHECK(sctl_parse_hp_spec(value, sp, 1, &mode) <= 1);
	free(s);
	return 0;
}
