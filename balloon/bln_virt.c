/* bln_virt.c - libvirt adapter of the balloon controller: connection, keepalive, reconnect with backoff,
 * events through memopt's loop (common/virtloop.c), domain facts and statistics, balloon actuator. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "bln_virt.h"
#include "../common/cleanup.h"
#include "../common/log.h"
#include "../common/loop.h"

#define KEEPALIVE_INTERVAL_S 5
#define KEEPALIVE_COUNT 3
#define REFRESH_EVERY 60 /* lists between re-reads of a domain's XML, metadata and pid */
#define PENDING_MAX 256	 /* started domains waiting for their first refresh */

enum { EVT_LIFECYCLE, EVT_BALLOON, EVT_METADATA, EVT_N };

struct cache_ent {
	struct bvirt_dom d;
	bool stale; /* re-read the static facts at the next list */
};

struct bvirt {
	char uri[256];
	char run_dir[256];
	unsigned period_s;
	struct bvirt_callbacks cb;
	void *data;

	virConnectPtr conn;
	int evt[EVT_N]; /* libvirt callback ids, -1 none */
	bool close_cb;
	int64_t lost_timer; /* deferred teardown after the close callback */
	int64_t retry_timer;
	uint64_t retry_at_ms;
	uint64_t backoff_first_ms, backoff_max_ms, backoff_next_ms;

	int64_t work_timer; /* deferred refresh of started domains */
	char (*pending)[BVIRT_UUID_LEN];
	size_t npending;

	struct cache_ent *cache; /* sorted by uuid */
	size_t ncache;
	uint64_t lists;
	char err[512];
};

static void on_vir_error(void *data, virErrorPtr e)
{
	(void)data;
	if (e && e->message)
		log_debug("libvirt: %s", e->message);
}

static void vir_msg(struct bvirt *v, const char *what)
{
	const virError *e = virGetLastError();
	snprintf(v->err, sizeof(v->err), "%s: %s", what,
		 e && e->message ? e->message : "unknown libvirt error");
}

static void conn_lost(struct bvirt *v, const char *why);

