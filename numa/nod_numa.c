/* nod_numa.c - NUMA topology reader (sysfs, with libnuma as the adapter on the real root) and the
 * per-process placement reader (/proc/PID/numa_maps). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nod_numa.h"
#include "../common/cleanup.h"
#include "../common/fileio.h"
#include "../common/parse.h"

#define NOD_FILE_MAX 8192
#define NOD_MAPS_MAX (16 * 1024 * 1024)

int nod_pool_path(char *buf, size_t len, const char *sysfs_root, int id, uint64_t page_kib, const char *file)
{
	int n;

	if (id >= 0)
		n = snprintf(buf, len, "%s/devices/system/node/node%d/hugepages/hugepages-%llukB/%s", sysfs_root, id,
			     (unsigned long long)page_kib, file);
	else
		n = snprintf(buf, len, "%s/kernel/mm/hugepages/hugepages-%llukB/%s", sysfs_root,
			     (unsigned long long)page_kib, file);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int nod_parse_u64(const char *text, size_t len, uint64_t *ret)
{
	const char *next, *end = text + len;
	uint64_t v;

	if (prs_u64(text, end, &v, &next) < 0)
		return -EBADMSG;
	while (next < end && isspace((unsigned char)*next))
		next++;
	if (next != end)
		return -EBADMSG;
	*ret = v;
	return 0;
}

static int read_u64_file(const char *path, uint64_t *ret)
{
	char buf[64];
	size_t len;
	int r = fio_read_capped(path, buf, sizeof(buf) - 1, &len, NULL);

	if (r < 0)
		return r;
	return nod_parse_u64(buf, len, ret);
}

int nod_parse_meminfo(const char *text, size_t len, struct nod_node *n)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
		{"MemTotal:", offsetof(struct nod_node, total_kib)},
		{"MemFree:", offsetof(struct nod_node, free_kib)},
		{"MemUsed:", offsetof(struct nod_node, used_kib)},
		{"FilePages:", offsetof(struct nod_node, file_kib)},
		{"AnonPages:", offsetof(struct nod_node, anon_kib)},
	};
	struct prs_line l;
	size_t pos = 0;
	bool have_total = false;

	n->total_kib = n->free_kib = n->used_kib = n->file_kib = n->anon_kib = 0;
	while (prs_next_line(text, len, &pos, &l)) {
		/* "Node 0 MemTotal:       23816008 kB" */
		const char *p = l.p, *end = l.p + l.len, *next;
		uint64_t v;

		if (l.len < 5 || memcmp(p, "Node ", 5) != 0)
			continue;
		p += 5;
		while (p < end && isdigit((unsigned char)*p))
			p++;
		while (p < end && *p == ' ')
			p++;
		for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
			size_t fl = strlen(fields[i].name);

			if ((size_t)(end - p) <= fl || memcmp(p, fields[i].name, fl) != 0)
				continue;
			const char *q = p + fl;
			while (q < end && *q == ' ')
				q++;
			if (prs_u64(q, end, &v, &next) < 0 || v > UINT64_MAX / 2)
				break;
			*(uint64_t *)((char *)n + fields[i].off) = v;
			if (i == 0)
				have_total = true;
			break;
		}
	}
	if (!have_total)
		return -EBADMSG;
	n->has_meminfo = true;
	return 0;
}

int nod_parse_distance(const char *text, size_t len, uint32_t *out, size_t max)
{
	const char *p = text, *end = text + len, *next;
	size_t n = 0;
	uint64_t v;

	for (;;) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (p == end)
			break;
		if (n == max || prs_u64(p, end, &v, &next) < 0 || v > 255)
			return -EBADMSG;
		out[n++] = (uint32_t)v;
		p = next;
	}
	return n ? (int)n : -EBADMSG;
}

