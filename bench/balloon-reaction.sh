#!/bin/bash
# balloon-reaction.sh - reaction part of the balloon benchmark: two real TCG guests on a real libvirtd, a simulated host shared by both controllers, and the same timeline run once under memoptd and once under the Proxmox-rule re-implementation (bench/pve-autoballoon.sh).
#
# Run by bench/balloon-bench.sh (or alone: B=build-dev BENCH_OUT=/tmp/x bench/balloon-reaction.sh).
# Root; libvirt-daemon-system, qemu-system-x86, jq (as tests/e2e). Writes $BENCH_OUT/reaction/results
# ("reaction controller=C scenario=S key=value ..."), samples-C.txt, events-C.txt and the logs.
#
# The simulated host: both controllers read the same meminfo file (memoptd through --procfs-root, the
# baseline through --meminfo), rewritten by the monitor every ~0.5 s as
#     MemTotal     = 16 GiB
#     MemAvailable = goal + 512 MiB - P + sum over guests of (max - balloon actual)
# goal is memoptd's host_min_avail (15 % of MemTotal, its default) and the baseline's adapted target;
# P is the pressure the harness injects. Memory a balloon takes back is returned to the host, and that
# is all the model does. The real host is never put under pressure (it is shared; and this way both
# controllers meet exactly the same pressure).
#
# Timeline of one run (guest uptimes are fixed on the guests' kernel command lines):
#   boot A and B (768 MiB each, <nosharepages/>, no swap; floors A 384 MiB, B 320 MiB; shares 1000/2000)
#   start the controller; after BLN_REACT_SETTLE s:
#   (a) host:        P = 512 MiB + BLN_REACT_GAP_MIB: the host is GAP below its goal; reclaim is done
#                    when MemAvailable is back within 32 MiB of the goal and every guest's actual is
#                    within 2 MiB of the last size its controller asked for
#   (b1) guest-short: at B's uptime BLN_REACT_T1 its workload takes GROW MiB at 16 MiB/s (more than
#                    B has free after (a) under either controller) while the host stays at its goal;
#                    returned when B's actual >= min(max - 2 MiB, need), need = what B used at the
#                    workload's start (actual - MemAvailable) + GROW + 64 MiB: the workload fits and
#                    B keeps 64 MiB available
#   (b2) guest-room:  at A's uptime BLN_REACT_T2 its workload starts and, at that moment, the host gains
#                    BLN_REACT_ROOM_MIB (another VM stopped): the case in which the Proxmox rule does give
#                    memory back; returned as in (b1), for A
# "Pressure onset" of (b): the first sample where the guest's MemAvailable (libvirt 'usable') is below
# 128 MiB. OOM kills: the guest init's "GROW exit rc=..." and the kernel's OOM lines on the console.
#
# Environment (all optional): BLN_REACT_CONTROLLERS ("memoptd proxmox"), BLN_REACT_INTERVAL (memoptd
# [balloon] interval, 2s), BLN_REACT_GAP_MIB (640), BLN_REACT_GROW_MIB (448), BLN_REACT_ROOM_MIB (768),
# BLN_REACT_SETTLE (15), BLN_REACT_T1 (170), BLN_REACT_T2 (280), BLN_REACT_END (370, A's uptime at
# which the run ends), BLN_REACT_PERIOD (Proxmox period, 10).
# shellcheck disable=SC2034 # IT_DIR and VIRT_* are read by the sourced libraries
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BENCH_OUT=${BENCH_OUT:-$SRC/bench/results/balloon-$(date +%Y%m%d-%H%M%S)}
IT_DIR=$BENCH_OUT/reaction
mkdir -p "$IT_DIR"
VIRT_RUN_DIR=$IT_DIR/virt
. "$SRC/tests/e2e/lib-e2e.sh"
# Until we hold the e2e lock, the EXIT trap must not stop a libvirtd (it may be another run's).
E2E_CLEANED=1

