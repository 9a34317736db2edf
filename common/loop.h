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

/* Deliver signo through signalfd into the loop (the signal is blocked for the process). */
int ev_add_signal(int signo, ev_signal_cb cb, void *data);

/* Run until ev_quit(); returns the code given to ev_quit. */
int ev_run(void);
void ev_quit(int code);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in ms. Policy code never calls these: callers pass `now`. */
uint64_t ev_now_ms(void);
int64_t ev_wall_ms(void);

#endif