int nod_parse_list(const char *text, size_t len, uint64_t *ret_mask)
{
	const char *p = text, *end = text + len, *next;
	uint64_t mask = 0, a, b;

	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p == end)
		return -EBADMSG;
	for (;;) {
		if (prs_u64(p, end, &a, &next) < 0 || a >= NOD_MAX)
			return -EBADMSG;
		b = a;
		p = next;
		if (p < end && *p == '-') {
			if (prs_u64(p + 1, end, &b, &next) < 0 || b >= NOD_MAX || b < a)
				return -EBADMSG;
			p = next;
		}
		for (uint64_t i = a; i <= b; i++)
			mask |= 1ULL << i;
		if (p == end)
			break;
		if (*p != ',')
			return -EBADMSG;
		p++;
	}
	*ret_mask = mask;
	return 0;
}

int nod_index(const struct nod_topology *t, int id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->node[i].id == id)
			return (int)i;
	return -1;
}

const struct nod_hpool *nod_pool(const struct nod_topology *t, size_t i, uint64_t page_kib)
{
	if (i >= t->n)
		return NULL;
	for (size_t k = 0; k < t->node[i].npools; k++)
		if (t->node[i].pool[k].page_kib == page_kib)
			return &t->node[i].pool[k];
	return NULL;
}

int nod_parse_pool_name(const char *name, uint64_t *ret_kib)
{
	unsigned long long kib;
	char tail[4];

	if (sscanf(name, "hugepages-%llukB%3s", &kib, tail) != 1 || kib == 0 || kib > (1ULL << 40))
		return -EINVAL;
	*ret_kib = kib;
	return 0;
}

static int cmp_pool(const void *a, const void *b)
{
	const struct nod_hpool *x = a, *y = b;
	return x->page_kib < y->page_kib ? -1 : x->page_kib > y->page_kib;
}

/* The hugepages-<N>kB directories below dir into n->pool[]. A missing directory is no pools. */
static int read_pools(const char *dir, const char *sysfs_root, int id, struct nod_node *n)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;

	n->npools = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char path[1024];
		uint64_t kib;
		struct nod_hpool hp = {0};

		if (nod_parse_pool_name(de->d_name, &kib) < 0)
			continue;
		if (n->npools == NOD_HP_SIZES)
			break;
		hp.page_kib = kib;
		if (nod_pool_path(path, sizeof(path), sysfs_root, id, kib, "nr_hugepages") < 0 ||
		    read_u64_file(path, &hp.nr) < 0)
			continue;
		if (nod_pool_path(path, sizeof(path), sysfs_root, id, kib, "free_hugepages") == 0)
			(void)read_u64_file(path, &hp.free);
		if (nod_pool_path(path, sizeof(path), sysfs_root, id, kib, "surplus_hugepages") == 0)
			(void)read_u64_file(path, &hp.surplus);
		n->pool[n->npools++] = hp;
	}
	qsort(n->pool, n->npools, sizeof(n->pool[0]), cmp_pool);
	return 0;
}

static int cmp_node(const void *a, const void *b)
{
	const struct nod_node *x = a, *y = b;
	return x->id - y->id;
}

/* libnuma, only for the real root: is NUMA available, and the distance between two node ids. */
static bool lib_available(void)
{
	return numa_available() >= 0;
}

static uint32_t lib_distance(int a, int b)
{
	int d = numa_distance(a, b);
	return d > 0 && d < 256 ? (uint32_t)d : 0;
}

