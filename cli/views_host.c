/* views_host.c - memoptctl's renderings of the numa and host replies (schemas in docs/protocol.md). */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "common/cleanup.h"
#include "render.h"
#include "views.h"

static json_object *array_at(json_object *o, const char *path)
{
	json_object *v = jv_get(o, path);
	return v && json_object_is_type(v, json_type_array) ? v : NULL;
}

static const char *page_size(int64_t kib)
{
	static char buf[4][24];
	static unsigned i;
	char *b = buf[i++ % 4];
	if (kib >= 1048576 && kib % 1048576 == 0)
		snprintf(b, sizeof(buf[0]), "%" PRId64 "G", kib / 1048576);
	else if (kib >= 1024 && kib % 1024 == 0)
		snprintf(b, sizeof(buf[0]), "%" PRId64 "M", kib / 1024);
	else
		snprintf(b, sizeof(buf[0]), "%" PRId64 "K", kib);
	return b;
}

void view_numa(json_object *r, FILE *out)
{
	json_object *nodes = array_at(r, "nodes"), *vms = array_at(r, "vms");
	size_t n = nodes ? json_object_array_length(nodes) : 0;
	static const char *const hdr[] = {"NODE", "TOTAL", "FREE", "FILE", "ANON", "HUGEPAGES (nr/free)", "DISTANCES"};
	struct tbl *t;

	fprintf(out, "%zu NUMA node(s) (sysfs %s%s)\n\n", n, jv_str(r, "sysfs_root"),
		jv_bool(r, "libnuma", ", confirmed by libnuma", ""));
	t = tbl_new(hdr, ELEMENTSOF(hdr));
	if (!t)
		return;
	for (size_t c = 1; c <= 4; c++)
		tbl_align_right(t, c);
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(nodes, i), *pools = array_at(o, "hugepages"),
			    *dist = array_at(o, "distance");
		char hp[256] = "", ds[256] = "";
		size_t off = 0;
		int64_t v[4];
		const char *cells[4];
		static const char *const f[] = {"total_kib", "free_kib", "file_kib", "anon_kib"};
		for (size_t k = 0; k < 4; k++)
			cells[k] = jv_get_int(o, f[k], &v[k]) && v[k] >= 0 ? rd_kib((uint64_t)v[k]) : "-";
		for (size_t k = 0; pools && k < json_object_array_length(pools) && off < sizeof(hp); k++) {
			json_object *p = json_object_array_get_idx(pools, k);
			int64_t kib = 0;
			jv_get_int(p, "page_kib", &kib);
			off += (size_t)snprintf(hp + off, sizeof(hp) - off, "%s%s: %s/%s", off ? ", " : "", page_size(kib),
						jv_int(p, "nr"), jv_int(p, "free"));
		}
		off = 0;
		for (size_t k = 0; dist && k < json_object_array_length(dist) && off < sizeof(ds); k++)
			off += (size_t)snprintf(ds + off, sizeof(ds) - off, "%s%s", off ? " " : "",
						jv_scalar(json_object_array_get_idx(dist, k)));
		const char *row[] = {jv_int(o, "id"), cells[0], cells[1], cells[2], cells[3], hp[0] ? hp : "-",
				     ds[0] ? ds : "-"};
		tbl_add_row(t, row);
	}
	tbl_print(t, out);
	tbl_free(t);

	size_t nv = vms ? json_object_array_length(vms) : 0;
	if (nv == 0) {
		fprintf(out, "\nno QEMU process runs\n");
		return;
	}
	fprintf(out, "\nVM memory per node (from /proc/PID/numa_maps):\n");
	for (size_t i = 0; i < nv; i++) {
		json_object *vm = json_object_array_get_idx(vms, i), *per = array_at(vm, "nodes");
		fprintf(out, "  %-24s pid %-8s", jv_str(vm, "name"), jv_int(vm, "pid"));
		if (jv_get(vm, "error"))
			fprintf(out, " cannot read numa_maps: %s", jv_str(vm, "error"));
		for (size_t k = 0; per && k < json_object_array_length(per); k++) {
			json_object *e = json_object_array_get_idx(per, k);
			int64_t kib = 0;
			jv_get_int(e, "kib", &kib);
			fprintf(out, " node%s %s", jv_int(e, "node"), rd_kib(kib > 0 ? (uint64_t)kib : 0));
		}
		fputc('\n', out);
	}
}

