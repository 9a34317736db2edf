/* svc.h - systemd service integration: sd_notify readiness, status, reload, stop and the watchdog
 * ping from the one event loop. Without NOTIFY_SOCKET every call is a no-op. */
#ifndef MEMOPT_SVC_H
#define MEMOPT_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fills buf with a one-line summary of what the modules decided ("ksm converging, 2 guests, ..."). */
typedef void (*svc_status_fn)(char *buf, size_t len);

/* Read NOTIFY_SOCKET and the watchdog settings (sd_watchdog_enabled(): WATCHDOG_USEC for our own
 * WATCHDOG_PID), and arm the loop timer that pings the watchdog at half its interval and sends
 * STATUS= when the summary changed. Call after ev_init() and after daemon(), in the process that
 * stays. status may be NULL. Returns 1 when notifications go to a service manager, 0 when there is
 * none (everything else is then a no-op), -errno when the timer cannot be armed. */
int svc_init(svc_status_fn status);
/* Stop the timer; call before ev_fini(). */
void svc_fini(void);

/* READY=1 with the current STATUS=: start-up, or a reload, is complete. */
void svc_ready(void);
/* RELOADING=1 with MONOTONIC_USEC= (SIGHUP received; svc_ready() follows). */
void svc_reloading(void);
/* STOPPING=1 (SIGTERM/SIGINT received; host values are about to be restored). */
void svc_stopping(void);
/* Send STATUS=text now (free text; also remembered so the timer does not resend it). */
void svc_status(const char *text);

/* The watchdog interval the service manager asked for, 0 when none. */
uint64_t svc_watchdog_usec(void);

#endif
