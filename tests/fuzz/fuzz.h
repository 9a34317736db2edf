/* fuzz.h - what every libFuzzer target shares: the entry points, quiet logging, NUL-terminated copies. */
#ifndef MEMOPT_FUZZ_H
#define MEMOPT_FUZZ_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Log at debug level so every message's format arguments are exercised, but into /dev/null: libFuzzer
 * keeps its own copy of the original stderr and the sanitizers write to fd 2, so their reports stay
 * visible. MEMOPT_FUZZ_LOG=1 keeps the messages (to see what a crashing input logs). */
static inline void fz_setup(void)
{
	const char *keep = getenv("MEMOPT_FUZZ_LOG");

	log_setup(LOG_TARGET_STDERR, LOG_DEBUG);
	if (!keep || strcmp(keep, "1") != 0) {
		FILE *null = fopen("/dev/null", "w");
		if (null)
			stderr = null;
	}
}

/* A malloc'ed NUL-terminated copy of the input (a NUL inside stays: parsers that take C strings
 * then see a prefix, as they would from a C string). Aborts when out of memory. */
static inline char *fz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* An exact-size heap copy, without terminator, so ASan catches a parser reading one byte past the
 * buffer it was given. */
static inline char *fz_memdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	return s;
}

/* An oracle failed: the parsers disagree with themselves. */
#define FZ_CHECK(cond)                                                                                       \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(fz_report(), "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);      \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

/* Where oracle failures go: the process's original fd 2, whatever stderr now is. */
static inline FILE *fz_report(void)
{
	static FILE *f;

	if (!f) {
		f = fdopen(2, "w");
		if (f)
			setvbuf(f, NULL, _IONBF, 0); /* abort() follows: nothing may stay in a buffer */
	}
	return f ? f : stdout;
}

/* The policy targets read their input as little-endian 64-bit words; past the end, words are 0. */
struct words {
	const uint8_t *p;
	size_t n;
};

static inline uint64_t word(struct words *w)
{
	uint64_t v = 0;
	size_t k = w->n < 8 ? w->n : 8;
	for (size_t i = 0; i < k; i++)
		v |= (uint64_t)w->p[i] << (8 * i);
	w->p += k;
	w->n -= k;
	return v;
}

#endif
