/* clh_cs.c - corosync CPG + votequorum adapter on memopt's event loop (see clh_cs.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clh_cs.h"
#include "../common/log.h"
#include "../common/loop.h"

#ifdef HAVE_COROSYNC
#include <corosync/cpg.h>
#include <corosync/votequorum.h>

#define CS_QUEUE_MAX 4096
#define CS_MSG_MAX (1024 * 1024)
#define CS_RETRY_MS 5

struct qmsg {
	struct qmsg *next;
	size_t len;
	char data[];
};

static struct {
	bool open;
	cpg_handle_t cpg;
	votequorum_handle_t vq;
	int cpg_fd, vq_fd;
	struct cpg_name group;
	struct clh_cs_cb cb;
	struct qmsg *head, *tail;
	size_t nq;
	int64_t retry_timer;
} CS = {.cpg_fd = -1, .vq_fd = -1};

static void lost(const char *what, cs_error_t e)
{
	log_warn("cluster: corosync %s failed (error %d): connection closed, will reconnect", what, (int)e);
	struct clh_cs_cb cb = CS.cb;
	clh_cs_close();
	if (cb.lost)
		cb.lost(cb.data);
}

static size_t nodeids(const struct cpg_address *a, size_t n, uint32_t *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool dup = false;
		for (size_t j = 0; j < k; j++)
			dup |= out[j] == a[i].nodeid;
		if (!dup)
			out[k++] = a[i].nodeid;
	}
	return k;
}

static void on_deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid, void *msg,
		       size_t len)
{
	(void)h;
	(void)g;
	if (CS.cb.deliver)
		CS.cb.deliver(nodeid, pid, msg, len, CS.cb.data);
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *g, const struct cpg_address *m, size_t nm,
		       const struct cpg_address *l, size_t nl, const struct cpg_address *j, size_t nj)
{
	(void)h;
	(void)g;
	uint32_t *buf = calloc(nm + nl + nj + 1, sizeof(uint32_t));
	if (!buf)
		return;
	size_t a = nodeids(m, nm, buf);
	size_t b = nodeids(j, nj, buf + a);
	size_t c = nodeids(l, nl, buf + a + b);
	if (CS.cb.confchg)
		CS.cb.confchg(buf, a, buf + a, b, buf + a + b, c, CS.cb.data);
	free(buf);
}

static void on_quorum(votequorum_handle_t h, uint64_t ctx, uint32_t quorate, uint32_t n, votequorum_node_t nodes[])
{
	(void)h;
	(void)ctx;
	(void)n;
	(void)nodes;
	if (CS.cb.quorum)
		CS.cb.quorum(quorate != 0, CS.cb.data);
}

static void cpg_io(int fd, short revents, void *data)
{
	(void)fd;
	(void)revents;
	(void)data;
	cs_error_t e = cpg_dispatch(CS.cpg, CS_DISPATCH_ALL);
	if (e != CS_OK && e != CS_ERR_TRY_AGAIN)
		lost("cpg_dispatch", e);
}

static void vq_io(int fd, short revents, void *data)
{
	(void)fd;
	(void)revents;
	(void)data;
	cs_error_t e = votequorum_dispatch(CS.vq, CS_DISPATCH_ALL);
	if (e != CS_OK && e != CS_ERR_TRY_AGAIN)
		lost("votequorum_dispatch", e);
}

static cs_error_t send_now(const void *buf, size_t len)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	return cpg_mcast_joined(CS.cpg, CPG_TYPE_AGREED, &iov, 1);
}

static void flush_queue(void *data)
{
	(void)data;
	CS.retry_timer = 0;
	while (CS.open && CS.head) {
		cs_error_t e = send_now(CS.head->data, CS.head->len);
		if (e == CS_ERR_TRY_AGAIN)
			break;
		if (e != CS_OK) {
			lost("cpg_mcast_joined", e);
			return;
		}
		struct qmsg *q = CS.head;
		CS.head = q->next;
		if (!CS.head)
			CS.tail = NULL;
		CS.nq--;
		free(q);
	}
	if (CS.open && CS.head) {
		int64_t id = ev_add_timeout(CS_RETRY_MS, flush_queue, NULL);
		CS.retry_timer = id > 0 ? id : 0;
	}
}

int clh_cs_send(const void *buf, size_t len)
{
	if (!CS.open)
		return -ENOTCONN;
	if (len > CS_MSG_MAX)
		return -EMSGSIZE;
	if (!CS.head) {
		cs_error_t e = send_now(buf, len);
		if (e == CS_OK)
			return 0;
		if (e != CS_ERR_TRY_AGAIN) {
			lost("cpg_mcast_joined", e);
			return -ENOTCONN;
		}
	}
	if (CS.nq >= CS_QUEUE_MAX)
		return -ENOBUFS;
	struct qmsg *q = malloc(sizeof(*q) + len);
	if (!q)
		return -ENOMEM;
	q->next = NULL;
	q->len = len;
	memcpy(q->data, buf, len);
	if (CS.tail)
		CS.tail->next = q;
	else
		CS.head = q;
	CS.tail = q;
	CS.nq++;
	if (!CS.retry_timer) {
		int64_t id = ev_add_timeout(CS_RETRY_MS, flush_queue, NULL);
		CS.retry_timer = id > 0 ? id : 0;
	}
	return 0;
}

int clh_cs_open(const char *group, const struct clh_cs_cb *cb, uint32_t *ret_nodeid)
{
	static cpg_model_v1_data_t model = {
	    .model = CPG_MODEL_V1,
	    .cpg_deliver_fn = on_deliver,
	    .cpg_confchg_fn = on_confchg,
	};
	static votequorum_callbacks_t vcb = {.votequorum_quorum_notify_fn = on_quorum};
	cs_error_t e;
	unsigned int local;
	int r;

	if (CS.open)
		return -EALREADY;
	if (strlen(group) >= CPG_MAX_NAME_LENGTH)
		return -ENAMETOOLONG;
	CS.cb = *cb;
	CS.group.length = (uint32_t)strlen(group);
	memcpy(CS.group.value, group, CS.group.length);

	e = cpg_model_initialize(&CS.cpg, CPG_MODEL_V1, (cpg_model_data_t *)&model, NULL);
	if (e != CS_OK)
		return -ENOTCONN;
	e = votequorum_initialize(&CS.vq, &vcb);
	if (e != CS_OK) {
		cpg_finalize(CS.cpg);
		return -ENOTCONN;
	}
	CS.open = true;
	if (cpg_local_get(CS.cpg, &local) != CS_OK || cpg_fd_get(CS.cpg, &CS.cpg_fd) != CS_OK ||
	    votequorum_fd_get(CS.vq, &CS.vq_fd) != CS_OK ||
	    votequorum_trackstart(CS.vq, 0, CS_TRACK_CHANGES | CS_TRACK_CURRENT) != CS_OK) {
		clh_cs_close();
		return -ENOTCONN;
	}
	/* Joining is refused for a moment while a previous instance of us is still leaving: the caller
	 * retries on a timer (nobody sleeps in the loop). */
	e = cpg_join(CS.cpg, &CS.group);
	if (e != CS_OK) {
		if (e != CS_ERR_TRY_AGAIN)
			log_warn("cluster: cannot join CPG group '%s' (error %d)", group, (int)e);
		clh_cs_close();
		return e == CS_ERR_TRY_AGAIN ? -EAGAIN : -ENOTCONN;
	}
	r = ev_add_fd(CS.cpg_fd, POLLIN, cpg_io, NULL);
	if (r == 0)
		r = ev_add_fd(CS.vq_fd, POLLIN, vq_io, NULL);
	if (r < 0) {
		clh_cs_close();
		return r;
	}
	*ret_nodeid = local;
	return 0;
}

