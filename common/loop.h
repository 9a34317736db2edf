/* loop.h - memopt's single event loop: fd handlers, timers and signals, in the style of chrony's sched.c. */
#ifndef MEMOPT_LOOP_H
#define MEMOPT_LOOP_H

#include <stdint.h>
#include <poll.h>

typedef void (*ev_fd_cb)(int fd, short revents, void *data);
typedef void (*ev_timer_cb)(void *data);
typedef void (*ev_signal_cb)(int signo, void *data);

/* All return 0 / a positive id on success, -errno on failure. */
int ev_init(void);
void ev_fini(void);

/* Watch fd for `events` (POLLIN/POLLOUT). One handler per fd. */
int ev_add_fd(int fd, short events, ev_fd_cb cb, void *data);
int ev_mod_fd(int fd, short events);
void ev_del_fd(int fd);

/* One-shot timer after delay_ms; returns a timer id > 0. */
int64_t ev_add_timeout(uint64_t delay_ms, ev_timer_cb cb, void *data);
void ev_cancel_timeout(int64_t id);

/* Lateness of a module's control cycle: how long after its due time each firing of a named timer ran.
 * The loop keeps one record per name (at most EV_MAX_CYCLES) for the daemon's lifetime. */
#define EV_MAX_CYCLES 16
#define EV_LATE_MS 100 /* a firing this much after its due time counts as late */
struct ev_lateness {
	char name[24];
	uint64_t fired;
	uint64_t late;          /* fired more than EV_LATE_MS after due */
	uint64_t overruns;      /* fired a whole delay (or more) after due: a cycle was lost */
	uint64_t max_late_ms;
	uint64_t last_late_ms;
	uint64_t last_delay_ms; /* the delay the timer was armed with, i.e. the cycle's period */
};

/* Like ev_add_timeout, for a module's periodic cycle (re-armed each period): the firing is accounted
 * under `name` ("ksm", "balloon", ...). Returns a timer id > 0, -EINVAL, -ENOSPC (too many names) or
 * -ENOMEM. */
int64_t ev_add_cycle(const char *name, uint64_t delay_ms, ev_timer_cb cb, void *data);
/* Copy up to max records into ret (may be NULL); returns how many names exist. */
size_t ev_cycle_stats(struct ev_lateness *ret, size_t max);
/* Pure: account one firing late_ms after due of a timer armed with delay_ms (exported for tests). */
void ev_cycle_account(struct ev_lateness *st, uint64_t delay_ms, uint64_t late_ms);

/* Deliver signo through signalfd into the loop (the signal is blocked for the process). */
int ev_add_signal(int signo, ev_signal_cb cb, void *data);

/* Run until ev_quit(); returns the code given to ev_quit. */
int ev_run(void);
void ev_quit(int code);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in ms. Policy code never calls these: callers pass `now`. */
uint64_t ev_now_ms(void);
int64_t ev_wall_ms(void);

#endif
