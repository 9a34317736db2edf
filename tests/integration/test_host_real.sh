#!/bin/bash
# test_host_real.sh - host policy on this machine's real /proc/sys and /sys: plan writes nothing, apply changes swappiness, THP and a small hugepage pool (read back), drift re-applied then yielded, SIGTERM restores everything, SIGKILL + restart restores first, a read-only knob fails the apply with a clear error and rolls back what was written.
# IT-TIMEOUT: 240
# shellcheck source=tests/integration/lib.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib.sh"

require_root
require_built "$MEMOPTD" "$MEMOPTCTL"
require_cmd jq flock mount umount

SWAP=/proc/sys/vm/swappiness
DIRTY=/proc/sys/vm/dirty_background_ratio
ZONE=/proc/sys/vm/zone_reclaim_mode
THP=/sys/kernel/mm/transparent_hugepage
POOL=/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages
[ -f "$SWAP" ] || skip "no $SWAP"
[ -f "$THP/enabled" ] && [ -f "$THP/defrag" ] || skip "the kernel has no transparent hugepages ($THP)"
[ -f "$POOL" ] || skip "no 2 MiB hugepage pool on node 0 ($POOL)"

D=$IT_DIR
SOCK=$D/run/memoptd.sock
STATE=$D/state
CONF=$D/memoptd.conf

# One writer of host-global knobs at a time; from the snapshot on, the EXIT trap undoes bind mounts and
# writes every knob back, even if the test fails half-way.
host_lock
host_snapshot "$SWAP" "$DIRTY" "$ZONE" "$THP/enabled" "$THP/defrag" "$THP/khugepaged/defrag" "$POOL"
note "original host knobs: $(cut -f2 "$IT_HOST_SNAPSHOT" | tr '\n' ' ')"

# Values that differ from what the host has now, so that every one of them is a real change.
swap0=$(host_original "$SWAP")
want_swap=10
[ "$swap0" = 10 ] && want_swap=11
thp0=$(host_original "$THP/enabled")
want_thp=always
[ "$thp0" = always ] && want_thp=never
defrag0=$(host_original "$THP/defrag")
want_defrag=defer
[ "$defrag0" = defer ] && want_defrag=never
pool0=$(host_original "$POOL")
want_pool=8
[ "$pool0" = 8 ] && want_pool=9

write_conf() { # DRIFT MAX_REAPPLY
	cat >"$CONF" <<EOC
[daemon]
socket = $SOCK
state_dir = $STATE
ksmtuned_conf = none

[ksm]
# this test never touches KSM
manage = no

[balloon]
uri = test:///default

[host]
drift = $1
max_reapply = $2
interval = 1s
domain_xml_dir = none
swappiness = $want_swap
thp_enabled = $want_thp
thp_defrag = $want_defrag
ksm_merge_across_nodes = keep
hugepages = node0:2M=$want_pool
EOC
}
write_conf reapply 1
check_rc "the test config is valid" 0 "$MEMOPTD" --check-config -c "$CONF"

applied_ok() {
	[ "$(knob_get "$SWAP")" = "$want_swap" ] && [ "$(knob_get "$THP/enabled")" = "$want_thp" ] &&
		[ "$(knob_get "$THP/defrag")" = "$want_defrag" ] && [ "$(knob_get "$POOL")" = "$want_pool" ]
}
restored() { host_matches_snapshot >"$D/diff.txt"; }
start() { # NAME
	daemon_start "$1" -c "$CONF"
	if ! wait_socket "$SOCK" "$DAEMON_PID" 15; then
		fail "memoptd ($1) did not answer on $SOCK"
		finish
	fi
}
item() { jq -r --arg k "$2" '.items[] | select(.key == $k) | '"$3" "$1"; }

echo "-- host plan writes nothing"
start d1
check_rc "memoptctl host plan exits 0" 0 "$MEMOPTCTL" --socket "$SOCK" host plan
cp "$D/last.out" "$D/plan.txt"
sed 's/^/       | /' "$D/plan.txt" | head -n 12
check_grep "the plan shows swappiness current -> desired" "$D/plan.txt" "^vm\.swappiness +$swap0 +-> $want_swap +change"
check_grep "the plan gives the reason" "$D/plan.txt" "why: +\[host\] swappiness = $want_swap"
check_grep "the plan names the source of the profile value" "$D/plan.txt" "source: .*tuned"
check_grep "the plan has the node-0 2 MiB pool" "$D/plan.txt" "^hugepages\.node0\.2048kB +$pool0 +-> $want_pool +change"
ctl_json "$SOCK" host plan >"$D/plan.json"
check "host plan --json: 4+ changes, each with a reason and a source" \
	jqt '.changes >= 4 and ([.items[] | select(.action == "change") | (.reason | length > 0) and (.source | length > 0)] | all)' "$D/plan.json"
check "nothing was written by the plan" restored

echo "-- host apply --dry-run writes nothing"
check_rc "memoptctl host apply --dry-run exits 0" 0 "$MEMOPTCTL" --socket "$SOCK" host apply --dry-run
check_grep "dry run says nothing was written" "$D/last.out" "dry run"
check "still nothing written" restored
check_eq "the journal is empty" 0 "$(journal_count "$STATE")"

