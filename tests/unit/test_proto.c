/* test_proto.c - unit tests for the control protocol: request decoding, reply building, proto_call. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/cleanup.h"
#include "common/proto.h"

static int decode(const char *s, struct proto_request *req, char *err, size_t errlen)
{
	return proto_decode_request(s, strlen(s), req, err, errlen);
}

/* Decoding must fail with `expect`, leave *ret untouched and say something in err. */
static void expect_reject_len(const char *buf, size_t len, int expect)
{
	struct proto_request req;
	char err[256] = "";
	memset(&req, 0xa5, sizeof(req));
	int r = proto_decode_request(buf, len, &req, err, sizeof(err));
	assert_int_equal(r, expect);
	assert_true(err[0] != '\0');
	for (size_t i = 0; i < sizeof(req); i++)
		assert_int_equal(((unsigned char *)&req)[i], 0xa5);
}

static void expect_reject(const char *s, int expect)
{
	expect_reject_len(s, strlen(s), expect);
}

static void test_valid(void **state)
{
	(void)state;
	struct proto_request req;
	char err[256] = "";

	assert_int_equal(decode("{\"v\":1,\"cmd\":\"status\"}", &req, err, sizeof(err)), 0);
	assert_int_equal(req.version, 1);
	assert_string_equal(req.cmd, "status");
	assert_null(req.args);
	proto_request_free(&req);

	assert_int_equal(decode(" {\"cmd\":\"log\", \"args\":{\"since\":5,\"limit\":10}, \"v\":1}\r\n", &req,
				err, sizeof(err)),
			 0);
	assert_string_equal(req.cmd, "log");
	assert_non_null(req.args);
	json_object *since;
	assert_true(json_object_object_get_ex(req.args, "since", &since));
	assert_int_equal(json_object_get_int64(since), 5);
	proto_request_free(&req);
	assert_null(req.args);
	proto_request_free(&req); /* idempotent */

	/* "args": null means no arguments */
	assert_int_equal(decode("{\"v\":1,\"cmd\":\"ksm\",\"args\":null}", &req, err, sizeof(err)), 0);
	assert_null(req.args);
	proto_request_free(&req);

	/* longest allowed command name */
	char buf[128];
	snprintf(buf, sizeof(buf), "{\"v\":1,\"cmd\":\"%.*s\"}", PROTO_CMD_MAX - 1,
		 "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmn");
	assert_int_equal(decode(buf, &req, err, sizeof(err)), 0);
	assert_int_equal(strlen(req.cmd), PROTO_CMD_MAX - 1);
	proto_request_free(&req);
}

static void test_args_outlive_root(void **state)
{
	(void)state;
	struct proto_request req;
	char err[64];
	/* args must stay valid after the parse tree is dropped: the request owns a reference. */
	assert_int_equal(
	    decode("{\"v\":1,\"cmd\":\"x\",\"args\":{\"a\":[1,2,{\"b\":\"c\"}]}}", &req, err, sizeof(err)),
	    0);
	assert_string_equal(json_object_to_json_string_ext(req.args, JSON_C_TO_STRING_PLAIN),
			    "{\"a\":[1,2,{\"b\":\"c\"}]}");
	proto_request_free(&req);
}

static void test_too_big(void **state)
{
	(void)state;
	size_t n = PROTO_MAX_REQUEST + 1;
	char *buf = malloc(n);
	assert_non_null(buf);
	memset(buf, ' ', n);
	memcpy(buf, "{\"v\":1,\"cmd\":\"x\"}", 17);
	expect_reject_len(buf, n, -E2BIG);
	/* exactly the limit is fine (the newline the limit includes is not passed to the decoder) */
	struct proto_request req;
	char err[64];
	assert_int_equal(proto_decode_request(buf, PROTO_MAX_REQUEST, &req, err, sizeof(err)), 0);
	proto_request_free(&req);
	free(buf);

	/* 1 MiB of garbage */
	n = 1024 * 1024;
	buf = malloc(n);
	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)(i * 7919 % 251);
	expect_reject_len(buf, n, -E2BIG);
	free(buf);
}

static void test_invalid_json(void **state)
{
	(void)state;
	expect_reject("", -EPROTO);
	expect_reject("   ", -EPROTO);
	expect_reject("{", -EPROTO);
	expect_reject("{\"v\":1,", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":\"x\"", -EPROTO);
	expect_reject("hello", -EPROTO);
	expect_reject("{'v':1,'cmd':'x'}", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":\"x\",}", -EPROTO);
	expect_reject("{v:1,cmd:\"x\"}", -EPROTO);
	/* invalid UTF-8 inside a string */
	expect_reject("{\"v\":1,\"cmd\":\"x\",\"args\":{\"a\":\"\xff\xfe\"}}", -EPROTO);
}

