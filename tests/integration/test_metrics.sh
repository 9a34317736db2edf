#!/bin/bash
# test_metrics.sh - the Prometheus endpoint of the real memoptd on fixture trees: promtool accepts every scrape, values equal memoptctl --json, hostile names are escaped, loopback by default, 404/405, reload swaps the listener only on success, 200 scrapes do not stall the loop.
# IT-TIMEOUT: 180
# shellcheck source=tests/integration/lib.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib.sh"

require_built "$MEMOPTD" "$MEMOPTCTL"
require_cmd jq curl promtool perl

D=$IT_DIR

# free_port: a TCP port on 127.0.0.1 nobody listens on now.
free_port() {
	perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
		LocalPort => 0, ReuseAddr => 1) or die "$!\n"; print $s->sockport, "\n";'
}

# listening PID: "ADDRESS:PORT" of every listening TCP socket of process PID, from /proc/net/tcp{,6}
# (addresses in the kernel's hex), one per line, sorted.
listening() {
	local pid=$1 inodes
	inodes=$(find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n' | sort -u)
	[ -n "$inodes" ] || return 0
	awk -v inodes="$inodes" 'BEGIN { n = split(inodes, a, "\n"); for (i = 1; i <= n; i++) want[a[i]] = 1 }
		FNR > 1 && $4 == "0A" && ($10 in want) { print $2 }' /proc/net/tcp /proc/net/tcp6 | sort
}

# A port in hex as /proc/net/tcp writes it.
hexport() { printf '%04X' "$1"; }

# scrape PORT FILE [PATH]: GET into FILE; prints the status code.
scrape() { curl -sS -m 5 -o "$2" -w '%{http_code}' "http://127.0.0.1:$1${3:-/metrics}" 2>>"$D/curl.err"; }

# value FILE SERIES: the value of the exact series (name plus labels as written), empty if absent.
# (ENVIRON, not -v: awk would read the backslashes of escaped label values as escapes.)
value() { S=$2 awk '$0 !~ /^#/ { v = $NF; $NF = ""; sub(/ $/, ""); if ($0 == ENVIRON["S"]) print v }' "$1"; }

# promtool_ok FILE: promtool check metrics accepts FILE without a single complaint.
promtool_ok() {
	promtool check metrics <"$1" >"$D/promtool.out" 2>&1 || return 1
	[ ! -s "$D/promtool.out" ]
}

# --- a fake host with a hostile process name and a libvirt test driver with a hostile domain name --
H=$D/host
fixture_host "$H"
# A QEMU process with KSM activity whose -name holds a quote, a backslash, a newline and a byte that
# is not UTF-8. The QEMU name reader already turns control and non-ASCII bytes into '?'; the quote and
# the backslash reach the exposition writer (its unit test covers newlines and bad UTF-8).
EVIL=$'we"ird\\name\nnext\xff'
mkdir -p "$H/proc/4242"
printf 'qemu-system-x86_64\0-name\0guest=%s,debug-threads=on\0-m\0002048\0' "$EVIL" >"$H/proc/4242/cmdline"
printf '4242 (qemu-system-x86) S 1 4242 4242 0 -1 4194560 1234 0 12 0 0 0 0 0 20 0 4 0 3001 0 0 18446744073709551615 1 1 0 0 0 0 0 4096 1260 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n' \
	>"$H/proc/4242/stat"
printf '150000\n' >"$H/proc/4242/ksm_merging_pages"
printf 'ksm_rmap_items 262144\nksm_zero_pages 1024\nksm_merging_pages 150000\nksm_process_profit 601817088\nksm_merge_any: no\nksm_mergeable: yes\n' \
	>"$H/proc/4242/ksm_stat"
# The ksmd kernel thread (PF_KTHREAD in the flags, no exe): 250 + 150 clock ticks of CPU.
mkdir -p "$H/proc/77"
printf '77 (ksmd) S 2 0 0 0 -1 2097216 0 0 0 0 250 150 0 0 25 5 1 0 30 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n' \
	>"$H/proc/77/stat"
# KSM counters of a host that merges: shared 1000 pages, sharing 3000
printf '1000\n' >"$H/sys/kernel/mm/ksm/pages_shared"
printf '3000\n' >"$H/sys/kernel/mm/ksm/pages_sharing"
printf '7\n' >"$H/sys/kernel/mm/ksm/full_scans"

cat >"$D/node.xml" <<'XML'
<node>
  <cpu><mhz>2000</mhz><model>i686</model><active>4</active>
    <nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>1</threads></cpu>
  <memory>16777216</memory>
  <domain type='test'>
    <name>q&quot;uo\te</name>
    <uuid>6695eb01-f6a4-8304-79aa-97f2502e1930</uuid>
    <memory unit='MiB'>2048</memory>
    <currentMemory unit='MiB'>1536</currentMemory>
    <vcpu>1</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    <devices><memballoon model='virtio'><stats period='10'/></memballoon></devices>
  </domain>
</node>
XML

PORT=$(free_port)
cat >"$D/memoptd.conf" <<EOF2
[ksm]
interval = 1s

[balloon]
uri = test://$D/node.xml

[metrics]
listen = 127.0.0.1:$PORT
EOF2
SOCK=$D/m.sock
daemon_start m -c "$D/memoptd.conf" --ksmtuned-conf none --sysfs-root "$H/sys" --procfs-root "$H/proc" \
	--socket "$SOCK" --state-dir "$D/state"
if ! wait_socket "$SOCK" "$DAEMON_PID" 15; then
	fail "memoptd did not answer on $SOCK within 15 s"
	finish
fi
PID=$DAEMON_PID

echo "-- one scrape"
# The KSM and balloon series appear after each module's first cycle.
ready() { scrape "$PORT" "$D/m.txt" >/dev/null && grep -q '^memopt_balloon_current_bytes' "$D/m.txt" &&
	grep -q '^memopt_ksm_cycles_total' "$D/m.txt"; }
check "GET /metrics answers with KSM and balloon series within 10 s" wait_until 10 ready
check_eq "GET /metrics is 200" 200 "$(scrape "$PORT" "$D/m.txt")"
ctype=$(curl -sS -m 5 -o /dev/null -w '%{content_type}' "http://127.0.0.1:$PORT/metrics")
check_eq "Content-Type is the text format 0.0.4" "text/plain; version=0.0.4; charset=utf-8" "$ctype"
if promtool_ok "$D/m.txt"; then
	pass "promtool check metrics: no complaint"
else
	fail "promtool check metrics complains:"
	sed 's/^/       | /' "$D/promtool.out" | head -n 20
fi
cp "$D/m.txt" "$D/first-scrape.txt"
dups=$(grep -E '^# (HELP|TYPE) ' "$D/m.txt" | awk '{ print $2, $3 }' | sort | uniq -d)
check_eq "HELP and TYPE once per family" "" "$dups"
bad=$(grep -E '^# TYPE [^ ]+ counter$' "$D/m.txt" | awk '$3 !~ /_total$/ { print $3 }')
check_eq "every counter ends in _total" "" "$bad"
bad=$(grep -vE '^#' "$D/m.txt" | awk '{ print $1 }' | sed 's/{.*//' | grep -v '^memopt_' | sort -u)
check_eq "every series has the memopt_ prefix" "" "$bad"
n=$(grep -c '^# TYPE' "$D/m.txt")
check "at least 45 families ($n)" test "$n" -ge 45

echo "-- hostile names are escaped"
VMSER='{domain="we\"ird\\name?next?",pid="4242",source="cmdline"}'
check_eq "the process named by -name has its quote and backslash escaped" 614400000 \
	"$(value "$D/m.txt" "memopt_ksm_vm_merging_bytes$VMSER")"
check_grep "the libvirt domain q\"uo\\te is escaped" "$D/m.txt" '^memopt_balloon_current_bytes\{domain="q\\"uo\\\\te"\} 1610612736$'

echo "-- values equal memoptctl --json"
# The tuner runs every second and may change a knob between the two reads: compare a few times.
same_ksm() {
	scrape "$PORT" "$D/c.txt" >/dev/null && ctl_json "$SOCK" ksm >"$D/ksm.json" || return 1
	[ "$(value "$D/c.txt" 'memopt_ksm_knob{knob="pages_to_scan"}')" = "$(jq .knobs.pages_to_scan "$D/ksm.json")" ] &&
		[ "$(value "$D/c.txt" 'memopt_ksm_knob{knob="run"}')" = "$(jq .knobs.run "$D/ksm.json")" ] &&
		[ "$(value "$D/c.txt" 'memopt_ksm_run')" = "$(jq .host.run "$D/ksm.json")" ] &&
		[ "$(value "$D/c.txt" "memopt_ksm_controller_phase{phase=\"$(jq -r .controller.state "$D/ksm.json")\"}")" = 1 ]
}
check "KSM knobs, run and controller phase equal memoptctl --json ksm" wait_until 10 same_ksm
page=$(getconf PAGESIZE)
check_eq "pages_sharing in bytes = memoptctl's pages_sharing x page size" "$((3000 * page))" \
	"$(value "$D/c.txt" memopt_ksm_pages_sharing_bytes)"
check_eq "memoptctl --json ksm agrees on pages_sharing" 3000 "$(jq .host.pages_sharing "$D/ksm.json")"
check_eq "full_scans_total = memoptctl's full_scans" "$(jq .host.full_scans "$D/ksm.json")" \
	"$(value "$D/c.txt" memopt_ksm_full_scans_total)"
check_eq "ksmd CPU seconds = its utime + stime" "$(awk -v t="$(getconf CLK_TCK)" 'BEGIN { print 400 / t }')" \
	"$(value "$D/c.txt" memopt_ksmd_cpu_seconds_total)"
check "memoptctl --json ksm reads ksmd's CPU too" jqt '.host.ksmd_cpu_percent != null' "$D/ksm.json"
vm_saved=$(jq '.vms[] | select(.pid == 4242) | .saved_mib' "$D/ksm.json")
check "per-VM saved bytes = memoptctl's saved_mib" \
	awk -v b="$(value "$D/c.txt" "memopt_ksm_vm_saved_bytes$VMSER")" \
	-v m="$vm_saved" 'BEGIN { d = b / 1048576 - m; exit !(b > 0 && d < 0.001 && d > -0.001) }'

ctl_json "$SOCK" status >"$D/status.json"
check_eq "MemTotal bytes = status mem_total_kib x 1024" "$(($(jq .host.mem_total_kib "$D/status.json") * 1024))" \
	"$(value "$D/c.txt" memopt_host_memory_total_bytes)"
check_eq "MemAvailable bytes = status mem_avail_kib x 1024" "$(($(jq .host.mem_avail_kib "$D/status.json") * 1024))" \
	"$(value "$D/c.txt" memopt_host_memory_available_bytes)"
ctl_json "$SOCK" guests >"$D/guests.json"
check_eq "balloon current bytes = guests actual_kib x 1024" \
	"$(($(jq '.guests[0].actual_kib' "$D/guests.json") * 1024))" \
	"$(value "$D/c.txt" 'memopt_balloon_current_bytes{domain="q\"uo\\te"}')"
check_eq "balloon floor bytes = guests floor_kib x 1024" "$(($(jq '.guests[0].floor_kib' "$D/guests.json") * 1024))" \
	"$(value "$D/c.txt" 'memopt_balloon_floor_bytes{domain="q\"uo\\te"}')"
