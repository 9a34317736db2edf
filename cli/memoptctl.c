/* memoptctl.c - command-line client of memoptd's control socket: a verb table in the style of oomctl. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/config.h"
#include "common/proto.h"
#include "common/units.h"
#include "render.h"
#include "views.h"
#include "views_cluster.h"

#include "../common/version.h"
#define DEFAULT_TIMEOUT_MS 5000
#define MAX_TIMEOUT_MS 600000
#define VERB_ANY (-1)

/* Exit codes: documented in --help and docs/protocol.md. */
enum {
	EXIT_OK = 0,
	EXIT_DAEMON_ERROR = 1, /* memoptd answered with an error */
	EXIT_USAGE = 2,	       /* bad command line */
	EXIT_NOT_RUNNING = 3,  /* no socket / nobody listening */
	EXIT_PERMISSION = 4,   /* EPERM from memoptd, or the socket cannot be opened */
	EXIT_PROTOCOL = 5,     /* invalid reply, version mismatch, timeout */
};

struct ctx {
	const char *socket_path;
	bool json;
	int timeout_ms;
	bool have_since, have_limit;
	bool dry_run;
	uint64_t since;
	uint64_t limit;
	/* cluster verbs (headroom, admit, place, ...) */
	bool cluster_opts; /* any of the options below was given */
	bool explain, hugepages, one_node;
	uint64_t mem_kib, min_kib, ttl_ms;
	const char *reserve, *target, *exclude, *host;
};