static void test_trailing_garbage(void **state)
{
	(void)state;
	expect_reject("{\"v\":1,\"cmd\":\"x\"} x", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":\"x\"}{}", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":\"x\"}\n{\"v\":1,\"cmd\":\"y\"}", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":\"x\"}]", -EPROTO);
}

static void test_nul_bytes(void **state)
{
	(void)state;
	static const char a[] = "{\"v\":1,\"cmd\":\"x\"}\0garbage";
	expect_reject_len(a, sizeof(a) - 1, -EPROTO);
	static const char b[] = "{\"v\":1,\0\"cmd\":\"x\"}";
	expect_reject_len(b, sizeof(b) - 1, -EPROTO);
	static const char c[] = "\0";
	expect_reject_len(c, 1, -EPROTO);
	/* an escaped NUL inside the command name */
	expect_reject("{\"v\":1,\"cmd\":\"st\\u0000atus\"}", -EPROTO);
}

static void test_not_object(void **state)
{
	(void)state;
	expect_reject("[1,2]", -EPROTO);
	expect_reject("1", -EPROTO);
	expect_reject("\"status\"", -EPROTO);
	expect_reject("null", -EPROTO);
	expect_reject("true", -EPROTO);
}

static void test_version(void **state)
{
	(void)state;
	struct proto_request req;
	char err[256];

	expect_reject("{\"cmd\":\"x\"}", -EPROTO);
	expect_reject("{\"v\":\"1\",\"cmd\":\"x\"}", -EPROTO);
	expect_reject("{\"v\":1.0,\"cmd\":\"x\"}", -EPROTO);
	expect_reject("{\"v\":true,\"cmd\":\"x\"}", -EPROTO);
	expect_reject("{\"v\":null,\"cmd\":\"x\"}", -EPROTO);
	expect_reject("{\"v\":[1],\"cmd\":\"x\"}", -EPROTO);
	expect_reject("{\"v\":0,\"cmd\":\"x\"}", -EPROTONOSUPPORT);
	expect_reject("{\"v\":-1,\"cmd\":\"x\"}", -EPROTONOSUPPORT);
	expect_reject("{\"v\":99999999999999999999999,\"cmd\":\"x\"}", -EPROTONOSUPPORT);

	memset(&req, 0, sizeof(req));
	assert_int_equal(decode("{\"v\":2,\"cmd\":\"status\"}", &req, err, sizeof(err)), -EPROTONOSUPPORT);
	assert_string_equal(err, "unsupported protocol version 2 (this daemon speaks 1)");
	assert_int_equal(decode("{\"v\":2, \"cmd\":3}", &req, err, sizeof(err)), -EPROTONOSUPPORT);
}

static void test_cmd(void **state)
{
	(void)state;
	char buf[128];
	expect_reject("{\"v\":1}", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":1}", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":null}", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":[\"x\"]}", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":{}}", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":\"\"}", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":\"st atus\"}", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":\"x\\n\"}", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":\"\\u001b[31mred\"}", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":\"caf\xc3\xa9\"}", -EPROTO);
	snprintf(buf, sizeof(buf), "{\"v\":1,\"cmd\":\"%.*s\"}", PROTO_CMD_MAX,
		 "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmn");
	expect_reject(buf, -EPROTO);
}

static void test_args_type(void **state)
{
	(void)state;
	expect_reject("{\"v\":1,\"cmd\":\"x\",\"args\":[]}", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":\"x\",\"args\":\"a=b\"}", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":\"x\",\"args\":1}", -EPROTO);
	expect_reject("{\"v\":1,\"cmd\":\"x\",\"args\":false}", -EPROTO);
}

static void test_deep_nesting(void **state)
{
	(void)state;
	size_t depth = 10000;
	char *buf = malloc(depth * 2 + 64);
	assert_non_null(buf);
	size_t n = (size_t)sprintf(buf, "{\"v\":1,\"cmd\":\"x\",\"args\":{\"a\":");
	for (size_t i = 0; i < depth; i++)
		buf[n++] = '[';
	for (size_t i = 0; i < depth; i++)
		buf[n++] = ']';
	buf[n++] = '}';
	buf[n++] = '}';
	expect_reject_len(buf, n, -EPROTO);

	/* moderate nesting within the limit is accepted */
	n = (size_t)sprintf(buf, "{\"v\":1,\"cmd\":\"x\",\"args\":{\"a\":[[[[{\"b\":[1]}]]]]}}");
	struct proto_request req;
	char err[128];
	assert_int_equal(proto_decode_request(buf, n, &req, err, sizeof(err)), 0);
	proto_request_free(&req);

	/* only brackets */
	memset(buf, '[', depth);
	expect_reject_len(buf, depth, -EPROTO);
	free(buf);
}

