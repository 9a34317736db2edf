/* views.c - memoptctl's human-readable renderings of the daemon's replies (schemas in docs/protocol.md). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "render.h"
#include "views.h"

/* A percentage field as "12.34%", or "-". */
static const char *pct(json_object *o, const char *path, int decimals)
{
	double x;
	static char buf[4][32];
	static unsigned i;
	char *b;
	if (!jv_get_double(o, path, &x))
		return "-";
	b = buf[i++ % 4];
	snprintf(b, sizeof(buf[0]), "%.*f%%", decimals, x);
	return b;
}

static json_object *jv_array(json_object *o, const char *path)
{
	json_object *v = jv_get(o, path);
	return v && json_object_is_type(v, json_type_array) ? v : NULL;
}

void view_status(json_object *r, FILE *out)
{
	int64_t up, total, avail;
	json_object *mods;

	fprintf(out, "memoptd %s, pid %s, up %s\n", jv_str(r, "version"), jv_int(r, "pid"),
		jv_get_int(r, "uptime_s", &up) && up >= 0 ? rd_duration_s((uint64_t)up) : "-");
	fprintf(out, "  dry run:   %s\n",
		jv_bool(r, "dry_run", "yes (decisions are logged, nothing is changed)", "no"));
	fprintf(out, "  config:    %s\n", jv_str(r, "config"));
	fprintf(out, "  sysfs:     %s\n", jv_str(r, "sysfs_root"));
	fprintf(out, "  procfs:    %s\n", jv_str(r, "procfs_root"));
	if (jv_get_int(r, "host.mem_total_kib", &total) && jv_get_int(r, "host.mem_avail_kib", &avail) &&
	    total > 0 && avail >= 0)
		fprintf(out, "  memory:    %s available of %s (%.1f%%)\n", rd_kib((uint64_t)avail),
			rd_kib((uint64_t)total), 100.0 * (double)avail / (double)total);
	else
		fprintf(out, "  memory:    %s available of %s\n", jv_int(r, "host.mem_avail_kib"),
			jv_int(r, "host.mem_total_kib"));
	fprintf(out, "  pressure:  some %s, full %s (memory PSI, avg10)\n", pct(r, "host.psi_some_avg10", 2),
		pct(r, "host.psi_full_avg10", 2));
	if (jv_get(r, "journal"))
		fprintf(out, "  journal:   %s: %s\n", jv_str(r, "journal.state"), jv_str(r, "journal.detail"));

	json_object *cyc = jv_array(r, "loop.cycles");
	if (cyc && json_object_array_length(cyc) > 0) {
		fprintf(out, "  cycles:   ");
		for (size_t i = 0; i < json_object_array_length(cyc); i++) {
			json_object *c = json_object_array_get_idx(cyc, i);
			int64_t fired = 0, maxl = 0, over = 0;
			jv_get_int(c, "fired", &fired);
			jv_get_int(c, "max_late_ms", &maxl);
			jv_get_int(c, "overruns", &over);
			fprintf(out, "%s %s %lld run, max %lld ms late, %lld lost", i ? "," : "", jv_str(c, "name"),
				(long long)fired, (long long)maxl, (long long)over);
		}
		fputc('\n', out);
	}
	if (jv_get(r, "control"))
		fprintf(out, "  control:   %s of %s connections, %s evicted, %s timed out\n", jv_int(r, "control.connected"),
			jv_int(r, "control.max_clients"), jv_int(r, "control.evicted"), jv_int(r, "control.timed_out"));

	mods = jv_array(r, "modules");
	if (!mods) {
		fprintf(out, "  modules:   -\n");
		return;
	}
	static const char *const hdr[] = {"MODULE", "STATE", "DETAIL"};
	struct tbl *t = tbl_new(hdr, 3);
	if (!t)
		return;
	for (size_t i = 0; i < json_object_array_length(mods); i++) {
		json_object *m = json_object_array_get_idx(mods, i);
		const char *row[] = {jv_str(m, "name"), jv_str(m, "state"), jv_str(m, "detail")};
		tbl_add_row(t, row);
	}
	fputc('\n', out);
	tbl_print(t, out);
	tbl_free(t);
}

/* "key=value key=value" for every scalar member of an object, in the daemon's order. */
static void print_kv(json_object *o, FILE *out)
{
	bool first = true;
	if (!o || !json_object_is_type(o, json_type_object)) {
		fputs("-", out);
		return;
	}
	json_object_object_foreach(o, key, val)
	{
		fprintf(out, "%s%s=%s", first ? "" : " ", rd_safe(key), jv_scalar(val));
		first = false;
	}
	if (first)
		fputs("-", out);
}

