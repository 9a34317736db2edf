/* ctlsrv.c - memoptd's control socket: one request per connection, served without blocking the loop. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/proto.h"
#include "ctlsrv.h"

#define CTL_EVICT_GRACE_MS 200 /* when full, a client this old without a whole request may be evicted */
#define CTL_FD_RESERVE 64	/* fds kept for everything but clients when sizing RLIMIT_NOFILE */
#define CTL_MAX_TABLES 16
#define CTL_BACKLOG 64
#define CTL_ACCEPT_BURST 64	/* accepts per wake-up, so one flood cannot starve the loop */
#define CTL_ACCEPT_PAUSE_MS 100 /* listening pauses this long when out of fds */
#define CTL_WARN_BURST 10	/* client warnings per window; the rest are counted */
#define CTL_WARN_WINDOW_MS 60000
#define CTL_ERR_MAX 512
#define CTL_GROUP_MAX 64

struct ctl_client {
	struct ctl_client *prev, *next;
	int fd;
	struct ctl_peer peer;
	char *in; /* request bytes, at most PROTO_MAX_REQUEST */
	size_t in_len, in_cap;
	char *out; /* serialised reply + '\n'; non-NULL once the request is answered */
	size_t out_len, out_off;
	int64_t timer_id; /* 0 = none */
	uint64_t accepted_ms;
	bool warned;
	bool draining; /* reply sent and write side shut: discard input until the client closes */
	uint64_t ticket; /* > 0 while a deferred answer is awaited */
};

struct ctl_table {
	const struct ctl_command *cmds;
	size_t n;
};

static struct {
	bool active;
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	dev_t sock_dev;
	ino_t sock_ino;
	char admin_group[CTL_GROUP_MAX];
	gid_t admin_gid; /* valid when admin_group[0] */
	struct ctl_table tables[CTL_MAX_TABLES];
	size_t ntables;
	struct ctl_client *clients;
	unsigned nclients;
	unsigned max_clients;
	uint64_t timeout_ms; /* a client has this long to send its request and read the reply */
	struct ctl_stats stats;
	int64_t rearm_timer;
	bool paused_full; /* listening paused because max_clients are connected */
	struct ctl_client *current; /* the client whose handler runs, for ctl_defer() */
	uint64_t next_ticket;
	uint64_t warn_window_ms;
	unsigned warn_count;
	unsigned long warn_suppressed;
} S = {.listen_fd = -1, .max_clients = CTL_DEFAULT_MAX_CLIENTS, .timeout_ms = CTL_DEFAULT_TIMEOUT_MS};

static const struct ctl_command builtin_help;
static void listen_slot_freed(void);

/* Rate limit for messages a client can provoke, so a hostile peer cannot flood the log. */
static bool warn_allowed(void)
{
	uint64_t now = ev_now_ms();
	if (S.warn_count == 0 || now - S.warn_window_ms >= CTL_WARN_WINDOW_MS) {
		if (S.warn_suppressed)
			log_warn("control: %lu similar messages suppressed", S.warn_suppressed);
		S.warn_window_ms = now;
		S.warn_count = 0;
		S.warn_suppressed = 0;
	}
	if (S.warn_count < CTL_WARN_BURST) {
		S.warn_count++;
		return true;
	}
	S.warn_suppressed++;
	return false;
}

int ctl_resolve_group(const char *name, gid_t *ret_gid)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 4096;
	struct group grp, *res = NULL;

	for (;;) {
		int r;
		free(buf);
		buf = malloc(len);
		if (!buf)
			return -ENOMEM;
		r = getgrnam_r(name, &grp, buf, len, &res);
		if (r == ERANGE && len < (1u << 20)) {
			len *= 2;
			continue;
		}
		if (r != 0)
			return -r;
		break;
	}
	if (!res)
		return -ENOENT;
	*ret_gid = res->gr_gid;
	return 0;
}

