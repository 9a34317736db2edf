#!/bin/bash
# test-all.sh - install dependencies, build with warnings as errors, and run every test tier this
# machine can run: unit (cmocka), integration (real daemon + CLI on the real kernel KSM and fixture
# trees), end to end (a real libvirtd started by the harness, real TCG guests with virtio-balloon),
# the fault matrix, the fuzz corpus replay, unit + integration again built with ASan+UBSan, the
# Debian package (build, lintian, install and purge), and a
# short fuzz run of every libFuzzer target. (make check-valgrind, ~5 min, is not in it: CI's 30 min.) Exits non-zero on any failure. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test e2e cluster pacemaker faults fuzz deb valgrind
make clean
make -j2 WERROR=1
make WERROR=1 check
make WERROR=1 check-e2e
make WERROR=1 asan
DEB_REAL_INSTALL=1 make check-deb
# a short pass in CI (20 targets x 5 s, two at a time); tests/fuzz/README.md says how to run long
FUZZ_SECONDS=5 FUZZ_PARALLEL=2 make fuzz
echo "test-all: every tier passed"
