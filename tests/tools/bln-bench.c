/* bln-bench.c - cost probes of the balloon controller for bench/balloon-bench.sh: bln_decide alone on synthetic guests, the libvirt adapter's listing, whole in-process cycles, and a CPU/RSS watcher for a running memoptd. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "balloon/bln_ctl.h"
#include "balloon/bln_policy.h"
#include "balloon/bln_virt.h"
#include "common/cleanup.h"
#include "common/config.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/units.h"
#include "common/virtloop.h"

/* Exit codes: 0 measured, 1 the measurement failed (reason on stderr), 2 usage. */
enum { BB_EXIT_OK = 0, BB_EXIT_FAIL = 1, BB_EXIT_USAGE = 2 };

#define BB_MIB 1024ULL
#define BB_GIB (1024ULL * 1024ULL)
#define BB_MAX_SAMPLES 100000

struct bb_opts {
	const char *uri;
	const char *procfs_root;
	const char *scenario;
	const char *bursts_path; /* watch: one line per burst */
	size_t guests;
	size_t cycles;
	uint64_t seed;
	uint64_t gap_ms;  /* cycle: pause between cycles; watch: idle time that ends a burst */
	uint64_t poll_ms; /* watch */
	uint64_t seconds; /* watch */
	pid_t pid;	  /* watch */
};

/* ---- small helpers ---- */

static uint64_t bb_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int bb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array (p in 0..100). */
static double bb_pct(const double *v, size_t n, double p)
{
	size_t k;
	if (n == 0)
		return 0;
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

/* "PREFIXp50_ms=.. PREFIXp99_ms=.. ..." of n samples in ms (sorts v). */
static void bb_print_stats(const char *prefix, double *v, size_t n)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	qsort(v, n, sizeof(*v), bb_cmp_double);
	printf("%sp50_ms=%.3f %sp99_ms=%.3f %smax_ms=%.3f %smean_ms=%.3f %smin_ms=%.3f", prefix, bb_pct(v, n, 50),
	       prefix, bb_pct(v, n, 99), prefix, n ? v[n - 1] : 0.0, prefix, n ? sum / (double)n : 0.0, prefix,
	       n ? v[0] : 0.0);
}

struct bb_mem {
	uint64_t rss_kib, hwm_kib, anon_kib, file_kib;
};

/* VmRSS, VmHWM, RssAnon, RssFile of /proc/<pid>/status in KiB (pid 0 = self). Returns 0 or -errno. */
static int bb_mem_read(pid_t pid, struct bb_mem *ret)
{
	char path[64], line[256];
	struct bb_mem m = {0};
	bool have = false;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		if (sscanf(line, "VmRSS: %llu kB", &v) == 1) {
			m.rss_kib = v;
			have = true;
		} else if (sscanf(line, "VmHWM: %llu kB", &v) == 1) {
			m.hwm_kib = v;
		} else if (sscanf(line, "RssAnon: %llu kB", &v) == 1) {
			m.anon_kib = v;
		} else if (sscanf(line, "RssFile: %llu kB", &v) == 1) {
			m.file_kib = v;
		}
	}
	if (!have)
		return -ENODATA;
	*ret = m;
	return 0;
}

/* Pss of /proc/<pid>/smaps_rollup in KiB: shared library pages divided among the processes mapping
 * them. Returns 0 or -errno. */
static int bb_pss_kib(pid_t pid, uint64_t *ret)
{
	char path[64], line[256];

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		if (sscanf(line, "Pss: %llu kB", &v) == 1) {
			*ret = v;
			return 0;
		}
	}
	return -ENODATA;
}

/* "NAME_rss_kib=.. NAME_anon_kib=.." of this process. */
static void bb_print_self_mem(const char *name)
{
	struct bb_mem m = {0};
	bb_mem_read(0, &m);
	printf(" %s_rss_kib=%" PRIu64 " %s_anon_kib=%" PRIu64, name, m.rss_kib, name, m.anon_kib);
}

/* xorshift64*: deterministic synthetic guests for a given seed. */
static uint64_t bb_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 2685821657736338717ULL;
}

static uint64_t bb_between(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return hi <= lo ? lo : lo + bb_rand(s) % (hi - lo + 1);
}