int ctl_set_admin_group(const char *admin_group)
{
	gid_t gid = 0;
	int r;

	if (!admin_group)
		admin_group = "";
	if (strlen(admin_group) >= sizeof(S.admin_group))
		return -EINVAL;
	if (admin_group[0]) {
		r = ctl_resolve_group(admin_group, &gid);
		if (r < 0) {
			log_err("control: admin group '%s' cannot be resolved: %s", admin_group,
				r == -ENOENT ? "no such group" : strerror(-r));
			return r;
		}
	}
	snprintf(S.admin_group, sizeof(S.admin_group), "%s", admin_group);
	S.admin_gid = gid;
	return 0;
}

/* Pure: does a /proc/PID/status text list `gid` on its "Groups:" line? */
static bool status_groups_contain(const char *text, gid_t gid)
{
	const char *p = text;
	while (p && *p) {
		if (strncmp(p, "Groups:", 7) == 0) {
			p += 7;
			for (;;) {
				char *end;
				unsigned long v;
				while (*p == ' ' || *p == '\t')
					p++;
				if (*p < '0' || *p > '9')
					return false;
				errno = 0;
				v = strtoul(p, &end, 10);
				if (errno == 0 && v == gid)
					return true;
				p = end;
			}
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

/* Supplementary groups of the peer: from the socket (SO_PEERGROUPS, fixed at connect time, no PID
 * reuse race), else from /proc/PID/status. */
static bool peer_in_group(int fd, pid_t pid, gid_t gid)
{
	gid_t small[64];
	_cleanup_free_ gid_t *big = NULL;
	socklen_t len = sizeof(small);
	gid_t *groups = small;
	char path[64], text[8192];
	_cleanup_close_ int sfd = -1;
	ssize_t n;

	int r = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, small, &len);
	if (r < 0 && errno == ERANGE) {
		/* The kernel told us the size it needs. */
		big = malloc(len);
		if (!big)
			return false;
		groups = big;
		r = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, big, &len);
	}
	if (r == 0) {
		for (size_t i = 0; i < len / sizeof(gid_t); i++)
			if (groups[i] == gid)
				return true;
		return false;
	}

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	sfd = open(path, O_RDONLY | O_CLOEXEC);
	if (sfd < 0)
		return false;
	n = read(sfd, text, sizeof(text) - 1);
	if (n <= 0)
		return false;
	text[n] = '\0';
	return status_groups_contain(text, gid);
}

static void client_close(struct ctl_client *c)
{
	ev_del_fd(c->fd);
	if (c->timer_id > 0)
		ev_cancel_timeout(c->timer_id);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		S.clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	S.nclients--;
	free(c->in);
	free(c->out);
	free(c);
	listen_slot_freed();
}

/* Best effort: tell a client that is still waiting for its answer why it is being closed. The reply is
 * one small line on a socket we have not written to, so a non-blocking send either takes it whole or
 * the client is gone. */
static void client_close_with_error(struct ctl_client *c, const char *code, const char *msg)
{
	if (!c->out && !c->draining) {
		_cleanup_json_ json_object *reply = proto_make_error(code, "%s", msg);
		size_t len = 0;
		const char *s = reply ? json_object_to_json_string_length(reply, JSON_C_TO_STRING_PLAIN, &len) : NULL;
		if (s) {
			char line[512];
			if (len + 1 <= sizeof(line)) {
				memcpy(line, s, len);
				line[len] = '\n';
				(void)send(c->fd, line, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			}
		}
	}
	client_close(c);
}

static void client_timeout(void *data)
{
	struct ctl_client *c = data;
	char msg[128];
	c->timer_id = 0;
	S.stats.timed_out++;
	log_debug("control: client pid %d timed out after %llu ms, closing", (int)c->peer.pid,
		  (unsigned long long)S.timeout_ms);
	snprintf(msg, sizeof(msg), "no complete request and reply within %llu ms, closing",
		 (unsigned long long)S.timeout_ms);
	client_close_with_error(c, "ETIMEDOUT", msg);
}

static const char *errno_code(int e)
{
	switch (e) {
	case EINVAL:
	case ERANGE:
	case EDOM:
		return "EINVAL";
	case EAGAIN:
	case EBUSY:
		return "EAGAIN";
	case EPERM:
	case EACCES:
		return "EPERM";
	case E2BIG:
		return "E2BIG";
	case EPROTO:
		return "EPROTO";
	default:
		return "EIO";
	}
}

static const struct ctl_command *find_command(const char *name)
{
	if (strcmp(name, builtin_help.name) == 0)
		return &builtin_help;
	for (size_t t = 0; t < S.ntables; t++)
		for (size_t i = 0; i < S.tables[t].n; i++)
			if (strcmp(S.tables[t].cmds[i].name, name) == 0)
				return &S.tables[t].cmds[i];
	return NULL;
}

static json_object *command_json(const struct ctl_command *cmd)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(cmd->name));
	json_object_object_add(o, "mutating", json_object_new_boolean(cmd->mutating));
	json_object_object_add(o, "args", json_object_new_string(cmd->args_help ? cmd->args_help : ""));
	return o;
}

