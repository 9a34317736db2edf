#!/bin/bash
# cluster-bench.sh - `make bench-cluster`: the cluster-hook numbers on 3 network namespaces, each with a
# real corosync (token 1000 ms) and a memoptd on its own fixture /proc (root; scripts/install-deps.sh
# test cluster):
#   1. admission latency through the local control socket: N "admit" queries, p50/p90/p99/max
#      (target p99 <= 1 ms); also standalone (no corosync)
#   2. view propagation: host n3's fixture MemAvailable changes, time until n1's view shows it
#      (target <= 2 s), R repetitions
#   3. ordered reservations per second across 3 nodes: every node runs W workers doing admit --reserve
#      + release pairs against n1 at once; each reserve is answered only after its CPG message came
#      back in agreed order
# Env: N (admit calls, 2000), R (propagation rounds, 10), M (reservations per node, 600), W (workers per
# node, 4). Results: a table on stdout and bench/results/cluster-DATE.txt.
set -u
cd "$(dirname "$0")/.." || exit 2
export B=${B:-build}
N=${N:-2000} R=${R:-10} M=${M:-600} W=${W:-4}
[ "$(id -u)" -eq 0 ] || { echo "cluster-bench: needs root"; exit 2; }
command -v corosync >/dev/null && command -v jq >/dev/null || { echo "cluster-bench: needs corosync and jq (scripts/install-deps.sh test cluster)"; exit 2; }
AB=$(readlink -f "$B/tools/admit-bench")
[ -x "$AB" ] || { echo "cluster-bench: build first (make)"; exit 2; }
CW=$(mktemp -d /tmp/memopt-cluster-bench.XXXXXX)
export CW
. tests/cluster/lib-cluster.sh
trap 'cl_cleanup; rm -rf "$CW"' EXIT
trap 'exit 1' INT TERM
exec 7>/run/memopt-cluster.lock
flock -w 1800 7 || exit 2
mkdir -p bench/results
OUT=bench/results/cluster-$(date +%Y%m%d-%H%M%S).txt

{
echo "# memopt cluster-bench $(date -Is) on $(uname -r), $(nproc) CPUs; corosync $(corosync -v | head -1 | sed "s/.*version '\([^']*\)'.*/\1/"), token ${TOKEN} ms"
[ -e /run/memopt-bench.lock ] && echo "# note: a KSM benchmark was running at the same time (/run/memopt-bench.lock)"

# 1a. standalone latency (n1's fixture, no corosync)
CL_N=1 cl_fixture 1
sed -i -e "s/mode = corosync/mode = standalone/" "$CW/n1/memoptd.conf"
"$MEMOPTD" -f -c "$CW/n1/memoptd.conf" >"$CW/sa.log" 2>&1 &
sapid=$!
cl_wait 10 test -S "$CW/n1/sock" >/dev/null
sleep 0.5
"$AB" "$CW/n1/sock" admit 200 1G >/dev/null # warm-up
echo "admission latency, standalone: $("$AB" "$CW/n1/sock" admit "$N" 16G)"
kill -TERM "$sapid"
wait "$sapid" 2>/dev/null
rm -rf "$CW/n1"

# the cluster
cl_up
for i in 1 2 3; do cl_wait 30 cl_view_ok "$i" 3 >/dev/null || echo "# n$i did not converge"; done

# 1b. latency through n1's socket, corosync mode (answered from the local view; no CPG round trip)
"$AB" "$CW/n1/sock" admit 200 1G >/dev/null
echo "admission latency, corosync (local target): $("$AB" "$CW/n1/sock" admit "$N" 16G)"
echo "admission latency, corosync (remote target n3): $("$AB" "$CW/n1/sock" admit "$N" 16G n3)"
echo "admit --reserve latency (one CPG round trip), 1 worker on n1: $("$AB" "$CW/n1/sock" reserve 500 1M n1 lat 1 | tr '\n' ' ')"

# 2. propagation
times=()
for r in $(seq 1 "$R"); do
	g=$((24 + (r % 2) * 6)) # 30, 24, 30, ...
	want=$(((g - 1) * 1024 * 1024))
	cl_set_avail 3 "$g"
	t=$(cl_wait 10 bash -c "[ \"\$($MEMOPTCTL --socket $CW/n1/sock --json cluster | jq -r '.hosts[] | select(.name == \"n3\") | .now_kib')\" = $want ]")
	times+=("$t")
	sleep 0.3
done
printf '%s\n' "${times[@]}" | sort -n | awk -v n="$R" '{a[NR]=$1} END {printf "view propagation n3 -> n1 (%d changes): min %.2f s, median %.2f s, max %.2f s\n", n, a[1], a[int((NR+1)/2)], a[NR]}'

# 3. ordered reservations/s, all 3 nodes at once, all against n1
pids=()
t0=$(date +%s%N)
for i in 1 2 3; do
	"$AB" "$CW/n$i/sock" reserve "$M" 1M n1 "t$i" "$W" >"$CW/thr$i.txt" &
	pids+=($!)
done
wait "${pids[@]}"
ms=$((($(date +%s%N) - t0) / 1000000))
tot=0
for i in 1 2 3; do
	echo "  n$i: $(tr '\n' ' ' <"$CW/thr$i.txt")"
	y=$(sed -n 's/.*yes \([0-9]*\).*/\1/p' "$CW/thr$i.txt")
	tot=$((tot + ${y:-0}))
done
awk -v n="$tot" -v ms="$ms" -v w="$W" 'BEGIN {printf "ordered reservations across 3 nodes: %d admitted (+ as many releases) in %d ms = %.0f reservations/s (%.0f ordered messages/s), %d workers per node\n", n, ms, n * 1000 / ms, 2 * n * 1000 / ms, w}'
l=$(for i in 1 2 3; do cl_ctl "$i" --json cluster | jq -c '.reservations | length'; done | tr '\n' ' ')
echo "ledger sizes after the run (all released): $l"
} 2>&1 | tee "$OUT"
echo "saved $OUT"
