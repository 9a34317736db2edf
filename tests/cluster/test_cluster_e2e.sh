#!/bin/bash
# test_cluster_e2e.sh - 3 hosts (network namespaces + bridge), real corosync (token 1000 ms) and one
# memoptd each on its own fixture /proc (MemAvailable 40, 20, 24 GiB of 64; host_reserve 1 GiB):
#   1. views converge: every memoptd sees 3 fresh members with the right headroom, quorate
#   2. admission answers and headroom propagation (a host's MemAvailable changes -> seen elsewhere)
#   3. two nodes racing for the last 16 GiB of n2, 20 rounds: exactly one yes per round
#   4. 300 concurrent admit --reserve of 1 GiB from n1 and n3 for n2 (18 GiB left): exactly 18 yeses,
#      never more, and the same ledger on all three nodes
#   5. kill n3's corosync: n3 leaves the others' view after the token timeout; n3 says "cannot say"
#   6. kill n2's corosync: n1 loses quorum, admit and admit --reserve exit 2
#   7. restart both: views converge again, the ledger is back on every node, admit exits 0
#   8. restart n2's memoptd (ledger lost): it gets the ledger from the others
#   9. the view hook ran on n1 with the view JSON on stdin, argv "view-changed", one run at a time
# CLUSTER-TIMEOUT: 240
set -u
cd "$(dirname "$0")/../.." || exit 2
: "${CW:?}"
. tests/cluster/lib-cluster.sh
trap cl_cleanup EXIT
trap 'exit 1' INT TERM

