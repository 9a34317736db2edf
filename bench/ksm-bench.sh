#!/bin/bash
# ksm-bench.sh - KSM benchmark: one workload under ksmtuned, the kernel advisor, kernel defaults, an all-out setting and memoptd, side by side.
#
# Run as root by `make bench` (B = build dir). Every knob in /sys/kernel/mm/ksm is recorded first and
# restored on exit, also after a failure or Ctrl-C; a copy of the originals in $BENCH_STATE lets the next
# start restore them after a SIGKILL. Only processes started here are ever signalled, by PID or by the
# process group this script created. Environment (defaults in brackets): see bench/README.md.

set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
B=${B:-build}
case $B in /*) ;; *) B=$PWD/$B ;; esac
BENCH_SECONDS=${BENCH_SECONDS:-420}
BENCH_SCENARIOS=${BENCH_SCENARIOS:-"static churn"}
BENCH_CONTROLLERS=${BENCH_CONTROLLERS:-"ksmtuned advisor kernel-defaults max memoptd memoptd-advisor"}
BENCH_OUT=${BENCH_OUT:-$HERE/results/$(date +%Y%m%d-%H%M%S)}
BENCH_PROCS=${BENCH_PROCS:-6}
BENCH_MIB=${BENCH_MIB:-768}
BENCH_SHARED_PCT=${BENCH_SHARED_PCT:-60}
BENCH_ZERO_PCT=${BENCH_ZERO_PCT:-10}
BENCH_CHURN_PERIOD=${BENCH_CHURN_PERIOD:-50}
BENCH_CHURN_PHASE=${BENCH_CHURN_PHASE:-spread}
BENCH_BALLAST_MIB=${BENCH_BALLAST_MIB:-auto}
BENCH_BALLAST_VIEWS=${BENCH_BALLAST_VIEWS:-auto}
BENCH_BALLAST_FREE_PCT=${BENCH_BALLAST_FREE_PCT:-18}
BENCH_MIN_AVAIL_MIB=${BENCH_MIN_AVAIL_MIB:-3584}
BENCH_ABORT_AVAIL_MIB=${BENCH_ABORT_AVAIL_MIB:-3328}
BENCH_INTERVAL_MS=${BENCH_INTERVAL_MS:-1000}
BENCH_PSS_EVERY=${BENCH_PSS_EVERY:-5}  # samples between two reads of the workers' smaps_rollup (true saving)
BENCH_EXEC_NAME=${BENCH_EXEC_NAME:-qemu-system-x86_64}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_STATE=${BENCH_STATE:-/run/ksm-bench.knobs}
BENCH_MEMOPTD_EXTRA=${BENCH_MEMOPTD_EXTRA:-}
KSMTUNED=${KSMTUNED:-/usr/sbin/ksmtuned}

KSM=/sys/kernel/mm/ksm
WORKLOAD=$B/tools/ksm-workload
SAMPLER=$B/tools/ksm-sampler
ANALYZE=$HERE/analyze.awk

declare -A ORIG=()   # knob -> value found at start
KNOBS=()             # writable knobs, in directory order
WL_PID="" SMP_PID="" CTL_PID="" CTL_PGID=""
CLEANING=0

log() { printf '%s %s\n' "$(date +%T)" "$*" | tee -a "$BENCH_OUT/bench.log" >&2; }
die() { log "FATAL: $*"; exit 1; }

meminfo_kib() { awk -v k="$1:" '$1 == k { print $2; exit }' /proc/meminfo; }

# ------------------------------------------------------------------ KSM knobs

knob_read() {
	local v
	v=$(cat "$KSM/$1" 2>/dev/null) || return 1
	if [[ $v == *"["*"]"* ]]; then # advisor_mode: "[none] scan-time"
		v=${v#*[}
		v=${v%%]*}
	fi
	printf '%s\n' "$v"
}

knob_write() {
	local name=$1 val=$2 now
	if ! printf '%s\n' "$val" > "$KSM/$name" 2>/dev/null; then
		log "writing $val to $KSM/$name failed"
		return 1
	fi
	now=$(knob_read "$name")
	if [ "$name" != run ] && [ "$now" != "$val" ]; then
		log "$KSM/$name reads '$now' after writing '$val'"
		return 1
	fi
}

knobs_record() {
	local f name
	for f in "$KSM"/*; do
		name=${f##*/}
		# only knobs the owner (root) may write; counters are 0444
		[ $(( 0$(stat -c %a "$f") & 0200 )) -ne 0 ] || continue
		KNOBS+=("$name")
		ORIG[$name]=$(knob_read "$name") || die "cannot read $f"
	done
	[ ${#KNOBS[@]} -gt 0 ] || die "no writable knobs under $KSM"
}

# $BENCH_STATE: our pid, the controller we started (so that a later start can stop it if we are
# SIGKILLed) and the original knobs. Written temp + rename on every change.
state_save() {
	local k tmp="$BENCH_STATE.tmp"
	{
		echo "pid=$$"
		echo "proc_ctl_pgid=$CTL_PGID"
		echo "proc_ctl_pid=$CTL_PID"
		for k in "${KNOBS[@]}"; do echo "$k=${ORIG[$k]}"; done
	} > "$tmp" && sync "$tmp" 2>/dev/null; mv -f "$tmp" "$BENCH_STATE"
}

# Restore every knob whose value differs from $1-named associative array (default ORIG).
# advisor_mode goes to "none" first (pages_to_scan is rejected with EINVAL while scan-time is on),
# run goes last.
knobs_restore() {
	local -n want=${1:-ORIG}
	local k cur fail=0
	cur=$(knob_read advisor_mode 2>/dev/null || true)
	if [ -n "$cur" ] && [ "$cur" != none ]; then
		knob_write advisor_mode none || fail=1
	fi
	for k in "${!want[@]}"; do
		[ "$k" = run ] || [ "$k" = advisor_mode ] && continue
		[ -e "$KSM/$k" ] || continue
		cur=$(knob_read "$k")
		[ "$cur" = "${want[$k]}" ] || knob_write "$k" "${want[$k]}" || fail=1
	done
	if [ -n "${want[advisor_mode]:-}" ] && [ "$(knob_read advisor_mode)" != "${want[advisor_mode]}" ]; then
		knob_write advisor_mode "${want[advisor_mode]}" || fail=1
	fi
	if [ -n "${want[run]:-}" ] && [ "$(knob_read run)" != "${want[run]}" ]; then
		knob_write run "${want[run]}" || fail=1
	fi
	return $fail
}

# A previous run killed with SIGKILL left $BENCH_STATE: stop the controller it had started (only if
# that PID / process group still runs ksmtuned or memoptd), then put its recorded knobs back.
# The workload and sampler it started died with it (PR_SET_PDEATHSIG / --seconds).
# shellcheck disable=SC2034 # OLD is read through the nameref in knobs_restore
knobs_recover_crash() {
	local line pid="" k pg="" cpid=""
	local -A OLD=()
	[ -f "$BENCH_STATE" ] || return 0
	while IFS= read -r line; do
		k=${line%%=*}
		case $k in
		pid) pid=${line#*=} ;;
		proc_ctl_pgid) pg=${line#*=} ;;
		proc_ctl_pid) cpid=${line#*=} ;;
		*) OLD[$k]=${line#*=} ;;
		esac
	done < "$BENCH_STATE"
	if [ -n "$pid" ] && [ "$pid" != $$ ] && kill -0 "$pid" 2>/dev/null &&
		tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q ksm-bench; then
		die "another ksm-bench (pid $pid) is running"
	fi
	log "found $BENCH_STATE from an interrupted run: cleaning up after it first"
	if [ -n "$pg" ] && pgrep -g "$pg" > /dev/null; then
		for k in $(pgrep -g "$pg"); do
			if tr '\0' ' ' < "/proc/$k/cmdline" 2>/dev/null | grep -q ksmtuned; then
				log "stopping the interrupted run's ksmtuned (process group $pg)"
				stop_pgid "$pg"
				break
			fi
		done
	fi
	if [ -n "$cpid" ] && tr '\0' ' ' < "/proc/$cpid/cmdline" 2>/dev/null | grep -q memoptd; then
		log "stopping the interrupted run's memoptd (pid $cpid)"
		kill -TERM "$cpid" 2>/dev/null
		for ((k = 0; k < 200; k++)); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$cpid" 2>/dev/null
	fi
	knob_write run 2 || true
	wait_unmerged 120 || true
	knobs_restore OLD || log "restoring the interrupted run's knobs failed for some knobs"
	rm -f "$BENCH_STATE"
}

# run=2 unmerges everything; wait until pages_shared+pages_sharing are 0.
wait_unmerged() {
	local timeout=$1 i s z
	for ((i = 0; i < timeout * 5; i++)); do
		s=$(( $(cat "$KSM/pages_shared") + $(cat "$KSM/pages_sharing") ))
		[ "$s" -eq 0 ] && break
		sleep 0.2
	done
	if [ "$s" -ne 0 ]; then
		log "KSM still reports $s shared+sharing pages after ${timeout}s of run=2"
		return 1
	fi
	z=$(cat "$KSM/ksm_zero_pages" 2>/dev/null || echo 0)
	[ "$z" -eq 0 ] || log "note: ksm_zero_pages is $z after unmerging"
	return 0
}

unmerge_and_reset() {
	knob_write run 2 || true
	wait_unmerged 120 || true
	knobs_restore || log "some knobs could not be reset to their originals"
}

# ------------------------------------------------------------------ processes we started

# Stop one PID we started: TERM, wait up to $2 s, then KILL. Never by name.
stop_pid() {
	local pid=$1 grace=${2:-10} i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "pid $pid did not stop within ${grace}s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# Stop the process group (session) we created for ksmtuned.
stop_pgid() {
	local pg=$1 i
	[ -n "$pg" ] || return 0
	kill -TERM -- "-$pg" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		pgrep -g "$pg" > /dev/null || return 0
		sleep 0.1
	done
	kill -KILL -- "-$pg" 2>/dev/null
	return 0
}

stop_controller() {
	if [ -n "$CTL_PGID" ]; then stop_pgid "$CTL_PGID"; CTL_PGID=""; fi
	if [ -n "$CTL_PID" ]; then stop_pid "$CTL_PID" 20; CTL_PID=""; fi
}

stop_all() {
	stop_controller
	if [ -n "$SMP_PID" ]; then stop_pid "$SMP_PID" 5; SMP_PID=""; fi
	if [ -n "$WL_PID" ]; then stop_pid "$WL_PID" 15; WL_PID=""; fi
}

cleanup() {
	local rc=$?
	[ "$CLEANING" -eq 1 ] && return
	CLEANING=1
	trap - INT TERM
	stop_all
	if [ ${#KNOBS[@]} -gt 0 ]; then
		unmerge_and_reset
		if knobs_restore; then
			rm -f "$BENCH_STATE"
			log "KSM knobs restored: $(for k in "${KNOBS[@]}"; do printf '%s=%s ' "$k" "$(knob_read "$k")"; done)"
		else
			log "WARNING: KSM knobs NOT fully restored; originals are in $BENCH_OUT/ksm-knobs.orig"
		fi
	fi
	exit "$rc"
}

# ------------------------------------------------------------------ preflight

preflight() {
	local c
	[ "$(id -u)" -eq 0 ] || { echo "ksm-bench: must run as root" >&2; exit 1; }
	[ -d "$KSM" ] || { echo "ksm-bench: $KSM missing (kernel without KSM)" >&2; exit 1; }
	mkdir -p "$BENCH_OUT" || exit 1
	for c in "$WORKLOAD" "$SAMPLER"; do
		[ -x "$c" ] || die "$c not built (run make, or set B=)"
	done
	case " $BENCH_CONTROLLERS " in
	*" ksmtuned "*)
		if [ ! -x "$KSMTUNED" ]; then
			log "installing Debian's ksmtuned package"
			apt-get install -y ksmtuned >> "$BENCH_OUT/apt.log" 2>&1 ||
				{ apt-get update >> "$BENCH_OUT/apt.log" 2>&1 && apt-get install -y ksmtuned >> "$BENCH_OUT/apt.log" 2>&1; } ||
				die "apt-get install ksmtuned failed, see $BENCH_OUT/apt.log"
		fi
		;;
	esac
}

check_other_controllers() {
	local c pid prog
	# Another KSM controller would fight ours. We never stop it (not ours): refuse to run if a ksmtuned
	# is running (unless BENCH_FORCE=1). Other memoptd instances are common in tests (fixture trees,
	# mocks, dry runs), so for those we only warn.
	for pid in $(pgrep -f '(^|/)(ksmtuned|memoptd)( |$)' || true); do
		local -a av=()
		mapfile -d '' -t av < "/proc/$pid/cmdline" 2>/dev/null || continue
		[ ${#av[@]} -gt 0 ] || continue
		c="${av[*]}"
		# the program is argv[0], or argv[1] for a script run by its interpreter
		prog=${av[0]##*/}
		case $prog in bash | sh | dash) prog=${av[1]:-}; prog=${prog##*/} ;; esac
		case $prog in
		ksmtuned)
			[ "${BENCH_FORCE:-0}" = 1 ] || die "ksmtuned is already running (pid $pid: $c); stop it first (or BENCH_FORCE=1)"
			log "WARNING: ksmtuned is running (pid $pid: $c), BENCH_FORCE=1" ;;
		memoptd)
			case $c in *--sysfs-root*) ;; *) log "WARNING: a memoptd is running (pid $pid: $c); if it manages KSM the numbers are wrong" ;; esac ;;
		esac
	done
}

# ------------------------------------------------------------------ one run

# Sets BALLAST_MIB and BALLAST_VIEWS for this run from /proc/meminfo (see README): put both MemAvailable
# and ksmtuned's "free" (MemFree+Buffers+Cached) at BENCH_BALLAST_FREE_PCT % of MemTotal, under
# ksmtuned's 20 % threshold, but never leave less than BENCH_MIN_AVAIL_MIB available after the fill.
# The views make ksmtuned's "committed" (RSS sum of QEMU-looking processes) exceed MemTotal - threshold.
compute_ballast() {
	local avail total work want cap freec need
	avail=$(( $(meminfo_kib MemAvailable) / 1024 ))
	freec=$(( ($(meminfo_kib MemFree) + $(meminfo_kib Buffers) + $(meminfo_kib Cached)) / 1024 ))
	total=$(( $(meminfo_kib MemTotal) / 1024 ))
	work=$(( BENCH_PROCS * BENCH_MIB ))
	cap=$(( avail - work - BENCH_MIN_AVAIL_MIB ))
	[ "$cap" -ge 0 ] || { log "workload of $work MiB does not fit: MemAvailable $avail MiB"; return 1; }
	if [ "$BENCH_BALLAST_MIB" = auto ]; then
		want=$(( avail - work - total * BENCH_BALLAST_FREE_PCT / 100 ))
		need=$(( freec - work - total * BENCH_BALLAST_FREE_PCT / 100 ))
		[ "$need" -le "$want" ] || want=$need
	else
		want=$BENCH_BALLAST_MIB
	fi
	[ "$want" -ge 0 ] || want=0
	[ "$want" -le "$cap" ] || want=$cap
	BALLAST_MIB=$want
	if [ "$BENCH_BALLAST_VIEWS" = auto ]; then
		# committed >= MemTotal - 20 % + 512 MiB margin
		need=$(( total - total * 20 / 100 + 512 - work ))
		BALLAST_VIEWS=1
		[ "$BALLAST_MIB" -gt 0 ] && [ "$need" -gt "$BALLAST_MIB" ] &&
			BALLAST_VIEWS=$(( (need + BALLAST_MIB - 1) / BALLAST_MIB ))
		[ "$BALLAST_VIEWS" -le 32 ] || BALLAST_VIEWS=32
	else
		BALLAST_VIEWS=$BENCH_BALLAST_VIEWS
	fi
	log "memory: MemTotal $total MiB, MemAvailable $avail MiB, MemFree+Buffers+Cached $freec MiB," \
		"workload $work MiB, ballast $BALLAST_MIB MiB x $BALLAST_VIEWS views (request $BENCH_BALLAST_MIB, cap $cap)" \
		"-> expected after fill: MemAvailable ~$(( avail - work - BALLAST_MIB )) MiB," \
		"ksmtuned free ~$(( freec - work - BALLAST_MIB )) MiB (threshold $(( total * 20 / 100 )))," \
		"ksmtuned committed ~$(( work + BALLAST_MIB * BALLAST_VIEWS )) MiB (needs >= $(( total - total * 20 / 100 )))"
}

avail_ok() {
	local a=$(( $(meminfo_kib MemAvailable) / 1024 ))
	if [ "$a" -lt "$BENCH_ABORT_AVAIL_MIB" ]; then
		log "MemAvailable $a MiB < $BENCH_ABORT_AVAIL_MIB MiB: aborting this run to protect the host"
		return 1
	fi
}

write_memoptd_conf() {
	local conf=$1 rate=$2 dir=$3
	mkdir -p "$dir/state"
	cat > "$conf" <<EOF
# written by bench/ksm-bench.sh for one benchmark run
[daemon]
state_dir = $dir/state
socket = $dir/memoptd.sock
ksmtuned_conf = none

[ksm]
rate_control = $rate
$BENCH_MEMOPTD_EXTRA
EOF
}

start_controller() {
	local ctl=$1 dir=$2 i pidf conf out
	case $ctl in
	ksmtuned)
		pidf=$dir/ksmtuned.pid
		# ksmtuned daemonizes ("loop &" + pid file); setsid gives it a process group of its own
		DEBUG=1 LOGFILE=$dir/ksmtuned.log PIDFILE=$pidf setsid "$KSMTUNED" \
			> "$dir/ksmtuned.out" 2>&1 < /dev/null &
		for ((i = 0; i < 50; i++)); do
			[ -s "$pidf" ] && break
			sleep 0.1
		done
		[ -s "$pidf" ] || { log "ksmtuned wrote no pid file"; return 1; }
		CTL_PGID=$(ps -o pgid= -p "$(cat "$pidf")" | tr -d ' ')
		if [ -z "$CTL_PGID" ] || [ "$CTL_PGID" = "$(ps -o pgid= -p $$ | tr -d ' ')" ]; then
			log "ksmtuned is not in a process group of its own"; CTL_PGID=""; return 1
		fi
		;;
	advisor)
		knob_write advisor_mode scan-time && knob_write run 1 ;;
	kernel-defaults)
		knob_write pages_to_scan 100 && knob_write sleep_millisecs 20 && knob_write run 1 ;;
	max)
		knob_write pages_to_scan 5000 && knob_write sleep_millisecs 0 && knob_write run 1 ;;
	fixed-*-*-*)
		# fixed-PAGES-SLEEP-SMART: a fixed setting, for rate sweeps (e.g. fixed-1500-10-0)
		local f_p f_s f_m
		IFS=- read -r _ f_p f_s f_m <<< "$ctl"
		knob_write pages_to_scan "$f_p" && knob_write sleep_millisecs "$f_s" &&
			{ [ ! -e "$KSM/smart_scan" ] || knob_write smart_scan "$f_m"; } && knob_write run 1 ;;
	memoptd | memoptd-advisor)
		conf=$dir/memoptd.conf
		"$B/memoptd" --foreground --config "$conf" > "$dir/memoptd.log" 2>&1 < /dev/null &
		CTL_PID=$!
		;;
	*)
		log "unknown controller '$ctl'"; return 1 ;;
	esac
}

