#!/bin/bash
# run-faults.sh - the fault matrix (issue 6): run every tests/faults/test_*.sh in order, each in its own temp dir; PASS/FAIL/SKIP per test and a summary.
#
#   B=build tests/faults/run-faults.sh [test_name ...]
# Each test injects one fault (a knob that turns read-only, a read-only or full state directory, a
# corrupt journal, SIGKILL in the middle of a host apply, libvirtd or corosync killed) and checks that
# memoptd keeps serving, says what it cannot do, and leaves no host value changed without a record.
# docs/fault-matrix.md lists fault -> test -> expected -> measured. Tests run on fixture trees; the
# ones that need a real libvirtd or corosync take the e2e / cluster tier's lock. A test exits 0 (pass),
# 77 (skip, "SKIP: reason") or anything else (fail); its time limit is "# IT-TIMEOUT: SECONDS".
# IT_KEEP=1 keeps every test's directory; failed tests' directories are kept.
set -u
cd "$(dirname "$0")/../.." || exit 2
export B=${B:-build}

. tests/lib-runner.sh
runner_select tests/faults "$@"

interrupted=0
trap 'interrupted=1' INT TERM
t_all=$(date +%s)
for t in "${tests[@]}"; do
	if [ "$interrupted" = 1 ]; then
		echo "interrupted: not running the remaining tests"
		break
	fi
	name=$(basename "$t" .sh)
	if [ ! -f "$t" ]; then
		runner_fail "$name" ": no such test $t"
		continue
	fi
	limit=$(runner_limit "$t" IT-TIMEOUT 180)
	dir=$(mktemp -d "/tmp/memopt-ft-$name.XXXXXX") || exit 2
	echo "== $name"
	start=$(date +%s)
	# As in run-integration.sh: --foreground keeps Ctrl-C reaching the test, -k gives its trap time.
	IT_DIR=$dir timeout --foreground -k 90 "$limit" bash "$t" 2>&1 </dev/null |
		(trap '' INT TERM; tee "$dir/output.txt" | sed -u 's/^/  /')
	rc=${PIPESTATUS[0]}
	case $rc in 130 | 143) interrupted=1 ;; esac
	secs=$(($(date +%s) - start))
	runner_reap "$dir"
	runner_result "$name" "$rc" "$secs" "$limit" "$dir" "${IT_KEEP:-0}"
done
echo "faults: $(($(date +%s) - t_all)) s in all"
runner_summary faults
