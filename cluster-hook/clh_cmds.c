/* clh_cmds.c - control commands of the cluster-hook module and their JSON (see clh_cmds.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clh.h"
#include "clh_cmds.h"
#include "../common/loop.h"
#include "../common/units.h"
#include "../daemon/ctlsrv.h"

#define J_I(o, k, v) json_object_object_add(o, k, json_object_new_int64((int64_t)(v)))
#define J_S(o, k, v) json_object_object_add(o, k, json_object_new_string(v))
#define J_B(o, k, v) json_object_object_add(o, k, json_object_new_boolean(v))

static const char *const code_names[] = {"admit", "refuse", "unknown"};
static const char *const kind_names[] = {"now", "reclaimable", "hugepages"};

json_object *clh_headroom_json(const struct hr_headroom *h)
{
	json_object *o = json_object_new_object();
	J_B(o, "valid", h->valid);
	if (!h->valid)
		J_S(o, "why", h->why);
	J_I(o, "total_kib", h->total_kib);
	J_I(o, "now_kib", h->now_kib);
	J_I(o, "reclaimable_kib", h->reclaimable_kib);
	J_I(o, "hugepages_free_kib", h->hp_free_kib);
	J_I(o, "hugepage_size_kib", h->hp_size_kib);
	json_object *t = json_object_new_array();
	for (size_t i = 0; i < h->nterms; i++) {
		json_object *e = json_object_new_object();
		int k = h->term[i].kind;
		J_S(e, "adds_to", k >= 0 && k <= HR_T_HUGE ? kind_names[k] : "?");
		J_S(e, "name", h->term[i].name);
		J_I(e, "kib", h->term[i].kib);
		J_S(e, "detail", h->term[i].detail);
		json_object_array_add(t, e);
	}
	json_object_object_add(o, "terms", t);
	json_object *n = json_object_new_array();
	for (size_t i = 0; i < h->nnodes; i++) {
		json_object *e = json_object_new_object();
		J_I(e, "node", h->node[i].id);
		J_I(e, "now_kib", h->node[i].now_kib);
		J_I(e, "hugepages_free_kib", h->node[i].hp_free_kib);
		json_object_array_add(n, e);
	}
	json_object_object_add(o, "numa", n);
	return o;
}

static json_object *resv_list_json(const struct hr_state *st, int64_t now_wall)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < st->nresv; i++) {
		const struct hr_resv *r = &st->resv[i];
		if (r->expires_wall_ms <= now_wall)
			continue;
		json_object *e = json_object_new_object();
		J_S(e, "id", r->id);
		J_S(e, "target", r->target);
		J_I(e, "now_kib", r->now_kib);
		J_I(e, "mem_kib", r->mem_kib);
		J_B(e, "hugepages", r->hugepages);
		J_I(e, "node", r->node);
		J_I(e, "expires_in_ms", r->expires_wall_ms - now_wall);
		J_I(e, "origin", r->origin);
		json_object_array_add(a, e);
	}
	return a;
}

static void add_status(json_object *o, const struct clh_status *s)
{
	J_S(o, "local", s->name);
	J_S(o, "mode", s->corosync ? "corosync" : "standalone");
	if (s->corosync) {
		J_I(o, "nodeid", s->nodeid);
		J_B(o, "connected", s->connected);
		J_B(o, "quorate", s->quorate);
		J_B(o, "synced", s->synced);
	}
}

json_object *clh_view_json(void)
{
	struct clh_status s;
	clh_status_get(&s);
	int64_t now_wall = ev_wall_ms();
	uint64_t now = ev_now_ms();
	int64_t expiry = (int64_t)s.cfg->cluster.peer_expiry_ms;
	json_object *o = json_object_new_object();
	J_I(o, "v", 1);
	J_I(o, "time_ms", now_wall);
	add_status(o, &s);
	json_object *hosts = json_object_new_array();
	for (size_t i = 0; i < s.st->nhosts; i++) {
		const struct hr_host *h = &s.st->host[i];
		struct hr_headroom hh;
		if (!h->have_report)
			continue;
		bool live = hr_host_headroom(s.st, h, now_wall, expiry, &hh);
		json_object *e = json_object_new_object();
		J_S(e, "name", h->rep.host);
		if (s.corosync)
			J_I(e, "nodeid", h->rep.nodeid);
		J_B(e, "member", h->member);
		J_B(e, "fresh", live);
		if (!live)
			J_S(e, "why", hh.why);
		J_I(e, "age_ms", now - h->recv_mono_ms);
		J_I(e, "report_seq", h->rep.seq);
		J_I(e, "now_kib", live ? hh.now_kib : 0);
		J_I(e, "reclaimable_kib", live ? hh.reclaimable_kib : 0);
		J_I(e, "hugepages_free_kib", live ? hh.hp_free_kib : 0);
		J_I(e, "total_kib", h->rep.h.total_kib);
		J_I(e, "vms", h->rep.nvms);
		json_object_array_add(hosts, e);
	}
	json_object_object_add(o, "hosts", hosts);
	json_object_object_add(o, "reservations", resv_list_json(s.st, now_wall));
	static struct hr_fo_host fo[HR_HOSTS_MAX];
	bool all;
	hr_failover(s.st, now_wall, expiry, fo, HR_HOSTS_MAX, &all);
	J_B(o, "n_plus_1", all);
	return o;
}

/* --- arguments --- */