static void test_garbage_within_limit(void **state)
{
	(void)state;
	size_t n = PROTO_MAX_REQUEST - 1;
	char *buf = malloc(n);
	assert_non_null(buf);
	unsigned x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (char)(x >> 16);
	}
	buf[0] = '{';
	expect_reject_len(buf, n, -EPROTO);
	free(buf);
}

static void test_builders(void **state)
{
	(void)state;
	_cleanup_json_ json_object *req = proto_make_request("ksm", NULL);
	assert_string_equal(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
			    "{\"v\":1,\"cmd\":\"ksm\"}");

	json_object *args = json_object_new_object();
	json_object_object_add(args, "since", json_object_new_int(3));
	_cleanup_json_ json_object *req2 = proto_make_request("log", args);
	const char *s = json_object_to_json_string_ext(req2, JSON_C_TO_STRING_PLAIN);
	struct proto_request d;
	char err[128];
	assert_int_equal(proto_decode_request(s, strlen(s), &d, err, sizeof(err)), 0);
	assert_string_equal(d.cmd, "log");
	assert_string_equal(json_object_to_json_string_ext(d.args, JSON_C_TO_STRING_PLAIN), "{\"since\":3}");
	proto_request_free(&d);

	_cleanup_json_ json_object *ok = proto_make_ok(NULL);
	assert_string_equal(json_object_to_json_string_ext(ok, JSON_C_TO_STRING_PLAIN),
			    "{\"v\":1,\"ok\":true,\"result\":{}}");
	json_object *res = json_object_new_object();
	json_object_object_add(res, "pid", json_object_new_int(7));
	_cleanup_json_ json_object *ok2 = proto_make_ok(res);
	assert_string_equal(json_object_to_json_string_ext(ok2, JSON_C_TO_STRING_PLAIN),
			    "{\"v\":1,\"ok\":true,\"result\":{\"pid\":7}}");

	_cleanup_json_ json_object *e = proto_make_error("EPERM", "command '%s' changes the host", "ksm-set");
	assert_string_equal(
	    json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN),
	    "{\"v\":1,\"ok\":false,\"error\":{\"code\":\"EPERM\",\"message\":\"command 'ksm-set' "
	    "changes the host\"}}");
}

/* --- proto_call against small forked servers --- */

static char tmpdir[64];
static char sock_path[96];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_proto.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/s.sock", tmpdir);
	return 0;
}

static int teardown_dir(void **state)
{
	(void)state;
	unlink(sock_path);
	rmdir(tmpdir);
	return 0;
}

