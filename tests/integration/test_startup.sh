#!/bin/bash
# test_startup.sh - memoptd's start-up and stop: failures exit non-zero even when daemonizing, state dir creation, relative paths, signals while loading and while stopping.
# IT-TIMEOUT: 120
# shellcheck source=tests/integration/lib.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib.sh"

require_built "$MEMOPTD" "$MEMOPTCTL"
require_cmd jq flock

D=$IT_DIR
H=$D/host
# No memory pressure on the fake host: these tests are about the daemon's life cycle, not about acting.
fixture_host "$H" 12000000

# write_conf FILE [MODE]: a config on the fake host; every path in it is absolute except what the
# command line gives.
write_conf() {
	cat >"$1.tmp" <<EOF
[daemon]
sysfs_root = $H/sys
procfs_root = $H/proc
ksmtuned_conf = none

[ksm]
mode = ${2:-auto}

[balloon]
# test daemons stay off the host's real libvirtd
uri = test:///default
EOF
	mv "$1.tmp" "$1"
}
CONF=$D/memoptd.conf
write_conf "$CONF"

# start_bg NAME ARGS...: memoptd without --foreground (it daemonizes once it is set up), bounded;
# output in $D/NAME.out, exit status of the started process in RC.
start_bg() {
	local name=$1
	shift
	RC=0
	timeout 20 "$MEMOPTD" "$@" </dev/null >"$D/$name.out" 2>&1 || RC=$?
}

# adopt PID: a daemonized memoptd we started; killed by the cleanup trap and the runner like our own.
adopt() {
	IT_PIDS+=("$1")
	printf '%s %s\n' "$1" "$MEMOPTD" >>"$IT_DIR/.pids"
}

echo "-- start-up failures exit non-zero from the process that was started, also when daemonizing"
daemon_start first -c "$CONF" --socket "$D/first.sock" --state-dir "$D/state"
if ! wait_socket "$D/first.sock" "$DAEMON_PID" 15; then
	fail "memoptd did not answer on $D/first.sock"
	finish
fi
FIRST_PID=$DAEMON_PID
start_bg second -c "$CONF" --socket "$D/second.sock" --state-dir "$D/state"
check_eq "a second, daemonizing memoptd on the same state dir exits 4" 4 "$RC"
check_grep "... saying another memoptd holds the lock" "$D/second.out" "another memoptd.*$D/state/memoptd\.lock"
check "... and creates no socket" test ! -e "$D/second.sock"
check "the first daemon still serves" ctl_up "$D/first.sock"
daemon_stop "$FIRST_PID" TERM 20
check_eq "the first daemon stops with exit 0" 0 "$IT_RC"

# A corrupt journal is quarantined and memoptd starts held (tests/faults/test_journal_corrupt.sh); one
# that cannot be read at all is a start-up failure.
mkdir -p "$D/state-unreadable/originals.json"
start_bg unreadable -c "$CONF" --socket "$D/unreadable.sock" --state-dir "$D/state-unreadable"
check_eq "an unreadable originals.json (a directory), daemonizing: exit 4" 4 "$RC"
check_grep "... refusing to start, naming the file" "$D/unreadable.out" "refusing to start.*originals\.json: read failed"
check "... the journal is left as it was" test -d "$D/state-unreadable/originals.json"
check "... and no socket was created" test ! -e "$D/unreadable.sock"

echo "-- the state directory"
DEEP=$D/deep/a/b/state
daemon_start deep -c "$CONF" --socket "$D/deep/run/x/deep.sock" --state-dir "$DEEP"
if wait_socket "$D/deep/run/x/deep.sock" "$DAEMON_PID" 15; then
	pass "a state dir whose parents do not exist: memoptd creates them and starts"
else
	fail "a state dir whose parents do not exist: memoptd did not start"
fi
check_eq "the state dir is created 0700" 700 "$(stat -c %a "$DEEP" 2>/dev/null)"
check_eq "its missing parents are created 0755" 755 "$(stat -c %a "$D/deep/a" 2>/dev/null)"
check "the lock file is in it" test -f "$DEEP/memoptd.lock"
daemon_stop "$DAEMON_PID" TERM 20
check_eq "... and it stops with exit 0" 0 "$IT_RC"