void clh_cs_close(void)
{
	if (!CS.open)
		return;
	if (CS.retry_timer)
		ev_cancel_timeout(CS.retry_timer);
	if (CS.cpg_fd >= 0)
		ev_del_fd(CS.cpg_fd);
	if (CS.vq_fd >= 0)
		ev_del_fd(CS.vq_fd);
	cpg_leave(CS.cpg, &CS.group);
	cpg_finalize(CS.cpg);
	votequorum_finalize(CS.vq);
	while (CS.head) {
		struct qmsg *q = CS.head;
		CS.head = q->next;
		free(q);
	}
	memset(&CS, 0, sizeof(CS));
	CS.cpg_fd = CS.vq_fd = -1;
}

bool clh_cs_is_open(void)
{
	return CS.open;
}

#else /* !HAVE_COROSYNC */

int clh_cs_open(const char *group, const struct clh_cs_cb *cb, uint32_t *ret_nodeid)
{
	(void)group;
	(void)cb;
	(void)ret_nodeid;
	return -EOPNOTSUPP;
}

int clh_cs_send(const void *buf, size_t len)
{
	(void)buf;
	(void)len;
	return -ENOTCONN;
}

void clh_cs_close(void)
{
}

bool clh_cs_is_open(void)
{
	return false;
}

#endif
