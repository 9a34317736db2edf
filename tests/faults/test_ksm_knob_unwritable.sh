#!/bin/bash
# test_ksm_knob_unwritable.sh - fault: a managed KSM knob becomes unwritable mid-run (read-only bind mount over the fixture file); memoptd says which knob failed, keeps serving, the host module keeps working, stop keeps the unrestorable original journaled (exit 5) and the next start restores it.
# IT-TIMEOUT: 150
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
K=$H/sys/kernel/mm/ksm
knob_is() { [ "$(cat "$K/$1")" = "$2" ]; }

note "start memoptd on a fixture host under memory pressure"
ft_start d1 "$D/memoptd.conf"
check "the tuner starts KSM (run=1 in the fixture)" wait_until 20 knob_is run 1
check_eq "run's original 0 is journaled" 0 "$(journal_value "$STATE" ksm.run)"

note "fault: $K/run becomes read-only (bind mount), then the pressure goes away"
if ! host_bind_ro "$K/run"; then
	skip "bind mounts are not possible here: $(cat "$D/mount.err")"
fi
if (printf 0 >"$K/run") 2>/dev/null; then
	fail "root can still write $K/run after the read-only bind mount"
	finish
fi
fixture_set_avail "$H" 12000000
failed_in_status() { ft_module "$SOCK" ksm | grep -q 'write FAILED: run=0 (Read-only file system)'; }
check "status names the knob that failed and why" wait_until 20 failed_in_status
note "status: ksm $(ft_module "$SOCK" ksm)"
check_grep "the log says it clearly and that it retries" "$D/d1.log" \
	"ksm: not applied, will retry next cycle: run=0 \(Read-only file system\)"
check_rc "memoptctl ksm (table) exits 0" 0 "$MEMOPTCTL" --socket "$SOCK" ksm
check_grep "memoptctl ksm shows the failed write" "$D/last.out" "FAILED: +run=0 \(Read-only file system\)"
ctl_json "$SOCK" ksm >"$D/ksm.json"
check "memoptctl --json ksm: controller.write_failed names run" \
	jqt '.controller.write_failed | test("^run=0 ")' "$D/ksm.json"

note "the other modules keep serving"
check_rc "memoptctl host apply works meanwhile" 0 "$MEMOPTCTL" --socket "$SOCK" host apply
check_eq "... and wrote vm.swappiness in the fixture" 10 "$(cat "$H/proc/sys/vm/swappiness")"
check_rc "memoptctl numa answers" 0 "$MEMOPTCTL" --socket "$SOCK" numa
check_rc "memoptctl guests answers" 0 "$MEMOPTCTL" --socket "$SOCK" guests
check "the daemon is still running" pid_alive "$DAEMON_PID"

note "stop: run cannot be put back"
daemon_stop "$DAEMON_PID" TERM 30
check_eq "memoptd exits 5 (stopped, some originals not restored)" 5 "$IT_RC"
check_grep "the log names the value that stays journaled" "$D/d1.log" \
	"cannot restore ksm.run: writing '0' to .*/run failed: Read-only file system; kept in the journal"
check_eq "the journal keeps ksm.run=0, and only it" "ksm.run=0" \
	"$(jq -r '[.entries[] | "\(.key)=\(.value)"] | join(",")' "$STATE/originals.json")"
check_eq "swappiness was restored on stop" 60 "$(cat "$H/proc/sys/vm/swappiness")"

note "the knob becomes writable again; the next start restores it"
host_unbind
fixture_set_avail "$H" 12000000
ft_start d2 "$D/memoptd.conf"
check_grep "start: restores the journaled value first" "$D/d2.log" "restored ksm.run: wrote '0'"
check_eq "run is 0 again" 0 "$(cat "$K/run")"
check_eq "the journal is empty" 0 "$(journal_count "$STATE")"
daemon_stop "$DAEMON_PID" TERM 30
check_eq "memoptd exits 0" 0 "$IT_RC"
fixture_set_avail "$H" 1024000
if ft_diff "$D/orig.txt" "$H"; then pass "every fixture knob has its original value"; else fail "fixture knobs differ"; fi
finish