/* Map the last libvirt error to -errno; a dead connection is torn down here (-ENOTCONN). */
static int vir_fail(struct bvirt *v, const char *what)
{
	const virError *e = virGetLastError();
	int code = e ? e->code : VIR_ERR_INTERNAL_ERROR;
	vir_msg(v, what);
	if (v->conn && virConnectIsAlive(v->conn) != 1) {
		conn_lost(v, v->err);
		return -ENOTCONN;
	}
	switch (code) {
	case VIR_ERR_NO_DOMAIN:
	case VIR_ERR_OPERATION_INVALID: /* "domain is not running" */
		return -ENOENT;
	case VIR_ERR_INVALID_ARG:
		return -EINVAL;
	case VIR_ERR_NO_SUPPORT:
	case VIR_ERR_OPERATION_UNSUPPORTED:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

/* ---- domain facts and statistics ---- */

static int cmp_ent(const void *a, const void *b)
{
	return strcmp(((const struct cache_ent *)a)->d.uuid, ((const struct cache_ent *)b)->d.uuid);
}

static int cmp_dom(const void *a, const void *b)
{
	return strcmp(((const struct bvirt_dom *)a)->uuid, ((const struct bvirt_dom *)b)->uuid);
}

static struct cache_ent *cache_find(struct bvirt *v, const char *uuid)
{
	struct cache_ent key;
	snprintf(key.d.uuid, sizeof(key.d.uuid), "%s", uuid);
	return v->ncache ? bsearch(&key, v->cache, v->ncache, sizeof(*v->cache), cmp_ent) : NULL;
}

static unsigned uuid_hash(const char *uuid)
{
	unsigned h = 0;
	for (; *uuid; uuid++)
		h = h * 31u + (unsigned char)*uuid;
	return h;
}

static void set_period(struct bvirt *v, virDomainPtr dom, struct bvirt_dom *d)
{
	d->period_set = false;
	if (v->period_s == 0)
		return;
	if (virDomainSetMemoryStatsPeriod(dom, (int)v->period_s, VIR_DOMAIN_AFFECT_LIVE) == 0) {
		d->period_set = true;
		return;
	}
	/* Expected without a balloon device (not worth bvirt_last_error()); a balloon domain without
	 * statistics is never shrunk. */
	if (d->has_balloon) {
		vir_msg(v, "virDomainSetMemoryStatsPeriod");
		log_warn("balloon: domain '%s': setting the statistics period failed, its statistics may go "
			 "stale: %s",
			 d->name, v->err);
	} else {
		log_debug("balloon: domain '%s' has no balloon device: %s", d->name,
			  virGetLastErrorMessage());
	}
}

/* Re-read what rarely changes: max memory, XML (balloon, min_guarantee), metadata, pid; set the period. */
static int refresh_static(struct bvirt *v, virDomainPtr dom, struct bvirt_dom *d)
{
	char warn[256];
	unsigned long maxm = virDomainGetMaxMemory(dom);
	if (maxm == 0)
		return vir_fail(v, "virDomainGetMaxMemory");
	d->max_kib = maxm;

	_cleanup_free_ char *xml = virDomainGetXMLDesc(dom, 0);
	if (!xml)
		return vir_fail(v, "virDomainGetXMLDesc");
	if (bvirt_parse_domain_xml(xml, &d->has_balloon, &d->min_guarantee_kib) < 0) {
		log_warn("balloon: domain '%s': cannot read its XML, treating it as without balloon",
			 d->name);
		d->has_balloon = false;
		d->min_guarantee_kib = 0;
	}

	memset(&d->meta, 0, sizeof(d->meta));
	d->meta.manage = -1;
	_cleanup_free_ char *meta =
	    virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, BVIRT_METADATA_NS, 0);
	if (meta) {
		if (bvirt_parse_metadata(meta, &d->meta, warn, sizeof(warn)) < 0)
			log_warn(
			    "balloon: domain '%s': memopt metadata is not XML we understand, ignoring it",
			    d->name);
		else if (warn[0])
			log_warn("balloon: domain '%s': memopt metadata: %s, ignoring those values", d->name,
				 warn);
	} else {
		const virError *e = virGetLastError();
		if (!e || e->code != VIR_ERR_NO_DOMAIN_METADATA) {
			int r = vir_fail(v, "virDomainGetMetadata");
			if (r == -ENOTCONN || r == -ENOENT)
				return r;
		}
	}

	d->qemu_pid = 0;
	if (bvirt_read_qemu_pid(v->run_dir, d->name, &d->qemu_pid) < 0)
		d->qemu_pid = 0;
	set_period(v, dom, d);
	return v->conn ? 0 : -ENOTCONN;
}

static int read_stats(struct bvirt *v, virDomainPtr dom, struct bvirt_dom *d)
{
	virDomainMemoryStatStruct s[VIR_DOMAIN_MEMORY_STAT_NR];
	struct bvirt_memstats *m = &d->st;
	int n = virDomainMemoryStats(dom, s, VIR_DOMAIN_MEMORY_STAT_NR, 0);

	memset(m, 0, sizeof(*m));
	if (n < 0)
		return vir_fail(v, "virDomainMemoryStats");
	for (int i = 0; i < n; i++) {
		unsigned long long x = s[i].val;
		switch (s[i].tag) {
		case VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON:
			m->actual_kib = x;
			m->have |= BVIRT_HAVE_ACTUAL;
			break;
		case VIR_DOMAIN_MEMORY_STAT_UNUSED:
			m->unused_kib = x;
			m->have |= BVIRT_HAVE_UNUSED;
			break;
		case VIR_DOMAIN_MEMORY_STAT_AVAILABLE:
			m->available_kib = x;
			m->have |= BVIRT_HAVE_AVAILABLE;
			break;
		case VIR_DOMAIN_MEMORY_STAT_USABLE:
			m->usable_kib = x;
			m->have |= BVIRT_HAVE_USABLE;
			break;
		case VIR_DOMAIN_MEMORY_STAT_DISK_CACHES:
			m->disk_caches_kib = x;
			m->have |= BVIRT_HAVE_DISK_CACHES;
			break;
		case VIR_DOMAIN_MEMORY_STAT_SWAP_IN:
			m->swap_in_kib = x;
			m->have |= BVIRT_HAVE_SWAP_IN;
			break;
		case VIR_DOMAIN_MEMORY_STAT_SWAP_OUT:
			m->swap_out_kib = x;
			m->have |= BVIRT_HAVE_SWAP_OUT;
			break;
		case VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT:
			m->major_faults = x;
			m->have |= BVIRT_HAVE_MAJOR_FAULT;
			break;
		case VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT:
			m->minor_faults = x;
			m->have |= BVIRT_HAVE_MINOR_FAULT;
			break;
		case VIR_DOMAIN_MEMORY_STAT_RSS:
			m->rss_kib = x;
			m->have |= BVIRT_HAVE_RSS;
			break;
		case VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE:
			m->last_update_s = x > INT64_MAX ? INT64_MAX : (int64_t)x;
			m->have |= BVIRT_HAVE_LAST_UPDATE;
			break;
		default:
			break;
		}
	}
	if (!(m->have & BVIRT_HAVE_ACTUAL)) {
		/* No balloon: the current size from the domain info (lags a setmem, see e2e-recipes G4). */
		virDomainInfo info;
		if (virDomainGetInfo(dom, &info) < 0)
			return vir_fail(v, "virDomainGetInfo");
		m->actual_kib = info.memory;
		m->have |= BVIRT_HAVE_ACTUAL;
	}
	return 0;
}

/* Identity of a domain handle. */
static int dom_ident(struct bvirt *v, virDomainPtr dom, struct bvirt_dom *d)
{
	const char *name = virDomainGetName(dom);
	if (virDomainGetUUIDString(dom, d->uuid) < 0 || !name)
		return vir_fail(v, "virDomainGetUUIDString");
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->id = virDomainGetID(dom) == (unsigned)-1 ? -1 : (int)virDomainGetID(dom);
	return 0;
}

int bvirt_list(struct bvirt *v, struct bvirt_dom **ret, size_t *ret_n)
{
	virDomainPtr *doms = NULL;
	struct bvirt_dom *out = NULL;
	struct cache_ent *nc = NULL;
	size_t k = 0;
	int n, r = 0;

	if (!v->conn)
		return -ENOTCONN;
	n = virConnectListAllDomains(v->conn, &doms, VIR_CONNECT_LIST_DOMAINS_RUNNING);
	if (n < 0)
		return vir_fail(v, "virConnectListAllDomains");
	out = calloc((size_t)n + 1, sizeof(*out));
	if (!out) {
		r = -ENOMEM;
		goto done;
	}
	v->lists++;
	for (int i = 0; i < n && v->conn; i++) {
		struct bvirt_dom *d = &out[k];
		struct cache_ent *ce;
		memset(d, 0, sizeof(*d));
		if (dom_ident(v, doms[i], d) < 0)
			continue;
		ce = cache_find(v, d->uuid);
		if (ce && !ce->stale && ce->d.id == d->id &&
		    (v->lists + uuid_hash(d->uuid)) % REFRESH_EVERY != 0) {
			*d = ce->d;
		} else {
			r = refresh_static(v, doms[i], d);
			if (r == -ENOTCONN)
				break;
			if (r < 0) { /* gone meanwhile, or unreadable: skip it this time */
				log_debug("balloon: skipping domain '%s': %s", d->name, v->err);
				r = 0;
				continue;
			}
		}
		r = read_stats(v, doms[i], d);
		if (r == -ENOTCONN)
			break;
		if (r < 0) {
			log_debug("balloon: no statistics for domain '%s': %s", d->name, v->err);
			r = 0;
			continue;
		}
		k++;
	}
	if (r < 0 || !v->conn) {
		r = r < 0 ? r : -ENOTCONN;
		goto done;
	}
	qsort(out, k, sizeof(*out), cmp_dom);
	nc = calloc(k + 1, sizeof(*nc));
	if (!nc) {
		r = -ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < k; i++)
		nc[i].d = out[i];
	free(v->cache);
	v->cache = nc;
	v->ncache = k;
	*ret = TAKE_PTR(out);
	*ret_n = k;
done:
	for (int i = 0; i < n; i++)
		virDomainFree(doms[i]);
	free(doms);
	free(out);
	return r;
}

static virDomainPtr lookup(struct bvirt *v, const char *uuid, int *ret_err)
{
	virDomainPtr dom;
	if (!v->conn) {
		*ret_err = -ENOTCONN;
		return NULL;
	}
	dom = virDomainLookupByUUIDString(v->conn, uuid);
	if (!dom)
		*ret_err = vir_fail(v, "virDomainLookupByUUIDString");
	return dom;
}

int bvirt_read_actual(struct bvirt *v, const char *uuid, uint64_t *ret_kib)
{
	struct bvirt_dom d = {0};
	int r = 0;
	virDomainPtr dom = lookup(v, uuid, &r);
	if (!dom)
		return r;
	r = read_stats(v, dom, &d);
	virDomainFree(dom);
	if (r < 0)
		return r;
	*ret_kib = d.st.actual_kib;
	return 0;
}

int bvirt_set_memory(struct bvirt *v, const char *uuid, uint64_t kib)
{
	int r = 0;
	virDomainPtr dom;
	if (kib > ULONG_MAX)
		return -EINVAL;
	dom = lookup(v, uuid, &r);
	if (!dom)
		return r;
	if (virDomainSetMemoryFlags(dom, (unsigned long)kib, VIR_DOMAIN_AFFECT_LIVE) < 0)
		r = vir_fail(v, "virDomainSetMemoryFlags");
	virDomainFree(dom);
	return r;
}

/* ---- events ---- */

static void on_work(void *data);

static void queue_refresh(struct bvirt *v, const char *uuid)
{
	for (size_t i = 0; i < v->npending; i++)
		if (strcmp(v->pending[i], uuid) == 0)
			return;
	if (v->npending < PENDING_MAX) {
		snprintf(v->pending[v->npending], BVIRT_UUID_LEN, "%s", uuid);
		v->npending++;
	}
	if (v->work_timer < 0)
		v->work_timer = ev_add_timeout(0, on_work, v);
}

/* Started domains: read their facts and set the statistics period now, not at the next cycle. Runs
 * outside libvirt's callbacks, so it may call libvirt. */
static void on_work(void *data)
{
	struct bvirt *v = data;
	v->work_timer = -1;
	while (v->npending > 0 && v->conn) {
		char uuid[BVIRT_UUID_LEN];
		struct bvirt_dom d = {0};
		int r = 0;
		memcpy(uuid, v->pending[--v->npending], sizeof(uuid));
		virDomainPtr dom = lookup(v, uuid, &r);
		if (!dom)
			continue;
		if (dom_ident(v, dom, &d) == 0 && refresh_static(v, dom, &d) == 0) {
			struct cache_ent *ce = cache_find(v, uuid);
			if (ce) {
				d.st = ce->d.st;
				ce->d = d;
				ce->stale = false;
			} else {
				struct cache_ent *x = realloc(v->cache, (v->ncache + 1) * sizeof(*x));
				if (x) {
					v->cache = x;
					memset(&x[v->ncache], 0, sizeof(*x));
					x[v->ncache++].d = d;
					qsort(v->cache, v->ncache, sizeof(*v->cache), cmp_ent);
				}
			}
		}
		virDomainFree(dom);
	}
}

static void on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
	struct bvirt *v = opaque;
	char uuid[BVIRT_UUID_LEN];
	const char *name = virDomainGetName(dom);
	(void)conn;
	if (virDomainGetUUIDString(dom, uuid) < 0)
		return;
	struct cache_ent *ce = cache_find(v, uuid);
	if (ce)
		ce->stale = true;
	if (event == VIR_DOMAIN_EVENT_STARTED)
		queue_refresh(v, uuid);
	if (v->cb.lifecycle)
		v->cb.lifecycle(v->data, uuid, name ? name : "", event, detail);
}

