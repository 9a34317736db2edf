#!/bin/bash
# run-integration.sh - run every tests/integration/test_*.sh in order, each in its own temp dir; PASS/FAIL/SKIP per test and a summary.
#
#   B=build tests/run-integration.sh [test_name ...]
# A test exits 0 (pass), 77 (skip: it printed "SKIP: reason") or anything else (fail). A test may
# set its time limit on a line "# IT-TIMEOUT: SECONDS" (default 120). Exits non-zero if any failed.
# IT_KEEP=1 keeps every test's directory (daemon logs, journals); failed tests' directories are kept.
set -u
cd "$(dirname "$0")/.." || exit 2
export B=${B:-build}

tests=()
if [ $# -gt 0 ]; then
	for t in "$@"; do
		t=${t%.sh}
		tests+=("tests/integration/${t##*/}.sh")
	done
else
	for t in tests/integration/test_*.sh; do
		[ -e "$t" ] && tests+=("$t")
	done
fi

# Kill what a test left running (if it was itself killed), but only PIDs it recorded and only if the
# PID still runs the program it started.
reap_leftovers() {
	local pidfile=$1/.pids pid exe
	[ -f "$pidfile" ] || return 0
	while read -r pid exe; do
		if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then continue; fi
		[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$exe")" ] || continue
		echo "  .. killing pid $pid ($exe) left behind by the test"
		kill -TERM "$pid" 2>/dev/null
		timeout 10 tail --pid="$pid" -s 0.1 -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	done <"$pidfile"
}

passed=0 failed=0 skipped=0 interrupted=0
failed_names=()
trap 'interrupted=1' INT TERM
for t in "${tests[@]}"; do
	if [ "$interrupted" = 1 ]; then
		echo "interrupted: not running the remaining tests"
		break
	fi
	name=$(basename "$t" .sh)
	if [ ! -f "$t" ]; then
		echo "FAIL $name: no such test $t"
		failed=$((failed + 1))
		failed_names+=("$name")
		continue
	fi
	limit=$(sed -n 's/^# IT-TIMEOUT: *\([0-9][0-9]*\).*/\1/p' "$t" | head -n 1)
	limit=${limit:-120}
	dir=$(mktemp -d "/tmp/memopt-it-$name.XXXXXX") || exit 2
	echo "== $name"
	start=$(date +%s)
	# --foreground: the test stays in our process group, so Ctrl-C reaches it and its trap cleans up
	# (on a timeout the test gets SIGTERM and stops what it started itself). -k: the trap gets time
	# to unmerge and restore KSM before SIGKILL. The output filter ignores Ctrl-C so that the
	# cleanup's messages still have somewhere to go.
	IT_DIR=$dir timeout --foreground -k 90 "$limit" bash "$t" 2>&1 </dev/null |
		(trap '' INT TERM; tee "$dir/output.txt" | sed -u 's/^/  /')
	rc=${PIPESTATUS[0]}
	# Killed by Ctrl-C or SIGTERM (not by its own time limit, that is 124): stop here.
	case $rc in 130 | 143) interrupted=1 ;; esac
	secs=$(($(date +%s) - start))
	reap_leftovers "$dir"
	case $rc in
	0)
		echo "PASS $name (${secs}s)"
		passed=$((passed + 1))
		;;
	77)
		reason=$(sed -n 's/^SKIP: //p' "$dir/output.txt" | tail -n 1)
		echo "SKIP $name: ${reason:-no reason given}"
		skipped=$((skipped + 1))
		;;
	124 | 137)
		echo "FAIL $name (timed out after ${limit}s; files kept in $dir)"
		failed=$((failed + 1))
		failed_names+=("$name")
		;;
	*)
		echo "FAIL $name (exit $rc after ${secs}s; files kept in $dir)"
		failed=$((failed + 1))
		failed_names+=("$name")
		;;
	esac
	if [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; then
		[ "${IT_KEEP:-0}" = 1 ] || rm -rf "$dir"
	fi
done

[ "$failed" -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
