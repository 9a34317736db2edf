/* hr_read.c - headroom readers: meminfo, arcstats, KSM pages_sharing, node meminfo (see hr_read.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hr_read.h"
#include "../common/cleanup.h"
#include "../common/fileio.h"
#include "../common/hostmem.h"

#define HR_FILE_CAP (256 * 1024)

static int read_text(const char *a, const char *b, char **ret)
{
	char path[512];
	size_t len;
	int n = snprintf(path, sizeof(path), "%s%s", a, b);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	return fio_read_alloc(path, HR_FILE_CAP, ret, &len, NULL);
}

/* Parse an unsigned decimal at p; hostile input (no digits, overflow) fails. */
static int parse_u64(const char *p, uint64_t *ret, const char **ret_end)
{
	char *end;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!isdigit((unsigned char)*p))
		return -EBADMSG;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno)
		return -EBADMSG;
	*ret = v;
	if (ret_end)
		*ret_end = end;
	return 0;
}

int hr_parse_kstat(const char *text, const char *name, uint64_t *ret)
{
	size_t nl = strlen(name);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, name, nl) != 0 || (p[nl] != ' ' && p[nl] != '\t'))
			continue;
		const char *q = p + nl;
		uint64_t type, v;
		if (parse_u64(q, &type, &q) < 0 || parse_u64(q, &v, NULL) < 0)
			return -EBADMSG;
		*ret = v;
		return 0;
	}
	return -ENOENT;
}

int hr_parse_meminfo_key(const char *text, const char *key, uint64_t *ret)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *q = p;
		if (strncmp(q, "Node ", 5) == 0) {
			q += 5;
			while (isdigit((unsigned char)*q))
				q++;
			while (*q == ' ')
				q++;
		}
		if (strncmp(q, key, kl) != 0 || q[kl] != ':')
			continue;
		return parse_u64(q + kl + 1, ret, NULL);
	}
	return -ENOENT;
}

static void read_nodes(const char *sysfs_root, struct hr_input *in)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/devices/system/node", sysfs_root);
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d)) && in->nnodes < HR_NODES_MAX) {
		char rel[300];
		_cleanup_free_ char *t = NULL;
		if (strncmp(de->d_name, "node", 4) != 0 || !isdigit((unsigned char)de->d_name[4]) ||
		    strspn(de->d_name + 4, "0123456789") != strlen(de->d_name + 4))
			continue;
		snprintf(rel, sizeof(rel), "/%s/meminfo", de->d_name);
		if (read_text(dir, rel, &t) < 0)
			continue;
		struct hr_node_in n = {.id = atoi(de->d_name + 4)};
		uint64_t af = 0, inf = 0;
		if (hr_parse_meminfo_key(t, "MemTotal", &n.total_kib) < 0 ||
		    hr_parse_meminfo_key(t, "MemFree", &n.free_kib) < 0)
			continue;
		hr_parse_meminfo_key(t, "Active(file)", &af);
		hr_parse_meminfo_key(t, "Inactive(file)", &inf);
		hr_parse_meminfo_key(t, "SReclaimable", &n.sreclaim_kib);
		hr_parse_meminfo_key(t, "HugePages_Total", &n.hp_total);
		hr_parse_meminfo_key(t, "HugePages_Free", &n.hp_free);
		n.file_kib = af + inf;
		if (n.free_kib > n.total_kib)
			continue; /* hostile or torn: skip the node rather than trust it */
		in->node[in->nnodes++] = n;
	}
	/* readdir order is arbitrary: sort by id for stable output */
	for (size_t i = 1; i < in->nnodes; i++)
		for (size_t j = i; j > 0 && in->node[j - 1].id > in->node[j].id; j--) {
			struct hr_node_in x = in->node[j];
			in->node[j] = in->node[j - 1];
			in->node[j - 1] = x;
		}
}

int hr_read(const char *procfs_root, const char *sysfs_root, struct hr_input *ret)
{
	struct hr_input *in = ret;
	struct host_mem m;
	_cleanup_free_ char *mi = NULL, *arc = NULL, *ksm = NULL;
	int r;

	memset(in, 0, sizeof(*in));
	r = hm_read_meminfo(procfs_root, &m);
	if (r == 0) {
		in->mem_valid = true;
		in->total_kib = m.total_kib;
		in->avail_kib = m.avail_kib;
		in->hp_total = m.hugepages_total;
		in->hp_free = m.hugepages_free;
		in->hp_size_kib = m.hugepage_size_kib;
		if (read_text(procfs_root, "/meminfo", &mi) == 0)
			hr_parse_meminfo_key(mi, "HugePages_Rsvd", &in->hp_rsvd);
	}
	if (read_text(procfs_root, "/spl/kstat/zfs/arcstats", &arc) == 0) {
		uint64_t size, cmin;
		if (hr_parse_kstat(arc, "size", &size) == 0 && hr_parse_kstat(arc, "c_min", &cmin) == 0) {
			in->arc_present = true;
			in->arc_size_kib = size / 1024;
			in->arc_cmin_kib = cmin / 1024;
		}
	}
	if (read_text(sysfs_root, "/kernel/mm/ksm/pages_sharing", &ksm) == 0) {
		uint64_t pages;
		if (parse_u64(ksm, &pages, NULL) == 0) {
			long ps = sysconf(_SC_PAGESIZE);
			in->ksm_present = true;
			in->ksm_sharing_kib = pages * (uint64_t)(ps > 0 ? ps : 4096) / 1024;
		}
	}
	read_nodes(sysfs_root, in);
	return r;
}
