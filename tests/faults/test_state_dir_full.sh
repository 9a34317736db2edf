#!/bin/bash
# test_state_dir_full.sh - fault: the state directory is full (a 64 KiB tmpfs, filled); memoptd refuses every host change it cannot journal first (fixture untouched), says so (log, status, host apply's error), keeps serving read-only commands, and acts normally once space is freed.
# IT-TIMEOUT: 120
# shellcheck source=tests/faults/lib-faults.sh disable=SC2016,SC2317
FT_MOUNTS=1
. "$(dirname "$0")/lib-faults.sh"

D=$IT_DIR
H=$D/host
STATE=$D/state
SOCK=$D/memoptd.sock
ft_tree "$H"
ft_digest "$H" >"$D/orig.txt"
ft_conf "$D/memoptd.conf" "$H" "$STATE" "$SOCK"
mkdir -p "$STATE"

note "fault: $STATE is a tmpfs of 64 KiB, filled up"
mount -t tmpfs -o size=64k,mode=0700 memopt-ft-state "$STATE" 2>"$D/mount.err" ||
	skip "cannot mount a tmpfs here: $(cat "$D/mount.err")"
IT_HOST_MOUNTS+=("$STATE")
dd if=/dev/zero of="$STATE/filler" bs=4k 2>/dev/null
note "df: $(df -k --output=size,used,avail "$STATE" | tail -n 1)"
if (printf 'x' >"$STATE/probe") 2>/dev/null && [ -s "$STATE/probe" ]; then
	fail "the tmpfs is not full"
	finish
fi
rm -f "$STATE/probe"

note "start memoptd under memory pressure"
ft_start d1 "$D/memoptd.conf"
refused() { grep -Eq "ksm: cannot journal the original of ksm\.[a-z_]+, not changing it: No space left on device" "$D/d1.log"; }
check "the log says which original cannot be journaled and that the knob is not changed" wait_until 20 refused
check "status: journal 'failing: ... No space left on device'" \
	ft_status_has "$SOCK" '.journal.state == "failing" and (.journal.detail | test("No space left on device"))'
note "status: journal $(ctl_json "$SOCK" status | jq -r '"\(.journal.state): \(.journal.detail)"')"
ksm_failed() { ft_module "$SOCK" ksm | grep -q 'write FAILED: .*No space left on device'; }
check "status ksm: write FAILED with the reason" wait_until 10 ksm_failed
sleep 3
if ft_diff "$D/orig.txt" "$H"; then pass "after 4+ cycles no fixture knob was written"; else fail "memoptd wrote knobs it could not journal"; fi
check_rc "memoptctl host apply is refused (exit 1)" 1 "$MEMOPTCTL" --socket "$SOCK" host apply
check_grep "... saying the original cannot be journaled and nothing was written" "$D/last.err" \
	"cannot journal the original of vm\.swappiness \(No space left on device\); nothing written"
if ft_diff "$D/orig.txt" "$H"; then pass "... and the fixture is untouched"; else fail "host apply wrote knobs"; fi
check_eq "no journal (and no half-written temporary file) in the state directory" "filler memoptd.lock" \
	"$(cd "$STATE" && echo *)"
for verb in status ksm log guests numa "host plan"; do
	# shellcheck disable=SC2086
	check_rc "read-only command '$verb' still answers" 0 "$MEMOPTCTL" --socket "$SOCK" $verb
done

note "space is freed: the next cycle journals and acts"
rm -f "$STATE/filler"
run_is_1() { [ "$(cat "$H/sys/kernel/mm/ksm/run")" = 1 ]; }
check "the tuner starts KSM (run=1) once it can journal" wait_until 20 run_is_1
check_eq "run's original is journaled" 0 "$(journal_value "$STATE" ksm.run)"
check "status: journal ok again" ft_status_has "$SOCK" '.journal.state == "ok"'
check_rc "memoptctl host apply works now" 0 "$MEMOPTCTL" --socket "$SOCK" host apply

daemon_stop "$DAEMON_PID" TERM 30
check_eq "memoptd exits 0" 0 "$IT_RC"
check_eq "the journal is empty" 0 "$(journal_count "$STATE")"
if ft_diff "$D/orig.txt" "$H"; then pass "every fixture knob has its original value"; else fail "fixture knobs differ"; fi
finish
