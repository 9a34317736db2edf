/* clh_wire.c - JSON codec of the cluster's CPG messages (see clh_wire.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clh_wire.h"
#include "../common/cleanup.h"
#include "../common/jsonutil.h"

static void tokener_freep(json_tokener **t)
{
	if (*t)
		json_tokener_free(*t);
}

static void add_i(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}
static void add_s(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static json_object *resv_json(const struct hr_resv *x)
{
	json_object *a = json_object_new_array();
	json_object_array_add(a, json_object_new_string(x->id));
	json_object_array_add(a, json_object_new_string(x->target));
	json_object_array_add(a, json_object_new_int64((int64_t)x->now_kib));
	json_object_array_add(a, json_object_new_int64((int64_t)x->mem_kib));
	json_object_array_add(a, json_object_new_boolean(x->hugepages));
	json_object_array_add(a, json_object_new_int(x->node));
	json_object_array_add(a, json_object_new_int64(x->expires_wall_ms));
	json_object_array_add(a, json_object_new_int64(x->origin));
	return a;
}

int clh_encode(const struct clh_msg *m, char **ret, size_t *ret_len)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	add_i(o, "v", CLH_WIRE_VERSION);
	add_i(o, "tag", (int64_t)m->tag);
	switch (m->kind) {
	case CLH_M_REPORT: {
		const struct hr_report *r = &m->u.rep;
		const struct hr_headroom *h = &r->h;
		add_s(o, "t", "rep");
		add_s(o, "host", r->host);
		add_i(o, "seq", (int64_t)r->seq);
		add_i(o, "wall", r->wall_ms);
		json_object_object_add(o, "valid", json_object_new_boolean(h->valid));
		add_s(o, "why", h->why);
		add_i(o, "total", (int64_t)h->total_kib);
		add_i(o, "now", h->now_kib);
		add_i(o, "recl", h->reclaimable_kib);
		add_i(o, "hp", h->hp_free_kib);
		add_i(o, "hps", (int64_t)h->hp_size_kib);
		json_object *t = json_object_new_array();
		for (size_t i = 0; i < h->nterms; i++) {
			json_object *e = json_object_new_array();
			json_object_array_add(e, json_object_new_int(h->term[i].kind));
			json_object_array_add(e, json_object_new_string(h->term[i].name));
			json_object_array_add(e, json_object_new_int64(h->term[i].kib));
			json_object_array_add(e, json_object_new_string(h->term[i].detail));
			json_object_array_add(t, e);
		}
		json_object_object_add(o, "terms", t);
		json_object *n = json_object_new_array();
		for (size_t i = 0; i < h->nnodes; i++) {
			json_object *e = json_object_new_array();
			json_object_array_add(e, json_object_new_int(h->node[i].id));
			json_object_array_add(e, json_object_new_int64(h->node[i].now_kib));
			json_object_array_add(e, json_object_new_int64(h->node[i].hp_free_kib));
			json_object_array_add(n, e);
		}
		json_object_object_add(o, "nodes", n);
		json_object *v = json_object_new_array();
		for (size_t i = 0; i < r->nvms; i++) {
			json_object *e = json_object_new_array();
			json_object_array_add(e, json_object_new_string(r->vm[i].name));
			json_object_array_add(e, json_object_new_int64((int64_t)r->vm[i].cur_kib));
			json_object_array_add(e, json_object_new_int64((int64_t)r->vm[i].floor_kib));
			json_object_array_add(v, e);
		}
		json_object_object_add(o, "vms", v);
		json_object *c = json_object_new_array();
		for (size_t i = 0; i < r->nconsumed; i++)
			json_object_array_add(c, json_object_new_string(r->consumed[i]));
		json_object_object_add(o, "consumed", c);
		json_object_object_add(o, "synced", json_object_new_boolean(r->synced));
		add_i(o, "gen", (int64_t)r->ledger_gen);
		break;
	}
	case CLH_M_RESERVE: {
		const struct hr_resv_req *q = &m->u.res;
		add_s(o, "t", "res");
		add_s(o, "id", q->id);
		add_s(o, "target", q->target);
		add_i(o, "mem", (int64_t)q->req.mem_kib);
		add_i(o, "min", (int64_t)q->req.min_kib);
		json_object_object_add(o, "hp", json_object_new_boolean(q->req.hugepages));
		json_object_object_add(o, "one", json_object_new_boolean(q->req.one_node));
		add_i(o, "ttl", (int64_t)q->ttl_ms);
		add_i(o, "tw", q->t_wall);
		break;
	}
	case CLH_M_RELEASE:
		add_s(o, "t", "rel");
		add_s(o, "id", m->u.release_id);
		break;
	case CLH_M_SYNC: {
		add_s(o, "t", "sync");
		add_i(o, "k", (int64_t)m->u.sync.k);
		add_i(o, "gen", (int64_t)m->u.sync.gen);
		json_object *a = json_object_new_array();
		for (size_t i = 0; i < m->u.sync.nresv; i++)
			json_object_array_add(a, resv_json(&m->u.sync.resv[i]));
		json_object_object_add(o, "resv", a);
		break;
	}
	default:
		return -EINVAL;
	}
	size_t len;
	const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	if (!s)
		return -ENOMEM;
	if (len > CLH_WIRE_MAX)
		return -EMSGSIZE;
	char *b = malloc(len + 1);
	if (!b)
		return -ENOMEM;
	memcpy(b, s, len + 1);
	*ret = b;
	*ret_len = len;
	return 0;
}

/* --- decoding: every getter fails on a missing field or wrong type --- */