static int help_handler(const struct ctl_peer *peer, json_object *args, json_object **ret_result,
			char *errbuf, size_t errlen)
{
	(void)args;
	(void)errbuf;
	(void)errlen;
	json_object *res = json_object_new_object();
	json_object *list = json_object_new_array();

	json_object_array_add(list, command_json(&builtin_help));
	for (size_t t = 0; t < S.ntables; t++)
		for (size_t i = 0; i < S.tables[t].n; i++)
			json_object_array_add(list, command_json(&S.tables[t].cmds[i]));
	json_object_object_add(res, "commands", list);
	json_object_object_add(res, "may_mutate", json_object_new_boolean(peer->may_mutate));
	*ret_result = res;
	return 0;
}

static const struct ctl_command builtin_help = {
    .name = "help",
    .mutating = false,
    .args_help = "",
    .handler = help_handler,
};

static void warn_client(struct ctl_client *c, const char *what)
{
	if (c->warned)
		return;
	c->warned = true;
	if (warn_allowed())
		log_warn("control: rejected request from pid %d (uid %u): %s", (int)c->peer.pid,
			 (unsigned)c->peer.uid, what);
}

/* Decide the reply to one request line. Never returns NULL unless out of memory or deferred (then
 * c->ticket is set). */
static json_object *dispatch(struct ctl_client *c, const char *line, size_t len)
{
	struct proto_request req;
	const struct ctl_command *cmd;
	json_object *result = NULL, *reply;
	char err[CTL_ERR_MAX] = "";
	int r;

	r = proto_decode_request(line, len, &req, err, sizeof(err));
	if (r < 0) {
		warn_client(c, err);
		return proto_make_error(r == -E2BIG		? "E2BIG"
					: r == -EPROTONOSUPPORT ? "EVERSION"
								: "EPROTO",
					"%s", err);
	}

	cmd = find_command(req.cmd);
	if (!cmd) {
		log_debug("control: pid %d asked for unknown command '%s'", (int)c->peer.pid, req.cmd);
		reply = proto_make_error("ENOCMD", "unknown command '%s' (the command 'help' lists them)",
					 req.cmd);
		goto out;
	}
	if (cmd->mutating && !c->peer.may_mutate) {
		if (warn_allowed())
			log_info("control: refused '%s' to pid %d (uid %u): not root or in the admin group",
				 cmd->name, (int)c->peer.pid, (unsigned)c->peer.uid);
		if (S.admin_group[0])
			reply = proto_make_error(
			    "EPERM", "command '%s' changes the host: only root or group '%s' may use it",
			    cmd->name, S.admin_group);
		else
			reply = proto_make_error(
			    "EPERM", "command '%s' changes the host: only root may use it", cmd->name);
		goto out;
	}

	S.current = c;
	r = cmd->handler(&c->peer, req.args, &result, err, sizeof(err));
	S.current = NULL;
	if (r == CTL_DEFERRED && c->ticket) {
		proto_request_free(&req);
		return NULL;
	}
	c->ticket = 0;
	if (r < 0) {
		if (result)
			json_object_put(result);
		log_debug("control: '%s' from pid %d failed: %s", cmd->name, (int)c->peer.pid,
			  err[0] ? err : strerror(-r));
		reply = proto_make_error(errno_code(-r), "%s", err[0] ? err : strerror(-r));
		goto out;
	}
	log_debug("control: '%s' from pid %d (uid %u) done", cmd->name, (int)c->peer.pid,
		  (unsigned)c->peer.uid);
	reply = proto_make_ok(result);
out:
	proto_request_free(&req);
	return reply;
}

