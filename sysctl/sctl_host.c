/* sctl_host.c - memoptd's host policy module: reads the managed knobs, the NUMA topology and the
 * hugepage-backed domains, builds the plan, applies it on request (or at start), and checks every
 * [host] interval that nobody changed what it applied (drift: re-apply a bounded number of times, or
 * yield the knob until the operator applies again). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sctl_apply.h"
#include "sctl_domxml.h"
#include "sctl_host.h"
#include "sctl_policy.h"
#include "sctl_report.h"
#include "../common/cleanup.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/loop.h"
#include "../common/parse.h"
#include "../numa/nod_numa.h"
#include "../numa/nod_report.h"

enum mstate { M_APPLIED, M_YIELDED };

/* A knob this run of memoptd wrote, with what it wrote. */
struct managed {
	struct sctl_item item;          /* item.desired is what was applied */
	enum mstate state;
	unsigned reapplies;
	char drift_value[SCTL_VALUE_MAX];
	int64_t drift_ms;
};

static struct {
	bool active;
	const struct memopt_config *cfg;
	struct st_journal *st;
	int64_t timer;
	size_t nm;
	struct managed m[SCTL_PLAN_MAX];
	/* Scratch for acquire -> decide; static because they are large. */
	struct nod_topology topo;
	struct sctl_dom doms[SCTL_DOM_MAX];
	struct sctl_facts facts;
	struct sctl_plan plan;
	char last_apply[DLOG_TEXT_MAX + 16];
	int64_t last_apply_ms;
	unsigned drifts;
} H = {.timer = -1};

static int read_u64(const char *path, uint64_t *ret)
{
	char v[32];
	int r = sctl_read_knob(path, SK_INT, v, sizeof(v), NULL, 0);
	if (r < 0)
		return r;
	*ret = strtoull(v, NULL, 10);
	return 0;
}

/* Hugepagesize from <procfs>/meminfo, in KiB; 0 if unknown. */
static uint64_t default_hugepage_kib(const char *procfs_root)
{
	_cleanup_free_ char *buf = NULL;
	char path[512];
	size_t len, pos = 0;
	struct prs_line l;

	snprintf(path, sizeof(path), "%s/meminfo", procfs_root);
	if (fio_read_alloc(path, 65536, &buf, &len, NULL) < 0)
		return 0;
	while (prs_next_line(buf, len, &pos, &l)) {
		const char *p = l.p, *end = l.p + l.len, *next;
		uint64_t v;
		if (l.len < 13 || memcmp(p, "Hugepagesize:", 13) != 0)
			continue;
		p += 13;
		while (p < end && *p == ' ')
			p++;
		if (prs_u64(p, end, &v, &next) == 0)
			return v;
	}
	return 0;
}

/* Acquire: fill H.facts from the host. */
static int acquire(char *err, size_t errlen)
{
	const struct cfg_daemon *dc = &H.cfg->daemon;
	struct sctl_facts *f = &H.facts;
	char path[ST_PATH_MAX];
	uint64_t v;
	int r;

	memset(f, 0, sizeof(*f));
	f->sysfs_root = dc->sysfs_root;
	f->procfs_root = dc->procfs_root;
	r = nod_read(dc->sysfs_root, &H.topo);
	if (r < 0) {
		snprintf(err, errlen, "cannot read the NUMA topology below %s: %s", dc->sysfs_root, strerror(-r));
		return r;
	}
	f->topo = &H.topo;
	for (int id = 0; id < SCTL__FIXED; id++) {
		const struct sctl_knob *k = &sctl_knobs[id];
		struct sctl_cur *c = &f->cur[id];
		snprintf(path, sizeof(path), "%s/%s", k->procfs ? dc->procfs_root : dc->sysfs_root, k->rel);
		r = sctl_read_knob(path, k->kind, c->value, sizeof(c->value), c->text, sizeof(c->text));
		c->present = r == 0;
		if (r < 0 && r != -ENOENT)
			log_debug("host: cannot read %s: %s", path, strerror(-r));
	}
	snprintf(path, sizeof(path), "%s/kernel/mm/ksm/pages_shared", dc->sysfs_root);
	f->ksm_present = read_u64(path, &f->ksm_pages_shared) == 0;
	snprintf(path, sizeof(path), "%s/sys/vm/dirty_background_bytes", dc->procfs_root);
	f->dirty_bg_bytes_set = read_u64(path, &v) == 0 && v != 0;
	f->default_hp_kib = default_hugepage_kib(dc->procfs_root);
	r = sctl_read_domains(H.cfg->host.domain_xml_dir, H.doms, SCTL_DOM_MAX);
	if (r < 0) {
		log_warn("host: cannot read domain definitions in %s, planning without them: %s",
			 H.cfg->host.domain_xml_dir, strerror(-r));
		r = 0;
	}
	f->doms = H.doms;
	f->ndoms = (size_t)r;
	return 0;
}