static bool g_int(json_object *o, const char *k, int64_t min, int64_t max, int64_t *v)
{
	json_object *x;
	if (!json_object_object_get_ex(o, k, &x) || !json_object_is_type(x, json_type_int))
		return false;
	*v = json_object_get_int64(x);
	return *v >= min && *v <= max;
}

static bool g_str(json_object *o, const char *k, char *buf, size_t len, bool nonempty)
{
	json_object *x;
	if (!json_object_object_get_ex(o, k, &x) || !json_object_is_type(x, json_type_string))
		return false;
	const char *s = json_object_get_string(x);
	size_t n = (size_t)json_object_get_string_len(x);
	if (n >= len || memchr(s, '\0', n) || (nonempty && n == 0))
		return false;
	memcpy(buf, s, n + 1);
	return true;
}

static bool g_bool(json_object *o, const char *k, bool *v)
{
	json_object *x;
	if (!json_object_object_get_ex(o, k, &x) || !json_object_is_type(x, json_type_boolean))
		return false;
	*v = json_object_get_boolean(x);
	return true;
}

static json_object *g_arr(json_object *o, const char *k, size_t max)
{
	json_object *x;
	if (!json_object_object_get_ex(o, k, &x) || !json_object_is_type(x, json_type_array) ||
	    json_object_array_length(x) > max)
		return NULL;
	return x;
}

static bool a_int(json_object *a, size_t i, int64_t min, int64_t max, int64_t *v)
{
	json_object *x = json_object_array_get_idx(a, i);
	if (!x || !json_object_is_type(x, json_type_int))
		return false;
	*v = json_object_get_int64(x);
	return *v >= min && *v <= max;
}

static bool a_str(json_object *a, size_t i, char *buf, size_t len)
{
	json_object *x = json_object_array_get_idx(a, i);
	if (!x || !json_object_is_type(x, json_type_string))
		return false;
	size_t n = (size_t)json_object_get_string_len(x);
	if (n >= len)
		return false;
	memcpy(buf, json_object_get_string(x), n + 1);
	return strlen(buf) == n;
}

#define KMAX (INT64_MAX / 4)

static bool dec_report(json_object *o, struct hr_report *r)
{
	struct hr_headroom *h = &r->h;
	int64_t v;
	json_object *a;
	memset(r, 0, sizeof(*r));
	if (!g_str(o, "host", r->host, sizeof(r->host), true) || !g_int(o, "seq", 0, INT64_MAX, &v))
		return false;
	r->seq = (uint64_t)v;
	if (!g_int(o, "wall", 0, INT64_MAX, &r->wall_ms) || !g_bool(o, "valid", &h->valid) ||
	    !g_str(o, "why", h->why, sizeof(h->why), false))
		return false;
	if (!g_int(o, "total", 0, KMAX, &v))
		return false;
	h->total_kib = (uint64_t)v;
	if (!g_int(o, "now", -KMAX, KMAX, &h->now_kib) || !g_int(o, "recl", -KMAX, KMAX, &h->reclaimable_kib) ||
	    !g_int(o, "hp", -KMAX, KMAX, &h->hp_free_kib) || !g_int(o, "hps", 0, KMAX, &v))
		return false;
	h->hp_size_kib = (uint64_t)v;
	if (!(a = g_arr(o, "terms", HR_TERMS_MAX)))
		return false;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		struct hr_term *t = &h->term[h->nterms++];
		int64_t kind;
		if (!json_object_is_type(e, json_type_array) || !a_int(e, 0, HR_T_NOW, HR_T_HUGE, &kind) ||
		    !a_str(e, 1, t->name, sizeof(t->name)) || !a_int(e, 2, -KMAX, KMAX, &t->kib) ||
		    !a_str(e, 3, t->detail, sizeof(t->detail)))
			return false;
		t->kind = (int)kind;
	}
	if (!(a = g_arr(o, "nodes", HR_NODES_MAX)))
		return false;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		struct hr_node_out *n = &h->node[h->nnodes++];
		int64_t id;
		if (!json_object_is_type(e, json_type_array) || !a_int(e, 0, 0, 4096, &id) ||
		    !a_int(e, 1, -KMAX, KMAX, &n->now_kib) || !a_int(e, 2, -KMAX, KMAX, &n->hp_free_kib))
			return false;
		n->id = (int)id;
	}
	if (!(a = g_arr(o, "vms", HR_VMS_MAX)))
		return false;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		struct hr_vm *m = &r->vm[r->nvms++];
		int64_t c, f;
		if (!json_object_is_type(e, json_type_array) || !a_str(e, 0, m->name, sizeof(m->name)) ||
		    !a_int(e, 1, 0, KMAX, &c) || !a_int(e, 2, 0, KMAX, &f))
			return false;
		m->cur_kib = (uint64_t)c;
		m->floor_kib = (uint64_t)f;
	}
	if (!(a = g_arr(o, "consumed", HR_CONSUMED_MAX)))
		return false;
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (!a_str(a, i, r->consumed[r->nconsumed++], HR_ID_MAX))
			return false;
	if (!g_bool(o, "synced", &r->synced) || !g_int(o, "gen", 0, INT64_MAX, &v))
		return false;
	r->ledger_gen = (uint64_t)v;
	return true;
}

