/* procs.h - process discovery: QEMU/KVM guests by executable (libproc2 on the real /proc, a directory
 * walk on a fixture root), per-process CPU time, hostile-input safe /proc/PID/stat parsing. */
#ifndef MEMOPT_PROCS_H
#define MEMOPT_PROCS_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PROC_COMM_MAX 64
#define PROC_NAME_MAX 128

struct vm_proc {
	pid_t pid;
	uint64_t start_time_ticks;     /* field 22 of /proc/PID/stat; with pid, identifies the process */
	uint64_t rss_kib;
	char comm[PROC_COMM_MAX];      /* sanitised: non-printables replaced by '?' */
	char exe[256];                 /* readlink of /proc/PID/exe, " (deleted)" stripped */
	char guest_name[PROC_NAME_MAX];/* from "-name guest=NAME,..." or "-name NAME", "" if none */
	char uuid[40];                 /* from "-uuid", "" if none */
};

/* True if the executable path names a QEMU system emulator or KVM binary:
 * basename qemu-system-*, qemu-kvm, or kvm (Proxmox). Pure. */
int proc_exe_is_qemu(const char *exe);

/* List QEMU processes. *ret_procs is malloc'ed (free() it), *ret_n its count. Processes that vanish
 * while being read are skipped. Returns 0 or -errno. */
int proc_list_qemu(const char *procfs_root, struct vm_proc **ret_procs, size_t *ret_n);

struct proc_stat {
	char comm[PROC_COMM_MAX];
	char state;
	uint64_t utime_ticks, stime_ticks;
	uint64_t start_time_ticks;
	uint64_t rss_pages;
};
/* Parse the text of /proc/PID/stat (comm may contain ')' , spaces and newlines: use the last ')').
 * Returns 0 or -EBADMSG. Pure. */
int proc_parse_stat(const char *buf, size_t len, struct proc_stat *ret);
/* VmRSS from the text of /proc/PID/status. Returns 0, -ENOENT without a VmRSS line (kernel threads),
 * -EBADMSG when it is garbled. Pure. */
int proc_parse_status_vmrss(const char *buf, size_t len, uint64_t *ret_kib);
/* The length of an exe link text exe[0..n) without the " (deleted)" the kernel appends once the
 * binary is gone. Pure. */
size_t proc_exe_len(const char *exe, size_t n);
/* Read and parse <procfs_root>/<pid>/stat. */
int proc_read_stat(const char *procfs_root, pid_t pid, struct proc_stat *ret);

/* Build "<root>/<pid>/<rel>" into buf. Returns 0 or -ENAMETOOLONG (buf is then unspecified). */
int proc_pid_path(char *buf, size_t size, const char *root, pid_t pid, const char *rel);

/* A /proc directory entry name that is a pid: digits only, no leading zero, within int. Pure. */
bool proc_name_to_pid(const char *name, pid_t *ret);

/* Find the kernel thread "ksmd" (comm == "ksmd", no exe). Returns its pid (> 0), -ENOENT, or -errno. */
int proc_find_kthread(const char *procfs_root, const char *comm);

/* Extract "-name guest=X,..." / "-name X" and "-uuid U" from a NUL-separated cmdline. Pure. */
void proc_parse_qemu_cmdline(const char *buf, size_t len, char *ret_name, size_t name_len,
			     char *ret_uuid, size_t uuid_len);

#endif
