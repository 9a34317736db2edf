/* clh.c - cluster-hook glue: acquire (hr_read + balloon) -> report -> apply in agreed order, on the one
 * event loop (see clh.h). The ledger and view change only in deliver/confchg callbacks, so every node
 * applies the same sequence (hr_cluster.h, "The ordering rule"). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clh.h"
#include "clh_cmds.h"
#include "clh_cs.h"
#include "clh_hook.h"
#include "clh_wire.h"
#include "hr_read.h"
#include "../balloon/bln_ctl.h"
#include "../common/cleanup.h"
#include "../common/log.h"
#include "../common/loop.h"
#include "../common/procs.h"

#define CLH_RECONNECT_MS 1000
#define CLH_REJOIN_MS 200
#define CLH_OPLOG_MAX 4096
#define CLH_PENDING_MAX 256

struct pending {
	bool used;
	uint64_t tag, ticket;
	int64_t timer;
	clh_done_fn done;
	struct hr_resv_req q;
};

struct oplog_entry {
	uint32_t nodeid, pid;
	struct clh_msg *m; /* RESERVE or RELEASE */
};

static struct {
	bool active;
	const struct memopt_config *cfg;
	char name[HR_NAME_MAX];
	uint32_t nodeid;
	uint32_t pid;
	bool corosync, connected, quorate, synced;
	bool awaiting_sync, oplog_overflow;
	uint64_t epoch_ops;
	uint64_t gen;          /* ledger operations applied in all (carried over by SYNC) */
	uint32_t sync_from;    /* the member chosen to send this epoch's SYNC, UINT32_MAX until chosen */
	size_t nheard;         /* members whose report was delivered in this epoch */
	struct {
		uint32_t nodeid;
		bool synced;
		uint64_t gen;
	} heard[HR_HOSTS_MAX];
	size_t noplog;
	struct oplog_entry oplog[CLH_OPLOG_MAX];
	struct hr_state st;
	/* local sampling */
	int64_t sample_timer, reconnect_timer;
	struct hr_report last; /* last report built (sent, or applied standalone) */
	bool have_last;
	uint64_t last_sent_mono;
	uint64_t seq, tag;
	size_t nconsumed;
	char consumed[HR_CONSUMED_MAX][HR_ID_MAX];
	struct pending pend[CLH_PENDING_MAX];
	char last_error[160];
} G;

static void schedule_reconnect(uint64_t ms);

static const char *mode_name(void)
{
	return G.corosync ? "corosync" : "standalone";
}

void clh_status_get(struct clh_status *ret)
{
	ret->cfg = G.cfg;
	ret->name = G.name;
	ret->nodeid = G.nodeid;
	ret->corosync = G.corosync;
	ret->connected = G.connected;
	ret->quorate = G.quorate;
	ret->synced = G.synced;
	ret->st = &G.st;
}

bool clh_can_answer(char *why, size_t len)
{
	if (!G.active) {
		snprintf(why, len, "the cluster module is not running");
		return false;
	}
	if (!G.corosync)
		return true;
	if (!G.connected) {
		snprintf(why, len, "not connected to corosync%s%s", G.last_error[0] ? ": " : "", G.last_error);
		return false;
	}
	if (!G.quorate) {
		snprintf(why, len, "this node is not in a quorate partition (votequorum)");
		return false;
	}
	if (!G.synced) {
		snprintf(why, len, "the reservation ledger is not synchronized yet after joining");
		return false;
	}
	return true;
}

const char *clh_state(char *buf, size_t len)
{
	if (!G.active) {
		snprintf(buf, len, "unavailable");
		return buf;
	}
	size_t members = 0;
	for (size_t i = 0; i < G.st.nhosts; i++)
		members += G.st.host[i].member;
	if (!G.corosync)
		snprintf(buf, len, "standalone as %s, %zu reservations", G.name, G.st.nresv);
	else if (!G.connected)
		snprintf(buf, len, "corosync: disconnected (retrying)");
	else
		snprintf(buf, len, "corosync node %" PRIu32 " as %s, %zu members, %s, %s, %zu reservations", G.nodeid,
			 G.name, members, G.quorate ? "quorate" : "NOT quorate", G.synced ? "synced" : "syncing",
			 G.st.nresv);
	return buf;
}