static void on_balloon_change(virConnectPtr conn, virDomainPtr dom, unsigned long long actual, void *opaque)
{
	struct bvirt *v = opaque;
	char uuid[BVIRT_UUID_LEN];
	(void)conn;
	if (virDomainGetUUIDString(dom, uuid) < 0)
		return;
	struct cache_ent *ce = cache_find(v, uuid);
	if (ce)
		ce->d.st.actual_kib = actual;
	if (v->cb.balloon_change)
		v->cb.balloon_change(v->data, uuid, actual);
}

static void on_metadata_change(virConnectPtr conn, virDomainPtr dom, int type, const char *nsuri,
			       void *opaque)
{
	struct bvirt *v = opaque;
	char uuid[BVIRT_UUID_LEN];
	(void)conn;
	if (type == VIR_DOMAIN_METADATA_ELEMENT && nsuri && strcmp(nsuri, BVIRT_METADATA_NS) != 0)
		return;
	if (virDomainGetUUIDString(dom, uuid) < 0)
		return;
	struct cache_ent *ce = cache_find(v, uuid);
	if (ce)
		ce->stale = true;
}

/* ---- connection, loss and reconnect ---- */

static void on_lost(void *data);

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct bvirt *v = opaque;
	static const char *const reasons[] = {"error", "end of file", "keepalive timeout", "client closed"};
	(void)conn;
	snprintf(v->err, sizeof(v->err), "connection closed: %s",
		 reason >= 0 && reason < (int)ELEMENTSOF(reasons) ? reasons[reason] : "unknown reason");
	/* Never tear down inside libvirt's callback (it holds the callback's lock): defer to the loop. */
	if (v->lost_timer < 0)
		v->lost_timer = ev_add_timeout(0, on_lost, v);
}

