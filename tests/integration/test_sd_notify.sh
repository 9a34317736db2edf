#!/bin/bash
# test_sd_notify.sh - memoptd as a Type=notify service: READY/STATUS, the watchdog ping from the loop, RELOADING then READY on SIGHUP, STOPPING on SIGTERM; none of it without NOTIFY_SOCKET.
# IT-TIMEOUT: 90
# shellcheck source=tests/integration/lib.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib.sh"

require_built "$MEMOPTD" "$MEMOPTCTL"
require_cmd socat

D=$IT_DIR
H=$D/host
SOCK=$D/memoptd.sock
NSOCK=$D/notify.sock
MSGS=$D/notify.txt
fixture_host "$H"
cat >"$D/memoptd.conf" <<EOF
[daemon]
socket = $SOCK
state_dir = $D/state
sysfs_root = $H/sys
procfs_root = $H/proc
ksmtuned_conf = none

[ksm]
interval = 1s

[balloon]
# test daemons stay off the host's real libvirtd
uri = test:///default
EOF

# The service manager's end: a datagram socket. socat -v writes a header line per datagram
# ("> 2026/.. .. length=N from=.. to=..") to stderr; the datagram's text follows without a final
# newline. Each header is turned into "@@ <arrival time, s.us>" (bash's EPOCHREALTIME, no fork per
# line), so notify.txt holds one "@@" line per datagram followed by its assignments.
listen() {
	socat -u -v "UNIX-RECV:$NSOCK" /dev/null 2>&1 | while IFS= read -r line; do
		if [[ $line =~ ^(.*)\>\ [0-9]{4}/[0-9]{2}/[0-9]{2}\ .*length= ]]; then
			[ -n "${BASH_REMATCH[1]}" ] && printf '%s\n' "${BASH_REMATCH[1]}"
			printf '@@ %s\n' "$EPOCHREALTIME"
		else
			printf '%s\n' "$line"
		fi
	done >"$MSGS"
}
it_spawn "$D/listener.log" listen
LISTENER=$IT_LAST_PID
check "the notify listener's socket exists" wait_until 5 test -S "$NSOCK"

# Sends a last datagram of our own, so the one before it is complete (it has no final newline).
flush_listener() {
	printf 'X_TEST_MARK=%s' "$1" | socat -u - "UNIX-SENDTO:$NSOCK"
	sleep 0.2
}
msg_count() { grep -c -- "^$1\$" "$MSGS" 2>/dev/null; }
has_msg() { grep -Eq -- "$1" "$MSGS" 2>/dev/null; }
# in_datagram FIRST SECOND: a datagram holds a line FIRST and, after it, a line matching ERE SECOND.
in_datagram() { awk -v a="$1" -v b="$2" '/^@@/{r=0} $0 == a {r=1} r && $0 ~ b {f=1} END{exit !f}' "$MSGS"; }

# WATCHDOG_PID must be memoptd's own pid: the shell execs it, so its $$ is that pid.
it_spawn "$D/daemon.log" env NOTIFY_SOCKET="$NSOCK" WATCHDOG_USEC=2000000 sh -c \
	'WATCHDOG_PID=$$ exec "$0" --foreground -c "$1"' "$MEMOPTD" "$D/memoptd.conf"
DAEMON_PID=$IT_LAST_PID
if ! wait_socket "$SOCK" "$DAEMON_PID" 15; then
	fail "memoptd did not answer on $SOCK"
	finish
fi
check "READY=1 arrives" wait_until 10 has_msg '^READY=1$'
check_grep "the daemon log names the watchdog interval" "$D/daemon.log" \
	"systemd watchdog every 2000 ms, pinging every 1000 ms"

sleep 5
flush_listener ping
check "STATUS= with a summary of the modules comes with READY=1" in_datagram READY=1 '^STATUS=ksm .*, host '
check "STATUS= changes once the modules have decided" has_msg '^STATUS=ksm converging, 1 guest, host '
# Arrival times of the WATCHDOG=1 datagrams after READY=1.
awk '/^@@/{t=$2} /^READY=1$/{r=1} r && /^WATCHDOG=1$/{print t}' "$MSGS" >"$D/wd.times"
n=$(wc -l <"$D/wd.times")
maxgap=$(awk 'NR>1{g=($1-p)*1000; if (g>m) m=g} {p=$1} END{printf "%d", m}' "$D/wd.times")
note "$n WATCHDOG=1 pings in ~5 s after READY=1, largest gap ${maxgap} ms"
if [ "$n" -ge 4 ]; then pass "WATCHDOG=1 about every second ($n in 5 s)"; else fail "only $n WATCHDOG=1 in 5 s"; fi
# The period is 1000 ms; anything above is scheduling on a loaded 2-core test machine.
if [ "$n" -ge 2 ] && [ "$maxgap" -le 1500 ]; then
	pass "no watchdog gap above 1.5 s (largest ${maxgap} ms)"
