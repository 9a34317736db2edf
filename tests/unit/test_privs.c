/* test_privs.c - capability set decoding and naming, and (as root, in forked children) the drop itself. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/privs.h"

/* A 6.x /proc/PID/status, cut to the lines around the capabilities. */
static const char status_dropped[] =
	"Name:\tmemoptd\nUmask:\t0077\nState:\tS (sleeping)\nUid:\t0\t0\t0\t0\n"
	"CapInh:\t0000000000000000\nCapPrm:\t0000000000080004\nCapEff:\t0000000000080004\n"
	"CapBnd:\t0000000000080004\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\n"
	"Seccomp:\t0\nSeccomp_filters:\t0\n";

static void test_parse_dropped(void **state)
{
	(void)state;
	struct priv_sets s;
	assert_int_equal(priv_parse_status(status_dropped, strlen(status_dropped), &s), 0);
	assert_true(s.inh == 0 && s.amb == 0);
	assert_true(s.prm == PRIV_KEEP_MASK && s.eff == PRIV_KEEP_MASK && s.bnd == PRIV_KEEP_MASK);
	assert_true(s.prm == UINT64_C(0x80004));
	assert_int_equal(s.no_new_privs, 1);
}

static void test_parse_full_root(void **state)
{
	(void)state;
	const char *t = "CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001FFFFFFFFFF\n"
			"CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000"; /* no final newline, no NoNewPrivs */
	struct priv_sets s;
	assert_int_equal(priv_parse_status(t, strlen(t), &s), 0);
	assert_true(s.prm == UINT64_C(0x1ffffffffff) && s.eff == s.prm && s.bnd == s.prm);
	assert_int_equal(s.no_new_privs, -1);
}

static void test_parse_rejects(void **state)
{
	(void)state;
	struct priv_sets s = { .inh = 42 };
	const char *missing = "CapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\n";
	const char *bad_hex = "CapInh:\t0\nCapPrm:\t00x0\nCapEff:\t0\nCapBnd:\t0\nCapAmb:\t0\n";
	const char *too_long = "CapInh:\t0\nCapPrm:\t00000000000000000\nCapEff:\t0\nCapBnd:\t0\nCapAmb:\t0\n";
	const char *empty = "CapInh:\t\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\nCapAmb:\t0\n";
	const char *twice = "CapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\nCapAmb:\t0\nCapEff:\tffff\n";
	const char *nnp = "CapInh:\t0\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\nCapAmb:\t0\nNoNewPrivs:\t2\n";
	assert_int_equal(priv_parse_status(missing, strlen(missing), &s), -EBADMSG);
	assert_int_equal(priv_parse_status(bad_hex, strlen(bad_hex), &s), -EBADMSG);
	assert_int_equal(priv_parse_status(too_long, strlen(too_long), &s), -EBADMSG);
	assert_int_equal(priv_parse_status(empty, strlen(empty), &s), -EBADMSG);
	assert_int_equal(priv_parse_status(twice, strlen(twice), &s), -EBADMSG);
	assert_int_equal(priv_parse_status(nnp, strlen(nnp), &s), -EBADMSG);
	assert_int_equal(priv_parse_status("", 0, &s), -EBADMSG);
	/* "CapInhX:" and "XCapInh:" are other keys, not CapInh */
	const char *lookalike = "CapInhX:\tffff\nXCapInh:\tffff\nCapInh:\t1\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\nCapAmb:\t0\n";
	assert_int_equal(priv_parse_status(lookalike, strlen(lookalike), &s), 0);
	assert_true(s.inh == 1);
	/* the length is honoured: the text is not NUL-terminated where it ends */
	assert_int_equal(priv_parse_status(status_dropped, 60, &s), -EBADMSG);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(priv_cap_name(0), "cap_chown");
	assert_string_equal(priv_cap_name(2), "cap_dac_read_search");
	assert_string_equal(priv_cap_name(19), "cap_sys_ptrace");
	assert_string_equal(priv_cap_name(21), "cap_sys_admin");
	assert_string_equal(priv_cap_name(40), "cap_checkpoint_restore");
	assert_null(priv_cap_name(41));
}

