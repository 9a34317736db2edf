#!/bin/bash
# build-guest.sh - build the e2e test guest (Debian cloud kernel + busybox initramfs with virtio_balloon) from Debian packages, installing nothing on the host.
#
#   tests/e2e/build-guest.sh [--force] [GUEST_DIR]
#
# GUEST_DIR defaults to $MEMOPT_GUEST_DIR, else /var/cache/memopt-test-guest. It receives:
#   vmlinuz      the kernel of the package linux-image-cloud-amd64 depends on today (resolved at run time:
#                old ABIs leave the mirror, so it is never pinned)
#   initrd.img   gzip'd newc cpio: busybox-static, the virtio modules the balloon needs (dependency order
#                in /lib/modules/order), and tests/e2e/guest/init as /init
#   BUILD-INFO   what went in (packages, modules, sha256 of init), one "key=value" per line
#   debs/        the downloaded .deb files, kept so that a changed /init repacks without a download
# Packages are fetched with `apt-get download` and unpacked with `dpkg-deb -x`: no maintainer script or
# initramfs hook runs. Needs apt (lists are updated once if the kernel cannot be resolved), dpkg-deb and
# gzip; xz/zstd only if the kernel's modules are compressed. busybox's own cpio packs the archive.
# The result is built in a temporary directory and moved into place, under a lock, so concurrent runs
# and interrupted builds never leave a half-written guest. Exit: 0 built, 1 failed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
INIT_SRC=$HERE/guest/init
KFLAVOUR=${KFLAVOUR:-cloud-amd64}
# The modules virtio_balloon needs, closed over their depends= lines (the kernel ships no modules.dep:
# depmod runs only in the package's postinst).
ROOT_MODULES="virtio_pci virtio_balloon"

force=0
if [ "${1:-}" = --force ]; then
	force=1
	shift