# Returns 0 and sets SKIP_NOTE="" when the controller can run here; else SKIP_NOTE says why.
controller_available() {
	local ctl=$1 dir=$2 out
	SKIP_NOTE=""
	case $ctl in
	ksmtuned) [ -x "$KSMTUNED" ] || SKIP_NOTE="$KSMTUNED not installed" ;;
	advisor) [ -e "$KSM/advisor_mode" ] || SKIP_NOTE="kernel has no $KSM/advisor_mode" ;;
	memoptd | memoptd-advisor)
		if [ ! -x "$B/memoptd" ]; then
			SKIP_NOTE="$B/memoptd not built yet"
		else
			mkdir -p "$dir"
			write_memoptd_conf "$dir/memoptd.conf" "$([ "$ctl" = memoptd ] && echo self || echo advisor)" "$dir"
			if ! out=$("$B/memoptd" --check-config --config "$dir/memoptd.conf" 2>&1); then
				SKIP_NOTE="memoptd --check-config refused $dir/memoptd.conf: $(echo "$out" | head -3 | tr '\n' ' ')"
			fi
		fi
		;;
	esac
	[ -z "$SKIP_NOTE" ]
}

# run_one SCENARIO CONTROLLER: appends "status=... " to $dir/status and leaves samples.csv + ready.
run_one() {
	local sc=$1 ctl=$2 dir=$BENCH_OUT/$1-$2 churn=0 t0 fill before after k
	mkdir -p "$dir"
	rm -f "$dir/status"
	if ! controller_available "$ctl" "$dir"; then
		log "[$sc/$ctl] SKIPPED: $SKIP_NOTE"
		echo "status=skipped note=$SKIP_NOTE" > "$dir/status"
		return 0
	fi
	[ "$sc" = churn ] && churn=$BENCH_CHURN_PERIOD

	unmerge_and_reset
	knob_write run 0 || true # nothing merges while the workload fills, whatever the original run was
	compute_ballast || { echo "status=aborted note=not enough memory for the workload" > "$dir/status"; return 0; }

	log "[$sc/$ctl] starting workload: $BENCH_PROCS x $BENCH_MIB MiB, shared $BENCH_SHARED_PCT %," \
		"zero $BENCH_ZERO_PCT %, churn period ${churn}s, ballast $BALLAST_MIB MiB x $BALLAST_VIEWS"
	"$WORKLOAD" --procs "$BENCH_PROCS" --mib "$BENCH_MIB" --shared-pct "$BENCH_SHARED_PCT" \
		--zero-pct "$BENCH_ZERO_PCT" --churn-period "$churn" --churn-phase "$BENCH_CHURN_PHASE" \
		--ballast-mib "$BALLAST_MIB" --ballast-views "$BALLAST_VIEWS" --seed "$BENCH_SEED" --ready-file "$dir/ready" \
		--exec-name "$BENCH_EXEC_NAME" --kvm-flag --die-with-parent > "$dir/workload.log" 2>&1 < /dev/null &
	WL_PID=$!
	t0=$(date +%s%N)
	while [ ! -s "$dir/ready" ]; do
		if ! kill -0 "$WL_PID" 2>/dev/null; then
			log "[$sc/$ctl] workload died while filling: $(tail -3 "$dir/workload.log")"
			WL_PID=""; echo "status=aborted note=workload failed" > "$dir/status"; return 0
		fi
		if ! avail_ok || [ $(( ($(date +%s%N) - t0) / 1000000000 )) -gt 900 ]; then
			stop_all; echo "status=aborted note=low memory or fill timeout while filling" > "$dir/status"; return 0
		fi
		sleep 0.2
	done
	fill=$(( ($(date +%s%N) - t0) / 100000000 ))
	fill="$((fill / 10)).$((fill % 10))"
	cp "$dir/ready" "$dir/ready.txt"
	echo "ballast_mib=$BALLAST_MIB ballast_views=$BALLAST_VIEWS fill_s=$fill" > "$dir/conditions"
	log "[$sc/$ctl] workload filled in ${fill}s: $(cat "$dir/ready.txt")"
	log "[$sc/$ctl] $(head -2 "$dir/workload.log" | tr '\n' ' ')"
	sleep 2

	before=$(for k in "${KNOBS[@]}"; do printf '%s=%s ' "$k" "$(knob_read "$k")"; done)
	# The workers' PIDs give the sampler what KSM really saves (smaps_rollup), next to ksmd's counters.
	local workers
	workers=$(sed -n 's/^WORKERS \([0-9 ]*\).*/\1/p' "$dir/workload.log" | head -1 | xargs | tr ' ' ',')
	"$SAMPLER" --interval-ms "$BENCH_INTERVAL_MS" --seconds "$BENCH_SECONDS" --die-with-parent \
		${workers:+--pids "$workers" --pss-every "$BENCH_PSS_EVERY"} > "$dir/samples.csv" 2> "$dir/sampler.err" &
	SMP_PID=$!
	if ! start_controller "$ctl" "$dir"; then
		stop_all; state_save; echo "status=aborted note=controller failed to start" > "$dir/status"; return 0
	fi
	state_save
	log "[$sc/$ctl] controller started (pid ${CTL_PID:--} pgid ${CTL_PGID:--}), running ${BENCH_SECONDS}s"

	local status=ok note=""
	while kill -0 "$SMP_PID" 2>/dev/null; do
		if ! avail_ok; then status=aborted; note="MemAvailable fell below $BENCH_ABORT_AVAIL_MIB MiB"; break; fi
		if ! kill -0 "$WL_PID" 2>/dev/null; then status=aborted; note="workload died: $(tail -2 "$dir/workload.log" | tr '\n' ' ')"; break; fi
		if [ -n "$CTL_PID" ] && ! kill -0 "$CTL_PID" 2>/dev/null; then
			wait "$CTL_PID"; note="controller exited early with status $?"; CTL_PID=""
			status=aborted; break
		fi
		sleep 1
	done
	# an aborted run stops its sampler now instead of waiting out BENCH_SECONDS under low memory
	[ "$status" = ok ] || kill -TERM "$SMP_PID" 2>/dev/null
	wait "$SMP_PID" 2>/dev/null
	SMP_PID=""
	stop_controller
	state_save
	if [ "$ctl" = memoptd ] || [ "$ctl" = memoptd-advisor ]; then
		after=$(for k in "${KNOBS[@]}"; do printf '%s=%s ' "$k" "$(knob_read "$k")"; done)
		if [ "$after" != "$before" ]; then
			log "[$sc/$ctl] NOTE: memoptd did not restore the knobs on SIGTERM: before '$before' after '$after'"
			note="${note:+$note; }memoptd left knobs changed after SIGTERM"
		fi
	fi
	stop_pid "$WL_PID" 15; WL_PID=""
	unmerge_and_reset
	log "[$sc/$ctl] done: $status${note:+ ($note)}"
	echo "status=$status${note:+ note=$note}" > "$dir/status"
}

