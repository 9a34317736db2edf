/* test_bln_virt.c - the balloon controller's libvirt adapter and module glue against libvirt's test driver
 * (test:///ABS/tests/fixtures/libvirt/node.xml), run under memopt's real event loop. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <libvirt/libvirt.h>

#include "balloon/bln_ctl.h"
#include "balloon/bln_report.h"
#include "balloon/bln_virt.h"
#include "common/cleanup.h"
#include "common/config.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/virtloop.h"

#define UNUSED __attribute__((unused))
#define MIB 1024ULL
#define GIB (1024ULL * 1024)

#define UUID_A "6695eb01-f6a4-8304-79aa-97f2502e193f"
#define UUID_B "21d833a6-644b-4afd-b26f-3ebaa8a65084"
#define UUID_C "e8bebf2e-83aa-4968-b54a-e2e65f2ea7f6"
#define UUID_D "0f3c9d1e-5b7a-4c2e-9d8f-1a2b3c4d5e6f"
#define UUID_E "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
#define TEST_LAST_UPDATE 627319920 /* the test driver's fixed last_update */

static char fixdir[1024];
static char node_uri[1100];
static char rundir[1100];

/* ---- event loop helpers ---- */

static bool (*until_fn)(void);
static int64_t tick_id = -1;

static void tick(void *d UNUSED)
{
	tick_id = -1;
	if (until_fn && until_fn())
		ev_quit(0);
	else
		tick_id = ev_add_timeout(5, tick, NULL);
}

static void deadline(void *d UNUSED)
{
	ev_quit(1);
}

/* Run the loop until cond() holds (true) or max_ms passed (false). cond NULL: run for max_ms. */
static bool run_until(bool (*cond)(void), uint64_t max_ms)
{
	int64_t dl;
	int r;

	until_fn = cond;
	tick_id = cond ? ev_add_timeout(0, tick, NULL) : -1;
	dl = ev_add_timeout(max_ms, deadline, NULL);
	r = ev_run();
	ev_cancel_timeout(dl);
	if (tick_id >= 0)
		ev_cancel_timeout(tick_id);
	tick_id = -1;
	until_fn = NULL;
	return cond ? r == 0 : true;
}

/* ---- adapter callbacks recorded by the tests ---- */

static struct {
	int nconn;
	bool connected;
	uint64_t retry[16];
	size_t nretry;
	int nstarted, nstopped;
	char started[BLN_NAME_MAX];
} ev;

static void cb_connection(void *data UNUSED, bool connected, uint64_t retry_in_ms)
{
	ev.nconn++;
	ev.connected = connected;
	if (!connected && ev.nretry < ELEMENTSOF(ev.retry))
		ev.retry[ev.nretry++] = retry_in_ms;
}

static void cb_lifecycle(void *data UNUSED, const char *uuid UNUSED, const char *name, int event,
			 int detail UNUSED)
{
	if (event == VIR_DOMAIN_EVENT_STARTED) {
		ev.nstarted++;
		snprintf(ev.started, sizeof(ev.started), "%s", name);
	} else if (event == VIR_DOMAIN_EVENT_STOPPED) {
		ev.nstopped++;
	}
}

static const struct bvirt_callbacks cbs = {
    .connection = cb_connection,
    .lifecycle = cb_lifecycle,
};

/* libvirt hands callback data back through loop timers (common/virtloop.c defers the frees): run them. */
static void close_adapter(struct bvirt *v)
{
	bvirt_free(v);
	run_until(NULL, 5);
}

static void stop_module(void)
{
	bln_fini();
	run_until(NULL, 5);
}

static struct bvirt *open_node(const char *uri)
{
	struct bvirt_opts o = {.uri = uri, .stats_period_s = 2, .qemu_run_dir = rundir};
	struct bvirt *v = NULL;

	memset(&ev, 0, sizeof(ev));
	assert_int_equal(bvirt_new(&o, &cbs, NULL, &v), 0);
	assert_non_null(v);
	return v;
}

static const struct bvirt_dom *find(const struct bvirt_dom *d, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].name, name) == 0)
			return &d[i];
	fail_msg("domain %s not listed", name);
	return NULL;
}

/* ---- pure parsers ---- */