int nod_read(const char *sysfs_root, struct nod_topology *ret)
{
	char dir[768], path[1024];
	_cleanup_free_ struct nod_topology *t = calloc(1, sizeof(*t));
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int r;

	if (!t)
		return -ENOMEM;
	snprintf(dir, sizeof(dir), "%s/devices/system/node", sysfs_root);
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d)) && t->n < NOD_MAX) {
			char *endp;
			long id;

			if (strncmp(de->d_name, "node", 4) != 0 || !isdigit((unsigned char)de->d_name[4]))
				continue;
			id = strtol(de->d_name + 4, &endp, 10);
			if (*endp || id < 0 || id >= NOD_MAX)
				continue;
			t->node[t->n++].id = (int)id;
		}
	} else if (errno != ENOENT) {
		return -errno;
	}
	if (t->n == 0) {
		/* No NUMA in the kernel: one node 0 whose pools are the global ones. */
		t->n = 1;
		t->node[0].id = 0;
		snprintf(dir, sizeof(dir), "%s/kernel/mm/hugepages", sysfs_root);
		r = read_pools(dir, sysfs_root, -1, &t->node[0]);
		if (r < 0)
			return r;
		*ret = *t;
		return 0;
	}
	qsort(t->node, t->n, sizeof(t->node[0]), cmp_node);
	for (size_t i = 0; i < t->n; i++) {
		struct nod_node *n = &t->node[i];
		_cleanup_free_ char *buf = NULL;
		size_t len;
		uint32_t dist[NOD_MAX];

		snprintf(path, sizeof(path), "%s/node%d/meminfo", dir, n->id);
		if (fio_read_alloc(path, NOD_FILE_MAX, &buf, &len, NULL) == 0)
			(void)nod_parse_meminfo(buf, len, n);
		free(TAKE_PTR(buf));
		snprintf(path, sizeof(path), "%s/node%d/hugepages", dir, n->id);
		r = read_pools(path, sysfs_root, n->id, n);
		if (r < 0)
			return r;
		snprintf(path, sizeof(path), "%s/node%d/distance", dir, n->id);
		if (fio_read_alloc(path, NOD_FILE_MAX, &buf, &len, NULL) == 0) {
			/* The distance file lists the online nodes in id order, as we do. */
			int k = nod_parse_distance(buf, len, dist, NOD_MAX);
			if (k == (int)t->n) {
				memcpy(n->distance, dist, t->n * sizeof(dist[0]));
				n->has_distance = true;
			}
		}
	}
	if (strcmp(sysfs_root, "/sys") == 0 && lib_available()) {
		t->libnuma = true;
		for (size_t i = 0; i < t->n; i++) {
			if (t->node[i].has_distance)
				continue;
			bool ok = true;
			for (size_t j = 0; j < t->n; j++)
				ok = (t->node[i].distance[j] = lib_distance(t->node[i].id, t->node[j].id)) > 0 && ok;
			t->node[i].has_distance = ok;
		}
	}
	*ret = *t;
	return 0;
}

int nod_parse_numa_maps(const char *text, size_t len, uint64_t kib[NOD_MAX])
{
	struct prs_line l;
	size_t pos = 0;

	memset(kib, 0, NOD_MAX * sizeof(kib[0]));
	while (prs_next_line(text, len, &pos, &l)) {
		const char *p = l.p, *end = l.p + l.len, *next;
		uint64_t pages[NOD_MAX] = {0}, page_kib = 4, v;
		bool any = false;

		while (p < end) {
			const char *w = p;
			while (p < end && *p != ' ')
				p++;
			size_t wl = (size_t)(p - w);
			if (wl > 1 && w[0] == 'N' && isdigit((unsigned char)w[1])) {
				uint64_t id;
				if (prs_u64(w + 1, w + wl, &id, &next) == 0 && next < w + wl && *next == '=' &&
				    id < NOD_MAX && prs_u64(next + 1, w + wl, &v, &next) == 0 && next == w + wl &&
				    v < (1ULL << 40)) {
					pages[id] += v;
					any = true;
				}
			} else if (wl > 18 && memcmp(w, "kernelpagesize_kB=", 18) == 0) {
				if (prs_u64(w + 18, w + wl, &v, &next) == 0 && next == w + wl && v > 0 &&
				    v <= (1ULL << 24))
					page_kib = v;
			}
			while (p < end && *p == ' ')
				p++;
		}
		if (any)
			for (size_t i = 0; i < NOD_MAX; i++)
				kib[i] += pages[i] * page_kib;
	}
	return 0;
}

int nod_read_placement(const char *procfs_root, pid_t pid, uint64_t kib[NOD_MAX])
{
	_cleanup_free_ char *buf = NULL;
	char path[512];
	size_t len;
	int n = snprintf(path, sizeof(path), "%s/%d/numa_maps", procfs_root, (int)pid);
	int r;

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	r = fio_read_alloc(path, NOD_MAPS_MAX, &buf, &len, NULL);
	if (r < 0)
		return r;
	return nod_parse_numa_maps(buf, len, kib);
}