# ------------------------------------------------------------------ analysis

# Writes $BENCH_OUT/metrics.txt and summary.md from every run directory.
analyze_all() {
	local sc ctl dir st ref theo kind p best m note
	: > "$BENCH_OUT/metrics.txt"
	for sc in $BENCH_SCENARIOS; do
		theo="-"
		best=0
		for ctl in $BENCH_CONTROLLERS; do
			dir=$BENCH_OUT/$sc-$ctl
			grep -qs '^status=ok' "$dir/status" || continue
			[ -f "$dir/ready.txt" ] && theo=$(sed -n 's/.*expected_max_merged=\([0-9]*\).*/\1/p' "$dir/ready.txt")
			p=$(awk -v mode=plateau -f "$ANALYZE" "$dir/samples.csv") || continue
			[ "$p" -gt "$best" ] && best=$p
		done
		if [ "$sc" = churn ]; then
			ref=$best; kind="best plateau: highest median of the runs over their last 60 s"
		else
			ref=$theo; kind="theoretical maximum, expected_max_merged of the workload"
		fi
		for ctl in $BENCH_CONTROLLERS; do
			dir=$BENCH_OUT/$sc-$ctl
			[ -f "$dir/status" ] || continue
			st=$(sed -n 's/^status=\([a-z]*\).*/\1/p' "$dir/status")
			note=$(sed -n 's/.* note=//p' "$dir/status")
			m=""
			if [ "$st" = ok ]; then
				m=$(awk -v mode=metrics -v ref="$ref" -v page_kib=$(( $(getconf PAGESIZE) / 1024 )) \
					-f "$ANALYZE" "$dir/samples.csv") || { st=aborted; note="analysis failed"; }
			fi
			echo "scenario=$sc controller=$ctl status=$st ref=$ref theo=$theo ref_kind=${kind// /_}" \
				"$(cat "$dir/conditions" 2>/dev/null) $m${note:+ note=$note}" \
				>> "$BENCH_OUT/metrics.txt"
		done
	done
	{
		echo "# KSM benchmark $(date -Is)"
		echo
		echo "Host: $(uname -r), $(nproc) CPUs, MemTotal $(( $(meminfo_kib MemTotal) / 1024 )) MiB." \
			"Workload: $BENCH_PROCS x $BENCH_MIB MiB, $BENCH_SHARED_PCT % shared image, $BENCH_ZERO_PCT % zero pages," \
			"churn period ${BENCH_CHURN_PERIOD}s ($BENCH_CHURN_PHASE), ballast: $BENCH_BALLAST_MIB" \
			"(auto = MemAvailable after the fill at $BENCH_BALLAST_FREE_PCT % of MemTotal, capped to keep $BENCH_MIN_AVAIL_MIB MiB)," \
			"${BENCH_SECONDS}s per run, samples every ${BENCH_INTERVAL_MS} ms."
		echo "t = seconds since the controller started (the workload was filled before t = 0);" \
			"merged = pages_sharing + ksm_zero_pages; '-' = never reached / not defined."
		echo
		awk -v mode=report -v seconds="$BENCH_SECONDS" -f "$ANALYZE" "$BENCH_OUT/metrics.txt"
	} > "$BENCH_OUT/summary.md"
}

# ------------------------------------------------------------------ main

main() {
	local sc ctl
	preflight
	trap cleanup EXIT
	trap 'log "interrupted"; exit 130' INT TERM
	knobs_recover_crash
	check_other_controllers
	knobs_record
	state_save
	cp "$BENCH_STATE" "$BENCH_OUT/ksm-knobs.orig"
	log "KSM knobs at start: $(for k in "${KNOBS[@]}"; do printf '%s=%s ' "$k" "${ORIG[$k]}"; done)"
	log "results in $BENCH_OUT; scenarios '$BENCH_SCENARIOS'; controllers '$BENCH_CONTROLLERS'; ${BENCH_SECONDS}s each"
	for sc in $BENCH_SCENARIOS; do
		case $sc in static | churn) ;; *) die "unknown scenario '$sc' (static, churn)" ;; esac
		for ctl in $BENCH_CONTROLLERS; do
			run_one "$sc" "$ctl"
		done
	done
	analyze_all
	cat "$BENCH_OUT/summary.md"
	log "summary written to $BENCH_OUT/summary.md"
}

main "$@"
