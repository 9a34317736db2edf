/* units.h - value parsers shared by memoptd's config, the control protocol and memoptctl:
 * sizes ("4G", "16384k", "512M", plain numbers are bytes), percentages ("75%"), durations ("2s", "500ms", "5m"). */
#ifndef MEMOPT_UNITS_H
#define MEMOPT_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A size that is either absolute or a share of a total (e.g. of MemTotal), resolved late. */
struct msize {
	bool is_percent;
	uint64_t kib;       /* when !is_percent */
	uint32_t ppm;       /* when is_percent: parts per million of the total (75% = 750000) */
};

/* All parsers: whole-string match, surrounding blanks allowed, no overflow; return 0 or -EINVAL/-ERANGE.
 * ret_ is written only on success. */

/* Bytes: "123" (bytes), "4k"/"4K"/"4KiB", "M", "G", "T" (binary, 1024-based), "1.5G" allowed. Result rounded down to KiB. */
int unit_parse_size_kib(const char *s, uint64_t *ret_kib);
/* A size or a percentage ("75%", "12.5%"); percentages must be within [0, 100]. */
int unit_parse_msize(const char *s, struct msize *ret);
/* A percentage number "50" or "50%" or "0.5%" -> parts per million; must be within [0, 100]. */
int unit_parse_percent_ppm(const char *s, uint32_t *ret_ppm);
/* Duration: "250ms", "2s", "5m", "1h"; a bare number means seconds. */
int unit_parse_duration_ms(const char *s, uint64_t *ret_ms);
/* Booleans: yes/no, true/false, on/off, 1/0. */
int unit_parse_bool(const char *s, bool *ret);
/* Unsigned integer in [min, max] (decimal only). */
int unit_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* Resolve against a total in KiB (e.g. MemTotal). */
uint64_t msize_resolve_kib(const struct msize *m, uint64_t total_kib);

/* Formatting for --print-config and tables: "4G", "512M", "1536K", "75%". Returns buf. */
const char *unit_format_kib(uint64_t kib, char *buf, size_t len);
const char *unit_format_msize(const struct msize *m, char *buf, size_t len);
const char *unit_format_duration(uint64_t ms, char *buf, size_t len);
/* Human-readable MiB with one decimal, for tables: "1234.5". */
const char *unit_format_mib(uint64_t kib, char *buf, size_t len);

#endif
