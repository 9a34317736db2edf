#!/bin/bash
# test_caps.sh - least privilege: memoptd started as root keeps euid 0 with only cap_sys_ptrace + cap_dac_read_search (effective, permitted, bounding), empty inheritable/ambient, no_new_privs; it still reads numa_maps and ksm_stat of a QEMU process of another uid and writes root-owned knobs; a write needing cap_dac_override fails; hooks run without capabilities, crm_attribute with cap_dac_override only; the unit's bounding set, drop_capabilities = no and a missing capability behave as documented.
# IT-TIMEOUT: 180
# shellcheck source=tests/integration/lib.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib.sh"

# Nothing here writes a real host knob: sysfs_root and procfs_root are fixture trees. The fake QEMU
# process is reached through a symlink <procfs_root>/<pid> -> /proc/<pid>, so the kernel checks the
# daemon's capabilities on the real /proc files. Its one MADV_MERGEABLE page is never touched, so
# ksmd has nothing to scan or merge, and KSM benchmarks running meanwhile are not disturbed.
require_root
require_built "$MEMOPTD" "$MEMOPTCTL" "$IT_B/tools/idle-proc"
require_cmd jq setpriv capsh
getent passwd nobody >/dev/null || skip "needs the user nobody"

D=$IT_DIR
SOCK=$D/run/memoptd.sock
STATE=$D/state
CONF=$D/memoptd.conf
FX=$D/fx
THP=$FX/sys/kernel/mm/transparent_hugepage
KEEP_HEX=0000000000080004 # cap_dac_read_search (2) + cap_sys_ptrace (19)
KEEP_NAMES=cap_dac_read_search,cap_sys_ptrace

# The fake guest: idle-proc copied as qemu-system-x86_64, run as nobody without any capability. The
# test directory is made traversable so that nobody can execute it.
chmod 0711 "$D"
mkdir -m 0755 "$D/bin"
cp "$IT_B/tools/idle-proc" "$D/bin/qemu-system-x86_64"
it_spawn "$D/vm.log" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	--no-new-privs "$D/bin/qemu-system-x86_64" --mergeable-pages 1
VM=$IT_LAST_PID
vm_ready() { grep -q '^ksm_mergeable: yes' "/proc/$VM/ksm_stat" 2>/dev/null; }
wait_until 10 vm_ready || { fail "the fake QEMU process did not start"; finish; }
note "fake QEMU process: pid $VM, uid $(stat -c %u "/proc/$VM"), $(stat -c '%A %U' "/proc/$VM/ksm_stat") ksm_stat"

# Fixture host: KSM knobs and meminfo (1000 MiB available: the tuner starts merging, i.e. writes),
# one NUMA node, THP, /proc/sys/vm; plus the fake guest.
fixture_host "$FX"
cp -r "$IT_SRC/tests/fixtures/sys-numa-1node/devices" "$FX/sys/"
cp -r "$IT_SRC/tests/fixtures/sys-numa-1node/kernel/mm/transparent_hugepage" "$FX/sys/kernel/mm/"
cp -r "$IT_SRC/tests/fixtures/proc-host/sys" "$FX/proc/"
ln -s "/proc/$VM" "$FX/proc/$VM"

# The hook records the capability sets it runs with.
cat >"$D/hook.sh" <<H
#!/bin/sh
grep -E '^(Uid|Cap|NoNewPrivs)' /proc/self/status >"$D/hook.status.tmp"
mv "$D/hook.status.tmp" "$D/hook.status"
H
chmod 0755 "$D/hook.sh"

# A stand-in crm_attribute that records the capability sets it runs with.
cat >"$D/crm_attribute" <<H
#!/bin/sh
grep -E '^(Uid|Cap|NoNewPrivs)' /proc/self/status >"$D/crm.status.tmp"
mv "$D/crm.status.tmp" "$D/crm.status"
H
chmod 0755 "$D/crm_attribute"

write_conf() { # DROP [PACEMAKER]
	cat >"$CONF" <<EOC
[daemon]
socket = $SOCK
state_dir = $STATE
ksmtuned_conf = none
sysfs_root = $FX/sys
procfs_root = $FX/proc
drop_capabilities = $1

[ksm]
interval = 1s

[balloon]
uri = test:///default

[host]
domain_xml_dir = none
thp_enabled = always

[cluster]
hook = $D/hook.sh
pacemaker = ${2:-no}
crm_attribute = $D/crm_attribute
EOC
}

