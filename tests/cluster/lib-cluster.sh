# shellcheck shell=bash
# lib-cluster.sh - a 3-host corosync cluster in network namespaces for the cluster tier and its
# benchmark: one bridge namespace, one namespace per host with its own corosync (knet, short token) and
# its own memoptd (own fixture /proc and /sys tree, socket, state dir, config). Sourced, not run.
#
# Everything started is recorded by PID in $CW/nI/*.pid and stopped by that PID only; namespaces are
# ours by their prefix $CL_PFX (unique per run). cl_cleanup is safe to call twice (install it in a trap).
#
#   CW=/tmp/dir CL_N=3 TOKEN=1000 . tests/cluster/lib-cluster.sh
#   cl_up               namespaces, fixtures, configs, corosync + memoptd on every host
#   cl_ctl I ARGS...    memoptctl against host I's memoptd
#   cl_cleanup

CL_N=${CL_N:-3}
TOKEN=${TOKEN:-1000}
CL_PFX=${CL_PFX:-mocl$$}
CL_NET=${CL_NET:-10.98.$(($$ % 200 + 20))}
B=${B:-build}
MEMOPTD=$(readlink -f "$B/memoptd")
MEMOPTCTL=$(readlink -f "$B/memoptctl")
# MemAvailable per host, GiB (MemTotal is 64 GiB everywhere); host_reserve is 1 GiB.
CL_AVAIL_GIB=(0 40 20 24)

cl_log() { echo "  .. $(date +%T.%3N) $*"; }

cl_netns_up() {
	ip netns add "$CL_PFX-br"
	ip -n "$CL_PFX-br" link add br0 type bridge
	ip -n "$CL_PFX-br" link set br0 up
	for i in $(seq 1 "$CL_N"); do
		ip netns add "$CL_PFX-n$i"
		ip -n "$CL_PFX-n$i" link set lo up
		ip -n "$CL_PFX-br" link add "vn$i" type veth peer name eth0 netns "$CL_PFX-n$i"
		ip -n "$CL_PFX-br" link set "vn$i" master br0
		ip -n "$CL_PFX-br" link set "vn$i" up
		ip -n "$CL_PFX-n$i" addr add "$CL_NET.$i/24" dev eth0
		ip -n "$CL_PFX-n$i" link set eth0 up
	done
}

# cl_set_avail I GIB: rewrite host I's fixture MemAvailable (atomically, by rename).
cl_set_avail() {
	local d=$CW/n$1/proc kib=$(($2 * 1024 * 1024))
	sed "s/^MemAvailable:.*/MemAvailable:   $kib kB/" "$d/meminfo" >"$d/meminfo.new" && mv "$d/meminfo.new" "$d/meminfo"
}

cl_fixture() {
	local i=$1 d=$CW/n$1 src=tests/fixtures/proc-basic
	mkdir -p "$d/proc" "$d/sys/kernel/mm" "$d/state" "$d/run" "$d/cs/state"
	sed -e "s/^MemTotal:.*/MemTotal:       67108864 kB/" "$src/meminfo" >"$d/proc/meminfo"
	cp "$src/vmstat" "$d/proc/vmstat"
	cp -r "$src/pressure" "$d/proc/"
	cl_set_avail "$i" "${CL_AVAIL_GIB[$i]}"
	cat >"$d/memoptd.conf" <<C
[daemon]
socket = $d/sock
state_dir = $d/state
procfs_root = $d/proc
sysfs_root = $d/sys
ksmtuned_conf = none
[ksm]
manage = no
[balloon]
uri = test:///default
[cluster]
mode = corosync
group = memopt-test
node_name = n$i
host_reserve = 1G
report_interval = 1s
peer_expiry = 5s
${CL_EXTRA_CONF:-}
C
}

cl_cs_conf() {
	local i=$1 j
	cat <<C
totem {
    version: 2
    cluster_name: memopttest
    transport: knet
    crypto_cipher: none
    crypto_hash: none
    token: $TOKEN
}
nodelist {
C
	for j in $(seq 1 "$CL_N"); do
		printf '    node {\n        ring0_addr: %s.%d\n        nodeid: %d\n        name: n%d\n    }\n' "$CL_NET" "$j" "$j" "$j"
	done
	cat <<C
}
quorum {
    provider: corosync_votequorum
}
logging {
    to_logfile: yes
    logfile: $CW/n$i/cs/corosync.log
    to_stderr: no
    to_syslog: no
    timestamp: hires
}
system {
    state_dir: $CW/n$i/cs/state
}
C
}

# cl_cs_start I: corosync of host I; /run is bind-mounted in the private mount namespace that
# 'ip netns exec' gives it, because corosync's lock file /var/run/corosync.pid is compiled in.
cl_cs_start() {
	local i=$1 d=$CW/n$1/cs
	mkdir -p "$d/run" "$d/state"
	cl_cs_conf "$i" >"$d/corosync.conf"
	setsid ip netns exec "$CL_PFX-n$i" sh -c "mount --bind '$d/run' /run && exec corosync -f -c '$d/corosync.conf'" \
		>"$d/stdout.log" 2>&1 </dev/null &
	echo $! >"$d/corosync.pid"
	disown $! # stopped by PID; no job notices, and a bare 'wait' does not wait for it
}

