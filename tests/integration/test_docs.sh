#!/bin/bash
# test_docs.sh - the man pages format without warnings and cannot go stale: every verb, option, daemon command and config key is in them; bash completion knows every verb.
# IT-TIMEOUT: 60
# shellcheck source=tests/integration/lib.sh disable=SC2016,SC2317
. "$(dirname "$0")/lib.sh"

require_built "$MEMOPTD" "$MEMOPTCTL"
require_cmd groff man jq

D=$IT_DIR
MAN=$IT_SRC/man
COMP=$IT_SRC/contrib/bash-completion/memoptctl

echo "-- formatting"
for page in "$MAN"/memoptd.8 "$MAN"/memoptctl.8 "$MAN"/memoptd.conf.5; do
	name=$(basename "$page")
	check_rc "$name: groff -man -ww exits 0" 0 groff -man -Tutf8 -ww -z "$page"
	check_eq "$name: groff prints no warning" "" "$(cat "$D/last.err")"
	MANWIDTH=80 man --warnings -E UTF-8 -l "$page" >"$D/$name.txt" 2>"$D/$name.err"
	check_eq "$name: man -l --warnings prints no warning" "" "$(cat "$D/$name.err")"
	check "$name: renders to text" test -s "$D/$name.txt"
	# Plain ASCII text to search in: hyphens and minus signs as '-', no bold/underline.
	groff -man -Tascii -P-cbou "$page" 2>/dev/null >"$D/$name.ascii"
done

# in_page PAGE WORD: WORD occurs in the rendered PAGE, not as part of a longer name.
in_page() { grep -Eq -- "(^|[^a-z0-9_-])$2([^a-z0-9_-]|\$)" "$D/$1.ascii"; }

echo "-- memoptctl(8): the verbs and options of memoptctl --help"
"$MEMOPTCTL" --help >"$D/ctl-help.txt"
sed -n '/^Verbs:/,/^$/s/^  \([a-z-]*\) .*/\1/p' "$D/ctl-help.txt" >"$D/verbs.txt"
check "memoptctl --help lists verbs" test "$(wc -l <"$D/verbs.txt")" -ge 10
missing=
for v in $(cat "$D/verbs.txt"); do in_page memoptctl.8 "$v" || missing+=" $v"; done
check_eq "every verb of memoptctl --help is in memoptctl.8" "" "$missing"
missing=
for o in $(grep -o -- '--[a-z][a-z-]*' "$D/ctl-help.txt" | sort -u); do
	in_page memoptctl.8 "$o" || missing+=" $o"
done
check_eq "every option of memoptctl --help is in memoptctl.8" "" "$missing"

echo "-- memoptd(8): the options of memoptd --help"
"$MEMOPTD" --help >"$D/d-help.txt"
missing=
for o in $(grep -o -- '--[a-z][a-z-]*' "$D/d-help.txt" | sort -u); do
	in_page memoptd.8 "$o" || missing+=" $o"
done
check_eq "every option of memoptd --help is in memoptd.8" "" "$missing"
for code in 0 1 2 3 4 5; do
	grep -q "^ *$code  *[A-Z]" "$D/memoptd.8.ascii" || missing+=" $code"
done
check_eq "memoptd.8 documents every exit code of memoptd --help" "" "$missing"

echo "-- memoptctl(8): the commands of a running memoptd's help"
H=$D/host
fixture_host "$H" 12000000
printf '[balloon]\nuri = test:///default\n' >"$D/memoptd.conf"
SOCK=$D/d.sock
daemon_start d -c "$D/memoptd.conf" --ksmtuned-conf none --sysfs-root "$H/sys" --procfs-root "$H/proc" \
	--socket "$SOCK" --state-dir "$D/state" --dry-run
