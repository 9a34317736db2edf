/* memoptd.c - the memopt daemon: start-up order, signals, reload, clean stop. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "ctlsrv.h"
#include "dconfig.h"
#include "../common/cleanup.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/loop.h"
#include "../common/privs.h"
#include "../common/state.h"
#include "../common/svc.h"
#include "../common/virtloop.h"
#include "../balloon/bln_ctl.h"
#include "../cluster-hook/clh.h"
#include "../ksmtuned/ksm_policy.h"
#include "../ksmtuned/ksm_tuner.h"
#include "../metrics/mtr_http.h"
#include "../sysctl/sctl_host.h"

/* Exit codes (documented in README.md and `memoptd --help`). */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,       /* the event loop failed */
	EXIT_USAGE = 2,         /* bad command line */
	EXIT_CONFIG = 3,        /* configuration refused */
	EXIT_STARTUP = 4,       /* state journal, lock, control socket or capability drop failed */
	EXIT_RESTORE = 5,       /* stopped, but some original values could not be restored (still journaled) */
};

static struct {
	const char *config_path;
	bool config_given;
	bool foreground, once, check_only, print_only;
	struct dconfig_overrides ovr;
	struct memopt_config *cfg;
	struct st_journal *st;
	int lock_fd;
	uint64_t start_ms;
	/* Absolute forms of relative command-line paths (config, sysfs, procfs, socket, state, ksmtuned). */
	char abs_path[6][CFG_PATH_MAX];
} D = { .config_path = MEMOPT_DEFAULT_CONFIG, .ovr = { .dry_run = -1, .log_level = -1 }, .lock_fd = -1 };

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: memoptd [OPTIONS]\n"
		"memopt host memory optimizer daemon for KVM hypervisors.\n\n"
		"  -c, --config PATH       configuration file (default " MEMOPT_DEFAULT_CONFIG ")\n"
		"  -f, --foreground        stay in the foreground, log to stderr\n"
		"  -n, --dry-run           decide and log, write nothing to the host\n"
		"      --once              run one decision cycle of every module, then stop\n"
		"      --check-config      validate the configuration and exit (0 valid, 3 invalid)\n"
		"      --print-config      print the effective configuration and exit\n"
		"      --sysfs-root DIR    read/write sysfs below DIR instead of /sys (fixture trees)\n"
		"      --procfs-root DIR   read procfs below DIR instead of /proc\n"
		"      --socket PATH       control socket (default " MEMOPT_DEFAULT_SOCKET ")\n"
		"      --state-dir DIR     where originals are journaled (default " MEMOPT_DEFAULT_STATE_DIR ")\n"
		"      --ksmtuned-conf PATH  import KSM_* settings from this ksmtuned.conf ('none' to skip)\n"
		"  -v, --verbose           log level debug\n"
		"  -h, --help, --version\n\n"
		"Signals: SIGHUP reloads the configuration (kept unchanged if the new one is invalid);\n"
		"SIGTERM/SIGINT stop cleanly and restore every host value memoptd changed (balloon sizes\n"
		"excepted: guests keep the size they have, see docs/config.md).\n"
		"Exit codes: 0 ok, 1 runtime failure, 2 usage, 3 configuration error, 4 start-up failure\n"
		"(state journal, lock, socket, capability drop), 5 stopped but some originals could not be restored.\n");
}

