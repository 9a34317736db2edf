/* nod_report.h - the `numa` control command's reply: nodes, memory, hugepage pools, distances and the
 * node placement of every QEMU process. */
#ifndef MEMOPT_NOD_REPORT_H
#define MEMOPT_NOD_REPORT_H

#include <json-c/json.h>
#include "nod_numa.h"

/* The topology as JSON (schema in docs/protocol.md, "numa"). Returns NULL when out of memory. */
json_object *nod_topology_json(const struct nod_topology *t);

/* Read the topology and the placement of QEMU processes; a reply object, or NULL with err set. */
json_object *nod_report_json(const char *sysfs_root, const char *procfs_root, char *err, size_t errlen);

#endif
