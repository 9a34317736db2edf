# shellcheck shell=bash
# lib-faults.sh - shared by the fault-matrix tests (tests/faults/test_*.sh): a private mount namespace
# for tests that mount, a fixture host tree with every managed knob, its config, and a digest of every
# knob file to prove what the daemon did or did not write. Sourced, not run.
#
# Set FT_MOUNTS=1 before sourcing when the test makes bind or tmpfs mounts: the test then re-runs
# itself (same PID) in a private mount namespace, so no mount it makes can outlive it, even on SIGKILL.
# Brings in tests/integration/lib.sh (checks, daemon_start/stop, ctl_json, fixture_host, IT_DIR).

# shellcheck disable=SC2034
if [ "${FT_MOUNTS:-0}" = 1 ] && [ "${FT_IN_NS:-0}" != 1 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: needs root (bind and tmpfs mounts in a private mount namespace)"
		exit 77
	fi
	if ! command -v unshare >/dev/null 2>&1; then
		echo "SKIP: needs unshare (Debian package util-linux)"
		exit 77
	fi
	if [ -z "${IT_DIR:-}" ]; then
		IT_DIR=$(mktemp -d /tmp/memopt-ft.XXXXXX) || exit 1
	fi
	export IT_DIR FT_IN_NS=1
	exec unshare -m --propagation private bash "$0" "$@"
fi

# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

require_built "$MEMOPTD" "$MEMOPTCTL"
require_cmd jq

# ft_tree DEST [AVAIL_KIB]: a fake host: a 2-node NUMA sysfs (hugepage pools, THP, khugepaged), the
# KSM knobs and counters of a 6.x kernel, /proc/sys/vm knobs and meminfo/vmstat/PSI with AVAIL_KIB
# available (default 1000 MiB of 15.6 GiB: KSM pressure).
ft_tree() {
	mkdir -p "$1"
	cp -r "$IT_SRC/tests/fixtures/sys-numa-2node" "$1/sys"
	cp -r "$IT_SRC/tests/fixtures/proc-host" "$1/proc"
	rm -rf "$1/proc/4242"
	fixture_host "$1" "${2:-1024000}"
}

# ft_conf FILE HOST STATE SOCK [EXTRA]: memoptd.conf for HOST's tree. KSM every second (stop at
# once when pressure is gone), balloon on the test driver, host policy managing the sysctl and THP
# knobs (pools and merge_across_nodes kept, so KSM's run is the tuner's alone). EXTRA: more lines,
# appended (a later section header starts a new section; keys may not repeat).
ft_conf() {
	cat >"$1" <<C
[daemon]
socket = $4
state_dir = $3
sysfs_root = $2/sys
procfs_root = $2/proc
ksmtuned_conf = none

[ksm]
interval = 1s
stop_hold = 0s

[balloon]
uri = ${FT_BALLOON_URI:-test:///default}

[host]
domain_xml_dir = none
hugepages = keep
ksm_merge_across_nodes = keep
${5:-}
C
}

# ft_digest HOST: every knob file of the tree (sysfs and /proc/sys) with its value, sorted, in the form
# memoptd compares values in (whitespace trimmed, "a [b] c" reduced to b: a fixture file holds what was
# last written, where the kernel would show the selection): equal digests mean memoptd wrote nothing,
# or put everything back.
ft_digest() {
	local f v
	(cd "$1" && find sys proc/sys -type f -print | LC_ALL=C sort | while read -r f; do
		v=$(tr '\n' ' ' <"$f" 2>/dev/null)
		case $v in *\[*\]*) v=${v#*[}; v=${v%%]*} ;; esac
		v=${v%"${v##*[! ]}"}
		printf '%s=%s\n' "$f" "$v"
	done)
}

# ft_diff WANT_FILE HOST: print the knobs whose value differs from WANT_FILE's digest; 0 if none.
ft_diff() {
	local d
	d=$(diff "$1" <(ft_digest "$2")) && return 0
	printf '%s\n' "$d" | sed -n 's/^[<>]/       &/p'
	return 1
}

# ft_start NAME CONF [ARGS...]: memoptd -c CONF, waits (30 s: the machine may be busy) for its socket.
ft_start() {
	local name=$1 conf=$2 sock
	shift 2
	sock=$(sed -n 's/^socket = //p' "$conf")
	daemon_start "$name" -c "$conf" "$@"
	if ! wait_socket "$sock" "$DAEMON_PID" 30; then
		fail "$name: memoptd did not answer on $sock within 30 s"
		finish
	fi
}

# ft_status_has SOCK JQ: memoptctl --json status satisfies the jq filter JQ.
ft_status_has() { ctl_json "$1" status 2>/dev/null | jq -en "input | $2" >/dev/null 2>&1; }

# ft_module SOCK NAME: one line "state: detail" of a module in memoptctl status.
ft_module() {
	ctl_json "$1" status 2>/dev/null | jq -r --arg n "$2" '.modules[] | select(.name == $n) | "\(.state): \(.detail)"'
}
