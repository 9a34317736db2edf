#!/bin/bash
# test_socket_abuse.sh - hostile clients on the control socket get errors and the daemon keeps serving; non-root may read, not mutate; memoptctl's exit codes.
# IT-TIMEOUT: 90
# shellcheck source=tests/integration/lib.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib.sh"

require_built "$MEMOPTD" "$MEMOPTCTL"
require_cmd jq socat perl setpriv

D=$IT_DIR
H=$D/host
SOCK=$D/run/memoptd.sock
fixture_host "$H" 12000000
: >"$D/memoptd.conf"
daemon_start daemon -c "$D/memoptd.conf" --ksmtuned-conf none --sysfs-root "$H/sys" --procfs-root "$H/proc" \
	--socket "$SOCK" --state-dir "$D/state"
if ! wait_socket "$SOCK" "$DAEMON_PID" 15; then
	fail "memoptd did not answer on $SOCK"
	finish
fi

still_serving() {
	check_rc "$1: the daemon still answers memoptctl status" 0 timeout 10 "$MEMOPTCTL" --socket "$SOCK" status
}

# send_socat NAME: send $D/NAME.req with socat, reply in $D/NAME.reply.
send_socat() { timeout 10 socat -t 5 - "UNIX-CONNECT:$SOCK" <"$D/$1.req" >"$D/$1.reply" 2>"$D/$1.socat.err"; }

# expect_error NAME CODE: the reply is one protocol error reply with CODE.
expect_error() {
	if jqt --arg c "$2" '.v == 1 and .ok == false and .error.code == $c and (.error.message | length > 0)' \
		"$D/$1.reply"; then
		pass "$1: error reply $2 ($(jq -r .error.message "$D/$1.reply"))"
	else
		fail "$1: expected an error reply $2, got: $(head -c 300 "$D/$1.reply")"
	fi
}

printf 'garbage\001\377\000 bytes\n' >"$D/garbage.req"
send_socat garbage
expect_error garbage EPROTO
still_serving garbage

printf '{"v":1,"cmd":"status"\n' >"$D/truncated-json.req"
send_socat truncated-json
expect_error truncated-json EPROTO
still_serving truncated-json

printf '["v",1,"cmd","status"]\n' >"$D/not-an-object.req"
send_socat not-an-object
expect_error not-an-object EPROTO
still_serving not-an-object

printf '%s\n' "$(printf '[%.0s' $(seq 1 5000))" >"$D/deep-nesting.req"
send_socat deep-nesting
expect_error deep-nesting EPROTO
still_serving deep-nesting

printf '{"v":99,"cmd":"status"}\n' >"$D/wrong-version.req"
send_socat wrong-version
expect_error wrong-version EVERSION
still_serving wrong-version

printf '{"cmd":"status"}\n' >"$D/no-version.req"
send_socat no-version
if jqt '.ok == false and (.error.code == "EPROTO" or .error.code == "EVERSION")' "$D/no-version.reply"; then
	pass "no-version: error reply $(jq -r .error.code "$D/no-version.reply")"
else
	fail "no-version: expected an EPROTO/EVERSION error, got: $(head -c 300 "$D/no-version.reply")"
fi
still_serving no-version

printf '{"v":1,"cmd":"frobnicate"}\n' >"$D/unknown-command.req"
send_socat unknown-command
expect_error unknown-command ENOCMD
still_serving unknown-command

printf '{"v":1,"cmd":"log","args":{"limit":"all"}}\n' >"$D/bad-argument.req"
send_socat bad-argument
expect_error bad-argument EINVAL
still_serving bad-argument

# 200 KiB without a newline: the daemon answers E2BIG once it has read its limit and closes. socat
# stops at the first EPIPE without reading that reply, so this one goes through raw_call.
head -c 204800 /dev/zero | tr '\0' 'x' >"$D/oversized.req"
raw_call "$SOCK" "$D/oversized.req" >"$D/oversized.reply" 2>"$D/oversized.err"
expect_error oversized E2BIG
still_serving oversized

# The same through socat: whatever socat sees, the daemon must survive it.
send_socat oversized
still_serving "oversized via socat"

# A well-formed request over the raw path works, so the errors above are about the input.
printf '{"v":1,"cmd":"status"}\n' >"$D/raw-status.req"
send_socat raw-status
check "raw-status: a hand-written valid request is answered ok" \
	jqt --argjson p "$DAEMON_PID" '.v == 1 and .ok == true and .result.pid == $p' "$D/raw-status.reply"

