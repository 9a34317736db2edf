#!/bin/bash
# test_pacemaker.sh - the Pacemaker adapter against real Pacemaker on the same 3 corosync namespaces:
#   1. with [cluster] pacemaker = yes every memoptd keeps its node's utilization attribute "memory" at
#      its capacity for VMs (headroom now + running VMs), ordered like the hosts' real headroom
#   2. placement-strategy=utilization and a resource needing 30000 MiB: Pacemaker starts it on n1, the
#      only host with that much measured room
#   3. n1's MemAvailable falls to 10 GiB, n3's rises to 36 GiB: the attributes follow within seconds and
#      Pacemaker moves the resource to n3
# Skipped when Pacemaker is not installed (scripts/install-deps.sh pacemaker).
# CLUSTER-TIMEOUT: 200
set -u
cd "$(dirname "$0")/../.." || exit 2
: "${CW:?}"
if ! command -v pacemakerd >/dev/null || ! command -v crm_attribute >/dev/null || ! id hacluster >/dev/null 2>&1; then
	echo "SKIP: Pacemaker is not installed (scripts/install-deps.sh pacemaker)"
	exit 77
fi
CL_EXTRA_CONF="pacemaker = yes"
. tests/cluster/lib-cluster.sh
trap cl_cleanup EXIT
trap 'exit 1' INT TERM

fails=0
ok() { echo "ok   $*"; }
bad() {
	echo "FAIL $*"
	fails=$((fails + 1))
}
util() { cl_pcmk 1 crm_attribute --node "n$1" --utilization --name memory --query --quiet 2>/dev/null; }
dc_ready() { cl_pcmk 1 crm_mon -1 2>/dev/null | grep -q "partition with quorum" && cl_pcmk 1 crm_mon -1 | grep -q "Online: \[ n1 n2 n3 \]"; }
where() { cl_pcmk 1 crm_resource --resource vm-big --locate 2>/dev/null | sed -n 's/.*running on: *//p'; }

cl_log "starting corosync, Pacemaker and memoptd (pacemaker = yes) in ${CL_N} namespaces"
cl_up
for i in 1 2 3; do cl_pcmk_start "$i"; done
t=$(cl_wait 90 dc_ready) && ok "Pacemaker: 3 nodes online with quorum after ${t}s" || bad "Pacemaker did not form: $(cl_pcmk 1 crm_mon -1 2>&1 | tr '\n' ' ')"
for i in 1 2 3; do cl_wait 30 cl_view_ok "$i" 3 >/dev/null || bad "n$i memoptd view did not converge"; done

attrs_set() { [ -n "$(util 1)" ] && [ -n "$(util 2)" ] && [ -n "$(util 3)" ]; }
t=$(cl_wait 40 attrs_set) && ok "every node's utilization memory is set after ${t}s: n1=$(util 1) n2=$(util 2) n3=$(util 3) MiB" ||
	bad "utilization attributes missing"
vm_mib=$(($(cl_ctl 1 --json failover-plan | jq '[.hosts[] | select(.host == "n1") | .vms[].need_kib] | add // 0') / 1024))
n1=$(util 1)
# the test driver's guest is 2 GiB: compare with the guest sizes memoptd reports (cur may exceed need)
if [ "${n1:-0}" -ge $((39 * 1024)) ] && [ "$(util 1)" -gt "$(util 3)" ] && [ "$(util 3)" -gt "$(util 2)" ]; then
	ok "n1 ($n1) > n3 ($(util 3)) > n2 ($(util 2)): headroom now + running VMs (n1's VMs need >= $vm_mib MiB)"
else
	bad "utilization not ordered by real headroom: n1=$n1 n2=$(util 2) n3=$(util 3)"
fi

cl_pcmk 1 crm_attribute --type crm_config --name stonith-enabled --update false
cl_pcmk 1 crm_attribute --type crm_config --name placement-strategy --update utilization
cl_pcmk 1 cibadmin --create --scope resources --xml-text \
	'<primitive id="vm-big" class="ocf" provider="pacemaker" type="Dummy"><utilization id="vm-big-u"><nvpair id="vm-big-u-mem" name="memory" value="30000"/></utilization></primitive>'
t=$(cl_wait 30 bash -c "[ \"\$(ip netns exec $CL_PFX-n1 crm_resource --resource vm-big --locate 2>/dev/null | sed -n 's/.*running on: *//p')\" = n1 ]") &&
	ok "a 30000 MiB resource starts on n1, the only host with that much room, after ${t}s" || bad "vm-big runs on '$(where)', not n1"

cl_set_avail 1 10
cl_set_avail 3 36
t=$(cl_wait 15 bash -c "[ \"\$(ip netns exec $CL_PFX-n1 crm_attribute --node n1 --utilization --name memory --query --quiet)\" -lt 30000 ]") &&
	ok "n1's MemAvailable 40 -> 10 GiB: its utilization follows after ${t}s ($(util 1) MiB; n3 $(util 3) MiB)" || bad "n1's utilization did not follow: $(util 1)"
t=$(cl_wait 60 bash -c "[ \"\$(ip netns exec $CL_PFX-n1 crm_resource --resource vm-big --locate 2>/dev/null | sed -n 's/.*running on: *//p')\" = n3 ]") &&
	ok "Pacemaker moved the resource to n3 after ${t}s" || bad "vm-big runs on '$(where)', not n3"
# memoptd started before Pacemaker: the first writes fail (logged once), then it retries every 5 s
grep -h "utilization written again" "$CW"/n*/memoptd.log | head -3
echo "$fails failed check(s)"
[ "$fails" = 0 ]
