/* test_loop.c - the event loop: timer order and cancel, fd handlers, removal during dispatch, signals;
 * and the decision ring behind `memoptctl log`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "common/loop.h"

static char order[16];
static size_t norder;

static void mark(void *data)
{
	order[norder++] = (char)(intptr_t)data;
	if (norder == 3)
		ev_quit(7);
}

static void test_timers_fire_in_due_order_and_cancel(void **state)
{
	(void)state;
	norder = 0;
	assert_int_equal(ev_init(), 0);
	ev_add_timeout(30, mark, (void *)'c');
	ev_add_timeout(10, mark, (void *)'a');
	int64_t x = ev_add_timeout(15, mark, (void *)'x');
	ev_add_timeout(20, mark, (void *)'b');
	ev_cancel_timeout(x);
	assert_int_equal(ev_run(), 7);
	assert_memory_equal(order, "abc", 3);
	ev_fini();
}

static int pipefd[2];
static int reads;

static void on_read(int fd, short revents, void *data)
{
	(void)data;
	assert_true(revents & POLLIN);
	char c;
	assert_int_equal(read(fd, &c, 1), 1);
	reads++;
	/* deleting yourself inside the callback is allowed */
	ev_del_fd(fd);
	ev_quit(0);
}

static void write_later(void *data)
{
	(void)data;
	assert_int_equal(write(pipefd[1], "x", 1), 1);
}

static void test_fd_handler_and_delete_in_callback(void **state)
{
	(void)state;
	reads = 0;
	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(ev_init(), 0);
	assert_int_equal(ev_add_fd(pipefd[0], POLLIN, on_read, NULL), 0);
	assert_int_equal(ev_add_fd(pipefd[0], POLLIN, on_read, NULL), -EEXIST);
	ev_add_timeout(5, write_later, NULL);
	assert_int_equal(ev_run(), 0);
	assert_int_equal(reads, 1);
	/* the fd is gone: a second byte is not dispatched */
	assert_int_equal(write(pipefd[1], "y", 1), 1);
	ev_add_timeout(20, mark, (void *)'z');
	norder = 2;
	assert_int_equal(ev_run(), 7);
	assert_int_equal(reads, 1);
	ev_fini();
	close(pipefd[0]);
	close(pipefd[1]);
}

static int got_signal;
static void on_sig(int signo, void *data)
{
	(void)data;
	got_signal = signo;
	ev_quit(3);
}

static void raise_usr1(void *data)
{
	(void)data;
	raise(SIGUSR1);
}

static void test_signal_through_loop(void **state)
{
	(void)state;
	got_signal = 0;
	assert_int_equal(ev_init(), 0);
	assert_int_equal(ev_add_signal(SIGUSR1, on_sig, NULL), 0);
	ev_add_timeout(1, raise_usr1, NULL);
	assert_int_equal(ev_run(), 3);
	assert_int_equal(got_signal, SIGUSR1);
	ev_fini();
}

static bool sig_blocked(int signo)
{
	sigset_t cur;
	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &cur), 0);
	return sigismember(&cur, signo) == 1;
}

static bool sig_pending(int signo)
{
	sigset_t pend;
	assert_int_equal(sigpending(&pend), 0);
	return sigismember(&pend, signo) == 1;
}

/* A signal that arrives after the loop stopped reading it (the daemon is restoring the host on its
 * way out) must not be delivered by ev_fini: SIGUSR1's default action, like SIGHUP's, would kill the
 * process and lose its exit code. It stays blocked and is discarded. */
static void test_fini_does_not_deliver_pending_signals(void **state)
{
	(void)state;
	got_signal = 0;
	assert_int_equal(ev_init(), 0);
	assert_int_equal(ev_add_signal(SIGUSR1, on_sig, NULL), 0);
	assert_int_equal(ev_add_signal(SIGUSR2, on_sig, NULL), 0);
	ev_add_timeout(1, raise_usr1, NULL);
	assert_int_equal(ev_run(), 3);
	assert_int_equal(got_signal, SIGUSR1);
	got_signal = 0;
	raise(SIGUSR1);
	raise(SIGUSR2);
	assert_true(sig_pending(SIGUSR1));
	ev_fini(); /* before the fix: killed here by SIGUSR1 */
	assert_int_equal(got_signal, 0);
	assert_true(sig_blocked(SIGUSR1));
	assert_true(sig_blocked(SIGUSR2));
	assert_false(sig_pending(SIGUSR1));
	assert_false(sig_pending(SIGUSR2));
	/* the next loop starts clean: nothing stale reaches its handlers */
	assert_int_equal(ev_init(), 0);
	assert_int_equal(ev_add_signal(SIGUSR1, on_sig, NULL), 0);
	ev_add_timeout(20, mark, (void *)'q');
	norder = 2;
	assert_int_equal(ev_run(), 7);
	assert_int_equal(got_signal, 0);
	ev_fini();
	sigset_t both;
	sigemptyset(&both);
	sigaddset(&both, SIGUSR1);
	sigaddset(&both, SIGUSR2);
	assert_int_equal(sigprocmask(SIG_UNBLOCK, &both, NULL), 0);
}

