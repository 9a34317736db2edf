/* fuzz_state.c - libFuzzer target: the state journal reader (originals.json), in memory. */
#include <string.h>

#include "common/state.h"
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
	struct st_journal *st = NULL;
	char err[512];

	err[0] = 'x';
	int r = st_parse_text("originals.json", (const char *)data, size, &st, err, sizeof(err));
	if (r < 0) {
		FZ_CHECK(st == NULL);
		FZ_CHECK(err[0] != '\0' || r == -ENOMEM);
		return 0;
	}
	for (size_t i = 0; i < st_count(st); i++) {
		const struct st_entry *e = st_get(st, i);
		FZ_CHECK(e && e->key[0] && e->path[0] == '/');
		FZ_CHECK(st_find(st, e->key) == e);
	}
	FZ_CHECK(st_get(st, st_count(st)) == NULL);
	/* in memory only: never written anywhere, and a refused change leaves the journal as it was */
	if (st_count(st) > 0) {
		size_t n = st_count(st);
		char key[sizeof(st_get(st, 0)->key)];
		memcpy(key, st_get(st, 0)->key, sizeof(key));
		FZ_CHECK(st_forget(st, key) == -EROFS);
		FZ_CHECK(st_count(st) == n && st_find(st, key) == st_get(st, 0));
		/* and restoring from it writes nothing to the host */
		FZ_CHECK(st_restore(st, NULL, false) == -EROFS);
	}
	st_close(st);
	return 0;
}