/* --- local sampling: acquire, build a report --- */

static void guests_from_balloon(struct hr_input *in, struct hr_report *rep)
{
	struct bln_view v;
	if (!bln_get_view(&v) || !v.connected)
		return;
	in->guests_known = true;
	for (size_t i = 0; i < v.n; i++) {
		const struct bln_vm *vm = &v.vms[i];
		uint64_t cur = vm->dom.st.actual_kib ? vm->dom.st.actual_kib : vm->dom.max_kib;
		if (in->nguests < HR_GUESTS_MAX) {
			struct hr_guest *g = &in->guest[in->nguests++];
			snprintf(g->name, sizeof(g->name), "%.63s", vm->dom.name);
			g->actual_kib = cur;
			g->floor_kib = vm->b.floor_kib;
			g->balloon_ok = vm->balloon_ok && vm->b.managed;
		}
		if (rep->nvms < HR_VMS_MAX) {
			struct hr_vm *m = &rep->vm[rep->nvms++];
			snprintf(m->name, sizeof(m->name), "%.63s", vm->dom.name);
			m->cur_kib = cur;
			m->floor_kib = vm->balloon_ok ? vm->b.floor_kib : cur;
		}
	}
}

/* Reservations held against this host whose VM now runs (by name or UUID) are marked consumed. */
static void find_consumed(const struct vm_proc *p, size_t np)
{
	struct bln_view v;
	bool bv = bln_get_view(&v) && v.connected;
	for (size_t i = 0; i < G.st.nresv && G.nconsumed < HR_CONSUMED_MAX; i++) {
		const struct hr_resv *r = &G.st.resv[i];
		bool seen = false;
		if (strcmp(r->target, G.name) != 0)
			continue;
		for (size_t k = 0; k < np && !seen; k++)
			seen = strcmp(p[k].guest_name, r->id) == 0 || (p[k].uuid[0] && strcasecmp(p[k].uuid, r->id) == 0);
		for (size_t k = 0; bv && k < v.n && !seen; k++)
			seen = strcmp(v.vms[k].dom.name, r->id) == 0 || strcasecmp(v.vms[k].dom.uuid, r->id) == 0;
		bool already = false;
		for (size_t k = 0; k < G.nconsumed; k++)
			already |= strcmp(G.consumed[k], r->id) == 0;
		if (seen && !already) {
			log_info("cluster: reservation '%s' ends: the VM is running here", r->id);
			snprintf(G.consumed[G.nconsumed++], HR_ID_MAX, "%s", r->id);
		}
	}
}

static void build_report(struct hr_report *rep)
{
	const struct cfg_cluster *cc = &G.cfg->cluster;
	static struct hr_input in;
	_cleanup_free_ struct vm_proc *procs = NULL;
	size_t np = 0;

	memset(rep, 0, sizeof(*rep));
	hr_read(G.cfg->daemon.procfs_root, G.cfg->daemon.sysfs_root, &in);
	guests_from_balloon(&in, rep);
	if (proc_list_qemu(G.cfg->daemon.procfs_root, &procs, &np) < 0)
		np = 0;
	if (rep->nvms == 0)
		for (size_t i = 0; i < np && rep->nvms < HR_VMS_MAX; i++) {
			struct hr_vm *m = &rep->vm[rep->nvms++];
			snprintf(m->name, sizeof(m->name), "%.63s", procs[i].guest_name[0] ? procs[i].guest_name : procs[i].comm);
			m->cur_kib = m->floor_kib = procs[i].rss_kib;
		}
	find_consumed(procs, np);

	struct hr_params p = {.reserve_kib = msize_resolve_kib(&cc->host_reserve, in.total_kib),
			      .ksm_risk_ppm = cc->ksm_unshare_risk_ppm};
	hr_compute(&in, &p, &rep->h);
	snprintf(rep->host, sizeof(rep->host), "%s", G.name);
	rep->nodeid = G.nodeid;
	rep->seq = ++G.seq;
	rep->wall_ms = ev_wall_ms();
	rep->nconsumed = G.nconsumed;
	memcpy(rep->consumed, G.consumed, sizeof(rep->consumed));
	rep->synced = G.synced;
	rep->ledger_gen = G.gen;
}