json_object *ctl_dispatch_request(const struct ctl_peer *peer, const char *line, size_t len)
{
	struct ctl_client c = {.fd = -1, .peer = *peer};
	json_object *reply = dispatch(&c, line, len);

	/* deferred: no client is left for ctl_complete() to find, so answer now */
	if (!reply && c.ticket)
		return proto_make_error("EIO", "command was deferred, which needs a connection");
	return reply;
}

/* Write what the socket takes; close once all is out. A client that does not read only holds its own
 * slot until its timeout. */
static void client_flush(struct ctl_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n =
		    send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			log_debug("control: writing reply to pid %d failed: %m", (int)c->peer.pid);
			client_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	/* Closing with unread input makes the kernel send a reset, and a client still writing (an
	 * oversized request) would lose the reply. So shut our side and drain until the client closes;
	 * the client's timeout bounds how long that may take. */
	if (shutdown(c->fd, SHUT_WR) < 0) {
		client_close(c);
		return;
	}
	c->draining = true;
	ev_mod_fd(c->fd, POLLIN);
}

static void client_drain(struct ctl_client *c)
{
	char scratch[4096];
	for (;;) {
		ssize_t n = recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		client_close(c);
		return;
	}
}

static void client_reply(struct ctl_client *c, json_object *reply)
{
	const char *s;
	size_t len;

	if (!reply && c->ticket) {
		/* deferred: stop reading until ctl_complete() */
		ev_mod_fd(c->fd, 0);
		return;
	}
	if (!reply) {
		log_err("control: out of memory building a reply");
		client_close(c);
		return;
	}
	s = json_object_to_json_string_length(reply, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
					      &len);
	if (s && len + 1 > PROTO_MAX_REPLY) {
		log_err("control: reply of %zu bytes exceeds the protocol limit", len);
		json_object_put(reply);
		reply = proto_make_error("EIO", "reply too large");
		s = reply ? json_object_to_json_string_length(reply, JSON_C_TO_STRING_PLAIN, &len) : NULL;
	}
	if (s)
		c->out = malloc(len + 1);
	if (!c->out) {
		if (reply)
			json_object_put(reply);
		client_close(c);
		return;
	}
	memcpy(c->out, s, len);
	c->out[len] = '\n';
	c->out_len = len + 1;
	c->out_off = 0;
	json_object_put(reply);
	free(c->in);
	c->in = NULL;
	c->in_len = c->in_cap = 0;
	ev_mod_fd(c->fd, POLLOUT);
	client_flush(c);
}

static void client_read(struct ctl_client *c)
{
	for (;;) {
		ssize_t n;
		char *nl;

		if (c->in_len == c->in_cap) {
			size_t ncap = c->in_cap ? c->in_cap * 2 : 1024;
			char *nb;
			if (ncap > PROTO_MAX_REQUEST)
				ncap = PROTO_MAX_REQUEST;
			nb = realloc(c->in, ncap);
			if (!nb) {
				client_close(c);
				return;
			}
			c->in = nb;
			c->in_cap = ncap;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				client_close(c);
			return;
		}
		if (n == 0) {
			/* EOF: a client that half-closed after its request still gets the answer. */
			if (c->in_len == 0)
				client_close(c);
			else
				client_reply(c, dispatch(c, c->in, c->in_len));
			return;
		}
		nl = memchr(c->in + c->in_len, '\n', (size_t)n);
		c->in_len += (size_t)n;
		if (nl) {
			client_reply(c, dispatch(c, c->in, (size_t)(nl - c->in)));
			return;
		}
		if (c->in_len >= PROTO_MAX_REQUEST) {
			warn_client(c, "request exceeds the size limit");
			client_reply(
			    c, proto_make_error("E2BIG",
						"request exceeds the limit of %d bytes including the newline",
						PROTO_MAX_REQUEST));
			return;
		}
	}
}

