#!/bin/bash
# run-e2e.sh - run the real-guest end-to-end tests (tests/e2e/test_*.sh) one at a time, each in its own directory; PASS/FAIL/SKIP per test and a summary line.
#
#   B=build tests/e2e/run-e2e.sh [test_name ...]
#
# Needs root (otherwise every test is skipped, with the reason). A test exits 0 (pass), 77 (skip: it
# printed "SKIP: reason") or anything else (fail); its time limit is on a line "# E2E-TIMEOUT: SECONDS"
# (default 600). After each test whatever it left running is stopped: spawned processes it recorded
# (only if the PID still runs the same program), then our domains, libvirtd and virtlogd through the
# harness's PID records. Runs are serialised machine-wide with a lock, since they share libvirtd.
# E2E_KEEP=1 keeps every test's directory; a failed test's directory is always kept.
# Last line: "e2e: N passed, N failed, N skipped". Exit status: 0 unless a test failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
export B=${B:-build}
E2E_LOCK=${E2E_LOCK:-/run/memopt-e2e.lock}

. tests/lib-runner.sh
runner_select tests/e2e "$@"

if [ "$(id -u)" -ne 0 ]; then
	for t in "${tests[@]}"; do
		echo "SKIP $(basename "$t" .sh): needs root (running as uid $(id -u))"
		skipped=$((skipped + 1))
	done
	runner_summary e2e
	exit 0
fi

exec 7>"$E2E_LOCK"
if ! flock -n 7; then
	echo "== waiting for another e2e run ($E2E_LOCK)"
	flock -w 3600 7 || {
		echo "another e2e run held $E2E_LOCK for an hour"
		exit 2
	}
fi

. tests/e2e/lib-virt.sh

# Whatever an earlier, killed run left (our domains, libvirtd, /dev/kvm's mode) goes first.
virt_reap 2>&1 | sed 's/^/  /'

for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	if [ ! -f "$t" ]; then
		runner_fail "$name" ": no such test $t"
		continue
	fi
	limit=$(runner_limit "$t" E2E-TIMEOUT 600)
	dir=$(mktemp -d "/tmp/memopt-e2e-$name.XXXXXX") || exit 2
	echo "== $name"
	start=$(date +%s)
	# -k: after SIGTERM the test's trap gets time to destroy its guests and stop libvirtd.
	IT_DIR=$dir timeout -k 60 "$limit" bash "$t" 2>&1 7>&- </dev/null | tee "$dir/output.txt" | sed -u 's/^/  /'
	rc=${PIPESTATUS[0]}
	secs=$(($(date +%s) - start))
	runner_reap "$dir"
	virt_reap 2>&1 | sed 's/^/  /'
	runner_result "$name" "$rc" "$secs" "$limit" "$dir" "${E2E_KEEP:-0}"
done

runner_summary e2e
