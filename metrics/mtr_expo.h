/* mtr_expo.h - the Prometheus text exposition format (version 0.0.4) written into a growing buffer:
 * HELP and TYPE once per family, just before its first sample; escaped label values; exact integers. */
#ifndef MEMOPT_MTR_EXPO_H
#define MEMOPT_MTR_EXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mtr_type { MTR_GAUGE, MTR_COUNTER };

/* A metric family. Names follow Prometheus conventions: memopt_ prefix, base units (bytes, seconds)
 * and, for counters, the _total suffix, which mtr_put() checks. */
struct mtr_family {
	const char *name;
	enum mtr_type type;
	const char *help;
};

struct mtr_label {
	const char *name;
	const char *value; /* any bytes: escaped, and invalid UTF-8 replaced by U+FFFD */
};

#define MTR_SEEN_MAX 256

/* Writer state. Zero-initialise (or mtr_init); text is NUL-terminated while !oom. */
struct mtr_writer {
	char *text;
	size_t len, cap;
	bool oom;		      /* an allocation failed: the text is incomplete */
	unsigned errors;	      /* samples refused (bad names, a family split by another) */
	const struct mtr_family *cur; /* family of the last sample */
	size_t nseen;
	const struct mtr_family *seen[MTR_SEEN_MAX];
};

void mtr_init(struct mtr_writer *w);
/* Free the text. */
void mtr_fini(struct mtr_writer *w);
/* Hand the text (malloc'd, NUL-terminated) to the caller; *ret_len its length. NULL when oom. The
 * writer is left empty. */
char *mtr_take(struct mtr_writer *w, size_t *ret_len);

/* One sample of family f with labels l[0..n). The samples of a family must follow each other: a
 * sample of a family whose run was already ended by another family's sample is refused, since HELP
 * and TYPE may appear only once per family. Returns 0, -EINVAL (refused: bad metric or label name,
 * counter without _total, split family, non-finite value of a counter or negative counter),
 * -ENOMEM. Pure apart from the buffer. */
int mtr_put_u64(struct mtr_writer *w, const struct mtr_family *f, const struct mtr_label *l, size_t n,
		uint64_t v);
int mtr_put_i64(struct mtr_writer *w, const struct mtr_family *f, const struct mtr_label *l, size_t n,
		int64_t v);
int mtr_put_double(struct mtr_writer *w, const struct mtr_family *f, const struct mtr_label *l, size_t n,
		   double v);

/* Whether a string is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or label name
 * ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"). Pure. */
bool mtr_valid_metric_name(const char *s);
bool mtr_valid_label_name(const char *s);

#endif
