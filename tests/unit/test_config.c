/* test_config.c - unit tests for the memoptd.conf parser, validation, loading and --print-config. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "common/cleanup.h"
#include "common/config.h"

#define UNUSED __attribute__((unused))

static char srcdir[512];

/* Tests run from the source tree (make check); MEMOPT_SRCDIR points elsewhere. */
static int find_srcdir(void **state UNUSED)
{
	const char *env = getenv("MEMOPT_SRCDIR");
	char probe[600];

	snprintf(srcdir, sizeof(srcdir), "%s", env ? env : ".");
	/* Outside the source tree the fixture tests skip; inside it a missing fixture fails them. */
	snprintf(probe, sizeof(probe), "%s/tests/unit", srcdir);
	if (access(probe, F_OK) != 0)
		srcdir[0] = '\0';
	return 0;
}

static const char *fixture(const char *name, char *buf, size_t len)
{
	if (!srcdir[0])
		skip();
	snprintf(buf, len, "%s/tests/fixtures/config/%s", srcdir, name);
	if (access(buf, R_OK) != 0)
		fail_msg("fixture %s is missing", buf);
	return buf;
}

static char *print_to_string(const struct memopt_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	cfg_print(cfg, f);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void assert_same_config(const struct memopt_config *a, const struct memopt_config *b)
{
	struct memopt_config x = *a, y = *b;

	/* Only where it came from may differ. */
	memset(x.path, 0, sizeof(x.path));
	memset(y.path, 0, sizeof(y.path));
	if (memcmp(&x, &y, sizeof(x)) != 0) {
		_cleanup_free_ char *ta = print_to_string(&x), *tb = print_to_string(&y);
		char *la, *lb, *sa = NULL, *sb = NULL;

		/* Name the first printed line that differs; cmocka truncates long messages. */
		for (la = strtok_r(ta, "\n", &sa), lb = strtok_r(tb, "\n", &sb); la && lb;
		     la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb))
			if (strcmp(la, lb) != 0)
				fail_msg("configs differ: '%s' vs '%s'", la, lb);
		fail_msg("configs differ in bytes that print the same");
	}
}

static void test_defaults(void **state UNUSED)
{
	struct memopt_config c;
	char err[CFG_ERR_MAX] = "";

	cfg_defaults(&c);
	assert_string_equal(c.path, "");
	assert_int_equal(c.daemon.log_level, LOG_INFO);
	assert_false(c.daemon.dry_run);
	assert_true(c.daemon.restore_on_stop);
	assert_string_equal(c.daemon.socket_path, "/run/memopt/memoptd.sock");
	assert_string_equal(c.daemon.admin_group, "");
	assert_string_equal(c.daemon.state_dir, "/var/lib/memopt");
	assert_string_equal(c.daemon.sysfs_root, "/sys");
	assert_string_equal(c.daemon.procfs_root, "/proc");
	assert_string_equal(c.daemon.ksmtuned_conf, "/etc/ksmtuned.conf");
	assert_true(c.ksm.manage);
	assert_int_equal(c.ksm.mode, KSM_MODE_AUTO);
	assert_int_equal(c.ksm.rate_control, KSM_RATE_SELF);
	assert_int_equal(c.ksm.interval_ms, 2000);
	assert_true(c.ksm.start_avail.is_percent);
	assert_int_equal(c.ksm.start_avail.ppm, 200000);
	assert_true(c.ksm.stop_avail.is_percent);
	assert_int_equal(c.ksm.stop_avail.ppm, 300000);
	assert_int_equal(c.ksm.start_psi_ppm, 50000);
	assert_int_equal(c.ksm.stop_psi_ppm, 10000);
	assert_int_equal(c.ksm.stop_hold_ms, 60000);
	assert_int_equal(c.ksm.max_cpu_ppm, 500000);
	assert_int_equal(c.ksm.steady_cpu_ppm, 80000);
	assert_int_equal(c.ksm.burst_cpu_ms, 20000);
	assert_int_equal(c.ksm.min_yield_kib, 16384);
	assert_int_equal(c.ksm.settled_scan_time_ms, 900000);
	assert_int_equal(c.ksm.sleep_ms, 10);
	assert_int_equal(c.ksm.min_pages_to_scan, 32);
	assert_int_equal(c.ksm.max_pages_to_scan, 20000);
	assert_int_equal(c.ksm.smart_scan, TRI_AUTO);
	assert_int_equal(c.ksm.use_zero_pages, TRI_KEEP);
	assert_int_equal(c.ksm.advisor_target_scan_ms, 60000);
	assert_int_equal(cfg_validate(&c, err, sizeof(err)), 0);
}

