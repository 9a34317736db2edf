#!/bin/bash
# test_ksm_real.sh - memoptd on the real kernel KSM: merging happens, per-process report equals /proc/PID/ksm_stat, knobs restored after SIGTERM and after SIGKILL + restart.
# IT-TIMEOUT: 300
# shellcheck source=tests/integration/lib.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib.sh"

require_root
require_ksm
require_built "$MEMOPTD" "$MEMOPTCTL" "$KSM_WORKLOAD"
require_cmd jq flock
[ -r /proc/self/ksm_stat ] || skip "the kernel has no /proc/PID/ksm_stat (Linux 6.1+)"

D=$IT_DIR
SOCK=$D/run/memoptd.sock
STATE=$D/state
CONF=$D/memoptd.conf

# One writer of the real KSM at a time; from the snapshot on, the EXIT trap unmerges and restores.
ksm_lock
ksm_snapshot
note "original KSM knobs: $(tr '\n' ' ' <"$IT_KSM_SNAPSHOT")"

# mode=always: ksmd runs whatever the host's memory pressure; the rest are the built-in defaults.
cat >"$CONF" <<EOF
[daemon]
socket = $SOCK
state_dir = $STATE
ksmtuned_conf = none

[ksm]
mode = always
interval = 1s

[balloon]
# test daemons stay off the host's real libvirtd
uri = test:///default
EOF
check_rc "the test config is valid" 0 "$MEMOPTD" --check-config -c "$CONF"

# Merged pages of OUR workers (per process): the global counters can still hold merges of processes
# that exited while ksmd was stopped, which ksmd only reaps once it runs again.
merged_now() {
	local p n sum=0
	for p in $WORKERS; do
		n=$(cat "/proc/$p/ksm_merging_pages" 2>/dev/null) || n=0
		sum=$((sum + n))
	done
	echo "$sum"
}

# 3 processes x 128 MiB: 60 % identical across them, 10 % zero pages, the rest unique.
it_spawn "$D/workload.log" "$KSM_WORKLOAD" --procs 3 --mib 128 --shared-pct 60 --zero-pct 10 \
	--ready-file "$D/workload.ready"
WL_PID=$IT_LAST_PID
if ! wait_until 60 test -s "$D/workload.ready"; then
	fail "ksm-workload did not get ready within 60 s"
	finish
fi
WORKERS=$(sed -n 's/^WORKERS //p' "$D/workload.log")
expected=$(sed -n 's/.*expected_max_merged=\([0-9]*\).*/\1/p' "$D/workload.ready")
note "workload pid $WL_PID, workers: $WORKERS; $(cat "$D/workload.ready")"
check "the workload has 3 workers" test "$(echo "$WORKERS" | wc -w)" -eq 3
check "the workload states how many pages can merge" test "${expected:-0}" -gt 0
target=$((expected * 80 / 100))

echo "-- memoptd drives ksmd"
daemon_start d1 -c "$CONF"
if ! wait_socket "$SOCK" "$DAEMON_PID" 15; then
	fail "memoptd did not answer on $SOCK"
	finish
fi
check "memoptd started ksmd (run=1)" wait_until 10 eval '[ "$(ksm_get run)" = 1 ]'
t0=$(date +%s)
reached() { [ "$(merged_now)" -ge "$target" ]; }
if wait_until 60 reached; then
	pass "merging: the workers have $(merged_now) pages merged (>= 80% of $expected) after $(($(date +%s) - t0)) s"
else
	fail "merging: the workers have only $(merged_now) of $expected pages merged after 60 s (need $target)"
fi
check "pages_sharing > 0" test "$(ksm_get pages_sharing)" -gt 0

# Per-process report == /proc/PID/ksm_stat. ksmd keeps running, so sample the report and the kernel
# back to back and retry until they agree (within 2 % and 16 pages).
stat_of() { sed -n "s/^$2 //p" "/proc/$1/ksm_stat"; }
close_enough() { # A B SLACK
	local a=$1 b=$2 slack=$3 d
	d=$((a > b ? a - b : b - a))
	[ "$d" -le $(((b < 0 ? -b : b) / 50 + slack)) ]
}
compare_procs() {
	local pid ok=0 line j f jf kf rest slack got want
	ctl_json "$SOCK" ksm >"$D/ksm.json" || return 1
	: >"$D/compare.txt"
	for pid in $WORKERS; do
		j=$(jq -c --argjson p "$pid" '.vms[] | select(.pid == $p)' "$D/ksm.json")
		if [ -z "$j" ]; then
			echo "pid $pid: not in memoptctl ksm's vms[]" >>"$D/compare.txt"
			ok=1
			continue
		fi
		line="pid $pid:"
		for f in merging_pages:ksm_merging_pages:16 zero_pages:ksm_zero_pages:16 \
			rmap_items:ksm_rmap_items:16 profit_bytes:ksm_process_profit:65536; do
			jf=${f%%:*}
			rest=${f#*:}
			kf=${rest%%:*}
			slack=${rest#*:}
			got=$(jq -r --arg k "$jf" '.[$k]' <<<"$j")
			want=$(stat_of "$pid" "$kf")
			line="$line $jf=$got/$want"
			close_enough "$got" "$want" "$slack" || ok=1
		done
		echo "$line" >>"$D/compare.txt"
	done
	return "$ok"
}
if wait_until 30 compare_procs; then
	pass "memoptctl --json ksm per-process merging_pages/zero_pages/rmap_items/profit_bytes match /proc/PID/ksm_stat"
	sed 's/^/       (report\/kernel) /' "$D/compare.txt"
else
	fail "memoptctl --json ksm per-process values differ from /proc/PID/ksm_stat:"
	sed 's/^/       (report\/kernel) /' "$D/compare.txt"
fi
check "every worker has merged pages" \
	jqt --arg w "$WORKERS" '[($w | split(" ") | map(tonumber))[] as $p | .vms[] | select(.pid == $p) |
		.merging_pages > 0 and .rmap_items > 0] | length == 3 and all' "$D/ksm.json"
check "the report names the processes (comm ksmwork)" \
	jqt --arg w "$WORKERS" '[($w | split(" ") | map(tonumber))[] as $p | .vms[] | select(.pid == $p) |
		.comm == "ksmwork"] | length == 3 and all' "$D/ksm.json"
