/* loop.c - the single poll()-based event loop: fd handlers, one-shot timers, signals via signalfd. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "loop.h"
#include "log.h"

struct ev_fd {
	int fd;
	short events;
	ev_fd_cb cb;
	void *data;
	bool dead;
};

struct ev_timer {
	int64_t id;
	uint64_t due_ms;
	uint64_t delay_ms;
	int cls; /* index into L.cycles, -1 = an unnamed timer */
	ev_timer_cb cb;
	void *data;
};

struct ev_sig {
	int signo;
	ev_signal_cb cb;
	void *data;
};

static struct {
	bool initialised;
	struct ev_fd *fds;
	size_t nfds, capfds;
	struct ev_timer *timers;        /* unsorted; the count stays small (one per module or client) */
	size_t ntimers, captimers;
	int64_t next_timer_id;
	struct ev_sig sigs[16];
	size_t nsigs;
	sigset_t sigmask;
	int sigfd;
	struct ev_lateness cycles[EV_MAX_CYCLES];
	size_t ncycles;
	bool quit;
	int quit_code;
} L = { .sigfd = -1 };

uint64_t ev_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t ev_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ev_init(void)
{
	if (L.initialised)
		return -EALREADY;
	memset(&L, 0, sizeof(L));
	L.sigfd = -1;
	L.next_timer_id = 1;
	sigemptyset(&L.sigmask);
	L.initialised = true;
	return 0;
}

