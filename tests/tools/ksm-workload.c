/* ksm-workload.c - forks N "guest" processes with MADV_MERGEABLE memory of known duplicate content for KSM tests and the benchmark. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/cleanup.h"

#define WL_PAGE_SIZE 4096u
#define WL_WORDS_PER_PAGE (WL_PAGE_SIZE / sizeof(uint64_t))
#define WL_MAX_PROCS 256
#define WL_MAX_VIEWS 32
#define WL_CHURN_TICK_NS 20000000L /* churn batches every 20 ms */
#define WL_KSM_DIR "/sys/kernel/mm/ksm"
#define WL_KVM_FLAG "-enable-kvm"

/* Exit codes (documented in bench/README.md). */
enum { WL_EXIT_OK = 0, WL_EXIT_FAIL = 1, WL_EXIT_USAGE = 2 };

enum wl_role { WL_ROLE_PARENT, WL_ROLE_WORKER, WL_ROLE_BALLAST };
enum wl_phase { WL_PHASE_SPREAD, WL_PHASE_SYNC };

struct wl_opts {
	unsigned procs;
	uint64_t mib;
	unsigned shared_pct;
	unsigned zero_pct;
	double churn_period_s;   /* 0 = no churn */
	enum wl_phase churn_phase;
	uint64_t ballast_mib;
	unsigned ballast_views;  /* processes showing the ballast in their RSS (fork twins, no extra memory) */
	const char *name;        /* comm and (without --exec-name) argv[0] of the children */
	bool name_given;
	const char *exec_name;   /* re-exec children with this argv[0] */
	bool kvm_flag;           /* ... and with "-enable-kvm" as first argument */
	bool die_with_parent;    /* SIGTERM ourselves when whoever started us dies (bench harness) */
	uint64_t seed;
	const char *ready_file;
	/* internal, set only on re-exec'ed children */
	enum wl_role role;
	unsigned index;
	int ready_fd;
};

/* Page counts of one worker's mapping. Pure. */
struct wl_layout {
	uint64_t pages;
	uint64_t shared_pages;
	uint64_t zero_pages;
	uint64_t unique_pages;
};

static void wl_layout_compute(const struct wl_opts *o, struct wl_layout *ret)
{
	struct wl_layout l;

	l.pages = o->mib * (1024 * 1024 / WL_PAGE_SIZE);
	l.shared_pages = l.pages * o->shared_pct / 100;
	l.zero_pages = l.pages * o->zero_pct / 100;
	l.unique_pages = l.pages - l.shared_pages - l.zero_pages;
	*ret = l;
}

/* Merged pages (pages_sharing + ksm_zero_pages) at full merge. k identical pages merge into
 * ceil(k / max_page_sharing) KSM pages, so k - ceil(k / mps) of them count as "sharing"; with
 * use_zero_pages=1 every zero page is mapped to the zero page and counts in ksm_zero_pages. Pure. */
static uint64_t wl_group_sharing(uint64_t k, uint64_t max_page_sharing)
{
	if (k < 2)
		return 0;
	if (max_page_sharing < 2)
		max_page_sharing = k;
	return k - (k + max_page_sharing - 1) / max_page_sharing;
}

static uint64_t wl_expected_max_merged(const struct wl_layout *l, unsigned procs, bool use_zero_pages,
				       uint64_t max_page_sharing)
{
	uint64_t zero_total = l->zero_pages * procs;
	uint64_t merged = l->shared_pages * wl_group_sharing(procs, max_page_sharing);

	merged += use_zero_pages ? zero_total : wl_group_sharing(zero_total, max_page_sharing);
	return merged;
}

/* Reads one unsigned number from dir/name; returns 0 or -errno (-EINVAL if garbled). */
static int wl_read_u64(const char *dir, const char *name, uint64_t *ret)
{
	char path[PATH_MAX], buf[64], *end;
	_cleanup_close_ int fd = -1;
	ssize_t n;
	unsigned long long v;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0'))
		return -EINVAL;
	*ret = v;
	return 0;
}

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Fills one page with a pseudo-random pattern that depends only on `key`. */
static void wl_fill_page(uint64_t *page, uint64_t key)
{
	uint64_t st = key;

	for (size_t w = 0; w < WL_WORDS_PER_PAGE; w++)
		page[w] = splitmix64(&st);
}

/* "Image" page i is the same in every worker and differs from every other page. */
static uint64_t wl_image_key(uint64_t seed, uint64_t i)
{
	uint64_t st = seed ^ 0x494D414745000000ull ^ (i * 0xD6E8FEB86659FD93ull);

	return splitmix64(&st);
}

