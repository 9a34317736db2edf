/* render.h - memoptctl's output helpers: aligned tables and hostile-safe reads of reply fields. */
#ifndef MEMOPT_CLI_RENDER_H
#define MEMOPT_CLI_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

/* --- tables: left-aligned text columns, optionally right-aligned numeric ones --- */

struct tbl;

/* A table with ncols columns named by headers. Returns NULL when out of memory. */
struct tbl *tbl_new(const char *const *headers, size_t ncols);
void tbl_free(struct tbl *t);
void tbl_align_right(struct tbl *t, size_t col);
/* Append a row of ncols cells (copied, control characters replaced). Returns 0 or -ENOMEM. */
int tbl_add_row(struct tbl *t, const char *const *cells);
/* Print header and rows, columns separated by two spaces; the last column is not padded. */
void tbl_print(const struct tbl *t, FILE *out);

/* --- reply fields: every getter tolerates a missing field or a wrong type --- */

/* The value at a dotted path ("host.mem_total_kib"), or NULL. */
json_object *jv_get(json_object *o, const char *path);
bool jv_get_int(json_object *o, const char *path, int64_t *ret);
bool jv_get_double(json_object *o, const char *path, double *ret); /* ints count as doubles */
bool jv_get_bool(json_object *o, const char *path, bool *ret);

/* Formatted views: "-" when the field is missing or of the wrong type. Strings are made safe for a
 * terminal. The returned buffer is one of a small ring and stays valid for the next 15 calls. */
const char *jv_str(json_object *o, const char *path);
const char *jv_int(json_object *o, const char *path);
const char *jv_double(json_object *o, const char *path, int decimals);
const char *jv_bool(json_object *o, const char *path, const char *yes, const char *no);
/* Any scalar (string, int, double, bool) as text, "-" otherwise. */
const char *jv_scalar(json_object *v);

/* Text helpers using the same ring. */
const char *rd_safe(const char *s);    /* control characters replaced by '?' */
const char *rd_duration_s(uint64_t s); /* "42s", "3m 12s", "2h 5m", "4d 3h" */
const char *rd_kib(uint64_t kib);      /* "812.0 MiB", "15.6 GiB" */
const char *rd_clock(int64_t wall_ms); /* local "HH:MM:SS", "-" for 0 or negative */

#endif
