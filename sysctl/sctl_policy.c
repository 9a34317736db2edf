/* sctl_policy.c - the pure host memory plan: profile values, NUMA-aware choices, hugepage pools sized
 * from the hugepage-backed domains, operator overrides and keep. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sctl_policy.h"
#include "../common/cleanup.h"

const char *sctl_action_name(enum sctl_action a)
{
	switch (a) {
	case SA_OK: return "ok";
	case SA_CHANGE: return "change";
	case SA_UNMANAGED: return "not-managed";
	case SA_UNAVAILABLE: return "unavailable";
	case SA_BLOCKED: return "blocked";
	}
	return "?";
}

__attribute__((format(printf, 2, 3))) static void say(struct sctl_item *it, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(it->reason, sizeof(it->reason), fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 3))) static void say_more(struct sctl_item *it, const char *fmt, ...)
{
	size_t l = strlen(it->reason);
	va_list ap;
	if (l + 1 >= sizeof(it->reason))
		return;
	va_start(ap, fmt);
	vsnprintf(it->reason + l, sizeof(it->reason) - l, fmt, ap);
	va_end(ap);
}

static int knob_path(char *buf, size_t len, const struct sctl_facts *f, const struct sctl_knob *k)
{
	int n = snprintf(buf, len, "%s/%s", k->procfs ? f->procfs_root : f->sysfs_root, k->rel);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static size_t bits(uint64_t m)
{
	return (size_t)__builtin_popcountll(m);
}

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
	return b ? (a + b - 1) / b : 0;
}

/* The nodes (as indices into t) a domain's memory may come from: its binding, or every node. */
static uint64_t dom_index_mask(const struct nod_topology *t, const struct sctl_dom *d)
{
	uint64_t m = 0;
	for (size_t i = 0; i < t->n; i++)
		if (d->host_nodes & (1ULL << t->node[i].id))
			m |= 1ULL << i;
	if (!m)
		for (size_t i = 0; i < t->n; i++)
			m |= 1ULL << i;
	return m;
}

static uint64_t dom_page_kib(const struct sctl_dom *d, uint64_t default_hp_kib)
{
	return d->page_kib ? d->page_kib : default_hp_kib;
}

void sctl_hugepage_need(const struct nod_topology *t, const struct sctl_dom *doms, size_t ndoms,
			uint64_t default_hp_kib, uint64_t need[NOD_MAX][NOD_HP_SIZES],
			const uint64_t sizes[NOD_HP_SIZES], size_t nsizes)
{
	memset(need, 0, sizeof(uint64_t) * NOD_MAX * NOD_HP_SIZES);
	for (size_t k = 0; k < ndoms; k++) {
		const struct sctl_dom *d = &doms[k];
		uint64_t pk = dom_page_kib(d, default_hp_kib), mask;
		size_t s;

		if (!d->hugepages || !pk)
			continue;
		for (s = 0; s < nsizes && sizes[s] != pk; s++)
			;
		if (s == nsizes)
			continue;
		mask = dom_index_mask(t, d);
		uint64_t per = ceil_div(ceil_div(d->mem_kib, pk), bits(mask));
		for (size_t i = 0; i < t->n; i++)
			if (mask & (1ULL << i))
				need[i][s] += per;
	}
}

/* Names of hugepage-backed domains using size pk on node index i, for reasons. */
static void dom_names(const struct sctl_facts *f, size_t i, uint64_t pk, char *buf, size_t len)
{
	size_t off = 0, n = 0;
	buf[0] = '\0';
	for (size_t k = 0; k < f->ndoms; k++) {
		const struct sctl_dom *d = &f->doms[k];
		if (!d->hugepages || dom_page_kib(d, f->default_hp_kib) != pk || !(dom_index_mask(f->topo, d) & (1ULL << i)))
			continue;
		if (n++ == 3) {
			snprintf(buf + off, len - off, ", ...");
			return;
		}
		int w = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", d->name);
		if (w < 0 || (size_t)w >= len - off)
			return;
		off += (size_t)w;
	}
}