fails=0
ok() { echo "ok   $*"; }
bad() {
	echo "FAIL $*"
	fails=$((fails + 1))
}
check() { # DESC CMD...
	local d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
admit_rc() { # HOST ARGS... -> exit status of memoptctl admit
	cl_ctl "$@" >/dev/null 2>&1
	echo $?
}
headroom_of() { # I HOST -> now_kib of HOST as I sees it
	cl_ctl "$1" --json cluster | jq -r --arg h "$2" '.hosts[] | select(.name == $h) | .now_kib'
}

# the hook records argv, its stdin and whether another run overlapped (it sleeps a little)
cat >"$CW/hook.sh" <<'H'
#!/bin/sh
d=$(dirname "$0")
in=$(cat)
n=$(printf '%s' "$in" | sed -n 's/.*"local":"\([^"]*\)".*/\1/p')
if ! mkdir "$d/hook.$n.running" 2>/dev/null; then echo overlap >>"$d/hook.$n.overlap"; fi
printf '%s %s\n' "$*" "$in" >>"$d/hook.$n.out"
sleep 0.2
rmdir "$d/hook.$n.running" 2>/dev/null
exit 0
H
chmod +x "$CW/hook.sh"
CL_EXTRA_CONF="hook = $CW/hook.sh"
cl_log "starting ${CL_N} namespaces ($CL_PFX, $CL_NET.0/24), corosync token ${TOKEN} ms, memoptd each"
cl_up

# 1. convergence
for i in 1 2 3; do
	t=$(cl_wait 30 cl_view_ok "$i" 3) && ok "n$i sees 3 fresh members, quorate, synced after ${t}s" ||
		bad "n$i view did not converge: $(cl_ctl "$i" cluster 2>&1 | tr '\n' ' ')"
done
GIB=$((1024 * 1024))
for i in 1 2 3; do
	v=$(headroom_of "$i" n2)
	check "n$i sees n2 now = 19 GiB (20 - 1 reserve): $v KiB" [ "$v" = $((19 * GIB)) ]
done

# 2. admission and propagation
check "n1: admit --mem 16G exits 0" [ "$(admit_rc 1 admit --mem 16G)" = 0 ]
check "n1: admit --mem 48G exits 1" [ "$(admit_rc 1 admit --mem 48G)" = 1 ]
check "n1: admit --target n2 --mem 20G exits 1" [ "$(admit_rc 1 admit --mem 20G --target n2)" = 1 ]
check "n1: admit --target nosuch exits 2" [ "$(admit_rc 1 admit --mem 1G --target nosuch)" = 2 ]
cl_set_avail 3 30
t=$(cl_wait 10 bash -c "[ \"\$($MEMOPTCTL --socket $CW/n1/sock --json cluster | jq -r '.hosts[] | select(.name == \"n3\") | .now_kib')\" = $((29 * GIB)) ]") &&
	ok "n3's MemAvailable 24 -> 30 GiB seen on n1 after ${t}s" || bad "n3's change not seen on n1"
cl_set_avail 3 24
cl_wait 10 bash -c "[ \"\$($MEMOPTCTL --socket $CW/n1/sock --json cluster | jq -r '.hosts[] | select(.name == \"n3\") | .now_kib')\" = $((23 * GIB)) ]" >/dev/null
out=$(cl_ctl 2 --json place --mem 22G)
check "place --mem 22G from n2 ranks n1 then n3, n2 refused" \
	[ "$(echo "$out" | jq -r '[.targets[] | .host + ":" + .verdict] | join(",")')" = "n1:admit,n3:admit,n2:refuse" ]
check "place --exclude n1 puts n3 first" [ "$(cl_ctl 2 --json place --mem 4G --exclude n1 | jq -r '.targets[0].host')" = n3 ]
check "failover-plan: N+1 holds" [ "$(cl_ctl 1 --json failover-plan | jq -r .n_plus_1)" = true ]

# 3. the race for the last 16 GiB of n2 (19 GiB now)
ones=0
for r in $(seq 1 20); do
	cl_ctl 1 admit --mem 16G --target n2 --reserve "race$r-a" >/dev/null 2>&1 &
	pa=$!
	cl_ctl 3 admit --mem 16G --target n2 --reserve "race$r-b" >/dev/null 2>&1 &
	pb=$!
	wait $pa
	ra=$?
	wait $pb
	rb=$?
	if { [ $ra = 0 ] && [ $rb = 1 ]; } || { [ $ra = 1 ] && [ $rb = 0 ]; }; then
		ones=$((ones + 1))
	else
		echo "     round $r: n1 exit $ra, n3 exit $rb"
	fi
	cl_ctl 1 release "race$r-a" >/dev/null 2>&1
	cl_ctl 1 release "race$r-b" >/dev/null 2>&1
	cl_wait 5 bash -c "[ \"\$($MEMOPTCTL --socket $CW/n1/sock --json cluster | jq '.reservations | length')\" = 0 ]" >/dev/null
done
check "20 races for n2's last 16 GiB: one yes and one no every time ($ones/20)" [ "$ones" = 20 ]

# 4. hundreds of concurrent reservations, 1 GiB each, n2 has 19 GiB; keep 1 GiB of it for step 7
check "n1 reserves 1 GiB of n2 as 'keep1' (ttl 10m)" [ "$(admit_rc 1 admit --mem 1G --target n2 --reserve keep1 --ttl 10m)" = 0 ]
bursts=()
for side in 1 3; do
	(for k in $(seq 1 150); do
		cl_ctl "$side" admit --mem 1G --target n2 --reserve "m$side-$k" --ttl 10m >/dev/null 2>&1
		echo "$?"
	done >"$CW/burst$side.txt") &
	bursts+=($!)
done
t0=$(date +%s%N)
wait "${bursts[@]}" # not a bare wait: corosync and memoptd are our children too
ms=$((($(date +%s%N) - t0) / 1000000))
yes=$(cat "$CW/burst1.txt" "$CW/burst3.txt" | grep -c '^0$')
no=$(cat "$CW/burst1.txt" "$CW/burst3.txt" | grep -c '^1$')
check "300 concurrent 1 GiB reservations for n2 (18 GiB free): $yes yes, $no no, in ${ms} ms" [ "$yes" = 18 ] && [ "$no" = 282 ]
l1=$(cl_ctl 1 --json cluster | jq -c '[.reservations[].id] | sort')
l2=$(cl_ctl 2 --json cluster | jq -c '[.reservations[].id] | sort')
l3=$(cl_ctl 3 --json cluster | jq -c '[.reservations[].id] | sort')
check "the same ledger on all three nodes ($(echo "$l1" | jq length) entries)" [ "$l1" = "$l2" ] && [ "$l2" = "$l3" ]
check "n2's headroom is 0 after them" [ "$(cl_ctl 2 --json headroom | jq -r .headroom.now_kib)" = 0 ]
for id in $(echo "$l1" | jq -r '.[]' | grep -v '^keep1$'); do
	cl_ctl 1 release "$id" >/dev/null
done
only_keep1() { [ "$(cl_ctl 2 --json cluster | jq '.reservations | length')" = 1 ]; }
check "released all but keep1" eval "cl_wait 5 only_keep1 >/dev/null"

# 5. a host crashes
cl_log "SIGKILL n3's corosync"
t0=$(date +%s%N)
cl_cs_kill 3
check "n3 (no corosync): admit exits 2" [ "$(admit_rc 3 admit --mem 1G)" = 2 ]
t=$(cl_wait 20 cl_view_ok 1 2) && ok "n3 left n1's view after ${t}s (token ${TOKEN} ms)" || bad "n3 did not leave n1's view"
check "n1 still quorate: admit exits 0" [ "$(admit_rc 1 admit --mem 1G)" = 0 ]
check "n1: admit --target n3 exits 2 (not a member)" [ "$(admit_rc 1 admit --mem 1G --target n3)" = 2 ]

# 6. a second one: quorum is lost
cl_log "SIGKILL n2's corosync"
cl_cs_kill 2
t=$(cl_wait 20 bash -c "$MEMOPTCTL --socket $CW/n1/sock --json cluster | jq -e '.quorate == false' >/dev/null") &&
	ok "n1 lost quorum after ${t}s" || bad "n1 did not lose quorum"
check "n1 without quorum: admit exits 2" [ "$(admit_rc 1 admit --mem 1G)" = 2 ]
check "n1 without quorum: admit --reserve exits 2" [ "$(admit_rc 1 admit --mem 1G --reserve nq1)" = 2 ]

# 7. both come back
cl_log "restart n2's and n3's corosync"
cl_cs_start 2
cl_cs_start 3
for i in 1 2 3; do
	t=$(cl_wait 40 cl_view_ok "$i" 3) && ok "n$i sees 3 members again after ${t}s" || bad "n$i did not see 3 members again"
done
for i in 1 2 3; do
	check "n$i's ledger holds keep1 again" bash -c "$MEMOPTCTL --socket $CW/n$i/sock --json cluster | jq -e '[.reservations[].id] == [\"keep1\"]' >/dev/null"
done
check "n3: admit exits 0 again" [ "$(admit_rc 3 admit --mem 1G)" = 0 ]
check "n2's headroom is 18 GiB (19 - keep1)" [ "$(cl_ctl 2 --json headroom | jq -r .headroom.now_kib)" = $((18 * GIB)) ]

# 8. memoptd restart
cl_memoptd_stop 2
cl_memoptd_start 2
t=$(cl_wait 30 cl_view_ok 2 3) && ok "restarted n2 memoptd sees 3 members after ${t}s" || bad "restarted n2 memoptd did not converge"
check "restarted n2 memoptd got the ledger (keep1) from the others" \
	bash -c "$MEMOPTCTL --socket $CW/n2/sock --json cluster | jq -e '[.reservations[].id] == [\"keep1\"]' >/dev/null"

# 9. the hook, on n1 (every node runs its own)
sleep 0.5
H1=$CW/hook.n1.out
check "n1's hook ran with argv view-changed and the view JSON on stdin ($(grep -c . "$H1") runs)" \
	bash -c "sed -n 's/^view-changed //p' '$H1' | jq -s -e 'length > 3 and all(.[]; .local == \"n1\")' >/dev/null"
check "a hook run on n1 saw 3 fresh hosts" bash -c "sed -n 's/^view-changed //p' '$H1' | jq -s -e 'any(.[]; [.hosts[] | select(.fresh)] | length == 3)' >/dev/null"
check "a hook run on n1 saw the quorum loss" bash -c "sed -n 's/^view-changed //p' '$H1' | jq -s -e 'any(.[]; .quorate == false and .synced == true)' >/dev/null"
check "never two runs of n1's hook at once (n2's memoptd restart kills its hook, so only n1)" test ! -e "$CW/hook.n1.overlap"

for i in 1 2 3; do
	if grep -E "ERROR|AddressSanitizer|runtime error" "$CW/n$i/memoptd.log" >/dev/null; then
		bad "n$i memoptd log has errors"
		grep -E "ERROR|AddressSanitizer|runtime error" "$CW/n$i/memoptd.log" | head -5
	fi
done
echo "$fails failed check(s)"
[ "$fails" = 0 ]