CONTROLLERS=${BLN_REACT_CONTROLLERS:-memoptd proxmox}
INTERVAL=${BLN_REACT_INTERVAL:-2s}
GAP_MIB=${BLN_REACT_GAP_MIB:-640}
GROW_MIB=${BLN_REACT_GROW_MIB:-448}
GROW_RATE=16
ROOM_MIB=${BLN_REACT_ROOM_MIB:-768}
SETTLE=${BLN_REACT_SETTLE:-15}
T1=${BLN_REACT_T1:-170}
T2=${BLN_REACT_T2:-280}
TEND=${BLN_REACT_END:-370}
PERIOD=${BLN_REACT_PERIOD:-10}
MEM=768
MAX_KIB=$((MEM * 1024))
FLOOR_A=$((384 * 1024))
FLOOR_B=$((320 * 1024))
TOTAL_KIB=$((16 * 1048576))
GOAL_KIB=$((TOTAL_KIB * 15 / 100))
RELEASE_KIB=$((TOTAL_KIB * 25 / 100))
OFFSET_KIB=$((512 * 1024))
VM_A=${VIRT_PREFIX}bench-a
VM_B=${VIRT_PREFIX}bench-b
RES=$IT_DIR/results
E2E_LOCK=${E2E_LOCK:-/run/memopt-e2e.lock}

# --- the simulated host and the monitor ----------------------------------------------------------------

# write_meminfo DIR AVAIL_KIB
write_meminfo() {
	{
		printf 'MemTotal:       %s kB\nMemFree:        %s kB\nMemAvailable:   %s kB\n' "$TOTAL_KIB" "$2" "$2"
		printf 'Buffers:               0 kB\nCached:                0 kB\nSwapTotal:             0 kB\n'
		printf 'SwapFree:              0 kB\nAnonPages:      %s kB\nShmem:                 0 kB\n' $((TOTAL_KIB - $2))
	} >"$1/proc/meminfo.tmp"
	mv "$1/proc/meminfo.tmp" "$1/proc/meminfo"
}

# balloon_sample: "NAME actual usable unused swap_in" of both guests, from one virsh run of
# dommemstat (its 'actual' is current; domstats' balloon.current and dominfo lag behind it, G4).
# virsh's echo ends without a newline, hence the "@@ NAME @@" marker at the start of a line.
balloon_sample() {
	timeout 10 virsh -q -c "$VIRT_URI" "echo @@ $VM_A @@; dommemstat $VM_A; echo @@ $VM_B @@; dommemstat $VM_B" 2>/dev/null |
		awk '{ if (match($0, /^@@ [^ ]+ @@/)) { n = $2; $0 = substr($0, RLENGTH + 1) } }
			$1 == "actual" { C[n] = $2 } $1 == "usable" { U[n] = $2 }
			$1 == "unused" { F[n] = $2 } $1 == "swap_in" { S[n] = $2 }
			END { for (k in C) print k, C[k], U[k] + 0, F[k] + 0, S[k] + 0 }'
}

# targets CONTROLLER RUNDIR: "NAME TARGET_KIB" (0 = none asked yet).
targets() {
	if [ "$1" = memoptd ]; then
		"$MEMOPTCTL" --socket "$2/memoptd.sock" --json guests 2>/dev/null |
			jq -r '(.result // .) | .guests[]? | "\(.name) \(.target_kib // 0)"' 2>/dev/null
	else
		cat "$2/targets" 2>/dev/null
	fi
}

# monitor CONTROLLER RUNDIR: every ~0.5 s one sample line
#   ms P avail A_cur A_tgt A_usable A_unused A_swapin B_cur B_tgt B_usable B_unused B_swapin
# (ms = when the sample was started) and the simulated meminfo rewritten from it. Stops when its
# parent is gone.
monitor() {
	local ctl=$1 d=$2 parent=$$ s t p avail ms line
	while [ -d "/proc/$parent" ]; do
		ms=$(virt_now_ms)
		s=$(balloon_sample)
		t=$(targets "$ctl" "$d")
		p=$(cat "$d/pressure_kib" 2>/dev/null)
		[ -n "$s" ] || {
			sleep 0.5
			continue
		}
		read -r avail line < <(awk -v p="${p:-0}" -v goal="$GOAL_KIB" -v off="$OFFSET_KIB" -v max="$MAX_KIB" \
			-v a="$VM_A" -v b="$VM_B" -v ms="$ms" -v tg="$t" '
			BEGIN { n = split(tg, tl, "\n"); for (i = 1; i <= n; i++) { split(tl[i], f, " "); T[f[1]] = f[2] } }
			{ C[$1] = $2; U[$1] = $3; F[$1] = $4; S[$1] = $5 }
			END {
				if (!(a in C) || !(b in C)) exit 1
				av = goal + off - p + (max - C[a]) + (max - C[b])
				print av, ms, p, av, C[a], T[a] + 0, U[a], F[a], S[a], C[b], T[b] + 0, U[b], F[b], S[b]
			}' <<<"$s") || {
			sleep 0.5
			continue
		}
		write_meminfo "$d/host" "$avail"
		printf '%s\n' "$line" >>"$d/samples.txt"
		sleep 0.4
	done
}