/* ---- decide: bln_decide alone ---- */

/* The policy configuration memoptd derives from the built-in [balloon] defaults. */
static void bb_policy_cfg(uint64_t total_kib, struct bln_policy_cfg *p)
{
	struct memopt_config cfg;

	cfg_defaults(&cfg);
	bln_policy_cfg_from(&cfg.balloon, total_kib, p);
}

/* Guests of 1..16 GiB at 50..100 % of their max, floors 25..50 %, MemAvailable 5..60 % of actual,
 * shares 500/1000/2000; 3 % without a driver, 3 % with stale stats. Scenarios:
 *   short      host MemAvailable 5 % of MemTotal below the goal: a large reclaim spread over all
 *   room       host MemAvailable 10 % above the release line: growth budget spread over all
 *   pressured  as short, and 10 % of the guests under pressure (usable < guest_low_usable)
 *   band       host inside [goal, release): every guest kept, with its reason */
static int bb_synth(const char *scenario, uint64_t seed, struct bln_guest *g, size_t n, struct bln_host *h,
		    struct bln_policy_cfg *p)
{
	static const uint32_t shares[] = {500, 1000, 2000};
	uint64_t s = seed, sum_max = 0;
	bool pressured = strcmp(scenario, "pressured") == 0;

	for (size_t i = 0; i < n; i++) {
		struct bln_guest *x = &g[i];
		memset(x, 0, sizeof(*x));
		snprintf(x->name, sizeof(x->name), "bench-%05zu", i);
		x->managed = true;
		x->balloon_ok = bb_between(&s, 0, 99) >= 3;
		x->stats_fresh = bb_between(&s, 0, 99) >= 3;
		x->max_kib = bb_between(&s, 1, 16) * BB_GIB;
		x->actual_kib = x->max_kib / 100 * bb_between(&s, 50, 100);
		x->floor_kib = x->max_kib / 100 * bb_between(&s, 25, 50);
		x->usable_kib = x->actual_kib / 100 * bb_between(&s, 5, 60);
		x->disk_caches_kib = x->usable_kib / 2;
		x->shares = shares[bb_between(&s, 0, 2)];
		if (pressured && bb_between(&s, 0, 9) == 0)
			x->usable_kib = bb_between(&s, 0, 63) * BB_MIB;
		sum_max += x->max_kib;
	}
	memset(h, 0, sizeof(*h));
	h->total_kib = sum_max + sum_max / 10;
	h->psi_available = true;
	bb_policy_cfg(h->total_kib, p);
	if (strcmp(scenario, "short") == 0 || pressured)
		h->avail_kib = p->host_min_avail_kib - h->total_kib / 20;
	else if (strcmp(scenario, "room") == 0)
		h->avail_kib = p->host_release_avail_kib + h->total_kib / 10;
	else if (strcmp(scenario, "band") == 0)
		h->avail_kib = (p->host_min_avail_kib + p->host_release_avail_kib) / 2;
	else
		return -EINVAL;
	return 0;
}

