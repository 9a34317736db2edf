/* fuzz_clh_wire.c - libFuzzer target: the cluster CPG message decoder, and decode -> encode -> decode. */
#include <stdlib.h>
#include <string.h>

#include "cluster-hook/clh_wire.h"
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
	/* a message holds whole reports and ledgers: too big for the stack */
	static struct clh_msg m, m2;
	char *enc1 = NULL, *enc2 = NULL;
	size_t len1, len2;

	if (clh_decode(data, size, &m) < 0)
		return 0;
	FZ_CHECK(m.kind >= CLH_M_REPORT && m.kind <= CLH_M_SYNC);
	/* every message we accept we can send on again, and it means the same */
	int r = clh_encode(&m, &enc1, &len1);
	if (r == -EMSGSIZE)
		return 0;
	FZ_CHECK(r == 0);
	if (clh_decode(enc1, len1, &m2) != 0) {
		fprintf(fz_report(), "re-encoded message does not decode: %.*s\n", (int)len1, enc1);
		abort();
	}
	FZ_CHECK(clh_encode(&m2, &enc2, &len2) == 0);
	if (len1 != len2 || memcmp(enc1, enc2, len1) != 0) {
		fprintf(fz_report(), "decode/encode not stable:\n%.*s\n%.*s\n", (int)len1, enc1, (int)len2, enc2);
		abort();
	}
	free(enc1);
	free(enc2);
	return 0;
}