static void test_parse_domain_xml(void **state UNUSED)
{
	static const struct {
		const char *xml;
		int r;
		bool balloon;
		uint64_t min_g;
	} cases[] = {
	    {"<domain><devices><memballoon model='virtio'/></devices></domain>", 0, true, 0},
	    {"<domain><devices><memballoon model=\"virtio-non-transitional\"><stats period='2'/></memballoon>"
	     "</devices></domain>",
	     0, true, 0},
	    {"<domain><devices><memballoon model='none'/></devices></domain>", 0, false, 0},
	    {"<domain><devices></devices></domain>", 0, false, 0},
	    {"<domain><memtune><min_guarantee unit='KiB'>262144</min_guarantee></memtune></domain>", 0, false,
	     262144},
	    {"<domain><memtune><min_guarantee>1024</min_guarantee></memtune></domain>", 0, false, 1024},
	    {"<domain><memtune><min_guarantee unit='MiB'> 512 </min_guarantee></memtune></domain>", 0, false,
	     512 * MIB},
	    {"<domain><memtune><min_guarantee unit='bytes'>1048576</min_guarantee></memtune></domain>", 0,
	     false, 1024},
	    /* Look-alikes in the wrong place, in comments, CDATA or quoted '>' do not count. */
	    {"<?xml version='1.0'?><domain><metadata><x:a xmlns:x='u'><devices><memballoon model='virtio'/>"
	     "</devices></x:a></metadata><devices/></domain>",
	     0, false, 0},
	    {"<domain><!-- <devices><memballoon model='virtio'/></devices> --><devices/></domain>", 0, false,
	     0},
	    {"<domain><description><![CDATA[<memballoon model='virtio'/>]]></description></domain>", 0, false,
	     0},
	    {"<domain><title a='x>y'>t</title><devices><memballoon model='virtio'/></devices></domain>", 0,
	     true, 0},
	    /* Refused. */
	    {"", -EINVAL, false, 0},
	    {"<domain><devices>", -EINVAL, false, 0},
	    {"<domain></devices></domain></x>", -EINVAL, false, 0},
	    {"<notdomain/>", -EINVAL, false, 0},
	    {"<domain/><domain/>", -EINVAL, false, 0},
	    {"<domain><memtune><min_guarantee unit='KiB'>-5</min_guarantee></memtune></domain>", -EINVAL,
	     false, 0},
	    {"<domain><memtune><min_guarantee "
	     "unit='KiB'>99999999999999999999999</min_guarantee></memtune></domain>",
	     -EINVAL, false, 0},
	    {"<domain><devices><memballoon model='virtio/></devices></domain>", -EINVAL, false, 0},
	    {"<domain><!-- unterminated", -EINVAL, false, 0},
	    {"<domain>< ></domain>", -EINVAL, false, 0},
	};
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		bool b = !cases[i].balloon;
		uint64_t m = 77;
		int r = bvirt_parse_domain_xml(cases[i].xml, &b, &m);
		if (r != cases[i].r)
			fail_msg("case %zu: r=%d, want %d: %s", i, r, cases[i].r, cases[i].xml);
		if (r == 0) {
			assert_int_equal(b, cases[i].balloon);
			assert_int_equal(m, cases[i].min_g);
		} else {
			/* ret_ untouched on failure */
			assert_int_equal(b, !cases[i].balloon);
			assert_int_equal(m, 77);
		}
	}
	assert_int_equal(bvirt_parse_domain_xml(NULL, &(bool){0}, &(uint64_t){0}), -EINVAL);

	/* Deep nesting is refused, not overflowed. */
	char deep[2048] = "<domain>";
	for (int i = 0; i < 40; i++)
		strcat(deep, "<a>");
	assert_int_equal(bvirt_parse_domain_xml(deep, &(bool){0}, &(uint64_t){0}), -EINVAL);
}

static void test_parse_metadata(void **state UNUSED)
{
	struct bvirt_meta m;
	char warn[256];

	assert_int_equal(bvirt_parse_metadata("<balloon floor=\"2G\" shares='2000' manage=\"no\"/>", &m, warn,
					      sizeof(warn)),
			 0);
	assert_true(m.present);
	assert_true(m.has_floor);
	assert_false(m.floor.is_percent);
	assert_int_equal(m.floor.kib, 2 * GIB);
	assert_int_equal(m.shares, 2000);
	assert_int_equal(m.manage, 0);
	assert_string_equal(warn, "");

	assert_int_equal(
	    bvirt_parse_metadata("<memopt:balloon xmlns:memopt='https://memopt.org/xmlns/balloon/1' "
				 "floor='25%'/>",
				 &m, warn, sizeof(warn)),
	    0);
	assert_true(m.floor.is_percent);
	assert_int_equal(m.floor.ppm, 250000);
	assert_int_equal(m.shares, 0);
	assert_int_equal(m.manage, -1);

	/* Bad values: ignored, each named in the warning; good ones kept. */
	assert_int_equal(bvirt_parse_metadata("<balloon floor='lots' shares='-5' manage='perhaps'/>", &m,
					      warn, sizeof(warn)),
			 0);
	assert_false(m.has_floor);
	assert_int_equal(m.shares, 0);
	assert_int_equal(m.manage, -1);
	assert_string_equal(warn, "floor='lots' is not a size or a percentage; shares='-5' is not an integer "
				  "1..100000; manage='perhaps' is not yes or no");
	assert_int_equal(bvirt_parse_metadata("<balloon floor='150%' shares='100001' manage='yes'/>", &m,
					      warn, sizeof(warn)),
			 0);
	assert_false(m.has_floor);
	assert_int_equal(m.shares, 0);
	assert_int_equal(m.manage, 1);
	assert_int_equal(bvirt_parse_metadata("<balloon floor='1&amp;G'/>", &m, NULL, 0), 0);
	assert_false(m.has_floor);

	assert_int_equal(bvirt_parse_metadata("not xml", &m, warn, sizeof(warn)), -EINVAL);
	assert_int_equal(bvirt_parse_metadata("<balloon floor='1G/>", &m, warn, sizeof(warn)), -EINVAL);
	assert_int_equal(bvirt_parse_metadata("<balloon floor=1G/>", &m, warn, sizeof(warn)), 0);
	assert_false(m.has_floor);
	assert_int_equal(bvirt_parse_metadata("<balloon floor='&bogus;'/>", &m, warn, sizeof(warn)), 0);
	assert_false(m.has_floor);
}

