/* test_svc.c - systemd notifications: READY/STATUS/RELOADING/STOPPING datagrams, the watchdog ping from a
 * loop timer, STATUS only on change, WATCHDOG_PID of another process, and no-op without NOTIFY_SOCKET. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/loop.h"
#include "common/svc.h"

static char dir[32], path[64];
static int sfd = -1;
static const char *status_text = "ksm off, 0 guests";

static void summary(char *buf, size_t len)
{
	snprintf(buf, len, "%s", status_text);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/memopt-svc.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/notify", dir);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	sfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sfd < 0 || bind(sfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(sfd);
	unlink(path);
	rmdir(dir);
	return 0;
}

/* Next datagram into buf ("" when none is queued). */
static const char *next_msg(char *buf, size_t len)
{
	ssize_t n = recv(sfd, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void drain(void)
{
	char buf[512];
	while (next_msg(buf, sizeof(buf))[0])
		;
}

static void quit(void *data)
{
	(void)data;
	ev_quit(0);
}

static void test_notifications_and_watchdog(void **state)
{
	(void)state;
	char buf[512], pid[32];
	drain();
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "100000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(ev_init(), 0);
	status_text = "ksm off, 0 guests";
	assert_int_equal(svc_init(summary), 1);
	assert_int_equal(svc_watchdog_usec(), 100000);
	assert_null(getenv("WATCHDOG_USEC")); /* not passed on to what memoptd starts */

	svc_ready();
	assert_string_equal(next_msg(buf, sizeof(buf)), "READY=1\nSTATUS=ksm off, 0 guests");

	/* 100 ms watchdog: a ping every 50 ms; the first one carries the changed status, later ones not. */
	status_text = "ksm converging, 2 guests";
	ev_add_timeout(230, quit, NULL);
	assert_int_equal(ev_run(), 0);
	assert_string_equal(next_msg(buf, sizeof(buf)), "WATCHDOG=1\nSTATUS=ksm converging, 2 guests");
	int pings = 1;
	while (next_msg(buf, sizeof(buf))[0]) {
		assert_string_equal(buf, "WATCHDOG=1");
		pings++;
	}
	assert_in_range(pings, 3, 5);

	svc_reloading();
	next_msg(buf, sizeof(buf));
	assert_non_null(strstr(buf, "RELOADING=1\n"));
	assert_non_null(strstr(buf, "\nMONOTONIC_USEC="));
	svc_ready();
	assert_string_equal(next_msg(buf, sizeof(buf)), "READY=1\nSTATUS=ksm converging, 2 guests");
	svc_stopping();
	assert_string_equal(next_msg(buf, sizeof(buf)), "STOPPING=1\nSTATUS=stopping, restoring host values");
	svc_fini();
	ev_fini();
}

static void test_watchdog_of_another_pid(void **state)
{
	(void)state;
	char buf[512];
	drain();
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "100000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	assert_int_equal(ev_init(), 0);
	status_text = "same";
	assert_int_equal(svc_init(summary), 1);
	assert_int_equal(svc_watchdog_usec(), 0);
	svc_ready();
	assert_string_equal(next_msg(buf, sizeof(buf)), "READY=1\nSTATUS=same");
	ev_add_timeout(150, quit, NULL);
	assert_int_equal(ev_run(), 0);
	/* No watchdog, unchanged status: nothing sent. */
	assert_string_equal(next_msg(buf, sizeof(buf)), "");
	svc_fini();
	ev_fini();
}

static void test_noop_without_notify_socket(void **state)
{
	(void)state;
	char buf[512];
	drain();
	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "100000", 1);
	assert_int_equal(ev_init(), 0);
	assert_int_equal(svc_init(summary), 0);
	svc_ready();
	svc_reloading();
	svc_stopping();
	svc_status("x");
	ev_add_timeout(120, quit, NULL);
	assert_int_equal(ev_run(), 0);
	assert_string_equal(next_msg(buf, sizeof(buf)), "");
	svc_fini();
	ev_fini();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notifications_and_watchdog),
		cmocka_unit_test(test_watchdog_of_another_pid),
		cmocka_unit_test(test_noop_without_notify_socket),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