static int bb_decide(const struct bb_opts *o)
{
	_cleanup_free_ struct bln_guest *g = calloc(o->guests + 1, sizeof(*g));
	_cleanup_free_ struct bln_change *ch = calloc(o->guests + 1, sizeof(*ch));
	_cleanup_free_ char(*keep)[BLN_REASON_MAX] = calloc(o->guests + 1, sizeof(*keep));
	_cleanup_free_ double *ms = calloc(o->cycles + 1, sizeof(*ms));
	uint64_t changes = 0;
	struct bln_decision d = {0};
	struct bln_policy_cfg p;
	struct bln_host h;

	if (!g || !ch || !keep || !ms)
		return -ENOMEM;
	for (size_t c = 0; c < o->cycles; c++) {
		/* A new draw per cycle (not timed), so the percentiles span many guest mixes. */
		if (bb_synth(o->scenario, o->seed + c, g, o->guests, &h, &p) < 0)
			return -EINVAL;
		d = (struct bln_decision){.changes = ch};
		uint64_t t0 = bb_ns(CLOCK_THREAD_CPUTIME_ID);
		bln_decide(&p, &h, g, o->guests, &d, keep);
		ms[c] = (double)(bb_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / 1e6;
		changes += d.n;
	}
	printf("decide scenario=%s guests=%zu cycles=%zu changes_per_cycle=%.1f ", o->scenario, o->guests,
	       o->cycles, o->cycles ? (double)changes / (double)o->cycles : 0.0);
	bb_print_stats("", ms, o->cycles);
	bb_print_self_mem("self");
	printf("\n");
	printf("decide summary of the last cycle: %s\n", d.summary);
	return 0;
}

/* ---- list: the adapter's listing (virConnectListAllDomains + per-domain stats) ---- */

static int bb_loop_up(void)
{
	int r = ev_init();
	if (r < 0)
		return r;
	return vloop_register();
}

static int bb_list(const struct bb_opts *o)
{
	struct bvirt_opts vo = {.uri = o->uri, .stats_period_s = 2};
	_cleanup_free_ double *ms = calloc(o->cycles + 1, sizeof(*ms));
	struct bvirt *v = NULL;
	struct bb_mem m0 = {0}, m_conn = {0}, m_first = {0}, m_end = {0};
	uint64_t t0;
	double first_ms;
	size_t n = 0;
	int r;

	if (!ms)
		return -ENOMEM;
	bb_mem_read(0, &m0);
	r = bb_loop_up();
	if (r < 0)
		return r;
	r = bvirt_new(&vo, NULL, NULL, &v);
	if (r < 0)
		return r;
	if (!bvirt_is_connected(v)) {
		fprintf(stderr, "bln-bench: cannot connect to %s: %s\n", o->uri, bvirt_last_error(v));
		bvirt_free(v);
		return -ECONNREFUSED;
	}
	bb_mem_read(0, &m_conn);
	/* The first listing reads every domain's XML, metadata and pid; later ones use the cache. */
	{
		_cleanup_free_ struct bvirt_dom *doms = NULL;
		t0 = bb_ns(CLOCK_PROCESS_CPUTIME_ID);
		r = bvirt_list(v, &doms, &n);
		first_ms = (double)(bb_ns(CLOCK_PROCESS_CPUTIME_ID) - t0) / 1e6;
	}
	bb_mem_read(0, &m_first);
	for (size_t c = 0; c < o->cycles && r >= 0; c++) {
		_cleanup_free_ struct bvirt_dom *doms = NULL;
		t0 = bb_ns(CLOCK_PROCESS_CPUTIME_ID);
		r = bvirt_list(v, &doms, &n);
		ms[c] = (double)(bb_ns(CLOCK_PROCESS_CPUTIME_ID) - t0) / 1e6;
	}
	if (r < 0) {
		fprintf(stderr, "bln-bench: listing failed: %s\n", bvirt_last_error(v));
		bvirt_free(v);
		return r;
	}
	printf("list domains=%zu cycles=%zu first_ms=%.3f ", n, o->cycles, first_ms);
	bb_print_stats("", ms, o->cycles);
	bb_mem_read(0, &m_end);
	printf(" rss_start_kib=%" PRIu64 " rss_connected_kib=%" PRIu64 " rss_listed_kib=%" PRIu64
	       " rss_end_kib=%" PRIu64 " anon_start_kib=%" PRIu64 " anon_connected_kib=%" PRIu64
	       " anon_end_kib=%" PRIu64 "\n",
	       m0.rss_kib, m_conn.rss_kib, m_first.rss_kib, m_end.rss_kib, m0.anon_kib, m_conn.anon_kib,
	       m_end.anon_kib);
	bvirt_free(v);
	vloop_fini();
	ev_fini();
	return 0;
}

/* ---- cycle: memoptd's whole balloon cycle (bln_cycle) in this process, on the real loop ---- */

static struct {
	const struct bb_opts *o;
	double *ms;
	size_t done;
	uint64_t sets;
	uint64_t seq;
	int rc;
} BC;

static uint64_t bb_count_sets(void)
{
	static struct dlog_entry e[DLOG_RING_SIZE];
	size_t n = dlog_get(e, DLOG_RING_SIZE, BC.seq);
	uint64_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(e[i].subsys, "balloon") == 0)
			k++;
		BC.seq = e[i].seq;
	}
	return k;
}

