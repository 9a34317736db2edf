#!/bin/bash
# balloon-bench.sh - issue 3's balloon benchmark: cost of one control cycle over 1000 test-driver domains, and reaction on real TCG guests side by side with a re-implementation of Proxmox's auto-ballooning rule; prints markdown tables and the target ratios.
#
#   B=build-dev bench/balloon-bench.sh                       # both parts (~2 min cost + ~13 min reaction)
#   B=build-dev BLN_BENCH_PARTS=cost BLN_COST_DOMAINS=100 BLN_COST_CYCLES=10 bench/balloon-bench.sh
#   B=build-dev BENCH_OUT=DIR BLN_BENCH_PARTS=report bench/balloon-bench.sh   # tables of an earlier run
#
# Method, options and how to read the output: bench/balloon-README.md. The parts are
# bench/balloon-cost.sh and bench/balloon-reaction.sh; each writes key=value result lines that this
# script turns into the tables. A measurement, not a test: nothing fails when a target is missed (exit 0
# when the parts ran, 1 when a part could not run).
#
# Environment: B (build directory, default build), BENCH_OUT (default bench/results/balloon-<time>),
# BLN_BENCH_PARTS ("cost reaction"; "report" only prints), BLN_BENCH_LOCK (/run/memopt-bench.lock: while
# it exists another benchmark runs and this one waits, at most BLN_BENCH_LOCK_WAIT s, default 3600),
# and the variables of the two parts (see their headers).
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
export B=${B:-build}
export BENCH_OUT=${BENCH_OUT:-$SRC/bench/results/balloon-$(date +%Y%m%d-%H%M%S)}
PARTS=${BLN_BENCH_PARTS:-cost reaction}
LOCK=${BLN_BENCH_LOCK:-/run/memopt-bench.lock}
LOCK_WAIT=${BLN_BENCH_LOCK_WAIT:-3600}
COST=$BENCH_OUT/cost/results
REACT=$BENCH_OUT/reaction/results
TARGET_CYCLE_MS=20
TARGET_RSS_MIB=16
TARGET_RATIO=3
mkdir -p "$BENCH_OUT"

say() { printf '== %s\n' "$*" >&2; }

wait_lock() {
	local waited=0
	while [ -e "$LOCK" ]; do
		[ $((waited % 300)) -eq 0 ] && say "$LOCK exists (another benchmark runs): waiting (${waited}s so far)"
		if [ "$waited" -ge "$LOCK_WAIT" ]; then
			say "$LOCK still there after ${waited}s; giving up"
			return 1
		fi
		sleep 10
		waited=$((waited + 10))
	done
}

rc=0
for p in $PARTS; do
	case $p in
	cost | reaction)
		wait_lock || exit 1
		say "part $p (results in $BENCH_OUT/$p)"
		"$SRC/bench/balloon-$p.sh" 2>&1 | tee "$BENCH_OUT/$p.log" | sed 's/^/   /' >&2
		[ "${PIPESTATUS[0]}" -eq 0 ] || {
			say "part $p exited with status ${PIPESTATUS[0]}"
			rc=1
		}
		;;
	report) ;;
	*) say "unknown part '$p' (cost, reaction, report)" ;;
	esac
done

# --- report ------------------------------------------------------------------------------------------