static int arg_size(json_object *args, const char *key, bool required, uint64_t *ret, char *err, size_t errlen)
{
	json_object *o;
	uint64_t kib = 0;
	if (!args || !json_object_object_get_ex(args, key, &o)) {
		if (!required)
			return 0;
		snprintf(err, errlen, "argument '%s' (a size like \"16G\", or KiB) is required", key);
		return -EINVAL;
	}
	if (json_object_is_type(o, json_type_int) && json_object_get_int64(o) > 0)
		kib = (uint64_t)json_object_get_int64(o);
	else if (json_object_is_type(o, json_type_string) && unit_parse_size_kib(json_object_get_string(o), &kib) < 0)
		kib = 0;
	if (kib == 0 || kib > (1ull << 50)) {
		snprintf(err, errlen, "argument '%s' must be a size like \"16G\" (or an integer of KiB)", key);
		return -EINVAL;
	}
	*ret = kib;
	return 0;
}

static int arg_str(json_object *args, const char *key, bool required, char *buf, size_t len, char *err, size_t errlen)
{
	json_object *o;
	if (!args || !json_object_object_get_ex(args, key, &o)) {
		if (!required)
			return 0;
		snprintf(err, errlen, "argument '%s' is required", key);
		return -EINVAL;
	}
	const char *s = json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
	if (!s || !s[0] || strlen(s) >= len) {
		snprintf(err, errlen, "argument '%s' must be a string of 1..%zu characters", key, len - 1);
		return -EINVAL;
	}
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x21 || *p == 0x7f) {
			snprintf(err, errlen, "argument '%s' must not contain blanks or control characters", key);
			return -EINVAL;
		}
	snprintf(buf, len, "%s", s);
	return 0;
}

static bool arg_bool(json_object *args, const char *key)
{
	json_object *o;
	return args && json_object_object_get_ex(args, key, &o) && json_object_is_type(o, json_type_boolean) &&
	       json_object_get_boolean(o);
}

static int arg_request(json_object *args, struct hr_request *rq, char *err, size_t errlen)
{
	memset(rq, 0, sizeof(*rq));
	int r = arg_size(args, "mem", true, &rq->mem_kib, err, errlen);
	if (r == 0)
		r = arg_size(args, "min", false, &rq->min_kib, err, errlen);
	if (r < 0)
		return r;
	if (rq->min_kib > rq->mem_kib) {
		snprintf(err, errlen, "argument 'min' must not be above 'mem'");
		return -EINVAL;
	}
	rq->hugepages = arg_bool(args, "hugepages");
	rq->one_node = arg_bool(args, "one_node");
	return 0;
}

static json_object *verdict_json(const char *host, const struct hr_verdict *v)
{
	json_object *o = json_object_new_object();
	J_S(o, "verdict", code_names[v->code >= 0 && v->code <= 2 ? v->code : 2]);
	J_I(o, "code", v->code);
	J_S(o, "host", host);
	J_S(o, "reason", v->reason);
	J_I(o, "node", v->node);
	J_I(o, "need_now_kib", v->need_now_kib);
	J_I(o, "now_after_kib", v->now_after_kib);
	return o;
}

static json_object *unknown_json(const char *host, const char *why)
{
	struct hr_verdict v = {.code = HR_UNKNOWN, .node = -1};
	snprintf(v.reason, sizeof(v.reason), "cannot say: %s", why);
	return verdict_json(host, &v);
}

/* --- commands --- */