static int64_t absdiff(int64_t a, int64_t b)
{
	return a > b ? a - b : b - a;
}

static bool report_due(const struct hr_report *r, uint64_t now)
{
	const struct cfg_cluster *cc = &G.cfg->cluster;
	if (!G.have_last || now - G.last_sent_mono >= cc->report_interval_ms || r->nconsumed > 0)
		return true;
	const struct hr_headroom *a = &G.last.h, *b = &r->h;
	int64_t ch = (int64_t)cc->report_change_kib;
	if (a->valid != b->valid || a->nnodes != b->nnodes)
		return true;
	if (absdiff(a->now_kib, b->now_kib) >= ch || absdiff(a->reclaimable_kib, b->reclaimable_kib) >= ch ||
	    absdiff(a->hp_free_kib, b->hp_free_kib) >= ch)
		return true;
	for (size_t i = 0; i < a->nnodes; i++)
		if (absdiff(a->node[i].now_kib, b->node[i].now_kib) >= ch)
			return true;
	return false;
}

static void after_change(void)
{
	clh_hook_check(G.cfg);
}

/* Sample; report when due (or when forced). */
static void sample(bool force)
{
	static struct hr_report r;
	uint64_t now = ev_now_ms();
	build_report(&r);
	if (!force && !report_due(&r, now))
		return;
	if (!G.corosync) {
		hr_apply_report(&G.st, &r, now);
		G.nconsumed = 0;
	} else {
		if (!G.connected)
			return;
		struct clh_msg *m = calloc(1, sizeof(*m));
		_cleanup_free_ char *buf = NULL;
		size_t len;
		if (!m)
			return;
		m->kind = CLH_M_REPORT;
		m->u.rep = r;
		int e = clh_encode(m, &buf, &len);
		free(m);
		if (e == 0)
			e = clh_cs_send(buf, len);
		if (e < 0) {
			log_warn("cluster: cannot multicast the headroom report: %s", strerror(-e));
			return;
		}
		/* consumed ids travel with this report; they are dropped from the ledger on delivery */
		G.nconsumed = 0;
	}
	G.last = r;
	G.have_last = true;
	G.last_sent_mono = now;
	uint64_t vms = 0;
	for (size_t i = 0; i < r.nvms; i++)
		vms += r.vm[i].cur_kib;
	clh_hook_pacemaker(G.cfg, G.name, &r.h, vms);
	if (!G.corosync)
		after_change();
}

static void on_sample(void *data)
{
	(void)data;
	G.sample_timer = 0;
	sample(false);
	int64_t id = ev_add_cycle("cluster", G.cfg->cluster.sample_interval_ms, on_sample, NULL);
	G.sample_timer = id > 0 ? id : 0;
}

void clh_cycle(void)
{
	if (G.active)
		sample(true);
}

/* --- reservations --- */

static struct pending *pending_find(uint64_t tag)
{
	for (size_t i = 0; i < CLH_PENDING_MAX; i++)
		if (G.pend[i].used && G.pend[i].tag == tag)
			return &G.pend[i];
	return NULL;
}

static void pending_finish(struct pending *p, const struct hr_verdict *v)
{
	if (p->timer > 0)
		ev_cancel_timeout(p->timer);
	p->used = false;
	p->done(p->ticket, &p->q, v);
}