static int parse_args(int argc, char **argv)
{
	enum { O_ONCE = 256, O_CHECK, O_PRINT, O_SYSFS, O_PROCFS, O_SOCKET, O_STATE, O_KSMTUNED, O_VERSION };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "foreground", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' }, { "once", no_argument, NULL, O_ONCE },
		{ "check-config", no_argument, NULL, O_CHECK }, { "print-config", no_argument, NULL, O_PRINT },
		{ "sysfs-root", required_argument, NULL, O_SYSFS }, { "procfs-root", required_argument, NULL, O_PROCFS },
		{ "socket", required_argument, NULL, O_SOCKET }, { "state-dir", required_argument, NULL, O_STATE },
		{ "ksmtuned-conf", required_argument, NULL, O_KSMTUNED }, { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, O_VERSION }, { 0 }
	};
	int c;
	while ((c = getopt_long(argc, argv, "c:fnvh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': D.config_path = optarg; D.config_given = true; break;
		case 'f': D.foreground = true; break;
		case 'n': D.ovr.dry_run = 1; break;
		case 'v': D.ovr.log_level = LOG_DEBUG; break;
		case O_ONCE: D.once = true; break;
		case O_CHECK: D.check_only = true; break;
		case O_PRINT: D.print_only = true; break;
		case O_SYSFS: D.ovr.sysfs_root = optarg; break;
		case O_PROCFS: D.ovr.procfs_root = optarg; break;
		case O_SOCKET: D.ovr.socket_path = optarg; break;
		case O_STATE: D.ovr.state_dir = optarg; break;
		case O_KSMTUNED: D.ovr.ksmtuned_conf = strcmp(optarg, "none") ? optarg : ""; break;
		case 'h': usage(stdout); exit(EXIT_OK);
		case O_VERSION: printf("memoptd " MEMOPT_VERSION "\n"); exit(EXIT_OK);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "memoptd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static void on_stop(int signo, void *data)
{
	(void)data;
	log_notice("received %s, stopping", strsignal(signo));
	svc_stopping();
	ev_quit(EXIT_OK);
}

/* Parse, validate, swap. Every refusal keeps the running configuration. */
static void reload_config(void)
{
	char err[CFG_ERR_MAX];
	struct memopt_config *n = malloc(sizeof(*n));
	if (!n) {
		log_err("reload: out of memory, keeping the current configuration");
		return;
	}
	int r = dconfig_load(D.config_path, D.config_given, &D.ovr, n, err, sizeof(err));
	if (r < 0) {
		log_err("reload refused, keeping the current configuration: %s", err);
		free(n);
		return;
	}
	if (strcmp(n->daemon.socket_path, D.cfg->daemon.socket_path) ||
	    strcmp(n->daemon.state_dir, D.cfg->daemon.state_dir) ||
	    strcmp(n->daemon.sysfs_root, D.cfg->daemon.sysfs_root) ||
	    strcmp(n->daemon.procfs_root, D.cfg->daemon.procfs_root)) {
		log_warn("reload: socket, state_dir, sysfs_root and procfs_root take effect only after a restart");
		memcpy(&n->daemon.socket_path, D.cfg->daemon.socket_path, sizeof(n->daemon.socket_path));
		memcpy(&n->daemon.state_dir, D.cfg->daemon.state_dir, sizeof(n->daemon.state_dir));
		memcpy(&n->daemon.sysfs_root, D.cfg->daemon.sysfs_root, sizeof(n->daemon.sysfs_root));
		memcpy(&n->daemon.procfs_root, D.cfg->daemon.procfs_root, sizeof(n->daemon.procfs_root));
	}
	if (n->daemon.drop_capabilities != D.cfg->daemon.drop_capabilities) {
		/* Dropped capabilities cannot be taken back, and keeping more than now is no reload's business. */
		log_warn("reload: drop_capabilities takes effect only after a restart");
		n->daemon.drop_capabilities = D.cfg->daemon.drop_capabilities;
	}
	if (n->daemon.drop_capabilities && n->cluster.pacemaker && !D.cfg->cluster.pacemaker)
		log_warn("reload: [cluster] pacemaker = yes was off at start, so the capability crm_attribute needs "
			 "was dropped; restart memoptd for the Pacemaker adapter to reach the CIB");
	/* dconfig_load resolved the group; it can only fail here if it vanished since. Refuse the whole
	 * reload then, before anything of it is applied. */
	r = ctl_set_admin_group(n->daemon.admin_group);
	if (r < 0) {
		errno = -r;
		log_err("reload refused, keeping the current configuration: [daemon] admin_group '%s': %m",
			n->daemon.admin_group);
		free(n);
		return;
	}
	struct memopt_config *old = D.cfg;
	D.cfg = n;
	log_set_max_level(n->daemon.log_level);
	ctl_set_limits((unsigned)n->daemon.max_clients, n->daemon.client_timeout_ms);
	ksm_tuner_reload(n);
	bln_reload(n);
	clh_reload(n);
	sctl_host_reload(n);
	mtr_http_reload(); /* a new listener replaces the old one only once it is open */
	free(old);
	log_notice("configuration reloaded from %s", n->path[0] ? n->path : "(built-in defaults)");
	dlog_record("daemon", n->daemon.dry_run, "SIGHUP", "configuration reloaded");
}

/* The service manager sees the reload start and end, whether the new file was taken or refused. */
static void on_reload(int signo, void *data)
{
	(void)signo; (void)data;
	svc_reloading();
	reload_config();
	svc_ready();
}

/* STATUS= for the service manager: one short line from the modules' last decisions. */
static void status_summary(char *buf, size_t len)
{
	char host[128];
	struct ksm_view kv;
	struct bln_view bv;
	size_t n = 0;
	int w;

	/* No view before the tuner's first cycle: "starting", unless the module is not running at all. */
	w = snprintf(buf, len, "%s", !ksm_tuner_view(&kv) ?
			(strcmp(ksm_tuner_state(host, sizeof(host)), "unavailable") ? "ksm starting" : "ksm unavailable") :
			!kv.cfg->ksm.manage ? "ksm report only" : kv.ctl->phase == KSM_PHASE_OFF ? "ksm off" :
			kv.ctl->phase == KSM_PHASE_CONVERGING ? "ksm converging" : "ksm settled");
	if (w > 0)
		n = (size_t)w < len ? (size_t)w : len - 1;
	if (!bln_get_view(&bv))
		w = snprintf(buf + n, len - n, ", balloon unavailable");
	else if (!bv.connected)
		w = snprintf(buf + n, len - n, ", libvirt disconnected");
	else
		w = snprintf(buf + n, len - n, ", %zu guest%s", bv.n, bv.n == 1 ? "" : "s");
	if (w > 0)
		n += (size_t)w < len - n ? (size_t)w : len - n - 1;
	/* "N knob(s) applied, M yielded, drift=..." -> "host N knob(s) applied, M yielded" */
	sctl_host_state(host, sizeof(host));
	char *drift = strstr(host, ", drift=");
	if (drift)
		*drift = '\0';
	snprintf(buf + n, len - n, ", host %s%s", host, D.cfg->daemon.dry_run ? ", dry-run" : "");
}

/* Lock <state_dir>/memoptd.lock. Returns 0, -EWOULDBLOCK when another memoptd holds it, or -errno. */
static int take_lock(const char *state_dir)
{
	char path[CFG_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/memoptd.lock", state_dir);
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	/* A read-only state directory must not stop memoptd from serving: flock() needs no write access,
	 * so lock the existing file read-only, or the directory itself when there is no file (both are the
	 * same inode for every memoptd on this directory, so two of them still exclude each other). */
	if (fd < 0 && (errno == EROFS || errno == EACCES)) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0 && errno == ENOENT)
			fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return -errno;
	D.lock_fd = TAKE_FD(fd);
	return 0;
}

/* Relative command-line paths are taken from the directory memoptd was started in: daemon() moves to
 * "/" and every reload reads the file again. The working directory is prefixed rather than realpath()
 * used, so that paths that do not exist yet (state dir, socket) work and a symlinked config is followed
 * again at each reload. */
static int make_absolute(const char **path, char *buf, size_t len)
{
	char cwd[PATH_MAX];
	if (!*path || !(*path)[0] || (*path)[0] == '/')
		return 0;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	int n = snprintf(buf, len, "%s/%s", strcmp(cwd, "/") ? cwd : "", *path);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	*path = buf;
	return 0;
}

static int make_paths_absolute(void)
{
	const char **paths[] = { &D.config_path, &D.ovr.sysfs_root, &D.ovr.procfs_root, &D.ovr.socket_path,
				 &D.ovr.state_dir, &D.ovr.ksmtuned_conf };
	_Static_assert(sizeof(paths) / sizeof(paths[0]) == sizeof(D.abs_path) / sizeof(D.abs_path[0]),
		       "one buffer per path");
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const char *was = *paths[i];
		int r = make_absolute(paths[i], D.abs_path[i], sizeof(D.abs_path[i]));
		if (r < 0) {
			fprintf(stderr, "memoptd: cannot make '%s' an absolute path: %s\n", was,
				strerror(-r));
			return r;
		}
	}
	return 0;
}

/* Last step of start-up: the state directory, lock, journal restore and socket are done, nothing later
 * needs more than euid 0 and PRIV_KEEP_MASK, plus, permitted only, what crm_attribute needs with
 * [cluster] pacemaker = yes (README.md, "Privilege model"). A drop that was asked for and failed is a
 * start-up failure: memoptd does not run with more than it said it would. */
static int drop_privileges(void)
{
	char err[CFG_ERR_MAX];
	uint64_t missing = 0;

	if (!D.cfg->daemon.drop_capabilities) {
		log_notice("[daemon] drop_capabilities = no: keeping every capability memoptd was started with");
		return EXIT_OK;
	}
	uint64_t idle = D.cfg->cluster.pacemaker ? PRIV_CHILD_PACEMAKER_MASK : 0;
	int r = priv_drop(PRIV_KEEP_MASK, idle, &missing, err, sizeof(err));
	if (r < 0) {
		log_err("cannot drop capabilities: %s", err);
		return EXIT_STARTUP;
	}
	if (r == 0) {
		log_info("not running as root (euid %u): capabilities left as they are", (unsigned)geteuid());
		return EXIT_OK;
	}
	if (r == 2)
		log_warn("capset(2) is refused (a seccomp filter, e.g. SystemCallFilter=~@privileged without "
			 "SystemCallFilter=capset): hook programs keep memoptd's capabilities instead of none");
	char names[256];
	if (missing & PRIV_KEEP_MASK) {
		priv_format_mask(missing & PRIV_KEEP_MASK, names, sizeof(names));
		log_warn("started without %s: reading /proc of QEMU processes of another user will fail", names);
	}
	if (missing & idle) {
		priv_format_mask(missing & idle, names, sizeof(names));
		log_warn("[cluster] pacemaker = yes, but started without %s: crm_attribute will not reach the CIB "
			 "(add it to CapabilityBoundingSet= in a drop-in, see contrib/systemd/README)", names);
	}
	return EXIT_OK;
}

/* The capability sets as the kernel shows them, in the log at start. */
static void log_privileges(void)
{
	struct priv_sets s;
	char line[1024];
	int r = priv_read_sets("/proc/self/status", &s);
	if (r < 0) {
		errno = -r;
		log_warn("cannot read the capability sets from /proc/self/status, ignoring: %m");
		return;
	}
	priv_format_sets(&s, line, sizeof(line));
	log_notice("capabilities: euid %u, %s", (unsigned)geteuid(), line);
}

/* Open the journal. A corrupt one (truncated, garbage, another version) is neither restored nor
 * overwritten: it is moved aside to originals.json.corrupt-<time> and memoptd starts held (it serves
 * every read-only command but changes nothing on the host), because the values now on the host may be
 * ones a crashed memoptd set, and journaling them as originals would lose the real ones for good. It
 * stays held while a quarantined journal is in the directory. Returns 0, or -errno (exit 4) when the
 * journal cannot be read at all. */
static int open_journal(void)
{
	const char *dir = D.cfg->daemon.state_dir;
	char err[CFG_ERR_MAX], names[512], reason[1280];
	int r = st_open(dir, &D.st, err, sizeof(err));

	if (r == -EBADMSG) {
		log_err("the state journal is corrupt: %s", err);
		int q = st_quarantine(dir);
		if (q < 0)
			log_err("cannot move the corrupt journal aside (%s); it stays where it is", strerror(-q));
		snprintf(reason, sizeof(reason), "corrupt journal %s/%s", dir,
			 q < 0 ? ST_FILE_NAME " (could not be moved aside)" : ST_FILE_NAME ".corrupt-*");
	} else if (r < 0) {
		log_err("refusing to start: %s. The file holds the original host values memoptd must put back; "
			"inspect it, restore by hand if needed, then move it aside.", err);
		return r;
	} else if (st_find_quarantined(dir, names, sizeof(names)) > 0) {
		snprintf(reason, sizeof(reason), "quarantined journal %s/%s", dir, names);
		st_close(TAKE_PTR(D.st));
	} else {
		return 0;
	}
	snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason),
		 ": no host value is changed until it is resolved (restore its values by hand, remove it, restart)");
	r = st_open_held(dir, reason, &D.st);
	if (r < 0) {
		log_err("cannot set up the state journal: %s", strerror(-r));
		return r;
	}
	log_err("journal held, changing nothing on the host: %s", reason);
	return 0;
}