# val FILE PATTERN KEY: KEY's value on the first line of FILE matching the regex PATTERN ("" if none).
val() {
	[ -f "$1" ] || return 0
	awk -v pat="$2" -v k="$3" '$0 ~ pat { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2); exit } }' "$1"
}
mib() { awk -v k="$1" 'BEGIN { if (k == "") print "n/a"; else printf "%.1f", k / 1024 }'; }
# ratio A B: A / B with 1 decimal, "n/a" when either is missing or B is 0.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.1f", a / b }'; }
# tratio PROXMOX_S MEMOPTD_S WINDOW_S: time ratio; when the baseline never got there within the window,
# the window gives a lower bound (">X"); when memoptd did not either, "n/a".
tratio() {
	if [ -z "$1" ] || [ "$1" = n/a ]; then
		if [ -n "$2" ] && [ "$2" != n/a ] && [ -n "$3" ] && [ "$3" != n/a ]; then
			printf '>%s' "$(ratio "$3" "$2")"
		else
			printf 'n/a'
		fi
	else
		ratio "$1" "$2"
	fi
}
# meets VALUE OP LIMIT: "yes"/"no"/"n/a".
meets() { awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN { sub(/^>/, "", v); if (v == "" || v == "n/a") print "n/a"; else if (op == "<=") print (v + 0 <= l + 0 ? "yes" : "no"); else print (v + 0 >= l + 0 ? "yes" : "no") }'; }
or_na() { if [ -n "$1" ]; then printf '%s' "$1"; else printf 'n/a'; fi; }

echo
echo "# Balloon benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(uname -r), $(nproc) CPUs; results in $BENCH_OUT)"

if [ -s "$COST" ]; then
	n=$(val "$COST" '^list ' domains)
	echo
	echo "## Cost: one balloon control cycle over $(or_na "$n") domains (libvirt test driver, CPU time per cycle)"
	echo
	echo "| what is measured | includes the test driver? | cycles | p50 ms | p99 ms | max ms | mean ms | p99 <= ${TARGET_CYCLE_MS} ms |"
	echo "|---|---|---|---|---|---|---|---|"
	for s in room short; do
		line="^daemon scenario=$s "
		[ -n "$(val "$COST" "$line" bursts)" ] || continue
		p99=$(val "$COST" "$line" burst_p99_ms)
		printf '| memoptd daemon, fake host %s: one cycle = one CPU burst (schedstat) | yes (in-process test:///) | %s | %s | %s | %s | %s | %s |\n' \
			"$s" "$(val "$COST" "$line" bursts)" "$(val "$COST" "$line" burst_p50_ms)" "$p99" \
			"$(val "$COST" "$line" burst_max_ms)" "$(val "$COST" "$line" burst_mean_ms)" "$(meets "$p99" '<=' "$TARGET_CYCLE_MS")"
		cyc=$(val "$COST" "$line" seconds)
		st=$(val "$COST" "$line" stat_cpu_ms)
		printf '| memoptd daemon, fake host %s: utime+stime / cycles (/proc/PID/stat, 10 ms ticks) | yes | %s | | | | %s | %s |\n' \
			"$s" "$cyc" "$(ratio "$st" "$cyc")" "$(meets "$(ratio "$st" "$cyc")" '<=' "$TARGET_CYCLE_MS")"
	done
	line='^cycle '
	if [ -n "$(val "$COST" "$line" cycles)" ]; then
		p99=$(val "$COST" "$line" p99_ms)
		printf '| bln_cycle() in bln-bench (same code, no daemon around it; %s sets/cycle) | yes | %s | %s | %s | %s | %s | %s |\n' \
			"$(val "$COST" "$line" sets_per_cycle)" "$(val "$COST" "$line" cycles)" "$(val "$COST" "$line" p50_ms)" "$p99" \
			"$(val "$COST" "$line" max_ms)" "$(val "$COST" "$line" mean_ms)" "$(meets "$p99" '<=' "$TARGET_CYCLE_MS")"
	fi
	line='^list '
	if [ -n "$(val "$COST" "$line" cycles)" ]; then
		printf '| bvirt_list(): listing + memory stats of every domain (cached facts; first, uncached: %s ms) | yes: this row is mostly the test driver | %s | %s | %s | %s | %s | |\n' \
			"$(val "$COST" "$line" first_ms)" "$(val "$COST" "$line" cycles)" "$(val "$COST" "$line" p50_ms)" \
			"$(val "$COST" "$line" p99_ms)" "$(val "$COST" "$line" max_ms)" "$(val "$COST" "$line" mean_ms)"
	fi
	for s in short pressured room band; do
		line="^decide scenario=$s "
		[ -n "$(val "$COST" "$line" cycles)" ] || continue
		p99=$(val "$COST" "$line" p99_ms)
		printf '| bln_decide() alone, %s synthetic guests, host %s (%s changes/cycle) | no | %s | %s | %s | %s | %s | %s |\n' \
			"$(val "$COST" "$line" guests)" "$s" "$(val "$COST" "$line" changes_per_cycle)" "$(val "$COST" "$line" cycles)" \
			"$(val "$COST" "$line" p50_ms)" "$p99" "$(val "$COST" "$line" max_ms)" "$(val "$COST" "$line" mean_ms)" \
			"$(meets "$p99" '<=' "$TARGET_CYCLE_MS")"
	done
	echo
	echo "## Cost: memory"
	echo
	echo "| process | VmRSS MiB | RssAnon MiB | RssFile MiB (shared libraries) | PSS MiB | VmRSS <= ${TARGET_RSS_MIB} MiB |"
	echo "|---|---|---|---|---|---|"
	for s in room short; do
		line="^daemon scenario=$s "
		r=$(val "$COST" "$line" rss_kib)
		[ -n "$r" ] || continue
		printf '| memoptd after %s cycles, fake host %s (test driver in-process) | %s | %s | %s | %s | %s |\n' \
			"$(val "$COST" "$line" seconds)" "$s" "$(mib "$r")" "$(mib "$(val "$COST" "$line" anon_kib)")" \
			"$(mib "$(val "$COST" "$line" file_kib)")" "$(mib "$(val "$COST" "$line" pss_kib)")" \
			"$(meets "$(mib "$r")" '<=' "$TARGET_RSS_MIB")"
	done
	line='^list '
	a0=$(val "$COST" "$line" anon_start_kib)
	ac=$(val "$COST" "$line" anon_connected_kib)
	line='^cycle '
	c0=$(val "$COST" "$line" anon_connected_kib)
	ce=$(val "$COST" "$line" anon_end_kib)
	if [ -n "$a0" ] && [ -n "$ac" ]; then
		printf '| of which the test driver'"'"'s own state (bln-bench: RssAnon after connecting - before) | | %s | | | |\n' "$(mib $((ac - a0)))"
	fi
	if [ -n "$c0" ] && [ -n "$ce" ]; then
		printf '| of which memopt'"'"'s own per-domain state (bln-bench: RssAnon after the cycles - after connecting) | | %s | | | |\n' "$(mib $((ce - c0)))"
	fi
	r=$(val "$COST" '^daemon scenario=room ' rss_kib)
	if [ -n "$r" ] && [ -n "$a0" ] && [ -n "$ac" ]; then
		e=$((r - (ac - a0)))
		printf '| memoptd (room) without the test driver'"'"'s state: VmRSS - that state (estimate for a qemu:/// host) | %s | | | | %s |\n' \
			"$(mib "$e")" "$(meets "$(mib "$e")" '<=' "$TARGET_RSS_MIB")"
	fi
fi

if [ -s "$REACT" ]; then
	echo
	echo "## Reaction on 2 real TCG guests (simulated host shared by both controllers)"
	echo
	echo "Proxmox = bench/pve-autoballoon.sh, a re-implementation of Proxmox VE's published rule (100 MiB per VM per 10 s, shares split, MemFree-based pressure list), aimed at memoptd's host goal; not Proxmox's code."
	echo
	echo "| scenario | measure | memoptd | Proxmox rule | Proxmox / memoptd | memoptd >= ${TARGET_RATIO}x faster |"
	echo "|---|---|---|---|---|---|"
	h='scenario=host '
	m=$(val "$REACT" "controller=memoptd $h" done_s)
	x=$(val "$REACT" "controller=proxmox $h" done_s)
	r=$(tratio "$x" "$m" "$(val "$REACT" "controller=proxmox $h" window_s)")
	printf '| (a) host %s MiB below its goal | reclaim done: gap closed and every actual at its target (s) | %s | %s | %s | %s |\n' \
		"$(or_na "$(val "$REACT" "$h" gap_mib)")" "$(or_na "$m")" "$(or_na "$x")" "$r" "$(meets "$r" '>=' "$TARGET_RATIO")"
	for k in gap_closed_s overshoot_mib a_final_mib b_final_mib floors_ok swap_in_kib oom_whole_run; do
		printf '| (a) | %s | %s | %s | | |\n' "$k" "$(or_na "$(val "$REACT" "controller=memoptd $h" "$k")")" \
			"$(or_na "$(val "$REACT" "controller=proxmox $h" "$k")")"
	done
	for sc in guest-short guest-room; do
		g="scenario=$sc "
		case $sc in
		guest-short) label="(b1) workload in B, host kept at its goal" ;;
		*) label="(b2) workload in A, host gains room at that moment" ;;
		esac
		w=$(val "$REACT" "controller=proxmox $g" window_s)
		m=$(val "$REACT" "controller=memoptd $g" returned_s)
		x=$(val "$REACT" "controller=proxmox $g" returned_s)
		r=$(tratio "$x" "$m" "$w")
		printf '| %s | memory returned, from workload start (s) | %s | %s | %s | %s |\n' "$label" "$(or_na "$m")" "$(or_na "$x")" "$r" "$(meets "$r" '>=' "$TARGET_RATIO")"
		m=$(val "$REACT" "controller=memoptd $g" onset_to_returned_s)
		x=$(val "$REACT" "controller=proxmox $g" onset_to_returned_s)
		r=$(ratio "$x" "$m")
		[ "$x" = n/a ] && [ "$(val "$REACT" "controller=proxmox $g" returned_s)" = n/a ] && r=$(tratio "" "$m" "$w")
		printf '| %s | memory returned, from pressure onset (MemAvailable < 128 MiB) (s) | %s | %s | %s | %s |\n' "$label" "$(or_na "$m")" "$(or_na "$x")" "$r" "$(meets "$r" '>=' "$TARGET_RATIO")"
		for k in actual_start_mib min_usable_mib min_actual_mib swap_in_kib oom; do
			printf '| %s | %s | %s | %s | | |\n' "$label" "$k" "$(or_na "$(val "$REACT" "controller=memoptd $g" "$k")")" \
				"$(or_na "$(val "$REACT" "controller=proxmox $g" "$k")")"
		done
	done
	echo
	echo "n/a in a time column: not reached before the scenario's window closed; a ratio \">X\" is then a lower bound (window / memoptd's time). See bench/balloon-README.md."
fi
[ -s "$COST" ] || [ -s "$REACT" ] || echo "(no results in $BENCH_OUT)"
exit "$rc"
