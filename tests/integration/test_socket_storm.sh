#!/bin/bash
# test_socket_storm.sh - 1000 clients at once, a socket full of slow clients, non-root storms of every mutating command, queries at full rate during control cycles: every client gets an answer or a clear error, no fd leaks, no cycle delayed.
# IT-TIMEOUT: 240
# shellcheck source=tests/integration/lib.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib.sh"

STORM=$IT_B/tools/sock-storm
require_built "$MEMOPTD" "$MEMOPTCTL" "$STORM"
require_cmd jq setpriv

D=$IT_DIR
H=$D/host
SOCK=$D/run/memoptd.sock
LOAD_S=${STORM_LOAD_S:-10}
fixture_host "$H" 12000000
# Short cycles, so that many of them run during the load; the libvirt test driver gives the balloon
# module a real connection and a cycle without touching the host.
write_conf() {
	cat >"$D/memoptd.conf" <<EOF
[daemon]
$1

[ksm]
interval = 250ms

[balloon]
uri = test:///default
interval = 1s
EOF
}
write_conf ""
daemon_start daemon -c "$D/memoptd.conf" --ksmtuned-conf none --sysfs-root "$H/sys" --procfs-root "$H/proc" \
	--socket "$SOCK" --state-dir "$D/state"
if ! wait_socket "$SOCK" "$DAEMON_PID" 15; then
	fail "memoptd did not answer on $SOCK"
	finish
fi

