#!/bin/bash
# test_balloon_e2e.sh - memoptd's balloon controller on a real libvirtd with two real TCG guests: host pressure shrinks them to their floors, a guest workload gets memory back, lifting the pressure grows them back, manual overrides, libvirtd SIGKILL + restart.
# E2E-TIMEOUT: 900
#
# Written against the planned interfaces of issue 3 (not all in the tree yet; until memoptd accepts a
# [balloon] section the test SKIPs, or FAILs with E2E_REQUIRE_BALLOON=1):
#   config  [balloon] manage, uri, interval, host_min_avail, host_release_avail, floor (default floor)
#           [vm NAME] floor, shares, manage
#   CLI     memoptctl --json guests -> {"guests":[{"name","actual_kib","floor_kib","max_kib","target_kib",
#                                      "usable_kib","swap_in_kib_s","major_faults_s","last_decision","reason"}]}
#           memoptctl balloon set NAME SIZE | memoptctl balloon release NAME   (mutating, root)
# Host pressure without eating the machine: host_min_avail is set just above the host's MemAvailable at
# that moment (more than the guests can give back), and lifted by rewriting the file + SIGHUP.
# [ksm] manage = no: memoptd never writes /sys/kernel/mm/ksm (another engineer benchmarks KSM here).
#
# Scenarios, in order (each assertion prints PASS/FAIL with its numbers and timings):
#   S0 no pressure: memoptd lists both guests with their floor and max and leaves them at max
#   S1 host pressure: both guests' balloon 'actual' and their own MemTotal drop, down to their floors
#   S2 a workload in guest B needs memory (starts at guest uptime E2E_GROW_AFTER): B gets it back within
#      a few cycles while the host is still short, and is never OOM-killed; A stays shrunk
#   S3 pressure lifted: both grow back to max, MemTotal too
#   S4 memoptctl balloon set A 512M holds A there although the host has room; release lets it grow back
#   S5 libvirtd SIGKILLed and restarted: memoptd survives, reconnects, and acts on a new pressure
#   end: 'actual' never below a floor in any sample (1 s), no guest OOM, guests alive, memoptd exits 0
#
# Tunables (env): E2E_PRESSURE_MIB (1536), E2E_GROW_AFTER (100 s guest uptime), E2E_GROW_MIB (384),
# E2E_GROW_RATE (16 MiB/s), E2E_FLOOR_SLACK_MIB (64), E2E_REQUIRE_BALLOON (0).
. "$(dirname "$0")/lib-e2e.sh"

D=$IT_DIR
SOCK=$D/run/memoptd.sock
CONF=$D/memoptd.conf
VM_A=${VIRT_PREFIX}a
VM_B=${VIRT_PREFIX}b
MEM=768
MAX_KIB=$((MEM * 1024))
FLOOR_A_MIB=384
FLOOR_B_MIB=320
FLOOR_A=$((FLOOR_A_MIB * 1024))
FLOOR_B=$((FLOOR_B_MIB * 1024))
INTERVAL_S=2
PRESSURE_MIB=${E2E_PRESSURE_MIB:-1536}
GROW_AFTER=${E2E_GROW_AFTER:-100}
GROW_MIB=${E2E_GROW_MIB:-384}
GROW_RATE=${E2E_GROW_RATE:-16}
SLACK=$((${E2E_FLOOR_SLACK_MIB:-64} * 1024))
STEP=$((128 * 1024)) # "dropped" / "grew" means by at least this much

e2e_require_virt
require_cmd jq
require_built "$MEMOPTD" "$MEMOPTCTL"

# write_conf HOST_MIN_AVAIL HOST_RELEASE_AVAIL: the test's config (atomically replaced).
write_conf() {
	cat >"$CONF.tmp" <<EOF
# memoptd.conf of test_balloon_e2e
[daemon]
socket = $SOCK
state_dir = $D/state
ksmtuned_conf = none
log_level = debug

[ksm]
manage = no

[balloon]
manage = yes
uri = $VIRT_URI
interval = ${INTERVAL_S}s
host_min_avail = $1
host_release_avail = $2
floor = 256M

[vm $VM_A]
floor = ${FLOOR_A_MIB}M
shares = 1000

[vm $VM_B]
floor = ${FLOOR_B_MIB}M
shares = 2000
manage = yes
EOF
	mv "$CONF.tmp" "$CONF"
}

