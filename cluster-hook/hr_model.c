/* hr_model.c - the pure headroom model and admission rule (see hr_model.h for the terms). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hr_model.h"

const char *hr_fmt_kib(int64_t kib, char *buf, size_t len)
{
	uint64_t a = kib < 0 ? (uint64_t)(-(kib + 1)) + 1 : (uint64_t)kib;
	const char *sign = kib < 0 ? "-" : "";
	if (a >= 1024ull * 1024)
		snprintf(buf, len, "%s%.1f GiB", sign, (double)a / (1024.0 * 1024.0));
	else if (a >= 1024)
		snprintf(buf, len, "%s%.1f MiB", sign, (double)a / 1024.0);
	else
		snprintf(buf, len, "%s%" PRIu64 " KiB", sign, a);
	return buf;
}

/* Every figure of a headroom stays within +-HR_KIB_MAX, the bound the wire decoder accepts
 * (clh_wire.c), so sums of clamped terms cannot overflow and every report we send can be decoded. */
#define HR_KIB_MAX (INT64_MAX / 4)

static int64_t clamp64(uint64_t v)
{
	return v > (uint64_t)HR_KIB_MAX ? HR_KIB_MAX : (int64_t)v;
}

/* pages x page size, clamped instead of wrapping around */
static int64_t mul_kib(uint64_t a, uint64_t b)
{
	uint64_t r;
	return __builtin_mul_overflow(a, b, &r) ? HR_KIB_MAX : clamp64(r);
}

static int64_t clamp_kib(int64_t v)
{
	return v > HR_KIB_MAX ? HR_KIB_MAX : v < -HR_KIB_MAX ? -HR_KIB_MAX : v;
}

/* a + b and a - b, clamped to +-HR_KIB_MAX: the ledger and peers' reports are hostile input, and 512
 * reservations of HR_KIB_MAX each must not overflow (signed overflow is undefined behaviour). */
static int64_t add_kib(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? HR_KIB_MAX : -HR_KIB_MAX;
	return clamp_kib(r);
}

static int64_t sub_kib(int64_t a, int64_t b)
{
	int64_t r;
	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? HR_KIB_MAX : -HR_KIB_MAX;
	return clamp_kib(r);
}

static void add_term(struct hr_headroom *h, int kind, const char *name, int64_t kib, const char *detail)
{
	if (h->nterms >= HR_TERMS_MAX)
		return;
	struct hr_term *t = &h->term[h->nterms++];
	t->kind = kind;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->kib = kib;
	snprintf(t->detail, sizeof(t->detail), "%s", detail ? detail : "");
}

/* share of x in proportion part/whole, without overflow for any realistic memory size */
static uint64_t share(uint64_t x, uint64_t part, uint64_t whole)
{
	if (whole == 0)
		return 0;
	return (uint64_t)((unsigned __int128)x * part / whole);
}

