#!/bin/bash
# test_kill_mid_apply.sh - fault: SIGKILL in the middle of `memoptctl host apply` ([host] sysctl + THP knobs), made deterministic by strace holding one syscall; once while the originals are being journaled, once between two knob writes. After a restart every fixture value is back to its original and the journal is consistent and empty.
# IT-TIMEOUT: 180
# shellcheck source=tests/faults/lib-faults.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib-faults.sh"

require_root
require_cmd strace

D=$IT_DIR
HOLD_US=60000000 # strace holds the chosen syscall this long (the kill comes long before)

traced() { [ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$1/status" 2>/dev/null)" != 0 ]; }

# hold_syscall NAME PID PATH SYSCALL WHEN: strace PID, delaying the return of the WHEN-th SYSCALL that
# touches PATH (the syscall itself has happened); waits until strace is attached.
hold_syscall() {
	it_spawn "$D/$1.strace.log" strace -qq -f -p "$2" -P "$3" -e trace="$4" -e inject="$4:delay_exit=$HOLD_US:when=$5"
	STRACE_PID=$IT_LAST_PID
	if ! wait_until 20 traced "$2"; then
		fail "$1: strace did not attach to pid $2 (ptrace not allowed here?)"
		cat "$D/$1.strace.log"
		finish
	fi
}

# journal_ok STATE: originals.json parses, version 1, every entry complete.
journal_ok() {
	jq -e '.v == 1 and (.entries | type == "array") and
		all(.entries[]; (.key | type == "string") and (.path | startswith("/")) and (.value | type == "string"))' \
		"$1/originals.json" >/dev/null 2>&1
}

# kill_case NAME SYSCALL PATH_REL WHEN WAIT_CMD...: apply, hold the WHEN-th SYSCALL on PATH_REL, wait
# for WAIT_CMD, SIGKILL memoptd, restart, compare.
setup_case() {
	H=$D/$1/host STATE=$D/$1/state SOCK=$D/$1/sock
	mkdir -p "$D/$1"
	ft_tree "$H" 12000000 # no KSM pressure: only the host apply writes
	ft_digest "$H" >"$D/$1.orig"
	ft_conf "$D/$1.conf" "$H" "$STATE" "$SOCK"
	ft_start "$1" "$D/$1.conf"
	ctl_json "$SOCK" host plan >"$D/$1.plan.json"
	NCHANGE=$(jq '[.items[] | select(.action == "change")] | length' "$D/$1.plan.json")
	note "$1: the plan changes $NCHANGE knob(s): $(jq -r '[.items[] | select(.action == "change") | "\(.key) \(.current)->\(.desired)"] | join(", ")' "$D/$1.plan.json")"
}

apply_bg() {
	"$MEMOPTCTL" --socket "$SOCK" host apply >"$D/$1.apply.out" 2>&1 &
	APPLY_PID=$!
}

restart_and_check() {
	local name=$1 rc
	# The tracer goes too, so that the kernel hands the dead memoptd to us and does not keep it for
	# strace (which may be inside its delay).
	kill -KILL "$DAEMON_PID"
	kill -KILL "$STRACE_PID"
	it_reap "$DAEMON_PID" 20
	check_eq "$name: memoptd died of SIGKILL" 137 "$IT_RC"
	wait "$APPLY_PID" 2>/dev/null
	rc=$?
	check "$name: memoptctl host apply failed instead of reporting success (exit $rc)" test "$rc" -ne 0
	check_grep "$name: ... saying memoptd closed the connection without answering" "$D/$name.apply.out" \
		"closed the connection without answering"
	it_reap "$STRACE_PID" 10
	check "$name: the journal left behind is consistent" journal_ok "$STATE"
	note "$name: journal at the kill: $(jq -c '[.entries[] | "\(.key)=\(.value)"]' "$STATE/originals.json")"
	ft_start "$name-restart" "$D/$name.conf"
	check_grep "$name: restart restores the journaled originals first" "$D/$name-restart.log" \
		"found [0-9]+ original value\\(s\\) journaled by a previous run"
	if ft_diff "$D/$name.orig" "$H"; then pass "$name: every fixture value is back to its original"; else fail "$name: values differ"; fi
	check_eq "$name: the journal is empty" 0 "$(journal_count "$STATE")"
	check "$name: journal ok in status" ft_status_has "$SOCK" '.journal.state == "ok"'
	daemon_stop "$DAEMON_PID" TERM 30
	check_eq "$name: memoptd exits 0" 0 "$IT_RC"
}

echo "-- SIGKILL while the originals are journaled (after the 2nd record is on disk)"
setup_case journaling
# (strace -P matches rename by its first path: the temporary file renamed over originals.json)
hold_syscall journaling "$DAEMON_PID" "$STATE/originals.json.tmp" rename 2
apply_bg journaling
two_recorded() { [ "$(journal_count "$STATE" 2>/dev/null)" = 2 ]; }
check "journaling: memoptd is held right after the 2nd original is on disk" wait_until 30 two_recorded
if ft_diff "$D/journaling.orig" "$H"; then pass "journaling: nothing written to the host yet"; else fail "journaling: knobs written before every original was journaled"; fi
restart_and_check journaling

echo "-- SIGKILL between two knob writes"
setup_case writing
KEY2=$(jq -r '[.items[] | select(.action == "change")][1].key' "$D/writing.plan.json")
P1=$(jq -r '[.items[] | select(.action == "change")][0].path' "$D/writing.plan.json")
P2=$(jq -r '[.items[] | select(.action == "change")][1].path' "$D/writing.plan.json")
P3=$(jq -r '[.items[] | select(.action == "change")][2].path' "$D/writing.plan.json")
W1=$(jq -r '[.items[] | select(.action == "change")][0].desired' "$D/writing.plan.json")
W2=$(jq -r '[.items[] | select(.action == "change")][1].desired' "$D/writing.plan.json")
O3=$(jq -r '[.items[] | select(.action == "change")][2].current' "$D/writing.plan.json")
hold_syscall writing "$DAEMON_PID" "$P2" write 1
apply_bg writing
# The fixture file holds the new value's bytes over the old ones until memoptd truncates it after the
# write returns (a real /proc/sys file takes the value whole): "50" for 5 over "10".
O2=$(jq -r '[.items[] | select(.action == "change")][1].current' "$D/writing.plan.json")
second_written() { case $(cat "$P2") in "$W2"*) [ "$(cat "$P2")" != "$O2" ] ;; *) false ;; esac; }
check "writing: memoptd is held right after writing $KEY2 (the 2nd knob)" wait_until 30 second_written
check_eq "writing: the 1st knob is written" "$W1" "$(knob_get "$P1")"
check_eq "writing: the 3rd knob is not" "$O3" "$(knob_get "$P3")"
check_eq "writing: every original is journaled before the first write" "$NCHANGE" "$(journal_count "$STATE")"
restart_and_check writing
finish
