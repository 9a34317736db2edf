/* memoptd.c - the memopt daemon: start-up order, signals, reload, clean stop. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include "../common/log.h"
#include "../common/loop.h"
#include "../common/state.h"
#include "../common/virtloop.h"
#include "../balloon/bln_ctl.h"
#include "../ksmtuned/ksm_tuner.h"

/* Exit codes (documented in README.md and `memoptd --help`). */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,       /* the event loop failed */
	EXIT_USAGE = 2,         /* bad command line */
	EXIT_CONFIG = 3,        /* configuration refused */
	EXIT_STARTUP = 4,       /* state journal, lock or control socket could not be set up */
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
		"(state journal, lock, socket), 5 stopped but some originals could not be restored.\n");
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
	ev_quit(EXIT_OK);
}

static void on_reload(int signo, void *data)
{
	(void)signo; (void)data;
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
	struct memopt_config *old = D.cfg;
	D.cfg = n;
	log_set_max_level(n->daemon.log_level);
	ctl_set_admin_group(n->daemon.admin_group);
	ksm_tuner_reload(n);
	bln_reload(n);
	free(old);
	log_notice("configuration reloaded from %s", n->path[0] ? n->path : "(built-in defaults)");
	dlog_record("daemon", n->daemon.dry_run, "SIGHUP", "configuration reloaded");
}

static int take_lock(const char *state_dir)
{
	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	char path[CFG_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/memoptd.lock", state_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	D.lock_fd = fd;
	return 0;
}

int main(int argc, char **argv)
{
	char err[CFG_ERR_MAX];
	int r;

	log_setup(LOG_TARGET_STDERR, LOG_INFO);
	if (parse_args(argc, argv) < 0)
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
	if (!D.foreground && !D.once) {
		if (daemon(0, 0) < 0) {
			fprintf(stderr, "memoptd: cannot daemonize: %s\n", strerror(errno));
			return EXIT_STARTUP;
		}
		log_setup(LOG_TARGET_SYSLOG, D.cfg->daemon.log_level);
	} else {
		log_set_max_level(D.cfg->daemon.log_level);
	}
	signal(SIGPIPE, SIG_IGN);

	/* Start-up order: lock, journal (restore leftovers of a crash first), loop, socket, modules. */
	r = take_lock(D.cfg->daemon.state_dir);
	if (r < 0) {
		errno = -r;
		log_err("cannot lock %s/memoptd.lock (%m): is another memoptd running?", D.cfg->daemon.state_dir);
		return EXIT_STARTUP;
	}
	r = st_open(D.cfg->daemon.state_dir, &D.st, err, sizeof(err));
	if (r < 0) {
		log_err("refusing to start: %s. The file holds the original host values memoptd must put back; "
			"inspect it, restore by hand if needed, then move it aside.", err);
		return EXIT_STARTUP;
	}
	if (st_count(D.st) > 0) {
		log_warn("found %zu original value(s) journaled by a previous run that did not stop cleanly: restoring them first",
			 st_count(D.st));
		r = st_restore(D.st, NULL, D.cfg->daemon.dry_run);
		if (r != 0)
			log_err("%d journaled value(s) could not be restored; they stay journaled", r);
	}
	ev_init();
	vloop_register(); /* before any libvirt connection: libvirt's events run on our loop */
	ev_add_signal(SIGTERM, on_stop, NULL);
	ev_add_signal(SIGINT, on_stop, NULL);
	ev_add_signal(SIGHUP, on_reload, NULL);
	r = ctl_init(D.cfg->daemon.socket_path, D.cfg->daemon.admin_group);
	if (r < 0) {
		errno = -r;
		log_err("cannot open control socket %s: %m", D.cfg->daemon.socket_path);
		st_close(D.st);
		return EXIT_STARTUP;
	}
	commands_init((const struct memopt_config *const *)&D.cfg, ev_now_ms());
	log_notice("memoptd " MEMOPT_VERSION " started%s (config %s, socket %s)", D.cfg->daemon.dry_run ? " in dry-run mode" : "",
		   D.cfg->path[0] ? D.cfg->path : "built-in defaults", D.cfg->daemon.socket_path);

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

	int code;
	if (D.once) {
		ksm_tuner_cycle();
		bln_cycle();
		code = EXIT_OK;
	} else {
		code = ev_run();
		if (code < 0)
			code = EXIT_RUNTIME;
	}

	/* Stop in reverse order. Balloons keep their sizes (docs/config.md, "On stop"). */
	bln_fini();
	int unrestored = ksm_tuner_fini(D.cfg->daemon.restore_on_stop);
	ctl_fini();
	vloop_fini();
	ev_fini();
	st_close(D.st);
	if (D.lock_fd >= 0)
		close(D.lock_fd);
	free(D.cfg);
	log_notice("memoptd stopped");
	return unrestored > 0 && code == EXIT_OK ? EXIT_RESTORE : code;
}
