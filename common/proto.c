/* proto.c - memopt control protocol: request decoding, reply building, and the client call. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "proto.h"

/* Nesting allowed in a request: {"v":1,"args":{...}} needs 2-3 levels; 16 leaves room for structured
 * arguments while keeping a hostile "[[[[..." cheap to reject. */
#define PROTO_REQUEST_DEPTH 16
/* Replies carry tables of objects; still bounded so a broken peer cannot exhaust the stack. */
#define PROTO_REPLY_DEPTH 64

static void tokener_freep(json_tokener **t)
{
	if (*t)
		json_tokener_free(*t);
}

/* Parse exactly one JSON value from buf[0..len): whitespace may follow it, nothing else.
 * Returns the value or NULL with a message in err. */
static json_object *parse_one(const char *buf, size_t len, int depth, char *err, size_t errlen)
{
	_cleanup_(tokener_freep) json_tokener *tok = NULL;
	json_object *o;
	size_t end;

	if (len > INT32_MAX) {
		snprintf(err, errlen, "message too large");
		return NULL;
	}
	/* json-c would stop at an embedded NUL and report the prefix; a NUL is never valid JSON text. */
	if (memchr(buf, '\0', len)) {
		snprintf(err, errlen, "invalid JSON: NUL byte in message");
		return NULL;
	}
	tok = json_tokener_new_ex(depth);
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
					JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (!o) {
		enum json_tokener_error jerr = json_tokener_get_error(tok);
		if (jerr == json_tokener_continue || jerr == json_tokener_success)
			snprintf(err, errlen, "invalid JSON: truncated message");
		else
			snprintf(err, errlen, "invalid JSON at offset %zu: %s",
				 json_tokener_get_parse_end(tok), json_tokener_error_desc(jerr));
		return NULL;
	}
	end = json_tokener_get_parse_end(tok);
	for (size_t i = end; i < len; i++)
		if (!strchr(" \t\r\n", buf[i])) {
			snprintf(err, errlen, "invalid JSON: trailing data at offset %zu", i);
			json_object_put(o);
			return NULL;
		}
	return o;
}

/* A command name is echoed in replies and logs: keep it to a plain identifier. */
static bool cmd_name_valid(const char *s, size_t n)
{
	if (n == 0 || n >= PROTO_CMD_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

int proto_decode_request(const char *buf, size_t len, struct proto_request *ret, char *err, size_t errlen)
{
	_cleanup_json_ json_object *root = NULL;
	json_object *v, *cmd, *args = NULL;
	int64_t version;
	const char *name;
	size_t name_len;

	if (!buf || !ret)
		return -EINVAL;
	if (len > PROTO_MAX_REQUEST) {
		snprintf(err, errlen, "request of %zu bytes exceeds the limit of %d bytes", len,
			 PROTO_MAX_REQUEST);
		return -E2BIG;
	}
	root = parse_one(buf, len, PROTO_REQUEST_DEPTH, err, errlen);
	if (!root)
		return -EPROTO;
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "request is not a JSON object");
		return -EPROTO;
	}
	if (!json_object_object_get_ex(root, "v", &v) || !json_object_is_type(v, json_type_int)) {
		snprintf(err, errlen, "request has no integer \"v\" (protocol version)");
		return -EPROTO;
	}
	/* json-c clamps out-of-range integers, so a huge "v" is reported as INT64_MAX. */
	version = json_object_get_int64(v);
	if (version != PROTO_VERSION) {
		snprintf(err, errlen, "unsupported protocol version %" PRId64 " (this daemon speaks %d)",
			 version, PROTO_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (!json_object_object_get_ex(root, "cmd", &cmd) || !json_object_is_type(cmd, json_type_string)) {
		snprintf(err, errlen, "request has no string \"cmd\"");
		return -EPROTO;
	}
	name = json_object_get_string(cmd);
	name_len = (size_t)json_object_get_string_len(cmd);
	if (strlen(name) != name_len || !cmd_name_valid(name, name_len)) {
		snprintf(err, errlen, "invalid \"cmd\": expected 1-%d characters of [A-Za-z0-9_.-]",
			 PROTO_CMD_MAX - 1);
		return -EPROTO;
	}
	/* An explicit "args": null means no arguments. */
	if (json_object_object_get_ex(root, "args", &args) && args &&
	    !json_object_is_type(args, json_type_object)) {
		snprintf(err, errlen, "\"args\" must be a JSON object");
		return -EPROTO;
	}

	memset(ret, 0, sizeof(*ret));
	ret->version = (int)version;
	memcpy(ret->cmd, name, name_len + 1);
	ret->args = args ? json_object_get(args) : NULL;
	return 0;
}

void proto_request_free(struct proto_request *req)
{
	if (!req)
		return;
	if (req->args)
		json_object_put(req->args);
	req->args = NULL;
}

json_object *proto_make_request(const char *cmd, json_object *args)
{
	json_object *o = json_object_new_object();
	if (!o) {
		if (args)
			json_object_put(args);
		return NULL;
	}
	json_object_object_add(o, "v", json_object_new_int(PROTO_VERSION));
	json_object_object_add(o, "cmd", json_object_new_string(cmd ? cmd : ""));
	if (args)
		json_object_object_add(o, "args", args);
	return o;
}

json_object *proto_make_ok(json_object *result)
{
	json_object *o = json_object_new_object();
	if (!o) {
		if (result)
			json_object_put(result);
		return NULL;
	}
	json_object_object_add(o, "v", json_object_new_int(PROTO_VERSION));
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "result", result ? result : json_object_new_object());
	return o;
}

json_object *proto_make_error(const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_object *o, *e;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	o = json_object_new_object();
	e = json_object_new_object();
	if (!o || !e) {
		if (o)
			json_object_put(o);
		if (e)
			json_object_put(e);
		return NULL;
	}
	json_object_object_add(e, "code", json_object_new_string(code ? code : "EIO"));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(o, "v", json_object_new_int(PROTO_VERSION));
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", e);
	return o;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait for `events` on fd until the deadline. Returns 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, uint64_t deadline_ms)
{
	for (;;) {
		uint64_t now = mono_ms();
		struct pollfd p = {.fd = fd, .events = events};
		int r;

		if (now >= deadline_ms)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)(deadline_ms - now > INT32_MAX ? INT32_MAX : deadline_ms - now));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r > 0)
			return 0;
	}
}

