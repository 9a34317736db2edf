#!/bin/bash
# test_fixture_daemon.sh - the real memoptd on a fake /sys and /proc: acts under pressure, reports, dry-run, restores on stop and after a crash.
# IT-TIMEOUT: 120
# shellcheck source=tests/integration/lib.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib.sh"

require_built "$MEMOPTD" "$MEMOPTCTL"
require_cmd jq

D=$IT_DIR
ORIG=$D/orig-knobs.txt
fixture_host "$D/pristine"
knob_values "$D/pristine/sys/kernel/mm/ksm" >"$ORIG"

# start_on HOST STATE NAME [ARGS...]: memoptd on the fake host HOST (created if missing), journal in
# STATE, socket $D/NAME.sock; waits until it answers.
start_on() {
	local host=$1 state=$2 name=$3
	shift 3
	[ -d "$host" ] || fixture_host "$host"
	SOCK=$D/$name.sock
	daemon_start "$name" -c "$D/memoptd.conf" --ksmtuned-conf none --sysfs-root "$host/sys" \
		--procfs-root "$host/proc" --socket "$SOCK" --state-dir "$state" "$@"
	if ! wait_socket "$SOCK" "$DAEMON_PID" 15; then
		fail "$name: memoptd did not answer on $SOCK within 15 s"
		finish
	fi
}

knob() { cat "$1/sys/kernel/mm/ksm/$2"; }
knob_is() { [ "$(knob "$1" "$2")" = "$3" ]; }
knobs_are_original() { diff "$ORIG" <(knob_values "$1/sys/kernel/mm/ksm") >/dev/null; }
show_knob_diff() { diff "$ORIG" <(knob_values "$1/sys/kernel/mm/ksm") | sed -n 's/^[<>]/       &/p'; }

# The [ksm] interval is short so every step is quick; everything else is the built-in default
# (mode auto, start_avail 20%: the fake host's 1000 MiB of 15.6 GiB is pressure).
cat >"$D/memoptd.conf" <<'EOF'
[ksm]
interval = 1s

[balloon]
# test daemons stay off the host's real libvirtd
uri = test:///default
EOF

echo "-- acting under memory pressure"
H=$D/host-a
start_on "$H" "$D/state-a" a
if wait_until 10 knob_is "$H" run 1; then
	pass "memoptd wrote run=1 into the fake sysfs"
else
	fail "memoptd did not write run=1 within 10 s (run=$(knob "$H" run))"
fi
pts=$(knob "$H" pages_to_scan)
if [ "$pts" != 100 ] && [ "$pts" -ge 32 ] && [ "$pts" -le 20000 ]; then
	pass "memoptd set pages_to_scan ($pts) within min/max_pages_to_scan"
else
	fail "pages_to_scan is '$pts' (expected a change from 100 within 32..20000)"
fi
check_eq "the journal holds run's original before the write" 0 "$(journal_value "$D/state-a" ksm.run)"
check_eq "the journal holds pages_to_scan's original" 100 "$(journal_value "$D/state-a" ksm.pages_to_scan)"

# The report's knobs come from the next sample after the write: allow a few intervals.
ksm_reports_written() {
	ctl_json "$SOCK" ksm >"$D/ksm.json" || return 1
	jqt --argjson p "$(knob "$H" pages_to_scan)" '.knobs.run == 1 and .knobs.pages_to_scan == $p' \
		"$D/ksm.json" >/dev/null
}
check "memoptctl --json ksm shows run=1 and the pages_to_scan in the file" wait_until 10 ksm_reports_written
check "memoptctl --json ksm: available, managed, mode auto" \
	jqt '.available == true and .managed == true and .mode == "auto" and .dry_run == false' "$D/ksm.json"
check "memoptctl --json ksm: the last decision names the run change and a reason" \
	jqt '(.controller.last_decision.action | test("run 0 -> 1")) and
		(.controller.last_decision.reason | test("MemAvailable"))' "$D/ksm.json"
check_rc "memoptctl ksm (table) exits 0" 0 "$MEMOPTCTL" --socket "$SOCK" ksm
check_grep "memoptctl ksm (table) shows the knobs" "$D/last.out" "run=1"

ctl_json "$SOCK" log >"$D/log.json"
check "memoptctl --json log: a ksm decision 'run 0 -> 1', not dry-run, with its reason" \
	jqt '[.entries[] | select(.subsys == "ksm" and (.action | test("run 0 -> 1")) and
		.dry_run == false and (.reason | test("MemAvailable .* < start")))] | length == 1' "$D/log.json"
check_rc "memoptctl log (table) exits 0" 0 "$MEMOPTCTL" --socket "$SOCK" log
check_grep "memoptctl log (table) shows the action" "$D/last.out" "run 0 -> 1"
check_grep "memoptctl log (table) shows the reason" "$D/last.out" "MemAvailable"

ctl_json "$SOCK" status >"$D/status.json"
check "memoptctl --json status: our pid, the fake roots, not dry-run" \
	jqt --argjson pid "$DAEMON_PID" --arg sys "$H/sys" \
		'.pid == $pid and .sysfs_root == $sys and .dry_run == false and .host.mem_avail_kib == 1024000' \
		"$D/status.json"

daemon_stop "$DAEMON_PID" TERM 20
check_eq "SIGTERM: memoptd exits 0" 0 "$IT_RC"
if knobs_are_original "$H"; then
	pass "SIGTERM: every fake knob is back to its original value"
