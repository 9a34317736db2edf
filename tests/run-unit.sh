#!/bin/sh
# run-unit.sh - run every cmocka unit test binary given; exit non-zero if any fails.
fail=0; n=0
for t in "$@"; do
	n=$((n + 1))
	echo "== $t"
	if ! "$t"; then
		echo "FAILED: $t"
		fail=$((fail + 1))
	fi
done
echo "binaries: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