static void bb_on_tick(void *data)
{
	(void)data;
	uint64_t t0 = bb_ns(CLOCK_PROCESS_CPUTIME_ID);
	bln_cycle();
	BC.ms[BC.done++] = (double)(bb_ns(CLOCK_PROCESS_CPUTIME_ID) - t0) / 1e6;
	BC.sets += bb_count_sets();
	if (BC.done >= BC.o->cycles)
		ev_quit(0);
	else if (ev_add_timeout(BC.o->gap_ms, bb_on_tick, NULL) < 0)
		ev_quit(1);
}

static void bb_on_start(void *data)
{
	(void)data;
	struct bln_view view;
	/* bln_init's own first cycle (delay 0) has run by now: it built the domain cache. */
	bool up = bln_get_view(&view);
	if (!up || !view.connected || view.n == 0) {
		fprintf(stderr, "bln-bench: the balloon module sees no domains (%s): %s\n",
			!up ? "not running" : view.connected ? "connected" : "not connected", up ? view.error : "");
		BC.rc = -ENODATA;
		ev_quit(1);
		return;
	}
	bb_count_sets();
	if (ev_add_timeout(BC.o->gap_ms, bb_on_tick, NULL) < 0)
		ev_quit(1);
}

static int bb_cycle_run(const struct bb_opts *o)
{
	static struct memopt_config cfg;
	char err[512];
	struct bb_mem m0 = {0}, m_conn = {0}, m_end = {0};
	struct bln_view view;
	int r;

	bb_mem_read(0, &m0);
	cfg_defaults(&cfg);
	cfg.daemon.log_level = LOG_WARNING;
	snprintf(cfg.daemon.procfs_root, sizeof(cfg.daemon.procfs_root), "%s", o->procfs_root);
	cfg.balloon.manage = true;
	snprintf(cfg.balloon.uri, sizeof(cfg.balloon.uri), "%s", o->uri);
	/* Only our ticks run cycles: the module's own timer fires once at start, then after 60 s. */
	cfg.balloon.interval_ms = 60000;
	if (cfg_validate(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "bln-bench: configuration refused: %s\n", err);
		return -EINVAL;
	}
	log_setup(LOG_TARGET_STDERR, LOG_WARNING);
	r = bb_loop_up();
	if (r < 0)
		return r;
	r = bln_init(&cfg);
	if (r < 0)
		return r;
	bb_mem_read(0, &m_conn);
	if (ev_add_timeout(200, bb_on_start, NULL) < 0)
		return -ENOMEM;
	r = ev_run();
	bb_mem_read(0, &m_end);
	if (r != 0 || BC.rc < 0 || BC.done == 0) {
		bln_fini();
		return BC.rc < 0 ? BC.rc : -EIO;
	}
	bln_get_view(&view);
	printf("cycle domains=%zu cycles=%zu sets_per_cycle=%.1f ", view.n, BC.done,
	       (double)BC.sets / (double)BC.done);
	bb_print_stats("", BC.ms, BC.done);
	printf(" rss_start_kib=%" PRIu64 " rss_connected_kib=%" PRIu64 " rss_end_kib=%" PRIu64
	       " anon_start_kib=%" PRIu64 " anon_connected_kib=%" PRIu64 " anon_end_kib=%" PRIu64 "\n",
	       m0.rss_kib, m_conn.rss_kib, m_end.rss_kib, m0.anon_kib, m_conn.anon_kib, m_end.anon_kib);
	printf("cycle summary of the last cycle: %s\n", view.summary);
	bln_fini();
	vloop_fini();
	ev_fini();
	return 0;
}

static int bb_cycle(const struct bb_opts *o)
{
	int r;
	BC.o = o;
	BC.ms = calloc(o->cycles + 1, sizeof(*BC.ms));
	if (!BC.ms)
		return -ENOMEM;
	r = bb_cycle_run(o);
	free(BC.ms);
	BC.ms = NULL;
	return r;
}

/* ---- watch: CPU bursts of a running process (one burst = one control cycle) ---- */

