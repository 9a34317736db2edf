#!/bin/bash
# balloon-cost.sh - cost part of the balloon benchmark: CPU per control cycle and RSS of memoptd over N libvirt test-driver domains, plus the same split into policy and libvirt listing by tests/tools/bln-bench.
#
# Run by bench/balloon-bench.sh (or alone: B=build-dev BENCH_OUT=/tmp/x bench/balloon-cost.sh). Writes
# $BENCH_OUT/cost/results: one line per measurement, "KIND key=value ...", read by balloon-bench.sh.
#
# Environment (all optional):
#   B                    build directory with memoptd, memoptctl, tools/bln-bench     build
#   BENCH_OUT            results directory                              bench/results/balloon-<time>
#   BLN_COST_DOMAINS     test-driver domains                            1000
#   BLN_COST_CYCLES      cycles measured per run                        50
#   BLN_COST_SCENARIOS   fake-host states of the daemon runs            "room short"
#                        room:  MemAvailable 30 % of MemTotal (above the 25 % release line): every cycle
#                               spreads growth over all guests below max and makes up to
#                               max_sets_per_cycle (8) balloon changes
#                        short: MemAvailable 10 % (below the 15 % goal): every guest is judged, none can
#                               be shrunk (the test driver's statistics never advance, so they are stale)
#   BLN_COST_WARMUP      seconds between memoptd listing every domain and the measurement   3
#
# Nothing here touches the real host: memoptd reads a fake /proc and /sys (fixture_host of
# tests/integration/lib.sh) and a private in-process test:///ABS/node.xml connection; [ksm] manage = no.
# shellcheck disable=SC2034 # IT_DIR is read by lib.sh
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
BENCH_OUT=${BENCH_OUT:-$SRC/bench/results/balloon-$(date +%Y%m%d-%H%M%S)}
IT_DIR=$BENCH_OUT/cost
mkdir -p "$IT_DIR"
. "$SRC/tests/integration/lib.sh"

N=${BLN_COST_DOMAINS:-1000}
CYCLES=${BLN_COST_CYCLES:-50}
SCENARIOS=${BLN_COST_SCENARIOS:-room short}
WARMUP=${BLN_COST_WARMUP:-3}
BLN_BENCH=$IT_B/tools/bln-bench
RES=$IT_DIR/results
NODE=$IT_DIR/node-$N.xml
URI=test://$NODE

require_built "$MEMOPTD" "$MEMOPTCTL" "$BLN_BENCH"
: >"$RES"

say() { printf '  .. %s\n' "$*" >&2; }

# fake_host DIR SCENARIO: /proc and /sys of a host sized for N guests of 2 GiB (MemTotal 125 % of their
# max memory), MemAvailable as the scenario says.
fake_host() {
	local d=$1 total avail
	total=$((N * 2 * 1048576 * 5 / 4))
	case $2 in
	room) avail=$((total * 30 / 100)) ;;
	short) avail=$((total * 10 / 100)) ;;
	*)
		say "unknown scenario '$2'"
		return 1
		;;
	esac
	fixture_host "$d"
	{
		printf 'MemTotal:       %s kB\nMemFree:        %s kB\nMemAvailable:   %s kB\n' "$total" "$avail" "$avail"
		printf 'Buffers:           32000 kB\nCached:           480000 kB\nSwapTotal:             0 kB\n'
		printf 'SwapFree:              0 kB\nAnonPages:      %s kB\nShmem:             16000 kB\n' $((total - avail))
	} >"$d/proc/meminfo"
}

# --- 1. in-process probes (bln-bench) ----------------------------------------------------------------

"$SRC/bench/gen-test-node.sh" "$N" "$NODE" || exit 1
say "test-driver node with $N domains: $NODE"

for s in short room pressured band; do
	if out=$("$BLN_BENCH" decide --guests "$N" --cycles "$CYCLES" --scenario "$s" 2>&1); then
		printf '%s\n' "$out" | head -n 1 >>"$RES"
		say "$(printf '%s\n' "$out" | tail -n 1)"
	else
		say "bln-bench decide --scenario $s failed: $out"
	fi
done
if out=$("$BLN_BENCH" list --uri "$URI" --cycles "$CYCLES" 2>&1); then
	printf '%s\n' "$out" >>"$RES"
else
	say "bln-bench list failed: $out"
fi
fake_host "$IT_DIR/host-cycle" room
if out=$("$BLN_BENCH" cycle --uri "$URI" --procfs-root "$IT_DIR/host-cycle/proc" --cycles "$CYCLES" 2>"$IT_DIR/cycle.err"); then
	printf '%s\n' "$out" | head -n 1 >>"$RES"
	say "$(printf '%s\n' "$out" | tail -n 1)"
else
	say "bln-bench cycle failed: $(head -c 300 "$IT_DIR/cycle.err")"
fi

# --- 2. the real daemon ------------------------------------------------------------------------------

# status_has_all SOCK: memoptd's balloon module lists every domain.
# shellcheck disable=SC2317 # called through wait_until
status_has_all() { "$MEMOPTCTL" --socket "$1" status 2>/dev/null | grep -q "connected to .*, $N guests"; }

for s in $SCENARIOS; do
	d=$IT_DIR/daemon-$s
	mkdir -p "$d/state"
	fake_host "$d/host" "$s" || continue
	cat >"$d/memoptd.conf" <<EOF
# memoptd.conf of bench/balloon-cost.sh ($s)
[daemon]
socket = $d/memoptd.sock
state_dir = $d/state
ksmtuned_conf = none
log_level = info

[ksm]
manage = no
interval = 60s

[balloon]
manage = yes
uri = $URI
interval = 1s
EOF
	if ! "$MEMOPTD" --check-config -c "$d/memoptd.conf" >"$d/check.out" 2>&1; then
		say "memoptd refuses the benchmark config: $(head -n 3 "$d/check.out" | tr '\n' ' ')"
		continue
	fi
	t0=$(date +%s%N)
	daemon_start "daemon-$s" -c "$d/memoptd.conf" --sysfs-root "$d/host/sys" --procfs-root "$d/host/proc"
	if ! wait_socket "$d/memoptd.sock" "$DAEMON_PID" 30 || ! wait_until 60 status_has_all "$d/memoptd.sock"; then
		say "memoptd ($s) did not list $N domains within 60 s: $("$MEMOPTCTL" --socket "$d/memoptd.sock" status 2>&1 | tr '\n' ' ')"
		daemon_stop "$DAEMON_PID" TERM 10
		continue
	fi
	up_ms=$((($(date +%s%N) - t0) / 1000000))
	sleep "$WARMUP"
	say "memoptd ($s) lists $N domains after ${up_ms} ms; measuring $CYCLES cycles of 1 s"
	if out=$("$BLN_BENCH" watch --pid "$DAEMON_PID" --seconds "$CYCLES" --poll-ms 5 --gap-ms 200 \
		--bursts "$d/bursts.txt" 2>&1); then
		printf 'daemon scenario=%s domains=%s startup_ms=%s %s\n' "$s" "$N" "$up_ms" "${out#watch }" >>"$RES"
	else
		say "watching memoptd ($s) failed: $out"
	fi
	"$MEMOPTCTL" --socket "$d/memoptd.sock" status >"$d/status.txt" 2>&1
	grep -c 'balloon: bench-' "$IT_DIR/daemon-$s.log" >"$d/balloon-log-lines.txt" 2>/dev/null
	daemon_stop "$DAEMON_PID" TERM 10
done

say "results: $RES"
cat "$RES"
exit 0