static void test_qemu_pid(void **state UNUSED)
{
	pid_t pid = 99;

	assert_int_equal(bvirt_read_qemu_pid(rundir, "vm-a", &pid), 0);
	assert_int_equal(pid, 4242);
	assert_int_equal(bvirt_read_qemu_pid(rundir, "vm-b", &pid), 0); /* no trailing newline */
	assert_int_equal(pid, 4343);
	pid = 99;
	assert_int_equal(bvirt_read_qemu_pid(rundir, "vm-d", &pid), -EINVAL);
	assert_int_equal(bvirt_read_qemu_pid(rundir, "vm-e", &pid), -EINVAL);
	assert_int_equal(bvirt_read_qemu_pid(rundir, "vm-c", &pid), -ENOENT);
	assert_int_equal(bvirt_read_qemu_pid(rundir, "../run/vm-a", &pid), -EINVAL);
	assert_int_equal(bvirt_read_qemu_pid(rundir, "..", &pid), -EINVAL);
	assert_int_equal(bvirt_read_qemu_pid(rundir, "", &pid), -EINVAL);
	assert_int_equal(pid, 99);
}

/* ---- against the test driver ---- */

static void test_list_and_stats(void **state UNUSED)
{
	struct bvirt *v = open_node(node_uri);
	_cleanup_free_ struct bvirt_dom *d = NULL;
	const struct bvirt_dom *a, *b, *c, *dd, *e;
	size_t n = 0;

	assert_true(bvirt_is_connected(v));
	assert_string_equal(bvirt_uri(v), node_uri);
	assert_int_equal(bvirt_retry_in_ms(v), 0);
	assert_int_equal(bvirt_list(v, &d, &n), 0);
	assert_int_equal(n, 5);
	/* Sorted by UUID. */
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(d[i - 1].uuid, d[i].uuid) < 0);

	a = find(d, n, "vm-a");
	assert_string_equal(a->uuid, UUID_A);
	assert_int_equal(a->max_kib, 1 * GIB);
	assert_true(a->has_balloon);
	assert_true(a->period_set);
	assert_int_equal(a->min_guarantee_kib, 256 * MIB);
	assert_false(a->meta.present);
	assert_int_equal(a->qemu_pid, 4242);
	/* The test driver's synthetic statistics: actual = current, usable = unused = rss = current / 2. */
	assert_int_equal(a->st.actual_kib, 512 * MIB);
	assert_int_equal(a->st.usable_kib, 256 * MIB);
	assert_int_equal(a->st.unused_kib, 256 * MIB);
	assert_int_equal(a->st.available_kib, 512 * MIB);
	assert_int_equal(a->st.disk_caches_kib, 64 * MIB);
	assert_int_equal(a->st.last_update_s, TEST_LAST_UPDATE);
	assert_int_equal(a->st.swap_in_kib, 0);
	assert_true((a->st.have &
		     (BVIRT_HAVE_ACTUAL | BVIRT_HAVE_USABLE | BVIRT_HAVE_UNUSED | BVIRT_HAVE_AVAILABLE |
		      BVIRT_HAVE_DISK_CACHES | BVIRT_HAVE_LAST_UPDATE | BVIRT_HAVE_RSS | BVIRT_HAVE_SWAP_IN |
		      BVIRT_HAVE_SWAP_OUT | BVIRT_HAVE_MAJOR_FAULT | BVIRT_HAVE_MINOR_FAULT)) ==
		    (BVIRT_HAVE_ACTUAL | BVIRT_HAVE_USABLE | BVIRT_HAVE_UNUSED | BVIRT_HAVE_AVAILABLE |
		     BVIRT_HAVE_DISK_CACHES | BVIRT_HAVE_LAST_UPDATE | BVIRT_HAVE_RSS | BVIRT_HAVE_SWAP_IN |
		     BVIRT_HAVE_SWAP_OUT | BVIRT_HAVE_MAJOR_FAULT | BVIRT_HAVE_MINOR_FAULT));

	b = find(d, n, "vm-b");
	assert_true(b->meta.present);
	assert_true(b->meta.has_floor);
	assert_int_equal(b->meta.floor.kib, 1 * GIB);
	assert_int_equal(b->meta.shares, 2000);
	assert_int_equal(b->meta.manage, 1);
	assert_int_equal(b->min_guarantee_kib, 512 * MIB);
	assert_true(b->has_balloon); /* the look-alike inside <metadata> is not what made it true */
	assert_int_equal(b->qemu_pid, 4343);

	/* No balloon: the statistics period fails cleanly, the domain is still listed with its size. */
	c = find(d, n, "vm-c");
	assert_false(c->has_balloon);
	assert_false(c->period_set);
	assert_int_equal(c->st.have, BVIRT_HAVE_ACTUAL);
	assert_int_equal(c->st.actual_kib, 512 * MIB);
	assert_int_equal(c->max_kib, 512 * MIB);
	assert_int_equal(c->qemu_pid, 0);

	dd = find(d, n, "vm-d");
	assert_true(dd->meta.present);
	assert_false(dd->meta.has_floor);
	assert_int_equal(dd->meta.shares, 0);
	assert_int_equal(dd->meta.manage, 0);
	assert_int_equal(dd->qemu_pid, 0); /* garbled pid file */

	e = find(d, n, "vm-e");
	assert_int_equal(e->meta.floor.kib, 8 * GIB);

	/* A second list comes from the cache for the static facts and gives the same answer. */
	_cleanup_free_ struct bvirt_dom *d2 = NULL;
	size_t n2 = 0;
	assert_int_equal(bvirt_list(v, &d2, &n2), 0);
	assert_int_equal(n2, n);
	assert_memory_equal(d2, d, n * sizeof(*d));
	close_adapter(v);
}