static bool dec_reserve(json_object *o, struct hr_resv_req *q)
{
	int64_t v;
	memset(q, 0, sizeof(*q));
	if (!g_str(o, "id", q->id, sizeof(q->id), true) || !g_str(o, "target", q->target, sizeof(q->target), true))
		return false;
	if (!g_int(o, "mem", 1, KMAX, &v))
		return false;
	q->req.mem_kib = (uint64_t)v;
	if (!g_int(o, "min", 0, KMAX, &v))
		return false;
	q->req.min_kib = (uint64_t)v;
	if (!g_bool(o, "hp", &q->req.hugepages) || !g_bool(o, "one", &q->req.one_node))
		return false;
	if (!g_int(o, "ttl", 1, 86400000LL * 365, &v))
		return false;
	q->ttl_ms = (uint64_t)v;
	return g_int(o, "tw", 0, INT64_MAX / 2, &q->t_wall);
}

static bool dec_sync(json_object *o, struct clh_sync *s)
{
	int64_t v;
	json_object *a;
	s->nresv = 0;
	if (!g_int(o, "k", 0, INT64_MAX, &v))
		return false;
	s->k = (uint64_t)v;
	if (!g_int(o, "gen", 0, INT64_MAX, &v))
		return false;
	s->gen = (uint64_t)v;
	if (!(a = g_arr(o, "resv", HR_RESV_MAX)))
		return false;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		struct hr_resv *x = &s->resv[s->nresv++];
		int64_t nk, mk, node, exp, orig;
		memset(x, 0, sizeof(*x));
		json_object *hp = json_object_is_type(e, json_type_array) ? json_object_array_get_idx(e, 4) : NULL;
		if (!hp || !json_object_is_type(hp, json_type_boolean) || !a_str(e, 0, x->id, sizeof(x->id)) ||
		    !a_str(e, 1, x->target, sizeof(x->target)) || !a_int(e, 2, 0, KMAX, &nk) ||
		    !a_int(e, 3, 0, KMAX, &mk) || !a_int(e, 5, -1, 4096, &node) ||
		    !a_int(e, 6, INT64_MIN / 2, INT64_MAX / 2, &exp) || !a_int(e, 7, 0, UINT32_MAX, &orig))
			return false;
		x->hugepages = json_object_get_boolean(hp);
		x->now_kib = (uint64_t)nk;
		x->mem_kib = (uint64_t)mk;
		x->node = (int)node;
		x->expires_wall_ms = exp;
		x->origin = (uint32_t)orig;
	}
	return true;
}

int clh_decode(const void *buf, size_t len, struct clh_msg *ret)
{
	char kind[8];
	int64_t v, tag;
	if (len == 0 || len > CLH_WIRE_MAX)
		return -EBADMSG;
	_cleanup_(tokener_freep) json_tokener *tok = json_tokener_new_ex(16);
	if (!tok)
		return -ENOMEM;
	_cleanup_json_ json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(o, json_type_object))
		return -EBADMSG;
	if (!g_int(o, "v", CLH_WIRE_VERSION, CLH_WIRE_VERSION, &v) || !g_int(o, "tag", 0, INT64_MAX, &tag) ||
	    !g_str(o, "t", kind, sizeof(kind), true))
		return -EBADMSG;
	/* large union: decode into heap scratch, copy out on success */
	_cleanup_free_ struct clh_msg *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->tag = (uint64_t)tag;
	bool ok;
	if (strcmp(kind, "rep") == 0) {
		m->kind = CLH_M_REPORT;
		ok = dec_report(o, &m->u.rep);
	} else if (strcmp(kind, "res") == 0) {
		m->kind = CLH_M_RESERVE;
		ok = dec_reserve(o, &m->u.res);
	} else if (strcmp(kind, "rel") == 0) {
		m->kind = CLH_M_RELEASE;
		ok = g_str(o, "id", m->u.release_id, sizeof(m->u.release_id), true);
	} else if (strcmp(kind, "sync") == 0) {
		m->kind = CLH_M_SYNC;
		ok = dec_sync(o, &m->u.sync);
	} else {
		ok = false;
	}
	if (!ok)
		return -EBADMSG;
	memcpy(ret, m, sizeof(*m));
	return 0;
}
