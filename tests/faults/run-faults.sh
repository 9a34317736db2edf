#!/bin/bash
# run-faults.sh - the fault matrix (issue 6): run every tests/faults/test_*.sh in order, each in its own temp dir; PASS/FAIL/SKIP per test and a summary.
#
#   B=build tests/faults/run-faults.sh [test_name ...]
# Each test injects one fault (a knob that turns read-only, a read-only or full state directory, a
# corrupt journal, SIGKILL in the middle of a host apply, libvirtd or corosync killed) and checks that
# memoptd keeps serving, says what it cannot do, and leaves no host value changed without a record.
# docs/fault-matrix.md lists fault -> test -> expected -> measured. Tests run on fixture trees; the
# ones that need a real libvirtd or corosync take the e2e / cluster tier's lock. A test exits 0 (pass),
# 77 (skip, "SKIP: reason") or anything else (fail); its time limit is "# IT-TIMEOUT: SECONDS".
# IT_KEEP=1 keeps every test's directory; failed tests' directories are kept.
set -u
cd "$(dirname "$0")/../.." || exit 2
export B=${B:-build}

. tests/lib-runner.sh
runner_select tests/faults "$@"

t_all=$(date +%s)
runner_run_foreground memopt-ft IT-TIMEOUT 180
echo "faults: $(($(date +%s) - t_all)) s in all"
runner_summary faults
