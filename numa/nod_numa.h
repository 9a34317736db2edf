/* nod_numa.h - NUMA topology and placement: nodes, per-node memory and hugepage pools of every size,
 * distances (sysfs is the source of truth, libnuma confirms on the real root), per-VM node placement
 * from /proc/PID/numa_maps. The module's API is nod_*; libnuma's numa_* names stay inside nod_numa.c. */
#ifndef MEMOPT_NOD_NUMA_H
#define MEMOPT_NOD_NUMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NOD_MAX 64              /* nodes memopt handles; ids must be below this */
#define NOD_HP_SIZES 4          /* hugepage sizes per node (x86: 2 MiB and 1 GiB) */

struct nod_hpool {
	uint64_t page_kib;      /* 2048, 1048576 */
	uint64_t nr;            /* nr_hugepages: pages in the pool */
	uint64_t free;          /* free_hugepages */
	uint64_t surplus;       /* surplus_hugepages (0 if the file is missing) */
};

struct nod_node {
	int id;
	bool has_meminfo;
	uint64_t total_kib, free_kib, used_kib, file_kib, anon_kib;
	size_t npools;
	struct nod_hpool pool[NOD_HP_SIZES];
	bool has_distance;
	uint32_t distance[NOD_MAX]; /* indexed by node position in nod_topology.node[], not by id */
};

struct nod_topology {
	size_t n;                   /* nodes with memory-bearing directories, ascending id */
	struct nod_node node[NOD_MAX];
	bool libnuma;               /* libnuma confirmed the topology (real root only) */
};

/* Read <sysfs_root>/devices/system/node/node*: meminfo, hugepages/hugepages-*kB/{nr,free,surplus}_hugepages,
 * distance. A kernel without CONFIG_NUMA has no node directory: that is one node 0 built from
 * <sysfs_root>/kernel/mm/hugepages (pools) with no meminfo. When sysfs_root is "/sys" and libnuma says
 * NUMA is available, distances missing from sysfs are taken from libnuma. Returns 0 or -errno. */
int nod_read(const char *sysfs_root, struct nod_topology *ret);

/* Parse the text of a node's meminfo ("Node 0 MemTotal:  123 kB" lines) into n. Pure.
 * Returns 0, -EBADMSG if MemTotal is missing. */
int nod_parse_meminfo(const char *text, size_t len, struct nod_node *n);

/* Parse a node's distance line ("10 21 21 10") into out[0..max). Returns the count or -EBADMSG. Pure. */
int nod_parse_distance(const char *text, size_t len, uint32_t *out, size_t max);

/* Parse a list like "0-3,8" (sysfs online files, libvirt nodesets) into a bitmask of ids < NOD_MAX.
 * Returns 0 or -EBADMSG. Pure. */
int nod_parse_list(const char *text, size_t len, uint64_t *ret_mask);

/* Parse a hugepage pool counter file (nr_hugepages, free_hugepages...): one decimal, trailing blanks
 * allowed. Returns 0 or -EBADMSG. Pure. */
int nod_parse_u64(const char *text, size_t len, uint64_t *ret);
/* Parse a pool directory name "hugepages-<N>kB" (0 < N <= 2^40) into *ret_kib. Returns 0 or -EINVAL. Pure. */
int nod_parse_pool_name(const char *name, uint64_t *ret_kib);

/* Index of node id in t, or -1. */
int nod_index(const struct nod_topology *t, int id);
/* The pool of page_kib on node index i, or NULL. */
const struct nod_hpool *nod_pool(const struct nod_topology *t, size_t i, uint64_t page_kib);

/* Per-process memory per node from numa_maps text: each line's Nx=pages times its
 * kernelpagesize_kB. kib[] is indexed by node id. Pure. Returns 0 or -EBADMSG. */
int nod_parse_numa_maps(const char *text, size_t len, uint64_t kib[NOD_MAX]);
/* Read <procfs_root>/<pid>/numa_maps (bounded) and parse it. Returns 0 or -errno. */
int nod_read_placement(const char *procfs_root, pid_t pid, uint64_t kib[NOD_MAX]);

/* Build "<sysfs_root>/devices/system/node/node<id>/hugepages/hugepages-<kib>kB/nr_hugepages" (or the
 * global <sysfs_root>/kernel/mm/hugepages/... when id < 0). Returns 0 or -ENAMETOOLONG. */
int nod_pool_path(char *buf, size_t len, const char *sysfs_root, int id, uint64_t page_kib, const char *file);

#endif