# --- one controller's run --------------------------------------------------------------------------------

uptime_of() { guest_mem "$1" up; }
uptime_ge() {
	local u
	u=$(uptime_of "$1") && [ -n "$u" ] && [ "${u%.*}" -ge "$2" ]
}
# wait_uptime NAME SECS: until the guest's own uptime (its MEM lines) reaches SECS (bounded).
wait_uptime() { wait_until $(($2 + 60)) uptime_ge "$1" "$2"; }
lists_both() { [ "$(targets memoptd "$1" | wc -l)" -ge 2 ]; }
event() { printf '%s %s\n' "$1" "$(virt_now_ms)" >>"$2/events.txt"; }

start_memoptd() {
	local d=$1
	cat >"$d/memoptd.conf" <<EOF
# memoptd.conf of bench/balloon-reaction.sh
[daemon]
socket = $d/memoptd.sock
state_dir = $d/state
ksmtuned_conf = none
log_level = info

[ksm]
manage = no

[balloon]
manage = yes
uri = $VIRT_URI
interval = $INTERVAL
host_min_avail = ${GOAL_KIB}K
host_release_avail = ${RELEASE_KIB}K

[vm $VM_A]
floor = $((FLOOR_A / 1024))M
shares = 1000

[vm $VM_B]
floor = $((FLOOR_B / 1024))M
shares = 2000
EOF
	mkdir -p "$d/state"
	"$MEMOPTD" --check-config -c "$d/memoptd.conf" >"$d/check.out" 2>&1 || {
		fail "memoptd refuses the benchmark config: $(head -n 3 "$d/check.out" | tr '\n' ' ')"
		return 1
	}
	it_spawn "$d/memoptd.log" "$MEMOPTD" --foreground -c "$d/memoptd.conf" --sysfs-root "$d/host/sys" \
		--procfs-root "$d/host/proc"
	CTL_PID=$IT_LAST_PID
	wait_socket "$d/memoptd.sock" "$CTL_PID" 15 || {
		fail "memoptd did not answer on $d/memoptd.sock"
		return 1
	}
	wait_until 30 lists_both "$d" || {
		fail "memoptd does not list both guests"
		return 1
	}
}

start_proxmox() {
	local d=$1
	it_spawn "$d/pve.out" "$SRC/bench/pve-autoballoon.sh" --uri "$VIRT_URI" --meminfo "$d/host/proc/meminfo" \
		--host-goal-kib "$GOAL_KIB" --period "$PERIOD" --log "$d/pve.log" --targets "$d/targets" \
		"$VM_A:$FLOOR_A:1000" "$VM_B:$FLOOR_B:2000"
	CTL_PID=$IT_LAST_PID
}

