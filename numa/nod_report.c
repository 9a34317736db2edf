/* nod_report.c - JSON report of the NUMA topology and of each QEMU process's memory per node. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nod_report.h"
#include "../common/cleanup.h"
#include "../common/procs.h"

json_object *nod_topology_json(const struct nod_topology *t)
{
	json_object *arr = json_object_new_array();

	if (!arr)
		return NULL;
	for (size_t i = 0; i < t->n; i++) {
		const struct nod_node *n = &t->node[i];
		json_object *o = json_object_new_object(), *pools = json_object_new_array();

		json_object_object_add(o, "id", json_object_new_int(n->id));
		if (n->has_meminfo) {
			json_object_object_add(o, "total_kib", json_object_new_int64((int64_t)n->total_kib));
			json_object_object_add(o, "free_kib", json_object_new_int64((int64_t)n->free_kib));
			json_object_object_add(o, "file_kib", json_object_new_int64((int64_t)n->file_kib));
			json_object_object_add(o, "anon_kib", json_object_new_int64((int64_t)n->anon_kib));
		}
		for (size_t k = 0; k < n->npools; k++) {
			json_object *p = json_object_new_object();
			json_object_object_add(p, "page_kib", json_object_new_int64((int64_t)n->pool[k].page_kib));
			json_object_object_add(p, "nr", json_object_new_int64((int64_t)n->pool[k].nr));
			json_object_object_add(p, "free", json_object_new_int64((int64_t)n->pool[k].free));
			json_object_object_add(p, "surplus", json_object_new_int64((int64_t)n->pool[k].surplus));
			json_object_array_add(pools, p);
		}
		json_object_object_add(o, "hugepages", pools);
		if (n->has_distance) {
			json_object *d = json_object_new_array();
			for (size_t j = 0; j < t->n; j++)
				json_object_array_add(d, json_object_new_int((int)n->distance[j]));
			json_object_object_add(o, "distance", d);
		}
		json_object_array_add(arr, o);
	}
	return arr;
}

json_object *nod_report_json(const char *sysfs_root, const char *procfs_root, char *err, size_t errlen)
{
	_cleanup_free_ struct nod_topology *t = calloc(1, sizeof(*t));
	_cleanup_free_ struct vm_proc *vms = NULL;
	size_t nvms = 0;
	json_object *r, *vmarr;
	int rc;

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rc = nod_read(sysfs_root, t);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read %s/devices/system/node: %s", sysfs_root, strerror(-rc));
		return NULL;
	}
	r = json_object_new_object();
	json_object_object_add(r, "sysfs_root", json_object_new_string(sysfs_root));
	json_object_object_add(r, "libnuma", json_object_new_boolean(t->libnuma));
	json_object_object_add(r, "nodes", nod_topology_json(t));
	vmarr = json_object_new_array();
	if (proc_list_qemu(procfs_root, &vms, &nvms) == 0) {
		for (size_t i = 0; i < nvms; i++) {
			uint64_t kib[NOD_MAX];
			json_object *o = json_object_new_object(), *per = json_object_new_array();

			json_object_object_add(o, "pid", json_object_new_int(vms[i].pid));
			json_object_object_add(o, "name", json_object_new_string(vms[i].guest_name[0] ? vms[i].guest_name
												   : vms[i].comm));
			json_object_object_add(o, "rss_kib", json_object_new_int64((int64_t)vms[i].rss_kib));
			rc = nod_read_placement(procfs_root, vms[i].pid, kib);
			if (rc == 0) {
				for (size_t k = 0; k < t->n; k++) {
					json_object *e = json_object_new_object();
					int id = t->node[k].id;
					json_object_object_add(e, "node", json_object_new_int(id));
					json_object_object_add(e, "kib", json_object_new_int64((int64_t)kib[id]));
					json_object_array_add(per, e);
				}
			} else {
				json_object_object_add(o, "error", json_object_new_string(strerror(-rc)));
			}
			json_object_object_add(o, "nodes", per);
			json_object_array_add(vmarr, o);
		}
	}
	json_object_object_add(r, "vms", vmarr);
	return r;
}
