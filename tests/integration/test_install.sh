#!/bin/bash
# test_install.sh - make install DESTDIR= puts the binaries, config, systemd unit, man pages and bash completion in place; the installed unit verifies and memoptd checks the installed config.
# IT-TIMEOUT: 120
# shellcheck source=tests/integration/lib.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib.sh"

require_built "$MEMOPTD" "$MEMOPTCTL"
require_cmd make

D=$IT_DIR

# install_into DIR [MAKE ARGS...]: make install into DESTDIR=DIR from the tested build directory.
install_into() {
	local dir=$1
	shift
	make -s -C "$IT_SRC" B="$IT_B" DESTDIR="$dir" "$@" install >"$D/install.log" 2>&1
}

R=$D/root
check "make install DESTDIR=root exits 0" install_into "$R"
for f in usr/sbin/memoptd usr/bin/memoptctl etc/memopt/memoptd.conf \
	usr/share/doc/memopt/memoptd.conf.example lib/systemd/system/memoptd.service \
	usr/share/man/man8/memoptd.8 usr/share/man/man8/memoptctl.8 usr/share/man/man5/memoptd.conf.5 \
	usr/share/bash-completion/completions/memoptctl; do
	check "installed: /$f" test -s "$R/$f"
done
check "memoptd is executable" test -x "$R/usr/sbin/memoptd"
check_grep "the unit starts /usr/sbin/memoptd in the foreground" "$R/lib/systemd/system/memoptd.service" \
	'^ExecStart=/usr/sbin/memoptd --foreground$'
check_grep "the unit is Type=notify" "$R/lib/systemd/system/memoptd.service" '^Type=notify$'
check_grep "the unit has a watchdog" "$R/lib/systemd/system/memoptd.service" '^WatchdogSec=30s$'
check_rc "the installed memoptd accepts the installed config" 0 "$R/usr/sbin/memoptd" --check-config \
	-c "$R/etc/memopt/memoptd.conf" --ksmtuned-conf none
if command -v man >/dev/null 2>&1; then
	check_rc "man finds the installed memoptd.conf(5)" 0 env MANPATH="$R/usr/share/man" man -w memoptd.conf
	check_grep "... in the installed tree" "$D/last.out" "^$R/usr/share/man/man5/memoptd.conf.5"
else
	subskip "man is not installed (Debian package man-db)"
fi

# A local config is kept on reinstall.
echo '# local' >>"$R/etc/memopt/memoptd.conf"
check "a second make install exits 0" install_into "$R"
check_grep "a second install keeps the local config" "$R/etc/memopt/memoptd.conf" '^# local$'

R2=$D/root-local
check "make install PREFIX=/usr/local exits 0" install_into "$R2" PREFIX=/usr/local
check_grep "PREFIX=/usr/local: the unit starts /usr/local/sbin/memoptd" \
	"$R2/lib/systemd/system/memoptd.service" '^ExecStart=/usr/local/sbin/memoptd --foreground$'
check "PREFIX=/usr/local: man pages under /usr/local/share/man" test -s "$R2/usr/local/share/man/man8/memoptd.8"
check "PREFIX=/usr/local: completion under /usr/local/share/bash-completion" \
	test -s "$R2/usr/local/share/bash-completion/completions/memoptctl"

if command -v systemd-analyze >/dev/null 2>&1; then
	# Verified with ExecStart pointing at the tested binary: the host has no /usr/sbin/memoptd.
	sed "s|^ExecStart=/usr/sbin/memoptd|ExecStart=$MEMOPTD|" "$R/lib/systemd/system/memoptd.service" \
		>"$D/memoptd.service"
	check_rc "systemd-analyze verify accepts the unit" 0 systemd-analyze verify --man=no "$D/memoptd.service"
	check_eq "systemd-analyze verify prints nothing" "" "$(cat "$D/last.out" "$D/last.err")"
	systemd-analyze security --offline=yes --no-pager "$D/memoptd.service" >"$D/security.txt" 2>&1
	level=$(sed -n 's/.*Overall exposure level for memoptd.service: \([0-9.]*\).*/\1/p' "$D/security.txt")
	note "systemd-analyze security: exposure $level (0 = fully sandboxed, 10 = none)"
	if [ -n "$level" ] && awk -v l="$level" 'BEGIN { exit !(l <= 3.0) }'; then
		pass "systemd-analyze security: exposure $level <= 3.0"
	else
		fail "systemd-analyze security: exposure '$level' (expected <= 3.0)"
	fi
else
	subskip "systemd-analyze is not installed (Debian package systemd)"
fi

finish
