/* clh_hook.c - run the view hook and the Pacemaker adapter as child processes on the event loop: argv
 * only, stdin fed from a buffer without blocking, exit seen through a pidfd, timeout by SIGKILL to
 * our own child's PID (see clh_hook.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clh.h"
#include "clh_cmds.h"
#include "clh_hook.h"
#include "../common/log.h"
#include "../common/loop.h"
#include "../common/privs.h"

#define HOOK_ARGV_MAX 10
#define HOOK_ARG_MAX 256

struct runner {
	const char *what;        /* "hook", "pacemaker" */
	pid_t pid;               /* > 0 while running */
	int pidfd, in_fd;
	int64_t timer;
	char *in;                /* stdin bytes */
	size_t in_len, in_off;
	bool again;              /* a change came while running: run once more afterwards */
	uint64_t started_ms;
	uint64_t timeout_ms;
	bool killed;
};

static struct runner H = {.what = "hook", .pidfd = -1, .in_fd = -1};
static struct runner PM = {.what = "pacemaker", .pidfd = -1, .in_fd = -1};
static struct clh_view_sum last_sum;
static bool have_sum;
static int64_t pm_last_mib = -1;
static uint64_t pm_retry_ms;  /* after a failure: not before this (monotonic) */
static unsigned pm_failures;  /* in a row; only the first is a warning */
#define PM_RETRY_MS 5000
static const struct memopt_config *hook_cfg;
static char pm_node[HR_NAME_MAX];

static void run_hook_now(void);

static void in_close(struct runner *r)
{
	if (r->in_fd >= 0) {
		ev_del_fd(r->in_fd);
		close(r->in_fd);
		r->in_fd = -1;
	}
	free(r->in);
	r->in = NULL;
	r->in_len = r->in_off = 0;
}

static void finished(struct runner *r, int status)
{
	uint64_t took = ev_now_ms() - r->started_ms;
	bool ok = !r->killed && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (r == &PM) {
		/* Pacemaker not up yet (or down): write again in a while, warning once per outage */
		if (ok) {
			if (pm_failures)
				log_notice("cluster: pacemaker: utilization written again after %u failed attempts", pm_failures);
			pm_failures = 0;
		} else {
			pm_last_mib = -1;
			pm_retry_ms = ev_now_ms() + PM_RETRY_MS;
			if (pm_failures++ > 0) {
				log_debug("cluster: pacemaker: crm_attribute failed again (status %d)", status);
				goto done;
			}
		}
	}
	if (r->killed)
		log_warn("cluster: %s killed after %" PRIu64 " ms ([cluster] hook_timeout)", r->what, took);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_debug("cluster: %s finished in %" PRIu64 " ms", r->what, took);
	else if (WIFEXITED(status))
		log_warn("cluster: %s failed with exit status %d after %" PRIu64 " ms", r->what, WEXITSTATUS(status), took);
	else if (WIFSIGNALED(status))
		log_warn("cluster: %s died of signal %d after %" PRIu64 " ms", r->what, WTERMSIG(status), took);
done:
	if (r->timer > 0)
		ev_cancel_timeout(r->timer);
	r->timer = 0;
	in_close(r);
	if (r->pidfd >= 0) {
		ev_del_fd(r->pidfd);
		close(r->pidfd);
	}
	r->pidfd = -1;
	r->pid = 0;
	r->killed = false;
}

static void on_exit_fd(int fd, short revents, void *data)
{
	(void)fd;
	(void)revents;
	struct runner *r = data;
	int status = 0;
	pid_t p = waitpid(r->pid, &status, WNOHANG);
	if (p == 0)
		return;
	finished(r, p < 0 ? 0 : status);
	if (r == &H && H.again) {
		H.again = false;
		run_hook_now();
	}
}

static void on_timeout(void *data)
{
	struct runner *r = data;
	r->timer = 0;
	if (r->pid > 0) {
		r->killed = true;
		kill(r->pid, SIGKILL); /* our own child, by the PID fork gave us */
	}
}

static void on_stdin(int fd, short revents, void *data)
{
	(void)revents;
	struct runner *r = data;
	while (r->in_off < r->in_len) {
		ssize_t n = write(fd, r->in + r->in_off, r->in_len - r->in_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) /* EPIPE: the program does not read its input; that is its business */
			break;
		r->in_off += (size_t)n;
	}
	in_close(r);
}