struct verb {
	const char *name;
	int min_args, max_args; /* positional arguments after the verb; VERB_ANY = unbounded */
	int (*run)(struct ctx *ctx, int argc, char **argv);
	const char *help;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Map a daemon error code to our exit code. */
static int exit_for_code(const char *code)
{
	if (strcmp(code, "EPERM") == 0)
		return EXIT_PERMISSION;
	if (strcmp(code, "EPROTO") == 0 || strcmp(code, "EVERSION") == 0 || strcmp(code, "E2BIG") == 0)
		return EXIT_PROTOCOL;
	return EXIT_DAEMON_ERROR;
}

static int report_call_error(const struct ctx *ctx, int r)
{
	switch (-r) {
	case ENOENT:
	case ENOTDIR:
		fprintf(stderr,
			"memoptctl: memoptd is not running (no socket at %s): start it with 'memoptd "
			"--foreground'\n",
			ctx->socket_path);
		return EXIT_NOT_RUNNING;
	case ECONNREFUSED:
		fprintf(stderr,
			"memoptctl: memoptd is not running (nobody listens on %s): start it with 'memoptd "
			"--foreground'\n",
			ctx->socket_path);
		return EXIT_NOT_RUNNING;
	case EACCES:
	case EPERM:
		fprintf(stderr, "memoptctl: permission denied opening %s\n", ctx->socket_path);
		return EXIT_PERMISSION;
	case ETIMEDOUT:
		fprintf(stderr, "memoptctl: memoptd did not answer within %d ms\n", ctx->timeout_ms);
		return EXIT_PROTOCOL;
	case ECONNABORTED:
		fprintf(stderr,
			"memoptctl: memoptd on %s closed the connection without answering (it stopped or died "
			"while handling the request; see its log and 'memoptctl status' before retrying)\n",
			ctx->socket_path);
		return EXIT_PROTOCOL;
	case EPROTO:
		fprintf(stderr, "memoptctl: invalid reply from memoptd on %s\n", ctx->socket_path);
		return EXIT_PROTOCOL;
	case ENAMETOOLONG:
		fprintf(stderr, "memoptctl: socket path is too long: %s\n", ctx->socket_path);
		return EXIT_USAGE;
	default:
		fprintf(stderr, "memoptctl: talking to memoptd on %s failed: %s\n", ctx->socket_path,
			strerror(-r));
		return EXIT_PROTOCOL;
	}
}

/* Send one command; on success *ret_result is the reply's "result" (a new reference). On failure the
 * problem has been printed and the exit code is returned. */
static int call(const struct ctx *ctx, const char *cmd, json_object *args, json_object **ret_result)
{
	_cleanup_json_ json_object *req = proto_make_request(cmd, args);
	_cleanup_json_ json_object *reply = NULL;
	json_object *ok, *result;
	int r;

	if (!req) {
		fprintf(stderr, "memoptctl: out of memory\n");
		return EXIT_PROTOCOL;
	}
	r = proto_call(ctx->socket_path, req, ctx->timeout_ms, &reply);
	if (r < 0)
		return report_call_error(ctx, r);

	if (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_is_type(ok, json_type_boolean)) {
		fprintf(stderr, "memoptctl: invalid reply from memoptd: no \"ok\"\n");
		return EXIT_PROTOCOL;
	}
	if (!json_object_get_boolean(ok)) {
		const char *code = jv_str(reply, "error.code");
		fprintf(stderr, "memoptctl: %s: %s (%s)\n", cmd, jv_str(reply, "error.message"), code);
		return exit_for_code(code);
	}
	if (!json_object_object_get_ex(reply, "result", &result) || !result) {
		fprintf(stderr, "memoptctl: invalid reply from memoptd: no \"result\"\n");
		return EXIT_PROTOCOL;
	}
	*ret_result = json_object_get(result);
	return EXIT_OK;
}

static void print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						   JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int verb_status(struct ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	_cleanup_json_ json_object *res = NULL;
	int r = call(ctx, "status", NULL, &res);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		print_json(res);
	else
		view_status(res, stdout);
	return EXIT_OK;
}

static int verb_ksm(struct ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	_cleanup_json_ json_object *res = NULL;
	int r = call(ctx, "ksm", NULL, &res);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		print_json(res);
	else
		view_ksm(res, mono_ms(), stdout);
	return EXIT_OK;
}

static int verb_log(struct ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	_cleanup_json_ json_object *res = NULL;
	json_object *args = NULL;
	int r;

	if (ctx->have_since || ctx->have_limit) {
		args = json_object_new_object();
		if (!args)
			return EXIT_PROTOCOL;
		if (ctx->have_since)
			json_object_object_add(args, "since", json_object_new_int64((int64_t)ctx->since));
		if (ctx->have_limit)
			json_object_object_add(args, "limit", json_object_new_int64((int64_t)ctx->limit));
	}
	r = call(ctx, "log", args, &res);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		print_json(res);
	else
		view_log(res, stdout);
	return EXIT_OK;
}

static int verb_help(struct ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	_cleanup_json_ json_object *res = NULL;
	int r = call(ctx, "help", NULL, &res);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		print_json(res);
	else
		view_help(res, stdout);
	return EXIT_OK;
}

static int verb_guests(struct ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	_cleanup_json_ json_object *res = NULL;
	int r = call(ctx, "guests", NULL, &res);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		print_json(res);
	else
		view_guests(res, stdout);
	return EXIT_OK;
}

/* balloon set NAME SIZE | balloon release NAME. SIZE is checked here with the daemon's own parser. */
static int verb_balloon(struct ctx *ctx, int argc, char **argv)
{
	_cleanup_json_ json_object *res = NULL;
	json_object *args;
	const char *cmd;
	uint64_t kib;
	int r;

	if (strcmp(argv[0], "set") == 0 && argc == 3) {
		if (unit_parse_size_kib(argv[2], &kib) < 0 || kib == 0) {
			fprintf(stderr, "memoptctl: invalid size '%s': expected e.g. 2G, 1536M or 1048576k\n",
				rd_safe(argv[2]));
			return EXIT_USAGE;
		}
		cmd = "balloon-set";
	} else if (strcmp(argv[0], "release") == 0 && argc == 2) {
		cmd = "balloon-release";
	} else {
		fprintf(stderr, "memoptctl: usage: balloon set NAME SIZE | balloon release NAME\n");
		return EXIT_USAGE;
	}
	args = json_object_new_object();
	if (!args)
		return EXIT_PROTOCOL;
	json_object_object_add(args, "name", json_object_new_string(argv[1]));
	if (argc == 3)
		json_object_object_add(args, "size", json_object_new_string(argv[2]));
	r = call(ctx, cmd, args, &res);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		print_json(res);
	else
		view_balloon_result(res, argv[0], stdout);
	return EXIT_OK;
}

/* --- cluster-hook verbs --- */

static json_object *request_args(const struct ctx *ctx)
{
	json_object *a = json_object_new_object();
	if (!a)
		return NULL;
	json_object_object_add(a, "mem", json_object_new_int64((int64_t)ctx->mem_kib));
	if (ctx->min_kib)
		json_object_object_add(a, "min", json_object_new_int64((int64_t)ctx->min_kib));
	if (ctx->hugepages)
		json_object_object_add(a, "hugepages", json_object_new_boolean(true));
	if (ctx->one_node)
		json_object_object_add(a, "one_node", json_object_new_boolean(true));
	return a;
}

static int verb_headroom(struct ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	_cleanup_json_ json_object *res = NULL;
	json_object *args = NULL;
	if (ctx->host) {
		args = json_object_new_object();
		if (!args)
			return EXIT_PROTOCOL;
		json_object_object_add(args, "host", json_object_new_string(ctx->host));
	}
	int r = call(ctx, "headroom", args, &res);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		print_json(res);
	else
		view_headroom(res, ctx->explain, stdout);
	return EXIT_OK;
}

/* admit: exit 0 admit, 1 refuse, 2 cannot say (also: no daemon, an error, or a usage error). */
static int verb_admit(struct ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	_cleanup_json_ json_object *res = NULL;
	if (!ctx->mem_kib) {
		fprintf(stderr, "memoptctl: admit needs --mem SIZE\n");
		return EXIT_USAGE;
	}
	if (ctx->ttl_ms && !ctx->reserve) {
		fprintf(stderr, "memoptctl: --ttl only applies with --reserve ID\n");
		return EXIT_USAGE;
	}
	json_object *args = request_args(ctx);
	if (!args)
		return 2;
	if (ctx->target)
		json_object_object_add(args, "target", json_object_new_string(ctx->target));
	if (ctx->reserve) {
		json_object_object_add(args, "id", json_object_new_string(ctx->reserve));
		if (ctx->ttl_ms)
			json_object_object_add(args, "ttl_ms", json_object_new_int64((int64_t)ctx->ttl_ms));
	}
	int r = call(ctx, ctx->reserve ? "reserve" : "admit", args, &res);
	if (r == EXIT_PERMISSION)
		return r; /* not "cannot say": the caller may not reserve at all */
	if (r != EXIT_OK)
		return 2;
	int64_t code = 2;
	if (!jv_get_int(res, "code", &code) || code < 0 || code > 2)
		code = 2;
	if (ctx->json)
		print_json(res);
	else
		view_admit(res, code == 0 ? stdout : stderr);
	return (int)code;
}

static int verb_release(struct ctx *ctx, int argc, char **argv)
{
	(void)argc;
	_cleanup_json_ json_object *res = NULL;
	json_object *args = json_object_new_object();
	if (!args)
		return EXIT_PROTOCOL;
	json_object_object_add(args, "id", json_object_new_string(argv[0]));
	int r = call(ctx, "release", args, &res);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		print_json(res);
	else
		printf("reservation %s: %s\n", jv_str(res, "reservation"), jv_str(res, "result"));
	return EXIT_OK;
}

static int verb_place(struct ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	_cleanup_json_ json_object *res = NULL;
	if (!ctx->mem_kib) {
		fprintf(stderr, "memoptctl: place needs --mem SIZE\n");
		return EXIT_USAGE;
	}
	json_object *args = request_args(ctx);
	if (!args)
		return EXIT_PROTOCOL;
	if (ctx->exclude)
		json_object_object_add(args, "exclude", json_object_new_string(ctx->exclude));
	int r = call(ctx, "place", args, &res);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		print_json(res);
	else
		view_place(res, stdout);
	return EXIT_OK;
}

static int verb_failover(struct ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	_cleanup_json_ json_object *res = NULL;
	int r = call(ctx, "failover-plan", NULL, &res);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		print_json(res);
	else
		view_failover(res, stdout);
	return EXIT_OK;
}

static int verb_cluster(struct ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	_cleanup_json_ json_object *res = NULL;
	int r = call(ctx, "cluster", NULL, &res);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		print_json(res);
	else
		view_cluster(res, stdout);
	return EXIT_OK;
}

static int verb_numa(struct ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	_cleanup_json_ json_object *res = NULL;
	int r = call(ctx, "numa", NULL, &res);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		print_json(res);
	else
		view_numa(res, stdout);
	return EXIT_OK;
}

/* host | host plan | host apply [--dry-run] | host restore [--dry-run] */
static int verb_host(struct ctx *ctx, int argc, char **argv)
{
	_cleanup_json_ json_object *res = NULL;
	const char *sub = argc > 0 ? argv[0] : "status", *cmd;
	json_object *args = NULL;
	int r;

	if (strcmp(sub, "status") == 0)
		cmd = "host";
	else if (strcmp(sub, "plan") == 0)
		cmd = "host-plan";
	else if (strcmp(sub, "apply") == 0)
		cmd = "host-apply";
	else if (strcmp(sub, "restore") == 0)
		cmd = "host-restore";
	else {
		fprintf(stderr, "memoptctl: usage: host [status|plan|apply|restore] [--dry-run]\n");
		return EXIT_USAGE;
	}
	if (ctx->dry_run && strcmp(sub, "apply") && strcmp(sub, "restore")) {
		fprintf(stderr, "memoptctl: --dry-run only applies to 'host apply' and 'host restore'\n");
		return EXIT_USAGE;
	}
	if (ctx->dry_run) {
		args = json_object_new_object();
		if (!args)
			return EXIT_PROTOCOL;
		json_object_object_add(args, "dry_run", json_object_new_boolean(1));
	}
	r = call(ctx, cmd, args, &res);
	if (r != EXIT_OK)
		return r;
	if (ctx->json)
		print_json(res);
	else if (strcmp(sub, "status") == 0)
		view_host(res, stdout);
	else if (strcmp(sub, "plan") == 0)
		view_host_plan(res, stdout);
	else if (strcmp(sub, "apply") == 0)
		view_host_apply(res, stdout);
	else
		view_host_restore(res, stdout);
	return EXIT_OK;
}

static const struct verb verbs[] = {
    {"status", 0, 0, verb_status, "daemon version, uptime, configuration, host memory and modules (default)"},
    {"ksm", 0, 0, verb_ksm, "KSM controller state, sharing, ksmd cost, knobs and per-VM savings"},
    {"log", 0, 0, verb_log, "recent decisions with their reasons [--since SEQ] [--limit N]"},
    {"guests", 0, 0, verb_guests, "per VM balloon size, floor, max, guest memory signals, KSM savings, last decision"},
    {"balloon", 2, 3, verb_balloon,
     "set NAME SIZE: pin a VM's balloon at SIZE (floor..max); release NAME: give it back to memoptd"},
    {"headroom", 0, 0, verb_headroom, "memory a new VM can get now, after reclaim, per NUMA node, hugepages [--explain] [--host NAME]"},
    {"admit", 0, 0, verb_admit,
     "--mem SIZE [--min SIZE] [--hugepages] [--one-node] [--target HOST] [--reserve ID [--ttl 120s]]: exit 0 admit, 1 refuse, 2 cannot say"},
    {"release", 1, 1, verb_release, "ID: drop a reservation made with admit --reserve"},
    {"place", 0, 0, verb_place, "--mem SIZE [--min SIZE] [--hugepages] [--one-node] [--exclude HOST]: ranked target hosts"},
    {"failover-plan", 0, 0, verb_failover, "whether each host's VMs fit on the others right now, and where (N+1)"},
    {"cluster", 0, 0, verb_cluster, "the cluster view: members, headroom, reservations, quorum"},
    {"numa", 0, 0, verb_numa, "NUMA nodes: memory, hugepage pools of every size, distances, per-VM placement"},
    {"host", 0, 1, verb_host,
     "host policy: status and drift; plan (current -> desired, why); apply [--dry-run]; restore [--dry-run]"},
    {"help", 0, 0, verb_help, "the commands this memoptd accepts, and which ones change the host"},
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: memoptctl [OPTIONS] [VERB]\n"
		     "\n"
		     "Query and control memoptd, the host memory optimizer.\n"
		     "\n"
		     "Verbs:\n");
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		fprintf(out, "  %-13s %s\n", verbs[i].name, verbs[i].help);
	fprintf(out,
		"\n"
		"Options:\n"
		"  --socket PATH   control socket (default $MEMOPT_SOCKET, else %s)\n"
		"  --json          print the daemon's result as JSON\n"
		"  --timeout MS    give up after MS milliseconds (default %d; \"2s\" also accepted)\n"
		"  --since SEQ     log: only decisions after sequence number SEQ\n"
		"  --limit N       log: at most the N newest decisions\n"
		"  --mem SIZE      admit/place: what the VM may grow to (16G, 16384M)\n"
		"  --min SIZE      admit/place: what it needs to start (its balloon floor)\n"
		"  --hugepages     admit/place: the VM is hugepage-backed (only the pool counts)\n"
		"  --one-node      admit/place: it must fit in one NUMA node\n"
		"  --target HOST   admit: the host to admit on (default this one)\n"
		"  --reserve ID    admit: hold the memory as reservation ID (libvirt name or UUID)\n"
		"  --ttl DURATION  admit --reserve: how long the reservation lives (default [cluster] default_ttl)\n"
		"  --exclude HOST  place: leave this host out\n"
		"  --host NAME     headroom: another host of the cluster view\n"
		"  --explain       headroom: every term of the model\n"
		"  --dry-run       host apply/restore: show what would be written, write nothing\n"
		"  -h, --help      show this help\n"
		"  --version       show the version\n"
		"\n"
		"Exit status:\n"
		"  0  success\n"
		"  1  memoptd answered with an error\n"
		"  2  usage error\n"
		"  3  memoptd is not running (no socket, or nobody listening)\n"
		"  4  permission denied (command changes the host: root or the admin group only)\n"
		"  5  protocol error or timeout\n"
		"  admit only: 0 admit, 1 refuse, 2 cannot say (stale data, no quorum, no daemon, usage),\n"
		"             4 permission denied (--reserve needs root or the admin group)\n",
		MEMOPT_DEFAULT_SOCKET, DEFAULT_TIMEOUT_MS);
}

