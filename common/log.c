/* log.c - logging to stderr or syslog, and the ring of recent decisions for `memoptctl log`. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "loop.h"

static enum log_target target = LOG_TARGET_STDERR;
static int max_level = LOG_INFO;

static struct dlog_entry ring[DLOG_RING_SIZE];
static uint64_t ring_seq; /* seq of the newest entry; entries are ring[(seq-1) % size] */

void log_setup(enum log_target t, int level)
{
	target = t;
	max_level = level;
	if (t == LOG_TARGET_SYSLOG)
		openlog("memoptd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_max_level(int level) { max_level = level; }
int log_get_max_level(void) { return max_level; }

static const char *level_name(int level)
{
	switch (level) {
	case LOG_DEBUG: return "debug";
	case LOG_INFO: return "info";
	case LOG_NOTICE: return "notice";
	case LOG_WARNING: return "warning";
	default: return "error";
	}
}

void log_msg(int level, const char *fmt, ...)
{
	int saved = errno;
	if (level > max_level) {
		errno = saved;
		return;
	}
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	errno = saved; /* so "%m" expands the caller's errno */
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (target == LOG_TARGET_SYSLOG) {
		syslog(level, "%s", buf);
	} else {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		fprintf(stderr, "%02d:%02d:%02d.%03ld %-7s %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
			ts.tv_nsec / 1000000, level_name(level), buf);
	}
	errno = saved;
}

void dlog_record(const char *subsys, bool dry_run, const char *reason, const char *fmt, ...)
{
	struct dlog_entry *e = &ring[ring_seq % DLOG_RING_SIZE];
	memset(e, 0, sizeof(*e));
	e->seq = ++ring_seq;
	e->wall_ms = ev_wall_ms();
	e->dry_run = dry_run;
	snprintf(e->subsys, sizeof(e->subsys), "%s", subsys);
	snprintf(e->reason, sizeof(e->reason), "%s", reason ? reason : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->action, sizeof(e->action), fmt, ap);
	va_end(ap);
	log_info("%s: %s%s (%s)", e->subsys, dry_run ? "[dry-run] would " : "", e->action, e->reason);
}

size_t dlog_get(struct dlog_entry *ret, size_t max, uint64_t since_seq)
{
	uint64_t oldest = ring_seq > DLOG_RING_SIZE ? ring_seq - DLOG_RING_SIZE + 1 : 1;
	if (since_seq + 1 > oldest)
		oldest = since_seq + 1;
	if (ring_seq >= oldest && ring_seq - oldest + 1 > max)
		oldest = ring_seq - max + 1;
	size_t n = 0;
	for (uint64_t s = oldest; s <= ring_seq && n < max; s++)
		ret[n++] = ring[(s - 1) % DLOG_RING_SIZE];
	return n;
}
