/* ctlsrv.h - memoptd's control socket server: command table, SO_PEERCRED authorisation,
 * bounded non-blocking reads on the one event loop. */
#ifndef MEMOPT_CTLSRV_H
#define MEMOPT_CTLSRV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

struct ctl_peer { pid_t pid; uid_t uid; gid_t gid; bool may_mutate; };

/* A handler fills *ret_result (a new object) and returns 0, or returns a negative errno and may set
 * *ret_error to a message (static or into errbuf). */
typedef int (*ctl_handler)(const struct ctl_peer *peer, json_object *args, json_object **ret_result,
			   char *errbuf, size_t errlen);

struct ctl_command {
	const char *name;
	bool mutating;                  /* refused with EPERM unless the peer is root or in the admin group */
	const char *args_help;          /* e.g. "[since:int]" for `memoptctl help` and errors */
	ctl_handler handler;
};

/* A handler that can only answer later (e.g. after a cluster round trip) calls ctl_defer() for a ticket
 * and returns CTL_DEFERRED; the reply is then sent by ctl_complete(). The client's own timeout still
 * applies: a ticket whose client has gone is ignored. */
#define CTL_DEFERRED 1
/* The running request's ticket (> 0); 0 when called outside a handler. */
uint64_t ctl_defer(void);
/* Answer a deferred request: r = 0 with result (ownership taken), or -errno with a message. */
void ctl_complete(uint64_t ticket, int r, json_object *result, const char *errmsg);

/* Create the socket (parent dir 0755, socket 0666 so anyone may read status; mutation is checked with
 * SO_PEERCRED), register it on the event loop. admin_group "" = root only. Returns 0 or -errno. */
int ctl_init(const char *socket_path, const char *admin_group);
void ctl_fini(void);
/* Register commands (the table must outlive the server). Later registrations may add more tables. */
int ctl_register(const struct ctl_command *cmds, size_t n);
/* Built-in limits, used until ctl_set_limits() (the [daemon] max_clients and client_timeout keys). */
#define CTL_DEFAULT_MAX_CLIENTS 256
#define CTL_DEFAULT_TIMEOUT_MS 5000
/* Connections served at once (at the cap the oldest client, once connected for a grace period, is
 * evicted with EBUSY; until then new clients wait in the listen backlog) and the deadline of each connection (ETIMEDOUT).
 * Raises the soft RLIMIT_NOFILE to fit. 0 = the built-in default. Takes effect for new clients. */
void ctl_set_limits(unsigned max_clients, uint64_t timeout_ms);

struct ctl_stats {
	uint64_t accepted;
	uint64_t paused_full;   /* times accepting paused at the cap (new clients wait in the backlog) */
	uint64_t evicted;       /* closed with EBUSY to make room: no request after the grace period */
	uint64_t timed_out;     /* closed with ETIMEDOUT at the deadline */
	unsigned connected;
	unsigned max_seen;
	unsigned max_clients;
	uint64_t timeout_ms;
};
void ctl_get_stats(struct ctl_stats *ret);

/* Change the admin group on reload. */
int ctl_set_admin_group(const char *admin_group);
/* The reply the server would send to one request line (without its '\n'), decided as for a connected
 * peer, without a socket: for tests and fuzzing. A deferred command is answered with an EIO error.
 * Returns a new reply object, or NULL when out of memory. */
json_object *ctl_dispatch_request(const struct ctl_peer *peer, const char *line, size_t len);
/* Look up a group by name (getgrnam_r). Returns 0, -ENOENT if there is no such group, or -errno. */
int ctl_resolve_group(const char *name, gid_t *ret_gid);

#endif
