#!/bin/bash
# test-all.sh - install dependencies, build with warnings as errors, and run every test tier this
# machine can run: unit (cmocka), integration (real daemon + CLI on the real kernel KSM and fixture
# trees), end to end (a real libvirtd started by the harness, real TCG guests with virtio-balloon),
# and unit + integration again built with ASan+UBSan. Exits non-zero on any failure. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test e2e cluster pacemaker
make clean
make -j2 WERROR=1
make WERROR=1 check
make WERROR=1 check-e2e
make WERROR=1 asan
echo "test-all: every tier passed"
