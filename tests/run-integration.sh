#!/bin/bash
# run-integration.sh - run every tests/integration/test_*.sh in order, each in its own temp dir; PASS/FAIL/SKIP per test and a summary.
#
#   B=build tests/run-integration.sh [test_name ...]
# A test exits 0 (pass), 77 (skip: it printed "SKIP: reason") or anything else (fail). A test may
# set its time limit on a line "# IT-TIMEOUT: SECONDS" (default 120). Exits non-zero if any failed.
# IT_KEEP=1 keeps every test's directory (daemon logs, journals); failed tests' directories are kept.
# IT_TIME_MULT=N multiplies every time limit (this runner's and the tests', see lib.sh), and
# MEMOPT_WRAP runs memoptd and memoptctl under a wrapper: make check-valgrind sets both.
set -u
cd "$(dirname "$0")/.." || exit 2
export B=${B:-build}

. tests/lib-runner.sh
runner_select tests/integration "$@"

interrupted=0
trap 'interrupted=1' INT TERM
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
	limit=$(($(runner_limit "$t" IT-TIMEOUT 120) * ${IT_TIME_MULT:-1}))
	dir=$(mktemp -d "/tmp/memopt-it-$name.XXXXXX") || exit 2
	echo "== $name"
	start=$(date +%s)
	# --foreground: the test stays in our process group, so Ctrl-C reaches it and its trap cleans up
	# (on a timeout the test gets SIGTERM and stops what it started itself). -k: the trap gets time
	# to unmerge and restore KSM before SIGKILL. The output filter ignores Ctrl-C so that the
	# cleanup's messages still have somewhere to go.
	IT_DIR=$dir timeout --foreground -k $((90 * ${IT_TIME_MULT:-1})) "$limit" bash "$t" 2>&1 </dev/null |
		(trap '' INT TERM; tee "$dir/output.txt" | sed -u 's/^/  /')
	rc=${PIPESTATUS[0]}
	# Killed by Ctrl-C or SIGTERM (not by its own time limit, that is 124): stop here.
	case $rc in 130 | 143) interrupted=1 ;; esac
	secs=$(($(date +%s) - start))
	runner_reap "$dir"
	runner_result "$name" "$rc" "$secs" "$limit" "$dir" "${IT_KEEP:-0}"
done

runner_summary integration