ctl_json "$SOCK" headroom >"$D/headroom.json"
check_eq "headroom now bytes = memoptctl headroom now_kib x 1024" \
	"$(($(jq .headroom.now_kib "$D/headroom.json") * 1024))" "$(value "$D/c.txt" memopt_headroom_now_bytes)"
check_eq "the daemon reports itself up, not dry-run" "1 0" \
	"$(value "$D/c.txt" 'memopt_module_up{module="ksm"}') $(value "$D/c.txt" memopt_dry_run)"

echo "-- bad requests"
check_eq "GET /nope is 404" 404 "$(scrape "$PORT" "$D/404.txt" /nope)"
check_eq "GET /metrics/extra is 404" 404 "$(scrape "$PORT" "$D/404.txt" /metrics/extra)"
code=$(curl -sS -m 5 -o /dev/null -w '%{http_code}' -X POST --data x "http://127.0.0.1:$PORT/metrics")
check_eq "POST /metrics is 405" 405 "$code"
# Not HTTP, and HTTP with a broken header line: an error status or a closed connection, at once.
raw() {
	timeout 5 perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]") or exit 1;
		local $/; my $in = <STDIN>; print $s $in; my $r = <$s>; print $r // "";' "$PORT"
}
printf 'GARBAGE\x00\xff\r\n\r\n' | raw >"$D/garbage.out"
check_eq "a line that is not HTTP: answered or closed within 5 s" 0 "$?"
check_no_grep "... and never with 200" "$D/garbage.out" '^HTTP/1\.[01] 200'
printf 'GET /metrics HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n' | raw >"$D/badheader.out"
check_grep "a broken header line gets 400" "$D/badheader.out" '^HTTP/1\.1 400'
exec 7<>"/dev/tcp/127.0.0.1/$PORT"
check_eq "after them GET /metrics is 200 again" 200 "$(scrape "$PORT" "$D/after.txt")"
check_eq "the 404s are counted" 2 "$(value "$D/after.txt" 'memopt_metrics_requests_total{code="404"}')"
check "memoptd still answers on its control socket" ctl_up "$SOCK"