# status_field PID FIELD: the value of one /proc/PID/status line.
status_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# names HEX: the capability names capsh decodes (independent of memoptd's own table).
names() {
	local n
	n=$(capsh --decode="$1" | sed 's/^0x[0-9a-f]*=//')
	printf '%s\n' "${n:-none}"
}

# show_caps PID: print the measured sets (hex and names) and keep them in CAP_INH, CAP_PRM, ...
show_caps() {
	local f
	for f in CapInh CapPrm CapEff CapBnd CapAmb; do
		printf -v "CAP_${f#Cap}" '%s' "$(status_field "$1" "$f")"
		note "$(printf '%s: %s  %s' "$f" "$(status_field "$1" "$f")" "$(names "$(status_field "$1" "$f")")")"
	done
	CAP_NNP=$(status_field "$1" NoNewPrivs)
	CAP_UID=$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$1/status")
	note "NoNewPrivs: $CAP_NNP  Uid (real effective saved fs): $CAP_UID"
}

# start NAME [LAUNCHER...]: start memoptd (through LAUNCHER, e.g. setpriv ...) and wait for its socket.
start() {
	local name=$1
	shift
	it_spawn "$D/$name.log" "$@" "$MEMOPTD" --foreground -c "$CONF"
	DAEMON_PID=$IT_LAST_PID
	wait_socket "$SOCK" "$DAEMON_PID" 15 || { fail "$name: memoptd did not answer"; return 1; }
}

# A fixture file is no sysfs: a restore leaves the bare word in it. Put the kernel's form back.
thp_reset() { printf 'always [madvise] never\n' >"$THP/enabled"; }

ksm_scanned() { ctl_json "$SOCK" ksm >"$D/ksm.json" && jqt '.host.qemu_processes >= 1' "$D/ksm.json"; }
hook_ran() { [ -s "$D/hook.status" ]; }

echo "-- 1. started as root with every capability, drop_capabilities = yes (the default)"
write_conf yes
start d1 || finish
show_caps "$DAEMON_PID"
check_eq "CapEff is cap_dac_read_search + cap_sys_ptrace" "$KEEP_HEX" "$CAP_Eff"
check_eq "CapPrm is the same" "$KEEP_HEX" "$CAP_Prm"
check_eq "CapBnd is the same" "$KEEP_HEX" "$CAP_Bnd"
check_eq "CapInh is empty" 0000000000000000 "$CAP_Inh"
check_eq "CapAmb is empty" 0000000000000000 "$CAP_Amb"
check_eq "NoNewPrivs is set" 1 "$CAP_NNP"
check_eq "every uid stays 0 (the kernel checks /proc/sys writes against euid 0)" "0 0 0 0" "$CAP_UID"
check_eq "capsh names the kept set" "$KEEP_NAMES" "$(names "$CAP_Eff")"
check_grep "the log names the kept sets" "$D/d1.log" \
	"capabilities: euid 0, effective=$KEEP_NAMES permitted=$KEEP_NAMES inheritable=none ambient=none bounding=$KEEP_NAMES no_new_privs=1"

# Its jobs, with those capabilities:
ctl_json "$SOCK" numa >"$D/numa.json"
check "numa: the QEMU process of uid 65534 is found (/proc/PID/exe needs cap_sys_ptrace)" \
	jqt --argjson p "$VM" '.vms | map(select(.pid == $p)) | length == 1' "$D/numa.json"
check "numa: its numa_maps is read (ptrace read check: cap_sys_ptrace), no error" \
	jqt --argjson p "$VM" '.vms[] | select(.pid == $p) | (has("error") | not) and (.nodes | length) == 1' "$D/numa.json"
wait_until 15 ksm_scanned || fail "ksm: no VM scan within 15 s"
check "ksm: its ksm_stat (0400, uid 65534) is read (cap_dac_read_search): 1 process, 0 unreadable" \
	jqt '.host.qemu_processes == 1 and .host.qemu_ksm_stat_unreadable == 0' "$D/ksm.json"
