/* fuzz_bln_xml.c - libFuzzer target: the balloon module's libvirt XML readers (the domain's
 * <memballoon>/<memtune><min_guarantee>, and memopt's own <metadata> element). Balloon statistics come
 * from virDomainMemoryStats as numbers, so there is no text parser for them to fuzz. */
#include <string.h>

#include "balloon/bln_virt.h"
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
	char *xml = fz_strdup(data, size);
	struct bvirt_meta meta;
	char warn[256];
	bool has_balloon;
	uint64_t kib;

	(void)bvirt_parse_domain_xml(xml, &has_balloon, &kib);
	warn[0] = '\0';
	if (bvirt_parse_metadata(xml, &meta, warn, sizeof(warn)) == 0) {
		FZ_CHECK(strnlen(warn, sizeof(warn)) < sizeof(warn));
		FZ_CHECK(meta.manage >= -1 && meta.manage <= 1);
	}
	/* a tiny warning buffer must stay terminated */
	if (bvirt_parse_metadata(xml, &meta, warn, 4) == 0)
		FZ_CHECK(strnlen(warn, 4) < 4);
	free(xml);
	return 0;
}
