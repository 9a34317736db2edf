#!/bin/bash
# test-pve-autoballoon.sh - checks the benchmark's Proxmox-rule re-implementation (bench/pve-autoballoon.sh --decide) against the expected results of Proxmox's own balloon test cases and against the benchmark's scenario.
#
#   bench/test-pve-autoballoon.sh        exit 0 all passed, 1 a case failed
#
# The expected values are those of proxmox/pve-manager's balloon test (test/balloontest.pl: abtest =
# one period's decision, absim = periods repeated until nothing moves, each applied, the guest's free
# memory moving with its balloon). Those cases count in decimal MB (1 MB = 1000 units here) with a
# 100 MB step; the deadband stays Proxmox's 10 MiB (10485.76 units, rounded up).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
PVE=$HERE/pve-autoballoon.sh
passed=0
failed=0

MB=1000
GB=1000000
export PVE_MAXCHANGE_KIB=$((100 * MB)) PVE_DEADBAND_KIB=10486

# A state is lines "NAME balloon max free min shares" in $STATE.
decide() { printf '%s\n' "$STATE" | "$PVE" --decide "$1" | sort; }

# expect DESC GOT WANT
expect() {
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1))
		printf '  PASS %s\n' "$1"
	else
		failed=$((failed + 1))
		printf '  FAIL %s: got [%s], want [%s]\n' "$1" "$(printf '%s' "$2" | tr '\n' ',')" "$(printf '%s' "$3" | tr '\n' ',')"
	fi
}

# abtest GOAL WANT: one period.
abtest() { expect "abtest goal=$1" "$(decide "$1")" "$2"; }

# absim GOAL WANT: periods until nothing moves; applies each decision to STATE (free memory follows the
# balloon, not below 0); WANT lists the final size of every VM that moved. Leaves STATE updated.
absim() {
	local goal=$1 out moved got orig=$STATE
	for _ in $(seq 1 100); do
		out=$(decide "$goal")
		[ -n "$out" ] || break
		moved=$(printf '%s\n' "$out" | awk -v st="$STATE" '
			BEGIN { n = split(st, l, "\n"); for (i = 1; i <= n; i++) { split(l[i], f, " "); B[f[1]] = f[2] } }
			{ s += $2 - B[$1] } END { print s + 0 }')
		STATE=$(printf '%s\n' "$STATE" | awk -v res="$out" '
			BEGIN { n = split(res, l, "\n"); for (i = 1; i <= n; i++) { split(l[i], f, " "); R[f[1]] = f[2] } }
			($1 in R) { d = R[$1] - $2; $2 = R[$1]; $4 += d; if ($4 < 0) $4 = 0 } { print }')
		goal=$((goal - moved))
	done
	got=$(printf '%s\n%s\n' "$orig" "$STATE" | awk 'NR == FNR {} { if ($1 in B && B[$1] != $2) print $1, $2; else B[$1] = $2 }' | sort)
	expect "absim goal=$1" "$got" "$2"
}

echo "== Proxmox's test_status1"
S1="100 $GB $((2 * GB)) 0 $GB 2000
101 $GB $((2 * GB)) 0 $GB 1000"
STATE=$S1
abtest 0 ""
abtest $((90 * MB)) "100 $((1060 * MB))
101 $((1030 * MB))"
abtest $((150 * MB)) "100 $((1100 * MB))
101 $((1050 * MB))"
abtest $((270 * MB)) "100 $((1100 * MB))
101 $((1090 * MB))"
STATE=$S1; absim $((180 * MB)) "100 $((1120 * MB))
101 $((1060 * MB))"
STATE=$S1; absim $((270 * MB)) "100 $((1180 * MB))
101 $((1090 * MB))"
STATE=$S1; absim $((600 * MB)) "100 $((1300 * MB))
101 $((1300 * MB))"
STATE=$S1; absim $((900 * MB)) "100 $((1600 * MB))
101 $((1300 * MB))"

echo "== Proxmox's test_status2"
STATE="100 $((2 * GB)) $((2 * GB)) 0 $((2 * GB)) 2000
101 $GB $((2 * GB)) 0 $GB 1000"
abtest 0 ""
abtest $((18 * MB)) "101 $((1018 * MB))"
abtest $((500 * MB)) "101 $((1100 * MB))"

echo "== Proxmox's test_status3"
S3="100 $((2 * GB)) $((2 * GB)) 0 $((2 * GB)) 2000
101 $((GB + 7 * MB)) $((2 * GB)) 0 $GB 1000
102 $GB $((2 * GB)) $((512 * MB)) $GB 1000"
STATE=$S3
abtest 0 ""
abtest $((11 * MB)) "101 $((1018 * MB))"
abtest $((80 * MB)) "101 $((1087 * MB))"
abtest $((200 * MB)) "101 $((1107 * MB))"
STATE=$S3
absim $((593 * MB)) "101 $((1300 * MB))
102 $((1300 * MB))"
S3b=$STATE
absim $((-200 * MB)) "101 $((1200 * MB))
102 $((1200 * MB))"
STATE=$S3b; absim $((-400 * MB)) "101 $((1200 * MB))
102 $GB"
STATE=$S3b; absim $((-593 * MB)) "101 $((1007 * MB))
102 $GB"

echo "== the benchmark's scenario (KiB, Proxmox's real 100 MiB step)"
unset PVE_MAXCHANGE_KIB PVE_DEADBAND_KIB
K=1024
STATE="a $((768 * K)) $((768 * K)) 600000 $((384 * K)) 1000
b $((768 * K)) $((768 * K)) 600000 $((320 * K)) 2000"
abtest $((-640 * K)) "a $((668 * K))
b $((668 * K))"
abtest $((-5 * K)) ""
absim $((-640 * K)) "a $((448 * K))
b $((448 * K))"
STATE="a $((448 * K)) $((768 * K)) 300000 $((384 * K)) 1000
b $((448 * K)) $((768 * K)) 20000 $((320 * K)) 2000"
abtest $((300 * K)) "b $((548 * K))"
STATE="a $((448 * K)) $((768 * K)) 300000 $((384 * K)) 1000
b $((448 * K)) $((768 * K)) - $((320 * K)) 2000"
abtest $((300 * K)) "b $((548 * K))"

printf '  pve-autoballoon: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
