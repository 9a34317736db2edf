/* log.h - the one logging API: stderr in the foreground, syslog as a service, plus the decision ring. */
#ifndef MEMOPT_LOG_H
#define MEMOPT_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG };

/* Configure the sink and the maximum level printed (LOG_DEBUG..LOG_ERR). */
void log_setup(enum log_target target, int max_level);
void log_set_max_level(int max_level);
int log_get_max_level(void);

/* Log one message at syslog level `level`. errno is preserved, so "%m" works. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)

/* The decision ring: every decision a module acts on (or would act on, in dry-run) is
 * recorded with its reason, logged at INFO, and kept for `memoptctl log`. */
#define DLOG_SUBSYS_MAX 16
#define DLOG_TEXT_MAX 640
#define DLOG_RING_SIZE 256

struct dlog_entry {
	uint64_t seq;            /* 1-based, monotonic */
	int64_t wall_ms;         /* CLOCK_REALTIME, ms since the epoch */
	char subsys[DLOG_SUBSYS_MAX];   /* "ksm", "balloon", ... */
	char action[DLOG_TEXT_MAX];     /* what was (or would be) done */
	char reason[DLOG_TEXT_MAX];     /* why */
	bool dry_run;
};

/* Record one decision; also logs it at INFO as "subsys: action (reason)". */
void dlog_record(const char *subsys, bool dry_run, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Copy up to `max` newest entries (oldest first) into `ret`; returns the count. since_seq filters. */
size_t dlog_get(struct dlog_entry *ret, size_t max, uint64_t since_seq);

#endif
