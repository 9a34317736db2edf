/* UNIT-DEPS: daemon/ctlsrv.c */
/* fuzz_ctl.c - libFuzzer target: the daemon's request handling without a socket: one request line
 * through ctlsrv's dispatch (decode, command lookup, the mutation check, handler, reply), against a
 * command table of test handlers. The daemon's real handlers are not called: they read the host's
 * /proc and /sys or act on it (host-apply), which a fuzzer must not do.
 * Input: the first byte's low bit says whether the peer may mutate, the rest is the request line. */
#include <string.h>
#include <json-c/json.h>

#include "common/proto.h"
#include "daemon/ctlsrv.h"
#include "fuzz.h"

static bool mutated;

static int h_echo(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer;
	(void)err;
	(void)errlen;
	*ret = args ? json_object_get(args) : NULL;
	return 0;
}

static int h_change(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)args;
	(void)err;
	(void)errlen;
	/* the oracle: a mutating handler never runs for a peer that may not mutate */
	FZ_CHECK(peer->may_mutate);
	mutated = true;
	*ret = json_object_new_object();
	return 0;
}

/* Fails with a message quoting its argument, as the real handlers quote names and sizes. */
static int h_fail(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	json_object *o;

	(void)peer;
	(void)ret;
	if (args && json_object_object_get_ex(args, "name", &o) && json_object_is_type(o, json_type_string))
		snprintf(err, errlen, "no domain '%s'", json_object_get_string(o));
	return -ENOENT;
}

static int h_defer(const struct ctl_peer *peer, json_object *args, json_object **ret, char *err, size_t errlen)
{
	(void)peer;
	(void)args;
	(void)ret;
	(void)err;
	(void)errlen;
	return ctl_defer() ? CTL_DEFERRED : -EIO;
}

static const struct ctl_command cmds[] = {
	{"status", false, "", h_echo},
	{"balloon-set", true, "name:string size:string", h_change},
	{"balloon-release", false, "name:string", h_fail},
	{"cluster-reserve", false, "", h_defer},
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_setup();
	if (ctl_register(cmds, sizeof(cmds) / sizeof(cmds[0])) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	struct ctl_peer peer = {.pid = 1, .uid = 1000, .gid = 1000, .may_mutate = data[0] & 1};
	const char *line = (const char *)data + 1;
	size_t len = size - 1;
	/* the server dispatches up to the first newline */
	const char *nl = memchr(line, '\n', len);
	if (nl)
		len = (size_t)(nl - line);

	mutated = false;
	json_object *reply = ctl_dispatch_request(&peer, line, len);
	FZ_CHECK(reply != NULL);
	json_object *ok;
	FZ_CHECK(json_object_object_get_ex(reply, "ok", &ok) && json_object_is_type(ok, json_type_boolean));
	FZ_CHECK(!mutated || json_object_get_boolean(ok));

	/* the reply must parse with the client's rules (strict, valid UTF-8) */
	size_t rlen;
	const char *text = json_object_to_json_string_length(reply, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
							     &rlen);
	FZ_CHECK(text && rlen + 1 <= PROTO_MAX_REPLY);
	json_tokener *tok = json_tokener_new_ex(64);
	FZ_CHECK(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *back = json_tokener_parse_ex(tok, text, (int)rlen);
	if (!back) {
		fprintf(fz_report(), "reply does not parse for the client (%s): %s\n",
			json_tokener_error_desc(json_tokener_get_error(tok)), text);
		abort();
	}
	json_object_put(back);
	json_tokener_free(tok);
	json_object_put(reply);
	return 0;
}