static void teardown(struct bvirt *v)
{
	if (!v->conn)
		return;
	for (int i = 0; i < EVT_N; i++)
		if (v->evt[i] >= 0)
			virConnectDomainEventDeregisterAny(v->conn, v->evt[i]);
	if (v->close_cb)
		virConnectUnregisterCloseCallback(v->conn, on_close);
	virConnectClose(v->conn);
	v->conn = NULL;
	v->close_cb = false;
	for (int i = 0; i < EVT_N; i++)
		v->evt[i] = -1;
	v->npending = 0;
}

static int do_connect(struct bvirt *v)
{
	v->conn = virConnectOpen(v->uri);
	if (!v->conn) {
		vir_msg(v, "virConnectOpen");
		return -ECONNREFUSED;
	}
	/* Local drivers (test://) have no keepalive; only remote connections need it. */
	if (virConnectSetKeepAlive(v->conn, KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT) < 0)
		log_debug("balloon: no keepalive on %s: %s", v->uri, virGetLastErrorMessage());
	v->close_cb = virConnectRegisterCloseCallback(v->conn, on_close, v, NULL) == 0;
	v->evt[EVT_LIFECYCLE] = virConnectDomainEventRegisterAny(
	    v->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), v, NULL);
	v->evt[EVT_BALLOON] =
	    virConnectDomainEventRegisterAny(v->conn, NULL, VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE,
					     VIR_DOMAIN_EVENT_CALLBACK(on_balloon_change), v, NULL);
	v->evt[EVT_METADATA] =
	    virConnectDomainEventRegisterAny(v->conn, NULL, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
					     VIR_DOMAIN_EVENT_CALLBACK(on_metadata_change), v, NULL);
	if (v->evt[EVT_LIFECYCLE] < 0)
		log_warn("balloon: no domain lifecycle events from %s (%s); started domains are found at the "
			 "next cycle",
			 v->uri, virGetLastErrorMessage());
	for (size_t i = 0; i < v->ncache; i++)
		v->cache[i].stale = true;
	v->err[0] = '\0';
	return 0;
}