static void client_io(int fd, short revents, void *data)
{
	struct ctl_client *c = data;
	(void)fd;
	if (c->ticket) {
		/* awaiting a deferred answer: only a vanished peer matters */
		if (revents & (POLLHUP | POLLERR))
			client_close(c);
		return;
	}
	if (c->draining)
		client_drain(c);
	else if (c->out)
		client_flush(c);
	else
		client_read(c);
}

static void client_new(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct ctl_client *c;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred)) {
		log_warn("control: cannot read peer credentials, closing: %m");
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->peer.pid = cred.pid;
	c->peer.uid = cred.uid;
	c->peer.gid = cred.gid;
	c->peer.may_mutate =
	    cred.uid == 0 ||
	    (S.admin_group[0] && (cred.gid == S.admin_gid || peer_in_group(fd, cred.pid, S.admin_gid)));
	c->accepted_ms = ev_now_ms();
	c->timer_id = ev_add_timeout(S.timeout_ms, client_timeout, c);
	if (c->timer_id < 0) {
		free(c);
		close(fd);
		return;
	}
	if (ev_add_fd(fd, POLLIN, client_io, c) < 0) {
		ev_cancel_timeout(c->timer_id);
		free(c);
		close(fd);
		return;
	}
	c->next = S.clients;
	if (S.clients)
		S.clients->prev = c;
	S.clients = c;
	S.nclients++;
	S.stats.accepted++;
	if (S.nclients > S.stats.max_seen)
		S.stats.max_seen = S.nclients;
}

/* The server is full: make room by closing the longest-connected client, if it has been connected for
 * CTL_EVICT_GRACE_MS (deferred requests excepted: they wait for a peer, not for the client). A local
 * client writes its request right after connect and reads the reply at once, so a client still there
 * after the grace period is slow or hostile; without eviction a few hundred of them would lock
 * everyone out until their timeouts. Returns true if a slot was freed. */
static bool evict_one(uint64_t now)
{
	struct ctl_client *victim = NULL;
	for (struct ctl_client *c = S.clients; c; c = c->next) {
		if (!c->ticket && now - c->accepted_ms >= CTL_EVICT_GRACE_MS &&
		    (!victim || c->accepted_ms <= victim->accepted_ms))
			victim = c;
	}
	if (!victim)
		return false;
	S.stats.evicted++;
	if (warn_allowed())
		log_warn("control: %u clients connected ([daemon] max_clients), evicting pid %d after %llu ms",
			 S.nclients, (int)victim->peer.pid, (unsigned long long)(now - victim->accepted_ms));
	client_close_with_error(victim, "EBUSY",
				"server full ([daemon] max_clients) and no complete request from this client yet: "
				"closed to serve others");
	return true;
}

static void listen_rearm(void *data)
{
	(void)data;
	S.rearm_timer = 0;
	S.paused_full = false;
	if (S.listen_fd >= 0)
		ev_mod_fd(S.listen_fd, POLLIN);
}

/* Stop accepting for delay_ms: new clients wait in the kernel's backlog (a blocking connect() waits,
 * memoptctl's is bounded by its timeout) instead of being turned away. */
static void listen_pause(uint64_t delay_ms)
{
	if (S.rearm_timer == 0) {
		int64_t id = ev_add_timeout(delay_ms, listen_rearm, NULL);
		if (id <= 0)
			return; /* cannot pause: keep accepting (and evicting) */
		S.rearm_timer = id;
	}
	ev_mod_fd(S.listen_fd, 0);
}

