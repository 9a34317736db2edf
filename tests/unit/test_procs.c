/* test_procs.c - process discovery against the proc-vms fixture, hostile stat lines, and the real /proc. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/procs.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

static void test_exe_is_qemu(void **state)
{
	(void)state;
	assert_true(proc_exe_is_qemu("/usr/bin/qemu-system-x86_64"));
	assert_true(proc_exe_is_qemu("/usr/local/bin/qemu-system-aarch64"));
	assert_true(proc_exe_is_qemu("qemu-system-riscv64"));
	assert_true(proc_exe_is_qemu("/usr/libexec/qemu-kvm"));
	assert_true(proc_exe_is_qemu("/usr/bin/kvm"));
	assert_true(proc_exe_is_qemu("kvm"));
	assert_false(proc_exe_is_qemu("/usr/bin/qemu-img"));
	assert_false(proc_exe_is_qemu("/usr/bin/qemu-nbd"));
	assert_false(proc_exe_is_qemu("/usr/bin/kvmfoo"));
	assert_false(proc_exe_is_qemu("/usr/bin/qemu-kvm-wrapper"));
	assert_false(proc_exe_is_qemu("/usr/bin/qemu-system-"));
	assert_false(proc_exe_is_qemu("/opt/kvm/bin/bash"));
	assert_false(proc_exe_is_qemu("/usr/bin/qemu-system-x86_64/"));
	assert_false(proc_exe_is_qemu("/usr/bin/kvm/"));
	assert_false(proc_exe_is_qemu("/"));
	assert_false(proc_exe_is_qemu(""));
	assert_false(proc_exe_is_qemu(NULL));
	assert_false(proc_exe_is_qemu("/usr/bin/python3"));
}

static const char good_stat[] =
	"4242 (qemu-system-x86) S 1 4242 4242 0 -1 4194560 1234 0 12 0 5000 700 0 0 20 0 "
	"4 0 123456 5000000000 524288 18446744073709551615 1 1 0 0 0 0 0 4096 1260 0 0 0 17 "
	"1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

static void test_parse_stat(void **state)
{
	(void)state;
	struct proc_stat st;
	assert_int_equal(proc_parse_stat(good_stat, strlen(good_stat), &st), 0);
	assert_string_equal(st.comm, "qemu-system-x86");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.utime_ticks, 5000);
	assert_int_equal(st.stime_ticks, 700);
	assert_int_equal(st.start_time_ticks, 123456);
	assert_int_equal(st.rss_pages, 524288);

	/* negative priority/nice are fine */
	static const char neg[] = "7 (x) R 1 7 7 0 -1 0 0 0 0 0 1 2 -3 -4 -100 -20 1 0 9 0 3 \n";
	assert_int_equal(proc_parse_stat(neg, strlen(neg), &st), 0);
	assert_int_equal(st.start_time_ticks, 9);
	assert_int_equal(st.rss_pages, 3);
	/* a stat line that stops right after rss (with its newline) is complete */
	static const char shortest[] = "7 (x) R 1 7 7 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0 9 0 3\n";
	assert_int_equal(proc_parse_stat(shortest, strlen(shortest), &st), 0);
	assert_int_equal(st.rss_pages, 3);
}

static void test_parse_stat_evil_comm(void **state)
{
	(void)state;
	static const char evil[] = "1004 (evil) S 1 2 3\nx) R 1 1004 1004 0 -1 4194560 1234 0 12 0 77 88 0 0 "
				   "20 0 4 0 400000 0 99 18446744073709551615 1 1 0\n";
	static const char spaces[] = "5 ( a b ) c ) t 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 10 0 3 0\n";
	static const char empty[] = "6 () Z 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 11 0 3 0\n";
	static const char ctrl[] = "8 (\x1b[31mred\x7f\t) S 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 12 0 3 0\n";
	struct proc_stat st;

	assert_int_equal(proc_parse_stat(evil, strlen(evil), &st), 0);
	assert_string_equal(st.comm, "evil) S 1 2 3?x");
	assert_int_equal(st.state, 'R');
	assert_int_equal(st.utime_ticks, 77);
	assert_int_equal(st.stime_ticks, 88);
	assert_int_equal(st.start_time_ticks, 400000);
	assert_int_equal(st.rss_pages, 99);
	assert_int_equal(proc_parse_stat(spaces, strlen(spaces), &st), 0);
	assert_string_equal(st.comm, " a b ) c ");
	assert_int_equal(st.state, 't');
	assert_int_equal(proc_parse_stat(empty, strlen(empty), &st), 0);
	assert_string_equal(st.comm, "");
	assert_int_equal(st.state, 'Z');
	assert_int_equal(proc_parse_stat(ctrl, strlen(ctrl), &st), 0);
	assert_string_equal(st.comm, "?[31mred??");

	/* comm is capped, not overflowed */
	char longc[512];
	const char *tail = "S 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 12 0 3 0\n";
	int n = snprintf(longc, sizeof(longc), "9 (%0200d) %s", 0, tail);
	assert_true(n > 0);
	assert_int_equal(proc_parse_stat(longc, (size_t)n, &st), 0);
	assert_int_equal(strlen(st.comm), PROC_COMM_MAX - 1);
}

