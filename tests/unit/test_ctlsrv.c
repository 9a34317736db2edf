/* UNIT-DEPS: daemon/ctlsrv.c */
/* test_ctlsrv.c - the control server on the real event loop, driven by a forked client process. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/proto.h"
#include "daemon/ctlsrv.h"

static char tmpdir[64];
static char rundir[80];
static char sock[108];
static int rw_calls;

/* --- server side: a test command table --- */

static int h_ro(const struct ctl_peer *peer, json_object *args, json_object **ret, char *errbuf,
		size_t errlen)
{
	(void)errbuf;
	(void)errlen;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "echo", args ? json_object_get(args) : NULL);
	json_object_object_add(o, "uid", json_object_new_int64(peer->uid));
	json_object_object_add(o, "may_mutate", json_object_new_boolean(peer->may_mutate));
	*ret = o;
	return 0;
}

static int h_rw(const struct ctl_peer *peer, json_object *args, json_object **ret, char *errbuf,
		size_t errlen)
{
	(void)peer;
	(void)args;
	(void)errbuf;
	(void)errlen;
	rw_calls++;
	*ret = json_object_new_object();
	json_object_object_add(*ret, "done", json_object_new_boolean(1));
	return 0;
}

static int h_fail(const struct ctl_peer *peer, json_object *args, json_object **ret, char *errbuf,
		  size_t errlen)
{
	(void)peer;
	(void)args;
	(void)ret;
	snprintf(errbuf, errlen, "invalid value '%s'", "x");
	return -EINVAL;
}

static int h_busy(const struct ctl_peer *peer, json_object *args, json_object **ret, char *errbuf,
		  size_t errlen)
{
	(void)peer;
	(void)args;
	(void)ret;
	(void)errbuf;
	(void)errlen;
	return -EAGAIN;
}

static int h_boom(const struct ctl_peer *peer, json_object *args, json_object **ret, char *errbuf,
		  size_t errlen)
{
	(void)peer;
	(void)args;
	(void)errbuf;
	(void)errlen;
	*ret = json_object_new_object(); /* must be dropped on error */
	return -ENOMEM;
}

static int h_big(const struct ctl_peer *peer, json_object *args, json_object **ret, char *errbuf,
		 size_t errlen)
{
	(void)peer;
	(void)args;
	(void)errbuf;
	(void)errlen;
	size_t n = 1024 * 1024;
	char *s = malloc(n + 1);
	memset(s, 'x', n);
	s[n] = '\0';
	*ret = json_object_new_object();
	json_object_object_add(*ret, "blob", json_object_new_string(s));
	free(s);
	return 0;
}

static const struct ctl_command test_cmds[] = {
    {.name = "ro", .mutating = false, .args_help = "[echo:any]", .handler = h_ro},
    {.name = "rw", .mutating = true, .args_help = "", .handler = h_rw},
    {.name = "fail", .mutating = false, .handler = h_fail},
    {.name = "busy", .mutating = false, .handler = h_busy},
    {.name = "boom", .mutating = false, .handler = h_boom},
    {.name = "big", .mutating = false, .handler = h_big},
};

static void on_sigchld(int signo, void *data)
{
	(void)signo;
	(void)data;
	ev_quit(0);
}

static void on_safety(void *data)
{
	(void)data;
	ev_quit(99);
}

static int setup_loop(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_ctlsrv.XXXXXX");
	if (!mkdtemp(tmpdir) || chmod(tmpdir, 0755) < 0)
		return -1;
	snprintf(rundir, sizeof(rundir), "%s/run", tmpdir);
	snprintf(sock, sizeof(sock), "%s/memopt/memoptd.sock", rundir);
	rw_calls = 0;
	log_setup(LOG_TARGET_STDERR, LOG_ERR);
	if (ev_init() < 0 || ev_add_signal(SIGCHLD, on_sigchld, NULL) < 0)
		return -1;
	return 0;
}

static int setup_server(void **state)
{
	if (setup_loop(state) < 0)
		return -1;
	if (ctl_register(test_cmds, ELEMENTSOF(test_cmds)) < 0)
		return -1;
	return ctl_init(sock, "") < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[160];
	ctl_fini();
	ev_fini();
	unlink(sock);
	snprintf(p, sizeof(p), "%s/memopt", rundir);
	rmdir(p);
	rmdir(rundir);
	rmdir(tmpdir);
	return 0;
}

