#!/bin/bash
# test_corosync_killed.sh - fault: corosync SIGKILLed on the local node (one corosync node in a network namespace, as tests/cluster does); memoptd says the cluster is unavailable, admission fails closed (exit 2, "cannot say", with the reason), the rest keeps serving, and it reconnects once corosync is back.
# IT-TIMEOUT: 300
# shellcheck source=tests/faults/lib-faults.sh disable=SC2016,SC2030,SC2031,SC2317
. "$(dirname "$0")/lib-faults.sh"

require_root
require_cmd corosync ip setsid flock
"$MEMOPTD" --help >/dev/null 2>&1 || { fail "memoptd --help failed"; finish; }

# The cluster tier's lock: its namespaces and corosync instances share the machine. Everything the
# harness starts is run with fd 9 closed, so nothing left behind keeps holding it.
CLUSTER_LOCK=${CLUSTER_LOCK:-/run/memopt-cluster.lock}
exec 9>"$CLUSTER_LOCK"
if ! flock -n 9; then
	note "waiting for the cluster tier ($CLUSTER_LOCK)"
	flock -w 1800 9 || { fail "the cluster lock stayed held for 30 min"; finish; }
fi

cd "$IT_SRC" || exit 1
export CW=$IT_DIR/cl CL_N=1 CL_PFX=moft$$
mkdir -p "$CW"
# shellcheck source=tests/cluster/lib-cluster.sh
. tests/cluster/lib-cluster.sh
ft_cl_cleanup() {
	local rc=$?
	cl_cleanup
	(exit "$rc")
	it_cleanup
}
trap ft_cl_cleanup EXIT

SOCK=$CW/n1/sock
admit_rc() { cl_ctl 1 admit "$@" >"$IT_DIR/admit.out" 2>&1; echo $?; }
cl_state() { ft_module "$SOCK" cluster; }
cl_is() { cl_state | grep -q "^$1:"; }

note "one corosync node (knet, token ${TOKEN} ms) + memoptd in namespace $CL_PFX-n1"
cl_up 9>&-
if t=$(cl_wait 90 cl_view_ok 1 1); then
	pass "memoptd joined: connected, quorate, synced, 1 member (${t}s)"
else
	fail "memoptd did not join within 90 s: $(cl_state)"
	tail -n 20 "$CW/n1/memoptd.log"
	finish
fi
check_eq "admit --mem 4G: admitted (exit 0)" 0 "$(admit_rc --mem 4G)"
check_eq "admit --mem 60G: refused (exit 1)" 1 "$(admit_rc --mem 60G)"

echo "-- fault: SIGKILL the local corosync"
cl_cs_kill 1
if t=$(cl_wait 60 cl_is disconnected); then
	pass "status says the cluster is disconnected ${t}s after the kill: $(cl_state)"
else
	fail "status does not say disconnected within 60 s: $(cl_state)"
fi
check_grep "the log says corosync was lost" "$CW/n1/memoptd.log" "cluster: .*(corosync|CPG|cpg|quorum).*(lost|fail|disconnect|error)"
check_eq "admit --mem 4G: cannot say (exit 2) - fails closed" 2 "$(admit_rc --mem 4G)"
check_grep "... with the reason" "$IT_DIR/admit.out" "not connected to corosync"
note "admit said: $(tr '\n' ' ' <"$IT_DIR/admit.out")"
check_eq "admit --reserve: cannot say (exit 2)" 2 "$(admit_rc --mem 4G --reserve)"
check_rc "memoptctl status answers" 0 cl_ctl 1 status
check_rc "memoptctl ksm answers" 0 cl_ctl 1 ksm
check_rc "memoptctl host plan answers" 0 cl_ctl 1 host plan
rc=0
cl_ctl 1 cluster >"$IT_DIR/cluster.out" 2>&1 || rc=$?
note "memoptctl cluster while disconnected: exit $rc: $(head -n 3 "$IT_DIR/cluster.out" | tr '\n' ' ')"
sleep 5
check "memoptd still runs" kill -0 "$(cat "$CW/n1/memoptd.pid")"

echo "-- corosync restarted"
cl_cs_start 1 9>&-
if t=$(cl_wait 120 cl_view_ok 1 1); then
	pass "memoptd reconnected: connected, quorate, synced ${t}s after corosync was started again"
else
	fail "memoptd did not reconnect within 120 s: $(cl_state)"
fi
note "status: cluster $(cl_state)"
check_eq "admit --mem 4G: admitted again (exit 0)" 0 "$(admit_rc --mem 4G)"
p=$(cat "$CW/n1/memoptd.pid")
kill -TERM "$p"
timeout 20 tail --pid="$p" -s 0.1 -f /dev/null
rm -f "$CW/n1/memoptd.pid"
check_grep "memoptd stopped cleanly" "$CW/n1/memoptd.log" "memoptd stopped"
finish