else
	fail "a watchdog gap of ${maxgap} ms"
fi
grep '^STATUS=' "$MSGS" | sed 's/^/       | /' | head -n 5

kill -HUP "$DAEMON_PID"
check "SIGHUP: the reload is logged" wait_until 10 grep -q "configuration reloaded" "$D/daemon.log"
sleep 0.3
flush_listener hup
check "SIGHUP: RELOADING=1 with MONOTONIC_USEC" in_datagram RELOADING=1 '^MONOTONIC_USEC=[1-9][0-9]*$'
check "SIGHUP: READY=1 again after RELOADING=1" \
	awk '/^RELOADING=1$/{r=1} r && /^READY=1$/{f=1} END{exit !f}' "$MSGS"

# A refused reload ends with READY=1 too: the old configuration stays and the service is ready.
cp "$D/memoptd.conf" "$D/memoptd.conf.good"
printf '[ksm]\nno_such_key = 1\n' >>"$D/memoptd.conf"
kill -HUP "$DAEMON_PID"
check "refused reload: logged" wait_until 10 grep -q "reload refused" "$D/daemon.log"
sleep 0.3
flush_listener hup2
check_eq "refused reload: a second RELOADING=1" 2 "$(msg_count RELOADING=1)"
check_eq "refused reload: followed by READY=1 (3 in all)" 3 "$(msg_count READY=1)"
cp "$D/memoptd.conf.good" "$D/memoptd.conf"

daemon_stop "$DAEMON_PID" TERM 20
check_eq "SIGTERM: exit 0" 0 "$IT_RC"
flush_listener term
check "SIGTERM: STOPPING=1" has_msg '^STOPPING=1$'
check "STOPPING=1 is the last notification" \
	awk '/^(READY|WATCHDOG|RELOADING)=1$/{s=0} /^STOPPING=1$/{s=1} END{exit !s}' "$MSGS"

echo "-- WATCHDOG_PID of another process: no pings"
cp "$MSGS" "$MSGS.before"
it_spawn "$D/daemon2.log" env NOTIFY_SOCKET="$NSOCK" WATCHDOG_USEC=2000000 WATCHDOG_PID=1 \
	"$MEMOPTD" --foreground -c "$D/memoptd.conf"
DAEMON_PID=$IT_LAST_PID
if wait_socket "$SOCK" "$DAEMON_PID" 15; then
	sleep 2.5
	flush_listener other
	check_eq "WATCHDOG_PID=1: no WATCHDOG=1 from memoptd" "$(grep -c '^WATCHDOG=1$' "$MSGS.before")" \
		"$(msg_count WATCHDOG=1)"
	check_eq "WATCHDOG_PID=1: READY=1 still sent" 4 "$(msg_count READY=1)"
else
	fail "second memoptd did not answer on $SOCK"
fi
daemon_stop "$DAEMON_PID" TERM 20
check_eq "second daemon: SIGTERM exit 0" 0 "$IT_RC"

echo "-- no NOTIFY_SOCKET: foreground use unchanged"
notifications() { grep -Ec '^(READY|WATCHDOG|RELOADING|STOPPING)=1$' "$MSGS"; }
before=$(notifications)
it_spawn "$D/daemon3.log" env -u NOTIFY_SOCKET WATCHDOG_USEC=2000000 "$MEMOPTD" --foreground \
	-c "$D/memoptd.conf"
DAEMON_PID=$IT_LAST_PID
check "without NOTIFY_SOCKET memoptd starts" wait_socket "$SOCK" "$DAEMON_PID" 15
daemon_stop "$DAEMON_PID" TERM 20
check_eq "without NOTIFY_SOCKET: SIGTERM exit 0" 0 "$IT_RC"
flush_listener none
check_eq "without NOTIFY_SOCKET: nothing was sent" "$before" "$(notifications)"
check_no_grep "without NOTIFY_SOCKET: no watchdog" "$D/daemon3.log" "systemd watchdog"

kill "$LISTENER" 2>/dev/null
finish
