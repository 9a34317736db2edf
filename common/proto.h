/* proto.h - memopt control protocol, shared by memoptd and memoptctl.
 *
 * Transport: a Unix stream socket (default /run/memopt/memoptd.sock). One request per connection:
 * the client writes one JSON object terminated by '\n' (at most PROTO_MAX_REQUEST bytes including the
 * newline), the server answers with one JSON object terminated by '\n' and closes.
 *
 * Request:  {"v":1,"cmd":"ksm","args":{...}}           ("args" optional)
 * Reply:    {"v":1,"ok":true,"result":{...}}
 *           {"v":1,"ok":false,"error":{"code":"EPERM","message":"..."}}
 * Error codes (strings): EPROTO (bad JSON / missing fields), EVERSION (unsupported "v"),
 * ENOCMD (unknown command), EINVAL (bad args), EPERM (not allowed to mutate), E2BIG (request too
 * large), EAGAIN (subsystem not ready), EIO (the action failed), EBUSY (server full: this slow
 * connection was closed to serve others), ETIMEDOUT (no request and reply within the deadline).
 */
#ifndef MEMOPT_PROTO_H
#define MEMOPT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "jsonutil.h"

#define PROTO_VERSION 1
#define PROTO_MAX_REQUEST (64 * 1024)
#define PROTO_MAX_REPLY (8 * 1024 * 1024)
#define PROTO_CMD_MAX 32

struct proto_request {
	int version;
	char cmd[PROTO_CMD_MAX];
	json_object *args;              /* owned by the request; NULL if absent */
};

/* Decode one request line (no trailing newline needed). On failure returns -EPROTO / -E2BIG /
 * -EPROTONOSUPPORT (wrong version) and writes a message to err. On success the caller must call
 * proto_request_free(). Hostile-input safe: len is bounded, depth limited. */
int proto_decode_request(const char *buf, size_t len, struct proto_request *ret, char *err, size_t errlen);
void proto_request_free(struct proto_request *req);

/* Build a request object (takes ownership of args, which may be NULL). */
json_object *proto_make_request(const char *cmd, json_object *args);
/* Build replies (take ownership of result). */
json_object *proto_make_ok(json_object *result);
json_object *proto_make_error(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Client side: connect to socket_path, send request, read the reply (bounded), return it parsed.
 * Returns 0, -ENOENT/-ECONNREFUSED when no daemon listens, -ETIMEDOUT, -ECONNABORTED when it closed the
 * connection without a reply (stopped or died meanwhile), -EPROTO for an invalid reply. */
int proto_call(const char *socket_path, json_object *request, int timeout_ms, json_object **ret_reply);

#endif