static int cmd_headroom(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer;
	struct clh_status s;
	char host[HR_NAME_MAX] = "", why[160];
	struct hr_headroom h;
	clh_status_get(&s);
	int r = arg_str(args, "host", false, host, sizeof(host), err, errlen);
	if (r < 0)
		return r;
	if (!host[0])
		snprintf(host, sizeof(host), "%s", s.name);
	int64_t now_wall = ev_wall_ms();
	json_object *o = json_object_new_object();
	add_status(o, &s);
	J_S(o, "host", host);
	if (!clh_can_answer(why, sizeof(why))) {
		memset(&h, 0, sizeof(h));
		snprintf(h.why, sizeof(h.why), "%s", why);
	} else {
		hr_host_headroom(s.st, hr_state_find(s.st, host), now_wall, (int64_t)s.cfg->cluster.peer_expiry_ms, &h);
	}
	json_object_object_add(o, "headroom", clh_headroom_json(&h));
	json_object *all = resv_list_json(s.st, now_wall), *mine = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *e = json_object_array_get_idx(all, i), *t;
		if (json_object_object_get_ex(e, "target", &t) && strcmp(json_object_get_string(t), host) == 0)
			json_object_array_add(mine, json_object_get(e));
	}
	json_object_put(all);
	json_object_object_add(o, "reservations", mine);
	*ret = o;
	return 0;
}

static int cmd_admit(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer;
	struct clh_status s;
	struct hr_request rq;
	struct hr_headroom h;
	struct hr_verdict v;
	char host[HR_NAME_MAX] = "", why[160];
	clh_status_get(&s);
	int r = arg_request(args, &rq, err, errlen);
	if (r == 0)
		r = arg_str(args, "target", false, host, sizeof(host), err, errlen);
	if (r < 0)
		return r;
	if (!host[0])
		snprintf(host, sizeof(host), "%s", s.name);
	if (!clh_can_answer(why, sizeof(why))) {
		*ret = unknown_json(host, why);
		return 0;
	}
	hr_host_headroom(s.st, hr_state_find(s.st, host), ev_wall_ms(), (int64_t)s.cfg->cluster.peer_expiry_ms, &h);
	hr_admit(&h, &rq, &v);
	*ret = verdict_json(host, &v);
	return 0;
}

static void reserve_done(uint64_t ticket, const struct hr_resv_req *q, const struct hr_verdict *v)
{
	json_object *o = verdict_json(q->target, v);
	J_S(o, "reservation", q->id);
	J_I(o, "ttl_ms", q->ttl_ms);
	ctl_complete(ticket, 0, o, NULL);
}

static int cmd_reserve(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer;
	struct clh_status s;
	struct hr_resv_req q;
	struct hr_verdict v;
	char why[160];
	json_object *o;
	clh_status_get(&s);
	memset(&q, 0, sizeof(q));
	int r = arg_request(args, &q.req, err, errlen);
	if (r == 0)
		r = arg_str(args, "target", false, q.target, sizeof(q.target), err, errlen);
	if (r == 0)
		r = arg_str(args, "id", true, q.id, sizeof(q.id), err, errlen);
	if (r < 0)
		return r;
	if (!q.target[0])
		snprintf(q.target, sizeof(q.target), "%s", s.name);
	q.ttl_ms = s.cfg->cluster.default_ttl_ms;
	if (args && json_object_object_get_ex(args, "ttl_ms", &o)) {
		int64_t t = json_object_is_type(o, json_type_int) ? json_object_get_int64(o) : -1;
		if (t < 1000 || (uint64_t)t > s.cfg->cluster.max_ttl_ms) {
			snprintf(err, errlen, "argument 'ttl_ms' must be 1000..%" PRIu64 " ([cluster] max_ttl)",
				 s.cfg->cluster.max_ttl_ms);
			return -EINVAL;
		}
		q.ttl_ms = (uint64_t)t;
	}
	if (!clh_can_answer(why, sizeof(why))) {
		/* never a stale yes: without quorum nothing is multicast at all */
		*ret = unknown_json(q.target, why);
		json_object_object_add(*ret, "reservation", json_object_new_string(q.id));
		return 0;
	}
	uint64_t ticket = ctl_defer();
	r = clh_reserve(&q, ticket, reserve_done, &v, err, errlen);
	if (r < 0)
		return r;
	if (r == CLH_PENDING)
		return CTL_DEFERRED;
	*ret = verdict_json(q.target, &v);
	J_S(*ret, "reservation", q.id);
	J_I(*ret, "ttl_ms", q.ttl_ms);
	return 0;
}

