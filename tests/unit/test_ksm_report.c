/* test_ksm_report.c - naming processes in the KSM report: libvirt's pid files first, then QEMU's
 * -name, then comm; hostile pid files are ignored. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "ksmtuned/ksm_report.h"

#define PROC "tests/fixtures/proc-vms"

static char run[] = "/tmp/test_ksm_report.XXXXXX";

static void put(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", run, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	log_setup(LOG_TARGET_STDERR, LOG_ERR);
	if (!mkdtemp(run))
		return -1;
	put("web-frontend.pid", "1001\n");  /* libvirt knows pid 1001 as web-frontend */
	put("garbage.pid", "12x\n");
	put("notapid.txt", "1002\n");       /* not a .pid file */
	put("huge.pid", "99999999999999999999\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", run);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_libvirt_pid_file_wins(void **state)
{
	(void)state;
	char name[128];
	const char *src = NULL;
	assert_int_equal(ksm_name_process(PROC, run, 1001, name, sizeof(name), &src), 0);
	assert_string_equal(name, "web-frontend"); /* not the cmdline's "vm1" */
	assert_string_equal(src, "libvirt");
}

static void test_qemu_name_from_cmdline(void **state)
{
	(void)state;
	char name[128];
	const char *src = NULL;
	/* libvirt style "-name guest=vm5" and Proxmox style "-name vm100,debug-threads=on" */
	assert_int_equal(ksm_name_process(PROC, run, 1005, name, sizeof(name), &src), 0);
	assert_string_equal(name, "vm5");
	assert_string_equal(src, "cmdline");
	assert_int_equal(ksm_name_process(PROC, run, 1002, name, sizeof(name), &src), 0);
	assert_string_equal(name, "vm100");
	assert_string_equal(src, "cmdline");
	/* no libvirt run dir at all (plain QEMU hosts) */
	assert_int_equal(ksm_name_process(PROC, "/nonexistent", 1001, name, sizeof(name), &src), 0);
	assert_string_equal(name, "vm1");
}

static void test_comm_then_pid(void **state)
{
	(void)state;
	char name[128];
	const char *src = NULL;
	/* pid 1004's comm is hostile: ')' and a newline; it is named from the sanitised comm */
	assert_int_equal(ksm_name_process(PROC, run, 1004, name, sizeof(name), &src), 0);
	assert_string_equal(name, "evil) S 1 2 3?x[1004]");
	assert_string_equal(src, "comm");
	assert_int_equal(ksm_name_process(PROC, run, 424242, name, sizeof(name), &src), 0);
	assert_string_equal(name, "pid 424242");
	assert_string_equal(src, "comm");
}

static void test_saved_share_adds_up_to_the_host(void **state)
{
	(void)state;
	/* Two VMs share 1000 identical pages: 1000 KSM pages kept, 1000 sharing; each VM maps 1000. */
	struct ksm_state host = { .present = true };
	host.have = (1u << KSM_F_PAGES_SHARED) | (1u << KSM_F_PAGES_SHARING);
	host.v[KSM_F_PAGES_SHARED] = 1000;
	host.v[KSM_F_PAGES_SHARING] = 1000;
	struct ksm_proc_stat vm = { .merging_pages = 1000, .zero_pages = 10 };
	assert_int_equal(ksm_proc_saved_pages(&vm, &host), 500 + 10);
	/* the two VMs' shares add up to the host's saving (pages_sharing) plus their zero pages */
	assert_int_equal(2 * (ksm_proc_saved_pages(&vm, &host) - 10), 1000);
	assert_int_equal(ksm_proc_saved_pages(&vm, NULL), 1010);
	host.v[KSM_F_PAGES_SHARED] = 0;
	host.v[KSM_F_PAGES_SHARING] = 0;
	assert_int_equal(ksm_proc_saved_pages(&vm, &host), 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libvirt_pid_file_wins),
		cmocka_unit_test(test_qemu_name_from_cmdline),
		cmocka_unit_test(test_comm_then_pid),
		cmocka_unit_test(test_saved_share_adds_up_to_the_host),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