static int listen_on(const char *path, bool do_listen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	unlink(path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* Fork a server that accepts one client, reads one line, then answers `reply` (len bytes) and,
 * if stall_ms, waits before closing. */
static pid_t serve_once(int lfd, const char *reply, size_t len, int stall_ms)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int c = accept(lfd, NULL, NULL);
		char buf[4096];
		size_t got = 0;
		if (c < 0)
			_exit(1);
		while (got < sizeof(buf)) {
			ssize_t n = read(c, buf + got, sizeof(buf) - got);
			if (n <= 0)
				break;
			got += (size_t)n;
			if (memchr(buf, '\n', got))
				break;
		}
		if (len && write(c, reply, len) != (ssize_t)len)
			_exit(2);
		if (stall_ms)
			usleep((useconds_t)stall_ms * 1000);
		close(c);
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int st;
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

static void test_call_no_daemon(void **state)
{
	(void)state;
	_cleanup_json_ json_object *req = proto_make_request("status", NULL);
	json_object *reply = NULL;

	unlink(sock_path);
	assert_int_equal(proto_call(sock_path, req, 500, &reply), -ENOENT);
	assert_null(reply);

	/* bound but not listening: a dead daemon's leftover socket */
	int fd = listen_on(sock_path, false);
	assert_int_equal(proto_call(sock_path, req, 500, &reply), -ECONNREFUSED);
	close(fd);
	assert_int_equal(proto_call(sock_path, req, 500, &reply), -ECONNREFUSED);
	unlink(sock_path);

	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(proto_call(longp, req, 500, &reply), -ENAMETOOLONG);
	assert_null(reply);
}

static void test_call_ok(void **state)
{
	(void)state;
	int lfd = listen_on(sock_path, true);
	static const char r[] = "{\"v\":1,\"ok\":true,\"result\":{\"pid\":42}}\nextra";
	pid_t pid = serve_once(lfd, r, sizeof(r) - 1, 0);
	_cleanup_json_ json_object *req = proto_make_request("status", NULL);
	_cleanup_json_ json_object *reply = NULL;
	assert_int_equal(proto_call(sock_path, req, 2000, &reply), 0);
	json_object *res, *p;
	assert_true(json_object_object_get_ex(reply, "result", &res));
	assert_true(json_object_object_get_ex(res, "pid", &p));
	assert_int_equal(json_object_get_int(p), 42);
	reap(pid);
	close(lfd);
}

static void test_call_no_newline_eof(void **state)
{
	(void)state;
	int lfd = listen_on(sock_path, true);
	static const char r[] = "{\"v\":1,\"ok\":false,\"error\":{\"code\":\"EIO\",\"message\":\"m\"}}";
	pid_t pid = serve_once(lfd, r, sizeof(r) - 1, 0);
	_cleanup_json_ json_object *req = proto_make_request("status", NULL);
	_cleanup_json_ json_object *reply = NULL;
	assert_int_equal(proto_call(sock_path, req, 2000, &reply), 0);
	json_object *ok;
	assert_true(json_object_object_get_ex(reply, "ok", &ok));
	assert_false(json_object_get_boolean(ok));
	reap(pid);
	close(lfd);
}

static void test_call_bad_replies(void **state)
{
	(void)state;
	static const char *bad[] = {"garbage\n", "[1,2]\n", "{\"v\":1\n", "\n"};
	_cleanup_json_ json_object *req = proto_make_request("status", NULL);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		int lfd = listen_on(sock_path, true);
		pid_t pid = serve_once(lfd, bad[i], strlen(bad[i]), 0);
		json_object *reply = NULL;
		assert_int_equal(proto_call(sock_path, req, 2000, &reply), -EPROTO);
		assert_null(reply);
		reap(pid);
		close(lfd);
	}
	/* closes without answering (a daemon that died while handling it): told apart from a bad reply */
	int lfd = listen_on(sock_path, true);
	pid_t pid = serve_once(lfd, "", 0, 0);
	json_object *reply = NULL;
	assert_int_equal(proto_call(sock_path, req, 2000, &reply), -ECONNABORTED);
	reap(pid);
	close(lfd);
}

static void test_call_timeout(void **state)
{
	(void)state;
	int lfd = listen_on(sock_path, true);
	/* accepts, reads, never answers within the timeout */
	pid_t pid = serve_once(lfd, "", 0, 3000);
	_cleanup_json_ json_object *req = proto_make_request("status", NULL);
	json_object *reply = NULL;
	assert_int_equal(proto_call(sock_path, req, 200, &reply), -ETIMEDOUT);
	assert_null(reply);
	reap(pid);

	/* a listener that never accepts: the request fits the socket buffer, the reply never comes */
	assert_int_equal(proto_call(sock_path, req, 200, &reply), -ETIMEDOUT);
	close(lfd);
}

static void test_call_reply_too_big(void **state)
{
	(void)state;
	int lfd = listen_on(sock_path, true);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int c = accept(lfd, NULL, NULL);
		char chunk[65536];
		memset(chunk, ' ', sizeof(chunk));
		chunk[0] = '{';
		for (size_t sent = 0; sent <= PROTO_MAX_REPLY + sizeof(chunk);) {
			ssize_t n = write(c, chunk, sizeof(chunk));
			if (n <= 0)
				_exit(0);
			sent += (size_t)n;
			chunk[0] = ' ';
		}
		_exit(0);
	}
	_cleanup_json_ json_object *req = proto_make_request("status", NULL);
	json_object *reply = NULL;
	assert_int_equal(proto_call(sock_path, req, 5000, &reply), -EPROTO);
	assert_null(reply);
	reap(pid);
	close(lfd);
}

static void test_call_request_too_big(void **state)
{
	(void)state;
	json_object *args = json_object_new_object();
	char *big = malloc(PROTO_MAX_REQUEST);
	assert_non_null(big);
	memset(big, 'a', PROTO_MAX_REQUEST - 1);
	big[PROTO_MAX_REQUEST - 1] = '\0';
	json_object_object_add(args, "blob", json_object_new_string(big));
	free(big);
	_cleanup_json_ json_object *req = proto_make_request("x", args);
	json_object *reply = NULL;
	assert_int_equal(proto_call("/nonexistent/sock", req, 100, &reply), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_args_outlive_root),
	    cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_invalid_json),
	    cmocka_unit_test(test_trailing_garbage),
	    cmocka_unit_test(test_nul_bytes),
	    cmocka_unit_test(test_not_object),
	    cmocka_unit_test(test_version),
	    cmocka_unit_test(test_cmd),
	    cmocka_unit_test(test_args_type),
	    cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_garbage_within_limit),
	    cmocka_unit_test(test_builders),
	    cmocka_unit_test_setup_teardown(test_call_no_daemon, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_call_ok, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_call_no_newline_eof, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_call_bad_replies, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_call_timeout, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_call_reply_too_big, setup_dir, teardown_dir),
	    cmocka_unit_test(test_call_request_too_big),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
