# lib.sh - shared helpers of the integration tests: daemon start/stop by PID, bounded waits, KSM snapshot/restore, assertions.
#
# Sourced by tests/integration/test_*.sh, which tests/run-integration.sh runs one at a time, each in a
# fresh directory ($IT_DIR) with B set to the build directory. A test may also be run by hand:
#   B=build bash tests/integration/test_sighup.sh
# Exit status of a test: 0 passed, 1 failed, 77 skipped (the reason is on the line "SKIP: ...").
#
# Rules every test keeps: it kills only the PIDs it started (it_spawn records them); every wait is
# bounded; a test that writes the real /sys/kernel/mm/ksm holds $IT_KSM_LOCK and calls ksm_snapshot
# first, so the EXIT/INT/TERM trap unmerges and writes every original knob back, even on failure; a
# test that writes other host-global knobs (/proc/sys, THP, hugepage pools) holds $IT_HOST_LOCK and
# calls host_snapshot first, so the trap undoes its bind mounts and writes those knobs back.

# shellcheck disable=SC2034,SC2016 # variables for the tests; perl code in single quotes
set -u

IT_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IT_B=${B:-build}
case $IT_B in /*) ;; *) IT_B=$IT_SRC/$IT_B ;; esac
MEMOPTD=$IT_B/memoptd
MEMOPTCTL=$IT_B/memoptctl
KSM_WORKLOAD=$IT_B/tools/ksm-workload
IT_KSM_SYSFS=/sys/kernel/mm/ksm
IT_KSM_LOCK=/run/memopt-ksm-test.lock
IT_SKIP=77

if [ -z "${IT_DIR:-}" ]; then
	IT_DIR=$(mktemp -d /tmp/memopt-it.XXXXXX) || exit 1
	IT_DIR_OWNED=1
fi
IT_NAME=$(basename "$0" .sh)

# MEMOPT_WRAP: a command line put in front of every memoptd and memoptctl run through $MEMOPTD and
# $MEMOPTCTL (make check-valgrind: "valgrind --error-exitcode=99 ..."). Each becomes a small script
# in $IT_DIR that execs the wrapper, so the tests keep using "$MEMOPTD" as one word and the PID a
# test records is the wrapped program's. IT_TIME_MULT: a whole number that multiplies every time
# limit of the tests for a slow wrapper (valgrind is ~20x slower): timeout(1) (a function below),
# wait_until, wait_socket, daemon_stop and the runner's IT-TIMEOUT.
IT_TIME_MULT=${IT_TIME_MULT:-1}
case $IT_TIME_MULT in '' | *[!0-9]* | 0) echo "lib.sh: IT_TIME_MULT must be a whole number >= 1" >&2; exit 1 ;; esac
it_wrap() {
	local prog=$1 w=$IT_DIR/.wrap/$1
	mkdir -p "$IT_DIR/.wrap"
	# The "# target:" line tells pid_runs and the runner's reaper which program runs under the wrapper.
	printf '#!/bin/sh\n# %s under MEMOPT_WRAP (tests/integration/lib.sh)\n# target: %s\nexec %s %q "$@"\n' \
		"$prog" "$IT_B/$prog" "${MEMOPT_WRAP//$'\n'/ }" "$IT_B/$prog" >"$w"
	chmod 755 "$IT_DIR/.wrap" "$w"
	printf '%s\n' "$w"
}
if [ -n "${MEMOPT_WRAP:-}" ]; then
	MEMOPTD=$(it_wrap memoptd)
	MEMOPTCTL=$(it_wrap memoptctl)
fi

# it_scale DURATION: DURATION (timeout(1) syntax: 5, 0.5, 10s, 2m) times IT_TIME_MULT, same unit.
it_scale() {
	awk -v d="$1" -v m="$IT_TIME_MULT" 'BEGIN {
		if (match(d, /^[0-9]*\.?[0-9]+/)) { printf "%g%s\n", substr(d, 1, RLENGTH) * m, substr(d, RLENGTH + 1) }
		else print d }'
}

# timeout [OPTIONS] DURATION CMD...: coreutils timeout with DURATION and -k scaled by IT_TIME_MULT.
# As a function it covers every "timeout N ..." a test runs itself or through check_rc.
if [ "$IT_TIME_MULT" != 1 ]; then
	timeout() {
		local a=()
		while [ $# -gt 0 ]; do
			case $1 in
			-k | --kill-after) a+=("$1" "$(it_scale "$2")"); shift 2 ;;
			--kill-after=*) a+=("--kill-after=$(it_scale "${1#*=}")"); shift ;;
			-s | --signal) a+=("$1" "$2"); shift 2 ;;
			-*) a+=("$1"); shift ;;
			*) break ;;
			esac
		done
		[ $# -gt 0 ] && { a+=("$(it_scale "$1")"); shift; }
		command timeout "${a[@]}" "$@"
	}
fi
IT_PASSED=0
IT_FAILED=0
IT_SUBSKIPPED=0
IT_PIDS=()                      # every process this test started, killed on exit
IT_KSM_SNAPSHOT=                # file with the original KSM knobs once ksm_snapshot ran
IT_CLEANED=0

# --- reporting ---------------------------------------------------------------------------------------

note() { printf '  .. %s\n' "$*"; }
pass() { IT_PASSED=$((IT_PASSED + 1)); printf '  PASS %s\n' "$*"; }
fail() { IT_FAILED=$((IT_FAILED + 1)); printf '  FAIL %s\n' "$*"; }

# A check inside a test that cannot run here; the test as a whole still passes or fails on the rest.
subskip() { IT_SUBSKIPPED=$((IT_SUBSKIPPED + 1)); printf '  SKIP %s\n' "$*"; }

# The whole test cannot run here.
skip() {
	printf 'SKIP: %s\n' "$*"
	exit "$IT_SKIP"
}

# check DESC CMD...: pass when CMD succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; return 1; fi
}

# check_eq DESC EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1 (expected '$2', got '$3')"
		return 1
	fi
}

# check_rc DESC EXPECTED_RC CMD...: run CMD (output to $IT_DIR/last.out/.err) and compare its exit code.
check_rc() {
	local desc=$1 want=$2 rc=0
	shift 2
	"$@" >"$IT_DIR/last.out" 2>"$IT_DIR/last.err" || rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass "$desc"
	else
		fail "$desc (exit $rc, expected $want)"
		sed 's/^/       | /' "$IT_DIR/last.out" "$IT_DIR/last.err" | head -n 20
		return 1
	fi
}

# check_grep DESC FILE ERE: FILE contains a line matching ERE.
check_grep() {
	if grep -Eq -- "$3" "$2" 2>/dev/null; then
		pass "$1"
	else
		fail "$1 (no line matching '$3' in $(basename "$2"))"
		[ -f "$2" ] && tail -n 15 "$2" | sed 's/^/       | /'
		return 1
	fi
}

check_no_grep() {
	if ! grep -Eq -- "$3" "$2" 2>/dev/null; then
		pass "$1"
	else
		fail "$1 (unexpected line matching '$3' in $(basename "$2"))"
		grep -E -- "$3" "$2" | head -n 5 | sed 's/^/       | /'
		return 1
	fi
}

# Print the test's summary and exit 0 (all checks passed) or 1. The EXIT trap then cleans up.
finish() {
	printf '  %s: %d checks passed, %d failed, %d skipped\n' "$IT_NAME" "$IT_PASSED" "$IT_FAILED" \
		"$IT_SUBSKIPPED"
	if [ "$IT_FAILED" -gt 0 ]; then
		exit 1
	fi
	if [ "$IT_PASSED" -eq 0 ]; then
		printf '  %s: no check ran\n' "$IT_NAME"
		exit 1
	fi
	exit 0
}

# --- requirements ------------------------------------------------------------------------------------

require_root() { [ "$(id -u)" -eq 0 ] || skip "needs root (running as uid $(id -u))"; }

require_ksm() {
	[ -d "$IT_KSM_SYSFS" ] || skip "needs $IT_KSM_SYSFS (kernel without CONFIG_KSM?)"
	[ -f "$IT_KSM_SYSFS/run" ] || skip "$IT_KSM_SYSFS/run is missing"
}

# require_cmd CMD...: skip unless every CMD is installed (scripts/install-deps.sh test installs them).
require_cmd() {
	local c pkg
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 && continue
		case $c in setpriv | flock) pkg=util-linux ;; perl) pkg=perl-base ;; capsh) pkg=libcap2-bin ;; *) pkg=$c ;; esac
		skip "needs the command '$c' (Debian package $pkg)"
	done
}

# require_built FILE...: the programs under test must exist; a missing one is a failure, not a skip.
require_built() {
	local f
	for f in "$@"; do
		if [ ! -x "$f" ]; then
			fail "$f is not built (run make first)"
			exit 1
		fi
	done
}

# --- bounded waiting ---------------------------------------------------------------------------------

# wait_until SECS CMD...: poll CMD every 0.1 s until it succeeds (0) or SECS (times IT_TIME_MULT)
# pass (1).
wait_until() {
	local secs=$(($1 * IT_TIME_MULT)) deadline
	shift
	deadline=$(($(date +%s%N) / 1000000 + secs * 1000))
	while :; do
		if "$@"; then
			return 0
		fi
		if [ "$(($(date +%s%N) / 1000000))" -ge "$deadline" ]; then
			return 1
		fi
		sleep 0.1
	done
}

# --- processes ---------------------------------------------------------------------------------------

# it_spawn LOGFILE CMD...: start CMD in the background (stdout+stderr to LOGFILE, stdin from
# /dev/null, without the KSM lock's fd), record its PID, set IT_LAST_PID.
it_spawn() {
	local log=$1
	shift
	"$@" </dev/null >"$log" 2>&1 9>&- &
	IT_LAST_PID=$!
	IT_PIDS+=("$IT_LAST_PID")
	# Let the runner kill what a test killed by SIGKILL left behind.
	printf '%s %s\n' "$IT_LAST_PID" "$1" >>"$IT_DIR/.pids"
}

pid_alive() { kill -0 "$1" 2>/dev/null; }

# pid_runs PID PROG: PID executes PROG ($MEMOPTD, ...): its /proc/PID/exe, or under MEMOPT_WRAP the
# wrapped program named on its command line (the exe is then valgrind's).
pid_runs() {
	local exe target
	exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
	[ "$exe" = "$(readlink -f "$2")" ] && return 0
	target=$(sed -n 's/^# target: //p' "$2" 2>/dev/null)
	[ -n "$target" ] && tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qxF -- "$target"
}
pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# it_reap PID SECS: wait at most SECS for PID (one of ours) to exit; sets IT_RC to its exit status,
# "timeout" if it is still running. Returns 0 if it exited.
it_reap() {
	local pid=$1 secs=$2 rc=0
	IT_RC=timeout
	# stderr off: bash would report "Killed" for a process we killed on purpose.
	{
		if ! timeout "$secs" tail --pid="$pid" -s 0.1 -f /dev/null; then
			pid_gone "$pid" || return 1
		fi
		wait "$pid" || rc=$?
	} 2>/dev/null
	IT_RC=$rc
	return 0
}

# it_kill PID SIGNAL SECS: signal one of our processes and reap it (IT_RC as in it_reap).
it_kill() {
	kill -"$2" "$1" 2>/dev/null
	it_reap "$1" "$3"
}

# daemon_start NAME ARGS...: start memoptd in the foreground with ARGS; its log is $IT_DIR/NAME.log.
# Sets DAEMON_PID. Does not wait for the socket (see wait_socket).
daemon_start() {
	local name=$1
	shift
	it_spawn "$IT_DIR/$name.log" "$MEMOPTD" --foreground "$@"
	DAEMON_PID=$IT_LAST_PID
}

# ctl_up SOCKET: the daemon at SOCKET answers `memoptctl status`.
ctl_up() { "$MEMOPTCTL" --socket "$1" status >/dev/null 2>&1; }

# wait_socket SOCKET PID [SECS]: wait until the daemon PID answers on SOCKET (SECS times IT_TIME_MULT).
# Fails early if it died.
wait_socket() {
	local sock=$1 pid=$2 secs=$((${3:-15} * IT_TIME_MULT)) deadline
	deadline=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		if [ -S "$sock" ] && ctl_up "$sock"; then
			return 0
		fi
		pid_alive "$pid" || return 1
		sleep 0.1
	done
	return 1
}

# daemon_stop PID [SIGNAL] [SECS]: stop a daemon we started; IT_RC holds its exit status.
daemon_stop() {
	local pid=$1 sig=${2:-TERM} secs=${3:-20}
	if it_kill "$pid" "$sig" "$secs"; then
		return 0
	fi
	note "pid $pid did not stop within ${secs}s after SIG$sig, killing it"
	it_kill "$pid" KILL 5
	IT_RC=timeout
	return 1
}

# --- JSON --------------------------------------------------------------------------------------------

# The result object of a `memoptctl --json` reply, whether the CLI prints the bare result or the whole
# protocol reply.
IT_JQ_RESULT='if type == "object" and has("ok") and has("v") then .result else . end'

# jqt [JQ ARGS...] FILTER FILE: true when FILTER yields true (jq -e), printing nothing.
jqt() {
	# An empty FILE (a command that answered nothing) is false; jq -e takes empty input as true.
	[ -s "${!#}" ] || return 1
	jq -e "$@" >/dev/null 2>&1
}

# ctl_json SOCKET VERB [ARGS...]: print the result of `memoptctl --json VERB`, exit status of memoptctl.
ctl_json() {
	local sock=$1 out rc=0
	shift
	out=$("$MEMOPTCTL" --socket "$sock" --json "$@" 2>"$IT_DIR/ctl.err") || rc=$?
	[ "$rc" -eq 0 ] || return "$rc"
	printf '%s\n' "$out" | jq -c "$IT_JQ_RESULT"
}

# raw_call SOCKET FILE: send FILE's bytes as they are to a control socket, half-close, print the reply
# (5 s limit). Unlike socat it keeps reading after the daemon stops accepting input (EPIPE), so the
# reply to an oversized request is seen. perl-base is Essential on Debian.
raw_call() {
	timeout 10 perl -e '
		use strict; use warnings; use IO::Socket::UNIX; use Socket qw(SOCK_STREAM SHUT_WR);
		$SIG{PIPE} = "IGNORE";
		my ($path, $file) = @ARGV;
		my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path) or die "connect $path: $!\n";
		open(my $fh, "<:raw", $file) or die "$file: $!\n";
		my $data = do { local $/; <$fh> } // "";
		my ($off, $all) = (0, 1);
		while ($off < length $data) {
			my $n = syswrite($s, $data, 65536, $off);
			if (!defined $n) { $all = 0; last; }
			$off += $n;
		}
		shutdown($s, SHUT_WR) if $all;
		alarm 5;
		my ($reply, $buf) = ("", "");
		while (1) { my $n = sysread($s, $buf, 65536); last if !defined $n || $n == 0; $reply .= $buf; }
		print $reply;' "$1" "$2"
}

# --- fixture trees -----------------------------------------------------------------------------------

# fixture_host DEST [AVAIL_KIB]: a fake host under DEST: sys/kernel/mm/ksm with every knob and counter
# of a 6.x kernel (ksmd stopped, kernel defaults), and proc/{meminfo,vmstat,pressure/memory} of a
# 16 GiB host with AVAIL_KIB available (default 1000 MiB: below the default start_avail of 20%, so
# memoptd starts merging). Generated, so every test gets a private tree that matches these tests.
fixture_host() {
	local d=$1 avail=${2:-1024000} k=$1/sys/kernel/mm/ksm kv
	mkdir -p "$k" "$d/proc/pressure"
	for kv in run=0 pages_to_scan=100 sleep_millisecs=20 merge_across_nodes=1 max_page_sharing=256 \
		stable_node_chains_prune_millisecs=2000 use_zero_pages=0 smart_scan=1 advisor_max_cpu=70 \
		advisor_min_pages_to_scan=500 advisor_max_pages_to_scan=30000 advisor_target_scan_time=200 \
		pages_shared=0 pages_sharing=0 pages_unshared=0 pages_volatile=0 pages_scanned=0 \
		pages_skipped=0 full_scans=0 general_profit=0 ksm_zero_pages=0 stable_node_chains=0 \
		stable_node_dups=0; do
		printf '%s\n' "${kv#*=}" >"$k/${kv%%=*}"
	done
	printf '[none] scan-time\n' >"$k/advisor_mode"
	fixture_set_avail "$d" "$avail"
	printf 'nr_free_pages 128000\npgfault 5230987\npgmajfault 7123\npswpin 0\npswpout 0\ncow_ksm 0\n' \
		>"$d/proc/vmstat"
	printf 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n' \
		>"$d/proc/pressure/memory"
}

# fixture_set_avail DIR AVAIL_KIB: rewrite the fake meminfo (atomically) with AVAIL_KIB available.
fixture_set_avail() {
	{
		printf 'MemTotal:       16384000 kB\n'
		printf 'MemFree:        %s kB\n' "$(($2 / 2))"
		printf 'MemAvailable:   %s kB\n' "$2"
		printf 'Buffers:           32000 kB\nCached:           480000 kB\nSwapCached:            0 kB\n'
		printf 'Active:         12000000 kB\nInactive:        2000000 kB\nSwapTotal:             0 kB\n'
		printf 'SwapFree:              0 kB\nAnonPages:      14000000 kB\nShmem:             16000 kB\n'
	} >"$1/proc/meminfo.tmp"
	mv "$1/proc/meminfo.tmp" "$1/proc/meminfo"
}

# knob_values DIR: "name=value" of every file in DIR (trailing newline dropped, advisor_mode reduced to
# the selected word), sorted; the form the daemon's writes and restores are compared in.
knob_values() {
	local f v
	for f in "$1"/*; do
		[ -f "$f" ] || continue
		v=$(cat "$f" 2>/dev/null) || v="<unreadable>"
		case $v in *\[*\]*) v=${v#*[}; v=${v%%]*} ;; esac
		printf '%s=%s\n' "$(basename "$f")" "$v"
	done | sort
}

# journal_count STATE_DIR: number of entries in originals.json (0 when the file is absent).
journal_count() {
	local f=$1/originals.json
	if [ ! -e "$f" ]; then
		echo 0
		return 0
	fi
	jq '.entries | length' "$f"
}

# journal_value STATE_DIR KEY: the original journaled for KEY, empty if none.
journal_value() {
	jq -r --arg k "$2" '.entries[] | select(.key == $k) | .value' "$1/originals.json" 2>/dev/null
}

# --- real KSM ----------------------------------------------------------------------------------------

ksm_get() {
	local v
	v=$(cat "$IT_KSM_SYSFS/$1" 2>/dev/null) || return 1
	case $v in *\[*\]*) v=${v#*[}; v=${v%%]*} ;; esac
	printf '%s\n' "$v"
}

# ksm_lock: take the machine-wide lock that serialises tests writing the real KSM (held on fd 9 until
# the test exits; children are started without it).
ksm_lock() {
	exec 9>"$IT_KSM_LOCK" || skip "cannot open $IT_KSM_LOCK"
	if ! flock -w 300 9; then
		fail "another test held $IT_KSM_LOCK for 300 s"
		exit 1
	fi
}

# ksm_writable: names of the writable KSM files (by mode bits: root may write anything).
ksm_writable() {
	find "$IT_KSM_SYSFS" -maxdepth 1 -type f -perm -u+w -printf '%f\n' | sort
}

# ksm_snapshot: record every writable KSM knob; from now on the EXIT trap restores them.
ksm_snapshot() {
	local f
	IT_KSM_SNAPSHOT=$IT_DIR/ksm-original.txt
	: >"$IT_KSM_SNAPSHOT.tmp"
	for f in $(ksm_writable); do
		printf '%s=%s\n' "$f" "$(ksm_get "$f")" >>"$IT_KSM_SNAPSHOT.tmp"
	done
	mv "$IT_KSM_SNAPSHOT.tmp" "$IT_KSM_SNAPSHOT"
}

# ksm_current: the writable knobs now, in the snapshot's form.
ksm_current() {
	local f
	for f in $(ksm_writable); do
		printf '%s=%s\n' "$f" "$(ksm_get "$f")"
	done
}

# ksm_original NAME: the snapshot's value of NAME.
ksm_original() { sed -n "s/^$1=//p" "$IT_KSM_SNAPSHOT"; }

# ksm_matches_snapshot: every writable knob equals the snapshot (differences on stdout).
ksm_matches_snapshot() {
	local d
	d=$(diff <(cat "$IT_KSM_SNAPSHOT") <(ksm_current)) && return 0
	printf '%s\n' "$d" | sed -n 's/^[<>]/       &/p'
	return 1
}

ksm_write() { printf '%s' "$2" >"$IT_KSM_SYSFS/$1" 2>/dev/null; }

ksm_unmerged() {
	[ "$(ksm_get pages_shared)" = 0 ] && [ "$(ksm_get pages_sharing)" = 0 ]
}

# ksm_restore: write the originals back: advisor_mode first (it decides whether the rate knobs are
# writable), then the rest, run last. The test's own merged pages went away with its workload; other
# processes' merged pages are left alone (run=2 would unmerge the whole host, which a test run on a
# real hypervisor must never do), unless a knob that the kernel only lets change while nothing is
# merged (merge_across_nodes, max_page_sharing) has to be put back. Returns 1 if some knob could not
# be restored.
ksm_restore() {
	local line name val bad=0 k
	[ -n "$IT_KSM_SNAPSHOT" ] && [ -f "$IT_KSM_SNAPSHOT" ] || return 0
	for k in merge_across_nodes max_page_sharing; do
		val=$(ksm_original "$k")
		[ -n "$val" ] && [ "$(ksm_get "$k")" != "$val" ] || continue
		note "ksm restore: $k changed, unmerging (run=2) so it can be put back"
		ksm_write run 2 || note "ksm restore: writing run=2 failed"
		wait_until 60 ksm_unmerged || note "ksm restore: still merged after 60 s"
		break
	done
	val=$(ksm_original advisor_mode)
	if [ -n "$val" ] && [ "$(ksm_get advisor_mode)" != "$val" ]; then
		ksm_write advisor_mode "$val" || { note "ksm restore: advisor_mode=$val refused"; bad=1; }
	fi
	while IFS= read -r line; do
		name=${line%%=*}
		val=${line#*=}
		case $name in run | advisor_mode) continue ;; esac
		[ "$(ksm_get "$name")" = "$val" ] && continue
		ksm_write "$name" "$val" || { note "ksm restore: $name=$val refused"; bad=1; }
	done <"$IT_KSM_SNAPSHOT"
	val=$(ksm_original run)
	ksm_write run "$val" || { note "ksm restore: run=$val refused"; bad=1; }
	if ! ksm_matches_snapshot >"$IT_DIR/ksm-restore.diff"; then
		note "ksm restore: knobs still differ from the originals:"
		cat "$IT_DIR/ksm-restore.diff"
		bad=1
	fi
	return "$bad"
}

# --- real host knobs (/proc/sys, /sys/kernel/mm, hugepage pools) ------------------------------------

IT_HOST_LOCK=/run/memopt-host.lock
IT_HOST_SNAPSHOT=               # file with "path<TAB>value" lines once host_snapshot ran
IT_HOST_MOUNTS=()               # bind mounts a test made, undone by the trap

# host_lock: take the machine-wide lock of tests that change host-global knobs (fd 8, held until the
# test exits). IT_HOST_LOCKED=1 says the caller already holds it (flock /run/memopt-host.lock ...).
host_lock() {
	[ "${IT_HOST_LOCKED:-0}" = 1 ] && return 0
	exec 8>"$IT_HOST_LOCK" || skip "cannot open $IT_HOST_LOCK"
	if ! flock -w 300 8; then
		fail "another test held $IT_HOST_LOCK for 300 s"
		exit 1
	fi
}

# knob_get PATH: a knob's value ("a [b] c" reduced to b).
knob_get() {
	local v
	v=$(cat "$1" 2>/dev/null) || return 1
	case $v in *\[*\]*) v=${v#*[}; v=${v%%]*} ;; esac
	printf '%s\n' "$v"
}

# host_snapshot PATH...: record each knob; from now on the EXIT trap writes every one back.
host_snapshot() {
	local f
	IT_HOST_SNAPSHOT=$IT_DIR/host-original.txt
	: >"$IT_HOST_SNAPSHOT.tmp"
	for f in "$@"; do
		[ -e "$f" ] || continue
		printf '%s\t%s\n' "$f" "$(knob_get "$f")" >>"$IT_HOST_SNAPSHOT.tmp"
	done
	mv "$IT_HOST_SNAPSHOT.tmp" "$IT_HOST_SNAPSHOT"
}

# host_original PATH: the snapshot's value.
host_original() { awk -F '\t' -v p="$1" '$1 == p { print $2 }' "$IT_HOST_SNAPSHOT"; }

# host_matches_snapshot: every snapshot knob has its original value (differences on stdout).
host_matches_snapshot() {
	local path val now bad=0
	while IFS=$'\t' read -r path val; do
		now=$(knob_get "$path")
		if [ "$now" != "$val" ]; then
			printf '       %s: %s (original %s)\n' "$path" "$now" "$val"
			bad=1
		fi
	done <"$IT_HOST_SNAPSHOT"
	return "$bad"
}

# host_bind_ro PATH: make PATH read-only with a bind mount over itself (undone by host_unbind / the trap).
host_bind_ro() {
	mount --bind -o ro "$1" "$1" 2>"$IT_DIR/mount.err" || return 1
	IT_HOST_MOUNTS+=("$1")
}

host_unbind() {
	local m
	for m in "${IT_HOST_MOUNTS[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || printf '  FAIL cannot unmount %s\n' "$m"
	done
	IT_HOST_MOUNTS=()
}

# host_restore: undo bind mounts, write every snapshot knob back; 1 if one could not be restored.
host_restore() {
	local path val bad=0
	host_unbind
	[ -n "$IT_HOST_SNAPSHOT" ] && [ -f "$IT_HOST_SNAPSHOT" ] || return 0
	while IFS=$'\t' read -r path val; do
		[ "$(knob_get "$path")" = "$val" ] && continue
		printf '%s' "$val" >"$path" 2>/dev/null || { note "host restore: $path=$val refused"; bad=1; }
	done <"$IT_HOST_SNAPSHOT"
	if ! host_matches_snapshot >"$IT_DIR/host-restore.diff"; then
		note "host restore: knobs still differ from the originals:"
		cat "$IT_DIR/host-restore.diff"
		bad=1
	fi
	return "$bad"
}

# --- cleanup -----------------------------------------------------------------------------------------

it_cleanup() {
	local rc=$? pid i f
	[ "$IT_CLEANED" = 1 ] && return
	IT_CLEANED=1
	# Finish the cleanup even if Ctrl-C comes again or whoever reads our output is gone.
	trap '' INT TERM PIPE
	# Our processes first (newest first: daemons before the workload they measure): a daemon gets
	# SIGTERM so it restores what it changed, then SIGKILL if it hangs.
	for ((i = ${#IT_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${IT_PIDS[i]}
		pid_alive "$pid" || continue
		kill -TERM "$pid" 2>/dev/null
		if ! timeout 10 tail --pid="$pid" -s 0.1 -f /dev/null 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null
			timeout 5 tail --pid="$pid" -s 0.1 -f /dev/null 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done
	if [ -n "$IT_HOST_SNAPSHOT" ] || [ "${#IT_HOST_MOUNTS[@]}" -gt 0 ]; then
		if host_restore; then
			printf '  .. trap: bind mounts undone and every host knob back to its original value\n'
		else
			printf '  FAIL trap: host knobs could not be fully restored\n'
			[ "$rc" -eq 0 ] && rc=1
		fi
	fi
	if [ -n "$IT_KSM_SNAPSHOT" ]; then
		if ksm_restore; then
			printf '  .. trap: KSM unmerged and every knob back to its original value\n'
		else
			printf '  FAIL trap: KSM could not be fully restored\n'
			[ "$rc" -eq 0 ] && rc=1
		fi
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne "$IT_SKIP" ]; then
		for f in "$IT_DIR"/*.log; do
			[ -f "$f" ] || continue
			printf '  -- last lines of %s:\n' "$(basename "$f")"
			tail -n 25 "$f" | sed 's/^/     | /'
		done
	fi
	if [ "${IT_DIR_OWNED:-0}" = 1 ] && [ "$rc" -eq 0 ]; then
		rm -rf "$IT_DIR"
	fi
	# Stopped by a signal: die of it, so the shell that ran us knows (bash ignores a Ctrl-C whose
	# child exits normally, and would go on with the next test).
	if [ -n "$IT_SIGNAL" ]; then
		trap - "$IT_SIGNAL"
		kill -s "$IT_SIGNAL" $$
	fi
	exit "$rc"
}

IT_SIGNAL=
trap it_cleanup EXIT
trap 'IT_SIGNAL=INT; exit 130' INT
trap 'IT_SIGNAL=TERM; exit 143' TERM
