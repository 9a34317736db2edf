/* fuzz_procs.c - libFuzzer target: /proc/PID/stat (comm with ')' and newlines), status VmRSS, the QEMU
 * cmdline (-name/-uuid), the exe link text, /proc entry names, and ksm_stat, all on the same text. */
#include <string.h>

#include "common/procs.h"
#include "ksmtuned/ksm_sysfs.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_setup();
	return 0;
}

static void check_printable(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	FZ_CHECK(n < max);
	for (size_t i = 0; i < n; i++)
		FZ_CHECK((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct proc_stat st;
	char name[64], uuid[40];
	uint64_t v;

	if (proc_parse_stat(buf, size, &st) == 0) {
		check_printable(st.comm, sizeof(st.comm));
		FZ_CHECK(st.state != ' ' && st.state != '\n' && st.state != '\0');
	}
	(void)proc_parse_status_vmrss(buf, size, &v);

	proc_parse_qemu_cmdline(buf, size, name, sizeof(name), uuid, sizeof(uuid));
	check_printable(name, sizeof(name));
	check_printable(uuid, sizeof(uuid));
	FZ_CHECK(uuid[0] == '\0' || strlen(uuid) == 36);
	/* tiny output buffers must still be terminated */
	proc_parse_qemu_cmdline(buf, size, name, 1, uuid, 1);
	FZ_CHECK(name[0] == '\0' && uuid[0] == '\0');

	FZ_CHECK(proc_exe_len(buf, size) <= size);
	char *s = fz_strdup(data, size);
	(void)proc_exe_is_qemu(s);
	pid_t pid;
	if (proc_name_to_pid(s, &pid))
		FZ_CHECK(pid > 0);
	free(s);

	struct ksm_proc_stat ks;
	(void)ksm_parse_proc_stat(buf, size, &ks);
	return 0;
}
