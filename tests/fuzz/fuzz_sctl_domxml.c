/* fuzz_sctl_domxml.c - libFuzzer target: the domain XML reader of the sysctl planner (hugepages, page
 * size, numatune nodesets from libvirt's <domain> / <domstatus> files). */
#include <string.h>

#include "sysctl/sctl_domxml.h"
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
	struct sctl_dom d;

	if (sctl_parse_domain_xml((const char *)data, size, &d) == 0) {
		FZ_CHECK(strnlen(d.name, sizeof(d.name)) < sizeof(d.name));
		FZ_CHECK(d.name[0] != '\0');
	}
	return 0;
}