static void test_format_mask(void **state)
{
	(void)state;
	char buf[1024];
	assert_int_equal(priv_format_mask(0, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "none");
	assert_int_equal(priv_format_mask(PRIV_KEEP_MASK, buf, sizeof(buf)), (int)strlen("cap_dac_read_search,cap_sys_ptrace"));
	assert_string_equal(buf, "cap_dac_read_search,cap_sys_ptrace");
	assert_true(priv_format_mask(UINT64_C(1) << 63 | 1, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "cap_chown,cap_63");
	assert_true(priv_format_mask(UINT64_C(0x1ffffffffff), buf, sizeof(buf)) > 0);
	assert_true(strncmp(buf, "cap_chown,cap_dac_override,", 27) == 0);
	assert_non_null(strstr(buf, ",cap_bpf,cap_checkpoint_restore"));
	/* too small: -ENOBUFS, and a terminated prefix */
	char small[12];
	assert_int_equal(priv_format_mask(PRIV_KEEP_MASK, small, sizeof(small)), -ENOBUFS);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_string_equal(small, "cap_dac_rea");
	assert_int_equal(priv_format_mask(0, small, 0), -ENOBUFS);
}

static void test_format_sets(void **state)
{
	(void)state;
	char buf[512];
	struct priv_sets s = { .eff = PRIV_KEEP_MASK, .prm = PRIV_KEEP_MASK, .bnd = PRIV_KEEP_MASK, .no_new_privs = 1 };
	assert_true(priv_format_sets(&s, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "effective=cap_dac_read_search,cap_sys_ptrace permitted=cap_dac_read_search,cap_sys_ptrace "
				 "inheritable=none ambient=none bounding=cap_dac_read_search,cap_sys_ptrace no_new_privs=1");
	s.no_new_privs = -1;
	s.eff = s.prm = s.bnd = 0;
	assert_true(priv_format_sets(&s, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "effective=none permitted=none inheritable=none ambient=none bounding=none no_new_privs=unknown");
	assert_int_equal(priv_format_sets(&s, buf, 20), -ENOBUFS);
}

static void test_read_self(void **state)
{
	(void)state;
	struct priv_sets s;
	assert_int_equal(priv_read_sets("/proc/self/status", &s), 0);
	assert_true((s.eff & ~s.prm) == 0); /* the kernel keeps effective within permitted */
	assert_int_equal(priv_read_sets("/nonexistent/status", &s), -ENOENT);
}

/* Run fn in a child; its exit status. The drops are one-way, so the test process keeps its own sets. */
static int in_child(int (*fn)(void))
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

static int child_drop(void)
{
	char err[256];
	uint64_t missing = 99;
	struct priv_sets s;
	if (priv_drop(PRIV_KEEP_MASK, 0, &missing, err, sizeof(err)) != 1) {
		fprintf(stderr, "priv_drop: %s\n", err);
		return 1;
	}
	if (priv_read_sets("/proc/self/status", &s) < 0)
		return 2;
	if (s.eff != PRIV_KEEP_MASK || s.prm != PRIV_KEEP_MASK || s.bnd != PRIV_KEEP_MASK || s.inh || s.amb ||
	    s.no_new_privs != 1 || missing != 0)
		return 3;
	if (geteuid() != 0)
		return 4;
	/* a second drop changes nothing and needs no cap_setpcap: the bounding set is already small */
	if (priv_drop(PRIV_KEEP_MASK, 0, NULL, err, sizeof(err)) != 1)
		return 5;
	/* the child of a hook spawn: nothing left, and exec cannot give it back (no_new_privs) */
	if (priv_child_limit(0) < 0 || priv_read_sets("/proc/self/status", &s) < 0)
		return 6;
	if (s.eff || s.prm || s.inh || s.amb || s.bnd != PRIV_KEEP_MASK)
		return 7;
	return 0;
}

/* [cluster] pacemaker = yes: cap_dac_override permitted but not effective; crm_attribute's child gets
 * only it, a hook child nothing, and asking for what is not permitted gives nothing extra. */
static int child_idle(void)
{
	char err[256];
	struct priv_sets s;
	uint64_t all = PRIV_KEEP_MASK | PRIV_CHILD_PACEMAKER_MASK;
	if (priv_drop(PRIV_KEEP_MASK, PRIV_CHILD_PACEMAKER_MASK, NULL, err, sizeof(err)) != 1)
		return 1;
	if (priv_read_sets("/proc/self/status", &s) < 0 || s.eff != PRIV_KEEP_MASK || s.prm != all || s.bnd != all)
		return 2;
	/* not effective: a file of another owner stays unwritable for the daemon itself */
	if (priv_child_limit(PRIV_CHILD_PACEMAKER_MASK | (UINT64_C(1) << 21)) < 0 ||
	    priv_read_sets("/proc/self/status", &s) < 0)
		return 3;
	if (s.eff != PRIV_CHILD_PACEMAKER_MASK || s.prm != PRIV_CHILD_PACEMAKER_MASK || s.inh || s.amb)
		return 4;
	return 0;
}

/* Started with a bounding set larger than what is kept but without cap_setpcap: refused, not half done. */
static int child_no_setpcap(void)
{
	char err[256];
	struct priv_sets s;
	uint64_t keep_plus = PRIV_KEEP_MASK | (UINT64_C(1) << 21);
	if (priv_drop(keep_plus, 0, NULL, err, sizeof(err)) != 1) /* keep cap_sys_admin too, drop cap_setpcap */
		return 1;
	if (priv_drop(PRIV_KEEP_MASK, 0, NULL, err, sizeof(err)) != -EPERM || !strstr(err, "cap_sys_admin"))
		return 2;
	if (priv_read_sets("/proc/self/status", &s) < 0 || s.bnd != keep_plus)
		return 3;
	return 0;
}

static void test_drop_as_root(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_int_equal(in_child(child_drop), 0);
	assert_int_equal(in_child(child_no_setpcap), 0);
	assert_int_equal(in_child(child_idle), 0);
}

static int child_not_root(void)
{
	char err[64];
	struct priv_sets before, after;
	if (priv_read_sets("/proc/self/status", &before) < 0)
		return 1;
	if (priv_drop(PRIV_KEEP_MASK, 0, NULL, err, sizeof(err)) != 0)
		return 2;
	if (priv_read_sets("/proc/self/status", &after) < 0)
		return 3;
	return memcmp(&before, &after, sizeof(before)) ? 4 : 0;
}

static void test_not_root_changes_nothing(void **state)
{
	(void)state;
	if (geteuid() == 0) {
		skip();
		return;
	}
	assert_int_equal(in_child(child_not_root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_dropped),
		cmocka_unit_test(test_parse_full_root),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_format_mask),
		cmocka_unit_test(test_format_sets),
		cmocka_unit_test(test_read_self),
		cmocka_unit_test(test_drop_as_root),
		cmocka_unit_test(test_not_root_changes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
