#!/bin/bash
# test_sighup.sh - SIGHUP reload: a bad file (or an unknown admin group) is refused with file:line and the old settings stay; a good one is applied.
# IT-TIMEOUT: 90
# shellcheck source=tests/integration/lib.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib.sh"

require_built "$MEMOPTD" "$MEMOPTCTL"
require_cmd jq

D=$IT_DIR
H=$D/host
SOCK=$D/run/memoptd.sock
CONF=$D/memoptd.conf
# No memory pressure on the fake host: this test is about the configuration, not about acting.
fixture_host "$H" 12000000

# write_conf MODE EXTRA_KSM_LINES [DRY_RUN [INTERVAL [TAIL]]]: the test's config; EXTRA_KSM_LINES start
# on line 13, TAIL lines (another section) go at the end.
write_conf() {
	cat >"$CONF.tmp" <<EOF
# memoptd.conf of test_sighup
[daemon]
socket = $SOCK
state_dir = $D/state
sysfs_root = $H/sys
procfs_root = $H/proc
ksmtuned_conf = none
dry_run = ${3:-no}

[ksm]
mode = $1
interval = ${4:-2s}
$2

[balloon]
# test daemons stay off the host's real libvirtd
uri = test:///default
${5:-}
EOF
	mv "$CONF.tmp" "$CONF"
}

ksm_mode() { ctl_json "$SOCK" ksm | jq -r '.mode'; }
log_count() { grep -c -- "$1" "$D/daemon.log" 2>/dev/null; }
log_has_n() { [ "$(log_count "$1")" -ge "$2" ]; }

# hup_and_wait PATTERN N: SIGHUP, then wait until the daemon log holds N lines matching PATTERN.
hup_and_wait() {
	kill -HUP "$DAEMON_PID"
	wait_until 10 log_has_n "$1" "$2"
}

write_conf auto ""
daemon_start daemon -c "$CONF"
if ! wait_socket "$SOCK" "$DAEMON_PID" 15; then
	fail "memoptd did not answer on $SOCK"
	finish
fi
check_eq "the daemon runs with mode auto" auto "$(ksm_mode)"
check "status says the config file" eval 'ctl_json "$SOCK" status | jq -e --arg c "$CONF" ".config == \$c" >/dev/null'

# 1. A value error on line 13; the same file also asks for mode=always, which must not take effect.
write_conf always "max_cpu_percent = 250%"
if hup_and_wait "reload refused" 1; then
	pass "bad value: the daemon logs 'reload refused'"
else
	fail "bad value: no 'reload refused' in the log within 10 s"
fi
check_grep "bad value: the refusal names file:line" "$D/daemon.log" \
	"reload refused.*memoptd\.conf:13: .*max_cpu_percent"
check "bad value: the daemon still runs" pid_alive "$DAEMON_PID"
check_rc "bad value: memoptctl status still works" 0 "$MEMOPTCTL" --socket "$SOCK" status
check_eq "bad value: the old settings stay in effect (mode auto)" auto "$(ksm_mode)"

# 2. An unknown key.
write_conf always "pages_per_second = 10"
hup_and_wait "reload refused" 2
check_grep "unknown key: refused with file:line" "$D/daemon.log" \
	"reload refused.*memoptd\.conf:13: .*unknown key 'pages_per_second'"
check_eq "unknown key: mode still auto" auto "$(ksm_mode)"

# 3. Each line valid, but the file as a whole is not (stop_avail below start_avail).
write_conf always "start_avail = 8G
stop_avail = 4G"
hup_and_wait "reload refused" 3
check_grep "cross-key error: refused, naming the file and the keys" "$D/daemon.log" \
	"reload refused.*memoptd\.conf.*stop_avail"
check_eq "cross-key error: mode still auto" auto "$(ksm_mode)"

# 4. The file disappears.
mv "$CONF" "$CONF.away"
hup_and_wait "reload refused" 4
check_grep "missing file: refused" "$D/daemon.log" "reload refused.*memoptd\.conf"
check "missing file: the daemon still runs" pid_alive "$DAEMON_PID"
check_eq "missing file: mode still auto" auto "$(ksm_mode)"

# 4b. An admin_group that does not resolve: the whole reload is refused, not just the group.
write_conf always "" no 2s "[daemon]
admin_group = memopt-it-no-such-group"
hup_and_wait "reload refused" 5
check_grep "unknown admin_group: refused, naming the file, key and group" "$D/daemon.log" \
	"reload refused.*memoptd\.conf: \[daemon\] admin_group: no such group 'memopt-it-no-such-group'"
check_eq "unknown admin_group: the rest of the file is not applied either (mode still auto)" auto "$(ksm_mode)"
check "unknown admin_group: status still works" ctl_up "$SOCK"
check_no_grep "no reload was applied so far" "$D/daemon.log" "configuration reloaded"

# 5. A valid change: mode always, and a dry run so the fake host is left alone.
write_conf always "" yes 1s
check_rc "the new file passes --check-config" 0 "$MEMOPTD" --check-config -c "$CONF"
if hup_and_wait "configuration reloaded" 1; then
	pass "valid file: the daemon logs 'configuration reloaded'"
else
	fail "valid file: no 'configuration reloaded' in the log within 10 s"
fi
check_eq "valid file: the new mode is in effect" always "$(ksm_mode)"
check "valid file: the new dry_run is in effect" \
	eval 'ctl_json "$SOCK" status | jq -e ".dry_run == true" >/dev/null'
check "valid file: memoptctl log records the reload" \
	eval 'ctl_json "$SOCK" log | jq -e "[.entries[] | select(.action | test(\"reloaded\"))] | length == 1" >/dev/null'
check "valid file: the daemon's pid did not change" \
	eval 'ctl_json "$SOCK" status | jq -e --argjson p "$DAEMON_PID" ".pid == \$p" >/dev/null'

# 6. A bad file after a good reload keeps the reloaded settings, not the start-up ones.
write_conf auto "interval = 1s" yes 1s
hup_and_wait "reload refused" 6
check_grep "duplicate key: refused with file:line" "$D/daemon.log" "reload refused.*memoptd\.conf:13: "
check_eq "duplicate key: the reloaded mode (always) stays" always "$(ksm_mode)"

daemon_stop "$DAEMON_PID" TERM 20
check_eq "SIGTERM after the reloads: exit 0" 0 "$IT_RC"

finish
