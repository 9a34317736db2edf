/* ksm-sampler.c - samples /sys/kernel/mm/ksm counters, ksmd CPU time and host memory at a fixed interval, as CSV on stdout.
 *
 * --pids P1,P2,... adds pss_saved_kib: the memory KSM really saves in those processes now, the sum of
 * (Anonymous - Pss_Anon) from /proc/<pid>/smaps_rollup. ksmd's counters (pages_sharing and the per-process
 * ksm_stat) are updated only when ksmd revisits a page, so a merged page that a write has copied again
 * still counts as merged until then; under churn they overstate the saving. smaps_rollup walks the page
 * tables (about 14 ms per 768 MiB process here), so it is read every --pss-every samples only. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>

#include "common/cleanup.h"

enum { SMP_EXIT_OK = 0, SMP_EXIT_FAIL = 1, SMP_EXIT_USAGE = 2 };

/* Columns taken from <ksm_dir>/<name>; a missing or garbled file gives an empty field. */
static const char *const smp_ksm_files[] = {
	"pages_shared", "pages_sharing", "ksm_zero_pages", "general_profit", "full_scans", "pages_scanned",
	"pages_unshared", "pages_volatile", "pages_skipped", "stable_node_chains", "stable_node_dups",
	"pages_to_scan", "sleep_millisecs", "run", "advisor_mode", "smart_scan", "use_zero_pages",
	"max_page_sharing",
};

#define SMP_MAX_PIDS 64

static volatile sig_atomic_t smp_stop;

/* Sum of (Anonymous - Pss_Anon) in KiB over the PIDs, or -1 if any of them cannot be read. */
static long long smp_pss_saved(const char *proc_root, const long *pids, size_t npids)
{
	long long sum = 0;

	for (size_t i = 0; i < npids; i++) {
		char path[PATH_MAX], line[256];
		_cleanup_fclose_ FILE *f = NULL;
		long long anon = -1, pss = -1, v;

		snprintf(path, sizeof(path), "%s/%ld/smaps_rollup", proc_root, pids[i]);
		f = fopen(path, "re");
		if (!f)
			return -1;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "Anonymous: %lld kB", &v) == 1)
				anon = v;
			else if (sscanf(line, "Pss_Anon: %lld kB", &v) == 1)
				pss = v;
		}
		if (anon < 0 || pss < 0)
			return -1;
		sum += anon > pss ? anon - pss : 0;
	}
	return sum;
}

/* "12,34,56" -> pids; -EINVAL on anything else. */
static int smp_parse_pids(const char *s, long *pids, size_t *ret_n)
{
	size_t n = 0;

	while (*s) {
		char *end;
		long v;

		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || end == s || v <= 0 || n >= SMP_MAX_PIDS || (*end != ',' && *end != '\0'))
			return -EINVAL;
		pids[n++] = v;
		s = *end == ',' ? end + 1 : end;
	}
	*ret_n = n;
	return n ? 0 : -EINVAL;
}

static void smp_on_signal(int sig)
{
	(void)sig;
	smp_stop = 1;
}

/* Reads a small file into buf (NUL-terminated, trailing newline removed). Returns length or -errno. */
static ssize_t smp_read_small(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return n;
}

/* Formats one ksm file as a CSV field: a signed integer, or for advisor_mode the bracketed word
 * ("[none] scan-time" -> "none"). Anything else becomes an empty field. Pure. */
static void smp_format_field(const char *raw, char *out, size_t outlen)
{
	const char *lb = strchr(raw, '['), *rb = lb ? strchr(lb, ']') : NULL;
	char *end;
	long long v;

	out[0] = '\0';
	if (lb && rb && rb > lb + 1) {
		size_t n = (size_t)(rb - lb - 1);

		if (n < outlen && strspn(lb + 1, "abcdefghijklmnopqrstuvwxyz-_") >= n) {
			memcpy(out, lb + 1, n);
			out[n] = '\0';
		}
		return;
	}
	errno = 0;
	v = strtoll(raw, &end, 10);
	if (errno != 0 || end == raw || *end != '\0')
		return;
	snprintf(out, outlen, "%lld", v);
}

/* Parses the text of /proc/PID/stat: the comm sits between the first '(' and the LAST ')' (a comm may
 * contain ')'); returns 0 and comm/ppid/flags/utime+stime (ticks), or -EBADMSG. Pure. */
