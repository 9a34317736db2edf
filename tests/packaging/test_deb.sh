#!/bin/bash
# test_deb.sh - the memopt .deb: built from a clean copy (source tree untouched), lintian-clean, the right file list, conffile and Depends; the unpacked programs run against the packaged config; optionally a real dpkg -i + purge.
#
#   B=build bash tests/packaging/test_deb.sh      (make check-deb; needs scripts/install-deps.sh deb test)
# DEB_REAL_INSTALL=1 also installs the package on this machine with dpkg -i (as root, under
# /run/memopt-host.lock), checks it, and purges it again; skipped if memopt is already installed.
# shellcheck source=tests/integration/lib.sh disable=SC2016,SC2317
. "$(dirname "$0")/../integration/lib.sh"

require_cmd dpkg-buildpackage dh fakeroot dpkg-deb git
D=$IT_DIR
VERSION=$(sed -n 's/^#define MEMOPT_VERSION "\(.*\)"$/\1/p' "$IT_SRC/common/version.h")
OUT=$D/deb
DEB=$OUT/memopt_${VERSION}_$(dpkg --print-architecture).deb

# --- build -------------------------------------------------------------------------------------------
before=$(git -C "$IT_SRC" status --porcelain --ignored)
check_rc "scripts/build-deb.sh builds the package" 0 "$IT_SRC/scripts/build-deb.sh" "$OUT" || finish
check "the .deb is memopt_${VERSION}" test -s "$DEB"
check_eq "the source tree is left as it was (git status --ignored)" "$before" \
	"$(git -C "$IT_SRC" status --porcelain --ignored)"
check_eq "debian/changelog matches common/version.h" "$VERSION" \
	"$(dpkg-parsechangelog -l "$IT_SRC/debian/changelog" -S Version)"
if grep -q '^[[:space:]]*\[==========\]' "$OUT/build.log"; then
	pass "the unit tests ran during the build"
else
	subskip "the unit tests did not run during the build (DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-})"
fi

# --- lintian -----------------------------------------------------------------------------------------
if command -v lintian >/dev/null 2>&1; then
	lintian --fail-on error,warning -I "$OUT"/memopt_*.changes >"$D/lintian.txt" 2>&1
	rc=$?
	grep -v 'running with root privileges' "$D/lintian.txt" | sed 's/^/       lintian| /'
	check_eq "lintian: no error or warning" 0 "$rc"
else
	subskip "lintian is not installed (scripts/install-deps.sh deb)"
fi

# --- contents ----------------------------------------------------------------------------------------
dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' | sort >"$D/files.txt"
sort >"$D/files.want" <<EOF
etc/memopt/memoptd.conf
lib/systemd/system/memoptd.service
usr/bin/memoptctl
usr/sbin/memoptd
usr/share/bash-completion/completions/memoptctl
usr/share/doc/memopt/README.md.gz
usr/share/doc/memopt/balloon-policy.md.gz
usr/share/doc/memopt/changelog.gz
usr/share/doc/memopt/config.md.gz
usr/share/doc/memopt/copyright
usr/share/doc/memopt/fault-matrix.md.gz
usr/share/doc/memopt/ksmtuned-migration.md.gz
usr/share/doc/memopt/memoptd.conf.example
usr/share/doc/memopt/protocol.md.gz
usr/share/lintian/overrides/memopt
usr/share/man/man5/memoptd.conf.5.gz
usr/share/man/man8/memoptctl.8.gz
usr/share/man/man8/memoptd.8.gz
EOF
if diff -u "$D/files.want" "$D/files.txt" >"$D/files.diff"; then
	pass "dpkg -c: exactly the expected $(wc -l <"$D/files.txt") files"
else
	fail "dpkg -c: file list differs"
	sed 's/^/       | /' "$D/files.diff"
fi
check_no_grep "no test tool is packaged" "$D/files.txt" 'ksm-workload|/tools/|tests/'
dpkg-deb -c "$DEB" | awk '$2 != "root/root"' >"$D/owners.txt"
check_eq "every file is owned by root/root" "" "$(cat "$D/owners.txt")"
dpkg-deb -c "$DEB" | awk '$6 ~ /^\.\/usr\/s?bin\/./ && $1 != "-rwxr-xr-x"' >"$D/modes.txt"
check_eq "the programs are mode 0755" "" "$(cat "$D/modes.txt")"

dpkg-deb -e "$DEB" "$D/control"
check_eq "conffiles: /etc/memopt/memoptd.conf" "/etc/memopt/memoptd.conf" "$(cat "$D/control/conffiles")"
dpkg-deb -f "$DEB" Package Version Depends >"$D/fields.txt"
check_grep "Package: memopt" "$D/fields.txt" '^Package: memopt$'
check_grep "Version: $VERSION" "$D/fields.txt" "^Version: $VERSION\$"
for lib in libc6 libvirt0 libproc2-0 libnuma1 libjson-c5 libsystemd0; do
	check_grep "Depends names $lib (from shlibs)" "$D/fields.txt" "^Depends: .*\\b$lib\\b"
done
for s in postinst prerm postrm; do
	check "maintainer script $s parses (sh -n)" sh -n "$D/control/$s"
done
check_grep "postinst touches systemd only when it runs (/run/systemd/system)" "$D/control/postinst" \
	'if \[ -d /run/systemd/system \]'
