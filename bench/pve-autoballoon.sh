#!/bin/bash
# pve-autoballoon.sh - baseline of the balloon benchmark: a RE-IMPLEMENTATION of Proxmox VE's published auto-ballooning rule (pvestatd + AutoBalloon.pm compute_alg1), driving libvirt guests with virsh. Not Proxmox's code.
#
# Usage: bench/pve-autoballoon.sh --uri URI --meminfo FILE --host-goal-kib K [--period S] [--log FILE]
#                                 [--targets FILE] [--once] VM:FLOOR_KIB:SHARES...
#        bench/pve-autoballoon.sh --decide GOAL_KIB < "NAME ACTUAL MAX FREE|- FLOOR SHARES" lines (KiB)
#
# The rule, as docs/peers.md section 3 describes it (proxmox/pve-manager PVE/AutoBalloon.pm and
# PVE/Service/pvestatd.pm), rewritten here from that description:
#   every period (pvestatd's 10 s):
#     goal = MemTotal * target - memused, with memused = MemTotal - MemAvailable. Adapted for the
#            benchmark: MemTotal * (1 - target) is replaced by memoptd's host goal (--host-goal-kib, its
#            resolved host_min_avail), so goal = MemAvailable - host_goal: both controllers aim at the
#            same host state.
#     act only if |goal| > 10 MiB; each VM moves at most 100 MiB per period (maxchange).
#     VMs: those with a balloon size (libvirt's balloon.current), a minimum (balloon_min = the floor)
#          and shares > 0. "Pressure" list: no free-memory figure, free <= 25 % of the minimum, or
#          balloon below the minimum; "enough free": the others. Free memory is the guest's MemFree
#          (libvirt's 'unused', present once the guest driver reports), as Proxmox uses QMP free_mem.
#     grow (goal > 0): hand out over the pressure list first; if that placed nothing, over all VMs.
#     shrink (goal < 0): take from the enough-free list first; if that took nothing, from all VMs.
#     split: repeat until no progress: alloc_new = sum(balloon - min) + rest over the VMs not settled;
#            desired = min + int(alloc_new / shares_total * shares), clamped to [min, max]; move at most
#            maxchange from the VM's current balloon toward desired; rest -= what moved.
#   apply: the new size of every VM that changed (Proxmox: QMP 'balloon'; here virsh setmem --live).
# Inputs: virsh dommemstat (actual, unused) and dominfo (max memory), and the given meminfo file (the
# benchmark's simulated host, shared with memoptd).
#
# --log FILE: one line per period: "ms goal_kib=G avail_kib=A NAME:actual:free:new ...".
# --targets FILE: "NAME TARGET_KIB" of the last size requested for every VM (rewritten atomically).
# Stops on SIGTERM/SIGINT; never changes a domain that is not named on the command line.
set -u

URI=qemu:///system
MEMINFO=
GOAL_KIB=
PERIOD=10
LOG=/dev/null
TARGETS=
ONCE=0
DECIDE=
VMS=()
# Proxmox's constants: 10 MiB deadband, 100 MiB per VM per period. Overridable only so that
# bench/test-pve-autoballoon.sh can replay Proxmox's own test cases, which count in decimal MB.
DEADBAND_KIB=${PVE_DEADBAND_KIB:-$((10 * 1024))}
MAXCHANGE_KIB=${PVE_MAXCHANGE_KIB:-$((100 * 1024))}

usage() {
	sed -n '4,7p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--uri) URI=$2; shift 2 ;;
	--meminfo) MEMINFO=$2; shift 2 ;;
	--host-goal-kib) GOAL_KIB=$2; shift 2 ;;
	--period) PERIOD=$2; shift 2 ;;
	--log) LOG=$2; shift 2 ;;
	--targets) TARGETS=$2; shift 2 ;;
	--once) ONCE=1; shift ;;
	--decide) DECIDE=$2; shift 2 ;;
	-h | --help) usage ;;
	-*) usage ;;
	*) VMS+=("$1"); shift ;;
	esac