static void fixed_item(const struct cfg_host *cfg, const struct sctl_facts *f, enum sctl_id id, struct sctl_item *it)
{
	const struct sctl_knob *k = &sctl_knobs[id];
	const struct sctl_cur *c = &f->cur[id];
	const char *ov = cfg->knob[id];
	size_t nodes = f->topo->n;
	char e[256];

	memset(it, 0, sizeof(*it));
	snprintf(it->key, sizeof(it->key), "%s", k->key);
	it->id = (int)id;
	it->node = -1;
	it->order = k->order;
	it->source = k->source;
	knob_path(it->path, sizeof(it->path), f, k);
	if (c->present)
		snprintf(it->current, sizeof(it->current), "%s", c->value);

	if (strcmp(ov, SCTL_KEEP) == 0) {
		it->action = SA_UNMANAGED;
		snprintf(it->origin, sizeof(it->origin), "config");
		say(it, "[host] %s = keep: not managed", k->conf);
		return;
	}
	if (!c->present) {
		it->action = SA_UNAVAILABLE;
		say(it, "this kernel has no %s", it->path);
		return;
	}
	if (strcmp(ov, SCTL_AUTO) != 0) {
		snprintf(it->desired, sizeof(it->desired), "%s", ov);
		snprintf(it->origin, sizeof(it->origin), "config");
		say(it, "[host] %s = %s (operator; profile: %s)", k->conf, ov, k->profile);
	} else if (strcmp(k->profile, SCTL_KEEP) == 0) {
		it->action = SA_UNMANAGED;
		snprintf(it->origin, sizeof(it->origin), "profile");
		say(it, "not managed by default: %s", k->reason);
		return;
	} else if (strcmp(k->profile, SCTL_AUTO) == 0) {
		snprintf(it->origin, sizeof(it->origin), "computed");
		if (id == SCTL_ZONE_RECLAIM) {
			snprintf(it->desired, sizeof(it->desired), "0");
			if (nodes > 1)
				say(it, "%zu NUMA nodes, guests span them: reclaiming on the local node stalls a guest "
					"while other nodes have free memory; 0 falls back to a remote node", nodes);
			else
				say(it, "one NUMA node: no local/remote choice; 0 is the kernel default and keeps reclaim "
					"from stalling guests if the host gains nodes");
		} else if (id == SCTL_KSM_MERGE_ACROSS_NODES) {
			if (nodes <= 1) {
				it->action = SA_UNMANAGED;
				say(it, "one NUMA node: merging across nodes makes no difference; left as is");
				return;
			}
			snprintf(it->desired, sizeof(it->desired), "0");
			say(it, "%zu NUMA nodes: a page merged across nodes is remote for every guest but one; 0 "
				"merges only within a node", nodes);
		}
	} else {
		snprintf(it->desired, sizeof(it->desired), "%s", k->profile);
		snprintf(it->origin, sizeof(it->origin), "profile");
		say(it, "%s", k->reason);
	}

	if (sctl_check_value(k, it->desired, k->kind == SK_SELECT ? c->text : NULL, e, sizeof(e)) < 0) {
		it->action = SA_BLOCKED;
		say(it, "%s", e);
		return;
	}
	if (strcmp(it->desired, it->current) == 0) {
		it->action = SA_OK;
		return;
	}
	if (id == SCTL_DIRTY_BG_RATIO && f->dirty_bg_bytes_set) {
		it->action = SA_BLOCKED;
		say(it, "vm.dirty_background_bytes is set, so the ratio is not in use and writing it would clear the "
			"bytes value; set [host] dirty_background_ratio = keep, or clear dirty_background_bytes");
		return;
	}
	it->action = SA_CHANGE;
	if (id == SCTL_KSM_MERGE_ACROSS_NODES && f->ksm_pages_shared > 0) {
		if (cfg->ksm_unmerge) {
			it->unmerge = true;
			say_more(it, "; KSM has %llu pages merged, the kernel refuses the change until they are "
				     "unmerged: memopt unmerges first ([host] ksm_unmerge = yes)",
				 (unsigned long long)f->ksm_pages_shared);
		} else {
			it->action = SA_BLOCKED;
			say_more(it, "; blocked: KSM has %llu pages merged and the kernel refuses the change until "
				     "they are unmerged; set [host] ksm_unmerge = yes to let memopt unmerge first",
				 (unsigned long long)f->ksm_pages_shared);
		}
	}
}

