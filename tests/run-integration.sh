#!/bin/bash
# run-integration.sh - run every tests/integration/test_*.sh in order, each in its own temp dir; PASS/FAIL/SKIP per test and a summary.
#
#   B=build tests/run-integration.sh [test_name ...]
# A test exits 0 (pass), 77 (skip: it printed "SKIP: reason") or anything else (fail). A test may
# set its time limit on a line "# IT-TIMEOUT: SECONDS" (default 120). Exits non-zero if any failed.
# IT_KEEP=1 keeps every test's directory (daemon logs, journals); failed tests' directories are kept.
# IT_TIME_MULT=N multiplies every time limit (this runner's and the tests', see lib.sh), and
# MEMOPT_WRAP runs memoptd and memoptctl under a wrapper: make check-valgrind sets both.
set -u
cd "$(dirname "$0")/.." || exit 2
export B=${B:-build}

. tests/lib-runner.sh
runner_select tests/integration "$@"

runner_run_foreground memopt-it IT-TIMEOUT 120

runner_summary integration
