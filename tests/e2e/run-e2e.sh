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

tests=()
if [ $# -gt 0 ]; then
	for t in "$@"; do
		t=${t%.sh}
		tests+=("tests/e2e/${t##*/}.sh")
	done
else
	for t in tests/e2e/test_*.sh; do
		[ -e "$t" ] && tests+=("$t")
	done
fi

passed=0 failed=0 skipped=0
failed_names=()

if [ "$(id -u)" -ne 0 ]; then
	for t in "${tests[@]}"; do
		echo "SKIP $(basename "$t" .sh): needs root (running as uid $(id -u))"
		skipped=$((skipped + 1))
	done
	echo "e2e: $passed passed, $failed failed, $skipped skipped"
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

# Processes a killed test left behind: only PIDs it recorded, only if still running that program.
reap_spawned() {
	local pidfile=$1/.pids pid exe
	[ -f "$pidfile" ] || return 0
	while read -r pid exe; do
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || continue
		[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$exe")" ] || continue
		echo "  .. killing pid $pid ($exe) left behind by the test"
		kill -TERM "$pid" 2>/dev/null
		timeout 10 tail --pid="$pid" -s 0.1 -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	done <"$pidfile"
}

# Whatever an earlier, killed run left (our domains, libvirtd, /dev/kvm's mode) goes first.
virt_reap 2>&1 | sed 's/^/  /'

for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	if [ ! -f "$t" ]; then
		echo "FAIL $name: no such test $t"
		failed=$((failed + 1))
		failed_names+=("$name")
		continue
	fi
	limit=$(sed -n 's/^# E2E-TIMEOUT: *\([0-9][0-9]*\).*/\1/p' "$t" | head -n 1)
	limit=${limit:-600}
	dir=$(mktemp -d "/tmp/memopt-e2e-$name.XXXXXX") || exit 2
	echo "== $name"
	start=$(date +%s)
	# -k: after SIGTERM the test's trap gets time to destroy its guests and stop libvirtd.
	IT_DIR=$dir timeout -k 60 "$limit" bash "$t" 2>&1 7>&- </dev/null | tee "$dir/output.txt" | sed -u 's/^/  /'
	rc=${PIPESTATUS[0]}
	secs=$(($(date +%s) - start))
	reap_spawned "$dir"
	virt_reap 2>&1 | sed 's/^/  /'
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
		[ "${E2E_KEEP:-0}" = 1 ] || rm -rf "$dir"
	fi
done

[ "$failed" -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "e2e: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