else
	fail "SIGTERM: knobs differ from the originals:"
	show_knob_diff "$H"
fi
check_eq "SIGTERM: the journal is empty" 0 "$(journal_count "$D/state-a")"
check_grep "SIGTERM: the log says the originals were restored" "$D/a.log" "original KSM settings restored"
check "SIGTERM: the socket is removed" test ! -e "$SOCK"

echo "-- dry run"
H=$D/host-b
fixture_host "$H"
start_on "$H" "$D/state-b" b --dry-run
dry_decided() {
	ctl_json "$SOCK" log >"$D/log-b.json" &&
		jqt '[.entries[] | select(.subsys == "ksm" and .dry_run == true)] | length >= 1' "$D/log-b.json" \
			>/dev/null
}
check "dry-run: the decision is logged, marked dry-run" wait_until 10 dry_decided
check "dry-run: the logged decision would start ksmd" \
	jqt '[.entries[] | select(.subsys == "ksm" and (.action | test("run 0 -> 1")))] | length >= 1' \
	"$D/log-b.json"
check_rc "dry-run: memoptctl log (table) exits 0" 0 "$MEMOPTCTL" --socket "$SOCK" log
check_grep "dry-run: memoptctl log (table) marks it dry-run" "$D/last.out" "dry-run"
check "dry-run: memoptctl --json ksm and status say dry_run" eval \
	'ctl_json "$SOCK" ksm | jq -e ".dry_run == true" >/dev/null &&
	 ctl_json "$SOCK" status | jq -e ".dry_run == true" >/dev/null'
sleep 2 # two more decision cycles
if diff -r "$D/pristine/sys" "$H/sys" >"$D/dry.diff"; then
	pass "dry-run: the fake sysfs is byte-for-byte unchanged"
else
	fail "dry-run: memoptd wrote to the fake sysfs:"
	sed 's/^/       | /' "$D/dry.diff" | head -n 10
fi
check_eq "dry-run: nothing was journaled" 0 "$(journal_count "$D/state-b")"
daemon_stop "$DAEMON_PID" TERM 20
check_eq "dry-run: SIGTERM exits 0" 0 "$IT_RC"
check "dry-run: still unchanged after stop" diff -r "$D/pristine/sys" "$H/sys"

echo "-- --once"
H=$D/host-c
fixture_host "$H"
check_rc "--once: one cycle, exit 0" 0 timeout 20 "$MEMOPTD" --once --foreground -c "$D/memoptd.conf" \
	--ksmtuned-conf none --sysfs-root "$H/sys" --procfs-root "$H/proc" --socket "$D/c.sock" \
	--state-dir "$D/state-c"
cp "$D/last.err" "$D/c.log"
check_grep "--once: it decided to start ksmd" "$D/c.log" "run 0 -> 1"
check_grep "--once: and restored on the way out" "$D/c.log" "restored ksm.run"
check "--once: every fake knob is back to its original" knobs_are_original "$H"
check_eq "--once: the journal is empty" 0 "$(journal_count "$D/state-c")"

echo "-- crash (SIGKILL) and restart"
H=$D/host-d
start_on "$H" "$D/state-d" d
check "memoptd changed the knobs" wait_until 10 knob_is "$H" run 1
daemon_stop "$DAEMON_PID" KILL 10
check_eq "SIGKILL: memoptd died by SIGKILL" 137 "$IT_RC"
check "SIGKILL: the knobs stay changed (nobody restored them)" knob_is "$H" run 1
n=$(journal_count "$D/state-d")
bad=0
while IFS= read -r line; do
	key=${line%%=*}
	want=${line#*=}
	got=$(journal_value "$D/state-d" "ksm.$key")
	if [ -n "$got" ] && [ "$got" != "$want" ]; then
		note "journal: ksm.$key=$got, original was $want"
		bad=1
	fi
done <"$ORIG"
if [ "$n" -ge 2 ] && [ "$bad" = 0 ] && [ "$(journal_value "$D/state-d" ksm.run)" = 0 ]; then
	pass "SIGKILL: the journal lists the originals ($n entries, run=0 among them)"
else
	fail "SIGKILL: the journal does not hold the originals ($n entries)"
	sed 's/^/       | /' "$D/state-d/originals.json" 2>/dev/null
fi
# No more pressure: the new daemon has no reason to change anything after restoring.
fixture_set_avail "$H" 15000000
start_on "$H" "$D/state-d" d2
if knobs_are_original "$H"; then
	pass "restart: the originals are back by the time the socket answers"
else
	fail "restart: knobs differ from the originals:"
	show_knob_diff "$H"
fi
check_grep "restart: the log says it restored a previous run's values first" "$D/d2.log" \
	"previous run.*restoring them first"
check_grep "restart: ... and which ones" "$D/d2.log" "restored ksm\.run: wrote '0'"
check_eq "restart: the journal is empty again" 0 "$(journal_count "$D/state-d")"
sleep 2.5 # a few decision cycles without pressure
check "restart: without pressure the knobs stay at their originals" knobs_are_original "$H"
daemon_stop "$DAEMON_PID" TERM 20
check_eq "restart: SIGTERM exits 0" 0 "$IT_RC"
check "restart: originals after the stop" knobs_are_original "$H"

finish