static int smp_parse_stat(const char *buf, char *ret_comm, size_t commlen, long *ret_ppid, unsigned long *ret_flags,
			  unsigned long long *ret_ticks)
{
	const char *lp = strchr(buf, '('), *rp = strrchr(buf, ')');
	unsigned long long ut, st;
	unsigned long flags;
	long ppid;
	size_t n;
	char state;

	if (!lp || !rp || rp < lp)
		return -EBADMSG;
	/* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (sscanf(rp + 1, " %c %ld %*d %*d %*d %*d %lu %*u %*u %*u %*u %llu %llu", &state, &ppid, &flags, &ut,
		   &st) != 5)
		return -EBADMSG;
	n = (size_t)(rp - lp - 1);
	if (n >= commlen)
		n = commlen - 1;
	memcpy(ret_comm, lp + 1, n);
	ret_comm[n] = '\0';
	*ret_ppid = ppid;
	*ret_flags = flags;
	*ret_ticks = ut + st;
	return 0;
}

#define SMP_PF_KTHREAD 0x00200000UL

/* Finds the ksmd kernel thread under proc_root. Returns its pid or -ENOENT. */
static long smp_find_ksmd(const char *proc_root)
{
	_cleanup_closedir_ DIR *d = opendir(proc_root);
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX], buf[1024], comm[64], *end;
		unsigned long long ticks;
		unsigned long flags;
		long pid, ppid;

		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%ld/stat", proc_root, pid);
		if (smp_read_small(path, buf, sizeof(buf)) <= 0)
			continue;
		if (smp_parse_stat(buf, comm, sizeof(comm), &ppid, &flags, &ticks) < 0)
			continue;
		if (strcmp(comm, "ksmd") == 0 && (flags & SMP_PF_KTHREAD))
			return pid;
	}
	return -ENOENT;
}

static void smp_usage(FILE *out)
{
	fputs("usage: ksm-sampler [--interval-ms MS] [--seconds S] [--ksm-dir DIR] [--proc-root DIR] [--die-with-parent]\n"
	      "                   [--pids P1,P2,... [--pss-every N]]\n"
	      "  CSV on stdout; --seconds 0 samples until SIGTERM/SIGINT. --pids adds pss_saved_kib (what KSM\n"
	      "  really saves in those processes, from smaps_rollup), read every N samples (default 5).\n", out);
}