/* A slot came free while accepting was paused at the cap: take the next client now. */
static void listen_slot_freed(void)
{
	if (!S.paused_full || S.nclients >= S.max_clients)
		return;
	if (S.rearm_timer > 0)
		ev_cancel_timeout(S.rearm_timer);
	listen_rearm(NULL);
}

/* When the next client becomes evictable (CTL_EVICT_GRACE_MS after the oldest one that could be). */
static uint64_t next_evictable_ms(uint64_t now)
{
	uint64_t oldest = UINT64_MAX;
	for (struct ctl_client *c = S.clients; c; c = c->next)
		if (!c->ticket && c->accepted_ms < oldest)
			oldest = c->accepted_ms;
	if (oldest == UINT64_MAX)
		return CTL_ACCEPT_PAUSE_MS; /* all deferred: their own timeouts free the slots */
	return oldest + CTL_EVICT_GRACE_MS > now ? oldest + CTL_EVICT_GRACE_MS - now : 1;
}

static void listen_io(int fd, short revents, void *data)
{
	(void)revents;
	(void)data;
	for (int i = 0; i < CTL_ACCEPT_BURST; i++) {
		if (S.nclients >= S.max_clients) {
			uint64_t now = ev_now_ms();
			if (!evict_one(now)) {
				/* Full of clients that are working or young: let the rest wait in the backlog. */
				S.stats.paused_full++;
				S.paused_full = true;
				listen_pause(next_evictable_ms(now));
				return;
			}
		}
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			if (errno == EAGAIN)
				return;
			/* Out of fds or memory: the listener would stay readable and spin the loop. */
			if (warn_allowed())
				log_warn("control: accept failed, pausing for %d ms: %m",
					 CTL_ACCEPT_PAUSE_MS);
			listen_pause(CTL_ACCEPT_PAUSE_MS);
			return;
		}
		client_new(cfd);
	}
}

/* Remove a socket left by a dead daemon; refuse to touch anything else or a live daemon's socket. */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	_cleanup_close_ int fd = -1;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("control: '%s' exists and is not a socket, refusing to replace it", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Non-blocking: a live daemon with a full backlog answers EAGAIN instead of stalling start-up. */
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EAGAIN) {
		log_err("control: another memoptd is already listening on '%s'", path);
		return -EADDRINUSE;
	}
	if (errno != ECONNREFUSED) {
		log_err("control: cannot probe existing socket '%s': %m", path);
		return -errno;
	}
	log_info("control: removing stale socket '%s'", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int ctl_init(const char *socket_path, const char *admin_group)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	if (S.active)
		return -EALREADY;
	if (!socket_path || !socket_path[0])
		return -EINVAL;
	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		log_err("control: socket path '%s' is too long", socket_path);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", socket_path);

	r = ctl_set_admin_group(admin_group);
	if (r < 0)
		return r;
	char dir[sizeof(sa.sun_path)];
	snprintf(dir, sizeof(dir), "%s", socket_path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		r = fio_mkdir_p(dir, 0755);
		if (r < 0) {
			log_err("control: cannot create the directory of '%s': %s", socket_path,
				strerror(-r));
			return r;
		}
	}
	r = clear_stale(socket_path, &sa);
	if (r < 0)
		return r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		log_err("control: cannot bind '%s': %m", socket_path);
		return r;
	}
	/* Anyone may connect (to read status); mutation is authorised per peer with SO_PEERCRED. */
	if (chmod(socket_path, 0666) < 0 || lstat(socket_path, &st) < 0 || listen(fd, CTL_BACKLOG) < 0) {
		r = -errno;
		log_err("control: cannot set up '%s': %m", socket_path);
		unlink(socket_path);
		return r;
	}
	r = ev_add_fd(fd, POLLIN, listen_io, NULL);
	if (r < 0) {
		unlink(socket_path);
		return r;
	}
	snprintf(S.path, sizeof(S.path), "%s", socket_path);
	S.sock_dev = st.st_dev;
	S.sock_ino = st.st_ino;
	S.listen_fd = TAKE_FD(fd);
	S.active = true;
	log_debug("control: listening on '%s'", socket_path);
	return 0;
}

