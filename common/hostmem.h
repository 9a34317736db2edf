/* hostmem.h - host memory readers: /proc/meminfo and /proc/vmstat (through libproc2 on the real /proc,
 * through our own parser on a fixture root) and memory PSI. */
#ifndef MEMOPT_HOSTMEM_H
#define MEMOPT_HOSTMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct host_mem {
	uint64_t total_kib;
	uint64_t free_kib;
	uint64_t avail_kib;        /* MemAvailable */
	uint64_t buffers_kib;
	uint64_t cached_kib;
	uint64_t shmem_kib;
	uint64_t anon_kib;         /* AnonPages */
	uint64_t swap_total_kib;
	uint64_t swap_free_kib;
	uint64_t hugepages_total;  /* HugePages_Total (default size) */
	uint64_t hugepages_free;
	uint64_t hugepage_size_kib;
};

struct host_vmstat {
	uint64_t pswpin;
	uint64_t pswpout;
	uint64_t pgmajfault;
	uint64_t cow_ksm;          /* KSM pages broken by a write (0 when the kernel lacks it) */
	uint64_t ksm_swpin_copy;
	bool has_cow_ksm;
};

struct psi_line { uint32_t avg10_ppm, avg60_ppm, avg300_ppm; uint64_t total_us; };
struct host_psi {
	bool available;            /* false when /proc/pressure/memory is absent (PSI off) */
	struct psi_line some, full;
};

/* Each returns 0 on success, -errno on failure (-ENOENT missing, -EBADMSG malformed: e.g. truncated,
 * MemTotal missing, or MemAvailable missing). procfs_root is "/proc" for the host. On "/proc" the
 * libproc2 backend is used; any other root is parsed from files. ret_ written only on success. */
int hm_read_meminfo(const char *procfs_root, struct host_mem *ret);
int hm_read_vmstat(const char *procfs_root, struct host_vmstat *ret);
/* Missing PSI file is not an error: ret->available = false, returns 0. */
int hm_read_psi(const char *procfs_root, struct host_psi *ret);

/* The file-parser backends, exported so tests can cross-check them against libproc2 on the real /proc. */
int hm_parse_meminfo_file(const char *path, struct host_mem *ret);
int hm_parse_vmstat_file(const char *path, struct host_vmstat *ret);
/* The pure parsers behind them, on text already in memory (buf need not be NUL-terminated). Return 0
 * or -EBADMSG; ret written only on success. hm_parse_psi_text() sets ret->available. */
int hm_parse_meminfo_text(const char *buf, size_t len, struct host_mem *ret);
int hm_parse_vmstat_text(const char *buf, size_t len, struct host_vmstat *ret);
int hm_parse_psi_text(const char *buf, size_t len, struct host_psi *ret);

#endif