static double vm_saved(json_object *vm)
{
	double x;
	return jv_get_double(vm, "saved_mib", &x) ? x : -1.0;
}

static int cmp_saved_desc(const void *a, const void *b)
{
	double x = vm_saved(*(json_object *const *)a), y = vm_saved(*(json_object *const *)b);
	return x < y ? 1 : x > y ? -1 : 0;
}

static void view_vms(json_object *vms, FILE *out)
{
	static const char *const hdr[] = {"NAME",    "PID",  "SAVED_MIB", "PROFIT_MIB",
					  "MERGING", "ZERO", "RMAP",	  "SOURCE"};
	size_t n = json_object_array_length(vms);
	json_object **v;
	struct tbl *t;
	double saved = 0, profit = 0, d;
	int64_t merging = 0, zero = 0, rmap = 0, x;
	char tot[5][32];

	if (n == 0) {
		fprintf(out, "\nno process has pages merged by KSM\n");
		return;
	}
	v = calloc(n, sizeof(*v));
	t = tbl_new(hdr, ELEMENTSOF(hdr));
	if (!v || !t) {
		free(v);
		tbl_free(t);
		return;
	}
	for (size_t c = 1; c <= 6; c++)
		tbl_align_right(t, c);
	for (size_t i = 0; i < n; i++)
		v[i] = json_object_array_get_idx(vms, i);
	qsort(v, n, sizeof(*v), cmp_saved_desc);
	for (size_t i = 0; i < n; i++) {
		const char *row[] = {jv_str(v[i], "name"),
				     jv_int(v[i], "pid"),
				     jv_double(v[i], "saved_mib", 1),
				     jv_double(v[i], "profit_mib", 1),
				     jv_int(v[i], "merging_pages"),
				     jv_int(v[i], "zero_pages"),
				     jv_int(v[i], "rmap_items"),
				     jv_str(v[i], "source")};
		tbl_add_row(t, row);
		if (jv_get_double(v[i], "saved_mib", &d))
			saved += d;
		if (jv_get_double(v[i], "profit_mib", &d))
			profit += d;
		if (jv_get_int(v[i], "merging_pages", &x))
			merging += x;
		if (jv_get_int(v[i], "zero_pages", &x))
			zero += x;
		if (jv_get_int(v[i], "rmap_items", &x))
			rmap += x;
	}
	snprintf(tot[0], sizeof(tot[0]), "%.1f", saved);
	snprintf(tot[1], sizeof(tot[1]), "%.1f", profit);
	snprintf(tot[2], sizeof(tot[2]), "%" PRId64, merging);
	snprintf(tot[3], sizeof(tot[3]), "%" PRId64, zero);
	snprintf(tot[4], sizeof(tot[4]), "%" PRId64, rmap);
	const char *total[] = {"TOTAL", "", tot[0], tot[1], tot[2], tot[3], tot[4], ""};
	tbl_add_row(t, total);
	fputc('\n', out);
	tbl_print(t, out);
	tbl_free(t);
	free(v);
}