# The lock cannot be taken for a reason other than another daemon: say that reason, not "another memoptd".
mkdir -p "$D/state-lockdir/memoptd.lock"
check_rc "memoptd.lock is a directory: exit 4" 4 timeout 20 "$MEMOPTD" --foreground -c "$CONF" \
	--socket "$D/lockdir.sock" --state-dir "$D/state-lockdir"
check_grep "... naming the lock file and the error" "$D/last.err" "memoptd\.lock.*Is a directory"
check_no_grep "... without claiming another memoptd is running" "$D/last.err" "another memoptd"
: >"$D/state-file"
check_rc "the state dir is a regular file: exit 4" 4 timeout 20 "$MEMOPTD" --foreground -c "$CONF" \
	--socket "$D/file.sock" --state-dir "$D/state-file"
check_grep "... saying it is not a directory" "$D/last.err" "state-file.*Not a directory"
check_no_grep "... without claiming another memoptd is running" "$D/last.err" "another memoptd"

echo "-- daemonizing, with relative paths on the command line"
mkdir -p "$D/rel"
write_conf "$D/rel/memoptd.conf" auto
RSOCK=$D/rel/run/rel.sock
RC=0
(cd "$D/rel" && timeout 20 "$MEMOPTD" -c memoptd.conf --socket run/rel.sock --state-dir state \
	</dev/null >"$D/rel.out" 2>&1) || RC=$?
check_eq "relative -c, --socket and --state-dir: the started process exits 0" 0 "$RC"
if [ "$RC" = 0 ] && wait_until 10 ctl_up "$RSOCK"; then
	pass "the daemonized memoptd answers on the socket (relative to where it was started)"
	ctl_json "$RSOCK" status >"$D/rel-status.json"
	RPID=$(jq -r '.pid' "$D/rel-status.json")
	adopt "$RPID"
	check "it runs memoptd (pid $RPID)" pid_runs "$RPID" "$MEMOPTD"
	check_eq "it has left the directory it was started in" / "$(readlink "/proc/$RPID/cwd")"
	check "status names the config by its absolute path" \
		jqt --arg c "$D/rel/memoptd.conf" '.config == $c' "$D/rel-status.json"
	check "the relative state dir holds the lock" test -f "$D/rel/state/memoptd.lock"
	start_bg rel-second -c "$D/rel/memoptd.conf" --socket "$D/rel-second.sock" --state-dir "$D/rel/state"
	check_eq "the daemonized child kept the lock: a second start exits 4" 4 "$RC"
	check_eq "mode is auto" auto "$(ctl_json "$RSOCK" ksm | jq -r '.mode')"
	write_conf "$D/rel/memoptd.conf" always
	kill -HUP "$RPID"
	mode_is_always() { [ "$(ctl_json "$RSOCK" ksm | jq -r '.mode')" = always ]; }
	check "SIGHUP after daemonizing re-reads the relative -c file (mode always)" wait_until 10 mode_is_always
	kill -TERM "$RPID"
	check "SIGTERM stops the daemonized memoptd" wait_until 20 pid_gone "$RPID"
	check "... which removes its socket" test ! -e "$RSOCK"
else
	fail "the daemonized memoptd does not answer on $RSOCK"
	sed 's/^/       | /' "$D/rel.out" | head -n 10
fi

# slow_host DIR: a fake host whose meminfo is a FIFO. The ksmtuned.conf import reads MemTotal from
# procfs_root/meminfo, so memoptd stays inside the configuration load (before its signal handlers
# exist) until release_meminfo DIR.
slow_host() {
	fixture_host "$1" 12000000
	mkfifo "$1/meminfo.fifo"
	mv "$1/proc/meminfo" "$1/meminfo.real"
	ln "$1/meminfo.fifo" "$1/proc/meminfo"
}
# release_meminfo DIR: make the path an ordinary file again, then let the blocked read go on through
# the FIFO's other name.
release_meminfo() {
	cp "$1/meminfo.real" "$1/proc/meminfo.new"
	mv "$1/proc/meminfo.new" "$1/proc/meminfo"
	timeout 5 cp "$1/meminfo.real" "$1/meminfo.fifo" 2>/dev/null
}
# blocked_on_fifo PID: PID sleeps opening a FIFO.
blocked_on_fifo() {
	case $(cat "/proc/$1/wchan" 2>/dev/null) in *partner* | *fifo* | *pipe*) return 0 ;; esac
	return 1
}
printf '# nothing to import\n' >"$D/ksmtuned.conf"

