#!/bin/bash
# test_state_dir_readonly.sh - fault: the state directory is read-only (read-only bind mount); memoptd starts, refuses to change any host value it cannot journal first (the fixture stays byte-for-byte as it was), says so in the log, status and host apply's error, and keeps serving every read-only command.
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
chmod 0700 "$STATE"

note "fault: $STATE is a read-only bind mount (never used before: no lock file, no journal)"
host_bind_ro "$STATE" || skip "bind mounts are not possible here: $(cat "$D/mount.err")"
touch "$STATE/probe" 2>/dev/null && fail "root can still create files in the read-only $STATE"

note "start memoptd under memory pressure: the tuner wants to start KSM"
ft_start d1 "$D/memoptd.conf"
check "status: journal 'failing', naming the read-only directory" \
	ft_status_has "$SOCK" '.journal.state == "failing" and (.journal.detail | test("[Rr]ead-only file system"))'
note "status: journal $(ctl_json "$SOCK" status | jq -r '"\(.journal.state): \(.journal.detail)"')"
refused() { grep -Eq "ksm: cannot journal the original of ksm\.[a-z_]+, not changing it: Read-only file system" "$D/d1.log"; }
check "the log says which original cannot be journaled and that the knob is not changed" wait_until 20 refused
ksm_failed() { ft_module "$SOCK" ksm | grep -q 'write FAILED: .*Read-only file system'; }
check "status ksm: write FAILED with the reason" wait_until 10 ksm_failed
note "status: ksm $(ft_module "$SOCK" ksm)"
sleep 3 # three more [ksm] intervals, each of which wants to write
if ft_diff "$D/orig.txt" "$H"; then pass "after 4+ cycles no fixture knob was written"; else fail "memoptd wrote knobs it could not journal"; fi

check_rc "memoptctl host apply is refused (exit 1)" 1 "$MEMOPTCTL" --socket "$SOCK" host apply
check_grep "... saying the original cannot be journaled and nothing was written" "$D/last.err" \
	"cannot journal the original of vm\.swappiness \(Read-only file system\); nothing written"
if ft_diff "$D/orig.txt" "$H"; then pass "... and the fixture is untouched"; else fail "host apply wrote knobs"; fi

for verb in status ksm log guests numa "host plan" host; do
	# shellcheck disable=SC2086 # "host plan" is two words
	check_rc "read-only command '$verb' still answers" 0 "$MEMOPTCTL" --socket "$SOCK" $verb
done
check_rc "memoptctl status (table) exits 0" 0 "$MEMOPTCTL" --socket "$SOCK" status
check_grep "... and shows the journal line" "$D/last.out" "journal: +failing: .*[Rr]ead-only file system"

note "a second memoptd on the same read-only directory is still kept out by the lock"
check_rc "second memoptd: exit 4" 4 "$MEMOPTD" --foreground -c "$D/memoptd.conf" --socket "$D/second.sock"
check_grep "... because another memoptd holds the lock" "$D/last.err" "another memoptd is running"

daemon_stop "$DAEMON_PID" TERM 30
check_eq "memoptd exits 0 (nothing was changed, nothing to restore)" 0 "$IT_RC"
if ft_diff "$D/orig.txt" "$H"; then pass "every fixture knob has its original value"; else fail "fixture knobs differ"; fi
finish
