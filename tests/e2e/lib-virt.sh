# lib-virt.sh - e2e harness: a real libvirtd + virtlogd started and stopped by PID, the cached test guest, transient TCG guests with virtio-balloon, and readers of their balloon and in-guest memory.
#
# Sourced (bash) by tests/e2e/test_*.sh, tests/e2e/run-e2e.sh and tests/e2e/guest-mem.sh. Needs root,
# libvirt-daemon-system, libvirt-daemon-driver-qemu, qemu-system-x86 and libvirt-clients.
#
# Environment (all optional):
#   VIRT_URI            libvirt URI                                    qemu:///system
#   VIRTTYPE            domain type: qemu (TCG) or kvm (see G2)         qemu
#   MEMOPT_GUEST_DIR    cached guest (vmlinuz, initrd.img)              /var/cache/memopt-test-guest
#   VIRT_PREFIX         every domain we create is named PREFIX...      memopt-e2e-
#   VIRT_STATE_DIR      PID records, /dev/kvm's original mode, our domains   /run/memopt-e2e
#   VIRT_RUN_DIR        domain XML and console logs (made traversable for QEMU, G6)
#                       $IT_DIR/virt when run by run-e2e.sh, else /tmp/memopt-e2e-virt
#   VIRT_MAX_GUESTS     most of our guests running at once             2
#   VIRT_BENCH_LOCK     while this file exists no guest is booted      /run/memopt-bench.lock
#   VIRT_BENCH_WAIT     seconds to wait for it before giving up         3600
#   VIRT_HOST_HEADROOM_MIB  host MemAvailable that must remain beyond a new guest's size   512
#   VIRT_KVM_DEV        the device node G1 fixes (changed only to test the harness)  /dev/kvm
#
# Rules it keeps: processes are stopped only by the PIDs this harness recorded when it started them
# (and only while the PID still is the same process: start time and executable are checked), domains
# are destroyed only by name and only with our prefix, every wait is bounded. /dev/kvm gets root:kvm
# 0660 while libvirtd runs (G1: otherwise every domain start re-probes QEMU for ~45 s) and its original
# owner and mode are put back by stop_libvirt.
#
# Return codes of the start functions: 0 ok, 1 failed, 2 a libvirtd we did not start is running,
# 3 the host has too little memory for another guest, 4 the benchmark lock did not go away.

VIRT_URI=${VIRT_URI:-qemu:///system}
VIRTTYPE=${VIRTTYPE:-qemu}
MEMOPT_GUEST_DIR=${MEMOPT_GUEST_DIR:-/var/cache/memopt-test-guest}
VIRT_PREFIX=${VIRT_PREFIX:-memopt-e2e-}
VIRT_STATE_DIR=${VIRT_STATE_DIR:-/run/memopt-e2e}
if [ -z "${VIRT_RUN_DIR:-}" ]; then
	if [ -n "${IT_DIR:-}" ]; then VIRT_RUN_DIR=$IT_DIR/virt; else VIRT_RUN_DIR=/tmp/memopt-e2e-virt; fi
fi
VIRT_MAX_GUESTS=${VIRT_MAX_GUESTS:-2}
VIRT_BENCH_LOCK=${VIRT_BENCH_LOCK:-/run/memopt-bench.lock}
VIRT_BENCH_WAIT=${VIRT_BENCH_WAIT:-3600}
VIRT_HOST_HEADROOM_MIB=${VIRT_HOST_HEADROOM_MIB:-512}
VIRT_KVM_DEV=${VIRT_KVM_DEV:-/dev/kvm}
VIRT_LIBVIRTD=${VIRT_LIBVIRTD:-/usr/sbin/libvirtd}
VIRT_VIRTLOGD=${VIRT_VIRTLOGD:-/usr/sbin/virtlogd}
VIRT_LIBVIRTD_PIDFILE=/run/libvirtd.pid
VIRT_VIRTLOGD_PIDFILE=/run/virtlogd.pid
VIRT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# --- small helpers -----------------------------------------------------------------------------------

virt_note() { printf '  .. %s\n' "$*" >&2; }
virt_now_ms() { echo $(($(date +%s%N) / 1000000)); }
# virt_secs_since MS: seconds (2 decimals) since the virt_now_ms value MS.
virt_secs_since() {
	local d=$(($(virt_now_ms) - $1))
	printf '%d.%02d' $((d / 1000)) $((d % 1000 / 10))
}

# virt_wait SECS CMD...: poll CMD every 0.2 s until it succeeds (0) or SECS pass (1).
virt_wait() {
	local deadline=$(($(virt_now_ms) + $1 * 1000))
	shift
	while :; do
		"$@" && return 0
		[ "$(virt_now_ms)" -ge "$deadline" ] && return 1
		sleep 0.2
	done
}

# virt_virsh ARGS...: virsh on our URI, bounded (a killed libvirtd must not hang a test).
virt_virsh() { timeout 30 virsh -q -c "$VIRT_URI" "$@"; }

virt_answers() { timeout 5 virsh -q -c "$VIRT_URI" version >/dev/null 2>&1; }

# --- processes we started ----------------------------------------------------------------------------

# virt_proc_start PID: the process's start time (field 22 of /proc/PID/stat, read after the last ')').
virt_proc_start() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	set -- $s
	printf '%s\n' "${20}"
}