echo "-- 200 scrapes while an idle client holds a connection: the loop keeps its cycle"
c0=$(value "$D/after.txt" memopt_ksm_cycles_total)
t0=$(date +%s%N)
: >"$D/codes.txt"
# 100 on one keep-alive connection, 100 on a connection each.
urls=()
for ((i = 0; i < 100; i++)); do urls+=(-o /dev/null "http://127.0.0.1:$PORT/metrics"); done
curl -sS -m 60 -w '%{http_code}\n' "${urls[@]}" >>"$D/codes.txt" 2>>"$D/curl.err"
for ((i = 0; i < 100; i++)); do
	scrape "$PORT" "$D/s.txt" >>"$D/codes.txt"
	echo >>"$D/codes.txt"
done
# And at least 3 s of scraping, so that the cycle count says something.
while [ $((($(date +%s%N) - t0) / 1000000)) -lt 3000 ]; do scrape "$PORT" "$D/s.txt" >/dev/null; done
t1=$(date +%s%N)
scrape "$PORT" "$D/end.txt" >/dev/null
c1=$(value "$D/end.txt" memopt_ksm_cycles_total)
check_eq "200 scrapes, all 200" "200 200" "$(wc -l <"$D/codes.txt") $(grep -c '^200$' "$D/codes.txt")"
ms=$(((t1 - t0) / 1000000))
want=$((ms / 1000 - 1))
note "$((c1 - c0)) KSM cycles of 1 s in $ms ms of scraping"
check "the KSM tuner kept its 1 s cycle ($((c1 - c0)) cycles in $ms ms, want >= $want)" test $((c1 - c0)) -ge "$want"
check "the last scrape passes promtool" promtool_ok "$D/end.txt"
check "memoptd still answers on its control socket" ctl_up "$SOCK"
exec 7>&-