/* Everything whose failure must reach the operator as exit 4 from the process they started: lock,
 * journal (leftovers of a crash restored first), loop and signals, control socket, commands, and
 * last the capability drop. */
static int start_up(void)
{
	int r;

	r = fio_mkdir_p(D.cfg->daemon.state_dir, 0700);
	if (r < 0) {
		errno = -r;
		log_err("cannot create the state directory %s: %m", D.cfg->daemon.state_dir);
		return EXIT_STARTUP;
	}
	r = take_lock(D.cfg->daemon.state_dir);
	if (r == -EWOULDBLOCK) {
		log_err("another memoptd is running: it holds %s/memoptd.lock", D.cfg->daemon.state_dir);
		return EXIT_STARTUP;
	}
	if (r < 0) {
		errno = -r;
		log_err("cannot lock %s/memoptd.lock: %m", D.cfg->daemon.state_dir);
		return EXIT_STARTUP;
	}
	r = open_journal();
	if (r < 0)
		return EXIT_STARTUP;
	if (st_count(D.st) > 0) {
		log_warn("found %zu original value(s) journaled by a previous run that did not stop cleanly: restoring them first",
			 st_count(D.st));
		r = st_restore(D.st, NULL, D.cfg->daemon.dry_run);
		if (r < 0) {
			errno = -r;
			log_err("cannot save %s/%s after restoring (%m): every value stays journaled",
				D.cfg->daemon.state_dir, ST_FILE_NAME);
		} else if (r > 0) {
			log_err("%d journaled value(s) could not be restored; they stay journaled", r);
		}
	}
	r = ev_init();
	if (r >= 0)
		r = ev_add_signal(SIGTERM, on_stop, NULL);
	if (r >= 0)
		r = ev_add_signal(SIGINT, on_stop, NULL);
	if (r >= 0)
		r = ev_add_signal(SIGHUP, on_reload, NULL);
	if (r < 0) {
		errno = -r;
		log_err("cannot set up the event loop: %m");
		return EXIT_STARTUP;
	}
	vloop_register(); /* before any libvirt connection: libvirt's events run on our loop */
	r = ctl_init(D.cfg->daemon.socket_path, D.cfg->daemon.admin_group);
	if (r < 0) {
		errno = -r;
		log_err("cannot open control socket %s: %m", D.cfg->daemon.socket_path);
		return EXIT_STARTUP;
	}
	ctl_set_limits((unsigned)D.cfg->daemon.max_clients, D.cfg->daemon.client_timeout_ms);
	D.start_ms = ev_now_ms();
	r = commands_init((const struct memopt_config *const *)&D.cfg, D.st, D.start_ms);
	if (r < 0) {
		errno = -r;
		log_err("cannot register the control commands: %m");
		return EXIT_STARTUP;
	}
	return drop_privileges();
}