void view_ksm(json_object *r, uint64_t now_mono_ms, FILE *out)
{
	bool avail;
	int64_t since, seq, run;
	json_object *vms;

	if (jv_get_bool(r, "available", &avail) && !avail) {
		fprintf(out, "KSM is not available on this host (no /sys/kernel/mm/ksm)\n");
		return;
	}
	fprintf(out, "ksm:          %s, mode %s, rate control %s\n",
		jv_bool(r, "managed", "managed", "report only (manage = no)"), jv_str(r, "mode"),
		jv_str(r, "rate_control"));
	fprintf(out, "dry run:      %s\n", jv_bool(r, "dry_run", "yes", "no"));

	fprintf(out, "controller:   %s", jv_str(r, "controller.state"));
	/* since_ms is CLOCK_MONOTONIC of the daemon, which is the host's: its age is comparable here. */
	if (jv_get_int(r, "controller.since_ms", &since) && since > 0 && (uint64_t)since <= now_mono_ms)
		fprintf(out, " for %s", rd_duration_s((now_mono_ms - (uint64_t)since) / 1000));
	if (jv_get(r, "controller.credit_cpu_s"))
		fprintf(out, ", CPU credit %s s", jv_double(r, "controller.credit_cpu_s", 1));
	if (jv_get(r, "controller.full_scan_pages"))
		fprintf(out, ", last full scan %s pages", jv_int(r, "controller.full_scan_pages"));
	if (jv_get(r, "controller.last_scan_yield_kib_per_cpu_s"))
		fprintf(out, ", yield %s KiB/CPU-s", jv_int(r, "controller.last_scan_yield_kib_per_cpu_s"));
	if (jv_get(r, "controller.cost_ns_per_page"))
		fprintf(out, ", %s ns/page", jv_int(r, "controller.cost_ns_per_page"));
	fputc('\n', out);

	fprintf(out, "last action:  ");
	{
		int64_t t = 0;
		const char *action = jv_str(r, "controller.last_decision.action");
		bool have_time = jv_get_int(r, "controller.last_decision.time_ms", &t);
		/* time 0 and an empty action: the controller has not acted since the daemon started */
		if (have_time && t <= 0 && !action[0]) {
			fprintf(out, "none yet\n");
		} else {
			if (jv_get_int(r, "controller.last_decision.seq", &seq))
				fprintf(out, "#%" PRId64 " ", seq);
			fprintf(out, "%s %s\n", have_time ? rd_clock(t) : "-", action[0] ? action : "-");
		}
	}
	fprintf(out, "  because:    %s\n", jv_str(r, "controller.last_decision.reason"));
	if (jv_get(r, "controller.write_failed"))
		fprintf(out, "  FAILED:     %s (retried every cycle)\n", jv_str(r, "controller.write_failed"));

	fprintf(out, "sharing:      shared %s MiB, saved %s MiB, profit %s MiB, mergeable (est.) %s MiB\n",
		jv_double(r, "host.shared_mib", 1), jv_double(r, "host.saved_mib", 1),
		jv_double(r, "host.general_profit_mib", 1), jv_double(r, "host.mergeable_est_mib", 1));
	double copied;
	if (jv_get_double(r, "host.copied_est_mib", &copied) && copied >= 0.05)
		fprintf(out, "              of the saved, ~%s MiB already copied again by writes (churn), so ~%s MiB "
			"really saved\n", jv_double(r, "host.copied_est_mib", 1), jv_double(r, "host.saved_est_mib", 1));
	if (!jv_get_int(r, "host.run", &run))
		run = -1;
	fprintf(out, "ksmd:         %s, %s pages/s, %s of a CPU, %s full scans, %s pages scanned",
		run == 1   ? "running"
		: run == 0 ? "stopped"
		: run == 2 ? "unmerging (run=2)"
			   : "-",
		jv_double(r, "host.scan_rate_pages_s", 1), pct(r, "host.ksmd_cpu_percent", 1),
		jv_int(r, "host.full_scans"), jv_int(r, "host.pages_scanned"));
	/* optional fields: only on kernels or daemons that have them */
	if (jv_get(r, "host.churn_pages_s"))
		fprintf(out, ", churn %s pages/s", jv_int(r, "host.churn_pages_s"));
	fputc('\n', out);
	fprintf(out, "pages:        shared=%s sharing=%s unshared=%s volatile=%s zero=%s",
		jv_int(r, "host.pages_shared"), jv_int(r, "host.pages_sharing"),
		jv_int(r, "host.pages_unshared"), jv_int(r, "host.pages_volatile"),
		jv_int(r, "host.ksm_zero_pages"));
	if (jv_get(r, "host.pages_skipped"))
		fprintf(out, " skipped=%s", jv_int(r, "host.pages_skipped"));
	if (jv_get(r, "host.stable_node_chains"))
		fprintf(out, " stable_node_chains=%s", jv_int(r, "host.stable_node_chains"));
	if (jv_get(r, "host.stable_node_dups"))
		fprintf(out, " stable_node_dups=%s", jv_int(r, "host.stable_node_dups"));
	fputc('\n', out);
	fprintf(out, "knobs:        ");
	print_kv(jv_get(r, "knobs"), out);
	fputc('\n', out);

	vms = jv_array(r, "vms");
	if (vms)
		view_vms(vms, out);
	else
		fprintf(out, "\nper-process sharing: -\n");
}

void view_log(json_object *r, FILE *out)
{
	static const char *const hdr[] = {"SEQ", "TIME", "SUBSYS", "ACTION", "REASON"};
	json_object *entries = jv_array(r, "entries");
	struct tbl *t;

	if (!entries) {
		fprintf(out, "-\n");
		return;
	}
	if (json_object_array_length(entries) == 0) {
		fprintf(out, "no decisions recorded\n");
		return;
	}
	t = tbl_new(hdr, 5);
	if (!t)
		return;
	tbl_align_right(t, 0);
	for (size_t i = 0; i < json_object_array_length(entries); i++) {
		json_object *e = json_object_array_get_idx(entries, i);
		int64_t ms;
		bool dry;
		char action[1100];
		snprintf(action, sizeof(action), "%s%s",
			 jv_get_bool(e, "dry_run", &dry) && dry ? "[dry-run] " : "", jv_str(e, "action"));
		const char *row[] = {jv_int(e, "seq"), jv_get_int(e, "time_ms", &ms) ? rd_clock(ms) : "-",
				     jv_str(e, "subsys"), action, jv_str(e, "reason")};
		tbl_add_row(t, row);
	}
	tbl_print(t, out);
	tbl_free(t);
}

