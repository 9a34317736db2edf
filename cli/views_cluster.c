/* views_cluster.c - human-readable renderings of headroom, admit, place, failover-plan and cluster. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "render.h"
#include "views_cluster.h"

/* Signed KiB as "12.3 GiB" / "-1.0 GiB"; ring of buffers like render.c's. */
static const char *sk(json_object *o, const char *path)
{
	static char buf[8][32];
	static unsigned n;
	int64_t v;
	char *b = buf[n++ % 8];
	if (!jv_get_int(o, path, &v))
		return "-";
	uint64_t a = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
	snprintf(b, sizeof(buf[0]), "%s%s", v < 0 ? "-" : "", rd_kib(a));
	return b;
}

static json_object *arr(json_object *o, const char *path)
{
	json_object *v = jv_get(o, path);
	return v && json_object_is_type(v, json_type_array) ? v : NULL;
}

static void cluster_line(json_object *r, FILE *out)
{
	if (strcmp(jv_str(r, "mode"), "corosync") == 0)
		fprintf(out, "cluster: corosync node %s as %s, %s, %s, %s\n", jv_int(r, "nodeid"), jv_str(r, "local"),
			jv_bool(r, "connected", "connected", "DISCONNECTED"), jv_bool(r, "quorate", "quorate", "NOT quorate"),
			jv_bool(r, "synced", "ledger synced", "ledger syncing"));
	else
		fprintf(out, "cluster: standalone (answers for %s only)\n", jv_str(r, "local"));
}

void view_headroom(json_object *r, bool explain, FILE *out)
{
	bool valid = false;
	cluster_line(r, out);
	jv_get_bool(r, "headroom.valid", &valid);
	if (!valid) {
		fprintf(out, "headroom of %s: cannot say: %s\n", jv_str(r, "host"), jv_str(r, "headroom.why"));
		return;
	}
	fprintf(out, "headroom of %s:\n", jv_str(r, "host"));
	fprintf(out, "  now          %12s  a new VM gets this without reclaim\n", sk(r, "headroom.now_kib"));
	fprintf(out, "  reclaimable  %12s  plus balloon slack above the guests' floors\n",
		sk(r, "headroom.reclaimable_kib"));
	int64_t hps = 0;
	if (jv_get_int(r, "headroom.hugepage_size_kib", &hps) && hps > 0)
		fprintf(out, "  hugepages    %12s  free in the %s pool (hugepage-backed VMs only)\n",
			sk(r, "headroom.hugepages_free_kib"), sk(r, "headroom.hugepage_size_kib"));
	json_object *numa = arr(r, "headroom.numa");
	if (numa && json_object_array_length(numa) > 0) {
		fprintf(out, "  per NUMA node:");
		for (size_t i = 0; i < json_object_array_length(numa); i++) {
			json_object *n = json_object_array_get_idx(numa, i);
			fprintf(out, "  node%s %s", jv_int(n, "node"), sk(n, "now_kib"));
		}
		fputc('\n', out);
	}
	json_object *res = arr(r, "reservations");
	if (res && json_object_array_length(res) > 0)
		fprintf(out, "  reservations: %zu held against this host\n", json_object_array_length(res));
	if (!explain)
		return;
	static const char *const hdr[] = {"ADDS TO", "TERM", "KIB", "SIZE", "DETAIL"};
	struct tbl *t = tbl_new(hdr, 5);
	json_object *terms = arr(r, "headroom.terms");
	if (!t || !terms) {
		tbl_free(t);
		return;
	}
	tbl_align_right(t, 2);
	tbl_align_right(t, 3);
	for (size_t i = 0; i < json_object_array_length(terms); i++) {
		json_object *e = json_object_array_get_idx(terms, i);
		const char *row[] = {jv_str(e, "adds_to"), jv_str(e, "name"), jv_int(e, "kib"), sk(e, "kib"),
				     jv_str(e, "detail")};
		tbl_add_row(t, row);
	}
	fputc('\n', out);
	tbl_print(t, out);
	tbl_free(t);
	fprintf(out, "\nnow = the 'now' terms; reclaimable = now + the 'reclaimable' terms; hugepages are separate.\n");
}