static void pending_fail_all(const char *why)
{
	for (size_t i = 0; i < CLH_PENDING_MAX; i++)
		if (G.pend[i].used) {
			struct hr_verdict v = {.code = HR_UNKNOWN, .node = -1};
			snprintf(v.reason, sizeof(v.reason), "cannot say: %s", why);
			pending_finish(&G.pend[i], &v);
		}
}

static void pending_timeout(void *data)
{
	struct pending *p = data;
	struct hr_verdict v = {.code = HR_UNKNOWN, .node = -1};
	p->timer = 0;
	snprintf(v.reason, sizeof(v.reason),
		 "cannot say: the reservation was not delivered back in order within %" PRIu64
		 " ms; it may still be applied: run 'memoptctl release %s' to be sure",
		 G.cfg->cluster.reserve_timeout_ms, p->q.id);
	pending_finish(p, &v);
}

static void record_verdict(const struct hr_resv_req *q, const struct hr_verdict *v, bool mine)
{
	if (v->code == HR_ADMIT)
		dlog_record("cluster", false, v->reason, "reserved '%s' on %s (%" PRIu64 " KiB, ttl %" PRIu64 " ms)%s",
			    q->id, q->target, q->req.mem_kib, q->ttl_ms, mine ? "" : " for a peer");
	else
		log_debug("cluster: reservation '%s' on %s: %s", q->id, q->target, v->reason);
}

int clh_reserve(struct hr_resv_req *q, uint64_t ticket, clh_done_fn done, struct hr_verdict *ret_v, char *err,
		size_t errlen)
{
	q->t_wall = ev_wall_ms();
	q->origin = G.nodeid;
	if (!G.corosync) {
		hr_apply_reserve(&G.st, q, (int64_t)G.cfg->cluster.peer_expiry_ms, ret_v);
		record_verdict(q, ret_v, true);
		after_change();
		return 0;
	}
	struct pending *p = NULL;
	for (size_t i = 0; i < CLH_PENDING_MAX && !p; i++)
		if (!G.pend[i].used)
			p = &G.pend[i];
	if (!p) {
		snprintf(err, errlen, "too many reservations in flight");
		return -EAGAIN;
	}
	struct clh_msg *m = calloc(1, sizeof(*m));
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (!m)
		return -ENOMEM;
	m->kind = CLH_M_RESERVE;
	m->tag = ++G.tag;
	m->u.res = *q;
	int r = clh_encode(m, &buf, &len);
	free(m);
	if (r == 0)
		r = clh_cs_send(buf, len);
	if (r < 0) {
		snprintf(err, errlen, "cannot multicast the reservation: %s", strerror(-r));
		return r;
	}
	*p = (struct pending){.used = true, .tag = G.tag, .ticket = ticket, .done = done, .q = *q};
	int64_t id = ev_add_timeout(G.cfg->cluster.reserve_timeout_ms, pending_timeout, p);
	p->timer = id > 0 ? id : 0;
	return CLH_PENDING;
}

int clh_release(const char *id, char *err, size_t errlen)
{
	if (!G.corosync) {
		int r = hr_apply_release(&G.st, id);
		if (r)
			dlog_record("cluster", false, "memoptctl release", "released reservation '%s'", id);
		after_change();
		return r;
	}
	struct clh_msg *m = calloc(1, sizeof(*m));
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (!m)
		return -ENOMEM;
	m->kind = CLH_M_RELEASE;
	m->tag = ++G.tag;
	snprintf(m->u.release_id, sizeof(m->u.release_id), "%s", id);
	int r = clh_encode(m, &buf, &len);
	free(m);
	if (r == 0)
		r = clh_cs_send(buf, len);
	if (r < 0) {
		snprintf(err, errlen, "cannot multicast the release: %s", strerror(-r));
		return r;
	}
	return 2;
}