static int make_plan(char *err, size_t errlen)
{
	int r = acquire(err, errlen);
	if (r < 0)
		return r;
	r = sctl_plan_build(&H.cfg->host, &H.facts, &H.plan);
	if (r < 0)
		snprintf(err, errlen, "cannot build the host plan: %s", strerror(-r));
	return r;
}

static struct managed *find_managed(const char *key)
{
	for (size_t i = 0; i < H.nm; i++)
		if (strcmp(H.m[i].item.key, key) == 0)
			return &H.m[i];
	return NULL;
}

static json_object *plan_json(void)
{
	json_object *r = json_object_new_object();
	json_object_object_add(r, "nodes", json_object_new_int((int)H.plan.nodes));
	json_object_object_add(r, "hugepage_domains", json_object_new_int((int)H.plan.hugepage_domains));
	json_object_object_add(r, "domains", json_object_new_int((int)H.facts.ndoms));
	json_object_object_add(r, "domain_xml_dir", json_object_new_string(H.cfg->host.domain_xml_dir[0]
										   ? H.cfg->host.domain_xml_dir : "none"));
	json_object_object_add(r, "default_hugepage_kib", json_object_new_int64((int64_t)H.facts.default_hp_kib));
	json_object_object_add(r, "changes", json_object_new_int((int)H.plan.changes));
	json_object_object_add(r, "manage", json_object_new_boolean(H.cfg->host.manage));
	json_object_object_add(r, "dry_run", json_object_new_boolean(H.cfg->daemon.dry_run));
	json_object_object_add(r, "items", sctl_plan_items_json(&H.plan));
	return r;
}

int sctl_host_plan(json_object **ret, char *err, size_t errlen)
{
	if (!H.active) {
		snprintf(err, errlen, "the host policy module is not running");
		return -ENOTCONN;
	}
	int r = make_plan(err, errlen);
	if (r < 0)
		return r;
	*ret = plan_json();
	return *ret ? 0 : -ENOMEM;
}

/* Summary of the changes of a plan for the decision log. */
static void changes_text(const struct sctl_plan *p, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < p->n && off < len; i++) {
		const struct sctl_item *it = &p->item[i];
		if (it->action != SA_CHANGE)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s %s -> %s", off ? ", " : "", it->key, it->current,
					it->desired);
	}
}

static int do_apply(bool dry_run, const char *why, char *err, size_t errlen)
{
	char what[DLOG_TEXT_MAX];
	int r;

	if (!H.cfg->host.manage) {
		snprintf(err, errlen, "[host] manage = no: memopt only plans and reports host knobs; nothing written");
		return -EINVAL;
	}
	r = make_plan(err, errlen);
	if (r < 0)
		return r;
	changes_text(&H.plan, what, sizeof(what));
	if (H.plan.changes == 0) {
		log_info("host: %s: nothing to change", why);
		return 0;
	}
	r = sctl_apply(&H.plan, H.st, dry_run, err, errlen);
	if (r < 0) {
		log_err("host: apply failed: %s", err);
		dlog_record("host", dry_run, why, "apply FAILED, nothing left half-applied: %s", err);
		return r;
	}
	if (!dry_run) {
		/* The operator acted: every knob written is managed again, drift counters start over. */
		for (size_t i = 0; i < H.plan.n; i++) {
			const struct sctl_item *it = &H.plan.item[i];
			struct managed *m;
			if (it->action != SA_CHANGE)
				continue;
			m = find_managed(it->key);
			if (!m && H.nm < SCTL_PLAN_MAX)
				m = &H.m[H.nm++];
			if (!m)
				continue;
			memset(m, 0, sizeof(*m));
			m->item = *it;
			m->state = M_APPLIED;
		}
		/* Yielded knobs whose value now equals the plan again are managed once more too. */
		for (size_t i = 0; i < H.nm; i++)
			if (H.m[i].state == M_YIELDED) {
				char jkey[ST_KEY_MAX];
				sctl_journal_key(H.m[i].item.key, jkey, sizeof(jkey));
				if (st_find(H.st, jkey))
					H.m[i].state = M_APPLIED;
			}
	}
	dlog_record("host", dry_run, why, "%s%s", dry_run ? "apply: " : "applied: ", what);
	snprintf(H.last_apply, sizeof(H.last_apply), "%s%s", dry_run ? "(dry-run) " : "", what);
	H.last_apply_ms = ev_wall_ms();
	return r;
}

