#!/bin/bash
# build-deb.sh - build the memopt .deb from a clean copy of the tree in a temp dir; the source tree
# is not touched. The .deb, .buildinfo and .changes land in OUT (default $B/deb, B=build).
#
#   B=build scripts/build-deb.sh [OUT]
# Needs scripts/install-deps.sh deb. Extra dpkg-buildpackage options through DEB_BUILD_OPTIONS
# (e.g. DEB_BUILD_OPTIONS=nocheck skips the unit tests run during the build).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
B=${B:-build}
out=${1:-$B/deb}
case $out in /*) ;; *) out=$src/$out ;; esac

for c in dpkg-buildpackage dh fakeroot; do
	command -v "$c" >/dev/null 2>&1 || {
		echo "build-deb.sh: '$c' is missing (scripts/install-deps.sh deb)" >&2
		exit 2
	}
done
version=$(sed -n 's/^#define MEMOPT_VERSION "\(.*\)"$/\1/p' common/version.h)
deb_version=$(dpkg-parsechangelog -l debian/changelog -S Version)
if [ "$version" != "$deb_version" ]; then
	echo "build-deb.sh: common/version.h says $version, debian/changelog $deb_version" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/memopt-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/memopt-$version
mkdir -p "$tree"
# The tracked files as they are in the working tree (uncommitted edits included, build output and
# untracked files not); a tree without git (an unpacked tarball) is copied without its build dirs.
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$src" ls-files -z | (cd "$src" && tar --null -T - -cf -) | tar -C "$tree" -xf -
else
	tar -C "$src" --exclude=./build --exclude='./build-*' --exclude=./debian/build \
		--exclude=./bench/results -cf - . | tar -C "$tree" -xf -
fi

echo "build-deb.sh: building memopt $version in $tree"
(cd "$tree" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 || {
	tail -n 40 "$tmp/build.log" >&2
	echo "build-deb.sh: dpkg-buildpackage failed (log above)" >&2
	exit 1
}
mkdir -p "$out"
rm -f "$out"/memopt_* "$out"/memopt-dbgsym_*
cp "$tmp"/memopt_"$version"_*.deb "$tmp"/memopt-dbgsym_"$version"_*.deb "$tmp"/memopt_"$version"_*.buildinfo "$tmp"/memopt_"$version"_*.changes "$out"/
cp "$tmp/build.log" "$out/build.log"
ls "$out"/memopt_"$version"_*.deb