/* Apply one ledger operation as delivered (or replayed). */
static void apply_op(uint32_t nodeid, uint32_t pid, struct clh_msg *m, bool answer)
{
	G.gen++;
	if (m->kind == CLH_M_RESERVE) {
		struct hr_verdict v;
		m->u.res.origin = nodeid;
		hr_apply_reserve(&G.st, &m->u.res, (int64_t)G.cfg->cluster.peer_expiry_ms, &v);
		bool mine = nodeid == G.nodeid && pid == G.pid;
		if (answer)
			record_verdict(&m->u.res, &v, mine);
		struct pending *p = mine && answer ? pending_find(m->tag) : NULL;
		if (p)
			pending_finish(p, &v);
	} else if (m->kind == CLH_M_RELEASE) {
		if (hr_apply_release(&G.st, m->u.release_id) && answer)
			dlog_record("cluster", false, "release message", "released reservation '%s' (from node %" PRIu32 ")",
				    m->u.release_id, nodeid);
	}
}

static void oplog_clear(void)
{
	for (size_t i = 0; i < G.noplog; i++)
		free(G.oplog[i].m);
	G.noplog = 0;
	G.oplog_overflow = false;
	G.epoch_ops = 0;
}

static void send_sync(void)
{
	struct clh_msg *m = calloc(1, sizeof(*m));
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (!m)
		return;
	m->kind = CLH_M_SYNC;
	m->u.sync.k = G.epoch_ops;
	m->u.sync.gen = G.gen;
	m->u.sync.nresv = G.st.nresv;
	memcpy(m->u.sync.resv, G.st.resv, G.st.nresv * sizeof(G.st.resv[0]));
	int r = clh_encode(m, &buf, &len);
	free(m);
	if (r == 0)
		r = clh_cs_send(buf, len);
	if (r < 0)
		log_warn("cluster: cannot multicast the ledger to joining members: %s", strerror(-r));
	else
		log_info("cluster: sent the reservation ledger (%zu entries) to joining members", G.st.nresv);
}

static void adopt_sync(const struct clh_sync *s)
{
	G.gen = s->gen;
	G.st.nresv = s->nresv;
	memcpy(G.st.resv, s->resv, s->nresv * sizeof(s->resv[0]));
	for (size_t i = (size_t)s->k; i < G.noplog; i++)
		apply_op(G.oplog[i].nodeid, G.oplog[i].pid, G.oplog[i].m, false);
	if (!G.synced)
		log_info("cluster: reservation ledger synchronized (%zu entries)", G.st.nresv);
	G.synced = !G.oplog_overflow;
	G.awaiting_sync = false;
	G.sync_from = UINT32_MAX;
	oplog_clear();
}

static bool is_member(uint32_t nodeid)
{
	const struct hr_host *h = hr_state_host(&G.st, nodeid, false);
	return h && h->member;
}

/* A report delivered during a sync epoch. Once every member has reported, every node picks the same
 * sender: the synchronized member with the most advanced ledger (highest generation, then lowest node
 * id); with none synchronized, the lowest node id, which takes its own ledger. */
static void sync_heard(const struct hr_report *r)
{
	size_t members = 0;
	bool dup = false;
	for (size_t i = 0; i < G.nheard; i++)
		dup |= G.heard[i].nodeid == r->nodeid;
	if (!dup && G.nheard < HR_HOSTS_MAX && is_member(r->nodeid))
		G.heard[G.nheard++] = (typeof(G.heard[0])){.nodeid = r->nodeid, .synced = r->synced, .gen = r->ledger_gen};
	for (size_t i = 0; i < G.st.nhosts; i++)
		members += G.st.host[i].member;
	if (G.sync_from != UINT32_MAX || G.nheard < members)
		return;
	size_t best = SIZE_MAX;
	for (size_t i = 0; i < G.nheard; i++) {
		const typeof(G.heard[0]) *x = &G.heard[i], *b = best == SIZE_MAX ? NULL : &G.heard[best];
		if (!b || (x->synced && !b->synced) ||
		    (x->synced == b->synced && (x->gen > b->gen || (x->gen == b->gen && x->nodeid < b->nodeid))))
			best = i;
	}
	G.sync_from = G.heard[best].nodeid;
	if (G.sync_from != G.nodeid)
		return;
	if (!G.synced) {
		/* nobody holds a synchronized ledger: ours (with this epoch's operations) is the best there is */
		for (size_t i = 0; i < G.noplog; i++)
			apply_op(G.oplog[i].nodeid, G.oplog[i].pid, G.oplog[i].m, false);
		log_warn("cluster: no member holds a synchronized ledger: taking ours (%zu entries)", G.st.nresv);
		G.synced = true;
		for (size_t i = 0; i < G.noplog; i++)
			free(G.oplog[i].m);
		G.noplog = 0;
	}
	send_sync();
}

