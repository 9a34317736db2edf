/* hr_cluster.c - pure cluster state: reports, the reservation ledger and its ordering rule, ranking,
 * failover plan (see hr_cluster.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hr_cluster.h"

void hr_state_init(struct hr_state *s)
{
	memset(s, 0, sizeof(*s));
}

struct hr_host *hr_state_host(struct hr_state *s, uint32_t nodeid, bool create)
{
	for (size_t i = 0; i < s->nhosts; i++)
		if (s->host[i].rep.nodeid == nodeid)
			return &s->host[i];
	if (!create || s->nhosts >= HR_HOSTS_MAX)
		return NULL;
	struct hr_host *h = &s->host[s->nhosts++];
	memset(h, 0, sizeof(*h));
	h->rep.nodeid = nodeid;
	return h;
}

const struct hr_host *hr_state_find(const struct hr_state *s, const char *name)
{
	for (size_t i = 0; i < s->nhosts; i++)
		if (s->host[i].member && s->host[i].have_report && strcmp(s->host[i].rep.host, name) == 0)
			return &s->host[i];
	return NULL;
}

void hr_state_members(struct hr_state *s, const uint32_t *nodeids, size_t n)
{
	for (size_t i = 0; i < s->nhosts; i++)
		s->host[i].member = false;
	for (size_t j = 0; j < n; j++) {
		struct hr_host *h = hr_state_host(s, nodeids[j], true);
		if (h)
			h->member = true;
	}
}

static void resv_remove(struct hr_state *s, size_t i)
{
	memmove(&s->resv[i], &s->resv[i + 1], (s->nresv - i - 1) * sizeof(s->resv[0]));
	s->nresv--;
}

static void prune(struct hr_state *s, int64_t now_wall)
{
	for (size_t i = 0; i < s->nresv;)
		if (s->resv[i].expires_wall_ms <= now_wall)
			resv_remove(s, i);
		else
			i++;
}

void hr_apply_report(struct hr_state *s, const struct hr_report *r, uint64_t now_mono_ms)
{
	struct hr_host *h = hr_state_host(s, r->nodeid, true);
	if (!h)
		return;
	h->rep = *r;
	h->have_report = true;
	h->recv_mono_ms = now_mono_ms;
	for (size_t c = 0; c < r->nconsumed && c < HR_CONSUMED_MAX; c++)
		for (size_t i = 0; i < s->nresv; i++)
			if (strcmp(s->resv[i].id, r->consumed[c]) == 0 && strcmp(s->resv[i].target, r->host) == 0) {
				resv_remove(s, i);
				break;
			}
}

bool hr_host_headroom(const struct hr_state *s, const struct hr_host *h, int64_t now_wall_ms, int64_t expiry_ms,
		      struct hr_headroom *ret)
{
	if (!h || !h->member || !h->have_report) {
		memset(ret, 0, sizeof(*ret));
		snprintf(ret->why, sizeof(ret->why), "no report from that host in the current membership");
		return false;
	}
	*ret = h->rep.h;
	if (!ret->valid)
		return false;
	if (now_wall_ms - h->rep.wall_ms > expiry_ms) {
		ret->valid = false;
		snprintf(ret->why, sizeof(ret->why), "the report of %.60s is stale (%llds old)", h->rep.host,
			 (long long)((now_wall_ms - h->rep.wall_ms) / 1000));
		return false;
	}
	hr_subtract_resv(ret, h->rep.host, s->resv, s->nresv, now_wall_ms);
	return true;
}

int hr_apply_reserve(struct hr_state *s, const struct hr_resv_req *r, int64_t expiry_ms, struct hr_verdict *ret)
{
	struct hr_headroom h;
	struct hr_verdict v = {.code = HR_UNKNOWN, .node = -1};

	prune(s, r->t_wall);
	for (size_t i = 0; i < s->nresv; i++)
		if (strcmp(s->resv[i].id, r->id) == 0) {
			v.code = HR_REFUSE;
			snprintf(v.reason, sizeof(v.reason), "refused: reservation '%.63s' is already held on %.63s",
				 r->id, s->resv[i].target);
			*ret = v;
			return v.code;
		}
	const struct hr_host *t = hr_state_find(s, r->target);
	if (!hr_host_headroom(s, t, r->t_wall, expiry_ms, &h)) {
		snprintf(v.reason, sizeof(v.reason), "cannot say for %.63s: %s", r->target, h.why);
		*ret = v;
		return v.code;
	}
	hr_admit(&h, &r->req, &v);
	if (v.code == HR_ADMIT) {
		if (s->nresv >= HR_RESV_MAX) {
			v.code = HR_UNKNOWN;
			snprintf(v.reason, sizeof(v.reason), "cannot say: the ledger holds %d reservations already",
				 HR_RESV_MAX);
		} else {
			struct hr_resv *x = &s->resv[s->nresv++];
			memset(x, 0, sizeof(*x));
			snprintf(x->id, sizeof(x->id), "%s", r->id);
			snprintf(x->target, sizeof(x->target), "%s", r->target);
			x->hugepages = r->req.hugepages;
			x->now_kib = v.need_now_kib;
			x->mem_kib = r->req.mem_kib;
			x->node = v.node;
			x->expires_wall_ms = r->t_wall + (int64_t)r->ttl_ms;
			x->origin = r->origin;
		}
	}
	*ret = v;
	return v.code;
}

int hr_apply_release(struct hr_state *s, const char *id)
{
	for (size_t i = 0; i < s->nresv; i++)
		if (strcmp(s->resv[i].id, id) == 0) {
			resv_remove(s, i);
			return 1;
		}
	return 0;
}

static int place_cmp(const void *a, const void *b)
{
	const struct hr_place *x = a, *y = b;
	if (x->v.code != y->v.code)
		return x->v.code < y->v.code ? -1 : 1;
	if (x->now_after_kib != y->now_after_kib)
		return x->now_after_kib > y->now_after_kib ? -1 : 1;
	return strcmp(x->host, y->host);
}

size_t hr_rank(const struct hr_state *s, const struct hr_request *req, const char *exclude, int64_t now_wall_ms,
	       int64_t expiry_ms, struct hr_place *ret, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nhosts && n < max; i++) {
		const struct hr_host *h = &s->host[i];
		struct hr_headroom hh;
		if (!h->member || !h->have_report || (exclude && exclude[0] && strcmp(exclude, h->rep.host) == 0))
			continue;
		struct hr_place *p = &ret[n++];
		memset(p, 0, sizeof(*p));
		snprintf(p->host, sizeof(p->host), "%s", h->rep.host);
		if (!hr_host_headroom(s, h, now_wall_ms, expiry_ms, &hh)) {
			p->v.code = HR_UNKNOWN;
			p->v.node = -1;
			snprintf(p->v.reason, sizeof(p->v.reason), "cannot say: %s", hh.why);
			p->now_after_kib = INT64_MIN;
			continue;
		}
		hr_admit(&hh, req, &p->v);
		p->now_kib = req->hugepages ? hh.hp_free_kib : hh.now_kib;
		p->now_after_kib = p->v.now_after_kib;
	}
	qsort(ret, n, sizeof(ret[0]), place_cmp);
	return n;
}

static int move_cmp(const void *a, const void *b)
{
	const struct hr_fo_move *x = a, *y = b;
	if (x->need_kib != y->need_kib)
		return x->need_kib > y->need_kib ? -1 : 1;
	return strcmp(x->vm, y->vm);
}

size_t hr_failover(const struct hr_state *s, int64_t now_wall_ms, int64_t expiry_ms, struct hr_fo_host *ret,
		   size_t max, bool *ret_all_fit)
{
	int64_t room[HR_HOSTS_MAX];
	bool live[HR_HOSTS_MAX];
	size_t n = 0;
	bool all = true;

	for (size_t i = 0; i < s->nhosts; i++) {
		struct hr_headroom hh;
		live[i] = hr_host_headroom(s, &s->host[i], now_wall_ms, expiry_ms, &hh);
		room[i] = live[i] ? hh.now_kib : 0;
	}
	for (size_t i = 0; i < s->nhosts && n < max; i++) {
		const struct hr_host *h = &s->host[i];
		if (!h->member || !h->have_report)
			continue;
		struct hr_fo_host *f = &ret[n++];
		memset(f, 0, sizeof(*f));
		snprintf(f->host, sizeof(f->host), "%s", h->rep.host);
		f->known = live[i];
		if (!live[i]) {
			all = false;
			continue;
		}
		int64_t left[HR_HOSTS_MAX];
		memcpy(left, room, sizeof(left));
		for (size_t k = 0; k < h->rep.nvms && k < HR_VMS_MAX; k++) {
			const struct hr_vm *vm = &h->rep.vm[k];
			struct hr_fo_move *m = &f->move[f->nmoves++];
			snprintf(m->vm, sizeof(m->vm), "%s", vm->name);
			m->need_kib = vm->floor_kib && vm->floor_kib < vm->cur_kib ? vm->floor_kib : vm->cur_kib;
			f->need_kib += m->need_kib;
		}
		qsort(f->move, f->nmoves, sizeof(f->move[0]), move_cmp);
		f->fits = true;
		for (size_t k = 0; k < f->nmoves; k++) {
			struct hr_fo_move *m = &f->move[k];
			size_t best = SIZE_MAX;
			for (size_t j = 0; j < s->nhosts; j++) {
				if (j == i || !live[j] || left[j] < (int64_t)m->need_kib)
					continue;
				if (best == SIZE_MAX || left[j] > left[best] ||
				    (left[j] == left[best] && strcmp(s->host[j].rep.host, s->host[best].rep.host) < 0))
					best = j;
			}
			if (best == SIZE_MAX) {
				f->fits = false;
				continue;
			}
			left[best] -= (int64_t)m->need_kib;
			snprintf(m->to, sizeof(m->to), "%s", s->host[best].rep.host);
		}
		if (!f->fits)
			all = false;
	}
	*ret_all_fit = all && n > 0;
	return n;
}
