#!/bin/bash
# run-valgrind.sh - the integration tests with every memoptd and memoptctl they start under valgrind memcheck; fails on any test failure and on any valgrind error (invalid access, uninitialised use, definite leak).
#
#   B=build tests/run-valgrind.sh [test_name ...]        (make check-valgrind)
# Each test runs through tests/run-integration.sh with MEMOPT_WRAP set to valgrind (one log per
# process, $VG_DIR/TEST.PID.log; a daemonized or forked child gets its own) and IT_TIME_MULT (default 10) stretching every time limit.
# Tests that write the real KSM or host knobs (they take /run/memopt-ksm-test.lock or
# /run/memopt-host.lock) run last, and only if those locks are free right now (a KSM benchmark may
# hold them for an hour); otherwise they are reported as NOT RUN and do not fail the run.
# VG_KEEP=1 keeps the logs of clean runs too. Suppressions for other projects' code: tests/valgrind.supp.
set -u
cd "$(dirname "$0")/.." || exit 2
export B=${B:-build}
export IT_TIME_MULT=${IT_TIME_MULT:-10}
if ! command -v valgrind >/dev/null 2>&1; then
	echo "run-valgrind.sh: needs valgrind (scripts/install-deps.sh valgrind)" >&2
	exit 2
fi
VG_DIR=$(mktemp -d /tmp/memopt-valgrind.XXXXXX) || exit 2
# Non-root children (test_socket_abuse runs memoptctl as uid 65534) write their logs here too.
chmod 1777 "$VG_DIR"
VG_OPTS="--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"
VG_OPTS+=" --track-fds=no --child-silent-after-fork=no --num-callers=30 --suppressions=$(pwd)/tests/valgrind.supp"

. tests/lib-runner.sh
runner_select tests/integration "$@"
plain=() locked=()
for t in "${tests[@]}"; do
	if grep -Eq '^[[:space:]]*(ksm_lock|host_lock)\b' "$t" 2>/dev/null; then locked+=("$t"); else plain+=("$t"); fi
done

# lock_free TEST: every machine-wide lock TEST takes is free at this moment.
lock_free() {
	local l
	for l in /run/memopt-ksm-test.lock /run/memopt-host.lock; do
		case $l in
		*ksm-test*) grep -Eq '^[[:space:]]*ksm_lock\b' "$1" || continue ;;
		*host*) grep -Eq '^[[:space:]]*host_lock\b' "$1" || continue ;;
		esac
		[ -e "$l" ] || continue
		flock -n "$l" true || { held=$l; return 1; }
	done
	return 0
}

tfail=0 vgfail=0 notrun=() summary=()
run_one() {
	local t=$1 name rc logs=() f n errs=0 incomplete=0 procs=0
	name=$(basename "$t" .sh)
	echo "== valgrind: $name"
	MEMOPT_WRAP="valgrind $VG_OPTS --log-file=$VG_DIR/$name.%p.log" tests/run-integration.sh "$name"
	rc=$?
	[ "$rc" -eq 0 ] || tfail=$((tfail + 1))
	for f in "$VG_DIR/$name".*.log; do
		[ -e "$f" ] || continue
		procs=$((procs + 1))
		n=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" | tail -n 1)
		if [ -z "$n" ]; then
			incomplete=$((incomplete + 1))
			logs+=("$f")
		elif [ "$n" -gt 0 ]; then
			errs=$((errs + n))
			logs+=("$f")
		else
			[ "${VG_KEEP:-0}" = 1 ] || rm -f "$f"
		fi
	done
	[ "$errs" -gt 0 ] && vgfail=$((vgfail + 1))
	for f in "${logs[@]}"; do
		if ! grep -q 'ERROR SUMMARY' "$f"; then
			echo "  -- $f: no ERROR SUMMARY: the process was SIGKILLed or exec'd another program (a hook)"
			continue
		fi
		echo "  -- $f:"
		grep -v '^==[0-9]*== \(Memcheck\|Copyright\|Using Valgrind\|Command\|Parent PID\|$\)' "$f" |
			head -n 80 | sed 's/^/     | /'
	done
	summary+=("$(printf '%-22s test %-4s  %3d processes  %3d valgrind errors%s' "$name" \
		"$([ "$rc" -eq 0 ] && echo ok || echo FAIL)" "$procs" "$errs" \
		"$([ "$incomplete" -gt 0 ] && echo ", $incomplete without a summary (killed)")")")
}

for t in "${plain[@]}"; do run_one "$t"; done
for t in "${locked[@]}"; do
	held=
	if lock_free "$t"; then
		run_one "$t"
	else
		echo "== NOT RUN $(basename "$t" .sh): $held is held (a KSM benchmark or another test)"
		notrun+=("$(basename "$t" .sh)")
	fi
done

echo "== valgrind summary (IT_TIME_MULT=$IT_TIME_MULT, logs in $VG_DIR)"
printf '%s\n' "${summary[@]}"
[ ${#notrun[@]} -gt 0 ] && echo "not run (lock held): ${notrun[*]}"
echo "valgrind: ${#summary[@]} tests run, $tfail failed, $vgfail with valgrind errors, ${#notrun[@]} not run"
[ "$tfail" -eq 0 ] && [ "$vgfail" -eq 0 ]