if wait_socket "$SOCK" "$DAEMON_PID" 15; then
	ctl_json "$SOCK" help | jq -r '.commands[].name' >"$D/commands.txt"
	check "memoptctl help lists the daemon's commands" test "$(wc -l <"$D/commands.txt")" -ge 10
	# A protocol command is a verb ("ksm"), or verb-subcommand ("balloon-set", "host-plan"), which the
	# page shows on one line as "balloon set", "host [status | plan ...]"; "reserve" is admit --reserve.
	missing=
	for c in $(cat "$D/commands.txt"); do
		in_page memoptctl.8 "$c" && continue
		a=${c%%-*} b=${c#*-}
		[ "$a" != "$c" ] && grep -E "(^| )$a( |\$)" "$D/memoptctl.8.ascii" | grep -Eq "(^|[^a-z])$b([^a-z]|\$)" &&
			continue
		missing+=" $c"
	done
	check_eq "every command of memoptctl help is in memoptctl.8" "" "$missing"
	daemon_stop "$DAEMON_PID" TERM 20
	check_eq "the docs daemon stops with exit 0" 0 "$IT_RC"
else
	fail "memoptd did not answer on $SOCK"
fi

echo "-- memoptd.conf(5): the keys of docs/config.md, section by section"
# "section key" for every row of a "| key |" table under a "## [section]" heading.
awk '/^## \[/ { s = substr($0, 4); intab = 0; next }
	/^##/ { s = ""; intab = 0; next }
	/^\| key \|/ { intab = (s != ""); next }
	!/^\|/ { intab = 0 }
	intab && /^\| `/ { split($0, f, "`"); print s, f[2] }' "$IT_SRC/docs/config.md" | sort >"$D/doc-keys.txt"
awk '/^\.SS \[/ { s = substr($0, 5); next }
	/^\.SH/ { s = "" }
	s != "" && prev == ".TP" && /^\.B / { print s, $2 }
	{ prev = $0 }' "$MAN/memoptd.conf.5" | sort >"$D/man-keys.txt"
n=$(wc -l <"$D/doc-keys.txt")
check "docs/config.md has key tables ($n keys)" test "$n" -ge 60
if diff "$D/doc-keys.txt" "$D/man-keys.txt" >"$D/keys.diff"; then
	pass "memoptd.conf.5 has exactly the keys of docs/config.md, in the same sections"
else
	fail "memoptd.conf.5 and docs/config.md differ (< docs only, > man page only):"
	sed 's/^/       | /' "$D/keys.diff" | grep '^ *| [<>]' | head -n 20
fi
# The running daemon knows every documented key too: --print-config prints them all.
: >"$D/empty.conf"
"$MEMOPTD" --print-config -c "$D/empty.conf" --ksmtuned-conf none >"$D/print-config.txt" 2>&1 || true
missing=
while read -r s k; do
	case $s in "[vm"*) continue ;; esac
	grep -Eq "^ *$k *=" "$D/print-config.txt" || missing+=" $s$k"
done <"$D/doc-keys.txt"
check_eq "every documented key (but [vm PATTERN]) is printed by --print-config" "" "$missing"

echo "-- bash completion"
check "the completion file parses" bash -n "$COMP"
missing=
for v in $(cat "$D/verbs.txt"); do
	grep -q "^	local verbs=.*[\" ]$v[\" ]" "$COMP" || missing+=" $v"
done
check_eq "the completion knows every verb of memoptctl --help" "" "$missing"
# complete WORDS...: what the completion offers for the last word. bash-completion's own
# _init_completion when installed, else a stand-in that splits the same way for these words.
cat >"$D/complete.sh" <<'EOF'
if [ -f /usr/share/bash-completion/bash_completion ]; then
	. /usr/share/bash-completion/bash_completion
else
	_init_completion() {
		words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
		cur=${words[cword]} prev=${words[cword - 1]}
	}
	_filedir() { :; }
fi
. "$1"
shift
COMP_WORDS=("$@") COMP_CWORD=$(($# - 1))
# bash-completion's _init_completion reads the cursor from COMP_LINE/COMP_POINT, as bash sets them.
COMP_LINE="$*" COMP_POINT=${#COMP_LINE}
_memoptctl
printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
EOF
comp() { bash "$D/complete.sh" "$COMP" memoptctl "$@"; }
check_eq "memoptctl ho<TAB>" "host " "$(comp ho)"
check_eq "memoptctl host <TAB>" "apply plan restore status " "$(comp host "")"
check_eq "memoptctl --json host a<TAB>" "apply " "$(comp --json host a)"
check_eq "memoptctl host apply --d<TAB>" "--dry-run " "$(comp host apply --d)"
check_eq "memoptctl balloon <TAB>" "release set " "$(comp balloon "")"
check_eq "memoptctl log --l<TAB>" "--limit " "$(comp log --l)"
check_eq "memoptctl --socket /x f<TAB>" "failover-plan " "$(comp --socket /x f)"
offered=$(comp admit --)
missing=
for o in --mem --min --hugepages --one-node --target --reserve --ttl --json; do
	case " $offered " in *" $o "*) ;; *) missing+=" $o" ;; esac
done
check_eq "memoptctl admit --<TAB> offers admit's options" "" "$missing"

finish