/* Reverse of start-up and of the modules; each step copes with what was never started. Returns the
 * number of host values that could not be restored. */
static int stop_all(void)
{
	svc_fini();
	mtr_http_fini();
	clh_fini();
	int unrestored = sctl_host_fini(D.cfg->daemon.restore_on_stop);
	/* Balloons keep their sizes (docs/config.md, "On stop"). */
	bln_fini();
	unrestored += ksm_tuner_fini(D.cfg->daemon.restore_on_stop);
	ctl_fini();
	vloop_fini();
	ev_fini();
	st_close(D.st);
	D.st = NULL;
	if (D.lock_fd >= 0)
		close(D.lock_fd);
	D.lock_fd = -1;
	free(D.cfg);
	D.cfg = NULL;
	return unrestored;
}

int main(int argc, char **argv)
{
	char err[CFG_ERR_MAX];
	sigset_t sigs;
	int r;

	/* First of all: a SIGHUP or SIGTERM that comes while the configuration loads or the journal is
	 * restored waits, blocked, for the loop's signalfd instead of killing us with its default action. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	log_setup(LOG_TARGET_STDERR, LOG_INFO);
	if (parse_args(argc, argv) < 0 || make_paths_absolute() < 0)
		return EXIT_USAGE;
	D.cfg = malloc(sizeof(*D.cfg));
	if (!D.cfg)
		return EXIT_RUNTIME;
	r = dconfig_load(D.config_path, D.config_given, &D.ovr, D.cfg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "memoptd: %s\n", err);
		return EXIT_CONFIG;
	}
	if (D.check_only) {
		printf("%s: configuration OK\n", D.cfg->path[0] ? D.cfg->path : "(built-in defaults)");
		return EXIT_OK;
	}
	if (D.print_only) {
		cfg_print(D.cfg, stdout);
		return EXIT_OK;
	}
	log_set_max_level(D.cfg->daemon.log_level);

	int code = start_up();
	if (code != EXIT_OK) {
		stop_all();
		return code;
	}
	if (!D.foreground && !D.once) {
		/* Only now, so that every start-up failure above exits non-zero from the process the operator
		 * or init started. The child inherits the lock (flock belongs to the open file description),
		 * the listening socket and the signalfd (which reads the signals of the process reading it).
		 * Signals sent to the parent while it started up are not inherited: pass them on. */
		sigset_t pending;
		sigemptyset(&pending);
		sigpending(&pending);
		if (daemon(0, 0) < 0) {
			log_err("cannot daemonize: %m");
			stop_all();
			return EXIT_STARTUP;
		}
		log_setup(LOG_TARGET_SYSLOG, D.cfg->daemon.log_level);
		for (int i = 0; i < NSIG; i++)
			if (sigismember(&sigs, i) == 1 && sigismember(&pending, i) == 1)
				raise(i);
	}
	log_notice("memoptd " MEMOPT_VERSION " started%s (config %s, socket %s)", D.cfg->daemon.dry_run ? " in dry-run mode" : "",
		   D.cfg->path[0] ? D.cfg->path : "built-in defaults", D.cfg->daemon.socket_path);
	log_privileges();

	r = ksm_tuner_init(D.cfg, D.st);
	if (r < 0) {
		errno = -r;
		log_warn("ksm: not available (%s/kernel/mm/ksm: %m), continuing without KSM tuning", D.cfg->daemon.sysfs_root);
	}
	/* After the KSM tuner. A libvirtd that is down is retried with backoff, never fatal. */
	r = bln_init(D.cfg);
	if (r < 0) {
		errno = -r;
		log_err("balloon: cannot start (%m), continuing without balloon control");
	}
	/* Last: it may apply the host plan at once ([host] apply_on_start). */
	r = sctl_host_init(D.cfg, D.st);
	if (r < 0) {
		errno = -r;
		log_err("host: cannot start (%m), continuing without host policy");
	}

	/* After the balloon module, whose guests give the balloon slack. corosync being down is retried. */
	r = clh_init(D.cfg);
	if (r < 0) {
		errno = -r;
		log_err("cluster: cannot start (%m), continuing without headroom and admission");
	}

	/* After every module, whose views it serves. Not fatal: memory management does not depend on it. */
	if (!D.once) {
		r = mtr_http_init((const struct memopt_config *const *)&D.cfg, D.start_ms);
		if (r < 0)
			log_err("metrics: continuing without the metrics endpoint (a reload tries again)");
	}

	/* After every module: READY=1 means start-up (state dir, journal restore, socket, modules) is done. */
	r = svc_init(status_summary);
	if (r < 0) {
		errno = -r;
		log_err("cannot arm the service notification timer: %m");
		stop_all();
		return EXIT_STARTUP;
	}
	svc_ready();

	if (D.once) {
		ksm_tuner_cycle();
		bln_cycle();
		clh_cycle();
		sctl_host_cycle();
	} else {
		code = ev_run();
		if (code < 0)
			code = EXIT_RUNTIME;
	}

	int unrestored = stop_all();
	log_notice("memoptd stopped");
	return unrestored > 0 && code == EXIT_OK ? EXIT_RESTORE : code;
}
