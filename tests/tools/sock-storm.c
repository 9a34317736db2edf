/* sock-storm.c - load and abuse client for memoptd's control socket: many connections at once, slow
 * clients that never finish a request, per-request latency and every outcome counted, JSON summary.
 *
 *   sock-storm --socket PATH [--clients N] [--requests N | --duration SEC] [--cmd NAME]... [--args JSON]
 *              [--barrier] [--slow N] [--fast-delay-ms MS] [--hold-ms MS] [--timeout-ms MS]
 *
 * --clients N connections are in flight at any time (one request each, as the protocol has it; a
 * finished one is replaced by a new connection). --requests N in total (default: one per client), or
 * as many as fit in --duration SEC. --cmd may repeat: the commands are sent round robin. --barrier
 * connects every client first and only then sends all requests. --slow N opens N extra connections
 * that send half a request and hold it; the tool reports when and how the daemon closed them.
 * --fast-delay-ms waits after the slow clients are connected before the fast ones start.
 *
 * Every request ends as one of: ok (a reply with "ok":true), an error reply (counted per code), or a
 * failure (no reply line: closed, reset, connect error, timeout, unparsable). Exit 0 when the run
 * happened (the caller judges the numbers), 2 on a usage error, 1 if the tool itself failed. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#define MAX_CMDS 32
#define MAX_CODES 32
#define REPLY_MAX (1024 * 1024)

enum st { S_IDLE, S_CONNECT, S_BARRIER, S_SEND, S_READ, S_SLOW_HOLD, S_DONE };

struct conn {
	int fd;
	enum st st;
	bool slow;
	uint64_t start_us;   /* first connect attempt */
	uint64_t retry_us;   /* S_CONNECT: next attempt */
	uint64_t sent_us;    /* slow: when the partial request went out */
	const char *req;
	size_t req_len, req_off;
	char *buf;
	size_t len, cap;
};

struct code_count {
	char code[32];
	uint64_t n;
};

static struct {
	const char *socket;
	unsigned clients, slow;
	uint64_t requests;
	double duration_s;
	const char *cmds[MAX_CMDS];
	size_t ncmds;
	const char *args;
	bool barrier;
	uint64_t fast_delay_ms, hold_ms, timeout_ms;
} O = {.clients = 100, .hold_ms = 10000, .timeout_ms = 10000};

static struct {
	uint64_t issued, ok, errors, failed, connect_retries;
	uint64_t f_connect, f_closed, f_reset, f_timeout, f_bad;
	struct code_count codes[MAX_CODES];
	size_t ncodes;
	uint32_t *lat_us;
	size_t nlat, caplat;
	/* slow clients */
	uint64_t slow_opened, slow_closed, slow_connect_failed;
	struct code_count slow_codes[MAX_CODES];
	size_t nslow_codes;
	uint64_t slow_close_min_us, slow_close_max_us;
} R = {.slow_close_min_us = UINT64_MAX};

static char **reqs; /* one request line per command */
static size_t *req_lens;

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void count_code(struct code_count *t, size_t *n, const char *code)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(t[i].code, code) == 0) {
			t[i].n++;
			return;
		}
	if (*n < MAX_CODES) {
		snprintf(t[*n].code, sizeof(t[*n].code), "%s", code);
		t[(*n)++].n = 1;
	}
}

static void add_latency(uint64_t us)
{
	if (R.nlat == R.caplat) {
		size_t ncap = R.caplat ? R.caplat * 2 : 4096;
		uint32_t *n = realloc(R.lat_us, ncap * sizeof(*n));
		if (!n)
			return;
		R.lat_us = n;
		R.caplat = ncap;
	}
	R.lat_us[R.nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void conn_reset(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
	c->req_off = 0;
	c->st = S_IDLE;
}

/* Start (or retry) the connection of c. Returns false on a hard connect failure (counted). */
static bool conn_connect(struct conn *c, uint64_t now)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (c->fd < 0) {
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0) {
			perror("sock-storm: socket");
			exit(1);
		}
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", O.socket);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		c->st = c->slow ? S_SEND : (O.barrier ? S_BARRIER : S_SEND);
		return true;
	}
	if (errno == EAGAIN || errno == EINTR) {
		/* The listen backlog is full: a blocking client would wait here, so do we. */
		R.connect_retries++;
		c->st = S_CONNECT;
		c->retry_us = now + 1000;
		return true;
	}
	return false;
}