/* --- client side, in a forked child: cmocka asserts would longjmp inside the child, so checks exit --- */

#define CHECK(cond)                                                                                          \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "child: check failed at line %d: %s\n", __LINE__, #cond);            \
			_exit(1);                                                                            \
		}                                                                                            \
	} while (0)

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static json_object *call(const char *cmd, json_object *args)
{
	json_object *req = proto_make_request(cmd, args);
	json_object *reply = NULL;
	int r = proto_call(sock, req, 3000, &reply);
	json_object_put(req);
	if (r < 0)
		fprintf(stderr, "child: proto_call(%s): %s\n", cmd, strerror(-r));
	CHECK(r == 0);
	return reply;
}

/* "ok" for a successful reply, else the error code. */
static const char *code_of(json_object *reply)
{
	json_object *ok, *e, *c;
	CHECK(json_object_object_get_ex(reply, "ok", &ok));
	if (json_object_get_boolean(ok))
		return "ok";
	CHECK(json_object_object_get_ex(reply, "error", &e));
	CHECK(json_object_object_get_ex(e, "code", &c));
	return json_object_get_string(c);
}

static const char *message_of(json_object *reply)
{
	json_object *e, *m;
	CHECK(json_object_object_get_ex(reply, "error", &e));
	CHECK(json_object_object_get_ex(e, "message", &m));
	return json_object_get_string(m);
}

static json_object *result_of(json_object *reply, const char *key)
{
	json_object *res, *v;
	CHECK(json_object_object_get_ex(reply, "result", &res));
	CHECK(json_object_object_get_ex(res, key, &v));
	return v;
}

static int raw_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	return fd;
}

static void raw_send(int fd, const char *buf, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			return; /* the server may close early (E2BIG): the answer is still readable */
		off += (size_t)n;
	}
}

/* Read until EOF (the server closes after replying), within timeout_ms; parse the first line. */
static json_object *raw_read(int fd, int timeout_ms)
{
	static char buf[256 * 1024];
	size_t len = 0;
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t now = now_ms();
		CHECK(now < deadline);
		CHECK(poll(&p, 1, (int)(deadline - now)) >= 0);
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0 && errno == ECONNRESET && len > 0)
			break;
		CHECK(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
		CHECK(len < sizeof(buf) - 1);
	}
	buf[len] = '\0';
	CHECK(len > 0 && buf[len - 1] == '\n');
	json_object *o = json_tokener_parse(buf);
	CHECK(o != NULL);
	return o;
}

static json_object *raw_request(const char *buf, size_t len)
{
	int fd = raw_connect();
	raw_send(fd, buf, len);
	json_object *o = raw_read(fd, 3000);
	close(fd);
	return o;
}