/* Every prefix of a stat line that ends before rss's separator is truncated, and nothing past len is read. */
static void test_parse_stat_truncated(void **state)
{
	(void)state;
	struct proc_stat st;
	/* the separator after field 24 (rss) */
	const char *p = good_stat;
	for (int spaces = 0; spaces < 24; p++)
		if (*p == ' ')
			spaces++;
	size_t complete = (size_t)(p - good_stat); /* one past rss's trailing blank */

	for (size_t len = 0; len < sizeof(good_stat) - 1; len++) {
		/* a heap copy of exactly len bytes: ASan/valgrind catch any read past it */
		char *buf = malloc(len ? len : 1);
		assert_non_null(buf);
		memcpy(buf, good_stat, len);
		int r = proc_parse_stat(buf, len, &st);
		free(buf);
		if (len < complete && r != -EBADMSG)
			fail_msg("prefix of %zu bytes: got %d, want -EBADMSG", len, r);
		if (len >= complete && r != 0)
			fail_msg("prefix of %zu bytes: got %d, want 0", len, r);
	}
}

static void test_parse_stat_garbled(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"x (a) S 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 12 0 3 0\n",     /* pid */
		"-5 (a) S 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 12 0 3 0\n",    /* negative pid */
		"5 a) S 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 12 0 3 0\n",      /* no '(' */
		"5 (a S 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 12 0 3 0\n",      /* no ')' */
		"5 (a)  1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 12 0 3 0\n",      /* no state */
		"5 (a) SS 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 12 0 3 0\n",    /* state is one char */
		"5 (a) S 1 5 5 0 -1 0 0 0 0 0 x 2 0 0 20 0 1 0 12 0 3 0\n",     /* utime */
		"5 (a) S 1 5 5 0 -1 0 0 0 0 0 -1 2 0 0 20 0 1 0 12 0 3 0\n",    /* negative utime */
		"5 (a) S 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 1.5 0 3 0\n",    /* start time */
		"5 (a) S 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 99999999999999999999 0 3 0\n", /* overflow */
		"5 (a) S 1 5 5 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 12 0 3x 0\n",    /* rss */
		"5 (a) S 1 5 5 0 -1 0 0 0 0 0 1  2 0 0 20 0 1 0 12 0 3 0\n",    /* double blank */
		"5 (a) S 1 5 5 0 - 0 0 0 0 0 1 2 0 0 20 0 1 0 12 0 3 0\n",      /* lone '-' */
		"",
	};
	struct proc_stat st, sentinel;
	memset(&sentinel, 0x5a, sizeof(sentinel));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st = sentinel;
		int r = proc_parse_stat(bad[i], strlen(bad[i]), &st);
		if (r != -EBADMSG)
			fail_msg("case %zu: got %d, want -EBADMSG", i, r);
		assert_memory_equal(&st, &sentinel, sizeof(st));
	}
	assert_int_equal(proc_parse_stat(NULL, 0, &st), -EBADMSG);
}

static void test_read_stat_fixture(void **state)
{
	(void)state;
	struct proc_stat st;
	assert_int_equal(proc_read_stat(FIXTURES "/proc-vms", 1004, &st), 0);
	assert_string_equal(st.comm, "evil) S 1 2 3?x");
	assert_int_equal(st.start_time_ticks, 400000);
	assert_int_equal(proc_read_stat(FIXTURES "/proc-vms", 36, &st), 0);
	assert_string_equal(st.comm, "ksmd");
	assert_int_equal(proc_read_stat(FIXTURES "/proc-vms", 1005, &st), -EBADMSG);
	assert_int_equal(proc_read_stat(FIXTURES "/proc-vms", 9999, &st), -ENOENT);
}