echo "-- host apply"
check_rc "memoptctl host apply exits 0" 0 "$MEMOPTCTL" --socket "$SOCK" host apply
sed 's/^/       | /' "$D/last.out"
check "swappiness=$want_swap, THP enabled=$want_thp, defrag=$want_defrag, node0 2 MiB pool=$want_pool" applied_ok
changes=$(jq '.changes' "$D/plan.json")
check_eq "every original is journaled" "$changes" "$(journal_count "$STATE")"
check_eq "the journal holds swappiness' original" "$swap0" "$(journal_value "$STATE" sysctl.vm.swappiness)"
check_eq "the journal holds the pool's original" "$pool0" "$(journal_value "$STATE" sysctl.hugepages.node0.2048kB)"
ctl_json "$SOCK" host >"$D/host.json"
check "memoptctl host: swappiness applied, no drift" \
	jqt '.items[] | select(.key == "vm.swappiness") | .state == "applied" and .drift == false' "$D/host.json"
check_rc "memoptctl host (text) exits 0" 0 "$MEMOPTCTL" --socket "$SOCK" host
check_grep "memoptctl host shows the original" "$D/last.out" "vm\.swappiness .*\[applied\].*original $swap0"
check_rc "a second apply has nothing to change" 0 "$MEMOPTCTL" --socket "$SOCK" host apply
check_grep "second apply: nothing to change" "$D/last.out" "nothing to change"

echo "-- drift: re-applied once (drift = reapply, max_reapply = 1), then yielded"
printf '%s' 33 >"$SWAP"
check "memopt re-applied swappiness=$want_swap after someone set 33" wait_until 10 eval '[ "$(knob_get $SWAP)" = "$want_swap" ]'
printf '%s' 34 >"$SWAP"
yielded() { ctl_json "$SOCK" host >"$D/host.json" && jqt '.items[] | select(.key == "vm.swappiness") | .state == "yielded"' "$D/host.json"; }
check "after the second change memopt yields swappiness" wait_until 10 yielded
sleep 2
check_eq "the other party's value stays (no fight)" 34 "$(knob_get "$SWAP")"
check_eq "yielded: its original left the journal" "" "$(journal_value "$STATE" sysctl.vm.swappiness)"
check "memoptctl log records the drift with its reason" \
	eval 'ctl_json "$SOCK" log | jq -e "[.entries[] | select(.subsys == \"host\" and (.action | test(\"yielding\")))] | length >= 1" >/dev/null'
check_rc "host apply takes it back" 0 "$MEMOPTCTL" --socket "$SOCK" host apply
check_eq "swappiness is memopt's again" "$want_swap" "$(knob_get "$SWAP")"
check_eq "and journaled with the value it had before this apply" 34 "$(journal_value "$STATE" sysctl.vm.swappiness)"
# That apply's "original" is 34; put the real one back by restore + apply, so SIGTERM ends at the snapshot.
check_rc "host restore exits 0" 0 "$MEMOPTCTL" --socket "$SOCK" host restore
printf '%s' "$swap0" >"$SWAP"
check "host restore put every value back" restored
check_eq "host restore emptied the journal" 0 "$(journal_count "$STATE")"

echo "-- SIGTERM restores everything"
check_rc "apply again" 0 "$MEMOPTCTL" --socket "$SOCK" host apply
check "applied" applied_ok
daemon_stop "$DAEMON_PID" TERM 30
check_eq "SIGTERM: memoptd exits 0" 0 "$IT_RC"
if restored; then pass "SIGTERM: every knob is back to its original value"; else fail "SIGTERM: knobs differ:"; cat "$D/diff.txt"; fi
check_eq "SIGTERM: the journal is empty" 0 "$(journal_count "$STATE")"

echo "-- SIGKILL, then the next start restores first"
start d2
check_rc "apply" 0 "$MEMOPTCTL" --socket "$SOCK" host apply
check "applied" applied_ok
daemon_stop "$DAEMON_PID" KILL 10
check "after SIGKILL the values are still memopt's" applied_ok
check "after SIGKILL the journal still holds the originals" test "$(journal_count "$STATE")" -ge 4
start d3
check_grep "the next start restores the journal first" "$D/d3.log" "previous run that did not stop cleanly: restoring them first"
if restored; then pass "after SIGKILL + start: every knob is back to its original value"; else fail "after restart: knobs differ:"; cat "$D/diff.txt"; fi
check_eq "after restart: the journal is empty" 0 "$(journal_count "$STATE")"

echo "-- a read-only knob: clear error, nothing half-applied"
if ! host_bind_ro "$THP/defrag"; then
	subskip "cannot bind-mount $THP/defrag read-only here: $(cat "$D/mount.err")"
else
	check_rc "host apply fails (exit 1) on the read-only THP defrag file" 1 "$MEMOPTCTL" --socket "$SOCK" host apply
	sed 's/^/       | /' "$D/last.err"
	check_grep "the error names the knob and the cause" "$D/last.err" "thp\.defrag.*Read-only file system"
	check_grep "the error says what was rolled back" "$D/last.err" "[1-9][0-9]* value\(s\) already written rolled back \(.*vm\.swappiness=$swap0"
	if restored; then pass "read-only knob: every value written before it was rolled back"; else fail "read-only knob: knobs differ:"; cat "$D/diff.txt"; fi
	check_eq "read-only knob: the journal is empty" 0 "$(journal_count "$STATE")"
	check "memoptctl log records the failed apply" \
		eval 'ctl_json "$SOCK" log | jq -e "[.entries[] | select(.subsys == \"host\" and (.action | test(\"FAILED\")))] | length >= 1" >/dev/null'
	host_unbind
fi
daemon_stop "$DAEMON_PID" TERM 30
check_eq "memoptd exits 0" 0 "$IT_RC"
check "the host is as it was" restored
finish