echo "-- SIGHUP: the listener changes only when the new one opens"
P2=$(free_port)
sed -i "s/^listen = .*/listen = 127.0.0.1:$P2/" "$D/memoptd.conf"
kill -HUP "$PID"
new_up() { [ "$(scrape "$P2" "$D/r.txt")" = 200 ]; }
check "after SIGHUP the new port serves" wait_until 10 new_up
old_down() { ! curl -s -m 2 -o /dev/null "http://127.0.0.1:$PORT/metrics"; }
check "and the old port is closed" wait_until 10 old_down
# A bad address: the whole reload is refused with file:line, the listener stays.
sed -i "s/^listen = .*/listen = localhost:$P2/" "$D/memoptd.conf"
kill -HUP "$PID"
line=$(grep -n '^listen = ' "$D/memoptd.conf" | cut -d: -f1)
refused() { grep -q "reload refused.*memoptd.conf:$line: \[metrics\] listen: invalid value 'localhost:$P2'" "$D/m.log"; }
check "a bad address: reload refused, the log names file:line" wait_until 10 refused
check_eq "the listener keeps serving" 200 "$(scrape "$P2" "$D/r.txt")"
# A port someone else holds: the config is valid, the old listener stays.
P3=$(free_port)
perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
	LocalPort => $ARGV[0], ReuseAddr => 1) or die; sleep 60' "$P3" &
