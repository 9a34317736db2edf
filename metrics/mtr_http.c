/* mtr_http.c - libmicrohttpd in "external epoll" mode on the event loop: listener setup and swap on
 * reload, request routing (/metrics, /, else 404; GET and HEAD only). */
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mtr_collect.h"
#include "mtr_http.h"
#include "../common/cleanup.h"
#include "../common/log.h"
#include "../common/loop.h"
#include "../common/netaddr.h"

#define CONN_LIMIT 32u
#define CONN_TIMEOUT_S 10u	  /* a client that sends nothing is dropped after this */
#define CONN_MEMORY (64u * 1024u) /* per-connection buffer: a request line and headers */
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct server {
	struct MHD_Daemon *d;
	int epfd;
	int64_t timer;
	char listen[CFG_LISTEN_MAX];
};

static struct {
	bool initialised;
	const struct memopt_config *const *cfg;
	uint64_t start_ms;
	struct server s; /* s.d == NULL: not listening */
	struct mtr_self self;
} X = {.s = {.epfd = -1, .timer = -1}};

static void schedule(struct server *s);

static void on_timer(void *data)
{
	struct server *s = data;
	s->timer = -1;
	if (s->d) {
		MHD_run(s->d);
		schedule(s);
	}
}

/* MHD_get_timeout says when MHD_run must run at the latest, whether or not a socket is ready (0 when
 * data is pending in MHD's own lists: edge-triggered epoll will not wake us for it). */
static void schedule(struct server *s)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (s->timer >= 0)
		ev_cancel_timeout(s->timer);
	s->timer = -1;
	if (MHD_get_timeout(s->d, &t) != MHD_YES)
		return;
	s->timer = ev_add_timeout(t > 60000 ? 60000 : (uint64_t)t, on_timer, s);
	if (s->timer < 0)
		log_err("metrics: cannot arm the endpoint's timer: %s", strerror((int)-s->timer));
}

static void on_epoll(int fd, short revents, void *data)
{
	(void)fd;
	(void)revents;
	struct server *s = data;
	MHD_run(s->d);
	schedule(s);
}

/* libmicrohttpd's printf-style error callback (its MHD_LogCallback has no format attribute) */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_warn("metrics: %s", buf);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, char *body, size_t len, bool must_free,
			     const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    len, body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result q = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	X.self.requests[code == 200   ? MTR_CODE_200
			: code == 404 ? MTR_CODE_404
			: code == 405 ? MTR_CODE_405
				      : MTR_CODE_500]++;
	return q;
}

static char msg_index[] = "memoptd: Prometheus metrics at /metrics\n";
static char msg_404[] = "not found: the metrics are at /metrics\n";
static char msg_405[] = "only GET and HEAD\n";
static char msg_500[] = "out of memory\n";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	(void)cls;
	(void)version;
	(void)upload_data;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		/* Answered on the first call: a request body is never read. */
		*upload_data_size = 0;
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, msg_405, strlen(msg_405), false, "text/plain");
	}
	if (strcmp(url, "/") == 0)
		return reply(c, MHD_HTTP_OK, msg_index, strlen(msg_index), false, "text/plain");
	if (strcmp(url, "/metrics") != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, msg_404, strlen(msg_404), false, "text/plain");

	struct mtr_writer w;
	size_t len = 0;
	mtr_init(&w);
	/* This request counts among the 200s it reports. */
	X.self.requests[MTR_CODE_200]++;
	mtr_collect(&w, *X.cfg, &X.self, X.start_ms, ev_now_ms(), ev_wall_ms());
	X.self.requests[MTR_CODE_200]--;
	if (w.errors)
		log_debug("metrics: %u sample(s) refused by the exposition writer", w.errors);
	char *text = mtr_take(&w, &len);
	if (!text)
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, msg_500, strlen(msg_500), false,
			     "text/plain");
	return reply(c, MHD_HTTP_OK, text, len, true, CONTENT_TYPE);
}

/* A listening TCP socket on addr. Returns the fd or -errno. */
static int open_listener(const struct naddr *a)
{
	_cleanup_close_ int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -errno;
	/* A restart must not wait out TIME_WAIT of the last scrape's connection. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0)
		return -errno;
	if (listen(fd, 16) < 0)
		return -errno;
	return TAKE_FD(fd);
}

static void server_stop(struct server *s)
{
	if (s->timer >= 0)
		ev_cancel_timeout(s->timer);
	if (s->epfd >= 0)
		ev_del_fd(s->epfd);
	if (s->d)
		MHD_stop_daemon(s->d); /* closes the listening socket and the epoll fd */
	*s = (struct server){.epfd = -1, .timer = -1};
}