# signal_while_loading NAME SIGNAL [ARGS...]: start memoptd ARGS on the slow host $D/NAME (output in
# $D/NAME.log, socket $D/NAME.sock, PID in LOAD_PID), send SIGNAL while it is inside the configuration
# load, then let the load go on. Returns 1 if memoptd was never seen blocked there.
signal_while_loading() {
	local name=$1 sig=$2 p=$D/$1
	shift 2
	slow_host "$p"
	it_spawn "$D/$name.log" "$MEMOPTD" "$@" -c "$CONF" --ksmtuned-conf "$D/ksmtuned.conf" \
		--procfs-root "$p/proc" --socket "$D/$name.sock" --state-dir "$D/state-$name"
	LOAD_PID=$IT_LAST_PID
	wait_until 10 blocked_on_fifo "$LOAD_PID" || return 1
	kill -"$sig" "$LOAD_PID"
	sleep 0.3
	release_meminfo "$p"
}

echo "-- signals while the configuration is still loading"
if signal_while_loading slow HUP --foreground; then
	if wait_socket "$D/slow.sock" "$LOAD_PID" 15; then
		pass "SIGHUP during the configuration load: memoptd survives and starts"
	else
		it_reap "$LOAD_PID" 5
		fail "SIGHUP during the configuration load: memoptd did not start (exit status $IT_RC)"
	fi
	check "... and the SIGHUP is a reload once the loop runs" \
		wait_until 10 grep -q "configuration reloaded" "$D/slow.log"
	daemon_stop "$LOAD_PID" TERM 20
	check_eq "... and it stops with exit 0" 0 "$IT_RC"
else
	subskip "SIGHUP during start-up: memoptd was never seen blocked on the meminfo FIFO"
fi

# A daemonizing memoptd and SIGTERM: the signal reaches the process that was started, and must still
# stop the daemon it forks.
if signal_while_loading slow-bg TERM; then
	it_reap "$LOAD_PID" 15
	check_eq "SIGTERM while a daemonizing memoptd loads: the started process exits 0" 0 "$IT_RC"
	# The daemon it forked must stop by itself; if it answers, adopt it so the trap stops it.
	if ctl_up "$D/slow-bg.sock"; then
		adopt "$(ctl_json "$D/slow-bg.sock" status | jq -r '.pid')"
	fi
	check "... and the daemon it forked stops too (socket gone, lock free)" \
		wait_until 10 eval 'test ! -e "$D/slow-bg.sock" && flock -n "$D/state-slow-bg/memoptd.lock" true'
else
	subskip "SIGTERM during a daemonizing start-up: memoptd was never seen blocked on the meminfo FIFO"
fi

echo "-- signals while stopping"
# Best effort: a SIGHUP or SIGINT that lands while the daemon restores and closes must neither kill
# it nor change its exit status (tests/unit/test_loop.c checks the loop's part deterministically).
for round in 1 2 3; do
	daemon_start "stop$round" -c "$CONF" --socket "$D/stop.sock" --state-dir "$D/state-stop"
	if ! wait_socket "$D/stop.sock" "$DAEMON_PID" 15; then
		fail "round $round: memoptd did not answer on $D/stop.sock"
		continue
	fi
	kill -TERM "$DAEMON_PID"
	for _ in $(seq 1 300); do
		kill -HUP "$DAEMON_PID" 2>/dev/null || break
		kill -INT "$DAEMON_PID" 2>/dev/null || break
	done
	it_reap "$DAEMON_PID" 20
	check_eq "round $round: SIGTERM, then SIGHUP/SIGINT until it is gone: exit 0" 0 "$IT_RC"
done

finish