/* Start argv[0] with `in` (taken) on stdin. With drop_caps it starts with no capability but those of
 * caps (of what memoptd holds; euid 0 stays: hooks and crm_attribute talk to root-only local
 * services). Returns 0 or -errno (logged by the caller). */
static int spawn(struct runner *r, char *const argv[], char *in, size_t in_len, uint64_t timeout_ms,
		 bool drop_caps, uint64_t caps)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free(in);
		return -errno;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(pfd[0]);
		close(pfd[1]);
		free(in);
		return -e;
	}
	if (pid == 0) {
		/* child: the daemon blocks its signals for the signalfd; give the program a clean slate */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (dup2(pfd[0], 0) < 0 || (devnull >= 0 && dup2(devnull, 1) < 0))
			_exit(127);
		closefrom(3);
		/* memoptd set no_new_privs, so exec as root cannot give them back. A refused capset (seccomp)
		 * leaves the daemon's own two, as memoptd warned at start. */
		if (drop_caps)
			(void)priv_child_limit(caps);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[0]);
	r->pid = pid;
	r->started_ms = ev_now_ms();
	r->pidfd = pidfd_open(pid, 0);
	fcntl(pfd[1], F_SETFL, O_NONBLOCK);
	r->in_fd = pfd[1];
	r->in = in;
	r->in_len = in_len;
	r->in_off = 0;
	if (r->pidfd < 0 || ev_add_fd(r->pidfd, POLLIN, on_exit_fd, r) < 0) {
		/* cannot watch it: wait for it synchronously rather than leak a zombie (bounded by kill) */
		kill(pid, SIGKILL);
		int st;
		waitpid(pid, &st, 0);
		r->pid = 0;
		in_close(r);
		if (r->pidfd >= 0)
			close(r->pidfd);
		r->pidfd = -1;
		return -ENOMEM;
	}
	if (ev_add_fd(r->in_fd, POLLOUT, on_stdin, r) < 0)
		in_close(r);
	int64_t id = ev_add_timeout(timeout_ms, on_timeout, r);
	r->timer = id > 0 ? id : 0;
	return 0;
}

static void run_hook_now(void)
{
	if (!hook_cfg || !hook_cfg->cluster.hook[0])
		return;
	json_object *v = clh_view_json();
	if (!v)
		return;
	size_t len;
	const char *s = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN, &len);
	char *in = s ? malloc(len + 2) : NULL;
	if (in) {
		memcpy(in, s, len);
		in[len++] = '\n';
	}
	json_object_put(v);
	if (!in)
		return;
	char arg0[CFG_PATH_MAX], arg1[] = "view-changed";
	snprintf(arg0, sizeof(arg0), "%s", hook_cfg->cluster.hook);
	char *const argv[] = {arg0, arg1, NULL};
	int r = spawn(&H, argv, in, len, hook_cfg->cluster.hook_timeout_ms, hook_cfg->daemon.drop_capabilities, 0);
	if (r < 0)
		log_warn("cluster: cannot start hook %s: %s", arg0, strerror(-r));
	else
		log_info("cluster: view changed, running hook %s (pid %d)", arg0, (int)H.pid);
}

bool clh_view_significant(const struct clh_view_sum *a, const struct clh_view_sum *b, uint64_t change_kib)
{
	if (a->quorate != b->quorate || a->synced != b->synced || a->nhosts != b->nhosts || a->nresv != b->nresv ||
	    a->resv_hash != b->resv_hash)
		return true;
	for (size_t i = 0; i < a->nhosts; i++) {
		if (strcmp(a->host[i].name, b->host[i].name) || a->host[i].fresh != b->host[i].fresh)
			return true;
		int64_t d = a->host[i].now_kib - b->host[i].now_kib;
		if ((uint64_t)(d < 0 ? -d : d) >= change_kib)
			return true;
	}
	return false;
}