/* Run `client` in a child while this process runs the loop; assert the child succeeded. */
static void run_client(void (*client)(void))
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		client();
		_exit(0);
	}
	int64_t safety = ev_add_timeout(30000, on_safety, NULL);
	assert_true(safety > 0);
	int r = ev_run();
	ev_cancel_timeout(safety);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(r, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* --- the tests --- */

static void client_basic(void)
{
	json_object *r, *args, *v;

	args = json_object_new_object();
	json_object_object_add(args, "x", json_object_new_int(5));
	r = call("ro", args);
	CHECK(strcmp(code_of(r), "ok") == 0);
	v = result_of(r, "echo");
	CHECK(json_object_object_get_ex(v, "x", &v) && json_object_get_int(v) == 5);
	CHECK(json_object_get_int64(result_of(r, "uid")) == (int64_t)getuid());
	json_object_put(r);

	r = call("nosuch", NULL);
	CHECK(strcmp(code_of(r), "ENOCMD") == 0);
	CHECK(strstr(message_of(r), "'nosuch'") != NULL);
	json_object_put(r);

	static const char garbage[] = "hello world\n";
	r = raw_request(garbage, sizeof(garbage) - 1);
	CHECK(strcmp(code_of(r), "EPROTO") == 0);
	json_object_put(r);

	static const char nul[] = "{\"v\":1,\"cmd\":\"ro\"}\0\n";
	r = raw_request(nul, sizeof(nul) - 1);
	CHECK(strcmp(code_of(r), "EPROTO") == 0);
	json_object_put(r);

	static const char badargs[] = "{\"v\":1,\"cmd\":\"ro\",\"args\":[1]}\n";
	r = raw_request(badargs, sizeof(badargs) - 1);
	CHECK(strcmp(code_of(r), "EPROTO") == 0);
	json_object_put(r);

	static const char v2[] = "{\"v\":2,\"cmd\":\"ro\"}\n";
	r = raw_request(v2, sizeof(v2) - 1);
	CHECK(strcmp(code_of(r), "EVERSION") == 0);
	CHECK(strcmp(message_of(r), "unsupported protocol version 2 (this daemon speaks 1)") == 0);
	json_object_put(r);

	/* a request without its newline, then a half-close, is still answered */
	static const char nonl[] = "{\"v\":1,\"cmd\":\"ro\"}";
	int fd = raw_connect();
	raw_send(fd, nonl, sizeof(nonl) - 1);
	CHECK(shutdown(fd, SHUT_WR) == 0);
	r = raw_read(fd, 3000);
	close(fd);
	CHECK(strcmp(code_of(r), "ok") == 0);
	json_object_put(r);

	r = call("fail", NULL);
	CHECK(strcmp(code_of(r), "EINVAL") == 0);
	CHECK(strcmp(message_of(r), "invalid value 'x'") == 0);
	json_object_put(r);
	r = call("busy", NULL);
	CHECK(strcmp(code_of(r), "EAGAIN") == 0);
	CHECK(message_of(r)[0] != '\0');
	json_object_put(r);
	r = call("boom", NULL);
	CHECK(strcmp(code_of(r), "EIO") == 0);
	json_object_put(r);

	r = call("help", NULL);
	CHECK(strcmp(code_of(r), "ok") == 0);
	v = result_of(r, "commands");
	CHECK(json_object_array_length(v) == ELEMENTSOF(test_cmds) + 1);
	bool saw_rw = false, saw_help = false;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *c = json_object_array_get_idx(v, i), *name, *mut, *ah;
		CHECK(json_object_object_get_ex(c, "name", &name));
		CHECK(json_object_object_get_ex(c, "mutating", &mut));
		CHECK(json_object_object_get_ex(c, "args", &ah));
		if (strcmp(json_object_get_string(name), "rw") == 0)
			saw_rw = json_object_get_boolean(mut);
		if (strcmp(json_object_get_string(name), "help") == 0)
			saw_help = !json_object_get_boolean(mut);
	}
	CHECK(saw_rw && saw_help);
	json_object_put(r);

	/* as root, mutating commands are allowed */
	if (geteuid() == 0) {
		r = call("rw", NULL);
		CHECK(strcmp(code_of(r), "ok") == 0);
		CHECK(json_object_get_boolean(result_of(r, "done")));
		json_object_put(r);
	}
}

static void test_basic(void **state)
{
	(void)state;
	run_client(client_basic);
	assert_int_equal(rw_calls, geteuid() == 0 ? 1 : 0);
}

static void client_too_big(void)
{
	size_t n = PROTO_MAX_REQUEST + 4096;
	char *buf = malloc(n);
	json_object *r;

	/* no newline within the limit */
	memset(buf, ' ', n);
	memcpy(buf, "{\"v\":1,\"cmd\":\"ro\"", 17);
	r = raw_request(buf, n);
	CHECK(strcmp(code_of(r), "E2BIG") == 0);
	json_object_put(r);

	/* the server still serves the next client */
	r = call("ro", NULL);
	CHECK(strcmp(code_of(r), "ok") == 0);
	json_object_put(r);

	/* exactly the limit, newline included, is accepted */
	memset(buf, ' ', PROTO_MAX_REQUEST);
	memcpy(buf, "{\"v\":1,\"cmd\":\"ro\"}", 18);
	buf[PROTO_MAX_REQUEST - 1] = '\n';
	r = raw_request(buf, PROTO_MAX_REQUEST);
	CHECK(strcmp(code_of(r), "ok") == 0);
	json_object_put(r);

	/* one byte over */
	buf[PROTO_MAX_REQUEST - 1] = ' ';
	buf[PROTO_MAX_REQUEST] = '\n';
	r = raw_request(buf, PROTO_MAX_REQUEST + 1);
	CHECK(strcmp(code_of(r), "E2BIG") == 0);
	json_object_put(r);
	free(buf);
}