static int cmd_release(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer;
	char id[HR_ID_MAX], why[160];
	int r = arg_str(args, "id", true, id, sizeof(id), err, errlen);
	if (r < 0)
		return r;
	if (!clh_can_answer(why, sizeof(why))) {
		snprintf(err, errlen, "cannot release now: %s", why);
		return -EAGAIN;
	}
	r = clh_release(id, err, errlen);
	if (r < 0)
		return r;
	json_object *o = json_object_new_object();
	J_S(o, "reservation", id);
	J_S(o, "result", r == 2 ? "sent" : r == 1 ? "released" : "unknown");
	*ret = o;
	return 0;
}

static int cmd_place(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer;
	struct clh_status s;
	struct hr_request rq;
	char exclude[HR_NAME_MAX] = "", why[160];
	static struct hr_place p[HR_HOSTS_MAX];
	clh_status_get(&s);
	int r = arg_request(args, &rq, err, errlen);
	if (r == 0)
		r = arg_str(args, "exclude", false, exclude, sizeof(exclude), err, errlen);
	if (r < 0)
		return r;
	json_object *o = json_object_new_object();
	add_status(o, &s);
	json_object *a = json_object_new_array();
	if (!clh_can_answer(why, sizeof(why))) {
		J_S(o, "why", why);
	} else {
		size_t n = hr_rank(s.st, &rq, exclude, ev_wall_ms(), (int64_t)s.cfg->cluster.peer_expiry_ms, p,
				   HR_HOSTS_MAX);
		for (size_t i = 0; i < n; i++) {
			json_object *e = verdict_json(p[i].host, &p[i].v);
			J_I(e, "now_kib", p[i].now_kib);
			json_object_array_add(a, e);
		}
	}
	json_object_object_add(o, "targets", a);
	*ret = o;
	return 0;
}

static int cmd_failover(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer;
	(void)args;
	(void)err;
	(void)errlen;
	struct clh_status s;
	char why[160];
	static struct hr_fo_host fo[HR_HOSTS_MAX];
	bool all = false;
	clh_status_get(&s);
	json_object *o = json_object_new_object();
	add_status(o, &s);
	json_object *a = json_object_new_array();
	if (!clh_can_answer(why, sizeof(why))) {
		J_S(o, "why", why);
	} else {
		size_t n = hr_failover(s.st, ev_wall_ms(), (int64_t)s.cfg->cluster.peer_expiry_ms, fo, HR_HOSTS_MAX, &all);
		for (size_t i = 0; i < n; i++) {
			json_object *e = json_object_new_object(), *m = json_object_new_array();
			J_S(e, "host", fo[i].host);
			J_B(e, "known", fo[i].known);
			J_B(e, "fits", fo[i].fits);
			J_I(e, "need_kib", fo[i].need_kib);
			for (size_t k = 0; k < fo[i].nmoves; k++) {
				json_object *x = json_object_new_object();
				J_S(x, "vm", fo[i].move[k].vm);
				J_I(x, "need_kib", fo[i].move[k].need_kib);
				J_S(x, "to", fo[i].move[k].to);
				json_object_array_add(m, x);
			}
			json_object_object_add(e, "vms", m);
			json_object_array_add(a, e);
		}
	}
	J_B(o, "n_plus_1", all);
	json_object_object_add(o, "hosts", a);
	*ret = o;
	return 0;
}

static int cmd_cluster(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer;
	(void)args;
	(void)err;
	(void)errlen;
	*ret = clh_view_json();
	return *ret ? 0 : -ENOMEM;
}

static const struct ctl_command commands[] = {
    {"headroom", false, "[host:string]", cmd_headroom},
    {"admit", false, "mem:size [min:size] [hugepages:bool] [one_node:bool] [target:string]", cmd_admit},
    {"reserve", true, "id:string mem:size [min:size] [hugepages:bool] [one_node:bool] [target:string] [ttl_ms:int]",
     cmd_reserve},
    {"release", true, "id:string", cmd_release},
    {"place", false, "mem:size [min:size] [hugepages:bool] [one_node:bool] [exclude:string]", cmd_place},
    {"failover-plan", false, "", cmd_failover},
    {"cluster", false, "", cmd_cluster},
};

int clh_cmds_register(void)
{
	return ctl_register(commands, sizeof(commands) / sizeof(commands[0]));
}