BLOCKER=$!
IT_PIDS+=("$BLOCKER")
wait_until 5 eval "grep -q ':$(hexport "$P3") 00000000:0000 0A' /proc/net/tcp"
sed -i "s/^listen = .*/listen = 127.0.0.1:$P3/" "$D/memoptd.conf"
kill -HUP "$PID"
kept() { grep -q "metrics: keeping the old listener 127.0.0.1:$P2" "$D/m.log"; }
check "a port in use: the log says the old listener is kept" wait_until 10 kept
check_grep "and why" "$D/m.log" "metrics: cannot listen on 127.0.0.1:$P3: Address already in use"
check_eq "the old listener keeps serving" 200 "$(scrape "$P2" "$D/r.txt")"
kill "$BLOCKER" 2>/dev/null
wait "$BLOCKER" 2>/dev/null
# IPv6 loopback, where the host has it.
if grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
	P5=$(free_port)
	sed -i "s/^listen = .*/listen = [::1]:$P5/" "$D/memoptd.conf"
	kill -HUP "$PID"
	v6_up() { [ "$(curl -sS -g -m 5 -o "$D/v6.txt" -w '%{http_code}' "http://[::1]:$P5/metrics")" = 200 ]; }
	check "listen = [::1]:PORT serves over IPv6" wait_until 10 v6_up
	check_eq "... and only there" "00000000000000000000000001000000:$(hexport "$P5")" "$(listening "$PID")"
else
	subskip "no IPv6 loopback on this host: [::1] not checked"
fi
# listen = off closes it.
sed -i "s/^listen = .*/listen = off/" "$D/memoptd.conf"
kill -HUP "$PID"
no_listener() { [ -z "$(listening "$PID")" ]; }
check "listen = off: memoptd has no TCP listener left" wait_until 10 no_listener
daemon_stop "$PID" TERM 20
check_eq "memoptd stops with exit 0" 0 "$IT_RC"

echo "-- host policy: applied knobs, originals and drift"
cp -r "$IT_SRC/tests/fixtures/sys-numa-2node" "$D/hp-sys"
cp -r "$IT_SRC/tests/fixtures/proc-host" "$D/hp-proc"
P4=$(free_port)
cat >"$D/host.conf" <<EOF2
[ksm]
manage = no

[balloon]
uri = test:///default

[host]
domain_xml_dir = none
interval = 1s

[metrics]
listen = 127.0.0.1:$P4
EOF2
daemon_start hp -c "$D/host.conf" --ksmtuned-conf none --sysfs-root "$D/hp-sys" --procfs-root "$D/hp-proc" \
	--socket "$D/hp.sock" --state-dir "$D/state-hp"
if wait_socket "$D/hp.sock" "$DAEMON_PID" 15; then
	check_rc "memoptctl host apply on the fixture tree" 0 "$MEMOPTCTL" --socket "$D/hp.sock" host apply
	ctl_json "$D/hp.sock" host >"$D/host.json"
	scrape "$P4" "$D/hp.txt" >/dev/null
	check "promtool accepts the host policy series" promtool_ok "$D/hp.txt"
	applied=$(jq -r '.items[] | select(.key == "vm.swappiness") | .applied' "$D/host.json")
	orig=$(jq -r '.items[] | select(.key == "vm.swappiness") | .original' "$D/host.json")
	check_eq "vm.swappiness: applied and original as memoptctl --json host shows them" "10 60" "$applied $orig"
	check_eq "memopt_host_knob_info carries both" 1 \
		"$(value "$D/hp.txt" "memopt_host_knob_info{knob=\"vm.swappiness\",applied=\"$applied\",original=\"$orig\"}")"
	check_eq "memopt_host_knob_value applied / original" "$applied $orig" \
		"$(value "$D/hp.txt" 'memopt_host_knob_value{knob="vm.swappiness",value="applied"}') $(value "$D/hp.txt" 'memopt_host_knob_value{knob="vm.swappiness",value="original"}')"
	check_eq "managed knobs = memoptctl's applied count" "$(jq .applied "$D/host.json")" \
		"$(value "$D/hp.txt" memopt_host_knobs_managed)"
	# Someone else changes it: the drift check (every 1 s) yields it.
	printf '33\n' >"$D/hp-proc/sys/vm/swappiness"
	drifted() {
		scrape "$P4" "$D/hp.txt" >/dev/null &&
			[ "$(value "$D/hp.txt" memopt_host_drift_events_total)" = 1 ] &&
			[ "$(value "$D/hp.txt" 'memopt_host_knob_yielded{knob="vm.swappiness"}')" = 1 ]
	}
	check "a changed knob: drift_events_total 1 and the knob yielded" wait_until 10 drifted
	ctl_json "$D/hp.sock" host >"$D/host2.json"
	check_eq "memoptctl --json host agrees on the drift events" 1 "$(jq .drift_events "$D/host2.json")"
	daemon_stop "$DAEMON_PID" TERM 20
	check_eq "the host policy daemon stops with exit 0" 0 "$IT_RC"
else
	fail "the host policy daemon did not answer"
fi

echo "-- the default listens on loopback only"
if grep -q ":$(hexport 9720) [0-9A-F:]* 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
	subskip "port 9720 is taken on this machine; the default listener cannot be checked"
else
	printf '[balloon]\nuri = test:///default\n' >"$D/default.conf"
	daemon_start d -c "$D/default.conf" --ksmtuned-conf none --sysfs-root "$H/sys" --procfs-root "$H/proc" \
		--socket "$D/d.sock" --state-dir "$D/state-d" --dry-run
	if wait_socket "$D/d.sock" "$DAEMON_PID" 15; then
		check_eq "the only TCP listener is 127.0.0.1:9720" "0100007F:$(hexport 9720)" "$(listening "$DAEMON_PID")"
		check_eq "and it serves the metrics" 200 "$(scrape 9720 "$D/d.txt")"
		check "promtool accepts a dry-run daemon's metrics" promtool_ok "$D/d.txt"
		check_eq "dry-run shows" 1 "$(value "$D/d.txt" memopt_dry_run)"
		daemon_stop "$DAEMON_PID" TERM 20
		check_eq "the default daemon stops with exit 0" 0 "$IT_RC"
	else
		fail "the default daemon did not answer"
	fi
fi

finish
