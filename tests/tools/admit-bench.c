/* admit-bench.c - drive memoptd's admission commands through its control socket and time every call.
 *
 *   admit-bench SOCKET admit   N MEM [TARGET]          N sequential "admit" queries
 *   admit-bench SOCKET reserve N MEM TARGET PREFIX W   W workers, N reserve+release pairs in all,
 *                                                      ids PREFIX-w-i (each release right after)
 * Prints "calls N p50_us P p90_us P p99_us P max_us P" for the timed calls (admit, or reserve), then for
 * reserve "yes Y no Z unknown U elapsed_ms E". Exit 0, or 1 when a call failed at the socket level. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/proto.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* One call; returns the reply's "result.code" (0/1/2), 3 for a daemon error, -1 for a socket error. */
static int one(const char *sock, const char *cmd, json_object *args)
{
	json_object *req = proto_make_request(cmd, args), *reply = NULL, *x;
	int r = proto_call(sock, req, 10000, &reply), code = -1;
	json_object_put(req);
	if (r < 0)
		return -1;
	if (json_object_object_get_ex(reply, "result", &x) && json_object_object_get_ex(x, "code", &x))
		code = json_object_get_int(x);
	else
		code = 3;
	json_object_put(reply);
	return code;
}

static json_object *args_for(const char *mem, const char *target, const char *id)
{
	json_object *a = json_object_new_object();
	json_object_object_add(a, "mem", json_object_new_string(mem));
	if (target && target[0])
		json_object_object_add(a, "target", json_object_new_string(target));
	if (id) {
		json_object_object_add(a, "id", json_object_new_string(id));
		json_object_object_add(a, "ttl_ms", json_object_new_int(60000));
	}
	return a;
}

static void print_lat(uint64_t *ns, size_t n)
{
	qsort(ns, n, sizeof(ns[0]), cmp_u64);
	if (n == 0)
		return;
	printf("calls %zu p50_us %" PRIu64 " p90_us %" PRIu64 " p99_us %" PRIu64 " max_us %" PRIu64 "\n", n,
	       ns[n / 2] / 1000, ns[n * 9 / 10] / 1000, ns[n * 99 / 100] / 1000, ns[n - 1] / 1000);
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: admit-bench SOCKET admit N MEM [TARGET] | SOCKET reserve N MEM TARGET PREFIX WORKERS\n");
		return 2;
	}
	const char *sock = argv[1], *mode = argv[2], *mem = argv[4];
	size_t n = (size_t)strtoul(argv[3], NULL, 10);
	if (strcmp(mode, "admit") == 0) {
		uint64_t *lat = calloc(n, sizeof(*lat));
		for (size_t i = 0; i < n; i++) {
			uint64_t t = now_ns();
			if (one(sock, "admit", args_for(mem, argc > 5 ? argv[5] : NULL, NULL)) < 0)
				return 1;
			lat[i] = now_ns() - t;
		}
		print_lat(lat, n);
		return 0;
	}
	if (argc < 8)
		return 2;
	const char *target = argv[5], *prefix = argv[6];
	size_t w = (size_t)strtoul(argv[7], NULL, 10);
	if (w < 1)
		w = 1;
	/* shared with the workers: latencies and verdict counts */
	uint64_t *lat = mmap(NULL, n * sizeof(uint64_t) + 64, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t *cnt = lat + n; /* yes, no, unknown, errors */
	uint64_t t0 = now_ns();
	for (size_t k = 0; k < w; k++) {
		if (fork() == 0) {
			for (size_t i = k; i < n; i += w) {
				char id[64];
				snprintf(id, sizeof(id), "%s-%zu-%zu", prefix, k, i);
				uint64_t t = now_ns();
				int c = one(sock, "reserve", args_for(mem, target, id));
				lat[i] = now_ns() - t;
				__atomic_fetch_add(&cnt[c >= 0 && c <= 2 ? c : 3], 1, __ATOMIC_RELAXED);
				json_object *a = json_object_new_object();
				json_object_object_add(a, "id", json_object_new_string(id));
				one(sock, "release", a);
			}
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	uint64_t el = (now_ns() - t0) / 1000000;
	print_lat(lat, n);
	printf("yes %" PRIu64 " no %" PRIu64 " unknown %" PRIu64 " errors %" PRIu64 " elapsed_ms %" PRIu64 "\n", cnt[0],
	       cnt[1], cnt[2], cnt[3], el);
	return cnt[3] ? 1 : 0;
}
