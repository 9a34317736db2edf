# shellcheck shell=bash
# lib-runner.sh - shared by the test tier runners (run-integration.sh, faults/run-faults.sh, e2e/run-e2e.sh,
# cluster/run-cluster.sh): which tests to run, stopping what a killed test left behind, and counting
# PASS/FAIL/SKIP. Sourced, not run.

passed=0 failed=0 skipped=0
failed_names=()
tests=()

# runner_select DIR [test_name ...]: fill tests[] with DIR/test_*.sh, or the named ones.
runner_select() {
	local dir=$1 t
	shift
	tests=()
	if [ $# -gt 0 ]; then
		for t in "$@"; do
			t=${t%.sh}
			tests+=("$dir/${t##*/}.sh")
		done
	else
		for t in "$dir"/test_*.sh; do
			[ -e "$t" ] && tests+=("$t")
		done
	fi
}

# runner_limit TEST KEY DEFAULT: the test's time limit from a line "# KEY: SECONDS".
runner_limit() {
	local v
	v=$(sed -n "s/^# $2: *\\([0-9][0-9]*\\).*/\\1/p" "$1" | head -n 1)
	echo "${v:-$3}"
}

# runner_reap DIR: kill what a killed test left running, but only PIDs it recorded in DIR/.pids and only
# if the PID still runs the program it started.
runner_reap() {
	local pidfile=$1/.pids pid exe target
	[ -f "$pidfile" ] || return 0
	while read -r pid exe; do
		if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then continue; fi
		if [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" != "$(readlink -f "$exe")" ]; then
			# A MEMOPT_WRAP wrapper (lib.sh it_wrap): the process is valgrind running its target.
			target=$(sed -n 's/^# target: //p' "$exe" 2>/dev/null)
			if [ -z "$target" ] || ! tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$target"; then
				continue
			fi
		fi
		echo "  .. killing pid $pid ($exe) left behind by the test"
		kill -TERM "$pid" 2>/dev/null
		timeout 10 tail --pid="$pid" -s 0.1 -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	done <"$pidfile"
}

# runner_fail NAME MESSAGE: MESSAGE follows the name as is (": no such test", " (exit 3 ...)").
runner_fail() {
	echo "FAIL $1$2"
	failed=$((failed + 1))
	failed_names+=("$1")
}

# runner_result NAME RC SECS LIMIT DIR KEEP: count one test's exit code (0 pass, 77 skip with the reason
# it printed as "SKIP: ...", 124/137 time limit, else fail); remove DIR unless it failed or KEEP=1.
runner_result() {
	local name=$1 rc=$2 secs=$3 limit=$4 dir=$5 keep=$6 reason
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
	124 | 137) runner_fail "$name" " (timed out after ${limit}s; files kept in $dir)" ;;
	*) runner_fail "$name" " (exit $rc after ${secs}s; files kept in $dir)" ;;
	esac
	if [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; then
		[ "$keep" = 1 ] || rm -rf "$dir"
	fi
}

# runner_run_foreground PREFIX KEY DEFAULT: run every test in tests[] in order, each in its own temp dir
# /tmp/PREFIX-NAME.XXXXXX (IT_DIR), under its time limit ("# KEY: SECONDS", default DEFAULT, times
# IT_TIME_MULT), printing its output indented, then reap and count it. --foreground keeps the test in
# our process group, so Ctrl-C reaches it and its trap cleans up (on a timeout the test gets SIGTERM and
# stops what it started itself); -k gives the trap time to unmerge and restore KSM before SIGKILL; the
# output filter ignores Ctrl-C so that the cleanup's messages still have somewhere to go. A test killed
# by Ctrl-C or SIGTERM (not by its own time limit, that is 124) stops the loop. IT_KEEP=1 keeps every
# test's directory.
runner_run_foreground() {
	local prefix=$1 key=$2 def=$3 mult=${IT_TIME_MULT:-1} interrupted=0 t name limit dir start rc secs
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
		limit=$(($(runner_limit "$t" "$key" "$def") * mult))
		dir=$(mktemp -d "/tmp/$prefix-$name.XXXXXX") || exit 2
		echo "== $name"
		start=$(date +%s)
		IT_DIR=$dir timeout --foreground -k $((90 * mult)) "$limit" bash "$t" 2>&1 </dev/null |
			(trap '' INT TERM; tee "$dir/output.txt" | sed -u 's/^/  /')
		rc=${PIPESTATUS[0]}
		case $rc in 130 | 143) interrupted=1 ;; esac
		secs=$(($(date +%s) - start))
		runner_reap "$dir"
		runner_result "$name" "$rc" "$secs" "$limit" "$dir" "${IT_KEEP:-0}"
	done
	trap - INT TERM
}

# runner_summary TIER: the closing line "TIER: N passed, N failed, N skipped"; returns 1 if any failed.
runner_summary() {
	[ "$failed" -gt 0 ] && echo "failed: ${failed_names[*]}"
	echo "$1: $passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}