static int connect_unix(const char *socket_path, int timeout_ms, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	size_t plen = strlen(socket_path);

	if (plen == 0)
		return -EINVAL;
	if (plen >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, socket_path, plen + 1);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A Unix connect() blocks while the listener's backlog is full; SO_SNDTIMEO bounds that wait. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EAGAIN || errno == EINPROGRESS)
			return -ETIMEDOUT;
		return -errno;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int send_all(int fd, const char *buf, size_t len, uint64_t deadline_ms)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				int r = wait_fd(fd, POLLOUT, deadline_ms);
				if (r < 0)
					return r;
				continue;
			}
			return -errno;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Read until a newline or EOF, at most PROTO_MAX_REPLY bytes. *ret_buf is NUL-terminated. */
static int recv_line(int fd, uint64_t deadline_ms, char **ret_buf, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		ssize_t n;
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *nb;
			if (cap >= PROTO_MAX_REPLY)
				return -EMSGSIZE;
			if (ncap > PROTO_MAX_REPLY)
				ncap = PROTO_MAX_REPLY;
			nb = realloc(buf, ncap + 1);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap = ncap;
		}
		n = recv(fd, buf + len, cap - len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				int r = wait_fd(fd, POLLIN, deadline_ms);
				if (r < 0)
					return r;
				continue;
			}
			/* The server closes right after replying; unread request bytes then turn EOF into a
			 * reset. Whatever reply arrived before it is still good. */
			if (errno == ECONNRESET && len > 0)
				break;
			return -errno;
		}
		if (n == 0)
			break;
		if (memchr(buf + len, '\n', (size_t)n)) {
			len += (size_t)n;
			break;
		}
		len += (size_t)n;
	}
	/* Closed without a word: memoptd stopped or died while it handled the request. */
	if (len == 0)
		return -ECONNABORTED;
	buf[len] = '\0';
	*ret_len = len;
	*ret_buf = TAKE_PTR(buf);
	return 0;
}

int proto_call(const char *socket_path, json_object *request, int timeout_ms, json_object **ret_reply)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *line = NULL, *reply = NULL;
	json_object *o;
	const char *s;
	char *nl;
	size_t slen, rlen = 0, end;
	char err[256];
	uint64_t deadline;
	int r;

	if (!socket_path || !request || !ret_reply)
		return -EINVAL;
	if (timeout_ms <= 0)
		timeout_ms = 1;
	deadline = mono_ms() + (uint64_t)timeout_ms;

	s = json_object_to_json_string_length(request, JSON_C_TO_STRING_PLAIN, &slen);
	if (!s)
		return -ENOMEM;
	if (slen + 1 > PROTO_MAX_REQUEST)
		return -E2BIG;
	line = malloc(slen + 1);
	if (!line)
		return -ENOMEM;
	memcpy(line, s, slen);
	line[slen] = '\n';

	r = connect_unix(socket_path, timeout_ms, &fd);
	if (r < 0)
		return r;
	r = send_all(fd, line, slen + 1, deadline);
	/* A server that rejects the request early (E2BIG) closes while we write: read its answer. */
	if (r < 0 && r != -EPIPE && r != -ECONNRESET)
		return r;

	r = recv_line(fd, deadline, &reply, &rlen);
	if (r == -ECONNRESET)
		return -ECONNABORTED;
	if (r == -EMSGSIZE)
		return -EPROTO;
	if (r < 0)
		return r;
	/* Only the first line is the reply. */
	nl = memchr(reply, '\n', rlen);
	end = nl ? (size_t)(nl - reply) : rlen;
	o = parse_one(reply, end, PROTO_REPLY_DEPTH, err, sizeof(err));
	if (!o)
		return -EPROTO;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EPROTO;
	}
	*ret_reply = o;
	return 0;
}