static int parse_timeout(const char *s, int *ret_ms)
{
	uint64_t ms;
	int r;
	/* A bare number is milliseconds here; a duration with a unit ("2s", "500ms") goes through units.h,
	 * which reads a bare number as seconds. */
	if (s[strspn(s, "0123456789 \t")] == '\0')
		r = unit_parse_u64(s, 1, MAX_TIMEOUT_MS, &ms);
	else
		r = unit_parse_duration_ms(s, &ms);
	if (r < 0 || ms < 1 || ms > MAX_TIMEOUT_MS)
		return -EINVAL;
	*ret_ms = (int)ms;
	return 0;
}

enum {
	ARG_SOCKET = 0x100,
	ARG_JSON,
	ARG_TIMEOUT,
	ARG_SINCE,
	ARG_LIMIT,
	ARG_DRY_RUN,
	ARG_VERSION,
	ARG_MEM,
	ARG_MIN,
	ARG_HUGEPAGES,
	ARG_ONE_NODE,
	ARG_RESERVE,
	ARG_TTL,
	ARG_TARGET,
	ARG_EXCLUDE,
	ARG_HOST,
	ARG_EXPLAIN,
};

static int parse_size_opt(const char *name, const char *v, uint64_t *ret)
{
	if (unit_parse_size_kib(v, ret) < 0 || *ret == 0) {
		fprintf(stderr, "memoptctl: invalid %s '%s': expected e.g. 16G, 1536M or 1048576k\n", name, rd_safe(v));
		return -EINVAL;
	}
	return 0;
}