static void test_floors(void **state UNUSED)
{
	static const char conf[] = "[balloon]\nfloor = 25%\nshares = 700\n"
				   "[vm vm-a]\nfloor = 300M\nshares = 1500\n"
				   "[vm vm-b]\nfloor = 100M\nshares = 3000\nmanage = no\n"
				   "[vm 9A8B7C6D-*]\nmanage = no\nshares = 50\n";
	struct bvirt *v = open_node(node_uri);
	_cleanup_free_ struct bvirt_dom *d = NULL;
	struct memopt_config cfg;
	struct bln_bounds bb;
	char err[CFG_ERR_MAX];
	size_t n = 0;

	cfg_defaults(&cfg);
	assert_int_equal(cfg_parse_string("floors.conf", conf, &cfg, err, sizeof(err)), 0);
	assert_int_equal(bvirt_list(v, &d, &n), 0);

	/* config beats <min_guarantee> */
	bln_resolve_bounds(&cfg, find(d, n, "vm-a"), &bb);
	assert_int_equal(bb.floor_kib, 300 * MIB);
	assert_string_equal(bb.floor_source, "config");
	assert_int_equal(bb.shares, 1500);
	assert_true(bb.managed);
	assert_string_equal(bb.manage_source, "default");

	/* metadata beats config, for floor, shares and manage */
	bln_resolve_bounds(&cfg, find(d, n, "vm-b"), &bb);
	assert_int_equal(bb.floor_kib, 1 * GIB);
	assert_string_equal(bb.floor_source, "metadata");
	assert_int_equal(bb.shares, 2000);
	assert_true(bb.managed);
	assert_string_equal(bb.manage_source, "metadata");

	/* nothing specific: the [balloon] default, a percentage of the guest's max */
	bln_resolve_bounds(&cfg, find(d, n, "vm-c"), &bb);
	assert_int_equal(bb.floor_kib, 128 * MIB);
	assert_string_equal(bb.floor_source, "default");
	assert_int_equal(bb.shares, 700);

	/* bad metadata values are ignored (default floor), manage="no" is honoured */
	bln_resolve_bounds(&cfg, find(d, n, "vm-d"), &bb);
	assert_string_equal(bb.floor_source, "default");
	assert_int_equal(bb.floor_kib, 256 * MIB);
	assert_false(bb.managed);
	assert_string_equal(bb.manage_source, "metadata");

	/* a floor is never above max; a UUID glob matches (case-insensitively) */
	bln_resolve_bounds(&cfg, find(d, n, "vm-e"), &bb);
	assert_int_equal(bb.floor_kib, 1 * GIB);
	assert_string_equal(bb.floor_source, "metadata");
	assert_false(bb.managed);
	assert_string_equal(bb.manage_source, "config");
	assert_int_equal(bb.shares, 50);

	/* without config: <min_guarantee> beats the default */
	cfg_defaults(&cfg);
	bln_resolve_bounds(&cfg, find(d, n, "vm-a"), &bb);
	assert_int_equal(bb.floor_kib, 256 * MIB);
	assert_string_equal(bb.floor_source, "min_guarantee");
	assert_int_equal(bb.shares, 1000);
	close_adapter(v);
}

