/* ksm_sysfs.h - reads every knob and counter under <sysfs_root>/kernel/mm/ksm that exists, and writes
 * knobs with validation and read-back. Also the per-process ksm_stat reader. */
#ifndef MEMOPT_KSM_SYSFS_H
#define MEMOPT_KSM_SYSFS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

/* Every file we know. Order is the table order in ksm_sysfs.c; KSM_F__MAX is the count. */
enum ksm_field {
	/* knobs (writable) */
	KSM_F_RUN, KSM_F_PAGES_TO_SCAN, KSM_F_SLEEP_MILLISECS, KSM_F_MERGE_ACROSS_NODES,
	KSM_F_USE_ZERO_PAGES, KSM_F_MAX_PAGE_SHARING, KSM_F_STABLE_NODE_CHAINS_PRUNE_MILLISECS,
	KSM_F_SMART_SCAN, KSM_F_ADVISOR_MODE, KSM_F_ADVISOR_MAX_CPU, KSM_F_ADVISOR_MIN_PAGES_TO_SCAN,
	KSM_F_ADVISOR_MAX_PAGES_TO_SCAN, KSM_F_ADVISOR_TARGET_SCAN_TIME,
	/* counters (read-only) */
	KSM_F_PAGES_SHARED, KSM_F_PAGES_SHARING, KSM_F_PAGES_UNSHARED, KSM_F_PAGES_VOLATILE,
	KSM_F_PAGES_SCANNED, KSM_F_PAGES_SKIPPED, KSM_F_FULL_SCANS, KSM_F_STABLE_NODE_CHAINS,
	KSM_F_STABLE_NODE_DUPS, KSM_F_KSM_ZERO_PAGES, KSM_F_GENERAL_PROFIT,
	KSM_F__MAX
};

/* advisor_mode is a word in the kernel ("[none] scan-time"); we store it as a number. */
enum ksm_advisor_mode { KSM_ADVISOR_NONE = 0, KSM_ADVISOR_SCAN_TIME = 1 };
/* The kernel's word for an advisor_mode value: "scan-time", and "none" for any other value. Pure. */
const char *ksm_advisor_mode_name(int64_t v);

struct ksm_state {
	bool present;                   /* the ksm directory exists */
	uint32_t have;                  /* bit (1u << field) set when the file exists and parsed */
	int64_t v[KSM_F__MAX];          /* values; general_profit may be negative */
};

static inline bool ksm_has(const struct ksm_state *s, enum ksm_field f) { return s->have & (1u << f); }

/* The file name of a field ("pages_to_scan"), and whether it is a knob. Pure. */
const char *ksm_field_name(enum ksm_field f);
bool ksm_field_is_knob(enum ksm_field f);
/* Look a field up by file name; returns -ENOENT if unknown. */
int ksm_field_from_name(const char *name);

/* Read <sysfs_root>/kernel/mm/ksm/<every file>. Missing optional files clear their bit; an unreadable
 * or garbled file is logged and its bit cleared (not fatal). Returns 0, or -ENOENT if the directory
 * does not exist (KSM not built in). */
int ksm_read(const char *sysfs_root, struct ksm_state *ret);

/* Write one knob: checks the field is a knob and is present, writes the value ("scan-time"/"none" for
 * advisor_mode), reads it back and compares. Returns 0, -EOPNOTSUPP if the knob is absent, -EINVAL if
 * the kernel rejected the value, -EIO if the read-back differs, or -errno. dry_run: only validates. */
int ksm_write_knob(const char *sysfs_root, enum ksm_field f, int64_t value, bool dry_run);
/* Parse one KSM sysfs file's text (buf[0..len), blanks around it allowed) as field f's value.
 * Returns 0, -EBADMSG when garbled, -EINVAL for an unknown field. Pure. */
int ksm_parse_field_value(enum ksm_field f, const char *buf, size_t len, int64_t *ret);
/* Read one knob's current value. */
int ksm_read_field(const char *sysfs_root, enum ksm_field f, int64_t *ret);

/* /proc/PID/ksm_stat (6.1+) and /proc/PID/ksm_merging_pages (5.19+). */
struct ksm_proc_stat {
	bool has_stat;                  /* ksm_stat was readable */
	uint64_t rmap_items;
	uint64_t zero_pages;
	uint64_t merging_pages;
	int64_t profit_bytes;           /* ksm_process_profit; computed if the kernel lacks it */
	int merge_any;                  /* -1 unknown, 0 no, 1 yes */
	int mergeable;                  /* -1 unknown, 0 no, 1 yes */
};
/* Returns 0, -ENOENT if the process is gone or the kernel has neither file, -EBADMSG if garbled. */
int ksm_read_proc(const char *procfs_root, pid_t pid, struct ksm_proc_stat *ret);
/* Parse the text of ksm_stat. Pure. */
int ksm_parse_proc_stat(const char *buf, size_t len, struct ksm_proc_stat *ret);

/* Sum of (pid) ksm_merging_pages over all processes on procfs_root with a non-zero value, or with
 * ksm_mergeable yes: fills up to max entries into ret (pid + stats), returns the count or -errno. */
struct ksm_proc_entry { pid_t pid; char comm[64]; struct ksm_proc_stat st; };
int ksm_list_procs(const char *procfs_root, struct ksm_proc_entry *ret, size_t max);

#endif
