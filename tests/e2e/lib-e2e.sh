# lib-e2e.sh - glue of the e2e tests: the integration tests' reporting and daemon helpers, the virt harness, set-up that skips with a reason, and one cleanup trap.
#
# Sourced by tests/e2e/test_*.sh. Brings in tests/integration/lib.sh (note/pass/fail/check*/finish,
# wait_until, daemon_start/daemon_stop, ctl_json, IT_DIR) and tests/e2e/lib-virt.sh. The EXIT trap
# stops, in this order: the processes the test spawned (memoptd, samplers; SIGTERM, then SIGKILL),
# our domains, our libvirtd and virtlogd (by PID), /dev/kvm's mode; then lib.sh's own cleanup runs.
# Exit status of a test: 0 passed, 1 failed, 77 skipped ("SKIP: reason").

. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/lib-virt.sh"

E2E_CLEANED=0

# e2e_stop_spawned: SIGTERM every process the test spawned, newest first, SIGKILL after 10 s.
e2e_stop_spawned() {
	local i pid
	for ((i = ${#IT_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${IT_PIDS[i]}
		pid_alive "$pid" || continue
		kill -TERM "$pid" 2>/dev/null
		if ! timeout 10 tail --pid="$pid" -s 0.1 -f /dev/null 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done
}

e2e_cleanup() {
	local rc=$?
	if [ "$E2E_CLEANED" = 0 ]; then
		E2E_CLEANED=1
		trap - INT TERM
		e2e_stop_spawned
		stop_libvirt
	fi
	(exit "$rc")
	it_cleanup
}
trap e2e_cleanup EXIT

# e2e_require_virt: skip unless this machine can run the real-guest tier.
e2e_require_virt() {
	require_root
	require_cmd virsh timeout flock awk gzip dpkg-deb apt-get
	[ -x "$VIRT_LIBVIRTD" ] || skip "needs $VIRT_LIBVIRTD (apt-get install libvirt-daemon-system libvirt-daemon-driver-qemu)"
	[ -x "$VIRT_VIRTLOGD" ] || skip "needs $VIRT_VIRTLOGD"
	command -v qemu-system-x86_64 >/dev/null 2>&1 || skip "needs qemu-system-x86_64 (apt-get install qemu-system-x86)"
}

# e2e_start_virt: build (or reuse) the guest and start libvirtd; skips or fails with the reason.
e2e_start_virt() {
	local rc=0
	if ! build_guest; then
		fail "the test guest could not be built (see above)"
		exit 1
	fi
	start_libvirt "$IT_DIR" 120 || rc=$?
	case $rc in
	0) ;;
	2) skip "a libvirtd this test did not start is running; the test would have to kill and restart it" ;;
	*)
		fail "libvirtd did not start"
		exit 1
		;;
	esac
}

# e2e_boot NAME MEM_MIB [CMDLINE]: boot a guest and wait (bounded) until its balloon driver is bound and
# libvirt has its stats. Skips when the host is short of memory or the benchmark lock stays.
# Sets E2E_BOOT_S (seconds from virsh create to guest stats).
e2e_boot() {
	local name=$1 rc=0 t0
	t0=$(virt_now_ms)
	virt_create "$@" || rc=$?
	case $rc in
	0) ;;
	3) skip "the host has too little MemAvailable for a $2 MiB guest" ;;
	4) skip "$VIRT_BENCH_LOCK did not go away" ;;
	*)
		fail "virsh create $name failed"
		exit 1
		;;
	esac
	if ! virt_wait 120 guest_ready "$name"; then
		fail "$name: no 'READY ... balloon=bound' on its console within 120 s"
		tail -n 20 "$(virt_console "$name")" 2>/dev/null | sed 's/^/       | /'
		exit 1
	fi
	if ! virt_wait 60 virt_has_guest_stats "$name"; then
		fail "$name: libvirt shows no guest balloon stats within 60 s: $(virt_memstats "$name")"
		exit 1
	fi
	E2E_BOOT_S=$(virt_secs_since "$t0")
}

kib_mib() { echo $(($1 / 1024)); }