static uint64_t wl_unique_key(uint64_t seed, unsigned owner, uint64_t i)
{
	uint64_t st = seed ^ ((uint64_t)(owner + 1) << 48) ^ (i * 0xA0761D6478BD642Full) ^ 0x554E4951ull;

	return splitmix64(&st);
}

static int64_t wl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Replaces the whole argv area so ps and /proc/PID/cmdline show `title`. */
static void wl_set_title(int argc, char **argv, const char *title)
{
	char *start = argv[0], *end = argv[argc - 1] + strlen(argv[argc - 1]);
	size_t room = (size_t)(end - start);

	for (int i = 1; i < argc; i++)
		if (argv[i] != argv[i - 1] + strlen(argv[i - 1]) + 1)
			return; /* not contiguous: leave it */
	memset(start, 0, room);
	memcpy(start, title, strlen(title) < room ? strlen(title) : room);
}

/* Rewrites every image page once per churn period, spread evenly, with the same content: this breaks
 * the KSM sharing of the page (copy on write) and lets ksmd merge it again. Never returns. */
static void wl_churn(uint64_t *mem, const struct wl_opts *o, const struct wl_layout *l)
{
	uint64_t shared = l->shared_pages, done = 0, offset = 0;
	int64_t t0 = wl_now_ns(), period_ns = (int64_t)(o->churn_period_s * 1e9);
	struct timespec next;

	if (o->churn_phase == WL_PHASE_SPREAD && o->role == WL_ROLE_WORKER)
		offset = shared * o->index / o->procs;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		next.tv_nsec += WL_CHURN_TICK_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		/* due = how many rewrites the schedule asks for by now; fall behind by a period at most */
		uint64_t due = (uint64_t)((__int128)shared * (wl_now_ns() - t0) / period_ns);
		if (due > done + shared)
			done = due - shared;
		for (; done < due; done++) {
			uint64_t i = (offset + done) % shared;
			wl_fill_page(mem + i * WL_WORDS_PER_PAGE, wl_image_key(o->seed, i));
		}
	}
}

static pid_t wl_twins[WL_MAX_VIEWS];
static volatile sig_atomic_t wl_ntwins;

/* Ballast process on SIGTERM/SIGINT: stop its twins by PID, then go (async-signal-safe only). */
static void wl_ballast_on_signal(int sig)
{
	for (sig_atomic_t i = 0; i < wl_ntwins; i++)
		kill(wl_twins[i], SIGKILL);
	_exit(128 + sig);
}

/* Forks views-1 idle "twins" of the filled ballast. They share its pages copy-on-write and never
 * write, so each shows the whole ballast in its RSS at no memory cost: ksmtuned sums the RSS of
 * QEMU-looking processes as "committed" memory, which on a real KSM host also exceeds what is used. */
static int wl_ballast_twins(unsigned views, int ready_fd)
{
	struct sigaction sa = {.sa_handler = wl_ballast_on_signal};

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (unsigned i = 1; i < views && i < WL_MAX_VIEWS; i++) {
		pid_t self = getpid(), pid = fork();

		if (pid < 0) {
			fprintf(stderr, "ksm-workload[%d]: fork of a ballast twin failed: %m\n", self);
			return -errno;
		}
		if (pid == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != self)
				_exit(WL_EXIT_FAIL);
			close(ready_fd);
			for (;;)
				pause();
		}
		wl_twins[wl_ntwins] = pid;
		wl_ntwins = wl_ntwins + 1;
	}
	return 0;
}

/* One child: maps, fills, reports ready on ready_fd, then churns or waits for its signal. */
static int wl_child_main(const struct wl_opts *o)
{
	struct wl_layout l;
	uint64_t *mem, pages;
	size_t len;
	sigset_t none;
	bool ballast = o->role == WL_ROLE_BALLAST;
	unsigned owner = ballast ? WL_MAX_PROCS : o->index;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		return WL_EXIT_FAIL; /* parent already gone */
	prctl(PR_SET_NAME, o->name);

	wl_layout_compute(o, &l);
	pages = ballast ? o->ballast_mib * (1024 * 1024 / WL_PAGE_SIZE) : l.pages;
	len = (size_t)pages * WL_PAGE_SIZE;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		fprintf(stderr, "ksm-workload[%d]: mmap of %zu bytes failed: %m\n", getpid(), len);
		return WL_EXIT_FAIL;
	}
	if (!ballast && madvise(mem, len, MADV_MERGEABLE) < 0) {
		fprintf(stderr, "ksm-workload[%d]: madvise(MADV_MERGEABLE) failed: %m\n", getpid());
		return WL_EXIT_FAIL;
	}
	/* The ballast may use THP: it only has to be resident. Prefaulting in the kernel is 3-5x faster
	 * than one user fault per page on a VM host; both are optional (older kernels lack POPULATE). */
	if (ballast)
		(void)madvise(mem, len, MADV_HUGEPAGE);