static void on_retry(void *data);

static void schedule_retry(struct bvirt *v)
{
	uint64_t delay = v->backoff_next_ms;
	v->backoff_next_ms = delay * 2 > v->backoff_max_ms ? v->backoff_max_ms : delay * 2;
	v->retry_at_ms = ev_now_ms() + delay;
	v->retry_timer = ev_add_timeout(delay, on_retry, v);
}

static void on_retry(void *data)
{
	struct bvirt *v = data;
	v->retry_timer = -1;
	if (do_connect(v) == 0) {
		v->backoff_next_ms = v->backoff_first_ms;
		if (v->cb.connection)
			v->cb.connection(v->data, true, 0);
		return;
	}
	schedule_retry(v);
	if (v->cb.connection)
		v->cb.connection(v->data, false, v->retry_at_ms - ev_now_ms());
}

static void conn_lost(struct bvirt *v, const char *why)
{
	if (!v->conn)
		return;
	log_debug("balloon: connection to %s lost: %s", v->uri, why);
	teardown(v);
	if (v->retry_timer < 0)
		schedule_retry(v);
	if (v->cb.connection)
		v->cb.connection(v->data, false, bvirt_retry_in_ms(v));
}

static void on_lost(void *data)
{
	struct bvirt *v = data;
	v->lost_timer = -1;
	conn_lost(v, v->err);
}

