/* procs.c - process discovery: QEMU/KVM guests by executable, kernel threads, safe stat parsing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libproc2/pids.h>

#include "cleanup.h"
#include "log.h"
#include "fileio.h"
#include "parse.h"
#include "procs.h"

#define PROC_STAT_MAX 4096
#define PROC_STATUS_MAX (16 * 1024)
#define PROC_CMDLINE_MAX (64 * 1024)
#define PROC_PF_KTHREAD 0x00200000u /* include/linux/sched.h */

static void proc_copy_sanitised(char *dst, size_t size, const char *src, size_t len)
{
	if (size == 0)
		return;
	if (len > size - 1)
		len = size - 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	dst[len] = '\0';
}

int proc_pid_path(char *buf, size_t size, const char *root, pid_t pid, const char *rel)
{
	int n = snprintf(buf, size, "%s/%d/%s", root, (int)pid, rel);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* One decimal field of /proc/PID/stat, optionally negative; the magnitude must fit 64 bits. */
static int proc_stat_field(const char **pp, const char *end, bool *ret_neg, uint64_t *ret)
{
	bool neg = *pp < end && **pp == '-';

	if (prs_u64(neg ? *pp + 1 : *pp, end, ret, pp) < 0)
		return -EBADMSG;
	*ret_neg = neg;
	return 0;
}

/* The parser behind proc_parse_stat(), also returning the flags field (9) for kernel-thread checks. */
static int proc_parse_stat_flags(const char *buf, size_t len, struct proc_stat *ret, uint64_t *ret_flags)
{
	const char *end = buf + len, *p = buf;
	struct proc_stat st = { 0 };
	uint64_t flags = 0;
	bool neg;
	uint64_t v;

	if (prs_u64(p, end, &v, &p) < 0)
		return -EBADMSG;
	if (end - p < 2 || p[0] != ' ' || p[1] != '(')
		return -EBADMSG;
	const char *comm = p + 2;
	/* comm is whatever the process chose, ')' and newlines included: it ends at the last ')'. */
	const char *close = memrchr(comm, ')', (size_t)(end - comm));
	if (!close)
		return -EBADMSG;
	proc_copy_sanitised(st.comm, sizeof(st.comm), comm, (size_t)(close - comm));
	p = close + 1;
	if (end - p < 3 || p[0] != ' ' || p[2] != ' ' || p[1] == ' ' || p[1] == '\n' || p[1] == '\0')
		return -EBADMSG;
	st.state = p[1];
	p += 3;

	/* fields 4..24: ppid .. rss */
	for (int field = 4; field <= 24; field++) {
		if (proc_stat_field(&p, end, &neg, &v) < 0)
			return -EBADMSG;
		/* a value the file ends in may itself be cut short: every field needs its separator */
		if (p >= end || (*p != ' ' && !(field == 24 && *p == '\n')))
			return -EBADMSG;
		p++;
		switch (field) {
		case 9:
			flags = v;
			break;
		case 14:
			st.utime_ticks = v;
			break;
		case 15:
			st.stime_ticks = v;
			break;
		case 22:
			st.start_time_ticks = v;
			break;
		case 24:
			st.rss_pages = v;
			break;
		default:
			continue;
		}
		if (neg)
			return -EBADMSG;
	}
	*ret = st;
	if (ret_flags)
		*ret_flags = flags;
	return 0;
}

int proc_parse_stat(const char *buf, size_t len, struct proc_stat *ret)
{
	if (!buf)
		return -EBADMSG;
	return proc_parse_stat_flags(buf, len, ret, NULL);
}

static int proc_read_stat_flags(const char *procfs_root, pid_t pid, struct proc_stat *ret,
				uint64_t *ret_flags)
{
	char path[PATH_MAX], buf[PROC_STAT_MAX];
	size_t len;
	int r;

	r = proc_pid_path(path, sizeof(path), procfs_root, pid, "stat");
	if (r < 0)
		return r;
	r = fio_read_capped(path, buf, sizeof(buf), &len, NULL);
	if (r < 0)
		return r;
	return proc_parse_stat_flags(buf, len, ret, ret_flags);
}

int proc_read_stat(const char *procfs_root, pid_t pid, struct proc_stat *ret)
{
	return proc_read_stat_flags(procfs_root, pid, ret, NULL);
}

int proc_exe_is_qemu(const char *exe)
{
	if (!exe || !*exe)
		return 0;
	const char *base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	if (!*base)
		return 0;
	if (strcmp(base, "qemu-kvm") == 0 || strcmp(base, "kvm") == 0)
		return 1;
	return strncmp(base, "qemu-system-", 12) == 0 && base[12] != '\0';
}

/* The length of an exe link's text of length n without the " (deleted)" the kernel appends once the
 * file is gone (a replaced binary of a running guest); a text that is nothing but the suffix stays. */
size_t proc_exe_len(const char *exe, size_t n)
{
	static const char deleted[] = " (deleted)";
	size_t dl = sizeof(deleted) - 1;

	return n > dl && memcmp(exe + n - dl, deleted, dl) == 0 ? n - dl : n;
}

/* readlink <root>/<pid>/exe with " (deleted)" stripped. -ENOENT for kernel threads and zombies. */
static int proc_read_exe(const char *procfs_root, pid_t pid, char *buf, size_t size)
{
	char path[PATH_MAX];
	int r;

	r = proc_pid_path(path, sizeof(path), procfs_root, pid, "exe");
	if (r < 0)
		return r;
	ssize_t n = readlink(path, buf, size - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n >= size - 1)
		return -ENAMETOOLONG;
	buf[proc_exe_len(buf, (size_t)n)] = '\0';
	return 0;
}

int proc_parse_status_vmrss(const char *buf, size_t len, uint64_t *ret_kib)
{
	struct prs_line l;
	size_t pos = 0;

	while (prs_next_line(buf, len, &pos, &l)) {
		const char *lend = l.p + l.len;
		if (l.complete && l.len > 6 && memcmp(l.p, "VmRSS:", 6) == 0) {
			const char *p = l.p + 6;
			uint64_t v;
			while (p < lend && (*p == ' ' || *p == '\t'))
				p++;
			if (prs_u64(p, lend, &v, &p) == 0 && lend - p >= 3 && memcmp(p, " kB", 3) == 0) {
				*ret_kib = v;
				return 0;
			}
			return -EBADMSG;
		}
	}
	return -ENOENT;
}

/* VmRSS from <root>/<pid>/status; 0 when the line is missing (kernel threads) or unreadable. */
static uint64_t proc_read_vmrss_kib(const char *procfs_root, pid_t pid)
{
	_cleanup_free_ char *buf = malloc(PROC_STATUS_MAX + 1);
	char path[PATH_MAX];
	size_t len;
	uint64_t v;
	int r;

	if (!buf || proc_pid_path(path, sizeof(path), procfs_root, pid, "status") < 0 ||
	    fio_read_capped(path, buf, PROC_STATUS_MAX, &len, NULL) < 0)
		return 0;
	r = proc_parse_status_vmrss(buf, len, &v);
	if (r == -EBADMSG)
		log_debug("garbled VmRSS line in '%s', ignoring", path);
	return r == 0 ? v : 0;
}

static bool proc_arg_is(const char *a, size_t alen, const char *opt)
{
	/* QEMU accepts both "-name" and "--name" */
	if (alen >= 2 && a[0] == '-' && a[1] == '-') {
		a++;
		alen--;
	}
	return strlen(opt) == alen && memcmp(a, opt, alen) == 0;
}

/* The guest name from a QEMU -name option string: "guest=NAME,debug-threads=on", or "NAME[,...]"
 * (guest is the implied first key). ",," is an escaped ','. Writes "" when there is none. */
static void proc_qemu_name(const char *s, size_t n, char *out, size_t outlen)
{
	const char *val = NULL;
	size_t vlen = 0;
	size_t i = 0;

	for (int idx = 0; i <= n; idx++) {
		size_t start = i, eq = SIZE_MAX;
		while (i < n) {
			if (s[i] == ',') {
				if (i + 1 < n && s[i + 1] == ',') {
					i += 2;
					continue;
				}
				break;
			}
			if (s[i] == '=' && eq == SIZE_MAX)
				eq = i;
			i++;
		}
		if (eq == SIZE_MAX && idx == 0) {
			val = s + start;
			vlen = i - start;
		} else if (eq != SIZE_MAX && eq - start == 5 && memcmp(s + start, "guest", 5) == 0) {
			val = s + eq + 1;
			vlen = i - eq - 1;
		}
		i++; /* past the ',' (or past the end, which ends the loop) */
	}
	if (!val)
		return;
	size_t o = 0;
	for (size_t k = 0; k < vlen && o + 1 < outlen; k++) {
		if (val[k] == ',' && k + 1 < vlen && val[k + 1] == ',')
			k++;
		unsigned char c = (unsigned char)val[k];
		out[o++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	out[o] = '\0';
}

static bool proc_uuid_valid(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			     (s[i] >= 'A' && s[i] <= 'F'))) {
			return false;
		}
	}
	return true;
}

