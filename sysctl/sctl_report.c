/* sctl_report.c - JSON of host plan items (schemas in docs/protocol.md, "host"). */
#include "sctl_report.h"

json_object *sctl_item_json(const struct sctl_item *it)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "key", json_object_new_string(it->key));
	json_object_object_add(o, "path", json_object_new_string(it->path));
	json_object_object_add(o, "current", it->current[0] ? json_object_new_string(it->current) : NULL);
	json_object_object_add(o, "desired", it->desired[0] ? json_object_new_string(it->desired) : NULL);
	json_object_object_add(o, "action", json_object_new_string(sctl_action_name(it->action)));
	json_object_object_add(o, "origin", json_object_new_string(it->origin[0] ? it->origin : "-"));
	json_object_object_add(o, "reason", json_object_new_string(it->reason));
	json_object_object_add(o, "source", json_object_new_string(it->source ? it->source : ""));
	if (it->unmerge)
		json_object_object_add(o, "unmerge_ksm_first", json_object_new_boolean(1));
	return o;
}

json_object *sctl_plan_items_json(const struct sctl_plan *p)
{
	json_object *arr = json_object_new_array();

	if (!arr)
		return NULL;
	for (size_t i = 0; i < p->n; i++)
		json_object_array_add(arr, sctl_item_json(&p->item[i]));
	return arr;
}