static void test_set_memory(void **state UNUSED)
{
	struct bvirt *v = open_node(node_uri);
	_cleanup_free_ struct bvirt_dom *d = NULL;
	uint64_t kib = 0;
	size_t n = 0;

	assert_int_equal(bvirt_read_actual(v, UUID_A, &kib), 0);
	assert_int_equal(kib, 512 * MIB);
	assert_int_equal(bvirt_set_memory(v, UUID_A, 768 * MIB), 0);
	assert_int_equal(bvirt_read_actual(v, UUID_A, &kib), 0);
	assert_int_equal(kib, 768 * MIB);
	assert_int_equal(bvirt_list(v, &d, &n), 0);
	assert_int_equal(find(d, n, "vm-a")->st.actual_kib, 768 * MIB);
	assert_int_equal(find(d, n, "vm-a")->st.usable_kib, 384 * MIB);

	/* Above max: refused with libvirt's reason; the size is unchanged. */
	assert_int_equal(bvirt_set_memory(v, UUID_A, 2 * GIB), -EINVAL);
	assert_non_null(strstr(bvirt_last_error(v), "virDomainSetMemoryFlags"));
	assert_int_equal(bvirt_read_actual(v, UUID_A, &kib), 0);
	assert_int_equal(kib, 768 * MIB);

	/* Unknown domain. */
	assert_int_equal(bvirt_set_memory(v, "00000000-0000-4000-8000-000000000000", 1 * GIB), -ENOENT);
	assert_int_equal(bvirt_read_actual(v, "00000000-0000-4000-8000-000000000000", &kib), -ENOENT);
	assert_true(bvirt_is_connected(v));
	close_adapter(v);
}

static bool started_seen(void)
{
	return ev.nstarted > 0;
}

static bool stopped_seen(void)
{
	return ev.nstopped > 0;
}

static void test_lifecycle_events(void **state UNUSED)
{
	struct bvirt *v = open_node(node_uri);
	_cleanup_free_ char *xml = NULL;
	_cleanup_free_ struct bvirt_dom *d = NULL;
	char path[PATH_MAX + 32];
	virDomainPtr dom;
	size_t n = 0, len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/transient.xml", fixdir);
	f = fopen(path, "re");
	assert_non_null(f);
	assert_int_equal(getdelim(&xml, &len, '\0', f) > 0, 1);
	fclose(f);

	/* Created on the adapter's own connection (the test driver's state is per connection). */
	dom = virDomainCreateXML(bvirt_test_conn(v), xml, 0);
	assert_non_null(dom);
	assert_int_equal(ev.nstarted, 0); /* delivered through the loop, not synchronously */
	assert_true(run_until(started_seen, 2000));
	assert_string_equal(ev.started, "vm-new");
	/* The STARTED handler refreshed the domain (and set its period) right away. */
	run_until(NULL, 20);
	assert_int_equal(bvirt_list(v, &d, &n), 0);
	assert_int_equal(n, 6);
	assert_true(find(d, n, "vm-new")->period_set);
	assert_int_equal(find(d, n, "vm-new")->max_kib, 768 * MIB);

	assert_int_equal(virDomainDestroy(dom), 0);
	virDomainFree(dom);
	assert_true(run_until(stopped_seen, 2000));
	free(d);
	d = NULL;
	assert_int_equal(bvirt_list(v, &d, &n), 0);
	assert_int_equal(n, 5);
	close_adapter(v);
}

static bool is_connected(void)
{
	return ev.connected;
}

static bool is_disconnected(void)
{
	return ev.nconn > 0 && !ev.connected;
}

static bool three_failures(void)
{
	return ev.nretry >= 4;
}