static void finish_fast(struct conn *c, uint64_t now)
{
	json_object *o = NULL, *ok;
	char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;

	if (!nl) {
		R.failed++;
		R.f_closed++;
		goto out;
	}
	o = json_tokener_parse(c->buf); /* buf is NUL-terminated at len */
	if (!o || !json_object_object_get_ex(o, "ok", &ok)) {
		R.failed++;
		R.f_bad++;
		goto out;
	}
	add_latency(now - c->start_us);
	if (json_object_get_boolean(ok)) {
		R.ok++;
	} else {
		json_object *e, *code;
		R.errors++;
		if (json_object_object_get_ex(o, "error", &e) && json_object_object_get_ex(e, "code", &code))
			count_code(R.codes, &R.ncodes, json_object_get_string(code));
		else
			count_code(R.codes, &R.ncodes, "(none)");
	}
out:
	if (o)
		json_object_put(o);
	conn_reset(c);
}

static void finish_slow(struct conn *c, uint64_t now)
{
	char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
	uint64_t d = now - c->sent_us;
	R.slow_closed++;
	if (d < R.slow_close_min_us)
		R.slow_close_min_us = d;
	if (d > R.slow_close_max_us)
		R.slow_close_max_us = d;
	if (nl) {
		json_object *o = json_tokener_parse(c->buf), *e, *code;
		if (o && json_object_object_get_ex(o, "error", &e) && json_object_object_get_ex(e, "code", &code))
			count_code(R.slow_codes, &R.nslow_codes, json_object_get_string(code));
		else
			count_code(R.slow_codes, &R.nslow_codes, "(other reply)");
		if (o)
			json_object_put(o);
	} else {
		count_code(R.slow_codes, &R.nslow_codes, "(closed without a reply)");
	}
	conn_reset(c);
	c->st = S_DONE;
}

/* Read what is there; true once the exchange is over (EOF, reset or a whole line). */
static bool conn_read(struct conn *c, bool *ret_reset)
{
	for (;;) {
		ssize_t n;
		if (c->len + 1 >= c->cap) {
			size_t ncap = c->cap ? c->cap * 2 : 4096;
			char *nb;
			if (ncap > REPLY_MAX)
				return true;
			nb = realloc(c->buf, ncap);
			if (!nb)
				return true;
			c->buf = nb;
			c->cap = ncap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, MSG_DONTWAIT);
		if (n > 0) {
			c->len += (size_t)n;
			c->buf[c->len] = '\0';
			if (memchr(c->buf + c->len - (size_t)n, '\n', (size_t)n))
				return true;
			continue;
		}
		if (n == 0)
			return true;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return false;
		*ret_reset = true;
		return true;
	}
}

static void conn_send(struct conn *c)
{
	while (c->req_off < c->req_len) {
		ssize_t n = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			/* Refused early (EBUSY) or closed: the answer may already be waiting. */
			break;
		}
		c->req_off += (size_t)n;
	}
	c->st = c->slow ? S_SLOW_HOLD : S_READ;
	if (c->slow)
		c->sent_us = now_us();
}