# pressure_conf: host_min_avail just above the host's MemAvailable now, by more than both guests can
# give back, so the controller must shrink them to their floors.
PRESSURE_MIN=0 # host_min_avail in force while the test applies pressure (KiB), 0 = none
pressure_conf() {
	local avail
	avail=$(virt_host_avail_kib)
	PRESSURE_MIN=$((avail + PRESSURE_MIB * 1024))
	write_conf "${PRESSURE_MIN}K" "$((PRESSURE_MIN + 256 * 1024))K"
	note "host MemAvailable $(kib_mib "$avail") MiB -> host_min_avail $(kib_mib "$PRESSURE_MIN") MiB (pressure)"
}
relaxed_conf() {
	PRESSURE_MIN=0
	write_conf 256M 512M
	note "host MemAvailable $(kib_mib "$(virt_host_avail_kib)") MiB, host_min_avail 256 MiB (no pressure)"
}

# The machine is shared: another workload may free gigabytes in the middle of a pressure phase (a KSM
# benchmark here released 18 GiB within one phase), which would lift our pressure. keep_pressure puts
# host_min_avail above MemAvailable again (rewrite + SIGHUP) when it comes within 256 MiB of it.
keep_pressure() {
	local avail
	[ "$PRESSURE_MIN" -gt 0 ] || return 0
	avail=$(virt_host_avail_kib)
	[ "$avail" -lt $((PRESSURE_MIN - 256 * 1024)) ] && return 0
	note "host MemAvailable rose to $(kib_mib "$avail") MiB (freed by something else): re-applying the pressure"
	pressure_conf
	hup_quiet || note "memoptd did not log the reload within 10 s"
}
pressured() {
	keep_pressure
	"$@"
}
# pwait SECS CMD...: wait_until, keeping the host pressure on meanwhile.
pwait() {
	local secs=$1
	shift
	wait_until "$secs" pressured "$@"
}

# 0. Does this memoptd have the balloon controller yet? Decided before anything is booted.
relaxed_conf
mkdir -p "$D/run"
"$MEMOPTD" --check-config -c "$CONF" >"$D/check-config.out" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
	if grep -q "unknown section \[balloon\]" "$D/check-config.out" && [ "${E2E_REQUIRE_BALLOON:-0}" != 1 ]; then
		skip "memoptd has no [balloon] section yet (balloon controller not built)"
	fi
	fail "memoptd --check-config refuses the test's config (exit $rc): $(head -n 3 "$D/check-config.out" | tr '\n' ' ')"
	finish
fi
pass "memoptd --check-config accepts [balloon] and [vm NAME] sections"

e2e_start_virt

# --- observers ---------------------------------------------------------------------------------------

# Every second: "ms name actual_kib" of both guests, from libvirt (nothing while libvirtd is down).
sampler() {
	local parent=$$
	while [ -d "/proc/$parent" ]; do
		timeout 5 virsh -q -c "$VIRT_URI" domstats --balloon "$VM_A" "$VM_B" 2>/dev/null |
			awk -v ms="$(virt_now_ms)" '/^Domain:/ { n = $2; gsub(/\047/, "", n) }
				/balloon\.current=/ { split($1, kv, "="); print ms, n, kv[2] }'
		sleep 1
	done >>"$D/samples.txt" 2>/dev/null
}
min_sample() { awk -v n="$1" '$2 == n && (m == "" || $3 < m) { m = $3 } END { print m }' "$D/samples.txt"; }
# min_sample_since NAME MS
min_sample_since() { awk -v n="$1" -v t="$2" '$2 == n && $1 >= t && (m == "" || $3 < m) { m = $3 } END { print m }' "$D/samples.txt"; }

actual() { virt_stat "$1" actual; }
actual_le() { local a; a=$(actual "$1") && [ -n "$a" ] && [ "$a" -le "$2" ]; }
actual_ge() { local a; a=$(actual "$1") && [ -n "$a" ] && [ "$a" -ge "$2" ]; }
# memtotal_matches NAME: the guest's MemTotal follows actual (less the kernel's reservation, 8 MiB).
memtotal_matches() {
	local a m
	a=$(actual "$1") && m=$(guest_mem "$1" MemTotal) || return 1
	[ -n "$a" ] && [ -n "$m" ] && [ $((a - m - GAP)) -le 8192 ] && [ $((a - m - GAP)) -ge -8192 ]
}
oom_seen() { guest_console_has "$1" '^(HOG|GROW) exit|Out of memory|oom-kill|Kernel panic'; }