static void test_reconnect(void **state UNUSED)
{
	char tmp[] = "/tmp/memopt-bvirt-XXXXXX", node[64], moved[64], cmd[PATH_MAX + 128], uri[96];
	_cleanup_free_ struct bvirt_dom *d = NULL;
	struct bvirt *v;
	size_t n = 0;

	assert_non_null(mkdtemp(tmp));
	snprintf(node, sizeof(node), "%s/node.xml", tmp);
	snprintf(moved, sizeof(moved), "%s/away.xml", tmp);
	snprintf(cmd, sizeof(cmd), "cp %s/node.xml %s", fixdir, node);
	assert_int_equal(system(cmd), 0);
	snprintf(uri, sizeof(uri), "test://%s", node);

	/* Defaults: 1 s first, doubling to 30 s. A lost connection is retried after 1 s. */
	v = open_node(uri);
	assert_true(bvirt_is_connected(v));
	assert_int_equal(bvirt_test_next_backoff_ms(v), BVIRT_BACKOFF_FIRST_MS);
	bvirt_test_drop(v);
	assert_true(bvirt_is_connected(v)); /* torn down on the loop, never inside libvirt's callback */
	assert_true(run_until(is_disconnected, 1000));
	assert_false(bvirt_is_connected(v));
	assert_int_equal(bvirt_list(v, &d, &n), -ENOTCONN);
	assert_int_equal(bvirt_set_memory(v, UUID_A, GIB), -ENOTCONN);
	assert_true(ev.retry[0] > 900 && ev.retry[0] <= 1000);
	assert_true(bvirt_retry_in_ms(v) > 800 && bvirt_retry_in_ms(v) <= 1000);
	assert_int_equal(bvirt_test_next_backoff_ms(v), 2000);
	assert_true(run_until(is_connected, 3000));
	assert_true(bvirt_is_connected(v));
	assert_int_equal(bvirt_test_next_backoff_ms(v), BVIRT_BACKOFF_FIRST_MS);
	assert_int_equal(bvirt_list(v, &d, &n), 0);
	assert_int_equal(n, 5);

	/* While the "daemon" stays away the delay doubles up to the cap; then it comes back. */
	bvirt_test_set_backoff(v, 20, 80);
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(rename(node, moved), 0);
	bvirt_test_drop(v);
	assert_true(run_until(three_failures, 3000));
	assert_false(bvirt_is_connected(v));
	assert_true(ev.retry[0] <= 20 && ev.retry[0] > 10);
	assert_true(ev.retry[1] <= 40 && ev.retry[1] > 30);
	assert_true(ev.retry[2] <= 80 && ev.retry[2] > 70);
	assert_true(ev.retry[3] <= 80 && ev.retry[3] > 70);
	assert_non_null(strstr(bvirt_last_error(v), "virConnectOpen"));
	assert_int_equal(rename(moved, node), 0);
	assert_true(run_until(is_connected, 2000));
	assert_int_equal(bvirt_test_next_backoff_ms(v), 20);
	free(d);
	d = NULL;
	assert_int_equal(bvirt_list(v, &d, &n), 0);
	assert_int_equal(n, 5);
	close_adapter(v);

	/* A URI that never answers: not an error at start, retried with backoff. */
	memset(&ev, 0, sizeof(ev));
	snprintf(uri, sizeof(uri), "test://%s/missing.xml", tmp);
	v = open_node(uri);
	assert_false(bvirt_is_connected(v));
	assert_true(bvirt_retry_in_ms(v) > 900 && bvirt_retry_in_ms(v) <= 1000);
	close_adapter(v);

	unlink(node);
	rmdir(tmp);
}

/* ---- the module: acquire -> decide -> act on the loop ---- */

static struct memopt_config *module_cfg(const char *extra)
{
	static struct memopt_config cfg;
	char text[4096], err[CFG_ERR_MAX];

