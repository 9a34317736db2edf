/* hr_read.h - acquire the headroom snapshot of this host: meminfo, ZFS ARC kstats, KSM savings,
 * per-NUMA-node meminfo, from injected /proc and /sys roots. */
#ifndef MEMOPT_HR_READ_H
#define MEMOPT_HR_READ_H

#include "hr_model.h"

/* Fill everything in *ret but the guests (the caller adds them from the balloon module). A missing
 * ARC, KSM or node tree is not an error (the term is absent); an unreadable meminfo leaves
 * ret->mem_valid false. Returns 0, or -errno when meminfo cannot be read (ret is still filled). */
int hr_read(const char *procfs_root, const char *sysfs_root, struct hr_input *ret);

/* Parsers, exported for tests. "name type data" kstat lines: value of `name` in *ret. 0 / -ENOENT. */
int hr_parse_kstat(const char *text, const char *name, uint64_t *ret);
/* A "[Node N ]Key:   value[ kB]" line set: value of Key (kB stays KiB, bare numbers as is). 0 / -ENOENT. */
int hr_parse_meminfo_key(const char *text, const char *key, uint64_t *ret);

#endif