fd_count() { find "/proc/$DAEMON_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
fds_at_baseline() { [ "$(fd_count)" -le "$FD_BASE" ]; }
still_serving() {
	check_rc "$1: the daemon still answers memoptctl status" 0 timeout 10 "$MEMOPTCTL" --socket "$SOCK" status
}
# after_storm NAME: the daemon answers, and its fd count is back to the baseline (no leaked client).
after_storm() {
	still_serving "$1"
	if wait_until 10 fds_at_baseline; then
		pass "$1: daemon fds back to the baseline ($(fd_count) <= $FD_BASE)"
	else
		fail "$1: the daemon holds $(fd_count) fds, baseline $FD_BASE (a leak?)"
		find "/proc/$DAEMON_PID/fd" -mindepth 1 -printf '%f -> %l\n' | tail -n 5 | sed 's/^/       | /'
	fi
}
# storm NAME ARGS...: run sock-storm, result in $D/NAME.json, one summary line.
storm() {
	local name=$1
	shift
	if ! timeout 120 "$STORM" --socket "$SOCK" "$@" >"$D/$name.json" 2>"$D/$name.err"; then
		fail "$name: sock-storm failed: $(head -c 300 "$D/$name.err")"
		echo '{}' >"$D/$name.json"
		return 1
	fi
	note "$name: $(jq -c '{requests, ok, errors, error_codes, failed, connect_retries, throughput_rps, latency_ms}' "$D/$name.json")"
}
# answered NAME N: all N requests got a reply: ok, or an error whose code is allowed (EBUSY).
answered() {
	check "$1: all $2 requests answered ($(jq -c '{ok, error_codes, failed}' "$D/$1.json"))" \
		jqt --argjson n "$2" '.requests == $n and .failed == 0 and .ok + .errors == $n and
			(.error_codes | keys - ["EBUSY"] | length == 0)' "$D/$1.json"
}

# Let the modules open what they keep open (libvirt connection, ...) before the baseline.
sleep 1
FD_BASE=$(fd_count)
note "daemon pid $DAEMON_PID holds $FD_BASE fds at rest"

echo "-- 1000 clients at once (max_clients = 256)"
storm storm1000 --clients 1000 --cmd status --cmd ksm --cmd log
answered storm1000 1000
check "storm1000: with the request sent at connect, every client is served (no EBUSY)" \
	jqt '.ok == 1000' "$D/storm1000.json"
after_storm storm1000

# Connect all 1000 first, send only once all are connected: the connections beyond the cap wait in
# the backlog while the first 256 hold their slots without a request, so those get evicted (EBUSY).
storm barrier1000 --clients 1000 --barrier --cmd status
answered barrier1000 1000
check "barrier1000: some clients are served" jqt '.ok > 0' "$D/barrier1000.json"
after_storm barrier1000
ctl_json "$SOCK" status >"$D/status-storm.json"
check "status: the socket never held more than max_clients (256) connections" \
	jqt '.control.max_seen <= 256 and .control.max_clients == 256' "$D/status-storm.json"

echo "-- a small cap and a short deadline, by reload: max_clients = 32, client_timeout = 2s"
write_conf $'max_clients = 32\nclient_timeout = 2s'
kill -HUP "$DAEMON_PID"
limits_reloaded() {
	ctl_json "$SOCK" status >"$D/status-reload.json" &&
		jqt '.control.max_clients == 32 and .control.client_timeout_ms == 2000' "$D/status-reload.json"
}
check "reload: status shows max_clients 32 and client_timeout 2000 ms" wait_until 10 limits_reloaded

storm cap1000 --clients 1000 --cmd status --cmd guests
answered cap1000 1000
after_storm cap1000

echo "-- slow clients: 32 (the cap) send half a request and hold it"
# Only slow clients: each is closed at client_timeout with an ETIMEDOUT reply.
storm slow-only --clients 0 --requests 0 --slow 32 --hold-ms 8000
check "slow-only: all 32 slow clients were connected" jqt '.slow.opened == 32' "$D/slow-only.json"
check "slow-only: the daemon closed all of them ($(jq -c .slow "$D/slow-only.json"))" \
	jqt '.slow.closed == 32 and .slow.still_open == 0' "$D/slow-only.json"
check "slow-only: each got an ETIMEDOUT reply, none a bare close" \
	jqt '.slow.replies == {"ETIMEDOUT": 32}' "$D/slow-only.json"
check "slow-only: closed at the 2 s deadline (1.9 s .. 3 s after the partial request)" \
	jqt '.slow.close_ms_min >= 1900 and .slow.close_ms_max < 3000' "$D/slow-only.json"
after_storm slow-only

# Slow clients fill the socket, then fast clients arrive: 50 ms later (the slow ones are not yet
# evictable: the fast ones wait) and 500 ms later (evictable at once).
for delay in 50 500; do
	storm "slow-fast-$delay" --clients 4 --requests 200 --slow 32 --fast-delay-ms "$delay" --hold-ms 8000 \
		--cmd status --cmd ksm
	answered "slow-fast-$delay" 200
	check "slow-fast-$delay: fast clients all served ok while slow ones hold the socket" \
		jqt '.ok == 200' "$D/slow-fast-$delay.json"
	check "slow-fast-$delay: worst fast request within 1 s ($(jq .latency_ms.max "$D/slow-fast-$delay.json") ms)" \
		jqt '.latency_ms.max < 1000' "$D/slow-fast-$delay.json"
	check "slow-fast-$delay: every slow client closed with EBUSY or ETIMEDOUT, none without a reply" \
		jqt '.slow.closed == 32 and (.slow.replies | keys - ["EBUSY", "ETIMEDOUT"] | length == 0)' \
		"$D/slow-fast-$delay.json"
	after_storm "slow-fast-$delay"
done

# memoptctl itself, while slow clients hold every slot.
it_spawn "$D/slow-hold.log" "$STORM" --socket "$SOCK" --clients 0 --requests 0 --slow 32 --hold-ms 8000
HOLD_PID=$IT_LAST_PID
sleep 0.5
t0=$(date +%s%N)
check_rc "memoptctl status with 32 slow clients holding the socket" 0 timeout 10 "$MEMOPTCTL" --socket "$SOCK" status
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$ms" -lt 1000 ]; then pass "... answered in ${ms} ms"; else fail "status took ${ms} ms"; fi
it_reap "$HOLD_PID" 15
after_storm "slow clients and memoptctl"

echo "-- non-root storms of every mutating command"
if [ "$(id -u)" -ne 0 ]; then
	subskip "non-root checks: need root to switch to uid 65534"
else
	chmod 755 "$D"
	cp "$STORM" "$D/sock-storm"
	chmod 755 "$D/sock-storm"
	ctl_json "$SOCK" help >"$D/help.json"
	# The list comes from the daemon's own command table, so a new mutating command is covered.
	mapfile -t mutating < <(jq -r '.commands[] | select(.mutating) | .name' "$D/help.json")
	check "help lists mutating commands (${mutating[*]})" test "${#mutating[@]}" -ge 2
	knob_values "$H/sys/kernel/mm/ksm" >"$D/knobs-before.txt"
	journal_before=$(sha256sum <"$D/state/originals.json" 2>/dev/null)
	ctl_json "$SOCK" log >"$D/log-before.json"
	for cmd in "${mutating[@]}"; do
		setpriv --reuid=65534 --regid=65534 --clear-groups timeout 60 "$D/sock-storm" --socket "$SOCK" \
			--clients 50 --requests 200 --cmd "$cmd" \
			--args '{"name":"memopt-it-no-such-vm","size":"1G","dry_run":false}' \
			>"$D/nobody-$cmd.json" 2>"$D/nobody-$cmd.err"
		check "uid 65534: 200 x '$cmd' all refused with EPERM ($(jq -c '{ok, error_codes, failed}' "$D/nobody-$cmd.json"))" \
			jqt '.requests == 200 and .ok == 0 and .failed == 0 and .error_codes == {"EPERM": 200}' \
			"$D/nobody-$cmd.json"
	done
	knob_values "$H/sys/kernel/mm/ksm" >"$D/knobs-after.txt"
	check "uid 65534: the fixture KSM knobs are unchanged" diff "$D/knobs-before.txt" "$D/knobs-after.txt"
	check_eq "uid 65534: the journal of originals is unchanged" "$journal_before" \
		"$(sha256sum <"$D/state/originals.json" 2>/dev/null)"
	ctl_json "$SOCK" log >"$D/log-after.json"
	check "uid 65534: no new decision in the log" \
		jqt --slurpfile b "$D/log-before.json" \
			'[.entries[] | select(.subsys != "ksm")] == [$b[0].entries[] | select(.subsys != "ksm")]' \
			"$D/log-after.json"
	after_storm "non-root storms"
fi

echo "-- queries at full rate for ${LOAD_S} s during control cycles (ksm every 250 ms, balloon every 1 s)"
ctl_json "$SOCK" status >"$D/cycles-before.json"
storm load --clients 8 --duration "$LOAD_S" --cmd status --cmd ksm --cmd log --cmd guests --cmd numa \
	--cmd host --cmd help
ctl_json "$SOCK" status >"$D/cycles-after.json"
check "load: no failed request ($(jq -c '{requests, ok, error_codes, throughput_rps, latency_ms}' "$D/load.json"))" \
	jqt '.failed == 0 and .ok == .requests and .requests > 1000' "$D/load.json"
for m in ksm balloon; do
	b=$(jq -c --arg m "$m" '.loop.cycles[] | select(.name == $m)' "$D/cycles-before.json")
	a=$(jq -c --arg m "$m" '.loop.cycles[] | select(.name == $m)' "$D/cycles-after.json")
	note "$m cycle before: $b"
	note "$m cycle after:  $a"
	printf '%s\n' "$a" >"$D/cycle-$m.json"
	period=$(jq -r .period_ms <<<"$a")
	fired=$(($(jq -r .fired <<<"$a") - $(jq -r .fired <<<"$b")))
	want=$((LOAD_S * 1000 * 6 / 10 / period))
	if [ "$fired" -ge "$want" ]; then
		pass "load: the $m cycle ran $fired times in ${LOAD_S} s (period $period ms, at least $want expected)"
	else
		fail "load: the $m cycle ran only $fired times in ${LOAD_S} s (period $period ms)"
	fi
	check "load: no $m cycle lost (overruns 0) and none started a period late (max $(jq .max_late_ms <<<"$a") ms)" \
		jqt --argjson p "$period" '.overruns == 0 and .max_late_ms < $p' "$D/cycle-$m.json"
done
after_storm load

daemon_stop "$DAEMON_PID" TERM 20
check_eq "memoptd stops with exit 0 after the storms" 0 "$IT_RC"
finish
