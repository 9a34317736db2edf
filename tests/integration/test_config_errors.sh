#!/bin/bash
# test_config_errors.sh - memoptd --check-config refuses bad files with "file:line:" (exit 3) and unknown admin groups, accepts good ones, --print-config round-trips.
# IT-TIMEOUT: 60
# shellcheck source=tests/integration/lib.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib.sh"

require_built "$MEMOPTD"

D=$IT_DIR
# Every file is checked with the ksmtuned.conf import off, so the host's /etc/ksmtuned.conf cannot
# change the outcome.
chk() { "$MEMOPTD" --check-config --ksmtuned-conf none -c "$@"; }

# expect_refused NAME LINE ERE: $D/NAME.conf is refused with exit 3 and a "file:LINE:" message
# matching ERE on stderr.
expect_refused() {
	local f=$D/$1.conf line=$2 ere=$3 rc=0
	chk "$f" >"$D/$1.out" 2>"$D/$1.err" || rc=$?
	check_eq "$1: --check-config exits 3" 3 "$rc"
	check_grep "$1: stderr names $1.conf:$line:" "$D/$1.err" "$(printf '%s' "$f" | sed 's/[.[\*^$]/\\&/g'):$line: "
	check_grep "$1: the message says what is wrong" "$D/$1.err" "$ere"
}

cat >"$D/bad-value.conf" <<'EOF'
# a valid line, then a value of the wrong type
[ksm]
mode = always
interval = often
EOF
expect_refused bad-value 4 "interval.*'often'"

cat >"$D/unknown-key.conf" <<'EOF'
[daemon]
log_level = info

[ksm]
pages_to_scan_max = 100
EOF
expect_refused unknown-key 5 "unknown key 'pages_to_scan_max'"

cat >"$D/unknown-section.conf" <<'EOF'
[daemon]
dry_run = no
[balloon-typo]
target = 1G
EOF
expect_refused unknown-section 3 "unknown section"

cat >"$D/out-of-range.conf" <<'EOF'
[ksm]
# 100% is the most one core can give
max_cpu_percent = 50%
steady_cpu_percent = 10%
interval = 2s
max_pages_to_scan = 99999999
EOF
expect_refused out-of-range 6 "max_pages_to_scan.*99999999"

cat >"$D/bad-enum.conf" <<'EOF'
[ksm]
mode = sometimes
EOF
expect_refused bad-enum 2 "mode.*'sometimes'"

# A config with errors must not start the daemon either (exit 3, nothing listening).
rc=0
timeout 10 "$MEMOPTD" --foreground --ksmtuned-conf none -c "$D/bad-value.conf" --socket "$D/run/sock" \
	--state-dir "$D/state" >"$D/start-bad.log" 2>&1 || rc=$?
check_eq "memoptd refuses to start on a bad config (exit 3)" 3 "$rc"
check_grep "start-up refusal names file:line" "$D/start-bad.log" "bad-value\.conf:4: "
check "no socket was created" test ! -e "$D/run/sock"

# An admin_group that does not resolve is a configuration error, found by --check-config and refused at
# start-up with the same message (not a control socket failure).
printf '[daemon]\nadmin_group = memopt-it-no-such-group\n' >"$D/no-group.conf"
check_rc "admin_group naming no group: --check-config exits 3" 3 chk "$D/no-group.conf"
check_grep "... naming the file, the key and the group" "$D/last.err" \
	"no-group\.conf: \[daemon\] admin_group: no such group 'memopt-it-no-such-group'"
check_rc "admin_group naming no group: memoptd refuses to start (exit 3)" 3 timeout 10 "$MEMOPTD" --foreground \
	--ksmtuned-conf none -c "$D/no-group.conf" --socket "$D/run/group.sock" --state-dir "$D/state"
check_grep "... with the same message" "$D/last.err" "admin_group: no such group 'memopt-it-no-such-group'"
check_no_grep "... not a control socket error" "$D/last.err" "control socket"
check "... and creates no socket" test ! -e "$D/run/group.sock"
printf '[daemon]\nadmin_group = root\n' >"$D/group-root.conf"
check_rc "admin_group naming an existing group (root): --check-config exits 0" 0 chk "$D/group-root.conf"

# A missing file given with -c is an error too.
rc=0
chk "$D/does-not-exist.conf" >"$D/missing.out" 2>"$D/missing.err" || rc=$?
check_eq "a missing -c file is refused (exit 3)" 3 "$rc"
check_grep "the message names the missing file" "$D/missing.err" "does-not-exist\.conf"

# Valid files.
cat >"$D/good.conf" <<'EOF'
# memoptd.conf for the integration test
[daemon]
log_level = debug
dry_run = yes
state_dir = /tmp/memopt-it-never-used

[ksm]
mode = always
interval = 1500ms
start_avail = 4G
stop_avail = 6G
max_cpu_percent = 75%
steady_cpu_percent = 5%
EOF
check_rc "a valid file: --check-config exits 0" 0 chk "$D/good.conf"
: >"$D/empty.conf"
check_rc "an empty file: --check-config exits 0" 0 chk "$D/empty.conf"
check "docs/memoptd.conf.example exists" test -f "$IT_SRC/docs/memoptd.conf.example"
check_rc "docs/memoptd.conf.example is valid" 0 chk "$IT_SRC/docs/memoptd.conf.example"
# Uncomment every documented "#key = value" line: the documented defaults must all parse.
sed -E 's/^#([a-z_]+ *=)/\1/' "$IT_SRC/docs/memoptd.conf.example" >"$D/example-uncommented.conf"
n=$(grep -cE '^[a-z_]+ *=' "$D/example-uncommented.conf")
check "the uncommented example sets some keys ($n)" test "$n" -gt 0
check_rc "every documented key of the example ($n) parses when uncommented" 0 \
	chk "$D/example-uncommented.conf"

# --print-config output is itself a valid config that prints the same again.
for src in good empty; do
	check_rc "$src: --print-config exits 0" 0 \
		"$MEMOPTD" --print-config --ksmtuned-conf none -c "$D/$src.conf"
	cp "$D/last.out" "$D/$src.printed.conf"
	check_rc "$src: --print-config output passes --check-config" 0 chk "$D/$src.printed.conf"
	"$MEMOPTD" --print-config --ksmtuned-conf none -c "$D/$src.printed.conf" >"$D/$src.printed2.conf" 2>&1
	# The first line names the file the configuration came from; everything else must be equal.
	if diff <(sed 1d "$D/$src.printed.conf") <(sed 1d "$D/$src.printed2.conf") >"$D/$src.diff"; then
		pass "$src: printing the printed config gives the same settings"
	else
		fail "$src: printing the printed config changes settings"
		sed 's/^/       | /' "$D/$src.diff" | head -n 20
	fi
done
check_grep "the printed config carries the file's values" "$D/good.printed.conf" "^interval *= *(1500ms|1\.5s)"
check_grep "the printed config carries the file's values (mode)" "$D/good.printed.conf" "^mode *= *always"

finish