static void test_parse_qemu_cmdline(void **state)
{
	(void)state;
	char name[PROC_NAME_MAX], uuid[40];
	static const char libvirt[] = "/usr/bin/qemu-system-x86_64\0-name\0guest=vm1,debug-threads=on\0-S\0"
				      "-uuid\0c7a5fdbd-cdaf-9455-926a-d65c16db1809\0-m\0size=4194304k";
	proc_parse_qemu_cmdline(libvirt, sizeof(libvirt) - 1, name, sizeof(name), uuid, sizeof(uuid));
	assert_string_equal(name, "vm1");
	assert_string_equal(uuid, "c7a5fdbd-cdaf-9455-926a-d65c16db1809");

	static const char plain[] = "kvm\0-id\0100\0-name\0vm100\0";
	proc_parse_qemu_cmdline(plain, sizeof(plain) - 1, name, sizeof(name), uuid, sizeof(uuid));
	assert_string_equal(name, "vm100");
	assert_string_equal(uuid, "");

	static const char implied[] = "kvm\0--name\0vm100,debug-threads=on\0";
	proc_parse_qemu_cmdline(implied, sizeof(implied) - 1, name, sizeof(name), uuid, sizeof(uuid));
	assert_string_equal(name, "vm100");

	/* ",," is QEMU's escaped comma; guest= may come after other keys */
	static const char commas[] = "q\0-name\0debug-threads=on,guest=a,,b,,,,c\0";
	proc_parse_qemu_cmdline(commas, sizeof(commas) - 1, name, sizeof(name), uuid, sizeof(uuid));
	assert_string_equal(name, "a,b,,c");

	static const char noguest[] = "q\0-name\0process=qemu:vm,debug-threads=on\0";
	proc_parse_qemu_cmdline(noguest, sizeof(noguest) - 1, name, sizeof(name), uuid, sizeof(uuid));
	assert_string_equal(name, "");

	/* the last -name wins, as in QEMU; a dangling -name at the end gives nothing more */
	static const char twice[] = "q\0-name\0first\0-name\0guest=second\0-uuid\0not-a-uuid\0-name";
	proc_parse_qemu_cmdline(twice, sizeof(twice) - 1, name, sizeof(name), uuid, sizeof(uuid));
	assert_string_equal(name, "second");
	assert_string_equal(uuid, "");

	static const char ctrl[] = "q\0-name\0guest=a\x1b[2Jb\n\0";
	proc_parse_qemu_cmdline(ctrl, sizeof(ctrl) - 1, name, sizeof(name), uuid, sizeof(uuid));
	assert_string_equal(name, "a?[2Jb?");

	/* lengths are capped */
	char small[5], usmall[10];
	proc_parse_qemu_cmdline(libvirt, sizeof(libvirt) - 1, small, sizeof(small), usmall, sizeof(usmall));
	assert_string_equal(small, "vm1");
	assert_string_equal(usmall, "c7a5fdbd-");
	static const char longname[] = "q\0-name\0guest=abcdefghij\0";
	proc_parse_qemu_cmdline(longname, sizeof(longname) - 1, small, sizeof(small), NULL, 0);
	assert_string_equal(small, "abcd");

	/* the value may be cut by len, and nothing at or past len is read */
	static const char cut[] = "q\0-name\0guest=vm1-and-more";
	proc_parse_qemu_cmdline(cut, 17, name, sizeof(name), uuid, sizeof(uuid));
	assert_string_equal(name, "vm1");

	proc_parse_qemu_cmdline("", 0, name, sizeof(name), uuid, sizeof(uuid));
	assert_string_equal(name, "");
	proc_parse_qemu_cmdline(NULL, 10, name, sizeof(name), uuid, sizeof(uuid));
	assert_string_equal(name, "");
	assert_string_equal(uuid, "");
}

static void test_list_qemu_fixture(void **state)
{
	(void)state;
	struct vm_proc *v = NULL;
	size_t n = 99;

	assert_int_equal(proc_list_qemu(FIXTURES "/proc-vms", &v, &n), 0);
	/* not 1003 (comm says qemu, exe is python), not 1005 (truncated stat), not 1004 / 36 / 20 */
	assert_int_equal(n, 3);
	assert_non_null(v);

	assert_int_equal(v[0].pid, 1001);
	assert_string_equal(v[0].exe, "/usr/bin/qemu-system-x86_64");
	assert_string_equal(v[0].comm, "qemu-system-x86");
	assert_string_equal(v[0].guest_name, "vm1");
	assert_string_equal(v[0].uuid, "c7a5fdbd-cdaf-9455-926a-d65c16db1809");
	assert_int_equal(v[0].rss_kib, 2097152);
	assert_int_equal(v[0].start_time_ticks, 123456);

	assert_int_equal(v[1].pid, 1002);
	assert_string_equal(v[1].exe, "/usr/bin/kvm");
	assert_string_equal(v[1].comm, "kvm");
	assert_string_equal(v[1].guest_name, "vm100");
	assert_string_equal(v[1].uuid, "a1b2c3d4-0000-4000-8000-00000000abcd");
	assert_int_equal(v[1].rss_kib, 1048576);
	assert_int_equal(v[1].start_time_ticks, 223344);

	assert_int_equal(v[2].pid, 1006);
	assert_string_equal(v[2].exe, "/usr/bin/qemu-system-aarch64");
	assert_string_equal(v[2].guest_name, "plainvm");
	assert_string_equal(v[2].uuid, "");
	assert_int_equal(v[2].rss_kib, 0);
	free(v);

	assert_int_equal(proc_list_qemu(FIXTURES "/nonexistent", &v, &n), -ENOENT);
}