void view_help(json_object *r, FILE *out)
{
	static const char *const hdr[] = {"COMMAND", "CHANGES HOST", "ARGUMENTS"};
	json_object *cmds = jv_array(r, "commands");
	struct tbl *t;

	if (!cmds) {
		fprintf(out, "-\n");
		return;
	}
	t = tbl_new(hdr, 3);
	if (!t)
		return;
	for (size_t i = 0; i < json_object_array_length(cmds); i++) {
		json_object *c = json_object_array_get_idx(cmds, i);
		const char *args = jv_str(c, "args");
		const char *row[] = {jv_str(c, "name"), jv_bool(c, "mutating", "yes", "no"),
				     args[0] ? args : ""};
		tbl_add_row(t, row);
	}
	tbl_print(t, out);
	tbl_free(t);
	fprintf(out, "\nyou may run commands that change the host: %s\n",
		jv_bool(r, "may_mutate", "yes", "no"));
}

/* A size field in KiB as "1.5 GiB"; "-" when missing, or when zero and zero_dash is set. */
static const char *kib_field(json_object *o, const char *path, bool zero_dash)
{
	int64_t v;
	if (!jv_get_int(o, path, &v) || v < 0 || (zero_dash && v == 0))
		return "-";
	return rd_kib((uint64_t)v);
}

static void guests_header(json_object *r, FILE *out)
{
	int64_t total, avail, goal, rel;
	bool managed, dry;

	fprintf(out, "balloon:   %s", jv_str(r, "connection.state"));
	if (jv_get(r, "connection.detail"))
		fprintf(out, " (%s)", jv_str(r, "connection.detail"));
	fprintf(out, " to %s, %s%s\n", jv_str(r, "connection.uri"),
		jv_get_bool(r, "managed", &managed) && managed ? "managed" : "report only (manage = no)",
		jv_get_bool(r, "dry_run", &dry) && dry ? ", dry-run" : "");
	if (jv_get(r, "connection.last_error"))
		fprintf(out, "  last libvirt error: %s\n", jv_str(r, "connection.last_error"));
	if (jv_get_int(r, "host.total_kib", &total) && jv_get_int(r, "host.avail_kib", &avail) && total > 0 &&
	    avail >= 0) {
		fprintf(out, "host:      %s available of %s (%.1f%%)", rd_kib((uint64_t)avail), rd_kib((uint64_t)total),
			100.0 * (double)avail / (double)total);
		if (jv_get_int(r, "host.goal_avail_kib", &goal) && jv_get_int(r, "host.release_avail_kib", &rel) &&
		    goal >= 0 && rel >= 0)
			fprintf(out, ", goal >= %s, give back above %s", rd_kib((uint64_t)goal), rd_kib((uint64_t)rel));
		fprintf(out, ": %s", jv_str(r, "host.goal"));
		if (jv_get(r, "host.psi_some_avg10"))
			fprintf(out, ", PSI some %s%%", jv_double(r, "host.psi_some_avg10", 2));
		fputc('\n', out);
		fprintf(out, "decision:  %s\n", jv_str(r, "host.summary"));
	} else {
		fprintf(out, "host:      - (no cycle yet)\n");
	}
}

static int cmp_name(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
	json_object *nx = jv_get(x, "name"), *ny = jv_get(y, "name");
	const char *sx = nx && json_object_is_type(nx, json_type_string) ? json_object_get_string(nx) : "";
	const char *sy = ny && json_object_is_type(ny, json_type_string) ? json_object_get_string(ny) : "";
	return strcmp(sx, sy);
}

/* "HH:MM:SS <decision>". The policy's reasons start with their verdict and sizes ("grow 512M -> 768M:
 * ..."), so an action that only repeats them ("[dry-run] grow 512.0 -> 768.0 MiB") keeps just its prefix. */