#ifdef MADV_POPULATE_WRITE
	(void)madvise(mem, len, MADV_POPULATE_WRITE);
#endif

	for (uint64_t i = 0; i < pages; i++) {
		uint64_t *page = mem + i * WL_WORDS_PER_PAGE;

		if (ballast || i >= l.shared_pages + l.zero_pages)
			wl_fill_page(page, wl_unique_key(o->seed, owner, i));
		else if (i < l.shared_pages)
			wl_fill_page(page, wl_image_key(o->seed, i));
		else
			*(volatile uint64_t *)page = 0; /* fault in a private zero-filled page */
	}

	if (ballast && o->ballast_views > 1 && wl_ballast_twins(o->ballast_views, o->ready_fd) < 0)
		return WL_EXIT_FAIL;
	if (write(o->ready_fd, "r", 1) != 1) {
		fprintf(stderr, "ksm-workload[%d]: cannot report ready: %m\n", getpid());
		return WL_EXIT_FAIL;
	}
	close(o->ready_fd);

	if (!ballast && o->churn_period_s > 0 && l.shared_pages > 0)
		wl_churn(mem, o, &l);
	for (;;)
		pause();
}

/* Starts child `index` (or the ballast): either runs wl_child_main directly or re-execs
 * /proc/self/exe with argv[0] = exec_name so the process looks like a QEMU guest. */
static pid_t wl_spawn(struct wl_opts *o, enum wl_role role, unsigned index, int ready_wfd, int ready_rfd,
		      int argc, char **argv)
{
	pid_t parent = getpid(), pid = fork();

	if (pid != 0)
		return pid; /* parent, or -1 */

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(WL_EXIT_FAIL);
	close(ready_rfd);
	o->role = role;
	o->index = index;
	o->ready_fd = ready_wfd;

	if (o->exec_name) {
		char s_idx[16], s_fd[16], s_procs[16], s_mib[24], s_sp[8], s_zp[8], s_churn[32], s_seed[24],
			s_bal[24], s_views[16];
		const char *av[40];
		int n = 0;
		sigset_t none;

		snprintf(s_idx, sizeof(s_idx), "%u", index);
		snprintf(s_fd, sizeof(s_fd), "%d", ready_wfd);
		snprintf(s_procs, sizeof(s_procs), "%u", o->procs);
		snprintf(s_mib, sizeof(s_mib), "%" PRIu64, o->mib);
		snprintf(s_sp, sizeof(s_sp), "%u", o->shared_pct);
		snprintf(s_zp, sizeof(s_zp), "%u", o->zero_pct);
		snprintf(s_churn, sizeof(s_churn), "%.3f", o->churn_period_s);
		snprintf(s_seed, sizeof(s_seed), "%" PRIu64, o->seed);
		snprintf(s_bal, sizeof(s_bal), "%" PRIu64, o->ballast_mib);
		snprintf(s_views, sizeof(s_views), "%u", o->ballast_views);
		av[n++] = o->exec_name;
		if (o->kvm_flag)
			av[n++] = WL_KVM_FLAG;
		av[n++] = role == WL_ROLE_BALLAST ? "--x-ballast" : "--x-worker";
		av[n++] = s_idx;
		av[n++] = "--x-ready-fd";
		av[n++] = s_fd;
		av[n++] = "--procs";
		av[n++] = s_procs;
		av[n++] = "--mib";
		av[n++] = s_mib;
		av[n++] = "--shared-pct";
		av[n++] = s_sp;
		av[n++] = "--zero-pct";
		av[n++] = s_zp;
		av[n++] = "--churn-period";
		av[n++] = s_churn;
		av[n++] = "--churn-phase";
		av[n++] = o->churn_phase == WL_PHASE_SYNC ? "sync" : "spread";
		av[n++] = "--seed";
		av[n++] = s_seed;
		av[n++] = "--ballast-mib";
		av[n++] = s_bal;
		av[n++] = "--ballast-views";
		av[n++] = s_views;
		av[n++] = "--name";
		av[n++] = o->name;
		av[n] = NULL;
		/* the exec'ed image starts with our blocked mask: open it, wl_child_main does too */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv("/proc/self/exe", (char *const *)av);
		fprintf(stderr, "ksm-workload: execv /proc/self/exe failed: %m\n");
		_exit(WL_EXIT_FAIL);
	}
	wl_set_title(argc, argv, o->name);
	_exit(wl_child_main(o));
}

