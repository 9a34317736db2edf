#!/bin/bash
# run-here.sh - the main job: install dependencies, build, and run memoptd in the foreground on this
# host, logging every decision and why. Ctrl-C stops it and restores every KSM value it changed.
# Extra arguments go to memoptd (e.g. --dry-run to only watch what it would do).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -j2
exec build/memoptd --foreground "$@"