static void decision_text(json_object *g, char *buf, size_t len)
{
	char act[700], verdict[32];
	const char *reason, *at = NULL;
	int64_t t_ms;
	size_t o;

	snprintf(act, sizeof(act), "%s", jv_str(g, "last_decision.action"));
	reason = jv_str(g, "last_decision.reason");
	snprintf(verdict, sizeof(verdict), "%.*s", (int)strcspn(reason, " "), reason);
	o = (size_t)snprintf(buf, len, "%s ", jv_get_int(g, "last_decision.time_ms", &t_ms) ? rd_clock(t_ms) : "-");
	if (o >= len)
		return;
	for (const char *p = act; verdict[0] && (p = strstr(p, verdict)); p++)
		if ((p == act || p[-1] == ' ') && (p[strlen(verdict)] == ' ' || !p[strlen(verdict)])) {
			at = p;
			break;
		}
	if (strcmp(act, "keep") == 0)
		snprintf(buf + o, len - o, "%s", reason);
	else if (at && !strchr(at, ':'))
		snprintf(buf + o, len - o, "%.*s%s", (int)(at - act), act, reason);
	else
		snprintf(buf + o, len - o, "%s: %s", act, reason);
}

void view_guests(json_object *r, FILE *out)
{
	static const char *const hdr[] = {"NAME",	"ACTUAL",   "FLOOR",	 "MAX",	 "TARGET",
					  "USABLE", "SWAPIN/s", "MAJFLT/s", "KSM_SAVED", "LAST DECISION"};
	json_object *guests, **v;
	bool avail, manual = false;
	struct tbl *t;
	size_t n;

	if (jv_get_bool(r, "available", &avail) && !avail) {
		fprintf(out, "the balloon controller is not running in this memoptd\n");
		return;
	}
	guests_header(r, out);
	guests = jv_array(r, "guests");
	if (!guests || json_object_array_length(guests) == 0) {
		fprintf(out, "\nno running guests\n");
		return;
	}
	n = json_object_array_length(guests);
	v = calloc(n, sizeof(*v));
	t = tbl_new(hdr, ELEMENTSOF(hdr));
	if (!v || !t) {
		free(v);
		tbl_free(t);
		return;
	}
	for (size_t c = 1; c <= 8; c++)
		tbl_align_right(t, c);
	for (size_t i = 0; i < n; i++)
		v[i] = json_object_array_get_idx(guests, i);
	qsort(v, n, sizeof(*v), cmp_name);
	for (size_t i = 0; i < n; i++) {
		json_object *g = v[i];
		char name[300], target[64], decision[1500];
		const char *flags = "";
		int64_t mt;
		bool b;

		if (jv_get_bool(g, "managed", &b) && !b)
			flags = " [opted out]";
		else if (jv_get_bool(g, "has_balloon", &b) && !b)
			flags = " [no balloon]";
		else if (jv_get_bool(g, "balloon_ok", &b) && !b)
			flags = " [no balloon driver]";
		else if (jv_get_bool(g, "stats_fresh", &b) && !b)
			flags = " [stale stats]";
		snprintf(name, sizeof(name), "%s%s", jv_str(g, "name"), flags);
		if (jv_get_int(g, "manual_target_kib", &mt) && mt > 0) {
			snprintf(target, sizeof(target), "%s*", rd_kib((uint64_t)mt));
			manual = true;
		} else {
			snprintf(target, sizeof(target), "%s", kib_field(g, "target_kib", true));
		}
		decision_text(g, decision, sizeof(decision));
		const char *row[] = {name,
				     kib_field(g, "actual_kib", false),
				     kib_field(g, "floor_kib", false),
				     kib_field(g, "max_kib", false),
				     target,
				     kib_field(g, "usable_kib", false),
				     kib_field(g, "swap_in_kib_s", false),
				     jv_int(g, "major_faults_s"),
				     kib_field(g, "ksm_saved_kib", false),
				     decision};
		tbl_add_row(t, row);
	}
	fputc('\n', out);
	tbl_print(t, out);
	tbl_free(t);
	free(v);
	if (manual)
		fprintf(out, "\n* manual target (memoptctl balloon release NAME gives control back to memoptd)\n");
}

void view_balloon_result(json_object *r, const char *verb, FILE *out)
{
	int64_t mt;
	if (strcmp(verb, "set") == 0 && jv_get_int(r, "manual_target_kib", &mt) && mt > 0)
		fprintf(out, "%s: manual target %s (floor %s from %s, max %s); memoptd moves the balloon there\n",
			jv_str(r, "name"), rd_kib((uint64_t)mt), kib_field(r, "floor_kib", false), jv_str(r, "floor_source"),
			kib_field(r, "max_kib", false));
	else
		fprintf(out, "%s: manual target released; memoptd decides its size again (now %s)\n", jv_str(r, "name"),
			kib_field(r, "actual_kib", false));
}