/* --- corosync callbacks --- */

static void cs_deliver(uint32_t nodeid, uint32_t pid, const void *msg, size_t len, void *data)
{
	(void)data;
	struct clh_msg *m = malloc(sizeof(*m));
	if (!m)
		return;
	if (clh_decode(msg, len, m) < 0) {
		log_warn("cluster: ignoring a malformed message of %zu bytes from node %" PRIu32, len, nodeid);
		free(m);
		return;
	}
	switch (m->kind) {
	case CLH_M_REPORT:
		m->u.rep.nodeid = nodeid;
		hr_apply_report(&G.st, &m->u.rep, ev_now_ms());
		if (G.awaiting_sync)
			sync_heard(&m->u.rep);
		after_change();
		break;
	case CLH_M_RESERVE:
	case CLH_M_RELEASE:
		G.epoch_ops++;
		if (G.synced)
			apply_op(nodeid, pid, m, true);
		else if (m->kind == CLH_M_RESERVE && nodeid == G.nodeid && pid == G.pid) {
			struct pending *p = pending_find(m->tag);
			struct hr_verdict v = {.code = HR_UNKNOWN, .node = -1};
			snprintf(v.reason, sizeof(v.reason), "cannot say: the ledger is being synchronized");
			if (p)
				pending_finish(p, &v);
		}
		if (G.awaiting_sync) {
			if (G.noplog < CLH_OPLOG_MAX) {
				G.oplog[G.noplog++] = (struct oplog_entry){.nodeid = nodeid, .pid = pid, .m = m};
				m = NULL;
			} else {
				G.oplog_overflow = true;
			}
		}
		after_change();
		break;
	case CLH_M_SYNC:
		if (G.awaiting_sync && nodeid == G.sync_from)
			adopt_sync(&m->u.sync);
		after_change();
		break;
	}
	free(m);
}

static void cs_confchg(const uint32_t *members, size_t n, const uint32_t *joined, size_t nj, const uint32_t *left,
		       size_t nl, void *data)
{
	(void)data;
	(void)left;
	(void)joined;
	hr_state_members(&G.st, members, n);
	log_info("cluster: CPG membership: %zu members, %zu joined, %zu left", n, nj, nl);
	if (nj > 0 || G.awaiting_sync) {
		/* a sync epoch: every member reports (synced, generation), then the chosen one sends the
		 * ledger; operations delivered meanwhile are logged for replay after its snapshot */
		oplog_clear();
		G.awaiting_sync = true;
		G.sync_from = UINT32_MAX;
		G.nheard = 0;
		sample(true);
	}
	after_change();
}

static void cs_quorum(bool quorate, void *data)
{
	(void)data;
	if (quorate != G.quorate)
		log_notice("cluster: this node is %s", quorate ? "quorate" : "NOT quorate: admission answers 'cannot say'");
	G.quorate = quorate;
	after_change();
}

static void cs_lost(void *data)
{
	(void)data;
	G.connected = G.quorate = G.synced = G.awaiting_sync = false;
	oplog_clear();
	hr_state_members(&G.st, NULL, 0);
	snprintf(G.last_error, sizeof(G.last_error), "connection lost");
	pending_fail_all("the connection to corosync was lost");
	after_change();
	schedule_reconnect(CLH_RECONNECT_MS);
}