# virt_pid_record NAME PID EXE: remember that we started PID (running EXE) as NAME.
virt_pid_record() {
	mkdir -p "$VIRT_STATE_DIR"
	printf '%s %s %s\n' "$2" "$(virt_proc_start "$2")" "$3" >"$VIRT_STATE_DIR/$1.pid.tmp"
	mv "$VIRT_STATE_DIR/$1.pid.tmp" "$VIRT_STATE_DIR/$1.pid"
}

# virt_pid_ours NAME: print the recorded PID of NAME if that process still runs (same start time and
# executable); fails otherwise.
virt_pid_ours() {
	local rec pid start exe
	rec=$(cat "$VIRT_STATE_DIR/$1.pid" 2>/dev/null) || return 1
	read -r pid start exe <<<"$rec"
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
	[ "$(virt_proc_start "$pid")" = "$start" ] || return 1
	[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ] || return 1
	printf '%s\n' "$pid"
}

# virt_pidfile_alive PIDFILE EXE: print the PID in PIDFILE if it runs EXE.
virt_pidfile_alive() {
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 1
	case $pid in '' | *[!0-9]*) return 1 ;; esac
	[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$2" ] || return 1
	printf '%s\n' "$pid"
}

# virt_stop_pid NAME [SECS]: SIGTERM our process NAME, wait up to SECS (default 15), then SIGKILL.
virt_stop_pid() {
	local pid secs=${2:-15}
	if pid=$(virt_pid_ours "$1"); then
		kill -TERM "$pid" 2>/dev/null
		if ! virt_wait "$secs" virt_pid_gone "$pid"; then
			virt_note "$1 (pid $pid) did not stop within ${secs}s after SIGTERM, sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null
			virt_wait 5 virt_pid_gone "$pid"
		fi
		virt_note "$1 (pid $pid) stopped"
	fi
	rm -f "$VIRT_STATE_DIR/$1.pid"
}
virt_pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# --- /dev/kvm (G1) -----------------------------------------------------------------------------------

# Give /dev/kvm what udev would (root:kvm 0660), after recording its original owner and mode once.
virt_kvm_fix() {
	[ -c "$VIRT_KVM_DEV" ] || return 0
	mkdir -p "$VIRT_STATE_DIR"
	if [ ! -f "$VIRT_STATE_DIR/kvm.orig" ]; then
		stat -c '%u:%g %a' "$VIRT_KVM_DEV" >"$VIRT_STATE_DIR/kvm.orig.tmp" &&
			mv "$VIRT_STATE_DIR/kvm.orig.tmp" "$VIRT_STATE_DIR/kvm.orig"
	fi
	if getent group kvm >/dev/null; then
		chgrp kvm "$VIRT_KVM_DEV" && chmod 0660 "$VIRT_KVM_DEV"
	fi
}

virt_kvm_restore() {
	local owner mode
	[ -f "$VIRT_STATE_DIR/kvm.orig" ] || return 0
	read -r owner mode <"$VIRT_STATE_DIR/kvm.orig"
	if [ -c "$VIRT_KVM_DEV" ] && [ -n "$owner" ] && [ -n "$mode" ]; then
		chown "$owner" "$VIRT_KVM_DEV" && chmod "$mode" "$VIRT_KVM_DEV" &&
			virt_note "$VIRT_KVM_DEV back to $(stat -c '%U:%G %a' "$VIRT_KVM_DEV")"
	fi
	rm -f "$VIRT_STATE_DIR/kvm.orig"
}