int hr_compute(const struct hr_input *in, const struct hr_params *p, struct hr_headroom *ret)
{
	struct hr_headroom *h = ret;
	char d[96];

	memset(h, 0, sizeof(*h));
	/* a MemTotal beyond the wire's bound (2^61 KiB) is a garbled reading, and a report carrying it
	 * would be refused by every peer */
	if (!in->mem_valid || in->total_kib == 0 || in->total_kib > (uint64_t)HR_KIB_MAX ||
	    in->avail_kib > in->total_kib) {
		snprintf(h->why, sizeof(h->why), "host memory could not be read (meminfo missing or inconsistent)");
		return 0;
	}
	h->valid = true;
	h->total_kib = in->total_kib;

	int64_t now = clamp64(in->avail_kib);
	snprintf(d, sizeof(d), "of %" PRIu64 " KiB MemTotal", in->total_kib);
	add_term(h, HR_T_NOW, "MemAvailable", now, d);

	if (in->arc_present) {
		uint64_t arc = in->arc_size_kib > in->arc_cmin_kib ? in->arc_size_kib - in->arc_cmin_kib : 0;
		snprintf(d, sizeof(d), "size %" PRIu64 " KiB, c_min %" PRIu64 " KiB", in->arc_size_kib,
			 in->arc_cmin_kib);
		add_term(h, HR_T_NOW, "ZFS ARC above c_min", clamp64(arc), d);
		now = add_kib(now, clamp64(arc));
	}

	add_term(h, HR_T_NOW, "host reserve", -clamp64(p->reserve_kib), "[cluster] host_reserve");
	now = sub_kib(now, clamp64(p->reserve_kib));

	uint64_t risk = 0;
	if (in->ksm_present && in->ksm_sharing_kib > 0) {
		risk = share(in->ksm_sharing_kib, p->ksm_risk_ppm, 1000000);
		snprintf(d, sizeof(d), "%.1f%% of %" PRIu64 " KiB saved by KSM ([cluster] ksm_unshare_risk)",
			 p->ksm_risk_ppm / 10000.0, in->ksm_sharing_kib);
		add_term(h, HR_T_NOW, "KSM unshare risk", -clamp64(risk), d);
		now = sub_kib(now, clamp64(risk));
	}
	h->now_kib = now;

	int64_t slack = 0;
	size_t nslack = 0;
	if (in->guests_known) {
		for (size_t i = 0; i < in->nguests && i < HR_GUESTS_MAX; i++) {
			const struct hr_guest *g = &in->guest[i];
			if (g->balloon_ok && g->actual_kib > g->floor_kib) {
				slack = add_kib(slack, clamp64(g->actual_kib - g->floor_kib));
				nslack++;
			}
		}
		snprintf(d, sizeof(d), "%zu of %zu guests above their floors", nslack, in->nguests);
	} else {
		snprintf(d, sizeof(d), "balloon module not running: not counted");
	}
	add_term(h, HR_T_RECLAIM, "balloon slack", slack, d);
	h->reclaimable_kib = add_kib(now, slack);

	if (in->hp_size_kib > 0 && in->hp_size_kib <= (uint64_t)HR_KIB_MAX && in->hp_total > 0) {
		uint64_t freep = in->hp_free > in->hp_rsvd ? in->hp_free - in->hp_rsvd : 0;
		h->hp_size_kib = in->hp_size_kib;
		h->hp_free_kib = mul_kib(freep, in->hp_size_kib);
		snprintf(d, sizeof(d), "%" PRIu64 " free - %" PRIu64 " reserved of %" PRIu64 " x %" PRIu64 " KiB",
			 in->hp_free, in->hp_rsvd, in->hp_total, in->hp_size_kib);
		add_term(h, HR_T_HUGE, "hugepages free", h->hp_free_kib, d);
	}

	/* Per node: an estimate of what each node could give without reclaim elsewhere, scaled down so the
	 * nodes never promise more than MemAvailable, then less each node's share of reserve and risk. */
	uint64_t est_sum = 0;
	size_t nn = in->nnodes < HR_NODES_MAX ? in->nnodes : HR_NODES_MAX;
	for (size_t i = 0; i < nn; i++)
		est_sum += in->node[i].free_kib + in->node[i].file_kib + in->node[i].sreclaim_kib;
	for (size_t i = 0; i < nn; i++) {
		const struct hr_node_in *n = &in->node[i];
		uint64_t est = n->free_kib + n->file_kib + n->sreclaim_kib;
		if (est_sum > in->avail_kib)
			est = share(est, in->avail_kib, est_sum);
		int64_t v = sub_kib(sub_kib(clamp64(est), clamp64(share(p->reserve_kib, n->total_kib, in->total_kib))),
				    clamp64(share(risk, n->total_kib, in->total_kib)));
		h->node[i].id = n->id;
		h->node[i].now_kib = v;
		h->node[i].hp_free_kib = h->hp_size_kib ? mul_kib(n->hp_free, h->hp_size_kib) : 0;
	}
	h->nnodes = nn;
	return 0;
}

void hr_subtract_resv(struct hr_headroom *h, const char *target, const struct hr_resv *r, size_t n,
		      int64_t now_wall_ms)
{
	int64_t rest_now = 0, rest_mem = 0, rest_huge = 0;
	size_t nrest = 0;
	char d[96], a[32], b[32];

	for (size_t i = 0; i < n; i++) {
		const struct hr_resv *x = &r[i];
		if (strcmp(x->target, target) != 0 || x->expires_wall_ms <= now_wall_ms)
			continue;
		int64_t nk = clamp64(x->now_kib), mk = clamp64(x->mem_kib);
		if (x->hugepages) {
			h->hp_free_kib = sub_kib(h->hp_free_kib, mk);
			for (size_t j = 0; j < h->nnodes; j++)
				if (h->node[j].id == x->node)
					h->node[j].hp_free_kib = sub_kib(h->node[j].hp_free_kib, mk);
		} else {
			h->now_kib = sub_kib(h->now_kib, nk);
			h->reclaimable_kib = sub_kib(h->reclaimable_kib, mk);
			for (size_t j = 0; j < h->nnodes; j++)
				if (h->node[j].id == x->node)
					h->node[j].now_kib = sub_kib(h->node[j].now_kib, nk);
		}
		/* keep two slots free for the sums below */
		if (h->nterms + 2 < HR_TERMS_MAX) {
			char name[32];
			snprintf(name, sizeof(name), "reservation %.19s", x->id);
			snprintf(d, sizeof(d), "%s%s, expires in %llds", x->hugepages ? "hugepages " : "",
				 hr_fmt_kib(mk, a, sizeof(a)), (long long)((x->expires_wall_ms - now_wall_ms + 999) / 1000));
			if (x->hugepages) {
				add_term(h, HR_T_HUGE, name, -mk, d);
			} else {
				add_term(h, HR_T_NOW, name, -nk, d);
				if (mk != nk) {
					snprintf(d, sizeof(d), "grows to %s", hr_fmt_kib(mk, b, sizeof(b)));
					add_term(h, HR_T_RECLAIM, name, -(mk - nk), d);
				}
			}
		} else {
			if (x->hugepages)
				rest_huge = add_kib(rest_huge, mk);
			else {
				rest_now = add_kib(rest_now, nk);
				rest_mem = add_kib(rest_mem, mk);
			}
			nrest++;
		}
	}
	if (nrest) {
		snprintf(d, sizeof(d), "%zu more reservations", nrest);
		h->nterms = h->nterms < HR_TERMS_MAX - 2 ? h->nterms : HR_TERMS_MAX - 2;
		add_term(h, HR_T_NOW, "other reservations", -rest_now, d);
		if (rest_huge)
			add_term(h, HR_T_HUGE, "other reservations", -rest_huge, d);
		else if (rest_mem != rest_now)
			add_term(h, HR_T_RECLAIM, "other reservations", -sub_kib(rest_mem, rest_now), d);
	}
}