void proc_parse_qemu_cmdline(const char *buf, size_t len, char *ret_name, size_t name_len, char *ret_uuid,
			     size_t uuid_len)
{
	const char *name = NULL, *uuid = NULL, *prev = NULL;
	size_t name_n = 0, uuid_n = 0, prev_n = 0;

	if (ret_name && name_len)
		ret_name[0] = '\0';
	if (ret_uuid && uuid_len)
		ret_uuid[0] = '\0';
	if (!buf)
		return;
	/* the last occurrence wins, as in QEMU */
	for (const char *p = buf, *end = buf + len; p < end;) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		size_t n = (size_t)((z ? z : end) - p);
		if (prev && proc_arg_is(prev, prev_n, "-name")) {
			name = p;
			name_n = n;
		} else if (prev && proc_arg_is(prev, prev_n, "-uuid")) {
			uuid = p;
			uuid_n = n;
		}
		prev = p;
		prev_n = n;
		if (!z)
			break;
		p = z + 1;
	}
	if (name && ret_name && name_len)
		proc_qemu_name(name, name_n, ret_name, name_len);
	if (uuid && ret_uuid && uuid_len && proc_uuid_valid(uuid, uuid_n))
		proc_copy_sanitised(ret_uuid, uuid_len, uuid, uuid_n);
}

