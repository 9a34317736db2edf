/* views_cluster.h - memoptctl's renderings of the cluster-hook replies: headroom, admit, place,
 * failover-plan, cluster (schemas in docs/protocol.md). */
#ifndef MEMOPT_CLI_VIEWS_CLUSTER_H
#define MEMOPT_CLI_VIEWS_CLUSTER_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>

void view_headroom(json_object *result, bool explain, FILE *out);
/* One line: "admit|refuse|cannot say: REASON" (+ reservation). */
void view_admit(json_object *result, FILE *out);
void view_place(json_object *result, FILE *out);
void view_failover(json_object *result, FILE *out);
void view_cluster(json_object *result, FILE *out);

#endif