void ev_fini(void)
{
	if (!L.initialised)
		return;
	/* Signals stay blocked: unblocking would deliver one that came in after the loop stopped (a
	 * second SIGINT, a SIGHUP while the host is being restored) with its default action, killing the
	 * process and losing its exit status. Discard what is pending instead, so that it cannot reach
	 * a later loop either. */
	if (L.sigfd >= 0) {
		struct signalfd_siginfo si;
		while (read(L.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			;
		close(L.sigfd);
	}
	free(L.fds);
	free(L.timers);
	memset(&L, 0, sizeof(L));
	L.sigfd = -1;
}

static struct ev_fd *find_fd(int fd)
{
	for (size_t i = 0; i < L.nfds; i++)
		if (L.fds[i].fd == fd && !L.fds[i].dead)
			return &L.fds[i];
	return NULL;
}

int ev_add_fd(int fd, short events, ev_fd_cb cb, void *data)
{
	if (fd < 0 || !cb)
		return -EINVAL;
	if (find_fd(fd))
		return -EEXIST;
	if (L.nfds == L.capfds) {
		size_t ncap = L.capfds ? L.capfds * 2 : 16;
		struct ev_fd *n = realloc(L.fds, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		L.fds = n;
		L.capfds = ncap;
	}
	L.fds[L.nfds++] = (struct ev_fd){ .fd = fd, .events = events, .cb = cb, .data = data };
	return 0;
}

int ev_mod_fd(int fd, short events)
{
	struct ev_fd *e = find_fd(fd);
	if (!e)
		return -ENOENT;
	e->events = events;
	return 0;
}

void ev_del_fd(int fd)
{
	/* Only mark: the dispatch loop may be iterating over the array. Compacted after dispatch. */
	struct ev_fd *e = find_fd(fd);
	if (e)
		e->dead = true;
}

static void compact_fds(void)
{
	size_t j = 0;
	for (size_t i = 0; i < L.nfds; i++)
		if (!L.fds[i].dead)
			L.fds[j++] = L.fds[i];
	L.nfds = j;
}

static int64_t add_timer(uint64_t delay_ms, int cls, ev_timer_cb cb, void *data)
{
	if (!cb)
		return -EINVAL;
	if (L.ntimers == L.captimers) {
		size_t ncap = L.captimers ? L.captimers * 2 : 16;
		struct ev_timer *n = realloc(L.timers, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		L.timers = n;
		L.captimers = ncap;
	}
	int64_t id = L.next_timer_id++;
	L.timers[L.ntimers++] = (struct ev_timer){ .id = id, .due_ms = ev_now_ms() + delay_ms, .delay_ms = delay_ms,
						   .cls = cls, .cb = cb, .data = data };
	return id;
}

int64_t ev_add_timeout(uint64_t delay_ms, ev_timer_cb cb, void *data)
{
	return add_timer(delay_ms, -1, cb, data);
}

int64_t ev_add_cycle(const char *name, uint64_t delay_ms, ev_timer_cb cb, void *data)
{
	size_t i;
	if (!name || !name[0] || !cb)
		return -EINVAL;
	for (i = 0; i < L.ncycles; i++)
		if (strcmp(L.cycles[i].name, name) == 0)
			break;
	if (i == L.ncycles) {
		if (L.ncycles == EV_MAX_CYCLES || strlen(name) >= sizeof(L.cycles[0].name))
			return -ENOSPC;
		memset(&L.cycles[i], 0, sizeof(L.cycles[i]));
		snprintf(L.cycles[i].name, sizeof(L.cycles[i].name), "%s", name);
		L.ncycles++;
	}
	L.cycles[i].last_delay_ms = delay_ms;
	return add_timer(delay_ms, (int)i, cb, data);
}

void ev_cycle_account(struct ev_lateness *st, uint64_t delay_ms, uint64_t late_ms)
{
	st->fired++;
	st->last_delay_ms = delay_ms;
	st->last_late_ms = late_ms;
	if (late_ms > st->max_late_ms)
		st->max_late_ms = late_ms;
	if (late_ms > EV_LATE_MS)
		st->late++;
	/* A cycle that starts a whole period late has lost one: the daemon failed its own schedule. */
	if (delay_ms > 0 && late_ms >= delay_ms)
		st->overruns++;
}

size_t ev_cycle_stats(struct ev_lateness *ret, size_t max)
{
	size_t n = L.ncycles < max ? L.ncycles : max;
	if (ret && n)
		memcpy(ret, L.cycles, n * sizeof(*ret));
	return L.ncycles;
}

void ev_cancel_timeout(int64_t id)
{
	for (size_t i = 0; i < L.ntimers; i++)
		if (L.timers[i].id == id) {
			L.timers[i] = L.timers[--L.ntimers];
			return;
		}
}

static void on_signalfd(int fd, short revents, void *data)
{
	(void)revents;
	(void)data;
	struct signalfd_siginfo si;
	for (;;) {
		ssize_t n = read(fd, &si, sizeof(si));
		if (n != (ssize_t)sizeof(si))
			return;
		for (size_t i = 0; i < L.nsigs; i++)
			if (L.sigs[i].signo == (int)si.ssi_signo)
				L.sigs[i].cb((int)si.ssi_signo, L.sigs[i].data);
	}
}

int ev_add_signal(int signo, ev_signal_cb cb, void *data)
{
	if (!cb || L.nsigs >= (sizeof(L.sigs) / sizeof(L.sigs[0])))
		return -EINVAL;
	sigaddset(&L.sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &L.sigmask, NULL) < 0)
		return -errno;
	int fd = signalfd(L.sigfd, &L.sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (L.sigfd < 0) {
		int r = ev_add_fd(fd, POLLIN, on_signalfd, NULL);
		if (r < 0) {
			close(fd);
			return r;
		}
	}
	L.sigfd = fd;
	L.sigs[L.nsigs++] = (struct ev_sig){ .signo = signo, .cb = cb, .data = data };
	return 0;
}

void ev_quit(int code)
{
	L.quit = true;
	L.quit_code = code;
}

static int next_timeout_ms(uint64_t now)
{
	if (L.ntimers == 0)
		return -1;
	uint64_t due = UINT64_MAX;
	for (size_t i = 0; i < L.ntimers; i++)
		if (L.timers[i].due_ms < due)
			due = L.timers[i].due_ms;
	if (due <= now)
		return 0;
	uint64_t d = due - now;
	return d > 60000 ? 60000 : (int)d;
}

static void run_due_timers(void)
{
	uint64_t now = ev_now_ms();
	/* A callback may add or cancel timers: pick one due timer at a time, by id order. */
	for (;;) {
		size_t best = SIZE_MAX;
		for (size_t i = 0; i < L.ntimers; i++)
			if (L.timers[i].due_ms <= now && (best == SIZE_MAX || L.timers[i].id < L.timers[best].id))
				best = i;
		if (best == SIZE_MAX || L.quit)
			return;
		struct ev_timer t = L.timers[best];
		L.timers[best] = L.timers[--L.ntimers];
		if (t.cls >= 0) {
			/* Read the clock again: an earlier callback of this round may have taken a while. */
			uint64_t fire = ev_now_ms();
			ev_cycle_account(&L.cycles[t.cls], t.delay_ms, fire > t.due_ms ? fire - t.due_ms : 0);
		}
		t.cb(t.data);
	}
}

int ev_run(void)
{
	struct pollfd *pfds = NULL;
	size_t cap = 0;
	L.quit = false;
	while (!L.quit) {
		compact_fds();
		if (L.nfds > cap) {
			struct pollfd *n = realloc(pfds, L.nfds * sizeof(*n));
			if (!n) {
				log_err("event loop: out of memory");
				free(pfds);
				return -ENOMEM;
			}
			pfds = n;
			cap = L.nfds;
		}
		size_t n = L.nfds;
		for (size_t i = 0; i < n; i++)
			pfds[i] = (struct pollfd){ .fd = L.fds[i].fd, .events = L.fds[i].events };
		int r = poll(pfds, n, next_timeout_ms(ev_now_ms()));
		if (r < 0 && errno != EINTR) {
			log_err("poll failed: %m");
			free(pfds);
			return -errno;
		}
		for (size_t i = 0; r > 0 && i < n && !L.quit; i++) {
			if (!pfds[i].revents)
				continue;
			/* The entry may have been deleted (and its fd number reused) by an earlier callback. */
			struct ev_fd *e = find_fd(pfds[i].fd);
			if (e)
				e->cb(e->fd, pfds[i].revents, e->data);
		}
		run_due_timers();
	}
	free(pfds);
	return L.quit_code;
}