cl_cs_kill() { # I: SIGKILL (a crash), by the recorded PID
	local f=$CW/n$1/cs/corosync.pid
	[ -f "$f" ] || return 0
	local p
	p=$(cat "$f")
	kill -KILL "$p" 2>/dev/null
	timeout 5 tail --pid="$p" -s 0.05 -f /dev/null 2>/dev/null
	rm -f "$f"
	# libqb leaves corosync's blackbox (8 MiB) and its clients' IPC rings in /dev/shm when corosync
	# dies: remove what this (now dead) corosync left, or every run leaks memory into the tmpfs.
	kill -0 "$p" 2>/dev/null || rm -rf "/dev/shm/qb-corosync-$p-"* "/dev/shm/qb-$p-"*
}

cl_memoptd_start() {
	local i=$1 d=$CW/n$1
	setsid ip netns exec "$CL_PFX-n$i" "$MEMOPTD" -f -c "$d/memoptd.conf" >>"$d/memoptd.log" 2>&1 </dev/null &
	echo $! >"$d/memoptd.pid"
	disown $!
}

cl_memoptd_stop() {
	local f=$CW/n$1/memoptd.pid p
	[ -f "$f" ] || return 0
	p=$(cat "$f")
	kill -TERM "$p" 2>/dev/null
	timeout 10 tail --pid="$p" -s 0.05 -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null
	rm -f "$f"
}

# cl_pcmk_start I: Pacemaker on host I, on top of its corosync. Its state directories are compiled in
# (/var/lib/pacemaker, /var/log/pacemaker), so they are bind-mounted per host, like /run.
cl_pcmk_start() {
	local i=$1 d=$CW/n$1/pcmk
	mkdir -p "$d/lib/cib" "$d/lib/pengine" "$d/lib/blackbox" "$d/lib/cores" "$d/log" "$d/run"
	chown -R hacluster:haclient "$d/lib" "$d/log"
	setsid ip netns exec "$CL_PFX-n$i" sh -c "mount --bind '$d/lib' /var/lib/pacemaker && mount --bind '$d/log' /var/log/pacemaker && mount --bind '$d/run' /run && exec pacemakerd -f" \
		>"$d/stdout.log" 2>&1 </dev/null &
	echo $! >"$d/pacemakerd.pid"
	disown $!
}

# cl_pcmk_stop I: SIGTERM pacemakerd (it stops its daemons), then SIGKILL whatever of its children
# (found by parent PID, i.e. started by us) is still there.
cl_pcmk_stop() {
	local f=$CW/n$1/pcmk/pacemakerd.pid p kids k
	[ -f "$f" ] || return 0
	p=$(cat "$f")
	kids=$(awk -v pp="$p" '$4 == pp { print $1 }' /proc/[0-9]*/stat 2>/dev/null)
	kill -TERM "$p" 2>/dev/null
	timeout 60 tail --pid="$p" -s 0.2 -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null
	for k in $kids; do kill -KILL "$k" 2>/dev/null; done
	rm -f "$f"
}

cl_pcmk() { # I ARGS...: a Pacemaker tool run on host I
	local i=$1
	shift
	ip netns exec "$CL_PFX-n$i" "$@"
}

cl_ctl() {
	local i=$1
	shift
	"$MEMOPTCTL" --socket "$CW/n$i/sock" "$@"
}

cl_up() {
	cl_netns_up
	for i in $(seq 1 "$CL_N"); do
		cl_fixture "$i"
		cl_cs_start "$i"
	done
	for i in $(seq 1 "$CL_N"); do
		cl_memoptd_start "$i"
	done
}

# cl_view_ok I N: host I's memoptd is connected, quorate, synced and sees N members with fresh reports.
cl_view_ok() {
	# -n + input: no reply at all (memoptd not answering yet) is false; jq -e alone takes empty input as true.
	cl_ctl "$1" --json cluster 2>/dev/null | jq -en --argjson n "$2" \
		'input | .connected and .quorate and .synced and ([.hosts[] | select(.member and .fresh)] | length) == $n' >/dev/null
}

# cl_wait SECS CMD...: poll CMD every 50 ms until it succeeds; prints the seconds it took.
cl_wait() {
	local limit=$1 t0 now
	shift
	t0=$(date +%s%N)
	while :; do
		"$@" && break
		now=$(date +%s%N)
		if [ $(((now - t0) / 1000000)) -ge $((limit * 1000)) ]; then
			echo "timeout"
			return 1
		fi
		sleep 0.05
	done
	now=$(date +%s%N)
	awk -v ns=$((now - t0)) 'BEGIN { printf "%.2f\n", ns / 1e9 }'
}

cl_cleanup() {
	local i
	for i in $(seq 1 "$CL_N"); do
		cl_memoptd_stop "$i"
		cl_pcmk_stop "$i"
	done
	for i in $(seq 1 "$CL_N"); do
		cl_cs_kill "$i"
	done
	for i in $(seq 1 "$CL_N"); do
		ip netns del "$CL_PFX-n$i" 2>/dev/null
	done
	ip netns del "$CL_PFX-br" 2>/dev/null
	return 0
}