int sctl_host_apply(bool dry_run, json_object **ret, char *err, size_t errlen)
{
	if (!H.active) {
		snprintf(err, errlen, "the host policy module is not running");
		return -ENOTCONN;
	}
	dry_run = dry_run || H.cfg->daemon.dry_run;
	int r = do_apply(dry_run, "memoptctl host apply", err, errlen);
	/* The message names the cause; a knob the kernel refused (EACCES, EROFS) is not the peer's
	 * permission problem, so only the operator's own mistakes stay EINVAL. */
	if (r < 0)
		return r == -EINVAL || r == -ENOMEM ? r : -EIO;
	json_object *o = plan_json();
	json_object_object_add(o, "dry_run", json_object_new_boolean(dry_run));
	json_object_object_add(o, "written", json_object_new_int(dry_run ? 0 : r));
	*ret = o;
	return 0;
}

static size_t count_mine(void)
{
	size_t n = 0;
	for (size_t i = 0; i < st_count(H.st); i++)
		n += strcmp(st_get(H.st, i)->owner, SCTL_OWNER) == 0;
	return n;
}

int sctl_host_restore(bool dry_run, json_object **ret, char *err, size_t errlen)
{
	if (!H.active) {
		snprintf(err, errlen, "the host policy module is not running");
		return -ENOTCONN;
	}
	dry_run = dry_run || H.cfg->daemon.dry_run;
	size_t before = count_mine();
	int r = st_restore(H.st, SCTL_OWNER, dry_run);
	if (r < 0) {
		snprintf(err, errlen, "saving the journal after restoring failed: %s", strerror(-r));
		return r;
	}
	size_t after = count_mine();
	if (!dry_run)
		H.nm = 0;
	dlog_record("host", dry_run, "memoptctl host restore", "%s %zu original value(s)%s",
		    dry_run ? "restore" : "restored", dry_run ? before : before - after,
		    r > 0 ? ", some could not be restored (kept in the journal)" : "");
	json_object *o = json_object_new_object();
	json_object_object_add(o, "dry_run", json_object_new_boolean(dry_run));
	json_object_object_add(o, "restored", json_object_new_int((int)(dry_run ? 0 : before - after)));
	json_object_object_add(o, "journaled", json_object_new_int((int)(dry_run ? before : after)));
	json_object_object_add(o, "failed", json_object_new_int(r));
	*ret = o;
	if (r > 0) {
		snprintf(err, errlen, "%d value(s) could not be restored; they stay in the journal (see the log)", r);
		json_object_put(o);
		*ret = NULL;
		return -EIO;
	}
	return 0;
}

static const char *mstate_text(const struct managed *m, char *buf, size_t len)
{
	if (m->state == M_YIELDED)
		snprintf(buf, len, "yielded: changed to '%s' by someone else; not managed until memoptctl host apply",
			 m->drift_value);
	else if (m->reapplies)
		snprintf(buf, len, "applied; drifted to '%s', re-applied %u of %llu time(s)", m->drift_value, m->reapplies,
			 (unsigned long long)H.cfg->host.max_reapply);
	else
		snprintf(buf, len, "applied");
	return buf;
}

