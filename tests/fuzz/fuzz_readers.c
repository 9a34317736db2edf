/* fuzz_readers.c - libFuzzer target: the readers themselves on a fixture tree, not just their parsers:
 * file reading with caps (common/fileio.c), missing files, the /proc walk of proc_list_qemu() and
 * proc_find_kthread(), ksm_read() and ksm_read_proc() (ksm_stat or ksm_merging_pages), nod_read() over
 * node directories and pools, numa_maps placement and the headroom reader hr_read().
 * The tree lives in a per-process temp directory made once; each input rewrites its files.
 * Input: file contents separated by a 0xff byte, in the order of files[] below; a file whose section
 * is empty or absent is removed (an older kernel, a vanished process). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster-hook/hr_read.h"
#include "common/fileio.h"
#include "common/hostmem.h"
#include "common/procs.h"
#include "ksmtuned/ksm_sysfs.h"
#include "numa/nod_numa.h"
#include "fuzz.h"

static const char *const files[] = {
	"proc/meminfo",
	"proc/vmstat",
	"proc/pressure/memory",
	"proc/spl/kstat/zfs/arcstats",
	"proc/4242/stat",
	"proc/4242/status",
	"proc/4242/cmdline",
	"proc/4242/ksm_stat",
	"proc/4242/ksm_merging_pages",
	"proc/4242/numa_maps",
	"proc/77/stat",
	"sys/kernel/mm/ksm/pages_sharing",
	"sys/kernel/mm/ksm/advisor_mode",
	"sys/kernel/mm/ksm/run",
	"sys/devices/system/node/node0/meminfo",
	"sys/devices/system/node/node0/distance",
	"sys/devices/system/node/node1/meminfo",
	"sys/devices/system/node/node1/distance",
	"sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages",
	"sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages",
};
#define NFILES (sizeof(files) / sizeof(files[0]))

static char root[64];
static char proc_root[96], sys_root[96];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	if (root[0])
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void mkdirs(const char *rel)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	if (fio_mkdir_p(path, 0755) < 0)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[PATH_MAX];

	(void)argc;
	(void)argv;
	fz_setup();
	snprintf(root, sizeof(root), "/tmp/memopt-fuzz-readers.XXXXXX");
	if (!mkdtemp(root))
		abort();
	atexit(cleanup);
	for (size_t i = 0; i < NFILES; i++)
		mkdirs(files[i]);
	snprintf(proc_root, sizeof(proc_root), "%s/proc", root);
	snprintf(sys_root, sizeof(sys_root), "%s/sys", root);
	/* a QEMU process (the exe link need not resolve) and a kernel thread (no exe) */
	snprintf(path, sizeof(path), "%s/4242/exe", proc_root);
	if (symlink("/usr/bin/qemu-system-x86_64", path) < 0)
		abort();
	return 0;
}

static void put(size_t i, const char *p, size_t n)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", root, files[i]);
	if (n == 0) {
		if (unlink(path) < 0 && errno != ENOENT)
			abort();
		return;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			abort();
		p += w;
		n -= (size_t)w;
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nod_topology topo;
	static struct hr_input hin;
	static struct ksm_proc_entry kp[8];
	const char *p = (const char *)data, *end = p + size;

	for (size_t i = 0; i < NFILES; i++) {
		const char *sep = p < end ? memchr(p, 0xff, (size_t)(end - p)) : NULL;
		const char *e = sep ? sep : end;
		put(i, p, p < end ? (size_t)(e - p) : 0);
		p = sep ? sep + 1 : end;
	}

	struct host_mem m;
	struct host_vmstat vs;
	struct host_psi psi;
	(void)hm_read_meminfo(proc_root, &m);
	(void)hm_read_vmstat(proc_root, &vs);
	(void)hm_read_psi(proc_root, &psi);

	struct proc_stat st;
	(void)proc_read_stat(proc_root, 4242, &st);
	struct vm_proc *vms = NULL;
	size_t nvm = 0;
	if (proc_list_qemu(proc_root, &vms, &nvm) == 0) {
		FZ_CHECK(nvm <= 1);
		for (size_t i = 0; i < nvm; i++)
			FZ_CHECK(vms[i].pid == 4242 && strnlen(vms[i].guest_name, sizeof(vms[i].guest_name)) <
								sizeof(vms[i].guest_name));
		free(vms);
	}
	int kt = proc_find_kthread(proc_root, "ksmd");
	FZ_CHECK(kt < 0 || kt == 77 || kt == 4242);

	struct ksm_state ks;
	(void)ksm_read(sys_root, &ks);
	struct ksm_proc_stat kps;
	(void)ksm_read_proc(proc_root, 4242, &kps);
	int nk = ksm_list_procs(proc_root, kp, sizeof(kp) / sizeof(kp[0]));
	FZ_CHECK(nk < 0 || nk <= (int)(sizeof(kp) / sizeof(kp[0])));

	if (nod_read(sys_root, &topo) == 0) {
		FZ_CHECK(topo.n >= 1 && topo.n <= NOD_MAX);
		for (size_t i = 0; i < topo.n; i++)
			FZ_CHECK(topo.node[i].npools <= NOD_HP_SIZES);
	}
	uint64_t kib[NOD_MAX];
	(void)nod_read_placement(proc_root, 4242, kib);

	(void)hr_read(proc_root, sys_root, &hin);
	FZ_CHECK(hin.nnodes <= HR_NODES_MAX);
	return 0;
}
