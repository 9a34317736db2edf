#!/bin/bash
# install-deps.sh - install what memopt needs on Debian 12 (run as root). Packages only from Debian.
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh test     + what the test tiers need
#   scripts/install-deps.sh bench    + what `make bench` needs (Debian's ksmtuned, the peer we measure)
#   scripts/install-deps.sh e2e      + libvirtd and QEMU for the real-guest balloon tests
#   scripts/install-deps.sh cluster  + corosync (CPG, votequorum) and iproute2 for cluster-hook and its e2e tier
#   scripts/install-deps.sh deb      + dpkg-buildpackage, debhelper, lintian for `make deb` / `make check-deb`
#   scripts/install-deps.sh valgrind + valgrind for `make check-valgrind`
#   scripts/install-deps.sh pacemaker + Pacemaker, to test the cluster-hook Pacemaker adapter for real
#   scripts/install-deps.sh faults   + strace, which holds a syscall so tests/faults can SIGKILL mid-apply
#                                    (the libvirtd and corosync faults also need e2e and cluster)
#   scripts/install-deps.sh fuzz     + clang 14 and its libFuzzer/sanitizer runtimes for make fuzz / fuzz-regress
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(gcc make pkg-config libc6-dev
      libvirt-dev libproc2-dev libnuma-dev libcap-ng-dev libjson-c-dev libsystemd-dev
      libmicrohttpd-dev)
for extra in "$@"; do
	case "$extra" in
	test) pkgs+=(libcmocka-dev socat jq util-linux mount procps groff-base man-db bash-completion
	      curl prometheus libcap2-bin) ;;
	bench) pkgs+=(ksmtuned procps) ;;
	e2e) pkgs+=(libvirt-daemon-system libvirt-daemon-driver-qemu qemu-system-x86 libvirt-clients jq socat) ;;
	cluster) pkgs+=(corosync libcpg-dev libquorum-dev libvotequorum-dev libcmap-dev iproute2) ;;
	deb) pkgs+=(dpkg-dev debhelper fakeroot lintian git libcpg-dev libvotequorum-dev libcmocka-dev) ;;
	valgrind) pkgs+=(valgrind) ;;
	pacemaker) pkgs+=(pacemaker pacemaker-cli-utils) ;;
	faults) pkgs+=(strace util-linux jq) ;;
	# libclang-rt-14-dev holds libclang_rt.fuzzer*.a (-fsanitize=fuzzer) and the ASan/UBSan runtimes
	fuzz) pkgs+=(clang-14 clang libclang-rt-14-dev) ;;
	*) echo "install-deps.sh: unknown profile '$extra' (test, bench, e2e, cluster, pacemaker, faults, fuzz, deb, valgrind)" >&2; exit 2 ;;
	esac
done
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