# Idle clients that never send anything must not block others; the daemon drops them (5 s limit).
idle=()
for i in $(seq 1 20); do
	it_spawn "$D/idle-$i.log" socat -u "UNIX-CONNECT:$SOCK" STDOUT
	idle+=("$IT_LAST_PID")
done
sleep 0.5
t0=$(date +%s%N)
check_rc "20 idle clients connected: memoptctl status still answers" 0 timeout 5 "$MEMOPTCTL" --socket "$SOCK" status
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$ms" -lt 2000 ]; then pass "... within ${ms} ms"; else fail "status took ${ms} ms with idle clients connected"; fi
all_idle_gone() {
	local p
	for p in "${idle[@]}"; do pid_alive "$p" && return 1; done
	return 0
}
check "the daemon closes idle clients (within 10 s)" wait_until 10 all_idle_gone
still_serving "idle clients"

echo "-- non-root client"
if [ "$(id -u)" -ne 0 ]; then
	subskip "non-root client checks: need root to switch to uid 65534"
else
	# The test directory is 0700 (mktemp); let uid 65534 reach the socket and a copy of memoptctl (the
	# build tree may sit under a private home directory).
	chmod 755 "$D"
	cp "$MEMOPTCTL" "$D/memoptctl"
	chmod 755 "$D/memoptctl"
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	check_rc "uid 65534: memoptctl status works (read-only)" 0 as_nobody timeout 10 "$D/memoptctl" --socket "$SOCK" status
	check_grep "uid 65534: status shows the daemon" "$D/last.out" "memoptd"
	check_rc "uid 65534: memoptctl --json ksm works" 0 as_nobody timeout 10 "$D/memoptctl" --socket "$SOCK" --json ksm
	check_rc "uid 65534: memoptctl --json help works" 0 as_nobody timeout 10 "$D/memoptctl" --socket "$SOCK" --json help
	cp "$D/last.out" "$D/help-nobody.json"
	check "uid 65534: help says this client may not mutate" \
		jqt "($IT_JQ_RESULT) | .may_mutate == false" "$D/help-nobody.json"
	ctl_json "$SOCK" help >"$D/help-root.json"
	check "root: help says root may mutate" jqt '.may_mutate == true' "$D/help-root.json"
	check "help lists every command with its mutating flag" \
		jqt '.commands | length >= 4 and all(.[]; (.name | type) == "string" and (.mutating | type) == "boolean")' \
		"$D/help-root.json"
	check "help lists status, ksm, log as read-only" \
		jqt '[.commands[] | select(.name == "status" or .name == "ksm" or .name == "log") | .mutating] == [false, false, false]' \
		"$D/help-root.json"
	# Every mutating command is refused to uid 65534 before it runs: on the wire (EPERM) and through
	# memoptctl (exit 4). The VM name does not exist, so even root's call changes nothing.
	mutating=$(jq -r '.commands[] | select(.mutating) | .name' "$D/help-root.json")
	check "help lists at least one mutating command" test -n "$mutating"
	for cmd in $mutating; do
		printf '{"v":1,"cmd":"%s","args":{"name":"memopt-it-no-such-vm","size":"1G"}}\n' "$cmd" >"$D/$cmd.req"
		chmod 644 "$D/$cmd.req"
		as_nobody bash -c "$(declare -f raw_call); raw_call \"\$1\" \"\$2\"" raw "$SOCK" "$D/$cmd.req" \
			>"$D/$cmd.reply" 2>/dev/null
		expect_error "$cmd" EPERM
		case $cmd in
		balloon-set) verb=(balloon set memopt-it-no-such-vm 1G) ;;
		balloon-release) verb=(balloon release memopt-it-no-such-vm) ;;
		reserve) verb=(admit --mem 1G --reserve memopt-it-no-such-vm) ;;
		release) verb=(release memopt-it-no-such-vm) ;;
		host-apply) verb=(host apply --dry-run) ;;
		host-restore) verb=(host restore --dry-run) ;;
		*) verb=("$cmd") ;;
		esac
		rc=0
		as_nobody timeout 10 "$D/memoptctl" --socket "$SOCK" "${verb[@]}" >"$D/$cmd.out" 2>"$D/$cmd.err" || rc=$?
		if [ "$rc" = 2 ]; then
			fail "uid 65534: memoptctl has no verb for the mutating command '$cmd' (exit 2)"
			continue
		fi
		check_eq "uid 65534: memoptctl ${verb[*]} is refused with exit 4" 4 "$rc"
		check_grep "uid 65534: ... saying why" "$D/$cmd.err" "root"
		rc=0
		timeout 10 "$MEMOPTCTL" --socket "$SOCK" "${verb[@]}" >"$D/$cmd.root.out" 2>"$D/$cmd.root.err" || rc=$?
		if [ "$rc" != 4 ]; then
			pass "root: memoptctl ${verb[*]} is not refused for permission (exit $rc: $(head -c 120 "$D/$cmd.root.err"))"
		else
			fail "root: memoptctl ${verb[*]} refused with exit 4"
		fi
	done

	# The admin group (here nogroup, gid 65534) may mutate too; switched on by a reload.
	if [ -n "$mutating" ] && getent group nogroup >/dev/null; then
		printf '[daemon]\nadmin_group = nogroup\n' >"$D/memoptd.conf"
		kill -HUP "$DAEMON_PID"
		if wait_until 10 grep -q "configuration reloaded" "$D/daemon.log"; then
			pass "admin_group = nogroup: reloaded"
		else
			fail "admin_group = nogroup: no 'configuration reloaded' in the log"
		fi
		as_nobody timeout 10 "$D/memoptctl" --socket "$SOCK" --json help >"$D/help-group.json" 2>/dev/null
		check "admin group member (gid 65534): help says it may mutate" \
			jqt "($IT_JQ_RESULT) | .may_mutate == true" "$D/help-group.json"
		cmd=${mutating%%$'\n'*}
		chmod 644 "$D/$cmd.req"
		as_nobody bash -c "$(declare -f raw_call); raw_call \"\$1\" \"\$2\"" raw "$SOCK" "$D/$cmd.req" \
			>"$D/$cmd.group.reply" 2>/dev/null
		check "admin group member: '$cmd' is not refused with EPERM" \
			jqt '.v == 1 and (.ok == true or .error.code != "EPERM")' "$D/$cmd.group.reply"
		printf '' >"$D/memoptd.conf"
		kill -HUP "$DAEMON_PID"
		wait_until 10 eval '[ "$(grep -c "configuration reloaded" "$D/daemon.log")" -ge 2 ]'
		as_nobody timeout 10 "$D/memoptctl" --socket "$SOCK" --json help >"$D/help-nogroup.json" 2>/dev/null
		check "admin group removed by a reload: uid 65534 may not mutate again" \
			jqt "($IT_JQ_RESULT) | .may_mutate == false" "$D/help-nogroup.json"
	else
		subskip "admin group checks: no mutating command or no group 'nogroup'"
	fi