check_no_grep "no ksm_stat warning in the log" "$D/d1.log" "cannot read .*ksm_stat"
check_eq "ksm: the tuner wrote the (root-owned, 0644) run knob without any capability for it" 1 \
	"$(knob_get "$FX/sys/kernel/mm/ksm/run")"
check_rc "host apply writes root-owned knobs" 0 "$MEMOPTCTL" --socket "$SOCK" host apply
check_eq "THP enabled written" always "$(knob_get "$THP/enabled")"
check_rc "host restore" 0 "$MEMOPTCTL" --socket "$SOCK" host restore
check_eq "THP enabled restored" madvise "$(knob_get "$THP/enabled")"
thp_reset

# A write that needs a dropped capability: the knob file belongs to another user (mode 0644), which
# only cap_dac_override lets root write.
chown 65534:65534 "$THP/enabled"
thp_reset
check_rc "host apply fails on a knob owned by another uid (needs the dropped cap_dac_override)" 1 \
	"$MEMOPTCTL" --socket "$SOCK" host apply
check_grep "the error says permission denied" "$D/last.err" "thp\.enabled.*Permission denied"
check_eq "the knob is unchanged" madvise "$(knob_get "$THP/enabled")"
# The same write by root with every capability succeeds: the refusal was the missing capability.
check "root with all capabilities (this test) can write it" thp_reset
chown 0:0 "$THP/enabled"

if wait_until 15 hook_ran; then
	sed 's/^/       hook: /' "$D/hook.status"
	check_grep "the hook runs as uid 0" "$D/hook.status" "^Uid:\s+0\s+0\s+0\s+0"
	check_grep "the hook has no effective capability" "$D/hook.status" "^CapEff:\s+0000000000000000"
	check_grep "the hook has no permitted capability" "$D/hook.status" "^CapPrm:\s+0000000000000000"
	check_grep "the hook has no ambient capability" "$D/hook.status" "^CapAmb:\s+0000000000000000"
	check_grep "the hook inherits no_new_privs" "$D/hook.status" "^NoNewPrivs:\s+1"
else
	fail "the cluster hook did not run within 15 s"
fi
daemon_stop "$DAEMON_PID" TERM 20
check_eq "memoptd stops with 0 (restores what it wrote without extra capabilities)" 0 "$IT_RC"
check_eq "the tuner's run knob is restored" 0 "$(knob_get "$FX/sys/kernel/mm/ksm/run")"

echo "-- 2. started the way memoptd.service starts it (CapabilityBoundingSet=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH)"
rm -f "$D/hook.status"
start d2 setpriv --inh-caps=-all --bounding-set=-all,+sys_ptrace,+dac_read_search || finish
show_caps "$DAEMON_PID"
check_eq "no cap_setpcap needed: CapEff/CapPrm/CapBnd are the kept set" "$KEEP_HEX $KEEP_HEX $KEEP_HEX" \
	"$CAP_Eff $CAP_Prm $CAP_Bnd"
check_eq "CapInh, CapAmb empty, NoNewPrivs set" "0000000000000000 0000000000000000 1" "$CAP_Inh $CAP_Amb $CAP_NNP"
wait_until 15 hook_ran && check_grep "the hook has no capability" "$D/hook.status" "^CapPrm:\s+0000000000000000"
daemon_stop "$DAEMON_PID" TERM 20
check_eq "memoptd exits 0" 0 "$IT_RC"

echo "-- 3. drop_capabilities = no keeps everything"
write_conf no
rm -f "$D/hook.status"
start d3 || finish
show_caps "$DAEMON_PID"
full=$(status_field $$ CapBnd)
check_eq "CapEff is the full set it was started with" "$full" "$CAP_Eff"
check_eq "NoNewPrivs not set" 0 "$CAP_NNP"
check_grep "the log says so" "$D/d3.log" "drop_capabilities = no: keeping every capability"
chown 65534:65534 "$THP/enabled"
thp_reset
check_rc "with cap_dac_override the same knob owned by another uid is written" 0 "$MEMOPTCTL" --socket "$SOCK" host apply
check_eq "THP enabled written" always "$(knob_get "$THP/enabled")"
check_rc "host restore" 0 "$MEMOPTCTL" --socket "$SOCK" host restore
chown 0:0 "$THP/enabled"
daemon_stop "$DAEMON_PID" TERM 20
check_eq "memoptd exits 0" 0 "$IT_RC"