int sctl_host_status(json_object **ret, char *err, size_t errlen)
{
	char buf[256], jkey[ST_KEY_MAX];
	int r;

	if (!H.active) {
		snprintf(err, errlen, "the host policy module is not running");
		return -ENOTCONN;
	}
	r = make_plan(err, errlen);
	if (r < 0)
		return r;
	json_object *o = plan_json();
	json_object *items;
	json_object_object_get_ex(o, "items", &items);
	for (size_t i = 0; i < H.plan.n; i++) {
		const struct sctl_item *it = &H.plan.item[i];
		json_object *j = json_object_array_get_idx(items, i);
		const struct managed *m = find_managed(it->key);
		const struct st_entry *e;
		sctl_journal_key(it->key, jkey, sizeof(jkey));
		e = st_find(H.st, jkey);
		if (m) {
			json_object_object_add(j, "state", json_object_new_string(m->state == M_YIELDED ? "yielded" : "applied"));
			json_object_object_add(j, "applied", json_object_new_string(m->item.desired));
			json_object_object_add(j, "detail", json_object_new_string(mstate_text(m, buf, sizeof(buf))));
			json_object_object_add(j, "drift", json_object_new_boolean(m->state == M_YIELDED ||
									   strcmp(it->current, m->item.desired) != 0));
			json_object_object_add(j, "reapplies", json_object_new_int((int)m->reapplies));
		} else {
			json_object_object_add(j, "state", json_object_new_string(e ? "journaled" : "not-applied"));
			json_object_object_add(j, "drift", json_object_new_boolean(0));
		}
		if (e)
			json_object_object_add(j, "original", json_object_new_string(e->value));
	}
	size_t applied = 0, yielded = 0;
	for (size_t i = 0; i < H.nm; i++)
		*(H.m[i].state == M_YIELDED ? &yielded : &applied) += 1;
	json_object_object_add(o, "applied", json_object_new_int((int)applied));
	json_object_object_add(o, "yielded", json_object_new_int((int)yielded));
	json_object_object_add(o, "journaled", json_object_new_int((int)count_mine()));
	json_object_object_add(o, "drift_rule", json_object_new_string(H.cfg->host.drift == HOST_DRIFT_REAPPLY ? "reapply" : "yield"));
	json_object_object_add(o, "drift_events", json_object_new_int((int)H.drifts));
	json_object_object_add(o, "last_apply", json_object_new_string(H.last_apply));
	json_object_object_add(o, "last_apply_ms", json_object_new_int64(H.last_apply_ms));
	*ret = o;
	return 0;
}

void sctl_host_cycle(void)
{
	char jkey[ST_KEY_MAX];

	for (size_t i = 0; i < H.nm; i++) {
		struct managed *m = &H.m[i];
		const struct sctl_item *it = &m->item;
		enum sctl_kind kind = it->id >= 0 ? sctl_knobs[it->id].kind : SK_INT;
		char now[SCTL_VALUE_MAX];
		int r;

		if (m->state != M_APPLIED)
			continue;
		r = sctl_read_knob(it->path, kind, now, sizeof(now), NULL, 0);
		if (r < 0) {
			log_warn("host: cannot read %s for the drift check, ignoring: %s", it->path, strerror(-r));
			continue;
		}
		if (strcmp(now, it->desired) == 0)
			continue;
		H.drifts++;
		snprintf(m->drift_value, sizeof(m->drift_value), "%s", now);
		m->drift_ms = ev_wall_ms();
		if (H.cfg->host.drift == HOST_DRIFT_REAPPLY && m->reapplies < H.cfg->host.max_reapply &&
		    !H.cfg->daemon.dry_run) {
			m->reapplies++;
			r = sctl_write_one(it, it->desired);
			dlog_record("host", false, "drift = reapply",
				    "%s was changed to '%s' by someone else; re-applied '%s' (%u of %llu)%s%s", it->key, now,
				    it->desired, m->reapplies, (unsigned long long)H.cfg->host.max_reapply,
				    r < 0 ? ": FAILED: " : "", r < 0 ? strerror(-r) : "");
			continue;
		}
		/* Yield: whoever changed it owns it now; its value stays, also when memoptd stops. */
		m->state = M_YIELDED;
		sctl_journal_key(it->key, jkey, sizeof(jkey));
		st_forget(H.st, jkey);
		dlog_record("host", H.cfg->daemon.dry_run,
			    H.cfg->host.drift == HOST_DRIFT_REAPPLY ? "drift = reapply, max_reapply reached" : "drift = yield",
			    "%s was changed to '%s' by someone else (memopt applied '%s'): yielding, not managed until "
			    "memoptctl host apply",
			    it->key, now, it->desired);
	}
}

static void on_timer(void *data)
{
	(void)data;
	H.timer = -1;
	sctl_host_cycle();
	if (H.active)
		H.timer = ev_add_cycle("host", H.cfg->host.interval_ms, on_timer, NULL);
}