run_controller() {
	local ctl=$1 d=$IT_DIR/$1 mon_pid
	rm -rf "$d"
	mkdir -p "$d"
	fixture_host "$d/host"
	printf '0\n' >"$d/pressure_kib"
	write_meminfo "$d/host" $((GOAL_KIB + OFFSET_KIB))

	note "[$ctl] booting $VM_A and $VM_B"
	e2e_boot "$VM_A" "$MEM" "memopt_grow_after=$T2 memopt_grow_mib=$GROW_MIB memopt_grow_rate=$GROW_RATE"
	e2e_boot "$VM_B" "$MEM" "memopt_grow_after=$T1 memopt_grow_mib=$GROW_MIB memopt_grow_rate=$GROW_RATE"
	monitor "$ctl" "$d" </dev/null >/dev/null 2>"$d/monitor.err" &
	mon_pid=$!
	IT_PIDS+=("$mon_pid")
	wait_until 20 test -s "$d/samples.txt" || note "[$ctl] the monitor has no sample yet"
	event start "$d"
	if ! "start_$ctl" "$d"; then
		kill "$mon_pid" 2>/dev/null
		virt_destroy "$VM_A"
		virt_destroy "$VM_B"
		return 1
	fi
	note "[$ctl] running (pid $CTL_PID); guest uptime A $(uptime_of "$VM_A") s, B $(uptime_of "$VM_B") s"
	sleep "$SETTLE"

	# (a) host pressure
	printf '%s\n' $((OFFSET_KIB + GAP_MIB * 1024)) >"$d/pressure_kib"
	event a "$d"
	note "[$ctl] (a) host pressure: $GAP_MIB MiB below the goal"

	# (b1) B's workload, the host kept at its goal
	if guest_console_has "$VM_B" '^GROW start'; then
		note "[$ctl] B's workload started before (a) was over: BLN_REACT_T1 is too small"
	fi
	wait_until $((T1 + 120)) guest_console_has "$VM_B" '^GROW start' || note "[$ctl] B's workload did not start"
	event b1 "$d"
	note "[$ctl] (b1) B's workload started (B uptime $(uptime_of "$VM_B") s)"

	# (b2) A's workload, with room given to the host at that moment
	wait_until $((T2 + 120)) guest_console_has "$VM_A" '^GROW start' || note "[$ctl] A's workload did not start"
	printf '%s\n' $((OFFSET_KIB + GAP_MIB * 1024 - ROOM_MIB * 1024)) >"$d/pressure_kib"
	event b2 "$d"
	note "[$ctl] (b2) A's workload started and the host gained $ROOM_MIB MiB (A uptime $(uptime_of "$VM_A") s)"

	wait_uptime "$VM_A" "$TEND" || note "[$ctl] A's uptime did not reach $TEND s"
	event end "$d"

	kill -TERM "$CTL_PID" 2>/dev/null
	timeout 20 tail --pid="$CTL_PID" -s 0.2 -f /dev/null 2>/dev/null || kill -KILL "$CTL_PID" 2>/dev/null
	kill "$mon_pid" 2>/dev/null
	wait "$mon_pid" 2>/dev/null
	cp "$(virt_console "$VM_A")" "$d/console-a.log" 2>/dev/null
	cp "$(virt_console "$VM_B")" "$d/console-b.log" 2>/dev/null
	virt_destroy "$VM_A"
	virt_destroy "$VM_B"
	analyze "$ctl" "$d" >>"$RES"
}

# --- analysis ------------------------------------------------------------------------------------------

# oom_lines CONSOLE: the guest's own evidence of an OOM kill.
oom_count() { tr -d '\r' <"$1" 2>/dev/null | grep -Ec '^(HOG|GROW) exit rc=|Out of memory|oom-kill|Kernel panic'; }