void hr_admit(const struct hr_headroom *h, const struct hr_request *req, struct hr_verdict *ret)
{
	char a[32], b[32], c[32];
	struct hr_verdict v = {.code = HR_REFUSE, .node = -1};
	uint64_t need_now = req->min_kib && req->min_kib < req->mem_kib ? req->min_kib : req->mem_kib;
	int64_t need = clamp64(need_now), mem = clamp64(req->mem_kib);

	if (!h->valid) {
		v.code = HR_UNKNOWN;
		snprintf(v.reason, sizeof(v.reason), "cannot say: %s", h->why);
		*ret = v;
		return;
	}
	if (req->hugepages) {
		int64_t pool = h->hp_free_kib;
		v.need_now_kib = req->mem_kib;
		if (req->one_node) {
			int64_t best = INT64_MIN;
			for (size_t i = 0; i < h->nnodes; i++)
				if (h->node[i].hp_free_kib > best) {
					best = h->node[i].hp_free_kib;
					v.node = h->node[i].id;
				}
			if (h->nnodes == 0) {
				v.node = -1;
				best = pool;
			}
			pool = best < pool ? best : pool;
		}
		v.now_after_kib = sub_kib(pool, mem);
		if (h->hp_size_kib == 0) {
			snprintf(v.reason, sizeof(v.reason), "refused: the host has no hugepage pool");
		} else if (pool >= mem) {
			v.code = HR_ADMIT;
			snprintf(v.reason, sizeof(v.reason), "admitted: %s of hugepages needed, %s free%s%s",
				 hr_fmt_kib(mem, a, sizeof(a)), hr_fmt_kib(pool, b, sizeof(b)),
				 req->one_node ? " on node " : "", req->one_node ? (snprintf(c, sizeof(c), "%d", v.node), c) : "");
		} else {
			snprintf(v.reason, sizeof(v.reason), "refused: %s of hugepages needed, only %s free%s",
				 hr_fmt_kib(mem, a, sizeof(a)), hr_fmt_kib(pool, b, sizeof(b)),
				 req->one_node ? " on the best node" : "");
		}
		*ret = v;
		return;
	}

	v.need_now_kib = need_now;
	v.now_after_kib = sub_kib(h->now_kib, need);
	if (h->now_kib < need) {
		snprintf(v.reason, sizeof(v.reason), "refused: needs %s now, %s available now (memoptctl headroom --explain)",
			 hr_fmt_kib(need, a, sizeof(a)), hr_fmt_kib(h->now_kib, b, sizeof(b)));
		*ret = v;
		return;
	}
	if (h->reclaimable_kib < mem) {
		snprintf(v.reason, sizeof(v.reason),
			 "refused: may grow to %s, only %s even after reclaiming balloon slack",
			 hr_fmt_kib(mem, a, sizeof(a)), hr_fmt_kib(h->reclaimable_kib, b, sizeof(b)));
		*ret = v;
		return;
	}
	if (req->one_node && h->nnodes > 0) {
		int64_t best = INT64_MIN;
		for (size_t i = 0; i < h->nnodes; i++)
			if (h->node[i].now_kib > best) {
				best = h->node[i].now_kib;
				v.node = h->node[i].id;
			}
		if (best < need) {
			v.node = -1;
			snprintf(v.reason, sizeof(v.reason), "refused: needs %s on one NUMA node, the best node has %s",
				 hr_fmt_kib(need, a, sizeof(a)), hr_fmt_kib(best, b, sizeof(b)));
			*ret = v;
			return;
		}
	}
	v.code = HR_ADMIT;
	if (v.node >= 0)
		snprintf(v.reason, sizeof(v.reason), "admitted on NUMA node %d: needs %s now, %s available now, %s left",
			 v.node, hr_fmt_kib(need, a, sizeof(a)), hr_fmt_kib(h->now_kib, b, sizeof(b)),
			 hr_fmt_kib(v.now_after_kib, c, sizeof(c)));
	else
		snprintf(v.reason, sizeof(v.reason), "admitted: needs %s now, %s available now, %s left",
			 hr_fmt_kib(need, a, sizeof(a)), hr_fmt_kib(h->now_kib, b, sizeof(b)),
			 hr_fmt_kib(v.now_after_kib, c, sizeof(c)));
	*ret = v;
}
