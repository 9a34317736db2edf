#!/bin/bash
# test_journal_corrupt.sh - fault: the state journal is corrupt at start (truncated, garbage, another version) after a crash left host values changed; memoptd refuses it clearly, quarantines it byte for byte, restores nothing from it, changes nothing on the host while it is there (held), keeps serving read-only commands, and works normally once the operator removed it.
# IT-TIMEOUT: 150
# shellcheck source=tests/faults/lib-faults.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib-faults.sh"

D=$IT_DIR
GOOD='{"v":1,"entries":[{"key":"ksm.run","owner":"ksm","path":"@K@/run","value":"0","order":90},{"key":"ksm.pages_to_scan","owner":"ksm","path":"@K@/pages_to_scan","value":"100","order":50},{"key":"sysctl.vm.swappiness","owner":"sysctl","path":"@S@","value":"60","order":10}]}'

# crashed_host H: a fixture host as a crashed memoptd left it: KSM running fast, swappiness 10.
crashed_host() {
	ft_tree "$1"
	printf '1\n' >"$1/sys/kernel/mm/ksm/run"
	printf '2000\n' >"$1/sys/kernel/mm/ksm/pages_to_scan"
	printf '10\n' >"$1/proc/sys/vm/swappiness"
}

# corrupt_case NAME REASON_ERE: start on a state dir whose journal is $D/NAME.journal.
corrupt_case() {
	local name=$1 reason=$2 H=$D/$1/host STATE=$D/$1/state SOCK=$D/$1/sock q
	echo "-- $name journal"
	crashed_host "$H"
	mkdir -p "$STATE"
	cp "$D/$name.journal" "$STATE/originals.json"
	ft_digest "$H" >"$D/$name.before"
	ft_conf "$D/$name.conf" "$H" "$STATE" "$SOCK"
	ft_start "$name" "$D/$name.conf"
	check "$name: memoptd starts and serves (no exit 4)" ctl_up "$SOCK"
	check_grep "$name: the log refuses the journal, naming the file and what is wrong" "$D/$name.log" \
		"error +the state journal is corrupt: $STATE/originals\\.json: $reason"
	check_grep "$name: ... and says where it was moved" "$D/$name.log" "corrupt journal kept as $STATE/originals\\.json\\.corrupt-[0-9]+"
	q=$(echo "$STATE"/originals.json.corrupt-*)
	check "$name: quarantined byte for byte" cmp -s "$D/$name.journal" "$q"
	check "$name: no originals.json left in its place" test ! -e "$STATE/originals.json"
	check "$name: status says the journal is held and why" ft_status_has "$SOCK" \
		'.journal.state == "held" and (.journal.detail | test("corrupt journal .*no host value is changed"))'
	check_no_grep "$name: nothing was restored from it" "$D/$name.log" "restored "
	sleep 3 # three [ksm] cycles under pressure
	if ft_diff "$D/$name.before" "$H"; then
		pass "$name: no host value was changed (nothing restored wrongly, nothing new written)"
	else
		fail "$name: host values changed"
	fi
	check_rc "$name: host apply is refused" 1 "$MEMOPTCTL" --socket "$SOCK" host apply
	check_grep "$name: ... with the reason" "$D/last.err" "nothing written: corrupt journal"
	check_rc "$name: memoptctl ksm still answers" 0 "$MEMOPTCTL" --socket "$SOCK" ksm
	check_rc "$name: memoptctl host plan still answers" 0 "$MEMOPTCTL" --socket "$SOCK" host plan
	daemon_stop "$DAEMON_PID" TERM 30
	check_eq "$name: memoptd exits 0" 0 "$IT_RC"
	check "$name: the quarantined journal is still there after stop" cmp -s "$D/$name.journal" "$q"
}

H0=$D/truncated/host
mkdir -p "$D/truncated"
GOODX=$(printf '%s' "$GOOD" | sed -e "s|@K@|$H0/sys/kernel/mm/ksm|g" -e "s|@S@|$H0/proc/sys/vm/swappiness|")
printf '%s' "$GOODX" | head -c 150 >"$D/truncated.journal"
head -c 700 /dev/urandom >"$D/garbage.journal"
printf '\x00\x7f{' >>"$D/garbage.journal"
printf '%s\n' "$GOODX" | sed 's/"v":1/"v":2/' >"$D/version.journal"

corrupt_case truncated "truncated JSON"
corrupt_case garbage "invalid JSON at offset|not a JSON object|trailing data"
corrupt_case version "unsupported version 2 \\(expected 1\\)"

echo "-- restart: held while the quarantined file is there, normal once it is removed"
S=$D/truncated/state
SOCK=$D/truncated/sock
ft_start again "$D/truncated.conf"
check "still held on the next start" ft_status_has "$SOCK" \
	'.journal.state == "held" and (.journal.detail | test("quarantined journal .*originals.json.corrupt-"))'
daemon_stop "$DAEMON_PID" TERM 30
note "the operator puts the values back by hand and removes the quarantined file"
printf '0\n' >"$H0/sys/kernel/mm/ksm/run"
printf '100\n' >"$H0/sys/kernel/mm/ksm/pages_to_scan"
printf '60\n' >"$H0/proc/sys/vm/swappiness"
rm -f "$S"/originals.json.corrupt-*
ft_digest "$H0" >"$D/resolved.txt"
ft_start resolved "$D/truncated.conf"
check "status: journal ok" ft_status_has "$SOCK" '.journal.state == "ok"'
run_is_1() { [ "$(cat "$H0/sys/kernel/mm/ksm/run")" = 1 ]; }
check "the tuner acts again (run=1), journaling first" wait_until 20 run_is_1
check_eq "run's original 0 is journaled" 0 "$(journal_value "$S" ksm.run)"
daemon_stop "$DAEMON_PID" TERM 30
check_eq "memoptd exits 0" 0 "$IT_RC"
if ft_diff "$D/resolved.txt" "$H0"; then pass "stop puts every value back"; else fail "values differ after stop"; fi
finish
