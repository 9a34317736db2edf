/* sctl_report.h - JSON of a host plan for the host / host-plan / host-apply replies. */
#ifndef MEMOPT_SCTL_REPORT_H
#define MEMOPT_SCTL_REPORT_H

#include <json-c/json.h>
#include "sctl_policy.h"

/* One object per plan item: key, path, current, desired, action, origin, reason, source, unmerge.
 * Returns NULL when out of memory. */
json_object *sctl_plan_items_json(const struct sctl_plan *p);
json_object *sctl_item_json(const struct sctl_item *it);

#endif