/* Writes the ready line to path atomically (temp + rename). Returns 0 or -errno. */
static int wl_write_ready_file(const char *path, const char *line)
{
	char tmp[PATH_MAX];
	_cleanup_fclose_ FILE *f = NULL;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fputs(line, f);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	if (rename(tmp, path) < 0)
		return -errno;
	return 0;
}

static pid_t wl_pids[WL_MAX_PROCS + 1];
static unsigned wl_npids;

/* Marks a reaped child; returns true if it was one of ours. */
static bool wl_forget(pid_t pid)
{
	for (unsigned i = 0; i < wl_npids; i++)
		if (wl_pids[i] == pid) {
			wl_pids[i] = 0;
			return true;
		}
	return false;
}

/* TERM every live child by PID, wait up to 5 s, then KILL the rest. */
static void wl_kill_children(void)
{
	int64_t deadline = wl_now_ns() + 5000000000LL;
	bool sent_kill = false;

	for (unsigned i = 0; i < wl_npids; i++)
		if (wl_pids[i] > 0)
			kill(wl_pids[i], SIGTERM);
	for (;;) {
		bool alive = false;
		pid_t pid;

		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
			wl_forget(pid);
		for (unsigned i = 0; i < wl_npids; i++)
			alive |= wl_pids[i] > 0;
		if (!alive)
			return;
		if (!sent_kill && wl_now_ns() > deadline) {
			for (unsigned i = 0; i < wl_npids; i++)
				if (wl_pids[i] > 0)
					kill(wl_pids[i], SIGKILL);
			sent_kill = true;
		}
		nanosleep(&(struct timespec){.tv_nsec = 20000000L}, NULL);
	}
}

/* Handles one signalfd record; returns 1 to stop normally, -1 on a child failure, 0 to go on. */
static int wl_on_signal(int sfd)
{
	struct signalfd_siginfo si;
	int status;
	pid_t pid;
	int r = 0;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (si.ssi_signo != SIGCHLD)
		return 1;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (!wl_forget(pid))
			continue;
		fprintf(stderr, "ksm-workload: child %d exited unexpectedly (status 0x%x)\n", pid, status);
		r = -1;
	}
	return r;
}

static void wl_usage(FILE *out)
{
	fputs("usage: ksm-workload --procs N --mib M --shared-pct P --zero-pct Z [--churn-period S]\n"
	      "       [--churn-phase spread|sync] [--ballast-mib B [--ballast-views K]] [--name NAME] [--seed X]\n"
	      "       [--ready-file PATH] [--exec-name ARGV0 [--kvm-flag]] [--die-with-parent]\n", out);
}

