/* views.h - memoptctl's human-readable renderings of the daemon's replies (schemas in docs/protocol.md). */
#ifndef MEMOPT_CLI_VIEWS_H
#define MEMOPT_CLI_VIEWS_H

#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

/* Each prints the "result" object of its command. Any field may be missing or of the wrong type:
 * it is shown as "-". now_mono_ms is CLOCK_MONOTONIC, used for the age of monotonic timestamps. */
void view_status(json_object *result, FILE *out);
void view_ksm(json_object *result, uint64_t now_mono_ms, FILE *out);
void view_log(json_object *result, FILE *out);
void view_help(json_object *result, FILE *out);
void view_guests(json_object *result, FILE *out);
/* The guest returned by balloon-set / balloon-release; verb is "set" or "release". */
void view_balloon_result(json_object *result, const char *verb, FILE *out);

/* numa; host (status + drift); host plan; host apply; host restore. */
void view_numa(json_object *result, FILE *out);
void view_host(json_object *result, FILE *out);
void view_host_plan(json_object *result, FILE *out);
void view_host_apply(json_object *result, FILE *out);
void view_host_restore(json_object *result, FILE *out);

#endif