analyze() {
	local ctl=$1 d=$2 oa ob
	oa=$(oom_count "$d/console-a.log")
	ob=$(oom_count "$d/console-b.log")
	awk -v ctl="$ctl" -v goal="$GOAL_KIB" -v max="$MAX_KIB" -v grow=$((GROW_MIB * 1024)) \
		-v fa="$FLOOR_A" -v fb="$FLOOR_B" -v gap=$((GAP_MIB * 1024)) -v oa="$oa" -v ob="$ob" \
		-v ev="$d/events.txt" '
	BEGIN {
		while ((getline l < ev) > 0) { split(l, f, " "); E[f[1]] = f[2] }
		tol = 32768; near = 2048; press = 131072; reserve = 65536
	}
	{ n++; ms[n] = $1; av[n] = $3
	  ca[n] = $4; ta[n] = $5; ua[n] = $6; sa[n] = $8
	  cb[n] = $9; tb[n] = $10; ub[n] = $11; sb[n] = $13 }
	function secs(t, t0) { return t == "" ? "n/a" : sprintf("%.1f", (t - t0) / 1000) }
	function tgt(x) { return x > 0 ? x : max }
	# guest side: returned when cur >= need; onset when usable < press
	function guest(sc, which, t0, t1, floor, oom,    i, c0, need, tr, ton, minu, s0, s1, minc) {
		c0 = ""; tr = ""; ton = ""; minu = ""; s0 = ""; minc = ""
		for (i = 1; i <= n; i++) {
			if (ms[i] < t0 || ms[i] >= t1) continue
			c = which == "a" ? ca[i] : cb[i]; u = which == "a" ? ua[i] : ub[i]; s = which == "a" ? sa[i] : sb[i]
			if (c0 == "") {
				c0 = c; s0 = s
				# what the guest uses (actual - MemAvailable) + the workload + a 64 MiB reserve
				need = (u > 0 && u < c ? c - u : 0) + grow + reserve
				if (need > max - near) need = max - near
			}
			if (tr == "" && c >= need) tr = ms[i]
			if (ton == "" && u > 0 && u < press) ton = ms[i]
			if (u > 0 && (minu == "" || u < minu)) minu = u
			if (minc == "" || c < minc) minc = c
			s1 = s
		}
		printf "reaction controller=%s scenario=%s guest=%s window_s=%s actual_start_mib=%d need_mib=%d returned_s=%s onset_s=%s onset_to_returned_s=%s min_usable_mib=%s min_actual_mib=%d floor_mib=%d swap_in_kib=%d oom=%d\n",
			ctl, sc, which, secs(t1, t0), c0 / 1024, need / 1024, secs(tr, t0), secs(ton, t0),
			(tr == "" || ton == "") ? "n/a" : (tr < ton ? "0.0" : secs(tr, ton)),
			minu == "" ? "n/a" : int(minu / 1024), minc / 1024, floor / 1024, s1 - s0, oom
	}
	END {
		# (a): from E["a"] to E["b1"]
		tg = ""; td = ""; mina = ""; minb = ""
		for (i = 1; i <= n; i++) {
			if (ms[i] < E["a"] || ms[i] >= E["b1"]) continue
			if (tg == "" && av[i] >= goal - tol) tg = ms[i]
			if (td == "" && av[i] >= goal - tol && (ca[i] - tgt(ta[i]))^2 <= near^2 && (cb[i] - tgt(tb[i]))^2 <= near^2) td = ms[i]
			if (mina == "" || ca[i] < mina) mina = ca[i]
			if (minb == "" || cb[i] < minb) minb = cb[i]
			if (first == "") first = i
			last = i
		}
		printf "reaction controller=%s scenario=host window_s=%s gap_mib=%d gap_closed_s=%s done_s=%s overshoot_mib=%d a_final_mib=%d b_final_mib=%d a_min_mib=%d b_min_mib=%d floors_ok=%d swap_in_kib=%d oom_whole_run=%d\n",
			ctl, secs(E["b1"], E["a"]), gap / 1024, secs(tg, E["a"]), secs(td, E["a"]), (av[last] - goal) / 1024, ca[last] / 1024,
			cb[last] / 1024, mina / 1024, minb / 1024, (mina >= fa && minb >= fb),
			(sa[last] - sa[first]) + (sb[last] - sb[first]), oa + ob
		guest("guest-short", "b", E["b1"], E["b2"], fb, ob)
		guest("guest-room", "a", E["b2"], E["end"], fa, oa)
	}' "$d/samples.txt"
}

# --- main ---------------------------------------------------------------------------------------------

# --analyze CONTROLLER: redo the analysis of a finished run in $BENCH_OUT/reaction/CONTROLLER.
if [ "${1:-}" = --analyze ]; then
	analyze "$2" "$IT_DIR/$2"
	exit 0
fi

e2e_require_virt
require_cmd jq
require_built "$MEMOPTD" "$MEMOPTCTL"
[ -x "$SRC/bench/pve-autoballoon.sh" ] || {
	fail "bench/pve-autoballoon.sh is missing"
	exit 1
}
# libvirtd and our domain records are shared with tests/e2e: one user at a time. fd 9, which the
# harness closes for every daemon and process it starts, so none of them keeps the lock.
exec 9>"$E2E_LOCK"
if ! flock -w 1800 9; then
	skip "another e2e run holds $E2E_LOCK"
fi
E2E_CLEANED=0
: >"$RES"

e2e_start_virt

for c in $CONTROLLERS; do
	case $c in
	memoptd | proxmox) run_controller "$c" || fail "[$c] run failed" ;;
	*) note "unknown controller '$c', skipped" ;;
	esac
done
note "results: $RES"
cat "$RES"
pass "reaction benchmark ran ($(wc -l <"$RES") result lines)"
finish