	snprintf(text, sizeof(text),
		 "[daemon]\nprocfs_root = %s/../proc-basic\n"
		 "[balloon]\nuri = %s\ninterval = 1s\n"
		 /* a host that is neither short nor roomy: only forced and manual moves happen */
		 "host_min_avail = 1%%\nhost_release_avail = 100%%\nhost_psi = 50%%\n"
		 "[vm vm-a]\nfloor = 300M\n%s",
		 fixdir, node_uri, extra);
	cfg_defaults(&cfg);
	if (cfg_parse_string("module.conf", text, &cfg, err, sizeof(err)) < 0 ||
	    cfg_validate(&cfg, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return &cfg;
}

static const struct bln_vm *view_vm(const char *name)
{
	struct bln_view v;
	assert_true(bln_get_view(&v));
	for (size_t i = 0; i < v.n; i++)
		if (strcmp(v.vms[i].dom.name, name) == 0)
			return &v.vms[i];
	fail_msg("%s not in the view", name);
	return NULL;
}

static bool view_ready(void)
{
	struct bln_view v;
	return bln_get_view(&v) && v.n == 5 && v.last_cycle_ms > 0;
}

static uint64_t want_kib;
static bool vm_b_at_want(void)
{
	return view_vm("vm-b")->dom.st.actual_kib == want_kib;
}

static bool vm_b_target_set(void)
{
	return view_vm("vm-b")->target_kib == want_kib;
}

static void test_module(void **state UNUSED)
{
	const struct bln_vm *vm;
	const struct bln_vm *ret;
	struct dlog_entry log[DLOG_RING_SIZE];
	char err[256], buf[160];
	size_t nlog;

	assert_string_equal(bln_state(buf, sizeof(buf)), "unavailable");
	assert_int_equal(bln_init(module_cfg("[balloon]\nmanage = yes\n")), 0);
	assert_true(run_until(view_ready, 2000));
	assert_non_null(strstr(bln_state(buf, sizeof(buf)), "connected to test://"));
	assert_non_null(strstr(buf, "5 guests"));

	/* What the controller sees: bounds, freshness (the test driver's last_update never moves). */
	vm = view_vm("vm-a");
	assert_int_equal(vm->b.floor_kib, 300 * MIB);
	assert_string_equal(vm->b.floor_source, "config");
	assert_true(vm->balloon_ok);
	assert_false(vm->stats_fresh);
	assert_int_equal(vm->usable_kib, 256 * MIB);
	assert_string_equal(vm->last.action, "keep");
	assert_true(vm->last.reason[0] != '\0');
	assert_false(view_vm("vm-c")->balloon_ok);
	assert_false(view_vm("vm-d")->b.managed);

	/* Manual targets are validated: bounds, opt-out, balloon, name. */
	assert_int_equal(bln_set_manual("vm-a", 100 * MIB, &ret, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "size 100.0 MiB is outside the bounds of 'vm-a': floor 300.0 MiB (config) .. max "
			    "1024.0 MiB");
	assert_int_equal(bln_set_manual("vm-a", 2 * GIB, &ret, err, sizeof(err)), -EINVAL);
	assert_int_equal(bln_set_manual("vm-d", 512 * MIB, &ret, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "domain 'vm-d' is opted out of ballooning (manage = no, from metadata)");
	assert_int_equal(bln_set_manual("vm-c", 400 * MIB, &ret, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "domain 'vm-c' has no virtio balloon device");
	assert_int_equal(bln_set_manual("nope", 400 * MIB, &ret, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "no running domain named 'nope' (memoptctl guests lists them)");

	/* A manual grow is applied at once (by UUID here), and logged with its reason. */
	assert_int_equal(bln_set_manual(UUID_B, 1536 * MIB, &ret, err, sizeof(err)), 0);
	assert_string_equal(ret->dom.name, "vm-b");
	want_kib = 1536 * MIB;
	assert_true(run_until(vm_b_target_set, 2000));
	vm = view_vm("vm-b");
	assert_int_equal(vm->target_kib, 1536 * MIB);
	assert_int_equal(vm->manual_target_kib, 1536 * MIB);
	assert_non_null(strstr(vm->change.action, "grow 1024.0 -> 1536.0 MiB"));
	nlog = dlog_get(log, ELEMENTSOF(log), 0);
	assert_true(nlog >= 2);
	assert_string_equal(log[nlog - 1].subsys, "balloon");
	assert_string_equal(log[nlog - 1].action, "vm-b grow 1024.0 -> 1536.0 MiB");
	assert_non_null(strstr(log[nlog - 1].reason, "manual target"));
	assert_false(log[nlog - 1].dry_run);

	/* Rate limit: a second change of the same guest within one interval waits for the next cycle. */
	assert_int_equal(bln_set_manual("vm-b", 2 * GIB, &ret, err, sizeof(err)), 0);
	run_until(NULL, 100);
	vm = view_vm("vm-b");
	assert_int_equal(vm->dom.st.actual_kib, 1536 * MIB);
	if (!strstr(vm->last.action, "deferred grow"))
		fail_msg("last: %s (%s)", vm->last.action, vm->last.reason);
	want_kib = 2 * GIB;
	assert_true(run_until(vm_b_at_want, 2500));
	want_kib = 1536 * MIB;
	assert_false(vm_b_at_want());

	/* guests JSON carries what the operator needs. */
	json_object *j = bln_report_json("/nonexistent");
	assert_non_null(j);
	const char *s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	assert_non_null(strstr(s, "\"state\":\"connected\""));
	assert_non_null(strstr(s, "\"name\":\"vm-b\""));
	assert_non_null(strstr(s, "\"manual_target_kib\":2097152"));
	assert_non_null(strstr(s, "\"floor_source\":\"metadata\""));
	assert_non_null(strstr(s, "\"goal\":\"steady\""));
	json_object_put(j);

	/* Release, then lose the connection: state says so, no decisions until it is back. */
	assert_int_equal(bln_release_manual("vm-b", &ret, err, sizeof(err)), 0);
	assert_int_equal(ret->manual_target_kib, 0);
	stop_module();
	assert_string_equal(bln_state(buf, sizeof(buf)), "unavailable");
	assert_int_equal(bln_set_manual("vm-b", GIB, &ret, err, sizeof(err)), -EAGAIN);

	/* Report only (manage = no, the default): decisions are shown, nothing is changed. */
	assert_int_equal(bln_init(module_cfg("")), 0);
	assert_true(run_until(view_ready, 2000));
	assert_int_equal(bln_set_manual("vm-b", 1536 * MIB, &ret, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "manage = no"));
	assert_non_null(strstr(bln_state(buf, sizeof(buf)), "manage=no (report only)"));
	stop_module();

	/* Dry run: logged as such, the guest keeps its size. */
	struct memopt_config *cfg = module_cfg("[balloon]\nmanage = yes\n");
	cfg->daemon.dry_run = true;
	assert_int_equal(bln_init(cfg), 0);
	assert_true(run_until(view_ready, 2000));
	assert_int_equal(bln_set_manual("vm-b", 1536 * MIB, &ret, err, sizeof(err)), 0);
	run_until(NULL, 200);
	vm = view_vm("vm-b");
	assert_int_equal(vm->dom.st.actual_kib, 1 * GIB);
	assert_int_equal(vm->target_kib, 0);
	assert_non_null(strstr(vm->last.action, "[dry-run] grow"));
	nlog = dlog_get(log, ELEMENTSOF(log), 0);
	assert_true(log[nlog - 1].dry_run);
	stop_module();
}

/* max_sets_per_cycle: one change per cycle here; the other guest waits for the next cycle. */
static void test_module_max_sets(void **state UNUSED)
{
	const struct bln_vm *ret, *a, *b;
	char err[256];

	assert_int_equal(bln_init(module_cfg("[balloon]\nmanage = yes\nmax_sets_per_cycle = 1\n")), 0);
	assert_true(run_until(view_ready, 2000));
	assert_int_equal(bln_set_manual("vm-a", 768 * MIB, &ret, err, sizeof(err)), 0);
	assert_int_equal(bln_set_manual("vm-b", 1536 * MIB, &ret, err, sizeof(err)), 0);
	run_until(NULL, 200);
	a = view_vm("vm-a");
	b = view_vm("vm-b");
	/* Exactly one of them was set; the other says why it waits. */
	assert_int_equal((a->target_kib != 0) + (b->target_kib != 0), 1);
	const struct bln_vm *waiting = a->target_kib ? b : a;
	if (!strstr(waiting->last.action, "max_sets_per_cycle (1) reached"))
		fail_msg("waiting guest: %s", waiting->last.action);
	run_until(NULL, 1300);
	assert_int_equal(view_vm("vm-a")->target_kib, 768 * MIB);
	assert_int_equal(view_vm("vm-b")->target_kib, 1536 * MIB);

	/* Reload with another URI: a new connection (the test driver's state starts afresh), history gone. */
	static struct memopt_config next;
	char uri[1200], buf[1300];
	next = *module_cfg("[balloon]\nmanage = yes\n");
	snprintf(uri, sizeof(uri), "test://%s/./node.xml", fixdir);
	assert_true(strlen(uri) < sizeof(next.balloon.uri));
	memcpy(next.balloon.uri, uri, strlen(uri) + 1);
	bln_reload(&next);
	assert_true(run_until(view_ready, 2000));
	assert_int_equal(view_vm("vm-b")->dom.st.actual_kib, 1 * GIB);
	assert_int_equal(view_vm("vm-b")->target_kib, 0);
	snprintf(buf, sizeof(buf), "connected to %s, 5 guests", uri);
	assert_string_equal(bln_state(err, sizeof(err)), buf);
	stop_module();
}

static int setup(void **state UNUSED)
{
	const char *src = getenv("MEMOPT_SRCDIR");
	char here[512];

	if (!getcwd(here, sizeof(here)))
		return -1;
	snprintf(fixdir, sizeof(fixdir), "%s/tests/fixtures/libvirt", src && src[0] == '/' ? src : here);
	snprintf(node_uri, sizeof(node_uri), "test://%s/node.xml", fixdir);
	snprintf(rundir, sizeof(rundir), "%s/run", fixdir);
	if (access(fixdir, R_OK) != 0) {
		fprintf(stderr, "fixtures not found at %s (run from the source tree or set MEMOPT_SRCDIR)\n",
			fixdir);
		return -1;
	}
	log_setup(LOG_TARGET_STDERR, getenv("MEMOPT_TEST_DEBUG") ? LOG_DEBUG : LOG_ERR);
	if (ev_init() < 0)
		return -1;
	vloop_register();
	return 0;
}

static int teardown(void **state UNUSED)
{
	vloop_fini();
	ev_fini();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_domain_xml), cmocka_unit_test(test_parse_metadata),
	    cmocka_unit_test(test_qemu_pid),	     cmocka_unit_test(test_list_and_stats),
	    cmocka_unit_test(test_floors),	     cmocka_unit_test(test_set_memory),
	    cmocka_unit_test(test_lifecycle_events), cmocka_unit_test(test_reconnect),
	    cmocka_unit_test(test_module),	     cmocka_unit_test(test_module_max_sets),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
