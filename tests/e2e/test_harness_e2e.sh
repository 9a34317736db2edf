#!/bin/bash
# test_harness_e2e.sh - self-test of the real-guest harness, without memoptd: two TCG guests, their balloon stats, manual setmem down and back, libvirtd SIGKILL + restart, the guest workloads, teardown by PID.
# E2E-TIMEOUT: 600
#
# What the balloon test (test_balloon_e2e.sh) relies on, proven on its own so that a failure there
# points at memoptd, not at the harness. Every step prints its timing.
. "$(dirname "$0")/lib-e2e.sh"

MEM=768
LOW=384
VM_A=${VIRT_PREFIX}ha
VM_B=${VIRT_PREFIX}hb
HOG=64
GROW_AFTER=25
GROW_MIB=128

e2e_require_virt
e2e_start_virt
note "libvirtd answered after ${VIRT_LIBVIRT_READY_S:-?}s; guest build/check took ${VIRT_BUILD_S:-?}s"

# 1. Two guests, B with both workloads.
T0=$(virt_now_ms)
e2e_boot "$VM_A" "$MEM"
note "$VM_A: created in ${VIRT_CREATE_S}s, READY and stats after ${E2E_BOOT_S}s"
e2e_boot "$VM_B" "$MEM" "memopt_hog=$HOG memopt_grow_after=$GROW_AFTER memopt_grow_mib=$GROW_MIB memopt_grow_rate=32"
note "$VM_B: created in ${VIRT_CREATE_S}s, READY and stats after ${E2E_BOOT_S}s"
pass "2 guests of $MEM MiB booted, balloon driver bound ($(virt_secs_since "$T0")s for both)"

tags=$(virt_virsh dommemstat "$VM_A" | awk 'NF == 2 { print $1 }' | sort | tr '\n' ' ')
check "$VM_A: dommemstat has every tag the controller reads ($tags)" \
	eval 'for t in actual unused available usable last_update disk_caches swap_in swap_out major_fault minor_fault rss; do
		case " $tags " in *" $t "*) ;; *) exit 1 ;; esac; done'
check_eq "$VM_A: actual = $MEM MiB" $((MEM * 1024)) "$(virt_stat "$VM_A" actual)"

# nosharepages: QEMU runs with mem-merge=off, so the guests never feed the KSM benchmark.
for n in "$VM_A" "$VM_B"; do
	q=$(virt_qemu_pid "$n")
	check "$n: QEMU (pid $q) runs with mem-merge=off" grep -q 'mem-merge=off' <(tr '\0' ' ' <"/proc/$q/cmdline")
	if [ -r "/proc/$q/ksm_stat" ]; then
		check_grep "$n: QEMU is not KSM-mergeable" "/proc/$q/ksm_stat" '^ksm_mergeable:? no'
	fi
done

# The guest's own view agrees with libvirt's.
avail_a=$(virt_stat "$VM_A" available)
check_eq "$VM_A: libvirt 'available' = the guest's MemTotal" "$avail_a" "$(guest_mem "$VM_A" MemTotal)"
MT_A0=$(guest_mem "$VM_A" MemTotal)
MT_B0=$(guest_mem "$VM_B" MemTotal)
check "$VM_B: the boot workload holds $HOG MiB" virt_wait 30 guest_console_has "$VM_B" "^HOG done mib=$HOG "

# Is the guest's clock (MEM up=, memopt_grow_after) close to the host's? Measured over 10 s.
up0=$(guest_mem "$VM_A" up)
h0=$(virt_now_ms)
sleep 10
up1=$(guest_mem "$VM_A" up)
note "guest uptime advanced $(awk -v a="$up0" -v b="$up1" 'BEGIN { printf "%.1f", b - a }') s in $(virt_secs_since "$h0") s of host time"

# 2. Balloon both down by hand and back: libvirt's actual and the guest's MemTotal follow.
actual_is() { [ "$(virt_stat "$1" actual)" = "$2" ]; }
memtotal_below() { local m; m=$(guest_mem "$1" MemTotal) && [ "$m" -lt "$2" ]; }
memtotal_at_least() { local m; m=$(guest_mem "$1" MemTotal) && [ "$m" -ge "$2" ]; }
for n in "$VM_A" "$VM_B"; do
	mt0=$(guest_mem "$n" MemTotal)
	t=$(virt_now_ms)
	virt_virsh setmem "$n" "${LOW}M" --live >/dev/null || fail "$n: virsh setmem ${LOW}M"
	if virt_wait 60 actual_is "$n" $((LOW * 1024)); then
		pass "$n: setmem ${LOW}M: actual = $((LOW * 1024)) after $(virt_secs_since "$t")s"
	else
		fail "$n: setmem ${LOW}M: actual still $(virt_stat "$n" actual) after 60 s"
	fi
	# MemTotal shrinks by the balloon; what stays between the two is the kernel's own reservation.
	gap0=$((MEM * 1024 - mt0))
	if virt_wait 30 memtotal_below "$n" $((LOW * 1024 - gap0 + 8192)); then
		pass "$n: guest MemTotal $mt0 -> $(guest_mem "$n" MemTotal) KiB after $(virt_secs_since "$t")s"
	else
		fail "$n: guest MemTotal still $(guest_mem "$n" MemTotal) KiB, expected about $((LOW * 1024 - gap0))"
	fi
	gap=$(($(virt_stat "$n" actual) - $(guest_mem "$n" MemTotal)))
	check "$n: actual - MemTotal stays the kernel's reservation ($gap0 -> $gap KiB, within 8 MiB)" \
		test "$gap" -le $((gap0 + 8192)) -a "$gap" -ge $((gap0 - 8192))
	note "$n at ${LOW}M: QEMU RSS $(virt_qemu_rss_kib "$n") KiB; $(virt_memstats "$n")"
