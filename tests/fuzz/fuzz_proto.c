/* fuzz_proto.c - libFuzzer target: the control protocol request decoder (one request line). */
#include <string.h>
#include <json-c/json.h>

#include "common/proto.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_request req;
	char err[256];

	err[0] = '\0';
	int r = proto_decode_request((const char *)data, size, &req, err, sizeof(err));
	if (r < 0) {
		FZ_CHECK(err[0] != '\0');
		/* the error text goes back to the client inside a JSON reply */
		json_object *e = proto_make_error("EPROTO", "%s", err);
		FZ_CHECK(e != NULL);
		FZ_CHECK(json_object_to_json_string(e) != NULL);
		json_object_put(e);
		return 0;
	}
	FZ_CHECK(req.version == PROTO_VERSION);
	FZ_CHECK(req.cmd[0] != '\0' && strlen(req.cmd) < PROTO_CMD_MAX);
	FZ_CHECK(!req.args || json_object_is_type(req.args, json_type_object));

	/* What the CLI would send for it decodes to the same command. */
	json_object *args = req.args ? json_object_get(req.args) : NULL;
	json_object *again = proto_make_request(req.cmd, args);
	FZ_CHECK(again != NULL);
	const char *text = json_object_to_json_string_ext(again, JSON_C_TO_STRING_PLAIN);
	struct proto_request req2;
	if (strlen(text) <= PROTO_MAX_REQUEST) {
		FZ_CHECK(proto_decode_request(text, strlen(text), &req2, err, sizeof(err)) == 0);
		FZ_CHECK(strcmp(req.cmd, req2.cmd) == 0);
		proto_request_free(&req2);
	}
	json_object_put(again);
	proto_request_free(&req);
	return 0;
}