# --- libvirtd + virtlogd -----------------------------------------------------------------------------

# wait_libvirt_ready SECS: wait until $VIRT_URI answers; fails early if our libvirtd died.
wait_libvirt_ready() {
	local deadline=$(($(virt_now_ms) + $1 * 1000))
	while :; do
		virt_answers && return 0
		if [ -f "$VIRT_STATE_DIR/libvirtd.pid" ] && ! virt_pid_ours libvirtd >/dev/null; then
			virt_note "libvirtd died while starting"
			return 1
		fi
		[ "$(virt_now_ms)" -ge "$deadline" ] && return 1
		sleep 0.2
	done
}

# virt_daemonize NAME EXE PIDFILE LOGDIR ARGS...: start EXE -d (it writes PIDFILE), record its PID.
virt_daemonize() {
	local name=$1 exe=$2 pidfile=$3 logdir=$4 pid
	shift 4
	# The daemon closes stdio itself; the fds of the test's lock files must not leak into it either.
	LIBVIRT_LOG_OUTPUTS="3:file:$logdir/$name.log" "$exe" -d "$@" </dev/null >>"$logdir/$name.out" 2>&1 8>&- 9>&- ||
		{
			virt_note "$name -d failed: $(tail -n 3 "$logdir/$name.out" 2>/dev/null | tr '\n' ' ')"
			return 1
		}
	if ! virt_wait 10 virt_pidfile_alive "$pidfile" "$exe" >/dev/null; then
		virt_note "$name wrote no live PID to $pidfile"
		return 1
	fi
	pid=$(virt_pidfile_alive "$pidfile" "$exe")
	virt_pid_record "$name" "$pid" "$exe"
	virt_note "$name started, pid $pid (log $logdir/$name.log)"
}

# start_libvirt [LOGDIR [SECS]]: start virtlogd and libvirtd (unless ours already run) and wait up to
# SECS (default 90: the first start on a machine probes QEMU for ~8 s, G11) until $VIRT_URI answers.
# Returns 0, 1 (failed) or 2 (a libvirtd we did not start is running: we leave it alone).
start_libvirt() {
	local logdir=${1:-$VIRT_STATE_DIR} secs=${2:-90} t0 pid
	mkdir -p "$logdir" "$VIRT_STATE_DIR"
	if virt_pid_ours libvirtd >/dev/null; then
		wait_libvirt_ready "$secs"
		return
	fi
	if pid=$(virt_pidfile_alive "$VIRT_LIBVIRTD_PIDFILE" "$VIRT_LIBVIRTD"); then
		virt_note "a libvirtd this harness did not start is running (pid $pid); leaving it alone"
		return 2
	fi
	if virt_answers; then
		virt_note "$VIRT_URI answers, but not from a libvirtd this harness started"
		return 2
	fi
	virt_kvm_fix
	t0=$(virt_now_ms)
	if ! virt_pid_ours virtlogd >/dev/null; then
		if pid=$(virt_pidfile_alive "$VIRT_VIRTLOGD_PIDFILE" "$VIRT_VIRTLOGD"); then
			virt_note "using the running virtlogd (pid $pid), not ours: it will not be stopped"
		else
			virt_daemonize virtlogd "$VIRT_VIRTLOGD" "$VIRT_VIRTLOGD_PIDFILE" "$logdir" || return 1
		fi
	fi
	virt_daemonize libvirtd "$VIRT_LIBVIRTD" "$VIRT_LIBVIRTD_PIDFILE" "$logdir" || return 1
	if ! wait_libvirt_ready "$secs"; then
		virt_note "$VIRT_URI did not answer within ${secs}s"
		tail -n 5 "$logdir/libvirtd.log" 2>/dev/null | sed 's/^/     | /' >&2
		return 1
	fi
	VIRT_LIBVIRT_READY_S=$(virt_secs_since "$t0")
	virt_note "libvirtd ready after ${VIRT_LIBVIRT_READY_S}s ($VIRT_URI)"
}

