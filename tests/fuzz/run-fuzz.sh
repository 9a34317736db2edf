#!/bin/bash
# run-fuzz.sh - run the libFuzzer targets built into <build-dir>/fuzz/.
#   run-fuzz.sh fuzz <build-dir>      each target for FUZZ_SECONDS (default 60) from its seed corpus;
#                                     prints each target's executions and a summary table; fails on a crash
#   run-fuzz.sh regress <build-dir>   each target once over every file of its corpus (fast; for make check)
#   run-fuzz.sh probe [cc]            exit 0 if cc (default clang) can link -fsanitize=fuzzer, else say why
# FUZZ_TARGETS="config proto" limits the run to some targets; FUZZ_PARALLEL=N runs N at once (default 1).
# New inputs found go to <build-dir>/fuzz/work/<target>/, crashes to <build-dir>/fuzz/artifacts/<target>/;
# tests/fuzz/README.md says how to merge them into the committed corpus.
set -u
mode=${1:-}
here=$(cd "$(dirname "$0")" && pwd)

probe() {
	local cc=${1:-clang} tmp
	if ! command -v "$cc" >/dev/null 2>&1; then
		echo "fuzz: skipped: '$cc' not found (scripts/install-deps.sh fuzz)"
		return 1
	fi
	tmp=$(mktemp -d) || return 1
	printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$tmp/p.c"
	if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$tmp/p" "$tmp/p.c" >"$tmp/log" 2>&1; then
		echo "fuzz: skipped: '$cc' cannot link -fsanitize=fuzzer (scripts/install-deps.sh fuzz): $(head -n 1 "$tmp/log")"
		rm -rf "$tmp"
		return 1
	fi
	rm -rf "$tmp"
	return 0
}

if [ "$mode" = probe ]; then
	probe "${2:-clang}"
	exit
fi
B=${2:?usage: run-fuzz.sh fuzz|regress <build-dir>}
bin=$B/fuzz
nice=()
if [ -e /run/memopt-bench.lock ]; then
	echo "fuzz: /run/memopt-bench.lock exists: running under nice -n 19"
	nice=(nice -n 19)
fi

targets=()
if [ -n "${FUZZ_TARGETS:-}" ]; then
	for t in $FUZZ_TARGETS; do targets+=("$t"); done
else
	for f in "$here"/fuzz_*.c; do
		t=$(basename "$f" .c)
		targets+=("${t#fuzz_}")
	done
fi
for t in "${targets[@]}"; do
	if [ ! -x "$bin/fuzz_$t" ]; then
		echo "fuzz: $bin/fuzz_$t not built (make fuzz-build)" >&2
		exit 2
	fi
done

dict_args() {
	[ -f "$here/dict/$1.dict" ] && echo "-dict=$here/dict/$1.dict"
}

# One target for FUZZ_SECONDS. Writes <log>, and <log>.res: "<target> <status> <execs> <exec/s> <crash file>"
fuzz_one() {
	local t=$1 secs=$2 log=$bin/log/$1.log work=$bin/work/$1 art=$bin/artifacts/$1/ rc execs rate crash status
	mkdir -p "$work" "$art" "$bin/log"
	# -timeout: one input taking this long is a hang; -rss_limit_mb: a leak or a bomb is a crash too
	"${nice[@]}" "$bin/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -artifact_prefix="$art" $(dict_args "$t") "$work" "$here/corpus/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	status=ok
	[ "$rc" -ne 0 ] && status=CRASH
	echo "$t $status ${execs:-?} ${rate:-?} ${crash:--}" >"$log.res"
}

if [ "$mode" = fuzz ]; then
	secs=${FUZZ_SECONDS:-60}
	par=${FUZZ_PARALLEL:-1}
	echo "fuzz: ${#targets[@]} targets, $secs s each, $par at a time"
	running=0
	for t in "${targets[@]}"; do
		rm -f "$bin/log/$t.log.res"
		fuzz_one "$t" "$secs" &
		running=$((running + 1))
		if [ "$running" -ge "$par" ]; then
			wait -n
			running=$((running - 1))
		fi
	done
	wait
	fail=0
	total=0
	for t in "${targets[@]}"; do
		read -r name status execs rate crash <"$bin/log/$t.log.res" || { name=$t status=CRASH execs='?' rate='?' crash=-; }
		echo "fuzz_$name: $execs executions ($rate/s), $status"
		if [ "$status" != ok ]; then
			fail=$((fail + 1))
			echo "  crash input: $crash"
			echo "  log: $bin/log/$t.log"
			grep -m 8 -E 'ERROR: |SUMMARY: |runtime error|check failed|deadly signal' "$bin/log/$t.log" | sed 's/^/  | /'
		fi
		case $execs in ''|*[!0-9]*) ;; *) total=$((total + execs)) ;; esac
	done
	echo
	printf '%-16s %8s %12s %9s  %s\n' target status executions exec/s crash
	for t in "${targets[@]}"; do
		read -r name status execs rate crash <"$bin/log/$t.log.res" || { name=$t status=CRASH execs='?' rate='?' crash=-; }
		printf '%-16s %8s %12s %9s  %s\n' "$name" "$status" "$execs" "$rate" "$crash"
	done
	printf '%-16s %8s %12s\n' total "$fail bad" "$total"
	[ "$fail" -eq 0 ]
	exit
fi

if [ "$mode" = regress ]; then
	fail=0
	for t in "${targets[@]}"; do
		mapfile -t files < <(find "$here/corpus/$t" -type f | sort)
		if [ ${#files[@]} -eq 0 ]; then
			echo "fuzz-regress $t: FAILED: empty corpus $here/corpus/$t"
			fail=$((fail + 1))
			continue
		fi
		mkdir -p "$bin/log"
		log=$bin/log/$t.regress.log
		start=$(date +%s.%N)
		if "${nice[@]}" "$bin/fuzz_$t" -timeout=10 -rss_limit_mb=2048 "${files[@]}" >"$log" 2>&1; then
			printf 'fuzz-regress %-14s %4d inputs ok (%.1f s)\n' "$t" "${#files[@]}" "$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')"
		else
			echo "fuzz-regress $t: FAILED (log $log)"
			grep -m 8 -E 'Running: |ERROR: |SUMMARY: |runtime error|check failed|deadly signal' "$log" | tail -n 8 | sed 's/^/  | /'
			fail=$((fail + 1))
		fi
	done
	echo "fuzz-regress: $(( ${#targets[@]} - fail )) targets passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
fi
echo "usage: run-fuzz.sh fuzz|regress <build-dir> | probe [cc]" >&2
exit 2