done
if [ -z "$DECIDE" ]; then
	[ -n "$MEMINFO" ] && [ -n "$GOAL_KIB" ] && [ ${#VMS[@]} -gt 0 ] || usage
fi
case $GOAL_KIB$PERIOD in *[!0-9]*) usage ;; esac
for v in "${VMS[@]}"; do
	[[ $v =~ ^[A-Za-z0-9_.-]+:[0-9]+:[0-9]+$ ]] || {
		echo "pve-autoballoon: bad VM spec '$v' (NAME:FLOOR_KIB:SHARES)" >&2
		exit 2
	}
done

STOP=0
trap 'STOP=1' TERM INT

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# sample: "NAME actual_kib max_kib free_kib" per VM (free empty until the guest driver reports), from
# one virsh run: dommemstat (its 'actual' is current, like QMP query-balloon) and dominfo (max memory).
# virsh's echo ends without a newline, hence the "@@ NAME @@" marker at the start of a line.
sample() {
	local cmd="" v n
	for v in "${VMS[@]}"; do
		n=${v%%:*}
		cmd+="echo @@ $n @@; dommemstat $n; dominfo $n; "
	done
	timeout 20 virsh -q -c "$URI" "$cmd" 2>/dev/null |
		awk '{ if (match($0, /^@@ [^ ]+ @@/)) { n = $2; $0 = substr($0, RLENGTH + 1); seen[n] = 1 } }
			$1 == "actual" { C[n] = $2 } $1 == "unused" { F[n] = $2 }
			$1 == "Max" && $2 == "memory:" { M[n] = $3 }
			END { for (k in seen) if (k in C) print k, C[k], M[k] + 0, F[k] }'
}

# decide GOAL_KIB < "NAME actual max free floor shares" lines: "NAME NEW_KIB" for every VM to change.
decide() {
	awk -v goal="$1" -v dead="$DEADBAND_KIB" -v maxchange="$MAXCHANGE_KIB" '
	function move(list, nl, bytes,    rest, again, moved, settled, i, v, b, sh_total, alloc, desired, step, old, ch, diff) {
		rest = bytes; again = 1; moved = 1
		split("", settled)
		while (rest != 0 && again && moved) {
			again = 0; moved = 0; sh_total = 0; alloc = 0
			for (i = 1; i <= nl; i++) {
				v = list[i]
				if (v in settled) continue
				b = (v in res) ? res[v] : bal[v]
				alloc += b - mn[v]
				sh_total += sh[v]
			}
			alloc += rest
			ch = 0
			for (i = 1; i <= nl; i++) {
				v = list[i]
				if (v in settled) continue
				desired = mn[v] + int(alloc / sh_total * sh[v])
				if (desired > mx[v]) { desired = mx[v]; again = 1 }
				else if (desired < mn[v]) { desired = mn[v]; again = 1 }
				if (bytes > 0 && desired > bal[v]) {
					step = bal[v] + maxchange; if (step > desired) step = desired
				} else if (desired < bal[v]) {
					step = bal[v] - maxchange; if (step < desired) step = desired
				} else {
					settled[v] = 1
					continue
				}
				diff = step - bal[v]
				if (diff != 0) {
					old = (v in res) ? res[v] : bal[v]
					res[v] = step
					if (step != old) {
						ch += step - old
						moved += diff < 0 ? -diff : diff
						again = 1
					}
				}
			}
			rest -= ch
		}
		return rest
	}
	NF >= 6 {
		v = $1; bal[v] = $2 + 0; mx[v] = $3 + 0; fr[v] = $4; mn[v] = $5 + 0; sh[v] = $6 + 0
		if (bal[v] <= 0 || mn[v] <= 0 || sh[v] == 0) next   # no balloon, no minimum, opted out
		all[++na] = v
		# no free-memory figure ("-"), little free memory, or below the minimum: pressure list
		if (fr[v] != "-" && fr[v] + 0 > 0 && fr[v] + 0 > mn[v] * 0.25 && bal[v] >= mn[v]) roomy[++nr] = v
		else tight[++nt] = v
	}
	END {
		if (goal > dead) {
			rest = move(tight, nt, goal)
			if (rest >= goal) rest = move(all, na, rest)
		} else if (goal < -dead) {
			rest = move(roomy, nr, goal)
			if (rest <= goal) rest = move(all, na, rest)
		}
		for (i = 1; i <= na; i++) {
			v = all[i]
			if ((v in res) && res[v] != bal[v]) print v, res[v]
		}
	}'
}

# --decide: the rule alone, for tests (one period's decision on the given snapshot).
if [ -n "$DECIDE" ]; then
	[[ $DECIDE =~ ^-?[0-9]+$ ]] || usage
	decide "$DECIDE"
	exit 0
fi

declare -A TARGET
write_targets() {
	local v n
	[ -n "$TARGETS" ] || return 0
	for v in "${VMS[@]}"; do
		n=${v%%:*}
		printf '%s %s\n' "$n" "${TARGET[$n]:-0}"
	done >"$TARGETS.tmp" && mv "$TARGETS.tmp" "$TARGETS"
}

one_period() {
	local avail goal in name cur max fr spec line out new floor shares
	read -r _ avail < <(awk '$1 == "MemTotal:" { t = $2 } $1 == "MemAvailable:" { a = $2 } END { print t + 0, a + 0 }' "$MEMINFO")
	goal=$((avail - GOAL_KIB))
	in=
	while read -r name cur max fr; do
		[ -n "$name" ] || continue
		for spec in "${VMS[@]}"; do
			[ "${spec%%:*}" = "$name" ] || continue
			IFS=: read -r _ floor shares <<<"$spec"
			in+="$name ${cur:-0} ${max:-0} ${fr:--} $floor $shares"$'\n'
			[ -n "${TARGET[$name]:-}" ] || TARGET[$name]=${cur:-0}
		done
	done < <(sample)
	out=$(printf '%s' "$in" | decide "$goal")
	line="$(now_ms) goal_kib=$goal avail_kib=$avail"
	while read -r name cur max fr _; do
		[ -n "$name" ] || continue
		new=$(printf '%s\n' "$out" | awk -v n="$name" '$1 == n { print $2 }')
		line+=" $name:$cur:$fr:${new:-=}"
	done <<<"$in"
	while read -r name new; do
		[ -n "$name" ] || continue
		if timeout 20 virsh -q -c "$URI" setmem "$name" "$new" --live >/dev/null 2>&1; then
			TARGET[$name]=$new
		else
			line+=" setmem-failed:$name"
		fi
	done <<<"$out"
	printf '%s\n' "$line" >>"$LOG"
	write_targets
}

start=$(now_ms)
k=0
while [ "$STOP" = 0 ]; do
	one_period
	[ "$ONCE" = 1 ] && break
	k=$((k + 1))
	# Sleep to the next period boundary (no drift), in short pieces so SIGTERM is seen quickly.
	while [ "$STOP" = 0 ] && [ "$(now_ms)" -lt $((start + k * PERIOD * 1000)) ]; do
		sleep 0.2
	done
done
exit 0