static void test_too_big(void **state)
{
	(void)state;
	run_client(client_too_big);
}

static const char *users_group(void)
{
	struct group *g = getgrnam("users");
	return g ? "users" : NULL;
}

static void drop_to_nobody(gid_t gid, const gid_t *groups, size_t ngroups)
{
	CHECK(setgroups(ngroups, groups) == 0);
	CHECK(setgid(gid) == 0);
	CHECK(setuid(65534) == 0);
	CHECK(getuid() == 65534 && geteuid() == 65534);
}

static void client_nonroot(void)
{
	json_object *r;
	drop_to_nobody(65534, NULL, 0);

	r = call("ro", NULL);
	CHECK(strcmp(code_of(r), "ok") == 0);
	CHECK(json_object_get_int64(result_of(r, "uid")) == 65534);
	CHECK(!json_object_get_boolean(result_of(r, "may_mutate")));
	json_object_put(r);

	r = call("rw", NULL);
	CHECK(strcmp(code_of(r), "EPERM") == 0);
	CHECK(strcmp(message_of(r), "command 'rw' changes the host: only root may use it") == 0);
	json_object_put(r);

	r = call("help", NULL);
	CHECK(strcmp(code_of(r), "ok") == 0);
	json_object_put(r);
}

static void test_nonroot_eperm(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip(); /* needs root to setuid() the client to nobody */
	run_client(client_nonroot);
	assert_int_equal(rw_calls, 0);
}

static void client_nonroot_group_eperm(void)
{
	json_object *r;
	drop_to_nobody(65534, NULL, 0);
	r = call("rw", NULL);
	CHECK(strcmp(code_of(r), "EPERM") == 0);
	CHECK(strcmp(message_of(r), "command 'rw' changes the host: only root or group 'users' may use it") ==
	      0);
	json_object_put(r);
}

static void client_admin_supplementary(void)
{
	struct group *g = getgrnam("users");
	CHECK(g != NULL);
	gid_t gid = g->gr_gid;
	drop_to_nobody(65534, &gid, 1);
	json_object *r = call("rw", NULL);
	CHECK(strcmp(code_of(r), "ok") == 0);
	json_object_put(r);
	r = call("ro", NULL);
	CHECK(json_object_get_boolean(result_of(r, "may_mutate")));
	json_object_put(r);
}

static void client_admin_primary(void)
{
	struct group *g = getgrnam("users");
	CHECK(g != NULL);
	drop_to_nobody(g->gr_gid, NULL, 0);
	json_object *r = call("rw", NULL);
	CHECK(strcmp(code_of(r), "ok") == 0);
	json_object_put(r);
}

static void test_admin_group(void **state)
{
	(void)state;
	if (geteuid() != 0 || !users_group())
		skip(); /* needs root and a group named "users" */
	assert_int_equal(ctl_set_admin_group("users"), 0);
	run_client(client_nonroot_group_eperm);
	assert_int_equal(rw_calls, 0);
	run_client(client_admin_supplementary);
	assert_int_equal(rw_calls, 1);
	run_client(client_admin_primary);
	assert_int_equal(rw_calls, 2);
	/* an unknown group is refused and the previous one kept */
	assert_int_equal(ctl_set_admin_group("no-such-group-memopt"), -ENOENT);
	run_client(client_admin_primary);
	assert_int_equal(rw_calls, 3);
	assert_int_equal(ctl_set_admin_group(""), 0);
	run_client(client_nonroot);
	assert_int_equal(rw_calls, 3);
}

static void client_slow(void)
{
	json_object *r;
	static const char part1[] = "{\"v\":1,\"cm";
	static const char part2[] = "d\":\"ro\"}\n";
	static const char bigreq[] = "{\"v\":1,\"cmd\":\"big\"}\n";

	/* half a request, then silence */
	int slow = raw_connect();
	raw_send(slow, part1, sizeof(part1) - 1);
	/* a client that asks for a large reply and never reads it */
	int deaf = raw_connect();
	raw_send(deaf, bigreq, sizeof(bigreq) - 1);
	usleep(200 * 1000);

	uint64_t t0 = now_ms();
	for (int i = 0; i < 5; i++) {
		r = call("ro", NULL);
		CHECK(strcmp(code_of(r), "ok") == 0);
		json_object_put(r);
	}
	CHECK(now_ms() - t0 < 1000);

	/* the slow client finishes and still gets its answer */
	raw_send(slow, part2, sizeof(part2) - 1);
	r = raw_read(slow, 3000);
	CHECK(strcmp(code_of(r), "ok") == 0);
	json_object_put(r);
	close(slow);
	close(deaf);
}