static int wl_parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s || *s == '\0' || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Parses argv into o. Unknown or out-of-range values print a message and return -EINVAL. */
static int wl_parse_args(int argc, char **argv, struct wl_opts *o)
{
	enum { O_PROCS = 256, O_MIB, O_SHARED, O_ZERO, O_CHURN, O_PHASE, O_BALLAST, O_VIEWS, O_NAME, O_SEED,
	       O_READY, O_EXEC, O_KVM, O_DWP, O_XWORKER, O_XBALLAST, O_XFD, O_HELP };
	static const struct option longopts[] = {
		{"procs", required_argument, NULL, O_PROCS},
		{"mib", required_argument, NULL, O_MIB},
		{"shared-pct", required_argument, NULL, O_SHARED},
		{"zero-pct", required_argument, NULL, O_ZERO},
		{"churn-period", required_argument, NULL, O_CHURN},
		{"churn-phase", required_argument, NULL, O_PHASE},
		{"ballast-mib", required_argument, NULL, O_BALLAST},
		{"ballast-views", required_argument, NULL, O_VIEWS},
		{"name", required_argument, NULL, O_NAME},
		{"seed", required_argument, NULL, O_SEED},
		{"ready-file", required_argument, NULL, O_READY},
		{"exec-name", required_argument, NULL, O_EXEC},
		{"kvm-flag", no_argument, NULL, O_KVM},
		{"die-with-parent", no_argument, NULL, O_DWP},
		{"x-worker", required_argument, NULL, O_XWORKER},
		{"x-ballast", required_argument, NULL, O_XBALLAST},
		{"x-ready-fd", required_argument, NULL, O_XFD},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	uint64_t v;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = 0;

		switch (c) {
		case O_PROCS:
			r = wl_parse_uint(optarg, WL_MAX_PROCS, &v);
			o->procs = (unsigned)v;
			break;
		case O_MIB:
			r = wl_parse_uint(optarg, 1u << 20, &o->mib);
			break;
		case O_SHARED:
			r = wl_parse_uint(optarg, 100, &v);
			o->shared_pct = (unsigned)v;
			break;
		case O_ZERO:
			r = wl_parse_uint(optarg, 100, &v);
			o->zero_pct = (unsigned)v;
			break;
		case O_CHURN:
			errno = 0;
			o->churn_period_s = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || !(o->churn_period_s >= 0) ||
			    o->churn_period_s > 1e6 || (o->churn_period_s > 0 && o->churn_period_s < 0.1))
				r = -EINVAL;
			break;
		case O_PHASE:
			if (strcmp(optarg, "spread") == 0)
				o->churn_phase = WL_PHASE_SPREAD;
			else if (strcmp(optarg, "sync") == 0)
				o->churn_phase = WL_PHASE_SYNC;
			else
				r = -EINVAL;
			break;
		case O_BALLAST:
			r = wl_parse_uint(optarg, 1u << 24, &o->ballast_mib);
			break;
		case O_VIEWS:
			r = wl_parse_uint(optarg, WL_MAX_VIEWS, &v);
			o->ballast_views = (unsigned)v;
			r = r < 0 || v == 0 ? -EINVAL : 0;
			break;
		case O_NAME:
			o->name = optarg;
			o->name_given = true;
			r = *optarg ? 0 : -EINVAL;
			break;
		case O_SEED:
			r = wl_parse_uint(optarg, UINT64_MAX, &o->seed);
			break;
		case O_READY:
			o->ready_file = optarg;
			break;
		case O_EXEC:
			o->exec_name = optarg;
			r = *optarg ? 0 : -EINVAL;
			break;
		case O_KVM:
			o->kvm_flag = true;
			break;
		case O_DWP:
			o->die_with_parent = true;
			break;
		case O_XWORKER:
		case O_XBALLAST:
			o->role = c == O_XWORKER ? WL_ROLE_WORKER : WL_ROLE_BALLAST;
			r = wl_parse_uint(optarg, WL_MAX_PROCS, &v);
			o->index = (unsigned)v;
			break;
		case O_XFD:
			r = wl_parse_uint(optarg, INT_MAX, &v);
			o->ready_fd = (int)v;
			break;
		case O_HELP:
			wl_usage(stdout);
			exit(WL_EXIT_OK);
		default:
			wl_usage(stderr);
			return -EINVAL;
		}
		if (r < 0) {
			fprintf(stderr, "ksm-workload: invalid value '%s' for --%s\n", optarg,
				longopts[c - O_PROCS].name);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ksm-workload: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->procs == 0 || o->mib == 0) {
		fprintf(stderr, "ksm-workload: --procs and --mib are required and must be > 0\n");
		return -EINVAL;
	}
	if (o->shared_pct + o->zero_pct > 100) {
		fprintf(stderr, "ksm-workload: --shared-pct + --zero-pct must not exceed 100\n");
		return -EINVAL;
	}
	if (!o->name_given && o->exec_name)
		o->name = o->exec_name; /* comm is cut to 15 bytes by the kernel */
	return 0;
}

/* Drops every "-enable-kvm" argument (added on re-exec so ksmtuned's pgrep matches). */
static int wl_strip_kvm_flag(int argc, char **argv)
{
	int n = 0;

	for (int i = 0; i < argc; i++)
		if (i == 0 || strcmp(argv[i], WL_KVM_FLAG) != 0)
			argv[n++] = argv[i];
	argv[n] = NULL;
	return n;
}

