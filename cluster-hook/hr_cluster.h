/* hr_cluster.h - the pure cluster state: every host's last headroom report, the replicated reservation
 * ledger, the ordering rule that decides reservations, placement ranking and the N+1 failover plan.
 *
 * The ordering rule. Reports, reservations and releases travel as corosync CPG messages in agreed
 * (total) order, and membership changes are delivered in the same order. Every node applies every
 * message to this state with the functions below, which read nothing but the state and the message:
 * a reservation is decided against the target's last *delivered* report (never a fresher local
 * reading), the ledger as it stands at that point in the order, and the clocks carried in the
 * messages (the requester's wall time t_wall decides both report staleness and reservation expiry).
 * So every node reaches the same verdict for every reservation, and of two requests racing for the
 * last memory of a target the one delivered first gets it and the other is refused, everywhere. */
#ifndef MEMOPT_HR_CLUSTER_H
#define MEMOPT_HR_CLUSTER_H

#include "hr_model.h"

#define HR_HOSTS_MAX 32
#define HR_RESV_MAX 512
#define HR_VMS_MAX 64          /* per host, in reports */
#define HR_CONSUMED_MAX 16     /* reservation ids a report marks as materialized */

struct hr_vm {
	char name[HR_NAME_MAX];
	uint64_t cur_kib;           /* current memory */
	uint64_t floor_kib;         /* what it needs at least elsewhere (its balloon floor, else cur) */
};

/* What one host multicasts: its headroom before reservations, its VMs, and the reservations it has seen
 * become running VMs (dropped from the ledger in the same step, so memory is never counted twice). */
struct hr_report {
	char host[HR_NAME_MAX];
	uint32_t nodeid;
	uint64_t seq;
	int64_t wall_ms;            /* sender's clock when sampled */
	struct hr_headroom h;
	size_t nvms;
	struct hr_vm vm[HR_VMS_MAX];
	size_t nconsumed;
	char consumed[HR_CONSUMED_MAX][HR_ID_MAX];
	/* ledger synchronisation (clh.c): whether the sender's ledger is synchronized, and how many ledger
	 * operations it has applied in all (the most advanced synchronized ledger is handed to joiners) */
	bool synced;
	uint64_t ledger_gen;
};

struct hr_host {
	bool member;                /* in the current CPG membership */
	bool have_report;
	uint64_t recv_mono_ms;      /* local clock at delivery: for display and local expiry only */
	struct hr_report rep;
};

struct hr_state {
	size_t nhosts;
	struct hr_host host[HR_HOSTS_MAX];
	size_t nresv;
	struct hr_resv resv[HR_RESV_MAX];
};

/* A reservation request as it travels. */
struct hr_resv_req {
	char id[HR_ID_MAX];
	char target[HR_NAME_MAX];
	struct hr_request req;
	uint64_t ttl_ms;
	int64_t t_wall;             /* requester's clock */
	uint32_t origin;
};

void hr_state_init(struct hr_state *s);

/* The host entry for nodeid, created when create (NULL when full or absent). */
struct hr_host *hr_state_host(struct hr_state *s, uint32_t nodeid, bool create);
/* The member host whose report names it `name`, or NULL. */
const struct hr_host *hr_state_find(const struct hr_state *s, const char *name);

/* Membership: mark exactly these nodeids as members (others stay known but not members). */
void hr_state_members(struct hr_state *s, const uint32_t *nodeids, size_t n);

/* Apply a delivered report: store it and drop the reservations it marks as consumed. */
void hr_apply_report(struct hr_state *s, const struct hr_report *r, uint64_t now_mono_ms);

/* Apply a delivered reservation: decide it and, when admitted, add it to the ledger. Expired entries
 * (at r->t_wall) are pruned first. expiry_ms: a target report older than this (target's wall time
 * against t_wall) gives HR_UNKNOWN. Writes the verdict; returns its code. */
int hr_apply_reserve(struct hr_state *s, const struct hr_resv_req *r, int64_t expiry_ms, struct hr_verdict *ret);

/* Apply a delivered release. Returns 1 when it held a reservation, 0 when unknown. */
int hr_apply_release(struct hr_state *s, const char *id);

/* The headroom of a host as the ledger sees it at now_wall_ms: its report less its live reservations.
 * Returns false (ret->valid false, reason in why) when the host is unknown, not a member, or its report
 * is older than expiry_ms by the report's own clock (report.wall_ms vs now_wall_ms). */
bool hr_host_headroom(const struct hr_state *s, const struct hr_host *h, int64_t now_wall_ms, int64_t expiry_ms,
		      struct hr_headroom *ret);

struct hr_place {
	char host[HR_NAME_MAX];
	struct hr_verdict v;
	int64_t now_kib, now_after_kib;
};

/* Rank every member host except `exclude` ("" none) for a request: admitted hosts first, by headroom
 * after placement (most first), then the others with their reasons. Returns the count written. */
size_t hr_rank(const struct hr_state *s, const struct hr_request *req, const char *exclude, int64_t now_wall_ms,
	       int64_t expiry_ms, struct hr_place *ret, size_t max);

struct hr_fo_move {
	char vm[HR_NAME_MAX];
	uint64_t need_kib;
	char to[HR_NAME_MAX];       /* "" = fits nowhere */
};

struct hr_fo_host {
	char host[HR_NAME_MAX];
	bool known;                 /* has a fresh report */
	bool fits;                  /* every VM found a place */
	uint64_t need_kib;          /* sum of VM needs */
	size_t nmoves;
	struct hr_fo_move move[HR_VMS_MAX];
};

/* N+1 on real memory: for each member host, whether its VMs (at their floors) fit on the other members'
 * headroom now (after reservations), first-fit decreasing onto the host with the most room left.
 * Returns the host count; *ret_all_fit is true when every host's VMs fit elsewhere. */
size_t hr_failover(const struct hr_state *s, int64_t now_wall_ms, int64_t expiry_ms, struct hr_fo_host *ret,
		   size_t max, bool *ret_all_fit);

#endif