static int smp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (*s == '\0' || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Sum of MemFree+Buffers+Cached (what ksmtuned calls free) and MemAvailable, in KiB. */
static void smp_meminfo(const char *proc_root, long long *ret_avail_kib, long long *ret_free_cached_kib)
{
	char path[PATH_MAX], line[256];
	_cleanup_fclose_ FILE *f = NULL;
	long long avail = -1, fc = 0;
	int seen = 0;

	snprintf(path, sizeof(path), "%s/meminfo", proc_root);
	f = fopen(path, "re");
	*ret_avail_kib = -1;
	*ret_free_cached_kib = -1;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		long long v;

		if (sscanf(line, "MemAvailable: %lld kB", &v) == 1)
			avail = v;
		else if (sscanf(line, "MemFree: %lld kB", &v) == 1 || sscanf(line, "Buffers: %lld kB", &v) == 1 ||
			 sscanf(line, "Cached: %lld kB", &v) == 1) {
			fc += v;
			seen++;
		}
	}
	*ret_avail_kib = avail;
	if (seen == 3)
		*ret_free_cached_kib = fc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"interval-ms", required_argument, NULL, 'i'},
		{"seconds", required_argument, NULL, 's'},
		{"ksm-dir", required_argument, NULL, 'k'},
		{"proc-root", required_argument, NULL, 'p'},
		{"die-with-parent", no_argument, NULL, 'd'},
		{"pids", required_argument, NULL, 'P'},
		{"pss-every", required_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *ksm_dir = "/sys/kernel/mm/ksm", *proc_root = "/proc";
	uint64_t interval_ms = 1000, seconds = 0, pss_every = 5;
	long pids[SMP_MAX_PIDS];
	size_t npids = 0;
	struct timespec t0, next;
	long ksmd, hz = sysconf(_SC_CLK_TCK);
	struct sigaction sa = {.sa_handler = smp_on_signal};
	int c, idx = 0;
	bool die_with_parent = false;

	while ((c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		switch (c) {
		case 'i':
			if (smp_parse_u64(optarg, 10, 3600000, &interval_ms) < 0)
				goto bad;
			break;
		case 's':
			if (smp_parse_u64(optarg, 0, 100000000, &seconds) < 0)
				goto bad;
			break;
		case 'k':
			ksm_dir = optarg;
			break;
		case 'p':
			proc_root = optarg;
			break;
		case 'd':
			die_with_parent = true;
			break;
		case 'P':
			if (smp_parse_pids(optarg, pids, &npids) < 0)
				goto bad;
			break;
		case 'e':
			if (smp_parse_u64(optarg, 1, 1000000, &pss_every) < 0)
				goto bad;
			break;
		case 'h':
			smp_usage(stdout);
			return SMP_EXIT_OK;
		default:
			smp_usage(stderr);
			return SMP_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ksm-sampler: unexpected argument '%s'\n", argv[optind]);
		return SMP_EXIT_USAGE;
	}
	if (hz <= 0)
		hz = 100;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (die_with_parent) {
		pid_t starter = getppid();

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != starter || starter == 1)
			return SMP_EXIT_FAIL;
	}
	ksmd = smp_find_ksmd(proc_root);
	if (ksmd < 0)
		fprintf(stderr, "ksm-sampler: ksmd not found under '%s', ksmd_cpu_s stays empty\n", proc_root);

	printf("t_s");
	for (size_t i = 0; i < ELEMENTSOF(smp_ksm_files); i++)
		printf(",%s", smp_ksm_files[i]);
	printf(",ksmd_cpu_s,mem_available_kib,mem_free_cached_kib,load1%s\n", npids ? ",pss_saved_kib" : "");
	fflush(stdout);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	next = t0;
	for (uint64_t k = 0; !smp_stop; k++) {
		struct timespec now;
		char path[PATH_MAX], raw[256], field[64];
		long long avail, fc;
		double t;

		clock_gettime(CLOCK_MONOTONIC, &now);
		t = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
		printf("%.3f", t);
		for (size_t i = 0; i < ELEMENTSOF(smp_ksm_files); i++) {
			snprintf(path, sizeof(path), "%s/%s", ksm_dir, smp_ksm_files[i]);
			field[0] = '\0';
			if (smp_read_small(path, raw, sizeof(raw)) > 0)
				smp_format_field(raw, field, sizeof(field));
			printf(",%s", field);
		}
		field[0] = '\0';
		if (ksmd > 0) {
			char buf[1024], comm[64];
			unsigned long long ticks;
			unsigned long flags;
			long ppid;

			snprintf(path, sizeof(path), "%s/%ld/stat", proc_root, ksmd);
			if (smp_read_small(path, buf, sizeof(buf)) > 0 &&
			    smp_parse_stat(buf, comm, sizeof(comm), &ppid, &flags, &ticks) == 0 &&
			    strcmp(comm, "ksmd") == 0)
				snprintf(field, sizeof(field), "%.2f", (double)ticks / (double)hz);
		}
		smp_meminfo(proc_root, &avail, &fc);
		printf(",%s,%lld,%lld", field, avail, fc);
		snprintf(path, sizeof(path), "%s/loadavg", proc_root);
		if (smp_read_small(path, raw, sizeof(raw)) > 0 && strchr(raw, ' '))
			*strchr(raw, ' ') = '\0';
		else
			raw[0] = '\0';
		printf(",%s", raw);
		if (npids) {
			long long ps = k % pss_every == 0 ? smp_pss_saved(proc_root, pids, npids) : -1;

			if (ps >= 0)
				printf(",%lld", ps);
			else
				printf(",");
		}
		printf("\n");
		fflush(stdout);

		if (seconds > 0 && t >= (double)seconds - 1e-3)
			break;
		/* absolute schedule, so the sample times do not drift */
		next.tv_sec = t0.tv_sec + (time_t)((k + 1) * interval_ms / 1000);
		next.tv_nsec = t0.tv_nsec + (long)((k + 1) * interval_ms % 1000) * 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (!smp_stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	return ferror(stdout) ? SMP_EXIT_FAIL : SMP_EXIT_OK;
bad:
	fprintf(stderr, "ksm-sampler: invalid value '%s' for --%s\n", optarg, longopts[idx].name);
	return SMP_EXIT_USAGE;
}