static void test_parse_full(void **state UNUSED)
{
	struct memopt_config c;
	char err[CFG_ERR_MAX] = "", path[600];

	cfg_defaults(&c);
	fixture("good-full.conf", path, sizeof(path));
	assert_int_equal(cfg_parse_file(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.path, path);
	assert_int_equal(c.daemon.log_level, LOG_DEBUG);
	assert_true(c.daemon.dry_run);
	assert_false(c.daemon.restore_on_stop);
	assert_string_equal(c.daemon.socket_path, "/run/test/memoptd.sock");
	assert_string_equal(c.daemon.admin_group, "kvm-admins");
	assert_string_equal(c.daemon.state_dir, "/tmp/memopt-state");
	assert_string_equal(c.daemon.sysfs_root, "/srv/fake/sys");
	assert_string_equal(c.daemon.procfs_root, "/srv/fake/proc");
	assert_string_equal(c.daemon.ksmtuned_conf, "");
	assert_false(c.ksm.manage);
	assert_int_equal(c.ksm.mode, KSM_MODE_ALWAYS);
	assert_int_equal(c.ksm.rate_control, KSM_RATE_ADVISOR);
	assert_int_equal(c.ksm.interval_ms, 500);
	assert_false(c.ksm.start_avail.is_percent);
	assert_int_equal(c.ksm.start_avail.kib, 4ULL << 20);
	assert_false(c.ksm.stop_avail.is_percent);
	assert_int_equal(c.ksm.stop_avail.kib, 6ULL << 20);
	assert_int_equal(c.ksm.start_psi_ppm, 125000);
	assert_int_equal(c.ksm.stop_psi_ppm, 20000);
	assert_int_equal(c.ksm.stop_hold_ms, 120000);
	assert_int_equal(c.ksm.max_cpu_ppm, 800000);
	assert_int_equal(c.ksm.steady_cpu_ppm, 200000);
	assert_int_equal(c.ksm.burst_cpu_ms, 60000);
	assert_int_equal(c.ksm.min_yield_kib, 32768);
	assert_int_equal(c.ksm.settled_scan_time_ms, 3600000);
	assert_int_equal(c.ksm.sleep_ms, 20);
	assert_int_equal(c.ksm.min_pages_to_scan, 100);
	assert_int_equal(c.ksm.max_pages_to_scan, 5000);
	assert_int_equal(c.ksm.smart_scan, TRI_NO);
	assert_int_equal(c.ksm.use_zero_pages, TRI_YES);
	assert_int_equal(c.ksm.advisor_target_scan_ms, 30000);
	assert_int_equal(cfg_validate(&c, err, sizeof(err)), 0);
}

static void test_parse_crlf_and_empty(void **state UNUSED)
{
	struct memopt_config c, d;
	char err[CFG_ERR_MAX] = "", path[600];

	cfg_defaults(&c);
	assert_int_equal(cfg_parse_file(fixture("good-crlf.conf", path, sizeof(path)), &c, err, sizeof(err)),
			 0);
	assert_int_equal(c.ksm.interval_ms, 1000);
	assert_int_equal(c.daemon.log_level, LOG_NOTICE);
	assert_int_equal(c.ksm.mode, KSM_MODE_OFF);

	cfg_defaults(&c);
	cfg_defaults(&d);
	assert_int_equal(cfg_parse_file(fixture("good-empty.conf", path, sizeof(path)), &c, err, sizeof(err)),
			 0);
	assert_same_config(&c, &d);
}

/* The printed configuration parses back to exactly the same struct. */
static void roundtrip(const struct memopt_config *c)
{
	_cleanup_free_ char *text = print_to_string(c);
	struct memopt_config back;
	char err[CFG_ERR_MAX] = "";

	cfg_defaults(&back);
	if (cfg_parse_string("printed", text, &back, err, sizeof(err)) != 0)
		fail_msg("printed config does not parse: %s\n%s", err, text);
	assert_same_config(c, &back);
}

static void test_print_roundtrip(void **state UNUSED)
{
	struct memopt_config c;
	char err[CFG_ERR_MAX] = "", path[600];
	_cleanup_free_ char *text = NULL;

	cfg_defaults(&c);
	roundtrip(&c);

	/* Non-default values everywhere, and values that only exist as odd units. */
	assert_int_equal(cfg_parse_file(fixture("good-full.conf", path, sizeof(path)), &c, err, sizeof(err)),
			 0);
	roundtrip(&c);
	assert_int_equal(cfg_parse_string("odd",
					  "[ksm]\nstart_avail = 1.5G\nstop_avail = 12.3456%\n"
					  "interval = 1500ms\nstart_psi = 0.0001%\nmin_yield = 1537K\n"
					  "[daemon]\nlog_level = err\nadmin_group = none\n",
					  &c, err, sizeof(err)),
			 0);
	assert_int_equal(c.ksm.start_avail.kib, 1572864);
	assert_int_equal(c.ksm.stop_avail.ppm, 123456);
	roundtrip(&c);

	/* Each key printed once, sections in order. */
	text = print_to_string(&c);
	assert_non_null(strstr(text, "\n[daemon]\n"));
	assert_true(strstr(text, "\n[daemon]\n") < strstr(text, "\n[ksm]\n"));
	assert_non_null(strstr(text, "\nstart_avail = 1536M\n"));
	assert_non_null(strstr(text, "\nstop_avail = 12.3456%\n"));
	assert_non_null(strstr(text, "\ninterval = 1500ms\n"));
	assert_non_null(strstr(text, "\nadmin_group = none\n"));
	assert_non_null(strstr(text, "\nlog_level = err\n"));
}

struct bad_case {
	const char *file;
	const char *msg; /* after "<path>" */
};

static void test_bad_fixtures(void **state UNUSED)
{
	static const struct bad_case cases[] = {
	    {"bad-range.conf", ":4: [ksm] max_cpu_percent: invalid value '150%' (expected 1%..100%)"},
	    {"bad-unknown-key.conf", ":3: unknown key 'max_cpu' in section [ksm]"},
	    {"bad-unknown-section.conf", ":3: unknown section [ballon]"},
	    {"bad-duplicate.conf", ":4: [ksm] interval: duplicate key (first set on line 2)"},
	    {"bad-empty-value.conf", ":2: [daemon] state_dir: empty value"},
	    {"bad-outside-section.conf", ":2: key 'dry_run' outside of any section"},
	    {"bad-no-equals.conf", ":2: expected 'key = value' or '[section]', got 'dry_run yes'"},
	    {"bad-long-line.conf", ":2: line too long (1102 characters, at most 1023)"},
	    {"bad-nul.conf", ":3: NUL byte in line"},
	    {"bad-binary.conf", ":2: control character 0x7f in line"},
	};
	size_t i;

	for (i = 0; i < ELEMENTSOF(cases); i++) {
		struct memopt_config c;
		char err[CFG_ERR_MAX] = "", path[600], want[1200];

		cfg_defaults(&c);
		fixture(cases[i].file, path, sizeof(path));
		snprintf(want, sizeof(want), "%s%s", path, cases[i].msg);
		assert_int_equal(cfg_parse_file(path, &c, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, want);
	}
}

/* One "key = value" in a section: returns the parse result, err holds the message. */
static int parse1(const char *section, const char *key, const char *value, struct memopt_config *c, char *err,
		  size_t errlen)
{
	char text[2048];

	snprintf(text, sizeof(text), "[%s]\n%s = %s\n", section, key, value);
	cfg_defaults(c);
	err[0] = '\0';
	return cfg_parse_string("t.conf", text, c, err, errlen);
}

static void test_key_ranges(void **state UNUSED)
{
	static const struct {
		const char *section, *key, *value;
		bool ok;
		const char *expected; /* for errors: the "(expected ...)" part */
	} cases[] = {
	    {"ksm", "interval", "250ms", true, NULL},
	    {"ksm", "interval", "60s", true, NULL},
	    {"ksm", "interval", "249ms", false, "250ms..1m"},
	    {"ksm", "interval", "61s", false, "250ms..1m"},
	    {"ksm", "interval", "2 weeks", false, "250ms..1m"},
	    {"ksm", "max_cpu_percent", "1%", true, NULL},
	    {"ksm", "max_cpu_percent", "0%", false, "1%..100%"},
	    {"ksm", "max_cpu_percent", "100", true, NULL},
	    {"ksm", "steady_cpu_percent", "0", true, NULL},
	    {"ksm", "start_psi", "100.5%", false, "0%..100%"},
	    {"ksm", "burst_cpu", "0", true, NULL},
	    {"ksm", "burst_cpu", "1h", true, NULL},
	    {"ksm", "burst_cpu", "61m", false, "0s..1h"},
	    {"ksm", "settled_scan_time", "9s", false, "10s..24h"},
	    {"ksm", "settled_scan_time", "86400", true, NULL},
	    {"ksm", "sleep_ms", "10000", true, NULL},
	    {"ksm", "sleep_ms", "10001", false, "an integer 0..10000"},
	    {"ksm", "sleep_ms", "10ms", false, "an integer 0..10000"},
	    {"ksm", "min_pages_to_scan", "0", false, "an integer 1..100000"},
	    {"ksm", "max_pages_to_scan", "1000000", true, NULL},
	    {"ksm", "max_pages_to_scan", "1000001", false, "an integer 1..1000000"},
	    {"ksm", "max_pages_to_scan", "-1", false, "an integer 1..1000000"},
	    {"ksm", "min_yield", "0", true, NULL},
	    {"ksm", "min_yield", "2T", false, "a size 0K..1T"},
	    {"ksm", "start_avail", "101%", false, "a size like 4G or a percentage of MemTotal like 20%"},
	    {"ksm", "start_avail", "-1G", false, "a size like 4G or a percentage of MemTotal like 20%"},
	    {"ksm", "mode", "AUTO", false, "auto|always|off"},
	    {"ksm", "smart_scan", "keep", true, NULL},
	    {"ksm", "use_zero_pages", "auto", false, "keep|yes|no"},
	    {"ksm", "rate_control", "kernel", false, "self|advisor"},
	    {"ksm", "manage", "maybe", false, "yes or no"},
	    {"ksm", "advisor_target_scan_time", "0", false, "1s..24h"},
	    {"daemon", "log_level", "warn", false, "err|warning|notice|info|debug"},
	    {"daemon", "socket", "memoptd.sock", false, "an absolute path of at most 255 characters"},
	    {"daemon", "admin_group", "kvm admins", false, "a group name of at most 63 characters, or none"},
	    {"daemon", "admin_group", "-kvm", false, "a group name of at most 63 characters, or none"},
	    {"daemon", "admin_group", "libvirt", true, NULL},
	    {"daemon", "ksmtuned_conf", "relative/ksmtuned.conf", false,
	     "an absolute path of at most 255 characters, or none"},
	    {"daemon", "state_dir", "/var/lib/memopt # with a comment", true, NULL},
	    {"daemon", "state_dir", "/var/lib/mem#opt", true, NULL},
	};
	size_t i;

	for (i = 0; i < ELEMENTSOF(cases); i++) {
		struct memopt_config c;
		char err[CFG_ERR_MAX], want[CFG_ERR_MAX];
		int r = parse1(cases[i].section, cases[i].key, cases[i].value, &c, err, sizeof(err));

		if (cases[i].ok) {
			if (r != 0)
				fail_msg("[%s] %s = %s rejected: %s", cases[i].section, cases[i].key,
					 cases[i].value, err);
			continue;
		}
		snprintf(want, sizeof(want), "t.conf:2: [%s] %s: invalid value '%s' (expected %s)",
			 cases[i].section, cases[i].key, cases[i].value, cases[i].expected);
		if (r != -EINVAL || strcmp(err, want) != 0)
			fail_msg("[%s] %s = %s: r=%d\n got: %s\nwant: %s", cases[i].section, cases[i].key,
				 cases[i].value, r, err, want);
	}
}

static void test_strings(void **state UNUSED)
{
	struct memopt_config c;
	char err[CFG_ERR_MAX], longpath[300];

	assert_int_equal(parse1("daemon", "state_dir", "/var/lib/mem#opt", &c, err, sizeof(err)), 0);
	assert_string_equal(c.daemon.state_dir, "/var/lib/mem#opt");
	assert_int_equal(parse1("daemon", "state_dir", "/var/lib/memopt ; comment", &c, err, sizeof(err)), 0);
	assert_string_equal(c.daemon.state_dir, "/var/lib/memopt");
	assert_int_equal(parse1("daemon", "admin_group", "none", &c, err, sizeof(err)), 0);
	assert_string_equal(c.daemon.admin_group, "");
	assert_int_equal(parse1("daemon", "ksmtuned_conf", "none", &c, err, sizeof(err)), 0);
	assert_string_equal(c.daemon.ksmtuned_conf, "");

	/* 255 characters fit, 256 don't. */
	memset(longpath, 'a', sizeof(longpath));
	longpath[0] = '/';
	longpath[255] = '\0';
	assert_int_equal(parse1("daemon", "socket", longpath, &c, err, sizeof(err)), 0);
	assert_int_equal(strlen(c.daemon.socket_path), 255);
	longpath[255] = 'a';
	longpath[256] = '\0';
	assert_int_equal(parse1("daemon", "socket", longpath, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(c.daemon.socket_path, "/run/memopt/memoptd.sock");
}

static void test_syntax_errors(void **state UNUSED)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
	    {"[ksm\n", "s.conf:1: malformed section header '[ksm'"},
	    {"[ksm] x\n", "s.conf:1: malformed section header '[ksm] x'"},
	    {"[KSM]\n", "s.conf:1: unknown section [KSM]"},
	    {"[]\n", "s.conf:1: unknown section []"},
	    {"[ksm]\n= 5\n", "s.conf:2: missing key before '='"},
	    {"[ksm]\nInterval = 5\n", "s.conf:2: invalid key name 'Interval'"},
	    {"[ksm]\nmax pages = 5\n", "s.conf:2: invalid key name 'max pages'"},
	    {"[ksm]\ninterval = # only a comment\n", "s.conf:2: [ksm] interval: empty value"},
	    {"[ksm]\n\n\ninterval = 2s\n[daemon]\n[ksm]\ninterval = 3s\n",
	     "s.conf:7: [ksm] interval: duplicate key (first set on line 4)"},
	    {"[daemon]\ninterval = 2s\n", "s.conf:2: unknown key 'interval' in section [daemon]"},
	    {"[ksm]\nmode = auto\rx\n", "s.conf:2: control character 0x0d in line"},
	    {"[ksm]\nmode = \x1b[31mauto\n", "s.conf:2: control character 0x1b in line"},
	    {"[metrics]\n\nlisten = localhost:9720\n",
	     "s.conf:3: [metrics] listen: invalid value 'localhost:9720' (expected a numeric IPV4:PORT or "
	     "[IPV6]:PORT with port 1..65535, or off)"},
	    {"[metrics]\nlisten = 127.0.0.1:0\n",
	     "s.conf:2: [metrics] listen: invalid value '127.0.0.1:0' (expected a numeric IPV4:PORT or "
	     "[IPV6]:PORT with port 1..65535, or off)"},
	    {"[metrics]\nlisten = ::1:9720\n",
	     "s.conf:2: [metrics] listen: invalid value '::1:9720' (expected a numeric IPV4:PORT or "
	     "[IPV6]:PORT with port 1..65535, or off)"},
	};
	size_t i;

	for (i = 0; i < ELEMENTSOF(cases); i++) {
		struct memopt_config c;
		char err[CFG_ERR_MAX] = "";

		cfg_defaults(&c);
		assert_int_equal(cfg_parse_string("s.conf", cases[i].text, &c, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, cases[i].err);
	}
}

static void test_line_length(void **state UNUSED)
{
	struct memopt_config c;
	char err[CFG_ERR_MAX];
	char text[1200];
	size_t n;

	/* "[daemon]\n" + a comment line of exactly 1023 characters is fine; 1024 is not. */
	n = (size_t)snprintf(text, sizeof(text), "[daemon]\n#");
	memset(text + n, 'c', 1022);
	text[n + 1022] = '\0';
	cfg_defaults(&c);
	assert_int_equal(cfg_parse_string("l.conf", text, &c, err, sizeof(err)), 0);
	text[n + 1022] = 'c';
	text[n + 1023] = '\n';
	text[n + 1024] = '\0';
	assert_int_equal(cfg_parse_string("l.conf", text, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "l.conf:2: line too long (1024 characters, at most 1023)");

	/* A tiny error buffer is truncated, not overrun. */
	memset(err, 'x', sizeof(err));
	assert_int_equal(cfg_parse_string("l.conf", "[nope]\n", &c, err, 8), -EINVAL);
	assert_string_equal(err, "l.conf:");
	assert_int_equal(err[8], 'x');
}

static void test_validate(void **state UNUSED)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
	    {"[ksm]\nstart_avail = 30%\nstop_avail = 30%\n",
	     "v.conf: [ksm] stop_avail (30%) must be above start_avail (30%)"},
	    {"[ksm]\nstart_avail = 4G\nstop_avail = 2G\n",
	     "v.conf: [ksm] stop_avail (2G) must be above start_avail (4G)"},
	    {"[ksm]\nstart_psi = 1%\nstop_psi = 2%\n",
	     "v.conf: [ksm] stop_psi (2%) must not be above start_psi (1%)"},
	    {"[ksm]\nmax_cpu_percent = 5%\n",
	     "v.conf: [ksm] steady_cpu_percent (8%) must not be above max_cpu_percent (5%)"},
	    {"[ksm]\nmin_pages_to_scan = 30000\n",
	     "v.conf: [ksm] min_pages_to_scan (30000) must not be above max_pages_to_scan (20000)"},
	};
	struct memopt_config c;
	char err[CFG_ERR_MAX];
	size_t i;

	for (i = 0; i < ELEMENTSOF(cases); i++) {
		cfg_defaults(&c);
		assert_int_equal(cfg_parse_string("v.conf", cases[i].text, &c, err, sizeof(err)), 0);
		err[0] = '\0';
		assert_int_equal(cfg_validate(&c, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, cases[i].err);
	}
	/* Equal PSI / CPU / pages are fine; mixed absolute and percent thresholds are not compared. */
	cfg_defaults(&c);
	assert_int_equal(cfg_parse_string("v.conf",
					  "[ksm]\nstart_psi = 2%\nstop_psi = 2%\nmax_cpu_percent = 10%\n"
					  "min_pages_to_scan = 500\nmax_pages_to_scan = 500\n"
					  "start_avail = 90%\nstop_avail = 1G\n",
					  &c, err, sizeof(err)),
			 0);
	if (cfg_validate(&c, err, sizeof(err)) != 0)
		fail_msg("%s", err);

	/* Values that bypassed the parser (e.g. an import) are range-checked; defaults are named. */
	cfg_defaults(&c);
	c.ksm.max_pages_to_scan = 5000000;
	assert_int_equal(cfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "(built-in defaults): [ksm] max_pages_to_scan: value '5000000' out of range "
				 "(expected an integer 1..1000000)");
	cfg_defaults(&c);
	c.ksm.mode = (enum ksm_mode)7;
	assert_int_equal(cfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "(built-in defaults): [ksm] mode: value 'invalid(7)' out of range "
				 "(expected auto|always|off)");
}

static void test_load(void **state UNUSED)
{
	struct memopt_config c, sentinel, d;
	char err[CFG_ERR_MAX], path[600], want[1200];

	memset(&c, 0xab, sizeof(c));
	sentinel = c;

	/* Validation failure: nothing written. */
	fixture("bad-cross-avail.conf", path, sizeof(path));
	assert_int_equal(cfg_load(path, true, &c, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: [ksm] stop_avail (25%%) must be above start_avail (30%%)", path);
	assert_string_equal(err, want);
	assert_memory_equal(&c, &sentinel, sizeof(c));

	/* Parse failure: nothing written. */
	assert_int_equal(cfg_load(fixture("bad-range.conf", path, sizeof(path)), true, &c, err, sizeof(err)),
			 -EINVAL);
	assert_memory_equal(&c, &sentinel, sizeof(c));

	/* Missing file. */
	assert_int_equal(cfg_load("/nonexistent/memoptd.conf", true, &c, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/memoptd.conf: cannot open: No such file or directory");
	assert_memory_equal(&c, &sentinel, sizeof(c));
	assert_int_equal(cfg_load("/nonexistent/memoptd.conf", false, &c, err, sizeof(err)), 0);
	cfg_defaults(&d);
	assert_same_config(&c, &d);
	assert_string_equal(c.path, "");

	/* A directory is not a config file. */
	assert_int_equal(cfg_load("/", true, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "/: not a regular file");

	/* Success. */
	assert_int_equal(cfg_load(fixture("good-full.conf", path, sizeof(path)), true, &c, err, sizeof(err)),
			 0);
	assert_string_equal(c.path, path);
	assert_int_equal(c.ksm.sleep_ms, 20);
}

/* [balloon] defaults and its keys' ranges. */
static void test_balloon_section(void **state UNUSED)
{
	static const struct {
		const char *text, *err;
	} bad[] = {
	    {"[balloon]\nfloor = 150%\n",
	     "b.conf:2: [balloon] floor: invalid value '150%' (expected a size like 2G or a percentage of the "
	     "guest's memory like 50%)"},
	    {"[balloon]\nfloor = lots\n",
	     "b.conf:2: [balloon] floor: invalid value 'lots' (expected a size like 2G or a percentage of the "
	     "guest's memory like 50%)"},
	    {"[balloon]\ninterval = 500ms\n", "b.conf:2: [balloon] interval: invalid value '500ms' (expected 1s..1m)"},
	    {"[balloon]\nuri = qemu:///sys tem\n",
	     "b.conf:2: [balloon] uri: invalid value 'qemu:///sys tem' (expected at most 255 printable characters "
	     "without blanks)"},
	    {"[balloon]\nshares = 0\n", "b.conf:2: [balloon] shares: invalid value '0' (expected an integer 1..100000)"},
	    {"[balloon]\nmax_sets_per_cycle = 0\n",
	     "b.conf:2: [balloon] max_sets_per_cycle: invalid value '0' (expected an integer 1..10000)"},
	    {"[ballon]\n", "b.conf:1: unknown section [ballon]"},
	};
	static const struct {
		const char *text, *err;
	} invalid[] = {
	    {"[balloon]\nhost_min_avail = 30%\nhost_release_avail = 20%\n",
	     "b.conf: [balloon] host_release_avail (20%) must be above host_min_avail (30%)"},
	    {"[balloon]\nhost_min_avail = 4G\nhost_release_avail = 4G\n",
	     "b.conf: [balloon] host_release_avail (4G) must be above host_min_avail (4G)"},
	    {"[balloon]\nmin_step = 1G\nmax_step = 512M\n",
	     "b.conf: [balloon] min_step (1G) must not be above max_step (512M)"},
	    {"[balloon]\nstats_period = 1500ms\n", "b.conf: [balloon] stats_period (1500ms) must be whole seconds"},
	};
	struct memopt_config c;
	char err[CFG_ERR_MAX];
	size_t i;

	cfg_defaults(&c);
	assert_false(c.balloon.manage);
	assert_string_equal(c.balloon.uri, "qemu:///system");
	assert_int_equal(c.balloon.interval_ms, 5000);
	assert_int_equal(c.balloon.stats_period_ms, 2000);
	assert_true(c.balloon.host_min_avail.is_percent);
	assert_int_equal(c.balloon.host_min_avail.ppm, 150000);
	assert_int_equal(c.balloon.host_release_avail.ppm, 250000);
	assert_int_equal(c.balloon.host_psi_ppm, 100000);
	assert_true(c.balloon.guest_margin.is_percent);
	assert_int_equal(c.balloon.guest_margin.ppm, 100000);
	assert_int_equal(c.balloon.guest_low_usable_kib, 65536);
	assert_int_equal(c.balloon.guest_swapin_kib_s, 1024);
	assert_int_equal(c.balloon.guest_majflt_s, 100);
	assert_int_equal(c.balloon.min_step_kib, 32768);
	assert_int_equal(c.balloon.max_step_kib, 524288);
	assert_true(c.balloon.floor.is_percent);
	assert_int_equal(c.balloon.floor.ppm, 500000);
	assert_int_equal(c.balloon.shares, 1000);
	assert_int_equal(c.balloon.max_sets_per_cycle, 8);
	assert_int_equal(c.balloon.grow_hold_ms, 60000);
	assert_int_equal(c.balloon.nvm, 0);

	assert_int_equal(cfg_parse_string("b.conf",
					  "[balloon]\nmanage = yes\nuri = test:///tmp/node.xml\ninterval = 1s\n"
					  "stats_period = 5s\nhost_min_avail = 2G\nhost_release_avail = 3G\n"
					  "guest_margin = 128M\nguest_swapin = 4M\nfloor = 1G\nmax_step = 1G\n",
					  &c, err, sizeof(err)),
			 0);
	assert_true(c.balloon.manage);
	assert_string_equal(c.balloon.uri, "test:///tmp/node.xml");
	assert_int_equal(c.balloon.interval_ms, 1000);
	assert_int_equal(c.balloon.stats_period_ms, 5000);
	assert_false(c.balloon.host_min_avail.is_percent);
	assert_int_equal(c.balloon.host_min_avail.kib, 2 << 20);
	assert_false(c.balloon.guest_margin.is_percent);
	assert_int_equal(c.balloon.guest_margin.kib, 131072);
	assert_int_equal(c.balloon.guest_swapin_kib_s, 4096);
	assert_int_equal(c.balloon.floor.kib, 1 << 20);
	assert_int_equal(cfg_validate(&c, err, sizeof(err)), 0);
	roundtrip(&c);

	for (i = 0; i < ELEMENTSOF(bad); i++) {
		cfg_defaults(&c);
		err[0] = '\0';
		assert_int_equal(cfg_parse_string("b.conf", bad[i].text, &c, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].err);
	}
	for (i = 0; i < ELEMENTSOF(invalid); i++) {
		cfg_defaults(&c);
		assert_int_equal(cfg_parse_string("b.conf", invalid[i].text, &c, err, sizeof(err)), 0);
		err[0] = '\0';
		assert_int_equal(cfg_validate(&c, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, invalid[i].err);
	}
}

/* [vm PATTERN] sections: parsed in order, matched by name or UUID glob, printed back, errors with file:line. */
static void test_vm_sections(void **state UNUSED)
{
	static const char good[] = "[balloon]\nmanage = yes\n"
				   "[vm db-*]\nfloor = 8G\nshares = 4000\n"
				   "[vm web-[0-9]]\nfloor = 25%\n"
				   "[vm 3F0C2A8E-*]\nmanage = no\n"
				   "[vm *]\nmanage = yes\n"
				   "[balloon]\nshares = 500\n";
	static const struct {
		const char *text, *err;
	} bad[] = {
	    {"[vm x]\nfloor = lots\n",
	     "v.conf:2: [vm x] floor: invalid value 'lots' (expected a size like 2G or a percentage of the guest's "
	     "memory like 50%)"},
	    {"[vm x]\nfloor = 101%\n",
	     "v.conf:2: [vm x] floor: invalid value '101%' (expected a size like 2G or a percentage of the guest's "
	     "memory like 50%)"},
	    {"[vm x]\nflor = 1G\n", "v.conf:2: unknown key 'flor' in section [vm x]"},
	    {"[vm x]\ninterval = 1s\n", "v.conf:2: unknown key 'interval' in section [vm x]"},
	    {"[vm x]\nfloor = 1G\n[ksm]\n[vm y]\n[vm x]\n", "v.conf:5: duplicate section [vm x] (first on line 1)"},
	    {"[vm x]\nshares = 1\nshares = 2\n", "v.conf:3: [vm x] shares: duplicate key (first set on line 2)"},
	    {"[vm x]\nshares = 0\n", "v.conf:2: [vm x] shares: invalid value '0' (expected an integer 1..100000)"},
	    {"[vm x]\nmanage = perhaps\n", "v.conf:2: [vm x] manage: invalid value 'perhaps' (expected yes or no)"},
	    {"[vm x]\nmanage =\n", "v.conf:2: [vm x] manage: empty value"},
	    {"[vm]\n", "v.conf:1: [vm] needs a domain name, UUID or glob: [vm NAME]"},
	    {"[vm   ]\n", "v.conf:1: [vm] needs a domain name, UUID or glob: [vm NAME]"},
	    {"[vmx]\n", "v.conf:1: unknown section [vmx]"},
	    {"[vm x\n", "v.conf:1: malformed section header '[vm x'"},
	};
	struct memopt_config c;
	char err[CFG_ERR_MAX], text[8192];
	const struct cfg_vm_rule *r;
	size_t i, n;

	cfg_defaults(&c);
	if (cfg_parse_string("v.conf", good, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(cfg_validate(&c, err, sizeof(err)), 0);
	assert_int_equal(c.balloon.shares, 500);
	assert_int_equal(c.balloon.nvm, 4);
	assert_string_equal(c.balloon.vm[0].pattern, "db-*");
	assert_true(c.balloon.vm[0].has_floor);
	assert_int_equal(c.balloon.vm[0].floor.kib, 8 << 20);
	assert_int_equal(c.balloon.vm[0].shares, 4000);
	assert_int_equal(c.balloon.vm[0].manage, TRI_KEEP);
	assert_string_equal(c.balloon.vm[1].pattern, "web-[0-9]");
	assert_true(c.balloon.vm[1].floor.is_percent);
	assert_int_equal(c.balloon.vm[1].floor.ppm, 250000);
	assert_int_equal(c.balloon.vm[1].shares, 0);
	assert_int_equal(c.balloon.vm[2].manage, TRI_NO);
	assert_false(c.balloon.vm[2].has_floor);
	assert_int_equal(c.balloon.vm[3].manage, TRI_YES);

	/* First match in file order; UUIDs match case-insensitively; "*" catches the rest. */
	r = cfg_vm_match(&c, "db-main", "11111111-2222-3333-4444-555555555555");
	assert_ptr_equal(r, &c.balloon.vm[0]);
	assert_ptr_equal(cfg_vm_match(&c, "web-7", NULL), &c.balloon.vm[1]);
	assert_ptr_equal(cfg_vm_match(&c, "web-77", NULL), &c.balloon.vm[3]);
	assert_ptr_equal(cfg_vm_match(&c, "other", "3f0c2a8e-1b7d-4f5e-9a26-0d4c5b6e7f80"), &c.balloon.vm[2]);
	cfg_defaults(&c);
	assert_null(cfg_vm_match(&c, "db-main", NULL));

	/* Printed back and parsed again: the same rules. */
	assert_int_equal(cfg_parse_string("v.conf", good, &c, err, sizeof(err)), 0);
	roundtrip(&c);

	for (i = 0; i < ELEMENTSOF(bad); i++) {
		cfg_defaults(&c);
		err[0] = '\0';
		assert_int_equal(cfg_parse_string("v.conf", bad[i].text, &c, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].err);
	}

	/* At most CFG_VM_MAX sections. */
	n = 0;
	for (i = 0; i <= CFG_VM_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[vm g%zu]\nshares = 2\n", i);
	cfg_defaults(&c);
	assert_int_equal(cfg_parse_string("v.conf", text, &c, err, sizeof(err)), -EINVAL);
	snprintf(text, sizeof(text), "v.conf:%d: too many [vm] sections (at most %d)", 2 * CFG_VM_MAX + 1, CFG_VM_MAX);
	assert_string_equal(err, text);

	/* Rules that bypassed the parser are checked too. */
	cfg_defaults(&c);
	c.balloon.nvm = 1;
	snprintf(c.balloon.vm[0].pattern, sizeof(c.balloon.vm[0].pattern), "x");
	c.balloon.vm[0].manage = TRI_KEEP;
	c.balloon.vm[0].shares = 200000;
	assert_int_equal(cfg_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "(built-in defaults): [vm x] shares: value '200000' out of range (expected 1..100000)");
}

/* docs/memoptd.conf.example must parse as shipped, list every key with its default, and match. */
static void test_example_matches_defaults(void **state UNUSED)
{
	_cleanup_free_ char *printed = NULL, *ex = NULL, *uncommented = NULL;
	struct memopt_config c, d;
	char err[CFG_ERR_MAX], path[600];
	_cleanup_fclose_ FILE *f = NULL;
	char *line, *save = NULL, *out;
	size_t len;
	long sz;

	if (!srcdir[0])
		skip();
	snprintf(path, sizeof(path), "%s/docs/memoptd.conf.example", srcdir);
	f = fopen(path, "re");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz > 0);
	rewind(f);
	ex = calloc(1, (size_t)sz + 1);
	uncommented = calloc(1, (size_t)sz + 1);
	assert_int_equal(fread(ex, 1, (size_t)sz, f), (size_t)sz);

	cfg_defaults(&d);
	cfg_defaults(&c);
	assert_int_equal(cfg_parse_string(path, ex, &c, err, sizeof(err)), 0);
	assert_same_config(&c, &d);

	/* "#key = value" lines uncommented are exactly the defaults, each key once (duplicates fail). */
	out = uncommented;
	for (len = 0; len < (size_t)sz; len++) {
		bool key_line = (len == 0 || ex[len - 1] == '\n') && ex[len] == '#' && ex[len + 1] >= 'a' &&
				ex[len + 1] <= 'z';
		if (!key_line)
			*out++ = ex[len];
	}
	cfg_defaults(&c);
	assert_int_equal(cfg_parse_string(path, uncommented, &c, err, sizeof(err)), 0);
	assert_same_config(&c, &d);

	/* And every key --print-config knows is in the example, with the printed default. */
	printed = print_to_string(&d);
	for (line = strtok_r(printed, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char needle[300];

		if (line[0] == '#' || line[0] == '[')
			continue;
		snprintf(needle, sizeof(needle), "\n#%s\n", line);
		if (!strstr(ex, needle))
			fail_msg("docs/memoptd.conf.example lacks '#%s'", line);
	}
}

/* docs/config.md documents every key. */
static void test_doc_lists_every_key(void **state UNUSED)
{
	_cleanup_free_ char *printed = NULL, *doc = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	struct memopt_config d;
	char path[600], *line, *save = NULL;
	long sz;

	if (!srcdir[0])
		skip();
	snprintf(path, sizeof(path), "%s/docs/config.md", srcdir);
	f = fopen(path, "re");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	rewind(f);
	doc = calloc(1, (size_t)sz + 1);
	assert_int_equal(fread(doc, 1, (size_t)sz, f), (size_t)sz);

	cfg_defaults(&d);
	printed = print_to_string(&d);
	for (line = strtok_r(printed, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char needle[300];
		size_t k = strcspn(line, " ");

		if (line[0] == '#' || line[0] == '[')
			continue;
		snprintf(needle, sizeof(needle), "| `%.*s` |", (int)k, line);
		if (!strstr(doc, needle))
			fail_msg("docs/config.md has no table row for '%.*s'", (int)k, line);
	}
}

/* Hostile input: random bytes and mutations of a good file never crash, and every error is "name:line: ". */
static void check_err_format(const char *err)
{
	const char *p = err;

	if (strncmp(p, "fz:", 3) != 0)
		fail_msg("error without file name: %s", err);
	p += 3;
	if (*p < '1' || *p > '9')
		fail_msg("error without line number: %s", err);
	while (*p >= '0' && *p <= '9')
		p++;
	if (strncmp(p, ": ", 2) != 0)
		fail_msg("malformed error: %s", err);
}

static void test_fuzz(void **state UNUSED)
{
	static const char base[] =
	    "[daemon]\nlog_level = info\nsocket = /run/x.sock\n[ksm]\ninterval = 2s\n"
	    "start_avail = 20%\nstop_avail = 30%\nmax_pages_to_scan = 100\nmode = auto\n";
	static const char alphabet[] = "[]=#; \t\n%.-0123456789kKMGTsmhyesnoautoin/\r\x01\xff";
	char text[512], err[CFG_ERR_MAX];
	unsigned seed = 12345;
	int i, j, ok = 0;

	for (i = 0; i < 20000; i++) {
		struct memopt_config c;
		size_t len;

		if (i % 2) {
			len = (size_t)(rand_r(&seed) % (sizeof(text) - 1));
			for (j = 0; j < (int)len; j++)
				text[j] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
			text[len] = '\0';
		} else {
			memcpy(text, base, sizeof(base));
			for (j = 0; j < 1 + i % 3; j++)
				text[rand_r(&seed) % (sizeof(base) - 1)] =
				    alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		}
		cfg_defaults(&c);
		err[0] = '\0';
		if (cfg_parse_string("fz", text, &c, err, sizeof(err)) == 0) {
			ok++;
			(void)cfg_validate(&c, err, sizeof(err));
		} else {
			check_err_format(err);
		}
	}
	/* Some inputs must survive, or the test would not exercise the success path. */
	if (ok < 100)
		fail_msg("only %d of 20000 inputs parsed", ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_parse_full),
	    cmocka_unit_test(test_parse_crlf_and_empty),
	    cmocka_unit_test(test_print_roundtrip),
	    cmocka_unit_test(test_bad_fixtures),
	    cmocka_unit_test(test_key_ranges),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_syntax_errors),
	    cmocka_unit_test(test_line_length),
	    cmocka_unit_test(test_validate),
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_balloon_section),
	    cmocka_unit_test(test_vm_sections),
	    cmocka_unit_test(test_example_matches_defaults),
	    cmocka_unit_test(test_doc_lists_every_key),
	    cmocka_unit_test(test_fuzz),
	};

	return cmocka_run_group_tests(tests, find_srcdir, NULL);
}