int main(int argc, char **argv)
{
	struct wl_opts o = {.name = "ksmwork", .seed = 1, .ready_fd = -1, .churn_phase = WL_PHASE_SPREAD,
			    .ballast_views = 1};
	struct wl_layout l;
	_cleanup_close_ int sfd = -1;
	int pfd[2], orig_argc = argc, r, rc = WL_EXIT_OK;
	unsigned want, got = 0;
	uint64_t use_zero = 0, mps = 256, expected;
	sigset_t mask;
	char line[256];
	char **orig_argv = argv;

	/* keep the original argv area for wl_set_title; parse a copy without "-enable-kvm" */
	char **args = calloc((size_t)argc + 1, sizeof(char *));
	if (!args)
		return WL_EXIT_FAIL;
	memcpy(args, argv, (size_t)argc * sizeof(char *));
	argc = wl_strip_kvm_flag(argc, args);
	if (wl_parse_args(argc, args, &o) < 0)
		return WL_EXIT_USAGE;
	free(args);

	if (o.role != WL_ROLE_PARENT) {
		if (o.ready_fd < 0) {
			fprintf(stderr, "ksm-workload: --x-ready-fd missing\n");
			return WL_EXIT_USAGE;
		}
		return wl_child_main(&o);
	}

	wl_layout_compute(&o, &l);
	if (o.die_with_parent) {
		pid_t starter = getppid();

		/* SIGTERM is blocked below and read from the signalfd, so this ends in a clean stop */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != starter || starter == 1)
			return WL_EXIT_FAIL;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
		fprintf(stderr, "ksm-workload: signalfd/pipe failed: %m\n");
		return WL_EXIT_FAIL;
	}
	/* the write end must survive the children's execv */
	fcntl(pfd[1], F_SETFD, 0);

	want = o.procs + (o.ballast_mib > 0 ? 1 : 0);
	for (unsigned i = 0; i < want; i++) {
		bool is_ballast = i == o.procs;
		pid_t pid = wl_spawn(&o, is_ballast ? WL_ROLE_BALLAST : WL_ROLE_WORKER, i, pfd[1], pfd[0],
				     orig_argc, orig_argv);

		if (pid < 0) {
			fprintf(stderr, "ksm-workload: fork failed: %m\n");
			wl_kill_children();
			return WL_EXIT_FAIL;
		}
		wl_pids[wl_npids++] = pid;
	}
	close(pfd[1]);

	printf("WORKERS");
	for (unsigned i = 0; i < o.procs; i++)
		printf(" %d", wl_pids[i]);
	printf("\n");
	if (o.ballast_mib > 0)
		printf("BALLAST %d mib=%" PRIu64 " views=%u\n", wl_pids[o.procs], o.ballast_mib, o.ballast_views);
	fflush(stdout);

	/* wait for one byte per child; EOF early means a child died */
	while (got < want) {
		struct pollfd p[2] = {{.fd = pfd[0], .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
		char buf[64];
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & POLLIN) {
			r = wl_on_signal(sfd);
			if (r != 0) {
				rc = r < 0 ? WL_EXIT_FAIL : WL_EXIT_OK;
				goto out;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			n = read(pfd[0], buf, sizeof(buf));
			if (n <= 0) {
				fprintf(stderr, "ksm-workload: a child exited before it was filled\n");
				rc = WL_EXIT_FAIL;
				goto out;
			}
			got += (unsigned)n;
		}
	}
	close(pfd[0]);

	(void)wl_read_u64(WL_KSM_DIR, "use_zero_pages", &use_zero);
	(void)wl_read_u64(WL_KSM_DIR, "max_page_sharing", &mps);
	expected = wl_expected_max_merged(&l, o.procs, use_zero != 0, mps);
	snprintf(line, sizeof(line),
		 "READY pages_per_proc=%" PRIu64 " shared_pages=%" PRIu64 " zero_pages=%" PRIu64
		 " unique_pages=%" PRIu64 " procs=%u use_zero_pages=%" PRIu64 " max_page_sharing=%" PRIu64
		 " expected_max_merged=%" PRIu64 "\n",
		 l.pages, l.shared_pages, l.zero_pages, l.unique_pages, o.procs, use_zero, mps, expected);
	fputs(line, stdout);
	fflush(stdout);
	if (o.ready_file) {
		r = wl_write_ready_file(o.ready_file, line);
		if (r < 0) {
			fprintf(stderr, "ksm-workload: cannot write ready file '%s': %s\n", o.ready_file,
				strerror(-r));
			rc = WL_EXIT_FAIL;
			goto out;
		}
	}

	for (;;) {
		r = wl_on_signal(sfd);
		if (r != 0) {
			rc = r < 0 ? WL_EXIT_FAIL : WL_EXIT_OK;
			break;
		}
	}
out:
	wl_kill_children();
	if (o.ready_file)
		unlink(o.ready_file);
	return rc;
}