int bvirt_new(const struct bvirt_opts *o, const struct bvirt_callbacks *cb, void *data, struct bvirt **ret)
{
	static bool error_handler_set;
	struct bvirt *v;

	if (!o->uri || !o->uri[0] || strlen(o->uri) >= sizeof(v->uri))
		return -EINVAL;
	if (!error_handler_set) {
		virSetErrorFunc(NULL, on_vir_error);
		error_handler_set = true;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->pending = calloc(PENDING_MAX, sizeof(*v->pending));
	if (!v->pending) {
		free(v);
		return -ENOMEM;
	}
	snprintf(v->uri, sizeof(v->uri), "%s", o->uri);
	snprintf(v->run_dir, sizeof(v->run_dir), "%s",
		 o->qemu_run_dir ? o->qemu_run_dir : BVIRT_QEMU_RUN_DIR);
	v->period_s = o->stats_period_s;
	if (cb)
		v->cb = *cb;
	v->data = data;
	for (int i = 0; i < EVT_N; i++)
		v->evt[i] = -1;
	v->lost_timer = v->retry_timer = v->work_timer = -1;
	v->backoff_first_ms = v->backoff_next_ms = BVIRT_BACKOFF_FIRST_MS;
	v->backoff_max_ms = BVIRT_BACKOFF_MAX_MS;
	if (do_connect(v) < 0)
		schedule_retry(v);
	*ret = v;
	return 0;
}

void bvirt_free(struct bvirt *v)
{
	if (!v)
		return;
	if (v->lost_timer >= 0)
		ev_cancel_timeout(v->lost_timer);
	if (v->retry_timer >= 0)
		ev_cancel_timeout(v->retry_timer);
	if (v->work_timer >= 0)
		ev_cancel_timeout(v->work_timer);
	teardown(v);
	free(v->cache);
	free(v->pending);
	free(v);
}

bool bvirt_is_connected(const struct bvirt *v)
{
	return v && v->conn;
}

const char *bvirt_uri(const struct bvirt *v)
{
	return v->uri;
}

uint64_t bvirt_retry_in_ms(const struct bvirt *v)
{
	uint64_t now = ev_now_ms();
	if (v->conn || v->retry_timer < 0 || v->retry_at_ms <= now)
		return 0;
	return v->retry_at_ms - now;
}

const char *bvirt_last_error(const struct bvirt *v)
{
	return v->err;
}

void bvirt_set_stats_period(struct bvirt *v, unsigned period_s)
{
	if (v->period_s == period_s)
		return;
	v->period_s = period_s;
	/* Re-read every domain at the next list, which sets the new period. */
	for (size_t i = 0; i < v->ncache; i++)
		v->cache[i].stale = true;
}

void bvirt_test_drop(struct bvirt *v)
{
	if (v->conn)
		on_close(v->conn, VIR_CONNECT_CLOSE_REASON_EOF, v);
}

void bvirt_test_set_backoff(struct bvirt *v, uint64_t first_ms, uint64_t max_ms)
{
	v->backoff_first_ms = v->backoff_next_ms = first_ms;
	v->backoff_max_ms = max_ms;
}

uint64_t bvirt_test_next_backoff_ms(const struct bvirt *v)
{
	return v->backoff_next_ms;
}

void *bvirt_test_conn(struct bvirt *v)
{
	return v->conn;
}
