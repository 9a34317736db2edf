/* bln_virt.h - the balloon controller's libvirt adapter: connection with keepalive and reconnect, domain
 * events on memopt's loop, per-domain memory statistics, bounds and metadata, and the balloon actuator.
 *
 * Every libvirt call of memopt goes through this header, so a unit test can link a fake adapter
 * instead of bln_virt.c. All calls are made from the event loop's thread. */
#ifndef MEMOPT_BLN_VIRT_H
#define MEMOPT_BLN_VIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bln_policy.h"
#include "../common/units.h"

#define BVIRT_UUID_LEN 37 /* VIR_UUID_STRING_BUFLEN */
#define BVIRT_METADATA_NS "https://memopt.org/xmlns/balloon/1"
#define BVIRT_QEMU_RUN_DIR "/run/libvirt/qemu"
#define BVIRT_BACKOFF_FIRST_MS 1000
#define BVIRT_BACKOFF_MAX_MS 30000

/* Which virDomainMemoryStats tags the domain reported (bits of bvirt_memstats.have). */
enum {
	BVIRT_HAVE_ACTUAL = 1u << 0,
	BVIRT_HAVE_UNUSED = 1u << 1,
	BVIRT_HAVE_AVAILABLE = 1u << 2,
	BVIRT_HAVE_USABLE = 1u << 3,
	BVIRT_HAVE_DISK_CACHES = 1u << 4,
	BVIRT_HAVE_SWAP_IN = 1u << 5,
	BVIRT_HAVE_SWAP_OUT = 1u << 6,
	BVIRT_HAVE_MAJOR_FAULT = 1u << 7,
	BVIRT_HAVE_MINOR_FAULT = 1u << 8,
	BVIRT_HAVE_LAST_UPDATE = 1u << 9,
	BVIRT_HAVE_RSS = 1u << 10,
};

/* virDomainMemoryStats, in libvirt's units (KiB, counts, host epoch seconds). Counters are the guest's
 * and may go backwards (guest reboot): callers clamp. */
struct bvirt_memstats {
	uint32_t have;
	uint64_t actual_kib;	/* balloon size as the guest sees it */
	uint64_t unused_kib;	/* guest MemFree */
	uint64_t available_kib; /* guest MemTotal */
	uint64_t usable_kib;	/* guest MemAvailable */
	uint64_t disk_caches_kib;
	uint64_t swap_in_kib; /* cumulative */
	uint64_t swap_out_kib;
	uint64_t major_faults; /* cumulative */
	uint64_t minor_faults;
	int64_t last_update_s; /* when QEMU last got the guest's statistics; 0 = never */
	uint64_t rss_kib;      /* QEMU process RSS on the host */
};

/* <memopt:balloon floor="2G" shares="2000" manage="no"/> in the domain's metadata. */
struct bvirt_meta {
	bool present;
	bool has_floor;
	struct msize floor; /* size, or percent of the domain's max memory */
	uint32_t shares;    /* 0 = not set */
	int manage;	    /* -1 not set, 0 no, 1 yes */
};

/* One running domain. */
struct bvirt_dom {
	char name[BLN_NAME_MAX];
	char uuid[BVIRT_UUID_LEN];
	int id;
	uint64_t max_kib;	    /* virDomainGetMaxMemory */
	bool has_balloon;	    /* <memballoon model='virtio'> */
	bool period_set;	    /* virDomainSetMemoryStatsPeriod succeeded */
	uint64_t min_guarantee_kib; /* <memtune><min_guarantee>, 0 = none */
	struct bvirt_meta meta;
	pid_t qemu_pid;		  /* from <qemu_run_dir>/<name>.pid, 0 = unknown */
	struct bvirt_memstats st; /* without a balloon: only actual (from virDomainGetInfo) */
};

/* Event hooks, all called from the event loop. uuid and name are valid only during the call. */
struct bvirt_callbacks {
	void (*connection)(void *data, bool connected, uint64_t retry_in_ms);
	void (*lifecycle)(void *data, const char *uuid, const char *name, int event, int detail);
	void (*balloon_change)(void *data, const char *uuid, uint64_t actual_kib);
};

struct bvirt_opts {
	const char *uri;
	unsigned stats_period_s;
	const char *qemu_run_dir; /* NULL = BVIRT_QEMU_RUN_DIR */
};

struct bvirt;

/* Create the adapter and connect at once (vloop_register() must have run). A failed connection is not an
 * error: a reconnect is scheduled with backoff (check bvirt_is_connected()). cb->connection reports later
 * changes, never from within bvirt_new. libvirt's own error printing is replaced by our debug log: the
 * adapter keeps the text for bvirt_last_error(), and callers log what matters. Returns 0, or -ENOMEM /
 * -EINVAL. */
int bvirt_new(const struct bvirt_opts *o, const struct bvirt_callbacks *cb, void *data, struct bvirt **ret);
/* Close the connection, cancel timers, free. Accepts NULL. */
void bvirt_free(struct bvirt *v);

bool bvirt_is_connected(const struct bvirt *v);
const char *bvirt_uri(const struct bvirt *v);
/* Milliseconds until the next reconnect attempt (0 when connected or due now). */
uint64_t bvirt_retry_in_ms(const struct bvirt *v);
/* The last libvirt error text ("" if none). */
const char *bvirt_last_error(const struct bvirt *v);

/* Change the statistics period; applied to every balloon domain now and on later discoveries. */
void bvirt_set_stats_period(struct bvirt *v, unsigned period_s);

/* Every running domain with its statistics. *ret is a new array (free()) of *ret_n entries. Static
 * facts (max, XML, metadata, pid) are cached per UUID and re-read on lifecycle and metadata events.
 * Returns 0, -ENOTCONN (not connected; a lost connection is noticed here too), -EIO, -ENOMEM. */
int bvirt_list(struct bvirt *v, struct bvirt_dom **ret, size_t *ret_n);
/* Re-read one domain's current balloon size (right before acting). Returns 0, -ENOENT (gone),
 * -ENOTCONN, -EIO. */
int bvirt_read_actual(struct bvirt *v, const char *uuid, uint64_t *ret_kib);
/* virDomainSetMemoryFlags(kib, VIR_DOMAIN_AFFECT_LIVE). Returns 0, -ENOENT, -EINVAL (refused, e.g.
 * above max), -ENOTCONN, -EIO; bvirt_last_error() has libvirt's text. */
int bvirt_set_memory(struct bvirt *v, const char *uuid, uint64_t kib);

/* Pure parsers, exported for tests. Both return 0 or -EINVAL (not XML we understand); ret_ written on
 * success only. Metadata values that do not parse are skipped and described in warn (may be NULL). */
int bvirt_parse_domain_xml(const char *xml, bool *ret_has_balloon, uint64_t *ret_min_guarantee_kib);
int bvirt_parse_metadata(const char *xml, struct bvirt_meta *ret, char *warn, size_t warnlen);
/* Read <run_dir>/<name>.pid. Returns 0, -ENOENT, -EINVAL (garbled or unsafe name). */
int bvirt_read_qemu_pid(const char *run_dir, const char *name, pid_t *ret);

/* Test hooks. */
void bvirt_test_drop(struct bvirt *v); /* as if libvirtd closed the connection (close callback) */
void bvirt_test_set_backoff(struct bvirt *v, uint64_t first_ms, uint64_t max_ms);
uint64_t bvirt_test_next_backoff_ms(const struct bvirt *v); /* delay the next failure will wait */
void *bvirt_test_conn(struct bvirt *v);			    /* the virConnectPtr, NULL when disconnected */

#endif