# kill_libvirtd [SIGNAL]: signal our libvirtd (default KILL) and wait until it is gone. Guests keep
# running (G7); start_libvirt again reconnects to them.
kill_libvirtd() {
	local pid sig=${1:-KILL}
	pid=$(virt_pid_ours libvirtd) || {
		virt_note "no libvirtd of ours to kill"
		return 1
	}
	kill -"$sig" "$pid" || return 1
	virt_wait 15 virt_pid_gone "$pid" || return 1
	rm -f "$VIRT_STATE_DIR/libvirtd.pid"
	virt_note "libvirtd (pid $pid) killed with SIG$sig"
}

# stop_libvirt: destroy our domains (QEMU would outlive libvirtd, G7), stop the libvirtd and virtlogd
# we started by PID, put /dev/kvm back. Safe to call twice, or when nothing runs.
stop_libvirt() {
	if virt_pid_ours libvirtd >/dev/null && virt_answers; then
		virt_destroy_ours
	fi
	virt_stop_pid libvirtd 20
	virt_stop_pid virtlogd 10
	virt_kvm_restore
}

# --- the guest ---------------------------------------------------------------------------------------

# build_guest: make sure $MEMOPT_GUEST_DIR holds the guest; build-guest.sh rebuilds only what is
# missing (or the initramfs when tests/e2e/guest/init changed).
build_guest() {
	local t0
	t0=$(virt_now_ms)
	mkdir -p "$VIRT_STATE_DIR"
	if ! "$VIRT_LIB_DIR/build-guest.sh" "$MEMOPT_GUEST_DIR" 2>"$VIRT_STATE_DIR/build.log"; then
		virt_note "building the guest failed:"
		tail -n 10 "$VIRT_STATE_DIR/build.log" | sed 's/^/     | /' >&2
		return 1
	fi
	VIRT_BUILD_S=$(virt_secs_since "$t0")
	virt_note "guest ready in $MEMOPT_GUEST_DIR (${VIRT_BUILD_S}s): $(sed -n 's/^kernel_release=//p' "$MEMOPT_GUEST_DIR/BUILD-INFO")"
}

# --- domains -----------------------------------------------------------------------------------------

virt_name_ok() {
	case $1 in
	"$VIRT_PREFIX"*) ;;
	*) return 1 ;;
	esac
	[[ $1 =~ ^[A-Za-z0-9_.-]+$ ]]
}

virt_console() { printf '%s/%s.console.log\n' "$VIRT_RUN_DIR" "$1"; }

# virt_domain_xml NAME MEM_MIB CONSOLE_LOG [CMDLINE]: a transient domain: direct kernel boot of the
# cached guest, no disk, no network, virtio balloon with a 2 s stats period (G3), serial console to a
# file, <nosharepages/> (QEMU mem-merge=off: guest RAM never feeds KSM, which is benchmarked here).
# Env: VIRT_BALLOON_ATTRS (e.g. "autodeflate='on'"), VIRT_METADATA (XML inside <metadata>).
virt_domain_xml() {
	local name=$1 mem=$2 log=$3 cmdline=${4:-}
	cat <<XML
<domain type='$VIRTTYPE'>
  <name>$name</name>
  <metadata>${VIRT_METADATA:-}</metadata>
  <memory unit='MiB'>$mem</memory>
  <currentMemory unit='MiB'>$mem</currentMemory>
  <memoryBacking><nosharepages/></memoryBacking>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$MEMOPT_GUEST_DIR/vmlinuz</kernel>
    <initrd>$MEMOPT_GUEST_DIR/initrd.img</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 $cmdline</cmdline>
  </os>
  <features><acpi/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='$log'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='$log'/>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='virtio' ${VIRT_BALLOON_ATTRS:-}>
      <stats period='2'/>
    </memballoon>
  </devices>
</domain>
XML
}

# virt_ours_running: names of running domains with our prefix.
virt_ours_running() {
	virt_virsh list --name 2>/dev/null | while read -r n; do
		[ -n "$n" ] && virt_name_ok "$n" && printf '%s\n' "$n"
	done
}

virt_host_avail_kib() { awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo; }