done

# 3. libvirtd SIGKILL mid-run: the guests keep running; a restarted libvirtd reconnects to them.
qa=$(virt_qemu_pid "$VM_A")
qb=$(virt_qemu_pid "$VM_B")
check "SIGKILL our libvirtd by PID" kill_libvirtd KILL
check "$VM_A keeps running without libvirtd (QEMU pid $qa)" pid_alive "$qa"
check "guest-mem.sh reads the console while libvirtd is down" \
	eval '"$(dirname "$0")/guest-mem.sh" "$VM_A" MemTotal >/dev/null'
t=$(virt_now_ms)
if start_libvirt "$IT_DIR" 60; then
	pass "libvirtd restarted and answers after $(virt_secs_since "$t")s"
else
	fail "libvirtd did not restart"
	finish
fi
check_eq "$VM_A: same QEMU after the restart" "$qa" "$(virt_qemu_pid "$VM_A")"
check_eq "$VM_B: same QEMU after the restart" "$qb" "$(virt_qemu_pid "$VM_B")"
lu_advanced() { local l; l=$(virt_stat "$1" last_update) && [ -n "$l" ] && [ "$l" -gt "$2" ]; }
lu=$(virt_stat "$VM_A" last_update)
if virt_wait 15 lu_advanced "$VM_A" "$lu"; then
	pass "$VM_A: stats keep refreshing after the restart (last_update $lu -> $(virt_stat "$VM_A" last_update))"
else
	fail "$VM_A: last_update stuck at $lu after the restart"
fi
for n in "$VM_A" "$VM_B"; do
	t=$(virt_now_ms)
	virt_virsh setmem "$n" "${MEM}M" --live >/dev/null || fail "$n: virsh setmem ${MEM}M after the restart"
	if virt_wait 60 actual_is "$n" $((MEM * 1024)); then
		pass "$n: back to ${MEM}M through the restarted libvirtd after $(virt_secs_since "$t")s"
	else
		fail "$n: actual $(virt_stat "$n" actual), not back to ${MEM}M"
	fi
done
check "$VM_A: guest MemTotal back to $MT_A0" virt_wait 30 memtotal_at_least "$VM_A" "$MT_A0"
check "$VM_B: guest MemTotal back to $MT_B0" virt_wait 30 memtotal_at_least "$VM_B" "$MT_B0"

# 4. The late workload (memopt_grow_after) starts by itself and takes its memory.
if virt_wait 90 guest_console_has "$VM_B" "^GROW done mib=$GROW_MIB "; then
	pass "$VM_B: $(tr -d '\r' <"$(virt_console "$VM_B")" | grep -E '^GROW (start|done)' | tr '\n' ' ')"
else
	fail "$VM_B: the grow workload did not finish: $(tr -d '\r' <"$(virt_console "$VM_B")" | grep -E '^GROW' | tail -n 2 | tr '\n' ' ')"
fi

# 5. Ballooned below what its workloads hold, the guest OOM-kills a workload (rc 137), never panics:
#    the balloon test's "no OOM" assertion can therefore see a failure.
t=$(virt_now_ms)
virt_virsh setmem "$VM_B" 200M --live >/dev/null
if virt_wait 60 guest_console_has "$VM_B" '^(GROW|HOG) exit rc=137'; then
	pass "$VM_B at 200M: $(tr -d '\r' <"$(virt_console "$VM_B")" | grep -E '^(GROW|HOG) exit' | head -n 1) after $(virt_secs_since "$t")s"
else
	fail "$VM_B at 200M: no workload was OOM-killed within 60 s ($(guest_mem "$VM_B"))"
fi
check "$VM_B still runs (no panic)" virt_running "$VM_B"

# 6. Teardown by PID: domains, libvirtd, virtlogd; nothing of ours left.
lv=$(virt_pid_ours libvirtd)
lg=$(virt_pid_ours virtlogd)
t=$(virt_now_ms)
virt_destroy_ours
note "domains destroyed in $(virt_secs_since "$t")s"
t=$(virt_now_ms)
stop_libvirt
note "libvirtd and virtlogd stopped in $(virt_secs_since "$t")s"
check "libvirtd (pid $lv) is gone" pid_gone "$lv"
[ -n "$lg" ] && check "virtlogd (pid $lg) is gone" pid_gone "$lg"
check "$VM_A's QEMU (pid $qa) is gone" pid_gone "$qa"
check "$VM_B's QEMU (pid $qb) is gone" pid_gone "$qb"
check "no PID records left in $VIRT_STATE_DIR" test ! -e "$VIRT_STATE_DIR/libvirtd.pid" -a ! -e "$VIRT_STATE_DIR/virtlogd.pid"
if [ -c /dev/kvm ]; then
	check "/dev/kvm has its original mode again ($(stat -c '%U:%G %a' /dev/kvm))" test ! -e "$VIRT_STATE_DIR/kvm.orig"
fi
finish