echo "-- 4. each kept capability is needed"
write_conf yes
start d4 setpriv --inh-caps=-all --bounding-set=-all,+sys_ptrace || finish
show_caps "$DAEMON_PID"
check_eq "without cap_dac_read_search only cap_sys_ptrace is kept" 0000000000080000 "$CAP_Eff"
check_grep "a warning names the missing capability" "$D/d4.log" "started without cap_dac_read_search"
wait_until 15 ksm_scanned || fail "ksm: no VM scan within 15 s"
check "ksm: the QEMU process's ksm_stat is unreadable without cap_dac_read_search" \
	jqt '.host.qemu_processes == 1 and .host.qemu_ksm_stat_unreadable == 1' "$D/ksm.json"
check_grep "and the log says which capability is missing" "$D/d4.log" "ksm_stat \(Permission denied\).*cap_dac_read_search"
daemon_stop "$DAEMON_PID" TERM 20

start d5 setpriv --inh-caps=-all --bounding-set=-all,+dac_read_search || finish
show_caps "$DAEMON_PID"
check_eq "without cap_sys_ptrace only cap_dac_read_search is kept" 0000000000000004 "$CAP_Eff"
ctl_json "$SOCK" numa >"$D/numa5.json"
check "numa: without cap_sys_ptrace the QEMU process of another uid is not even recognised (exe link)" \
	jqt --argjson p "$VM" '.vms | map(select(.pid == $p)) | length == 0' "$D/numa5.json"
daemon_stop "$DAEMON_PID" TERM 20

echo "-- 5. [cluster] pacemaker = yes: cap_dac_override is kept for crm_attribute only (permitted, not effective)"
# Pacemaker's libqb IPC files belong to hacluster; root's crm_attribute cannot reach the CIB without it.
write_conf yes yes
rm -f "$D/hook.status" "$D/crm.status"
start d6 || finish
show_caps "$DAEMON_PID"
check_eq "CapEff is still only the two" "$KEEP_HEX" "$CAP_Eff"
check_eq "CapPrm and CapBnd add cap_dac_override" "0000000000080006 0000000000080006" "$CAP_Prm $CAP_Bnd"
check_eq "CapInh, CapAmb empty, NoNewPrivs set" "0000000000000000 0000000000000000 1" "$CAP_Inh $CAP_Amb $CAP_NNP"
crm_ran() { [ -s "$D/crm.status" ]; }
if wait_until 15 crm_ran; then
	sed 's/^/       crm_attribute: /' "$D/crm.status"
	check_grep "crm_attribute runs with cap_dac_override effective and nothing else" "$D/crm.status" \
		"^CapEff:\s+0000000000000002"
	check_grep "... permitted" "$D/crm.status" "^CapPrm:\s+0000000000000002"
else
	fail "the Pacemaker adapter did not run crm_attribute within 15 s"
fi
wait_until 15 hook_ran && check_grep "the hook still gets no capability" "$D/hook.status" "^CapPrm:\s+0000000000000000"
chown 65534:65534 "$THP/enabled"
thp_reset
check_rc "the daemon itself still cannot write a knob of another uid (not effective)" 1 \
	"$MEMOPTCTL" --socket "$SOCK" host apply
chown 0:0 "$THP/enabled"
daemon_stop "$DAEMON_PID" TERM 20
check_eq "memoptd exits 0" 0 "$IT_RC"
write_conf yes

echo "-- 6. a bounding set it cannot reduce (no cap_setpcap) is a start-up failure"
check_rc "memoptd exits 4" 4 setpriv --inh-caps=-all --bounding-set=-setpcap "$MEMOPTD" --foreground -c "$CONF"
check_grep "with a clear reason" "$D/last.err" "cannot drop capabilities: without cap_setpcap the bounding set cannot be reduced .*; it still holds .*cap_sys_admin"
check "and it left no socket behind" test ! -e "$SOCK"

finish