# virt_bench_wait: wait while the KSM benchmark's lock file exists (at most VIRT_BENCH_WAIT s).
virt_bench_wait() {
	local waited=0
	while [ -e "$VIRT_BENCH_LOCK" ]; do
		[ $((waited % 60)) -eq 0 ] && virt_note "$VIRT_BENCH_LOCK exists: waiting before booting a guest (${waited}s so far)"
		if [ "$waited" -ge "$VIRT_BENCH_WAIT" ]; then
			virt_note "$VIRT_BENCH_LOCK still there after ${waited}s; giving up"
			return 4
		fi
		sleep 5
		waited=$((waited + 5))
	done
	return 0
}

# virt_create NAME MEM_MIB [CMDLINE]: boot a transient guest of MEM_MIB (max = current). Refuses names
# without our prefix, a guest beyond VIRT_MAX_GUESTS, and a host whose MemAvailable would fall below
# VIRT_HOST_HEADROOM_MIB; waits for the benchmark lock. Sets VIRT_CREATE_S (seconds virsh create took).
virt_create() {
	local name=$1 mem=$2 cmdline=${3:-} log xml n avail t0 rc
	virt_name_ok "$name" || {
		virt_note "refusing domain name '$name' (must start with '$VIRT_PREFIX', [A-Za-z0-9_.-] only)"
		return 1
	}
	[ -s "$MEMOPT_GUEST_DIR/vmlinuz" ] && [ -s "$MEMOPT_GUEST_DIR/initrd.img" ] || {
		virt_note "no guest in $MEMOPT_GUEST_DIR (build_guest first)"
		return 1
	}
	virt_bench_wait || return
	n=$(virt_ours_running | wc -l)
	if [ "$n" -ge "$VIRT_MAX_GUESTS" ]; then
		virt_note "refusing to boot $name: $n of our guests already run (VIRT_MAX_GUESTS=$VIRT_MAX_GUESTS)"
		return 1
	fi
	avail=$(virt_host_avail_kib)
	if [ "$avail" -lt $(((mem + VIRT_HOST_HEADROOM_MIB) * 1024)) ]; then
		virt_note "refusing to boot $name: host MemAvailable $((avail / 1024)) MiB < ${mem} MiB + ${VIRT_HOST_HEADROOM_MIB} MiB headroom"
		return 3
	fi
	mkdir -p "$VIRT_RUN_DIR" "$VIRT_STATE_DIR"
	# QEMU runs as libvirt-qemu: every directory down to the console log must be traversable (G6).
	chmod 0755 "$VIRT_RUN_DIR"
	[ -n "${IT_DIR:-}" ] && [ "$VIRT_RUN_DIR" = "$IT_DIR/virt" ] && chmod o+x "$IT_DIR"
	log=$(virt_console "$name")
	xml=$VIRT_RUN_DIR/$name.xml
	rm -f "$log" # opened in append mode (G6)
	virt_domain_xml "$name" "$mem" "$log" "$cmdline" >"$xml"
	# Recorded before the create, so a cleanup after an interrupted create still destroys it.
	printf '%s %s\n' "$name" "$log" >>"$VIRT_STATE_DIR/domains"
	t0=$(virt_now_ms)
	virt_virsh create "$xml" >"$VIRT_RUN_DIR/$name.create.out" 2>&1
	rc=$?
	VIRT_CREATE_S=$(virt_secs_since "$t0")
	if [ "$rc" -ne 0 ]; then
		virt_note "virsh create $name failed: $(tr '\n' ' ' <"$VIRT_RUN_DIR/$name.create.out")"
		return 1
	fi
	virt_note "$name created in ${VIRT_CREATE_S}s (${mem} MiB, $VIRTTYPE, console $log)"
}

# virt_destroy NAME: destroy one of our domains by name (only with our prefix).
virt_destroy() {
	virt_name_ok "$1" || {
		virt_note "refusing to destroy '$1': not one of ours"
		return 1
	}
	if virt_virsh domstate "$1" >/dev/null 2>&1; then
		virt_virsh destroy "$1" >/dev/null 2>&1 && virt_note "$1 destroyed"
	fi
	if [ -f "$VIRT_STATE_DIR/domains" ]; then
		awk -v n="$1" '$1 != n' "$VIRT_STATE_DIR/domains" >"$VIRT_STATE_DIR/domains.tmp"
		mv "$VIRT_STATE_DIR/domains.tmp" "$VIRT_STATE_DIR/domains"
	fi
	return 0
}

