#!/bin/bash
# test_libvirtd_killed.sh - fault: libvirtd SIGKILLed and restarted (a real libvirtd started by the e2e harness, no guests); memoptd reports libvirt disconnected, keeps KSM and the host policy working, and reconnects with backoff once libvirtd is back.
# IT-TIMEOUT: 420
# shellcheck source=tests/faults/lib-faults.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib-faults.sh"
. "$IT_SRC/tests/e2e/lib-virt.sh"

require_root
require_cmd virsh timeout flock
[ -x "$VIRT_LIBVIRTD" ] || skip "needs $VIRT_LIBVIRTD (scripts/install-deps.sh e2e)"
[ -x "$VIRT_VIRTLOGD" ] || skip "needs $VIRT_VIRTLOGD (scripts/install-deps.sh e2e)"

# The e2e tier's lock: both start and kill the one system libvirtd. fd 9 is closed in everything the
# harness and it_spawn start, so a libvirtd left behind cannot keep holding it.
E2E_LOCK=${E2E_LOCK:-/run/memopt-e2e.lock}
exec 9>"$E2E_LOCK"
if ! flock -n 9; then
	note "waiting for the e2e tier ($E2E_LOCK)"
	flock -w 1800 9 || { fail "the e2e lock stayed held for 30 min"; finish; }
fi
ft_virt_cleanup() {
	local rc=$? i pid
	for ((i = ${#IT_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${IT_PIDS[i]}
		pid_alive "$pid" && { kill -TERM "$pid"; timeout 10 tail --pid="$pid" -s 0.1 -f /dev/null || kill -KILL "$pid"; }
	done 2>/dev/null
	stop_libvirt
	(exit "$rc")
	it_cleanup
}
trap ft_virt_cleanup EXIT
virt_reap

D=$IT_DIR
H=$D/host
SOCK=$D/memoptd.sock
STATE=$D/state
ft_tree "$H"
FT_BALLOON_URI=$VIRT_URI ft_conf "$D/memoptd.conf" "$H" "$STATE" "$SOCK"

rc=0
start_libvirt "$D" 180 || rc=$?
case $rc in
0) ;;
2) skip "a libvirtd this test did not start is running; the test would have to kill it" ;;
*) fail "libvirtd did not start"; finish ;;
esac

bln_state() { ft_module "$SOCK" balloon; }
bln_is() { bln_state | grep -q "^$1:"; }
ft_start d1 "$D/memoptd.conf"
check "balloon: connected to the real libvirtd ($VIRT_URI)" wait_until 30 bln_is running
note "status: balloon $(bln_state)"
run_is() { [ "$(cat "$H/sys/kernel/mm/ksm/run")" = "$1" ]; }
check "KSM: the tuner started KSM under pressure (run=1)" wait_until 20 run_is 1

echo "-- fault: SIGKILL libvirtd"
check "libvirtd killed (by the harness's PID record)" kill_libvirtd KILL
T0=$(virt_now_ms)
if wait_until 60 bln_is disconnected; then
	pass "status says balloon disconnected after $(virt_secs_since "$T0")s: $(bln_state)"
else
	fail "status does not say disconnected within 60 s: $(bln_state)"
fi
check_grep "the log says the connection was lost" "$D/d1.log" "balloon: .*(lost|closed|disconnect|cannot connect).*"
check "status: summary line says libvirt disconnected" ft_status_has "$SOCK" \
	'.modules[] | select(.name == "balloon") | .detail | test("retrying in [0-9]+s")'
rc=0
"$MEMOPTCTL" --socket "$SOCK" guests >"$D/guests.out" 2>&1 || rc=$?
note "memoptctl guests while disconnected: exit $rc: $(head -n 2 "$D/guests.out" | tr '\n' ' ')"
check_grep "memoptctl guests says libvirt is not connected" "$D/guests.out" "not connected|disconnected"
fixture_set_avail "$H" 12000000
check "KSM keeps working: pressure gone, the tuner stops KSM (run=0)" wait_until 20 run_is 0
check_rc "host policy keeps working: memoptctl host apply" 0 "$MEMOPTCTL" --socket "$SOCK" host apply
check_eq "... swappiness written" 10 "$(cat "$H/proc/sys/vm/swappiness")"
sleep 5
check "memoptd still runs with libvirtd gone" pid_alive "$DAEMON_PID"
retries=$(grep -c "balloon: .*retrying in" "$D/d1.log")
note "reconnect attempts logged so far: $retries ($(grep -o 'retrying in [0-9]*s' "$D/d1.log" | tr '\n' ' '))"

echo "-- libvirtd restarted"
T1=$(virt_now_ms)
if ! start_libvirt "$D" 180; then
	fail "libvirtd did not restart"
	finish
fi
note "libvirtd answers again after $(virt_secs_since "$T1")s"
T2=$(virt_now_ms)
if wait_until 120 bln_is running; then
	pass "memoptd reconnected $(virt_secs_since "$T2")s after libvirtd answered: $(bln_state)"
else
	fail "memoptd did not reconnect within 120 s: $(bln_state)"
fi
check_rc "memoptctl guests answers again" 0 "$MEMOPTCTL" --socket "$SOCK" guests

daemon_stop "$DAEMON_PID" TERM 30
check_eq "memoptd exits 0 (every value restored)" 0 "$IT_RC"
check_eq "the journal is empty" 0 "$(journal_count "$STATE")"
finish
