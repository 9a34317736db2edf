#!/bin/bash
# test_host_fixture.sh - host policy end to end on a 2-node fixture tree: the plan sizes hugepage pools from the fixture domains' XML, apply writes and journals, SIGKILL + restart restores first, a knob made read-only fails the apply and rolls back, memoptctl numa reads the tree.
# IT-TIMEOUT: 120
# shellcheck source=tests/integration/lib.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib.sh"

require_built "$MEMOPTD" "$MEMOPTCTL"
require_cmd jq

D=$IT_DIR
SOCK=$D/run/memoptd.sock
STATE=$D/state
CONF=$D/memoptd.conf
cp -r "$IT_SRC/tests/fixtures/sys-numa-2node" "$D/sys"
cp -r "$IT_SRC/tests/fixtures/proc-host" "$D/proc"
mkdir -p "$D/domains"
cp "$IT_SRC"/tests/fixtures/domains/hp-*.xml "$IT_SRC/tests/fixtures/domains/plain.xml" "$D/domains/"
SYS=$D/sys
N0=$SYS/devices/system/node/node0/hugepages
N1=$SYS/devices/system/node/node1/hugepages
snapshot() {
	for f in "$D/proc/sys/vm/swappiness" "$D/proc/sys/vm/dirty_background_ratio" "$SYS/kernel/mm/transparent_hugepage/enabled" \
		"$SYS/kernel/mm/ksm/merge_across_nodes" "$N0/hugepages-2048kB/nr_hugepages" "$N1/hugepages-2048kB/nr_hugepages" \
		"$N0/hugepages-1048576kB/nr_hugepages" "$N1/hugepages-1048576kB/nr_hugepages"; do
		printf '%s=%s\n' "${f#"$D"/}" "$(knob_get "$f")"
	done
}
snapshot >"$D/orig.txt"

cat >"$CONF" <<EOC
[daemon]
socket = $SOCK
state_dir = $STATE
ksmtuned_conf = none
sysfs_root = $SYS
procfs_root = $D/proc

[ksm]
manage = no

[balloon]
uri = test:///default

[host]
domain_xml_dir = $D/domains
EOC
daemon_start d1 -c "$CONF"
wait_socket "$SOCK" "$DAEMON_PID" 15 || { fail "memoptd did not answer"; finish; }

ctl_json "$SOCK" numa >"$D/numa.json"
check "memoptctl numa: 2 nodes, distances 10/21, node 1 holds 16 x 2 MiB" \
	jqt '(.nodes | length) == 2 and .nodes[0].distance == [10,21] and .nodes[1].hugepages[0].nr == 16 and .libnuma == false' "$D/numa.json"
check_rc "memoptctl numa (table) exits 0" 0 "$MEMOPTCTL" --socket "$SOCK" numa

ctl_json "$SOCK" host plan >"$D/plan.json"
check_rc "memoptctl host plan exits 0" 0 "$MEMOPTCTL" --socket "$SOCK" host plan
cp "$D/last.out" "$D/plan.txt"
# db1: 4 GiB of 2 MiB pages bound to node 1 = 2048; web: 1 GiB default-size pages over nodes 0-1 = 256 each;
# big1g: 2 x 1 GiB unbound = 1 per node. Plus 2 % headroom, rounded up.
check "plan: node1 2 MiB pool 16 -> 2304 + 47 headroom" \
	jqt '.items[] | select(.key == "hugepages.node1.2048kB") | .current == "16" and .desired == "2351" and .action == "change"' "$D/plan.json"
check "plan: node0 2 MiB pool 0 -> 262" \
	jqt '.items[] | select(.key == "hugepages.node0.2048kB") | .desired == "262"' "$D/plan.json"
check "plan: 1 GiB pools 0 -> 2 on both nodes" \
	jqt '[.items[] | select(.key | test("1048576kB")) | .desired == "2"] | length == 2 and all' "$D/plan.json"
check "plan: 2 nodes, merge_across_nodes -> 0" \
	jqt '.nodes == 2 and .hugepage_domains == 3 and (.items[] | select(.key == "ksm.merge_across_nodes") | .desired == "0")' "$D/plan.json"
check_grep "plan text names the domains that need the pool" "$D/plan.txt" "why: +hugepage-backed domains \(db1, web\) need 2304 x 2 MiB on node 1"
check_eq "the plan wrote nothing" "$(cat "$D/orig.txt")" "$(snapshot)"

check_rc "host apply" 0 "$MEMOPTCTL" --socket "$SOCK" host apply
check_eq "node1 pool written" 2351 "$(knob_get "$N1/hugepages-2048kB/nr_hugepages")"
check_eq "THP enabled written" always "$(knob_get "$SYS/kernel/mm/transparent_hugepage/enabled")"
check_eq "merge_across_nodes written" 0 "$(knob_get "$SYS/kernel/mm/ksm/merge_across_nodes")"
n=$(journal_count "$STATE")
check "originals journaled ($n)" test "$n" -ge 7

daemon_stop "$DAEMON_PID" KILL 10
daemon_start d2 -c "$CONF"
wait_socket "$SOCK" "$DAEMON_PID" 15 || { fail "memoptd did not answer"; finish; }
check_eq "after SIGKILL + start every value is back" "$(cat "$D/orig.txt")" "$(snapshot)"
check_eq "journal empty" 0 "$(journal_count "$STATE")"

if [ "$(id -u)" = 0 ] && command -v mount >/dev/null; then
	if host_bind_ro "$SYS/kernel/mm/ksm/merge_across_nodes"; then
		check_rc "host apply fails on a read-only knob" 1 "$MEMOPTCTL" --socket "$SOCK" host apply
		check_grep "clear error" "$D/last.err" "ksm\.merge_across_nodes.*Read-only file system.*rolled back"
		check_eq "everything written before it was rolled back" "$(cat "$D/orig.txt")" "$(snapshot)"
		check_eq "journal empty" 0 "$(journal_count "$STATE")"
		host_unbind
	else
		subskip "bind mounts are not possible here: $(cat "$D/mount.err")"
	fi
else
	subskip "the read-only knob check needs root"
fi
daemon_stop "$DAEMON_PID" TERM 20
check_eq "memoptd exits 0" 0 "$IT_RC"
finish