static struct sctl_item *hp_item(struct sctl_plan *p, const struct sctl_facts *f, int node, uint64_t pk)
{
	struct sctl_item *it = &p->item[p->n++];

	memset(it, 0, sizeof(*it));
	it->id = -1;
	it->node = node;
	it->page_kib = pk;
	it->order = sctl_hugepages_knob.order;
	it->source = sctl_hugepages_knob.source;
	snprintf(it->key, sizeof(it->key), "hugepages.node%d.%llukB", node, (unsigned long long)pk);
	nod_pool_path(it->path, sizeof(it->path), f->sysfs_root, f->topo->n == 1 && !f->topo->node[0].has_meminfo ? -1 : node,
		      pk, "nr_hugepages");
	return it;
}

static const char *size_text(uint64_t kib, char *buf, size_t len)
{
	if (kib >= 1048576 && kib % 1048576 == 0)
		snprintf(buf, len, "%llu GiB", (unsigned long long)(kib / 1048576));
	else if (kib >= 1024 && kib % 1024 == 0)
		snprintf(buf, len, "%llu MiB", (unsigned long long)(kib / 1024));
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)kib);
	return buf;
}

static int hugepage_items(const struct cfg_host *cfg, const struct sctl_facts *f, struct sctl_plan *p)
{
	const struct nod_topology *t = f->topo;
	struct sctl_hp_spec spec[SCTL_HP_SPEC_MAX];
	uint64_t sizes[NOD_HP_SIZES];
	size_t nsizes = 0;
	_cleanup_free_ uint64_t(*need)[NOD_HP_SIZES] = calloc(NOD_MAX, sizeof(*need));
	bool spec_used[SCTL_HP_SPEC_MAX] = {false};
	char mode, sz[32];
	int nspec;

	if (!need)
		return -ENOMEM;
	nspec = sctl_parse_hp_spec(cfg->hugepages, spec, SCTL_HP_SPEC_MAX, &mode);
	if (nspec < 0)
		return -EINVAL;
	/* Page sizes the host offers (union over nodes, ascending). */
	for (size_t i = 0; i < t->n; i++)
		for (size_t k = 0; k < t->node[i].npools; k++) {
			uint64_t pk = t->node[i].pool[k].page_kib;
			size_t s;
			for (s = 0; s < nsizes && sizes[s] != pk; s++)
				;
			if (s == nsizes && nsizes < NOD_HP_SIZES) {
				size_t j = nsizes++;
				while (j > 0 && sizes[j - 1] > pk) {
					sizes[j] = sizes[j - 1];
					j--;
				}
				sizes[j] = pk;
			}
		}
	sctl_hugepage_need(t, f->doms, f->ndoms, f->default_hp_kib, need, sizes, nsizes);

	for (size_t i = 0; i < t->n; i++) {
		for (size_t s = 0; s < nsizes; s++) {
			const struct nod_hpool *pool = nod_pool(t, i, sizes[s]);
			int id = t->node[i].id;

			if (!pool)
				continue;
			if (p->n == SCTL_PLAN_MAX)
				return 0;
			struct sctl_item *it = hp_item(p, f, id, sizes[s]);
			snprintf(it->current, sizeof(it->current), "%llu", (unsigned long long)pool->nr);
			size_text(sizes[s], sz, sizeof(sz));
			if (mode == 'k') {
				it->action = SA_UNMANAGED;
				snprintf(it->origin, sizeof(it->origin), "config");
				say(it, "[host] hugepages = keep: not managed");
			} else if (mode == 'l') {
				int match = -1;
				for (int k = 0; k < nspec; k++)
					if (spec[k].page_kib == sizes[s] && (spec[k].node == id || (spec[k].node < 0 && match < 0)))
						match = k;
				snprintf(it->origin, sizeof(it->origin), "config");
				if (match < 0) {
					it->action = SA_UNMANAGED;
					say(it, "not listed in [host] hugepages: left as is");
					continue;
				}
				spec_used[match] = true;
				snprintf(it->desired, sizeof(it->desired), "%llu", (unsigned long long)spec[match].count);
				say(it, "[host] hugepages: %llu x %s on node %d (operator)",
				    (unsigned long long)spec[match].count, sz, id);
				it->action = spec[match].count == pool->nr ? SA_OK : SA_CHANGE;
			} else {
				uint64_t n = need[i][s], want;
				char names[160];

				snprintf(it->origin, sizeof(it->origin), "computed");
				if (n == 0) {
					it->action = SA_UNMANAGED;
					say(it, "no hugepage-backed domain uses %s pages on node %d: left as is", sz, id);
					continue;
				}
				want = n + ceil_div(n * cfg->hugepage_headroom_ppm, 1000000);
				dom_names(f, i, sizes[s], names, sizeof(names));
				if (pool->nr >= want) {
					it->action = SA_OK;
					snprintf(it->desired, sizeof(it->desired), "%llu", (unsigned long long)pool->nr);
					say(it, "holds %llu x %s; hugepage-backed domains (%s) need %llu + headroom = %llu; "
						"never shrunk automatically",
					    (unsigned long long)pool->nr, sz, names, (unsigned long long)n,
					    (unsigned long long)want);
				} else {
					it->action = SA_CHANGE;
					snprintf(it->desired, sizeof(it->desired), "%llu", (unsigned long long)want);
					say(it, "hugepage-backed domains (%s) need %llu x %s on node %d, plus %llu headroom",
					    names, (unsigned long long)n, sz, id, (unsigned long long)(want - n));
				}
			}
		}
	}
	/* Spec entries naming a node or size this host does not have. */
	for (int k = 0; k < nspec; k++) {
		if (spec_used[k] || p->n == SCTL_PLAN_MAX)
			continue;
		struct sctl_item *it = hp_item(p, f, spec[k].node < 0 ? 0 : spec[k].node, spec[k].page_kib);
		if (spec[k].node < 0)
			snprintf(it->key, sizeof(it->key), "hugepages.node*.%llukB", (unsigned long long)spec[k].page_kib);
		it->action = SA_UNAVAILABLE;
		snprintf(it->origin, sizeof(it->origin), "config");
		say(it, "[host] hugepages names %s pages on %s, which this host does not have",
		    size_text(spec[k].page_kib, sz, sizeof(sz)), spec[k].node < 0 ? "any node" : "a node");
	}
	/* Hugepage-backed domains whose page size no node offers. */
	if (mode == 'a')
		for (size_t k = 0; k < f->ndoms && p->n < SCTL_PLAN_MAX; k++) {
			const struct sctl_dom *d = &f->doms[k];
			uint64_t pk = dom_page_kib(d, f->default_hp_kib);
			size_t s;
			if (!d->hugepages)
				continue;
			for (s = 0; s < nsizes && sizes[s] != pk; s++)
				;
			if (s < nsizes)
				continue;
			struct sctl_item *it = hp_item(p, f, -1, pk);
			snprintf(it->key, sizeof(it->key), "hugepages.%.50s", d->name);
			it->action = SA_UNAVAILABLE;
			snprintf(it->origin, sizeof(it->origin), "computed");
			say(it, "domain %s wants %s hugepages, which this host does not offer", d->name,
			    pk ? size_text(pk, sz, sizeof(sz)) : "default-size");
		}
	return 0;
}

int sctl_plan_build(const struct cfg_host *cfg, const struct sctl_facts *f, struct sctl_plan *ret)
{
	struct sctl_plan *p = ret;
	int r;

	memset(p, 0, sizeof(*p));
	for (int id = 0; id < SCTL__FIXED; id++)
		fixed_item(cfg, f, (enum sctl_id)id, &p->item[p->n++]);
	r = hugepage_items(cfg, f, p);
	if (r < 0)
		return r;
	/* Apply order: stable by order. */
	for (size_t i = 1; i < p->n; i++) {
		struct sctl_item x = p->item[i];
		size_t j = i;
		while (j > 0 && p->item[j - 1].order > x.order) {
			p->item[j] = p->item[j - 1];
			j--;
		}
		p->item[j] = x;
	}
	p->nodes = f->topo->n;
	for (size_t k = 0; k < f->ndoms; k++)
		p->hugepage_domains += f->doms[k].hugepages;
	for (size_t i = 0; i < p->n; i++)
		p->changes += p->item[i].action == SA_CHANGE;
	return 0;
}