check_grep "postinst enables only what was enabled before (was-enabled)" "$D/control/postinst" \
	"was-enabled 'memoptd.service'"

# --- the unpacked programs ---------------------------------------------------------------------------
R=$D/root
dpkg-deb -x "$DEB" "$R"
check_rc "memoptd --version" 0 "$R/usr/sbin/memoptd" --version
check_eq "memoptd --version says $VERSION" "memoptd $VERSION" "$(cat "$D/last.out")"
check_rc "memoptctl --version" 0 "$R/usr/bin/memoptctl" --version
check_grep "memoptctl --version says $VERSION" "$D/last.out" "$VERSION"
check_rc "memoptctl --help" 0 "$R/usr/bin/memoptctl" --help
check_grep "memoptctl --help lists the status verb" "$D/last.out" 'status'
check_rc "the packaged memoptd accepts the packaged /etc/memopt/memoptd.conf" 0 "$R/usr/sbin/memoptd" \
	--check-config -c "$R/etc/memopt/memoptd.conf" --ksmtuned-conf none
check_grep "the unit starts /usr/sbin/memoptd --foreground" "$R/lib/systemd/system/memoptd.service" \
	'^ExecStart=/usr/sbin/memoptd --foreground$'
if command -v man >/dev/null 2>&1; then
	check_rc "man finds memoptd(8) in the package" 0 env MANPATH="$R/usr/share/man" man -w memoptd
fi
if command -v systemd-analyze >/dev/null 2>&1; then
	# ExecStart pointed at the unpacked binary: this host need not have /usr/sbin/memoptd.
	sed "s|^ExecStart=/usr/sbin/memoptd|ExecStart=$R/usr/sbin/memoptd|" \
		"$R/lib/systemd/system/memoptd.service" >"$D/memoptd.service"
	check_rc "systemd-analyze verify accepts the packaged unit" 0 systemd-analyze verify --man=no \
		"$D/memoptd.service"
	check_eq "systemd-analyze verify prints nothing" "" "$(cat "$D/last.out" "$D/last.err")"
else
	subskip "systemd-analyze is not installed (Debian package systemd)"
fi

# --- a real install on this machine (opt-in) ---------------------------------------------------------
real_install() {
	local st
	if [ "$(id -u)" -ne 0 ]; then
		subskip "DEB_REAL_INSTALL=1: needs root"
		return 0
	fi
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' memopt 2>/dev/null)
	if [ -n "$st" ] && [ "$st" != "un " ] || [ -e /usr/sbin/memoptd ] || [ -e /etc/memopt ]; then
		subskip "DEB_REAL_INSTALL=1: memopt (or /etc/memopt) is already on this machine, not touching it"
		return 0
	fi
	exec 8>"$IT_HOST_LOCK" || { subskip "cannot open $IT_HOST_LOCK"; return 0; }
	if ! flock -w 60 8; then
		subskip "DEB_REAL_INSTALL=1: $IT_HOST_LOCK is held (a benchmark?)"
		return 0
	fi
	# From here on the trap purges, whatever happens.
	DEB_INSTALLED=1
	check_rc "dpkg -i installs the package" 0 dpkg -i "$DEB" || return 0
	check_eq "dpkg: memopt is installed" "ii " "$(dpkg-query -W -f='${db:Status-Abbrev}' memopt)"
	check_grep "dpkg knows /etc/memopt/memoptd.conf as a conffile" <(dpkg-query -W -f='${Conffiles}\n' memopt) \
		'^ /etc/memopt/memoptd.conf [0-9a-f]{32}$'
	check_rc "installed: memoptd --check-config (the default /etc/memopt/memoptd.conf)" 0 \
		/usr/sbin/memoptd --check-config --ksmtuned-conf none
	check_rc "installed: memoptctl --help" 0 /usr/bin/memoptctl --help
	if command -v systemd-analyze >/dev/null 2>&1; then
		check_rc "installed: systemd-analyze verify memoptd.service" 0 systemd-analyze verify --man=no \
			/lib/systemd/system/memoptd.service
	fi
	if [ -d /run/systemd/system ]; then
		check_eq "the service is not enabled by the install" disabled "$(systemctl is-enabled memoptd 2>&1)"
	else
		note "no systemd as PID 1 here: postinst skipped daemon-reload and start"
	fi
	check_rc "dpkg --purge removes it" 0 dpkg --purge memopt
	DEB_INSTALLED=0
	check "purged: /usr/sbin/memoptd, /usr/bin/memoptctl and /etc/memopt are gone" \
		test ! -e /usr/sbin/memoptd -a ! -e /usr/bin/memoptctl -a ! -e /etc/memopt
	check_eq "purged: dpkg no longer knows memopt" "" \
		"$(dpkg-query -W -f='${db:Status-Abbrev}' memopt 2>/dev/null | tr -d ' ')"
}
DEB_INSTALLED=0
deb_purge_on_exit() {
	local rc=$?
	if [ "$DEB_INSTALLED" = 1 ]; then
		dpkg --purge memopt >/dev/null 2>&1 || printf '  FAIL trap: dpkg --purge memopt failed\n'
	fi
	(exit "$rc")
	it_cleanup
}
trap deb_purge_on_exit EXIT
if [ "${DEB_REAL_INSTALL:-0}" = 1 ]; then
	real_install
else
	subskip "real dpkg -i on this machine (set DEB_REAL_INSTALL=1; it purges afterwards)"
fi

finish