static void test_slow_client(void **state)
{
	(void)state;
	run_client(client_slow);
}

static void client_idle(void)
{
	int fd = raw_connect();
	uint64_t t0 = now_ms();
	/* closed with a reply that says why */
	json_object *r = raw_read(fd, 9000);
	uint64_t dt = now_ms() - t0;
	CHECK(strcmp(code_of(r), "ETIMEDOUT") == 0);
	CHECK(strstr(message_of(r), "5000 ms") != NULL);
	json_object_put(r);
	CHECK(dt >= 4500 && dt < 8000);
	close(fd);
}

static void test_idle_timeout(void **state)
{
	(void)state;
	run_client(client_idle);
}

#define N_HOLD 256
static const char ro_req[] = "{\"v\":1,\"cmd\":\"ro\"}\n";

static void client_max(void)
{
	static int fds[N_HOLD];
	for (int i = 0; i < N_HOLD; i++)
		fds[i] = raw_connect();
	usleep(300 * 1000);
	/* One too many: the oldest idle client (past the grace period) makes room, with a reason. */
	int extra = raw_connect();
	json_object *r = raw_read(fds[0], 2000);
	CHECK(strcmp(code_of(r), "EBUSY") == 0);
	json_object_put(r);
	raw_send(extra, ro_req, sizeof(ro_req) - 1);
	r = raw_read(extra, 2000);
	CHECK(strcmp(code_of(r), "ok") == 0);
	json_object_put(r);
	close(extra);
	for (int i = 0; i < N_HOLD; i++)
		close(fds[i]);
	usleep(300 * 1000);
	r = call("ro", NULL);
	CHECK(strcmp(code_of(r), "ok") == 0);
	json_object_put(r);
}

static void test_max_clients(void **state)
{
	(void)state;
	run_client(client_max);
}

/* At a small cap full of young clients, a new one waits in the backlog (not refused) until the oldest
 * may be evicted, then is served. */
static void client_cap_waits(void)
{
	int fds[4];
	for (int i = 0; i < 4; i++)
		fds[i] = raw_connect();
	uint64_t t0 = now_ms();
	int extra = raw_connect(); /* the backlog takes it while the server does not accept */
	raw_send(extra, ro_req, sizeof(ro_req) - 1);
	json_object *r = raw_read(extra, 2000);
	uint64_t dt = now_ms() - t0;
	CHECK(strcmp(code_of(r), "ok") == 0);
	json_object_put(r);
	CHECK(dt >= 100 && dt < 1000);
	r = raw_read(fds[0], 2000);
	CHECK(strcmp(code_of(r), "EBUSY") == 0);
	json_object_put(r);
	close(extra);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
}

static void test_cap_waits_then_evicts(void **state)
{
	(void)state;
	struct ctl_stats st;
	ctl_set_limits(4, 3000);
	run_client(client_cap_waits);
	ctl_get_stats(&st);
	assert_int_equal(st.max_clients, 4);
	assert_int_equal(st.timeout_ms, 3000);
	assert_true(st.evicted >= 1);
	assert_true(st.paused_full >= 1);
	assert_true(st.max_seen <= 4);
}

static void client_short_timeout(void)
{
	int fd = raw_connect();
	uint64_t t0 = now_ms();
	raw_send(fd, "{\"v\":1,", 7);
	json_object *r = raw_read(fd, 3000);
	uint64_t dt = now_ms() - t0;
	CHECK(strcmp(code_of(r), "ETIMEDOUT") == 0);
	CHECK(strstr(message_of(r), "300 ms") != NULL);
	json_object_put(r);
	CHECK(dt >= 250 && dt < 1500);
	close(fd);
}