check "memoptctl --json ksm: managed, mode always, ksmd running" \
	jqt '.available == true and .managed == true and .mode == "always" and .knobs.run == 1' "$D/ksm.json"
check_rc "memoptctl ksm (table) exits 0" 0 "$MEMOPTCTL" --socket "$SOCK" ksm
check_grep "memoptctl ksm (table) lists the workers" "$D/last.out" "ksmwork"
check "memoptctl log holds a ksm decision with its reason" \
	eval 'ctl_json "$SOCK" log | jq -e "[.entries[] | select(.subsys == \"ksm\" and (.reason | length) > 0)] | length >= 1" >/dev/null'

echo "-- SIGTERM restores every knob"
daemon_stop "$DAEMON_PID" TERM 30
check_eq "SIGTERM: memoptd exits 0" 0 "$IT_RC"
if ksm_matches_snapshot >"$D/diff-term.txt"; then
	pass "SIGTERM: every writable KSM knob is back to its original value"
else
	fail "SIGTERM: knobs differ from the originals:"
	cat "$D/diff-term.txt"
fi
check_eq "SIGTERM: the journal is empty" 0 "$(journal_count "$STATE")"

echo "-- SIGKILL, then the next start restores first"
daemon_start d2 -c "$CONF"
changed() { [ "$(ksm_get run)" != "$(ksm_original run)" ] || [ "$(ksm_get pages_to_scan)" != "$(ksm_original pages_to_scan)" ]; }
if ! wait_socket "$SOCK" "$DAEMON_PID" 15 || ! wait_until 15 changed; then
	fail "the second memoptd did not change any knob within 15 s"
	finish
fi
pass "memoptd changed knobs again (run=$(ksm_get run), pages_to_scan=$(ksm_get pages_to_scan))"
daemon_stop "$DAEMON_PID" KILL 10
check_eq "SIGKILL: memoptd died by SIGKILL" 137 "$IT_RC"
ksm_current >"$D/after-kill.txt"
check "SIGKILL: the knobs stay changed (nobody restored them)" eval '! ksm_matches_snapshot >/dev/null'
cp "$STATE/originals.json" "$D/originals-after-kill.json" 2>/dev/null
n=$(journal_count "$STATE")
bad=0
while IFS= read -r line; do
	name=${line%%=*}
	cur=${line#*=}
	want=$(ksm_original "$name")
	got=$(journal_value "$STATE" "ksm.$name")
	if [ "$cur" != "$want" ] && [ "$got" != "$want" ]; then
		note "journal: ksm.$name is '$got', but $name was changed from its original '$want' (now '$cur')"
		bad=1
	fi
	if [ -n "$got" ] && [ "$got" != "$want" ]; then
		note "journal: ksm.$name='$got', the original was '$want'"
		bad=1
	fi
done <"$D/after-kill.txt"
if [ "$bad" = 0 ] && [ "$n" -gt 0 ]; then
	pass "SIGKILL: the journal lists the original of every changed knob ($n entries)"
else
	fail "SIGKILL: the journal does not match the originals"
	sed 's/^/       | /' "$D/originals-after-kill.json" 2>/dev/null
fi

# One cycle: restore the journal, decide (and act) once, restore again on the way out.
check_rc "restart with --once: exit 0" 0 timeout 60 "$MEMOPTD" --once --foreground -c "$CONF"
cp "$D/last.err" "$D/d3.log"
check_grep "restart: the log says it restores the previous run's values first" "$D/d3.log" \
	"previous run.*restoring them first"
first_restore=$(grep -n "restored ksm\.run" "$D/d3.log" | head -n 1 | cut -d: -f1)
tuner_start=$(grep -n "ksm: tuner started" "$D/d3.log" | head -n 1 | cut -d: -f1)
if [ -n "$first_restore" ] && [ -n "$tuner_start" ] && [ "$first_restore" -lt "$tuner_start" ]; then
	pass "restart: run was restored (log line $first_restore) before the tuner started (line $tuner_start)"
else
	fail "restart: no 'restored ksm.run' before 'ksm: tuner started' in the log"
fi
if ksm_matches_snapshot >"$D/diff-restart.txt"; then
	pass "restart: every writable KSM knob is back to its original value"
else
	fail "restart: knobs differ from the originals:"
	cat "$D/diff-restart.txt"
fi
check_eq "restart: the journal is empty" 0 "$(journal_count "$STATE")"

finish