static void apply_at_start(const char *why)
{
	char err[1024];
	if (!H.cfg->host.apply_on_start || !H.cfg->host.manage)
		return;
	if (do_apply(H.cfg->daemon.dry_run, why, err, sizeof(err)) < 0)
		log_err("host: not applied (%s); the host keeps its values", err);
}

int sctl_host_init(const struct memopt_config *cfg, struct st_journal *st)
{
	memset(&H, 0, sizeof(H));
	H.timer = -1;
	H.cfg = cfg;
	H.st = st;
	H.active = true;
	H.timer = ev_add_cycle("host", cfg->host.interval_ms, on_timer, NULL);
	if (H.timer < 0)
		return (int)H.timer;
	log_info("host: policy module started (manage=%s, apply_on_start=%s, drift=%s)", cfg->host.manage ? "yes" : "no",
		 cfg->host.apply_on_start ? "yes" : "no", cfg->host.drift == HOST_DRIFT_REAPPLY ? "reapply" : "yield");
	apply_at_start("[host] apply_on_start = yes");
	return 0;
}

void sctl_host_reload(const struct memopt_config *cfg)
{
	uint64_t old = H.cfg ? H.cfg->host.interval_ms : 0;
	H.cfg = cfg;
	if (!H.active)
		return;
	if (H.timer >= 0 && cfg->host.interval_ms != old) {
		ev_cancel_timeout(H.timer);
		H.timer = ev_add_cycle("host", cfg->host.interval_ms, on_timer, NULL);
	}
	apply_at_start("configuration reloaded, [host] apply_on_start = yes");
}

int sctl_host_fini(bool restore)
{
	if (H.timer >= 0)
		ev_cancel_timeout(H.timer);
	H.timer = -1;
	bool was = H.active;
	H.active = false;
	if (!was || !H.st || count_mine() == 0)
		return 0;
	if (!restore) {
		char keys[64][ST_KEY_MAX];
		size_t n = 0;
		for (size_t i = 0; i < st_count(H.st) && n < 64; i++)
			if (strcmp(st_get(H.st, i)->owner, SCTL_OWNER) == 0)
				snprintf(keys[n++], ST_KEY_MAX, "%s", st_get(H.st, i)->key);
		for (size_t i = 0; i < n; i++) {
			log_notice("host: keeping %s as set (restore_on_stop = no)", keys[i]);
			st_forget(H.st, keys[i]);
		}
		return 0;
	}
	int r = st_restore(H.st, SCTL_OWNER, false);
	if (r > 0)
		log_err("host: %d host value(s) could not be restored; they stay in the journal for the next start", r);
	else if (r < 0)
		log_err("host: saving the journal after restoring failed: %s", strerror(-r));
	else
		log_info("host: original host values restored");
	return r < 0 ? 1 : r;
}

int sctl_host_knobs(struct sctl_host_knob *ret, size_t max, unsigned *ret_drifts)
{
	char jkey[ST_KEY_MAX];
	size_t n = 0;

	if (!H.active)
		return -ENOTCONN;
	for (size_t i = 0; i < H.nm && n < max; i++, n++) {
		const struct managed *m = &H.m[i];
		const struct st_entry *e;
		sctl_journal_key(m->item.key, jkey, sizeof(jkey));
		e = st_find(H.st, jkey);
		ret[n] = (struct sctl_host_knob){ .key = m->item.key, .applied = m->item.desired,
						  .original = e ? e->value : NULL, .yielded = m->state == M_YIELDED,
						  .reapplies = m->reapplies };
	}
	*ret_drifts = H.drifts;
	return (int)n;
}

const char *sctl_host_state(char *buf, size_t len)
{
	size_t applied = 0, yielded = 0;
	if (!H.active) {
		snprintf(buf, len, "unavailable");
		return buf;
	}
	for (size_t i = 0; i < H.nm; i++)
		*(H.m[i].state == M_YIELDED ? &yielded : &applied) += 1;
	snprintf(buf, len, "%zu knob(s) applied, %zu yielded, drift=%s%s", applied, yielded,
		 H.cfg->host.drift == HOST_DRIFT_REAPPLY ? "reapply" : "yield", H.cfg->host.manage ? "" : " (manage=no)");
	return buf;
}