static void plan_header(json_object *r, const char *what, FILE *out)
{
	fprintf(out, "%s: %s NUMA node(s), %s of %s domain(s) hugepage-backed (domain XML: %s), %s change(s)\n", what,
		jv_int(r, "nodes"), jv_int(r, "hugepage_domains"), jv_int(r, "domains"), jv_str(r, "domain_xml_dir"),
		jv_int(r, "changes"));
}

/* One block per knob: "KEY  CURRENT -> DESIRED  ACTION", then why and source. with_state adds the
 * applied/drift state of `memoptctl host`. */
static void plan_items(json_object *r, bool with_state, FILE *out)
{
	json_object *items = array_at(r, "items");
	size_t n = items ? json_object_array_length(items) : 0, kw = 4, cw = 7;

	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(items, i);
		size_t l = strlen(jv_str(it, "key"));
		kw = l > kw ? l : kw;
		l = strlen(jv_str(it, "current"));
		cw = l > cw ? l : cw;
	}
	fprintf(out, "\n%-*s  %-*s    %-9s  %s\n", (int)kw, "KNOB", (int)cw, "CURRENT", "DESIRED", "ACTION");
	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(items, i);
		const char *action = jv_str(it, "action");
		bool change = strcmp(action, "change") == 0;
		fprintf(out, "%-*s  %-*s %s %-9s  %s", (int)kw, jv_str(it, "key"), (int)cw, jv_str(it, "current"),
			change ? "->" : "  ", jv_str(it, "desired"), action);
		if (with_state) {
			bool drift = false;
			const char *st = jv_str(it, "state");
			jv_get_bool(it, "drift", &drift);
			if (strcmp(st, "not-applied") != 0)
				fprintf(out, "  [%s%s]", jv_get(it, "detail") ? jv_str(it, "detail") : st,
					drift ? ", DRIFT" : "");
			if (jv_get(it, "original"))
				fprintf(out, "  (original %s)", jv_str(it, "original"));
		}
		fprintf(out, "\n    why:    %s\n", jv_str(it, "reason"));
		if (jv_get(it, "source") && strlen(jv_str(it, "source")) > 1)
			fprintf(out, "    source: %s\n", jv_str(it, "source"));
	}
}

void view_host_plan(json_object *r, FILE *out)
{
	bool manage = true;
	jv_get_bool(r, "manage", &manage);
	plan_header(r, "host plan", out);
	fprintf(out, "nothing was written; %s\n",
		manage ? "'memoptctl host apply' writes the changes (all or nothing), 'host restore' puts the originals back"
		       : "[host] manage = no: memopt will not write these");
	plan_items(r, false, out);
}

void view_host(json_object *r, FILE *out)
{
	plan_header(r, "host", out);
	fprintf(out, "applied by memopt: %s knob(s), yielded after drift: %s, originals journaled: %s; drift rule: %s, "
		     "drift events: %s\n",
		jv_int(r, "applied"), jv_int(r, "yielded"), jv_int(r, "journaled"), jv_str(r, "drift_rule"),
		jv_int(r, "drift_events"));
	int64_t t = 0;
	if (jv_get_int(r, "last_apply_ms", &t) && t > 0)
		fprintf(out, "last apply at %s: %s\n", rd_clock(t), jv_str(r, "last_apply"));
	plan_items(r, true, out);
}

void view_host_apply(json_object *r, FILE *out)
{
	bool dry = false;
	jv_get_bool(r, "dry_run", &dry);
	int64_t changes = 0;
	jv_get_int(r, "changes", &changes);
	if (changes == 0)
		fprintf(out, "host apply: nothing to change, every managed knob has its desired value\n");
	else if (dry)
		fprintf(out, "host apply (dry run): would write %" PRId64 " value(s); nothing was written\n", changes);
	else
		fprintf(out, "host apply: wrote %s value(s), each read back; originals journaled for 'host restore'\n",
			jv_int(r, "written"));
	json_object *items = array_at(r, "items");
	for (size_t i = 0; items && i < json_object_array_length(items); i++) {
		json_object *it = json_object_array_get_idx(items, i);
		if (strcmp(jv_str(it, "action"), "change") == 0)
			fprintf(out, "  %s: %s -> %s\n", jv_str(it, "key"), jv_str(it, "current"), jv_str(it, "desired"));
	}
}

void view_host_restore(json_object *r, FILE *out)
{
	bool dry = false;
	jv_get_bool(r, "dry_run", &dry);
	if (dry)
		fprintf(out, "host restore (dry run): would restore %s original value(s); nothing was written\n",
			jv_int(r, "journaled"));
	else
		fprintf(out, "host restore: restored %s original value(s)\n", jv_int(r, "restored"));
}