# virt_destroy_ours: destroy every domain this harness recorded creating.
virt_destroy_ours() {
	local n rest
	[ -f "$VIRT_STATE_DIR/domains" ] || return 0
	while read -r n rest; do
		[ -n "$n" ] && virt_destroy "$n"
	done < <(cat "$VIRT_STATE_DIR/domains")
	rm -f "$VIRT_STATE_DIR/domains"
}

# virt_reap: what a killed test may have left: our domains, our libvirtd and virtlogd, /dev/kvm's mode.
virt_reap() {
	local any=0 f
	[ -s "$VIRT_STATE_DIR/domains" ] && any=1
	for f in libvirtd virtlogd; do
		[ -f "$VIRT_STATE_DIR/$f.pid" ] && any=1
	done
	[ -f "$VIRT_STATE_DIR/kvm.orig" ] && any=1
	[ "$any" = 1 ] || return 0
	virt_note "reaping what the e2e harness left behind"
	stop_libvirt
}

# --- readers -----------------------------------------------------------------------------------------

virt_running() { [ "$(virt_virsh domstate "$1" 2>/dev/null)" = running ]; }

# virt_memstats NAME: "tag=value ..." of virsh dommemstat (KiB; last_update in epoch seconds).
virt_memstats() { virt_virsh dommemstat "$1" 2>/dev/null | awk 'NF == 2 { printf "%s=%s ", $1, $2 } END { print "" }'; }

# virt_stat NAME TAG: one value of virsh dommemstat (empty if absent).
virt_stat() { virt_virsh dommemstat "$1" 2>/dev/null | awk -v k="$2" '$1 == k { print $2 }'; }

# virt_has_guest_stats NAME: the guest driver reports (the guest-side tags appear once it runs).
virt_has_guest_stats() { [ -n "$(virt_stat "$1" usable)" ]; }

virt_qemu_pid() { cat "/run/libvirt/qemu/$1.pid" 2>/dev/null; }

# virt_qemu_rss_kib NAME: host RSS of the guest's QEMU.
virt_qemu_rss_kib() {
	local pid
	pid=$(virt_qemu_pid "$1") || return 1
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status" 2>/dev/null
}

# virt_console_of NAME: the console log of one of our domains (from our records, else the domain XML).
virt_console_of() {
	local f
	if [ -f "$VIRT_STATE_DIR/domains" ]; then
		f=$(awk -v n="$1" '$1 == n { p = $2 } END { print p }' "$VIRT_STATE_DIR/domains")
		[ -n "$f" ] && {
			printf '%s\n' "$f"
			return 0
		}
	fi
	f=$(virt_virsh dumpxml "$1" 2>/dev/null | sed -n "s/.*<source path='\([^']*\)'.*/\1/p" | head -n 1)
	[ -n "$f" ] && printf '%s\n' "$f"
}

# guest_mem_line CONSOLE_LOG: the last complete MEM line the guest printed.
guest_mem_line() {
	tr -d '\r' <"$1" 2>/dev/null |
		grep -E '^MEM up=[0-9.]+ MemTotal=[0-9]+ MemFree=[0-9]+ MemAvailable=[0-9]+$' | tail -n 1
}

# guest_mem NAME [FIELD]: the guest's own last MEM line, or one field of it (up, MemTotal, MemFree,
# MemAvailable; KiB except up).
guest_mem() {
	local log line
	log=$(virt_console_of "$1") || return 1
	line=$(guest_mem_line "$log")
	[ -n "$line" ] || return 1
	if [ -z "${2:-}" ]; then
		printf '%s\n' "$line"
	else
		printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$2=//p"
	fi
}

# guest_ready NAME: the guest's init printed READY with the balloon driver bound.
guest_ready() {
	local log
	log=$(virt_console_of "$1") || return 1
	tr -d '\r' <"$log" 2>/dev/null | grep -q '^READY .*balloon=bound'
}

# guest_console_has NAME ERE: some console line matches ERE.
guest_console_has() {
	local log
	log=$(virt_console_of "$1") || return 1
	tr -d '\r' <"$log" 2>/dev/null | grep -Eq -- "$2"
}