static void json_codes(const struct code_count *t, size_t n)
{
	printf("{");
	for (size_t i = 0; i < n; i++)
		printf("%s\"%s\":%llu", i ? "," : "", t[i].code, (unsigned long long)t[i].n);
	printf("}");
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double pct_ms(double p)
{
	if (R.nlat == 0)
		return 0;
	size_t i = (size_t)(p * (double)(R.nlat - 1) + 0.5);
	return R.lat_us[i] / 1000.0;
}

static void usage(void)
{
	fprintf(stderr, "usage: sock-storm --socket PATH [--clients N] [--requests N | --duration SEC] "
			"[--cmd NAME]... [--args JSON] [--barrier] [--slow N] [--fast-delay-ms MS] "
			"[--hold-ms MS] [--timeout-ms MS]\n");
	exit(2);
}

static void raise_nofile(rlim_t need)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < need) {
		fprintf(stderr, "sock-storm: need %llu open files, the hard limit is %llu\n",
			(unsigned long long)need, (unsigned long long)rl.rlim_max);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},	    {"clients", required_argument, NULL, 'c'},
	    {"requests", required_argument, NULL, 'n'},	    {"duration", required_argument, NULL, 'd'},
	    {"cmd", required_argument, NULL, 'm'},	    {"args", required_argument, NULL, 'a'},
	    {"barrier", no_argument, NULL, 'b'},	    {"slow", required_argument, NULL, 'S'},
	    {"fast-delay-ms", required_argument, NULL, 'F'}, {"hold-ms", required_argument, NULL, 'H'},
	    {"timeout-ms", required_argument, NULL, 'T'},   {NULL, 0, NULL, 0},
	};
	struct conn *cs;
	struct pollfd *pfds;
	size_t *map, total;
	uint64_t t0, deadline_us = 0, fast_start_us, hold_deadline_us, cmd_rr = 0;
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's': O.socket = optarg; break;
		case 'c': O.clients = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': O.requests = strtoull(optarg, NULL, 10); break;
		case 'd': O.duration_s = strtod(optarg, NULL); break;
		case 'm':
			if (O.ncmds == MAX_CMDS)
				usage();
			O.cmds[O.ncmds++] = optarg;
			break;
		case 'a': O.args = optarg; break;
		case 'b': O.barrier = true; break;
		case 'S': O.slow = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'F': O.fast_delay_ms = strtoull(optarg, NULL, 10); break;
		case 'H': O.hold_ms = strtoull(optarg, NULL, 10); break;
		case 'T': O.timeout_ms = strtoull(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (!O.socket || optind != argc || strlen(O.socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		usage();
	if (O.ncmds == 0)
		O.cmds[O.ncmds++] = "status";
	if (O.requests == 0)
		O.requests = O.duration_s > 0 ? UINT64_MAX : O.clients;
	signal(SIGPIPE, SIG_IGN);
	raise_nofile((rlim_t)O.clients + O.slow + 32);

	reqs = calloc(O.ncmds, sizeof(*reqs));
	req_lens = calloc(O.ncmds, sizeof(*req_lens));
	for (size_t i = 0; i < O.ncmds; i++) {
		size_t cap = strlen(O.cmds[i]) + (O.args ? strlen(O.args) : 0) + 64;
		reqs[i] = malloc(cap);
		int n = O.args ? snprintf(reqs[i], cap, "{\"v\":1,\"cmd\":\"%s\",\"args\":%s}\n", O.cmds[i], O.args)
			       : snprintf(reqs[i], cap, "{\"v\":1,\"cmd\":\"%s\"}\n", O.cmds[i]);
		req_lens[i] = (size_t)n;
	}

	total = (size_t)O.clients + O.slow;
	cs = calloc(total, sizeof(*cs));
	pfds = calloc(total, sizeof(*pfds));
	map = calloc(total, sizeof(*map));
	if (!cs || !pfds || !map || !reqs || !req_lens)
		return 1;
	for (size_t i = 0; i < total; i++) {
		cs[i].fd = -1;
		cs[i].slow = i >= O.clients;
		cs[i].st = S_IDLE;
	}

	/* Slow clients first: they hold their slots while the fast ones run. */
	t0 = now_us();
	for (size_t i = O.clients; i < total; i++) {
		struct conn *c = &cs[i];
		c->req = "{\"v\":1,\"cmd\":\"sta";
		c->req_len = strlen(c->req);
		c->start_us = t0;
		for (;;) {
			if (!conn_connect(c, now_us())) {
				R.slow_connect_failed++;
				conn_reset(c);
				c->st = S_DONE;
				break;
			}
			if (c->st != S_CONNECT)
				break;
			usleep(1000);
		}
		if (c->st == S_SEND) {
			R.slow_opened++;
			conn_send(c);
		}
	}
	fast_start_us = now_us() + O.fast_delay_ms * 1000;
	if (O.duration_s > 0)
		deadline_us = fast_start_us + (uint64_t)(O.duration_s * 1e6);
	hold_deadline_us = now_us() + O.hold_ms * 1000;

	uint64_t fast_t0 = fast_start_us, fast_end = fast_start_us;
	for (;;) {
		uint64_t now = now_us();
		bool fast_busy = false, slow_busy = false, all_at_barrier = O.barrier;
		size_t n = 0;
		int timeout = 50;

		for (size_t i = 0; i < total; i++) {
			struct conn *c = &cs[i];
			if (c->slow) {
				if (c->st == S_SLOW_HOLD || c->st == S_SEND)
					slow_busy = true;
				continue;
			}
			if (c->st == S_IDLE && now >= fast_start_us && R.issued < O.requests &&
			    (deadline_us == 0 || now < deadline_us)) {
				c->req = reqs[cmd_rr % O.ncmds];
				c->req_len = req_lens[cmd_rr % O.ncmds];
				cmd_rr++;
				R.issued++;
				c->start_us = now;
				if (!conn_connect(c, now)) {
					R.failed++;
					R.f_connect++;
					conn_reset(c);
				}
			} else if (c->st == S_CONNECT && now >= c->retry_us) {
				if (!conn_connect(c, now)) {
					R.failed++;
					R.f_connect++;
					conn_reset(c);
				}
			}
			if (c->st != S_IDLE && c->st != S_DONE)
				fast_busy = true;
			if (c->st != S_BARRIER && !(c->st == S_IDLE && R.issued >= O.requests))
				all_at_barrier = false;
			if ((c->st == S_READ || c->st == S_SEND || c->st == S_CONNECT) && now - c->start_us > O.timeout_ms * 1000) {
				R.failed++;
				R.f_timeout++;
				conn_reset(c);
			}
		}
		if (all_at_barrier) {
			/* Everyone is connected: release all requests at once. */
			for (size_t i = 0; i < O.clients; i++)
				if (cs[i].st == S_BARRIER)
					cs[i].st = S_SEND;
			O.barrier = false;
			continue;
		}
		bool fast_more = R.issued < O.requests && (deadline_us == 0 || now < deadline_us);
		if (!fast_busy && !fast_more && (!slow_busy || now >= hold_deadline_us))
			break;
		for (size_t i = 0; i < total; i++) {
			struct conn *c = &cs[i];
			short ev = 0;
			if (c->st == S_SEND)
				ev = POLLOUT;
			else if (c->st == S_READ || c->st == S_SLOW_HOLD || c->st == S_BARRIER)
				ev = POLLIN;
			else if (c->st == S_CONNECT)
				timeout = 1;
			if (!ev)
				continue;
			pfds[n] = (struct pollfd){.fd = c->fd, .events = ev};
			map[n++] = i;
		}
		if (now < fast_start_us && fast_start_us - now < 50000)
			timeout = (int)((fast_start_us - now) / 1000) + 1;
		if (poll(pfds, n, timeout) < 0 && errno != EINTR) {
			perror("sock-storm: poll");
			return 1;
		}
		now = now_us();
		for (size_t k = 0; k < n; k++) {
			struct conn *c = &cs[map[k]];
			bool reset = false;
			if (!pfds[k].revents)
				continue;
			if (c->st == S_SEND) {
				conn_send(c);
				if (c->st == S_SLOW_HOLD || !(pfds[k].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
			}
			if (!conn_read(c, &reset))
				continue;
			if (c->slow) {
				finish_slow(c, now);
				continue;
			}
			fast_end = now;
			if (c->st == S_BARRIER) {
				/* Answered (EBUSY) or closed before we sent anything. */
				finish_fast(c, now);
			} else if (reset && !(c->len && memchr(c->buf, '\n', c->len))) {
				R.failed++;
				R.f_reset++;
				conn_reset(c);
			} else {
				finish_fast(c, now);
			}
		}
	}
	if (R.ok + R.errors > 0 && fast_end <= fast_t0)
		fast_end = now_us();

	if (R.nlat)
		qsort(R.lat_us, R.nlat, sizeof(*R.lat_us), cmp_u32);
	double el = (double)(fast_end - fast_t0) / 1e6;
	printf("{\"clients\":%u,\"requests\":%llu,\"ok\":%llu,\"errors\":%llu,\"error_codes\":", O.clients,
	       (unsigned long long)R.issued, (unsigned long long)R.ok, (unsigned long long)R.errors);
	json_codes(R.codes, R.ncodes);
	printf(",\"failed\":%llu,\"failures\":{\"connect\":%llu,\"closed\":%llu,\"reset\":%llu,\"timeout\":%llu,"
	       "\"bad_reply\":%llu},\"connect_retries\":%llu,",
	       (unsigned long long)R.failed, (unsigned long long)R.f_connect, (unsigned long long)R.f_closed,
	       (unsigned long long)R.f_reset, (unsigned long long)R.f_timeout, (unsigned long long)R.f_bad,
	       (unsigned long long)R.connect_retries);
	printf("\"elapsed_s\":%.3f,\"throughput_rps\":%.1f,\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,"
	       "\"p99\":%.3f,\"max\":%.3f}",
	       el, el > 0 ? (double)(R.ok + R.errors) / el : 0.0, pct_ms(0.5), pct_ms(0.9), pct_ms(0.99),
	       R.nlat ? R.lat_us[R.nlat - 1] / 1000.0 : 0.0);
	printf(",\"slow\":{\"requested\":%u,\"opened\":%llu,\"connect_failed\":%llu,\"closed\":%llu,"
	       "\"still_open\":%llu,\"replies\":",
	       O.slow, (unsigned long long)R.slow_opened, (unsigned long long)R.slow_connect_failed,
	       (unsigned long long)R.slow_closed, (unsigned long long)(R.slow_opened - R.slow_closed));
	json_codes(R.slow_codes, R.nslow_codes);
	printf(",\"close_ms_min\":%.1f,\"close_ms_max\":%.1f}}\n",
	       R.slow_closed ? (double)R.slow_close_min_us / 1000.0 : 0.0, (double)R.slow_close_max_us / 1000.0);
	for (size_t i = 0; i < total; i++) {
		conn_reset(&cs[i]);
		free(cs[i].buf);
	}
	for (size_t i = 0; i < O.ncmds; i++)
		free(reqs[i]);
	free(reqs);
	free(req_lens);
	free(cs);
	free(pfds);
	free(map);
	free(R.lat_us);
	return 0;
}