static void test_client_timeout_setting(void **state)
{
	(void)state;
	struct ctl_stats st;
	ctl_set_limits(0, 300);
	run_client(client_short_timeout);
	ctl_get_stats(&st);
	assert_int_equal(st.max_clients, CTL_DEFAULT_MAX_CLIENTS);
	assert_int_equal(st.timed_out, 1);
}

static void test_init_errors(void **state)
{
	(void)state;
	struct stat st;
	char dir[128];
	int fd;

	snprintf(dir, sizeof(dir), "%s/memopt", rundir);

	assert_int_equal(ctl_init(sock, "no-such-group-memopt"), -ENOENT);

	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(ctl_init(longp, ""), -ENAMETOOLONG);

	/* a regular file is never replaced */
	assert_int_equal(mkdir(rundir, 0755), 0);
	assert_int_equal(mkdir(dir, 0755), 0);
	fd = open(sock, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ctl_init(sock, ""), -EEXIST);
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(sock);

	/* a live listener is left alone */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(ctl_init(sock, ""), -EADDRINUSE);
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	close(fd);

	/* now it is stale (nobody listens): replaced */
	assert_int_equal(ctl_init(sock, ""), 0);
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0666);
	assert_int_equal(ctl_init(sock, ""), -EALREADY);
	ctl_fini();
	assert_int_equal(lstat(sock, &st), -1);
	assert_int_equal(errno, ENOENT);
	rmdir(dir);
	rmdir(rundir);

	/* the parent directories are created 0755 */
	assert_int_equal(ctl_init(sock, ""), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);

	/* fini does not remove a socket that replaced ours */
	unlink(sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ctl_fini();
	assert_int_equal(lstat(sock, &st), 0);
	close(fd);
	unlink(sock);
}

static int h_dummy(const struct ctl_peer *peer, json_object *args, json_object **ret, char *errbuf,
		   size_t errlen)
{
	return h_busy(peer, args, ret, errbuf, errlen);
}

static void test_register(void **state)
{
	(void)state;
	static const struct ctl_command dup_help[] = {{.name = "help", .handler = h_dummy}};
	static const struct ctl_command dup_ro[] = {{.name = "ro", .handler = h_dummy}};
	static const struct ctl_command dup_self[] = {{.name = "a", .handler = h_dummy},
						      {.name = "a", .handler = h_dummy}};
	static const struct ctl_command no_handler[] = {{.name = "b"}};
	static const struct ctl_command no_name[] = {{.handler = h_dummy}};
	static const struct ctl_command long_name[] = {
	    {.name = "abcdefghijklmnopqrstuvwxyz0123456789", .handler = h_dummy}};
	static const struct ctl_command more[] = {{.name = "more", .handler = h_dummy}};

	assert_int_equal(ctl_register(dup_help, 1), -EEXIST);
	assert_int_equal(ctl_register(dup_ro, 1), -EEXIST);
	assert_int_equal(ctl_register(dup_self, 2), -EEXIST);
	assert_int_equal(ctl_register(no_handler, 1), -EINVAL);
	assert_int_equal(ctl_register(no_name, 1), -EINVAL);
	assert_int_equal(ctl_register(long_name, 1), -EINVAL);
	assert_int_equal(ctl_register(more, 1), 0);
	assert_int_equal(ctl_register(more, 1), -EEXIST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_basic, setup_server, teardown),
	    cmocka_unit_test_setup_teardown(test_too_big, setup_server, teardown),
	    cmocka_unit_test_setup_teardown(test_nonroot_eperm, setup_server, teardown),
	    cmocka_unit_test_setup_teardown(test_admin_group, setup_server, teardown),
	    cmocka_unit_test_setup_teardown(test_slow_client, setup_server, teardown),
	    cmocka_unit_test_setup_teardown(test_idle_timeout, setup_server, teardown),
	    cmocka_unit_test_setup_teardown(test_max_clients, setup_server, teardown),
	    cmocka_unit_test_setup_teardown(test_cap_waits_then_evicts, setup_server, teardown),
	    cmocka_unit_test_setup_teardown(test_client_timeout_setting, setup_server, teardown),
	    cmocka_unit_test_setup_teardown(test_init_errors, setup_loop, teardown),
	    cmocka_unit_test_setup_teardown(test_register, setup_server, teardown),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
