#!/bin/bash
# run-cluster.sh - the cluster tier: tests/cluster/test_*.sh, each with 3 network namespaces, one real
# corosync and one memoptd per namespace. PASS/FAIL/SKIP per test and a summary line.
#
#   B=build tests/cluster/run-cluster.sh [test_name ...]
#
# Needs root, corosync, iproute2 and jq (scripts/install-deps.sh test cluster); otherwise every test is
# skipped with the reason. Time limit per test: a line "# CLUSTER-TIMEOUT: SECONDS" (default 300).
# Runs are serialised machine-wide (/run/memopt-cluster.lock). CLUSTER_KEEP=1 keeps every test's
# directory; a failed test's directory is always kept.
# Last line: "cluster: N passed, N failed, N skipped". Exit status: 0 unless a test failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
export B=${B:-build}
LOCK=${CLUSTER_LOCK:-/run/memopt-cluster.lock}

. tests/lib-runner.sh
runner_select tests/cluster "$@"

why=""
[ "$(id -u)" -eq 0 ] || why="needs root (running as uid $(id -u))"
[ -n "$why" ] || command -v corosync >/dev/null || why="corosync is not installed (scripts/install-deps.sh cluster)"
[ -n "$why" ] || command -v ip >/dev/null || why="iproute2 is not installed"
[ -n "$why" ] || command -v jq >/dev/null || why="jq is not installed (scripts/install-deps.sh test)"
[ -n "$why" ] || "$B/memoptd" --help >/dev/null 2>&1 || why="$B/memoptd is not built"
if [ -n "$why" ]; then
	for t in "${tests[@]}"; do
		echo "SKIP $(basename "$t" .sh): $why"
		skipped=$((skipped + 1))
	done
	runner_summary cluster
	exit 0
fi

exec 7>"$LOCK"
flock -w 1800 7 || {
	echo "another cluster run held $LOCK for 30 minutes"
	exit 2
}

for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	if [ ! -f "$t" ]; then
		runner_fail "$name" ": no such test"
		continue
	fi
	limit=$(runner_limit "$t" CLUSTER-TIMEOUT 300)
	dir=$(mktemp -d "/tmp/memopt-cluster-$name.XXXXXX")
	start=$(date +%s)
	# the test cleans up in its own trap; SIGTERM at the limit lets it run
	CW=$dir timeout -k 20 "$limit" bash "$t" >"$dir/output.txt" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	sed 's/^/    /' "$dir/output.txt"
	runner_result "$name" "$rc" "$secs" "$limit" "$dir" "${CLUSTER_KEEP:-0}"
done
runner_summary cluster
