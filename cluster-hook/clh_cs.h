/* clh_cs.h - the corosync adapter: one CPG group (agreed order) and votequorum, both on the one event
 * loop through their fds. The only file that includes corosync headers; built as a stub that reports
 * -EOPNOTSUPP when the corosync development files were absent at build time. */
#ifndef MEMOPT_CLH_CS_H
#define MEMOPT_CLH_CS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clh_cs_cb {
	/* A message in agreed order, the same order on every member. */
	void (*deliver)(uint32_t nodeid, uint32_t pid, const void *msg, size_t len, void *data);
	/* A membership change of the group, in the same order as the messages. Node ids, deduplicated. */
	void (*confchg)(const uint32_t *members, size_t n, const uint32_t *joined, size_t nj, const uint32_t *left,
			size_t nl, void *data);
	void (*quorum)(bool quorate, void *data);
	/* The connection to corosync broke; the adapter has closed itself. */
	void (*lost)(void *data);
	void *data;
};

/* Connect to the local corosync, join `group`, track quorum. Returns 0 with *ret_nodeid, -EAGAIN (retry soon: the join was refused for now), -ENOTCONN when
 * corosync is not running, -EOPNOTSUPP when built without corosync, or -errno. */
int clh_cs_open(const char *group, const struct clh_cs_cb *cb, uint32_t *ret_nodeid);
/* Multicast in agreed order; queued and retried on the loop while corosync says "try again".
 * Returns 0, -ENOTCONN, -ENOBUFS (queue full) or -EMSGSIZE. */
int clh_cs_send(const void *buf, size_t len);
void clh_cs_close(void);
bool clh_cs_is_open(void);

#endif
