/* clh_cmds.h - the cluster-hook control commands (headroom, admit, reserve, release, place,
 * failover-plan, cluster) and the view JSON they share with the hook. */
#ifndef MEMOPT_CLH_CMDS_H
#define MEMOPT_CLH_CMDS_H

#include <json-c/json.h>

#include "hr_model.h"

/* Register the command table with the control server. Returns 0 or -errno. */
int clh_cmds_register(void);

/* The cluster view as the hook receives it (schema in docs/protocol.md). New object, NULL when out of
 * memory. */
json_object *clh_view_json(void);

/* A headroom as JSON: figures, terms, nodes. */
json_object *clh_headroom_json(const struct hr_headroom *h);

#endif
