#!/bin/bash
# test-all.sh - install dependencies, build with warnings as errors, and run every test tier this
# machine can run: unit (cmocka), integration (real daemon + CLI on the real kernel KSM and fixture
# trees), and the same again built with ASan+UBSan. Exits non-zero on any failure. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
make clean
make -j2 WERROR=1
make WERROR=1 check
make WERROR=1 asan
echo "test-all: every tier passed"