/* Start a server on `listen` into *ret (only on success). Returns 0 or -errno, logged here. */
static int server_start(const char *listen, struct server *ret)
{
	struct server s = {.epfd = -1, .timer = -1};
	struct naddr a;
	char where[NADDR_TEXT_MAX + 8];
	int r;

	if (naddr_parse(listen, &a) < 0) {
		log_err("metrics: invalid listen address '%s'",
			listen); /* the config parser refuses it first */
		return -EINVAL;
	}
	naddr_format(&a, where, sizeof(where));
	int fd = open_listener(&a);
	if (fd < 0) {
		log_err("metrics: cannot listen on %s: %s", where, strerror(-fd));
		return fd;
	}
	/* The logger first: MHD logs options it parses after it with its own (stderr) logger. */
	s.d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, NULL,
			       MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET,
			       (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT,
			       MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S,
			       MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY, MHD_OPTION_END);
	if (!s.d) {
		close(fd);
		log_err("metrics: cannot start the HTTP server on %s", where);
		return -EIO;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s.d, MHD_DAEMON_INFO_EPOLL_FD);
	s.epfd = info ? info->epoll_fd : -1;
	r = s.epfd >= 0 ? 0 : -EIO;
	if (r == 0)
		r = ev_add_fd(s.epfd, POLLIN, on_epoll, &X.s);
	if (r < 0) {
		log_err("metrics: cannot watch the HTTP server's epoll fd: %s", strerror(-r));
		s.epfd = -1;
		server_stop(&s);
		return r;
	}
	snprintf(s.listen, sizeof(s.listen), "%s", listen);
	*ret = s;
	log_info("metrics: serving Prometheus metrics on http://%s/metrics%s", where,
		 naddr_is_loopback(&a) ? "" : " (not loopback: reachable from the network)");
	return 0;
}

/* Take server n as the running one. The fd handler and the timer carry &X.s, so n is copied into
 * place before they can fire (both only fire from the loop, after we return). */
static void server_install(struct server *n)
{
	X.s = *n;
	schedule(&X.s);
}

int mtr_http_init(const struct memopt_config *const *cfg_ref, uint64_t start_ms)
{
	struct server n;
	int r;

	memset(&X, 0, sizeof(X));
	X.s = (struct server){.epfd = -1, .timer = -1};
	X.cfg = cfg_ref;
	X.start_ms = start_ms;
	X.initialised = true;
	if (!(*cfg_ref)->metrics.listen[0]) {
		log_info("metrics: endpoint off ([metrics] listen = off)");
		return 0;
	}
	r = server_start((*cfg_ref)->metrics.listen, &n);
	if (r < 0)
		return r;
	server_install(&n);
	return 0;
}

static bool same_port(const char *a, const char *b)
{
	struct naddr x, y;
	if (naddr_parse(a, &x) < 0 || naddr_parse(b, &y) < 0)
		return false;
	/* sin_port and sin6_port sit at the same offset */
	return ((const struct sockaddr_in *)&x.ss)->sin_port == ((const struct sockaddr_in *)&y.ss)->sin_port;
}

int mtr_http_reload(void)
{
	const char *want = (*X.cfg)->metrics.listen;
	struct server n;
	int r;

	if (!X.initialised || strcmp(want, X.s.listen) == 0)
		return 0;
	if (!want[0]) {
		server_stop(&X.s);
		log_info("metrics: endpoint off ([metrics] listen = off)");
		return 0;
	}
	r = server_start(want, &n);
	if (r == -EADDRINUSE && X.s.d && same_port(want, X.s.listen)) {
		/* Our own listener may hold the port (127.0.0.1:P -> 0.0.0.0:P): let go of it, try again,
		 * and go back to the old address if the new one still cannot be had. */
		char old[CFG_LISTEN_MAX];
		snprintf(old, sizeof(old), "%s", X.s.listen);
		server_stop(&X.s);
		r = server_start(want, &n);
		if (r < 0 && server_start(old, &n) == 0) {
			server_install(&n);
			log_err("metrics: keeping the old listener %s", old);
			return r;
		}
	}
	if (r < 0) {
		if (X.s.d)
			log_err("metrics: keeping the old listener %s", X.s.listen);
		return r;
	}
	server_stop(&X.s);
	server_install(&n);
	return 0;
}

void mtr_http_fini(void)
{
	if (!X.initialised)
		return;
	server_stop(&X.s);
	mtr_collect_fini();
	X.initialised = false;
}
