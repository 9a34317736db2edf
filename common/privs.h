/* privs.h - least privilege: after start-up memoptd keeps euid 0 and only the capabilities its jobs
 * need (libcap-ng), and the programs it starts get none. See README.md, "Privilege model". */
#ifndef MEMOPT_PRIVS_H
#define MEMOPT_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The capability sets of one process, as /proc/PID/status shows them (bit N = capability N). */
struct priv_sets {
	uint64_t inh, prm, eff, bnd, amb;
	int no_new_privs; /* 0 or 1; -1 when the kernel does not show NoNewPrivs */
};

/* What memoptd keeps, and why (README.md and contrib/systemd/memoptd.service say the same):
 *   CAP_SYS_PTRACE       /proc/<pid>/exe and numa_maps of QEMU processes of another uid (ptrace read check)
 *   CAP_DAC_READ_SEARCH  /proc/<pid>/ksm_stat and ksm_merging_pages: mode 0400, owned by that uid
 * The writes (/proc/sys/vm, /sys/kernel/mm, hugepage pools) are checked against euid 0 and file mode. */
#define PRIV_CAP_DAC_OVERRIDE 1
#define PRIV_CAP_DAC_READ_SEARCH 2
#define PRIV_CAP_SYS_PTRACE 19
#define PRIV_KEEP_MASK ((UINT64_C(1) << PRIV_CAP_DAC_READ_SEARCH) | (UINT64_C(1) << PRIV_CAP_SYS_PTRACE))
/* Only with [cluster] pacemaker = yes, and only for crm_attribute: Pacemaker's libqb IPC files
 * (/dev/shm/qb-*) belong to hacluster, so a root client without CAP_DAC_OVERRIDE cannot connect to
 * the CIB. memoptd keeps it permitted but not effective, and hands it only to that child. */
#define PRIV_CHILD_PACEMAKER_MASK (UINT64_C(1) << PRIV_CAP_DAC_OVERRIDE)

/* Parse the Cap* and NoNewPrivs lines of a /proc/PID/status text (len bytes, need not be
 * NUL-terminated). Pure. Returns 0, or -EBADMSG when one of CapInh/CapPrm/CapEff/CapBnd/CapAmb is
 * missing or not 16 hex digits at most; ret is written only on success. */
int priv_parse_status(const char *text, size_t len, struct priv_sets *ret);

/* The capability name of bit n ("cap_sys_ptrace", as capsh(1) and capabilities(7) spell them), or
 * NULL for a bit this build does not know. Pure. */
const char *priv_cap_name(unsigned n);

/* Write the names of the bits of mask into buf, comma separated, lowest bit first ("none" for 0, "cap_N"
 * for unknown bits). Pure. Returns the length written, or -ENOBUFS when buf was too small (buf then
 * holds a NUL-terminated prefix). */
int priv_format_mask(uint64_t mask, char *buf, size_t len);

/* One line for the log: "effective=... permitted=... inheritable=... ambient=... bounding=...
 * no_new_privs=N" with names. Pure. Returns as priv_format_mask. */
int priv_format_sets(const struct priv_sets *s, char *buf, size_t len);

/* Read and parse a status file (normally "/proc/self/status"). Returns 0 or -errno / -EBADMSG. */
int priv_read_sets(const char *status_path, struct priv_sets *ret);

/* Drop to euid 0 with the capabilities in keep (usually PRIV_KEEP_MASK) in the effective set, keep |
 * keep_idle in the permitted and the bounding set (keep_idle: held for children only, see
 * priv_child_limit()), empty inheritable and ambient sets, and PR_SET_NO_NEW_PRIVS. Caps the process
 * does not hold are not gained (their names go to ret_missing, may be NULL). Not root (euid != 0):
 * changes nothing and returns 0. Returns 1
 * when dropped; 2 when the sets are as asked but capset(2) is refused (a seccomp filter), so the
 * programs memoptd starts cannot drop theirs either; -EPERM when the bounding set cannot be reduced
 * (no CAP_SETPCAP) or -errno, with a whole sentence in err. */
int priv_drop(uint64_t keep, uint64_t keep_idle, uint64_t *ret_missing, char *err, size_t errlen);

/* In a child between fork() and exec(): reduce the effective and permitted sets to mask (of what is
 * permitted now), empty the inheritable and ambient sets. A root exec then gets exactly those: it
 * would grant the bounding set, but no_new_privs clips that to the permitted set. mask 0: the program
 * runs without any capability. Async-signal-safe (raw capget/capset and prctl). Returns 0 or -errno
 * (a seccomp filter refusing capset: the child keeps what the daemon kept, which priv_drop()
 * returning 2 has already logged). */
int priv_child_limit(uint64_t mask);

#endif