static void test_find_kthread_fixture(void **state)
{
	(void)state;
	/* pid 20 is a zombie calling itself ksmd: no exe either, but not a kernel thread */
	assert_int_equal(proc_find_kthread(FIXTURES "/proc-vms", "ksmd"), 36);
	assert_int_equal(proc_find_kthread(FIXTURES "/proc-vms", "kthreadd"), -ENOENT);
	assert_int_equal(proc_find_kthread(FIXTURES "/proc-vms", "kzombie"), -ENOENT);
	/* a user process is never a kernel thread, whatever its name */
	assert_int_equal(proc_find_kthread(FIXTURES "/proc-vms", "kvm"), -ENOENT);
	assert_int_equal(proc_find_kthread(FIXTURES "/nonexistent", "ksmd"), -ENOENT);
}

static void test_real_proc(void **state)
{
	(void)state;
	struct vm_proc *v = NULL;
	size_t n = 0;
	struct proc_stat st;

	assert_int_equal(proc_list_qemu("/proc", &v, &n), 0);
	for (size_t i = 0; i < n; i++)
		assert_true(proc_exe_is_qemu(v[i].exe));
	free(v);

	assert_int_equal(proc_read_stat("/proc", getpid(), &st), 0);
	assert_int_equal(st.state, 'R');
	assert_true(st.start_time_ticks > 0);

	if (access("/sys/kernel/mm/ksm", F_OK) == 0)
		assert_true(proc_find_kthread("/proc", "ksmd") > 0);
	assert_int_equal(proc_find_kthread("/proc", "no-such-kthread"), -ENOENT);
}

/* A real process whose executable is named qemu-system-x86_64 (a copy of dash), found through libproc2. */
static void test_real_fake_qemu(void **state)
{
	(void)state;
	static const char uuid[] = "0e1d2c3b-4a59-6877-8695-a4b3c2d1e0f0";
	char dir[64] = "/tmp/memopt-test-procs-XXXXXX", exe[128], cmd[256];
	int in[2], syncp[2];

	if (access("/bin/dash", X_OK) != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(exe, sizeof(exe), "%s/qemu-system-x86_64", dir);
	snprintf(cmd, sizeof(cmd), "cp /bin/dash '%s'", exe);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe2(syncp, O_CLOEXEC), 0);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *const argv[] = { "qemu-system-x86_64", "-c", "read x", "-name",
				       "guest=t1,debug-threads=on", "-uuid", (char *)uuid, NULL };
		dup2(in[0], 0);
		close(in[0]);
		close(in[1]);
		close(syncp[0]);
		execv(exe, argv);
		_exit(127);
	}
	close(in[0]);
	close(syncp[1]);
	char c;
	/* EOF on the close-on-exec pipe: the child has exec'ed */
	assert_int_equal(read(syncp[0], &c, 1), 0);
	close(syncp[0]);

	struct vm_proc *v = NULL;
	size_t n = 0;
	int r = proc_list_qemu("/proc", &v, &n);
	const struct vm_proc *me = NULL;
	for (size_t i = 0; r == 0 && i < n; i++)
		if (v[i].pid == pid)
			me = &v[i];

	close(in[1]); /* EOF: "read x" returns and the shell exits */
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlink(exe);
	rmdir(dir);

	assert_int_equal(r, 0);
	assert_non_null(me);
	assert_string_equal(me->exe, exe);
	assert_string_equal(me->guest_name, "t1");
	assert_string_equal(me->uuid, uuid);
	assert_string_equal(me->comm, "qemu-system-x86");
	assert_true(me->start_time_ticks > 0);
	assert_true(me->rss_kib > 0);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exe_is_qemu),
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_parse_stat_evil_comm),
		cmocka_unit_test(test_parse_stat_truncated),
		cmocka_unit_test(test_parse_stat_garbled),
		cmocka_unit_test(test_read_stat_fixture),
		cmocka_unit_test(test_parse_qemu_cmdline),
		cmocka_unit_test(test_list_qemu_fixture),
		cmocka_unit_test(test_find_kthread_fixture),
		cmocka_unit_test(test_real_proc),
		cmocka_unit_test(test_real_fake_qemu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