void ctl_fini(void)
{
	struct stat st;

	while (S.clients)
		client_close(S.clients);
	if (S.rearm_timer > 0)
		ev_cancel_timeout(S.rearm_timer);
	if (S.listen_fd >= 0) {
		ev_del_fd(S.listen_fd);
		close(S.listen_fd);
	}
	/* Unlink only our own socket, not one a newer daemon has put in its place. */
	if (S.active && lstat(S.path, &st) == 0 && st.st_dev == S.sock_dev && st.st_ino == S.sock_ino)
		unlink(S.path);
	memset(&S, 0, sizeof(S));
	S.listen_fd = -1;
	S.max_clients = CTL_DEFAULT_MAX_CLIENTS;
	S.timeout_ms = CTL_DEFAULT_TIMEOUT_MS;
}

void ctl_set_limits(unsigned max_clients, uint64_t timeout_ms)
{
	struct rlimit rl;

	if (max_clients == 0)
		max_clients = CTL_DEFAULT_MAX_CLIENTS;
	if (timeout_ms == 0)
		timeout_ms = CTL_DEFAULT_TIMEOUT_MS;
	S.max_clients = max_clients;
	/* Clients already connected keep the deadline they were given. */
	S.timeout_ms = timeout_ms;
	/* Each client holds one fd: make sure the soft limit covers them, else accept() hits EMFILE
	 * (which pauses listening) long before the cap. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rlim_t need = (rlim_t)max_clients + CTL_FD_RESERVE;
		if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
			struct rlimit nl = rl;
			nl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) ? need : rl.rlim_max;
			if (setrlimit(RLIMIT_NOFILE, &nl) < 0 || nl.rlim_cur < need)
				log_warn("control: the open-file limit (%llu) is below max_clients + %d; clients "
					 "beyond it wait until fds free up",
					 (unsigned long long)nl.rlim_cur, CTL_FD_RESERVE);
		}
	}
}

void ctl_get_stats(struct ctl_stats *ret)
{
	*ret = S.stats;
	ret->connected = S.nclients;
	ret->max_clients = S.max_clients;
	ret->timeout_ms = S.timeout_ms;
}

uint64_t ctl_defer(void)
{
	if (!S.current)
		return 0;
	if (!S.current->ticket)
		S.current->ticket = ++S.next_ticket;
	return S.current->ticket;
}

void ctl_complete(uint64_t ticket, int r, json_object *result, const char *errmsg)
{
	struct ctl_client *c;
	for (c = S.clients; c; c = c->next)
		if (c->ticket == ticket && ticket)
			break;
	if (!c) {
		if (result)
			json_object_put(result);
		return;
	}
	c->ticket = 0;
	if (r < 0) {
		if (result)
			json_object_put(result);
		client_reply(c, proto_make_error(errno_code(-r), "%s", errmsg && errmsg[0] ? errmsg : strerror(-r)));
	} else {
		client_reply(c, proto_make_ok(result));
	}
}

int ctl_register(const struct ctl_command *cmds, size_t n)
{
	if (!cmds && n > 0)
		return -EINVAL;
	if (S.ntables >= CTL_MAX_TABLES)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++) {
		if (!cmds[i].name || !cmds[i].handler || !cmds[i].name[0] ||
		    strlen(cmds[i].name) >= PROTO_CMD_MAX)
			return -EINVAL;
		if (find_command(cmds[i].name))
			return -EEXIST;
		for (size_t j = 0; j < i; j++)
			if (strcmp(cmds[i].name, cmds[j].name) == 0)
				return -EEXIST;
	}
	S.tables[S.ntables++] = (struct ctl_table){.cmds = cmds, .n = n};
	return 0;
}