fi
still_serving "non-root clients"

echo "-- memoptctl exit codes"
check_rc "no socket: memoptctl exits 3" 3 "$MEMOPTCTL" --socket "$D/none/memoptd.sock" status
check_grep "no socket: the message says memoptd is not running and names the socket" "$D/last.err" \
	"not running.*$D/none/memoptd\.sock"
check_rc "no daemon, MEMOPT_SOCKET: exits 3" 3 env MEMOPT_SOCKET="$D/none/memoptd.sock" "$MEMOPTCTL" status
check_rc "unknown verb: usage error, exit 2" 2 "$MEMOPTCTL" --socket "$SOCK" frobnicate
check_rc "unknown option: usage error, exit 2" 2 "$MEMOPTCTL" --socket "$SOCK" --frobnicate status

# A server that answers garbage, and one that never answers: protocol error / timeout, exit 5.
it_spawn "$D/fake-garbage.log" socat "UNIX-LISTEN:$D/garbage.sock,fork" SYSTEM:'head -n 1 >/dev/null; echo "this is not json"'
wait_until 5 test -S "$D/garbage.sock"
check_rc "a server answering garbage: memoptctl exits 5" 5 timeout 10 "$MEMOPTCTL" --socket "$D/garbage.sock" status
it_spawn "$D/fake-silent.log" socat "UNIX-LISTEN:$D/silent.sock,fork" SYSTEM:'cat >/dev/null'
wait_until 5 test -S "$D/silent.sock"
check_rc "a server that never answers: memoptctl --timeout 500 exits 5" 5 timeout 10 "$MEMOPTCTL" \
	--socket "$D/silent.sock" --timeout 500 status

# A socket nobody listens on any more (the daemon was SIGKILLed): exit 3 as well.
daemon_stop "$DAEMON_PID" KILL 10
check "SIGKILL leaves the socket file behind" test -S "$SOCK"
check_rc "stale socket: memoptctl exits 3" 3 "$MEMOPTCTL" --socket "$SOCK" status
check_grep "stale socket: the message says nobody listens" "$D/last.err" "not running"

finish
