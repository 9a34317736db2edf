/* parse.h - pure scanners for hostile text: strict decimals and line splitting over (pointer, length). */
#ifndef MEMOPT_PARSE_H
#define MEMOPT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Strict unsigned decimal at [p, end): at least one digit, no sign, no blanks. Stops at the first
 * non-digit and sets *ret_next to it; what may follow is the caller's business. Returns 0, -EBADMSG
 * when p holds no digit, -ERANGE when the value does not fit 64 bits. Pure. */
int prs_u64(const char *p, const char *end, uint64_t *ret, const char **ret_next);

/* The same with an optional leading '-' (no '+'), within int64. Returns 0, -EBADMSG, -ERANGE. Pure. */
int prs_i64(const char *p, const char *end, int64_t *ret, const char **ret_next);

/* One line of a text, without its '\n'. */
struct prs_line {
	const char *p;
	size_t len;
	bool complete; /* ended in '\n'; false for a last line the text ends in the middle of */
};

/* Step through text[0..len) a line at a time; *pos starts at 0 and moves past each '\n'. Returns true
 * with *ret filled, false after the last line (a text ending in '\n' has no empty line after it).
 * NUL bytes are ordinary characters here. Pure. */
bool prs_next_line(const char *text, size_t len, size_t *pos, struct prs_line *ret);

#endif