static void test_cycle_account_is_pure(void **state)
{
	(void)state;
	struct ev_lateness st;
	memset(&st, 0, sizeof(st));
	ev_cycle_account(&st, 1000, 0);
	ev_cycle_account(&st, 1000, EV_LATE_MS);     /* at the threshold: not late */
	ev_cycle_account(&st, 1000, EV_LATE_MS + 1); /* late, not an overrun */
	assert_int_equal(st.fired, 3);
	assert_int_equal(st.late, 1);
	assert_int_equal(st.overruns, 0);
	ev_cycle_account(&st, 1000, 1000); /* a whole period late: a lost cycle */
	ev_cycle_account(&st, 1000, 20);
	assert_int_equal(st.fired, 5);
	assert_int_equal(st.late, 2);
	assert_int_equal(st.overruns, 1);
	assert_int_equal(st.max_late_ms, 1000);
	assert_int_equal(st.last_late_ms, 20);
	assert_int_equal(st.last_delay_ms, 1000);
	ev_cycle_account(&st, 0, 5); /* "run now" timers cannot overrun */
	assert_int_equal(st.overruns, 1);
}

static int cycles_fired;

static void busy_wait(void *data)
{
	/* A handler that hogs the loop (a slow reply, a stalled read): whatever is due meanwhile waits. */
	uint64_t until = ev_now_ms() + (uint64_t)(intptr_t)data;
	while (ev_now_ms() < until)
		;
}

static void on_cycle(void *data)
{
	(void)data;
	if (++cycles_fired == 2)
		ev_quit(0);
	else
		assert_true(ev_add_cycle("test", 20, on_cycle, NULL) > 0);
}

static void test_cycle_lateness_measured(void **state)
{
	(void)state;
	struct ev_lateness st[EV_MAX_CYCLES];
	cycles_fired = 0;
	assert_int_equal(ev_init(), 0);
	assert_int_equal(ev_cycle_stats(st, EV_MAX_CYCLES), 0);
	assert_true(ev_add_cycle("test", 20, on_cycle, NULL) > 0);
	assert_true(ev_add_cycle("other", 60000, on_cycle, NULL) > 0);
	assert_true(ev_add_timeout(5, busy_wait, (void *)(intptr_t)150) > 0);
	assert_int_equal(ev_add_cycle("", 1, on_cycle, NULL), -EINVAL);
	assert_int_equal(ev_run(), 0);
	assert_int_equal(ev_cycle_stats(st, 1), 2);
	assert_string_equal(st[0].name, "test");
	assert_int_equal(st[0].fired, 2);
	assert_int_equal(st[0].last_delay_ms, 20);
	/* The first firing waited for the 150 ms hog: due at 20 ms, run at >= 155 ms. */
	assert_true(st[0].max_late_ms >= 130);
	assert_int_equal(st[0].late, 1);
	assert_int_equal(st[0].overruns, 1);
	/* The second one had the loop to itself. */
	assert_true(st[0].last_late_ms < 20);
	ev_fini();
	/* A new loop starts with no records. */
	assert_int_equal(ev_init(), 0);
	assert_int_equal(ev_cycle_stats(NULL, 0), 0);
	ev_fini();
}

static void test_decision_ring(void **state)
{
	(void)state;
	struct dlog_entry e[DLOG_RING_SIZE];
	log_setup(LOG_TARGET_STDERR, LOG_ERR); /* keep the test output quiet */
	for (int i = 0; i < DLOG_RING_SIZE + 10; i++)
		dlog_record("ksm", i % 2, "because", "action %d", i);
	size_t n = dlog_get(e, DLOG_RING_SIZE, 0);
	assert_int_equal(n, DLOG_RING_SIZE);
	assert_int_equal(e[0].seq, 11); /* the 10 oldest were overwritten */
	assert_string_equal(e[n - 1].action, "action 265");
	assert_string_equal(e[n - 1].reason, "because");
	n = dlog_get(e, 5, 0);           /* newest 5, oldest first */
	assert_int_equal(n, 5);
	assert_int_equal(e[0].seq, DLOG_RING_SIZE + 6);
	n = dlog_get(e, 100, DLOG_RING_SIZE + 8); /* since */
	assert_int_equal(n, 2);
	assert_true(e[1].dry_run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_due_order_and_cancel),
		cmocka_unit_test(test_fd_handler_and_delete_in_callback),
		cmocka_unit_test(test_signal_through_loop),
		cmocka_unit_test(test_fini_does_not_deliver_pending_signals),
		cmocka_unit_test(test_cycle_account_is_pure),
		cmocka_unit_test(test_cycle_lateness_measured),
		cmocka_unit_test(test_decision_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