/* Complete a vm_proc whose pid, exe, comm, rss and start time are known: read the cmdline, then check
 * the pid still names the same process (same start time), so a reused pid cannot mix two processes. */
static int proc_finish_vm(const char *procfs_root, struct vm_proc *vm)
{
	_cleanup_free_ char *buf = malloc(PROC_CMDLINE_MAX);
	char path[PATH_MAX];
	struct proc_stat st;
	size_t len;
	int r;

	if (!buf)
		return -ENOMEM;
	r = proc_pid_path(path, sizeof(path), procfs_root, vm->pid, "cmdline");
	if (r < 0)
		return r;
	r = fio_read_capped(path, buf, PROC_CMDLINE_MAX, &len, NULL);
	if (r < 0)
		return r;
	proc_parse_qemu_cmdline(buf, len, vm->guest_name, sizeof(vm->guest_name), vm->uuid, sizeof(vm->uuid));
	r = proc_read_stat(procfs_root, vm->pid, &st);
	if (r < 0)
		return r;
	if (st.start_time_ticks != vm->start_time_ticks)
		return -ESRCH;
	return 0;
}

struct proc_vec {
	struct vm_proc *v;
	size_t n, cap;
};

static int proc_vec_push(struct proc_vec *vec, const struct vm_proc *vm)
{
	if (vec->n == vec->cap) {
		size_t cap = vec->cap ? vec->cap * 2 : 8;
		struct vm_proc *nv = reallocarray(vec->v, cap, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		vec->v = nv;
		vec->cap = cap;
	}
	vec->v[vec->n++] = *vm;
	return 0;
}

static int proc_cmp_pid(const void *a, const void *b)
{
	pid_t x = ((const struct vm_proc *)a)->pid, y = ((const struct vm_proc *)b)->pid;
	return (x > y) - (x < y);
}

/* A /proc directory entry name that is a pid: digits only, no leading zero, in range. */
bool proc_name_to_pid(const char *name, pid_t *ret)
{
	const char *end = name + strlen(name), *next;
	uint64_t v;

	if (name[0] < '1' || name[0] > '9' || prs_u64(name, end, &v, &next) < 0 || next != end ||
	    v > INT_MAX)
		return false;
	*ret = (pid_t)v;
	return true;
}

/* Add one candidate; a process that vanished or changed meanwhile is skipped, not an error. */
static int proc_add_candidate(const char *procfs_root, struct proc_vec *vec, struct vm_proc *vm)
{
	int r = proc_finish_vm(procfs_root, vm);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		log_debug("skipping process %d: %s", (int)vm->pid, strerror(-r));
		return 0;
	}
	return proc_vec_push(vec, vm);
}

static void proc_pids_unrefp(struct pids_info **p)
{
	if (*p)
		procps_pids_unref(p);
}