/* A name given to the cluster commands: 1..63 printable characters, no blanks. */
static int name_opt(const char *name, const char *v, const char **ret)
{
	size_t n = strlen(v);
	bool ok = n > 0 && n < 64;
	for (const char *p = v; ok && *p; p++)
		ok = (unsigned char)*p > 0x20 && *p != 0x7f;
	if (!ok) {
		fprintf(stderr, "memoptctl: invalid %s '%s': 1..63 printable characters without blanks\n", name,
			rd_safe(v));
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int parse_argv(int argc, char **argv, struct ctx *ctx)
{
	static const struct option options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, ARG_VERSION},
	    {"socket", required_argument, NULL, ARG_SOCKET},
	    {"json", no_argument, NULL, ARG_JSON},
	    {"timeout", required_argument, NULL, ARG_TIMEOUT},
	    {"since", required_argument, NULL, ARG_SINCE},
	    {"limit", required_argument, NULL, ARG_LIMIT},
	    {"mem", required_argument, NULL, ARG_MEM},
	    {"min", required_argument, NULL, ARG_MIN},
	    {"hugepages", no_argument, NULL, ARG_HUGEPAGES},
	    {"one-node", no_argument, NULL, ARG_ONE_NODE},
	    {"reserve", required_argument, NULL, ARG_RESERVE},
	    {"ttl", required_argument, NULL, ARG_TTL},
	    {"target", required_argument, NULL, ARG_TARGET},
	    {"exclude", required_argument, NULL, ARG_EXCLUDE},
	    {"host", required_argument, NULL, ARG_HOST},
	    {"explain", no_argument, NULL, ARG_EXPLAIN},
	    {"dry-run", no_argument, NULL, ARG_DRY_RUN},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case ARG_VERSION:
			printf("memoptctl %s (control protocol %d)\n", MEMOPT_VERSION, PROTO_VERSION);
			return 0;
		case ARG_SOCKET:
			if (!optarg[0]) {
				fprintf(stderr, "memoptctl: --socket needs a path\n");
				return -EINVAL;
			}
			ctx->socket_path = optarg;
			break;
		case ARG_JSON:
			ctx->json = true;
			break;
		case ARG_DRY_RUN:
			ctx->dry_run = true;
			break;
		case ARG_TIMEOUT:
			if (parse_timeout(optarg, &ctx->timeout_ms) < 0) {
				fprintf(stderr,
					"memoptctl: invalid --timeout '%s': expected milliseconds, 1..%d\n",
					rd_safe(optarg), MAX_TIMEOUT_MS);
				return -EINVAL;
			}
			break;
		case ARG_SINCE:
			if (unit_parse_u64(optarg, 0, INT64_MAX, &ctx->since) < 0) {
				fprintf(stderr,
					"memoptctl: invalid --since '%s': expected a sequence number\n",
					rd_safe(optarg));
				return -EINVAL;
			}
			ctx->have_since = true;
			break;
		case ARG_LIMIT:
			if (unit_parse_u64(optarg, 1, INT32_MAX, &ctx->limit) < 0) {
				fprintf(stderr,
					"memoptctl: invalid --limit '%s': expected a positive number\n",
					rd_safe(optarg));
				return -EINVAL;
			}
			ctx->have_limit = true;
			break;
		case ARG_MEM:
		case ARG_MIN:
			if (parse_size_opt(c == ARG_MEM ? "--mem" : "--min", optarg, c == ARG_MEM ? &ctx->mem_kib : &ctx->min_kib) < 0)
				return -EINVAL;
			ctx->cluster_opts = true;
			break;
		case ARG_HUGEPAGES:
			ctx->hugepages = ctx->cluster_opts = true;
			break;
		case ARG_ONE_NODE:
			ctx->one_node = ctx->cluster_opts = true;
			break;
		case ARG_EXPLAIN:
			ctx->explain = ctx->cluster_opts = true;
			break;
		case ARG_TTL:
			if (unit_parse_duration_ms(optarg, &ctx->ttl_ms) < 0 || ctx->ttl_ms < 1000) {
				fprintf(stderr, "memoptctl: invalid --ttl '%s': expected a duration of at least 1s (120s, 5m)\n",
					rd_safe(optarg));
				return -EINVAL;
			}
			ctx->cluster_opts = true;
			break;
		case ARG_RESERVE:
		case ARG_TARGET:
		case ARG_EXCLUDE:
		case ARG_HOST:
			if (name_opt(c == ARG_RESERVE ? "--reserve" : c == ARG_TARGET ? "--target" : c == ARG_EXCLUDE ? "--exclude" : "--host",
				     optarg,
				     c == ARG_RESERVE ? &ctx->reserve : c == ARG_TARGET ? &ctx->target : c == ARG_EXCLUDE ? &ctx->exclude : &ctx->host) < 0)
				return -EINVAL;
			ctx->cluster_opts = true;
			break;
		case '?':
		default:
			if (optopt && optopt < 0x100)
				fprintf(stderr, "memoptctl: unknown option '-%c' (see --help)\n", optopt);
			else if (optopt)
				fprintf(stderr, "memoptctl: option '%s' needs a value (see --help)\n",
					rd_safe(argv[optind - 1]));
			else
				fprintf(stderr, "memoptctl: unknown option '%s' (see --help)\n",
					rd_safe(argv[optind - 1]));
			return -EINVAL;
		}
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct ctx ctx = {.timeout_ms = DEFAULT_TIMEOUT_MS};
	const struct verb *verb = NULL;
	const char *name;
	int r, nargs;

	ctx.socket_path = getenv("MEMOPT_SOCKET");
	if (!ctx.socket_path || !ctx.socket_path[0])
		ctx.socket_path = MEMOPT_DEFAULT_SOCKET;

	r = parse_argv(argc, argv, &ctx);
	if (r < 0)
		return EXIT_USAGE;
	if (r == 0)
		return EXIT_OK;

	name = optind < argc ? argv[optind] : "status";
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		if (strcmp(verbs[i].name, name) == 0)
			verb = &verbs[i];
	if (!verb) {
		fprintf(stderr, "memoptctl: unknown verb '%s' (see --help)\n", rd_safe(name));
		return EXIT_USAGE;
	}
	nargs = optind < argc ? argc - optind - 1 : 0;
	if (nargs < verb->min_args || (verb->max_args != VERB_ANY && nargs > verb->max_args)) {
		fprintf(stderr, "memoptctl: '%s' takes %s arguments (see --help)\n", verb->name,
			verb->max_args == 0 ? "no" : "other");
		return EXIT_USAGE;
	}
	if (ctx.dry_run && verb->run != verb_host) {
		fprintf(stderr, "memoptctl: --dry-run only applies to 'host apply' and 'host restore'\n");
		return EXIT_USAGE;
	}
	if ((ctx.have_since || ctx.have_limit) && verb->run != verb_log) {
		fprintf(stderr, "memoptctl: --since and --limit only apply to 'log'\n");
		return EXIT_USAGE;
	}
	if (ctx.cluster_opts) {
		bool req = verb->run == verb_admit || verb->run == verb_place;
		const char *bad = (ctx.mem_kib || ctx.min_kib || ctx.hugepages || ctx.one_node) && !req ? "--mem, --min, --hugepages and --one-node apply to 'admit' and 'place'"
				  : (ctx.reserve || ctx.target || ctx.ttl_ms) && verb->run != verb_admit ? "--reserve, --target and --ttl apply to 'admit'"
				  : ctx.exclude && verb->run != verb_place				 ? "--exclude applies to 'place'"
				  : (ctx.host || ctx.explain) && verb->run != verb_headroom		 ? "--host and --explain apply to 'headroom'"
																   : NULL;
		if (bad) {
			fprintf(stderr, "memoptctl: %s\n", bad);
			return EXIT_USAGE;
		}
	}
	return verb->run(&ctx, nargs, argv + (optind < argc ? optind + 1 : argc));
}