# guests: the result of `memoptctl --json guests`. A failed or empty answer is retried twice (0.5 s
# apart) and each retry is noted with memoptctl's error, so a flaky control socket shows in the log
# without failing a check that is about the balloon.
guests() {
	local j try
	for try in 1 2 3; do
		j=$(ctl_json "$SOCK" guests) && [ -n "$j" ] && {
			printf '%s\n' "$j"
			return 0
		}
		note "memoptctl --json guests failed (try $try): $(head -c 300 "$IT_DIR/ctl.err" 2>/dev/null | tr '\n' ' ')" >&2
		[ "$try" -lt 3 ] && sleep 0.5
	done
	return 1
}
# gjq [JQ ARGS...] FILTER: true when FILTER holds on `memoptctl --json guests` (false when memoptctl fails
# or prints nothing: jq 1.6's -e passes on empty input).
gjq() {
	local j
	j=$(guests) && [ -n "$j" ] || return 1
	printf '%s\n' "$j" | jq -e "$@" >/dev/null 2>&1
}
# gfield NAME FIELD: one field of one guest in `memoptctl --json guests`.
gfield() { guests | jq -r --arg n "$1" --arg f "$2" '.guests[] | select(.name == $n) | .[$f] // empty'; }
# listed: both guests are in `memoptctl guests`, with their max and balloon stats known.
# Polled, so it asks once per call and notes nothing.
listed() {
	local j
	j=$(ctl_json "$SOCK" guests) && [ -n "$j" ] || return 1
	printf '%s\n' "$j" | jq -e --arg a "$VM_A" --arg b "$VM_B" '[.guests[] | select((.name == $a or .name == $b)
		and (.max_kib // 0) > 0 and (.usable_kib // 0) > 0)] | length == 2' >/dev/null 2>&1
}
reloads() { grep -c "configuration reloaded" "$D/daemon.log" 2>/dev/null; }
NRELOAD=0
# hup_quiet: SIGHUP memoptd and wait (10 s) for it to log the reload.
hup_quiet() {
	NRELOAD=$((NRELOAD + 1))
	kill -HUP "$DAEMON_PID"
	wait_until 10 eval '[ "$(reloads)" -ge "$NRELOAD" ]'
}
hup() {
	if hup_quiet; then
		pass "SIGHUP: memoptd reloaded its configuration"
	else
		fail "SIGHUP: no 'configuration reloaded' in the log within 10 s"
	fi
}
# show NAME: one line of what the guest and memoptd say now (last_decision is a string or an object
# with an action).
show() {
	local d
	d=$(guests | jq -r --arg n "$1" '.guests[] | select(.name == $n)
		| "target \(.target_kib) KiB, last \(.last_decision | if type == "object" then .action else . end): \(.reason)"')
	note "$1: actual $(kib_mib "$(actual "$1")") MiB, $(guest_mem "$1"), $d"
}

# --- boot ----------------------------------------------------------------------------------------------

T0=$(virt_now_ms)
e2e_boot "$VM_A" "$MEM"
note "$VM_A booted: READY and stats after ${E2E_BOOT_S}s"
e2e_boot "$VM_B" "$MEM" "memopt_grow_after=$GROW_AFTER memopt_grow_mib=$GROW_MIB memopt_grow_rate=$GROW_RATE"
note "$VM_B booted: READY and stats after ${E2E_BOOT_S}s (workload of $GROW_MIB MiB at $GROW_RATE MiB/s from uptime ${GROW_AFTER}s)"
MT_A0=$(guest_mem "$VM_A" MemTotal)
MT_B0=$(guest_mem "$VM_B" MemTotal)
GAP=$((MAX_KIB - MT_A0)) # kernel reservation: actual - MemTotal
note "both up after $(virt_secs_since "$T0")s; MemTotal $MT_A0 / $MT_B0 KiB (kernel keeps $GAP KiB)"
sampler </dev/null >/dev/null 2>&1 &
IT_PIDS+=("$!")
printf '%s %s\n' "$!" "$BASH" >>"$IT_DIR/.pids"

# --- S0: no pressure -------------------------------------------------------------------------------------

daemon_start daemon -c "$CONF"
if ! wait_socket "$SOCK" "$DAEMON_PID" 15; then
	fail "memoptd did not answer on $SOCK"
	finish
fi
t=$(virt_now_ms)
if wait_until 30 listed; then
	pass "S0: memoptctl guests lists $VM_A and $VM_B after $(virt_secs_since "$t")s"
else
	fail "S0: memoptctl guests does not list both guests: $(guests 2>&1 | head -c 400)"
	finish
fi
check_eq "S0: $VM_A floor_kib from [vm $VM_A]" "$FLOOR_A" "$(gfield "$VM_A" floor_kib)"
check_eq "S0: $VM_B floor_kib from [vm $VM_B]" "$FLOOR_B" "$(gfield "$VM_B" floor_kib)"
check_eq "S0: $VM_A max_kib = domain max memory" "$MAX_KIB" "$(gfield "$VM_A" max_kib)"
check_eq "S0: $VM_A actual_kib = libvirt's actual" "$(actual "$VM_A")" "$(gfield "$VM_A" actual_kib)"
check "S0: $VM_A usable_kib is the guest's MemAvailable (within 16 MiB of $(guest_mem "$VM_A" MemAvailable))" \
	eval 'u=$(gfield "$VM_A" usable_kib); m=$(guest_mem "$VM_A" MemAvailable); [ -n "$u" ] && [ $((u - m)) -le 16384 ] && [ $((m - u)) -le 16384 ]'
check "S0: rates and decision fields are present" \
	gjq --arg n "$VM_A" '.guests[] | select(.name == $n) | has("swap_in_kib_s") and has("major_faults_s")
		and has("last_decision") and has("reason") and has("target_kib")'
note "S0: memoptctl --json guests: $(guests 2>&1 | head -c 1200)"
t=$(virt_now_ms)
sleep $((3 * INTERVAL_S))
check_eq "S0: host has room: $VM_A left at max for 3 cycles (lowest sample)" "$MAX_KIB" "$(min_sample_since "$VM_A" "$t")"
check_eq "S0: host has room: $VM_B left at max for 3 cycles (lowest sample)" "$MAX_KIB" "$(min_sample_since "$VM_B" "$t")"

# --- S1: host pressure ----------------------------------------------------------------------------------

pressure_conf
T1=$(virt_now_ms)
hup
for n in "$VM_A" "$VM_B"; do
	if pwait 60 actual_le "$n" $((MAX_KIB - STEP)); then
		pass "S1: $n shrinking: actual $(actual "$n") KiB, $(virt_secs_since "$T1")s after the pressure"
	else
		fail "S1: $n not shrunk by 128 MiB within 60 s (actual $(actual "$n"))"
	fi
done
for pair in "$VM_A:$FLOOR_A" "$VM_B:$FLOOR_B"; do
	n=${pair%%:*}
	f=${pair#*:}
	if pwait 120 actual_le "$n" $((f + SLACK)); then
		pass "S1: $n at its floor: actual $(actual "$n") KiB (floor $f), $(virt_secs_since "$T1")s after the pressure"
	else
		fail "S1: $n did not reach floor $f + $SLACK KiB within 120 s (actual $(actual "$n"))"
	fi
	check "S1: $n never below its floor so far (lowest sample $(min_sample "$n") >= $f)" \
		test "$(min_sample "$n")" -ge "$f"
	if pwait 20 memtotal_matches "$n"; then
		pass "S1: $n's own MemTotal dropped with it: $(guest_mem "$n" MemTotal) KiB (actual $(actual "$n"))"
	else
		fail "S1: $n's MemTotal $(guest_mem "$n" MemTotal) KiB does not follow actual $(actual "$n") KiB"
	fi
	check "S1: $n target_kib ($(gfield "$n" target_kib)) >= floor" test "$(gfield "$n" target_kib)" -ge "$f"
	check "S1: $n has a last decision with a reason" \
		gjq --arg n "$n" '.guests[] | select(.name == $n) | (.last_decision // "") != "" and (.reason // "") != ""'
	show "$n"
done
note "host MemAvailable now $(kib_mib "$(virt_host_avail_kib)") MiB; QEMU RSS $VM_A $(virt_qemu_rss_kib "$VM_A") KiB, $VM_B $(virt_qemu_rss_kib "$VM_B") KiB"

# --- S2: a guest workload needs memory while the host is short -------------------------------------------

up=$(guest_mem "$VM_B" up)
left=$((GROW_AFTER - ${up%.*} + 60))
[ "$left" -lt 60 ] && left=60
if guest_console_has "$VM_B" '^GROW start'; then
	note "S2: the workload started before the guests reached their floors (guest uptime $up)"
fi
if ! pwait "$left" guest_console_has "$VM_B" '^GROW start'; then
	fail "S2: $VM_B's workload did not start (guest uptime $(guest_mem "$VM_B" up), expected at $GROW_AFTER)"
else
	T2=$(virt_now_ms)
	b0=$(actual "$VM_B")
	note "S2: $VM_B's workload started (guest uptime $(guest_mem "$VM_B" up)); $VM_B actual $b0 KiB"
	if pwait 60 actual_ge "$VM_B" $((b0 + STEP)); then
		s=$(virt_secs_since "$T2")
		pass "S2: $VM_B given memory back: actual $b0 -> $(actual "$VM_B") KiB, ${s}s after its workload started"
	else
		fail "S2: $VM_B not grown by 128 MiB within 60 s of its workload starting (actual $(actual "$VM_B"))"
	fi
	ramp=$((GROW_MIB / GROW_RATE + 60))
	if pwait "$ramp" guest_console_has "$VM_B" "^GROW (done|exit)"; then
		check_no_grep "S2: $VM_B's workload was never OOM-killed" "$(virt_console "$VM_B")" '^GROW exit'
		check_grep "S2: $VM_B's workload holds all $GROW_MIB MiB ($(virt_secs_since "$T2")s after it started)" \
			"$(virt_console "$VM_B")" "^GROW done mib=$GROW_MIB"
	else
		fail "S2: $VM_B's workload neither finished nor died within ${ramp}s"
	fi
	check "S2: $VM_B grew above its floor by 128 MiB or more (actual $(actual "$VM_B"))" actual_ge "$VM_B" $((FLOOR_B + STEP))
	low=$(tr -d '\r' <"$(virt_console "$VM_B")" | awk '/^GROW start/ { on = 1 }
		on && /^MEM / { for (i = 1; i <= NF; i++) if ($i ~ /^MemAvailable=/) { v = substr($i, 14) + 0; if (m == "" || v < m) m = v } }
		END { print m }')
	note "S2: $VM_B's own MemAvailable went down to $low KiB while its workload grew"
	check "S2: the host is still short: $VM_A stays near its floor (actual $(actual "$VM_A"))" \
		pressured actual_le "$VM_A" $((FLOOR_A + SLACK))
	show "$VM_B"
fi

# --- S3: pressure lifted ----------------------------------------------------------------------------------

relaxed_conf
T3=$(virt_now_ms)
hup
for n in "$VM_A" "$VM_B"; do
	if wait_until 90 actual_ge "$n" "$MAX_KIB"; then
		pass "S3: $n back at max ($MAX_KIB KiB) $(virt_secs_since "$T3")s after the pressure was lifted"
	else
		fail "S3: $n not back at max within 90 s (actual $(actual "$n"))"
	fi
done
check "S3: $VM_A's own MemTotal back to $MT_A0" wait_until 20 eval '[ "$(guest_mem "$VM_A" MemTotal)" -ge "$MT_A0" ]'
check "S3: $VM_B's own MemTotal back to $MT_B0" wait_until 20 eval '[ "$(guest_mem "$VM_B" MemTotal)" -ge "$MT_B0" ]'

# --- S4: manual override ----------------------------------------------------------------------------------

T4=$(virt_now_ms)
check_rc "S4: memoptctl balloon set $VM_A 512M" 0 "$MEMOPTCTL" --socket "$SOCK" balloon set "$VM_A" 512M
if wait_until 30 eval '[ "$(actual "$VM_A")" = 524288 ]'; then
	pass "S4: $VM_A at 512 MiB $(virt_secs_since "$T4")s after the override"
	t=$(virt_now_ms)
	sleep $((3 * INTERVAL_S))
	check "S4: the override holds for 3 cycles although the host has room (samples $(min_sample_since "$VM_A" "$t")..$(awk -v n="$VM_A" -v t="$t" '$2 == n && $1 >= t && $3 > m { m = $3 } END { print m }' "$D/samples.txt"))" \
		eval '[ "$(min_sample_since "$VM_A" "$t")" = 524288 ] && [ "$(actual "$VM_A")" = 524288 ]'
	check_eq "S4: memoptctl guests shows the override as $VM_A's target" 524288 "$(gfield "$VM_A" target_kib)"
else
	fail "S4: $VM_A not at 512 MiB within 30 s of the override (actual $(actual "$VM_A"))"
fi
T4=$(virt_now_ms)
check_rc "S4: memoptctl balloon release $VM_A" 0 "$MEMOPTCTL" --socket "$SOCK" balloon release "$VM_A"
if wait_until 60 actual_ge "$VM_A" "$MAX_KIB"; then
	pass "S4: released, $VM_A back at max after $(virt_secs_since "$T4")s"
else
	fail "S4: $VM_A not back at max within 60 s of the release (actual $(actual "$VM_A"))"
fi

# --- S5: libvirtd SIGKILL + restart -----------------------------------------------------------------------

check "S5: SIGKILL libvirtd (by PID)" kill_libvirtd KILL
sleep $((3 * INTERVAL_S))
check "S5: memoptd survives 3 cycles without libvirtd" pid_alive "$DAEMON_PID"
check_rc "S5: memoptctl status answers meanwhile" 0 "$MEMOPTCTL" --socket "$SOCK" status
T5=$(virt_now_ms)
if ! start_libvirt "$D" 60; then
	fail "S5: libvirtd did not restart"
	finish
fi
note "S5: libvirtd back after $(virt_secs_since "$T5")s"
check "S5: memoptctl guests lists both guests again" wait_until 60 listed
pressure_conf
T5=$(virt_now_ms)
hup
if pwait 90 actual_le "$VM_A" $((MAX_KIB - STEP)); then
	pass "S5: reconnected and acting: $VM_A shrunk to $(actual "$VM_A") KiB $(virt_secs_since "$T5")s after the new pressure"
else
	fail "S5: $VM_A not shrunk within 90 s of the pressure after the libvirtd restart (actual $(actual "$VM_A"))"
fi
if pwait 90 actual_le "$VM_A" $((FLOOR_A + SLACK)); then
	pass "S5: $VM_A back at its floor ($(actual "$VM_A") KiB) after $(virt_secs_since "$T5")s"
else
	fail "S5: $VM_A did not reach its floor again within 90 s (actual $(actual "$VM_A"))"
fi
show "$VM_A"
show "$VM_B"

# --- whole run ----------------------------------------------------------------------------------------------

for pair in "$VM_A:$FLOOR_A" "$VM_B:$FLOOR_B"; do
	n=${pair%%:*}
	f=${pair#*:}
	check "whole run: $n's actual never below its floor ($(awk -v n="$n" '$2 == n' "$D/samples.txt" | wc -l) samples, lowest $(min_sample "$n") >= $f)" \
		test "$(min_sample "$n")" -ge "$f"
	mtmin=$(tr -d '\r' <"$(virt_console "$n")" | sed -n 's/^MEM .* MemTotal=\([0-9]*\) .*/\1/p' | sort -n | head -n 1)
	check "whole run: $n's own MemTotal never below floor - kernel reservation (lowest $mtmin >= $((f - GAP - 8192)))" \
		test "$mtmin" -ge $((f - GAP - 8192))
	check "whole run: no OOM kill or panic in $n" eval '! oom_seen "$n"'
	check "whole run: $n still runs" virt_running "$n"
done
check "whole run: memoptd still runs" pid_alive "$DAEMON_PID"
daemon_stop "$DAEMON_PID" TERM 20
check_eq "memoptd exits 0 on SIGTERM" 0 "$IT_RC"
note "after memoptd stopped: $VM_A actual $(actual "$VM_A") KiB, $VM_B actual $(actual "$VM_B") KiB"
finish