/* The real /proc through libproc2. The cmdline is read by us, only for QEMU processes, capped. */
static int proc_list_qemu_libproc2(struct proc_vec *vec)
{
	enum { I_PID, I_EXE, I_CMD, I_TICS, I_RSS };
	enum pids_item items[] = { PIDS_ID_PID, PIDS_EXE, PIDS_CMD, PIDS_TICS_BEGAN, PIDS_VM_RSS };
	_cleanup_(proc_pids_unrefp) struct pids_info *info = NULL;
	int r;

	r = procps_pids_new(&info, items, (int)ELEMENTSOF(items));
	if (r < 0)
		return r;
	errno = 0;
	struct pids_fetch *f = procps_pids_reap(info, PIDS_FETCH_TASKS_ONLY);
	if (!f)
		return errno > 0 ? -errno : -EIO;
	for (int i = 0; i < f->counts->total; i++) {
		struct pids_stack *s = f->stacks[i];
		const char *exe = PIDS_VAL(I_EXE, str, s, info);
		const char *cmd = PIDS_VAL(I_CMD, str, s, info);
		struct vm_proc vm = { .pid = PIDS_VAL(I_PID, s_int, s, info) };

		/* libproc2 reports an unreadable or missing exe link as "-" */
		if (!exe || exe[0] != '/')
			continue;
		size_t n = proc_exe_len(exe, strlen(exe));
		if (n >= sizeof(vm.exe))
			continue;
		memcpy(vm.exe, exe, n);
		vm.exe[n] = '\0';
		if (!proc_exe_is_qemu(vm.exe))
			continue;
		vm.start_time_ticks = PIDS_VAL(I_TICS, ull_int, s, info);
		vm.rss_kib = PIDS_VAL(I_RSS, ul_int, s, info);
		if (cmd)
			proc_copy_sanitised(vm.comm, sizeof(vm.comm), cmd, strlen(cmd));
		r = proc_add_candidate("/proc", vec, &vm);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Any other root (a fixture tree): walk <root>/[0-9]*. */
static int proc_list_qemu_walk(const char *procfs_root, struct proc_vec *vec)
{
	_cleanup_closedir_ DIR *d = opendir(procfs_root);
	struct dirent *de;
	int r;

	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d))) {
		struct vm_proc vm = { 0 };
		char exe[PATH_MAX];
		struct proc_stat st;

		if (!proc_name_to_pid(de->d_name, &vm.pid))
			continue;
		/* stat first: proc_finish_vm() re-reads it last to prove every read hit one process */
		if (proc_read_stat(procfs_root, vm.pid, &st) < 0)
			continue;
		if (proc_read_exe(procfs_root, vm.pid, exe, sizeof(exe)) < 0 || !proc_exe_is_qemu(exe) ||
		    strlen(exe) >= sizeof(vm.exe))
			continue;
		strcpy(vm.exe, exe);
		memcpy(vm.comm, st.comm, sizeof(vm.comm));
		vm.start_time_ticks = st.start_time_ticks;
		vm.rss_kib = proc_read_vmrss_kib(procfs_root, vm.pid);
		r = proc_add_candidate(procfs_root, vec, &vm);
		if (r < 0)
			return r;
	}
	if (errno != 0)
		return -errno;
	return 0;
}

int proc_list_qemu(const char *procfs_root, struct vm_proc **ret_procs, size_t *ret_n)
{
	struct proc_vec vec = { 0 };
	int r;

	if (strcmp(procfs_root, "/proc") == 0)
		r = proc_list_qemu_libproc2(&vec);
	else
		r = proc_list_qemu_walk(procfs_root, &vec);
	if (r < 0) {
		free(vec.v);
		return r;
	}
	if (vec.n > 1)
		qsort(vec.v, vec.n, sizeof(*vec.v), proc_cmp_pid);
	*ret_procs = vec.v;
	*ret_n = vec.n;
	return 0;
}

int proc_find_kthread(const char *procfs_root, const char *comm)
{
	_cleanup_closedir_ DIR *d = opendir(procfs_root);
	struct dirent *de;

	if (!comm)
		return -EINVAL;
	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d))) {
		struct proc_stat st;
		uint64_t flags;
		char exe[PATH_MAX];
		pid_t pid;

		if (!proc_name_to_pid(de->d_name, &pid))
			continue;
		if (proc_read_stat_flags(procfs_root, pid, &st, &flags) < 0 || strcmp(st.comm, comm) != 0)
			continue;
		/* A zombie also has no exe: the kernel's PF_KTHREAD flag is what makes a kernel thread. */
		if (!(flags & PROC_PF_KTHREAD))
			continue;
		if (proc_read_exe(procfs_root, pid, exe, sizeof(exe)) != -ENOENT)
			continue;
		return pid;
	}
	if (errno != 0)
		return -errno;
	return -ENOENT;
}
