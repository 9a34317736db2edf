/* svc.c - systemd notifications (READY/STATUS/RELOADING/STOPPING/WATCHDOG) through libsystemd's
 * sd_notify, with the watchdog ping on a timer of the one event loop, so a stuck loop stops pinging. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#include "svc.h"
#include "log.h"
#include "loop.h"

/* Without a watchdog the status line is still refreshed at this period. */
#define SVC_STATUS_PERIOD_MS 2000
#define SVC_STATUS_MAX 256

static struct {
	bool active;             /* NOTIFY_SOCKET was set */
	uint64_t watchdog_usec;  /* 0: no watchdog */
	uint64_t period_ms;
	int64_t timer;
	svc_status_fn status_fn;
	char last_status[SVC_STATUS_MAX];
	bool warned;
} S = { .timer = -1 };

/* One datagram; a failure is logged once, then ignored (the manager may be gone while we stop). */
static void notify(const char *msg)
{
	int r = sd_notify(0, msg);
	if (r < 0 && !S.warned) {
		errno = -r;
		log_warn("sd_notify failed, ignoring: %m");
		S.warned = true;
	}
}

/* "STATUS=..." when the summary changed since the last one sent, else "". */
static void status_line(char *buf, size_t len)
{
	char now[SVC_STATUS_MAX];
	buf[0] = '\0';
	if (!S.status_fn)
		return;
	now[0] = '\0';
	S.status_fn(now, sizeof(now));
	/* A newline would end the assignment early and start a bogus one. */
	for (char *p = now; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (!now[0] || !strcmp(now, S.last_status))
		return;
	snprintf(S.last_status, sizeof(S.last_status), "%s", now);
	snprintf(buf, len, "STATUS=%s", now);
}

static void on_tick(void *data)
{
	(void)data;
	char st[SVC_STATUS_MAX + 16], msg[SVC_STATUS_MAX + 32];
	S.timer = -1;
	status_line(st, sizeof(st));
	snprintf(msg, sizeof(msg), "%s%s%s", S.watchdog_usec ? "WATCHDOG=1" : "",
		 S.watchdog_usec && st[0] ? "\n" : "", st);
	if (msg[0])
		notify(msg);
	int64_t id = ev_add_timeout(S.period_ms, on_tick, NULL);
	if (id < 0) {
		errno = (int)-id;
		log_err("cannot re-arm the service watchdog timer: %m");
		return;
	}
	S.timer = id;
}

int svc_init(svc_status_fn status)
{
	uint64_t usec = 0;
	/* A fresh start (tests run several loops): svc_fini() has cancelled the old timer. */
	memset(&S, 0, sizeof(S));
	S.timer = -1;
	S.status_fn = status;
	S.active = getenv("NOTIFY_SOCKET") != NULL;
	if (!S.active)
		return 0;
	/* Unset WATCHDOG_USEC/PID: anything we start is not the watched process. NOTIFY_SOCKET stays
	 * for our own later notifications. */
	int r = sd_watchdog_enabled(1, &usec);
	if (r < 0) {
		errno = -r;
		log_warn("invalid WATCHDOG_USEC/WATCHDOG_PID, running without the watchdog: %m");
		usec = 0;
	} else if (r == 0) {
		usec = 0;
	}
	S.watchdog_usec = usec;
	S.period_ms = usec ? usec / 2000 : SVC_STATUS_PERIOD_MS;
	if (S.period_ms == 0)
		S.period_ms = 1;
	if (usec)
		log_info("systemd watchdog every %llu ms, pinging every %llu ms",
			 (unsigned long long)(usec / 1000), (unsigned long long)S.period_ms);
	int64_t id = ev_add_timeout(S.period_ms, on_tick, NULL);
	if (id < 0)
		return (int)id;
	S.timer = id;
	return 1;
}

void svc_fini(void)
{
	if (S.timer > 0)
		ev_cancel_timeout(S.timer);
	S.timer = -1;
}

void svc_ready(void)
{
	char st[SVC_STATUS_MAX + 16], msg[SVC_STATUS_MAX + 32];
	if (!S.active)
		return;
	status_line(st, sizeof(st));
	snprintf(msg, sizeof(msg), "READY=1%s%s", st[0] ? "\n" : "", st);
	notify(msg);
}

void svc_reloading(void)
{
	struct timespec ts;
	char msg[96];
	if (!S.active)
		return;
	/* systemd >= 253 matches the reload by this timestamp (Type=notify-reload); older ones ignore it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000ull);
	snprintf(S.last_status, sizeof(S.last_status), "reloading the configuration");
	notify(msg);
}

void svc_stopping(void)
{
	if (!S.active)
		return;
	snprintf(S.last_status, sizeof(S.last_status), "stopping, restoring host values");
	notify("STOPPING=1\nSTATUS=stopping, restoring host values");
}

void svc_status(const char *text)
{
	char msg[SVC_STATUS_MAX + 16];
	if (!S.active)
		return;
	snprintf(S.last_status, sizeof(S.last_status), "%s", text);
	snprintf(msg, sizeof(msg), "STATUS=%s", S.last_status);
	notify(msg);
}

uint64_t svc_watchdog_usec(void)
{
	return S.watchdog_usec;
}