static void summarize(const struct memopt_config *cfg, struct clh_view_sum *sum)
{
	struct clh_status s;
	clh_status_get(&s);
	memset(sum, 0, sizeof(*sum));
	sum->quorate = s.quorate;
	sum->synced = s.synced;
	int64_t now_wall = ev_wall_ms();
	for (size_t i = 0; i < s.st->nhosts && sum->nhosts < 32; i++) {
		const struct hr_host *h = &s.st->host[i];
		struct hr_headroom hh;
		if (!h->member || !h->have_report)
			continue;
		bool live = hr_host_headroom(s.st, h, now_wall, (int64_t)cfg->cluster.peer_expiry_ms, &hh);
		snprintf(sum->host[sum->nhosts].name, HR_NAME_MAX, "%s", h->rep.host);
		sum->host[sum->nhosts].fresh = live;
		sum->host[sum->nhosts].now_kib = live ? hh.now_kib : 0;
		sum->nhosts++;
	}
	/* FNV-1a over the reservation ids: any reservation added or removed counts */
	uint64_t x = 1469598103934665603ull;
	for (size_t i = 0; i < s.st->nresv; i++)
		for (const char *p = s.st->resv[i].id; *p; p++)
			x = (x ^ (unsigned char)*p) * 1099511628211ull;
	sum->nresv = s.st->nresv;
	sum->resv_hash = x;
}

void clh_hook_check(const struct memopt_config *cfg)
{
	static struct clh_view_sum now;
	hook_cfg = cfg;
	if (!cfg->cluster.hook[0])
		return;
	summarize(cfg, &now);
	if (have_sum && !clh_view_significant(&last_sum, &now, cfg->cluster.hook_change_kib))
		return;
	last_sum = now;
	have_sum = true;
	if (H.pid > 0) {
		H.again = true; /* never two at once: one more run with the view as it is then */
		return;
	}
	run_hook_now();
}

void clh_hook_pacemaker(const struct memopt_config *cfg, const char *node, const struct hr_headroom *h,
			uint64_t vms_kib)
{
	if (!cfg->cluster.pacemaker || !h->valid || PM.pid > 0 || ev_now_ms() < pm_retry_ms)
		return;
	int64_t cap = h->now_kib + (int64_t)(vms_kib < (1ull << 50) ? vms_kib : 0);
	int64_t mib = cap > 0 ? cap / 1024 : 0;
	if (pm_last_mib >= 0 && (uint64_t)((mib > pm_last_mib ? mib - pm_last_mib : pm_last_mib - mib) * 1024) <
				    cfg->cluster.report_change_kib)
		return;
	char a0[CFG_PATH_MAX], val[32];
	char o1[] = "--node", o2[] = "--utilization", o3[] = "--name", o4[] = "memory", o5[] = "--update";
	snprintf(a0, sizeof(a0), "%s", cfg->cluster.crm_attribute);
	snprintf(pm_node, sizeof(pm_node), "%s", node);
	snprintf(val, sizeof(val), "%" PRId64, mib);
	char *const argv[] = {a0, o1, pm_node, o2, o3, o4, o5, val, NULL};
	char *in = strdup("");
	/* libqb's IPC files of the CIB belong to hacluster: root needs cap_dac_override to connect */
	int r = spawn(&PM, argv, in, 0, cfg->cluster.hook_timeout_ms, cfg->daemon.drop_capabilities,
		      PRIV_CHILD_PACEMAKER_MASK);
	if (r < 0) {
		log_warn("cluster: pacemaker: cannot run %s: %s", a0, strerror(-r));
		return;
	}
	pm_last_mib = mib;
	dlog_record("cluster", false, "headroom changed",
		    "pacemaker: utilization memory=%" PRId64 " MiB on node %s (headroom %" PRId64 " + running VMs %" PRIu64
		    " MiB)", mib, node, h->now_kib / 1024, vms_kib / 1024);
}

void clh_hook_init(void)
{
	have_sum = false;
	pm_last_mib = -1;
	pm_retry_ms = 0;
	pm_failures = 0;
}

static void stop_runner(struct runner *r)
{
	if (r->pid > 0) {
		int st = 0;
		kill(r->pid, SIGKILL);
		waitpid(r->pid, &st, 0);
		r->killed = true;
		finished(r, st);
	}
	r->again = false;
}

void clh_hook_fini(void)
{
	stop_runner(&H);
	stop_runner(&PM);
}