static void try_connect(void *data)
{
	(void)data;
	static const struct clh_cs_cb cb = {
	    .deliver = cs_deliver, .confchg = cs_confchg, .quorum = cs_quorum, .lost = cs_lost};
	uint32_t nodeid;
	G.reconnect_timer = 0;
	int r = clh_cs_open(G.cfg->cluster.group, &cb, &nodeid);
	if (r < 0) {
		const char *why = r == -EOPNOTSUPP ? "memoptd was built without corosync support"
				  : r == -EAGAIN   ? "join refused for now"
						   : "corosync is not running";
		if (strcmp(G.last_error, why) != 0)
			log_warn("cluster: cannot join CPG group '%s': %s; retrying", G.cfg->cluster.group, why);
		snprintf(G.last_error, sizeof(G.last_error), "%s", why);
		if (r != -EOPNOTSUPP)
			schedule_reconnect(r == -EAGAIN ? CLH_REJOIN_MS : CLH_RECONNECT_MS);
		return;
	}
	G.nodeid = nodeid;
	G.connected = true;
	G.last_error[0] = '\0';
	G.have_last = false;
	log_notice("cluster: joined CPG group '%s' as node %" PRIu32 " (%s)", G.cfg->cluster.group, nodeid, G.name);
	sample(true);
}

static void schedule_reconnect(uint64_t ms)
{
	if (G.reconnect_timer || !G.active)
		return;
	int64_t id = ev_add_timeout(ms, try_connect, NULL);
	G.reconnect_timer = id > 0 ? id : 0;
}

/* --- lifecycle --- */

static void set_name(const struct memopt_config *cfg)
{
	if (strcmp(cfg->cluster.node_name, "auto") != 0) {
		snprintf(G.name, sizeof(G.name), "%s", cfg->cluster.node_name);
		return;
	}
	char h[256];
	if (gethostname(h, sizeof(h)) < 0)
		snprintf(h, sizeof(h), "localhost");
	h[sizeof(h) - 1] = '\0';
	snprintf(G.name, sizeof(G.name), "%.63s", h);
}

int clh_init(const struct memopt_config *cfg)
{
	static bool registered;
	if (G.active)
		return -EALREADY;
	memset(&G, 0, sizeof(G));
	G.cfg = cfg;
	G.pid = (uint32_t)getpid();
	G.corosync = cfg->cluster.mode == CLUSTER_COROSYNC;
	G.sync_from = UINT32_MAX;
	set_name(cfg);
	hr_state_init(&G.st);
	if (!registered) {
		int r = clh_cmds_register();
		if (r < 0)
			return r;
		registered = true;
	}
	G.active = true;
	clh_hook_init();
	if (!G.corosync) {
		/* standalone: this host is the whole cluster, always a member, always synced */
		static const uint32_t self[] = {0};
		hr_state_members(&G.st, self, 1);
		G.synced = G.quorate = G.connected = true;
	} else {
		try_connect(NULL);
	}
	sample(true);
	int64_t id = ev_add_cycle("cluster", cfg->cluster.sample_interval_ms, on_sample, NULL);
	G.sample_timer = id > 0 ? id : 0;
	log_info("cluster: headroom %s as '%s'", mode_name(), G.name);
	return 0;
}

void clh_reload(const struct memopt_config *cfg)
{
	if (!G.active)
		return;
	if ((cfg->cluster.mode == CLUSTER_COROSYNC) != G.corosync || strcmp(cfg->cluster.group, G.cfg->cluster.group) ||
	    strcmp(cfg->cluster.node_name, G.cfg->cluster.node_name))
		log_warn("reload: [cluster] mode, group and node_name take effect only after a restart");
	G.cfg = cfg;
}

void clh_fini(void)
{
	if (!G.active)
		return;
	pending_fail_all("memoptd is stopping");
	clh_hook_fini();
	if (G.sample_timer)
		ev_cancel_timeout(G.sample_timer);
	if (G.reconnect_timer)
		ev_cancel_timeout(G.reconnect_timer);
	clh_cs_close();
	oplog_clear();
	G.active = false;
}