/* Sum of the on-CPU time (ns) of every thread, from /proc/<pid>/task/<tid>/schedstat. Returns 0 or -errno. */
static int bb_task_runtime_ns(pid_t pid, uint64_t *ret)
{
	char path[64];
	uint64_t sum = 0;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	_cleanup_closedir_ DIR *d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char p[128], buf[128];
		unsigned long long run;
		ssize_t n;
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/proc/%d/task/%.20s/schedstat", (int)pid, de->d_name);
		_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* thread gone */
		n = read(fd, buf, sizeof(buf) - 1);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (sscanf(buf, "%llu", &run) == 1)
			sum += run;
	}
	*ret = sum;
	return 0;
}

/* utime + stime of /proc/<pid>/stat in clock ticks; the fields are counted after the last ')', since
 * comm may hold anything. Returns 0 or -errno. */
static int bb_stat_ticks(pid_t pid, uint64_t *ret)
{
	char path[64], buf[2048];
	unsigned long long ut, st;
	const char *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -ENODATA;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	/* after ") ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -EINVAL;
	*ret = ut + st;
	return 0;
}

static int bb_watch(const struct bb_opts *o)
{
	_cleanup_free_ double *burst = calloc(BB_MAX_SAMPLES, sizeof(*burst));
	_cleanup_fclose_ FILE *bf = NULL;
	uint64_t run0, run, last_run, ticks0, ticks1, start, now, deadline, burst_start = 0, last_change = 0;
	struct bb_mem m = {0};
	uint64_t pss = 0;
	long hz = sysconf(_SC_CLK_TCK);
	bool in_burst = false;
	size_t nb = 0;

	if (!burst)
		return -ENOMEM;
	if (o->bursts_path) {
		bf = fopen(o->bursts_path, "we");
		if (!bf)
			return -errno;
	}
	if (bb_task_runtime_ns(o->pid, &run0) < 0 || bb_stat_ticks(o->pid, &ticks0) < 0)
		return -ESRCH;
	last_run = run0;
	start = bb_ns(CLOCK_MONOTONIC);
	deadline = start + o->seconds * 1000000000ULL;
	while ((now = bb_ns(CLOCK_MONOTONIC)) < deadline) {
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(o->poll_ms * 1000000ULL)};
		nanosleep(&ts, NULL);
		now = bb_ns(CLOCK_MONOTONIC);
		if (bb_task_runtime_ns(o->pid, &run) < 0)
			return -ESRCH;
		if (run > last_run) {
			if (!in_burst) {
				in_burst = true;
				burst_start = last_run;
			}
			last_change = now;
			last_run = run;
		} else if (in_burst && now - last_change >= o->gap_ms * 1000000ULL) {
			in_burst = false;
			if (nb < BB_MAX_SAMPLES)
				burst[nb++] = (double)(last_run - burst_start) / 1e6;
			if (bf)
				fprintf(bf, "%.3f %.3f\n", (double)(last_change - start) / 1e9,
					(double)(last_run - burst_start) / 1e6);
		}
	}
	if (bb_stat_ticks(o->pid, &ticks1) < 0 || bb_task_runtime_ns(o->pid, &run) < 0)
		return -ESRCH;
	bb_mem_read(o->pid, &m);
	if (bb_pss_kib(o->pid, &pss) < 0)
		pss = 0;
	printf("watch pid=%d seconds=%" PRIu64 " bursts=%zu ", (int)o->pid, o->seconds, nb);
	bb_print_stats("burst_", burst, nb);
	printf(" stat_cpu_ms=%.1f sched_cpu_ms=%.3f hz=%ld rss_kib=%" PRIu64 " hwm_kib=%" PRIu64
	       " anon_kib=%" PRIu64 " file_kib=%" PRIu64 " pss_kib=%" PRIu64 "\n",
	       (double)(ticks1 - ticks0) * 1000.0 / (double)(hz > 0 ? hz : 100), (double)(run - run0) / 1e6,
	       hz, m.rss_kib, m.hwm_kib, m.anon_kib, m.file_kib, pss);
	return 0;
}

/* ---- command line ---- */

static void bb_usage(FILE *out)
{
	fprintf(out,
		"Usage: bln-bench decide [--guests N] [--cycles N] [--scenario short|room|pressured|band] [--seed S]\n"
		"       bln-bench list --uri URI [--cycles N]\n"
		"       bln-bench cycle --uri URI --procfs-root DIR [--cycles N] [--gap-ms MS]\n"
		"       bln-bench watch --pid PID --seconds S [--poll-ms MS] [--gap-ms MS] [--bursts FILE]\n"
		"Prints one line of key=value results (times are CPU time in ms). Exit 0 measured, 1 failed, 2 usage.\n");
}

static int bb_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return -EINVAL;
	*ret = v;
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_URI = 256, O_PROCFS, O_SCEN, O_GUESTS, O_CYCLES, O_SEED, O_GAP, O_POLL, O_SECS, O_PID, O_BURSTS };
	static const struct option opts[] = {
	    {"uri", required_argument, NULL, O_URI},	     {"procfs-root", required_argument, NULL, O_PROCFS},
	    {"scenario", required_argument, NULL, O_SCEN},   {"guests", required_argument, NULL, O_GUESTS},
	    {"cycles", required_argument, NULL, O_CYCLES},   {"seed", required_argument, NULL, O_SEED},
	    {"gap-ms", required_argument, NULL, O_GAP},	     {"poll-ms", required_argument, NULL, O_POLL},
	    {"seconds", required_argument, NULL, O_SECS},    {"pid", required_argument, NULL, O_PID},
	    {"bursts", required_argument, NULL, O_BURSTS},   {"help", no_argument, NULL, 'h'},
	    {0}};
	struct bb_opts o = {.scenario = "short", .procfs_root = "/proc", .guests = 1000, .cycles = 50, .seed = 1,
			    .gap_ms = 0, .poll_ms = 5, .seconds = 0};
	const char *cmd;
	bool gap_set = false;
	uint64_t v;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			bb_usage(stdout);
			return BB_EXIT_OK;
		}
		if (c == O_URI) {
			o.uri = optarg;
			continue;
		}
		if (c == O_PROCFS) {
			o.procfs_root = optarg;
			continue;
		}
		if (c == O_SCEN) {
			o.scenario = optarg;
			continue;
		}
		if (c == O_BURSTS) {
			o.bursts_path = optarg;
			continue;
		}
		if (c == '?' || bb_u64(optarg, &v) < 0) {
			if (c != '?')
				fprintf(stderr, "bln-bench: invalid number '%s'\n", optarg);
			bb_usage(stderr);
			return BB_EXIT_USAGE;
		}
		switch (c) {
		case O_GUESTS:
			o.guests = (size_t)v;
			break;
		case O_CYCLES:
			o.cycles = (size_t)v;
			break;
		case O_SEED:
			o.seed = v;
			break;
		case O_GAP:
			o.gap_ms = v;
			gap_set = true;
			break;
		case O_POLL:
			o.poll_ms = v;
			break;
		case O_SECS:
			o.seconds = v;
			break;
		case O_PID:
			o.pid = (pid_t)v;
			break;
		default:
			break;
		}
	}
	if (optind + 1 != argc) {
		bb_usage(stderr);
		return BB_EXIT_USAGE;
	}
	cmd = argv[optind];
	if (o.cycles == 0 || o.cycles > BB_MAX_SAMPLES || o.guests == 0 || o.guests > 1000000 || o.poll_ms == 0 ||
	    o.poll_ms > 1000) {
		fprintf(stderr, "bln-bench: --cycles 1..%d, --guests 1..1000000, --poll-ms 1..1000\n", BB_MAX_SAMPLES);
		return BB_EXIT_USAGE;
	}
	if (strcmp(cmd, "decide") == 0) {
		r = bb_decide(&o);
	} else if (strcmp(cmd, "list") == 0 && o.uri) {
		r = bb_list(&o);
	} else if (strcmp(cmd, "cycle") == 0 && o.uri) {
		if (!gap_set)
			o.gap_ms = 20;
		r = bb_cycle(&o);
	} else if (strcmp(cmd, "watch") == 0 && o.pid > 0 && o.seconds > 0) {
		if (!gap_set)
			o.gap_ms = 200;
		r = bb_watch(&o);
	} else {
		bb_usage(stderr);
		return BB_EXIT_USAGE;
	}
	if (r < 0) {
		errno = -r;
		fprintf(stderr, "bln-bench %s failed: %m\n", cmd);
		return BB_EXIT_FAIL;
	}
	return BB_EXIT_OK;
}
