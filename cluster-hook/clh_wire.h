/* clh_wire.h - the CPG messages of memoptd's cluster, as bounded JSON: report, reserve, release, sync.
 * Decoding treats every message as hostile: types, lengths and counts are checked, unknown kinds are
 * refused. The sender's node id is never taken from a message: CPG tells who sent it. */
#ifndef MEMOPT_CLH_WIRE_H
#define MEMOPT_CLH_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "hr_cluster.h"

#define CLH_WIRE_VERSION 1
#define CLH_WIRE_MAX (512 * 1024)

enum clh_msg_kind { CLH_M_REPORT = 1, CLH_M_RESERVE, CLH_M_RELEASE, CLH_M_SYNC };

struct clh_sync {
	uint64_t k;                /* ledger operations the sender had delivered since the membership change */
	uint64_t gen;              /* the sender's ledger generation at k */
	size_t nresv;
	struct hr_resv resv[HR_RESV_MAX];
};

struct clh_msg {
	int kind;
	uint64_t tag;              /* reserve/release: the requester's own serial, to find its waiting client */
	union {
		struct hr_report rep;
		struct hr_resv_req res;
		char release_id[HR_ID_MAX];
		struct clh_sync sync;
	} u;
};

/* Encode into a malloc'ed string (*ret_len without the NUL). Returns 0 or -ENOMEM/-EMSGSIZE. */
int clh_encode(const struct clh_msg *m, char **ret, size_t *ret_len);
/* Decode; the result is written only on success. Returns 0 or -EBADMSG. */
int clh_decode(const void *buf, size_t len, struct clh_msg *ret);

#endif
