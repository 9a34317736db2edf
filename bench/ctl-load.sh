#!/bin/bash
# ctl-load.sh - control-socket load benchmark: memoptctl-style queries at full rate against memoptd running short control cycles on fixture trees; prints latency (p50/p99/max), throughput and the cycles' lateness as markdown tables.
#
#   make bench-ctl                                   # 30 s per concurrency level: 1, 8, 64 clients
#   B=build CTL_LOAD_S=10 CTL_LOAD_CLIENTS="8" bench/ctl-load.sh
#
# Nothing here touches the real host: memoptd reads a fake /proc and /sys (fixture_host of
# tests/integration/lib.sh), its balloon module talks to the in-process libvirt test driver
# (test:///default), [ksm] interval = 250 ms and [balloon] interval = 1 s so that many control cycles
# run during each load. tests/tools/sock-storm fires the queries (one connection per request, as the
# protocol has it) round robin over status, ksm, log, guests, numa, host, help, keeping N requests in
# flight for CTL_LOAD_S seconds. Before and after each level the daemon's `status` gives every cycle's
# lateness (common/loop.c): a cycle "lost" (overrun) started a whole period late.
#
# A measurement, not a test: exit 0 when it ran (test_socket_storm.sh asserts the bounds), 1 when it
# could not. Environment: B (build directory), BENCH_OUT (default bench/results/ctl-<time>),
# CTL_LOAD_S (30), CTL_LOAD_CLIENTS ("1 8 64"), CTL_LOAD_CMDS (the command list above), CTL_BENCH_LOCK
# (/run/memopt-bench.lock: while it exists another benchmark runs, whose CPU measurements this load
# would spoil, so this one waits, at most CTL_BENCH_LOCK_WAIT s, default 3600).
# shellcheck source=tests/integration/lib.sh disable=SC2034 # IT_DIR is read by lib.sh
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
export B=${B:-build}
BENCH_OUT=${BENCH_OUT:-$SRC/bench/results/ctl-$(date +%Y%m%d-%H%M%S)}
LOAD_S=${CTL_LOAD_S:-30}
LEVELS=${CTL_LOAD_CLIENTS:-1 8 64}
CMDS=${CTL_LOAD_CMDS:-status ksm log guests numa host help}
LOCK=${CTL_BENCH_LOCK:-/run/memopt-bench.lock}
LOCK_WAIT=${CTL_BENCH_LOCK_WAIT:-3600}
waited=0
while [ -e "$LOCK" ]; do
	[ $((waited % 300)) -eq 0 ] && echo "ctl-load: $LOCK exists (another benchmark runs): waiting" >&2
	if [ "$waited" -ge "$LOCK_WAIT" ]; then
		echo "ctl-load: $LOCK still there after ${waited}s; giving up" >&2
		exit 1
	fi
	sleep 10
	waited=$((waited + 10))
done
IT_DIR=$BENCH_OUT
mkdir -p "$IT_DIR"
. "$SRC/tests/integration/lib.sh"

STORM=$IT_B/tools/sock-storm
for f in "$MEMOPTD" "$MEMOPTCTL" "$STORM"; do
	[ -x "$f" ] || { echo "ctl-load: $f is not built (make first)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "ctl-load: needs jq" >&2; exit 1; }

H=$IT_DIR/host
SOCK=$IT_DIR/memoptd.sock
fixture_host "$H" 12000000
cat >"$IT_DIR/memoptd.conf" <<'EOF'
[ksm]
interval = 250ms

[balloon]
uri = test:///default
interval = 1s
EOF
daemon_start memoptd -c "$IT_DIR/memoptd.conf" --ksmtuned-conf none --sysfs-root "$H/sys" \
	--procfs-root "$H/proc" --socket "$SOCK" --state-dir "$IT_DIR/state"
if ! wait_socket "$SOCK" "$DAEMON_PID" 15; then
	echo "ctl-load: memoptd did not start (log: $IT_DIR/memoptd.log)" >&2
	exit 1
fi
sleep 2 # a few cycles before the first "before" sample

cmd_args=()
for c in $CMDS; do cmd_args+=(--cmd "$c"); done

fds() { find "/proc/$DAEMON_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
cycle() { jq -c --arg m "$2" '.loop.cycles[] | select(.name == $m)' "$1"; }

printf '# memoptd control-socket load (%s s per level, commands: %s)\n\n' "$LOAD_S" "$CMDS"
printf '%s on fixture trees, [ksm] interval 250 ms, [balloon] interval 1 s; %s CPUs; %s\n\n' \
	"$("$MEMOPTD" --version 2>/dev/null | head -n 1)" "$(nproc)" "$(uname -r)"
printf '| clients | requests | ok | errors | failed | req/s | p50 ms | p99 ms | max ms | ksm cycles (late/lost, max late ms) | balloon cycles (late/lost, max late ms) | daemon fds before/after |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|\n'
for n in $LEVELS; do
	ctl_json "$SOCK" status >"$IT_DIR/before-$n.json"
	f0=$(fds)
	"$STORM" --socket "$SOCK" --clients "$n" --duration "$LOAD_S" "${cmd_args[@]}" >"$IT_DIR/load-$n.json" \
		2>"$IT_DIR/load-$n.err" || { echo "ctl-load: sock-storm failed: $(cat "$IT_DIR/load-$n.err")" >&2; exit 1; }
	ctl_json "$SOCK" status >"$IT_DIR/after-$n.json"
	sleep 0.5
	f1=$(fds)
	cells=()
	for m in ksm balloon; do
		b=$(cycle "$IT_DIR/before-$n.json" "$m")
		a=$(cycle "$IT_DIR/after-$n.json" "$m")
		cells+=("$(jq -rn --argjson a "$a" --argjson b "$b" \
			'"\($a.fired - $b.fired) (\($a.late - $b.late)/\($a.overruns - $b.overruns), \($a.max_late_ms))"')")
	done
	jq -r --arg c1 "${cells[0]}" --arg c2 "${cells[1]}" --arg fd "$f0/$f1" \
		'"| \(.clients) | \(.requests) | \(.ok) | \(.errors) | \(.failed) | \(.throughput_rps) | \(.latency_ms.p50) | \(.latency_ms.p99) | \(.latency_ms.max) | \($c1) | \($c2) | \($fd) |"' \
		"$IT_DIR/load-$n.json"
done
printf '\nmax late ms is the worst since the daemon started (cycles before the first level included).\n'
printf 'Raw results: %s\n' "$IT_DIR"
daemon_stop "$DAEMON_PID" TERM 20
exit 0