void view_admit(json_object *r, FILE *out)
{
	const char *v = jv_str(r, "verdict");
	fprintf(out, "%s on %s: %s\n", strcmp(v, "unknown") == 0 ? "cannot say" : v, jv_str(r, "host"),
		jv_str(r, "reason"));
	if (jv_get(r, "reservation") && strcmp(v, "admit") == 0) {
		int64_t ttl = 0;
		jv_get_int(r, "ttl_ms", &ttl);
		fprintf(out, "reservation %s held for %s (until the VM appears or 'memoptctl release %s')\n",
			jv_str(r, "reservation"), rd_duration_s((uint64_t)(ttl / 1000)), jv_str(r, "reservation"));
	}
}

void view_place(json_object *r, FILE *out)
{
	cluster_line(r, out);
	if (jv_get(r, "why")) {
		fprintf(out, "cannot say: %s\n", jv_str(r, "why"));
		return;
	}
	static const char *const hdr[] = {"RANK", "HOST", "VERDICT", "NOW", "AFTER", "REASON"};
	struct tbl *t = tbl_new(hdr, 6);
	json_object *a = arr(r, "targets");
	if (!t || !a) {
		tbl_free(t);
		return;
	}
	tbl_align_right(t, 3);
	tbl_align_right(t, 4);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		char rank[24];
		bool ok = strcmp(jv_str(e, "verdict"), "admit") == 0;
		if (ok)
			snprintf(rank, sizeof(rank), "%zu", i + 1);
		else
			snprintf(rank, sizeof(rank), "-");
		const char *row[] = {rank, jv_str(e, "host"), jv_str(e, "verdict"), sk(e, "now_kib"),
				     ok ? sk(e, "now_after_kib") : "-", jv_str(e, "reason")};
		tbl_add_row(t, row);
	}
	tbl_print(t, out);
	tbl_free(t);
}

void view_failover(json_object *r, FILE *out)
{
	cluster_line(r, out);
	if (jv_get(r, "why")) {
		fprintf(out, "cannot say: %s\n", jv_str(r, "why"));
		return;
	}
	fprintf(out, "N+1 on real memory: %s\n", jv_bool(r, "n_plus_1", "yes, any one host can fail", "NO"));
	json_object *a = arr(r, "hosts");
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *h = json_object_array_get_idx(a, i);
		bool known = false;
		jv_get_bool(h, "known", &known);
		fprintf(out, "\nif %s fails: %s (its VMs need %s)\n", jv_str(h, "host"),
			!known ? "cannot say (no fresh report)" : jv_bool(h, "fits", "its VMs fit elsewhere", "its VMs do NOT all fit"),
			sk(h, "need_kib"));
		json_object *vms = arr(h, "vms");
		for (size_t k = 0; vms && k < json_object_array_length(vms); k++) {
			json_object *m = json_object_array_get_idx(vms, k);
			const char *to = jv_str(m, "to");
			fprintf(out, "  %-24s %12s -> %s\n", jv_str(m, "vm"), sk(m, "need_kib"), to[0] && strcmp(to, "-") ? to : "NOWHERE");
		}
	}
}

void view_cluster(json_object *r, FILE *out)
{
	cluster_line(r, out);
	static const char *const hdr[] = {"HOST", "MEMBER", "FRESH", "NOW", "RECLAIMABLE", "HUGEPAGES", "AGE", "VMS"};
	struct tbl *t = tbl_new(hdr, 8);
	json_object *a = arr(r, "hosts");
	if (!t || !a) {
		tbl_free(t);
		return;
	}
	for (size_t c = 3; c < 8; c++)
		tbl_align_right(t, c);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *h = json_object_array_get_idx(a, i);
		int64_t age = 0;
		char ages[32];
		jv_get_int(h, "age_ms", &age);
		snprintf(ages, sizeof(ages), "%.1fs", (double)age / 1000.0);
		const char *row[] = {jv_str(h, "name"),	    jv_bool(h, "member", "yes", "no"),
				     jv_bool(h, "fresh", "yes", "no"), sk(h, "now_kib"),
				     sk(h, "reclaimable_kib"),	     sk(h, "hugepages_free_kib"),
				     ages,			     jv_int(h, "vms")};
		tbl_add_row(t, row);
	}
	tbl_print(t, out);
	tbl_free(t);
	json_object *res = arr(r, "reservations");
	fprintf(out, "reservations: %zu; N+1: %s\n", res ? json_object_array_length(res) : 0,
		jv_bool(r, "n_plus_1", "yes", "no"));
}