fi
GUEST_DIR=${1:-${MEMOPT_GUEST_DIR:-/var/cache/memopt-test-guest}}
case $GUEST_DIR in /*) ;; *) GUEST_DIR=$PWD/$GUEST_DIR ;; esac

log() { printf 'build-guest: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

for c in apt-get apt-cache dpkg-deb gzip sha256sum flock; do
	command -v "$c" >/dev/null 2>&1 || die "needs the command '$c'"
done
[ -f "$INIT_SRC" ] || die "missing $INIT_SRC"

mkdir -p "$GUEST_DIR/debs"
chmod 0755 "$GUEST_DIR"
exec 8>"$GUEST_DIR/.lock"
flock -w 600 8 || die "another build held $GUEST_DIR/.lock for 600 s"

init_sum=$(sha256sum "$INIT_SRC" | cut -d' ' -f1)
if [ "$force" = 0 ] && [ -s "$GUEST_DIR/vmlinuz" ] && [ -s "$GUEST_DIR/initrd.img" ] &&
	grep -qx "init_sha256=$init_sum" "$GUEST_DIR/BUILD-INFO" 2>/dev/null; then
	log "up to date in $GUEST_DIR"
	exit 0
fi

t0=$(date +%s%N)
WORK=$(mktemp -d "$GUEST_DIR/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# 1. Resolve the versioned kernel package behind the meta package; download what is not cached yet.
resolve_kernel() {
	apt-cache depends "linux-image-$KFLAVOUR" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
KPKG=$(resolve_kernel)
if [ -z "$KPKG" ]; then
	log "cannot resolve linux-image-$KFLAVOUR, running apt-get update once"
	apt-get update -qq >&2 || die "apt-get update failed"
	KPKG=$(resolve_kernel)
fi
[ -n "$KPKG" ] || die "cannot resolve linux-image-$KFLAVOUR to a kernel package"

# cached_deb PKG: the newest cached .deb of PKG, empty if none.
cached_deb() { ls -1 "$GUEST_DIR/debs/$1"_*.deb 2>/dev/null | sort -V | tail -n 1; }
fetch() {
	local pkg=$1
	if [ -z "$(cached_deb "$pkg")" ]; then
		log "downloading $pkg"
		# Root downloads straight into the cache directory (no _apt sandbox warning).
		(cd "$WORK" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) ||
			die "apt-get download $pkg failed"
		mv "$WORK/$pkg"_*.deb "$GUEST_DIR/debs/"
	fi
	cached_deb "$pkg"
}
KDEB=$(fetch "$KPKG")
BDEB=$(fetch busybox-static)

# 2. Unpack (no scripts run).
dpkg-deb -x "$KDEB" "$WORK/kpkg"
dpkg-deb -x "$BDEB" "$WORK/bb"
KVER=$(ls -1 "$WORK/kpkg/lib/modules" | head -n 1)
[ -n "$KVER" ] && [ -f "$WORK/kpkg/boot/vmlinuz-$KVER" ] || die "no kernel image in $KDEB"
MODDIR=$WORK/kpkg/lib/modules/$KVER
KCONFIG=$WORK/kpkg/boot/config-$KVER
BB=$WORK/bb/bin/busybox
[ -x "$BB" ] || die "no bin/busybox in $BDEB"

# The guest prints on ttyS0 and mounts devtmpfs itself: both must be built in.
for opt in CONFIG_SERIAL_8250_CONSOLE CONFIG_DEVTMPFS CONFIG_BLK_DEV_INITRD; do
	grep -qx "$opt=y" "$KCONFIG" || die "$KPKG: $opt is not built in"
done

# 3. The module closure, in dependency order (depth-first: dependencies first).
mod_file() {
	local name=$1 alt f
	alt=$(printf '%s' "$name" | tr _ -)
	f=$(find "$MODDIR" \( -name "$name.ko*" -o -name "$alt.ko*" \) | head -n 1)
	printf '%s' "$f"
}
mod_config() { tr '[:lower:]' '[:upper:]' <<<"CONFIG_$1"; }
ko_plain() { # FILE DEST: decompress if needed
	case $1 in
	*.ko.xz) xz -dc "$1" >"$2" ;;
	*.ko.zst) zstd -qdc "$1" >"$2" ;;
	*.ko.gz) gzip -dc "$1" >"$2" ;;
	*) cp "$1" "$2" ;;
	esac
}
mkdir -p "$WORK/root/bin" "$WORK/root/proc" "$WORK/root/sys" "$WORK/root/dev" "$WORK/root/tmp" \
	"$WORK/root/lib/modules"
ORDER=()
declare -A SEEN=()
add_module() {
	local m=$1 f deps d
	[ -n "${SEEN[$m]:-}" ] && return 0
	SEEN[$m]=1
	f=$(mod_file "$m")
	if [ -z "$f" ]; then
		# Not a module: fine if it is built in.
		grep -qx "$(mod_config "$m")=y" "$KCONFIG" && return 0
		die "module $m is neither in $KPKG nor built in"
	fi
	ko_plain "$f" "$WORK/root/lib/modules/$m.ko"
	deps=$(tr '\0' '\n' <"$WORK/root/lib/modules/$m.ko" | sed -n 's/^depends=//p' | head -n 1)
	for d in ${deps//,/ }; do
		add_module "${d//-/_}"
	done
	ORDER+=("$m")
}
for m in $ROOT_MODULES; do
	add_module "$m"
done
printf '%s\n' "${ORDER[*]}" >"$WORK/root/lib/modules/order"

# 4. busybox and /init, then pack with busybox's cpio (newc, every file owned by root).
cp "$BB" "$WORK/root/bin/busybox"
install -m 0755 "$INIT_SRC" "$WORK/root/init"
(cd "$WORK/root" && find . | "$BB" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -9 >"$WORK/initrd.img"
cp "$WORK/kpkg/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
{
	printf 'built=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf 'kernel_package=%s\n' "$(basename "$KDEB")"
	printf 'kernel_release=%s\n' "$KVER"
	printf 'busybox_package=%s\n' "$(basename "$BDEB")"
	printf 'modules=%s\n' "${ORDER[*]}"
	printf 'init_sha256=%s\n' "$init_sum"
} >"$WORK/BUILD-INFO"
chmod 0644 "$WORK/vmlinuz" "$WORK/initrd.img" "$WORK/BUILD-INFO"
# initrd and BUILD-INFO go last: a reader that sees the new BUILD-INFO sees the new files.
mv -f "$WORK/vmlinuz" "$GUEST_DIR/vmlinuz"
mv -f "$WORK/initrd.img" "$GUEST_DIR/initrd.img"
mv -f "$WORK/BUILD-INFO" "$GUEST_DIR/BUILD-INFO"

ms=$((($(date +%s%N) - t0) / 1000000))
log "built in $GUEST_DIR in ${ms} ms: kernel $KVER, modules: ${ORDER[*]}"
log "vmlinuz $(stat -c %s "$GUEST_DIR/vmlinuz") bytes, initrd.img $(stat -c %s "$GUEST_DIR/initrd.img") bytes"
